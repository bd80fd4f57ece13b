//! An in-process fake Discord (REST over http, gateway over ws) that the real serenity client is
//! pointed at in tests. It plays the user's side (slash commands, clicks, modal submits), records
//! what the bot sends, and checks every request against Discord's spec and rules, so a test can
//! assert both what the user saw and that real Discord would have accepted it.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::spec;

pub const APP_ID: u64 = 900_000_000_000_000_001;
pub const BOT_ID: u64 = 900_000_000_000_000_002;
pub const GUILD_ID: u64 = 900_000_000_000_000_010;
pub const CHANNEL_ID: u64 = 900_000_000_000_000_020;
/// A voice channel of the first guild, for scheduled events.
pub const VOICE_ID: u64 = 900_000_000_000_000_021;
/// A second guild the bot is in, with one text channel: another server of the academy.
pub const GUILD_B_ID: u64 = 900_000_000_000_000_030;
pub const CHANNEL_B_ID: u64 = 900_000_000_000_000_040;
/// A forum channel of the first guild.
pub const FORUM_ID: u64 = 900_000_000_000_000_022;

/// The guild a channel of the fake belongs to.
pub fn guild_of(channel: u64) -> u64 {
    if channel == CHANNEL_B_ID {
        GUILD_B_ID
    } else {
        GUILD_ID
    }
}
pub const MANAGE_GUILD: u64 = 1 << 5;
pub const ADMINISTRATOR: u64 = 1 << 3;

pub const ADD_REACTIONS: u64 = 1 << 6;
pub const VIEW_CHANNEL: u64 = 1 << 10;
pub const SEND_MESSAGES: u64 = 1 << 11;
pub const MANAGE_MESSAGES: u64 = 1 << 13;
pub const EMBED_LINKS: u64 = 1 << 14;
pub const ATTACH_FILES: u64 = 1 << 15;
pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
pub const USE_EXTERNAL_EMOJIS: u64 = 1 << 18;
pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
/// What an ordinary member of the fake guild may do (the @everyone role).
pub const BASIC_PERMISSIONS: u64 = VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS;
/// The bot's own permissions in the channel (`app_permissions`).
pub const BOT_PERMISSIONS: u64 = BASIC_PERMISSIONS | MANAGE_MESSAGES;

pub const EPHEMERAL: u64 = 1 << 6;
/// Message flag of the "is thinking…" placeholder after a deferral.
pub const LOADING: u64 = 1 << 7;
pub const BOT_NAME: &str = "Academie";
/// Discord answers 10062 Unknown interaction when the first callback is later than this.
pub const CALLBACK_DEADLINE: Duration = Duration::from_secs(3);
/// How long follow-up traffic must be silent before `response` considers it complete.
pub const QUIET: Duration = Duration::from_millis(150);
const DEFAULT_TIMESTAMP: &str = "2024-09-01T09:00:00.000000+00:00";

#[derive(Clone, Debug)]
pub struct FakeUser {
    pub id: u64,
    pub name: String,
    pub locale: String,
    pub roles: Vec<u64>,
    pub permissions: u64,
}

impl FakeUser {
    pub fn member(id: u64, name: &str) -> Self {
        FakeUser {
            id,
            name: name.to_string(),
            locale: "nl".to_string(),
            roles: Vec::new(),
            permissions: BASIC_PERMISSIONS,
        }
    }

    pub fn moderator(id: u64, name: &str) -> Self {
        let mut u = Self::member(id, name);
        u.permissions |= MANAGE_GUILD;
        u
    }

    pub fn admin(id: u64, name: &str) -> Self {
        let mut u = Self::member(id, name);
        u.permissions |= ADMINISTRATOR | MANAGE_GUILD;
        u
    }

    pub fn locale(mut self, locale: &str) -> Self {
        self.locale = locale.to_string();
        self
    }

    pub fn with_role(mut self, role: u64) -> Self {
        self.roles.push(role);
        self
    }
}

/// One HTTP request the bot made.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path without query, e.g. "/api/v10/channels/1/messages".
    pub path: String,
    /// JSON body, or for multipart the parsed `payload_json`.
    pub body: Option<Value>,
    /// Multipart file parts: (filename, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// When the request reached the fake, before its body was read: benchmarks measure up to here.
    pub at: Instant,
}

/// A handle to an interaction the fake sent.
#[derive(Clone, Debug)]
pub struct Sent {
    pub id: u64,
    pub token: String,
    /// The full INTERACTION_CREATE `d`.
    pub payload: Value,
}

/// Everything the bot sent in response to one interaction.
#[derive(Clone, Debug)]
pub struct Response {
    pub callback_type: u64,
    /// The callback body's `data` (or Null).
    pub callback: Value,
    /// POST /webhooks/{app}/{token} and PATCH …/messages/{@original|id}, in arrival order.
    pub followups: Vec<Recorded>,
}

impl Response {
    fn bodies(&self) -> impl Iterator<Item = &Value> {
        std::iter::once(&self.callback).chain(self.followups.iter().filter_map(|r| r.body.as_ref()))
    }

    /// All user-visible text of callback and follow-ups, one piece per line.
    pub fn text(&self) -> String {
        let mut out = Vec::new();
        for b in self.bodies() {
            visible_text(b, &mut out);
        }
        out.join("\n")
    }

    pub fn is_ephemeral(&self) -> bool {
        self.callback
            .get("flags")
            .and_then(Value::as_u64)
            .is_some_and(|f| f & EPHEMERAL != 0)
    }

    /// Every custom_id in callback and follow-ups, the modal's own included.
    pub fn custom_ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        for b in self.bodies() {
            collect_custom_ids(b, &mut out);
        }
        out
    }

    /// custom_id of the first button whose label contains the text (ignoring case, so that
    /// "antwoord" finds "Beantwoorden").
    pub fn button(&self, label_contains: &str) -> Option<String> {
        let wanted = label_contains.to_lowercase();
        self.bodies().find_map(|b| {
            let mut all = Vec::new();
            flatten_components(b.get("components").unwrap_or(&Value::Null), &mut all);
            all.into_iter().find_map(|c| {
                let label = c.get("label").and_then(Value::as_str)?;
                (c["type"] == 2 && label.to_lowercase().contains(&wanted))
                    .then(|| c.get("custom_id")?.as_str().map(str::to_string))
                    .flatten()
            })
        })
    }
}

fn flatten_components<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    if let Some(list) = v.as_array() {
        for c in list {
            out.push(c);
            if let Some(children) = c.get("components") {
                flatten_components(children, out);
            }
            for key in ["component", "accessory"] {
                if let Some(child) = c.get(key) {
                    out.push(child);
                    if let Some(children) = child.get("components") {
                        flatten_components(children, out);
                    }
                }
            }
        }
    }
}

fn visible_text(body: &Value, out: &mut Vec<String>) {
    let mut push = |v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str) {
            if !s.is_empty() {
                out.push(s.to_string());
            }
        }
    };
    push(body.get("title"));
    push(body.get("content"));
    if let Some(embeds) = body.get("embeds").and_then(Value::as_array) {
        for e in embeds {
            push(e.pointer("/author/name"));
            push(e.get("title"));
            push(e.get("description"));
            if let Some(fields) = e.get("fields").and_then(Value::as_array) {
                for f in fields {
                    push(f.get("name"));
                    push(f.get("value"));
                }
            }
            push(e.pointer("/footer/text"));
        }
    }
    let mut all = Vec::new();
    flatten_components(body.get("components").unwrap_or(&Value::Null), &mut all);
    for c in all {
        push(c.get("label"));
        push(c.get("placeholder"));
        push(c.get("value"));
        if c["type"] == 10 {
            push(c.get("content"));
        }
        if let Some(options) = c.get("options").and_then(Value::as_array) {
            for o in options {
                push(o.get("label"));
                push(o.get("description"));
            }
        }
    }
}

fn collect_custom_ids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            // A container's own id first (the modal before its inputs), then its children.
            if let Some(id) = map.get("custom_id").and_then(Value::as_str) {
                out.push(id.to_string());
            }
            for (k, v) in map {
                if k != "custom_id" {
                    collect_custom_ids(v, out);
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| collect_custom_ids(v, out)),
        _ => {}
    }
}

fn contains_custom_id<'a>(components: &'a Value, custom_id: &str) -> Option<&'a Value> {
    let mut all = Vec::new();
    flatten_components(components, &mut all);
    all.into_iter()
        .find(|c| c.get("custom_id").and_then(Value::as_str) == Some(custom_id))
}

enum GwCmd {
    Text(String),
    Drop,
}

struct GatewayConn {
    id: u64,
    tx: mpsc::UnboundedSender<GwCmd>,
    /// Identified or resumed: dispatches may flow.
    live: bool,
}

struct Interaction {
    sent: Sent,
    /// 2 command, 3 component, 5 modal submit.
    kind: u64,
    channel_id: u64,
    /// The message a component sits on (or a modal was opened from).
    source_message: Option<Value>,
    /// When the user acted (the first `dispatch`): Discord's three seconds run from here, even
    /// when the event waits for the bot to resume.
    created: Option<Instant>,
    /// When the event was first written to a connection (live or replayed on resume).
    first_dispatch: Option<Instant>,
    /// How often the event was written to a connection, replays and duplicates included.
    deliveries: u32,
    /// Never reached the bot: its session ended before the event could be delivered.
    lost: bool,
    /// The accepted callback was answered with an injected 500, so a second one is expected.
    ack_hidden: bool,
    /// Callbacks that took effect (at most one, or the fake recorded a violation).
    took_effect: u32,
    callbacks: Vec<Recorded>,
    /// The status the fake answered to each callback, in order (injected faults included).
    callback_statuses: Vec<u16>,
    accepted: Option<(u64, Value)>,
    traffic: Vec<Recorded>,
    last_activity: Option<Instant>,
    original: Option<Value>,
}

#[derive(Default)]
struct CommandScope {
    /// name → the echoed command object.
    commands: HashMap<String, Value>,
}

/// Everything the fake knows, behind one lock, so that recording, validating and answering a
/// request is atomic with respect to what a test reads.
struct World {
    requests: Vec<Recorded>,
    violations: Vec<String>,
    identify_token: Option<String>,
    identify_intents: Option<u64>,
    ready_count: u64,
    resume_count: u64,
    seq: u64,
    session_id: Option<String>,
    conn: Option<GatewayConn>,
    interactions: HashMap<u64, Interaction>,
    tokens: HashMap<String, u64>,
    users: HashMap<u64, FakeUser>,
    /// DM channel → recipient.
    dm_channels: HashMap<u64, u64>,
    known_channels: HashSet<u64>,
    /// Latest version of every message the bot created, oldest first.
    messages: Vec<Value>,
    /// Message id → interaction token, for webhook messages.
    message_tokens: HashMap<u64, String>,
    command_puts: Vec<(String, Value)>,
    /// None = global, Some(guild) = guild commands.
    scopes: HashMap<Option<u64>, CommandScope>,
    command_ids: HashMap<String, u64>,
    /// Command name → roles a server administrator allowed to use it (Server Settings →
    /// Integrations), whatever its default_member_permissions.
    allowed_roles: HashMap<String, Vec<u64>>,
    /// Modal custom_id → (modal data, message it was opened from).
    modals: HashMap<String, (Value, Option<Value>)>,
    callback_deadline: Duration,
    conn_tasks: Vec<tokio::task::AbortHandle>,
    /// Dispatches of the current session in sequence order, for replay on RESUME.
    backlog: Vec<Pending>,
    /// How many already-seen events the next RESUME replays before the missed ones.
    resume_overlap: usize,
    faults: Vec<FaultRule>,
    /// Every injected failure: (fault, method, path).
    injected: Vec<(Fault, String, String)>,
    /// (method, path) → until when a 429 told the bot to wait.
    limited_until: HashMap<(String, String), Instant>,
    gateway: GatewayStats,
    /// Discord no longer accepts the bot's token: every request gets 401, and the gateway
    /// closes an Identify with 4004.
    token_revoked: bool,
    /// Only the gateway refuses the token (REST still answers), as Discord may answer
    /// `GET /gateway` without looking at it.
    identify_refused: bool,
    /// Scheduled events the bot created, as Discord answered them.
    scheduled_events: Vec<Value>,
}

