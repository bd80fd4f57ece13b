//! What the academy's work costs as its library grows: databases of 1,000, 10,000 and 100,000
//! corpus lessons (one fresh database per size, in a temporary folder removed afterwards), and
//! for each the operations whose cost should follow the work asked for, not the size of the
//! database. The curve is the figure: each operation at every size, with the growth from the
//! smallest to the largest.
//!
//! Every academy holds, beside the corpus, the same collaboration: six revealed step-1 rounds
//! and an open one, members with answers, lessons and applications of their own, an audit
//! log of one entry per ten lessons (a moderator's history grows with the library) and as
//! many applications of corpus lessons, spread over the years (so do its applications). What
//! "bounded" means for each operation:
//!
//! - `/gezondheid`, the review queue, a member's export, the audit log, publishing a digest of
//!   five lessons and deleting one member's data: the same work at every size, so at most
//!   [`FLAT`] times slower at the largest size than at the smallest;
//! - composing a digest of every lesson, importing N lesson files, `export site`, a backup and
//!   the upkeep's rewrite of the files after deletions: work that is N, so linear (time per lesson at most [`LINEAR`] times that at the smallest
//!   size), and in memory bounded: import under 1 GB, the others and every everyday command
//!   (each in a fresh console process, start-up included) at most 100 MB at the largest size.
//!
//! In process the engine is timed; the commands that are their own process (`lessons import`,
//! `export site`, `backup`, the console) run as the real binary, timed, with their peak
//! resident memory from `/proc` ([`support::academy::run`]).
//!
//! `ACADEMIE_BENCH_SIZES=1000,10000` chooses the sizes; `ACADEMIE_BENCH_IMPORT_MAX=10000`
//! skips importing more files than that (an import that does not scale can take more memory
//! than a machine has); `ACADEMIE_BENCH_ONLY=reads` measures only the four reads (health,
//! review queue, export, audit log), which take a minute instead of several, each timed 25
//! times per size (`ACADEMIE_BENCH_READS=500` for a profile);
//! `ACADEMIE_BENCH_ONLY=files` publishes the digest of all N and measures only `export site`
//! and `backup`, and with `ACADEMIE_BENCH_KEEP=1` keeps that database and prints where, so
//! those two commands can be run on it again by hand.

mod support;

use academie::console::{user_id_for, CONSOLE_CHANNEL};
use academie::domain::*;
use academie::engine::{AppliedEntries, AuditEntry, Engine, Request, Settings};
use academie::figures::{GrowthFigure, GrowthSeries};
use academie::reply::Reply;
use academie::search;
use academie::store::{Batch, EachEntry, Entry, SledStore, Store, StoreError, Tree};
use academie::text::keys as k;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use support::academy::{self, draft, mb, ok, person, publish_button, Measured};
use support::{corpus, show, Samples};

const SEED: u64 = 2026;
/// The collaboration of every academy here, in the console's channel, so a console started on
/// the database acts in it; it holds the lessons of one of the corpus's twelve channels.
const HOME: ChannelId = CONSOLE_CHANNEL;
/// Bounded: at most this many times slower at the largest size than at the smallest.
const FLAT: f64 = 3.0;
/// Publishing a digest of five lessons writes its own pages, the index and the feed, whatever
/// the site holds besides: at most this many times slower at the largest size.
const PUBLISH_FLAT: f64 = 2.0;
/// Deleting one member's data, all but the rewrite of the whole store: flat, at most this many
/// times slower at the largest size than at the smallest.
const DELETE_FLAT: f64 = 1.5;
/// Linear: time per lesson at the largest size at most this many times that at the smallest.
const LINEAR: f64 = 2.0;
/// Peak memory of an everyday command (and of export and backup) at the largest size.
const EVERYDAY_MB: f64 = 100.0;
/// Peak memory of importing the largest size's files in one run.
const IMPORT_MB: f64 = 1024.0;
/// Members who answered the six past rounds.
const REGULARS: usize = 12;
/// Past step-1 rounds whose reveal stored no figure, as an older database has them: the
/// first `/gezondheid` measures them, later ones repeat what it stored.
const LEGACY_ROUNDS: usize = 2;

/// Whether only the reads are measured (`ACADEMIE_BENCH_ONLY=reads`).
fn reads_only() -> bool {
    std::env::var("ACADEMIE_BENCH_ONLY").is_ok_and(|v| v == "reads")
}

/// Whether only `export site` and `backup` are measured (`ACADEMIE_BENCH_ONLY=files`).
fn files_only() -> bool {
    std::env::var("ACADEMIE_BENCH_ONLY").is_ok_and(|v| v == "files")
}

fn moderator() -> academie::engine::Ctx {
    academy::moderator(HOME)
}

/// The members whose data is exported and deleted: each answered the open round, shared three
/// lessons (approved) and applied two. Acted as by name, so a console can be them too.
fn subject(i: usize) -> (UserId, String) {
    let name = format!("Lid {i}");
    (user_id_for(&name), name)
}

fn subject_ctx(i: usize) -> academie::engine::Ctx {
    let (id, name) = subject(i);
    person(id, &name, Role::Member, HOME)
}

