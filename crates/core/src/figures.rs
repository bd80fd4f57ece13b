//! The essay's figure 2 (doing and learning) and figure 4 (the four governance perspectives) as
//! pictures, drawn in pure Rust so the bot and the console can show them on any machine.
//!
//! Both figures are written as standalone SVG 1.1 (the source of truth: small, printable,
//! accessible), laid out for the DejaVu Sans shipped in `assets/fonts/`; a [`Raster`] that
//! whoever runs the engine injects draws them as PNG, because chat clients show PNG attachments
//! inline.
//! Labels come in as plain data: this module knows nothing of the prompt files, so every text
//! is treated as untrusted (escaped, wrapped, clipped).

mod metrics;

use crate::domain::fnv1a;

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

/// Figure 4 as a standalone SVG document.
pub fn quadrant_svg(f: &QuadrantFigure) -> String {
    let alt = f.alt_text();
    let total = f.total();
    let mut body = Canvas::default();
    let inner = PAGE - 2.0 * MARGIN;

    let mut y = MARGIN;
    let title = Block::new(&f.title, TITLE, INK, inner, 3);
    let caption = Block::new(&f.caption, CAPTION, MUTED, inner, 4);
    body.block(&title, MARGIN, y, Anchor::Start);
    y += title.height();
    if !caption.is_empty() {
        y += if title.is_empty() { 0.0 } else { 4.0 };
        body.block(&caption, MARGIN, y, Anchor::Start);
        y += caption.height();
    }
    if !(title.is_empty() && caption.is_empty()) {
        y += 18.0;
    }

    // Mark geometry: a ring stands for the whole, the disc inside for this perspective's share
    // (area, not radius, is proportional, so the eye reads it right).
    const RING: f32 = 34.0;
    let cell_w = inner / 2.0;
    let text_w = cell_w - 2.0 * PAD;
    let contents: Vec<(Block, Block)> = QUADRANTS
        .iter()
        .map(|&(i, _, _)| {
            (
                Block::new(&f.names[i], NAME, INK, text_w, 3),
                Block::new(&f.basic_forms[i], BODY, MUTED, text_w, 3),
            )
        })
        .collect();
    let text_h = |(name, form): &(Block, Block)| {
        let gap = if name.is_empty() || form.is_empty() {
            0.0
        } else {
            6.0
        };
        name.height() + gap + form.height()
    };
    // Names and marks line up across a row, so the two shares there compare at a glance.
    let row_text_h = |row: usize| {
        QUADRANTS
            .iter()
            .zip(&contents)
            .filter(|(q, _)| q.2 == row)
            .map(|(_, c)| text_h(c))
            .fold(0.0, f32::max)
    };
    let mark_h = if total > 0 { 16.0 + 2.0 * RING } else { 0.0 };
    let cell_h = (row_text_h(0).max(row_text_h(1)) + mark_h).max(cell_w * 0.5) + 2.0 * PAD;

    let grid_y = y;
    for (&(i, col, row), content) in QUADRANTS.iter().zip(&contents) {
        let x = MARGIN + col as f32 * cell_w;
        let top = grid_y + row as f32 * cell_h;
        let cx = x + cell_w / 2.0;
        let (name, form) = content;
        let zone = row_text_h(row);
        let block_top = top + (cell_h - zone - mark_h) / 2.0;
        let mut ty = block_top + (zone - text_h(content)) / 2.0;
        body.block(name, cx, ty, Anchor::Middle);
        ty += name.height();
        if !name.is_empty() && !form.is_empty() {
            ty += 6.0;
        }
        body.block(form, cx, ty, Anchor::Middle);
        ty = block_top + zone;
        if total > 0 {
            ty += 16.0;
            let count = f.counts[i];
            let number = Block::new(&count.to_string(), COUNT, INK, text_w, 1);
            let share = Block::new(&percent(count, total), SMALL, MUTED, text_w, 1);
            let label_w = number.width().max(share.width());
            let left = cx - (2.0 * RING + 12.0 + label_w) / 2.0;
            let cy = ty + RING;
            let r = if count == 0 {
                0.0
            } else {
                (RING * (count as f32 / total as f32).sqrt()).max(3.0)
            };
            body.circle(left + RING, cy, RING, "none", MUTED, 1.5, None);
            if r > 0.0 {
                body.circle(left + RING, cy, r, ACCENT, "none", 0.0, None);
            }
            let lx = left + 2.0 * RING + 12.0;
            let number_top = cy - (number.height() + share.height()) / 2.0;
            body.block(&number, lx, number_top, Anchor::Start);
            body.block(&share, lx, number_top + number.height(), Anchor::Start);
        }
    }
    // The cross on top of the cells, so the four fields read as one model.
    let grid_h = 2.0 * cell_h;
    body.rect(MARGIN, grid_y, inner, grid_h, "none", INK, 1.5);
    body.line(
        MARGIN + cell_w,
        grid_y,
        MARGIN + cell_w,
        grid_y + grid_h,
        INK,
        1.0,
    );
    body.line(
        MARGIN,
        grid_y + cell_h,
        MARGIN + inner,
        grid_y + cell_h,
        INK,
        1.0,
    );

    document(
        "figure-4",
        &f.title,
        &alt,
        grid_y + grid_h + MARGIN,
        &body.0,
    )
}

