//! The audit log: every moderator action, who took it and when, readable by moderators, so a
//! community can see how its space is governed. Recorded by `Engine::handle` after the action
//! succeeded; a member who deletes their data is removed from it by name and id.

use super::{decode, encode, Ctx, Engine, Failure, Outcome, Request};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::search::time_key;
use crate::store::{Batch, Tree};
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

impl Engine {
    /// Records a moderator action that succeeded. A failure to record is logged, not shown:
    /// the action itself is already saved.
    pub(super) fn audit(&self, ctx: &Ctx, request: &Request) {
        let Some((mut action, mut target)) = described(request) else {
            return;
        };
        if !ctx.actor.role.can_moderate() {
            return;
        }
        // What the request alone does not say: which round, and which way a feature went.
        match request {
            Request::RoundReveal { round } | Request::RoundClose { round } => {
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
            Request::ReviewFeature { id } => {
                if let Ok(Some(lesson)) = self.load::<Lesson>(Tree::Lessons, &id.key()) {
                    action = if lesson.featured {
                        k::AUDIT_FEATURED
                    } else {
                        k::AUDIT_UNFEATURED
                    };
                }
            }
            _ => {}
        }
        let result = (|| {
            let _guard = self.lock();
            let mut batch = Batch::new();
            let id = self.next_id(&mut batch, "audit")?;
            let entry = AuditEntry {
                at: self.now(),
                actor: Some(ctx.actor.id),
                name: super::clean_line(&ctx.actor.name),
                channel: ctx.channel,
                action: action.to_owned(),
                target,
            };
            batch.put(
                Tree::Audit,
                [time_key(entry.at).as_slice(), &id.to_be_bytes()].concat(),
                encode(&entry)?,
            );
            self.commit(batch)
        })();
        if let Err(e) = result {
            tracing::error!("could not record a moderator action: {e}");
        }
    }

    /// The moderator actions, newest first, a page at a time (moderators only).
    pub(super) fn audit_log(&self, ctx: &Ctx, page: usize) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        // Every entry in the time zone of the channel asked in, so the list reads as one.
        let zone = self.zone_in(ctx.channel);
        let entries = self.store.scan_prefix(Tree::Audit, &[])?;
        let pages = entries.len().div_ceil(SHOWN).max(1);
        let page = page.min(pages - 1);
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
                    json!({"page": page + 1, "pages": pages, "count": entries.len()}),
                ));
            }
            lines.join("\n")
        };
        let mut reply = Reply::private(body).titled(self.text.plain(lang, k::AUDIT_TITLE));
        if page > 0 {
            reply = reply.choice(
                self.text.plain(lang, k::SEARCH_PREVIOUS),
                Action::AuditPage(page - 1),
            );
        }
        if page + 1 < pages {
            reply = reply.choice(
                self.text.plain(lang, k::SEARCH_NEXT),
                Action::AuditPage(page + 1),
            );
        }
        Ok(reply)
    }

    /// The audit entries of one person, for their data export.
    /// Only who acted is read of each entry; their own entries are read whole.
    pub(super) fn audit_of(&self, user: UserId) -> Result<Vec<AuditEntry>, Failure> {
        /// The part of an entry that says who acted.
        #[derive(Deserialize)]
        struct Who {
            actor: Option<UserId>,
        }
        let mut out = Vec::new();
        for (key, value) in self.store.scan_prefix(Tree::Audit, &[])? {
            let who: Who = decode(Tree::Audit, &key, &value)?;
            if who.actor == Some(user) {
                out.push(decode(Tree::Audit, &key, &value)?);
            }
        }
        Ok(out)
    }

    /// Removes a person from the audit log: the action stays, unnamed.
    pub(super) fn forget_in_audit(
        &self,
        batch: &mut Batch,
        user: UserId,
        anonymous: &str,
    ) -> Result<(), Failure> {
        for (key, value) in self.store.scan_prefix(Tree::Audit, &[])? {
            let mut e: AuditEntry = decode(Tree::Audit, &key, &value)?;
            if e.actor == Some(user) {
                e.actor = None;
                e.name = anonymous.to_owned();
                batch.put(Tree::Audit, key, encode(&e)?);
            }
        }
        Ok(())
    }
}
