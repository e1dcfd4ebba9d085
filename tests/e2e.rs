//! End to end: the built `jira-gate` binary against a `jira-gate sandbox` process, for both
//! flavors. Each test asserts the exit code, the stderr text a user reads, the result file, and
//! what the sandbox holds afterwards.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::SandboxProc;
use common::run::{Run, Workdir, jira_gate};
use serde_json::Value;

/// Runs `jira-gate run step.yml --result-file result.json EXTRA` with the stanza.
fn gate(sandbox: &SandboxProc, stanza: &str, extra: &[&str]) -> Run {
    Workdir::new().gate(sandbox, stanza, extra)
}

/// Runs `jira-gate check step.yml` with the stanza and extra variables: the exit code and stderr.
fn check(sandbox: &SandboxProc, stanza: &str, vars: &[(&str, &str)]) -> (i32, String) {
    let work = Workdir::new();
    work.write("step.yml", stanza);
    let run = work.run(
        work.command_for(sandbox)
            .envs(vars.iter().copied())
            .args(["check", "step.yml"]),
    );
    (run.code, run.stderr)
}

/// The connection block for the flavor.
fn jira_block(sandbox: &SandboxProc) -> &'static str {
    if sandbox.datacenter {
        "jira:\n  url: ${JIRA_URL}\n  auth: { type: pat, token: '${JIRA_PAT}' }\n  request_timeout: 5s\n"
    } else {
        "jira:\n  url: ${JIRA_URL}\n  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n  request_timeout: 5s\n"
    }
}

fn create_stanza(sandbox: &SandboxProc, extra_ticket: &str, approval: &str) -> String {
    format!(
        "{}ticket:\n  project: OPS\n  type: Change\n  summary: Deploy checkout-api 1.4.2\n  description: |\n    Pipeline https://ci.example.com/p/1 waits.\n  labels: [deploy]\n  transition: Request approval\n{extra_ticket}{approval}",
        jira_block(sandbox)
    )
}

const WAIT: &str = "approval:\n  approve_when: { status: [Approved, Done] }\n  reject_when: { status: Rejected }\n  interval: 1s\n  max_interval: 2s\n  timeout: 30s\n";

fn both(test: impl Fn(SandboxProc, &str), args: &[&str]) {
    test(SandboxProc::cloud(args), "cloud");
    test(SandboxProc::datacenter(args), "datacenter");
}

#[test]
fn approve_exits_0_with_outputs() {
    both(
        |sandbox, flavor| {
            let run = gate(&sandbox, &create_stanza(&sandbox, "", WAIT), &[]);
            assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
            assert!(run.stderr.contains("created OPS-1"), "{}", run.stderr);
            assert!(
                run.stderr
                    .contains("transitioned OPS-1 with \"Request approval\""),
                "{}",
                run.stderr
            );
            assert!(
                run.stderr.contains("OPS-1 is \"Awaiting approval\""),
                "{}",
                run.stderr
            );
            let summary = run.stderr.lines().last().unwrap();
            assert!(
                summary.starts_with(
                    "jira-gate: approved OPS-1 (status \"Approved\", by Alice Approver)"
                ),
                "{summary}"
            );
            assert_eq!(run.field("decision"), "approved");
            assert_eq!(run.field("issue_key"), "OPS-1");
            assert_eq!(
                run.field("issue_url"),
                format!("{}/browse/OPS-1", sandbox.base).as_str()
            );
            assert_eq!(run.field("created"), true);
            assert_eq!(run.field("status"), "Approved");
            assert_eq!(run.field("status_category"), "done");
            assert_eq!(run.field("decided_by"), "Alice Approver");
            assert!(run.field("decided_at").as_str().unwrap().contains('T'));
            assert!(run.field("polls").as_u64().unwrap() >= 1);
            assert_eq!(run.field("exit_code"), 0);
            assert!(
                run.stdout.is_empty(),
                "stdout is for machine output only: {}",
                run.stdout
            );
            assert_eq!(sandbox.issues().len(), 1);
        },
        &["--approve-after", "2s"],
    );
}

