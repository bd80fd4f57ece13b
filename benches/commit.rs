//! How fast the academy confirms answers: one answer through the engine against a raw sled
//! insert and flush of the same bytes, and 64 members answering at once against the ideal
//! group commit — one thread doing the engine's own work for all 64 answers, then one flush —
//! with the pure sled limit (64 inserts, one flush) and one at a time beside it. Every answer
//! is durable before it counts as done.
//!
//! The academy is modelled as a collaboration lives: a group of 64 members who took part
//! before answer round after round; when all have answered, a moderator starts the next round
//! (not timed).

#[path = "support/mod.rs"]
mod support;

use academie::domain::*;
use academie::engine::{Clock, Ctx, Engine, Request, Settings};
use academie::store::{Batch, Entry, SledStore, Store, StoreError, Tree};
use academie::text::Catalog;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{header, interleave, ratio, report, show, size, Samples};

const CHANNEL: ChannelId = ChannelId(42);
const MEMBERS: usize = 64;

/// A fixed "now", so rounds never pass their deadline during a run.
struct FixedClock(DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn person(id: u64, role: Role) -> Ctx {
    Ctx {
        actor: Actor {
            id: UserId(id),
            name: format!("Deelnemer {id}"),
            lang: Lang::Nl,
            role,
        },
        channel: Some(CHANNEL),
        server: None,
    }
}

/// An answer of a realistic length: a few sentences about the shared task.
fn answer_text(i: u64) -> String {
    format!(
        "Volgens ons gaat de opgave over de wateroverlast in de regio ({i}): het Rijk, de \
         provincie, de gemeenten en het waterschap zien elk een ander deel. We willen eerst \
         samen vaststellen wat het probleem is voordat we over middelen praten."
    )
}

/// The engine's store with its flushes left out: every batch is applied as the engine applies
/// it, and nothing is made durable until the ideal group commit flushes once for the room.
struct Unflushed(Arc<SledStore>);

impl Store for Unflushed {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(tree, key)
    }
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.0.scan_prefix(tree, prefix)
    }
    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.0.scan_range(tree, start, end)
    }
    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        self.0.last_with_prefix(tree, prefix)
    }
    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        self.0.apply(batch)
    }
    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// An academy on disk with a collaboration and an open step-1 round.
fn academy(dir: &std::path::Path) -> Engine {
    let store = Arc::new(SledStore::open(&dir.join("db"), None).expect("open store"));
    academy_on(store)
}

/// The same academy on a store of the caller's choosing.
fn academy_on(store: Arc<dyn Store>) -> Engine {
    let now = DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .expect("time")
        .into();
    let engine = academie::local(Engine::new(
        store,
        Arc::new(Catalog::embedded().expect("catalog")),
        Arc::new(FixedClock(now)),
        Settings::default(),
    ));
    let moderator = person(1, Role::Moderator);
    engine
        .handle(
            &moderator,
            Request::Setup {
                task: "Wateroverlast".into(),
                region: "Rivierenland".into(),
                layers: vec![Layer::Municipality, Layer::WaterBoard],
                lang: Some(Lang::Nl),
                zone: None,
            },
        )
        .expect("setup");
    engine
        .handle(
            &moderator,
            Request::RoundStart {
                step: Step::Issue,
                deadline: None,
            },
        )
        .expect("round");
    engine
}

/// The members of one collaboration, answering round after round.
struct Group<'a> {
    engine: &'a Engine,
    /// Answers given in the current round; member `i` answers as the `i`-th.
    given: AtomicU64,
    round: AtomicU64,
}

