//! TLS is always verified, and `jira.ca_file` adds a trust anchor for an on-premises Jira with a
//! private CA. A CA and a server certificate are made with `openssl`; `tests/support/tls_proxy.py`
//! terminates TLS in front of a sandbox. Both tools are on every Debian CI machine.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::SandboxProc;
use common::run::{TOKEN, USER, Workdir};

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

fn run(work: &Workdir, url: &str, ca_file: Option<&str>) -> (i32, String, Duration) {
    let ca = ca_file
        .map(|f| format!("  ca_file: {f}\n"))
        .unwrap_or_default();
    let stanza = format!(
        "jira:\n  url: {url}\n  auth: {{ type: basic, username: {USER}, token: '${{JIRA_API_TOKEN}}' }}\n{ca}ticket: {{ project: OPS, type: Change, summary: TLS, transition: Request approval }}\napproval:\n  approve_when: {{ status: Approved }}\n  interval: 1s\n  max_interval: 1s\n  timeout: 60s\n"
    );
    work.write("step.yml", stanza);
    let run = work.run(
        work.command()
            .env("JIRA_API_TOKEN", TOKEN)
            .args(["run", "step.yml"]),
    );
    (run.code, run.stderr, run.elapsed)
}

#[test]
fn tls_is_verified_and_ca_file_adds_a_trust_anchor() {
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let work = Workdir::new();
    make_certificates(work.dir());
    let proxy = start_proxy(work.dir(), &sandbox.base);

    // Without the CA the certificate is refused at once, not retried until the timeout.
    let (code, stderr, elapsed) = run(&work, &proxy.1, None);
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
    let (code, stderr, _) = run(&work, &proxy.1, Some("ca.pem"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("jira-gate: approved OPS-1"), "{stderr}");

    // A file that holds no certificate is a stanza error, found before any request.
    work.write("empty.pem", "not a certificate\n");
    let (code, stderr, _) = run(&work, &proxy.1, Some("empty.pem"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("empty.pem"), "{stderr}");
}
