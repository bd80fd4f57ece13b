//! A backup opened as a store without reading it into memory, so a member can be erased from
//! it whatever its size: only its keys and where each entry's line is are kept; a value is read
//! from the file when it is asked for, and what the erasure writes is kept beside, over the
//! file's entries.

use super::backup::{self, BackupError, BackupSummary, Spot};
use crate::disk::Disk;
use crate::store::{Batch, EachEntry, Entry, Store, StoreError, Tree, SCAN_CHUNK};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Per tree: key → where its line is in the file, and the CRC-32 of the value it held.
type Lines = BTreeMap<Tree, BTreeMap<Box<[u8]>, (Spot, u32)>>;
/// Per tree: key → what was written over the file (`None`: removed).
type Written = BTreeMap<Tree, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

/// The most read from the file at once, for lines that follow each other.
const RUN_BYTES: u64 = 4 * 1024 * 1024;

/// Where a value is: in the file (with the CRC-32 it had when the file was listed), or
/// written over it.
enum Source {
    Line(Spot, u32),
    Value(Vec<u8>),
}

pub(super) struct BackupInPlace {
    disk: Arc<dyn Disk>,
    path: PathBuf,
    lines: Lines,
    written: Mutex<Written>,
}

impl BackupInPlace {
    /// Checks the backup at `path` whole, then lists where its entries are (reading it once
    /// more, so a file changed in between is refused as a restore refuses it).
    pub fn open(
        disk: Arc<dyn Disk>,
        path: &Path,
    ) -> Result<(BackupInPlace, BackupSummary), BackupError> {
        let summary = backup::check_backup(disk.as_ref(), path)?;
        let mut lines = Lines::new();
        let file = disk.open(path).map_err(|source| BackupError::Read {
            path: path.to_owned(),
            source,
        })?;
        let listed = backup::stream_at(file, path, |_, spot, tree, key, value| {
            let crc = crc32fast::hash(&value);
            lines
                .entry(tree)
                .or_default()
                .insert(key.into(), (spot, crc));
            Ok(())
        })?;
        if listed != summary {
            return Err(BackupError::Changed {
                path: path.to_owned(),
            });
        }
        let copy = BackupInPlace {
            disk,
            path: path.to_owned(),
            lines,
            written: Mutex::new(Written::new()),
        };
        Ok((copy, summary))
    }

