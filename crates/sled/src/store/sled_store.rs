//! The sled engine behind the [`Store`] interface: one sled tree per [`Tree`], a schema version
//! in the meta tree, and flushes shared by everyone waiting at once (group commit) so that what
//! is confirmed is on disk without each confirmation paying for its own flush.
//!
//! Three promises sled does not make by itself are kept here:
//! - **A damaged database is refused, untouched.** Before sled may open a folder (and repair it
//!   by writing over it), the folder is either byte for byte what a clean close left, or a copy
//!   of it is opened and checked against the ledger of what was saved (see `opening`, `ledger`).
//! - **A refused write leaves no trace.** Every applied batch keeps what it replaced until a
//!   flush makes it durable. When a flush (or a write) fails, the batches not yet durable are
//!   undone for every reader at once (see `overlay`), their writers are told, and id counters
//!   stay where they were so no id is handed out twice.
//! - **Writing resumes by itself.** sled refuses every write after one failed (and even reads
//!   may need to write) until it is opened again, which needs room. So the store keeps a reserve
//!   file beside the database: on a failure it gives the reserve up, reopens sled at once and
//!   writes the undo to disk, then refuses writes until the reserve fits again, and carries on.
//!   Without a reserve (the disk was already full at start), the undo is kept in the ledger for
//!   the next open, and the next write after a probe file fits reopens sled and writes it back.

use super::ledger::{self, Acknowledged, Ledger};
use super::opening::{self, Scratch};
use super::overlay::Mask;
use super::{
    Batch, EachEntry, Entry, Store, StoreError, Tree, COUNTER_PREFIX, SCHEMA_KEY, SCHEMA_VERSION,
};
use fs2::FileExt;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::Duration;

/// Suffixes of the folders a rewrite ([`Store::compact`]) uses beside the database: the copy
/// being built, and the old folder between the two renames of the swap.
const REWRITE_NEW: &str = "rewrite-new";
const REWRITE_OLD: &str = "rewrite-old";
/// Suffixes of the folders a restore ([`SledStore::replace`]) uses: the database being filled,
/// and the complete one waiting to be put in place.
const RESTORING: &str = "restoring";
const RESTORED: &str = "restored";
/// The copy a database is checked on before it is opened.
const CHECKING: &str = "checking";
/// sled's segment size: the most a flush may need beyond the space already taken.
const SEGMENT: u64 = 512 * 1024;
/// The least room the probe asks for before sled is opened again after a full disk.
const PROBE_MIN: u64 = 4 * 1024 * 1024;
/// The room kept aside beside the database, given up to reopen sled after a full disk.
const RESERVE: u64 = 8 * 1024 * 1024;
/// The store's own sled tree, outside [`Tree`] (so no backup carries it): the sequence number
/// of the last flush, under [`SEQ`], as eight big-endian bytes. A tree of one key stays one
/// small page, however often it is written.
const FLUSHES: &str = "academie_flushes";
const SEQ: &[u8] = b"seq";

pub struct SledStore {
    path: PathBuf,
    cache_bytes: Option<u64>,
    /// Held for the store's lifetime beside the folder, not inside it: a rewrite replaces the
    /// folder (and sled's own lock with it), and nobody else may open, repair or swap it then.
    _lock: File,
    /// Every operation reads under this lock; a rewrite, a snapshot, undoing refused writes
    /// and reopening take it exclusively.
    state: RwLock<State>,
    /// Applies one batch at a time and remembers, per batch not yet durable, what it replaced.
    journal: Mutex<Journal>,
    /// Held by whoever flushes, undoes refused writes, heals or rewrites: one at a time.
    flushing: Mutex<()>,
    /// Mirrors `state.failure.is_some() || state.no_room.is_some()`, so a write can tell
    /// without the state lock.
    failed: AtomicBool,
    /// How many batches have been applied; a flush that starts after batch n covers it.
    applied: AtomicU64,
    group: GroupCommit,
    /// The sequence number of the last flush begun; it is in the database under [`SEQ`].
    seq: AtomicU64,
    /// Every id counter as the last applied batch left it, by name: what the ledger records,
    /// without reading the meta tree at every flush.
    counters: Mutex<BTreeMap<String, u64>>,
    /// The sequence number the ledger last recorded.
    acked: AtomicU64,
    ledger: Mutex<Option<Ledger>>,
    /// A database opened only to be rewritten (one set aside by a restore): its lock file goes
    /// with it.
    transient: bool,
    /// While a rewrite copies the store without keeping writers out: every key written (or
    /// undone) since it began, copied again once writers are kept out.
    rewriting: Mutex<Option<Touched>>,
    /// One rewrite at a time.
    rewrite: Mutex<()>,
    /// Called between a rewrite's copy and its catch-up, to write while it runs.
    #[cfg(test)]
    #[allow(clippy::type_complexity)]
    pub(super) during_rewrite: Mutex<Option<Box<dyn FnOnce(&SledStore) + Send>>>,
    /// Called once a rewrite lets writers in again, before it notes what the copy made durable.
    #[cfg(test)]
    #[allow(clippy::type_complexity)]
    pub(super) after_swap: Mutex<Option<Box<dyn FnOnce(&SledStore) + Send>>>,
    /// Flushes to fail on purpose, so the undo can be tested without filling a disk.
    #[cfg(test)]
    fail_flushes: std::sync::atomic::AtomicU32,
}

struct State {
    /// `None` only in the moment a rewrite swaps the folders, or after reopening failed.
    inner: Option<Inner>,
    /// Set while refused writes are undone only for readers, not yet on disk.
    failure: Option<Failure>,
    /// Set once the undo is on disk but the reserve was given up for it: writes wait until
    /// the reserve fits again.
    no_room: Option<Why>,
}

struct Inner {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    flushes: sled::Tree,
}

/// What a refused write left to put right.
struct Failure {
    why: Why,
    /// The durable value of every key a refused batch wrote, counters excepted.
    mask: Mask,
    /// The counters refused batches reserved: kept, and written back with the undo.
    counters: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// Why writing failed, to tell the writers it concerns.
#[derive(Clone, Debug)]
enum Why {
    Unwritable { detail: String, full: bool },
    Other(String),
}

/// Why [`SledStore::apply_journaled`] refused a batch.
enum Refused {
    /// Writing was already refused: nothing of the batch was written.
    Untouched(StoreError),
    /// sled failed while writing it: some of it may have landed, and must be undone.
    Failed(StoreError),
}

/// Per write of a batch: where, and the value it replaced.
type Writes = Vec<(Tree, Vec<u8>, Option<Vec<u8>>)>;

/// The keys written since a rewrite began copying.
type Touched = std::collections::BTreeSet<(Tree, Vec<u8>)>;

/// Entries a rewrite copies per turn of the read lock, so a reopen or an undo waits at most
/// that long for it.
const COPY_CHUNK: usize = 1024;
/// The cache of a rewrite's fresh copy, which is only written, then closed and opened again
/// with the store's own: a larger one only held memory (at 100,000 lessons a console's
/// deletion peaked 30 MB lower with this than with the configured 64 MB).
const COPY_CACHE_BYTES: u64 = 2 * 1024 * 1024;

/// One applied batch: its number, what it replaced, and the counters it set (kept even if
/// it is undone, so an id it reserved is never handed out again).
type Undo = (u64, Writes, Vec<(Vec<u8>, Vec<u8>)>);

#[derive(Default)]
struct Journal {
    batches: VecDeque<Undo>,
}

/// The longest a flush waits for writers still applying: about what one flush costs here, so
/// a lone answer loses nothing and a room's answers share a flush.
const GATHER: std::time::Duration = std::time::Duration::from_micros(300);

/// One flush at a time; whoever waits while it runs either is covered by it or leads the next.
/// Waiters are woken one by one when their batch is durable, not all at each flush: with a
/// room answering at once, waking everyone after every flush costs more than the flushes.
#[derive(Default)]
struct GroupCommit {
    state: Mutex<Flushes>,
}

#[derive(Default)]
struct Flushes {
    /// Every batch up to this count is durable, except those refused.
    durable: u64,
    /// Batches refused and undone: each range from after its first to its last number. A
    /// failure refuses every batch not durable when it happens, so these follow `durable`.
    refused: Vec<(u64, u64)>,
    /// Why the last refused batches were refused.
    why: Option<Why>,
    /// A flush is under way.
    running: bool,
    /// Who waits for which count, and where they learn that it is durable.
    waiters: Vec<Waiter>,
}

/// One caller parked until a count is durable.
struct Waiter {
    wanted: u64,
    thread: std::thread::Thread,
    /// Set before the unpark when `wanted` is durable and not refused, so the woken thread
    /// returns without taking the state's lock again: sixty threads woken by one flush would
    /// otherwise queue on that lock one by one.
    durable: Arc<AtomicBool>,
}

/// Whom to wake once `durable` has moved (or a flush failed).
enum Wake {
    /// Those whose batch is now durable.
    Covered,
    /// Those, and one more to lead the next flush.
    CoveredAndNextLeader,
    /// Everyone waiting.
    All,
}

impl Flushes {
    /// Takes the chosen waiters off the list and unparks them. Unparking under the state lock
    /// is fine: a woken thread only blocks on that lock for a moment.
    fn wake(&mut self, which: Wake) {
        let durable = self.durable;
        let (mut wake, mut wait): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|w| w.wanted <= durable || matches!(which, Wake::All));
        if matches!(which, Wake::CoveredAndNextLeader) && !wait.is_empty() {
            wake.push(wait.remove(0));
        }
        self.waiters = wait;
        for waiter in wake {
            // Only the plain case is answered here; a refused batch is told under the lock.
            let refused = self
                .refused
                .iter()
                .any(|(from, to)| *from < waiter.wanted && waiter.wanted <= *to);
            if waiter.wanted <= durable && !refused {
                waiter.durable.store(true, Ordering::Release);
            }
            waiter.thread.unpark();
        }
    }
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .finish()
    }
}

