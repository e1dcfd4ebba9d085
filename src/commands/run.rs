//! `jira-gate run`: read the stanza, run the step ([`crate::gate`]) and write its outputs: the
//! summary line, the result file and the CI outputs. Signal handlers are installed first, so a
//! SIGTERM at any point ends with exit 6 and outputs.

use std::path::Path;

use crate::ci;
use crate::cli::RunArgs;
use crate::env::Env;
use crate::error::{Error, render};
use crate::exit::Exit;
use crate::gate;
use crate::input::{self, Outputs};
use crate::logging::Logging;
use crate::logging::{self, Level};
use crate::outcome::{Decision, Report};
use crate::stanza::Stanza;

/// Runs the step to its report, writes the outputs and returns the exit.
pub async fn run(args: RunArgs, logging: &Logging, env: &Env) -> Exit {
    // Signal handlers first: a SIGTERM while the stanza is still being read (a slow stdin
    // or FIFO) must end with exit 6 and outputs, not the default kill.
    let shutdown = Shutdown::install();
    let options = match input::outputs(&args.output, logging, env) {
        Ok(options) => options,
        Err(e) => return super::report_error(Err(e)),
    };
    let sink = ci::detect_with(&|n| env.get(n), &options.ci);
    input::mask_early(env, sink.as_ref());
    // Issue 8 #11: outputs that cannot be written are found before Jira is touched.
    if let Err(e) = super::preflight(sink.as_ref(), options.result_file.as_deref()) {
        return super::report_error(Err(e));
    }
    // Flags and variables before the stanza: a bad one is reported as such.
    let (overrides, pick) = match input::overrides(&args.issue_key, Some(&args.timeout), env)
        .and_then(|overrides| Ok((overrides, input::pick(&args.file, env)?)))
    {
        Ok(both) => both,
        Err(e) => {
            return step_and_outputs(Err(e), &options, sink.as_ref(), &shutdown).await;
        }
    };
    let read = {
        let (file, env) = (args.file.clone(), env.clone());
        tokio::task::spawn_blocking(move || input::source(&file, &env))
    };
    let stanza = tokio::select! {
        read = read => read
            .unwrap_or_else(|e| {
                // The reading thread panicked: a bug, not the user's input (exit 1).
                Err(Error::Io {
                    what: "reading the stanza failed unexpectedly (please report it)".into(),
                    source: std::io::Error::other(e.to_string()),
                })
            })
            .and_then(|(name, text)| input::load(&pick, &name, &text, &overrides, env, sink.as_ref())),
        signal = shutdown.recv() => {
            let mut report = Report::new(Decision::Cancelled);
            report.message = Some(format!("cancelled by {signal} while reading the stanza"));
            return outputs(report, &options, sink.as_ref());
        }
    };
    step_and_outputs(stanza, &options, sink.as_ref(), &shutdown).await
}

/// The step, then its outputs: summary line, result file, CI outputs.
pub async fn step_and_outputs(
    stanza: Result<Stanza, Error>,
    options: &Outputs,
    sink: &dyn ci::Sink,
    shutdown: &Shutdown,
) -> Exit {
    let report = match stanza {
        Ok(stanza) => {
            let report = gate::run(
                &stanza,
                options.dry_run,
                sink,
                shutdown.recv(),
                shutdown.again(),
            )
            .await;
            // Jira's error, or a step that cannot fit the project (exit 2), said once.
            if report.decision == Decision::Error {
                if let Some(message) = &report.message {
                    super::error_line(message);
                }
            }
            report
        }
        Err(e) => {
            let text = render(&e);
            super::error_line(&text);
            let mut report = Report::new(Decision::Error);
            report.exit_code = e.exit();
            report.message = Some(text.lines().next().unwrap_or_default().to_owned());
            report
        }
    };
    outputs(report, options, sink)
}

/// Writes the result file and the CI outputs, prints the summary line; returns the exit code
/// (1 when an output could not be written).
pub(super) fn outputs(mut report: Report, options: &Outputs, sink: &dyn ci::Sink) -> Exit {
    let mut failures = Vec::new();
    // The CI outputs first: when they fail the exit code becomes 1, and the result file must say
    // the same (issue 8 #3).
    if let Err(e) = sink.finish(&report) {
        failures.push(Error::from(e));
        report.exit_code = Exit::Unexpected;
    }
    if let Some(path) = &options.result_file {
        if let Err(e) = write_result(path, &report) {
            failures.push(e);
            report.exit_code = Exit::Unexpected;
        }
    }
    for failure in &failures {
        super::error_line(&render(failure));
    }
    // The summary, with the result record's fields in JSON mode (issue 8 #15).
    let fields = match serde_json::to_value(&report) {
        Ok(serde_json::Value::Object(fields)) => Some(fields),
        _ => None,
    };
    logging::line(Level::Info, &report.summary(), fields);
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
/// would end the process without outputs). The first signal cancels the run; a second one
/// (issue 8 #16) abandons what the cancellation still does with Jira (the `on_cancel_comment`),
/// so the step ends at once, still with exit 6 and its outputs, which are written locally.
pub struct Shutdown {
    /// How many signals have arrived, and the last one's name.
    signals: tokio::sync::watch::Receiver<(u32, &'static str)>,
}

impl Shutdown {
    /// Installs the handlers (inside the runtime) and a task that counts the signals.
    pub fn install() -> Self {
        let (count, signals) = tokio::sync::watch::channel((0, ""));
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = signal(SignalKind::terminate())
                .ok()
                .zip(signal(SignalKind::interrupt()).ok());
            if let Some((mut term, mut int)) = streams {
                tokio::spawn(async move {
                    loop {
                        let name = tokio::select! {
                            got = term.recv() => got.map(|()| "SIGTERM"),
                            got = int.recv() => got.map(|()| "SIGINT"),
                        };
                        let Some(name) = name else { break };
                        count.send_modify(|(n, last)| (*n, *last) = (*n + 1, name));
                    }
                });
            }
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                count.send_modify(|(n, last)| (*n, *last) = (*n + 1, "Ctrl-C"));
            }
        });
        Shutdown { signals }
    }

    /// Resolves with the signal's name when the first one arrives.
    pub fn recv(&self) -> impl std::future::Future<Output = &'static str> + use<> {
        self.nth(1)
    }

    /// Resolves with the signal's name when a second one arrives.
    pub fn again(&self) -> impl std::future::Future<Output = &'static str> + use<> {
        self.nth(2)
    }

    fn nth(&self, n: u32) -> impl std::future::Future<Output = &'static str> + use<> {
        let mut signals = self.signals.clone();
        async move {
            match signals.wait_for(|(count, _)| *count >= n).await {
                Ok(seen) => seen.1,
                // No handler could be installed: no signal will ever be counted.
                Err(_) => std::future::pending().await,
            }
        }
    }
}
