//! The built-in Jira sandbox: an in-memory fake Jira served over real HTTP.
//!
//! It serves the subset of the Jira REST API that jira-gate uses (SPEC section 5), with Jira's
//! shapes, error bodies and auth quirks for both Cloud and Data Center, a realistic approval
//! workflow, scripted approvers and seeded fault injection. `jira-gate sandbox` runs it as its own
//! process, `jira-gate demo` runs it in-process, and the tests and benchmarks point real clients at
//! it. The step's own code never imports this crate; it only talks HTTP to it. This crate never
//! imports jira-gate either: a test double must check the client with code of its own (ADF, dates,
//! JQL), not with the client's.

mod browse;
mod faults;
mod jql;
mod routes;
mod server;
mod state;
mod webhook;

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use faults::FaultKind;

/// Options of `jira-gate sandbox`; also the in-process configuration.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8080",
        env = "JIRA_GATE_SANDBOX_LISTEN"
    )]
    pub listen: SocketAddr,

    /// Which Jira to imitate: Cloud (REST v3 and v2) or Data Center (REST v2).
    #[arg(
        long,
        value_enum,
        value_name = "FLAVOR",
        default_value = "cloud",
        env = "JIRA_GATE_SANDBOX_FLAVOR"
    )]
    pub flavor: Flavor,

    /// The bot's login: email on Cloud (default ci-bot@example.com), username on Data Center
    /// (default ci-bot).
    #[arg(long, value_name = "USER", env = "JIRA_GATE_SANDBOX_USER")]
    pub user: Option<String>,

    /// Cloud API token accepted in Basic auth.
    #[arg(
        long,
        value_name = "TOKEN",
        default_value = "sandbox-token",
        env = "JIRA_GATE_SANDBOX_TOKEN",
        hide_env_values = true
    )]
    pub token: String,

    /// Data Center password accepted in Basic auth.
    #[arg(
        long,
        value_name = "PASSWORD",
        default_value = "sandbox-password",
        env = "JIRA_GATE_SANDBOX_PASSWORD",
        hide_env_values = true
    )]
    pub password: String,

    /// Data Center personal access token accepted as Bearer.
    #[arg(
        long,
        value_name = "PAT",
        default_value = "sandbox-pat",
        env = "JIRA_GATE_SANDBOX_PAT",
        hide_env_values = true
    )]
    pub pat: String,

    /// Alice Approver approves an issue this long after it enters "Awaiting approval"; with a
    /// name (`alice=5s`, repeatable), that approver approves each service desk request's
    /// approval this long after it is created.
    ///
    /// A duration (`5s`) or a range (`5s..60s`): a range picks a time per issue from the seed.
    #[arg(
        long,
        value_name = "[NAME=]DURATION",
        value_delimiter = ',',
        env = "JIRA_GATE_SANDBOX_APPROVE_AFTER"
    )]
    pub approve_after: Vec<ApproverDelay>,

    /// This approver (`bob=5s`, repeatable) declines each service desk request's approval this
    /// long after it is created. Approvers: alice, bob, dave.
    #[arg(
        long,
        value_name = "NAME=DURATION",
        value_delimiter = ',',
        env = "JIRA_GATE_SANDBOX_DECLINE_AFTER"
    )]
    pub decline_after: Vec<ApproverDelay>,

    /// Imitate a Jira without Jira Service Management: `/rest/servicedeskapi` answers 404 on
    /// Cloud and a 403 HTML page on Data Center (no licence).
    #[arg(long, env = "JIRA_GATE_SANDBOX_NO_JSM")]
    pub no_jsm: bool,

    /// Leave JSM's Approvals field out of issue reads (as a field configuration that hides it
    /// from the user does); `GET /field` still lists it.
    #[arg(long, env = "JIRA_GATE_SANDBOX_HIDE_APPROVALS_FIELD")]
    pub hide_approvals_field: bool,

    /// Bob Builder rejects an issue this long after it enters "Awaiting approval".
    ///
    /// Same syntax as --approve-after. When both are given, the shorter one acts.
    #[arg(long, value_name = "DURATION", env = "JIRA_GATE_SANDBOX_REJECT_AFTER")]
    pub reject_after: Option<DelayRange>,

    /// New or changed issues stay invisible to search for this long (Cloud's eventual
    /// consistency).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration, env = "JIRA_GATE_SANDBOX_SEARCH_LAG")]
    pub search_lag: Duration,

    /// Seed of every random choice (faults, approver delays), so runs are reproducible.
    #[arg(
        long,
        value_name = "SEED",
        default_value_t = 1,
        env = "JIRA_GATE_SANDBOX_SEED"
    )]
    pub seed: u64,

    /// Share of REST requests (0.0 to 1.0) that get a random fault.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate, env = "JIRA_GATE_SANDBOX_FAULT_RATE")]
    pub fault_rate: f64,

    /// Kinds of random faults to draw from.
    #[arg(
        long,
        value_name = "LIST",
        value_enum,
        value_delimiter = ',',
        default_value = "500,502,503,504,429,delay,drop,truncate",
        env = "JIRA_GATE_SANDBOX_FAULTS"
    )]
    pub faults: Vec<FaultKind>,

    /// Key of the sandbox project.
    #[arg(
        long,
        value_name = "KEY",
        default_value = "OPS",
        env = "JIRA_GATE_SANDBOX_PROJECT"
    )]
    pub project: String,

    /// Post a Jira-shaped `jira:issue_updated` event to this URL on every status change.
    #[arg(long, value_name = "URL", env = "JIRA_GATE_SANDBOX_WEBHOOK")]
    pub webhook: Option<String>,

    /// Sign each webhook body with this secret (`X-Hub-Signature: sha256=<hex>`, HMAC-SHA256).
    #[arg(
        long,
        value_name = "SECRET",
        env = "JIRA_GATE_SANDBOX_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub webhook_secret: Option<String>,

    /// Share of webhooks (0.0 to 1.0) not sent, drawn from the seed: a lost event.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate, env = "JIRA_GATE_SANDBOX_WEBHOOK_DROP")]
    pub webhook_drop: f64,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            flavor: Flavor::Cloud,
            user: None,
            token: "sandbox-token".to_owned(),
            password: "sandbox-password".to_owned(),
            pat: "sandbox-pat".to_owned(),
            approve_after: Vec::new(),
            decline_after: Vec::new(),
            no_jsm: false,
            hide_approvals_field: false,
            reject_after: None,
            search_lag: Duration::ZERO,
            seed: 1,
            fault_rate: 0.0,
            faults: FaultKind::ALL.to_vec(),
            project: "OPS".to_owned(),
            webhook: None,
            webhook_secret: None,
            webhook_drop: 0.0,
        }
    }
}

