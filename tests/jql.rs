//! End to end: `jql` criteria (issue 9) through the built binary against a `jira-gate sandbox`
//! process, Cloud (`search/jql`, `jql/parse`) and Data Center (`search`). Each test asserts the
//! exit code, the stderr a user reads, the result file, and the requests Jira saw.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::time::Duration;

use common::SandboxProc;
use common::run::{Run, Workdir};
use serde_json::{Value, json};

/// A stanza waiting on the existing issue OPS-1 with `approval` (its criteria), polling each
/// second; the connection written the flavor's way.
fn on_ops_1(sandbox: &SandboxProc, criteria: &str) -> String {
    let auth = if sandbox.datacenter {
        "{ type: pat, token: '${JIRA_PAT}' }"
    } else {
        "{ type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }"
    };
    format!(
        "jira: {{ url: '${{JIRA_URL}}', auth: {auth}, request_timeout: 5s }}\nticket: {{ key: OPS-1 }}\napproval:\n{criteria}  interval: 1s\n  max_interval: 1s\n  timeout: 20s\n"
    )
}

/// Cloud and Data Center sandboxes, each with OPS-1 (labels `labels`, summary "Deploy
/// checkout-api 1.4.2"), the request log cleared.
fn sandboxes(labels: &[&str]) -> [(SandboxProc, &'static str); 2] {
    [
        (SandboxProc::cloud(&[]), "cloud"),
        (SandboxProc::datacenter(&[]), "datacenter"),
    ]
    .map(|(sandbox, flavor)| {
        assert_eq!(sandbox.create("Deploy checkout-api 1.4.2", labels), "OPS-1");
        (sandbox, flavor)
    })
}

/// The flavor's search endpoint.
fn search_path(sandbox: &SandboxProc) -> &'static str {
    if sandbox.datacenter {
        "/rest/api/2/search"
    } else {
        "/rest/api/3/search/jql"
    }
}

/// The JQL of each search the run made, decoded, in order.
fn searches(sandbox: &SandboxProc) -> Vec<String> {
    sandbox
        .requests()
        .iter()
        .filter(|r| r["path"] == search_path(sandbox))
        .map(|r| param(r, "jql").unwrap_or_default())
        .collect()
}

/// The reads of OPS-1 the wait made (GETs of the issue with the poll's fields).
fn reads(sandbox: &SandboxProc) -> usize {
    sandbox
        .requests()
        .iter()
        .filter(|r| {
            r["method"] == "GET"
                && r["path"].as_str().unwrap().ends_with("/issue/OPS-1")
                && param(r, "fields").is_some_and(|f| f.starts_with("status,resolution"))
        })
        .count()
}

/// A query parameter of a logged request, percent-decoded.
fn param(request: &Value, name: &str) -> Option<String> {
    let query = request["query"].as_str()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() + 1 => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn run(sandbox: &SandboxProc, criteria: &str) -> Run {
    Workdir::new().gate(sandbox, &on_ops_1(sandbox, criteria), &[])
}

#[test]
fn a_jql_criterion_that_holds_approves_with_one_search_per_poll() {
    for (sandbox, flavor) in sandboxes(&["deploy", "tested"]) {
        let run = run(&sandbox, "  approve_when: { jql: 'labels = tested' }\n");
        assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
        assert!(
            run.stderr.contains("approve when jql `labels = tested`"),
            "{flavor}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .lines()
                .last()
                .unwrap()
                .starts_with("jira-gate: approved OPS-1"),
            "{flavor}: {}",
            run.stderr
        );
        assert_eq!(run.field("decision"), "approved");
        assert_eq!(run.field("issue_key"), "OPS-1");
        assert_eq!(run.field("status"), "To Do");
        assert_eq!(run.field("polls"), 1);
        assert_eq!(run.field("exit_code"), 0);
        assert_eq!(
            searches(&sandbox),
            ["key = \"OPS-1\" AND (labels = tested)"],
            "{flavor}"
        );
        assert_eq!(reads(&sandbox), 1, "{flavor}");
        // Cloud's index lags writes: the issue's id goes along for read-after-write.
        let search = sandbox
            .requests()
            .into_iter()
            .find(|r| r["path"] == search_path(&sandbox))
            .unwrap();
        assert_eq!(
            param(&search, "reconcileIssues").as_deref(),
            (!sandbox.datacenter).then_some("10000"),
            "{flavor}"
        );
    }
}

/// Runs `gate` while, after `delay`, a thread adds `label` to OPS-1 (as a person would).
fn labelled_after<T>(
    sandbox: &SandboxProc,
    delay: Duration,
    label: &str,
    gate: impl FnOnce() -> T,
) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(delay);
            let (code, body) = sandbox.send(
                "PUT",
                &format!("{}/issue/OPS-1", sandbox.api()),
                &json!({"update": {"labels": [{"add": label}]}}),
            );
            assert_eq!(code, 204, "{body}");
        });
        gate()
    })
}

