//! How a [`Reply`] becomes Discord messages: embeds packed within every limit Discord enforces,
//! buttons in rows, long output split across messages that say "1/3".
//!
//! Pure data in, pure data out, so the splitting is tested without Discord; the adapter turns
//! these into serenity builders, always with mentions disabled.

use super::limits;
use super::split::{split, units};
use crate::reply::{Action, Attachment, Reply, Visibility};

/// Room kept in every message for the "2/3" footer.
const FOOTER_ROOM: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Embed {
    pub title: Option<String>,
    pub description: String,
    pub footer: Option<String>,
}

impl Embed {
    /// The characters Discord counts towards a message's 6,000.
    pub fn units(&self) -> usize {
        self.title.as_deref().map(units).unwrap_or(0)
            + units(&self.description)
            + self.footer.as_deref().map(units).unwrap_or(0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Primary,
    Secondary,
    Danger,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub custom_id: String,
    pub style: Style,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub embeds: Vec<Embed>,
    /// Rows of at most five buttons.
    pub rows: Vec<Vec<Button>>,
    pub attachments: Vec<Attachment>,
    pub ephemeral: bool,
}

/// Renders a reply. `custom_id` encodes each choice's action (it may store long searches).
pub fn render(reply: &Reply, custom_id: &mut dyn FnMut(&Action) -> String) -> Vec<Message> {
    let ephemeral = reply.visibility == Visibility::Private;
    let title = reply
        .title
        .as_deref()
        .map(|t| clip(t, limits::EMBED_TITLE))
        .filter(|t| !t.is_empty());

    // Blocks of text in reading order, none longer than an embed description.
    let mut blocks: Vec<String> = split(&reply.body, limits::EMBED_DESCRIPTION);
    for s in &reply.sections {
        let heading = clip(s.heading.trim(), 200);
        let text = if heading.is_empty() {
            s.body.clone()
        } else {
            format!("**{heading}**\n{}", s.body)
        };
        blocks.extend(split(&text, limits::EMBED_DESCRIPTION));
    }

    // Pack blocks into embed descriptions.
    let mut descriptions: Vec<String> = Vec::new();
    for block in blocks {
        match descriptions.last_mut() {
            Some(d) if units(d) + 2 + units(&block) <= limits::EMBED_DESCRIPTION => {
                d.push_str("\n\n");
                d.push_str(&block);
            }
            _ => descriptions.push(block),
        }
    }
    if descriptions.is_empty() && title.is_none() {
        descriptions.push("…".to_owned());
    }

    // Pack embeds into messages, within the per-message total and count.
    let budget = limits::EMBEDS_TOTAL - FOOTER_ROOM;
    let mut messages: Vec<Vec<Embed>> = vec![Vec::new()];
    let mut title = title;
    if descriptions.is_empty() {
        messages[0].push(Embed {
            title: title.take(),
            description: String::new(),
            footer: None,
        });
    }
    for description in descriptions {
        let embed = Embed {
            title: title.take(),
            description,
            footer: None,
        };
        let current = messages.last_mut().map(|m| m.as_slice()).unwrap_or(&[]);
        let used: usize = current.iter().map(Embed::units).sum();
        if !current.is_empty()
            && (used + embed.units() > budget || current.len() >= limits::EMBEDS_PER_MESSAGE)
        {
            messages.push(Vec::new());
        }
        if let Some(m) = messages.last_mut() {
            m.push(embed);
        }
    }

    let total = messages.len();
    if total > 1 {
        for (i, m) in messages.iter_mut().enumerate() {
            if let Some(last) = m.last_mut() {
                last.footer = Some(format!("{}/{}", i + 1, total));
            }
        }
    }

    let mut buttons: Vec<Button> = reply
        .choices
        .iter()
        .take(limits::BUTTONS_PER_ROW * limits::ROWS)
        .map(|c| Button {
            label: clip(c.label.trim(), limits::BUTTON_LABEL),
            custom_id: custom_id(&c.action),
            style: style(&c.action),
        })
        .filter(|b| !b.label.is_empty())
        .collect();
    // Discord refuses two components with the same id in one message.
    let mut seen = std::collections::HashSet::new();
    buttons.retain(|b| seen.insert(b.custom_id.clone()));
    let rows: Vec<Vec<Button>> = buttons
        .chunks(limits::BUTTONS_PER_ROW)
        .map(<[Button]>::to_vec)
        .collect();

    let mut out: Vec<Message> = messages
        .into_iter()
        .map(|embeds| Message {
            embeds,
            rows: Vec::new(),
            attachments: Vec::new(),
            ephemeral,
        })
        .collect();
    if let Some(first) = out.first_mut() {
        first.attachments = reply.attachments.clone();
    }
    if let Some(last) = out.last_mut() {
        last.rows = rows;
    }
    out
}

fn style(action: &Action) -> Style {
    match action {
        Action::Answer(_)
        | Action::Approve(_)
        | Action::PublishDigest(_)
        | Action::AnswerQuestion(_)
        | Action::JoinMeeting(_)
        | Action::AskMeetingLessons(_)
        | Action::ShareFromMeeting(_) => Style::Primary,
        Action::Reject(_) | Action::ConfirmDelete => Style::Danger,
        _ => Style::Secondary,
    }
}

/// Shortens text to `max` units, ending in "…" when cut.
pub fn clip(text: &str, max: usize) -> String {
    if units(text) <= max {
        return text.to_owned();
    }
    let mut pieces = split(text, max.saturating_sub(1).max(1));
    let mut first = if pieces.is_empty() {
        String::new()
    } else {
        pieces.swap_remove(0)
    };
    first.push('…');
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LessonId;

    fn ids(a: &Action) -> String {
        super::super::custom_id::encode_action(a)
    }

    fn check_limits(messages: &[Message]) {
        for m in messages {
            assert!(m.embeds.len() <= limits::EMBEDS_PER_MESSAGE);
            let total: usize = m.embeds.iter().map(Embed::units).sum();
            assert!(total <= limits::EMBEDS_TOTAL, "total {total}");
            for e in &m.embeds {
                assert!(units(&e.description) <= limits::EMBED_DESCRIPTION);
                assert!(e.title.as_deref().map(units).unwrap_or(0) <= limits::EMBED_TITLE);
            }
            assert!(m.rows.len() <= limits::ROWS);
        }
    }

    #[test]
    fn a_short_reply_is_one_message_with_its_buttons() {
        let reply = Reply::private("Hallo")
            .titled("Titel")
            .choice("Goedkeuren", Action::Approve(LessonId(1)));
        let out = render(&reply, &mut ids);
        assert_eq!(out.len(), 1);
        assert!(out[0].ephemeral);
        assert_eq!(out[0].embeds[0].title.as_deref(), Some("Titel"));
        assert_eq!(out[0].embeds[0].footer, None);
        assert_eq!(out[0].rows[0][0].style, Style::Primary);
    }

    #[test]
    fn long_output_is_split_in_order_with_nothing_lost() {
        let mut reply = Reply::channel("Inleiding").titled("Digest");
        for i in 0..40 {
            reply = reply.section(format!("Les {i}"), format!("{i} ").repeat(300));
        }
        reply = reply.choice("Verder", Action::ShowLesson(LessonId(1)));
        let out = render(&reply, &mut ids);
        assert!(out.len() > 1);
        check_limits(&out);
        let all: String = out
            .iter()
            .flat_map(|m| m.embeds.iter().map(|e| e.description.clone()))
            .collect::<Vec<_>>()
            .join("\n\n");
        for i in 0..40 {
            assert!(all.contains(&format!("**Les {i}**")), "section {i} lost");
        }
        assert_eq!(
            out.last().and_then(|m| m.embeds.last()?.footer.clone()),
            Some(format!("{}/{}", out.len(), out.len()))
        );
        assert!(out[..out.len() - 1].iter().all(|m| m.rows.is_empty()));
        assert_eq!(out.last().map(|m| m.rows.len()), Some(1));
    }

    #[test]
    fn a_single_huge_section_still_fits() {
        let reply = Reply::private("x").section("één", "a".repeat(20_000));
        let out = render(&reply, &mut ids);
        check_limits(&out);
        let chars: usize = out
            .iter()
            .flat_map(|m| &m.embeds)
            .map(|e| e.description.matches('a').count())
            .sum();
        assert_eq!(chars, 20_000);
    }

    #[test]
    fn too_many_choices_and_long_labels_are_capped() {
        let mut reply = Reply::private("x");
        for i in 1..=40 {
            reply = reply.choice("L".repeat(200), Action::ShowLesson(LessonId(i)));
        }
        let out = render(&reply, &mut ids);
        let rows = &out[0].rows;
        assert_eq!(rows.len(), 5);
        assert!(rows.iter().all(|r| r.len() <= 5));
        assert!(rows
            .iter()
            .flatten()
            .all(|b| units(&b.label) <= limits::BUTTON_LABEL));
    }
}
