//! Figure 4 drawn: the four perspectives as a two-by-two grid, with a ring and a disc for each
//! one's share when there are counts.

use super::canvas::{document, Anchor, Canvas};
use super::layout::{Block, BODY, CAPTION, COUNT, NAME, SMALL, TITLE};
use super::{percent, QuadrantFigure, ACCENT, INK, MARGIN, MUTED, PAD, PAGE, QUADRANTS};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fnv1a;
    use crate::figures::examples::*;
    use crate::figures::layout::Font;
    use crate::figures::tests::find;

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
    }
}
