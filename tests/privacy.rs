//! A member's data, checked against the raw database: the export holds every record the store
//! keeps about them, and after "delete my data" none of their texts, their name or their id is
//! left in any file of the database — sled keeps removed bytes until they are rewritten.

use crate::binary;

use academie::console::user_id_for;
use academie::store::{SledStore, Store, Tree};
use serde_json::Value;
use std::path::{Path, PathBuf};

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
/moderator ronde onthullen
/stop
"
    );
    let out = console(dir, &script);
    assert!(out.contains("L20"), "{out}");
    assert!(!out.contains('⚠'), "every step succeeded:\n{out}");
}

/// Every file under `dir` with its bytes, except the member's own downloaded export.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(files(&path));
        } else if !path.to_string_lossy().contains("export") {
            all.push((path.clone(), std::fs::read(&path).unwrap()));
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
    let all = files(dir);
    needles
        .into_iter()
        .filter_map(|(name, needle)| {
            all.iter()
                .find(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
                .map(|(path, _)| (name, path.clone()))
        })
        .collect()
}

#[test]
fn deleting_my_data_leaves_none_of_it_in_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
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

    let after = found(dir.path());
    assert!(after.is_empty(), "left in the raw files: {after:?}");

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
