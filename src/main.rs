//! The `jira-gate` binary. Placeholder until the core's command line lands: it only answers
//! `--version` and `--help`, so the container image can be built and smoke-tested.
fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("--version" | "-V") => println!("jira-gate {}", env!("CARGO_PKG_VERSION")),
        Some("--help" | "-h") | None => println!("{}", env!("CARGO_PKG_DESCRIPTION")),
        Some(other) => {
            eprintln!("jira-gate: error: `{other}` is not available in this build yet");
            return std::process::ExitCode::from(2);
        }
    }
    std::process::ExitCode::SUCCESS
}
