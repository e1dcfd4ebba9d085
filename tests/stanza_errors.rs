//! Where a refused stanza is wrong, as the user reads it: every error names the file, the line
//! and the column of the offending key or value, the key path, and a hint. Through the binary
//! (`validate`, and `run`, which also writes its outputs), no Jira needed.

mod common;

use common::run::{Run, Workdir};

/// A valid stanza; the tests change one line of it.
const STANZA: &str = "jira:
  url: https://example.atlassian.net
  auth: { type: basic, username: ci@example.com, token: x }
ticket:
  project: OPS
  type: Change
  summary: Deploy web 1.4.2
approval:
  approve_when:
    all:
      - status: Approved
      - field: Change risk
        equals: low
  interval: 10s
  max_interval: 1m
  timeout: 4h
";

/// `jira-gate validate step.yml` on STANZA with `from` replaced by `to`.
fn validate(from: &str, to: &str) -> Run {
    assert!(STANZA.contains(from), "{from}");
    let work = Workdir::new();
    work.write("step.yml", STANZA.replacen(from, to, 1));
    work.run(work.command().args(["validate", "step.yml"]))
}

/// Exit 2, and stderr's first line is exactly `first`, followed by a hint.
fn refused(run: &Run, first: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    let mut lines = run.stderr.lines();
    assert_eq!(lines.next(), Some(first), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: "),
        "a hint is missing: {}",
        run.stderr
    );
}

#[test]
fn the_valid_stanza_is_accepted() {
    let run = validate("timeout: 4h", "timeout: 4h");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_broken_rule_is_placed_at_its_value() {
    refused(
        &validate("project: OPS", "project: ops-1"),
        "jira-gate: error: step.yml:5:12: `ticket.project`: \"ops-1\" is not a project key",
    );
    refused(
        &validate("interval: 10s", "interval: 10m"),
        "jira-gate: error: step.yml:14:13: `approval.interval`: 10m is longer than max_interval 1m",
    );
    refused(
        &validate(
            "url: https://example.atlassian.net",
            "url: http://example.com",
        ),
        "jira-gate: error: step.yml:2:8: `jira.url`: plain http to example.com would send the credentials unencrypted",
    );
}

#[test]
fn a_criterion_inside_a_list_is_placed_at_its_own_line() {
    refused(
        &validate(
            "        equals: low\n",
            "        equals: low\n        in: [low]\n",
        ),
        "jira-gate: error: step.yml:12:16: `approval.approve_when.all[1].field`: has more than one test",
    );
}

#[test]
fn a_value_its_parser_refuses_is_placed_at_the_value_not_the_line_before() {
    // serde_yaml put this on line 15 (the `max_interval` before it).
    let run = validate("timeout: 4h", "timeout: 4 hourz");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "jira-gate: error: step.yml:16:12: `approval.timeout`: invalid duration \"4 hourz\""
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_duplicate_key_is_placed_at_its_second_occurrence() {
    let run = validate(
        "  summary: Deploy web 1.4.2\n",
        "  summary: Deploy web 1.4.2\n  # the same key again\n  project: OPS\n",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.lines().next(),
        Some("jira-gate: error: step.yml:9:3: `ticket`: duplicate field `project`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_tab_in_the_indentation_is_named_as_one() {
    refused(
        &validate("  timeout: 4h", "\ttimeout: 4h"),
        "jira-gate: error: step.yml:16:1: a tab in the indentation: YAML indents with spaces only",
    );
}

#[test]
fn run_places_the_error_too_and_writes_its_outputs() {
    let work = Workdir::new();
    work.write(
        "step.yml",
        STANZA.replacen("interval: 10s", "interval: 10m", 1),
    );
    let github_output = work.path("github_output");
    let run = work.run(
        work.command()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &github_output)
            .args(["run", "step.yml", "--result-file", "result.json"]),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let located = "step.yml:14:13: `approval.interval`: 10m is longer than max_interval 1m";
    assert!(run.stderr.contains(located), "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("::error title=jira-gate error::{located}")),
        "{}",
        run.stdout
    );
    assert_eq!(run.field("decision"), "error");
    assert_eq!(run.field("exit_code"), 2);
    assert!(
        run.field("message").as_str().unwrap().contains(located),
        "{}",
        run.result_text
    );
    let outputs = std::fs::read_to_string(&github_output).unwrap();
    assert!(outputs.contains("exit-code=2"), "{outputs}");
}

#[test]
fn a_missing_file_a_directory_and_a_missing_key_each_get_a_hint() {
    let work = Workdir::new();
    let missing = work.run(work.command().args(["validate", "nope.yml"]));
    refused(
        &missing,
        "jira-gate: error: cannot read nope.yml: No such file or directory (os error 2)",
    );
    assert!(
        missing
            .stderr
            .contains("hint: check the path (a relative one starts at the working directory)"),
        "{}",
        missing.stderr
    );
    std::fs::create_dir(work.path("steps")).unwrap();
    let directory = work.run(work.command().args(["validate", "steps"]));
    refused(
        &directory,
        "jira-gate: error: cannot read steps: Is a directory (os error 21)",
    );
    assert!(
        directory
            .stderr
            .contains("hint: pass the stanza file inside it"),
        "{}",
        directory.stderr
    );
    refused(
        &validate(
            "  auth: { type: basic, username: ci@example.com, token: x }\n",
            "",
        ),
        "jira-gate: error: step.yml:2:3: `jira`: missing field `auth`",
    );
}
