//! The academy is one academy: what a collaboration shares with the others, and who may see
//! what of whom. Every use case that shows something from another collaboration asks here.
//!
//! The rules. A collaboration's approved lessons travel to the rest of the academy unless its
//! moderators keep them private (`/moderator uitwisseling lessen:nee`). Between servers (Discord guilds)
//! they travel only when the moderators of both servers allow it, by configuration or with
//! `/moderator uitwisseling servers:ja`; the console and direct messages belong to no server and count
//! as open. A lesson shared outside any collaboration (the starter library, a direct message, a
//! channel never set up) has no collaboration to keep it private and is the academy's own.
//! What comes from elsewhere names its collaboration's task unless that collaboration keeps its
//! name private; an author who chose anonymity is never named, here or anywhere. Moderators act
//! only on what belongs to their own server.

use super::{encode, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::Reply;
use crate::search;
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use serde_json::json;
use std::collections::BTreeMap;

/// Where someone looks from: the channel (and so the collaboration) and the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Viewer {
    pub channel: Option<ChannelId>,
    pub server: Option<ServerId>,
}

impl Viewer {
    pub(super) fn of(ctx: &Ctx) -> Viewer {
        Viewer {
            channel: ctx.channel,
            server: ctx.server,
        }
    }

    /// A collaboration looking at the academy, as its round start or agenda does.
    pub(super) fn collaboration(c: &Collaboration) -> Viewer {
        Viewer {
            channel: Some(c.channel),
            server: c.server,
        }
    }
}

/// What the academy knows of every collaboration and server at one moment, so a search or a
/// list decides visibility without reading them again per lesson.
pub(super) struct Academy {
    collaborations: BTreeMap<ChannelId, Collaboration>,
    open: BTreeMap<Option<ServerId>, bool>,
}

impl Academy {
    pub(super) fn collaboration(&self, channel: ChannelId) -> Option<&Collaboration> {
        self.collaborations.get(&channel)
    }

    pub(super) fn all(&self) -> impl Iterator<Item = &Collaboration> {
        self.collaborations.values()
    }

    /// Whether the moderators of this server allow exchange with other servers.
    fn open(&self, server: Option<ServerId>) -> bool {
        server.is_none() || self.open.get(&server).copied().unwrap_or(false)
    }

    /// Whether things may travel between two servers: always within one, else when both allow.
    pub(super) fn servers_meet(&self, a: Option<ServerId>, b: Option<ServerId>) -> bool {
        a == b || (self.open(a) && self.open(b))
    }

    /// Whether the viewer may see the approved lessons of collaboration `c`.
    fn lessons_reach(&self, c: &Collaboration, viewer: &Viewer) -> bool {
        viewer.channel == Some(c.channel)
            || (c.sharing.lessons && self.servers_meet(c.server, viewer.server))
    }

    /// Whether the viewer may see an approved lesson; one shared outside any collaboration is
    /// the academy's own.
    pub(super) fn lesson_reaches(&self, lesson: &Lesson, viewer: &Viewer) -> bool {
        match lesson.channel.and_then(|c| self.collaborations.get(&c)) {
            Some(c) => self.lessons_reach(c, viewer),
            None => true,
        }
    }

    /// The collaborations whose lessons the viewer may not see.
    pub(super) fn hidden(&self, viewer: &Viewer) -> Vec<ChannelId> {
        self.collaborations
            .values()
            .filter(|c| !self.lessons_reach(c, viewer))
            .map(|c| c.channel)
            .collect()
    }

    /// The server a lesson belongs to, as far as the academy knows: its collaboration's.
    /// `None` inside means the console; `None` outside means no collaboration at all.
    fn lesson_server(&self, lesson: &Lesson) -> Option<Option<ServerId>> {
        lesson
            .channel
            .and_then(|c| self.collaborations.get(&c))
            .map(|c| c.server)
    }

    /// The name under which a collaboration shows elsewhere: its task, or "another
    /// collaboration" when it keeps its name private.
    pub(super) fn name_elsewhere(&self, engine: &Engine, lang: Lang, c: &Collaboration) -> String {
        if c.sharing.name {
            c.task.clone()
        } else {
            engine.text.plain(lang, k::SHARED_UNNAMED)
        }
    }

