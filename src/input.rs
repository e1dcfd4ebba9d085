//! Where a command's input comes from, and which source wins.
//!
//! The stanza is found in this order: the FILE argument (or `JIRA_GATE_STEP_FILE`; `-` is stdin),
//! the inline stanza in `JIRA_GATE_STEP`, then `./jira-gate.yml`. Inside that text, `--at
//! KEY.PATH` picks the stanza out of a larger YAML file, and `--harness-step ID` translates a
//! Harness Jira step (with `--connector` and `--var`) into the stanza it means (SPEC section 8).
//!
//! Every setting follows one precedence, highest first:
//!
//! 1. the command-line flag (`--issue-key`, `--timeout`, `-v`, ...);
//! 2. its variable ([`VARIABLES`]: `JIRA_GATE_ISSUE_KEY`, `JIRA_GATE_TIMEOUT`, ...), and on GitHub
//!    Actions the matching action input (`INPUT_ISSUE-KEY`, `INPUT_TIMEOUT`; Drone and Woodpecker:
//!    `PLUGIN_*`; see [`crate::env`]);
//! 3. the stanza (`ticket.key`, `approval.timeout`, ...);
//! 4. the built-in default (`stanza::DEFAULT_TIMEOUT`, ...), which never causes an error: the
//!    defaults of `interval` and `max_interval` fit the timeout (issue 8 #7).
//!
//! This module reads the variables itself, not clap (issue 8 #13, #16): so that a flag always
//! beats a variable (`JIRA_GATE_QUIET=1` with `-v` is verbose, `JIRA_GATE_VERBOSE=2` with `-q` is
//! quiet), so that every boolean or count variable takes `1`/`0`, `true`/`false`, `yes`/`no`,
//! `on`/`off` or a number, and so that a bad value is reported as the flag or variable it came
//! from, never as the stanza key it overrides. Empty variables count as unset (GitHub sets every
//! declared input, empty when not given).
//!
//! [`overrides`] gathers levels 1 and 2 for the stanza and checks them; `stanza::RawStanza::validate`
//! applies them over levels 3 and 4.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;

use crate::ci;
use crate::cli::{
    FinishArgs, FinishOutcome, IssueKey, LogArgs, LogFormat, OutputArgs, ResultFile, StepFile,
    Timeout,
};
use crate::env::Env;
use crate::error::Error;
use crate::harness;
use crate::locate::{self, KeyPath};
use crate::logging::Logging;
use crate::stanza::{self, Overrides, Stanza, Target};

/// Every option's variable, by the option's clap id. The help of each option names the same
/// variable, and every option has one (a test checks both).
pub const VARIABLES: &[(&str, &str)] = &[
    ("verbose", "JIRA_GATE_VERBOSE"),
    ("quiet", "JIRA_GATE_QUIET"),
    ("log_format", "JIRA_GATE_LOG_FORMAT"),
    ("file", "JIRA_GATE_STEP_FILE"),
    ("at", "JIRA_GATE_AT"),
    ("harness_step", "JIRA_GATE_HARNESS_STEP"),
    ("connector", "JIRA_GATE_CONNECTOR"),
    ("vars", "JIRA_GATE_VARS"),
    ("issue_key", "JIRA_GATE_ISSUE_KEY"),
    ("timeout", "JIRA_GATE_TIMEOUT"),
    ("dry_run", "JIRA_GATE_DRY_RUN"),
    ("result_file", "JIRA_GATE_RESULT_FILE"),
    ("tekton_results", "JIRA_GATE_TEKTON_RESULTS"),
    ("flavor", "JIRA_GATE_DEMO_FLAVOR"),
    ("approve_after", "JIRA_GATE_DEMO_APPROVE_AFTER"),
    ("reject", "JIRA_GATE_DEMO_REJECT"),
    ("outcome", "JIRA_GATE_OUTCOME"),
    ("jsm", "JIRA_GATE_DEMO_JSM"),
];