/// The sled store of an academy, with the time its whole-store rewrites took: a deletion's
/// reply must take none of it (the rewrite, which follows the database, is the upkeep's).
struct Timed {
    inner: Arc<SledStore>,
    rewrites: std::sync::Mutex<Duration>,
}

impl Timed {
    /// The time spent rewriting since the last call.
    fn take_rewrites(&self) -> Duration {
        std::mem::take(&mut *self.rewrites.lock().expect("lock"))
    }
}

impl Store for Timed {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.inner.scan_prefix(tree, prefix)
    }
    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.inner.scan_range(tree, start, end)
    }
    fn scan_each(
        &self,
        tree: Tree,
        prefix: &[u8],
        each: &mut EachEntry<'_>,
    ) -> Result<(), StoreError> {
        self.inner.scan_each(tree, prefix, each)
    }
    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        self.inner.last_with_prefix(tree, prefix)
    }
    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        self.inner.apply(batch)
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.inner.sync()
    }
    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.inner.commit(batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn snapshot(&self) -> Result<Vec<(Tree, Vec<Entry>)>, StoreError> {
        self.inner.snapshot()
    }
    fn compact(&self) -> Result<(), StoreError> {
        let (took, done) = support::time(|| self.inner.compact());
        *self.rewrites.lock().expect("lock") += took;
        done
    }
    fn set_aside(&self) -> Vec<PathBuf> {
        self.inner.set_aside()
    }
    fn open_set_aside(&self, path: &std::path::Path) -> Result<Box<dyn Store>, StoreError> {
        self.inner.open_set_aside(path)
    }
    fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.is_empty()
    }
}

/// One academy of `n` corpus lessons on disk.
struct World {
    n: usize,
    dir: tempfile::TempDir,
    store: Arc<SledStore>,
    /// The same store as the engines see it, timing its rewrites.
    timed: Arc<Timed>,
    /// The engine as `academie console` runs it: no site configured.
    plain: Engine,
    /// The same database with a site kept up to date, for publishing and deleting.
    site: Engine,
    /// Approved corpus lessons members can apply and show.
    approved: Vec<LessonId>,
    subjects: usize,
}

impl World {
    fn db(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    /// Closes the engines and the store, so the binary can open the database as its own
    /// process; the folder that holds it is handed back, to keep it as long as it is needed.
    fn close(self) -> tempfile::TempDir {
        let World {
            dir,
            plain,
            site,
            store,
            timed,
            ..
        } = self;
        drop((plain, site));
        drop((timed, store));
        dir
    }

    fn site_dir(&self) -> PathBuf {
        self.dir.path().join("site")
    }

    fn build(n: usize, subjects: usize) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(SledStore::open(&dir.path().join("db"), None).expect("open"));
        let (took, ()) = support::time(|| {
            let mut lessons = corpus::lessons(n, SEED);
            for l in &mut lessons {
                if l.channel == Some(corpus::CHANNELS[0]) {
                    l.channel = Some(HOME);
                }
            }
            corpus::load_lessons(store.as_ref(), &lessons).expect("load the corpus");
        });
        let timed = Arc::new(Timed {
            inner: store.clone(),
            rewrites: std::sync::Mutex::new(Duration::ZERO),
        });
        // As the binary runs it: a deletion is recorded beside the database, and its files
        // are rewritten by the upkeep after the reply.
        let erasures_dir = Some(dir.path().join("db.erasing"));
        let plain = academy::engine(
            timed.clone(),
            Settings {
                erasures_dir: erasures_dir.clone(),
                ..Settings::default()
            },
        );
        let site = academy::engine(
            timed.clone(),
            Settings {
                site_dir: Some(dir.path().join("site")),
                erasures_dir,
                ..Settings::default()
            },
        );
        let approved = search::with_status(store.as_ref(), LessonStatus::Approved)
            .expect("index")
            .into_iter()
            .take(20)
            .collect();
        let world = World {
            n,
            dir,
            store,
            timed,
            plain,
            site,
            approved,
            subjects,
        };
        let (more, ()) = support::time(|| world.populate());
        println!(
            "{n} lessons: corpus loaded in {}, the collaboration around it in {}",
            show(took),
            show(more)
        );
        world
    }

    /// The collaboration beside the corpus.
    fn populate(&self) {
        let e = &self.plain;
        academy::setup(e, HOME);
        let m = moderator();
        // Six past step-1 rounds, revealed and closed, with the regulars' answers.
        let texts = corpus::answers(6 * REGULARS, SEED);
        for round in 0..6 {
            ok(
                e,
                &m,
                Request::RoundStart {
                    step: Step::Issue,
                    deadline: None,
                },
            );
            for r in 0..REGULARS {
                let who = person(
                    UserId(500 + r as u64),
                    &format!("Vaste deelnemer {r}"),
                    Role::Member,
                    HOME,
                );
                ok(
                    e,
                    &who,
                    Request::AnswerSubmit {
                        text: texts[round * REGULARS + r].clone(),
                        round: None,
                    },
                );
            }
            ok(e, &m, Request::RoundReveal { round: None });
            ok(e, &m, Request::RoundClose { round: None });
        }
        // The open round the subjects answer.
        ok(
            e,
            &m,
            Request::RoundStart {
                step: Step::Issue,
                deadline: None,
            },
        );
        for i in 0..self.subjects {
            let who = subject_ctx(i);
            ok(
                e,
                &who,
                Request::AnswerSubmit {
                    text: format!("Het vraagstuk is voor mij ({i}) de wateroverlast in de wijken."),
                    round: None,
                },
            );
            for j in 0..3 {
                ok(e, &who, Request::LessonShare(draft(i, j)));
                let id = self.newest_lesson_of(who.actor.id);
                ok(e, &m, Request::ReviewApprove { id });
            }
            for id in self.approved.iter().take(2) {
                ok(
                    e,
                    &who,
                    Request::LessonApplied {
                        id: *id,
                        note: "Toegepast in ons eigen overleg.".into(),
                    },
                );
            }
        }
        self.audit_history(self.n / 10);
        self.application_history(self.n / 10);
        self.forget_figures(LEGACY_ROUNDS);
    }

