//! Learning across collaborations through the engine, on a real sled database: what travels
//! between collaborations and servers and what stays private, the lessons a round start
//! suggests, questions to the academy from asking to a lesson draft with consent, step 5 of
//! others, learning meetings, and what a member's export and delete cover of all this.

use crate::support::academy::{self as support, monday, TestClock};
use crate::support::text::{contains, lacks};
use academie::domain::*;
use academie::engine::{
    Clock, Ctx, Engine, ExchangeChange, LessonDraft, Outgoing, Recipient, Request, Settings,
};
use academie::reply::{Action, Reply, Visibility};
use academie::search::SearchQuery;
use academie::store::{SledStore, Store, Tree};
use academie::text::keys as k;
use chrono::Duration;
use std::sync::Arc;

const NORTH: ChannelId = ChannelId(42);
const SOUTH: ChannelId = ChannelId(43);

struct Academy {
    engine: Engine,
    store: Arc<SledStore>,
    clock: Arc<TestClock>,
    _dir: tempfile::TempDir,
}

fn academy_with(settings: Settings) -> Academy {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(&dir.path().join("db"), None).unwrap());
    let clock = TestClock::at(monday());
    let engine = support::engine(
        store.clone(),
        clock.clone(),
        Settings {
            site_dir: Some(dir.path().join("site")),
            ..settings
        },
    );
    Academy {
        engine,
        store,
        clock,
        _dir: dir,
    }
}

fn academy() -> Academy {
    academy_with(Settings::default())
}

/// Two collaborations on no server: Noord in `NORTH`, Zuid in `SOUTH`.
fn north_and_south() -> Academy {
    let a = academy();
    a.setup(NORTH, None, "Energietransitie Noord");
    a.setup(SOUTH, None, "Woningbouw Zuid");
    a
}

/// Someone acting in a channel on a server.
fn person(id: u64, name: &str, role: Role, channel: ChannelId, server: Option<u64>) -> Ctx {
    Ctx {
        actor: Actor {
            id: UserId(id),
            name: name.into(),
            lang: Lang::Nl,
            role,
        },
        channel: Some(channel),
        server: server.map(ServerId),
    }
}

fn member(id: u64, name: &str, channel: ChannelId) -> Ctx {
    person(id, name, Role::Member, channel, None)
}

fn moderator(id: u64, channel: ChannelId) -> Ctx {
    person(
        id,
        &format!("Moderator {id}"),
        Role::Moderator,
        channel,
        None,
    )
}

fn draft(title: &str, steps: Vec<Step>, attribution: Attribution) -> LessonDraft {
    LessonDraft {
        title: title.into(),
        happened: format!("Wat er gebeurde bij {title}."),
        lesson: format!("De les van {title}: vraag vooraf om mandaat."),
        order: Order::First,
        steps,
        perspective: None,
        tags: vec![],
        attribution,
    }
}

impl Academy {
    fn ok(&self, ctx: &Ctx, req: Request) -> Reply {
        match self.engine.handle(ctx, req.clone()) {
            Ok(r) => {
                let text = r.all_text();
                assert!(
                    !text.contains("[exchange.")
                        && !text.contains("[question.")
                        && !text.contains("[meeting."),
                    "a message failed to render: {text}"
                );
                r
            }
            Err(f) => panic!("{req:?} failed: {f}"),
        }
    }

    /// A refusal, with its key; nothing may have changed.
    fn refused(&self, ctx: &Ctx, req: Request) -> &'static str {
        support::refused(&self.engine, self.store.as_ref(), ctx, req).key
    }

    fn snapshot(&self) -> Vec<(Tree, Vec<u8>, Vec<u8>)> {
        support::snapshot(self.store.as_ref())
    }

    /// Every stored byte, as text: what "no longer anywhere" is checked against.
    fn everything(&self) -> String {
        self.snapshot()
            .iter()
            .map(|(_, k, v)| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                )
            })
            .collect()
    }

    fn setup(&self, channel: ChannelId, server: Option<u64>, task: &str) {
        self.ok(
            &person(1, "Beheer", Role::Admin, channel, server),
            Request::Setup {
                task: task.into(),
                region: "Regio".into(),
                layers: vec![Layer::Municipality, Layer::Province],
                lang: None,
                zone: None,
            },
        );
    }

    /// Shares and approves a lesson; returns its id.
    fn lesson(&self, author: &Ctx, title: &str, steps: Vec<Step>, a: Attribution) -> LessonId {
        let reply = self.ok(author, Request::LessonShare(draft(title, steps, a)));
        let id = match reply.choices.first().map(|c| &c.action) {
            Some(Action::ShowLesson(id)) => *id,
            other => panic!("no lesson id: {other:?}"),
        };
        let m = person(
            90,
            "Keurder",
            Role::Moderator,
            author.channel.unwrap(),
            author.server.map(|s| s.0),
        );
        self.ok(&m, Request::ReviewApprove { id });
        id
    }

    fn search(&self, ctx: &Ctx, text: &str) -> String {
        self.ok(
            ctx,
            Request::LessonSearch(SearchQuery {
                text: Some(text.into()),
                ..SearchQuery::default()
            }),
        )
        .all_text()
    }

    fn exchange(&self, ctx: &Ctx, change: ExchangeChange) {
        self.ok(ctx, Request::Exchange(change));
    }

    fn outbox(&self) -> Vec<Outgoing> {
        self.engine.outbox().waiting().unwrap()
    }

    /// Delivers (clears) the outbox, returning what was in it.
    fn deliver(&self) -> Vec<Outgoing> {
        let out = self.outbox();
        for m in &out {
            self.engine.outbox().delivered(m.id).unwrap();
        }
        out
    }

    fn advance(&self, by: Duration) {
        let mut now = self.clock.0.lock().unwrap();
        *now += by;
    }
}

