//! The academy's commands as data: names in English and Dutch, their options, who they are for,
//! and how typed option values become an engine [`Request`].
//!
//! One table serves every adapter: the console parses typed lines with it, the Discord adapter
//! registers slash commands from it (with Dutch name localizations) and help is generated from
//! it, so the three can never disagree.

use crate::domain::*;
use crate::engine::{limits, LessonChanges, LessonDraft, Refusal, Request};
use crate::search::SearchQuery;
use crate::text::{keys as k, Catalog};
use crate::time::{self, When, WhenError};
use chrono::NaiveDate;
use serde_json::json;
use std::collections::BTreeMap;

/// What an option's value must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Free text, may span lines.
    Text,
    /// One line of text.
    Line,
    Step,
    Steps,
    Order,
    Perspective,
    Layer,
    Layers,
    Attribution,
    Lang,
    /// How reminders come: channel, dm or off.
    Reminders,
    /// Much or little (many or few).
    Amount,
    Tags,
    LessonId,
    DigestId,
    Date,
    Deadline,
    /// An IANA time zone name, such as `Europe/Amsterdam`.
    Zone,
    Yes,
    Page,
    /// How many weeks a cadence waits, `engine::limits::WEEKS`.
    Weeks,
    QuestionId,
    MeetingId,
    /// A voice channel (Discord), or a channel id (the console).
    Channel,
    /// When a meeting starts.
    When,
}

#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub name: &'static str,
    pub nl: &'static str,
    pub kind: Kind,
    pub required: bool,
}

impl Opt {
    pub fn local_name(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Nl => self.nl,
            Lang::En => self.name,
        }
    }
}

/// Who a command is for; moderator commands are still checked by the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Members,
    Moderators,
}

/// Where a command does its work. Discord offers a command only where it works: one that
/// needs a collaboration's channel is not offered in a direct message with the bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In a collaboration's channel and in a direct message (reading, sharing, one's own data).
    Anywhere,
    /// Only in a server channel: it acts on the channel's collaboration, or needs a server role.
    Channel,
}

/// The first word of every moderator command. Discord's permissions are per top-level
/// command, so grouping the moderators' actions under one lets Discord hide them all from
/// members (the engine still checks every action).
pub const MODERATOR: (&str, &str) = ("moderator", "moderator");

#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// Command words as (English, Dutch): one word, a group and a subcommand, or (for the
    /// moderators' command) `moderator`, a group and a subcommand.
    pub path: &'static [(&'static str, &'static str)],
    pub options: &'static [Opt],
    pub audience: Audience,
    pub place: Place,
    /// Message key of the one-line description.
    pub help: &'static str,
}

