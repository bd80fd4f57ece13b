//! The academy's commands as data: names in English and Dutch, their options, who they are for,
//! and how typed option values become an engine [`Request`].
//!
//! One table serves every adapter: the console parses typed lines with it and writes a button's
//! command back from it, the Discord adapter registers slash commands from it (with Dutch name
//! localizations) and builds its forms from it, and help is generated from it, so they can never
//! disagree. Each command has its own [`Cmd`] and each option carries everything said about it:
//! its kind, the limits of its value, the message key that describes it and whether Discord asks
//! it in a form ([`Group`]).

use crate::domain::*;
use crate::engine::{limits, HelpLine, LessonChanges, LessonDraft, Refusal, Request};
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
    /// A page of a list, counted from 1, within the option's [`Limit::Range`].
    Page,
    /// How many weeks a cadence waits, within the option's range (`engine::limits::WEEKS`).
    Weeks,
    /// Any other whole number, within the option's range.
    Number,
    QuestionId,
    MeetingId,
    /// A voice channel (Discord), or a channel id (the console).
    Channel,
    /// When a meeting starts.
    When,
}

impl Kind {
    /// Whether the value is a whole number (Discord sends it as an integer).
    pub fn is_number(self) -> bool {
        matches!(self, Kind::Page | Kind::Weeks | Kind::Number)
    }
}

/// Where Discord asks an option: in the slash command, or in the form (modal) the command opens,
/// since long free text does not fit a slash option comfortably. The console asks everything on
/// the typed line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Slash,
    Form,
}

/// What an option's value may be at most, given to Discord (which refuses more before the
/// academy sees it) and, for numbers, checked here as typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    None,
    /// The longest text, in characters.
    Chars(usize),
    /// The smallest and largest number.
    Range(u32, u32),
}

/// The longest search text a slash option takes; the engine folds it to words anyway.
const SEARCH_TEXT: usize = 200;

#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub name: &'static str,
    pub nl: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Message key of what the option asks: Discord's description of a slash option, or the
    /// label of a form's field.
    pub help: &'static str,
    pub group: Group,
    pub limit: Limit,
}

impl Opt {
    pub fn local_name(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Nl => self.nl,
            Lang::En => self.name,
        }
    }

    /// Asked in the form the command opens.
    const fn form(mut self) -> Opt {
        self.group = Group::Form;
        self
    }

    /// Must be given.
    const fn req(mut self) -> Opt {
        self.required = true;
        self
    }

    const fn max(mut self, chars: usize) -> Opt {
        self.limit = Limit::Chars(chars);
        self
    }

    const fn range(mut self, min: u32, max: u32) -> Opt {
        self.limit = Limit::Range(min, max);
        self
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

/// Every command, in the order of [`SPECS`] (a test holds the two together), so
/// [`spec`] is an index and every `match` on a command must name them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmd {
    Help,
    Questions,
    Perspectives,
    Orders,
    Collaboration,
    Layer,
    DoingPlace,
    DoingShow,
    Health,
    Vote,
    Reminders,
    RoundStatus,
    AnswerSubmit,
    AnswerEdit,
    AnswerWithdraw,
    AnswerShow,
    LessonShare,
    LessonEdit,
    LessonShow,
    LessonSearch,
    LessonApplied,
    LessonMine,
    DigestList,
    DigestShow,
    MyDataExport,
    MyDataDelete,
    Setup,
    RoundStart,
    RoundReveal,
    RoundClose,
    ReviewQueue,
    ReviewApprove,
    ReviewEdit,
    ReviewReject,
    ReviewFeature,
    DigestCompose,
    DigestPublish,
    DoingAsk,
    Cadence,
    Audit,
    LearningOthers,
    QuestionAsk,
    QuestionAnswer,
    QuestionShow,
    QuestionList,
    QuestionHelped,
    QuestionConsent,
    MeetingAgenda,
    MeetingJoin,
    Exchange,
    DigestTake,
    QuestionLesson,
    MeetingPlan,
    MeetingLessons,
}

#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub cmd: Cmd,
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
    /// The English words, as Discord sends them: `moderator review edit`.
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

    /// The option with this (English) name.
    pub fn option(&self, name: &str) -> Option<&'static Opt> {
        self.options.iter().find(|o| o.name == name)
    }

    /// Whether Discord opens a form for this command.
    pub fn has_form(&self) -> bool {
        self.options.iter().any(|o| o.group == Group::Form)
    }

    /// The options a slash command carries, required ones first as Discord demands.
    pub fn slash_options(&self) -> Vec<&'static Opt> {
        let mut out: Vec<&'static Opt> = self
            .options
            .iter()
            .filter(|o| o.group == Group::Slash)
            .collect();
        out.sort_by_key(|o| !o.required);
        out
    }

    /// The fields of the form it opens, in the table's order.
    pub fn form_fields(&self) -> impl Iterator<Item = &'static Opt> {
        self.options.iter().filter(|o| o.group == Group::Form)
    }
}

const fn opt(
    name: &'static str,
    nl: &'static str,
    kind: Kind,
    required: bool,
    help: &'static str,
) -> Opt {
    Opt {
        name,
        nl,
        kind,
        required,
        help,
        group: Group::Slash,
        limit: Limit::None,
    }
}

const ID: Opt = opt("id", "id", Kind::LessonId, true, k::OPTION_ID);
const DIGEST_ID: Opt = opt("id", "id", Kind::DigestId, true, k::OPTION_DIGEST_ID);
const QUESTION_ID: Opt = opt("id", "id", Kind::QuestionId, true, k::QUESTION_OPTION_ID);
const MEETING_ID: Opt = opt("id", "id", Kind::MeetingId, true, k::MEETING_OPTION_ID);
const PAGE: Opt = opt("page", "pagina", Kind::Page, false, k::OPTION_PAGE).range(1, 10_000);
const STEP: Opt = opt("step", "stap", Kind::Step, false, k::OPTION_STEP);
const ORDER: Opt = opt("order", "orde", Kind::Order, false, k::OPTION_ORDER);
const STEPS: Opt = opt("steps", "stappen", Kind::Steps, false, k::OPTION_STEPS);
const PERSPECTIVE: Opt = opt(
    "perspective",
    "perspectief",
    Kind::Perspective,
    false,
    k::OPTION_PERSPECTIVE,
);
const AS: Opt = opt("as", "als", Kind::Attribution, false, k::OPTION_AS);
/// `/help lesson share`: the command whose help is asked, in either language.
const COMMAND: Opt = opt("command", "opdracht", Kind::Line, false, k::OPTION_COMMAND).max(60);
const FROM: Opt = opt("from", "van", Kind::Date, false, k::OPTION_FROM);
const TO: Opt = opt("to", "tot", Kind::Date, false, k::OPTION_TO);
/// A lesson's texts and tags, asked in its form.
const TITLE_FIELD: Opt = opt("title", "titel", Kind::Line, false, k::FIELD_TITLE)
    .form()
    .max(limits::TITLE);
const HAPPENED_FIELD: Opt = opt("happened", "gebeurd", Kind::Text, false, k::FIELD_HAPPENED)
    .form()
    .max(limits::LESSON_FIELD);
const LESSON_FIELD: Opt = opt("lesson", "les", Kind::Text, false, k::FIELD_LESSON)
    .form()
    .max(limits::LESSON_FIELD);
/// Room for every tag at its longest, with a comma and a space after each.
const TAGS_FIELD: Opt = opt("tags", "tags", Kind::Tags, false, k::FIELD_TAGS)
    .form()
    .max((limits::TAG + 2) * limits::TAGS);
/// Editing a lesson; `as`, last, is for its author only.
const LESSON_EDIT: &[Opt] = &[
    ID,
    TITLE_FIELD,
    HAPPENED_FIELD,
    LESSON_FIELD,
    ORDER,
    STEPS,
    PERSPECTIVE,
    TAGS_FIELD,
    AS,
];
/// A moderator edits everything but how the author is named.
const REVIEW_EDIT: &[Opt] = LESSON_EDIT.split_at(LESSON_EDIT.len() - 1).0;

use Audience::{Members as M, Moderators as X};
use Place::{Anywhere as ANY, Channel as CH};