/// A value from a flag or a variable, with where it came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    /// The value as written.
    pub value: String,
    /// `--timeout`, `JIRA_GATE_TIMEOUT`, ``input `timeout` `` (GitHub, Drone, Woodpecker), ...
    pub from: String,
}

impl std::fmt::Display for Given {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from.starts_with('-') || self.from.starts_with("input ") {
            write!(f, "{} {:?}", self.from, self.value)
        } else {
            write!(f, "{}={:?}", self.from, self.value)
        }
    }
}

impl Given {
    fn invalid(&self, what: &str, hint: &str) -> Error {
        Error::Usage(format!("{self}: {what}\n  hint: {hint}"))
    }
}

/// The variable of option `id` (see [`VARIABLES`]).
fn variable(id: &str) -> &'static str {
    VARIABLES
        .iter()
        .find(|(option, _)| *option == id)
        .map_or_else(|| unreachable!("option {id} has no variable"), |(_, v)| *v)
}

/// `--issue-key` for `issue_key`.
fn flag_name(id: &str) -> String {
    format!("--{}", id.replace('_', "-"))
}

/// Levels 1 and 2 for one option: the flag's value as written, else its variable's.
fn given(flag: Option<String>, id: &str, env: &Env) -> Option<Given> {
    match flag {
        Some(value) => Some(Given {
            value,
            from: flag_name(id),
        }),
        None => env
            .get_from(variable(id))
            .filter(|(value, _)| !value.trim().is_empty())
            .map(|(value, from)| Given { value, from }),
    }
}

/// A yes/no variable: 1/0, true/false, yes/no, on/off (any case) or a number (not 0 is yes).
fn switch(given: &Given) -> Result<bool, Error> {
    count(given).map(|n| n > 0)
}

/// A count variable (`JIRA_GATE_VERBOSE`): a number, or a yes/no word (yes is 1).
fn count(given: &Given) -> Result<u8, Error> {
    let value = given.value.trim();
    if let Ok(n) = value.parse::<u64>() {
        return Ok(u8::try_from(n).unwrap_or(u8::MAX));
    }
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "on" => Ok(1),
        "false" | "no" | "n" | "off" => Ok(0),
        _ => Err(given.invalid(
            "is neither yes/no nor a number",
            "use 1/0, true/false, yes/no or a number",
        )),
    }
}

/// A flag that takes no value (`--dry-run`) or its yes/no variable.
fn flag_or_switch(flag: bool, id: &str, env: &Env) -> Result<bool, Error> {
    if flag {
        return Ok(true);
    }
    given(None, id, env).map_or(Ok(false), |g| switch(&g))
}

/// A duration flag (already parsed by clap) or its variable (`demo --approve-after`).
#[cfg(feature = "sandbox")]
fn duration(
    flag: Option<Duration>,
    id: &str,
    env: &Env,
) -> Result<Option<(Duration, Given)>, Error> {
    if let Some(d) = flag {
        let from = flag_name(id);
        let value = humantime::format_duration(d).to_string();
        return Ok(Some((d, Given { value, from })));
    }
    let Some(g) = given(None, id, env) else {
        return Ok(None);
    };
    let d = humantime::parse_duration(g.value.trim())
        .map_err(|e| g.invalid(&format!("is not a duration: {e}"), "e.g. 90s, 30m, 1h 30m"))?;
    Ok(Some((d, g)))
}

/// A duration flag given as text, or its variable: both parsed here, both named when bad.
fn text_duration(
    flag: Option<String>,
    id: &str,
    env: &Env,
) -> Result<Option<(Duration, Given)>, Error> {
    let Some(g) = given(flag, id, env) else {
        return Ok(None);
    };
    let d = humantime::parse_duration(g.value.trim())
        .map_err(|e| g.invalid(&format!("is not a duration: {e}"), "e.g. 90s, 30m, 1h 30m"))?;
    Ok(Some((d, g)))
}

/// A path flag or its variable.
fn path(flag: Option<&PathBuf>, id: &str, env: &Env) -> Option<PathBuf> {
    flag.cloned()
        .or_else(|| given(None, id, env).map(|g| PathBuf::from(g.value)))
}

