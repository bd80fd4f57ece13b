//! Dutch compounds: when `netcongestie` may meet `congestie`, and when `waterschap` may not meet
//! `water`.
//!
//! Dutch writes a compound as one word, and its last part is what it is: a *netcongestie* is a
//! kind of *congestie*, *stikstofuitstoot* a kind of *uitstoot*, a *waterschap* a kind of
//! *schap* (not of *water*), *woningbouw* a kind of *bouw* (not of *woningen*). So a compound
//! is matched to its head — the part it ends with — and never to the part it starts with.
//!
//! Splitting by letters alone finds heads that are not there: `bedrijven` ends in `drijven`,
//! `toezicht` in `zicht`, `verbinding` in `binding`, `aansluiting` in `sluiting`. A split
//! counts only when both sides are words:
//! - the head is a word that someone in the round wrote on its own, of at least
//!   [`MIN_HEAD_CHARS`] letters (shorter heads such as `bouw`, `zorg` or `werk` end too many
//!   compounds that are not kinds of them: `landbouw`, `netwerk`);
//! - the part before it has at least [`MIN_MODIFIER_CHARS`] letters and a vowel, and is not
//!   one of the prefixes or verb particles in [`NOT_MODIFIERS`] (`ver-`, `ont-`, `toe-`,
//!   `aan-`, `voor-`: *toezicht* is no kind of *zicht*, *voorwaarden* no kind of *waarden*).
//!   Those form a closed class in Dutch, so whatever else stands before a known word is a
//!   word of its own (`net`, `stikstof`, `gebieds`).
//!
//! The part before the head counts too only when the round spells the compound out: when one
//! answer uses both parts as words of their own (`uitstoot van stikstof` for
//! `stikstofuitstoot`, `regels over belasting` for `belastingregels`). Otherwise it does not:
//! `woningbouw` does not meet `woningen`, and `stikstofuitstoot` does not meet a bare
//! `stikstof` either — the price of never matching a word to what it merely starts with.
//!
//! When several heads are known, the shortest is taken (`stroomnetcongestie` → `congestie`
//! rather than `netcongestie`), so that every compound of a round lands on the same base word.

/// A head shorter than this is not looked for: see the module documentation.
pub(super) const MIN_HEAD_CHARS: usize = 5;
/// What stands before the head must be at least this long to be a word (`net`).
pub(super) const MIN_MODIFIER_CHARS: usize = 3;

/// Dutch prefixes and separable verb particles of three letters or more: a word that starts
/// with one of them is a derivation (`verbinding`, `toezicht`, `aansluiting`, `uitvoering`) or
/// a verb (`vasthouden`, `wegtrekken`, `stilstaan`), not a kind of the word it ends with.
/// Folded, sorted.
pub(super) const NOT_MODIFIERS: &[&str] = &[
    "aan", "aarts", "achter", "bij", "dicht", "door", "her", "los", "mede", "mee", "mis", "neer",
    "oer", "onder", "ont", "open", "over", "samen", "stil", "tegen", "terug", "toe", "uit", "vast",
    "ver", "voor", "voorbij", "vooruit", "wan", "weder", "weer", "weg",
];

/// How a folded Dutch compound is split: its modifier and head as stems.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Split {
    pub modifier: String,
    pub head: String,
}

/// The split of `word` whose head `known` accepts, the shortest such head first; `stem` stems
/// a part the way the round's terms were stemmed. The modifier is given without a linking `s`
/// (`gebieds` → `gebied`).
pub(super) fn split(
    word: &str,
    stem: impl Fn(&str) -> String,
    known: impl Fn(&str) -> bool,
) -> Option<Split> {
    let bounds: Vec<usize> = word.char_indices().map(|(i, _)| i).collect();
    let n = bounds.len();
    if n < MIN_MODIFIER_CHARS + MIN_HEAD_CHARS {
        return None;
    }
    // From the shortest ending to the longest: the most basic head first.
    for k in (MIN_MODIFIER_CHARS..=n - MIN_HEAD_CHARS).rev() {
        let (modifier, tail) = word.split_at(bounds[k]);
        if !is_modifier(modifier) {
            continue;
        }
        let head = stem(tail);
        if known(&head) {
            let base = match modifier.strip_suffix('s') {
                Some(b) if is_modifier(b) => b,
                _ => modifier,
            };
            return Some(Split {
                modifier: stem(base),
                head,
            });
        }
    }
    None
}

fn is_modifier(part: &str) -> bool {
    part.chars().count() >= MIN_MODIFIER_CHARS
        && part.chars().any(|c| "aeiouy".contains(c))
        && NOT_MODIFIERS.binary_search(&part).is_err()
}
