//! The idling meter: whether the answers of a round name the same issue, as plain data.
//!
//! The essay's diagnosis is the collaboration that idles (*stationair draaien*): much activity,
//! no shared issue. This module gives the group a mirror for that from the words of a blind
//! round, without judging anyone: which terms several members use ([`agreement`]), how far the
//! answers converge, and what moved between two rounds of the same step ([`changes`]).
//!
//! It is pure: no I/O, no clock, no randomness, ordered collections only, so the same input
//! always gives the same output. It writes no sentence for users either: everything is data
//! (`Serialize`) that the prompt files turn into text in the member's language.
//!
//! How a text becomes terms: its language is read from its own words (`meter/language.rs`:
//! Dutch or English, the channel's language when the text does not tell), then words are split
//! at anything that is not a letter or digit, folded like the lesson search folds them
//! ([`crate::search::words`]: lowercase, accents removed, so `coöperatie` is `cooperatie`),
//! words shorter than three letters, numbers and that language's stop words
//! (`meter/stopwords.rs`) are dropped, and what is left is stemmed with that language's
//! Snowball stemmer, so `woningen` and `woning` are one term. Terms are whole stems: `water`
//! and `waterschap` are two. A Dutch compound counts as its head when someone in the round
//! used that head on its own (`meter/compound.rs`), so `netcongestie` meets `congestie op het
//! net` while `woningbouw` does not meet `woningen`. Each term is shown as the way it was most
//! often written.

mod compound;
mod language;
mod stopwords;

pub use language::detect as detect_language;

use crate::domain::{Lang, MeterFigure};
use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use unicode_normalization::UnicodeNormalization;

/// Shorter words are grammar (`de`, `we`, `is`) far more often than subject.
const MIN_CHARS: usize = 3;
/// Longer "words" are links, hashes or keyboard noise, not language; not even Dutch compounds
/// (`arbeidsongeschiktheidsverzekering` has 33 letters) get there.
const MAX_CHARS: usize = 40;
/// A term used this often in one round is a theme of that round even if one member used it.
const THEME_MIN_USES: usize = 3;

/// From this score on, with [`REACH_FROM`], answers converge: see [`Verdict`].
pub const CONVERGING_FROM: f64 = 0.10;
/// From this reach on, with [`CONVERGING_FROM`], answers converge: see [`Verdict`].
pub const REACH_FROM: f64 = 0.5;
/// Below this score, answers are scattered: see [`Verdict`].
pub const SCATTERED_BELOW: f64 = 0.06;

/// One term: the stem it is compared by, the word to show for it, and how often it was used in
/// the text (or texts) it was drawn from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    pub stem: String,
    /// The most frequent way it was written (lowercase, accents kept; acronyms in capitals),
    /// ties broken alphabetically.
    pub display: String,
    /// Occurrences in the text(s) it was drawn from.
    pub uses: usize,
}

/// A term that at least two members used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SharedTerm {
    pub stem: String,
    pub display: String,
    /// How many members used it.
    pub members: usize,
    /// Who, in the order of the answers.
    pub names: Vec<String>,
}

/// The terms of one member's answer that nobody else used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberTerms {
    pub member: String,
    /// The language the answer was read in.
    pub lang: Lang,
    /// Most used first, then alphabetical.
    pub terms: Vec<Term>,
}

