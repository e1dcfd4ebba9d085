//! Every stanza shipped in `steps/` passes `jira-gate check` against the shipped sandbox, in each
//! flavor its authentication fits (issue 8, defect 5: a new user's first `check` failed because the
//! demo stanza named a status the sandbox did not have).
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::path::{Path, PathBuf};

use common::SandboxProc;
use common::run::{DC_USER, PASSWORD, PAT, Run, TOKEN, USER, Workdir, jira_gate};
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
fn check(sandbox: &SandboxProc, file: &Path, issue: &str) -> Run {
    let (user, token) = if sandbox.datacenter {
        (DC_USER, PASSWORD)
    } else {
        (USER, TOKEN)
    };
    Workdir::new().run(
        jira_gate()
            .env("JIRA_URL", &sandbox.base)
            .env("JIRA_PAT", PAT)
            .env("JIRA_USER", user)
            .env("JIRA_API_TOKEN", token)
            .env("JIRA_ISSUE", issue)
            .env("CI_PROJECT_NAME", "checkout-api")
            .env("CI_COMMIT_SHORT_SHA", "0a1b2c3d")
            .env("CI_PIPELINE_URL", "https://ci.example.com/pipelines/7")
            .env("CI_PIPELINE_ID", "7")
            .env("PIPELINE_RUN_ID", "7")
            .env("DEPLOY_WINDOW_START", "2026-12-05T02:00:00+01:00")
            .env("DEPLOY_WINDOW_END", "2026-12-05T04:00:00+01:00")
            .arg("check")
            .arg(file),
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
            let run = check(&sandbox, file, &issue);
            assert_eq!(
                run.code,
                0,
                "jira-gate check {} against the {} sandbox:\n{}",
                file.display(),
                if sandbox.datacenter {
                    "datacenter"
                } else {
                    "cloud"
                },
                run.stderr
            );
            checked += 1;
        }
    }
    assert!(checked >= 2 * stanzas.len() - 1, "{checked} checks");
}
