//! The sled store: the core's storage interface (re-exported here) kept in sled, with what it
//! keeps beside sled's files (`ledger`), the checks before a database is opened (`opening`)
//! and the durable values laid over a refused write (`overlay`). Only this crate touches sled.

pub use academie_core::store::*;

mod ledger;
mod opening;
mod overlay;
mod sled_store;

pub use sled_store::{sibling, SledStore};

#[cfg(test)]
mod tests {
    use super::*;
    use academie_core::store::contract::exercise;

    #[test]
    fn sled_store_keeps_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("db"), None).unwrap();
        exercise(&store);
    }

    #[test]
    fn concurrent_commits_share_flushes_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            std::thread::scope(|s| {
                for t in 0..16u64 {
                    let store = &store;
                    s.spawn(move || {
                        for i in 0..20u64 {
                            let mut b = Batch::new();
                            b.put(Tree::Answers, (t * 100 + i).to_be_bytes(), b"a".to_vec());
                            b.put(
                                Tree::Participants,
                                (t * 100 + i).to_be_bytes(),
                                b"p".to_vec(),
                            );
                            store.commit(b).unwrap();
                        }
                    });
                }
            });
            // Nothing applied since: returns at once.
            store.sync().unwrap();
        }
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(store.scan_prefix(Tree::Answers, &[]).unwrap().len(), 320);
        assert_eq!(
            store.scan_prefix(Tree::Participants, &[]).unwrap().len(),
            320
        );
    }

    /// A first start killed while it made the ledger leaves at most the file being made (here
    /// as the kill would: zeros, no slot written yet), never a ledger of zeros in its place:
    /// the next start makes it again and opens.
    #[test]
    fn a_first_start_killed_while_making_the_ledger_opens_at_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join(ledger::NEW_FILE), vec![0u8; 4096]).unwrap();
        let store = SledStore::open(&path, None).expect("opens");
        let mut batch = Batch::new();
        batch.put(Tree::Meta, b"k".to_vec(), b"v".to_vec());
        store.commit(batch).unwrap();
        drop(store);
        assert!(!path.join(ledger::NEW_FILE).exists(), "renamed into place");
        assert!(path.join(ledger::FILE).exists());
        let store = SledStore::open(&path, None).expect("opens again");
        assert_eq!(store.get(Tree::Meta, b"k").unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn sled_store_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            let mut b = Batch::new();
            b.put(Tree::Members, b"k".to_vec(), b"v".to_vec());
            store.commit(b).unwrap();
        }
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(store.get(Tree::Members, b"k").unwrap(), Some(b"v".to_vec()));
    }

    /// A start that backs the database up through a small cache goes on with the academy's
    /// cache: the same data, writes saved as before, and nobody else can open the database
    /// once it is opened again.
    #[test]
    fn a_store_opened_again_with_another_cache_keeps_its_data_and_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let small = SledStore::open(&path, Some(1 << 20)).unwrap();
        let mut b = Batch::new();
        b.put(Tree::Members, b"before".to_vec(), b"1".to_vec());
        small.commit(b).unwrap();
        let store = small.with_cache(Some(64 << 20)).expect("opened again");
        assert!(matches!(
            SledStore::open(&path, None),
            Err(StoreError::Locked { .. })
        ));
        assert_eq!(
            store.get(Tree::Members, b"before").unwrap(),
            Some(b"1".to_vec())
        );
        let mut b = Batch::new();
        b.put(Tree::Members, b"after".to_vec(), b"2".to_vec());
        store.commit(b).unwrap();
        drop(store);
        let store = SledStore::open(&path, None).unwrap();
        let keys: Vec<Vec<u8>> = store
            .scan_prefix(Tree::Members, b"")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, [b"after".to_vec(), b"before".to_vec()]);
    }

    #[test]
    fn a_second_opener_is_refused_with_one_clear_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let _first = SledStore::open(&path, None).unwrap();
        let err = SledStore::open(&path, None).expect_err("must refuse");
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(
            err.to_string().contains("in use by another process"),
            "{err}"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            store
                .set_schema_version_for_tests(SCHEMA_VERSION + 1)
                .unwrap();
        }
        let err = SledStore::open(&path, None).expect_err("must refuse");
        let text = err.to_string();
        assert!(matches!(err, StoreError::NewerSchema { .. }), "{text}");
        assert!(text.contains("newer version"), "{text}");
    }

    /// Every file under `dir`, concatenated: what a person reading the disk would see.
    fn raw_bytes(dir: &std::path::Path) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                all.extend(raw_bytes(&path));
            } else {
                all.extend(std::fs::read(&path).unwrap());
            }
        }
        all
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// The passes over whole trees read each chunk's keys a second time (so sled's cache
    /// counts the pages read): the scan, a rewrite's copy and the check of a copy at open still
    /// see every entry once, in order, across their chunks.
    #[test]
    fn passes_over_trees_larger_than_their_chunks_keep_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledStore::open(&path, None).unwrap();
        let keys: Vec<Vec<u8>> = (0..2 * 1024 + 5u32)
            .map(|i| i.to_be_bytes().to_vec())
            .collect();
        let mut b = Batch::new();
        for k in &keys {
            b.put(Tree::Lessons, k.clone(), [k.as_slice(), b"-value"].concat());
        }
        store.commit(b).unwrap();
        let everything = |store: &SledStore| {
            let mut seen = Vec::new();
            store
                .scan_each(Tree::Lessons, &[], &mut |k, v| {
                    assert_eq!(v, [k, b"-value"].concat());
                    seen.push(k.to_vec());
                    Ok(())
                })
                .unwrap();
            seen
        };
        assert_eq!(everything(&store), keys);
        store.compact().unwrap();
        assert_eq!(everything(&store), keys);
        drop(store);
        // Without the record of a clean close, the database is checked on a copy, whole.
        std::fs::remove_file(path.join(opening::FINGERPRINT)).unwrap();
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(everything(&store), keys);
    }

    #[test]
    fn compacting_removes_deleted_bytes_from_the_files_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledStore::open(&path, None).unwrap();
        let mut b = Batch::new();
        b.put(
            Tree::Answers,
            b"gone".to_vec(),
            b"canary-7f3e-secret".to_vec(),
        );
        b.put(Tree::Answers, b"kept".to_vec(), b"still-here-91c2".to_vec());
        store.commit(b).unwrap();
        let mut b = Batch::new();
        b.remove(Tree::Answers, b"gone".to_vec());
        store.commit(b).unwrap();
        assert!(
            contains(&raw_bytes(&path), b"canary-7f3e-secret"),
            "sled keeps a removed value in its files, so the check below can fail"
        );

        let before = ledger::Ledger::read(&path).unwrap().unwrap().seq;
        store.compact().unwrap();
        assert!(!contains(&raw_bytes(&path), b"canary-7f3e-secret"));
        assert!(contains(&raw_bytes(&path), b"still-here-91c2"));
        assert_eq!(store.get(Tree::Answers, b"gone").unwrap(), None);
        // The reopened database took its first flush in the rewrite (the costly one), not in
        // the next writer's commit: the ledger records one flush more than before.
        assert_eq!(
            ledger::Ledger::read(&path).unwrap().unwrap().seq,
            before + 1
        );
        // Writes after the swap land in the new folder and survive reopening.
        let mut b = Batch::new();
        b.put(Tree::Members, b"after".to_vec(), b"v".to_vec());
        store.commit(b).unwrap();
        drop(store);
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(
            store.get(Tree::Answers, b"kept").unwrap(),
            Some(b"still-here-91c2".to_vec())
        );
        assert_eq!(
            store.get(Tree::Members, b"after").unwrap(),
            Some(b"v".to_vec())
        );
        assert_eq!(schema_version(&store).unwrap(), SCHEMA_VERSION);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.contains("rewrite")),
            "no folder of the rewrite is left: {names:?}"
        );
    }

    /// A rewrite copies while writers go on: what they add, change and remove while it copies
    /// is in the result as they left it, and what was removed before it began leaves the files.
    /// (What writers remove while it copies may stay in the new files until the next rewrite,
    /// as what they remove after it does.)
    #[test]
    fn writes_made_while_a_rewrite_copies_are_kept_and_what_was_removed_before_leaves_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledStore::open(&path, None).unwrap();
        let mut b = Batch::new();
        // More than one chunk of the copy.
        for i in 0..3000u32 {
            b.put(Tree::Answers, format!("a{i:05}"), format!("value-{i}"));
        }
        b.put(
            Tree::Answers,
            b"gone".to_vec(),
            b"removed-while-copying".to_vec(),
        );
        b.put(
            Tree::Answers,
            b"erased".to_vec(),
            b"canary-4b1d-secret".to_vec(),
        );
        b.put(Tree::Lessons, b"changed".to_vec(), b"old-text".to_vec());
        store.commit(b).unwrap();
        let mut b = Batch::new();
        b.remove(Tree::Answers, b"erased".to_vec());
        store.commit(b).unwrap();
        assert!(
            contains(&raw_bytes(&path), b"canary-4b1d-secret"),
            "sled keeps a removed value in its files, so the check below can fail"
        );
        let fresh = dir.path().join("db.rewrite-new");
        *store.during_rewrite.lock().unwrap() = Some(Box::new(move |s: &SledStore| {
            // The copy was opened again once written, so sled noted where its pages are: the
            // opening after the swap, with writers kept out, reads only what came after.
            let snapshots = std::fs::read_dir(&fresh)
                .unwrap()
                .filter(|e| {
                    let name = e.as_ref().unwrap().file_name();
                    name.to_string_lossy().starts_with("snap.")
                })
                .count();
            assert!(
                snapshots > 0,
                "the copy has sled's snapshot before the swap"
            );
            let mut b = Batch::new();
            b.put(Tree::Members, b"added".to_vec(), b"new-member".to_vec());
            b.put(Tree::Lessons, b"changed".to_vec(), b"new-text".to_vec());
            b.remove(Tree::Answers, b"gone".to_vec());
            b.remove(Tree::Answers, b"a01500".to_vec());
            s.commit(b).unwrap();
        }));

        store.compact().unwrap();
        assert!(
            store.during_rewrite.lock().unwrap().is_none(),
            "the writes ran while the rewrite copied"
        );
        let check = |store: &SledStore| {
            let get = |t, k: &[u8]| store.get(t, k).unwrap();
            assert_eq!(get(Tree::Members, b"added"), Some(b"new-member".to_vec()));
            assert_eq!(get(Tree::Lessons, b"changed"), Some(b"new-text".to_vec()));
            assert_eq!(get(Tree::Answers, b"gone"), None);
            assert_eq!(get(Tree::Answers, b"erased"), None);
            assert_eq!(get(Tree::Answers, b"a01500"), None);
            assert_eq!(get(Tree::Answers, b"a02999"), Some(b"value-2999".to_vec()));
            assert_eq!(store.scan_prefix(Tree::Answers, b"a").unwrap().len(), 2999);
        };
        check(&store);
        assert!(
            !contains(&raw_bytes(&path), b"canary-4b1d-secret"),
            "removed before the rewrite began"
        );
        drop(store);
        check(&SledStore::open(&path, None).unwrap());
    }

    #[test]
    fn a_rewrite_interrupted_between_its_renames_is_finished_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let fresh = sibling(&path, "rewrite-new");
        let old = sibling(&path, "rewrite-old");
        for (at, value) in [(&path, b"old".to_vec()), (&fresh, b"new".to_vec())] {
            let store = SledStore::open(at, None).unwrap();
            let mut b = Batch::new();
            b.put(Tree::Members, b"k".to_vec(), value);
            store.commit(b).unwrap();
        }
        // The crash: the database renamed aside, the complete copy not yet in its place.
        std::fs::rename(&path, &old).unwrap();
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(
            store.get(Tree::Members, b"k").unwrap(),
            Some(b"new".to_vec())
        );
        assert!(!old.exists() && !fresh.exists());
        drop(store);

        // A crash while the copy was being built: the database is untouched, the copy dropped.
        std::fs::create_dir_all(&fresh).unwrap();
        std::fs::write(fresh.join("db"), b"half").unwrap();
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(
            store.get(Tree::Members, b"k").unwrap(),
            Some(b"new".to_vec())
        );
        assert!(!fresh.exists());
    }

    #[test]
    fn a_snapshot_holds_every_tree() {
        let dir = tempfile::tempdir().unwrap();
        let sled = SledStore::open(&dir.path().join("db"), None).unwrap();
        let memory = MemoryStore::default();
        for store in [&sled as &dyn Store, &memory] {
            let mut b = Batch::new();
            b.put(Tree::Votes, b"v".to_vec(), b"1".to_vec());
            b.put(Tree::Audit, b"a".to_vec(), b"2".to_vec());
            store.commit(b).unwrap();
            let snap = store.snapshot().unwrap();
            assert_eq!(snap.len(), Tree::ALL.len());
            let votes = &snap.iter().find(|(t, _)| *t == Tree::Votes).unwrap().1;
            assert_eq!(votes, &vec![(b"v".to_vec(), b"1".to_vec())]);
        }
    }

    /// Every lesson entry as the two streaming scans hand them over.
    fn streamed(store: &SledStore, in_place: bool) -> Vec<Entry> {
        let mut seen = Vec::new();
        let mut each = |k: &[u8], v: &[u8]| {
            seen.push((k.to_vec(), v.to_vec()));
            Ok(())
        };
        if in_place {
            store.scan_prefix_in_place(Tree::Lessons, &[], &mut each)
        } else {
            store.scan_each(Tree::Lessons, &[], &mut each)
        }
        .unwrap();
        seen
    }

    fn counter(store: &dyn Store) -> u64 {
        let bytes = store.get(Tree::Meta, b"next_id:lesson").unwrap().unwrap();
        u64::from_be_bytes(bytes.try_into().unwrap())
    }

    #[test]
    fn a_refused_write_is_undone_for_every_reader_keeps_its_ids_and_writing_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledStore::open(&path, None).unwrap();
        let mut b = Batch::new();
        b.put(Tree::Lessons, b"kept".to_vec(), b"v1".to_vec());
        b.put(Tree::Lessons, b"gone-later".to_vec(), b"still".to_vec());
        b.put(Tree::Meta, b"next_id:lesson".to_vec(), 1u64.to_be_bytes());
        store.commit(b).unwrap();
        let before = store.snapshot().unwrap();

        store.fail_next_flushes(1);
        let mut b = Batch::new();
        b.put(Tree::Lessons, b"kept".to_vec(), b"v2".to_vec());
        b.put(Tree::Lessons, b"new".to_vec(), b"refused".to_vec());
        b.remove(Tree::Lessons, b"gone-later".to_vec());
        b.put(Tree::Meta, b"next_id:lesson".to_vec(), 2u64.to_be_bytes());
        let err = store.commit(b).expect_err("the flush fails");
        assert!(
            matches!(err, StoreError::Unwritable { full: true, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("free disk space"), "{err}");
        // Nobody sees the refused batch, by any way of reading; the counter stays ahead.
        assert_eq!(
            store.get(Tree::Lessons, b"kept").unwrap(),
            Some(b"v1".to_vec())
        );
        assert_eq!(store.get(Tree::Lessons, b"new").unwrap(), None);
        assert_eq!(
            store.scan_prefix(Tree::Lessons, &[]).unwrap(),
            vec![
                (b"gone-later".to_vec(), b"still".to_vec()),
                (b"kept".to_vec(), b"v1".to_vec())
            ]
        );
        assert_eq!(store.last_with_prefix(Tree::Lessons, b"n").unwrap(), None);
        assert_eq!(
            store.scan_range(Tree::Lessons, b"a", b"z").unwrap().len(),
            2
        );
        for in_place in [false, true] {
            assert_eq!(
                streamed(&store, in_place),
                store.scan_prefix(Tree::Lessons, &[]).unwrap(),
                "streamed (in place: {in_place}) as scanned"
            );
        }
        assert_eq!(counter(&store), 2, "the refused id is not handed out again");
        let mut snap = store.snapshot().unwrap();
        let mut before = before;
        for (tree, entries) in snap.iter_mut().chain(before.iter_mut()) {
            if *tree == Tree::Meta {
                entries.retain(|(k, _)| !k.starts_with(b"next_id"));
            }
        }
        assert_eq!(snap, before, "a backup taken now holds what is durable");

        // The next write reopens sled, puts the undo on disk and lands.
        let mut b = Batch::new();
        b.put(Tree::Lessons, b"after".to_vec(), b"saved".to_vec());
        b.put(Tree::Meta, b"next_id:lesson".to_vec(), 3u64.to_be_bytes());
        store.commit(b).unwrap();
        store.flush().unwrap();
        drop(store);
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(store.get(Tree::Lessons, b"new").unwrap(), None);
        assert_eq!(
            store.get(Tree::Lessons, b"kept").unwrap(),
            Some(b"v1".to_vec())
        );
        assert_eq!(
            store.get(Tree::Lessons, b"gone-later").unwrap(),
            Some(b"still".to_vec())
        );
        assert_eq!(
            store.get(Tree::Lessons, b"after").unwrap(),
            Some(b"saved".to_vec())
        );
        assert_eq!(counter(&store), 3);
    }

    #[test]
    fn a_refused_write_with_no_room_to_undo_it_on_disk_is_hidden_from_every_way_of_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledStore::open(&path, None).unwrap();
        let mut b = Batch::new();
        b.put(Tree::Lessons, b"a".to_vec(), b"old".to_vec());
        b.put(Tree::Lessons, b"c".to_vec(), b"kept".to_vec());
        store.commit(b).unwrap();
        // Without the reserve there is no room to open sled again at once, so the refused
        // batch stays in sled's memory and only the undo in front of it keeps it from readers.
        std::fs::remove_file(sibling(&path, "reserve")).unwrap();
        store.fail_next_flushes(1);
        let mut b = Batch::new();
        b.put(Tree::Lessons, b"a".to_vec(), b"refused".to_vec());
        b.put(Tree::Lessons, b"b".to_vec(), b"refused".to_vec());
        b.remove(Tree::Lessons, b"c".to_vec());
        store.commit(b).expect_err("the flush fails");
        let durable = vec![
            (b"a".to_vec(), b"old".to_vec()),
            (b"c".to_vec(), b"kept".to_vec()),
        ];
        assert_eq!(
            store.get(Tree::Lessons, b"a").unwrap(),
            Some(b"old".to_vec())
        );
        assert_eq!(store.get(Tree::Lessons, b"b").unwrap(), None);
        assert_eq!(store.scan_prefix(Tree::Lessons, &[]).unwrap(), durable);
        assert_eq!(
            store.scan_range(Tree::Lessons, b"a", b"z").unwrap(),
            durable
        );
        for in_place in [false, true] {
            assert_eq!(
                streamed(&store, in_place),
                durable,
                "streamed (in place: {in_place})"
            );
        }
        // The next write opens sled again, puts the undo on disk and lands.
        let mut b = Batch::new();
        b.put(Tree::Lessons, b"d".to_vec(), b"saved".to_vec());
        store.commit(b).unwrap();
        drop(store);
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(
            store.scan_prefix(Tree::Lessons, &[]).unwrap(),
            vec![
                (b"a".to_vec(), b"old".to_vec()),
                (b"c".to_vec(), b"kept".to_vec()),
                (b"d".to_vec(), b"saved".to_vec()),
            ]
        );
    }

    #[test]
    fn under_failing_flushes_each_commit_is_either_confirmed_and_kept_or_refused_and_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let confirmed = std::sync::Mutex::new(std::collections::BTreeSet::new());
        let refused = std::sync::atomic::AtomicUsize::new(0);
        {
            let store = SledStore::open(&path, None).unwrap();
            let done = std::sync::atomic::AtomicBool::new(false);
            std::thread::scope(|s| {
                let writers: Vec<_> = (0..6u64)
                    .map(|t| {
                        let (store, confirmed, refused) = (&store, &confirmed, &refused);
                        s.spawn(move || {
                            for i in 0..40u64 {
                                let key = (t * 1000 + i).to_be_bytes();
                                let mut b = Batch::new();
                                b.put(Tree::Answers, key, b"a".to_vec());
                                if i % 2 == 0 {
                                    b.put(Tree::Participants, key, b"p".to_vec());
                                }
                                match store.commit(b) {
                                    Ok(()) => {
                                        confirmed.lock().unwrap().insert(key.to_vec());
                                    }
                                    Err(StoreError::Unwritable { .. }) => {
                                        refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                    }
                                    Err(e) => panic!("{e}"),
                                }
                            }
                        })
                    })
                    .collect();
                let (store, done) = (&store, &done);
                s.spawn(move || {
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        store.fail_next_flushes(1);
                        std::thread::sleep(std::time::Duration::from_millis(15));
                    }
                });
                for w in writers {
                    w.join().unwrap();
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            store.fail_next_flushes(0);
            store.flush().unwrap();
        }
        let store = SledStore::open(&path, None).unwrap();
        let stored: std::collections::BTreeSet<Vec<u8>> = store
            .scan_prefix(Tree::Answers, &[])
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let confirmed = confirmed.into_inner().unwrap();
        assert!(
            refused.load(std::sync::atomic::Ordering::SeqCst) > 0,
            "some flushes failed, so the check can fail"
        );
        assert_eq!(
            stored.difference(&confirmed).count() + confirmed.difference(&stored).count(),
            0,
            "exactly the confirmed commits are stored: stored but not confirmed {:?}, confirmed but not stored {:?}",
            stored.difference(&confirmed).collect::<Vec<_>>(),
            confirmed.difference(&stored).collect::<Vec<_>>()
        );
        for (k, _) in store.scan_prefix(Tree::Participants, &[]).unwrap() {
            assert!(stored.contains(&k), "no half of a refused batch is left");
        }
    }

    /// Every file under `dir`, by path, with its bytes.
    fn files(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
        let mut all = std::collections::BTreeMap::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                all.extend(files(&path));
            } else {
                all.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
        all
    }

    #[test]
    fn a_database_that_lost_saved_work_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            for i in 1..=5u64 {
                let mut b = Batch::new();
                b.put(Tree::Lessons, i.to_be_bytes(), b"lesson".to_vec());
                b.put(Tree::Meta, b"next_id:lesson".to_vec(), i.to_be_bytes());
                store.commit(b).unwrap();
            }
        }
        // Keep the ledger, and take the database back to an earlier state behind its back:
        // what a log cut short by damage looks like to the next open.
        let ledger = std::fs::read(path.join("academie-ledger")).unwrap();
        {
            let db = sled::open(&path).unwrap();
            let meta = db.open_tree("meta").unwrap();
            meta.insert("next_id:lesson", &3u64.to_be_bytes()).unwrap();
            db.flush().unwrap();
        }
        std::fs::write(path.join("academie-ledger"), &ledger).unwrap();
        let before = files(&path);
        let err = SledStore::open(&path, None).expect_err("refused");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("went back from 5 to 3"), "{err}");
        assert_eq!(files(&path), before, "not a byte changed");
        assert!(
            !sibling(&path, "checking").exists(),
            "the checked copy is gone"
        );

        // The same with the sequence number of the flushes.
        {
            let db = sled::open(&path).unwrap();
            let meta = db.open_tree("meta").unwrap();
            meta.insert("next_id:lesson", &9u64.to_be_bytes()).unwrap();
            let flushes = db.open_tree("academie_flushes").unwrap();
            flushes.insert("seq", &1u64.to_be_bytes()).unwrap();
            db.flush().unwrap();
        }
        std::fs::write(path.join("academie-ledger"), &ledger).unwrap();
        let before = files(&path);
        let err = SledStore::open(&path, None).expect_err("refused");
        assert!(
            err.to_string().contains("holds less than was saved"),
            "{err}"
        );
        assert_eq!(files(&path), before);

        // A missing ledger, once the marker says there is one.
        std::fs::remove_file(path.join("academie-ledger")).unwrap();
        let err = SledStore::open(&path, None).expect_err("refused");
        assert!(err.to_string().contains("is missing"), "{err}");
    }

    #[test]
    fn a_clean_close_is_recognised_and_any_change_after_it_is_checked_on_a_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            let mut b = Batch::new();
            b.put(Tree::Members, b"k".to_vec(), b"v".to_vec());
            store.commit(b).unwrap();
        }
        assert!(
            path.join("academie-closed").exists(),
            "the clean close is recorded"
        );
        let store = SledStore::open(&path, None).unwrap();
        assert!(
            !path.join("academie-closed").exists(),
            "forgotten once sled may write again"
        );
        assert_eq!(store.get(Tree::Members, b"k").unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn inspecting_reads_a_copy_and_leaves_the_database_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            let mut b = Batch::new();
            b.put(Tree::Members, b"k".to_vec(), b"v".to_vec());
            store.commit(b).unwrap();
        }
        // Remove the fingerprint: sled would write to these files if it opened them.
        std::fs::remove_file(path.join("academie-closed")).unwrap();
        let before = files(&path);
        let found =
            SledStore::inspect(&path, None, |store| store.get(Tree::Members, b"k").unwrap())
                .unwrap();
        assert_eq!(found, Some(b"v".to_vec()));
        assert_eq!(files(&path), before);
        let _open = SledStore::open(&path, None).unwrap();
        assert!(matches!(
            SledStore::inspect(&path, None, |_| ()),
            Err(StoreError::Locked { .. })
        ));
    }

    /// A batch applied in the moment a rewrite lets writers in again is in the reopened
    /// database only: it is confirmed once a flush covers it, never with the copy. Here that
    /// flush fails, so it must be refused and absent, not confirmed and then undone.
    #[test]
    fn a_write_just_after_a_rewrite_is_confirmed_only_by_a_flush_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledStore::open(&path, None).unwrap();
        let mut b = Batch::new();
        b.put(Tree::Answers, b"before".to_vec(), b"kept".to_vec());
        store.commit(b).unwrap();
        *store.after_swap.lock().unwrap() = Some(Box::new(|s: &SledStore| {
            let mut b = Batch::new();
            b.put(Tree::Answers, b"just-after".to_vec(), b"new".to_vec());
            s.apply(b).unwrap();
            s.fail_next_flushes(1);
        }));
        store.compact().unwrap();
        assert!(store.after_swap.lock().unwrap().is_none(), "the hook ran");
        // The same thread that applied it asks whether it is saved.
        let saved = store.sync();
        let there = store.get(Tree::Answers, b"just-after").unwrap();
        match &saved {
            Ok(()) => assert_eq!(there, Some(b"new".to_vec()), "confirmed, so kept"),
            Err(e) => assert_eq!(there, None, "refused ({e}), so absent"),
        }
        // Opened again, the same: what was saved before the rewrite, and the write as told.
        drop(store);
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(
            store.get(Tree::Answers, b"before").unwrap(),
            Some(b"kept".to_vec())
        );
        assert_eq!(store.get(Tree::Answers, b"just-after").unwrap(), there);
    }

    #[test]
    fn commits_while_a_rewrite_runs_all_land_and_are_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, None).unwrap();
            std::thread::scope(|s| {
                for t in 0..4u64 {
                    let store = &store;
                    s.spawn(move || {
                        for i in 0..50u64 {
                            let mut b = Batch::new();
                            b.put(Tree::Answers, (t * 1000 + i).to_be_bytes(), b"a".to_vec());
                            store.commit(b).unwrap();
                        }
                    });
                }
                let store = &store;
                s.spawn(move || {
                    for _ in 0..3 {
                        store.compact().unwrap();
                    }
                });
            });
        }
        let store = SledStore::open(&path, None).unwrap();
        assert_eq!(store.scan_prefix(Tree::Answers, &[]).unwrap().len(), 200);
    }
}
