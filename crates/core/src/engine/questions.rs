//! Asking the academy: a member puts a question to every collaboration that wants them (or to
//! the academy-wide channel the configuration names), anyone answers it, the asker marks the
//! answers that helped, and a moderator of the asker's collaboration turns the question and
//! its answers into a lesson draft — with each answerer's attribution as they chose it, and
//! only once each answerer said yes. Questions still without an answer after a week are listed
//! in the next digest of every collaboration they reached.

use super::shared::{Academy, Viewer};
use super::{clean_line, clean_text, encode, limits, Ctx, Engine, Failure, Outcome, Recipient};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use chrono::Duration;
use serde_json::json;

/// A question without an answer this long is listed in the next digest.
pub(super) const UNANSWERED_AFTER: Duration = Duration::days(7);
/// Answers a reply offers a "helped" button for, within Discord's 25 buttons.
const BUTTONS: usize = 20;

fn answer_key(question: QuestionId, user: UserId) -> Vec<u8> {
    [question.key(), user.key()].concat()
}

/// The first line of a question, short enough for a title.
pub(super) fn headline(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut out: String = line.chars().take(80).collect();
    if line.chars().count() > 80 || text.lines().nth(1).is_some() {
        out.push('…');
    }
    out
}

impl Engine {
    /// A question that is still there; one whose asker deleted their data is gone.
    fn question(&self, lang: Lang, id: QuestionId) -> Result<Question, Failure> {
        self.load::<Question>(Tree::Questions, &id.key())?
            .filter(|q| q.asker.is_some())
            .ok_or_else(|| self.refuse(lang, k::QUESTION_NOT_FOUND, json!({"id": id.to_string()})))
    }

    /// A question's answers, in the order they came.
    pub(super) fn question_answers(&self, id: QuestionId) -> Result<Vec<QuestionAnswer>, Failure> {
        let mut list: Vec<QuestionAnswer> = self.load_all(Tree::QuestionAnswers, &id.key())?;
        list.sort_by_key(|a| a.number);
        Ok(list)
    }

    /// Whether the viewer can see a question: in its own collaboration, where it was posted,
    /// in a collaboration that takes questions on a server that meets the asker's, and
    /// elsewhere (a direct message, the academy channel) when the servers meet.
    pub(super) fn question_reaches(academy: &Academy, q: &Question, viewer: &Viewer) -> bool {
        let home = academy.collaboration(q.channel).and_then(|c| c.server);
        match viewer.channel.and_then(|c| academy.collaboration(c)) {
            Some(c) if c.channel == q.channel => true,
            Some(c) => {
                (q.posted_to.contains(&c.channel) || c.sharing.questions)
                    && academy.servers_meet(home, c.server)
            }
            None => academy.servers_meet(home, viewer.server),
        }
    }

    fn visible_question(&self, ctx: &Ctx, id: QuestionId) -> Result<(Academy, Question), Failure> {
        let q = self.question(ctx.actor.lang, id)?;
        let academy = self.academy()?;
        // Who asked or answered it sees it anywhere, a direct message included.
        let involved = q.asker == Some(ctx.actor.id)
            || self
                .load::<QuestionAnswer>(Tree::QuestionAnswers, &answer_key(id, ctx.actor.id))?
                .is_some();
        if !involved && !Self::question_reaches(&academy, &q, &Viewer::of(ctx)) {
            return Err(self.refuse(
                ctx.actor.lang,
                k::QUESTION_NOT_FOUND,
                json!({"id": id.to_string()}),
            ));
        }
        Ok((academy, q))
    }

    /// Where a question comes from, as someone in `viewer` sees it.
    fn question_from(
        &self,
        academy: &Academy,
        lang: Lang,
        q: &Question,
        viewer: &Viewer,
    ) -> String {
        let name = match academy.collaboration(q.channel) {
            Some(c) if viewer.channel == Some(c.channel) => c.task.clone(),
            Some(c) => academy.name_elsewhere(self, lang, c),
            None => self.text.plain(lang, k::SHARED_UNNAMED),
        };
        let by =
            self.person_attribution(lang, q.attribution, q.asker_name.as_deref(), q.asker_layer);
        self.t(lang, k::QUESTION_FROM, json!({"by": by, "from": name}))
    }

