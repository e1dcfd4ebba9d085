//! The fault matrix of issue 4: each row runs the built binary against a sandbox process with
//! scripted faults, and asserts the exit code, the number of tickets left in the sandbox, the
//! timing bound where one is promised, and that no secret reached stdout, stderr or the result file.
//!
//! Every row appends its measured time to `$CARGO_TARGET_TMPDIR/fault-matrix.txt`, the source of the
//! table in docs/RELIABILITY.md.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::io::{BufRead, BufReader, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::SandboxProc;
use common::run::{PAT, Run, TOKEN, USER, Workdir};
use serde_json::{Value, json};

/// `jira-gate` in `work` with `JIRA_URL` and every credential (Cloud's and Data Center's) set,
/// whether or not a sandbox answers at `url`.
fn command(work: &Workdir, url: &str) -> Command {
    let mut cmd = work.command();
    cmd.env("JIRA_URL", url)
        .env("JIRA_USER", USER)
        .env("JIRA_API_TOKEN", TOKEN)
        .env("JIRA_PAT", PAT);
    cmd
}

/// `jira-gate run step.yml --result-file result.json EXTRA`, not waited for.
fn spawn(work: &Workdir, url: &str, stanza: &str, extra: &[&str]) -> Child {
    work.write("step.yml", stanza);
    command(work, url)
        .args(["run", "step.yml", "--result-file", "result.json"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The same, waited for.
fn gate(work: &Workdir, url: &str, stanza: &str, extra: &[&str]) -> Run {
    work.gate_at(url, stanza, extra)
}

/// The same with extra variables.
fn gate_env(work: &Workdir, url: &str, stanza: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    work.write("step.yml", stanza);
    work.run(
        command(work, url)
            .args(["run", "step.yml", "--result-file", "result.json"])
            .args(extra)
            .envs(env.iter().copied()),
    )
}

/// Appends one measured row to the matrix file.
fn record(row: &str, run: &Run, note: &str) {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fault-matrix.txt");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    writeln!(
        file,
        "{row}\texit {}\t{:.2}s\t{note}",
        run.code,
        run.elapsed.as_secs_f64()
    )
    .unwrap();
}

fn connection(request_timeout: &str) -> String {
    format!(
        "jira:\n  url: ${{JIRA_URL}}\n  auth: {{ type: basic, username: '${{JIRA_USER}}', token: '${{JIRA_API_TOKEN}}' }}\n  request_timeout: {request_timeout}\n"
    )
}

fn ticket(extra: &str) -> String {
    format!(
        "ticket:\n  project: OPS\n  type: Change\n  summary: Deploy checkout-api 1.4.2\n  transition: Request approval\n{extra}"
    )
}

fn approval(timeout: &str) -> String {
    format!(
        "approval:\n  approve_when: {{ status: Approved }}\n  reject_when: {{ status: Rejected }}\n  interval: 1s\n  max_interval: 2s\n  timeout: {timeout}\n"
    )
}

/// A create-and-wait stanza: request timeout, extra ticket lines, approval timeout.
fn stanza(request_timeout: &str, extra: &str, timeout: &str) -> String {
    connection(request_timeout) + &ticket(extra) + &approval(timeout)
}

/// The request log entries for `method` whose path starts with `prefix`.
fn requests(sandbox: &SandboxProc, method: &str, prefix: &str) -> Vec<Value> {
    sandbox
        .requests()
        .into_iter()
        .filter(|r| r["method"] == method && r["path"].as_str().unwrap().starts_with(prefix))
        .collect()
}

/// Milliseconds between consecutive entries.
fn gaps(entries: &[Value]) -> Vec<u64> {
    entries
        .windows(2)
        .map(|w| w[1]["t_ms"].as_u64().unwrap() - w[0]["t_ms"].as_u64().unwrap())
        .collect()
}

fn tickets(sandbox: &SandboxProc) -> usize {
    sandbox.issues().len()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// Promise 1: transient faults are survived.

#[test]
fn connection_refused_at_start_is_survived() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let work = Workdir::new();
    let started = Instant::now();
    let child = spawn(&work, &url, &stanza("5s", "", "40s"), &[]);
    std::thread::sleep(Duration::from_secs(3));
    let sandbox = SandboxProc::start_on(&format!("127.0.0.1:{port}"), &["--approve-after", "1s"]);
    let run = work.finish(&child.wait_with_output().unwrap(), started);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("cannot connect"), "{}", run.stderr);
    assert!(run.stderr.contains("retrying in"), "{}", run.stderr);
    assert_eq!(tickets(&sandbox), 1);
    assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
    record(
        "connection refused for 3 s at start",
        &run,
        "sandbox started 3 s after the step",
    );
}

#[test]
fn rate_limit_with_retry_after_waits_exactly_that() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    sandbox.add_faults(&json!({"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "status", "status": 429, "retry_after": "3", "times": 2}));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "", "40s"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tickets(&sandbox), 1);
    let gaps = gaps(&requests(&sandbox, "GET", "/rest/api/2/serverInfo"));
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    for gap in &gaps {
        assert!(
            (3000..3600).contains(gap),
            "Retry-After 3 but waited {gap} ms"
        );
    }
    assert!(run.stderr.contains("HTTP 429"), "{}", run.stderr);
    record(
        "429 ×2 with Retry-After: 3",
        &run,
        &format!("gaps {gaps:?} ms"),
    );
}

#[test]
fn rate_limit_without_retry_after_backs_off() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    sandbox.add_faults(&json!({"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "status", "status": 429, "headers": {"X-RateLimit-Reset": ""}, "times": 3}));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "", "40s"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tickets(&sandbox), 1);
    let gaps = gaps(&requests(&sandbox, "GET", "/rest/api/2/serverInfo"));
    assert_eq!(gaps.len(), 3, "{gaps:?}");
    // 1 s, 2 s, 4 s nominal, each jittered to 0.5–1 of nominal (src/retry.rs).
    for (gap, nominal) in gaps.iter().zip([1000u64, 2000, 4000]) {
        let low = nominal / 2;
        let high = nominal + 400;
        assert!(
            (low..high).contains(gap),
            "gap {gap} ms for nominal {nominal}: {gaps:?}"
        );
    }
    record(
        "429 ×3 without Retry-After",
        &run,
        &format!("backoff gaps {gaps:?} ms"),
    );
}

#[test]
fn rate_limit_reset_header_is_honoured() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let reset = std::time::SystemTime::now() + Duration::from_secs(4);
    let reset = humantime::format_rfc3339_seconds(reset).to_string();
    sandbox.add_faults(&json!({"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "status", "status": 429, "headers": {"X-RateLimit-Reset": reset}, "times": 1}));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "", "40s"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let gaps = gaps(&requests(&sandbox, "GET", "/rest/api/2/serverInfo"));
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert!(
        (2500..5000).contains(&gaps[0]),
        "X-RateLimit-Reset in ~4 s; waited {gaps:?} ms"
    );
    record(
        "429 with only X-RateLimit-Reset (+4 s)",
        &run,
        &format!("gap {gaps:?} ms"),
    );
}

#[test]
fn server_errors_on_reads_are_retried() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "2s"]);
    sandbox.add_faults(&json!([
        {"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "status", "status": 503},
        {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "status", "status": 500},
        {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "non_json", "status": 502},
        {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "status", "status": 503},
        {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "non_json", "status": 504},
    ]));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "", "60s"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("decision"), "approved");
    assert_eq!(tickets(&sandbox), 1);
    let faults: Vec<String> = sandbox
        .requests()
        .iter()
        .filter_map(|r| r["fault"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(faults.len(), 5, "{faults:?}");
    for code in ["500", "502", "503", "504"] {
        assert!(
            run.stderr.contains(&format!("HTTP {code}")),
            "{code}:\n{}",
            run.stderr
        );
    }
    record("500/502/503/504 on reads", &run, "5 faults survived");
}

#[test]
fn truncated_and_non_json_bodies_are_retried() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "2s"]);
    sandbox.add_faults(&json!([
        {"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "truncate"},
        {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1/transitions", "kind": "non_json", "status": 200},
        {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "truncate", "times": 2},
        {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "non_json", "status": 200},
    ]));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "", "60s"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tickets(&sandbox), 1);
    assert!(run.stderr.contains("not valid JSON"), "{}", run.stderr);
    record("truncated body ×3, non-JSON 200 ×2", &run, "");
}

#[test]
fn request_timeout_is_retried() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    sandbox.add_faults(&json!({"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "delay", "delay_ms": 6000}));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("2s", "", "60s"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tickets(&sandbox), 1);
    assert!(run.stderr.contains("no answer within 2s"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(15), "{:?}", run.elapsed);
    record("request_timeout 2s vs a 6 s delay", &run, "");
}

// ---------------------------------------------------------------------------------------------
// Promise 2: permanent errors fail fast.

#[test]
fn permanent_errors_fail_fast_without_a_retry_storm() {
    let sandbox = SandboxProc::cloud(&[]);
    let dedupe = "  dedupe: perm-1\n";
    let cases = [
        (400, "POST", "/rest/api/3/issue", "Bad Request (injected"),
        (
            401,
            "GET",
            "/rest/api/2/serverInfo",
            "Unauthorized (injected",
        ),
        (403, "GET", "/rest/api/3/project/OPS", "Forbidden (injected"),
        (404, "GET", "/rest/api/3/project/OPS", "does not exist"),
        (410, "GET", "/rest/api/3/search/jql", "Gone (injected"),
    ];
    for (status, method, path, message) in cases {
        sandbox.clear_faults();
        sandbox.add_faults(&json!({"method": method, "path_prefix": path, "kind": "status", "status": status, "times": 100}));
        let before = sandbox.requests().len();
        // The exact path: the fault's prefix also covers `project/OPS/statuses`, read once at the
        // start to check the criteria's status names.
        let exact = |sandbox: &SandboxProc| {
            requests(sandbox, method, path)
                .iter()
                .filter(|r| r["path"] == path)
                .count()
        };
        let hits_before = exact(&sandbox);
        let run = gate(
            &Workdir::new(),
            &sandbox.base,
            &stanza("5s", dedupe, "60s"),
            &[],
        );
        assert_eq!(run.code, 5, "HTTP {status}: {}", run.stderr);
        assert!(
            run.stderr.contains(message),
            "HTTP {status}: {}",
            run.stderr
        );
        assert_eq!(run.field("decision"), "error");
        let hits = exact(&sandbox) - hits_before;
        let total = sandbox.requests().len() - before;
        assert_eq!(hits, 1, "HTTP {status} on {path} was retried");
        assert!(total <= 6, "HTTP {status}: {total} requests");
        assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
        record(
            &format!("permanent HTTP {status} on {method} {path}"),
            &run,
            &format!("{hits} request to the path, {total} in all"),
        );
    }
    assert_eq!(tickets(&sandbox), 0);
}

// ---------------------------------------------------------------------------------------------
// Promise 3: exactly one ticket per dedupe key.

#[test]
fn create_stored_but_dropped_makes_exactly_one_ticket() {
    let sandbox = SandboxProc::cloud(&["--search-lag", "3s", "--approve-after", "1s"]);
    sandbox.add_faults(
        &json!({"method": "POST", "path_prefix": "/rest/api/3/issue", "kind": "store_then_drop"}),
    );
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "  dedupe: build-77\n", "90s"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tickets(&sandbox), 1, "{}", run.stderr);
    assert_eq!(run.field("created"), true);
    assert_eq!(run.field("issue_key"), "OPS-1");
    assert!(run.stderr.contains("ambiguously"), "{}", run.stderr);
    record(
        "create stored, connection dropped (search lag 3 s)",
        &run,
        "1 ticket",
    );
}

#[test]
fn create_answered_after_the_request_timeout_makes_exactly_one_ticket() {
    let sandbox = SandboxProc::cloud(&["--search-lag", "3s", "--approve-after", "1s"]);
    // Stored at once, answered after 4 s: the step gave up after 2 s.
    sandbox.add_faults(&json!({"method": "POST", "path_prefix": "/rest/api/3/issue", "kind": "late", "delay_ms": 4000}));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("2s", "  dedupe: build-78\n", "90s"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tickets(&sandbox), 1, "{}", run.stderr);
    assert!(run.stderr.contains("ambiguously"), "{}", run.stderr);
    eprintln!("{}", run.stderr);
    record(
        "create answered after request_timeout (search lag 3 s)",
        &run,
        "1 ticket",
    );
}

#[test]
fn rerun_with_the_same_dedupe_key_reuses_the_ticket_and_its_status() {
    let sandbox = SandboxProc::cloud(&["--search-lag", "3s"]);
    let work = Workdir::new();
    let write_only = connection("5s") + &ticket("  dedupe: build-79\n");
    let first = gate(&work, &sandbox.base, &write_only, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.field("created"), true);
    let key = first.field("issue_key").as_str().unwrap().to_owned();
    sandbox.set_status(&key, "Approved");
    std::thread::sleep(Duration::from_millis(3500));
    let again = gate(
        &work,
        &sandbox.base,
        &stanza("5s", "  dedupe: build-79\n", "60s"),
        &[],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.field("created"), false);
    assert_eq!(again.field("issue_key"), key.as_str());
    assert_eq!(again.field("polls"), 1);
    assert!(
        again.elapsed < Duration::from_secs(3),
        "{:?}",
        again.elapsed
    );
    assert_eq!(tickets(&sandbox), 1);
    record("re-run, ticket already Approved", &again, "reused, 1 poll");

    sandbox.set_status(&key, "Rejected");
    std::thread::sleep(Duration::from_millis(3500));
    let rejected = gate(
        &work,
        &sandbox.base,
        &stanza("5s", "  dedupe: build-79\n", "60s"),
        &[],
    );
    assert_eq!(rejected.code, 3, "{}", rejected.stderr);
    assert_eq!(tickets(&sandbox), 1);
    record("re-run, ticket already Rejected", &rejected, "reused");
}

#[test]
fn transition_answered_ambiguously_is_not_an_error() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "4s"]);
    sandbox.add_faults(&json!({"method": "POST", "path_prefix": "/rest/api/3/issue/OPS-1/transitions", "kind": "store_then_drop"}));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "", "60s"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tickets(&sandbox), 1);
    record("transition applied, answer lost", &run, "");
}

#[test]
fn comment_answered_ambiguously_is_not_repeated_nor_fatal() {
    // A comment without a transition goes on its own request (with one, it rides along).
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Deploy", &[]);
    sandbox.set_status(&key, "Approved");
    sandbox.add_faults(&json!({"method": "POST", "path_prefix": "/rest/api/3/issue/OPS-1/comment", "kind": "store_then_drop"}));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &(connection("5s")
            + &format!("ticket:\n  key: {key}\n  comment: waiting\n")
            + &approval("60s")),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tickets(&sandbox), 1);
    assert_eq!(
        requests(&sandbox, "POST", "/rest/api/3/issue/OPS-1/comment").len(),
        1,
        "a comment of unknown fate is not repeated"
    );
    assert!(
        run.stderr.contains("may or may not have been posted"),
        "{}",
        run.stderr
    );
    record("comment stored, answer lost", &run, "warned, not repeated");
}

// ---------------------------------------------------------------------------------------------
// Promise 4: decisions only on a fresh read; a deleted ticket is an error.

#[test]
fn ticket_deleted_mid_wait_exits_5_saying_so() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    let started = Instant::now();
    let child = spawn(&work, &sandbox.base, &stanza("5s", "", "60s"), &[]);
    while tickets(&sandbox) == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "no ticket");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    let deleted = Instant::now();
    assert!(sandbox.delete_issue("OPS-1") < 300);
    let run = work.finish(&child.wait_with_output().unwrap(), deleted);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("deleted"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    assert_eq!(tickets(&sandbox), 0);
    record("ticket deleted mid-wait", &run, "time after the delete");
}

