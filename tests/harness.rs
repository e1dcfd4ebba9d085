//! End to end: Harness Jira steps and embedded stanzas (issue 10, SPEC section 8), through the
//! built binary against a `jira-gate sandbox` process. The Harness files are the fixtures in
//! tests/fixtures/harness/, written from Harness's published YAML shape.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::SandboxProc;
use common::run::{PAT, Run, TOKEN, Workdir};
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/harness")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A folder holding the fixtures, with the connectors pointing at the sandbox.
fn workdir(sandbox: &SandboxProc) -> Workdir {
    let work = Workdir::new();
    for name in [
        "pipeline.yaml",
        "approval-jexl.yaml",
        "stage-template.yaml",
        "errors.yaml",
        "connector-github.yaml",
        "runtime-input.yaml",
    ] {
        work.write(name, fixture(name));
    }
    for name in [
        "connector.yaml",
        "connector-pat.yaml",
        "connector-legacy.yaml",
        "connector-get-value.yaml",
    ] {
        let text = fixture(name)
            .replace("https://jira.example.com/", &sandbox.base)
            .replace("https://jira.example.com", &sandbox.base);
        work.write(name, text);
    }
    work
}

/// `jira-gate run FILE --harness-step STEP --result-file result.json` with the flavor's
/// connector and secret.
fn harness_run(sandbox: &SandboxProc, work: &Workdir, file: &str, step: &str) -> Command {
    let mut cmd = work.command();
    let connector = if sandbox.datacenter {
        cmd.env("HARNESS_SECRET_JIRA_PAT", PAT);
        "connector-pat.yaml"
    } else {
        cmd.env("HARNESS_SECRET_JIRA_TOKEN", TOKEN);
        "connector.yaml"
    };
    cmd.args([
        "run",
        file,
        "--harness-step",
        step,
        "--connector",
        connector,
    ])
    .args(["--result-file", "result.json"]);
    cmd
}

/// [`harness_run`] with `extra` arguments, run to the end.
fn step(sandbox: &SandboxProc, work: &Workdir, file: &str, step: &str, extra: &[&str]) -> Run {
    work.run(harness_run(sandbox, work, file, step).args(extra))
}

fn issue(sandbox: &SandboxProc, key: &str) -> Value {
    sandbox.get_json(&format!("{}/issue/{key}", sandbox.api()), 200)["fields"].clone()
}

fn set_fields(sandbox: &SandboxProc, key: &str, fields: &Value) {
    let (status, v) = sandbox.send(
        "PUT",
        &format!("{}/issue/{key}", sandbox.api()),
        &json!({ "fields": fields }),
    );
    assert_eq!(status, 204, "{v}");
}

/// Sets the issue's Change risk and status.
fn given(sandbox: &SandboxProc, key: &str, risk: &str, status: &str) {
    set_fields(sandbox, key, &json!({"customfield_10050": {"value": risk}}));
    sandbox.set_status(key, status);
}