#[test]
fn a_jql_criterion_waits_until_the_issue_changes() {
    for (sandbox, flavor) in sandboxes(&["deploy"]) {
        let criteria =
            "  approve_when: { jql: 'labels = tested' }\n  reject_when: { status: Rejected }\n";
        let run = labelled_after(&sandbox, Duration::from_millis(2500), "tested", || {
            run(&sandbox, criteria)
        });
        assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
        assert!(run.elapsed >= Duration::from_millis(2500), "{flavor}");
        let polls = run.field("polls").as_u64().unwrap();
        assert!(polls >= 2, "{flavor}: {polls} polls");
        assert_eq!(run.field("decision"), "approved");
        // Every poll: one read and one search, the same one each time.
        let asked = searches(&sandbox);
        assert_eq!(asked.len() as u64, polls, "{flavor}: {asked:?}");
        assert!(
            asked
                .iter()
                .all(|q| q == "key = \"OPS-1\" AND (labels = tested)")
        );
        assert_eq!(reads(&sandbox) as u64, polls, "{flavor}");
    }
}

#[test]
fn invalid_jql_exits_5_at_the_first_poll_with_jiras_text() {
    for (sandbox, flavor) in sandboxes(&["deploy"]) {
        for (jql, jira_says) in [
            (
                "labels = tested AND",
                "Error in the JQL Query: Expecting a field name but got ')'. (line 1, character 39)",
            ),
            (
                "universe = 42",
                "Field 'universe' does not exist or you do not have permission to view it.",
            ),
        ] {
            let before = searches(&sandbox).len();
            let run = run(
                &sandbox,
                &format!(
                    "  approve_when: {{ jql: '{jql}' }}\n  reject_when: {{ status: Rejected }}\n"
                ),
            );
            assert_eq!(run.code, 5, "{flavor} {jql}: {}", run.stderr);
            let last = run.stderr.lines().last().unwrap();
            assert!(last.starts_with("jira-gate: error"), "{flavor}: {last}");
            assert!(
                run.stderr.contains(&format!(
                    "answered HTTP 400: {jira_says} (the query: key = \"OPS-1\" AND ({jql}))"
                )),
                "{flavor}: {}",
                run.stderr
            );
            assert_eq!(run.field("decision"), "error");
            assert_eq!(run.field("exit_code"), 5);
            assert_eq!(run.field("polls"), 0);
            assert!(
                run.field("message").as_str().unwrap().contains(jira_says),
                "{flavor}: {}",
                run.result_text
            );
            // At the first poll, and never retried: a 400 does not heal.
            assert_eq!(searches(&sandbox).len(), before + 1, "{flavor} {jql}");
            assert!(
                run.elapsed < Duration::from_secs(5),
                "{flavor}: {:?}",
                run.elapsed
            );
        }
    }
}

#[test]
fn or_and_parentheses_decide_both_ways() {
    for (sandbox, flavor) in sandboxes(&["verified"]) {
        sandbox.create("Rotate keys", &["vetoed"]);
        let criteria = "  approve_when: { jql: '(labels = tested OR labels = verified) AND (status = \"To Do\" OR statusCategory = Done)' }\n  reject_when: { jql: 'labels in (blocked, vetoed) OR NOT summary ~ deploy' }\n";
        let approved = run(&sandbox, criteria);
        assert_eq!(approved.code, 0, "{flavor}: {}", approved.stderr);
        assert_eq!(approved.field("decision"), "approved");
        // Both trees wait on JQL: one search asks whether either holds, one more which.
        let asked = searches(&sandbox);
        assert_eq!(
            asked,
            [
                "key = \"OPS-1\" AND ((labels in (blocked, vetoed) OR NOT summary ~ deploy) OR ((labels = tested OR labels = verified) AND (status = \"To Do\" OR statusCategory = Done)))",
                "key = \"OPS-1\" AND (labels in (blocked, vetoed) OR NOT summary ~ deploy)",
            ],
            "{flavor}"
        );
        let rejected = Workdir::new().gate(
            &sandbox,
            &on_ops_1(&sandbox, criteria).replace("key: OPS-1", "key: OPS-2"),
            &[],
        );
        assert_eq!(rejected.code, 3, "{flavor}: {}", rejected.stderr);
        assert_eq!(rejected.field("decision"), "rejected");
        assert_eq!(rejected.field("issue_key"), "OPS-2");
        assert!(
            rejected
                .stderr
                .lines()
                .last()
                .unwrap()
                .starts_with("jira-gate: rejected OPS-2"),
            "{flavor}: {}",
            rejected.stderr
        );
    }
}