/// `path` with `.suffix` added to its last component: a sibling of the database folder.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

thread_local! {
    /// The store and number of the batch this thread applied last, so that its `sync` waits
    /// for (and answers about) its own batch, not whatever others applied since.
    static MINE: std::cell::Cell<(usize, u64)> = const { std::cell::Cell::new((0, 0)) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change under these locks is complete or not begun when a panic unwinds.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SledStore {
    /// Opens (or creates) the database at `path`. `cache_bytes` caps sled's page cache. A
    /// database that fails its checks is refused with [`StoreError::Corrupt`], and its files
    /// are left exactly as they were.
    pub fn open(path: &Path, cache_bytes: Option<u64>) -> Result<Self, StoreError> {
        let store = SledStore::open_without_reserve(path, cache_bytes)?;
        if let Err(e) = opening::reserve(&store.reserve_path(), RESERVE) {
            tracing::warn!(
                "no room to keep {} aside for a full disk ({e}): if the disk fills up, writes \
                 refused then are undone only when the academy next starts",
                store.reserve_path().display()
            );
        }
        Ok(store)
    }

    /// Opens as [`SledStore::open`] does, without keeping room aside: for a database that is
    /// only filled or rewritten and closed again (a restore being built, one set aside).
    fn open_without_reserve(path: &Path, cache_bytes: Option<u64>) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::private_dir_all(parent).map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        }
        let lock = take_lock(path)?;
        finish_interrupted_rewrite(path)?;
        check_before_opening(path, cache_bytes)?;
        opening::forget_fingerprint(path).map_err(|e| io_at(path, e))?;
        // With the lock file held, sled's own lock can only be held by this process's sled
        // threads of a store just closed: waited for, as after a swap.
        let inner = reopen(path, cache_bytes)?;
        // The folder and its files are the academy user's alone, also when an earlier version
        // created them readable by others.
        crate::files::restrict(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        let store = SledStore::around(path, cache_bytes, lock, inner);
        store.check_schema()?;
        store.check_acknowledged()?;
        store.keep_ledger()?;
        store.write_back_kept_undo()?;
        Ok(store)
    }

    /// Opens the same database again with another cache: a store opened for one pass over
    /// every record (a backup at start) goes on with the cache the academy runs with, without
    /// letting go of the lock in between. sled's pages read so far go with the old cache.
    pub fn with_cache(mut self, cache_bytes: Option<u64>) -> Result<SledStore, StoreError> {
        let path = self.path.clone();
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(inner) = state.inner.take() {
            inner.db.flush().map_err(|e| io_at(&path, e.into()))?;
        }
        state.inner = Some(reopen(&path, cache_bytes)?);
        self.cache_bytes = cache_bytes;
        Ok(self)
    }

    fn reserve_path(&self) -> PathBuf {
        sibling(&self.path, "reserve")
    }

    /// Writes back an undo the ledger kept because the academy stopped before it could: the
    /// refused writes may have reached the disk in part, and must not show.
    fn write_back_kept_undo(&self) -> Result<(), StoreError> {
        let Some((seq, bytes)) = Ledger::read_undo(&self.path) else {
            return Ok(());
        };
        let current = match Ledger::read(&self.path) {
            Ok(Some(ack)) => ack.seq,
            _ => 0,
        };
        // Kept for a flush that was followed by others: already written back.
        if seq == current {
            let (mask, counters) = decode_undo(&bytes).ok_or_else(|| StoreError::Corrupt {
                path: self.path.clone(),
                detail: "its record of refused writes cannot be read".into(),
            })?;
            let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
            state.failure = Some(Failure {
                why: Why::Other("refused before the last stop".into()),
                mask,
                counters,
            });
            let ack = self.write_back(&mut state)?;
            drop(state);
            tracing::warn!(
                "undid in {} the writes that were refused before the academy stopped",
                self.path.display()
            );
            self.note_durably(&ack);
        } else if let Some(ledger) = lock(&self.ledger).as_mut() {
            ledger
                .clear_undo()
                .map_err(|e| StoreError::Io(format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }

    fn around(path: &Path, cache_bytes: Option<u64>, lock: File, inner: Inner) -> SledStore {
        let seq = read_u64(&inner.flushes, SEQ).ok().flatten().unwrap_or(0);
        let counters = counters(&inner).unwrap_or_default();
        SledStore {
            path: path.to_owned(),
            cache_bytes,
            _lock: lock,
            state: RwLock::new(State {
                inner: Some(inner),
                failure: None,
                no_room: None,
            }),
            journal: Mutex::new(Journal::default()),
            flushing: Mutex::new(()),
            failed: AtomicBool::new(false),
            applied: AtomicU64::new(0),
            group: GroupCommit::default(),
            seq: AtomicU64::new(seq),
            counters: Mutex::new(counters),
            acked: AtomicU64::new(match Ledger::read(path) {
                Ok(Some(ack)) => ack.seq,
                _ => 0,
            }),
            ledger: Mutex::new(None),
            transient: false,
            rewriting: Mutex::new(None),
            rewrite: Mutex::new(()),
            #[cfg(test)]
            during_rewrite: Mutex::new(None),
            #[cfg(test)]
            after_swap: Mutex::new(None),
            #[cfg(test)]
            fail_flushes: Default::default(),
        }
    }

    /// Runs `f` on a checked copy of the database at `path`, which is left exactly as it was:
    /// for `academie check`. Refused while anyone has the database open; a copy that fails the
    /// store's own checks is refused like [`SledStore::open`] refuses.
    pub fn inspect<T>(
        path: &Path,
        cache_bytes: Option<u64>,
        f: impl FnOnce(&dyn Store) -> T,
    ) -> Result<T, StoreError> {
        let lock = take_lock(path)?;
        if !path.join("db").exists() && !path.join("conf").exists() {
            return Err(StoreError::Open {
                path: path.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let copy = checked_copy(path, cache_bytes)?;
        let inner = open_inner(&copy.0, cache_bytes)?;
        let store = SledStore::around(
            &copy.0,
            cache_bytes,
            lock.try_clone().map_err(|e| io_at(path, e))?,
            inner,
        );
        // The copy is read as the next open will leave the database.
        store.keep_ledger()?;
        store.write_back_kept_undo()?;
        let result = f(&store);
        drop(store);
        drop(copy);
        Ok(result)
    }

    /// Builds a new database beside the one at `path` with `fill`, then moves the current one
    /// (if any) to `aside`, where it is kept, and puts the new one in its place. Refused with
    /// [`StoreError::Locked`] while anyone has the database open; a failure before the swap
    /// leaves the current database as it was. Returns whether there was one to move aside.
    pub fn replace(
        path: &Path,
        cache_bytes: Option<u64>,
        aside: &Path,
        fill: impl FnOnce(&dyn Store) -> Result<(), StoreError>,
    ) -> Result<bool, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::private_dir_all(parent).map_err(|e| io_at(parent, e))?;
        }
        let _lock = take_lock(path)?;
        let building = sibling(path, RESTORING);
        let built = sibling(path, RESTORED);
        for leftover in [&building, &built] {
            if leftover.exists() {
                std::fs::remove_dir_all(leftover).map_err(|e| io_at(leftover, e))?;
            }
        }
        let filled = SledStore::open_without_reserve(&building, cache_bytes).and_then(|store| {
            fill(&store)?;
            store.flush()
        });
        let _ = std::fs::remove_file(sibling(&building, "lock"));
        if let Err(e) = filled {
            let _ = std::fs::remove_dir_all(&building);
            return Err(e);
        }
        // Complete under its second name: from here a crash is finished at the next open.
        std::fs::rename(&building, &built).map_err(|e| io_at(&building, e))?;
        let had_one = path.exists();
        if had_one {
            if let Err(e) = std::fs::rename(path, aside) {
                // Nothing changed: the built copy is not left behind.
                let _ = std::fs::remove_dir_all(&built);
                return Err(io_at(path, e));
            }
        }
        if let Err(e) = std::fs::rename(&built, path) {
            if had_one && std::fs::rename(aside, path).is_ok() {
                let _ = std::fs::remove_dir_all(&built);
            }
            return Err(io_at(&built, e));
        }
        // The swap is done and visible: it is not reported as a failure. Should the renames not
        // reach the disk before a crash, the next open finishes them from `.restored`.
        if let Err(e) = sync_dir(path.parent().unwrap_or(Path::new(""))) {
            tracing::warn!("the restore is in place, but its folder could not be synced: {e}");
        }
        Ok(had_one)
    }

    /// The folder this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, State>, StoreError> {
        let guard = self.state.read().unwrap_or_else(|p| p.into_inner());
        if guard.inner.is_none() {
            return Err(match &guard.failure {
                Some(failure) => self.error(&failure.why),
                None => StoreError::Io(format!(
                    "the database at {} could not be reopened after a rewrite; restart the academy",
                    self.path.display()
                )),
            });
        }
        Ok(guard)
    }

    /// The schema version recorded in the database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        super::schema_version(self).map_err(|e| match e {
            StoreError::Io(detail) => StoreError::Corrupt {
                path: self.path.clone(),
                detail,
            },
            other => other,
        })
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found == 0 && opening::read_marker(&self.path).present {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: EMPTIED.into(),
            });
        }
        if found == 0 {
            // A database this build just created. An older version is left as it is: the
            // engine migrates it (`Engine::upgrade`), since migrations know the records.
            self.write_schema_version(SCHEMA_VERSION)?;
        }
        Ok(())
    }

    /// The cheap half of the checks, on the database itself once it is open: the full one ran
    /// on a copy before, unless the files were exactly as a clean close left them.
    fn check_acknowledged(&self) -> Result<(), StoreError> {
        let guard = self.read()?;
        let inner = guard.inner.as_ref().expect("checked by read");
        check_inner(inner, &self.path, false).map_err(|detail| StoreError::Corrupt {
            path: self.path.clone(),
            detail,
        })
    }

    /// Opens the ledger, or starts one for a database that has none yet (new, or written by a
    /// version without it), and then says so in the marker.
    fn keep_ledger(&self) -> Result<(), StoreError> {
        let at = |e| StoreError::Io(format!("cannot write {}: {e}", self.path.display()));
        let ledger = match Ledger::open(&self.path) {
            Ok(ledger) => ledger,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let ack = {
                    let guard = self.read()?;
                    let inner = guard.inner.as_ref().expect("checked by read");
                    Acknowledged {
                        seq: self.seq.load(Ordering::SeqCst),
                        counters: counters(inner).map_err(|e| self.io(e))?,
                    }
                };
                Ledger::create(&self.path, &ack).map_err(at)?
            }
            Err(e) => return Err(at(e)),
        };
        *lock(&self.ledger) = Some(ledger);
        if !opening::read_marker(&self.path).ledger {
            opening::write_marker(&self.path, SCHEMA_VERSION).map_err(at)?;
            sync_dir(&self.path)?;
        }
        Ok(())
    }

    fn write_schema_version(&self, version: u32) -> Result<(), StoreError> {
        let guard = self.read()?;
        let inner = guard.inner.as_ref().expect("checked by read");
        inner.trees[Tree::Meta.index()]
            .insert(SCHEMA_KEY, &version.to_be_bytes())
            .map_err(|e| self.io(e))?;
        inner.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn set_schema_version_for_tests(&self, version: u32) -> Result<(), StoreError> {
        self.write_schema_version(version)
    }

    /// Makes the next `n` flushes fail as a full disk does.
    #[cfg(test)]
    pub(crate) fn fail_next_flushes(&self, n: u32) {
        self.fail_flushes.store(n, Ordering::SeqCst);
    }

    fn io(&self, e: sled::Error) -> StoreError {
        self.error(&why(e))
    }

    fn error(&self, why: &Why) -> StoreError {
        match why {
            Why::Unwritable { detail, full } => StoreError::Unwritable {
                path: self.path.clone(),
                detail: detail.clone(),
                full: *full,
            },
            Why::Other(detail) => StoreError::Io(detail.clone()),
        }
    }

    /// Copies every live entry into a fresh database at `fresh`, durably, with its marker and
    /// a ledger that says what it holds, and closes it.
    /// Copies every tree into a fresh database at `fresh` while writers go on: the read lock is
    /// taken a chunk at a time, and what is written meanwhile is noted (see `rewriting`) for
    /// [`SledStore::catch_up`].
    fn copy_live(&self, fresh: &Path) -> Result<sled::Db, StoreError> {
        if fresh.exists() {
            std::fs::remove_dir_all(fresh).map_err(|e| io_at(fresh, e))?;
        }
        let db = sled_config(fresh, Some(COPY_CACHE_BYTES))
            .open()
            .map_err(|e| open_error(fresh, e))?;
        for tree in Tree::ALL {
            let to = db.open_tree(tree.name()).map_err(|e| self.io(e))?;
            let mut from: Option<Vec<u8>> = None;
            loop {
                let guard = self.read()?;
                let inner = guard.inner.as_ref().expect("checked by read");
                let source = &inner.trees[tree.index()];
                let range = match &from {
                    Some(after) => source.range::<&[u8], _>((
                        std::ops::Bound::Excluded(after.as_slice()),
                        std::ops::Bound::Unbounded,
                    )),
                    None => source.iter(),
                };
                let mut copied = Vec::with_capacity(COPY_CHUNK);
                for entry in range.take(COPY_CHUNK) {
                    let (k, v) = entry.map_err(|e| self.io(e))?;
                    to.insert(&k, v).map_err(|e| self.io(e))?;
                    copied.push(k);
                }
                count_in_cache(source, copied.iter().map(|k| k.as_ref()))
                    .map_err(|e| self.io(e))?;
                from = copied.last().map(|k| k.to_vec());
                if copied.len() < COPY_CHUNK {
                    break;
                }
            }
        }
        // Most of the copy reaches the disk now, before writers are kept out for the rest.
        db.flush().map_err(|e| self.io(e))?;
        // sled notes where its pages are (a snapshot) only when it opens a folder; opened again
        // now, the opening after the swap, with writers kept out, reads only the catch-up.
        drop(db);
        reopen_db(fresh, Some(COPY_CACHE_BYTES))
    }

    /// With writers kept out: copies again every key written since the copy began (as the store
    /// holds it now, or its removal) and the flush record, makes the copy durable and gives it
    /// its ledger and marker.
    fn catch_up(
        &self,
        inner: &Inner,
        db: sled::Db,
        touched: &Touched,
        fresh: &Path,
    ) -> Result<(), StoreError> {
        for (tree, key) in touched {
            let to = db.open_tree(tree.name()).map_err(|e| self.io(e))?;
            match inner.trees[tree.index()].get(key).map_err(|e| self.io(e))? {
                Some(v) => to.insert(key.as_slice(), v),
                None => to.remove(key.as_slice()),
            }
            .map_err(|e| self.io(e))?;
        }
        let flushes = db.open_tree(FLUSHES).map_err(|e| self.io(e))?;
        flushes.clear().map_err(|e| self.io(e))?;
        for entry in inner.flushes.iter() {
            let (k, v) = entry.map_err(|e| self.io(e))?;
            flushes.insert(k, v).map_err(|e| self.io(e))?;
        }
        db.flush().map_err(|e| self.io(e))?;
        drop(db);
        let ack = Acknowledged {
            seq: read_u64(&inner.flushes, SEQ)
                .map_err(|e| self.io(e))?
                .unwrap_or(0),
            counters: counters(inner).map_err(|e| self.io(e))?,
        };
        let at = |e| StoreError::Io(format!("cannot write {}: {e}", fresh.display()));
        Ledger::create(fresh, &ack).map_err(at)?;
        opening::write_marker(fresh, SCHEMA_VERSION).map_err(at)
    }

    /// Flushes what is applied: the flush gets the next sequence number, which lands in the
    /// database with it, and what it covers is returned for the ledger.
    fn flush_now(&self) -> Result<Acknowledged, StoreError> {
        let guard = self.read()?;
        if let Some(failure) = &guard.failure {
            return Err(self.error(&failure.why));
        }
        let inner = guard.inner.as_ref().expect("checked by read");
        #[cfg(test)]
        if self
            .fail_flushes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(StoreError::Unwritable {
                path: self.path.clone(),
                detail: "No space left on device (os error 28)".into(),
                full: true,
            });
        }
        let ack = self.stamp(inner).map_err(|e| self.io(e))?;
        inner.db.flush().map_err(|e| self.io(e))?;
        Ok(ack)
    }

    /// Puts the next sequence number in the database and returns it with the counters as they
    /// are now: everything applied so far is in the flush that follows.
    fn stamp(&self, inner: &Inner) -> sled::Result<Acknowledged> {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        // Read before the flush: what it records is in sled already, so the flush covers it.
        let counters = lock(&self.counters).clone();
        inner.flushes.insert(SEQ, &seq.to_be_bytes())?;
        Ok(Acknowledged { seq, counters })
    }

    /// Notes counters a batch (or an undo) put in sled, for the next flush's record.
    fn saw_counters<'a>(&self, written: impl IntoIterator<Item = (&'a Vec<u8>, &'a Vec<u8>)>) {
        let mut all = lock(&self.counters);
        for (key, value) in written {
            if let Ok(bytes) = <[u8; 8]>::try_from(value.as_slice()) {
                let name = String::from_utf8_lossy(&key[COUNTER_PREFIX.len()..]).into_owned();
                all.insert(name, u64::from_be_bytes(bytes));
            }
        }
    }

    /// Remembers a successful flush outside sled. A ledger that cannot be written only knows
    /// less than is durable, which is safe: the next flush tries again.
    fn note(&self, ack: &Acknowledged) {
        if let Some(ledger) = lock(&self.ledger).as_mut() {
            match ledger.write(ack) {
                Ok(()) => self.acked.store(ack.seq, Ordering::SeqCst),
                Err(e) => tracing::warn!("could not update {}: {e}", self.path.display()),
            }
        }
    }

    /// Notes a flush that wrote an undo back, and forgets the kept undo, both durably: a kept
    /// undo must never outlive the flush that made it unnecessary.
    fn note_durably(&self, ack: &Acknowledged) {
        if let Some(ledger) = lock(&self.ledger).as_mut() {
            let done = ledger
                .write(ack)
                .and_then(|()| ledger.sync())
                .and_then(|()| ledger.clear_undo());
            match done {
                Ok(()) => self.acked.store(ack.seq, Ordering::SeqCst),
                Err(e) => tracing::warn!("could not update {}: {e}", self.path.display()),
            }
        }
    }

    /// Keeps the undo of `failure` in the ledger, for the next open should this process not
    /// write it back itself.
    fn keep_undo(&self, failure: &Failure) {
        let bytes = encode_undo(failure);
        let kept = lock(&self.ledger)
            .as_mut()
            .map(|ledger| ledger.write_undo(self.acked.load(Ordering::SeqCst), &bytes));
        match kept {
            Some(Ok(true)) | None => {}
            Some(Ok(false)) => tracing::error!(
                "the undo of the refused writes ({} bytes) is too large to keep; if the academy \
                 stops before it can write it back, some may show after the next start",
                bytes.len()
            ),
            Some(Err(e)) => tracing::error!("could not keep the undo of refused writes: {e}"),
        }
    }

    /// Undoes, for every reader, each batch not yet durable, after a flush or a write failed.
    /// The caller holds `flushing`, so no flush is between succeeding and being noted.
    fn fail(&self, error: &StoreError) {
        let mut journal = lock(&self.journal);
        let mut guard = self.state.write().unwrap_or_else(|p| p.into_inner());
        let state = &mut *guard;
        let failure = state.failure.get_or_insert_with(|| Failure {
            why: why_of(error),
            mask: Mask::default(),
            counters: BTreeMap::new(),
        });
        // Newest first, so each key ends up with what the oldest refused batch found there.
        for (_, writes, counters) in journal.batches.iter().rev() {
            for (tree, key, before) in writes.iter().rev() {
                if !is_counter(*tree, key) {
                    failure.mask.set(*tree, key.clone(), before.clone());
                }
            }
            // Eight big-endian bytes compare as the numbers they hold.
            for (key, value) in counters {
                let kept = failure.counters.entry(key.clone()).or_default();
                if value > kept {
                    kept.clone_from(value);
                }
            }
        }
        if let Some(inner) = &state.inner {
            let meta = &inner.trees[Tree::Meta.index()];
            for (key, value) in failure.counters.iter_mut() {
                if let Ok(Some(now)) = meta.get(key) {
                    if now.as_ref() > value.as_slice() {
                        *value = now.to_vec();
                    }
                }
            }
        }
        journal.batches.clear();
        let refused = self.applied.load(Ordering::SeqCst);
        self.failed.store(true, Ordering::SeqCst);
        self.keep_undo(failure);
        // With the reserve given up there is room to open sled again: the undo goes to disk
        // now, and reading works on an instance that is not stuck.
        if std::fs::remove_file(self.reserve_path()).is_ok() {
            match self.write_back(state) {
                Ok(ack) => {
                    self.note_durably(&ack);
                    state.no_room = Some(why_of(error));
                }
                Err(e) => {
                    tracing::error!("the refused writes could not be undone on disk yet: {e}")
                }
            }
        }
        drop(guard);
        drop(journal);
        let mut flushes = lock(&self.group.state);
        if refused > flushes.durable {
            let from = flushes.durable;
            flushes.refused.push((from, refused));
        }
        flushes.why = Some(why_of(error));
        flushes.wake(Wake::All);
        tracing::error!("{error}; the writes that were not saved are undone");
    }

    /// After a failure: once there is room again, opens sled again in place, writes back what
    /// the refused batches changed and, when `room` is asked, refills the reserve before writes
    /// go on. The caller holds `flushing` and the journal (no batch is applied meanwhile).
    fn heal(&self, room: bool) -> Result<(), StoreError> {
        let mut guard = self.state.write().unwrap_or_else(|p| p.into_inner());
        let state = &mut *guard;
        let was_failed = state.failure.is_some() || state.no_room.is_some();
        if let Some(why) = state.failure.as_ref().map(|f| f.why.clone()) {
            opening::probe(&self.path, probe_size(&self.path)).map_err(|e| {
                if is_unwritable(&e) {
                    StoreError::Unwritable {
                        path: self.path.clone(),
                        detail: e.to_string(),
                        full: is_full(&e),
                    }
                } else {
                    self.error(&why)
                }
            })?;
            let ack = self.write_back(state)?;
            self.note_durably(&ack);
            if opening::reserve(&self.reserve_path(), RESERVE).is_ok() {
                state.no_room = None;
            } else {
                state.no_room.get_or_insert(why);
            }
            let mut flushes = lock(&self.group.state);
            flushes.durable = flushes.durable.max(self.applied.load(Ordering::SeqCst));
        }
        if room {
            if let Some(why) = state.no_room.clone() {
                opening::reserve(&self.reserve_path(), RESERVE).map_err(|_| self.error(&why))?;
                state.no_room = None;
            }
        }
        if was_failed && state.failure.is_none() && state.no_room.is_none() {
            self.failed.store(false, Ordering::SeqCst);
            tracing::warn!(
                "the database at {} can be written again",
                self.path.display()
            );
        }
        Ok(())
    }

    /// Opens sled again in place (it refuses all writes after one failed), writes what the
    /// failure says is durable, and flushes. On success the failure is over.
    fn write_back(&self, state: &mut State) -> Result<Acknowledged, StoreError> {
        drop(state.inner.take());
        let inner = reopen(&self.path, self.cache_bytes)?;
        let failure = state.failure.as_ref().expect("a failure to write back");
        let written = (|| {
            for (tree, key, value) in failure.mask.entries() {
                let t = &inner.trees[tree.index()];
                match value {
                    Some(v) => t.insert(key.as_slice(), v.as_slice()).map(|_| ())?,
                    None => t.remove(key.as_slice()).map(|_| ())?,
                }
            }
            let meta = &inner.trees[Tree::Meta.index()];
            for (key, value) in &failure.counters {
                meta.insert(key.as_slice(), value.as_slice())?;
            }
            self.saw_counters(&failure.counters);
            let ack = self.stamp(&inner)?;
            inner.db.flush()?;
            Ok(ack)
        })();
        state.inner = Some(inner);
        let ack = written.map_err(|e| self.io(e))?;
        state.failure = None;
        Ok(ack)
    }

    /// Heals first if a write failed before; the caller holds nothing. With `room`, also
    /// waits for the reserve to fit again (before new writes).
    fn heal_if_failed(&self, room: bool) -> Result<(), StoreError> {
        if !self.failed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let _token = lock(&self.flushing);
        let _journal = lock(&self.journal);
        self.heal(room)
    }

    /// Before a flush: lets the writers that are running apply too, so one flush covers a room
    /// answering at once rather than the first of them. Waits only while batches keep being
    /// applied, and at most [`GATHER`].
    fn gather(&self) {
        let start = std::time::Instant::now();
        let mut seen = self.applied.load(Ordering::SeqCst);
        while start.elapsed() < GATHER {
            std::thread::yield_now();
            let now = self.applied.load(Ordering::SeqCst);
            if now == seen {
                return;
            }
            seen = now;
        }
    }

    /// After a rewrite: the reopened database's first flush, taken by the rewrite so that the
    /// next writer does not wait for it. It costs several times an ordinary flush (measured at
    /// 100,000 lessons: 0.3 to 2.1 ms, mostly over 1 ms, against 0.1 to 0.3 ms for the flushes
    /// after it; still 0.5 to 4.3 ms when it came 300 ms after reopening), and a request right
    /// after the upkeep paid it. A flush already running covers it; a failure is handled as any
    /// flush's.
    fn first_flush(&self) -> Result<(), StoreError> {
        {
            let mut state = lock(&self.group.state);
            if state.running {
                return Ok(());
            }
            state.running = true;
        }
        self.lead_flush()
    }

    /// Flushes what is applied for everyone waiting (the caller has set `running`), notes
    /// what became durable and wakes the waiters; on failure undoes every batch not yet durable.
    fn lead_flush(&self) -> Result<(), StoreError> {
        // Held until `durable` says what this flush did, so an undo never takes back a batch
        // that this flush made durable.
        let _token = lock(&self.flushing);
        let covers = self.applied.load(Ordering::SeqCst);
        let result = self.flush_now();
        match &result {
            Ok(ack) => {
                self.note(ack);
                lock(&self.journal)
                    .batches
                    .retain(|(number, _, _)| *number > covers);
            }
            Err(e) => self.fail(e),
        }
        let mut state = lock(&self.group.state);
        state.running = false;
        let woken = if result.is_ok() {
            state.durable = state.durable.max(covers);
            // One who is not covered yet leads the next flush.
            Wake::CoveredAndNextLeader
        } else {
            // Everyone not covered learns their batch was refused.
            Wake::All
        };
        state.wake(woken);
        result.map(drop)
    }

    /// Applies one batch under the journal lock, keeping what it replaced.
    fn apply_journaled(&self, journal: &mut Journal, batch: &Batch) -> Result<(), Refused> {
        if let Some(touched) = lock(&self.rewriting).as_mut() {
            touched.extend(batch.ops().iter().map(|(t, k, _)| (*t, k.clone())));
        }
        let guard = self.read().map_err(Refused::Untouched)?;
        if let Some(why) = guard
            .failure
            .as_ref()
            .map(|f| &f.why)
            .or(guard.no_room.as_ref())
        {
            return Err(Refused::Untouched(self.error(why)));
        }
        let inner = guard.inner.as_ref().expect("checked by read");
        let number = self.applied.load(Ordering::SeqCst) + 1;
        let counters: Vec<(Vec<u8>, Vec<u8>)> = batch
            .ops()
            .iter()
            .filter(|(tree, key, _)| is_counter(*tree, key))
            .filter_map(|(_, key, value)| Some((key.clone(), value.clone()?)))
            .collect();
        let written = if let [(tree, key, value)] = batch.ops() {
            // One write is atomic by itself, and skips the transaction's global lock, which
            // would otherwise wait for a running flush. sled returns what it replaced; a write
            // it refused did not happen, so what the key holds then is what it replaced.
            let t = &inner.trees[tree.index()];
            let written = match value {
                Some(v) => t.insert(key.as_slice(), v.as_slice()),
                None => t.remove(key.as_slice()),
            };
            let undo =
                |before: Option<sled::IVec>| vec![(*tree, key.clone(), before.map(|v| v.to_vec()))];
            match written {
                Ok(before) => Ok(undo(before)),
                Err(e) => Err((self.io(e), undo(t.get(key).ok().flatten()))),
            }
        } else {
            self.transaction(inner, batch)
        };
        match written {
            Ok(writes) => {
                self.saw_counters(counters.iter().map(|(k, v)| (k, v)));
                journal.batches.push_back((number, writes, counters));
                MINE.set((self.id(), number));
                // Counted while the read lock is held, so a rewrite (which takes it
                // exclusively) sees every batch it copies counted, and may declare them durable.
                self.applied.store(number, Ordering::SeqCst);
                Ok(())
            }
            Err((e, writes)) => {
                // It may have landed in part: counted and undone with the others.
                journal.batches.push_back((number, writes, counters));
                self.applied.store(number, Ordering::SeqCst);
                // Its writer is told now; a later sync of this thread is not about it.
                MINE.set((0, 0));
                Err(Refused::Failed(e))
            }
        }
    }

    /// The batch as one sled transaction over only the trees it touches: each tree in a
    /// transaction costs a lock and a read set, and most batches touch two or three of sixteen.
    fn transaction(&self, inner: &Inner, batch: &Batch) -> Result<Writes, (StoreError, Writes)> {
        let mut touched: Vec<Tree> = batch.ops().iter().map(|(t, _, _)| *t).collect();
        touched.sort_unstable();
        touched.dedup();
        let views: Vec<sled::Tree> = touched
            .iter()
            .map(|t| inner.trees[t.index()].clone())
            .collect();
        let writes = RefCell::new(Vec::with_capacity(batch.ops().len()));
        let result: Result<(), TransactionError<()>> = views.as_slice().transaction(|views| {
            // A conflict runs this again: only the last run's values count.
            writes.borrow_mut().clear();
            for (tree, key, value) in batch.ops() {
                let at = touched.binary_search(tree).unwrap_or(0);
                let view = &views[at];
                let before = match value {
                    Some(v) => view.insert(key.as_slice(), v.as_slice())?,
                    None => view.remove(key.as_slice())?,
                };
                writes
                    .borrow_mut()
                    .push((*tree, key.clone(), before.map(|v| v.to_vec())));
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        let writes = writes.into_inner();
        match result {
            Ok(()) => Ok(writes),
            Err(TransactionError::Storage(e)) => Err((self.io(e), writes)),
            Err(TransactionError::Abort(())) => {
                Err((StoreError::Io("transaction aborted".into()), Vec::new()))
            }
        }
    }

    fn id(&self) -> usize {
        self as *const SledStore as usize
    }

    /// A streaming scan of a tree whose writes failed, from `from` on: rare, and only until
    /// writing works again, so it goes whole through the undo, copied.
    fn scan_masked(
        &self,
        tree: Tree,
        prefix: &[u8],
        from: &[u8],
        each: &mut EachEntry<'_>,
    ) -> Result<(), StoreError> {
        self.scan_prefix(tree, prefix)?
            .into_iter()
            .filter(|(k, _)| k.as_slice() >= from)
            .try_for_each(|(k, v)| each(&k, &v))
    }

    /// What readers see of one tree in a range, through the undo while one is pending.
    fn scan(
        &self,
        tree: Tree,
        sled: impl FnOnce(&sled::Tree) -> sled::Result<Vec<Entry>>,
        masked: impl FnOnce(&Mask, Vec<Entry>) -> Vec<Entry>,
    ) -> Result<Vec<Entry>, StoreError> {
        let guard = self.read()?;
        let inner = guard.inner.as_ref().expect("checked by read");
        let entries = sled(&inner.trees[tree.index()]).map_err(|e| self.io(e))?;
        Ok(match &guard.failure {
            Some(failure) if failure.mask.touches(tree) => masked(&failure.mask, entries),
            _ => entries,
        })
    }
}

/// Said of a database that opens without its schema version though it was set up before.
const EMPTIED: &str = "it was set up before, but opened empty: its files are truncated or damaged";

/// Checks, without writing to it, that the database at `path` may be opened in place.
fn check_before_opening(path: &Path, cache_bytes: Option<u64>) -> Result<(), StoreError> {
    if !path.exists() {
        return Ok(());
    }
    let marker = opening::read_marker(path);
    let has_files = path.join("db").exists() || path.join("conf").exists();
    if !has_files {
        return if marker.present {
            Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: "it was set up before, but sled's files are missing".into(),
            })
        } else {
            Ok(())
        };
    }
    if opening::fingerprint_matches(path) {
        return Ok(());
    }
    checked_copy(path, cache_bytes).map(drop)
}