/// Every command the academy offers: the members' first, then the moderators'.
pub const SPECS: &[Spec] = &[
    Spec {
        cmd: Cmd::Help,
        path: &[("help", "hulp")],
        options: &[COMMAND],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_HELP,
    },
    Spec {
        cmd: Cmd::Questions,
        path: &[("questions", "vragen")],
        options: &[STEP.req()],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_QUESTIONS,
    },
    Spec {
        cmd: Cmd::Perspectives,
        path: &[("perspectives", "perspectieven")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_PERSPECTIVES,
    },
    Spec {
        cmd: Cmd::Orders,
        path: &[("orders", "ordes")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_ORDERS,
    },
    Spec {
        cmd: Cmd::Collaboration,
        path: &[("collaboration", "samenwerking")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_COLLABORATION,
    },
    Spec {
        cmd: Cmd::Layer,
        path: &[("layer", "bestuurslaag")],
        options: &[opt("layer", "laag", Kind::Layer, true, k::OPTION_LAYER)],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LAYER,
    },
    Spec {
        cmd: Cmd::DoingPlace,
        path: &[("doing", "doenleren"), ("place", "plaatsen")],
        options: &[
            opt("yield", "opbrengst", Kind::Amount, true, k::OPTION_YIELD),
            opt("lessons", "lessen", Kind::Amount, true, k::OPTION_LESSONS),
        ],
        audience: M,
        place: CH,
        help: k::HELP_CMD_DOING_PLACE,
    },
    Spec {
        cmd: Cmd::DoingShow,
        path: &[("doing", "doenleren"), ("show", "tonen")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_DOING_SHOW,
    },
    Spec {
        cmd: Cmd::Health,
        path: &[("health", "gezondheid")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_HEALTH,
    },
    Spec {
        cmd: Cmd::Vote,
        path: &[("vote", "stem")],
        options: &[PERSPECTIVE.req()],
        audience: M,
        place: CH,
        help: k::HELP_CMD_VOTE,
    },
    Spec {
        cmd: Cmd::Reminders,
        path: &[("reminders", "herinneringen")],
        options: &[opt("via", "via", Kind::Reminders, true, k::OPTION_VIA)],
        audience: M,
        place: CH,
        help: k::HELP_CMD_REMINDERS,
    },
    Spec {
        cmd: Cmd::RoundStatus,
        path: &[("round", "ronde"), ("status", "status")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ROUND_STATUS,
    },
    Spec {
        cmd: Cmd::AnswerSubmit,
        path: &[("answer", "antwoord"), ("submit", "geven")],
        options: &[opt("text", "tekst", Kind::Text, true, k::FIELD_ANSWER)
            .form()
            .max(limits::ANSWER)],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ANSWER_SUBMIT,
    },
    Spec {
        cmd: Cmd::AnswerEdit,
        path: &[("answer", "antwoord"), ("edit", "wijzigen")],
        options: &[opt("text", "tekst", Kind::Text, true, k::FIELD_ANSWER)
            .form()
            .max(limits::ANSWER)],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ANSWER_EDIT,
    },
    Spec {
        cmd: Cmd::AnswerWithdraw,
        path: &[("answer", "antwoord"), ("withdraw", "intrekken")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ANSWER_WITHDRAW,
    },
    Spec {
        cmd: Cmd::AnswerShow,
        path: &[("answer", "antwoord"), ("show", "bekijken")],
        options: &[],
        audience: M,
        place: CH,
        help: k::HELP_CMD_ANSWER_SHOW,
    },
    Spec {
        cmd: Cmd::LessonShare,
        path: &[("lesson", "les"), ("share", "delen")],
        options: &[
            TITLE_FIELD.req(),
            HAPPENED_FIELD.req(),
            LESSON_FIELD.req(),
            ORDER.req(),
            STEPS,
            PERSPECTIVE,
            TAGS_FIELD,
            AS,
        ],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_SHARE,
    },
    Spec {
        cmd: Cmd::LessonEdit,
        path: &[("lesson", "les"), ("edit", "bewerken")],
        options: LESSON_EDIT,
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_EDIT,
    },
    Spec {
        cmd: Cmd::LessonShow,
        path: &[("lesson", "les"), ("show", "tonen")],
        options: &[ID],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_SHOW,
    },
    Spec {
        cmd: Cmd::LessonSearch,
        path: &[("lesson", "les"), ("search", "zoeken")],
        options: &[
            opt("text", "tekst", Kind::Line, false, k::OPTION_TEXT).max(SEARCH_TEXT),
            ORDER,
            STEP,
            PERSPECTIVE,
            opt("tag", "tag", Kind::Line, false, k::OPTION_TAG).max(limits::TAG),
            opt("here", "hier", Kind::Yes, false, k::OPTION_HERE),
            FROM,
            TO,
            PAGE,
        ],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_SEARCH,
    },
    Spec {
        cmd: Cmd::LessonApplied,
        path: &[("lesson", "les"), ("applied", "toegepast")],
        options: &[
            ID,
            opt("note", "notitie", Kind::Text, false, k::FIELD_NOTE)
                .form()
                .max(limits::REASON),
        ],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_APPLIED,
    },
    Spec {
        cmd: Cmd::LessonMine,
        path: &[("lesson", "les"), ("mine", "mijn")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_LESSON_MINE,
    },
    Spec {
        cmd: Cmd::DigestList,
        path: &[("digest", "digest"), ("list", "overzicht")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_DIGEST_LIST,
    },
    Spec {
        cmd: Cmd::DigestShow,
        path: &[("digest", "digest"), ("show", "tonen")],
        options: &[DIGEST_ID],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_DIGEST_SHOW,
    },
    Spec {
        cmd: Cmd::MyDataExport,
        path: &[("mydata", "mijngegevens"), ("export", "exporteren")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_MYDATA_EXPORT,
    },
    Spec {
        cmd: Cmd::MyDataDelete,
        path: &[("mydata", "mijngegevens"), ("delete", "verwijderen")],
        options: &[opt(
            "confirm",
            "bevestig",
            Kind::Yes,
            false,
            k::OPTION_CONFIRM,
        )],
        audience: M,
        place: ANY,
        help: k::HELP_CMD_MYDATA_DELETE,
    },
    Spec {
        cmd: Cmd::Setup,
        path: &[("setup", "instellen")],
        options: &[
            opt("task", "opgave", Kind::Line, true, k::OPTION_TASK).max(limits::TASK),
            opt("region", "regio", Kind::Line, true, k::OPTION_REGION).max(limits::REGION),
            opt("layers", "lagen", Kind::Layers, true, k::OPTION_LAYERS),
            opt("language", "taal", Kind::Lang, false, k::OPTION_LANGUAGE),
            opt(
                "time_zone",
                "tijdzone",
                Kind::Zone,
                false,
                k::OPTION_TIME_ZONE,
            ),
        ],
        audience: X,
        place: CH,
        help: k::HELP_CMD_SETUP,
    },
    Spec {
        cmd: Cmd::RoundStart,
        path: &[MODERATOR, ("round", "ronde"), ("start", "start")],
        options: &[
            STEP.req(),
            opt(
                "deadline",
                "deadline",
                Kind::Deadline,
                false,
                k::OPTION_DEADLINE,
            ),
        ],
        audience: X,
        place: CH,
        help: k::HELP_CMD_ROUND_START,
    },
    Spec {
        cmd: Cmd::RoundReveal,
        path: &[MODERATOR, ("round", "ronde"), ("reveal", "onthullen")],
        options: &[],
        audience: X,
        place: CH,
        help: k::HELP_CMD_ROUND_REVEAL,
    },
    Spec {
        cmd: Cmd::RoundClose,
        path: &[MODERATOR, ("round", "ronde"), ("close", "sluiten")],
        options: &[],
        audience: X,
        place: CH,
        help: k::HELP_CMD_ROUND_CLOSE,
    },
    Spec {
        cmd: Cmd::ReviewQueue,
        path: &[MODERATOR, ("review", "beoordeling"), ("queue", "wachtrij")],
        options: &[PAGE],
        audience: X,
        place: CH,
        help: k::HELP_CMD_REVIEW_QUEUE,
    },
    Spec {
        cmd: Cmd::ReviewApprove,
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
        cmd: Cmd::ReviewEdit,
        path: &[MODERATOR, ("review", "beoordeling"), ("edit", "bewerken")],
        options: REVIEW_EDIT,
        audience: X,
        place: CH,
        help: k::HELP_CMD_REVIEW_EDIT,
    },
    Spec {
        cmd: Cmd::ReviewReject,
        path: &[MODERATOR, ("review", "beoordeling"), ("reject", "afwijzen")],
        options: &[
            ID,
            opt("reason", "reden", Kind::Text, true, k::FIELD_REASON)
                .form()
                .max(limits::REASON),
        ],
        audience: X,
        place: CH,
        help: k::HELP_CMD_REVIEW_REJECT,
    },
    Spec {
        cmd: Cmd::ReviewFeature,
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
        cmd: Cmd::DigestCompose,
        path: &[MODERATOR, ("digest", "digest"), ("compose", "samenstellen")],
        options: &[
            opt("title", "titel", Kind::Line, false, k::OPTION_TITLE).max(limits::TITLE),
            FROM,
            TO,
            ORDER,
            STEP,
            opt(
                "republish",
                "opnieuw",
                Kind::Yes,
                false,
                k::OPTION_REPUBLISH,
            ),
            opt(
                "library",
                "bibliotheek",
                Kind::Yes,
                false,
                k::OPTION_LIBRARY,
            ),
        ],
        audience: X,
        place: CH,
        help: k::HELP_CMD_DIGEST_COMPOSE,
    },
    Spec {
        cmd: Cmd::DigestPublish,
        path: &[MODERATOR, ("digest", "digest"), ("publish", "publiceren")],
        options: &[DIGEST_ID],
        audience: X,
        place: CH,
        help: k::HELP_CMD_DIGEST_PUBLISH,
    },
    Spec {
        cmd: Cmd::DoingAsk,
        path: &[MODERATOR, ("doing", "doenleren"), ("ask", "vragen")],
        options: &[],
        audience: X,
        place: CH,
        help: k::HELP_CMD_DOING_ASK,
    },
    Spec {
        cmd: Cmd::Cadence,
        path: &[MODERATOR, ("cadence", "ritme")],
        options: &[
            STEP,
            opt("weeks", "weken", Kind::Weeks, false, k::OPTION_WEEKS)
                .range(*limits::WEEKS.start(), *limits::WEEKS.end()),
            opt("pause", "pauze", Kind::Yes, false, k::OPTION_PAUSE),
        ],
        audience: X,
        place: CH,
        help: k::HELP_CMD_CADENCE,
    },
    Spec {
        cmd: Cmd::Audit,
        path: &[MODERATOR, ("audit", "logboek")],
        options: &[PAGE],
        audience: X,
        place: CH,
        help: k::HELP_CMD_AUDIT,
    },
    // Learning across collaborations: the academy is one academy.
    Spec {
        cmd: Cmd::LearningOthers,
        path: &[("learning", "leren"), ("others", "bij-anderen")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::STEP5_HELP,
    },
    Spec {
        cmd: Cmd::QuestionAsk,
        path: &[("question", "vraag"), ("ask", "stellen")],
        options: &[
            opt("text", "tekst", Kind::Text, true, k::FIELD_QUESTION)
                .form()
                .max(limits::QUESTION),
            AS,
        ],
        audience: M,
        place: CH,
        help: k::QUESTION_HELP_ASK,
    },
    Spec {
        cmd: Cmd::QuestionAnswer,
        path: &[("question", "vraag"), ("answer", "beantwoorden")],
        options: &[
            QUESTION_ID,
            opt("text", "tekst", Kind::Text, true, k::FIELD_ANSWER)
                .form()
                .max(limits::QUESTION),
            AS,
        ],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_ANSWER,
    },
    Spec {
        cmd: Cmd::QuestionShow,
        path: &[("question", "vraag"), ("show", "tonen")],
        options: &[QUESTION_ID],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_SHOW,
    },
    Spec {
        cmd: Cmd::QuestionList,
        path: &[("question", "vraag"), ("list", "overzicht")],
        options: &[],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_LIST,
    },
    Spec {
        cmd: Cmd::QuestionHelped,
        path: &[("question", "vraag"), ("helped", "geholpen")],
        options: &[
            QUESTION_ID,
            opt(
                "answer",
                "antwoord",
                Kind::Number,
                true,
                k::QUESTION_OPTION_ANSWER,
            )
            .range(1, 1000),
        ],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_HELPED,
    },
    Spec {
        cmd: Cmd::QuestionConsent,
        path: &[("question", "vraag"), ("consent", "toestemming")],
        options: &[
            QUESTION_ID,
            opt(
                "agree",
                "akkoord",
                Kind::Yes,
                true,
                k::QUESTION_OPTION_AGREE,
            ),
        ],
        audience: M,
        place: ANY,
        help: k::QUESTION_HELP_CONSENT,
    },
    Spec {
        cmd: Cmd::MeetingAgenda,
        path: &[("meeting", "bijeenkomst"), ("agenda", "agenda")],
        options: &[opt(
            "id",
            "id",
            Kind::MeetingId,
            false,
            k::MEETING_OPTION_ID,
        )],
        audience: M,
        place: CH,
        help: k::MEETING_HELP_AGENDA,
    },
    Spec {
        cmd: Cmd::MeetingJoin,
        path: &[("meeting", "bijeenkomst"), ("join", "aanmelden")],
        options: &[MEETING_ID],
        audience: M,
        place: CH,
        help: k::MEETING_HELP_JOIN,
    },
    Spec {
        cmd: Cmd::Exchange,
        path: &[MODERATOR, ("exchange", "uitwisseling")],
        options: &[
            opt(
                "lessons",
                "lessen",
                Kind::Yes,
                false,
                k::SHARED_OPTION_LESSONS,
            ),
            opt("name", "naam", Kind::Yes, false, k::SHARED_OPTION_NAME),
            opt("step5", "stap5", Kind::Yes, false, k::SHARED_OPTION_STEP5),
            opt(
                "questions",
                "vragen",
                Kind::Yes,
                false,
                k::SHARED_OPTION_QUESTIONS,
            ),
            opt(
                "servers",
                "servers",
                Kind::Yes,
                false,
                k::SHARED_OPTION_SERVERS,
            ),
        ],
        audience: X,
        place: CH,
        help: k::SHARED_HELP,
    },
    Spec {
        cmd: Cmd::DigestTake,
        path: &[MODERATOR, ("digest", "digest"), ("take", "overnemen")],
        options: &[ID],
        audience: X,
        place: CH,
        help: k::SHARED_HELP_TAKE,
    },
    Spec {
        cmd: Cmd::QuestionLesson,
        path: &[MODERATOR, ("question", "vraag"), ("lesson", "les")],
        options: &[
            QUESTION_ID,
            opt("title", "titel", Kind::Line, true, k::QUESTION_OPTION_TITLE).max(limits::TITLE),
            ORDER.req(),
            STEPS,
        ],
        audience: X,
        place: CH,
        help: k::QUESTION_HELP_LESSON,
    },
    Spec {
        cmd: Cmd::MeetingPlan,
        path: &[MODERATOR, ("meeting", "bijeenkomst"), ("plan", "plannen")],
        options: &[
            opt("when", "wanneer", Kind::When, true, k::MEETING_OPTION_WHEN),
            opt(
                "address",
                "adres",
                Kind::Line,
                false,
                k::MEETING_OPTION_ADDRESS,
            ),
            opt(
                "channel",
                "kanaal",
                Kind::Channel,
                false,
                k::MEETING_OPTION_CHANNEL,
            ),
            opt(
                "minutes",
                "minuten",
                Kind::Number,
                false,
                k::MEETING_OPTION_MINUTES,
            )
            .range(1, 1000),
            opt("name", "naam", Kind::Line, false, k::MEETING_OPTION_TITLE),
        ],
        audience: X,
        place: CH,
        help: k::MEETING_HELP_PLAN,
    },
    Spec {
        cmd: Cmd::MeetingLessons,
        path: &[MODERATOR, ("meeting", "bijeenkomst"), ("lessons", "lessen")],
        options: &[MEETING_ID],
        audience: X,
        place: CH,
        help: k::MEETING_HELP_LESSONS,
    },
];

/// Message keys of what the words that group commands stand for (`/les …`,
/// `/moderator beoordeling …`), as Discord describes them.
const GROUPS: &[(&str, &str)] = &[
    ("round", k::GROUP_ROUND),
    ("answer", k::GROUP_ANSWER),
    ("lesson", k::GROUP_LESSON),
    ("review", k::GROUP_REVIEW),
    ("digest", k::GROUP_DIGEST),
    ("doing", k::GROUP_DOING),
    ("moderator", k::GROUP_MODERATOR),
    ("question", k::QUESTION_GROUP),
    ("meeting", k::MEETING_GROUP),
    ("learning", k::STEP5_GROUP),
    ("mydata", k::GROUP_MYDATA),
];

/// The message key describing a group word (English); every group of the table has one.
pub fn group_help(word: &str) -> &'static str {
    GROUPS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, key)| *key)
        .unwrap_or_else(|| panic!("the command group {word} has no description"))
}

/// The command's entry in the table.
pub fn spec(cmd: Cmd) -> &'static Spec {
    &SPECS[cmd as usize]
}

/// A value written as a user types it, in their language.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// Still to be filled in: shown as `…`.
    Blank,
    Text(&'a str),
    Number(u64),
    Yes(bool),
    Amount(bool),
    Order(Order),
    Perspective(Perspective),
}

impl Arg<'_> {
    fn typed(self, lang: Lang) -> String {
        let nl = lang == Lang::Nl;
        match self {
            Arg::Blank => "…".to_owned(),
            Arg::Text("") => "…".to_owned(),
            Arg::Text(t) => t.to_owned(),
            Arg::Number(n) => n.to_string(),
            Arg::Yes(yes) => word(if yes { YES } else { NO }, lang).to_owned(),
            Arg::Amount(much) => word(if much { MUCH } else { LITTLE }, lang).to_owned(),
            Arg::Order(o) if nl => ORDER_NL[o.byte() as usize].to_owned(),
            Arg::Perspective(p) if nl => PERSPECTIVE_NL[p.byte() as usize].to_owned(),
            Arg::Order(o) => o.key().to_owned(),
            Arg::Perspective(p) => p.key().to_owned(),
        }
    }
}

/// How a user types a command with some of its options filled in, in their language:
/// `invocation(Cmd::ReviewApprove, Lang::Nl, &[("id", Arg::Text("L3"))])` is
/// `/moderator beoordeling goedkeuren id:L3`.
pub fn invocation(cmd: Cmd, lang: Lang, options: &[(&str, Arg)]) -> String {
    let spec = spec(cmd);
    let mut out = format!("/{}", spec.local_path(lang));
    for (name, value) in options {
        let o = spec
            .option(name)
            .unwrap_or_else(|| panic!("command {} has no option {name}", spec.id()));
        out.push_str(&format!(" {}:{}", o.local_name(lang), value.typed(lang)));
    }
    out
}

/// The commands help lists in `lang`: usage and description key, members' and moderators'.
pub fn help(lang: Lang) -> Vec<HelpLine> {
    SPECS.iter().map(|s| help_line(s, lang)).collect()
}

/// A command's line in the help: how it is typed in `lang`, and what it does.
fn help_line(s: &Spec, lang: Lang) -> HelpLine {
    HelpLine {
        usage: s.usage(lang),
        help: s.help,
        moderators: s.audience == Audience::Moderators,
    }
}

/// Whether `w` is a command word, in either language.
fn names((en, nl): &(&str, &str), w: &str) -> bool {
    w.eq_ignore_ascii_case(en) || w.eq_ignore_ascii_case(nl)
}

/// The help of the commands whose words start with those of `asked` (`les`, `/les delen`,
/// in either language), up to its first option and as far as they name a command; what was
/// typed when not even its first word does.
fn help_for(asked: &str, lang: Lang) -> Result<Request, String> {
    let words: Vec<&str> = asked
        .split_whitespace()
        .map(|w| w.trim_start_matches('/'))
        .take_while(|w| !w.contains(':'))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Ok(Request::Help(help(lang)));
    }
    let starting = |words: &[&str]| -> Vec<&'static Spec> {
        SPECS
            .iter()
            .filter(|s| {
                words.len() <= s.path.len() && s.path.iter().zip(words).all(|(p, w)| names(p, w))
            })
            .collect()
    };
    // The most words that still start a command: `/hulp les delen en meer` is `/les delen`.
    let longest = |words: &[&str]| {
        (1..=words.len())
            .rev()
            .map(|n| (n, starting(&words[..n])))
            .find(|(_, found)| !found.is_empty())
    };
    fn moderator<'a>(words: &[&'a str]) -> Vec<&'a str> {
        std::iter::once(MODERATOR.0)
            .chain(words.iter().copied())
            .collect()
    }
    // A moderators' command asked without `moderator` (`/hulp beoordeling`) is found under it;
    // more than `moderator` itself must match, so `/hulp xyz` is still refused.
    let (words, found) = match longest(&words) {
        Some((n, found)) => (words[..n].to_vec(), found),
        None => {
            let under = moderator(&words);
            match longest(&under) {
                Some((n, found)) if n > 1 => (under[..n].to_vec(), found),
                _ => return Err(words.join(" ")),
            }
        }
    };
    let first = found[0];
    let lines = found.iter().map(|s| help_line(s, lang)).collect();
    // What moderators do with the same thing: `/hulp ronde` is also `/moderator ronde …`.
    let related = if names(&MODERATOR, words[0]) {
        Vec::new()
    } else {
        starting(&moderator(&words))
            .iter()
            .map(|s| help_line(s, lang))
            .collect()
    };
    // Named as the user's language names it: `/hulp lesson` gets "Hulp: /les".
    let named: Vec<&str> = first
        .path
        .iter()
        .take(words.len())
        .map(|&(en, nl)| word((nl, en), lang))
        .collect();
    Ok(Request::HelpFor {
        asked: named.join(" "),
        commands: lines,
        related,
    })
}

/// Finds a command by its words, in either language; returns it and how many words it used.
pub fn find_spec(words: &[&str]) -> Option<(&'static Spec, usize)> {
    SPECS
        .iter()
        .filter(|s| {
            s.path.len() <= words.len() && s.path.iter().zip(words).all(|(p, w)| names(p, w))
        })
        .max_by_key(|s| s.path.len())
        .map(|s| (s, s.path.len()))
}

/// The one command whose first word holds `typed` or is held in it (`/laag` for
/// `/bestuurslaag laag:…`, `/lessen` for `/les …`), in `lang`, with its options when it is a
/// whole command; none when no command or several are that close.
fn close_command(typed: &str, lang: Lang) -> Option<String> {
    let typed = typed.to_lowercase();
    if typed.chars().count() < 3 {
        return None;
    }
    let close = |w: &str| w.contains(typed.as_str()) || typed.contains(w);
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for s in SPECS {
        let first = s.path[0];
        if (close(first.0) || close(first.1)) && !groups.contains(&first) {
            groups.push(first);
        }
    }
    let [(en, nl)] = groups.as_slice() else {
        return None;
    };
    Some(match find_spec(&[en]) {
        Some((spec, 1)) => spec.usage(lang),
        _ => format!("/{} …", word((nl, en), lang)),
    })
}

/// The longest run of leading `words` that starts some command's path but is no whole command,
/// written in `lang`, with the words that may follow it there (in table order, each once).
fn known_group(words: &[&str], lang: Lang) -> Option<(String, String)> {
    (1..=words.len()).rev().find_map(|n| {
        let mut parts: Vec<&str> = Vec::new();
        let mut known = None;
        for s in SPECS.iter().filter(|s| {
            s.path.len() > n && s.path.iter().zip(&words[..n]).all(|(p, w)| names(p, w))
        }) {
            known.get_or_insert_with(|| {
                s.path[..n]
                    .iter()
                    .map(|&(en, nl)| word((nl, en), lang))
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            let next = word((s.path[n].1, s.path[n].0), lang);
            if !parts.contains(&next) {
                parts.push(next);
            }
        }
        Some((known?, parts.join(", ")))
    })
}

/// One option's value: as typed (the console, a form), or as Discord sends a typed option.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Number(i64),
    Yes(bool),
    Channel(ChannelId),
}

impl Value {
    fn is_blank(&self) -> bool {
        matches!(self, Value::Text(t) if t.trim().is_empty())
    }

    /// As a refusal quotes it.
    fn shown(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Number(n) => n.to_string(),
            Value::Yes(b) => b.to_string(),
            Value::Channel(c) => c.0.to_string(),
        }
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_owned())
    }
}

