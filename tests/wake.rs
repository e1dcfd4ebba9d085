//! `approval.wake` end to end (issue 12, SPEC section 10): the real binary's webhook listener,
//! fed by the sandbox's own webhook sender (`--webhook`) or by signed posts from the test.
#![cfg(feature = "sandbox")]

mod common;

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::SandboxProc;
use common::run::Workdir;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SECRET: &str = "hook-s3cret-value";

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().port()
}

fn jira_block() -> &'static str {
    "jira:\n  url: ${JIRA_URL}\n  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n  request_timeout: 5s\n"
}

/// A stanza for `ticket` waiting on Approved / Rejected with a wake listener on `port`.
fn stanza(ticket: &str, port: u16, gaps: &str) -> String {
    format!(
        "{}ticket:\n{ticket}approval:\n  approve_when: {{ status: [Approved] }}\n  reject_when: {{ status: Rejected }}\n{gaps}  timeout: 2m\n  wake:\n    listen: '127.0.0.1:{port}'\n    secret: ${{HOOK_SECRET}}\n",
        jira_block()
    )
}

const CREATE: &str =
    "  project: OPS\n  type: Change\n  summary: Deploy\n  transition: Request approval\n";
const SLOW: &str = "  interval: 1m\n  max_interval: 1m\n";

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn event(key: &str) -> String {
    format!(
        r#"{{"webhookEvent":"jira:issue_updated","timestamp":1,"issue":{{"id":"1","key":"{key}","fields":{{"status":{{"name":"Approved"}}}}}}}}"#
    )
}

/// POSTs `body` to the listener with `signature` (none when `None`); the status, 0 when the
/// connection failed.
fn post(port: u16, path: &str, body: &str, signature: Option<&str>) -> u16 {
    let client = reqwest::blocking::Client::new();
    let mut request = client
        .post(format!("http://127.0.0.1:{port}{path}"))
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature", signature);
    }
    request.send().map_or(0, |r| r.status().as_u16())
}

