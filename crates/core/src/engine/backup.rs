//! Backups as one self-checking file that any future store can read back: the academy's data
//! must outlive the embedded engine it sits in today.
//!
//! The format is JSON lines. The first line is a header (format, its version, the schema of the
//! records, when, which build); then one line per entry, `{"tree", "key", "value"}` with the
//! bytes in base64; the last line holds the number of entries and a CRC-32 over every line
//! before it. A backup is written beside its target and renamed into place once it is on disk,
//! so the target is either the old file or a complete new one, and a file that was cut short or
//! edited is refused as a whole before anything is restored from it.
//!
//! The running academy also backs itself up (see [`Policy`]): into a folder beside the
//! database, every so often, keeping the newest few. A database found damaged at start is
//! refused with the name of the newest of these that reads back whole, for `academie restore`.

use super::as_of::AsOf;
use super::Engine;
use crate::disk::Disk;
use crate::store::{Batch, Store, StoreError, Tree, SCHEMA_KEY, SCHEMA_VERSION};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

/// What the header's `format` says, so another JSON-lines file is not taken for a backup.
const FORMAT: &str = "academie-backup";
/// The version of this file layout (not of the records: that is the schema).
pub const FORMAT_VERSION: u32 = 1;
/// Entries per batch when loading a backup: bounded transactions, few flushes.
const LOAD_BATCH: usize = 1000;
/// A restore makes what it loaded durable every this many batches.
const SYNC_EVERY: usize = 16;
/// The longest header a backup has; a file whose first line is longer is not a backup (say
/// `/dev/zero`, which has no line end at all).
const MAX_HEADER: usize = 4 * 1024;
/// The longest entry line read: far above any record or posting list the academy writes, so a
/// file with a line beyond it is refused before it can take the machine's memory.
pub const MAX_LINE: usize = 16 * 1024 * 1024;
/// How automatic backups are named: this, the time (UTC, to the millisecond), `.backup`.
const AUTOMATIC_PREFIX: &str = "academie-";
const AUTOMATIC_SUFFIX: &str = ".backup";
const AUTOMATIC_TIME: &str = "%Y%m%dT%H%M%S%.3fZ";
/// After a failed automatic backup, how long until the next try.
const RETRY_MINUTES: i64 = 10;

/// Automatic backups: where, how many and how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The folder, beside the database (only the academy's user may enter it).
    pub dir: PathBuf,
    /// How many are kept; the oldest go.
    pub keep: usize,
    /// How long after the newest the next one is taken.
    pub every: chrono::Duration,
}

