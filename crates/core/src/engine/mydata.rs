//! A member's own data (AVG/GDPR): export everything the academy holds about them as JSON, and
//! delete it all. After a delete no record carries their id or their name; after the reply the
//! upkeep rewrites the store and the copies, so that no file holds the removed bytes either.

use super::backup::{self, BackupError};
use super::backup_in_place::BackupInPlace;
use super::mentions::Kind;
use super::{encode, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::{Action, Attachment, Reply};
use crate::search;
use crate::store::{Batch, Store, StoreError, Tree};
use crate::text::keys as k;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::{Arc, MutexGuard};

/// A confirmed deletion, recorded until it is complete. It names the person only by id, and
/// exists only until their data is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Erasure {
    user: UserId,
    /// The language the unnamed author is called in, as in the request.
    lang: Lang,
    /// The files were rewritten without them and they were sent word of it; from when a copy
    /// may hold that message. It names them (its address), so once it has left the outbox the
    /// store, and the automatic backups taken since, are rewritten once more and only then is
    /// the record forgotten. Absent in records of earlier versions: not yet.
    #[serde(default)]
    told: Option<chrono::DateTime<chrono::Utc>>,
}

/// How far a deletion got.
#[derive(Debug, Default)]
struct Erased {
    /// The database was rewritten: the removed bytes are in none of its files.
    rewritten: bool,
    /// Copies the academy made that may still hold the person's data: they could not be
    /// rewritten or removed.
    kept: Vec<PathBuf>,
    /// Something failed for a passing reason: the record stays and it is tried again.
    retry: bool,
}

/// The part of a digest the export looks at.
#[derive(Deserialize)]
struct Composed {
    id: DigestId,
    composed_by: Option<UserId>,
    #[serde(default)]
    as_published: Vec<Lesson>,
}

/// What a deletion reads of a digest that showed the member, without its list of lessons:
/// whether it names them or keeps one of their lessons as published.
#[derive(Deserialize)]
struct Holds {
    composed_by: Option<UserId>,
    #[serde(default)]
    as_published: Vec<KeptLesson>,
}

/// A lesson a digest keeps as it published it: its id.
#[derive(Deserialize)]
struct KeptLesson {
    id: LessonId,
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
    /// Their lessons as published digests keep them, where they changed after publication.
    pub lessons_as_published: Vec<Lesson>,
    /// Questions they asked the academy (without whom a moderator asked for consent).
    pub questions: Vec<Question>,
    /// Their yes or no to their answers becoming part of a lesson.
    pub consents: Vec<(QuestionId, Consent)>,
    /// Lessons drafted from questions with their answer in it.
    pub lessons_from_answers: Vec<LessonId>,
    /// Their answers to questions to the academy, with whether they agreed to a lesson.
    pub question_answers: Vec<QuestionAnswer>,
    /// Meetings they said they will come to.
    pub sign_ups: Vec<SignUp>,
    /// Meetings they planned.
    pub meetings_planned: Vec<MeetingId>,
}

