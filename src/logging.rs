//! Logs go to stderr through `tracing` (stdout is for machine output). `RUST_LOG` wins when set;
//! otherwise `-q` shows warnings, the default is info, `-v` debug and `-vv` trace, all for
//! jira-gate's own modules only (the HTTP stack's debug output carries headers).

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;
use crate::input::Logging;

/// Installs the global subscriber.
pub fn init(logging: &Logging) {
    let level = match (logging.quiet, logging.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,jira_gate={level}")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match logging.format {
        LogFormat::Text => builder
            .with_ansi(false)
            .with_timer(Elapsed(std::time::Instant::now()))
            .try_init(),
        // Machines want absolute RFC 3339 times.
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Seconds since start with millisecond precision (`   4.161s`): how long the step has been
/// running is what a pipeline log reader wants; the CI system adds wall-clock times itself.
struct Elapsed(std::time::Instant);

impl tracing_subscriber::fmt::time::FormatTime for Elapsed {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        write!(w, "{:>8.3}s", self.0.elapsed().as_secs_f64())
    }
}
