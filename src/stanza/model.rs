//! The validated step definition the rest of the program uses. Every rule of the contract already
//! holds here: a ticket to create has its project, type and summary; `interval <= max_interval <=
//! timeout`; the URL is https unless loopback.

use std::time::Duration;

use crate::criteria::{Criteria, Named};
use crate::jira::ClientConfig;
use crate::secret::Secret;
use crate::value::Value;
use crate::window::{Freeze, Zone};

/// Default first gap between polls.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// Default backoff ceiling.
pub const DEFAULT_MAX_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Default overall wait: an hour, GitLab's default job timeout, so the step ends with its own exit
/// code 4 rather than being killed by the runner.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Default per-request timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `jira.connect_budget`: how long connection failures are retried before the ticket
/// exists (at most the timeout).
pub const DEFAULT_CONNECT_BUDGET: Duration = Duration::from_secs(2 * 60);

/// A validated step definition.
#[derive(Debug, Clone)]
pub struct Stanza {
    /// The file it came from (for messages).
    pub file: String,
    /// The connection.
    pub jira: ClientConfig,
    /// The ticket.
    pub ticket: Ticket,
    /// The wait; `None` means create/update only.
    pub approval: Option<Approval<Named>>,
    /// `finish.success` and `finish.failure`, for `jira-gate finish`.
    pub finish: Finish,
    /// Warnings found while validating (e.g. a literal token).
    pub warnings: Vec<String>,
    /// How long the whole step may take: `approval.timeout`, else `--timeout`, else
    /// [`WRITE_ONLY_BUDGET`] for a step without an approval section.
    pub budget: Duration,
}

/// Without an `approval` section (and without `--timeout`) the step still gets this long to reach
/// Jira through retries.
pub const WRITE_ONLY_BUDGET: Duration = Duration::from_secs(5 * 60);

/// What to do with the ticket.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// Create one, or update an existing one.
    pub target: Target,
    /// Plain-text description.
    pub description: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Other fields by name or id, sorted by name (the stanza reads them as a map).
    pub fields: Vec<(String, Value)>,
    /// Idempotency key.
    pub dedupe: Option<String>,
    /// Transition or target status name.
    pub transition: Option<String>,
    /// How `transition` is matched (Harness steps say which, issue 10).
    pub transition_by: TransitionBy,
    /// Comment text.
    pub comment: Option<String>,
    /// Jira Service Management: create a customer request of this request type (name).
    pub request_type: Option<String>,
}

/// Which ticket: a new one, with what creating it needs, or an existing one by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// No key was given: create an issue.
    Create {
        /// Project key or id.
        project: String,
        /// Issue type name or id.
        issue_type: String,
        /// Summary.
        summary: String,
    },
    /// `ticket.key` or `--issue-key` names the issue to update.
    Update {
        /// The issue key.
        key: String,
        /// A new summary, if one is written.
        summary: Option<String>,
        /// The project, if written (`check` reads its statuses).
        project: Option<String>,
        /// The issue type, if written (`check` looks it up).
        issue_type: Option<String>,
    },
}

impl Ticket {
    /// The key of the issue to update; `None` when creating.
    pub fn key(&self) -> Option<&str> {
        match &self.target {
            Target::Update { key, .. } => Some(key),
            Target::Create { .. } => None,
        }
    }

    /// The project, when the stanza names one.
    pub fn project(&self) -> Option<&str> {
        match &self.target {
            Target::Create { project, .. } => Some(project),
            Target::Update { project, .. } => project.as_deref(),
        }
    }

    /// The issue type, when the stanza names one.
    pub fn issue_type(&self) -> Option<&str> {
        match &self.target {
            Target::Create { issue_type, .. } => Some(issue_type),
            Target::Update { issue_type, .. } => issue_type.as_deref(),
        }
    }

    /// The summary, when the stanza sets one.
    pub fn summary(&self) -> Option<&str> {
        match &self.target {
            Target::Create { summary, .. } => Some(summary),
            Target::Update { summary, .. } => summary.as_deref(),
        }
    }
}