impl<'a> Group<'a> {
    /// A group whose members all answered a first round, as members who take part do.
    fn new(engine: &'a Engine) -> Group<'a> {
        let group = Group {
            engine,
            given: AtomicU64::new(0),
            round: AtomicU64::new(1),
        };
        for _ in 0..MEMBERS {
            group.save();
        }
        group
    }

    /// Closes the round and opens the next once every member answered; not part of a timing.
    fn next_round_if_done(&self) {
        if self.given.load(Ordering::SeqCst) < MEMBERS as u64 {
            return;
        }
        let moderator = person(1, Role::Moderator);
        self.engine
            .handle(&moderator, Request::RoundClose { round: None })
            .expect("close");
        self.engine
            .handle(
                &moderator,
                Request::RoundStart {
                    step: Step::Issue,
                    deadline: None,
                },
            )
            .expect("next round");
        self.given.store(0, Ordering::SeqCst);
        self.round.fetch_add(1, Ordering::SeqCst);
    }

    /// One member's answer in the current round; panics if it is not confirmed.
    fn save(&self) {
        let i = self.given.fetch_add(1, Ordering::SeqCst);
        assert!(i < MEMBERS as u64, "every member answered already");
        let round = self.round.load(Ordering::SeqCst);
        let reply = self
            .engine
            .handle(
                &person(100 + i, Role::Member),
                Request::AnswerSubmit {
                    text: answer_text(round * 1000 + i),
                    round: None,
                },
            )
            .unwrap_or_else(|e| panic!("answer of member {i} in round {round} not saved: {e}"));
        assert!(!reply.body.is_empty(), "a confirmation is shown");
    }
}

/// The floor: the bytes the engine stores for an answer, inserted and flushed by sled alone.
struct Raw {
    db: sled::Db,
    tree: sled::Tree,
}

impl Raw {
    fn open(dir: &std::path::Path) -> Raw {
        let db = sled::open(dir.join("raw")).expect("open raw sled");
        let tree = db.open_tree("answers").expect("tree");
        Raw { db, tree }
    }

    fn insert(&self, i: u64) {
        let answer = Answer {
            round: RoundId(1),
            user: UserId(i),
            name: format!("Deelnemer {i}"),
            text: answer_text(i),
            submitted_at: Utc::now(),
            edited_at: None,
        };
        let key = [RoundId(1).key(), UserId(i).key()].concat();
        let bytes = serde_json::to_vec(&answer).expect("encode");
        self.tree.insert(key, bytes).expect("insert");
    }

    fn save(&self, i: u64) {
        self.insert(i);
        self.db.flush().expect("flush");
    }

    /// A room's answers as sled alone would take them: every insert, then one flush.
    fn save_room(&self, first: u64, members: usize) {
        for i in 0..members as u64 {
            self.insert(first + i);
        }
        self.db.flush().expect("flush");
    }
}

pub fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = academy(dir.path());
    let group = Group::new(&engine);
    let raw = Raw::open(dir.path());
    let raw_next = AtomicU64::new(1_000);

    header("Saving answers (sled, flushed before each confirmation)");

    // One answer at a time, engine against raw sled.
    let rounds = size(3_000, 20);
    let (floor, subject) = interleave(
        rounds,
        || support::time(|| raw.save(raw_next.fetch_add(1, Ordering::Relaxed))).0,
        || {
            group.next_round_if_done();
            support::time(|| group.save()).0
        },
    );
    let r50 = ratio(subject.p50(), floor.p50());
    report(
        "one answer: engine vs raw sled insert + flush (p50)",
        &format!(
            "{} vs {} = {r50:.2}×",
            show(subject.p50()),
            show(floor.p50())
        ),
        "≤ 1.5×",
        r50 <= 1.5,
    );
    let rmean = ratio(subject.total(), floor.total());
    report(
        "one answer: engine vs raw sled (mean)",
        &format!(
            "{} vs {} = {rmean:.2}×",
            show(subject.total() / rounds as u32),
            show(floor.total() / rounds as u32)
        ),
        "≤ 1.5×",
        rmean <= 1.5,
    );