impl Spec {
    pub fn id(&self) -> String {
        self.path
            .iter()
            .map(|(en, _)| *en)
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn local_path(&self, lang: Lang) -> String {
        self.path
            .iter()
            .map(|(en, nl)| if lang == Lang::Nl { *nl } else { *en })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `/les delen titel: … [stappen: …]`
    pub fn usage(&self, lang: Lang) -> String {
        let mut out = format!("/{}", self.local_path(lang));
        for o in self.options {
            if o.required {
                out.push_str(&format!(" {}:…", o.local_name(lang)));
            } else {
                out.push_str(&format!(" [{}:…]", o.local_name(lang)));
            }
        }
        out
    }
}

const fn opt(name: &'static str, nl: &'static str, kind: Kind, required: bool) -> Opt {
    Opt {
        name,
        nl,
        kind,
        required,
    }
}

const ID: Opt = opt("id", "id", Kind::LessonId, true);
const QUESTION_ID: Opt = opt("id", "id", Kind::QuestionId, true);
const MEETING_ID: Opt = opt("id", "id", Kind::MeetingId, true);
const LESSON_FIELDS: [Opt; 8] = [
    opt("title", "titel", Kind::Line, false),
    opt("happened", "gebeurd", Kind::Text, false),
    opt("lesson", "les", Kind::Text, false),
    opt("order", "orde", Kind::Order, false),
    opt("steps", "stappen", Kind::Steps, false),
    opt("perspective", "perspectief", Kind::Perspective, false),
    opt("tags", "tags", Kind::Tags, false),
    opt("as", "als", Kind::Attribution, false),
];
const LESSON_EDIT: [Opt; 9] = [
    ID,
    LESSON_FIELDS[0],
    LESSON_FIELDS[1],
    LESSON_FIELDS[2],
    LESSON_FIELDS[3],
    LESSON_FIELDS[4],
    LESSON_FIELDS[5],
    LESSON_FIELDS[6],
    LESSON_FIELDS[7],
];
const REVIEW_EDIT: [Opt; 8] = [
    ID,
    LESSON_FIELDS[0],
    LESSON_FIELDS[1],
    LESSON_FIELDS[2],
    LESSON_FIELDS[3],
    LESSON_FIELDS[4],
    LESSON_FIELDS[5],
    LESSON_FIELDS[6],
];

use Audience::{Members as M, Moderators as X};
use Place::{Anywhere as ANY, Channel as CH};

const PAGE: Opt = opt("page", "pagina", Kind::Page, false);

/// Every command the academy offers: the members' first, then the moderators'.
pub const SPECS: &[Spec] = &[
    Spec {
        path: &[("help", "hulp")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_HELP,
    },
    Spec {
        path: &[("questions", "vragen")],
        options: &[opt("step", "stap", Kind::Step, true)],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_QUESTIONS,
    },
    Spec {
        path: &[("perspectives", "perspectieven")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_PERSPECTIVES,
    },
    Spec {
        path: &[("orders", "ordes")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_ORDERS,
    },
    Spec {
        path: &[("collaboration", "samenwerking")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_COLLABORATION,
    },
    Spec {
        path: &[("layer", "bestuurslaag")],
        options: &[opt("layer", "laag", Kind::Layer, true)],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LAYER,
    },
    Spec {
        path: &[("doing", "doenleren"), ("place", "plaatsen")],
        options: &[
            opt("yield", "opbrengst", Kind::Amount, true),
            opt("lessons", "lessen", Kind::Amount, true),
        ],
        audience: M,
        place: CH,
        help: k::HELP_CMD_DOING_PLACE,
    },
    Spec {
        path: &[("doing", "doenleren"), ("show", "tonen")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_DOING_SHOW,
    },
    Spec {
        path: &[("health", "gezondheid")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_HEALTH,
    },
    Spec {
        path: &[("vote", "stem")],
        options: &[opt("perspective", "perspectief", Kind::Perspective, true)],
        audience: M,
        place: CH,
        help: k::HELP_CMD_VOTE,
    },
    Spec {
        path: &[("reminders", "herinneringen")],
        options: &[opt("via", "via", Kind::Reminders, true)],
        audience: M,
        place: CH,
        help: k::HELP_CMD_REMINDERS,
    },
    Spec {
        path: &[("round", "ronde"), ("status", "status")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ROUND_STATUS,
    },
    Spec {
        path: &[("answer", "antwoord"), ("submit", "geven")],
        options: &[opt("text", "tekst", Kind::Text, true)],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ANSWER_SUBMIT,
    },
    Spec {
        path: &[("answer", "antwoord"), ("edit", "wijzigen")],
        options: &[opt("text", "tekst", Kind::Text, true)],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ANSWER_EDIT,
    },
    Spec {
        path: &[("answer", "antwoord"), ("withdraw", "intrekken")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ANSWER_WITHDRAW,
    },
    Spec {
        path: &[("answer", "antwoord"), ("show", "bekijken")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ANSWER_SHOW,
    },
    Spec {
        path: &[("lesson", "les"), ("share", "delen")],
        options: &[
            opt("title", "titel", Kind::Line, true),
            opt("happened", "gebeurd", Kind::Text, true),
            opt("lesson", "les", Kind::Text, true),
            opt("order", "orde", Kind::Order, true),
            LESSON_FIELDS[4],
            LESSON_FIELDS[5],
            LESSON_FIELDS[6],
            LESSON_FIELDS[7],
        ],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_SHARE,
    },
    Spec {
        path: &[("lesson", "les"), ("edit", "bewerken")],
        options: &LESSON_EDIT,
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_EDIT,
    },
    Spec {
        path: &[("lesson", "les"), ("show", "tonen")],
        options: &[ID],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_SHOW,
    },
    Spec {
        path: &[("lesson", "les"), ("search", "zoeken")],
        options: &[
            opt("text", "tekst", Kind::Line, false),
            opt("order", "orde", Kind::Order, false),
            opt("step", "stap", Kind::Step, false),
            opt("perspective", "perspectief", Kind::Perspective, false),
            opt("tag", "tag", Kind::Line, false),
            opt("here", "hier", Kind::Yes, false),
            opt("from", "van", Kind::Date, false),
            opt("to", "tot", Kind::Date, false),
            PAGE,
        ],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_SEARCH,
    },
    Spec {
        path: &[("lesson", "les"), ("applied", "toegepast")],
        options: &[ID, opt("note", "notitie", Kind::Text, false)],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_APPLIED,
    },
    Spec {
        path: &[("lesson", "les"), ("mine", "mijn")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_MINE,
    },
    Spec {
        path: &[("digest", "digest"), ("list", "overzicht")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_DIGEST_LIST,
    },
    Spec {
        path: &[("digest", "digest"), ("show", "tonen")],
        options: &[opt("id", "id", Kind::DigestId, true)],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_DIGEST_SHOW,
    },
    Spec {
        path: &[("mydata", "mijngegevens"), ("export", "exporteren")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_MYDATA_EXPORT,
    },
    Spec {
        path: &[("mydata", "mijngegevens"), ("delete", "verwijderen")],
        options: &[opt("confirm", "bevestig", Kind::Yes, false)],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_MYDATA_DELETE,
    },
    Spec {
        path: &[("setup", "instellen")],
        options: &[
            opt("task", "opgave", Kind::Line, true),
            opt("region", "regio", Kind::Line, true),
            opt("layers", "lagen", Kind::Layers, true),
            opt("language", "taal", Kind::Lang, false),
            opt("time_zone", "tijdzone", Kind::Zone, false),
        ],
        audience: X,
        place: CH,
        help: k::HELP_CMD_SETUP,
    },
    Spec {
        path: &[MODERATOR, ("round", "ronde"), ("start", "start")],
        options: &[
            opt("step", "stap", Kind::Step, true),
            opt("deadline", "deadline", Kind::Deadline, false),
        ],
        audience: X,
        place: CH,
        help: k::HELP_CMD_ROUND_START,
    },
    Spec {
        path: &[MODERATOR, ("round", "ronde"), ("reveal", "onthullen")],
        options: &[],
        audience: X,
        place: CH,
        help: k::HELP_CMD_ROUND_REVEAL,
    },
    Spec {
        path: &[MODERATOR, ("round", "ronde"), ("close", "sluiten")],
        options: &[],
        audience: X,
        place: CH,
        help: k::HELP_CMD_ROUND_CLOSE,
    },
    Spec {
        path: &[MODERATOR, ("review", "beoordeling"), ("queue", "wachtrij")],
        options: &[PAGE],
        audience: X,
        place: CH,
        help: k::HELP_CMD_REVIEW_QUEUE,
    },
    Spec {
        path: &[
            MODERATOR,
            ("review", "beoordeling"),
            ("approve", "goedkeuren"),
        ],
        options: &[ID],
        audience: X,
        place: CH,
        help: k::HELP_CMD_REVIEW_APPROVE,
    },
    Spec {
        path: &[MODERATOR, ("review", "beoordeling"), ("edit", "bewerken")],
        options: &REVIEW_EDIT,
        audience: X,
        place: CH,
        help: k::HELP_CMD_REVIEW_EDIT,
    },
    Spec {
        path: &[MODERATOR, ("review", "beoordeling"), ("reject", "afwijzen")],
        options: &[ID, opt("reason", "reden", Kind::Text, true)],
        audience: X,
        place: CH,
        help: k::HELP_CMD_REVIEW_REJECT,
    },
    Spec {
        path: &[
            MODERATOR,
            ("review", "beoordeling"),
            ("feature", "uitlichten"),
        ],
        options: &[ID],
        audience: X,
        place: CH,
        help: k::HELP_CMD_REVIEW_FEATURE,
    },
    Spec {
        path: &[MODERATOR, ("digest", "digest"), ("compose", "samenstellen")],
        options: &[
            opt("title", "titel", Kind::Line, false),
            opt("from", "van", Kind::Date, false),
            opt("to", "tot", Kind::Date, false),
            opt("order", "orde", Kind::Order, false),
            opt("step", "stap", Kind::Step, false),
            opt("republish", "opnieuw", Kind::Yes, false),
            opt("library", "bibliotheek", Kind::Yes, false),
        ],
        audience: X,
        place: CH,
        help: k::HELP_CMD_DIGEST_COMPOSE,
    },
    Spec {
        path: &[MODERATOR, ("digest", "digest"), ("publish", "publiceren")],
        options: &[opt("id", "id", Kind::DigestId, true)],
        audience: X,
        place: CH,
        help: k::HELP_CMD_DIGEST_PUBLISH,
    },
    Spec {
        path: &[MODERATOR, ("doing", "doenleren"), ("ask", "vragen")],
        options: &[],
        audience: X,
        place: CH,
        help: k::HELP_CMD_DOING_ASK,
    },
    Spec {
        path: &[MODERATOR, ("cadence", "ritme")],
        options: &[
            opt("step", "stap", Kind::Step, false),
            opt("weeks", "weken", Kind::Weeks, false),
            opt("pause", "pauze", Kind::Yes, false),
        ],
        audience: X,
        place: CH,
        help: k::HELP_CMD_CADENCE,
    },
    Spec {
        path: &[MODERATOR, ("audit", "logboek")],
        options: &[PAGE],
        audience: X,
        place: CH,
        help: k::HELP_CMD_AUDIT,
    },
    // Learning across collaborations: the academy is one academy.
    Spec {
        path: &[("learning", "leren"), ("others", "bij-anderen")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::STEP5_HELP,
    },
    Spec {
        path: &[("question", "vraag"), ("ask", "stellen")],
        options: &[
            opt("text", "tekst", Kind::Text, true),
            opt("as", "als", Kind::Attribution, false),
        ],
        audience: M,
        place: CH,
        help: k::QUESTION_HELP_ASK,
    },
    Spec {
        path: &[("question", "vraag"), ("answer", "beantwoorden")],
        options: &[
            QUESTION_ID,
            opt("text", "tekst", Kind::Text, true),
            opt("as", "als", Kind::Attribution, false),
        ],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_ANSWER,
    },
    Spec {
        path: &[("question", "vraag"), ("show", "tonen")],
        options: &[QUESTION_ID],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_SHOW,
    },
    Spec {
        path: &[("question", "vraag"), ("list", "overzicht")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_LIST,
    },
    Spec {
        path: &[("question", "vraag"), ("helped", "geholpen")],
        options: &[QUESTION_ID, opt("answer", "antwoord", Kind::Page, true)],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_HELPED,
    },
    Spec {
        path: &[("question", "vraag"), ("consent", "toestemming")],
        options: &[QUESTION_ID, opt("agree", "akkoord", Kind::Yes, true)],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_CONSENT,
    },
    Spec {
        path: &[("meeting", "bijeenkomst"), ("agenda", "agenda")],
        options: &[opt("id", "id", Kind::MeetingId, false)],
        audience: M,
        place: CH,
        help: k::MEETING_HELP_AGENDA,
    },
    Spec {
        path: &[("meeting", "bijeenkomst"), ("join", "aanmelden")],
        options: &[MEETING_ID],
        audience: M,
        place: CH,
        help: k::MEETING_HELP_JOIN,
    },
    Spec {
        path: &[MODERATOR, ("exchange", "uitwisseling")],
        options: &[
            opt("lessons", "lessen", Kind::Yes, false),
            opt("name", "naam", Kind::Yes, false),
            opt("step5", "stap5", Kind::Yes, false),
            opt("questions", "vragen", Kind::Yes, false),
            opt("servers", "servers", Kind::Yes, false),
        ],
        audience: X,
        place: CH,
        help: k::SHARED_HELP,
    },
    Spec {
        path: &[MODERATOR, ("digest", "digest"), ("take", "overnemen")],
        options: &[ID],
        audience: X,
        place: CH,
        help: k::SHARED_HELP_TAKE,
    },
    Spec {
        path: &[MODERATOR, ("question", "vraag"), ("lesson", "les")],
        options: &[
            QUESTION_ID,
            opt("title", "titel", Kind::Line, true),
            opt("order", "orde", Kind::Order, true),
            opt("steps", "stappen", Kind::Steps, false),
        ],
        audience: X,
        place: CH,
        help: k::QUESTION_HELP_LESSON,
    },
    Spec {
        path: &[MODERATOR, ("meeting", "bijeenkomst"), ("plan", "plannen")],
        options: &[
            opt("when", "wanneer", Kind::When, true),
            opt("address", "adres", Kind::Line, false),
            opt("channel", "kanaal", Kind::Channel, false),
            opt("minutes", "minuten", Kind::Page, false),
            opt("name", "naam", Kind::Line, false),
        ],
        audience: X,
        place: CH,
        help: k::MEETING_HELP_PLAN,
    },
    Spec {
        path: &[MODERATOR, ("meeting", "bijeenkomst"), ("lessons", "lessen")],
        options: &[MEETING_ID],
        audience: X,
        place: CH,
        help: k::MEETING_HELP_LESSONS,
    },
];

/// The command with this id (its English words, as [`Spec::id`] gives them).
pub fn spec(id: &str) -> &'static Spec {
    SPECS
        .iter()
        .find(|s| s.id() == id)
        .unwrap_or_else(|| panic!("no command {id}"))
}

/// How a user types a command with some of its options filled in, in their language:
/// `invocation("moderator review approve", Lang::Nl, &[("id", "L3")])` is
/// `/moderator beoordeling goedkeuren id:L3`. Options without a value show as `name:…`.
pub fn invocation(id: &str, lang: Lang, options: &[(&str, &str)]) -> String {
    let spec = spec(id);
    let mut out = format!("/{}", spec.local_path(lang));
    for (name, value) in options {
        let o = spec
            .options
            .iter()
            .find(|o| o.name == *name)
            .unwrap_or_else(|| panic!("command {id} has no option {name}"));
        let value = if value.is_empty() { "…" } else { value };
        out.push_str(&format!(" {}:{value}", o.local_name(lang)));
    }
    out
}

/// Help lines for one audience: usage and description per command.
pub fn help_lines(text: &Catalog, lang: Lang, audience: Audience) -> String {
    SPECS
        .iter()
        .filter(|s| s.audience == audience)
        .map(|s| format!("{}\n    {}", s.usage(lang), text.plain(lang, s.help)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Finds a command by its words, in either language; returns it and how many words it used.
pub fn find_spec(words: &[&str]) -> Option<(&'static Spec, usize)> {
    let matches =
        |(en, nl): &(&str, &str), w: &str| w.eq_ignore_ascii_case(en) || w.eq_ignore_ascii_case(nl);
    SPECS
        .iter()
        .filter(|s| {
            s.path.len() <= words.len() && s.path.iter().zip(words).all(|(p, w)| matches(p, w))
        })
        .max_by_key(|s| s.path.len())
        .map(|s| (s, s.path.len()))
}

/// Option values as typed, by English option name.
pub type Values = BTreeMap<&'static str, String>;

/// Splits a typed line such as `/les delen titel: Mijn les orde: eerste` into a command and its
/// option values. An option starts at a known option name followed by `:`; text before the first
/// option fills the first required text option, so `/answer Our issue is …` works. Values may be
/// quoted, and `\n` in a value is a line break.
pub fn parse_line(
    text: &Catalog,
    lang: Lang,
    line: &str,
) -> Result<(&'static Spec, Values), Refusal> {
    let line = line.trim().trim_start_matches('/');
    let words: Vec<&str> = line.split_whitespace().collect();
    let refuse = |key: &'static str, data: serde_json::Value| Refusal {
        key,
        text: text.render(lang, key, &data),
    };
    let found = find_spec(&words).or_else(|| {
        // `/answer some text` is the answer itself.
        let group = words.first()?;
        if group.eq_ignore_ascii_case("answer") || group.eq_ignore_ascii_case("antwoord") {
            SPECS
                .iter()
                .find(|s| s.id() == "answer submit")
                .map(|s| (s, 1))
        } else {
            None
        }
    });
    let Some((spec, used)) = found else {
        // Moderator actions used to be typed without `moderator`; say where they went.
        let prefixed: Vec<&str> = std::iter::once(MODERATOR.0)
            .chain(words.iter().copied())
            .collect();
        if let Some((spec, _)) =
            find_spec(&prefixed).filter(|(s, n)| *n > 1 && s.path[0] == MODERATOR)
        {
            return Err(refuse(
                k::ERROR_UNDER_MODERATOR,
                json!({"usage": spec.usage(lang)}),
            ));
        }
        return Err(refuse(
            k::ERROR_UNKNOWN_COMMAND,
            json!({"command": crate::engine::shorten(words.first().copied().unwrap_or(""), 40)}),
        ));
    };
    // The rest of the line after the command words, with its own spacing kept.
    let mut rest = line;
    for _ in 0..used {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    let rest = rest.trim();

    let mut markers: Vec<(usize, usize, &'static Opt)> = Vec::new();
    for o in spec.options {
        for name in [o.name, o.nl] {
            let needle = format!("{name}:");
            let mut from = 0;
            while let Some(pos) = rest[from..].find(&needle) {
                let at = from + pos;
                let starts_word = at == 0 || rest[..at].ends_with(char::is_whitespace);
                if starts_word && !markers.iter().any(|(s, e, _)| at >= *s && at < *e) {
                    markers.push((at, at + needle.len(), o));
                }
                from = at + needle.len();
            }
        }
    }
    markers.sort_by_key(|m| m.0);
    // Keep the first occurrence of each option; a later `name:` is part of the earlier value.
    let mut seen = Vec::new();
    markers.retain(|(_, _, o)| {
        if seen.contains(&o.name) {
            false
        } else {
            seen.push(o.name);
            true
        }
    });
    let mut values = Values::new();
    let lead = rest[..markers.first().map(|m| m.0).unwrap_or(rest.len())].trim();
    if !lead.is_empty() {
        match spec.options.iter().find(|o| {
            o.required
                && matches!(
                    o.kind,
                    Kind::Text
                        | Kind::Line
                        | Kind::Step
                        | Kind::LessonId
                        | Kind::DigestId
                        | Kind::Layer
                        | Kind::QuestionId
                        | Kind::MeetingId
                )
        }) {
            Some(o) if !markers.iter().any(|(_, _, m)| m.name == o.name) => {
                values.insert(o.name, unquote(lead));
            }
            _ => {
                return Err(refuse(
                    k::ERROR_STRAY_TEXT,
                    json!({"text": crate::engine::shorten(lead, 40), "usage": spec.usage(lang)}),
                ));
            }
        }
    }
    for (i, (_, end, o)) in markers.iter().enumerate() {
        let stop = markers.get(i + 1).map(|m| m.0).unwrap_or(rest.len());
        values.insert(o.name, unquote(rest[*end..stop].trim()));
    }
    Ok((spec, values))
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|_| v.len() >= 2)
        .unwrap_or(v);
    v.replace("\\n", "\n")
}

/// The typed values of one invocation, with localized refusals for bad input.
struct Reader<'a> {
    text: &'a Catalog,
    lang: Lang,
    spec: &'static Spec,
    values: &'a Values,
}

impl Reader<'_> {
    fn refuse(&self, key: &'static str, data: serde_json::Value) -> Refusal {
        Refusal {
            key,
            text: self.text.render(self.lang, key, &data),
        }
    }

    fn opt(&self, name: &str) -> &'static Opt {
        self.spec
            .options
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("command {} has no option {name}", self.spec.id()))
    }

    fn bad(&self, name: &str, value: &str) -> Refusal {
        let o = self.opt(name);
        let expected = self.text.plain(self.lang, expect_key(o.kind));
        self.refuse(
            k::ERROR_BAD_OPTION,
            json!({"option": o.local_name(self.lang), "value": value.chars().take(60).collect::<String>(), "expected": expected}),
        )
    }

    /// The raw value, or `None` when absent or empty. Required options are checked up front.
    fn raw(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    fn text(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, Refusal> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => parse(v).map(Some).ok_or_else(|| self.bad(name, v)),
        }
    }

    fn list<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<Vec<T>>, Refusal> {
        let Some(v) = self.raw(name) else {
            return Ok(None);
        };
        // Items may be two words (`water board`): with commas or semicolons in the list,
        // only those separate; without, one item as a whole, else the words one by one.
        if let Some(one) = parse(v.trim()) {
            return Ok(Some(vec![one]));
        }
        let separators: &[char] = if v.contains([',', ';']) {
            &[',', ';']
        } else {
            &[' ']
        };
        v.split(separators)
            .filter(|p| !p.trim().is_empty())
            .map(|p| parse(p.trim()).ok_or_else(|| self.bad(name, p.trim())))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn yes(&self, name: &str) -> Result<bool, Refusal> {
        Ok(self.parsed(name, parse_yes)?.unwrap_or(false))
    }

    fn date(&self, name: &str) -> Result<Option<NaiveDate>, Refusal> {
        self.parsed(name, time::parse_date)
    }

    /// A moment as typed; it is placed in the collaboration's zone by the engine. A weekday
    /// that does not match the date gets its own answer, naming the date's real weekday.
    fn when(&self, name: &str) -> Result<Option<When>, Refusal> {
        let Some(v) = self.raw(name) else {
            return Ok(None);
        };
        match time::parse_when(v) {
            Ok(when) => Ok(Some(when)),
            Err(WhenError::WrongWeekday { date }) => Err(self.refuse(
                k::TIME_WRONG_WEEKDAY,
                json!({
                    "date": time::day(self.lang, date),
                    "weekday": time::weekday_name(self.lang, date),
                }),
            )),
            Err(WhenError::Unreadable) => Err(self.bad(name, v)),
        }
    }

    fn steps(&self, name: &str) -> Result<Option<Vec<Step>>, Refusal> {
        self.list(name, Step::parse_user)
    }

    fn tags(&self, name: &str) -> Option<Vec<String>> {
        self.raw(name).map(|v| {
            v.split([',', ';'])
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect()
        })
    }

    fn changes(&self) -> Result<LessonChanges, Refusal> {
        Ok(LessonChanges {
            title: self.text("title"),
            happened: self.text("happened"),
            lesson: self.text("lesson"),
            order: self.parsed("order", Order::parse_user)?,
            steps: self.steps("steps")?,
            perspective: self.parsed("perspective", Perspective::parse_user)?,
            tags: self.tags("tags"),
            attribution: if self.spec.options.iter().any(|o| o.name == "as") {
                self.parsed("as", Attribution::parse_user)?
            } else {
                None
            },
        })
    }
}

/// `veel`/`much`/`many` is true, `weinig`/`little`/`few` false.
fn parse_amount(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "veel" | "much" | "many" | "hoog" | "high" => Some(true),
        "weinig" | "little" | "few" | "laag" | "low" => Some(false),
        _ => None,
    }
}

fn parse_yes(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "yes" | "ja" | "true" | "1" | "y" | "j" => Some(true),
        "no" | "nee" | "false" | "0" | "n" => Some(false),
        _ => None,
    }
}

fn expect_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Text | Kind::Line | Kind::Tags => k::EXPECT_TEXT,
        Kind::Step | Kind::Steps => k::EXPECT_STEP,
        Kind::Order => k::EXPECT_ORDER,
        Kind::Perspective => k::EXPECT_PERSPECTIVE,
        Kind::Layer | Kind::Layers => k::EXPECT_LAYER,
        Kind::Attribution => k::EXPECT_ATTRIBUTION,
        Kind::Lang => k::EXPECT_LANG,
        Kind::Reminders => k::EXPECT_REMINDERS,
        Kind::Amount => k::EXPECT_AMOUNT,
        Kind::LessonId | Kind::DigestId => k::EXPECT_ID,
        Kind::Date => k::EXPECT_DATE,
        Kind::Deadline => k::EXPECT_DEADLINE,
        Kind::Zone => k::EXPECT_ZONE,
        Kind::Yes => k::EXPECT_YES,
        Kind::Page => k::EXPECT_PAGE,
        Kind::Weeks => k::EXPECT_WEEKS,
        Kind::QuestionId => k::QUESTION_EXPECT_ID,
        Kind::MeetingId => k::MEETING_EXPECT_ID,
        Kind::Channel => k::MEETING_EXPECT_CHANNEL,
        Kind::When => k::MEETING_EXPECT_WHEN,
    }
}

/// A channel as typed: its number, or a Discord mention `<#123>`.
fn parse_channel(v: &str) -> Option<ChannelId> {
    let v = v.trim();
    let digits = v
        .strip_prefix("<#")
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(v);
    digits.parse::<u64>().ok().filter(|n| *n > 0).map(ChannelId)
}

/// Turns a command and its typed values into a request, or a localized refusal naming the
/// option that is missing or wrong.
pub fn to_request(
    text: &Catalog,
    lang: Lang,
    spec: &'static Spec,
    values: &Values,
    channel: Option<ChannelId>,
) -> Result<Request, Refusal> {
    let r = Reader {
        text,
        lang,
        spec,
        values,
    };
    for o in spec.options.iter().filter(|o| o.required) {
        if r.raw(o.name).is_none() {
            return Err(r.refuse(
                k::ERROR_MISSING_OPTION,
                json!({"option": o.local_name(lang), "usage": spec.usage(lang)}),
            ));
        }
    }
    let required = |name: &str| r.text(name).unwrap_or_default();
    let lesson_id = || {
        r.parsed("id", LessonId::parse_user)
            .map(|v| v.unwrap_or(LessonId(0)))
    };
    let digest_id = || {
        r.parsed("id", DigestId::parse_user)
            .map(|v| v.unwrap_or(DigestId(0)))
    };
    let step = |name: &str| r.parsed(name, Step::parse_user);
    // Pages are typed from 1; requests count from 0.
    let page = || -> Result<usize, Refusal> {
        Ok(r.parsed("page", |v| {
            v.trim()
                .parse::<usize>()
                .ok()
                .filter(|p| *p >= 1 && *p <= 10_000)
        })?
        .unwrap_or(1)
            - 1)
    };
    let question_id = || {
        r.parsed("id", QuestionId::parse_user)
            .map(|v| v.unwrap_or(QuestionId(0)))
    };
    let meeting_id = || {
        r.parsed("id", MeetingId::parse_user)
            .map(|v| v.unwrap_or(MeetingId(0)))
    };
    Ok(match spec.id().as_str() {
        "help" => Request::Help,
        "questions" => Request::Questions {
            step: step("step")?.unwrap_or(Step::Issue),
        },
        "perspectives" => Request::Perspectives,
        "orders" => Request::Orders,
        "collaboration" => Request::ShowCollaboration,
        "moderator cadence" => Request::Cadence {
            step: step("step")?,
            every_weeks: r.parsed("weeks", |v| {
                v.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|w| limits::WEEKS.contains(w))
            })?,
            paused: r.parsed("pause", parse_yes)?,
        },
        "health" => Request::Health,
        "moderator audit" => Request::AuditLog { page: page()? },
        "doing place" => Request::Place {
            much_yield: r.parsed("yield", parse_amount)?.unwrap_or(false),
            many_lessons: r.parsed("lessons", parse_amount)?.unwrap_or(false),
        },
        "doing show" => Request::DoingLearning,
        "moderator doing ask" => Request::AskDoingLearning,
        "vote" => Request::Vote {
            round: None,
            perspective: r
                .parsed("perspective", Perspective::parse_user)?
                .unwrap_or(Perspective::Networking),
        },
        "lesson applied" => Request::LessonApplied {
            id: lesson_id()?,
            note: r.text("note").unwrap_or_default(),
        },
        "reminders" => Request::Reminders {
            how: r
                .parsed("via", Reminders::parse_user)?
                .unwrap_or(Reminders::Channel),
        },
        "layer" => Request::SetLayer {
            layer: r
                .parsed("layer", Layer::parse_user)?
                .unwrap_or(Layer::Other),
        },
        "setup" => Request::Setup {
            task: required("task"),
            region: required("region"),
            layers: r.list("layers", Layer::parse_user)?.unwrap_or_default(),
            lang: r.parsed("language", Lang::parse_user)?,
            zone: r.parsed("time_zone", time::parse_zone)?,
        },
        "moderator round start" => Request::RoundStart {
            step: step("step")?.unwrap_or(Step::Issue),
            deadline: r.when("deadline")?,
        },
        "round status" => Request::RoundStatus,
        "moderator round reveal" => Request::RoundReveal { round: None },
        "moderator round close" => Request::RoundClose { round: None },
        "answer submit" => Request::AnswerSubmit {
            round: None,
            text: required("text"),
        },
        "answer edit" => Request::AnswerEdit {
            round: None,
            text: required("text"),
        },
        "answer withdraw" => Request::AnswerWithdraw,
        "answer show" => Request::AnswerMine,
        "lesson share" => Request::LessonShare(LessonDraft {
            title: required("title"),
            happened: required("happened"),
            lesson: required("lesson"),
            order: r
                .parsed("order", Order::parse_user)?
                .unwrap_or(Order::First),
            steps: r.steps("steps")?.unwrap_or_default(),
            perspective: r.parsed("perspective", Perspective::parse_user)?,
            tags: r.tags("tags").unwrap_or_default(),
            attribution: r
                .parsed("as", Attribution::parse_user)?
                .unwrap_or(Attribution::Named),
        }),
        "lesson edit" => Request::LessonEdit {
            id: lesson_id()?,
            changes: r.changes()?,
            version: None,
        },
        "lesson show" => Request::LessonShow { id: lesson_id()? },
        "lesson search" => Request::LessonSearch(SearchQuery {
            text: r.raw("text").map(str::to_owned),
            order: r.parsed("order", Order::parse_user)?,
            step: step("step")?,
            perspective: r.parsed("perspective", Perspective::parse_user)?,
            tag: r.raw("tag").map(str::to_owned),
            channel: if r.yes("here")? { channel } else { None },
            from: r.date("from")?,
            to: r.date("to")?,
            page: page()?,
        }),
        "lesson mine" => Request::LessonMine,
        "moderator review queue" => Request::ReviewQueue { page: page()? },
        "moderator review approve" => Request::ReviewApprove { id: lesson_id()? },
        "moderator review edit" => Request::ReviewEdit {
            id: lesson_id()?,
            changes: r.changes()?,
            version: None,
        },
        "moderator review reject" => Request::ReviewReject {
            id: lesson_id()?,
            reason: required("reason"),
        },
        "moderator review feature" => Request::ReviewFeature { id: lesson_id()? },
        "moderator digest compose" => Request::DigestCompose {
            title: r.raw("title").map(str::to_owned),
            filter: DigestFilter {
                from: r.date("from")?,
                to: r.date("to")?,
                order: r.parsed("order", Order::parse_user)?,
                step: step("step")?,
                republish: r.yes("republish")?,
                library: r.yes("library")?,
            },
        },
        "moderator digest publish" => Request::DigestPublish { id: digest_id()? },
        "digest list" => Request::DigestList,
        "digest show" => Request::DigestShow { id: digest_id()? },
        "mydata export" => Request::MyDataExport,
        "mydata delete" => Request::MyDataDelete {
            confirm: r.yes("confirm")?,
        },
        "learning others" => Request::Step5Elsewhere,
        "moderator exchange" => Request::Exchange(crate::engine::ExchangeChange {
            lessons: r.parsed("lessons", parse_yes)?,
            name: r.parsed("name", parse_yes)?,
            step5: r.parsed("step5", parse_yes)?,
            questions: r.parsed("questions", parse_yes)?,
            servers: r.parsed("servers", parse_yes)?,
        }),
        "moderator digest take" => Request::DigestTake { id: lesson_id()? },
        "question ask" => Request::QuestionAsk {
            text: required("text"),
            attribution: r
                .parsed("as", Attribution::parse_user)?
                .unwrap_or(Attribution::Named),
        },
        "question answer" => Request::QuestionAnswer {
            id: question_id()?,
            text: required("text"),
            attribution: r
                .parsed("as", Attribution::parse_user)?
                .unwrap_or(Attribution::Named),
        },
        "question show" => Request::QuestionShow { id: question_id()? },
        "question list" => Request::QuestionList,
        "question helped" => Request::QuestionHelpful {
            id: question_id()?,
            answer: r
                .parsed("answer", |v| {
                    v.trim().parse::<u32>().ok().filter(|n| *n >= 1)
                })?
                .unwrap_or(1),
        },
        "question consent" => Request::QuestionConsent {
            id: question_id()?,
            consent: r.yes("agree")?,
        },
        "moderator question lesson" => Request::QuestionToLesson {
            id: question_id()?,
            title: required("title"),
            order: r
                .parsed("order", Order::parse_user)?
                .unwrap_or(Order::First),
            steps: r.steps("steps")?.unwrap_or_default(),
        },
        "moderator meeting plan" => Request::MeetingPlan {
            // Required, so always given here; the engine places it in the collaboration's zone.
            starts: r.when("when")?.unwrap_or(When::Days(0)),
            minutes: r.parsed("minutes", |v| v.trim().parse::<u32>().ok())?,
            title: r.raw("name").map(str::to_owned),
            address: r.raw("address").map(str::to_owned),
            voice: r.parsed("channel", parse_channel)?,
        },
        "meeting agenda" => Request::MeetingAgenda {
            id: r.parsed("id", MeetingId::parse_user)?,
        },
        "meeting join" => Request::MeetingJoin { id: meeting_id()? },
        "moderator meeting lessons" => Request::MeetingLessons { id: meeting_id()? },
        other => unreachable!("command {other} has a spec but no request"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::embedded().unwrap()
    }

    fn parse(line: &str) -> Result<Request, Refusal> {
        let c = catalog();
        let (spec, values) = parse_line(&c, Lang::En, line)?;
        to_request(&c, Lang::En, spec, &values, Some(ChannelId(9)))
    }

    #[test]
    fn every_spec_has_a_request_and_unique_names() {
        let mut seen = std::collections::HashSet::new();
        for s in SPECS {
            assert!(seen.insert(s.id()), "{} twice", s.id());
            assert!(
                seen.insert(format!("nl:{}", s.local_path(Lang::Nl))),
                "{} twice",
                s.local_path(Lang::Nl)
            );
            let mut values = Values::new();
            for o in s.options.iter().filter(|o| o.required) {
                let v = match o.kind {
                    Kind::Step
                    | Kind::Steps
                    | Kind::LessonId
                    | Kind::DigestId
                    | Kind::Page
                    | Kind::Weeks => "1",
                    Kind::Order => "first",
                    Kind::Layer | Kind::Layers => "gemeente",
                    Kind::Perspective => "lawful",
                    Kind::Attribution => "named",
                    Kind::Lang => "nl",
                    Kind::Reminders => "dm",
                    Kind::Amount => "veel",
                    Kind::Date => "31-12-2026",
                    Kind::Zone => "Europe/Amsterdam",
                    Kind::Deadline => "3d",
                    Kind::Yes => "yes",
                    Kind::QuestionId | Kind::MeetingId => "1",
                    Kind::Channel => "123",
                    Kind::When => "01-06-2099 10:00",
                    _ => "text",
                };
                values.insert(o.name, v.to_owned());
            }
            let c = catalog();
            to_request(&c, Lang::En, s, &values, None)
                .unwrap_or_else(|r| panic!("{}: {}", s.id(), r.text));
        }
    }

    #[test]
    fn options_split_on_known_names_in_both_languages() {
        let req = parse("/lesson share title: Rol vinden lesson: Vraag om mandaat. Let op: vooraf! happened: \"aan tafel\" order: eerste steps: 1,2 as: anoniem").unwrap();
        let Request::LessonShare(d) = req else {
            panic!("{req:?}")
        };
        assert_eq!(d.title, "Rol vinden");
        assert_eq!(d.lesson, "Vraag om mandaat. Let op: vooraf!");
        assert_eq!(d.happened, "aan tafel");
        assert_eq!(d.order, Order::First);
        assert_eq!(d.steps, vec![Step::Issue, Step::Others]);
        assert_eq!(d.attribution, Attribution::Anonymous);

        let c = catalog();
        let (spec, values) = parse_line(&c, Lang::Nl, "/moderator ronde start stap:2").unwrap();
        assert_eq!(spec.id(), "moderator round start");
        assert_eq!(values.get("step").map(String::as_str), Some("2"));
    }

    #[test]
    fn bare_text_answers() {
        assert_eq!(
            parse("/answer Ons vraagstuk is wonen").unwrap(),
            Request::AnswerSubmit {
                round: None,
                text: "Ons vraagstuk is wonen".into()
            }
        );
        assert_eq!(
            parse("/answer submit regel 1\\nregel 2").unwrap(),
            Request::AnswerSubmit {
                round: None,
                text: "regel 1\nregel 2".into()
            }
        );
    }

    #[test]
    fn bad_input_is_refused_with_the_option_named() {
        let r = parse("/moderator round start step:9").unwrap_err();
        assert_eq!(r.key, k::ERROR_BAD_OPTION);
        assert!(r.text.contains("step"), "{}", r.text);
        let r = parse("/moderator round start").unwrap_err();
        assert_eq!(r.key, k::ERROR_MISSING_OPTION);
        let r = parse("/frobnicate").unwrap_err();
        assert_eq!(r.key, k::ERROR_UNKNOWN_COMMAND);
        let r = parse("/lesson show id:L0").unwrap_err();
        assert_eq!(r.key, k::ERROR_BAD_OPTION);
    }

    #[test]
    fn moderator_actions_typed_without_moderator_say_where_they_are() {
        let r = parse("/round start step:1").unwrap_err();
        assert_eq!(r.key, k::ERROR_UNDER_MODERATOR);
        assert!(
            r.text.contains("/moderator round start step:…"),
            "{}",
            r.text
        );
        let r = parse("/frobnicate now").unwrap_err();
        assert_eq!(r.key, k::ERROR_UNKNOWN_COMMAND);
    }

    #[test]
    fn invocations_come_from_the_table_in_the_users_language() {
        assert_eq!(
            invocation("moderator review edit", Lang::Nl, &[("id", "L3")]),
            "/moderator beoordeling bewerken id:L3"
        );
        assert_eq!(
            invocation("lesson applied", Lang::En, &[("id", "L3"), ("note", "")]),
            "/lesson applied id:L3 note:…"
        );
    }

    #[test]
    fn every_moderator_action_sits_under_the_moderator_command_and_only_there() {
        for s in SPECS {
            let under = s.path[0] == MODERATOR;
            match s.audience {
                // Setting a channel up stands alone: Discord shows it to server managers.
                Audience::Moderators => assert!(under || s.id() == "setup", "{}", s.id()),
                Audience::Members => assert!(!under, "{}", s.id()),
            }
            if s.audience == Audience::Moderators {
                assert_eq!(s.place, Place::Channel, "{}", s.id());
            }
        }
    }

    #[test]
    fn deadlines_are_read_as_typed_and_placed_by_the_engine() {
        let deadline = |line: &str| match parse(line) {
            Ok(Request::RoundStart { deadline, .. }) => Ok(deadline),
            Ok(other) => panic!("{other:?}"),
            Err(r) => Err(r),
        };
        assert_eq!(
            deadline("/moderator round start step:1 deadline:3d"),
            Ok(Some(When::Days(3)))
        );
        assert!(matches!(
            deadline("/moderator ronde start stap:1 deadline:31-12-2026 17:00"),
            Ok(Some(When::On { .. }))
        ));
        assert!(matches!(
            deadline("/moderator round start step:1 deadline:morgen 17:00"),
            Ok(Some(When::FromToday { days: 1, .. }))
        ));
        let r = deadline("/moderator round start step:1 deadline:soon").unwrap_err();
        assert_eq!(r.key, k::ERROR_BAD_OPTION);
        let r = deadline("/moderator round start step:1 deadline:mon 31-12-2026").unwrap_err();
        assert_eq!(r.key, k::TIME_WRONG_WEEKDAY);
        assert!(r.text.contains("Thursday"), "{}", r.text);
    }

    /// The refusal of a bad deadline or date shows examples: each must be accepted as typed.
    #[test]
    fn the_examples_in_the_refusals_are_accepted() {
        let c = catalog();
        for (lang, examples) in [
            (
                Lang::Nl,
                &[
                    "3d",
                    "48u",
                    "2w",
                    "31-12-2026 17:00",
                    "morgen 17:00",
                    "2026-12-31 17:00",
                ][..],
            ),
            (
                Lang::En,
                &[
                    "3d",
                    "48h",
                    "2w",
                    "31-12-2026 17:00",
                    "tomorrow 17:00",
                    "2026-12-31 17:00",
                ][..],
            ),
        ] {
            let (spec, values) =
                parse_line(&c, lang, "/moderator round start step:1 deadline:gisteren").unwrap();
            let refusal = to_request(&c, lang, spec, &values, None).unwrap_err();
            for example in examples {
                assert!(
                    refusal.text.contains(example),
                    "{example}: {}",
                    refusal.text
                );
                let line = format!("/moderator round start step:1 deadline:{example}");
                let (spec, values) = parse_line(&c, lang, &line).unwrap();
                to_request(&c, lang, spec, &values, None)
                    .unwrap_or_else(|r| panic!("{example} refused: {}", r.text));
            }
            let (spec, values) = parse_line(&c, lang, "/lesson search from:gisteren").unwrap();
            let refusal = to_request(&c, lang, spec, &values, None).unwrap_err();
            for example in ["31-12-2026", "2026-12-31"] {
                assert!(
                    refusal.text.contains(example),
                    "{example}: {}",
                    refusal.text
                );
                let line = format!("/lesson search from:{example}");
                let (spec, values) = parse_line(&c, lang, &line).unwrap();
                to_request(&c, lang, spec, &values, None)
                    .unwrap_or_else(|r| panic!("{example} refused: {}", r.text));
            }
        }
        // The example the refusal used to give, brackets and all.
        assert!(matches!(
            parse("/moderator round start step:1 deadline:2026-12-31 (17:00)"),
            Ok(Request::RoundStart {
                deadline: Some(When::On { .. }),
                ..
            })
        ));
    }

    #[test]
    fn a_time_zone_is_an_iana_name() {
        let zone = |line: &str| match parse(line) {
            Ok(Request::Setup { zone, .. }) => Ok(zone),
            Ok(other) => panic!("{other:?}"),
            Err(r) => Err(r.key),
        };
        let base = "/setup task: Wonen region: Utrecht layers: rijk";
        assert_eq!(zone(base), Ok(None));
        assert_eq!(
            zone(&format!("{base} time_zone: europe/london")),
            Ok(Some(chrono_tz::Europe::London))
        );
        assert_eq!(
            zone(&format!("{base} time_zone: Mars/Olympus")),
            Err(k::ERROR_BAD_OPTION)
        );
    }

    #[test]
    fn layers_may_be_two_words_in_a_list() {
        let layers = |list: &str| match parse(&format!(
            "/setup task: Wonen region: Utrecht layers: {list}"
        )) {
            Ok(Request::Setup { layers, .. }) => Ok(layers),
            Ok(other) => panic!("{other:?}"),
            Err(r) => Err(r.key),
        };
        use Layer::*;
        assert_eq!(
            layers("national, province, water board"),
            Ok(vec![National, Province, WaterBoard])
        );
        assert_eq!(layers("water board"), Ok(vec![WaterBoard]));
        assert_eq!(layers("rijk gemeente"), Ok(vec![National, Municipality]));
        assert_eq!(layers("rijk; waterschap"), Ok(vec![National, WaterBoard]));
        assert_eq!(layers("rijk, mars"), Err(k::ERROR_BAD_OPTION));
    }
}
