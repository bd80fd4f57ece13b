//! Drives the built `academie` binary as a newcomer would: typed commands in, printed text out.

mod binary;

use binary::{academie, console, copy_dir};
use std::path::Path;
use std::process::Stdio;

/// Where the console saved a data export, and the export read back.
fn exported(out: &str) -> (String, serde_json::Value) {
    let path = after(out, "Bijlage opgeslagen in ")
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("Bijlage opgeslagen in ")
        .trim()
        .to_owned();
    let json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, json)
}

/// The text printed for the command on line `needle` up to the next command's reply.
fn after<'a>(out: &'a str, needle: &str) -> &'a str {
    let start = out
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{out}"));
    &out[start..]
}

#[test]
fn a_whole_round_and_a_lesson_from_sharing_to_a_published_digest() {
    let dir = tempfile::tempdir().unwrap();
    let script = "\
/instellen opgave: Klimaatadaptatie Rivierenland regio: Gelderland lagen: rijk, waterschap, gemeente
/ronde start stap:1
/als Anna
/bestuurslaag waterschap
/antwoord geven tekst: Het vraagstuk is wateroverlast in de dorpen.
/als Bram
/ronde status
/antwoord Voor ons is het vraagstuk de ruimte voor de rivier.
/ronde onthullen
/als Ik
/ronde onthullen
/als Anna
/les delen titel: Vraag om mandaat gebeurd: Ik zat aan tafel zonder mandaat. les: Vraag vooraf wat je mag toezeggen. orde: eerste stappen: 2,4 als: anoniem
/als Ik
/beoordeling wachtrij
/beoordeling goedkeuren id:L19
/digest samenstellen titel: Digest december
/digest publiceren id:D1
/stop
";
    let (out, err, ok) = console(dir.path(), &[], script);
    assert!(ok, "the console failed: {err}\n{out}");

    assert!(
        out.contains("Welkom bij de Academie voor Opgavegericht Samenwerken"),
        "{out}"
    );
    assert!(
        out.contains("De startbibliotheek met 18 lessen is geladen"),
        "{out}"
    );
    assert!(
        out.contains("samenwerking rond \"Klimaatadaptatie Rivierenland\" in Gelderland"),
        "{out}"
    );
    let started = after(&out, "── R1 · Stap 1 — Het vraagstuk  [in het kanaal]");
    assert!(started.contains("Wat is volgens ons het vraagstuk?"));

    // Bram sees who answered, not what; a member cannot reveal.
    let status = after(&out, "1 antwoord, van: Anna.");
    assert!(!status[..200.min(status.len())].contains("wateroverlast"));
    assert!(
        out.contains("⚠ Dit mag alleen een moderator. Er is niets gewijzigd."),
        "{out}"
    );
    let before_reveal = &out[..out.find("R1 onthuld").expect("revealed")];
    assert_eq!(
        before_reveal.matches("wateroverlast in de dorpen").count(),
        1,
        "only Anna's own echo before the reveal"
    );
    assert_eq!(
        before_reveal.matches("ruimte voor de rivier").count(),
        1,
        "only Bram's own echo before the reveal"
    );

    let reveal = after(
        &out,
        "── R1 onthuld · Stap 1 — Het vraagstuk  [in het kanaal]",
    );
    assert!(reveal.contains("2 antwoorden, naast elkaar:"));
    assert!(
        reveal.contains("▸ Anna (Waterschap)\n    Het vraagstuk is wateroverlast in de dorpen."),
        "{reveal}"
    );
    assert!(
        reveal.contains("▸ Bram\n    Voor ons is het vraagstuk de ruimte voor de rivier."),
        "{reveal}"
    );

    let shared = after(&out, "Je les L19 \"Vraag om mandaat\" is opgeslagen");
    assert!(shared.contains("anoniem"));
    let queue = after(&out, "── Beoordeling");
    assert!(queue.contains("L19 · Vraag om mandaat"), "{queue}");
    assert!(queue.contains("/beoordeling goedkeuren id:L19"), "{queue}");
    assert!(
        out.contains("Les L19 \"Vraag om mandaat\" is goedgekeurd."),
        "{out}"
    );
    assert!(
        out.contains("✉ Bericht voor Anna: Je les L19"),
        "the author is told: {out}"
    );
    let preview = after(&out, "Concept D1");
    assert!(preview.contains("/digest publiceren id:D1"));
    let published = after(&out, "── Digest december  [in het kanaal]");
    assert!(published.contains("Eerste orde"), "{published}");
    assert!(
        published.contains("**Vraag om mandaat** (L19)\n"),
        "{published}"
    );
    assert!(
        !published.contains("Anna"),
        "an anonymous lesson is never attributed: {published}"
    );
}

