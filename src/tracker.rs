//! What a run knows so far: the ticket, what the wait saw, and whether the setup's log section is
//! open. One value, owned by `gate::run` and lent (`&mut`) to the steps below it; it lives outside
//! the run's future, so when a signal drops that future the report still says what was known.

use tokio::time::Instant;

use crate::ci::Sink;
use crate::outcome::{Decision, Report};
use crate::poll::Seen;

/// The id of the setup's collapsible log section.
const SECTION: &str = "jira-gate-setup";

/// The run's progress.
pub struct Tracker<'a> {
    sink: &'a dyn Sink,
    section_open: bool,
    key: Option<String>,
    url: Option<String>,
    created: bool,
    wait_started: Option<Instant>,
    /// What the wait read.
    pub seen: Seen,
}

impl<'a> Tracker<'a> {
    /// Nothing known yet; log sections go to `sink`.
    pub fn new(sink: &'a dyn Sink) -> Self {
        Tracker {
            sink,
            section_open: false,
            key: None,
            url: None,
            created: false,
            wait_started: None,
            seen: Seen::default(),
        }
    }

    /// Opens the setup (connect, write the ticket) as one collapsible log section; the wait's
    /// lines stay visible.
    pub fn section_start(&mut self) {
        self.sink
            .section_start(SECTION, "jira-gate: connect to Jira and write the ticket");
        self.section_open = true;
    }

    /// Closes the setup section, if it is open.
    pub fn section_end(&mut self) {
        if std::mem::replace(&mut self.section_open, false) {
            self.sink.section_end(SECTION);
        }
    }

    /// The ticket is known (created, reused or named), before its comment and transition, so a
    /// cancellation or a later error still reports it.
    pub fn ticket(&mut self, key: &str, url: String, created: bool) {
        self.key = Some(key.to_owned());
        self.url = Some(url);
        self.created = created;
    }

    /// The wait begins.
    pub fn start_wait(&mut self) {
        self.wait_started = Some(Instant::now());
    }

    /// True once the wait has begun.
    pub fn waiting(&self) -> bool {
        self.wait_started.is_some()
    }

    /// The ticket's key, once known.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// A report with this decision and everything known so far.
    pub fn report(&self, decision: Decision) -> Report {
        let mut report = Report::new(decision);
        report.issue_key.clone_from(&self.key);
        report.issue_url.clone_from(&self.url);
        report.created = self.created;
        report.polls = self.seen.polls;
        report.waited_seconds = self.wait_started.map_or(0, |t| t.elapsed().as_secs());
        if let Some(last) = &self.seen.last {
            report.status = Some(last.status.clone());
            report.status_category = Some(last.category.clone()).filter(|c| !c.is_empty());
            report.resolution.clone_from(&last.resolution);
        }
        report
    }

    /// A report of decision `error` with `message`.
    pub fn error(&self, message: &str) -> Report {
        let mut report = self.report(Decision::Error);
        report.message = Some(message.to_owned());
        report
    }
}
