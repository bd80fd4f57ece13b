//! Blind rounds: a moderator asks a step's question, members answer unseen, a moderator reveals
//! all answers side by side — the flip-over moment of the essay — and closes the round.
//!
//! The blind rule: until a round is revealed, no reply to anyone (moderators included) contains
//! another member's answer. Only `answer_*` replies echo text, and only the actor's own.

use super::together::Work;
use super::{clean_text, encode, limits, Ctx, Engine, Failure, Outcome, When};
use crate::domain::*;
use crate::meter;
use crate::reply::{Action, Reply};
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use serde_json::json;

/// A member's answer (or its edit) waiting to be saved with the others handed in at once.
pub(super) struct AnswerWork {
    ctx: Ctx,
    text: String,
    edit_only: bool,
    expected: Option<RoundId>,
}

/// What an answer's confirmation shows.
pub(super) struct AnswerSaved {
    round: RoundId,
    text: String,
    edited: bool,
}

impl Work for AnswerWork {
    type Done = AnswerSaved;
    /// An answer writes the member's answer and participant records in the channel's round.
    type Key = (Option<ChannelId>, UserId);

    fn key(&self) -> Self::Key {
        (self.ctx.channel, self.ctx.actor.id)
    }

    fn build(&self, engine: &Engine) -> Result<(AnswerSaved, Batch), Failure> {
        let ctx = &self.ctx;
        let lang = ctx.actor.lang;
        let (_, round) = engine.active_round(ctx)?;
        engine.check_expected(lang, self.expected, &round)?;
        engine.check_round_open(lang, &round, false)?;
        engine.check_text(lang, k::FIELD_ANSWER, &self.text, limits::ANSWER)?;
        let key = answer_key(round.id, ctx.actor.id);
        let existing = engine.load::<Answer>(Tree::Answers, &key)?;
        if self.edit_only && existing.is_none() {
            return Err(engine.refuse(
                lang,
                k::ANSWER_NONE,
                json!({"round": round.id.to_string()}),
            ));
        }
        let now = engine.now();
        let answer = Answer {
            round: round.id,
            user: ctx.actor.id,
            name: super::clean_line(&ctx.actor.name)
                .chars()
                .take(limits::NAME)
                .collect(),
            text: self.text.clone(),
            submitted_at: existing.as_ref().map(|a| a.submitted_at).unwrap_or(now),
            edited_at: existing.as_ref().map(|_| now),
        };
        let mut batch = Batch::new();
        // The participant's record is keyed by member too: the batch writes only this
        // member's keys, as saving together requires.
        batch.put(Tree::Answers, key, encode(&answer)?);
        engine.note_participant(&mut batch, round.channel, ctx.actor.id, &answer.name, None)?;
        Ok((
            AnswerSaved {
                round: round.id,
                text: answer.text,
                edited: existing.is_some(),
            },
            batch,
        ))
    }
}

/// Of a stored answer, what a round's status shows: who, under which name, and when (the order
/// it lists them in). The answer's text is not decoded.
#[derive(serde::Deserialize)]
struct Answered {
    user: UserId,
    name: String,
    #[serde(deserialize_with = "rfc3339")]
    submitted_at: chrono::DateTime<chrono::Utc>,
}

/// An instant as stored, read with chrono's RFC 3339 parser from the record's own bytes: a
/// status reads one per answer, and an answer's head decodes in about 190 ns this way against
/// about 260 ns through chrono's general reading of an instant (measured apart).
fn rfc3339<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<chrono::DateTime<chrono::Utc>, D::Error> {
    struct Rfc3339;
    impl serde::de::Visitor<'_> for Rfc3339 {
        type Value = chrono::DateTime<chrono::Utc>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 instant")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(E::custom)
        }
    }
    d.deserialize_str(Rfc3339)
}

fn answer_key(round: RoundId, user: UserId) -> Vec<u8> {
    [round.key(), user.key()].concat()
}

/// A round's answers as the meter reads them: `(name, text)`.
pub(super) fn named(answers: &[Answer]) -> Vec<(String, String)> {
    answers
        .iter()
        .map(|a| (a.name.clone(), a.text.clone()))
        .collect()
}

/// A round's answers as the change report reads them: `(member id, name, text)`.
fn with_ids(answers: &[Answer]) -> Vec<(u64, String, String)> {
    answers
        .iter()
        .map(|a| (a.user.0, a.name.clone(), a.text.clone()))
        .collect()
}

