//! The records the store keeps, one kind per tree.
//!
//! These types are a compatibility promise: they are serialized as JSON into the database, so a
//! field may be added only with a `#[serde(default)]`, and a rename needs a schema migration.

use super::exchange::Sharing;
use super::ids::{ChannelId, DigestId, LessonId, RoundId, ServerId, UserId};
use super::vocab::{Attribution, Lang, Layer, Order, Perspective, Reminders, Role, Step};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A channel set up as a collaboration around one societal task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collaboration {
    pub channel: ChannelId,
    /// The societal task (*maatschappelijke opgave*) the collaboration works on.
    pub task: String,
    pub region: String,
    /// The government layers taking part.
    pub layers: Vec<Layer>,
    /// The language of what the bot posts in the channel for everyone.
    pub lang: Lang,
    pub configured_by: Option<UserId>,
    pub configured_at: DateTime<Utc>,
    /// How often the collaboration returns to its questions: at most one rhythm per step.
    /// Older records hold one rhythm, or none, under `cadence`.
    #[serde(default, alias = "cadence", deserialize_with = "one_or_many")]
    pub cadences: Vec<Cadence>,
    /// The IANA name of the collaboration's time zone; none: the academy's (Europe/Amsterdam
    /// unless configured otherwise). Every time shown or typed in the channel is in this zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The server the channel is on; a record from before servers were kept learns it the
    /// first time someone acts in the channel.
    #[serde(default)]
    pub server: Option<ServerId>,
    /// What the collaboration shares with the rest of the academy.
    #[serde(default)]
    pub sharing: Sharing,
}

/// Reads a list of rhythms, or the single one (or `null`) older records hold.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Cadence>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Cadence>),
        One(Option<Cadence>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::Many(list) => list,
        OneOrMany::One(one) => one.into_iter().collect(),
    })
}

/// "Never finished": the collaboration revisits a step every so many weeks, on a work day.
/// A collaboration may have one for each step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadence {
    pub step: Step,
    pub every_weeks: u32,
    pub paused: bool,
    /// When the next round starts; the scheduled job carries the same time, so a job left over
    /// from an earlier setting is recognised and ignored.
    pub next: Option<DateTime<Utc>>,
    /// The planned day before moving off a weekend or holiday: the rhythm counts from here,
    /// so one holiday does not shift every later round.
    #[serde(default)]
    pub base: Option<DateTime<Utc>>,
}

/// Someone taking part in a collaboration's rounds: who is reminded when a round nears its
/// deadline. Recorded when they answer, or when they choose how to be reminded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub channel: ChannelId,
    pub user: UserId,
    pub name: String,
    pub reminders: Reminders,
}

/// A member's word that they applied a lesson in their own work, with a short note.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub lesson: LessonId,
    pub user: UserId,
    pub name: String,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// Where a member places the collaboration among the four governance perspectives (its
/// leading principle), in a step-3 round; hidden until the reveal, like answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vote {
    pub round: RoundId,
    pub user: UserId,
    pub name: String,
    pub perspective: Perspective,
    pub at: DateTime<Utc>,
}

/// Where a member places the collaboration on figure 2 (doing and learning), kept over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    pub channel: ChannelId,
    pub user: UserId,
    pub name: String,
    pub much_yield: bool,
    pub many_lessons: bool,
    pub at: DateTime<Utc>,
}

/// What the academy remembers of a person between actions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: UserId,
    pub name: String,
    pub layer: Option<Layer>,
    /// The role and language given to this person in the console (`/als NAAM rol:…`), where
    /// no server says who moderates: kept so a restart does not demote anyone. Discord never
    /// reads them; it asks the server every time.
    #[serde(default)]
    pub console_role: Option<Role>,
    #[serde(default)]
    pub console_lang: Option<Lang>,
}

