//! What a large academy costs to start and to keep in memory: the real binary started on a
//! database of 100,000 lessons, against the same binary on a fresh database (the floor), run
//! in turns. Ready means: it has answered its first command.

mod support;

use academie::store::{SledStore, Store};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{corpus, header, interleave, ratio, report, show, size, Samples};

const SEED: u64 = 2026;
/// sled's page cache as configured for the run (`storage.cache_mb`).
const CACHE_MB: u64 = 32;

fn academie(db: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_academie"))
        .arg("console")
        .env_remove("DISCORD_TOKEN")
        .env_remove("ACADEMIE_CONFIG")
        .env("ACADEMIE_DATABASE", db)
        .env("ACADEMIE_EXPORT_DIR", db.with_extension("export"))
        .env("ACADEMIE_CACHE_MB", CACHE_MB.to_string())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the academie binary starts")
}

/// Reads the child's output until the refusal of the unknown command `marker` appears.
fn wait_for(out: &mut impl Read, seen: &mut String, marker: &str) {
    let mut buf = [0u8; 64 * 1024];
    while !seen.contains(&format!("\"{marker}\"")) {
        let n = out.read(&mut buf).expect("read the console");
        assert!(n > 0, "the console stopped before {marker}:\n{seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

/// A figure from /proc/<pid>/status, in bytes.
fn proc_status(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// One start: the time until the first command is answered, and the peak resident memory
/// after searches that walk the whole library.
fn start(db: &Path) -> (Duration, u64) {
    let began = Instant::now();
    let mut child = academie(db);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut seen = String::new();
    stdin.write_all(b"/zzklaar\n").expect("write");
    wait_for(&mut stdout, &mut seen, "zzklaar");
    let ready = began.elapsed();
    stdin
        .write_all(
            "/les zoeken tekst:samenwerking\n/les zoeken orde:eerste\n/les zoeken tekst:de\n\
             /les zoeken stap:3 perspectief:netwerkend\n/zzgemeten\n"
                .as_bytes(),
        )
        .expect("write");
    wait_for(&mut stdout, &mut seen, "zzgemeten");
    assert!(
        seen.contains("lessen gevonden (pagina"),
        "the searches answered:\n{}",
        &seen[seen.len().saturating_sub(2000)..]
    );
    let peak = proc_status(child.id(), "VmHWM:");
    drop(stdin);
    let status = child.wait().expect("wait");
    assert!(status.success(), "the console exited with {status}");
    (ready, peak)
}

pub fn main() {
    let lessons = size(100_000, 300);
    let dir = tempfile::tempdir().expect("temp dir");
    let big = dir.path().join("big.db");
    let empty = dir.path().join("empty.db");
    {
        let store = SledStore::open(&big, None).expect("open");
        let (took, ()) =
            support::time(|| corpus::load(&store, lessons, SEED).expect("load the corpus"));
        store.flush().expect("flush");
        println!("loaded {lessons} lessons in {}", show(took));
    }
    // The floor's database is set up by a first start, as a new academy's is.
    start(&empty);

    header(&format!(
        "Start-up and memory: {lessons} lessons against a new academy"
    ));
    let mut peaks = (Vec::new(), Vec::new());
    let rounds = size(10, 1);
    let (floor, subject): (Samples, Samples) = interleave(
        rounds,
        || {
            let (t, rss) = start(&empty);
            peaks.0.push(rss);
            t
        },
        || {
            let (t, rss) = start(&big);
            peaks.1.push(rss);
            t
        },
    );
    let p50 = subject.p50();
    report(
        &format!("start to first answer, {lessons} lessons (p50)"),
        &format!(
            "{} vs {} new = {:.2}×",
            show(p50),
            show(floor.p50()),
            ratio(p50, floor.p50())
        ),
        "≤ 500 ms",
        p50 <= Duration::from_millis(500),
    );
    report(
        &format!("start to first answer, {lessons} lessons (slowest)"),
        &show(subject.percentile(100.0)),
        "≤ 500 ms",
        subject.percentile(100.0) <= Duration::from_millis(500),
    );
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let big_peak = peaks.1.iter().copied().max().unwrap_or(0);
    let empty_peak = peaks.0.iter().copied().max().unwrap_or(0);
    report(
        &format!("peak resident memory after searching {lessons} lessons (cache {CACHE_MB} MB)"),
        &format!(
            "{:.1} MB vs {:.1} MB new = {:.2}×",
            mb(big_peak),
            mb(empty_peak),
            big_peak as f64 / empty_peak.max(1) as f64
        ),
        "≤ 100 MB",
        mb(big_peak) <= 100.0,
    );
}
