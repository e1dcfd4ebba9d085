//! GitHub Actions: workflow commands on stdout, outputs in `$GITHUB_OUTPUT`, a Markdown table in
//! `$GITHUB_STEP_SUMMARY`.
//!
//! Both files are shared by every step of the job, so they are only ever appended to. Outputs use
//! `name=value`, or the `name<<DELIMITER` heredoc form when a value spans lines, with a random
//! delimiter that does not occur in the value. Workflow command data escapes `%`, `\r` and `\n`,
//! properties also `:` and `,`, as GitHub's runner expects.

use std::fmt::Write as _;
use std::path::PathBuf;

use rand::Rng as _;

use super::{Console, Error, Sink, append, check_writable, fields};
use crate::outcome::{Decision, Report};

/// The GitHub Actions sink. Paths are `None` outside a real runner (e.g. `act` without outputs,
/// or a local run with `GITHUB_ACTIONS=true`): the files are then skipped, annotations still print.
pub(super) struct GitHub {
    output: Option<PathBuf>,
    summary: Option<PathBuf>,
    /// Workflow commands go to stdout, where the runner reads them.
    stdout: Console,
}

impl GitHub {
    pub(super) fn new(output: Option<PathBuf>, summary: Option<PathBuf>) -> Self {
        GitHub {
            output,
            summary,
            stdout: Console::stdout(),
        }
    }
}

impl Sink for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }

    fn mask(&self, secrets: &[&str]) {
        self.stdout.print(&mask_commands(secrets));
    }

    fn section_start(&self, _id: &str, title: &str) {
        self.stdout.print(&group_start(title));
    }

    fn section_end(&self, _id: &str) {
        self.stdout.print(GROUP_END);
    }

    fn finish(&self, report: &Report) -> Result<(), Error> {
        self.stdout.print(&annotation(report));
        if let Some(path) = &self.output {
            append(
                "GitHub output",
                path,
                &outputs(&fields(report), random_delimiter),
            )?;
        }
        if let Some(path) = &self.summary {
            append("GitHub step summary", path, &summary_table(report))?;
        }
        Ok(())
    }

    fn preflight(&self) -> Result<(), Error> {
        if let Some(path) = &self.output {
            check_writable("GitHub output", path)?;
        }
        if let Some(path) = &self.summary {
            check_writable("GitHub step summary", path)?;
        }
        Ok(())
    }
}

/// Opens a collapsible group in the log.
fn group_start(title: &str) -> String {
    format!("::group::{}\n", escape_data(title))
}

/// Closes the group.
const GROUP_END: &str = "::endgroup::\n";

/// Escapes the data part of a workflow command (after the last `::`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command (`title=...`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One `::add-mask::` per non-blank line of every secret. GitHub masks per line of the log, so a
/// multi-line secret (a PEM key, say) must be registered line by line.
fn mask_commands(secrets: &[&str]) -> String {
    let mut out = String::new();
    for secret in secrets {
        for line in secret.split(['\n', '\r']) {
            if !line.trim().is_empty() {
                out.push_str("::add-mask::");
                out.push_str(&escape_data(line));
                out.push('\n');
            }
        }
    }
    out
}

/// The closing annotation: a notice when the step passes, an error (titled with the decision)
/// otherwise.
fn annotation(report: &Report) -> String {
    let summary = report.summary();
    // The summary leaves an error's message to the error line; the annotation must carry it.
    let text = match (report.decision, &report.message) {
        (Decision::Error, Some(message)) => message.as_str(),
        _ => summary.strip_prefix("jira-gate: ").unwrap_or(&summary),
    };
    match report.decision {
        Decision::Approved | Decision::Written | Decision::Finished => {
            format!("::notice title=jira-gate::{}\n", escape_data(text))
        }
        Decision::Rejected
        | Decision::Timeout
        | Decision::Error
        | Decision::Cancelled
        | Decision::Blocked => {
            format!(
                "::error title={}::{}\n",
                escape_property(&format!("jira-gate {}", report.decision.as_str())),
                escape_data(text)
            )
        }
    }
}

