//! The fixed concepts of the essay and the people who act: steps, perspectives, learning orders,
//! government layers, languages and roles.
//!
//! Each concept has a stable English `key` (what is stored and what the prompt files use) and
//! accepts what a user may type in either language, so `orde:tweede` and `order:second` mean the
//! same. Display names come from the prompt files, never from here.

use super::ids::UserId;
use serde::{Deserialize, Serialize};

/// Folds a user's word for matching: lowercase, trimmed, spaces and hyphens as underscores.
fn fold(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

macro_rules! vocab {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $key:literal [$($alias:literal),*]),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable key used in storage and in the prompt files.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            /// What a user may type, in Dutch or English.
            pub fn parse_user(text: &str) -> Option<Self> {
                let t = fold(text);
                $(if t == $key $(|| t == $alias)* { return Some($name::$variant); })+
                None
            }

            /// A compact byte for index keys; follows declaration order.
            pub fn byte(self) -> u8 {
                Self::ALL.iter().position(|v| *v == self).unwrap_or(0) as u8
            }

            /// All accepted spellings, for help texts and error messages.
            pub fn spellings() -> Vec<&'static str> {
                vec![$($key $(, $alias)*),+]
            }
        }
    };
}

vocab!(
    /// The language of a reply. Dutch first, English second.
    Lang { Nl = "nl" ["nederlands", "dutch", "nl_nl"], En = "en" ["english", "engels", "en_us", "en_gb"] }
);

impl Lang {
    /// Maps a Discord-style locale (`nl`, `en-US`, `de`) to a reply language; anything that is
    /// not Dutch gets English, and no locale at all gets the fallback.
    pub fn from_locale(locale: Option<&str>, fallback: Lang) -> Lang {
        match locale.map(|l| l.trim().to_lowercase()) {
            Some(l) if l == "nl" || l.starts_with("nl-") || l.starts_with("nl_") => Lang::Nl,
            Some(l) if !l.is_empty() => Lang::En,
            _ => fallback,
        }
    }

    /// The other of the two languages.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }
}

vocab!(
    /// The five design steps of figure 3.
    Step {
        Issue = "1" ["issue", "vraagstuk", "stap1", "step1"],
        Others = "2" ["others", "anderen", "stap2", "step2"],
        Kind = "3" ["kind", "soort", "stap3", "step3"],
        Organise = "4" ["organise", "organize", "inrichting", "organiseren", "stap4", "step4"],
        Relate = "5" ["relate", "verhouden", "anderen_samenwerkingen", "stap5", "step5"],
    }
);

impl Step {
    pub fn number(self) -> u8 {
        self.byte() + 1
    }

    pub fn from_number(n: u8) -> Option<Step> {
        Step::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }
}

vocab!(
    /// The four governance perspectives of figure 4.
    Perspective {
        Lawful = "lawful" ["rechtmatig", "rechtmatige", "rechtmatige_overheid", "rechtmatigheid", "lawfulness", "meerlaags_bestuur", "public_administration"],
        Performing = "performing" ["presterend", "presterende", "presterende_overheid", "presteren", "prestatie", "prestaties", "performance", "meerlaags_management", "npm", "new_public_management"],
        Networking = "networking" ["netwerkend", "netwerkende", "netwerk", "netwerkende_overheid", "netwerkende_samenwerking", "netwerken", "network", "networks", "network_governance"],
        Participating = "participating" ["participerend", "participerende", "participatie", "participeren", "participation", "participerende_overheid", "maatschappelijke_samenwerking", "societal", "societal_resilience"],
    }
);

vocab!(
    /// The three orders of learning of figure 6.
    Order {
        First = "first" ["1", "eerste", "eerste_orde", "first_order"],
        Second = "second" ["2", "tweede", "tweede_orde", "second_order"],
        Third = "third" ["3", "derde", "derde_orde", "third_order"],
    }
);

vocab!(
    /// The government layer a member works for.
    Layer {
        National = "national" [
            "rijk", "het_rijk", "rijksoverheid", "ministerie", "state", "central",
            "central_government", "national_government", "ministry"
        ],
        Province = "province" ["provincie"],
        Municipality = "municipality" ["gemeente"],
        WaterBoard = "water_board" ["waterschap", "waterboard"],
        Other = "other" ["anders", "overig", "andere"],
    }
);