    fn written(&self) -> Result<std::sync::MutexGuard<'_, Written>, StoreError> {
        self.written
            .lock()
            .map_err(|_| StoreError::Io("the backup being rewritten was poisoned".into()))
    }

    fn changed(&self) -> StoreError {
        StoreError::Io(format!(
            "{} changed while a member was erased from it",
            self.path.display()
        ))
    }

    /// The entry at `key` as `source` has it.
    fn entry(&self, tree: Tree, key: Vec<u8>, source: Source) -> Result<Entry, StoreError> {
        let mut one = self.values(tree, vec![(key, source)])?;
        one.pop().ok_or_else(|| self.changed())
    }

    /// The entries of `keys` in their order; lines that follow each other in the file (as a
    /// tree's do, written in key order) are read together, a few MB at most at a time. A line
    /// must still be the entry it was when the file was listed: its key, and its value's CRC-32.
    fn values(&self, tree: Tree, keys: Vec<(Vec<u8>, Source)>) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        let mut run: Vec<(Vec<u8>, Spot, u32)> = Vec::new();
        for (key, source) in keys {
            match source {
                Source::Line(spot, crc) => {
                    let follows = run.last().is_some_and(|(_, last, _)| {
                        last.at + u64::from(last.len) == spot.at
                            && spot.at + u64::from(spot.len) - run[0].1.at <= RUN_BYTES
                    });
                    if !follows {
                        self.read_run(tree, &mut run, &mut out)?;
                    }
                    run.push((key, spot, crc));
                }
                Source::Value(v) => {
                    self.read_run(tree, &mut run, &mut out)?;
                    out.push((key, v));
                }
            }
        }
        self.read_run(tree, &mut run, &mut out)?;
        Ok(out)
    }

    /// Reads the lines of `run`, which follow each other in the file, with one read.
    fn read_run(
        &self,
        tree: Tree,
        run: &mut Vec<(Vec<u8>, Spot, u32)>,
        out: &mut Vec<Entry>,
    ) -> Result<(), StoreError> {
        let (Some((_, first, _)), Some((_, last, _))) = (run.first(), run.last()) else {
            return Ok(());
        };
        let start = first.at;
        let len = (last.at + u64::from(last.len) - start) as usize;
        let bytes = self
            .disk
            .read_at(&self.path, start, len)
            .map_err(|e| StoreError::Io(format!("{}: {e}", self.path.display())))?;
        for (key, spot, crc) in run.drain(..) {
            let from = (spot.at - start) as usize;
            match backup::entry_of_line(&bytes[from..from + spot.len as usize]) {
                Some((t, k, v)) if t == tree && k == key && crc32fast::hash(&v) == crc => {
                    out.push((key, v))
                }
                _ => return Err(self.changed()),
            }
        }
        Ok(())
    }

    /// The keys in `range` of `tree` with where their values are, in key order, at most
    /// `most`: the file's entries with what was written over them.
    fn keys(
        &self,
        tree: Tree,
        range: (Bound<&[u8]>, Bound<&[u8]>),
        most: usize,
    ) -> Result<Vec<(Vec<u8>, Source)>, StoreError> {
        let written = self.written()?;
        let mut over = written
            .get(&tree)
            .map(|m| m.range::<[u8], _>(range))
            .into_iter()
            .flatten()
            .peekable();
        let mut file = self
            .lines
            .get(&tree)
            .map(|m| m.range::<[u8], _>(range))
            .into_iter()
            .flatten()
            .peekable();
        let mut out = Vec::new();
        while out.len() < most {
            let order = match (file.peek(), over.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some((f, _)), Some((o, _))) => (***f).cmp(o.as_slice()),
            };
            if order == std::cmp::Ordering::Equal {
                // Written over: the file's entry is not what the store holds.
                file.next();
            }
            if order != std::cmp::Ordering::Less {
                let (k, v) = over.next().expect("peeked");
                if let Some(v) = v {
                    out.push((k.clone(), Source::Value(v.clone())));
                }
            } else {
                let (k, (spot, crc)) = file.next().expect("peeked");
                out.push((k.to_vec(), Source::Line(*spot, *crc)));
            }
        }
        Ok(out)
    }

    fn entries(
        &self,
        tree: Tree,
        range: (Bound<&[u8]>, Bound<&[u8]>),
    ) -> Result<Vec<Entry>, StoreError> {
        self.values(tree, self.keys(tree, range, usize::MAX)?)
    }
}

/// The keys starting with `prefix`: from it, up to the first key after all of them.
fn prefix_range(prefix: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return (Bound::Included(prefix.to_vec()), Bound::Excluded(end));
        }
    }
    (Bound::Included(prefix.to_vec()), Bound::Unbounded)
}

fn as_slices(range: &(Bound<Vec<u8>>, Bound<Vec<u8>>)) -> (Bound<&[u8]>, Bound<&[u8]>) {
    (
        range.0.as_ref().map(Vec::as_slice),
        range.1.as_ref().map(Vec::as_slice),
    )
}

