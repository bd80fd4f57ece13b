//! Driving the built `academie` binary from tests, as a newcomer would: one data folder per
//! test, no token, no config file, typed commands on stdin. Shared by every test of the binary.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The binary, with its database and exports in `dir` and nothing taken from the environment.
pub fn academie(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_academie"));
    cmd.current_dir(dir)
        .env_remove("DISCORD_TOKEN")
        .env_remove("ACADEMIE_CONFIG")
        .env_remove("ACADEMIE_CONSOLE_USER")
        .env_remove("ACADEMIE_CONSOLE_ROLE")
        .env_remove("ACADEMIE_LANGUAGE")
        .env("ACADEMIE_DATABASE", dir.join("db"))
        .env("ACADEMIE_EXPORT_DIR", dir.join("export"))
        .env("RUST_LOG", "warn");
    cmd
}

/// Runs the binary with `args` and `script` on stdin to its end; returns (stdout, stderr,
/// success).
pub fn console(dir: &Path, args: &[&str], script: &str) -> (String, String, bool) {
    let mut child = academie(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the academie binary starts");
    // A binary that refuses to start (a database in use) may exit before reading its input.
    match child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write the script: {e}"),
        _ => {}
    }
    let out = child.wait_with_output().expect("the binary ends");
    (
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        out.status.success(),
    )
}

/// Runs `script` through the console in a fresh data folder, and fails the test unless the
/// binary succeeds; returns the folder (removed when dropped) and what it printed.
pub fn console_ok(script: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (out, err, ok) = console(dir.path(), &[], script);
    assert!(ok, "the console failed: {err}\n{out}");
    (dir, out)
}

/// Copies a directory tree (the fixtures are a few files).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