/// A value-enum flag or its variable (any case).
fn choice<T: ValueEnum + Clone>(flag: Option<T>, id: &str, env: &Env) -> Result<Option<T>, Error> {
    if flag.is_some() {
        return Ok(flag);
    }
    let Some(g) = given(None, id, env) else {
        return Ok(None);
    };
    T::from_str(g.value.trim(), true).map(Some).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_owned()))
            .collect();
        g.invalid(
            "is not a valid value",
            &format!("use one of: {}", names.join(", ")),
        )
    })
}

/// `-v`, `-q` and `--log-format` over their variables. On a bad variable, the settings that could
/// be read (the format first, so the error is printed in it) and the error.
pub fn logging(args: &LogArgs, env: &Env) -> Result<Logging, (Logging, Error)> {
    let mut logging = Logging::default();
    match choice(args.log_format, "log_format", env) {
        Ok(format) => logging.format = format.unwrap_or_default(),
        Err(e) => return Err((logging, e)),
    }
    if args.quiet || args.verbose > 0 {
        // A flag beats both variables (clap refuses -q with -v).
        logging.quiet = args.quiet;
        logging.verbose = args.verbose;
        return Ok(logging);
    }
    let read = || -> Result<(bool, u8), Error> {
        let quiet = given(None, "quiet", env);
        let verbose = given(None, "verbose", env);
        let (quiet_on, verbose_n) = (
            quiet.as_ref().map(switch).transpose()?.unwrap_or(false),
            verbose.as_ref().map(count).transpose()?.unwrap_or(0),
        );
        if let (true, true, Some(q), Some(v)) = (quiet_on, verbose_n > 0, &quiet, &verbose) {
            return Err(Error::Usage(format!(
                "{q} and {v} ask for quiet and verbose logs at once\n  hint: unset one of them, or pass -q or -v, which win over both"
            )));
        }
        Ok((quiet_on, verbose_n))
    };
    match read() {
        Ok((quiet, verbose)) => {
            logging.quiet = quiet;
            logging.verbose = verbose;
            Ok(logging)
        }
        Err(e) => Err((logging, e)),
    }
}

/// A command line clap refused: printed as clap prints it, except under `--log-format json` (or
/// `JIRA_GATE_LOG_FORMAT=json`), where it is one JSON line too (issue 8 #15). `--help` and
/// `--version` go to stdout as usual.
pub fn refused(error: &clap::Error, args: &[std::ffi::OsString], env: &Env) -> crate::exit::Exit {
    if !error.use_stderr() {
        let _ = error.print();
        return crate::exit::Exit::Success;
    }
    let flag = args.iter().enumerate().any(|(i, a)| {
        a == "--log-format=json"
            || (a == "--log-format" && args.get(i + 1).is_some_and(|v| v == "json"))
    });
    let variable = env
        .get(variable("log_format"))
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("json"));
    if flag || variable {
        crate::logging::init(&Logging {
            format: LogFormat::Json,
            ..Logging::default()
        });
        let text = error.render().to_string();
        crate::logging::line(crate::logging::Level::Error, text.trim_end(), None);
    } else {
        let _ = error.print();
    }
    crate::exit::Exit::Invalid
}

/// What `run` does besides the step: dry run, where the outputs go.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--result-file`.
    pub result_file: Option<PathBuf>,
    /// What the command line adds to CI detection.
    pub ci: ci::Options,
}

/// The output options of `run` and `finish` over their variables.
pub fn outputs(args: &OutputArgs, logging: &Logging, env: &Env) -> Result<Outputs, Error> {
    Ok(Outputs {
        dry_run: flag_or_switch(args.dry_run, "dry_run", env)?,
        result_file: result_file(&args.result_file, env),
        ci: ci::Options {
            quiet: no_sections(*logging),
            tekton_results: path(args.tekton_results.as_ref(), "tekton_results", env),
        },
    })
}

