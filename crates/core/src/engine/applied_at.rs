//! The applications in the order they were made ([`Tree::AppliedAt`]), so the review queue
//! finds the lessons applied since its cutoff by reading that period's lists, not every
//! application the academy ever kept.
//!
//! Two kinds of entries, both derived from the applications: one per application
//! (`T` ++ instant ++ lesson id ++ user id, no value), and per month (UTC) the list of the
//! lessons applied in it (`M` ++ month → posting list). A period is read as the month lists
//! after its first month and that month's entries from the period's first instant on.
//! Every batch the engine commits passes [`Engine::note_applications`], which moves an
//! application's entry with the application (written, moved when a member applies a lesson
//! again, removed with it: a deleted lesson, a member's data deleted) and keeps a lesson on a
//! month's list while any application of it in that month remains. `academie check` and a
//! backup's check compare the entries with the ones the applications give, and the schema 8
//! step lists those already stored.

use super::{decode, Engine, Failure};
use crate::domain::LessonId;
use crate::postings::{self, Ids};
use crate::search::{instant_key, month_key, month_number};
use crate::store::{Batch, Tree};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};

const TIME: u8 = b'T';
const MONTH: u8 = b'M';

/// What an entry needs of an application: when it was made.
#[derive(serde::Deserialize)]
struct When {
    at: DateTime<Utc>,
}

/// The entry of the application stored at `key` (lesson id ++ user id) and made at `at`.
fn time_entry(at: DateTime<Utc>, key: &[u8]) -> Vec<u8> {
    [&[TIME], instant_key(at).as_slice(), key].concat()
}

/// The list of the lessons applied in `month` (a [`month_number`]).
fn month_entry(month: i32) -> Vec<u8> {
    [&[MONTH], month_key(month).as_slice()].concat()
}

fn month_of(at: DateTime<Utc>) -> i32 {
    month_number(at.date_naive())
}

/// When the application stored at `key` with `value` was made.
fn made_at(key: &[u8], value: &[u8]) -> Result<DateTime<Utc>, Failure> {
    Ok(decode::<When>(Tree::Applications, key, value)?.at)
}

/// The entries the applications give, gathered one application at a time, each with where the
/// first application that gives it was found (a backup's line), so a difference can be told.
#[derive(Debug, Default)]
pub struct Expected {
    times: BTreeMap<Vec<u8>, usize>,
    months: BTreeMap<Vec<u8>, (Ids, usize)>,
}

impl Expected {
    /// Adds the application stored at `key`, made at `at`, found at `line`.
    pub fn add(&mut self, key: &[u8], at: DateTime<Utc>, line: usize) {
        self.times.entry(time_entry(at, key)).or_insert(line);
        if let Some(lesson) = LessonId::from_key(key) {
            let list = self
                .months
                .entry(month_entry(month_of(at)))
                .or_insert_with(|| (Ids::new(), line));
            list.0.insert(lesson.0);
        }
    }

    /// Every entry, as stored: for a new list.
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let times = self.times.keys().map(|k| (k.clone(), Vec::new()));
        let months = self
            .months
            .iter()
            .map(|(k, (ids, _))| (k.clone(), postings::encode(ids)));
        times.chain(months).collect()
    }

    /// Where `stored` (key → value and where it was found) differs from these: an entry no
    /// application gives or that holds something else (its place, in [`Tree::AppliedAt`]),
    /// or one an application gives that is not stored (the application's place, in
    /// [`Tree::Applications`]), each with a sentence.
    pub fn differences(
        &self,
        stored: &BTreeMap<Vec<u8>, (Vec<u8>, usize)>,
    ) -> Vec<(usize, Tree, String)> {
        let mut out = Vec::new();
        for (key, (value, line)) in stored {
            let same = match (self.times.contains_key(key), self.months.get(key)) {
                (true, _) => value.is_empty(),
                (_, Some((ids, _))) => postings::decode(value).is_ok_and(|v| &v == ids),
                _ => false,
            };
            if !same {
                out.push((
                    *line,
                    Tree::AppliedAt,
                    format!("holds {key:02x?}, which is not what the applications give"),
                ));
            }
        }
        let wanted = self
            .times
            .iter()
            .chain(self.months.iter().map(|(k, (_, line))| (k, line)));
        for (key, line) in wanted {
            if !stored.contains_key(key) {
                out.push((
                    *line,
                    Tree::Applications,
                    format!("gives {key:02x?}, which is not stored"),
                ));
            }
        }
        out
    }
}

/// The first instant of the month after `at`'s (UTC), if the calendar has one.
fn next_month_start(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(at.year(), at.month(), 1)?
        .checked_add_months(chrono::Months::new(1))?
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
}

