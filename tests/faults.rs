//! Faults through the fake Discord: one scripted run of over a thousand interactions against the
//! real bot while Discord misbehaves — 500s and 429s on the bot's own REST calls, the gateway
//! dropped mid-round, invalid sessions (resumable and not), duplicated events — after which the
//! database must hold every answer exactly once, with its last text, and every interaction must
//! have had exactly one first response.
//!
//! What "sent" means here, since the gateway is sometimes down: an interaction counts as sent
//! when the fake wrote its event to the bot's connection, live or replayed on RESUME (Discord
//! keeps a resumable session's events and replays them). Such an answer must be stored. An
//! interaction created after a non-resumable invalid session and before the bot identified
//! again had no session to go to: Discord shows the user "This interaction failed", nothing
//! reaches the bot, and the script's user types it again, with new text. Those lost texts must
//! appear nowhere.
//!
//! Where the bot tries again: the first response (callback) on a 500, 429 or broken connection
//! while Discord's three seconds last; follow-ups, edits, direct messages and outbox messages a
//! few times. A callback whose 500 came after it had taken effect is tried again and gets 40060
//! "already acknowledged", which the bot takes as answered; the engine ran once either way, so
//! the user's data is saved once.

use crate::support;

use crate::support::text::contains;
use academie::discord::serve;
use academie::engine::Settings;
use academie::store::{SledStore, Store, Tree};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::academy::{self, TestClock};
use support::fake_discord::*;

const WAIT: Duration = Duration::from_secs(15);
const MEMBERS: u64 = 24;
const ROUNDS: u64 = 12;
const FIRST_MEMBER: u64 = 5_000;
const CALLBACK: &str = "/api/v10/interactions/*/*/callback";
const FOLLOWUP: &str = "/api/v10/webhooks/*/*";
const CHANNEL_POST: &str = "/api/v10/channels/*/messages";
const LIMITED: Fault = Fault::RateLimited { retry_after: 0.2 };

/// What the script did and therefore expects.
#[derive(Default)]
struct Model {
    /// (round, member) → the marker of the last answer whose interaction reached the bot.
    answers: BTreeMap<(u64, u64), String>,
    /// Every answer marker that reached the bot, superseded ones included.
    delivered_markers: Vec<String>,
    /// Markers of answers whose interaction no session delivered.
    lost_markers: Vec<String>,
    /// Titles of lessons whose submit reached the bot.
    lessons: Vec<String>,
    /// Every interaction the script created.
    sent: Vec<Sent>,
    /// Events dispatched a second time by the script.
    duplicated: usize,
}

struct Run {
    fake: FakeDiscord,
    model: Mutex<Model>,
    /// Interactions created so far; chaos waits for it to reach a point mid-round.
    progress: AtomicUsize,
}

impl Run {
    fn model(&self) -> std::sync::MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Dispatches (twice when `twice`) and waits for the first response; `None` when no session
    /// delivered the event.
    async fn send(&self, sent: Sent, twice: bool) -> Option<Response> {
        self.fake.dispatch(&sent).await;
        if twice {
            self.fake.dispatch(&sent).await;
            self.model().duplicated += 1;
        }
        self.model().sent.push(sent.clone());
        self.progress.fetch_add(1, Ordering::SeqCst);
        if self.fake.lost(&sent) {
            return None;
        }
        let r = self
            .fake
            .response_after_quiet(&sent, WAIT, Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("no answer: {e}"));
        Some(r)
    }

    /// After a lost interaction the user waits until the bot is back and tries again.
    async fn back(&self) {
        self.fake.wait_ready(WAIT).await.expect("the bot came back");
    }

    async fn cmd(&self, user: &FakeUser, command: &str, options: &[(&str, Value)]) -> Response {
        let sent = self
            .fake
            .command_payload(user, Some(CHANNEL_ID), command, options);
        self.send(sent, false)
            .await
            .expect("moderator commands run while the gateway is up")
    }
}

/// A word that identifies one version of one answer and survives splitting (no spaces).
fn marker(round: u64, user: u64, version: u64) -> String {
    format!("antwoord-r{round}-u{user}-v{version}")
}

fn answer_text(marker: &str) -> String {
    format!(
        "{marker} Het vraagstuk is dat water, woningbouw en landbouw om dezelfde grond vragen, \
         en dat gemeente, provincie en waterschap elk een ander stuk ervan zien. Wij willen eerst \
         samen vaststellen wat we niet weten, voordat iemand een oplossing kiest."
    )
}

