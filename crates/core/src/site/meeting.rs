//! A learning meeting's page in the site: its time, place and the agenda the academy proposed,
//! as HTML and Markdown, for those who read the academy outside Discord.

use super::view::labels;
use super::{SiteFiles, Templates};
use crate::domain::Lang;
use crate::text::{keys as k, Catalog};
use anyhow::Result;
use serde::Serialize;
use serde_json::json;

/// A meeting as its page shows it. The engine fills it from the records at the moment the site
/// is built, so a lesson made anonymous or deleted since the meeting was planned is shown as it
/// is now, or not at all.
#[derive(Clone, Debug, Serialize)]
pub struct MeetingPage {
    pub lang: Lang,
    pub id: String,
    pub title: String,
    /// The collaboration's task, unless it keeps its name private.
    pub task: Option<String>,
    pub when: String,
    pub place: String,
    pub lessons: Vec<AgendaItem>,
    pub questions: Vec<AgendaItem>,
    pub reveal: Option<AgendaReveal>,
}

/// A lesson or a question on an agenda.
#[derive(Clone, Debug, Serialize)]
pub struct AgendaItem {
    pub id: String,
    pub title: String,
    /// Who the lesson is by, as its author chose; `None` for an anonymous lesson or a question.
    pub by: Option<String>,
}

/// Where the last reveal left the group apart.
#[derive(Clone, Debug, Serialize)]
pub struct AgendaReveal {
    pub summary: String,
    pub apart: Vec<String>,
}

/// Every meeting's page: `meetings/B1.html` and `meetings/B1.md`.
pub fn meeting_pages(
    catalog: &Catalog,
    templates: &Templates,
    meetings: &[MeetingPage],
) -> Result<SiteFiles> {
    let mut files = SiteFiles::new();
    for m in meetings {
        let mut labels = labels(catalog, m.lang);
        for (name, key) in [
            ("meeting_when", k::MEETING_SITE_WHEN),
            ("meeting_where", k::MEETING_SITE_WHERE),
            ("meeting_agenda", k::MEETING_SITE_AGENDA),
            ("meeting_lessons", k::MEETING_SITE_LESSONS),
            ("meeting_questions", k::MEETING_SITE_QUESTIONS),
            ("meeting_apart", k::MEETING_SITE_APART),
            ("meeting_none", k::MEETING_SITE_NONE),
        ] {
            labels.insert(name.to_owned(), catalog.plain(m.lang, key).into());
        }
        let questions: Vec<serde_json::Value> = m
            .questions
            .iter()
            .map(|q| json!({"id": q.id, "text": q.title}))
            .collect();
        let data = json!({
            "lang": m.lang.key(),
            "academy": catalog.academy(m.lang).academy.name,
            "labels": labels,
            "root": "../",
            "meeting": {"id": m.id, "title": m.title, "task": m.task, "when": m.when, "place": m.place},
            "lessons": m.lessons,
            "questions": questions,
            "reveal": m.reveal,
        });
        files.insert(
            format!("meetings/{}.html", m.id),
            templates.render("meeting.html", &data)?.into_bytes(),
        );
        files.insert(
            format!("meetings/{}.md", m.id),
            templates.render("meeting.md", &data)?.into_bytes(),
        );
    }
    Ok(files)
}
