//! Which records name a member, listed by member ([`Tree::Mentions`]), so that their export and
//! the deletion of their data read what they have instead of every record of the academy.
//!
//! Every batch the engine commits passes [`Engine::note_mentions`], which adds the entries for
//! what it writes. Records whose key ends in the member's id (participation, applications,
//! placements, sign-ups, answers to questions) are listed exactly: their entry goes and comes
//! with them. Records that name a member in their value (a round they started, a collaboration
//! they configured, a digest they composed, a meeting they planned, a lesson they took in, a
//! moderator action, a question they asked or answered) are listed when written naming them;
//! an entry may outlive the mention, so a reader checks the record. A member's answers and
//! votes are found through the collaborations they take part in, so an answer, the most
//! frequent write, adds no entry. Their lessons and the lessons they reviewed are in the lesson
//! index. Deleting their data removes every entry under their id.

use super::{decode, Engine, Failure};
use crate::domain::UserId;
use crate::store::{Batch, Tree};
use serde::Deserialize;

/// What kind of record an entry points to: the byte after the member's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Participant = 1,
    Application = 2,
    Placement = 3,
    SignUp = 4,
    QuestionAnswer = 5,
    Round = 10,
    Collaboration = 11,
    Digest = 12,
    Meeting = 13,
    Taken = 14,
    Audit = 15,
    Question = 16,
}

impl Kind {
    /// The kind of entry a record of `tree` gets, if any.
    fn of(tree: Tree) -> Option<Kind> {
        Some(match tree {
            Tree::Participants => Kind::Participant,
            Tree::Applications => Kind::Application,
            Tree::Placements => Kind::Placement,
            Tree::SignUps => Kind::SignUp,
            Tree::QuestionAnswers => Kind::QuestionAnswer,
            Tree::Rounds => Kind::Round,
            Tree::Collaborations => Kind::Collaboration,
            Tree::Digests => Kind::Digest,
            Tree::Meetings => Kind::Meeting,
            Tree::Taken => Kind::Taken,
            Tree::Audit => Kind::Audit,
            Tree::Questions => Kind::Question,
            _ => return None,
        })
    }

    /// Whether the record's key ends in the member's id.
    fn keyed_by_member(self) -> bool {
        (self as u8) < 10
    }
}

/// The trees whose records are listed, for the migration that lists those already stored.
const LISTED: [Tree; 12] = [
    Tree::Participants,
    Tree::Applications,
    Tree::Placements,
    Tree::SignUps,
    Tree::QuestionAnswers,
    Tree::Rounds,
    Tree::Collaborations,
    Tree::Digests,
    Tree::Meetings,
    Tree::Taken,
    Tree::Audit,
    Tree::Questions,
];

/// The fields of a record that name who acted; each tree has its own, the others stay empty.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Named {
    started_by: Option<UserId>,
    configured_by: Option<UserId>,
    composed_by: Option<UserId>,
    planned_by: Option<UserId>,
    by: Option<UserId>,
    actor: Option<UserId>,
    asker: Option<UserId>,
    harvest: Option<NamedHarvest>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct NamedHarvest {
    by: Option<UserId>,
    parts: Vec<NamedPart>,
}

#[derive(Deserialize)]
struct NamedPart {
    user: UserId,
}

fn entry(user: UserId, kind: Kind, key: &[u8]) -> Vec<u8> {
    [user.key().as_slice(), &[kind as u8], key].concat()
}

/// The member whose id ends `key`.
fn member_of(key: &[u8]) -> Option<UserId> {
    let at = key.len().checked_sub(8)?;
    Some(UserId(u64::from_be_bytes(key[at..].try_into().ok()?)))
}

