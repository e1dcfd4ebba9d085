//! Buildkite: `buildkite-agent meta-data set jira-gate-KEY VALUE` for each output (read later with
//! `buildkite-agent meta-data get jira-gate-decision`), an annotation with the summary table, and
//! `--- ` / `+++ ` log groups. The agent is used only when `buildkite-agent` is on `PATH` (a step
//! in a container without it still gets the groups and the exit code). Empty values are not set,
//! since Buildkite refuses empty meta-data: read them with `meta-data get KEY --default ''`.
//! Secrets are added to the agent's redactor, which masks them in the job log.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Console, Error, Sink, fields};
use crate::outcome::{Decision, Report};

/// The sink; `agent` is the `buildkite-agent` found on `PATH`.
pub(super) struct Buildkite {
    agent: Option<PathBuf>,
    /// The log group lines go to stderr, with the rest of the log.
    stderr: Console,
}

impl Buildkite {
    pub(super) fn new(agent: Option<PathBuf>) -> Self {
        Buildkite {
            agent,
            stderr: Console::stderr(),
        }
    }
}

/// The first executable `buildkite-agent` in the directories of `path`.
pub(super) fn find_agent(path: Option<&str>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .map(|dir| dir.join("buildkite-agent"))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

impl Sink for Buildkite {
    fn name(&self) -> &'static str {
        "buildkite"
    }

    fn mask(&self, secrets: &[&str]) {
        let Some(agent) = &self.agent else { return };
        for secret in secrets.iter().filter(|s| !s.trim().is_empty()) {
            // Older agents have no redactor; their log is masked by variable name only.
            if let Err(e) = run(
                agent,
                &["redactor", "add", "--format", "none"],
                Some(secret),
            ) {
                tracing::debug!("buildkite-agent redactor add: {e}");
            }
        }
    }

    fn section_start(&self, _id: &str, title: &str) {
        self.stderr
            .print(&format!("--- {}\n", title.replace(['\n', '\r'], " ")));
    }

    fn section_end(&self, _id: &str) {
        self.stderr.print("+++ jira-gate\n");
    }

    fn finish(&self, report: &Report) -> Result<(), Error> {
        let Some(agent) = &self.agent else {
            return Ok(());
        };
        for (name, value) in fields(report) {
            if value.is_empty() {
                continue;
            }
            let key = format!("jira-gate-{}", name.replace('_', "-"));
            run(agent, &["meta-data", "set", &key, &value], None)?;
        }
        let style = match report.decision {
            Decision::Approved | Decision::Written | Decision::Finished => "success",
            Decision::Timeout | Decision::Cancelled => "warning",
            Decision::Rejected | Decision::Error | Decision::Blocked => "error",
        };
        run(
            agent,
            &["annotate", "--style", style, "--context", "jira-gate"],
            Some(&super::github::summary_table(report)),
        )
    }
}

