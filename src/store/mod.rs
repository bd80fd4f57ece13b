//! The one small storage interface the academy uses, so the embedded engine can be replaced.
//!
//! The interface is an ordered key-value store with named trees, prefix scans and atomic,
//! durable batches. [`SledStore`] is the production engine; [`MemoryStore`] exists so the same
//! contract tests run against a second backend, which keeps the interface honest. Only this module
//! touches sled.
//!
//! Beside sled's files the store keeps what it knows was saved (`ledger`), and checks a database
//! against it before opening it (`opening`): a damaged database is refused, never opened as new.

mod ledger;
mod memory;
mod opening;
mod overlay;
mod sled_store;

pub use memory::MemoryStore;
pub use sled_store::{sibling, SledStore};

use std::path::PathBuf;

/// The schema version this build writes. Raise it with a migration step in `engine::migrate`.
/// 1: the first layout; 2: participants kept as records of their own; 3: the lesson index as
/// posting lists; 4: the lesson index also knows who reviewed a lesson and when it was last
/// approved or confirmed.
pub const SCHEMA_VERSION: u32 = 4;

/// How the folder of a database moved aside by a restore is named: the database's name, a dot,
/// this, and the time of the restore.
pub const SET_ASIDE: &str = "before-restore-";

/// Where the schema version is kept, in [`Tree::Meta`], as four big-endian bytes.
pub const SCHEMA_KEY: &[u8] = b"schema_version";

/// Keys in [`Tree::Meta`] that start with this are id counters (eight big-endian bytes): they
/// only ever grow. The store never takes one back, not even when it undoes a refused write, so
/// no id is handed out twice, and the ledger remembers them.
pub const COUNTER_PREFIX: &[u8] = b"next_id:";

/// The schema version recorded in a store; 0 when none is (a new database).
pub fn schema_version(store: &dyn Store) -> Result<u32, StoreError> {
    match store.get(Tree::Meta, SCHEMA_KEY)? {
        None => Ok(0),
        Some(bytes) => {
            let arr: [u8; 4] = bytes.as_slice().try_into().map_err(|_| {
                StoreError::Io("the schema version in the database is not a number".into())
            })?;
            Ok(u32::from_be_bytes(arr))
        }
    }
}

/// One tree per record kind, plus index trees. The names are stored on disk: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tree {
    /// Schema version and id counters.
    Meta,
    Collaborations,
    Members,
    Rounds,
    /// channel id ++ round id → (): the rounds of a channel in creation order.
    RoundsByChannel,
    /// round id ++ user id → answer.
    Answers,
    Lessons,
    /// Prefixed secondary keys for lesson queries; see `search`.
    LessonIndex,
    Digests,
    /// due time ++ job id → job: work the academy does on its own, in time order.
    Schedules,
    /// message id → a message for a channel or a person, kept until it is delivered.
    Outbox,
    /// channel id ++ user id → participant: who takes part in a collaboration's rounds.
    Participants,
    /// lesson id ++ user id → application: who applied a lesson, and how.
    Applications,
    /// round id ++ user id → vote: the leading perspective chosen in a step-3 round.
    Votes,
    /// channel id ++ time ++ user id → placement on the doing/learning figure, kept over time.
    Placements,
    /// time ++ id → a moderator action: the audit log.
    Audit,
    /// server id → whether its moderators allow exchange with other servers.
    Servers,
    /// question id → a question to the whole academy.
    Questions,
    /// question id ++ user id → an answer to it.
    QuestionAnswers,
    /// meeting id → a learning meeting.
    Meetings,
    /// meeting id ++ user id → someone who said they will come.
    SignUps,
    /// channel id ++ lesson id → a lesson from elsewhere taken into the channel's next digest.
    Taken,
}

