//! A member's own data (AVG/GDPR): export everything the academy holds about them as JSON, and
//! delete it all. After a delete no record carries their id or their name, and the store is
//! rewritten so that no file of the database holds the removed bytes either.

use super::{encode, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::{Action, Attachment, Reply};
use crate::search;
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The part of a digest the export looks at.
#[derive(Deserialize)]
struct Composed {
    id: DigestId,
    composed_by: Option<UserId>,
}

/// Everything about one person, as exported.
#[derive(Debug, Serialize)]
pub struct MyData {
    pub user_id: UserId,
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub profile: Option<Member>,
    pub answers: Vec<Answer>,
    pub lessons: Vec<Lesson>,
    pub rounds_started: Vec<RoundId>,
    pub collaborations_configured: Vec<ChannelId>,
    pub digests_composed: Vec<DigestId>,
    pub lessons_reviewed: Vec<LessonId>,
    /// The collaborations whose rounds they take part in, and how they are reminded.
    pub participation: Vec<Participant>,
    /// Lessons they said they applied, with their notes.
    pub applications: Vec<Application>,
    /// Their perspective votes in step-3 rounds.
    pub votes: Vec<Vote>,
    /// Where they placed collaborations on the doing/learning figure.
    pub placements: Vec<Placement>,
    /// Moderator actions they took.
    pub moderator_actions: Vec<super::AuditEntry>,
}

impl Engine {
    /// Gathers every record that names `user`. Their lessons and the lessons they reviewed come
    /// from the index, their answers and votes from one look per round: the work follows what
    /// the member did, not the size of the library.
    pub fn collect_my_data(&self, user: UserId) -> Result<MyData, Failure> {
        let rounds: Vec<Round> = self.load_all(Tree::Rounds, &[])?;
        let mut answers = Vec::new();
        let mut votes = Vec::new();
        for r in &rounds {
            let key = [r.id.key(), user.key()].concat();
            answers.extend(self.load::<Answer>(Tree::Answers, &key)?);
            votes.extend(self.load::<Vote>(Tree::Votes, &key)?);
        }
        let collabs: Vec<Collaboration> = self.load_all(Tree::Collaborations, &[])?;
        // Only who composed each digest is read, not its list of lessons.
        let digests: Vec<Composed> = self.load_all(Tree::Digests, &[])?;
        let lessons_reviewed = self
            .store
            .scan_prefix(Tree::LessonIndex, &search::reviewer_prefix(user))?
            .iter()
            .filter_map(|(key, _)| search::id_of(key))
            .collect();
        Ok(MyData {
            user_id: user,
            exported_at: self.now(),
            profile: self.member(user)?,
            answers,
            lessons: self.lessons_by(user)?,
            rounds_started: rounds
                .iter()
                .filter(|r| r.started_by == Some(user))
                .map(|r| r.id)
                .collect(),
            collaborations_configured: collabs
                .iter()
                .filter(|c| c.configured_by == Some(user))
                .map(|c| c.channel)
                .collect(),
            digests_composed: digests
                .iter()
                .filter(|d| d.composed_by == Some(user))
                .map(|d| d.id)
                .collect(),
            lessons_reviewed,
            participation: self
                .load_all::<Participant>(Tree::Participants, &[])?
                .into_iter()
                .filter(|p| p.user == user)
                .collect(),
            applications: self
                .load_all::<Application>(Tree::Applications, &[])?
                .into_iter()
                .filter(|a| a.user == user)
                .collect(),
            votes,
            placements: self
                .load_all::<Placement>(Tree::Placements, &[])?
                .into_iter()
                .filter(|p| p.user == user)
                .collect(),
            moderator_actions: self.audit_of(user)?,
        })
    }

    pub(super) fn my_data_export(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let data = self.collect_my_data(ctx.actor.id)?;
        let bytes = serde_json::to_vec_pretty(&data).map_err(|e| Failure::Internal(e.into()))?;
        let mut reply = Reply::private(self.t(
            lang,
            k::MYDATA_EXPORTED,
            json!({"answers": data.answers.len(), "lessons": data.lessons.len()}),
        ));
        reply.attachments.push(Attachment {
            filename: format!("academie-{}.json", ctx.actor.id.0),
            bytes,
        });
        Ok(reply)
    }

    pub(super) fn my_data_delete(&self, ctx: &Ctx, confirm: bool) -> Outcome {
        let lang = ctx.actor.lang;
        let user = ctx.actor.id;
        let _guard = self.lock();
        let data = self.collect_my_data(user)?;
        let counts = json!({"answers": data.answers.len(), "lessons": data.lessons.len()});
        if !confirm {
            return Ok(
                Reply::private(self.t(lang, k::MYDATA_CONFIRM, counts)).choice(
                    self.text.plain(lang, k::MYDATA_CONFIRM_BUTTON),
                    Action::ConfirmDelete,
                ),
            );
        }
        let mut batch = Batch::new();
        batch.remove(Tree::Members, user.key().to_vec());
        for p in &data.placements {
            batch.remove(
                Tree::Placements,
                [
                    p.channel.key().as_slice(),
                    &crate::search::time_key(p.at),
                    &p.user.key(),
                ]
                .concat(),
            );
        }
        for v in &data.votes {
            batch.remove(Tree::Votes, [v.round.key(), v.user.key()].concat());
        }
        for a in &data.applications {
            batch.remove(Tree::Applications, [a.lesson.key(), a.user.key()].concat());
        }
        for p in &data.participation {
            batch.remove(Tree::Participants, [p.channel.key(), p.user.key()].concat());
        }
        // Messages still waiting for them are not sent; messages waiting for a channel lose
        // their answers and name (a reveal or a reminder queued before the delete).
        let names: Vec<String> = data
            .participation
            .iter()
            .map(|p| p.name.clone())
            .chain(data.answers.iter().map(|a| a.name.clone()))
            .chain(data.profile.iter().map(|m| m.name.clone()))
            .filter(|n| !n.trim().is_empty())
            .collect();
        let anonymous = self.text.plain(lang, k::LESSON_BY_ANONYMOUS);
        self.forget_in_audit(&mut batch, user, &anonymous)?;
        for mut out in self.outbox()? {
            let key = out.id.to_be_bytes().to_vec();
            if out.to == super::Recipient::User(user) {
                batch.remove(Tree::Outbox, key);
                continue;
            }
            let before = out.reply.clone();
            out.reply.sections.retain(|s| {
                !data.answers.iter().any(|a| s.body.contains(&a.text))
                    && !names.iter().any(|n| s.heading.starts_with(n.as_str()))
            });
            for name in &names {
                out.reply.body = out.reply.body.replace(name.as_str(), &anonymous);
                for s in &mut out.reply.sections {
                    s.body = s.body.replace(name.as_str(), &anonymous);
                }
            }
            if out.reply != before {
                batch.put(Tree::Outbox, key, encode(&out)?);
            }
        }
        for a in &data.answers {
            batch.remove(Tree::Answers, [a.round.key(), a.user.key()].concat());
        }
        let deleted: Vec<LessonId> = data.lessons.iter().map(|l| l.id).collect();
        for l in &data.lessons {
            self.remove_lesson(&mut batch, l)?;
        }
        // Records that merely mention the person as the one who acted keep existing, unnamed.
        for mut r in self.load_all::<Round>(Tree::Rounds, &[])? {
            if r.started_by == Some(user) {
                r.started_by = None;
                batch.put(Tree::Rounds, r.id.key().to_vec(), encode(&r)?);
            }
        }
        for mut c in self.load_all::<Collaboration>(Tree::Collaborations, &[])? {
            if c.configured_by == Some(user) {
                c.configured_by = None;
                batch.put(Tree::Collaborations, c.channel.key().to_vec(), encode(&c)?);
            }
        }
        for mut d in self.load_all::<Digest>(Tree::Digests, &[])? {
            let before = d.clone();
            if d.composed_by == Some(user) {
                d.composed_by = None;
            }
            d.lessons.retain(|id| !deleted.contains(id));
            if d != before {
                batch.put(Tree::Digests, d.id.key().to_vec(), encode(&d)?);
            }
        }
        for old in self.load_all::<Lesson>(Tree::Lessons, &[])? {
            if old.reviewed_by == Some(user) && old.author != Some(user) {
                let mut l = old.clone();
                l.reviewed_by = None;
                self.put_lesson(&mut batch, Some(&old), &l)?;
            }
        }
        self.commit(batch)?;
        // The store still holds the removed bytes in its files until they are rewritten; the
        // person is told their data is gone only once it is gone from the disk too.
        self.store.compact()?;
        // Their lessons leave the published site too.
        self.refresh_site();
        Ok(Reply::private(self.t(lang, k::MYDATA_DELETED, counts)))
    }
}
