//! Answering an interaction: in time (deferring when the engine is slow), split within Discord's
//! limits, always with mentions disabled, and telling others by direct message.

use super::custom_id;
use super::handler::Handler;
use super::render::{self, Message, Style};
use crate::domain::Lang;
use crate::engine::{Ctx, Failure, Outcome, Refusal, Request};
use crate::reply::{Action, Reply};
use crate::text::keys as k;
use serenity::all::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton,
    CreateEmbed, CreateEmbedFooter, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, Http, InteractionId,
};
use serenity::builder::Builder;

/// The academy's colour on embeds.
const COLOUR: u32 = 0x1f6f78;

/// Where an interaction came from and how to answer it.
pub(super) struct Origin<'a> {
    pub(super) id: InteractionId,
    pub(super) token: &'a str,
}

impl Handler {
    /// Runs a request on the engine and answers with its reply. Storage work runs off the async
    /// threads; if it has not finished in time, the interaction is deferred first so Discord's
    /// three seconds are never missed, and the reply follows as an edit.
    pub(super) async fn run_and_reply(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        ctx: Ctx,
        request: Request,
        public: bool,
    ) -> anyhow::Result<()> {
        let lang = ctx.actor.lang;
        let engine = self.engine.clone();
        let work = tokio::task::spawn_blocking(move || engine.handle(&ctx, request));
        tokio::pin!(work);
        let early = if self.options.defer_after.is_zero() {
            // Zero means: always defer first.
            None
        } else {
            tokio::select! {
                done = &mut work => Some(done),
                () = tokio::time::sleep(self.options.defer_after) => None,
            }
        };
        let (outcome, deferred) = match early {
            Some(done) => (flatten(done), false),
            None => {
                let defer = CreateInteractionResponseMessage::new().ephemeral(!public);
                self.send(http, origin, CreateInteractionResponse::Defer(defer))
                    .await?;
                (flatten(work.await), true)
            }
        };
        match outcome {
            Ok(reply) => self.send_reply(http, origin, lang, &reply, deferred).await,
            Err(Failure::Refused(r)) if deferred => {
                self.edit_original(http, origin, &refusal_message(&r)).await
            }
            Err(Failure::Refused(r)) => self.send_refusal(http, origin, &r).await,
            Err(Failure::Internal(e)) => {
                tracing::error!("internal error: {e:#}");
                let r = Refusal {
                    key: k::ERROR_INTERNAL,
                    text: self.engine.internal_error_text(lang),
                };
                if deferred {
                    self.edit_original(http, origin, &refusal_message(&r)).await
                } else {
                    self.send_refusal(http, origin, &r).await
                }
            }
        }
    }

    pub(super) async fn send_reply(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        lang: Lang,
        reply: &Reply,
        deferred: bool,
    ) -> anyhow::Result<()> {
        let mut encode = |a: &Action| self.custom_id_for(a);
        let messages = render::render(reply, &mut encode);
        let mut rest = messages.iter();
        if let Some(first) = rest.next() {
            if deferred {
                self.edit_original(http, origin, first).await?;
            } else {
                let response = CreateInteractionResponse::Message(response_message(first));
                self.send(http, origin, response).await?;
            }
        }
        for m in rest {
            followup(m).execute(http, (None, origin.token)).await?;
        }
        for notice in &reply.notices {
            self.send_notice(http, lang, notice).await;
        }
        Ok(())
    }

    /// Tells someone else what happened (a lesson's author, say) by direct message. The action
    /// itself is already saved, so a closed inbox is logged, not fatal.
    pub(super) async fn send_notice(
        &self,
        http: &Http,
        _lang: Lang,
        notice: &crate::reply::Notice,
    ) {
        let user = serenity::all::UserId::new(notice.to.0.max(1));
        let result = async {
            let dm = user.create_dm_channel(http).await?;
            for m in render::render(&Reply::private(notice.text.clone()), &mut |_| String::new()) {
                let mut msg = CreateMessage::new()
                    .embeds(m.embeds.iter().map(embed).collect())
                    .allowed_mentions(CreateAllowedMentions::new());
                if m.embeds.is_empty() {
                    msg = msg.content("…");
                }
                dm.id.send_message(http, msg).await?;
            }
            Ok::<(), serenity::Error>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(user = notice.to.0, "could not send a direct message: {e}");
        }
    }

