//! Answering an interaction: in time (deferring when the engine is slow), split within Discord's
//! limits, always with mentions disabled, and telling others by direct message.

use super::custom_id;
use super::handler::Handler;
use super::render::{self, Message, Style};
use super::retry::{self, retry};
use crate::domain::Lang;
use crate::engine::{Ctx, Engine, Failure, Refusal, Request};
use crate::reply::{Action, Notice, Reply};
use crate::text::keys as k;
use serenity::all::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton,
    CreateEmbed, CreateEmbedFooter, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, Http, InteractionId,
};
use serenity::builder::Builder;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The academy's colour on embeds.
const COLOUR: u32 = 0x1f6f78;
/// How long after an interaction arrived its first response may still be tried again; Discord
/// refuses it after three seconds, and the margin covers the way there.
const RESPOND_WITHIN: Duration = Duration::from_millis(2500);

/// Where an interaction came from and how to answer it.
pub(super) struct Origin<'a> {
    pub(super) id: InteractionId,
    pub(super) token: &'a str,
    /// Set once Discord accepted the first response, so a failure after it is not answered twice.
    pub(super) answered: AtomicBool,
    /// When the interaction arrived: Discord's three seconds for the first response run from
    /// about here.
    pub(super) received: Instant,
}

impl<'a> Origin<'a> {
    pub(super) fn new(id: InteractionId, token: &'a str) -> Origin<'a> {
        Origin {
            id,
            token,
            answered: AtomicBool::new(false),
            received: Instant::now(),
        }
    }
}

/// What the engine's work produced, rendered: messages for the actor, notices for others.
type Rendered = (Vec<Message>, Vec<Notice>);

impl Handler {
    /// Runs a request on the engine and answers with its reply. The engine, the rendering and
    /// keeping a long search run off the async threads; if they have not finished in
    /// time, the interaction is deferred first so Discord's three seconds are never missed.
    /// `echo` is what the user typed in a form: a refusal repeats it so nothing typed is lost.
    pub(super) async fn run_and_reply(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        ctx: Ctx,
        request: Request,
        echo: Option<String>,
    ) -> anyhow::Result<()> {
        let lang = ctx.actor.lang;
        let public = request.announces();
        if request.reads_nothing() && !self.options.defer_after.is_zero() {
            // A reference text: rendered from the catalog, with no store to wait for, so it is
            // answered here rather than after two hops to a blocking thread and back (unless
            // every reply is to be deferred first).
            let rendered = self.engine.handle(&ctx, request).map(|reply| {
                let (messages, _) = render_with_ids(&reply);
                (messages, reply.notices)
            });
            return self
                .reply_with(http, origin, lang, rendered, None, echo)
                .await;
        }
        let engine = self.engine.clone();
        let work = tokio::task::spawn_blocking(move || -> Result<Rendered, Failure> {
            let reply = engine.handle(&ctx, request)?;
            let (messages, long) = render_with_ids(&reply);
            keep_searches(&engine, &long);
            Ok((messages, reply.notices))
        });
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
            Some(done) => (flatten(done), None),
            None => {
                let defer = CreateInteractionResponseMessage::new().ephemeral(!public);
                self.send(http, origin, CreateInteractionResponse::Defer(defer))
                    .await?;
                (flatten(work.await), Some(public))
            }
        };
        self.reply_with(http, origin, lang, outcome, deferred, echo)
            .await
    }

    /// Answers with what the engine's work gave: its messages, or the failure in words (with
    /// what the user typed); then tells the people its notices concern.
    async fn reply_with(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        lang: Lang,
        outcome: Result<Rendered, Failure>,
        deferred: Option<bool>,
        echo: Option<String>,
    ) -> anyhow::Result<()> {
        let (messages, notices) = match outcome {
            Ok(rendered) => rendered,
            Err(failure) => {
                let text = self.failure_text(lang, failure);
                (
                    private_messages(&self.with_echo(lang, text, echo.as_deref())),
                    Vec::new(),
                )
            }
        };
        let delivered = self.deliver(http, origin, &messages, deferred).await;
        // What the engine did is saved either way; the people it concerns hear of it.
        for notice in &notices {
            self.send_notice(http, notice).await;
        }
        delivered
    }

    /// Sends rendered messages: the first as the response (or into the deferred one), the rest
    /// as follow-ups. A deferral fixed whether the first is public; if the reply turned out
    /// otherwise, the deferred message is removed and everything goes out as follow-ups.
    async fn deliver(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        messages: &[Message],
        deferred_public: Option<bool>,
    ) -> anyhow::Result<()> {
        let Some((first, rest)) = messages.split_first() else {
            return Ok(());
        };
        match deferred_public {
            None => {
                let response = CreateInteractionResponse::Message(response_message(first));
                self.send(http, origin, response).await?;
            }
            Some(public) if public != first.ephemeral => {
                self.edit_original(http, origin, first).await?;
            }
            Some(_) => {
                let removed = retry("removing a deferred response", None, || {
                    http.delete_original_interaction_response(origin.token)
                })
                .await;
                // A retry of a delete that reached Discord finds nothing left to delete: that
                // is the state we wanted, and the reply must still follow.
                match removed {
                    Err(e) if !super::retry::gone(&e) => return Err(e.into()),
                    _ => {}
                }
                retry("a follow-up", None, || {
                    followup(first).execute(http, (None, origin.token))
                })
                .await?;
            }
        }
        for m in rest {
            retry("a follow-up", None, || {
                followup(m).execute(http, (None, origin.token))
            })
            .await?;
        }
        Ok(())
    }

