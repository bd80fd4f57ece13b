//! "Never finished": a collaboration returns to a question every so many weeks — by default the
//! first, every six weeks — starting the round by itself on a work day, skipping weekends and
//! configured holidays. Moderators change, pause and resume it.

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

    /// Sets the collaboration's cadence and schedules its next round from today, at the start
    /// of the working day (08:00 UTC: 09:00 or 10:00 in the Netherlands).
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
        collab.cadence = Some(Cadence {
            step,
            every_weeks: weeks,
            paused: false,
            next: Some(next),
            base: Some(base),
        });
        self.schedule(batch, next, JobKind::Cadence(collab.channel))
    }

    /// The cadence's job fell due: start the round (unless one is running, or the cadence was
    /// paused or changed since), announce it, and schedule the next.
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
        let Some(cadence) = collab.cadence.clone() else {
            return Ok(());
        };
        if cadence.paused || cadence.next != Some(due) {
            return Ok(());
        }
        let busy = self
            .latest_round(channel)?
            .is_some_and(|r| r.status != RoundStatus::Closed);
        if !busy {
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
            self.send_later(batch, Recipient::Channel(channel), reply)?;
        }
        let base = cadence.base.unwrap_or(due) + Duration::weeks(i64::from(cadence.every_weeks));
        let next = self.work_day(base);
        collab.cadence = Some(Cadence {
            next: Some(next),
            base: Some(base),
            ..cadence
        });
        batch.put(
            Tree::Collaborations,
            channel.key().to_vec(),
            encode(&collab)?,
        );
        self.schedule(batch, next, JobKind::Cadence(channel))
    }

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
        let old = collab.cadence.clone();
        let step = step.or(old.as_ref().map(|c| c.step)).unwrap_or(Step::Issue);
        let weeks = weeks.or(old.as_ref().map(|c| c.every_weeks)).unwrap_or(6);
        // Changing the rhythm of a paused cadence keeps it paused until it is resumed.
        let paused = paused.or(old.as_ref().map(|c| c.paused)).unwrap_or(false);
        let mut batch = Batch::new();
        if paused {
            collab.cadence = Some(Cadence {
                step,
                every_weeks: weeks,
                paused: true,
                next: None,
                base: None,
            });
        } else {
            self.start_cadence(&mut batch, &mut collab, step, weeks)?;
        }
        batch.put(
            Tree::Collaborations,
            collab.channel.key().to_vec(),
            encode(&collab)?,
        );
        self.commit(batch)?;
        let next = collab
            .cadence
            .as_ref()
            .and_then(|c| c.next)
            .map(|n| n.format("%Y-%m-%d").to_string());
        Ok(Reply::private(self.t(
            lang,
            k::CADENCE_SAVED,
            json!({
                "paused": paused,
                "weeks": weeks,
                "step": self.step_label(lang, step),
                "next": next,
            }),
        )))
    }
}