impl Engine {
    /// Gathers every record that names `user`. Their lessons and the lessons they reviewed come
    /// from the lesson index, the other records from the entries listed under their id
    /// (`mentions`), their answers and votes from one look per round of the collaborations they
    /// take part in: the work follows what the member did, not the size of the academy.
    pub fn collect_my_data(&self, user: UserId) -> Result<MyData, Failure> {
        use std::collections::BTreeSet;
        let participation: Vec<Participant> = self
            .mentioned_records::<Participant>(user, Kind::Participant, Tree::Participants)?
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| p.user == user)
            .collect();
        // Every answer and vote notes its author as a participant of the round's collaboration.
        let mut answers = Vec::new();
        let mut votes = Vec::new();
        for channel in participation
            .iter()
            .map(|p| p.channel)
            .collect::<BTreeSet<_>>()
        {
            for (key, _) in self
                .store
                .scan_prefix(Tree::RoundsByChannel, &channel.key())?
            {
                let key = [&key[8..], user.key().as_slice()].concat();
                answers.extend(self.load::<Answer>(Tree::Answers, &key)?);
                votes.extend(self.load::<Vote>(Tree::Votes, &key)?);
            }
        }
        answers.sort_by_key(|a| a.round);
        votes.sort_by_key(|v| v.round);
        let lessons = self.lessons_by(user)?;
        let theirs: BTreeSet<LessonId> = lessons.iter().map(|l| l.id).collect();
        // Only who composed a digest and the lesson versions it keeps are read, not its list
        // of lessons: the digests that published their lessons, and those they composed.
        let published_in: BTreeSet<DigestId> = lessons
            .iter()
            .flat_map(|l| l.published_in.iter().copied())
            .collect();
        let mut lessons_as_published = Vec::new();
        for id in &published_in {
            if let Some(d) = self.load::<Composed>(Tree::Digests, &id.key())? {
                lessons_as_published.extend(
                    d.as_published
                        .into_iter()
                        .filter(|l| theirs.contains(&l.id)),
                );
            }
        }
        let questions: Vec<Question> = self
            .mentioned_records::<Question>(user, Kind::Question, Tree::Questions)?
            .into_iter()
            .map(|(_, q)| q)
            .collect();
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
            lessons,
            rounds_started: self
                .mentioned_records::<Round>(user, Kind::Round, Tree::Rounds)?
                .into_iter()
                .filter(|(_, r)| r.started_by == Some(user))
                .map(|(_, r)| r.id)
                .collect(),
            collaborations_configured: self
                .mentioned_records::<Collaboration>(
                    user,
                    Kind::Collaboration,
                    Tree::Collaborations,
                )?
                .into_iter()
                .filter(|(_, c)| c.configured_by == Some(user))
                .map(|(_, c)| c.channel)
                .collect(),
            digests_composed: self
                .mentioned_records::<Composed>(user, Kind::Digest, Tree::Digests)?
                .into_iter()
                .filter(|(_, d)| d.composed_by == Some(user))
                .map(|(_, d)| d.id)
                .collect(),
            lessons_reviewed,
            participation,
            applications: self
                .mentioned_records::<Application>(user, Kind::Application, Tree::Applications)?
                .into_iter()
                .map(|(_, a)| a)
                .filter(|a| a.user == user)
                .collect(),
            votes,
            placements: self
                .mentioned_records::<Placement>(user, Kind::Placement, Tree::Placements)?
                .into_iter()
                .map(|(_, p)| p)
                .filter(|p| p.user == user)
                .collect(),
            moderator_actions: self.audit_of(user)?,
            lessons_as_published,
            questions: questions
                .iter()
                .filter(|q| q.asker == Some(user))
                .cloned()
                .map(|mut q| {
                    // Who answered, and whether they agreed, is theirs, not the asker's.
                    q.harvest = None;
                    q
                })
                .collect(),
            consents: questions
                .iter()
                .flat_map(|q| {
                    q.harvest
                        .iter()
                        .flat_map(|h| h.parts.iter())
                        .filter(|p| p.user == user)
                        .map(|p| (q.id, p.consent))
                })
                .collect(),
            lessons_from_answers: questions
                .iter()
                .filter_map(|q| q.harvest.as_ref())
                .filter(|h| {
                    h.parts
                        .iter()
                        .any(|p| p.user == user && p.consent == Consent::Given)
                })
                .filter_map(|h| h.lesson)
                .collect(),
            question_answers: self
                .mentioned_records::<QuestionAnswer>(
                    user,
                    Kind::QuestionAnswer,
                    Tree::QuestionAnswers,
                )?
                .into_iter()
                .map(|(_, a)| a)
                .filter(|a| a.user == user)
                .collect(),
            sign_ups: self
                .mentioned_records::<SignUp>(user, Kind::SignUp, Tree::SignUps)?
                .into_iter()
                .map(|(_, s)| s)
                .filter(|s| s.user == user)
                .collect(),
            meetings_planned: self
                .mentioned_records::<Meeting>(user, Kind::Meeting, Tree::Meetings)?
                .into_iter()
                .filter(|(_, m)| m.planned_by == Some(user))
                .map(|(_, m)| m.id)
                .collect(),
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
            filename: export_name(ctx.actor.id),
            bytes,
        });
        Ok(reply)
    }

    pub(super) fn my_data_delete(&self, ctx: &Ctx, confirm: bool) -> Outcome {
        let lang = ctx.actor.lang;
        let user = ctx.actor.id;
        if confirm && self.settings.erasures_dir.is_some() {
            return self.my_data_delete_now(lang, user);
        }
        // Only a deletion rewritten before its reply waits for another's rewrite.
        let _one_deletion = confirm.then(|| {
            self.erasing
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        });
        let guard = self.lock();
        let data = self.collect_my_data(user)?;
        let mut counts = json!({"answers": data.answers.len(), "lessons": data.lessons.len()});
        if !confirm {
            return Ok(
                Reply::private(self.t(lang, k::MYDATA_CONFIRM, counts)).choice(
                    self.text.plain(lang, k::MYDATA_CONFIRM_BUTTON),
                    Action::ConfirmDelete,
                ),
            );
        }
        // Without a place for the record nothing would finish the rewrite after a stop, so it
        // is done before the reply.
        let erased = self.erase(user, lang, guard)?;
        // Their lessons leave the published site too.
        self.refresh_site();
        let key = if !erased.rewritten {
            k::MYDATA_DELETE_UNFINISHED
        } else if !erased.kept.is_empty() {
            counts["copies"] = copies(&erased.kept).into();
            k::MYDATA_DELETED_COPIES_KEPT
        } else {
            k::MYDATA_DELETED
        };
        Ok(Reply::private(self.t(lang, key, counts)))
    }

    /// A confirmed deletion with a place for its record: recorded, removed in one batch under
    /// the write lock, and replied to. Rewriting the files (the store, the copies), whose cost
    /// follows the whole database, is left to [`Engine::finish_erasures`], which the adapters'
    /// tick runs at once and which tells the member when it is done.
    fn my_data_delete_now(&self, lang: Lang, user: UserId) -> Outcome {
        let guard = self.lock();
        let data = self.collect_my_data(user)?;
        let mut counts = json!({"answers": data.answers.len(), "lessons": data.lessons.len()});
        let data_lessons: Vec<LessonId> = data.lessons.iter().map(|l| l.id).collect();
        // Recorded before anything is removed, and under the write lock, so the background
        // step never forgets a record made after it looked: from here the deletion is
        // finished even if the academy stops half-way, or cannot write just now.
        let erasure = Erasure {
            user,
            lang,
            told: None,
        };
        if let Err(e) = self.record_erasure(&erasure) {
            tracing::error!("cannot record a deletion: {e}");
            return Err(self.storage_refusal(lang, &e));
        }
        let before = self.site_changes_now();
        // What was collected above is what the batch removes: the write lock is held since.
        let removed = self
            .erasure_batch_of(&data, user, lang, true)
            .and_then(|batch| self.commit(batch));
        drop(data);
        // Their lessons' pages leave the site before the reply; the other pages that showed
        // them (digests, lessons they applied) follow in the upkeep, as the files do.
        let site_later = removed.is_ok() && self.site_defer(&before, &data_lessons);
        drop(guard);
        {
            let mut upkeep = self.upkeep.lock().unwrap_or_else(|p| p.into_inner());
            upkeep.erasures_due = true;
            if removed.is_ok() {
                upkeep.removed_here.insert(user);
            } else {
                upkeep.removed_here.remove(&user);
            }
        }
        if let Err(failure) = removed {
            // Nothing was removed (a refused write is undone); the record stays.
            tracing::error!("a deletion could not be carried out yet: {failure}");
            return Ok(Reply::private(self.t(
                lang,
                k::MYDATA_DELETE_PENDING,
                counts,
            )));
        }
        self.refresh_site();
        counts["site"] = site_later.into();
        Ok(Reply::private(self.t(
            lang,
            k::MYDATA_DELETED_ERASING,
            counts,
        )))
    }

    /// Removes everything about `user` and rewrites the store, then the copies the academy made
    /// of it, and removes their export, all before the reply: for an engine without a place
    /// for a deletion's record. The removal is decided and committed under the write lock (`guard`); the rewrite of the
    /// store and the copies, whose cost grows with the whole database, run after it is
    /// released. An error means the removal itself was not saved.
    fn erase(
        &self,
        user: UserId,
        lang: Lang,
        guard: MutexGuard<'_, ()>,
    ) -> Result<Erased, Failure> {
        let batch = self.erasure_batch(user, lang, false)?;
        self.commit(batch)?;
        drop(guard);
        if let Err(e) = self.prune_digests() {
            tracing::error!("could not take deleted lessons out of the digests: {e}");
        }
        let mut erased = Erased::default();
        // The store still holds the removed bytes in its files until they are rewritten; the
        // person is told their data is gone only once it is gone from the disk too.
        match self.store.compact() {
            Ok(()) => erased.rewritten = true,
            Err(e) => {
                tracing::error!("the database could not be rewritten after a deletion: {e}");
                erased.retry = true;
            }
        }
        self.erase_in_copies(user, lang, None, &mut erased);
        self.remove_export(user, &mut erased);
        Ok(erased)
    }

    /// The batch that removes `user`'s records and unnames them in the records of others.
    /// With `lists_later` (a deletion's reply), their lessons stay in the index's lists, left
    /// out of every read, until the upkeep's [`Engine::prune_index`].
    fn erasure_batch(&self, user: UserId, lang: Lang, lists_later: bool) -> Result<Batch, Failure> {
        let data = self.collect_my_data(user)?;
        self.erasure_batch_of(&data, user, lang, lists_later)
    }

    /// As [`Engine::erasure_batch`], with `user`'s data as collected under the same write lock.
    fn erasure_batch_of(
        &self,
        data: &MyData,
        user: UserId,
        lang: Lang,
        lists_later: bool,
    ) -> Result<Batch, Failure> {
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
            // The site counts the application and shows its note: those pages follow.
            if let Some(l) = self.load::<Lesson>(Tree::Lessons, &a.lesson.key())? {
                self.site_touched([l.id], l.published_in);
            }
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
            .chain(data.question_answers.iter().map(|a| a.name.clone()))
            .chain(data.sign_ups.iter().map(|s| s.name.clone()))
            .chain(data.questions.iter().filter_map(|q| q.asker_name.clone()))
            .filter(|n| !n.trim().is_empty())
            .collect();
        let anonymous = self.text.plain(lang, k::LESSON_BY_ANONYMOUS);
        self.forget_in_audit(&mut batch, user, &anonymous)?;
        // What they wrote to the academy: messages still waiting lose it too.
        let texts: Vec<&str> = data
            .questions
            .iter()
            .map(|q| q.text.as_str())
            .chain(data.question_answers.iter().map(|a| a.text.as_str()))
            .filter(|t| !t.trim().is_empty())
            .collect();
        for mut out in self.outbox().waiting()? {
            let key = out.id.to_be_bytes().to_vec();
            if out.to == super::Recipient::User(user) {
                batch.remove(Tree::Outbox, key);
                continue;
            }
            let before = out.reply.clone();
            out.reply.sections.retain(|s| {
                !data.answers.iter().any(|a| s.body.contains(&a.text))
                    && !texts.iter().any(|t| s.body.contains(t))
                    && !names.iter().any(|n| s.heading.starts_with(n.as_str()))
            });
            for t in &texts {
                let headline = super::questions::headline(t);
                out.reply.body = out.reply.body.replace(t, "…").replace(&headline, "…");
                if let Some(title) = &mut out.reply.title {
                    *title = title.replace(&headline, "…");
                }
            }
            for name in &names {
                out.reply.body = out.reply.body.replace(name.as_str(), &anonymous);
                for s in &mut out.reply.sections {
                    s.body = s.body.replace(name.as_str(), &anonymous);
                }
            }
            if out.reply != before {
                batch.put(Tree::Outbox, key, super::outbox::encode(&out)?);
            }
        }
        for a in &data.answers {
            batch.remove(Tree::Answers, [a.round.key(), a.user.key()].concat());
        }
        self.forget_in_exchange(&mut batch, user, data)?;
        let deleted: Vec<LessonId> = data.lessons.iter().map(|l| l.id).collect();
        for l in &data.lessons {
            if lists_later {
                self.remove_lesson_later(&mut batch, l)?;
            } else {
                self.remove_lesson(&mut batch, l)?;
            }
        }
        // Records that merely mention the person as the one who acted keep existing, unnamed.
        for (key, mut r) in self.mentioned_records::<Round>(user, Kind::Round, Tree::Rounds)? {
            if r.started_by == Some(user) {
                r.started_by = None;
                batch.put(Tree::Rounds, key, encode(&r)?);
            }
        }
        for (key, mut c) in self.mentioned_records::<Collaboration>(
            user,
            Kind::Collaboration,
            Tree::Collaborations,
        )? {
            if c.configured_by == Some(user) {
                c.configured_by = None;
                batch.put(Tree::Collaborations, key, encode(&c)?);
            }
        }
        // The digests they composed and those that published their lessons: rewritten here
        // if they name them or keep one of their lessons as it was published. A digest that
        // only lists their lessons by id (a draft of another, a digest that published them
        // unchanged) names no one: those ids are taken out by the upkeep
        // ([`Engine::prune_digests`]), since a digest may list the whole library and
        // rewriting it here would make every deletion's reply grow with the library.
        let digests: std::collections::BTreeSet<DigestId> = data
            .lessons
            .iter()
            .flat_map(|l| l.published_in.iter().copied())
            .chain(data.digests_composed.iter().copied())
            .collect();
        for id in digests {
            let Some(bytes) = self.store.get(Tree::Digests, &id.key())? else {
                continue;
            };
            let holds: Holds = super::decode(Tree::Digests, &id.key(), &bytes)?;
            let theirs = holds.composed_by == Some(user)
                || holds.as_published.iter().any(|l| deleted.contains(&l.id));
            if !theirs {
                continue;
            }
            let mut d: Digest = super::decode(Tree::Digests, &id.key(), &bytes)?;
            // Counted rather than compared with a copy: a draft may list the whole library.
            let composed = d.composed_by == Some(user);
            if composed {
                d.composed_by = None;
            }
            let listed = d.lessons.len() + d.as_published.len();
            d.lessons.retain(|id| !deleted.contains(id));
            d.as_published.retain(|l| !deleted.contains(&l.id));
            if composed || d.lessons.len() + d.as_published.len() != listed {
                batch.put(Tree::Digests, d.id.key().to_vec(), encode(&d)?);
            }
        }
        for id in &data.lessons_reviewed {
            let Some(old) = self.load::<Lesson>(Tree::Lessons, &id.key())? else {
                continue;
            };
            if old.reviewed_by == Some(user) && old.author != Some(user) {
                let mut l = old.clone();
                l.reviewed_by = None;
                self.put_lesson(&mut batch, Some(&old), &l)?;
            }
        }
        self.forget_mentions(&mut batch, user)?;
        Ok(batch)
    }

    /// Takes the lessons that no longer exist out of every digest; how many digests changed.
    /// A deletion leaves this to its upkeep (see [`Engine::erasure_batch`]); until then a
    /// digest shows, a draft publishes and the list of digests counts only the lessons still
    /// there. Read a digest at a time: each may list the
    /// whole library.
    fn prune_digests(&self) -> Result<usize, Failure> {
        let _guard = self.lock();
        let exists = search::every_lesson(self.store.as_ref())?;
        let mut batch = Batch::new();
        let mut changed = 0;
        self.store
            .scan_each(Tree::Digests, &[], &mut |key, value| {
                let mut d: Digest = super::decode(Tree::Digests, key, value)
                    .map_err(|e| StoreError::Io(format!("{e:#}")))?;
                let listed = d.lessons.len();
                d.lessons.retain(|l| exists.contains(l.0));
                if d.lessons.len() != listed {
                    let bytes = encode(&d).map_err(|e| StoreError::Io(format!("{e:#}")))?;
                    batch.put(Tree::Digests, key.to_vec(), bytes);
                    changed += 1;
                }
                Ok(())
            })?;
        if !batch.is_empty() {
            self.commit(batch)?;
        }
        Ok(changed)
    }

    /// Takes the lessons a deletion's reply removed out of the index's lists, where its words
    /// are keys ([`search::remove_later`]); whether there were any. The lists that hold them
    /// are found without the write lock (the walk covers the whole index) and rewritten under
    /// it.
    pub(super) fn prune_index(&self) -> Result<bool, Failure> {
        let store = self.store.as_ref();
        let gone = crate::postings::gone(store)?;
        if gone.is_empty() {
            return Ok(false);
        }
        let keys = search::lists_holding(store, &gone)?;
        let _guard = self.lock();
        // Only what is still gone: a reply whose write was refused after it was applied put
        // its lessons back (and out of the list of removed lessons) meanwhile.
        let gone = gone & crate::postings::gone(store)?;
        if gone.is_empty() {
            return Ok(false);
        }
        let mut batch = Batch::new();
        search::forget_gone(store, &mut batch, &keys, &gone)?;
        self.commit(batch)?;
        Ok(true)
    }

    /// Rewrites the automatic backups and the databases set aside by restores without `user`.
    /// A backup that cannot be read cannot be restored either, so it is removed; what cannot be
    /// rewritten or removed is named in `erased.kept`.
    fn erase_in_copies(
        &self,
        user: UserId,
        lang: Lang,
        since: Option<chrono::DateTime<chrono::Utc>>,
        erased: &mut Erased,
    ) {
        if let Some(policy) = &self.settings.backups {
            for path in backup::automatic(self.disk.as_ref(), &policy.dir) {
                // After the message: only a backup taken since may hold it; the others were
                // rewritten without the member before it was queued.
                let older = since
                    .zip(backup::taken_at(&path))
                    .is_some_and(|(s, t)| t < s);
                if older {
                    continue;
                }
                let Err(e) = self.erase_in_backup(&path, user, lang) else {
                    continue;
                };
                tracing::error!("{} could not be rewritten: {e}", path.display());
                let unreadable = !matches!(e, BackupError::Write { .. } | BackupError::Store(_));
                if unreadable && self.disk.remove_file(&path).is_ok() {
                    continue;
                }
                erased.retry |= !unreadable;
                erased.kept.push(path);
            }
        }
        for path in self.store.set_aside() {
            let done = self
                .store
                .open_set_aside(&path)
                .map_err(Failure::from)
                .and_then(|copy| self.erase_in(Arc::from(copy), user, lang));
            if let Err(e) = done {
                tracing::error!("{} could not be rewritten: {e}", path.display());
                erased.kept.push(path);
            }
        }
    }

    /// Removes `user` from the backup at `path`, replacing it only if it held anything of theirs.
    fn erase_in_backup(&self, path: &Path, user: UserId, lang: Lang) -> Result<(), BackupError> {
        // Read where it is, not into memory: a backup is the size of the whole academy.
        let (copy, summary) = BackupInPlace::open(self.disk.clone(), path)?;
        let copy = Arc::new(copy);
        let changed = self
            .erase_in(copy.clone(), user, lang)
            .map_err(|f| BackupError::Store(StoreError::Io(f.to_string())))?;
        if changed {
            // Written from the copy entry by entry, not from a second copy of it.
            backup::write_store(
                self.disk.as_ref(),
                copy.as_ref(),
                None,
                path,
                summary.created,
            )?;
        }
        Ok(())
    }

    /// Removes `user` from another store with the same rules, and rewrites it; whether it held
    /// anything of theirs.
    fn erase_in(&self, store: Arc<dyn Store>, user: UserId, lang: Lang) -> Result<bool, Failure> {
        let engine = self.over(store.clone());
        engine.upgrade()?;
        let removed = {
            let _guard = engine.lock();
            let batch = engine.erasure_batch(user, lang, false)?;
            let any = !batch.is_empty();
            if any {
                engine.commit(batch)?;
            }
            any
        };
        // A copy of the database taken between a deletion's reply and its upkeep (a
        // restore sets the database aside) still has that member's words in its lists.
        let pruned = engine.prune_index()?;
        if !removed && !pruned {
            return Ok(false);
        }
        store.compact()?;
        Ok(true)
    }

    /// Removes the member's own export file, which holds everything the academy had about them.
    fn remove_export(&self, user: UserId, erased: &mut Erased) {
        let Some(dir) = &self.settings.export_dir else {
            return;
        };
        let path = dir.join(export_name(user));
        match self.disk.remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::error!("{} could not be removed: {e}", path.display());
                erased.kept.push(path);
            }
            _ => {}
        }
    }

    /// Finishes the deletions whose records wait: removes what is left of each person (a
    /// request interrupted before its batch was saved), rewrites the store once for all of
    /// them, then the copies the academy made, removes their exports, and sends each word
    /// that it is done; a record whose message has left the outbox is forgotten after that
    /// rewrite, which takes the message's address off the disk too. Run at start, by `run_due`
    /// (at once after a request, else every ten minutes) and before a clean exit; one at a
    /// time. What fails keeps its record and is tried again. Returns how many deletions
    /// reached the disk in this call.
    pub fn finish_erasures(&self) -> usize {
        let _one_deletion = self
            .erasing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let pending = self.pending_erasures();
        let mut waiting = false;
        let mut ready = Vec::new();
        for erasure in pending {
            match self.message_waits_for(erasure.user) {
                Ok(false) => ready.push(erasure),
                Ok(true) => waiting = true,
                Err(e) => tracing::error!("cannot read the outbox: {e}"),
            }
        }
        // A copy that may hold the message of this call is one taken from here on; a minute
        // earlier, for a backup that read the clock before and took its snapshot after, or a
        // clock set back a little.
        let since = self.now() - chrono::Duration::minutes(1);
        let mut removed = Vec::new();
        let mut committed = false;
        for erasure in ready {
            // What this process's request removed is not removed again: whatever the member
            // did since (they may take part again) is theirs. A request interrupted before its
            // batch was saved, or refused, is carried out here.
            if erasure.told.is_some() || self.removed_here(erasure.user) {
                removed.push(erasure);
                continue;
            }
            let _guard = self.lock();
            let done = self
                .erasure_batch(erasure.user, erasure.lang, false)
                .and_then(|batch| {
                    if batch.is_empty() {
                        Ok(())
                    } else {
                        self.commit(batch)
                    }
                });
            match done {
                Ok(()) => {
                    committed = true;
                    removed.push(erasure);
                }
                Err(e) => tracing::error!("a deletion of someone's data failed again: {e}"),
            }
        }
        if removed.is_empty() {
            self.erasures_due(waiting);
            return 0;
        }
        // Not needed for the rewrite (a digest's list of ids names no one), but for the
        // digests to count what they show; a failure is tried again at the next deletion.
        let pruned = if removed.iter().any(|e| e.told.is_none()) {
            self.prune_digests()
        } else {
            Ok(0)
        };
        if let Err(e) = pruned {
            tracing::error!("could not take deleted lessons out of the digests: {e}");
        }
        // Their words are keys of the index's lists: those must leave before the rewrite.
        if let Err(e) = self.prune_index() {
            tracing::error!("could not take deleted lessons out of the index: {e}");
            self.erasures_due(false);
            return 0;
        }
        // The site follows what was removed here, and what a deletion's reply left for now
        // (taken by another tick's upkeep meanwhile, it may still wait among the changes);
        // a member is told their data is gone only once no page shows it.
        let deferred = self.site_take_deferred();
        if committed || deferred || self.site_needs_write() {
            self.refresh_site();
        }
        let site_failed = self.site_write_failed();
        // One rewrite for every deletion that waits: the removed bytes leave the files.
        if let Err(e) = self.store.compact() {
            tracing::error!("the database could not be rewritten after a deletion: {e}");
            self.erasures_due(false);
            return 0;
        }
        let mut done = 0;
        for erasure in removed {
            let mut erased = Erased {
                rewritten: true,
                ..Erased::default()
            };
            self.erase_in_copies(erasure.user, erasure.lang, erasure.told, &mut erased);
            self.remove_export(erasure.user, &mut erased);
            if site_failed && erasure.told.is_none() {
                tracing::warn!("the site could not be written after a deletion");
                erased.retry = true;
            }
            for path in &erased.kept {
                tracing::error!(
                    "{} may still hold the deleted data; remove it",
                    path.display()
                );
            }
            if erased.retry {
                tracing::warn!("a deletion of someone's data is not finished yet");
                continue;
            }
            if !self.removed_here(erasure.user) {
                tracing::warn!("finished a deletion of someone's data that was interrupted");
            }
            if erasure.told.is_some() {
                self.settle_erasure(&erasure, None);
                continue;
            }
            done += 1;
            match self.tell_erased(&erasure, &erased, since) {
                Ok(()) => waiting = true,
                Err(e) => tracing::error!("cannot tell someone their data is erased: {e}"),
            }
        }
        self.erasures_due(waiting);
        done
    }

    /// Whether the next `run_due` looks at the deletions again without waiting ten minutes: a
    /// message saying one is done waits to leave the outbox.
    fn erasures_due(&self, due: bool) {
        self.upkeep
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .erasures_due = due;
    }

    /// Whether a request of this process committed the removal of `user`'s records.
    fn removed_here(&self, user: UserId) -> bool {
        self.upkeep
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .removed_here
            .contains(&user)
    }

    /// Whether a message to `user` waits in the outbox.
    fn message_waits_for(&self, user: UserId) -> Result<bool, Failure> {
        Ok(self
            .outbox()
            .waiting()?
            .iter()
            .any(|out| out.to == super::Recipient::User(user)))
    }

    /// Sends the member word that their data left the files, and notes it in the record.
    fn tell_erased(
        &self,
        erasure: &Erasure,
        erased: &Erased,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), Failure> {
        let lang = erasure.lang;
        let site = self.settings.site_dir.is_some();
        let text = if erased.kept.is_empty() {
            self.t(lang, k::MYDATA_ERASED, json!({ "site": site }))
        } else {
            self.t(
                lang,
                k::MYDATA_ERASED_COPIES_KEPT,
                json!({"copies": copies(&erased.kept), "site": site}),
            )
        };
        {
            let _guard = self.lock();
            let mut batch = Batch::new();
            self.send_later(
                &mut batch,
                super::Recipient::User(erasure.user),
                Reply::private(text),
            )?;
            self.commit(batch)?;
        }
        let told = Erasure {
            told: Some(since),
            ..erasure.clone()
        };
        self.settle_erasure(erasure, Some(&told));
        Ok(())
    }

    /// Replaces the record `was` by `next` (none: forgets it), unless a new request for the
    /// same person replaced it meanwhile: that one still has its own work to do. Under the
    /// write lock, as a request records.
    fn settle_erasure(&self, was: &Erasure, next: Option<&Erasure>) {
        let _guard = self.lock();
        let current = self
            .pending_erasures()
            .into_iter()
            .find(|e| e.user == was.user);
        if current.as_ref() != Some(was) {
            return;
        }
        match next {
            Some(next) => {
                if let Err(e) = self.record_erasure(next) {
                    tracing::error!("cannot note that a deletion was told: {e}");
                }
            }
            None => self.forget_erasure(was.user),
        }
    }

    /// Records a confirmed deletion durably, in a file of its own.
    fn record_erasure(&self, erasure: &Erasure) -> std::io::Result<()> {
        let Some(dir) = &self.settings.erasures_dir else {
            return Ok(());
        };
        if !self.disk.exists(dir) {
            self.disk.private_dir_all(dir)?;
        }
        let path = dir.join(format!("{}.json", erasure.user.0));
        self.disk.write_private(
            &path,
            &serde_json::to_vec(erasure).map_err(std::io::Error::other)?,
        )?;
        self.disk.sync_dir(dir)
    }

    fn pending_erasures(&self) -> Vec<Erasure> {
        let Some(dir) = &self.settings.erasures_dir else {
            return Vec::new();
        };
        let Ok(entries) = self.disk.list(dir) else {
            return Vec::new();
        };
        let mut pending = Vec::new();
        for path in entries {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match self
                .disk
                .read(&path)
                .map_err(anyhow::Error::from)
                .and_then(|b| Ok(serde_json::from_slice::<Erasure>(&b)?))
            {
                Ok(erasure) => pending.push(erasure),
                Err(e) => tracing::error!("{} cannot be read: {e}", path.display()),
            }
        }
        pending
    }

    fn forget_erasure(&self, user: UserId) {
        let Some(dir) = &self.settings.erasures_dir else {
            return;
        };
        let path = dir.join(format!("{}.json", user.0));
        match self.disk.remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::error!("{} could not be removed: {e}", path.display())
            }
            _ => {
                let _ = self.disk.sync_dir(dir);
            }
        }
    }

    /// Whether deletions wait to be finished, for `run_due`.
    pub(super) fn erasures_pending(&self) -> bool {
        self.settings
            .erasures_dir
            .as_ref()
            .and_then(|dir| self.disk.list(dir).ok())
            .is_some_and(|entries| !entries.is_empty())
    }
}

/// The copies that may still hold deleted data, named for whoever must remove them.
fn copies(kept: &[PathBuf]) -> String {
    kept.iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The name of a member's export file.
fn export_name(user: UserId) -> String {
    format!("academie-{}.json", user.0)
}
