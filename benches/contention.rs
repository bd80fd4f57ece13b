//! Whether a member's answer waits for someone else's heavy work: answers to a round in one
//! collaboration, sent at a steady 200 per second, while a moderator elsewhere reveals a round
//! of 10,000 answers, publishes a digest (the site holding a page per lesson of a 10,000-lesson
//! library), or a member deletes their data (which rewrites the store and the site).
//!
//! The load is open-loop: answer `j` is due at `start + j × 5 ms` and its latency counts from
//! then, so an answer that could not even be sent because the ones before it were stuck counts
//! the wait too. The figure is the p99 of the answers due while the heavy work ran, against the
//! p99 of the same stream with nothing else running (the floor), measured in the same run.

mod support;

use academie::domain::*;
use academie::engine::{Engine, Request, Settings};
use academie::store::SledStore;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::academy::{self, draft, ok, person, publish_button};
use support::{corpus, header, report, show, size, Samples};

const SEED: u64 = 2026;
/// Where the answers go: a collaboration with an open round.
const ANSWERS_HERE: ChannelId = ChannelId(3_001);
/// Where the heavy work happens: another collaboration.
const HEAVY_THERE: ChannelId = ChannelId(3_002);
/// Answers per second.
const RATE: u32 = 200;
/// Threads that send the answers; each takes every `WORKERS`-th due time.
const WORKERS: usize = 8;
/// During heavy work, the answers' p99 may be at most this many times the usual one.
const TARGET: f64 = 1.5;

/// The academy: a library of `lessons` corpus lessons, all published on its site.
struct World {
    engine: Engine,
    store: Arc<SledStore>,
    _dir: tempfile::TempDir,
}

impl World {
    fn build(lessons: usize, subjects: usize) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(SledStore::open(&dir.path().join("db"), None).expect("open"));
        corpus::load(store.as_ref(), lessons, SEED).expect("load the corpus");
        let engine = academy::engine(
            store.clone(),
            Settings {
                site_dir: Some(dir.path().join("site")),
                ..Settings::default()
            },
        );
        for channel in [ANSWERS_HERE, HEAVY_THERE] {
            academy::setup(&engine, channel);
        }
        let m = academy::moderator(ANSWERS_HERE);
        ok(
            &engine,
            &m,
            Request::RoundStart {
                step: Step::Issue,
                deadline: None,
            },
        );
        let world = World {
            engine,
            store,
            _dir: dir,
        };
        // Members with lessons of their own on the site, to delete their data.
        for i in 0..subjects {
            let who = world.subject(i);
            for j in 0..3 {
                ok(&world.engine, &who, Request::LessonShare(draft(i, j)));
                let id = academy::newest_lesson_of(world.store.as_ref(), who.actor.id);
                ok(
                    &world.engine,
                    &academy::moderator(HEAVY_THERE),
                    Request::ReviewApprove { id },
                );
            }
        }
        let there = academy::moderator(HEAVY_THERE);
        let reply = ok(
            &world.engine,
            &there,
            Request::DigestCompose {
                title: Some("Alles".into()),
                filter: DigestFilter::default(),
            },
        );
        ok(
            &world.engine,
            &there,
            Request::DigestPublish {
                id: publish_button(&reply),
            },
        );
        world
    }

    fn subject(&self, i: usize) -> academie::engine::Ctx {
        person(
            UserId(800_000 + i as u64),
            &format!("Lid {i}"),
            Role::Member,
            HEAVY_THERE,
        )
    }

    /// A step-1 round in the other collaboration with `n` answers, ready to reveal.
    fn big_round(&self, n: usize, seed: u64) {
        let m = academy::moderator(HEAVY_THERE);
        ok(
            &self.engine,
            &m,
            Request::RoundStart {
                step: Step::Issue,
                deadline: None,
            },
        );
        for (i, text) in corpus::answers(n, seed).into_iter().enumerate() {
            let who = person(
                UserId(2_000_000 + i as u64),
                &format!("Deelnemer {i}"),
                Role::Member,
                HEAVY_THERE,
            );
            ok(
                &self.engine,
                &who,
                Request::AnswerSubmit { text, round: None },
            );
        }
    }

    /// Five new lessons, approved and composed: a digest ready to publish.
    fn five_new(&self, rep: usize) -> DigestId {
        let m = academy::moderator(HEAVY_THERE);
        let writer = person(UserId(900), "Schrijver", Role::Member, HEAVY_THERE);
        for j in 0..5 {
            ok(
                &self.engine,
                &writer,
                Request::LessonShare(draft(1_000 + rep, j)),
            );
            let id = academy::newest_lesson_of(self.store.as_ref(), writer.actor.id);
            ok(&self.engine, &m, Request::ReviewApprove { id });
        }
        publish_button(&ok(
            &self.engine,
            &m,
            Request::DigestCompose {
                title: Some(format!("Week {rep}")),
                filter: DigestFilter::default(),
            },
        ))
    }
}