fn ask(a: &Academy, ctx: &Ctx, text: &str, attribution: Attribution) -> QuestionId {
    let reply = a.ok(
        ctx,
        Request::QuestionAsk {
            text: text.into(),
            attribution,
        },
    );
    assert_eq!(reply.visibility, Visibility::Channel);
    reply
        .choices
        .iter()
        .find_map(|c| match c.action {
            Action::AnswerQuestion(id) => Some(id),
            _ => None,
        })
        .expect("the question offers an answer button")
}

#[test]
fn lessons_travel_between_collaborations_only_as_their_moderators_allow() {
    let a = north_and_south();
    let anna = member(2, "Anna Aalbers", NORTH);
    let bram = member(3, "Bram Bakker", SOUTH);
    let named = a.lesson(
        &anna,
        "Netcongestie samen aanpakken",
        vec![Step::Issue],
        Attribution::Named,
    );
    let secret = a.lesson(
        &anna,
        "Netcongestie zonder naam",
        vec![Step::Issue],
        Attribution::Anonymous,
    );

    // Visible by default, named by its collaboration and its author's choice.
    let found = a.search(&bram, "netcongestie");
    contains(&found, "Netcongestie samen aanpakken");
    contains(&found, "Uit: Energietransitie Noord");
    assert!(
        found.contains("Anna Aalbers"),
        "the named lesson names its author: {found}"
    );
    contains(&found, "Netcongestie zonder naam");
    let shown = a.ok(&bram, Request::LessonShow { id: secret }).all_text();
    contains(&shown, "Uit: Energietransitie Noord");
    // The anonymous lesson's author is named nowhere: one search hit names Anna, for the
    // named lesson only.
    assert_eq!(found.matches("Anna Aalbers").count(), 1, "{found}");
    lacks(&shown, "Anna");

    // The name of the task can stay private.
    let north_mod = moderator(5, NORTH);
    a.exchange(
        &north_mod,
        ExchangeChange {
            name: Some(false),
            ..Default::default()
        },
    );
    let found = a.search(&bram, "netcongestie");
    contains(&found, "Uit: een andere samenwerking");
    lacks(&found, "Energietransitie Noord");

    // Private: nothing of it elsewhere, not even by id; still everything at home.
    a.exchange(
        &north_mod,
        ExchangeChange {
            lessons: Some(false),
            ..Default::default()
        },
    );
    let found = a.search(&bram, "netcongestie");
    lacks(&found, "Netcongestie");
    assert_eq!(
        a.refused(&bram, Request::LessonShow { id: named }),
        k::LESSON_NOT_FOUND
    );
    assert_eq!(
        a.refused(
            &bram,
            Request::LessonApplied {
                id: named,
                note: String::new()
            }
        ),
        k::LESSON_NOT_FOUND
    );
    assert_eq!(
        a.refused(&moderator(6, SOUTH), Request::DigestTake { id: named }),
        k::LESSON_NOT_FOUND
    );
    let home = a.search(&anna, "netcongestie");
    contains(&home, "Netcongestie samen aanpakken");
    assert!(
        !home.contains("Uit:"),
        "at home a lesson names no origin: {home}"
    );

    // Members cannot change what is shared.
    assert_eq!(
        a.refused(
            &anna,
            Request::Exchange(ExchangeChange {
                lessons: Some(true),
                ..Default::default()
            })
        ),
        k::ERROR_NOT_MODERATOR
    );
}

#[test]
fn between_servers_lessons_travel_only_when_both_servers_allow_it() {
    let a = academy();
    a.setup(NORTH, Some(1), "Energietransitie Noord");
    a.setup(SOUTH, Some(2), "Woningbouw Zuid");
    let anna = person(2, "Anna Aalbers", Role::Member, NORTH, Some(1));
    let bram = person(3, "Bram Bakker", Role::Member, SOUTH, Some(2));
    let id = a.lesson(
        &anna,
        "Netcongestie samen aanpakken",
        vec![Step::Issue],
        Attribution::Named,
    );
    assert!(!a.search(&bram, "netcongestie").contains("Netcongestie"));

    // One side allowing is not enough.
    let north_mod = person(5, "Mira", Role::Moderator, NORTH, Some(1));
    let south_mod = person(6, "Sem", Role::Moderator, SOUTH, Some(2));
    let open = ExchangeChange {
        servers: Some(true),
        ..Default::default()
    };
    a.exchange(&north_mod, open.clone());
    assert!(!a.search(&bram, "netcongestie").contains("Netcongestie"));
    a.exchange(&south_mod, open);
    let found = a.search(&bram, "netcongestie");
    contains(&found, "Netcongestie samen aanpakken");
    contains(&found, "Uit: Energietransitie Noord");

    // Moderators act only on their own server: another server's pending lesson is not
    // there for them.
    let pending = a.ok(
        &anna,
        Request::LessonShare(draft(
            "Nog te beoordelen",
            vec![Step::Issue],
            Attribution::Named,
        )),
    );
    let Some(Action::ShowLesson(pending)) = pending.choices.first().map(|c| c.action.clone())
    else {
        panic!("no id")
    };
    let queue = a
        .ok(&south_mod, Request::ReviewQueue { page: 0 })
        .all_text();
    lacks(&queue, "Nog te beoordelen");
    assert_eq!(
        a.refused(&south_mod, Request::ReviewApprove { id: pending }),
        k::LESSON_NOT_FOUND
    );
    assert!(a
        .ok(&north_mod, Request::ReviewQueue { page: 0 })
        .all_text()
        .contains("Nog te beoordelen"));
    let _ = id;

    // The console and direct messages have no server to ask.
    let console_mod = moderator(7, NORTH);
    assert_eq!(
        a.refused(
            &console_mod,
            Request::Exchange(ExchangeChange {
                servers: Some(true),
                ..Default::default()
            })
        ),
        k::SHARED_NO_SERVER
    );
}