impl Args {
    /// The bot's login: `--user`, or the flavor's default.
    pub fn effective_user(&self) -> String {
        self.user.clone().unwrap_or_else(|| match self.flavor {
            Flavor::Cloud => "ci-bot@example.com".to_owned(),
            Flavor::Datacenter => "ci-bot".to_owned(),
        })
    }

    /// The Basic-auth login these options accept: the bot's user with the API token (Cloud) or
    /// the password (Data Center). What `jira-gate demo` hands its step.
    pub fn basic_login(&self) -> (String, String) {
        let secret = match self.flavor {
            Flavor::Cloud => &self.token,
            Flavor::Datacenter => &self.password,
        };
        (self.effective_user(), secret.clone())
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("fault rate {r} is not between 0.0 and 1.0"))
    }
}

/// Which Jira the sandbox imitates.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Jira Cloud: REST v3 (ADF) and v2, Basic email + API token, `search/jql`.
    Cloud,
    /// Jira Data Center: REST v2 only, Bearer PAT or Basic username + password.
    Datacenter,
}

/// Atlassian's names: "Cloud" and "Data Center" (two words), as `demo` shows them.
impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Flavor::Cloud => "Cloud",
            Flavor::Datacenter => "Data Center",
        })
    }
}

/// A delay, fixed (`5s`) or a range (`5s..60s`) from which each issue draws its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRange {
    /// Shortest delay.
    pub min: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl FromStr for DelayRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = |p: &str| {
            humantime::parse_duration(p.trim()).map_err(|e| format!("invalid duration '{p}': {e}"))
        };
        let (min, max) = if let Some((a, b)) = s.split_once("..") {
            (parse(a)?, parse(b)?)
        } else {
            let d = parse(s)?;
            (d, d)
        };
        if min > max {
            return Err(format!("the range '{s}' ends before it starts"));
        }
        Ok(Self { min, max })
    }
}

/// A scripted approver's delay: `5s` (Alice, on the sandbox project's workflow) or `NAME=5s` (that
/// approver, on service desk approvals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproverDelay {
    /// The approver's username (`alice`, `bob`, `dave`), or `None` for the workflow's Alice.
    pub name: Option<String>,
    /// When they answer.
    pub delay: DelayRange,
}

impl ApproverDelay {
    /// Alice on the sandbox project's workflow, after `delay`.
    pub fn workflow(delay: DelayRange) -> Self {
        Self { name: None, delay }
    }

    /// `name` on service desk approvals, after `delay`.
    pub fn named(name: &str, delay: DelayRange) -> Self {
        Self {
            name: Some(name.to_owned()),
            delay,
        }
    }
}

impl FromStr for ApproverDelay {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('=') {
            Some((name, delay)) => {
                let name = name.trim();
                if !JSM_APPROVERS.contains(&name.to_ascii_lowercase().as_str()) {
                    return Err(format!(
                        "unknown approver '{name}': use one of {}",
                        JSM_APPROVERS.join(", ")
                    ));
                }
                // `alice=5` means five seconds.
                let delay = delay.trim();
                let delay = if !delay.is_empty() && delay.chars().all(|c| c.is_ascii_digit()) {
                    format!("{delay}s").parse()?
                } else {
                    delay.parse()?
                };
                Ok(Self::named(&name.to_ascii_lowercase(), delay))
            }
            None => Ok(Self::workflow(s.parse()?)),
        }
    }
}

