//! The command line (SPEC section 2).
//!
//! clap guidelines (after xh's):
//! - The first line of a doc comment is the short help (`-h`), the paragraphs after it the long
//!   help (`--help`). Full sentences, no trailing period on the first line.
//! - `value_name`s are uppercase.
//! - One `Args` struct per command, holding only that command's options; only the logging options
//!   (`-v`, `-q`, `--log-format`), which every command has, are `global` (issue 8 #16).
//! - Every option also reads a `JIRA_GATE_*` variable, named at the end of its short help as
//!   `[env: NAME]`. `crate::input` reads the variables, not clap's `env =`: there the precedence
//!   flag > variable > stanza > default is written once, every boolean or count variable takes
//!   1/0, true/false, yes/no or a number, and a bad value is reported as the variable rather than
//!   the flag (issue 8 #13, #16). A test checks each option's variable against `input::VARIABLES`.
//! - Secrets never appear in help output.
//! - Durations parse with `humantime::parse_duration`.

use std::path::PathBuf;
#[cfg(feature = "sandbox")]
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
    /// Logging, for every command
    #[command(flatten)]
    pub log: LogArgs,
}

/// The logging options, the only ones every command has.
#[derive(Debug, Args, Clone, Default)]
pub struct LogArgs {
    /// More log output (-v debug, -vv trace) [env: JIRA_GATE_VERBOSE]
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only warnings, errors and the summary line [env: JIRA_GATE_QUIET]
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log format on stderr (default text) [env: JIRA_GATE_LOG_FORMAT]
    ///
    /// With json, every line on stderr is one JSON object: the logs, warnings, errors and the
    /// summary line.
    #[arg(long, value_enum, global = true, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
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
    Run(RunArgs),
    /// Parse, interpolate and check a stanza without touching the network
    Validate(ValidateArgs),
    /// Test the connection: credentials, project, issue type, fields and transition names
    Check(CheckArgs),
    /// Print the native stanza a Harness Jira step means
    ///
    /// Needs --harness-step (and --connector). The output passes `jira-gate validate`; secrets
    /// stay references (`${HARNESS_SECRET_...}` or `token_file`). Criteria with no native form
    /// (`<`, `=~`) are refused with exit 2: run such a step with --harness-step instead.
    Convert(CheckArgs),
    /// After the deploy: apply the stanza's `finish.success` or `finish.failure` to the ticket
    ///
    /// The ticket is --issue-key ($JIRA_GATE_ISSUE_KEY), else `ticket.key`, else the ticket
    /// `run` created with the same `ticket.dedupe`. Exits 0, 2 (bad usage or stanza, no ticket
    /// found) or 5 (Jira error).
    Finish(FinishArgs),
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
    /// The stanza file (`-` for stdin) [env: JIRA_GATE_STEP_FILE]
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Read the stanza at this key of a larger YAML file [env: JIRA_GATE_AT]
    ///
    /// Keys are separated by dots, list items are `[N]`, keys with dots or brackets are quoted:
    /// `.jira-gate` (a GitLab hidden key), `jobs.deploy.steps[2].with.step` (a string holding the
    /// stanza works too). Errors keep the outer file's lines and columns.
    #[arg(long, value_name = "KEY.PATH", conflicts_with = "harness_step")]
    pub at: Option<String>,
    /// Run this step of a Harness pipeline, stage, template or step file [env: JIRA_GATE_HARNESS_STEP]
    ///
    /// IDENTIFIER, or STAGE.IDENTIFIER when two stages use the same one. The step must be a
    /// JiraCreate, JiraUpdate or JiraApproval step.
    #[arg(long, value_name = "IDENTIFIER")]
    pub harness_step: Option<String>,
    /// The Harness Jira connector's YAML file, for --harness-step [env: JIRA_GATE_CONNECTOR]
    #[arg(long, value_name = "FILE")]
    pub connector: Option<PathBuf>,
    /// A value for <+pipeline.variables.NAME>, <+stage.variables.NAME> and <+env.NAME> [env: JIRA_GATE_VARS]
    ///
    /// Repeatable. The variable holds one NAME=VALUE per line; `HARNESS_VAR_NAME` works too. A
    /// flag wins over both.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
}

/// `NAME=VALUE` of `--var` (and of each line of `JIRA_GATE_VARS`).
pub fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("{text:?} is not NAME=VALUE")),
    }
}

