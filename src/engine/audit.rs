//! The audit log: every moderator action, who took it and when, readable by moderators, so a
//! community can see how its space is governed. Recorded by `Engine::handle` after the action
//! succeeded; a member who deletes their data is removed from it by name and id.

use super::{decode, encode, Ctx, Engine, Failure, Outcome, Request};
use crate::domain::*;
use crate::reply::Reply;
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

/// Entries shown per look at the log.
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
        Request::ReviewFeature { id } => (k::AUDIT_FEATURE, id.to_string()),
        Request::DigestCompose { .. } => (k::AUDIT_DIGEST_COMPOSE, String::new()),
        Request::DigestPublish { id } => (k::AUDIT_DIGEST_PUBLISH, id.to_string()),
        Request::Cadence { .. } => (k::AUDIT_CADENCE, String::new()),
        Request::AskDoingLearning => (k::AUDIT_DOING_ASK, String::new()),
        _ => return None,
    })
}

impl Engine {
    /// Records a moderator action that succeeded. A failure to record is logged, not shown:
    /// the action itself is already saved.
    pub(super) fn audit(&self, ctx: &Ctx, request: &Request) {
        let Some((action, target)) = described(request) else {
            return;
        };
        if !ctx.actor.role.can_moderate() {
            return;
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

    /// The latest moderator actions, newest first (moderators only).
    pub(super) fn audit_log(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let entries = self.latest_audit(SHOWN)?;
        let mut lines = Vec::new();
        for (key, value) in entries.iter().rev().take(SHOWN) {
            let e: AuditEntry = decode(Tree::Audit, key, value)?;
            lines.push(self.t(
                lang,
                k::AUDIT_ENTRY,
                json!({
                    "date": e.at.format("%Y-%m-%d %H:%M").to_string(),
                    "name": e.name,
                    "action": self.text.plain(lang, &e.action),
                    "target": (!e.target.is_empty()).then_some(e.target),
                }),
            ));
        }
        let body = if lines.is_empty() {
            self.text.plain(lang, k::AUDIT_NONE)
        } else {
            lines.join("\n")
        };
        Ok(Reply::private(body).titled(self.text.plain(lang, k::AUDIT_TITLE)))
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
