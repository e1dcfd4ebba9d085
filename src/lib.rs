//! jira-gate: a pipeline approval step for Jira.
//!
//! The step reads one YAML stanza, creates or updates a Jira ticket, waits for its status to meet
//! the approval or rejection criteria and ends with an exit code the pipeline acts on. `main.rs`
//! only parses the command line, starts the runtime and returns the code; the work starts in
//! [`run`].

pub mod check;
pub mod ci;
pub mod cli;
pub mod criteria;
pub mod env;
pub mod error;
pub mod gate;
pub mod harness;
pub mod interpolate;
pub mod jira;
pub mod logging;
pub mod outcome;
pub mod poll;
pub mod retry;
pub mod sandbox;
pub mod secret;
pub mod stanza;
pub mod step;

use std::path::{Path, PathBuf};

use cli::{Cli, Command, DemoArgs, Global, StepFile};
use env::Env;
use error::Error;
use outcome::{Decision, Report};
use stanza::{Overrides, Stanza};

/// The stanza `demo` runs (also shipped as `steps/demo.yml`).
pub const DEMO_STANZA: &str = include_str!("../steps/demo.yml");

/// Runs one command and returns the process exit code.
pub async fn run(cli: Cli, env: Env) -> u8 {
    let global = cli.global;
    match cli.command {
        Command::Schema => {
            print!("{}", stanza::json_schema());
            0
        }
        Command::Validate(file) => report_error(validate(&file, &global, &env)),
        Command::Check(file) => {
            let sink = ci::detect(&|n| env.get(n));
            mask_early(&env, sink.as_ref());
            match source(&file, &env)
                .and_then(|(name, text)| load(&name, &text, &global, &env, sink.as_ref()))
            {
                Ok(stanza) => report_error(check::run(&stanza).await),
                Err(e) => report_error(Err(e)),
            }
        }
        Command::Run(file) => {
            // Signal handlers first: a SIGTERM while the stanza is still being read (a slow stdin
            // or FIFO) must end with exit 6 and outputs, not the default kill.
            let mut shutdown = Shutdown::install();
            let sink = ci::detect(&|n| env.get(n));
            mask_early(&env, sink.as_ref());
            let read = {
                let (file, env) = (file.clone(), env.clone());
                tokio::task::spawn_blocking(move || source(&file, &env))
            };
            let stanza = tokio::select! {
                read = read => read
                    .unwrap_or_else(|e| Err(Error::Usage(format!("reading the stanza failed: {e}"))))
                    .and_then(|(name, text)| load(&name, &text, &global, &env, sink.as_ref())),
                signal = shutdown.recv() => {
                    let mut report = Report::new(Decision::Cancelled);
                    report.message = Some(format!("cancelled by {signal} while reading the stanza"));
                    return outputs(report, &global, sink.as_ref());
                }
            };
            step_and_outputs(stanza, &global, sink.as_ref(), &mut shutdown).await
        }
        Command::Sandbox(args) => match sandbox::serve(*args).await {
            Ok(()) => 0,
            Err(e) => report_error(Err(Error::Io {
                what: "the sandbox failed".into(),
                source: e,
            })),
        },
        Command::Demo(args) => demo(&args, &global, env).await,
    }
}

/// Prints an error once as `jira-gate: error: …` and returns its exit code (0 for `Ok`).
fn report_error(result: Result<(), Error>) -> u8 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("jira-gate: error: {}", render(&e));
            e.exit_code()
        }
    }
}

