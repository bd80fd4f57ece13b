//! The store as it was at one moment, for a backup that reads it while members go on writing:
//! the value each key had then is kept the first time a later batch changes it, so the write
//! lock is held for an instant instead of for the whole backup.
//!
//! A reader walks each tree in key order. For a key it reads, the kept value (if any) is what
//! it had at the moment, else what was read is; a key the moment held that a later batch
//! removed before the walk reached it is found among the kept values between the keys the walk
//! sees. A value is kept under the engine's write lock before its batch is applied, so
//! whichever the walk reads first, the batch or the kept value, the answer is the old value.

use crate::store::{Store, StoreError, Tree};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Mutex;

/// What a key held at the moment, for every key written since: `None` if it was absent.
type Kept = BTreeMap<(Tree, Vec<u8>), Option<Vec<u8>>>;

/// The moment a backup is being read at, if one is; one at a time (the engine's backups take
/// turns).
#[derive(Debug, Default)]
pub(super) struct AsOf {
    kept: Mutex<Option<Kept>>,
}

impl AsOf {
    fn kept(&self) -> std::sync::MutexGuard<'_, Option<Kept>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// From now on, keep what every key holds before it is changed. Called under the write
    /// lock, after the store is durable, so nothing half applied is part of the moment.
    pub(super) fn begin(&self) {
        *self.kept() = Some(Kept::new());
    }

    /// The moment is no longer read: nothing more is kept.
    pub(super) fn end(&self) {
        *self.kept() = None;
    }

    /// Before a batch writes `keys` (under the write lock): keeps what each held, the first
    /// time it changes while a moment is read.
    pub(super) fn before_write<'k>(
        &self,
        store: &dyn Store,
        keys: impl Iterator<Item = (Tree, &'k [u8])>,
    ) -> Result<(), StoreError> {
        let mut kept = self.kept();
        let Some(kept) = kept.as_mut() else {
            return Ok(());
        };
        for (tree, key) in keys {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                kept.entry((tree, key.to_vec()))
            {
                slot.insert(store.get(tree, key)?);
            }
        }
        Ok(())
    }

    /// What `key` held at the moment, if it changed since: `Some(None)` when it was absent.
    pub(super) fn value(&self, tree: Tree, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.kept()
            .as_ref()?
            .get(&(tree, key.to_vec()))
            .map(|v| v.to_owned())
    }

    /// The keys of `tree` strictly between `after` and `before` (open ends when `None`) that the
    /// moment held and that changed since, with what they held: those a walk of the tree no
    /// longer finds.
    pub(super) fn held_between(
        &self,
        tree: Tree,
        after: Option<&[u8]>,
        before: Option<&[u8]>,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let kept = self.kept();
        let Some(kept) = kept.as_ref().filter(|k| !k.is_empty()) else {
            return Vec::new();
        };
        let from = match after {
            Some(k) => Bound::Excluded((tree, k.to_vec())),
            None => Bound::Included((tree, Vec::new())),
        };
        kept.range((from, Bound::Unbounded))
            .take_while(|((t, k), _)| *t == tree && before.is_none_or(|b| k.as_slice() < b))
            .filter_map(|((_, k), v)| Some((k.clone(), v.clone()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Batch, MemoryStore};

    fn put(store: &MemoryStore, as_of: &AsOf, key: &[u8], value: Option<&[u8]>) {
        let mut batch = Batch::new();
        match value {
            Some(v) => batch.put(Tree::Lessons, key, v),
            None => batch.remove(Tree::Lessons, key),
        }
        as_of
            .before_write(
                store,
                batch.ops().iter().map(|(t, k, _)| (*t, k.as_slice())),
            )
            .unwrap();
        store.apply(batch).unwrap();
    }

    /// A walk as a backup makes it, with writes between its steps.
    #[test]
    fn a_walk_with_writes_in_between_reads_the_moment() {
        let store = MemoryStore::default();
        let as_of = AsOf::default();
        for k in [b"a", b"c", b"e", b"g"] {
            put(&store, &as_of, k, Some(b"old"));
        }
        as_of.begin();
        put(&store, &as_of, b"c", None); // removed before the walk reaches it
        put(&store, &as_of, b"b", Some(b"new")); // added
        put(&store, &as_of, b"e", Some(b"new")); // changed
        put(&store, &as_of, b"e", Some(b"newer")); // changed again: the first value is kept
        put(&store, &as_of, b"g", None); // removed: the last key
        let mut seen = Vec::new();
        let mut last: Option<Vec<u8>> = None;
        for (key, value) in store.scan_prefix(Tree::Lessons, &[]).unwrap() {
            seen.extend(as_of.held_between(Tree::Lessons, last.as_deref(), Some(&key)));
            match as_of.value(Tree::Lessons, &key) {
                Some(Some(old)) => seen.push((key.clone(), old)),
                Some(None) => {}
                None => seen.push((key.clone(), value)),
            }
            last = Some(key);
        }
        seen.extend(as_of.held_between(Tree::Lessons, last.as_deref(), None));
        let old = b"old".to_vec();
        assert_eq!(
            seen,
            vec![
                (b"a".to_vec(), old.clone()),
                (b"c".to_vec(), old.clone()),
                (b"e".to_vec(), old.clone()),
                (b"g".to_vec(), old),
            ]
        );
        as_of.end();
        assert_eq!(as_of.value(Tree::Lessons, b"e"), None, "nothing kept after");
    }
}
