//! Finding lessons: the secondary index kept beside the lessons tree, and queries over it.
//!
//! Every lesson has index entries derived from its current state ([`index_entries`]); the
//! engine writes the difference between the old and new entries in the same batch as the
//! lesson ([`write_index`]), so the index is never out of step. Entries of a kind that is
//! searched (status, order, step, perspective, tag, channel, day, word, featured) are kept as
//! posting lists — one compressed set of lesson ids per value (see [`crate::postings`]) — so a
//! library of years stays small and a query reads a few values; the author and library-key
//! entries stay one key per lesson, as do the reviewer entries (who last reviewed a lesson, for
//! a member's export). Facet, word and review-day entries exist only for approved lessons, so
//! a search never even sees a pending or rejected one; the review day (when an approved lesson
//! was last approved or confirmed) finds the lessons due for re-review without reading them. A
//! list per collaboration, learning order and month, and one per month of review, count a
//! period's lessons from that period's lists rather than from the whole library. Words are folded (lowercase, accents
//! removed) and matched by prefix, so `samenwerk` finds `samenwerking` and `cooperatief` finds
//! `coöperatief`.

use crate::domain::{ChannelId, Lesson, LessonId, LessonStatus, Order, Perspective, Step, UserId};
use crate::postings;
pub use crate::postings::Ids;
use crate::store::{Batch, Store, StoreError, Tree};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};
use unicode_normalization::UnicodeNormalization;

const STATUS: u8 = b'S';
const AUTHOR: u8 = b'a';
const LIBRARY_KEY: u8 = b'k';
const ORDER: u8 = b'o';
const STEP: u8 = b's';
const PERSPECTIVE: u8 = b'p';
const TAG: u8 = b't';
const CHANNEL: u8 = b'c';
const DATE: u8 = b'd';
const WORD: u8 = b'w';
const FEATURED: u8 = b'f';
const REVIEWER: u8 = b'v';
const REVIEWED: u8 = b'r';
const CHANNEL_MONTH: u8 = b'm';
const REVIEWED_MONTH: u8 = b'R';

/// What a member asks for; every filter is optional and they combine with "and".
/// Not stored as such: a button carries it in its custom_id, the outbox as its own stored type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: Option<String>,
    pub order: Option<Order>,
    pub step: Option<Step>,
    pub perspective: Option<Perspective>,
    pub tag: Option<String>,
    pub channel: Option<ChannelId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Zero-based page.
    pub page: usize,
}

/// Text folded for matching: lowercase, without accents.
fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Folds text to the words the index keeps: lowercase, without accents, letters and digits only,
/// at least two characters long.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.chars().take(40).collect())
        .collect()
}

/// A tag as stored: folded like words, its letters and digits (single ones too, as in `x` or
/// `e-mail`) joined by hyphens. `None` when no letter or digit is left.
pub fn normalize_tag(tag: &str) -> Option<String> {
    let t = fold(tag)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    (!t.is_empty()).then_some(t)
}

fn status_byte(s: LessonStatus) -> u8 {
    match s {
        LessonStatus::Pending => 0,
        LessonStatus::Approved => 1,
        LessonStatus::Rejected => 2,
    }
}