/// Figure 2 as a standalone SVG document.
pub fn doing_learning_svg(f: &DoingLearningFigure) -> String {
    let alt = f.alt_text();
    let mut body = Canvas::default();

    let mut y = MARGIN;
    let title = Block::new(&f.title, TITLE, INK, PAGE - 2.0 * MARGIN, 3);
    body.block(&title, MARGIN, y, Anchor::Start);
    y += title.height();
    if !title.is_empty() {
        y += 18.0;
    }

    // Left gutter: the rotated lessons axis, its arrow, then the row end labels.
    const END_W: f32 = 120.0;
    let axis_x = MARGIN + AXIS.line_height();
    let arrow_x = axis_x + 8.0;
    let few = Block::new(&f.few, SMALL, MUTED, END_W, 2);
    let many = Block::new(&f.many, SMALL, MUTED, END_W, 2);
    let grid_x = arrow_x + 12.0 + few.width().max(many.width()) + 10.0;
    let grid_w = PAGE - MARGIN - grid_x;
    let cell_w = grid_w / 2.0;
    let text_w = cell_w - 2.0 * PAD;

    let counts = f.counts;
    let placed_cells = f.placed_cells();
    let badge_h = if counts.is_some() { 28.0 + 10.0 } else { 0.0 };
    let texts: Vec<Block> = FIELDS
        .iter()
        .map(|&(i, _, _)| {
            let font = if i == MUCH_MANY { BODY_BOLD } else { BODY };
            Block::new(&f.cells[i], font, INK, text_w, 8)
        })
        .collect();
    let cell_h = texts
        .iter()
        .map(|t| t.height() + badge_h)
        .fold(cell_w * 0.6, f32::max)
        + 2.0 * PAD;
    let grid_y = y;
    let grid_h = 2.0 * cell_h;

    // Fields first, then the dots, then the texts on top of them (with a halo when dots may
    // sit underneath), then the grid lines and the sweet spot's frame.
    body.rect(
        grid_x + cell_w,
        grid_y + cell_h,
        cell_w,
        cell_h,
        TINT,
        "none",
        0.0,
    );
    let halo = !f.marks.is_empty();
    for (mx, my) in f.clean_marks() {
        const INSET: f32 = 10.0;
        let cx = grid_x + INSET + mx * (grid_w - 2.0 * INSET);
        let cy = grid_y + INSET + my * (grid_h - 2.0 * INSET);
        body.circle(cx, cy, 6.0, ACCENT, PAPER, 1.5, Some(0.8));
    }
    for (&(i, col, row), text) in FIELDS.iter().zip(&texts) {
        let x = grid_x + col as f32 * cell_w;
        let top = grid_y + row as f32 * cell_h;
        let room = cell_h - 2.0 * PAD - badge_h;
        let ty = top + PAD + (room - text.height()).max(0.0) / 2.0;
        if halo {
            body.halo(text, x + cell_w / 2.0, ty, Anchor::Middle);
        }
        body.block(text, x + cell_w / 2.0, ty, Anchor::Middle);
        if let Some(counts) = counts {
            // Where the group placed itself: a filled badge, with the words beside it.
            let placed = placed_cells[i];
            let ink = if placed { PAPER } else { INK };
            let number = Block::new(&counts[i].to_string(), BADGE, ink, text_w, 1);
            let w = (number.width() + 16.0).max(28.0);
            let bx = x + cell_w - PAD - w;
            let by = top + cell_h - PAD - 28.0;
            let fill = if placed { ACCENT } else { PAPER };
            body.rounded(bx, by, w, 28.0, 14.0, fill, ACCENT, 2.0);
            body.block(
                &number,
                bx + w / 2.0,
                by + (28.0 - number.height()) / 2.0,
                Anchor::Middle,
            );
            if placed {
                let room = (bx - x - PAD - 8.0).max(0.0);
                let words = Block::new(&f.placed, SMALL, ACCENT, room, 2);
                // Bottom-aligned with the badge, so a second line rises into the gap above.
                body.block(&words, bx - 8.0, by + 28.0 - words.height(), Anchor::End);
            }
        }
    }
    body.rect(grid_x, grid_y, grid_w, grid_h, "none", INK, 1.5);
    // Where the group placed itself, framed so it reads in black and white too.
    for &(i, col, row) in &FIELDS {
        if placed_cells[i] {
            body.dashed(
                grid_x + col as f32 * cell_w + 6.0,
                grid_y + row as f32 * cell_h + 6.0,
                cell_w - 12.0,
                cell_h - 12.0,
                INK,
                3.0,
            );
        }
    }
    body.line(
        grid_x + cell_w,
        grid_y,
        grid_x + cell_w,
        grid_y + grid_h,
        INK,
        1.0,
    );
    body.line(
        grid_x,
        grid_y + cell_h,
        grid_x + grid_w,
        grid_y + cell_h,
        INK,
        1.0,
    );
    // The sweet spot is framed, not only tinted, so it survives black-and-white printing.
    body.rect(
        grid_x + cell_w + 2.0,
        grid_y + cell_h + 2.0,
        cell_w - 4.0,
        cell_h - 4.0,
        "none",
        ACCENT,
        4.0,
    );

    // Row end labels and the lessons axis, pointing down to "many".
    let end_x = grid_x - 10.0;
    body.block(
        &few,
        end_x,
        grid_y + (cell_h - few.height()) / 2.0,
        Anchor::End,
    );
    body.block(
        &many,
        end_x,
        grid_y + cell_h + (cell_h - many.height()) / 2.0,
        Anchor::End,
    );
    body.arrow(arrow_x, grid_y, arrow_x, grid_y + grid_h);
    let lessons = Block::new(&f.lessons_axis, AXIS, INK, grid_h, 1);
    body.rotated(&lessons, axis_x, grid_y + grid_h / 2.0);

    // Column end labels and the yield axis, pointing right to "much".
    let mut y = grid_y + grid_h + 8.0;
    let little = Block::new(&f.little, SMALL, MUTED, cell_w - 8.0, 2);
    let much = Block::new(&f.much, SMALL, MUTED, cell_w - 8.0, 2);
    body.block(&little, grid_x + cell_w / 2.0, y, Anchor::Middle);
    body.block(&much, grid_x + 1.5 * cell_w, y, Anchor::Middle);
    y += little.height().max(much.height()) + 8.0;
    body.arrow(grid_x, y, grid_x + grid_w, y);
    y += 8.0;
    let yield_axis = Block::new(&f.yield_axis, AXIS, INK, grid_w, 1);
    body.block(&yield_axis, grid_x + grid_w / 2.0, y, Anchor::Middle);
    y += yield_axis.height();

    document("figure-2", &f.title, &alt, y + MARGIN, &body.0)
}

