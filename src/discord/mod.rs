//! The Discord adapter: `academie serve` connects the engine to Discord with serenity.
//!
//! Slash commands, buttons and forms become engine requests; replies become messages. Nothing
//! here decides what the academy does. The connection can be pointed at another base URL (a
//! rate-limiting proxy in production, a fake Discord in tests) with `discord.proxy_url`.

pub mod custom_id;
mod forms;
mod handler;
pub mod limits;
pub mod register;
pub mod render;
mod respond;
mod retry;
mod scheduled;
pub mod split;

use crate::config::{Secret, Settings};
use crate::domain::Lang;
use crate::engine::Engine;
use anyhow::{anyhow, Context as _, Result};
use serenity::all::{ClientBuilder, GatewayIntents, HttpBuilder};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How long an interaction may take before it is deferred; Discord allows three seconds.
pub const DEFER_AFTER: Duration = Duration::from_millis(1500);
/// How often scheduled work runs and the outbox is delivered.
pub const TICK: Duration = Duration::from_secs(20);
/// How long shutdown waits for interactions in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What `serve` needs, validated.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub token: Secret,
    /// Base URL replacing `https://discord.com`, for a proxy or a fake Discord.
    pub proxy_url: Option<String>,
    /// Servers to register commands in; empty means globally.
    pub guilds: Vec<u64>,
    /// The Discord role (by id) whose members moderate, besides Manage Server.
    pub moderator_role: Option<u64>,
    /// The language for users whose client sends no locale.
    pub default_lang: Lang,
    /// When to defer an interaction whose work is still running; zero defers every one.
    pub defer_after: Duration,
    /// How often deadlines and reminders are checked and waiting messages sent.
    pub tick: Duration,
    /// The academy-wide questions channel when it is a forum: questions become posts there.
    pub questions_forum: Option<u64>,
}

impl ServeOptions {
    /// Reads the Discord settings; without a token, says how to get one and that the console
    /// works without.
    pub fn from_settings(settings: &Settings) -> Result<ServeOptions> {
        let token = settings.discord.token.clone().ok_or_else(|| {
            anyhow!(
                "geen Discord-token ingesteld / no Discord token configured.\n\
                 Maak een bot aan op https://discord.com/developers/applications (Bot → Reset Token) \
                 en zet het token in de omgevingsvariabele DISCORD_TOKEN of in [discord] token.\n\
                 Create a bot at https://discord.com/developers/applications (Bot → Reset Token) and \
                 put its token in the DISCORD_TOKEN environment variable or in [discord] token.\n\
                 Zonder token werkt `academie console` / without a token, `academie console` works."
            )
        })?;
        let moderator_role = match &settings.moderator_role {
            None => None,
            Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
                anyhow!(
                    "academy.moderator_role must be the numeric id of a Discord role \
                     (Server Settings → Roles → … → Copy Role ID), found {text:?}"
                )
            })?),
        };
        Ok(ServeOptions {
            token,
            proxy_url: settings.discord.proxy_url.clone(),
            guilds: settings.discord.guilds.clone(),
            moderator_role,
            default_lang: settings.language,
            defer_after: DEFER_AFTER,
            tick: TICK,
            questions_forum: settings
                .discord
                .questions_channel
                .filter(|_| settings.discord.questions_forum),
        })
    }
}

/// Connects to Discord and answers interactions until `shutdown` completes; then finishes the
/// interactions in flight, flushes the store and closes the connection.
pub async fn serve(
    engine: Arc<Engine>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let mut http = HttpBuilder::new(options.token.expose());
    if let Some(url) = &options.proxy_url {
        // serenity's rate limiter ignores the proxy, so it is off behind one: the proxy (or
        // the fake) is what limits.
        http = http
            .proxy(url.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let http = http.build();
    let base = options
        .proxy_url
        .clone()
        .unwrap_or_else(|| "https://discord.com".into());
    let gateway = gateway_url(&http, &base).await?;
    let options = Arc::new(options);
    let handler = Arc::new(handler::Handler::new(engine.clone(), options.clone()));
    // Interactions arrive without any intent; GUILDS is the smallest non-privileged one.
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler_arc(handler.clone())
        .await
        .context("cannot set up the Discord client")?;
    // serenity asks for the gateway again while it builds the client, and on any failure dials
    // wss://gateway.discord.gg, whatever base URL is configured; the address asked above,
    // from the configured base, is the one every (re)connection uses.
    *client.ws_url.lock().await = gateway;
    let shards = client.shard_manager.clone();
    // Deadlines that passed while the bot was down are handled at the first tick.
    let ticker = tokio::spawn(scheduled::run(
        engine.clone(),
        client.http.clone(),
        options.tick,
        options.questions_forum,
    ));
    let mut running = tokio::spawn(async move { client.start().await });

    tokio::select! {
        result = &mut running => {
            return match result {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) if token_rejected(&e) => Err(anyhow!(TOKEN_REJECTED)),
                Ok(Err(e)) => Err(anyhow!("the Discord connection ended: {}", redact(&e.to_string()))),
                Err(e) => Err(anyhow!("the Discord client stopped: {e}")),
            };
        }
        () = shutdown => {}
    }
    tracing::info!("shutting down: finishing the interactions in flight");
    handler.closing.store(true, Ordering::SeqCst);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, handler.in_flight.drained())
        .await
        .is_ok();
    if !drained {
        tracing::warn!("some interactions were still running at shutdown");
    }
    ticker.abort();
    // A deletion confirmed just before is erased from the files before the process ends, as
    // its reply promised; the message saying so is delivered after the next start.
    let e = engine.clone();
    if let Err(e) = tokio::task::spawn_blocking(move || e.finish_erasures()).await {
        tracing::error!("the pending deletions could not be finished: {e}");
    }
    // Last: the next start then writes only the pages its changes touch; not while an
    // interaction may still be changing them.
    let e = engine.clone();
    let left = tokio::task::spawn_blocking(move || {
        if drained {
            e.leave_site();
        } else {
            e.forget_site();
        }
    });
    if let Err(e) = left.await {
        tracing::error!("the site's state could not be left for the next start: {e}");
    }
    engine.flush().map_err(|f| match f {
        // Kept whole, so the caller can tell a full disk from other failures.
        crate::engine::Failure::Internal(e) => e,
        refused => anyhow!("{refused}"),
    })?;
    shards.shutdown_all().await;
    // An event that arrived just before the shards closed is still answered (with "restarting").
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, handler.in_flight.drained()).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), running).await;
    tracing::info!("stopped");
    Ok(())
}

