//! The collaboration's health over time, in the essay's terms: idling (*stationair draaien*,
//! much activity but no shared issue), accelerating (*accelereren*, the picture of the issue
//! coming together) or cruising (*cruisen*, a shared issue held over time) — always with the
//! numbers behind the verdict, so a group can disagree with it on the facts.

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
    /// the meter found the answers converging) and participation.
    pub fn judge(scores: &[(f64, bool)], participation: Option<f64>) -> State {
        let Some(&(last, converging)) = scores.last() else {
            return State::Unknown;
        };
        let previous = scores.len().checked_sub(2).map(|i| scores[i]);
        let rising = previous.is_some_and(|(p, _)| last >= p + RISING);
        let held = previous.is_some_and(|(_, c)| c);
        let thin = participation.is_some_and(|p| p < THIN);
        if converging && held && !rising && !thin {
            State::Cruising
        } else if converging || rising {
            // Coming together: first time, again after a dip, rising, or with thin participation.
            State::Accelerating
        } else {
            State::Idling
        }
    }
}

impl Engine {
    /// The health view of the actor's collaboration.
    pub(super) fn health(&self, ctx: &Ctx) -> Outcome {
        let collab = self.require_collaboration(ctx)?;
        let lang = ctx.actor.lang;
        let channel = collab.channel;
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
                    format!("{}%", (score * 100.0).round())
                }
                // Too little to judge is said, not left out: the round was revealed.
                None => self.text.plain(lang, k::HEALTH_TOO_LITTLE),
            };
            score_lines.push(format!(
                "{} ({}): {shown}",
                r.id,
                r.started_at.format("%Y-%m-%d")
            ));
        }

        // Participation in the most recent round that is not open any more, against everyone
        // who answered any of the last three: people who left long ago do not count.
        let finished: Vec<&Round> = rounds
            .iter()
            .rev()
            .filter(|r| r.status != RoundStatus::Open)
            .take(3)
            .collect();
        let last = finished.first().copied();
        let answered = match last {
            Some(r) => self.answers(r.id)?.len(),
            None => 0,
        };
        let mut pool = std::collections::BTreeSet::new();
        for r in &finished {
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
        let orders_line = Order::ALL
            .iter()
            .zip(per_order)
            .map(|(o, n)| format!("{} {n}", a.order(*o).name))
            .collect::<Vec<_>>()
            .join(", ");

        let state = State::judge(&scores, participation);
        let body = self.t(
            lang,
            k::HEALTH_BODY,
            json!({
                "state": state.key(),
                "revealed": !score_lines.is_empty(),
                "last": scores.last().map(|(s, _)| (s * 100.0).round().to_string()),
                "previous": scores.len().checked_sub(2).map(|i| (scores[i].0 * 100.0).round().to_string()),
                "converging": (meter::CONVERGING_FROM * 100.0).round(),
                "reach_from": (meter::REACH_FROM * 100.0).round(),
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
            .section(self.text.plain(lang, k::HEALTH_LESSONS), orders_line);
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
        assert_eq!(State::judge(&[], None), State::Unknown);
        assert_eq!(State::judge(&[(0.05, no)], Some(1.0)), State::Idling);
        assert_eq!(
            State::judge(&[(0.05, no), (0.06, no)], Some(1.0)),
            State::Idling
        );
        assert_eq!(
            State::judge(&[(0.05, no), (0.3, yes)], Some(1.0)),
            State::Accelerating
        );
        assert_eq!(State::judge(&[(0.3, yes)], Some(1.0)), State::Accelerating);
        assert_eq!(
            State::judge(&[(0.3, yes), (0.32, yes)], Some(1.0)),
            State::Cruising
        );
        assert_eq!(
            State::judge(&[(0.3, yes), (0.32, yes)], Some(0.2)),
            State::Accelerating
        );
        assert_eq!(
            State::judge(&[(0.4, yes), (0.15, no)], Some(1.0)),
            State::Idling
        );
        // A fair score within camps is not convergence, and does not hold it either.
        assert_eq!(
            State::judge(&[(0.3, no), (0.3, no)], Some(1.0)),
            State::Idling
        );
    }
}