/// Draws one of our SVGs as PNG: injected by whoever runs the engine, since rasterizing needs a
/// renderer and fonts the core does without.
pub trait Raster: Send + Sync {
    /// PNG bytes `width_px` wide; the height follows the figure's aspect ratio.
    fn png(&self, svg: &str, width_px: u32) -> anyhow::Result<Vec<u8>>;
}

/// Wraps the drawing in a standalone, accessible SVG document of our page width.
fn document(kind: &str, title: &str, alt: &str, height: f32, body: &str) -> String {
    let height = height.ceil();
    // Ids must be unique when several figures share one HTML page, yet deterministic.
    let id = format!("{kind}-{:016x}", fnv1a(alt.as_bytes()));
    let mut title = clean(title);
    if title.is_empty() {
        title = clip_chars(alt, 120);
    }
    let mut svg = String::with_capacity(body.len() + alt.len() + 512);
    svg.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
         font-family=\"{FONT_FAMILY}\">",
        w = num(PAGE),
        h = num(height),
    );
    let _ = writeln!(svg, "<title id=\"{id}-title\">{}</title>", escape(&title));
    let _ = writeln!(svg, "<desc id=\"{id}-desc\">{}</desc>", escape(alt));
    let _ = writeln!(
        svg,
        "<rect width=\"100%\" height=\"100%\" fill=\"{PAPER}\"/>"
    );
    svg.push_str(body);
    svg.push_str("</svg>\n");
    svg
}

#[derive(Clone, Copy, Debug)]
struct Font {
    size: f32,
    bold: bool,
}

const TITLE: Font = Font::bold(26.0);
const CAPTION: Font = Font::regular(17.0);
const NAME: Font = Font::bold(21.0);
const BODY: Font = Font::regular(18.0);
const BODY_BOLD: Font = Font::bold(18.0);
const AXIS: Font = Font::bold(19.0);
const SMALL: Font = Font::regular(16.0);
const COUNT: Font = Font::bold(28.0);
const BADGE: Font = Font::bold(16.0);

impl Font {
    const fn regular(size: f32) -> Font {
        Font { size, bold: false }
    }

    const fn bold(size: f32) -> Font {
        Font { size, bold: true }
    }

    fn line_height(self) -> f32 {
        self.size * 1.25
    }

    /// From the top of a line box to its baseline: centres DejaVu's ascent and descent.
    fn baseline(self) -> f32 {
        self.size * 0.925
    }

    fn width(self, text: &str) -> f32 {
        text.chars().map(|c| advance(c, self.bold)).sum::<f32>() * self.size
    }
}

/// A character's advance in em; unknown characters count as a full em so we wrap too early
/// rather than overflow.
/// How wide `text` is drawn at `size` with the embedded font, as the layout estimates it (the
/// rasterizer's tests compare it with what it really draws).
pub fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    Font { size, bold }.width(text)
}