/// What `serve` says, and ends with, when Discord refuses the token: at the first request, or
/// when the gateway closes with "authentication failed".
pub const TOKEN_REJECTED: &str = "Discord weigert het token: maak op \
    https://discord.com/developers/applications een nieuw token aan (Bot → Reset Token) en zet \
    het in DISCORD_TOKEN of in [discord] token.\n\
    Discord rejected the token: create a new one at \
    https://discord.com/developers/applications (Bot → Reset Token) and put it in DISCORD_TOKEN \
    or in [discord] token.";

/// How often the first requests are tried when Discord (or the configured base URL) does not
/// answer, and the wait before the second try; each further wait doubles (1 + 2 + 4 + 8 s).
const CONNECT_ATTEMPTS: u32 = 5;
const CONNECT_FIRST_WAIT: Duration = Duration::from_secs(1);

/// Whether Discord refused the token: a 401 to a request, or the gateway's close code 4004.
fn token_rejected(e: &serenity::Error) -> bool {
    use serenity::gateway::GatewayError;
    use serenity::http::HttpError;
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => r.status_code.as_u16() == 401,
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => true,
        _ => false,
    }
}

/// Asks the configured base URL where the gateway is, and whether the token is accepted
/// (`GET /users/@me`: Discord may answer `GET /gateway` without looking at the token), before
/// anything else. A refused token ends `serve` with [`TOKEN_REJECTED`]; a base that does not
/// answer is tried a few times, then `serve` ends saying so. Nothing falls back to discord.com.
async fn gateway_url(http: &serenity::http::Http, base: &str) -> Result<String> {
    let mut wait = CONNECT_FIRST_WAIT;
    let mut attempt = 1;
    loop {
        let asked = async {
            let url = http.get_gateway().await?.url;
            http.get_current_user().await?;
            Ok::<_, serenity::Error>(url)
        }
        .await;
        match asked {
            Ok(url) => return Ok(url),
            Err(e) if token_rejected(&e) => return Err(anyhow!(TOKEN_REJECTED)),
            Err(e) if retry::transient(&e) && attempt < CONNECT_ATTEMPTS => {
                tracing::warn!(
                    attempt,
                    "Discord at {base} does not answer, trying again in {} s: {}",
                    wait.as_secs(),
                    redact(&e.to_string())
                );
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            Err(e) => {
                return Err(anyhow!(
                    "Discord op {base} antwoordt niet zoals verwacht: {detail}\n\
                     Discord at {base} does not answer as expected: {detail}",
                    detail = redact(&e.to_string())
                ))
            }
        }
    }
}

/// Removes interaction and webhook tokens from text bound for the log: HTTP errors name the URL,
/// and those URLs carry the token that lets anyone answer as the bot.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["/interactions/", "/webhooks/"]
        .iter()
        .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
        .min()
    {
        let (i, len) = at;
        let after = i + len;
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        // The id segment stays; the token segment after it goes.
        let id_end = rest.find('/').unwrap_or(rest.len());
        out.push_str(&rest[..id_end]);
        rest = &rest[id_end..];
        if let Some(tail) = rest.strip_prefix('/') {
            let token_end = tail
                .find(|c: char| c == '/' || c == '?' || c == ')' || c.is_whitespace())
                .unwrap_or(tail.len());
            out.push_str("/[token]");
            rest = &tail[token_end..];
        }
    }
    out.push_str(rest);
    out
}

/// Resolves on SIGINT or SIGTERM.
pub async fn signals() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn tokens_in_urls_are_redacted() {
        let e = "error sending request for url (http://127.0.0.1:1/api/v10/interactions/42/aW50ZXJhY3Rpb24/callback): refused";
        let r = redact(e);
        assert!(!r.contains("aW50ZXJhY3Rpb24"), "{r}");
        assert!(r.contains("/interactions/42/[token]/callback"), "{r}");
        let w = redact(
            "PATCH /api/v10/webhooks/1/SECRET-TOKEN/messages/@original and /webhooks/2/OTHER",
        );
        assert!(!w.contains("SECRET-TOKEN") && !w.contains("OTHER"), "{w}");
        assert_eq!(redact("nothing to hide"), "nothing to hide");
    }
}
