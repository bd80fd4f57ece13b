//! The outbox: what the academy says when nobody asked (a reveal at its deadline, a reminder,
//! a question passed on), kept until an adapter reports it delivered, so nothing the academy
//! decided to say is lost. Messages are added in the batch of the change that says them; the
//! adapter that delivers them reads and settles them through [`Outbox`], the only way in from
//! outside the engine. How a message is stored is this module's own ([`stored`]).

mod stored;

pub(super) use stored::{decode, encode, OutboxRecord};

use super::{Engine, Failure};
use crate::domain::{ChannelId, MeetingId, UserId};
use crate::reply::Reply;
use crate::store::{Batch, Tree};
use serde::{Deserialize, Serialize};

/// Where an outgoing message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    Channel(ChannelId),
    User(UserId),
    /// The meeting's server, as a scheduled event made from [`Engine::event_plan`]; the reply
    /// holds the meeting's announcement for an adapter without events.
    Event(MeetingId),
}

/// A message the academy sends on its own, kept until delivered. Stored as an
/// [`OutboxRecord`], not as the reply itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub id: u64,
    pub to: Recipient,
    pub reply: Reply,
    /// Permanent delivery failures so far (Discord refused the message itself).
    pub failures: u32,
    /// Messages of a long reply already delivered, so a retry does not send them twice.
    pub parts_sent: usize,
}

/// A message Discord refuses outright this many times is given up (and logged); temporary
/// failures (an outage, a rate limit) are retried for as long as they last.
const MAX_FAILURES: u32 = 3;

/// The outbox as the adapter that delivers its messages sees it: [`Engine::outbox`].
pub struct Outbox<'e> {
    engine: &'e Engine,
}

impl Engine {
    /// The messages waiting to be delivered, and how their delivery is reported.
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox { engine: self }
    }

    /// Adds a message to the outbox in `batch`.
    pub(super) fn send_later(
        &self,
        batch: &mut Batch,
        to: Recipient,
        reply: Reply,
    ) -> Result<(), Failure> {
        let id = self.next_id(batch, "outgoing")?;
        let out = Outgoing {
            id,
            to,
            reply,
            failures: 0,
            parts_sent: 0,
        };
        batch.put(Tree::Outbox, id.to_be_bytes().to_vec(), encode(&out)?);
        Ok(())
    }
}

impl Outbox<'_> {
    /// Messages waiting to be delivered, oldest first. An unreadable entry is logged and
    /// skipped, so it never holds up the others.
    pub fn waiting(&self) -> Result<Vec<Outgoing>, Failure> {
        let mut out = Vec::new();
        for (key, value) in self.engine.store.scan_prefix(Tree::Outbox, &[])? {
            match decode(&key, &value) {
                Ok(m) => out.push(m),
                Err(e) => tracing::error!("skipped an unreadable outgoing message: {e}"),
            }
        }
        Ok(out)
    }

    fn outgoing(&self, id: u64) -> Result<Option<Outgoing>, Failure> {
        let key = id.to_be_bytes();
        match self.engine.store.get(Tree::Outbox, &key)? {
            None => Ok(None),
            Some(bytes) => decode(&key, &bytes).map(Some),
        }
    }

    /// Records that the first `parts` messages of a long reply were delivered.
    pub fn parts_delivered(&self, id: u64, parts: usize) -> Result<(), Failure> {
        let _guard = self.engine.lock();
        let key = id.to_be_bytes();
        let Some(mut out) = self.outgoing(id)? else {
            return Ok(());
        };
        out.parts_sent = out.parts_sent.max(parts);
        let mut batch = Batch::new();
        batch.put(Tree::Outbox, key.to_vec(), encode(&out)?);
        self.engine.commit(batch)
    }

    /// Removes a delivered message from the outbox.
    pub fn delivered(&self, id: u64) -> Result<(), Failure> {
        let mut batch = Batch::new();
        batch.remove(Tree::Outbox, id.to_be_bytes().to_vec());
        self.engine.commit(batch)
    }

    /// Counts a delivery Discord refused outright; after a few, the message is given up.
    /// Temporary failures are not counted: the message simply waits for the next try.
    pub fn failed(&self, id: u64) -> Result<(), Failure> {
        let _guard = self.engine.lock();
        let key = id.to_be_bytes();
        let Some(mut out) = self.outgoing(id)? else {
            return Ok(());
        };
        out.failures += 1;
        let mut batch = Batch::new();
        if out.failures >= MAX_FAILURES {
            tracing::error!(
                id,
                "gave up delivering a message after {MAX_FAILURES} attempts"
            );
            batch.remove(Tree::Outbox, key.to_vec());
        } else {
            batch.put(Tree::Outbox, key.to_vec(), encode(&out)?);
        }
        self.engine.commit(batch)
    }
}
