//! Logging to standard error that never carries a secret or a member's words, whatever
//! `RUST_LOG` asks for.
//!
//! The libraries below the academy log what passes through them: at debug and trace, serenity's
//! request spans hold interaction tokens and message bodies, tungstenite logs every gateway
//! frame (the Identify with the bot token, interactions with their token and the answers typed
//! in a form), and sled logs the keys and values it writes. So the academy's own events follow
//! `RUST_LOG`, and every library is held to warnings and errors; serenity's gateway reader not
//! even to warnings, since its warning about a frame it cannot read quotes the whole frame.
//! Every line is then scrubbed of the bot token and of interaction and webhook tokens, for the
//! messages that pass anyway (an error that names a URL).

use std::io::Write;
use std::sync::Arc;
use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// What is logged when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "academie=warn,warn";

/// The most each target may log, whatever `RUST_LOG` says.
pub fn ceiling() -> Targets {
    Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("academie", LevelFilter::TRACE)
        .with_target("serenity::gateway::ws", LevelFilter::ERROR)
}

/// Installs the logger: `RUST_LOG` (or [`DEFAULT_FILTER`]) within [`ceiling`], to standard error,
/// with `secrets` (the bot token) and tokens in URLs and fields removed from every line.
pub fn init(secrets: Vec<String>) {
    let wanted = EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into());
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(Scrubbed {
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
        })
        .with_filter(wanted.and(ceiling()));
    // A second logger (in tests) is refused; the first one stays.
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// Writes each event to standard error once it is complete, scrubbed.
#[derive(Clone)]
struct Scrubbed {
    secrets: Arc<[String]>,
}

impl<'a> MakeWriter<'a> for Scrubbed {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            secrets: self.secrets.clone(),
            text: Vec::new(),
        }
    }
}

/// One event's text, collected until the formatter is done with it.
struct Line {
    secrets: Arc<[String]>,
    text: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = scrub(&String::from_utf8_lossy(&self.text), &self.secrets);
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// `text` without the given secrets, without the token segment of interaction and webhook
/// URLs, and without the value of any field named like a token.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = crate::discord::redact(text);
    for secret in secrets {
        out = out.replace(secret.as_str(), "[token]");
    }
    token_fields(&out)
}

/// Hides the value after `token` in the shapes a log line carries it: `"token":"…"` (JSON),
/// `token: "…"` (Debug), `token=…` (span fields); `interaction_token` included.
fn token_fields(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.to_ascii_lowercase().find("token") {
        let after = at + "token".len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        // Optional closing quote of a JSON key, spaces, then `:` or `=`.
        let head = rest.strip_prefix('"').unwrap_or(rest).trim_start();
        let Some(head) = head.strip_prefix([':', '=']) else {
            continue;
        };
        let head = head.trim_start();
        let (quoted, value) = match head.strip_prefix('"') {
            Some(v) => (true, v),
            None => (false, head),
        };
        let end = if quoted {
            // Up to the closing quote, past escaped ones.
            let mut escaped = false;
            value
                .char_indices()
                .find(|&(_, c)| {
                    let close = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    close
                })
                .map_or(value.len(), |(i, _)| i)
        } else {
            value
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | ')' | ']' | ';'))
                .unwrap_or(value.len())
        };
        if end == 0 {
            continue;
        }
        let skipped = rest.len() - value.len();
        out.push_str(&rest[..skipped]);
        out.push_str("[token]");
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn tokens_leave_every_shape_a_log_line_has() {
        let secrets = vec!["MTAx.bot.secret".to_string()];
        for (line, gone) in [
            (r#"{"op":2,"d":{"token":"Bot MTAx.bot.secret"}}"#, "MTAx"),
            (r#"{"token":"aW50ZXJhY3Rpb246MQ","type":3}"#, "aW50ZX"),
            ("interaction_token=\"aW50ZXJhY3Rpb246MQ\" id=1", "aW50ZX"),
            (
                "create_interaction_response{interaction_token=aW50ZXJhY3Rpb246MQ}",
                "aW50ZX",
            ),
            (
                "Interaction { token: \"aW50ZXJhY3Rpb246MQ\", id: 1 }",
                "aW50ZX",
            ),
            (
                "POST /api/v10/webhooks/1/aW50ZXJhY3Rpb246MQ/messages/@original",
                "aW50ZX",
            ),
            ("Authorization: Bot MTAx.bot.secret", "MTAx"),
        ] {
            let clean = scrub(line, &secrets);
            assert!(!clean.contains(gone), "{line} → {clean}");
            assert!(clean.contains("[token]"), "{line} → {clean}");
        }
        assert_eq!(
            scrub("tokens of appreciation", &secrets),
            "tokens of appreciation"
        );
    }
}