fn refused(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

/// GETs of `key` the sandbox answered.
fn reads(sandbox: &SandboxProc, key: &str) -> usize {
    sandbox
        .requests()
        .iter()
        .filter(|r| {
            r["method"] == "GET"
                && r["path"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/issue/{key}"))
        })
        .count()
}

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(20), "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the step to its end.
fn gate(work: &Workdir, sandbox: &SandboxProc, text: &str) -> common::run::Run {
    work.write("step.yml", text);
    work.run(work.command_for(sandbox).env("HOOK_SECRET", SECRET).args([
        "run",
        "step.yml",
        "--result-file",
        "result.json",
    ]))
}

fn spawn(work: &Workdir, sandbox: &SandboxProc, text: &str) -> Child {
    work.write("step.yml", text);
    work.command_for(sandbox)
        .env("HOOK_SECRET", SECRET)
        .args(["run", "step.yml", "--result-file", "result.json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A sandbox where Alice approves 2s after the request, posting its events to port `port`.
fn approving_sandbox(port: u16, extra: &[&str]) -> SandboxProc {
    let hook = format!("http://127.0.0.1:{port}/jira-gate");
    let args = [
        "--approve-after",
        "2s",
        "--webhook",
        &hook,
        "--webhook-secret",
        SECRET,
    ];
    SandboxProc::cloud(&[&args[..], extra].concat())
}

/// Sends SIGTERM to `child` while signed events about `key` keep arriving on `port`; its output.
fn stop_while_events_arrive(child: Child, port: u16, key: &str) -> std::process::Output {
    let body = event(key);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                post(port, "/jira-gate", &body, Some(&sign(body.as_bytes())));
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    output
}

/// Posts a body over 1 MiB with its length announced, then one chunked; both are refused (413,
/// or the connection closed while the body was still being sent).
fn send_oversized(port: u16) {
    let big = "x".repeat(1024 * 1024 + 1);
    let client = reqwest::blocking::Client::new();
    let url = format!("http://127.0.0.1:{port}/jira-gate");
    let announced = client.post(&url).body(big.clone()).send();
    let announced = announced.map(|r| r.status().as_u16());
    assert!(matches!(announced, Ok(413) | Err(_)), "{announced:?}");
    // Without a Content-Length (chunked), refused while reading.
    let chunked = reqwest::blocking::Body::new(std::io::Cursor::new(big.into_bytes()));
    // A fresh client: the connection of the refused request above is closed, not for reuse.
    let chunked = reqwest::blocking::Client::new()
        .post(&url)
        .body(chunked)
        .send();
    let chunked = chunked.map(|r| r.status().as_u16());
    assert!(matches!(chunked, Ok(413) | Err(_)), "{chunked:?}");
}

#[test]
fn a_signed_event_wakes_the_step_long_before_the_next_poll() {
    let port = free_port();
    let sandbox = approving_sandbox(port, &[]);
    let work = Workdir::new();
    let run = gate(&work, &sandbox, &stanza(CREATE, port, SLOW));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("decision"), "approved");
    // Alice approves 2s after the transition; the next poll would come 30s to 60s later.
    assert!(
        run.elapsed < Duration::from_secs(8),
        "decided {:?} after the start, with interval 1m",
        run.elapsed
    );
    assert!(
        run.stderr
            .contains("webhook: jira:issue_updated about OPS-1; reading it now"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "listening for Jira webhooks on http://127.0.0.1:{port}/jira-gate"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(SECRET) && !run.stdout.contains(SECRET));
    assert!(refused(port), "the port is closed after the step");
}

#[test]
fn a_lost_event_is_caught_by_polling() {
    let port = free_port();
    let sandbox = approving_sandbox(port, &["--webhook-drop", "1.0"]);
    let work = Workdir::new();
    let run = gate(
        &work,
        &sandbox,
        &stanza(CREATE, port, "  interval: 1s\n  max_interval: 2s\n"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("decision"), "approved");
    assert!(!run.stderr.contains("webhook: "), "{}", run.stderr);
    assert!(refused(port));
}

#[test]
fn only_verified_events_about_the_issue_wake_and_sigterm_still_ends_with_6() {
    let port = free_port();
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Deploy", &[]);
    let work = Workdir::new();
    let child = spawn(
        &work,
        &sandbox,
        &stanza(&format!("  key: {key}\n"), port, SLOW),
    );
    // The wait has begun after two reads: the step's read of the ticket it updates, then the
    // wait's first read (an update is read at once); then comes a gap of 30s or more. Waiting for
    // the first read alone let the second land after `before` on a loaded machine (issue 13).
    until("the wait's first read", || reads(&sandbox, &key) >= 2);
    let before = reads(&sandbox, &key);

    let body = event(&key);
    assert_eq!(post(port, "/jira-gate", &body, None), 401, "no signature");
    assert_eq!(
        post(port, "/jira-gate", &body, Some(&sign(b"another body"))),
        401,
        "a signature of another body"
    );
    let other = event("OPS-999");
    assert_eq!(
        post(port, "/jira-gate", &other, Some(&sign(other.as_bytes()))),
        202
    );
    assert_eq!(
        post(port, "/elsewhere", &body, Some(&sign(body.as_bytes()))),
        404
    );
    let status = reqwest::blocking::get(format!("http://127.0.0.1:{port}/jira-gate"))
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 405);
    send_oversized(port);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(reads(&sandbox, &key), before, "nothing above woke a read");

    // A burst of five signed events costs one read (the wait settles for `DEBOUNCE`, 200 ms,
    // first): sent on one kept-alive connection, so that the burst takes milliseconds.
    let client = reqwest::blocking::Client::new();
    let signature = sign(body.as_bytes());
    for _ in 0..5 {
        let answer = client
            .post(format!("http://127.0.0.1:{port}/jira-gate"))
            .header("X-Hub-Signature", &signature)
            .body(body.clone())
            .send()
            .unwrap();
        assert_eq!(answer.status().as_u16(), 202);
    }
    until("the woken read", || reads(&sandbox, &key) > before);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(reads(&sandbox, &key), before + 1, "one read for the burst");

    // Events keep coming while the step is stopped.
    let signalled = Instant::now();
    let output = stop_while_events_arrive(child, port, &key);
    let run = work.finish(&output, signalled);
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
    assert_eq!(run.field("decision"), "cancelled");
    assert!(
        run.stderr
            .contains("no signature or token header; answered 401, not waking")
            && run
                .stderr
                .contains("a signature or token that does not verify; answered 401"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "webhook: jira:issue_updated about OPS-999, not {key}; ignored"
        )),
        "{}",
        run.stderr
    );
    for refusal in [
        "refused a body announced over 1 MiB",
        "refused a body over 1 MiB",
    ] {
        assert!(run.stderr.contains(refusal), "{refusal}: {}", run.stderr);
    }
    assert!(!run.stderr.contains(SECRET));
    assert!(refused(port), "the port is closed after the step");
}

#[test]
fn a_taken_port_is_exit_2_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let sandbox = SandboxProc::cloud(&[]);
    let work = Workdir::new();
    let run = gate(&work, &sandbox, &stanza(CREATE, port, SLOW));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "cannot listen for Jira webhooks on 127.0.0.1:{port}"
        )),
        "{}",
        run.stderr
    );
    assert!(sandbox.issues().is_empty(), "nothing was written");
}

