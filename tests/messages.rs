//! What the user reads when Jira fails (issue 8): answers jira-gate refuses (a redirect to another
//! host, a redirect loop, a body over the 8 MiB cap) say what happened, never an HTTP status Jira
//! did not send; an unreachable Jira and an answer that is not Jira's each come with a hint.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use common::SandboxProc;
use common::run::{Run, Workdir};
use serde_json::json;

const STANZA: &str = "jira:\n  url: ${JIRA_URL}\n  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n  request_timeout: 5s\nticket:\n  project: OPS\n  type: Change\n  summary: Deploy\napproval:\n  approve_when: { status: Approved }\n  interval: 1s\n  max_interval: 2s\n  timeout: 30s\n";

/// The step against a sandbox with the scripted fault `fault` builds; exit 5 is asserted.
fn failing(fault: impl FnOnce(&SandboxProc) -> serde_json::Value, extra: &[&str]) -> Run {
    let sandbox = SandboxProc::cloud(&[]);
    sandbox.add_faults(&fault(&sandbox));
    let run = Workdir::new().gate(&sandbox, STANZA, extra);
    assert_eq!(run.code, 5, "{}", run.stderr);
    run
}

/// The step against a sandbox whose `path` answers with the fault `fault` builds, checked for
/// fake statuses.
fn refused(path: &str, fault: impl FnOnce(&SandboxProc) -> serde_json::Value) -> Run {
    let run = failing(
        |sandbox| {
            let mut fault = fault(sandbox);
            fault["method"] = json!("GET");
            fault["path_prefix"] = json!(path);
            fault["times"] = json!(1000);
            fault
        },
        &[],
    );
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
    let run = refused("/rest/api/2/serverInfo", |_| json!({"kind": "huge"}));
    assert!(
        run.stderr
            .contains("GET /rest/api/2/serverInfo: the answer (HTTP 200"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("larger than 8 MiB"), "{}", run.stderr);
}

#[test]
fn an_unreachable_jira_names_what_to_check() {
    let run = failing(
        |_| json!({"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "status", "status": 503, "times": 1000}),
        &["--timeout", "3s"],
    );
    let hint = "(hint: check jira.url and, if a proxy is in between, HTTPS_PROXY and NO_PROXY; if Jira is only slow, raise --timeout";
    assert!(run.stderr.contains("Jira unreachable"), "{}", run.stderr);
    assert!(run.stderr.contains(hint), "{}", run.stderr);
    assert!(
        run.field("message").as_str().unwrap().contains(hint),
        "{}",
        run.result_text
    );
}

#[test]
fn an_answer_that_is_not_jiras_names_what_to_check() {
    // A 200 whose body is an error, where the created issue should be.
    let run = failing(
        |_| json!({"method": "POST", "path_prefix": "/rest/api/3/issue", "kind": "status", "status": 200}),
        &[],
    );
    assert!(
        run.stderr.contains("unexpected answer from Jira"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "(hint: check that jira.url reaches Jira's REST API itself, not a proxy or another service answering in its place)"
        ),
        "{}",
        run.stderr
    );
}
