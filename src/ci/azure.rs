//! Azure Pipelines: logging commands on stdout. Outputs are
//! `##vso[task.setvariable variable=NAME;isOutput=true]VALUE` (SPEC section 3's `snake_case`
//! names, read in a later job as `dependencies.JOB.outputs['STEP.decision']`), secrets are
//! registered with `issecret=true` so the agent masks them, a failure is a
//! `##vso[task.logissue type=error]`, and sections are `##[group]` / `##[endgroup]`.
//!
//! The agent unescapes a command's data (`%AZP25` to `%`, `%0D`, `%0A`) and its properties
//! (also `%3B` to `;`, `%5D` to `]`); everything written here is escaped the same way, so a value
//! reads back exactly, line breaks included.

use std::fmt::Write as _;

use super::{Console, Error, Sink, fields};
use crate::outcome::{Decision, Report};

/// The Azure Pipelines sink: logging commands go to stdout, where the agent reads them.
pub(super) struct Azure {
    stdout: Console,
}

impl Azure {
    pub(super) fn new() -> Self {
        Azure {
            stdout: Console::stdout(),
        }
    }
}

impl Sink for Azure {
    fn name(&self) -> &'static str {
        "azure"
    }

    fn mask(&self, secrets: &[&str]) {
        self.stdout.print(&mask_commands(secrets));
    }

    fn section_start(&self, _id: &str, title: &str) {
        self.stdout
            .print(&format!("##[group]{}\n", escape_data(title)));
    }

    fn section_end(&self, _id: &str) {
        self.stdout.print("##[endgroup]\n");
    }

    fn finish(&self, report: &Report) -> Result<(), Error> {
        self.stdout.print(&commands(report));
        Ok(())
    }
}

/// Escapes the data of a logging command (after the `]`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`variable=...`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(';', "%3B").replace(']', "%5D")
}

/// Each non-blank line of every secret as a secret variable of its own; the agent masks the
/// value of a secret variable wherever it appears in the log.
fn mask_commands(secrets: &[&str]) -> String {
    let mut out = String::new();
    let mut n = 0;
    for secret in secrets {
        for line in secret.split(['\n', '\r']).filter(|l| !l.trim().is_empty()) {
            n += 1;
            let _ = writeln!(
                out,
                "##vso[task.setvariable variable=jira_gate_secret_{n};issecret=true]{}",
                escape_data(line)
            );
        }
    }
    out
}

/// The output variables, then the error line when the step fails.
fn commands(report: &Report) -> String {
    let mut out = String::new();
    for (name, value) in fields(report) {
        let _ = writeln!(
            out,
            "##vso[task.setvariable variable={};isOutput=true]{}",
            escape_property(name),
            escape_data(&value)
        );
    }
    if !matches!(
        report.decision,
        Decision::Approved | Decision::Written | Decision::Finished
    ) {
        let summary = report.summary();
        let text = match (report.decision, &report.message) {
            (Decision::Error, Some(message)) => message.as_str(),
            _ => summary.strip_prefix("jira-gate: ").unwrap_or(&summary),
        };
        let _ = writeln!(
            out,
            "##vso[task.logissue type=error]jira-gate {}: {}",
            report.decision.as_str(),
            escape_data(text)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The agent's unescaping of command data, in its order.
    fn unescape_data(s: &str) -> String {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%AZP25", "%")
    }

    fn unescape_property(s: &str) -> String {
        unescape_data(&s.replace("%3B", ";").replace("%5D", "]"))
    }

    /// Parses `##vso[task.setvariable variable=NAME;...]VALUE` as the agent does: properties split
    /// at `;`, each at its first `=`.
    fn parse(line: &str) -> (String, Vec<(String, String)>, String) {
        let rest = line.strip_prefix("##vso[").unwrap();
        let (head, data) = rest.split_once(']').unwrap();
        let (command, props) = head.split_once(' ').unwrap();
        let props = props
            .split(';')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), unescape_property(v))
            })
            .collect();
        (command.to_owned(), props, unescape_data(data))
    }

    #[test]
    fn output_variables_read_back() {
        let mut r = Report::new(Decision::Approved);
        r.issue_key = Some("OPS-7".into());
        r.decided_by = Some("100% Jane ]; ".into());
        let out = commands(&r);
        let vars: Vec<_> = out.lines().map(parse).collect();
        assert_eq!(vars.len(), 12, "no error line when approved:\n{out}");
        assert!(vars.iter().all(|(c, p, _)| c == "task.setvariable"
            && p.iter().any(|(k, v)| k == "isOutput" && v == "true")));
        let get = |name: &str| {
            vars.iter()
                .find(|(_, p, _)| p[0] == ("variable".to_owned(), name.to_owned()))
                .map(|(_, _, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("decision"), "approved");
        assert_eq!(get("issue_key"), "OPS-7");
        assert_eq!(get("decided_by"), "100% Jane ];");
        assert_eq!(get("exit_code"), "0");
    }

    #[test]
    fn a_failure_is_an_error_issue_with_the_message() {
        let mut r = Report::new(Decision::Error);
        r.message = Some("jira answered 403\nno permission".into());
        let out = commands(&r);
        assert!(
            out.ends_with(
                "##vso[task.logissue type=error]jira-gate error: jira answered 403%0Ano permission\n"
            ),
            "{out}"
        );
        let r = Report::new(Decision::Rejected);
        assert!(commands(&r).contains("type=error]jira-gate rejected: rejected"));
    }

    #[test]
    fn secrets_are_secret_variables_line_by_line() {
        assert_eq!(
            mask_commands(&["tok%en", " ", "a\nb"]),
            "##vso[task.setvariable variable=jira_gate_secret_1;issecret=true]tok%AZP25en\n\
             ##vso[task.setvariable variable=jira_gate_secret_2;issecret=true]a\n\
             ##vso[task.setvariable variable=jira_gate_secret_3;issecret=true]b\n"
        );
    }

    #[test]
    fn masks_sections_and_outputs_go_to_stdout_where_the_agent_reads_them() {
        let (stdout, printed) = crate::ci::Printed::console();
        let sink = Azure { stdout };
        sink.mask(&["s3cret"]);
        sink.section_start("poll", "Waiting for OPS-7");
        sink.section_end("poll");
        let report = Report::new(Decision::Rejected);
        sink.finish(&report).unwrap();
        assert_eq!(
            printed.text(),
            format!(
                "{}##[group]Waiting for OPS-7\n##[endgroup]\n{}",
                mask_commands(&["s3cret"]),
                commands(&report)
            )
        );
    }

    proptest! {
        #[test]
        fn data_round_trips(s in any::<String>()) {
            prop_assert_eq!(unescape_data(&escape_data(&s)), s.clone());
            let escaped = escape_data(&s);
            prop_assert!(!escaped.contains(['\n', '\r']));
        }

        #[test]
        fn properties_round_trip(s in any::<String>()) {
            let escaped = escape_property(&s);
            prop_assert!(!escaped.contains([';', ']', '\n', '\r']));
            prop_assert_eq!(unescape_property(&escaped), s);
        }
    }
}