/// `check` prints what a Jira admin registers: the URL (0.0.0.0 to be replaced), the JQL filter,
/// and the Automation rule with the token's variable, never its value.
#[test]
fn check_prints_the_webhook_and_the_automation_rule() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Deploy", &[]);
    let work = Workdir::new();
    let token_stanza = format!(
        "{}ticket:\n  key: {key}\napproval:\n  approve_when: {{ status: Approved }}\n  wake:\n    listen: '0.0.0.0:8080'\n    path: /hooks/gate\n    token: ${{HOOK_TOKEN}}\n",
        jira_block()
    );
    work.write("step.yml", &token_stanza);
    let check = |work: &Workdir| {
        work.run(
            work.command_for(&sandbox)
                .env("HOOK_TOKEN", SECRET)
                .env("HOOK_SECRET", SECRET)
                .args(["check", "step.yml"]),
        )
    };
    let run = check(&work);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = format!("{}{}", run.stdout, run.stderr);
    for line in [
        "wake: webhook URL to register: http://0.0.0.0:8080/hooks/gate".to_owned(),
        "0.0.0.0 means every address of this runner: replace it with the host name or address at which Jira reaches the runner (in Kubernetes, the Service in front of the Job's pod)".to_owned(),
        format!("wake: JQL filter to register: key = {key}"),
        "wake: Jira Automation rule".to_owned(),
        "When: Issue transitioned".to_owned(),
        format!("If: Issue matches JQL: key = {key}"),
        "Then: Send web request: URL http://0.0.0.0:8080/hooks/gate, HTTP method POST, header X-Jira-Gate-Token: ${HOOK_TOKEN}".to_owned(),
        "web request body: Issue data".to_owned(),
        "jira-gate check: all good".to_owned(),
    ] {
        assert!(out.contains(&line), "{line}: {out}");
    }
    assert!(!out.contains(SECRET), "{out}");
    assert!(run.result.is_none(), "check writes no result file");

    // A ticket to create: the project's filter; a secret: the admin webhook, which signs.
    let port = free_port();
    work.write("step.yml", stanza(CREATE, port, SLOW));
    let run = check(&work);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = format!("{}{}", run.stdout, run.stderr);
    for line in [
        format!("wake: webhook URL to register: http://127.0.0.1:{port}/jira-gate"),
        "is reachable only from this machine".to_owned(),
        "wake: JQL filter to register: project = OPS AND issuetype = Change".to_owned(),
        "Secret: ${HOOK_SECRET}, JQL: project = OPS AND issuetype = Change, events: Issue updated"
            .to_owned(),
    ] {
        assert!(out.contains(&line), "{line}: {out}");
    }
    assert!(
        !out.contains("Automation rule (") && !out.contains(SECRET),
        "{out}"
    );
    assert!(refused(port), "check does not listen");
}
