//! `jira-gate convert`: print the native stanza a Harness Jira step means (SPEC section 8).
//!
//! The stanza goes to stdout and passes `jira-gate validate`. Secrets stay references: a secret
//! in the environment as `${HARNESS_SECRET_...}`, a secret file as `token_file`. Criteria a native
//! stanza cannot express (`<`, `=~`, a constant) are refused with exit 2 naming the part, and the
//! differences that remain (Harness checks approval before rejection, how the transition is
//! matched, the issue's project and type) are written as comments at the top.

use crate::cli::CheckArgs;
use crate::env::Env;
use crate::error::Error;
use crate::input;
use crate::logging::{self, Level};

/// Prints the converted stanza.
pub fn convert(args: &CheckArgs, env: &Env) -> Result<(), Error> {
    let overrides = input::overrides(&args.issue_key, None, env)?;
    let pick = input::pick(&args.file, env)?;
    let Some(step) = pick.harness_step.as_deref() else {
        return Err(Error::Usage(
            "convert needs --harness-step IDENTIFIER (and --connector FILE): it converts one Harness Jira step".into(),
        ));
    };
    let (name, text) = input::source(&args.file, env)?;
    let translated = input::harness_step(&pick, step, &name, &text, &overrides, env, true)?;
    print!("{}", translated.to_yaml(&name, step));
    logging::line(
        Level::Info,
        &format!("jira-gate: converted the Harness step `{step}` of {name}"),
        None,
    );
    Ok(())
}
