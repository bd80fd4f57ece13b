//! What a person asks of the academy: who acts and where ([`Ctx`]), and the request itself,
//! typed, as both adapters build it from their own input.

use super::{ExchangeChange, When};
use crate::domain::*;
use crate::search::SearchQuery;

/// Who acts, and where.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub actor: Actor,
    /// The channel acted in; `None` in a direct message.
    pub channel: Option<ChannelId>,
    /// The server the channel is on, where the actor's rights hold; `None` in the console and
    /// in a direct message.
    pub server: Option<ServerId>,
}

/// A lesson as its author writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct LessonDraft {
    pub title: String,
    pub happened: String,
    pub lesson: String,
    pub order: Order,
    pub steps: Vec<Step>,
    pub perspective: Option<Perspective>,
    pub tags: Vec<String>,
    pub attribution: Attribution,
}

/// Changes to a lesson; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LessonChanges {
    pub title: Option<String>,
    pub happened: Option<String>,
    pub lesson: Option<String>,
    pub order: Option<Order>,
    pub steps: Option<Vec<Step>>,
    pub perspective: Option<Perspective>,
    pub tags: Option<Vec<String>>,
    pub attribution: Option<Attribution>,
}

impl LessonChanges {
    pub fn is_empty(&self) -> bool {
        *self == LessonChanges::default()
    }
}

/// One command as help lists it: how it is typed and the message key of what it does. The
/// command table writes these, so the engine need not know the table.
#[derive(Clone, Debug, PartialEq)]
pub struct HelpLine {
    pub usage: String,
    pub help: &'static str,
    /// Listed for moderators only.
    pub moderators: bool,
}