/// Copies the database at `path` beside it, opens the copy and checks it fully: a copy, since
/// sled writes to what it opens. The copy is removed when the returned guard is dropped.
fn checked_copy(path: &Path, cache_bytes: Option<u64>) -> Result<Scratch, StoreError> {
    let at = sibling(path, CHECKING);
    if at.exists() {
        std::fs::remove_dir_all(&at).map_err(|e| io_at(&at, e))?;
    }
    let copy = Scratch(at.clone());
    opening::copy_dir(path, &at).map_err(|e| {
        if is_unwritable(&e) {
            StoreError::Unwritable {
                path: path.to_owned(),
                detail: format!("there is no room to check it before opening it ({e})"),
                full: is_full(&e),
            }
        } else {
            io_at(&at, e)
        }
    })?;
    // Whatever keeps sled from opening the copy (its own lock aside) is in the files.
    let inner = open_inner(&at, cache_bytes).map_err(|e| match e {
        StoreError::Corrupt { detail, .. } => StoreError::Corrupt {
            path: path.to_owned(),
            detail,
        },
        StoreError::Open { source, .. } if !is_unwritable(&source) => StoreError::Corrupt {
            path: path.to_owned(),
            detail: source.to_string(),
        },
        other => other,
    })?;
    let checked = check_inner(&inner, path, true);
    drop(inner);
    checked.map_err(|detail| StoreError::Corrupt {
        path: path.to_owned(),
        detail,
    })?;
    Ok(copy)
}

