//! The crate boundaries the architecture promises, kept by a test: the core (`crates/core`)
//! depends on no chat platform, async runtime, database, renderer or file library, and no file
//! of it touches the operating system. The compiler keeps the rest, since what the core does not
//! depend on it cannot name.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the core may never depend on, directly or through another crate.
const FORBIDDEN_CRATES: &[&str] = &[
    "serenity",
    "poise",
    "tokio",
    "sled",
    "resvg",
    "usvg",
    "tiny-skia",
    "tempfile",
    "rustix",
    "fs2",
];

/// What no file of the core may use: the machine is injected (store, clock, disk, rasterizer).
const FORBIDDEN_PATHS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::os::",
    "tokio::",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every crate the core builds on for the machine running the tests (normal and build
/// dependencies, as the lock file resolves them).
fn core_dependencies() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args([
            "tree",
            "--package",
            "academie-core",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--offline",
            "--locked",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the core's sources") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn the_core_depends_on_no_platform_runtime_database_or_renderer() {
    let deps = core_dependencies();
    assert!(
        deps.iter().any(|d| d == "handlebars"),
        "the dependency list was read: {deps:?}"
    );
    let forbidden: Vec<&String> = deps
        .iter()
        .filter(|d| FORBIDDEN_CRATES.contains(&d.as_str()))
        .collect();
    assert!(
        forbidden.is_empty(),
        "academie-core depends on {forbidden:?}: the core must stay free of them (see \
         ARCHITECTURE.md); inject what needs them from the binary"
    );
}

#[test]
fn no_file_of_the_core_touches_the_operating_system() {
    let mut files = Vec::new();
    rust_files(&root().join("crates/core/src"), &mut files);
    assert!(
        files.len() > 50,
        "the core's files were found: {}",
        files.len()
    );
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for path in FORBIDDEN_PATHS {
            if text.contains(path) {
                found.push(format!("{} uses {path}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
