//! jira-gate: a pipeline approval step for Jira.
//!
//! The step reads one YAML stanza, creates or updates a Jira ticket, waits for its status to meet
//! the approval or rejection criteria and ends with an exit code the pipeline acts on. `main.rs`
//! only parses the command line and maps the outcome to an exit code; the work starts in [`run`].

pub mod ci;
pub mod outcome;
pub mod sandbox;
