//! How long a reveal takes as a round grows: 10, 100, 1,000 and 10,000 answers, revealed by a
//! moderator through the engine on a sled database. The first reveal of step 1 shows the
//! answers side by side with the idling meter; the second also reports what changed since the
//! first (themes, and per member what they add or no longer mention). The meter counts terms
//! (one pass over the answers), so the time per answer should stay flat as rounds grow.
//!
//! The floor is the least a reveal must do: read the round's answers from the store and write
//! them out side by side with plain `write!`. The targets are absolute (a reveal holds the
//! academy's write lock, so every other request waits for it): 1,000 answers within 50 ms,
//! 10,000 within a second, and a curve that is linear.

mod support;

use academie::domain::*;
use academie::engine::{Request, Settings};
use academie::figures::{GrowthFigure, GrowthSeries};
use academie::store::{SledStore, Store, Tree};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;
use support::academy::{self, ok, person};
use support::{corpus, report, show, Samples};

const CHANNEL: ChannelId = ChannelId(42);
const SEED: u64 = 2026;
const TARGET_1K: Duration = Duration::from_millis(50);
const TARGET_10K: Duration = Duration::from_secs(1);
/// Linear: the time per answer at the largest size at most this many times that at 1,000.
const LINEAR: f64 = 2.0;

/// One academy with a collaboration, for one round size.
struct Bench {
    engine: academie::engine::Engine,
    store: Arc<SledStore>,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(SledStore::open(&dir.path().join("db"), None).expect("open"));
        let engine = academy::engine(store.clone(), Settings::default());
        academy::setup(&engine, CHANNEL);
        Bench {
            engine,
            store,
            _dir: dir,
        }
    }

    /// Starts a step-1 round and lets `texts.len()` members answer it, member `i` with
    /// `texts[i]`; returns the round.
    fn round(&self, texts: &[String]) -> RoundId {
        let m = academy::moderator(CHANNEL);
        ok(
            &self.engine,
            &m,
            Request::RoundStart {
                step: Step::Issue,
                deadline: None,
            },
        );
        for (i, text) in texts.iter().enumerate() {
            let who = person(
                UserId(1_000 + i as u64),
                &format!("Deelnemer {i}"),
                Role::Member,
                CHANNEL,
            );
            ok(
                &self.engine,
                &who,
                Request::AnswerSubmit {
                    text: text.clone(),
                    round: None,
                },
            );
        }
        let (key, _) = self
            .store
            .last_with_prefix(Tree::RoundsByChannel, &CHANNEL.key())
            .expect("scan")
            .expect("a round");
        RoundId::from_key(&key[8..]).expect("round id")
    }

    /// The reveal, timed, and what it showed.
    fn reveal(&self) -> (Duration, academie::reply::Reply) {
        let m = academy::moderator(CHANNEL);
        let (took, reply) =
            support::time(|| ok(&self.engine, &m, Request::RoundReveal { round: None }));
        ok(&self.engine, &m, Request::RoundClose { round: None });
        (took, reply)
    }

    /// The floor: the round's answers read and written out side by side.
    fn floor(&self, round: RoundId) -> (Duration, usize) {
        support::time(|| {
            let mut out = String::new();
            let mut n = 0;
            for (_, bytes) in self
                .store
                .scan_prefix(Tree::Answers, &round.key())
                .expect("scan")
            {
                let a: Answer = serde_json::from_slice(&bytes).expect("decode");
                let _ = write!(out, "**{}**\n{}\n\n", a.name, a.text);
                n += 1;
            }
            std::hint::black_box(&out);
            n
        })
    }
}

/// What one size measured.
struct Size {
    answers: usize,
    first: Samples,
    second: Samples,
    floor: Samples,
}

fn measure(answers: usize, reps: usize) -> Size {
    let mut size = Size {
        answers,
        first: Samples::new(),
        second: Samples::new(),
        floor: Samples::new(),
    };
    for rep in 0..reps {
        // Each repetition on an academy of its own: in a shared one, the first reveal of the
        // next repetition would already have an earlier round to report changes against.
        let bench = Bench::new();
        // Two rounds of step 1 with different answers: the second reveal reports the changes.
        let texts = corpus::answers(answers, SEED + 2 * rep as u64);
        let round = bench.round(&texts);
        let (took, reply) = bench.reveal();
        check(&reply, answers, false);
        size.first.push(took);
        size.floor.push(bench.floor(round).0);

        let texts = corpus::answers(answers, SEED + 2 * rep as u64 + 1);
        let round = bench.round(&texts);
        let (took, reply) = bench.reveal();
        check(&reply, answers, true);
        size.second.push(took);
        let (took, n) = bench.floor(round);
        assert_eq!(n, answers, "the floor read every answer");
        size.floor.push(took);
    }
    size
}

