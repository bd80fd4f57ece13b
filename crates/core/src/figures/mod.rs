//! The essay's figure 2 (doing and learning) and figure 4 (the four governance perspectives) as
//! pictures, drawn in pure Rust so the bot and the console can show them on any machine.
//!
//! Both figures are written as standalone SVG 1.1 (the source of truth: small, printable,
//! accessible), laid out for the DejaVu Sans shipped in `assets/fonts/`; a [`Raster`] that
//! whoever runs the engine injects draws them as PNG, because chat clients show PNG attachments
//! inline.
//! Labels come in as plain data: this module knows nothing of the prompt files, so every text
//! is treated as untrusted (escaped, wrapped, clipped).
//!
//! The benchmarks' growth curves (`growth`) are drawn with the same writer, for the docs.
//!
//! One layer per file, each using only the ones below it: here the figures as data and what
//! they say in words (alt text); `quadrant`, `doing_learning` and `growth` draw them; `layout`
//! measures and wraps text with the advances of `fonts`, the embedded font; `canvas` writes
//! SVG; `raster` is the port to PNG.

mod canvas;
mod doing_learning;
#[doc(hidden)]
pub mod examples;
mod fonts;
mod growth;
mod layout;
mod quadrant;
mod raster;
#[cfg(test)]
mod tests;

pub use doing_learning::doing_learning_svg;
pub use fonts::{BOLD_TTF, REGULAR_TTF};
pub use growth::growth_svg;
pub use layout::text_width;
pub use quadrant::quadrant_svg;
pub use raster::Raster;

use canvas::xml_char;

use std::fmt::Write as _;

/// The essay's figure 4: the four perspectives on governance, optionally with how many
/// collaborations (or members) chose each as their leading principle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuadrantFigure {
    pub title: String,
    pub caption: String,
    /// In this order: lawful, performing, networking, participating (the order of
    /// `crate::domain::Perspective::ALL`).
    pub names: [String; 4],
    pub basic_forms: [String; 4],
    /// Same order as `names`. All zero draws the plain conceptual figure, without marks.
    pub counts: [u32; 4],
}

/// The essay's figure 2: yield (doing) against lessons (learning).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DoingLearningFigure {
    pub title: String,
    pub yield_axis: String,
    pub lessons_axis: String,
    /// Axis end labels ("weinig", "veel", ...): little and much yield, few and many lessons.
    pub little: String,
    pub much: String,
    pub few: String,
    pub many: String,
    /// Cells in this order: little_few, little_many, much_few, much_many.
    pub cells: [String; 4],
    /// Per cell, same order as `cells`; drawn as a numbered badge in the cell's corner.
    pub counts: Option<[u32; 4]>,
    /// Points as (yield, lessons), each 0..=1: 0 is little yield (left) and few lessons (top).
    pub marks: Vec<(f32, f32)>,
    /// Said of the cell where most placed the collaboration ("where the group placed itself").
    /// With `counts`, that cell (each one, on a tie) gets a heavy dashed frame, a filled badge
    /// and these words; empty: no cell stands out.
    pub placed: String,
}

/// How long operations take as what they work on grows (the benchmarks' growth curves), drawn
/// on logarithmic axes: sizes along the bottom, seconds up the side.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GrowthFigure {
    pub title: String,
    pub caption: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<GrowthSeries>,
}

/// One operation: (size, seconds) for each size it was measured at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GrowthSeries {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl GrowthSeries {
    /// The points a logarithmic axis can show, by size: both above zero, and within thirty
    /// decades of one, where a position on the axis is still a number.
    fn drawable(&self) -> Vec<(f64, f64)> {
        let shown = |v: f64| (1e-15..=1e15).contains(&v);
        let mut points: Vec<(f64, f64)> = self
            .points
            .iter()
            .copied()
            .filter(|&(x, y)| shown(x) && shown(y))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points
    }
}

impl GrowthFigure {
    /// Every series in words, for readers who cannot see the lines.
    pub fn alt_text(&self) -> String {
        let series: Vec<String> = self
            .series
            .iter()
            .map(|s| {
                let points: Vec<String> = s
                    .drawable()
                    .iter()
                    .map(|&(x, y)| format!("{}: {}", thousands(x.round() as u64), clean_seconds(y)))
                    .collect();
                format!("{}: {}", clean(&s.name), points.join(", "))
            })
            .collect();
        let series: Vec<&str> = series.iter().map(String::as_str).collect();
        let mut parts = vec![self.title.as_str(), self.caption.as_str()];
        parts.extend(series);
        sentences(&parts)
    }
}

/// `100,000`: a count with its thousands set apart, as the tables write it.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A time as the alt text says it: three significant digits in a unit that fits.
fn clean_seconds(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.2} s")
    } else if v >= 1e-3 {
        format!("{:.2} ms", v * 1e3)
    } else {
        format!("{:.1} µs", v * 1e6)
    }
}

/// Indices into `QuadrantFigure`'s arrays, following `Perspective::ALL`.
const LAWFUL: usize = 0;
const PERFORMING: usize = 1;
const NETWORKING: usize = 2;
const PARTICIPATING: usize = 3;

/// Where each perspective sits, as the essay fixes it: (index, column, row), in reading order.
const QUADRANTS: [(usize, usize, usize); 4] = [
    (PERFORMING, 0, 0),
    (NETWORKING, 1, 0),
    (LAWFUL, 0, 1),
    (PARTICIPATING, 1, 1),
];

/// Indices into `DoingLearningFigure`'s arrays.
const LITTLE_FEW: usize = 0;
const LITTLE_MANY: usize = 1;
const MUCH_FEW: usize = 2;
const MUCH_MANY: usize = 3;

