//! A member's data, checked against the raw database: the export holds every record the store
//! keeps about them, and after "delete my data" none of their texts, their name or their id is
//! left in any file of the data folder — sled keeps removed bytes until they are rewritten, the
//! academy's automatic backups and the databases a restore set aside hold them too, and their
//! own export file holds everything. A delete killed half-way is finished at the next start.

use crate::binary;

use academie::console::user_id_for;
use academie::store::{SledStore, Store, Tree};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const CANARY: &str = "Quirinus Kanariepiet";
const ANSWER: &str = "Kanarie-antwoord-4f1a over de zoutwig";
const TITLE: &str = "Kanarieles-9b2c";
const HAPPENED: &str = "Kanariegebeurd-77d0";
const LESSON: &str = "Kanarieles-tekst-3e5f";
const NOTE: &str = "Kanarienotitie-c4a8";
const BRAM_ANSWER: &str = "Brams-antwoord-blijft-8d2e";
const BRAM_LESSON: &str = "Bramsles-blijft-1a9c";
const QUESTION: &str = "Kanarievraag-5d3b";
const QANSWER: &str = "Kanarie-vraagantwoord-e81f";
const BRAM_QANSWER: &str = "Brams-vraagantwoord-blijft-0c6d";

fn console(dir: &Path, script: &str) -> String {
    let (stdout, stderr, ok) = binary::console(dir, &[], script);
    assert!(ok, "{stderr}\n{stdout}");
    stdout
}

/// Everything the canary does, with a second member and an administrator around them. Bram's
/// lesson is L19, which the canary approves as a moderator; the canary's own is L20.
fn populate(dir: &Path) {
    let script = format!(
        "/instellen opgave: Zoutwig Noord regio: Friesland lagen: rijk, gemeente, waterschap
/moderator ronde start stap:3
/als Bram
/antwoord {BRAM_ANSWER}
/les delen titel: {BRAM_LESSON} gebeurd: Bram zag het. les: Bram leerde het. orde: tweede stappen: 2 als: naam
/als {CANARY} rol:moderator
/bestuurslaag gemeente
/herinneringen via:dm
/antwoord {ANSWER}
/stem perspectief:netwerkend
/les delen titel: {TITLE} gebeurd: {HAPPENED} les: {LESSON} orde: eerste stappen: 2,3 als: naam
/les toegepast id:L1 notitie: {NOTE}
/doenleren plaatsen opbrengst:veel lessen:weinig
/moderator beoordeling goedkeuren id:L19
/als Bram
/vraag stellen tekst: Hoe doen jullie dat met de zoutwig?
/als {CANARY}
/vraag stellen tekst: {QUESTION}
/vraag beantwoorden id:V1 tekst: {QANSWER} als: naam
/moderator bijeenkomst plannen wanneer: 2099-06-01 10:00 adres: Stadhuis
/bijeenkomst aanmelden id:B1
/als Bram
/vraag beantwoorden id:V2 tekst: {BRAM_QANSWER}
/als Ik
/moderator vraag les id:V1 titel: Zoutwig-aanpak orde: eerste
/als {CANARY}
/vraag toestemming id:V1 akkoord:ja
/als Ik
/moderator beoordeling goedkeuren id:L20
/moderator digest samenstellen titel: Zoutwig maart
/moderator digest publiceren id:D1
/moderator ronde onthullen
/stop
"
    );
    let out = console(dir, &script);
    assert!(out.contains("L20"), "{out}");
    assert!(!out.contains('⚠'), "every step succeeded:\n{out}");
}

/// Every file under `dir` with its bytes, except what the console saved as handed to a user
/// (the member's own downloaded export among it); the published site is the academy's and is
/// included. A backup keeps its entries in base64, so its entries are added decoded, as anyone
/// could decode them.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        let handed_out =
            path.parent().is_some_and(|p| p.ends_with("export")) && !path.ends_with("export/site");
        if kind.is_dir() && !handed_out {
            all.extend(files(&path));
        } else if kind.is_file() && !handed_out {
            let mut bytes = std::fs::read(&path).unwrap();
            if let Ok(backup) =
                academie::engine::backup::read_backup(&academie::files::LocalDisk, &path)
            {
                for (_, key, value) in backup.entries {
                    bytes.extend(key);
                    bytes.extend(value);
                }
            }
            all.push((path.clone(), bytes));
        }
    }
    all
}

