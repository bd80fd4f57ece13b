//! Crash safety: "acknowledged means durable" only holds if it survives a real SIGKILL of the real
//! binary, at any moment, start-up included; this harness kills it and checks every confirmation.
//!
//! Each cycle starts `academie console` on the same database, lets several people answer in an
//! open round and share lessons, one command at a time as a person waits for the reply, and kills
//! the process (SIGKILL) at a random moment. A confirmation printed before the kill is an
//! acknowledged write; the command in flight at the kill may or may not have landed. A clean run
//! then restarts the binary and reads everything back through the console (`/mijngegevens
//! exporteren`, `/antwoord bekijken`, `/les tonen`); at the end the database is opened with the
//! library and every record, the lesson index and the id counters are checked. A second test
//! kills the very first start on new databases, where the files are created.
//!
//! `ACADEMIE_CRASH_CYCLES` sets the number of kills (20 by default; the first-start test makes
//! half as many new databases), `ACADEMIE_CRASH_SEED` replays a run's plan: its commands, texts
//! and kill delays. The interleaving with the process still depends on the machine, so a seed
//! reproduces the plan, not the exact instant of each kill. A SIGKILL keeps what the process
//! handed to the operating system, so this proves nothing is acknowledged before it leaves the
//! process; it cannot tell whether data would survive a power cut.

use crate::binary;

use academie::domain::{Answer, Lesson, LessonStatus};
use academie::store::{SledStore, Store, Tree};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const DEFAULT_CYCLES: usize = 20;
/// The people who write; `Ik`, the console's default administrator, sets up and starts the round.
const PEOPLE: [&str; 6] = ["Anna", "Bram", "Chris", "Dewi", "Eva", "Farid"];
/// How long a run may go on writing before its kill: long enough for tens of commits.
const WRITE_WINDOW: Duration = Duration::from_millis(400);
/// Where start-up kills aim before a start-up was measured (the first start also creates the
/// database and loads the starter library).
const FIRST_STARTUP_GUESS: Duration = Duration::from_millis(150);
/// No single reply takes this long unless the binary hangs.
const HANG: Duration = Duration::from_secs(60);
const LIBRARY_LESSONS: usize = 18;

/// A small reproducible generator (splitmix64), so the harness needs no dependency for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn duration(&mut self, from: Duration, to: Duration) -> Duration {
        let span = to.saturating_sub(from).as_micros() as u64;
        from + Duration::from_micros(self.below(span + 1))
    }
}

/// Words for generated texts: accents and non-Latin punctuation check that what comes back is
/// byte for byte what was written. No colons (the console reads `word:` as an option) and no
/// straight quotes (the lesson confirmation quotes the title).
const WORDS: &str =
    "het vraagstuk is wateroverlast in de dorpen ruimte voor rivier coöperatie één \
    bestuurslaag waterschap gemeente provincie Rijk mandaat tafel vertrouwen opgave inwoners samen \
    leren doen naïef écht Zeeuwse dijkversterking € — «publieke waarde» regio bedoeling wij zij \
    overleg besluit netwerk 🌊 ĳsbaan Ærø straße";

