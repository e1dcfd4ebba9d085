//! The built-in Jira sandbox. (Placeholder until the sandbox branch lands.)

use std::net::SocketAddr;
use std::time::Duration;

/// Options of `jira-gate sandbox`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Flavor.
    #[arg(long, value_enum, default_value = "cloud")]
    pub flavor: Flavor,
    /// Approve after.
    #[arg(long)]
    pub approve_after: Option<String>,
    /// Reject after.
    #[arg(long)]
    pub reject_after: Option<String>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            listen: "127.0.0.1:8080".parse().unwrap(),
            flavor: Flavor::Cloud,
            approve_after: None,
            reject_after: None,
        }
    }
}

/// Flavor.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Cloud.
    Cloud,
    /// DC.
    Datacenter,
}

/// Running sandbox.
pub struct Sandbox {
    addr: SocketAddr,
}

impl Sandbox {
    /// Start.
    #[allow(clippy::unused_async)]
    pub async fn start(args: Args) -> std::io::Result<Sandbox> {
        let _ = Duration::ZERO;
        Ok(Sandbox { addr: args.listen })
    }
    /// Address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Banner.
    pub fn credentials_banner(&self) -> String {
        String::new()
    }
}

/// Serve.
#[allow(clippy::unused_async)]
pub async fn serve(_args: Args) -> std::io::Result<()> {
    Ok(())
}