    /// Tells someone else what happened (a lesson's author, say) by direct message. The action
    /// itself is already saved, so a closed inbox is logged, not fatal.
    async fn send_notice(&self, http: &Http, notice: &Notice) {
        let user = serenity::all::UserId::new(notice.to.0.max(1));
        let result = async {
            let dm = retry("opening a direct message", None, || {
                user.create_dm_channel(http)
            })
            .await?;
            for m in private_messages(&notice.text) {
                let msg = CreateMessage::new()
                    .embeds(m.embeds.iter().map(embed).collect())
                    .allowed_mentions(CreateAllowedMentions::new());
                retry("a direct message", None, || {
                    dm.id.send_message(http, msg.clone())
                })
                .await?;
            }
            Ok::<(), serenity::Error>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(
                user = notice.to.0,
                "could not send a direct message: {}",
                super::redact(&e.to_string())
            );
        }
    }

    pub(super) async fn send(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        response: CreateInteractionResponse,
    ) -> anyhow::Result<()> {
        let mut tries = 0;
        let deadline = origin.received + RESPOND_WITHIN;
        let result = retry("an interaction response", Some(deadline), || {
            tries += 1;
            response.clone().execute(http, (origin.id, origin.token))
        })
        .await;
        match result {
            Ok(()) => {}
            // An earlier try reached Discord although its answer did not reach us: the user
            // has the response, and a second one would be refused anyway.
            Err(e) if tries > 1 && retry::already_acknowledged(&e) => {
                tracing::warn!(interaction = origin.id.get(), "an earlier try had answered");
            }
            Err(e) => return Err(e.into()),
        }
        origin.answered.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn edit_original(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        m: &Message,
    ) -> anyhow::Result<()> {
        let mut edit = EditInteractionResponse::new()
            .embeds(m.embeds.iter().map(embed).collect())
            .components(rows(m))
            .allowed_mentions(CreateAllowedMentions::new());
        for a in &m.attachments {
            edit =
                edit.new_attachment(CreateAttachment::bytes(a.bytes.clone(), a.filename.clone()));
        }
        retry("editing the response", None, || {
            edit.clone().execute(http, origin.token)
        })
        .await?;
        Ok(())
    }

    pub(super) async fn send_refusal(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        r: &Refusal,
    ) -> anyhow::Result<()> {
        self.deliver(http, origin, &private_messages(&r.text), None)
            .await
    }

    pub(super) async fn send_failure(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        lang: Lang,
        f: Failure,
    ) -> anyhow::Result<()> {
        let text = self.failure_text(lang, f);
        self.deliver(http, origin, &private_messages(&text), None)
            .await
    }

    /// A refusal of a form, followed by what the user typed in it.
    pub(super) fn with_echo(&self, lang: Lang, text: String, typed: Option<&str>) -> String {
        match typed.filter(|t| !t.trim().is_empty()) {
            Some(typed) => {
                let label = self.engine.catalog().plain(lang, k::DISCORD_YOUR_TEXT);
                format!("{text}\n\n**{label}**\n{typed}")
            }
            None => text,
        }
    }

    /// What the user is told about a failure: the refusal itself, or a generic sentence while
    /// the details go to the log.
    pub(super) fn failure_text(&self, lang: Lang, f: Failure) -> String {
        match f {
            Failure::Refused(r) => r.text,
            Failure::Internal(e) => {
                tracing::error!("internal error: {}", super::redact(&format!("{e:#}")));
                self.engine.internal_error_text(lang)
            }
        }
    }
}

/// A search too long for a custom_id: its hash (what the button carries) and its text.
pub(super) struct LongSearch {
    hash: String,
    encoded: String,
}

/// Renders a reply with the custom_ids of its buttons. A search too long for one is named by
/// its hash and returned, to be kept in the store before the message is sent: rendering itself
/// stores nothing, so it may run anywhere.
pub(super) fn render_with_ids(reply: &Reply) -> (Vec<Message>, Vec<LongSearch>) {
    let mut long = Vec::new();
    let messages = render::render(reply, &mut |a| custom_id_for(a, &mut long));
    (messages, long)
}

fn custom_id_for(action: &Action, long: &mut Vec<LongSearch>) -> String {
    let id = custom_id::encode_action(action);
    if id.chars().count() <= custom_id::MAX_LEN {
        return id;
    }
    if let Action::SearchPage(q) = action {
        let encoded = custom_id::encode_query(q);
        let hash = custom_id::search_hash(&encoded);
        let id = custom_id::stored_search(&hash);
        long.push(LongSearch { hash, encoded });
        return id;
    }
    id
}

/// Keeps the long searches of a rendered reply, so its buttons find them; this writes to the
/// store, so it runs where blocking is allowed. A search that cannot be kept is logged and the
/// message still goes out, as its other buttons work.
pub(super) fn keep_searches(engine: &Engine, long: &[LongSearch]) {
    for s in long {
        if let Err(e) = engine.keep_search(&s.hash, &s.encoded) {
            tracing::error!("could not keep a long search: {e}");
        }
    }
}

fn flatten<T>(done: Result<Result<T, Failure>, tokio::task::JoinError>) -> Result<T, Failure> {
    done.unwrap_or_else(|e| {
        Err(Failure::Internal(anyhow::anyhow!(
            "the engine task failed: {e}"
        )))
    })
}

/// A private text as messages (a refusal, a notice): split like any reply.
fn private_messages(text: &str) -> Vec<Message> {
    render::render(&Reply::private(text.to_owned()), &mut |_| String::new())
}

pub(super) fn embed(e: &render::Embed) -> CreateEmbed {
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

pub(super) fn rows(m: &Message) -> Vec<CreateActionRow> {
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
        for a in &m.attachments {
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