fn text(rng: &mut Rng, min: usize, max: usize) -> String {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let target = min + rng.below((max - min) as u64 + 1) as usize;
    let mut out = String::new();
    while out.chars().count() < target {
        if !out.is_empty() {
            out.push(' ');
        }
        let word: &&str = rng.pick(&words);
        out.push_str(word);
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
struct Draft {
    title: String,
    happened: String,
    lesson: String,
    /// The learning order as stored: first, second or third.
    order: String,
}

#[derive(Debug)]
enum Op {
    /// Set up the collaboration and start round 1, until that is known to have happened.
    Open,
    Answer {
        who: &'static str,
        text: String,
    },
    Share {
        who: &'static str,
        draft: Draft,
    },
}

impl Op {
    /// The lines sent for this op, ending in a sentinel: an unknown command whose refusal
    /// writes nothing and marks where this op's replies end.
    fn script(&self, n: usize) -> String {
        let body = match self {
            Op::Open => "/als Ik\n/instellen opgave: Klimaatadaptatie regio: Rivierenland lagen: waterschap, gemeente\n/moderator ronde start stap:1\n".to_owned(),
            Op::Answer { who, text } => format!("/als {who}\n/antwoord geven tekst: {text}\n"),
            Op::Share { who, draft } => format!(
                "/als {who}\n/les delen titel: {} gebeurd: {} les: {} orde: {} stappen: 2,4 als: anoniem\n",
                draft.title,
                draft.happened,
                draft.lesson,
                typed_order(&draft.order)
            ),
        };
        format!("{body}{}\n", sentinel(n))
    }
}

fn typed_order(key: &str) -> &'static str {
    match key {
        "first" => "eerste",
        "second" => "tweede",
        _ => "derde",
    }
}

fn sentinel(n: usize) -> String {
    format!("/zzsein-{n}")
}

/// The refusal line that closes the replies of op `n`.
fn is_sentinel_reply(line: &str, n: usize) -> bool {
    line.starts_with('⚠') && line.contains(&format!("\"zzsein-{n}\""))
}

/// A lesson known to be stored: acknowledged, or found after a kill.
#[derive(Clone, Debug)]
struct Known {
    id: u64,
    draft: Draft,
}

#[derive(Debug, Default)]
struct Person {
    /// The answer that must be stored, once one was acknowledged.
    answer: Option<String>,
    /// An answer sent when the process was killed, without its confirmation.
    answer_in_flight: Option<String>,
    lessons: Vec<Known>,
    lesson_in_flight: Option<Draft>,
    /// Whether this person ever wrote, so the check exports their data.
    active: bool,
}

#[derive(Debug, Default)]
struct Stats {
    kills_before_welcome: usize,
    kills_in_startup: usize,
    kills_while_writing: usize,
    acked_answers: usize,
    acked_lessons: usize,
    in_flight_landed: usize,
    in_flight_absent: usize,
    checked_answers: usize,
    checked_lessons: usize,
}

#[derive(Debug, Default)]
struct Model {
    round_open: bool,
    people: BTreeMap<&'static str, Person>,
    stats: Stats,
}

/// One line the binary printed; `complete` is false for a line the kill cut off.
#[derive(Clone, Debug)]
struct Line {
    text: String,
    complete: bool,
}

struct Run {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    transcript: Vec<Line>,
    stderr: PathBuf,
}

impl Run {
    fn start(dir: &Path, label: &str) -> Run {
        let stderr = dir.join(format!("stderr-{label}.txt"));
        let mut child = binary::academie(dir)
            .arg("console")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("a stderr file"))
            .spawn()
            .expect("the academie binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut buf = Vec::new();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let complete = buf.last() == Some(&b'\n');
                        let text = String::from_utf8_lossy(&buf)
                            .trim_end_matches('\n')
                            .to_owned();
                        if tx.send(Line { text, complete }).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stdin = child.stdin.take();
        Run {
            child,
            stdin,
            lines,
            transcript: Vec::new(),
            stderr,
        }
    }

    /// Sends lines; a write into a killed process fails, which is expected then.
    fn send(&mut self, script: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(script.as_bytes());
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn tail(&self) -> String {
        let start = self.transcript.len().saturating_sub(40);
        self.transcript[start..]
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The lines printed for op `n`: from after op `n-1`'s sentinel up to op `n`'s, and whether the
/// sentinel arrived (the op ran to the end) or the kill cut them off.
fn segment(transcript: &[Line], n: usize) -> (&[Line], bool) {
    let start = if n == 0 {
        0
    } else {
        match transcript
            .iter()
            .position(|l| is_sentinel_reply(&l.text, n - 1))
        {
            Some(i) => i + 1,
            None => return (&[], false),
        }
    };
    match transcript[start..]
        .iter()
        .position(|l| is_sentinel_reply(&l.text, n))
    {
        Some(end) => (&transcript[start..start + end], true),
        None => (&transcript[start..], false),
    }
}

fn has_line(lines: &[Line], pred: impl Fn(&str) -> bool) -> bool {
    lines.iter().any(|l| l.complete && pred(&l.text))
}

fn find_line(lines: &[Line], pred: impl Fn(&str) -> bool) -> Option<&str> {
    lines
        .iter()
        .find(|l| l.complete && pred(&l.text))
        .map(|l| l.text.as_str())
}

/// A generated text by its label (who, cycle, number), so a failure message stays readable.
fn short(text: Option<&str>) -> String {
    match text {
        Some(t) if t.split(' ').count() > 8 => {
            format!("{}…", t.split(' ').take(8).collect::<Vec<_>>().join(" "))
        }
        Some(t) => t.to_owned(),
        None => "nothing".to_owned(),
    }
}

fn show(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The confirmation texts (prompts/nl/messages.toml, `answer.saved` and `lesson.shared`) are
/// matched on their fixed words only, so rewording the rest of a message does not break this.
fn answer_confirmed(lines: &[Line]) -> bool {
    has_line(lines, |l| {
        l.starts_with("Je antwoord in R1 is ") && l.contains("opgeslagen.")
    })
}

/// The lesson id from `Je les L19 "titel" is opgeslagen en wacht op beoordeling…`.
fn lesson_confirmed(lines: &[Line], title: &str) -> Result<Option<u64>, String> {
    let Some(line) = find_line(lines, |l| {
        l.contains("Je les L") && l.contains("is opgeslagen en wacht op beoordeling")
    }) else {
        return Ok(None);
    };
    let rest = &line[line.find("Je les L").unwrap_or(0) + "Je les L".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let id = digits
        .parse()
        .map_err(|_| format!("no lesson id in the confirmation {line:?}"))?;
    if !rest.contains(&format!("\"{title}\" is opgeslagen")) {
        return Err(format!(
            "the confirmation names another title than {title:?}: {line:?}"
        ));
    }
    Ok(Some(id))
}

fn round_confirmed(lines: &[Line]) -> bool {
    has_line(lines, |l| l.starts_with("── R1 · Stap 1"))
        || has_line(lines, |l| l.starts_with("⚠ Er loopt al een ronde: R1 "))
}

fn next_op(round_open: bool, rng: &mut Rng, cycle: usize, n: usize) -> Op {
    if !round_open {
        return Op::Open;
    }
    let who = *rng.pick(&PEOPLE);
    if rng.percent(70) {
        let text = format!(
            "{who} antwoordt in cyclus {cycle} nr {n} {}",
            text(rng, 1, 1500)
        );
        Op::Answer { who, text }
    } else {
        let order = (*rng.pick(&["first", "second", "third"])).to_owned();
        let draft = Draft {
            title: format!("Les {who} c{cycle} n{n} {}", text(rng, 1, 60)),
            // Shorter than answers: every lesson stays, and each check reads them all.
            happened: text(rng, 1, 600),
            lesson: text(rng, 1, 600),
            order,
        };
        Op::Share { who, draft }
    }
}

/// How a load run ended: killed as planned, or dead by itself (which fails the cycle).
enum Ended {
    Killed,
    Exited(String),
}

struct Load {
    run: Run,
    ops: Vec<Op>,
    ended: Ended,
    /// From spawning to the first op's last reply: how long start-up took, if it finished.
    startup: Option<Duration>,
}

/// One run under write load, killed at `kill_after` from its start; the transcript holds
/// everything printed up to the kill.
fn run_load(
    dir: &Path,
    round_open: bool,
    rng: &mut Rng,
    cycle: usize,
    kill_after: Duration,
) -> Load {
    let spawned = Instant::now();
    let kill_at = spawned + kill_after;
    let mut run = Run::start(dir, &format!("load-{cycle}"));
    // Until the round is known to be open, the first op opens it; the rest write.
    let mut open = round_open;
    let mut ops = Vec::new();
    let mut startup = None;
    let add = |ops: &mut Vec<Op>, run: &mut Run, rng: &mut Rng, open: bool| {
        let n = ops.len();
        let op = next_op(open, rng, cycle, n);
        run.send(&op.script(n));
        ops.push(op);
    };
    add(&mut ops, &mut run, rng, open);
    let ended = loop {
        let now = Instant::now();
        if now >= kill_at {
            break Ended::Killed;
        }
        match run.lines.recv_timeout(kill_at - now) {
            Ok(line) => {
                let done = is_sentinel_reply(&line.text, ops.len() - 1);
                if done && ops.len() == 1 {
                    startup = Some(spawned.elapsed());
                }
                if done && matches!(ops.last(), Some(Op::Open)) {
                    // Whether it worked is decided from the transcript afterwards; if not, the
                    // next op would be refused and tell us.
                    open = true;
                }
                run.transcript.push(line);
                if done {
                    add(&mut ops, &mut run, rng, open);
                }
            }
            Err(RecvTimeoutError::Timeout) => break Ended::Killed,
            Err(RecvTimeoutError::Disconnected) => {
                let status = run.child.wait().expect("wait");
                break Ended::Exited(format!("exited by itself with {status}"));
            }
        }
    };
    if let Ended::Killed = ended {
        // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no goodbye.
        let _ = run.child.kill();
        let _ = run.child.wait();
    }
    drop(run.stdin.take());
    // What was printed before the kill still sits in the pipe: those confirmations count too.
    while let Ok(line) = run.lines.recv_timeout(HANG) {
        run.transcript.push(line);
    }
    Load {
        run,
        ops,
        ended,
        startup,
    }
}

/// Records what the transcript confirms. A finished op without its confirmation is an error:
/// after a restart, writing must simply work.
fn settle(model: &mut Model, run: &Run, ops: &[Op]) -> Result<(), String> {
    for (n, op) in ops.iter().enumerate() {
        let (lines, finished) = segment(&run.transcript, n);
        let confirmed = match op {
            Op::Open => {
                let ok = round_confirmed(lines);
                model.round_open |= ok;
                ok
            }
            Op::Answer { who, text } => {
                let p = model.people.entry(who).or_default();
                p.active = true;
                if answer_confirmed(lines) {
                    p.answer = Some(text.clone());
                    p.answer_in_flight = None;
                    model.stats.acked_answers += 1;
                    true
                } else {
                    p.answer_in_flight = Some(text.clone());
                    false
                }
            }
            Op::Share { who, draft } => {
                let p = model.people.entry(who).or_default();
                p.active = true;
                match lesson_confirmed(lines, &draft.title)? {
                    Some(id) => {
                        if let Some(other) = p.lessons.iter().find(|k| k.id == id) {
                            return Err(format!(
                                "L{id} confirmed for {:?}, but it already holds {:?}",
                                draft.title, other.draft.title
                            ));
                        }
                        p.lessons.push(Known {
                            id,
                            draft: draft.clone(),
                        });
                        model.stats.acked_lessons += 1;
                        true
                    }
                    None => {
                        p.lesson_in_flight = Some(draft.clone());
                        false
                    }
                }
            }
        };
        if finished && !confirmed {
            return Err(format!(
                "op {n} ({op:?}) ran to the end without a confirmation:\n{}",
                show(lines)
            ));
        }
    }
    Ok(())
}

/// Restarts the binary on the same data (no kill), reads back every person's data and compares
/// it with what was acknowledged. Resolves the op in flight at the kill: present or absent,
/// both fine, but it must be whole, and from then on it must stay.
fn check(dir: &Path, model: &mut Model, label: &str) -> Result<(), String> {
    let active: Vec<&'static str> = model
        .people
        .iter()
        .filter(|(_, p)| p.active)
        .map(|(n, _)| *n)
        .collect();
    let mut script = String::new();
    for (n, who) in active.iter().enumerate() {
        script.push_str(&format!(
            "/als {who}\n/mijngegevens exporteren\n/antwoord bekijken\n{}\n",
            sentinel(n)
        ));
    }
    // The newest acknowledged lesson, through the path a person uses to read it.
    let newest = model
        .people
        .values()
        .flat_map(|p| p.lessons.iter())
        .max_by_key(|k| k.id)
        .cloned();
    if let Some(k) = &newest {
        script.push_str(&format!(
            "/als Ik\n/les tonen id:L{}\n{}\n",
            k.id,
            sentinel(active.len())
        ));
    }
    let run = restart(dir, label, &script)?;

    for (n, who) in active.iter().enumerate() {
        let (lines, finished) = segment(&run.transcript, n);
        if !finished {
            return Err(format!(
                "the check for {who} did not finish:\n{}",
                run.tail()
            ));
        }
        let path = find_line(lines, |l| l.starts_with("Bijlage opgeslagen in "))
            .map(|l| {
                l.trim_start_matches("Bijlage opgeslagen in ")
                    .trim()
                    .to_owned()
            })
            .ok_or_else(|| format!("no export for {who}:\n{}", show(lines)))?;
        let raw = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let data: serde_json::Value =
            serde_json::from_str(&raw).map_err(|e| format!("{path} is not JSON: {e}"))?;
        check_person(model, who, &data, lines)?;
    }
    if let Some(k) = newest {
        let (lines, finished) = segment(&run.transcript, active.len());
        let whole = [&k.draft.title, &k.draft.happened, &k.draft.lesson]
            .iter()
            .all(|t| has_line(lines, |l| l.trim() == t.as_str() || l.contains(t.as_str())));
        if !finished || !whole {
            return Err(format!(
                "/les tonen id:L{} does not show {:?} whole:\n{}",
                k.id,
                k.draft,
                show(lines)
            ));
        }
        model.stats.checked_lessons += 1;
    }
    Ok(())
}

/// Starts the binary on the data a kill left behind, runs `script` to the end and stops: it
/// must start as usual, with no complaint about the database.
fn restart(dir: &Path, label: &str, script: &str) -> Result<Run, String> {
    let mut run = Run::start(dir, label);
    run.send(script);
    run.send("/stop\n");
    drop(run.stdin.take());
    loop {
        match run.lines.recv_timeout(HANG) {
            Ok(line) => run.transcript.push(line),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                let _ = run.child.kill();
                return Err(format!("the restarted binary hangs:\n{}", run.tail()));
            }
        }
    }
    let status = run.child.wait().map_err(|e| e.to_string())?;
    let stderr = run.stderr();
    if !status.success() || stderr.contains("panicked") {
        return Err(format!(
            "the binary did not start cleanly after a kill ({status}):\n{stderr}\n{}",
            run.tail()
        ));
    }
    if !run
        .transcript
        .first()
        .is_some_and(|l| l.text.starts_with("Welkom"))
    {
        return Err(format!("no welcome after a restart:\n{}", run.tail()));
    }
    Ok(run)
}

fn check_person(
    model: &mut Model,
    who: &str,
    data: &serde_json::Value,
    lines: &[Line],
) -> Result<(), String> {
    let stats = &mut model.stats;
    let p = model.people.get_mut(who).expect("an active person");
    let answers = data["answers"].as_array().cloned().unwrap_or_default();
    if answers.len() > 1 {
        return Err(format!("{who} has {} answers in one round", answers.len()));
    }
    let stored = answers.first().map(|a| {
        (
            a["round"].as_u64(),
            a["name"].as_str().map(str::to_owned),
            a["text"].as_str().unwrap_or_default().to_owned(),
        )
    });
    if let Some((round, name, _)) = &stored {
        if *round != Some(1) || name.as_deref() != Some(who) {
            return Err(format!("{who}'s answer is damaged: {:?}", answers[0]));
        }
    }
    let stored_text = stored.map(|(_, _, t)| t);
    let in_flight = p.answer_in_flight.take();
    match (&stored_text, &p.answer, &in_flight) {
        (Some(s), _, Some(f)) if s == f => {
            stats.in_flight_landed += 1;
            p.answer = Some(s.clone());
        }
        (Some(s), Some(a), _) if s == a => {
            if in_flight.is_some() {
                stats.in_flight_absent += 1;
            }
        }
        (None, None, _) => {
            if in_flight.is_some() {
                stats.in_flight_absent += 1;
            }
        }
        _ => {
            return Err(format!(
                "{who}'s stored answer is {}; acknowledged was {}, in flight {}",
                short(stored_text.as_deref()),
                short(p.answer.as_deref()),
                short(in_flight.as_deref()),
            ))
        }
    }
    if let Some(a) = &p.answer {
        stats.checked_answers += 1;
        // The second read path: the person's own view of the round.
        if !has_line(lines, |l| l == a) {
            return Err(format!(
                "/antwoord bekijken does not show {who}'s answer {}:\n{}",
                short(Some(a)),
                show(lines)
            ));
        }
    }

    let lessons = data["lessons"].as_array().cloned().unwrap_or_default();
    let mut seen_titles = BTreeSet::new();
    let mut stored_lessons = Vec::new();
    for l in &lessons {
        let draft = Draft {
            title: l["text"]["title"].as_str().unwrap_or_default().to_owned(),
            happened: l["text"]["happened"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            lesson: l["text"]["lesson"].as_str().unwrap_or_default().to_owned(),
            order: l["order"].as_str().unwrap_or_default().to_owned(),
        };
        if !seen_titles.insert(draft.title.clone()) {
            return Err(format!("{who}'s lesson {:?} is stored twice", draft.title));
        }
        if l["author_name"].as_str() != Some(who) || l["status"].as_str() != Some("pending") {
            return Err(format!("{who}'s lesson is damaged: {l}"));
        }
        stored_lessons.push((l["id"].as_u64().unwrap_or(0), draft));
    }
    let same = |a: &Draft, b: &Draft| {
        a.title == b.title && a.happened == b.happened && a.lesson == b.lesson && a.order == b.order
    };
    for k in &p.lessons {
        match stored_lessons.iter().find(|(id, _)| *id == k.id) {
            Some((_, d)) if same(d, &k.draft) => stats.checked_lessons += 1,
            Some((_, d)) => {
                return Err(format!(
                    "L{} of {who} changed: stored {d:?}, acknowledged {:?}",
                    k.id, k.draft
                ))
            }
            None => {
                return Err(format!(
                    "{who}'s acknowledged lesson L{} {:?} is gone",
                    k.id, k.draft.title
                ))
            }
        }
    }
    let in_flight = p.lesson_in_flight.take();
    for (id, d) in &stored_lessons {
        if p.lessons.iter().any(|k| k.id == *id) {
            continue;
        }
        match &in_flight {
            Some(f) if same(d, f) => {
                stats.in_flight_landed += 1;
                p.lessons.push(Known {
                    id: *id,
                    draft: f.clone(),
                });
            }
            _ => return Err(format!("{who} has a lesson nobody wrote: L{id} {d:?}")),
        }
    }
    if let Some(f) = &in_flight {
        if !p.lessons.iter().any(|k| k.draft.title == f.title) {
            stats.in_flight_absent += 1;
        }
    }
    Ok(())
}

/// With no process running, opens the database with the library: every record decodes, the
/// stored lessons and answers are exactly the known ones, the index matches the records, and
/// the id counters are ahead of every id. Returns how many lessons and answers it compared.
fn check_library(db: &Path, model: &Model) -> Result<(usize, usize), String> {
    let store = SledStore::open(db, None).map_err(|e| e.to_string())?;
    let scan = |tree| store.scan_prefix(tree, &[]).map_err(|e| e.to_string());
    let lessons: Vec<Lesson> = scan(Tree::Lessons)?
        .iter()
        .map(|(_, v)| {
            serde_json::from_slice(v).map_err(|e| format!("a lesson does not decode: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let library = lessons.iter().filter(|l| l.key.is_some()).count();
    if library != LIBRARY_LESSONS {
        return Err(format!(
            "{library} library lessons, expected {LIBRARY_LESSONS}"
        ));
    }
    let shared: BTreeMap<u64, &Lesson> = lessons
        .iter()
        .filter(|l| l.key.is_none())
        .map(|l| (l.id.0, l))
        .collect();
    let known: BTreeMap<u64, (&str, &Known)> = model
        .people
        .iter()
        .flat_map(|(who, p)| p.lessons.iter().map(move |k| (k.id, (*who, k))))
        .collect();
    if shared.keys().ne(known.keys()) {
        return Err(format!(
            "stored shared lessons {:?}, known {:?}",
            shared.keys().collect::<Vec<_>>(),
            known.keys().collect::<Vec<_>>()
        ));
    }
    for (id, (who, k)) in &known {
        let l = shared[id];
        let ok = l.text.title == k.draft.title
            && l.text.happened == k.draft.happened
            && l.text.lesson == k.draft.lesson
            && l.author == Some(academie::console::user_id_for(who))
            && l.status == LessonStatus::Pending;
        if !ok {
            return Err(format!("L{id} differs in the database: {l:?}"));
        }
    }

    let answers: Vec<Answer> = scan(Tree::Answers)?
        .iter()
        .map(|(_, v)| {
            serde_json::from_slice(v).map_err(|e| format!("an answer does not decode: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let stored: BTreeMap<u64, &str> = answers
        .iter()
        .map(|a| (a.user.0, a.text.as_str()))
        .collect();
    let expected: BTreeMap<u64, &str> = model
        .people
        .iter()
        .filter_map(|(who, p)| {
            p.answer
                .as_deref()
                .map(|a| (academie::console::user_id_for(who).0, a))
        })
        .collect();
    if stored != expected || answers.len() != stored.len() {
        return Err(format!(
            "the database holds {} answers that differ from the {} known",
            answers.len(),
            expected.len()
        ));
    }

    // The index is derived from the lessons: it must be exactly what building it anew gives.
    let mut rebuilt = academie::search::IndexBuilder::default();
    for l in &lessons {
        rebuilt.add(l);
    }
    let model = academie::store::MemoryStore::default();
    rebuilt.write(&model, 10_000).map_err(|e| e.to_string())?;
    let want = model
        .scan_prefix(Tree::LessonIndex, &[])
        .map_err(|e| e.to_string())?;
    let got = scan(Tree::LessonIndex)?;
    let same_keys = want.len() == got.len() && want.iter().zip(&got).all(|(w, g)| w.0 == g.0);
    if !same_keys {
        return Err(format!(
            "the lesson index has {} entries where the lessons give {}",
            got.len(),
            want.len()
        ));
    }
    for ((key, w), (_, g)) in want.iter().zip(&got) {
        // Lists compare as sets; other entries byte for byte.
        let same = match (academie::postings::decode(w), academie::postings::decode(g)) {
            (Ok(a), Ok(b)) => a == b,
            _ => w == g,
        };
        if !same {
            return Err(format!("the index entry {key:?} differs from the lessons"));
        }
    }

    let counter = store
        .get(Tree::Meta, b"next_id:lesson")
        .map_err(|e| e.to_string())?
        .and_then(|b| b.try_into().ok().map(u64::from_be_bytes))
        .ok_or("no lesson counter")?;
    let highest = lessons.iter().map(|l| l.id.0).max().unwrap_or(0);
    if counter < highest {
        return Err(format!("the lesson counter {counter} is behind L{highest}"));
    }
    Ok((known.len(), expected.len()))
}

/// The number of cycles and the seed, from the environment or by default.
fn plan(name: &str) -> (usize, u64) {
    let cycles: usize = std::env::var("ACADEMIE_CRASH_CYCLES")
        .ok()
        .map(|v| v.parse().expect("ACADEMIE_CRASH_CYCLES is a number"))
        .unwrap_or(DEFAULT_CYCLES);
    let seed: u64 = std::env::var("ACADEMIE_CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("ACADEMIE_CRASH_SEED is a number"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                ^ u64::from(std::process::id())
        });
    println!("{name}: {cycles} cycles, ACADEMIE_CRASH_SEED={seed}");
    (cycles, seed)
}

/// The first start is special: it creates sled's files, writes the schema version and the
/// marker that tells a truncated database from a new one, and loads the starter library. A kill
/// anywhere in there must leave a folder the next start completes, never one it calls damaged.
#[test]
fn a_kill_during_the_first_start_never_leaves_a_database_that_will_not_open() {
    let (cycles, seed) = plan("first-start kills");
    let trials = cycles.div_ceil(2);
    let began = Instant::now();
    let mut rng = Rng(seed);
    // One first start without a kill says how long it takes here, so the kills cover it all
    // (and the moments after the library was loaded: the first automatic backup).
    let first_start = {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let spawned = Instant::now();
        let run = restart(dir.path(), "measure", "")
            .unwrap_or_else(|why| panic!("a first start without a kill failed: {why}"));
        assert!(
            run.transcript
                .iter()
                .any(|l| l.text.starts_with("De startbibliotheek met")),
            "the first start loads the library"
        );
        spawned.elapsed().max(FIRST_STARTUP_GUESS)
    };
    println!("first-start kills: a first start takes {first_start:?} here");
    let (mut before_welcome, mut before_library, mut after_library) = (0, 0, 0);
    for trial in 0..trials {
        let dir = tempfile::tempdir().expect("a temporary folder");
        // Aims at the whole first start, and a little beyond it.
        let kill_after = rng.duration(Duration::ZERO, first_start + first_start / 4);
        let spawned = Instant::now();
        let mut run = Run::start(dir.path(), "first");
        let kill_at = spawned + kill_after;
        let mut seeded = false;
        loop {
            let now = Instant::now();
            if now >= kill_at {
                break;
            }
            match run.lines.recv_timeout(kill_at - now) {
                Ok(line) => {
                    if line.text.starts_with("De startbibliotheek met") {
                        seeded = true;
                    }
                    run.transcript.push(line);
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "trial {trial}, ACADEMIE_CRASH_SEED={seed}: the first start ended by \
                         itself:\n{}\n{}",
                        run.stderr(),
                        run.tail()
                    );
                }
            }
        }
        let _ = run.child.kill();
        let _ = run.child.wait();
        while let Ok(line) = run.lines.recv_timeout(HANG) {
            seeded |= line.text.starts_with("De startbibliotheek met");
            run.transcript.push(line);
        }
        match (run.transcript.is_empty(), seeded) {
            (true, _) => before_welcome += 1,
            (false, false) => before_library += 1,
            (false, true) => after_library += 1,
        }
        let checked = restart(dir.path(), "restart", "")
            .and_then(|_| check_library(&dir.path().join("db"), &Model::default()));
        if let Err(why) = checked {
            let kept = dir.keep();
            panic!(
                "trial {trial}, ACADEMIE_CRASH_SEED={seed}, killed after {kill_after:?}: {why}\n\
                 the data is kept in {}",
                kept.display()
            );
        }
    }
    println!(
        "first-start kills: {trials} new databases in {:.1} s; killed before the welcome {}, \
         before the library was loaded {}, after {}",
        began.elapsed().as_secs_f64(),
        before_welcome,
        before_library,
        after_library,
    );
}

#[test]
fn every_acknowledged_write_survives_sigkill_at_random_moments() {
    let (cycles, seed) = plan("crash harness");
    let began = Instant::now();
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut model = Model::default();
    // Recent start-up times: a start takes 20 to 60 ms here and varies from run to run.
    let mut startups = std::collections::VecDeque::from([FIRST_STARTUP_GUESS]);

    let fail = |dir: tempfile::TempDir, cycle: usize, why: String| -> ! {
        let kept = dir.keep();
        panic!(
            "cycle {cycle}, ACADEMIE_CRASH_SEED={seed}: {why}\nthe data is kept in {}",
            kept.display()
        );
    };

    for cycle in 0..cycles {
        // About one kill in four during start-up (the first always, on a fresh database);
        // the rest while writing.
        let in_startup = cycle == 0 || rng.percent(25);
        // The shortest recent start, so a start-up kill mostly lands in start-up.
        let startup = startups
            .iter()
            .copied()
            .min()
            .unwrap_or(FIRST_STARTUP_GUESS);
        let kill_after = if in_startup {
            rng.duration(Duration::ZERO, startup)
        } else {
            rng.duration(startup, startup + WRITE_WINDOW)
        };
        let Load {
            run,
            ops,
            ended,
            startup: took,
        } = run_load(dir.path(), model.round_open, &mut rng, cycle, kill_after);
        if let Some(took) = took {
            if startups.len() == 5 {
                startups.pop_front();
            }
            startups.push_back(took);
        }
        if let Ended::Exited(how) = ended {
            let why = format!("the binary {how}:\n{}\n{}", run.stderr(), run.tail());
            fail(dir, cycle, why);
        }
        let stderr = run.stderr();
        if stderr.contains("panicked") {
            fail(
                dir,
                cycle,
                format!("the binary panicked before the kill:\n{stderr}"),
            );
        }
        if run.transcript.is_empty() {
            model.stats.kills_before_welcome += 1;
        } else if !segment(&run.transcript, 0).1 {
            model.stats.kills_in_startup += 1;
        } else {
            model.stats.kills_while_writing += 1;
        }
        if let Err(why) = settle(&mut model, &run, &ops) {
            fail(dir, cycle, why);
        }
        if let Err(why) = check(dir.path(), &mut model, &format!("check-{cycle}")) {
            fail(dir, cycle, why);
        }
    }
    let (final_lessons, final_answers) = match check_library(&dir.path().join("db"), &model) {
        Ok(counts) => counts,
        Err(why) => fail(dir, cycles, why),
    };

    let s = &model.stats;
    println!(
        "crash harness: {cycles} cycles in {:.1} s; kills before the welcome {}, later in \
         start-up {}, while writing {}; acknowledged {} answers and {} lessons; in flight at a \
         kill: {} landed, {} absent; compared after restarts: {} answers and {} lessons; in the \
         database at the end: {} lessons and {} answers, all as known",
        began.elapsed().as_secs_f64(),
        s.kills_before_welcome,
        s.kills_in_startup,
        s.kills_while_writing,
        s.acked_answers,
        s.acked_lessons,
        s.in_flight_landed,
        s.in_flight_absent,
        s.checked_answers,
        s.checked_lessons,
        final_lessons,
        final_answers,
    );
    assert!(
        cycles == 0 || s.acked_answers + s.acked_lessons > 0,
        "no write was ever acknowledged: the harness tested nothing"
    );
}