/// The store's checks of an opened database whose marker and ledger are in `dir`: set up
/// databases have a schema version; nothing the ledger says was saved is missing; with `full`,
/// every entry of every tree can be read.
fn check_inner(inner: &Inner, dir: &Path, full: bool) -> Result<(), String> {
    let meta = &inner.trees[Tree::Meta.index()];
    let marker = opening::read_marker(dir);
    let schema = meta.get(SCHEMA_KEY).map_err(|e| e.to_string())?;
    if marker.present && schema.is_none() {
        return Err(EMPTIED.into());
    }
    let ack = match Ledger::read(dir) {
        Ok(Some(ack)) => Some(ack),
        Ok(None) if marker.ledger => {
            return Err(format!(
                "its record of what was saved ({}) is missing",
                ledger::FILE
            ))
        }
        Ok(None) => None,
        Err(ledger::Unreadable::Damaged) => {
            return Err(format!(
                "its record of what was saved ({}) is damaged",
                ledger::FILE
            ))
        }
        Err(ledger::Unreadable::Io(e)) => {
            return Err(format!("its record of what was saved cannot be read: {e}"))
        }
    };
    if let Some(ack) = ack {
        let seq = read_u64(&inner.flushes, SEQ)
            .map_err(|e| e.to_string())?
            .unwrap_or(0);
        if seq < ack.seq {
            return Err(format!(
                "it holds less than was saved: it reaches flush {seq}, and flush {} was confirmed",
                ack.seq
            ));
        }
        for (name, saved) in &ack.counters {
            let key = [COUNTER_PREFIX, name.as_bytes()].concat();
            match read_u64(meta, &key).map_err(|e| e.to_string())? {
                None => return Err(format!("its id counter {name} is missing")),
                Some(now) if now < *saved => {
                    return Err(format!(
                        "its id counter {name} went back from {saved} to {now}"
                    ))
                }
                Some(_) => {}
            }
        }
    }
    if full {
        for name in inner.db.tree_names() {
            let tree = inner.db.open_tree(&name).map_err(|e| e.to_string())?;
            let unreadable = |e: sled::Error| {
                format!(
                    "a record in {} cannot be read: {e}",
                    String::from_utf8_lossy(&name)
                )
            };
            let mut read = Vec::with_capacity(academie_core::store::SCAN_CHUNK);
            for entry in tree.iter() {
                read.push(entry.map_err(unreadable)?.0);
                if read.len() == academie_core::store::SCAN_CHUNK {
                    count_in_cache(&tree, read.iter().map(|k| k.as_ref())).map_err(unreadable)?;
                    read.clear();
                }
            }
        }
    }
    Ok(())
}

