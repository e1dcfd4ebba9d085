//! How many requests a gate costs Jira (issue 12): create + transition + comment + one poll +
//! the decision, counted in the sandbox's request log.
#![cfg(feature = "sandbox")]

mod common;

use common::SandboxProc;
use common::run::Workdir;

/// A create-and-wait stanza for `sandbox`, with `api` (`auto`, `v3`).
fn stanza(sandbox: &SandboxProc, api: &str) -> String {
    format!(
        "jira:\n  url: {}\n  api: {api}\n  auth: {{ type: basic, username: '${{JIRA_USER}}', token: '${{JIRA_API_TOKEN}}' }}\nticket:\n  project: OPS\n  type: Change\n  summary: Deploy\n  comment: Waiting for approval\n  transition: Request approval\napproval:\n  approve_when: {{ status: Approved }}\n  reject_when: {{ status: Rejected }}\n  interval: 1s\n  max_interval: 1s\n  timeout: 30s\n",
        sandbox.base
    )
}

/// Runs the stanza against a Cloud sandbox where Alice approves as soon as the ticket awaits
/// approval (the first poll decides); the requests it made.
fn gate_requests(api: &str) -> Vec<String> {
    let sandbox = SandboxProc::cloud(&["--approve-after", "0s"]);
    let run = Workdir::new().gate(&sandbox, &stanza(&sandbox, api), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("decision"), "approved");
    assert_eq!(run.field("polls"), 1);
    assert_eq!(run.field("decided_by"), "Alice Approver");
    assert!(
        run.stderr.contains("commented on OPS-1")
            && run
                .stderr
                .contains("transitioned OPS-1 with \"Request approval\""),
        "{}",
        run.stderr
    );
    let requests = sandbox.request_lines();
    let issue = sandbox.get_json("/rest/api/3/issue/OPS-1?fields=comment", 200);
    assert_eq!(
        issue["fields"]["comment"]["total"], 1,
        "the comment is there"
    );
    requests
}

/// Five requests on Jira Cloud: the statuses (the criteria checked, the issue types known), the
/// create, the transitions and the transition carrying the comment, one poll that brings the
/// changelog. `serverInfo` is asked only when neither `api: v3` nor the URL tells (an
/// `*.atlassian.net` address does; the sandbox's 127.0.0.1 does not), `/myself` only after a
/// failure.
#[test]
fn create_transition_comment_one_poll_and_the_decision() {
    let five = [
        "GET /rest/api/3/project/OPS/statuses",
        "POST /rest/api/3/issue",
        "GET /rest/api/3/issue/OPS-1/transitions",
        "POST /rest/api/3/issue/OPS-1/transitions",
        "GET /rest/api/3/issue/OPS-1",
    ];
    let requests = gate_requests("v3");
    assert_eq!(requests, five, "{} requests", requests.len());
    let requests = gate_requests("auto");
    let six: Vec<&str> = std::iter::once("GET /rest/api/2/serverInfo")
        .chain(five)
        .collect();
    assert_eq!(requests, six, "{} requests", requests.len());
}

/// `api: v3` against Data Center (no REST v3): no `serverInfo` up front, so the first request
/// fails; the run then asks `serverInfo` and says what is wrong, as it did when it asked first.
#[test]
fn api_v3_on_data_center_is_explained_after_the_failure() {
    let sandbox = SandboxProc::datacenter(&[]);
    let text = stanza(&sandbox, "v3").replace(
        "{ type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }",
        "{ type: pat, token: '${JIRA_PAT}' }",
    );
    let run = Workdir::new().gate(&sandbox, &text, &[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("jira.api is v3 but")
            && run
                .stderr
                .contains("which has only REST v2 (hint: use `api: auto` or `api: v2`)"),
        "{}",
        run.stderr
    );
    assert_eq!(run.field("decision"), "error");
    assert!(sandbox.issues().is_empty(), "nothing was created");
}
