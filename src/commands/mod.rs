//! One file per command. [`run()`] picks the command and returns how the process exits; `main`
//! does the rest.

pub mod check;
pub mod convert;
#[cfg(feature = "sandbox")]
pub mod demo;
pub mod finish;
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
use crate::logging::Logging;
use crate::logging::{self, Level};

/// Runs one command and returns how the process exits.
pub async fn run(cli: Cli, logging: &Logging, env: Env) -> Exit {
    match cli.command {
        Command::Schema => schema::run(),
        Command::Validate(args) => report_error(validate::validate(&args, &env)),
        Command::Check(args) => {
            let sink = ci::detect_with(&|n| env.get(n), &input::ci_options(logging));
            input::mask_early(&env, sink.as_ref());
            if let Err(e) = preflight(sink.as_ref(), None) {
                return report_error(Err(e));
            }
            match input::overrides(&args.issue_key, None, &env).and_then(|overrides| {
                let pick = input::pick(&args.file, &env)?;
                let (name, text) = input::source(&args.file, &env)?;
                input::load(&pick, &name, &text, &overrides, &env, sink.as_ref())
            }) {
                Ok(stanza) => report_error(check::run(&stanza).await),
                Err(e) => report_error(Err(e)),
            }
        }
        Command::Convert(args) => report_error(convert::convert(&args, &env)),
        Command::Run(args) => run::run(args, logging, &env).await,
        Command::Finish(args) => finish::run(args, logging, &env).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox::run(*args).await,
        #[cfg(feature = "sandbox")]
        Command::Demo(args) => demo::run(&args, logging, env).await,
    }
}

/// What `run` and `check` verify before anything else: a known CI system (`JIRA_GATE_CI`) and
/// outputs that can be written (issue 8 #11), so a mistake is found before Jira is touched.
pub fn preflight(sink: &dyn ci::Sink, result_file: Option<&std::path::Path>) -> Result<(), Error> {
    ci::preflight(sink, result_file).map_err(|e| Error::Usage(render(&e)))
}

/// Prints `jira-gate: error: TEXT` on stderr, as a JSON object under `--log-format json`.
pub fn error_line(text: &str) {
    logging::line(Level::Error, &format!("jira-gate: error: {text}"), None);
}

/// Prints an error once as `jira-gate: error: …` and returns its exit (success for `Ok`).
pub fn report_error(result: Result<(), Error>) -> Exit {
    match result {
        Ok(()) => Exit::Success,
        Err(e) => {
            error_line(&render(&e));
            e.exit()
        }
    }
}
