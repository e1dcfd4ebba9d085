//! `jira-gate sandbox` as a user starts it: the URL it prints, and what it says when the port is
//! taken (issue 8, defect 14).
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::process::{Command, Stdio};

use common::SandboxProc;

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
    let output = Command::new(env!("CARGO_BIN_EXE_jira-gate"))
        .env_clear()
        .args(["sandbox", "--listen", addr])
        .stdin(Stdio::null())
        .output()
        .expect("run jira-gate sandbox");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        output.stdout.is_empty(),
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
}

#[test]
fn demo_names_data_center_in_two_words() {
    let output = Command::new(env!("CARGO_BIN_EXE_jira-gate"))
        .env_clear()
        .args(["demo", "--flavor", "datacenter", "--approve-after", "0s"])
        .stdin(Stdio::null())
        .output()
        .expect("run jira-gate demo");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .starts_with("jira-gate demo: a sandbox Jira (Data Center) runs at http://127.0.0.1:"),
        "{stderr}"
    );
}
