//! TLS is always verified, and `jira.ca_file` adds a trust anchor for an on-premises Jira with a
//! private CA. A CA and a server certificate are made with `openssl`; `tests/support/tls_proxy.py`
//! terminates TLS in front of a sandbox. Both tools are on every Debian CI machine.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::SandboxProc;

struct Proxy(Child, String);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA, and a server certificate for 127.0.0.1 signed by it.
fn make_certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=jira-gate test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

fn start_proxy(dir: &Path, upstream: &str) -> Proxy {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/tls_proxy.py");
    let mut child = Command::new("python3")
        .args([script, "server.pem", "server.key", upstream])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 is installed");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("https://127.0.0.1:"), "{line:?}");
    Proxy(child, line.trim().to_owned())
}

fn run(dir: &Path, url: &str, ca_file: Option<&str>) -> (i32, String, Duration) {
    let ca = ca_file
        .map(|f| format!("  ca_file: {f}\n"))
        .unwrap_or_default();
    let stanza = format!(
        "jira:\n  url: {url}\n  auth: {{ type: basic, username: ci-bot@example.com, token: '${{JIRA_API_TOKEN}}' }}\n{ca}ticket: {{ project: OPS, type: Change, summary: TLS, transition: Request approval }}\napproval:\n  approve_when: {{ status: Approved }}\n  interval: 1s\n  max_interval: 1s\n  timeout: 60s\n"
    );
    std::fs::write(dir.join("step.yml"), stanza).unwrap();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_jira-gate"))
        .env_clear()
        .env("JIRA_API_TOKEN", "sandbox-token")
        .current_dir(dir)
        .args(["run", "step.yml"])
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn tls_is_verified_and_ca_file_adds_a_trust_anchor() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let proxy = start_proxy(dir.path(), &sandbox.base);

    // Without the CA the certificate is refused at once, not retried until the timeout.
    let (code, stderr, elapsed) = run(dir.path(), &proxy.1, None);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("TLS to https://127.0.0.1:") && stderr.contains("jira.ca_file"),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    assert!(
        elapsed < Duration::from_secs(10),
        "failed fast: {elapsed:?}"
    );
    assert!(sandbox.requests().is_empty(), "nothing reached Jira");

    // With it, the whole step runs over TLS.
    let (code, stderr, _) = run(dir.path(), &proxy.1, Some("ca.pem"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("jira-gate: approved OPS-1"), "{stderr}");

    // A file that holds no certificate is a stanza error, found before any request.
    std::fs::write(dir.path().join("empty.pem"), "not a certificate\n").unwrap();
    let (code, stderr, _) = run(dir.path(), &proxy.1, Some("empty.pem"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("empty.pem"), "{stderr}");
}
