//! Drives the built `academie` binary as a newcomer would: typed commands in, printed text out.

use crate::binary;
use crate::support::text::{contains, lacks};

use binary::{academie, console, console_ok, copy_dir};
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
/moderator ronde start stap:1
/als Anna
/bestuurslaag waterschap
/antwoord geven tekst: Het vraagstuk is wateroverlast in de dorpen.
/als Bram
/ronde status
/antwoord Voor ons is het vraagstuk de ruimte voor de rivier.
/moderator ronde onthullen
/als Ik
/moderator ronde onthullen
/als Anna
/les delen titel: Vraag om mandaat gebeurd: Ik zat aan tafel zonder mandaat. les: Vraag vooraf wat je mag toezeggen. orde: eerste stappen: 2,4 als: anoniem
/als Ik
/moderator beoordeling wachtrij
/moderator beoordeling goedkeuren id:L19
/moderator digest samenstellen titel: Digest december
/moderator digest publiceren id:D1
/stop
";
    let (out, err, ok) = console(dir.path(), &[], script);
    assert!(ok, "the console failed: {err}\n{out}");

    contains(
        &out,
        "Welkom bij de Academie voor Opgavegericht Samenwerken",
    );
    contains(&out, "De startbibliotheek met 18 lessen is geladen");
    contains(
        &out,
        "samenwerking rond \"Klimaatadaptatie Rivierenland\" in Gelderland",
    );
    let started = after(&out, "── R1 · Stap 1 — Het vraagstuk  [in het kanaal]");
    assert!(started.contains("Wat is volgens ons het vraagstuk?"));

    // Bram sees who answered, not what; a member cannot reveal.
    let status = after(&out, "1 antwoord, van: Anna.");
    assert!(!status[..200.min(status.len())].contains("wateroverlast"));
    contains(
        &out,
        "⚠ Dit mag alleen een moderator. Er is niets gewijzigd.",
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
    contains(
        reveal,
        "▸ Anna (Waterschap)\n    Het vraagstuk is wateroverlast in de dorpen.",
    );
    contains(
        reveal,
        "▸ Bram\n    Voor ons is het vraagstuk de ruimte voor de rivier.",
    );

    let shared = after(&out, "Je les L19 \"Vraag om mandaat\" is opgeslagen");
    assert!(shared.contains("anoniem"));
    let queue = after(&out, "── Beoordeling");
    contains(queue, "L19 · Vraag om mandaat");
    contains(queue, "/moderator beoordeling goedkeuren id:L19");
    contains(&out, "Les L19 \"Vraag om mandaat\" is goedgekeurd.");
    assert!(
        out.contains("✉ Bericht voor Anna: Je les L19"),
        "the author is told: {out}"
    );
    let preview = after(&out, "Concept D1");
    assert!(preview.contains("/moderator digest publiceren id:D1"));
    let published = after(&out, "── Digest december  [in het kanaal]");
    contains(published, "Eerste orde");
    contains(published, "Vraag om mandaat (L19)\n");
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
        "/questions step:2\n/moderator round start step:9\n/frobnicate\n/answer\n/quit\n",
    );
    assert!(ok);
    contains(
        &out,
        "Welcome to the Academy for Task-Oriented Collaboration",
    );
    contains(&out, "Who are the others?");
    contains(
        &out,
        "⚠ The value \"9\" does not fit step: expected a step from 1 to 5.",
    );
    contains(&out, "⚠ I don't know the command \"frobnicate\"");
    contains(&out, "⚠ Fill in text. Usage: /answer submit text:…");
}

#[test]
fn my_data_is_exported_to_a_file_and_deleted() {
    let script = "/instellen opgave: Wonen regio: Utrecht lagen: gemeente\n/moderator ronde start stap:1\n/als Joost\n/antwoord Betaalbaar wonen\n/mijngegevens exporteren\n";
    let (dir, out) = console_ok(script);
    let (path, json) = exported(&out);
    assert_eq!(json["answers"][0]["text"], "Betaalbaar wonen");
    assert_eq!(json["answers"][0]["name"], "Joost");

    // A later session: Joost is known by name, so his data is his again.
    let script = "/als Joost\n/mijngegevens verwijderen\n/mijngegevens verwijderen bevestig:ja\n/mijngegevens exporteren\n";
    let (out, err, ok) = console(dir.path(), &[], script);
    assert!(ok, "{err}");
    contains(&out, "Weet je het zeker?");
    contains(&out, "Verwijderd: je profiel, 1 antwoord en 0 lessen.");
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
    contains(
        &err,
        "is in gebruik door een ander proces (draait de academie al?)",
    );
    assert_eq!(err.trim().lines().count(), 1, "one clear sentence: {err}");
}

#[test]
fn a_database_that_cannot_be_opened_is_said_in_the_users_language_with_the_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    // A file where a folder of the database path should be.
    std::fs::write(dir.path().join("file"), "").unwrap();
    let db = dir.path().join("file/academie.db");
    for (args, says) in [
        (
            &["console"][..],
            "kan niet worden geopend: een deel van het pad is een bestand, geen map.",
        ),
        (
            &["--lang", "en", "console"][..],
            "cannot be opened: part of the path is a file, not a folder.",
        ),
    ] {
        let out = academie(dir.path())
            .env("ACADEMIE_DATABASE", &db)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        contains(&err, says);
        assert!(
            !err.contains("os error"),
            "the system's wording is not repeated: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

/// Runs the console with `script` and extra environment; returns (stdout, stderr, success).
fn console_with(dir: &Path, env: &[(&str, &str)], script: &[u8]) -> (String, String, bool) {
    use std::io::Write;
    let mut cmd = academie(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A console refused at start does not read its input.
    let _ = child.stdin.take().unwrap().write_all(script);
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[test]
fn one_byte_that_is_not_text_is_skipped_with_a_sentence_and_the_console_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (out, err, ok) = console_with(
        dir.path(),
        &[],
        b"/hulp\n\xff\xfe\n/les zoeken tekst:mandaat\n",
    );
    assert!(ok, "{err}\n{out}");
    contains(
        &out,
        "⚠ Deze regel is geen geldige tekst (UTF-8) en is overgeslagen; er is niets gewijzigd.",
    );
    assert!(
        after(&out, "overgeslagen").contains("Lessen zoeken"),
        "{out}"
    );
    let (out, _, ok) = console_with(dir.path(), &[], b"/taal en\n\xc3\n");
    assert!(ok);
    contains(&out, "Deze regel is geen geldige tekst");
}

#[cfg(target_os = "linux")]
#[test]
fn a_line_of_a_hundred_megabytes_is_skipped_without_being_held_in_memory() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut child = academie(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1024 * 1024];
        stdin.write_all(b"/antwoord ").unwrap();
        for _ in 0..120 {
            stdin.write_all(&chunk).unwrap();
        }
        stdin.write_all(b"\n/hulp\n").unwrap();
        stdin
    });
    let mut out = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while !out.contains("Console only") && !out.contains("Alleen in de console") {
        let line = lines.next().expect("the console is still running").unwrap();
        out.push_str(&line);
        out.push('\n');
    }
    // Read while the console runs: its peak memory so far.
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    drop(writer.join().unwrap());
    child.wait().unwrap();
    assert!(
        peak_kb < 80 * 1024,
        "the console peaked at {peak_kb} kB for a line of 120 MB"
    );
    contains(
        &out,
        "⚠ Deze regel is langer dan 64 kB en is overgeslagen; er is niets gewijzigd.",
    );
}

#[test]
fn a_console_user_too_long_or_with_an_escape_sequence_is_refused_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let long = "Anna".repeat(5_000);
    for (name, says) in [
        (
            long.as_str(),
            "is 20000 tekens lang; een naam heeft er hoogstens 80.",
        ),
        ("\u{1b}[2J\u{1b}[31mRood", "bevat een stuurteken"),
    ] {
        let (out, err, ok) =
            console_with(dir.path(), &[("ACADEMIE_CONSOLE_USER", name)], b"/stop\n");
        assert!(!ok);
        contains(&err, says);
        assert!(
            err.contains("console.user (or ACADEMIE_CONSOLE_USER)"),
            "and in English: {err}"
        );
        assert!(!err.contains('\u{1b}') && !out.contains('\u{1b}'), "{err}");
        assert!(
            err.len() < 1_000 && out.is_empty(),
            "the name is not printed: {err}"
        );
    }
    assert!(
        !dir.path().join("db").exists(),
        "a refused start created no database"
    );
    // The same through /als, while the console runs.
    // The escape sequence is removed whole and the name that is left is used.
    let (out, err, ok) = console_with(dir.path(), &[], "/als \u{1b}[31mRood\n/stop\n".as_bytes());
    assert!(ok, "{err}");
    contains(&out, "Je bent nu Rood (deelnemer)");
    assert!(!out.contains('\u{1b}') && !out.contains("[31m"), "{out:?}");
}

