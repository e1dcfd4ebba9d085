//! `jira-gate sandbox`: serve the built-in Jira until stopped.

use std::io;

use crate::commands::report_error;
use crate::error::Error;
use crate::exit::Exit;
use crate::logging::{self, Level};

/// Serves the sandbox; an I/O failure is an unexpected exit.
pub async fn run(args: crate::sandbox::Args) -> Exit {
    report_error(
        crate::sandbox::serve(args, |sandbox| {
            let mut fields = serde_json::Map::new();
            fields.insert("url".into(), sandbox.base_url().into());
            logging::line(Level::Info, &sandbox.credentials_banner(), Some(fields));
        })
        .await
        .map_err(|source| Error::Io {
            what: "the sandbox failed".into(),
            source: with_hint(source),
        }),
    )
}

/// The failure with what to check, unless it carries its own (a taken or privileged port does).
fn with_hint(error: io::Error) -> io::Error {
    if matches!(
        error.kind(),
        io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied
    ) {
        return error;
    }
    io::Error::new(
        error.kind(),
        format!(
            "{error} (hint: the sandbox needs an address it can listen on, `--listen 127.0.0.1:0` picks a free port, and an open, writable stdout for its URL)"
        ),
    )
}
