//! The top-level error: one variant per module's error, mapped to exit codes by variant (no
//! downcasting), as SPEC section 2's table says.

use crate::exit::Exit;

/// Everything that can end a command early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stanza is invalid (exit 2).
    #[error(transparent)]
    Stanza(#[from] crate::stanza::Error),
    /// Bad command-line usage (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Jira failed or refused (exit 5).
    #[error(transparent)]
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
            Error::Stanza(_) | Error::Usage(_) => Exit::Invalid,
            Error::Jira(_) => Exit::Jira,
            Error::Step(e) => e.exit(),
            Error::Ci(_) | Error::Io { .. } => Exit::Unexpected,
        }
    }
}

/// Result with the top-level error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use crate::chain::render;