    /// "From: <task>" for a lesson of another collaboration than the viewer's, else `None`.
    pub(super) fn origin(
        &self,
        engine: &Engine,
        lang: Lang,
        lesson: &Lesson,
        viewer: &Viewer,
    ) -> Option<String> {
        let c = lesson.channel.and_then(|c| self.collaborations.get(&c))?;
        if viewer.channel == Some(c.channel) {
            return None;
        }
        Some(engine.t(
            lang,
            k::SHARED_FROM,
            json!({"name": self.name_elsewhere(engine, lang, c)}),
        ))
    }
}

impl Engine {
    /// Every collaboration and every server's word on exchange, read once.
    pub(super) fn academy(&self) -> Result<Academy, Failure> {
        let collaborations: BTreeMap<ChannelId, Collaboration> = self
            .load_all::<Collaboration>(Tree::Collaborations, &[])?
            .into_iter()
            .map(|c| (c.channel, c))
            .collect();
        let mut open: BTreeMap<Option<ServerId>, bool> = self
            .settings
            .open_servers
            .iter()
            .map(|s| (Some(*s), true))
            .collect();
        for s in self.load_all::<ServerExchange>(Tree::Servers, &[])? {
            open.insert(Some(s.server), s.open);
        }
        Ok(Academy {
            collaborations,
            open,
        })
    }

    /// Whether the viewer may read this lesson: approved and reaching them, or their own, or
    /// (for a moderator) on their own server.
    pub(super) fn may_read(&self, ctx: &Ctx, lesson: &Lesson) -> Result<bool, Failure> {
        if lesson.author == Some(ctx.actor.id) {
            return Ok(true);
        }
        let academy = self.academy()?;
        if ctx.actor.role.can_moderate() && self.reviews(&academy, ctx, lesson) {
            return Ok(true);
        }
        Ok(lesson.is_public() && academy.lesson_reaches(lesson, &Viewer::of(ctx)))
    }

    /// Whether a moderator acting here may review this lesson: it belongs to their own server,
    /// or to no collaboration (the academy's own), or to one from before servers were kept.
    fn reviews(&self, academy: &Academy, ctx: &Ctx, lesson: &Lesson) -> bool {
        match academy.lesson_server(lesson) {
            None | Some(None) => true,
            Some(server) => server == ctx.server,
        }
    }

    /// The lesson a moderator reviews; one of another server is, to them, not there.
    pub(super) fn reviewable(&self, ctx: &Ctx, id: LessonId) -> Result<Lesson, Failure> {
        let lesson = self.lesson(ctx.actor.lang, id)?;
        if self.reviews(&self.academy()?, ctx, &lesson) {
            Ok(lesson)
        } else {
            Err(self.refuse(
                ctx.actor.lang,
                k::LESSON_NOT_FOUND,
                json!({"id": id.to_string()}),
            ))
        }
    }

    /// The lessons among `ids` this moderator may review. Only a lesson of a collaboration in
    /// another server is left out, so when there is none (one server, or the console), no
    /// lesson is read and the set is handed back as it is: the queue counts it and reads only
    /// the page it shows.
    pub(super) fn reviewable_ids(
        &self,
        ctx: &Ctx,
        ids: search::Ids,
    ) -> Result<search::Ids, Failure> {
        let academy = self.academy()?;
        if !academy
            .all()
            .any(|c| c.server.is_some() && c.server != ctx.server)
        {
            return Ok(ids);
        }
        let mut out = search::Ids::new();
        for id in ids.iter() {
            if let Some(lesson) = self.load::<Lesson>(Tree::Lessons, &LessonId(id).key())? {
                if self.reviews(&academy, ctx, &lesson) {
                    out.insert(id);
                }
            }
        }
        Ok(out)
    }

