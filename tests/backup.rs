//! Backup and restore through the built binary: a backup taken while a console runs and keeps
//! writing, restored into the same and into a fresh data folder, and damaged or untimely
//! restores refused with one sentence and nothing changed.

use crate::binary;

use binary::{academie, copy_dir};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs a one-shot command; returns (stdout, stderr, success).
fn run(dir: &Path, args: &[&str]) -> (String, String, bool) {
    binary::console(dir, args, "")
}

/// An academy set up in `data` (see `SETUP`) and backed up, by the binary, to `b.jsonl`.
fn set_up_and_back_up(data: &Path) {
    let (_, err, ok) = console(data, &format!("{SETUP}/stop\n"));
    assert!(ok, "{err}");
    let (_, err, ok) = run(data, &["backup", "b.jsonl"]);
    assert!(ok, "{err}");
}

/// Runs the console with `script` on stdin to its end; returns (stdout, stderr, success).
fn console(dir: &Path, script: &str) -> (String, String, bool) {
    binary::console(dir, &[], script)
}

/// A console that keeps running while the test does other things.
struct Running {
    child: Child,
    stdin: ChildStdin,
    out: Arc<Mutex<String>>,
}

impl Running {
    fn start(dir: &Path) -> Running {
        let mut child = academie(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(String::new()));
        let sink = out.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let running = Running { child, stdin, out };
        running.wait_for("Welkom");
        running
    }