// ---------------------------------------------------------------------------------------------
// Promise 5: the timeout is a hard bound.

/// A create-and-wait step with `timeout` whose every poll hangs for a minute.
fn hanging_polls(timeout: &str) -> (SandboxProc, Run) {
    let sandbox = SandboxProc::cloud(&[]);
    sandbox.add_faults(&json!([pass_transitions(), {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "delay", "delay_ms": 60000, "times": 100}]));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("60s", "", timeout),
        &[],
    );
    (sandbox, run)
}

#[test]
fn timeout_holds_while_a_request_hangs() {
    let (sandbox, run) = hanging_polls("6s");
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.field("decision"), "timeout");
    assert!(
        run.elapsed >= Duration::from_secs(6) && run.elapsed < Duration::from_secs(9),
        "{:?}",
        run.elapsed
    );
    assert_eq!(tickets(&sandbox), 1);
    record("timeout 6s while every read hangs 60 s", &run, "");
}

#[test]
fn timeout_holds_while_retry_after_would_carry_past_it() {
    let sandbox = SandboxProc::cloud(&[]);
    sandbox.add_faults(&json!([pass_transitions(), {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "status", "status": 429, "retry_after": "120", "times": 100}]));
    let run = gate(&Workdir::new(), &sandbox.base, &stanza("5s", "", "6s"), &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.elapsed >= Duration::from_secs(6) && run.elapsed < Duration::from_secs(9),
        "{:?}",
        run.elapsed
    );
    record("timeout 6s vs Retry-After: 120", &run, "");
}