/// The canaries found in the raw files, each with a file it is in.
fn found(dir: &Path) -> Vec<(String, PathBuf)> {
    let id = user_id_for(CANARY);
    let needles: Vec<(String, Vec<u8>)> = [
        ANSWER, TITLE, HAPPENED, LESSON, NOTE, QUESTION, QANSWER, CANARY,
    ]
    .iter()
    .map(|t| (t.to_string(), t.as_bytes().to_vec()))
    .chain([
        (format!("id {}", id.0), id.0.to_string().into_bytes()),
        ("id as key bytes".to_string(), id.key().to_vec()),
    ])
    .collect();
    let all: Vec<(PathBuf, String)> = files(dir)
        .into_iter()
        .map(|(path, bytes)| (path, latin1(&bytes)))
        .collect();
    needles
        .into_iter()
        .filter_map(|(name, needle)| {
            let needle = latin1(&needle);
            all.iter()
                .find(|(_, text)| text.contains(&needle))
                .map(|(path, _)| (name, path.clone()))
        })
        .collect()
}

/// Bytes as text, one character per byte, so the standard library's fast substring search
/// finds raw byte sequences too.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

/// Whether any file under `dir` holds the canary's name.
fn holds_canary(dir: &Path) -> bool {
    let needle = latin1(CANARY.as_bytes());
    files(dir).iter().any(|(_, b)| latin1(b).contains(&needle))
}

/// The folders beside the database whose names start with `prefix`.
fn beside(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

#[test]
fn deleting_my_data_leaves_none_of_it_in_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    // The member downloads their data; the academy backs itself up while they are in it (a
    // start after the interval has passed); and an administrator restores a backup, which sets
    // the database before it aside.
    let out = console(
        dir.path(),
        &format!("/als {CANARY}\n/mijngegevens exporteren\n/stop\n"),
    );
    assert!(out.contains("Bijlage opgeslagen in"), "{out}");
    let export = dir
        .path()
        .join("export")
        .join(format!("academie-{}.json", user_id_for(CANARY).0));
    assert!(export.exists());
    std::thread::sleep(Duration::from_millis(1100));
    let out = binary::academie(dir.path())
        .env("ACADEMIE_BACKUP_INTERVAL", "1s")
        .arg("console")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let elsewhere = tempfile::tempdir().unwrap();
    let manual = elsewhere.path().join("b.backup");
    let (_, err, ok) = binary::console(dir.path(), &["backup", manual.to_str().unwrap()], "");
    assert!(ok, "{err}");
    let (_, err, ok) = binary::console(dir.path(), &["restore", manual.to_str().unwrap()], "");
    assert!(ok, "{err}");
    let backups = dir.path().join("db.backups");
    let set_aside = beside(dir.path(), "db.before-restore-");
    assert!(
        holds_canary(&backups),
        "an automatic backup holds the member"
    );
    assert_eq!(set_aside.len(), 1);
    assert!(
        holds_canary(&set_aside[0]),
        "the set-aside database holds the member"
    );
    let site = dir.path().join("export").join("site");
    assert!(
        files(&site)
            .iter()
            .any(|(_, b)| latin1(b).contains(&latin1(TITLE.as_bytes()))),
        "the published site shows the member's lesson, so the check of the site can fail"
    );
    let before = found(dir.path());
    assert_eq!(
        before.len(),
        10,
        "every canary is in the files before the delete, so the check can fail: {before:?}"
    );

    let out = console(
        dir.path(),
        &format!("/als {CANARY}\n/mijngegevens verwijderen bevestig:ja\n/stop\n"),
    );
    assert!(
        out.contains("Verwijderd: je profiel, 1 antwoord en 1 les"),
        "{out}"
    );
    assert!(
        out.contains("je krijgt een bericht zodra dat gebeurd is"),
        "{out}"
    );
    // The point the reply names: the message that the files no longer hold them came.
    let told = out
        .find("Je gegevens zijn nu ook gewist uit de website, uit de bestanden van de academie op schijf en uit de reservekopieën")
        .expect("the member was told their data left the files");
    assert!(
        out.find("Verwijderd: je profiel")
            .is_some_and(|reply| reply < told),
        "{out}"
    );

    let after = found(dir.path());
    assert!(after.is_empty(), "left in the raw files: {after:?}");
    assert!(!export.exists(), "their export file went with their data");
    assert!(!holds_canary(&backups) && !holds_canary(&set_aside[0]));
    assert!(
        std::fs::read_dir(&backups).unwrap().count() > 0,
        "the backups were rewritten, not thrown away"
    );
    assert!(
        holds_canary(elsewhere.path()),
        "a backup an administrator made elsewhere is theirs to keep or delete"
    );

    // The others' data is still there, on disk and through the academy.
    let raw: Vec<u8> = files(dir.path()).into_iter().flat_map(|(_, b)| b).collect();
    for text in [BRAM_ANSWER, BRAM_LESSON, BRAM_QANSWER] {
        assert!(
            raw.windows(text.len()).any(|w| w == text.as_bytes()),
            "{text} was kept"
        );
    }
    let out = console(
        dir.path(),
        "/les tonen id:L19\n/ronde status\n/les tonen id:L20\n/stop\n",
    );
    assert!(out.contains(BRAM_LESSON), "{out}");
    assert!(out.contains("1 antwoord, van: Bram."), "{out}");
    assert!(out.contains("Er is geen les L20."), "{out}");
}

