//! What readers see after a write was refused: sled has already applied the refused batches in
//! memory and, after a failed write, refuses to write anything (the undo included) until it is
//! opened again, which needs the room that is missing. So the store lays the values that are
//! durable over sled's view of every key a refused batch wrote, until it can reopen sled and
//! write them back. Nobody sees a refused write, and reading goes on while the disk is full.

use super::{Entry, Tree};
use std::collections::BTreeMap;

/// Per tree: key → the value that is durable (`None`: the key does not exist).
#[derive(Debug, Default, Clone)]
pub struct Mask {
    trees: BTreeMap<Tree, BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl Mask {
    pub fn set(&mut self, tree: Tree, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.trees.entry(tree).or_default().insert(key, value);
    }

    /// `Some(value)` when the mask decides what `key` holds.
    pub fn get(&self, tree: Tree, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.trees.get(&tree)?.get(key).cloned()
    }

    pub fn touches(&self, tree: Tree) -> bool {
        self.trees.get(&tree).is_some_and(|m| !m.is_empty())
    }

    /// Every masked key with its durable value.
    pub fn entries(&self) -> impl Iterator<Item = (Tree, &Vec<u8>, &Option<Vec<u8>>)> {
        self.trees
            .iter()
            .flat_map(|(t, m)| m.iter().map(move |(k, v)| (*t, k, v)))
    }

    /// sled's entries under `prefix`, with the masked ones replaced, removed or added back.
    pub fn merge_prefix(&self, tree: Tree, prefix: &[u8], sled: Vec<Entry>) -> Vec<Entry> {
        let Some(masked) = self.trees.get(&tree) else {
            return sled;
        };
        let over = masked
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix));
        merge(sled, over)
    }

    /// sled's entries with `start <= key < end`, masked likewise.
    pub fn merge_range(
        &self,
        tree: Tree,
        start: &[u8],
        end: &[u8],
        sled: Vec<Entry>,
    ) -> Vec<Entry> {
        let Some(masked) = self.trees.get(&tree) else {
            return sled;
        };
        merge(sled, masked.range(start.to_vec()..end.to_vec()))
    }
}

fn merge<'a>(
    sled: Vec<Entry>,
    over: impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>,
) -> Vec<Entry> {
    let mut all: BTreeMap<Vec<u8>, Vec<u8>> = sled.into_iter().collect();
    for (key, value) in over {
        match value {
            Some(v) => all.insert(key.clone(), v.clone()),
            None => all.remove(key),
        };
    }
    all.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(k: &str, v: &str) -> Entry {
        (k.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    #[test]
    fn masked_keys_are_replaced_removed_or_restored_within_the_bounds_asked() {
        let mut mask = Mask::default();
        // A refused batch overwrote ab, added ac, removed ad; and wrote b, outside the prefix.
        mask.set(Tree::Lessons, b"ab".to_vec(), Some(b"old".to_vec()));
        mask.set(Tree::Lessons, b"ac".to_vec(), None);
        mask.set(Tree::Lessons, b"ad".to_vec(), Some(b"back".to_vec()));
        mask.set(Tree::Lessons, b"b".to_vec(), None);
        let sled = vec![e("aa", "1"), e("ab", "new"), e("ac", "refused")];
        assert_eq!(
            mask.merge_prefix(Tree::Lessons, b"a", sled.clone()),
            vec![e("aa", "1"), e("ab", "old"), e("ad", "back")]
        );
        assert_eq!(
            mask.merge_range(Tree::Lessons, b"ab", b"ad", sled.clone()),
            vec![e("aa", "1"), e("ab", "old")],
            "ad lies outside the range"
        );
        assert_eq!(mask.merge_prefix(Tree::Answers, b"a", sled.clone()), sled);
        assert_eq!(mask.get(Tree::Lessons, b"ac"), Some(None));
        assert_eq!(mask.get(Tree::Lessons, b"aa"), None);
        assert!(mask.touches(Tree::Lessons) && !mask.touches(Tree::Answers));
    }
}