// ---------------------------------------------------------------------------------------------
// Promise 6: cancellation.

/// A rule that lets the one `GET …/transitions` of the write phase through untouched, so that the
/// next rule on `/issue/OPS-1` hits the wait's reads only.
fn pass_transitions() -> Value {
    json!({"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1/transitions", "kind": "delay", "delay_ms": 0})
}

fn cancel_with(signal: &str, hang: bool) {
    let sandbox = SandboxProc::cloud(&[]);
    if hang {
        sandbox.add_faults(&json!([pass_transitions(), {"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1", "kind": "delay", "delay_ms": 60000, "times": 100}]));
    }
    let work = Workdir::new();
    let child = spawn(&work, &sandbox.base, &stanza("30s", "", "60s"), &[]);
    std::thread::sleep(Duration::from_secs(3));
    let signalled = Instant::now();
    Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    let run = work.finish(&child.wait_with_output().unwrap(), signalled);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(2), "{:?}", run.elapsed);
    assert_eq!(run.field("decision"), "cancelled");
    assert_eq!(run.field("issue_key"), "OPS-1");
    assert!(
        run.stderr.contains(&format!("SIG{signal} received")),
        "{}",
        run.stderr
    );
    assert_eq!(tickets(&sandbox), 1);
    record(
        &format!(
            "SIG{signal} mid-wait{}",
            if hang { " during a hanging read" } else { "" }
        ),
        &run,
        "time after the signal",
    );
}

