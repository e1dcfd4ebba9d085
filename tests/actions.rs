//! End to end for the write-back actions and `finish` (issue 9): the built binary against a
//! `jira-gate sandbox` process. Each test asserts the exit code, stderr, the result file (with its
//! `actions`) and what the sandbox holds afterwards: the status, the labels, the comments.
#![cfg(feature = "sandbox")]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::SandboxProc;
use common::run::{Run, Workdir};
use serde_json::{Value, json};

/// A stanza that creates a Change in OPS (with a dedupe key), asks for approval, and waits on
/// `wait` (the approval section's first lines) with `more` after it (actions, `finish`).
fn stanza(sandbox: &SandboxProc, timeout: &str, more: &str) -> String {
    let auth = if sandbox.datacenter {
        "{ type: pat, token: '${JIRA_PAT}' }"
    } else {
        "{ type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }"
    };
    format!(
        "jira: {{ url: '${{JIRA_URL}}', auth: {auth}, request_timeout: 5s }}
ticket:
  project: OPS
  type: Change
  summary: Deploy web 1.4.2
  dedupe: pipeline-77-production
  transition: Request approval
approval:
  approve_when: {{ status: Approved }}
  reject_when: {{ status: Rejected }}
  interval: 1s
  max_interval: 1s
  timeout: {timeout}
{more}"
    )
}

/// Asserts that stderr holds `text`.
fn logged(run: &Run, text: &str) {
    assert!(run.stderr.contains(text), "{text}:\n{}", run.stderr);
}

/// `jira-gate run` of [`stanza`] with `timeout` and `more`, in a new folder.
fn gate(sandbox: &SandboxProc, timeout: &str, more: &str) -> Run {
    let work = Workdir::new();
    work.write("step.yml", stanza(sandbox, timeout, more));
    jira_gate(&work, sandbox, &["run", "step.yml"])
}

/// Asserts how a run ended: its exit code and decision, and that `action` ran `writes`, all ok.
fn ended(run: &Run, code: i32, decision: &str, action: &str, writes: &[&str]) {
    assert_eq!(run.code, code, "{}", run.stderr);
    assert_eq!(run.field("decision"), decision);
    assert_eq!(run.field("exit_code"), code);
    assert_eq!(actions(run), ok(action, writes));
}

/// Asserts that a run ended with decision `error`, exit `code`, and `text` on stderr.
fn refused(run: &Run, code: i32, text: &str) {
    assert_eq!(run.code, code, "{}", run.stderr);
    logged(run, text);
    assert_eq!(run.field("decision"), "error");
    assert_eq!(run.field("exit_code"), code);
}

/// Runs `jira-gate ARGS --result-file result.json` in `work` against the sandbox.
fn jira_gate(work: &Workdir, sandbox: &SandboxProc, args: &[&str]) -> Run {
    work.run(
        work.command_for(sandbox)
            .args(args)
            .args(["--result-file", "result.json"]),
    )
}

/// The result's `actions` as `(action, write, result)`.
fn actions(run: &Run) -> Vec<(String, String, String)> {
    run.field("actions")
        .as_array()
        .unwrap_or_else(|| panic!("no actions in {}", run.result_text))
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
            (s("action"), s("write"), s("result"))
        })
        .collect()
}

/// `(action, write, "ok")` for each write.
fn ok(action: &str, writes: &[&str]) -> Vec<(String, String, String)> {
    writes
        .iter()
        .map(|w| (action.to_owned(), (*w).to_owned(), "ok".to_owned()))
        .collect()
}

/// The comments of `key` as Jira returns them (ADF on Cloud, text on Data Center), as one text.
fn comments(sandbox: &SandboxProc, key: &str) -> String {
    sandbox.get_json(
        &format!("{}/issue/{key}?fields=comment", sandbox.api()),
        200,
    )["fields"]["comment"]
        .to_string()
}

/// The labels of `key`.
fn labels(sandbox: &SandboxProc, key: &str) -> Vec<Value> {
    let issue = sandbox
        .issues()
        .into_iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in the sandbox"));
    issue["labels"].as_array().cloned().unwrap_or_default()
}