fn advance(c: char, bold: bool) -> f32 {
    let units = match c as u32 {
        0x20..=0x7e => {
            let i = c as usize - 0x20;
            if bold {
                metrics::ASCII_BOLD[i]
            } else {
                metrics::ASCII_REGULAR[i]
            }
        }
        0xa0..=0x17f => {
            let i = c as usize - 0xa0;
            if bold {
                metrics::LATIN_BOLD[i]
            } else {
                metrics::LATIN_REGULAR[i]
            }
        }
        0x300..=0x36f | 0x200b..=0x200d | 0xfe00..=0xfe0f => 0,
        _ => match metrics::EXTRA.iter().find(|e| e.0 == c) {
            Some(&(_, regular, bold_w)) => {
                if bold {
                    bold_w
                } else {
                    regular
                }
            }
            None => return 1.0,
        },
    };
    f32::from(units) / metrics::UNITS_PER_EM
}

/// A wrapped piece of text in one font and colour.
#[derive(Clone, Debug)]
struct Block {
    lines: Vec<String>,
    font: Font,
    fill: &'static str,
}

impl Block {
    fn new(text: &str, font: Font, fill: &'static str, max_width: f32, max_lines: usize) -> Block {
        Block {
            lines: wrap(text, font, max_width, max_lines),
            font,
            fill,
        }
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn height(&self) -> f32 {
        self.lines.len() as f32 * self.font.line_height()
    }

    fn width(&self) -> f32 {
        self.lines
            .iter()
            .map(|l| self.font.width(l))
            .fold(0.0, f32::max)
    }
}

/// Greedy word wrap on estimated widths. Explicit newlines are kept, words longer than a line
/// are cut, and text beyond `max_lines` ends in an ellipsis: a cell grows with its text but a
/// pasted essay cannot make a poster.
fn wrap(text: &str, font: Font, max_width: f32, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let text: String = text.chars().filter(|&c| xml_char(c)).collect();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if font.width(&candidate) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line (a URL, a long compound) is cut where it must be.
            for c in word.chars() {
                line.push(c);
                if font.width(&line) > max_width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        if lines.len() > max_lines {
            break;
        }
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && font.width(&format!("{last}…")) > max_width {
                last.pop();
            }
            *last = format!("{}…", last.trim_end());
        }
    }
    lines
}

#[derive(Clone, Copy, Debug)]
enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn attr(self) -> &'static str {
        match self {
            Anchor::Start => "",
            Anchor::Middle => " text-anchor=\"middle\"",
            Anchor::End => " text-anchor=\"end\"",
        }
    }
}

/// The drawing, as SVG elements; every number goes through `num` so output is stable.
#[derive(Default)]
struct Canvas(String);

impl Canvas {
    #[allow(clippy::too_many_arguments)]
    fn rect(
        &mut self,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: &str,
        stroke: &str,
        stroke_width: f32,
    ) {
        // A rectangle is a rounded one without the rounding.
        self.rounded(x, y, w, h, 0.0, fill, stroke, stroke_width);
    }

    #[allow(clippy::too_many_arguments)]
    fn rounded(
        &mut self,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        r: f32,
        fill: &str,
        stroke: &str,
        stroke_width: f32,
    ) {
        let _ = write!(
            self.0,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
            num(x),
            num(y),
            num(w),
            num(h),
        );
        if r > 0.0 {
            let _ = write!(self.0, " rx=\"{}\"", num(r));
        }
        let _ = write!(self.0, " fill=\"{fill}\"");
        self.stroke(stroke, stroke_width);
        self.0.push_str("/>\n");
    }

    #[allow(clippy::too_many_arguments)]
    fn circle(
        &mut self,
        cx: f32,
        cy: f32,
        r: f32,
        fill: &str,
        stroke: &str,
        stroke_width: f32,
        opacity: Option<f32>,
    ) {
        let _ = write!(
            self.0,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\"",
            num(cx),
            num(cy),
            num(r)
        );
        if let Some(o) = opacity {
            let _ = write!(self.0, " fill-opacity=\"{}\"", num(o));
        }
        self.stroke(stroke, stroke_width);
        self.0.push_str("/>\n");
    }

    /// An unfilled rectangle with a dashed outline.
    fn dashed(&mut self, x: f32, y: f32, w: f32, h: f32, stroke: &str, stroke_width: f32) {
        let _ = write!(
            self.0,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\"",
            num(x),
            num(y),
            num(w),
            num(h),
        );
        self.stroke(stroke, stroke_width);
        self.0.push_str(" stroke-dasharray=\"10 6\"/>\n");
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, stroke: &str, stroke_width: f32) {
        let _ = writeln!(
            self.0,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            num(stroke_width)
        );
    }

    /// An axis: a line with a filled head at its end, pointing to "more".
    fn arrow(&mut self, x1: f32, y1: f32, x2: f32, y2: f32) {
        const HEAD: f32 = 10.0;
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        let (bx, by) = (x2 - ux * HEAD, y2 - uy * HEAD);
        self.line(x1, y1, bx, by, INK, 2.0);
        let _ = writeln!(
            self.0,
            "<polygon points=\"{},{} {},{} {},{}\" fill=\"{INK}\"/>",
            num(x2),
            num(y2),
            num(bx - uy * HEAD / 2.0),
            num(by + ux * HEAD / 2.0),
            num(bx + uy * HEAD / 2.0),
            num(by - ux * HEAD / 2.0)
        );
    }

