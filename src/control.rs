//! The running academy's control socket: the database can be opened by one process only, so a
//! backup, or the static site, made while the academy runs is asked of the academy itself.
//!
//! A Unix socket beside the database (`<database>.sock`, readable and writable by its owner
//! only) takes one request per connection, a JSON line, and answers with one. Only the process
//! that holds the database listens, so a socket left by a killed process is stale and replaced.

use crate::engine::backup::{BackupError, BackupSummary};
use crate::engine::Engine;
use crate::site::WriteReport;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the academy waits for a request line; a client that connects and says nothing
/// must not hold up the next one.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client waits for the backup (or the site) to be written.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Serialize, Deserialize)]
enum Request {
    /// Write a backup to this absolute path.
    Backup(PathBuf),
    /// Write the static site of published digests into this absolute folder.
    Site(PathBuf),
}

#[derive(Debug, Serialize, Deserialize)]
enum Answer {
    BackedUp(BackupSummary),
    SiteWritten(WriteReport),
    Failed(String),
}

/// Why a request to the running academy did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Nobody answers at the socket: the database is held by a process without one.
    #[error("nothing answers at {socket}: {source}")]
    Unreachable {
        socket: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The academy answered that it could not do it.
    #[error("{0}")]
    Failed(String),
}

/// Where the academy using `database` listens.
pub fn socket_path(database: &Path) -> PathBuf {
    crate::store::sibling(database, "sock")
}

/// The listening socket and its thread; dropping it stops listening and removes the socket.
#[derive(Debug)]
pub struct Control {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Control {
    /// Listens beside `database`. Call only while holding the database open: that is what
    /// makes an existing socket stale.
    pub fn start(engine: Arc<Engine>, database: &Path) -> Result<Control> {
        let path = socket_path(database);
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            anyhow::ensure!(
                meta.file_type().is_socket(),
                "{} exists and is not a socket; move it away",
                path.display()
            );
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove the stale socket {}", path.display()))?;
        }
        let listener = UnixListener::bind(&path)
            .with_context(|| format!("cannot listen at {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("control".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    match stream {
                        Ok(stream) => {
                            if let Err(e) = serve_one(&engine, stream) {
                                tracing::warn!("control request failed: {e:#}");
                            }
                        }
                        Err(e) => tracing::warn!("control socket: {e}"),
                    }
                }
            })
            .context("cannot start the control thread")?;
        Ok(Control {
            path,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the thread waiting in accept, which then sees the stop flag.
        let _ = UnixStream::connect(&self.path);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve_one(engine: &Engine, stream: UnixStream) -> Result<()> {
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    if line.trim().is_empty() {
        // The wake-up connection of a stop, or a client that gave up.
        return Ok(());
    }
    let answer = match serde_json::from_str::<Request>(&line) {
        Ok(Request::Backup(path)) => match engine.backup(&path) {
            Ok(summary) => {
                tracing::info!(path = %path.display(), entries = summary.entries, "backup written");
                Answer::BackedUp(summary)
            }
            Err(e) => Answer::Failed(describe(&e)),
        },
        Ok(Request::Site(dir)) => match engine.export_site(&dir) {
            Ok(report) => {
                tracing::info!(dir = %dir.display(), written = report.written, "site written");
                Answer::SiteWritten(report)
            }
            Err(e) => Answer::Failed(format!("{e:#}")),
        },
        Err(e) => Answer::Failed(format!("unknown request: {e}")),
    };
    let mut stream = stream;
    writeln!(stream, "{}", serde_json::to_string(&answer)?)?;
    Ok(())
}

fn describe(e: &BackupError) -> String {
    match e {
        // The operating system's reason is the useful part; the path is named by the client.
        BackupError::Write { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// Asks the academy running on `database` to write a backup to `target`.
pub fn request_backup(database: &Path, target: &Path) -> Result<BackupSummary, ControlError> {
    match ask(database, &Request::Backup(target.to_owned()))? {
        Answer::BackedUp(summary) => Ok(summary),
        other => Err(unexpected(other)),
    }
}

/// Asks the academy running on `database` to write the static site into `dir`.
pub fn request_site(database: &Path, dir: &Path) -> Result<WriteReport, ControlError> {
    match ask(database, &Request::Site(dir.to_owned()))? {
        Answer::SiteWritten(report) => Ok(report),
        other => Err(unexpected(other)),
    }
}

fn unexpected(answer: Answer) -> ControlError {
    match answer {
        Answer::Failed(reason) => ControlError::Failed(reason),
        other => ControlError::Failed(format!("an answer to another question: {other:?}")),
    }
}

/// Sends one request to the running academy and reads its one answer.
fn ask(database: &Path, request: &Request) -> Result<Answer, ControlError> {
    let socket = socket_path(database);
    let unreachable = |source| ControlError::Unreachable {
        socket: socket.clone(),
        source,
    };
    let mut stream = UnixStream::connect(&socket).map_err(unreachable)?;
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .map_err(unreachable)?;
    let request =
        serde_json::to_string(request).map_err(|e| ControlError::Failed(e.to_string()))?;
    writeln!(stream, "{request}").map_err(unreachable)?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(unreachable)?;
    serde_json::from_str::<Answer>(&line).map_err(|_| {
        ControlError::Failed(format!(
            "the academy at {} gave no answer",
            socket.display()
        ))
    })
}
