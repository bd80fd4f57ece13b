//! Blind rounds: a moderator asks a step's question, members answer unseen, a moderator reveals
//! all answers side by side — the flip-over moment of the essay — and closes the round.
//!
//! The blind rule: until a round is revealed, no reply to anyone (moderators included) contains
//! another member's answer. Only `answer_*` replies echo text, and only the actor's own.

use super::{clean_text, encode, limits, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use chrono::{DateTime, Utc};
use serde_json::json;

fn answer_key(round: RoundId, user: UserId) -> Vec<u8> {
    [round.key(), user.key()].concat()
}

impl Engine {
    /// The newest round of a channel, whatever its status.
    pub(super) fn latest_round(&self, channel: ChannelId) -> Result<Option<Round>, Failure> {
        let Some((key, _)) = self
            .store
            .last_with_prefix(Tree::RoundsByChannel, &channel.key())?
        else {
            return Ok(None);
        };
        let Some(id) = key.get(8..).and_then(RoundId::from_key) else {
            return Ok(None);
        };
        self.load(Tree::Rounds, &id.key())
    }

    /// The collaboration and its round that is open or revealed, or a refusal saying there is none.
    fn active_round(&self, ctx: &Ctx) -> Result<(Collaboration, Round), Failure> {
        let collab = self.require_collaboration(ctx)?;
        match self.latest_round(collab.channel)? {
            Some(r) if r.status != RoundStatus::Closed => Ok((collab, r)),
            _ => Err(self.refuse(ctx.actor.lang, k::ROUND_NONE, json!({}))),
        }
    }

    pub(super) fn answers(&self, round: RoundId) -> Result<Vec<Answer>, Failure> {
        let mut answers: Vec<Answer> = self.load_all(Tree::Answers, &round.key())?;
        answers.sort_by_key(|a| a.submitted_at);
        Ok(answers)
    }

    fn format_deadline(&self, lang: Lang, deadline: Option<DateTime<Utc>>) -> Option<String> {
        deadline.map(|d| {
            self.t(
                lang,
                k::ROUND_DEADLINE,
                json!({"deadline": d.format("%Y-%m-%d %H:%M UTC").to_string()}),
            )
        })
    }

    pub(super) fn round_start(
        &self,
        ctx: &Ctx,
        step: Step,
        deadline: Option<DateTime<Utc>>,
    ) -> Outcome {
        let ui = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let collab = self.require_collaboration(ctx)?;
        if let Some(d) = deadline {
            if d <= self.now() {
                return Err(self.refuse(ui, k::ROUND_DEADLINE_IN_PAST, json!({})));
            }
        }
        if let Some(r) = self
            .latest_round(collab.channel)?
            .filter(|r| r.status != RoundStatus::Closed)
        {
            return Err(self.refuse(
                ui,
                k::ROUND_ALREADY_ACTIVE,
                json!({"round": r.id.to_string(), "step": self.step_label(ui, r.step)}),
            ));
        }
        let mut batch = Batch::new();
        let id = RoundId(self.next_id(&mut batch, "round")?);
        let round = Round {
            id,
            channel: collab.channel,
            step,
            status: RoundStatus::Open,
            started_by: Some(ctx.actor.id),
            started_at: self.now(),
            deadline,
            revealed_at: None,
            closed_at: None,
        };
        batch.put(Tree::Rounds, id.key().to_vec(), encode(&round)?);
        batch.put(
            Tree::RoundsByChannel,
            [collab.channel.key(), id.key()].concat(),
            Vec::new(),
        );
        self.commit(batch)?;

        let lang = collab.lang;
        let s = self.text.academy(lang).step(step);
        let body = self.t(
            lang,
            k::ROUND_STARTED,
            json!({
                "round": id.to_string(),
                "question": s.question,
                "followups": s.followups,
                "deadline": self.format_deadline(lang, deadline),
            }),
        );
        Ok(Reply::channel(body)
            .titled(format!("{id} · {}", self.step_label(lang, step)))
            .choice(
                self.text.plain(lang, k::ROUND_ANSWER_BUTTON),
                Action::Answer(id),
            ))
    }

    pub(super) fn answer_submit(
        &self,
        ctx: &Ctx,
        text: String,
        edit_only: bool,
        expected: Option<RoundId>,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        let text = clean_text(&text);
        // Under the lock, so no answer slips in after a reveal.
        let _guard = self.lock();
        let (_, round) = self.active_round(ctx)?;
        self.check_expected(lang, expected, &round)?;
        self.check_round_open(lang, &round)?;
        self.check_text(lang, k::FIELD_ANSWER, &text, limits::ANSWER)?;
        let key = answer_key(round.id, ctx.actor.id);
        let existing = self.load::<Answer>(Tree::Answers, &key)?;
        if edit_only && existing.is_none() {
            return Err(self.refuse(lang, k::ANSWER_NONE, json!({"round": round.id.to_string()})));
        }
        let now = self.now();
        let answer = Answer {
            round: round.id,
            user: ctx.actor.id,
            name: super::clean_line(&ctx.actor.name)
                .chars()
                .take(limits::NAME)
                .collect(),
            text,
            submitted_at: existing.as_ref().map(|a| a.submitted_at).unwrap_or(now),
            edited_at: existing.as_ref().map(|_| now),
        };
        let mut batch = Batch::new();
        batch.put(Tree::Answers, key, encode(&answer)?);
        self.commit(batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::ANSWER_SAVED,
            json!({"round": round.id.to_string(), "text": answer.text, "edited": existing.is_some()}),
        ))
        .choice(self.text.plain(lang, k::ANSWER_EDIT_BUTTON), Action::Answer(round.id)))
    }

    /// Refuses when the request was meant for another round than the current one.
    fn check_expected(
        &self,
        lang: Lang,
        expected: Option<RoundId>,
        round: &Round,
    ) -> Result<(), Failure> {
        match expected {
            Some(wanted) if wanted != round.id => Err(self.refuse(
                lang,
                k::ROUND_NOT_CURRENT,
                json!({"round": wanted.to_string()}),
            )),
            _ => Ok(()),
        }
    }

    fn check_round_open(&self, lang: Lang, round: &Round) -> Result<(), Failure> {
        if round.status != RoundStatus::Open {
            return Err(self.refuse(
                lang,
                k::ROUND_NOT_OPEN,
                json!({"round": round.id.to_string()}),
            ));
        }
        if round.deadline.is_some_and(|d| d <= self.now()) {
            return Err(self.refuse(
                lang,
                k::ROUND_DEADLINE_PASSED,
                json!({"round": round.id.to_string()}),
            ));
        }
        Ok(())
    }

    pub(super) fn answer_withdraw(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let _guard = self.lock();
        let (_, round) = self.active_round(ctx)?;
        self.check_round_open(lang, &round)?;
        let key = answer_key(round.id, ctx.actor.id);
        if self.load::<Answer>(Tree::Answers, &key)?.is_none() {
            return Err(self.refuse(lang, k::ANSWER_NONE, json!({"round": round.id.to_string()})));
        }
        let mut batch = Batch::new();
        batch.remove(Tree::Answers, key);
        self.commit(batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::ANSWER_WITHDRAWN,
            json!({"round": round.id.to_string()}),
        )))
    }

    pub(super) fn answer_mine(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let (_, round) = self.active_round(ctx)?;
        match self.load::<Answer>(Tree::Answers, &answer_key(round.id, ctx.actor.id))? {
            Some(a) => Ok(Reply::private(a.text).titled(self.t(
                lang,
                k::ANSWER_MINE_TITLE,
                json!({"round": round.id.to_string()}),
            ))),
            None => Err(self.refuse(lang, k::ANSWER_NONE, json!({"round": round.id.to_string()}))),
        }
    }

    /// What an answer form needs before it opens: the open round (the given one, or the current
    /// one) with its step, and the actor's answer so far. Refuses when that round is not open for
    /// answers (or, `edit_only`, when there is nothing to edit), so nobody types in vain.
    pub fn answer_form(
        &self,
        ctx: &Ctx,
        round: Option<RoundId>,
        edit_only: bool,
    ) -> Result<(RoundId, Step, Option<String>), Failure> {
        let lang = ctx.actor.lang;
        let (_, current) = self.active_round(ctx)?;
        self.check_expected(lang, round, &current)?;
        self.check_round_open(lang, &current)?;
        let own = self.own_answer(current.id, ctx.actor.id)?;
        if edit_only && own.is_none() {
            return Err(self.refuse(
                lang,
                k::ANSWER_NONE,
                json!({"round": current.id.to_string()}),
            ));
        }
        Ok((current.id, current.step, own))
    }

    /// The text of an actor's own answer in a round, for pre-filling an edit form.
    pub fn own_answer(&self, round: RoundId, user: UserId) -> Result<Option<String>, Failure> {
        Ok(self
            .load::<Answer>(Tree::Answers, &answer_key(round, user))?
            .map(|a| a.text))
    }

    pub(super) fn round_status(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let (_, round) = self.active_round(ctx)?;
        let names: Vec<String> = self
            .answers(round.id)?
            .into_iter()
            .map(|a| a.name)
            .collect();
        let text = self.t(
            lang,
            k::ROUND_STATUS,
            json!({
                "round": round.id.to_string(),
                "count": names.len(),
                "names": names.join(", "),
                "revealed": round.status == RoundStatus::Revealed,
                "deadline": self.format_deadline(lang, round.deadline),
            }),
        );
        Ok(Reply::private(text).titled(format!(
            "{} · {}",
            round.id,
            self.step_label(lang, round.step)
        )))
    }

    /// The answers side by side under the question, as posted at a reveal.
    fn reveal_reply(&self, lang: Lang, round: &Round, title_key: &str) -> Outcome {
        let answers = self.answers(round.id)?;
        let question = &self.text.academy(lang).step(round.step).question;
        let mut reply = Reply::channel(self.t(
            lang,
            k::ROUND_REVEAL_BODY,
            json!({"question": question, "count": answers.len()}),
        ))
        .titled(self.t(
            lang,
            title_key,
            json!({"round": round.id.to_string(), "step": self.step_label(lang, round.step)}),
        ));
        for a in answers {
            let layer = self.member(a.user)?.and_then(|m| m.layer);
            let heading = match layer {
                Some(l) => format!("{} ({})", a.name, self.text.academy(lang).layer(l).name),
                None => a.name.clone(),
            };
            reply = reply.section(heading, a.text);
        }
        Ok(reply)
    }

    pub(super) fn round_reveal(&self, ctx: &Ctx, expected: Option<RoundId>) -> Outcome {
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let (collab, mut round) = self.active_round(ctx)?;
        self.check_expected(ctx.actor.lang, expected, &round)?;
        if round.status == RoundStatus::Revealed {
            return Err(self.refuse(
                ctx.actor.lang,
                k::ROUND_ALREADY_REVEALED,
                json!({"round": round.id.to_string()}),
            ));
        }
        round.status = RoundStatus::Revealed;
        round.revealed_at = Some(self.now());
        let mut batch = Batch::new();
        batch.put(Tree::Rounds, round.id.key().to_vec(), encode(&round)?);
        self.commit(batch)?;
        let lang = collab.lang;
        Ok(self
            .reveal_reply(lang, &round, k::ROUND_REVEALED_TITLE)?
            .choice(
                self.text.plain(lang, k::ROUND_CLOSE_BUTTON),
                Action::CloseRound(round.id),
            ))
    }

    pub(super) fn round_close(&self, ctx: &Ctx, expected: Option<RoundId>) -> Outcome {
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let (collab, mut round) = self.active_round(ctx)?;
        self.check_expected(ctx.actor.lang, expected, &round)?;
        let was_open = round.status == RoundStatus::Open;
        let now = self.now();
        if was_open {
            round.revealed_at = Some(now);
        }
        round.status = RoundStatus::Closed;
        round.closed_at = Some(now);
        let mut batch = Batch::new();
        batch.put(Tree::Rounds, round.id.key().to_vec(), encode(&round)?);
        self.commit(batch)?;
        let lang = collab.lang;
        let never_finished = self.text.academy(lang).academy.never_finished.clone();
        let reply = if was_open {
            // Closing an open round shows its answers: members answered to be heard.
            self.reveal_reply(lang, &round, k::ROUND_CLOSED_TITLE)?
        } else {
            Reply::channel(String::new()).titled(self.t(
                lang,
                k::ROUND_CLOSED_TITLE,
                json!({"round": round.id.to_string(), "step": self.step_label(lang, round.step)}),
            ))
        };
        let mut reply = reply;
        let footer = self.t(
            lang,
            k::ROUND_CLOSED_FOOTER,
            json!({"never_finished": never_finished}),
        );
        reply.body = if reply.body.is_empty() {
            footer
        } else {
            format!("{}\n\n{footer}", reply.body)
        };
        Ok(reply)
    }
}
