//! jira-gate: a pipeline approval step for Jira.
//!
//! The step reads one YAML stanza, creates or updates a Jira ticket, waits for its status to meet
//! the approval or rejection criteria and ends with an exit code the pipeline acts on. `main.rs`
//! only parses the command line, starts the runtime and returns the code; the work starts in
//! [`commands::run()`].

pub mod actions;
pub mod adf;
pub mod chain;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod criteria;
pub mod dry_run;
pub mod env;
pub mod error;
pub mod exit;
pub mod fields;
pub mod gate;
pub mod harness;
pub mod hold;
pub mod input;
pub mod jira;
pub mod jsm;
pub mod locate;
pub mod logging;
pub mod markup;
pub mod outcome;
pub mod poll;
pub mod retry;
/// The built-in Jira (the `sandbox` and `demo` commands), from the `jira-sandbox` crate.
#[cfg(feature = "sandbox")]
pub use jira_sandbox as sandbox;
pub mod secret;
pub mod stanza;
pub mod step;
pub mod step_error;
pub mod tracker;
pub mod value;
pub mod wake;
pub mod wake_guide;
pub mod window;
pub mod workflow;
