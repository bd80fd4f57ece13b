//! How a request fails: a refusal the person reads (in their language, and changing nothing)
//! or an internal fault that is logged and answered with the generic text.

use crate::reply::Reply;
use crate::store::StoreError;

/// A refusal whose text is exactly what the user is shown, in their language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The message key, so tests and adapters can tell refusals apart without parsing text.
    pub key: &'static str,
    pub text: String,
}

/// Why a use case did not produce a reply.
#[derive(Debug)]
pub enum Failure {
    /// The user asked for something not allowed or not possible; nothing changed.
    Refused(Refusal),
    /// Something broke; log it and show the user a generic message, never this error.
    Internal(anyhow::Error),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Internal(e.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Internal(e)
    }
}

impl Failure {
    /// As an error for a caller outside the engine that reports it as it is (the command
    /// line): a refusal says only its text, as the user would read it; a fault keeps its chain.
    pub fn into_error(self) -> anyhow::Error {
        match self {
            Failure::Internal(e) => e,
            Failure::Refused(r) => anyhow::anyhow!("{}", r.text),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Refused(_) => None,
            Failure::Internal(e) => e.source(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(r) => write!(f, "refused ({}): {}", r.key, r.text),
            Failure::Internal(e) => write!(f, "internal error: {e:#}"),
        }
    }
}

pub type Outcome = Result<Reply, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_an_error_whose_source_is_the_cause_of_the_fault() {
        let fault = Failure::Internal(
            anyhow::Error::new(std::io::Error::other("disk full")).context("saving an answer"),
        );
        let as_error: &dyn std::error::Error = &fault;
        assert_eq!(
            as_error.source().map(|s| s.to_string()).as_deref(),
            Some("disk full")
        );
        assert_eq!(
            fault.to_string(),
            "internal error: saving an answer: disk full"
        );
        let kept = anyhow::Error::new(fault).context("opening the database");
        assert_eq!(kept.chain().count(), 3, "{kept:#}");

        let refused = Failure::Refused(Refusal {
            key: "answer.none",
            text: "Er loopt nu geen ronde.".into(),
        });
        assert!(std::error::Error::source(&refused).is_none());
        assert_eq!(
            format!("{:#}", refused.into_error().context("importing")),
            "importing: Er loopt nu geen ronde."
        );
        let fault = Failure::Internal(anyhow::anyhow!("cause").context("step"));
        assert_eq!(format!("{:#}", fault.into_error()), "step: cause");
    }
}
