//! An in-memory backend with the same contract as sled, for the store's contract tests and for
//! engine tests that need no disk.

use super::{Batch, EachEntry, Entry, Store, StoreError, Tree};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

type Trees = HashMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>>;

#[derive(Debug, Default)]
pub struct MemoryStore {
    trees: Mutex<Trees>,
}

impl MemoryStore {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut HashMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>>) -> T,
    ) -> Result<T, StoreError> {
        let mut guard = self
            .trees
            .lock()
            .map_err(|_| StoreError::Io("memory store poisoned".into()))?;
        Ok(f(&mut guard))
    }
}

impl Store for MemoryStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|t| t.get(&tree).and_then(|m| m.get(key).cloned()))
    }

    fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        self.with(|t| {
            t.get(&tree)
                .map(|m| {
                    m.range(prefix.to_vec()..)
                        .take_while(|(k, _)| k.starts_with(prefix))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    fn scan_range(&self, tree: Tree, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StoreError> {
        if start >= end {
            return Ok(Vec::new());
        }
        self.with(|t| {
            t.get(&tree)
                .map(|m| {
                    m.range(start.to_vec()..end.to_vec())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    fn scan_each(
        &self,
        tree: Tree,
        prefix: &[u8],
        each: &mut EachEntry<'_>,
    ) -> Result<(), StoreError> {
        // A chunk at a time, the lock released before `each` runs (which may read the store).
        let mut from = prefix.to_vec();
        loop {
            let chunk: Vec<Entry> = self.with(|t| {
                t.get(&tree)
                    .map(|m| {
                        m.range(from.clone()..)
                            .take_while(|(k, _)| k.starts_with(prefix))
                            .take(super::SCAN_CHUNK)
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default()
            })?;
            let Some((last, _)) = chunk.last() else {
                return Ok(());
            };
            from = super::key_after(last);
            for (key, value) in &chunk {
                each(key, value)?;
            }
        }
    }

    fn last_with_prefix(&self, tree: Tree, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        Ok(self.scan_prefix(tree, prefix)?.pop())
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        self.with(|t| {
            for (tree, key, value) in batch.ops {
                let m = t.entry(tree).or_default();
                match value {
                    Some(v) => m.insert(key, v),
                    None => m.remove(&key),
                };
            }
        })
    }

    fn snapshot(&self) -> Result<Vec<(Tree, Vec<Entry>)>, StoreError> {
        self.with(|t| {
            Tree::ALL
                .iter()
                .map(|tree| {
                    let entries = t
                        .get(tree)
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default();
                    (*tree, entries)
                })
                .collect()
        })
    }

    fn sync(&self) -> Result<(), StoreError> {
        // Nothing is kept beyond the process, so applied is as durable as it gets.
        Ok(())
    }
}
