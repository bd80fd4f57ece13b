//! What the academy knows it has made durable, kept outside sled: sled opens a damaged or
//! truncated log as a shorter one without a word, so the only way to notice that saved work went
//! missing is to remember, somewhere sled does not write, how far the saved work reached.
//!
//! After every successful flush the store writes the flush's sequence number (also stored in the
//! database, in a sled tree of the store's own) and the id counters as they were when the flush
//! began. At
//! open, a database whose sequence number or counters are behind these is refused. The file has
//! two fixed slots, each with a checksum, written in turn: a write torn by a crash spoils at most
//! the slot being written, and the other still holds the previous state. It is not synced on its
//! own: after a power cut it may be behind the database, which is safe (it only ever claims less
//! than what is durable), never ahead of it.
//!
//! After the slots, a region written with zeros when the file is made holds the undo of writes
//! that were refused while sled could not be opened again to write it (a full disk with no room
//! left): the values that are durable for every key a refused batch touched. Writing into
//! space that is already the file's needs no new room. The next open puts them back before
//! anything else, so a refused write that partly reached the disk never shows.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The file's name inside the database folder.
pub const FILE: &str = "academie-ledger";
/// The ledger being made, until it is renamed to [`FILE`].
pub const NEW_FILE: &str = "academie-ledger.new";
/// Bytes per slot; the payload is a few hundred bytes of JSON.
const SLOT: usize = 4096;
const MAGIC: &[u8; 8] = b"ACADLDG1";
const HEADER: usize = MAGIC.len() + 8;
/// Where the undo region starts, and how much it holds.
const UNDO_AT: usize = 2 * SLOT;
const UNDO_MAGIC: &[u8; 8] = b"ACADUND1";
/// Header of the undo: magic, the ledger's sequence number it belongs to, length, checksum.
const UNDO_HEADER: usize = UNDO_MAGIC.len() + 8 + 4 + 4;
pub const UNDO_MAX: usize = 1024 * 1024;
const FILE_LEN: usize = UNDO_AT + UNDO_HEADER + UNDO_MAX;

/// What was durable at the end of a flush.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    /// The sequence number of the flush.
    pub seq: u64,
    /// Every id counter (`next_id:*` in the meta tree) by name, as it was when the flush began.
    pub counters: BTreeMap<String, u64>,
}

/// The open ledger of a database, written after each flush.
#[derive(Debug)]
pub struct Ledger {
    file: File,
}

/// Why the ledger could not be read.
#[derive(Debug)]
pub enum Unreadable {
    Io(std::io::Error),
    /// Neither slot holds a valid record.
    Damaged,
}

impl Ledger {
    /// Creates the ledger in `dir` (replacing any) holding `ack` in both slots, durably.
    pub fn create(dir: &Path, ack: &Acknowledged) -> std::io::Result<Ledger> {
        // Written whole beside its place and renamed into it: a start killed half-way leaves
        // no ledger (made again at the next start), never one of zeros that reads as damaged.
        let path = dir.join(FILE);
        let new = dir.join(NEW_FILE);
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut ledger = Ledger {
            file: options.open(&new)?,
        };
        // Both slots, so a torn first write still leaves a valid one; and zeros to the full
        // length, so the undo region is room the file already has.
        ledger.file.write_all(&vec![0u8; FILE_LEN])?;
        ledger.write_slot(0, ack)?;
        ledger.write_slot(1, ack)?;
        ledger.file.sync_all()?;
        std::fs::rename(&new, &path)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(ledger)
    }

