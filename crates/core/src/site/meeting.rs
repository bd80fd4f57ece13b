//! A learning meeting's page in the site: its time, place and the agenda the academy proposed,
//! as HTML and Markdown, for those who read the academy outside Discord.

use super::view::Frame;
use super::{SiteFiles, Templates};
use crate::domain::Lang;
use crate::text::{keys as k, Catalog};
use anyhow::Result;
use serde::Serialize;

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

/// What the meeting templates see.
#[derive(Clone, Debug, Serialize)]
struct MeetingData<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    meeting: MeetingHead<'a>,
    lessons: &'a [AgendaItem],
    questions: Vec<QuestionView<'a>>,
    reveal: &'a Option<AgendaReveal>,
}

#[derive(Clone, Debug, Serialize)]
struct MeetingHead<'a> {
    id: &'a str,
    title: &'a str,
    task: &'a Option<String>,
    when: &'a str,
    place: &'a str,
}

/// A question on the agenda, under the name the templates give its words.
#[derive(Clone, Debug, Serialize)]
struct QuestionView<'a> {
    id: &'a str,
    text: &'a str,
}

/// Every meeting's page: `meetings/B1.html` and `meetings/B1.md`.
pub fn meeting_pages(
    catalog: &Catalog,
    templates: &Templates,
    meetings: &[MeetingPage],
) -> Result<SiteFiles> {
    let mut files = SiteFiles::new();
    for m in meetings {
        let mut frame = Frame::new(catalog, m.lang, "../");
        for (name, key) in [
            ("meeting_when", k::MEETING_SITE_WHEN),
            ("meeting_where", k::MEETING_SITE_WHERE),
            ("meeting_agenda", k::MEETING_SITE_AGENDA),
            ("meeting_lessons", k::MEETING_SITE_LESSONS),
            ("meeting_questions", k::MEETING_SITE_QUESTIONS),
            ("meeting_apart", k::MEETING_SITE_APART),
            ("meeting_none", k::MEETING_SITE_NONE),
        ] {
            frame.label(name, catalog.plain(m.lang, key));
        }
        let data = MeetingData {
            frame,
            meeting: MeetingHead {
                id: &m.id,
                title: &m.title,
                task: &m.task,
                when: &m.when,
                place: &m.place,
            },
            lessons: &m.lessons,
            questions: m
                .questions
                .iter()
                .map(|q| QuestionView {
                    id: &q.id,
                    text: &q.title,
                })
                .collect(),
            reveal: &m.reveal,
        };
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