impl Member {
    /// Someone the academy knows nothing about yet.
    pub fn new(id: UserId) -> Member {
        Member {
            id,
            name: String::new(),
            layer: None,
            console_role: None,
            console_lang: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Collecting answers; nobody sees another's answer.
    Open,
    /// Answers shown side by side; no new answers.
    Revealed,
    /// Finished; kept for history.
    Closed,
}

/// One asking of a step's question in a collaboration: a blind round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round {
    pub id: RoundId,
    pub channel: ChannelId,
    pub step: Step,
    pub status: RoundStatus,
    pub started_by: Option<UserId>,
    pub started_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub revealed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The idling meter's figure as the reveal showed it, so that the next round's change
    /// report and the health view repeat it rather than recompute it (from answers that may
    /// since have been deleted, in a channel whose language may since have changed). Rounds
    /// revealed before it was kept have none.
    #[serde(default)]
    pub meter: Option<MeterFigure>,
}

/// What the idling meter said of a round at its reveal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterFigure {
    /// The score in 0..=1; `None` when there was too little to judge.
    pub score: Option<f64>,
    /// The reach in 0..=1 (0 when there was too little to judge).
    pub reach: f64,
    /// The verdict's key (`converging`, `mixed`, `scattered`); `None` with no score.
    pub verdict: Option<String>,
}

/// A member's answer in a round; one per member per round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub round: RoundId,
    pub user: UserId,
    /// The display name when answering, so a reveal needs no lookup.
    pub name: String,
    pub text: String,
    pub submitted_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LessonStatus {
    Pending,
    Approved,
    Rejected,
}

/// The words of a lesson in one language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonText {
    pub title: String,
    /// What happened: the situation.
    pub happened: String,
    /// The lesson itself: what to do (differently).
    pub lesson: String,
}

/// A lesson shared by a member, or imported from the starter library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    pub id: LessonId,
    /// The stable key of a library lesson; what makes importing twice a no-op.
    pub key: Option<String>,
    /// The collaboration it was shared in, if any.
    pub channel: Option<ChannelId>,
    /// Kept even for anonymous lessons, so the author can edit, export and delete it; never shown.
    pub author: Option<UserId>,
    pub author_name: Option<String>,
    pub author_layer: Option<Layer>,
    pub attribution: Attribution,
    pub lang: Lang,
    pub text: LessonText,
    /// The same lesson in the other language, where one exists (the starter library has both).
    #[serde(default)]
    pub translation: Option<LessonText>,
    pub order: Order,
    pub steps: Vec<Step>,
    pub perspective: Option<Perspective>,
    pub tags: Vec<String>,
    pub source: Option<String>,
    pub status: LessonStatus,
    pub rejection_reason: Option<String>,
    pub featured: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<UserId>,
    /// Digests this lesson was published in, oldest first.
    #[serde(default)]
    pub published_in: Vec<DigestId>,
}

impl Lesson {
    /// The text to show a reader of `lang`: the translation when it matches, else the original.
    pub fn text_for(&self, lang: Lang) -> &LessonText {
        match &self.translation {
            Some(t) if lang != self.lang => t,
            _ => &self.text,
        }
    }

    /// Whether members may find and read it.
    pub fn is_public(&self) -> bool {
        self.status == LessonStatus::Approved
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestStatus {
    Draft,
    Published,
}

/// What a moderator asked for when composing a digest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DigestFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub order: Option<Order>,
    pub step: Option<Step>,
    /// Include lessons already published in an earlier digest.
    pub republish: bool,
    /// Include lessons of the starter library; without it a digest holds what members shared.
    #[serde(default)]
    pub library: bool,
}

/// A curated selection of approved lessons, first a draft, then published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub id: DigestId,
    pub title: String,
    pub lang: Lang,
    pub channel: Option<ChannelId>,
    pub filter: DigestFilter,
    pub lessons: Vec<LessonId>,
    pub status: DigestStatus,
    pub composed_by: Option<UserId>,
    pub composed_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// A published digest is a record: a lesson changed after it was published is kept here
    /// as this digest published it (without the ids of who wrote or reviewed it).
    #[serde(default)]
    pub as_published: Vec<Lesson>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collaboration_of_an_older_version_keeps_its_one_rhythm() {
        let old = r#"{"channel":7,"task":"Wonen","region":"Utrecht","layers":["municipality"],
            "lang":"nl","configured_by":null,"configured_at":"2026-03-02T09:00:00Z",
            "cadence":{"step":"issue","every_weeks":6,"paused":false,"next":null}}"#;
        let c: Collaboration = serde_json::from_str(old).unwrap();
        assert_eq!(c.cadences.len(), 1);
        assert_eq!(c.cadences[0].every_weeks, 6);
        let none = old.replace(
            r#"{"step":"issue","every_weeks":6,"paused":false,"next":null}"#,
            "null",
        );
        let c: Collaboration = serde_json::from_str(&none).unwrap();
        assert!(c.cadences.is_empty());
        // Written again, it keeps the list.
        let again: Collaboration =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(again, c);
    }
}
