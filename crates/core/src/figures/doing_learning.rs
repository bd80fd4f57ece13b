//! Figure 2 drawn: yield against lessons as a two-by-two grid, the sweet spot tinted and
//! framed, with counts, the members' marks and where the group placed itself.

use super::canvas::{document, Anchor, Canvas};
use super::layout::{Block, AXIS, BADGE, BODY, BODY_BOLD, SMALL, TITLE};
use super::{
    DoingLearningFigure, ACCENT, FIELDS, INK, MARGIN, MUCH_MANY, MUTED, PAD, PAGE, PAPER, TINT,
};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::examples::*;
    use crate::figures::tests::{find, texts};

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
}