/// Runs `jira-gate run step.yml` in `work`, calls `before` after 3 s (the ticket is waiting by
/// then), sends SIGTERM: the run, its `elapsed` counted from the signal.
fn sigterm_after_3s(work: &Workdir, sandbox: &SandboxProc, before: impl FnOnce()) -> Run {
    let child = work
        .command_for(sandbox)
        .args(["run", "step.yml", "--result-file", "result.json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    before();
    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    work.finish(&child.wait_with_output().unwrap(), signalled)
}

fn both(test: impl Fn(SandboxProc, &str), args: &[&str]) {
    test(SandboxProc::cloud(args), "cloud");
    test(SandboxProc::datacenter(args), "datacenter");
}

#[test]
fn on_approve_comments_labels_and_transitions() {
    both(
        |sandbox, flavor| {
            let run = gate(
                &sandbox,
                "30s",
                "  on_approve: { comment: 'Approved, deploying now', transition: Done, labels: [deploying] }\n",
            );
            ended(
                &run,
                0,
                "approved",
                "on_approve",
                &["labels", "comment", "transition"],
            );
            // The status the decision was made on, before the action moved the ticket on.
            assert_eq!(run.field("status"), "Approved", "{flavor}");
            logged(
                &run,
                "on_approve: labels deploying, comment, transition \"Done\" on OPS-1",
            );
            logged(&run, "transitioned OPS-1 with \"Done\"");
            let summary = run.stderr.lines().last().unwrap();
            assert!(
                summary.starts_with("jira-gate: approved OPS-1"),
                "{summary}"
            );
            assert_eq!(sandbox.status_of("OPS-1"), "Done");
            assert!(labels(&sandbox, "OPS-1").contains(&json!("deploying")));
            assert!(comments(&sandbox, "OPS-1").contains("Approved, deploying now"));
            // The comment rode in the transition: no request of its own.
            let posts: Vec<String> = sandbox
                .requests()
                .into_iter()
                .filter(|r| r["method"] == "POST")
                .filter_map(|r| r["path"].as_str().map(str::to_owned))
                .filter(|p| p.starts_with("/rest/api/") && p.contains("/issue/OPS-1/"))
                .collect();
            assert_eq!(
                posts.iter().filter(|p| p.ends_with("/comment")).count(),
                0,
                "{flavor}: {posts:?}"
            );
        },
        &["--approve-after", "1s"],
    );
}

#[test]
fn on_reject_runs_and_the_exit_stays_3() {
    both(
        |sandbox, flavor| {
            let run = gate(
                &sandbox,
                "30s",
                "  on_approve: { comment: 'never posted' }\n  on_reject: { comment: 'Rejected, the pipeline stopped', transition: Reopen }\n",
            );
            ended(&run, 3, "rejected", "on_reject", &["comment", "transition"]);
            assert_eq!(run.field("decided_by"), "Bob Builder", "{flavor}");
            logged(&run, "on_reject: comment");
            assert!(!run.stderr.contains("on_approve"), "{}", run.stderr);
            assert_eq!(sandbox.status_of("OPS-1"), "To Do");
            let said = comments(&sandbox, "OPS-1");
            assert!(said.contains("Rejected, the pipeline stopped"), "{said}");
            assert!(!said.contains("never posted"), "{said}");
        },
        &["--reject-after", "1s"],
    );
}

#[test]
fn on_timeout_runs_after_the_deadline_and_the_exit_stays_4() {
    both(
        |sandbox, flavor| {
            let run = gate(
                &sandbox,
                "3s",
                "  on_timeout: { comment: 'No decision in time', transition: \"Won't Do\", fields: { Change risk: High } }\n",
            );
            ended(
                &run,
                4,
                "timeout",
                "on_timeout",
                &["fields", "comment", "transition"],
            );
            assert_eq!(run.field("status"), "Awaiting approval", "{flavor}");
            logged(&run, "set the fields of OPS-1");
            assert_eq!(sandbox.status_of("OPS-1"), "Won't Do");
            assert!(comments(&sandbox, "OPS-1").contains("No decision in time"));
            let issue = sandbox.get_json(&format!("{}/issue/OPS-1", sandbox.api()), 200);
            let risk = issue["fields"]["customfield_10050"]["value"].as_str();
            assert_eq!(risk, Some("High"), "{flavor}: {}", issue["fields"]);
        },
        &[],
    );
}

#[test]
fn on_cancel_runs_within_the_budget_of_a_sigterm() {
    both(
        |sandbox, flavor| {
            let work = Workdir::new();
            let more = "  on_cancel: { comment: 'Pipeline cancelled', transition: \"Won't Do\", labels: [cancelled] }\n";
            work.write("step.yml", stanza(&sandbox, "30s", more));
            let run = sigterm_after_3s(&work, &sandbox, || {});
            assert_eq!(run.code, 6, "{flavor}: {}", run.stderr);
            assert!(
                run.elapsed < Duration::from_secs(2),
                "{flavor}: ended {:?} after SIGTERM",
                run.elapsed
            );
            assert_eq!(run.field("decision"), "cancelled");
            assert_eq!(
                actions(&run),
                ok("on_cancel", &["labels", "comment", "transition"])
            );
            logged(&run, "SIGTERM received");
            logged(&run, "on_cancel: labels cancelled");
            assert_eq!(sandbox.status_of("OPS-1"), "Won't Do");
            assert!(labels(&sandbox, "OPS-1").contains(&json!("cancelled")));
            assert!(comments(&sandbox, "OPS-1").contains("Pipeline cancelled"));
        },
        &[],
    );
}

#[test]
fn on_cancel_that_cannot_finish_in_time_is_abandoned() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    work.write(
        "step.yml",
        stanza(
            &sandbox,
            "30s",
            "  on_cancel: { comment: 'Pipeline cancelled', transition: \"Won't Do\" }\n",
        ),
    );
    let run = sigterm_after_3s(&work, &sandbox, || {
        // Every transition (the comment rides in it) now hangs for longer than a cancellation
        // may take.
        sandbox.add_faults(&json!({"method": "POST", "path_prefix": "/rest/api/3/issue/OPS-1/transitions", "kind": "delay", "delay_ms": 5000}));
    });
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(2),
        "ended {:?} after SIGTERM",
        run.elapsed
    );
    let abandoned = |write: &str| {
        (
            "on_cancel".to_owned(),
            write.to_owned(),
            "abandoned".to_owned(),
        )
    };
    assert_eq!(
        actions(&run),
        [abandoned("comment"), abandoned("transition")]
    );
    assert!(
        run.field("actions")[0]["error"]
            .as_str()
            .unwrap()
            .contains("not done within the 1s 500ms a cancellation allows"),
        "{}",
        run.result_text
    );
    logged(&run, "on_cancel: abandoned");
    assert_eq!(sandbox.status_of("OPS-1"), "Awaiting approval");
}

