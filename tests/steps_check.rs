//! Every stanza shipped in `steps/` passes `jira-gate check` against the shipped sandbox, in each
//! flavor its authentication fits (issue 8, defect 5: a new user's first `check` failed because the
//! demo stanza named a status the sandbox did not have).
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::SandboxProc;
use serde_json::Value;

/// The stanzas in `steps/`: the `.yml` files with a top-level `jira` section (the others are CI
/// pipeline examples).
fn stanzas() -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("steps");
    let mut found: Vec<(PathBuf, Value)> = std::fs::read_dir(&dir)
        .expect("steps/")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).expect("a readable stanza");
            let yaml: Value = serde_yaml::from_str(&text).expect("YAML");
            yaml.get("jira").is_some().then_some((p, yaml))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// Runs `jira-gate check FILE` against `sandbox` with the variables the stanzas use.
fn check(sandbox: &SandboxProc, file: &Path, issue: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_jira-gate"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("JIRA_URL", &sandbox.base)
        .env("JIRA_PAT", "sandbox-pat")
        .env(
            "JIRA_USER",
            if sandbox.datacenter {
                "ci-bot"
            } else {
                "ci-bot@example.com"
            },
        )
        .env(
            "JIRA_API_TOKEN",
            if sandbox.datacenter {
                "sandbox-password"
            } else {
                "sandbox-token"
            },
        )
        .env("JIRA_ISSUE", issue)
        .env("CI_PROJECT_NAME", "checkout-api")
        .env("CI_COMMIT_SHORT_SHA", "0a1b2c3d")
        .env("CI_PIPELINE_URL", "https://ci.example.com/pipelines/7")
        .env("CI_PIPELINE_ID", "7")
        .env("PIPELINE_RUN_ID", "7")
        .arg("check")
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .expect("run jira-gate check");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_shipped_stanza_checks_against_the_sandbox() {
    let stanzas = stanzas();
    assert!(
        stanzas.len() >= 5,
        "fewer stanzas than expected in steps/: {stanzas:?}"
    );
    let mut checked = 0;
    for sandbox in [SandboxProc::cloud(&[]), SandboxProc::datacenter(&[])] {
        let issue = sandbox.create("an issue for update-existing.yml", &[]);
        for (file, yaml) in &stanzas {
            // A personal access token is Data Center's; basic auth fits both flavors.
            if yaml["jira"]["auth"]["type"] == "pat" && !sandbox.datacenter {
                continue;
            }
            let (code, stderr) = check(&sandbox, file, &issue);
            assert_eq!(
                code,
                0,
                "jira-gate check {} against the {} sandbox:\n{stderr}",
                file.display(),
                if sandbox.datacenter {
                    "datacenter"
                } else {
                    "cloud"
                }
            );
            checked += 1;
        }
    }
    assert!(checked >= 2 * stanzas.len() - 1, "{checked} checks");
}