#[test]
fn jql_with_field_criteria_costs_at_most_two_requests_per_poll() {
    for (sandbox, flavor) in sandboxes(&["deploy"]) {
        let (code, body) = sandbox.send(
            "PUT",
            &format!("{}/issue/OPS-1", sandbox.api()),
            &json!({"fields": {"customfield_10050": {"value": "Low"}}}),
        );
        assert_eq!(code, 204, "{body}");
        let criteria = "  approve_when:\n    all:\n      - { field: Change risk, equals: Low }\n      - jql: 'labels = tested'\n      - jql: 'summary ~ checkout'\n  reject_when: { any: [{ status: Rejected }, { field: Change risk, equals: High }] }\n";
        let run = labelled_after(&sandbox, Duration::from_millis(2500), "tested", || {
            run(&sandbox, criteria)
        });
        assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
        assert_eq!(run.field("decision"), "approved");
        let polls = run.field("polls").as_u64().unwrap();
        assert!(polls >= 2, "{flavor}: {polls}");
        // Per poll: the read of the fields, and ONE search for both jql criteria.
        let asked = searches(&sandbox);
        assert_eq!(reads(&sandbox) as u64, polls, "{flavor}");
        assert_eq!(asked.len() as u64, polls, "{flavor}: {asked:?}");
        assert!(
            asked
                .iter()
                .all(|q| q == "key = \"OPS-1\" AND ((labels = tested) AND (summary ~ checkout))"),
            "{flavor}: {asked:?}"
        );
        let wait_requests = reads(&sandbox) + asked.len();
        assert!(wait_requests as u64 <= 2 * polls, "{flavor}");
    }
}

/// `jira-gate check step.yml` on the stanza with `criteria`: asserts the exit code and that
/// stderr has every line of `says`.
fn check(sandbox: &SandboxProc, flavor: &str, criteria: &str, code: i32, says: &[&str]) -> Run {
    let work = Workdir::new();
    work.write("step.yml", on_ops_1(sandbox, criteria));
    let run = work.run(work.command_for(sandbox).args(["check", "step.yml"]));
    assert_eq!(run.code, code, "{flavor}: {}", run.stderr);
    for line in says {
        assert!(
            run.stderr.contains(line),
            "{flavor}: {line}\n{}",
            run.stderr
        );
    }
    run
}

#[test]
fn check_asks_jira_to_parse_every_jql_criterion() {
    for (sandbox, flavor) in sandboxes(&["deploy"]) {
        check(
            &sandbox,
            flavor,
            "  approve_when: { all: [{ status: Approved }, { jql: 'labels = tested OR labels = verified' }] }\n  reject_when: { jql: 'labels = vetoed' }\n",
            0,
            &[
                "ok       jql `labels = tested OR labels = verified` is valid",
                "ok       jql `labels = vetoed` is valid",
                "jira-gate check: all good",
            ],
        );
        let asked: Vec<Value> = sandbox
            .requests()
            .into_iter()
            .filter(|r| {
                r["path"].as_str().unwrap().contains("jql/parse")
                    || r["path"] == search_path(&sandbox)
            })
            .collect();
        assert_eq!(asked.len(), 2, "{flavor}: one question per criterion");
        for r in &asked {
            if sandbox.datacenter {
                assert_eq!(r["path"], "/rest/api/2/search");
                assert_eq!(param(r, "maxResults").as_deref(), Some("0"));
            } else {
                assert_eq!(
                    (r["method"].as_str(), r["path"].as_str()),
                    (Some("POST"), Some("/rest/api/3/jql/parse"))
                );
            }
        }

        let bad = check(
            &sandbox,
            flavor,
            "  approve_when: { jql: 'labels = tested AND status =' }\n  reject_when: { jql: 'colour = red' }\n",
            5,
            &[
                "problem  jql `labels = tested AND status =`: Jira says: Error in the JQL Query: ",
                "problem  jql `colour = red`: Jira says: Field 'colour' does not exist or you do not have permission to view it.",
                "2 problems found",
            ],
        );
        assert!(bad.result.is_none(), "check writes no result file");
    }
}

