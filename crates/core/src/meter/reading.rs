//! How the texts of a round become terms with each distinct word worked out once: a reveal
//! reads thousands of answers under the academy's write lock, and answers repeat the same few
//! hundred words, so folding, composing and stemming a word again for every answer would be
//! most of the meter's work.
//!
//! A [`Lexicon`] lives for one reading (a round, or two rounds compared) and holds every string
//! it met once, by number: what a piece of text between separators yields (as written and
//! folded), and per language what a folded word is (its stem, and whether it is a term). A
//! [`Profile`] is one text in those numbers. The rules themselves are the module's parent's:
//! this only remembers their answers, so the terms are the same as reading each text alone.

use super::{stopwords, MAX_CHARS, MIN_CHARS};
use crate::domain::Lang;
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// A string of a [`Lexicon`], by number.
pub(super) type Id = u32;

/// One word of a piece of text: as written, and folded.
#[derive(Clone, Copy)]
struct Token {
    surface: Id,
    folded: Id,
}

/// What a folded word is in one language.
#[derive(Clone, Copy)]
struct Reading {
    /// Its stem, when it has a letter.
    stem: Option<Id>,
    /// Whether it is a term: long enough, not a number, not a stop word.
    term: bool,
}

/// The strings of one reading and what was worked out for each.
pub(super) struct Lexicon<'t> {
    strings: Vec<Box<str>>,
    ids: HashMap<Box<str>, Id>,
    /// Each piece of text between separators, with the range of [`Lexicon::tokens`] it yields.
    pieces: HashMap<&'t str, (u32, u32)>,
    tokens: Vec<Token>,
    /// Per string used as a folded word: its reading in Dutch and in English.
    readings: Vec<[Option<Reading>; 2]>,
    dutch: Stemmer,
    english: Stemmer,
}

fn slot(lang: Lang) -> usize {
    match lang {
        Lang::Nl => 0,
        Lang::En => 1,
    }
}

impl<'t> Lexicon<'t> {
    pub(super) fn new() -> Lexicon<'t> {
        Lexicon {
            strings: Vec::new(),
            ids: HashMap::new(),
            pieces: HashMap::new(),
            tokens: Vec::new(),
            readings: Vec::new(),
            dutch: Stemmer::create(Algorithm::Dutch),
            english: Stemmer::create(Algorithm::English),
        }
    }

    pub(super) fn str(&self, id: Id) -> &str {
        &self.strings[id as usize]
    }

    /// The number of a string met before.
    pub(super) fn id(&self, s: &str) -> Option<Id> {
        self.ids.get(s).copied()
    }

    /// How many strings there are: every [`Id`] is below it.
    pub(super) fn len(&self) -> usize {
        self.strings.len()
    }

    fn intern(&mut self, s: &str) -> Id {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = Id::try_from(self.strings.len()).expect("fewer than 2³² distinct words");
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        self.readings.push([None, None]);
        id
    }

    pub(super) fn stemmer(&self, lang: Lang) -> &Stemmer {
        match lang {
            Lang::Nl => &self.dutch,
            Lang::En => &self.english,
        }
    }

    /// The words of one piece of text between separators.
    fn piece(&mut self, raw: &'t str) -> (u32, u32) {
        if let Some(&range) = self.pieces.get(raw) {
            return range;
        }
        let start = self.tokens.len() as u32;
        for (surface, folded) in words(raw) {
            let token = Token {
                surface: self.intern(&surface),
                folded: self.intern(&folded),
            };
            self.tokens.push(token);
        }
        let range = (start, self.tokens.len() as u32 - start);
        self.pieces.insert(raw, range);
        range
    }

    fn reading(&mut self, folded: Id, lang: Lang) -> Reading {
        if let Some(r) = self.readings[folded as usize][slot(lang)] {
            return r;
        }
        let word = self.str(folded);
        let alphabetic = word.chars().any(char::is_alphabetic);
        let stop = match lang {
            Lang::Nl => stopwords::NL,
            Lang::En => stopwords::EN,
        };
        let term = alphabetic
            && word.chars().count() >= MIN_CHARS
            && !word.starts_with(|c: char| c.is_numeric())
            && stop.binary_search(&word).is_err();
        let stem = alphabetic.then(|| stem_of(self.stemmer(lang), word));
        let r = Reading {
            stem: stem.map(|s| self.intern(&s)),
            term,
        };
        self.readings[folded as usize][slot(lang)] = Some(r);
        r
    }
}

/// The stem of a folded word. Snowball is written for the letters of the language; anything
/// else (a name in another script, `co2`) is kept as it is rather than fed to rules not made
/// for it.
pub(super) fn stem_of(stemmer: &Stemmer, folded: &str) -> String {
    if folded.bytes().all(|b| b.is_ascii_lowercase()) {
        let s = stemmer.stem(folded);
        if s.is_empty() {
            folded.to_string()
        } else {
            s.into_owned()
        }
    } else {
        folded.to_string()
    }
}