#[test]
fn a_failed_action_is_reported_and_the_exit_unchanged() {
    let sandbox = SandboxProc::datacenter(&["--approve-after", "1s"]);
    let run = gate(
        &sandbox,
        "30s",
        "  on_approve: { comment: 'Deploying', transition: Ship it }\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("decision"), "approved");
    assert_eq!(run.field("exit_code"), 0);
    let failed = &run.field("actions")[1];
    assert_eq!(
        (failed["write"].as_str(), failed["result"].as_str()),
        (Some("transition"), Some("failed")),
        "{}",
        run.result_text
    );
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains("no transition named or leading to \"Ship it\" is available on OPS-1 (status \"Approved\"); available: \"Done\" (→ Done)"),
        "{error}"
    );
    assert_eq!(run.field("actions")[0]["result"], "ok");
    logged(
        &run,
        "WARN on_approve: the transition of OPS-1 failed: no transition named",
    );
    assert!(comments(&sandbox, "OPS-1").contains("Deploying"));
    assert_eq!(sandbox.status_of("OPS-1"), "Approved");
}

#[test]
fn on_cancel_and_its_shorthand_together_are_refused() {
    let sandbox = SandboxProc::cloud(&[]);
    let run = gate(
        &sandbox,
        "30s",
        "  on_cancel_comment: cancelled\n  on_cancel: { transition: \"Won't Do\" }\n",
    );
    refused(
        &run,
        2,
        "`approval.on_cancel`: `on_cancel_comment` and `on_cancel` are both set",
    );
    logged(&run, "hint:");
    assert!(sandbox.issues().is_empty());
}