#[test]
fn the_shipped_jql_gated_release_waits_for_qa_then_approves() {
    let stanza = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("steps/jql-gated-release.yml"),
    )
    .unwrap()
    .replace("interval: 30s", "interval: 1s")
    .replace("max_interval: 5m", "max_interval: 1s");
    for sandbox in [
        SandboxProc::cloud(&["--approve-after", "1s"]),
        SandboxProc::datacenter(&["--approve-after", "1s"]),
    ] {
        let flavor = if sandbox.datacenter {
            "datacenter"
        } else {
            "cloud"
        };
        let work = Workdir::new();
        // Basic auth fits both flavors: the Data Center sandbox takes its user and password.
        let (user, token) = if sandbox.datacenter {
            (common::run::DC_USER, common::run::PASSWORD)
        } else {
            (common::run::USER, common::run::TOKEN)
        };
        let mut cmd = work.command_at(&sandbox.base);
        cmd.env("JIRA_USER", user)
            .env("JIRA_API_TOKEN", token)
            .env("CI_PROJECT_NAME", "checkout-api")
            .env("CI_COMMIT_SHORT_SHA", "0a1b2c3d")
            .env("CI_PIPELINE_ID", "7");
        // Approved after 1 s; QA signs off a little later.
        work.write("step.yml", &stanza);
        let run = labelled_after(&sandbox, Duration::from_secs(3), "qa-passed", || {
            work.run(cmd.args(["run", "step.yml", "--result-file", "result.json"]))
        });
        assert_eq!(run.code, 0, "{flavor}: {}", run.stderr);
        assert!(run.elapsed >= Duration::from_secs(3), "{flavor}");
        assert!(
            run.stderr.contains("OPS-1 is \"Approved\""),
            "{flavor}: {}",
            run.stderr
        );
        assert_eq!(run.field("decision"), "approved");
        assert_eq!(run.field("status"), "Approved");
        assert_eq!(run.field("created"), true);
        // Before Approved the read decides alone; then each poll one search, never more.
        let asked: Vec<String> = searches(&sandbox)
            .into_iter()
            .filter(|q| q.starts_with("key = "))
            .collect();
        let polls = run.field("polls").as_u64().unwrap();
        assert!(
            !asked.is_empty() && asked.len() as u64 <= polls,
            "{flavor}: {asked:?}"
        );
        assert!(
            asked.iter().all(|q| q == "key = \"OPS-1\" AND (labels = \"qa-passed\" AND (\"Change risk\" in (Low, Medium) OR priority in (High, Highest)))"),
            "{flavor}: {asked:?}"
        );
        assert_eq!(reads(&sandbox) as u64, polls, "{flavor}");
    }
}

#[test]
fn cloud_searches_see_a_fresh_ticket_through_reconcile_issues() {
    // Cloud's index lags writes: a plain search does not see the new ticket for a minute here.
    let sandbox = SandboxProc::cloud(&["--search-lag", "60s"]);
    sandbox.create("Deploy checkout-api 1.4.2", &["tested"]);
    let plain = sandbox.get_json("/rest/api/3/search/jql?jql=labels%20%3D%20tested", 200);
    assert_eq!(plain["issues"], json!([]), "the lag is in effect");
    let run = run(&sandbox, "  approve_when: { jql: 'labels = tested' }\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("decision"), "approved");
    assert_eq!(run.field("polls"), 1);
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

#[test]
fn check_tries_the_jql_with_a_search_where_jql_parse_is_missing() {
    let sandbox = SandboxProc::cloud(&[]);
    sandbox.create("Deploy checkout-api 1.4.2", &["deploy"]);
    sandbox.add_faults(&json!({"method": "POST", "path_prefix": "/rest/api/3/jql/parse", "kind": "status", "status": 404, "times": 10}));
    let bad = check(
        &sandbox,
        "cloud",
        "  approve_when: { jql: 'colour = red' }\n",
        5,
        &[
            "problem  jql `colour = red`: Jira says: Field 'colour' does not exist or you do not have permission to view it.",
        ],
    );
    assert!(bad.result.is_none());
    let tried: Vec<Value> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/rest/api/3/search/jql")
        .collect();
    assert_eq!(tried.len(), 1, "{tried:?}");
    assert_eq!(param(&tried[0], "jql").as_deref(), Some("(colour = red)"));
}
