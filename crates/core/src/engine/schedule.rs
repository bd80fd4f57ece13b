//! Work the academy does on its own at a set time: revealing a round at its deadline, reminding
//! those who have not answered, keeping answers no longer than configured.
//!
//! Jobs are stored in time order. Running one removes it in the same batch as its effect and
//! the messages it sends (to the outbox), so a job runs exactly once even across a crash, and
//! one that fell due while the bot was down runs once at the next start.

use super::outbox::Recipient;
use super::{decode, encode, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::search::time_key;
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What a job does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Reveal the round if it is still open.
    RevealRound(RoundId),
    /// Remind the participants who have not answered, if the round is still open.
    RemindRound(RoundId),
    /// Start the collaboration's next revisit round, if its cadence still says so.
    Cadence(ChannelId),
    /// A meeting ended: its planner gets the button that asks the group for its lessons.
    MeetingEnded(MeetingId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub due: DateTime<Utc>,
    pub kind: JobKind,
    /// Failed runs so far; a failing job is retried later, so it never blocks the others.
    #[serde(default)]
    pub attempts: u32,
}

/// A job that keeps failing is retried this many times, ten minutes apart, then dropped.
const MAX_JOB_ATTEMPTS: u32 = 12;

fn job_key(due: DateTime<Utc>, id: u64) -> Vec<u8> {
    [time_key(due).as_slice(), &id.to_be_bytes()].concat()
}

pub(super) fn participant_key(channel: ChannelId, user: UserId) -> Vec<u8> {
    [channel.key(), user.key()].concat()
}

impl Engine {
    /// Adds a job to `batch`.
    pub(super) fn schedule(
        &self,
        batch: &mut Batch,
        due: DateTime<Utc>,
        kind: JobKind,
    ) -> Result<(), Failure> {
        let id = self.next_id(batch, "job")?;
        let job = Job {
            id,
            due,
            kind,
            attempts: 0,
        };
        batch.put(Tree::Schedules, job_key(due, id), encode(&job)?);
        Ok(())
    }

    /// When the next job falls due, so an adapter can sleep until then.
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>, Failure> {
        let first = self.store.scan_prefix(Tree::Schedules, &[])?;
        Ok(match first.first() {
            Some((key, value)) => Some(decode::<Job>(Tree::Schedules, key, value)?.due),
            None => None,
        })
    }

    /// Runs every job that is due, oldest first; returns how many ran.
    pub fn run_due(&self) -> Result<usize, Failure> {
        let mut ran = 0;
        loop {
            let _guard = self.lock();
            let now = self.now();
            let mut end = time_key(now).to_vec();
            end.extend_from_slice(&[0xff; 9]);
            let due = self.store.scan_range(Tree::Schedules, &[], &end)?;
            let Some((key, value)) = due.into_iter().next() else {
                drop(_guard);
                self.apply_retention()?;
                self.upkeep();
                return Ok(ran);
            };
            let mut batch = Batch::new();
            batch.remove(Tree::Schedules, key.clone());
            let job: Job = match decode(Tree::Schedules, &key, &value) {
                Ok(job) => job,
                Err(e) => {
                    // Unreadable: dropped, so it cannot block the jobs behind it.
                    tracing::error!("dropped an unreadable scheduled job: {e}");
                    self.commit(batch)?;
                    continue;
                }
            };
            let done = match &job.kind {
                JobKind::RevealRound(round) => self.deadline_reveal(&mut batch, *round),
                JobKind::RemindRound(round) => self.remind(&mut batch, *round),
                JobKind::Cadence(channel) => self.revisit(&mut batch, *channel, job.due),
                JobKind::MeetingEnded(meeting) => self.meeting_ended(&mut batch, *meeting),
            };
            if let Err(e) = done {
                // The effect failed: try again later, and let the other jobs run meanwhile.
                tracing::error!(job = job.id, "a scheduled job failed: {e}");
                let mut retry = Batch::new();
                retry.remove(Tree::Schedules, key);
                if job.attempts + 1 < MAX_JOB_ATTEMPTS {
                    let due = now + Duration::minutes(10);
                    let next = Job {
                        attempts: job.attempts + 1,
                        due,
                        ..job
                    };
                    retry.put(Tree::Schedules, job_key(due, next.id), encode(&next)?);
                } else {
                    tracing::error!(job = job.id, "gave up a scheduled job");
                }
                self.commit(retry)?;
                continue;
            }
            self.commit(batch)?;
            ran += 1;
        }
    }

    /// The academy's own upkeep, after the scheduled work: an automatic backup when one is
    /// due, and the deletions that wait for their files to be rewritten — at once after a
    /// request, or while a message saying one is done waits, else every ten minutes. Neither
    /// stops the scheduled work: a failure is logged.
    fn upkeep(&self) {
        if let Err(e) = self.backup_if_due() {
            tracing::error!("the automatic backup failed: {e}");
        }
        let now = self.now();
        let due = {
            let mut upkeep = self.upkeep.lock().unwrap_or_else(|p| p.into_inner());
            let due = upkeep.erasures_due
                || upkeep
                    .erasures_tried
                    .is_none_or(|t| now - t >= chrono::Duration::minutes(10));
            if due {
                upkeep.erasures_tried = Some(now);
                upkeep.erasures_due = false;
            }
            due
        };
        if due && self.erasures_pending() {
            self.finish_erasures();
        }
        // What a deletion's reply left for now, a site that could not be written, or changes
        // no publication followed yet.
        self.site_take_deferred();
        if self.site_waiting() {
            self.refresh_site();
        }
    }

    /// Deletes the answers and votes of rounds closed longer ago than the retention setting,
    /// once a day. Returns how many rounds were cleared.
    pub fn apply_retention(&self) -> Result<usize, Failure> {
        let Some(days) = self.settings.answer_retention_days else {
            return Ok(0);
        };
        let _guard = self.lock();
        let today = self.now().date_naive().to_string();
        let marker = b"retention_day".to_vec();
        if self.store.get(Tree::Meta, &marker)?.as_deref() == Some(today.as_bytes()) {
            return Ok(0);
        }
        // A period reaching before the calendar's start keeps everything.
        let Some(cutoff) = self
            .now()
            .checked_sub_signed(Duration::days(i64::from(days)))
        else {
            return Ok(0);
        };
        let mut batch = Batch::new();
        let mut cleared = 0;
        for round in self.load_all::<Round>(Tree::Rounds, &[])? {
            let old =
                round.status == RoundStatus::Closed && round.closed_at.is_some_and(|c| c < cutoff);
            if !old {
                continue;
            }
            let mut any = false;
            for tree in [Tree::Answers, Tree::Votes] {
                for (key, _) in self.store.scan_prefix(tree, &round.id.key())? {
                    batch.remove(tree, key);
                    any = true;
                }
            }
            cleared += usize::from(any);
        }
        batch.put(Tree::Meta, marker, today.into_bytes());
        self.commit(batch)?;
        Ok(cleared)
    }

    /// The deadline passed: the round reveals itself, as a moderator's reveal would.
    fn deadline_reveal(&self, batch: &mut Batch, id: RoundId) -> Result<(), Failure> {
        let Some(mut round) = self.load::<Round>(Tree::Rounds, &id.key())? else {
            return Ok(());
        };
        if round.status != RoundStatus::Open {
            return Ok(());
        }
        let Some(collab) =
            self.load::<Collaboration>(Tree::Collaborations, &round.channel.key())?
        else {
            return Ok(());
        };
        let lang = collab.lang;
        let (answers, m) = self.reveal_now(&mut round, lang)?;
        batch.put(Tree::Rounds, round.id.key().to_vec(), encode(&round)?);
        let mut reply = self
            .reveal_reply(lang, &round, &answers, &m, k::ROUND_REVEALED_TITLE)?
            .choice(
                self.text.plain(lang, k::ROUND_CLOSE_BUTTON),
                Action::CloseRound(round.id),
            );
        reply.body = format!(
            "{}\n\n{}",
            self.text.plain(lang, k::ROUND_DEADLINE_REVEALED),
            reply.body
        );
        self.send_later(batch, Recipient::Channel(collab.channel), reply)
    }

    /// Reminds the participants who have not answered yet: by direct message those who asked
    /// for it, the others together in one channel message that names them without pinging.
    fn remind(&self, batch: &mut Batch, id: RoundId) -> Result<(), Failure> {
        let Some(round) = self.load::<Round>(Tree::Rounds, &id.key())? else {
            return Ok(());
        };
        // A reminder that comes too late (the bot was down past the deadline) is not sent.
        if round.status != RoundStatus::Open || round.deadline.is_some_and(|d| d <= self.now()) {
            return Ok(());
        }
        let Some(collab) =
            self.load::<Collaboration>(Tree::Collaborations, &round.channel.key())?
        else {
            return Ok(());
        };
        let answered: Vec<UserId> = self.answers(round.id)?.iter().map(|a| a.user).collect();
        let mut waiting: Vec<Participant> = self
            .load_all::<Participant>(Tree::Participants, &round.channel.key())?
            .into_iter()
            .filter(|p| !answered.contains(&p.user))
            .collect();
        // Named in alphabetical order, as `/ronde status` names them.
        waiting.sort_by_cached_key(|p| p.name.to_lowercase());
        let lang = collab.lang;
        let question = self.text.academy(lang).step(round.step).question.clone();
        let zone = self.zone_of(&collab);
        let deadline = round
            .deadline
            .map(|d| crate::time::date_time(lang, zone, d));
        let data = |names: Option<String>| {
            json!({
                "round": round.id.to_string(),
                "question": question,
                "deadline": deadline,
                "channel": round.channel.0.to_string(),
                "names": names,
            })
        };
        for p in waiting.iter().filter(|p| p.reminders == Reminders::Direct) {
            let reply = Reply::private(self.t(lang, k::ROUND_REMINDER_DM, data(None))).markdown();
            self.send_later(batch, Recipient::User(p.user), reply)?;
        }
        let in_channel: Vec<&str> = waiting
            .iter()
            .filter(|p| p.reminders == Reminders::Channel)
            .map(|p| p.name.as_str())
            .collect();
        if !in_channel.is_empty() {
            let reply = Reply::channel(self.t(
                lang,
                k::ROUND_REMINDER_CHANNEL,
                data(Some(in_channel.join(", "))),
            ))
            .titled(format!(
                "{} · {}",
                round.id,
                self.step_label(lang, round.step)
            ))
            .choice(
                self.text.plain(lang, k::ROUND_ANSWER_BUTTON),
                Action::Answer(round.id),
            );
            self.send_later(batch, Recipient::Channel(round.channel), reply)?;
        }
        Ok(())
    }

    /// Jobs for a round with a deadline: a reminder before it, the reveal at it. The reminder
    /// comes a day ahead, or halfway for a round shorter than two days.
    pub(super) fn schedule_round(&self, batch: &mut Batch, round: &Round) -> Result<(), Failure> {
        let Some(deadline) = round.deadline else {
            return Ok(());
        };
        let length = deadline - round.started_at;
        let before = if length > Duration::days(2) {
            Duration::days(1)
        } else {
            length / 2
        };
        self.schedule(batch, deadline - before, JobKind::RemindRound(round.id))?;
        self.schedule(batch, deadline, JobKind::RevealRound(round.id))
    }

    /// Records someone as taking part in a collaboration, keeping their reminder choice.
    pub(super) fn note_participant(
        &self,
        batch: &mut Batch,
        channel: ChannelId,
        user: UserId,
        name: &str,
        reminders: Option<Reminders>,
    ) -> Result<(), Failure> {
        let key = participant_key(channel, user);
        let existing = self.load::<Participant>(Tree::Participants, &key)?;
        let p = Participant {
            channel,
            user,
            name: name.to_owned(),
            reminders: reminders
                .or(existing.as_ref().map(|p| p.reminders))
                .unwrap_or(Reminders::Channel),
        };
        if existing.as_ref() != Some(&p) {
            batch.put(Tree::Participants, key, encode(&p)?);
        }
        Ok(())
    }

    /// A member chooses how they are reminded of rounds in this collaboration.
    pub(super) fn set_reminders(&self, ctx: &Ctx, how: Reminders) -> Outcome {
        let lang = ctx.actor.lang;
        let guard = self.lock();
        let collab = self.require_collaboration(ctx)?;
        let name: String = super::clean_line(&ctx.actor.name)
            .chars()
            .take(super::limits::NAME)
            .collect();
        let mut batch = Batch::new();
        self.note_participant(&mut batch, collab.channel, ctx.actor.id, &name, Some(how))?;
        self.commit_unlocking(guard, batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::REMINDERS_SAVED,
            json!({"how": how.key()}),
        )))
    }
}