    /// The message that puts a question before a collaboration, in its language.
    fn question_post(&self, academy: &Academy, lang: Lang, q: &Question, viewer: &Viewer) -> Reply {
        Reply::channel(format!(
            "{}\n\n{}\n\n{}",
            q.text,
            self.question_from(academy, lang, q, viewer),
            self.t(lang, k::QUESTION_POST_HINT, json!({"id": q.id.to_string()}))
        ))
        .titled(self.t(
            lang,
            k::QUESTION_POST_TITLE,
            json!({"id": q.id.to_string(), "headline": headline(&q.text)}),
        ))
        .choice(
            self.text.plain(lang, k::QUESTION_ANSWER_BUTTON),
            Action::AnswerQuestion(q.id),
        )
        .choice(
            self.text.plain(lang, k::QUESTION_SHOW_BUTTON),
            Action::ShowQuestion(q.id),
        )
    }

    pub(super) fn question_ask(
        &self,
        ctx: &Ctx,
        text: String,
        attribution: Attribution,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        let text = clean_text(&text);
        let home = self.require_collaboration(ctx)?;
        self.check_text(lang, k::FIELD_QUESTION, &text, limits::QUESTION)?;
        let layer = self.check_attribution(ctx, attribution)?;
        let _guard = self.lock();
        let academy = self.academy()?;
        let recipients: Vec<&Collaboration> = match self.settings.questions_channel {
            Some(_) => Vec::new(),
            None => academy
                .all()
                .filter(|c| c.channel != home.channel && c.sharing.questions)
                .filter(|c| academy.servers_meet(home.server, c.server))
                .collect(),
        };
        let mut batch = Batch::new();
        let id = QuestionId(self.next_id(&mut batch, "question")?);
        let mut posted_to: Vec<ChannelId> = recipients.iter().map(|c| c.channel).collect();
        if let Some(channel) = self.settings.questions_channel {
            posted_to.push(channel);
        }
        let question = Question {
            id,
            channel: home.channel,
            asker: Some(ctx.actor.id),
            asker_name: Some(
                clean_line(&ctx.actor.name)
                    .chars()
                    .take(limits::NAME)
                    .collect(),
            ),
            asker_layer: layer,
            attribution,
            lang,
            text,
            asked_at: self.now(),
            posted_to,
            listed_in: Vec::new(),
            harvest: None,
        };
        batch.put(Tree::Questions, id.key().to_vec(), encode(&question)?);
        for c in &recipients {
            let post = self.question_post(&academy, c.lang, &question, &Viewer::collaboration(c));
            self.send_later(&mut batch, Recipient::Channel(c.channel), post)?;
        }
        if let Some(channel) = self.settings.questions_channel {
            let viewer = Viewer {
                channel: Some(channel),
                server: None,
            };
            let post = self.question_post(&academy, self.settings.default_lang, &question, &viewer);
            self.send_later(&mut batch, Recipient::Channel(channel), post)?;
        }
        self.commit(batch)?;
        let mut reply = self.question_post(
            &academy,
            home.lang,
            &question,
            &Viewer::collaboration(&home),
        );
        let reach = self.t(
            home.lang,
            k::QUESTION_ASKED,
            json!({
                "count": recipients.len(),
                "channel": self.settings.questions_channel.map(|c| c.0.to_string()),
            }),
        );
        reply.body = format!("{}\n\n{reach}", reply.body);
        Ok(reply)
    }

    /// What an answer form needs before it opens: the question's headline. Refuses when the
    /// actor cannot see the question or asked it, so nobody types in vain.
    pub fn question_form(&self, ctx: &Ctx, id: QuestionId) -> Result<String, Failure> {
        let (_, q) = self.visible_question(ctx, id)?;
        if q.asker == Some(ctx.actor.id) {
            return Err(self.refuse(
                ctx.actor.lang,
                k::QUESTION_OWN,
                json!({"id": id.to_string()}),
            ));
        }
        Ok(headline(&q.text))
    }