/// The undo as bytes for the ledger: per masked key its tree, the key and the durable value;
/// then the counters.
fn encode_undo(failure: &Failure) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    let mut out = Vec::new();
    for (tree, key, value) in failure.mask.entries() {
        out.push(if value.is_some() { 1 } else { 0 });
        out.push(tree.index() as u8);
        field(&mut out, key);
        if let Some(v) = value {
            field(&mut out, v);
        }
    }
    for (key, value) in &failure.counters {
        out.push(2);
        field(&mut out, key);
        field(&mut out, value);
    }
    out
}

#[allow(clippy::type_complexity)]
fn decode_undo(mut bytes: &[u8]) -> Option<(Mask, BTreeMap<Vec<u8>, Vec<u8>>)> {
    fn field(bytes: &mut &[u8]) -> Option<Vec<u8>> {
        let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let value = bytes.get(4..4 + len)?.to_vec();
        *bytes = &bytes[4 + len..];
        Some(value)
    }
    let mut mask = Mask::default();
    let mut counters = BTreeMap::new();
    while let Some((&kind, rest)) = bytes.split_first() {
        bytes = rest;
        if kind == 2 {
            let key = field(&mut bytes)?;
            counters.insert(key, field(&mut bytes)?);
            continue;
        }
        let (&tree, rest) = bytes.split_first()?;
        bytes = rest;
        let tree = *Tree::ALL.get(tree as usize)?;
        let key = field(&mut bytes)?;
        let value = match kind {
            1 => Some(field(&mut bytes)?),
            0 => None,
            _ => return None,
        };
        mask.set(tree, key, value);
    }
    Some((mask, counters))
}