#[test]
fn retention_beyond_a_century_and_empty_paths_are_refused_in_both_languages_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for (text, says) in [
        (
            "[academy]\nanswer_retention_days = 4294967295\n",
            "academy.answer_retention_days moet tussen 1 en 36525",
        ),
        ("[storage]\npath = \"\"\n", "storage.path is leeg"),
        (
            "[academy]\nexport_dir = \"\"\n",
            "academy.export_dir is empty",
        ),
    ] {
        std::fs::write(dir.path().join("academie.toml"), text).unwrap();
        let out = academie(dir.path())
            .env_remove("ACADEMIE_DATABASE")
            .env_remove("ACADEMIE_EXPORT_DIR")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        contains(&err, says);
        lacks(&err, "panicked");
        assert_eq!(err.trim().lines().count(), 2, "Dutch, then English: {err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "nothing but the file: {left:?}");
    }
}

#[test]
fn a_broken_config_file_never_shows_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let token = "MTAxNjQ3ODk0NTY3ODkwMTIzNA.GhJk9s.canary-Zq3RsX8vLmN0pQ1wYtUe7";
    for text in [
        format!("[discord]\ntoken = {token}\n"),
        format!("[discord]\ntoken = \"{token}\n"),
        format!("[discord]\ntoken = \"{token}\" guilds = [1]\n"),
        format!("discord = {{ token = \"{token}\", guild = 1 }}\n"),
        format!("[discord]\ntoken = \"{token}\"\ntoken = \"{token}\"\n"),
        format!("[discord]\nguilds = \"{token}\"\n"),
    ] {
        std::fs::write(dir.path().join("academie.toml"), &text).unwrap();
        let out = academie(dir.path())
            .arg("console")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("academie.toml, line "), "{text:?}: {err}");
        assert!(
            !err.contains("GhJk9s") && !err.contains("canary"),
            "{text:?} showed the token: {err}"
        );
    }
}

#[cfg(unix)]
#[test]
fn the_data_folder_database_lock_and_exports_are_the_academy_users_alone_and_the_site_is_readable()
{
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("academie.db");
    let export = dir.path().join("export");
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    let script = "\
/instellen opgave: Bodemdaling Veenweide regio: Utrecht lagen: rijk, provincie
/les delen titel: Vooraf afspreken gebeurd: We spraken niets af. les: Spreek vooraf af. orde: eerste stappen: 2 als: naam
/moderator beoordeling goedkeuren id:L19
/moderator digest samenstellen titel: Digest
/moderator digest publiceren id:D1
/mijngegevens exporteren
/stop
";
    let db_text = db.to_string_lossy().into_owned();
    let (out, err, ok) = console_with(
        dir.path(),
        &[("ACADEMIE_DATABASE", &db_text)],
        script.as_bytes(),
    );
    assert!(ok, "{err}\n{out}");
    let export_file = out
        .lines()
        .filter_map(|l| l.strip_prefix("Bijlage opgeslagen in "))
        .find(|p| p.ends_with(".json"))
        .expect("the export was saved")
        .trim()
        .to_owned();

    // Everything of the database, the folder it is in included, is for the owner only.
    fn walk(p: &Path, all: &mut Vec<std::path::PathBuf>) {
        all.push(p.to_owned());
        if p.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                walk(&e.unwrap().path(), all);
            }
        }
    }
    let mut private = Vec::new();
    walk(&data, &mut private);
    assert!(private.len() > 4, "{private:?}");
    private.push(export.clone());
    private.push(export_file.clone().into());
    for p in &private {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(p), want, "{} is {:o}", p.display(), mode(p));
    }
    // The published site is meant to be read by a web server: readable, not writable, by others.
    let site = export.join("site");
    let mut public = Vec::new();
    walk(&site, &mut public);
    assert!(
        public.iter().any(|p| p.ends_with("index.html")),
        "{public:?}"
    );
    for p in &public {
        let want = if p.is_dir() { 0o755 } else { 0o644 };
        assert_eq!(mode(p), want, "{} is {:o}", p.display(), mode(p));
    }

    // A database an earlier version left readable by others is made private when it opens.
    for p in &private {
        let loose = if p.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(loose)).unwrap();
    }
    let (_, err, ok) = console_with(dir.path(), &[("ACADEMIE_DATABASE", &db_text)], b"/stop\n");
    assert!(ok, "{err}");
    let mut again = Vec::new();
    walk(&db, &mut again);
    again.push(data.join("academie.db.lock"));
    for p in &again {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(
            mode(p),
            want,
            "{} is {:o} after reopening",
            p.display(),
            mode(p)
        );
    }
}

#[test]
fn the_console_carries_on_when_an_attachment_cannot_be_saved() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the export folder should be.
    std::fs::write(dir.path().join("export"), "").unwrap();
    let (out, err, ok) = console_with(
        dir.path(),
        &[],
        b"/mijngegevens exporteren\n/les zoeken tekst:mandaat\n/stop\n",
    );
    assert!(ok, "the console went on: {err}\n{out}");
    assert!(
        out.contains("kon niet worden opgeslagen in")
            && out.contains("een deel van het pad is een bestand, geen map"),
        "{out}"
    );
    assert!(
        after(&out, "niet worden opgeslagen").contains("Lessen zoeken"),
        "{out}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn the_console_carries_on_when_the_export_folder_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs"])
        .arg(&export)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIPPED: cannot mount a small tmpfs here (needs root); the file-in-the-way case covers the same path");
        return;
    }
    /// Unmounts when the test ends, passed or not, so the folder can be removed.
    struct Mounted<'a>(&'a Path);
    impl Drop for Mounted<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _mounted = Mounted(&export);
    // Fill it to the last block.
    let _ = std::fs::write(export.join("filler"), vec![0u8; 64 * 1024]);
    let (out, err, ok) = console_with(
        dir.path(),
        &[],
        b"/mijngegevens exporteren\n/les zoeken tekst:mandaat\n/stop\n",
    );
    assert!(ok, "the console went on: {err}\n{out}");
    assert!(
        out.contains("kon niet worden opgeslagen in") && out.contains("de schijf is vol"),
        "{out}"
    );
    assert!(
        after(&out, "niet worden opgeslagen").contains("Lessen zoeken"),
        "{out}"
    );
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
    contains(&err, "chmod 600");
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
    contains(&err, "is beschadigd en is niet geopend");
    assert!(err.contains("academie restore"), "says what to do: {err}");
    assert!(
        err.contains(&dir.path().join("db").display().to_string()),
        "names the folder: {err}"
    );
    assert!(
        !out.contains("startbibliotheek"),
        "nothing was re-created over the lost data"
    );
    lacks(&err, "panicked");

    // Flipped bytes: whatever sled makes of them, never a panic.
    let mut flipped = full.clone();
    for i in (200..flipped.len()).step_by(997) {
        flipped[i] ^= 0xff;
    }
    std::fs::write(&file, &flipped).unwrap();
    let (_, err, _) = console(dir.path(), &[], "/samenwerking\n/stop\n");
    lacks(&err, "panicked");
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

#[test]
fn english_by_flag_gives_an_english_channel_with_english_buttons() {
    let dir = tempfile::tempdir().unwrap();
    let script = "\
/setup task: Energy transition North region: Groningen layers: national, province
/moderator round start step:1
/as Anna
/answer The issue is grid congestion.
/as Me
/moderator round reveal
/collaboration
";
    let (out, err, ok) = console(dir.path(), &["--lang", "en"], script);
    assert!(ok, "{err}");
    contains(&out, "You are Me (administrator)");
    contains(&out, "Channel language: English.");
    let round = after(&out, "── R1 · Step 1 — The issue  [in the channel]");
    contains(round, "[Answer]  /answer submit text:…");
    contains(
        &out,
        "── R1 revealed · Step 1 — The issue  [in the channel]",
    );
    contains(&out, "Channel language: English\n");
    for dutch in ["Beantwoorden", "onthuld", "Stap 1", "kanaal", "Ik"] {
        assert!(
            !out.contains(dutch),
            "{dutch:?} in an English session:\n{out}"
        );
    }
}