/// `--issue-key`: which issue, for the commands that read the stanza.
#[derive(Debug, Args, Clone, Default)]
pub struct IssueKey {
    /// Update this issue instead of creating one (overrides ticket.key) [env: JIRA_GATE_ISSUE_KEY]
    #[arg(long, value_name = "KEY")]
    pub issue_key: Option<String>,
}

/// `--timeout`: how long the step may wait.
#[derive(Debug, Args, Clone, Default)]
pub struct Timeout {
    /// Overall timeout (overrides approval.timeout), e.g. 30m [env: JIRA_GATE_TIMEOUT]
    ///
    /// Read as text and parsed by `input.rs`, like its variable: a bad value is then an error
    /// with outputs written (exit 2, decision "error"), not clap's usage error without them.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
}

/// `--result-file`.
#[derive(Debug, Args, Clone, Default)]
pub struct ResultFile {
    /// Write the result record as JSON to this file [env: JIRA_GATE_RESULT_FILE]
    #[arg(long, value_name = "PATH")]
    pub result_file: Option<PathBuf>,
}

/// Options of `run`.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// The stanza
    #[command(flatten)]
    pub file: StepFile,
    /// Which issue
    #[command(flatten)]
    pub issue_key: IssueKey,
    /// How long
    #[command(flatten)]
    pub timeout: Timeout,
    /// Dry run and outputs
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `--dry-run` and where the outputs go: the options of the commands that write to Jira and
/// report a result (`run`, `finish`).
#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Read from Jira but print the writes as JSON lines on stdout instead of sending them [env: JIRA_GATE_DRY_RUN]
    #[arg(long)]
    pub dry_run: bool,
    /// The result record
    #[command(flatten)]
    pub result_file: ResultFile,
    /// Write Tekton results (one file per output) to this directory [env: JIRA_GATE_TEKTON_RESULTS]
    ///
    /// Selects Tekton even where /tekton/results does not exist.
    #[arg(long, value_name = "DIR")]
    pub tekton_results: Option<PathBuf>,
}

/// Options of `validate`: what changes the stanza's meaning.
#[derive(Debug, Args, Clone, Default)]
pub struct ValidateArgs {
    /// The stanza
    #[command(flatten)]
    pub file: StepFile,
    /// Which issue
    #[command(flatten)]
    pub issue_key: IssueKey,
    /// How long
    #[command(flatten)]
    pub timeout: Timeout,
}

/// Options of `check`: the stanza, and which issue to check.
#[derive(Debug, Args, Clone, Default)]
pub struct CheckArgs {
    /// The stanza
    #[command(flatten)]
    pub file: StepFile,
    /// Which issue
    #[command(flatten)]
    pub issue_key: IssueKey,
}

/// How the deploy went, for `finish`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FinishOutcome {
    /// Run `finish.success`
    Success,
    /// Run `finish.failure`
    Failure,
}

/// Options of `finish`.
#[derive(Debug, Args, Clone, Default)]
pub struct FinishArgs {
    /// The stanza
    #[command(flatten)]
    pub file: StepFile,
    /// Which issue
    #[command(flatten)]
    pub issue_key: IssueKey,
    /// How the deploy went: success or failure (required) [env: JIRA_GATE_OUTCOME]
    #[arg(long, value_enum, value_name = "OUTCOME")]
    pub outcome: Option<FinishOutcome>,
    /// Dry run and outputs
    #[command(flatten)]
    pub output: OutputArgs,
}

