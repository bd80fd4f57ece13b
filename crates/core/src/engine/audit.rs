//! The audit log: every moderator action, who took it and when, readable by moderators, so a
//! community can see how its space is governed. Saved in the first batch the action commits
//! (or on its own, for an action that changed nothing); a member who deletes their data is
//! removed from it by name and id.

use super::{decode, encode, Ctx, Engine, Failure, Outcome, Request};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::search::time_key;
use crate::store::{Batch, Entry, Tree};
use crate::text::keys as k;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One moderator action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub name: String,
    pub channel: Option<ChannelId>,
    /// The message key naming the action (`audit.round_start`, …).
    pub action: String,
    pub target: String,
}

/// Entries shown per page of the log.
const SHOWN: usize = 25;

/// Where the number of entries in the log is kept (in `Tree::Meta`), so that a page of the log
/// says how many there are without reading them all. Entries are only ever added (a deletion
/// leaves the action, unnamed), so the number moves with each entry, in the same batch. A
/// database from before it was kept counts its log once, when it is first needed.
const COUNT_KEY: &[u8] = b"audit_count";

/// The action a moderator request stands for, and what it acted on.
fn described(request: &Request) -> Option<(&'static str, String)> {
    Some(match request {
        Request::Setup { task, .. } => (k::AUDIT_SETUP, task.clone()),
        Request::RoundStart { step, .. } => (k::AUDIT_ROUND_START, format!("{}", step.number())),
        Request::RoundReveal { .. } => (k::AUDIT_ROUND_REVEAL, String::new()),
        Request::RoundClose { .. } => (k::AUDIT_ROUND_CLOSE, String::new()),
        Request::ReviewApprove { id } => (k::AUDIT_APPROVE, id.to_string()),
        Request::ReviewEdit { id, .. } => (k::AUDIT_REVIEW_EDIT, id.to_string()),
        Request::ReviewReject { id, .. } => (k::AUDIT_REJECT, id.to_string()),
        // Which way it went is read from the lesson once the request succeeded.
        Request::ReviewFeature { id } => (k::AUDIT_FEATURE, id.to_string()),
        Request::DigestCompose { .. } => (k::AUDIT_DIGEST_COMPOSE, String::new()),
        Request::DigestPublish { id } => (k::AUDIT_DIGEST_PUBLISH, id.to_string()),
        Request::Cadence { .. } => (k::AUDIT_CADENCE, String::new()),
        Request::AskDoingLearning => (k::AUDIT_DOING_ASK, String::new()),
        Request::Exchange(change) if !change.is_empty() => (k::AUDIT_EXCHANGE, String::new()),
        Request::DigestTake { id } => (k::AUDIT_DIGEST_TAKE, id.to_string()),
        Request::QuestionToLesson { id, .. } => (k::AUDIT_QUESTION_LESSON, id.to_string()),
        Request::MeetingPlan { .. } => (k::AUDIT_MEETING_PLAN, String::new()),
        Request::MeetingLessons { id } => (k::AUDIT_MEETING_LESSONS, id.to_string()),
        _ => return None,
    })
}

/// The entry of the moderator request this thread is handling, until a batch of that request
/// takes it: the action and its record are then saved together or not at all, in one flush.
struct Pending {
    /// The engine handling the request (another engine on this thread, one rewriting a copy
    /// of the data, is not it).
    engine: usize,
    actor: Actor,
    channel: Option<ChannelId>,
    action: &'static str,
    target: String,
    /// A feature request: which way it went is read from the lesson as the batch leaves it.
    feature: Option<LessonId>,
}

thread_local! {
    static PENDING: std::cell::RefCell<Option<Pending>> = const { std::cell::RefCell::new(None) };
}

/// Ends the request's entry when the request ends, also by a panic, so it never reaches a
/// batch of later work on the same thread.
pub(super) struct AuditScope<'e> {
    engine: &'e Engine,
}

impl AuditScope<'_> {
    /// The request succeeded: an entry no batch took (a request that had nothing to change)
    /// is saved on its own.
    pub(super) fn succeeded(self) {
        if let Some(pending) = PENDING.with(|p| p.borrow_mut().take()) {
            let result = (|| {
                let _guard = self.engine.lock();
                let mut batch = Batch::new();
                self.engine.put_audit(&mut batch, pending)?;
                self.engine.commit(batch)
            })();
            if let Err(e) = result {
                tracing::error!("could not record a moderator action: {e}");
            }
        }
    }
}