#[test]
fn reject_exits_3() {
    both(
        |sandbox, flavor| {
            let run = gate(&sandbox, &create_stanza(&sandbox, "", WAIT), &[]);
            assert_eq!(run.code, 3, "{flavor}: {}", run.stderr);
            assert_eq!(run.field("decision"), "rejected");
            assert_eq!(run.field("status"), "Rejected");
            assert_eq!(run.field("resolution"), "Won't Do");
            assert_eq!(run.field("decided_by"), "Bob Builder");
            assert!(
                run.stderr
                    .lines()
                    .last()
                    .unwrap()
                    .starts_with("jira-gate: rejected OPS-1")
            );
        },
        &["--reject-after", "1s"],
    );
}

#[test]
fn timeout_exits_4_on_time() {
    both(
        |sandbox, flavor| {
            let approval = WAIT.replace("timeout: 30s", "timeout: 4s");
            let run = gate(&sandbox, &create_stanza(&sandbox, "", &approval), &[]);
            assert_eq!(run.code, 4, "{flavor}: {}", run.stderr);
            assert_eq!(run.field("decision"), "timeout");
            assert_eq!(run.field("status"), "Awaiting approval");
            assert!(
                run.elapsed < Duration::from_secs(12),
                "took {:?}",
                run.elapsed
            );
            assert!(
                run.field("message")
                    .as_str()
                    .unwrap()
                    .contains("still pending after 4s")
            );
        },
        &[],
    );
}

#[test]
fn update_by_key_and_decide_on_manual_approval() {
    both(
        |sandbox, flavor| {
            let key = sandbox.create("Existing change", &["existing"]);
            sandbox.transition(&key, "21");
            let stanza = format!(
                "{}ticket:\n  key: ${{JIRA_ISSUE}}\n  summary: Updated by jira-gate\n  labels: [gated]\n  comment: Waiting for you\n{WAIT}",
                jira_block(&sandbox)
            );
            let work = Workdir::new();
            work.write("step.yml", &stanza);
            let child = work
                .command_for(&sandbox)
                .env("JIRA_ISSUE", &key)
                .args(["run", "step.yml", "--result-file", "result.json"])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(2500));
            sandbox.set_status_by(&key, "Approved", "alice");
            let started = Instant::now();
            let output = child.wait_with_output().unwrap();
            let run = work.finish(&output, started);
            assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
            assert_eq!(run.field("created"), false);
            assert_eq!(run.field("issue_key"), key.as_str());
            let issue = sandbox
                .issues()
                .into_iter()
                .find(|i| i["key"] == key.as_str())
                .unwrap();
            assert_eq!(issue["summary"], "Updated by jira-gate");
            let labels: Vec<&str> = issue["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            assert!(
                labels.contains(&"existing") && labels.contains(&"gated"),
                "labels are added: {labels:?}"
            );
            assert_eq!(sandbox.issues().len(), 1, "no ticket created");
        },
        &[],
    );
}

#[test]
fn custom_fields_are_shaped_per_flavor() {
    both(
        |sandbox, flavor| {
            let fields = "  fields:\n    Priority: High\n    change risk: low\n    Approvers: [alice@example.com]\n    Risk score: 7\n    customfield_10054: [staging, production]\n    Deployment notes: |\n      line one\n      line two\n    duedate: 2026-12-24\n";
            let run = gate(&sandbox, &create_stanza(&sandbox, fields, ""), &[]);
            assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
            assert_eq!(run.field("decision"), "written");
            assert_eq!(run.field("status"), "Awaiting approval");
            let api = sandbox.api();
            let issue = sandbox.get_json(&format!("{api}/issue/OPS-1"), 200);
            let f = &issue["fields"];
            assert_eq!(f["priority"]["name"], "High", "{flavor}");
            assert_eq!(
                f["customfield_10050"]["value"], "Low",
                "option value takes Jira's spelling"
            );
            assert_eq!(f["customfield_10052"][0]["displayName"], "Alice Approver");
            assert_eq!(f["customfield_10053"], 7.0);
            assert_eq!(f["customfield_10054"][1]["value"], "production");
            assert_eq!(f["duedate"], "2026-12-24");
            if sandbox.datacenter {
                assert_eq!(f["customfield_10051"], "line one\nline two");
                assert_eq!(
                    f["description"],
                    "Pipeline https://ci.example.com/p/1 waits."
                );
            } else {
                assert_eq!(f["customfield_10051"]["type"], "doc");
                assert_eq!(f["description"]["type"], "doc");
            }
        },
        &[],
    );
}