const FINISH: &str = "finish:
  success: { transition: Done, comment: 'Deployed 1.4.2' }
  failure: { comment: 'Deploy failed', labels: [deploy-failed] }
";

/// Runs the gate to approval in `work`, with the `finish` section.
fn approved(work: &Workdir, sandbox: &SandboxProc) {
    work.write("step.yml", stanza(sandbox, "30s", FINISH));
    let run = jira_gate(work, sandbox, &["run", "step.yml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.result.as_ref().unwrap().get("actions").is_none());
}

#[test]
fn finish_success_by_issue_key() {
    both(
        |sandbox, flavor| {
            let work = Workdir::new();
            approved(&work, &sandbox);
            let run = jira_gate(
                &work,
                &sandbox,
                &[
                    "finish",
                    "step.yml",
                    "--outcome",
                    "success",
                    "--issue-key",
                    "OPS-1",
                ],
            );
            assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
            assert_eq!(run.field("decision"), "finished");
            assert_eq!(run.field("issue_key"), "OPS-1");
            assert_eq!(run.field("status"), "Done");
            assert_eq!(run.field("resolution"), "Done");
            assert_eq!(
                actions(&run),
                ok("finish.success", &["comment", "transition"])
            );
            let summary = run.stderr.lines().last().unwrap();
            assert!(
                summary.starts_with("jira-gate: finished OPS-1 (status \"Done\")"),
                "{summary}"
            );
            assert!(!run.stderr.contains("dedupe"), "{}", run.stderr);
            assert_eq!(sandbox.status_of("OPS-1"), "Done");
            assert!(comments(&sandbox, "OPS-1").contains("Deployed 1.4.2"));
        },
        &["--approve-after", "1s"],
    );
}

#[test]
fn finish_failure_by_dedupe_and_by_variable() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = Workdir::new();
    approved(&work, &sandbox);
    let run = jira_gate(
        &work,
        &sandbox,
        &["finish", "step.yml", "--outcome", "failure"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    logged(
        &run,
        "dedupe: finishing OPS-1 (label jira-gate-pipeline-77-production)",
    );
    assert_eq!(run.field("decision"), "finished");
    assert_eq!(run.field("status"), "Approved");
    assert_eq!(actions(&run), ok("finish.failure", &["labels", "comment"]));
    assert!(labels(&sandbox, "OPS-1").contains(&json!("deploy-failed")));
    assert!(comments(&sandbox, "OPS-1").contains("Deploy failed"));

    // The outcome and the key from their variables.
    let run = work.run(
        work.command_for(&sandbox)
            .envs([
                ("JIRA_GATE_OUTCOME", "success"),
                ("JIRA_GATE_ISSUE_KEY", "OPS-1"),
                ("JIRA_GATE_RESULT_FILE", "result.json"),
            ])
            .args(["finish", "step.yml"]),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("status"), "Done");
    assert_eq!(
        actions(&run),
        ok("finish.success", &["comment", "transition"])
    );
}

#[test]
fn finish_without_a_ticket_to_find_exits_2() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    // The dedupe label is on no ticket: the gate never ran.
    work.write("step.yml", stanza(&sandbox, "30s", FINISH));
    let run = jira_gate(
        &work,
        &sandbox,
        &["finish", "step.yml", "--outcome", "success"],
    );
    refused(
        &run,
        2,
        "jira-gate: error: no ticket to finish: no ticket of OPS carries the label jira-gate-pipeline-77-production (ticket.dedupe \"pipeline-77-production\")",
    );
    assert!(run.field("issue_key").is_null());

    // No dedupe and no key: said before Jira is asked anything.
    let requests = sandbox.requests().len();
    work.write(
        "step.yml",
        stanza(&sandbox, "30s", FINISH).replace("  dedupe: pipeline-77-production\n", ""),
    );
    let run = jira_gate(
        &work,
        &sandbox,
        &["finish", "step.yml", "--outcome", "failure"],
    );
    refused(
        &run,
        2,
        "has neither `ticket.key` nor `ticket.dedupe`, and no --issue-key (JIRA_GATE_ISSUE_KEY) was given",
    );
    logged(&run, "hint: pass the gate's ticket");
    assert_eq!(sandbox.requests().len(), requests, "no request to Jira");
}

#[test]
fn validate_names_the_actions() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    work.write(
        "step.yml",
        stanza(
            &sandbox,
            "30s",
            &format!("  on_cancel_comment: stop\n{FINISH}"),
        ),
    );
    let run = work.run(work.command_for(&sandbox).args(["validate", "step.yml"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    logged(
        &run,
        "step.yml is valid: creates a Change in OPS (deduplicated)",
    );
    logged(
        &run,
        "jira-gate: actions: approval.on_cancel, finish.success, finish.failure",
    );
    assert!(run.result.is_none());
    assert!(sandbox.requests().is_empty(), "validate is offline");
}

#[test]
fn finish_usage_errors_exit_2_before_jira() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    work.write("step.yml", stanza(&sandbox, "30s", FINISH));
    let run = jira_gate(
        &work,
        &sandbox,
        &["finish", "step.yml", "--issue-key", "OPS-1"],
    );
    refused(
        &run,
        2,
        "jira-gate: error: finish needs --outcome (JIRA_GATE_OUTCOME): success or failure",
    );

    // No `finish` section at all.
    work.write("none.yml", stanza(&sandbox, "30s", ""));
    let run = jira_gate(
        &work,
        &sandbox,
        &[
            "finish",
            "none.yml",
            "--outcome",
            "success",
            "--issue-key",
            "OPS-1",
        ],
    );
    refused(&run, 2, "none.yml has no `finish` section");
    assert!(sandbox.requests().is_empty(), "no request to Jira");
}

#[test]
fn finish_jira_errors_exit_5_and_dry_runs_send_nothing() {
    let sandbox = SandboxProc::datacenter(&["--approve-after", "1s"]);
    let work = Workdir::new();
    approved(&work, &sandbox);

    // A transition the ticket does not have: Jira's configuration, exit 5.
    work.write(
        "bad.yml",
        stanza(
            &sandbox,
            "30s",
            "finish:\n  success: { transition: Ship it, comment: 'Shipped' }\n",
        ),
    );
    let run = jira_gate(
        &work,
        &sandbox,
        &[
            "finish",
            "bad.yml",
            "--outcome",
            "success",
            "--issue-key",
            "OPS-1",
        ],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert_eq!(run.field("decision"), "error");
    assert_eq!(run.field("issue_key"), "OPS-1");
    logged(
        &run,
        "jira-gate: error: finish.success on OPS-1 failed: the transition: no transition named or leading to \"Ship it\"",
    );
    assert_eq!(
        actions(&run)[1],
        (
            "finish.success".to_owned(),
            "transition".to_owned(),
            "failed".to_owned()
        )
    );
    assert_eq!(sandbox.status_of("OPS-1"), "Approved");

    // --dry-run prints the writes and sends none.
    let run = jira_gate(
        &work,
        &sandbox,
        &[
            "finish",
            "step.yml",
            "--outcome",
            "success",
            "--issue-key",
            "OPS-1",
            "--dry-run",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // One write: the transition with the comment in it.
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(run.stdout.contains("\"dry_run\":true"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("\"update\":{\"comment\":[{\"add\":{\"body\":\"Deployed 1.4.2\"}}]}"),
        "{}",
        run.stdout
    );
    let results: Vec<String> = actions(&run).into_iter().map(|(_, _, r)| r).collect();
    assert_eq!(results, ["dry_run", "dry_run"]);
    assert_eq!(sandbox.status_of("OPS-1"), "Approved");
}

#[test]
fn check_looks_at_the_actions_transitions_and_fields() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    work.write(
        "step.yml",
        stanza(
            &sandbox,
            "30s",
            "  on_approve: { transition: Done, fields: { Change risk: High } }\nfinish:\n  failure: { transition: Ship it, fields: { Blast radius: small } }\n",
        ),
    );
    let run = work.run(work.command_for(&sandbox).args(["check", "step.yml"]));
    assert_eq!(run.code, 5, "{}", run.stderr);
    for line in [
        "ok       approval.on_approve.transition \"Done\" leads to status \"Done\" of OPS",
        "ok       field \"Change risk\" is customfield_",
        "note     finish.failure.transition \"Ship it\" is not a status of OPS",
        "problem  no Jira field is named or has the id \"Blast radius\"",
        "ok       status \"Approved\" exists in OPS",
        "note     transition \"Request approval\" is not a status of OPS",
        "jira-gate: error: 1 problem found",
    ] {
        assert!(run.stderr.contains(line), "{line}:\n{}", run.stderr);
    }
    // The criteria, the transition after the create and the actions share one read of the
    // project's statuses.
    let reads = sandbox
        .requests()
        .into_iter()
        .filter(|r| r["method"] == "GET" && r["path"] == "/rest/api/3/project/OPS/statuses")
        .count();
    assert_eq!(reads, 1, "{:#?}", sandbox.requests());
    assert!(run.result.is_none(), "check writes no result file");
    assert!(sandbox.issues().is_empty(), "check writes nothing");
}

#[test]
fn finish_as_the_github_action_runs_it() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = Workdir::new();
    approved(&work, &sandbox);
    let output_file = work.path("github_output");
    // action.yml: `args: [finish]` from the `command` input, the other inputs as INPUT_*.
    let run = work.run(
        work.command_for(&sandbox)
            .envs([
                ("GITHUB_ACTIONS", "true"),
                ("INPUT_STEP-FILE", "step.yml"),
                ("INPUT_OUTCOME", "failure"),
                ("INPUT_ISSUE-KEY", "OPS-1"),
                ("INPUT_TIMEOUT", ""),
            ])
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", work.path("summary"))
            .args(["finish", "--result-file", "result.json"]),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("::notice title=jira-gate::finished OPS-1 (status \"Approved\")"),
        "{}",
        run.stdout
    );
    let outputs = std::fs::read_to_string(&output_file).unwrap();
    for want in ["decision=finished", "issue-key=OPS-1", "exit-code=0"] {
        assert!(
            outputs.lines().any(|l| l == want),
            "missing {want:?} in:\n{outputs}"
        );
    }
    assert_eq!(run.field("decision"), "finished");
    assert_eq!(actions(&run), ok("finish.failure", &["labels", "comment"]));
    assert!(labels(&sandbox, "OPS-1").contains(&json!("deploy-failed")));
}

#[test]
fn finish_stopped_by_sigterm_exits_6_and_keeps_the_ticket_it_found() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = Workdir::new();
    approved(&work, &sandbox);
    // The transition (the comment rides in it) is stored at once but answered 20 s later: a
    // write in flight when the signal comes.
    sandbox.add_faults(&json!({"method": "POST", "path_prefix": "/rest/api/3/issue/OPS-1/transitions", "kind": "late", "delay_ms": 20000}));
    let child = work
        .command_for(&sandbox)
        .args([
            "finish",
            "step.yml",
            "--outcome",
            "success",
            "--issue-key",
            "OPS-1",
            "--result-file",
            "result.json",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The sandbox applies the transition when it arrives, so its status says when to signal.
    let arrived = Instant::now();
    while sandbox.status_of("OPS-1") != "Done" {
        assert!(
            arrived.elapsed() < Duration::from_secs(30),
            "the transition never arrived"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let run = work.finish(&child.wait_with_output().unwrap(), signalled);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(5),
        "ended {:?} after SIGTERM",
        run.elapsed
    );
    assert_eq!(run.field("decision"), "cancelled");
    assert_eq!(run.field("exit_code"), 6);
    assert_eq!(run.field("issue_key"), "OPS-1");
    assert_eq!(
        run.field("status"),
        "Approved",
        "the status read before the write"
    );
    // No write was answered, so none is reported either way.
    assert!(
        run.result.as_ref().unwrap().get("actions").is_none(),
        "{}",
        run.result_text
    );
    logged(
        &run,
        "jira-gate: error: cancelled by SIGTERM during finish.success on OPS-1, after 0 answered writes; a write still in flight may or may not have reached Jira",
    );
    logged(&run, "hint: look at OPS-1");
    assert_eq!(
        run.field("message"),
        "cancelled by SIGTERM during finish.success on OPS-1, after 0 answered writes; a write still in flight may or may not have reached Jira"
    );
}