    pub(super) fn custom_id_for(&self, action: &Action) -> String {
        let id = custom_id::encode_action(action);
        if id.chars().count() <= custom_id::MAX_LEN {
            return id;
        }
        if let Action::SearchPage(q) = action {
            let encoded = custom_id::encode_query(q);
            let hash = custom_id::search_hash(&encoded);
            if let Err(e) = self.engine.keep_search(&hash, &encoded) {
                tracing::error!("could not keep a long search: {e}");
            }
            return custom_id::stored_search(&hash);
        }
        id
    }

    pub(super) async fn send(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        response: CreateInteractionResponse,
    ) -> anyhow::Result<()> {
        response.execute(http, (origin.id, origin.token)).await?;
        Ok(())
    }

    pub(super) async fn edit_original(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        m: &Message,
    ) -> anyhow::Result<()> {
        let mut edit = EditInteractionResponse::new()
            .embeds(m.embeds.iter().map(embed).collect())
            .components(rows(m))
            .allowed_mentions(CreateAllowedMentions::new());
        if let Some(a) = &m.attachment {
            edit =
                edit.new_attachment(CreateAttachment::bytes(a.bytes.clone(), a.filename.clone()));
        }
        edit.execute(http, origin.token).await?;
        Ok(())
    }

    pub(super) async fn send_refusal(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        r: &Refusal,
    ) -> anyhow::Result<()> {
        let m = refusal_message(r);
        self.send(
            http,
            origin,
            CreateInteractionResponse::Message(response_message(&m)),
        )
        .await
    }

    pub(super) async fn send_failure(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        lang: Lang,
        f: Failure,
    ) -> anyhow::Result<()> {
        let r = match f {
            Failure::Refused(r) => r,
            Failure::Internal(e) => {
                tracing::error!("internal error: {e:#}");
                Refusal {
                    key: k::ERROR_INTERNAL,
                    text: self.engine.internal_error_text(lang),
                }
            }
        };
        self.send_refusal(http, origin, &r).await
    }
}

fn flatten(done: Result<Outcome, tokio::task::JoinError>) -> Outcome {
    done.unwrap_or_else(|e| {
        Err(Failure::Internal(anyhow::anyhow!(
            "the engine task failed: {e}"
        )))
    })
}

/// A refusal as one private message.
fn refusal_message(r: &Refusal) -> Message {
    render::render(&Reply::private(r.text.clone()), &mut |_| String::new())
        .into_iter()
        .next()
        .unwrap_or(Message {
            embeds: Vec::new(),
            rows: Vec::new(),
            attachment: None,
            ephemeral: true,
        })
}

fn embed(e: &render::Embed) -> CreateEmbed {
    let mut out = CreateEmbed::new().colour(COLOUR);
    if let Some(t) = &e.title {
        out = out.title(t);
    }
    if !e.description.is_empty() {
        out = out.description(&e.description);
    }
    if let Some(f) = &e.footer {
        out = out.footer(CreateEmbedFooter::new(f));
    }
    out
}

fn rows(m: &Message) -> Vec<CreateActionRow> {
    m.rows
        .iter()
        .map(|row| {
            CreateActionRow::Buttons(
                row.iter()
                    .map(|b| {
                        CreateButton::new(&b.custom_id)
                            .label(&b.label)
                            .style(match b.style {
                                Style::Primary => ButtonStyle::Primary,
                                Style::Secondary => ButtonStyle::Secondary,
                                Style::Danger => ButtonStyle::Danger,
                            })
                    })
                    .collect(),
            )
        })
        .collect()
}

/// The response and follow-up builders have the same methods but no common trait.
macro_rules! message {
    ($builder:expr, $m:expr) => {{
        let m: &Message = $m;
        let mut out = $builder
            .embeds(m.embeds.iter().map(embed).collect())
            .components(rows(m))
            .ephemeral(m.ephemeral)
            .allowed_mentions(CreateAllowedMentions::new());
        if let Some(a) = &m.attachment {
            out = out.add_file(CreateAttachment::bytes(a.bytes.clone(), a.filename.clone()));
        }
        out
    }};
}

fn response_message(m: &Message) -> CreateInteractionResponseMessage {
    message!(CreateInteractionResponseMessage::new(), m)
}

fn followup(m: &Message) -> CreateInteractionResponseFollowup {
    message!(CreateInteractionResponseFollowup::new(), m)
}