/// What a reveal measured of a round's answers, for [`Engine::reveal_reply`].
pub(super) struct Measured {
    /// The idling meter of the answers.
    agreement: meter::Agreement,
    /// When an earlier round of the same step was revealed and both have answers: that round,
    /// its score as its own reveal showed it, and what changed since.
    since: Option<(Round, Option<f64>, meter::RoundChange)>,
}

/// The key prompt files use for why a round has no score.
fn unscored_key(u: meter::Unscored) -> &'static str {
    match u {
        meter::Unscored::NoAnswers => "no_answers",
        meter::Unscored::OneAnswer => "one_answer",
        meter::Unscored::TooFewTerms => "too_few_terms",
        meter::Unscored::LanguagesApart => "languages_apart",
    }
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

    /// "Deadline: do 31-12-2026 17:00", in the time zone of the round's collaboration.
    fn format_deadline(&self, lang: Lang, round: &Round) -> Option<String> {
        let zone = self.zone_in(Some(round.channel));
        round.deadline.map(|d| {
            self.t(
                lang,
                k::ROUND_DEADLINE,
                json!({"deadline": crate::time::date_time(lang, zone, d)}),
            )
        })
    }

    /// Writes a new open round of `step` in `channel`, with its place in the channel's list:
    /// started by a moderator, or by a rhythm (`started_by` none).
    pub(super) fn open_round(
        &self,
        batch: &mut Batch,
        channel: ChannelId,
        step: Step,
        started_by: Option<UserId>,
        deadline: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Round, Failure> {
        let id = RoundId(self.next_id(batch, "round")?);
        let round = Round {
            id,
            channel,
            step,
            status: RoundStatus::Open,
            started_by,
            started_at: self.now(),
            deadline,
            revealed_at: None,
            closed_at: None,
            meter: None,
        };
        batch.put(Tree::Rounds, id.key().to_vec(), encode(&round)?);
        batch.put(
            Tree::RoundsByChannel,
            [channel.key(), id.key()].concat(),
            Vec::new(),
        );
        Ok(round)
    }

    pub(super) fn round_start(&self, ctx: &Ctx, step: Step, deadline: Option<When>) -> Outcome {
        let ui = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let collab = self.require_collaboration(ctx)?;
        // What was typed is read in the collaboration's zone, against the engine's clock.
        let zone = self.zone_of(&collab);
        let deadline = deadline.map(|d| crate::time::resolve(d, self.now(), zone));
        if let Some(d) = deadline {
            if d <= self.now() {
                return Err(self.refuse(
                    ui,
                    k::ROUND_DEADLINE_IN_PAST,
                    json!({"deadline": crate::time::date_time(ui, zone, d)}),
                ));
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
        let round = self.open_round(
            &mut batch,
            collab.channel,
            step,
            Some(ctx.actor.id),
            deadline,
        )?;
        self.schedule_round(&mut batch, &round)?;
        self.commit(batch)?;

        Ok(self.round_announcement(collab.lang, &round))
    }

    /// How a new round is announced in the channel, whoever started it: the question, the
    /// answer button and, for step 3, the perspective vote.
    pub(super) fn round_announcement(&self, lang: Lang, round: &Round) -> Reply {
        let (id, step) = (round.id, round.step);
        let s = self.text.academy(lang).step(step);
        let body = self.t(
            lang,
            k::ROUND_STARTED,
            json!({
                "round": id.to_string(),
                "question": s.question,
                "followups": s.followups,
                "deadline": self.format_deadline(lang, round),
            }),
        );
        let mut reply = Reply::channel(body)
            .titled(format!("{id} · {}", self.step_label(lang, step)))
            .choice(
                self.text.plain(lang, k::ROUND_ANSWER_BUTTON),
                Action::Answer(id),
            );
        if step == Step::Kind {
            // Step 3 asks for the leading principle too: one button per perspective.
            reply.body = format!(
                "{}\n\n{}",
                reply.body,
                self.text.plain(lang, k::VOTE_PROMPT)
            );
            let a = self.text.academy(lang);
            for p in Perspective::ALL {
                reply = reply.choice(a.perspective(*p).name.clone(), Action::Vote(id, *p));
            }
        }
        // What other collaborations learned at this step follows the question.
        self.add_suggestions(reply, lang, round)
    }

    /// A member places the collaboration on a perspective in the open step-3 round; the vote
    /// is hidden until the reveal, and a second vote replaces the first.
    pub(super) fn vote(
        &self,
        ctx: &Ctx,
        perspective: Perspective,
        expected: Option<RoundId>,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        let guard = self.lock();
        let (_, round) = self.active_round(ctx)?;
        self.check_expected(lang, expected, &round)?;
        self.check_round_open(lang, &round, true)?;
        if round.step != Step::Kind {
            return Err(self.refuse(
                lang,
                k::VOTE_NOT_STEP3,
                json!({"round": round.id.to_string(), "step": round.step.number()}),
            ));
        }
        let name: String = super::clean_line(&ctx.actor.name)
            .chars()
            .take(limits::NAME)
            .collect();
        let vote = Vote {
            round: round.id,
            user: ctx.actor.id,
            name: name.clone(),
            perspective,
            at: self.now(),
        };
        let mut batch = Batch::new();
        batch.put(
            Tree::Votes,
            answer_key(round.id, ctx.actor.id),
            encode(&vote)?,
        );
        self.note_participant(&mut batch, round.channel, ctx.actor.id, &name, None)?;
        self.commit_unlocking(guard, batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::VOTE_SAVED,
            json!({
                "round": round.id.to_string(),
                "perspective": self.text.academy(lang).perspective(perspective).name,
            }),
        )))
    }

    pub(super) fn answer_submit(
        &self,
        ctx: &Ctx,
        text: String,
        edit_only: bool,
        expected: Option<RoundId>,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        let work = AnswerWork {
            ctx: ctx.clone(),
            text: clean_text(&text),
            edit_only,
            expected,
        };
        // Saved together with the answers handed in at the same moment, each checked under the
        // write lock as it would be alone, so no answer slips in after a reveal.
        let saved = self.answers.save(self, work)?;
        Ok(Reply::private(self.t(
            lang,
            k::ANSWER_SAVED,
            json!({"round": saved.round.to_string(), "text": saved.text, "edited": saved.edited}),
        ))
        .choice(
            self.text.plain(lang, k::ANSWER_EDIT_BUTTON),
            Action::Answer(saved.round),
        ))
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

    /// Refuses an answer (or, with `vote`, a vote) in a round that no longer takes one, saying
    /// which of the two is no longer possible.
    fn check_round_open(&self, lang: Lang, round: &Round, vote: bool) -> Result<(), Failure> {
        let said = json!({"round": round.id.to_string(), "vote": vote});
        if round.status != RoundStatus::Open {
            return Err(self.refuse(lang, k::ROUND_NOT_OPEN, said));
        }
        if round.deadline.is_some_and(|d| d <= self.now()) {
            return Err(self.refuse(lang, k::ROUND_DEADLINE_PASSED, said));
        }
        Ok(())
    }

    pub(super) fn answer_withdraw(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let guard = self.lock();
        let (_, round) = self.active_round(ctx)?;
        self.check_round_open(lang, &round, false)?;
        let key = answer_key(round.id, ctx.actor.id);
        if self.load::<Answer>(Tree::Answers, &key)?.is_none() {
            return Err(self.refuse(lang, k::ANSWER_NONE, json!({"round": round.id.to_string()})));
        }
        let mut batch = Batch::new();
        batch.remove(Tree::Answers, key);
        self.commit_unlocking(guard, batch)?;
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
        self.check_round_open(lang, &current, false)?;
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
    fn own_answer(&self, round: RoundId, user: UserId) -> Result<Option<String>, Failure> {
        Ok(self
            .load::<Answer>(Tree::Answers, &answer_key(round, user))?
            .map(|a| a.text))
    }

    pub(super) fn round_status(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let (collab, round) = self.active_round(ctx)?;
        // Who answered and when, without their texts: a status names people, and a round of
        // long answers would otherwise be copied whole to list them.
        let mut answers: Vec<Answered> =
            self.load_where(Tree::Answers, &round.id.key(), |_| true)?;
        answers.sort_by_key(|a| a.submitted_at);
        // Who took part in this collaboration before (or chose how to be reminded) and has
        // not answered this round: the same people a reminder would name. A set, so a round
        // of thousands is not compared member by member with every answer.
        let answered: std::collections::HashSet<UserId> = answers.iter().map(|a| a.user).collect();
        let names: Vec<String> = answers.into_iter().map(|a| a.name).collect();
        let prefix = collab.channel.key();
        // The key names the member, so those who answered are passed over undecoded.
        let mut waiting: Vec<String> = self
            .load_where::<Participant>(Tree::Participants, &prefix, |key| {
                let user = key.get(prefix.len()..).and_then(UserId::from_key);
                !user.is_some_and(|u| answered.contains(&u))
            })?
            .into_iter()
            .map(|p| p.name)
            .collect();
        // Stored by member id, which means nothing to the reader: alphabetical is findable.
        waiting.sort_by_cached_key(|n| n.to_lowercase());
        // In a step-3 round, how many placed the collaboration on a perspective; where, only
        // once the round is revealed (as its reveal showed it).
        let votes = match round.step {
            Step::Kind if round.status == RoundStatus::Open => {
                let count = self.store.scan_prefix(Tree::Votes, &round.id.key())?.len();
                Some(self.t(lang, k::ROUND_STATUS_VOTES, json!({"count": count})))
            }
            Step::Kind => Some(self.vote_tally(lang, &round)?.1),
            _ => None,
        };
        let text = self.t(
            lang,
            k::ROUND_STATUS,
            json!({
                "round": round.id.to_string(),
                "count": names.len(),
                "names": names.join(", "),
                "revealed": round.status == RoundStatus::Revealed,
                // Its deadline was when it would reveal itself; once revealed it says nothing.
                "deadline": (round.status == RoundStatus::Open)
                    .then(|| self.format_deadline(lang, &round))
                    .flatten(),
            }),
        );
        let mut more = Vec::new();
        if round.status == RoundStatus::Open && !waiting.is_empty() {
            more.push(self.t(
                lang,
                k::ROUND_STATUS_WAITING,
                json!({"names": waiting.join(", ")}),
            ));
        }
        more.extend(votes);
        let text = std::iter::once(text)
            .chain(more)
            .collect::<Vec<_>>()
            .join("\n");
        Ok(Reply::private(text).titled(format!(
            "{} · {}",
            round.id,
            self.step_label(lang, round.step)
        )))
    }

    /// Marks `round` revealed now and measures its answers, so that the figure the reveal
    /// shows is the one kept with the round (and repeated by the next change report and the
    /// health view). The caller stores the round and then posts [`Engine::reveal_reply`].
    ///
    /// The meter and the change report since the previous round of the step are measured
    /// together, so each answer is read once: this runs under the write lock.
    pub(super) fn reveal_now(
        &self,
        round: &mut Round,
        lang: Lang,
    ) -> Result<(Vec<Answer>, Measured), Failure> {
        let answers = self.answers(round.id)?;
        let previous = match self.previous_round(round)? {
            Some(p) => {
                let before = self.answers(p.id)?;
                Some((p, before)).filter(|(_, b)| !b.is_empty() && !answers.is_empty())
            }
            None => None,
        };
        let (agreement, changes) = meter::reveal(
            &with_ids(&answers),
            previous.as_ref().map(|(_, b)| with_ids(b)).as_deref(),
            lang,
        );
        let since = match (previous, changes) {
            (Some((p, before)), Some(c)) => {
                // The earlier round's figure as its own reveal showed it; a round revealed
                // before figures were kept is measured now, the same way.
                let then = match &p.meter {
                    Some(f) => f.score,
                    None => meter::agreement(&named(&before), lang).score,
                };
                Some((p, then, c))
            }
            _ => None,
        };
        round.status = RoundStatus::Revealed;
        round.revealed_at = Some(self.now());
        round.meter = Some(agreement.figure());
        Ok((answers, Measured { agreement, since }))
    }

    /// The answers side by side under the question, as posted at a reveal, with what
    /// [`Engine::reveal_now`] measured of them.
    pub(super) fn reveal_reply(
        &self,
        lang: Lang,
        round: &Round,
        answers: &[Answer],
        m: &Measured,
        title_key: &str,
    ) -> Outcome {
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
            reply = reply.section(heading, a.text.clone());
        }
        let reply = self.add_votes(lang, round, reply)?;
        Ok(self.add_meter(lang, round, m, reply))
    }

    /// How the participants of a step-3 round placed the collaboration: the count per
    /// perspective and the sentence that says it, as the reveal shows it.
    fn vote_tally(&self, lang: Lang, round: &Round) -> Result<([u32; 4], String), Failure> {
        let votes: Vec<Vote> = self.load_all(Tree::Votes, &round.id.key())?;
        let mut counts = [0u32; 4];
        for v in &votes {
            counts[usize::from(v.perspective.byte())] += 1;
        }
        let a = self.text.academy(lang);
        let distribution: Vec<String> = Perspective::ALL
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(p, n)| format!("{} {n}", a.perspective(*p).name))
            .collect();
        let body = self.t(
            lang,
            k::VOTE_BODY,
            json!({"count": votes.len(), "distribution": distribution.join(", ")}),
        );
        Ok((counts, body))
    }

    /// In a step-3 reveal: how the participants placed the collaboration on the perspectives,
    /// as numbers and as figure 4.
    fn add_votes(&self, lang: Lang, round: &Round, mut reply: Reply) -> Outcome {
        if round.step != Step::Kind {
            return Ok(reply);
        }
        let (counts, body) = self.vote_tally(lang, round)?;
        reply = reply.section(self.text.plain(lang, k::VOTE_TITLE), body);
        if counts.iter().any(|n| *n > 0) {
            let figure = crate::site::quadrant(
                &self.text,
                lang,
                self.text.plain(lang, k::VOTE_TITLE),
                self.text.plain(lang, k::VOTE_CAPTION),
                counts,
            );
            self.attach_figure(
                &mut reply,
                &crate::figures::quadrant_svg(&figure),
                format!(
                    "{}-{}.png",
                    round.id,
                    self.text.plain(lang, k::PERSPECTIVES_FILE)
                ),
            );
        }
        Ok(reply)
    }

    /// `items` joined by commas, at most `max` of them; a cut list says how many it left out.
    fn cut_list(&self, lang: Lang, items: Vec<String>, max: usize) -> String {
        let more = items.len().saturating_sub(max);
        let mut text = items.into_iter().take(max).collect::<Vec<_>>().join(", ");
        if more > 0 {
            text.push(' ');
            text.push_str(&self.t(lang, k::METER_MORE, json!({"count": more})));
        }
        text
    }

    /// After a step-1 reveal, how far the answers agree (the idling meter), or that there is
    /// too little to judge and why; after any reveal, what changed since the previous round of
    /// the same step. Always with the numbers behind it.
    fn add_meter(&self, lang: Lang, round: &Round, measured: &Measured, mut reply: Reply) -> Reply {
        let percent = |x: f64| (x * 100.0).round() as i64;
        let m = &measured.agreement;
        if round.step == Step::Issue {
            let r = &m.reasoning;
            let body = match (m.score, m.verdict, m.unscored) {
                (Some(score), Some(verdict), _) => self.t(
                    lang,
                    k::METER_BODY,
                    json!({
                        "verdict": verdict.key(),
                        "score": percent(score),
                        "reach": percent(r.reach),
                        "compared": r.compared,
                        "apart": r.apart,
                        "distinct": r.distinct_terms,
                        "shared_count": r.shared_terms,
                        "converging": percent(meter::CONVERGING_FROM),
                        "reach_from": percent(meter::REACH_FROM),
                        "shared": self.cut_list(
                            lang,
                            m.shared.iter().map(|t| format!("{} ({})", t.display, t.members)).collect(),
                            12,
                        ),
                        "unique": self.cut_list(
                            lang,
                            m.unique
                                .iter()
                                .filter(|u| !u.terms.is_empty())
                                .map(|u| {
                                    let terms = u.terms.iter().map(|t| t.display.clone()).collect();
                                    format!("{} ({})", u.member, self.cut_list(lang, terms, 4))
                                })
                                .collect(),
                            12,
                        ),
                    }),
                ),
                (_, _, reason) => self.t(
                    lang,
                    k::METER_UNSCORED,
                    json!({
                        "reason": reason.map_or("no_answers", unscored_key),
                        "answers": r.answers,
                    }),
                ),
            };
            reply = reply.section(self.text.plain(lang, k::METER_TITLE), body);
        }
        if let Some((previous, then, c)) = &measured.since {
            let themes = |t: &[meter::Theme]| {
                self.cut_list(lang, t.iter().map(|t| t.display.clone()).collect(), 10)
            };
            let mut body = self.t(
                lang,
                k::CHANGES_BODY,
                json!({
                    "new_themes": themes(&c.new_themes),
                    "dropped_themes": themes(&c.dropped_themes),
                    "kept_themes": themes(&c.kept_themes),
                    // As text: a score of 0 must still show.
                    "before": then.map(|x| percent(x).to_string()),
                    "after": m.score.map(|x| percent(x).to_string()),
                    "joined": self.cut_list(lang, c.joined.iter().map(|m| m.name.clone()).collect(), 12),
                    "left": self.cut_list(lang, c.left.iter().map(|m| m.name.clone()).collect(), 12),
                }),
            );
            for m in &c.members {
                let terms = |t: &[meter::Term]| {
                    self.cut_list(lang, t.iter().map(|t| t.display.clone()).collect(), 6)
                };
                body.push('\n');
                body.push_str(&self.t(
                    lang,
                    k::CHANGES_MEMBER,
                    json!({"name": m.name, "added": terms(&m.added), "dropped": terms(&m.dropped)}),
                ));
            }
            reply = reply.section(
                self.t(
                    lang,
                    k::CHANGES_TITLE,
                    json!({"round": previous.id.to_string()}),
                ),
                body.trim().to_owned(),
            );
        }
        reply
    }

    /// The most recent earlier round of the same step in the same channel that was revealed.
    fn previous_round(&self, round: &Round) -> Result<Option<Round>, Failure> {
        let keys = self
            .store
            .scan_prefix(Tree::RoundsByChannel, &round.channel.key())?;
        for (key, _) in keys.iter().rev() {
            let Some(id) = key.get(8..).and_then(RoundId::from_key) else {
                continue;
            };
            if id >= round.id {
                continue;
            }
            if let Some(r) = self.load::<Round>(Tree::Rounds, &id.key())? {
                if r.step == round.step && r.revealed_at.is_some() {
                    return Ok(Some(r));
                }
            }
        }
        Ok(None)
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
        let lang = collab.lang;
        let (answers, m) = self.reveal_now(&mut round, lang)?;
        let mut batch = Batch::new();
        batch.put(Tree::Rounds, round.id.key().to_vec(), encode(&round)?);
        self.commit(batch)?;
        Ok(self
            .reveal_reply(lang, &round, &answers, &m, k::ROUND_REVEALED_TITLE)?
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
        let lang = collab.lang;
        // Closing an open round shows its answers: members answered to be heard.
        let revealed = if was_open {
            Some(self.reveal_now(&mut round, lang)?)
        } else {
            None
        };
        round.status = RoundStatus::Closed;
        round.closed_at = Some(self.now());
        let mut batch = Batch::new();
        batch.put(Tree::Rounds, round.id.key().to_vec(), encode(&round)?);
        self.commit(batch)?;
        let never_finished = self.text.academy(lang).academy.never_finished.clone();
        let footer = self.t(
            lang,
            k::ROUND_CLOSED_FOOTER,
            json!({"never_finished": never_finished}),
        );
        let reply = if let Some((answers, m)) = revealed {
            // The closing words come after the answers, as the last part of the message.
            self.reveal_reply(lang, &round, &answers, &m, k::ROUND_CLOSED_TITLE)?
                .section(self.text.plain(lang, k::QUESTIONS_NEVER_FINISHED), footer)
        } else {
            Reply::channel(footer).titled(self.t(
                lang,
                k::ROUND_CLOSED_TITLE,
                json!({"round": round.id.to_string(), "step": self.step_label(lang, round.step)}),
            ))
        };
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    /// A status orders answers by the instant read from the stored record: whatever chrono
    /// wrote (no fraction, milli-, micro-, nanoseconds), it reads back the same instant.
    #[test]
    fn a_status_reads_back_the_instant_stored_with_an_answer() {
        let second = Utc.with_ymd_and_hms(2026, 12, 6, 21, 30, 5).unwrap();
        for nanos in [0, 120_000_000, 123_456_000, 123_456_789, 999_999_999] {
            let at = second + chrono::Duration::nanoseconds(nanos);
            let answer = Answer {
                round: RoundId(3),
                user: UserId(42),
                name: "Anna \"A\" Aalbers".into(),
                text: "Het vraagstuk \u{1F30A}".into(),
                submitted_at: at,
                edited_at: Some(at),
            };
            let stored = serde_json::to_vec(&answer).unwrap();
            let head: Answered = serde_json::from_slice(&stored).unwrap();
            assert_eq!(
                head.submitted_at,
                at,
                "{}",
                String::from_utf8_lossy(&stored)
            );
            assert_eq!(
                (head.user, head.name.as_str()),
                (answer.user, answer.name.as_str())
            );
        }
        let wrong: Result<Answered, _> =
            serde_json::from_slice(br#"{"user":1,"name":"A","submitted_at":"6 december 2026"}"#);
        assert!(
            wrong.is_err(),
            "an instant that is no instant is an error, not a guess"
        );
    }
}