#[test]
fn create_then_approval_then_update_share_the_key() {
    for sandbox in [SandboxProc::cloud(&[]), SandboxProc::datacenter(&[])] {
        let flavor = if sandbox.datacenter { "dc" } else { "cloud" };
        let work = workdir(&sandbox);
        let dotenv = work.path("jira-gate.env");
        let mut cmd = harness_run(&sandbox, &work, "pipeline.yaml", "create_change");
        cmd.env("GITLAB_CI", "true")
            .env("JIRA_GATE_DOTENV", &dotenv)
            .args(["--var", "environment=production"]);
        let run = work.run(&mut cmd);
        assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
        assert_eq!(run.field("decision"), "written");
        let key = run.field("issue_key").as_str().unwrap().to_owned();
        // A later GitLab job gets the key as JIRA_GATE_ISSUE_KEY, which is --issue-key's variable.
        let outputs = std::fs::read_to_string(&dotenv).unwrap();
        assert!(
            outputs.contains(&format!("JIRA_GATE_ISSUE_KEY={key}")),
            "{outputs}"
        );
        let fields = issue(&sandbox, &key);
        assert_eq!(fields["summary"], "Deploy checkout 1.4.2 to production");
        assert_eq!(fields["labels"], json!(["deploy", "production"]));
        assert_eq!(fields["priority"]["name"], "High");
        assert_eq!(fields["customfield_10050"]["value"], "Low");
        let environments: Vec<&str> = fields["customfield_10054"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["value"].as_str().unwrap())
            .collect();
        assert_eq!(environments, ["staging", "production"]);

        // The approval step refers to the create step's issue.key: the key comes from the
        // variable a later job gets it in.
        sandbox.set_status_by(&key, "Approved", "alice");
        let mut cmd = harness_run(&sandbox, &work, "pipeline.yaml", "approve_change");
        cmd.env("JIRA_GATE_ISSUE_KEY", &key);
        let run = work.run(&mut cmd);
        assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
        assert_eq!(run.field("decision"), "approved");
        assert_eq!(run.field("decided_by"), "Alice Approver");
        assert_eq!(run.field("issue_key"), key.as_str());

        let run = step(
            &sandbox,
            &work,
            "pipeline.yaml",
            "close_change",
            &["--issue-key", &key],
        );
        assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
        assert_eq!(sandbox.status_of(&key), "Done");
        // On its own request, or with the transition (`update.comment`, issue 12).
        let issue = sandbox.get_json(
            &format!("{}/issue/{key}?fields=comment", sandbox.api()),
            200,
        );
        let commented = issue["fields"]["comment"]["total"].as_u64() > Some(0);
        assert!(commented, "{flavor}: the Comment field became a comment");
        assert_eq!(sandbox.issues().len(), 1, "{flavor}: one ticket throughout");
    }
}

#[test]
fn key_values_all_and_any() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = workdir(&sandbox);
    let key = sandbox.create("Change", &[]);
    // all: Status equals Approved AND Change risk in (Low, Medium).
    given(&sandbox, &key, "High", "Approved");
    let all = ["--issue-key", key.as_str(), "--timeout", "2s"];
    let run = step(&sandbox, &work, "pipeline.yaml", "approve_change", &all);
    assert_eq!(run.code, 4, "one condition of two holds: {}", run.stderr);
    set_fields(
        &sandbox,
        &key,
        &json!({"customfield_10050": {"value": "Medium"}}),
    );
    let run = step(&sandbox, &work, "pipeline.yaml", "approve_change", &all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Rejection: Status in (Rejected, "Won't Do").
    sandbox.set_status(&key, "Rejected");
    let run = step(&sandbox, &work, "pipeline.yaml", "approve_change", &all);
    assert_eq!(run.code, 3, "{}", run.stderr);

    // any: Status equals Done OR Risk score equals 7.
    let other = sandbox.create("Another change", &[]);
    let any = ["--issue-key", other.as_str(), "--timeout", "2s"];
    let run = step(
        &sandbox,
        &work,
        "pipeline.yaml",
        "production.approve_any",
        &any,
    );
    assert_eq!(run.code, 4, "neither holds: {}", run.stderr);
    set_fields(&sandbox, &other, &json!({"customfield_10053": 7}));
    let run = step(
        &sandbox,
        &work,
        "pipeline.yaml",
        "production.approve_any",
        &any,
    );
    assert_eq!(run.code, 0, "the second holds: {}", run.stderr);
}

#[test]
fn jexl_with_and_or_not_and_approval_checked_first() {
    let sandbox = SandboxProc::datacenter(&[]);
    let work = workdir(&sandbox);
    let run_for = |key: &str| {
        step(
            &sandbox,
            &work,
            "approval-jexl.yaml",
            "jexl_approval",
            &["--issue-key", key, "--timeout", "2s"],
        )
    };
    // Approved && !(risk == High): approved.
    let key = sandbox.create("Jexl", &[]);
    given(&sandbox, &key, "Low", "Approved");
    assert_eq!(run_for(&key).code, 0);
    // Approved but risk High: the `!` fails the first branch, the `||` branch does not hold.
    set_fields(
        &sandbox,
        &key,
        &json!({"customfield_10050": {"value": "High"}}),
    );
    let run = run_for(&key);
    assert_eq!(run.code, 4, "{}", run.stderr);
    // Done: the `||` branch holds whatever the risk.
    sandbox.set_status(&key, "Done");
    assert_eq!(run_for(&key).code, 0);
    // Rejection: Risk score >= 9 ...
    let other = sandbox.create("Risky", &[]);
    set_fields(&sandbox, &other, &json!({"customfield_10053": 9}));
    let run = run_for(&other);
    assert_eq!(run.code, 3, "{}", run.stderr);
    // ... unless the approval criteria hold too: Harness checks approval first.
    given(&sandbox, &other, "Low", "Approved");
    let run = run_for(&other);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn an_issue_of_another_type_fails_as_harness_does() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = workdir(&sandbox);
    let key = created(&sandbox, "Task", "Approved");
    let run = step(
        &sandbox,
        &work,
        "approval-jexl.yaml",
        "jexl_approval",
        &["--issue-key", &key],
    );
    assert_not_a_change(&run);
}

