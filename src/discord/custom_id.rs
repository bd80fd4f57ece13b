//! The one encoding of everything a button or form carries between the bot and Discord.
//!
//! A `custom_id` outlives the process that made it: a member may click a button a week and two
//! restarts later. So every id is versioned (`1:`), carries the typed values it needs (round,
//! lesson, filters) rather than a pointer into memory, and decodes to a typed value or to a
//! reason it cannot be used. A search too long for Discord's 100 characters is kept in the store
//! under a hash of its text, and the button carries the hash.

use crate::domain::{
    Attribution, ChannelId, DigestId, LessonId, MeetingId, Order, Perspective, QuestionId, RoundId,
    Step,
};
use crate::reply::Action;
use crate::search::SearchQuery;
use chrono::NaiveDate;

/// Discord's limit on a custom_id, in characters.
pub const MAX_LEN: usize = super::limits::CUSTOM_ID;

const VERSION: &str = "1";

/// A modal the bot opened and what it already knows when the form comes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// The answer form of a round (pre-filled when editing).
    Answer(RoundId),
    /// Sharing a lesson, with the choices made in the slash command.
    Share {
        order: Order,
        steps: Vec<Step>,
        perspective: Option<Perspective>,
        attribution: Attribution,
    },
    /// Editing a lesson's text: by its author, or by a moderator in review.
    Edit {
        id: LessonId,
        review: bool,
        order: Option<Order>,
        steps: Option<Vec<Step>>,
        perspective: Option<Perspective>,
        attribution: Option<Attribution>,
        /// The lesson's version when the form opened, to catch an edit made in between.
        version: u64,
    },
    /// The reason for rejecting a lesson.
    Reject(LessonId),
    /// The note with which a member says they applied a lesson.
    Applied(LessonId),
    /// A question to the academy, with how the asker chose to be shown.
    Ask(Attribution),
    /// An answer to a question; without an attribution the form asks for it.
    QuestionAnswer {
        id: QuestionId,
        attribution: Option<Attribution>,
    },
    /// A lesson from a meeting: the lesson's texts, its tags and how the author is shown.
    MeetingShare(MeetingId),
}

/// What a custom_id stands for.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Action(Action),
    Form(Form),
    /// A search page kept in the store under this hash.
    StoredSearch(String),
}

/// Why a custom_id cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Made by an older (or newer) version of the bot.
    Outdated,
    /// Not made by this bot, or damaged.
    Unknown,
}

/// Encodes an action. The result may be longer than [`MAX_LEN`] only for a search page; the
/// caller then stores the query and uses [`stored_search`].
pub fn encode_action(action: &Action) -> String {
    let body = match action {
        Action::Answer(r) => format!("ans:{}", r.0),
        Action::RevealRound(r) => format!("rev:{}", r.0),
        Action::CloseRound(r) => format!("cls:{}", r.0),
        Action::ShowLesson(l) => format!("les:{}", l.0),
        Action::Approve(l) => format!("apr:{}", l.0),
        Action::Reject(l) => format!("rej:{}", l.0),
        Action::Feature(l) => format!("fea:{}", l.0),
        Action::EditLesson(l) => format!("edt:{}", l.0),
        Action::ReviewEdit(l) => format!("redt:{}", l.0),
        // Pages travel as shown (from 1), so the number is canonical.
        Action::ReviewPage(p) => format!("rvq:{}", p.saturating_add(1)),
        Action::AuditPage(p) => format!("aud:{}", p.saturating_add(1)),
        Action::PublishDigest(d) => format!("pub:{}", d.0),
        Action::Applied(l) => format!("apl:{}", l.0),
        Action::Vote(r, p) => format!("vot:{}:{}", r.0, p.byte()),
        Action::Place(y, l) => format!("plc:{}", crate::engine::doing_cell(*y, *l)),
        Action::ConfirmDelete => "del".to_owned(),
        Action::TakeLesson(l) => format!("tak:{}", l.0),
        Action::AnswerQuestion(q) => format!("qan:{}", q.0),
        Action::ShowQuestion(q) => format!("qsh:{}", q.0),
        Action::Helpful(q, n) => format!("qhp:{}:{n}", q.0),
        Action::Consent(q, yes) => format!("qok:{}:{}", q.0, u8::from(*yes)),
        Action::JoinMeeting(m) => format!("mjn:{}", m.0),
        Action::ShowAgenda(m) => format!("mag:{}", m.0),
        Action::AskMeetingLessons(m) => format!("mls:{}", m.0),
        Action::ShareFromMeeting(m) => format!("msh:{}", m.0),
        Action::SearchPage(q) => format!("srch:{}", encode_query(q)),
    };
    format!("{VERSION}:{body}")
}

