//! End to end: how the binary reads its inputs (the stanza's syntax, defaults, flags and
//! variables, the log format, signals), each test a defect of issue 8 seen failing before its fix.
// Most of these tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use common::SandboxProc;
use common::run::{Run, Workdir};

/// A Cloud connection block (quoted interpolation, as the README recommends).
const CLOUD: &str = "jira:\n  url: ${JIRA_URL}\n  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n  request_timeout: 5s\n";

/// Writes `step.yml` and runs `jira-gate ARGS` in a fresh folder, with the sandbox's credentials
/// and the variables `envs`.
fn jira_gate(sandbox: &SandboxProc, stanza: &str, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let work = Workdir::new();
    work.write("step.yml", stanza);
    work.run(
        work.command_for(sandbox)
            .args(args)
            .envs(envs.iter().copied()),
    )
}

/// Issue 8 #6: `${...}` unquoted inside a flow map is YAML's own syntax error; the message says
/// to quote it, at the reference's line and column.
#[test]
fn unquoted_interpolation_in_a_flow_map_says_to_quote_it() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = "jira:\n  url: ${JIRA_URL}\n  auth: { type: pat, token: ${JIRA_PAT} }\nticket:\n  key: OPS-1\n";
    let run = jira_gate(
        &sandbox,
        stanza,
        &["validate", "step.yml"],
        &[("JIRA_PAT", "x")],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("step.yml:3:29:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("write it quoted: '${JIRA_PAT}'"),
        "{}",
        run.stderr
    );
}

/// Issue 8 #7: a default never causes an error; `interval` and `max_interval` default to at most
/// the timeout, whether it comes from the stanza or from `--timeout`.
#[test]
fn defaults_fit_a_short_timeout() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Deploy", &[]);
    sandbox.set_status(&key, "Approved");
    let stanza = format!(
        "{CLOUD}ticket:\n  key: {key}\napproval:\n  approve_when: {{ status: Approved }}\n  timeout: 30s\n"
    );
    let run = jira_gate(&sandbox, &stanza, &["run", "step.yml"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("polling every 30s up to 30s"),
        "{}",
        run.stderr
    );
    let run = jira_gate(
        &sandbox,
        &stanza.replace("  timeout: 30s\n", "  interval: 2s\n"),
        &["run", "step.yml", "--timeout", "1s"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // What the user wrote still has to agree with itself.
    let run = jira_gate(
        &sandbox,
        &stanza.replace("  timeout: 30s\n", "  max_interval: 5m\n  timeout: 30s\n"),
        &["validate", "step.yml"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("`approval.max_interval`"),
        "{}",
        run.stderr
    );
}

/// Issue 8 #16: Jira limits a summary to 255 UTF-16 units; an emoji counts two.
#[test]
fn summary_length_is_counted_in_utf16_units() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = |summary: &str| {
        format!("{CLOUD}ticket:\n  project: OPS\n  type: Change\n  summary: \"{summary}\"\n")
    };
    let run = jira_gate(
        &sandbox,
        &stanza(&"🚀".repeat(128)),
        &["validate", "step.yml"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("256 UTF-16 units"), "{}", run.stderr);
    let run = jira_gate(
        &sandbox,
        &stanza(&"é".repeat(255)),
        &["validate", "step.yml"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Issue 8 #12: `ticket.key` with `project`/`type` checks that the issue is in that project and of
/// that type (as Harness's JiraApproval does): exit 5 naming what the issue really is.
#[test]
fn key_with_project_and_type_checks_the_issue() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Deploy", &[]);
    let stanza = |project: &str, kind: &str| {
        format!(
            "{CLOUD}ticket:\n  key: {key}\n  project: {project}\n  type: {kind}\n  comment: checked\n"
        )
    };
    let run = jira_gate(
        &sandbox,
        &stanza("OPS", "Task"),
        &["validate", "step.yml"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("if it is a Task in OPS"),
        "{}",
        run.stderr
    );
    let run = jira_gate(&sandbox, &stanza("OPS", "Task"), &["run", "step.yml"], &[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{key} is a Change, not a Task")),
        "{}",
        run.stderr
    );
    let run = jira_gate(
        &sandbox,
        &stanza("ABC", "change"),
        &["run", "step.yml"],
        &[],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{key} is in project OPS, not ABC")),
        "{}",
        run.stderr
    );
    let run = jira_gate(
        &sandbox,
        &stanza("OPS", "Task"),
        &["check", "step.yml"],
        &[],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("problem  {key} is a Change, not a Task")),
        "{}",
        run.stderr
    );
    let comments = |sandbox: &SandboxProc| {
        sandbox
            .requests()
            .iter()
            .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/comment"))
            .count()
    };
    assert_eq!(comments(&sandbox), 0, "nothing written to the wrong issue");
    let run = jira_gate(
        &sandbox,
        &stanza("ops", "change"),
        &["run", "step.yml"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(comments(&sandbox), 1);
}