    fn send(&mut self, lines: &str) {
        self.stdin.write_all(lines.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits until the output holds `needle`, so the lines before it were handled.
    fn wait_for(&self, needle: &str) {
        let since = Instant::now();
        while !self.out.lock().unwrap().contains(needle) {
            assert!(
                since.elapsed() < Duration::from_secs(60),
                "{needle:?} never appeared in:\n{}",
                self.out.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(mut self) -> String {
        self.send("/stop\n");
        assert!(self.child.wait().unwrap().success());
        let out = self.out.lock().unwrap().clone();
        out
    }
}

fn siblings(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

const SETUP: &str = "/instellen opgave: Dijkversterking Lek regio: Utrecht lagen: rijk, waterschap
/moderator ronde start stap:1
/als Anna
/antwoord Voor de back-up: de dijk moet omhoog.
/les delen titel: Les van voor de back-up gebeurd: We spraken af. les: Spreek af. orde: eerste stappen: 2 als: anoniem
";

#[test]
fn a_backup_taken_while_the_console_writes_restores_exactly_what_was_there() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut first = Running::start(data);
    first.send(SETUP);
    first.wait_for("Je les L19");

    let (out, err, ok) = run(data, &["backup", "backup.jsonl"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Back-up geschreven naar backup.jsonl door de academie die nu draait"),
        "the running console wrote it: {out}"
    );
    let backup = data.join("backup.jsonl");
    assert!(backup.exists());

    // A target that cannot be written: one sentence naming it, and the console carries on.
    let (_, err, ok) = run(data, &["backup", "geen-map/backup.jsonl"]);
    assert!(!ok);
    assert!(
        err.contains("De back-up naar geen-map/backup.jsonl is niet gelukt"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // Restoring under a running academy is refused, and touches nothing.
    let (_, err, ok) = run(data, &["restore", "backup.jsonl"]);
    assert!(!ok);
    assert!(err.contains("De academie draait nog op"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(siblings(data, "db.before-restore").is_empty());

    first.send(
        "/als Bram
/antwoord Na de back-up: de rivier krijgt ruimte.
/les delen titel: Les van na de back-up gebeurd: Later. les: Later. orde: tweede stappen: 3 als: anoniem
",
    );
    first.wait_for("Je les L20");
    let out = first.stop();
    assert!(out.contains("Na de back-up"), "{out}");

    let (out, err, ok) = run(data, &["restore", "backup.jsonl"]);
    assert!(ok, "{err}");
    assert!(out.contains("Hersteld uit backup.jsonl"), "{out}");
    let previous = siblings(data, "db.before-restore-");
    assert_eq!(previous.len(), 1, "the replaced database is kept");
    assert!(
        out.contains(&previous[0].display().to_string()),
        "and named: {out}"
    );

    let check = "/ronde status\n/les tonen id:L19\n/les tonen id:L20\n/stop\n";
    let (out, err, ok) = console(data, check);
    assert!(ok, "{err}");
    assert!(out.contains("1 antwoord, van: Anna."), "{out}");
    assert!(!out.contains("Bram"), "written after the backup: {out}");
    assert!(out.contains("Les van voor de back-up"), "{out}");
    assert!(out.contains("Er is geen les L20."), "{out}");
    assert!(
        !out.contains("startbibliotheek"),
        "the library came from the backup, not from a new seed: {out}"
    );

    // The database that was replaced holds everything, the later writes included.
    let aside = tempfile::tempdir().unwrap();
    let (out, _, ok) = {
        let mut cmd = academie(aside.path());
        cmd.env("ACADEMIE_DATABASE", &previous[0])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"/ronde status\n/stop\n")
            .unwrap();
        let o = child.wait_with_output().unwrap();
        (
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
            o.status.success(),
        )
    };
    assert!(ok);
    assert!(out.contains("2 antwoorden, van: Anna, Bram."), "{out}");

    // Into a data folder that has no database yet.
    let fresh = tempfile::tempdir().unwrap();
    let (out, err, ok) = run(fresh.path(), &["restore", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(!out.contains("De vorige database"), "{out}");
    let (out, _, ok) = console(fresh.path(), check);
    assert!(ok);
    assert!(out.contains("1 antwoord, van: Anna."), "{out}");
    assert!(out.contains("Les van voor de back-up"), "{out}");
}

#[test]
fn a_cut_or_edited_backup_is_refused_and_nothing_changes() {
    use academie::store::{SledStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (_, err, ok) = console(data, &format!("{SETUP}/stop\n"));
    assert!(ok, "{err}");
    let (out, err, ok) = run(data, &["--lang", "en", "backup", "b.jsonl"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("Backup written to b.jsonl: "), "{out}");
    let good = std::fs::read_to_string(data.join("b.jsonl")).unwrap();

    let snapshot = || {
        let store = SledStore::open(&data.join("db"), None).unwrap();
        store.snapshot().unwrap()
    };
    let before = snapshot();
    let lines: Vec<&str> = good.lines().collect();
    let cut = lines[..lines.len() - 1].join("\n") + "\n";
    let half = good[..good.len() / 2].to_owned();
    // One value changed, still valid base64: only the checksum can tell.
    let at = lines.len() / 2;
    let edited_line = lines[at].replacen("\"value\":\"", "\"value\":\"QUFB", 1);
    assert_ne!(edited_line, lines[at]);
    let mut edited: Vec<&str> = lines.clone();
    edited[at] = &edited_line;
    let edited = edited.join("\n") + "\n";
    for (name, text, expected) in [
        ("cut", cut, "de back-up is afgebroken"),
        ("half", half, "de back-up is afgebroken"),
        ("edited", edited, "de back-up is na het schrijven gewijzigd"),
        ("other", "{\"a\":1}\n".to_owned(), "is geen back-up"),
    ] {
        let file = format!("{name}.jsonl");
        std::fs::write(data.join(&file), text).unwrap();
        let (_, err, ok) = run(data, &["restore", &file]);
        assert!(!ok, "{name} must be refused");
        assert!(err.contains(expected), "{name}: {err}");
        assert!(err.contains("er is niets veranderd"), "{name}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
    }
    assert!(siblings(data, "db.before-restore").is_empty());
    assert!(siblings(data, "db.restor").is_empty());
    assert_eq!(snapshot(), before, "the database is as it was");

    // The file as written restores: the refusals were about the damage.
    let (out, err, ok) = run(data, &["restore", "b.jsonl"]);
    assert!(ok, "{err}");
    assert!(out.contains("Hersteld uit b.jsonl"), "{out}");
    assert_eq!(snapshot(), before, "restored entry for entry");
}

#[test]
fn a_backup_with_nothing_to_back_up_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (_, err, ok) = run(dir.path(), &["backup", "b.jsonl"]);
    assert!(!ok);
    assert!(err.contains("Er is geen database in"), "{err}");
    assert!(!dir.path().join("db").exists(), "none was created");
}

#[test]
fn a_backup_of_an_older_schema_is_upgraded_when_restored() {
    use academie::store::{schema_version, SledStore, Store, Tree, SCHEMA_VERSION};
    let old = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema1");
    copy_dir(&fixture.join("academie.db"), &old.path().join("db"));
    let (out, err, ok) = run(old.path(), &["backup", "old.jsonl"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("schema 1."),
        "backing up changes nothing: {out}"
    );

    let fresh = tempfile::tempdir().unwrap();
    let file = old.path().join("old.jsonl");
    let (out, err, ok) = run(fresh.path(), &["restore", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("schema 1"), "{out}");
    let store = SledStore::open(&fresh.path().join("db"), None).unwrap();
    assert_eq!(schema_version(&store).unwrap(), SCHEMA_VERSION);
    assert_eq!(
        store.scan_prefix(Tree::Participants, &[]).unwrap().len(),
        2,
        "the upgrade ran on the restored database"
    );
}

#[cfg(unix)]
#[test]
fn the_socket_of_a_killed_academy_is_replaced_and_removed_at_a_clean_exit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let socket = data.join("db.sock");
    let mut killed = Running::start(data);
    assert!(socket.exists(), "listening beside the database");
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    assert!(socket.exists(), "a killed process leaves its socket");
    let (_, err, ok) = run(data, &["backup", "b.jsonl"]);
    assert!(
        ok,
        "with nobody running, the database itself is read: {err}"
    );

    let second = Running::start(data);
    let (out, err, ok) = run(data, &["backup", "b.jsonl"]);
    assert!(ok, "{err}");
    assert!(out.contains("door de academie die nu draait"), "{out}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner may ask for a backup");
        let mode = std::fs::metadata(data.join("b.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "a backup holds everyone's data");
    }
    second.stop();
    assert!(!socket.exists(), "removed at a clean exit");
}

/// Runs a one-shot command with extra environment; returns (stdout, stderr, success).
fn run_with(dir: &Path, env: &[(&str, &Path)], args: &[&str]) -> (String, String, bool) {
    let mut cmd = academie(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).stdin(Stdio::null()).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[cfg(unix)]
#[test]
fn a_link_or_a_foreign_file_at_the_temporary_name_is_never_followed_or_reused() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (_, err, ok) = console(data, &format!("{SETUP}/stop\n"));
    assert!(ok, "{err}");

    // A link where the old code wrote the backup first.
    let victim = data.join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    std::os::unix::fs::symlink(&victim, data.join("b.jsonl.tmp")).unwrap();
    // A file of someone else's, writable by all.
    let foreign = data.join("c.jsonl.tmp");
    std::fs::write(&foreign, "foreign").unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o666)).unwrap();
    let foreign_inode = std::fs::metadata(&foreign).unwrap().ino();

    for name in ["b.jsonl", "c.jsonl"] {
        let (_, err, ok) = run(data, &["backup", name]);
        assert!(ok, "{err}");
        let meta = std::fs::symlink_metadata(data.join(name)).unwrap();
        assert!(meta.is_file(), "{name} is a file of its own");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        assert_ne!(meta.ino(), foreign_inode, "{name} is not the foreign file");
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(std::fs::symlink_metadata(data.join("b.jsonl.tmp"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "foreign");
    assert_eq!(
        std::fs::metadata(&foreign).unwrap().permissions().mode() & 0o777,
        0o666
    );
    // Nothing of the academy's was left beside them.
    let temporary: Vec<_> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") && n.starts_with('.'))
        .collect();
    assert!(temporary.is_empty(), "{temporary:?}");
    let (_, err, ok) = run(data, &["restore", "c.jsonl"]);
    assert!(ok, "the backup is whole: {err}");
}

#[cfg(target_os = "linux")]
#[test]
fn restoring_from_a_device_without_line_ends_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (_, err, ok) = console(data, &format!("{SETUP}/stop\n"));
    assert!(ok, "{err}");
    let mut child = academie(data)
        .args(["restore", "/dev/zero"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let since = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if since.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("restore /dev/zero still reading after 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("/dev/zero is geen back-up van de academie; er is niets veranderd."),
        "{err}"
    );
    assert!(siblings(data, "db.before-restore").is_empty());
}

#[test]
fn a_record_that_does_not_read_is_refused_although_its_checksum_was_recomputed() {
    use academie::store::{SledStore, Store};
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    set_up_and_back_up(data);
    let snapshot = || {
        SledStore::open(&data.join("db"), None)
            .unwrap()
            .snapshot()
            .unwrap()
    };
    let before = snapshot();

    // The first lesson replaced by JSON that is no lesson, the count and checksum made to
    // match again: the file is "whole", its content is not.
    let text = std::fs::read_to_string(data.join("b.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.pop();
    let at = lines
        .iter()
        .position(|l| l.contains("\"tree\":\"lessons\""))
        .unwrap();
    let mut entry: serde_json::Value = serde_json::from_str(&lines[at]).unwrap();
    entry["value"] = base64::engine::general_purpose::STANDARD
        .encode(br#"{"id":"L1","title":"geen les"}"#)
        .into();
    lines[at] = entry.to_string();
    let mut crc = crc32fast::Hasher::new();
    let mut edited = String::new();
    for l in &lines {
        let l = format!("{l}\n");
        crc.update(l.as_bytes());
        edited.push_str(&l);
    }
    let footer = serde_json::json!({"entries": lines.len() - 1, "crc32": crc.finalize()});
    edited.push_str(&format!("{footer}\n"));
    std::fs::write(data.join("edited.jsonl"), edited).unwrap();

    let (_, err, ok) = run(data, &["restore", "edited.jsonl"]);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "Regel {} van edited.jsonl bevat een gegeven uit lessons dat deze versie niet kan lezen",
            at + 1
        )),
        "{err}"
    );
    assert!(err.contains("er is niets veranderd"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(siblings(data, "db.before-restore").is_empty());
    assert!(siblings(data, "db.restor").is_empty());
    assert_eq!(snapshot(), before, "the database is as it was");
    let (out, _, ok) = console(data, "/les zoeken tekst:mandaat\n/stop\n");
    assert!(ok);
    assert!(out.contains("gevonden"), "search still works: {out}");
}

#[test]
fn restores_in_the_same_second_each_keep_the_database_they_replace_and_leave_no_copy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    set_up_and_back_up(data);
    // What a restore in this second (or the next few) already moved aside.
    let now = chrono::Utc::now();
    let mut earlier = Vec::new();
    for s in 0..20 {
        let stamp = (now + chrono::Duration::seconds(s)).format("%Y%m%dT%H%M%SZ");
        let folder = data.join(format!("db.before-restore-{stamp}"));
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("db"), "an earlier database").unwrap();
        earlier.push(folder);
    }
    for round in 1..=2 {
        let (out, err, ok) = run(data, &["restore", "b.jsonl"]);
        assert!(ok, "restore {round}: {err}");
        assert!(out.contains("De vorige database staat nu in"), "{out}");
        assert!(
            siblings(data, "db.restor").is_empty(),
            "restore {round} left a copy"
        );
    }
    for folder in &earlier {
        assert_eq!(
            std::fs::read_to_string(folder.join("db")).unwrap(),
            "an earlier database",
            "{} is untouched",
            folder.display()
        );
    }
    let kept: Vec<_> = siblings(data, "db.before-restore")
        .into_iter()
        .filter(|p| !earlier.contains(p))
        .collect();
    assert_eq!(
        kept.len(),
        2,
        "each restore kept what it replaced: {kept:?}"
    );
    for folder in &kept {
        assert!(
            folder.join("conf").exists(),
            "{} is a database",
            folder.display()
        );
    }
}

#[test]
fn a_restore_that_could_not_open_its_result_changes_nothing_beforehand() {
    use academie::store::{SledStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    set_up_and_back_up(data);
    let snapshot = || {
        SledStore::open(&data.join("db"), None)
            .unwrap()
            .snapshot()
            .unwrap()
    };
    let before = snapshot();
    // Edited digest templates that do not compile: opening the academy fails on them.
    let templates = data.join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(templates.join("digest.md.hbs"), "{{#if}}").unwrap();
    let (_, err, ok) = run_with(
        data,
        &[("ACADEMIE_TEMPLATES_DIR", &templates)],
        &["restore", "b.jsonl"],
    );
    assert!(!ok);
    assert!(err.contains("digest templates are not valid"), "{err}");
    assert!(
        siblings(data, "db.before-restore").is_empty(),
        "refused before the database was moved aside"
    );
    assert_eq!(snapshot(), before);
}

#[test]
fn the_site_is_exported_while_the_academy_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut running = Running::start(data);
    running.send(
        "/instellen opgave: Dijkversterking Lek regio: Utrecht lagen: rijk, waterschap
/als Anna
/les delen titel: Vraag om mandaat gebeurd: Ik zat aan tafel zonder mandaat. les: Vraag vooraf wat je mag toezeggen. orde: eerste
/als Ik
/moderator beoordeling goedkeuren id:L19
/moderator digest samenstellen titel: Digest december van: 2000-01-01
/moderator digest publiceren id:D1
",
    );
    running.wait_for("── Digest december  [in het kanaal]");
    let (out, err, ok) = run(data, &["export", "site", "elders"]);
    assert!(ok, "export while running: {err}");
    assert!(out.contains("Site in elders"), "{out}");
    let page = std::fs::read_to_string(data.join("elders/digests/D1.html")).unwrap();
    assert!(page.contains("Digest december"), "{page}");
    assert!(data.join("elders/lessons/L19.html").exists());
    // The academy keeps running and writing after the export.
    running.send("/als Bram\n/les toegepast id:L19 notitie: Gebruikt.\n");
    running.wait_for("toegepast. Die is nu 1×");
    running.stop();
}

#[test]
fn automatic_backups_are_taken_by_the_running_academy_kept_private_and_rotated() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let folder = data.join("db.backups");
    let listed = || -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        all.sort();
        all
    };
    let (_, err, ok) = console(data, &format!("{SETUP}/stop\n"));
    assert!(ok, "{err}");
    assert_eq!(
        listed().len(),
        1,
        "the first start backs the new database up"
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700);
    // A start within the interval (a day by default) takes none.
    let (_, err, ok) = console(data, "/stop\n");
    assert!(ok, "{err}");
    assert_eq!(listed().len(), 1);

    // Every second, two kept; a backup cut off by a crash left its temporary file.
    std::fs::write(
        folder.join("academie-20200101T000000.000Z.backup.tmp"),
        b"half",
    )
    .unwrap();
    let start = |script: &str| {
        let out = academie(data)
            .env("ACADEMIE_BACKUP_INTERVAL", "1s")
            .env("ACADEMIE_BACKUPS", "2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child.stdin.take().unwrap().write_all(script.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let first = listed();
    for n in 0..3 {
        std::thread::sleep(Duration::from_millis(1100));
        start(&format!("/als Anna\n/antwoord Antwoord {n}\n/stop\n"));
    }
    let kept = listed();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(!kept.contains(&first[0]), "the oldest went");
    for path in &kept {
        assert_eq!(mode(path), 0o600, "{}", path.display());
        let backup =
            academie::engine::backup::read_backup(&academie::files::LocalDisk, path).unwrap();
        assert!(backup.summary.entries > 0);
    }
    // The newest holds the answer given before its start, and restores as any backup does.
    let newest = kept.last().unwrap();
    let (out, err, ok) = run(data, &["restore"]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("Hersteld uit {}", newest.display())),
        "{out}"
    );
    // A restore (as an export or an import) takes no automatic backup, even when one is due:
    // the backups are the running academy's, and the one restored from stays as it was named.
    std::thread::sleep(Duration::from_millis(1100));
    let again = academie(data)
        .env("ACADEMIE_BACKUP_INTERVAL", "1s")
        .env("ACADEMIE_BACKUPS", "2")
        .arg("restore")
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(listed(), kept, "no backup taken or removed by a restore");
    let (out, _, ok) = console(data, "/als Anna\n/antwoord bekijken\n/stop\n");
    assert!(ok);
    assert!(out.contains("Antwoord 1"), "{out}");
    // Nothing of the restore is left beside the database but the one it set aside.
    let mut left: Vec<String> = siblings(data, "db.")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("db.before-restore-"))
        .collect();
    left.sort();
    assert_eq!(left, ["db.backups", "db.lock", "db.reserve"], "{left:?}");
    let reserve = std::fs::metadata(data.join("db.reserve")).unwrap();
    assert_eq!(mode(&data.join("db.reserve")), 0o600);
    assert!(
        reserve.len() >= 8 << 20,
        "room is kept aside for a full disk"
    );

    // Switched off: none are taken.
    let off = tempfile::tempdir().unwrap();
    let out = academie(off.path())
        .env("ACADEMIE_BACKUPS", "0")
        .arg("console")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!off.path().join("db.backups").exists());
}
