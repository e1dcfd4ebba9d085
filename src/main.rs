//! The `jira-gate` binary: parse the command line, set up logging and a single-threaded runtime,
//! run the command, and return its exit (SPEC section 2).

use std::process::ExitCode;

use clap::Parser;
use jira_gate::cli::Cli;
use jira_gate::env::Env;
use jira_gate::exit::Exit;

fn main() -> ExitCode {
    let env = Env::from_process();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return jira_gate::input::refused(&e, &args, &env).into(),
    };
    // Flags over variables (`crate::input`); a bad variable ends here, printed in the log format.
    let logging = jira_gate::input::logging(&cli.log, &env);
    jira_gate::logging::init(logging.as_ref().unwrap_or_else(|(readable, _)| readable));
    if let Err((_, e)) = logging {
        return jira_gate::commands::report_error(Err(e)).into();
    }
    let logging = logging.unwrap_or_default();
    // One thread: the step waits on one ticket, and a fleet of steps should cost little.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            jira_gate::commands::error_line(&format!("cannot start the async runtime: {e}"));
            return Exit::Unexpected.into();
        }
    };
    let exit = runtime.block_on(jira_gate::commands::run(cli, &logging, env));
    // Do not wait for a blocking read that a signal interrupted (a stanza from a silent FIFO).
    runtime.shutdown_background();
    exit.into()
}
