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

/// The help of one language and audience, for one list of commands.
pub(super) struct WrittenHelp {
    lang: Lang,
    moderators: bool,
    commands: Vec<super::HelpLine>,
    reply: Reply,
}

/// How many written helps are kept: two audiences in each language, and room for an adapter
/// that lists other commands.
const HELP_KEPT: usize = 8;

impl Engine {
    pub(super) fn help(&self, ctx: &Ctx, commands: &[super::HelpLine]) -> Reply {
        let lang = ctx.actor.lang;
        let moderators = ctx.actor.role.can_moderate();
        let mut written = self.help_written.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = written
            .iter()
            .find(|w| w.lang == lang && w.moderators == moderators && w.commands == commands)
        {
            return w.reply.clone();
        }
        let reply = self.write_help(lang, moderators, commands);
        if written.len() == HELP_KEPT {
            written.remove(0);
        }
        written.push(WrittenHelp {
            lang,
            moderators,
            commands: commands.to_vec(),
            reply: reply.clone(),
        });
        reply
    }

    /// The help of a few commands (`/hulp les`): their usage and what each does, the
    /// moderators' apart, without the overview around them. A moderator also sees the
    /// moderators' commands about the same thing (`related`), as the overview shows them theirs.
    pub(super) fn help_for(
        &self,
        ctx: &Ctx,
        asked: &str,
        commands: &[super::HelpLine],
        related: &[super::HelpLine],
    ) -> Reply {
        let lang = ctx.actor.lang;
        let lines = |moderators: bool| self.help_lines(lang, commands, moderators);
        let members = lines(false);
        let moderators = if ctx.actor.role.can_moderate() && !related.is_empty() {
            let all: Vec<super::HelpLine> = commands.iter().chain(related).cloned().collect();
            self.help_lines(lang, &all, true)
        } else {
            lines(true)
        };
        let title = self.t(lang, k::HELP_FOR, json!({ "asked": asked }));
        // Only moderators' commands (`/hulp instellen`): said in the title.
        if members.is_empty() {
            let title = format!("{title} · {}", self.text.plain(lang, k::HELP_MODERATORS));
            return Reply::private(moderators).titled(title);
        }
        let mut reply = Reply::private(members).titled(title);
        if !moderators.is_empty() {
            reply = reply.section(self.text.plain(lang, k::HELP_MODERATORS), moderators);
        }
        reply
    }

