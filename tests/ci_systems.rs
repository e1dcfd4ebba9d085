//! The binary inside Azure Pipelines, Bitbucket Pipelines, Buildkite, Tekton, Argo Workflows,
//! Jenkins, CircleCI and Woodpecker: each system's variables and files in place, the step run
//! against the sandbox, and the outputs read back the way that system reads them (Azure's
//! `##vso` lines parsed, `source` in bash for shell files, the properties file parsed, one file per
//! Tekton or Argo result, the agent's calls recorded by a fake `buildkite-agent` on `PATH`).
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::SandboxProc;

const STANZA: &str = "\
jira:
  url: ${JIRA_URL}
  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }
ticket:
  project: OPS
  type: Change
  summary: Deploy from CI
  transition: Request approval
approval:
  approve_when: { status: Approved }
  reject_when: { status: Rejected }
  interval: 1s
  max_interval: 1s
  timeout: 30s
";

/// Runs `jira-gate run ARGS` in `work` with a clean environment, the sandbox's credentials and
/// `vars`; the stanza is `work/gate.yml`.
fn step(sandbox: &SandboxProc, work: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    std::fs::write(work.join("gate.yml"), STANZA).unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    Command::new(env!("CARGO_BIN_EXE_jira-gate"))
        .env_clear()
        .env("PATH", path)
        .env("JIRA_URL", &sandbox.base)
        .env("JIRA_USER", "ci-bot@example.com")
        .env("JIRA_API_TOKEN", "sandbox-token")
        .envs(vars.iter().copied())
        .current_dir(work)
        .stdin(Stdio::null())
        .arg("run")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Sources `file` in bash and prints each `JIRA_GATE_*` variable as `NAME=value` lines.
fn source_in_bash(file: &Path) -> HashMap<String, String> {
    let names = "DECISION ISSUE_KEY ISSUE_URL CREATED STATUS DECIDED_BY EXIT_CODE";
    let script = format!(
        "set -eu; . \"$1\"; for n in {names}; do v=JIRA_GATE_$n; printf '%s=%s\\n' \"$n\" \"${{!v}}\"; done"
    );
    let out = Command::new("bash")
        .args(["-c", &script, "bash"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn assert_approved(vars: &HashMap<String, String>, sandbox: &SandboxProc) {
    assert_eq!(vars["DECISION"], "approved", "{vars:?}");
    assert_eq!(vars["ISSUE_KEY"], "OPS-1");
    assert_eq!(vars["ISSUE_URL"], format!("{}/browse/OPS-1", sandbox.base));
    assert_eq!(vars["CREATED"], "true");
    assert_eq!(vars["STATUS"], "Approved");
    assert_eq!(vars["DECIDED_BY"], "Alice Approver");
    assert_eq!(vars["EXIT_CODE"], "0");
}

/// Azure: the secret is registered first, outputs are `isOutput=true` variables, a rejection
/// is a `task.logissue` error; the agent's parsing of `##vso` lines is reproduced here.
#[test]
fn azure_pipelines() {
    let sandbox = SandboxProc::cloud(&["--reject-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let output = step(
        &sandbox,
        work.path(),
        &[("TF_BUILD", "True")],
        &["gate.yml"],
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert_eq!(
        stdout.lines().next(),
        Some("##vso[task.setvariable variable=jira_gate_secret_1;issecret=true]sandbox-token"),
        "the secret is registered before anything else:\n{stdout}"
    );
    assert!(!stderr.contains("sandbox-token"), "{stderr}");
    let mut outputs = HashMap::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("##vso[task.setvariable ") else {
            continue;
        };
        let (props, value) = rest.split_once(']').unwrap();
        let props: HashMap<&str, &str> =
            props.split(';').filter_map(|p| p.split_once('=')).collect();
        if props.get("isOutput") == Some(&"true") {
            let value = value
                .replace("%0D", "\r")
                .replace("%0A", "\n")
                .replace("%AZP25", "%");
            outputs.insert(props["variable"].to_owned(), value);
        }
    }
    assert_eq!(outputs.len(), 12, "{stdout}");
    assert_eq!(outputs["decision"], "rejected");
    assert_eq!(outputs["issue_key"], "OPS-1");
    assert_eq!(outputs["decided_by"], "Bob Builder");
    assert_eq!(outputs["exit_code"], "3");
    assert!(
        stdout.contains("##vso[task.logissue type=error]jira-gate rejected: rejected OPS-1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("##[group]") && stdout.contains("##[endgroup]"),
        "{stdout}"
    );
}

/// Bitbucket pipe: `result.env` in the pipe's shared storage reads back with `source`, and the
/// result JSON lies beside it.
#[test]
fn bitbucket_pipe() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let storage = work.path().join("pipe-storage");
    let output = step(
        &sandbox,
        work.path(),
        &[
            ("BITBUCKET_BUILD_NUMBER", "41"),
            (
                "BITBUCKET_PIPE_SHARED_STORAGE_DIR",
                storage.to_str().unwrap(),
            ),
        ],
        &["gate.yml"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        output.stdout.is_empty(),
        "plain log: {}",
        text(&output.stdout)
    );
    assert_approved(
        &source_in_bash(&storage.join("jira-gate/result.env")),
        &sandbox,
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(storage.join("jira-gate/result.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["decision"], "approved");
    assert_eq!(json["exit_code"], 0);
}

/// Buildkite: with `buildkite-agent` on `PATH`, meta-data for each non-empty output and an
/// annotation; `--- ` groups in the log.
#[cfg(unix)]
#[test]
fn buildkite_agent_meta_data_and_annotation() {
    use std::os::unix::fs::PermissionsExt as _;
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = work.path().join("agent.log");
    let agent = bin.join("buildkite-agent");
    std::fs::write(
        &agent,
        format!(
            "#!/bin/sh\nprintf '%s|' \"$@\" >> '{log}'\nif [ \"$1\" != meta-data ]; then printf 'stdin:' >> '{log}'; cat >> '{log}'; fi\necho >> '{log}'\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = step(
        &sandbox,
        work.path(),
        &[("BUILDKITE", "true"), ("PATH", &path)],
        &["gate.yml"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("--- jira-gate: connect"), "{stderr}");
    let calls = std::fs::read_to_string(&log).unwrap();
    let meta: HashMap<&str, &str> = calls
        .lines()
        .filter_map(|l| l.strip_prefix("meta-data|set|"))
        .filter_map(|l| l.strip_suffix('|')?.split_once('|'))
        .collect();
    assert_eq!(meta["jira-gate-decision"], "approved", "{calls}");
    assert_eq!(meta["jira-gate-issue-key"], "OPS-1");
    assert_eq!(meta["jira-gate-decided-by"], "Alice Approver");
    assert_eq!(meta["jira-gate-exit-code"], "0");
    assert!(!meta.contains_key("jira-gate-resolution"), "empty: {calls}");
    assert!(
        calls.contains("redactor|add|--format|none|stdin:sandbox-token"),
        "{calls}"
    );
    assert!(
        calls.contains(
            "annotate|--style|success|--context|jira-gate|stdin:### ✅ jira-gate: approved"
        ),
        "{calls}"
    );
}

/// Tekton: `--tekton-results DIR` writes one file per result, value only.
#[test]
fn tekton_results() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let output = step(
        &sandbox,
        work.path(),
        &[],
        &["gate.yml", "--tekton-results", results.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let read = |name: &str| std::fs::read_to_string(results.join(name)).unwrap();
    assert_eq!(read("decision"), "approved");
    assert_eq!(read("issue-key"), "OPS-1");
    assert_eq!(read("issue-url"), format!("{}/browse/OPS-1", sandbox.base));
    assert_eq!(read("decided-by"), "Alice Approver");
    assert_eq!(read("exit-code"), "0");
}

/// Argo: `ARGO_TEMPLATE` selects it; output parameter files in the outputs directory.
#[test]
fn argo_output_parameters() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let outputs = work.path().join("argo/outputs");
    let output = step(
        &sandbox,
        work.path(),
        &[
            ("ARGO_TEMPLATE", "{\"name\":\"gate\"}"),
            ("JIRA_GATE_ARGO_OUTPUTS", outputs.to_str().unwrap()),
        ],
        &["gate.yml"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let read = |name: &str| std::fs::read_to_string(outputs.join(name)).unwrap();
    assert_eq!(read("decision"), "approved");
    assert_eq!(read("status"), "Approved");
    assert_eq!(read("created"), "true");
}

/// Jenkins: `jira-gate.properties` in `$WORKSPACE`, read back as `readProperties` would.
#[test]
fn jenkins_properties() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let workspace = work.path().join("ws");
    std::fs::create_dir(&workspace).unwrap();
    let output = step(
        &sandbox,
        work.path(),
        &[
            ("JENKINS_URL", "http://jenkins.example.com/"),
            ("WORKSPACE", workspace.to_str().unwrap()),
        ],
        &["gate.yml"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let props = std::fs::read_to_string(workspace.join("jira-gate.properties")).unwrap();
    // java.util.Properties: `#` comments; key, unescaped `=`, value with backslash escapes.
    let map: HashMap<String, String> = props
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.replace("\\:", ":").replace("\\=", "="))
        })
        .collect();
    assert_eq!(map["decision"], "approved", "{props}");
    assert_eq!(map["issue_key"], "OPS-1");
    assert_eq!(map["issue_url"], format!("{}/browse/OPS-1", sandbox.base));
    assert_eq!(map["decided_by"], "Alice Approver");
    assert_eq!(map["exit_code"], "0");
}

/// CircleCI: `export` lines appended to `$BASH_ENV`, which bash sources before the next step.
#[test]
fn circleci_bash_env() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let bash_env = work.path().join("bash_env");
    std::fs::write(&bash_env, "export EARLIER='kept'\n").unwrap();
    let output = step(
        &sandbox,
        work.path(),
        &[
            ("CIRCLECI", "true"),
            ("BASH_ENV", bash_env.to_str().unwrap()),
        ],
        &["gate.yml"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        std::fs::read_to_string(&bash_env)
            .unwrap()
            .starts_with("export EARLIER='kept'\n"),
        "appended"
    );
    assert_approved(&source_in_bash(&bash_env), &sandbox);
}

/// Woodpecker (and Drone): settings arrive as `PLUGIN_*`; nothing CI-specific is printed, the
/// result file carries the outcome.
#[test]
fn woodpecker_plugin_settings() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("other.yml"), STANZA).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_jira-gate"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([
            ("CI", "woodpecker"),
            ("PLUGIN_STEP_FILE", "other.yml"),
            ("PLUGIN_JIRA_URL", sandbox.base.as_str()),
            ("PLUGIN_JIRA_USER", "ci-bot@example.com"),
            ("PLUGIN_JIRA_TOKEN", "sandbox-token"),
        ])
        .current_dir(work.path())
        .stdin(Stdio::null())
        .args(["run", "--result-file", "result.json"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!stderr.contains("sandbox-token"), "{stderr}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("result.json")).unwrap())
            .unwrap();
    assert_eq!(result["decision"], "approved");

    // The `timeout` setting is read like GitHub's `timeout` input.
    let output = Command::new(env!("CARGO_BIN_EXE_jira-gate"))
        .env_clear()
        .envs([
            ("DRONE", "true"),
            ("PLUGIN_STEP_FILE", "other.yml"),
            ("PLUGIN_TIMEOUT", "soon"),
        ])
        .current_dir(work.path())
        .stdin(Stdio::null())
        .arg("validate")
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("input `timeout` \"soon\""), "{stderr}");
}

/// `JIRA_GATE_CI` overrides detection; an unknown value stops the step before Jira with the valid
/// values listed.
#[test]
fn jira_gate_ci_forces_a_system_or_names_the_valid_ones() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let output = step(
        &sandbox,
        work.path(),
        &[("JIRA_GATE_CI", "githb"), ("GITHUB_ACTIONS", "true")],
        &["gate.yml"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("JIRA_GATE_CI=\"githb\" is not a CI system")
            && stderr.contains("github, gitlab, azure, bitbucket, buildkite, tekton, argo, jenkins, circleci, woodpecker, none"),
        "{stderr}"
    );
    assert!(sandbox.issues().is_empty(), "Jira was not touched");

    let output = step(
        &sandbox,
        work.path(),
        &[
            ("JIRA_GATE_CI", "jenkins"),
            ("GITHUB_ACTIONS", "true"),
            ("WORKSPACE", work.path().to_str().unwrap()),
        ],
        &["gate.yml"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!text(&output.stdout).contains("::"), "no GitHub commands");
    assert!(work.path().join("jira-gate.properties").exists());
}

/// A preflight case: variables, extra arguments, the file named in the error.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);

/// Issue 8 #11 for the new systems: an output path that cannot be written is found before the
/// ticket is created (exit 2, the path and the OS error named).
#[test]
fn unwritable_outputs_stop_the_step_before_jira() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("missing");
    let cases: &[Case] = &[
        (
            &[
                ("JENKINS_URL", "x"),
                ("WORKSPACE", missing.to_str().unwrap()),
            ],
            &[],
            "Jenkins properties",
        ),
        (
            &[
                ("CIRCLECI", "true"),
                ("BASH_ENV", &format!("{}/bash_env", missing.display())),
            ],
            &[],
            "CircleCI BASH_ENV",
        ),
        (
            &[],
            &["--tekton-results", "gate.yml/results"],
            "Tekton result",
        ),
    ];
    for (vars, args, what) in cases {
        let args = [&["gate.yml"], *args].concat();
        let output = step(&sandbox, work.path(), vars, &args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(what), "{stderr}");
        assert!(
            stderr.contains("No such file or directory") || stderr.contains("Not a directory"),
            "the OS error: {stderr}"
        );
    }
    assert!(sandbox.issues().is_empty(), "no ticket was created");
}

/// The stanzas the new pipeline examples run are valid: `steps/any-ci-change-approval.yml` with
/// the variables the examples set, and the Woodpecker example's inline stanza once Woodpecker has
/// turned `$$` into `$`.
#[test]
fn example_stanzas_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let validate = |vars: &[(&str, &str)], args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_jira-gate"))
            .env_clear()
            .envs([
                ("JIRA_URL", "https://example.atlassian.net"),
                ("JIRA_USER", "ci-bot@example.com"),
                ("JIRA_API_TOKEN", "t"),
            ])
            .envs(vars.iter().copied())
            .current_dir(root)
            .stdin(Stdio::null())
            .arg("validate")
            .args(args)
            .output()
            .unwrap()
    };
    let output = validate(
        &[("PIPELINE_RUN_ID", "42")],
        &["steps/any-ci-change-approval.yml"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));

    let woodpecker: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("steps/woodpecker.yml")).unwrap())
            .unwrap();
    let inline = woodpecker["steps"][0]["settings"]["step"]
        .as_str()
        .unwrap()
        .replace("$$", "$");
    let output = validate(
        &[
            ("JIRA_GATE_STEP", &inline),
            ("CI_COMMIT_SHA", "abc"),
            ("CI_PIPELINE_URL", "https://ci.example.com/1"),
            ("CI_PIPELINE_NUMBER", "1"),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}