/// An error with its source chain, each cause once (some messages already include their source).
pub fn render(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

fn validate(file: &StepFile, global: &Global, env: &Env) -> Result<(), Error> {
    let (name, text) = source(file, env)?;
    let stanza = parse(&name, &text, global, env)?;
    for warning in &stanza.warnings {
        eprintln!("jira-gate: warning: {warning}");
    }
    eprintln!("jira-gate: {} is valid: {}", stanza.file, describe(&stanza));
    Ok(())
}

/// One line on what the stanza will do.
fn describe(stanza: &Stanza) -> String {
    let ticket = &stanza.ticket;
    let write = match &ticket.key {
        Some(key) => format!("updates {key}"),
        None => format!(
            "creates a {} in {}{}",
            ticket.issue_type.as_deref().unwrap_or("?"),
            ticket.project.as_deref().unwrap_or("?"),
            if ticket.dedupe.is_some() {
                " (deduplicated)"
            } else {
                ""
            }
        ),
    };
    match &stanza.approval {
        Some(a) => format!(
            "{write}, then waits up to {} for {}",
            humantime::format_duration(a.timeout),
            a.approve.describe()
        ),
        None => format!("{write}; no approval section, so it does not wait"),
    }
}

/// Finds the stanza text: FILE (or $JIRA_GATE_STEP_FILE), then inline $JIRA_GATE_STEP, then
/// ./jira-gate.yml.
fn source(file: &StepFile, env: &Env) -> Result<(String, String), Error> {
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

fn parse(name: &str, text: &str, global: &Global, env: &Env) -> Result<Stanza, Error> {
    let lookup = |n: &str| env.get(n);
    let overrides = Overrides {
        issue_key: global
            .issue_key
            .clone()
            .or_else(|| env.get("JIRA_GATE_ISSUE_KEY"))
            .filter(|k| !k.trim().is_empty()),
        timeout: match global.timeout {
            Some(t) => Some(t),
            None => env
                .github_input("timeout")
                .map(|t| {
                    humantime::parse_duration(t.trim()).map_err(|e| {
                        Error::Usage(format!("input `timeout` {t:?} is not a duration: {e}"))
                    })
                })
                .transpose()?,
        },
    };
    Ok(stanza::from_str(text, name, &lookup)?.validate(name, &overrides)?)
}

/// Masks the values of the variables known to hold secrets; called before anything else is
/// printed (GitHub needs the masks first).
fn mask_early(env: &Env, sink: &dyn ci::Sink) {
    let early = env.secret_values();
    sink.mask(&early.iter().map(String::as_str).collect::<Vec<_>>());
}

/// Parses the stanza for `run`/`check` and masks its token (the variables known to hold secrets
/// were masked by [`mask_early`] before anything else was printed), then prints its warnings.
fn load(
    name: &str,
    text: &str,
    global: &Global,
    env: &Env,
    sink: &dyn ci::Sink,
) -> Result<Stanza, Error> {
    let stanza = parse(name, text, global, env)?;
    let token = stanza.jira.auth.secret().expose();
    if !env.secret_values().iter().any(|s| s == token) {
        sink.mask(&[token]);
    }
    for warning in &stanza.warnings {
        tracing::warn!("{warning}");
    }
    Ok(stanza)
}

/// The step, then its outputs: summary line, result file, CI outputs.
async fn step_and_outputs(
    stanza: Result<Stanza, Error>,
    global: &Global,
    sink: &dyn ci::Sink,
    shutdown: &mut Shutdown,
) -> u8 {
    let report = match stanza {
        Ok(stanza) => gate::run(&stanza, global.dry_run, sink, shutdown.recv()).await,
        Err(e) => {
            let text = render(&e);
            eprintln!("jira-gate: error: {text}");
            let mut report = Report::new(Decision::Error);
            report.exit_code = e.exit_code();
            report.message = Some(text.lines().next().unwrap_or_default().to_owned());
            report
        }
    };
    if report.decision == Decision::Error && report.exit_code == 5 {
        if let Some(message) = &report.message {
            eprintln!("jira-gate: error: {message}");
        }
    }
    outputs(report, global, sink)
}

/// Writes the result file and the CI outputs, prints the summary line; returns the exit code
/// (1 when an output could not be written).
fn outputs(mut report: Report, global: &Global, sink: &dyn ci::Sink) -> u8 {
    let mut failures = Vec::new();
    if let Some(path) = &global.result_file {
        if let Err(e) = write_result(path, &report) {
            failures.push(e);
        }
    }
    if let Err(e) = sink.finish(&report) {
        failures.push(e.into());
    }
    for failure in &failures {
        eprintln!("jira-gate: error: {}", render(failure));
    }
    if !failures.is_empty() {
        report.exit_code = 1;
    }
    eprintln!("{}", report.summary());
    report.exit_code
}

fn write_result(path: &Path, report: &Report) -> Result<(), Error> {
    let mut json = serde_json::to_string_pretty(report).expect("a report serializes");
    json.push('\n');
    std::fs::write(path, json).map_err(|source| Error::Io {
        what: format!("cannot write the result file {}", path.display()),
        source,
    })
}

/// SIGINT and SIGTERM (GitLab sends SIGTERM when a job is cancelled). The handlers are installed
/// by [`Shutdown::install`], at once, so that a signal is never met by the default action (which
/// would end the process without outputs).
pub struct Shutdown {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    /// Installs the handlers (inside the runtime).
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = signal(SignalKind::terminate())
                .ok()
                .zip(signal(SignalKind::interrupt()).ok());
            Shutdown { streams }
        }
        #[cfg(not(unix))]
        Shutdown {}
    }

    /// Resolves with the signal's name when one arrives.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            let Some((term, int)) = self.streams.as_mut() else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// `jira-gate demo`: an in-process sandbox that approves (or rejects) after a few seconds, and the
/// real step against it.
async fn demo(args: &DemoArgs, global: &Global, env: Env) -> u8 {
    let mut sandbox_args = sandbox::Args {
        listen: "127.0.0.1:0".parse().expect("a literal address"),
        flavor: args.flavor,
        ..sandbox::Args::default()
    };
    let delay = sandbox::DelayRange {
        min: args.approve_after,
        max: args.approve_after,
    };
    if args.reject {
        sandbox_args.reject_after = Some(delay);
    } else {
        sandbox_args.approve_after = Some(delay);
    }
    let sandbox = match sandbox::Sandbox::start(sandbox_args).await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            return report_error(Err(Error::Io {
                what: "cannot start the demo sandbox".into(),
                source: e,
            }));
        }
    };
    eprintln!(
        "jira-gate demo: a sandbox Jira ({:?}) runs at {}",
        args.flavor,
        sandbox.base_url()
    );
    eprintln!(
        "jira-gate demo: the stanza is steps/demo.yml; a simulated approver acts {} after the request",
        humantime::format_duration(args.approve_after)
    );
    let env = env.with_overrides(demo_env(&sandbox, args.flavor));
    let sink = ci::detect(&|n| env.get(n));
    let stanza = parse("steps/demo.yml", DEMO_STANZA, global, &env);
    step_and_outputs(stanza, global, sink.as_ref(), &mut Shutdown::install()).await
}

/// The variables `steps/demo.yml` interpolates, pointing at the sandbox's default credentials.
fn demo_env(sandbox: &sandbox::Sandbox, flavor: sandbox::Flavor) -> Vec<(String, String)> {
    let (user, token) = match flavor {
        sandbox::Flavor::Cloud => ("ci-bot@example.com", "sandbox-token"),
        sandbox::Flavor::Datacenter => ("ci-bot", "sandbox-password"),
    };
    vec![
        ("JIRA_URL".into(), sandbox.base_url()),
        ("JIRA_USER".into(), user.into()),
        ("JIRA_API_TOKEN".into(), token.into()),
    ]
}