fn is_counter(tree: Tree, key: &[u8]) -> bool {
    tree == Tree::Meta && key.starts_with(COUNTER_PREFIX)
}

fn read_u64(tree: &sled::Tree, key: &[u8]) -> sled::Result<Option<u64>> {
    Ok(tree.get(key)?.map(|v| {
        let mut bytes = [0u8; 8];
        let n = v.len().min(8);
        bytes[8 - n..].copy_from_slice(&v[v.len() - n..]);
        u64::from_be_bytes(bytes)
    }))
}

/// Every id counter by name (without the prefix).
fn counters(inner: &Inner) -> sled::Result<BTreeMap<String, u64>> {
    let meta = &inner.trees[Tree::Meta.index()];
    let mut all = BTreeMap::new();
    for entry in meta.scan_prefix(COUNTER_PREFIX) {
        let (key, value) = entry?;
        if let Ok(bytes) = <[u8; 8]>::try_from(value.as_ref()) {
            let name = String::from_utf8_lossy(&key[COUNTER_PREFIX.len()..]).into_owned();
            all.insert(name, u64::from_be_bytes(bytes));
        }
    }
    Ok(all)
}

/// How much room to ask for before opening sled again: it writes a snapshot and may start a
/// segment before it writes anything of ours.
fn probe_size(path: &Path) -> u64 {
    let snapshots: u64 = std::fs::read_dir(path)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("snap."))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    PROBE_MIN.max(2 * snapshots + 2 * SEGMENT)
}

fn sled_config(path: &Path, cache_bytes: Option<u64>) -> sled::Config {
    let mut config = sled::Config::new().path(path);
    if let Some(bytes) = cache_bytes {
        config = config.cache_capacity(bytes);
    }
    config
}

fn open_inner(path: &Path, cache_bytes: Option<u64>) -> Result<Inner, StoreError> {
    let db = sled_config(path, cache_bytes)
        .open()
        .map_err(|e| open_error(path, e))?;
    inner_of(db, path)
}