    /// A collaboration set up before servers were kept learns its server from the first
    /// person acting in it. A failure is logged: it changes nothing the person asked for.
    pub(super) fn note_server(&self, ctx: &Ctx) {
        let (Some(channel), Some(server)) = (ctx.channel, ctx.server) else {
            return;
        };
        let result = (|| -> Result<(), Failure> {
            let known = self.load::<Collaboration>(Tree::Collaborations, &channel.key())?;
            if known.as_ref().is_none_or(|c| c.server.is_some()) {
                return Ok(());
            }
            let _guard = self.lock();
            let Some(mut c) = self.load::<Collaboration>(Tree::Collaborations, &channel.key())?
            else {
                return Ok(());
            };
            if c.server.is_some() {
                return Ok(());
            }
            c.server = Some(server);
            let mut batch = Batch::new();
            batch.put(Tree::Collaborations, channel.key().to_vec(), encode(&c)?);
            self.commit(batch)
        })();
        if let Err(e) = result {
            tracing::error!("could not record the server of a collaboration: {e}");
        }
    }

    /// What a collaboration shares with the academy, as lines for a reply.
    pub(super) fn sharing_text(&self, lang: Lang, c: &Collaboration) -> Result<String, Failure> {
        let academy = self.academy()?;
        Ok(self.t(
            lang,
            k::SHARED_SETTINGS,
            json!({
                "lessons": c.sharing.lessons,
                "name": c.sharing.name,
                "step5": c.sharing.step5,
                "questions": c.sharing.questions,
                "server": c.server.is_some(),
                "servers": academy.open(c.server),
            }),
        ))
    }

    /// `/moderator uitwisseling`: a moderator sets what the collaboration shares with the academy, and
    /// whether their server exchanges with other servers; with nothing given, shows it.
    pub(super) fn exchange(&self, ctx: &Ctx, change: ExchangeChange) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let mut collab = self.require_collaboration(ctx)?;
        if change.servers.is_some() && ctx.server.is_none() {
            return Err(self.refuse(lang, k::SHARED_NO_SERVER, json!({})));
        }
        let mut batch = Batch::new();
        let before = collab.sharing.clone();
        let s = &mut collab.sharing;
        s.lessons = change.lessons.unwrap_or(s.lessons);
        s.name = change.name.unwrap_or(s.name);
        s.step5 = change.step5.unwrap_or(s.step5);
        s.questions = change.questions.unwrap_or(s.questions);
        if collab.sharing != before {
            batch.put(
                Tree::Collaborations,
                collab.channel.key().to_vec(),
                encode(&collab)?,
            );
        }
        if let (Some(open), Some(server)) = (change.servers, ctx.server) {
            let record = ServerExchange {
                server,
                open,
                set_by: Some(ctx.actor.id),
                set_at: self.now(),
            };
            batch.put(Tree::Servers, server.key().to_vec(), encode(&record)?);
        }
        let changed = !batch.is_empty();
        self.commit(batch)?;
        let heading = if changed {
            k::SHARED_SAVED
        } else {
            k::SHARED_CURRENT
        };
        Ok(
            Reply::private(self.sharing_text(lang, &collab)?).titled(self.t(
                lang,
                heading,
                json!({"task": collab.task}),
            )),
        )
    }

    /// A moderator takes an approved lesson of another collaboration into their own next
    /// digest. Their own lessons and the academy's own are in it already.
    pub(super) fn digest_take(&self, ctx: &Ctx, id: LessonId) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let collab = self.require_collaboration(ctx)?;
        let lesson = self.lesson(lang, id)?;
        let academy = self.academy()?;
        let viewer = Viewer::of(ctx);
        if !lesson.is_public() || !academy.lesson_reaches(&lesson, &viewer) {
            return Err(self.refuse(lang, k::LESSON_NOT_FOUND, json!({"id": id.to_string()})));
        }
        let from_elsewhere = lesson
            .channel
            .is_some_and(|c| c != collab.channel && academy.collaboration(c).is_some());
        if !from_elsewhere {
            return Err(self.refuse(lang, k::SHARED_TAKE_OWN, json!({"id": id.to_string()})));
        }
        let key = [collab.channel.key(), id.key()].concat();
        let mut batch = Batch::new();
        let taken = TakenLesson {
            channel: collab.channel,
            lesson: id,
            by: Some(ctx.actor.id),
            at: self.now(),
        };
        batch.put(Tree::Taken, key, encode(&taken)?);
        self.commit(batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::SHARED_TAKEN,
            json!({
                "id": id.to_string(),
                "title": lesson.text_for(lang).title,
                "from": academy.origin(self, lang, &lesson, &viewer),
            }),
        )))
    }

    /// The lessons from elsewhere taken into this channel's next digest.
    pub(super) fn taken(&self, channel: ChannelId) -> Result<Vec<TakenLesson>, Failure> {
        self.load_all(Tree::Taken, &channel.key())
    }

    /// The approved lessons a search may show the viewer: all that match, minus those of
    /// collaborations that do not reach them.
    pub(super) fn visible_matches(
        &self,
        viewer: &Viewer,
        query: &search::SearchQuery,
        zone: chrono_tz::Tz,
    ) -> Result<(Academy, Vec<LessonId>), Failure> {
        let academy = self.academy()?;
        let hidden = academy.hidden(viewer);
        let ids = self.find_lessons(query, zone, &hidden)?;
        Ok((academy, ids))
    }
}

