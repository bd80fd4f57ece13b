//! The one small storage interface the academy uses, so the embedded engine can be replaced.
//!
//! The interface is an ordered key-value store with named trees, prefix scans and atomic,
//! durable batches. The sled store (`academie-sled`) is the production engine; [`MemoryStore`]
//! exists so the same contract tests ([`contract`]) run against a second backend, which keeps the
//! interface honest.

mod memory;

pub use memory::MemoryStore;

use std::collections::HashMap;
use std::path::PathBuf;

/// The schema version this build writes. Raise it with a migration step in `engine::migrate`.
/// 1: the first layout; 2: participants kept as records of their own; 3: the lesson index as
/// posting lists; 4: the lesson index also knows who reviewed a lesson and when it was last
/// approved or confirmed; 5: the records that name a member are listed by member
/// ([`Tree::Mentions`]); 6: the outbox keeps a stored message of its own, attachments as
/// base64, instead of the reply; 7: the lesson index also lists a collaboration's lessons per
/// learning order and month, and per month of review; 8: the lesson index also keeps the
/// instant an approved lesson was last approved or confirmed, and the applications are listed
/// in the order they were made ([`Tree::AppliedAt`]).
pub const SCHEMA_VERSION: u32 = 8;

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
    /// user id ++ kind ++ record key → (): the records that name a member, so their export
    /// and deletion read what they have, not every record of the academy.
    Mentions,
    /// `T` ++ time ++ lesson id ++ user id → (): the applications in the order they were made,
    /// and `M` ++ month → the lessons applied in it, so the lessons applied since a moment are
    /// read from that period's lists alone.
    AppliedAt,
}

impl Tree {
    pub const ALL: [Tree; 24] = [
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
        Tree::Mentions,
        Tree::AppliedAt,
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
            Tree::Mentions => "mentions",
            Tree::AppliedAt => "applications_by_time",
        }
    }

    /// Its place in [`Tree::ALL`]: a backend keeps its trees in that order.
    pub fn index(self) -> usize {
        Tree::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// A key-value pair as stored.
pub type Entry = (Vec<u8>, Vec<u8>);

/// What a streaming scan ([`Store::scan_each`]) hands each entry to; an error ends the scan.
pub type EachEntry<'a> = dyn FnMut(&[u8], &[u8]) -> Result<(), StoreError> + 'a;

/// Entries a streaming scan ([`Store::scan_each`]) reads at a time.
pub const SCAN_CHUNK: usize = 256;

/// The smallest key after `key` in key order, where a streaming scan goes on.
pub fn key_after(key: &[u8]) -> Vec<u8> {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0);
    next
}

/// Writes that land together or not at all. A key written again in the same batch keeps its
/// first place with the last value: a change that touches several lessons (a member's deletion
/// removes every lesson of theirs) writes each shared posting list once, not once per lesson,
/// and reading the batch's own writes is a lookup, not a scan of every write queued.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    ops: Vec<Op>,
    /// Where each key's write is in `ops`, per tree.
    at: HashMap<Tree, HashMap<Vec<u8>, usize>>,
}

