//! What the academy does to text a person typed before it keeps or shows it: control
//! characters out, invisible-only text counted as empty, long text cut between graphemes.

/// Cleans user text: line endings unified, control characters removed (tabs and newlines stay),
/// surrounding whitespace trimmed. What remains is stored as written.
pub fn clean_text(raw: &str) -> String {
    // A carriage return ends a line whether or not a line feed follows (old Mac text, a
    // terminal in raw mode), in answers as in names.
    raw.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Cleans a one-line value: as [`clean_text`], with newlines and tabs turned into spaces.
pub fn clean_line(raw: &str) -> String {
    clean_text(raw).replace(['\n', '\t'], " ")
}

/// At most `max` characters of `text`, cut between grapheme clusters (never inside an emoji
/// sequence, a flag or a letter with its accents), with `…` when something was left out.
pub fn shorten(text: &str, max: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut count = 0;
    for g in text.graphemes(true) {
        let n = g.chars().count();
        if count + n > max {
            break;
        }
        out.push_str(g);
        count += n;
    }
    out.push('…');
    out
}

/// Whether text shows nothing: empty, or only spaces and invisible characters.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

/// Characters that render as nothing; text made only of these (and spaces) counts as empty.
pub(super) fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180e}'
                | '\u{3164}'
                | '\u{feff}'
                | '\u{ffa0}'
        )
        || ('\u{200b}'..='\u{200f}').contains(&c)
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2060}'..='\u{206f}').contains(&c)
        || ('\u{fe00}'..='\u{fe0f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_removes_controls_and_trims() {
        assert_eq!(clean_text("  a\u{0}b\r\nc\u{7f}  "), "ab\nc");
        assert_eq!(clean_text("\u{200b}"), "\u{200b}");
        assert_eq!(clean_line("a\nb\tc"), "a b c");
        assert_eq!(clean_text(" \n\t "), "");
        assert_eq!(clean_text("a\rb"), "a\nb");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "abc…");
        // A family emoji (7 chars), a flag (2), an e with a combining accent (2).
        assert_eq!(shorten("ab👨\u{200d}👩\u{200d}👧\u{200d}👦", 5), "ab…");
        assert_eq!(shorten("a🇳🇱", 2), "a…");
        assert_eq!(shorten("cafe\u{301}s", 4), "caf…");
        assert_eq!(clean_line("Anna\rBram"), "Anna Bram");
    }
}
