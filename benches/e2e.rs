//! End to end through the fake Discord: how long an interaction takes from the gateway frame
//! the fake sends to the callback request it receives, at a steady 200 interactions per second,
//! for the academy and for a bare serenity client that answers a constant (the framework
//! floor). The figure that counts is the ratio of the two, so what the academy adds is judged
//! apart from the framework, the fake and the machine.
//!
//! The load is open-loop: every interaction has a scheduled send time and is sent then, whether
//! or not earlier ones were answered, as Discord would. Both bots run in this process against a
//! fake of their own, started fresh for every phase; the fake checks every request against
//! Discord's spec and the three-second deadline, and any violation, missing or double callback
//! fails the run (smoke pass included).

#[path = "../tests/support/mod.rs"]
mod fake;
mod support;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use academie::config::Settings;
use academie::discord::custom_id::{encode_form, Form};
use academie::discord::{serve, ServeOptions};
use academie::domain::RoundId;
use fake::fake_discord::{FakeDiscord, FakeUser, Sent, CHANNEL_ID};
use serde_json::json;
use serenity::all::{
    ClientBuilder, Context, CreateAllowedMentions, CreateInteractionResponse,
    CreateInteractionResponseMessage, EventHandler, GatewayIntents, HttpBuilder, Interaction,
};
use serenity::builder::Builder;
use support::Samples;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The bench's bot token: the fake accepts any, and nothing here reaches Discord.
const TOKEN: &str = "bench-token-not-a-secret";
const RATE: u32 = 200;
const WAIT: Duration = Duration::from_secs(20);
/// The p99 the academy may reach, as a multiple of the floor's.
const TARGET: f64 = 1.5;
/// First user id of the members who answer; distinct per interaction, so answers never meet.
const FIRST_MEMBER: u64 = 100_000;

/// What one interaction of the mix is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    /// A member submits the answer form of the open round: one acknowledged, flushed write.
    Answer,
    /// `/help`: read only, a long text built from the command table.
    Help,
    /// `/round status`: read only, scans the round's answers so far.
    Status,
}

/// Eight in ten interactions are answers, one in ten each is `/help` and `/round status`,
/// spread evenly so every second of a phase has the same mix.
fn kind(i: usize) -> Kind {
    match i % 10 {
        3 => Kind::Help,
        7 => Kind::Status,
        _ => Kind::Answer,
    }
}

fn member(i: usize) -> FakeUser {
    let id = FIRST_MEMBER + i as u64;
    let user = FakeUser::member(id, &format!("Deelnemer {i}"));
    // Every fifth member's client is in English, as in a mixed collaboration.
    if i % 5 == 4 {
        user.locale("en-US")
    } else {
        user
    }
}

fn answer_text(i: usize) -> String {
    format!(
        "Antwoord {i}: het vraagstuk is dat gemeente, provincie en waterschap elk een ander \
         beeld hebben van wat klimaatadaptatie in de Delta vraagt. Wij willen eerst samen \
         vaststellen welke wijken het meest last hebben van wateroverlast, en pas daarna \
         kiezen wie wat betaalt."
    )
}

/// A bot under measurement, connected to its own fake.
struct Running {
    fake: FakeDiscord,
    stop: Box<dyn FnOnce() -> JoinHandle<Result<(), String>> + Send>,
    /// The answer form's custom_id, as the bot opened it.
    form: String,
    _dir: Option<tempfile::TempDir>,
}

impl Running {
    async fn stop(self) {
        let task = (self.stop)();
        match tokio::time::timeout(WAIT, task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("the bot ended with an error: {e}"),
            Ok(Err(e)) => panic!("the bot's task failed: {e}"),
            Err(_) => panic!("the bot did not stop within {WAIT:?}"),
        }
        self.fake.assert_clean();
    }
}