/// `finish`'s output options and `--outcome`, over their variables. The outcome
/// is required, from the flag or `JIRA_GATE_OUTCOME`.
pub fn finish(
    args: &FinishArgs,
    logging: &Logging,
    env: &Env,
) -> Result<(Outputs, Result<FinishOutcome, Error>), Error> {
    let outcome = choice(args.outcome, "outcome", env).and_then(|o| {
        o.ok_or_else(|| {
            Error::Usage(format!(
                "finish needs --outcome ({}): success or failure\n  hint: pass how the deploy went, e.g. `--outcome ${{{{ needs.deploy.result == 'success' && 'success' || 'failure' }}}}` on GitHub",
                variable("outcome")
            ))
        })
    });
    Ok((outputs(&args.output, logging, env)?, outcome))
}

/// No log section markers (GitLab's, Buildkite's) under `-q`, nor in JSON logs, where every line
/// on stderr must be a JSON object (issue 8 #15).
fn no_sections(logging: Logging) -> bool {
    logging.quiet || logging.format == LogFormat::Json
}

/// `--result-file` or its variable.
pub fn result_file(args: &ResultFile, env: &Env) -> Option<PathBuf> {
    path(args.result_file.as_ref(), "result_file", env)
}

/// CI detection for commands without output options (`check`).
pub fn ci_options(logging: &Logging) -> ci::Options {
    ci::Options {
        quiet: no_sections(*logging),
        tekton_results: None,
    }
}

/// Levels 1 and 2 of the precedence for the stanza: `--issue-key` and `--timeout` (a command
/// without `--timeout` passes `None`), else their variables. Checked here, so that a bad one is
/// reported as the flag or variable, not as `ticket.key` or `approval.timeout` (issue 8 #16).
pub fn overrides(key: &IssueKey, timeout: Option<&Timeout>, env: &Env) -> Result<Overrides, Error> {
    let issue_key = given(key.issue_key.clone(), "issue_key", env)
        .filter(|g| !g.value.trim().is_empty())
        .map(|g| {
            if stanza::looks_like_issue_key(&g.value) {
                Ok(g.value.trim().to_owned())
            } else {
                Err(g.invalid(
                    "is not an issue key",
                    "issue keys look like OPS-123 (project key, dash, number)",
                ))
            }
        })
        .transpose()?;
    let timeout = match timeout {
        Some(t) => text_duration(t.timeout.clone(), "timeout", env)?,
        None => None,
    };
    if let Some((d, g)) = &timeout {
        if d.is_zero() {
            return Err(g.invalid("must be more than 0s", "e.g. 30m"));
        }
    }
    Ok(Overrides {
        issue_key,
        timeout: timeout.map(|(d, _)| d),
    })
}

/// `demo`'s options, resolved.
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone)]
pub struct Demo {
    /// The sandbox's flavor.
    pub flavor: crate::sandbox::Flavor,
    /// When the simulated approver acts.
    pub approve_after: Duration,
    /// Reject instead of approving.
    pub reject: bool,
    /// A JSM change request with a 2-of-3 approval.
    pub jsm: bool,
    /// `--result-file` as given (read with [`result_file`]).
    pub result_file: ResultFile,
}

/// `demo`'s options over their variables, with their defaults (cloud, 3s, approve).
#[cfg(feature = "sandbox")]
pub fn demo(args: &crate::cli::DemoArgs, env: &Env) -> Result<Demo, Error> {
    Ok(Demo {
        flavor: choice(args.flavor, "flavor", env)?.unwrap_or(crate::sandbox::Flavor::Cloud),
        approve_after: duration(args.approve_after, "approve_after", env)?
            .map_or(Duration::from_secs(3), |(d, _)| d),
        reject: flag_or_switch(args.reject, "reject", env)?,
        jsm: flag_or_switch(args.jsm, "jsm", env)?,
        result_file: args.result_file.clone(),
    })
}