/// `ghadelimiter_` and 128 random bits in hex.
fn random_delimiter() -> String {
    let bits: u128 = rand::thread_rng().r#gen();
    format!("ghadelimiter_{bits:032x}")
}

/// The `$GITHUB_OUTPUT` block: kebab-case names, heredoc form for values with line breaks.
fn outputs(fields: &[(&str, String)], mut delimiter: impl FnMut() -> String) -> String {
    let mut out = String::new();
    for (name, value) in fields {
        let name = name.replace('_', "-");
        if value.contains(['\n', '\r']) {
            let delim = loop {
                let candidate = delimiter();
                if !value.contains(&candidate) {
                    break candidate;
                }
            };
            let _ = write!(out, "{name}<<{delim}\n{value}\n{delim}\n");
        } else {
            let _ = writeln!(out, "{name}={value}");
        }
    }
    out
}

fn decision_emoji(decision: Decision) -> &'static str {
    match decision {
        Decision::Approved => "✅",
        Decision::Written => "📝",
        Decision::Finished => "🏁",
        Decision::Rejected => "❌",
        Decision::Timeout => "⏱️",
        Decision::Error => "⚠️",
        Decision::Cancelled => "🛑",
        Decision::Blocked => "🚧",
    }
}

/// Makes a value safe inside a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