/// The academy exactly as `academie serve` starts it (settings, engine, starter library,
/// `serve`), on a fresh database, with a collaboration set up and step 1's round open.
async fn start_academy() -> Running {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("academie.toml");
    std::fs::write(&config, "").expect("config file");
    let vars = HashMap::from([
        ("DISCORD_TOKEN", TOKEN.to_string()),
        ("ACADEMIE_DISCORD_PROXY", fake.base_url()),
        (
            "ACADEMIE_DATABASE",
            dir.path().join("db").display().to_string(),
        ),
        (
            "ACADEMIE_EXPORT_DIR",
            dir.path().join("export").display().to_string(),
        ),
    ]);
    let settings =
        Settings::load(Some(&config), &|k| vars.get(k).cloned()).expect("bench settings");
    let options = ServeOptions::from_settings(&settings).expect("serve options");
    let engine = Arc::new(academie::open_engine(&settings).expect("engine"));
    engine.seed_library_if_empty().expect("starter library");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        serve(engine, options, async move {
            let _ = rx.await;
        })
        .await
        .map_err(|e| format!("{e:#}"))
    });
    fake.wait_ready(WAIT).await.expect("the academy connected");
    fake.wait_commands(WAIT)
        .await
        .expect("the academy registered its commands");

    let admin = FakeUser::admin(1, "Beheerder");
    let setup = fake
        .slash(
            &admin,
            Some(CHANNEL_ID),
            "setup",
            &[
                ("task", json!("Klimaatadaptatie in de Delta")),
                ("region", json!("Zuidwest-Delta")),
                ("layers", json!("gemeente, provincie, waterschap")),
            ],
        )
        .await;
    fake.response(&setup, WAIT).await.expect("setup answered");
    let moderator = FakeUser::moderator(2, "Mira");
    let start = fake
        .slash(
            &moderator,
            Some(CHANNEL_ID),
            "moderator round start",
            &[("step", json!("1"))],
        )
        .await;
    let started = fake.response(&start, WAIT).await.expect("round started");
    let button = started.button("Antwoord").expect("an answer button");
    // One member opens the form, so the fake knows its fields and checks every submit of it.
    let click = fake
        .click(&FakeUser::member(3, "Anouk"), Some(CHANNEL_ID), &button)
        .await;
    let opened = fake.response(&click, WAIT).await.expect("form opened");
    assert_eq!(opened.callback_type, 9, "the answer button opens a form");
    let form = opened.callback["custom_id"]
        .as_str()
        .expect("form id")
        .to_owned();
    Running {
        fake,
        stop: Box::new(move || {
            let _ = tx.send(());
            task
        }),
        form,
        _dir: Some(dir),
    }
}

/// The floor: a serenity client built as the academy builds its own (proxy base URL, rate
/// limiter off, the GUILDS intent) whose only work is one constant reply per interaction.
struct Constant;

#[serenity::async_trait]
impl EventHandler for Constant {
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let (id, token) = match &interaction {
            Interaction::Command(c) => (c.id, c.token.as_str()),
            Interaction::Component(c) => (c.id, c.token.as_str()),
            Interaction::Modal(m) => (m.id, m.token.as_str()),
            _ => return,
        };
        let reply = CreateInteractionResponse::Message(
            CreateInteractionResponseMessage::new()
                .content("Ontvangen.")
                .ephemeral(true)
                .allowed_mentions(CreateAllowedMentions::new()),
        );
        if let Err(e) = reply.execute(&ctx.http, (id, token)).await {
            eprintln!("the floor bot could not answer: {e}");
        }
    }
}

async fn start_floor() -> Running {
    let fake = FakeDiscord::start().await;
    let http = HttpBuilder::new(TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(Constant)
        .await
        .expect("floor client");
    let shards = client.shard_manager.clone();
    let task = tokio::spawn(async move { client.start().await.map_err(|e| e.to_string()) });
    fake.wait_ready(WAIT)
        .await
        .expect("the floor bot connected");
    Running {
        fake,
        stop: Box::new(move || {
            tokio::spawn(async move {
                shards.shutdown_all().await;
                match tokio::time::timeout(WAIT, task).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("the floor client did not stop".to_string()),
                }
            })
        }),
        // The floor never opened it, so the fake sends the fields as given.
        form: encode_form(&Form::Answer(RoundId(1))),
        _dir: None,
    }
}

/// What one phase measured.
struct Phase {
    latency: Samples,
    /// How late the sender was against the schedule, at worst: open loop only holds if small.
    worst_lag: Duration,
    /// Latency by kind, for the subject's breakdown.
    by_kind: HashMap<Kind, Samples>,
}