/// Option values of one invocation, by English option name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Values(BTreeMap<&'static str, Value>);

impl Values {
    pub fn new() -> Values {
        Values::default()
    }

    pub fn insert(&mut self, name: &'static str, value: impl Into<Value>) {
        self.0.insert(name, value.into());
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// A value given as text.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// Every value given as text, to be changed in place.
    pub fn texts_mut(&mut self) -> impl Iterator<Item = &mut String> {
        self.0.values_mut().filter_map(|v| match v {
            Value::Text(t) => Some(t),
            _ => None,
        })
    }
}

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
    let named = find_spec(&words);
    let answer_itself = named.is_none();
    let found = named.or_else(|| {
        // `/answer some text` is the answer itself.
        let group = words.first()?;
        if group.eq_ignore_ascii_case("answer") || group.eq_ignore_ascii_case("antwoord") {
            Some((spec(Cmd::AnswerSubmit), 1))
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
        // A known group with an unknown or missing part: name the parts it has.
        if let Some((known, parts)) = known_group(&words, lang) {
            return Err(refuse(
                k::ERROR_UNKNOWN_PART,
                json!({
                    "known": known,
                    "word": words.get(known.split(' ').count()).map(|w| crate::engine::shorten(w, 40)),
                    "parts": parts,
                }),
            ));
        }
        let typed = words.first().copied().unwrap_or("");
        return Err(refuse(
            k::ERROR_UNKNOWN_COMMAND,
            json!({
                "command": crate::engine::shorten(typed, 40),
                "suggestion": close_command(typed, lang),
            }),
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
    // A value that cannot hold free text and holds a `word:` was given an option the command
    // does not have (`/setup … layers: rijk lang:en`): say so, not that the value is wrong.
    for (i, (_, end, o)) in markers.iter().enumerate() {
        if matches!(o.kind, Kind::Text | Kind::Line | Kind::Tags) {
            continue;
        }
        let stop = markers.get(i + 1).map(|m| m.0).unwrap_or(rest.len());
        let stray = rest[*end..stop].split_whitespace().find_map(|w| {
            let name = w
                .strip_suffix(':')
                .or_else(|| w.split_once(':').map(|(n, _)| n))?;
            (!name.is_empty() && name.chars().all(|c| c.is_alphabetic() || c == '_'))
                .then_some(name)
        });
        if let Some(word) = stray {
            return Err(refuse(
                k::ERROR_UNKNOWN_OPTION,
                json!({
                    "command": spec.local_path(lang),
                    "word": crate::engine::shorten(word, 40),
                    "suggestion": close_option(spec, word, lang),
                    "usage": spec.usage(lang),
                }),
            ));
        }
    }
    let mut values = Values::new();
    let lead = rest[..markers.first().map(|m| m.0).unwrap_or(rest.len())].trim();
    // A lone word after `/answer`, or `tonen` (how every other group shows), is a part it
    // lacks (`/antwoord tonen R1`), not an answer saved over the one given before;
    // `/antwoord Ruimte.` is an answer.
    let guessed_part = answer_itself && {
        let first = lead.split_whitespace().next().unwrap_or_default();
        lead.chars().all(char::is_alphabetic)
            || first.eq_ignore_ascii_case("tonen")
            || first.eq_ignore_ascii_case("toon")
    };
    if !lead.is_empty() {
        match spec
            .options
            .iter()
            .find(|o| {
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
            })
            // `/les zoeken water`: the words of a search, whose text may be left out;
            // `/hulp les delen`: the command whose help is asked.
            .or_else(|| {
                spec.options
                    .iter()
                    .find(|o| o.name == "text" || o.name == "command")
            }) {
            Some(o) if !guessed_part && !markers.iter().any(|(_, _, m)| m.name == o.name) => {
                values.insert(o.name, unquote(lead));
            }
            // `/answer give text:…`: a part /answer does not have, not an answer.
            _ if answer_itself => {
                if let Some((known, parts)) = known_group(&words, lang) {
                    // Said as a whole command it can be given, when it was meant as the answer.
                    let answer = (markers.is_empty() && lead.chars().count() <= 40).then_some(lead);
                    return Err(refuse(
                        k::ERROR_UNKNOWN_PART,
                        json!({
                            "known": known,
                            "word": words.get(1).map(|w| crate::engine::shorten(w, 40)),
                            "parts": parts,
                            "answer": answer,
                        }),
                    ));
                }
                return Err(refuse(
                    k::ERROR_STRAY_TEXT,
                    json!({"text": crate::engine::shorten(lead, 40), "usage": spec.usage(lang)}),
                ));
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

/// The option of `spec` a mistyped option name most likely meant, in `lang`: one whose name
/// (in either language) begins with it, or it with the name (`lang` for `language`).
fn close_option(spec: &Spec, typed: &str, lang: Lang) -> Option<String> {
    let typed = typed.to_lowercase();
    if typed.chars().count() < 3 {
        return None;
    }
    spec.options
        .iter()
        .find(|o| {
            [o.name, o.nl]
                .iter()
                .any(|n| n.starts_with(&typed) || typed.starts_with(n))
        })
        .map(|o| o.local_name(lang).to_owned())
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

/// Tags as typed in one field: separated by commas or semicolons, blanks left out.
pub fn split_tags(typed: &str) -> Vec<String> {
    typed
        .split([',', ';'])
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The values of one invocation, read by the kind the table gives each option, with localized
/// refusals for bad input.
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
            .option(name)
            .unwrap_or_else(|| panic!("command {} has no option {name}", self.spec.id()))
    }

    fn bad(&self, name: &str, value: &str) -> Refusal {
        let o = self.opt(name);
        let (min, max) = match o.limit {
            Limit::Range(min, max) => (min, max),
            _ => (0, 0),
        };
        let expected = self.text.render(
            self.lang,
            expect_key(o.kind),
            &json!({"min": min, "max": max}),
        );
        self.refuse(
            k::ERROR_BAD_OPTION,
            json!({"option": o.local_name(self.lang), "value": value.chars().take(60).collect::<String>(), "expected": expected}),
        )
    }

    fn missing(&self, name: &str) -> Refusal {
        self.refuse(
            k::ERROR_MISSING_OPTION,
            json!({"option": self.opt(name).local_name(self.lang), "usage": self.spec.usage(self.lang)}),
        )
    }

    /// A required option's value; absent, the user is told which option is missing.
    fn must<T>(&self, name: &str, value: Option<T>) -> Result<T, Refusal> {
        value.ok_or_else(|| self.missing(name))
    }

    /// The value, or `None` when absent or blank.
    fn value(&self, name: &str) -> Option<&Value> {
        self.values.get(name).filter(|v| !v.is_blank())
    }

    /// A text value as given (blanks kept: an edit may empty a field).
    fn text(&self, name: &str) -> Option<String> {
        self.values.text(name).map(str::to_owned)
    }

    /// A required text.
    fn must_text(&self, name: &str) -> Result<String, Refusal> {
        self.must(name, self.text(name))
    }

    /// Free text that may be left out: `None` when absent or blank.
    fn line(&self, name: &str) -> Option<String> {
        match self.value(name) {
            Some(Value::Text(t)) => Some(t.clone()),
            _ => None,
        }
    }

    /// A value of a kind users type as a word: read from its text.
    fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, Refusal> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Text(v)) => parse(v).map(Some).ok_or_else(|| self.bad(name, v)),
            Some(other) => Err(self.bad(name, &other.shown())),
        }
    }

    /// A whole number within the option's range: as Discord sends it, or as typed.
    fn number(&self, name: &str) -> Result<Option<u32>, Refusal> {
        let (min, max) = match self.opt(name).limit {
            Limit::Range(min, max) => (min, max),
            _ => (0, u32::MAX),
        };
        let fits = |n: i64| u32::try_from(n).ok().filter(|n| (min..=max).contains(n));
        match self.value(name) {
            None => Ok(None),
            Some(Value::Number(n)) => fits(*n)
                .map(Some)
                .ok_or_else(|| self.bad(name, &n.to_string())),
            Some(Value::Text(v)) => v
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(fits)
                .map(Some)
                .ok_or_else(|| self.bad(name, v)),
            Some(other) => Err(self.bad(name, &other.shown())),
        }
    }

    /// Yes or no: as Discord sends a boolean, or as typed.
    fn yes(&self, name: &str) -> Result<Option<bool>, Refusal> {
        match self.value(name) {
            Some(Value::Yes(b)) => Ok(Some(*b)),
            _ => self.parsed(name, parse_yes),
        }
    }

    /// A channel: as Discord resolves it, or its number or mention as typed.
    fn channel(&self, name: &str) -> Result<Option<ChannelId>, Refusal> {
        match self.value(name) {
            Some(Value::Channel(c)) => Ok(Some(*c)),
            _ => self.parsed(name, parse_channel),
        }
    }

    fn list<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<Vec<T>>, Refusal> {
        let Some(v) = self.line(name) else {
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

    fn date(&self, name: &str) -> Result<Option<NaiveDate>, Refusal> {
        self.parsed(name, time::parse_date)
    }

    /// A moment as typed; it is placed in the collaboration's zone by the engine. A weekday
    /// that does not match the date gets its own answer, naming the date's real weekday.
    fn when(&self, name: &str) -> Result<Option<When>, Refusal> {
        let Some(v) = self.line(name) else {
            return Ok(None);
        };
        match time::parse_when(&v) {
            Ok(when) => Ok(Some(when)),
            Err(WhenError::WrongWeekday { date }) => Err(self.refuse(
                k::TIME_WRONG_WEEKDAY,
                json!({
                    "date": time::day(self.lang, date),
                    "weekday": time::weekday_name(self.lang, date),
                }),
            )),
            Err(WhenError::AmbiguousHour { early, late }) => Err(self.refuse(
                k::TIME_AMBIGUOUS_HOUR,
                json!({
                    "typed": crate::engine::shorten(&v, 40),
                    "early": early.format("%H:%M").to_string(),
                    "late": late.format("%H:%M").to_string(),
                }),
            )),
            Err(WhenError::Unreadable) => Err(self.bad(name, &v)),
        }
    }

    fn step(&self, name: &str) -> Result<Option<Step>, Refusal> {
        self.parsed(name, Step::parse_user)
    }

    fn steps(&self, name: &str) -> Result<Option<Vec<Step>>, Refusal> {
        self.list(name, Step::parse_user)
    }

    fn order(&self) -> Result<Option<Order>, Refusal> {
        self.parsed("order", Order::parse_user)
    }

    fn perspective(&self) -> Result<Option<Perspective>, Refusal> {
        self.parsed("perspective", Perspective::parse_user)
    }

    fn attribution(&self) -> Result<Option<Attribution>, Refusal> {
        self.parsed("as", Attribution::parse_user)
    }

    fn tags(&self, name: &str) -> Option<Vec<String>> {
        self.line(name).map(|v| split_tags(&v))
    }

    /// The required `id` of a lesson, digest, question or meeting.
    fn id<T>(&self, parse: impl Fn(&str) -> Option<T>) -> Result<T, Refusal> {
        let id = self.parsed("id", parse)?;
        self.must("id", id)
    }

    /// Pages are typed from 1; requests count from 0.
    fn page(&self) -> Result<usize, Refusal> {
        Ok(self.number("page")?.map_or(0, |p| p as usize - 1))
    }

    fn changes(&self) -> Result<LessonChanges, Refusal> {
        Ok(LessonChanges {
            title: self.text("title"),
            happened: self.text("happened"),
            lesson: self.text("lesson"),
            order: self.order()?,
            steps: self.steps("steps")?,
            perspective: self.perspective()?,
            tags: self.tags("tags"),
            attribution: match self.spec.option("as") {
                Some(_) => self.attribution()?,
                None => None,
            },
        })
    }

    /// Every required option is there, in the table's order, before any value is read: the
    /// first missing one is named.
    fn check_required(&self, group: Option<Group>) -> Result<(), Refusal> {
        for o in self.spec.options.iter().filter(|o| o.required) {
            if group.is_some_and(|g| o.group != g) {
                continue;
            }
            if self.value(o.name).is_none() {
                return Err(self.missing(o.name));
            }
        }
        Ok(())
    }
}

/// How yes and no, much and little are typed, (Dutch, English); more spellings are accepted.
const YES: (&str, &str) = ("ja", "yes");
const NO: (&str, &str) = ("nee", "no");
const MUCH: (&str, &str) = ("veel", "much");
const LITTLE: (&str, &str) = ("weinig", "little");
/// The Dutch word for each order and perspective, in declaration order (English is the key).
const ORDER_NL: [&str; 3] = ["eerste", "tweede", "derde"];
const PERSPECTIVE_NL: [&str; 4] = ["rechtmatig", "presterend", "netwerkend", "participerend"];

fn word((nl, en): (&'static str, &'static str), lang: Lang) -> &'static str {
    match lang {
        Lang::Nl => nl,
        Lang::En => en,
    }
}

/// `veel`/`much`/`many` is true, `weinig`/`little`/`few` false.
fn parse_amount(v: &str) -> Option<bool> {
    let v = v.trim().to_lowercase();
    if [MUCH.0, MUCH.1, "many", "hoog", "high"].contains(&v.as_str()) {
        Some(true)
    } else if [LITTLE.0, LITTLE.1, "few", "laag", "low"].contains(&v.as_str()) {
        Some(false)
    } else {
        None
    }
}

fn parse_yes(v: &str) -> Option<bool> {
    let v = v.trim().to_lowercase();
    if [YES.0, YES.1, "true", "1", "y", "j"].contains(&v.as_str()) {
        Some(true)
    } else if [NO.0, NO.1, "false", "0", "n"].contains(&v.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// What a refusal says a value of this kind should look like.
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
        Kind::Number => k::EXPECT_NUMBER,
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

/// What a command that opens a form says before the form is filled in: its slash options, read
/// and checked, so a form that could only be refused is refused before it opens.
#[derive(Clone, Debug, PartialEq)]
pub enum FormStart {
    Answer {
        edit: bool,
    },
    /// The lesson as the slash command gives it; the form fills in its texts and tags.
    Share(LessonDraft),
    Edit {
        id: LessonId,
        review: bool,
        changes: LessonChanges,
    },
    Applied(LessonId),
    Reject(LessonId),
    Ask(Attribution),
    /// The attribution chosen in the command travels with the form; without it the form asks.
    QuestionAnswer {
        id: QuestionId,
        attribution: Option<Attribution>,
    },
}

/// The slash part of a command with a form, or `None` for a command without one.
pub fn form_start(
    text: &Catalog,
    lang: Lang,
    spec: &'static Spec,
    values: &Values,
) -> Result<Option<FormStart>, Refusal> {
    let r = Reader {
        text,
        lang,
        spec,
        values,
    };
    r.check_required(Some(Group::Slash))?;
    Ok(Some(match spec.cmd {
        Cmd::AnswerSubmit => FormStart::Answer { edit: false },
        Cmd::AnswerEdit => FormStart::Answer { edit: true },
        Cmd::LessonShare => FormStart::Share(LessonDraft {
            title: String::new(),
            happened: String::new(),
            lesson: String::new(),
            order: r.must("order", r.order()?)?,
            steps: r.steps("steps")?.unwrap_or_default(),
            perspective: r.perspective()?,
            tags: Vec::new(),
            attribution: r.attribution()?.unwrap_or(Attribution::Named),
        }),
        Cmd::LessonEdit | Cmd::ReviewEdit => FormStart::Edit {
            id: r.id(LessonId::parse_user)?,
            review: spec.cmd == Cmd::ReviewEdit,
            changes: r.changes()?,
        },
        Cmd::LessonApplied => FormStart::Applied(r.id(LessonId::parse_user)?),
        Cmd::ReviewReject => FormStart::Reject(r.id(LessonId::parse_user)?),
        Cmd::QuestionAsk => FormStart::Ask(r.attribution()?.unwrap_or(Attribution::Named)),
        Cmd::QuestionAnswer => FormStart::QuestionAnswer {
            id: r.id(QuestionId::parse_user)?,
            attribution: r.attribution()?,
        },
        Cmd::Help
        | Cmd::Questions
        | Cmd::Perspectives
        | Cmd::Orders
        | Cmd::Collaboration
        | Cmd::Layer
        | Cmd::DoingPlace
        | Cmd::DoingShow
        | Cmd::Health
        | Cmd::Vote
        | Cmd::Reminders
        | Cmd::RoundStatus
        | Cmd::AnswerWithdraw
        | Cmd::AnswerShow
        | Cmd::LessonShow
        | Cmd::LessonSearch
        | Cmd::LessonMine
        | Cmd::DigestList
        | Cmd::DigestShow
        | Cmd::MyDataExport
        | Cmd::MyDataDelete
        | Cmd::Setup
        | Cmd::RoundStart
        | Cmd::RoundReveal
        | Cmd::RoundClose
        | Cmd::ReviewQueue
        | Cmd::ReviewApprove
        | Cmd::ReviewFeature
        | Cmd::DigestCompose
        | Cmd::DigestPublish
        | Cmd::DoingAsk
        | Cmd::Cadence
        | Cmd::Audit
        | Cmd::LearningOthers
        | Cmd::QuestionShow
        | Cmd::QuestionList
        | Cmd::QuestionHelped
        | Cmd::QuestionConsent
        | Cmd::MeetingAgenda
        | Cmd::MeetingJoin
        | Cmd::Exchange
        | Cmd::DigestTake
        | Cmd::QuestionLesson
        | Cmd::MeetingPlan
        | Cmd::MeetingLessons => return Ok(None),
    }))
}

/// Turns a command and its values into a request, or a localized refusal naming the option that
/// is missing or wrong.
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
    r.check_required(None)?;
    Ok(match spec.cmd {
        Cmd::Help => match r.line("command") {
            None => Request::Help(help(lang)),
            Some(asked) => help_for(&asked, lang).map_err(|typed| {
                r.refuse(
                    k::ERROR_UNKNOWN_COMMAND,
                    json!({
                        "command": crate::engine::shorten(&typed, 40),
                        "suggestion": typed
                            .split_whitespace()
                            .next()
                            .and_then(|w| close_command(w, lang)),
                    }),
                )
            })?,
        },
        Cmd::Questions => Request::Questions {
            step: r.must("step", r.step("step")?)?,
        },
        Cmd::Perspectives => Request::Perspectives,
        Cmd::Orders => Request::Orders,
        Cmd::Collaboration => Request::ShowCollaboration,
        Cmd::Cadence => Request::Cadence {
            step: r.step("step")?,
            every_weeks: r.number("weeks")?,
            paused: r.yes("pause")?,
        },
        Cmd::Health => Request::Health,
        Cmd::Audit => Request::AuditLog { page: r.page()? },
        Cmd::DoingPlace => Request::Place {
            much_yield: r.must("yield", r.parsed("yield", parse_amount)?)?,
            many_lessons: r.must("lessons", r.parsed("lessons", parse_amount)?)?,
        },
        Cmd::DoingShow => Request::DoingLearning,
        Cmd::DoingAsk => Request::AskDoingLearning,
        Cmd::Vote => Request::Vote {
            round: None,
            perspective: r.must("perspective", r.perspective()?)?,
        },
        Cmd::LessonApplied => Request::LessonApplied {
            id: r.id(LessonId::parse_user)?,
            note: r.text("note").unwrap_or_default(),
        },
        Cmd::Reminders => Request::Reminders {
            how: r.must("via", r.parsed("via", Reminders::parse_user)?)?,
        },
        Cmd::Layer => Request::SetLayer {
            layer: r.must("layer", r.parsed("layer", Layer::parse_user)?)?,
        },
        Cmd::Setup => Request::Setup {
            task: r.must_text("task")?,
            region: r.must_text("region")?,
            layers: r.must("layers", r.list("layers", Layer::parse_user)?)?,
            lang: r.parsed("language", Lang::parse_user)?,
            zone: r.parsed("time_zone", time::parse_zone)?,
        },
        Cmd::RoundStart => Request::RoundStart {
            step: r.must("step", r.step("step")?)?,
            deadline: r.when("deadline")?,
        },
        Cmd::RoundStatus => Request::RoundStatus,
        Cmd::RoundReveal => Request::RoundReveal { round: None },
        Cmd::RoundClose => Request::RoundClose { round: None },
        Cmd::AnswerSubmit => Request::AnswerSubmit {
            round: None,
            text: r.must_text("text")?,
        },
        Cmd::AnswerEdit => Request::AnswerEdit {
            round: None,
            text: r.must_text("text")?,
        },
        Cmd::AnswerWithdraw => Request::AnswerWithdraw,
        Cmd::AnswerShow => Request::AnswerMine,
        Cmd::LessonShare => Request::LessonShare(LessonDraft {
            title: r.must_text("title")?,
            happened: r.must_text("happened")?,
            lesson: r.must_text("lesson")?,
            order: r.must("order", r.order()?)?,
            steps: r.steps("steps")?.unwrap_or_default(),
            perspective: r.perspective()?,
            tags: r.tags("tags").unwrap_or_default(),
            attribution: r.attribution()?.unwrap_or(Attribution::Named),
        }),
        Cmd::LessonEdit => Request::LessonEdit {
            id: r.id(LessonId::parse_user)?,
            changes: r.changes()?,
            version: None,
        },
        Cmd::LessonShow => Request::LessonShow {
            id: r.id(LessonId::parse_user)?,
        },
        Cmd::LessonSearch => Request::LessonSearch(SearchQuery {
            text: r.line("text"),
            order: r.order()?,
            step: r.step("step")?,
            perspective: r.perspective()?,
            tag: r.line("tag"),
            channel: if r.yes("here")?.unwrap_or(false) {
                channel
            } else {
                None
            },
            from: r.date("from")?,
            to: r.date("to")?,
            page: r.page()?,
        }),
        Cmd::LessonMine => Request::LessonMine,
        Cmd::ReviewQueue => Request::ReviewQueue { page: r.page()? },
        Cmd::ReviewApprove => Request::ReviewApprove {
            id: r.id(LessonId::parse_user)?,
        },
        Cmd::ReviewEdit => Request::ReviewEdit {
            id: r.id(LessonId::parse_user)?,
            changes: r.changes()?,
            version: None,
        },
        Cmd::ReviewReject => Request::ReviewReject {
            id: r.id(LessonId::parse_user)?,
            reason: r.must_text("reason")?,
        },
        Cmd::ReviewFeature => Request::ReviewFeature {
            id: r.id(LessonId::parse_user)?,
        },
        Cmd::DigestCompose => Request::DigestCompose {
            title: r.line("title"),
            filter: DigestFilter {
                from: r.date("from")?,
                to: r.date("to")?,
                order: r.order()?,
                step: r.step("step")?,
                republish: r.yes("republish")?.unwrap_or(false),
                library: r.yes("library")?.unwrap_or(false),
            },
        },
        Cmd::DigestPublish => Request::DigestPublish {
            id: r.id(DigestId::parse_user)?,
        },
        Cmd::DigestList => Request::DigestList,
        Cmd::DigestShow => Request::DigestShow {
            id: r.id(DigestId::parse_user)?,
        },
        Cmd::MyDataExport => Request::MyDataExport,
        Cmd::MyDataDelete => Request::MyDataDelete {
            confirm: r.yes("confirm")?.unwrap_or(false),
        },
        Cmd::LearningOthers => Request::Step5Elsewhere,
        Cmd::Exchange => Request::Exchange(crate::engine::ExchangeChange {
            lessons: r.yes("lessons")?,
            name: r.yes("name")?,
            step5: r.yes("step5")?,
            questions: r.yes("questions")?,
            servers: r.yes("servers")?,
        }),
        Cmd::DigestTake => Request::DigestTake {
            id: r.id(LessonId::parse_user)?,
        },
        Cmd::QuestionAsk => Request::QuestionAsk {
            text: r.must_text("text")?,
            attribution: r.attribution()?.unwrap_or(Attribution::Named),
        },
        Cmd::QuestionAnswer => Request::QuestionAnswer {
            id: r.id(QuestionId::parse_user)?,
            text: r.must_text("text")?,
            attribution: r.attribution()?.unwrap_or(Attribution::Named),
        },
        Cmd::QuestionShow => Request::QuestionShow {
            id: r.id(QuestionId::parse_user)?,
        },
        Cmd::QuestionList => Request::QuestionList,
        Cmd::QuestionHelped => Request::QuestionHelpful {
            id: r.id(QuestionId::parse_user)?,
            answer: r.must("answer", r.number("answer")?)?,
        },
        Cmd::QuestionConsent => Request::QuestionConsent {
            id: r.id(QuestionId::parse_user)?,
            consent: r.must("agree", r.yes("agree")?)?,
        },
        Cmd::QuestionLesson => Request::QuestionToLesson {
            id: r.id(QuestionId::parse_user)?,
            title: r.must_text("title")?,
            order: r.must("order", r.order()?)?,
            steps: r.steps("steps")?.unwrap_or_default(),
        },
        Cmd::MeetingPlan => Request::MeetingPlan {
            // The engine places it in the collaboration's zone.
            starts: r.must("when", r.when("when")?)?,
            minutes: r.number("minutes")?,
            title: r.line("name"),
            address: r.line("address"),
            voice: r.channel("channel")?,
        },
        Cmd::MeetingAgenda => Request::MeetingAgenda {
            id: r.parsed("id", MeetingId::parse_user)?,
        },
        Cmd::MeetingJoin => Request::MeetingJoin {
            id: r.id(MeetingId::parse_user)?,
        },
        Cmd::MeetingLessons => Request::MeetingLessons {
            id: r.id(MeetingId::parse_user)?,
        },
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
                    | Kind::Weeks
                    | Kind::Number => "1",
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
    fn help_for_a_command_lists_only_the_commands_it_names() {
        let c = catalog();
        let request = |lang: Lang, line: &str| {
            parse_line(&c, lang, line)
                .and_then(|(spec, values)| to_request(&c, lang, spec, &values, None))
        };
        let usages = |lang: Lang, line: &str| match request(lang, line) {
            Ok(Request::HelpFor {
                asked, commands, ..
            }) => (
                asked,
                commands.into_iter().map(|l| l.usage).collect::<Vec<_>>(),
            ),
            other => panic!("{line}: {other:?}"),
        };
        let (asked, shown) = usages(Lang::Nl, "/hulp les delen");
        assert_eq!(asked, "les delen");
        assert_eq!(
            shown,
            ["/les delen titel:… gebeurd:… les:… orde:… [stappen:…] [perspectief:…] [tags:…] [als:…]"]
        );
        // The other language's words, a leading slash, an option named: the same command.
        for line in [
            "/hulp lesson share",
            "/hulp /les delen titel: Iets",
            "/hulp opdracht: les delen",
        ] {
            assert_eq!(usages(Lang::Nl, line).0, "les delen", "{line}");
        }
        let (asked, shown) = usages(Lang::En, "/help lesson");
        assert_eq!(asked, "lesson");
        assert_eq!(shown.len(), 6, "{shown:?}");
        assert!(shown.iter().all(|u| u.starts_with("/lesson ")), "{shown:?}");
        let (_, shown) = usages(Lang::Nl, "/hulp moderator ronde");
        assert_eq!(shown.len(), 3, "{shown:?}");
        // A command there is not: refused, with the one meant when it is close.
        let r = request(Lang::Nl, "/hulp lessen").unwrap_err();
        assert_eq!(
            r.text,
            "De opdracht \"lessen\" ken ik niet. Bedoel je /les …? Typ /hulp voor een overzicht."
        );
        let r = request(Lang::En, "/help frobnicate les").unwrap_err();
        assert_eq!(r.key, k::ERROR_UNKNOWN_COMMAND);
        assert!(r.text.contains("\"frobnicate les\""), "{}", r.text);
        // Words after a whole command are left out: its help is what was meant.
        assert_eq!(usages(Lang::Nl, "/hulp les delen en meer").0, "les delen");
        assert_eq!(usages(Lang::En, "/help lesson frobnicate").1.len(), 6);
        // Without a command, the whole overview.
        assert!(matches!(request(Lang::Nl, "/hulp"), Ok(Request::Help(_))));
    }

    #[test]
    fn help_for_a_thing_brings_the_moderators_commands_about_it() {
        let c = catalog();
        let help_for = |lang: Lang, line: &str| match parse_line(&c, lang, line)
            .and_then(|(spec, values)| to_request(&c, lang, spec, &values, None))
        {
            Ok(Request::HelpFor {
                asked,
                commands,
                related,
            }) => {
                let usages = |lines: Vec<HelpLine>| -> Vec<String> {
                    lines.into_iter().map(|l| l.usage).collect()
                };
                (asked, usages(commands), usages(related))
            }
            other => panic!("{line}: {other:?}"),
        };
        let (asked, commands, related) = help_for(Lang::Nl, "/hulp ronde");
        assert_eq!(asked, "ronde");
        assert_eq!(commands, ["/ronde status"]);
        assert_eq!(related.len(), 3, "{related:?}");
        assert!(
            related.iter().all(|u| u.starts_with("/moderator ronde ")),
            "{related:?}"
        );
        // Asked with `moderator`, they are what was asked, not beside it.
        let (_, commands, related) = help_for(Lang::Nl, "/hulp moderator ronde");
        assert_eq!(commands.len(), 3);
        assert!(related.is_empty(), "{related:?}");
        // Asked without it, a moderators' command is found under it.
        let (asked, commands, related) = help_for(Lang::En, "/help review approve");
        assert_eq!(asked, "moderator review approve");
        assert_eq!(commands, ["/moderator review approve id:…"]);
        assert!(related.is_empty());
        let (asked, _, _) = help_for(Lang::Nl, "/hulp review");
        assert_eq!(asked, "moderator beoordeling");
        // What no command is called, with or without `moderator`, is still refused.
        let refused = parse_line(&c, Lang::Nl, "/hulp frobnicate")
            .and_then(|(spec, values)| to_request(&c, Lang::Nl, spec, &values, None))
            .unwrap_err();
        assert_eq!(refused.key, k::ERROR_UNKNOWN_COMMAND);
    }

    #[test]
    fn an_option_the_command_lacks_is_named_with_the_one_meant() {
        let c = catalog();
        let r = parse_line(
            &c,
            Lang::En,
            "/setup task: Dike region: Gelderland layers: national, water board lang:en",
        )
        .unwrap_err();
        assert_eq!(r.key, k::ERROR_UNKNOWN_OPTION);
        assert_eq!(
            r.text,
            "/setup has no option \"lang:\". Did you mean language:? Usage: /setup task:… \
             region:… layers:… [language:…] [time_zone:…]"
        );
        let r = parse_line(
            &c,
            Lang::Nl,
            "/moderator ronde start stap:1 wanneer:vrijdag",
        )
        .unwrap_err();
        assert_eq!(
            r.text,
            "/moderator ronde start kent geen optie \"wanneer:\". Gebruik: /moderator ronde \
             start stap:… [deadline:…]"
        );
        // Free text may hold a colon, and a time is no option.
        assert!(parse_line(&c, Lang::Nl, "/antwoord geven tekst: Let op: vooraf").is_ok());
        assert!(parse_line(
            &c,
            Lang::Nl,
            "/moderator ronde start stap:1 deadline: vrijdag 16:00"
        )
        .is_ok());
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
        assert_eq!(values.text("step"), Some("2"));
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
    fn an_hour_with_two_readings_is_refused_naming_both() {
        let r = parse("/moderator round start step:1 deadline:tomorrow at 9 uur").unwrap_err();
        assert_eq!(r.key, k::TIME_AMBIGUOUS_HOUR);
        assert!(
            r.text.contains("the time can be 09:00 or 21:00"),
            "{}",
            r.text
        );
        let c = catalog();
        let (spec, values) = parse_line(
            &c,
            Lang::Nl,
            "/moderator ronde start stap:1 deadline:vrijdag 12am",
        )
        .unwrap();
        let r = to_request(&c, Lang::Nl, spec, &values, Some(ChannelId(9))).unwrap_err();
        assert!(r.text.contains("00:00 of 23:59"), "{}", r.text);
    }

    #[test]
    fn an_unknown_command_close_to_one_names_it() {
        let nl = |line: &str| parse_line(&catalog(), Lang::Nl, line).unwrap_err();
        // Seen in use: `/laag laag:waterschap`, for `/bestuurslaag`.
        let r = nl("/laag laag:waterschap");
        assert_eq!(r.key, k::ERROR_UNKNOWN_COMMAND);
        assert!(
            r.text.contains("Bedoel je /bestuurslaag laag:…?"),
            "{}",
            r.text
        );
        assert!(nl("/lessen").text.contains("Bedoel je /les …?"));
        let r = parse("/layers").unwrap_err();
        assert!(
            r.text.contains("Did you mean /layer layer:…?"),
            "{}",
            r.text
        );
        // Nothing close, or too short to tell: no guess.
        for line in ["/frobnicate", "/ab", "/e"] {
            let r = parse(line).unwrap_err();
            assert!(!r.text.contains("mean"), "{line}: {}", r.text);
        }
    }

    #[test]
    fn an_unknown_part_of_a_known_group_names_the_parts_it_has() {
        let r = parse("/moderator rhythm weeks:x").unwrap_err();
        assert_eq!(r.key, k::ERROR_UNKNOWN_PART);
        assert!(r.text.contains("/moderator"), "{}", r.text);
        assert!(r.text.contains("\"rhythm\""), "{}", r.text);
        assert!(r.text.contains("cadence"), "{}", r.text);
        assert!(r.text.contains("round"), "{}", r.text);
        let r = parse("/lesson frobnicate").unwrap_err();
        assert_eq!(r.key, k::ERROR_UNKNOWN_PART);
        assert!(
            r.text.contains("share") && r.text.contains("search"),
            "{}",
            r.text
        );
        let r = parse("/moderator").unwrap_err();
        assert_eq!(r.key, k::ERROR_UNKNOWN_PART);
        assert!(r.text.contains("review"), "{}", r.text);
        // `/answer Our issue is …` is an answer, but a word before the text option is a part
        // /answer lacks, not text without an option.
        let r = parse("/answer give text:Our issue is water").unwrap_err();
        assert_eq!(r.key, k::ERROR_UNKNOWN_PART, "{}", r.text);
        assert!(
            r.text.contains("\"give\"") && r.text.contains("submit"),
            "{}",
            r.text
        );
        let c = catalog();
        let r = parse_line(&c, Lang::Nl, "/antwoord geef tekst:Water").unwrap_err();
        assert_eq!(r.key, k::ERROR_UNKNOWN_PART, "{}", r.text);
        assert!(r.text.contains("geven"), "{}", r.text);
        assert!(matches!(
            parse("/answer Our issue is water"),
            Ok(Request::AnswerSubmit { .. })
        ));
    }

    #[test]
    fn words_after_lesson_search_are_what_is_searched() {
        let c = catalog();
        let (spec, values) =
            parse_line(&c, Lang::Nl, "/les zoeken wateroverlast wijken orde:eerste").unwrap();
        assert_eq!(spec.id(), "lesson search");
        assert_eq!(values.text("text"), Some("wateroverlast wijken"));
        assert_eq!(values.text("order"), Some("eerste"));
        // Words before other options of a command without text stay refused.
        let r = parse("/round status R9").unwrap_err();
        assert_eq!(r.key, k::ERROR_STRAY_TEXT, "{}", r.text);
    }

    #[test]
    fn one_word_after_answer_is_a_part_it_lacks_not_an_answer_saved_over_the_last() {
        // Every other group shows with `tonen`; `/antwoord tonen` saved "tonen" as the answer.
        let c = catalog();
        for (lang, line, word, part) in [
            (Lang::Nl, "/antwoord tonen", "\"tonen\"", "bekijken"),
            (Lang::Nl, "/antwoord Tonen", "\"Tonen\"", "bekijken"),
            (Lang::Nl, "/antwoord tonen R1", "\"tonen\"", "bekijken"),
            (
                Lang::Nl,
                "/antwoord toon mijn antwoord",
                "\"toon\"",
                "bekijken",
            ),
            (Lang::Nl, "/antwoord lalala", "\"lalala\"", "geven"),
            (Lang::En, "/answer view", "\"view\"", "show"),
        ] {
            let r = parse_line(&c, lang, line).unwrap_err();
            assert_eq!(r.key, k::ERROR_UNKNOWN_PART, "{line}: {}", r.text);
            assert!(r.text.contains(word) && r.text.contains(part), "{}", r.text);
        }
        // A one-word answer is refused with the way to give it.
        let r = parse_line(&c, Lang::Nl, "/antwoord Ja").unwrap_err();
        assert!(r.text.contains("/antwoord geven tekst: Ja"), "{}", r.text);
        let r = parse_line(&c, Lang::En, "/answer yes").unwrap_err();
        assert!(r.text.contains("/answer submit text: yes"), "{}", r.text);
        assert!(matches!(
            parse("/answer Ruimte."),
            Ok(Request::AnswerSubmit { text, .. }) if text == "Ruimte."
        ));
        assert_eq!(
            parse("/answer submit wateroverlast").unwrap(),
            Request::AnswerSubmit {
                round: None,
                text: "wateroverlast".into()
            },
            "a lowercase one-word answer is given with its part"
        );
    }

    #[test]
    fn invocations_come_from_the_table_in_the_users_language() {
        assert_eq!(
            invocation(Cmd::ReviewEdit, Lang::Nl, &[("id", Arg::Text("L3"))]),
            "/moderator beoordeling bewerken id:L3"
        );
        assert_eq!(
            invocation(
                Cmd::LessonApplied,
                Lang::En,
                &[("id", Arg::Text("L3")), ("note", Arg::Blank)]
            ),
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

    #[test]
    fn the_table_holds_one_entry_per_command_in_order() {
        for (i, s) in SPECS.iter().enumerate() {
            assert_eq!(s.cmd as usize, i, "{} is out of place", s.id());
            assert_eq!(spec(s.cmd).id(), s.id());
        }
        // Variants are numbered from 0 without gaps, so the last one closes the list.
        assert_eq!(Cmd::MeetingLessons as usize, SPECS.len() - 1);
    }

    #[test]
    fn every_option_says_what_it_asks_and_forms_ask_only_text() {
        let c = catalog();
        for s in SPECS {
            for word in s.path.iter().take(s.path.len() - 1) {
                let key = group_help(word.0);
                assert!(!c.plain(Lang::Nl, key).starts_with('['), "{}", word.0);
            }
            for o in s.options {
                for lang in [Lang::Nl, Lang::En] {
                    assert!(
                        !c.plain(lang, o.help).starts_with('['),
                        "{} {}",
                        s.id(),
                        o.name
                    );
                }
                match o.group {
                    Group::Form => assert!(
                        matches!(o.kind, Kind::Text | Kind::Line | Kind::Tags),
                        "{} {}",
                        s.id(),
                        o.name
                    ),
                    // What the slash command asks as text is asked as one line.
                    Group::Slash => assert_ne!(o.kind, Kind::Text, "{} {}", s.id(), o.name),
                }
                if o.kind.is_number() {
                    assert!(matches!(o.limit, Limit::Range(..)), "{}", o.name);
                }
            }
            // A command opens a form exactly when the table asks something in one; its slash
            // options alone are read before the form opens.
            let mut slash = Values::new();
            for o in s.slash_options().iter().filter(|o| o.required) {
                let v = match o.kind {
                    Kind::Order => "first",
                    _ => "1",
                };
                slash.insert(o.name, v);
            }
            let start = form_start(&c, Lang::En, s, &slash)
                .unwrap_or_else(|r| panic!("{}: {}", s.id(), r.text));
            assert_eq!(start.is_some(), s.has_form(), "{}", s.id());
        }
    }

    /// `/moderator ritme weken:x` used to answer that a page number was expected.
    #[test]
    fn weeks_that_are_no_number_of_weeks_are_refused_about_weeks_in_both_languages() {
        let c = catalog();
        for (lang, line, said) in [
            (
                Lang::Nl,
                "/moderator ritme weken:x",
                "verwacht een aantal weken, van 1 tot en met 52",
            ),
            (
                Lang::En,
                "/moderator cadence weeks:x",
                "expected a number of weeks, from 1 to 52",
            ),
            (
                Lang::Nl,
                "/moderator ritme weken:53",
                "verwacht een aantal weken, van 1 tot en met 52",
            ),
            (
                Lang::En,
                "/moderator cadence weeks:0",
                "expected a number of weeks, from 1 to 52",
            ),
        ] {
            let (spec, values) = parse_line(&c, lang, line).unwrap();
            let r = to_request(&c, lang, spec, &values, None).unwrap_err();
            assert_eq!(r.key, k::ERROR_BAD_OPTION);
            assert!(r.text.contains(said), "{line}: {}", r.text);
            assert!(
                !r.text.contains("pagin") && !r.text.contains("page"),
                "{}",
                r.text
            );
        }
        // As Discord sends an integer: the same range, the same answer.
        let mut values = Values::new();
        values.insert("weeks", Value::Number(53));
        let r = to_request(&c, Lang::En, spec(Cmd::Cadence), &values, None).unwrap_err();
        assert!(r.text.contains("number of weeks"), "{}", r.text);
        values.insert("weeks", Value::Number(6));
        assert!(matches!(
            to_request(&c, Lang::En, spec(Cmd::Cadence), &values, None),
            Ok(Request::Cadence {
                every_weeks: Some(6),
                ..
            })
        ));
    }

    #[test]
    fn typed_values_from_discord_are_read_as_typed() {
        let c = catalog();
        let mut values = Values::new();
        values.insert("confirm", Value::Yes(true));
        assert_eq!(
            to_request(&c, Lang::Nl, spec(Cmd::MyDataDelete), &values, None),
            Ok(Request::MyDataDelete { confirm: true })
        );
        let mut values = Values::new();
        values.insert("page", Value::Number(3));
        assert_eq!(
            to_request(&c, Lang::Nl, spec(Cmd::ReviewQueue), &values, None),
            Ok(Request::ReviewQueue { page: 2 })
        );
        let mut values = Values::new();
        values.insert("when", "3d");
        values.insert("channel", Value::Channel(ChannelId(77)));
        assert!(matches!(
            to_request(&c, Lang::Nl, spec(Cmd::MeetingPlan), &values, None),
            Ok(Request::MeetingPlan {
                voice: Some(ChannelId(77)),
                ..
            })
        ));
        // A number where a number is asked, but outside its range, is refused like typed text.
        let mut values = Values::new();
        values.insert("id", "3");
        values.insert("answer", Value::Number(0));
        let r = to_request(&c, Lang::Nl, spec(Cmd::QuestionHelped), &values, None).unwrap_err();
        assert!(
            r.text.contains("een geheel getal van 1 tot en met 1000"),
            "{}",
            r.text
        );
    }

    #[test]
    fn a_written_command_reads_back_as_the_same_request() {
        let c = catalog();
        for lang in [Lang::Nl, Lang::En] {
            for (cmd, options, expected) in [
                (
                    Cmd::Vote,
                    vec![("perspective", Arg::Perspective(Perspective::Lawful))],
                    Request::Vote {
                        round: None,
                        perspective: Perspective::Lawful,
                    },
                ),
                (
                    Cmd::DoingPlace,
                    vec![
                        ("yield", Arg::Amount(true)),
                        ("lessons", Arg::Amount(false)),
                    ],
                    Request::Place {
                        much_yield: true,
                        many_lessons: false,
                    },
                ),
                (
                    Cmd::MyDataDelete,
                    vec![("confirm", Arg::Yes(true))],
                    Request::MyDataDelete { confirm: true },
                ),
                (
                    Cmd::Audit,
                    vec![("page", Arg::Number(2))],
                    Request::AuditLog { page: 1 },
                ),
            ] {
                let line = invocation(cmd, lang, &options);
                let (spec, values) = parse_line(&c, lang, &line).unwrap();
                assert_eq!(
                    to_request(&c, lang, spec, &values, None),
                    Ok(expected),
                    "{line}"
                );
            }
        }
        assert_eq!(
            invocation(
                Cmd::Vote,
                Lang::Nl,
                &[("perspective", Arg::Perspective(Perspective::Networking))]
            ),
            "/stem perspectief:netwerkend"
        );
    }
}