/// The entries for a record of `tree` as written.
fn entries(tree: Tree, key: &[u8], value: &[u8]) -> Result<Vec<Vec<u8>>, Failure> {
    let Some(kind) = Kind::of(tree) else {
        return Ok(Default::default());
    };
    if kind.keyed_by_member() {
        let listed = member_of(key)
            .map(|user| entry(user, kind, key))
            .into_iter()
            .collect();
        return Ok(listed);
    }
    let named: Named = decode(tree, key, value)?;
    let users: Vec<UserId> = match kind {
        Kind::Round => named.started_by.into_iter().collect(),
        Kind::Collaboration => named.configured_by.into_iter().collect(),
        Kind::Digest => named.composed_by.into_iter().collect(),
        Kind::Meeting => named.planned_by.into_iter().collect(),
        Kind::Taken => named.by.into_iter().collect(),
        Kind::Audit => named.actor.into_iter().collect(),
        Kind::Question => {
            let harvest = named.harvest.unwrap_or_default();
            named
                .asker
                .into_iter()
                .chain(harvest.by)
                .chain(harvest.parts.iter().map(|p| p.user))
                .collect()
        }
        _ => Vec::new(),
    };
    let mut out: Vec<Vec<u8>> = users.into_iter().map(|u| entry(u, kind, key)).collect();
    out.sort();
    out.dedup();
    Ok(out)
}

impl Engine {
    /// Adds to `batch` the entries for the records it writes, and removes those of the records
    /// keyed by a member that it removes.
    pub(super) fn note_mentions(batch: &mut Batch) -> Result<(), Failure> {
        let mut more = Batch::new();
        for (tree, key, value) in batch.ops() {
            let Some(kind) = Kind::of(*tree) else {
                continue;
            };
            match value {
                Some(value) => {
                    for e in entries(*tree, key, value)? {
                        more.put(Tree::Mentions, e, Vec::new());
                    }
                }
                None if kind.keyed_by_member() => {
                    if let Some(user) = member_of(key) {
                        more.remove(Tree::Mentions, entry(user, kind, key));
                    }
                }
                None => {}
            }
        }
        for (tree, key, value) in more.ops() {
            match value {
                Some(v) => batch.put(*tree, key.clone(), v.clone()),
                None => batch.remove(*tree, key.clone()),
            }
        }
        Ok(())
    }

    /// The keys of the records of `kind` listed for `user`, in key order.
    fn mentioned(&self, user: UserId, kind: Kind) -> Result<Vec<Vec<u8>>, Failure> {
        let prefix = [user.key().as_slice(), &[kind as u8]].concat();
        Ok(self
            .store
            .scan_prefix(Tree::Mentions, &prefix)?
            .into_iter()
            .map(|(key, _)| key[prefix.len()..].to_vec())
            .collect())
    }

    /// The records of `tree` listed for `user` as `kind` that still exist, in key order.
    pub(super) fn mentioned_records<T: serde::de::DeserializeOwned>(
        &self,
        user: UserId,
        kind: Kind,
        tree: Tree,
    ) -> Result<Vec<(Vec<u8>, T)>, Failure> {
        let mut out = Vec::new();
        for key in self.mentioned(user, kind)? {
            if let Some(record) = self.load::<T>(tree, &key)? {
                out.push((key, record));
            }
        }
        Ok(out)
    }

    /// Removes every entry under `user`'s id.
    pub(super) fn forget_mentions(&self, batch: &mut Batch, user: UserId) -> Result<(), Failure> {
        for (key, _) in self.store.scan_prefix(Tree::Mentions, &user.key())? {
            batch.remove(Tree::Mentions, key);
        }
        Ok(())
    }

    /// Schema 4 → 5: lists the records already stored. Derived, so written in several batches;
    /// until the version moves on, a crash means the next open lists them again.
    pub(super) fn list_mentions(&self) -> Result<Batch, Failure> {
        const PER_BATCH: usize = 10_000;
        let mut batch = Batch::new();
        for tree in LISTED {
            for (key, value) in self.store.scan_prefix(tree, &[])? {
                for e in entries(tree, &key, &value)? {
                    batch.put(Tree::Mentions, e, Vec::new());
                }
                if batch.len() >= PER_BATCH {
                    self.commit(std::mem::take(&mut batch))?;
                }
            }
        }
        Ok(batch)
    }
}