impl Engine {
    /// Adds to `batch` what changes in the applications' entries through the applications it
    /// writes and removes: each one's entry as stored goes, its entry as the batch leaves it
    /// comes, and a lesson stays on a month's list while any of its applications, as the batch
    /// leaves them, was made in that month. Called under the write lock, so the stored
    /// application is the one replaced.
    pub(super) fn note_applications(&self, batch: &mut Batch) -> Result<(), Failure> {
        let keys: BTreeSet<Vec<u8>> = batch
            .ops()
            .iter()
            .filter(|(tree, _, _)| *tree == Tree::Applications)
            .map(|(_, key, _)| key.clone())
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let mut entries = Vec::new();
        // (lesson, month) whose list may change.
        let mut months = BTreeSet::new();
        for key in &keys {
            let before = match self.store.get(Tree::Applications, key)? {
                Some(value) => Some(made_at(key, &value)?),
                None => None,
            };
            let after = match batch.pending(Tree::Applications, key) {
                Some(Some(value)) => Some(made_at(key, value)?),
                _ => None,
            };
            if before == after {
                continue;
            }
            entries.push((
                before.map(|at| time_entry(at, key)),
                after.map(|at| time_entry(at, key)),
            ));
            if let Some(lesson) = LessonId::from_key(key) {
                for at in before.iter().chain(after.iter()) {
                    months.insert((lesson, month_of(*at)));
                }
            }
        }
        // Whether each lesson is applied in each month, from its applications as the batch
        // leaves them: a lesson has few.
        let mut on_list = Vec::new();
        let mut made: BTreeMap<LessonId, Vec<i32>> = BTreeMap::new();
        for (lesson, month) in months {
            if let std::collections::btree_map::Entry::Vacant(slot) = made.entry(lesson) {
                let mut applications: BTreeMap<Vec<u8>, Vec<u8>> = self
                    .store
                    .scan_prefix(Tree::Applications, &lesson.key())?
                    .into_iter()
                    .collect();
                for (tree, key, value) in batch.ops() {
                    if *tree == Tree::Applications && key.starts_with(&lesson.key()) {
                        match value {
                            Some(v) => applications.insert(key.clone(), v.clone()),
                            None => applications.remove(key),
                        };
                    }
                }
                let mut list = Vec::new();
                for (key, value) in &applications {
                    list.push(month_of(made_at(key, value)?));
                }
                slot.insert(list);
            }
            let applied = made.get(&lesson).is_some_and(|m| m.contains(&month));
            on_list.push((lesson, month, applied));
        }
        for (before, after) in entries {
            if let Some(gone) = before {
                batch.remove(Tree::AppliedAt, gone);
            }
            if let Some(new) = after {
                batch.put(Tree::AppliedAt, new, Vec::new());
            }
        }
        for (lesson, month, applied) in on_list {
            let key = month_entry(month);
            let mut ids = match batch.pending(Tree::AppliedAt, &key) {
                Some(Some(bytes)) => postings::decode(bytes)?,
                Some(None) => Ids::new(),
                None => match self.store.get(Tree::AppliedAt, &key)? {
                    Some(bytes) => postings::decode(&bytes)?,
                    None => Ids::new(),
                },
            };
            let changed = if applied {
                ids.insert(lesson.0)
            } else {
                ids.remove(lesson.0)
            };
            if !changed {
                continue;
            }
            if ids.is_empty() {
                batch.remove(Tree::AppliedAt, key);
            } else {
                batch.put(Tree::AppliedAt, key, postings::encode(&ids));
            }
        }
        Ok(())
    }

    /// The lessons applied at `from` or later: the month lists after `from`'s month, and the
    /// entries of that month from `from` on.
    pub(super) fn applied_since(&self, from: DateTime<Utc>) -> Result<Ids, Failure> {
        let mut ids = Ids::new();
        let later = month_entry(month_of(from) + 1);
        for (_, bytes) in self
            .store
            .scan_range(Tree::AppliedAt, &later, &[MONTH + 1])?
        {
            ids |= postings::decode(&bytes)?;
        }
        let start = time_entry(from, &[]);
        let end = match next_month_start(from) {
            Some(next) => time_entry(next, &[]),
            None => vec![TIME + 1],
        };
        for (key, _) in self.store.scan_range(Tree::AppliedAt, &start, &end)? {
            if let Some(lesson) = key.get(13..21).and_then(LessonId::from_key) {
                ids.insert(lesson.0);
            }
        }
        Ok(ids)
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
        let mut expected = Expected::default();
        for (key, value) in self.store.scan_prefix(Tree::Applications, &[])? {
            expected.add(&key, made_at(&key, &value)?, 0);
        }
        for (key, value) in expected.entries() {
            batch.put(Tree::AppliedAt, key, value);
            if batch.len() >= PER_BATCH {
                self.commit(std::mem::take(&mut batch))?;
            }
        }
        Ok(batch)
    }
}