/// A dispatch kept for the session's replay buffer.
struct Pending {
    seq: u64,
    text: String,
    interaction: Option<u64>,
}

/// A failure the fake answers instead of handling a request; the request is still recorded and
/// validated, and has no effect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// 500 with Discord's JSON error body.
    ServerError,
    /// The request takes effect, then the answer is a 500 anyway, as when Discord's edge loses
    /// the response: the bot cannot know. A callback tried again after it gets 40060 "already
    /// acknowledged", which is then not counted as a violation.
    ServerErrorAfterEffect,
    /// 429 as Discord sends a per-route limit: `retry_after` (seconds) in the body,
    /// `Retry-After` and `X-RateLimit-*` headers, `global: false`. A request to the same route
    /// before `retry_after` has passed is a violation.
    RateLimited { retry_after: f64 },
}

struct FaultRule {
    method: String,
    /// Path segments; `*` matches any one segment.
    pattern: Vec<String>,
    remaining: usize,
    fault: Fault,
}

/// What the gateway did over a test.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatewayStats {
    pub ready: u64,
    pub resumed: u64,
    pub invalid_resumable: u64,
    pub invalid_fresh: u64,
    pub dropped: u64,
    /// Events written again on RESUME because the bot had not seen them.
    pub replayed: u64,
    /// Events written again on RESUME although the bot had seen them.
    pub replayed_seen: u64,
    /// Interactions whose event no session delivered.
    pub lost: u64,
}

struct Inner {
    state: Mutex<World>,
    next_id: AtomicU64,
    gateway_url: String,
}

pub struct FakeDiscord {
    inner: Arc<Inner>,
    rest_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeDiscord {
    // Connections live in their own tasks; without this a dropped fake would keep the bot's
    // gateway open until the test runtime ends.
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for c in self.inner.state().conn_tasks.drain(..) {
            c.abort();
        }
    }
}

type Reply = (StatusCode, Option<Value>);

fn ok(v: Value) -> Reply {
    (StatusCode::OK, Some(v))
}

fn discord_error(status: StatusCode, code: u64, message: &str) -> Reply {
    (status, Some(json!({"message": message, "code": code})))
}

fn now_timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

fn user_json(u: &FakeUser) -> Value {
    json!({
        "id": u.id.to_string(),
        "username": u.name,
        "global_name": u.name,
        "discriminator": "0",
        "avatar": null,
        "public_flags": 0,
        "primary_guild": null,
    })
}

pub fn bot_user_json() -> Value {
    json!({
        "id": BOT_ID.to_string(),
        "username": BOT_NAME.to_lowercase(),
        "global_name": BOT_NAME,
        "discriminator": "0",
        "avatar": null,
        "bot": true,
        "public_flags": 0,
        "flags": 0,
        "verified": true,
        "mfa_enabled": false,
        "primary_guild": null,
    })
}

fn member_json(u: &FakeUser) -> Value {
    json!({
        "user": user_json(u),
        "nick": null,
        "avatar": null,
        "roles": u.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": DEFAULT_TIMESTAMP,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "permissions": u.permissions.to_string(),
        "communication_disabled_until": null,
    })
}

fn guild_channel_json(id: u64) -> Value {
    let name = if id == CHANNEL_ID || id == CHANNEL_B_ID {
        "algemeen".to_string()
    } else if id == VOICE_ID {
        "overleg".to_string()
    } else if id == FORUM_ID {
        "vragen-aan-de-academie".to_string()
    } else {
        format!("kanaal-{}", id % 10_000)
    };
    let kind = match id {
        VOICE_ID => 2,
        FORUM_ID => 15,
        _ => 0,
    };
    json!({
        "id": id.to_string(),
        "type": kind,
        "guild_id": guild_of(id).to_string(),
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "parent_id": null,
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "flags": 0,
    })
}

/// A gateway frame as Discord sends it.
pub fn frame(op: u64, t: Option<&str>, s: Option<u64>, d: Value) -> String {
    json!({"op": op, "t": t, "s": s, "d": d}).to_string()
}

fn application_json() -> Value {
    json!({
        "id": APP_ID.to_string(),
        "name": BOT_NAME,
        "icon": null,
        "description": "Fake application for tests",
        "summary": "",
        "type": null,
        "rpc_origins": [],
        "bot_public": false,
        "bot_require_code_grant": false,
        "terms_of_service_url": null,
        "privacy_policy_url": null,
        "owner": {
            "id": "900000000000000003",
            "username": "eigenaar",
            "global_name": "Eigenaar",
            "discriminator": "0",
            "avatar": null,
            "public_flags": 0,
        },
        "verify_key": "0".repeat(64),
        "team": null,
        "guild_id": null,
        "flags": 0,
        "tags": [],
        "bot": bot_user_json(),
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "integration_types_config": {"0": {}},
        "approximate_guild_count": 1,
    })
}

fn infer_option_type(v: &Value) -> u64 {
    match v {
        Value::String(_) => 3,
        Value::Bool(_) => 5,
        Value::Number(n) if n.is_i64() || n.is_u64() => 4,
        Value::Number(_) => 10,
        other => panic!(
            "option value {other} has no Discord option type (use string, integer, bool or float)"
        ),
    }
}