/// Doing-learning cells as (index, column, row) in reading order: yield grows to the right and
/// lessons grow downwards, exactly as in the essay.
const FIELDS: [(usize, usize, usize); 4] = [
    (LITTLE_FEW, 0, 0),
    (MUCH_FEW, 1, 0),
    (LITTLE_MANY, 0, 1),
    (MUCH_MANY, 1, 1),
];

/// The font the figures name: DejaVu Sans, which the rasterizer embeds; the others are for
/// browsers.
pub const FONT_FAMILY: &str = "DejaVu Sans, Verdana, Arial, sans-serif";

// Sober, print-safe colours: every meaning is also carried by shape, size or text, and all text
// colours keep a contrast of at least 7:1 on white.
const INK: &str = "#1a1a1a";
const MUTED: &str = "#474747";
const ACCENT: &str = "#1f4e79";
const TINT: &str = "#e6eef6";
const PAPER: &str = "#ffffff";

/// Our figures are laid out on a 640-unit-wide page: at phone width (about 360 px) the
/// smallest text still lands near 9 px, and 2× for Discord stays sharp.
const PAGE: f32 = 640.0;
const MARGIN: f32 = 24.0;
const PAD: f32 = 16.0;

/// Enough dots to show a cohort; more only makes the SVG heavy without adding information.
const MAX_MARKS: usize = 2000;

impl QuadrantFigure {
    fn total(&self) -> u32 {
        self.counts.iter().copied().fold(0u32, u32::saturating_add)
    }

    /// What the figure shows, in reading order, for `alt`, figcaptions and screen readers.
    pub fn alt_text(&self) -> String {
        let total = self.total();
        let mut parts = Vec::new();
        for &(i, _, _) in &QUADRANTS {
            let name = clean(&self.names[i]);
            let form = clean(&self.basic_forms[i]);
            let mut part = match (name.is_empty(), form.is_empty()) {
                (false, false) => format!("{name} ({form})"),
                (false, true) => name,
                (true, false) => form,
                (true, true) => "–".to_owned(),
            };
            if total > 0 {
                let _ = write!(
                    part,
                    ": {} / {total} ({})",
                    self.counts[i],
                    percent(self.counts[i], total)
                );
            }
            parts.push(part);
        }
        sentences(&[
            &clean(&self.title),
            &clean(&self.caption),
            &parts.join("; "),
        ])
    }
}

impl DoingLearningFigure {
    /// The cells where most placed the collaboration, when the figure is asked to show it.
    fn placed_cells(&self) -> [bool; 4] {
        let Some(counts) = self.counts.filter(|_| !clean(&self.placed).is_empty()) else {
            return [false; 4];
        };
        let most = counts.iter().copied().max().unwrap_or(0);
        counts.map(|n| most > 0 && n == most)
    }

    /// Marks per cell, in the order of `cells`; points outside 0..=1 are clamped, NaN dropped.
    fn marks_per_cell(&self) -> [usize; 4] {
        let mut per = [0usize; 4];
        for (x, y) in self.clean_marks() {
            let col = usize::from(x >= 0.5);
            let row = usize::from(y >= 0.5);
            per[col * 2 + row] += 1;
        }
        per
    }

    fn clean_marks(&self) -> impl Iterator<Item = (f32, f32)> + '_ {
        self.marks
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .take(MAX_MARKS)
            .map(|&(x, y)| (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0)))
    }

    /// What the figure shows, in reading order, for `alt`, figcaptions and screen readers.
    pub fn alt_text(&self) -> String {
        let axis = |name: &str, from: &str, to: &str| {
            let (name, from, to) = (clean(name), clean(from), clean(to));
            match (name.is_empty(), from.is_empty() && to.is_empty()) {
                (true, true) => String::new(),
                (false, true) => name,
                (true, false) => format!("{from} → {to}"),
                (false, false) => format!("{name}: {from} → {to}"),
            }
        };
        let marks = self.marks_per_cell();
        let mut cells = Vec::new();
        for &(i, _, _) in &FIELDS {
            let mut cell = clean(&self.cells[i]);
            if cell.is_empty() {
                cell = "–".to_owned();
            }
            let mut extra = Vec::new();
            if let Some(counts) = self.counts {
                extra.push(counts[i].to_string());
            }
            if !self.marks.is_empty() {
                extra.push(format!("● {}", marks[i]));
            }
            if self.placed_cells()[i] {
                extra.push(clean(&self.placed));
            }
            if !extra.is_empty() {
                let _ = write!(cell, " ({})", extra.join("; "));
            }
            cells.push(cell);
        }
        sentences(&[
            &clean(&self.title),
            &axis(&self.yield_axis, &self.little, &self.much),
            &axis(&self.lessons_axis, &self.few, &self.many),
            &cells.join(" | "),
        ])
    }
}

/// A share as a whole percentage that never rounds a nonzero share to "0%" or a partial one to
/// "100%": the mark shows a dot, the label must not contradict it.
fn percent(count: u32, total: u32) -> String {
    if total == 0 {
        return "0%".to_owned();
    }
    let p = (f64::from(count) * 100.0 / f64::from(total)).round();
    if count > 0 && p < 1.0 {
        "<1%".to_owned()
    } else if count < total && p > 99.0 {
        ">99%".to_owned()
    } else {
        format!("{p}%")
    }
}

/// One line of plain text: whitespace collapsed, characters XML refuses dropped.
fn clean(text: &str) -> String {
    text.split_whitespace()
        .map(|w| w.chars().filter(|&c| xml_char(c)).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn clip_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut t: String = text.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Joins non-empty parts as sentences, not doubling a full stop the author already wrote.
fn sentences(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
        if !part.ends_with(['.', '!', '?', ':', '…']) {
            out.push('.');
        }
    }
    out
}