/// The store's trees in an open sled.
fn inner_of(db: sled::Db, path: &Path) -> Result<Inner, StoreError> {
    let trees = Tree::ALL
        .iter()
        .map(|t| db.open_tree(t.name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| open_error(path, e))?;
    let flushes = db.open_tree(FLUSHES).map_err(|e| open_error(path, e))?;
    Ok(Inner { db, trees, flushes })
}

fn io_at(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{}: {e}", path.display()))
}

/// The lock file beside the database, held exclusively while a store is open.
fn take_lock(path: &Path) -> Result<File, StoreError> {
    let at = sibling(path, "lock");
    let file = crate::files::open_lock(&at).map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    file.try_lock_exclusive().map_err(|_| StoreError::Locked {
        path: path.to_owned(),
    })?;
    Ok(file)
}

/// Finishes or undoes a rewrite that a crash interrupted, so the database opens. Runs under
/// the lock file, so no live rewrite is touched. The order of a rewrite is: build the copy
/// completely, rename the database to `.rewrite-old`, rename the copy into place, delete the
/// old folder; so a copy beside a missing database is complete, and an old folder beside a
/// present database is superseded (and holds bytes a delete meant to remove).
fn finish_interrupted_rewrite(path: &Path) -> Result<(), StoreError> {
    let restored = sibling(path, RESTORED);
    if !path.exists() && restored.exists() {
        // A restore moved the old database aside and stopped before putting the new one in.
        std::fs::rename(&restored, path).map_err(|e| io_at(&restored, e))?;
        tracing::warn!(
            "finished a restore of {} that was interrupted",
            path.display()
        );
    }
    let fresh = sibling(path, REWRITE_NEW);
    let old = sibling(path, REWRITE_OLD);
    if !path.exists() && old.exists() {
        let from = if fresh.exists() { &fresh } else { &old };
        std::fs::rename(from, path).map_err(|e| io_at(from, e))?;
        tracing::warn!(
            "finished a rewrite of {} that was interrupted",
            path.display()
        );
    }
    for leftover in [&fresh, &old] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover).map_err(|e| io_at(leftover, e))?;
        }
    }
    Ok(())
}

/// Makes the renames in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_at(dir, e))
}

/// A full disk, a read-only folder or a quota: the person can act on it, unlike other errors.
fn is_unwritable(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    is_full(e) || matches!(e.kind(), K::ReadOnlyFilesystem | K::PermissionDenied)
}

/// Whether freeing space is what helps.
fn is_full(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::StorageFull | K::FileTooLarge | K::QuotaExceeded
    )
}

fn why(e: sled::Error) -> Why {
    match e {
        sled::Error::Io(io) if is_unwritable(&io) => Why::Unwritable {
            detail: io.to_string(),
            full: is_full(&io),
        },
        other => Why::Other(other.to_string()),
    }
}

fn why_of(e: &StoreError) -> Why {
    match e {
        StoreError::Unwritable { detail, full, .. } => Why::Unwritable {
            detail: detail.clone(),
            full: *full,
        },
        other => Why::Other(other.to_string()),
    }
}

fn open_error(path: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked {
                path: path.to_owned(),
            }
        }
        sled::Error::Io(io) if is_unwritable(&io) => StoreError::Unwritable {
            path: path.to_owned(),
            detail: io.to_string(),
            full: is_full(&io),
        },
        sled::Error::Io(source) => StoreError::Open {
            path: path.to_owned(),
            source,
        },
        other => StoreError::Corrupt {
            path: path.to_owned(),
            // Only what sled found: its advice (such as exporting with a newer sled) is not
            // what helps here, the backup named beside it is.
            detail: first_sentence(&other.to_string()),
        },
    }
}

fn first_sentence(text: &str) -> String {
    match text.find(". ") {
        Some(end) => text[..end].to_owned(),
        None => text.trim_end_matches('.').to_owned(),
    }
}

fn collect(
    iter: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
) -> sled::Result<Vec<Entry>> {
    iter.map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
        .collect()
}

/// How often [`Store::get_in_pass`] reads its key: a read out of key order reads one leaf
/// once, so each is read this often to count in sled's cache (see [`count_in_cache`]). 100,000
/// lessons read once each, in no order, with a 1 MB cache: 49 MB above what was held before
/// read once, 27 MB read twice, 2 MB read eight times.
const PASS_READS: usize = 8;

