//! Turns Discord interactions into engine requests and engine replies into Discord responses.
//!
//! Everything a user can do goes through [`Engine::handle`]; this module only translates. It
//! owns the Discord-specific promises: every interaction is answered or deferred within
//! Discord's three seconds, a replayed interaction has one effect, every message goes out with
//! mentions disabled, and a button from an older version or a forged one gets an explanation.

use super::custom_id::{self, DecodeError, Target};
use super::forms::modal_fields;
use super::render::clip;
use super::respond::Origin;
use super::ServeOptions;
use crate::commands::{self, Place, Spec, Value, Values, SPECS};
use crate::domain::{Actor, ChannelId, Lang, Role, ServerId, UserId};
use crate::engine::{Ctx, Engine, LessonChanges, Refusal, Request};
use crate::reply::Action;
use crate::text::keys as k;
use serenity::all::{
    CommandInteraction, ComponentInteraction, Context, CreateInteractionResponse, EventHandler,
    GuildId, Http, Interaction, InteractionId, Member, ModalInteraction, Permissions, Ready,
    ResolvedValue, User,
};
use serenity::async_trait;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// How many interaction ids are remembered to recognise a replayed delivery.
const SEEN_CAPACITY: usize = 8192;

/// Interaction ids already handled, oldest first.
#[derive(Default)]
struct Seen {
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

impl Seen {
    /// True the first time an id is offered.
    fn first(&mut self, id: u64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > SEEN_CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

/// Counts interactions being handled, so shutdown can wait for them.
#[derive(Default)]
pub(super) struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

struct InFlightGuard<'a>(&'a InFlight);

impl InFlight {
    fn enter(&self) -> InFlightGuard<'_> {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self)
    }

