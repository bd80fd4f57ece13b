//! Finding lessons: the secondary index kept beside the lessons tree, and queries over it.
//!
//! Every lesson has index keys derived from its current state ([`index_entries`]); the engine
//! writes the difference between the old and new keys in the same batch as the lesson, so the
//! index is never out of step. Facet and word keys exist only for approved lessons, so a search
//! never even sees a pending or rejected one. Words are folded (lowercase, accents removed) and
//! matched by prefix, so `samenwerk` finds `samenwerking` and `cooperatief` finds `coöperatief`.

use crate::domain::{ChannelId, Lesson, LessonId, LessonStatus, Order, Perspective, Step, UserId};
use crate::store::{Store, StoreError, Tree};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeSet;
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

/// What a member asks for; every filter is optional and they combine with "and".
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// Folds text to the words the index keeps: lowercase, without accents, letters and digits only.
pub fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.chars().take(40).collect())
        .collect()
}

/// A tag as stored: folded like words, joined by hyphens. `None` when nothing is left.
pub fn normalize_tag(tag: &str) -> Option<String> {
    let t = words(tag).join("-");
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

/// The keys of the lessons with a given status, oldest first.
pub fn status_prefix(status: LessonStatus) -> Vec<u8> {
    vec![STATUS, status_byte(status)]
}

pub fn author_prefix(user: UserId) -> Vec<u8> {
    key(&[&[AUTHOR], &user.key()])
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
    out.insert(key(&[&status_prefix(lesson.status), &id]));
    if let Some(author) = lesson.author {
        out.insert(key(&[&author_prefix(author), &id]));
    }
    if !lesson.is_public() {
        return out;
    }
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
    }
    out.insert(key(&[&[DATE], &time_key(lesson.created_at), &id]));
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

fn ids(store: &dyn Store, prefix: &[u8]) -> Result<BTreeSet<LessonId>, StoreError> {
    Ok(store
        .scan_prefix(Tree::LessonIndex, prefix)?
        .iter()
        .filter_map(|(k, _)| id_of(k))
        .collect())
}

/// The ids of the approved lessons matching `query`: featured first, then newest first.
/// Returns an empty list when the text holds no searchable word and no other filter is given.
pub fn find(store: &dyn Store, query: &SearchQuery) -> Result<Vec<LessonId>, StoreError> {
    let mut sets: Vec<BTreeSet<LessonId>> = Vec::new();
    if let Some(o) = query.order {
        sets.push(ids(store, &[ORDER, o.byte()])?);
    }
    if let Some(s) = query.step {
        sets.push(ids(store, &[STEP, s.byte()])?);
    }
    if let Some(p) = query.perspective {
        sets.push(ids(store, &[PERSPECTIVE, p.byte()])?);
    }
    if let Some(t) = query.tag.as_deref().and_then(normalize_tag) {
        sets.push(ids(store, &key(&[&[TAG], t.as_bytes(), &[0]]))?);
    }
    if let Some(c) = query.channel {
        sets.push(ids(store, &key(&[&[CHANNEL], &c.key()]))?);
    }
    if query.from.is_some() || query.to.is_some() {
        let start = query
            .from
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let end = query
            .to
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let found = store
            .scan_range(
                Tree::LessonIndex,
                &key(&[&[DATE], &time_key(start)]),
                &key(&[&[DATE], &time_key(end)]),
            )?
            .iter()
            .filter_map(|(k, _)| id_of(k))
            .collect();
        sets.push(found);
    }
    for term in query.text.as_deref().map(words).unwrap_or_default() {
        sets.push(ids(store, &key(&[&[WORD], term.as_bytes()]))?);
    }
    if sets.is_empty() {
        sets.push(ids(store, &status_prefix(LessonStatus::Approved))?);
    }
    sets.sort_by_key(BTreeSet::len);
    let mut iter = sets.into_iter();
    let mut result = iter.next().unwrap_or_default();
    for s in iter {
        result.retain(|id| s.contains(id));
        if result.is_empty() {
            break;
        }
    }
    let featured = ids(store, &[FEATURED])?;
    let mut list: Vec<LessonId> = result.into_iter().collect();
    list.sort_by_key(|id| (!featured.contains(id), std::cmp::Reverse(*id)));
    Ok(list)
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
    }

    #[test]
    fn time_keys_sort_in_time_order() {
        let a = DateTime::<Utc>::MIN_UTC;
        let b = DateTime::from_timestamp(0, 0).unwrap();
        let c = DateTime::from_timestamp(1_000, 0).unwrap();
        assert!(time_key(a) < time_key(b) && time_key(b) < time_key(c));
    }
}