    /// Each command of one audience with what it does, a line under its usage.
    fn help_lines(&self, lang: Lang, commands: &[super::HelpLine], moderators: bool) -> String {
        commands
            .iter()
            .filter(|c| c.moderators == moderators)
            .map(|c| format!("{}\n    {}", c.usage, self.text.plain(lang, c.help)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn write_help(&self, lang: Lang, moderators: bool, commands: &[super::HelpLine]) -> Reply {
        let a = self.text.academy(lang);
        let steps: Vec<String> = Step::ALL
            .iter()
            .map(|s| format!("{}. {}", s.number(), a.step(*s).question))
            .collect();
        let lines = |moderators: bool| self.help_lines(lang, commands, moderators);
        let mut reply =
            Reply::private(self.t(lang, k::HELP_INTRO, json!({"tagline": a.academy.tagline})))
                .titled(a.academy.name.clone())
                .section(
                    self.text.plain(lang, k::HELP_TERMS_TITLE),
                    self.text.plain(lang, k::HELP_TERMS),
                )
                .section(self.text.plain(lang, k::HELP_STEPS), bullets(&steps))
                .section(self.text.plain(lang, k::HELP_MEMBERS), lines(false));
        if moderators {
            reply = reply.section(self.text.plain(lang, k::HELP_MODERATORS), lines(true));
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
        zone: Option<chrono_tz::Tz>,
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
            // Unless one is given, a new channel speaks the language of whoever sets it up (in
            // Discord their client's locale, in the console its language); an update keeps it.
            lang: lang.or(existing.as_ref().map(|c| c.lang)).unwrap_or(ui),
            configured_by: Some(ctx.actor.id),
            configured_at: existing
                .as_ref()
                .map(|c| c.configured_at)
                .unwrap_or_else(|| self.now()),
            cadences: existing
                .as_ref()
                .map(|c| c.cadences.clone())
                .unwrap_or_default(),
            time_zone: zone
                .map(|z| z.name().to_owned())
                .or(existing.as_ref().and_then(|c| c.time_zone.clone())),
            server: ctx.server.or(existing.as_ref().and_then(|c| c.server)),
            sharing: existing
                .as_ref()
                .map(|c| c.sharing.clone())
                .unwrap_or_default(),
        };
        let mut batch = Batch::new();
        let mut collab = collab;
        match &existing {
            // The essay's advice: keep returning to the first question. Every six weeks by
            // default; moderators change or pause it with /moderator ritme.
            None => self.start_cadence(&mut batch, &mut collab, Step::Issue, 6)?,
            Some(old) if self.zone_of(old) != self.zone_of(&collab) => {
                self.replan_cadence(&mut batch, &mut collab, self.zone_of(old))?
            }
            Some(_) => {}
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
                // Named when chosen, or when it is not the Dutch time everyone assumes.
                "zone": (zone.is_some() || self.zone_of(&collab) != crate::time::DEFAULT_ZONE)
                    .then(|| self.zone_of(&collab).name()),
            }),
        );
        let language = self.t(
            lang,
            k::SETUP_LANGUAGE,
            json!({
                "language": self.lang_name(lang, lang),
                "other": self.lang_name(lang, lang.other()),
                "code": lang.other().key(),
            }),
        );
        Ok(Reply::channel(format!("{text}\n\n{language}"))
            .titled(self.text.academy(lang).academy.name.clone()))
    }

    /// A language's name in `lang` ("Dutch", "Nederlands").
    fn lang_name(&self, lang: Lang, of: Lang) -> String {
        let key = match of {
            Lang::Nl => k::CHOICE_NL,
            Lang::En => k::CHOICE_EN,
        };
        self.text.plain(lang, key)
    }

    fn layer_names(&self, lang: Lang, layers: &[Layer]) -> String {
        let a = self.text.academy(lang);
        layers
            .iter()
            .map(|l| a.layer(*l).name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The language of what the academy posts in a channel; `None` when it is no collaboration.
    pub fn channel_lang(&self, channel: ChannelId) -> Result<Option<Lang>, Failure> {
        Ok(self
            .load::<Collaboration>(Tree::Collaborations, &channel.key())?
            .map(|c| c.lang))
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
                "language": self.lang_name(lang, collab.lang),
                "zone": self.zone_of(&collab).name(),
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
        self.attach_figure(
            &mut reply,
            &crate::figures::quadrant_svg(&figure),
            format!("{}.png", self.text.plain(lang, k::PERSPECTIVES_FILE)),
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
        let existing = self.member(ctx.actor.id)?;
        // "(was: Water board)" after choosing Water board again says nothing.
        let previous = existing
            .as_ref()
            .and_then(|m| m.layer)
            .filter(|&p| p != layer);
        let member = Member {
            id: ctx.actor.id,
            name: clean_line(&ctx.actor.name)
                .chars()
                .take(limits::NAME)
                .collect(),
            layer: Some(layer),
            ..existing.unwrap_or_else(|| Member::new(ctx.actor.id))
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

impl Engine {
    /// The role and language a console name was last given, if any.
    pub fn console_person(&self, id: UserId) -> Result<(Option<Role>, Option<Lang>), Failure> {
        Ok(self
            .member(id)?
            .map(|m| (m.console_role, m.console_lang))
            .unwrap_or_default())
    }

    /// The name the academy knows a member by, with the language a console gave them: for a
    /// console telling who a message is for when that person was not acted as in it.
    pub fn known_name(&self, id: UserId) -> Result<Option<(String, Option<Lang>)>, Failure> {
        Ok(self
            .member(id)?
            .filter(|m| !m.name.trim().is_empty())
            .map(|m| (m.name, m.console_lang)))
    }

    /// Remembers the role and language given to a console name, so they outlive the session.
    pub fn remember_console_person(
        &self,
        id: UserId,
        name: &str,
        role: Option<Role>,
        lang: Option<Lang>,
    ) -> Result<(), Failure> {
        let _guard = self.lock();
        let mut member = self.member(id)?.unwrap_or_else(|| Member::new(id));
        member.name = clean_line(name).chars().take(limits::NAME).collect();
        member.console_role = role.or(member.console_role);
        member.console_lang = lang.or(member.console_lang);
        let mut batch = Batch::new();
        batch.put(Tree::Members, id.key().to_vec(), encode(&member)?);
        self.commit(batch)
    }
}