/// A timestamp as key bytes that sort in time order.
pub fn time_key(t: DateTime<Utc>) -> [u8; 8] {
    // Flip the sign bit so negative timestamps still sort before positive ones.
    ((t.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

fn key(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The posting list of the lessons with a given status.
fn status_list(status: LessonStatus) -> Vec<u8> {
    vec![STATUS, status_byte(status)]
}

/// A day as key bytes that sort in time order: days since 1970, sign bit flipped.
fn day_key(date: NaiveDate) -> [u8; 4] {
    let days = (date - NaiveDate::default()).num_days() as i32;
    ((days as u32) ^ (1 << 31)).to_be_bytes()
}

/// A month as a number that counts on across years: year × 12 + month, from zero.
fn month_number(date: NaiveDate) -> i32 {
    date.year() * 12 + date.month0() as i32
}

/// A month's number as key bytes that sort in time order.
fn month_key(month: i32) -> [u8; 4] {
    ((month as u32) ^ (1 << 31)).to_be_bytes()
}

/// The start of the month lists of a collaboration's lessons of one learning order.
fn channel_month_prefix(channel: ChannelId, order: Order) -> Vec<u8> {
    key(&[&[CHANNEL_MONTH], &channel.key(), &[order.byte()]])
}

/// Whether entries of this kind are kept as posting lists rather than one key per lesson.
fn is_posting(entry: &[u8]) -> bool {
    !matches!(entry.first(), Some(&AUTHOR | &LIBRARY_KEY | &REVIEWER))
}

pub fn author_prefix(user: UserId) -> Vec<u8> {
    key(&[&[AUTHOR], &user.key()])
}

/// The entries of the lessons `user` reviewed last (approved, rejected, edited or confirmed).
pub fn reviewer_prefix(user: UserId) -> Vec<u8> {
    key(&[&[REVIEWER], &user.key()])
}

pub fn library_key(k: &str) -> Vec<u8> {
    key(&[&[LIBRARY_KEY], k.as_bytes()])
}

/// The last eight bytes of an index key are the lesson id.
pub fn id_of(index_key: &[u8]) -> Option<LessonId> {
    LessonId::from_key(index_key.get(index_key.len().checked_sub(8)?..)?)
}

/// All index entries a lesson should have in its current state.
pub fn index_entries(lesson: &Lesson) -> BTreeSet<Vec<u8>> {
    let id = lesson.id.key();
    let mut out = BTreeSet::new();
    out.insert(key(&[&status_list(lesson.status), &id]));
    if let Some(author) = lesson.author {
        out.insert(key(&[&author_prefix(author), &id]));
    }
    if let Some(reviewer) = lesson.reviewed_by {
        out.insert(key(&[&reviewer_prefix(reviewer), &id]));
    }
    if !lesson.is_public() {
        return out;
    }
    let reviewed = lesson.reviewed_at.unwrap_or(lesson.created_at).date_naive();
    out.insert(key(&[&[REVIEWED], &day_key(reviewed), &id]));
    out.insert(key(&[
        &[REVIEWED_MONTH],
        &month_key(month_number(reviewed)),
        &id,
    ]));
    out.insert(key(&[&[ORDER, lesson.order.byte()], &id]));
    for s in &lesson.steps {
        out.insert(key(&[&[STEP, s.byte()], &id]));
    }
    if let Some(p) = lesson.perspective {
        out.insert(key(&[&[PERSPECTIVE, p.byte()], &id]));
    }
    for t in &lesson.tags {
        out.insert(key(&[&[TAG], t.as_bytes(), &[0], &id]));
        for w in words(t) {
            out.insert(key(&[&[WORD], w.as_bytes(), &[0], &id]));
        }
    }
    if let Some(c) = lesson.channel {
        out.insert(key(&[&[CHANNEL], &c.key(), &id]));
        out.insert(key(&[
            &channel_month_prefix(c, lesson.order),
            &month_key(month_number(lesson.created_at.date_naive())),
            &id,
        ]));
    }
    out.insert(key(&[
        &[DATE],
        &day_key(lesson.created_at.date_naive()),
        &id,
    ]));
    if lesson.featured {
        out.insert(key(&[&[FEATURED], &id]));
    }
    let texts = std::iter::once(&lesson.text).chain(lesson.translation.as_ref());
    for t in texts {
        for field in [&t.title, &t.happened, &t.lesson] {
            for w in words(field) {
                out.insert(key(&[&[WORD], w.as_bytes(), &[0], &id]));
            }
        }
    }
    out
}

/// Writes into `batch` what changes in the index when a lesson's entries go from `before` to
/// `after` (empty for a new or a removed lesson). Reads lists as the batch leaves them, so
/// several lessons can change in one batch.
pub fn write_index(
    store: &dyn Store,
    batch: &mut Batch,
    before: &BTreeSet<Vec<u8>>,
    after: &BTreeSet<Vec<u8>>,
) -> Result<(), StoreError> {
    let mut delta = IndexDelta::default();
    delta.change(before, after);
    delta.apply(store, batch, true)
}

/// The index changes of many lessons, gathered first and written with each posting list read
/// and written once: a batch of a thousand lessons (an import) would otherwise rewrite the
/// common words' lists a thousand times, each time finding them among the batch's writes.
#[derive(Debug, Default)]
pub struct IndexDelta {
    /// List → (ids added, ids removed).
    lists: BTreeMap<Vec<u8>, (Vec<u64>, Vec<u64>)>,
    /// One-key entries: written (true) or removed.
    keys: BTreeMap<Vec<u8>, bool>,
}

impl IndexDelta {
    /// Adds a lesson's change from the entries `before` to `after`.
    pub fn change(&mut self, before: &BTreeSet<Vec<u8>>, after: &BTreeSet<Vec<u8>>) {
        for gone in before.difference(after) {
            match split(gone) {
                Some((list, id)) if is_posting(gone) => {
                    self.lists.entry(list.to_vec()).or_default().1.push(id)
                }
                _ => {
                    self.keys.insert(gone.clone(), false);
                }
            }
        }
        for added in after.difference(before) {
            match split(added) {
                Some((list, id)) if is_posting(added) => {
                    self.lists.entry(list.to_vec()).or_default().0.push(id)
                }
                _ => {
                    self.keys.insert(added.clone(), true);
                }
            }
        }
    }

    /// Writes the changes into `batch`, reading each list as stored: for a batch that changes
    /// the index only through this delta.
    pub fn write(self, store: &dyn Store, batch: &mut Batch) -> Result<(), StoreError> {
        self.apply(store, batch, false)
    }

    /// Writes the changes; `pending` reads each list as the batch leaves it.
    fn apply(self, store: &dyn Store, batch: &mut Batch, pending: bool) -> Result<(), StoreError> {
        for (key, put) in self.keys {
            if put {
                batch.put(Tree::LessonIndex, key, Vec::new());
            } else {
                batch.remove(Tree::LessonIndex, key);
            }
        }
        for (list, (add, remove)) in self.lists {
            if pending {
                postings::update(store, batch, &list, &add, &remove)?;
                continue;
            }
            let mut ids = postings::get(store, &list)?;
            for id in remove {
                ids.remove(id);
            }
            for id in add {
                ids.insert(id);
            }
            if ids.is_empty() {
                batch.remove(Tree::LessonIndex, list);
            } else {
                batch.put(Tree::LessonIndex, list, postings::encode(&ids));
            }
        }
        Ok(())
    }
}

/// The whole index of many lessons at once, for a fresh store or a rebuild: lists are built in
/// memory and each written once, instead of rewritten for every lesson.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    lists: BTreeMap<Vec<u8>, Ids>,
    keys: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl IndexBuilder {
    pub fn add(&mut self, lesson: &Lesson) {
        for entry in index_entries(lesson) {
            match split(&entry) {
                Some((list, id)) if is_posting(&entry) => {
                    self.lists.entry(list.to_vec()).or_default().insert(id);
                }
                _ => {
                    self.keys.insert(entry, Vec::new());
                }
            }
        }
        if let Some(k) = &lesson.key {
            self.keys.insert(library_key(k), lesson.id.key().to_vec());
        }
    }

    /// Writes everything, `per_batch` entries to a commit, over an index that holds none of it.
    pub fn write(self, store: &dyn Store, per_batch: usize) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        let lists = self
            .lists
            .into_iter()
            .map(|(k, ids)| (k, postings::encode(&ids)));
        for (key, value) in lists.chain(self.keys) {
            batch.put(Tree::LessonIndex, key, value);
            if batch.len() >= per_batch.max(1) {
                store.commit(std::mem::take(&mut batch))?;
            }
        }
        store.commit(batch)
    }
}

/// An entry's posting list and lesson id.
fn split(entry: &[u8]) -> Option<(&[u8], u64)> {
    let (list, id) = entry.split_at(entry.len().checked_sub(8)?);
    Some((list, id_of(id)?.0))
}

/// The ids of the lessons with a given status, oldest first.
pub fn with_status(store: &dyn Store, status: LessonStatus) -> Result<Vec<LessonId>, StoreError> {
    Ok(postings::get(store, &status_list(status))?
        .iter()
        .map(LessonId)
        .collect())
}

/// The ids of the approved lessons matching `query`: featured first, then newest first.
/// Without any filter, every approved lesson matches; a filter with nothing searchable in it,
/// none.
pub fn find(store: &dyn Store, query: &SearchQuery) -> Result<Vec<LessonId>, StoreError> {
    find_except(store, query, &[])
}

/// As [`find`], leaving out the lessons shared in the `hidden` channels (collaborations whose
/// lessons the searcher may not see).
pub fn find_except(
    store: &dyn Store,
    query: &SearchQuery,
    hidden: &[ChannelId],
) -> Result<Vec<LessonId>, StoreError> {
    let mut result = matching(store, query)?;
    for c in hidden {
        if result.is_empty() {
            break;
        }
        result -= postings::get(store, &key(&[&[CHANNEL], &c.key()]))?;
    }
    let featured = postings::get(store, &[FEATURED])? & &result;
    let rest = result - &featured;
    // Both iterate in ascending id order: newest first is the same walk backwards.
    Ok(featured
        .iter()
        .rev()
        .chain(rest.iter().rev())
        .map(LessonId)
        .collect())
}

/// The set of approved lessons matching `query`, in no particular order: for counting and
/// narrowing without reading a lesson.
pub fn matching(store: &dyn Store, query: &SearchQuery) -> Result<Ids, StoreError> {
    // Search words or a tag given with nothing searchable in them (`!!`, `a`) match nothing:
    // dropping them would answer with every lesson.
    fn given(t: &Option<String>) -> Option<&str> {
        t.as_deref().filter(|t| !t.trim().is_empty())
    }
    if given(&query.text).is_some_and(|t| words(t).is_empty())
        || given(&query.tag).is_some_and(|t| normalize_tag(t).is_none())
    {
        return Ok(Ids::new());
    }
    let mut sets: Vec<Ids> = Vec::new();
    if let Some(o) = query.order {
        sets.push(postings::get(store, &[ORDER, o.byte()])?);
    }
    if let Some(s) = query.step {
        sets.push(postings::get(store, &[STEP, s.byte()])?);
    }
    if let Some(p) = query.perspective {
        sets.push(postings::get(store, &[PERSPECTIVE, p.byte()])?);
    }
    if let Some(t) = query.tag.as_deref().and_then(normalize_tag) {
        sets.push(postings::get(store, &key(&[&[TAG], t.as_bytes(), &[0]]))?);
    }
    if let Some(c) = query.channel {
        sets.push(postings::get(store, &key(&[&[CHANNEL], &c.key()]))?);
    }
    if query.from.is_some() || query.to.is_some() {
        sets.push(days(store, DATE, query.from, query.to)?);
    }
    for term in query.text.as_deref().map(words).unwrap_or_default() {
        sets.push(postings::union_prefix(
            store,
            &key(&[&[WORD], term.as_bytes()]),
        )?);
    }
    if sets.is_empty() {
        sets.push(postings::get(store, &status_list(LessonStatus::Approved))?);
    }
    sets.sort_by_key(Ids::len);
    let mut iter = sets.into_iter();
    let mut result = iter.next().unwrap_or_default();
    for s in iter {
        result &= s;
        if result.is_empty() {
            break;
        }
    }
    Ok(result)
}

/// The union of the day lists of `kind` from `from` to `to`, both included (open ends: every
/// day before or after).
fn days(
    store: &dyn Store,
    kind: u8,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Ids, StoreError> {
    let start = from.map_or([0; 4], day_key);
    // The end is exclusive: the day after `to`, or past every day.
    let end: Vec<u8> = match to.and_then(|d| d.succ_opt()) {
        Some(after) => key(&[&[kind], &day_key(after)]),
        None => vec![kind + 1],
    };
    let mut all = Ids::new();
    for (_, bytes) in store.scan_range(Tree::LessonIndex, &key(&[&[kind], &start]), &end)? {
        all |= postings::decode(&bytes)?;
    }
    Ok(all)
}

/// A collaboration's approved lessons of each learning order created on `day` or later: per
/// order, how many were created after `day`, and which were created on `day` itself (UTC),
/// which only their time can place. Whole months after `day`'s are counted from the lengths
/// of their month lists, the rest of `day`'s month from its list and the day lists, so the
/// work follows the months and days asked for, not the history of the library.
pub fn per_order_from(
    store: &dyn Store,
    channel: ChannelId,
    day: NaiveDate,
) -> Result<Vec<(Order, u64, Ids)>, StoreError> {
    let month = month_number(day);
    let mut out = Vec::with_capacity(Order::ALL.len());
    // The day lists of `day`'s month, read once for every order, and only when needed.
    let mut month_days: Option<(Ids, Ids)> = None;
    for &order in Order::ALL {
        let prefix = channel_month_prefix(channel, order);
        let mut after = 0;
        let later = key(&[&prefix, &month_key(month + 1)]);
        let end = key(&[&prefix, &[0xff; 5]]);
        for (_, bytes) in store.scan_range(Tree::LessonIndex, &later, &end)? {
            after += postings::decode(&bytes)?.len();
        }
        let first = postings::get(store, &key(&[&prefix, &month_key(month)]))?;
        let mut on_day = Ids::new();
        if !first.is_empty() {
            let (on, rest) = match month_days.take() {
                Some(known) => known,
                None => month_days_of(store, day)?,
            };
            after += first.intersection_len(&rest);
            on_day = first & &on;
            month_days = Some((on, rest));
        }
        out.push((order, after, on_day));
    }
    Ok(out)
}

/// The last day of `day`'s month.
fn last_of_month(day: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(day.year(), day.month(), 1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .and_then(|d| d.pred_opt())
}

/// The approved lessons created on `day`, and those created later in its month.
fn month_days_of(store: &dyn Store, day: NaiveDate) -> Result<(Ids, Ids), StoreError> {
    let on = days(store, DATE, Some(day), Some(day))?;
    let rest = match (day.succ_opt(), last_of_month(day)) {
        (Some(next), Some(last)) if next <= last => days(store, DATE, Some(next), Some(last))?,
        _ => Ids::new(),
    };
    Ok((on, rest))
}

/// The ids of the lessons with a given status, as a set.
pub fn status_set(store: &dyn Store, status: LessonStatus) -> Result<Ids, StoreError> {
    postings::get(store, &status_list(status))
}

/// The approved lessons last approved or confirmed on `day` or later: the month lists after
/// `day`'s month, and the day lists of the rest of it, so a period of months reads a few
/// dozen lists however many years the library holds.
pub fn reviewed_from(store: &dyn Store, day: NaiveDate) -> Result<Ids, StoreError> {
    let later = key(&[&[REVIEWED_MONTH], &month_key(month_number(day) + 1)]);
    let mut all = Ids::new();
    for (_, bytes) in store.scan_range(Tree::LessonIndex, &later, &[REVIEWED_MONTH + 1])? {
        all |= postings::decode(&bytes)?;
    }
    if let Some(last) = last_of_month(day) {
        all |= days(store, REVIEWED, Some(day), Some(last))?;
    }
    Ok(all)
}

/// The approved lessons last approved or confirmed on `day` itself.
pub fn reviewed_on(store: &dyn Store, day: NaiveDate) -> Result<Ids, StoreError> {
    days(store, REVIEWED, Some(day), Some(day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_split() {
        assert_eq!(
            words("Coöperatief  samenwerken, bij het RIJK!"),
            vec!["cooperatief", "samenwerken", "bij", "het", "rijk"]
        );
        assert_eq!(words("a @everyone"), vec!["everyone"]);
        assert!(words("   ").is_empty());
    }

    #[test]
    fn tags_are_normalized() {
        assert_eq!(
            normalize_tag("Regionale Tafel"),
            Some("regionale-tafel".into())
        );
        assert_eq!(normalize_tag("!!"), None);
        assert_eq!(normalize_tag("x"), Some("x".into()));
        assert_eq!(normalize_tag("E-mail"), Some("e-mail".into()));
    }

    #[test]
    fn time_keys_sort_in_time_order() {
        let a = DateTime::<Utc>::MIN_UTC;
        let b = DateTime::from_timestamp(0, 0).unwrap();
        let c = DateTime::from_timestamp(1_000, 0).unwrap();
        assert!(time_key(a) < time_key(b) && time_key(b) < time_key(c));
    }
}