/// The step failed as Harness fails it for an issue that is a Task, not a Change.
fn assert_not_a_change(run: &Run) {
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("is a Task, not a Change"),
        "{}",
        run.stderr
    );
}

#[test]
fn secrets_from_a_file_and_the_older_connector_shape() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = workdir(&sandbox);
    let secrets = work.path("secrets");
    std::fs::create_dir(&secrets).unwrap();
    std::fs::write(secrets.join("jira_token"), format!("{TOKEN}\n")).unwrap();
    let mut cmd = work.command();
    cmd.env("JIRA_GATE_SECRETS_DIR", &secrets)
        .env("HARNESS_VAR_environment", "staging")
        .args(["run", "pipeline.yaml", "--harness-step", "create_change"])
        .args(["--connector", "connector-legacy.yaml"])
        .args(["--result-file", "result.json"]);
    let run = work.run(&mut cmd);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let key = run.field("issue_key").as_str().unwrap().to_owned();
    assert_eq!(
        issue(&sandbox, &key)["summary"],
        "Deploy checkout 1.4.2 to staging"
    );
    // Without the file and the variable, the reference is named.
    std::fs::remove_file(secrets.join("jira_token")).unwrap();
    let run = work.run(&mut cmd);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("connector-legacy.yaml:9:") && run.stderr.contains("jira_token"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("HARNESS_SECRET_JIRA_TOKEN"),
        "{}",
        run.stderr
    );
}

#[test]
#[allow(clippy::too_many_lines)] // one table of refusals, each case a few lines
fn every_unsupported_input_is_exit_2_with_its_place() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = workdir(&sandbox);
    for (file, id, connector, place, name) in [
        (
            "errors.yaml",
            "script",
            "connector.yaml",
            "errors.yaml:14:25",
            "`ShellScript`",
        ),
        (
            "errors.yaml",
            "unresolved",
            "connector.yaml",
            "errors.yaml:30:32",
            "<+trigger.branch>",
        ),
        (
            "errors.yaml",
            "bad_jexl",
            "connector.yaml",
            "errors.yaml:41:52",
            "unsupported Jexl: `.`",
        ),
        (
            "errors.yaml",
            "misspelt",
            "connector.yaml",
            "errors.yaml:48:21",
            "did you mean `issueKey`",
        ),
        (
            "errors.yaml",
            "twice",
            "connector.yaml",
            "errors.yaml:64:34",
            "one condition only",
        ),
        (
            "errors.yaml",
            "unresolved",
            "connector-github.yaml",
            "connector-github.yaml:5:9",
            "`Github`",
        ),
        (
            "pipeline.yaml",
            "manual",
            "connector.yaml",
            "pipeline.yaml:127:25",
            "`HarnessApproval`",
        ),
        (
            "pipeline.yaml",
            "approve_change",
            "connector.yaml",
            "pipeline.yaml:61:31",
            "--issue-key",
        ),
        (
            "stage-template.yaml",
            "comment",
            "connector.yaml",
            "stage-template.yaml:22:33",
            "runtime input",
        ),
    ] {
        for command in ["run", "validate"] {
            let mut cmd = work.command();
            cmd.env("HARNESS_SECRET_JIRA_TOKEN", TOKEN)
                .args([
                    command,
                    file,
                    "--harness-step",
                    id,
                    "--connector",
                    connector,
                ])
                .args(["--var", "environment=prod"]);
            let run = work.run(&mut cmd);
            assert_eq!(run.code, 2, "{command} {id}: {}", run.stderr);
            assert!(run.stderr.contains(place), "{command} {id}: {}", run.stderr);
            assert!(run.stderr.contains(name), "{command} {id}: {}", run.stderr);
        }
    }
    // No connector at all.
    let run = work.run(work.command().args([
        "validate",
        "pipeline.yaml",
        "--harness-step",
        "create_change",
    ]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("pipeline.yaml:30:35") && run.stderr.contains("--connector"),
        "{}",
        run.stderr
    );
    assert!(sandbox.issues().is_empty(), "nothing was written");
}