#[test]
fn sigterm_during_the_write_phase_reports_the_created_ticket() {
    let sandbox = SandboxProc::cloud(&[]);
    sandbox.add_faults(&json!({"method": "GET", "path_prefix": "/rest/api/3/issue/OPS-1/transitions", "kind": "delay", "delay_ms": 60000, "times": 100}));
    let work = Workdir::new();
    let child = spawn(&work, &sandbox.base, &stanza("30s", "", "60s"), &[]);
    std::thread::sleep(Duration::from_secs(2));
    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let run = work.finish(&child.wait_with_output().unwrap(), signalled);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(2), "{:?}", run.elapsed);
    assert_eq!(tickets(&sandbox), 1);
    assert_eq!(
        run.field("issue_key"),
        "OPS-1",
        "the created ticket is reported"
    );
    assert_eq!(run.field("created"), true);
    record(
        "SIGTERM after the create, before the transition",
        &run,
        "key reported",
    );
}

#[test]
fn sigterm_mid_wait_exits_6() {
    cancel_with("TERM", false);
}

#[test]
fn sigint_mid_wait_exits_6() {
    cancel_with("INT", false);
}

#[test]
fn sigterm_during_a_hanging_request_exits_6() {
    cancel_with("TERM", true);
}

// ---------------------------------------------------------------------------------------------
// Promise 7: secrets.