    /// Removes the stored figure of the first `count` rounds, as a database from before
    /// figures were kept has them.
    fn forget_figures(&self, count: usize) {
        let mut batch = Batch::new();
        for (key, _) in self
            .store
            .scan_prefix(Tree::RoundsByChannel, &HOME.key())
            .expect("scan")
            .into_iter()
            .take(count)
        {
            let id = &key[8..];
            let bytes = self
                .store
                .get(Tree::Rounds, id)
                .expect("get")
                .expect("round");
            let mut round: Round = serde_json::from_slice(&bytes).expect("decode");
            assert!(round.meter.is_some(), "a revealed round keeps its figure");
            round.meter = None;
            batch.put(
                Tree::Rounds,
                id.to_vec(),
                serde_json::to_vec(&round).expect("encode"),
            );
        }
        self.store.commit(batch).expect("commit");
    }

    /// Delivers every message waiting, as an adapter does.
    fn deliver_outbox(&self) {
        for m in self.plain.outbox().waiting().expect("outbox") {
            self.plain.outbox().delivered(m.id).expect("delivered");
        }
    }

    fn newest_lesson_of(&self, user: UserId) -> LessonId {
        academy::newest_lesson_of(self.store.as_ref(), user)
    }

    /// `count` past moderator actions, spread over the corpus period, written as the engine
    /// writes them (time ++ id, the counter moved past them).
    fn audit_history(&self, count: usize) {
        let (start, end) = corpus::period();
        let step = (end - start).num_seconds() / count.max(1) as i64;
        let first = {
            let bytes = self
                .store
                .get(Tree::Meta, b"next_id:audit")
                .expect("get")
                .unwrap_or_else(|| vec![0; 8]);
            u64::from_be_bytes(bytes.as_slice().try_into().expect("counter"))
        };
        let mut batch = Batch::new();
        for i in 0..count {
            let at = start + chrono::Duration::seconds(i as i64 * step);
            let id = first + 1 + i as u64;
            let entry = AuditEntry {
                at,
                actor: Some(UserId(7)),
                name: "Mira".into(),
                channel: Some(HOME),
                action: k::AUDIT_APPROVE.to_owned(),
                target: format!("L{}", i + 1),
            };
            batch.put(
                Tree::Audit,
                [search::time_key(at).as_slice(), &id.to_be_bytes()].concat(),
                serde_json::to_vec(&entry).expect("encode"),
            );
            if batch.len() >= 5_000 {
                self.store
                    .commit(std::mem::take(&mut batch))
                    .expect("commit");
            }
        }
        batch.put(
            Tree::Meta,
            b"next_id:audit".to_vec(),
            (first + count as u64).to_be_bytes().to_vec(),
        );
        // The number of entries the log keeps, moved past them too.
        let kept = self
            .store
            .get(Tree::Meta, b"audit_count")
            .expect("get")
            .map_or(0, |b| {
                u64::from_be_bytes(b.as_slice().try_into().expect("count"))
            });
        batch.put(
            Tree::Meta,
            b"audit_count".to_vec(),
            (kept + count as u64).to_be_bytes().to_vec(),
        );
        self.store.commit(batch).expect("commit");
    }

    /// `count` past applications of corpus lessons by as many members, spread over the corpus
    /// period and the months after it, written as the engine writes them (the record, its
    /// entry in time order and the member's mention): a library's applications grow with it.
    fn application_history(&self, count: usize) {
        let (start, _) = corpus::period();
        let step = (academy::now() - start).num_seconds() / count.max(1) as i64;
        let mut batch = Batch::new();
        for i in 0..count {
            let application = Application {
                lesson: LessonId(1 + (i as u64 * 7_919) % self.n as u64),
                user: UserId(200_000 + i as u64),
                name: format!("Toepasser {i}"),
                note: "In ons eigen werk.".into(),
                at: start + chrono::Duration::seconds(i as i64 * step),
            };
            let key = [application.lesson.key(), application.user.key()].concat();
            batch.put(
                Tree::Mentions,
                [application.user.key().as_slice(), &[2], &key].concat(),
                Vec::new(),
            );
            batch.put(
                Tree::Applications,
                key,
                serde_json::to_vec(&application).expect("encode"),
            );
            if batch.len() >= 5_000 {
                self.store
                    .commit(std::mem::take(&mut batch))
                    .expect("commit");
            }
        }
        self.store.commit(batch).expect("commit");
        // The entries in time order of every application, the subjects' too, as the engine
        // keeps them.
        let mut entries = AppliedEntries::default();
        for (key, value) in self
            .store
            .scan_prefix(Tree::Applications, &[])
            .expect("scan")
        {
            let a: Application = serde_json::from_slice(&value).expect("decode");
            entries.add(&key, a.at, 0);
        }
        let mut batch = Batch::new();
        for (key, value) in entries.entries() {
            batch.put(Tree::AppliedAt, key, value);
        }
        self.store.commit(batch).expect("commit");
    }

