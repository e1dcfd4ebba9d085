//! `jira-gate validate`: parse and check the stanza offline, and say in one line what it will do.

use crate::cli::{Global, StepFile};
use crate::env::Env;
use crate::error::Error;
use crate::input;
use crate::stanza::{Stanza, Target};

/// Validates the stanza; `Ok` when it is valid.
pub fn validate(file: &StepFile, global: &Global, env: &Env) -> Result<(), Error> {
    let (name, text) = input::source(file, env)?;
    let stanza = input::parse_from(file, &name, &text, global, env)?;
    for warning in &stanza.warnings {
        eprintln!("jira-gate: warning: {warning}");
    }
    eprintln!("jira-gate: {} is valid: {}", stanza.file, describe(&stanza));
    Ok(())
}

/// One line on what the stanza will do.
fn describe(stanza: &Stanza) -> String {
    let ticket = &stanza.ticket;
    let write = match &ticket.target {
        Target::Update { key, .. } => format!("updates {key}"),
        Target::Create {
            project,
            issue_type,
            ..
        } => format!(
            "creates a {issue_type} in {project}{}",
            if ticket.dedupe.is_some() {
                " (deduplicated)"
            } else {
                ""
            }
        ),
    };
    match &stanza.approval {
        Some(a) => format!(
            "{write}, then waits up to {} for {}",
            humantime::format_duration(a.timeout),
            a.approve.describe()
        ),
        None => format!("{write}; no approval section, so it does not wait"),
    }
}
