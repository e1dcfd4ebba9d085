//! GitLab CI: a dotenv file for `artifacts: reports: dotenv`, and collapsible log sections.
//!
//! GitLab's dotenv parser is much stricter than the dotenv libraries: each line must be
//! `KEY=VALUE`, split at the first `=`, with key and value stripped of surrounding whitespace and
//! no quote processing at all (quotes would become part of the value), no empty lines, no
//! comments, no multi-line values; keys are letters, digits and `_` (at most 255); the file must be
//! smaller than 5 KB and, by the default instance limit, hold at most 20 variables. One bad line
//! makes GitLab drop the whole report, so values it would reject or change are refused here with
//! an error naming the variable, and nothing is written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Console, Error, Sink, append, check_writable, fields};
use crate::outcome::Report;

/// Where the dotenv goes when `JIRA_GATE_DOTENV` is unset: the job's working directory.
pub(super) const DEFAULT_DOTENV: &str = "jira-gate.env";

/// GitLab refuses a dotenv artifact of this size or more (the default `dotenv_size` limit).
const MAX_FILE_BYTES: usize = 5 * 1024;

/// The default `dotenv_variables` limit of a self-managed instance (GitLab.com allows more).
const MAX_VARIABLES: usize = 20;

/// The longest variable name GitLab stores.
const MAX_KEY_LEN: usize = 255;

/// The GitLab CI sink.
pub(super) struct GitLab {
    dotenv: PathBuf,
    /// The section lines go to stderr, with the rest of the log.
    stderr: Console,
}

impl GitLab {
    pub(super) fn new(dotenv: PathBuf) -> Self {
        GitLab {
            dotenv,
            stderr: Console::stderr(),
        }
    }
}

impl Sink for GitLab {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    /// GitLab masks variables through the project's settings; nothing to print.
    fn mask(&self, _secrets: &[&str]) {}

    fn section_start(&self, id: &str, title: &str) {
        self.stderr.print(&section_start(unix_now(), id, title));
    }

    fn section_end(&self, id: &str) {
        self.stderr.print(&section_end(unix_now(), id));
    }

    fn finish(&self, report: &Report) -> Result<(), Error> {
        let existing = self.existing()?;
        let block = dotenv_block(&self.dotenv, &existing, report)?;
        append("GitLab dotenv", &self.dotenv, &block)
    }

    fn preflight(&self) -> Result<(), Error> {
        self.existing()?;
        check_writable("GitLab dotenv", &self.dotenv)
    }
}

