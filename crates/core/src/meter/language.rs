//! Which language an answer is written in, Dutch or English, so the meter drops that language's
//! stop words and uses its stemmer: an English answer in a Dutch channel must not keep `the`
//! as a key term, and a Dutch one in an English channel must not lose its compounds.
//!
//! The academy knows two languages, and answers are short (a line to a few hundred words), so a
//! general language identifier is more than is needed and less than is wanted: trigram models
//! guess on one-line texts and pull in tables for dozens of languages. What tells Dutch from
//! English in a single sentence are the small grammatical words every sentence has (`de`, `het`,
//! `een`, `van`, `niet` against `the`, `of`, `and`, `to`, `not`). So: count the words of each
//! language's list below, and the language with more of them wins. With none, or as many of
//! each, the answer has no grammar to go by (`Netcongestie.`, `Grid capacity.`) and is read in
//! the channel's language.
//!
//! The lists hold only words that are common in one language and rare in the other; words of
//! both (`in`, `is`, `we`, `over`, `was`, `had`, `me`, `men`, `ten`, `of` — Dutch "or" —,
//! `want` — Dutch "because") are left out, since they prove nothing. Over the answers of the
//! meter's corpus (`corpus.toml`), Dutch and English in channels of either language, every
//! answer is read in the language it is written in; the closest calls are one-line answers
//! with a single grammatical word against none (`Hittestress in de versteende wijken.`), and
//! answers with none (`Stikstof.`) are read in the channel's language (see the corpus tests).

use crate::domain::Lang;

/// Frequent Dutch function words that English texts do not use; folded, sorted.
const DUTCH: &[&str] = &[
    "aan", "al", "als", "bij", "dan", "dat", "de", "deze", "die", "dit", "door", "dus", "een",
    "en", "er", "geen", "hebben", "heeft", "het", "hoe", "hun", "ik", "je", "kan", "kunnen",
    "maar", "met", "mij", "moet", "moeten", "naar", "niet", "nog", "nu", "om", "omdat", "onder",
    "ons", "onze", "ook", "op", "te", "tegen", "tot", "uit", "van", "veel", "voor", "waar", "wat",
    "wel", "wie", "wij", "worden", "wordt", "ze", "zich", "zij", "zijn", "zonder", "zou",
];

/// Frequent English function words that Dutch texts do not use; folded, sorted.
const ENGLISH: &[&str] = &[
    "about", "all", "an", "and", "are", "as", "at", "be", "because", "been", "but", "by", "can",
    "cannot", "do", "does", "for", "from", "has", "have", "how", "into", "it", "its", "more", "no",
    "not", "on", "only", "or", "our", "so", "than", "that", "the", "their", "there", "these",
    "they", "this", "to", "what", "when", "where", "which", "who", "will", "with", "without",
    "would",
];

/// The language of `text`: the one with more of its grammatical words, else `fallback`.
pub fn detect(text: &str, fallback: Lang) -> Lang {
    let (dutch, english) = evidence(text);
    match dutch.cmp(&english) {
        std::cmp::Ordering::Greater => Lang::Nl,
        std::cmp::Ordering::Less => Lang::En,
        std::cmp::Ordering::Equal => fallback,
    }
}

/// How many Dutch and how many English grammatical words `text` has.
pub(super) fn evidence(text: &str) -> (usize, usize) {
    let lists = packed();
    let mut dutch = 0;
    let mut english = 0;
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        // Every listed word is short ASCII, so a longer word needs no lowercasing to be
        // ruled out; the rare word in other letters is lowercased as Unicode says, since some
        // (`K`, the Kelvin sign) become ASCII.
        let key = if word.is_ascii() {
            pack(word.bytes().map(|b| b.to_ascii_lowercase()), word.len())
        } else {
            let lower = word.to_lowercase();
            pack(lower.bytes(), lower.len()).filter(|_| lower.is_ascii())
        };
        let Some(key) = key else { continue };
        if lists.0.binary_search(&key).is_ok() {
            dutch += 1;
        } else if lists.1.binary_search(&key).is_ok() {
            english += 1;
        }
    }
    (dutch, english)
}

/// The longest listed word has this many bytes at most, so that it fits in one number.
const PACKED: usize = 8;

/// A word of at most [`PACKED`] bytes as one number, so the lists are searched by comparing
/// numbers: detection looks up every word of every answer of a round.
fn pack(bytes: impl Iterator<Item = u8>, len: usize) -> Option<u64> {
    (len <= PACKED).then(|| bytes.fold(0u64, |n, b| (n << 8) | u64::from(b)))
}

/// [`DUTCH`] and [`ENGLISH`] packed and sorted.
fn packed() -> &'static (Vec<u64>, Vec<u64>) {
    static LISTS: std::sync::OnceLock<(Vec<u64>, Vec<u64>)> = std::sync::OnceLock::new();
    LISTS.get_or_init(|| {
        let list = |words: &[&str]| {
            let mut packed: Vec<u64> = words
                .iter()
                .map(|w| pack(w.bytes(), w.len()).expect("a listed word fits in a number"))
                .collect();
            packed.sort_unstable();
            packed
        };
        (list(DUTCH), list(ENGLISH))
    })
}

#[cfg(test)]
pub(super) const LISTS: [&[&str]; 2] = [DUTCH, ENGLISH];
