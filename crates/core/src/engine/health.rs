//! The collaboration's health over time, in the essay's terms: idling (*stationair draaien*,
//! much activity but no shared issue), accelerating (*accelereren*, the picture of the issue
//! coming together) or cruising (*cruisen*, a shared issue held over time, and this way of
//! working embedded "in structuren, routines, afspraken en ondersteunende systemen en
//! instrumenten") — always with the numbers behind the verdict, so a group can disagree with it
//! on the facts.
//!
//! Embedding is not something answers can show. The academy sees two traces of it: the group
//! asked itself how it organises the collaboration and relates to others (a revealed round
//! about step 4 or 5), and it harvested second- or third-order lessons — the essay's learning
//! about systematics, instruments and what counts as normal, which cruising requires.

use super::{Ctx, Engine, Outcome};
use crate::domain::*;
use crate::meter;
use crate::reply::Reply;
use crate::search::{self, SearchQuery};
use crate::store::Tree;
use crate::text::keys as k;
use chrono::Duration;
use serde_json::json;

/// How far a step-1 score must rise between rounds to count as accelerating.
const RISING: f64 = 0.05;
/// The share of participants answering the last round below which participation is thin.
const THIN: f64 = 0.5;

/// The essay's three states of a collaboration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Idling,
    Accelerating,
    Cruising,
    /// No step-1 round has been revealed yet.
    Unknown,
}

impl State {
    pub fn key(self) -> &'static str {
        match self {
            State::Idling => "idling",
            State::Accelerating => "accelerating",
            State::Cruising => "cruising",
            State::Unknown => "unknown",
        }
    }

    /// The rule, from the agreement of the step-1 rounds (oldest first: score, and whether
    /// the meter found the answers converging), participation, and whether the way of working
    /// shows signs of being embedded.
    pub fn judge(scores: &[(f64, bool)], participation: Option<f64>, embedded: bool) -> State {
        let Some(&(last, converging)) = scores.last() else {
            return State::Unknown;
        };
        let previous = scores.len().checked_sub(2).map(|i| scores[i]);
        let rising = previous.is_some_and(|(p, _)| last >= p + RISING);
        let held = previous.is_some_and(|(_, c)| c);
        let thin = participation.is_some_and(|p| p < THIN);
        if converging && held && !rising && !thin && embedded {
            State::Cruising
        } else if converging || rising {
            // Coming together: first time, again after a dip, rising, with thin participation,
            // or holding without being embedded yet.
            State::Accelerating
        } else {
            State::Idling
        }
    }
}

/// A share as a whole percentage.
fn percent(share: f64) -> i64 {
    (share * 100.0).round() as i64
}