/// The Markdown table appended to `$GITHUB_STEP_SUMMARY`.
pub(super) fn summary_table(report: &Report) -> String {
    let dash = |v: &Option<String>| v.as_deref().map_or_else(|| "—".to_owned(), cell);
    let decision = report.decision.as_str();
    let issue = match (&report.issue_key, &report.issue_url) {
        (Some(key), Some(url)) => format!("[{}]({})", cell(key), url.replace(')', "%29")),
        (Some(key), None) => cell(key),
        (None, _) => "—".to_owned(),
    };
    let created = if report.created {
        " (created by this run)"
    } else {
        ""
    };
    let mut rows = vec![
        (
            "Decision",
            format!("{} {decision}", decision_emoji(report.decision)),
        ),
        ("Issue", format!("{issue}{created}")),
        ("Status", dash(&report.status)),
        ("Resolution", dash(&report.resolution)),
        ("Decided by", dash(&report.decided_by)),
        ("Decided at", dash(&report.decided_at)),
        ("Waited", format!("{}s", report.waited_seconds)),
        ("Polls", report.polls.to_string()),
        ("Exit code", report.exit_code.to_string()),
    ];
    if let Some(message) = &report.message {
        rows.push(("Message", cell(message)));
    }
    let mut out = format!(
        "### {} jira-gate: {decision}\n\n| | |\n| --- | --- |\n",
        decision_emoji(report.decision)
    );
    for (name, value) in rows {
        let _ = writeln!(out, "| {name} | {value} |");
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci::Printed;

    fn approved() -> Report {
        let mut r = Report::new(Decision::Approved);
        r.issue_key = Some("OPS-12".into());
        r.issue_url = Some("https://jira.example.com/browse/OPS-12".into());
        r.created = true;
        r.status = Some("Approved".into());
        r.status_category = Some("done".into());
        r.decided_by = Some("Jane Doe".into());
        r.decided_at = Some("2025-01-02T03:04:05.000+0000".into());
        r.waited_seconds = 42;
        r.polls = 3;
        r
    }

    #[test]
    fn escaping() {
        let cases = [
            ("plain", "plain", "plain"),
            ("100%", "100%25", "100%25"),
            ("a\nb", "a%0Ab", "a%0Ab"),
            ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
            ("%0A", "%250A", "%250A"),
            ("key: a, b", "key: a, b", "key%3A a%2C b"),
        ];
        for (input, data, property) in cases {
            assert_eq!(escape_data(input), data, "data {input:?}");
            assert_eq!(escape_property(input), property, "property {input:?}");
        }
    }

    #[test]
    fn masks_each_line_and_skips_blank_secrets() {
        let out = mask_commands(&[
            "tok%en",
            "",
            "  ",
            "-----BEGIN-----\r\nabc\n\n-----END-----",
        ]);
        assert_eq!(
            out,
            "::add-mask::tok%25en\n::add-mask::-----BEGIN-----\n::add-mask::abc\n::add-mask::-----END-----\n"
        );
    }

    #[test]
    fn annotations() {
        assert_eq!(
            annotation(&approved()),
            "::notice title=jira-gate::approved OPS-12 (status \"Approved\", by Jane Doe) after 42s, 3 polls - https://jira.example.com/browse/OPS-12\n"
        );
        let mut r = Report::new(Decision::Timeout);
        r.message = Some("no decision after 1h\nstill pending: 100%".into());
        assert_eq!(
            annotation(&r),
            "::error title=jira-gate timeout::timeout (exit 4): no decision after 1h%0Astill pending: 100%25\n"
        );
        for (decision, title) in [
            (Decision::Rejected, "jira-gate rejected"),
            (Decision::Error, "jira-gate error"),
            (Decision::Cancelled, "jira-gate cancelled"),
        ] {
            let text = annotation(&Report::new(decision));
            assert!(
                text.starts_with(&format!("::error title={title}::")),
                "{text}"
            );
        }
        assert!(annotation(&Report::new(Decision::Written)).starts_with("::notice "));
    }

    #[test]
    fn outputs_single_line() {
        let out = outputs(&fields(&approved()), || unreachable!("no heredoc needed"));
        assert_eq!(
            out,
            "decision=approved\nissue-key=OPS-12\nissue-url=https://jira.example.com/browse/OPS-12\n\
             created=true\nstatus=Approved\nstatus-category=done\nresolution=\n\
             decided-by=Jane Doe\ndecided-at=2025-01-02T03:04:05.000+0000\n\
             waited-seconds=42\npolls=3\nexit-code=0\n"
        );
    }

    #[test]
    fn outputs_heredoc_with_a_delimiter_not_in_the_value() {
        // Informational values are made single-line before they get here; the heredoc form
        // protects any other value that spans lines.
        let fields = [
            ("decision", "rejected".to_owned()),
            ("issue_url", "line one\nEOF_1\nline three".to_owned()),
            ("exit_code", "3".to_owned()),
        ];
        let mut n = 0;
        let out = outputs(&fields, || {
            n += 1;
            format!("EOF_{n}")
        });
        assert!(
            out.contains("issue-url<<EOF_2\nline one\nEOF_1\nline three\nEOF_2\n"),
            "{out}"
        );
        assert!(out.contains("decision=rejected\n"));
        assert!(out.ends_with("exit-code=3\n"));
    }

    #[test]
    fn random_delimiters_differ() {
        assert_ne!(random_delimiter(), random_delimiter());
        assert!(random_delimiter().starts_with("ghadelimiter_"));
    }

    #[test]
    fn summary_markdown() {
        let mut r = approved();
        r.message = Some("a | b\nc".into());
        assert_eq!(
            summary_table(&r),
            "### ✅ jira-gate: approved\n\n| | |\n| --- | --- |\n\
             | Decision | ✅ approved |\n\
             | Issue | [OPS-12](https://jira.example.com/browse/OPS-12) (created by this run) |\n\
             | Status | Approved |\n| Resolution | — |\n| Decided by | Jane Doe |\n\
             | Decided at | 2025-01-02T03:04:05.000+0000 |\n| Waited | 42s |\n| Polls | 3 |\n\
             | Exit code | 0 |\n| Message | a \\| b<br>c |\n\n"
        );
        let empty = summary_table(&Report::new(Decision::Error));
        assert!(empty.contains("| Issue | — |"), "{empty}");
        assert!(empty.starts_with("### ⚠️ jira-gate: error"), "{empty}");
    }

    #[test]
    fn finish_appends_to_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("output");
        let summary = dir.path().join("summary");
        std::fs::write(&output, "earlier=step\n").unwrap();
        std::fs::write(&summary, "# Earlier\n").unwrap();
        let sink = GitHub::new(Some(output.clone()), Some(summary.clone()));
        sink.finish(&approved()).unwrap();
        let written = std::fs::read_to_string(&output).unwrap();
        assert!(
            written.starts_with("earlier=step\ndecision=approved\n"),
            "{written}"
        );
        let table = std::fs::read_to_string(&summary).unwrap();
        assert!(table.starts_with("# Earlier\n### ✅"), "{table}");
    }

    #[test]
    fn outputs_of_a_multi_line_approver_are_one_line_each() {
        let mut r = approved();
        r.decided_by = Some(" Jane\r\nDoe \n".into());
        let out = outputs(&fields(&r), random_delimiter);
        assert!(out.contains("\ndecided-by=Jane Doe\n"), "{out}");
        assert!(!out.contains("<<"), "{out}");
    }

    #[test]
    fn groups_wrap_a_section_and_escape_the_title() {
        assert_eq!(
            group_start("connect\nto 100%"),
            "::group::connect%0Ato 100%25\n"
        );
        assert_eq!(GROUP_END, "::endgroup::\n");
    }

    #[test]
    fn an_error_annotation_carries_the_message() {
        let mut r = Report::new(Decision::Error);
        r.exit_code = crate::exit::Exit::Jira;
        r.message = Some("jira answered 401: bad credentials".into());
        assert_eq!(
            annotation(&r),
            "::error title=jira-gate error::jira answered 401: bad credentials\n"
        );
    }

    /// A sink without files whose stdout is kept, and what it printed.
    fn printing() -> (GitHub, Printed) {
        let (stdout, printed) = Printed::console();
        let sink = GitHub {
            stdout,
            ..GitHub::new(None, None)
        };
        (sink, printed)
    }

    #[test]
    fn without_output_files_finish_and_preflight_succeed() {
        // `act` or a local run with GITHUB_ACTIONS=true sets no files: only the annotation prints.
        let (sink, printed) = printing();
        sink.preflight().unwrap();
        assert_eq!(printed.text(), "");
        sink.finish(&approved()).unwrap();
        assert_eq!(printed.text(), annotation(&approved()));
    }

    #[test]
    fn secrets_are_masked_on_stdout_where_the_runner_reads_them() {
        let (sink, printed) = printing();
        sink.mask(&["s3cret", "", "line one\nline two"]);
        assert_eq!(
            printed.text(),
            "::add-mask::s3cret\n::add-mask::line one\n::add-mask::line two\n"
        );
    }

    #[test]
    fn a_log_section_is_a_group_on_stdout() {
        let (sink, printed) = printing();
        sink.section_start("poll", "Waiting for OPS-12");
        sink.section_end("poll");
        assert_eq!(
            printed.text(),
            "::group::Waiting for OPS-12\n::endgroup::\n"
        );
    }

    #[test]
    fn preflight_finds_an_unwritable_output_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let summary = dir.path().join("summary");
        let sink = GitHub::new(Some(dir.path().join("no/such/dir")), Some(summary.clone()));
        let err = sink.preflight().unwrap_err();
        assert!(err.to_string().contains("GitHub output"), "{err}");
        assert!(err.to_string().contains("no/such/dir"), "{err}");
        assert!(!summary.exists(), "the probe leaves nothing behind");
        let ok = GitHub::new(Some(dir.path().join("out")), Some(summary.clone()));
        ok.preflight().unwrap();
        assert!(!summary.exists() && !dir.path().join("out").exists());
    }

    #[test]
    fn finish_reports_an_unwritable_output() {
        let dir = tempfile::tempdir().unwrap();
        let sink = GitHub::new(Some(dir.path().join("no/such/dir")), None);
        let err = sink.finish(&approved()).unwrap_err();
        assert!(err.to_string().contains("GitHub output"), "{err}");
    }
}
