//! Answers jira-gate refuses (a redirect to another host, a redirect loop, a body over the 8 MiB
//! cap) are reported as what happened, never as an HTTP status Jira did not send (issue 8).
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use common::SandboxProc;
use common::run::{Run, Workdir};
use serde_json::json;

const STANZA: &str = "jira:\n  url: ${JIRA_URL}\n  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n  request_timeout: 5s\nticket:\n  project: OPS\n  type: Change\n  summary: Deploy\napproval:\n  approve_when: { status: Approved }\n  interval: 1s\n  max_interval: 2s\n  timeout: 30s\n";

/// The step against a sandbox whose `path` answers with the fault `fault` builds.
fn refused(path: &str, fault: impl FnOnce(&SandboxProc) -> serde_json::Value) -> Run {
    let sandbox = SandboxProc::cloud(&[]);
    let mut fault = fault(&sandbox);
    fault["method"] = json!("GET");
    fault["path_prefix"] = json!(path);
    fault["times"] = json!(1000);
    sandbox.add_faults(&fault);
    let run = Workdir::new().gate(&sandbox, STANZA, &[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    for fake in ["HTTP 421", "HTTP 413", "answered HTTP"] {
        assert!(!run.stderr.contains(fake), "{fake}: {}", run.stderr);
        assert!(
            !run.field("message").as_str().unwrap().contains(fake),
            "{fake}: {}",
            run.result_text
        );
    }
    run
}

#[test]
fn a_redirect_to_another_host_says_so() {
    let run = refused("/rest/api/2/serverInfo", |_| {
        json!({"kind": "status", "status": 302,
                "headers": {"Location": "http://other.example.com:1/rest/api/2/serverInfo?token=x"}})
    });
    assert!(
        run.stderr.contains(
            "GET /rest/api/2/serverInfo: Jira redirected to another host (HTTP 302, Location: http://other.example.com:1/rest/api/2/serverInfo)"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: set jira.url"), "{}", run.stderr);
}

#[test]
fn a_redirect_loop_says_so() {
    let run = refused("/rest/api/2/serverInfo", |sandbox| {
        let here = format!("{}/rest/api/2/serverInfo", sandbox.base);
        json!({"kind": "status", "status": 302, "headers": {"Location": here}})
    });
    assert!(run.stderr.contains("redirects on"), "{}", run.stderr);
    assert!(run.stderr.contains("do not end"), "{}", run.stderr);
}

#[test]
fn a_body_over_the_cap_says_so() {
    let run = refused("/rest/api/3/myself", |_| json!({"kind": "huge"}));
    assert!(
        run.stderr
            .contains("GET /rest/api/3/myself: the answer (HTTP 200"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("larger than 8 MiB"), "{}", run.stderr);
}