/// A reveal shows every answer, the meter, and from the second round on what changed.
fn check(reply: &academie::reply::Reply, answers: usize, changes: bool) {
    let text = academy::text(reply);
    for i in [0, answers / 2, answers - 1] {
        assert!(
            text.contains(&format!("Deelnemer {i}")),
            "the reveal shows answer {i} of {answers}"
        );
    }
    assert!(
        reply.sections.len() > answers,
        "every answer and the meter: {} sections for {answers} answers",
        reply.sections.len()
    );
    assert!(
        text.contains("Hoe ver de antwoorden overeenkomen"),
        "a step-1 reveal shows the meter"
    );
    assert_eq!(
        text.contains("Wat er veranderde sinds"),
        changes,
        "a change report only after an earlier round of the step"
    );
}

pub fn main() {
    let sizes: Vec<(usize, usize)> = if support::full() {
        vec![(10, 20), (100, 20), (1_000, 10), (10_000, 3)]
    } else {
        vec![(10, 1), (100, 1)]
    };
    let results: Vec<Size> = sizes.iter().map(|&(n, reps)| measure(n, reps)).collect();

    support::title("The reveal as a round grows (step 1: answers, meter, change report)");
    println!("| answers | floor: read + write! (p50) | first reveal (p50) | reveal with change report (p50) | per answer | vs floor | slope from the previous size |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut previous: Option<(usize, Duration)> = None;
    for s in &results {
        let t = s.second.p50();
        let per = t / s.answers as u32;
        let slope = previous.map_or("—".to_string(), |(n, p)| {
            let e = (t.as_secs_f64() / p.as_secs_f64()).ln() / (s.answers as f64 / n as f64).ln();
            format!("n^{e:.2}")
        });
        println!(
            "| {} | {} | {} | {} | {} | {:.1}× | {slope} |",
            s.answers,
            show(s.floor.p50()),
            show(s.first.p50()),
            show(t),
            show(per),
            support::ratio(t, s.floor.p50()),
        );
        previous = Some((s.answers, t));
    }
    let series = |name: &str, of: &dyn Fn(&Size) -> Duration| GrowthSeries {
        name: name.into(),
        points: results
            .iter()
            .map(|s| (s.answers as f64, of(s).as_secs_f64()))
            .collect(),
    };
    support::plot(
        "reveal.svg",
        &GrowthFigure {
            title: "The reveal as a round grows".into(),
            caption: "p50 per size, cargo bench --bench reveal; a linear cost rises one decade \
                      of time per decade of answers"
                .into(),
            x_label: "answers in the round".into(),
            y_label: "time (p50)".into(),
            series: vec![
                series("reveal with change report", &|s| s.second.p50()),
                series("first reveal", &|s| s.first.p50()),
                series("floor: read the answers and write! them out", &|s| {
                    s.floor.p50()
                }),
            ],
        },
    );
    println!();
    support::table();
    let at = |n: usize| results.iter().find(|s| s.answers == n);
    if let Some(s) = at(1_000) {
        let worst = s.first.p50().max(s.second.p50());
        report(
            "reveal of 1,000 answers (p50, with change report)",
            &show(worst),
            "≤ 50 ms",
            worst <= TARGET_1K,
        );
    }
    if let Some(s) = at(10_000) {
        let worst = s.first.p50().max(s.second.p50());
        report(
            "reveal of 10,000 answers (p50, with change report)",
            &show(worst),
            "≤ 1 s",
            worst <= TARGET_10K,
        );
    }
    let (small, large) = (
        at(1_000).or(results.first()),
        results.last().expect("a size"),
    );
    if let Some(small) = small {
        let per = |s: &Size| s.second.p50().as_secs_f64() / s.answers as f64;
        let growth = per(large) / per(small);
        report(
            &format!(
                "linear: time per answer at {} / at {}",
                large.answers, small.answers
            ),
            &format!("{growth:.2}×"),
            &format!("≤ {LINEAR}×"),
            growth <= LINEAR,
        );
    }
}