#[test]
fn secrets_stay_out_of_verbose_json_dry_run_and_error_output() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = Workdir::new();
    let step = stanza("5s", "  comment: hello\n", "30s");
    for (extra, env) in [
        (&["-vv"][..], &[][..]),
        (&["-vv", "--log-format", "json"][..], &[][..]),
        (&["--dry-run", "-vv"][..], &[][..]),
        (&[][..], &[("RUST_LOG", "trace")][..]),
    ] {
        let run = gate_env(&work, &sandbox.base, &step, extra, env);
        assert!(
            matches!(run.code, 0 | 4),
            "{extra:?} {env:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.is_empty());
        record(&format!("no secret with {extra:?} {env:?}"), &run, "");
    }
    // The token interpolated into another field: `--dry-run` prints the write with `***`
    // (the run's secret check fails the test on any copy of it).
    let leaky = step.replace(
        "summary: Deploy checkout-api 1.4.2",
        "summary: \"tok ${JIRA_API_TOKEN}\"",
    );
    assert_ne!(leaky, step, "the stanza has no summary line to change");
    let run = gate_env(&work, &sandbox.base, &leaky, &["--dry-run", "-vv"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("tok ***"), "{}", run.stdout);
    record(
        "no secret in a --dry-run line that interpolates it",
        &run,
        "",
    );
    // An error: Jira refuses the credentials.
    let run = gate_env(
        &work,
        &sandbox.base,
        &step,
        &["-vv"],
        &[("JIRA_API_TOKEN", "sandbox-token-wrong")],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(!run.stderr.contains("wrong"), "{}", run.stderr);
    record("no secret in a 401 error at -vv", &run, "");
}

#[test]
fn literal_token_warns_and_token_file_works() {
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    let literal = format!(
        "jira:\n  url: ${{JIRA_URL}}\n  auth: {{ type: basic, username: {USER}, token: {TOKEN} }}\n"
    ) + &ticket("");
    let run = gate(&work, &sandbox.base, &literal, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("written literally"), "{}", run.stderr);
    record("literal token in the stanza", &run, "warning, no echo");

    let token_file = work.write("token", format!("{TOKEN}\n"));
    let from_file = format!(
        "jira:\n  url: ${{JIRA_URL}}\n  auth: {{ type: basic, username: {USER}, token_file: {} }}\n",
        token_file.display()
    ) + &ticket("");
    let run = gate(&work, &sandbox.base, &from_file, &["-vv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("literally"), "{}", run.stderr);
    record("token_file", &run, "");
    assert_eq!(tickets(&sandbox), 2);
}

// ---------------------------------------------------------------------------------------------
// Promise 8: transport.

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let work = Workdir::new();
    let run = gate(
        &work,
        "http://jira.example.com",
        &stanza("5s", "", "30s"),
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("plain http"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(2));
    record("plain http to a non-loopback host", &run, "");
}

/// A small HTTP server on `listener`: `answer` turns each request's first line into a whole raw
/// HTTP response; every request head is remembered.
fn serve(
    listener: TcpListener,
    answer: impl Fn(&str) -> String + Send + 'static,
) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let reply = answer(head.lines().next().unwrap_or_default());
            log.lock().unwrap().push(head);
            let mut stream = stream;
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    seen
}

/// A raw HTTP/1.1 response that closes the connection.
fn http_reply(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut reply = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        reply.push_str(&format!("{name}: {value}\r\n"));
    }
    reply.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    reply
}

/// An HTTP server that answers 200 `{}` and remembers each request head.
fn recorder() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = serve(listener, |_| {
        http_reply("200 OK", &[("content-type", "application/json")], "{}")
    });
    (port, seen)
}

#[test]
fn redirects_to_another_host_are_not_followed_with_credentials() {
    let sandbox = SandboxProc::cloud(&[]);
    let (port, seen) = recorder();
    sandbox.add_faults(&json!({"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "status", "status": 302,
        "headers": {"Location": format!("http://localhost:{port}/rest/api/2/serverInfo")}, "times": 10}));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "", "30s"),
        &[],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("redirected to another host"),
        "{}",
        run.stderr
    );
    let heads = seen.lock().unwrap().clone();
    assert!(
        heads
            .iter()
            .all(|h| !h.to_ascii_lowercase().contains("authorization")),
        "credentials sent to the other host: {heads:?}"
    );
    assert!(heads.is_empty(), "followed the redirect: {heads:?}");
    assert_eq!(requests(&sandbox, "GET", "/rest/api/2/serverInfo").len(), 1);
    record("302 to another host", &run, "not followed");
}

#[test]
fn a_redirect_loop_fails_fast() {
    let sandbox = SandboxProc::cloud(&[]);
    let here = format!("{}/rest/api/2/serverInfo", sandbox.base);
    sandbox.add_faults(&json!({"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "status", "status": 302,
        "headers": {"Location": here}, "times": 1000}));
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "", "30s"),
        &[],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("redirect"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
    let hits = requests(&sandbox, "GET", "/rest/api/2/serverInfo").len();
    assert!(hits <= 6, "{hits} requests");
    record(
        "302 loop on the same host",
        &run,
        &format!("{hits} requests"),
    );
}

