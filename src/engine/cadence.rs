//! "Never finished": a collaboration returns to a question every so many weeks — by default the
//! first, every six weeks — starting the round by itself at the start of a work day in the
//! collaboration's time zone, skipping weekends, the Dutch national holidays and configured
//! holidays. Moderators change, pause and resume it.

use super::schedule::{JobKind, Recipient};
use super::{encode, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::Reply;
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use crate::time;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde_json::json;

impl Engine {
    /// The first work day at or after `day`.
    fn work_day(&self, mut day: NaiveDate) -> NaiveDate {
        for _ in 0..60 {
            if self.is_work_day(day) {
                break;
            }
            day += Duration::days(1);
        }
        day
    }

    /// When a cadence round starts on a day: the start of the working day in the
    /// collaboration's zone, whether it is summer or winter time.
    fn cadence_start(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
        let hour = NaiveTime::from_hms_opt(time::CADENCE_HOUR, 0, 0).unwrap_or_default();
        time::instant(zone, day.and_time(hour))
    }

    /// Plans the cadence's next round from its planned day `base` (moved to a work day), and
    /// schedules it.
    fn plan_cadence(
        &self,
        batch: &mut Batch,
        collab: &mut Collaboration,
        step: Step,
        weeks: u32,
        base: NaiveDate,
    ) -> Result<(), Failure> {
        let zone = self.zone_of(collab);
        let next = Self::cadence_start(zone, self.work_day(base));
        collab.cadence = Some(Cadence {
            step,
            every_weeks: weeks,
            paused: false,
            next: Some(next),
            base: Some(Self::cadence_start(zone, base)),
        });
        self.schedule(batch, next, JobKind::Cadence(collab.channel))
    }

    /// Sets the collaboration's cadence and schedules its next round, `weeks` from today, at
    /// the start of that working day in the collaboration's zone.
    pub(super) fn start_cadence(
        &self,
        batch: &mut Batch,
        collab: &mut Collaboration,
        step: Step,
        weeks: u32,
    ) -> Result<(), Failure> {
        let today = time::local_date(self.zone_of(collab), self.now());
        let base = today + Duration::weeks(i64::from(weeks));
        self.plan_cadence(batch, collab, step, weeks, base)
    }

    /// The collaboration moved to another time zone: its next round keeps its day and starts
    /// at the start of the working day in the new zone.
    pub(super) fn replan_cadence(
        &self,
        batch: &mut Batch,
        collab: &mut Collaboration,
        old_zone: Tz,
    ) -> Result<(), Failure> {
        let Some(c) = collab.cadence.clone().filter(|c| !c.paused) else {
            return Ok(());
        };
        let Some(base) = c.base.or(c.next) else {
            return Ok(());
        };
        let day = time::local_date(old_zone, base);
        self.plan_cadence(batch, collab, c.step, c.every_weeks, day)
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
        // The rhythm counts in local days from the planned day, not from a holiday it moved
        // off, and each round starts at the local start of the working day.
        let zone = self.zone_of(&collab);
        let base = time::local_date(zone, cadence.base.unwrap_or(due))
            + Duration::weeks(i64::from(cadence.every_weeks));
        self.plan_cadence(batch, &mut collab, cadence.step, cadence.every_weeks, base)?;
        batch.put(
            Tree::Collaborations,
            channel.key().to_vec(),
            encode(&collab)?,
        );
        Ok(())
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
        let zone = self.zone_of(&collab);
        let next = collab
            .cadence
            .as_ref()
            .and_then(|c| c.next)
            .map(|n| time::date_time(lang, zone, n));
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
