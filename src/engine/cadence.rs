//! "Never finished": a collaboration returns to its questions every so many weeks — by default
//! the first, every six weeks — starting the round by itself on a work day, skipping weekends
//! and configured holidays. Each step can have its own rhythm; moderators add, change, pause
//! and resume them.

use super::schedule::{JobKind, Recipient};
use super::{encode, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::Reply;
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use serde_json::json;

/// The hour (UTC) at which a cadence round starts: the start of a Dutch working day.
const START_HOUR: u32 = 8;

impl Engine {
    /// The first work day at or after `at` (same time of day).
    fn work_day(&self, mut at: DateTime<Utc>) -> DateTime<Utc> {
        for _ in 0..60 {
            let day = at.date_naive();
            let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            if !weekend && !self.settings.holidays.contains(&day) {
                break;
            }
            at += Duration::days(1);
        }
        at
    }

    /// Sets the collaboration's rhythm for `step` (added beside the others, or replacing that
    /// step's) and schedules its next round from today, at the start of the working day
    /// (08:00 UTC: 09:00 or 10:00 in the Netherlands).
    pub(super) fn start_cadence(
        &self,
        batch: &mut Batch,
        collab: &mut Collaboration,
        step: Step,
        weeks: u32,
    ) -> Result<(), Failure> {
        let today = self.now().date_naive();
        let morning = today
            .and_hms_opt(START_HOUR, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(|| self.now());
        let base = morning + Duration::weeks(i64::from(weeks));
        let next = self.work_day(base);
        let cadence = Cadence {
            step,
            every_weeks: weeks,
            paused: false,
            next: Some(next),
            base: Some(base),
        };
        match collab.cadences.iter_mut().find(|c| c.step == step) {
            Some(existing) => *existing = cadence,
            None => {
                collab.cadences.push(cadence);
                collab.cadences.sort_by_key(|c| c.step);
            }
        }
        self.schedule(batch, next, JobKind::Cadence(collab.channel))
    }

    /// A cadence job fell due: the rhythm planned for this moment (the lowest step, when two
    /// fall together) starts its round, announces it and plans the next. A rhythm paused or
    /// changed since has another planned moment, so an old job finds nothing to do. While a
    /// round of the same step is still running the turn is skipped; while a round of another
    /// step runs, this one waits for the next work day.
    pub(super) fn revisit(
        &self,
        batch: &mut Batch,
        channel: ChannelId,
        due: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let Some(mut collab) = self.load::<Collaboration>(Tree::Collaborations, &channel.key())?
        else {
            return Ok(());
        };
        let Some(index) = collab
            .cadences
            .iter()
            .position(|c| !c.paused && c.next == Some(due))
        else {
            return Ok(());
        };
        let cadence = collab.cadences[index].clone();
        let running = self
            .latest_round(channel)?
            .filter(|r| r.status != RoundStatus::Closed);
        let next_planned = |cadence: &Cadence| {
            let base =
                cadence.base.unwrap_or(due) + Duration::weeks(i64::from(cadence.every_weeks));
            (base, self.work_day(base))
        };
        let (base, next) = match running {
            Some(r) if r.step != cadence.step => {
                // Another question is on the table: this one comes the next work day.
                let later = self.work_day(due + Duration::days(1));
                (cadence.base.unwrap_or(due), later)
            }
            Some(_) => next_planned(&cadence),
            None => {
                self.start_cadence_round(batch, &collab, &cadence)?;
                next_planned(&cadence)
            }
        };
        collab.cadences[index] = Cadence {
            next: Some(next),
            base: Some(base),
            ..cadence
        };
        batch.put(
            Tree::Collaborations,
            channel.key().to_vec(),
            encode(&collab)?,
        );
        self.schedule(batch, next, JobKind::Cadence(channel))
    }

    /// Starts the round a rhythm brings back, and queues its announcement for the channel.
    fn start_cadence_round(
        &self,
        batch: &mut Batch,
        collab: &Collaboration,
        cadence: &Cadence,
    ) -> Result<(), Failure> {
        let channel = collab.channel;
        let id = RoundId(self.next_id(batch, "round")?);
        let round = Round {
            id,
            channel,
            step: cadence.step,
            status: RoundStatus::Open,
            started_by: None,
            started_at: self.now(),
            deadline: None,
            revealed_at: None,
            closed_at: None,
            meter: None,
        };
        batch.put(Tree::Rounds, id.key().to_vec(), encode(&round)?);
        batch.put(
            Tree::RoundsByChannel,
            [channel.key(), id.key()].concat(),
            Vec::new(),
        );
        let lang = collab.lang;
        let mut reply = self.round_announcement(lang, &round);
        reply.body = format!(
            "{}\n\n{}",
            self.t(
                lang,
                k::CADENCE_STARTED,
                json!({"step": self.step_label(lang, cadence.step), "weeks": cadence.every_weeks}),
            ),
            reply.body
        );
        self.send_later(batch, Recipient::Channel(channel), reply)
    }

    /// `/ritme`: with a step, that step's rhythm is set (added if it is new); without one, the
    /// change applies to every rhythm of the collaboration (step 1's if there is none yet).
    pub(super) fn set_cadence(
        &self,
        ctx: &Ctx,
        step: Option<Step>,
        weeks: Option<u32>,
        paused: Option<bool>,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        if weeks.is_some_and(|w| !(1..=52).contains(&w)) {
            return Err(self.refuse(lang, k::CADENCE_BAD_WEEKS, json!({})));
        }
        let _guard = self.lock();
        let mut collab = self.require_collaboration(ctx)?;
        let steps: Vec<Step> = match step {
            Some(s) => vec![s],
            None if collab.cadences.is_empty() => vec![Step::Issue],
            None => collab.cadences.iter().map(|c| c.step).collect(),
        };
        let mut batch = Batch::new();
        for step in &steps {
            let old = collab.cadences.iter().find(|c| c.step == *step).cloned();
            let weeks = weeks.or(old.as_ref().map(|c| c.every_weeks)).unwrap_or(6);
            // Changing the rhythm of a paused cadence keeps it paused until it is resumed.
            let paused = paused.or(old.as_ref().map(|c| c.paused)).unwrap_or(false);
            if paused {
                let cadence = Cadence {
                    step: *step,
                    every_weeks: weeks,
                    paused: true,
                    next: None,
                    base: None,
                };
                match collab.cadences.iter_mut().find(|c| c.step == *step) {
                    Some(existing) => *existing = cadence,
                    None => {
                        collab.cadences.push(cadence);
                        collab.cadences.sort_by_key(|c| c.step);
                    }
                }
            } else {
                self.start_cadence(&mut batch, &mut collab, *step, weeks)?;
            }
        }
        batch.put(
            Tree::Collaborations,
            collab.channel.key().to_vec(),
            encode(&collab)?,
        );
        self.commit(batch)?;
        // The sentence about what changed: the one step, or all of them alike.
        let changed = collab.cadences.iter().find(|c| c.step == steps[0]).cloned();
        let mut text = match changed {
            Some(c) => self.t(
                lang,
                k::CADENCE_SAVED,
                json!({
                    "paused": c.paused,
                    "weeks": c.every_weeks,
                    "step": self.step_label(lang, c.step),
                    "next": c.next.map(|n| n.format("%Y-%m-%d").to_string()),
                }),
            ),
            None => String::new(),
        };
        if collab.cadences.len() > 1 {
            let lines: Vec<String> = collab
                .cadences
                .iter()
                .map(|c| {
                    self.t(
                        lang,
                        k::CADENCE_LINE,
                        json!({
                            "step": self.step_label(lang, c.step),
                            "weeks": c.every_weeks,
                            "paused": c.paused,
                            "next": c.next.map(|n| n.format("%Y-%m-%d").to_string()),
                        }),
                    )
                })
                .collect();
            text = format!(
                "{text}\n\n{}\n{}",
                self.text.plain(lang, k::CADENCE_ALL),
                lines.join("\n")
            );
        }
        Ok(Reply::private(text))
    }
}