impl GitLab {
    /// The file's current content (other steps may have written to it), empty when missing. An
    /// unreadable file is an error: appending blindly could break GitLab's limits unseen.
    fn existing(&self) -> Result<String, Error> {
        match std::fs::read_to_string(&self.dotenv) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(source) => Err(Error::File {
                what: "GitLab dotenv",
                path: self.dotenv.clone(),
                source,
            }),
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// GitLab section names may hold letters, digits, `_`, `.` and `-`; anything else becomes `_`.
fn section_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn section_start(unix: u64, id: &str, title: &str) -> String {
    let title = title.replace(['\n', '\r'], " ");
    format!(
        "\x1b[0Ksection_start:{unix}:{}[collapsed=true]\r\x1b[0K{title}\n",
        section_id(id)
    )
}

fn section_end(unix: u64, id: &str) -> String {
    format!("\x1b[0Ksection_end:{unix}:{}\r\x1b[0K\n", section_id(id))
}

/// The lines to append, after checking every value and the resulting file against GitLab's rules.
/// `existing` is the file's current content (other steps may have written to it).
fn dotenv_block(path: &Path, existing: &str, report: &Report) -> Result<String, Error> {
    let refuse = |key: &str, reason: String| Error::Dotenv {
        path: path.to_owned(),
        key: key.to_owned(),
        reason,
    };
    let mut block = String::new();
    // A file that does not end with a line break would glue our first line onto its last one.
    if !existing.is_empty() && !existing.ends_with('\n') {
        block.push('\n');
    }
    let mut keys: Vec<String> = existing
        .lines()
        .filter_map(|line| line.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .collect();
    for (name, value) in fields(report) {
        let key = format!("JIRA_GATE_{}", name.to_ascii_uppercase());
        check_key(&key).map_err(|reason| refuse(&key, reason))?;
        check_value(&value).map_err(|reason| refuse(&key, reason))?;
        let _ = writeln!(block, "{key}={value}");
        keys.push(key);
    }
    keys.sort();
    keys.dedup();
    if keys.len() > MAX_VARIABLES {
        return Err(refuse(
            "its variables",
            format!(
                "the file would hold {} variables and GitLab's default limit is {MAX_VARIABLES}; \
                 point JIRA_GATE_DOTENV at a file of its own",
                keys.len()
            ),
        ));
    }
    let size = existing.len() + block.len();
    if size >= MAX_FILE_BYTES {
        return Err(refuse(
            "its variables",
            format!(
                "the file would be {size} bytes and GitLab accepts less than {MAX_FILE_BYTES}; \
                 point JIRA_GATE_DOTENV at a file of its own"
            ),
        ));
    }
    Ok(block)
}

fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!("a key must have 1 to {MAX_KEY_LEN} characters"));
    }
    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err("a key may contain only letters, digits and '_'".to_owned());
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), String> {
    if value.contains(['\n', '\r']) {
        return Err(format!(
            "the value {:?} spans several lines and GitLab's dotenv holds one variable per line",
            shorten(value)
        ));
    }
    if value.trim() != value {
        return Err(format!(
            "the value {:?} starts or ends with whitespace, which GitLab's dotenv parser strips",
            shorten(value)
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the value {:?} holds the control character {c:?}",
            shorten(value)
        ));
    }
    Ok(())
}