/// How a round's answers relate, read from two numbers:
/// - the score: the mean, over all ordered pairs of answers in the same language, of the share
///   of one answer's terms that the other answer also uses (|A∩B| / |A|). It is computed from
///   how many answers use each term, never pair by pair (see [`agreement`]);
/// - the reach: the mean, over the answers, of the share of the other answers that use the
///   answer's most widely used term. It tells a group that agrees from a group that splits
///   into camps: two camps that each agree closely have a fair score, but each answer meets
///   only its own camp.
///
/// The thresholds come from the meter's labelled corpus (`meter/corpus.toml`, 40 rounds in
/// Dutch and English; `cargo test --lib meter::corpus -- --nocapture` prints every round's
/// numbers). There, answers naming the same issue in their own words score 0.16–0.54 with a
/// reach of 0.67–1, the lowest scores for long answers whose elaboration dilutes the shared
/// core; answers about different issues score 0–0.04 (long ones meet on the odd word); camps
/// score 0.09–0.21 with a reach of 0.33–0.40. So:
/// - [`Verdict::Converging`] from a score of [`CONVERGING_FROM`] (0.10, about midway between
///   long unrelated answers and long agreeing ones) with a reach of at least [`REACH_FROM`]
///   (0.5: each answer's widest term is used, on average, by at least half of the others);
/// - [`Verdict::Scattered`] below a score of [`SCATTERED_BELOW`] (0.06, between unrelated
///   answers at 0.04 and the weakest camps at 0.09);
/// - [`Verdict::Mixed`] otherwise: part of the group shares an issue, or all share a little.
///
/// What the corpus shows the meter cannot see is listed there with the rounds it misses: a
/// compound that only begins with another member's word (`stikstofuitstoot`, `stikstof`),
/// answers that share a field but hardly a word, and answers that share exactly one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Converging,
    Mixed,
    Scattered,
}

impl Verdict {
    /// The verdict for a score and a reach, each in 0..=1.
    pub fn of(score: f64, reach: f64) -> Verdict {
        if score < SCATTERED_BELOW {
            Verdict::Scattered
        } else if score >= CONVERGING_FROM && reach >= REACH_FROM {
            Verdict::Converging
        } else {
            Verdict::Mixed
        }
    }

    /// A stable key for prompt files and logs.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Converging => "converging",
            Verdict::Mixed => "mixed",
            Verdict::Scattered => "scattered",
        }
    }

    /// The verdict of a [`Verdict::key`].
    pub fn from_key(key: &str) -> Option<Verdict> {
        [Verdict::Converging, Verdict::Mixed, Verdict::Scattered]
            .into_iter()
            .find(|v| v.key() == key)
    }
}

/// Why a round has no score: agreement needs two answers with something to compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unscored {
    /// No answer, or only blank ones.
    NoAnswers,
    /// Exactly one answer that is not blank.
    OneAnswer,
    /// Two or more answers, but fewer than two kept a term (only stop words, numbers, emoji).
    TooFewTerms,
    /// Two or more answers with terms, but no two in the same language: words in Dutch and
    /// words in English are not compared with each other.
    LanguagesApart,
}

/// The numbers behind a score, so the caller can explain it in the member's language.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reasoning {
    /// Answers that are not blank.
    pub answers: usize,
    /// Blank answers, ignored.
    pub blank: usize,
    /// Answers in which no term was left; they are not part of the score.
    pub without_terms: usize,
    /// Answers compared: those with at least one term and at least one other such answer in
    /// their language.
    pub compared: usize,
    /// Answers with terms that were not compared: no other answer is in their language.
    pub apart: usize,
    /// Answers with terms read as Dutch.
    pub dutch: usize,
    /// Answers with terms read as English.
    pub english: usize,
    /// Pairs of compared answers in the same language.
    pub pairs: usize,
    /// Different terms over all answers.
    pub distinct_terms: usize,
    /// Terms used by at least two members.
    pub shared_terms: usize,
    /// `shared_terms / distinct_terms`, 0 when there are no terms.
    pub shared_ratio: f64,
    /// The score, also when it is not shown (0 when there is nothing to compare).
    pub score: f64,
    /// The reach (see [`Verdict`]), 0 when there is nothing to compare.
    pub reach: f64,
    /// The most widely shared term, if any term is shared.
    pub widest_term: Option<String>,
    /// How many members used it (0 when none is shared).
    pub widest_members: usize,
}