/// The usernames of the service desk's approvers.
pub const JSM_APPROVERS: [&str; 3] = ["alice", "bob", "dave"];

/// A running sandbox. Dropping it stops accepting connections.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    task: tokio::task::AbortHandle,
}

impl Sandbox {
    /// Binds `args.listen` (port 0 allowed) and serves on the current tokio runtime.
    ///
    /// A failed bind names the address, and for a taken port says how to get a free one
    /// (issue 8, defect 14).
    pub async fn start(args: Args) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| bind_error(args.listen, &e))?;
        let addr = listener.local_addr()?;
        let hook = args.webhook.clone().map(|url| webhook::Target {
            url,
            secret: args.webhook_secret.clone(),
            drop: args.webhook_drop,
            seed: args.seed,
        });
        let shared = Arc::new(server::Shared::new(args, addr));
        if let Some(hook) = hook {
            server::lock(&shared.state).webhook = Some(webhook::start(hook));
        }
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&shared))).abort_handle();
        Ok(Sandbox { addr, shared, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }

    /// Human lines: flavor, URL, users and credentials.
    pub fn credentials_banner(&self) -> String {
        let a = &self.shared.args;
        let user = a.effective_user();
        let mut lines = vec![format!(
            "jira-gate sandbox: Jira {} at {}",
            match a.flavor {
                Flavor::Cloud => "Cloud (REST v3 and v2)",
                Flavor::Datacenter => "Data Center (REST v2)",
            },
            self.base_url()
        )];
        match a.flavor {
            Flavor::Cloud => lines.push(format!("  basic auth: {user} / {}", a.token)),
            Flavor::Datacenter => {
                lines.push(format!("  personal access token (Bearer): {}", a.pat));
                lines.push(format!("  basic auth: {user} / {}", a.password));
            }
        }
        lines.push(format!(
            "  project {} with issue types Change and Task",
            a.project
        ));
        lines.push("  approvers: Alice Approver (alice), Bob Builder (bob)".to_owned());
        if a.no_jsm {
            lines.push("  no Jira Service Management (--no-jsm)".to_owned());
        } else {
            lines.push(
                "  service desk CHG (Jira Service Management): request types \"Request a change\" (2 of alice, bob, dave approve), \"Emergency change\" (alice), \"Get IT help\""
                    .to_owned(),
            );
        }
        lines.push(format!(
            "  control endpoints: {}/_sandbox/issues, /_sandbox/issues/KEY/approval, /_sandbox/requests, /_sandbox/faults",
            self.base_url()
        ));
        lines.join("\n")
    }
}

/// The error of a failed bind of `addr`: the address, the OS's reason and a hint.
fn bind_error(addr: SocketAddr, e: &std::io::Error) -> std::io::Error {
    let hint = match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            "; another process (an earlier sandbox?) uses that port: `--listen 127.0.0.1:0` picks a free port and prints the URL"
        }
        std::io::ErrorKind::PermissionDenied => {
            "; ports below 1024 need privileges: use a higher port, or `--listen 127.0.0.1:0` for a free one"
        }
        _ => "",
    };
    std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}{hint}"))
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `jira-gate sandbox`: start, print the base URL as the only line on stdout, call `announce`
/// (which prints the banner in the caller's log format), and serve until SIGINT or SIGTERM.
pub async fn serve(args: Args, announce: impl FnOnce(&Sandbox)) -> std::io::Result<()> {
    use std::io::Write;
    let sandbox = Sandbox::start(args).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", sandbox.base_url())?;
        out.flush()?;
    }
    announce(&sandbox);
    shutdown_signal().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approver_delays_name_an_approver_or_not() {
        let secs = |n| DelayRange {
            min: Duration::from_secs(n),
            max: Duration::from_secs(n),
        };
        assert_eq!(
            "5s".parse::<ApproverDelay>().unwrap(),
            ApproverDelay::workflow(secs(5))
        );
        assert_eq!(
            "Dave=3".parse::<ApproverDelay>().unwrap(),
            ApproverDelay::named("dave", secs(3))
        );
        let range = "bob=1s..4s".parse::<ApproverDelay>().unwrap();
        assert_eq!(range.delay.max, Duration::from_secs(4));
        let err = "carol=1s".parse::<ApproverDelay>().unwrap_err();
        assert_eq!(err, "unknown approver 'carol': use one of alice, bob, dave");
        assert!("alice=soon".parse::<ApproverDelay>().is_err());
    }

    #[test]
    fn flavors_have_atlassians_names() {
        assert_eq!(Flavor::Cloud.to_string(), "Cloud");
        assert_eq!(Flavor::Datacenter.to_string(), "Data Center");
    }
}