impl Tree {
    pub const ALL: [Tree; 22] = [
        Tree::Meta,
        Tree::Collaborations,
        Tree::Members,
        Tree::Rounds,
        Tree::RoundsByChannel,
        Tree::Answers,
        Tree::Lessons,
        Tree::LessonIndex,
        Tree::Digests,
        Tree::Schedules,
        Tree::Outbox,
        Tree::Participants,
        Tree::Applications,
        Tree::Votes,
        Tree::Placements,
        Tree::Audit,
        Tree::Servers,
        Tree::Questions,
        Tree::QuestionAnswers,
        Tree::Meetings,
        Tree::SignUps,
        Tree::Taken,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Collaborations => "collaborations",
            Tree::Members => "members",
            Tree::Rounds => "rounds",
            Tree::RoundsByChannel => "rounds_by_channel",
            Tree::Answers => "answers",
            Tree::Lessons => "lessons",
            Tree::LessonIndex => "lesson_index",
            Tree::Digests => "digests",
            Tree::Schedules => "schedules",
            Tree::Outbox => "outbox",
            Tree::Participants => "participants",
            Tree::Applications => "applications",
            Tree::Votes => "votes",
            Tree::Placements => "placements",
            Tree::Audit => "audit",
            Tree::Servers => "servers",
            Tree::Questions => "questions",
            Tree::QuestionAnswers => "question_answers",
            Tree::Meetings => "meetings",
            Tree::SignUps => "sign_ups",
            Tree::Taken => "taken",
        }
    }

    fn index(self) -> usize {
        Tree::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// A key-value pair as stored.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Writes that land together or not at all.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    ops: Vec<(Tree, Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, tree: Tree, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((tree, key.into(), Some(value.into())));
    }

    pub fn remove(&mut self, tree: Tree, key: impl Into<Vec<u8>>) {
        self.ops.push((tree, key.into(), None));
    }

    /// The value this batch will leave at `key`, if it writes or removes it: `Some(None)` for a
    /// removal. Lets a multi-step change read its own pending writes.
    pub fn pending(&self, tree: Tree, key: &[u8]) -> Option<Option<&[u8]>> {
        self.ops
            .iter()
            .rev()
            .find(|(t, k, _)| *t == tree && k.as_slice() == key)
            .map(|(_, _, v)| v.as_deref())
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }
}

/// What can go wrong below the academy. Each message is one sentence a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database at {path} is in use by another process (is the academy already running?)"
    )]
    Locked { path: PathBuf },
    #[error("the database at {path} was written by a newer version of the academy (schema {found}, this build reads up to {supported}); upgrade the academy")]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the database at {path} could not be read ({detail}); restore the folder from a backup, or move it aside to start with an empty academy")]
    Corrupt { path: PathBuf, detail: String },
    #[error("the database at {path} could not be opened: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the database at {path} cannot be written ({detail}); {}", if *full {
        "free disk space"
    } else {
        "make its folder writable for the academy"
    })]
    Unwritable {
        path: PathBuf,
        detail: String,
        /// The disk is full (or a quota reached), rather than the folder read-only.
        full: bool,
    },
    #[error("storage failed: {0}")]
    Io(String),
}

/// The storage contract. Every method is synchronous and safe to call from many threads.
pub trait Store: Send + Sync {
    /// The value at `key`, if any.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// All entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError>;

    /// All entries with `start <= key < end`, in key order.
    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError>;

    /// The entry with the greatest key starting with `prefix`.
    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError>;

    /// Applies the batch atomically: readers see all of it or none of it. It is durable only
    /// once [`Store::sync`] returns, so nothing may be confirmed in between.
    fn apply(&self, batch: Batch) -> Result<(), StoreError>;

    /// Returns once everything applied before the call is durable on disk. Callers waiting at
    /// the same time share one flush (group commit), so call it outside any lock.
    fn sync(&self) -> Result<(), StoreError>;