/// Agreement of one round's answers: the idling meter for a step-1 round.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Agreement {
    /// Terms used by at least two members: most members first, then alphabetical.
    pub shared: Vec<SharedTerm>,
    /// Per member who answered, in the order of the answers: the terms only they used.
    pub unique: Vec<MemberTerms>,
    /// Convergence in 0..=1; `None` exactly when `unscored` says why.
    pub score: Option<f64>,
    /// The score read by the thresholds; `None` when there is no score.
    pub verdict: Option<Verdict>,
    pub unscored: Option<Unscored>,
    pub reasoning: Reasoning,
}

impl Agreement {
    /// What a reveal keeps of this agreement, to be repeated later as it was shown.
    pub fn figure(&self) -> MeterFigure {
        MeterFigure {
            score: self.score,
            reach: self.reasoning.reach,
            verdict: self.verdict.map(|v| v.key().to_string()),
        }
    }

    /// A plain one-line summary for tests and logs; not for members (texts live in prompts).
    pub fn summary(&self) -> String {
        let verdict = match (self.verdict, self.unscored) {
            (Some(v), _) => v.key().to_string(),
            (None, Some(u)) => format!("unscored:{u:?}"),
            (None, None) => "unscored".to_string(),
        };
        let r = &self.reasoning;
        let shared: Vec<String> = self
            .shared
            .iter()
            .map(|s| format!("{}×{}", s.display, s.members))
            .collect();
        format!(
            "{verdict} score={:.2} reach={:.2} compared={} apart={} pairs={} shared={}/{} [{}]",
            self.score.unwrap_or(0.0),
            r.reach,
            r.compared,
            r.apart,
            r.pairs,
            r.shared_terms,
            r.distinct_terms,
            shared.join(", ")
        )
    }
}

/// A member as identified across rounds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberRef {
    pub id: u64,
    pub name: String,
}

/// How one member's answer moved between two rounds: their own words only (no compound parts
/// borrowed from others' answers), so nothing shows up as their change that they did not write.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberChange {
    pub id: u64,
    /// The name in the current round.
    pub name: String,
    /// Terms in the current answer that were not in the previous one (uses: now).
    pub added: Vec<Term>,
    /// Terms in the previous answer that are gone (uses: then).
    pub dropped: Vec<Term>,
    /// Terms in both (uses: now).
    pub kept: Vec<Term>,
    /// |before∩after| / |before∪after| of the member's own terms; 1 when both have none.
    pub similarity: f64,
}

/// A theme of a round: a term that at least two members used, or that was used at least three
/// times; with its standing in both rounds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Theme {
    pub stem: String,
    pub display: String,
    pub members_before: usize,
    pub members_after: usize,
    pub uses_before: usize,
    pub uses_after: usize,
}

/// What changed between two rounds of the same step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundChange {
    /// Members who answered both rounds, by name (case-insensitive), then id.
    pub members: Vec<MemberChange>,
    /// Answered now, not before; by name, then id.
    pub joined: Vec<MemberRef>,
    /// Answered before, not now; by name, then id.
    pub left: Vec<MemberRef>,
    /// Themes now that were not themes before: most members first.
    pub new_themes: Vec<Theme>,
    /// Themes before that are no longer themes: most members (before) first.
    pub dropped_themes: Vec<Theme>,
    /// Themes in both rounds: most members (now) first.
    pub kept_themes: Vec<Theme>,
}

/// The key terms of one text in a given language: most used first, then alphabetical by
/// display form.
pub fn key_terms(text: &str, lang: Lang) -> Vec<Term> {
    let profile = Profile::of(text, lang);
    let mut terms: Vec<Term> = profile
        .uses
        .iter()
        .map(|(stem, &uses)| Term {
            stem: stem.clone(),
            display: profile.display(stem),
            uses,
        })
        .collect();
    sort_terms(&mut terms);
    terms
}

