//! `jira-gate validate`: parse and check the stanza offline, and say in one line what it will do.

use crate::cli::ValidateArgs;
use crate::env::Env;
use crate::error::Error;
use crate::input;
use crate::logging::{self, Level};
use crate::stanza::{Stanza, Target};

/// Validates the stanza; `Ok` when it is valid.
pub fn validate(args: &ValidateArgs, env: &Env) -> Result<(), Error> {
    // Flags and variables first: a bad one is reported as such, not behind a stanza error.
    let overrides = input::overrides(&args.issue_key, Some(&args.timeout), env)?;
    let pick = input::pick(&args.file, env)?;
    let (name, text) = input::source(&args.file, env)?;
    let stanza = input::parse_from(&pick, &name, &text, &overrides, env)?;
    for warning in &stanza.warnings {
        logging::line(Level::Warn, &format!("jira-gate: warning: {warning}"), None);
    }
    logging::line(
        Level::Info,
        &format!("jira-gate: {} is valid: {}", stanza.file, describe(&stanza)),
        None,
    );
    let actions = crate::actions::all(&stanza);
    if !actions.is_empty() {
        let names: Vec<&str> = actions.iter().map(|(key, _)| *key).collect();
        logging::line(
            Level::Info,
            &format!("jira-gate: actions: {}", names.join(", ")),
            None,
        );
    }
    Ok(())
}

/// One line on what the stanza will do.
fn describe(stanza: &Stanza) -> String {
    let ticket = &stanza.ticket;
    let write = match &ticket.target {
        Target::Update {
            key,
            project,
            issue_type,
            ..
        } => match (issue_type, project) {
            (None, None) => format!("updates {key}"),
            (Some(kind), Some(project)) => format!("updates {key} if it is a {kind} in {project}"),
            (Some(kind), None) => format!("updates {key} if it is a {kind}"),
            (None, Some(project)) => format!("updates {key} if it is in {project}"),
        },
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
            "{write}, then waits up to {} for {}{}",
            humantime::format_duration(a.timeout),
            a.approve.describe(),
            a.window_clause()
        ),
        None => format!("{write}; no approval section, so it does not wait"),
    }
}