#[test]
fn convert_prints_a_stanza_that_validates() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = workdir(&sandbox);
    for id in ["create_change", "approve_change", "close_change"] {
        let mut cmd = work.command();
        cmd.env("HARNESS_SECRET_JIRA_TOKEN", TOKEN)
            .args(["convert", "pipeline.yaml", "--harness-step", id])
            .args(["--connector", "connector.yaml", "--issue-key", "OPS-9"])
            .args(["--var", "environment=prod"]);
        let run = work.run(&mut cmd);
        assert_eq!(run.code, 0, "{id}: {}", run.stderr);
        assert!(
            run.stdout.contains("${HARNESS_SECRET_JIRA_TOKEN}"),
            "{}",
            run.stdout
        );
        work.write("converted.yml", &run.stdout);
        let mut cmd = work.command();
        cmd.env("HARNESS_SECRET_JIRA_TOKEN", TOKEN)
            .args(["validate", "converted.yml"]);
        let run = work.run(&mut cmd);
        assert_eq!(run.code, 0, "{id}: {}", run.stderr);
    }
    // `<`, as in the Jexl template, has no native form.
    let mut cmd = work.command();
    cmd.env("HARNESS_SECRET_JIRA_TOKEN", TOKEN)
        .args([
            "convert",
            "approval-jexl.yaml",
            "--harness-step",
            "jexl_approval",
        ])
        .args(["--connector", "connector.yaml", "--issue-key", "OPS-9"]);
    let run = work.run(&mut cmd);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no native equivalent"),
        "{}",
        run.stderr
    );
    let run = work.run(work.command().args(["convert", "pipeline.yaml"]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--harness-step"), "{}", run.stderr);
}

const GITLAB_CI: &str = "\
stages: [deploy]

.jira-gate:
  jira:
    url: ${JIRA_URL}
    auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }
  ticket:
    project: OPS
    type: Change
    summary: Deploy ${CI_COMMIT_SHORT_SHA}

deploy:
  stage: deploy
  script: [jira-gate run .gitlab-ci.yml --at .jira-gate]
";

const WORKFLOW: &str = "\
name: deploy
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo build
      - uses: jira-gate/jira-gate@v1
        with:
          step: |
            jira:
              url: ${JIRA_URL}
              auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }
            ticket:
              key: OPS-1
              sumary: typo
";

#[test]
fn embedded_stanzas_run_and_keep_the_outer_lines() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    work.write(".gitlab-ci.yml", GITLAB_CI);
    let mut cmd = work.command_for(&sandbox);
    cmd.env("CI_COMMIT_SHORT_SHA", "abc123")
        .args(["run", ".gitlab-ci.yml", "--at", ".jira-gate"])
        .args(["--result-file", "result.json"]);
    let run = work.run(&mut cmd);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let key = run.field("issue_key").as_str().unwrap().to_owned();
    assert_eq!(issue(&sandbox, &key)["summary"], "Deploy abc123");

    // The variable names the path too; an error inside the stanza has the workflow's line.
    work.write("deploy.yml", WORKFLOW);
    let mut cmd = work.command_for(&sandbox);
    cmd.env("JIRA_GATE_AT", "jobs.deploy.steps[2].with.step")
        .args(["validate", "deploy.yml"]);
    let run = work.run(&mut cmd);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("deploy.yml:17:15") && run.stderr.contains("did you mean `summary`"),
        "{}",
        run.stderr
    );
    let run = work.run(work.command_for(&sandbox).args([
        "check",
        "deploy.yml",
        "--at",
        "jobs.deploy.steps[5].with.step",
    ]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("has 3 items"), "{}", run.stderr);
}

