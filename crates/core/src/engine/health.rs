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

use super::{encode, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::meter;
use crate::reply::Reply;
use crate::search;
use crate::store::{Batch, Tree};
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

        // Agreement of each revealed step-1 round, oldest first: the figure its reveal showed.
        // A round revealed before figures were kept is measured the same way once, here, and
        // its figure kept, so the view reads no answers of past rounds again.
        if rounds.iter().any(needs_figure) {
            self.keep_figures(&mut rounds, collab.lang);
        }
        let mut scores = Vec::new();
        let mut score_lines = Vec::new();
        for r in rounds
            .iter()
            .filter(|r| r.step == Step::Issue && r.revealed_at.is_some())
        {
            let figure = match &r.meter {
                Some(f) => f.clone(),
                None => self.figure_of(r.id, collab.lang)?,
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
        // who answered any round of this collaboration. Who answered is in the answers' keys
        // (round ++ member), so no answer is decoded.
        let last = rounds.iter().rev().find(|r| r.status != RoundStatus::Open);
        let answered = match last {
            Some(r) => self.store.scan_prefix(Tree::Answers, &r.id.key())?.len(),
            None => 0,
        };
        let mut pool = std::collections::BTreeSet::new();
        for r in &rounds {
            for (key, _) in self.store.scan_prefix(Tree::Answers, &r.id.key())? {
                pool.insert(key.get(8..).map(<[u8]>::to_vec));
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
        // Lessons of this collaboration from the last year, counted in the index from its
        // month lists: only those created on the first day of the year are read, to compare
        // the time.
        let since = self.now() - Duration::days(365);
        let mut per_order = [0u64; 3];
        for (order, after, on_first_day) in
            search::per_order_from(self.store.as_ref(), channel, since.date_naive())?
        {
            let mut count = after;
            for id in on_first_day {
                if let Some(l) = self.lesson_times(LessonId(id))? {
                    if l.created_at >= since {
                        count += 1;
                    }
                }
            }
            per_order[usize::from(order.byte())] = count;
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

/// A revealed step-1 round whose reveal kept no figure: one from before figures were kept.
fn needs_figure(r: &Round) -> bool {
    r.step == Step::Issue && r.revealed_at.is_some() && r.meter.is_none()
}

impl Engine {
    /// The idling meter's figure of a round's answers, as its reveal measures it.
    fn figure_of(&self, round: RoundId, lang: Lang) -> Result<MeterFigure, Failure> {
        let answers = self.answers(round)?;
        Ok(meter::agreement(&super::rounds::named(&answers), lang).figure())
    }

    /// Measures the revealed step-1 rounds among `rounds` that have no figure and keeps it with
    /// each round, as the reveal would have: an older database pays for this once. A round
    /// changed meanwhile is read again under the write lock, so nothing else it holds is lost.
    /// A failure to keep them is logged, not shown: the view measures them again next time.
    fn keep_figures(&self, rounds: &mut [Round], lang: Lang) {
        let result = (|| -> Result<(), Failure> {
            let _guard = self.lock();
            let mut batch = Batch::new();
            let mut kept = Vec::new();
            for r in rounds.iter().filter(|r| needs_figure(r)) {
                let Some(mut now) = self.load::<Round>(Tree::Rounds, &r.id.key())? else {
                    continue;
                };
                if now.meter.is_none() && now.revealed_at.is_some() {
                    now.meter = Some(self.figure_of(now.id, lang)?);
                    batch.put(Tree::Rounds, now.id.key().to_vec(), encode(&now)?);
                }
                kept.push(now);
            }
            if !batch.is_empty() {
                self.commit(batch)?;
            }
            for now in kept {
                if let Some(r) = rounds.iter_mut().find(|r| r.id == now.id) {
                    *r = now;
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::error!("could not keep the figures of earlier rounds: {e}");
        }
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
