//! What every benchmark shares: smoke or full mode, interleaved measurement of a subject
//! against its floor, percentiles, and one report format, so each bench states only what it
//! measures.
//!
//! A bench runs in full mode under `cargo bench` (cargo passes `--bench`) and as a short smoke
//! pass under `cargo test`, which checks that it builds and runs without timing anything that
//! could fail on a slow machine. Figures are ratios against a floor measured in the same run:
//! the two alternate, round after round, so a noisy neighbour slows both alike.

#![allow(dead_code)]

pub mod academy;
pub mod corpus;

use std::time::{Duration, Instant};

/// Full measurement under `cargo bench`; a quick pass otherwise.
pub fn full() -> bool {
    std::env::args().any(|a| a == "--bench") && std::env::var_os("ACADEMIE_BENCH_SMOKE").is_none()
}

/// `full` in full mode, `smoke` otherwise.
pub fn size(full: usize, smoke: usize) -> usize {
    if self::full() {
        full
    } else {
        smoke
    }
}

/// Measured durations of one kind of operation.
#[derive(Clone, Debug, Default)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile (0–100), nearest rank.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    pub fn p50(&self) -> Duration {
        self.percentile(50.0)
    }

    pub fn p99(&self) -> Duration {
        self.percentile(99.0)
    }

    pub fn total(&self) -> Duration {
        self.0.iter().sum()
    }
}

/// Times one call.
pub fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

/// Runs `rounds` rounds; in each, `floor` and `subject` run once, in alternating order. Each
/// closure returns the time of the work it was asked to measure (so set-up stays outside).
pub fn interleave(
    rounds: usize,
    mut floor: impl FnMut() -> Duration,
    mut subject: impl FnMut() -> Duration,
) -> (Samples, Samples) {
    let (mut f, mut s) = (Samples::new(), Samples::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            f.push(floor());
            s.push(subject());
        } else {
            s.push(subject());
            f.push(floor());
        }
    }
    (f, s)
}

/// A ratio as printed: `1.23×`.
pub fn ratio(subject: Duration, floor: Duration) -> f64 {
    subject.as_secs_f64() / floor.as_secs_f64().max(1e-12)
}

/// A duration as printed, in the unit that reads best.
pub fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// One line of the report: what was measured, the figure, the target and whether it was met.
pub fn report(name: &str, figure: &str, target: &str, met: bool) {
    let verdict = if !full() {
        "smoke (not judged)"
    } else if met {
        "met"
    } else {
        "NOT MET"
    };
    println!("| {name} | {figure} | {target} | {verdict} |");
}

/// The title of a bench's report, with what the run measured on.
pub fn title(title: &str) {
    println!();
    println!("## {title}");
    println!(
        "mode: {} · cpus: {} · {} · load average {}",
        if full() { "full" } else { "smoke" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH,
        load_average()
    );
    println!();
}

/// The machine's load average over the last 1, 5 and 15 minutes, as `uptime` shows it: how
/// busy others kept the machine while this ran.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// The head of the table that [`report`] writes lines of.
pub fn table() {
    println!("| measure | figure | target | verdict |");
    println!("|---|---|---|---|");
}

/// The title and the head of the report table.
pub fn header(title: &str) {
    self::title(title);
    table();
}

/// Draws `figure` with the academy's own figure code and, in a full run, when
/// `ACADEMIE_BENCH_PLOTS` names a folder, writes it there as `file` (how the plots in `docs/`
/// are made; a smoke pass under `cargo test` with the variable still set must not overwrite
/// them with its small sizes, nor a run that measured none of its series with an empty
/// figure). In smoke mode too it checks that every series with a point got its line and its
/// legend entry.
pub fn plot(file: &str, figure: &academie::figures::GrowthFigure) {
    let svg = academie::figures::growth_svg(figure);
    let lines = figure
        .series
        .iter()
        .filter(|s| s.points.iter().filter(|p| p.0 > 0.0 && p.1 > 0.0).count() > 1)
        .count();
    assert_eq!(
        svg.matches("<polyline").count(),
        lines + figure.series.len(),
        "a line per series and a swatch per legend entry"
    );
    let Some(dir) = std::env::var_os("ACADEMIE_BENCH_PLOTS") else {
        return;
    };
    if !full() || figure.series.is_empty() {
        return;
    }
    let path = std::path::Path::new(&dir).join(file);
    std::fs::create_dir_all(&dir).expect("the plots' folder");
    std::fs::write(&path, svg).expect("a plot written");
    println!("plot: {}", path.display());
}