    fn stroke(&mut self, stroke: &str, width: f32) {
        if stroke != "none" && width > 0.0 {
            let _ = write!(
                self.0,
                " stroke=\"{stroke}\" stroke-width=\"{}\"",
                num(width)
            );
        }
    }

    /// One `<text>` per line: SVG 1.1 has no wrapping, and this survives every renderer.
    fn block(&mut self, block: &Block, x: f32, top: f32, anchor: Anchor) {
        self.lines(block, x, top, anchor, "");
    }

    /// The same text in a white outline, drawn under the real one so it stays readable
    /// over dots (SVG 1.1 has no paint-order).
    fn halo(&mut self, block: &Block, x: f32, top: f32, anchor: Anchor) {
        let extra = format!(" stroke=\"{PAPER}\" stroke-width=\"3\" stroke-linejoin=\"round\"");
        let halo = Block {
            fill: PAPER,
            ..block.clone()
        };
        self.lines(&halo, x, top, anchor, &extra);
    }

    fn lines(&mut self, block: &Block, x: f32, top: f32, anchor: Anchor, extra: &str) {
        let font = block.font;
        let weight = if font.bold {
            " font-weight=\"bold\""
        } else {
            ""
        };
        for (n, line) in block.lines.iter().enumerate() {
            let y = top + n as f32 * font.line_height() + font.baseline();
            let _ = writeln!(
                self.0,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\"{weight} fill=\"{}\"{}{extra}>{}</text>",
                num(x),
                num(y),
                num(font.size),
                block.fill,
                anchor.attr(),
                escape(line)
            );
        }
    }

    /// A one-line label turned to read bottom-up, centred on `cy`; `x` is the right edge of its
    /// (rotated) line box.
    fn rotated(&mut self, block: &Block, x: f32, cy: f32) {
        let font = block.font;
        let weight = if font.bold {
            " font-weight=\"bold\""
        } else {
            ""
        };
        for line in &block.lines {
            let _ = writeln!(
                self.0,
                "<text transform=\"translate({} {}) rotate(-90)\" font-size=\"{}\"{weight} fill=\"{}\" text-anchor=\"middle\">{}</text>",
                num(x - font.line_height() + font.baseline()),
                num(cy),
                num(font.size),
                block.fill,
                escape(line)
            );
        }
    }
}

