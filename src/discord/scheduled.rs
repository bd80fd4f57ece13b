//! Delivers what the academy says on its own — a round revealed at its deadline, a reminder —
//! from the engine's outbox to Discord, and runs scheduled work at a steady tick.
//!
//! A message leaves the outbox only after Discord accepted it, so a crash or an outage delays
//! it rather than losing it; the price is that a message may, rarely, arrive twice.

use super::render;
use super::respond::{embed, keep_searches, render_with_ids, rows};
use super::retry::retry;
use crate::domain::MeetingPlace;
use crate::engine::{Engine, Outgoing, Recipient};
use serenity::all::{
    CreateAllowedMentions, CreateAttachment, CreateForumPost, CreateMessage, CreateScheduledEvent,
    GuildId, Http, Nonce, ScheduledEventType,
};
use std::sync::Arc;
use std::time::Duration;

/// Runs due jobs and delivers the outbox every `tick`, until the task is stopped.
pub(super) async fn run(
    engine: Arc<Engine>,
    http: Arc<Http>,
    tick: Duration,
    questions_forum: Option<u64>,
) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let e = engine.clone();
        match tokio::task::spawn_blocking(move || e.run_due()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(jobs = n, "ran scheduled work"),
            Ok(Err(e)) => tracing::error!("scheduled work failed: {e}"),
            Err(e) => tracing::error!("scheduled work stopped: {e}"),
        }
        let e = engine.clone();
        let waiting = match tokio::task::spawn_blocking(move || e.outbox().waiting()).await {
            Ok(Ok(w)) => w,
            Ok(Err(e)) => {
                tracing::error!("cannot read the outbox: {e}");
                continue;
            }
            Err(e) => {
                tracing::error!("cannot read the outbox: {e}");
                continue;
            }
        };
        for message in waiting {
            let id = message.id;
            let result = match message.to {
                Recipient::Event(meeting) => schedule_event(&engine, &http, meeting).await,
                Recipient::Channel(c) if Some(c.0) == questions_forum => {
                    forum_post(&engine, &http, &message).await
                }
                _ => deliver(&engine, &http, &message).await,
            };
            let e = engine.clone();
            let done = tokio::task::spawn_blocking(move || match result {
                Ok(()) => e.outbox().delivered(id),
                Err((sent, err)) => {
                    tracing::warn!(
                        id,
                        "could not deliver a message: {}",
                        super::redact(&err.to_string())
                    );
                    e.outbox().parts_delivered(id, sent)?;
                    if permanent(&err) {
                        e.outbox().failed(id)
                    } else {
                        Ok(())
                    }
                }
            })
            .await;
            if let Ok(Err(e)) = done {
                tracing::error!("cannot update the outbox: {e}");
            }
        }
    }
}

/// Whether Discord refused the message itself (a 4xx other than a rate limit), so trying again
/// would not help; anything else (network, 5xx, 429) is worth another try.
fn permanent(err: &serenity::Error) -> bool {
    match err {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
            r.status_code.is_client_error() && r.status_code.as_u16() != 429
        }
        serenity::Error::Model(_) => true,
        _ => false,
    }
}

/// Sends the parts not yet sent; on failure, says how many parts are now delivered.
async fn deliver(
    engine: &Arc<Engine>,
    http: &Http,
    message: &Outgoing,
) -> Result<(), (usize, serenity::Error)> {
    let mut sent = message.parts_sent;
    let channel = match message.to {
        Recipient::Channel(c) => serenity::all::ChannelId::new(c.0.max(1)),
        // Events take their own way; one arriving here has nothing to post.
        Recipient::Event(_) => return Ok(()),
        Recipient::User(u) => {
            let user = serenity::all::UserId::new(u.0.max(1));
            retry("opening a direct message", None, || {
                user.create_dm_channel(http)
            })
            .await
            .map_err(|e| (sent, e))?
            .id
        }
    };
    let rendered = rendered(engine, message).await;
    for (part, m) in rendered.into_iter().enumerate().skip(message.parts_sent) {
        // The same part of the same outbox message always has the same nonce, and Discord
        // returns the existing message for it instead of posting again: a retry after a
        // response we never read, or a restart before the outbox was cleared, posts once.
        let mut msg = CreateMessage::new()
            .embeds(m.embeds.iter().map(embed).collect())
            .components(rows(&m))
            .allowed_mentions(CreateAllowedMentions::new())
            .nonce(Nonce::String(format!("academie-{}-{part}", message.id)))
            .enforce_nonce(true);
        for a in &m.attachments {
            msg = msg.add_file(CreateAttachment::bytes(a.bytes.clone(), a.filename.clone()));
        }
        retry("a message from the outbox", None, || {
            channel.send_message(http, msg.clone())
        })
        .await
        .map_err(|e| (sent, e))?;
        sent += 1;
    }
    Ok(())
}