/// How far the answers of a round, `(member name, text)`, name the same issue. `channel` is
/// the language of the channel: the language of an answer whose words do not tell.
///
/// Each entry is one member, even if two share a name. Blank answers are ignored. The work
/// grows with the number of answers times their terms: shared terms, each member's own terms
/// and the score all come from one count of how many answers use each term, never from
/// comparing answers two by two.
pub fn agreement(answers: &[(String, String)], channel: Lang) -> Agreement {
    let blank = answers.iter().filter(|(_, t)| t.trim().is_empty()).count();
    let round = Round::of(
        answers
            .iter()
            .filter(|(_, t)| !t.trim().is_empty())
            .map(|(n, t)| (n.clone(), t.as_str())),
        channel,
    );
    let surfaces = round.surfaces();
    let counts = round.member_counts();

    // Who used each shared term, in one pass over the answers.
    let mut names: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for m in &round.members {
        for t in m.terms.keys() {
            if counts.get(t.as_str()).is_some_and(|&n| n >= 2) {
                names.entry(t.as_str()).or_default().push(m.name.clone());
            }
        }
    }
    let mut shared: Vec<SharedTerm> = names
        .into_iter()
        .map(|(stem, names)| SharedTerm {
            stem: stem.to_string(),
            display: surfaces.display(stem),
            members: names.len(),
            names,
        })
        .collect();
    shared.sort_by(|a, b| {
        b.members
            .cmp(&a.members)
            .then_with(|| a.display.cmp(&b.display))
            .then_with(|| a.stem.cmp(&b.stem))
    });

    let unique = round
        .members
        .iter()
        .map(|m| {
            let mut terms: Vec<Term> = m
                .terms
                .iter()
                .filter(|(s, _)| counts.get(s.as_str()) == Some(&1))
                .map(|(s, &uses)| Term {
                    stem: s.clone(),
                    display: surfaces.display(s),
                    uses,
                })
                .collect();
            sort_terms(&mut terms);
            MemberTerms {
                member: m.name.clone(),
                lang: m.lang,
                terms,
            }
        })
        .collect();

    let scoring = score(&round);
    let with_terms = round.members.iter().filter(|m| !m.terms.is_empty()).count();
    let unscored = match (round.members.len(), with_terms) {
        (0, _) => Some(Unscored::NoAnswers),
        (1, _) => Some(Unscored::OneAnswer),
        (_, 0 | 1) => Some(Unscored::TooFewTerms),
        _ if scoring.pairs == 0 => Some(Unscored::LanguagesApart),
        _ => None,
    };
    let score = unscored.is_none().then_some(scoring.score);
    let widest = shared.first();
    let in_lang = |lang: Lang| {
        round
            .members
            .iter()
            .filter(|m| m.lang == lang && !m.terms.is_empty())
            .count()
    };
    let reasoning = Reasoning {
        answers: round.members.len(),
        blank,
        without_terms: round.members.len() - with_terms,
        compared: scoring.compared,
        apart: with_terms - scoring.compared,
        dutch: in_lang(Lang::Nl),
        english: in_lang(Lang::En),
        pairs: scoring.pairs,
        distinct_terms: counts.len(),
        shared_terms: shared.len(),
        shared_ratio: ratio(shared.len(), counts.len()),
        score: scoring.score,
        reach: scoring.reach,
        widest_term: widest.map(|s| s.display.clone()),
        widest_members: widest.map_or(0, |s| s.members),
    };
    Agreement {
        shared,
        unique,
        score,
        verdict: score.map(|s| Verdict::of(s, scoring.reach)),
        unscored,
        reasoning,
    }
}

