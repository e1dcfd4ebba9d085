//! The step's own error, apart from the step so that its lookups ([`crate::workflow`],
//! [`crate::fields`]) can fail with it without importing the step: Jira failed or refused, or
//! Jira answered and the stanza does not fit this project (issue 8: the workflow's errors are the
//! step's, not the client's). `crate::step` re-exports it as `step::Error`.

use crate::exit::Exit;
use crate::jira;

/// Why the step failed: Jira failed or refused, or Jira answered and the stanza does not fit
/// this project (issue 8: the workflow's errors are the step's, not the client's).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Jira call failed (exit 5).
    #[error(transparent)]
    Jira(#[from] jira::Error),
    /// The stanza names something this project does not have (an issue type, a transition, a
    /// field on the screen), or the ticket went away (exit 5: it may be Jira's configuration
    /// that is wrong, or the user's permissions).
    #[error("{0}")]
    Mismatch(String),
    /// The stanza can never work on this project, e.g. criteria naming a status it does not
    /// have (exit 2, like an invalid stanza).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The exit of SPEC section 2.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Invalid(_) => Exit::Invalid,
            Error::Jira(_) | Error::Mismatch(_) => Exit::Jira,
        }
    }
}