/// Puts a meeting in its server's calendar as a scheduled event: in its voice channel, or at
/// its address. Discord gives no way to make this idempotent, so a retry after an answer that
/// never arrived may make the event twice; the event's id is kept with the meeting.
async fn schedule_event(
    engine: &Arc<Engine>,
    http: &Http,
    meeting: crate::domain::MeetingId,
) -> Result<(), (usize, serenity::Error)> {
    let e = engine.clone();
    let plan = match tokio::task::spawn_blocking(move || e.event_plan(meeting)).await {
        Ok(Ok(Some(plan))) => plan,
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(err)) => {
            tracing::error!("cannot plan the event of {meeting}: {err}");
            return Ok(());
        }
        Err(err) => {
            tracing::error!("cannot plan the event of {meeting}: {err}");
            return Ok(());
        }
    };
    let mut event = match &plan.place {
        MeetingPlace::Voice(c) => {
            CreateScheduledEvent::new(ScheduledEventType::Voice, &plan.name, plan.starts)
                .channel_id(serenity::all::ChannelId::new(c.0.max(1)))
        }
        MeetingPlace::Address(a) => {
            CreateScheduledEvent::new(ScheduledEventType::External, &plan.name, plan.starts)
                .location(a)
        }
    };
    event = event.end_time(plan.ends).description(&plan.description);
    let guild = GuildId::new(plan.server.0.max(1));
    let made = retry("a scheduled event", None, || {
        guild.create_scheduled_event(http, event.clone())
    })
    .await
    .map_err(|e| (0, e))?;
    let e = engine.clone();
    let id = made.id.get();
    match tokio::task::spawn_blocking(move || e.event_created(meeting, id)).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::error!("cannot record the event of {meeting}: {err}"),
        Err(err) => tracing::error!("cannot record the event of {meeting}: {err}"),
    }
    Ok(())
}

/// Posts a question in the academy's forum channel: a post of its own, titled by the question,
/// with the rest of a long message following in that post.
async fn forum_post(
    engine: &Arc<Engine>,
    http: &Http,
    message: &Outgoing,
) -> Result<(), (usize, serenity::Error)> {
    let rendered = rendered(engine, message).await;
    let Some((first, rest)) = rendered.split_first() else {
        return Ok(());
    };
    let name = render::clip(
        message.reply.title.as_deref().unwrap_or("…"),
        super::limits::THREAD_NAME,
    );
    let build = |m: &render::Message| {
        CreateMessage::new()
            .embeds(m.embeds.iter().map(embed).collect())
            .components(rows(m))
            .allowed_mentions(CreateAllowedMentions::new())
    };
    let forum = serenity::all::ChannelId::new(message_channel(message).max(1));
    let post = retry("a forum post", None, || {
        forum.create_forum_post(http, CreateForumPost::new(name.clone(), build(first)))
    })
    .await
    .map_err(|e| (0, e))?;
    for m in rest {
        retry("a forum post", None, || {
            post.id.send_message(http, build(m))
        })
        .await
        .map_err(|e| (1, e))?;
    }
    Ok(())
}

/// The message rendered, its long searches kept first (off the async threads, as that writes
/// to the store) so its buttons find them once it is out.
async fn rendered(engine: &Arc<Engine>, message: &Outgoing) -> Vec<render::Message> {
    let (messages, long) = render_with_ids(&message.reply);
    if !long.is_empty() {
        let e = engine.clone();
        if let Err(err) = tokio::task::spawn_blocking(move || keep_searches(&e, &long)).await {
            tracing::error!("could not keep a long search: {err}");
        }
    }
    messages
}

fn message_channel(message: &Outgoing) -> u64 {
    match message.to {
        Recipient::Channel(c) => c.0,
        _ => 0,
    }
}
