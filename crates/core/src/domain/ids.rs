//! Typed identifiers, so a lesson id can never be passed where a round id is meant.
//!
//! Record ids come from per-kind counters in the store: they start at 1, grow by one, and so sort
//! by creation time. Keys are big-endian so that sled's byte order is numeric order.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        id_type!($(#[$doc])* $name, $prefix, $prefix);
    };
    // `$also`: the letter an English reader reaches for when the shown one is Dutch.
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $also:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The big-endian key bytes, for ordered storage.
            pub fn key(self) -> [u8; 8] {
                self.0.to_be_bytes()
            }

            /// Reads an id back from the first eight bytes of a key.
            pub fn from_key(bytes: &[u8]) -> Option<Self> {
                let arr: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
                Some(Self(u64::from_be_bytes(arr)))
            }

            /// Parses the form users see (`L12`) as well as a bare number (`12`), and a
            /// question or a meeting with the English letter (`Q4`, `M2`).
            pub fn parse_user(text: &str) -> Option<Self> {
                let t = text.trim();
                let t = [$prefix, $also]
                    .iter()
                    .find_map(|p| t.strip_prefix(p).or_else(|| t.strip_prefix(&p.to_lowercase())))
                    .unwrap_or(t);
                t.parse::<u64>().ok().filter(|n| *n > 0).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }
    };
}

id_type!(
    /// A lesson, shown to users as `L12`.
    LessonId,
    "L"
);
id_type!(
    /// A question round, shown to users as `R3`.
    RoundId,
    "R"
);
id_type!(
    /// A digest, shown to users as `D2`.
    DigestId,
    "D"
);
id_type!(
    /// A question to the whole academy, shown to users as `V4` (*vraag*).
    QuestionId,
    "V",
    "Q"
);
id_type!(
    /// A learning meeting, shown to users as `B2` (*bijeenkomst*).
    MeetingId,
    "B",
    "M"
);

/// A person, as the chat platform identifies them (a Discord snowflake, or a console name's hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub u64);

impl UserId {
    pub fn key(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// Reads a person back from the first eight bytes of a key part.
    pub fn from_key(bytes: &[u8]) -> Option<Self> {
        Some(Self(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?)))
    }
}

/// A channel: one channel is one collaboration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelId(pub u64);

impl ChannelId {
    pub fn key(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

/// A server: the group of channels one set of moderators looks after (a Discord guild). The
/// console and direct messages have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServerId(pub u64);

impl ServerId {
    pub fn key(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

/// FNV-1a, 64 bits: a hash that stays the same across builds and Rust releases (std's hasher
/// does not promise that), for ids and keys derived from text.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_with_and_without_prefix() {
        assert_eq!(LessonId::parse_user("L12"), Some(LessonId(12)));
        assert_eq!(LessonId::parse_user("l12"), Some(LessonId(12)));
        assert_eq!(LessonId::parse_user(" 7 "), Some(LessonId(7)));
        assert_eq!(LessonId::parse_user("L0"), None);
        assert_eq!(LessonId::parse_user("R3"), None);
        assert_eq!(RoundId::parse_user("R3"), Some(RoundId(3)));
        assert_eq!(LessonId(12).to_string(), "L12");
        // English readers of V4 and B2 type the English letter.
        assert_eq!(QuestionId::parse_user("Q4"), Some(QuestionId(4)));
        assert_eq!(QuestionId::parse_user("q4"), Some(QuestionId(4)));
        assert_eq!(QuestionId::parse_user("V4"), Some(QuestionId(4)));
        assert_eq!(MeetingId::parse_user("M2"), Some(MeetingId(2)));
        assert_eq!(MeetingId::parse_user("B2"), Some(MeetingId(2)));
        assert_eq!(QuestionId(4).to_string(), "V4");
        assert_eq!(LessonId::parse_user("Q4"), None);
        assert_eq!(RoundId::parse_user("M2"), None);
    }

    #[test]
    fn keys_sort_numerically() {
        assert!(LessonId(2).key() < LessonId(10).key());
        assert_eq!(
            LessonId::from_key(&LessonId(300).key()),
            Some(LessonId(300))
        );
    }
}