impl Engine {
    /// Removes a person from learning across collaborations, for delete my data: their
    /// answers and sign-ups go, their questions lose their text and name, records of what they
    /// did as moderator stay unnamed, and a lesson drafted from a question they asked or
    /// answered is rebuilt without them.
    pub(super) fn forget_in_exchange(
        &self,
        batch: &mut Batch,
        user: UserId,
        data: &super::mydata::MyData,
    ) -> Result<(), Failure> {
        for s in &data.sign_ups {
            batch.remove(Tree::SignUps, [s.meeting.key(), s.user.key()].concat());
        }
        for a in &data.question_answers {
            batch.remove(
                Tree::QuestionAnswers,
                [a.question.key(), a.user.key()].concat(),
            );
        }
        use super::mentions::Kind;
        for id in &data.meetings_planned {
            let Some(mut m) = self.load::<Meeting>(Tree::Meetings, &id.key())? else {
                continue;
            };
            m.planned_by = None;
            batch.put(Tree::Meetings, m.id.key().to_vec(), encode(&m)?);
        }
        for (key, mut t) in self.mentioned_records::<TakenLesson>(user, Kind::Taken, Tree::Taken)? {
            if t.by == Some(user) {
                t.by = None;
                batch.put(Tree::Taken, key, encode(&t)?);
            }
        }
        for (_, old) in self.mentioned_records::<Question>(user, Kind::Question, Tree::Questions)? {
            let mut q = old.clone();
            if q.asker == Some(user) {
                q.asker = None;
                q.asker_name = None;
                q.asker_layer = None;
                q.text = String::new();
            }
            if let Some(h) = q.harvest.as_mut() {
                if h.by == Some(user) {
                    h.by = None;
                }
                h.parts.retain(|p| p.user != user);
            }
            if q == old {
                continue;
            }
            // The drafted lesson, without them: built from what remains once the batch lands.
            if let Some(lesson_id) = q.harvest.as_ref().and_then(|h| h.lesson) {
                if let Some(before) = self.load::<Lesson>(Tree::Lessons, &lesson_id.key())? {
                    let answers: Vec<QuestionAnswer> = self
                        .question_answers(q.id)?
                        .into_iter()
                        .filter(|a| a.user != user)
                        .collect();
                    let given = q.harvest.as_ref().is_some_and(|h| {
                        h.parts.iter().any(|p| {
                            p.consent == Consent::Given && answers.iter().any(|a| a.user == p.user)
                        })
                    });
                    if given {
                        let after = self.question_lesson_from(&q, lesson_id, &answers)?;
                        self.put_lesson(batch, Some(&before), &after)?;
                    } else {
                        // Nothing of anyone else is left in it. The question is open again, so
                        // a moderator can make a lesson of the answers that remain.
                        self.remove_lesson(batch, &before)?;
                        q.harvest = None;
                    }
                }
            }
            batch.put(Tree::Questions, q.id.key().to_vec(), encode(&q)?);
        }
        Ok(())
    }
}

/// A moderator's changes to what their collaboration shares; `None` leaves a setting as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExchangeChange {
    pub lessons: Option<bool>,
    pub name: Option<bool>,
    pub step5: Option<bool>,
    pub questions: Option<bool>,
    /// For the whole server: exchange with other servers.
    pub servers: Option<bool>,
}

impl ExchangeChange {
    pub fn is_empty(&self) -> bool {
        *self == ExchangeChange::default()
    }
}
