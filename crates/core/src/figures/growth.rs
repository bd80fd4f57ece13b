//! Growth curves drawn: how long an operation takes as what it works on grows, on logarithmic
//! axes, so that flat, linear and quadratic costs read as level, rising and steep lines. The
//! benchmarks draw them for `docs/PERFORMANCE.md` with the same SVG writer as the essay's
//! figures, so the docs need no plotting tool.

use super::canvas::{document, Anchor, Canvas};
use super::layout::{Block, CAPTION, NAME, SMALL};
use super::{thousands, GrowthFigure, INK, MARGIN, MUTED, PAGE};

/// Okabe and Ito's colours, told apart with every common colour blindness; a series past them
/// is drawn dashed in the same order.
const PALETTE: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#1a1a1a",
];
const GRID: &str = "#d9d9d9";
/// Room left of the plot for the labels of the time axis ("100 ms") and its name.
const LEFT: f32 = 104.0;
const PLOT_HEIGHT: f32 = 340.0;
const SWATCH: f32 = 34.0;

/// The figure as a standalone SVG document.
pub fn growth_svg(f: &GrowthFigure) -> String {
    let alt = f.alt_text();
    let mut body = Canvas::default();
    let inner = PAGE - 2.0 * MARGIN;
    let mut y = MARGIN;
    let title = Block::new(&f.title, NAME, INK, inner, 3);
    let caption = Block::new(&f.caption, CAPTION, MUTED, inner, 4);
    body.block(&title, MARGIN, y, Anchor::Start);
    y += title.height();
    if !caption.is_empty() {
        y += 4.0;
        body.block(&caption, MARGIN, y, Anchor::Start);
        y += caption.height();
    }
    y += 18.0;

    let series: Vec<Vec<(f64, f64)>> = f.series.iter().map(|s| s.drawable()).collect();
    let all = || series.iter().flatten();
    let (xs, ys) = (decades(all().map(|p| p.0)), decades(all().map(|p| p.1)));
    let (left, right) = (MARGIN + LEFT, PAGE - MARGIN - 12.0);
    let (top, bottom) = (y, y + PLOT_HEIGHT);
    let at_x = |v: f64| left + (right - left) * xs.fraction(v);
    let at_y = |v: f64| bottom - (bottom - top) * ys.fraction(v);

    for d in xs.low..=xs.high {
        let x = at_x(10f64.powi(d));
        body.line(x, top, x, bottom, GRID, 1.0);
        let label = Block::new(&count(d), SMALL, MUTED, 120.0, 1);
        body.block(&label, x, bottom + 6.0, Anchor::Middle);
    }
    for d in ys.low..=ys.high {
        let yy = at_y(10f64.powi(d));
        body.line(left, yy, right, yy, GRID, 1.0);
        let label = Block::new(&seconds(d), SMALL, MUTED, LEFT, 1);
        body.block(&label, left - 8.0, yy - label.height() / 2.0, Anchor::End);
    }
    body.line(left, bottom, right, bottom, INK, 1.5);
    body.line(left, top, left, bottom, INK, 1.5);
    let x_label = Block::new(&f.x_label, SMALL, INK, right - left, 2);
    let x_label_top = bottom + 6.0 + SMALL.line_height() + 6.0;
    body.block(&x_label, (left + right) / 2.0, x_label_top, Anchor::Middle);
    let y_label = Block::new(&f.y_label, SMALL, INK, PLOT_HEIGHT, 1);
    body.rotated(&y_label, MARGIN + SMALL.line_height(), (top + bottom) / 2.0);

    for (i, points) in series.iter().enumerate() {
        let (colour, dashed) = style(i);
        let drawn: Vec<(f32, f32)> = points.iter().map(|&(x, v)| (at_x(x), at_y(v))).collect();
        body.polyline(&drawn, colour, 2.5, dashed);
        for &(x, v) in &drawn {
            body.circle(x, v, 4.0, colour, "none", 0.0, None);
        }
    }

    // The legend: one line each, in the order given.
    let mut y = x_label_top + x_label.height() + 18.0;
    let text_x = MARGIN + SWATCH + 10.0;
    for (i, s) in f.series.iter().enumerate() {
        let (colour, dashed) = style(i);
        let name = Block::new(&s.name, SMALL, INK, PAGE - MARGIN - text_x, 2);
        let mid = y + SMALL.line_height() / 2.0;
        body.polyline(
            &[(MARGIN, mid), (MARGIN + SWATCH, mid)],
            colour,
            2.5,
            dashed,
        );
        body.circle(MARGIN + SWATCH / 2.0, mid, 4.0, colour, "none", 0.0, None);
        body.block(&name, text_x, y, Anchor::Start);
        y += name.height().max(SMALL.line_height()) + 6.0;
    }
    document("growth", &f.title, &alt, y + MARGIN, &body.0)
}