/// Whether `needle` occurs as a value anywhere inside `hay`.
fn contains_value(hay: &Value, needle: &Value) -> bool {
    hay == needle
        || match hay {
            Value::Array(items) => items.iter().any(|v| contains_value(v, needle)),
            Value::Object(map) => map.values().any(|v| contains_value(v, needle)),
            _ => false,
        }
}

/// Whether a stored value mentions the user: their id as any number, or their name in any text.
fn mentions(value: &Value, id: u64) -> bool {
    match value {
        Value::Number(n) => n.as_u64() == Some(id),
        Value::String(s) => s.contains(CANARY),
        Value::Array(items) => items.iter().any(|v| mentions(v, id)),
        Value::Object(map) => map.values().any(|v| mentions(v, id)),
        _ => false,
    }
}

#[test]
fn the_export_holds_every_record_that_mentions_the_member() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    let id = user_id_for(CANARY);
    let out = console(
        dir.path(),
        &format!("/als {CANARY}\n/mijngegevens exporteren\n/stop\n"),
    );
    assert!(out.contains("Bijlage opgeslagen in"), "{out}");
    let file = dir
        .path()
        .join("export")
        .join(format!("academie-{}.json", id.0));
    let export: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();

    let store = SledStore::open(&dir.path().join("db"), None).unwrap();
    let mut checked = Vec::new();
    let mut missing = Vec::new();
    for (tree, entries) in store.snapshot().unwrap() {
        for (key, bytes) in entries {
            let in_key = key.windows(8).any(|w| w == id.key());
            let value: Option<Value> = serde_json::from_slice(&bytes).ok();
            let in_value = value.as_ref().is_some_and(|v| mentions(v, id.0));
            if !in_key && !in_value {
                continue;
            }
            checked.push(tree.name());
            let record = value.unwrap_or(Value::Null);
            // A record is exported whole, or — where it merely names them as the one who acted
            // — by its id in the matching list.
            let listed = |list: &str, field: &str| {
                export[list]
                    .as_array()
                    .is_some_and(|ids| ids.contains(&record[field]))
            };
            let exported = contains_value(&export, &record)
                || match tree {
                    Tree::Rounds => listed("rounds_started", "id"),
                    Tree::Collaborations => listed("collaborations_configured", "channel"),
                    Tree::Digests => listed("digests_composed", "id"),
                    Tree::Lessons => {
                        listed("lessons_reviewed", "id") || listed("lessons_from_answers", "id")
                    }
                    Tree::Meetings => listed("meetings_planned", "id"),
                    // Another's question names them only as someone asked for consent.
                    Tree::Questions => export["consents"]
                        .as_array()
                        .is_some_and(|c| c.iter().any(|x| x[0] == record["id"])),
                    _ => false,
                };
            if !exported {
                missing.push(format!(
                    "{}: key {:02x?} value {}",
                    tree.name(),
                    key,
                    String::from_utf8_lossy(&bytes)
                ));
            }
        }
    }
    for tree in [
        "members",
        "answers",
        "lessons",
        "participants",
        "applications",
        "votes",
        "placements",
        "audit",
        "questions",
        "question_answers",
        "sign_ups",
        "meetings",
    ] {
        assert!(
            checked.contains(&tree),
            "the scan found the member in {tree}, so it can fail there: {checked:?}"
        );
    }
    assert!(
        missing.is_empty(),
        "not in the export:\n{}",
        missing.join("\n")
    );
}

