//! Logs go to stderr through `tracing` (stdout is for machine output). `RUST_LOG` wins when set;
//! otherwise `-q` shows warnings, the default is info, `-v` debug and `-vv` trace, all for
//! jira-gate's own modules only (the HTTP stack's debug output carries headers).
//!
//! The lines a command prints itself (the summary, `jira-gate: error: …`, warnings, `check`'s
//! findings) go through [`line()`], so that under `--log-format json` every line on stderr is one
//! JSON object, shaped as `tracing`'s own (issue 8 #15).

use std::sync::OnceLock;

use serde_json::{Map, Value as Json};
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// The logging settings, resolved over their variables by `crate::input::logging`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Logging {
    /// Only warnings, errors and the summary line.
    pub quiet: bool,
    /// 0 info, 1 debug, 2 or more trace.
    pub verbose: u8,
    /// Text or JSON lines on stderr.
    pub format: LogFormat,
}

/// The format [`init`] chose; text until then.
static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Installs the global subscriber.
pub fn init(logging: &Logging) {
    let _ = FORMAT.set(logging.format);
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

/// How important a [`line()`] is (its `level` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The summary, `validate`'s verdict, `check`'s findings.
    Info,
    /// `jira-gate: warning: …`.
    Warn,
    /// `jira-gate: error: …`.
    Error,
}

/// Prints one of the command's own lines on stderr: as it is in text mode, as a JSON object with
/// `timestamp`, `level`, `message` and `extra`'s keys under `--log-format json`.
pub fn line(level: Level, text: &str, extra: Option<Map<String, Json>>) {
    eprintln!(
        "{}",
        render(
            FORMAT.get().copied().unwrap_or_default(),
            level,
            text,
            extra
        )
    );
}

/// [`line()`]'s text.
fn render(format: LogFormat, level: Level, text: &str, extra: Option<Map<String, Json>>) -> String {
    if format == LogFormat::Text {
        return text.to_owned();
    }
    let mut object = Map::new();
    object.insert(
        "timestamp".into(),
        humantime::format_rfc3339_micros(std::time::SystemTime::now())
            .to_string()
            .into(),
    );
    let level = match level {
        Level::Info => "INFO",
        Level::Warn => "WARN",
        Level::Error => "ERROR",
    };
    object.insert("level".into(), level.into());
    object.insert("message".into(), text.into());
    for (key, value) in extra.unwrap_or_default() {
        object.entry(key).or_insert(value);
    }
    Json::Object(object).to_string()
}

/// Seconds since start with millisecond precision (`   4.161s`): how long the step has been
/// running is what a pipeline log reader wants; the CI system adds wall-clock times itself.
struct Elapsed(std::time::Instant);

impl tracing_subscriber::fmt::time::FormatTime for Elapsed {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        write!(w, "{:>8.3}s", self.0.elapsed().as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_one_object_each() {
        let text = "jira-gate: error: a.yml:3:29: bad\n  hint: quote it";
        assert_eq!(render(LogFormat::Text, Level::Error, text, None), text);
        let mut extra = Map::new();
        extra.insert("decision".into(), "approved".into());
        extra.insert("level".into(), "ignored".into());
        let json = render(LogFormat::Json, Level::Error, text, Some(extra));
        assert!(!json.contains('\n'), "{json}");
        let value: Json = serde_json::from_str(&json).unwrap();
        assert_eq!(value["level"], "ERROR");
        assert_eq!(value["message"], text);
        assert_eq!(value["decision"], "approved");
    }
}