impl Drop for AuditScope<'_> {
    fn drop(&mut self) {
        // Refused or failed (or already recorded): what is pending is not an action taken.
        PENDING.with(|p| p.borrow_mut().take());
    }
}

impl Engine {
    /// Before a request runs: notes the entry it will make if it is a moderator's action, to
    /// be saved with the first batch it commits.
    pub(super) fn audit_scope(&self, ctx: &Ctx, request: &Request) -> AuditScope<'_> {
        let pending = described(request)
            .filter(|_| ctx.actor.role.can_moderate())
            .map(|(action, mut target)| {
                // What the request alone does not say: which round.
                if let Request::RoundReveal { round } | Request::RoundClose { round } = request {
                    let acted_on = match (round, ctx.channel) {
                        (Some(r), _) => Some(*r),
                        (None, Some(channel)) => {
                            self.latest_round(channel).ok().flatten().map(|r| r.id)
                        }
                        (None, None) => None,
                    };
                    if let Some(r) = acted_on {
                        target = r.to_string();
                    }
                }
                Pending {
                    engine: self as *const Engine as usize,
                    actor: ctx.actor.clone(),
                    channel: ctx.channel,
                    action,
                    target,
                    feature: match request {
                        Request::ReviewFeature { id } => Some(*id),
                        _ => None,
                    },
                }
            });
        PENDING.with(|p| *p.borrow_mut() = pending);
        AuditScope { engine: self }
    }

    /// The moderator request this thread handles turned out to change nothing (it only showed
    /// something): it is no action for the log.
    pub(super) fn not_an_action(&self) {
        let me = self as *const Engine as usize;
        PENDING.with(|p| {
            let mut p = p.borrow_mut();
            if p.as_ref().is_some_and(|x| x.engine == me) {
                p.take();
            }
        });
    }

    /// Under the write lock, as a batch is committed: the entry of the moderator request this
    /// thread handles, the first time one of its batches is.
    pub(super) fn audit_into(&self, batch: &mut Batch) -> Result<(), Failure> {
        let me = self as *const Engine as usize;
        let Some(pending) = PENDING.with(|p| {
            let mut p = p.borrow_mut();
            p.as_ref()
                .is_some_and(|x| x.engine == me)
                .then(|| p.take())?
        }) else {
            return Ok(());
        };
        self.put_audit(batch, pending)
    }

    /// Adds the entry to `batch` with its id and the log's new count (under the write lock).
    fn put_audit(&self, batch: &mut Batch, pending: Pending) -> Result<(), Failure> {
        let mut action = pending.action;
        if let Some(id) = pending.feature {
            let lesson = match batch.pending(Tree::Lessons, &id.key()) {
                Some(value) => value.and_then(|v| serde_json::from_slice::<Lesson>(v).ok()),
                None => self.load::<Lesson>(Tree::Lessons, &id.key())?,
            };
            if let Some(lesson) = lesson {
                action = if lesson.featured {
                    k::AUDIT_FEATURED
                } else {
                    k::AUDIT_UNFEATURED
                };
            }
        }
        let id = self.next_id(batch, "audit")?;
        let count = match self.kept_count()? {
            Some(n) => n,
            None => self.counted()?,
        };
        batch.put(
            Tree::Meta,
            COUNT_KEY.to_vec(),
            (count as u64 + 1).to_be_bytes().to_vec(),
        );
        let entry = AuditEntry {
            at: self.now(),
            actor: Some(pending.actor.id),
            name: super::clean_line(&pending.actor.name),
            channel: pending.channel,
            action: action.to_owned(),
            target: pending.target,
        };
        batch.put(
            Tree::Audit,
            [time_key(entry.at).as_slice(), &id.to_be_bytes()].concat(),
            encode(&entry)?,
        );
        Ok(())
    }

    /// The moderator actions, newest first, a page at a time (moderators only).
    pub(super) fn audit_log(&self, ctx: &Ctx, page: usize) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        // Every entry in the time zone of the channel asked in, so the list reads as one.
        let zone = self.zone_in(ctx.channel);
        let count = self.audit_count()?;
        let pages = count.div_ceil(SHOWN).max(1);
        let page = page.min(pages - 1);
        let entries = self.latest_audit((page + 1) * SHOWN)?;
        let mut lines = Vec::new();
        for (key, value) in entries.iter().rev().skip(page * SHOWN).take(SHOWN) {
            let e: AuditEntry = decode(Tree::Audit, key, value)?;
            lines.push(self.t(
                lang,
                k::AUDIT_ENTRY,
                json!({
                    "date": crate::time::short_date_time(lang, zone, e.at),
                    "name": e.name,
                    "action": self.text.plain(lang, &e.action),
                    "target": (!e.target.is_empty()).then_some(e.target),
                }),
            ));
        }
        let body = if lines.is_empty() {
            self.text.plain(lang, k::AUDIT_NONE)
        } else {
            if pages > 1 {
                lines.push(self.t(
                    lang,
                    k::AUDIT_PAGE,
                    json!({"page": page + 1, "pages": pages, "count": count}),
                ));
            }
            lines.join("\n")
        };
        let reply = Reply::private(body).titled(self.text.plain(lang, k::AUDIT_TITLE));
        Ok(self.page_choices(lang, reply, (page, pages), Action::AuditPage))
    }

    /// The number of entries kept with the log, if it is.
    fn kept_count(&self) -> Result<Option<usize>, Failure> {
        Ok(self
            .store
            .get(Tree::Meta, COUNT_KEY)?
            .and_then(|b| b.try_into().ok().map(u64::from_be_bytes))
            .map(|n| n as usize))
    }

    /// The entries in the log, counted one by one.
    fn counted(&self) -> Result<usize, Failure> {
        Ok(self.store.scan_prefix(Tree::Audit, &[])?.len())
    }

    /// The number of entries in the log: as kept, or counted once and kept from then on.
    fn audit_count(&self) -> Result<usize, Failure> {
        if let Some(n) = self.kept_count()? {
            return Ok(n);
        }
        let _guard = self.lock();
        if let Some(n) = self.kept_count()? {
            return Ok(n);
        }
        let n = self.counted()?;
        let mut batch = Batch::new();
        batch.put(
            Tree::Meta,
            COUNT_KEY.to_vec(),
            (n as u64).to_be_bytes().to_vec(),
        );
        if let Err(e) = self.commit(batch) {
            // The page is still right; the next one counts again.
            tracing::error!("could not keep the number of moderator actions: {e}");
        }
        Ok(n)
    }

    /// At least the latest `n` entries (all, if there are fewer), oldest first. The log is kept
    /// in time order, so it is read backwards in windows of time that double until they hold
    /// `n`: the work follows what is shown, not the length of the history.
    fn latest_audit(&self, n: usize) -> Result<Vec<Entry>, Failure> {
        // Past every key: a time key is eight bytes and an id eight more.
        let end = [0xFF; 17];
        let mut span = chrono::Duration::days(7);
        loop {
            let start = self.now().checked_sub_signed(span);
            let from = start.map_or([0; 8], time_key);
            let entries = self.store.scan_range(Tree::Audit, &from, &end)?;
            if entries.len() >= n || start.is_none_or(|s| s.timestamp() < 0) {
                return Ok(entries);
            }
            span = span * 2;
        }
    }

    /// The audit entries of one person, for their data export.
    pub(super) fn audit_of(&self, user: UserId) -> Result<Vec<AuditEntry>, Failure> {
        // The entries that name them are listed under their id.
        Ok(self
            .mentioned_records::<AuditEntry>(user, super::mentions::Kind::Audit, Tree::Audit)?
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| e.actor == Some(user))
            .collect())
    }

    /// Removes a person from the audit log: the action stays, unnamed.
    pub(super) fn forget_in_audit(
        &self,
        batch: &mut Batch,
        user: UserId,
        anonymous: &str,
    ) -> Result<(), Failure> {
        for (key, mut e) in
            self.mentioned_records::<AuditEntry>(user, super::mentions::Kind::Audit, Tree::Audit)?
        {
            if e.actor == Some(user) {
                e.actor = None;
                e.name = anonymous.to_owned();
                batch.put(Tree::Audit, key, encode(&e)?);
            }
        }
        Ok(())
    }
}
