//! Shared test harness: runs `jira-gate sandbox` as a real process on a free port and talks to it
//! over blocking HTTP (the client and its helpers are the sandbox crate's, see `http.rs` there).
//!
//! Every test file that needs a Jira starts one with [`SandboxProc::start`] (or the `cloud` /
//! `datacenter` shortcuts); the child is killed when the value is dropped.
#![allow(dead_code)]

#[path = "../../crates/jira-sandbox/tests/common/fixtures.rs"]
pub mod fixtures;
#[path = "../../crates/jira-sandbox/tests/common/http.rs"]
mod http;
pub mod run;

use run::jira_gate;

use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::process::{Child, Stdio};

pub use http::SandboxHttp;

/// A sandbox process; derefs to its HTTP client.
pub struct SandboxProc {
    child: Child,
    http: SandboxHttp,
}

impl SandboxProc {
    /// Spawns `jira-gate sandbox --listen 127.0.0.1:0 ARGS` with a clean environment and waits for
    /// the base URL on its stdout.
    pub fn start(args: &[&str]) -> Self {
        Self::start_on("127.0.0.1:0", args)
    }

    /// Like [`SandboxProc::start`], listening on `listen` (e.g. a port chosen before a step that
    /// must find Jira unreachable at first).
    pub fn start_on(listen: &str, args: &[&str]) -> Self {
        let mut cmd = jira_gate();
        cmd.args(["sandbox", "--listen", listen])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn jira-gate sandbox");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the base URL");
        let base = line.trim().to_owned();
        assert!(
            base.starts_with("http://127.0.0.1:"),
            "unexpected first stdout line {line:?}"
        );
        let datacenter = args.windows(2).any(|w| w == ["--flavor", "datacenter"]);
        Self {
            child,
            http: SandboxHttp::new(base, datacenter),
        }
    }

    /// A Cloud sandbox with extra arguments.
    pub fn cloud(args: &[&str]) -> Self {
        Self::start(&[&["--flavor", "cloud"], args].concat())
    }

    /// A Data Center sandbox with extra arguments.
    pub fn datacenter(args: &[&str]) -> Self {
        Self::start(&[&["--flavor", "datacenter"], args].concat())
    }
}

impl Deref for SandboxProc {
    type Target = SandboxHttp;

    fn deref(&self) -> &SandboxHttp {
        &self.http
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