#[cfg(feature = "sandbox")]
/// Options of `demo`.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// The sandbox's flavor (default cloud) [env: JIRA_GATE_DEMO_FLAVOR]
    #[arg(long, value_enum, value_name = "FLAVOR")]
    pub flavor: Option<crate::sandbox::Flavor>,
    /// When the simulated approver approves (default 3s) [env: JIRA_GATE_DEMO_APPROVE_AFTER]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub approve_after: Option<Duration>,
    /// Make the simulated approver reject instead [env: JIRA_GATE_DEMO_REJECT]
    #[arg(long)]
    pub reject: bool,
    /// A Jira Service Management change request with a 2-of-3 approval (steps/demo-jsm.yml)
    /// [env: JIRA_GATE_DEMO_JSM]
    #[arg(long)]
    pub jsm: bool,
    /// The result record
    #[command(flatten)]
    pub result_file: ResultFile,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("jira-gate").chain(args.iter().copied()))
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_its_options_and_the_logging_ones_anywhere() {
        let cli = parse(&[
            "run",
            "step.yml",
            "--timeout",
            "90s",
            "--issue-key",
            "OPS-1",
            "--dry-run",
            "--result-file",
            "r.json",
            "-vv",
        ])
        .unwrap();
        assert_eq!(cli.log.verbose, 2);
        let Command::Run(args) = cli.command else {
            panic!("not run: {cli:?}");
        };
        assert_eq!(args.timeout.timeout.as_deref(), Some("90s"));
        assert_eq!(args.issue_key.issue_key.as_deref(), Some("OPS-1"));
        assert!(args.output.dry_run);
        assert_eq!(args.file.file, Some(PathBuf::from("step.yml")));
        assert_eq!(
            args.output.result_file.result_file,
            Some(PathBuf::from("r.json"))
        );
        let cli = parse(&["validate", "--log-format", "json", "-q"]).unwrap();
        assert_eq!(cli.log.log_format, Some(LogFormat::Json));
        assert!(cli.log.quiet);
    }

    #[test]
    fn each_command_refuses_the_options_of_others() {
        // Issue 8 #16: `schema --dry-run` was accepted.
        for args in [
            &["schema", "--dry-run"][..],
            &["schema", "--timeout", "1m"],
            &["validate", "--dry-run"],
            &["validate", "--result-file", "r.json"],
            &["check", "--timeout", "1m"],
            &["check", "--tekton-results", "d"],
            &["demo", "--issue-key", "OPS-1"],
            &["finish", "--timeout", "1m"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{args:?}"
            );
        }
        assert!(parse(&["check", "--issue-key", "OPS-1"]).is_ok());
        assert!(parse(&["validate", "--timeout", "1m", "--issue-key", "OPS-1"]).is_ok());
        assert!(parse(&["demo", "--reject", "--result-file", "r.json"]).is_ok());
        let cli = parse(&[
            "finish",
            "s.yml",
            "--outcome",
            "failure",
            "--issue-key",
            "OPS-1",
        ])
        .unwrap();
        let Command::Finish(args) = cli.command else {
            panic!("not finish: {cli:?}");
        };
        assert_eq!(args.outcome, Some(FinishOutcome::Failure));
        assert!(parse(&["finish", "--outcome", "maybe"]).is_err());
    }

    #[test]
    fn rejects_bad_durations_and_conflicts() {
        // A bad duration is input.rs's to report (with outputs), not clap's.
        assert!(parse(&["run", "--timeout", "soon"]).is_ok());
        assert!(parse(&["run", "-q", "-v"]).is_err());
        assert!(parse(&["fly"]).is_err());
    }

    #[test]
    fn harness_and_at_options() {
        let cli = parse(&[
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
        let Command::Run(args) = cli.command else {
            panic!("run");
        };
        assert_eq!(args.file.harness_step.as_deref(), Some("prod.approve"));
        assert_eq!(
            args.file.vars,
            vec![
                ("version".to_owned(), "1.4=2".to_owned()),
                ("env".to_owned(), "prod".to_owned())
            ]
        );
        assert!(parse(&["run", "--var", "novalue"]).is_err());
        assert!(parse(&["run", "--at", "a", "--harness-step", "b"]).is_err());
        assert!(parse(&["schema", "--at", "a"]).is_err());
        let cli = parse(&[
            "convert",
            "p.yaml",
            "--harness-step",
            "s",
            "--issue-key",
            "OPS-1",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::Convert(_)));
    }

    #[test]
    fn every_option_names_its_variable() {
        let command = Cli::command();
        let mut seen = Vec::new();
        let commands = std::iter::once(&command)
            .chain(command.get_subcommands())
            .filter(|c| c.get_name() != "sandbox");
        for sub in commands {
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                let (_, variable) = crate::input::VARIABLES
                    .iter()
                    .find(|(option, _)| *option == id)
                    .unwrap_or_else(|| panic!("{} --{id} has no variable", sub.get_name()));
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                assert!(
                    help.ends_with(&format!("[env: {variable}]")),
                    "{} {id}: {help}",
                    sub.get_name()
                );
                seen.push(id.to_owned());
            }
        }
        for (option, _) in crate::input::VARIABLES {
            assert!(seen.iter().any(|s| s == option), "{option} is no option");
        }
    }
}
