//! The `jira-gate` binary.
//!
//! Temporary: only the `sandbox` subcommand, so the sandbox can run as its own process. The real
//! command line replaces this file.

use clap::Parser;

/// A pipeline approval step for Jira.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Run the built-in Jira sandbox.
    Sandbox(jira_gate::sandbox::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let Command::Sandbox(args) = cli.command;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = runtime.and_then(|rt| rt.block_on(jira_gate::sandbox::serve(args)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jira-gate: error: sandbox: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
