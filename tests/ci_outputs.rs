//! The binary inside GitHub Actions and GitLab CI: their environment variables and files in place,
//! the step run against the sandbox, and every output checked line by line.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

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
    let group = stdout
        .find("::group::jira-gate: connect to Jira and write the ticket\n")
        .expect("the setup is a group");
    let end = stdout.find("::endgroup::\n").expect("the group is closed");
    assert!(group < end, "{stdout}");
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

/// GitLab: `JIRA_GATE_DOTENV` moves the file; an unwritable path is found before Jira is touched
/// (issue 8 #11): exit 2 with the path and the OS error, no ticket.
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
        Some(2),
        "a missing directory cannot be written: {stderr}"
    );
    assert!(
        stderr.contains("cannot write the GitLab dotenv file out/gate.env")
            && stderr.contains("No such file or directory")
            && stderr.contains("found before Jira was touched"),
        "{stderr}"
    );
    assert!(
        sandbox.issues().is_empty(),
        "no ticket before the outputs are known writable"
    );
    std::fs::create_dir(work.path().join("out")).unwrap();
    let output = run("out/gate.env");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        std::fs::read_to_string(work.path().join("out/gate.env"))
            .unwrap()
            .contains("JIRA_GATE_DECISION=approved")
    );
}

/// Issue 8 #11: `$GITHUB_OUTPUT` and `--result-file` in a missing directory stop the step before
/// a ticket exists.
#[test]
fn unwritable_github_output_or_result_file_stops_before_jira() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("gate.yml"), STANZA).unwrap();
    let run = |github_output: &str, args: &[&str]| {
        binary()
            .current_dir(work.path())
            .envs([
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_OUTPUT", github_output),
                ("JIRA_URL", sandbox.base.as_str()),
                ("JIRA_USER", "ci-bot@example.com"),
                ("JIRA_API_TOKEN", "sandbox-token"),
            ])
            .args(["run", "gate.yml"])
            .args(args)
            .output()
            .unwrap()
    };
    let output = run("gone/output", &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the GitHub output file gone/output"),
        "{stderr}"
    );
    let output = run("output", &["--result-file", "gone/result.json"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the result file gone/result.json"),
        "{stderr}"
    );
    assert!(sandbox.issues().is_empty());
    assert!(
        !work.path().join("output").exists(),
        "the probe leaves nothing"
    );
}

/// Issue 8 #16: `-q` prints no GitLab section markers; the dotenv is still written.
#[test]
fn gitlab_quiet_prints_no_section_markers() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("gate.yml"), STANZA).unwrap();
    let output = binary()
        .current_dir(work.path())
        .envs([
            ("GITLAB_CI", "true"),
            ("JIRA_URL", sandbox.base.as_str()),
            ("JIRA_USER", "ci-bot@example.com"),
            ("JIRA_API_TOKEN", "sandbox-token"),
        ])
        .args(["run", "gate.yml", "-q"])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("section_start") && !stderr.contains("section_end"),
        "{stderr:?}"
    );
    assert!(
        std::fs::read_to_string(work.path().join("jira-gate.env"))
            .unwrap()
            .contains("JIRA_GATE_DECISION=approved\n")
    );
}

/// Issue 8 #3: an approver whose display name ends with a space and a line break (Jira allows it)
/// no longer turns an approved gate into exit 1 without a dotenv; the dotenv, the exit code and
/// the result file agree. A proxy between the step and the sandbox changes the name.
#[test]
fn gitlab_approver_name_with_trailing_space_and_newline() {
    use std::io::{BufRead as _, BufReader};
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/rewrite_proxy.py"
    );
    let mut proxy = Command::new("python3")
        .arg(script)
        .arg(&sandbox.base)
        .arg("\"Alice Approver\"")
        .arg("\"Alice Approver \\n\"")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let mut url = String::new();
    BufReader::new(proxy.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("gate.yml"), STANZA).unwrap();
    let output = binary()
        .current_dir(work.path())
        .envs([
            ("GITLAB_CI", "true"),
            ("JIRA_URL", url.trim()),
            ("JIRA_USER", "ci-bot@example.com"),
            ("JIRA_API_TOKEN", "sandbox-token"),
        ])
        .args(["run", "gate.yml", "--result-file", "result.json"])
        .output()
        .unwrap();
    let _ = proxy.kill();
    let _ = proxy.wait();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let dotenv = std::fs::read_to_string(work.path().join("jira-gate.env")).unwrap();
    assert!(
        dotenv
            .lines()
            .any(|l| l == "JIRA_GATE_DECIDED_BY=Alice Approver"),
        "{dotenv}"
    );
    assert!(dotenv.contains("JIRA_GATE_EXIT_CODE=0\n"), "{dotenv}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("result.json")).unwrap())
            .unwrap();
    assert_eq!(result["exit_code"], 0);
    assert_eq!(
        result["decided_by"], "Alice Approver \n",
        "the result file keeps Jira's value as it is"
    );
}
