//! `jira-gate sandbox` as a user starts it: the URL it prints, and what it says when the port is
//! taken (issue 8, defect 14).
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::fs::File;

use common::SandboxProc;
use common::run::{Workdir, jira_gate};

#[test]
fn port_zero_prints_the_url_it_got() {
    let sandbox = SandboxProc::cloud(&[]);
    let port: u16 = sandbox
        .base
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not a loopback URL with a port: {}", sandbox.base));
    assert_ne!(port, 0);
    let info = sandbox.get_json("/rest/api/2/serverInfo", 200);
    assert_eq!(info["baseUrl"], sandbox.base.as_str());
}

#[test]
fn a_taken_port_is_named_with_a_hint() {
    let first = SandboxProc::cloud(&[]);
    let addr = first.base.trim_start_matches("http://");
    let run = Workdir::new().run(jira_gate().args(["sandbox", "--listen", addr]));
    let stderr = run.stderr;
    assert_eq!(run.code, 1, "{stderr}");
    assert!(
        run.stdout.is_empty(),
        "no URL for a sandbox that did not start"
    );
    assert!(
        stderr.starts_with(&format!(
            "jira-gate: error: the sandbox failed: cannot listen on {addr}: "
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("`--listen 127.0.0.1:0` picks a free port"),
        "{stderr}"
    );
    assert!(!stderr.contains("(hint:"), "one hint is enough: {stderr}");
}

#[test]
fn an_unwritable_stdout_is_named_with_a_hint() {
    let full = File::options().write(true).open("/dev/full").unwrap();
    let run = Workdir::new().run(
        jira_gate()
            .args(["sandbox", "--listen", "127.0.0.1:0"])
            .stdout(full),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("jira-gate: error: the sandbox failed: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "No space left on device (os error 28) (hint: the sandbox needs an address it can listen on, `--listen 127.0.0.1:0` picks a free port, and an open, writable stdout for its URL)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn demo_names_data_center_in_two_words() {
    let run = Workdir::new().run(jira_gate().args([
        "demo",
        "--flavor",
        "datacenter",
        "--approve-after",
        "0s",
    ]));
    let stderr = run.stderr;
    assert_eq!(run.code, 0, "{stderr}");
    assert!(
        stderr
            .starts_with("jira-gate demo: a sandbox Jira (Data Center) runs at http://127.0.0.1:"),
        "{stderr}"
    );
}

#[test]
fn the_banner_is_one_json_object_under_log_format_json() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = jira_gate()
        .args(["sandbox", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let mut banner = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let url = url.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let banner: serde_json::Value = serde_json::from_str(&banner)
        .unwrap_or_else(|e| panic!("not one JSON line ({e}): {banner}"));
    assert_eq!(banner["level"], "INFO");
    assert_eq!(banner["url"], url);
    let message = banner["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "jira-gate sandbox: Jira Cloud (REST v3 and v2) at {url}\n  basic auth: "
        )),
        "{message}"
    );
    assert!(message.contains("control endpoints:"), "{message}");
}