/// Peak resident memory of a running process, in KiB, from `/proc`.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn huge_response_bodies_are_capped() {
    let sandbox = SandboxProc::cloud(&[]);
    sandbox.add_faults(
        &json!({"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "huge", "times": 10}),
    );
    let work = Workdir::new();
    let started = Instant::now();
    let child = spawn(&work, &sandbox.base, &stanza("30s", "", "60s"), &[]);
    let pid = child.id();
    let mut peak = 0;
    let watcher = std::thread::spawn(move || {
        while let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    let run = work.finish(&child.wait_with_output().unwrap(), started);
    let peak = watcher.join().unwrap();
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("larger than 8 MiB"), "{}", run.stderr);
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    record(
        "1 GiB response body",
        &run,
        &format!("capped at 8 MiB; peak RSS {} MiB", peak / 1024),
    );
}

// ---------------------------------------------------------------------------------------------
// Promise 9: bad input.

/// The most a refusal of bad input may take, start-up included.
const HOSTILE_INPUT_BUDGET: Duration = Duration::from_secs(15);

#[test]
fn hostile_stanzas_exit_2_quickly() {
    let work = Workdir::new();
    let base = connection("5s") + &ticket("") + &approval("30s");
    let mut nested = String::from("approval:\n  approve_when: ");
    nested.push_str(&"{ all: [ ".repeat(5000));
    let bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    let bomb_in_fields = base.replace(
        "  transition: Request approval\n",
        "  transition: Request approval\n  fields:\n    x: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n    y: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n    z: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n    w: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n    v: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n    u: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n    t: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
    );
    let mut huge = base.clone();
    huge.push_str(&format!("# {}\n", "x".repeat(300 * 1024)));
    let mut nul = base.clone().into_bytes();
    nul.splice(10..10, [0u8]);
    let mut bad_utf8 = base.clone().into_bytes();
    bad_utf8.splice(40..40, [0xff, 0xfe]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("huge stanza (300 KiB)", huge.into_bytes(), "at most"),
        ("5000 levels of nesting", nested.into_bytes(), "recursion"),
        (
            "billion laughs at the top",
            bomb.as_bytes().to_vec(),
            "error",
        ),
        (
            "billion laughs in ticket.fields",
            bomb_in_fields.into_bytes(),
            "repetition limit",
        ),
        ("NUL byte", nul, "NUL"),
        ("invalid UTF-8", bad_utf8, "UTF-8"),
    ];
    for (name, bytes, message) in cases {
        for subcommand in ["validate", "run"] {
            work.write("bad.yml", &bytes);
            let run = work.run(command(&work, "http://127.0.0.1:9").args([subcommand, "bad.yml"]));
            assert_eq!(run.code, 2, "{name} ({subcommand}):\n{}", run.stderr);
            assert!(
                run.stderr.to_lowercase().contains(&message.to_lowercase()),
                "{name} ({subcommand}):\n{}",
                run.stderr
            );
            assert!(
                run.stderr.len() < 4000,
                "{name}: {} bytes of stderr",
                run.stderr.len()
            );
            // "Quickly" means no expansion and no network: an expanded alias bomb takes minutes
            // and gigabytes, a recursion without a limit crashes (not exit 2). The bound leaves
            // room for a debug build starting on a loaded machine (4.2 s was seen for the
            // nesting case with two cores shared by several builds).
            assert!(
                run.elapsed < HOSTILE_INPUT_BUDGET,
                "{name}: {:?}",
                run.elapsed
            );
            if subcommand == "run" {
                record(&format!("bad input: {name}"), &run, message);
            }
        }
    }
}

#[test]
fn an_endless_stdin_is_refused_without_reading_it_all() {
    let work = Workdir::new();
    let run = work.run(
        command(&work, "http://127.0.0.1:9")
            .args(["validate", "-"])
            .stdin(std::fs::File::open("/dev/zero").unwrap()),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("at most"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
    record("bad input: endless stdin (/dev/zero)", &run, "");

    let run = work.run(command(&work, "http://127.0.0.1:9").args(["validate", "/dev/zero"]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
    record("bad input: FILE is /dev/zero", &run, "");
}

#[test]
fn hostile_interpolated_values_are_refused_or_sent_safely() {
    let sandbox = SandboxProc::cloud(&["--search-lag", "1s"]);
    let work = Workdir::new();
    let step = connection("5s")
        + "ticket:\n  project: ${PROJECT}\n  type: Change\n  summary: ${SUMMARY}\n  description: ${SUMMARY}\n  dedupe: ${DEDUPE}\n";
    let dedupe = "x\" OR labels = \"y\\\\ \n\t' AND";
    let summary = "Deploy \"quoted\" \\ back\\slash 'single' {\"json\": 1} $$";
    let env = [("PROJECT", "OPS"), ("SUMMARY", summary), ("DEDUPE", dedupe)];
    let first = gate_env(&work, &sandbox.base, &step, &[], &env);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.field("created"), true);
    let issues = sandbox.issues();
    assert_eq!(issues.len(), 1);
    let stored = issues[0].to_string();
    let escaped = serde_json::to_string(summary).unwrap();
    assert!(stored.contains(&escaped[1..escaped.len() - 1]), "{stored}");
    std::thread::sleep(Duration::from_millis(1500));
    let again = gate_env(&work, &sandbox.base, &step, &[], &env);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.field("created"), false, "{}", again.stderr);
    assert_eq!(tickets(&sandbox), 1);
    record(
        "quotes, backslashes, newline in dedupe/summary",
        &again,
        "rerun found the ticket",
    );

    for (name, project, summary) in [
        ("project with a quote", "OPS\" OR project = \"X", "ok"),
        ("project with a newline", "OPS\nX", "ok"),
        ("summary with a newline", "OPS", "line one\nline two"),
    ] {
        let run = gate_env(
            &work,
            &sandbox.base,
            &step,
            &[],
            &[("PROJECT", project), ("SUMMARY", summary), ("DEDUPE", "z")],
        );
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        record(&format!("bad input: {name}"), &run, "refused");
    }
    assert_eq!(tickets(&sandbox), 1);
}

// ---------------------------------------------------------------------------------------------
// Issue 8: login pages, unreachable hosts, the hard deadline, CAPTCHA and proxy authentication.

/// The login form an SSO gateway or Jira's own `login.jsp` serves.
const LOGIN_PAGE: &str = "<!DOCTYPE html><html><head><title>Log in - Example SSO</title></head><body><form method=\"post\" action=\"/login.jsp\"><input name=\"os_username\"><input type=\"password\" name=\"os_password\"></form></body></html>";

/// How a server in front of Jira answers REST calls, given its own port.
type Answer = Box<dyn Fn(u16) -> String + Send>;

/// A server in front of Jira that answers every REST call with `rest` and `/login.jsp` with the
/// login form.
fn login_gateway(
    rest: impl Fn(u16) -> String + Send + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = serve(listener, move |line| {
        if line.contains(" /login.jsp") {
            http_reply(
                "200 OK",
                &[("content-type", "text/html;charset=UTF-8")],
                LOGIN_PAGE,
            )
        } else {
            rest(port)
        }
    });
    (format!("http://127.0.0.1:{port}"), seen)
}

#[test]
fn html_login_pages_fail_at_once_without_a_retry() {
    let page = |_| {
        http_reply(
            "200 OK",
            &[("content-type", "text/html;charset=UTF-8")],
            LOGIN_PAGE,
        )
    };
    let same_host = |port| {
        http_reply(
            "302 Found",
            &[(
                "location",
                &format!(
                    "http://127.0.0.1:{port}/login.jsp?os_destination=%2Frest%2Fapi%2F2%2FserverInfo"
                ),
            )],
            "",
        )
    };
    let sso = |_| {
        http_reply(
            "302 Found",
            &[(
                "location",
                "https://sso.example.com/adfs/ls/?SAMLRequest=fZJNT8MwDIb",
            )],
            "",
        )
    };
    let cases: [(&str, Answer, &str, usize); 3] = [
        (
            "200 text/html login page",
            Box::new(page),
            "/rest/api/2/serverInfo",
            1,
        ),
        (
            "302 to login.jsp on the same host",
            Box::new(same_host),
            "/login.jsp",
            2,
        ),
        (
            "302 to an SSO host",
            Box::new(sso),
            "https://sso.example.com/adfs/ls/",
            1,
        ),
    ];
    for (name, rest, final_url, hits) in cases {
        let (url, seen) = login_gateway(rest);
        let run = gate(&Workdir::new(), &url, &stanza("5s", "", "20s"), &[]);
        assert_eq!(run.code, 5, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("Jira answered an HTML login page")
                && run
                    .stderr
                    .contains("SSO or a proxy is in front of the REST API")
                && run.stderr.contains(final_url),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("retrying"), "{name}: {}", run.stderr);
        assert_eq!(
            seen.lock().unwrap().len(),
            hits,
            "{name}: credentials resent"
        );
        assert!(
            run.elapsed < Duration::from_secs(3),
            "{name}: {:?}",
            run.elapsed
        );
        assert_eq!(run.field("decision"), "error");
        record(&format!("HTML login: {name}"), &run, "no retry");
    }
}

/// A web server where Jira should be (a wrong `jira.url`): an ordinary page, no login form, with
/// or without an HTML content type. Before Jira ever answered JSON it is no hiccup: exit 5 at once.
#[test]
fn a_web_page_instead_of_jira_fails_at_once() {
    let cases: [(&str, &'static str); 2] = [
        ("text/html", "text/html"),
        (
            "an HTML body sent as octet-stream",
            "application/octet-stream",
        ),
    ];
    for (name, content_type) in cases {
        let (url, seen) = login_gateway(move |_| {
            http_reply(
                "200 OK",
                &[("content-type", content_type)],
                "<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>",
            )
        });
        let run = gate(&Workdir::new(), &url, &stanza("5s", "", "20s"), &["-q"]);
        assert_eq!(run.code, 5, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("answered a web page (HTTP 200")
                && run
                    .stderr
                    .contains("jira.url does not point at Jira's REST API"),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("retrying"), "{name}: {}", run.stderr);
        assert_eq!(seen.lock().unwrap().len(), 1, "{name}: one request");
        assert!(
            run.elapsed < Duration::from_secs(3),
            "{name}: {:?}",
            run.elapsed
        );
        assert_eq!(run.field("decision"), "error");
        record(
            &format!("web page instead of Jira: {name}"),
            &run,
            "no retry",
        );
    }
}

#[test]
fn an_unreachable_host_gives_up_after_the_connect_budget() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let step = connection("5s") + "  connect_budget: 3s\n" + &ticket("") + &approval("60s");
    let run = gate(&Workdir::new(), &url, &step, &["-q"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert_eq!(run.field("decision"), "error");
    assert!(
        run.elapsed >= Duration::from_secs(3) && run.elapsed < Duration::from_millis(3500),
        "{:?}",
        run.elapsed
    );
    // Every retry says what failed, also under -q; the error names the host and the cause.
    let retries = run.stderr.matches("cannot connect").count();
    assert!(retries >= 3, "{retries} lines:\n{}", run.stderr);
    let message = run.field("message").as_str().unwrap();
    assert!(
        message.contains(&format!("127.0.0.1:{port}"))
            && message.contains("onnection refused")
            && message.contains("jira.connect_budget"),
        "{message}"
    );
    record(
        "closed port, connect_budget 3s, timeout 60s",
        &run,
        &format!("{retries} retries logged under -q"),
    );
}

#[test]
fn a_host_that_does_not_resolve_fails_after_three_tries() {
    let run = gate(
        &Workdir::new(),
        "https://jira-gate-test.invalid",
        &stanza("5s", "", "60s"),
        &[],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    let message = run.field("message").as_str().unwrap();
    assert!(
        message.contains("jira-gate-test.invalid") && message.contains("does not resolve"),
        "{message}"
    );
    assert_eq!(
        run.stderr.matches("retrying in").count(),
        2,
        "{}",
        run.stderr
    );
    record("DNS name that does not resolve", &run, "3 tries");
}

#[test]
fn the_timeout_ends_the_step_within_half_a_second() {
    let half = Duration::from_millis(500);
    let port = free_port();
    let run = gate(
        &Workdir::new(),
        &format!("http://127.0.0.1:{port}"),
        &stanza("5s", "", "60s"),
        &["--timeout", "5s"],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert_eq!(run.field("decision"), "error");
    assert!(
        run.elapsed <= Duration::from_secs(5) + half,
        "{:?}",
        run.elapsed
    );
    record("closed port, --timeout 5s", &run, "bound 5.5 s");

    let (_sandbox, run) = hanging_polls("8s");
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.field("decision"), "timeout");
    assert_eq!(run.field("issue_key"), "OPS-1");
    assert!(
        run.elapsed >= Duration::from_secs(8) && run.elapsed <= Duration::from_secs(8) + half,
        "{:?}",
        run.elapsed
    );
    record("timeout 8s while every poll hangs", &run, "bound 8.5 s");
}

/// Runs a create-and-wait step against `sandbox` with `rule` added; expects exit 5 and returns the
/// result's message.
fn failing_message(sandbox: &SandboxProc, rule: &Value, row: &str) -> String {
    sandbox.add_faults(rule);
    let run = gate(
        &Workdir::new(),
        &sandbox.base,
        &stanza("5s", "", "20s"),
        &[],
    );
    assert_eq!(run.code, 5, "{row}: {}", run.stderr);
    record(row, &run, "");
    run.field("message").as_str().unwrap().to_owned()
}

#[test]
fn captcha_and_proxy_authentication_are_named() {
    let sandbox = SandboxProc::cloud(&[]);
    let login = format!("{}/login.jsp", sandbox.base);
    let captcha = json!({"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "status", "status": 403,
        "headers": {"X-Authentication-Denied-Reason": format!("CAPTCHA_CHALLENGE; login-url={login}")}});
    let message = failing_message(&sandbox, &captcha, "403 CAPTCHA_CHALLENGE");
    assert!(
        message.contains("CAPTCHA")
            && message.contains(&login)
            && !message.contains("refused the credentials"),
        "{message}"
    );

    let proxy_auth = json!({"method": "GET", "path_prefix": "/rest/api/2/serverInfo", "kind": "status", "status": 407,
        "headers": {"Proxy-Authenticate": "Basic realm=\"proxy\""}});
    let message = failing_message(&sandbox, &proxy_auth, "407 from a plain-http proxy");
    assert!(
        message.contains("proxy") && message.contains("HTTPS_PROXY"),
        "{message}"
    );

    // Through HTTPS_PROXY, the proxy refuses the CONNECT tunnel itself.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = serve(listener, |_| {
        http_reply(
            "407 Proxy Authentication Required",
            &[("proxy-authenticate", "Basic realm=\"proxy\"")],
            "",
        )
    });
    let run = gate_env(
        &Workdir::new(),
        "https://jira.example.com",
        &stanza("5s", "", "20s"),
        &[],
        &[("HTTPS_PROXY", &proxy)],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
    assert_eq!(seen.lock().unwrap().len(), 1, "the CONNECT was retried");
    let message = run.field("message").as_str().unwrap();
    assert!(
        message.contains("proxy") && message.contains("HTTPS_PROXY"),
        "{message}"
    );
    record("407 on CONNECT through HTTPS_PROXY", &run, "1 try");
}
