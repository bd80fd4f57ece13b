//! The files the store keeps beside sled's own in the database folder, and the copy a database is
//! checked on before it is opened: sled repairs what it opens by writing over it (a damaged log
//! is cut where the damage starts), so a database is only opened in place once it is known that
//! nothing will be lost by that.
//!
//! Two ways to know: the folder is byte for byte as a clean close left it (a fingerprint of
//! sled's files written at close), or a copy of it opened by sled holds everything the ledger
//! says was saved, and every record in it can be read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file beside sled's own, written once the database is set up. sled opens a truncated
/// database as an empty one without complaint; finding this file next to an empty database
/// tells damage from a first start, so nothing is silently re-created over lost data. Its
/// second line, `ledger`, says the database keeps a ledger, so a missing ledger is noticed.
pub const MARKER: &str = "academie-store";
/// Lengths and checksums of sled's files as a clean close left them.
pub const FINGERPRINT: &str = "academie-closed";
/// A file written and removed to learn whether there is room again after a full disk.
pub const PROBE: &str = "academie-probe";

/// The files of the folder that are the store's, not sled's.
fn is_own(name: &str) -> bool {
    [
        MARKER,
        FINGERPRINT,
        PROBE,
        super::ledger::FILE,
        super::ledger::NEW_FILE,
    ]
    .contains(&name)
}

/// What the marker says about the database in `dir`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// The database was set up before.
    pub present: bool,
    /// It keeps a ledger.
    pub ledger: bool,
}

pub fn read_marker(dir: &Path) -> Marker {
    match std::fs::read_to_string(dir.join(MARKER)) {
        Ok(text) => Marker {
            present: true,
            ledger: text.lines().any(|l| l.trim() == "ledger"),
        },
        // A marker that exists but cannot be read as text still says "set up before".
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Marker {
            present: true,
            ledger: true,
        },
        Err(_) => Marker::default(),
    }
}

pub fn write_marker(dir: &Path, schema: u32) -> std::io::Result<()> {
    write_private(
        &dir.join(MARKER),
        format!("schema {schema}\nledger\n").as_bytes(),
    )
}

/// Writes a small file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Every file of sled's in `dir` (sub-folders included), by path relative to `dir`, with its
/// length and CRC-32: a single flipped bit or a cut changes it.
fn fingerprint(dir: &Path) -> std::io::Result<BTreeMap<String, (u64, u32)>> {
    let mut all = BTreeMap::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((at, prefix)) = stack.pop() {
        for entry in std::fs::read_dir(&at)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            if entry.file_type()?.is_dir() {
                stack.push((entry.path(), format!("{relative}/")));
            } else if !(prefix.is_empty() && is_own(&name)) {
                all.insert(relative, checksum(&entry.path())?);
            }
        }
    }
    Ok(all)
}

/// A file's length and CRC-32, read in pieces: a database may be larger than memory allows.
fn checksum(path: &Path) -> std::io::Result<(u64, u32)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((len, hasher.finalize()))
}

/// Records sled's files as they are now, after a clean close.
pub fn write_fingerprint(dir: &Path) -> std::io::Result<()> {
    let print = fingerprint(dir)?;
    let json = serde_json::to_vec(&print).map_err(std::io::Error::other)?;
    write_private(&dir.join(FINGERPRINT), &json)
}

/// Whether sled's files in `dir` are exactly as the last clean close left them.
pub fn fingerprint_matches(dir: &Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join(FINGERPRINT)) else {
        return false;
    };
    let Ok(recorded) = serde_json::from_slice::<BTreeMap<String, (u64, u32)>>(&bytes) else {
        return false;
    };
    fingerprint(dir).is_ok_and(|now| now == recorded)
}

/// Forgets the fingerprint before sled may write: from then on the files change.
pub fn forget_fingerprint(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(FINGERPRINT)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Copies the folder `from` to `to`, which must not exist; the copy is only the owner's.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    create_private_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Creates a folder only its owner can enter.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// A folder removed with everything in it when this is dropped: the copy a check runs on.
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("could not remove {}: {e}", self.0.display());
            }
        }
    }
}

/// Writes `bytes` zeros to a file in `dir`, syncs it and removes it: whether there is room
/// for that much again. Touches nothing of sled's.
pub fn probe(dir: &Path, bytes: u64) -> std::io::Result<()> {
    let path = dir.join(PROBE);
    // Synced too: a disk that takes the bytes but fails to store them has no room either.
    let written = fill(&path, bytes).and_then(|file| file.sync_all());
    let removed = std::fs::remove_file(&path);
    written?;
    match removed {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Makes `path` a file of `bytes` zeros, really written (not a sparse file), unless it already
/// is one that long: room kept aside, given up when the disk is full. A file that could not be
/// completed is removed, so a failed try takes no room.
pub fn reserve(path: &Path, bytes: u64) -> std::io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() >= bytes) {
        return Ok(());
    }
    // File systems count written bytes against the free space at once, synced or not.
    let written = fill(path, bytes).map(drop);
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

fn fill(path: &Path, bytes: u64) -> std::io::Result<std::fs::File> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let chunk = vec![0u8; 64 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_notices_one_flipped_bit_and_a_cut_but_not_the_store_s_own_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        std::fs::write(dir.path().join("db"), vec![7u8; 5000]).unwrap();
        std::fs::write(dir.path().join("blobs").join("1"), b"blob").unwrap();
        assert!(!fingerprint_matches(dir.path()), "no fingerprint yet");
        write_fingerprint(dir.path()).unwrap();
        assert!(fingerprint_matches(dir.path()));
        write_marker(dir.path(), 3).unwrap();
        assert!(fingerprint_matches(dir.path()), "the marker is not sled's");

        let mut bytes = std::fs::read(dir.path().join("db")).unwrap();
        bytes[4321] ^= 0x08;
        std::fs::write(dir.path().join("db"), &bytes).unwrap();
        assert!(!fingerprint_matches(dir.path()));
        bytes[4321] ^= 0x08;
        std::fs::write(dir.path().join("db"), &bytes[..4999]).unwrap();
        assert!(!fingerprint_matches(dir.path()));
        std::fs::write(dir.path().join("db"), &bytes).unwrap();
        assert!(fingerprint_matches(dir.path()));
        std::fs::write(dir.path().join("blobs").join("1"), b"blub").unwrap();
        assert!(!fingerprint_matches(dir.path()));
    }

    #[test]
    fn the_marker_tells_whether_a_ledger_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_marker(dir.path()), Marker::default());
        std::fs::write(dir.path().join(MARKER), "schema 3\n").unwrap();
        assert_eq!(
            read_marker(dir.path()),
            Marker {
                present: true,
                ledger: false
            }
        );
        write_marker(dir.path(), 3).unwrap();
        assert_eq!(
            read_marker(dir.path()),
            Marker {
                present: true,
                ledger: true
            }
        );
    }
}
