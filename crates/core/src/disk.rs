//! The files the academy reads and writes, as a port that whoever runs the engine fills in, as
//! it injects the clock: the core decides what is written where (automatic backups, the
//! published site, a deletion's journal, a library folder read for an import), the binary does it
//! on the machine's disk with the modes and renames the academy promises. So the core never
//! touches the operating system, and [`MemoryDisk`] lets its tests see every file it wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The disk as the core needs it. Paths are the machine's; every write is whole or absent.
pub trait Disk: Send + Sync {
    /// The whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// A file to read a piece at a time (a backup, whose lines are read with a bound).
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>>;
    /// `len` bytes of the file at `path` from byte `at` (a backup's line read again). The
    /// default reads up to there through [`Disk::open`].
    fn read_at(&self, path: &Path, at: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut file = self.open(path)?;
        io::copy(&mut (&mut file).take(at), &mut io::sink())?;
        let mut bytes = vec![0; len];
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }
    /// The entries of the folder `dir` (files and folders), in no particular order.
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// Hands each entry of the folder `dir` to `each` as it is read, so a folder of any size
    /// is never listed whole in memory; stops at the first error.
    fn each_in(
        &self,
        dir: &Path,
        each: &mut dyn FnMut(PathBuf) -> io::Result<()>,
    ) -> io::Result<()> {
        self.list(dir)?.into_iter().try_for_each(each)
    }
    /// Whether anything is at `path`.
    fn exists(&self, path: &Path) -> bool;
    /// Whether a file (not a folder) is at `path`.
    fn is_file(&self, path: &Path) -> bool;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Creates `dir` and missing parents for the academy's user alone.
    fn private_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Creates `dir` and missing parents readable by everyone (the published site).
    fn public_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Writes `bytes` to `path` for the academy's user alone, on disk before it replaces the
    /// old file, so a reader sees the old file or the whole new one.
    fn write_private(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Writes `bytes` to `path` readable by everyone, replacing it whole (the published site).
    fn write_public(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// A new file for the academy's user alone that takes the place of `target` once persisted
    /// (its parent folder made durable too), and is gone if dropped before.
    fn create_private(&self, target: &Path) -> io::Result<Box<dyn NewFile>>;
    /// Makes the entries of `dir` (a rename, a removal) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// A new file readable by everyone that replaces `target` whole once persisted, and is gone
    /// if dropped before: a page of the site written a piece at a time. By default its bytes
    /// are gathered and handed to [`Disk::write_public`]; a disk that can should write them as
    /// they come, so a page of any size is never held whole.
    fn create_public<'a>(&'a self, target: &Path) -> io::Result<Box<dyn NewFile + 'a>> {
        let target = target.to_owned();
        Ok(Box::new(Gathered {
            bytes: Vec::new(),
            write: Box::new(move |bytes: &[u8]| self.write_public(&target, bytes)),
        }))
    }

    /// The whole file as text.
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        String::from_utf8(self.read(path)?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))
    }
}

/// A file being written by [`Disk::create_private`].
pub trait NewFile: Write + Send {
    /// Puts it on disk and in place of its target.
    fn persist(self: Box<Self>) -> io::Result<()>;
}

/// How a [`Gathered`] file is written when persisted.
type WriteWhole<'a> = Box<dyn FnOnce(&[u8]) -> io::Result<()> + Send + 'a>;

/// A file of [`Disk::create_public`]'s default: its bytes, written whole when persisted.
struct Gathered<'a> {
    bytes: Vec<u8>,
    write: WriteWhole<'a>,
}

impl Write for Gathered<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl NewFile for Gathered<'_> {
    fn persist(self: Box<Self>) -> io::Result<()> {
        (self.write)(&self.bytes)
    }
}

/// A disk in memory: files and folders as a map. For tests, and for an engine that should
/// write nowhere.
#[derive(Clone, Debug, Default)]
pub struct MemoryDisk {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<PathBuf, Vec<u8>>,
    dirs: BTreeSet<PathBuf>,
}

impl MemoryDisk {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every file, by path.
    pub fn files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        self.state().files.clone()
    }

    fn put(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.state();
        if state.dirs.contains(path) {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, "a folder"));
        }
        if let Some(parent) = path.parent() {
            add_dirs(&mut state.dirs, parent);
        }
        state.files.insert(path.to_owned(), bytes.to_vec());
        Ok(())
    }

    fn add_dir(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.state();
        if state.files.contains_key(dir) {
            return Err(io::Error::new(io::ErrorKind::NotADirectory, "a file"));
        }
        add_dirs(&mut state.dirs, dir);
        Ok(())
    }
}

fn add_dirs(dirs: &mut BTreeSet<PathBuf>, dir: &Path) {
    for d in dir.ancestors().filter(|d| !d.as_os_str().is_empty()) {
        dirs.insert(d.to_owned());
    }
}

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such file")
}

impl Disk for MemoryDisk {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.state().files.get(path).cloned().ok_or_else(not_found)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(io::Cursor::new(self.read(path)?)))
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let state = self.state();
        if !state.dirs.contains(dir) {
            return Err(not_found());
        }
        let in_dir = |p: &&PathBuf| p.parent() == Some(dir);
        Ok(state
            .files
            .keys()
            .filter(in_dir)
            .chain(state.dirs.iter().filter(in_dir))
            .cloned()
            .collect())
    }

    fn exists(&self, path: &Path) -> bool {
        let state = self.state();
        state.files.contains_key(path) || state.dirs.contains(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        self.state().files.contains_key(path)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.state()
            .files
            .remove(path)
            .map(drop)
            .ok_or_else(not_found)
    }

    fn private_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.add_dir(dir)
    }

    fn public_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.add_dir(dir)
    }

    fn write_private(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.put(path, bytes)
    }

    fn write_public(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.put(path, bytes)
    }

    fn create_private(&self, target: &Path) -> io::Result<Box<dyn NewFile>> {
        Ok(Box::new(MemoryFile {
            disk: self.clone(),
            target: target.to_owned(),
            bytes: Vec::new(),
        }))
    }

    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }
}

struct MemoryFile {
    disk: MemoryDisk,
    target: PathBuf,
    bytes: Vec<u8>,
}

impl Write for MemoryFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl NewFile for MemoryFile {
    fn persist(self: Box<Self>) -> io::Result<()> {
        self.disk.put(&self.target, &self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_disk_lists_reads_and_removes_what_was_written() {
        let disk = MemoryDisk::default();
        let dir = Path::new("/data/site");
        disk.write_public(&dir.join("index.html"), b"<p>").unwrap();
        disk.public_dir_all(&dir.join("lessons")).unwrap();
        let mut listed = disk.list(dir).unwrap();
        listed.sort();
        assert_eq!(listed, vec![dir.join("index.html"), dir.join("lessons")]);
        assert!(disk.is_file(&dir.join("index.html")));
        assert!(!disk.is_file(&dir.join("lessons")));
        assert_eq!(disk.read_to_string(&dir.join("index.html")).unwrap(), "<p>");
        disk.remove_file(&dir.join("index.html")).unwrap();
        assert_eq!(
            disk.read(&dir.join("index.html")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert!(disk.list(Path::new("/elsewhere")).is_err());
    }

    #[test]
    fn a_new_file_appears_only_once_persisted() {
        let disk = MemoryDisk::default();
        let target = Path::new("/data/backup");
        let mut file = disk.create_private(target).unwrap();
        file.write_all(b"lines").unwrap();
        assert!(!disk.exists(target));
        file.persist().unwrap();
        assert_eq!(disk.read(target).unwrap(), b"lines");
    }
}
