//! Damaged databases, through the built binary: a flipped bit or a cut anywhere in sled's files
//! must never make the academy start empty or lose what it saved. Each damaged copy is either
//! refused with one sentence that says what to do, its files left byte for byte as they were,
//! or opened with every record exactly as saved (a flip in bytes sled no longer uses).
//! `academie check` reads a whole database without changing it.
//!
//! The corpus: two small databases built once — one closed after its first session, before
//! sled wrote a snapshot, and one with a snapshot and writes after it — and, for each of sled's
//! files, single-bit flips spread over the file and cuts at several lengths, each on a fresh
//! copy. `ACADEMIE_DAMAGE_FLIPS` sets the flips per file for a longer run (default 24; 8 for
//! the small `conf`).

use crate::binary;

use academie::store::{SledStore, Store};
use binary::copy_dir;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SENTENCE: &str = "is beschadigd en is niet geopend; er is niets aan veranderd";

fn console(dir: &Path, script: &str) -> (String, String, bool) {
    binary::console(dir, &[], script)
}

/// Every file under `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut all = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                all.extend(files(&path));
            } else {
                all.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    all
}

/// What the database holds, tree by tree.
type Content = Vec<(academie::store::Tree, Vec<academie::store::Entry>)>;

fn content(db: &Path) -> Result<Content, String> {
    let store = SledStore::open(db, None).map_err(|e| e.to_string())?;
    store.snapshot().map_err(|e| e.to_string())
}

struct Base {
    dir: tempfile::TempDir,
    content: Content,
}

/// One data folder (database and its automatic backups), built once per test run.
fn base(with_snapshot: bool) -> &'static Base {
    static PLAIN: OnceLock<Base> = OnceLock::new();
    static SNAPPED: OnceLock<Base> = OnceLock::new();
    let cell = if with_snapshot { &SNAPPED } else { &PLAIN };
    cell.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (out, err, ok) = console(
            dir.path(),
            "/instellen opgave: Zoutwig Noord regio: Friesland lagen: rijk, gemeente
/ronde start stap:1
/als Anna
/antwoord Het vraagstuk is zout water in de polder
/les delen titel: Les van Anna gebeurd: Het ging mis les: Vraag het eerder orde: eerste stappen: 1 als: naam
/als Bram
/antwoord Voor ons gaat het om vertrouwen
/stop
",
        );
        assert!(ok && out.contains("L19"), "{err}\n{out}");
        if with_snapshot {
            // A second session: sled writes a snapshot on opening, then the log goes on.
            let (out, err, ok) = console(
                dir.path(),
                "/als Chris
/antwoord Water en zout, en wie erover gaat
/les delen titel: Les van Chris gebeurd: Zo ging het les: Zo moet het orde: tweede stappen: 2 als: anoniem
/stop
",
            );
            assert!(ok && out.contains("L20"), "{err}\n{out}");
        }
        let names: Vec<String> = std::fs::read_dir(dir.path().join("db"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names.iter().any(|n| n.starts_with("snap.")),
            with_snapshot,
            "{names:?}"
        );
        // Read on a copy, so the base stays exactly as the binary left it.
        let look = tempfile::tempdir().unwrap();
        copy_dir(&dir.path().join("db"), &look.path().join("db"));
        let content = content(&look.path().join("db")).unwrap();
        Base { dir, content }
    })
}

/// One damaged database: which file, and what was done to it.
#[derive(Clone, Debug)]
enum Damage {
    Flip { file: String, at: usize, bit: u8 },
    Cut { file: String, to: usize },
}

impl Damage {
    fn apply(&self, db: &Path) {
        match self {
            Damage::Flip { file, at, bit } => {
                let mut bytes = std::fs::read(db.join(file)).unwrap();
                bytes[*at] ^= 1 << bit;
                std::fs::write(db.join(file), bytes).unwrap();
            }
            Damage::Cut { file, to } => {
                let bytes = std::fs::read(db.join(file)).unwrap();
                std::fs::write(db.join(file), &bytes[..*to]).unwrap();
            }
        }
    }
}

/// sled's files in the base database, with their lengths.
fn sled_files(db: &Path) -> Vec<(String, usize)> {
    let own = ["academie-store", "academie-ledger", "academie-closed"];
    let mut found: Vec<(String, usize)> = files(db)
        .into_iter()
        .map(|(p, b)| {
            let name = p.strip_prefix(db).unwrap().to_string_lossy().into_owned();
            (name, b.len())
        })
        .filter(|(name, _)| !own.contains(&name.as_str()))
        .collect();
    found.sort();
    found
}