#[test]
fn a_label_and_its_command_are_always_in_one_language() {
    // A Dutch channel, used by an English-speaking moderator.
    let script = "\
/instellen opgave: Wonen regio: Utrecht lagen: gemeente
/als Erin rol:moderator taal:en
/moderator round start step:1
/answer The issue is housing.
/moderator round reveal
";
    let (_dir, out) = console_ok(script);
    let round = after(&out, "── R1 · Stap 1 — Het vraagstuk  [in het kanaal]");
    contains(round, "[Beantwoorden]  /antwoord geven tekst:…");
    assert!(
        out.contains("[Ronde sluiten]  /moderator ronde sluiten"),
        "the reveal's button: {out}"
    );
    // Erin's own replies are in English, with English commands.
    contains(&out, "[Edit answer]  /answer submit text:…");
    for line in out.lines().filter(|l| l.trim_start().starts_with('[')) {
        let dutch_label = ["[Beantwoorden]", "[Ronde sluiten]", "[Antwoord bewerken]"]
            .iter()
            .any(|l| line.contains(l));
        let english_command = ["/answer", "/round", "/lesson"]
            .iter()
            .any(|c| line.contains(c));
        assert!(!(dutch_label && english_command), "a mixed button: {line}");
    }
}

#[test]
fn the_console_shows_digests_and_lessons_as_plain_text_without_markup() {
    let script = "\
/instellen opgave: Wonen regio: Utrecht lagen: gemeente
/les delen titel: MARK_h001 gebeurd: Het ging *mis*. les: Vraag `eerst` om __ruimte__. orde: eerste stappen: 1 als: naam
/moderator beoordeling goedkeuren id:L19
/moderator digest samenstellen titel: Digest __december__
/moderator digest publiceren id:D1
";
    let (_dir, out) = console_ok(script);
    let published = after(&out, "── Digest __december__  [in het kanaal]");
    contains(published, "MARK_h001 (L19) — Ik");
    // What the user typed is shown as typed; the academy's own markup is gone.
    contains(published, "Vraag `eerst` om __ruimte__.");
    contains(published, "Eerste orde");
    lacks(published, "MARK\\_h001");
    lacks(published, "**");
    assert!(
        !published.contains("\n__Stap"),
        "no underline markers: {published}"
    );
}

// ---- A moderator's week: what a group of four and its moderator ran into ----

/// A setup line for the console tests of a moderator's week.
const SETUP: &str =
    "/instellen opgave: Energietransitie Noord regio: Groningen lagen: rijk, gemeente\n";

/// A member's lesson L19, approved, and published in digest D1 with a period that holds it.
fn published_member_lesson() -> String {
    format!(
        "{SETUP}/als Anna
/les delen titel: Vraag om mandaat gebeurd: Ik zat aan tafel zonder mandaat. les: Vraag vooraf wat je mag toezeggen. orde: eerste stappen: 2
/als Ik
/moderator beoordeling goedkeuren id:L19
/moderator digest samenstellen titel: Digest december van: 2000-01-01
/moderator digest publiceren id:D1
"
    )
}

#[test]
fn an_authors_edit_keeps_the_published_lesson_its_page_and_its_digest() {
    let script = format!(
        "{}/als Anna\n/les bewerken id:L19 titel: Vraag altijd om mandaat\n/digest tonen id:D1\n",
        published_member_lesson()
    );
    let (dir, out) = console_ok(&script);
    let shown = &out[out.rfind("── Digest december").expect("the digest shown")..];
    contains(shown, "Vraag om mandaat");
    // The site rebuilt from the database, as any later publication does.
    let (_, err, ok) = console(dir.path(), &["export", "site"], "");
    assert!(ok, "{err}");
    let site = dir.path().join("export/site");
    let page = std::fs::read_to_string(site.join("lessons/L19.html"))
        .expect("the permalink of a published lesson stays");
    assert!(page.contains("Vraag om mandaat"), "as published: {page}");
    let digest = std::fs::read_to_string(site.join("digests/D1.html")).unwrap();
    contains(&digest, "Vraag om mandaat");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        !index.contains("0 lessen"),
        "the digest keeps its lessons: {index}"
    );
}

/// Anna's lesson L19 published in D1, and a second digest D2 of Bram's lesson L20 only, which a
/// change of Anna's does not touch; the console ended cleanly.
fn two_digests() -> tempfile::TempDir {
    let (dir, _) = console_ok(&format!(
        "{}/als Bram
/les delen titel: Samen beginnen gebeurd: We begonnen zonder beeld. les: Begin met het vraagstuk. orde: tweede
/als Ik
/moderator beoordeling goedkeuren id:L20
/moderator digest samenstellen titel: Tweede van: 2000-01-01 orde: tweede
/moderator digest publiceren id:D2
/stop
",
        published_member_lesson()
    ));
    dir
}

/// Anna deletes her data in a console of its own, which then ends cleanly.
fn anna_deletes_her_data(dir: &Path, env: &[(&str, &str)]) {
    let (out, err, ok) = console_with(
        dir,
        env,
        b"/als Anna\n/mijngegevens verwijderen bevestig:ja\n/stop\n",
    );
    assert!(ok, "{err}\n{out}");
    contains(&out, "Verwijderd: je profiel");
}

/// Marks a page by hand: a whole write puts it back as the database says, a write of the
/// touched pages leaves it.
fn plant(path: &Path) {
    let page = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, format!("{page}<!-- met de hand -->")).unwrap();
}

fn planted(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .unwrap()
        .contains("met de hand")
}

