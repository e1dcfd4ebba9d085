//! `jira-gate sandbox`: serve the built-in Jira until stopped.

use crate::commands::report_error;
use crate::error::Error;
use crate::exit::Exit;

/// Serves the sandbox; an I/O failure is an unexpected exit.
pub async fn run(args: crate::sandbox::Args) -> Exit {
    report_error(
        crate::sandbox::serve(args)
            .await
            .map_err(|source| Error::Io {
                what: "the sandbox failed".into(),
                source,
            }),
    )
}