/// The validated wait. `Id` is how `field` criteria name their field: [`Named`] as written in
/// the stanza, a field id (`String`) once [`Approval::resolve`] has looked the names up in Jira.
#[derive(Debug, Clone)]
pub struct Approval<Id = String> {
    /// Approve when these hold.
    pub approve: Criteria<Id>,
    /// Reject when these hold (checked first).
    pub reject: Option<Criteria<Id>>,
    /// First gap between polls.
    pub interval: Duration,
    /// Backoff ceiling.
    pub max_interval: Duration,
    /// Overall wait.
    pub timeout: Duration,
    /// Comment added on cancellation.
    pub on_cancel_comment: Option<String>,
    /// Which criteria win when both hold: rejection for native stanzas, approval for Harness
    /// steps (issue 10).
    pub order: crate::criteria::Order,
    /// The webhook listener that wakes the wait, if any.
    pub wake: Option<Wake>,
    /// `on_approve`, `on_reject`, `on_timeout`, `on_cancel` (with `on_cancel_comment` folded in).
    pub actions: Actions,
    /// The change window an approved change waits for (issue 9).
    pub window: Option<ChangeWindow<Id>>,
    /// Periods when nothing may deploy (issue 9).
    pub freeze: Vec<Freeze>,
}

/// `approval.window`: where each bound comes from, and the zone its times are shown in.
#[derive(Debug, Clone)]
pub struct ChangeWindow<Id = String> {
    /// When the change may go from.
    pub start: Bound<Id>,
    /// When it may no longer go.
    pub end: Bound<Id>,
    /// `window.timezone` (UTC when not written).
    pub zone: Zone,
}

/// One side of a change window.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound<Id = String> {
    /// Not written: open on this side.
    Open,
    /// A fixed time.
    At(jiff::Timestamp),
    /// A date-time field of the ticket, read with every poll.
    Field {
        /// As written: display name or id.
        name: String,
        /// The field id, once resolved.
        id: Id,
    },
}

impl<Id> Approval<Id> {
    /// `; goes only inside the change window (...) and outside 2 freezes`, or nothing.
    pub fn window_clause(&self) -> String {
        let freezes = match self.freeze.len() {
            0 => String::new(),
            1 => "outside 1 freeze".to_owned(),
            n => format!("outside {n} freezes"),
        };
        match (&self.window, freezes.is_empty()) {
            (None, true) => String::new(),
            (None, false) => format!("; goes only {freezes}"),
            (Some(w), true) => format!("; goes only inside the change window ({})", w.describe()),
            (Some(w), false) => format!(
                "; goes only inside the change window ({}) and {freezes}",
                w.describe()
            ),
        }
    }
}

impl<Id> ChangeWindow<Id> {
    /// `from "Planned start" to 2026-12-05 04:00:00 CET (Europe/Berlin) = ...`.
    pub fn describe(&self) -> String {
        let side = |b: &Bound<Id>| match b {
            Bound::Open => None,
            Bound::At(t) => Some(self.zone.show(*t)),
            Bound::Field { name, .. } => Some(format!("{name:?}")),
        };
        match (side(&self.start), side(&self.end)) {
            (Some(start), Some(end)) => format!("from {start} to {end}"),
            (Some(start), None) => format!("from {start}"),
            (None, Some(end)) => format!("until {end}"),
            (None, None) => "always open".to_owned(),
        }
    }

