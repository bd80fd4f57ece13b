//! Posting lists: for each facet value or word of the lesson index, the set of lessons that
//! have it, stored as one compressed bitmap per list. A library of 100,000 lessons then holds
//! tens of thousands of index entries instead of millions, which keeps the database small,
//! start-up quick and memory low, and a search reads a handful of values instead of walking
//! every posting key by key.

use crate::store::{Batch, Store, StoreError, Tree};
use roaring::RoaringTreemap;

/// A set of lesson ids.
pub type Ids = RoaringTreemap;

/// A list as stored.
pub fn encode(ids: &Ids) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.serialized_size());
    // Writing into a Vec cannot fail.
    let _ = ids.serialize_into(&mut out);
    out
}

/// A list from its stored bytes.
pub fn decode(bytes: &[u8]) -> Result<Ids, StoreError> {
    RoaringTreemap::deserialize_from(bytes)
        .map_err(|e| StoreError::Io(format!("a posting list cannot be read: {e}")))
}

/// The list at `key` as `batch` will leave it, as stored (with removed lessons).
pub fn read(store: &dyn Store, batch: &Batch, key: &[u8]) -> Result<Ids, StoreError> {
    match batch.pending(Tree::LessonIndex, key) {
        Some(Some(bytes)) => decode(bytes),
        Some(None) => Ok(Ids::new()),
        None => match store.get(Tree::LessonIndex, key)? {
            Some(bytes) => decode(&bytes),
            None => Ok(Ids::new()),
        },
    }
}

/// The list of lessons removed whose ids the other lists may still hold: a deletion's reply
/// takes a lesson out of the lists later (see [`crate::search::remove_later`]), because
/// rewriting the lists of a large library grows with it. Every read below leaves them out.
pub const GONE: &[u8] = b"g";

/// The list at `key` as stored, with the ids of removed lessons it may still hold.
pub fn stored(store: &dyn Store, key: &[u8]) -> Result<Ids, StoreError> {
    match store.get(Tree::LessonIndex, key)? {
        Some(bytes) => decode(&bytes),
        None => Ok(Ids::new()),
    }
}

/// The lessons removed that some lists may still hold.
pub fn gone(store: &dyn Store) -> Result<Ids, StoreError> {
    stored(store, GONE)
}

/// The list at `key`, without removed lessons; empty when there is none.
pub fn get(store: &dyn Store, key: &[u8]) -> Result<Ids, StoreError> {
    let mut ids = stored(store, key)?;
    if !ids.is_empty() {
        ids -= gone(store)?;
    }
    Ok(ids)
}

/// The union of every list whose key starts with `prefix` (a word and its longer forms),
/// without removed lessons.
pub fn union_prefix(store: &dyn Store, prefix: &[u8]) -> Result<Ids, StoreError> {
    let mut all = Ids::new();
    for (_, bytes) in store.scan_prefix(Tree::LessonIndex, prefix)? {
        all |= decode(&bytes)?;
    }
    if !all.is_empty() {
        all -= gone(store)?;
    }
    Ok(all)
}

/// The union of every list with a key from `start` up to `end` (excluded), without removed
/// lessons.
pub fn union_range(store: &dyn Store, start: &[u8], end: &[u8]) -> Result<Ids, StoreError> {
    let mut all = Ids::new();
    for (_, bytes) in store.scan_range(Tree::LessonIndex, start, end)? {
        all |= decode(&bytes)?;
    }
    if !all.is_empty() {
        all -= gone(store)?;
    }
    Ok(all)
}

/// How many lessons each list from `start` up to `end` (excluded) holds, together, without
/// removed lessons.
pub fn count_range(store: &dyn Store, start: &[u8], end: &[u8]) -> Result<u64, StoreError> {
    let gone = gone(store)?;
    let mut count = 0;
    for (_, bytes) in store.scan_range(Tree::LessonIndex, start, end)? {
        let ids = decode(&bytes)?;
        count += ids.len() - ids.intersection_len(&gone);
    }
    Ok(count)
}

/// Adds and removes ids in the list at `key`, in `batch`; an emptied list is removed, so a
/// word nobody uses any more leaves the database.
pub fn update(
    store: &dyn Store,
    batch: &mut Batch,
    key: &[u8],
    add: &[u64],
    remove: &[u64],
) -> Result<(), StoreError> {
    let mut ids = read(store, batch, key)?;
    for id in remove {
        ids.remove(*id);
    }
    for id in add {
        ids.insert(*id);
    }
    if ids.is_empty() {
        batch.remove(Tree::LessonIndex, key.to_vec());
    } else {
        batch.put(Tree::LessonIndex, key.to_vec(), encode(&ids));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn lists_round_trip_and_follow_their_batch() {
        let store = MemoryStore::default();
        let mut batch = Batch::new();
        update(&store, &mut batch, b"wsamen\0", &[3, 1, 2], &[]).unwrap();
        update(&store, &mut batch, b"wsamen\0", &[9], &[2]).unwrap();
        assert_eq!(
            read(&store, &batch, b"wsamen\0")
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            vec![1, 3, 9],
            "a second update in the same batch sees the first"
        );
        update(&store, &mut batch, b"wsamenwerking\0", &[5], &[]).unwrap();
        store.commit(batch).unwrap();
        let all = union_prefix(&store, b"wsamen").unwrap();
        assert_eq!(all.iter().collect::<Vec<_>>(), vec![1, 3, 5, 9]);

        let mut batch = Batch::new();
        update(&store, &mut batch, b"wsamenwerking\0", &[], &[5]).unwrap();
        store.commit(batch).unwrap();
        assert_eq!(
            store.get(Tree::LessonIndex, b"wsamenwerking\0").unwrap(),
            None
        );
        assert!(decode(b"not a bitmap").is_err());
    }
}