fn corpus(db: &Path) -> Vec<Damage> {
    let wanted: Option<usize> = std::env::var("ACADEMIE_DAMAGE_FLIPS")
        .ok()
        .map(|v| v.parse().expect("ACADEMIE_DAMAGE_FLIPS is a number"));
    let mut cases = Vec::new();
    // A fixed spread with a little jitter, so reruns test the same bytes.
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for (file, len) in sled_files(db) {
        if len == 0 {
            continue;
        }
        let flips = wanted
            .unwrap_or(if len < 1000 { 8 } else { 24 })
            .min(len * 8);
        let stride = (len / flips).max(1);
        for i in 0..flips {
            let at = (i * stride + next() % stride).min(len - 1);
            let bit = (next() % 8) as u8;
            cases.push(Damage::Flip {
                file: file.clone(),
                at,
                bit,
            });
        }
        let mut cuts = vec![0, 1, len / 2, len - 1, 4096, 100_000];
        cuts.retain(|c| *c < len);
        cuts.sort();
        cuts.dedup();
        for to in cuts {
            cases.push(Damage::Cut {
                file: file.clone(),
                to,
            });
        }
    }
    cases
}

/// What became of one damaged copy; `Err` when it broke a promise.
#[derive(Debug, PartialEq)]
enum Outcome {
    Refused,
    OpenedWhole,
}

fn try_case(base: &Base, damage: &Damage) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(base.dir.path(), dir.path());
    let db = dir.path().join("db");
    damage.apply(&db);
    let before = files(&db);
    let (out, err, ok) = console(dir.path(), "/les mijn\n/stop\n");
    if err.contains("panicked") {
        return Err(format!("panicked: {err}"));
    }
    if !ok {
        if !err.contains(SENTENCE) || !err.contains("academie restore") {
            return Err(format!("refused without the sentence: {err}"));
        }
        if !err.contains("db.backups/academie-") {
            return Err(format!("does not name the newest good backup: {err}"));
        }
        // One sentence; sled's own log lines (it found the damage too) may come before it.
        let said: Vec<&str> = err
            .lines()
            .filter(|l| !l.starts_with('\u{1b}') && !l.starts_with("20") && !l.trim().is_empty())
            .collect();
        if said.len() != 1 {
            return Err(format!("more than one sentence: {err}"));
        }
        if files(&db) != before {
            return Err("the refused database was changed".into());
        }
        if dir.path().join("db.checking").exists() {
            return Err("the checked copy was left behind".into());
        }
        return Ok(Outcome::Refused);
    }
    if out.contains("startbibliotheek") {
        return Err("it started empty and loaded the starter library".into());
    }
    let found = content(&db)?;
    if found != base.content {
        let lost: usize = base
            .content
            .iter()
            .zip(&found)
            .map(|((_, want), (_, got))| want.iter().filter(|e| !got.contains(e)).count())
            .sum();
        return Err(format!(
            "it opened, but {lost} saved entries are missing or changed"
        ));
    }
    Ok(Outcome::OpenedWhole)
}

#[test]
fn every_flipped_bit_and_cut_of_sleds_files_is_refused_untouched_or_opens_whole() {
    let began = std::time::Instant::now();
    let mut cases = Vec::new();
    for with_snapshot in [false, true] {
        let base = base(with_snapshot);
        for damage in corpus(&base.dir.path().join("db")) {
            cases.push((with_snapshot, damage));
        }
    }
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    let results = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((with_snapshot, damage)) = cases.get(i) else {
                    break;
                };
                let outcome = try_case(base(*with_snapshot), damage);
                results
                    .lock()
                    .unwrap()
                    .push((*with_snapshot, damage.clone(), outcome));
            });
        }
    });
    let results = results.into_inner().unwrap();
    let count = |want: &Outcome| {
        results
            .iter()
            .filter(|(_, _, o)| o.as_ref() == Ok(want))
            .count()
    };
    let (refused, whole) = (count(&Outcome::Refused), count(&Outcome::OpenedWhole));
    println!(
        "damage corpus: {} damaged databases in {:.1} s: {refused} refused untouched, {whole} \
         opened with everything (the damage hit bytes sled no longer uses)",
        results.len(),
        began.elapsed().as_secs_f64()
    );
    let broken: Vec<String> = results
        .iter()
        .filter_map(|(snap, d, o)| {
            o.as_ref().err().map(|why| {
                format!(
                    "{} {d:?}: {why}",
                    if *snap { "with snapshot" } else { "plain" }
                )
            })
        })
        .collect();
    assert!(
        broken.is_empty(),
        "{} of {} damaged databases broke a promise:\n{}",
        broken.len(),
        results.len(),
        broken.join("\n")
    );
    assert!(
        refused > results.len() / 2,
        "most damage is found: {refused}"
    );
}

