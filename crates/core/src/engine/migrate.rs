//! Upgrades a database written by an older version of the academy, on open, so people keep
//! everything they wrote when the academy is updated. One function per schema step; each
//! step is one batch that also records the new version, so a crash leaves the old version
//! or the new one, never a half-migrated database.

use super::{decode, encode, outbox, schedule::participant_key, Engine, Failure};
use crate::domain::{Answer, Lesson, Participant, Reminders, Round};
use crate::search::IndexBuilder;
use crate::store::{schema_version, Batch, Tree, SCHEMA_KEY, SCHEMA_VERSION};
use std::collections::BTreeMap;

impl Engine {
    /// Brings the database to [`SCHEMA_VERSION`]; returns the version it was found at.
    pub fn upgrade(&self) -> Result<u32, Failure> {
        let _guard = self.lock();
        let found = schema_version(self.store.as_ref())?;
        if found == 0 && self.store.is_empty()? {
            // A new database: nothing to migrate.
            let mut batch = Batch::new();
            batch.put(
                Tree::Meta,
                SCHEMA_KEY,
                SCHEMA_VERSION.to_be_bytes().to_vec(),
            );
            self.commit(batch)?;
            return Ok(SCHEMA_VERSION);
        }
        // Records without a version predate versioning and have the first version's layout.
        let mut version = found.max(1);
        while version < SCHEMA_VERSION {
            let mut batch = match version {
                1 => self.participants_from_answers()?,
                2 => self.index_as_posting_lists()?,
                3 => self.index_with_reviews()?,
                4 => self.list_mentions()?,
                5 => self.outbox_as_stored_messages()?,
                6 => self.index_with_collaboration_months()?,
                7 => self.index_with_review_instants()?,
                other => {
                    return Err(Failure::Internal(anyhow::anyhow!(
                        "no migration from schema {other}"
                    )))
                }
            };
            version += 1;
            batch.put(Tree::Meta, SCHEMA_KEY, version.to_be_bytes().to_vec());
            self.commit(batch)?;
            tracing::info!("database migrated to schema {version}");
        }
        Ok(found)
    }

    /// Schema 1 → 2: who takes part in a collaboration became a record of its own (for
    /// reminders). Everyone who answered a round before then becomes a participant of that
    /// round's collaboration, reminded in the channel, as new participants are.
    fn participants_from_answers(&self) -> Result<Batch, Failure> {
        let mut channels = BTreeMap::new();
        for (key, bytes) in self.store.scan_prefix(Tree::Rounds, &[])? {
            let round: Round = decode(Tree::Rounds, &key, &bytes)?;
            channels.insert(round.id, round.channel);
        }
        let mut batch = Batch::new();
        for (key, bytes) in self.store.scan_prefix(Tree::Answers, &[])? {
            let answer: Answer = decode(Tree::Answers, &key, &bytes)?;
            let Some(channel) = channels.get(&answer.round).copied() else {
                continue;
            };
            let pkey = participant_key(channel, answer.user);
            if batch.pending(Tree::Participants, &pkey).is_some()
                || self.store.get(Tree::Participants, &pkey)?.is_some()
            {
                continue;
            }
            let participant = Participant {
                channel,
                user: answer.user,
                name: answer.name,
                reminders: Reminders::Channel,
            };
            batch.put(Tree::Participants, pkey, encode(&participant)?);
        }
        Ok(batch)
    }

    /// Schema 5 → 6: the outbox kept the engine's reply, attachments as arrays of numbers; it
    /// keeps a stored message of its own, attachments as base64. Every waiting message is read
    /// (the stored form reads schema 5's too) and written in the new form, so a build of schema
    /// 5 refuses the database rather than skipping messages it could no longer read.
    fn outbox_as_stored_messages(&self) -> Result<Batch, Failure> {
        let mut batch = Batch::new();
        for (key, bytes) in self.store.scan_prefix(Tree::Outbox, &[])? {
            // One no build could read stays as it is: the outbox skips it, as before.
            match outbox::decode(&key, &bytes) {
                Ok(message) => batch.put(Tree::Outbox, key, outbox::encode(&message)?),
                Err(e) => tracing::error!("left an unreadable outgoing message as it was: {e}"),
            }
        }
        Ok(batch)
    }

    /// Schema 6 → 7: the lesson index also keeps a list per collaboration, learning order and
    /// month, and one per month of review, so `/gezondheid` and the review queue count a
    /// period's lessons from that period's lists. Built again from
    /// the lessons, as for schema 3.
    fn index_with_collaboration_months(&self) -> Result<Batch, Failure> {
        self.rebuild_index()
    }

    /// Schema 7 → 8: the lesson index also keeps the instant each approved lesson was last
    /// approved or confirmed, built again from the lessons, and the applications already
    /// stored are listed in time order (`applied_at.rs`), so the review queue reads neither a
    /// lesson nor an application from before its period.
    fn index_with_review_instants(&self) -> Result<Batch, Failure> {
        self.rebuild_index()?;
        self.list_applications()
    }

    /// Schema 3 → 4: the lesson index also keeps who reviewed each lesson and the day an
    /// approved lesson was last approved or confirmed, so a member's export and the review
    /// queue need not read every lesson. Built again from the lessons, as for schema 3.
    fn index_with_reviews(&self) -> Result<Batch, Failure> {
        self.rebuild_index()
    }

    /// Schema 2 → 3: the lesson index keeps one posting list per word and facet instead of one
    /// key per lesson and word.
    fn index_as_posting_lists(&self) -> Result<Batch, Failure> {
        self.rebuild_index()
    }

    /// The index is derived, so it is cleared and built again from the lessons. That takes
    /// several batches; until the version moves on, a crash just means the next open starts
    /// the rebuild over.
    fn rebuild_index(&self) -> Result<Batch, Failure> {
        const PER_BATCH: usize = 10_000;
        let mut batch = Batch::new();
        for (key, _) in self.store.scan_prefix(Tree::LessonIndex, &[])? {
            batch.remove(Tree::LessonIndex, key);
            if batch.len() >= PER_BATCH {
                self.commit(std::mem::take(&mut batch))?;
            }
        }
        self.commit(batch)?;
        let mut index = IndexBuilder::default();
        for (key, bytes) in self.store.scan_prefix(Tree::Lessons, &[])? {
            index.add(&decode::<Lesson>(Tree::Lessons, &key, &bytes)?);
        }
        index.write(self.store.as_ref(), PER_BATCH)?;
        Ok(Batch::new())
    }
}