/// Runs the agent with `args`, `input` on its stdin; a failure names the subcommand, the exit
/// status and the agent's stderr (never the values, which may be long).
fn run(agent: &Path, args: &[&str], input: Option<&str>) -> Result<(), Error> {
    let command = format!("buildkite-agent {}", args[..2.min(args.len())].join(" "));
    let failed = |detail: String| Error::Command {
        command: command.clone(),
        detail,
    };
    let spawn = || {
        Command::new(agent)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
    };
    let mut child =
        retry_busy(spawn).map_err(|e| failed(format!("cannot start {}: {e}", agent.display())))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| failed(format!("cannot write its input: {e}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(failed(format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// Starts a process with `spawn`, again up to five times 20 ms apart while it fails with ETXTBSY
/// ("Text file busy"): the agent was just written and another thread's fork still holds it open
/// for writing until that child execs, which heals within milliseconds. Any other failure is
/// returned at once.
fn retry_busy<T>(mut spawn: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    const ETXTBSY: i32 = 26;
    let mut started = spawn();
    for _ in 0..5 {
        match &started {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                started = spawn();
            }
            _ => break,
        }
    }
    started
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    /// A fake agent that appends its arguments (and stdin) to `log`, failing for `fail_on`.
    fn fake_agent(dir: &Path, fail_on: &str) -> PathBuf {
        let path = dir.join("buildkite-agent");
        let log = dir.join("calls.log");
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nprintf '%s|' \"$@\" >> '{log}'\nif [ \"$1\" = annotate ] || [ \"$1\" = redactor ]; then printf 'stdin:' >> '{log}'; cat >> '{log}'; fi\necho >> '{log}'\n[ \"$1 $2\" = '{fail_on}' ] && {{ echo 'api said no' >&2; exit 3; }}\nexit 0\n",
                log = log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn finds_the_agent_on_path_only_when_executable() {
        let dir = tempfile::tempdir().unwrap();
        let path = format!("/nonexistent:{}", dir.path().display());
        assert_eq!(find_agent(Some(&path)), None);
        std::fs::write(dir.path().join("buildkite-agent"), "").unwrap();
        assert_eq!(find_agent(Some(&path)), None, "not executable");
        let agent = fake_agent(dir.path(), "");
        assert_eq!(find_agent(Some(&path)), Some(agent));
        assert_eq!(find_agent(None), None);
    }

    #[test]
    fn sets_meta_data_and_annotates() {
        let dir = tempfile::tempdir().unwrap();
        let sink = Buildkite::new(Some(fake_agent(dir.path(), "")));
        let mut r = Report::new(Decision::Approved);
        r.issue_key = Some("OPS-3".into());
        r.decided_by = Some("-x Jane".into());
        sink.finish(&r).unwrap();
        let log = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
        assert!(
            log.starts_with("meta-data|set|jira-gate-decision|approved|\n"),
            "{log}"
        );
        assert!(
            log.contains("meta-data|set|jira-gate-issue-key|OPS-3|\n"),
            "{log}"
        );
        assert!(
            log.contains("meta-data|set|jira-gate-decided-by|-x Jane|\n"),
            "{log}"
        );
        assert!(
            !log.contains("jira-gate-status|"),
            "empty values are skipped: {log}"
        );
        assert!(
            log.contains(
                "annotate|--style|success|--context|jira-gate|stdin:### ✅ jira-gate: approved"
            ),
            "{log}"
        );
    }

    #[test]
    fn an_agent_failure_is_an_error_naming_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let sink = Buildkite::new(Some(fake_agent(dir.path(), "meta-data set")));
        let err = sink.finish(&Report::new(Decision::Rejected)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("buildkite-agent meta-data set failed"),
            "{text}"
        );
        assert!(text.contains("api said no"), "{text}");
    }

    #[test]
    fn secrets_go_to_the_redactor() {
        let dir = tempfile::tempdir().unwrap();
        let sink = Buildkite::new(Some(fake_agent(dir.path(), "")));
        sink.mask(&["s3cret", " "]);
        let log = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
        assert_eq!(log, "redactor|add|--format|none|stdin:s3cret\n");
    }

    #[test]
    fn a_log_section_is_a_collapsed_group_then_an_expanded_one_on_stderr() {
        let (stderr, printed) = crate::ci::Printed::console();
        let sink = Buildkite {
            stderr,
            ..Buildkite::new(None)
        };
        sink.section_start("poll", "Waiting for\nOPS-3");
        sink.section_end("poll");
        assert_eq!(printed.text(), "--- Waiting for OPS-3\n+++ jira-gate\n");
    }

    #[test]
    fn only_a_busy_agent_file_is_retried_and_only_five_times() {
        let attempts = |outcomes: Vec<std::io::Result<()>>| {
            let mut outcomes = outcomes.into_iter();
            let mut calls = 0;
            let result = retry_busy(|| {
                calls += 1;
                outcomes.next().unwrap_or(Ok(()))
            });
            (result.map_err(|e| e.kind()), calls)
        };
        let busy = || Err(std::io::Error::from_raw_os_error(26));
        let missing = || Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(attempts(vec![busy(), busy(), Ok(())]), (Ok(()), 3));
        assert_eq!(
            attempts(vec![missing(), Ok(())]),
            (Err(std::io::ErrorKind::NotFound), 1),
            "a missing agent will not heal"
        );
        let (result, calls) = attempts((0..10).map(|_| busy()).collect());
        assert!(result.is_err());
        assert_eq!(calls, 6, "the first try and five more");
    }

    #[test]
    fn without_an_agent_nothing_runs() {
        Buildkite::new(None)
            .finish(&Report::new(Decision::Error))
            .unwrap();
    }
}
