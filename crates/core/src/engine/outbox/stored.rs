//! The outbox's stored form: what a waiting message must say, as data of its own, so that
//! [`Reply`] and [`Action`] can change with the adapters without changing what a database or a
//! backup holds.
//!
//! A message may wait for days (an outage, a refused delivery), so its record is a
//! compatibility promise. Every type here names its JSON explicitly and converts to and from
//! the reply by hand; a new [`Action`] does not compile until it has a stored counterpart.
//! Schema 5 stored the whole `Reply` under `reply`, attachments as arrays of numbers: that
//! form still reads, because the 5 → 6 step rewrites it and a backup of schema 5 restores
//! through it.

use super::{Failure, Outgoing, Recipient};
use crate::domain::{
    ChannelId, DigestId, LessonId, MeetingId, Order, Perspective, QuestionId, RoundId, Step, UserId,
};
use crate::reply::{Action, Attachment, Choice, Notice, Reply, Section, Visibility};
use crate::search::SearchQuery;
use crate::store::Tree;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One message in the outbox, as stored under its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::engine) struct OutboxRecord {
    pub(in crate::engine) id: u64,
    to: Recipient,
    /// Schema 5 named it `reply`.
    #[serde(alias = "reply")]
    message: StoredMessage,
    /// Permanent delivery failures so far.
    #[serde(default)]
    failures: u32,
    /// Parts of a long message already delivered.
    #[serde(default)]
    parts_sent: usize,
}

/// What a message says: the reply's content, without how an adapter shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredMessage {
    visibility: StoredVisibility,
    #[serde(default)]
    title: Option<String>,
    body: String,
    #[serde(default)]
    sections: Vec<StoredSection>,
    #[serde(default)]
    choices: Vec<StoredChoice>,
    #[serde(default)]
    notices: Vec<StoredNotice>,
    #[serde(default)]
    attachments: Vec<StoredAttachment>,
    #[serde(default)]
    chat_markdown: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
