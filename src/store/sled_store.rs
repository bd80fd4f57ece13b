//! The sled engine behind the [`Store`] interface: one sled tree per [`Tree`], a schema version
//! in the meta tree, and flushes shared by everyone waiting at once (group commit) so that what
//! is confirmed is on disk without each confirmation paying for its own flush.

use super::{Batch, Entry, Store, StoreError, Tree, SCHEMA_KEY, SCHEMA_VERSION};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A file beside sled's own, written once the database is set up. sled opens a truncated
/// database as an empty one without complaint; finding this file next to an empty database
/// tells damage from a first start, so nothing is silently re-created over lost data.
const MARKER: &str = "academie-store";

pub struct SledStore {
    path: PathBuf,
    db: sled::Db,
    trees: Vec<sled::Tree>,
    /// How many batches have been applied; a flush that starts after batch n covers it.
    applied: AtomicU64,
    group: GroupCommit,
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

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SledStore {
    /// Opens (or creates) the database at `path`. `cache_bytes` caps sled's page cache.
    pub fn open(path: &Path, cache_bytes: Option<u64>) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        }
        let mut config = sled::Config::new().path(path);
        if let Some(bytes) = cache_bytes {
            config = config.cache_capacity(bytes);
        }
        let db = config.open().map_err(|e| open_error(path, e))?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| open_error(path, e))?;
        let store = SledStore {
            path: path.to_owned(),
            db,
            trees,
            applied: AtomicU64::new(0),
            group: GroupCommit::default(),
        };
        store.check_schema()?;
        Ok(store)
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.index()]
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
            std::fs::write(&marker, format!("schema {SCHEMA_VERSION}\n"))
                .map_err(|e| StoreError::Io(format!("cannot write {}: {e}", marker.display())))?;
        }
        Ok(())
    }

    fn write_schema_version(&self, version: u32) -> Result<(), StoreError> {
        self.tree(Tree::Meta)
            .insert(SCHEMA_KEY, &version.to_be_bytes())
            .map_err(|e| self.io(e))?;
        self.db.flush().map_err(|e| self.io(e))?;
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
        self.tree(tree)
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.io(e))
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        collect(self.tree(tree).scan_prefix(prefix)).map_err(|e| self.io(e))
    }

    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError> {
        if start >= end {
            return Ok(Vec::new());
        }
        collect(self.tree(tree).range(start..end)).map_err(|e| self.io(e))
    }

    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        self.tree(tree)
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
        if let [(tree, key, value)] = batch.ops.as_slice() {
            // One write is atomic by itself, and skips the transaction's global lock, which
            // would otherwise wait for a running flush.
            let tree = self.tree(*tree);
            match value {
                Some(v) => tree.insert(key.as_slice(), v.as_slice()).map(|_| ()),
                None => tree.remove(key.as_slice()).map(|_| ()),
            }
            .map_err(|e| self.io(e))?;
            self.applied.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        // A transaction over only the trees the batch touches: each tree in a sled transaction
        // costs a lock and a read set, and most batches touch two or three of sixteen.
        let mut touched: Vec<Tree> = batch.ops.iter().map(|(t, _, _)| *t).collect();
        touched.sort_unstable();
        touched.dedup();
        let views: Vec<sled::Tree> = touched.iter().map(|t| self.tree(*t).clone()).collect();
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
        let result = self.db.flush().map(|_| ()).map_err(|e| self.io(e));
        let mut state = self.group.state.lock().unwrap_or_else(|p| p.into_inner());
        state.running = false;
        if result.is_ok() {
            state.durable = state.durable.max(covers);
        }
        let durable = state.durable;
        let (mut wake, mut wait): (Vec<_>, Vec<_>) = std::mem::take(&mut state.waiters)
            .into_iter()
            .partition(|(n, _)| *n <= durable);
        if result.is_err() {
            // Everyone not covered retries in turn, so the error reaches all it concerns and
            // nobody is confirmed by mistake.
            wake.append(&mut wait);
        } else if !wait.is_empty() {
            // One who is not covered yet leads the next flush.
            wake.push(wait.remove(0));
        }
        state.waiters = wait;
        drop(state);
        for (_, thread) in wake {
            thread.unpark();
        }
        result
    }
}