#[test]
fn english_by_flag_and_clear_errors_for_typos() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _, ok) = console(
        dir.path(),
        &["--lang", "en"],
        "/questions step:2\n/round start step:9\n/frobnicate\n/answer\n/quit\n",
    );
    assert!(ok);
    assert!(
        out.contains("Welcome to the Academy for Task-Oriented Collaboration"),
        "{out}"
    );
    assert!(out.contains("Who are the others?"), "{out}");
    assert!(
        out.contains("⚠ The value \"9\" does not fit step: expected a step from 1 to 5."),
        "{out}"
    );
    assert!(
        out.contains("⚠ I don't know the command \"frobnicate\""),
        "{out}"
    );
    assert!(
        out.contains("⚠ text is missing. Usage: /answer submit text:…"),
        "{out}"
    );
}

#[test]
fn my_data_is_exported_to_a_file_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let script = "/instellen opgave: Wonen regio: Utrecht lagen: gemeente\n/ronde start stap:1\n/als Joost\n/antwoord Betaalbaar wonen\n/mijngegevens exporteren\n";
    let (out, err, ok) = console(dir.path(), &[], script);
    assert!(ok, "{err}");
    let (path, json) = exported(&out);
    assert_eq!(json["answers"][0]["text"], "Betaalbaar wonen");
    assert_eq!(json["answers"][0]["name"], "Joost");

    // A later session: Joost is known by name, so his data is his again.
    let script = "/als Joost\n/mijngegevens verwijderen\n/mijngegevens verwijderen bevestig:ja\n/mijngegevens exporteren\n";
    let (out, err, ok) = console(dir.path(), &[], script);
    assert!(ok, "{err}");
    assert!(out.contains("Weet je het zeker?"), "{out}");
    assert!(
        out.contains("Verwijderd: je profiel, 1 antwoord en 0 lessen."),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        json["answers"].as_array().map(Vec::len),
        Some(0),
        "after deleting, nothing is left"
    );
}

#[test]
fn importing_lessons_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lessons = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let run = || {
        let out = academie(dir.path())
            .args(["lessons", "import"])
            .arg(&lessons)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(run().contains("18 toegevoegd, 0 bijgewerkt, 0 ongewijzigd"));
    assert!(run().contains("0 toegevoegd, 0 bijgewerkt, 18 ongewijzigd"));
}

#[test]
fn a_database_in_use_is_refused_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = academie(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first console has the database open (it prints its welcome then).
    let mut stdout = first.stdout.take().unwrap();
    let mut buf = [0u8; 64];
    std::io::Read::read(&mut stdout, &mut buf).unwrap();
    let (_, err, ok) = console(dir.path(), &[], "/quit\n");
    drop(first.stdin.take());
    first.wait().unwrap();
    assert!(!ok);
    assert!(err.contains("is in use by another process"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one clear sentence: {err}");
}

#[test]
fn an_unknown_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("academie.toml"),
        "[storage]\ndatabase = \"x\"\n",
    )
    .unwrap();
    let out = academie(dir.path()).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown field `database`") && err.contains("academie.toml"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_token_in_a_file_others_can_read_is_warned_about_and_never_printed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let token = "canary-token-in-file-7c1d";
    let config = dir.path().join("academie.toml");
    std::fs::write(&config, format!("[discord]\ntoken = \"{token}\"\n")).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    // `console` explicitly: with a token configured, serve would be the default.
    let (out, err, ok) = console(dir.path(), &["console"], "/stop\n");
    assert!(ok, "{err}");
    assert!(err.contains("chmod 600"), "{err}");
    assert!(
        !err.contains(token) && !out.contains(token),
        "the token leaked"
    );

    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, err, ok) = console(dir.path(), &["console"], "/stop\n");
    assert!(ok);
    assert!(
        !err.contains("chmod"),
        "no warning for a private file: {err}"
    );
}