/// Many lesson files, so the database is large enough that its rewrite takes a while.
fn grow(dir: &Path, count: usize) {
    let lessons = dir.join("generated");
    std::fs::create_dir_all(&lessons).unwrap();
    let text =
        "Aan de regionale tafel bleek dat niemand de rol van het Rijk had benoemd. ".repeat(12);
    for i in 0..count {
        std::fs::write(
            lessons.join(format!("{i:04}.md")),
            format!(
                "+++\nkey = \"groei-{i}\"\norder = \"first\"\nsteps = [1]\ntags = [\"groei\"]\n\
                 source = \"test\"\n+++\n\n# Les {i}\n\n## Wat er gebeurde\n\n{text}\n\n## De les\n\n\
                 {text}\n\n# Lesson {i}\n\n## What happened\n\n{text}\n\n## The lesson\n\n{text}\n"
            ),
        )
        .unwrap();
    }
    let (out, err, ok) = binary::console(dir, &["lessons", "import", "generated"], "");
    assert!(ok, "{err}\n{out}");
    std::fs::remove_dir_all(lessons).unwrap();
}

/// Where a delete was when it was killed.
#[derive(Debug, Default)]
struct Killed {
    /// The request was recorded, so the deletion must be finished.
    recorded: bool,
    /// The rewrite of the database was under way.
    rewriting: bool,
    /// The member's data was still in the raw files.
    in_files: bool,
}

/// Starts a delete of the canary's data and kills the binary (SIGKILL) once `ready` holds.
fn kill_delete(dir: &Path, ready: &dyn Fn() -> bool) -> Killed {
    let mut child = binary::academie(dir)
        .arg("console")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("/als {CANARY}\n/mijngegevens verwijderen bevestig:ja\n").as_bytes())
        .unwrap();
    let since = Instant::now();
    while !ready() {
        assert!(
            since.elapsed() < Duration::from_secs(20),
            "the delete never reached the moment to kill it"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    let recorded = dir
        .join("db.erasing")
        .join(format!("{}.json", user_id_for(CANARY).0))
        .exists();
    Killed {
        recorded,
        rewriting: dir.join("db.rewrite-new").exists() || dir.join("db.rewrite-old").exists(),
        in_files: holds_canary(dir),
    }
}

#[test]
fn a_delete_killed_half_way_is_finished_at_the_next_start() {
    let base = tempfile::tempdir().unwrap();
    populate(base.path());
    grow(base.path(), 120);
    let erasing = |dir: &Path| {
        dir.join("db.erasing")
            .join(format!("{}.json", user_id_for(CANARY).0))
    };
    type Trigger = Box<dyn Fn(&Path) -> bool>;
    let triggers: Vec<(&str, Trigger)> = vec![
        // The moment the rewrite of the database folder begins.
        (
            "in the rewrite",
            Box::new(|d: &Path| d.join("db.rewrite-new").exists()),
        ),
        // The moment the request is recorded, before or while its records are removed.
        (
            "once recorded",
            Box::new(move |d: &Path| erasing(d).exists()),
        ),
        // A little later: the rewrite, the copies or the export.
        (
            "later",
            Box::new(|d: &Path| d.join("db.rewrite-new").join("db").exists()),
        ),
    ];
    let mut mid_rewrite = 0;
    for round in 0..3 {
        for (name, trigger) in &triggers {
            let dir = tempfile::tempdir().unwrap();
            binary::copy_dir(base.path(), dir.path());
            let killed = kill_delete(dir.path(), &|| trigger(dir.path()));
            if killed.rewriting && killed.in_files {
                mid_rewrite += 1;
            }
            assert!(
                killed.recorded || killed.in_files,
                "{name}: killed before it was recorded, yet the data was gone: {killed:?}"
            );
            let began = Instant::now();
            let (out, err, ok) = binary::console(dir.path(), &[], "/stop\n");
            assert!(ok, "{name}, round {round}: {err}\n{out}");
            println!(
                "{name}, round {round}: {killed:?}; the next start took {:?}",
                began.elapsed()
            );
            // Once the request is recorded, or the database is being rewritten for it, the
            // deletion is under way and the next start must complete it.
            if killed.recorded || killed.rewriting {
                let left = found(dir.path());
                assert!(
                    left.is_empty(),
                    "{name}, round {round}, {killed:?}: the next start did not finish the delete; \
                     left in the raw files: {left:?}"
                );
                assert!(err.contains("finished a deletion"), "{err}");
                assert!(
                    !erasing(dir.path()).exists(),
                    "the record is gone once it is done"
                );
                let out = console(
                    dir.path(),
                    &format!("/les tonen id:L19\n/als {CANARY}\n/mijngegevens exporteren\n/stop\n"),
                );
                assert!(
                    out.contains(BRAM_LESSON),
                    "the others' data is kept:\n{out}"
                );
                assert!(
                    out.contains("je profiel, 0 antwoorden en 0 lessen"),
                    "{out}"
                );
            }
        }
    }
    assert!(
        mid_rewrite > 0,
        "no kill landed in the middle of the rewrite, so the test proved nothing about it"
    );
}