#[test]
fn shipped_harness_examples_validate() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("steps/harness");
    let mut steps = Vec::new();
    for ci in ["github-workflow.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(root.join(ci)).unwrap();
        let _: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        for line in text.lines() {
            let id = line
                .split_once("JIRA_GATE_HARNESS_STEP: ")
                .or_else(|| line.split_once("--harness-step "))
                .map(|(_, id)| id.trim().to_owned());
            steps.extend(id);
        }
    }
    steps.sort();
    steps.dedup();
    assert_eq!(steps, ["approve_change", "close_change", "create_change"]);
    let work = Workdir::new();
    for id in &steps {
        let mut cmd = work.command();
        cmd.env("HARNESS_SECRET_JIRA_TOKEN", "x")
            .env("HARNESS_VAR_version", "abc123")
            .env("JIRA_GATE_ISSUE_KEY", "OPS-1")
            .arg("validate")
            .arg(root.join("pipeline.yaml"))
            .args(["--harness-step", id, "--connector"])
            .arg(root.join("connector.yaml"));
        let run = work.run(&mut cmd);
        assert_eq!(run.code, 0, "{id}: {}", run.stderr);
    }
}

#[test]
fn check_accepts_harness_steps_and_v_lists_what_is_ignored() {
    let sandbox = SandboxProc::datacenter(&[]);
    let work = workdir(&sandbox);
    let key = sandbox.create("Checked", &[]);
    let mut check = work.command();
    check
        .env("HARNESS_SECRET_JIRA_PAT", PAT)
        .args([
            "check",
            "approval-jexl.yaml",
            "--harness-step",
            "jexl_approval",
        ])
        .args(["--connector", "connector-pat.yaml", "--issue-key", &key]);
    let run = work.run(&mut check);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("status \"Done\" exists in OPS"),
        "{}",
        run.stderr
    );

    let mut cmd = harness_run(&sandbox, &work, "pipeline.yaml", "approve_change");
    let run = work.run(
        cmd.args(["--var", "environment=x", "-v", "--dry-run"])
            .args(["--harness-step", "create_change"])
            .env("JIRA_GATE_HARNESS_STEP", "unused"),
    );
    assert_eq!(run.code, 2, "one --harness-step only: {}", run.stderr);
    let mut validate = work.command();
    validate
        .env("HARNESS_SECRET_JIRA_PAT", PAT)
        .args([
            "validate",
            "pipeline.yaml",
            "--harness-step",
            "create_change",
        ])
        .args([
            "--connector",
            "connector-pat.yaml",
            "--var",
            "environment=x",
            "-v",
        ]);
    let run = work.run(&mut validate);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for ignored in ["failureStrategies", "projectIdentifier", "orgIdentifier"] {
        assert!(run.stderr.contains(ignored), "{ignored}: {}", run.stderr);
    }
}

