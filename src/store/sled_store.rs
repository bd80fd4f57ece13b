//! The sled engine behind the [`Store`] interface: one sled tree per [`Tree`], a schema version
//! in the meta tree, and flushes shared by everyone waiting at once (group commit) so that what
//! is confirmed is on disk without each confirmation paying for its own flush.

use super::{Batch, Entry, Store, StoreError, Tree, SCHEMA_KEY, SCHEMA_VERSION};
use fs2::FileExt;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard};
use std::time::Duration;

/// A file beside sled's own, written once the database is set up. sled opens a truncated
/// database as an empty one without complaint; finding this file next to an empty database
/// tells damage from a first start, so nothing is silently re-created over lost data.
const MARKER: &str = "academie-store";

/// Suffixes of the folders a rewrite ([`Store::compact`]) uses beside the database: the copy
/// being built, and the old folder between the two renames of the swap.
const REWRITE_NEW: &str = "rewrite-new";
const REWRITE_OLD: &str = "rewrite-old";
/// Suffixes of the folders a restore ([`SledStore::replace`]) uses: the database being filled,
/// and the complete one waiting to be put in place.
const RESTORING: &str = "restoring";
const RESTORED: &str = "restored";

pub struct SledStore {
    path: PathBuf,
    cache_bytes: Option<u64>,
    /// Held for the store's lifetime beside the folder, not inside it: a rewrite replaces the
    /// folder (and sled's own lock with it), and nobody else may open, repair or swap it then.
    _lock: File,
    /// `None` only in the moment a rewrite swaps the folders, or if reopening failed after one.
    /// Every operation reads under this lock; a rewrite and a snapshot take it exclusively.
    inner: RwLock<Option<Inner>>,
    /// How many batches have been applied; a flush that starts after batch n covers it.
    applied: AtomicU64,
    group: GroupCommit,
}

struct Inner {
    db: sled::Db,
    trees: Vec<sled::Tree>,
}

/// One flush at a time; whoever waits while it runs either is covered by it or leads the next.
/// Waiters are woken one by one when their batch is durable, not all at each flush: with a
/// room answering at once, waking everyone after every flush costs more than the flushes.
#[derive(Default)]
struct GroupCommit {
    state: Mutex<Flushes>,
}

#[derive(Default)]
struct Flushes {
    /// Every batch up to this count is durable.
    durable: u64,
    /// A flush is under way.
    running: bool,
    /// Who waits for which count.
    waiters: Vec<(u64, std::thread::Thread)>,
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
            .partition(|(n, _)| *n <= durable || matches!(which, Wake::All));
        if matches!(which, Wake::CoveredAndNextLeader) && !wait.is_empty() {
            wake.push(wait.remove(0));
        }
        self.waiters = wait;
        for (_, thread) in wake {
            thread.unpark();
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

impl SledStore {
    /// Opens (or creates) the database at `path`. `cache_bytes` caps sled's page cache.
    pub fn open(path: &Path, cache_bytes: Option<u64>) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::private_dir_all(parent).map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        }
        let lock = take_lock(path)?;
        finish_interrupted_rewrite(path)?;
        let inner = open_inner(path, cache_bytes)?;
        // The folder and its files are the academy user's alone, also when an earlier version
        // created them readable by others.
        crate::files::restrict(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        let store = SledStore {
            path: path.to_owned(),
            cache_bytes,
            _lock: lock,
            inner: RwLock::new(Some(inner)),
            applied: AtomicU64::new(0),
            group: GroupCommit::default(),
        };
        store.check_schema()?;
        Ok(store)
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
        let filled = SledStore::open(&building, cache_bytes).and_then(|store| {
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

    fn read(&self) -> Result<RwLockReadGuard<'_, Option<Inner>>, StoreError> {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            return Err(StoreError::Io(format!(
                "the database at {} could not be reopened after a rewrite; restart the academy",
                self.path.display()
            )));
        }
        Ok(guard)
    }

    fn with<T>(
        &self,
        tree: Tree,
        f: impl FnOnce(&sled::Tree) -> sled::Result<T>,
    ) -> Result<T, StoreError> {
        let guard = self.read()?;
        let inner = guard.as_ref().expect("checked by read");
        f(&inner.trees[tree.index()]).map_err(|e| self.io(e))
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
        let marker = self.path.join(MARKER);
        if found == 0 && marker.exists() {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail:
                    "it was set up before, but opened empty: its files are truncated or damaged"
                        .into(),
            });
        }
        if found == 0 {
            // A database this build just created. An older version is left as it is: the
            // engine migrates it (`Engine::upgrade`), since migrations know the records.
            self.write_schema_version(SCHEMA_VERSION)?;
        }
        if !marker.exists() {
            write_marker(&self.path)?;
        }
        Ok(())
    }

    fn write_schema_version(&self, version: u32) -> Result<(), StoreError> {
        let guard = self.read()?;
        let inner = guard.as_ref().expect("checked by read");
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

    fn io(&self, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(io) if is_unwritable(&io) => StoreError::Unwritable {
                path: self.path.clone(),
                detail: io.to_string(),
            },
            sled::Error::Corruption { .. } => StoreError::Corrupt {
                path: self.path.clone(),
                detail: e.to_string(),
            },
            other => StoreError::Io(other.to_string()),
        }
    }

    /// Copies every live entry into a fresh database at `fresh`, durably, and closes it.
    fn build_copy(&self, inner: &Inner, fresh: &Path) -> Result<(), StoreError> {
        if fresh.exists() {
            std::fs::remove_dir_all(fresh).map_err(|e| io_at(fresh, e))?;
        }
        let db = sled_config(fresh, self.cache_bytes)
            .open()
            .map_err(|e| open_error(fresh, e))?;
        for tree in Tree::ALL {
            let to = db.open_tree(tree.name()).map_err(|e| self.io(e))?;
            for entry in inner.trees[tree.index()].iter() {
                let (k, v) = entry.map_err(|e| self.io(e))?;
                to.insert(k, v).map_err(|e| self.io(e))?;
            }
        }
        db.flush().map_err(|e| self.io(e))?;
        drop(db);
        write_marker(fresh)
    }
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
    let trees = Tree::ALL
        .iter()
        .map(|t| db.open_tree(t.name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| open_error(path, e))?;
    Ok(Inner { db, trees })
}

