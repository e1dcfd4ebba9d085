//! The top-level error: one variant per module's error, mapped to exit codes by variant (no
//! downcasting), as SPEC section 2's table says.

use crate::exit::Exit;

/// Everything that can end a command early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stanza is invalid (exit 2).
    #[error(transparent)]
    Stanza(#[from] crate::stanza::Error),
    /// A Harness file or `--at` path that cannot be used (exit 2).
    #[error(transparent)]
    Harness(#[from] crate::harness::Error),
    /// Bad command-line usage (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Jira failed or refused (exit 5).
    #[error("{}", describe_jira(.0))]
    Jira(#[from] crate::jira::Error),
    /// The step does not fit the project (exit 5, or 2 when it can never work).
    #[error(transparent)]
    Step(#[from] crate::step::Error),
    /// Outputs could not be written (exit 1).
    #[error(transparent)]
    Ci(#[from] crate::ci::Error),
    /// Writing a result or reading a local file failed (exit 1).
    #[error("{what}: {source}")]
    Io {
        /// What was being done, with the path.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    /// The exit of SPEC section 2 for this error.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Stanza(_) | Error::Harness(_) | Error::Usage(_) => Exit::Invalid,
            Error::Jira(_) => Exit::Jira,
            Error::Step(e) => e.exit(),
            Error::Ci(_) | Error::Io { .. } => Exit::Unexpected,
        }
    }
}

/// Result with the top-level error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A Jira error as the user reads it: its message, and a hint where the client's own message has
/// none. The hints name the stanza and the command line, which the client knows nothing of.
pub fn describe_jira(error: &crate::jira::Error) -> String {
    use crate::jira::Error as E;
    let hint = match error {
        E::Unreachable { .. } => {
            "check jira.url and, if a proxy is in between, HTTPS_PROXY and NO_PROXY; if Jira is only slow, raise --timeout (or approval.timeout)"
        }
        E::Protocol { .. } => {
            "check that jira.url reaches Jira's REST API itself, not a proxy or another service answering in its place"
        }
        _ => return error.to_string(),
    };
    format!("{error} (hint: {hint})")
}

/// A step error as shown to the user: Jira's errors with their hint ([`describe_jira`]).
pub fn describe_step(error: &crate::step::Error) -> String {
    match error {
        crate::step::Error::Jira(e) => describe_jira(e),
        other => other.to_string(),
    }
}

pub use crate::chain::render;