    /// Opens the existing ledger in `dir` for writing, making room for the undo region if the
    /// file is older than it.
    pub fn open(dir: &Path) -> std::io::Result<Ledger> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join(FILE))?;
        let len = file.metadata()?.len() as usize;
        if len < FILE_LEN {
            file.seek(SeekFrom::Start(len as u64))?;
            file.write_all(&vec![0u8; FILE_LEN - len])?;
            file.sync_all()?;
        }
        Ok(Ledger { file })
    }

    /// Keeps `undo` (the refused writes' undo, encoded) for the next open, durably, as
    /// belonging to the flush `seq`. Returns false when it does not fit.
    pub fn write_undo(&mut self, seq: u64, undo: &[u8]) -> std::io::Result<bool> {
        if undo.len() > UNDO_MAX {
            return Ok(false);
        }
        let mut bytes = Vec::with_capacity(UNDO_HEADER + undo.len());
        bytes.extend_from_slice(UNDO_MAGIC);
        bytes.extend_from_slice(&seq.to_le_bytes());
        bytes.extend_from_slice(&(undo.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(undo).to_le_bytes());
        bytes.extend_from_slice(undo);
        self.file.seek(SeekFrom::Start(UNDO_AT as u64))?;
        self.file.write_all(&bytes)?;
        self.file.sync_data()?;
        Ok(true)
    }

    /// Forgets a kept undo, durably: it was written back.
    pub fn clear_undo(&mut self) -> std::io::Result<()> {
        self.file.seek(SeekFrom::Start(UNDO_AT as u64))?;
        self.file.write_all(&[0u8; UNDO_HEADER])?;
        self.file.sync_data()
    }

    /// Syncs what was written, for the moments when the ledger must not lag (an undo written
    /// back and then forgotten).
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    /// The undo kept in `dir`'s ledger, with the flush it belongs to; `None` when there is none
    /// or it is not whole.
    pub fn read_undo(dir: &Path) -> Option<(u64, Vec<u8>)> {
        let bytes = std::fs::read(dir.join(FILE)).ok()?;
        let header = bytes.get(UNDO_AT..UNDO_AT + UNDO_HEADER)?;
        if &header[..8] != UNDO_MAGIC {
            return None;
        }
        let seq = u64::from_le_bytes(header[8..16].try_into().ok()?);
        let len = u32::from_le_bytes(header[16..20].try_into().ok()?) as usize;
        let crc = u32::from_le_bytes(header[20..24].try_into().ok()?);
        let undo = bytes.get(UNDO_AT + UNDO_HEADER..UNDO_AT + UNDO_HEADER + len)?;
        (crc32fast::hash(undo) == crc).then(|| (seq, undo.to_vec()))
    }

    /// Records `ack`, in the slot its sequence number selects.
    pub fn write(&mut self, ack: &Acknowledged) -> std::io::Result<()> {
        self.write_slot((ack.seq % 2) as usize, ack)
    }

    fn write_slot(&mut self, slot: usize, ack: &Acknowledged) -> std::io::Result<()> {
        let payload = serde_json::to_vec(ack).map_err(std::io::Error::other)?;
        if HEADER + payload.len() > SLOT {
            return Err(std::io::Error::other("too many counters for the ledger"));
        }
        let mut bytes = Vec::with_capacity(HEADER + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        write_at(&self.file, &bytes, (slot * SLOT) as u64)
    }

    /// The newest valid record in `dir`'s ledger; `Ok(None)` when there is no ledger.
    pub fn read(dir: &Path) -> Result<Option<Acknowledged>, Unreadable> {
        let mut bytes = Vec::new();
        match File::open(dir.join(FILE)) {
            Ok(mut f) => f.read_to_end(&mut bytes).map_err(Unreadable::Io)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Unreadable::Io(e)),
        };
        (0..2)
            .filter_map(|slot| parse_slot(bytes.get(slot * SLOT..).unwrap_or_default()))
            .max_by_key(|ack| ack.seq)
            .map(Some)
            .ok_or(Unreadable::Damaged)
    }
}

/// One positioned write: after every flush, so one system call rather than a seek and a write.
#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, at)
}

#[cfg(not(unix))]
fn write_at(mut file: &File, bytes: &[u8], at: u64) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(at))?;
    file.write_all(bytes)
}

fn parse_slot(bytes: &[u8]) -> Option<Acknowledged> {
    let header = bytes.get(..HEADER)?;
    if &header[..MAGIC.len()] != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(header[8..12].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[12..16].try_into().ok()?);
    let payload = bytes.get(HEADER..HEADER + len)?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    serde_json::from_slice(payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: u64, lesson: u64) -> Acknowledged {
        Acknowledged {
            seq,
            counters: [("lesson".to_string(), lesson)].into(),
        }
    }

    #[test]
    fn the_newest_valid_slot_wins_and_a_torn_slot_falls_back_to_the_other() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Ledger::read(dir.path()), Ok(None)));
        let mut ledger = Ledger::create(dir.path(), &ack(0, 0)).unwrap();
        ledger.write(&ack(1, 3)).unwrap();
        ledger.write(&ack(2, 5)).unwrap();
        assert_eq!(Ledger::read(dir.path()).unwrap(), Some(ack(2, 5)));

        // A crash in the middle of writing slot 1 (seq 3): the other slot still holds seq 2.
        ledger.write(&ack(3, 9)).unwrap();
        let path = dir.path().join(FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[SLOT + HEADER + 2] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Ledger::read(dir.path()).unwrap(), Some(ack(2, 5)));

        // An undo is kept whole or not at all.
        assert_eq!(Ledger::read_undo(dir.path()), None);
        assert!(ledger.write_undo(2, b"undo bytes").unwrap());
        assert_eq!(
            Ledger::read_undo(dir.path()),
            Some((2, b"undo bytes".to_vec()))
        );
        assert!(!ledger.write_undo(2, &vec![0; UNDO_MAX + 1]).unwrap());
        ledger.clear_undo().unwrap();
        assert_eq!(Ledger::read_undo(dir.path()), None);
        let mut bytes = std::fs::read(&path).unwrap();

        // Both slots spoiled: unreadable, never taken for "nothing acknowledged".
        bytes[HEADER + 2] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(Ledger::read(dir.path()), Err(Unreadable::Damaged)));
        std::fs::write(&path, b"").unwrap();
        assert!(matches!(Ledger::read(dir.path()), Err(Unreadable::Damaged)));
    }
}
