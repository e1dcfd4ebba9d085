//! Running the built binary: a command with a cleared environment, a scratch folder for the step's
//! files, and what a run left behind ([`Run`]), checked for secrets and panics on every run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use super::{SandboxProc, text};

/// The sandbox's Cloud user.
pub const USER: &str = "ci-bot@example.com";
/// The sandbox's Cloud API token: a secret.
pub const TOKEN: &str = "sandbox-token";
/// The sandbox's Data Center personal access token: a secret.
pub const PAT: &str = "sandbox-pat";
/// The sandbox's Data Center user, for basic authentication.
pub const DC_USER: &str = "ci-bot";
/// The sandbox's Data Center password: a secret.
pub const PASSWORD: &str = "sandbox-password";

/// `jira-gate` with a cleared environment (only `PATH` kept, so that the tests see nothing of the
/// developer's or CI's variables) and stdin from `/dev/null`.
pub fn jira_gate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jira-gate"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    cmd
}

/// What one run of the binary left: exit code, stdout, stderr, the result file, the time taken.
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// `result.json`, parsed, when the run wrote one.
    pub result: Option<Value>,
    /// `result.json` as written (empty when absent).
    pub result_text: String,
    /// From the `started` given to [`Workdir::finish`] to the end of the run.
    pub elapsed: Duration,
}

impl Run {
    /// One key of the result file; panics with stderr when there is no result file.
    pub fn field(&self, name: &str) -> &Value {
        &self
            .result
            .as_ref()
            .unwrap_or_else(|| panic!("no result file; stderr:\n{}", self.stderr))[name]
    }
}

/// A scratch folder where a test's step runs (the binary's working directory).
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    /// A new empty folder, removed on drop.
    pub fn new() -> Self {
        Workdir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `name` inside the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `name` and returns its path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// [`jira_gate`] run in this folder.
    pub fn command(&self) -> Command {
        let mut cmd = jira_gate();
        cmd.current_dir(self.dir.path());
        cmd
    }

    /// [`Workdir::command`] with `JIRA_URL` and the credentials of the sandbox's flavor only
    /// (`JIRA_USER` and `JIRA_API_TOKEN` on Cloud, `JIRA_PAT` on Data Center).
    pub fn command_for(&self, sandbox: &SandboxProc) -> Command {
        let mut cmd = self.command();
        cmd.env("JIRA_URL", &sandbox.base);
        if sandbox.datacenter {
            cmd.env("JIRA_PAT", PAT);
        } else {
            cmd.env("JIRA_USER", USER).env("JIRA_API_TOKEN", TOKEN);
        }
        cmd
    }

    /// [`Workdir::command`] with `JIRA_URL` set to `url` and every credential (Cloud's and Data
    /// Center's), whether or not a sandbox answers there.
    pub fn command_at(&self, url: &str) -> Command {
        let mut cmd = self.command();
        cmd.env("JIRA_URL", url)
            .env("JIRA_USER", USER)
            .env("JIRA_API_TOKEN", TOKEN)
            .env("JIRA_PAT", PAT);
        cmd
    }

    /// `jira-gate run step.yml --result-file result.json EXTRA` in this folder, with `stanza` as
    /// `step.yml`, against `sandbox` with its flavor's credentials ([`Workdir::command_for`]).
    pub fn gate(&self, sandbox: &SandboxProc, stanza: &str, extra: &[&str]) -> Run {
        self.step(&mut self.command_for(sandbox), stanza, extra)
    }

    /// The same against `url` with every credential ([`Workdir::command_at`]): for a Jira that is
    /// not a sandbox, or not there at all.
    pub fn gate_at(&self, url: &str, stanza: &str, extra: &[&str]) -> Run {
        self.step(&mut self.command_at(url), stanza, extra)
    }

    fn step(&self, cmd: &mut Command, stanza: &str, extra: &[&str]) -> Run {
        self.write("step.yml", stanza);
        self.run(
            cmd.args(["run", "step.yml", "--result-file", "result.json"])
                .args(extra),
        )
    }

    /// Runs `cmd` to the end, after removing any `result.json` an earlier run left.
    pub fn run(&self, cmd: &mut Command) -> Run {
        let _ = std::fs::remove_file(self.path("result.json"));
        let started = Instant::now();
        let output = cmd.output().unwrap();
        self.finish(&output, started)
    }

    /// The [`Run`] of a finished process started (or signalled) at `started`. Every run is checked:
    /// no secret in stdout, stderr or the result file, and no panic (exit 101).
    pub fn finish(&self, output: &Output, started: Instant) -> Run {
        let result_text = std::fs::read_to_string(self.path("result.json")).unwrap_or_default();
        let result = (!result_text.is_empty()).then(|| serde_json::from_str(&result_text).unwrap());
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: text(&output.stdout),
            stderr: text(&output.stderr),
            result,
            result_text,
            elapsed: started.elapsed(),
        };
        assert_no_secret(&run);
        assert_ne!(run.code, 101, "panicked:\n{}", run.stderr);
        run
    }
}

/// The base64 characters that encode `secret` wherever it sits in a longer encoded text: one run
/// for each of the three byte alignments, without the characters it shares with its neighbours.
fn base64_forms(secret: &str) -> Vec<String> {
    (0..3)
        .map(|shift| {
            let mut bytes = vec![0u8; shift];
            bytes.extend_from_slice(secret.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let first = (8 * shift).div_ceil(6);
            let last = 8 * bytes.len() / 6;
            encoded[first..last].to_owned()
        })
        .collect()
}

/// Every form a secret of the sandbox could leak in: the token, the PAT and the password as they
/// are, and in base64 at any alignment (alone, or inside the `user:secret` of a Basic header).
pub fn secrets() -> Vec<String> {
    let mut all = vec![TOKEN.to_owned(), PAT.to_owned(), PASSWORD.to_owned()];
    all.extend(base64_forms(TOKEN));
    all.extend(base64_forms(PAT));
    all.extend(base64_forms(PASSWORD));
    all.extend(base64_forms(&format!("{USER}:{TOKEN}")));
    all.extend(base64_forms(&format!("{DC_USER}:{PASSWORD}")));
    all
}

/// True for a line whose job is to hand a secret to the CI runner so that it masks it in the log:
/// GitHub's `::add-mask::` and Azure's secret variable. Every other line is checked.
fn masks_a_secret(line: &str) -> bool {
    line.starts_with("::add-mask::")
        || (line.starts_with("##vso[task.setvariable ") && line.contains(";issecret=true]"))
}

/// Asserts that no form of a secret is in the run's stdout (outside the masking commands), stderr
/// or result file.
pub fn assert_no_secret(run: &Run) {
    let stdout: Vec<&str> = run.stdout.lines().filter(|l| !masks_a_secret(l)).collect();
    let stdout = stdout.join("\n");
    for secret in secrets() {
        for (name, text) in [
            ("stdout", &stdout),
            ("stderr", &run.stderr),
            ("result file", &run.result_text),
        ] {
            assert!(
                !text.contains(&secret),
                "secret {secret:?} in {name}:\n{text}"
            );
        }
    }
}