/// What changed between two rounds of the same step, answers as `(member id, name, text)`.
///
/// A member's entries within one round are read as one answer; blank answers count as not
/// answering. Themes are compared by stem; display forms come from both rounds together, so a
/// term looks the same in every list.
pub fn changes(
    previous: &[(u64, String, String)],
    current: &[(u64, String, String)],
    channel: Lang,
) -> RoundChange {
    let before = by_member(previous);
    let after = by_member(current);
    let round_before = Round::of(
        before.values().map(|(n, t)| (n.clone(), t.as_str())),
        channel,
    );
    let round_after = Round::of(
        after.values().map(|(n, t)| (n.clone(), t.as_str())),
        channel,
    );
    let mut surfaces = Surfaces::default();
    for m in round_before.members.iter().chain(&round_after.members) {
        surfaces.absorb(&m.profile);
    }

    // Where each id's answer is in its round: `by_member` gives ids in order and `Round::of`
    // keeps the order it is given.
    let position = |m: &BTreeMap<u64, (String, String)>| -> BTreeMap<u64, usize> {
        m.keys().copied().zip(0..).collect()
    };
    let index_before = position(&before);
    let index_after = position(&after);

    let mut members = Vec::new();
    let mut joined = Vec::new();
    for (&id, &i) in &index_after {
        let now = &round_after.members[i];
        let Some(&j) = index_before.get(&id) else {
            joined.push(MemberRef {
                id,
                name: now.name.clone(),
            });
            continue;
        };
        let then = &round_before.members[j];
        let term = |stem: &String, p: &Profile| Term {
            stem: stem.clone(),
            display: surfaces.display(stem),
            uses: p.uses.get(stem).copied().unwrap_or(0),
        };
        let old: BTreeSet<&String> = then.profile.uses.keys().collect();
        let new: BTreeSet<&String> = now.profile.uses.keys().collect();
        let mut added: Vec<Term> = new
            .difference(&old)
            .map(|s| term(s, &now.profile))
            .collect();
        let mut dropped: Vec<Term> = old
            .difference(&new)
            .map(|s| term(s, &then.profile))
            .collect();
        let mut kept: Vec<Term> = new
            .intersection(&old)
            .map(|s| term(s, &now.profile))
            .collect();
        sort_terms(&mut added);
        sort_terms(&mut dropped);
        sort_terms(&mut kept);
        members.push(MemberChange {
            id,
            name: now.name.clone(),
            similarity: jaccard(&old, &new).unwrap_or(1.0),
            added,
            dropped,
            kept,
        });
    }
    let mut left: Vec<MemberRef> = index_before
        .iter()
        .filter(|(id, _)| !index_after.contains_key(id))
        .map(|(&id, &j)| MemberRef {
            id,
            name: round_before.members[j].name.clone(),
        })
        .collect();
    members.sort_by(|a, b| by_name(&a.name, a.id, &b.name, b.id));
    joined.sort_by(|a, b| by_name(&a.name, a.id, &b.name, b.id));
    left.sort_by(|a, b| by_name(&a.name, a.id, &b.name, b.id));

    let themes_before = round_before.themes();
    let themes_after = round_after.themes();
    let counts_before = round_before.member_counts();
    let counts_after = round_after.member_counts();
    let uses_before = round_before.uses();
    let uses_after = round_after.uses();
    let theme = |stem: &str| Theme {
        stem: stem.to_string(),
        display: surfaces.display(stem),
        members_before: counts_before.get(stem).copied().unwrap_or(0),
        members_after: counts_after.get(stem).copied().unwrap_or(0),
        uses_before: uses_before.get(stem).copied().unwrap_or(0),
        uses_after: uses_after.get(stem).copied().unwrap_or(0),
    };
    let after_first = |a: &Theme, b: &Theme| {
        (b.members_after, b.uses_after)
            .cmp(&(a.members_after, a.uses_after))
            .then_with(|| a.display.cmp(&b.display))
            .then_with(|| a.stem.cmp(&b.stem))
    };
    let mut new_themes: Vec<Theme> = themes_after
        .difference(&themes_before)
        .map(|s| theme(s))
        .collect();
    let mut kept_themes: Vec<Theme> = themes_after
        .intersection(&themes_before)
        .map(|s| theme(s))
        .collect();
    let mut dropped_themes: Vec<Theme> = themes_before
        .difference(&themes_after)
        .map(|s| theme(s))
        .collect();
    new_themes.sort_by(after_first);
    kept_themes.sort_by(after_first);
    dropped_themes.sort_by(|a, b| {
        (b.members_before, b.uses_before)
            .cmp(&(a.members_before, a.uses_before))
            .then_with(|| a.display.cmp(&b.display))
            .then_with(|| a.stem.cmp(&b.stem))
    });

    RoundChange {
        members,
        joined,
        left,
        new_themes,
        dropped_themes,
        kept_themes,
    }
}

