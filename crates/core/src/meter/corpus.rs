//! The meter against its labelled corpus (`corpus.toml`): every round classified, every label
//! asserted, the accuracy printed (`cargo test --lib meter::corpus -- --nocapture`).

use super::agreement;
use crate::domain::Lang;
use serde::Deserialize;

const CORPUS: &str = include_str!("corpus.toml");

#[derive(Deserialize)]
struct Corpus {
    round: Vec<Round>,
}

#[derive(Deserialize)]
struct Round {
    id: String,
    lang: String,
    label: String,
    #[serde(default)]
    tags: Vec<String>,
    why: String,
    /// The verdict the meter gives instead of `label`, for a known miss.
    meter: Option<String>,
    /// Why the meter misses this round.
    miss: Option<String>,
    answers: Vec<Entry>,
}

/// An answer: `[name, text]` in the channel's language, or a table that names its language.
#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Plain(String, String),
    Other {
        name: String,
        lang: String,
        text: String,
    },
}

fn lang(key: &str) -> Lang {
    match key {
        "nl" => Lang::Nl,
        "en" => Lang::En,
        other => panic!("unknown language {other}"),
    }
}

fn corpus() -> Vec<Round> {
    toml::from_str::<Corpus>(CORPUS).expect("corpus.toml").round
}

impl Round {
    fn answers(&self) -> Vec<(String, String)> {
        self.answers
            .iter()
            .map(|e| match e {
                Entry::Plain(n, t)
                | Entry::Other {
                    name: n, text: t, ..
                } => (n.clone(), t.clone()),
            })
            .collect()
    }
}

#[test]
fn the_corpus_is_large_and_varied_enough_to_judge_the_meter() {
    let rounds = corpus();
    assert!(rounds.len() >= 30, "{} rounds", rounds.len());
    let mut ids = std::collections::BTreeSet::new();
    for r in &rounds {
        assert!(ids.insert(r.id.as_str()), "{} twice", r.id);
        assert!(!r.why.is_empty(), "{} says why", r.id);
        assert_eq!(
            r.meter.is_some(),
            r.miss.is_some(),
            "{}: a miss says why",
            r.id
        );
        assert_ne!(r.meter.as_ref(), Some(&r.label), "{}", r.id);
        lang(&r.lang);
        for e in &r.answers {
            if let Entry::Other { lang: l, .. } = e {
                assert_ne!(lang(l), lang(&r.lang), "{}: only the other language", r.id);
            }
        }
    }
    let count = |f: &dyn Fn(&Round) -> bool| rounds.iter().filter(|r| f(r)).count();
    for label in ["converging", "mixed", "scattered", "too_little"] {
        for l in ["nl", "en"] {
            let n = count(&|r| r.label == label && r.lang == l);
            assert!(n >= 1, "no {l} round labelled {label}");
        }
    }
    for tag in ["compound", "near-prefix", "language", "long", "issue"] {
        assert!(count(&|r| r.tags.iter().any(|t| t == tag)) >= 2, "{tag}");
    }
}

#[test]
fn the_meter_classifies_every_round_of_the_corpus_as_labelled() {
    let rounds = corpus();
    let mut wrong = Vec::new();
    let mut right = 0;
    println!(
        "{:<38} {:<11} {:<11} score reach",
        "round", "label", "meter"
    );
    for r in &rounds {
        let a = agreement(&r.answers(), lang(&r.lang));
        let got = match (a.verdict, a.unscored) {
            (Some(v), _) => v.key(),
            (None, _) => "too_little",
        };
        let numbers = match a.score {
            Some(s) => format!("{s:.3} {:.3}", a.reasoning.reach),
            None => "-".to_string(),
        };
        let mark = match &r.meter {
            _ if got == r.label => "",
            Some(m) if m == got => "  (known miss)",
            _ => "  ← wrong",
        };
        println!("{:<38} {:<11} {:<11} {numbers}{mark}", r.id, r.label, got);
        if got == r.label {
            right += 1;
        }
        let expected = r.meter.as_deref().unwrap_or(&r.label);
        if got != expected {
            wrong.push(format!("{}: expected {expected}, meter says {got}", r.id));
        }
    }
    println!(
        "corpus accuracy: {right} of {} rounds ({:.0}%)",
        rounds.len(),
        100.0 * right as f64 / rounds.len() as f64
    );
    assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
}

#[test]
fn every_answer_of_the_corpus_is_read_in_the_language_it_is_written_in() {
    let mut closest: Option<(usize, String)> = None;
    for r in corpus() {
        let channel = lang(&r.lang);
        for e in &r.answers {
            let (text, written) = match e {
                Entry::Plain(_, t) => (t, channel),
                Entry::Other { lang: l, text, .. } => (text, lang(l)),
            };
            assert_eq!(
                super::detect_language(text, channel),
                written,
                "{}: {text}",
                r.id
            );
            let (nl, en) = super::language::evidence(text);
            let margin = nl.abs_diff(en);
            if margin > 0 && closest.as_ref().is_none_or(|(m, _)| margin < *m) {
                closest = Some((margin, format!("{nl} Dutch, {en} English: {text}")));
            }
        }
    }
    if let Some((_, c)) = closest {
        println!("closest call: {c}");
    }
}
