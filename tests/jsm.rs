//! End to end, Jira Service Management (issue 9, SPEC section 7): the built binary creates a
//! customer request from a request type and waits on its N-of-M approval in a `jira-gate sandbox`
//! process, on both flavors. Each test asserts the exit code, what stderr says, the result file and
//! the CI outputs, and what the sandbox holds afterwards.
#![cfg(feature = "sandbox")]

mod common;

use common::SandboxProc;
use common::run::{Run, Workdir};
use serde_json::Value;
use std::time::Duration;

fn jira_block(sandbox: &SandboxProc) -> &'static str {
    if sandbox.datacenter {
        "jira:\n  url: ${JIRA_URL}\n  auth: { type: pat, token: '${JIRA_PAT}' }\n  request_timeout: 5s\n"
    } else {
        "jira:\n  url: ${JIRA_URL}\n  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n  request_timeout: 5s\n"
    }
}

/// A change request of `request_type` with `fields`, approved on `approval: approved`, declined on
/// `approval: declined`, within `timeout`.
fn stanza(sandbox: &SandboxProc, request_type: &str, fields: &str, timeout: &str) -> String {
    format!(
        "{}ticket:\n  project: CHG\n  request_type: {request_type}\n  summary: Deploy web 1.4.2\n  description: Pipeline 7 waits.\n  dedupe: pipeline-7\n  fields:\n{fields}approval:\n  approve_when: {{ approval: approved }}\n  reject_when: {{ approval: declined }}\n  interval: 1s\n  max_interval: 1s\n  timeout: {timeout}\n",
        jira_block(sandbox)
    )
}

const RISK: &str = "    Change risk: Low\n";

/// Runs the stanza with GitHub's outputs on Cloud and GitLab's on Data Center; returns the run
/// and the CI output file's text.
fn gate_with_outputs(sandbox: &SandboxProc, work: &Workdir, stanza: &str) -> (Run, String) {
    work.write("step.yml", stanza);
    let out = work.path("ci-output");
    let _ = std::fs::remove_file(&out);
    let mut cmd = work.command_for(sandbox);
    if sandbox.datacenter {
        cmd.envs([("GITLAB_CI", "true")])
            .env("JIRA_GATE_DOTENV", &out);
    } else {
        cmd.envs([("GITHUB_ACTIONS", "true")])
            .env("GITHUB_OUTPUT", &out);
    }
    let run = work.run(cmd.args(["run", "step.yml", "--result-file", "result.json"]));
    (run, std::fs::read_to_string(&out).unwrap_or_default())
}

/// The CI output line of the approvers, parsed.
fn approvers_output(sandbox: &SandboxProc, text: &str) -> Value {
    let key = if sandbox.datacenter {
        "JIRA_GATE_APPROVERS="
    } else {
        "approvers="
    };
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in:\n{text}"));
    serde_json::from_str(line).unwrap()
}

