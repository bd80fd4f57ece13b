//! The academy's vocabulary and stored records, free of any storage engine or chat platform.
//!
//! `vocab` holds the fixed concepts of the essay (steps, perspectives, learning orders, government
//! layers) and the people acting; `ids` the typed identifiers; `records` the shapes kept on disk;
//! `exchange` those of learning across collaborations (sharing, questions, meetings).

pub mod exchange;
pub mod ids;
pub mod records;
pub mod vocab;

pub use exchange::*;
pub use ids::{
    fnv1a, ChannelId, DigestId, LessonId, MeetingId, QuestionId, RoundId, ServerId, UserId,
};
pub use records::*;
pub use vocab::*;