/// One member's part in a round: answer, sometimes edit, sometimes share a lesson or look at
/// the round's status.
async fn member_round(run: Arc<Run>, user: FakeUser, idx: u64, round: u64, button: String) {
    let twice = matches!(round, 5 | 10) || (round == 7 && idx.is_multiple_of(3));
    let versions = if (idx + round).is_multiple_of(2) {
        2
    } else {
        1
    };
    let mut version = 1;
    let mut attempt = 0;
    while version <= versions {
        attempt += 1;
        let click = run.fake.click_payload(&user, Some(CHANNEL_ID), &button);
        let Some(form) = run.send(click, false).await else {
            run.back().await;
            continue;
        };
        assert_eq!(
            form.callback_type,
            9,
            "the answer button opens a form: {}",
            form.text()
        );
        let form_id = form.callback["custom_id"]
            .as_str()
            .expect("form id")
            .to_owned();
        let m = marker(round, user.id, attempt);
        let text = answer_text(&m);
        let submit = run
            .fake
            .modal_payload(&user, Some(CHANNEL_ID), &form_id, &[("text", &text)]);
        match run.send(submit, twice).await {
            None => {
                run.model().lost_markers.push(m);
                run.back().await;
            }
            Some(saved) => {
                assert!(saved.is_ephemeral(), "{}", saved.text());
                let mut model = run.model();
                model.answers.insert((round, user.id), m.clone());
                model.delivered_markers.push(m);
                version += 1;
            }
        }
    }
    if (idx + round).is_multiple_of(6) {
        loop {
            let open = run.fake.command_payload(
                &user,
                Some(CHANNEL_ID),
                "lesson share",
                &[
                    ("order", json!("second")),
                    ("steps", json!("1,3")),
                    ("as", json!("named")),
                ],
            );
            let Some(form) = run.send(open, false).await else {
                run.back().await;
                continue;
            };
            assert_eq!(form.callback_type, 9, "{}", form.text());
            let form_id = form.callback["custom_id"]
                .as_str()
                .expect("form")
                .to_owned();
            let title = format!("Les van lid {} uit ronde {round}", user.id);
            let submit = run.fake.modal_payload(
                &user,
                Some(CHANNEL_ID),
                &form_id,
                &[
                    ("title", &title),
                    (
                        "happened",
                        "Aan tafel bleek iedereen iets anders te bedoelen.",
                    ),
                    ("lesson", "Spreek eerst af wat het vraagstuk is."),
                    ("tags", "water"),
                ],
            );
            if run.send(submit, twice).await.is_some() {
                run.model().lessons.push(title);
                break;
            }
            run.back().await;
        }
    }
    if (idx + round).is_multiple_of(5) {
        let status = run
            .fake
            .command_payload(&user, Some(CHANNEL_ID), "round status", &[]);
        if run.send(status, twice).await.is_none() {
            run.back().await;
        }
    }
}

