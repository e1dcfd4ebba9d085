//! How many requests a gate costs Jira (issue 12): create + transition + comment + one poll +
//! the decision, counted in the sandbox's request log.
#![cfg(feature = "sandbox")]

mod common;

use common::SandboxProc;
use common::run::Workdir;

/// The requests of one run, as `METHOD /path` (no query), in order.
fn log(sandbox: &SandboxProc) -> Vec<String> {
    sandbox
        .requests()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn create_transition_comment_one_poll_and_the_decision() {
    // Alice approves as soon as the ticket awaits approval: the first poll decides.
    let sandbox = SandboxProc::cloud(&["--approve-after", "0s"]);
    let stanza = format!(
        "jira:\n  url: {}\n  auth: {{ type: basic, username: '${{JIRA_USER}}', token: '${{JIRA_API_TOKEN}}' }}\nticket:\n  project: OPS\n  type: Change\n  summary: Deploy\n  comment: Waiting for approval\n  transition: Request approval\napproval:\n  approve_when: {{ status: Approved }}\n  reject_when: {{ status: Rejected }}\n  interval: 1s\n  max_interval: 1s\n  timeout: 30s\n",
        sandbox.base
    );
    let run = Workdir::new().gate(&sandbox, &stanza, &[]);
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
    let requests = log(&sandbox);
    let issue = sandbox.get_json("/rest/api/3/issue/OPS-1?fields=comment", 200);
    assert_eq!(
        issue["fields"]["comment"]["total"], 1,
        "the comment is there"
    );
    assert_eq!(
        requests,
        [
            "GET /rest/api/2/serverInfo",
            "GET /rest/api/3/myself",
            "GET /rest/api/3/project/OPS/statuses",
            "POST /rest/api/3/issue",
            "GET /rest/api/3/issue/OPS-1/transitions",
            "POST /rest/api/3/issue/OPS-1/transitions",
            "GET /rest/api/3/issue/OPS-1",
        ],
        "{} requests",
        requests.len()
    );
}