/// The terms of one text, in the numbers of a [`Lexicon`]; every list sorted by number.
#[derive(Default)]
pub(super) struct Profile {
    /// Uses per stem.
    pub uses: Vec<(Id, usize)>,
    /// Uses per stem and way it was written.
    pub forms: Vec<(Id, Id, usize)>,
    /// The folded words each stem stands for (where a Dutch compound is split).
    pub folded: Vec<(Id, Id)>,
    /// The stems of every word, stop words included (`net` in `congestie op het net`): what
    /// shows that an answer spells a compound out.
    pub all: Vec<Id>,
}

impl Profile {
    pub(super) fn of<'t>(lexicon: &mut Lexicon<'t>, text: &'t str, lang: Lang) -> Profile {
        let mut all = Vec::new();
        // (stem, as written, folded) of every use of a term.
        let mut uses: Vec<(Id, Id, Id)> = Vec::new();
        let pieces = text.split(|c: char| {
            !(c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c))
        });
        for raw in pieces.filter(|p| !p.is_empty()) {
            let (start, len) = lexicon.piece(raw);
            for i in start..start + len {
                let token = lexicon.tokens[i as usize];
                let reading = lexicon.reading(token.folded, lang);
                if let Some(stem) = reading.stem {
                    all.push(stem);
                    if reading.term {
                        uses.push((stem, token.surface, token.folded));
                    }
                }
            }
        }
        all.sort_unstable();
        all.dedup();
        let mut folded: Vec<(Id, Id)> = uses.iter().map(|&(s, _, f)| (s, f)).collect();
        folded.sort_unstable();
        folded.dedup();
        uses.sort_unstable();
        let mut profile = Profile {
            all,
            folded,
            ..Profile::default()
        };
        for &(stem, form, _) in &uses {
            match profile.uses.last_mut() {
                Some((s, n)) if *s == stem => *n += 1,
                _ => profile.uses.push((stem, 1)),
            }
            match profile.forms.last_mut() {
                Some((s, f, n)) if *s == stem && *f == form => *n += 1,
                _ => profile.forms.push((stem, form, 1)),
            }
        }
        profile
    }

    /// The folded words `stem` stands for, alphabetically.
    pub(super) fn folded_of<'a>(&self, lexicon: &'a Lexicon, stem: Id) -> Vec<&'a str> {
        let from = self.folded.partition_point(|&(s, _)| s < stem);
        let mut words: Vec<&str> = self.folded[from..]
            .iter()
            .take_while(|&&(s, _)| s == stem)
            .map(|&(_, f)| lexicon.str(f))
            .collect();
        words.sort_unstable();
        words
    }
}

/// How stems were written over one or more texts, so one display form serves them all.
#[derive(Default)]
pub(super) struct Surfaces(HashMap<Id, Vec<(Id, usize)>>);

impl Surfaces {
    pub(super) fn absorb(&mut self, profile: &Profile) {
        for &(stem, form, n) in &profile.forms {
            let forms = self.0.entry(stem).or_default();
            match forms.iter_mut().find(|(f, _)| *f == form) {
                Some((_, m)) => *m += n,
                None => forms.push((form, n)),
            }
        }
    }

    /// The most frequent way `stem` was written; on a tie the alphabetically first; the stem
    /// itself when it was never written (a compound's head nobody wrote as such).
    pub(super) fn display(&self, lexicon: &Lexicon, stem: Id) -> String {
        let mut best: Option<(&str, usize)> = None;
        for &(form, n) in self.0.get(&stem).into_iter().flatten() {
            let form = lexicon.str(form);
            if best.is_none_or(|(b, m)| n > m || (n == m && form < b)) {
                best = Some((form, n));
            }
        }
        best.map_or(lexicon.str(stem), |(f, _)| f).to_string()
    }
}

/// The words of a piece of text as `(as written, folded)`. As written means lowercased and
/// composed (NFC), so `Netcongestie` at the start of a sentence is shown like the rest;
/// acronyms and codes (`RES`, `GGD`, `A12`) keep their capitals because lowercase would make
/// them unreadable.
fn words(raw: &str) -> Vec<(String, String)> {
    if raw.chars().count() > MAX_CHARS {
        return Vec::new();
    }
    let mut folded = crate::search::words(raw);
    if folded.len() == 1 {
        vec![(surface(raw), folded.pop().expect("one word"))]
    } else {
        // Folding split the word (a rare compatibility character): show the pieces as folded.
        folded.into_iter().map(|w| (w.clone(), w)).collect()
    }
}

fn surface(raw: &str) -> String {
    let composed: String = raw.nfc().collect();
    let acronym = composed.chars().count() >= 2
        && composed.chars().any(char::is_alphabetic)
        && composed
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(char::is_uppercase);
    if acronym {
        composed
    } else {
        composed.to_lowercase()
    }
}
