//! What the engine answers, as plain data: text, sections, choices and messages for others.
//!
//! Adapters decide how it looks: the console prints it, the Discord adapter turns it into an
//! ephemeral or channel message with embeds and buttons. Nothing here knows about either.

use crate::domain::{DigestId, LessonId, MeetingId, QuestionId, RoundId, UserId};
use crate::search::SearchQuery;

/// Who gets to see a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Only the person who acted (Discord: ephemeral).
    Private,
    /// Everyone in the collaboration's channel.
    Channel,
}

/// A titled block, such as one member's answer in a reveal or one lesson in a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub body: String,
}

/// Something the user can do next, offered as a button in Discord and a command in the console.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub label: String,
    pub action: Action,
}

/// The follow-up actions a reply can offer. Each carries what it needs after a restart.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Open the answer form for this round (pre-filled when the member already answered).
    Answer(RoundId),
    RevealRound(RoundId),
    CloseRound(RoundId),
    ShowLesson(LessonId),
    Approve(LessonId),
    /// Ask the moderator for a reason, then reject.
    Reject(LessonId),
    Feature(LessonId),
    /// Edit a lesson (its author, or a moderator in review).
    EditLesson(LessonId),
    /// Edit a lesson in review (moderators): the review queue's edit.
    ReviewEdit(LessonId),
    /// A page of the review queue, counted from 0.
    ReviewPage(usize),
    /// A page of the moderators' audit log, counted from 0.
    AuditPage(usize),
    SearchPage(Box<SearchQuery>),
    PublishDigest(DigestId),
    /// Place the collaboration on a perspective in a step-3 round.
    Vote(RoundId, crate::domain::Perspective),
    /// Place the collaboration on figure 2: (much yield, many lessons).
    Place(bool, bool),
    /// Say the lesson was applied (with a note).
    Applied(LessonId),
    ConfirmDelete,
    /// Take a lesson of another collaboration into this collaboration's next digest.
    TakeLesson(LessonId),
    /// Open the answer form of a question to the academy.
    AnswerQuestion(QuestionId),
    ShowQuestion(QuestionId),
    /// The asker marks an answer (by its number) as one that helped.
    Helpful(QuestionId, u32),
    /// An answerer agrees (or not) to their answer becoming part of a lesson.
    Consent(QuestionId, bool),
    /// Say you will come to a meeting (again: that you no longer will).
    JoinMeeting(MeetingId),
    ShowAgenda(MeetingId),
    /// A moderator asks the group for the lessons of a meeting.
    AskMeetingLessons(MeetingId),
    /// Open the form to share a lesson from a meeting.
    ShareFromMeeting(MeetingId),
}

/// A message for someone other than the actor, such as a rejected lesson's author.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub to: UserId,
    pub text: String,
}

/// A file to hand over, such as a data export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// What the engine answers. Not stored: a message waiting in the outbox is kept as its own
/// stored type (`engine::outbox`), so this can change with the adapters.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub visibility: Visibility,
    pub title: Option<String>,
    pub body: String,
    pub sections: Vec<Section>,
    pub choices: Vec<Choice>,
    pub notices: Vec<Notice>,
    /// Files to hand over: a data export, a figure.
    pub attachments: Vec<Attachment>,
    /// The body is chat Markdown (a digest, a reminder): `**`, `__` and backslash escapes are
    /// formatting, `<#id>` names a channel, and user text within it is escaped. Discord shows
    /// it as such; an adapter without Markdown renders it as plain text.
    pub chat_markdown: bool,
}

impl Reply {
    pub fn private(body: impl Into<String>) -> Reply {
        Reply {
            visibility: Visibility::Private,
            title: None,
            body: body.into(),
            sections: Vec::new(),
            choices: Vec::new(),
            notices: Vec::new(),
            attachments: Vec::new(),
            chat_markdown: false,
        }
    }

    pub fn channel(body: impl Into<String>) -> Reply {
        Reply {
            visibility: Visibility::Channel,
            ..Reply::private(body)
        }
    }

    /// Marks the body as chat Markdown.
    pub fn markdown(mut self) -> Reply {
        self.chat_markdown = true;
        self
    }

    pub fn titled(mut self, title: impl Into<String>) -> Reply {
        self.title = Some(title.into());
        self
    }

    pub fn section(mut self, heading: impl Into<String>, body: impl Into<String>) -> Reply {
        self.sections.push(Section {
            heading: heading.into(),
            body: body.into(),
        });
        self
    }

    pub fn choice(mut self, label: impl Into<String>, action: Action) -> Reply {
        self.choices.push(Choice {
            label: label.into(),
            action,
        });
        self
    }

    /// Everything the reply shows, as one string: what tests search for leaks.
    pub fn all_text(&self) -> String {
        let mut out = String::new();
        if let Some(t) = &self.title {
            out.push_str(t);
            out.push('\n');
        }
        out.push_str(&self.body);
        for s in &self.sections {
            out.push('\n');
            out.push_str(&s.heading);
            out.push('\n');
            out.push_str(&s.body);
        }
        for c in &self.choices {
            out.push('\n');
            out.push_str(&c.label);
        }
        for n in &self.notices {
            out.push('\n');
            out.push_str(&n.text);
        }
        // Text attachments (an export) count; pictures carry no text to search.
        for a in &self.attachments {
            if let Ok(text) = std::str::from_utf8(&a.bytes) {
                out.push('\n');
                out.push_str(text);
            }
        }
        out
    }
}
