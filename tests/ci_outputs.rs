//! The binary inside GitHub Actions and GitLab CI: their environment variables and files in place,
//! the step run against the sandbox, and every output checked line by line.

mod common;

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

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jira-gate"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// GitHub: inputs as `INPUT_*` (hyphens kept), masks first, outputs, summary, annotation.
#[test]
fn github_actions_outputs() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("gate.yml"), STANZA).unwrap();
    let output_file = work.path().join("github_output");
    let summary_file = work.path().join("step_summary");
    std::fs::write(&output_file, "earlier=kept\n").unwrap();
    let output: Output = binary()
        .current_dir(work.path())
        .envs([
            ("GITHUB_ACTIONS", "true"),
            ("INPUT_STEP-FILE", "gate.yml"),
            ("INPUT_JIRA-URL", sandbox.base.as_str()),
            ("INPUT_JIRA-USER", "ci-bot@example.com"),
            ("INPUT_JIRA-TOKEN", "sandbox-token"),
            ("INPUT_JIRA-PAT", ""),
            ("INPUT_ISSUE-KEY", ""),
            ("INPUT_TIMEOUT", ""),
            // action.yml's runs.env sets these to the (possibly empty) inputs.
            ("JIRA_URL", ""),
            ("JIRA_PAT", ""),
        ])
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .arg("run")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout.lines().next(),
        Some("::add-mask::sandbox-token"),
        "the mask comes first:\n{stdout}"
    );
    assert!(
        stdout.contains("::notice title=jira-gate::approved OPS-1"),
        "{stdout}"
    );
    assert!(!stderr.contains("sandbox-token"), "{stderr}");

    let outputs = std::fs::read_to_string(&output_file).unwrap();
    let lines: Vec<&str> = outputs.lines().collect();
    assert_eq!(lines[0], "earlier=kept", "appended, not truncated");
    for want in [
        "decision=approved",
        "issue-key=OPS-1",
        &format!("issue-url={}/browse/OPS-1", sandbox.base),
        "created=true",
        "status=Approved",
        "status-category=done",
        "resolution=",
        "decided-by=Alice Approver",
        "exit-code=0",
    ] {
        assert!(lines.contains(&want), "missing {want:?} in:\n{outputs}");
    }
    assert!(
        lines.iter().any(|l| l.starts_with("decided-at=20")),
        "{outputs}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("waited-seconds=")),
        "{outputs}"
    );
    assert!(lines.iter().any(|l| l.starts_with("polls=")), "{outputs}");

    let summary = std::fs::read_to_string(&summary_file).unwrap();
    assert!(
        summary.contains(&format!("[OPS-1]({}/browse/OPS-1)", sandbox.base)),
        "{summary}"
    );
    assert!(summary.contains('|'), "a Markdown table: {summary}");
}

/// GitHub: a rejection is an `::error` annotation and exit 3; inline `INPUT_STEP` and
/// `INPUT_ISSUE-KEY` work.
#[test]
fn github_actions_rejection_with_inline_step_and_issue_key() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Existing", &[]);
    sandbox.transition(&key, "21");
    sandbox.set_status(&key, "Rejected");
    let work = tempfile::tempdir().unwrap();
    let output_file = work.path().join("out");
    let output = binary()
        .current_dir(work.path())
        .envs([
            ("GITHUB_ACTIONS", "true"),
            ("INPUT_STEP", STANZA),
            ("INPUT_ISSUE-KEY", key.as_str()),
            ("JIRA_URL", sandbox.base.as_str()),
            ("JIRA_USER", "ci-bot@example.com"),
            ("JIRA_API_TOKEN", "sandbox-token"),
        ])
        .env("GITHUB_OUTPUT", &output_file)
        .arg("run")
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(
        stdout.contains(&format!("::error title=jira-gate rejected::rejected {key}")),
        "{stdout}"
    );
    let outputs = std::fs::read_to_string(&output_file).unwrap();
    assert!(
        outputs.contains("decision=rejected\n") && outputs.contains("created=false\n"),
        "{outputs}"
    );
    assert_eq!(sandbox.issues().len(), 1);
}

/// GitLab: dotenv appended with `JIRA_GATE_*`, collapsible section markers, nothing GitHub-ish.
#[test]
fn gitlab_ci_dotenv_and_sections() {
    let sandbox = SandboxProc::datacenter(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let stanza = STANZA.replace(
        "type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}'",
        "type: pat, token: '${JIRA_PAT}'",
    );
    std::fs::write(work.path().join("jira-gate.yml"), stanza).unwrap();
    let output = binary()
        .current_dir(work.path())
        .envs([
            ("GITLAB_CI", "true"),
            ("JIRA_URL", sandbox.base.as_str()),
            ("JIRA_PAT", "sandbox-pat"),
        ])
        .args(["run", "--result-file", "result.json"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("section_start:") && stderr.contains("section_end:"),
        "{stderr}"
    );
    let dotenv = std::fs::read_to_string(work.path().join("jira-gate.env")).unwrap();
    let lines: Vec<&str> = dotenv.lines().collect();
    for want in [
        "JIRA_GATE_DECISION=approved",
        "JIRA_GATE_ISSUE_KEY=OPS-1",
        &format!("JIRA_GATE_ISSUE_URL={}/browse/OPS-1", sandbox.base),
        "JIRA_GATE_CREATED=true",
        "JIRA_GATE_STATUS=Approved",
        "JIRA_GATE_DECIDED_BY=Alice Approver",
        "JIRA_GATE_EXIT_CODE=0",
    ] {
        assert!(lines.contains(&want), "missing {want:?} in:\n{dotenv}");
    }
    assert!(
        lines.iter().all(|l| l
            .split_once('=')
            .is_some_and(|(k, _)| k.starts_with("JIRA_GATE_"))),
        "{dotenv}"
    );
    assert!(!dotenv.contains("sandbox-pat"));
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("result.json")).unwrap())
            .unwrap();
    assert_eq!(result["decision"], "approved");
}

/// GitLab: `JIRA_GATE_DOTENV` moves the file; an unwritable path is exit 1 with the path named.
#[test]
fn gitlab_dotenv_path_and_write_failure() {
    let sandbox = SandboxProc::datacenter(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    let stanza = STANZA.replace(
        "type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}'",
        "type: pat, token: '${JIRA_PAT}'",
    );
    std::fs::write(work.path().join("gate.yml"), stanza).unwrap();
    let run = |dotenv: &str| {
        binary()
            .current_dir(work.path())
            .envs([
                ("GITLAB_CI", "true"),
                ("JIRA_URL", sandbox.base.as_str()),
                ("JIRA_PAT", "sandbox-pat"),
                ("JIRA_GATE_DOTENV", dotenv),
            ])
            .args(["run", "gate.yml"])
            .output()
            .unwrap()
    };
    let output = run("out/gate.env");
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a missing directory cannot be written: {stderr}"
    );
    assert!(stderr.contains("out/gate.env"), "{stderr}");
    std::fs::create_dir(work.path().join("out")).unwrap();
    let output = run("out/gate.env");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        std::fs::read_to_string(work.path().join("out/gate.env"))
            .unwrap()
            .contains("JIRA_GATE_DECISION=approved")
    );
}