/// Finds the stanza text: FILE (or $JIRA_GATE_STEP_FILE), then inline $JIRA_GATE_STEP, then
/// ./jira-gate.yml.
pub fn source(file: &StepFile, env: &Env) -> Result<(String, String), Error> {
    let path: Option<PathBuf> = file.file.clone().or_else(|| {
        env.get("JIRA_GATE_STEP_FILE")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    });
    if let Some(path) = path {
        return read_file(&path);
    }
    if let Some(inline) = env.get("JIRA_GATE_STEP").filter(|s| !s.trim().is_empty()) {
        let name = "$JIRA_GATE_STEP".to_owned();
        return Ok((name.clone(), stanza::decode(&name, inline.as_bytes())?));
    }
    let default = Path::new("jira-gate.yml");
    if default.exists() {
        return read_file(default);
    }
    Err(stanza::Error::Missing.into())
}

fn read_file(path: &Path) -> Result<(String, String), Error> {
    // Read at most one byte over the limit, whatever the source says its size is: stdin, a FIFO
    // or /dev/zero are endless, and `decode` refuses anything over the limit with a message.
    let limit = u64::try_from(stanza::MAX_STANZA_BYTES + 1).unwrap_or(u64::MAX);
    let (name, source): (String, Box<dyn std::io::Read>) = if path.as_os_str() == "-" {
        ("<stdin>".into(), Box::new(std::io::stdin().lock()))
    } else {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| stanza::Error::Read {
            path: name.clone(),
            source,
        })?;
        (name, Box::new(file))
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(source, limit), &mut bytes).map_err(
        |source| stanza::Error::Read {
            path: name.clone(),
            source,
        },
    )?;
    Ok((name.clone(), stanza::decode(&name, &bytes)?))
}

/// `--at`, `--harness-step`, `--connector` and `--var` over their variables.
#[derive(Debug, Clone, Default)]
pub struct Pick {
    /// `--at`.
    pub at: Option<String>,
    /// `--harness-step`.
    pub harness_step: Option<String>,
    /// `--connector`.
    pub connector: Option<PathBuf>,
    /// `--var`, else the lines of `JIRA_GATE_VARS`.
    pub vars: Vec<(String, String)>,
}