    /// Applies the batch atomically and returns only once it is durable on disk.
    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.apply(batch)?;
        self.sync()
    }

    /// Makes sure everything applied is on disk, for shutdown.
    fn flush(&self) -> Result<(), StoreError> {
        self.sync()
    }

    /// Every entry of every tree, taken at one moment: no batch is half in it. For backups.
    /// The default reads tree by tree, which is only consistent if nothing writes meanwhile.
    fn snapshot(&self) -> Result<Vec<(Tree, Vec<Entry>)>, StoreError> {
        Tree::ALL
            .iter()
            .map(|t| Ok((*t, self.scan_prefix(*t, &[])?)))
            .collect()
    }

    /// Rewrites the store so that removed and overwritten values no longer exist anywhere in
    /// its files, only what is live; called after deleting someone's data. Writes wait while
    /// it runs. A backend that keeps nothing on disk has nothing to do.
    fn compact(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Databases a restore moved aside from this store's place (never deleted by it), which
    /// still hold what was in them: "delete my data" rewrites them too.
    fn set_aside(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// Opens one of [`Store::set_aside`]'s databases.
    fn open_set_aside(&self, path: &std::path::Path) -> Result<Box<dyn Store>, StoreError> {
        Err(StoreError::Io(format!(
            "{} cannot be opened by this store",
            path.display()
        )))
    }

    /// Whether the store holds no records at all (a fresh database).
    fn is_empty(&self) -> Result<bool, StoreError> {
        for tree in Tree::ALL {
            if tree != Tree::Meta && self.last_with_prefix(tree, &[])?.is_some() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod contract {
    //! The same tests against every backend: what the rest of the academy may rely on.
    use super::*;

    fn exercise(store: &dyn Store) {
        assert!(store.is_empty().unwrap());
        let mut b = Batch::new();
        b.put(Tree::Lessons, 2u64.to_be_bytes(), b"two".to_vec());
        b.put(Tree::Lessons, 10u64.to_be_bytes(), b"ten".to_vec());
        b.put(Tree::LessonIndex, b"tabc".to_vec(), Vec::new());
        b.put(Tree::LessonIndex, b"tabd".to_vec(), Vec::new());
        b.put(Tree::LessonIndex, b"tb".to_vec(), Vec::new());
        store.commit(b).unwrap();
        assert!(!store.is_empty().unwrap());

        assert_eq!(
            store.get(Tree::Lessons, &2u64.to_be_bytes()).unwrap(),
            Some(b"two".to_vec())
        );
        assert_eq!(store.get(Tree::Rounds, &2u64.to_be_bytes()).unwrap(), None);

        let all = store.scan_prefix(Tree::Lessons, &[]).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].1, b"two", "big-endian keys sort numerically");

        let ab: Vec<_> = store
            .scan_prefix(Tree::LessonIndex, b"ta")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(ab, vec![b"tabc".to_vec(), b"tabd".to_vec()]);
        assert_eq!(
            store
                .last_with_prefix(Tree::LessonIndex, b"ta")
                .unwrap()
                .unwrap()
                .0,
            b"tabd".to_vec()
        );
        assert!(store
            .last_with_prefix(Tree::LessonIndex, b"x")
            .unwrap()
            .is_none());
        let range: Vec<_> = store
            .scan_range(Tree::LessonIndex, b"tabd", b"tc")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(range, vec![b"tabd".to_vec(), b"tb".to_vec()]);

        let mut b = Batch::new();
        b.remove(Tree::LessonIndex, b"tabc".to_vec());
        b.put(Tree::Lessons, 2u64.to_be_bytes(), b"TWO".to_vec());
        store.commit(b).unwrap();
        assert_eq!(
            store.scan_prefix(Tree::LessonIndex, b"ta").unwrap().len(),
            1
        );
        assert_eq!(
            store.get(Tree::Lessons, &2u64.to_be_bytes()).unwrap(),
            Some(b"TWO".to_vec())
        );
    }

    #[test]
    fn memory_store_keeps_the_contract() {
        exercise(&MemoryStore::default());
    }

    #[test]
    fn sled_store_keeps_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("db"), None).unwrap();
        exercise(&store);
    }

    #[test]
    fn concurrent_commits_share_flushes_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            std::thread::scope(|s| {
                for t in 0..16u64 {
                    let store = &store;
                    s.spawn(move || {
                        for i in 0..20u64 {
                            let mut b = Batch::new();
                            b.put(Tree::Answers, (t * 100 + i).to_be_bytes(), b"a".to_vec());
                            b.put(
                                Tree::Participants,
                                (t * 100 + i).to_be_bytes(),
                                b"p".to_vec(),
                            );
                            store.commit(b).unwrap();
                        }
                    });
                }
            });
            // Nothing applied since: returns at once.
            store.sync().unwrap();
        }
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(store.scan_prefix(Tree::Answers, &[]).unwrap().len(), 320);
        assert_eq!(
            store.scan_prefix(Tree::Participants, &[]).unwrap().len(),
            320
        );
    }

    #[test]
    fn sled_store_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            let mut b = Batch::new();
            b.put(Tree::Members, b"k".to_vec(), b"v".to_vec());
            store.commit(b).unwrap();
        }
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(store.get(Tree::Members, b"k").unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn a_second_opener_is_refused_with_one_clear_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let _first = SledStore::open(&path, None).unwrap();
        let err = SledStore::open(&path, None).expect_err("must refuse");
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(
            err.to_string().contains("in use by another process"),
            "{err}"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            store
                .set_schema_version_for_tests(SCHEMA_VERSION + 1)
                .unwrap();
        }
        let err = SledStore::open(&path, None).expect_err("must refuse");
        let text = err.to_string();
        assert!(matches!(err, StoreError::NewerSchema { .. }), "{text}");
        assert!(text.contains("newer version"), "{text}");
    }

    /// Every file under `dir`, concatenated: what a person reading the disk would see.
    fn raw_bytes(dir: &std::path::Path) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                all.extend(raw_bytes(&path));
            } else {
                all.extend(std::fs::read(&path).unwrap());
            }
        }
        all
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn compacting_removes_deleted_bytes_from_the_files_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledStore::open(&path, None).unwrap();
        let mut b = Batch::new();
        b.put(
            Tree::Answers,
            b"gone".to_vec(),
            b"canary-7f3e-secret".to_vec(),
        );
        b.put(Tree::Answers, b"kept".to_vec(), b"still-here-91c2".to_vec());
        store.commit(b).unwrap();
        let mut b = Batch::new();
        b.remove(Tree::Answers, b"gone".to_vec());
        store.commit(b).unwrap();
        assert!(
            contains(&raw_bytes(&path), b"canary-7f3e-secret"),
            "sled keeps a removed value in its files, so the check below can fail"
        );

        store.compact().unwrap();
        assert!(!contains(&raw_bytes(&path), b"canary-7f3e-secret"));
        assert!(contains(&raw_bytes(&path), b"still-here-91c2"));
        assert_eq!(store.get(Tree::Answers, b"gone").unwrap(), None);
        // Writes after the swap land in the new folder and survive reopening.
        let mut b = Batch::new();
        b.put(Tree::Members, b"after".to_vec(), b"v".to_vec());
        store.commit(b).unwrap();
        drop(store);
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(
            store.get(Tree::Answers, b"kept").unwrap(),
            Some(b"still-here-91c2".to_vec())
        );
        assert_eq!(
            store.get(Tree::Members, b"after").unwrap(),
            Some(b"v".to_vec())
        );
        assert_eq!(schema_version(&store).unwrap(), SCHEMA_VERSION);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.contains("rewrite")),
            "no folder of the rewrite is left: {names:?}"
        );
    }

    #[test]
    fn a_rewrite_interrupted_between_its_renames_is_finished_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let fresh = sibling(&path, "rewrite-new");
        let old = sibling(&path, "rewrite-old");
        for (at, value) in [(&path, b"old".to_vec()), (&fresh, b"new".to_vec())] {
            let store = SledStore::open(at, None).unwrap();
            let mut b = Batch::new();
            b.put(Tree::Members, b"k".to_vec(), value);
            store.commit(b).unwrap();
        }
        // The crash: the database renamed aside, the complete copy not yet in its place.
        std::fs::rename(&path, &old).unwrap();
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(
            store.get(Tree::Members, b"k").unwrap(),
            Some(b"new".to_vec())
        );
        assert!(!old.exists() && !fresh.exists());
        drop(store);

        // A crash while the copy was being built: the database is untouched, the copy dropped.
        std::fs::create_dir_all(&fresh).unwrap();
        std::fs::write(fresh.join("db"), b"half").unwrap();
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(
            store.get(Tree::Members, b"k").unwrap(),
            Some(b"new".to_vec())
        );
        assert!(!fresh.exists());
    }

    #[test]
    fn a_snapshot_holds_every_tree() {
        let dir = tempfile::tempdir().unwrap();
        let sled = SledStore::open(&dir.path().join("db"), None).unwrap();
        let memory = MemoryStore::default();
        for store in [&sled as &dyn Store, &memory] {
            let mut b = Batch::new();
            b.put(Tree::Votes, b"v".to_vec(), b"1".to_vec());
            b.put(Tree::Audit, b"a".to_vec(), b"2".to_vec());
            store.commit(b).unwrap();
            let snap = store.snapshot().unwrap();
            assert_eq!(snap.len(), Tree::ALL.len());
            let votes = &snap.iter().find(|(t, _)| *t == Tree::Votes).unwrap().1;
            assert_eq!(votes, &vec![(b"v".to_vec(), b"1".to_vec())]);
        }
    }

    fn counter(store: &dyn Store) -> u64 {
        let bytes = store.get(Tree::Meta, b"next_id:lesson").unwrap().unwrap();
        u64::from_be_bytes(bytes.try_into().unwrap())
    }

    #[test]
    fn a_refused_write_is_undone_for_every_reader_keeps_its_ids_and_writing_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledStore::open(&path, None).unwrap();
        let mut b = Batch::new();
        b.put(Tree::Lessons, b"kept".to_vec(), b"v1".to_vec());
        b.put(Tree::Lessons, b"gone-later".to_vec(), b"still".to_vec());
        b.put(Tree::Meta, b"next_id:lesson".to_vec(), 1u64.to_be_bytes());
        store.commit(b).unwrap();
        let before = store.snapshot().unwrap();

        store.fail_next_flushes(1);
        let mut b = Batch::new();
        b.put(Tree::Lessons, b"kept".to_vec(), b"v2".to_vec());
        b.put(Tree::Lessons, b"new".to_vec(), b"refused".to_vec());
        b.remove(Tree::Lessons, b"gone-later".to_vec());
        b.put(Tree::Meta, b"next_id:lesson".to_vec(), 2u64.to_be_bytes());
        let err = store.commit(b).expect_err("the flush fails");
        assert!(
            matches!(err, StoreError::Unwritable { full: true, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("free disk space"), "{err}");
        // Nobody sees the refused batch, by any way of reading; the counter stays ahead.
        assert_eq!(
            store.get(Tree::Lessons, b"kept").unwrap(),
            Some(b"v1".to_vec())
        );
        assert_eq!(store.get(Tree::Lessons, b"new").unwrap(), None);
        assert_eq!(
            store.scan_prefix(Tree::Lessons, &[]).unwrap(),
            vec![
                (b"gone-later".to_vec(), b"still".to_vec()),
                (b"kept".to_vec(), b"v1".to_vec())
            ]
        );
        assert_eq!(store.last_with_prefix(Tree::Lessons, b"n").unwrap(), None);
        assert_eq!(
            store.scan_range(Tree::Lessons, b"a", b"z").unwrap().len(),
            2
        );
        assert_eq!(counter(&store), 2, "the refused id is not handed out again");
        let mut snap = store.snapshot().unwrap();
        let mut before = before;
        for (tree, entries) in snap.iter_mut().chain(before.iter_mut()) {
            if *tree == Tree::Meta {
                entries.retain(|(k, _)| !k.starts_with(b"next_id"));
            }
        }
        assert_eq!(snap, before, "a backup taken now holds what is durable");

        // The next write reopens sled, puts the undo on disk and lands.
        let mut b = Batch::new();
        b.put(Tree::Lessons, b"after".to_vec(), b"saved".to_vec());
        b.put(Tree::Meta, b"next_id:lesson".to_vec(), 3u64.to_be_bytes());
        store.commit(b).unwrap();
        store.flush().unwrap();
        drop(store);
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(store.get(Tree::Lessons, b"new").unwrap(), None);
        assert_eq!(
            store.get(Tree::Lessons, b"kept").unwrap(),
            Some(b"v1".to_vec())
        );
        assert_eq!(
            store.get(Tree::Lessons, b"gone-later").unwrap(),
            Some(b"still".to_vec())
        );
        assert_eq!(
            store.get(Tree::Lessons, b"after").unwrap(),
            Some(b"saved".to_vec())
        );
        assert_eq!(counter(&store), 3);
    }

    #[test]
    fn under_failing_flushes_each_commit_is_either_confirmed_and_kept_or_refused_and_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let confirmed = std::sync::Mutex::new(std::collections::BTreeSet::new());
        let refused = std::sync::atomic::AtomicUsize::new(0);
        {
            let store = SledStore::open(&path, None).unwrap();
            let done = std::sync::atomic::AtomicBool::new(false);
            std::thread::scope(|s| {
                let writers: Vec<_> = (0..6u64)
                    .map(|t| {
                        let (store, confirmed, refused) = (&store, &confirmed, &refused);
                        s.spawn(move || {
                            for i in 0..40u64 {
                                let key = (t * 1000 + i).to_be_bytes();
                                let mut b = Batch::new();
                                b.put(Tree::Answers, key, b"a".to_vec());
                                if i % 2 == 0 {
                                    b.put(Tree::Participants, key, b"p".to_vec());
                                }
                                match store.commit(b) {
                                    Ok(()) => {
                                        confirmed.lock().unwrap().insert(key.to_vec());
                                    }
                                    Err(StoreError::Unwritable { .. }) => {
                                        refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                    }
                                    Err(e) => panic!("{e}"),
                                }
                            }
                        })
                    })
                    .collect();
                let (store, done) = (&store, &done);
                s.spawn(move || {
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        store.fail_next_flushes(1);
                        std::thread::sleep(std::time::Duration::from_millis(15));
                    }
                });
                for w in writers {
                    w.join().unwrap();
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            store.fail_next_flushes(0);
            store.flush().unwrap();
        }
        let store = SledStore::open(&path, None).unwrap();
        let stored: std::collections::BTreeSet<Vec<u8>> = store
            .scan_prefix(Tree::Answers, &[])
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let confirmed = confirmed.into_inner().unwrap();
        assert!(
            refused.load(std::sync::atomic::Ordering::SeqCst) > 0,
            "some flushes failed, so the check can fail"
        );
        assert_eq!(
            stored.difference(&confirmed).count() + confirmed.difference(&stored).count(),
            0,
            "exactly the confirmed commits are stored: stored but not confirmed {:?}, confirmed but not stored {:?}",
            stored.difference(&confirmed).collect::<Vec<_>>(),
            confirmed.difference(&stored).collect::<Vec<_>>()
        );
        for (k, _) in store.scan_prefix(Tree::Participants, &[]).unwrap() {
            assert!(stored.contains(&k), "no half of a refused batch is left");
        }
    }

    /// Every file under `dir`, by path, with its bytes.
    fn files(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
        let mut all = std::collections::BTreeMap::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                all.extend(files(&path));
            } else {
                all.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
        all
    }

    #[test]
    fn a_database_that_lost_saved_work_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            for i in 1..=5u64 {
                let mut b = Batch::new();
                b.put(Tree::Lessons, i.to_be_bytes(), b"lesson".to_vec());
                b.put(Tree::Meta, b"next_id:lesson".to_vec(), i.to_be_bytes());
                store.commit(b).unwrap();
            }
        }
        // Keep the ledger, and take the database back to an earlier state behind its back:
        // what a log cut short by damage looks like to the next open.
        let ledger = std::fs::read(path.join("academie-ledger")).unwrap();
        {
            let db = sled::open(&path).unwrap();
            let meta = db.open_tree("meta").unwrap();
            meta.insert("next_id:lesson", &3u64.to_be_bytes()).unwrap();
            db.flush().unwrap();
        }
        std::fs::write(path.join("academie-ledger"), &ledger).unwrap();
        let before = files(&path);
        let err = SledStore::open(&path, None).expect_err("refused");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("went back from 5 to 3"), "{err}");
        assert_eq!(files(&path), before, "not a byte changed");
        assert!(
            !sibling(&path, "checking").exists(),
            "the checked copy is gone"
        );

        // The same with the sequence number of the flushes.
        {
            let db = sled::open(&path).unwrap();
            let meta = db.open_tree("meta").unwrap();
            meta.insert("next_id:lesson", &9u64.to_be_bytes()).unwrap();
            let flushes = db.open_tree("academie_flushes").unwrap();
            flushes.insert("seq", &1u64.to_be_bytes()).unwrap();
            db.flush().unwrap();
        }
        std::fs::write(path.join("academie-ledger"), &ledger).unwrap();
        let before = files(&path);
        let err = SledStore::open(&path, None).expect_err("refused");
        assert!(
            err.to_string().contains("holds less than was saved"),
            "{err}"
        );
        assert_eq!(files(&path), before);

        // A missing ledger, once the marker says there is one.
        std::fs::remove_file(path.join("academie-ledger")).unwrap();
        let err = SledStore::open(&path, None).expect_err("refused");
        assert!(err.to_string().contains("is missing"), "{err}");
    }

    #[test]
    fn a_clean_close_is_recognised_and_any_change_after_it_is_checked_on_a_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            let mut b = Batch::new();
            b.put(Tree::Members, b"k".to_vec(), b"v".to_vec());
            store.commit(b).unwrap();
        }
        assert!(
            path.join("academie-closed").exists(),
            "the clean close is recorded"
        );
        let store = SledStore::open(&path, None).unwrap();
        assert!(
            !path.join("academie-closed").exists(),
            "forgotten once sled may write again"
        );
        assert_eq!(store.get(Tree::Members, b"k").unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn inspecting_reads_a_copy_and_leaves_the_database_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            let mut b = Batch::new();
            b.put(Tree::Members, b"k".to_vec(), b"v".to_vec());
            store.commit(b).unwrap();
        }
        // Remove the fingerprint: sled would write to these files if it opened them.
        std::fs::remove_file(path.join("academie-closed")).unwrap();
        let before = files(&path);
        let found =
            SledStore::inspect(&path, None, |store| store.get(Tree::Members, b"k").unwrap())
                .unwrap();
        assert_eq!(found, Some(b"v".to_vec()));
        assert_eq!(files(&path), before);
        let _open = SledStore::open(&path, None).unwrap();
        assert!(matches!(
            SledStore::inspect(&path, None, |_| ()),
            Err(StoreError::Locked { .. })
        ));
    }

    #[test]
    fn commits_while_a_rewrite_runs_all_land_and_are_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            std::thread::scope(|s| {
                for t in 0..4u64 {
                    let store = &store;
                    s.spawn(move || {
                        for i in 0..50u64 {
                            let mut b = Batch::new();
                            b.put(Tree::Answers, (t * 1000 + i).to_be_bytes(), b"a".to_vec());
                            store.commit(b).unwrap();
                        }
                    });
                }
                let store = &store;
                s.spawn(move || {
                    for _ in 0..3 {
                        store.compact().unwrap();
                    }
                });
            });
        }
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(store.scan_prefix(Tree::Answers, &[]).unwrap().len(), 200);
    }
}