/// One write of a batch: (tree, key, value), no value for a removal.
pub type Op = (Tree, Vec<u8>, Option<Vec<u8>>);

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, tree: Tree, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.write(tree, key.into(), Some(value.into()));
    }

    pub fn remove(&mut self, tree: Tree, key: impl Into<Vec<u8>>) {
        self.write(tree, key.into(), None);
    }

    fn write(&mut self, tree: Tree, key: Vec<u8>, value: Option<Vec<u8>>) {
        let keys = self.at.entry(tree).or_default();
        if let Some(i) = keys.get(key.as_slice()) {
            self.ops[*i].2 = value;
            return;
        }
        keys.insert(key.clone(), self.ops.len());
        self.ops.push((tree, key, value));
    }

    /// The value this batch will leave at `key`, if it writes or removes it: `Some(None)` for a
    /// removal. Lets a multi-step change read its own pending writes.
    pub fn pending(&self, tree: Tree, key: &[u8]) -> Option<Option<&[u8]>> {
        let i = self.at.get(&tree)?.get(key)?;
        Some(self.ops[*i].2.as_deref())
    }

    /// Adds `other`'s writes after this batch's own; a key both write keeps its place here and
    /// takes `other`'s value.
    pub fn append(&mut self, other: Batch) {
        if self.ops.is_empty() {
            *self = other;
            return;
        }
        for (tree, key, value) in other.ops {
            self.write(tree, key, value);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Its writes in order, for a backend: (tree, key, value), no value for a removal; each key
    /// once, where it was first written, with the value written last.
    pub fn ops(&self) -> &[Op] {
        &self.ops
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

/// The same error again, for each of several requests one failed write carried (an I/O error
/// keeps its kind and message).
impl Clone for StoreError {
    fn clone(&self) -> Self {
        use StoreError as E;
        match self {
            E::Locked { path } => E::Locked { path: path.clone() },
            E::NewerSchema {
                path,
                found,
                supported,
            } => E::NewerSchema {
                path: path.clone(),
                found: *found,
                supported: *supported,
            },
            E::Corrupt { path, detail } => E::Corrupt {
                path: path.clone(),
                detail: detail.clone(),
            },
            E::Open { path, source } => E::Open {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            E::Unwritable { path, detail, full } => E::Unwritable {
                path: path.clone(),
                detail: detail.clone(),
                full: *full,
            },
            E::Io(detail) => E::Io(detail.clone()),
        }
    }
}

/// The storage contract. Every method is synchronous and safe to call from many threads.
pub trait Store: Send + Sync {
    /// The value at `key`, if any.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// The value at `key`, as [`Store::get`] gives it, for a reader that goes once through
    /// more records than the store's cache holds, in no key order (every lesson of the site):
    /// the store sees to it that what such a reader read does not stay in memory beyond its
    /// cache. The default is `get`.
    fn get_in_pass(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(tree, key)
    }

    /// All entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError>;

    /// All entries with `start <= key < end`, in key order.
    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError>;

    /// Every entry whose key starts with `prefix`, in key order, handed to `each` a few at a
    /// time instead of collected, so a whole tree (a backup) is read in bounded memory. No lock
    /// of the store is held while `each` runs, so a batch applied meanwhile may be seen in
    /// part: a caller that needs one moment keeps writers out. The default collects first.
    fn scan_each(
        &self,
        tree: Tree,
        prefix: &[u8],
        each: &mut EachEntry<'_>,
    ) -> Result<(), StoreError> {
        for (key, value) in self.scan_prefix(tree, prefix)? {
            each(&key, &value)?;
        }
        Ok(())
    }

    /// Every entry whose key starts with `prefix`, in key order, handed to `each` from the
    /// store's own buffers, for a reader that keeps a little of each entry (a round's status
    /// keeps names): nothing is copied first. The store is being read while `each` runs, so
    /// `each` must not call the store. The default hands entries as [`Store::scan_each`] does.
    fn scan_prefix_in_place(
        &self,
        tree: Tree,
        prefix: &[u8],
        each: &mut EachEntry<'_>,
    ) -> Result<(), StoreError> {
        self.scan_each(tree, prefix, each)
    }

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
    /// its files, only what is live; called after deleting someone's data. What was removed
    /// before it began is gone from the files when it returns; writes made while it runs are
    /// kept (what they remove may stay in the files until the next rewrite). A backend that
    /// keeps nothing on disk has nothing to do.
    fn compact(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// A number that changes whenever a write becomes durable, the same when the store is
    /// opened again: two moments with the same number saw the same data, also across
    /// processes. `None` when the store cannot tell (one in memory, or one whose last writes
    /// were refused).
    fn generation(&self) -> Option<u64> {
        None
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

/// The same tests against every backend: what the rest of the academy may rely on.
#[doc(hidden)]
pub mod contract {
    use super::*;

    /// Panics where `store`, empty, breaks the contract.
    pub fn exercise(store: &dyn Store) {
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
        // A read in a pass reads what `get` does.
        assert_eq!(
            store
                .get_in_pass(Tree::Lessons, &10u64.to_be_bytes())
                .unwrap(),
            Some(b"ten".to_vec())
        );
        assert_eq!(
            store
                .get_in_pass(Tree::Lessons, &3u64.to_be_bytes())
                .unwrap(),
            None
        );

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

        let mut seen = Vec::new();
        store
            .scan_each(Tree::LessonIndex, b"ta", &mut |k, _| {
                seen.push(k.to_vec());
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, vec![b"tabc".to_vec(), b"tabd".to_vec()]);
        // More entries than one chunk, with keys that are prefixes of each other, each once.
        let mut b = Batch::new();
        let many: Vec<Vec<u8>> = (0..SCAN_CHUNK * 2 + 3)
            .map(|i| format!("m{}", "x".repeat(i % 7 + 1) + &i.to_string()).into_bytes())
            .collect();
        for k in &many {
            b.put(Tree::Answers, k.clone(), k.clone());
        }
        b.put(Tree::Answers, b"m".to_vec(), b"m".to_vec());
        b.put(Tree::Answers, b"n".to_vec(), b"n".to_vec());
        store.commit(b).unwrap();
        let want: Vec<Vec<u8>> = store
            .scan_prefix(Tree::Answers, b"m")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(want.len(), many.len() + 1);
        type Scan = fn(&dyn Store, Tree, &[u8], &mut EachEntry<'_>) -> Result<(), StoreError>;
        let scans: [(&str, Scan); 2] = [
            ("scan_each", |s, t, p, each| s.scan_each(t, p, each)),
            ("scan_prefix_in_place", |s, t, p, each| {
                s.scan_prefix_in_place(t, p, each)
            }),
        ];
        for (name, scan) in scans {
            let mut seen = Vec::new();
            scan(store, Tree::Answers, b"m", &mut |k, v| {
                assert_eq!(k, v, "{name}");
                seen.push(k.to_vec());
                Ok(())
            })
            .unwrap();
            assert_eq!(seen, want, "{name}");
            // A failure in `each` ends the scan with it.
            let mut calls = 0;
            let stopped = scan(store, Tree::Answers, b"", &mut |_, _| {
                calls += 1;
                Err(StoreError::Io("stop".into()))
            });
            assert!(
                matches!(stopped, Err(StoreError::Io(_))) && calls == 1,
                "{name}"
            );
        }
        let mut b = Batch::new();
        for k in many.iter().chain([&b"m".to_vec(), &b"n".to_vec()]) {
            b.remove(Tree::Answers, k.clone());
        }
        store.commit(b).unwrap();

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

    #[cfg(test)]
    #[test]
    fn memory_store_keeps_the_contract() {
        exercise(&MemoryStore::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_written_again_in_a_batch_is_written_once_with_its_last_value() {
        let mut batch = Batch::new();
        batch.put(Tree::LessonIndex, b"wwater\0".to_vec(), b"1,2,3".to_vec());
        batch.put(Tree::Lessons, b"L1".to_vec(), b"first".to_vec());
        batch.put(Tree::LessonIndex, b"wwater\0".to_vec(), b"1,3".to_vec());
        // The same key in another tree is another write.
        batch.put(Tree::Lessons, b"wwater\0".to_vec(), b"other".to_vec());
        batch.remove(Tree::Lessons, b"L1".to_vec());
        batch.put(Tree::LessonIndex, b"wwater\0".to_vec(), b"3".to_vec());
        type Seen<'a> = (Tree, &'a [u8], Option<&'a [u8]>);
        let ops: Vec<Seen> = batch
            .ops()
            .iter()
            .map(|(t, k, v)| (*t, k.as_slice(), v.as_deref()))
            .collect();
        assert_eq!(
            ops,
            vec![
                (Tree::LessonIndex, &b"wwater\0"[..], Some(&b"3"[..])),
                (Tree::Lessons, &b"L1"[..], None),
                (Tree::Lessons, &b"wwater\0"[..], Some(&b"other"[..])),
            ]
        );
        assert_eq!(batch.len(), 3);
        assert_eq!(
            batch.pending(Tree::LessonIndex, b"wwater\0"),
            Some(Some(&b"3"[..]))
        );
        assert_eq!(batch.pending(Tree::Lessons, b"L1"), Some(None));
        assert_eq!(batch.pending(Tree::Lessons, b"L2"), None);

        // Appended, a key both write keeps its first place and takes the later value.
        let mut more = Batch::new();
        more.put(Tree::Lessons, b"L2".to_vec(), b"new".to_vec());
        more.put(Tree::Lessons, b"L1".to_vec(), b"back".to_vec());
        // Appended to an empty batch, it is that batch, lookups included.
        let mut empty = Batch::new();
        empty.append(more.clone());
        assert_eq!(empty.ops(), more.ops());
        assert_eq!(
            empty.pending(Tree::Lessons, b"L1"),
            Some(Some(&b"back"[..]))
        );
        batch.append(more);
        let keys: Vec<&[u8]> = batch.ops().iter().map(|(_, k, _)| k.as_slice()).collect();
        assert_eq!(keys, vec![&b"wwater\0"[..], b"L1", b"wwater\0", b"L2"]);
        assert_eq!(
            batch.pending(Tree::Lessons, b"L1"),
            Some(Some(&b"back"[..]))
        );
    }
}