#[test]
fn field_criteria_decide() {
    let sandbox = SandboxProc::cloud(&[]);
    let approval = "approval:\n  approve_when:\n    all:\n      - { field: Change risk, equals: Low }\n      - status: Approved\n  reject_when: { field: Change risk, in: [High] }\n  interval: 1s\n  max_interval: 1s\n  timeout: 20s\n";
    let stanza = create_stanza(&sandbox, "  fields: { Change risk: High }\n", approval);
    let run = gate(&sandbox, &stanza, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("reject when Change risk in [High]"),
        "{}",
        run.stderr
    );
    // One request per poll: every poll is a single GET of the issue with only the needed fields.
    let polls: Vec<Value> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r["method"] == "GET" && r["path"].as_str().unwrap().ends_with("/issue/OPS-1"))
        .collect();
    assert!(!polls.is_empty());
    let query = polls[0]["query"].as_str().unwrap();
    assert!(
        query.contains("fields=status%2Cresolution%2Ccustomfield_10050"),
        "{query}"
    );
}

#[test]
fn bad_credentials_exit_5_with_jiras_message_and_no_secret() {
    both(
        |sandbox, flavor| {
            let work = Workdir::new();
            work.write("step.yml", create_stanza(&sandbox, "", WAIT));
            let run = work.run(
                work.command_for(&sandbox)
                    .env("JIRA_API_TOKEN", "wrong-token-123")
                    .env("JIRA_PAT", "wrong-token-123")
                    .args(["run", "step.yml", "--result-file", "result.json", "-vv"]),
            );
            assert_eq!(run.code, 5, "{flavor}: {}", run.stderr);
            assert!(
                run.stderr
                    .contains("Client must be authenticated to access this resource."),
                "{}",
                run.stderr
            );
            assert!(
                run.stderr.contains("Jira refused the credentials"),
                "{}",
                run.stderr
            );
            assert!(
                !run.stderr.contains("wrong-token-123"),
                "token leaked:\n{}",
                run.stderr
            );
            assert!(
                !run.result
                    .as_ref()
                    .unwrap()
                    .to_string()
                    .contains("wrong-token-123")
            );
            assert_eq!(run.field("decision"), "error");
            assert_eq!(sandbox.issues().len(), 0);
        },
        &[],
    );
}

#[test]
fn unknown_project_and_issue_exit_5() {
    both(
        |sandbox, flavor| {
            let stanza = create_stanza(&sandbox, "", WAIT).replace("project: OPS", "project: NOPE");
            let run = gate(&sandbox, &stanza, &[]);
            assert_eq!(run.code, 5, "{flavor}: {}", run.stderr);
            assert!(
                run.stderr.contains("project \"NOPE\" does not exist"),
                "{}",
                run.stderr
            );
            assert!(
                run.stderr
                    .contains("No project could be found with key 'NOPE'."),
                "{}",
                run.stderr
            );

            let stanza = format!("{}ticket:\n  key: OPS-999\n{WAIT}", jira_block(&sandbox));
            let run = gate(&sandbox, &stanza, &[]);
            assert_eq!(run.code, 5, "{flavor}: {}", run.stderr);
            assert!(
                run.stderr
                    .contains("issue OPS-999 does not exist or is not visible"),
                "{}",
                run.stderr
            );
        },
        &[],
    );
}

#[test]
fn unknown_transition_lists_the_available_ones() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = create_stanza(&sandbox, "", WAIT)
        .replace("transition: Request approval", "transition: Ship it");
    let run = gate(&sandbox, &stanza, &[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("no transition named or leading to \"Ship it\"")
            && run
                .stderr
                .contains("\"Request approval\" (→ Awaiting approval)"),
        "{}",
        run.stderr
    );
}