/// One round's non-blank answers per member id, texts of the same id joined: a member who
/// answered twice said both things. The name is the last one given.
fn by_member(answers: &[(u64, String, String)]) -> BTreeMap<u64, (String, String)> {
    let mut out: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for (id, name, text) in answers {
        if text.trim().is_empty() {
            continue;
        }
        let entry = out.entry(*id).or_default();
        entry.0 = name.clone();
        if !entry.1.is_empty() {
            entry.1.push('\n');
        }
        entry.1.push_str(text);
    }
    out
}

fn by_name(a: &str, a_id: u64, b: &str, b_id: u64) -> std::cmp::Ordering {
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
        .then_with(|| a_id.cmp(&b_id))
}

/// Most used first, then alphabetical by display form, then by stem.
fn sort_terms(terms: &mut [Term]) {
    terms.sort_by(|a, b| {
        b.uses
            .cmp(&a.uses)
            .then_with(|| a.display.cmp(&b.display))
            .then_with(|| a.stem.cmp(&b.stem))
    });
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn jaccard<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> Option<f64> {
    let union = a.union(b).count();
    (union > 0).then(|| a.intersection(b).count() as f64 / union as f64)
}

/// The terms of one text: uses per stem, how each stem was written, and the folded words it
/// stands for (where a Dutch compound is split).
#[derive(Default)]
struct Profile {
    uses: BTreeMap<String, usize>,
    surfaces: BTreeMap<String, BTreeMap<String, usize>>,
    folded: BTreeMap<String, BTreeSet<String>>,
    /// The stems of every word, stop words included (`net` in `congestie op het net`): what
    /// shows that an answer spells a compound out.
    all: BTreeSet<String>,
}

fn stemmer(lang: Lang) -> Stemmer {
    Stemmer::create(match lang {
        Lang::Nl => Algorithm::Dutch,
        Lang::En => Algorithm::English,
    })
}

/// The stem of a folded word. Snowball is written for the letters of the language; anything
/// else (a name in another script, `co2`) is kept as it is rather than fed to rules not made
/// for it.
fn stem_of(stemmer: &Stemmer, folded: &str) -> String {
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

impl Profile {
    fn of(text: &str, lang: Lang) -> Profile {
        let stemmer = stemmer(lang);
        let stop = match lang {
            Lang::Nl => stopwords::NL,
            Lang::En => stopwords::EN,
        };
        let mut profile = Profile::default();
        for (surface, folded) in words(text) {
            if folded.chars().any(char::is_alphabetic) {
                profile.all.insert(stem_of(&stemmer, &folded));
            }
            if folded.chars().count() < MIN_CHARS
                || folded.starts_with(|c: char| c.is_numeric())
                || !folded.chars().any(char::is_alphabetic)
                || stop.binary_search(&folded.as_str()).is_ok()
            {
                continue;
            }
            let stem = stem_of(&stemmer, &folded);
            *profile.uses.entry(stem.clone()).or_default() += 1;
            *profile
                .surfaces
                .entry(stem.clone())
                .or_default()
                .entry(surface)
                .or_default() += 1;
            profile.folded.entry(stem).or_default().insert(folded);
        }
        profile
    }

    fn display(&self, stem: &str) -> String {
        self.surfaces
            .get(stem)
            .map_or_else(|| stem.to_string(), most_used)
    }
}

/// How stems were written over several texts, so one display form serves them all.
#[derive(Default)]
struct Surfaces(BTreeMap<String, BTreeMap<String, usize>>);

impl Surfaces {
    fn absorb(&mut self, profile: &Profile) {
        for (stem, forms) in &profile.surfaces {
            let mine = self.0.entry(stem.clone()).or_default();
            for (form, n) in forms {
                *mine.entry(form.clone()).or_default() += n;
            }
        }
    }

    fn display(&self, stem: &str) -> String {
        self.0.get(stem).map_or_else(|| stem.to_string(), most_used)
    }
}

/// The most frequent form; on a tie the alphabetically first, since the map is ordered.
fn most_used(forms: &BTreeMap<String, usize>) -> String {
    let mut best: Option<(&String, usize)> = None;
    for (form, &n) in forms {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((form, n));
        }
    }
    best.map(|(f, _)| f.clone()).unwrap_or_default()
}

/// The words of a text as `(as written, folded)`. As written means lowercased and composed
/// (NFC), so `Netcongestie` at the start of a sentence is shown like the rest; acronyms and
/// codes (`RES`, `GGD`, `A12`) keep their capitals because lowercase would make them unreadable.
fn words(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let pieces = text.split(|c: char| {
        !(c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c))
    });
    for raw in pieces {
        if raw.is_empty() || raw.chars().count() > MAX_CHARS {
            continue;
        }
        let folded = crate::search::words(raw);
        if let [one] = folded.as_slice() {
            out.push((surface(raw), one.clone()));
        } else {
            // Folding split the word (a rare compatibility character): show the pieces as folded.
            out.extend(folded.into_iter().map(|w| (w.clone(), w)));
        }
    }
    out
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

/// One member's answer within a round.
struct Member {
    name: String,
    /// The language the answer is written in, read from its words.
    lang: Lang,
    /// Its own words, as written.
    profile: Profile,
    /// The terms it is compared by, with uses: its stems, a Dutch compound replaced by its
    /// head when someone in the round used that head on its own.
    terms: BTreeMap<String, usize>,
}

/// The non-blank answers of one round, in order.
struct Round {
    members: Vec<Member>,
}

impl Round {
    fn of<'a>(answers: impl Iterator<Item = (String, &'a str)>, channel: Lang) -> Round {
        let read: Vec<(String, Lang, Profile)> = answers
            .map(|(name, text)| {
                let lang = language::detect(text, channel);
                (name, lang, Profile::of(text, lang))
            })
            .collect();
        // The Dutch words someone used on their own: the heads a compound may be matched to.
        let dutch: BTreeSet<&str> = read
            .iter()
            .filter(|(_, lang, _)| *lang == Lang::Nl)
            .flat_map(|(_, _, p)| p.uses.keys().map(String::as_str))
            .collect();
        // Which Dutch answers use each stem, stop words included: where a compound is spelled
        // out.
        let mut spelled: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, (_, lang, p)) in read.iter().enumerate() {
            if *lang == Lang::Nl {
                for s in &p.all {
                    spelled.entry(s.as_str()).or_default().push(i);
                }
            }
        }
        let together = |a: &str, b: &str| match (spelled.get(a), spelled.get(b)) {
            (Some(x), Some(y)) => x.iter().any(|i| y.binary_search(i).is_ok()),
            _ => false,
        };
        let stemmer = stemmer(Lang::Nl);
        // The terms of each Dutch word, looked up once per round however often it is used.
        let mut split: BTreeMap<&str, Option<Vec<String>>> = BTreeMap::new();
        let mut terms: Vec<BTreeMap<String, usize>> = Vec::with_capacity(read.len());
        for (_, lang, profile) in &read {
            let mut mine = BTreeMap::new();
            for (stem, &uses) in &profile.uses {
                let mut parts = None;
                if *lang == Lang::Nl {
                    for w in profile.folded.get(stem).into_iter().flatten() {
                        parts = split
                            .entry(w.as_str())
                            .or_insert_with(|| {
                                let s = compound::split(
                                    w,
                                    |part| stem_of(&stemmer, part),
                                    |h| h != stem && dutch.contains(h),
                                )?;
                                let mut parts = vec![s.head.clone()];
                                if dutch.contains(s.modifier.as_str())
                                    && together(&s.modifier, &s.head)
                                {
                                    parts.push(s.modifier);
                                }
                                Some(parts)
                            })
                            .clone();
                        if parts.is_some() {
                            break;
                        }
                    }
                }
                for t in parts.unwrap_or_else(|| vec![stem.clone()]) {
                    *mine.entry(t).or_default() += uses;
                }
            }
            terms.push(mine);
        }
        Round {
            members: read
                .into_iter()
                .zip(terms)
                .map(|((name, lang, profile), terms)| Member {
                    name,
                    lang,
                    profile,
                    terms,
                })
                .collect(),
        }
    }

    /// How the terms of the round are shown: the most used way of writing them.
    fn surfaces(&self) -> Surfaces {
        let mut surfaces = Surfaces::default();
        for m in &self.members {
            surfaces.absorb(&m.profile);
        }
        surfaces
    }

    /// How many members used each term.
    fn member_counts(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for m in &self.members {
            for t in m.terms.keys() {
                *counts.entry(t.as_str()).or_default() += 1;
            }
        }
        counts
    }

    /// How often each term was written, over all answers.
    fn uses(&self) -> BTreeMap<&str, usize> {
        let mut uses = BTreeMap::new();
        for m in &self.members {
            for (t, n) in &m.terms {
                *uses.entry(t.as_str()).or_default() += n;
            }
        }
        uses
    }

    fn themes(&self) -> BTreeSet<String> {
        let uses = self.uses();
        self.member_counts()
            .into_iter()
            .filter(|(t, n)| *n >= 2 || uses.get(t).copied().unwrap_or(0) >= THEME_MIN_USES)
            .map(|(t, _)| t.to_string())
            .collect()
    }
}

