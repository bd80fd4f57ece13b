//! "Never finished": a collaboration returns to its questions every so many weeks — by default
//! the first, every six weeks — starting the round by itself at the start of a work day in the
//! collaboration's time zone, skipping weekends, the Dutch national holidays and configured
//! holidays. Each step can have its own rhythm; moderators add, change, pause and resume them.

use super::outbox::Recipient;
use super::schedule::JobKind;
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

    /// Plans the rhythm of `step` from its planned day `base` (moved to a work day), added
    /// beside the others or replacing that step's, and schedules its next round.
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
        put_cadence(
            collab,
            Cadence {
                step,
                every_weeks: weeks,
                paused: false,
                next: Some(next),
                base: Some(Self::cadence_start(zone, base)),
            },
        );
        self.schedule(batch, next, JobKind::Cadence(collab.channel))
    }

    /// Sets the collaboration's rhythm for `step` and schedules its next round, `weeks` from
    /// today, at the start of that working day in the collaboration's zone.
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

    /// The collaboration moved to another time zone: each rhythm's next round keeps its day and
    /// starts at the start of the working day in the new zone.
    pub(super) fn replan_cadence(
        &self,
        batch: &mut Batch,
        collab: &mut Collaboration,
        old_zone: Tz,
    ) -> Result<(), Failure> {
        for c in collab.cadences.clone() {
            if c.paused {
                continue;
            }
            let Some(base) = c.base.or(c.next) else {
                continue;
            };
            let day = time::local_date(old_zone, base);
            self.plan_cadence(batch, collab, c.step, c.every_weeks, day)?;
        }
        Ok(())
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
        // The rhythm counts in local days from the planned day, not from a holiday it moved
        // off, and each round starts at the local start of the working day.
        let zone = self.zone_of(&collab);
        let planned = cadence.base.unwrap_or(due);
        let next_base =
            time::local_date(zone, planned) + Duration::weeks(i64::from(cadence.every_weeks));
        match running {
            Some(r) if r.step != cadence.step => {
                // Another question is on the table: this one comes the next work day, and its
                // rhythm keeps counting from the day it was planned for.
                let day = self.work_day(time::local_date(zone, due) + Duration::days(1));
                let next = Self::cadence_start(zone, day);
                collab.cadences[index] = Cadence {
                    next: Some(next),
                    base: Some(planned),
                    ..cadence
                };
                self.schedule(batch, next, JobKind::Cadence(channel))?;
            }
            // No round open, or this very question still is: it is asked unless it already is,
            // and the rhythm goes on.
            running => {
                if running.is_none() {
                    self.start_cadence_round(batch, &collab, &cadence)?;
                }
                self.plan_cadence(
                    batch,
                    &mut collab,
                    cadence.step,
                    cadence.every_weeks,
                    next_base,
                )?;
            }
        }
        batch.put(
            Tree::Collaborations,
            channel.key().to_vec(),
            encode(&collab)?,
        );
        Ok(())
    }

    /// Starts the round a rhythm brings back, and queues its announcement for the channel.
    fn start_cadence_round(
        &self,
        batch: &mut Batch,
        collab: &Collaboration,
        cadence: &Cadence,
    ) -> Result<(), Failure> {
        let round = self.open_round(batch, collab.channel, cadence.step, None, None)?;
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
        self.send_later(batch, Recipient::Channel(collab.channel), reply)
    }

    /// `/moderator ritme`: with a step, that step's rhythm is set (added if it is new); without one, the
    /// change applies to every rhythm of the collaboration (step 1's if there is none yet).
    /// Without a change to make, the rhythms are only shown.
    pub(super) fn set_cadence(
        &self,
        ctx: &Ctx,
        step: Option<Step>,
        weeks: Option<u32>,
        paused: Option<bool>,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        if weeks.is_some_and(|w| !super::limits::WEEKS.contains(&w)) {
            return Err(self.refuse(lang, k::CADENCE_BAD_WEEKS, json!({})));
        }
        let _guard = self.lock();
        let mut collab = self.require_collaboration(ctx)?;
        let steps: Vec<Step> = match step {
            Some(s) => vec![s],
            None if collab.cadences.is_empty() => vec![Step::Issue],
            None => collab.cadences.iter().map(|c| c.step).collect(),
        };
        // Asked for no change (no weeks, no pause, only steps that have a rhythm): the rhythms
        // are shown as they are. Saving them again would restart each from today and log a
        // change nobody made.
        let shows_only = weeks.is_none()
            && paused.is_none()
            && steps
                .iter()
                .all(|s| collab.cadences.iter().any(|c| c.step == *s));
        let mut batch = Batch::new();
        for step in steps.iter().filter(|_| !shows_only) {
            let old = collab.cadences.iter().find(|c| c.step == *step).cloned();
            let weeks = weeks.or(old.as_ref().map(|c| c.every_weeks)).unwrap_or(6);
            // Changing the rhythm of a paused cadence keeps it paused until it is resumed.
            let paused = paused.or(old.as_ref().map(|c| c.paused)).unwrap_or(false);
            if paused {
                put_cadence(
                    &mut collab,
                    Cadence {
                        step: *step,
                        every_weeks: weeks,
                        paused: true,
                        next: None,
                        base: None,
                    },
                );
            } else {
                self.start_cadence(&mut batch, &mut collab, *step, weeks)?;
            }
        }
        if shows_only {
            self.not_an_action();
        } else {
            batch.put(
                Tree::Collaborations,
                collab.channel.key().to_vec(),
                encode(&collab)?,
            );
            self.commit(batch)?;
        }
        let zone = self.zone_of(&collab);
        let next = |c: &Cadence| c.next.map(|n| time::date_time(lang, zone, n));
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
                    "next": next(&c),
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
                            "next": next(c),
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

/// Puts a step's rhythm in place: beside the others, or instead of that step's, in step order.
fn put_cadence(collab: &mut Collaboration, cadence: Cadence) {
    match collab.cadences.iter_mut().find(|c| c.step == cadence.step) {
        Some(existing) => *existing = cadence,
        None => {
            collab.cadences.push(cadence);
            collab.cadences.sort_by_key(|c| c.step);
        }
    }
}
