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
//! How a text becomes terms: words are split at anything that is not a letter or digit, folded
//! like the lesson search folds them ([`crate::search::words`]: lowercase, accents removed, so
//! `coöperatie` is `cooperatie`), words shorter than three letters, numbers and stop words
//! (`meter/stopwords.rs`) are dropped, and what is left is stemmed with Snowball (Dutch or English), so
//! `woningen` and `woning` are one term. Each term is shown as the way it was most often
//! written. Within a Dutch round, a compound also counts as the words it starts or ends with
//! when someone used those on their own, so `netcongestie` meets `congestie op het net`.

mod stopwords;

use crate::domain::Lang;
use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use unicode_normalization::UnicodeNormalization;

/// Shorter words are grammar (`de`, `we`, `is`) far more often than subject.
const MIN_CHARS: usize = 3;
/// Longer "words" are links, hashes or keyboard noise, not language; not even Dutch compounds
/// (`arbeidsongeschiktheidsverzekering` has 33 letters) get there.
const MAX_CHARS: usize = 40;
/// A Dutch compound counts as using a word it starts or ends with only when that word has at
/// least this many letters (after stemming): `woning` in `woningbouw`, `congesti` in
/// `netcongestie`, but not `net` in `netwerk`.
const MIN_PART_CHARS: usize = 5;
/// A term used this often in one round is a theme of that round even if one member used it.
const THEME_MIN_USES: usize = 3;

/// From this score on, answers converge: see [`Verdict`].
pub const CONVERGING_FROM: f64 = 0.2;
/// Below this score, answers are scattered: see [`Verdict`].
pub const SCATTERED_BELOW: f64 = 0.1;

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
    /// Most used first, then alphabetical.
    pub terms: Vec<Term>,
}

/// How a round's answers relate, read from the score.
///
/// The score is the mean, over all pairs of members, of the share of the shorter answer's terms
/// that the other answer also uses (the overlap coefficient |A∩B| / min(|A|,|B|)). The shorter
/// answer sets the scale so that a one-line answer naming the issue agrees fully with a long one
/// that names it too; the mean over pairs keeps the score comparable between 2 and 20 members.
///
/// The thresholds come from answers written like real ones (the fixtures in the tests): answers
/// about different issues share 0–0.06 of their terms, a little more when they are long, since
/// long answers meet on the odd general word (`gemeente`, `wachtlijst`); answers naming the
/// same issue in their own words share 0.25–0.5, the lower end for answers of 200–300 words
/// whose elaboration dilutes the shared core. So:
/// - [`Verdict::Converging`] from [`CONVERGING_FROM`] (0.2): on average two members share at
///   least one in five of the shorter answer's terms;
/// - [`Verdict::Scattered`] below [`SCATTERED_BELOW`] (0.1): fewer than one in ten, about what
///   unrelated answers share by chance;
/// - [`Verdict::Mixed`] in between: part of the group shares an issue (two camps score about
///   0.18), or all answers share a field but not an issue (housing: 0.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Converging,
    Mixed,
    Scattered,
}