/// The start of a long value, for error messages.
fn shorten(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let mut s: String = value.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_of_the_longest_length_gitlab_takes_pass_and_one_more_fails() {
        let longest = "K".repeat(super::MAX_KEY_LEN);
        assert_eq!(super::check_key(&longest), Ok(()));
        assert!(super::check_key(&format!("{longest}K")).is_err());
        assert!(super::check_key("").is_err());
    }

    #[test]
    fn messages_quote_a_long_value_cut_at_sixty_characters() {
        let sixty = "v".repeat(60);
        assert_eq!(super::shorten(&sixty), sixty);
        assert_eq!(super::shorten("short"), "short");
        let cut = super::shorten(&format!("{sixty}-and-more"));
        assert_eq!(cut, format!("{sixty}…"));
        let err = super::check_value(" padded").unwrap_err();
        assert!(err.contains("\" padded\""), "{err}");
    }

    use super::*;
    use crate::ci::Printed;
    use crate::outcome::Decision;

    fn approved() -> Report {
        let mut r = Report::new(Decision::Approved);
        r.issue_key = Some("OPS-12".into());
        r.issue_url = Some("https://jira.example.com/browse/OPS-12?a=b".into());
        r.status = Some("Won't Do".into());
        r.decided_by = Some("\"Jane\" Doe".into());
        r.waited_seconds = 42;
        r.polls = 3;
        r
    }

    #[test]
    fn writes_every_variable_unquoted() {
        let block = dotenv_block(Path::new("x.env"), "", &approved()).unwrap();
        assert_eq!(
            block,
            "JIRA_GATE_DECISION=approved\nJIRA_GATE_ISSUE_KEY=OPS-12\n\
             JIRA_GATE_ISSUE_URL=https://jira.example.com/browse/OPS-12?a=b\n\
             JIRA_GATE_CREATED=false\nJIRA_GATE_STATUS=Won't Do\nJIRA_GATE_STATUS_CATEGORY=\n\
             JIRA_GATE_RESOLUTION=\nJIRA_GATE_DECIDED_BY=\"Jane\" Doe\nJIRA_GATE_DECIDED_AT=\n\
             JIRA_GATE_WAITED_SECONDS=42\nJIRA_GATE_POLLS=3\nJIRA_GATE_EXIT_CODE=0\n"
        );
        // Every line parses the way GitLab does it: first '=' splits, both sides stripped.
        for line in block.lines() {
            let (key, value) = line.split_once('=').unwrap();
            assert_eq!(key.trim(), key);
            assert_eq!(value.trim(), value);
        }
    }

    #[test]
    fn refuses_values_gitlab_would_reject_or_change() {
        let cases: &[(&str, &str)] = &[
            ("two\nlines", "spans several lines"),
            ("carriage\rreturn", "spans several lines"),
            (" leading", "whitespace"),
            ("trailing\t", "whitespace"),
            ("bell\u{7}", "control character"),
        ];
        // Values that decide (the key, the URL) are refused; informational ones are cleaned.
        for (value, why) in cases {
            let mut r = approved();
            r.issue_key = Some((*value).to_owned());
            let err = dotenv_block(Path::new("job.env"), "", &r).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("JIRA_GATE_ISSUE_KEY"), "{text}");
            assert!(text.contains("job.env"), "{text}");
            assert!(text.contains(why), "{value:?}: {text}");
        }
    }

    #[test]
    fn key_rules() {
        assert!(check_key("JIRA_GATE_X1").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("A-B").is_err());
        assert!(check_key(&"A".repeat(256)).is_err());
    }

    #[test]
    fn refuses_a_file_over_gitlab_limits() {
        let many: String = (0..9).fold(String::new(), |mut s, i| {
            let _ = writeln!(s, "OTHER_{i}=x");
            s
        });
        let err = dotenv_block(Path::new("a.env"), &many, &approved()).unwrap_err();
        assert!(err.to_string().contains("21 variables"), "{err}");

        let big = format!("BIG={}\n", "x".repeat(MAX_FILE_BYTES));
        let err = dotenv_block(Path::new("a.env"), &big, &approved()).unwrap_err();
        assert!(err.to_string().contains("less than 5120"), "{err}");

        // Our own keys written twice (a retried step) still count once.
        let ours = dotenv_block(Path::new("a.env"), "", &approved()).unwrap();
        assert!(dotenv_block(Path::new("a.env"), &ours, &approved()).is_ok());
    }

    #[test]
    fn twenty_variables_is_the_limit_and_allowed() {
        // Our 12 plus 8 from other steps: exactly GitLab's default limit, which is accepted.
        let others = |n: usize| {
            (0..n).fold(String::new(), |mut s, i| {
                let _ = writeln!(s, "OTHER_{i}=x");
                s
            })
        };
        assert!(dotenv_block(Path::new("a.env"), &others(8), &approved()).is_ok());
        let err = dotenv_block(Path::new("a.env"), &others(9), &approved()).unwrap_err();
        assert!(err.to_string().contains("21 variables"), "{err}");
    }

    #[test]
    fn informational_values_are_made_dotenv_safe() {
        // Issue 8 #3: an approver's display name with a trailing space or a line break must not
        // cost an approved gate its dotenv.
        for by in ["Jane Doe ", "Jane Doe\n", " Jane\r\nDoe", "Jane\tDoe"] {
            let mut r = approved();
            r.decided_by = Some(by.to_owned());
            let block = dotenv_block(Path::new("a.env"), "", &r).unwrap();
            let line = block
                .lines()
                .find(|l| l.starts_with("JIRA_GATE_DECIDED_BY="))
                .unwrap();
            assert!(
                line == "JIRA_GATE_DECIDED_BY=Jane Doe" || line == "JIRA_GATE_DECIDED_BY=Jane  Doe",
                "{by:?}: {line:?}"
            );
            assert!(block.contains("JIRA_GATE_DECISION=approved\n"));
        }
    }

    #[test]
    fn a_value_that_decides_is_refused_not_changed() {
        let mut r = approved();
        r.issue_key = Some("OPS-12 ".into());
        let err = dotenv_block(Path::new("a.env"), "", &r).unwrap_err();
        assert!(err.to_string().contains("JIRA_GATE_ISSUE_KEY"), "{err}");
    }

    #[test]
    fn an_unreadable_dotenv_is_not_appended_to() {
        // Not UTF-8: it cannot be read as text (so its variables cannot be counted) but could
        // still be appended to; it must be left alone.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jira-gate.env");
        std::fs::write(&path, b"A=\xff\n").unwrap();
        let sink = GitLab::new(path.clone());
        let err = sink.finish(&approved()).unwrap_err();
        assert!(err.to_string().contains("GitLab dotenv"), "{err}");
        assert!(err.to_string().contains("jira-gate.env"), "{err}");
        assert!(sink.preflight().is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"A=\xff\n");
    }

    #[test]
    fn starts_a_new_line_after_an_unterminated_file() {
        let block = dotenv_block(Path::new("a.env"), "OTHER=1", &approved()).unwrap();
        assert!(
            block.starts_with("\nJIRA_GATE_DECISION=approved\n"),
            "{block}"
        );
    }

    #[test]
    fn finish_appends_and_refuses_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jira-gate.env");
        std::fs::write(&path, "BUILD_ID=7\n").unwrap();
        let sink = GitLab::new(path.clone());
        sink.finish(&approved()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("BUILD_ID=7\nJIRA_GATE_DECISION=approved\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 13);

        let mut bad = approved();
        bad.issue_url = Some("https://x\n".into());
        assert!(sink.finish(&bad).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn a_log_section_is_printed_on_stderr_stamped_with_the_current_time() {
        let (stderr, printed) = Printed::console();
        let sink = GitLab {
            stderr,
            ..GitLab::new(PathBuf::from("unused.env"))
        };
        let before = unix_now_for_test();
        sink.mask(&["s3cret"]);
        sink.section_start("poll loop", "Waiting for OPS-12");
        sink.section_end("poll loop");
        let after = unix_now_for_test();
        let text = printed.text();
        let stamps: Vec<u64> = text
            .split(['\n', '\r'])
            .filter_map(|line| line.strip_prefix("\x1b[0Ksection_"))
            .map(|rest| {
                let stamp = rest.split(':').nth(1).unwrap();
                stamp.parse().unwrap()
            })
            .collect();
        assert_eq!(stamps.len(), 2, "{text:?}");
        for &stamp in &stamps {
            assert!(
                before <= stamp && stamp <= after,
                "{stamp} not in {before}..={after}"
            );
        }
        assert_eq!(
            text,
            format!(
                "{}{}",
                section_start(stamps[0], "poll loop", "Waiting for OPS-12"),
                section_end(stamps[1], "poll loop")
            ),
            "nothing printed for the secrets, which GitLab masks by its settings"
        );
    }

    /// The Unix time in seconds, read independently of `unix_now`.
    fn unix_now_for_test() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn a_missing_dotenv_is_created_by_finish_and_left_absent_by_preflight() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jira-gate.env");
        let sink = GitLab::new(path.clone());
        sink.preflight().unwrap();
        assert!(!path.exists(), "the probe leaves nothing behind");
        sink.finish(&approved()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, dotenv_block(&path, "", &approved()).unwrap());
    }

    #[test]
    fn a_file_just_under_five_kilobytes_is_accepted_and_five_kilobytes_refused() {
        let ours = dotenv_block(Path::new("a.env"), "", &approved()).unwrap();
        // One other variable whose line brings the file to 5119 bytes, then to 5120.
        let other = |total: usize| {
            let line_len = total - ours.len();
            format!("OTHER={}\n", "x".repeat(line_len - "OTHER=\n".len()))
        };
        assert!(dotenv_block(Path::new("a.env"), &other(MAX_FILE_BYTES - 1), &approved()).is_ok());
        let err =
            dotenv_block(Path::new("a.env"), &other(MAX_FILE_BYTES), &approved()).unwrap_err();
        assert!(err.to_string().contains("would be 5120 bytes"), "{err}");
    }

    #[test]
    fn sections() {
        assert_eq!(
            section_start(1_700_000_000, "poll loop", "Polling OPS-12\nnow"),
            "\x1b[0Ksection_start:1700000000:poll_loop[collapsed=true]\r\x1b[0KPolling OPS-12 now\n"
        );
        assert_eq!(
            section_end(1_700_000_001, "poll loop"),
            "\x1b[0Ksection_end:1700000001:poll_loop\r\x1b[0K\n"
        );
    }
}
