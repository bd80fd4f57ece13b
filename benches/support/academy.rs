//! An academy on disk for benchmarks, and the binary measured as a child process.
//!
//! In process: an engine over a sled database at a fixed moment (so nothing falls due during a
//! run), people to act as, and a helper that fails the bench with the refusal's text when a
//! request that should succeed does not. As a child: the real `academie` binary run on a
//! database, timed, with its peak resident memory read from `/proc/<pid>/status` (`VmHWM`, the
//! high-water mark, which the kernel keeps for the whole life of the process): a figure of that
//! process alone, as `/usr/bin/time -v` reports it, without the bench's own memory in it.

use academie::domain::*;
use academie::engine::{Clock, Ctx, Engine, Request, Settings};
use academie::reply::Reply;
use academie::store::Store;
use academie::text::Catalog;
use chrono::{DateTime, Utc};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The moment every bench academy lives in: after the whole corpus period.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .expect("time")
        .into()
}

/// A clock that never moves, so no deadline or scheduled job falls due during a run.
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// An engine over `store`, at [`now`].
pub fn engine(store: Arc<dyn Store>, settings: Settings) -> Engine {
    academie::local(Engine::new(
        store,
        Arc::new(Catalog::embedded().expect("catalog")),
        Arc::new(FixedClock(now())),
        settings,
    ))
}

/// Someone acting in `channel`.
pub fn person(id: UserId, name: &str, role: Role, channel: ChannelId) -> Ctx {
    Ctx {
        actor: Actor {
            id,
            name: name.to_owned(),
            lang: Lang::Nl,
            role,
        },
        channel: Some(channel),
        server: None,
    }
}

/// The moderator of every bench academy.
pub fn moderator(channel: ChannelId) -> Ctx {
    person(UserId(7), "Mira", Role::Moderator, channel)
}

/// Runs a request that must succeed; a refusal or an error ends the bench with its text.
pub fn ok(engine: &Engine, ctx: &Ctx, request: Request) -> Reply {
    let what = format!("{request:?}");
    engine
        .handle(ctx, request)
        .unwrap_or_else(|f| panic!("{} failed: {f}", what.chars().take(120).collect::<String>()))
}

/// Sets up a collaboration in `channel`, in Dutch.
pub fn setup(engine: &Engine, channel: ChannelId) {
    ok(
        engine,
        &moderator(channel),
        Request::Setup {
            task: "Klimaatadaptatie in de Delta".into(),
            region: "Zuidwest-Delta".into(),
            layers: vec![Layer::Municipality, Layer::Province, Layer::WaterBoard],
            lang: Some(Lang::Nl),
            zone: None,
        },
    );
}

/// Text of the whole reply, as a person would read it.
pub fn text(reply: &Reply) -> String {
    let mut out = reply.body.clone();
    for s in &reply.sections {
        out.push('\n');
        out.push_str(&s.heading);
        out.push('\n');
        out.push_str(&s.body);
    }
    out
}

/// A figure from /proc/<pid>/status, in bytes; 0 once the process is gone.
pub fn proc_status(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Megabytes (MiB), as printed.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// What a run of the binary took.
#[derive(Debug)]
pub struct Measured {
    pub took: Duration,
    /// Peak resident memory (`VmHWM`), in bytes.
    pub peak: u64,
    pub stdout: String,
}

/// The binary with the environment every bench run gets: its own database and export folder,
/// no token, no configuration file, warnings only.
pub fn academie(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_academie"));
    c.env_remove("DISCORD_TOKEN")
        .env_remove("ACADEMIE_CONFIG")
        .env_remove("ACADEMIE_CACHE_MB")
        .env_remove("ACADEMIE_SITE_DIR")
        .env("ACADEMIE_DATABASE", db)
        .env("ACADEMIE_EXPORT_DIR", db.with_extension("export"))
        .env("RUST_LOG", "warn");
    c
}

/// Runs a command of the binary that ends by itself (`lessons import`, `export site`,
/// `backup`): its time, and its peak memory read every few milliseconds while it runs. The
/// mark only rises, so the last reading holds every peak before it.
pub fn run(mut command: Command) -> Measured {
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the academie binary starts");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let errors = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stderr.read_to_string(&mut out);
        out
    });
    let mut peak = 0;
    let status = loop {
        peak = peak.max(proc_status(pid, "VmHWM:"));
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let took = start.elapsed();
    let out = reader.join().expect("stdout reader");
    let err = errors.join().expect("stderr reader");
    assert!(
        status.success(),
        "the binary failed ({status}):\n{out}\n{err}"
    );
    Measured {
        took,
        peak,
        stdout: out,
    }
}