#[test]
fn dedupe_reuses_the_ticket_on_a_rerun() {
    both(
        |sandbox, flavor| {
            let stanza = create_stanza(
                &sandbox,
                "  dedupe: \"pipeline-42-production\"\n  comment: waiting\n",
                "",
            );
            let first = gate(&sandbox, &stanza, &[]);
            assert_eq!(first.code, 0, "{flavor}: {}", first.stderr);
            assert_eq!(first.field("created"), true);
            let second = gate(&sandbox, &stanza, &[]);
            assert_eq!(second.code, 0, "{}", second.stderr);
            assert_eq!(second.field("created"), false);
            assert_eq!(second.field("issue_key"), "OPS-1");
            assert!(
                second.stderr.contains("dedupe: reusing OPS-1"),
                "{}",
                second.stderr
            );
            assert_eq!(sandbox.issues().len(), 1, "exactly one ticket");
            let labels = &sandbox.issues()[0]["labels"];
            assert!(
                labels
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l == "jira-gate-pipeline-42-production"),
                "{labels}"
            );
        },
        &[],
    );
}

#[test]
fn invalid_stanzas_exit_2_with_location() {
    let sandbox = SandboxProc::cloud(&[]);
    let good = create_stanza(&sandbox, "", WAIT);
    let cases = [
        (
            good.replace("  summary:", "  sumary:"),
            "step.yml:8:3: `ticket.sumary`: unknown field `sumary`",
            "did you mean `summary`?",
        ),
        (
            good.replace("${JIRA_URL}", "${JIRA_SITE}"),
            "step.yml:2:8",
            "`JIRA_SITE` is not set",
        ),
        (
            good.replace("interval: 1s", "interval: 1 fortnight"),
            "invalid duration",
            "90s",
        ),
        (
            good.replace("${JIRA_URL}", "http://jira.example.com"),
            "`jira.url`",
            "plain http is allowed only to",
        ),
        (
            good.replace("  type: Change\n", ""),
            "`ticket.type`: is required to create",
            "--issue-key",
        ),
        (
            good.replace("status: [Approved, Done]", "jql: 'x = 1 ORDER BY created'"),
            "`approval.approve_when.jql`: \"x = 1 ORDER BY created\" has ORDER BY",
            "remove the ORDER BY part",
        ),
        ("jira: [unclosed".to_owned(), "step.yml:1:", ""),
    ];
    for (stanza, want, hint) in cases {
        let run = gate(&sandbox, &stanza, &[]);
        assert_eq!(run.code, 2, "{want}: {}", run.stderr);
        assert!(
            run.stderr.contains(want),
            "want {want:?} in:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(hint),
            "want hint {hint:?} in:\n{}",
            run.stderr
        );
        assert!(run.stderr.contains("jira-gate: error: "), "{}", run.stderr);
        assert_eq!(run.field("exit_code"), 2);
    }
    assert!(
        sandbox.requests().is_empty(),
        "an invalid stanza never reaches Jira"
    );
}