#[test]
fn servers_open_by_configuration_and_a_moderator_can_close_their_own() {
    let a = academy_with(Settings {
        open_servers: vec![ServerId(1), ServerId(2)],
        ..Settings::default()
    });
    a.setup(NORTH, Some(1), "Energietransitie Noord");
    a.setup(SOUTH, Some(2), "Woningbouw Zuid");
    let anna = person(2, "Anna Aalbers", Role::Member, NORTH, Some(1));
    let bram = person(3, "Bram Bakker", Role::Member, SOUTH, Some(2));
    a.lesson(
        &anna,
        "Netcongestie samen aanpakken",
        vec![Step::Issue],
        Attribution::Named,
    );
    assert!(a.search(&bram, "netcongestie").contains("Netcongestie"));
    a.exchange(
        &person(5, "Mira", Role::Moderator, NORTH, Some(1)),
        ExchangeChange {
            servers: Some(false),
            ..Default::default()
        },
    );
    assert!(!a.search(&bram, "netcongestie").contains("Netcongestie"));
}

#[test]
fn a_round_start_suggests_the_most_applied_lessons_of_others_and_names_no_anonymous_author() {
    let a = north_and_south();
    let anna = member(2, "Anna Aalbers", NORTH);
    let once = a.lesson(
        &anna,
        "Eenmaal toegepast",
        vec![Step::Issue],
        Attribution::Named,
    );
    let thrice = a.lesson(
        &anna,
        "Driemaal toegepast",
        vec![Step::Issue, Step::Kind],
        Attribution::Anonymous,
    );
    let never = a.lesson(
        &anna,
        "Nooit toegepast",
        vec![Step::Issue],
        Attribution::Named,
    );
    let other_step = a.lesson(
        &anna,
        "Andere stap",
        vec![Step::Organise],
        Attribution::Named,
    );
    let fresh = a.lesson(
        &anna,
        "Nieuwste zonder toepassing",
        vec![Step::Issue],
        Attribution::Named,
    );
    let own = a.lesson(
        &member(3, "Bram", SOUTH),
        "Eigen les",
        vec![Step::Issue],
        Attribution::Named,
    );
    for (id, n) in [(once, 1), (thrice, 3)] {
        for user in 0..n {
            a.ok(
                &member(10 + user, "Toepasser", NORTH),
                Request::LessonApplied {
                    id,
                    note: String::new(),
                },
            );
        }
    }
    let started = a.ok(
        &moderator(5, SOUTH),
        Request::RoundStart {
            step: Step::Issue,
            deadline: None,
        },
    );
    let section = started
        .sections
        .iter()
        .find(|s| s.heading.starts_with("Wat anderen leerden"))
        .expect("suggestions follow the question");
    let reads: Vec<LessonId> = started
        .choices
        .iter()
        .filter_map(|c| match c.action {
            Action::ShowLesson(id) => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(reads, vec![thrice, once, fresh], "{}", section.body);
    assert!(section.body.contains("3× toegepast"), "{}", section.body);
    assert!(
        section.body.contains("Uit: Energietransitie Noord"),
        "{}",
        section.body
    );
    assert!(!reads.contains(&own) && !reads.contains(&other_step) && !reads.contains(&never));
    // The anonymous lesson is suggested, its author named nowhere in the announcement.
    let all = started.all_text();
    assert!(all.contains("Driemaal toegepast"));
    contains(&all, "anoniem");
    assert_eq!(
        all.matches("Anna Aalbers").count(),
        2,
        "only the two named lessons: {all}"
    );

    // A collaboration that keeps its lessons private is suggested nowhere.
    a.exchange(
        &moderator(6, NORTH),
        ExchangeChange {
            lessons: Some(false),
            ..Default::default()
        },
    );
    a.ok(&moderator(5, SOUTH), Request::RoundClose { round: None });
    let again = a.ok(
        &moderator(5, SOUTH),
        Request::RoundStart {
            step: Step::Issue,
            deadline: None,
        },
    );
    assert!(
        !again
            .sections
            .iter()
            .any(|s| s.heading.starts_with("Wat anderen leerden")),
        "{}",
        again.all_text()
    );
}

#[test]
fn a_question_is_asked_answered_elsewhere_and_becomes_a_lesson_draft_with_consent() {
    let a = north_and_south();
    let asker = member(2, "Anna Aalbers", NORTH);
    let question = ask(
        &a,
        &asker,
        "Hoe koppel je terug naar je eigen organisatie zonder mandaat?",
        Attribution::Named,
    );
    // Posted in the other collaboration, with an answer button.
    let posted = a.deliver();
    let south_post = posted
        .iter()
        .find(|m| m.to == Recipient::Channel(SOUTH))
        .expect("posted in the other collaboration");
    assert!(south_post.reply.body.contains("zonder mandaat"));
    assert!(south_post.reply.body.contains("Energietransitie Noord"));
    assert!(south_post
        .reply
        .choices
        .iter()
        .any(|c| c.action == Action::AnswerQuestion(question)));

    // The asker cannot answer their own question; others answer, named and anonymously.
    assert_eq!(
        a.refused(
            &asker,
            Request::QuestionAnswer {
                id: question,
                text: "Zelf".into(),
                attribution: Attribution::Named
            }
        ),
        k::QUESTION_OWN
    );
    let bram = member(3, "Bram Bakker", SOUTH);
    let carla = member(4, "Carla Claes", SOUTH);
    let dirk = member(5, "Dirk Dekker", NORTH);
    for (who, text, attribution) in [
        (
            &bram,
            "Maak een vast terugkoppelmoment in je eigen lijn.",
            Attribution::Named,
        ),
        (
            &carla,
            "Schrijf elke week drie zinnen voor je directeur.",
            Attribution::Anonymous,
        ),
        (
            &dirk,
            "Vraag je manager mee naar de tafel.",
            Attribution::Named,
        ),
    ] {
        a.ok(
            who,
            Request::QuestionAnswer {
                id: question,
                text: text.into(),
                attribution,
            },
        );
    }
    // The asker hears of each answer, with the button that says it helped.
    let notices = a.deliver();
    let to_asker: Vec<&Outgoing> = notices
        .iter()
        .filter(|m| m.to == Recipient::User(UserId(2)))
        .collect();
    assert_eq!(to_asker.len(), 3);
    assert!(
        to_asker[0]
            .reply
            .body
            .contains("van Bram Bakker, uit Woningbouw Zuid:"),
        "who answered, and from which collaboration: {}",
        to_asker[0].reply.body
    );
    assert!(to_asker.iter().all(|m| m
        .reply
        .choices
        .iter()
        .any(|c| matches!(c.action, Action::Helpful(q, _) if q == question))));
    assert!(!notices.iter().any(|m| m.reply.all_text().contains("Carla")));

    // Only the asker marks answers that helped.
    assert_eq!(
        a.refused(
            &bram,
            Request::QuestionHelpful {
                id: question,
                answer: 1
            }
        ),
        k::QUESTION_NOT_ASKER
    );
    for n in [1, 2] {
        a.ok(
            &asker,
            Request::QuestionHelpful {
                id: question,
                answer: n,
            },
        );
    }
    let shown = a
        .ok(&bram, Request::QuestionShow { id: question })
        .all_text();
    contains(&shown, "Maak een vast terugkoppelmoment");
    contains(&shown, "✓ hielp");
    assert!(
        !shown.contains("Carla"),
        "an anonymous answer names nobody: {shown}"
    );

    // Only a moderator of the asker's collaboration makes a lesson of it.
    let request = Request::QuestionToLesson {
        id: question,
        title: "Terugkoppelen zonder mandaat".into(),
        order: Order::First,
        steps: vec![Step::Organise],
    };
    assert_eq!(
        a.refused(&moderator(8, SOUTH), request.clone()),
        k::QUESTION_NOT_HERE
    );
    assert_eq!(a.refused(&asker, request.clone()), k::ERROR_NOT_MODERATOR);
    let asked = a.ok(&moderator(9, NORTH), request.clone());
    assert!(asked.body.contains("2 beantwoorders"), "{}", asked.body);
    // The answers that helped are asked for consent; the third is not in it.
    let asks = a.deliver();
    let asked_users: Vec<Recipient> = asks.iter().map(|m| m.to).collect();
    assert_eq!(
        asked_users,
        vec![Recipient::User(UserId(3)), Recipient::User(UserId(4))]
    );
    assert!(
        asks[1].reply.body.contains("anoniem"),
        "{}",
        asks[1].reply.body
    );
    assert!(asks[0]
        .reply
        .choices
        .iter()
        .any(|c| c.action == Action::Consent(question, true)));
    // No lesson before everyone answered.
    assert!(
        academie::search::with_status(a.store.as_ref(), LessonStatus::Pending)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        a.refused(
            &dirk,
            Request::QuestionConsent {
                id: question,
                consent: true
            }
        ),
        k::QUESTION_NO_CONSENT_ASKED
    );
    a.ok(
        &bram,
        Request::QuestionConsent {
            id: question,
            consent: false,
        },
    );
    a.ok(
        &carla,
        Request::QuestionConsent {
            id: question,
            consent: true,
        },
    );

    // The draft holds only the answer whose author said yes, as they chose to be shown, and
    // waits for the normal review in the asker's collaboration.
    let pending = academie::search::with_status(a.store.as_ref(), LessonStatus::Pending).unwrap();
    assert_eq!(pending.len(), 1);
    let lesson = a
        .ok(&moderator(9, NORTH), Request::LessonShow { id: pending[0] })
        .all_text();
    contains(&lesson, "Terugkoppelen zonder mandaat");
    contains(&lesson, "Schrijf elke week drie zinnen");
    assert!(
        !lesson.contains("vast terugkoppelmoment"),
        "Bram said no: {lesson}"
    );
    assert!(
        !lesson.contains("Carla"),
        "Carla answered anonymously: {lesson}"
    );
    assert!(
        lesson.contains("zonder mandaat?"),
        "the question is what happened: {lesson}"
    );
    let moderator_told = a.deliver();
    assert!(moderator_told
        .iter()
        .any(|m| m.to == Recipient::User(UserId(9))
            && m.reply.body.contains(&pending[0].to_string())));
    let queue = a
        .ok(&moderator(9, NORTH), Request::ReviewQueue { page: 0 })
        .all_text();
    contains(&queue, "Terugkoppelen zonder mandaat");
    assert_eq!(
        a.refused(&moderator(9, NORTH), request.clone()),
        k::QUESTION_ALREADY_LESSON
    );

    // The only author who said yes deletes their data: the draft held nothing of anyone else
    // and goes, and the question is open again for a lesson of the answers that remain.
    a.ok(&carla, Request::MyDataDelete { confirm: true });
    assert!(
        academie::search::with_status(a.store.as_ref(), LessonStatus::Pending)
            .unwrap()
            .is_empty()
    );
    let shown = a
        .ok(&asker, Request::QuestionShow { id: question })
        .all_text();
    assert!(
        !shown.contains(&pending[0].to_string()),
        "no lesson that is gone: {shown}"
    );
    a.deliver();
    let asked = a.ok(&moderator(9, NORTH), request);
    assert!(asked.body.contains("1 beantwoorder"), "{}", asked.body);
    let asks = a.deliver();
    assert_eq!(
        asks.iter().map(|m| m.to).collect::<Vec<_>>(),
        vec![Recipient::User(UserId(3))],
        "the answer that helped and remains is asked again"
    );
}

#[test]
fn the_open_questions_list_the_day_each_was_asked_as_the_reader_writes_dates() {
    let a = north_and_south();
    // Half past midnight in Amsterdam on Tuesday 3 March: Monday 2 March in UTC.
    *a.clock.0.lock().unwrap() = chrono::DateTime::parse_from_rfc3339("2026-03-02T23:30:00Z")
        .unwrap()
        .into();
    ask(
        &a,
        &member(2, "Anna", NORTH),
        "Wie kent een goed convenant?",
        Attribution::Named,
    );
    let list = a.ok(&member(3, "Bert", SOUTH), Request::QuestionList);
    assert!(
        list.all_text()
            .contains("V1 · Wie kent een goed convenant? · 0 antwoorden · 03-03-2026"),
        "{}",
        list.all_text()
    );
    let mut english = member(4, "Erik", SOUTH);
    english.actor.lang = Lang::En;
    let list = a.ok(&english, Request::QuestionList);
    assert!(
        list.all_text()
            .contains("V1 · Wie kent een goed convenant? · 0 answers · 3 Mar 2026"),
        "{}",
        list.all_text()
    );
}

#[test]
fn a_private_collaboration_gets_no_questions_and_an_open_question_is_listed_once_in_a_digest() {
    let a = north_and_south();
    a.exchange(
        &moderator(5, SOUTH),
        ExchangeChange {
            questions: Some(false),
            ..Default::default()
        },
    );
    let question = ask(
        &a,
        &member(2, "Anna", NORTH),
        "Wie kent een goed convenant?",
        Attribution::Anonymous,
    );
    assert!(a
        .deliver()
        .iter()
        .all(|m| m.to != Recipient::Channel(SOUTH)));
    assert_eq!(
        a.refused(
            &member(3, "Bram", SOUTH),
            Request::QuestionShow { id: question }
        ),
        k::QUESTION_NOT_FOUND
    );

    // A week without an answer: the next digest at home lists it, and only that one.
    a.lesson(
        &member(2, "Anna", NORTH),
        "Een les voor de digest",
        vec![Step::Issue],
        Attribution::Named,
    );
    a.advance(Duration::days(8));
    let m = moderator(5, NORTH);
    let preview = a
        .ok(
            &m,
            Request::DigestCompose {
                title: None,
                filter: DigestFilter::default(),
            },
        )
        .all_text();
    contains(&preview, "Vragen zonder antwoord");
    contains(&preview, "Wie kent een goed convenant?");
    let published = a
        .ok(&m, Request::DigestPublish { id: DigestId(1) })
        .all_text();
    contains(&published, "Wie kent een goed convenant?");
    a.lesson(
        &member(2, "Anna", NORTH),
        "Nog een les",
        vec![Step::Issue],
        Attribution::Named,
    );
    let next = a
        .ok(
            &m,
            Request::DigestCompose {
                title: None,
                filter: DigestFilter::default(),
            },
        )
        .all_text();
    assert!(
        !next.contains("Wie kent een goed convenant?"),
        "listed once: {next}"
    );
}

#[test]
fn step_five_answers_of_others_are_read_side_by_side_without_names_when_they_allow_it() {
    let a = north_and_south();
    let m = moderator(5, SOUTH);
    a.ok(
        &m,
        Request::RoundStart {
            step: Step::Relate,
            deadline: None,
        },
    );
    a.ok(
        &member(3, "Bram Bakker", SOUTH),
        Request::AnswerSubmit {
            text: "We leren samen met de buurregio in een gedeeld leerteam.".into(),
            round: None,
        },
    );
    let reader = member(2, "Anna", NORTH);
    // Open, but not yet revealed: nothing to read.
    a.exchange(
        &m,
        ExchangeChange {
            step5: Some(true),
            ..Default::default()
        },
    );
    let before = a.ok(&reader, Request::Step5Elsewhere).all_text();
    assert!(
        !before.contains("leerteam"),
        "blind until revealed: {before}"
    );
    a.ok(&m, Request::RoundReveal { round: None });
    let read = a.ok(&reader, Request::Step5Elsewhere).all_text();
    contains(&read, "gedeeld leerteam");
    contains(&read, "Woningbouw Zuid");
    lacks(&read, "Bram");
    // Taken back: gone.
    a.exchange(
        &m,
        ExchangeChange {
            step5: Some(false),
            ..Default::default()
        },
    );
    assert!(!a
        .ok(&reader, Request::Step5Elsewhere)
        .all_text()
        .contains("leerteam"));
}

#[test]
fn a_lesson_from_elsewhere_is_taken_into_a_digest_of_ones_own() {
    let a = north_and_south();
    let theirs = a.lesson(
        &member(2, "Anna Aalbers", NORTH),
        "Hun les",
        vec![Step::Issue],
        Attribution::Named,
    );
    let ours = a.lesson(
        &member(3, "Bram", SOUTH),
        "Onze les",
        vec![Step::Issue],
        Attribution::Named,
    );
    let m = moderator(5, SOUTH);
    let compose = Request::DigestCompose {
        title: None,
        filter: DigestFilter::default(),
    };
    let first = a.ok(&m, compose.clone()).all_text();
    assert!(
        first.contains("Onze les") && !first.contains("Hun les"),
        "{first}"
    );
    assert_eq!(
        a.refused(&m, Request::DigestTake { id: ours }),
        k::SHARED_TAKE_OWN
    );
    assert_eq!(
        a.refused(
            &member(3, "Bram", SOUTH),
            Request::DigestTake { id: theirs }
        ),
        k::ERROR_NOT_MODERATOR
    );
    let shown = a.ok(&m, Request::LessonShow { id: theirs });
    assert!(shown
        .choices
        .iter()
        .any(|c| c.action == Action::TakeLesson(theirs)));
    a.ok(&m, Request::DigestTake { id: theirs });
    let second = a.ok(&m, compose.clone());
    let text = second.all_text();
    assert!(
        text.contains("Hun les") && text.contains("Onze les"),
        "{text}"
    );
    let Some(Action::PublishDigest(d)) = second.choices.first().map(|c| c.action.clone()) else {
        panic!("no publish button")
    };
    a.ok(&m, Request::DigestPublish { id: d });
    // Taken once: the next digest has it no more; at home it was never published.
    a.lesson(
        &member(3, "Bram", SOUTH),
        "Nieuwe les",
        vec![Step::Issue],
        Attribution::Named,
    );
    assert!(!a.ok(&m, compose.clone()).all_text().contains("Hun les"));
    let home = a.ok(&moderator(6, NORTH), compose).all_text();
    contains(&home, "Hun les");
}

#[test]
fn a_meeting_gets_an_agenda_sign_ups_a_page_and_one_button_for_its_lessons() {
    let a = academy();
    a.setup(NORTH, Some(7), "Energietransitie Noord");
    let on = |id, name: &str, role| person(id, name, role, NORTH, Some(7));
    let m = on(5, "Mira", Role::Moderator);
    let anna = on(2, "Anna Aalbers", Role::Member);
    a.lesson(
        &anna,
        "Een les met naam",
        vec![Step::Issue],
        Attribution::Named,
    );
    a.lesson(
        &anna,
        "Een anonieme les",
        vec![Step::Issue],
        Attribution::Anonymous,
    );
    ask(
        &a,
        &anna,
        "Wie helpt met de warmtevisie?",
        Attribution::Named,
    );
    a.ok(
        &m,
        Request::RoundStart {
            step: Step::Issue,
            deadline: None,
        },
    );
    for (id, name, text) in [
        (2, "Anna", "Het vraagstuk is netcongestie in de wijken."),
        (
            3,
            "Bram",
            "Voor ons gaat het om betaalbaarheid van de warmte.",
        ),
    ] {
        a.ok(
            &on(id, name, Role::Member),
            Request::AnswerSubmit {
                text: text.into(),
                round: None,
            },
        );
    }
    a.ok(&m, Request::RoundReveal { round: None });
    a.deliver();

    let starts = a.clock.now() + Duration::days(7);
    let plan = |address: Option<&str>, voice: Option<ChannelId>| Request::MeetingPlan {
        starts: starts.into(),
        minutes: None,
        title: None,
        address: address.map(str::to_owned),
        voice,
    };
    assert_eq!(a.refused(&m, plan(None, None)), k::MEETING_NEEDS_PLACE);
    assert_eq!(
        a.refused(&m, plan(Some("Stadhuis"), Some(ChannelId(77)))),
        k::MEETING_NEEDS_PLACE
    );
    assert_eq!(
        a.refused(&anna, plan(Some("Stadhuis"), None)),
        k::ERROR_NOT_MODERATOR
    );
    assert_eq!(
        a.refused(
            &m,
            Request::MeetingPlan {
                starts: (a.clock.now() - Duration::hours(1)).into(),
                minutes: None,
                title: None,
                address: Some("Stadhuis".into()),
                voice: None
            }
        ),
        k::MEETING_IN_PAST
    );
    let planned = a.ok(
        &m,
        plan(Some("Provinciehuis, Martinikerkhof 12, Groningen"), None),
    );
    let text = planned.all_text();
    assert!(
        text.contains("Een les met naam") && text.contains("Anna Aalbers"),
        "{text}"
    );
    contains(&text, "Een anonieme les");
    assert_eq!(text.matches("Anna Aalbers").count(), 1, "{text}");
    contains(&text, "Wie helpt met de warmtevisie?");
    assert!(
        text.contains("netcongestie") || text.contains("betaalbaarheid"),
        "{text}"
    );
    contains(&text, "Martinikerkhof");
    let meeting = MeetingId(1);
    // The server's calendar gets it as an event.
    let plan = a
        .engine
        .event_plan(meeting)
        .unwrap()
        .expect("an event plan");
    assert_eq!(plan.server, ServerId(7));
    assert!(plan.name.chars().count() <= 100 && plan.description.chars().count() <= 1000);
    assert!(a.outbox().iter().any(|o| o.to == Recipient::Event(meeting)));
    // The site has the agenda, without the anonymous author.
    let page = std::fs::read_to_string(a._dir.path().join("site/meetings/B1.html")).unwrap();
    assert!(page.contains("Een anonieme les") && page.contains("Wie helpt met de warmtevisie?"));
    assert_eq!(page.matches("Anna Aalbers").count(), 1, "{page}");
    assert!(a._dir.path().join("site/meetings/B1.md").exists());
    // A collaboration that keeps its lessons private keeps its agenda out of the site.
    a.exchange(
        &m,
        ExchangeChange {
            lessons: Some(false),
            ..Default::default()
        },
    );
    a.engine.export_site(&a._dir.path().join("site")).unwrap();
    assert!(!a._dir.path().join("site/meetings/B1.html").exists());
    a.exchange(
        &m,
        ExchangeChange {
            lessons: Some(true),
            ..Default::default()
        },
    );

    // Signing up, and off again.
    let joined = a.ok(&anna, Request::MeetingJoin { id: meeting });
    assert!(joined.body.contains("1 deelnemer komt"), "{}", joined.body);
    a.ok(
        &on(3, "Bram", Role::Member),
        Request::MeetingJoin { id: meeting },
    );
    // Who signed up is offered to sign off when they look at it, not to sign up again; the
    // channel's post keeps the one button for everyone.
    let agenda = |who: &Ctx| a.ok(who, Request::MeetingAgenda { id: Some(meeting) });
    let labels = |r: &Reply| {
        r.choices
            .iter()
            .map(|c| c.label.clone())
            .collect::<Vec<_>>()
    };
    let seen = agenda(&anna);
    assert_eq!(labels(&seen), vec!["Ik kom toch niet"], "{}", seen.body);
    contains(&seen.body, "Je hebt je aangemeld. Toch niet?");
    contains(&seen.body, "/bijeenkomst aanmelden id:B1");
    assert!(!seen.body.contains("Kom je?"), "{}", seen.body);
    let carla = on(4, "Carla", Role::Member);
    let other = agenda(&carla);
    assert_eq!(labels(&other), vec!["Ik kom"], "{}", other.body);
    // The command it names works as typed (it needs the id).
    contains(
        &other.body,
        "Kom je? Meld je aan met de knop of met /bijeenkomst aanmelden id:B1.",
    );
    let off = a.ok(&anna, Request::MeetingJoin { id: meeting });
    assert!(off.body.contains("niet meer"), "{}", off.body);
    assert_eq!(labels(&agenda(&anna)), vec!["Ik kom"]);
    assert_eq!(
        a.refused(
            &member(3, "Bram", SOUTH),
            Request::MeetingJoin { id: meeting }
        ),
        k::MEETING_NOT_FOUND
    );

    // Not before it took place; afterwards, its planner gets the one button.
    assert_eq!(
        a.refused(&m, Request::MeetingLessons { id: meeting }),
        k::MEETING_NOT_YET
    );
    a.deliver();
    a.advance(Duration::days(7) + Duration::hours(3));
    a.engine.run_due().unwrap();
    let after = a.deliver();
    let button = after
        .iter()
        .find(|o| o.to == Recipient::Channel(NORTH))
        .expect("the channel hears the meeting is over");
    assert!(button
        .reply
        .choices
        .iter()
        .any(|c| c.action == Action::AskMeetingLessons(meeting)));
    let asked = a.ok(&m, Request::MeetingLessons { id: meeting });
    assert_eq!(asked.visibility, Visibility::Channel);
    assert!(asked
        .choices
        .iter()
        .any(|c| c.action == Action::ShareFromMeeting(meeting)));
    assert!(asked.body.contains("bijeenkomst-b1"), "{}", asked.body);
    assert_eq!(
        a.refused(&anna, Request::MeetingJoin { id: meeting }),
        k::MEETING_OVER
    );
    // Over, it offers nobody to sign up any more.
    let past = a.ok(&anna, Request::MeetingAgenda { id: Some(meeting) });
    assert!(past.choices.is_empty(), "{:?}", past.choices);
    contains(&past.body, "Bijeenkomst B1");
    contains(&past.body, "is voorbij (1 aangemeld)");
    assert!(!past.body.contains("Kom je?"), "{}", past.body);
}

#[test]
fn an_agenda_names_as_one_persons_own_only_words_nobody_else_raised_in_the_last_step_1_round() {
    // Seen in use: a Dutch and an English answer both named Enexis; the reveal rightly said
    // they could not be compared, yet the agenda listed "enexis" as raised by one person only.
    let a = academy();
    a.setup(NORTH, Some(7), "Energietransitie Noord");
    let on = |id, name: &str, role| person(id, name, role, NORTH, Some(7));
    let m = on(5, "Mira", Role::Moderator);
    let plan = |a: &Academy| {
        let planned = a.ok(
            &m,
            Request::MeetingPlan {
                starts: (a.clock.now() + Duration::days(7)).into(),
                minutes: None,
                title: None,
                address: Some("Provinciehuis".into()),
                voice: None,
            },
        );
        planned.all_text()
    };
    let round_of = |a: &Academy, step: Step, answers: &[(u64, &str, &str)]| {
        a.ok(
            &m,
            Request::RoundStart {
                step,
                deadline: None,
            },
        );
        for (id, name, text) in answers {
            a.ok(
                &on(*id, name, Role::Member),
                Request::AnswerSubmit {
                    text: (*text).into(),
                    round: None,
                },
            );
        }
        a.ok(&m, Request::RoundReveal { round: None });
        a.ok(&m, Request::RoundClose { round: None });
    };
    let round = |a: &Academy, answers: &[(u64, &str, &str)]| round_of(a, Step::Issue, answers);
    // Only a step-4 round revealed: the agenda does not say no round was (seen in use).
    let fresh = academy();
    fresh.setup(NORTH, Some(7), "Energietransitie Noord");
    round_of(
        &fresh,
        Step::Organise,
        &[
            (2, "Noor", "Een programmabureau met een eigen budget."),
            (3, "Anna", "Een convenant; het geld blijft bij de partners."),
        ],
    );
    let text = plan(&fresh);
    contains(
        &text,
        "3. Waar we uiteenliepen — nog geen onthulde ronde over stap 1.",
    );
    round(
        &a,
        &[
            (2, "Noor", "Bewoners, Enexis en de woningcorporaties."),
            (3, "Liam", "Residents, Enexis and the housing corporations."),
        ],
    );
    let text = plan(&a);
    contains(&text, "te weinig om overeenkomst te meten.");
    for word in [
        "Alleen door één persoon genoemd",
        "enexis",
        "bewoners",
        "residents",
    ] {
        assert!(!text.contains(word), "{word} in:\n{text}");
    }
    // Compared answers still show the words only one of them used.
    round(
        &a,
        &[
            (2, "Noor", "Het vraagstuk is netcongestie in de wijken."),
            (
                3,
                "Bram",
                "Netcongestie en de betaalbaarheid van de warmte.",
            ),
        ],
    );
    let text = plan(&a);
    contains(&text, "Alleen door één persoon genoemd");
    contains(&text, "betaalbaarheid");
    // Two answers in each language are compared within each; a name in one of each is still
    // raised by two, and words only one used still show.
    round(
        &a,
        &[
            (2, "Noor", "Enexis en de bewoners."),
            (3, "Anna", "Netcongestie in de wijken."),
            (4, "Liam", "Enexis and the residents."),
            (5, "Sam", "Grid congestion in the neighbourhoods."),
        ],
    );
    let text = plan(&a);
    contains(&text, "Ronde R3 (Stap 1");
    assert!(!text.contains("enexis"), "{text}");
    contains(&text, "netcongestie");
    // A step-2 round shows no meter at its reveal, so the agenda keeps to the last step-1 round.
    round_of(
        &a,
        Step::Others,
        &[
            (2, "Noor", "De netbeheerder en de bewoners."),
            (3, "Anna", "Bewoners en de provincie."),
        ],
    );
    let text = plan(&a);
    contains(&text, "Ronde R3 (Stap 1");
    assert!(!text.contains("Ronde R4"), "{text}");
}

#[test]
fn export_and_delete_cover_questions_answers_and_sign_ups() {
    let a = north_and_south();
    let fenna = member(21, "Fenna Friesland", NORTH);
    let other = member(22, "Otto Overijssel", SOUTH);
    let mine = ask(
        &a,
        &fenna,
        "Fenna vraagt naar terugkoppelen xq17",
        Attribution::Named,
    );
    let theirs = ask(
        &a,
        &other,
        "Otto vraagt naar convenanten",
        Attribution::Named,
    );
    a.ok(
        &fenna,
        Request::QuestionAnswer {
            id: theirs,
            text: "Fenna antwoordt over convenanten zq42".into(),
            attribution: Attribution::Named,
        },
    );
    a.ok(
        &other,
        Request::QuestionAnswer {
            id: mine,
            text: "Otto antwoordt Fenna".into(),
            attribution: Attribution::Named,
        },
    );
    let gijs = member(23, "Gijs", NORTH);
    a.ok(
        &gijs,
        Request::QuestionAnswer {
            id: theirs,
            text: "Gijs antwoordt over convenanten".into(),
            attribution: Attribution::Named,
        },
    );
    // Otto's question becomes a lesson with Fenna's and Gijs's answers in it.
    a.ok(
        &moderator(5, SOUTH),
        Request::QuestionToLesson {
            id: theirs,
            title: "Convenanten".into(),
            order: Order::Second,
            steps: vec![],
        },
    );
    a.ok(
        &fenna,
        Request::QuestionConsent {
            id: theirs,
            consent: true,
        },
    );
    a.ok(
        &gijs,
        Request::QuestionConsent {
            id: theirs,
            consent: true,
        },
    );
    a.ok(
        &moderator(5, NORTH),
        Request::MeetingPlan {
            starts: (a.clock.now() + Duration::days(3)).into(),
            minutes: Some(90),
            title: None,
            address: Some("Gemeentehuis".into()),
            voice: None,
        },
    );
    a.ok(&fenna, Request::MeetingJoin { id: MeetingId(1) });

    let export = a.ok(&fenna, Request::MyDataExport);
    let json: serde_json::Value =
        serde_json::from_slice(&export.attachments[0].bytes).expect("json");
    assert_eq!(
        json["questions"][0]["text"],
        "Fenna vraagt naar terugkoppelen xq17"
    );
    assert_eq!(
        json["question_answers"][0]["text"],
        "Fenna antwoordt over convenanten zq42"
    );
    assert_eq!(json["sign_ups"][0]["meeting"], 1);
    assert_eq!(json["consents"][0][1], "given");
    // Someone else's export holds none of it.
    let others = String::from_utf8(
        a.ok(&other, Request::MyDataExport).attachments[0]
            .bytes
            .clone(),
    )
    .unwrap();
    assert!(
        !others.contains("Fenna antwoordt") && !others.contains("xq17"),
        "{others}"
    );

    let before = a.everything();
    assert!(before.contains("zq42") && before.contains("xq17"));
    a.ok(&fenna, Request::MyDataDelete { confirm: true });
    let after = a.everything();
    for gone in ["xq17", "zq42", "Fenna Friesland"] {
        for (tree, _, v) in a.snapshot() {
            let v = String::from_utf8_lossy(&v);
            assert!(!v.contains(gone), "{gone} is still stored in {tree:?}: {v}");
        }
    }
    assert!(a.store.scan_prefix(Tree::SignUps, &[]).unwrap().is_empty());
    // Otto's answer to the removed question is still his; the lesson lost Fenna's part.
    assert!(after.contains("Otto antwoordt Fenna"));
    assert_eq!(
        a.refused(&other, Request::QuestionShow { id: mine }),
        k::QUESTION_NOT_FOUND
    );
    let lesson = academie::search::with_status(a.store.as_ref(), LessonStatus::Pending).unwrap();
    let text = a
        .ok(&moderator(5, SOUTH), Request::LessonShow { id: lesson[0] })
        .all_text();
    assert!(
        text.contains("Otto vraagt naar convenanten") && !text.contains("zq42"),
        "{text}"
    );
    contains(&text, "Gijs antwoordt");
}

#[test]
fn a_collaboration_from_before_servers_were_kept_learns_its_server() {
    let a = academy();
    // Set up before servers were kept: no server on record.
    a.setup(NORTH, None, "Energietransitie Noord");
    let server = || -> serde_json::Value {
        let bytes = a
            .store
            .get(Tree::Collaborations, &NORTH.key())
            .unwrap()
            .expect("stored");
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["server"].clone()
    };
    assert!(server().is_null());
    let anna = person(2, "Anna", Role::Member, NORTH, Some(9));
    // A refusal changes nothing, not even this.
    assert_eq!(
        a.refused(&anna, Request::RoundReveal { round: None }),
        k::ERROR_NOT_MODERATOR
    );
    a.ok(&anna, Request::ShowCollaboration);
    assert_eq!(server(), serde_json::json!(9));
}
