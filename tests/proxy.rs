//! `HTTP(S)_PROXY` and `NO_PROXY` are honoured: a forward proxy (`tests/support/forward_proxy.py`)
//! sees the step's requests when the variable points at it, and none when `NO_PROXY` exempts the
//! host.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::SandboxProc;
use common::run::{PAT, Workdir};

#[test]
fn proxy_variables_are_honoured() {
    let sandbox = SandboxProc::datacenter(&["--approve-after", "1s"]);
    let work = Workdir::new();
    let log = work.path("proxy.log");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/forward_proxy.py"
    );
    let mut proxy = Command::new("python3")
        .arg(script)
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let mut url = String::new();
    BufReader::new(proxy.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_owned();
    let stanza = "jira:\n  url: ${JIRA_URL}\n  auth: { type: pat, token: '${JIRA_PAT}' }\nticket: { project: OPS, type: Change, summary: via proxy, transition: Request approval }\napproval:\n  approve_when: { status: Approved }\n  interval: 1s\n  max_interval: 1s\n  timeout: 30s\n";
    work.write("step.yml", stanza);
    let run = |extra: &[(&str, &str)]| {
        let run = work.run(
            work.command()
                .env("JIRA_URL", &sandbox.base)
                .env("JIRA_PAT", PAT)
                .envs(extra.iter().copied())
                .args(["run", "step.yml"]),
        );
        (run.code, run.stderr)
    };

    let (code, stderr) = run(&[("HTTP_PROXY", url.as_str())]);
    assert_eq!(code, 0, "{stderr}");
    let seen = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        seen.contains(&format!("GET {}/rest/api/2/serverInfo", sandbox.base)),
        "{seen}"
    );
    assert!(
        seen.contains(&format!("POST {}/rest/api/2/issue", sandbox.base)),
        "{seen}"
    );

    std::fs::write(&log, "").unwrap();
    let (code, stderr) = run(&[("HTTP_PROXY", url.as_str()), ("NO_PROXY", "127.0.0.1")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "",
        "NO_PROXY exempts the host"
    );
    let _ = proxy.kill();
    let _ = proxy.wait();
}
