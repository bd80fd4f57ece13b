//! The applications in the order they were made ([`Tree::AppliedAt`]), so the review queue
//! finds the lessons applied since its cutoff by reading that period's entries, not every
//! application the academy ever kept.
//!
//! Every batch the engine commits passes [`Engine::note_applications`], which moves an
//! application's entry with the application: written, moved to its new time when a member
//! applies a lesson again, removed with it (a deleted lesson, a member's data deleted). The
//! entries are derived, so `academie check` and a backup's check compare them with the ones the
//! applications give, and the schema 8 step lists those already stored.

use super::{decode, Engine, Failure};
use crate::domain::LessonId;
use crate::search::instant_key;
use crate::store::{Batch, Store, StoreError, Tree};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// What an entry needs of an application: when it was made.
#[derive(serde::Deserialize)]
struct When {
    at: DateTime<Utc>,
}

/// The entry of the application stored at `key` (lesson id ++ user id) and made at `at`.
pub(super) fn entry_key(at: DateTime<Utc>, key: &[u8]) -> Vec<u8> {
    [instant_key(at).as_slice(), key].concat()
}

/// The entry of the application stored at `key` with the value `value`.
pub(super) fn entry_of(key: &[u8], value: &[u8]) -> Result<Vec<u8>, Failure> {
    let when: When = decode(Tree::Applications, key, value)?;
    Ok(entry_key(when.at, key))
}

/// The entries every application in `store` gives: what the stored ones must be.
pub fn expected_entries(store: &dyn Store) -> Result<BTreeSet<Vec<u8>>, StoreError> {
    let mut out = BTreeSet::new();
    store.scan_each(Tree::Applications, &[], &mut |key, value| {
        let when: When = serde_json::from_slice(value)
            .map_err(|e| StoreError::Io(format!("an application cannot be read: {e}")))?;
        out.insert(entry_key(when.at, key));
        Ok(())
    })?;
    Ok(out)
}

impl Engine {
    /// Adds to `batch` what changes in the applications' entries through the applications it
    /// writes and removes: each one's entry as stored goes, its entry as the batch leaves it
    /// comes. Called under the write lock, so the stored application is the one replaced.
    pub(super) fn note_applications(&self, batch: &mut Batch) -> Result<(), Failure> {
        let keys: BTreeSet<&[u8]> = batch
            .ops()
            .iter()
            .filter(|(tree, _, _)| *tree == Tree::Applications)
            .map(|(_, key, _)| key.as_slice())
            .collect();
        let mut changes = Vec::new();
        for key in keys {
            let before = match self.store.get(Tree::Applications, key)? {
                Some(value) => Some(entry_of(key, &value)?),
                None => None,
            };
            let after = match batch.pending(Tree::Applications, key) {
                Some(Some(value)) => Some(entry_of(key, value)?),
                _ => None,
            };
            if before != after {
                changes.push((before, after));
            }
        }
        for (before, after) in changes {
            if let Some(gone) = before {
                batch.remove(Tree::AppliedAt, gone);
            }
            if let Some(new) = after {
                batch.put(Tree::AppliedAt, new, Vec::new());
            }
        }
        Ok(())
    }

    /// The lessons applied at `from` or later: the entries of that period alone.
    pub(super) fn applied_since(&self, from: DateTime<Utc>) -> Result<Vec<LessonId>, Failure> {
        // Past every entry: no instant's seconds reach all ones.
        let end = [0xff; 13];
        Ok(self
            .store
            .scan_range(Tree::AppliedAt, &instant_key(from), &end)?
            .iter()
            .filter_map(|(key, _)| key.get(12..20).and_then(LessonId::from_key))
            .collect())
    }

    /// Schema 7 → 8: lists the applications already stored. Derived, so written in several
    /// batches over an emptied list; until the version moves on, a crash means the next open
    /// lists them again.
    pub(super) fn list_applications(&self) -> Result<Batch, Failure> {
        const PER_BATCH: usize = 10_000;
        let mut batch = Batch::new();
        for (key, _) in self.store.scan_prefix(Tree::AppliedAt, &[])? {
            batch.remove(Tree::AppliedAt, key);
            if batch.len() >= PER_BATCH {
                self.commit(std::mem::take(&mut batch))?;
            }
        }
        self.commit(std::mem::take(&mut batch))?;
        for entry in expected_entries(self.store.as_ref())? {
            batch.put(Tree::AppliedAt, entry, Vec::new());
            if batch.len() >= PER_BATCH {
                self.commit(std::mem::take(&mut batch))?;
            }
        }
        Ok(batch)
    }
}
