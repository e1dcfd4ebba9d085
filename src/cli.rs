//! The command line (SPEC section 2).
//!
//! clap guidelines (after xh's):
//! - The first line of a doc comment is the short help (`-h`), the paragraphs after it the long
//!   help (`--help`). Full sentences, no trailing period on the first line.
//! - `value_name`s are uppercase.
//! - Every option also reads a `JIRA_GATE_*` variable; secrets never appear in help output.
//! - Durations parse with `humantime::parse_duration`.
//! - Options that apply to every command are `global`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A pipeline approval step for Jira
///
/// jira-gate reads one YAML stanza, creates or updates a Jira ticket, waits until its status meets
/// the approval or rejection criteria, and exits with a code the pipeline acts on: 0 approved,
/// 3 rejected, 4 timed out, 5 Jira error, 6 cancelled, 2 invalid stanza, 1 unexpected failure.
#[derive(Debug, Parser)]
#[command(
    name = "jira-gate",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do
    #[command(subcommand)]
    pub command: Command,
    /// Options shared by every command
    #[command(flatten)]
    pub global: Global,
}

/// Options of every command.
#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// More log output (-v debug, -vv trace)
    #[arg(short, long, action = clap::ArgAction::Count, global = true, env = "JIRA_GATE_VERBOSE")]
    pub verbose: u8,
    /// Only warnings, errors and the summary line
    #[arg(
        short,
        long,
        global = true,
        env = "JIRA_GATE_QUIET", value_parser = clap::builder::FalseyValueParser::new(),
        conflicts_with = "verbose"
    )]
    pub quiet: bool,
    /// Log format on stderr
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true, value_name = "FORMAT", env = "JIRA_GATE_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Read from Jira but print the writes as JSON lines on stdout instead of sending them
    #[arg(long, global = true, env = "JIRA_GATE_DRY_RUN", value_parser = clap::builder::FalseyValueParser::new())]
    pub dry_run: bool,
    /// Overall timeout (overrides approval.timeout), e.g. 30m
    #[arg(long, global = true, value_name = "DURATION", value_parser = humantime::parse_duration, env = "JIRA_GATE_TIMEOUT")]
    pub timeout: Option<Duration>,
    /// Update this issue instead of creating one (overrides ticket.key)
    #[arg(long, global = true, value_name = "KEY", env = "JIRA_GATE_ISSUE_KEY")]
    pub issue_key: Option<String>,
    /// Write the result record as JSON to this file
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "JIRA_GATE_RESULT_FILE"
    )]
    pub result_file: Option<PathBuf>,
    /// Write Tekton results (one file per output) to this directory
    ///
    /// Selects Tekton even where /tekton/results does not exist.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "JIRA_GATE_TEKTON_RESULTS"
    )]
    pub tekton_results: Option<PathBuf>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines
    #[default]
    Text,
    /// One JSON object per line
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the step: create or update the ticket, wait for a decision, exit with its code
    ///
    /// FILE `-` reads stdin. Without FILE: $JIRA_GATE_STEP_FILE, then the inline YAML in
    /// $JIRA_GATE_STEP, then ./jira-gate.yml.
    Run(StepFile),
    /// Parse, interpolate and check a stanza without touching the network
    Validate(StepFile),
    /// Test the connection: credentials, project, issue type, fields and transition names
    Check(StepFile),
    /// Print the native stanza a Harness Jira step means
    ///
    /// Needs --harness-step (and --connector). The output passes `jira-gate validate`; secrets
    /// stay references (`${HARNESS_SECRET_...}` or `token_file`). Criteria with no native form
    /// (`<`, `=~`) are refused with exit 2: run such a step with --harness-step instead.
    Convert(StepFile),
    /// Print the JSON Schema of the stanza
    Schema,
    #[cfg(feature = "sandbox")]
    /// Run the built-in Jira sandbox (a fake Jira for trying stanzas and for tests)
    Sandbox(Box<crate::sandbox::Args>),
    #[cfg(feature = "sandbox")]
    /// The whole flow against an in-process sandbox that approves after a few seconds
    Demo(DemoArgs),
}

