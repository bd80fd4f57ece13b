//! Where "now" comes from: injected, so tests (and the binary's fast-clock mode) decide the
//! time every deadline and schedule is measured against.

use chrono::{DateTime, Utc};

/// The source of "now", so tests can control time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock for tests of the whole binary: it starts at the real time and runs `speed` times as
/// fast, so a deadline an hour ahead falls due after a second while every scheduled job still
/// takes the path it takes in production.
#[derive(Debug)]
pub struct FastClock {
    start: DateTime<Utc>,
    started: std::time::Instant,
    speed: u32,
}

impl FastClock {
    pub fn starting_now(speed: u32) -> FastClock {
        FastClock {
            start: Utc::now(),
            started: std::time::Instant::now(),
            speed: speed.max(1),
        }
    }
}

impl Clock for FastClock {
    fn now(&self) -> DateTime<Utc> {
        let passed = self.started.elapsed() * self.speed;
        chrono::Duration::from_std(passed)
            .ok()
            .and_then(|d| self.start.checked_add_signed(d))
            .unwrap_or(self.start)
    }
}