/// Applies an edit (PATCH body or UPDATE_MESSAGE data) to a stored message the way Discord does.
fn merge_message(mut msg: Value, body: &Value, new_attachments: Vec<Value>, edited: bool) -> Value {
    for key in ["content", "embeds", "components"] {
        if let Some(v) = body.get(key) {
            msg[key] = match (key, v) {
                ("content", Value::Null) => json!(""),
                (_, Value::Null) => json!([]),
                ("embeds", v) => echo_embeds(v),
                ("components", v) => echo_components(Some(v)),
                _ => v.clone(),
            };
        }
    }
    if let Some(keep) = body.get("attachments").and_then(Value::as_array) {
        let keep_ids: HashSet<String> = keep
            .iter()
            .filter(|a| a.get("filename").is_none())
            .filter_map(|a| match &a["id"] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect();
        let kept: Vec<Value> = msg["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["id"].as_str().is_some_and(|id| keep_ids.contains(id)))
            .cloned()
            .collect();
        msg["attachments"] = Value::Array(kept.into_iter().chain(new_attachments).collect());
    } else if !new_attachments.is_empty() {
        if let Some(list) = msg["attachments"].as_array_mut() {
            list.extend(new_attachments);
        }
    }
    let flags = msg["flags"].as_u64().unwrap_or(0) & !LOADING;
    msg["flags"] = json!(flags);
    if edited {
        msg["edited_timestamp"] = json!(now_timestamp());
    }
    msg
}

/// Discord gives every component in a stored message a numeric `id` (unique within the message)
/// when the bot did not set one.
fn number_components(components: &mut Value) {
    fn used(v: &Value, ids: &mut HashSet<u64>) {
        if let Some(id) = v.get("id").and_then(Value::as_u64) {
            ids.insert(id);
        }
        for key in ["components", "component", "accessory"] {
            match v.get(key) {
                Some(Value::Array(list)) => list.iter().for_each(|c| used(c, ids)),
                Some(child @ Value::Object(_)) => used(child, ids),
                _ => {}
            }
        }
    }
    fn assign(v: &mut Value, next: &mut u64, ids: &HashSet<u64>) {
        if let Some(obj) = v.as_object_mut() {
            if obj.get("id").is_none_or(Value::is_null) {
                while ids.contains(next) {
                    *next += 1;
                }
                obj.insert("id".to_string(), json!(*next));
                *next += 1;
            }
            for key in ["components", "component", "accessory"] {
                match obj.get_mut(key) {
                    Some(Value::Array(list)) => list.iter_mut().for_each(|c| assign(c, next, ids)),
                    Some(child @ Value::Object(_)) => assign(child, next, ids),
                    _ => {}
                }
            }
        }
    }
    let mut ids = HashSet::new();
    if let Some(list) = components.as_array() {
        list.iter().for_each(|c| used(c, &mut ids));
    }
    let mut next = 1;
    if let Some(list) = components.as_array_mut() {
        list.iter_mut().for_each(|c| assign(c, &mut next, &ids));
    }
}

fn echo_components(v: Option<&Value>) -> Value {
    let mut c = v.filter(|c| !c.is_null()).cloned().unwrap_or(json!([]));
    number_components(&mut c);
    c
}

fn echo_embeds(v: &Value) -> Value {
    match v.as_array() {
        Some(list) => Value::Array(
            list.iter()
                .map(|e| {
                    let mut e = e.clone();
                    if e.get("type").is_none() {
                        e["type"] = json!("rich");
                    }
                    e
                })
                .collect(),
        ),
        None => json!([]),
    }
}

fn id_of(msg: &Value) -> u64 {
    msg["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

impl FakeDiscord {
    /// Binds REST (axum) and gateway (tokio-tungstenite) on 127.0.0.1 with random ports.
    pub async fn start() -> FakeDiscord {
        let rest = TcpListener::bind("127.0.0.1:0").await.expect("bind REST");
        let gw = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let rest_addr = rest.local_addr().unwrap();
        let gw_addr = gw.local_addr().unwrap();
        let inner = Arc::new(Inner {
            state: Mutex::new(World {
                requests: Vec::new(),
                violations: Vec::new(),
                identify_token: None,
                identify_intents: None,
                ready_count: 0,
                resume_count: 0,
                seq: 0,
                session_id: None,
                conn: None,
                interactions: HashMap::new(),
                tokens: HashMap::new(),
                users: HashMap::new(),
                dm_channels: HashMap::new(),
                known_channels: HashSet::from([CHANNEL_ID, CHANNEL_B_ID, VOICE_ID, FORUM_ID]),
                scheduled_events: Vec::new(),
                messages: Vec::new(),
                message_tokens: HashMap::new(),
                command_puts: Vec::new(),
                scopes: HashMap::new(),
                command_ids: HashMap::new(),
                allowed_roles: HashMap::new(),
                modals: HashMap::new(),
                callback_deadline: CALLBACK_DEADLINE,
                conn_tasks: Vec::new(),
                backlog: Vec::new(),
                resume_overlap: 0,
                faults: Vec::new(),
                injected: Vec::new(),
                limited_until: HashMap::new(),
                gateway: GatewayStats::default(),
                token_revoked: false,
                identify_refused: false,
            }),
            next_id: AtomicU64::new(1_100_000_000_000_000_000),
            gateway_url: format!("ws://{gw_addr}"),
        });

        let app = Router::new()
            .fallback(rest_handler)
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(inner.clone());
        // Without TCP_NODELAY, Nagle's algorithm holds a small write back until the previous one
        // is acknowledged, and the peer delays that acknowledgement up to 40 ms: frames and
        // responses sent close together would wait for it, which no real gateway does.
        let rest_task = tokio::spawn(async move {
            let _ = axum::serve(rest, app).tcp_nodelay(true).await;
        });
        let gw_inner = inner.clone();
        let gw_task = tokio::spawn(async move {
            while let Ok((stream, _)) = gw.accept().await {
                let _ = stream.set_nodelay(true);
                let conn = tokio::spawn(gateway_conn(gw_inner.clone(), stream));
                let mut st = gw_inner.state();
                st.conn_tasks.retain(|c| !c.is_finished());
                st.conn_tasks.push(conn.abort_handle());
            }
        });
        FakeDiscord {
            inner,
            rest_addr,
            tasks: vec![rest_task, gw_task],
        }
    }

    /// What the bot passes to serenity's `HttpBuilder::proxy`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.rest_addr)
    }

    /// What GET /gateway answers.
    pub fn gateway_url(&self) -> String {
        self.inner.gateway_url.clone()
    }

    fn state(&self) -> MutexGuard<'_, World> {
        self.inner.state()
    }

    /// Waits until the current gateway connection is identified (READY sent) or resumed.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.state().conn.as_ref().is_some_and(|c| c.live) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the bot did not identify within {timeout:?}{}; requests so far:\n{}",
                    proxy_hint(),
                    self.describe_requests(20)
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The token the bot sent in Identify (e.g. "Bot abc").
    pub fn identify_token(&self) -> Option<String> {
        self.state().identify_token.clone()
    }

    pub fn identify_intents(&self) -> Option<u64> {
        self.state().identify_intents
    }

    /// How many READY (new session) and RESUMED dispatches the fake sent.
    pub fn session_counts(&self) -> (u64, u64) {
        let st = self.state();
        (st.ready_count, st.resume_count)
    }

    /// Waits for the first PUT of a command list and returns (path, body array).
    pub async fn wait_commands(&self, timeout: Duration) -> Result<(String, Value), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(first) = self.state().command_puts.first() {
                return Ok(first.clone());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no command registration (PUT …/commands) within {timeout:?}; requests so far:\n{}",
                    self.describe_requests(20)
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every command registration PUT so far, (path, body), in order.
    pub fn registered_commands(&self) -> Vec<(String, Value)> {
        self.state().command_puts.clone()
    }

    /// Changes the 3-second limit for the first callback (for tests of deliberately slow paths).
    pub fn set_callback_deadline(&self, deadline: Duration) {
        self.state().callback_deadline = deadline;
    }

    fn violation(&self, msg: String) {
        self.inner.violation(msg);
    }

    fn new_interaction(
        &self,
        user: &FakeUser,
        channel: Option<u64>,
        kind: u64,
        data: Value,
        source_message: Option<Value>,
    ) -> Sent {
        let id = self.inner.fresh_id();
        let token = format!("fake-token-{id}");
        let mut st = self.state();
        st.users.insert(user.id, user.clone());
        let mut d = json!({
            "id": id.to_string(),
            "application_id": APP_ID.to_string(),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "locale": user.locale,
            "entitlements": [],
            "app_permissions": BOT_PERMISSIONS.to_string(),
            "attachment_size_limit": 26_214_400,
        });
        let channel_id = match channel {
            Some(ch) => {
                st.known_channels.insert(ch);
                let mut c = guild_channel_json(ch);
                c["permissions"] = json!(user.permissions.to_string());
                d["guild_id"] = json!(guild_of(ch).to_string());
                d["guild_locale"] = json!("nl");
                d["channel_id"] = json!(ch.to_string());
                d["channel"] = c;
                d["member"] = member_json(user);
                d["authorizing_integration_owners"] = json!({"0": guild_of(ch).to_string()});
                d["context"] = json!(0);
                ch
            }
            None => {
                let ch = self.inner.dm_channel(&mut st, user.id);
                d["channel_id"] = json!(ch.to_string());
                d["channel"] = json!({
                    "id": ch.to_string(),
                    "type": 1,
                    "last_message_id": null,
                    "flags": 0,
                    "recipients": [user_json(user)],
                });
                d["user"] = user_json(user);
                d["authorizing_integration_owners"] = json!({"0": "0"});
                d["context"] = json!(1);
                ch
            }
        };
        if let Some(m) = &source_message {
            d["message"] = m.clone();
        }
        let sent = Sent {
            id,
            token: token.clone(),
            payload: d,
        };
        st.tokens.insert(token, id);
        st.interactions.insert(
            id,
            Interaction {
                sent: sent.clone(),
                kind,
                channel_id,
                source_message,
                created: None,
                first_dispatch: None,
                deliveries: 0,
                lost: false,
                ack_hidden: false,
                took_effect: 0,
                callbacks: Vec::new(),
                callback_statuses: Vec::new(),
                accepted: None,
                traffic: Vec::new(),
                last_activity: None,
                original: None,
            },
        );
        sent
    }

    /// Finds the registered definition of a command as the user would see it, recording a
    /// violation when Discord would not offer it to this user here.
    fn registered_command(
        &self,
        user: &FakeUser,
        channel: Option<u64>,
        name: &str,
    ) -> Option<(Option<u64>, Value)> {
        let st = self.state();
        if st.scopes.is_empty() {
            return None;
        }
        let guild = st
            .scopes
            .get(&Some(GUILD_ID))
            .and_then(|s| s.commands.get(name))
            .filter(|_| channel.is_some())
            .map(|c| (Some(GUILD_ID), c.clone()));
        let found = guild.or_else(|| {
            st.scopes
                .get(&None)
                .and_then(|s| s.commands.get(name))
                .map(|c| (None, c.clone()))
        });
        // An administrator's allowance for one of the user's roles (the server's id is the
        // @everyone role) beats the command's default permissions, as in Discord.
        let allowed_by_admin = st.allowed_roles.get(name).is_some_and(|roles| {
            roles
                .iter()
                .any(|r| *r == GUILD_ID || user.roles.contains(r))
        });
        drop(st);
        let Some((scope, cmd)) = found else {
            let place = if channel.is_some() {
                "the guild"
            } else {
                "DMs"
            };
            self.violation(format!(
                "slash /{name}: no such command is registered for {place}, so Discord would not offer it"
            ));
            return None;
        };
        if channel.is_none() {
            let contexts_forbid = cmd["contexts"]
                .as_array()
                .is_some_and(|c| !c.contains(&json!(1)));
            if contexts_forbid || cmd["dm_permission"] == json!(false) {
                self.violation(format!(
                    "slash /{name} in a DM, but the command is not available in bot DMs (contexts/dm_permission)"
                ));
            }
        } else if let Some(required) = cmd["default_member_permissions"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
        {
            let admin = user.permissions & ADMINISTRATOR != 0;
            let permitted = user.permissions & required == required && required != 0;
            if !admin && !permitted && !allowed_by_admin {
                self.violation(format!(
                    "slash /{name} by {} (permissions {}), who lacks default_member_permissions {required}: Discord hides the command",
                    user.name, user.permissions
                ));
            }
        }
        Some((scope, cmd))
    }

    /// Builds an INTERACTION_CREATE `d` for a slash command; `command` is the English base path
    /// as Discord sends it ("round start").
    pub fn command_payload(
        &self,
        user: &FakeUser,
        channel: Option<u64>,
        command: &str,
        options: &[(&str, Value)],
    ) -> Sent {
        let words: Vec<&str> = command.split_whitespace().collect();
        assert!(
            (1..=3).contains(&words.len()),
            "command path {command:?} must have 1 to 3 words"
        );
        let registered = self.registered_command(user, channel, words[0]);
        let mut def = registered.as_ref().map(|(_, c)| c.clone());
        for w in &words[1..] {
            def = def.and_then(|d| {
                let found = d["options"]
                    .as_array()
                    .and_then(|os| os.iter().find(|o| o["name"] == *w).cloned());
                if found.is_none() {
                    self.violation(format!(
                        "slash /{command}: {w:?} is not a registered subcommand"
                    ));
                }
                found
            });
        }
        if let Some(d) = &def {
            let has_sub = d["options"]
                .as_array()
                .is_some_and(|os| os.iter().any(|o| o["type"] == 1 || o["type"] == 2));
            if has_sub {
                self.violation(format!(
                    "slash /{command}: the command has subcommands; Discord never sends the bare parent"
                ));
            }
        }
        let leaf: Vec<Value> = options
            .iter()
            .map(|(name, value)| {
                let inferred = infer_option_type(value);
                let opt_def = def.as_ref().and_then(|d| {
                    d["options"]
                        .as_array()
                        .and_then(|os| os.iter().find(|o| o["name"] == *name).cloned())
                });
                let kind = match &opt_def {
                    Some(o) => {
                        self.check_option_value(command, name, o, value);
                        o["type"].as_u64().unwrap_or(inferred)
                    }
                    None => {
                        if def.is_some() {
                            self.violation(format!(
                                "slash /{command}: option {name:?} is not registered"
                            ));
                        }
                        inferred
                    }
                };
                json!({"name": name, "type": kind, "value": value})
            })
            .collect();
        if let Some(d) = &def {
            for o in d["options"].as_array().into_iter().flatten() {
                let name = o["name"].as_str().unwrap_or("");
                if o["required"] == json!(true) && !options.iter().any(|(n, _)| *n == name) {
                    self.violation(format!(
                        "slash /{command}: required option {name:?} missing (Discord's client would not send this)"
                    ));
                }
            }
        }
        let mut opts = leaf;
        for (i, w) in words[1..].iter().enumerate().rev() {
            let kind = if i == words.len() - 2 { 1 } else { 2 };
            opts = vec![json!({"name": w, "type": kind, "options": opts})];
        }
        let cmd_id = registered
            .as_ref()
            .and_then(|(_, c)| c["id"].as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| self.inner.command_id(words[0]));
        let mut data = json!({
            "id": cmd_id.to_string(),
            "name": words[0],
            "type": 1,
            "options": opts,
        });
        // Discord sends the channels an option names in `resolved`.
        let channels: serde_json::Map<String, Value> = options
            .iter()
            .filter_map(|(name, value)| {
                let def = def.as_ref()?["options"].as_array()?.iter().find(|o| o["name"] == *name)?.clone();
                (def["type"] == 7).then_some(())?;
                let id = value.as_str()?.parse::<u64>().ok()?;
                let mut c = guild_channel_json(id);
                c["permissions"] = json!(user.permissions.to_string());
                if let Some(types) = def["channel_types"].as_array() {
                    if !types.contains(&c["type"]) {
                        self.violation(format!(
                            "slash /{command}: option {name:?} names channel {id} of type {}, which the option does not allow",
                            c["type"]
                        ));
                    }
                }
                Some((id.to_string(), c))
            })
            .collect();
        if !channels.is_empty() {
            data["resolved"] = json!({"channels": channels});
        }
        if let Some((Some(g), _)) = &registered {
            data["guild_id"] = json!(g.to_string());
        }
        self.new_interaction(user, channel, 2, data, None)
    }

    fn check_option_value(&self, command: &str, name: &str, def: &Value, value: &Value) {
        let kind = def["type"].as_u64().unwrap_or(0);
        let fits = match kind {
            3 | 6 | 7 | 8 | 9 | 11 => value.is_string(),
            4 => value.is_i64() || value.is_u64(),
            5 => value.is_boolean(),
            10 => value.is_number(),
            _ => false,
        };
        if !fits {
            self.violation(format!(
                "slash /{command}: option {name:?} has type {kind} but the test sent {value}"
            ));
            return;
        }
        if let Some(choices) = def["choices"].as_array().filter(|c| !c.is_empty()) {
            if !choices.iter().any(|c| c["value"] == *value) {
                self.violation(format!(
                    "slash /{command}: option {name:?} = {value} is not one of its choices"
                ));
            }
        }
        if let Some(s) = value.as_str().filter(|_| kind == 3) {
            let n = spec::chars(s) as u64;
            let min = def["min_length"].as_u64().unwrap_or(0);
            let max = def["max_length"].as_u64().unwrap_or(6000);
            if n < min || n > max {
                self.violation(format!(
                    "slash /{command}: option {name:?} has {n} characters, allowed {min}..={max}"
                ));
            }
        }
        if let Some(x) = value.as_f64().filter(|_| kind == 4 || kind == 10) {
            let below = def["min_value"].as_f64().is_some_and(|m| x < m);
            let above = def["max_value"].as_f64().is_some_and(|m| x > m);
            if below || above {
                self.violation(format!(
                    "slash /{command}: option {name:?} = {x} is outside min_value/max_value"
                ));
            }
        }
    }

    /// A button click on a message the bot sent earlier (or, if no such message is known, on a
    /// minimal bot message carrying that button).
    pub fn click_payload(&self, user: &FakeUser, channel: Option<u64>, custom_id: &str) -> Sent {
        let found = {
            let st = self.state();
            st.messages
                .iter()
                .rev()
                .find(|m| contains_custom_id(&m["components"], custom_id).is_some())
                .cloned()
        };
        let (message, component_type) = match found {
            Some(m) => {
                let c = contains_custom_id(&m["components"], custom_id)
                    .cloned()
                    .unwrap_or_default();
                if c["disabled"] == json!(true) {
                    self.violation(format!(
                        "click on {custom_id:?}, but that component is disabled"
                    ));
                }
                (m, c["type"].as_u64().unwrap_or(2))
            }
            None => {
                let ch = match channel {
                    Some(ch) => ch,
                    None => {
                        let mut st = self.state();
                        self.inner.dm_channel(&mut st, user.id)
                    }
                };
                let mut m = self.inner.message_object(ch, &json!({}), Vec::new(), false);
                m["components"] = json!([{"type": 1, "components": [
                    {"type": 2, "style": 1, "label": "…", "custom_id": custom_id}
                ]}]);
                (m, 2)
            }
        };
        let mut data = json!({"custom_id": custom_id, "component_type": component_type});
        if component_type != 2 {
            data["values"] = json!([]);
        }
        self.new_interaction(user, channel, 3, data, Some(message))
    }

    /// A modal submit. When the bot opened a modal with this custom_id, every text input is sent
    /// (empty when not in `fields`), as Discord's client does.
    pub fn modal_payload(
        &self,
        user: &FakeUser,
        channel: Option<u64>,
        custom_id: &str,
        fields: &[(&str, &str)],
    ) -> Sent {
        let known = self.state().modals.get(custom_id).cloned();
        let (rows, source) = match known {
            Some((modal, source)) => {
                let mut inputs = Vec::new();
                flatten_components(&modal["components"], &mut inputs);
                let inputs: Vec<Value> = inputs.into_iter().filter(|c| c["type"] == 4).cloned().collect();
                for (name, _) in fields {
                    if !inputs.iter().any(|i| i["custom_id"] == *name) {
                        self.violation(format!(
                            "modal {custom_id:?} has no text input {name:?}"
                        ));
                    }
                }
                let rows: Vec<Value> = inputs
                    .iter()
                    .map(|i| {
                        let id = i["custom_id"].as_str().unwrap_or("");
                        let value = fields
                            .iter()
                            .find(|(n, _)| *n == id)
                            .map(|(_, v)| v.to_string())
                            .unwrap_or_default();
                        let n = spec::chars(&value) as u64;
                        let required = i["required"].as_bool().unwrap_or(true);
                        let min = i["min_length"].as_u64().unwrap_or(0);
                        let max = i["max_length"].as_u64().unwrap_or(4000);
                        if (required && n == 0) || (n > 0 && n < min) || n > max {
                            self.violation(format!(
                                "modal {custom_id:?}: field {id:?} with {n} characters cannot be submitted (required {required}, {min}..={max})"
                            ));
                        }
                        json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]})
                    })
                    .collect();
                (rows, source)
            }
            None => (
                fields
                    .iter()
                    .map(|(id, value)| {
                        json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]})
                    })
                    .collect(),
                None,
            ),
        };
        let data = json!({"custom_id": custom_id, "components": rows});
        self.new_interaction(user, channel, 5, data, source)
    }

    /// Sends INTERACTION_CREATE over the gateway; twice with the same `Sent` is a replay.
    ///
    /// As Discord does: while the bot is disconnected but its session can be resumed, the event
    /// waits in the session's buffer and is replayed on RESUME; when the session was invalidated
    /// and the bot has not identified again, no session exists to deliver it and it is lost
    /// ([`FakeDiscord::lost`]). Before the bot's first READY this waits for it (up to 10 s).
    pub async fn dispatch(&self, sent: &Sent) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            {
                let mut st = self.state();
                if st.session_id.is_some() {
                    self.inner.enqueue(
                        &mut st,
                        "INTERACTION_CREATE",
                        sent.payload.clone(),
                        Some(sent.id),
                    );
                    return;
                }
                if st.ready_count > 0 {
                    st.gateway.lost += 1;
                    if let Some(i) = st.interactions.get_mut(&sent.id) {
                        i.created.get_or_insert_with(Instant::now);
                        i.lost = true;
                    }
                    return;
                }
            }
            if Instant::now() >= deadline {
                panic!("dispatch: no identified gateway connection within 10 s (did the bot start? call wait_ready first)");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// From now on Discord refuses the bot's token: every REST request is answered 401
    /// Unauthorized and an Identify is closed with 4004 (authentication failed).
    pub fn revoke_token(&self) {
        self.state().token_revoked = true;
    }

    /// From now on the gateway closes an Identify with 4004 while REST still answers.
    pub fn refuse_identify(&self) {
        self.state().identify_refused = true;
    }

    /// Sends op 9 Invalid Session to the bot. `resumable` is its `d`: with `true` the session
    /// stays and the bot may RESUME it (events meanwhile wait for it); with `false` the session
    /// ends now, events it had not delivered are lost, and the bot must IDENTIFY again.
    pub fn invalidate_session(&self, resumable: bool) {
        let mut st = self.state();
        if let Some(c) = st.conn.as_mut() {
            let _ =
                c.tx.send(GwCmd::Text(frame(9, None, None, json!(resumable))));
            c.live = false;
        }
        if resumable {
            st.gateway.invalid_resumable += 1;
        } else {
            st.gateway.invalid_fresh += 1;
            st.session_id = None;
            Inner::end_session(&mut st);
        }
    }

    /// The next RESUME also replays the last `n` events the bot had already received, as Discord
    /// may after a resume: the bot sees the same interaction twice.
    pub fn replay_seen_on_next_resume(&self, n: usize) {
        self.state().resume_overlap = n;
    }

    /// Whether the interaction's event was ever written to the bot's connection.
    pub fn delivered(&self, sent: &Sent) -> bool {
        self.state()
            .interactions
            .get(&sent.id)
            .is_some_and(|i| i.first_dispatch.is_some())
    }

    /// How often the interaction's event was written to the bot's connection.
    pub fn deliveries(&self, sent: &Sent) -> u32 {
        self.state()
            .interactions
            .get(&sent.id)
            .map_or(0, |i| i.deliveries)
    }

    /// Whether no session delivered the interaction (the user saw "This interaction failed").
    pub fn lost(&self, sent: &Sent) -> bool {
        self.state()
            .interactions
            .get(&sent.id)
            .is_some_and(|i| i.lost)
    }

    /// The status of every callback the bot made for this interaction, in order.
    pub fn callback_statuses(&self, sent: &Sent) -> Vec<u16> {
        self.state()
            .interactions
            .get(&sent.id)
            .map(|i| i.callback_statuses.clone())
            .unwrap_or_default()
    }

    /// How many callbacks for this interaction took effect (whatever the bot was answered).
    pub fn callbacks_taken(&self, sent: &Sent) -> u32 {
        self.state()
            .interactions
            .get(&sent.id)
            .map_or(0, |i| i.took_effect)
    }

    /// Counts of the gateway's sessions, invalidations, drops and replays so far.
    pub fn gateway_stats(&self) -> GatewayStats {
        let st = self.state();
        GatewayStats {
            ready: st.ready_count,
            resumed: st.resume_count,
            ..st.gateway.clone()
        }
    }

    /// Makes the next `n` requests with this method and path fail with `fault`. In `pattern`,
    /// `*` stands for one path segment: `/api/v10/interactions/*/*/callback`.
    pub fn fail_next(&self, method: &str, pattern: &str, n: usize, fault: Fault) {
        self.state().faults.push(FaultRule {
            method: method.to_string(),
            pattern: pattern.split('/').map(str::to_string).collect(),
            remaining: n,
            fault,
        });
    }

    /// Injected faults not yet used up.
    pub fn faults_pending(&self) -> usize {
        self.state().faults.iter().map(|f| f.remaining).sum()
    }

    /// Every injected failure so far: (fault, method, path).
    pub fn injected(&self) -> Vec<(Fault, String, String)> {
        self.state().injected.clone()
    }

    pub async fn slash(
        &self,
        user: &FakeUser,
        channel: Option<u64>,
        command: &str,
        options: &[(&str, Value)],
    ) -> Sent {
        let sent = self.command_payload(user, channel, command, options);
        self.dispatch(&sent).await;
        sent
    }

    pub async fn click(&self, user: &FakeUser, channel: Option<u64>, custom_id: &str) -> Sent {
        let sent = self.click_payload(user, channel, custom_id);
        self.dispatch(&sent).await;
        sent
    }

    pub async fn submit(
        &self,
        user: &FakeUser,
        channel: Option<u64>,
        custom_id: &str,
        fields: &[(&str, &str)],
    ) -> Sent {
        let sent = self.modal_payload(user, channel, custom_id, fields);
        self.dispatch(&sent).await;
        sent
    }

    /// Waits for the callback, then for follow-up traffic to go quiet for [`QUIET`] (a deferral
    /// also waits for its edit or follow-up), bounded by `timeout`.
    pub async fn response(&self, sent: &Sent, timeout: Duration) -> Result<Response, String> {
        self.response_after_quiet(sent, timeout, QUIET).await
    }

    /// [`FakeDiscord::response`] with another quiet period; zero returns as soon as the callback
    /// (and, after a deferral, its first edit or follow-up) was accepted.
    pub async fn response_after_quiet(
        &self,
        sent: &Sent,
        timeout: Duration,
        quiet_for: Duration,
    ) -> Result<Response, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let snapshot = {
                let st = self.state();
                let i = st
                    .interactions
                    .get(&sent.id)
                    .ok_or_else(|| format!("interaction {} was not built by this fake", sent.id))?;
                i.accepted
                    .clone()
                    .map(|a| (a, i.traffic.clone(), i.last_activity))
            };
            let now = Instant::now();
            match snapshot {
                None if now >= deadline => return Err(self.describe_missing(sent, timeout)),
                None => {}
                Some(((t, data), traffic, last)) => {
                    let complete = !matches!(t, 5 | 6) || !traffic.is_empty();
                    let quiet = last.is_none_or(|l| l.elapsed() >= quiet_for);
                    if (complete && quiet) || now >= deadline {
                        if t == 5 && !complete {
                            return Err(format!(
                                "interaction {}: deferred (type 5) but no edit of @original or follow-up within {timeout:?}; the user sees \"is thinking…\" forever.\n{}",
                                sent.id,
                                self.describe_violations()
                            ));
                        }
                        return Ok(Response {
                            callback_type: t,
                            callback: data,
                            followups: traffic,
                        });
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn describe_missing(&self, sent: &Sent, timeout: Duration) -> String {
        let (dispatched, callbacks) = {
            let st = self.state();
            st.interactions
                .get(&sent.id)
                .map(|i| (i.first_dispatch.is_some(), i.callbacks.len()))
                .unwrap_or_default()
        };
        let what = sent.payload["data"]["name"]
            .as_str()
            .or(sent.payload["data"]["custom_id"].as_str())
            .unwrap_or("?");
        format!(
            "no accepted callback for interaction {} ({what}) within {timeout:?}; dispatched: {dispatched}; callbacks received: {callbacks}.\n\
             If the bot never reacted, serenity may have dropped the event (undeserializable payloads are only logged at DEBUG).\n{}\nlast requests:\n{}",
            sent.id,
            self.describe_violations(),
            self.describe_requests(15)
        )
    }

    fn describe_violations(&self) -> String {
        let v = self.violations();
        if v.is_empty() {
            "violations: none".to_string()
        } else {
            format!("violations:\n  - {}", v.join("\n  - "))
        }
    }

    fn describe_requests(&self, last: usize) -> String {
        let reqs = self.requests();
        let skip = reqs.len().saturating_sub(last);
        let lines: Vec<String> = reqs[skip..]
            .iter()
            .map(|r| {
                let body = r
                    .body
                    .as_ref()
                    .map(|b| {
                        let s = b.to_string();
                        if s.chars().count() > 200 {
                            format!("{}…", s.chars().take(200).collect::<String>())
                        } else {
                            s
                        }
                    })
                    .unwrap_or_default();
                format!("  {} {} {body}", r.method, r.path)
            })
            .collect();
        if lines.is_empty() {
            "  (none)".to_string()
        } else {
            lines.join("\n")
        }
    }

    /// When the fake first put this interaction on the gateway, if it did.
    pub fn dispatched_at(&self, sent: &Sent) -> Option<Instant> {
        self.state()
            .interactions
            .get(&sent.id)
            .and_then(|i| i.first_dispatch)
    }

    /// Every callback received for this interaction, rejected ones included.
    pub fn callbacks_for(&self, sent: &Sent) -> Vec<Recorded> {
        self.state()
            .interactions
            .get(&sent.id)
            .map(|i| i.callbacks.clone())
            .unwrap_or_default()
    }

    /// Every request the bot made, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// Messages posted with POST /api/v10/channels/{id}/messages to this channel.
    pub fn channel_messages(&self, channel: u64) -> Vec<Recorded> {
        let path = format!("/api/v10/channels/{channel}/messages");
        self.state()
            .requests
            .iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .cloned()
            .collect()
    }

    /// The messages Discord accepted from POST /api/v10/channels/{id}/messages to this channel,
    /// as stored (failed and refused requests left out), oldest first.
    pub fn posted(&self, channel: u64) -> Vec<Value> {
        self.state()
            .messages
            .iter()
            .filter(|m| {
                m["channel_id"].as_str().and_then(|c| c.parse().ok()) == Some(channel)
                    && m.get("webhook_id").is_none()
            })
            .cloned()
            .collect()
    }

    /// Messages the bot posted into the DM channel(s) of this user.
    pub fn direct_messages(&self, user: u64) -> Vec<Recorded> {
        let st = self.state();
        let paths: HashSet<String> = st
            .dm_channels
            .iter()
            .filter(|(_, u)| **u == user)
            .map(|(c, _)| format!("/api/v10/channels/{c}/messages"))
            .collect();
        st.requests
            .iter()
            .filter(|r| r.method == "POST" && paths.contains(&r.path))
            .cloned()
            .collect()
    }

    /// The scheduled events the bot created, as the fake answered them.
    pub fn scheduled_events(&self) -> Vec<Value> {
        self.state().scheduled_events.clone()
    }

    /// Every validation failure so far.
    /// What a server administrator does under Server Settings → Integrations: lets `role`
    /// use the command `name` (a top-level command) whatever its default_member_permissions.
    /// The @everyone role has the server's id ([`GUILD_ID`]).
    pub fn allow_role(&self, name: &str, role: u64) {
        self.state()
            .allowed_roles
            .entry(name.to_owned())
            .or_default()
            .push(role);
    }

    pub fn violations(&self) -> Vec<String> {
        self.state().violations.clone()
    }

    /// Panics listing all violations, if any.
    pub fn assert_clean(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "the fake Discord recorded {} violation(s):\n  - {}",
            v.len(),
            v.join("\n  - ")
        );
    }

    /// Closes the current gateway connection without a close frame, as a network failure would.
    pub async fn drop_gateway(&self) {
        let old = {
            let mut st = self.state();
            st.conn.as_mut().map(|c| {
                let _ = c.tx.send(GwCmd::Drop);
                // What is dispatched from now on waits for the resume.
                c.live = false;
                c.id
            })
        };
        let Some(old) = old else { return };
        self.state().gateway.dropped += 1;
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if self.state().conn.as_ref().is_none_or(|c| c.id != old) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The READY `d` this fake sends (exposed so tests can check serenity parses it).
    pub fn ready_payload(&self, session_id: &str) -> Value {
        self.inner.ready_payload(session_id)
    }

    /// The GUILD_CREATE `d` this fake sends after READY when the GUILDS intent is set.
    pub fn guild_create_payload(&self) -> Value {
        guild_create_payload()
    }

    /// The Message object the fake answers for a message body (exposed for faithfulness tests).
    pub fn message_for(&self, channel: u64, body: &Value, webhook: bool) -> Value {
        self.inner
            .message_object(channel, body, Vec::new(), webhook)
    }
}

/// reqwest sends http:// requests through HTTP_PROXY/ALL_PROXY unless NO_PROXY covers the
/// address, and serenity does not re-export reqwest to build a client with `no_proxy()`.
fn proxy_hint() -> String {
    let set = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    let exempt = ["NO_PROXY", "no_proxy"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|x| x.contains("127.0.0.1") || x.trim() == "*"));
    if set && !exempt {
        " (HTTP_PROXY/ALL_PROXY is set without NO_PROXY=127.0.0.1: reqwest may be sending the bot's requests to that proxy)".to_string()
    } else {
        String::new()
    }
}

fn guild_create_payload() -> Value {
    guild_create_payload_for(
        GUILD_ID,
        "Academie Testgemeente",
        &[CHANNEL_ID, VOICE_ID, FORUM_ID],
    )
}

fn guild_create_payload_for(guild_id: u64, guild_name: &str, channels: &[u64]) -> Value {
    let everyone = json!({
        "id": guild_id.to_string(),
        "name": "@everyone",
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": 0,
        "permissions": BASIC_PERMISSIONS.to_string(),
        "managed": false,
        "mentionable": false,
        "flags": 0,
    });
    let mut bot_member = member_json(&FakeUser::member(BOT_ID, BOT_NAME));
    bot_member["user"] = bot_user_json();
    let mut guild = json!({
        "id": guild_id.to_string(),
        "name": guild_name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": "900000000000000003",
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [everyone],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": channels[0].to_string(),
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "nl",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "incidents_data": null,
    });
    // Split in two because one json! literal this large exceeds the macro recursion limit.
    let live = json!({
        "joined_at": DEFAULT_TIMESTAMP,
        "large": false,
        "unavailable": false,
        "member_count": 2,
        "voice_states": [],
        "members": [bot_member],
        "channels": channels.iter().map(|c| guild_channel_json(*c)).collect::<Vec<_>>(),
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    if let (Some(g), Some(l)) = (guild.as_object_mut(), live.as_object()) {
        g.extend(l.clone());
    }
    guild
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, World> {
        // A test that panicked while holding the lock must not hide the other failures.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn violation(&self, msg: String) {
        eprintln!("fake Discord violation: {msg}");
        self.state().violations.push(msg);
    }

    /// Numbers a dispatch, keeps it for replay, and writes it if a connection is live.
    fn enqueue(&self, st: &mut World, t: &str, d: Value, interaction: Option<u64>) {
        st.seq += 1;
        let seq = st.seq;
        let text = frame(0, Some(t), Some(seq), d);
        let written = st
            .conn
            .as_ref()
            .filter(|c| c.live)
            .is_some_and(|c| c.tx.send(GwCmd::Text(text.clone())).is_ok());
        if let Some(i) = interaction.and_then(|id| st.interactions.get_mut(&id)) {
            let now = Instant::now();
            i.created.get_or_insert(now);
            if written {
                i.first_dispatch.get_or_insert(now);
                i.deliveries += 1;
            }
        }
        st.backlog.push(Pending {
            seq,
            text,
            interaction,
        });
        // Discord keeps a bounded buffer for resuming, too.
        if st.backlog.len() > 20_000 {
            st.backlog.drain(..10_000);
        }
    }

    /// The session is gone: whatever it never delivered is lost.
    fn end_session(st: &mut World) {
        let pending: Vec<u64> = st.backlog.drain(..).filter_map(|p| p.interaction).collect();
        for id in pending {
            if let Some(i) = st.interactions.get_mut(&id) {
                if i.first_dispatch.is_none() && !i.lost {
                    i.lost = true;
                    st.gateway.lost += 1;
                }
            }
        }
    }

    fn command_id(&self, name: &str) -> u64 {
        let mut st = self.state();
        if let Some(id) = st.command_ids.get(name) {
            return *id;
        }
        let id = self.fresh_id();
        st.command_ids.insert(name.to_string(), id);
        id
    }

    /// Discord keeps one DM channel per user; the same id comes back every time.
    fn dm_channel(&self, st: &mut World, user: u64) -> u64 {
        if let Some((c, _)) = st.dm_channels.iter().find(|(_, u)| **u == user) {
            return *c;
        }
        let c = self.fresh_id();
        st.dm_channels.insert(c, user);
        st.known_channels.insert(c);
        c
    }

    fn ready_payload(&self, session_id: &str) -> Value {
        json!({
            "v": 10,
            "user": bot_user_json(),
            "guilds": [
                {"id": GUILD_ID.to_string(), "unavailable": true},
                {"id": GUILD_B_ID.to_string(), "unavailable": true},
            ],
            "session_id": session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": [0, 1],
            "application": {"id": APP_ID.to_string(), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "guild_join_requests": [],
            "auth": {},
            "_trace": ["fake-discord"],
        })
    }

    fn message_object(
        &self,
        channel: u64,
        body: &Value,
        files: Vec<(String, Vec<u8>)>,
        webhook: bool,
    ) -> Value {
        let id = self.fresh_id();
        let attachments = self.attachments(channel, body, files);
        let mut m = json!({
            "id": id.to_string(),
            "channel_id": channel.to_string(),
            "author": bot_user_json(),
            "content": body.get("content").and_then(Value::as_str).unwrap_or(""),
            "timestamp": now_timestamp(),
            "edited_timestamp": null,
            "tts": body.get("tts").and_then(Value::as_bool).unwrap_or(false),
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": attachments,
            "embeds": echo_embeds(body.get("embeds").unwrap_or(&Value::Null)),
            "reactions": [],
            "pinned": false,
            "type": 0,
            "flags": body.get("flags").and_then(Value::as_u64).unwrap_or(0),
            "components": echo_components(body.get("components")),
        });
        if webhook {
            m["webhook_id"] = json!(APP_ID.to_string());
            m["application_id"] = json!(APP_ID.to_string());
        }
        m
    }

    fn attachments(&self, channel: u64, body: &Value, files: Vec<(String, Vec<u8>)>) -> Vec<Value> {
        let meta = body.get("attachments").and_then(Value::as_array);
        files
            .into_iter()
            .map(|(filename, bytes)| {
                let id = self.fresh_id();
                let description = meta
                    .and_then(|m| m.iter().find(|a| a["filename"] == filename.as_str()))
                    .and_then(|a| a.get("description").cloned())
                    .unwrap_or(Value::Null);
                json!({
                    "id": id.to_string(),
                    "filename": filename,
                    "description": description,
                    "size": bytes.len(),
                    "url": format!("https://cdn.discordapp.com/attachments/{channel}/{id}/{filename}"),
                    "proxy_url": format!("https://media.discordapp.net/attachments/{channel}/{id}/{filename}"),
                })
            })
            .collect()
    }

    fn new_attachments(
        &self,
        channel: u64,
        body: &Value,
        files: &[(String, Vec<u8>)],
    ) -> Vec<Value> {
        self.attachments(channel, body, files.to_vec())
    }

    fn store_message(&self, st: &mut World, msg: Value) {
        let id = id_of(&msg);
        if let Some(existing) = st.messages.iter_mut().find(|m| id_of(m) == id) {
            *existing = msg;
        } else {
            st.messages.push(msg);
        }
    }

    fn reject(&self, rec: &Recorded, what: &str, errors: Vec<String>) -> Reply {
        for e in &errors {
            self.violation(format!("{} {} ({what}): {e}", rec.method, rec.path));
        }
        (
            StatusCode::BAD_REQUEST,
            Some(json!({
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": spec::discord_errors(&errors),
            })),
        )
    }

    fn unexpected(&self, rec: &Recorded) -> Reply {
        self.violation(format!("unexpected route {} {}", rec.method, rec.path));
        discord_error(StatusCode::NOT_FOUND, 0, "Unknown")
    }

    fn route(&self, rec: &Recorded) -> Reply {
        let Some(rest) = rec.path.strip_prefix("/api/v10/") else {
            return self.unexpected(rec);
        };
        let segs: Vec<&str> = rest.split('/').collect();
        let app_ok = |app: &str| app == APP_ID.to_string();
        match (rec.method.as_str(), segs.as_slice()) {
            ("GET", ["gateway"]) => ok(json!({"url": self.gateway_url})),
            ("GET", ["gateway", "bot"]) => ok(json!({
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
            })),
            ("GET", ["oauth2", "applications", "@me"]) | ("GET", ["applications", "@me"]) => {
                ok(application_json())
            }
            ("GET", ["users", "@me"]) => ok(bot_user_json()),
            ("PUT", ["applications", app, "commands"]) if app_ok(app) => {
                self.put_commands(rec, None)
            }
            ("PUT", ["applications", app, "guilds", gid, "commands"]) if app_ok(app) => {
                match gid.parse::<u64>() {
                    Ok(g) if g == GUILD_ID => self.put_commands(rec, Some(g)),
                    _ => {
                        self.violation(format!("{} {}: unknown guild {gid}", rec.method, rec.path));
                        discord_error(StatusCode::NOT_FOUND, 10004, "Unknown Guild")
                    }
                }
            }
            ("GET", ["applications", app, "commands"]) if app_ok(app) => self.list_commands(None),
            ("GET", ["applications", app, "guilds", gid, "commands"]) if app_ok(app) => {
                self.list_commands(gid.parse().ok())
            }
            ("POST", ["interactions", id, token, "callback"]) => self.callback(rec, id, token),
            ("POST", ["webhooks", app, token]) => self.followup(rec, app, token),
            (_, ["webhooks", app, token, "messages", mid]) => {
                self.webhook_message(rec, app, token, mid)
            }
            ("POST", ["channels", cid, "messages"]) => self.channel_message(rec, cid),
            ("POST", ["guilds", gid, "scheduled-events"]) => self.scheduled_event(rec, gid),
            ("POST", ["channels", cid, "threads"]) => self.forum_post(rec, cid),
            ("POST", ["users", "@me", "channels"]) => self.create_dm(rec),
            _ => self.unexpected(rec),
        }
    }

    fn put_commands(&self, rec: &Recorded, guild: Option<u64>) -> Reply {
        let body = rec.body.clone().unwrap_or(Value::Null);
        let mut errors = spec::validate_array("ApplicationCommandUpdateRequest", &body, 100);
        errors.extend(spec::check_commands(&body));
        if !errors.is_empty() {
            return self.reject(rec, "command registration", errors);
        }
        let mut echoed = Vec::new();
        let mut scope = CommandScope::default();
        for c in body.as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("").to_string();
            let id = self.command_id(&name);
            let mut e = json!({
                "id": id.to_string(),
                "application_id": APP_ID.to_string(),
                "version": self.fresh_id().to_string(),
                "type": c.get("type").cloned().filter(|t| !t.is_null()).unwrap_or(json!(1)),
                "name": name,
                "name_localizations": c.get("name_localizations").cloned().unwrap_or(Value::Null),
                "description": c.get("description").cloned().filter(|d| !d.is_null()).unwrap_or(json!("")),
                "description_localizations": c.get("description_localizations").cloned().unwrap_or(Value::Null),
                "options": c.get("options").cloned().filter(|o| !o.is_null()).unwrap_or(json!([])),
                "default_member_permissions": match c.get("default_member_permissions") {
                    Some(Value::Number(n)) => json!(n.to_string()),
                    Some(Value::String(s)) => json!(s),
                    _ => Value::Null,
                },
                "dm_permission": c.get("dm_permission").cloned().filter(|d| !d.is_null()).unwrap_or(json!(true)),
                "nsfw": c.get("nsfw").cloned().filter(|d| !d.is_null()).unwrap_or(json!(false)),
                "integration_types": c.get("integration_types").cloned().filter(|d| !d.is_null()).unwrap_or(json!([0])),
                "contexts": c.get("contexts").cloned().unwrap_or(Value::Null),
            });
            if let Some(g) = guild {
                e["guild_id"] = json!(g.to_string());
            }
            scope.commands.insert(name, e.clone());
            echoed.push(e);
        }
        let mut st = self.state();
        st.command_puts.push((rec.path.clone(), body));
        st.scopes.insert(guild, scope);
        ok(Value::Array(echoed))
    }

    fn list_commands(&self, guild: Option<u64>) -> Reply {
        let st = self.state();
        let list: Vec<Value> = st
            .scopes
            .get(&guild)
            .map(|s| s.commands.values().cloned().collect())
            .unwrap_or_default();
        ok(Value::Array(list))
    }

    fn callback(&self, rec: &Recorded, id: &str, token: &str) -> Reply {
        let Ok(id) = id.parse::<u64>() else {
            return self.unexpected(rec);
        };
        let body = rec.body.clone().unwrap_or(Value::Null);
        let t = body["type"].as_u64().unwrap_or(0);
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        let (kind, has_source, first, deadline, already, hidden) = {
            let mut st = self.state();
            let deadline = st.callback_deadline;
            let Some(i) = st.interactions.get_mut(&id) else {
                drop(st);
                self.violation(format!(
                    "POST {}: callback for unknown interaction {id}",
                    rec.path
                ));
                return discord_error(StatusCode::NOT_FOUND, 10062, "Unknown interaction");
            };
            i.callbacks.push(rec.clone());
            i.last_activity = Some(Instant::now());
            if i.sent.token != token {
                drop(st);
                self.violation(format!(
                    "POST {}: wrong token for interaction {id}",
                    rec.path
                ));
                return discord_error(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token");
            }
            (
                i.kind,
                i.source_message.is_some(),
                i.first_dispatch.and(i.created),
                deadline,
                i.accepted.is_some(),
                i.ack_hidden,
            )
        };
        let Some(first) = first else {
            self.violation(format!(
                "POST {}: callback for interaction {id}, which was never dispatched",
                rec.path
            ));
            return discord_error(StatusCode::NOT_FOUND, 10062, "Unknown interaction");
        };
        if already && hidden {
            // The bot could not know its first callback had landed.
            return discord_error(
                StatusCode::BAD_REQUEST,
                40060,
                "Interaction has already been acknowledged.",
            );
        }
        if already {
            self.violation(format!(
                "POST {}: interaction already acknowledged (second callback for interaction {id})",
                rec.path
            ));
            return discord_error(
                StatusCode::BAD_REQUEST,
                40060,
                "Interaction has already been acknowledged.",
            );
        }
        let elapsed = first.elapsed();
        if elapsed > deadline {
            self.violation(format!(
                "POST {}: first callback {} ms after dispatch (limit {} ms); Discord answers 10062 Unknown interaction",
                rec.path,
                elapsed.as_millis(),
                deadline.as_millis()
            ));
            return discord_error(StatusCode::NOT_FOUND, 10062, "Unknown interaction");
        }
        let mut errors = Vec::new();
        match t {
            4 | 5 => {
                errors.extend(spec::validate(
                    "CreateMessageInteractionCallbackRequest",
                    &body,
                ));
                errors.extend(spec::check_message("/data", &data));
            }
            6 | 7 => {
                errors.extend(spec::validate(
                    "UpdateMessageInteractionCallbackRequest",
                    &body,
                ));
                errors.extend(spec::check_message("/data", &data));
                if kind == 2 {
                    errors.push(format!(
                        "/type: callback type {t} (update message) answers a slash command; only components and modals opened from one may"
                    ));
                } else if !has_source {
                    errors.push(format!(
                        "/type: callback type {t} (update message) for a modal that was not opened from a message component"
                    ));
                }
            }
            9 => {
                errors.extend(spec::validate("ModalInteractionCallbackRequest", &body));
                errors.extend(spec::check_modal("/data", &data));
                if kind == 5 {
                    errors.push("/type: a modal cannot answer a modal submit".to_string());
                }
            }
            other => errors.push(format!(
                "/type: callback type {other} is not valid for a {} interaction",
                match kind {
                    2 => "command",
                    3 => "component",
                    _ => "modal submit",
                }
            )),
        }
        if !errors.is_empty() {
            return self.reject(rec, "interaction callback", errors);
        }
        let mut st = self.state();
        let Some(i) = st.interactions.get(&id) else {
            return (StatusCode::NO_CONTENT, None);
        };
        let channel = i.channel_id;
        let source = i.source_message.clone();
        let original = match t {
            4 => Some(self.message_object(channel, &data, rec.files.clone(), true)),
            5 => {
                let flags = data.get("flags").and_then(Value::as_u64).unwrap_or(0) | LOADING;
                Some(self.message_object(channel, &json!({"flags": flags}), Vec::new(), true))
            }
            6 => source.clone(),
            7 => source.clone().map(|m| {
                let new = self.new_attachments(channel, &data, &rec.files);
                merge_message(m, &data, new, true)
            }),
            _ => None,
        };
        if t == 9 {
            if let Some(cid) = data.get("custom_id").and_then(Value::as_str) {
                st.modals
                    .insert(cid.to_string(), (data.clone(), source.clone()));
            }
        }
        if let Some(m) = &original {
            self.store_message(&mut st, m.clone());
            st.message_tokens.insert(id_of(m), token.to_string());
        }
        if let Some(i) = st.interactions.get_mut(&id) {
            i.took_effect += 1;
            i.accepted = Some((t, data));
            i.original = original;
        }
        (StatusCode::NO_CONTENT, None)
    }

    /// Resolves a webhook path to its interaction, or the error Discord would give.
    fn webhook_interaction(&self, rec: &Recorded, app: &str, token: &str) -> Result<u64, Reply> {
        if app != APP_ID.to_string() {
            self.violation(format!(
                "{} {}: application id {app} is not {APP_ID}",
                rec.method, rec.path
            ));
            return Err(discord_error(
                StatusCode::NOT_FOUND,
                10015,
                "Unknown Webhook",
            ));
        }
        let st = self.state();
        let Some(id) = st.tokens.get(token).copied() else {
            drop(st);
            self.violation(format!(
                "{} {}: unknown interaction token",
                rec.method, rec.path
            ));
            return Err(discord_error(
                StatusCode::NOT_FOUND,
                10015,
                "Unknown Webhook",
            ));
        };
        let acknowledged = st
            .interactions
            .get(&id)
            .is_some_and(|i| i.accepted.is_some());
        drop(st);
        if !acknowledged {
            self.violation(format!(
                "{} {}: webhook request before the interaction was acknowledged",
                rec.method, rec.path
            ));
            return Err(discord_error(
                StatusCode::NOT_FOUND,
                10015,
                "Unknown Webhook",
            ));
        }
        Ok(id)
    }

    fn followup(&self, rec: &Recorded, app: &str, token: &str) -> Reply {
        let id = match self.webhook_interaction(rec, app, token) {
            Ok(id) => id,
            Err(r) => return r,
        };
        let body = rec.body.clone().unwrap_or(json!({}));
        let mut errors = spec::validate("IncomingWebhookRequestPartial", &body);
        errors.extend(spec::check_message("", &body));
        if !errors.is_empty() {
            return self.reject(rec, "follow-up", errors);
        }
        let mut st = self.state();
        let Some(i) = st.interactions.get_mut(&id) else {
            return discord_error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook");
        };
        i.traffic.push(rec.clone());
        i.last_activity = Some(Instant::now());
        let channel = i.channel_id;
        // After a deferred message, Discord turns the first follow-up into the edit of the
        // "is thinking…" placeholder, which keeps the deferral's flags.
        let loading = i
            .original
            .as_ref()
            .filter(|o| o["flags"].as_u64().unwrap_or(0) & LOADING != 0)
            .cloned();
        let msg = match loading {
            Some(o) => {
                let new = self.new_attachments(channel, &body, &rec.files);
                let m = merge_message(o, &body, new, false);
                i.original = Some(m.clone());
                m
            }
            None => self.message_object(channel, &body, rec.files.clone(), true),
        };
        self.store_message(&mut st, msg.clone());
        st.message_tokens.insert(id_of(&msg), token.to_string());
        ok(msg)
    }

    fn webhook_message(&self, rec: &Recorded, app: &str, token: &str, mid: &str) -> Reply {
        let id = match self.webhook_interaction(rec, app, token) {
            Ok(id) => id,
            Err(r) => return r,
        };
        let method = rec.method.as_str();
        let body = rec.body.clone().unwrap_or(json!({}));
        if method == "PATCH" {
            let mut errors = spec::validate("IncomingWebhookUpdateRequestPartial", &body);
            errors.extend(spec::check_message("", &body));
            if !errors.is_empty() {
                return self.reject(rec, "webhook message edit", errors);
            }
        }
        let mut st = self.state();
        let current = if mid == "@original" {
            st.interactions.get(&id).and_then(|i| i.original.clone())
        } else {
            let mid: u64 = mid.parse().unwrap_or(0);
            let ours = st.message_tokens.get(&mid).is_some_and(|t| t == token);
            st.messages
                .iter()
                .find(|m| id_of(m) == mid)
                .filter(|_| ours)
                .cloned()
        };
        let Some(current) = current else {
            drop(st);
            self.violation(format!(
                "{} {}: no such message for this interaction (after a modal or deletion there is no original)",
                rec.method, rec.path
            ));
            return discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
        };
        let msg_id = id_of(&current);
        let channel = current["channel_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(CHANNEL_ID);
        match method {
            "GET" => ok(current),
            "PATCH" => {
                let new = self.new_attachments(channel, &body, &rec.files);
                let updated = merge_message(current, &body, new, true);
                self.store_message(&mut st, updated.clone());
                if let Some(i) = st.interactions.get_mut(&id) {
                    i.traffic.push(rec.clone());
                    i.last_activity = Some(Instant::now());
                    if i.original.as_ref().is_some_and(|o| id_of(o) == msg_id) {
                        i.original = Some(updated.clone());
                    }
                }
                ok(updated)
            }
            "DELETE" => {
                st.messages.retain(|m| id_of(m) != msg_id);
                if let Some(i) = st.interactions.get_mut(&id) {
                    i.last_activity = Some(Instant::now());
                    if i.original.as_ref().is_some_and(|o| id_of(o) == msg_id) {
                        i.original = None;
                    }
                }
                (StatusCode::NO_CONTENT, None)
            }
            _ => {
                drop(st);
                self.unexpected(rec)
            }
        }
    }

    fn channel_message(&self, rec: &Recorded, cid: &str) -> Reply {
        let Ok(channel) = cid.parse::<u64>() else {
            return self.unexpected(rec);
        };
        if !self.state().known_channels.contains(&channel) {
            self.violation(format!("POST {}: unknown channel {channel}", rec.path));
            return discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
        }
        let body = rec.body.clone().unwrap_or(json!({}));
        let mut errors = spec::validate("MessageCreateRequest", &body);
        errors.extend(spec::check_message("", &body));
        let empty = body
            .get("content")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            && body
                .get("embeds")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
            && body
                .get("components")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
            && rec.files.is_empty()
            && body.get("sticker_ids").is_none()
            && body.get("poll").is_none();
        if empty {
            errors.push(
                "/: empty message (Discord answers 50006 Cannot send an empty message)".to_string(),
            );
        }
        if !errors.is_empty() {
            return self.reject(rec, "channel message", errors);
        }
        // As Discord does with `enforce_nonce`: a nonce the bot used before in this channel
        // returns the message it made then, and posts nothing new.
        if body["enforce_nonce"] == json!(true) {
            if let Some(nonce) = body.get("nonce").filter(|n| !n.is_null()) {
                let earlier = self
                    .state()
                    .messages
                    .iter()
                    .rev()
                    .find(|m| m["channel_id"] == json!(channel.to_string()) && m["nonce"] == *nonce)
                    .cloned();
                if let Some(earlier) = earlier {
                    return ok(earlier);
                }
            }
        }
        let mut msg = self.message_object(channel, &body, rec.files.clone(), false);
        if let Some(nonce) = body.get("nonce") {
            msg["nonce"] = nonce.clone();
        }
        self.store_message(&mut self.state(), msg.clone());
        ok(msg)
    }

    /// POST /guilds/{id}/scheduled-events: checked against the spec's request schema for the
    /// event's kind, and against what Discord checks beyond it: a start in the future, an end
    /// after it, a voice or stage event in a voice channel of that guild, an external one with
    /// a location and an end and no channel.
    fn scheduled_event(&self, rec: &Recorded, gid: &str) -> Reply {
        let guild = match gid.parse::<u64>() {
            Ok(g) if g == GUILD_ID || g == GUILD_B_ID => g,
            _ => {
                self.violation(format!("{} {}: unknown guild {gid}", rec.method, rec.path));
                return discord_error(StatusCode::NOT_FOUND, 10004, "Unknown Guild");
            }
        };
        let body = rec.body.clone().unwrap_or(json!({}));
        let kind = body["entity_type"].as_u64();
        let schema = match kind {
            Some(1) => "StageScheduledEventCreateRequest",
            Some(2) => "VoiceScheduledEventCreateRequest",
            Some(3) => "ExternalScheduledEventCreateRequest",
            other => {
                return self.reject(
                    rec,
                    "scheduled event",
                    vec![format!("/entity_type: {other:?} is not an event kind")],
                )
            }
        };
        let mut errors = spec::validate(schema, &body);
        let time = |field: &str| {
            body[field]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        };
        let start = time("scheduled_start_time");
        let end = time("scheduled_end_time");
        match start {
            None => errors.push("/scheduled_start_time: not an ISO8601 timestamp".into()),
            Some(s) if s <= chrono::Utc::now() => {
                errors.push("/scheduled_start_time: Cannot schedule event in the past".into())
            }
            Some(_) => {}
        }
        if !body["scheduled_end_time"].is_null() && end.is_none() {
            errors.push("/scheduled_end_time: not an ISO8601 timestamp".into());
        }
        if let (Some(s), Some(e)) = (start, end) {
            if e <= s {
                errors.push("/scheduled_end_time: must be after the start".into());
            }
        }
        if body["privacy_level"] != json!(2) {
            errors.push("/privacy_level: must be 2 (guild only)".into());
        }
        if body["name"].as_str().is_none_or(|n| n.trim().is_empty()) {
            errors.push("/name: must not be empty".into());
        }
        let channel = body["channel_id"]
            .as_str()
            .and_then(|c| c.parse::<u64>().ok());
        match kind {
            Some(3) => {
                if channel.is_some() {
                    errors.push("/channel_id: an external event has no channel".into());
                }
                if end.is_none() {
                    errors.push("/scheduled_end_time: required for an external event".into());
                }
                if body["entity_metadata"]["location"]
                    .as_str()
                    .is_none_or(|l| l.trim().is_empty())
                {
                    errors.push("/entity_metadata/location: required for an external event".into());
                }
            }
            _ => {
                let voice = channel.is_some_and(|c| c == VOICE_ID && guild_of(c) == guild);
                if !voice {
                    errors.push(format!(
                        "/channel_id: {channel:?} is not a voice channel of guild {guild}"
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return self.reject(rec, "scheduled event", errors);
        }
        let event = json!({
            "id": self.fresh_id().to_string(),
            "guild_id": guild.to_string(),
            "channel_id": channel.map(|c| c.to_string()),
            "creator_id": BOT_ID.to_string(),
            "name": body["name"],
            "description": body.get("description").cloned().unwrap_or(Value::Null),
            "scheduled_start_time": body["scheduled_start_time"],
            "scheduled_end_time": body.get("scheduled_end_time").cloned().unwrap_or(Value::Null),
            "privacy_level": 2,
            "status": 1,
            "entity_type": kind,
            "entity_id": null,
            "entity_metadata": body.get("entity_metadata").cloned().unwrap_or(Value::Null),
            "creator": bot_user_json(),
            "user_count": null,
            "image": null,
        });
        self.state().scheduled_events.push(event.clone());
        ok(event)
    }

    /// POST /channels/{id}/threads in a forum channel: a new post with its first message.
    fn forum_post(&self, rec: &Recorded, cid: &str) -> Reply {
        let Ok(channel) = cid.parse::<u64>() else {
            return self.unexpected(rec);
        };
        if channel != FORUM_ID {
            self.violation(format!("POST {}: channel {channel} is no forum", rec.path));
            return discord_error(
                StatusCode::BAD_REQUEST,
                50024,
                "Cannot execute action on this channel type",
            );
        }
        let body = rec.body.clone().unwrap_or(json!({}));
        let mut errors = spec::validate("CreateForumThreadRequest", &body);
        if let Some(m) = body.get("message") {
            errors.extend(spec::check_message("/message", m));
        }
        if !errors.is_empty() {
            return self.reject(rec, "forum post", errors);
        }
        let thread = self.fresh_id();
        let mut st = self.state();
        st.known_channels.insert(thread);
        let first = self.message_object(
            thread,
            body.get("message").unwrap_or(&json!({})),
            rec.files.clone(),
            false,
        );
        self.store_message(&mut st, first.clone());
        drop(st);
        let mut c = guild_channel_json(thread);
        c["type"] = json!(11);
        c["name"] = body["name"].clone();
        c["parent_id"] = json!(FORUM_ID.to_string());
        c["owner_id"] = json!(BOT_ID.to_string());
        c["message_count"] = json!(1);
        c["member_count"] = json!(1);
        c["thread_metadata"] = json!({
            "archived": false,
            "auto_archive_duration": 4320,
            "archive_timestamp": now_timestamp(),
            "locked": false,
        });
        c["message"] = first;
        ok(c)
    }

    fn create_dm(&self, rec: &Recorded) -> Reply {
        let body = rec.body.clone().unwrap_or(json!({}));
        let errors = spec::validate("CreatePrivateChannelRequest", &body);
        if !errors.is_empty() {
            return self.reject(rec, "create DM", errors);
        }
        let recipient = match &body["recipient_id"] {
            Value::String(s) => s.parse::<u64>().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        let Some(user) = recipient else {
            return self.reject(rec, "create DM", vec!["/recipient_id: missing".to_string()]);
        };
        let mut st = self.state();
        let channel = self.dm_channel(&mut st, user);
        let recipient = st.users.get(&user).map(user_json).unwrap_or_else(|| {
            user_json(&FakeUser::member(
                user,
                &format!("gebruiker{}", user % 10_000),
            ))
        });
        ok(json!({
            "id": channel.to_string(),
            "type": 1,
            "last_message_id": null,
            "flags": 0,
            "recipients": [recipient],
        }))
    }

    /// Handles one gateway frame from the bot; returns the frames to send back in order.
    fn on_gateway_frame(&self, conn_id: u64, text: &str) -> Vec<String> {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            self.violation(format!("gateway: frame is not JSON: {text}"));
            return Vec::new();
        };
        let op = v["op"].as_u64().unwrap_or(u64::MAX);
        let mut st = self.state();
        let is_current = st.conn.as_ref().is_some_and(|c| c.id == conn_id);
        match op {
            1 => vec![frame(11, None, None, Value::Null)],
            2 => {
                let token = v["d"]["token"].as_str().map(str::to_string);
                let intents = v["d"]["intents"].as_u64();
                st.identify_token = token.clone();
                st.identify_intents = intents;
                if !token.as_deref().is_some_and(|t| t.starts_with("Bot ")) {
                    drop(st);
                    self.violation(
                        "gateway: Identify token does not start with \"Bot \"".to_string(),
                    );
                    st = self.state();
                }
                let session = format!("fake-session-{}", self.fresh_id());
                Inner::end_session(&mut st);
                st.session_id = Some(session.clone());
                st.seq = 1;
                st.ready_count += 1;
                let mut out = vec![frame(
                    0,
                    Some("READY"),
                    Some(1),
                    self.ready_payload(&session),
                )];
                if intents.is_some_and(|i| i & 1 != 0) {
                    st.seq += 1;
                    out.push(frame(
                        0,
                        Some("GUILD_CREATE"),
                        Some(st.seq),
                        guild_create_payload(),
                    ));
                    st.seq += 1;
                    out.push(frame(
                        0,
                        Some("GUILD_CREATE"),
                        Some(st.seq),
                        guild_create_payload_for(GUILD_B_ID, "Academie Provincie", &[CHANNEL_B_ID]),
                    ));
                }
                if is_current {
                    if let Some(c) = st.conn.as_mut() {
                        c.live = true;
                    }
                }
                out
            }
            6 => {
                let session = v["d"]["session_id"].as_str();
                if session.is_some() && session == st.session_id.as_deref() {
                    // Discord replays what the bot missed, in order, then says RESUMED.
                    let seen = v["d"]["seq"].as_u64().unwrap_or(0);
                    let overlap = std::mem::take(&mut st.resume_overlap);
                    let first_missed = st.backlog.partition_point(|p| p.seq <= seen);
                    let from = first_missed.saturating_sub(overlap);
                    let replay: Vec<(u64, String, Option<u64>)> = st.backlog[from..]
                        .iter()
                        .map(|p| (p.seq, p.text.clone(), p.interaction))
                        .collect();
                    let now = Instant::now();
                    let mut out = Vec::new();
                    for (seq, text, interaction) in replay {
                        if seq <= seen {
                            st.gateway.replayed_seen += 1;
                        } else {
                            st.gateway.replayed += 1;
                        }
                        if let Some(i) = interaction.and_then(|id| st.interactions.get_mut(&id)) {
                            i.first_dispatch.get_or_insert(now);
                            i.deliveries += 1;
                        }
                        out.push(text);
                    }
                    st.seq += 1;
                    st.resume_count += 1;
                    if is_current {
                        if let Some(c) = st.conn.as_mut() {
                            c.live = true;
                        }
                    }
                    out.push(frame(
                        0,
                        Some("RESUMED"),
                        Some(st.seq),
                        json!({"_trace": ["fake-discord"]}),
                    ));
                    out
                } else {
                    vec![frame(9, None, None, json!(false))]
                }
            }
            3 | 4 | 8 | 31 => Vec::new(),
            other => {
                drop(st);
                self.violation(format!("gateway: unexpected opcode {other}: {text}"));
                Vec::new()
            }
        }
    }
}

async fn gateway_conn(inner: Arc<Inner>, stream: TcpStream) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let conn_id = inner.fresh_id();
    inner.state().conn = Some(GatewayConn {
        id: conn_id,
        tx,
        live: false,
    });
    let hello = frame(10, None, None, json!({"heartbeat_interval": 45_000}));
    if ws.send(WsMessage::Text(hello)).await.is_ok() {
        loop {
            tokio::select! {
                msg = ws.next() => match msg {
                    Some(Ok(WsMessage::Text(t))) => {
                        let identify = serde_json::from_str::<Value>(&t)
                            .is_ok_and(|v| v["op"] == 2);
                        let refused = {
                            let st = inner.state();
                            st.token_revoked || st.identify_refused
                        };
                        if identify && refused {
                            let close = tokio_tungstenite::tungstenite::protocol::CloseFrame {
                                code: 4004.into(),
                                reason: "Authentication failed.".into(),
                            };
                            let _ = ws.send(WsMessage::Close(Some(close))).await;
                            break;
                        }
                        let mut failed = false;
                        for reply in inner.on_gateway_frame(conn_id, &t) {
                            if ws.send(WsMessage::Text(reply)).await.is_err() {
                                failed = true;
                                break;
                            }
                        }
                        if failed {
                            break;
                        }
                    }
                    Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                cmd = rx.recv() => match cmd {
                    Some(GwCmd::Text(t)) => {
                        if ws.send(WsMessage::Text(t)).await.is_err() {
                            break;
                        }
                    }
                    Some(GwCmd::Drop) | None => break,
                },
            }
        }
    }
    let mut st = inner.state();
    if st.conn.as_ref().is_some_and(|c| c.id == conn_id) {
        st.conn = None;
    }
    drop(st);
    // Dropping the stream without a close frame is what a network failure looks like.
    drop(ws);
}

async fn rest_handler(State(inner): State<Arc<Inner>>, req: Request) -> axum::response::Response {
    let at = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let mut problem = None;
    let mut body = None;
    let mut files = Vec::new();
    if multipart {
        match Multipart::from_request(req, &()).await {
            Ok(mut form) => loop {
                match form.next_field().await {
                    Ok(Some(field)) => {
                        let name = field.name().unwrap_or("").to_string();
                        let filename = field.file_name().map(str::to_string);
                        let bytes = match field.bytes().await {
                            Ok(b) => b.to_vec(),
                            Err(e) => {
                                problem = Some(format!("multipart part {name}: {e}"));
                                break;
                            }
                        };
                        if name == "payload_json" {
                            match serde_json::from_slice(&bytes) {
                                Ok(v) => body = Some(v),
                                Err(e) => problem = Some(format!("payload_json is not JSON: {e}")),
                            }
                        } else if let Some(f) = filename {
                            files.push((f, bytes));
                        } else {
                            problem = Some(format!(
                                "multipart part {name:?} is neither payload_json nor a file"
                            ));
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        problem = Some(format!("bad multipart body: {e}"));
                        break;
                    }
                }
            },
            Err(e) => problem = Some(format!("bad multipart body: {e}")),
        }
    } else {
        match axum::body::to_bytes(req.into_body(), usize::MAX).await {
            Ok(bytes) if bytes.is_empty() => {}
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => body = Some(v),
                Err(e) => problem = Some(format!("body is not JSON: {e}")),
            },
            Err(e) => problem = Some(format!("cannot read body: {e}")),
        }
    }
    let rec = Recorded {
        method,
        path,
        body,
        files,
        at,
    };
    inner.state().requests.push(rec.clone());
    if inner.state().token_revoked {
        return reply_response(discord_error(
            StatusCode::UNAUTHORIZED,
            0,
            "401: Unauthorized",
        ));
    }
    let limited = inner.early_retry(&rec);
    let fault = match (&problem, limited) {
        (None, None) => inner.take_fault(&rec),
        _ => None,
    };
    let response = match (problem, limited.or(fault)) {
        (Some(p), _) => reply_response(inner.reject(&rec, "body", vec![format!("/: {p}")])),
        (None, Some(Fault::ServerErrorAfterEffect)) => {
            let reply = inner.route(&rec);
            if reply.0.is_success() {
                if let Some(id) = callback_id(&rec.path) {
                    if let Some(i) = inner.state().interactions.get_mut(&id) {
                        i.ack_hidden = true;
                    }
                }
                inner.state().injected.push((
                    Fault::ServerErrorAfterEffect,
                    rec.method.clone(),
                    rec.path.clone(),
                ));
                reply_response(discord_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    0,
                    "500: Internal Server Error",
                ))
            } else {
                reply_response(reply)
            }
        }
        (None, Some(fault)) => {
            let errors = inner.check_body(&rec);
            if errors.is_empty() {
                inner.fault_response(&rec, fault, limited.is_none())
            } else {
                reply_response(inner.reject(&rec, "body", errors))
            }
        }
        (None, None) => reply_response(inner.route(&rec)),
    };
    inner.note_callback_status(&rec, response.status().as_u16());
    response
}

fn reply_response((status, value): Reply) -> axum::response::Response {
    match value {
        Some(v) => (status, Json(v)).into_response(),
        None => status.into_response(),
    }
}

/// The interaction id of a callback path.
fn callback_id(path: &str) -> Option<u64> {
    let rest = path.strip_prefix("/api/v10/interactions/")?;
    let segs: Vec<&str> = rest.split('/').collect();
    match segs.as_slice() {
        [id, _token, "callback"] => id.parse().ok(),
        _ => None,
    }
}

impl Inner {
    /// A request to a route still limited by an earlier 429 is what gets a bot banned for a
    /// while by Discord's invalid-request limit; it is answered with another 429.
    fn early_retry(&self, rec: &Recorded) -> Option<Fault> {
        let key = (rec.method.clone(), rec.path.clone());
        let until = self.state().limited_until.get(&key).copied()?;
        let now = Instant::now();
        if now >= until {
            return None;
        }
        self.violation(format!(
            "{} {}: retried {} ms before the 429's retry_after had passed",
            rec.method,
            redact_token(&rec.path),
            (until - now).as_millis()
        ));
        Some(Fault::RateLimited {
            retry_after: (until - now).as_secs_f64(),
        })
    }

    fn take_fault(&self, rec: &Recorded) -> Option<Fault> {
        let mut st = self.state();
        let segs: Vec<&str> = rec.path.split('/').collect();
        let rule = st.faults.iter_mut().find(|f| {
            f.remaining > 0
                && f.method == rec.method
                && f.pattern.len() == segs.len()
                && f.pattern.iter().zip(&segs).all(|(p, s)| p == "*" || p == s)
        })?;
        rule.remaining -= 1;
        let fault = rule.fault;
        st.faults.retain(|f| f.remaining > 0);
        Some(fault)
    }

    /// The spec checks of a request the fake answers with a fault instead of handling it.
    fn check_body(&self, rec: &Recorded) -> Vec<String> {
        let body = rec.body.clone().unwrap_or(json!({}));
        let segs: Vec<&str> = rec.path.split('/').skip(3).collect();
        match (rec.method.as_str(), segs.as_slice()) {
            ("POST", ["interactions", _, _, "callback"]) => {
                let data = body.get("data").cloned().unwrap_or(Value::Null);
                match body["type"].as_u64() {
                    Some(4 | 5) => {
                        let mut e =
                            spec::validate("CreateMessageInteractionCallbackRequest", &body);
                        e.extend(spec::check_message("/data", &data));
                        e
                    }
                    Some(6 | 7) => {
                        let mut e =
                            spec::validate("UpdateMessageInteractionCallbackRequest", &body);
                        e.extend(spec::check_message("/data", &data));
                        e
                    }
                    Some(9) => {
                        let mut e = spec::validate("ModalInteractionCallbackRequest", &body);
                        e.extend(spec::check_modal("/data", &data));
                        e
                    }
                    other => vec![format!("/type: callback type {other:?} is not valid")],
                }
            }
            ("POST", ["webhooks", _, _]) => {
                let mut e = spec::validate("IncomingWebhookRequestPartial", &body);
                e.extend(spec::check_message("", &body));
                e
            }
            ("PATCH", ["webhooks", _, _, "messages", _]) => {
                let mut e = spec::validate("IncomingWebhookUpdateRequestPartial", &body);
                e.extend(spec::check_message("", &body));
                e
            }
            ("POST", ["channels", _, "messages"]) => {
                let mut e = spec::validate("MessageCreateRequest", &body);
                e.extend(spec::check_message("", &body));
                e
            }
            _ => Vec::new(),
        }
    }

    /// `scripted` is false for the 429 that answers an early retry: Discord's doing, not the
    /// test's.
    fn fault_response(
        &self,
        rec: &Recorded,
        fault: Fault,
        scripted: bool,
    ) -> axum::response::Response {
        {
            let mut st = self.state();
            if scripted {
                st.injected
                    .push((fault, rec.method.clone(), rec.path.clone()));
            }
            if let Some(i) = callback_id(&rec.path).and_then(|id| st.interactions.get_mut(&id)) {
                i.callbacks.push(rec.clone());
            }
        }
        match fault {
            Fault::ServerError | Fault::ServerErrorAfterEffect => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"message": "500: Internal Server Error", "code": 0})),
            )
                .into_response(),
            Fault::RateLimited { retry_after } => {
                let until = Instant::now() + Duration::from_secs_f64(retry_after);
                self.state()
                    .limited_until
                    .insert((rec.method.clone(), rec.path.clone()), until);
                let reset = chrono::Utc::now().timestamp_millis() as f64 / 1000.0 + retry_after;
                let headers = [
                    ("retry-after", format!("{}", retry_after.ceil() as u64)),
                    ("x-ratelimit-limit", "5".to_string()),
                    ("x-ratelimit-remaining", "0".to_string()),
                    ("x-ratelimit-reset", format!("{reset:.3}")),
                    ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
                    ("x-ratelimit-bucket", "fake0bucket0hash".to_string()),
                    ("x-ratelimit-scope", "user".to_string()),
                ];
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({
                        "message": "You are being rate limited.",
                        "retry_after": retry_after,
                        "global": false,
                        "code": 0,
                    })),
                )
                    .into_response();
                for (name, value) in headers {
                    if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
                        response.headers_mut().insert(name, v);
                    }
                }
                response
            }
        }
    }

    fn note_callback_status(&self, rec: &Recorded, status: u16) {
        if let Some(id) = callback_id(&rec.path) {
            if let Some(i) = self.state().interactions.get_mut(&id) {
                i.callback_statuses.push(status);
            }
        }
    }
}

/// A path for a message, without the interaction or webhook token in it.
fn redact_token(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for (n, s) in segs.iter().enumerate() {
        let after = n >= 2 && matches!(segs[n - 2], "interactions" | "webhooks");
        out.push(if after { "[token]" } else { s });
    }
    out.join("/")
}