/// The automatic backups in `dir`, newest first.
pub fn automatic(disk: &dyn Disk, dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<(DateTime<Utc>, PathBuf)> = disk
        .list(dir)
        .map(|entries| {
            entries
                .into_iter()
                .filter_map(|p| Some((automatic_time(&p.file_name()?.to_string_lossy())?, p)))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.into_iter().rev().map(|(_, p)| p).collect()
}

/// When the automatic backup at `path` was taken, from its name.
pub(super) fn taken_at(path: &Path) -> Option<DateTime<Utc>> {
    automatic_time(&path.file_name()?.to_string_lossy())
}

/// When an automatic backup named `name` was taken.
fn automatic_time(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name
        .strip_prefix(AUTOMATIC_PREFIX)?
        .strip_suffix(AUTOMATIC_SUFFIX)?;
    chrono::NaiveDateTime::parse_from_str(stamp, AUTOMATIC_TIME)
        .ok()
        .map(|t| t.and_utc())
}

/// The newest automatic backup in `dir` that reads back whole, with what it holds.
pub fn newest_good(disk: &dyn Disk, dir: &Path) -> Option<(PathBuf, BackupSummary)> {
    automatic(disk, dir)
        .into_iter()
        .find_map(|path| match check_backup(disk, &path) {
            Ok(summary) => Some((path, summary)),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        })
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    format_version: u32,
    schema_version: u32,
    created: DateTime<Utc>,
    tool_version: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    tree: String,
    key: String,
    value: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Footer {
    entries: u64,
    crc32: u32,
}

/// What a backup holds, in numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSummary {
    pub entries: u64,
    pub schema_version: u32,
    pub created: DateTime<Utc>,
}

/// A backup read back and checked whole.
#[derive(Debug)]
pub struct Backup {
    pub summary: BackupSummary,
    pub entries: Vec<(Tree, Vec<u8>, Vec<u8>)>,
}

/// Why a backup could not be written, read or restored. Each names the file concerned; the
/// command line turns them into sentences in the user's language.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a backup of the academy")]
    NotABackup { path: PathBuf },
    #[error("line {line} of {path} cannot be read: {detail}")]
    BadLine {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error("{path} ends before its last line: the backup was cut short")]
    Truncated { path: PathBuf },
    #[error("line {line} of {path} is longer than {max} bytes")]
    LineTooLong {
        path: PathBuf,
        line: usize,
        max: usize,
    },
    #[error("line {line} of {path} holds an entry of {tree} that this version cannot read")]
    BadRecord {
        path: PathBuf,
        line: usize,
        tree: &'static str,
    },
    #[error("the lesson index in {path} does not match its lessons")]
    BadIndex { path: PathBuf },
    #[error(
        "{path} does not match its own checksum or count: it was changed after it was written"
    )]
    Changed { path: PathBuf },
    #[error("{path} was written by a newer version of the academy (schema {found}, this build reads up to {supported})")]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Engine {
    /// Writes a backup of everything to `path` while the academy keeps running. It holds the
    /// store as it was at one moment (no half of any change), read entry by entry straight
    /// into the file, never the whole store in memory. The write lock is held only to fix that
    /// moment: members' writes go on meanwhile, each keeping what it changes as it was then.
    /// A deletion's rewrite of the backups waits until this one is in place, so a backup read
    /// before a deletion is among those it rewrites.
    pub fn backup(&self, path: &Path) -> Result<BackupSummary, BackupError> {
        let _rewrites_wait = self
            .erasing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = {
            let _guard = self.lock();
            // A batch applied but not yet flushed would be in the backup before it is durable.
            self.store.sync()?;
            self.as_of.begin();
            self.now()
        };
        let written = write_store(
            self.disk.as_ref(),
            self.store.as_ref(),
            Some(&self.as_of),
            path,
            now,
        );
        self.as_of.end();
        written
    }
}

/// Writes a backup of `store`, for when no engine runs (the database is not in use).
pub fn write_backup(
    disk: &dyn Disk,
    store: &dyn Store,
    path: &Path,
) -> Result<BackupSummary, BackupError> {
    write_store(disk, store, None, path, Utc::now())
}

impl Engine {
    /// Takes an automatic backup if the newest is older than the policy's interval, and removes
    /// those beyond the number kept. Returns the new backup's path, if one was taken.
    pub fn backup_if_due(&self) -> Result<Option<PathBuf>, BackupError> {
        let Some(policy) = self.settings.backups.as_ref().filter(|p| p.keep > 0) else {
            return Ok(None);
        };
        let now = self.now();
        let mut upkeep = self.upkeep.lock().unwrap_or_else(|p| p.into_inner());
        if upkeep.next_backup.is_some_and(|due| now < due) {
            return Ok(None);
        }
        if let Some(due) = next_due(self.disk.as_ref(), policy).filter(|due| now < *due) {
            upkeep.next_backup = Some(due);
            return Ok(None);
        }
        // Until this one is written; a failure waits a while before the next try.
        upkeep.next_backup = Some(now + chrono::Duration::minutes(RETRY_MINUTES));
        drop(upkeep);
        let path = take_automatic(self.disk.as_ref(), policy, now, |path| self.backup(path))?;
        self.upkeep
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_backup = Some(now + policy.every);
        Ok(Some(path))
    }
}

/// When the next automatic backup is due: the newest's time plus the interval; none if there
/// is none yet.
fn next_due(disk: &dyn Disk, policy: &Policy) -> Option<DateTime<Utc>> {
    automatic(disk, &policy.dir)
        .first()
        .and_then(|p| automatic_time(&p.file_name()?.to_string_lossy()))
        .map(|t| t + policy.every)
}

/// Whether an automatic backup is due at `now`: none yet, or the newest older than the
/// interval (and backups are kept at all).
pub fn due(disk: &dyn Disk, policy: &Policy, now: DateTime<Utc>) -> bool {
    policy.keep > 0 && next_due(disk, policy).is_none_or(|due| now >= due)
}

