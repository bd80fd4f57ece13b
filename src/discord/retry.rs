//! Trying a Discord request again when it failed for a passing reason (a rate limit, a server
//! error, a broken connection), a few times and within a deadline, so that a hiccup at Discord
//! does not lose the answer to a user or part of it.
//!
//! serenity retries nothing itself once its rate limiter is off (behind a proxy), and its error
//! keeps the status and Discord's JSON error but not `retry_after` or the rate-limit headers, so
//! the waits here are fixed and doubling, starting at [`FIRST_WAIT`].

use serenity::http::HttpError;
use std::future::Future;
use std::time::{Duration, Instant};

/// The wait before the first retry; each further wait doubles.
pub(super) const FIRST_WAIT: Duration = Duration::from_millis(250);
/// Tries in all, the first included: waits of 0.25, 0.5 and 1 s.
const ATTEMPTS: u32 = 4;
/// Discord's "Interaction has already been acknowledged.": a callback that failed on our side
/// but reached Discord, tried again.
const ALREADY_ACKNOWLEDGED: isize = 40060;

/// Whether trying again may succeed: a rate limit, a server error or no answer at all.
pub(super) fn transient(err: &serenity::Error) -> bool {
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            r.status_code.as_u16() == 429 || r.status_code.is_server_error()
        }
        serenity::Error::Http(HttpError::Request(_)) => true,
        _ => false,
    }
}

/// Whether Discord says what the request would act on is not there (404).
pub(super) fn gone(err: &serenity::Error) -> bool {
    matches!(
        err,
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) if r.status_code.as_u16() == 404
    )
}

/// Whether Discord says the interaction already has its first response.
pub(super) fn already_acknowledged(err: &serenity::Error) -> bool {
    matches!(
        err,
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r))
            if r.error.code == ALREADY_ACKNOWLEDGED
    )
}

/// Runs `request` until it succeeds, fails for good, the tries run out, or the next wait would
/// end after `deadline`.
pub(super) async fn retry<T, F, Fut>(
    what: &str,
    deadline: Option<Instant>,
    mut request: F,
) -> serenity::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = serenity::Result<T>>,
{
    let mut wait = FIRST_WAIT;
    let mut attempt = 1;
    loop {
        match request().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let in_time = deadline.is_none_or(|d| Instant::now() + wait < d);
                if attempt >= ATTEMPTS || !transient(&e) || !in_time {
                    return Err(e);
                }
                tracing::warn!(
                    attempt,
                    "{what} failed, trying again in {} ms: {}",
                    wait.as_millis(),
                    super::redact(&e.to_string())
                );
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
        }
    }
}
