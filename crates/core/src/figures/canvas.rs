//! SVG written by hand: the few elements the figures use, every number rounded the same way and
//! every text escaped, so the same figure is the same bytes on every machine.

use super::layout::Block;
use super::{clean, clip_chars, FONT_FAMILY, INK, PAGE, PAPER};
use crate::domain::fnv1a;

use std::fmt::Write as _;

/// Wraps the drawing in a standalone, accessible SVG document of our page width.
pub(super) fn document(kind: &str, title: &str, alt: &str, height: f32, body: &str) -> String {
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
pub(super) enum Anchor {
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
pub(super) struct Canvas(pub(super) String);

impl Canvas {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn rect(
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
    pub(super) fn rounded(
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
    pub(super) fn circle(
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
    pub(super) fn dashed(
        &mut self,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        stroke: &str,
        stroke_width: f32,
    ) {
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

    pub(super) fn line(
        &mut self,
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        stroke: &str,
        stroke_width: f32,
    ) {
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

    /// Joined line segments, optionally dashed.
    pub(super) fn polyline(
        &mut self,
        points: &[(f32, f32)],
        stroke: &str,
        width: f32,
        dashed: bool,
    ) {
        if points.len() < 2 {
            return;
        }
        let joined: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{},{}", num(x), num(y)))
            .collect();
        let _ = write!(
            self.0,
            "<polyline points=\"{}\" fill=\"none\" stroke-linejoin=\"round\"",
            joined.join(" ")
        );
        self.stroke(stroke, width);
        if dashed {
            self.0.push_str(" stroke-dasharray=\"8 5\"");
        }
        self.0.push_str("/>\n");
    }

    /// An axis: a line with a filled head at its end, pointing to "more".
    pub(super) fn arrow(&mut self, x1: f32, y1: f32, x2: f32, y2: f32) {
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
    pub(super) fn block(&mut self, block: &Block, x: f32, top: f32, anchor: Anchor) {
        self.lines(block, x, top, anchor, "");
    }

    /// The same text in a white outline, drawn under the real one so it stays readable
    /// over dots (SVG 1.1 has no paint-order).
    pub(super) fn halo(&mut self, block: &Block, x: f32, top: f32, anchor: Anchor) {
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
    pub(super) fn rotated(&mut self, block: &Block, x: f32, cy: f32) {
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
pub(super) fn num(v: f32) -> String {
    let tenths = (v * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let (whole, frac) = (tenths.abs() / 10, tenths.abs() % 10);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac}")
    }
}

/// Characters XML 1.0 allows; anything else would make the whole SVG unreadable.
pub(super) fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// Escapes text for element content and attribute values alike.
pub(super) fn escape(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(3.25), "3.3");
        assert_eq!(num(-1.5), "-1.5");
        assert_eq!(escape("a&<>\"'\u{0}b"), "a&amp;&lt;&gt;&quot;&apos;b");
    }
}
