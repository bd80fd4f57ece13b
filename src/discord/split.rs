//! Cutting long text into pieces that fit Discord's limits, at the most readable boundary.
//!
//! Discord counts lengths in UTF-16 code units, so that is what is counted here; a cut never
//! falls inside a grapheme cluster, so an accent, a zero-width joiner or a flag is never torn
//! from the character it belongs to.

use unicode_segmentation::GraphemeCursor;

/// The length of `text` as Discord counts it.
pub fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Splits `text` into pieces of at most `max` units each (`max` ≥ 1), preferring a paragraph
/// break, then a line break, then a space, and only then any grapheme boundary. Pieces are
/// trimmed of the whitespace at the cut; empty text gives no pieces.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if units(rest) <= max {
            pieces.push(rest.to_owned());
            break;
        }
        let cut = best_cut(rest, max);
        let piece = rest[..cut].trim_end();
        if !piece.is_empty() {
            pieces.push(piece.to_owned());
        }
        rest = rest[cut..].trim_start();
    }
    pieces
}

/// The byte index to cut `text` at, so that `text[..cut]` fits in `max` units.
fn best_cut(text: &str, max: usize) -> usize {
    // The longest prefix of whole characters that fits, then back to the grapheme boundary at
    // or before its end: the longest prefix of whole graphemes that fits. Only the end is
    // segmented, so cutting a long text takes time in proportion to its length.
    let mut end = 0;
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += c.len_utf16();
        if used > max {
            break;
        }
        end = i + c.len_utf8();
    }
    let mut cursor = GraphemeCursor::new(end, text.len(), true);
    let fit = match cursor.is_boundary(text, 0) {
        Ok(true) => end,
        // The whole text is the chunk, so the cursor never asks for more context.
        _ => cursor.prev_boundary(text, 0).ok().flatten().unwrap_or(0),
    };
    if fit == 0 {
        // A single grapheme longer than the limit (pathological combining runs): cut it at a
        // character boundary rather than loop forever.
        return if end > 0 {
            end
        } else {
            text.chars().next().map(char::len_utf8).unwrap_or(0)
        };
    }
    let window = &text[..fit];
    let at_least = |share: usize| units(window) * share / 4;
    for (sep, share) in [("\n\n", 2), ("\n", 2), (" ", 1)] {
        if let Some(pos) = window.rfind(sep) {
            if pos > 0 && units(&window[..pos]) >= at_least(share) {
                return pos + sep.len();
            }
        }
    }
    fit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_piece_and_empty_is_none() {
        assert_eq!(split("kort", 10), vec!["kort"]);
        assert!(split("", 10).is_empty());
        assert!(split("  \n ", 10).is_empty());
    }

    #[test]
    fn prefers_paragraphs_then_lines_then_spaces() {
        let text = "eerste alinea hier\n\ntweede alinea";
        assert_eq!(split(text, 25), vec!["eerste alinea hier", "tweede alinea"]);
        let text = "regel een twee\nregel drie vier";
        assert_eq!(split(text, 20), vec!["regel een twee", "regel drie vier"]);
        let text = "woorden zonder regeleinde maar wel spaties";
        for piece in split(text, 12) {
            assert!(units(&piece) <= 12, "{piece}");
            assert!(!piece.starts_with(' ') && !piece.ends_with(' '));
        }
    }

    #[test]
    fn never_tears_a_grapheme() {
        // "e" + combining acute, and a family emoji joined by zero-width joiners.
        let family = "👨\u{200d}👩\u{200d}👧";
        let text = format!("{}{}", "e\u{301}".repeat(30), family.repeat(5));
        for max in [8, 9, 11, 16, 100] {
            let pieces = split(&text, max);
            assert_eq!(pieces.concat(), text, "max {max}");
            for p in &pieces {
                assert!(units(p) <= max, "max {max}: {p:?}");
                assert!(!p.starts_with('\u{301}') && !p.starts_with('\u{200d}'));
            }
        }
    }

    #[test]
    fn counts_as_discord_does() {
        assert_eq!(units("😀"), 2);
        let pieces = split(&"😀".repeat(3000), 2000);
        assert!(pieces.iter().all(|p| units(p) <= 2000));
        assert_eq!(pieces.concat().chars().count(), 3000);
    }
}