/// What Discord does wrong while the members of a round are busy.
async fn chaos(run: Arc<Run>, round: u64, from: usize) {
    let at = |n: usize| {
        let run = run.clone();
        async move {
            while run.progress.load(Ordering::SeqCst) < from + n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    match round {
        4 | 10 | 12 => {
            at(30).await;
            run.fake.drop_gateway().await;
            if round == 12 {
                at(70).await;
                run.fake.drop_gateway().await;
            }
        }
        6 => {
            at(30).await;
            run.fake.invalidate_session(true);
        }
        7 => {
            at(30).await;
            run.fake.replay_seen_on_next_resume(8);
            run.fake.drop_gateway().await;
        }
        9 => {
            at(30).await;
            run.fake.invalidate_session(false);
        }
        11 => {
            at(20).await;
            run.fake.replay_seen_on_next_resume(5);
            run.fake.invalidate_session(true);
        }
        _ => {}
    }
}

/// Waits until every marker shows up in `text()` or the time is up, then returns the text.
async fn wait_for_text(get: impl Fn() -> String, markers: &[String]) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = get();
        if markers.iter().all(|m| text.contains(m.as_str())) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn posted_text(fake: &FakeDiscord) -> String {
    fake.posted(CHANNEL_ID)
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_interactions_through_faults_lose_and_double_nothing() {
    let began = Instant::now();
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("db");
    let clock = TestClock::at(chrono::Utc::now());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let store = Arc::new(SledStore::open(&db, None).expect("store"));
    let task = {
        let engine = Arc::new(academy::engine(
            store.clone(),
            clock.clone(),
            Settings::default(),
        ));
        let options = academy::serve_options(fake.base_url());
        tokio::spawn(serve(engine, options, async move {
            let _ = rx.await;
        }))
    };
    fake.wait_ready(WAIT).await.expect("the bot connected");
    let run = Arc::new(Run {
        fake,
        model: Mutex::default(),
        progress: AtomicUsize::new(0),
    });
    let admin = FakeUser::admin(1, "Beheerder");
    let moderator = FakeUser::moderator(2, "Mira");
    let members: Vec<FakeUser> = (0..MEMBERS)
        .map(|i| FakeUser::member(FIRST_MEMBER + i, &format!("Lid {i}")))
        .collect();
    let setup = run.cmd(&admin, "setup", &academy::delta_setup()).await;
    contains(&setup.text(), "Klimaatadaptatie");

    for round in 1..=ROUNDS {
        let deadline_round = round % 4 == 0;
        let step = (round - 1) % 5 + 1;
        let mut options = vec![("step", json!(step.to_string()))];
        // The engine reads a typed deadline against its own clock, which each deadline round
        // then moves past.
        let days = 2 * round / 4;
        if deadline_round {
            options.push(("deadline", json!(format!("{days}d"))));
        }
        let started = run.cmd(&moderator, "moderator round start", &options).await;
        let button = started
            .button("Antwoord")
            .unwrap_or_else(|| panic!("round {round} has an answer button: {}", started.text()));
        // Faults on the members' own requests, used up by whoever comes first.
        match round {
            2 => run.fake.fail_next("POST", CALLBACK, 3, Fault::ServerError),
            3 => run.fake.fail_next("POST", CALLBACK, 3, LIMITED),
            8 => run
                .fake
                .fail_next("POST", CALLBACK, 3, Fault::ServerErrorAfterEffect),
            10 => run.fake.fail_next("POST", CALLBACK, 2, Fault::ServerError),
            _ => {}
        }
        let from = run.progress.load(Ordering::SeqCst);
        let mut tasks = Vec::new();
        for (i, user) in members.iter().enumerate() {
            tasks.push(tokio::spawn(member_round(
                run.clone(),
                user.clone(),
                i as u64,
                round,
                button.clone(),
            )));
        }
        let chaos = tokio::spawn(chaos(run.clone(), round, from));
        for t in tasks {
            t.await.expect("member task");
        }
        chaos.abort();
        run.fake.wait_ready(WAIT).await.expect("the gateway is up");

        let markers: Vec<String> = run
            .model()
            .answers
            .iter()
            .filter(|((r, _), _)| *r == round)
            .map(|(_, m)| m.clone())
            .collect();
        assert_eq!(
            markers.len() as u64,
            MEMBERS,
            "round {round}: everyone answered"
        );
        let revealed = if deadline_round {
            // The academy reveals on its own at the deadline, through the outbox.
            match round {
                4 => {
                    run.fake
                        .fail_next("POST", CHANNEL_POST, 2, Fault::ServerError);
                    run.fake.fail_next("POST", CHANNEL_POST, 1, LIMITED);
                }
                8 => run.fake.fail_next("POST", CHANNEL_POST, 2, LIMITED),
                // The message lands but the bot hears a 500: its retry must not post twice.
                12 => run
                    .fake
                    .fail_next("POST", CHANNEL_POST, 1, Fault::ServerErrorAfterEffect),
                _ => run
                    .fake
                    .fail_next("POST", CHANNEL_POST, 1, Fault::ServerError),
            }
            {
                let mut now = clock.0.lock().unwrap_or_else(|p| p.into_inner());
                *now = *now + chrono::Duration::days(days as i64) + chrono::Duration::minutes(1);
            }
            wait_for_text(|| posted_text(&run.fake), &markers).await
        } else {
            match round {
                5 => run.fake.fail_next("POST", FOLLOWUP, 2, Fault::ServerError),
                6 => run.fake.fail_next("POST", FOLLOWUP, 2, LIMITED),
                11 => {
                    run.fake.fail_next("POST", FOLLOWUP, 1, Fault::ServerError);
                    run.fake.fail_next("POST", FOLLOWUP, 1, LIMITED);
                }
                _ => {}
            }
            let sent = run.fake.command_payload(
                &moderator,
                Some(CHANNEL_ID),
                "moderator round reveal",
                &[],
            );
            run.send(sent.clone(), false).await.expect("reveal");
            // Follow-ups tried again come after a pause; wait for all of them.
            let deadline = Instant::now() + WAIT;
            loop {
                let r = run
                    .fake
                    .response_after_quiet(&sent, WAIT, Duration::ZERO)
                    .await
                    .expect("reveal");
                let text = r.text();
                if markers.iter().all(|m| text.contains(m.as_str())) || Instant::now() > deadline {
                    if Instant::now() > deadline {
                        eprintln!(
                            "round {round}: the reveal is incomplete; callback type {}, statuses {:?}, {} follow-ups",
                            r.callback_type,
                            run.fake.callback_statuses(&sent),
                            r.followups.len()
                        );
                    }
                    break text;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        for m in &markers {
            assert_eq!(
                revealed.matches(m.as_str()).count(),
                1,
                "round {round}: answer {m} is revealed exactly once"
            );
        }
        let closed = run.cmd(&moderator, "moderator round close", &[]).await;
        assert!(
            closed.text().contains(&format!("R{round}")),
            "{}",
            closed.text()
        );
        assert_eq!(
            run.fake.faults_pending(),
            0,
            "round {round}: every scripted fault was hit"
        );
    }

    // Stop the bot and read its database as it is on disk.
    let _ = tx.send(());
    tokio::time::timeout(WAIT, task)
        .await
        .expect("serve stopped in time")
        .expect("serve task")
        .expect("serve ended cleanly");
    // After a session was invalidated, serenity's client task can outlive `serve` (which waits
    // five seconds for it) and keeps the engine, and so the database's lock: read through the
    // store the engine used, which `serve` flushed before it returned.
    let answers: Vec<Value> = store
        .scan_prefix(Tree::Answers, &[])
        .expect("scan")
        .into_iter()
        .map(|(_, v)| serde_json::from_slice(&v).expect("an answer record"))
        .collect();
    let lessons: Vec<Value> = store
        .scan_prefix(Tree::Lessons, &[])
        .expect("scan")
        .into_iter()
        .map(|(_, v)| serde_json::from_slice(&v).expect("a lesson record"))
        .collect();

    let model = run.model();
    let fake = &run.fake;
    // Every answer stored once, with the last text that reached the bot; nothing else.
    let mut stored: HashMap<String, usize> = HashMap::new();
    for a in &answers {
        let text = a["text"].as_str().unwrap_or_default();
        let m = text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        *stored.entry(m).or_default() += 1;
    }
    assert_eq!(
        answers.len(),
        model.answers.len(),
        "one stored answer per member and round"
    );
    for m in model.answers.values() {
        assert_eq!(stored.get(m), Some(&1), "{m} is stored exactly once");
    }
    for m in &model.lost_markers {
        assert!(
            !stored.contains_key(m),
            "{m} never reached the bot, yet is stored"
        );
    }
    // Every lesson shared once, duplicated events notwithstanding.
    for title in &model.lessons {
        let n = lessons
            .iter()
            .filter(|l| l.to_string().contains(title.as_str()))
            .count();
        assert_eq!(n, 1, "{title} is stored exactly once");
    }
    assert_eq!(lessons.len(), model.lessons.len());
    // Every interaction that reached the bot had exactly one accepted first response; the lost
    // ones none.
    let mut delivered = 0;
    let mut lost = 0;
    for sent in &model.sent {
        let statuses = fake.callback_statuses(sent);
        let accepted = fake.callbacks_taken(sent);
        if fake.lost(sent) {
            lost += 1;
            assert!(statuses.is_empty(), "a lost interaction was answered");
        } else {
            delivered += 1;
            assert!(fake.delivered(sent));
            assert_eq!(
                accepted, 1,
                "one callback took effect; statuses {statuses:?}"
            );
        }
    }
    fake.assert_clean();

    let injected = fake.injected();
    let count =
        |f: &dyn Fn(&(Fault, String, String)) -> bool| injected.iter().filter(|x| f(x)).count();
    let stats = fake.gateway_stats();
    println!(
        "faults run: {} interactions ({delivered} delivered, {lost} lost while no session existed, {} events dispatched twice by the script), \
         {} answers checked ({} versions delivered), {} lessons; \
         callbacks: {} × 500, {} × 500 after effect, {} × 429; follow-ups: {} × 500, {} × 429; channel messages: {} × 500, {} × 429; \
         gateway: {} drops, {} invalid sessions resumable, {} not, {} READY, {} RESUMED, {} events replayed, {} seen events replayed again; \
         {:.1} s",
        model.sent.len(),
        model.duplicated,
        model.answers.len(),
        model.delivered_markers.len(),
        model.lessons.len(),
        count(&|(f, _, p)| *f == Fault::ServerError && p.ends_with("/callback")),
        count(&|(f, _, _)| *f == Fault::ServerErrorAfterEffect),
        count(&|(f, _, p)| matches!(f, Fault::RateLimited { .. }) && p.ends_with("/callback")),
        count(&|(f, _, p)| *f == Fault::ServerError && p.contains("/webhooks/")),
        count(&|(f, _, p)| matches!(f, Fault::RateLimited { .. }) && p.contains("/webhooks/")),
        count(&|(f, _, p)| *f == Fault::ServerError && p.contains("/channels/")),
        count(&|(f, _, p)| matches!(f, Fault::RateLimited { .. }) && p.contains("/channels/")),
        stats.dropped,
        stats.invalid_resumable,
        stats.invalid_fresh,
        stats.ready,
        stats.resumed,
        stats.replayed,
        stats.replayed_seen,
        began.elapsed().as_secs_f64(),
    );
    assert!(
        model.sent.len() >= 1000,
        "{} interactions",
        model.sent.len()
    );
    assert!(
        lost > 0,
        "the non-resumable invalid session lost some interactions"
    );
    assert!(stats.replayed > 0 && stats.replayed_seen > 0, "{stats:?}");
    assert!(model.duplicated > 0);
}