/// Each console is its own process: the next one takes the site as the last one left it and
/// writes only the pages its change touches, unless the database changed in between without a
/// clean end (here a console killed after saving a lesson), when it writes the site whole.
#[test]
fn a_later_console_writes_only_the_pages_it_changes_unless_one_was_killed_in_between() {
    let dir = two_digests();
    let site = dir.path().join("export/site");
    assert!(
        site.join(".academie-site.json").is_file(),
        "the state is left"
    );
    // A page no later change touches.
    let other = site.join("digests/D2.html");
    lacks(
        &std::fs::read_to_string(&other).unwrap(),
        "Vraag om mandaat",
    );
    plant(&other);

    anna_deletes_her_data(dir.path(), &[]);
    assert!(
        !site.join("lessons/L19.html").exists(),
        "the change reached the site"
    );
    let digest = std::fs::read_to_string(site.join("digests/D1.html")).unwrap();
    lacks(&digest, "Vraag om mandaat");
    assert!(
        planted(&other),
        "only the pages the change touched were written"
    );

    // Killed after its change was saved: it leaves nothing, and the state left before no
    // longer matches the database.
    let mut killed = academie(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = killed.stdin.take().unwrap();
    std::io::Write::write_all(
        &mut stdin,
        b"/als Bram\n/les delen titel: Kaders eerst gebeurd: We spraken eerst de kaders af. les: Maak de kaders samen. orde: eerste\n",
    )
    .unwrap();
    let mut stdout = killed.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("/les tonen id:L") {
        let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        assert!(n > 0, "the console ended before saving the lesson:\n{seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    killed.kill().unwrap();
    killed.wait().unwrap();

    let (out, err, ok) = console(
        dir.path(),
        &[],
        "/moderator beoordeling goedkeuren id:L21\n/moderator digest samenstellen titel: Derde van: 2000-01-01 orde: eerste\n/moderator digest publiceren id:D3\n/stop\n",
    );
    assert!(ok, "{err}\n{out}");
    assert!(site.join("digests/D3.html").is_file(), "{out}");
    // D3 shows Bram's new lesson alone: D2's page is not among the pages it touches.
    let third = std::fs::read_to_string(site.join("digests/D3.html")).unwrap();
    contains(&third, "Maak de kaders samen");
    lacks(&third, "Begin met het vraagstuk");
    assert!(
        !planted(&other),
        "after a console was killed, the site was written whole"
    );
}

/// A site folder emptied by hand keeps the dot file the last console left: the next console
/// writes the whole site again, not only the pages its change touches.
#[test]
fn a_site_folder_emptied_by_hand_is_written_whole_again() {
    let dir = two_digests();
    let site = dir.path().join("export/site");
    for entry in std::fs::read_dir(&site).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
    assert!(site.join(".academie-site.json").is_file());
    anna_deletes_her_data(dir.path(), &[]);
    for page in [
        "index.html",
        "digests/D2.html",
        "digests/D1.html",
        "lessons/L20.html",
    ] {
        assert!(site.join(page).is_file(), "{page} is back");
    }
}

/// Pages written with other templates differ: a console with edited templates writes the whole
/// site at its first change, not only the pages the change touches.
#[test]
fn edited_templates_make_the_next_console_write_the_site_whole() {
    let dir = two_digests();
    let site = dir.path().join("export/site");
    let other = site.join("digests/D2.html");
    plant(&other);
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("style.css"),
        "/* eigen huisstijl */\nbody { margin: 2em; }\n",
    )
    .unwrap();
    anna_deletes_her_data(
        dir.path(),
        &[("ACADEMIE_TEMPLATES_DIR", templates.to_str().unwrap())],
    );
    assert!(!planted(&other), "the whole site was written");
    contains(
        &std::fs::read_to_string(site.join("style.css")).unwrap(),
        "eigen huisstijl",
    );
}

/// A site left by a build whose index listed every title of a digest (its note of the site
/// has no `format`) is written whole by the next console, index included.
#[test]
fn a_site_left_before_the_index_was_cut_short_is_written_whole() {
    let dir = two_digests();
    let site = dir.path().join("export/site");
    let other = site.join("digests/D2.html");
    plant(&other);
    let state = site.join(".academie-site.json");
    let mut note: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(note["format"], 1, "{note}");
    note.as_object_mut().unwrap().remove("format");
    std::fs::write(&state, serde_json::to_vec(&note).unwrap()).unwrap();
    anna_deletes_her_data(dir.path(), &[]);
    assert!(!planted(&other), "the whole site was written");
}

#[test]
fn answers_and_lessons_of_several_lines_are_typed_with_a_backslash_or_a_block() {
    let script = "\
/instellen opgave: Wonen regio: Utrecht lagen: gemeente
/moderator ronde start stap:1
/antwoord geven tekst: Eerste regel \\
tweede regel
/antwoord bekijken
/les delen titel: Blok gebeurd: Veel. orde: eerste stappen: 1 als: anoniem les: \"\"\"
Alinea een.

Alinea twee, met orde: tweede erin.
\"\"\"
/les tonen id:L19
/antwoord geven tekst: \"\"\"
nooit afgesloten
";
    let (_dir, out) = console_ok(script);
    let mine = after(&out, "── Jouw antwoord in R1");
    contains(mine, "Eerste regel\ntweede regel");
    let shown = after(&out, "── L19 · Blok");
    contains(
        shown,
        "    Alinea een.\n\n    Alinea twee, met orde: tweede erin.",
    );
    contains(shown, "Eerste orde");
    assert!(
        out.contains("⚠ De invoer hield op midden in een opdracht"),
        "an unclosed block is not sent: {out}"
    );
    lacks(&out, "nooit afgesloten");
}

#[test]
fn a_guessed_part_after_antwoord_is_refused_and_the_answer_kept() {
    let script = "\
/instellen opgave: Wonen regio: Utrecht lagen: gemeente
/moderator ronde start stap:1
/antwoord geven tekst: Te weinig betaalbare woningen in de kernen.
/antwoord tonen
/antwoord bekijken
/antwoord Ook de starters vinden niets.
/antwoord bekijken
";
    let (_dir, out) = console_ok(script);
    contains(
        &out,
        "⚠ /antwoord kent geen \"tonen\". Kies uit: geven, wijzigen, intrekken, bekijken.",
    );
    let kept = after(&out, "── Jouw antwoord in R1");
    contains(kept, "Te weinig betaalbare woningen in de kernen.");
    lacks(&out, "Jouw antwoord:\ntonen");
    // Several words after /antwoord are still the answer itself.
    let last = &out[out.rfind("── Jouw antwoord in R1").expect("shown twice")..];
    contains(last, "Ook de starters vinden niets.");
}

#[test]
fn names_are_cleaned_of_escapes_and_an_empty_one_is_refused() {
    let script = "\
/instellen opgave: Wonen regio: Utrecht lagen: gemeente
/als \u{1b}[31mEvil\u{7}\u{1b}[0m
/als \u{1b}[0m\u{200b}
/frob\u{7}nicate
/les zoeken tekst: !!
/les delen titel: T gebeurd: x les: y orde: eerste tags: x als: anoniem
";
    let (_dir, out) = console_ok(script);
    contains(&out, "Je bent nu Evil (deelnemer).");
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains("[31m"),
        "{out:?}"
    );
    contains(&out, "⚠ Die naam houdt niets zichtbaars over");
    assert!(
        out.contains("⚠ De opdracht \"frobnicate\" ken ik niet."),
        "a refusal repeats the typed word without its control characters: {out:?}"
    );
    contains(&out, "Geen lessen gevonden");
    lacks(&out, "18 lessen gevonden");
    contains(&out, "Je les L19 \"T\" is opgeslagen");
}

/// The words of every interface text in `prompts/<lang>/<file>`, handlebars left out.
fn interface_words(lang: &str, file: &str) -> std::collections::BTreeSet<String> {
    fn strings(v: &toml::Value, out: &mut Vec<String>) {
        match v {
            toml::Value::String(s) => out.push(s.clone()),
            toml::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            toml::Value::Table(t) => t.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("prompts")
        .join(lang)
        .join(file);
    let value: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut texts = Vec::new();
    strings(&value, &mut texts);
    let mut words = std::collections::BTreeSet::new();
    for text in texts {
        let mut plain = String::new();
        let mut rest = text.as_str();
        while let Some(open) = rest.find("{{") {
            plain.push_str(&rest[..open]);
            plain.push(' ');
            rest = rest[open..]
                .find("}}")
                .map_or("", |close| &rest[open + close + 2..]);
        }
        plain.push_str(rest);
        words.extend(words_in(&plain));
    }
    words
}

/// The words of the starter library's lessons in `lang`: each file holds the Dutch text under
/// its first `# ` title and the English text under its second.
fn starter_library_words(lang: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let mut words = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let body = text.splitn(3, "+++").nth(2).unwrap_or(&text);
        let mut titles = 0;
        for line in body.lines() {
            if line.starts_with("# ") {
                titles += 1;
            }
            if (lang == "nl" && titles == 1) || (lang == "en" && titles >= 2) {
                words.extend(words_in(line));
            }
        }
    }
    assert!(
        words.len() > 1_000,
        "too few library words: {}",
        words.len()
    );
    words
}

fn words_in(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect()
}

/// Runs a whole session and returns every line of output in which, once the text users typed
/// is taken out, a word of the other language's interface appears: a word of the other
/// `messages.toml` that no text of this language uses.
fn other_language_lines(lang: &str, args: &[&str], script: &str, typed: &[&str]) -> Vec<String> {
    let other = if lang == "nl" { "en" } else { "nl" };
    // This language's texts, and its command and option names (`/reminders via:` is English
    // too).
    let names = academie::commands::SPECS.iter().flat_map(|spec| {
        let path = spec
            .path
            .iter()
            .map(|(en, nl)| if lang == "nl" { *nl } else { *en });
        let options = spec
            .options
            .iter()
            .map(|o| if lang == "nl" { o.nl } else { o.name });
        path.chain(options).flat_map(words_in).collect::<Vec<_>>()
    });
    let own: std::collections::BTreeSet<String> = interface_words(lang, "messages.toml")
        .into_iter()
        .chain(interface_words(lang, "academy.toml"))
        .chain(starter_library_words(lang))
        .chain(names)
        // The program's own name, as in its files (`academie-….json`).
        .chain(["academie".to_owned()])
        .collect();
    let foreign: std::collections::BTreeSet<String> = interface_words(other, "messages.toml")
        .into_iter()
        .filter(|w| !own.contains(w))
        .collect();
    assert!(foreign.len() > 300, "too few words to check: {foreign:?}");
    let dir = tempfile::tempdir().unwrap();
    let (out, err, ok) = console(dir.path(), args, script);
    assert!(ok, "the session failed: {err}\n{out}");
    assert!(err.is_empty(), "the session logged: {err}");
    let folder = dir.path().display().to_string();
    let mut typed: Vec<&str> = typed.to_vec();
    typed.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let mut offending = Vec::new();
    for line in out.lines() {
        let mut rest = line.replace(&folder, " ");
        for t in &typed {
            rest = rest.replace(t, " ");
        }
        let found: Vec<String> = words_in(&rest)
            .into_iter()
            .filter(|w| foreign.contains(w))
            .collect();
        if !found.is_empty() {
            offending.push(format!("{found:?} in: {line}"));
        }
    }
    // The session reached its end and every part of it answered.
    for expected in SESSION_MARKS[usize::from(lang == "en")] {
        assert!(out.contains(expected), "{expected:?} missing:\n{out}");
    }
    assert!(!out.contains('⚠'), "a command was refused:\n{out}");
    offending
}

/// What each session must have shown (Dutch, English): the reveal with the meter and the
/// change report, the vote, lessons, review, digest, help and my data.
const SESSION_MARKS: [&[&str]; 2] = [
    &[
        "R1 onthuld",
        "Stationair draaien?",
        "Wat er veranderde sinds R1",
        "perspectief",
        "is goedgekeurd",
        "is afgewezen",
        "── Digest december",
        "Opgavegericht en taakgericht",
        "Bijlage opgeslagen in",
        "Verwijderd: je profiel",
    ],
    &[
        "R1 revealed",
        "Idling?",
        "What changed since R1",
        "perspective",
        "is approved",
        "is rejected",
        "── December digest",
        "Task-oriented and remit-based",
        "Attachment saved to",
        "Deleted: your profile",
    ],
];

/// What the people in the sessions type: their names and texts, left out of the scan.
const TYPED: &[&str] = &[
    "Energietransitie Noord",
    "Energy North",
    "Groningen",
    "Anna",
    "Bram",
    "Carla",
    "Dirk",
    "Netcongestie remt nieuwe woningen en bedrijven in de dorpen.",
    "Netcongestie en het vertrouwen van bewoners in de warmtevisie.",
    "Bewoners vertrouwen de warmtevisie niet; netcongestie komt daarna.",
    "Congestie op het net, en wie de versterking betaalt.",
    "Een netwerk met een convenant tussen de partijen.",
    "Afspraken per bestuurslaag, zoals de wet ze toedeelt.",
    "Een opdrachtgever met prestatieafspraken.",
    "Bewoners nemen zelf het initiatief.",
    "Netcongestie blijft het vraagstuk, samen met betaalbaarheid.",
    "Het vertrouwen van bewoners, en netcongestie.",
    "Betaalbaarheid van de warmte voor bewoners.",
    "Netcongestie en ruimte voor nieuwe woningen.",
    "Vraag om mandaat",
    "Ik zat aan tafel zonder mandaat.",
    "Vraag vooraf wat je mag toezeggen.",
    "Terugkoppelen werkt",
    "We koppelden elke maand terug.",
    "Maak terugkoppelen vast werk.",
    "Lijkt te veel op een bestaande les; vul aan wat er gebeurde.",
    "Gebruikt aan onze tafel.",
    "Digest december",
    "mandaat",
    "Grid congestion blocks new housing and businesses in the villages.",
    "Grid congestion and the trust of residents in the heat plan.",
    "Residents do not trust the heat plan; grid congestion comes second.",
    "Congestion on the grid, and who pays for reinforcement.",
    "A network with a covenant between the parties.",
    "Agreements per government layer, as the law assigns them.",
    "A commissioning party with performance agreements.",
    "Residents take the initiative themselves.",
    "Grid congestion remains the issue, together with affordability.",
    "The trust of residents, and grid congestion.",
    "Affordability of heat for residents.",
    "Grid congestion and room for new housing.",
    "Ask for a mandate",
    "I sat at the table without a mandate.",
    "Ask beforehand what you may promise.",
    "Reporting back works",
    "We reported back every month.",
    "Make reporting back fixed work.",
    "Too close to an existing lesson; add what happened.",
    "Used it at our table.",
    "December digest",
    "mandate",
];

const DUTCH_SESSION: &str = "\
/instellen opgave: Energietransitie Noord regio: Groningen lagen: rijk, provincie, gemeente, waterschap
/hulp
/vragen stap:2
/perspectieven
/ordes
/moderator ronde start stap:1
/als Anna
/bestuurslaag laag:gemeente
/antwoord geven tekst: Netcongestie remt nieuwe woningen en bedrijven in de dorpen.
/herinneringen via:dm
/als Bram
/antwoord geven tekst: Netcongestie en het vertrouwen van bewoners in de warmtevisie.
/ronde status
/als Carla rol:moderator
/antwoord geven tekst: Bewoners vertrouwen de warmtevisie niet; netcongestie komt daarna.
/als Dirk
/antwoord geven tekst: Congestie op het net, en wie de versterking betaalt.
/antwoord bekijken
/als Ik
/moderator ronde onthullen
/moderator ronde sluiten
/moderator ronde start stap:3
/als Anna
/antwoord geven tekst: Een netwerk met een convenant tussen de partijen.
/stem perspectief:netwerkend
/als Bram
/antwoord geven tekst: Afspraken per bestuurslaag, zoals de wet ze toedeelt.
/stem perspectief:rechtmatig
/als Carla
/antwoord geven tekst: Een opdrachtgever met prestatieafspraken.
/stem perspectief:presterend
/als Dirk
/antwoord geven tekst: Bewoners nemen zelf het initiatief.
/stem perspectief:netwerkend
/als Ik
/moderator ronde onthullen
/moderator ronde sluiten
/moderator ronde start stap:1
/als Anna
/antwoord geven tekst: Netcongestie blijft het vraagstuk, samen met betaalbaarheid.
/als Bram
/antwoord geven tekst: Het vertrouwen van bewoners, en netcongestie.
/als Carla
/antwoord geven tekst: Betaalbaarheid van de warmte voor bewoners.
/als Dirk
/antwoord geven tekst: Netcongestie en ruimte voor nieuwe woningen.
/als Ik
/moderator ronde onthullen
/moderator ronde sluiten
/als Anna
/les delen titel: Vraag om mandaat gebeurd: Ik zat aan tafel zonder mandaat. les: Vraag vooraf wat je mag toezeggen. orde: eerste stappen: 2,4 tags: mandaat als: anoniem
/als Bram
/les delen titel: Terugkoppelen werkt gebeurd: We koppelden elke maand terug. les: Maak terugkoppelen vast werk. orde: eerste stappen: 4 als: naam
/les mijn
/als Carla
/moderator beoordeling wachtrij
/moderator beoordeling goedkeuren id:L19
/moderator beoordeling afwijzen id:L20 reden: Lijkt te veel op een bestaande les; vul aan wat er gebeurde.
/moderator beoordeling uitlichten id:L19
/les zoeken tekst: mandaat
/les tonen id:L19
/les toegepast id:L19 notitie: Gebruikt aan onze tafel.
/moderator digest samenstellen titel: Digest december
/moderator digest publiceren id:D1
/digest overzicht
/digest tonen id:D1
/gezondheid
/moderator doenleren vragen
/moderator logboek
/moderator ritme stap:1 weken:4
/als Dirk
/doenleren plaatsen opbrengst:veel lessen:weinig
/doenleren tonen
/samenwerking
/mijngegevens exporteren
/mijngegevens verwijderen
/mijngegevens verwijderen bevestig:ja
/stop
";

const ENGLISH_SESSION: &str = "\
/setup task: Energy North region: Groningen layers: national, province, municipality, water_board
/help
/questions step:2
/perspectives
/orders
/moderator round start step:1
/as Anna
/layer layer:municipality
/answer submit text: Grid congestion blocks new housing and businesses in the villages.
/reminders via:dm
/as Bram
/answer submit text: Grid congestion and the trust of residents in the heat plan.
/round status
/as Carla role:moderator
/answer submit text: Residents do not trust the heat plan; grid congestion comes second.
/as Dirk
/answer submit text: Congestion on the grid, and who pays for reinforcement.
/answer show
/as Me
/moderator round reveal
/moderator round close
/moderator round start step:3
/as Anna
/answer submit text: A network with a covenant between the parties.
/vote perspective:networking
/as Bram
/answer submit text: Agreements per government layer, as the law assigns them.
/vote perspective:lawful
/as Carla
/answer submit text: A commissioning party with performance agreements.
/vote perspective:performing
/as Dirk
/answer submit text: Residents take the initiative themselves.
/vote perspective:networking
/as Me
/moderator round reveal
/moderator round close
/moderator round start step:1
/as Anna
/answer submit text: Grid congestion remains the issue, together with affordability.
/as Bram
/answer submit text: The trust of residents, and grid congestion.
/as Carla
/answer submit text: Affordability of heat for residents.
/as Dirk
/answer submit text: Grid congestion and room for new housing.
/as Me
/moderator round reveal
/moderator round close
/as Anna
/lesson share title: Ask for a mandate happened: I sat at the table without a mandate. lesson: Ask beforehand what you may promise. order: first steps: 2,4 tags: mandate as: anonymous
/as Bram
/lesson share title: Reporting back works happened: We reported back every month. lesson: Make reporting back fixed work. order: first steps: 4 as: named
/lesson mine
/as Carla
/moderator review queue
/moderator review approve id:L19
/moderator review reject id:L20 reason: Too close to an existing lesson; add what happened.
/moderator review feature id:L19
/lesson search text: mandate
/lesson show id:L19
/lesson applied id:L19 note: Used it at our table.
/moderator digest compose title: December digest
/moderator digest publish id:D1
/digest list
/digest show id:D1
/health
/moderator doing ask
/moderator audit
/moderator cadence step:1 weeks:4
/as Dirk
/doing place yield:much lessons:little
/doing show
/collaboration
/mydata export
/mydata delete
/mydata delete confirm:yes
/quit
";

#[test]
fn a_whole_dutch_session_holds_no_english_interface_word() {
    let found = other_language_lines("nl", &[], DUTCH_SESSION, TYPED);
    assert!(
        found.is_empty(),
        "English in the Dutch session:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_lesson_page_shows_its_learning_order_and_one_step_as_stap() {
    let (dir, _) = console_ok(&published_member_lesson());
    let page = std::fs::read_to_string(dir.path().join("export/site/lessons/L19.html")).unwrap();
    assert!(page.contains("Eerste orde"), "the learning order: {page}");
    contains(&page, "stap 2");
    assert!(!page.contains("stappen 2"), "one step is singular: {page}");
    let digest = std::fs::read_to_string(dir.path().join("export/site/digests/D1.html")).unwrap();
    lacks(&digest, "stappen 2");
}

#[test]
fn applied_notes_are_shown_with_the_lesson_and_on_its_page() {
    let script = format!(
        "{SETUP}/als Anna
/les delen titel: Vraag om mandaat gebeurd: Ik zat aan tafel zonder mandaat. les: Vraag vooraf wat je mag toezeggen. orde: eerste
/als Ik
/moderator beoordeling goedkeuren id:L19
/als Bram
/les toegepast id:L19 notitie: Gebruikt aan de regiotafel in Delfzijl.
/les tonen id:L19
/als Ik
/moderator digest samenstellen titel: Digest december van: 2000-01-01
/moderator digest publiceren id:D1
"
    );
    let (dir, out) = console_ok(&script);
    let shown = after(&out, "── L19 · Vraag om mandaat");
    contains(shown, "Gebruikt aan de regiotafel in Delfzijl.");
    let page = std::fs::read_to_string(dir.path().join("export/site/lessons/L19.html")).unwrap();
    contains(&page, "Gebruikt aan de regiotafel in Delfzijl.");
}

#[test]
fn a_digest_without_a_period_leaves_the_starter_library_out() {
    let script = format!(
        "{SETUP}/als Anna
/les delen titel: Vraag om mandaat gebeurd: Ik zat aan tafel zonder mandaat. les: Vraag vooraf wat je mag toezeggen. orde: eerste
/als Ik
/moderator beoordeling goedkeuren id:L19
/moderator digest samenstellen titel: Digest december
"
    );
    let (_dir, out) = console_ok(&script);
    let preview = after(&out, "Concept D1");
    contains(preview, "Vraag om mandaat");
    assert!(
        preview.contains("Deze digest bevat 1 les"),
        "only the member's lesson, not the 18 of the library: {preview}"
    );
}

#[test]
fn a_persons_role_survives_a_console_restart() {
    let (dir, out) = console_ok("/als Mira rol:moderator\n/stop\n");
    contains(&out, "Je bent nu Mira (moderator).");
    let (out, err, ok) = console(dir.path(), &[], "/als Mira\n/stop\n");
    assert!(ok, "{err}");
    contains(&out, "Je bent nu Mira (moderator).");
}

#[test]
fn the_review_queue_pages_and_its_edit_hint_is_a_command_a_moderator_may_use() {
    let mut script = format!("{SETUP}/als Anna\n");
    for n in 1..=7 {
        script.push_str(&format!(
            "/les delen titel: Les nummer {n} gebeurd: Het ging zo. les: Doe het anders. orde: eerste\n"
        ));
    }
    script.push_str(
        "/als Ik\n/moderator beoordeling wachtrij\n/moderator beoordeling wachtrij pagina:2\n",
    );
    let (_dir, out) = console_ok(&script);
    let first = after(&out, "── Beoordeling");
    let first = &first[..first[3..].find("── ").map_or(first.len(), |i| i + 3)];
    contains(first, "L19 · Les nummer 1");
    assert!(
        !first.contains("L24 · Les nummer 6"),
        "five a page: {first}"
    );
    assert!(
        first.contains("bewerken id:L19") && !first.contains("/les bewerken id:L19"),
        "the edit hint is a moderator's command, not the author's: {first}"
    );
    let second = &out[out.rfind("── Beoordeling").expect("a second page")..];
    assert!(
        second.contains("L24 · Les nummer 6") && second.contains("L25 · Les nummer 7"),
        "page 2 shows the rest: {second}"
    );
    lacks(second, "L19 · Les nummer 1");
    assert!(!out.contains('⚠'), "nothing was refused: {out}");
}

#[test]
fn round_status_names_who_has_not_answered_yet_and_counts_the_votes() {
    let script = format!(
        "{SETUP}/moderator ronde start stap:1
/als Anna
/antwoord Netcongestie.
/als Bram
/antwoord Vertrouwen van bewoners.
/als Carla
/antwoord Warmte.
/als Dirk
/antwoord Ruimte.
/als Ik
/moderator ronde sluiten
/moderator ronde start stap:3
/als Carla
/antwoord Een netwerk.
/stem perspectief:netwerkend
/als Ik
/ronde status
"
    );
    let (_dir, out) = console_ok(&script);
    let status = after(
        &out,
        "── R2 · Stap 3 — Soort samenwerking  [alleen voor jou]",
    );
    let status = &status[..status.find("\n\n").unwrap_or(status.len())];
    contains(status, "1 antwoord, van: Carla");
    assert!(
        status.contains("Nog geen antwoord van: Anna, Bram, Dirk."),
        "who took part before and has not answered yet, alphabetically: {status}"
    );
    assert!(
        status.contains("1 stem"),
        "the step-3 votes are counted: {status}"
    );
    assert!(
        !status.contains("Netwerkende"),
        "a count, never the vote: {status}"
    );
}

#[test]
fn a_round_closed_without_answers_says_so_instead_of_counting_zero() {
    let script = format!(
        "{SETUP}/moderator ronde start stap:3
/als Anna
/stem perspectief:netwerkend
/als Ik
/moderator ronde sluiten
"
    );
    let (_dir, out) = console_ok(&script);
    let closed = after(&out, "── R1 gesloten · Stap 3 — Soort samenwerking");
    contains(closed, "Wat voor soort samenwerking?\nGeen antwoorden.");
    lacks(closed, "0 antwoorden");
    contains(closed, "1 stem: Netwerkende overheid 1.");
}

#[test]
fn a_whole_english_session_holds_no_dutch_interface_word() {
    let found = other_language_lines("en", &["--lang", "en"], ENGLISH_SESSION, TYPED);
    assert!(
        found.is_empty(),
        "Dutch in the English session:\n{}",
        found.join("\n")
    );
}

/// A console in a terminal of its own (a tmux pane), driven by keys as a person would.
struct Terminal {
    socket: std::path::PathBuf,
}

impl Terminal {
    fn tmux(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new("tmux");
        cmd.arg("-S").arg(&self.socket);
        cmd
    }

    /// Starts `academie` with `args` in a new pane, with the environment every test of the
    /// binary gets (tests/binary) and `env` on top.
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Terminal {
        let terminal = Terminal {
            socket: dir.join("tmux.sock"),
        };
        let launcher = academie(dir);
        let mut cmd = terminal.tmux();
        // The tmux server started here passes its environment to the pane.
        for (key, value) in launcher.get_envs() {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.env("TERM", "xterm-256color")
            .args(["new-session", "-d", "-x", "160", "-y", "50", "-c"])
            .arg(dir)
            .arg(launcher.get_program())
            .args(args);
        let status = cmd
            .status()
            .expect("tmux runs: install it (Debian's tmux, as ./test does)");
        assert!(status.success(), "tmux could not start the console");
        terminal
    }

    fn type_line(&self, line: &str) {
        let ok = self
            .tmux()
            .args(["send-keys", "-l", line])
            .status()
            .unwrap();
        assert!(ok.success());
        let ok = self.tmux().args(["send-keys", "Enter"]).status().unwrap();
        assert!(ok.success());
    }

    /// Everything the pane shows, its history included, wrapped lines joined.
    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-J", "-S", "-"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text`, up to `seconds`.
    fn wait_for(&self, text: &str, seconds: u64) -> String {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                std::time::Instant::now() < until,
                "{text:?} did not appear within {seconds} s:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

#[test]
fn a_live_console_prints_a_reminder_and_the_deadline_reveal_while_nobody_types() {
    let dir = tempfile::tempdir().unwrap();
    // The academy's clock runs 600 times as fast (for tests only): the round's hour passes in
    // six seconds, the reminder comes at half time.
    let terminal = Terminal::start(
        dir.path(),
        &["--lang", "en"],
        &[
            ("ACADEMIE_TEST_CLOCK_SPEED", "600"),
            ("ACADEMIE_CONSOLE_USER", "Mod"),
        ],
    );
    terminal.wait_for("Mod> ", 60);
    terminal.type_line("/setup task: Energy North region: Groningen layers: province");
    terminal.type_line("/as Anna");
    terminal.type_line("/reminders via:dm");
    terminal.type_line("/as Mod");
    terminal.type_line("/moderator round start step:1 deadline:1h");
    terminal.type_line("/as Bram");
    terminal.type_line("/answer submit text: Grid congestion, not the heat plan.");
    let typed = terminal.wait_for("Your answer in R1 is saved", 30);
    lacks(&typed, "R1 revealed");
    // From here on nothing is typed.
    let reminded = terminal.wait_for("✉ Message for Anna: Reminder: round R1", 30);
    contains(&reminded, "in the console channel closes");
    assert!(!reminded.contains("<#"), "no Discord markup: {reminded}");
    let screen = terminal.wait_for("R1 revealed · Step 1 — The issue", 30);
    let reveal = after(&screen, "R1 revealed");
    contains(reveal, "Grid congestion, not the heat plan.");
    assert!(
        reveal.trim_end().ends_with("Bram>"),
        "the prompt is offered again below it: {reveal}"
    );
    terminal.type_line("/quit");
}

#[test]
fn closing_a_round_never_revealed_shows_the_answers_before_the_closing_text() {
    let script = format!(
        "{SETUP}/moderator ronde start stap:2\n/als Anna\n/antwoord De netbeheerder en de bewoners.\n/als Ik\n/moderator ronde sluiten\n"
    );
    let (_dir, out) = console_ok(&script);
    let closed = after(&out, "── R1 gesloten");
    let answer = closed
        .find("De netbeheerder en de bewoners.")
        .expect("the answer");
    let closing = closed
        .find("Deze ronde is gesloten.")
        .expect("the closing text");
    assert!(
        answer < closing,
        "answers first, then the closing: {closed}"
    );
}

#[test]
fn the_audit_log_names_the_round_and_the_feature_and_pages() {
    let mut script = format!(
        "{SETUP}/moderator ronde start stap:1\n/moderator ronde onthullen\n/moderator ronde sluiten\n/moderator beoordeling uitlichten id:L1\n/moderator beoordeling uitlichten id:L1\n"
    );
    for _ in 0..30 {
        script.push_str("/moderator ritme weken:6\n");
    }
    script.push_str("/moderator logboek\n/moderator logboek pagina:2\n");
    let (_dir, out) = console_ok(&script);
    assert!(!out.contains('⚠'), "nothing refused: {out}");
    let last = &out[out.rfind("── Logboek").expect("two pages")..];
    assert!(
        last.contains("R1"),
        "which round was revealed and closed: {last}"
    );
    let lines: Vec<&str> = last.lines().filter(|l| l.contains("L1")).collect();
    assert_eq!(lines.len(), 2, "{last}");
    assert_ne!(
        lines[0].replace(|c: char| c.is_ascii_digit(), ""),
        lines[1].replace(|c: char| c.is_ascii_digit(), ""),
        "featured and unfeatured read differently: {lines:?}"
    );
}

/// The reply that starts at `needle`, up to the next reply.
fn reply_at<'a>(out: &'a str, needle: &str) -> &'a str {
    let rest = after(out, needle);
    let end = rest[needle.len()..]
        .find("\n── ")
        .map_or(rest.len(), |i| i + needle.len());
    &rest[..end]
}

#[test]
fn the_academy_across_collaborations_in_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let script = "\
/instellen opgave: Energietransitie Noord regio: Groningen lagen: rijk, gemeente
/kanaal Zuid
/instellen opgave: Woningbouw Zuid regio: Limburg lagen: gemeente, provincie
/kanaal
/als Anna
/les delen titel: Netcongestie samen aanpakken gebeurd: Het net zat vol. les: Begin bij wat het net aankan. orde: eerste stappen: 1 als: anoniem
/als Ik
/moderator beoordeling goedkeuren id:L19
/als Bram
/les toegepast id:L19 notitie: Gebruikt bij ons.
/kanaal Zuid
/les delen titel: Woningen en wijken gebeurd: Bouwen ging snel. les: Betrek de wijk vooraf. orde: tweede stappen: 2
/als Ik
/kanaal Zuid
/moderator beoordeling goedkeuren id:L20
/les zoeken tekst: netcongestie
/moderator ronde start stap:1
/moderator uitwisseling stap5:ja
/moderator ronde sluiten
/moderator ronde start stap:5
/als Carla
/kanaal Zuid
/antwoord geven tekst: We leren samen met de buurregio in een vast leerteam.
/als Ik
/moderator ronde onthullen
/kanaal
/leren bij-anderen
/moderator digest overnemen id:L20
/als Anna
/vraag stellen tekst: Hoe koppel je terug naar je organisatie zonder mandaat?
/als Carla
/kanaal Zuid
/vraag beantwoorden id:V1 tekst: Plan een vast terugkoppelmoment in je eigen lijn. als: anoniem
/als Anna
/kanaal
/vraag tonen id:V1
/vraag geholpen id:V1 antwoord:1
/als Ik
/moderator vraag les id:V1 titel: Terugkoppelen zonder mandaat orde: eerste stappen: 4
/als Carla
/vraag toestemming id:V1 akkoord:ja
/als Ik
/kanaal
/moderator beoordeling wachtrij
/moderator digest samenstellen titel: Digest Noord
/als Anna
/vraag stellen tekst: Wie kent een goed convenant voor gedeelde data?
/als Ik
/moderator bijeenkomst plannen wanneer: 2099-12-01 14:00 adres: Provinciehuis, Martinikerkhof 12 naam: Leren van de winter
/als Anna
/bijeenkomst aanmelden id:B1
/als Ik
/bijeenkomst agenda
/moderator bijeenkomst lessen id:B1
/moderator uitwisseling lessen:nee
/kanaal Zuid
/les zoeken tekst: netcongestie hier:nee
/kanaal West server:Provincie
/instellen opgave: Waterveiligheid West regio: Zeeland lagen: provincie, waterschap
/les delen titel: Dijken en draagvlak gebeurd: De dijk moest omhoog. les: Praat eerst met de bewoners. orde: eerste stappen: 2
/moderator beoordeling goedkeuren id:L22
/kanaal Oost server:Rijk
/instellen opgave: Grensregio Oost regio: Twente lagen: rijk
/les zoeken tekst: dijken
/moderator uitwisseling servers:ja
/les zoeken tekst: dijken draagvlak
/kanaal West server:Provincie
/moderator uitwisseling servers:ja
/kanaal Oost server:Rijk
/les zoeken tekst: dijken bewoners
/als Anna
/mijngegevens exporteren
/stop
";
    let (out, err, ok) = console(dir.path(), &[], script);
    assert!(ok, "the console failed: {err}\n{out}");
    assert!(
        !out.contains("[exchange.") && !out.contains("[question.") && !out.contains("[meeting."),
        "{out}"
    );

    // Search from the other collaboration names where a lesson comes from, not its
    // anonymous author.
    let found = reply_at(&out, "── Lessen zoeken");
    contains(found, "Netcongestie samen aanpakken");
    contains(found, "Uit: Energietransitie Noord");
    lacks(found, "Anna");

    // The round start suggests the lesson of the other collaboration, applied once.
    let round = reply_at(&out, "Wat anderen leerden bij Stap 1");
    contains(round, "L19 · Netcongestie samen aanpakken");
    lacks(round, "Anna");
    assert!(
        round.contains("1× toegepast") && round.contains("anoniem"),
        "{round}"
    );
    contains(&out, "[L19 lezen]  /les tonen id:L19");

    // Step 5 of others, side by side, without names.
    let step5 = reply_at(&out, "── Leren bij anderen");
    assert!(
        step5.contains("vast leerteam") && step5.contains("Woningbouw Zuid"),
        "{step5}"
    );
    lacks(step5, "Carla");
    contains(
        &out,
        "Les L20 \"Woningen en wijken\" (Uit: Woningbouw Zuid) komt in de volgende digest",
    );

    // The question goes to the other collaboration, is answered there, and becomes a draft.
    contains(&out, "→ in kanaal Zuid");
    let shown = reply_at(&out, "── Vraag aan de academie V1: Hoe koppel je terug");
    contains(shown, "Hoe koppel je terug");
    let answered = after(
        &out,
        "Je antwoord op V1 is opgeslagen. Het staat erbij als: anoniem.",
    );
    let shown = reply_at(answered, "── Vraag aan de academie V1");
    assert!(
        shown.contains("Antwoord 1 · anoniem") && !shown.contains("Carla"),
        "{shown}"
    );
    contains(&out, "Genoteerd: antwoord 1 op V1 hielp.");
    contains(&out, "Aan 1 beantwoorder is gevraagd");
    assert!(
        out.contains("Bericht voor Carla"),
        "Carla is asked for consent: {out}"
    );
    contains(&out, "Van vraag V1 is les L21 gemaakt met 1 antwoord");
    let queue = reply_at(&out, "── Beoordeling");
    contains(queue, "Terugkoppelen zonder mandaat");
    let digest = reply_at(&out, "Concept D1");
    assert!(
        digest.contains("Woningen en wijken"),
        "the lesson taken in: {digest}"
    );

    // The meeting: its agenda, a sign-up, and no lessons before it took place.
    let meeting = reply_at(&out, "── Bijeenkomst B1: Leren van de winter");
    contains(meeting, "Voorstel voor de agenda, gemaakt bij het plannen:");
    contains(meeting, "Netcongestie samen aanpakken");
    contains(meeting, "Wie kent een goed convenant");
    contains(meeting, "Martinikerkhof");
    contains(&out, "Genoteerd: je komt naar B1");
    contains(&out, "1 deelnemer komt");
    contains(&out, "Bijeenkomst B1 begint pas op di 01-12-2099 14:00");

    // Private: the other collaboration no longer finds it.
    let after_private = reply_at(&out, "Je bent nu in kanaal Zuid.\n\n── Lessen zoeken");
    lacks(after_private, "Netcongestie");

    // Another server: nothing travels until both servers allow it.
    let closed = reply_at(
        &out,
        "── Lessen zoeken  [alleen voor jou]\nGeen lessen gevonden",
    );
    lacks(closed, "Dijken");
    let one_side = after(&out, "Uitwisseling met andere servers: toegestaan");
    let one_side = reply_at(one_side, "── Lessen zoeken");
    assert!(
        !one_side.contains("Dijken en draagvlak"),
        "one server allowing is not enough: {one_side}"
    );
    let both = reply_at(
        &out,
        "Je bent nu in kanaal Oost (server rijk).\n\n── Lessen zoeken",
    );
    assert!(
        both.contains("Dijken en draagvlak") && both.contains("Uit: Waterveiligheid West"),
        "{both}"
    );

    // Anna's export holds her question and sign-up.
    let (_, json) = exported(&out);
    assert!(json["questions"][0]["text"]
        .as_str()
        .is_some_and(|t| t.contains("zonder mandaat")));
    assert_eq!(json["sign_ups"][0]["meeting"], 1);
}

#[test]
fn a_cadence_of_weeks_that_are_no_number_is_refused_about_weeks_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let (out, err, ok) = console(
        dir.path(),
        &[],
        &format!("{SETUP}/moderator ritme weken:x\n/moderator ritme weken:53\n/moderator ritme weken:0\n/moderator ritme weken:6\n"),
    );
    assert!(ok, "{err}");
    for typed in ["x", "53", "0"] {
        assert!(
            out.contains(&format!(
                "⚠ De waarde \"{typed}\" past niet bij weken: verwacht een aantal weken, van 1 tot en met 52."
            )),
            "{out}"
        );
    }
    lacks(&out, "paginanummer");
    assert_eq!(out.matches('⚠').count(), 3, "six weeks is accepted: {out}");
    let (out, err, ok) = console(
        dir.path(),
        &["--lang", "en"],
        "/moderator cadence weeks:x\n/quit\n",
    );
    assert!(ok, "{err}");
    contains(
        &out,
        "⚠ The value \"x\" does not fit weeks: expected a number of weeks, from 1 to 52.",
    );
    lacks(&out, "page number");
}

/// Someone met for the first time speaks the console's language, not the language of whoever
/// acted before them; someone known keeps theirs.
#[test]
fn a_new_person_speaks_the_consoles_language() {
    let script = "/instellen opgave: Wonen regio: Utrecht lagen: gemeente\n/moderator ronde start stap:1\n/als Bram taal:en\n/round status\n/als Carla\n/antwoord Betaalbaar wonen\n/als Bram\n/round status\n";
    let (_dir, out) = console_ok(script);
    contains(&out, "You are now Bram");
    contains(&out, "Je bent nu Carla");
    contains(
        &out,
        "Je antwoord in R1 is opgeslagen. Niemand ziet het tot een moderator de antwoorden onthult.",
    );
    lacks(&out, "Your answer in R1 is saved");
    contains(&out, "1 answer, from: Carla.");
}

/// A member who shared a lesson in one console and is not acted as in the next is still told
/// by name (and in the language a console gave them) when a moderator approves it there.
#[test]
fn a_message_for_someone_of_an_earlier_console_names_them() {
    let (dir, out) = console_ok(
        "/instellen opgave:Wonen regio:Utrecht lagen:gemeente\n\
         /als Anna\n\
         /les delen titel:Samen beginnen gebeurd:We begonnen los van elkaar. les:Begin samen. orde:1\n\
         /als Bram taal:en\n\
         /les delen titel:Start together gebeurd:We started apart. les:Start together. orde:1\n\
         /stop\n",
    );
    assert!(out.contains("L19") && out.contains("L20"), "{out}");
    let (out, err, ok) = console(
        dir.path(),
        &[],
        "/moderator beoordeling goedkeuren id:L19\n\
         /moderator beoordeling goedkeuren id:L20\n/stop\n",
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("✉ Bericht voor Anna: Je les L19"),
        "Anna by name:\n{out}"
    );
    assert!(
        out.contains("✉ Message for Bram: Your lesson L20"),
        "Bram by name, in English:\n{out}"
    );
    assert!(!out.contains("voor #") && !out.contains("for #"), "{out}");
}

/// The word that a member's data is erased everywhere is addressed in their language, as its
/// text is, not in the channel's.
#[test]
fn the_word_that_an_english_members_data_is_erased_is_all_in_english() {
    let (_dir, out) = console_ok(
        "/instellen opgave:Wonen regio:Utrecht lagen:gemeente\n\
         /als Bram taal:en\n\
         /mydata delete confirm:yes\n/stop\n",
    );
    assert!(
        out.contains("✉ Message for Bram: Your data is now also erased"),
        "{out}"
    );
    assert!(!out.contains("Bericht voor Bram"), "{out}");
}

#[test]
fn the_command_lines_help_and_its_refusals_are_in_the_academys_language() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = academie(dir.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs");
        (
            String::from_utf8(out.stdout).expect("UTF-8"),
            String::from_utf8(out.stderr).expect("UTF-8"),
            out.status.code(),
        )
    };
    // Dutch unless asked otherwise: the headings, the flags and every command.
    let (help, _, code) = run(&["--help"]);
    assert_eq!(code, Some(0));
    contains(&help, "Gebruik: academie [OPTIES] [OPDRACHT]");
    contains(&help, "Opdrachten:");
    contains(&help, "Toon deze hulp");
    contains(&help, "reservekopie");
    for english in [
        "Usage",
        "Commands:",
        "Options:",
        "Print help",
        "Write a consistent",
    ] {
        lacks(&help, english);
    }
    let (help, _, _) = run(&["help", "restore"]);
    contains(&help, "Gebruik: academie restore [OPTIES] [BESTAND]");
    contains(&help, "Argumenten:");
    let (help, _, _) = run(&["lessons", "--help"]);
    contains(
        &help,
        "Toon dit overzicht of de hulp bij de genoemde opdracht(en)",
    );
    lacks(&help, "Print this message");
    // A line it cannot read: what, in Dutch, and where the overview is; nothing started.
    let (out, err, code) = run(&["backup"]);
    assert_eq!(code, Some(2), "{out}{err}");
    contains(
        &err,
        "academie: er ontbreekt <BESTAND>. Typ academie --help voor het overzicht.",
    );
    let (_, err, code) = run(&["frobnicate"]);
    assert_eq!(code, Some(2));
    contains(&err, "de opdracht frobnicate ken ik niet");
    assert!(!dir.path().join("db").exists(), "no database was made");
    // In English when asked.
    let (help, _, _) = run(&["--lang", "en", "--help"]);
    contains(&help, "Usage: academie [OPTIONS] [COMMAND]");
    contains(&help, "Write a consistent backup");
    let (_, err, code) = run(&["--lang=en", "backup"]);
    assert_eq!(code, Some(2));
    contains(&err, "required arguments were not provided");
}
