//! One file per command. [`run()`] picks the command and returns how the process exits; `main`
//! does the rest.

pub mod check;
pub mod convert;
#[cfg(feature = "sandbox")]
pub mod demo;
pub mod run;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod schema;
pub mod validate;

use crate::ci;
use crate::cli::{Cli, Command};
use crate::env::Env;
use crate::error::{Error, render};
use crate::exit::Exit;
use crate::input;

/// Runs one command and returns how the process exits.
pub async fn run(cli: Cli, env: Env) -> Exit {
    let global = cli.global;
    match cli.command {
        Command::Schema => schema::run(),
        Command::Validate(file) => report_error(validate::validate(&file, &global, &env)),
        Command::Check(file) => {
            let sink = ci::detect_with(&|n| env.get(n), &input::ci_options(&global));
            input::mask_early(&env, sink.as_ref());
            match input::source(&file, &env).and_then(|(name, text)| {
                input::load(&file, &name, &text, &global, &env, sink.as_ref())
            }) {
                Ok(stanza) => report_error(check::run(&stanza).await),
                Err(e) => report_error(Err(e)),
            }
        }
        Command::Convert(file) => report_error(convert::convert(&file, &global, &env)),
        Command::Run(file) => run::run(file, &global, &env).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox::run(*args).await,
        #[cfg(feature = "sandbox")]
        Command::Demo(args) => demo::run(&args, &global, env).await,
    }
}

/// Prints an error once as `jira-gate: error: …` and returns its exit (success for `Ok`).
pub fn report_error(result: Result<(), Error>) -> Exit {
    match result {
        Ok(()) => Exit::Success,
        Err(e) => {
            eprintln!("jira-gate: error: {}", render(&e));
            e.exit()
        }
    }
}