/// Answers sent open-loop while `heavy` runs (started `lead` after the stream): the
/// latencies of those due while it ran, of all of them, and how long it took.
fn stream_during(
    world: &World,
    next_member: &AtomicUsize,
    lead: Duration,
    tail: Duration,
    heavy: impl FnOnce() -> Duration,
) -> (Samples, Samples, Duration) {
    let interval = Duration::from_secs(1) / RATE;
    let done = AtomicBool::new(false);
    let results: Mutex<Vec<(Instant, Duration)>> = Mutex::new(Vec::new());
    let start = Instant::now() + Duration::from_millis(10);
    let window: Mutex<Option<(Instant, Instant, Duration)>> = Mutex::new(None);
    std::thread::scope(|s| {
        for w in 0..WORKERS {
            let (done, results) = (&done, &results);
            s.spawn(move || {
                let mut j = w;
                loop {
                    let due = start + interval * j as u32;
                    // The stream ends with the tail after the heavy work; an answer due later
                    // is not sent.
                    if done.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let i = next_member.fetch_add(1, Ordering::SeqCst);
                    let who = person(
                        UserId(10_000_000 + i as u64),
                        &format!("Beantwoorder {i}"),
                        Role::Member,
                        ANSWERS_HERE,
                    );
                    ok(
                        &world.engine,
                        &who,
                        Request::AnswerSubmit {
                            text: format!("Antwoord {i}: het vraagstuk is de wateroverlast."),
                            round: None,
                        },
                    );
                    results
                        .lock()
                        .expect("results")
                        .push((due, Instant::now().saturating_duration_since(due)));
                    j += WORKERS;
                }
            });
        }
        std::thread::sleep(lead);
        let began = Instant::now();
        let took = heavy();
        let ended = Instant::now();
        *window.lock().expect("window") = Some((began, ended, took));
        std::thread::sleep(tail);
        done.store(true, Ordering::SeqCst);
    });
    let (began, ended, took) = window.into_inner().expect("window").expect("ran");
    let mut during = Samples::new();
    let mut all = Samples::new();
    for (due, latency) in results.into_inner().expect("results") {
        all.push(latency);
        if due >= began && due <= ended {
            during.push(latency);
        }
    }
    (during, all, took)
}

pub fn main() {
    let lessons = size(10_000, 200);
    let answers = size(10_000, 50);
    let reps = size(3, 1);
    let world = World::build(lessons, reps);
    let next_member = AtomicUsize::new(0);
    let lead = Duration::from_millis(200);
    let tail = Duration::from_millis(200);

    let mut floor = Samples::new();
    let mut cases: Vec<(&str, Samples, Samples)> = vec![
        (
            "reveal of a 10,000-answer round elsewhere",
            Samples::new(),
            Samples::new(),
        ),
        (
            "publishing a 5-lesson digest, site of all lessons",
            Samples::new(),
            Samples::new(),
        ),
        (
            "delete my data (3 lessons on the site)",
            Samples::new(),
            Samples::new(),
        ),
    ];
    let m = academy::moderator(HEAVY_THERE);
    for rep in 0..reps {
        // The floor: the same stream with nothing else running, as long as a heavy phase.
        let (usual, _, _) = stream_during(&world, &next_member, lead, tail, || {
            std::thread::sleep(Duration::from_millis(support::size(2_000, 100) as u64));
            Duration::ZERO
        });
        floor.extend(usual);

        world.big_round(answers, SEED + rep as u64);
        let (during, _, took) = stream_during(&world, &next_member, lead, tail, || {
            let (took, reply) =
                support::time(|| ok(&world.engine, &m, Request::RoundReveal { round: None }));
            assert!(reply.sections.len() > answers, "every answer revealed");
            took
        });
        cases[0].1.extend(during);
        cases[0].2.push(took);
        ok(&world.engine, &m, Request::RoundClose { round: None });

        let digest = world.five_new(rep);
        let (during, _, took) = stream_during(&world, &next_member, lead, tail, || {
            support::time(|| ok(&world.engine, &m, Request::DigestPublish { id: digest })).0
        });
        cases[1].1.extend(during);
        cases[1].2.push(took);

        let who = world.subject(rep);
        let (during, _, took) = stream_during(&world, &next_member, lead, tail, || {
            support::time(|| ok(&world.engine, &who, Request::MyDataDelete { confirm: true })).0
        });
        cases[2].1.extend(during);
        cases[2].2.push(took);
    }

    header(&format!(
        "An answer while other work runs ({RATE} answers/s, {lessons} lessons, open loop)"
    ));
    println!(
        "| floor: answers with nothing else running (p50 / p99) | {} / {} ({} answers) | — | — |",
        show(floor.p50()),
        show(floor.p99()),
        floor.len()
    );
    for (name, during, heavy) in &cases {
        let r = support::ratio(during.p99(), floor.p99());
        report(
            &format!("answers during {name}: p99 vs usual p99"),
            &format!(
                "{} vs {} = {r:.1}× (slowest {}; {} answers; the work took {})",
                show(during.p99()),
                show(floor.p99()),
                show(during.percentile(100.0)),
                during.len(),
                show(heavy.p50())
            ),
            &format!("≤ {TARGET}×"),
            r <= TARGET,
        );
    }
}
