//! The DejaVu Sans the figures are laid out for, built into the program once: the layout reads
//! its advance widths from these bytes, and the rasterizer draws with the same ones, so the
//! estimate and the picture cannot come from different fonts.

use std::collections::HashMap;
use std::sync::OnceLock;

use skrifa::raw::TableProvider as _;
use skrifa::{FontRef, GlyphId, MetadataProvider as _};

/// DejaVu Sans from `assets/fonts/`. Statics, not constants, so every user shares one copy.
pub static REGULAR_TTF: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
pub static BOLD_TTF: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-Bold.ttf");

/// A character's advance in em in the embedded font, or `None` when the font has no glyph for
/// it. Read once per face, on first use.
pub(super) fn advance(c: char, bold: bool) -> Option<f32> {
    static REGULAR: OnceLock<HashMap<char, f32>> = OnceLock::new();
    static BOLD: OnceLock<HashMap<char, f32>> = OnceLock::new();
    let (cell, bytes) = if bold {
        (&BOLD, BOLD_TTF)
    } else {
        (&REGULAR, REGULAR_TTF)
    };
    cell.get_or_init(|| advances(bytes)).get(&c).copied()
}

/// Every mapped character's advance (hmtx, through the cmap) divided by the units per em. A
/// font that does not parse yields nothing, so every width falls back to the layout's guess;
/// the tests below would fail first.
fn advances(bytes: &[u8]) -> HashMap<char, f32> {
    let Ok(font) = FontRef::new(bytes) else {
        return HashMap::new();
    };
    let (Ok(head), Ok(hmtx)) = (font.head(), font.hmtx()) else {
        return HashMap::new();
    };
    let per_em = f32::from(head.units_per_em());
    font.charmap()
        .mappings()
        .filter(|&(_, glyph)| glyph != GlyphId::NOTDEF)
        .filter_map(|(code, glyph)| {
            let units = hmtx.advance(glyph)?;
            Some((char::from_u32(code)?, f32::from(units) / per_em))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values in font units (2048 per em) of the table the layout used before it read the font.
    #[test]
    fn advances_are_the_fonts_own() {
        let em = |units: u16| f32::from(units) / 2048.0;
        for (c, regular, bold) in [
            (' ', 651, 713),
            ('A', 1401, 1585),
            ('W', 2025, 2259),
            ('i', 569, 702),
            ('m', 1995, 2134),
            ('0', 1303, 1425),
            ('ë', 1260, 1389),
            ('ß', 1290, 1473),
            ('€', 1303, 1425),
            ('…', 2048, 2048),
            ('“', 1061, 1346),
            ('●', 1787, 1787),
        ] {
            assert_eq!(advance(c, false), Some(em(regular)), "{c:?} regular");
            assert_eq!(advance(c, true), Some(em(bold)), "{c:?} bold");
        }
        // DejaVu has no CJK: the layout's fallback takes over.
        assert_eq!(advance('中', false), None);
    }
}
