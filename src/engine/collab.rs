//! Setting up a channel as a collaboration, the reference texts (steps, perspectives, orders),
//! help, and a member's government layer.

use super::{clean_line, encode, limits, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::Reply;
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use serde_json::json;

fn bullets(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("• {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Engine {
    pub(super) fn help(&self, ctx: &Ctx) -> Reply {
        let lang = ctx.actor.lang;
        let a = self.text.academy(lang);
        let steps: Vec<String> = Step::ALL
            .iter()
            .map(|s| format!("{}. {}", s.number(), a.step(*s).question))
            .collect();
        let mut reply =
            Reply::private(self.t(lang, k::HELP_INTRO, json!({"tagline": a.academy.tagline})))
                .titled(a.academy.name.clone())
                .section(self.text.plain(lang, k::HELP_STEPS), bullets(&steps))
                .section(
                    self.text.plain(lang, k::HELP_MEMBERS),
                    crate::commands::help_lines(
                        &self.text,
                        lang,
                        crate::commands::Audience::Members,
                    ),
                );
        if ctx.actor.role.can_moderate() {
            reply = reply.section(
                self.text.plain(lang, k::HELP_MODERATORS),
                crate::commands::help_lines(
                    &self.text,
                    lang,
                    crate::commands::Audience::Moderators,
                ),
            );
        }
        reply
    }

    pub(super) fn setup(
        &self,
        ctx: &Ctx,
        task: String,
        region: String,
        layers: Vec<Layer>,
        lang: Option<Lang>,
    ) -> Outcome {
        let ui = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let channel = self.require_channel(ctx)?;
        let task = clean_line(&task);
        let region = clean_line(&region);
        self.check_text(ui, k::FIELD_TASK, &task, limits::TASK)?;
        self.check_text(ui, k::FIELD_REGION, &region, limits::REGION)?;
        if layers.is_empty() {
            return Err(self.refuse(ui, k::SETUP_NO_LAYERS, json!({})));
        }
        let mut layers = layers;
        layers.sort();
        layers.dedup();

        let _guard = self.lock();
        let existing = self.load::<Collaboration>(Tree::Collaborations, &channel.key())?;
        let collab = Collaboration {
            channel,
            task,
            region,
            layers,
            lang: lang
                .or(existing.as_ref().map(|c| c.lang))
                .unwrap_or(self.settings.default_lang),
            configured_by: Some(ctx.actor.id),
            configured_at: existing
                .as_ref()
                .map(|c| c.configured_at)
                .unwrap_or_else(|| self.now()),
            cadence: existing.as_ref().and_then(|c| c.cadence.clone()),
            server: ctx.server.or(existing.as_ref().and_then(|c| c.server)),
            sharing: existing
                .as_ref()
                .map(|c| c.sharing.clone())
                .unwrap_or_default(),
        };
        let mut batch = Batch::new();
        let mut collab = collab;
        if existing.is_none() {
            // The essay's advice: keep returning to the first question. Every six weeks by
            // default; moderators change or pause it with /ritme.
            self.start_cadence(&mut batch, &mut collab, Step::Issue, 6)?;
        }
        batch.put(
            Tree::Collaborations,
            channel.key().to_vec(),
            encode(&collab)?,
        );
        self.commit(batch)?;

        let lang = collab.lang;
        let key = if existing.is_some() {
            k::SETUP_UPDATED
        } else {
            k::SETUP_DONE
        };
        let text = self.t(
            lang,
            key,
            json!({
                "task": collab.task,
                "region": collab.region,
                "layers": self.layer_names(lang, &collab.layers),
                "question": self.text.academy(lang).step(Step::Issue).question,
            }),
        );
        Ok(Reply::channel(text).titled(self.text.academy(lang).academy.name.clone()))
    }

    pub(super) fn layer_names(&self, lang: Lang, layers: &[Layer]) -> String {
        let a = self.text.academy(lang);
        layers
            .iter()
            .map(|l| a.layer(*l).name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) fn show_collaboration(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let collab = self.require_collaboration(ctx)?;
        let round = self.latest_round(collab.channel)?;
        let round_text = match round.filter(|r| r.status != RoundStatus::Closed) {
            Some(r) => self.t(
                lang,
                k::COLLAB_ROUND,
                json!({"round": r.id.to_string(), "step": self.step_label(lang, r.step), "revealed": r.status == RoundStatus::Revealed}),
            ),
            None => self.text.plain(lang, k::COLLAB_NO_ROUND),
        };
        let text = self.t(
            lang,
            k::COLLAB_SHOW,
            json!({
                "task": collab.task,
                "region": collab.region,
                "layers": self.layer_names(lang, &collab.layers),
                "language": collab.lang.key(),
                "round": round_text,
            }),
        );
        Ok(Reply::private(text).titled(collab.task.clone()).section(
            self.text.plain(lang, k::SHARED_TITLE),
            self.sharing_text(lang, &collab)?,
        ))
    }

    pub(super) fn questions(&self, ctx: &Ctx, step: Step) -> Reply {
        let lang = ctx.actor.lang;
        let a = self.text.academy(lang);
        let s = a.step(step);
        let mut reply = Reply::private(s.question.clone())
            .titled(self.step_label(lang, step))
            .section(
                self.text.plain(lang, k::QUESTIONS_FOLLOWUPS),
                bullets(&s.followups),
            )
            .section(
                self.text.plain(lang, k::QUESTIONS_WHY),
                s.explanation.clone(),
            );
        if step == Step::Kind {
            let names: Vec<String> = Perspective::ALL
                .iter()
                .map(|p| {
                    let p = a.perspective(*p);
                    format!("{} — {} ({})", p.name, p.basic_form, p.quadrant)
                })
                .collect();
            reply = reply.section(
                self.text.plain(lang, k::PERSPECTIVES_TITLE),
                bullets(&names),
            );
        }
        reply.section(
            self.text.plain(lang, k::QUESTIONS_NEVER_FINISHED),
            a.academy.never_finished.clone(),
        )
    }

    pub(super) fn perspectives(&self, ctx: &Ctx) -> Reply {
        let lang = ctx.actor.lang;
        let a = self.text.academy(lang);
        let mut reply = Reply::private(a.perspectives_note.text.clone())
            .titled(self.text.plain(lang, k::PERSPECTIVES_TITLE));
        for p in Perspective::ALL {
            let t = a.perspective(*p);
            let body = self.t(
                lang,
                k::PERSPECTIVES_ENTRY,
                json!({
                    "tradition": t.tradition,
                    "quadrant": t.quadrant,
                    "basic_form": t.basic_form,
                    "cement": t.cement,
                    "values": t.values.join(", "),
                    "summary": t.summary,
                }),
            );
            reply = reply.section(t.name.clone(), body);
        }
        // Figure 4 itself: people would rather look at it than read the list.
        let figure = crate::site::quadrant(
            &self.text,
            lang,
            self.text.plain(lang, k::PERSPECTIVES_TITLE),
            a.perspectives_note.text.clone(),
            [0; 4],
        );
        super::attach_figure(
            &mut reply,
            &crate::figures::quadrant_svg(&figure),
            "perspectives.png".into(),
        );
        reply
    }

    pub(super) fn orders(&self, ctx: &Ctx) -> Reply {
        let lang = ctx.actor.lang;
        let a = self.text.academy(lang);
        let mut reply = Reply::private(self.text.plain(lang, k::ORDERS_INTRO))
            .titled(self.text.plain(lang, k::ORDERS_TITLE));
        for o in Order::ALL {
            let t = a.order(*o);
            reply = reply.section(
                format!("{} — {}", t.name, t.short),
                format!("{}\n{}", t.description, bullets(&t.examples)),
            );
        }
        reply
    }

    pub(super) fn set_layer(&self, ctx: &Ctx, layer: Layer) -> Outcome {
        let lang = ctx.actor.lang;
        let guard = self.lock();
        let previous = self.member(ctx.actor.id)?.and_then(|m| m.layer);
        let member = Member {
            id: ctx.actor.id,
            name: clean_line(&ctx.actor.name)
                .chars()
                .take(limits::NAME)
                .collect(),
            layer: Some(layer),
        };
        let mut batch = Batch::new();
        batch.put(Tree::Members, ctx.actor.id.key().to_vec(), encode(&member)?);
        self.commit_unlocking(guard, batch)?;
        let a = self.text.academy(lang);
        Ok(Reply::private(self.t(
            lang,
            k::LAYER_SAVED,
            json!({
                "layer": a.layer(layer).name,
                "attribution": a.layer(layer).attribution,
                "previous": previous.map(|p| a.layer(p).name.clone()),
            }),
        )))
    }
}

impl From<Failure> for anyhow::Error {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Internal(e) => e,
            Failure::Refused(r) => anyhow::anyhow!("{}", r.text),
        }
    }
}