vocab!(
    /// How a lesson names its author.
    Attribution {
        Named = "named" ["naam", "met_naam", "name"],
        Layer = "layer" ["laag", "bestuurslaag", "organisatie"],
        Anonymous = "anonymous" ["anoniem", "anon"],
    }
);

vocab!(
    /// How someone is reminded of a round they have not answered yet.
    Reminders {
        Channel = "channel" ["kanaal", "in_het_kanaal"],
        Direct = "dm" ["direct", "direct_message", "persoonlijk", "prive", "privé", "bericht"],
        Off = "off" ["uit", "geen", "none", "nooit", "never"],
    }
);

/// What the acting person may do. Adapters decide it (a Discord role or permission, a console
/// flag); the engine checks it on every action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Moderator,
    Admin,
}

impl Role {
    pub fn parse_user(text: &str) -> Option<Role> {
        match fold(text).as_str() {
            "member" | "deelnemer" | "lid" => Some(Role::Member),
            "mod" | "moderator" | "moderatoren" => Some(Role::Moderator),
            "admin" | "administrator" | "beheerder" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn can_moderate(self) -> bool {
        self >= Role::Moderator
    }
}

/// The person acting in a use case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub name: String,
    pub lang: Lang,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_concept_parses_its_dutch_and_english_names() {
        let cases: &[(&str, Option<Order>)] = &[
            ("first", Some(Order::First)),
            ("Tweede", Some(Order::Second)),
            ("derde orde", Some(Order::Third)),
            ("3", Some(Order::Third)),
            ("vierde", None),
        ];
        for (text, want) in cases {
            assert_eq!(Order::parse_user(text), *want, "{text}");
        }
        assert_eq!(Layer::parse_user("Waterschap"), Some(Layer::WaterBoard));
        assert_eq!(Layer::parse_user("water board"), Some(Layer::WaterBoard));
        // What an English speaker calls the Dutch national government.
        for text in ["state", "central government", "Ministry", "rijksoverheid"] {
            assert_eq!(Layer::parse_user(text), Some(Layer::National), "{text}");
        }
        assert_eq!(
            Perspective::parse_user("netwerkend"),
            Some(Perspective::Networking)
        );
        // What a member types from the figure's labels, not only the keys.
        for (text, want) in [
            ("netwerk", Perspective::Networking),
            ("Rechtmatige overheid", Perspective::Lawful),
            ("presterende", Perspective::Performing),
            ("participatie", Perspective::Participating),
            // The verbs and nouns of each, as a member types them (seen: "presteren").
            ("presteren", Perspective::Performing),
            ("Prestatie", Perspective::Performing),
            ("performance", Perspective::Performing),
            ("rechtmatigheid", Perspective::Lawful),
            ("netwerken", Perspective::Networking),
            ("participeren", Perspective::Participating),
            ("participation", Perspective::Participating),
        ] {
            assert_eq!(Perspective::parse_user(text), Some(want), "{text}");
        }
        assert_eq!(
            Attribution::parse_user("anoniem"),
            Some(Attribution::Anonymous)
        );
        assert_eq!(Step::parse_user("4"), Some(Step::Organise));
        assert_eq!(Step::parse_user("6"), None);
        assert_eq!(Step::from_number(5), Some(Step::Relate));
        assert_eq!(Step::from_number(0), None);
        assert_eq!(Step::Relate.number(), 5);
    }

    #[test]
    fn locales_map_to_dutch_or_english() {
        assert_eq!(Lang::from_locale(Some("nl"), Lang::En), Lang::Nl);
        assert_eq!(Lang::from_locale(Some("en-US"), Lang::Nl), Lang::En);
        assert_eq!(Lang::from_locale(Some("de"), Lang::Nl), Lang::En);
        assert_eq!(Lang::from_locale(None, Lang::Nl), Lang::Nl);
    }

    #[test]
    fn keys_are_unique_per_concept() {
        let mut seen = std::collections::HashSet::new();
        for s in Perspective::spellings() {
            assert!(seen.insert(s), "{s} twice");
        }
    }
}