/// The colour of the `i`th series, and whether it is dashed.
fn style(i: usize) -> (&'static str, bool) {
    (PALETTE[i % PALETTE.len()], i >= PALETTE.len())
}

/// A logarithmic axis from 10^low to 10^high, whole decades around every value.
struct Decades {
    low: i32,
    high: i32,
}

impl Decades {
    fn fraction(&self, v: f64) -> f32 {
        ((v.log10() - f64::from(self.low)) / f64::from(self.high - self.low)) as f32
    }
}

fn decades(values: impl Iterator<Item = f64>) -> Decades {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        low = low.min(v.log10());
        high = high.max(v.log10());
    }
    if !low.is_finite() {
        return Decades { low: 0, high: 1 };
    }
    let (low, high) = (low.floor() as i32, high.ceil() as i32);
    Decades {
        low,
        high: high.max(low + 1),
    }
}

/// `1,000`, `100,000`: the count 10^`decade` as the tables write it.
fn count(decade: i32) -> String {
    match u32::try_from(decade) {
        Ok(d) if d < 20 => thousands(10u64.pow(d)),
        _ => format!("1e{decade}"),
    }
}

/// `100 µs`, `10 ms`, `1 s`: 10^`decade` seconds in the unit that keeps it whole.
fn seconds(decade: i32) -> String {
    let (shift, unit) = match decade {
        d if d >= 0 => (0, "s"),
        -3..=-1 => (3, "ms"),
        -6..=-4 => (6, "µs"),
        _ => (9, "ns"),
    };
    let d = decade + shift;
    if d < 0 {
        format!("1e{decade} s")
    } else {
        format!("1{} {unit}", "0".repeat(d as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::GrowthSeries;

    fn figure(series: Vec<GrowthSeries>) -> GrowthFigure {
        GrowthFigure {
            title: "Growth".into(),
            caption: "p50 per size".into(),
            x_label: "lessons".into(),
            y_label: "time".into(),
            series,
        }
    }

    /// Each polyline's points, in the order drawn (the legend's swatches are polylines too).
    fn polylines(svg: &str) -> Vec<Vec<(f32, f32)>> {
        svg.split("<polyline points=\"")
            .skip(1)
            .map(|rest| {
                rest[..rest.find('"').unwrap()]
                    .split(' ')
                    .map(|p| {
                        let (x, y) = p.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_flat_cost_is_a_level_line_and_a_linear_one_rises_a_decade_a_decade() {
        let svg = growth_svg(&figure(vec![
            GrowthSeries {
                name: "flat".into(),
                points: vec![(1_000.0, 1e-3), (100_000.0, 1e-3)],
            },
            GrowthSeries {
                name: "linear".into(),
                points: vec![(100_000.0, 1e-1), (1_000.0, 1e-3)],
            },
        ]));
        let lines = polylines(&svg);
        let (flat, linear) = (&lines[0], &lines[1]);
        assert_eq!(flat[0].1, flat[1].1, "{svg}");
        assert!(flat[0].0 < flat[1].0);
        // Sorted by size, and up (smaller y) as it grows: two decades of time over two of size.
        assert_eq!(linear[0].0, flat[0].0);
        assert_eq!(linear[0].1, flat[0].1);
        assert!(linear[1].1 < linear[0].1);
        let per_decade_x = (linear[1].0 - linear[0].0) / 2.0;
        assert!(per_decade_x > 100.0, "{per_decade_x}");
        for label in ["1,000", "100,000", "1 ms", "100 ms", "lessons", "time"] {
            assert!(svg.contains(&format!(">{label}<")), "{label} in {svg}");
        }
    }

    #[test]
    fn names_stay_text_and_what_a_log_axis_cannot_show_is_left_out() {
        let f = figure(vec![GrowthSeries {
            name: "<script>alert(1)</script> & co".into(),
            points: vec![
                (0.0, 1.0),
                (10.0, -1.0),
                (100.0, f64::NAN),
                (1e-320, 1e-3),
                (1e300, 1e-3),
                (1_000.0, 2.5e-4),
                (10_000.0, 3.0e-3),
            ],
        }]);
        let svg = growth_svg(&f);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert_eq!(polylines(&svg)[0].len(), 2);
        assert!(
            f.alt_text().contains("1,000: 250.0 µs, 10,000: 3.00 ms"),
            "{}",
            f.alt_text()
        );
        assert_eq!(growth_svg(&f), svg, "the same figure is the same bytes");
    }

    #[test]
    fn ticks_name_whole_decades() {
        assert_eq!(count(0), "1");
        assert_eq!(count(5), "100,000");
        assert_eq!(seconds(-6), "1 µs");
        assert_eq!(seconds(-4), "100 µs");
        assert_eq!(seconds(-3), "1 ms");
        assert_eq!(seconds(-1), "100 ms");
        assert_eq!(seconds(1), "10 s");
        assert_eq!(seconds(-9), "1 ns");
    }
}
