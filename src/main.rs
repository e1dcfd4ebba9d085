//! The `jira-gate` binary: parse the command line, set up logging and a single-threaded runtime,
//! run the command, and return its exit (SPEC section 2).

use std::process::ExitCode;

use clap::Parser;
use jira_gate::cli::Cli;
use jira_gate::env::Env;
use jira_gate::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    jira_gate::logging::init(&cli.global);
    // One thread: the step waits on one ticket, and a fleet of steps should cost little.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("jira-gate: error: cannot start the async runtime: {e}");
            return Exit::Unexpected.into();
        }
    };
    let exit = runtime.block_on(jira_gate::commands::run(cli, Env::from_process()));
    // Do not wait for a blocking read that a signal interrupted (a stanza from a silent FIFO).
    runtime.shutdown_background();
    exit.into()
}
