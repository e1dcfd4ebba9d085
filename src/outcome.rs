//! The result of one run of the step: the record that SPEC section 3 describes.
//!
//! Every way a run can end (approved, rejected, timed out, cancelled, written, error) produces one
//! [`Report`]. The summary line on stderr, the `--result-file` JSON, GitHub's outputs and GitLab's
//! dotenv are all renderings of this one value, so they can never disagree.

use std::fmt::Write as _;

use serde::Serialize;

use crate::exit::Exit;

/// How the run ended; the `decision` field of the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The approval criteria matched.
    Approved,
    /// The rejection criteria matched.
    Rejected,
    /// The timeout passed while the ticket was still pending.
    Timeout,
    /// Jira or the step failed; see `message`.
    Error,
    /// SIGINT or SIGTERM ended the wait.
    Cancelled,
    /// No `approval` section: the ticket was created or updated and the step is done.
    Written,
    /// `jira-gate finish`: the `finish` section's action was applied to the ticket.
    Finished,
    /// Approved, but the change window closed, opens after the timeout, or a freeze lasts past
    /// it (issue 9); `message` says which.
    Blocked,
}

impl Decision {
    /// The lowercase name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
            Decision::Timeout => "timeout",
            Decision::Error => "error",
            Decision::Cancelled => "cancelled",
            Decision::Written => "written",
            Decision::Finished => "finished",
            Decision::Blocked => "blocked",
        }
    }

    /// The process exit of SPEC section 2 for this decision.
    pub fn exit(self) -> Exit {
        match self {
            Decision::Approved | Decision::Written | Decision::Finished => Exit::Success,
            Decision::Rejected => Exit::Rejected,
            Decision::Timeout => Exit::Timeout,
            Decision::Error => Exit::Jira,
            Decision::Cancelled => Exit::Cancelled,
            Decision::Blocked => Exit::Blocked,
        }
    }
}

/// The result record of SPEC section 3. Field names are the JSON keys of `--result-file`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// How the run ended.
    pub decision: Decision,
    /// The ticket's key, once known.
    pub issue_key: Option<String>,
    /// `<base>/browse/<key>`, once the key is known.
    pub issue_url: Option<String>,
    /// Whether this run created the ticket (false when it updated or reused one).
    pub created: bool,
    /// The status name at the last successful read.
    pub status: Option<String>,
    /// The status category key (`new`, `indeterminate`, `done`) at the last read.
    pub status_category: Option<String>,
    /// The resolution name, or `None` while unresolved.
    pub resolution: Option<String>,
    /// Display name of whoever made the last status change (from the changelog).
    pub decided_by: Option<String>,
    /// When that change was made, as Jira reported it (ISO 8601).
    pub decided_at: Option<String>,
    /// Seconds from the start of the wait to its end.
    pub waited_seconds: u64,
    /// How many times the ticket was read while waiting.
    pub polls: u32,
    /// How the process exits (a number in every output).
    pub exit_code: Exit,
    /// For errors, timeouts and cancellations: what happened, in one line.
    pub message: Option<String>,
    /// The writes of the ending's action (`approval.on_*`, `finish.*`) and how each went; absent
    /// when no action ran.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionResult>,
    /// Jira Service Management: the approvers of the approval the criteria looked at, with their
    /// decision and when it was made (absent when the criteria test no approval).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<ApproverReport>,
}

/// One write of an action (issue 9): which action, which of its keys, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionResult {
    /// `on_approve`, `on_reject`, `on_timeout`, `on_cancel`, `finish.success`, `finish.failure`.
    pub action: String,
    /// The key of the action that was written: `fields`, `labels`, `comment` or `transition`.
    pub write: &'static str,
    /// How it went.
    pub result: ActionStatus,
    /// What failed, for `failed` and `abandoned`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How one write of an action went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Jira took it (or already had it: a transition to the status the ticket has).
    Ok,
    /// `--dry-run`: printed on stdout instead.
    DryRun,
    /// Jira refused it or could not be reached; see `error`.
    Failed,
    /// Not finished in the time it had (a cancellation's budget, a signal); see `error`.
    Abandoned,
}

/// One approver of a Jira Service Management approval, as the result reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApproverReport {
    /// Display name.
    pub name: String,
    /// `approved`, `declined` or `pending`.
    pub decision: String,
    /// When the approval completed, for the approver whose answer completed it; for the others
    /// when jira-gate first saw their answer (JSM does not date each answer). `None` while pending.
    pub time: Option<String>,
}

impl Report {
    /// An empty report with the given decision; the exit code follows from it.
    pub fn new(decision: Decision) -> Self {
        Report {
            decision,
            issue_key: None,
            issue_url: None,
            created: false,
            status: None,
            status_category: None,
            resolution: None,
            decided_by: None,
            decided_at: None,
            waited_seconds: 0,
            polls: 0,
            exit_code: decision.exit(),
            message: None,
            actions: Vec::new(),
            approvers: Vec::new(),
        }
    }

    /// The one-line human summary printed on stderr at the end of every run.
    pub fn summary(&self) -> String {
        let mut line = match &self.issue_key {
            Some(key) => format!("jira-gate: {} {key}", self.decision.as_str()),
            None => format!(
                "jira-gate: {} (exit {})",
                self.decision.as_str(),
                self.exit_code
            ),
        };
        if let Some(status) = &self.status {
            let _ = write!(line, " (status \"{status}\"");
            if let Some(by) = &self.decided_by {
                let _ = write!(line, ", by {by}");
            }
            line.push(')');
        }
        if self.polls > 0 || self.waited_seconds > 0 {
            let _ = write!(
                line,
                " after {}s, {} poll{}",
                self.waited_seconds,
                self.polls,
                if self.polls == 1 { "" } else { "s" }
            );
        }
        if let Some(url) = &self.issue_url {
            let _ = write!(line, " - {url}");
        }
        // An error's message has its own `jira-gate: error:` line already.
        if let Some(message) = self
            .message
            .as_ref()
            .filter(|_| self.decision != Decision::Error)
        {
            let _ = write!(line, ": {message}");
        }
        line
    }
}
