//! Test harness of the sandbox crate: starts a sandbox in-process on 127.0.0.1:0 (its own tokio
//! runtime, real TCP and HTTP) and talks to it with a blocking client (`http.rs`).
#![allow(dead_code)]

pub mod fixtures;
pub mod http;

use std::ops::Deref;

use clap::Parser;
use jira_sandbox::{Args, Sandbox};

pub use http::SandboxHttp;

/// The command line of `jira-gate sandbox`, parsed the same way.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: Args,
}

/// A running sandbox; derefs to its HTTP client. Dropping it stops the server and its runtime.
pub struct TestSandbox {
    http: SandboxHttp,
    sandbox: Option<Sandbox>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TestSandbox {
    /// Starts a sandbox with the options of `jira-gate sandbox ARGS` on `127.0.0.1:0`.
    pub fn start(args: &[&str]) -> Self {
        let argv = [&["sandbox", "--listen", "127.0.0.1:0"], args].concat();
        let args = Cli::try_parse_from(argv)
            .unwrap_or_else(|e| panic!("sandbox arguments {args:?}: {e}"))
            .args;
        let datacenter = args.flavor == jira_sandbox::Flavor::Datacenter;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let sandbox = runtime
            .block_on(Sandbox::start(args))
            .expect("start the sandbox");
        Self {
            http: SandboxHttp::new(sandbox.base_url(), datacenter),
            sandbox: Some(sandbox),
            runtime: Some(runtime),
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

impl Deref for TestSandbox {
    type Target = SandboxHttp;

    fn deref(&self) -> &SandboxHttp {
        &self.http
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        drop(self.sandbox.take());
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