#[test]
fn check_reads_a_whole_database_without_changing_it_and_names_what_is_wrong() {
    use academie::store::{Batch, Tree};
    let dir = tempfile::tempdir().unwrap();
    copy_dir(base(false).dir.path(), dir.path());
    let db = dir.path().join("db");
    // As a crash would leave it: no record of a clean close, so sled would write on opening.
    let _ = std::fs::remove_file(db.join("academie-closed"));
    let before = files(&db);
    let (out, err, ok) = binary::console(dir.path(), &["check"], "");
    assert!(ok, "{err}");
    assert!(out.contains("is in orde"), "{out}");
    assert!(out.contains("19 lessen"), "{out}");
    assert!(out.contains("Er is niets veranderd"), "{out}");
    assert_eq!(files(&db), before, "not a byte changed");

    // A record that does not decode and a counter behind the lessons.
    {
        let store = SledStore::open(&db, None).unwrap();
        let mut b = Batch::new();
        b.put(
            Tree::Answers,
            b"\x00garbage".to_vec(),
            b"{not json".to_vec(),
        );
        b.put(Tree::Meta, b"next_id:lesson".to_vec(), 3u64.to_be_bytes());
        store.commit(b).unwrap();
    }
    let _ = std::fs::remove_file(db.join("academie-closed"));
    let before = files(&db);
    let (out, err, ok) = binary::console(dir.path(), &["--lang", "en", "check"], "");
    assert!(!ok, "{out}");
    assert!(err.contains("has 2 problems; nothing was changed"), "{err}");
    assert!(err.contains("answers at key"), "{err}");
    assert!(err.contains("cannot be read"), "{err}");
    assert!(
        err.contains("the lesson counter is at 3, behind lesson 19"),
        "{err}"
    );
    assert_eq!(files(&db), before, "not a byte changed");

    // A damaged database: the same sentence as at start.
    let mut bytes = std::fs::read(db.join("db")).unwrap();
    bytes.truncate(4096);
    std::fs::write(db.join("db"), &bytes).unwrap();
    let before = files(&db);
    let (_, err, ok) = binary::console(dir.path(), &["check"], "");
    assert!(!ok);
    assert!(err.contains(SENTENCE), "{err}");
    assert_eq!(files(&db), before);
}

#[test]
fn check_is_refused_while_the_academy_runs() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(base(false).dir.path(), dir.path());
    let _open = SledStore::open(&dir.path().join("db"), None).unwrap();
    let (_, err, ok) = binary::console(dir.path(), &["check"], "");
    assert!(!ok);
    assert!(
        err.contains("De academie draait op") && err.contains("stop haar eerst"),
        "{err}"
    );
}

#[test]
fn a_damaged_database_is_restored_from_the_newest_good_automatic_backup() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(base(false).dir.path(), dir.path());
    let db = dir.path().join("db");
    // Cut, not flipped: a flip may land in bytes sled no longer uses.
    let bytes = std::fs::read(db.join("db")).unwrap();
    std::fs::write(db.join("db"), &bytes[..bytes.len() / 2]).unwrap();
    let (_, err, ok) = console(dir.path(), "/stop\n");
    assert!(!ok);
    assert!(err.contains(SENTENCE), "{err}");
    let named = err
        .split("academie restore ")
        .nth(1)
        .and_then(|rest| rest.split(" (").next())
        .expect("names a backup")
        .to_owned();
    assert!(Path::new(&named).exists(), "{named}");

    let (out, err, ok) = binary::console(dir.path(), &["restore"], "");
    assert!(ok, "{err}");
    assert!(out.contains(&format!("Hersteld uit {named}")), "{out}");
    assert!(out.contains("De vorige database staat nu in"), "{out}");
    // The backup was taken at the first start, when the library had just been loaded.
    let (out, err, ok) = console(dir.path(), "/les tonen id:L18\n/stop\n");
    assert!(ok, "{err}");
    assert!(!out.contains("startbibliotheek"), "{out}");
    assert!(out.contains("── L18"), "{out}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("db.before-restore-")),
        "the damaged database is kept"
    );
}