    // The whole group at once, against the ideal group commit (the engine's work for the whole
    // room on one thread, then one flush), sled's own limit and the same room one at a time;
    // each in a new round, the four in turns so a busy machine slows them alike.
    let ideal_sled = Arc::new(SledStore::open(&dir.path().join("ideal"), None).expect("open"));
    let ideal_engine = academy_on(Arc::new(Unflushed(ideal_sled.clone())));
    let ideal_group = Group::new(&ideal_engine);
    ideal_sled.sync().expect("flush");
    let rounds = size(30, 2);
    let members = MEMBERS;
    let (mut sequential, mut concurrent, mut ideal, mut pure) = (
        Samples::new(),
        Samples::new(),
        Samples::new(),
        Samples::new(),
    );
    Room::with(&group, members, |room| {
        for round in 0..rounds {
            for turn in 0..4 {
                match (round + turn) % 4 {
                    0 => {
                        group.given.store(MEMBERS as u64, Ordering::SeqCst);
                        group.next_round_if_done();
                        let start = Instant::now();
                        for _ in 0..members {
                            group.save();
                        }
                        sequential.push(start.elapsed());
                    }
                    1 => {
                        group.given.store(MEMBERS as u64, Ordering::SeqCst);
                        group.next_round_if_done();
                        concurrent.push(room.answer());
                    }
                    2 => {
                        ideal_group.given.store(MEMBERS as u64, Ordering::SeqCst);
                        ideal_group.next_round_if_done();
                        ideal_sled.sync().expect("flush");
                        let start = Instant::now();
                        for _ in 0..members {
                            ideal_group.save();
                        }
                        ideal_sled.sync().expect("flush");
                        ideal.push(start.elapsed());
                    }
                    _ => {
                        let first = raw_next.fetch_add(members as u64, Ordering::Relaxed);
                        pure.push(support::time(|| raw.save_room(first, members)).0);
                    }
                }
            }
        }
    });
    let rate = |s: &Samples| members as f64 * s.len() as f64 / s.total().as_secs_f64();
    let share = rate(&concurrent) / rate(&ideal);
    report(
        &format!("{members} members at once vs the ideal group commit (engine's work, one flush)"),
        &format!(
            "{:.0}/s vs {:.0}/s = {:.0} %",
            rate(&concurrent),
            rate(&ideal),
            share * 100.0
        ),
        "≥ 70 %",
        share >= 0.7,
    );
    println!(
        "| {members} at once vs pure sled ({members} inserts, one flush) | {:.0}/s vs {:.0}/s = {:.0} % | — | — |",
        rate(&concurrent),
        rate(&pure),
        rate(&concurrent) / rate(&pure) * 100.0
    );
    println!(
        "| {members} at once vs one at a time | {:.0}/s vs {:.0}/s = {:.2}× | — | — |",
        rate(&concurrent),
        rate(&sequential),
        rate(&concurrent) / rate(&sequential)
    );
    println!(
        "| ideal group commit vs pure sled | {:.0}/s vs {:.0}/s = {:.0} % | — | — |",
        rate(&ideal),
        rate(&pure),
        rate(&ideal) / rate(&pure) * 100.0
    );
    report(
        &format!("{members} members at once: slowest round"),
        &show(concurrent.percentile(100.0)),
        "well inside Discord's 3 s",
        concurrent.percentile(100.0) < Duration::from_secs(3),
    );
    // Every answer of the ideal run was applied once, in its own round, as the engine does.
    let saved = ideal_sled
        .scan_prefix(Tree::Answers, &[])
        .expect("scan")
        .len();
    assert_eq!(
        saved,
        members * (rounds + 1),
        "the ideal group commit saved every answer"
    );
}

/// The members' threads, kept between rounds as a pool keeps its threads (the Discord adapter
/// runs each request on tokio's blocking pool), so a round measures the answers and not
/// starting and ending threads.
struct Room {
    /// Bumped to start a round.
    round: AtomicU64,
    /// Members of the round not confirmed yet; the last one wakes the bench.
    left: AtomicU64,
    stop: AtomicBool,
    bench: std::thread::Thread,
    threads: std::sync::Mutex<Vec<std::thread::Thread>>,
}

impl Room {
    /// Runs `f` with a room of `members` threads that save into `group` when a round starts.
    fn with<R>(group: &Group, members: usize, f: impl FnOnce(&Room) -> R) -> R {
        let room = Room {
            round: AtomicU64::new(0),
            left: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            bench: std::thread::current(),
            threads: std::sync::Mutex::new(Vec::new()),
        };
        std::thread::scope(|s| {
            for _ in 0..members {
                let handle = s.spawn(|| {
                    let mut seen = 0;
                    loop {
                        // Unparked to start a round or to stop; a wake-up may be spurious.
                        while room.round.load(Ordering::SeqCst) == seen
                            && !room.stop.load(Ordering::SeqCst)
                        {
                            std::thread::park();
                        }
                        if room.stop.load(Ordering::SeqCst) {
                            return;
                        }
                        seen = room.round.load(Ordering::SeqCst);
                        group.save();
                        if room.left.fetch_sub(1, Ordering::SeqCst) == 1 {
                            room.bench.unpark();
                        }
                    }
                });
                room.threads
                    .lock()
                    .expect("threads")
                    .push(handle.thread().clone());
            }
            let result = f(&room);
            room.stop.store(true, Ordering::SeqCst);
            for t in room.threads.lock().expect("threads").iter() {
                t.unpark();
            }
            result
        })
    }

    /// Every member saves one answer at once, each thread handed its request on its own; the
    /// time until all are confirmed.
    fn answer(&self) -> Duration {
        let threads = self.threads.lock().expect("threads").clone();
        self.left.store(threads.len() as u64, Ordering::SeqCst);
        let start = Instant::now();
        self.round.fetch_add(1, Ordering::SeqCst);
        for t in &threads {
            t.unpark();
        }
        while self.left.load(Ordering::SeqCst) > 0 {
            std::thread::park();
        }
        start.elapsed()
    }
}