/// Where the stanza comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct StepFile {
    /// The stanza file (`-` for stdin)
    #[arg(value_name = "FILE", env = "JIRA_GATE_STEP_FILE")]
    pub file: Option<PathBuf>,
    /// Read the stanza at this key of a larger YAML file
    ///
    /// Keys are separated by dots, list items are `[N]`, keys with dots or brackets are quoted:
    /// `.jira-gate` (a GitLab hidden key), `jobs.deploy.steps[2].with.step` (a string holding the
    /// stanza works too). Errors keep the outer file's lines and columns.
    #[arg(long, value_name = "KEY.PATH", env = "JIRA_GATE_AT")]
    pub at: Option<String>,
    /// Run this step of a Harness pipeline, stage, template or step file
    ///
    /// IDENTIFIER, or STAGE.IDENTIFIER when two stages use the same one. The step must be a
    /// JiraCreate, JiraUpdate or JiraApproval step.
    #[arg(
        long,
        value_name = "IDENTIFIER",
        env = "JIRA_GATE_HARNESS_STEP",
        conflicts_with = "at"
    )]
    pub harness_step: Option<String>,
    /// The Harness Jira connector's YAML file (for --harness-step)
    #[arg(long, value_name = "FILE", env = "JIRA_GATE_CONNECTOR")]
    pub connector: Option<PathBuf>,
    /// A value for <+pipeline.variables.NAME>, <+stage.variables.NAME> and <+env.NAME>
    ///
    /// Repeatable. `HARNESS_VAR_NAME` in the environment works too; a flag wins.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("{text:?} is not NAME=VALUE")),
    }
}

#[cfg(feature = "sandbox")]
/// Options of `demo`.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// The sandbox's flavor
    #[arg(
        long,
        value_enum,
        default_value = "cloud",
        env = "JIRA_GATE_DEMO_FLAVOR"
    )]
    pub flavor: crate::sandbox::Flavor,
    /// When the simulated approver approves
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "3s",
        value_parser = humantime::parse_duration,
        env = "JIRA_GATE_DEMO_APPROVE_AFTER"
    )]
    pub approve_after: Duration,
    /// Make the simulated approver reject instead
    #[arg(long, env = "JIRA_GATE_DEMO_REJECT", value_parser = clap::builder::FalseyValueParser::new())]
    pub reject: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_global_options_after_the_command() {
        let cli = Cli::try_parse_from([
            "jira-gate",
            "run",
            "step.yml",
            "--timeout",
            "90s",
            "--issue-key",
            "OPS-1",
            "-vv",
        ])
        .unwrap();
        assert_eq!(cli.global.timeout, Some(Duration::from_secs(90)));
        assert_eq!(cli.global.issue_key.as_deref(), Some("OPS-1"));
        assert_eq!(cli.global.verbose, 2);
        assert!(matches!(
            cli.command,
            Command::Run(StepFile { file: Some(_), .. })
        ));
    }

    #[test]
    fn harness_and_at_options() {
        let cli = Cli::try_parse_from([
            "jira-gate",
            "run",
            "pipeline.yaml",
            "--harness-step",
            "prod.approve",
            "--connector",
            "jira.yaml",
            "--var",
            "version=1.4=2",
            "--var",
            "env=prod",
        ])
        .unwrap();
        let Command::Run(file) = cli.command else {
            panic!("run");
        };
        assert_eq!(file.harness_step.as_deref(), Some("prod.approve"));
        assert_eq!(
            file.vars,
            vec![
                ("version".to_owned(), "1.4=2".to_owned()),
                ("env".to_owned(), "prod".to_owned())
            ]
        );
        assert!(Cli::try_parse_from(["jira-gate", "run", "--var", "novalue"]).is_err());
        assert!(
            Cli::try_parse_from(["jira-gate", "run", "--at", "a", "--harness-step", "b"]).is_err()
        );
        let cli =
            Cli::try_parse_from(["jira-gate", "validate", "ci.yml", "--at", ".jira-gate"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Validate(StepFile { at: Some(_), .. })
        ));
    }

    #[test]
    fn rejects_bad_durations_and_conflicts() {
        assert!(Cli::try_parse_from(["jira-gate", "run", "--timeout", "soon"]).is_err());
        assert!(Cli::try_parse_from(["jira-gate", "run", "-q", "-v"]).is_err());
        assert!(Cli::try_parse_from(["jira-gate", "fly"]).is_err());
    }
}