impl Store for BackupInPlace {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(over) = self.written()?.get(&tree).and_then(|m| m.get(key)) {
            return Ok(over.clone());
        }
        match self.lines.get(&tree).and_then(|m| m.get(key)) {
            Some((spot, crc)) => Ok(Some(
                self.entry(tree, key.to_vec(), Source::Line(*spot, *crc))?.1,
            )),
            None => Ok(None),
        }
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.entries(tree, as_slices(&prefix_range(prefix)))
    }

    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError> {
        if start >= end {
            return Ok(Vec::new());
        }
        self.entries(tree, (Bound::Included(start), Bound::Excluded(end)))
    }

    fn scan_each(
        &self,
        tree: Tree,
        prefix: &[u8],
        each: &mut EachEntry<'_>,
    ) -> Result<(), StoreError> {
        let (mut from, end) = prefix_range(prefix);
        loop {
            let chunk = self.keys(tree, as_slices(&(from, end.clone())), SCAN_CHUNK)?;
            let Some((last, _)) = chunk.last() else {
                return Ok(());
            };
            from = Bound::Excluded(last.clone());
            for (key, value) in self.values(tree, chunk)? {
                each(&key, &value)?;
            }
        }
    }

    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        // From the end: the greatest key written over the file, and the greatest of the file's
        // not removed over it; the first wins a tie.
        let range = prefix_range(prefix);
        let range = as_slices(&range);
        let last = {
            let written = self.written()?;
            let over = written.get(&tree);
            let written_last = over
                .and_then(|m| m.range::<[u8], _>(range).rev().find(|(_, v)| v.is_some()))
                .map(|(k, v)| (k.clone(), Source::Value(v.clone().unwrap_or_default())));
            let file_last = self
                .lines
                .get(&tree)
                .and_then(|m| {
                    m.range::<[u8], _>(range)
                        .rev()
                        .find(|(k, _)| over.is_none_or(|o| !o.contains_key(&***k)))
                })
                .map(|(k, (spot, crc))| (k.to_vec(), Source::Line(*spot, *crc)));
            match (written_last, file_last) {
                (Some(w), Some(f)) if f.0 > w.0 => Some(f),
                (Some(w), _) => Some(w),
                (None, f) => f,
            }
        };
        match last {
            Some((key, source)) => self.entry(tree, key, source).map(Some),
            None => Ok(None),
        }
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut written = self.written()?;
        for (tree, key, value) in batch.ops() {
            written
                .entry(*tree)
                .or_default()
                .insert(key.clone(), value.clone());
        }
        Ok(())
    }

    fn sync(&self) -> Result<(), StoreError> {
        // Written back into a new file as a whole (`backup::write_store`), or not at all.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemoryDisk;
    use crate::store::{contract, MemoryStore, SCHEMA_KEY, SCHEMA_VERSION};

    /// A backup on `disk` at `path` of a store holding `entries` besides its schema.
    fn backed_up(disk: &MemoryDisk, path: &Path, entries: &[(Tree, &[u8], &[u8])]) {
        let store = MemoryStore::default();
        let mut b = Batch::new();
        b.put(
            Tree::Meta,
            SCHEMA_KEY.to_vec(),
            SCHEMA_VERSION.to_be_bytes(),
        );
        for (tree, k, v) in entries {
            b.put(*tree, k.to_vec(), v.to_vec());
        }
        store.commit(b).unwrap();
        disk.private_dir_all(path.parent().unwrap()).unwrap();
        backup::write_backup(disk, &store, path).unwrap();
    }

    #[test]
    fn a_backup_read_in_place_keeps_the_store_contract() {
        let disk = Arc::new(MemoryDisk::default());
        let path = Path::new("/b/academie.backup");
        backed_up(&disk, path, &[]);
        let (copy, summary) = BackupInPlace::open(disk, path).unwrap();
        assert_eq!(summary.entries, 1);
        contract::exercise(&copy);
    }

    /// What the erasure writes lies over the file's entries: a removal hides one, a change
    /// replaces it, a new key sorts among them; the backup written from it holds exactly that.
    #[test]
    fn a_backup_read_in_place_reads_the_file_under_what_was_written_over_it() {
        let disk = Arc::new(MemoryDisk::default());
        let path = Path::new("/b/academie.backup");
        backed_up(
            &disk,
            path,
            &[
                (Tree::Meta, b"t1", b"een"),
                (Tree::Meta, b"t3", b"drie"),
                (Tree::Meta, b"t5", b"vijf"),
                (Tree::Meta, b"t6", b"zes"),
                (Tree::Meta, b"t7", b"zeven"),
                (Tree::Meta, b"t8", b"acht"),
                (Tree::Meta, b"a", b"antwoord"),
            ],
        );
        let (copy, _) = BackupInPlace::open(disk.clone(), path).unwrap();
        let mut b = Batch::new();
        b.remove(Tree::Meta, b"t3".to_vec());
        b.put(Tree::Meta, b"t5".to_vec(), b"VIJF".to_vec());
        b.put(Tree::Meta, b"t4".to_vec(), b"vier".to_vec());
        b.remove(Tree::Meta, b"t9".to_vec());
        copy.commit(b).unwrap();
        let lessons = copy.scan_prefix(Tree::Meta, b"t").unwrap();
        // t6 to t8 follow each other in the file and are read together.
        let want: Vec<Entry> = [
            ("t1", "een"),
            ("t4", "vier"),
            ("t5", "VIJF"),
            ("t6", "zes"),
            ("t7", "zeven"),
            ("t8", "acht"),
        ]
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
        assert_eq!(lessons, want);
        assert_eq!(copy.get(Tree::Meta, b"t3").unwrap(), None);
        assert_eq!(
            copy.get(Tree::Meta, b"a").unwrap(),
            Some(b"antwoord".to_vec())
        );
        assert_eq!(
            copy.last_with_prefix(Tree::Meta, b"t").unwrap(),
            Some((b"t8".to_vec(), b"acht".to_vec()))
        );
        let mut each = Vec::new();
        copy.scan_each(Tree::Meta, b"t", &mut |k, v| {
            each.push((k.to_vec(), v.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(each, want);
        // The last one removed over the file: the one before it is the last.
        let mut b = Batch::new();
        b.remove(Tree::Meta, b"t8".to_vec());
        copy.commit(b).unwrap();
        assert_eq!(
            copy.last_with_prefix(Tree::Meta, b"t").unwrap(),
            Some((b"t7".to_vec(), b"zeven".to_vec()))
        );
        let mut b = Batch::new();
        b.put(Tree::Meta, b"t8".to_vec(), b"acht".to_vec());
        copy.commit(b).unwrap();
        // Written back over the file it reads from, as the erasure does.
        backup::write_store(disk.as_ref(), &copy, None, path, chrono::Utc::now()).unwrap();
        let again = backup::read_backup(disk.as_ref(), path).unwrap();
        let lessons: Vec<Entry> = again
            .entries
            .into_iter()
            .filter(|(t, k, _)| *t == Tree::Meta && k.starts_with(b"t"))
            .map(|(_, k, v)| (k, v))
            .collect();
        assert_eq!(lessons, want);
    }

    /// A file changed after it was opened is refused where it is read, never taken for the
    /// entries it no longer holds: another key where the entry was, or the same key with
    /// another value of the same length.
    #[test]
    fn a_backup_changed_under_it_is_refused_when_read() {
        let disk = Arc::new(MemoryDisk::default());
        let path = Path::new("/b/academie.backup");
        for other in [(b"t2", b"een"), (b"t1", b"EEN")] {
            backed_up(&disk, path, &[(Tree::Meta, b"t1", b"een")]);
            let (copy, _) = BackupInPlace::open(disk.clone(), path).unwrap();
            assert_eq!(copy.get(Tree::Meta, b"t1").unwrap(), Some(b"een".to_vec()));
            backed_up(&disk, path, &[(Tree::Meta, other.0, other.1)]);
            let err = copy.get(Tree::Meta, b"t1").unwrap_err();
            assert!(err.to_string().contains("changed"), "{err}");
            let err = copy.scan_prefix(Tree::Meta, b"t").unwrap_err();
            assert!(err.to_string().contains("changed"), "{err}");
        }
    }
}