fn io_at(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{}: {e}", path.display()))
}

fn write_marker(dir: &Path) -> Result<(), StoreError> {
    let marker = dir.join(MARKER);
    std::fs::write(&marker, format!("schema {SCHEMA_VERSION}\n"))
        .map_err(|e| StoreError::Io(format!("cannot write {}: {e}", marker.display())))
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
    matches!(
        e.kind(),
        K::StorageFull
            | K::ReadOnlyFilesystem
            | K::PermissionDenied
            | K::FileTooLarge
            | K::QuotaExceeded
    )
}

fn open_error(path: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked {
                path: path.to_owned(),
            }
        }
        sled::Error::Io(source) => StoreError::Open {
            path: path.to_owned(),
            source,
        },
        other => StoreError::Corrupt {
            path: path.to_owned(),
            detail: other.to_string(),
        },
    }
}

fn collect(
    iter: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
) -> sled::Result<Vec<Entry>> {
    iter.map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
        .collect()
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(tree, |t| t.get(key).map(|v| v.map(|v| v.to_vec())))
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.with(tree, |t| collect(t.scan_prefix(prefix)))
    }

    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError> {
        if start >= end {
            return Ok(Vec::new());
        }
        self.with(tree, |t| collect(t.range(start..end)))
    }

    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        self.with(tree, |t| {
            t.scan_prefix(prefix)
                .next_back()
                .transpose()
                .map(|o| o.map(|(k, v)| (k.to_vec(), v.to_vec())))
        })
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let guard = self.read()?;
        let inner = guard.as_ref().expect("checked by read");
        if let [(tree, key, value)] = batch.ops.as_slice() {
            // One write is atomic by itself, and skips the transaction's global lock, which
            // would otherwise wait for a running flush.
            let tree = &inner.trees[tree.index()];
            match value {
                Some(v) => tree.insert(key.as_slice(), v.as_slice()).map(|_| ()),
                None => tree.remove(key.as_slice()).map(|_| ()),
            }
            .map_err(|e| self.io(e))?;
            // Counted under the read lock, as below.
            self.applied.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        // A transaction over only the trees the batch touches: each tree in a sled transaction
        // costs a lock and a read set, and most batches touch two or three of sixteen.
        let mut touched: Vec<Tree> = batch.ops.iter().map(|(t, _, _)| *t).collect();
        touched.sort_unstable();
        touched.dedup();
        let views: Vec<sled::Tree> = touched
            .iter()
            .map(|t| inner.trees[t.index()].clone())
            .collect();
        let result: Result<(), TransactionError<()>> = views.as_slice().transaction(|views| {
            for (tree, key, value) in &batch.ops {
                let at = touched.binary_search(tree).unwrap_or(0);
                let view = &views[at];
                match value {
                    Some(v) => view.insert(key.as_slice(), v.as_slice())?,
                    None => view.remove(key.as_slice())?,
                };
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        result.map_err(|e| match e {
            TransactionError::Storage(e) => self.io(e),
            TransactionError::Abort(()) => StoreError::Io("transaction aborted".into()),
        })?;
        // Counted while the read lock is held, so a rewrite (which takes it exclusively) sees
        // every batch it copies counted, and may declare them durable.
        self.applied.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn sync(&self) -> Result<(), StoreError> {
        let wanted = self.applied.load(Ordering::SeqCst);
        let me = std::thread::current();
        let mut state = self.group.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            // A wake-up may be spurious: never wait twice in the list.
            state.waiters.retain(|(_, t)| t.id() != me.id());
            if state.durable >= wanted {
                return Ok(());
            }
            if !state.running {
                break;
            }
            state.waiters.push((wanted, me.clone()));
            drop(state);
            std::thread::park();
            state = self.group.state.lock().unwrap_or_else(|p| p.into_inner());
        }
        // This caller leads the next flush; it covers every batch applied before it starts.
        state.running = true;
        drop(state);
        let covers = self.applied.load(Ordering::SeqCst);
        let result = self.read().and_then(|guard| {
            let inner = guard.as_ref().expect("checked by read");
            inner.db.flush().map(|_| ()).map_err(|e| self.io(e))
        });
        let mut state = self.group.state.lock().unwrap_or_else(|p| p.into_inner());
        state.running = false;
        if result.is_ok() {
            state.durable = state.durable.max(covers);
        }
        let woken = if result.is_err() {
            // Everyone not covered retries in turn, so the error reaches all it concerns and
            // nobody is confirmed by mistake.
            Wake::All
        } else {
            // One who is not covered yet leads the next flush.
            Wake::CoveredAndNextLeader
        };
        state.wake(woken);
        result
    }

    fn snapshot(&self) -> Result<Vec<(Tree, Vec<Entry>)>, StoreError> {
        // Exclusive: no batch is half-way between trees while the copy is taken.
        let guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let inner = guard.as_ref().ok_or_else(|| {
            StoreError::Io(format!(
                "the database at {} could not be reopened after a rewrite; restart the academy",
                self.path.display()
            ))
        })?;
        Tree::ALL
            .iter()
            .map(|t| {
                collect(inner.trees[t.index()].iter())
                    .map(|entries| (*t, entries))
                    .map_err(|e| self.io(e))
            })
            .collect()
    }

    fn compact(&self) -> Result<(), StoreError> {
        // sled keeps removed and overwritten values in its files until it reuses the space,
        // which may be never. A fresh database holds only what is live; swapping it in is the
        // one way to make removed bytes leave the files.
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let fresh = sibling(&self.path, REWRITE_NEW);
        let old = sibling(&self.path, REWRITE_OLD);
        let built = match guard.as_ref() {
            Some(inner) => self.build_copy(inner, &fresh),
            None => Err(StoreError::Io("the database is not open".into())),
        };
        if let Err(e) = built {
            let _ = std::fs::remove_dir_all(&fresh);
            return Err(e);
        }
        // Closing releases sled's own lock on the folder; the lock file beside it stays held.
        drop(guard.take());
        let parent = self.path.parent().unwrap_or(Path::new(""));
        let swapped = std::fs::rename(&self.path, &old)
            .and_then(|()| std::fs::rename(&fresh, &self.path))
            .map_err(|e| io_at(&self.path, e))
            .and_then(|()| sync_dir(parent));
        if swapped.is_err() {
            // Whatever state the renames reached, the rule used at open sorts it out.
            let _ = finish_interrupted_rewrite(&self.path);
        }
        *guard = Some(reopen(&self.path, self.cache_bytes)?);
        swapped?;
        std::fs::remove_dir_all(&old).map_err(|e| io_at(&old, e))?;
        sync_dir(parent)?;
        // Everything applied is in the fresh copy, which was flushed.
        let mut state = self.group.state.lock().unwrap_or_else(|p| p.into_inner());
        state.durable = state.durable.max(self.applied.load(Ordering::SeqCst));
        state.wake(Wake::Covered);
        Ok(())
    }
}

/// Opens the folder again after a swap; sled's background threads may hold the old files for a
/// moment after it is closed, so a lock conflict is retried briefly.
fn reopen(path: &Path, cache_bytes: Option<u64>) -> Result<Inner, StoreError> {
    let mut tries = 0;
    loop {
        match open_inner(path, cache_bytes) {
            Err(StoreError::Locked { .. }) if tries < 40 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}