#[test]
fn a_truncated_database_is_refused_with_one_clear_sentence_instead_of_starting_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (_, err, ok) = console(
        dir.path(),
        &[],
        "/instellen opgave: Water regio: Delta lagen: gemeente\n/stop\n",
    );
    assert!(ok, "{err}");
    let file = dir.path().join("db").join("db");
    let full = std::fs::read(&file).unwrap();
    assert!(full.len() > 10_000);

    std::fs::write(&file, &full[..100]).unwrap();
    let (out, err, ok) = console(dir.path(), &[], "/samenwerking\n/stop\n");
    assert!(!ok, "a damaged database must not start: {out}");
    assert!(err.contains("is beschadigd en is niet geopend"), "{err}");
    assert!(err.contains("academie restore"), "says what to do: {err}");
    assert!(
        err.contains(&dir.path().join("db").display().to_string()),
        "names the folder: {err}"
    );
    assert!(
        !out.contains("startbibliotheek"),
        "nothing was re-created over the lost data"
    );
    assert!(!err.contains("panicked"), "{err}");

    // Flipped bytes: whatever sled makes of them, never a panic.
    let mut flipped = full.clone();
    for i in (200..flipped.len()).step_by(997) {
        flipped[i] ^= 0xff;
    }
    std::fs::write(&file, &flipped).unwrap();
    let (_, err, _) = console(dir.path(), &[], "/samenwerking\n/stop\n");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_database_of_the_first_schema_is_upgraded_on_open_and_keeps_everything() {
    use academie::store::{schema_version, SledStore, Store, Tree, SCHEMA_VERSION};
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema1");
    copy_dir(&fixture.join("academie.db"), &dir.path().join("db"));
    {
        let old = SledStore::open(&dir.path().join("db"), None).unwrap();
        assert_eq!(schema_version(&old).unwrap(), 1, "the fixture is schema 1");
        assert!(old.scan_prefix(Tree::Participants, &[]).unwrap().is_empty());
    }

    let script =
        "/ronde status\n/les zoeken tekst:vraagstuk orde:eerste\n/als Anna\n/mijngegevens exporteren\n";
    let (out, err, ok) = console(dir.path(), &[], script);
    assert!(ok, "{err}");
    assert!(
        after(&out, "Lessen zoeken").contains("gevonden (pagina 1 van"),
        "the starter library is found through the rebuilt index:\n{out}"
    );
    assert!(out.contains("R1"), "the open round is still there:\n{out}");
    assert!(
        out.contains("2 antwoorden") || out.contains("2 antwoord"),
        "both answers are still counted:\n{out}"
    );
    let (_, json) = exported(&out);
    assert_eq!(
        json["answers"][0]["text"],
        "Volgens ons gaat het om wateroverlast die niemand alleen kan oplossen."
    );
    assert_eq!(json["participation"][0]["name"], "Anna", "{json}");

    let store = SledStore::open(&dir.path().join("db"), None).unwrap();
    assert_eq!(schema_version(&store).unwrap(), SCHEMA_VERSION);
    let participants = store.scan_prefix(Tree::Participants, &[]).unwrap();
    assert_eq!(participants.len(), 2, "Anna and Bram became participants");
    drop(store);

    // Opening again migrates nothing more and changes nothing.
    let (_, err, ok) = console(dir.path(), &[], "/ronde status\n");
    assert!(ok, "{err}");
    let store = SledStore::open(&dir.path().join("db"), None).unwrap();
    assert_eq!(store.scan_prefix(Tree::Participants, &[]).unwrap().len(), 2);
}
