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
mod reading;
mod stopwords;

pub use language::detect as detect_language;

use crate::domain::{Lang, MeterFigure};
use reading::{stem_of, Id, Lexicon, Profile, Surfaces};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    /// Different terms over the compared answers (over all when none could be compared).
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
    /// Per member who answered, in the order of the answers: the terms only they used (none
    /// for an answer that was not compared, the only one in its language).
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
    let mut lexicon = Lexicon::new();
    let profile = Profile::of(&mut lexicon, text, lang);
    let mut surfaces = Surfaces::default();
    surfaces.absorb(&profile);
    let mut terms: Vec<Term> = profile
        .uses
        .iter()
        .map(|&(stem, uses)| Term {
            stem: lexicon.str(stem).to_string(),
            display: surfaces.display(&lexicon, stem),
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
/// comparing answers two by two; and each distinct word is folded and stemmed once per round.
pub fn agreement(answers: &[(String, String)], channel: Lang) -> Agreement {
    let blank = answers.iter().filter(|(_, t)| t.trim().is_empty()).count();
    let mut lexicon = Lexicon::new();
    let round = Round::of_named(&mut lexicon, answers, channel);
    agree(&lexicon, &round, blank)
}

/// What a reveal shows of a round, answers as `(member id, name, text)`: their [`agreement`]
/// (each entry one member, as there) and, given the answers of the previous round of the same
/// step, the [`changes`] since. The results are those of the two functions; the difference is
/// that each answer of the round is read once for both, which is most of the work.
pub fn reveal(
    current: &[(u64, String, String)],
    previous: Option<&[(u64, String, String)]>,
    channel: Lang,
) -> (Agreement, Option<RoundChange>) {
    let blank = current
        .iter()
        .filter(|(_, _, t)| t.trim().is_empty())
        .count();
    let answered = || current.iter().filter(|(_, _, t)| !t.trim().is_empty());
    // The change report reads a member's entries as one answer: when no member has two, its
    // round is the agreement's, in another order.
    let ids: BTreeSet<u64> = answered().map(|(id, _, _)| *id).collect();
    let distinct = ids.len() == answered().count();
    let before = previous.map(by_member);
    let joined = previous.filter(|_| !distinct).map(|_| by_member(current));
    let mut lexicon = Lexicon::new();
    let round = Round::of(
        &mut lexicon,
        answered().map(|(_, n, t)| (n.clone(), t.as_str())),
        channel,
    );
    let changes = before.as_ref().map(|before| {
        let round_before = Round::of(
            &mut lexicon,
            before.values().map(|(n, t)| (n.clone(), t.as_str())),
            channel,
        );
        let index_before = positions(before.keys().copied());
        match &joined {
            None => {
                let index = answered().map(|(id, _, _)| *id).zip(0..).collect();
                compare(&lexicon, (&round_before, &index_before), (&round, &index))
            }
            Some(after) => {
                let round_after = Round::of(
                    &mut lexicon,
                    after.values().map(|(n, t)| (n.clone(), t.as_str())),
                    channel,
                );
                let index_after = positions(after.keys().copied());
                compare(
                    &lexicon,
                    (&round_before, &index_before),
                    (&round_after, &index_after),
                )
            }
        }
    });
    (agree(&lexicon, &round, blank), changes)
}

/// Where each member id's answer is in a round read in the order of `ids`.
fn positions(ids: impl Iterator<Item = u64>) -> BTreeMap<u64, usize> {
    ids.zip(0..).collect()
}

/// The agreement of a round read with `lexicon`, with `blank` answers left out of it.
fn agree(lexicon: &Lexicon, round: &Round, blank: usize) -> Agreement {
    let surfaces = round.surfaces();
    // Words are compared only within a language with two answers or more: an answer with no
    // other in its language shares nothing and is not "alone" in anything, so its words count
    // neither as shared, nor as used by one participant, nor among the key terms. When no
    // language has two, nothing is compared and every answer's words are kept for the lists.
    let mut per_lang: BTreeMap<Lang, usize> = BTreeMap::new();
    for m in round.members.iter().filter(|m| !m.terms.is_empty()) {
        *per_lang.entry(m.lang).or_default() += 1;
    }
    let nothing_compared = per_lang.values().all(|&n| n < 2);
    let in_scope = |m: &Member| nothing_compared || per_lang.get(&m.lang).is_some_and(|&n| n >= 2);
    let counts = round.member_counts(lexicon.len(), in_scope);
    // A word is shared, or one participant's own, within its language: "water" in a Dutch and
    // in an English answer was not compared between them.
    let counts_in: BTreeMap<Lang, Vec<usize>> = per_lang
        .keys()
        .map(|&lang| {
            let counted = |m: &Member| m.lang == lang && in_scope(m);
            (lang, round.member_counts(lexicon.len(), counted))
        })
        .collect();
    let count = |m: &Member, t: Id| counts_in.get(&m.lang).map_or(0, |c| c[t as usize]);

    // Who used each shared term, in one pass over the answers.
    let mut names: HashMap<Id, Vec<String>> = HashMap::new();
    for m in round.members.iter().filter(|m| in_scope(m)) {
        for &(t, _) in &m.terms {
            if count(m, t) >= 2 {
                names.entry(t).or_default().push(m.name.clone());
            }
        }
    }
    let mut shared: Vec<SharedTerm> = names
        .into_iter()
        .map(|(stem, names)| SharedTerm {
            stem: lexicon.str(stem).to_string(),
            display: surfaces.display(lexicon, stem),
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

    // One participant's own: the only one in scope who used the stem, and no one else wrote it
    // alike in the other language either. Words are compared within a language only, but a
    // word written the same in both (a name: "Linge", "Enexis") is used by each who wrote it,
    // so it is nobody's own and the list does not name it twice. Counted per stem, not per
    // occurrence, so this costs the number of distinct terms.
    let mut writers: HashMap<String, usize> = HashMap::new();
    let display = |t: usize| surfaces.display(lexicon, t as Id).to_lowercase();
    for (t, &n) in counts.iter().enumerate().filter(|&(_, &n)| n > 0) {
        *writers.entry(display(t)).or_default() += n;
    }
    let own: Vec<bool> = counts
        .iter()
        .enumerate()
        .map(|(t, &n)| n == 1 && writers.get(&display(t)) == Some(&1))
        .collect();
    let unique = round
        .members
        .iter()
        .map(|m| {
            let mut terms: Vec<Term> = m
                .terms
                .iter()
                .filter(|_| in_scope(m))
                .filter(|&&(t, _)| own[t as usize])
                .map(|&(t, uses)| Term {
                    stem: lexicon.str(t).to_string(),
                    display: surfaces.display(lexicon, t),
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

    let scoring = score(round, lexicon.len());
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
    let distinct_terms = counts.iter().filter(|&&n| n > 0).count();
    let reasoning = Reasoning {
        answers: round.members.len(),
        blank,
        without_terms: round.members.len() - with_terms,
        compared: scoring.compared,
        apart: with_terms - scoring.compared,
        dutch: in_lang(Lang::Nl),
        english: in_lang(Lang::En),
        pairs: scoring.pairs,
        distinct_terms,
        shared_terms: shared.len(),
        shared_ratio: ratio(shared.len(), distinct_terms),
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
    // One lexicon for both rounds: a word both rounds use is worked out once.
    let mut lexicon = Lexicon::new();
    let round_before = Round::of(
        &mut lexicon,
        before.values().map(|(n, t)| (n.clone(), t.as_str())),
        channel,
    );
    let round_after = Round::of(
        &mut lexicon,
        after.values().map(|(n, t)| (n.clone(), t.as_str())),
        channel,
    );
    // `by_member` gives ids in order and `Round::of` keeps the order it is given.
    let index_before = positions(before.keys().copied());
    let index_after = positions(after.keys().copied());
    compare(
        &lexicon,
        (&round_before, &index_before),
        (&round_after, &index_after),
    )
}

/// What changed between two rounds read with `lexicon`, each with where each member id's
/// answer is in it.
fn compare(
    lexicon: &Lexicon,
    (round_before, index_before): (&Round, &BTreeMap<u64, usize>),
    (round_after, index_after): (&Round, &BTreeMap<u64, usize>),
) -> RoundChange {
    let mut surfaces = Surfaces::default();
    for m in round_before.members.iter().chain(&round_after.members) {
        surfaces.absorb(&m.profile);
    }

    let mut members = Vec::new();
    let mut joined = Vec::new();
    for (&id, &i) in index_after {
        let now = &round_after.members[i];
        let Some(&j) = index_before.get(&id) else {
            joined.push(MemberRef {
                id,
                name: now.name.clone(),
            });
            continue;
        };
        let then = &round_before.members[j];
        let term = |(stem, uses): (Id, usize)| Term {
            stem: lexicon.str(stem).to_string(),
            display: surfaces.display(lexicon, stem),
            uses,
        };
        // Both lists are sorted by stem: one walk over them finds what was added, dropped and
        // kept.
        let (old, new) = (&then.profile.uses, &now.profile.uses);
        let (mut added, mut dropped, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        let (mut a, mut b) = (0, 0);
        while a < old.len() || b < new.len() {
            match (old.get(a), new.get(b)) {
                (Some(&o), Some(&n)) if o.0 == n.0 => {
                    kept.push(term(n));
                    a += 1;
                    b += 1;
                }
                (Some(&o), Some(&n)) if o.0 < n.0 => {
                    dropped.push(term(o));
                    a += 1;
                }
                (Some(&o), None) => {
                    dropped.push(term(o));
                    a += 1;
                }
                (_, Some(&n)) => {
                    added.push(term(n));
                    b += 1;
                }
                (None, None) => unreachable!("the loop runs while one list has more"),
            }
        }
        let union = old.len() + new.len() - kept.len();
        let similarity = if union == 0 {
            1.0
        } else {
            kept.len() as f64 / union as f64
        };
        sort_terms(&mut added);
        sort_terms(&mut dropped);
        sort_terms(&mut kept);
        members.push(MemberChange {
            id,
            name: now.name.clone(),
            similarity,
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

    let n = lexicon.len();
    let (counts_before, uses_before) = (
        round_before.member_counts(n, |_| true),
        round_before.uses(n),
    );
    let (counts_after, uses_after) = (round_after.member_counts(n, |_| true), round_after.uses(n));
    let theme = |t: usize| Theme {
        stem: lexicon.str(t as Id).to_string(),
        display: surfaces.display(lexicon, t as Id),
        members_before: counts_before[t],
        members_after: counts_after[t],
        uses_before: uses_before[t],
        uses_after: uses_after[t],
    };
    let (mut new_themes, mut kept_themes, mut dropped_themes) =
        (Vec::new(), Vec::new(), Vec::new());
    for t in 0..n {
        let then = counts_before[t] >= 2 || uses_before[t] >= THEME_MIN_USES;
        let now = counts_after[t] >= 2 || uses_after[t] >= THEME_MIN_USES;
        match (then, now) {
            (false, true) => new_themes.push(theme(t)),
            (true, true) => kept_themes.push(theme(t)),
            (true, false) => dropped_themes.push(theme(t)),
            (false, false) => {}
        }
    }
    let after_first = |a: &Theme, b: &Theme| {
        (b.members_after, b.uses_after)
            .cmp(&(a.members_after, a.uses_after))
            .then_with(|| a.display.cmp(&b.display))
            .then_with(|| a.stem.cmp(&b.stem))
    };
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

/// One member's answer within a round.
struct Member {
    name: String,
    /// The language the answer is written in, read from its words.
    lang: Lang,
    /// Its own words, as written.
    profile: Profile,
    /// The terms it is compared by, with uses, sorted by stem: its stems, a Dutch compound
    /// replaced by its head when someone in the round used that head on its own.
    terms: Vec<(Id, usize)>,
}

/// The non-blank answers of one round, in order.
struct Round {
    members: Vec<Member>,
}

impl Round {
    /// The non-blank answers of `(member name, text)`, read in order.
    fn of_named<'t>(
        lexicon: &mut Lexicon<'t>,
        answers: &'t [(String, String)],
        channel: Lang,
    ) -> Round {
        Round::of(
            lexicon,
            answers
                .iter()
                .filter(|(_, t)| !t.trim().is_empty())
                .map(|(n, t)| (n.clone(), t.as_str())),
            channel,
        )
    }

    fn of<'t>(
        lexicon: &mut Lexicon<'t>,
        answers: impl Iterator<Item = (String, &'t str)>,
        channel: Lang,
    ) -> Round {
        let read: Vec<(String, Lang, Profile)> = answers
            .map(|(name, text)| {
                let lang = language::detect(text, channel);
                let profile = Profile::of(lexicon, text, lang);
                (name, lang, profile)
            })
            .collect();
        let lexicon: &Lexicon = lexicon;
        let n = lexicon.len();
        // The Dutch words someone used on their own: the heads a compound may be matched to.
        let mut dutch = vec![false; n];
        // Which Dutch answers use each stem, stop words included: where a compound is spelled
        // out.
        let mut spelled: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, (_, lang, p)) in read.iter().enumerate() {
            if *lang == Lang::Nl {
                for &(s, _) in &p.uses {
                    dutch[s as usize] = true;
                }
                for &s in &p.all {
                    spelled[s as usize].push(i as u32);
                }
            }
        }
        let is_dutch = |s: &str| lexicon.id(s).filter(|&id| dutch[id as usize]);
        let together = |a: Id, b: Id| {
            let (x, y) = (&spelled[a as usize], &spelled[b as usize]);
            x.iter().any(|i| y.binary_search(i).is_ok())
        };
        let stemmer = lexicon.stemmer(Lang::Nl);
        // The terms of each Dutch word, looked up once per round however often it is used.
        let mut split: HashMap<&str, Option<Vec<Id>>> = HashMap::new();
        let mut terms: Vec<Vec<(Id, usize)>> = Vec::with_capacity(read.len());
        for (_, lang, profile) in &read {
            let mut mine: Vec<(Id, usize)> = Vec::with_capacity(profile.uses.len());
            for &(stem, uses) in &profile.uses {
                let mut parts = None;
                if *lang == Lang::Nl {
                    for w in profile.folded_of(lexicon, stem) {
                        parts = split
                            .entry(w)
                            .or_insert_with(|| {
                                let own = lexicon.str(stem);
                                let s = compound::split(
                                    w,
                                    |part| stem_of(stemmer, part),
                                    |h| h != own && is_dutch(h).is_some(),
                                )?;
                                let head = is_dutch(&s.head)?;
                                let mut parts = vec![head];
                                if let Some(modifier) = is_dutch(&s.modifier) {
                                    if together(modifier, head) {
                                        parts.push(modifier);
                                    }
                                }
                                Some(parts)
                            })
                            .clone();
                        if parts.is_some() {
                            break;
                        }
                    }
                }
                match parts {
                    Some(parts) => mine.extend(parts.into_iter().map(|t| (t, uses))),
                    None => mine.push((stem, uses)),
                }
            }
            mine.sort_unstable();
            let mut merged: Vec<(Id, usize)> = Vec::with_capacity(mine.len());
            for (t, uses) in mine {
                match merged.last_mut() {
                    Some((last, n)) if *last == t => *n += uses,
                    _ => merged.push((t, uses)),
                }
            }
            terms.push(merged);
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

    /// How many of the members `counted` used each term, by term; `n` is the lexicon's size.
    fn member_counts(&self, n: usize, counted: impl Fn(&Member) -> bool) -> Vec<usize> {
        let mut counts = vec![0; n];
        for m in self.members.iter().filter(|m| counted(m)) {
            for &(t, _) in &m.terms {
                counts[t as usize] += 1;
            }
        }
        counts
    }

    /// How often each term was written over all answers, by term; `n` is the lexicon's size.
    fn uses(&self, n: usize) -> Vec<usize> {
        let mut uses = vec![0; n];
        for m in &self.members {
            for &(t, k) in &m.terms {
                uses[t as usize] += k;
            }
        }
        uses
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
/// costs ten thousand times a round of one. `n` is the lexicon's size.
///
/// For an answer A among n compared answers of its language, Σ over the others B of |A∩B|
/// equals Σ over A's terms t of (n_t − 1), where n_t is how many of them use t. So the mean
/// over ordered pairs of |A∩B| / |A| — "the share of one answer's terms that another answer
/// also uses" — is a sum over answers of Σ_t (n_t − 1) / |A|, divided by the number of ordered
/// pairs. Reach needs only the largest n_t among an answer's terms.
fn score(round: &Round, n: usize) -> Scoring {
    let mut by_lang: BTreeMap<Lang, Vec<&[(Id, usize)]>> = BTreeMap::new();
    for m in round.members.iter().filter(|m| !m.terms.is_empty()) {
        by_lang.entry(m.lang).or_default().push(&m.terms);
    }
    let (mut compared, mut ordered_pairs) = (0usize, 0usize);
    let (mut overlap, mut reach) = (0.0, 0.0);
    let mut counts = vec![0usize; n];
    for group in by_lang.values().filter(|g| g.len() >= 2) {
        let n = group.len();
        for terms in group {
            for &(t, _) in *terms {
                counts[t as usize] += 1;
            }
        }
        for terms in group {
            let (mut sum, mut widest) = (0usize, 0usize);
            for &(t, _) in *terms {
                let others = counts[t as usize] - 1;
                sum += others;
                widest = widest.max(others);
            }
            overlap += sum as f64 / terms.len() as f64;
            reach += widest as f64 / (n - 1) as f64;
        }
        // The next language counts from zero.
        for terms in group {
            for &(t, _) in *terms {
                counts[t as usize] = 0;
            }
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
