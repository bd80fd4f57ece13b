//! Backups that stream: a store larger than what any one step may hold is written entry by
//! entry, checked and restored entry by entry, and a damaged file changes nothing.

use academie::disk::{Disk, MemoryDisk};
use academie::engine::backup::{self, BackupError};
use academie::files::LocalDisk;
use academie::store::{
    Batch, EachEntry, Entry, MemoryStore, SledStore, Store, StoreError, Tree, SCHEMA_KEY,
    SCHEMA_VERSION,
};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Values of this size, as many as make [`BULK`] bytes.
const VALUE: usize = 8 * 1024;
/// Bigger than any buffer a streaming backup keeps, and than one batch when loading.
const BULK: usize = 24 * 1024 * 1024;

/// A store that refuses to be read whole: no snapshot, and no whole-tree collection, so only a
/// streaming scan gets through it.
struct OnlyStreamed<S>(S);

impl<S: Store> Store for OnlyStreamed<S> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(tree, key)
    }
    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        assert!(!prefix.is_empty(), "{} collected whole", tree.name());
        self.0.scan_prefix(tree, prefix)
    }
    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.0.scan_range(tree, start, end)
    }
    fn scan_each(
        &self,
        tree: Tree,
        prefix: &[u8],
        each: &mut EachEntry<'_>,
    ) -> Result<(), StoreError> {
        self.0.scan_each(tree, prefix, each)
    }
    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        self.0.last_with_prefix(tree, prefix)
    }
    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        self.0.apply(batch)
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.0.sync()
    }
    fn snapshot(&self) -> Result<Vec<(Tree, Vec<Entry>)>, StoreError> {
        panic!("a backup must not take the whole store into memory")
    }
}

/// Fills `store` with [`BULK`] bytes of entries no record check refuses (the meta tree
/// holds anything beside its schema and counters), and the schema.
fn fill(store: &dyn Store) -> usize {
    let mut batch = Batch::new();
    batch.put(
        Tree::Meta,
        SCHEMA_KEY.to_vec(),
        SCHEMA_VERSION.to_be_bytes(),
    );
    let n = BULK / VALUE;
    for i in 0..n {
        let value: Vec<u8> = (0..VALUE).map(|j| ((i * 31 + j) % 251) as u8).collect();
        batch.put(Tree::Meta, format!("bulk:{i:06}").into_bytes(), value);
        if batch.len() >= 500 {
            store.apply(std::mem::take(&mut batch)).unwrap();
        }
    }
    store.commit(batch).unwrap();
    n + 1
}

/// Every entry of `store`, tree by tree, streamed.
fn entries(store: &dyn Store) -> Vec<(Tree, Vec<u8>, Vec<u8>)> {
    let mut all = Vec::new();
    for tree in Tree::ALL {
        store
            .scan_each(tree, &[], &mut |k, v| {
                all.push((tree, k.to_vec(), v.to_vec()));
                Ok(())
            })
            .unwrap();
    }
    all
}

#[test]
fn a_sled_store_larger_than_a_batch_is_backed_up_and_restored_entry_by_entry() {
    let dir = tempfile::tempdir().unwrap();
    let source = OnlyStreamed(SledStore::open(&dir.path().join("db"), None).unwrap());
    let count = fill(&source);
    let path = dir.path().join("big.backup");
    let written = backup::write_backup(&LocalDisk, &source, &path).unwrap();
    assert_eq!(written.entries, count as u64);
    assert!(std::fs::metadata(&path).unwrap().len() > BULK as u64);

    assert_eq!(backup::check_backup(&LocalDisk, &path).unwrap(), written);
    let target = OnlyStreamed(SledStore::open(&dir.path().join("restored"), None).unwrap());
    let restored = backup::restore_backup(&LocalDisk, &path, &target).unwrap();
    assert_eq!(restored, written);
    assert_eq!(entries(&target), entries(&source), "entry for entry");

    // The file is the format every earlier version wrote: read whole, it is the same.
    let whole = backup::read_backup(&LocalDisk, &path).unwrap();
    assert_eq!(whole.entries, entries(&source));
}