    /// When each lesson was last applied, from every application stored.
    fn last_applied(&self) -> BTreeMap<LessonId, chrono::DateTime<chrono::Utc>> {
        let mut last = BTreeMap::new();
        for (_, v) in self
            .store
            .scan_prefix(Tree::Applications, &[])
            .expect("scan")
        {
            let a: Application = serde_json::from_slice(&v).expect("decode");
            let at = last.entry(a.lesson).or_insert(a.at);
            *at = (*at).max(a.at);
        }
        last
    }

    /// Every lesson in the store, read the slow way: what the checks compare replies with.
    fn all_lessons(&self) -> Vec<Lesson> {
        self.store
            .scan_prefix(Tree::Lessons, &[])
            .expect("scan")
            .iter()
            .map(|(_, v)| serde_json::from_slice(v).expect("decode"))
            .collect()
    }
}

/// Times `op` `reps` times.
fn repeat(reps: usize, mut op: impl FnMut(usize) -> Duration) -> Samples {
    let mut s = Samples::new();
    for rep in 0..reps {
        s.push(op(rep));
    }
    s
}

fn timed(f: impl FnOnce() -> Reply) -> (Duration, Reply) {
    support::time(f)
}

/// What one size measured: times of in-process operations, and runs of the binary.
#[derive(Default)]
struct Point {
    times: BTreeMap<&'static str, Duration>,
    runs: BTreeMap<String, Measured>,
}

/// How an operation should grow.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// The same work at every size: at most this many times slower at the largest.
    Flat(f64),
    /// Work proportional to the number of lessons.
    Linear,
}

/// The in-process operations, in the order they are reported, with how they should grow.
const OPERATIONS: &[(&str, Shape)] = &[
    ("/gezondheid", Shape::Flat(FLAT)),
    ("review queue", Shape::Flat(FLAT)),
    ("a member's export", Shape::Flat(FLAT)),
    ("audit log", Shape::Flat(FLAT)),
    (
        "publish a 5-lesson digest, all N already published",
        Shape::Flat(PUBLISH_FLAT),
    ),
    (
        "delete my data, confirmed, no site: the reply",
        Shape::Flat(DELETE_FLAT),
    ),
    (
        "delete my data, upkeep: rewrite, copies, message",
        Shape::Linear,
    ),
    (
        "delete my data, upkeep: rewrite once the message left",
        Shape::Linear,
    ),
    (
        "delete my data, confirmed, N lesson pages on the site",
        Shape::Flat(FLAT),
    ),
    (
        "delete my data, upkeep after several deletions at once",
        Shape::Linear,
    ),
    ("compose a digest of all N", Shape::Linear),
    ("publish the digest of all N (site written)", Shape::Linear),
];

/// How often each read is timed at every size (`ACADEMIE_BENCH_READS` overrides).
const READ_REPS: usize = 25;

