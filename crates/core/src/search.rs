//! Finding lessons: the secondary index kept beside the lessons tree, and queries over it.
//!
//! Every lesson has index entries derived from its current state ([`index_entries`]); the
//! engine writes the difference between the old and new entries in the same batch as the
//! lesson ([`write_index`]), so the index is never out of step. Entries of a kind that is
//! searched (status, order, step, perspective, tag, channel, day, word, featured) are kept as
//! posting lists — one compressed set of lesson ids per value (see [`crate::postings`]) — so a
//! library of years stays small and a query reads a few values; the author and library-key
//! entries stay one key per lesson, as do the reviewer entries (who last reviewed a lesson, for
//! a member's export) and the instant an approved lesson was last approved or confirmed (so
//! the day a re-review period starts on is split without reading a lesson). Facet, word and review-day entries exist only for approved lessons, so
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
const REVIEWED_AT: u8 = b'W';

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

/// An instant as key bytes that sort in time order, to the nanosecond as stored, so a period
/// that starts at an instant takes exactly what happened at or after it.
pub fn instant_key(t: DateTime<Utc>) -> [u8; 12] {
    let mut out = [0; 12];
    // Flip the sign bit so instants before 1970 still sort first.
    out[..8].copy_from_slice(&((t.timestamp() as u64) ^ (1 << 63)).to_be_bytes());
    out[8..].copy_from_slice(&t.timestamp_subsec_nanos().to_be_bytes());
    out
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
pub(crate) fn month_number(date: NaiveDate) -> i32 {
    date.year() * 12 + date.month0() as i32
}

/// A month's number as key bytes that sort in time order.
pub(crate) fn month_key(month: i32) -> [u8; 4] {
    ((month as u32) ^ (1 << 31)).to_be_bytes()
}

/// The start of the month lists of a collaboration's lessons of one learning order.
fn channel_month_prefix(channel: ChannelId, order: Order) -> Vec<u8> {
    key(&[&[CHANNEL_MONTH], &channel.key(), &[order.byte()]])
}

/// Whether entries of this kind are kept as posting lists rather than one key per lesson.
pub(crate) fn is_posting(entry: &[u8]) -> bool {
    !matches!(
        entry.first(),
        Some(&AUTHOR | &LIBRARY_KEY | &REVIEWER | &REVIEWED_AT)
    )
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
    let reviewed_at = lesson.reviewed_at.unwrap_or(lesson.created_at);
    let reviewed = reviewed_at.date_naive();
    out.insert(key(&[&[REVIEWED], &day_key(reviewed), &id]));
    out.insert(key(&[&[REVIEWED_AT], &instant_key(reviewed_at), &id]));
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

/// Takes a removed lesson out of the index in `batch` the quick way: its own keys go, and it
/// joins the list of removed lessons ([`postings::GONE`]), which every read leaves out, while
/// the lists that hold it keep its id until [`lists_holding`] and [`forget_gone`] take it
/// out. Rewriting those lists (its words, its order, its collaboration, …) grows with the
/// library; a deletion's reply must not.
pub fn remove_later(
    store: &dyn Store,
    batch: &mut Batch,
    lesson: &Lesson,
) -> Result<(), StoreError> {
    let own: BTreeSet<Vec<u8>> = index_entries(lesson)
        .into_iter()
        .filter(|e| !is_posting(e))
        .collect();
    write_index(store, batch, &own, &BTreeSet::new())?;
    postings::update(store, batch, postings::GONE, &[lesson.id.0], &[])
}

/// The keys of the lists that still hold one of `gone`. It walks every list of the index, so
/// it is read without the write lock: no list gains a removed lesson's id afterwards.
pub fn lists_holding(store: &dyn Store, gone: &Ids) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut keys = Vec::new();
    if gone.is_empty() {
        return Ok(keys);
    }
    for kind in (0..=u8::MAX).filter(|k| is_posting(&[*k]) && [*k] != postings::GONE) {
        store.scan_each(Tree::LessonIndex, &[kind], &mut |key, value| {
            if !postings::decode(value)?.is_disjoint(gone) {
                keys.push(key.to_vec());
            }
            Ok(())
        })?;
    }
    Ok(keys)
}

/// Takes `gone` out of the lists at `keys` and out of the list of removed lessons, in
/// `batch`: a list left empty is removed, as a word nobody uses any more leaves the database.
pub fn forget_gone(
    store: &dyn Store,
    batch: &mut Batch,
    keys: &[Vec<u8>],
    gone: &Ids,
) -> Result<(), StoreError> {
    let ids: Vec<u64> = gone.iter().collect();
    for key in keys.iter().map(Vec::as_slice).chain([postings::GONE]) {
        postings::update(store, batch, key, &[], &ids)?;
    }
    Ok(())
}

/// What a copy of the index holds at `key` for `value` as stored: a list without `gone`
/// (`None` when nothing else is left in it, and for the list of removed lessons itself), any
/// other entry as it is.
pub fn without_gone(key: &[u8], value: &[u8], gone: &Ids) -> Result<Option<Vec<u8>>, StoreError> {
    if gone.is_empty() || !is_posting(key) {
        return Ok(Some(value.to_vec()));
    }
    if key == postings::GONE {
        return Ok(None);
    }
    let mut ids = postings::decode(value)?;
    if ids.is_disjoint(gone) {
        return Ok(Some(value.to_vec()));
    }
    ids -= gone;
    Ok((!ids.is_empty()).then(|| postings::encode(&ids)))
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
            let mut ids = postings::stored(store, &list)?;
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

    /// Every entry of the index, in key order, as the store holds them; built as it is
    /// handed on, so the whole index is never held twice.
    pub fn into_entries(self) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> {
        let mut lists = self
            .lists
            .into_iter()
            .map(|(k, ids)| (k, postings::encode(&ids)))
            .peekable();
        let mut keys = self.keys.into_iter().peekable();
        std::iter::from_fn(move || match (lists.peek(), keys.peek()) {
            (Some((a, _)), Some((b, _))) if a < b => lists.next(),
            (Some((a, _)), Some((b, _))) if a == b => {
                // Written after the lists, the other entry is the one the store keeps.
                lists.next();
                keys.next()
            }
            (Some(_), None) => lists.next(),
            _ => keys.next(),
        })
    }

    /// Writes everything, `per_batch` entries to a commit, over an index that holds none of it.
    pub fn write(self, store: &dyn Store, per_batch: usize) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        for (key, value) in self.into_entries() {
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
    postings::union_range(store, &key(&[&[kind], &start]), &end)
}

/// A collaboration's approved lessons of each learning order created on `day` or later: per
/// order, how many were created after `day`, and which were created on `day` itself (UTC),
/// which only their time can place. Whole months after `day`'s are counted from the lengths
/// of their month lists, the rest of `day`'s month from its list and the day lists on the
/// shorter side of `day`, so the work follows the months and days asked for (at most half a
/// month of day lists), not the history of the library.
pub fn per_order_from(
    store: &dyn Store,
    channel: ChannelId,
    day: NaiveDate,
) -> Result<Vec<(Order, u64, Ids)>, StoreError> {
    let month = month_number(day);
    let mut out = Vec::with_capacity(Order::ALL.len());
    // The day lists of `day`'s month, read once for every order, and only when needed.
    let mut month_days: Option<(Ids, AfterDay)> = None;
    for &order in Order::ALL {
        let prefix = channel_month_prefix(channel, order);
        let later = key(&[&prefix, &month_key(month + 1)]);
        let end = key(&[&prefix, &[0xff; 5]]);
        let mut after = postings::count_range(store, &later, &end)?;
        let first = postings::get(store, &key(&[&prefix, &month_key(month)]))?;
        let mut on_day = Ids::new();
        if !first.is_empty() {
            let (on, rest) = match month_days.take() {
                Some(known) => known,
                None => month_days_of(store, day)?,
            };
            after += rest.count(&first, &on);
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

/// How the part of a month from a day on is read with the fewest day lists.
enum MonthSplit {
    /// The day is the month's first: the whole month.
    Whole,
    /// Its days from the day to this last one.
    Later(NaiveDate),
    /// The whole month less its days from the first to this one, the day before.
    Earlier(NaiveDate, NaiveDate),
}

/// Whether `day`'s month from `day` on takes fewer day lists read forward, or from the
/// month's whole list less the days before. `None` only at the ends of the calendar.
fn month_split(day: NaiveDate) -> Option<MonthSplit> {
    let last = last_of_month(day)?;
    let first = NaiveDate::from_ymd_opt(day.year(), day.month(), 1)?;
    if day == first {
        return Some(MonthSplit::Whole);
    }
    let before = day.pred_opt()?;
    Some(if day.day0() < last.day() - day.day0() {
        MonthSplit::Earlier(first, before)
    } else {
        MonthSplit::Later(last)
    })
}

/// Which of a month's approved lessons were created after a day, told from its day lists.
enum AfterDay {
    /// Those created later in the month.
    Later(Ids),
    /// Those created earlier in the month: the rest of a month list less these and the day's.
    Earlier(Ids),
}

impl AfterDay {
    /// How many of `month` (lessons created in that month) were created after the day on
    /// which `on` were created.
    fn count(&self, month: &Ids, on: &Ids) -> u64 {
        match self {
            AfterDay::Later(later) => month.intersection_len(later),
            AfterDay::Earlier(earlier) => {
                month.len() - month.intersection_len(earlier) - month.intersection_len(on)
            }
        }
    }
}

/// The approved lessons created on `day`, and those that tell which were created later in its
/// month, from whichever side of `day` has fewer day lists.
fn month_days_of(store: &dyn Store, day: NaiveDate) -> Result<(Ids, AfterDay), StoreError> {
    let on = days(store, DATE, Some(day), Some(day))?;
    let after = match month_split(day) {
        Some(MonthSplit::Whole) => AfterDay::Earlier(Ids::new()),
        Some(MonthSplit::Earlier(first, before)) => {
            AfterDay::Earlier(days(store, DATE, Some(first), Some(before))?)
        }
        Some(MonthSplit::Later(last)) => match day.succ_opt() {
            Some(next) if next <= last => {
                AfterDay::Later(days(store, DATE, Some(next), Some(last))?)
            }
            _ => AfterDay::Later(Ids::new()),
        },
        None => AfterDay::Later(Ids::new()),
    };
    Ok((on, after))
}

/// The ids of every lesson there is: each has one status, so the three lists together.
pub fn every_lesson(store: &dyn Store) -> Result<Ids, StoreError> {
    let mut all = Ids::new();
    for status in [
        LessonStatus::Pending,
        LessonStatus::Approved,
        LessonStatus::Rejected,
    ] {
        all |= status_set(store, status)?;
    }
    Ok(all)
}

/// The ids of the lessons with a given status, as a set.
pub fn status_set(store: &dyn Store, status: LessonStatus) -> Result<Ids, StoreError> {
    postings::get(store, &status_list(status))
}

/// The approved lessons last approved or confirmed on `day` or later: the month lists after
/// `day`'s month, and the day lists of the rest of it, so a period of months reads a few
/// dozen lists however many years the library holds.
pub fn reviewed_from(store: &dyn Store, day: NaiveDate) -> Result<Ids, StoreError> {
    let month = month_number(day);
    let later = key(&[&[REVIEWED_MONTH], &month_key(month + 1)]);
    let mut all = postings::union_range(store, &later, &[REVIEWED_MONTH + 1])?;
    // The rest of `day`'s month: its days from `day` on, or its month list less the days
    // before `day`, whichever reads fewer day lists.
    match month_split(day) {
        Some(MonthSplit::Later(last)) => all |= days(store, REVIEWED, Some(day), Some(last))?,
        Some(MonthSplit::Earlier(first, before)) => {
            let whole = postings::get(store, &key(&[&[REVIEWED_MONTH], &month_key(month)]))?;
            all |= whole - days(store, REVIEWED, Some(first), Some(before))?;
        }
        Some(MonthSplit::Whole) => {
            all |= postings::get(store, &key(&[&[REVIEWED_MONTH], &month_key(month)]))?
        }
        None => {}
    }
    Ok(all)
}

/// The approved lessons last approved or confirmed at `from` or later on `from`'s own day
/// (UTC): the part of the day a period starts on that the day's list cannot tell, read from
/// the keys of that part of the day alone.
pub fn reviewed_on_from(store: &dyn Store, from: DateTime<Utc>) -> Result<Ids, StoreError> {
    let start = key(&[&[REVIEWED_AT], &instant_key(from)]);
    let next_day = from
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0));
    let end = match next_day {
        Some(next) => key(&[&[REVIEWED_AT], &instant_key(next.and_utc())]),
        None => vec![REVIEWED_AT + 1],
    };
    let mut ids = Ids::new();
    for (k, _) in store.scan_range(Tree::LessonIndex, &start, &end)? {
        if let Some(id) = id_of(&k) {
            ids.insert(id.0);
        }
    }
    Ok(ids)
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

    /// Lessons created every 13 hours over two and a half months, some reviewed later, some
    /// waiting, in two channels and every order: what the period's lists give, whichever side
    /// of a day they read, is what every lesson gives.
    #[test]
    fn a_period_counted_from_its_lists_is_what_every_lesson_gives() {
        use crate::domain::*;
        use crate::store::MemoryStore;
        use chrono::Duration;
        let channel = ChannelId(5);
        let start = NaiveDate::from_ymd_opt(2025, 1, 20)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let lessons: Vec<Lesson> = (0..150u64)
            .map(|i| {
                let created_at = start + Duration::hours(13 * i as i64);
                Lesson {
                    id: LessonId(i + 1),
                    key: None,
                    channel: Some(if i % 4 == 0 { ChannelId(6) } else { channel }),
                    author: None,
                    author_name: None,
                    author_layer: None,
                    attribution: Attribution::Anonymous,
                    lang: Lang::Nl,
                    text: LessonText {
                        title: format!("Les {i}"),
                        happened: "Iets".into(),
                        lesson: "Iets anders".into(),
                    },
                    translation: None,
                    order: Order::ALL[i as usize % 3],
                    steps: Vec::new(),
                    perspective: None,
                    tags: Vec::new(),
                    source: None,
                    status: if i % 7 == 0 {
                        LessonStatus::Pending
                    } else {
                        LessonStatus::Approved
                    },
                    rejection_reason: None,
                    featured: false,
                    created_at,
                    updated_at: created_at,
                    reviewed_at: (i % 3 == 0)
                        .then(|| created_at + Duration::days(3) + Duration::minutes(i as i64)),
                    reviewed_by: None,
                    published_in: Vec::new(),
                }
            })
            .collect();
        let store = MemoryStore::default();
        let mut builder = IndexBuilder::default();
        for l in &lessons {
            builder.add(l);
        }
        builder.write(&store, 1_000).unwrap();
        // Handed on in key order, as the store holds them: the check of a backup compares the
        // file's index with it entry by entry.
        let mut again = IndexBuilder::default();
        for l in &lessons {
            again.add(l);
        }
        let listed: Vec<(Vec<u8>, Vec<u8>)> = again.into_entries().collect();
        assert_eq!(
            listed,
            store
                .scan_prefix(crate::store::Tree::LessonIndex, &[])
                .unwrap()
        );
        let reviewed = |l: &Lesson| l.reviewed_at.unwrap_or(l.created_at);
        let public = || lessons.iter().filter(|l| l.is_public());
        for d in 0..80 {
            let day = start.date_naive() + Duration::days(d);
            let want: Ids = public()
                .filter(|l| reviewed(l).date_naive() >= day)
                .map(|l| l.id.0)
                .collect();
            assert_eq!(
                reviewed_from(&store, day).unwrap(),
                want,
                "reviewed from {day}"
            );
            for (order, after, on) in per_order_from(&store, channel, day).unwrap() {
                let mine = || public().filter(|l| l.channel == Some(channel) && l.order == order);
                let want_after = mine().filter(|l| l.created_at.date_naive() > day).count();
                let want_on: Ids = mine()
                    .filter(|l| l.created_at.date_naive() == day)
                    .map(|l| l.id.0)
                    .collect();
                assert_eq!((after, on), (want_after as u64, want_on), "{day} {order:?}");
            }
            for hour in [0, 7, 13, 23] {
                let from = day.and_hms_opt(hour, 30, 0).unwrap().and_utc();
                let want: Ids = public()
                    .filter(|l| reviewed(l) >= from && reviewed(l).date_naive() == day)
                    .map(|l| l.id.0)
                    .collect();
                assert_eq!(reviewed_on_from(&store, from).unwrap(), want, "{from}");
            }
        }
    }

    #[test]
    fn instant_keys_sort_in_time_order_to_the_nanosecond() {
        let at = |s: i64, n: u32| DateTime::from_timestamp(s, n).unwrap();
        let times = [
            at(-1_000, 5),
            at(-1, 999_999_999),
            at(0, 0),
            at(0, 1),
            at(1_000, 0),
        ];
        for pair in times.windows(2) {
            assert!(instant_key(pair[0]) < instant_key(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn time_keys_sort_in_time_order() {
        let a = DateTime::<Utc>::MIN_UTC;
        let b = DateTime::from_timestamp(0, 0).unwrap();
        let c = DateTime::from_timestamp(1_000, 0).unwrap();
        assert!(time_key(a) < time_key(b) && time_key(b) < time_key(c));
    }
}