/// The custom_id of a search page stored under `hash`.
pub fn stored_search(hash: &str) -> String {
    format!("{VERSION}:q:{hash}")
}

/// The stable text of a search query, as kept in the store for long searches.
pub fn encode_query(q: &SearchQuery) -> String {
    let byte = |b: Option<u8>| b.map(|b| b.to_string()).unwrap_or_default();
    let date = |d: Option<NaiveDate>| {
        d.map(|d| d.format("%Y%m%d").to_string())
            .unwrap_or_default()
    };
    [
        q.page.to_string(),
        byte(q.order.map(Order::byte)),
        byte(q.step.map(Step::number)),
        byte(q.perspective.map(Perspective::byte)),
        q.channel.map(|c| base36(c.0)).unwrap_or_default(),
        date(q.from),
        date(q.to),
        escape(q.tag.as_deref().unwrap_or("")),
        escape(q.text.as_deref().unwrap_or("")),
    ]
    .join(":")
}

/// Reads back what [`encode_query`] wrote.
pub fn decode_query(text: &str) -> Option<SearchQuery> {
    let parts: Vec<&str> = text.split(':').collect();
    let [page, order, step, perspective, channel, from, to, tag, query] = parts[..] else {
        return None;
    };
    fn opt<T>(s: &str, f: impl Fn(&str) -> Option<T>) -> Option<Option<T>> {
        if s.is_empty() {
            Some(None)
        } else {
            f(s).map(Some)
        }
    }
    let date = |s: &str| opt(s, |s| NaiveDate::parse_from_str(s, "%Y%m%d").ok());
    let text_opt = |s: &str| -> Option<Option<String>> {
        let t = unescape(s)?;
        Some((!t.is_empty()).then_some(t))
    };
    Some(SearchQuery {
        page: page.parse().ok().filter(|p| *p < 10_000)?,
        order: opt(order, |s| Order::ALL.get(s.parse::<usize>().ok()?).copied())?,
        step: opt(step, |s| Step::from_number(s.parse().ok()?))?,
        perspective: opt(perspective, |s| {
            Perspective::ALL.get(s.parse::<usize>().ok()?).copied()
        })?,
        channel: opt(channel, |s| u64::from_str_radix(s, 36).ok().map(ChannelId))?,
        from: date(from)?,
        to: date(to)?,
        tag: text_opt(tag)?,
        text: text_opt(query)?,
    })
}

/// Encodes a form. Forms carry only small typed values, so they always fit.
pub fn encode_form(form: &Form) -> String {
    let body = match form {
        Form::Answer(r) => format!("f:ans:{}", r.0),
        Form::Share {
            order,
            steps,
            perspective,
            attribution,
        } => format!(
            "f:shr:{}:{}:{}:{}",
            order.byte(),
            steps_text(steps),
            perspective
                .map(|p| p.byte().to_string())
                .unwrap_or_default(),
            attribution.byte()
        ),
        Form::Edit {
            id,
            review,
            order,
            steps,
            perspective,
            attribution,
            version,
        } => format!(
            "f:edt:{}:{}:{}:{}:{}:{}:{}",
            id.0,
            u8::from(*review),
            order.map(|o| o.byte().to_string()).unwrap_or_default(),
            steps
                .as_ref()
                .map(|s| format!("s{}", steps_text(s)))
                .unwrap_or_default(),
            perspective
                .map(|p| p.byte().to_string())
                .unwrap_or_default(),
            attribution
                .map(|a| a.byte().to_string())
                .unwrap_or_default(),
            base36(*version),
        ),
        Form::Reject(l) => format!("f:rej:{}", l.0),
        Form::Applied(l) => format!("f:apl:{}", l.0),
        Form::Ask(a) => format!("f:ask:{}", a.byte()),
        Form::QuestionAnswer { id, attribution } => format!(
            "f:qan:{}:{}",
            id.0,
            attribution
                .map(|a| a.byte().to_string())
                .unwrap_or_default()
        ),
        Form::MeetingShare(m) => format!("f:msh:{}", m.0),
    };
    format!("{VERSION}:{body}")
}