    /// Waits until nothing is in flight.
    pub(super) async fn drained(&self) {
        loop {
            let notified = self.idle.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// The serenity event handler.
pub(super) struct Handler {
    pub(super) engine: Arc<Engine>,
    pub(super) options: Arc<ServeOptions>,
    seen: Mutex<Seen>,
    pub(super) in_flight: InFlight,
    pub(super) closing: AtomicBool,
    registered: AtomicBool,
}

impl Handler {
    pub(super) fn new(engine: Arc<Engine>, options: Arc<ServeOptions>) -> Handler {
        Handler {
            engine,
            options,
            seen: Mutex::default(),
            in_flight: InFlight::default(),
            closing: AtomicBool::new(false),
            registered: AtomicBool::new(false),
        }
    }
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(
            user = %ready.user.name,
            guilds = ready.guilds.len(),
            "connected to Discord"
        );
        if !self.registered.swap(true, Ordering::SeqCst) {
            if let Err(e) = self.register(&ctx.http).await {
                // Commands stay as they were registered before; the bot still answers them.
                tracing::error!("registering the slash commands failed: {e:#}");
                self.registered.store(false, Ordering::SeqCst);
            }
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let id = interaction.id().get();
        let first = self
            .seen
            .lock()
            .map(|mut s| s.first(id))
            .unwrap_or_else(|p| p.into_inner().first(id));
        if !first {
            tracing::info!(interaction = id, "ignored a replayed interaction");
            return;
        }
        let _guard = self.in_flight.enter();
        let http = ctx.http.clone();
        // The three kinds carry the same fields under the same names, but share no trait.
        macro_rules! incoming {
            ($i:expr, $member:expr) => {
                self.incoming(
                    $i.id,
                    &$i.token,
                    &$i.user,
                    $member,
                    &$i.locale,
                    $i.guild_id,
                    $i.channel_id,
                )
            };
        }
        let (origin, actx) = match &interaction {
            Interaction::Command(c) => incoming!(c, c.member.as_deref()),
            Interaction::Component(c) => incoming!(c, c.member.as_ref()),
            Interaction::Modal(m) => incoming!(m, m.member.as_ref()),
            _ => return,
        };
        let actx_lang = actx.actor.lang;
        let result = if self.closing.load(Ordering::SeqCst) {
            let r = self.refusal(actx_lang, k::DISCORD_RESTARTING);
            self.send_refusal(&http, &origin, &r).await
        } else {
            match &interaction {
                Interaction::Command(c) => self.on_command(&http, &origin, actx, c).await,
                Interaction::Component(c) => self.on_component(&http, &origin, actx, c).await,
                Interaction::Modal(m) => self.on_modal(&http, &origin, actx, m).await,
                _ => Ok(()),
            }
        };
        if let Err(e) = result {
            tracing::error!(
                interaction = id,
                "answering an interaction failed: {}",
                super::redact(&format!("{e:#}"))
            );
            // Never leave the user with "the application did not respond": one last, plain try.
            if !origin.answered.load(Ordering::SeqCst) {
                let r = self.refusal(actx_lang, k::ERROR_INTERNAL);
                if let Err(e) = self.send_refusal(&http, &origin, &r).await {
                    tracing::error!("{}", super::redact(&e.to_string()));
                }
            }
        }
    }
}

impl Handler {
    async fn register(&self, http: &Http) -> anyhow::Result<()> {
        let commands = super::register::commands(self.engine.catalog());
        if self.options.guilds.is_empty() {
            serenity::all::Command::set_global_commands(http, commands).await?;
            tracing::info!("registered the slash commands globally");
        } else {
            for guild in &self.options.guilds {
                GuildId::new(*guild)
                    .set_commands(http, commands.clone())
                    .await?;
                tracing::info!(guild, "registered the slash commands for a server");
            }
        }
        Ok(())
    }

    /// How to answer an interaction, and who acts in it.
    #[allow(clippy::too_many_arguments)]
    fn incoming<'a>(
        &self,
        id: InteractionId,
        token: &'a str,
        user: &User,
        member: Option<&Member>,
        locale: &str,
        guild: Option<GuildId>,
        channel: serenity::all::ChannelId,
    ) -> (Origin<'a>, Ctx) {
        (
            Origin::new(id, token),
            self.ctx_for(user, member, locale, guild, channel),
        )
    }

    /// Who acts, in which language and with which role, and in which channel.
    pub(super) fn ctx_for(
        &self,
        user: &User,
        member: Option<&Member>,
        locale: &str,
        guild: Option<GuildId>,
        channel: serenity::all::ChannelId,
    ) -> Ctx {
        let lang = Lang::from_locale(Some(locale), self.options.default_lang);
        // With servers configured, rights held in another server count for nothing here.
        let trusted = self.options.guilds.is_empty()
            || guild.is_some_and(|g| self.options.guilds.contains(&g.get()));
        let role = match member {
            None => Role::Member,
            Some(_) if !trusted => Role::Member,
            Some(m) => {
                let perms = m.permissions.unwrap_or_else(Permissions::empty);
                let has_role = self
                    .options
                    .moderator_role
                    .is_some_and(|r| m.roles.iter().any(|id| id.get() == r));
                if perms.contains(Permissions::ADMINISTRATOR) {
                    Role::Admin
                } else if has_role || perms.contains(Permissions::MANAGE_GUILD) {
                    Role::Moderator
                } else {
                    Role::Member
                }
            }
        };
        let name = member
            .and_then(|m| m.nick.clone())
            .or_else(|| user.global_name.clone())
            .unwrap_or_else(|| user.name.clone());
        Ctx {
            actor: Actor {
                id: UserId(user.id.get()),
                name,
                lang,
                role,
            },
            // Direct messages belong to no collaboration.
            channel: guild.map(|_| ChannelId(channel.get())),
            server: guild.map(|g| ServerId(g.get())),
        }
    }

    pub(super) fn refusal(&self, lang: Lang, key: &'static str) -> Refusal {
        Refusal {
            key,
            text: self.engine.catalog().plain(lang, key),
        }
    }

    // ---- slash commands ----

    async fn on_command(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        ctx: Ctx,
        c: &CommandInteraction,
    ) -> anyhow::Result<()> {
        let lang = ctx.actor.lang;
        let (spec, values) = match command_values(c) {
            Some(found) => found,
            None => {
                let r = self.refusal(lang, k::DISCORD_UNKNOWN_COMMAND);
                return self.send_refusal(http, origin, &r).await;
            }
        };
        if spec.has_form() {
            // A form that could only be refused once filled in is refused before it opens.
            if spec.place == Place::Channel && ctx.channel.is_none() {
                let r = self.refusal(lang, k::ERROR_NOT_IN_CHANNEL);
                return self.send_refusal(http, origin, &r).await;
            }
            return match self.open_form(&ctx, spec, &values) {
                Ok(modal) => {
                    self.send(http, origin, CreateInteractionResponse::Modal(modal))
                        .await
                }
                Err(f) => self.send_failure(http, origin, lang, f).await,
            };
        }
        match commands::to_request(self.engine.catalog(), lang, spec, &values, ctx.channel) {
            Ok(request) => self.run_and_reply(http, origin, ctx, request, None).await,
            Err(r) => self.send_refusal(http, origin, &r).await,
        }
    }

    // ---- buttons ----

    async fn on_component(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        ctx: Ctx,
        c: &ComponentInteraction,
    ) -> anyhow::Result<()> {
        let lang = ctx.actor.lang;
        let action = match custom_id::decode(&c.data.custom_id) {
            Ok(Target::Action(a)) => a,
            Ok(Target::StoredSearch(hash)) => {
                let query = self
                    .engine
                    .kept_search(&hash)
                    .ok()
                    .flatten()
                    .and_then(|q| custom_id::decode_query(&q));
                match query {
                    Some(q) => Action::SearchPage(Box::new(q)),
                    None => {
                        let r = self.refusal(lang, k::DISCORD_SEARCH_EXPIRED);
                        return self.send_refusal(http, origin, &r).await;
                    }
                }
            }
            Ok(Target::Form(_)) | Err(DecodeError::Unknown) => {
                tracing::warn!(custom_id = %clip(&c.data.custom_id, super::limits::CUSTOM_ID), "unknown button");
                let r = self.refusal(lang, k::DISCORD_UNKNOWN_BUTTON);
                return self.send_refusal(http, origin, &r).await;
            }
            Err(DecodeError::Outdated) => {
                let r = self.refusal(lang, k::DISCORD_OUTDATED_BUTTON);
                return self.send_refusal(http, origin, &r).await;
            }
        };
        let modal = match &action {
            Action::Answer(round) => Some(self.answer_modal(&ctx, Some(*round), false)),
            Action::Reject(id) => Some(
                self.engine
                    .check_moderator(&ctx)
                    .map(|()| self.reject_modal(lang, *id)),
            ),
            Action::Applied(id) => Some(Ok(self.applied_modal(lang, *id))),
            Action::EditLesson(id) => {
                Some(self.edit_modal(&ctx, *id, false, LessonChanges::default()))
            }
            Action::ReviewEdit(id) => {
                Some(self.edit_modal(&ctx, *id, true, LessonChanges::default()))
            }
            Action::AnswerQuestion(id) => Some(self.question_answer_modal(&ctx, *id, None)),
            Action::ShareFromMeeting(id) => Some(Ok(self.meeting_share_modal(lang, *id))),
            _ => None,
        };
        if let Some(modal) = modal {
            return match modal {
                Ok(m) => {
                    self.send(http, origin, CreateInteractionResponse::Modal(m))
                        .await
                }
                Err(f) => self.send_failure(http, origin, lang, f).await,
            };
        }
        let request = match action {
            Action::RevealRound(round) => Request::RoundReveal { round: Some(round) },
            Action::CloseRound(round) => Request::RoundClose { round: Some(round) },
            Action::ShowLesson(id) => Request::LessonShow { id },
            Action::Place(much_yield, many_lessons) => Request::Place {
                much_yield,
                many_lessons,
            },
            Action::Vote(round, perspective) => Request::Vote {
                perspective,
                round: Some(round),
            },
            Action::Approve(id) => Request::ReviewApprove { id },
            Action::Feature(id) => Request::ReviewFeature { id },
            Action::PublishDigest(id) => Request::DigestPublish { id },
            Action::ConfirmDelete => Request::MyDataDelete { confirm: true },
            Action::SearchPage(q) => Request::LessonSearch(*q),
            Action::ReviewPage(page) => Request::ReviewQueue { page },
            Action::AuditPage(page) => Request::AuditLog { page },
            Action::TakeLesson(id) => Request::DigestTake { id },
            Action::ShowQuestion(id) => Request::QuestionShow { id },
            Action::Helpful(id, answer) => Request::QuestionHelpful { id, answer },
            Action::Consent(id, consent) => Request::QuestionConsent { id, consent },
            Action::JoinMeeting(id) => Request::MeetingJoin { id },
            Action::ShowAgenda(id) => Request::MeetingAgenda { id: Some(id) },
            Action::AskMeetingLessons(id) => Request::MeetingLessons { id },
            Action::Answer(_)
            | Action::Reject(_)
            | Action::EditLesson(_)
            | Action::ReviewEdit(_)
            | Action::Applied(_)
            | Action::AnswerQuestion(_)
            | Action::ShareFromMeeting(_) => return Ok(()),
        };
        self.run_and_reply(http, origin, ctx, request, None).await
    }

    // ---- submitted forms ----

    async fn on_modal(
        &self,
        http: &Http,
        origin: &Origin<'_>,
        ctx: Ctx,
        m: &ModalInteraction,
    ) -> anyhow::Result<()> {
        let lang = ctx.actor.lang;
        let form = match custom_id::decode(&m.data.custom_id) {
            Ok(Target::Form(f)) => f,
            Err(DecodeError::Outdated) => {
                let r = self.refusal(lang, k::DISCORD_OUTDATED_BUTTON);
                return self.send_refusal(http, origin, &r).await;
            }
            _ => {
                let r = self.refusal(lang, k::DISCORD_UNKNOWN_BUTTON);
                return self.send_refusal(http, origin, &r).await;
            }
        };
        let fields = modal_fields(m);
        // If the form is refused, the user gets back what they typed.
        let typed = super::forms::form_fields()
            .iter()
            .filter_map(|name| fields.text(name))
            .filter(|v| !v.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
        match self.form_request(&ctx, form, &fields) {
            Ok(request) => {
                self.run_and_reply(http, origin, ctx, request, Some(typed))
                    .await
            }
            Err(f) => {
                let text = self.failure_text(lang, f);
                let r = Refusal {
                    key: k::DISCORD_YOUR_TEXT,
                    text: self.with_echo(lang, text, Some(&typed)),
                };
                self.send_refusal(http, origin, &r).await
            }
        }
    }
}

/// The command table entry and option values of a slash command, by its English base names
/// (Discord always sends those, whatever the user's language).
fn command_values(c: &CommandInteraction) -> Option<(&'static Spec, Values)> {
    // Down through a subcommand group and a subcommand, to the options of the leaf.
    let mut words = vec![c.data.name.as_str()];
    let mut leaf = c.data.options();
    loop {
        let next = match leaf.first() {
            Some(o) => match &o.value {
                ResolvedValue::SubCommandGroup(inner) | ResolvedValue::SubCommand(inner) => {
                    Some((o.name, inner.clone()))
                }
                _ => None,
            },
            None => None,
        };
        match next {
            Some((name, inner)) if words.len() < 3 => {
                words.push(name);
                leaf = inner;
            }
            _ => break,
        }
    }
    let spec = SPECS.iter().find(|s| {
        s.path.len() == words.len() && s.path.iter().zip(&words).all(|((en, _), w)| en == w)
    })?;
    let mut values = Values::new();
    for o in leaf {
        let Some(opt) = spec.options.iter().find(|x| x.name == o.name) else {
            continue;
        };
        // As Discord sends them: numbers, yes or no and channels stay typed.
        let value = match o.value {
            ResolvedValue::String(s) => Value::Text(s.to_owned()),
            ResolvedValue::Integer(i) => Value::Number(i),
            ResolvedValue::Boolean(b) => Value::Yes(b),
            ResolvedValue::Channel(ch) => Value::Channel(ChannelId(ch.id.get())),
            ResolvedValue::Unresolved(serenity::all::Unresolved::Channel(id)) => {
                Value::Channel(ChannelId(id.get()))
            }
            _ => continue,
        };
        values.insert(opt.name, value);
    }
    Some((spec, values))
}