#[test]
fn dry_run_prints_writes_and_sends_none() {
    let sandbox = SandboxProc::cloud(&[]);
    let run = gate(&sandbox, &create_stanza(&sandbox, "", WAIT), &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line: Value = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(line["method"], "POST");
    assert_eq!(
        line["body"]["fields"]["summary"],
        "Deploy checkout-api 1.4.2"
    );
    assert_eq!(sandbox.issues().len(), 0);
    assert!(
        sandbox.requests().iter().all(|r| r["method"] == "GET"),
        "only reads"
    );

    // An update under --dry-run prints its writes, reads, and does not wait.
    let key = sandbox.create("Existing", &[]);
    let stanza = format!(
        "{}ticket:\n  key: {key}\n  summary: New summary\n  comment: hello\n  transition: Request approval\n{WAIT}",
        jira_block(&sandbox)
    );
    let run = gate(&sandbox, &stanza, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let methods: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["method"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // The edit, then the transition carrying the comment (`update.comment`, issue 12).
    assert_eq!(methods, ["PUT", "POST"], "{}", run.stdout);
    assert!(
        run.stdout.contains(r#""update":{"comment""#),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("INFO updated"), "{}", run.stderr);
    assert_eq!(run.field("decision"), "written");
    assert!(
        run.field("message")
            .as_str()
            .unwrap()
            .contains("not waiting")
    );
    assert_eq!(sandbox.status_of(&key), "To Do", "nothing was sent");
}

#[test]
fn options_also_come_from_variables() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    work.write("gate.yml", create_stanza(&sandbox, "", WAIT));
    let run = work.run(
        work.command_for(&sandbox)
            .envs([
                ("JIRA_GATE_STEP_FILE", "gate.yml"),
                ("JIRA_GATE_DRY_RUN", "1"),
                ("JIRA_GATE_RESULT_FILE", "result.json"),
                ("JIRA_GATE_QUIET", "yes"),
            ])
            .arg("run"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("\"dry_run\":true"), "{}", run.stdout);
    assert!(!run.stderr.contains(" INFO "), "quiet: {}", run.stderr);
    assert_eq!(run.field("decision"), "written");
    assert_eq!(sandbox.issues().len(), 0);
}

#[test]
fn sigterm_cancels_with_exit_6_and_outputs() {
    let sandbox = SandboxProc::datacenter(&[]);
    let approval = WAIT.to_owned() + "  on_cancel_comment: cancelled by the pipeline\n";
    let work = Workdir::new();
    work.write("step.yml", create_stanza(&sandbox, "", &approval));
    let child = work
        .command_for(&sandbox)
        .args(["run", "step.yml", "--result-file", "result.json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let run = work.finish(&output, signalled);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(2),
        "ended {:?} after SIGTERM",
        run.elapsed
    );
    assert_eq!(run.field("decision"), "cancelled");
    assert_eq!(run.field("issue_key"), "OPS-1");
    assert!(run.stderr.contains("SIGTERM received"), "{}", run.stderr);
    let comments = sandbox
        .requests()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/comment"))
        .count();
    assert_eq!(comments, 1, "the on_cancel_comment was posted");
}

#[test]
fn validate_and_schema_commands() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    work.write("step.yml", create_stanza(&sandbox, "", WAIT));
    let output = work
        .command_for(&sandbox)
        .args(["validate", "step.yml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("step.yml is valid: creates a Change in OPS, then waits up to 30s for status in [Approved, Done]"), "{stderr}");

    let output = jira_gate().arg("schema").output().unwrap();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/jira-gate.schema.json"
    ))
    .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        committed,
        "schemas/jira-gate.schema.json is stale: run `cargo run -- schema > schemas/jira-gate.schema.json`"
    );
}

#[test]
fn shipped_stanzas_validate() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/steps");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // steps/harness/ holds Harness files; tests/harness.rs checks them.
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Stanzas are the YAML files with a top-level `jira:` key; the rest are pipeline examples.
        if !path.extension().is_some_and(|e| e == "yml" || e == "yaml")
            || !text.lines().any(|l| l.starts_with("jira:"))
        {
            continue;
        }
        let output = jira_gate()
            .envs([
                ("JIRA_URL", "https://example.atlassian.net"),
                ("JIRA_USER", "ci@example.com"),
                ("JIRA_API_TOKEN", "x"),
                ("JIRA_PAT", "x"),
                ("JIRA_ISSUE", "OPS-1"),
                ("CI_PIPELINE_ID", "1"),
                ("CI_PROJECT_NAME", "api"),
                ("CI_COMMIT_SHORT_SHA", "abc123"),
                ("CI_PIPELINE_URL", "https://ci.example.com/p/1"),
                ("PIPELINE_RUN_ID", "1"),
                // steps/jsm-change-request.yml: the window the pipeline plans.
                ("DEPLOY_WINDOW_START", "2026-12-05T02:00:00+01:00"),
                ("DEPLOY_WINDOW_END", "2026-12-05T04:00:00+01:00"),
            ])
            .arg("validate")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} stanzas in steps/");
}

#[test]
fn check_reports_each_problem() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = create_stanza(
        &sandbox,
        "  fields: { Change rsik: Low, Priority: High }\n",
        &WAIT.replace(
            "reject_when: { status: Rejected }",
            "reject_when: { status: Rejeted }",
        ),
    )
    .replace("type: Change", "type: Bug");
    let (code, stderr) = check(&sandbox, &stanza, &[]);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("ok       credentials: authenticated as CI Bot"),
        "{stderr}"
    );
    assert!(
        stderr.contains("problem  project OPS has no issue type \"Bug\"; it has: Change, Task"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "problem  no Jira field is named or has the id \"Change rsik\"; closest: Change risk"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("ok       field \"Priority\" is priority"),
        "{stderr}"
    );
    assert!(
        stderr.contains("problem  the criteria name status \"Rejeted\", which OPS does not have"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ok       status \"Approved\" exists in OPS"),
        "{stderr}"
    );
    assert!(
        stderr.contains("note     transition \"Request approval\" is not a status of OPS"),
        "{stderr}"
    );
    assert!(stderr.contains("3 problems found"), "{stderr}");
    assert_eq!(sandbox.issues().len(), 0, "check writes nothing");
}

#[test]
fn demo_runs_the_whole_flow() {
    let output = jira_gate()
        .args(["demo", "--approve-after", "1s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .starts_with("jira-gate: approved OPS-1 (status \"Approved\", by Alice Approver)"),
        "{stderr}"
    );
}

#[test]
fn demo_quiet_prints_the_summary_only() {
    let output = jira_gate()
        .args(["demo", "--approve-after", "1s", "-q"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("jira-gate: approved OPS-1 (status \"Approved\", by Alice Approver)"),
        "{stderr}"
    );
}

#[test]
fn createmeta_falls_back_to_the_old_endpoint_on_404() {
    // Data Center before 8.4 has only `createmeta?expand=projects.issuetypes.fields`: the new
    // per-project endpoint answers 404 there.
    let sandbox = SandboxProc::cloud(&[]);
    sandbox.add_faults(&serde_json::json!([{
        "method": "GET", "path_prefix": "/rest/api/3/issue/createmeta/OPS/issuetypes/", "kind": "status", "status": 404, "times": 5
    }]));
    let run = gate(
        &sandbox,
        &create_stanza(&sandbox, "  fields: { Change risk: medium }\n", ""),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let paths: Vec<String> = sandbox
        .requests()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["path"].as_str().unwrap(),
                r["query"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/rest/api/3/issue/createmeta ")
                && p.contains("expand=projects.issuetypes.fields")),
        "{paths:#?}"
    );
    let issue = sandbox.get_json("/rest/api/3/issue/OPS-1", 200);
    assert_eq!(issue["fields"]["customfield_10050"]["value"], "Medium");
}

#[test]
fn sigterm_while_the_stanza_is_read_is_a_clean_cancel() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    let fifo = work.path("step.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Nobody writes to the FIFO: the read blocks until the signal.
    let child = work
        .command_for(&sandbox)
        .args(["run", "step.fifo", "--result-file", "result.json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let run = work.finish(&output, signalled);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(2), "{:?}", run.elapsed);
    assert_eq!(run.field("decision"), "cancelled");
    assert!(
        run.stderr
            .contains("cancelled by SIGTERM while reading the stanza"),
        "{}",
        run.stderr
    );
}

#[test]
fn option_values_on_update_take_jiras_spelling_from_editmeta() {
    both(
        |sandbox, flavor| {
            let key = sandbox.create("Existing", &[]);
            let stanza = format!(
                "{}ticket:\n  key: {key}\n  fields: {{ Change risk: high }}\n",
                jira_block(&sandbox)
            );
            let run = gate(&sandbox, &stanza, &[]);
            assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
            let issue = sandbox.get_json(&format!("{}/issue/{key}", sandbox.api()), 200);
            assert_eq!(
                issue["fields"]["customfield_10050"]["value"], "High",
                "{flavor}"
            );

            let stanza = stanza.replace("high", "huge");
            let run = gate(&sandbox, &stanza, &[]);
            assert_eq!(run.code, 5, "{}", run.stderr);
            assert!(
                run.stderr
                    .contains("\"huge\" is not an option of field \"Change risk\""),
                "{}",
                run.stderr
            );
            assert!(
                run.stderr.contains("allowed: Low, Medium, High"),
                "{}",
                run.stderr
            );
        },
        &[],
    );
}

/// Issue 8 #4: a criterion naming a status the project does not have fails at the start, before
/// anything is written, instead of waiting until the timeout.
#[test]
fn run_stops_on_a_criteria_status_the_project_lacks() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let approval = WAIT
        .replace("status: [Approved, Done]", "status: Aproved")
        .replace("timeout: 30s", "timeout: 4s");
    let run = gate(&sandbox, &create_stanza(&sandbox, "", &approval), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "the criteria name status \"Aproved\", which OPS does not have, so they can never match"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Awaiting approval, Approved"),
        "{}",
        run.stderr
    );
    assert_eq!(run.field("decision"), "error");
    assert_eq!(run.field("exit_code"), 2);
    assert!(sandbox.issues().is_empty(), "nothing was created");
}

/// Issue 8 #4: when Jira cannot list the project's statuses the run goes on with a warning; a
/// ticket in a done-category status that no criterion matches is warned about once.
#[test]
fn run_warns_once_on_a_done_status_no_criterion_matches() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Closed elsewhere", &[]);
    sandbox.set_status(&key, "Done");
    sandbox.add_faults(&serde_json::json!([{
        "method": "GET", "path_prefix": "/rest/api/3/project/OPS/statuses", "kind": "status", "status": 403, "times": 5
    }]));
    let stanza = format!(
        "{}ticket:\n  key: {key}\napproval:\n  approve_when: {{ status: Approved }}\n  reject_when: {{ status: Rejected }}\n  interval: 1s\n  max_interval: 1s\n  timeout: 4s\n",
        jira_block(&sandbox)
    );
    let run = gate(&sandbox, &stanza, &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot check the criteria's status names against OPS"),
        "{}",
        run.stderr
    );
    let warning = format!("{key} is \"Done\", a done status that matches neither criterion");
    assert_eq!(run.stderr.matches(&warning).count(), 1, "{}", run.stderr);
    let polls = run.field("polls").as_u64().unwrap();
    let reads = sandbox
        .requests()
        .iter()
        .filter(|r| r["method"] == "GET" && r["path"] == format!("/rest/api/3/issue/{key}"))
        .count() as u64;
    // One read before the wait, then one request per poll, and the changelog is not read.
    assert_eq!(reads, polls + 1, "{polls} polls");
}

/// Issue 8 #10: `check` runs the create-screen checks of `run`: a field not on the screen, an
/// option value that is not allowed.
#[test]
fn check_applies_the_screen_checks_of_run() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = create_stanza(
        &sandbox,
        "  fields: { Resolution: Done, Change risk: huge }\n",
        WAIT,
    );
    let (code, stderr) = check(&sandbox, &stanza, &[]);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains(
            "problem  field \"Resolution\" (resolution) is not on the create screen of OPS / Change"
        ),
        "{stderr}"
    );
    let stanza = stanza.replace("Resolution: Done, ", "");
    let (code, stderr) = check(&sandbox, &stanza, &[]);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("problem  \"huge\" is not an option of field \"Change risk\""),
        "{stderr}"
    );
    // `run` stops on the same problem.
    let run = gate(&sandbox, &stanza, &[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("\"huge\" is not an option of field \"Change risk\""),
        "{}",
        run.stderr
    );
    assert!(sandbox.issues().is_empty(), "check and run wrote nothing");
}

/// `check` stops on an unknown `JIRA_GATE_CI` value before touching Jira, as `run` does.
#[test]
fn check_stops_on_an_unknown_ci_system() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = create_stanza(&sandbox, "", WAIT);
    let (code, stderr) = check(&sandbox, &stanza, &[("JIRA_GATE_CI", "githb")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("JIRA_GATE_CI=\"githb\" is not a CI system"),
        "{stderr}"
    );
    assert!(sandbox.requests().is_empty(), "Jira was not touched");
}
/// Issue 8 #17: `jira.site_url` is where the links point (a scoped token reaches Jira through
/// the api.atlassian.com gateway, whose URL is no page a person can open).
#[test]
fn links_use_the_site_url() {
    let sandbox = SandboxProc::cloud(&[]);
    let stanza = create_stanza(&sandbox, "", "").replace(
        "  request_timeout: 5s\n",
        "  request_timeout: 5s\n  site_url: https://example.atlassian.net/\n",
    );
    let run = gate(&sandbox, &stanza, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.field("issue_url"),
        "https://example.atlassian.net/browse/OPS-1"
    );
    assert!(
        run.stderr
            .contains("created OPS-1 (https://example.atlassian.net/browse/OPS-1)"),
        "{}",
        run.stderr
    );
    let stanza = stanza.replace(
        "https://example.atlassian.net/",
        "http://example.atlassian.net",
    );
    let run = gate(&sandbox, &stanza, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("jira.site_url"), "{}", run.stderr);
}