fn decisions(approvers: &Value) -> Vec<(String, String)> {
    approvers
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["decision"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn both(args: &[&str], test: impl Fn(SandboxProc, &str)) {
    test(SandboxProc::cloud(args), "cloud");
    test(SandboxProc::datacenter(args), "datacenter");
}

#[test]
fn two_of_three_approve_exits_0_with_the_approvers_and_the_deciding_one() {
    both(
        &["--approve-after", "alice=1s", "--approve-after", "dave=3s"],
        |sandbox, flavor| {
            let work = Workdir::new();
            let step = stanza(&sandbox, "Request a change", RISK, "30s");
            let (run, outputs) = gate_with_outputs(&sandbox, &work, &step);
            assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
            assert!(run.stderr.contains("created CHG-1"), "{}", run.stderr);
            assert!(
                run.stderr
                    .contains("approve when approval approved, reject when approval declined"),
                "{}",
                run.stderr
            );
            let summary = run.stderr.lines().last().unwrap();
            assert!(
                summary.starts_with(
                    "jira-gate: approved CHG-1 (status \"Approved\", by Dave Deployer)"
                ),
                "{summary}"
            );
            assert_eq!(run.field("decision"), "approved");
            assert_eq!(run.field("decided_by"), "Dave Deployer");
            assert!(run.field("decided_at").as_str().unwrap().contains('T'));
            let want = [
                ("Alice Approver", "approved"),
                ("Bob Builder", "pending"),
                ("Dave Deployer", "approved"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()));
            assert_eq!(decisions(run.field("approvers")), want);
            assert!(run.field("approvers")[1]["time"].is_null());
            assert!(
                run.field("approvers")[0]["time"]
                    .as_str()
                    .unwrap()
                    .contains('T')
            );
            assert_eq!(decisions(&approvers_output(&sandbox, &outputs)), want);
            // The request carries the form's values and the dedupe label.
            let issues = sandbox.issues();
            assert_eq!(issues.len(), 1);
            assert_eq!(issues[0]["key"], "CHG-1");
            assert_eq!(issues[0]["labels"][0], "jira-gate-pipeline-7");
            let risk = sandbox.get_json(
                &format!("{}/issue/CHG-1?fields=customfield_10050", sandbox.api()),
                200,
            );
            assert_eq!(risk["fields"]["customfield_10050"]["value"], "Low");

            // A retried job finds its request by the dedupe label and does not raise another.
            let again = work.gate(&sandbox, &step, &[]);
            assert_eq!(again.code, 0, "{}", again.stderr);
            assert!(
                again.stderr.contains("dedupe: reusing CHG-1"),
                "{}",
                again.stderr
            );
            assert_eq!(again.field("created"), false);
            assert_eq!(again.field("decided_by"), "Dave Deployer");
            assert_eq!(sandbox.issues().len(), 1);
        },
    );
}

#[test]
fn one_decline_exits_3() {
    both(
        &["--approve-after", "alice=1s", "--decline-after", "bob=2s"],
        |sandbox, flavor| {
            let work = Workdir::new();
            let (run, outputs) = gate_with_outputs(
                &sandbox,
                &work,
                &stanza(&sandbox, "Request a change", RISK, "30s"),
            );
            assert_eq!(run.code, 3, "{flavor}: {}", run.stderr);
            assert!(
                run.stderr
                    .lines()
                    .last()
                    .unwrap()
                    .starts_with("jira-gate: rejected CHG-1 (status \"Rejected\", by Bob Builder)"),
                "{}",
                run.stderr
            );
            assert_eq!(run.field("decision"), "rejected");
            assert_eq!(run.field("decided_by"), "Bob Builder");
            assert_eq!(run.field("exit_code"), 3);
            let got = decisions(run.field("approvers"));
            assert_eq!(got[1], ("Bob Builder".to_owned(), "declined".to_owned()));
            assert_eq!(decisions(&approvers_output(&sandbox, &outputs)), got);
        },
    );
}

#[test]
fn pending_past_the_timeout_exits_4_with_every_approver_pending() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    let (run, outputs) = gate_with_outputs(
        &sandbox,
        &work,
        &stanza(&sandbox, "Emergency change", "    Ticket ref: x\n", "3s"),
    );
    // "Ticket ref" is not on the Emergency change form.
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "field \"Ticket ref\" is not on the form of request type \"Emergency change\""
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\"Labels\" (labels)"), "{}", run.stderr);
    assert!(sandbox.issues().is_empty());
    assert!(outputs.contains("decision=error"), "{outputs}");

    let step = stanza(&sandbox, "emergency CHANGE", "", "3s").replace("  fields:\n", "");
    let (run, outputs) = gate_with_outputs(&sandbox, &work, &step);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.field("decision"), "timeout");
    assert_eq!(run.field("status"), "Awaiting approval");
    assert!(run.field("decided_by").is_null());
    let want = vec![("Alice Approver".to_owned(), "pending".to_owned())];
    assert_eq!(decisions(run.field("approvers")), want);
    assert_eq!(decisions(&approvers_output(&sandbox, &outputs)), want);
    assert!(
        run.stderr.contains("still pending after 3s"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_wrong_request_type_or_a_missing_required_field_lists_what_there_is() {
    both(&[], |sandbox, flavor| {
        let work = Workdir::new();
        let run = work.gate(
            &sandbox,
            &stanza(&sandbox, "Request a chnage", RISK, "5s"),
            &[],
        );
        assert_eq!(run.code, 5, "{flavor}: {}", run.stderr);
        assert!(
            run.stderr.contains("request type \"Request a chnage\" is not in the service desk of CHG (hint: ticket.request_type must be one of: \"Request a change\", \"Emergency change\", \"Get IT help\")"),
            "{}",
            run.stderr
        );
        assert_eq!(run.field("decision"), "error");
        let run = work.gate(
            &sandbox,
            &stanza(&sandbox, "Request a change", "    Ticket ref: T-1\n", "5s"),
            &[],
        );
        assert_eq!(run.code, 5, "{}", run.stderr);
        assert!(
            run.stderr.contains("request type \"Request a change\" requires \"Change risk\" (customfield_10050) (hint: add it to ticket.fields)"),
            "{}",
            run.stderr
        );
        assert!(sandbox.issues().is_empty(), "nothing was created");
    });
}

#[test]
fn a_project_without_jsm_is_a_clear_error_before_anything_is_written() {
    both(&[], |sandbox, flavor| {
        let work = Workdir::new();
        let step = format!(
            "{}ticket:\n  project: OPS\n  type: Change\n  summary: Deploy\napproval:\n  approve_when: {{ approval: approved }}\n  timeout: 5s\n",
            jira_block(&sandbox)
        );
        let run = work.gate(&sandbox, &step, &[]);
        assert_eq!(run.code, 5, "{flavor}: {}", run.stderr);
        assert!(
            run.stderr.contains("project OPS is not a Jira Service Management service desk, so it has no approvals or request types (service desks: CHG (Change Management))"),
            "{}",
            run.stderr
        );
        assert_eq!(run.field("decision"), "error");
        assert!(sandbox.issues().is_empty());
    });
    for sandbox in [
        SandboxProc::cloud(&["--no-jsm"]),
        SandboxProc::datacenter(&["--no-jsm"]),
    ] {
        let work = Workdir::new();
        let run = work.gate(
            &sandbox,
            &stanza(&sandbox, "Request a change", RISK, "5s"),
            &[],
        );
        assert_eq!(run.code, 5, "{}", run.stderr);
        assert!(
            run.stderr.contains("has no Jira Service Management"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("`approval:` criteria and `ticket.request_type` need it"),
            "{}",
            run.stderr
        );
        assert!(sandbox.issues().is_empty());
    }
}

/// `jira-gate check step.yml`: exit code and stderr.
fn check(sandbox: &SandboxProc, stanza: &str) -> (i32, String) {
    let work = Workdir::new();
    work.write("step.yml", stanza);
    let run = work.run(work.command_for(sandbox).args(["check", "step.yml"]));
    assert!(run.result.is_none(), "check writes no result file");
    (run.code, run.stderr)
}

#[test]
fn check_covers_the_service_desk_the_request_type_and_its_form() {
    both(&[], |sandbox, flavor| {
        // A field named by its form label ("Describe the change" is Jira's Description).
        let by_label = format!("{RISK}    Describe the change: Rollback is a redeploy.\n");
        let (code, stderr) = check(
            &sandbox,
            &stanza(&sandbox, "Request a change", &by_label, "5s"),
        );
        assert_eq!(code, 0, "{flavor}: {stderr}");
        for line in [
            "ok       project CHG is a Jira Service Management service desk (id 1)",
            "ok       request type \"Request a change\" (id 10)",
            "ok       the ticket's fields fit the form of \"Request a change\" and give every required one",
            "jira-gate check: all good",
        ] {
            assert!(stderr.contains(line), "{line}:\n{stderr}");
        }
        let (code, stderr) = check(
            &sandbox,
            &stanza(&sandbox, "Request a change", "    Risk: Low\n", "5s"),
        );
        assert_eq!(code, 5, "{stderr}");
        assert!(stderr.contains("problem  field \"Risk\" is not on the form of request type \"Request a change\" (hint: ticket.fields of a request must be among: \"What are you changing?\" (summary, required), \"Describe the change\" (description), \"Change risk\" (customfield_10050, required)"), "{stderr}");
        let (code, stderr) = check(&sandbox, &stanza(&sandbox, "Nope", RISK, "5s"));
        assert_eq!(code, 5, "{stderr}");
        assert!(
            stderr.contains("problem  request type \"Nope\" is not in the service desk of CHG"),
            "{stderr}"
        );
        assert!(sandbox.issues().is_empty(), "check writes nothing");
    });
    let sandbox = SandboxProc::cloud(&[]);
    let ops = format!(
        "{}ticket:\n  project: OPS\n  type: Change\n  summary: Deploy\napproval:\n  approve_when: {{ approval: approved }}\n",
        jira_block(&sandbox)
    );
    let (code, stderr) = check(&sandbox, &ops);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("ok       project OPS"), "{stderr}");
    assert!(
        stderr.contains("problem  project OPS is not a Jira Service Management service desk"),
        "{stderr}"
    );
    let sandbox = SandboxProc::datacenter(&["--no-jsm"]);
    let (code, stderr) = check(&sandbox, &stanza(&sandbox, "Request a change", RISK, "5s"));
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains(
            "has no Jira Service Management (GET /rest/servicedeskapi/servicedesk answered HTTP 403"
        ),
        "{stderr}"
    );
}

#[test]
fn demo_jsm_shows_a_two_of_three_approval() {
    let work = Workdir::new();
    let run = work.run(work.command().args([
        "demo",
        "--jsm",
        "--approve-after",
        "1s",
        "--result-file",
        "result.json",
    ]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    for line in [
        "the stanza is steps/demo-jsm.yml; two of three approvers must approve: Alice Approver after 1s, Dave Deployer after 2s",
        "created CHG-1",
        "CHG-1: Alice Approver approved",
        "CHG-1: Dave Deployer approved",
        "approved; waiting for the change window to open at",
        "(Europe/Berlin) = ",
        "the change may go now",
        "on_approve: comment on CHG-1",
    ] {
        assert!(run.stderr.contains(line), "{line}:\n{}", run.stderr);
    }
    assert_eq!(run.field("decision"), "approved");
    assert_eq!(run.field("decided_by"), "Dave Deployer");
    assert_eq!(run.field("approvers").as_array().unwrap().len(), 3);
    let run = work.run(work.command().env("JIRA_GATE_DEMO_JSM", "true").args([
        "demo",
        "--reject",
        "--approve-after",
        "1s",
        "--result-file",
        "result.json",
    ]));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.field("decided_by"), "Bob Builder");
}

#[test]
fn a_request_type_without_labels_on_its_form_still_dedupes_and_dry_run_prints_the_request() {
    both(&[], |sandbox, flavor| {
        let work = Workdir::new();
        let step = format!(
            "{}ticket:\n  project: CHG\n  request_type: Get IT help\n  summary: Rotate the TLS certificate\n  labels: [ops]\n  dedupe: job-9\n",
            jira_block(&sandbox)
        );
        let dry = work.gate(&sandbox, &step, &["--dry-run"]);
        assert_eq!(dry.code, 0, "{flavor}: {}", dry.stderr);
        let line: Value = serde_json::from_str(dry.stdout.lines().next().unwrap()).unwrap();
        assert_eq!(line["method"], "POST");
        assert!(
            line["url"]
                .as_str()
                .unwrap()
                .ends_with("/rest/servicedeskapi/request")
        );
        assert_eq!(line["body"]["serviceDeskId"], "1");
        assert_eq!(line["body"]["requestTypeId"], "12");
        assert_eq!(
            line["body"]["requestFieldValues"]["summary"],
            "Rotate the TLS certificate"
        );
        assert!(sandbox.issues().is_empty(), "a dry run creates nothing");

        let run = work.gate(&sandbox, &step, &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains("created CHG-1"), "{}", run.stderr);
        assert!(run.stderr.contains("labelled CHG-1"), "{}", run.stderr);
        assert_eq!(run.field("decision"), "written");
        assert_eq!(run.field("status"), "To Do");
        assert!(
            run.result_text.find("approvers").is_none(),
            "no approval, no approvers"
        );
        let issues = sandbox.issues();
        assert_eq!(
            issues[0]["labels"],
            serde_json::json!(["ops", "jira-gate-job-9"])
        );
        let again = work.gate(&sandbox, &step, &[]);
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert!(
            again.stderr.contains("dedupe: reusing CHG-1"),
            "{}",
            again.stderr
        );
        assert_eq!(sandbox.issues().len(), 1);
    });
}

#[test]
fn answers_between_two_polls_still_name_the_approver_who_completed_it() {
    // Dave approves first, Alice completes it 100 ms later, both within one 3 s gap; Alice is
    // listed before Dave, so only the changelog (the transition runs as her) can tell.
    let sandbox = SandboxProc::cloud(&[
        "--approve-after",
        "dave=1s",
        "--approve-after",
        "alice=1100ms",
    ]);
    let work = Workdir::new();
    let step = stanza(&sandbox, "Request a change", RISK, "30s").replace(
        "interval: 1s\n  max_interval: 1s",
        "interval: 3s\n  max_interval: 3s",
    );
    let run = work.gate(&sandbox, &step, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("decided_by"), "Alice Approver", "{}", run.stderr);
    let wrong = stanza(
        &sandbox,
        "Request a change",
        "    Change risk: Extreme\n",
        "30s",
    )
    .replace("pipeline-7", "pipeline-8");
    let run = work.gate(&sandbox, &wrong, &[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("\"Extreme\" is not a value of \"Change risk\" (customfield_10050) (hint: use one of: \"Low\", \"Medium\", \"High\")"),
        "{}",
        run.stderr
    );
    assert_eq!(sandbox.issues().len(), 1, "the wrong value created nothing");
}

#[test]
fn sigterm_reports_who_had_answered() {
    let sandbox = SandboxProc::datacenter(&["--approve-after", "alice=500ms"]);
    let work = Workdir::new();
    work.write(
        "step.yml",
        stanza(&sandbox, "Request a change", RISK, "30s"),
    );
    let child = work
        .command_for(&sandbox)
        .args(["run", "step.yml", "--result-file", "result.json"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let signalled = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let run = work.finish(&child.wait_with_output().unwrap(), signalled);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.stderr.contains("SIGTERM received"), "{}", run.stderr);
    assert!(
        run.stderr.contains("CHG-1: Alice Approver approved"),
        "{}",
        run.stderr
    );
    assert_eq!(run.field("decision"), "cancelled");
    assert!(run.field("decided_by").is_null());
    let want = [
        ("Alice Approver", "approved"),
        ("Bob Builder", "pending"),
        ("Dave Deployer", "pending"),
    ]
    .map(|(a, b)| (a.to_owned(), b.to_owned()));
    assert_eq!(decisions(run.field("approvers")), want);
}

/// The shipped change request (steps/jsm-change-request.yml), as a user would run it: two of three
/// approve, the window opens a few seconds later, the Markdown description arrives as rich text.
#[test]
fn the_shipped_change_request_waits_for_two_approvals_and_its_window() {
    let stanza = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("steps/jsm-change-request.yml"),
    )
    .unwrap()
    .replace("interval: 30s", "interval: 1s")
    .replace("max_interval: 5m", "max_interval: 1s")
    .replace("timeout: 8h", "timeout: 1m");
    both(
        &["--approve-after", "alice=1s", "--approve-after", "dave=2s"],
        |sandbox, flavor| {
            let work = Workdir::new();
            work.write("step.yml", &stanza);
            let (user, token) = if sandbox.datacenter {
                (common::run::DC_USER, common::run::PASSWORD)
            } else {
                (common::run::USER, common::run::TOKEN)
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let at = |s: u64| {
                humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(s))
                    .to_string()
            };
            let mut cmd = work.command_at(&sandbox.base);
            cmd.env("JIRA_USER", user)
                .env("JIRA_API_TOKEN", token)
                .env("VERSION", "1.4.2")
                .env("CI_PIPELINE_ID", "41")
                .env("DEPLOY_WINDOW_START", at(now + 5))
                .env("DEPLOY_WINDOW_END", at(now + 3600))
                .env("FREEZE_FROM", "2020-12-20")
                .env("FREEZE_TO", "2021-01-04");
            let run = work.run(cmd.args(["run", "step.yml", "--result-file", "result.json"]));
            assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
            for line in [
                "created CHG-1",
                "CHG-1: Alice Approver approved",
                "CHG-1: Dave Deployer approved",
                "approved; waiting for the change window to open at",
                "(Europe/Berlin) = ",
                "on_approve: comment on CHG-1",
            ] {
                assert!(
                    run.stderr.contains(line),
                    "{flavor}: {line}:\n{}",
                    run.stderr
                );
            }
            assert!(
                run.elapsed >= Duration::from_secs(3),
                "{flavor}: {:?}",
                run.elapsed
            );
            assert_eq!(run.field("decision"), "approved");
            assert_eq!(run.field("decided_by"), "Dave Deployer");
            assert_eq!(run.field("approvers").as_array().unwrap().len(), 3);
            assert_eq!(run.field("actions")[0]["result"], "ok", "{flavor}");
            assert_rich_description(&sandbox);
        },
    );
}

/// CHG-1's description as the request's form took it: ADF nodes on Cloud, wiki markup on Data
/// Center.
fn assert_rich_description(sandbox: &SandboxProc) {
    let issue = sandbox.get_json(
        &format!("{}/issue/CHG-1?fields=description", sandbox.api()),
        200,
    );
    let description = &issue["fields"]["description"];
    if sandbox.datacenter {
        // Data Center: the request's form took wiki markup.
        let text = description.as_str().unwrap();
        for part in [
            "h2. What changes",
            "*faster*",
            "||check||result||",
            "{code:",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
    } else {
        let doc = description.to_string();
        for node in [
            r#""type":"heading""#,
            r#""type":"table""#,
            r#""type":"codeBlock""#,
        ] {
            assert!(doc.contains(node), "{node}: {doc}");
        }
    }
}

/// An approval whose change window has closed is blocked (exit 7), and still says who approved.
#[test]
fn a_blocked_approval_still_lists_its_approvers() {
    let sandbox =
        SandboxProc::cloud(&["--approve-after", "alice=1s", "--approve-after", "dave=1s"]);
    let work = Workdir::new();
    let step = stanza(&sandbox, "Request a change", RISK, "30s")
        + "  window: { end: \"2020-01-01T00:00:00Z\" }\n";
    let (run, outputs) = gate_with_outputs(&sandbox, &work, &step);
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert!(run.stderr.contains("window closed"), "{}", run.stderr);
    assert_eq!(run.field("decision"), "blocked");
    let approvers = run.field("approvers").as_array().unwrap();
    assert_eq!(approvers.len(), 3, "{approvers:?}");
    assert!(outputs.contains("approvers="), "{outputs}");
}

/// A request whose form has no Labels field gets its dedupe label after the create; when the
/// create's answer is lost, a search cannot find the request, so the step stops rather than
/// create a second one.
#[test]
fn a_lost_request_create_without_a_findable_label_is_not_repeated() {
    let sandbox = SandboxProc::cloud(&[]);
    sandbox.add_faults(&serde_json::json!({"method": "POST", "path_prefix": "/rest/servicedeskapi/request", "kind": "store_then_drop"}));
    let work = Workdir::new();
    let step = format!(
        "{}ticket:\n  project: CHG\n  request_type: Get IT help\n  summary: Rotate the TLS certificate\n  dedupe: job-10\n",
        jira_block(&sandbox)
    );
    work.write("step.yml", &step);
    let run = work.run(work.command_for(&sandbox).args([
        "run",
        "step.yml",
        "--result-file",
        "result.json",
    ]));
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("failed ambiguously"), "{}", run.stderr);
    assert!(
        run.stderr.contains("does not create another"),
        "{}",
        run.stderr
    );
    assert_eq!(run.field("decision"), "error");
    assert_eq!(sandbox.issues().len(), 1, "{}", run.stderr);
}

#[test]
fn fields_an_approval_and_jql_cost_at_most_two_requests_a_poll() {
    // SPEC section 7: the approvals come with the issue read (JSM's Approvals field), so a poll
    // is the read and, when the read leaves the JQL open, one search.
    both(
        &["--approve-after", "alice=1s", "--approve-after", "dave=2s"],
        |sandbox, flavor| {
            let work = Workdir::new();
            let step = format!(
                "{}ticket:\n  project: CHG\n  request_type: Request a change\n  summary: Deploy web 1.4.2\n  fields:\n{RISK}approval:\n  approve_when:\n    all:\n      - approval: approved\n      - field: Change risk\n        equals: Low\n      - jql: status = Approved\n  reject_when: {{ approval: declined }}\n  interval: 1s\n  max_interval: 1s\n  timeout: 30s\n",
                jira_block(&sandbox)
            );
            let (run, _) = gate_with_outputs(&sandbox, &work, &step);
            assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
            assert_eq!(run.field("decision"), "approved");
            assert_eq!(run.field("decided_by"), "Dave Deployer");
            assert_eq!(
                decisions(run.field("approvers")),
                [
                    ("Alice Approver", "approved"),
                    ("Bob Builder", "pending"),
                    ("Dave Deployer", "approved"),
                ]
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
            );
            let log = sandbox.request_lines();
            assert!(
                !log.iter().any(|r| r.ends_with("/approval")),
                "{flavor}: the approvals were read on their own: {log:#?}"
            );
            // From the first poll on: reads of the issue, each followed by at most one search.
            let read = |r: &String| r.starts_with("GET /rest/api/") && r.ends_with("/issue/CHG-1");
            let search = |r: &String| r.contains("/search");
            let first = log.iter().position(read).expect("a poll");
            let polls: Vec<&String> = log[first..].iter().collect();
            let mut searches_since_read = 0;
            for r in &polls {
                if read(r) {
                    searches_since_read = 0;
                } else {
                    assert!(search(r), "{flavor}: {r} in a poll: {log:#?}");
                    searches_since_read += 1;
                    assert!(searches_since_read <= 1, "{flavor}: {log:#?}");
                }
            }
            assert!(polls.iter().any(|r| search(r)), "{flavor}: {log:#?}");
        },
    );
}

/// JSM answers 404 on a request's approvals when the issue is not a customer request, when the
/// user is not an agent of its service desk, or when JSM is not licensed for the user. The issue
/// itself was just read, so the step says what JSM answered and why it may, not that the issue
/// was deleted; a 404 will not heal, so the first poll fails with exit 5 (the 404 is injected
/// once: a retry would find the approval and wait on).
#[test]
fn a_404_on_the_approvals_says_what_jsm_answered_not_that_the_issue_was_deleted() {
    // The issue reads do not carry the Approvals field, so each poll reads the approvals from the
    // service desk API.
    both(&["--hide-approvals-field"], |sandbox, flavor| {
        sandbox.add_faults(&serde_json::json!({"method": "GET", "path_prefix": "/rest/servicedeskapi/request/CHG-1/approval", "kind": "status", "status": 404}));
        let work = Workdir::new();
        let step = stanza(&sandbox, "Request a change", RISK, "30s");
        let (run, outputs) = gate_with_outputs(&sandbox, &work, &step);
        assert_eq!(run.code, 5, "{flavor}: {}", run.stderr);
        assert!(run.stderr.contains("created CHG-1"), "{}", run.stderr);
        let said = "CHG-1 is not a Jira Service Management request whose approvals this user can read: GET /rest/servicedeskapi/request/CHG-1/approval answered HTTP 404: Not Found (injected by the jira-gate sandbox)";
        assert!(run.stderr.contains(said), "{flavor}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "(hint: JSM answers 404 for an issue that is not a customer request, for a user who is not an agent of its service desk, and where Jira Service Management is not licensed; raise the ticket with `ticket.request_type`, make this user an agent, or use `status:` criteria)"
            ),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("deleted"), "{}", run.stderr);
        assert_eq!(run.field("decision"), "error");
        assert_eq!(run.field("exit_code"), 5);
        assert_eq!(run.field("issue_key"), "CHG-1");
        assert_eq!(run.field("created"), true);
        assert!(
            run.field("message").as_str().unwrap().contains(said),
            "{}",
            run.result_text
        );
        let (decision, exit_code) = if sandbox.datacenter {
            ("JIRA_GATE_DECISION=error", "JIRA_GATE_EXIT_CODE=5")
        } else {
            ("decision=error", "exit-code=5")
        };
        assert!(outputs.contains(decision), "{outputs}");
        assert!(outputs.contains(exit_code), "{outputs}");
        assert_eq!(sandbox.issues().len(), 1, "the request is still there");
    });
}