/// A console started on `db` as `user` with `role`.
pub struct Console {
    child: Child,
    stdin: std::process::ChildStdin,
    stdout: std::process::ChildStdout,
    seen: String,
    marks: usize,
}

impl Console {
    pub fn start(db: &Path, user: &str, role: &str) -> Console {
        let mut child = academie(db)
            .arg("console")
            .env("ACADEMIE_CONSOLE_USER", user)
            .env("ACADEMIE_CONSOLE_ROLE", role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the academie binary starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut console = Console {
            child,
            stdin,
            stdout,
            seen: String::new(),
            marks: 0,
        };
        console.send("");
        console
    }

    /// Types `line` (none for an empty one), then an unknown command as a mark, and returns
    /// everything printed until the console refused the mark: the answer to `line`, whole.
    pub fn send(&mut self, line: &str) -> String {
        self.marks += 1;
        let mark = format!("zzmark{}", self.marks);
        let typed = if line.is_empty() {
            format!("/{mark}\n")
        } else {
            format!("{line}\n/{mark}\n")
        };
        let from = self.seen.len();
        self.stdin.write_all(typed.as_bytes()).expect("type");
        let wanted = format!("\"{mark}\"");
        let mut buf = [0u8; 64 * 1024];
        while !self.seen[from..].contains(&wanted) {
            let n = self.stdout.read(&mut buf).expect("read the console");
            assert!(
                n > 0,
                "the console stopped before answering:\n{}",
                self.tail()
            );
            self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        self.seen[from..].to_owned()
    }

    /// The peak resident memory so far.
    pub fn peak(&self) -> u64 {
        proc_status(self.child.id(), "VmHWM:")
    }

    fn tail(&self) -> String {
        let start = self.seen.len().saturating_sub(2_000);
        let start = (start..self.seen.len())
            .find(|i| self.seen.is_char_boundary(*i))
            .unwrap_or(self.seen.len());
        self.seen[start..].to_owned()
    }

    /// Ends the console by closing its input, as a user's end of file does.
    pub fn stop(mut self) {
        drop(self.stdin);
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "the console exited with {status}");
        let mut rest = String::new();
        let _ = self.stdout.read_to_string(&mut rest);
    }
}

/// One command typed into a fresh console: its time (start-up excluded), its peak memory
/// (start-up included, as a user's process has it) and its output.
pub fn console_command(db: &Path, user: &str, role: &str, line: &str) -> Measured {
    let mut console = Console::start(db, user, role);
    let start = Instant::now();
    let out = console.send(line);
    let took = start.elapsed();
    let peak = console.peak();
    console.stop();
    Measured {
        took,
        peak,
        stdout: out,
    }
}

/// A lesson as a member shares it, numbered so every one is its own.
pub fn draft(i: usize, j: usize) -> academie::engine::LessonDraft {
    academie::engine::LessonDraft {
        title: format!("Regionale tafel {i}-{j}: eerst samen het vraagstuk"),
        happened: format!(
            "In overleg {i}-{j} zaten gemeente, provincie en waterschap aan tafel zonder \
             gedeeld beeld van de opgave."
        ),
        lesson: "Begin met het vraagstuk, pas daarna met wie wat betaalt.".into(),
        order: Order::Second,
        steps: vec![Step::Issue],
        perspective: Some(Perspective::Networking),
        tags: vec!["regionale-tafel".into()],
        attribution: Attribution::Named,
    }
}

/// The newest lesson `user` wrote, from the author index.
pub fn newest_lesson_of(store: &dyn Store, user: UserId) -> LessonId {
    let (key, _) = store
        .last_with_prefix(
            academie::store::Tree::LessonIndex,
            &academie::search::author_prefix(user),
        )
        .expect("index")
        .expect("a lesson of theirs");
    academie::search::id_of(&key).expect("lesson id")
}

/// The digest a compose reply offers to publish.
pub fn publish_button(reply: &Reply) -> DigestId {
    reply
        .choices
        .iter()
        .find_map(|c| match c.action {
            academie::reply::Action::PublishDigest(id) => Some(id),
            _ => None,
        })
        .expect("a publish button")
}