enum StoredVisibility {
    Private,
    Channel,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredSection {
    heading: String,
    body: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredChoice {
    label: String,
    action: StoredAction,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredNotice {
    to: UserId,
    text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredAttachment {
    filename: String,
    #[serde(with = "base64_or_numbers")]
    bytes: Vec<u8>,
}

/// What a choice does, by name and with the ids it needs. The names and payloads are those
/// schema 5 wrote for [`Action`]; they stay, whatever `Action` becomes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum StoredAction {
    Answer(RoundId),
    RevealRound(RoundId),
    CloseRound(RoundId),
    ShowLesson(LessonId),
    Approve(LessonId),
    Reject(LessonId),
    Feature(LessonId),
    EditLesson(LessonId),
    ReviewEdit(LessonId),
    ReviewPage(usize),
    AuditPage(usize),
    SearchPage(Box<StoredSearch>),
    PublishDigest(DigestId),
    Vote(RoundId, Perspective),
    Place(bool, bool),
    Applied(LessonId),
    ConfirmDelete,
    TakeLesson(LessonId),
    AnswerQuestion(QuestionId),
    ShowQuestion(QuestionId),
    Helpful(QuestionId, u32),
    Consent(QuestionId, bool),
    JoinMeeting(MeetingId),
    ShowAgenda(MeetingId),
    AskMeetingLessons(MeetingId),
    ShareFromMeeting(MeetingId),
}

/// A search behind a page button, field by field as schema 5 wrote [`SearchQuery`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredSearch {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    order: Option<Order>,
    #[serde(default)]
    step: Option<Step>,
    #[serde(default)]
    perspective: Option<Perspective>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    channel: Option<ChannelId>,
    #[serde(default)]
    from: Option<NaiveDate>,
    #[serde(default)]
    to: Option<NaiveDate>,
    #[serde(default)]
    page: usize,
}

impl From<&Action> for StoredAction {
    fn from(action: &Action) -> StoredAction {
        use StoredAction as S;
        match action {
            Action::Answer(r) => S::Answer(*r),
            Action::RevealRound(r) => S::RevealRound(*r),
            Action::CloseRound(r) => S::CloseRound(*r),
            Action::ShowLesson(l) => S::ShowLesson(*l),
            Action::Approve(l) => S::Approve(*l),
            Action::Reject(l) => S::Reject(*l),
            Action::Feature(l) => S::Feature(*l),
            Action::EditLesson(l) => S::EditLesson(*l),
            Action::ReviewEdit(l) => S::ReviewEdit(*l),
            Action::ReviewPage(p) => S::ReviewPage(*p),
            Action::AuditPage(p) => S::AuditPage(*p),
            Action::SearchPage(q) => S::SearchPage(Box::new(StoredSearch::from(q.as_ref()))),
            Action::PublishDigest(d) => S::PublishDigest(*d),
            Action::Vote(r, p) => S::Vote(*r, *p),
            Action::Place(a, b) => S::Place(*a, *b),
            Action::Applied(l) => S::Applied(*l),
            Action::ConfirmDelete => S::ConfirmDelete,
            Action::TakeLesson(l) => S::TakeLesson(*l),
            Action::AnswerQuestion(q) => S::AnswerQuestion(*q),
            Action::ShowQuestion(q) => S::ShowQuestion(*q),
            Action::Helpful(q, n) => S::Helpful(*q, *n),
            Action::Consent(q, yes) => S::Consent(*q, *yes),
            Action::JoinMeeting(m) => S::JoinMeeting(*m),
            Action::ShowAgenda(m) => S::ShowAgenda(*m),
            Action::AskMeetingLessons(m) => S::AskMeetingLessons(*m),
            Action::ShareFromMeeting(m) => S::ShareFromMeeting(*m),
        }
    }
}

impl From<StoredAction> for Action {
    fn from(action: StoredAction) -> Action {
        use StoredAction as S;
        match action {
            S::Answer(r) => Action::Answer(r),
            S::RevealRound(r) => Action::RevealRound(r),
            S::CloseRound(r) => Action::CloseRound(r),
            S::ShowLesson(l) => Action::ShowLesson(l),
            S::Approve(l) => Action::Approve(l),
            S::Reject(l) => Action::Reject(l),
            S::Feature(l) => Action::Feature(l),
            S::EditLesson(l) => Action::EditLesson(l),
            S::ReviewEdit(l) => Action::ReviewEdit(l),
            S::ReviewPage(p) => Action::ReviewPage(p),
            S::AuditPage(p) => Action::AuditPage(p),
            S::SearchPage(q) => Action::SearchPage(Box::new(SearchQuery::from(*q))),
            S::PublishDigest(d) => Action::PublishDigest(d),
            S::Vote(r, p) => Action::Vote(r, p),
            S::Place(a, b) => Action::Place(a, b),
            S::Applied(l) => Action::Applied(l),
            S::ConfirmDelete => Action::ConfirmDelete,
            S::TakeLesson(l) => Action::TakeLesson(l),
            S::AnswerQuestion(q) => Action::AnswerQuestion(q),
            S::ShowQuestion(q) => Action::ShowQuestion(q),
            S::Helpful(q, n) => Action::Helpful(q, n),
            S::Consent(q, yes) => Action::Consent(q, yes),
            S::JoinMeeting(m) => Action::JoinMeeting(m),
            S::ShowAgenda(m) => Action::ShowAgenda(m),
            S::AskMeetingLessons(m) => Action::AskMeetingLessons(m),
            S::ShareFromMeeting(m) => Action::ShareFromMeeting(m),
        }
    }
}

impl From<&SearchQuery> for StoredSearch {
    fn from(q: &SearchQuery) -> StoredSearch {
        StoredSearch {
            text: q.text.clone(),
            order: q.order,
            step: q.step,
            perspective: q.perspective,
            tag: q.tag.clone(),
            channel: q.channel,
            from: q.from,
            to: q.to,
            page: q.page,
        }
    }
}

impl From<StoredSearch> for SearchQuery {
    fn from(q: StoredSearch) -> SearchQuery {
        SearchQuery {
            text: q.text,
            order: q.order,
            step: q.step,
            perspective: q.perspective,
            tag: q.tag,
            channel: q.channel,
            from: q.from,
            to: q.to,
            page: q.page,
        }
    }
}

impl From<&Reply> for StoredMessage {
    fn from(r: &Reply) -> StoredMessage {
        StoredMessage {
            visibility: match r.visibility {
                Visibility::Private => StoredVisibility::Private,
                Visibility::Channel => StoredVisibility::Channel,
            },
            title: r.title.clone(),
            body: r.body.clone(),
            sections: r
                .sections
                .iter()
                .map(|s| StoredSection {
                    heading: s.heading.clone(),
                    body: s.body.clone(),
                })
                .collect(),
            choices: r
                .choices
                .iter()
                .map(|c| StoredChoice {
                    label: c.label.clone(),
                    action: StoredAction::from(&c.action),
                })
                .collect(),
            notices: r
                .notices
                .iter()
                .map(|n| StoredNotice {
                    to: n.to,
                    text: n.text.clone(),
                })
                .collect(),
            attachments: r
                .attachments
                .iter()
                .map(|a| StoredAttachment {
                    filename: a.filename.clone(),
                    bytes: a.bytes.clone(),
                })
                .collect(),
            chat_markdown: r.chat_markdown,
        }
    }
}

impl From<StoredMessage> for Reply {
    fn from(m: StoredMessage) -> Reply {
        Reply {
            visibility: match m.visibility {
                StoredVisibility::Private => Visibility::Private,
                StoredVisibility::Channel => Visibility::Channel,
            },
            title: m.title,
            body: m.body,
            sections: m
                .sections
                .into_iter()
                .map(|s| Section {
                    heading: s.heading,
                    body: s.body,
                })
                .collect(),
            choices: m
                .choices
                .into_iter()
                .map(|c| Choice {
                    label: c.label,
                    action: Action::from(c.action),
                })
                .collect(),
            notices: m
                .notices
                .into_iter()
                .map(|n| Notice {
                    to: n.to,
                    text: n.text,
                })
                .collect(),
            attachments: m
                .attachments
                .into_iter()
                .map(|a| Attachment {
                    filename: a.filename,
                    bytes: a.bytes,
                })
                .collect(),
            chat_markdown: m.chat_markdown,
        }
    }
}

impl From<&Outgoing> for OutboxRecord {
    fn from(out: &Outgoing) -> OutboxRecord {
        OutboxRecord {
            id: out.id,
            to: out.to,
            message: StoredMessage::from(&out.reply),
            failures: out.failures,
            parts_sent: out.parts_sent,
        }
    }
}

impl From<OutboxRecord> for Outgoing {
    fn from(r: OutboxRecord) -> Outgoing {
        Outgoing {
            id: r.id,
            to: r.to,
            reply: Reply::from(r.message),
            failures: r.failures,
            parts_sent: r.parts_sent,
        }
    }
}

/// A message as the outbox stores it.
pub(in crate::engine) fn encode(out: &Outgoing) -> Result<Vec<u8>, Failure> {
    crate::engine::encode(&OutboxRecord::from(out))
}

/// A stored message, in either schema's form.
pub(in crate::engine) fn decode(key: &[u8], bytes: &[u8]) -> Result<Outgoing, Failure> {
    crate::engine::decode::<OutboxRecord>(Tree::Outbox, key, bytes).map(Outgoing::from)
}

/// Bytes as base64 text, a third of the size of JSON's array of numbers; the array, which
/// schema 5 wrote, still reads.
mod base64_or_numbers {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl<'de> Visitor<'de> for Bytes {
            type Value = Vec<u8>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("base64 text or an array of bytes")
            }

            fn visit_str<E: Error>(self, v: &str) -> Result<Vec<u8>, E> {
                B64.decode(v).map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_any(Bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_action() -> Vec<Action> {
        let q = SearchQuery {
            text: Some("samenwerking".into()),
            order: Some(Order::ALL[0]),
            step: Some(Step::ALL[1]),
            perspective: Some(Perspective::Networking),
            tag: Some("wijk".into()),
            channel: Some(ChannelId(7)),
            from: NaiveDate::from_ymd_opt(2025, 1, 2),
            to: NaiveDate::from_ymd_opt(2025, 3, 4),
            page: 2,
        };
        vec![
            Action::Answer(RoundId(1)),
            Action::RevealRound(RoundId(2)),
            Action::CloseRound(RoundId(3)),
            Action::ShowLesson(LessonId(4)),
            Action::Approve(LessonId(5)),
            Action::Reject(LessonId(6)),
            Action::Feature(LessonId(7)),
            Action::EditLesson(LessonId(8)),
            Action::ReviewEdit(LessonId(9)),
            Action::ReviewPage(10),
            Action::AuditPage(11),
            Action::SearchPage(Box::new(q)),
            Action::PublishDigest(DigestId(12)),
            Action::Vote(RoundId(13), Perspective::Lawful),
            Action::Place(true, false),
            Action::Applied(LessonId(14)),
            Action::ConfirmDelete,
            Action::TakeLesson(LessonId(15)),
            Action::AnswerQuestion(QuestionId(16)),
            Action::ShowQuestion(QuestionId(17)),
            Action::Helpful(QuestionId(18), 2),
            Action::Consent(QuestionId(19), true),
            Action::JoinMeeting(MeetingId(20)),
            Action::ShowAgenda(MeetingId(21)),
            Action::AskMeetingLessons(MeetingId(22)),
            Action::ShareFromMeeting(MeetingId(23)),
        ]
    }

    /// Each action as a schema-5 build wrote it (`serde_json` of the `Action` it derived serde
    /// for), so a message it queued reads, and one queued now says the same.
    #[test]
    fn actions_are_stored_as_schema_5_wrote_them() {
        let schema_5 = [
            r#"{"Answer":1}"#,
            r#"{"RevealRound":2}"#,
            r#"{"CloseRound":3}"#,
            r#"{"ShowLesson":4}"#,
            r#"{"Approve":5}"#,
            r#"{"Reject":6}"#,
            r#"{"Feature":7}"#,
            r#"{"EditLesson":8}"#,
            r#"{"ReviewEdit":9}"#,
            r#"{"ReviewPage":10}"#,
            r#"{"AuditPage":11}"#,
            r#"{"SearchPage":{"text":"samenwerking","order":"first","step":"others","perspective":"networking","tag":"wijk","channel":7,"from":"2025-01-02","to":"2025-03-04","page":2}}"#,
            r#"{"PublishDigest":12}"#,
            r#"{"Vote":[13,"lawful"]}"#,
            r#"{"Place":[true,false]}"#,
            r#"{"Applied":14}"#,
            r#""ConfirmDelete""#,
            r#"{"TakeLesson":15}"#,
            r#"{"AnswerQuestion":16}"#,
            r#"{"ShowQuestion":17}"#,
            r#"{"Helpful":[18,2]}"#,
            r#"{"Consent":[19,true]}"#,
            r#"{"JoinMeeting":20}"#,
            r#"{"ShowAgenda":21}"#,
            r#"{"AskMeetingLessons":22}"#,
            r#"{"ShareFromMeeting":23}"#,
        ];
        let actions = every_action();
        assert_eq!(actions.len(), schema_5.len());
        for (action, old) in actions.iter().zip(schema_5) {
            assert_eq!(
                serde_json::to_string(&StoredAction::from(action)).unwrap(),
                old
            );
            let read: StoredAction = serde_json::from_str(old).unwrap();
            assert_eq!(&Action::from(read), action, "{old}");
        }
    }

    #[test]
    fn a_reply_comes_back_whole_and_its_attachment_is_base64() {
        let mut reply = Reply::channel("**tekst**")
            .markdown()
            .titled("Titel")
            .section("Kop", "Inhoud")
            .choice("Antwoord", Action::Answer(RoundId(3)));
        reply.notices.push(Notice {
            to: UserId(9),
            text: "bericht".into(),
        });
        reply.attachments.push(Attachment {
            filename: "figuur.png".into(),
            bytes: vec![0x89, b'P', b'N', b'G', 0, 255],
        });
        let out = Outgoing {
            id: 5,
            to: Recipient::User(UserId(9)),
            reply,
            failures: 1,
            parts_sent: 2,
        };
        let bytes = encode(&out).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains(r#""bytes":"iVBORwD/""#), "{text}");
        assert!(text.contains(r#""message":"#), "{text}");
        assert_eq!(decode(&5u64.to_be_bytes(), &bytes).unwrap(), out);
    }
}
