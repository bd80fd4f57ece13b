//! The records of learning across collaborations: what a collaboration shares with the rest of
//! the academy, questions asked to the whole academy and their answers, and learning meetings
//! with their sign-ups.
//!
//! Like every stored record these are a compatibility promise: fields are added only with a
//! `#[serde(default)]`.

use super::ids::{ChannelId, DigestId, LessonId, MeetingId, QuestionId, ServerId, UserId};
use super::vocab::{Attribution, Lang, Layer, Order, Step};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// What a collaboration shares with the rest of the academy. The academy is one academy, so
/// lessons, the collaboration's name and questions travel by default; revealed answers were
/// written for the group, so they travel only when its moderators say so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharing {
    /// Approved lessons can be found, suggested and read in other collaborations.
    #[serde(default = "yes")]
    pub lessons: bool,
    /// Other collaborations see the task (*opgave*) a lesson comes from; otherwise "another
    /// collaboration".
    #[serde(default = "yes")]
    pub name: bool,
    /// Other collaborations may read the revealed answers of step-5 rounds, without names.
    #[serde(default)]
    pub step5: bool,
    /// Questions to the academy are posted in this channel.
    #[serde(default = "yes")]
    pub questions: bool,
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing {
            lessons: true,
            name: true,
            step5: false,
            questions: true,
        }
    }
}

/// A server's moderators' word on exchange with other servers: only when both servers allow it
/// do lessons, questions and step-5 answers travel between them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerExchange {
    pub server: ServerId,
    pub open: bool,
    pub set_by: Option<UserId>,
    pub set_at: DateTime<Utc>,
}

/// A question a member asks the whole academy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    /// The collaboration it was asked from.
    pub channel: ChannelId,
    /// `None` once the asker deleted their data; the text is then gone too.
    pub asker: Option<UserId>,
    pub asker_name: Option<String>,
    pub asker_layer: Option<Layer>,
    pub attribution: Attribution,
    pub lang: Lang,
    pub text: String,
    pub asked_at: DateTime<Utc>,
    /// The channels it was posted in besides its own.
    #[serde(default)]
    pub posted_to: Vec<ChannelId>,
    /// Digests that listed it as still unanswered, so it is listed once per collaboration.
    #[serde(default)]
    pub listed_in: Vec<DigestId>,
    /// When a moderator turned it into a lesson draft.
    #[serde(default)]
    pub harvest: Option<Harvest>,
}

/// One person's answer to a question; one per person, numbered in the order they came.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionAnswer {
    pub question: QuestionId,
    pub number: u32,
    pub user: UserId,
    pub name: String,
    pub layer: Option<Layer>,
    pub attribution: Attribution,
    /// The collaboration they answered from, if any.
    pub channel: Option<ChannelId>,
    pub text: String,
    pub at: DateTime<Utc>,
    /// The asker marked it as an answer that helped.
    #[serde(default)]
    pub helpful: bool,
}

/// Whether an answerer agreed to their answer becoming part of a lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    Asked,
    Given,
    Refused,
}

/// A moderator's plan to make a lesson of a question and its answers: the lesson is drafted
/// once every answerer asked has said yes or no, with the answers of those who said yes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Harvest {
    pub title: String,
    pub order: Order,
    pub steps: Vec<Step>,
    pub by: Option<UserId>,
    pub at: DateTime<Utc>,
    /// The answers asked for, with each answerer's consent.
    pub parts: Vec<HarvestPart>,
    /// The lesson drafted from it, once drafted.
    pub lesson: Option<LessonId>,
}

/// One answer a moderator wants in a lesson, and whether its author agreed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarvestPart {
    pub number: u32,
    pub user: UserId,
    pub consent: Consent,
}

/// Where a learning meeting takes place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingPlace {
    /// A voice channel of the server.
    Voice(ChannelId),
    /// A physical address.
    Address(String),
}

/// A learning meeting of a collaboration: virtual, but also physical.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: MeetingId,
    pub channel: ChannelId,
    pub title: String,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub place: MeetingPlace,
    pub planned_by: Option<UserId>,
    pub planned_at: DateTime<Utc>,
    /// What the academy proposed to talk about when the meeting was planned.
    pub agenda: Agenda,
    /// The server's scheduled event, once Discord made it.
    #[serde(default)]
    pub event: Option<u64>,
    /// When the moderator asked the group for the meeting's lessons.
    #[serde(default)]
    pub lessons_asked: Option<DateTime<Utc>>,
}

/// What a meeting is about, proposed from the collaboration's recent lessons, its open
/// questions and the disagreements of its last reveal. It keeps ids, not texts: lessons and
/// questions are shown as they are when the agenda is read, so a lesson made anonymous, taken
/// back or deleted since is never shown as it was.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Agenda {
    pub lessons: Vec<LessonId>,
    pub questions: Vec<QuestionId>,
    pub reveal: Option<AgendaReveal>,
}

/// Where the last reveal left the group apart: its round and step, the agreement the meter
/// found (percent) and the themes only one person raised, without who raised them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgendaReveal {
    pub round: super::ids::RoundId,
    pub step: Step,
    pub agreement: Option<u32>,
    pub apart: Vec<String>,
}

/// Someone who said they will come to a meeting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignUp {
    pub meeting: MeetingId,
    pub user: UserId,
    pub name: String,
    pub at: DateTime<Utc>,
}

/// A lesson from another collaboration a moderator took into their own next digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TakenLesson {
    pub channel: ChannelId,
    pub lesson: LessonId,
    pub by: Option<UserId>,
    pub at: DateTime<Utc>,
}