impl Engine {
    /// The health view of the actor's collaboration.
    pub(super) fn health(&self, ctx: &Ctx) -> Outcome {
        let collab = self.require_collaboration(ctx)?;
        let lang = ctx.actor.lang;
        let channel = collab.channel;
        let zone = self.zone_of(&collab);
        let mut rounds: Vec<Round> = Vec::new();
        for (key, _) in self
            .store
            .scan_prefix(Tree::RoundsByChannel, &channel.key())?
        {
            if let Some(id) = key.get(8..).and_then(RoundId::from_key) {
                if let Some(r) = self.load::<Round>(Tree::Rounds, &id.key())? {
                    rounds.push(r);
                }
            }
        }

        // Agreement of each revealed step-1 round, oldest first: the figure its reveal showed,
        // or, for a round revealed before figures were kept, measured now the same way.
        let mut scores = Vec::new();
        let mut score_lines = Vec::new();
        for r in rounds
            .iter()
            .filter(|r| r.step == Step::Issue && r.revealed_at.is_some())
        {
            let figure = match &r.meter {
                Some(f) => f.clone(),
                None => meter::agreement(&super::rounds::named(&self.answers(r.id)?), collab.lang)
                    .figure(),
            };
            let shown = match figure.score {
                Some(score) => {
                    let converging = figure.verdict.as_deref().and_then(meter::Verdict::from_key)
                        == Some(meter::Verdict::Converging);
                    scores.push((score, converging));
                    format!("{}%", percent(score))
                }
                // Too little to judge is said, not left out: the round was revealed.
                None => self.text.plain(lang, k::HEALTH_TOO_LITTLE),
            };
            score_lines.push(format!(
                "{} ({}): {shown}",
                r.id,
                crate::time::date(lang, zone, r.started_at)
            ));
        }

        // Participation in the most recent round that is not open any more, against everyone
        // who answered any round of this collaboration.
        let last = rounds.iter().rev().find(|r| r.status != RoundStatus::Open);
        let answered = match last {
            Some(r) => self.answers(r.id)?.len(),
            None => 0,
        };
        let mut pool = std::collections::BTreeSet::new();
        for r in &rounds {
            for a in self.answers(r.id)? {
                pool.insert(a.user);
            }
        }
        let participants = pool.len();
        let participation =
            (participants > 0 && last.is_some()).then(|| answered as f64 / participants as f64);

        let mut per_step = [0usize; 5];
        for r in &rounds {
            per_step[usize::from(r.step.byte())] += 1;
        }
        let a = self.text.academy(lang);
        let steps_line = Step::ALL
            .iter()
            .zip(per_step)
            .map(|(s, n)| format!("{} {n}", a.step(*s).short))
            .collect::<Vec<_>>()
            .join(", ");
        // Lessons of this collaboration from the last year, counted in the index: only those
        // created on the first day of the year are read, to compare the time.
        let since = self.now() - Duration::days(365);
        let store = self.store.as_ref();
        let first_day = since.date_naive();
        let in_year = |order: Option<Order>, to: Option<chrono::NaiveDate>| {
            let query = SearchQuery {
                channel: Some(channel),
                order,
                from: Some(first_day),
                to,
                ..SearchQuery::default()
            };
            search::matching(store, &query)
        };
        let mut too_early = search::Ids::new();
        for id in in_year(None, Some(first_day))? {
            if let Some(l) = self.load::<Lesson>(Tree::Lessons, &LessonId(id).key())? {
                if l.created_at < since {
                    too_early.insert(id);
                }
            }
        }
        let mut per_order = [0u64; 3];
        for o in Order::ALL {
            per_order[usize::from(o.byte())] = (in_year(Some(*o), None)? - &too_early).len();
        }
        // Traces of embedding in the last year: rounds about organising (step 4) and relating
        // to others (step 5), and second- and third-order lessons.
        let organised: Vec<String> = rounds
            .iter()
            .filter(|r| matches!(r.step, Step::Organise | Step::Relate))
            .filter(|r| r.revealed_at.is_some_and(|at| at >= since))
            .map(|r| format!("{} ({})", r.id, self.step_label(lang, r.step)))
            .collect();
        let deeper = per_order[usize::from(Order::Second.byte())]
            + per_order[usize::from(Order::Third.byte())];
        let embedded = !organised.is_empty() && deeper > 0;
        let orders_line = Order::ALL
            .iter()
            .zip(per_order)
            .map(|(o, n)| format!("{} {n}", a.order(*o).name))
            .collect::<Vec<_>>()
            .join(", ");

        let state = State::judge(&scores, participation, embedded);
        // Agreement that holds, without the embedding cruising needs.
        let holding = state != State::Cruising
            && State::judge(&scores, participation, true) == State::Cruising;
        let body = self.t(
            lang,
            k::HEALTH_BODY,
            json!({
                "state": state.key(),
                "revealed": !score_lines.is_empty(),
                "holding": holding,
                "last": scores.last().map(|(s, _)| percent(*s).to_string()),
                "previous": scores.len().checked_sub(2).map(|i| percent(scores[i].0).to_string()),
                // Whole percentages, as everywhere in the academy: "20%", never "20.0%".
                "converging": percent(meter::CONVERGING_FROM),
                "reach_from": percent(meter::REACH_FROM),
            }),
        );
        let mut reply = Reply::private(body)
            .titled(self.t(lang, k::HEALTH_TITLE, json!({"task": collab.task})))
            .section(
                self.text.plain(lang, k::HEALTH_CONVERGENCE),
                if score_lines.is_empty() {
                    self.text.plain(lang, k::HEALTH_NO_ROUNDS)
                } else {
                    score_lines.join("\n")
                },
            )
            .section(
                self.text.plain(lang, k::HEALTH_PARTICIPATION),
                self.t(
                    lang,
                    k::HEALTH_PARTICIPATION_LINE,
                    json!({
                        "round": last.map(|r| r.id.to_string()),
                        "answered": answered,
                        "participants": participants,
                    }),
                ),
            )
            .section(self.text.plain(lang, k::HEALTH_ROUNDS), steps_line)
            .section(self.text.plain(lang, k::HEALTH_LESSONS), orders_line)
            .section(
                self.text.plain(lang, k::HEALTH_EMBEDDING),
                self.t(
                    lang,
                    k::HEALTH_EMBEDDING_BODY,
                    json!({
                        "rounds": organised.join(", "),
                        "lessons": deeper,
                        "embedded": embedded,
                    }),
                ),
            );
        reply.visibility = crate::reply::Visibility::Private;
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::State;

    #[test]
    fn the_states_follow_the_step_one_agreement() {
        let (no, yes) = (false, true);
        assert_eq!(State::judge(&[], None, true), State::Unknown);
        assert_eq!(State::judge(&[(0.05, no)], Some(1.0), true), State::Idling);
        assert_eq!(
            State::judge(&[(0.05, no), (0.06, no)], Some(1.0), true),
            State::Idling
        );
        assert_eq!(
            State::judge(&[(0.05, no), (0.3, yes)], Some(1.0), true),
            State::Accelerating
        );
        assert_eq!(
            State::judge(&[(0.3, yes)], Some(1.0), true),
            State::Accelerating
        );
        assert_eq!(
            State::judge(&[(0.3, yes), (0.32, yes)], Some(1.0), true),
            State::Cruising
        );
        assert_eq!(
            State::judge(&[(0.3, yes), (0.32, yes)], Some(0.2), true),
            State::Accelerating
        );
        assert_eq!(
            State::judge(&[(0.4, yes), (0.15, no)], Some(1.0), true),
            State::Idling
        );
        // A fair score within camps is not convergence, and does not hold it either.
        assert_eq!(
            State::judge(&[(0.3, no), (0.3, no)], Some(1.0), true),
            State::Idling
        );
    }

    #[test]
    fn agreement_that_holds_is_not_cruising_without_embedding() {
        let (no, yes) = (false, true);
        assert_eq!(
            State::judge(&[(0.3, yes), (0.32, yes)], Some(1.0), false),
            State::Accelerating
        );
        assert_eq!(State::judge(&[(0.05, no)], Some(1.0), false), State::Idling);
    }
}
