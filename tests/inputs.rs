//! End to end: how the binary reads its inputs (the stanza's syntax, defaults, flags and
//! variables, the log format, signals), each test a defect of issue 8 seen failing before its fix.
// Most of these tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::SandboxProc;
use common::run::{Run, Workdir};
use serde_json::Value;

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

/// Issue 8 #13: flags override variables, and boolean and count variables take 1/0, true/false,
/// yes/no or a number.
#[test]
fn verbosity_variables_take_words_and_yield_to_flags() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = format!("{CLOUD}ticket:\n  key: OPS-1\n");
    let run = jira_gate(
        &sandbox,
        &stanza,
        &["check", "step.yml", "-v"],
        &[("JIRA_GATE_QUIET", "1")],
    );
    assert!(
        run.stderr.contains("DEBUG"),
        "-v wins over the variable: {}",
        run.stderr
    );
    let run = jira_gate(
        &sandbox,
        &stanza,
        &["check", "step.yml"],
        &[("JIRA_GATE_VERBOSE", "true")],
    );
    assert!(run.stderr.contains("DEBUG"), "{}", run.stderr);
    let run = jira_gate(
        &sandbox,
        &stanza,
        &["check", "step.yml", "-q"],
        &[("JIRA_GATE_VERBOSE", "2")],
    );
    assert!(
        !run.stderr.contains("DEBUG"),
        "-q wins over the variable: {}",
        run.stderr
    );
    let run = jira_gate(
        &sandbox,
        &stanza,
        &["run", "step.yml"],
        &[("JIRA_GATE_DRY_RUN", "maybe")],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("JIRA_GATE_DRY_RUN"), "{}", run.stderr);
    assert!(run.stderr.contains("\"maybe\""), "{}", run.stderr);
}

/// Issue 8 #15: with `--log-format json` every line on stderr is a JSON object: the logs, the
/// summary line, errors and warnings.
#[test]
fn json_log_format_makes_every_stderr_line_json() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Deploy", &[]);
    let all_json = |run: &Run| {
        assert!(!run.stderr.trim().is_empty());
        for line in run.stderr.lines() {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{}", run.stderr));
            assert!(value["level"].is_string(), "{line}");
        }
    };
    let stanza = format!("{CLOUD}ticket:\n  key: {key}\n  comment: hello\n");
    // On GitLab too, whose log section markers are not JSON.
    let run = jira_gate(
        &sandbox,
        &stanza,
        &["run", "step.yml", "--log-format", "json"],
        &[("GITLAB_CI", "true")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    all_json(&run);
    assert!(
        run.stderr.contains("\"decision\":\"written\""),
        "{}",
        run.stderr
    );
    // A warning (a set but empty variable) and an error.
    let stanza = format!("{CLOUD}ticket:\n  key: {key}\n  comment: \"${{EMPTY}}\"\n");
    let run = jira_gate(
        &sandbox,
        &stanza,
        &["validate", "step.yml"],
        &[("JIRA_GATE_LOG_FORMAT", "json"), ("EMPTY", "")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    all_json(&run);
    let run = jira_gate(
        &sandbox,
        "jira: [",
        &["run", "step.yml", "--log-format", "json"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    all_json(&run);
    // clap's own usage errors too.
    let run = jira_gate(
        &sandbox,
        "",
        &["run", "--log-format", "json", "--bogus"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    all_json(&run);
}

/// Issue 8 #16: each command takes only its own options.
#[test]
fn commands_take_only_their_own_options() {
    let sandbox = SandboxProc::cloud(&[]);
    for args in [
        &["schema", "--dry-run"][..],
        &["validate", "step.yml", "--result-file", "r.json"],
        &["check", "step.yml", "--dry-run"],
    ] {
        let run = jira_gate(&sandbox, "", args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("unexpected argument"), "{}", run.stderr);
    }
}

/// Issue 8 #16: a bad flag or variable is reported as itself, not as the stanza key it overrides.
#[test]
fn bad_flags_and_variables_are_named_as_such() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = format!(
        "{CLOUD}ticket:\n  key: OPS-1\napproval:\n  approve_when: {{ status: Approved }}\n"
    );
    for (args, envs, want) in [
        (&["--timeout", "0s"][..], &[][..], "--timeout"),
        (&["--timeout", "soon"], &[], "--timeout"),
        (&[], &[("JIRA_GATE_TIMEOUT", "0s")][..], "JIRA_GATE_TIMEOUT"),
        (&[], &[("JIRA_GATE_TIMEOUT", "soon")], "JIRA_GATE_TIMEOUT"),
        (
            &[],
            &[("JIRA_GATE_ISSUE_KEY", "bad")],
            "JIRA_GATE_ISSUE_KEY",
        ),
        (&["--issue-key", "bad"], &[], "--issue-key"),
    ] {
        let run = jira_gate(
            &sandbox,
            &stanza,
            &[&["validate", "step.yml"], args].concat(),
            envs,
        );
        assert_eq!(run.code, 2, "{args:?} {envs:?}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{want}: {}", run.stderr);
        assert!(!run.stderr.contains("`approval.timeout`"), "{}", run.stderr);
        assert!(!run.stderr.contains("`ticket.key`"), "{}", run.stderr);
    }
}

/// A bad `--timeout` on `run` still writes the outputs (decision "error", exit 2), as the same
/// value in `JIRA_GATE_TIMEOUT` does: the flag is parsed with the variable, not by clap.
#[test]
fn a_bad_timeout_flag_still_writes_the_outputs() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = format!(
        "{CLOUD}ticket:\n  key: OPS-1\napproval:\n  approve_when: {{ status: Approved }}\n"
    );
    let run = jira_gate(
        &sandbox,
        &stanza,
        &[
            "run",
            "step.yml",
            "--timeout",
            "soon",
            "--result-file",
            "result.json",
        ],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--timeout"), "{}", run.stderr);
    assert!(run.stderr.contains("is not a duration"), "{}", run.stderr);
    assert_eq!(run.field("decision"), "error");
}

/// Issue 8 #16: a second SIGINT ends the run at once, even while the first one's cancellation
/// comment is still being sent; still exit 6 with the outputs written.
#[test]
fn a_second_sigint_ends_at_once() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Deploy", &[]);
    let stanza = format!(
        "{CLOUD}ticket:\n  key: {key}\napproval:\n  approve_when: {{ status: Approved }}\n  interval: 1s\n  on_cancel_comment: cancelled\n"
    );
    let work = Workdir::new();
    work.write("step.yml", stanza);
    let child = work
        .command_for(&sandbox)
        .args(["run", "step.yml", "--result-file", "result.json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    sandbox.add_faults(&serde_json::json!({"method": "POST", "path_prefix": format!("/rest/api/3/issue/{key}/comment"), "kind": "delay", "delay_ms": 10_000}));
    let interrupt = || {
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
    };
    let signalled = Instant::now();
    interrupt();
    std::thread::sleep(Duration::from_millis(300));
    interrupt();
    let output = child.wait_with_output().unwrap();
    let run = work.finish(&output, signalled);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(1),
        "ended {:?} after the first SIGINT",
        run.elapsed
    );
    assert!(run.stderr.contains("second SIGINT"), "{}", run.stderr);
    assert_eq!(run.field("decision"), "cancelled");
}
