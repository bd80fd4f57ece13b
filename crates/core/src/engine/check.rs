//! `academie check`: reads a whole database as the academy will, so damage is found by an
//! administrator before a member meets it. Every record must decode as its kind, the lesson
//! index must be exactly the one built anew from the lessons (and the applications in time
//! order the one the applications give), and no id counter may be behind
//! an id in use (the next record would overwrite one). It only reads.

use super::outbox::OutboxRecord;
use super::{AuditEntry, Job};
use crate::domain::*;
use crate::store::{MemoryStore, Store, StoreError, Tree, COUNTER_PREFIX, SCHEMA_KEY};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// What a check found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Entries read, in every tree.
    pub entries: usize,
    pub lessons: usize,
    /// One sentence per problem; none when the database is sound.
    pub problems: Vec<String>,
}

impl CheckReport {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks every record of `store`, which is in this build's schema.
pub fn check_store(store: &dyn Store) -> Result<CheckReport, StoreError> {
    let mut report = CheckReport::default();
    // The highest id in use per counter.
    let mut highest: BTreeMap<&str, u64> = BTreeMap::new();
    let mut lessons = Vec::new();
    // The applications' entries they give, and those stored.
    let mut applied = super::AppliedEntries::default();
    let mut listed = BTreeMap::new();
    for tree in Tree::ALL {
        if tree == Tree::LessonIndex {
            continue;
        }
        let entries = store.scan_prefix(tree, &[])?;
        report.entries += entries.len();
        for (key, value) in &entries {
            let mut problem = |what: String| {
                report
                    .problems
                    .push(format!("{} at key {key:02x?}: {what}", tree.name()))
            };
            match tree {
                Tree::Meta => check_meta(key, value, &mut problem),
                Tree::Collaborations => valid::<Collaboration>(value, &mut problem),
                Tree::Members => valid::<Member>(value, &mut problem),
                Tree::Rounds => {
                    if let Some(r) = decode::<Round>(value, &mut problem) {
                        note(&mut highest, "round", r.id.0);
                        if key.as_slice() != r.id.key() {
                            problem(format!("holds round {} under another key", r.id.0));
                        }
                    }
                }
                Tree::Answers => valid::<Answer>(value, &mut problem),
                Tree::Lessons => {
                    if let Some(l) = decode::<Lesson>(value, &mut problem) {
                        note(&mut highest, "lesson", l.id.0);
                        if key.as_slice() != l.id.key() {
                            problem(format!("holds lesson {} under another key", l.id));
                        }
                        lessons.push(l);
                    }
                }
                Tree::Digests => {
                    if let Some(d) = decode::<Digest>(value, &mut problem) {
                        note(&mut highest, "digest", d.id.0);
                    }
                }
                Tree::Schedules => {
                    if let Some(j) = decode::<Job>(value, &mut problem) {
                        note(&mut highest, "job", j.id);
                    }
                }
                Tree::Outbox => {
                    if let Some(o) = decode::<OutboxRecord>(value, &mut problem) {
                        note(&mut highest, "outgoing", o.id);
                    }
                }
                Tree::Participants => valid::<Participant>(value, &mut problem),
                Tree::Applications => {
                    if let Some(a) = decode::<Application>(value, &mut problem) {
                        applied.add(key, a.at, 0);
                    }
                }
                Tree::Votes => valid::<Vote>(value, &mut problem),
                Tree::Placements => valid::<Placement>(value, &mut problem),
                Tree::Audit => {
                    if decode::<AuditEntry>(value, &mut problem).is_some() {
                        // The key ends in the entry's id.
                        if let Some(id) = key
                            .len()
                            .checked_sub(8)
                            .and_then(|at| key[at..].try_into().ok().map(u64::from_be_bytes))
                        {
                            note(&mut highest, "audit", id);
                        }
                    }
                }
                Tree::Servers => valid::<ServerExchange>(value, &mut problem),
                Tree::Questions => {
                    if let Some(q) = decode::<Question>(value, &mut problem) {
                        note(&mut highest, "question", q.id.0);
                    }
                }
                Tree::QuestionAnswers => valid::<QuestionAnswer>(value, &mut problem),
                Tree::Meetings => {
                    if let Some(m) = decode::<Meeting>(value, &mut problem) {
                        note(&mut highest, "meeting", m.id.0);
                    }
                }
                Tree::SignUps => valid::<SignUp>(value, &mut problem),
                Tree::Taken => valid::<TakenLesson>(value, &mut problem),
                Tree::RoundsByChannel | Tree::LessonIndex => {}
                Tree::AppliedAt => {
                    listed.insert(key.clone(), (value.clone(), 0));
                }
                Tree::Mentions => {
                    if !value.is_empty() {
                        problem("a mention holds a value".into());
                    }
                }
            }
        }
    }
    report.lessons = lessons.len();
    check_counters(store, &highest, &mut report.problems)?;
    check_index(store, &lessons, &mut report)?;
    for (_, tree, what) in applied.differences(&listed) {
        report.problems.push(format!("{}: {what}", tree.name()));
    }
    Ok(report)
}

fn note(highest: &mut BTreeMap<&'static str, u64>, kind: &'static str, id: u64) {
    let at = highest.entry(kind).or_default();
    *at = (*at).max(id);
}

/// Decodes a record as its kind, reporting it when it does not.
fn decode<T: DeserializeOwned>(value: &[u8], problem: &mut impl FnMut(String)) -> Option<T> {
    match serde_json::from_slice(value) {
        Ok(v) => Some(v),
        Err(e) => {
            problem(format!("cannot be read: {e}"));
            None
        }
    }
}

fn valid<T: DeserializeOwned>(value: &[u8], problem: &mut impl FnMut(String)) {
    let _: Option<T> = decode(value, problem);
}

/// The meta tree holds the schema version, counters and kept searches.
fn check_meta(key: &[u8], value: &[u8], problem: &mut impl FnMut(String)) {
    if key == SCHEMA_KEY && value.len() != 4 {
        problem("the schema version is not a number".into());
    }
    if key.starts_with(COUNTER_PREFIX) && value.len() != 8 {
        problem("the counter is not a number".into());
    }
}

fn check_counters(
    store: &dyn Store,
    highest: &BTreeMap<&str, u64>,
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    for (kind, id) in highest {
        let key = [COUNTER_PREFIX, kind.as_bytes()].concat();
        let counter = store
            .get(Tree::Meta, &key)?
            .and_then(|b| b.try_into().ok().map(u64::from_be_bytes));
        match counter {
            None => problems.push(format!(
                "the {kind} counter is missing while {kind} {id} exists"
            )),
            Some(c) if c < *id => problems.push(format!(
                "the {kind} counter is at {c}, behind {kind} {id}: a new {kind} would overwrite one"
            )),
            Some(_) => {}
        }
    }
    Ok(())
}

/// The index must be exactly what building it anew from the lessons gives.
fn check_index(
    store: &dyn Store,
    lessons: &[Lesson],
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let mut rebuilt = crate::search::IndexBuilder::default();
    for l in lessons {
        rebuilt.add(l);
    }
    let model = MemoryStore::default();
    rebuilt.write(&model, 10_000)?;
    let want: BTreeMap<Vec<u8>, Vec<u8>> = model
        .scan_prefix(Tree::LessonIndex, &[])?
        .into_iter()
        .collect();
    let got: BTreeMap<Vec<u8>, Vec<u8>> = store
        .scan_prefix(Tree::LessonIndex, &[])?
        .into_iter()
        .collect();
    report.entries += got.len();
    // Lessons a deletion removed stay in the lists until the upkeep takes them out.
    let gone = match got
        .get(crate::postings::GONE)
        .map(|b| crate::postings::decode(b))
    {
        Some(Ok(ids)) => ids,
        Some(Err(e)) => {
            report
                .problems
                .push(format!("the list of removed lessons cannot be read: {e}"));
            crate::postings::Ids::new()
        }
        None => crate::postings::Ids::new(),
    };
    let list = |key: &[u8], value: &[u8]| {
        crate::search::is_posting(key)
            .then(|| crate::postings::decode(value).ok())
            .flatten()
            .map(|ids| ids - &gone)
    };
    let show = |k: &[u8]| String::from_utf8_lossy(k).into_owned();
    for (key, value) in &got {
        if key.as_slice() == crate::postings::GONE && !gone.is_empty() {
            continue;
        }
        match want.get(key) {
            None if list(key, value).is_some_and(|ids| ids.is_empty()) => {}
            None => report.problems.push(format!(
                "lesson_index holds {:?}, which no lesson gives",
                show(key)
            )),
            Some(w) => {
                // Lists compare as sets; other entries byte for byte.
                let same = match (crate::postings::decode(w), list(key, value)) {
                    (Ok(a), Some(b)) => a == b,
                    _ => w == value,
                };
                if !same {
                    report.problems.push(format!(
                        "lesson_index entry {:?} differs from the lessons",
                        show(key)
                    ));
                }
            }
        }
    }
    for key in want.keys().filter(|k| !got.contains_key(*k)) {
        report.problems.push(format!(
            "lesson_index lacks {:?}, which the lessons give",
            show(key)
        ));
    }
    Ok(())
}