/// Takes the automatic backup of `now` (one that is [`due`]) from `store`, which nobody else
/// has open: for a start, before the academy opens the store with the cache it runs with. A
/// pass over every record gains nothing from a cache (see `docs/PERFORMANCE.md`), so the caller
/// opens the store for it with a small one, and the academy's cache is not filled with what the
/// backup read. Returns the new backup's path.
pub fn automatic_before_opening(
    disk: &dyn Disk,
    store: &dyn Store,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<PathBuf, BackupError> {
    take_automatic(disk, policy, now, |path| {
        write_store(disk, store, None, path, now)
    })
}

/// Writes the automatic backup of `now` with `write`, then removes those beyond the number
/// kept and the temporary files of backups a crash cut off.
fn take_automatic(
    disk: &dyn Disk,
    policy: &Policy,
    now: DateTime<Utc>,
    write: impl FnOnce(&Path) -> Result<BackupSummary, BackupError>,
) -> Result<PathBuf, BackupError> {
    let write_err = |source| BackupError::Write {
        path: policy.dir.clone(),
        source,
    };
    if !disk.exists(&policy.dir) {
        disk.private_dir_all(&policy.dir).map_err(write_err)?;
    }
    let name = format!(
        "{AUTOMATIC_PREFIX}{}{AUTOMATIC_SUFFIX}",
        now.format(AUTOMATIC_TIME)
    );
    let path = policy.dir.join(name);
    write(&path)?;
    for old in automatic(disk, &policy.dir).into_iter().skip(policy.keep) {
        if let Err(e) = disk.remove_file(&old) {
            tracing::warn!("could not remove the old backup {}: {e}", old.display());
        }
    }
    // A backup cut off by a crash leaves its temporary file.
    for entry in disk.list(&policy.dir).map_err(write_err)? {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with(AUTOMATIC_PREFIX) && name.ends_with(".tmp") {
            let _ = disk.remove_file(&entry);
        }
    }
    Ok(path)
}

/// Writes every entry of `store` as a backup dated `now` to `path`, replacing it only once
/// complete. The store is read a chunk at a time, so nothing keeps writers out; with `as_of`,
/// what it held at that moment is written, not what writes since have made of it.
pub(super) fn write_store(
    disk: &dyn Disk,
    store: &dyn Store,
    as_of: Option<&AsOf>,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<BackupSummary, BackupError> {
    let write_err = |source| BackupError::Write {
        path: path.to_owned(),
        source,
    };
    let schema_version = store
        .get(Tree::Meta, SCHEMA_KEY)?
        .and_then(|v| v.as_slice().try_into().ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0);
    // Created exclusively under a fresh name, for the owner only: a backup holds everyone's
    // answers and names, and a file or link someone placed beside the target is never used.
    // Dropped (and so removed) unless it is complete and renamed into place.
    let mut file = disk.create_private(path).map_err(write_err)?;
    let mut crc = crc32fast::Hasher::new();
    let mut entries = 0u64;
    let mut line = |out: &mut dyn Write, text: String| {
        let text = text + "\n";
        crc.update(text.as_bytes());
        out.write_all(text.as_bytes())
    };
    line(
        &mut file,
        json_line(&Header {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            schema_version,
            created: now,
            tool_version: env!("CARGO_PKG_VERSION").into(),
        }),
    )
    .map_err(write_err)?;
    // Lessons a deletion's reply removed leave the index's lists here, as the upkeep takes
    // them out of the database: a backup holds none of a deleted member's words, and its
    // index is what its lessons give.
    // Read as the walk below reads an entry: the store first, then what the moment held if
    // a write changed it since (read the other way round, a reply committed in between would
    // take out of the lists lessons the moment still had).
    let stored = store.get(Tree::LessonIndex, crate::postings::GONE)?;
    let gone = match as_of.and_then(|a| a.value(Tree::LessonIndex, crate::postings::GONE)) {
        Some(held) => held,
        None => stored,
    };
    let gone = match gone {
        Some(bytes) => crate::postings::decode(&bytes)?,
        None => crate::postings::Ids::new(),
    };
    // A failure to write is kept here, so it is told as one, not as the store's.
    let mut failed: Option<std::io::Error> = None;
    for tree in Tree::ALL {
        let mut entry = |out: &mut dyn Write, k: &[u8], v: &[u8]| {
            let kept;
            let v = if tree == Tree::LessonIndex && !gone.is_empty() {
                match crate::search::without_gone(k, v, &gone) {
                    Ok(Some(bytes)) => {
                        kept = bytes;
                        kept.as_slice()
                    }
                    Ok(None) => return Ok(()),
                    Err(e) => return Err(std::io::Error::other(e.to_string())),
                }
            } else {
                v
            };
            entries += 1;
            line(
                out,
                json_line(&Line {
                    tree: tree.name().into(),
                    key: B64.encode(k),
                    value: B64.encode(v),
                }),
            )
        };
        let mut last: Option<Vec<u8>> = None;
        let scanned = store.scan_each(tree, &[], &mut |k, v| {
            let mut write = || -> std::io::Result<()> {
                let Some(as_of) = as_of else {
                    return entry(&mut file, k, v);
                };
                for (gone, held) in as_of.held_between(tree, last.as_deref(), Some(k)) {
                    entry(&mut file, &gone, &held)?;
                }
                last = Some(k.to_vec());
                match as_of.value(tree, k) {
                    Some(Some(held)) => entry(&mut file, k, &held),
                    Some(None) => Ok(()),
                    None => entry(&mut file, k, v),
                }
            };
            write().map_err(|e| {
                let told = StoreError::Io(e.to_string());
                failed = Some(e);
                told
            })
        });
        if let Some(e) = failed.take() {
            return Err(write_err(e));
        }
        scanned?;
        if let Some(as_of) = as_of {
            for (gone, held) in as_of.held_between(tree, last.as_deref(), None) {
                entry(&mut file, &gone, &held).map_err(write_err)?;
            }
        }
    }
    let footer = Footer {
        entries,
        crc32: crc.finalize(),
    };
    file.write_all((json_line(&footer) + "\n").as_bytes())
        .and_then(|()| file.flush())
        .map_err(write_err)?;
    file.persist().map_err(write_err)?;
    Ok(BackupSummary {
        entries,
        schema_version,
        created: now,
    })
}

fn json_line<T: Serialize>(value: &T) -> String {
    // Serializing these plain structs cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Reads and checks a whole backup: header, every line, the count and the checksum, a schema
/// this build can read, every record and the lesson index. Holds the whole file in memory, so
/// it is for small files and tests; [`check_backup`] and [`restore_backup`] stream.
pub fn read_backup(disk: &dyn Disk, path: &Path) -> Result<Backup, BackupError> {
    check_backup(disk, path)?;
    let mut entries = Vec::new();
    let summary = stream(open(disk, path)?, path, |_, tree, key, value| {
        entries.push((tree, key, value));
        Ok(())
    })?;
    Ok(Backup { summary, entries })
}

/// Checks a backup as [`read_backup`] does, reading it a line at a time: in memory are one
/// line and the lesson index its lessons give, never the file.
pub fn check_backup(disk: &dyn Disk, path: &Path) -> Result<BackupSummary, BackupError> {
    let mut records = Records::default();
    let summary = stream(open(disk, path)?, path, |line, tree, key, value| {
        records.check(path, line, tree, &key, value);
        Ok(())
    })?;
    if summary.schema_version > SCHEMA_VERSION {
        return Err(BackupError::NewerSchema {
            path: path.to_owned(),
            found: summary.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    if let Some(e) = records.first_bad {
        return Err(e);
    }
    // Older schemas kept another index layout, which the upgrade rebuilds from the lessons.
    if summary.schema_version < SCHEMA_VERSION {
        return Ok(summary);
    }
    if let Some(e) = records.applied_mismatch(path) {
        return Err(e);
    }
    // A second pass compares the index in the file, entry by entry, with the one rebuilt,
    // both in key order: the rebuilt one is handed on as it is read, never copied whole.
    let mut want = records.index.into_entries();
    let mut same = true;
    let again = stream(open(disk, path)?, path, |_, tree, key, value| {
        if tree == Tree::LessonIndex {
            same &= want.next().is_some_and(|(wk, wv)| {
                wk == key
                    && match (
                        crate::postings::decode(&wv),
                        crate::postings::decode(&value),
                    ) {
                        // Lists compare as sets; other entries byte for byte.
                        (Ok(a), Ok(b)) => a == b,
                        _ => wv == value,
                    }
            });
        }
        Ok(())
    })?;
    if again != summary {
        // Changed between the two readings.
        return Err(BackupError::Changed {
            path: path.to_owned(),
        });
    }
    if !same || want.next().is_some() {
        return Err(BackupError::BadIndex {
            path: path.to_owned(),
        });
    }
    Ok(summary)
}

/// Checks the backup at `path` whole ([`check_backup`]), then puts its entries into `store`
/// (a new, empty one, set aside until this returns) a batch at a time and makes them durable.
/// The second reading checks the count and checksum again: a file changed in between fails
/// it, and the caller throws the half-filled store away.
pub fn restore_backup(
    disk: &dyn Disk,
    path: &Path,
    store: &dyn Store,
) -> Result<BackupSummary, BackupError> {
    let summary = check_backup(disk, path)?;
    let mut batch = Batch::new();
    let mut applied = 0;
    let loaded = stream(open(disk, path)?, path, |_, tree, key, value| {
        batch.put(tree, key, value);
        if batch.len() >= LOAD_BATCH {
            store.apply(std::mem::take(&mut batch))?;
            applied += 1;
            // A store keeps what each batch not yet durable replaced, to undo it if a flush
            // fails: made durable now and then, that stays small however large the backup.
            if applied % SYNC_EVERY == 0 {
                store.sync()?;
            }
        }
        Ok(())
    })?;
    if loaded != summary {
        return Err(BackupError::Changed {
            path: path.to_owned(),
        });
    }
    store.apply(batch)?;
    store.sync()?;
    Ok(summary)
}

/// An entry of a backup: its tree, key and value.
pub(super) type TreeEntry = (Tree, Vec<u8>, Vec<u8>);

/// The entry on `raw`, one line of a backup with its line end; `None` if it is not an entry.
pub(super) fn entry_of_line(raw: &[u8]) -> Option<TreeEntry> {
    let text = std::str::from_utf8(raw.strip_suffix(b"\n")?).ok()?;
    let line = serde_json::from_str::<Line>(text).ok()?;
    let tree = Tree::ALL.into_iter().find(|t| t.name() == line.tree)?;
    let key = B64.decode(&line.key).ok()?;
    let value = B64.decode(&line.value).ok()?;
    Some((tree, key, value))
}

fn open(disk: &dyn Disk, path: &Path) -> Result<Box<dyn Read + Send>, BackupError> {
    disk.open(path).map_err(|source| BackupError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads the backup in `file` (named `path` in what it says) a line at a time and hands each
/// entry to `each` with its line number as soon as it is read; what `each` was handed may be
/// trusted only once this returns `Ok`, after the header, every line's bound and form, the
/// count, the checksum and the recorded schema were checked.
fn stream(
    file: impl Read,
    path: &Path,
    mut each: impl FnMut(usize, Tree, Vec<u8>, Vec<u8>) -> Result<(), BackupError>,
) -> Result<BackupSummary, BackupError> {
    stream_at(file, path, |number, _, tree, key, value| {
        each(number, tree, key, value)
    })
}

/// Where an entry's line is in a backup file: its first byte and its length, line end included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Spot {
    pub at: u64,
    pub len: u32,
}

/// [`stream`], with where each entry's line is in the file.
pub(super) fn stream_at(
    file: impl Read,
    path: &Path,
    mut each: impl FnMut(usize, Spot, Tree, Vec<u8>, Vec<u8>) -> Result<(), BackupError>,
) -> Result<BackupSummary, BackupError> {
    let read_err = |source| BackupError::Read {
        path: path.to_owned(),
        source,
    };
    let bad = |line: usize, detail: String| BackupError::BadLine {
        path: path.to_owned(),
        line,
        detail,
    };
    let mut crc = crc32fast::Hasher::new();
    let mut header: Option<Header> = None;
    let mut count = 0u64;
    let mut recorded: Option<Option<u32>> = None;
    let mut footer: Option<Footer> = None;
    let mut reader = std::io::BufReader::new(file);
    let mut raw = Vec::new();
    let mut number = 0;
    let mut at = 0u64;
    loop {
        raw.clear();
        let max = if header.is_none() {
            MAX_HEADER
        } else {
            MAX_LINE
        };
        // One byte more than allowed tells a line at the limit from a longer one.
        let read = (&mut reader)
            .take(max as u64 + 1)
            .read_until(b'\n', &mut raw)
            .map_err(read_err)?;
        if read == 0 {
            break;
        }
        let spot = Spot {
            at,
            // At most MAX_LINE + 1 bytes were read.
            len: read as u32,
        };
        at += read as u64;
        number += 1;
        if raw.len() > max && raw.last() != Some(&b'\n') {
            return Err(if header.is_none() {
                BackupError::NotABackup {
                    path: path.to_owned(),
                }
            } else {
                BackupError::LineTooLong {
                    path: path.to_owned(),
                    line: number,
                    max,
                }
            });
        }
        if footer.is_some() {
            // Anything after the last line was added to the file.
            return Err(BackupError::Changed {
                path: path.to_owned(),
            });
        }
        if raw.last() != Some(&b'\n') {
            return Err(BackupError::Truncated {
                path: path.to_owned(),
            });
        }
        let text = std::str::from_utf8(&raw[..raw.len() - 1])
            .map_err(|_| bad(number, "not UTF-8".into()))?;
        if header.is_none() {
            let h: Header = serde_json::from_str(text).map_err(|_| BackupError::NotABackup {
                path: path.to_owned(),
            })?;
            if h.format != FORMAT || h.format_version != FORMAT_VERSION {
                return Err(BackupError::NotABackup {
                    path: path.to_owned(),
                });
            }
            crc.update(&raw);
            header = Some(h);
            continue;
        }
        if let Ok(f) = serde_json::from_str::<Footer>(text) {
            footer = Some(f);
            continue;
        }
        let line: Line = serde_json::from_str(text).map_err(|e| bad(number, e.to_string()))?;
        let tree = Tree::ALL
            .into_iter()
            .find(|t| t.name() == line.tree)
            .ok_or_else(|| bad(number, format!("unknown tree {:?}", line.tree)))?;
        let key = B64
            .decode(&line.key)
            .map_err(|e| bad(number, format!("key: {e}")))?;
        let value = B64
            .decode(&line.value)
            .map_err(|e| bad(number, format!("value: {e}")))?;
        crc.update(&raw);
        count += 1;
        if recorded.is_none() && tree == Tree::Meta && key.as_slice() == SCHEMA_KEY {
            recorded = Some(value.as_slice().try_into().ok().map(u32::from_be_bytes));
        }
        each(number, spot, tree, key, value)?;
    }
    let header = header.ok_or_else(|| BackupError::NotABackup {
        path: path.to_owned(),
    })?;
    let footer = footer.ok_or_else(|| BackupError::Truncated {
        path: path.to_owned(),
    })?;
    if footer.entries != count || footer.crc32 != crc.finalize() {
        return Err(BackupError::Changed {
            path: path.to_owned(),
        });
    }
    if recorded.flatten() != Some(header.schema_version) {
        return Err(BackupError::Changed {
            path: path.to_owned(),
        });
    }
    Ok(BackupSummary {
        entries: footer.entries,
        schema_version: header.schema_version,
        created: header.created,
    })
}

/// Whether every entry of a backup reads as what its tree holds, one entry at a time, the
/// lesson index its lessons give, and the applications in time order its applications give.
/// The checksum only proves the file is what was written; a file edited with its checksum
/// recomputed, or written by a build with a bug, could still hold a record that breaks every
/// search once restored.
#[derive(Default)]
struct Records {
    /// The first entry that does not read, told once the file is known whole and readable.
    first_bad: Option<BackupError>,
    index: crate::search::IndexBuilder,
    /// The entries of the applications in time order that the applications give, and those
    /// the file holds, each with its line.
    applied: super::AppliedEntries,
    listed: BTreeMap<Vec<u8>, (Vec<u8>, usize)>,
}

impl Records {
    /// The first line where the applications in time order differ from what the applications
    /// give: an entry no application gives, or an application without its entry.
    fn applied_mismatch(&self, path: &Path) -> Option<BackupError> {
        let (line, tree, _) = self
            .applied
            .differences(&self.listed)
            .into_iter()
            .min_by_key(|(line, _, _)| *line)?;
        Some(BackupError::BadRecord {
            path: path.to_owned(),
            line,
            tree: tree.name(),
        })
    }
}

impl Records {
    fn check(&mut self, path: &Path, line: usize, tree: Tree, key: &[u8], value: Vec<u8>) {
        use super::outbox::OutboxRecord;
        use super::{AuditEntry, Job};
        use crate::domain::*;
        fn reads<T: serde::de::DeserializeOwned>(value: &[u8]) -> bool {
            serde_json::from_slice::<T>(value).is_ok()
        }
        if self.first_bad.is_some() {
            return;
        }
        let ok = match tree {
            Tree::Meta if key == SCHEMA_KEY => value.len() == 4,
            Tree::Meta if key.starts_with(b"next_id:") => value.len() == 8,
            Tree::Meta => true,
            Tree::Collaborations => reads::<Collaboration>(&value),
            Tree::Members => reads::<Member>(&value),
            Tree::Rounds => reads::<Round>(&value),
            Tree::Answers => reads::<Answer>(&value),
            Tree::Lessons => match serde_json::from_slice::<Lesson>(&value) {
                Ok(lesson) if lesson.id.key().as_slice() == key => {
                    self.index.add(&lesson);
                    true
                }
                _ => false,
            },
            Tree::Digests => reads::<Digest>(&value),
            Tree::Schedules => reads::<Job>(&value),
            Tree::Outbox => reads::<OutboxRecord>(&value),
            Tree::Participants => reads::<Participant>(&value),
            Tree::Applications => match serde_json::from_slice::<Application>(&value) {
                Ok(a) => {
                    self.applied.add(key, a.at, line);
                    true
                }
                Err(_) => false,
            },
            Tree::Votes => reads::<Vote>(&value),
            Tree::Placements => reads::<Placement>(&value),
            Tree::Audit => reads::<AuditEntry>(&value),
            Tree::Servers => reads::<ServerExchange>(&value),
            Tree::Questions => reads::<Question>(&value),
            Tree::QuestionAnswers => reads::<QuestionAnswer>(&value),
            Tree::Meetings => reads::<Meeting>(&value),
            Tree::SignUps => reads::<SignUp>(&value),
            Tree::Taken => reads::<TakenLesson>(&value),
            // Checked as a whole, in a second reading.
            Tree::RoundsByChannel | Tree::LessonIndex => true,
            Tree::Mentions => value.is_empty(),
            Tree::AppliedAt => {
                self.listed.insert(key.to_vec(), (value, line));
                true
            }
        };
        if !ok {
            self.first_bad = Some(BackupError::BadRecord {
                path: path.to_owned(),
                line,
                tree: tree.name(),
            });
        }
    }
}

/// Puts every entry of a checked backup into `store` (a new, empty one) and makes it durable.
pub fn load_backup(store: &dyn Store, backup: &Backup) -> Result<(), StoreError> {
    for chunk in backup.entries.chunks(LOAD_BATCH) {
        let mut batch = Batch::new();
        for (tree, key, value) in chunk {
            batch.put(*tree, key.clone(), value.clone());
        }
        store.apply(batch)?;
    }
    store.sync()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemoryDisk;
    use crate::store::MemoryStore;

    fn filled() -> MemoryStore {
        let store = MemoryStore::default();
        let mut b = Batch::new();
        b.put(
            Tree::Meta,
            SCHEMA_KEY.to_vec(),
            SCHEMA_VERSION.to_be_bytes(),
        );
        b.put(
            Tree::Members,
            7u64.to_be_bytes(),
            b"{\"id\":7,\"name\":\"een\",\"layer\":null}".to_vec(),
        );
        b.put(
            Tree::RoundsByChannel,
            b"w\xffbinary\x00".to_vec(),
            Vec::new(),
        );
        store.commit(b).unwrap();
        store
    }

    /// The backup at `path` with its lines replaced and its count and checksum made to match,
    /// as someone editing it on purpose would.
    fn rewrite_with_checksum(
        disk: &MemoryDisk,
        path: &Path,
        edit: impl Fn(Vec<String>) -> Vec<String>,
    ) {
        let text = disk.read_to_string(path).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.pop();
        let lines = edit(lines);
        let mut crc = crc32fast::Hasher::new();
        let mut out = String::new();
        for l in &lines {
            let l = format!("{l}\n");
            crc.update(l.as_bytes());
            out.push_str(&l);
        }
        let footer = Footer {
            entries: lines.len() as u64 - 1,
            crc32: crc.finalize(),
        };
        out.push_str(&(json_line(&footer) + "\n"));
        disk.write_private(path, out.as_bytes()).unwrap();
    }

    #[test]
    fn a_record_that_does_not_read_is_refused_though_its_checksum_matches() {
        let disk = MemoryDisk::default();
        let path = Path::new("/backups/b.jsonl");
        write_backup(&disk, &filled(), path).unwrap();
        rewrite_with_checksum(&disk, path, |mut lines| {
            let broken = Line {
                tree: "members".into(),
                key: B64.encode(8u64.to_be_bytes()),
                value: B64.encode(b"{\"id\":\"not a number\"}"),
            };
            lines.push(json_line(&broken));
            lines
        });
        match read_backup(&disk, path).unwrap_err() {
            BackupError::BadRecord { line, tree, .. } => {
                assert_eq!((line, tree), (5, "members"));
            }
            other => panic!("{other:?}"),
        }
        // An index entry no lesson gives.
        write_backup(&disk, &filled(), path).unwrap();
        rewrite_with_checksum(&disk, path, |mut lines| {
            let stray = Line {
                tree: "lesson_index".into(),
                key: B64.encode(b"w\xffword"),
                value: B64.encode(b"not a bitmap"),
            };
            lines.push(json_line(&stray));
            lines
        });
        assert!(matches!(
            read_backup(&disk, path).unwrap_err(),
            BackupError::BadIndex { .. }
        ));
    }

    #[test]
    fn endless_or_overlong_lines_are_refused_without_reading_them_whole() {
        let disk = MemoryDisk::default();
        // No line end at all: not a backup, found within the header's few kilobytes.
        let started = std::time::Instant::now();
        assert!(matches!(
            stream(std::io::repeat(0), Path::new("/dev/zero"), |_, _, _, _| Ok(
                ()
            ))
            .unwrap_err(),
            BackupError::NotABackup { .. }
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let path = Path::new("/backups/b.jsonl");
        write_backup(&disk, &filled(), path).unwrap();
        let mut text = disk.read_to_string(path).unwrap();
        let first_end = text.find('\n').unwrap() + 1;
        text.insert_str(first_end, &"x".repeat(MAX_LINE + 10));
        disk.write_private(path, text.as_bytes()).unwrap();
        match read_backup(&disk, path).unwrap_err() {
            BackupError::LineTooLong { line, max, .. } => assert_eq!((line, max), (2, MAX_LINE)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_backup_reads_back_entry_for_entry() {
        let disk = MemoryDisk::default();
        let path = Path::new("/backups/b.jsonl");
        let store = filled();
        let summary = write_backup(&disk, &store, path).unwrap();
        assert_eq!(summary.entries, 3);
        assert_eq!(disk.files().len(), 1, "nothing beside it");
        let back = read_backup(&disk, path).unwrap();
        assert_eq!(back.summary, summary);
        let copy = MemoryStore::default();
        load_backup(&copy, &back).unwrap();
        assert_eq!(copy.snapshot().unwrap(), store.snapshot().unwrap());
    }

    #[test]
    fn a_cut_edited_extended_or_newer_backup_is_refused() {
        let disk = MemoryDisk::default();
        let path = Path::new("/backups/b.jsonl");
        write_backup(&disk, &filled(), path).unwrap();
        let good = disk.read_to_string(path).unwrap();
        let lines: Vec<&str> = good.lines().collect();
        let check = |text: String| {
            disk.write_private(path, text.as_bytes()).unwrap();
            read_backup(&disk, path).expect_err("must be refused")
        };
        // Cut at a line boundary: the last line is missing.
        let cut = lines[..lines.len() - 1].join("\n") + "\n";
        assert!(matches!(check(cut), BackupError::Truncated { .. }));
        // Cut inside a line.
        let half = good[..good.len() - 5].to_owned();
        assert!(matches!(check(half), BackupError::Truncated { .. }));
        // A line dropped: the count and checksum no longer match.
        let dropped = [lines[0], lines[2], lines[3], lines[4]].join("\n") + "\n";
        assert!(matches!(check(dropped), BackupError::Changed { .. }));
        // A value changed but still valid base64.
        let edited = good.replacen("\"value\":\"e", "\"value\":\"f", 1);
        assert_ne!(edited, good);
        assert!(matches!(check(edited), BackupError::Changed { .. }));
        let extended = good.clone() + &good;
        assert!(matches!(check(extended), BackupError::Changed { .. }));
        assert!(matches!(
            check("{\"hello\":1}\n".into()),
            BackupError::NotABackup { .. }
        ));
        disk.write_private(path, good.as_bytes()).unwrap();
        read_backup(&disk, path).expect("the unchanged file reads");

        let newer = MemoryStore::default();
        let mut b = Batch::new();
        b.put(
            Tree::Meta,
            SCHEMA_KEY.to_vec(),
            (SCHEMA_VERSION + 1).to_be_bytes(),
        );
        newer.commit(b).unwrap();
        write_backup(&disk, &newer, path).unwrap();
        assert!(matches!(
            read_backup(&disk, path).unwrap_err(),
            BackupError::NewerSchema { .. }
        ));
    }
}