/// Decodes any custom_id the bot may receive back.
pub fn decode(id: &str) -> Result<Target, DecodeError> {
    if id.chars().count() > MAX_LEN {
        return Err(DecodeError::Unknown);
    }
    let (version, body) = id.split_once(':').ok_or(DecodeError::Unknown)?;
    if version != VERSION {
        return if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) {
            Err(DecodeError::Outdated)
        } else {
            Err(DecodeError::Unknown)
        };
    }
    decode_body(body).ok_or(DecodeError::Unknown)
}

fn decode_body(body: &str) -> Option<Target> {
    let (tag, rest) = body.split_once(':').unwrap_or((body, ""));
    let num = |s: &str| -> Option<u64> {
        // Canonical numbers only, so one target has exactly one id.
        (!s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let action = |a: Action| Some(Target::Action(a));
    let page = |s: &str| -> Option<usize> {
        usize::try_from(num(s)?)
            .ok()
            .filter(|p| *p <= 10_000)
            .map(|p| p - 1)
    };
    match tag {
        "ans" => action(Action::Answer(RoundId(num(rest)?))),
        "rev" => action(Action::RevealRound(RoundId(num(rest)?))),
        "cls" => action(Action::CloseRound(RoundId(num(rest)?))),
        "les" => action(Action::ShowLesson(LessonId(num(rest)?))),
        "apr" => action(Action::Approve(LessonId(num(rest)?))),
        "rej" => action(Action::Reject(LessonId(num(rest)?))),
        "fea" => action(Action::Feature(LessonId(num(rest)?))),
        "edt" => action(Action::EditLesson(LessonId(num(rest)?))),
        "redt" => action(Action::ReviewEdit(LessonId(num(rest)?))),
        "rvq" => action(Action::ReviewPage(page(rest)?)),
        "aud" => action(Action::AuditPage(page(rest)?)),
        "pub" => action(Action::PublishDigest(DigestId(num(rest)?))),
        "apl" => action(Action::Applied(LessonId(num(rest)?))),
        "plc" => match rest {
            "0" => action(Action::Place(false, false)),
            "1" => action(Action::Place(false, true)),
            "2" => action(Action::Place(true, false)),
            "3" => action(Action::Place(true, true)),
            _ => None,
        },
        "vot" => {
            let (round, p) = rest.split_once(':')?;
            let p = *Perspective::ALL.get(usize::from(p.parse::<u8>().ok()?))?;
            action(Action::Vote(RoundId(num(round)?), p))
        }
        "del" if rest.is_empty() && !body.contains(':') => action(Action::ConfirmDelete),
        "tak" => action(Action::TakeLesson(LessonId(num(rest)?))),
        "qan" => action(Action::AnswerQuestion(QuestionId(num(rest)?))),
        "qsh" => action(Action::ShowQuestion(QuestionId(num(rest)?))),
        "qhp" => {
            let (q, n) = rest.split_once(':')?;
            let n = u32::try_from(num(n)?).ok()?;
            action(Action::Helpful(QuestionId(num(q)?), n))
        }
        "qok" => {
            let (q, yes) = rest.split_once(':')?;
            let yes = match yes {
                "0" => false,
                "1" => true,
                _ => return None,
            };
            action(Action::Consent(QuestionId(num(q)?), yes))
        }
        "mjn" => action(Action::JoinMeeting(MeetingId(num(rest)?))),
        "mag" => action(Action::ShowAgenda(MeetingId(num(rest)?))),
        "mls" => action(Action::AskMeetingLessons(MeetingId(num(rest)?))),
        "msh" => action(Action::ShareFromMeeting(MeetingId(num(rest)?))),
        "srch" => action(Action::SearchPage(Box::new(decode_query(rest)?))),
        "q" if rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(Target::StoredSearch(rest.to_owned()))
        }
        "f" => decode_form(rest).map(Target::Form),
        _ => None,
    }
}

fn decode_form(rest: &str) -> Option<Form> {
    let parts: Vec<&str> = rest.split(':').collect();
    let index = |s: &str| s.parse::<usize>().ok();
    let opt = |s: &str| -> Option<Option<usize>> {
        if s.is_empty() {
            Some(None)
        } else {
            index(s).map(Some)
        }
    };
    let id = |s: &str| s.parse::<u64>().ok().filter(|n| *n > 0);
    match parts[..] {
        ["ans", r] => Some(Form::Answer(RoundId(id(r)?))),
        ["rej", l] => Some(Form::Reject(LessonId(id(l)?))),
        ["apl", l] => Some(Form::Applied(LessonId(id(l)?))),
        ["ask", a] => Some(Form::Ask(*Attribution::ALL.get(index(a)?)?)),
        ["qan", q, a] => Some(Form::QuestionAnswer {
            id: QuestionId(id(q)?),
            attribution: match opt(a)? {
                Some(i) => Some(*Attribution::ALL.get(i)?),
                None => None,
            },
        }),
        ["msh", m] => Some(Form::MeetingShare(MeetingId(id(m)?))),
        ["shr", o, s, p, a] => Some(Form::Share {
            order: *Order::ALL.get(index(o)?)?,
            steps: parse_steps(s)?,
            perspective: match opt(p)? {
                Some(i) => Some(*Perspective::ALL.get(i)?),
                None => None,
            },
            attribution: *Attribution::ALL.get(index(a)?)?,
        }),
        ["edt", l, review, o, s, p, a, v] => Some(Form::Edit {
            id: LessonId(id(l)?),
            review: match review {
                "0" => false,
                "1" => true,
                _ => return None,
            },
            order: match opt(o)? {
                Some(i) => Some(*Order::ALL.get(i)?),
                None => None,
            },
            steps: match s {
                "" => None,
                s => Some(parse_steps(s.strip_prefix('s')?)?),
            },
            perspective: match opt(p)? {
                Some(i) => Some(*Perspective::ALL.get(i)?),
                None => None,
            },
            attribution: match opt(a)? {
                Some(i) => Some(*Attribution::ALL.get(i)?),
                None => None,
            },
            version: u64::from_str_radix(v, 36).ok()?,
        }),
        _ => None,
    }
}

/// Steps as a set: sorted, each once, so the text never exceeds five digits.
fn steps_text(steps: &[Step]) -> String {
    let set: std::collections::BTreeSet<u8> = steps.iter().map(|s| s.number()).collect();
    set.iter().map(u8::to_string).collect()
}

fn parse_steps(s: &str) -> Option<Vec<Step>> {
    if s.len() > Step::ALL.len() {
        return None;
    }
    s.chars()
        .map(|c| Step::from_number(c.to_digit(10)? as u8))
        .collect()
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn escape(s: &str) -> String {
    s.replace('%', "%25").replace(':', "%3A")
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3)?;
        out.push(match code {
            "25" => '%',
            "3A" => ':',
            _ => return None,
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Some(out)
}

/// The key under which a long search is stored: a stable 64-bit FNV-1a hash of its text.
pub fn search_hash(encoded_query: &str) -> String {
    format!("{:016x}", crate::domain::fnv1a(encoded_query.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip_action(a: Action) {
        let id = encode_action(&a);
        assert!(id.chars().count() <= MAX_LEN, "{id}");
        assert_eq!(decode(&id), Ok(Target::Action(a)), "{id}");
    }

    #[test]
    fn every_action_roundtrips() {
        roundtrip_action(Action::Answer(RoundId(3)));
        roundtrip_action(Action::RevealRound(RoundId(u64::MAX)));
        roundtrip_action(Action::CloseRound(RoundId(1)));
        roundtrip_action(Action::ShowLesson(LessonId(12)));
        roundtrip_action(Action::Approve(LessonId(12)));
        roundtrip_action(Action::Reject(LessonId(12)));
        roundtrip_action(Action::Feature(LessonId(12)));
        roundtrip_action(Action::EditLesson(LessonId(12)));
        roundtrip_action(Action::ReviewEdit(LessonId(12)));
        roundtrip_action(Action::ReviewPage(0));
        roundtrip_action(Action::ReviewPage(3));
        roundtrip_action(Action::AuditPage(1));
        roundtrip_action(Action::PublishDigest(DigestId(2)));
        roundtrip_action(Action::ConfirmDelete);
        roundtrip_action(Action::Applied(LessonId(5)));
        roundtrip_action(Action::Place(true, false));
        roundtrip_action(Action::Vote(RoundId(5), Perspective::Participating));
        roundtrip_action(Action::SearchPage(Box::new(SearchQuery {
            text: Some("samenwerking: 100% 'waar'".into()),
            order: Some(Order::Third),
            step: Some(Step::Relate),
            perspective: Some(Perspective::Participating),
            tag: Some("water".into()),
            channel: Some(ChannelId(900_000_000_000_000_020)),
            from: NaiveDate::from_ymd_opt(2026, 1, 1),
            to: NaiveDate::from_ymd_opt(2026, 12, 31),
            page: 3,
        })));
        roundtrip_action(Action::SearchPage(Box::default()));
        roundtrip_action(Action::TakeLesson(LessonId(8)));
        roundtrip_action(Action::AnswerQuestion(QuestionId(3)));
        roundtrip_action(Action::ShowQuestion(QuestionId(u64::MAX)));
        roundtrip_action(Action::Helpful(QuestionId(3), u32::MAX));
        roundtrip_action(Action::Consent(QuestionId(3), true));
        roundtrip_action(Action::Consent(QuestionId(3), false));
        roundtrip_action(Action::JoinMeeting(MeetingId(2)));
        roundtrip_action(Action::ShowAgenda(MeetingId(2)));
        roundtrip_action(Action::AskMeetingLessons(MeetingId(2)));
        roundtrip_action(Action::ShareFromMeeting(MeetingId(2)));
    }

    #[test]
    fn every_form_roundtrips() {
        for form in [
            Form::Answer(RoundId(7)),
            Form::Ask(Attribution::Layer),
            Form::QuestionAnswer {
                id: QuestionId(4),
                attribution: None,
            },
            Form::QuestionAnswer {
                id: QuestionId(u64::MAX),
                attribution: Some(Attribution::Anonymous),
            },
            Form::MeetingShare(MeetingId(6)),
            Form::Reject(LessonId(9)),
            Form::Applied(LessonId(9)),
            Form::Share {
                order: Order::Second,
                steps: vec![Step::Issue, Step::Kind],
                perspective: Some(Perspective::Networking),
                attribution: Attribution::Anonymous,
            },
            Form::Share {
                order: Order::First,
                steps: vec![],
                perspective: None,
                attribution: Attribution::Named,
            },
            Form::Edit {
                id: LessonId(4),
                review: true,
                order: None,
                steps: Some(vec![]),
                perspective: None,
                attribution: Some(Attribution::Layer),
                version: 1_764_000_000_123,
            },
            Form::Edit {
                id: LessonId(4),
                review: false,
                order: Some(Order::Third),
                steps: None,
                perspective: Some(Perspective::Lawful),
                attribution: None,
                version: 0,
            },
        ] {
            let id = encode_form(&form);
            assert!(id.len() <= MAX_LEN);
            assert_eq!(decode(&id), Ok(Target::Form(form)), "{id}");
        }
    }

    #[test]
    fn repeated_steps_still_make_a_form_that_decodes() {
        let form = Form::Share {
            order: Order::First,
            steps: vec![
                Step::Relate,
                Step::Issue,
                Step::Issue,
                Step::Others,
                Step::Kind,
            ],
            perspective: None,
            attribution: Attribution::Named,
        };
        let Ok(Target::Form(Form::Share { steps, .. })) = decode(&encode_form(&form)) else {
            panic!("does not decode");
        };
        assert_eq!(
            steps,
            vec![Step::Issue, Step::Others, Step::Kind, Step::Relate]
        );
    }

    #[test]
    fn forged_and_outdated_ids_are_told_apart() {
        assert_eq!(decode("0:ans:3"), Err(DecodeError::Outdated));
        assert_eq!(decode("2:ans:3"), Err(DecodeError::Outdated));
        for forged in [
            "",
            "1",
            "1:",
            "x:ans:3",
            "1:ans:",
            "1:ans:0",
            "1:ans:03",
            "1:ans:3:4",
            "1:ans:-3",
            "1:ans:99999999999999999999",
            "1:del:1",
            "1:nope:1",
            "1:f:shr:9:1:0:0",
            "1:f:shr:0:16:0:0",
            "1:qok:3:2",
            "1:qhp:3:0",
            "1:qhp:3",
            "1:f:qan:0:",
            "1:f:ask:3",
            "1:f:edt:1:2::::",
            "1:f:edt:1:0:::::",
            "1:f:edt:1:0:::::!",
            "1:srch:1:::::::%ZZ:",
            "1:q:xyz",
            &"1:ans:1".repeat(30),
        ] {
            assert_eq!(decode(forged), Err(DecodeError::Unknown), "{forged:?}");
        }
    }

    #[test]
    fn long_searches_are_too_long_to_inline_and_hash_stably() {
        let q = SearchQuery {
            text: Some("x".repeat(90)),
            ..SearchQuery::default()
        };
        let id = encode_action(&Action::SearchPage(Box::new(q.clone())));
        assert!(id.len() > MAX_LEN);
        let hash = search_hash(&encode_query(&q));
        assert_eq!(hash, search_hash(&encode_query(&q)));
        assert_eq!(
            decode(&stored_search(&hash)),
            Ok(Target::StoredSearch(hash))
        );
    }
}