#[test]
fn transition_name_is_exact_and_status_is_not() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = workdir(&sandbox);
    let key = sandbox.create("Transitions", &[]);
    sandbox.set_status(&key, "Awaiting approval");
    let update = |to: &str| {
        format!(
            "step:\n  type: JiraUpdate\n  identifier: move\n  spec:\n    connectorRef: account.jira\n    issueKey: {key}\n    transitionTo:\n{to}"
        )
    };
    work.write("lower.yaml", update("      transitionName: approve\n"));
    let run = step(&sandbox, &work, "lower.yaml", "move", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("not available"), "{}", run.stderr);
    assert_eq!(sandbox.status_of(&key), "Awaiting approval");
    work.write("exact.yaml", update("      transitionName: Approve\n"));
    let run = step(&sandbox, &work, "exact.yaml", "move", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(sandbox.status_of(&key), "Approved");
    work.write(
        "status.yaml",
        update("      status: DONE\n      transitionName: \"\"\n"),
    );
    let run = step(&sandbox, &work, "status.yaml", "move", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(sandbox.status_of(&key), "Done");
}

#[test]
fn jexl_regex_match_decides() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = workdir(&sandbox);
    work.write(
        "regex.yaml",
        "step:\n  type: JiraApproval\n  identifier: regex\n  timeout: 1m\n  spec:\n    connectorRef: jira\n    issueKey: OPS-1\n    retryInterval: 10s\n    approvalCriteria:\n      type: Jexl\n      spec:\n        expression: '<+issue.Summary> =~ \"Deploy [0-9.]+\" && <+issue.Status> != \"To Do\"'\n",
    );
    let key = sandbox.create("Deploy 1.4.2", &[]);
    assert_eq!(key, "OPS-1");
    let run = step(&sandbox, &work, "regex.yaml", "regex", &["--timeout", "2s"]);
    assert_eq!(run.code, 4, "still To Do: {}", run.stderr);
    sandbox.set_status(&key, "Awaiting approval");
    let run = step(&sandbox, &work, "regex.yaml", "regex", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let other = sandbox.create("Deploy the web app", &[]);
    sandbox.set_status(&other, "Awaiting approval");
    let run = step(
        &sandbox,
        &work,
        "regex.yaml",
        "regex",
        &["--issue-key", &other, "--timeout", "2s"],
    );
    assert_eq!(run.code, 4, "the whole summary must match: {}", run.stderr);
}

/// Creates an issue of `issue_type` in OPS, in `status`; its key.
fn created(sandbox: &SandboxProc, issue_type: &str, status: &str) -> String {
    let body = json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": issue_type}, "summary": "A ticket"}});
    let (code, v) = sandbox.send("POST", &format!("{}/issue", sandbox.api()), &body);
    assert_eq!(code, 201, "{v}");
    let key = v["key"].as_str().unwrap().to_owned();
    sandbox.set_status(&key, status);
    key
}

#[test]
fn a_runtime_input_issue_key_and_a_get_value_connector_ref() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = workdir(&sandbox);
    let change = created(&sandbox, "Change", "Approved");
    let approve = |extra: &[&str], key_variable: Option<&str>| {
        let mut cmd = work.command();
        cmd.env("HARNESS_SECRET_JIRA_TOKEN", TOKEN)
            .args([
                "run",
                "runtime-input.yaml",
                "--harness-step",
                "approve_input",
            ])
            .args(["--connector", "connector-get-value.yaml"])
            .args(["--result-file", "result.json"])
            .args(extra);
        if let Some(key) = key_variable {
            cmd.env("JIRA_GATE_ISSUE_KEY", key);
        }
        work.run(&mut cmd)
    };
    // `issueKey: <+input>` takes --issue-key, or its variable.
    let run = approve(&["--issue-key", &change], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("decision"), "approved");
    assert_eq!(run.field("issue_key"), change.as_str());
    let run = approve(&[], Some(&change));
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Without either, the runtime input is named where it is written.
    let run = approve(&[], None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("runtime-input.yaml:22:31")
            && run.stderr.contains("<+input>")
            && run.stderr.contains("--issue-key"),
        "{}",
        run.stderr
    );
    // Without the secret, the variable the getValue expression reads is named.
    let run = work.run(
        work.command()
            .args([
                "validate",
                "runtime-input.yaml",
                "--harness-step",
                "approve_input",
            ])
            .args([
                "--connector",
                "connector-get-value.yaml",
                "--issue-key",
                "OPS-1",
            ]),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("connector-get-value.yaml:12:")
            && run.stderr.contains("HARNESS_SECRET_JIRA_TOKEN"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_converted_approval_keeps_the_project_and_type_check() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = workdir(&sandbox);
    let change = created(&sandbox, "Change", "Approved");
    let task = created(&sandbox, "Task", "Approved");
    let mut cmd = work.command();
    cmd.env("HARNESS_SECRET_JIRA_TOKEN", TOKEN)
        .args([
            "convert",
            "runtime-input.yaml",
            "--harness-step",
            "approve_input",
        ])
        .args([
            "--connector",
            "connector-get-value.yaml",
            "--issue-key",
            &change,
        ]);
    let run = work.run(&mut cmd);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stanza: serde_yaml::Value = serde_yaml::from_str(&run.stdout).unwrap();
    assert_eq!(stanza["ticket"]["key"], change.as_str(), "{}", run.stdout);
    assert_eq!(stanza["ticket"]["project"], "OPS", "{}", run.stdout);
    assert_eq!(stanza["ticket"]["type"], "Change", "{}", run.stdout);
    assert!(!run.stdout.contains("does not check"), "{}", run.stdout);
    work.write("converted.yml", &run.stdout);
    let converted = |verb: &str, key: &str| {
        let mut cmd = work.command();
        cmd.env("HARNESS_SECRET_JIRA_TOKEN", TOKEN).args([
            verb,
            "converted.yml",
            "--issue-key",
            key,
        ]);
        work.run(&mut cmd)
    };
    let run = converted("validate", &change);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // It means what the Harness step means: the Change is approved, the Task fails the step.
    let run = converted("run", &change);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_not_a_change(&converted("run", &task));
}
