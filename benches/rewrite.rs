//! Whether members' writes wait for the store's rewrite (the one that makes a deletion's bytes
//! leave the files): a writer commits an answer-sized batch every few milliseconds, each made
//! durable before it counts, while the store of N entries is rewritten; its latencies during
//! the rewrite are set against its latencies in the same run with no rewrite going on (the
//! floor), round after round.

#[path = "support/mod.rs"]
mod support;

use academie::store::{Batch, SledStore, Store, Tree};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{header, ratio, report, show, Samples};

/// An answer of a realistic length.
fn value(i: usize) -> Vec<u8> {
    format!(
        "{{\"text\":\"Volgens ons gaat de opgave over de wateroverlast in de regio ({i}): het \
         Rijk, de provincie, de gemeenten en het waterschap zien elk een ander deel. We willen \
         eerst samen vaststellen wat het probleem is.\",\"name\":\"Deelnemer {i}\"}}"
    )
    .into_bytes()
}

fn key(i: usize) -> Vec<u8> {
    format!("answer-{i:09}").into_bytes()
}

/// A store of `n` entries in a folder of its own.
fn filled(dir: &std::path::Path, n: usize) -> Arc<SledStore> {
    let store = Arc::new(SledStore::open(&dir.join("db"), None).expect("store"));
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let mut batch = Batch::new();
        for &i in chunk {
            batch.put(Tree::Answers, key(i), value(i));
        }
        store.commit(batch).expect("filled");
    }
    store
}

/// Commits one batch every `every` until `stop`, from key `first` on; returns each commit's
/// start (since `epoch`) and latency.
fn writer(
    store: Arc<SledStore>,
    first: usize,
    every: Duration,
    stop: Arc<AtomicBool>,
    epoch: Instant,
    out: Arc<Mutex<Vec<(Duration, Duration)>>>,
) {
    let mut i = first;
    while !stop.load(Ordering::SeqCst) {
        let mut batch = Batch::new();
        batch.put(Tree::Answers, key(i), value(i));
        let started = Instant::now();
        store.commit(batch).expect("an answer is saved");
        out.lock()
            .unwrap()
            .push((started - epoch, started.elapsed()));
        i += 1;
        std::thread::sleep(every);
    }
}

/// One round: the writer runs for `floor_for` with nothing else, then while the store is
/// rewritten. Returns the floor's latencies, those of commits begun during the rewrite, the
/// rewrite's time and how many the writer committed in all.
fn round(
    store: &Arc<SledStore>,
    first: usize,
    floor_for: Duration,
) -> (Samples, Samples, Duration, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let out = Arc::new(Mutex::new(Vec::new()));
    let epoch = Instant::now();
    let thread = {
        let (store, stop, out) = (store.clone(), stop.clone(), out.clone());
        std::thread::spawn(move || writer(store, first, Duration::from_millis(2), stop, epoch, out))
    };
    std::thread::sleep(floor_for);
    let began = epoch.elapsed();
    store.compact().expect("the store is rewritten");
    let ended = epoch.elapsed();
    // A little after, so a commit that waited for the swap is counted.
    std::thread::sleep(Duration::from_millis(20));
    stop.store(true, Ordering::SeqCst);
    thread.join().expect("the writer ran");
    let all = out.lock().unwrap().clone();
    let (mut floor, mut during) = (Samples::new(), Samples::new());
    for &(at, took) in &all {
        if at < began {
            floor.push(took);
        } else if at <= ended {
            during.push(took);
        }
    }
    (floor, during, ended - began, all.len())
}

pub fn main() {
    let sizes: &[usize] = if support::full() {
        &[10_000, 100_000]
    } else {
        &[300]
    };
    let rounds = support::size(5, 1);
    header("Writes while the store is rewritten");
    for &n in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = filled(dir.path(), n);
        let (mut floor, mut during) = (Samples::new(), Samples::new());
        let mut rewrites = Samples::new();
        let mut longest = Duration::ZERO;
        let mut written = 0;
        for r in 0..rounds {
            let first = n + r * 1_000_000;
            let (f, d, took, count) = round(
                &store,
                first,
                Duration::from_millis(support::size(1500, 100) as u64),
            );
            longest = longest.max(d.percentile(100.0));
            floor.extend(f);
            during.extend(d);
            rewrites.push(took);
            // Every answer the writer was told was saved is there after the rewrite.
            let kept = store
                .scan_prefix(Tree::Answers, b"answer-")
                .expect("scan")
                .len();
            written += count;
            assert_eq!(
                kept,
                n + written,
                "every confirmed write survives the rewrite"
            );
        }
        let label = format!("{n} entries");
        report(
            &format!("rewrite of {label}: p50 time"),
            &show(rewrites.p50()),
            "—",
            true,
        );
        report(
            &format!("a write alone ({label}): p50 / p99, {}", floor.len()),
            &format!("{} / {}", show(floor.p50()), show(floor.p99())),
            "—",
            true,
        );
        report(
            &format!(
                "a write during the rewrite ({label}): p50 / p99 / longest, {}",
                during.len()
            ),
            &format!(
                "{} / {} / {}",
                show(during.p50()),
                show(during.p99()),
                show(longest)
            ),
            "—",
            true,
        );
        let r = ratio(during.p99(), floor.p99());
        report(
            &format!("p99 during the rewrite / p99 alone ({label})"),
            &format!("{r:.2}×"),
            "≤ 1.5×",
            r <= 1.5,
        );
        let share = ratio(longest, rewrites.p50());
        report(
            &format!("longest wait / rewrite time ({label})"),
            &format!("{:.0} %", share * 100.0),
            "≤ 25 % (writers not held for the copy)",
            share <= 0.25,
        );
    }
}