/// Reads each of `keys`, just read from `tree` in a pass, once more, so that sled's cache
/// counts the pages that pass read. sled 0.34 puts a page read into its cache's reckoning (and
/// may then evict others) only once 64 reads have queued in the same one of its 256 shards of
/// pages; a pass reads each leaf (at most 16 entries) once, so up to 16,384 leaves it read
/// stay in memory whatever the cache's capacity: at 100,000 lessons the whole lessons tree,
/// about 95 MB. Read again per key, a leaf is read as often as it has entries, the queues
/// fill and the capacity holds (a scan of every tree of that database: 128 MB at its peak
/// before, 31 MB after with a 1 MB cache, 15 % slower).
fn count_in_cache<'k>(tree: &sled::Tree, keys: impl Iterator<Item = &'k [u8]>) -> sled::Result<()> {
    for key in keys {
        tree.get(key)?;
    }
    Ok(())
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let guard = self.read()?;
        if let Some(masked) = guard.failure.as_ref().and_then(|f| f.mask.get(tree, key)) {
            return Ok(masked);
        }
        let inner = guard.inner.as_ref().expect("checked by read");
        inner.trees[tree.index()]
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.io(e))
    }

    fn get_in_pass(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.get(tree, key)?;
        let guard = self.read()?;
        let inner = guard.inner.as_ref().expect("checked by read");
        count_in_cache(
            &inner.trees[tree.index()],
            std::iter::repeat_n(key, PASS_READS - 1),
        )
        .map_err(|e| self.io(e))?;
        Ok(value)
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.scan(
            tree,
            |t| collect(t.scan_prefix(prefix)),
            |mask, entries| mask.merge_prefix(tree, prefix, entries),
        )
    }

    fn scan_prefix_in_place(
        &self,
        tree: Tree,
        prefix: &[u8],
        each: &mut EachEntry<'_>,
    ) -> Result<(), StoreError> {
        let guard = self.read()?;
        if guard.failure.as_ref().is_some_and(|f| f.mask.touches(tree)) {
            drop(guard);
            return self.scan_masked(tree, prefix, prefix, each);
        }
        let inner = guard.inner.as_ref().expect("checked by read");
        for entry in inner.trees[tree.index()].scan_prefix(prefix) {
            let (k, v) = entry.map_err(|e| self.io(e))?;
            each(&k, &v)?;
        }
        Ok(())
    }

    fn scan_each(
        &self,
        tree: Tree,
        prefix: &[u8],
        each: &mut EachEntry<'_>,
    ) -> Result<(), StoreError> {
        // A chunk at a time, the store's lock released before `each` runs (which may read the
        // store, and a writer waiting for the lock would otherwise wait on `each`).
        let mut from = prefix.to_vec();
        loop {
            let chunk = {
                let guard = self.read()?;
                if guard.failure.as_ref().is_some_and(|f| f.mask.touches(tree)) {
                    drop(guard);
                    return self.scan_masked(tree, prefix, &from, each);
                }
                let inner = guard.inner.as_ref().expect("checked by read");
                let sled = &inner.trees[tree.index()];
                let chunk = collect(
                    sled.range(from.as_slice()..)
                        .take_while(|r| r.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
                        .take(academie_core::store::SCAN_CHUNK),
                )
                .map_err(|e| self.io(e))?;
                count_in_cache(sled, chunk.iter().map(|(k, _)| k.as_slice()))
                    .map_err(|e| self.io(e))?;
                chunk
            };
            let Some((last, _)) = chunk.last() else {
                return Ok(());
            };
            from = academie_core::store::key_after(last);
            for (key, value) in &chunk {
                each(key, value)?;
            }
        }
    }

    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError> {
        if start >= end {
            return Ok(Vec::new());
        }
        self.scan(
            tree,
            |t| collect(t.range(start..end)),
            |mask, entries| mask.merge_range(tree, start, end, entries),
        )
    }

    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        if self.failed.load(Ordering::SeqCst) {
            // Rare, and only until writing works again: the whole prefix, through the undo.
            return Ok(self.scan_prefix(tree, prefix)?.pop());
        }
        let guard = self.read()?;
        let inner = guard.inner.as_ref().expect("checked by read");
        inner.trees[tree.index()]
            .scan_prefix(prefix)
            .next_back()
            .transpose()
            .map(|o| o.map(|(k, v)| (k.to_vec(), v.to_vec())))
            .map_err(|e| self.io(e))
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // A write after a failure first tries to make writing work again; if it cannot, the
        // batch is refused before any of it is applied.
        self.heal_if_failed(true)?;
        let mut journal = lock(&self.journal);
        match self.apply_journaled(&mut journal, &batch) {
            Ok(()) => Ok(()),
            // Refused before anything was written: there is nothing to undo, and undoing now
            // would take back batches others applied after writing resumed.
            Err(Refused::Untouched(e)) => Err(e),
            Err(Refused::Failed(e)) => {
                drop(journal);
                let _token = lock(&self.flushing);
                self.fail(&e);
                Err(e)
            }
        }
    }

    fn sync(&self) -> Result<(), StoreError> {
        // After this thread's own apply: that batch (and so all before it). Otherwise
        // everything applied so far.
        let (wanted, own) = match MINE.replace((0, 0)) {
            (store, number) if store == self.id() => (number, true),
            _ => (self.applied.load(Ordering::SeqCst), false),
        };
        let me = std::thread::current();
        let mut state = lock(&self.group.state);
        loop {
            // A wake-up may be spurious: never wait twice in the list.
            state.waiters.retain(|w| w.thread.id() != me.id());
            let mut target = wanted;
            while let Some((from, _)) = state
                .refused
                .iter()
                .find(|(from, to)| *from < target && target <= *to)
            {
                if own {
                    let why = state.why.clone().unwrap_or(Why::Other("not saved".into()));
                    return Err(self.error(&why));
                }
                // Refused batches of others will never be durable: what matters is before them.
                target = *from;
            }
            if state.durable >= target {
                return Ok(());
            }
            if state.running {
                let durable = Arc::new(AtomicBool::new(false));
                state.waiters.push(Waiter {
                    wanted,
                    thread: me.clone(),
                    durable: durable.clone(),
                });
                drop(state);
                std::thread::park();
                if durable.load(Ordering::Acquire) {
                    return Ok(());
                }
                state = lock(&self.group.state);
                continue;
            }
            // This caller leads the next flush; it covers every batch applied before it starts.
            state.running = true;
            drop(state);
            self.gather();
            self.lead_flush()?;
            state = lock(&self.group.state);
            // Round again rather than answer at once: a write refused before this flush began
            // may have undone this caller's batch, and the flush then covers its number only.
        }
    }

    fn flush(&self) -> Result<(), StoreError> {
        // At shutdown, a pending undo that cannot be written is a failed final flush; a reserve
        // that does not fit again yet is not: nothing is left unsaved.
        self.heal_if_failed(false)?;
        self.sync()
    }

    fn snapshot(&self) -> Result<Vec<(Tree, Vec<Entry>)>, StoreError> {
        // Exclusive: no batch is half-way between trees while the copy is taken.
        let guard = self.state.write().unwrap_or_else(|p| p.into_inner());
        let inner = guard.inner.as_ref().ok_or_else(|| {
            StoreError::Io(format!(
                "the database at {} is not open; restart the academy",
                self.path.display()
            ))
        })?;
        Tree::ALL
            .iter()
            .map(|t| {
                let entries = collect(inner.trees[t.index()].iter()).map_err(|e| self.io(e))?;
                let entries = match &guard.failure {
                    Some(failure) => failure.mask.merge_prefix(*t, &[], entries),
                    None => entries,
                };
                Ok((*t, entries))
            })
            .collect()
    }

    fn generation(&self) -> Option<u64> {
        // Every flush that made a write durable stamps the next number into sled with it, and
        // opening reads the last one back.
        if self.failed.load(Ordering::SeqCst) {
            return None;
        }
        Some(self.seq.load(Ordering::SeqCst))
    }

    fn set_aside(&self) -> Vec<PathBuf> {
        let (Some(parent), Some(name)) = (self.path.parent(), self.path.file_name()) else {
            return Vec::new();
        };
        let prefix = format!("{}.{}", name.to_string_lossy(), super::SET_ASIDE);
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| self.path.with_file_name(e.file_name()))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    fn open_set_aside(&self, path: &Path) -> Result<Box<dyn Store>, StoreError> {
        match SledStore::open_without_reserve(path, self.cache_bytes) {
            Ok(mut store) => {
                store.transient = true;
                Ok(Box::new(store))
            }
            Err(e) => {
                if !matches!(e, StoreError::Locked { .. }) {
                    let _ = std::fs::remove_file(sibling(path, "lock"));
                }
                Err(e)
            }
        }
    }

    fn compact(&self) -> Result<(), StoreError> {
        // sled keeps removed and overwritten values in its files until it reuses the space,
        // which may be never. A fresh database holds only what is live; swapping it in is the
        // one way to make removed bytes leave the files. It is copied while writers go on, and
        // only what they wrote meanwhile is copied again with them kept out.
        let _one_rewrite = lock(&self.rewrite);
        let fresh = sibling(&self.path, REWRITE_NEW);
        let old = sibling(&self.path, REWRITE_OLD);
        {
            // Under the journal's lock, so no batch falls between those not yet durable (which
            // an undo may still take back) and those noted from here on.
            let journal = lock(&self.journal);
            let touched: Touched = journal
                .batches
                .iter()
                .flat_map(|(_, writes, _)| writes.iter().map(|(t, k, _)| (*t, k.clone())))
                .collect();
            *lock(&self.rewriting) = Some(touched);
        }
        let copied = self.copy_live(&fresh);
        #[cfg(test)]
        if let Some(write) = lock(&self.during_rewrite).take() {
            write(self);
        }
        let token = lock(&self.flushing);
        let mut journal = lock(&self.journal);
        let touched = lock(&self.rewriting).take().unwrap_or_default();
        let healed = copied.and_then(|db| self.heal(true).map(|()| db));
        let mut guard = self.state.write().unwrap_or_else(|p| p.into_inner());
        let built = healed.and_then(|db| match guard.inner.as_ref() {
            Some(inner) => self.catch_up(inner, db, &touched, &fresh),
            None => Err(StoreError::Io("the database is not open".into())),
        });
        if let Err(e) = built {
            let _ = std::fs::remove_dir_all(&fresh);
            return Err(e);
        }
        // Closing releases sled's own lock on the folder; the lock file beside it stays held.
        drop(guard.inner.take());
        let parent = self.path.parent().unwrap_or(Path::new(""));
        let swapped = std::fs::rename(&self.path, &old)
            .and_then(|()| std::fs::rename(&fresh, &self.path))
            .map_err(|e| io_at(&self.path, e))
            .and_then(|()| sync_dir(parent));
        if swapped.is_err() {
            // Whatever state the renames reached, the rule used at open sorts it out.
            let _ = finish_interrupted_rewrite(&self.path);
        }
        guard.inner = Some(reopen(&self.path, self.cache_bytes)?);
        *lock(&self.ledger) = Ledger::open(&self.path).ok();
        swapped?;
        // Everything applied is in the fresh copy, which was flushed: counted while the journal
        // is held, since a batch applied once it is let go is in the reopened database only,
        // not flushed, and must not be declared durable with the copy.
        journal.batches.clear();
        let copied = self.applied.load(Ordering::SeqCst);
        drop(guard);
        drop(journal);
        drop(token);
        #[cfg(test)]
        if let Some(write) = lock(&self.after_swap).take() {
            write(self);
        }
        {
            let mut state = lock(&self.group.state);
            state.durable = state.durable.max(copied);
            state.wake(Wake::Covered);
        }
        // The old files (which still hold what was removed) go once writers are let in again;
        // an error here is the rewrite's, so a deletion waiting on it is tried again.
        std::fs::remove_dir_all(&old).map_err(|e| io_at(&old, e))?;
        sync_dir(parent)?;
        // The rewrite is done and durable; a failure of this flush is the writers' after it,
        // who are told by it, not a failed rewrite to do again.
        if let Err(e) = self.first_flush() {
            tracing::warn!(
                "the first flush after rewriting {}: {e}",
                self.path.display()
            );
        }
        Ok(())
    }
}

impl Drop for SledStore {
    /// Closes sled and, after a clean close, records its files, so the next open can skip the
    /// check of a copy when nothing touched them since.
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        let clean = state.failure.is_none();
        if let Some(inner) = state.inner.take() {
            let flushed = inner.db.flush().is_ok();
            drop(inner);
            if clean && flushed {
                if let Err(e) = opening::write_fingerprint(&self.path) {
                    tracing::warn!("could not record {}: {e}", self.path.display());
                }
            }
        }
        if self.transient {
            let _ = std::fs::remove_file(sibling(&self.path, "lock"));
        }
    }
}

/// Opens the store's folder again after a swap.
fn reopen(path: &Path, cache_bytes: Option<u64>) -> Result<Inner, StoreError> {
    inner_of(reopen_db(path, cache_bytes)?, path)
}

/// Opens a folder sled just closed; its background threads may hold the files for a moment
/// after, so a lock conflict is retried briefly.
fn reopen_db(path: &Path, cache_bytes: Option<u64>) -> Result<sled::Db, StoreError> {
    let mut tries = 0;
    loop {
        match sled_config(path, cache_bytes)
            .open()
            .map_err(|e| open_error(path, e))
        {
            Err(StoreError::Locked { .. }) if tries < 40 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}