/// Resolves [`Pick`] from the flags and their variables.
pub fn pick(file: &StepFile, env: &Env) -> Result<Pick, Error> {
    let at = given(file.at.clone(), "at", env).map(|g| g.value);
    let harness_step = given(file.harness_step.clone(), "harness_step", env).map(|g| g.value);
    if let (Some(_), Some(_)) = (&at, &harness_step) {
        return Err(Error::Usage(
            "--at (JIRA_GATE_AT) and --harness-step (JIRA_GATE_HARNESS_STEP) both name the stanza\n  hint: give one of them".into(),
        ));
    }
    let vars = if file.vars.is_empty() {
        match given(None, "vars", env) {
            Some(g) => g
                .value
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    crate::cli::parse_var(l).map_err(|e| g.invalid(&e, "one NAME=VALUE per line"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        }
    } else {
        file.vars.clone()
    };
    Ok(Pick {
        at,
        harness_step,
        connector: path(file.connector.as_ref(), "connector", env),
        vars,
    })
}

/// Parses the stanza the way `pick` says: the whole text, the node at `--at`, or the Harness
/// step of `--harness-step`.
pub fn parse_from(
    pick: &Pick,
    name: &str,
    text: &str,
    overrides: &Overrides,
    env: &Env,
) -> Result<Stanza, Error> {
    if let Some(step) = pick.harness_step.as_deref() {
        let translated = harness_step(pick, step, name, text, overrides, env, false)?;
        return from_harness(name, step, &translated, overrides, env);
    }
    if let Some(at) = pick.at.as_deref() {
        let node = at_path(name, text, at)?;
        return parse(name, &node, overrides, env);
    }
    parse(name, text, overrides, env)
}

/// The stanza text at `--at`, blanked around so positions are the outer file's.
fn at_path(name: &str, text: &str, at: &str) -> Result<String, Error> {
    let path = KeyPath::parse(at).map_err(|e| Error::Usage(format!("--at: {e}")))?;
    let node = locate::extract(text, &path).map_err(|e| harness::Error {
        file: name.to_owned(),
        line: e.position.line,
        column: e.position.column,
        message: format!("--at {at}: {}", e.message),
        hint: e.hint,
    })?;
    Ok(node.text)
}

/// Translates the Harness step `step` of the file (`convert` keeps secrets as references).
pub fn harness_step(
    pick: &Pick,
    step: &str,
    name: &str,
    text: &str,
    overrides: &Overrides,
    env: &Env,
    convert: bool,
) -> Result<harness::Translated, Error> {
    let connector = pick.connector.as_deref().map(read_file).transpose()?;
    let lookup = |n: &str| env.get(n);
    let translated = harness::load(&harness::Request {
        file: name,
        text,
        step,
        connector: connector.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
        vars: pick.vars.iter().cloned().collect(),
        env: &lookup,
        issue_key: overrides.issue_key.clone(),
        convert,
    })?;
    for ignored in &translated.ignored {
        tracing::debug!("ignored (Harness-only, no use to jira-gate): {ignored}");
    }
    for note in &translated.notes {
        tracing::warn!("{note}");
    }
    Ok(translated)
}

/// The stanza of a translated Harness step, with its criteria evaluated as Harness does:
/// approval first, and `<`, `=~` kept.
fn from_harness(
    name: &str,
    step: &str,
    translated: &harness::Translated,
    overrides: &Overrides,
    env: &Env,
) -> Result<Stanza, Error> {
    let label = format!("{name} (Harness step {step})");
    let yaml = serde_yaml::to_string(&translated.stanza)
        .map_err(|e| Error::Usage(format!("{label}: cannot write the stanza: {e}")))?;
    let mut stanza = parse_text(&label, &yaml, overrides, env)?;
    let criteria = |tree: &Option<harness::criteria::Tree>| {
        tree.as_ref()
            .map(harness::criteria::Tree::to_criteria)
            .transpose()
            .map_err(|e| Error::Usage(format!("{label}: {e}")))
    };
    if let Some(approval) = stanza.approval.as_mut() {
        if let Some(approve) = criteria(&translated.approve)? {
            approval.approve = approve;
        }
        approval.reject = criteria(&translated.reject)?;
        if translated.approval_first {
            approval.order = crate::criteria::Order::ApprovalFirst;
        }
    }
    stanza.ticket.transition_by = translated.transition_by;
    // Harness fails an approval step whose issue is not in its project or of its type; the step
    // checks a key's project and type when the ticket names them.
    if let Target::Update {
        project,
        issue_type,
        ..
    } = &mut stanza.ticket.target
    {
        if translated.expect_project.is_some() || translated.expect_type.is_some() {
            project.clone_from(&translated.expect_project);
            issue_type.clone_from(&translated.expect_type);
        }
    }
    Ok(stanza)
}

/// Parses and validates the stanza text, with the flags and variables ([`overrides`]) over it; a
/// broken rule is located at its key's line and column in `text`.
pub fn parse(name: &str, text: &str, overrides: &Overrides, env: &Env) -> Result<Stanza, Error> {
    parse_text(name, text, overrides, env).map_err(|e| match e {
        Error::Stanza(e) => Error::Stanza(e.located(text)),
        other => other,
    })
}

/// [`parse`] without locating: for text jira-gate wrote itself (a translated Harness step), whose
/// lines are not the user's.
fn parse_text(name: &str, text: &str, overrides: &Overrides, env: &Env) -> Result<Stanza, Error> {
    let lookup = |n: &str| env.get(n);
    Ok(stanza::from_str(text, name, &lookup)?.validate(name, overrides)?)
}

/// Masks the values of the variables known to hold secrets; called before anything else is
/// printed (GitHub needs the masks first).
pub fn mask_early(env: &Env, sink: &dyn ci::Sink) {
    let early = env.secret_values();
    sink.mask(&early.iter().map(String::as_str).collect::<Vec<_>>());
}

/// Parses the stanza for `run`/`check` and masks its token and webhook secret (the variables known to hold secrets
/// were masked by [`mask_early`] before anything else was printed), then prints its warnings.
pub fn load(
    pick: &Pick,
    name: &str,
    text: &str,
    overrides: &Overrides,
    env: &Env,
    sink: &dyn ci::Sink,
) -> Result<Stanza, Error> {
    let stanza = parse_from(pick, name, text, overrides, env)?;
    let wake = stanza.approval.as_ref().and_then(|a| a.wake.as_ref());
    let secrets = std::iter::once(stanza.jira.auth.secret())
        .chain(wake.map(|w| w.check.secret()))
        .map(crate::secret::Secret::expose);
    for secret in secrets {
        if !env.secret_values().iter().any(|s| s == secret) {
            sink.mask(&[secret]);
        }
    }
    for warning in &stanza.warnings {
        tracing::warn!("{warning}");
    }
    Ok(stanza)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    fn log(quiet: bool, verbose: u8) -> LogArgs {
        LogArgs {
            verbose,
            quiet,
            log_format: None,
        }
    }

    #[test]
    fn flags_beat_variables_and_words_count() {
        // Issue 8 #13.
        let resolved = |args: LogArgs, pairs: &[(&str, &str)]| {
            let l = logging(&args, &env(pairs)).map_err(|(_, e)| e.to_string())?;
            Ok::<_, String>((l.quiet, l.verbose))
        };
        assert_eq!(
            resolved(log(false, 1), &[("JIRA_GATE_QUIET", "1")]),
            Ok((false, 1))
        );
        assert_eq!(
            resolved(log(true, 0), &[("JIRA_GATE_VERBOSE", "2")]),
            Ok((true, 0))
        );
        for (value, want) in [
            ("true", 1),
            ("YES", 1),
            ("on", 1),
            ("2", 2),
            ("0", 0),
            ("no", 0),
            ("false", 0),
            ("", 0),
        ] {
            assert_eq!(
                resolved(log(false, 0), &[("JIRA_GATE_VERBOSE", value)]),
                Ok((false, want)),
                "{value}"
            );
        }
        assert_eq!(
            resolved(log(false, 0), &[("JIRA_GATE_QUIET", "yes")]),
            Ok((true, 0))
        );
        assert_eq!(
            resolved(
                log(false, 0),
                &[("JIRA_GATE_QUIET", "0"), ("JIRA_GATE_VERBOSE", "1")]
            ),
            Ok((false, 1))
        );
        let err = resolved(log(false, 0), &[("JIRA_GATE_VERBOSE", "loud")]).unwrap_err();
        assert!(
            err.starts_with("JIRA_GATE_VERBOSE=\"loud\": is neither yes/no nor a number"),
            "{err}"
        );
        let err = resolved(
            log(false, 0),
            &[("JIRA_GATE_QUIET", "1"), ("JIRA_GATE_VERBOSE", "1")],
        )
        .unwrap_err();
        assert!(err.contains("quiet and verbose logs at once"), "{err}");
        let err = logging(&log(false, 0), &env(&[("JIRA_GATE_LOG_FORMAT", "xml")]))
            .unwrap_err()
            .1
            .to_string();
        assert!(err.contains("JIRA_GATE_LOG_FORMAT=\"xml\""), "{err}");
        assert!(err.contains("use one of: text, json"), "{err}");
        let l = logging(&log(false, 0), &env(&[("JIRA_GATE_LOG_FORMAT", "JSON")])).unwrap();
        assert_eq!(l.format, LogFormat::Json);
    }

    #[test]
    fn harness_and_at_options_read_their_variables() {
        // Issue 10.
        let file = StepFile::default();
        let p = pick(
            &file,
            &env(&[
                ("JIRA_GATE_HARNESS_STEP", "prod.approve"),
                ("JIRA_GATE_CONNECTOR", "jira.yaml"),
                ("JIRA_GATE_VARS", "version=1.4.2\n\nenv=a=b\n"),
            ]),
        )
        .unwrap();
        assert_eq!(p.harness_step.as_deref(), Some("prod.approve"));
        assert_eq!(p.connector, Some(PathBuf::from("jira.yaml")));
        assert_eq!(
            p.vars,
            vec![
                ("version".to_owned(), "1.4.2".to_owned()),
                ("env".to_owned(), "a=b".to_owned())
            ]
        );
        let flags = StepFile {
            vars: vec![("x".into(), "1".into())],
            ..StepFile::default()
        };
        let p = pick(
            &flags,
            &env(&[("JIRA_GATE_VARS", "y=2"), ("JIRA_GATE_AT", ".jira-gate")]),
        )
        .unwrap();
        assert_eq!(p.vars, vec![("x".to_owned(), "1".to_owned())]);
        assert_eq!(p.at.as_deref(), Some(".jira-gate"));
        let err = pick(&file, &env(&[("JIRA_GATE_VARS", "novalue")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("JIRA_GATE_VARS=\"novalue\""), "{err}");
        let err = pick(
            &file,
            &env(&[("JIRA_GATE_AT", "a"), ("JIRA_GATE_HARNESS_STEP", "b")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("both name the stanza"), "{err}");
    }

    #[test]
    fn bad_overrides_are_named_as_the_flag_or_variable() {
        // Issue 8 #16: not as `ticket.key` / `approval.timeout`.
        let key = |k: Option<&str>| IssueKey {
            issue_key: k.map(str::to_owned),
        };
        let timeout = |t: Option<u64>| Timeout {
            timeout: t.map(|s| format!("{s}s")),
        };
        let err = |k, t, pairs: &[(&str, &str)]| {
            overrides(&key(k), Some(&timeout(t)), &env(pairs))
                .unwrap_err()
                .to_string()
        };
        assert!(
            err(Some("bad"), None, &[]).starts_with("--issue-key \"bad\": is not an issue key")
        );
        assert!(err(None, Some(0), &[]).starts_with("--timeout \"0s\": must be more than 0s"));
        assert!(
            err(None, None, &[("JIRA_GATE_ISSUE_KEY", "bad")])
                .starts_with("JIRA_GATE_ISSUE_KEY=\"bad\"")
        );
        assert!(
            err(None, None, &[("JIRA_GATE_TIMEOUT", "soon")])
                .starts_with("JIRA_GATE_TIMEOUT=\"soon\": is not a duration")
        );
        let github = [("GITHUB_ACTIONS", "true"), ("INPUT_TIMEOUT", "0s")];
        assert!(err(None, None, &github).starts_with("input `timeout` \"0s\""));
        // The flag wins over a bad variable; empty counts as unset.
        let ok = overrides(
            &key(Some("OPS-2")),
            Some(&timeout(Some(60))),
            &env(&[
                ("JIRA_GATE_ISSUE_KEY", "bad"),
                ("JIRA_GATE_TIMEOUT", "soon"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (ok.issue_key.as_deref(), ok.timeout),
            (Some("OPS-2"), Some(Duration::from_secs(60)))
        );
        let ok = overrides(
            &key(None),
            Some(&timeout(None)),
            &env(&[("JIRA_GATE_ISSUE_KEY", ""), ("JIRA_GATE_TIMEOUT", "")]),
        )
        .unwrap();
        assert_eq!((ok.issue_key, ok.timeout), (None, None));
        // A command without --timeout ignores the variable.
        let ok = overrides(&key(None), None, &env(&[("JIRA_GATE_TIMEOUT", "soon")])).unwrap();
        assert_eq!(ok.timeout, None);
    }

    #[test]
    fn switches_take_words_and_numbers() {
        let run = |pairs: &[(&str, &str)]| {
            outputs(&OutputArgs::default(), &Logging::default(), &env(pairs)).map(|o| o.dry_run)
        };
        assert!(run(&[("JIRA_GATE_DRY_RUN", "1")]).unwrap());
        assert!(run(&[("JIRA_GATE_DRY_RUN", "Yes")]).unwrap());
        assert!(!run(&[("JIRA_GATE_DRY_RUN", "false")]).unwrap());
        assert!(!run(&[]).unwrap());
        let err = run(&[("JIRA_GATE_DRY_RUN", "maybe")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("JIRA_GATE_DRY_RUN=\"maybe\""), "{err}");
    }
}
