//! The hostile-input corpus (`tests/hostile/cases.toml`): pings, markdown, HTML and template
//! syntax, control and right-to-left characters, invisible and combining text at split points,
//! every length limit exactly at and one over, forged ids, moderator actions by members, and
//! actions in unconfigured channels and direct messages. Each case runs through the command
//! parser and the engine in Dutch and in English: a clear localized answer, the expected outcome,
//! no internal error, no control characters echoed, and nothing changed when refused.

use crate::support::academy::{acting as ctx, delta_request};
use academie::commands;
use academie::domain::*;
use academie::engine::{Ctx, Engine, Failure, LessonDraft, Request, Settings, SystemClock};
use academie::store::{MemoryStore, Store, Tree};
use academie::text::Catalog;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    who: String,
    #[serde(rename = "where")]
    place: String,
    line: String,
    expect: String,
}

const CHANNEL: ChannelId = ChannelId(42);

/// A collaboration with an open step-1 round, an approved lesson L1 and a pending lesson L2 by
/// others, and a draft digest D1.
fn academy(catalog: Arc<Catalog>) -> (Engine, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let engine = academie::local(Engine::new(
        store.clone(),
        catalog,
        Arc::new(SystemClock),
        Settings::default(),
    ));
    let admin = ctx(1, "Mira", Role::Admin, Lang::Nl, Some(CHANNEL));
    let other = ctx(2, "Anna", Role::Member, Lang::Nl, Some(CHANNEL));
    let ok = |c: &Ctx, r: Request| {
        engine
            .handle(c, r)
            .unwrap_or_else(|f| panic!("fixture: {f}"))
    };
    ok(&admin, delta_request());
    for title in ["Goedgekeurd", "Wacht op beoordeling"] {
        ok(
            &other,
            Request::LessonShare(LessonDraft {
                title: title.into(),
                happened: "Wat er gebeurde.".into(),
                lesson: "Wat we leerden.".into(),
                order: Order::First,
                steps: vec![Step::Issue],
                perspective: None,
                tags: vec![],
                attribution: Attribution::Named,
            }),
        );
    }
    ok(&admin, Request::ReviewApprove { id: LessonId(1) });
    ok(
        &admin,
        Request::RoundStart {
            step: Step::Issue,
            deadline: None,
        },
    );
    ok(
        &admin,
        Request::DigestCompose {
            title: None,
            filter: DigestFilter::default(),
        },
    );
    (engine, store)
}

/// Every entry of every tree: what "nothing changed" is checked against.
type Snapshot = Vec<(Tree, Vec<(Vec<u8>, Vec<u8>)>)>;

fn snapshot(store: &MemoryStore) -> Snapshot {
    Tree::ALL
        .iter()
        .map(|t| (*t, store.scan_prefix(*t, &[]).expect("scan")))
        .collect()
}

/// The outcome of one line: Ok(text) or Err((refusal text, was it internal)).
fn run(engine: &Engine, catalog: &Catalog, c: &Ctx, line: &str) -> Result<String, (String, bool)> {
    let lang = c.actor.lang;
    let request = commands::parse_line(catalog, lang, line)
        .and_then(|(spec, values)| commands::to_request(catalog, lang, spec, &values, c.channel));
    let request = request.map_err(|r| (r.text, false))?;
    match engine.handle(c, request) {
        Ok(reply) => Ok(reply.all_text()),
        Err(Failure::Refused(r)) => Err((r.text, false)),
        Err(Failure::Internal(e)) => Err((format!("{e:#}"), true)),
    }
}

fn template_failure(text: &str) -> bool {
    text.match_indices('[').any(|(i, _)| {
        let rest = &text[i + 1..];
        let key: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '.' || *c == '_')
            .collect();
        key.contains('.') && rest[key.len()..].starts_with(']')
    })
}

#[test]
fn every_hostile_case_gets_a_clear_localized_answer_and_refusals_change_nothing() {
    let text = include_str!("hostile/cases.toml");
    let corpus: Corpus = toml::from_str(text).expect("the corpus parses");
    assert!(corpus.case.len() >= 100, "{} cases", corpus.case.len());
    let catalog = Arc::new(Catalog::embedded().expect("catalog"));
    let mut failures = Vec::new();
    for case in &corpus.case {
        let mut texts = Vec::new();
        for lang in [Lang::Nl, Lang::En] {
            let (engine, store) = academy(catalog.clone());
            let role = match case.who.as_str() {
                "admin" => Role::Admin,
                "moderator" => Role::Moderator,
                _ => Role::Member,
            };
            let channel = match case.place.as_str() {
                "unconfigured" => Some(ChannelId(99)),
                "dm" => None,
                _ => Some(CHANNEL),
            };
            let actor = ctx(7, "Tester", role, lang, channel);
            let before = snapshot(&store);
            let outcome = run(&engine, &catalog, &actor, &case.line);
            let (shown, refused) = match &outcome {
                Ok(t) => (t.clone(), false),
                Err((t, internal)) => {
                    if *internal {
                        failures.push(format!("{} ({lang:?}): internal error {t}", case.name));
                    }
                    (t.clone(), true)
                }
            };
            match (case.expect.as_str(), refused) {
                ("ok", true) => {
                    failures.push(format!("{} ({lang:?}): refused: {shown}", case.name))
                }
                ("refused", false) => failures.push(format!("{} ({lang:?}): accepted", case.name)),
                _ => {}
            }
            if refused && snapshot(&store) != before {
                failures.push(format!(
                    "{} ({lang:?}): a refusal changed the store",
                    case.name
                ));
            }
            if shown.trim().is_empty() || template_failure(&shown) {
                failures.push(format!(
                    "{} ({lang:?}): unclear answer {shown:?}",
                    case.name
                ));
            }
            if shown
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                failures.push(format!(
                    "{} ({lang:?}): control characters echoed",
                    case.name
                ));
            }
            texts.push((refused, shown));
        }
        if texts.iter().all(|(refused, _)| *refused) && texts[0].1 == texts[1].1 {
            failures.push(format!(
                "{}: the refusal is not localized: {}",
                case.name, texts[0].1
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
