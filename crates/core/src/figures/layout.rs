//! Text as the figures lay it out: fonts, estimated widths from the embedded font's advances,
//! and word wrap, so a cell grows with its text without a renderer.

use super::canvas::xml_char;
use super::fonts;

#[derive(Clone, Copy, Debug)]
pub(super) struct Font {
    pub(super) size: f32,
    pub(super) bold: bool,
}

pub(super) const TITLE: Font = Font::bold(26.0);
pub(super) const CAPTION: Font = Font::regular(17.0);
pub(super) const NAME: Font = Font::bold(21.0);
pub(super) const BODY: Font = Font::regular(18.0);
pub(super) const BODY_BOLD: Font = Font::bold(18.0);
pub(super) const AXIS: Font = Font::bold(19.0);
pub(super) const SMALL: Font = Font::regular(16.0);
pub(super) const COUNT: Font = Font::bold(28.0);
pub(super) const BADGE: Font = Font::bold(16.0);

impl Font {
    const fn regular(size: f32) -> Font {
        Font { size, bold: false }
    }

    const fn bold(size: f32) -> Font {
        Font { size, bold: true }
    }

    pub(super) fn line_height(self) -> f32 {
        self.size * 1.25
    }

    /// From the top of a line box to its baseline: centres DejaVu's ascent and descent.
    pub(super) fn baseline(self) -> f32 {
        self.size * 0.925
    }

    pub(super) fn width(self, text: &str) -> f32 {
        text.chars().map(|c| advance(c, self.bold)).sum::<f32>() * self.size
    }
}

/// How wide `text` is drawn at `size` with the embedded font, as the layout estimates it (the
/// rasterizer's tests compare it with what it really draws).
pub fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    Font { size, bold }.width(text)
}

/// A character's advance in em. Combining marks, zero-width characters and variation selectors
/// take no room once shaped onto their base; characters the font lacks count as a full em, so
/// we wrap too early rather than overflow.
fn advance(c: char, bold: bool) -> f32 {
    if matches!(c as u32, 0x300..=0x36f | 0x200b..=0x200d | 0xfe00..=0xfe0f) {
        return 0.0;
    }
    fonts::advance(c, bold).unwrap_or(1.0)
}

/// A wrapped piece of text in one font and colour.
#[derive(Clone, Debug)]
pub(super) struct Block {
    pub(super) lines: Vec<String>,
    pub(super) font: Font,
    pub(super) fill: &'static str,
}

impl Block {
    pub(super) fn new(
        text: &str,
        font: Font,
        fill: &'static str,
        max_width: f32,
        max_lines: usize,
    ) -> Block {
        Block {
            lines: wrap(text, font, max_width, max_lines),
            font,
            fill,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub(super) fn height(&self) -> f32 {
        self.lines.len() as f32 * self.font.line_height()
    }

    pub(super) fn width(&self) -> f32 {
        self.lines
            .iter()
            .map(|l| self.font.width(l))
            .fold(0.0, f32::max)
    }
}

/// Greedy word wrap on estimated widths. Explicit newlines are kept, words longer than a line
/// are cut, and text beyond `max_lines` ends in an ellipsis: a cell grows with its text but a
/// pasted essay cannot make a poster.
pub(super) fn wrap(text: &str, font: Font, max_width: f32, max_lines: usize) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_wrap_to_their_lines() {
        let long = "Samenwerkingsverbandsovereenkomstenonderhandelingsresultaten ".repeat(20);
        let lines = wrap(&long, BODY, 200.0, 3);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| BODY.width(l) <= 200.0));
        assert!(lines[2].ends_with('…'));
        assert_eq!(wrap("  a\n\nb  ", BODY, 200.0, 5), ["a", "b"]);
        assert!(wrap(" \n ", BODY, 200.0, 5).is_empty());
    }
}
