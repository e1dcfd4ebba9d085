//! `jira-gate run`: read the stanza, run the step ([`crate::gate`]) and write its outputs: the
//! summary line, the result file and the CI outputs. Signal handlers are installed first, so a
//! SIGTERM at any point ends with exit 6 and outputs.

use std::path::Path;

use crate::ci;
use crate::cli::{Global, StepFile};
use crate::env::Env;
use crate::error::{Error, render};
use crate::exit::Exit;
use crate::gate;
use crate::input;
use crate::outcome::{Decision, Report};
use crate::stanza::Stanza;

/// Runs the step to its report, writes the outputs and returns the exit.
pub async fn run(file: StepFile, global: &Global, env: &Env) -> Exit {
    // Signal handlers first: a SIGTERM while the stanza is still being read (a slow stdin
    // or FIFO) must end with exit 6 and outputs, not the default kill.
    let mut shutdown = Shutdown::install();
    let sink = ci::detect_with(&|n| env.get(n), &input::ci_options(global));
    input::mask_early(env, sink.as_ref());
    // Issue 8 #11: outputs that cannot be written are found before Jira is touched.
    if let Err(e) = ci::preflight(sink.as_ref(), global.result_file.as_deref()) {
        return super::report_error(Err(Error::Usage(render(&e))));
    }
    let read = {
        let (file, env) = (file.clone(), env.clone());
        // The clone above goes to the reading thread; `file` stays for parsing.
        tokio::task::spawn_blocking(move || input::source(&file, &env))
    };
    let stanza = tokio::select! {
        read = read => read
            .unwrap_or_else(|e| Err(Error::Usage(format!("reading the stanza failed: {e}"))))
            .and_then(|(name, text)| input::load(&file, &name, &text, global, env, sink.as_ref())),
        signal = shutdown.recv() => {
            let mut report = Report::new(Decision::Cancelled);
            report.message = Some(format!("cancelled by {signal} while reading the stanza"));
            return outputs(report, global, sink.as_ref());
        }
    };
    step_and_outputs(stanza, global, sink.as_ref(), &mut shutdown).await
}

/// The step, then its outputs: summary line, result file, CI outputs.
pub async fn step_and_outputs(
    stanza: Result<Stanza, Error>,
    global: &Global,
    sink: &dyn ci::Sink,
    shutdown: &mut Shutdown,
) -> Exit {
    let report = match stanza {
        Ok(stanza) => gate::run(&stanza, global.dry_run, sink, shutdown.recv()).await,
        Err(e) => {
            let text = render(&e);
            eprintln!("jira-gate: error: {text}");
            let mut report = Report::new(Decision::Error);
            report.exit_code = e.exit();
            report.message = Some(text.lines().next().unwrap_or_default().to_owned());
            report
        }
    };
    if report.decision == Decision::Error && report.exit_code == Exit::Jira {
        if let Some(message) = &report.message {
            eprintln!("jira-gate: error: {message}");
        }
    }
    outputs(report, global, sink)
}

/// Writes the result file and the CI outputs, prints the summary line; returns the exit code
/// (1 when an output could not be written).
fn outputs(mut report: Report, global: &Global, sink: &dyn ci::Sink) -> Exit {
    let mut failures = Vec::new();
    // The CI outputs first: when they fail the exit code becomes 1, and the result file must say
    // the same (issue 8 #3).
    if let Err(e) = sink.finish(&report) {
        failures.push(Error::from(e));
        report.exit_code = Exit::Unexpected;
    }
    if let Some(path) = &global.result_file {
        if let Err(e) = write_result(path, &report) {
            failures.push(e);
            report.exit_code = Exit::Unexpected;
        }
    }
    for failure in &failures {
        eprintln!("jira-gate: error: {}", render(failure));
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