/// Sends `count` interactions of the mix at `RATE` per second, waits for every callback, checks
/// there is exactly one per interaction and that every answer was saved, and stops the bot.
async fn phase(bot: Running, count: usize, academy: bool) -> Phase {
    let fake = &bot.fake;
    let planned: Vec<(Kind, Sent)> = (0..count)
        .map(|i| {
            let user = member(i);
            let k = kind(i);
            let sent = match k {
                Kind::Answer => fake.modal_payload(
                    &user,
                    Some(CHANNEL_ID),
                    &bot.form,
                    &[("text", &answer_text(i))],
                ),
                Kind::Help => fake.command_payload(&user, Some(CHANNEL_ID), "help", &[]),
                Kind::Status => fake.command_payload(&user, Some(CHANNEL_ID), "round status", &[]),
            };
            (k, sent)
        })
        .collect();

    let interval = Duration::from_secs(1) / RATE;
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut worst_lag = Duration::ZERO;
    for (i, (_, sent)) in planned.iter().enumerate() {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due).await;
        fake.dispatch(sent).await;
        worst_lag = worst_lag.max(tokio::time::Instant::now().saturating_duration_since(due));
    }

    let deadline = Instant::now() + WAIT;
    loop {
        let missing = planned
            .iter()
            .filter(|(_, s)| fake.callbacks_for(s).is_empty())
            .count();
        if missing == 0 {
            break;
        }
        if Instant::now() >= deadline {
            panic!(
                "{missing} of {count} interactions got no callback within {WAIT:?} after the last was sent"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut latency = Samples::new();
    let mut by_kind: HashMap<Kind, Samples> = HashMap::new();
    for (k, sent) in &planned {
        // `response` also waits for follow-ups (a long status) to finish.
        let response = fake
            .response(sent, WAIT)
            .await
            .unwrap_or_else(|e| panic!("{k:?}: {e}"));
        let callbacks = fake.callbacks_for(sent);
        assert_eq!(
            callbacks.len(),
            1,
            "{k:?}: exactly one callback per interaction"
        );
        if academy && *k == Kind::Answer {
            let text = response.text();
            assert!(
                text.contains("opgeslagen") || text.contains("saved"),
                "an answer was not saved: {text}"
            );
        }
        let sent_at = fake.dispatched_at(sent).expect("dispatched");
        let took = callbacks[0].at.saturating_duration_since(sent_at);
        latency.push(took);
        by_kind.entry(*k).or_default().push(took);
    }
    bot.stop().await;
    Phase {
        latency,
        worst_lag,
        by_kind,
    }
}

pub fn main() {
    // The academy logs as the binary does, so an error during the run is seen.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "academie=warn,warn".into()),
        )
        .try_init()
        .ok();
    // The runtime the binary uses: multi-threaded, one worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let per_phase = support::size(10 * RATE as usize, 40);
    let rounds = support::size(6, 1);

    // Discarded: the fake compiles its schemas once per process, and the first phase of each
    // bot would pay for it.
    let warm = support::size(RATE as usize, 10);
    rt.block_on(async {
        phase(start_floor().await, warm, false).await;
        phase(start_academy().await, warm, true).await;
    });

    let floor = RefCell::new(Samples::new());
    let subject = RefCell::new(Samples::new());
    let subject_kinds: RefCell<HashMap<Kind, Samples>> = RefCell::default();
    let lines = RefCell::new(Vec::new());
    let worst_lag = Cell::new(Duration::ZERO);
    let phase_p99s = RefCell::new((Vec::new(), Vec::new()));
    let run = |academy: bool| {
        let p = rt.block_on(async {
            let bot = if academy {
                start_academy().await
            } else {
                start_floor().await
            };
            phase(bot, per_phase, academy).await
        });
        let p99 = p.latency.p99();
        lines.borrow_mut().push(format!(
            "{} p50 {} p99 {} (sender late by at most {})",
            if academy { "academy" } else { "floor  " },
            support::show(p.latency.p50()),
            support::show(p99),
            support::show(p.worst_lag)
        ));
        worst_lag.set(worst_lag.get().max(p.worst_lag));
        let mut p99s = phase_p99s.borrow_mut();
        if academy { &mut p99s.1 } else { &mut p99s.0 }.push(p99);
        if academy {
            subject.borrow_mut().extend(p.latency);
            let mut kinds = subject_kinds.borrow_mut();
            for (k, s) in p.by_kind {
                kinds.entry(k).or_default().extend(s);
            }
        } else {
            floor.borrow_mut().extend(p.latency);
        }
        p99
    };
    support::interleave(rounds, || run(false), || run(true));
    let (floor, subject) = (floor.into_inner(), subject.into_inner());
    let subject_kinds = subject_kinds.into_inner();

    let ratio = support::ratio(subject.p99(), floor.p99());
    let (floor_p99s, subject_p99s) = phase_p99s.into_inner();
    let mut round_ratios: Vec<f64> = floor_p99s
        .iter()
        .zip(&subject_p99s)
        .map(|(f, s)| support::ratio(*s, *f))
        .collect();
    support::header("End to end through the fake Discord, 200 interactions/s");
    info(
        &format!("floor: constant answer ({} interactions)", floor.len()),
        &floor,
    );
    info(
        &format!(
            "academy: 80% answers, 10% /help, 10% /round status ({} interactions)",
            subject.len()
        ),
        &subject,
    );
    for k in [Kind::Answer, Kind::Help, Kind::Status] {
        if let Some(s) = subject_kinds.get(&k) {
            info(&format!("academy, {k:?} only ({})", s.len()), s);
        }
    }
    support::report(
        "p99 academy / p99 floor",
        &format!("{ratio:.2}×"),
        &format!("≤ {TARGET}×"),
        ratio <= TARGET,
    );
    println!();
    println!("phases in the order run:");
    for l in lines.into_inner() {
        println!("  {l}");
    }
    let shown: Vec<String> = round_ratios.iter().map(|r| format!("{r:.2}×")).collect();
    round_ratios.sort_by(f64::total_cmp);
    println!(
        "p99 ratio per round: {} (median {:.2}×)",
        shown.join(", "),
        median(&round_ratios)
    );
    println!(
        "sender late by at most {} over all phases",
        support::show(worst_lag.get())
    );
}

/// The middle of sorted values, or the mean of the two middle ones.
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// A row of the report that states a figure without a target of its own.
fn info(name: &str, s: &Samples) {
    println!(
        "| {name}: p50 / p99 | {} / {} | — | — |",
        support::show(s.p50()),
        support::show(s.p99())
    );
}