    pub(super) fn question_answer(
        &self,
        ctx: &Ctx,
        id: QuestionId,
        text: String,
        attribution: Attribution,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        let text = clean_text(&text);
        let (academy, q) = self.visible_question(ctx, id)?;
        if q.asker == Some(ctx.actor.id) {
            return Err(self.refuse(lang, k::QUESTION_OWN, json!({"id": id.to_string()})));
        }
        self.check_text(lang, k::FIELD_ANSWER, &text, limits::QUESTION)?;
        let layer = self.check_attribution(ctx, attribution)?;
        let guard = self.lock();
        let answers = self.question_answers(id)?;
        let existing = answers.iter().find(|a| a.user == ctx.actor.id);
        let number = match existing {
            Some(a) => a.number,
            None => answers.iter().map(|a| a.number).max().unwrap_or(0) + 1,
        };
        let answer = QuestionAnswer {
            question: id,
            number,
            user: ctx.actor.id,
            name: clean_line(&ctx.actor.name)
                .chars()
                .take(limits::NAME)
                .collect(),
            layer,
            attribution,
            channel: ctx.channel,
            text,
            at: self.now(),
            helpful: existing.is_some_and(|a| a.helpful),
        };
        let mut batch = Batch::new();
        batch.put(
            Tree::QuestionAnswers,
            answer_key(id, ctx.actor.id),
            encode(&answer)?,
        );
        if let Some(asker) = q.asker {
            // The asker hears of it, with the button that says it helped.
            let by = self.person_attribution(q.lang, attribution, Some(&answer.name), layer);
            let from = ctx
                .channel
                .and_then(|c| academy.collaboration(c))
                .map(|c| academy.name_elsewhere(self, q.lang, c));
            let notice = Reply::private(self.t(
                q.lang,
                k::QUESTION_NEW_ANSWER,
                json!({
                    "id": id.to_string(),
                    "headline": headline(&q.text),
                    "text": answer.text,
                    "by": by,
                    "from": from,
                }),
            ))
            .choice(
                self.t(
                    q.lang,
                    k::QUESTION_HELPFUL_BUTTON,
                    json!({"number": number}),
                ),
                Action::Helpful(id, number),
            )
            .choice(
                self.text.plain(q.lang, k::QUESTION_SHOW_BUTTON),
                Action::ShowQuestion(id),
            );
            self.send_later(&mut batch, Recipient::User(asker), notice)?;
        }
        self.commit_unlocking(guard, batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::QUESTION_ANSWERED,
            json!({
                "id": id.to_string(),
                "edited": existing.is_some(),
                "by": self.person_attribution(lang, attribution, Some(&answer.name), layer),
            }),
        ))
        .choice(
            self.text.plain(lang, k::QUESTION_SHOW_BUTTON),
            Action::ShowQuestion(id),
        ))
    }

    pub(super) fn question_show(&self, ctx: &Ctx, id: QuestionId) -> Outcome {
        let lang = ctx.actor.lang;
        let (academy, q) = self.visible_question(ctx, id)?;
        let viewer = Viewer::of(ctx);
        let answers = self.question_answers(id)?;
        let asker = q.asker == Some(ctx.actor.id);
        let mut body = format!(
            "{}\n\n{}",
            q.text,
            self.question_from(&academy, lang, &q, &viewer)
        );
        if let Some(h) = &q.harvest {
            body.push_str("\n\n");
            body.push_str(&self.t(
                lang,
                k::QUESTION_HARVEST_STATUS,
                json!({
                    "lesson": h.lesson.map(|l| l.to_string()),
                    "asked": h.parts.iter().filter(|p| p.consent == Consent::Asked).count(),
                }),
            ));
        }
        let mut reply = Reply::private(body)
            .titled(self.t(
                lang,
                k::QUESTION_POST_TITLE,
                json!({"id": id.to_string(), "headline": headline(&q.text)}),
            ))
            .choice(
                self.text.plain(lang, k::QUESTION_ANSWER_BUTTON),
                Action::AnswerQuestion(id),
            );
        if answers.is_empty() {
            reply.body.push_str("\n\n");
            reply
                .body
                .push_str(&self.text.plain(lang, k::QUESTION_NO_ANSWERS_YET));
        }
        for a in &answers {
            let heading = self.t(
                lang,
                k::QUESTION_ANSWER_HEADING,
                json!({
                    "number": a.number,
                    "by": self.person_attribution(lang, a.attribution, Some(&a.name), a.layer),
                    "helpful": a.helpful,
                }),
            );
            reply = reply.section(heading, a.text.clone());
        }
        if asker {
            for a in answers.iter().take(BUTTONS) {
                reply = reply.choice(
                    self.t(
                        lang,
                        k::QUESTION_HELPFUL_BUTTON,
                        json!({"number": a.number}),
                    ),
                    Action::Helpful(id, a.number),
                );
            }
        }
        Ok(reply)
    }

    /// The open questions the viewer can see: not yet made into a lesson, newest first.
    pub(super) fn question_list(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let academy = self.academy()?;
        let viewer = Viewer::of(ctx);
        let mut lines = Vec::new();
        let mut reply =
            Reply::private(String::new()).titled(self.text.plain(lang, k::QUESTION_LIST_TITLE));
        let mut questions: Vec<Question> = self.load_all(Tree::Questions, &[])?;
        questions.reverse();
        for q in questions.iter().filter(|q| {
            q.asker.is_some()
                && q.harvest.as_ref().is_none_or(|h| h.lesson.is_none())
                && Self::question_reaches(&academy, q, &viewer)
        }) {
            let answers = self.question_answers(q.id)?.len();
            lines.push(self.t(
                lang,
                k::QUESTION_LIST_ENTRY,
                json!({
                    "id": q.id.to_string(),
                    "headline": headline(&q.text),
                    "answers": answers,
                    "date": crate::time::date(lang, self.settings.time_zone, q.asked_at),
                }),
            ));
            if reply.choices.len() < 5 {
                reply = reply.choice(
                    self.t(
                        lang,
                        k::QUESTION_LIST_BUTTON,
                        json!({"id": q.id.to_string()}),
                    ),
                    Action::ShowQuestion(q.id),
                );
            }
            if lines.len() == 15 {
                break;
            }
        }
        reply.body = if lines.is_empty() {
            self.text.plain(lang, k::QUESTION_LIST_NONE)
        } else {
            lines.join("\n")
        };
        Ok(reply)
    }

    pub(super) fn question_helpful(&self, ctx: &Ctx, id: QuestionId, number: u32) -> Outcome {
        let lang = ctx.actor.lang;
        let guard = self.lock();
        let q = self.question(lang, id)?;
        if q.asker != Some(ctx.actor.id) {
            return Err(self.refuse(lang, k::QUESTION_NOT_ASKER, json!({"id": id.to_string()})));
        }
        let Some(mut answer) = self
            .question_answers(id)?
            .into_iter()
            .find(|a| a.number == number)
        else {
            return Err(self.refuse(
                lang,
                k::QUESTION_NO_SUCH_ANSWER,
                json!({"id": id.to_string(), "number": number}),
            ));
        };
        answer.helpful = !answer.helpful;
        let mut batch = Batch::new();
        batch.put(
            Tree::QuestionAnswers,
            answer_key(id, answer.user),
            encode(&answer)?,
        );
        self.commit_unlocking(guard, batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::QUESTION_HELPFUL_SAVED,
            json!({"id": id.to_string(), "number": number, "helpful": answer.helpful}),
        )))
    }

    /// A moderator of the asker's collaboration turns the question into a lesson draft: the
    /// answers that helped (or all, when none was marked) are asked for consent, and the draft
    /// is made once everyone answered. Asked again while people have not answered yet, it
    /// drafts the lesson now from those who said yes.
    pub(super) fn question_to_lesson(
        &self,
        ctx: &Ctx,
        id: QuestionId,
        title: String,
        order: Order,
        steps: Vec<Step>,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let title = clean_line(&title);
        self.check_text(lang, k::FIELD_TITLE, &title, limits::TITLE)?;
        let _guard = self.lock();
        let mut q = self.question(lang, id)?;
        if ctx.channel != Some(q.channel) {
            return Err(self.refuse(lang, k::QUESTION_NOT_HERE, json!({"id": id.to_string()})));
        }
        let mut steps = steps;
        steps.sort();
        steps.dedup();
        let mut batch = Batch::new();
        if let Some(lesson) = q.harvest.as_ref().and_then(|h| h.lesson) {
            return Err(self.refuse(
                lang,
                k::QUESTION_ALREADY_LESSON,
                json!({"id": id.to_string(), "lesson": lesson.to_string()}),
            ));
        }
        if let Some(h) = q.harvest.as_mut() {
            // Asked again: draft now from those who said yes; the others are left out.
            h.title = title;
            h.order = order;
            h.steps = steps;
            let reply = self.draft_from_question(&mut batch, &mut q, lang)?;
            batch.put(Tree::Questions, id.key().to_vec(), encode(&q)?);
            self.commit(batch)?;
            return Ok(reply);
        }
        let answers = self.question_answers(id)?;
        let helpful: Vec<&QuestionAnswer> = answers.iter().filter(|a| a.helpful).collect();
        let chosen: Vec<&QuestionAnswer> = if helpful.is_empty() {
            answers.iter().collect()
        } else {
            helpful
        };
        if chosen.is_empty() {
            return Err(self.refuse(lang, k::QUESTION_NO_ANSWERS, json!({"id": id.to_string()})));
        }
        let parts = chosen
            .iter()
            .map(|a| HarvestPart {
                number: a.number,
                user: a.user,
                // The moderator drafting it agrees to their own answer by doing so.
                consent: if a.user == ctx.actor.id {
                    Consent::Given
                } else {
                    Consent::Asked
                },
            })
            .collect::<Vec<_>>();
        for (part, a) in parts.iter().zip(&chosen) {
            if part.consent != Consent::Asked {
                continue;
            }
            let ask = Reply::private(self.t(
                q.lang,
                k::QUESTION_CONSENT_ASK,
                json!({
                    "id": id.to_string(),
                    "headline": headline(&q.text),
                    "text": a.text,
                    "by": self.person_attribution(q.lang, a.attribution, Some(&a.name), a.layer),
                }),
            ))
            .choice(
                self.text.plain(q.lang, k::QUESTION_CONSENT_YES),
                Action::Consent(id, true),
            )
            .choice(
                self.text.plain(q.lang, k::QUESTION_CONSENT_NO),
                Action::Consent(id, false),
            );
            self.send_later(&mut batch, Recipient::User(a.user), ask)?;
        }
        let waiting = parts.iter().filter(|p| p.consent == Consent::Asked).count();
        q.harvest = Some(Harvest {
            title,
            order,
            steps,
            by: Some(ctx.actor.id),
            at: self.now(),
            parts,
            lesson: None,
        });
        let reply = if waiting == 0 {
            self.draft_from_question(&mut batch, &mut q, lang)?
        } else {
            Reply::private(self.t(
                lang,
                k::QUESTION_CONSENT_ASKED,
                json!({"id": id.to_string(), "count": waiting}),
            ))
        };
        batch.put(Tree::Questions, id.key().to_vec(), encode(&q)?);
        self.commit(batch)?;
        Ok(reply)
    }

    pub(super) fn question_consent(&self, ctx: &Ctx, id: QuestionId, consent: bool) -> Outcome {
        let lang = ctx.actor.lang;
        let _guard = self.lock();
        let mut q = self.question(lang, id)?;
        let Some(h) = q.harvest.as_mut().filter(|h| h.lesson.is_none()) else {
            return Err(self.refuse(
                lang,
                k::QUESTION_NO_CONSENT_ASKED,
                json!({"id": id.to_string()}),
            ));
        };
        let mut found = false;
        for p in h.parts.iter_mut().filter(|p| p.user == ctx.actor.id) {
            p.consent = if consent {
                Consent::Given
            } else {
                Consent::Refused
            };
            found = true;
        }
        if !found {
            return Err(self.refuse(
                lang,
                k::QUESTION_NO_CONSENT_ASKED,
                json!({"id": id.to_string()}),
            ));
        }
        let done = h.parts.iter().all(|p| p.consent != Consent::Asked);
        let mut batch = Batch::new();
        if done {
            let moderator = h.by;
            let asked_in = q.lang;
            let note = self.draft_from_question(&mut batch, &mut q, asked_in)?;
            if let Some(m) = moderator {
                self.send_later(&mut batch, Recipient::User(m), note)?;
            }
        }
        batch.put(Tree::Questions, id.key().to_vec(), encode(&q)?);
        self.commit(batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::QUESTION_CONSENT_SAVED,
            json!({"id": id.to_string(), "consent": consent}),
        )))
    }

    /// Makes the lesson draft of a question from the answers whose authors said yes, into
    /// `batch`; says what happened in `lang`, for the moderator.
    fn draft_from_question(
        &self,
        batch: &mut Batch,
        q: &mut Question,
        lang: Lang,
    ) -> Result<Reply, Failure> {
        let Some(h) = q.harvest.as_ref() else {
            return Err(Failure::Internal(anyhow::anyhow!("no harvest to draft")));
        };
        let given = h
            .parts
            .iter()
            .filter(|p| p.consent == Consent::Given)
            .count();
        if given == 0 {
            return Ok(Reply::private(self.t(
                lang,
                k::QUESTION_NO_CONSENT,
                json!({"id": q.id.to_string()}),
            )));
        }
        let id = LessonId(self.next_id(batch, "lesson")?);
        let lesson = self.question_lesson(q, id)?;
        self.put_lesson(batch, None, &lesson)?;
        if let Some(h) = q.harvest.as_mut() {
            h.lesson = Some(id);
        }
        Ok(Reply::private(self.t(
            lang,
            k::QUESTION_DRAFTED,
            json!({"id": q.id.to_string(), "lesson": id.to_string(), "count": given}),
        ))
        .choice(
            self.text.plain(lang, k::LESSON_SHOW_BUTTON),
            Action::ShowLesson(id),
        ))
    }

    /// The lesson a question and the consented answers make: the question as what happened,
    /// each answer with its author as they chose to be shown. Rebuilt the same way when an
    /// answerer or the asker deletes their data.
    fn question_lesson(&self, q: &Question, id: LessonId) -> Result<Lesson, Failure> {
        let answers = self.question_answers(q.id)?;
        self.question_lesson_from(q, id, &answers)
    }

    /// [`Engine::question_lesson`] from these answers.
    pub(super) fn question_lesson_from(
        &self,
        q: &Question,
        id: LessonId,
        answers: &[QuestionAnswer],
    ) -> Result<Lesson, Failure> {
        let h = q
            .harvest
            .as_ref()
            .ok_or_else(|| Failure::Internal(anyhow::anyhow!("no harvest")))?;
        let lang = self
            .load::<Collaboration>(Tree::Collaborations, &q.channel.key())?
            .map(|c| c.lang)
            .unwrap_or(q.lang);
        let mut parts = Vec::new();
        for p in h.parts.iter().filter(|p| p.consent == Consent::Given) {
            let Some(a) = answers
                .iter()
                .find(|a| a.number == p.number && a.user == p.user)
            else {
                continue;
            };
            let line = match a.attribution {
                Attribution::Anonymous => format!("• {}", a.text),
                _ => format!(
                    "• {} — {}",
                    a.text,
                    self.person_attribution(lang, a.attribution, Some(&a.name), a.layer)
                ),
            };
            parts.push(line);
        }
        let happened = if q.asker.is_some() {
            self.t(
                lang,
                k::QUESTION_LESSON_HAPPENED,
                json!({"id": q.id.to_string(), "text": q.text}),
            )
        } else {
            self.t(
                lang,
                k::QUESTION_LESSON_REMOVED,
                json!({"id": q.id.to_string()}),
            )
        };
        let clip = |s: String| -> String {
            if s.chars().count() <= limits::LESSON_FIELD {
                s
            } else {
                let mut c: String = s.chars().take(limits::LESSON_FIELD - 1).collect();
                c.push('…');
                c
            }
        };
        let now = self.now();
        let existing = self.load::<Lesson>(Tree::Lessons, &id.key())?;
        let answerers = self.t(lang, k::QUESTION_LESSON_BY, json!({"id": q.id.to_string()}));
        Ok(Lesson {
            id,
            key: None,
            channel: Some(q.channel),
            // Written by several people: nobody owns it, so no single person's data takes
            // it away; each answer carries its own attribution in the text.
            author: None,
            author_name: Some(answerers),
            author_layer: None,
            attribution: Attribution::Named,
            lang,
            text: LessonText {
                title: h.title.clone(),
                happened: clip(happened),
                lesson: clip(parts.join("\n")),
            },
            translation: None,
            order: h.order,
            steps: h.steps.clone(),
            perspective: None,
            tags: vec!["vraag-aan-de-academie".to_owned()],
            source: None,
            status: existing
                .as_ref()
                .map_or(LessonStatus::Pending, |l| l.status),
            rejection_reason: existing.as_ref().and_then(|l| l.rejection_reason.clone()),
            featured: existing.as_ref().is_some_and(|l| l.featured),
            created_at: existing.as_ref().map_or(now, |l| l.created_at),
            updated_at: now,
            reviewed_at: existing.as_ref().and_then(|l| l.reviewed_at),
            reviewed_by: existing.as_ref().and_then(|l| l.reviewed_by),
            published_in: existing
                .as_ref()
                .map(|l| l.published_in.clone())
                .unwrap_or_default(),
        })
    }

    /// The questions a digest of this collaboration lists: reaching it, asked over a week ago,
    /// still without an answer, and not listed in one of its published digests before.
    pub(super) fn unanswered_for(
        &self,
        channel: ChannelId,
        own_digests: &[DigestId],
    ) -> Result<Vec<Question>, Failure> {
        let academy = self.academy()?;
        let Some(c) = academy.collaboration(channel) else {
            return Ok(Vec::new());
        };
        let viewer = Viewer::collaboration(c);
        let cutoff = self.now() - UNANSWERED_AFTER;
        let mut out = Vec::new();
        for q in self.load_all::<Question>(Tree::Questions, &[])? {
            let listed = q.listed_in.iter().any(|d| own_digests.contains(d));
            if q.asker.is_none()
                || q.asked_at > cutoff
                || listed
                || !Self::question_reaches(&academy, &q, &viewer)
            {
                continue;
            }
            if self.question_answers(q.id)?.is_empty() {
                out.push(q);
            }
        }
        Ok(out)
    }

    /// The section of a digest that lists unanswered questions, if there are any.
    pub(super) fn unanswered_section(
        &self,
        lang: Lang,
        questions: &[Question],
    ) -> Option<(String, String)> {
        if questions.is_empty() {
            return None;
        }
        let lines: Vec<String> = questions
            .iter()
            .map(|q| {
                self.t(
                    lang,
                    k::QUESTION_LIST_ENTRY,
                    json!({
                        "id": q.id.to_string(),
                        "headline": headline(&q.text),
                        "answers": 0,
                        "date": crate::time::date(lang, self.settings.time_zone, q.asked_at),
                    }),
                )
            })
            .collect();
        Some((
            self.text.plain(lang, k::QUESTION_UNANSWERED_TITLE),
            format!(
                "{}\n{}",
                self.text.plain(lang, k::QUESTION_UNANSWERED_INTRO),
                lines.join("\n")
            ),
        ))
    }
}