/// What a round's score rests on.
struct Scoring {
    /// Answers with terms that have at least one other answer with terms in their language.
    compared: usize,
    /// Pairs of compared answers in the same language.
    pairs: usize,
    /// Mean over ordered pairs of compared answers of |A∩B| / |A|.
    score: f64,
    /// Mean over compared answers of the share of the others that use the answer's most widely
    /// used term.
    reach: f64,
}

/// The score and reach of a round from how many answers use each term: one pass over the
/// answers and their terms, never over pairs of answers, so a round of ten thousand answers
/// costs ten thousand times a round of one.
///
/// For an answer A among n compared answers of its language, Σ over the others B of |A∩B|
/// equals Σ over A's terms t of (n_t − 1), where n_t is how many of them use t. So the mean
/// over ordered pairs of |A∩B| / |A| — "the share of one answer's terms that another answer
/// also uses" — is a sum over answers of Σ_t (n_t − 1) / |A|, divided by the number of ordered
/// pairs. Reach needs only the largest n_t among an answer's terms.
fn score(round: &Round) -> Scoring {
    let mut by_lang: BTreeMap<Lang, Vec<&BTreeMap<String, usize>>> = BTreeMap::new();
    for m in round.members.iter().filter(|m| !m.terms.is_empty()) {
        by_lang.entry(m.lang).or_default().push(&m.terms);
    }
    let (mut compared, mut ordered_pairs) = (0usize, 0usize);
    let (mut overlap, mut reach) = (0.0, 0.0);
    for group in by_lang.values().filter(|g| g.len() >= 2) {
        let n = group.len();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for terms in group {
            for t in terms.keys() {
                *counts.entry(t.as_str()).or_default() += 1;
            }
        }
        for terms in group {
            let others: Vec<usize> = terms.keys().map(|t| counts[t.as_str()] - 1).collect();
            overlap += others.iter().sum::<usize>() as f64 / terms.len() as f64;
            reach += others.iter().copied().max().unwrap_or(0) as f64 / (n - 1) as f64;
        }
        compared += n;
        ordered_pairs += n * (n - 1);
    }
    Scoring {
        compared,
        pairs: ordered_pairs / 2,
        score: if ordered_pairs == 0 {
            0.0
        } else {
            overlap / ordered_pairs as f64
        },
        reach: if compared == 0 {
            0.0
        } else {
            reach / compared as f64
        },
    }
}

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;