/// A disk that serves the backup as written for the first `good` openings, then damaged: a
/// file changed between the check and the load.
struct ChangingDisk {
    inner: MemoryDisk,
    opened: AtomicUsize,
    good: usize,
    damaged: Vec<u8>,
}

impl Disk for ChangingDisk {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.inner.read(path)
    }
    fn open(&self, path: &Path) -> std::io::Result<Box<dyn std::io::Read + Send>> {
        if self.opened.fetch_add(1, Ordering::SeqCst) < self.good {
            self.inner.open(path)
        } else {
            Ok(Box::new(std::io::Cursor::new(self.damaged.clone())))
        }
    }
    fn list(&self, dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        self.inner.list(dir)
    }
    fn exists(&self, path: &Path) -> bool {
        self.inner.exists(path)
    }
    fn is_file(&self, path: &Path) -> bool {
        self.inner.is_file(path)
    }
    fn write_private(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.write_private(path, bytes)
    }
    fn write_public(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.write_public(path, bytes)
    }
    fn private_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        self.inner.private_dir_all(dir)
    }
    fn public_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        self.inner.public_dir_all(dir)
    }
    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        self.inner.remove_file(path)
    }
    fn create_private(&self, target: &Path) -> std::io::Result<Box<dyn academie::disk::NewFile>> {
        self.inner.create_private(target)
    }
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.inner.sync_dir(dir)
    }
}

#[test]
fn a_backup_damaged_near_its_end_is_refused_before_anything_is_loaded() {
    let disk = MemoryDisk::default();
    let source = MemoryStore::default();
    fill(&source);
    let path = Path::new("/backups/big.backup");
    backup::write_backup(&disk, &source, path).unwrap();
    let good = disk.read(path).unwrap();
    // One byte of the last entry's value changed, still valid base64: every line before it
    // reads, and only the checksum at the very end tells.
    let mut damaged = good.clone();
    let footer = good[..good.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap();
    let at = footer - 10;
    damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
    disk.write_private(path, &damaged).unwrap();

    let target = MemoryStore::default();
    assert!(matches!(
        backup::restore_backup(&disk, path, &target).unwrap_err(),
        BackupError::Changed { .. }
    ));
    assert!(target.is_empty().unwrap(), "nothing was loaded");
    assert!(entries(&target).is_empty());

    // Changed after it was checked, while it is loaded: refused at its end, so the caller
    // throws away the copy it was loading into.
    for good_openings in [1, 2] {
        let changing = ChangingDisk {
            inner: MemoryDisk::default(),
            opened: AtomicUsize::new(0),
            good: good_openings,
            damaged: damaged.clone(),
        };
        changing.private_dir_all(Path::new("/backups")).unwrap();
        changing.write_private(path, &good).unwrap();
        assert!(matches!(
            backup::restore_backup(&changing, path, &MemoryStore::default()).unwrap_err(),
            BackupError::Changed { .. }
        ));
    }
}

#[test]
fn a_database_restored_from_a_damaged_backup_stays_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let path = dir.path().join("b.backup");
    {
        let store = SledStore::open(&db, None).unwrap();
        fill(&store);
        backup::write_backup(&LocalDisk, &store, &path).unwrap();
    }
    let before = {
        let store = SledStore::open(&db, None).unwrap();
        entries(&store)
    };
    let mut bytes = std::fs::read(&path).unwrap();
    let cut = bytes.len() - 3;
    bytes.truncate(cut);
    std::fs::write(&path, &bytes).unwrap();
    let aside = dir.path().join("aside");
    let refused = SledStore::replace(&db, None, &aside, |fresh| {
        backup::restore_backup(&LocalDisk, &path, fresh)
            .map(|_| ())
            .map_err(|e| StoreError::Io(e.to_string()))
    });
    assert!(refused.is_err());
    assert!(!aside.exists(), "nothing was moved aside");
    let store = SledStore::open(&db, None).unwrap();
    assert_eq!(entries(&store), before);
}