    /// The field names (as written) the bounds read.
    pub fn field_names(&self) -> Vec<String> {
        [&self.start, &self.end]
            .into_iter()
            .filter_map(|b| match b {
                Bound::Field { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect()
    }
}

impl ChangeWindow<Named> {
    /// The same window with its field names replaced by ids.
    pub fn resolve<E>(
        &self,
        resolve: &mut dyn FnMut(&str) -> Result<String, E>,
    ) -> Result<ChangeWindow, E> {
        let mut bound = |b: &Bound<Named>| -> Result<Bound, E> {
            Ok(match b {
                Bound::Open => Bound::Open,
                Bound::At(t) => Bound::At(*t),
                Bound::Field { name, .. } => Bound::Field {
                    name: name.clone(),
                    id: resolve(name)?,
                },
            })
        };
        Ok(ChangeWindow {
            start: bound(&self.start)?,
            end: bound(&self.end)?,
            zone: self.zone.clone(),
        })
    }
}

/// What to write to the ticket at one ending: `approval.on_*` or `finish.*`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Action {
    /// Comment text.
    pub comment: Option<String>,
    /// Transition name or target status name.
    pub transition: Option<String>,
    /// Labels to add.
    pub labels: Vec<String>,
    /// Fields by name or id, sorted by name (the stanza reads them as a map).
    pub fields: Vec<(String, Value)>,
}

/// The actions of `approval`, one per ending that has one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Actions {
    /// `on_approve`.
    pub on_approve: Option<Action>,
    /// `on_reject`.
    pub on_reject: Option<Action>,
    /// `on_timeout`.
    pub on_timeout: Option<Action>,
    /// `on_cancel`, or `on_cancel_comment` as its comment.
    pub on_cancel: Option<Action>,
}

/// The `finish` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Finish {
    /// True when the stanza has a `finish` section at all.
    pub given: bool,
    /// `finish.success`.
    pub success: Option<Action>,
    /// `finish.failure`.
    pub failure: Option<Action>,
}

/// `approval.wake`: where to listen for Jira's webhooks and how they prove where they come from.
#[derive(Debug, Clone)]
pub struct Wake {
    /// The socket address to bind.
    pub listen: std::net::SocketAddr,
    /// The one path served (starts with `/`).
    pub path: String,
    /// How a request is verified.
    pub check: WakeCheck,
    /// The variable the secret or token was interpolated from, when it was written as one
    /// `${NAME}` (`check` names it instead of the value).
    pub variable: Option<String>,
}

/// How a webhook request is verified; both values are secrets.
#[derive(Debug, Clone)]
pub enum WakeCheck {
    /// HMAC-SHA256 of the body with this key, in `X-Hub-Signature: sha256=<hex>`.
    Signature(Secret),
    /// This value in `X-Jira-Gate-Token`.
    Token(Secret),
}

impl WakeCheck {
    /// The secret itself (for the CI system's mask list).
    pub fn secret(&self) -> &Secret {
        match self {
            WakeCheck::Signature(s) | WakeCheck::Token(s) => s,
        }
    }
}

/// The default `approval.wake.path`.
pub const DEFAULT_WAKE_PATH: &str = "/jira-gate";

impl<Id> Approval<Id> {
    /// Every field name (as written) the criteria use.
    pub fn field_names(&self) -> Vec<String> {
        let mut names = self.approve.field_names();
        names.extend(self.reject.iter().flat_map(Criteria::field_names));
        names.extend(self.window.iter().flat_map(ChangeWindow::field_names));
        names
    }

    /// Every status name the criteria compare with.
    pub fn status_names(&self) -> Vec<String> {
        let mut names = self.approve.status_names();
        names.extend(self.reject.iter().flat_map(Criteria::status_names));
        names
    }
}

impl Approval<Named> {
    /// The same wait with every field name replaced by the id `resolve` gives it.
    pub fn resolve<E>(
        &self,
        resolve: &mut dyn FnMut(&str) -> Result<String, E>,
    ) -> Result<Approval, E> {
        Ok(Approval {
            approve: self.approve.resolve(resolve)?,
            reject: self
                .reject
                .as_ref()
                .map(|r| r.resolve(resolve))
                .transpose()?,
            interval: self.interval,
            max_interval: self.max_interval,
            timeout: self.timeout,
            on_cancel_comment: self.on_cancel_comment.clone(),
            order: self.order,
            wake: self.wake.clone(),
            actions: self.actions.clone(),
            window: self
                .window
                .as_ref()
                .map(|w| w.resolve(resolve))
                .transpose()?,
            freeze: self.freeze.clone(),
        })
    }
}

/// Command-line / `JIRA_GATE_*` values that take precedence over the stanza.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--issue-key`.
    pub issue_key: Option<String>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
}

/// How a ticket's `transition` names its transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransitionBy {
    /// The transition's name, else its target status, both case-insensitive (native stanzas).
    #[default]
    NameOrStatus,
    /// The transition's name exactly (Harness `transitionTo.transitionName`, issue 10).
    ExactName,
    /// The target status, case-insensitive (Harness `transitionTo.status`, issue 10).
    Status,
}