/// Numbers with at most one decimal and no "-0": same input, same bytes.
fn num(v: f32) -> String {
    let tenths = (v * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let (whole, frac) = (tenths.abs() / 10, tenths.abs() % 10);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac}")
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

/// Characters XML 1.0 allows; anything else would make the whole SVG unreadable.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// Escapes text for element content and attribute values alike.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|&c| xml_char(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
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

/// The figures as tests draw them: the Dutch texts, without labels, and with hostile labels.
#[doc(hidden)]
pub mod examples {
    use super::*;

    /// The Dutch texts of `prompts/nl/academy.toml`, copied so these tests do not depend on the
    /// catalog's shape.
    pub fn dutch_quadrant(counts: [u32; 4]) -> QuadrantFigure {
        QuadrantFigure {
            title: "Vier perspectieven op sturing".to_owned(),
            caption: "Welk leidend principe kozen de samenwerkingen in deze ronde?".to_owned(),
            names: [
                "Rechtmatige overheid".to_owned(),
                "Presterende overheid".to_owned(),
                "Netwerkende overheid".to_owned(),
                "Participerende overheid".to_owned(),
            ],
            basic_forms: [
                "Meerlaags bestuur".to_owned(),
                "Meerlaags management".to_owned(),
                "Netwerkende samenwerking".to_owned(),
                "Maatschappelijke samenwerking".to_owned(),
            ],
            counts,
        }
    }

    pub fn dutch_doing_learning() -> DoingLearningFigure {
        DoingLearningFigure {
            title: "Doen en leren".to_owned(),
            yield_axis: "Opbrengst".to_owned(),
            lessons_axis: "Lessen".to_owned(),
            little: "weinig".to_owned(),
            much: "veel".to_owned(),
            few: "weinig".to_owned(),
            many: "veel".to_owned(),
            cells: [
                "Weinig opbrengst en weinig lessen: het enige veld zonder toegevoegde waarde."
                    .to_owned(),
                "Weinig opbrengst maar veel lessen: het ging niet goed, maar we hebben er veel van geleerd.".to_owned(),
                "Veel opbrengst maar weinig lessen: het werkte, maar wat werkte er eigenlijk?"
                    .to_owned(),
                "Veel opbrengst en veel breder toepasbare lessen: de sweet spot.".to_owned(),
            ],
            counts: Some([1, 2, 3, 5]),
            marks: vec![(0.1, 0.2), (0.8, 0.9), (0.7, 0.3), (0.3, 0.75), (0.9, 0.6)],
            placed: String::new(),
        }
    }

    pub fn blank_quadrant(counts: [u32; 4]) -> QuadrantFigure {
        QuadrantFigure {
            counts,
            ..QuadrantFigure::default()
        }
    }

    pub fn blank_doing_learning() -> DoingLearningFigure {
        DoingLearningFigure {
            counts: Some([1, 2, 3, 5]),
            marks: dutch_doing_learning().marks,
            ..DoingLearningFigure::default()
        }
    }

    pub const HOSTILE: &str = "<script>alert('x')</script> & \"quoted\" {{x}} ]]> \u{1}\u{fffe}";

    pub fn hostile_quadrant() -> QuadrantFigure {
        QuadrantFigure {
            title: HOSTILE.to_owned(),
            caption: HOSTILE.to_owned(),
            names: std::array::from_fn(|_| HOSTILE.to_owned()),
            basic_forms: std::array::from_fn(|_| HOSTILE.to_owned()),
            counts: [1, 0, 2, 3],
        }
    }

    pub fn hostile_doing_learning() -> DoingLearningFigure {
        DoingLearningFigure {
            title: HOSTILE.to_owned(),
            yield_axis: HOSTILE.to_owned(),
            lessons_axis: HOSTILE.to_owned(),
            little: HOSTILE.to_owned(),
            much: HOSTILE.to_owned(),
            few: HOSTILE.to_owned(),
            many: HOSTILE.to_owned(),
            cells: std::array::from_fn(|_| HOSTILE.to_owned()),
            counts: Some([0, 1, 2, 3]),
            marks: vec![(f32::NAN, 0.5), (-3.0, 7.0), (0.5, f32::INFINITY)],
            placed: HOSTILE.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::examples::*;
    use super::*;

    /// (width, height) of an SVG's viewBox.
    fn view_box(svg: &str) -> (f32, f32) {
        let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
        let vb: Vec<f32> = doc
            .root_element()
            .attribute("viewBox")
            .expect("viewBox")
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        (vb[2], vb[3])
    }
    use crate::domain::Perspective;

    /// Texts of the SVG's visible `<text>` lines (not halos, not rotated) with their (x, y).
    fn texts(svg: &str) -> Vec<(String, f32, f32)> {
        let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
        doc.descendants()
            .filter(|n| {
                n.has_tag_name("text")
                    && n.attribute("x").is_some()
                    && n.attribute("fill") != Some(PAPER)
            })
            .map(|n| {
                (
                    n.text().unwrap_or_default().to_owned(),
                    n.attribute("x").unwrap().parse().unwrap(),
                    n.attribute("y").unwrap().parse().unwrap(),
                )
            })
            .collect()
    }

    /// Where the first line starting with `text` is (wrapping may have split the rest off).
    fn find(svg: &str, text: &str) -> (f32, f32) {
        let found = texts(svg);
        found
            .iter()
            .find(|(t, _, _)| text.starts_with(t.as_str()) && !t.is_empty())
            .map(|(_, x, y)| (*x, *y))
            .unwrap_or_else(|| panic!("no line {text:?} in {found:?}"))
    }

    #[test]
    fn array_order_follows_the_domain() {
        assert_eq!(Perspective::ALL[LAWFUL], Perspective::Lawful);
        assert_eq!(Perspective::ALL[PERFORMING], Perspective::Performing);
        assert_eq!(Perspective::ALL[NETWORKING], Perspective::Networking);
        assert_eq!(Perspective::ALL[PARTICIPATING], Perspective::Participating);
    }

    #[test]
    fn hostile_labels_stay_text() {
        for svg in [
            quadrant_svg(&hostile_quadrant()),
            doing_learning_svg(&hostile_doing_learning()),
        ] {
            let doc = roxmltree::Document::parse(&svg).expect("well-formed despite the labels");
            let tags: std::collections::BTreeSet<&str> = doc
                .descendants()
                .filter(|n| n.is_element())
                .map(|n| n.tag_name().name())
                .collect();
            assert!(!tags.contains("script"), "{tags:?}");
            let title = doc
                .descendants()
                .find(|n| n.has_tag_name("title"))
                .and_then(|n| n.text())
                .unwrap();
            assert_eq!(title, "<script>alert('x')</script> & \"quoted\" {{x}} ]]>");
            assert!(texts(&svg).iter().any(|(t, _, _)| t.contains("<script>")));
        }
    }

    #[test]
    fn output_is_deterministic() {
        let q = dutch_quadrant([4, 0, 7, 1]);
        assert_eq!(quadrant_svg(&q), quadrant_svg(&q.clone()));
        let d = dutch_doing_learning();
        assert_eq!(doing_learning_svg(&d), doing_learning_svg(&d.clone()));
    }

    #[test]
    fn zero_counts_draw_the_conceptual_figure() {
        let f = dutch_quadrant([0, 0, 0, 0]);
        let svg = quadrant_svg(&f);
        assert!(!svg.contains("<circle"), "no marks without counts");
        assert!(!svg.contains("%</text>"));
        for name in &f.names {
            find(&svg, name);
        }
    }

    #[test]
    fn quadrant_places_perspectives_as_the_essay_does() {
        let svg = quadrant_svg(&dutch_quadrant([1, 3, 2, 1]));
        let (_, height) = view_box(&svg);
        let (px, py) = find(&svg, "Presterende overheid");
        let (nx, ny) = find(&svg, "Netwerkende overheid");
        let (lx, ly) = find(&svg, "Rechtmatige overheid");
        let (qx, qy) = find(&svg, "Participerende overheid");
        let mid = PAGE / 2.0;
        assert!(px < mid && lx < mid && nx > mid && qx > mid);
        assert!(py.max(ny) < ly.min(qy), "top row above bottom row");
        assert!(ly < height);
        // The largest share has the largest disc.
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let discs: Vec<f32> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle") && n.attribute("fill") == Some(ACCENT))
            .map(|n| n.attribute("r").unwrap().parse().unwrap())
            .collect();
        assert_eq!(discs.len(), 4);
        assert_eq!(
            discs[0],
            discs.iter().copied().fold(0.0, f32::max),
            "performing is first in reading order"
        );
    }

    #[test]
    fn quadrant_alt_text_names_every_perspective_and_count() {
        let f = dutch_quadrant([1, 3, 2, 1]);
        let alt = f.alt_text();
        for (name, count) in f.names.iter().zip(f.counts) {
            let at = alt
                .find(name.as_str())
                .unwrap_or_else(|| panic!("{name} in {alt}"));
            assert!(alt[at..].contains(&format!("{count} / 7")), "{alt}");
        }
        for form in &f.basic_forms {
            assert!(alt.contains(form.as_str()), "{alt}");
        }
        assert!(alt.starts_with("Vier perspectieven op sturing. Welk leidend principe"));
        assert!(
            alt.find("Presterende").unwrap() < alt.find("Rechtmatige").unwrap(),
            "reading order: {alt}"
        );
        let svg = quadrant_svg(&f);
        assert!(svg.contains(&format!(
            "<desc id=\"figure-4-{:016x}-desc\">",
            fnv1a(alt.as_bytes())
        )));
        let plain = dutch_quadrant([0; 4]).alt_text();
        assert!(!plain.contains('/'), "{plain}");
    }

    #[test]
    fn doing_learning_places_the_sweet_spot_bottom_right() {
        let f = dutch_doing_learning();
        let svg = doing_learning_svg(&f);
        let first_line = |cell: &str| {
            let lines = texts(&svg);
            let first = cell.split_whitespace().next().unwrap();
            lines
                .iter()
                .filter(|(t, _, _)| t.starts_with(first))
                .map(|(_, x, y)| (*x, *y))
                .collect::<Vec<_>>()
        };
        // Both "Weinig opbrengst" cells are on the left, both "Veel opbrengst" on the right.
        let little = first_line("Weinig");
        let much = first_line("Veel");
        assert_eq!((little.len(), much.len()), (2, 2), "{little:?} {much:?}");
        assert!(little.iter().all(|(x, _)| *x < PAGE / 2.0 + 40.0));
        assert!(much.iter().all(|(x, _)| *x > PAGE / 2.0 + 40.0));
        let (_, few_y) = find(&svg, "Weinig opbrengst en weinig lessen: het");
        assert!(few_y < little.iter().map(|p| p.1).fold(0.0, f32::max));
        // The sweet spot is tinted, framed and bold; it is the bottom-right field.
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let tint = doc
            .descendants()
            .find(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(TINT))
            .unwrap();
        let tx: f32 = tint.attribute("x").unwrap().parse().unwrap();
        let ty: f32 = tint.attribute("y").unwrap().parse().unwrap();
        let sweet = doc
            .descendants()
            .find(|n| {
                n.has_tag_name("text")
                    && n.text().is_some_and(|t| t.starts_with("Veel opbrengst en"))
            })
            .unwrap();
        assert_eq!(sweet.attribute("font-weight"), Some("bold"));
        let sx: f32 = sweet.attribute("x").unwrap().parse().unwrap();
        let sy: f32 = sweet.attribute("y").unwrap().parse().unwrap();
        assert!(sx > tx && sy > ty && tx > PAGE / 2.0 - 40.0);
        assert!(svg.contains(&format!("stroke=\"{ACCENT}\" stroke-width=\"4\"")));
        // Axis labels are there, once each.
        find(&svg, "Opbrengst");
        assert!(svg.contains(">Lessen</text>"));
    }

    #[test]
    fn doing_learning_marks_and_counts() {
        let f = dutch_doing_learning();
        let svg = doing_learning_svg(&f);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let dots = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle") && n.attribute("fill-opacity").is_some())
            .count();
        assert_eq!(dots, f.marks.len());
        for count in ["1", "2", "3", "5"] {
            assert!(svg.contains(&format!(">{count}</text>")), "count {count}");
        }
        let alt = f.alt_text();
        assert!(alt.contains("Opbrengst: weinig → veel"), "{alt}");
        assert!(alt.contains("de sweet spot. (5; ● 2)"), "{alt}");

        // Broken points are dropped or clamped into the grid, never drawn outside it.
        let svg = doing_learning_svg(&hostile_doing_learning());
        let (w, h) = view_box(&svg);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let dots: Vec<(f32, f32)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle") && n.attribute("fill-opacity").is_some())
            .map(|n| {
                (
                    n.attribute("cx").unwrap().parse().unwrap(),
                    n.attribute("cy").unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(dots.len(), 1);
        assert!(dots
            .iter()
            .all(|&(x, y)| x > 0.0 && x < w && y > 0.0 && y < h));

        let plain = DoingLearningFigure {
            counts: None,
            marks: vec![],
            ..f
        };
        let svg = doing_learning_svg(&plain);
        assert!(!svg.contains("<circle") && !svg.contains("rx="));
        assert!(!plain.alt_text().contains('('));
    }

    #[test]
    fn the_cell_where_the_group_placed_itself_stands_out() {
        let mut f = dutch_doing_learning();
        assert!(!doing_learning_svg(&f).contains("stroke-dasharray"));
        f.placed = "hier staat de groep".to_owned();
        let svg = doing_learning_svg(&f);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let framed: Vec<(f32, f32)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("stroke-dasharray").is_some())
            .map(|n| {
                (
                    n.attribute("x").unwrap().parse().unwrap(),
                    n.attribute("y").unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(framed.len(), 1, "one cell has the most placements");
        // Much yield and many lessons (5) lies right and down.
        let (w, _) = view_box(&svg);
        assert!(framed[0].0 > w / 2.0, "{framed:?}");
        assert!(svg.contains(">hier staat de groep</text>"), "{svg}");
        let alt = f.alt_text();
        assert!(
            alt.contains("de sweet spot. (5; ● 2; hier staat de groep)"),
            "{alt}"
        );
        // A tie shows both cells.
        f.counts = Some([2, 2, 0, 1]);
        let svg = doing_learning_svg(&f);
        assert_eq!(svg.matches("stroke-dasharray").count(), 2);
        // Nobody placed it: nothing stands out.
        f.counts = Some([0, 0, 0, 0]);
        assert!(!doing_learning_svg(&f).contains("stroke-dasharray"));
    }

    #[test]
    fn long_texts_wrap_within_their_cell() {
        let long = "Samenwerkingsverbandsovereenkomstenonderhandelingsresultaten ".repeat(20);
        let f = QuadrantFigure {
            title: long.clone(),
            caption: long.clone(),
            names: std::array::from_fn(|_| long.clone()),
            basic_forms: std::array::from_fn(|_| long.clone()),
            counts: [1, 1, 1, 1],
        };
        let svg = quadrant_svg(&f);
        let (_, height) = view_box(&svg);
        assert!(height < 1200.0, "clipped to a few lines, not {height}");
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let mut checked = 0;
        for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
            let font = Font {
                size: n.attribute("font-size").unwrap().parse().unwrap(),
                bold: n.attribute("font-weight") == Some("bold"),
            };
            let w = font.width(n.text().unwrap());
            let x: f32 = n.attribute("x").unwrap().parse().unwrap();
            let (left, right) = match n.attribute("text-anchor") {
                Some("middle") => (x - w / 2.0, x + w / 2.0),
                _ => (x, x + w),
            };
            // Each line stays inside the padded cell (or the page) it starts in.
            let (lo, hi) = match n.attribute("text-anchor") {
                Some("middle") if x < PAGE / 2.0 => (MARGIN + PAD, PAGE / 2.0 - PAD),
                Some("middle") => (PAGE / 2.0 + PAD, PAGE - MARGIN - PAD),
                _ => (MARGIN, PAGE - MARGIN),
            };
            assert!(
                left >= lo - 0.1 && right <= hi + 0.1,
                "{:?} spans {left}..{right}",
                n.text()
            );
            checked += 1;
        }
        assert!(checked > 10);
        let lines = wrap(&long, BODY, 200.0, 3);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| BODY.width(l) <= 200.0));
        assert!(lines[2].ends_with('…'));
        assert_eq!(wrap("  a\n\nb  ", BODY, 200.0, 5), ["a", "b"]);
        assert!(wrap(" \n ", BODY, 200.0, 5).is_empty());
    }

    #[test]
    fn numbers_are_stable() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(3.25), "3.3");
        assert_eq!(num(-1.5), "-1.5");
        assert_eq!(percent(3, 7), "43%");
        assert_eq!(percent(1, 1000), "<1%");
        assert_eq!(percent(999, 1000), ">99%");
        assert_eq!(percent(5, 5), "100%");
        assert_eq!(percent(0, 5), "0%");
        assert_eq!(escape("a&<>\"'\u{0}b"), "a&amp;&lt;&gt;&quot;&apos;b");
    }
}