/// Everything a user can ask of the academy. Both adapters produce these.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Help, with the commands to list.
    Help(Vec<HelpLine>),
    /// Help with the commands whose words start with `asked` (`les delen`), as the user's
    /// language names them.
    HelpFor {
        asked: String,
        commands: Vec<HelpLine>,
        /// The moderators' commands with the same words after `moderator` (`/moderator ronde
        /// start` for `/hulp ronde`): shown to moderators beside what was asked.
        related: Vec<HelpLine>,
    },
    Setup {
        task: String,
        region: String,
        layers: Vec<Layer>,
        lang: Option<Lang>,
        /// The collaboration's own time zone; none: unchanged (the academy's for a new one).
        zone: Option<chrono_tz::Tz>,
    },
    ShowCollaboration,
    Questions {
        step: Step,
    },
    Perspectives,
    Orders,
    RoundStart {
        step: Step,
        /// As typed; placed in the collaboration's time zone and checked against the clock by
        /// the engine.
        deadline: Option<When>,
    },
    RoundStatus,
    /// Reveals the current round; with `round`, only if that is still the current one (a
    /// button from an older round must not act on a newer one).
    RoundReveal {
        round: Option<RoundId>,
    },
    RoundClose {
        round: Option<RoundId>,
    },
    AnswerSubmit {
        text: String,
        round: Option<RoundId>,
    },
    AnswerEdit {
        text: String,
        round: Option<RoundId>,
    },
    AnswerWithdraw,
    AnswerMine,
    SetLayer {
        layer: Layer,
    },
    LessonShare(LessonDraft),
    /// `version` is the lesson's `LessonForm::version` the editor saw (a form); with it, an
    /// edit made by someone else since is refused instead of overwritten. Without it (a typed
    /// command, which shows nothing first) there is nothing to compare.
    LessonEdit {
        id: LessonId,
        changes: LessonChanges,
        version: Option<u64>,
    },
    LessonShow {
        id: LessonId,
    },
    LessonSearch(SearchQuery),
    LessonMine,
    /// The lessons waiting for review, five a page; `page` counts from 0.
    ReviewQueue {
        page: usize,
    },
    ReviewApprove {
        id: LessonId,
    },
    /// `version` as for `LessonEdit`.
    ReviewEdit {
        id: LessonId,
        changes: LessonChanges,
        version: Option<u64>,
    },
    ReviewReject {
        id: LessonId,
        reason: String,
    },
    ReviewFeature {
        id: LessonId,
    },
    DigestCompose {
        title: Option<String>,
        filter: DigestFilter,
    },
    DigestPublish {
        id: DigestId,
    },
    DigestList,
    DigestShow {
        id: DigestId,
    },
    MyDataExport,
    MyDataDelete {
        confirm: bool,
    },
    /// The collaboration's health over time: idling, accelerating or cruising, with numbers.
    Health,
    /// The moderator actions, newest first, a page at a time; `page` counts from 0.
    AuditLog {
        page: usize,
    },
    /// Places the collaboration on figure 2: little or much yield, few or many lessons.
    Place {
        much_yield: bool,
        many_lessons: bool,
    },
    /// Asks the group to place the collaboration on figure 2 (moderators).
    AskDoingLearning,
    /// Where the group placed the collaboration, and how that moved.
    DoingLearning,
    /// Sets, pauses or resumes how often the collaboration revisits a step (moderators).
    Cadence {
        step: Option<Step>,
        every_weeks: Option<u32>,
        paused: Option<bool>,
    },
    /// The actor places the collaboration on a governance perspective (step-3 rounds).
    Vote {
        perspective: Perspective,
        round: Option<RoundId>,
    },
    /// The actor applied a lesson in their work.
    LessonApplied {
        id: LessonId,
        note: String,
    },
    /// How the actor is reminded of rounds they have not answered.
    Reminders {
        how: Reminders,
    },
    /// What the collaboration shares with the academy (moderators); nothing given: show it.
    Exchange(ExchangeChange),
    /// A moderator takes a lesson of another collaboration into their own next digest.
    DigestTake {
        id: LessonId,
    },
    /// The revealed step-5 answers of other collaborations that allow it, side by side.
    Step5Elsewhere,
    /// A member asks the whole academy a question.
    QuestionAsk {
        text: String,
        attribution: Attribution,
    },
    /// Anyone answers a question to the academy.
    QuestionAnswer {
        id: QuestionId,
        text: String,
        attribution: Attribution,
    },
    QuestionShow {
        id: QuestionId,
    },
    /// The questions to the academy the actor can see that are still open.
    QuestionList,
    /// The asker marks an answer (by its number) as one that helped; again: unmarks it.
    QuestionHelpful {
        id: QuestionId,
        answer: u32,
    },
    /// A moderator turns a question and its answers into a lesson draft, asking consent.
    QuestionToLesson {
        id: QuestionId,
        title: String,
        order: Order,
        steps: Vec<Step>,
    },
    /// An answerer says yes or no to their answer becoming part of a lesson.
    QuestionConsent {
        id: QuestionId,
        consent: bool,
    },
    /// A moderator plans a learning meeting: at a time, in a voice channel or at an address.
    MeetingPlan {
        /// As typed; placed in the collaboration's zone against the engine's clock.
        starts: When,
        minutes: Option<u32>,
        title: Option<String>,
        address: Option<String>,
        voice: Option<ChannelId>,
    },
    /// A meeting's agenda; without an id, the next meeting of this collaboration.
    MeetingAgenda {
        id: Option<MeetingId>,
    },
    /// The actor says they will come to a meeting; again: they no longer will.
    MeetingJoin {
        id: MeetingId,
    },
    /// A moderator asks the group for the lessons of a meeting that took place.
    MeetingLessons {
        id: MeetingId,
    },
}

impl Request {
    /// Whether the reply to this request is normally posted for the whole channel, so an
    /// adapter that must decide before the reply exists (Discord's deferral) can guess right.
    pub fn announces(&self) -> bool {
        matches!(
            self,
            Request::Setup { .. }
                | Request::RoundStart { .. }
                | Request::RoundReveal { .. }
                | Request::RoundClose { .. }
                | Request::DigestPublish { .. }
                | Request::AskDoingLearning
                | Request::QuestionAsk { .. }
                | Request::MeetingPlan { .. }
                | Request::MeetingLessons { .. }
        )
    }

    /// Whether the reply comes from the text catalog and the actor alone: the reference texts
    /// (help, the design questions, the perspectives, the learning orders). Such a request
    /// reads and writes nothing in the store, so an adapter may answer it where blocking is
    /// not allowed, without handing it to a thread that may block.
    pub fn reads_nothing(&self) -> bool {
        matches!(
            self,
            Request::Help(_)
                | Request::HelpFor { .. }
                | Request::Questions { .. }
                | Request::Perspectives
                | Request::Orders
        )
    }
}