fn measure(n: usize, import_max: usize) -> Point {
    let reps = if !support::full() {
        1
    } else if n >= 100_000 {
        3
    } else {
        5
    };
    // A deletion's reply takes a few milliseconds, and one in several meets sled's flush at
    // a slow moment: more of them, so their median is not one of three.
    let delete_reps = if support::full() { 7 } else { 1 };
    // Subjects: one for the export, one per delete (two kinds), one for the console's delete.
    let subjects = 2 + 2 * delete_reps;
    let world = World::build(n, subjects);
    let mut point = Point::default();
    if files_only() {
        files(world, &mut point);
        return point;
    }
    let m = moderator();
    let lessons = world.all_lessons();
    let internal = world.plain.internal_error_text(Lang::Nl);

    // The reads change nothing and take well under a millisecond: timed more often than the
    // writes, so their p50 is not one warm call among three.
    let read_reps = if support::full() {
        std::env::var("ACADEMIE_BENCH_READS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(READ_REPS)
    } else {
        1
    };
    // /gezondheid: lessons of the last year in this collaboration, per learning order.
    let since = academy::now() - chrono::Duration::days(365);
    let mut per_order = [0usize; 3];
    for l in &lessons {
        if l.is_public() && l.channel == Some(HOME) && l.created_at >= since {
            per_order[usize::from(l.order.byte())] += 1;
        }
    }
    let s = repeat(read_reps, |_| {
        let (t, reply) = timed(|| ok(&world.plain, &subject_ctx(0), Request::Health));
        let text = academy::text(&reply);
        for (o, count) in Order::ALL.iter().zip(per_order) {
            let name = &world.plain.catalog().academy(Lang::Nl).order(*o).name;
            assert!(
                text.contains(&format!("{name} {count}")),
                "/gezondheid counts {count} lessons of the {name}:\n{text}"
            );
        }
        assert!(text.matches('%').count() >= 6, "six rounds' agreement");
        t
    });
    point.times.insert("/gezondheid", s.p50());

    // The review queue: how many wait, how many are due again, the first five of each.
    let pending = lessons
        .iter()
        .filter(|l| l.status == LessonStatus::Pending)
        .count();
    // Due again: approved, and neither last reviewed nor applied (by the subjects just now,
    // or in the history) in the default twelve months.
    let cutoff = academy::now() - chrono::Months::new(12);
    let applied = world.last_applied();
    let due = lessons
        .iter()
        .filter(|l| l.is_public() && l.reviewed_at.unwrap_or(l.created_at) < cutoff)
        .filter(|l| applied.get(&l.id).is_none_or(|at| *at < cutoff))
        .count();
    let s = repeat(read_reps, |_| {
        let (t, reply) = timed(|| ok(&world.plain, &m, Request::ReviewQueue { page: 0 }));
        let text = academy::text(&reply);
        assert!(
            text.contains(&pending.to_string()),
            "the queue counts {pending} waiting:\n{}",
            &text[..text.len().min(500)]
        );
        assert!(
            text.contains(&format!("{due} goedgekeurde")),
            "the queue counts {due} due again:\n{}",
            &text[..text.len().min(500)]
        );
        t
    });
    point.times.insert("review queue", s.p50());

    // A member's export: their answer, three lessons, two applications.
    let s = repeat(read_reps, |_| {
        let (t, reply) = timed(|| ok(&world.plain, &subject_ctx(0), Request::MyDataExport));
        let data: serde_json::Value =
            serde_json::from_slice(&reply.attachments[0].bytes).expect("export is JSON");
        assert_eq!(data["answers"].as_array().map(Vec::len), Some(1));
        assert_eq!(data["lessons"].as_array().map(Vec::len), Some(3));
        assert_eq!(data["applications"].as_array().map(Vec::len), Some(2));
        t
    });
    point.times.insert("a member's export", s.p50());

    // The audit log: the latest 25 of a history that grows with the library.
    let s = repeat(read_reps, |_| {
        let (t, reply) = timed(|| ok(&world.plain, &m, Request::AuditLog { page: 0 }));
        // One line per action (date · who · what), then the page line.
        let lines = reply.body.lines().filter(|l| l.contains(" · ")).count();
        assert_eq!(lines, 25, "the latest 25 actions:\n{}", reply.body);
        t
    });
    point.times.insert("audit log", s.p50());
    if reads_only() {
        return point;
    }

    // Compose a digest of every approved lesson not yet published.
    let unpublished = lessons
        .iter()
        // A digest gathers what members shared: the starter library only when asked for.
        .filter(|l| l.is_public() && l.published_in.is_empty() && l.key.is_none())
        .count();
    let mut draft_id = None;
    let s = repeat(reps, |_| {
        let request = Request::DigestCompose {
            title: Some("Alles".into()),
            filter: DigestFilter::default(),
        };
        let (t, reply) = timed(|| ok(&world.plain, &m, request));
        let id = publish_button(&reply);
        let digest: Digest = serde_json::from_slice(
            &world
                .store
                .get(Tree::Digests, &id.key())
                .expect("get")
                .expect("the draft"),
        )
        .expect("decode");
        assert_eq!(
            digest.lessons.len(),
            unpublished,
            "every lesson in the draft"
        );
        draft_id = Some(id);
        t
    });
    point.times.insert("compose a digest of all N", s.p50());

    // Delete my data, no site: the reply, which rewrites nothing, then the upkeep that
    // rewrites the files (and sends the message), and the rewrite once the message left.
    let mut upkeep = Samples::new();
    let mut after_message = Samples::new();
    world.timed.take_rewrites();
    let s = repeat(delete_reps, |rep| {
        let i = 1 + rep;
        let who = subject_ctx(i);
        let (t, _) = timed(|| ok(&world.plain, &who, Request::MyDataDelete { confirm: true }));
        assert_eq!(
            world.timed.take_rewrites(),
            Duration::ZERO,
            "the reply waits for no rewrite"
        );
        assert!(
            world
                .store
                .scan_prefix(Tree::LessonIndex, &search::author_prefix(who.actor.id))
                .expect("scan")
                .is_empty(),
            "their lessons are gone"
        );
        let (u, done) = support::time(|| world.plain.finish_erasures());
        assert_eq!(done, 1, "the upkeep finished the deletion");
        upkeep.push(u);
        world.deliver_outbox();
        let (m, _) = support::time(|| world.plain.finish_erasures());
        assert!(
            world.timed.take_rewrites() > Duration::ZERO,
            "the upkeep rewrote the store"
        );
        after_message.push(m);
        t
    });
    point
        .times
        .insert("delete my data, confirmed, no site: the reply", s.p50());
    point.times.insert(
        "delete my data, upkeep: rewrite, copies, message",
        upkeep.p50(),
    );
    point.times.insert(
        "delete my data, upkeep: rewrite once the message left",
        after_message.p50(),
    );

    // Publish the digest of everything: the site now has a page per lesson.
    let id = draft_id.expect("a draft");
    let (t, _) = timed(|| ok(&world.site, &m, Request::DigestPublish { id }));
    point
        .times
        .insert("publish the digest of all N (site written)", t);
    let pages = std::fs::read_dir(world.site_dir().join("lessons"))
        .expect("lesson pages")
        .count();
    assert!(
        pages + 3 * delete_reps >= unpublished,
        "a page per published lesson: {pages} of {unpublished}"
    );

    // Publish a digest of five new lessons with all N already published.
    let writer = person(UserId(900), "Schrijver", Role::Member, HOME);
    let s = repeat(reps, |rep| {
        let mut ids = Vec::new();
        for j in 0..5 {
            ok(
                &world.site,
                &writer,
                Request::LessonShare(draft(100 + rep, j)),
            );
            let id = world.newest_lesson_of(writer.actor.id);
            ok(&world.site, &m, Request::ReviewApprove { id });
            ids.push(id);
        }
        let reply = ok(
            &world.site,
            &m,
            Request::DigestCompose {
                title: Some(format!("Week {rep}")),
                filter: DigestFilter::default(),
            },
        );
        let id = publish_button(&reply);
        let (t, _) = timed(|| ok(&world.site, &m, Request::DigestPublish { id }));
        for l in &ids {
            assert!(
                world.site_dir().join(format!("lessons/{l}.html")).exists(),
                "the new lesson {l} has its page"
            );
        }
        t
    });
    point.times.insert(
        "publish a 5-lesson digest, all N already published",
        s.p50(),
    );

    // Delete my data with the site kept: their lesson pages go too.
    let s = repeat(delete_reps, |rep| {
        let i = 1 + delete_reps + rep;
        let who = subject_ctx(i);
        let theirs: Vec<PathBuf> = world
            .store
            .scan_prefix(Tree::LessonIndex, &search::author_prefix(who.actor.id))
            .expect("scan")
            .iter()
            .filter_map(|(k, _)| search::id_of(k))
            .map(|id| world.site_dir().join(format!("lessons/{id}.html")))
            .collect();
        assert!(
            theirs.iter().all(|p| p.exists()),
            "their pages are on the site"
        );
        let (t, _) = timed(|| ok(&world.site, &who, Request::MyDataDelete { confirm: true }));
        assert!(
            theirs.iter().all(|p| !p.exists()),
            "their pages left the site"
        );
        t
    });
    point.times.insert(
        "delete my data, confirmed, N lesson pages on the site",
        s.p50(),
    );
    // The deletions above waited together: one rewrite serves them all.
    world.timed.take_rewrites();
    let (t, done) = support::time(|| world.site.finish_erasures());
    assert_eq!(
        done, delete_reps,
        "one upkeep finished every deletion waiting"
    );
    point
        .times
        .insert("delete my data, upkeep after several deletions at once", t);
    world.deliver_outbox();
    world.site.finish_erasures();

    // The binary, as its own process, on the same database.
    let console_subject = subject(subjects - 1).1;
    let show_id = world.approved[3];
    let pending_id = lessons
        .iter()
        .find(|l| l.status == LessonStatus::Pending)
        .map(|l| l.id);
    let db = world.db();
    let _dir = world.close();

    export_and_backup(&db, &mut point);

    // Every everyday command, each in a fresh console: its time and the process's peak.
    let member = console_subject.as_str();
    let mut commands: Vec<(&str, &str, String)> = vec![
        ("/hulp", member, "/hulp".into()),
        ("/samenwerking", member, "/samenwerking".into()),
        ("/ronde status", member, "/ronde status".into()),
        (
            "/antwoord geven",
            "Nieuw lid",
            "/antwoord geven tekst: Het vraagstuk is de wateroverlast.".into(),
        ),
        (
            "/les zoeken",
            member,
            "/les zoeken tekst:samenwerking".into(),
        ),
        ("/les tonen", member, format!("/les tonen id:{show_id}")),
        ("/les mijn", member, "/les mijn".into()),
        (
            "/les delen",
            member,
            "/les delen titel:Samen beginnen gebeurd:We begonnen zonder beeld. les:Begin met het vraagstuk. orde:eerste".into(),
        ),
        (
            "/les toegepast",
            member,
            format!("/les toegepast id:{show_id}"),
        ),
        ("/gezondheid", member, "/gezondheid".into()),
        ("/digest overzicht", member, "/digest overzicht".into()),
        ("/doenleren tonen", member, "/doenleren tonen".into()),
        (
            "/mijngegevens exporteren",
            member,
            "/mijngegevens exporteren".into(),
        ),
        ("/beoordeling wachtrij", "Mira", "/beoordeling wachtrij".into()),
        ("/logboek", "Mira", "/logboek".into()),
        (
            "/digest samenstellen",
            "Mira",
            "/digest samenstellen titel:Week".into(),
        ),
        ("/ronde onthullen", "Mira", "/ronde onthullen".into()),
        (
            "/mijngegevens verwijderen",
            member,
            "/mijngegevens verwijderen bevestig:ja".into(),
        ),
    ];
    if let Some(id) = pending_id {
        commands.insert(
            15,
            (
                "/beoordeling goedkeuren",
                "Mira",
                format!("/beoordeling goedkeuren id:{id}"),
            ),
        );
    }
    for (name, user, line) in commands {
        let role = if user == "Mira" {
            "moderator"
        } else {
            "member"
        };
        let run = academy::console_command(&db, user, role, &line);
        let shown = run.stdout.lines().count();
        assert!(
            shown > 1 && !run.stdout.contains(&internal),
            "{line} answered:\n{}",
            run.stdout
        );
        point.runs.insert(format!("console {name}"), run);
    }

    // Import the corpus as N lesson files into a new database, in one run.
    if n <= import_max {
        let files = tempfile::tempdir_in(db.parent().expect("parent")).expect("dir");
        for l in corpus::lessons(n, SEED + 1) {
            let key = format!("les-{:06}", l.id.0);
            std::fs::write(
                files.path().join(format!("{key}.md")),
                corpus::library_file(&l, &key),
            )
            .expect("write a lesson file");
        }
        let fresh = db.with_extension("import");
        let run = academy::run({
            let mut c = academy::academie(&fresh);
            c.args(["lessons", "import"]).arg(files.path());
            c
        });
        assert!(
            run.stdout.contains(&format!("{n} toegevoegd")),
            "every file imported: {}",
            run.stdout
        );
        point.runs.insert("lessons import of N files".into(), run);
        drop(files);
        let _ = std::fs::remove_dir_all(&fresh);
    }
    point
}

/// `export site` and `backup`, each as its own process, on the database at `db`.
fn export_and_backup(db: &std::path::Path, point: &mut Point) {
    let export_dir = tempfile::tempdir_in(db.parent().expect("parent")).expect("dir");
    let run = academy::run({
        let mut c = academy::academie(db);
        c.args(["export", "site"]).arg(export_dir.path());
        c
    });
    assert!(run.stdout.contains("geschreven"), "{}", run.stdout);
    point.runs.insert("export site".into(), run);
    drop(export_dir);

    let backup = db.with_extension("backup");
    let run = academy::run({
        let mut c = academy::academie(db);
        c.arg("backup").arg(&backup);
        c
    });
    assert!(backup.exists(), "the backup was written");
    point.runs.insert("backup".into(), run);
    let _ = std::fs::remove_file(&backup);
}

/// `ACADEMIE_BENCH_ONLY=files`: the digest of all N published (without writing the site, which
/// `export site` then writes whole), then `export site` and `backup`.
fn files(world: World, point: &mut Point) {
    let m = moderator();
    let reply = ok(
        &world.plain,
        &m,
        Request::DigestCompose {
            title: Some("Alles".into()),
            filter: DigestFilter::default(),
        },
    );
    let id = publish_button(&reply);
    ok(&world.plain, &m, Request::DigestPublish { id });
    let db = world.db();
    let dir = world.close();
    export_and_backup(&db, point);
    if std::env::var_os("ACADEMIE_BENCH_KEEP").is_some() {
        println!("kept: {}", dir.keep().display());
    }
}

/// The sizes to measure: `ACADEMIE_BENCH_SIZES`, or 1,000, 10,000 and 100,000 (smoke: two
/// small ones).
fn sizes() -> Vec<usize> {
    if let Ok(list) = std::env::var("ACADEMIE_BENCH_SIZES") {
        return list
            .split(',')
            .map(|s| s.trim().parse().expect("ACADEMIE_BENCH_SIZES: numbers"))
            .collect();
    }
    if support::full() {
        vec![1_000, 10_000, 100_000]
    } else {
        vec![60, 240]
    }
}

pub fn main() {
    let sizes = sizes();
    let import_max = std::env::var("ACADEMIE_BENCH_IMPORT_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let points: Vec<(usize, Point)> = sizes.iter().map(|&n| (n, measure(n, import_max))).collect();
    let (first, last) = (sizes[0], *sizes.last().expect("a size"));

    support::title(&format!(
        "Growth: the same operations over {} lessons",
        sizes
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let columns: Vec<String> = sizes.iter().map(|n| format!("{n}")).collect();
    println!(
        "| operation (p50) | {} | growth | target | verdict |",
        columns.join(" | ")
    );
    println!("|---|{}---|---|---|", "---:|".repeat(sizes.len()));
    let judge = |shape: Shape, a: f64, b: f64| -> (String, String, bool) {
        match shape {
            Shape::Flat(most) => {
                let g = b / a.max(1e-12);
                (format!("{g:.1}×"), format!("≤ {most}× (flat)"), g <= most)
            }
            Shape::Linear => {
                let per = (b / last as f64) / (a / first as f64).max(1e-15);
                (
                    format!("{:.1}× ({per:.2}× per lesson)", b / a.max(1e-12)),
                    format!("≤ {LINEAR}× per lesson (linear)"),
                    per <= LINEAR,
                )
            }
        }
    };
    let verdict = |met: bool| {
        if !support::full() {
            "smoke (not judged)"
        } else if met {
            "met"
        } else {
            "NOT MET"
        }
    };
    for (name, shape) in OPERATIONS {
        let row: Vec<Option<Duration>> = points
            .iter()
            .map(|(_, p)| p.times.get(name).copied())
            .collect();
        if row.iter().all(Option::is_none) {
            continue;
        }
        let cells: Vec<String> = row.iter().map(|d| d.map_or("—".into(), show)).collect();
        let (growth, target, met) = match (row[0], row[row.len() - 1]) {
            (Some(a), Some(b)) => judge(*shape, a.as_secs_f64(), b.as_secs_f64()),
            _ => ("—".into(), "—".into(), false),
        };
        println!(
            "| {name} | {} | {growth} | {target} | {} |",
            cells.join(" | "),
            verdict(met)
        );
    }

    for (file, linear, title, caption) in [
        (
            "growth-flat.svg",
            false,
            "Work that should not grow with the library",
            "p50 per size, cargo bench --bench growth; flat is the target (a level line)",
        ),
        (
            "growth-linear.svg",
            true,
            "Work over the whole library",
            "p50 per size, cargo bench --bench growth; linear is the target (a decade of time \
             per decade of lessons)",
        ),
    ] {
        let series = OPERATIONS
            .iter()
            .filter(|(_, shape)| (*shape == Shape::Linear) == linear)
            .map(|(name, _)| GrowthSeries {
                name: (*name).to_string(),
                points: points
                    .iter()
                    .filter_map(|(n, p)| p.times.get(name).map(|t| (*n as f64, t.as_secs_f64())))
                    .collect(),
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        support::plot(
            file,
            &GrowthFigure {
                title: title.into(),
                caption: caption.into(),
                x_label: "lessons in the library".into(),
                y_label: "time (p50)".into(),
                series,
            },
        );
    }

    if reads_only() {
        return;
    }
    // The binary's own processes: time and peak memory.
    println!();
    println!(
        "| command, own process: time / peak memory | {} | growth (time) | target | verdict |",
        columns.join(" | ")
    );
    println!("|---|{}---|---|---|", "---:|".repeat(sizes.len()));
    let mut names: Vec<String> = points
        .iter()
        .flat_map(|(_, p)| p.runs.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    let mut everyday_worst: (f64, String) = (0.0, String::new());
    for name in &names {
        let row: Vec<Option<&Measured>> = points.iter().map(|(_, p)| p.runs.get(name)).collect();
        let cells: Vec<String> = row
            .iter()
            .map(|r| {
                r.map_or("—".into(), |r| {
                    format!("{} / {:.0} MB", show(r.took), mb(r.peak))
                })
            })
            .collect();
        let largest = row.last().copied().flatten();
        let peak = largest.map_or(0.0, |r| mb(r.peak));
        let (growth, target, met) = if name == "lessons import of N files" {
            let measured: Vec<(usize, &Measured)> = points
                .iter()
                .filter_map(|(n, p)| p.runs.get(name).map(|r| (*n, r)))
                .collect();
            match (measured.first(), measured.last()) {
                (Some((na, a)), Some((nb, b))) => {
                    let per = (b.took.as_secs_f64() / *nb as f64)
                        / (a.took.as_secs_f64() / *na as f64).max(1e-15);
                    let peak_b = mb(b.peak);
                    (
                        format!("{per:.2}× per file; {peak_b:.0} MB at {nb}"),
                        format!("≤ {LINEAR}× per file, ≤ {IMPORT_MB:.0} MB at {last}"),
                        per <= LINEAR && peak_b <= IMPORT_MB && *nb == last,
                    )
                }
                _ => ("—".into(), "—".into(), false),
            }
        } else if name == "export site" || name == "backup" {
            let (g, _, linear) = match (row[0], largest) {
                (Some(a), Some(b)) => {
                    judge(Shape::Linear, a.took.as_secs_f64(), b.took.as_secs_f64())
                }
                _ => ("—".into(), String::new(), false),
            };
            (
                g,
                format!("≤ {LINEAR}× per lesson, ≤ {EVERYDAY_MB:.0} MB"),
                linear && peak <= EVERYDAY_MB,
            )
        } else {
            if peak > everyday_worst.0 {
                everyday_worst = (peak, name.clone());
            }
            let growth = match (row[0], largest) {
                (Some(a), Some(b)) => format!(
                    "{:.1}×",
                    b.took.as_secs_f64() / a.took.as_secs_f64().max(1e-12)
                ),
                _ => "—".into(),
            };
            (
                growth,
                format!("≤ {EVERYDAY_MB:.0} MB at {last}"),
                peak <= EVERYDAY_MB,
            )
        };
        println!(
            "| {name} | {} | {growth} | {target} | {} |",
            cells.join(" | "),
            verdict(met)
        );
    }
    if files_only() {
        return;
    }
    println!();
    support::table();
    support::report(
        &format!("every everyday command at {last} lessons: the largest peak"),
        &format!("{:.1} MB ({})", everyday_worst.0, everyday_worst.1),
        &format!("≤ {EVERYDAY_MB:.0} MB"),
        everyday_worst.0 <= EVERYDAY_MB,
    );
}