impl Verdict {
    /// The verdict for a score in 0..=1.
    pub fn of(score: f64) -> Verdict {
        if score >= CONVERGING_FROM {
            Verdict::Converging
        } else if score < SCATTERED_BELOW {
            Verdict::Scattered
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
    /// Answers compared: those with at least one term.
    pub compared: usize,
    /// Pairs of compared answers: `compared × (compared − 1) / 2`.
    pub pairs: usize,
    /// Pairs with at least one term in common.
    pub pairs_with_common_terms: usize,
    /// Different terms over all answers.
    pub distinct_terms: usize,
    /// Terms used by at least two members.
    pub shared_terms: usize,
    /// `shared_terms / distinct_terms`, 0 when there are no terms.
    pub shared_ratio: f64,
    /// Mean over pairs of |A∩B| / min(|A|,|B|): the score, 0 when there are no pairs.
    pub mean_overlap: f64,
    /// Mean over pairs of |A∩B| / |A∪B|, for comparison; lower for long answers.
    pub mean_jaccard: f64,
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
            "{verdict} score={:.2} compared={} pairs={}/{} shared={}/{} jaccard={:.2} [{}]",
            self.score.unwrap_or(0.0),
            r.compared,
            r.pairs_with_common_terms,
            r.pairs,
            r.shared_terms,
            r.distinct_terms,
            r.mean_jaccard,
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
    /// The agreement scores of each round, as [`agreement`] gives them.
    pub score_before: Option<f64>,
    pub score_after: Option<f64>,
    pub verdict_before: Option<Verdict>,
    pub verdict_after: Option<Verdict>,
}

/// The key terms of one text: most used first, then alphabetical by display form.
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

/// How far the answers of a round, `(member name, text)`, name the same issue.
///
/// Each entry is one member, even if two share a name. Blank answers are ignored.
pub fn agreement(answers: &[(String, String)], lang: Lang) -> Agreement {
    let blank = answers.iter().filter(|(_, t)| t.trim().is_empty()).count();
    let round = Round::of(
        answers
            .iter()
            .filter(|(_, t)| !t.trim().is_empty())
            .map(|(n, t)| (n.clone(), t.as_str())),
        lang,
    );
    let mut surfaces = Surfaces::default();
    for m in &round.members {
        surfaces.absorb(&m.profile);
    }
    let counts = round.member_counts();

    let mut shared: Vec<SharedTerm> = counts
        .iter()
        .filter(|(_, &n)| n >= 2)
        .map(|(stem, &n)| SharedTerm {
            stem: (*stem).to_string(),
            display: surfaces.display(stem),
            members: n,
            names: round
                .members
                .iter()
                .filter(|m| m.terms.contains(*stem))
                .map(|m| m.name.clone())
                .collect(),
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
                .filter(|s| counts.get(s.as_str()) == Some(&1))
                .map(|s| Term {
                    stem: s.clone(),
                    display: surfaces.display(s),
                    uses: m.profile.uses.get(s).copied().unwrap_or(0),
                })
                .collect();
            sort_terms(&mut terms);
            MemberTerms {
                member: m.name.clone(),
                terms,
            }
        })
        .collect();

    let pairs = round.pairs();
    let compared = round.members.iter().filter(|m| !m.terms.is_empty()).count();
    let unscored = match (round.members.len(), compared) {
        (0, _) => Some(Unscored::NoAnswers),
        (1, _) => Some(Unscored::OneAnswer),
        (_, 0 | 1) => Some(Unscored::TooFewTerms),
        _ => None,
    };
    let score = unscored.is_none().then_some(pairs.mean_overlap);
    let widest = shared.first();
    let reasoning = Reasoning {
        answers: round.members.len(),
        blank,
        without_terms: round.members.len() - compared,
        compared,
        pairs: pairs.pairs,
        pairs_with_common_terms: pairs.with_common,
        distinct_terms: counts.len(),
        shared_terms: shared.len(),
        shared_ratio: ratio(shared.len(), counts.len()),
        mean_overlap: pairs.mean_overlap,
        mean_jaccard: pairs.mean_jaccard,
        widest_term: widest.map(|s| s.display.clone()),
        widest_members: widest.map_or(0, |s| s.members),
    };
    Agreement {
        shared,
        unique,
        score,
        verdict: score.map(Verdict::of),
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
    lang: Lang,
) -> RoundChange {
    let before = by_member(previous);
    let after = by_member(current);
    let pairs = |m: &BTreeMap<u64, (String, String)>| -> Vec<(String, String)> {
        m.values().cloned().collect()
    };
    let agreement_before = agreement(&pairs(&before), lang);
    let agreement_after = agreement(&pairs(&after), lang);

    let round_before = Round::of(before.values().map(|(n, t)| (n.clone(), t.as_str())), lang);
    let round_after = Round::of(after.values().map(|(n, t)| (n.clone(), t.as_str())), lang);
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
        score_before: agreement_before.score,
        score_after: agreement_after.score,
        verdict_before: agreement_before.verdict,
        verdict_after: agreement_after.verdict,
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

/// The terms of one text: uses per stem, and how each stem was written.
#[derive(Default)]
struct Profile {
    uses: BTreeMap<String, usize>,
    surfaces: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Profile {
    fn of(text: &str, lang: Lang) -> Profile {
        let stemmer = Stemmer::create(match lang {
            Lang::Nl => Algorithm::Dutch,
            Lang::En => Algorithm::English,
        });
        let stop = match lang {
            Lang::Nl => stopwords::NL,
            Lang::En => stopwords::EN,
        };
        let mut profile = Profile::default();
        for (surface, folded) in words(text) {
            if folded.chars().count() < MIN_CHARS
                || folded.starts_with(|c: char| c.is_numeric())
                || !folded.chars().any(char::is_alphabetic)
                || stop.binary_search(&folded.as_str()).is_ok()
            {
                continue;
            }
            // Snowball is written for the letters of the language; anything else (a name in
            // another script, `co2`) is kept as it is rather than fed to rules not made for it.
            let stem = if folded.bytes().all(|b| b.is_ascii_lowercase()) {
                let s = stemmer.stem(&folded);
                if s.is_empty() {
                    folded.clone()
                } else {
                    s.into_owned()
                }
            } else {
                folded.clone()
            };
            *profile.uses.entry(stem.clone()).or_default() += 1;
            *profile
                .surfaces
                .entry(stem)
                .or_default()
                .entry(surface)
                .or_default() += 1;
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
    profile: Profile,
    /// The stems the answer uses, with (Dutch) the words its compounds are made of.
    terms: BTreeSet<String>,
}

/// The non-blank answers of one round, in order.
struct Round {
    members: Vec<Member>,
}

/// The pairwise comparison of a round's answers that have terms.
struct Pairs {
    pairs: usize,
    with_common: usize,
    mean_overlap: f64,
    mean_jaccard: f64,
}

impl Round {
    fn of<'a>(answers: impl Iterator<Item = (String, &'a str)>, lang: Lang) -> Round {
        let profiles: Vec<(String, Profile)> = answers
            .map(|(name, text)| (name, Profile::of(text, lang)))
            .collect();
        let vocabulary: BTreeSet<&str> = profiles
            .iter()
            .flat_map(|(_, p)| p.uses.keys().map(String::as_str))
            .collect();
        // Dutch writes compounds as one word, so `netcongestie` and `congestie op het net`
        // name the same thing but share no word. A compound also counts as the words it starts
        // or ends with, when someone in the round used those on their own. English writes
        // `grid congestion` as two words and needs no such help.
        let parts = |stem: &str| -> Vec<String> {
            if lang != Lang::Nl {
                return Vec::new();
            }
            let bounds: Vec<usize> = stem.char_indices().map(|(i, _)| i).collect();
            let n = bounds.len();
            let mut found = Vec::new();
            for (k, &b) in bounds.iter().enumerate().skip(1) {
                let (head, tail) = stem.split_at(b);
                if k >= MIN_PART_CHARS && vocabulary.contains(head) {
                    found.push(head.to_string());
                }
                if n - k >= MIN_PART_CHARS && vocabulary.contains(tail) {
                    found.push(tail.to_string());
                }
            }
            found
        };
        let members = profiles
            .iter()
            .map(|(name, profile)| {
                let mut terms: BTreeSet<String> = profile.uses.keys().cloned().collect();
                for stem in profile.uses.keys() {
                    terms.extend(parts(stem));
                }
                (name.clone(), terms)
            })
            .collect::<Vec<_>>();
        Round {
            members: members
                .into_iter()
                .zip(profiles)
                .map(|((name, terms), (_, profile))| Member {
                    name,
                    profile,
                    terms,
                })
                .collect(),
        }
    }

    /// How many members used each term.
    fn member_counts(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for m in &self.members {
            for t in &m.terms {
                *counts.entry(t.as_str()).or_default() += 1;
            }
        }
        counts
    }

    /// How often each term was written, over all answers.
    fn uses(&self) -> BTreeMap<&str, usize> {
        let mut uses = BTreeMap::new();
        for m in &self.members {
            for (t, n) in &m.profile.uses {
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

    fn pairs(&self) -> Pairs {
        let sets: Vec<&BTreeSet<String>> = self
            .members
            .iter()
            .map(|m| &m.terms)
            .filter(|t| !t.is_empty())
            .collect();
        let (mut pairs, mut with_common) = (0, 0);
        let (mut overlap, mut jaccard_sum) = (0.0, 0.0);
        for (i, a) in sets.iter().enumerate() {
            for b in &sets[i + 1..] {
                let common = a.intersection(b).count();
                pairs += 1;
                if common > 0 {
                    with_common += 1;
                }
                overlap += common as f64 / a.len().min(b.len()) as f64;
                jaccard_sum += jaccard(a, b).unwrap_or(0.0);
            }
        }
        let mean = |sum: f64| if pairs == 0 { 0.0 } else { sum / pairs as f64 };
        Pairs {
            pairs,
            with_common,
            mean_overlap: mean(overlap),
            mean_jaccard: mean(jaccard_sum),
        }
    }
}

#[cfg(test)]
mod tests;
