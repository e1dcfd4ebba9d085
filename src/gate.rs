//! One run of the step against Jira, from connect to decision; `commands/run.rs` reads the stanza
//! around it and writes the outputs.
//!
//! The order: bind the `approval.wake` listener ([`crate::wake`]), connect, check the criteria's
//! status names against the project ([`crate::workflow`]), read the field catalog and resolve the
//! criteria's field names, write the ticket ([`crate::step`] through a [`Writer`]), wait
//! ([`crate::poll`], woken early by the listener) and read who decided.
//! Every ending is a [`Report`], never a bare error: a failure becomes decision `error` with its
//! exit, a signal `cancelled` with what the [`Tracker`] knew at that moment.

use std::time::Duration;

use serde_json::Value as Json;
use tokio::time::Instant;

use crate::actions;
use crate::ci::Sink;
use crate::criteria::{Criteria, Snapshot, Verdict};
use crate::dry_run::Writer;
use crate::error::describe_step;
use crate::fields::Catalog;
use crate::jira::models::History;
use crate::jira::{self, JiraClient};
use crate::outcome::{Decision, Report};
use crate::poll::{self, End, IssueSource};
use crate::stanza::{Approval, Stanza};
use crate::step;
use crate::tracker::Tracker;
use crate::wake::Listener;
use crate::workflow;

/// How long a cancelled step may spend on its `on_cancel` (or `on_cancel_comment`): what is not
/// done by then is abandoned, so that the step ends within 2 s of the signal.
const CANCEL_COMMENT_BUDGET: Duration = Duration::from_millis(1500);

/// How long the action of any other ending (`on_approve`, `on_reject`, `on_timeout`) may take,
/// retries included; it starts after the decision, so a timeout's deadline has passed by then.
const ACTION_BUDGET: Duration = Duration::from_secs(60);

/// Runs the step to a report. `cancel` resolves when the process is asked to stop, `again` when
/// it is asked a second time: then the cancellation's `on_cancel` is abandoned (issue 8 #16).
/// The ending's action (`approval.on_*`, issue 9) runs before the report is returned; it is
/// reported in `actions` and never changes the exit.
pub async fn run(
    stanza: &Stanza,
    dry_run: bool,
    sink: &dyn Sink,
    cancel: impl std::future::Future<Output = &'static str>,
    again: impl std::future::Future<Output = &'static str>,
) -> Report {
    let started = Instant::now();
    let deadline = started + stanza.budget;
    let mut tracker = Tracker::new(sink);
    // The timeout is a hard bound: no request outlives it (the wait's last read starts early).
    let mut client = match JiraClient::new(&stanza.jira, deadline) {
        Ok(client) => client,
        Err(e) => return tracker.error(&crate::error::describe_jira(&e)),
    };
    tokio::pin!(cancel);
    tracker.section_start();
    // When `cancel` wins, the run's future is dropped and `tracker` holds what was known.
    let outcome = tokio::select! {
        report = drive(stanza, &mut client, dry_run, deadline, &mut tracker) => Ok(report),
        signal = &mut cancel => Err(signal),
    };
    tracker.section_end();
    let mut results = Vec::new();
    client.set_deadline(Instant::now() + ACTION_BUDGET);
    let mut report = match outcome {
        Ok(report) => {
            let writer = Writer::new(&client, dry_run, stanza.jira.auth.secret().expose());
            ending_action(stanza, &writer, &report, &mut cancel, &mut results).await;
            report
        }
        Err(signal) => {
            let ended = tokio::select! {
                report = cancelled(stanza, &mut client, dry_run, &tracker, signal, &mut results) => Ok(report),
                signal = again => Err(signal),
            };
            ended.unwrap_or_else(|signal| {
                tracing::warn!("second {signal} received; not waiting for Jira any more");
                if let Some(action) = on_cancel(stanza) {
                    let why = format!("a second {signal} received");
                    actions::abandon("on_cancel", action, &why, &mut results);
                }
                let mut report = tracker.report(Decision::Cancelled);
                report.message = Some(format!("cancelled by a second {signal}"));
                report
            })
        }
    };
    report.actions = results;
    report
}

/// The action of a decided run's ending (`on_approve`, `on_reject`, `on_timeout`), if it has one;
/// a signal meanwhile abandons the rest of it.
async fn ending_action(
    stanza: &Stanza,
    writer: &Writer<'_>,
    report: &Report,
    cancel: &mut (impl std::future::Future<Output = &'static str> + Unpin),
    results: &mut Vec<crate::outcome::ActionResult>,
) {
    let action = stanza
        .approval
        .as_ref()
        .and_then(|a| actions::for_decision(&a.actions, report.decision));
    let (Some((name, action)), Some(key)) = (action, report.issue_key.as_deref()) else {
        return;
    };
    let on = actions::On {
        key,
        status: report.status.as_deref(),
    };
    let ran = tokio::select! {
        _ = actions::run(writer, on, name, action, results) => None,
        signal = cancel => Some(signal),
    };
    if let Some(signal) = ran {
        actions::abandon(name, action, &format!("{signal} received"), results);
    }
}

/// The `on_cancel` action (or `on_cancel_comment`), if the stanza has one.
fn on_cancel(stanza: &Stanza) -> Option<&crate::stanza::Action> {
    stanza.approval.as_ref()?.actions.on_cancel.as_ref()
}

/// The report of a run a signal stopped, after its `on_cancel` (within a short budget).
async fn cancelled(
    stanza: &Stanza,
    client: &mut JiraClient,
    dry_run: bool,
    tracker: &Tracker<'_>,
    signal: &str,
    results: &mut Vec<crate::outcome::ActionResult>,
) -> Report {
    tracing::warn!("{signal} received; stopping");
    let mut report = tracker.report(Decision::Cancelled);
    report.message = Some(format!("cancelled by {signal}"));
    // JSM: who had answered by then.
    if let Some(approval) = &stanza.approval {
        approvers_into(&mut report, tracker, approval);
    }
    if let (Some(action), Some(key)) = (on_cancel(stanza), tracker.key()) {
        // The timeout below is the bound; the client's deadline comes just after it, so that a
        // write still in flight then is reported as abandoned, not as failed.
        client.set_deadline(Instant::now() + CANCEL_COMMENT_BUDGET + Duration::from_millis(250));
        let writer = Writer::new(client, dry_run, stanza.jira.auth.secret().expose());
        let on = actions::On {
            key,
            status: report.status.as_deref(),
        };
        let run = actions::run(&writer, on, "on_cancel", action, results);
        if tokio::time::timeout(CANCEL_COMMENT_BUDGET, run)
            .await
            .is_err()
        {
            let why = format!(
                "not done within the {} a cancellation allows",
                humantime::format_duration(CANCEL_COMMENT_BUDGET)
            );
            actions::abandon("on_cancel", action, &why, results);
        }
    }
    report
}

async fn drive(
    stanza: &Stanza,
    client: &mut JiraClient,
    dry_run: bool,
    deadline: Instant,
    tracker: &mut Tracker<'_>,
) -> Report {
    match drive_inner(stanza, client, dry_run, deadline, tracker).await {
        Ok(report) => report,
        Err(e) => {
            // Out of time while Jira kept failing during the wait: the ticket was still pending
            // as far as anyone knows, so it is a timeout, with the cause.
            if tracker.waiting() && matches!(e, step::Error::Jira(jira::Error::Unreachable { .. }))
            {
                let mut report = tracker.report(Decision::Timeout);
                report.message = Some(format!(
                    "timed out while Jira was failing: {}",
                    describe_step(&e)
                ));
                return report;
            }
            let mut report = tracker.error(&describe_step(&e));
            report.exit_code = e.exit();
            report
        }
    }
}

async fn drive_inner(
    stanza: &Stanza,
    client: &mut JiraClient,
    dry_run: bool,
    deadline: Instant,
    tracker: &mut Tracker<'_>,
) -> Result<Report, step::Error> {
    // Bound before anything is written, so that no event about the ticket is missed; closed when
    // this future ends or is dropped (a signal), with the step.
    let wake = stanza.approval.as_ref().and_then(|a| a.wake.as_ref());
    let listener = match wake.filter(|_| !dry_run) {
        Some(wake) => Some(
            Listener::bind(wake)
                .await
                .map_err(|e| step::Error::Invalid(e.to_string()))?,
        ),
        None => None,
    };
    client.connect().await?;
    let (written, approval, approvals_field) =
        match write_ticket(client, stanza, dry_run, deadline, tracker).await {
            Ok(written) => written,
            Err(e) => return Err(explain(client, e).await),
        };
    let client = &*client;
    // The one dry-run branch of the run: nothing was sent, so there is nothing to wait for.
    let (Some(key), Some(approval), false) = (written.key.clone(), approval, dry_run) else {
        return written_only(client, written.key.as_deref(), dry_run, tracker).await;
    };

    let waiting = Waiting {
        key: &key,
        approval: &approval,
        first_read_now: !written.created,
        listener: listener.as_ref(),
        approvals_field: approvals_field.as_deref(),
    };
    wait_for_decision(client, waiting, deadline, tracker).await
}

/// Checks the criteria's statuses, resolves the field names and writes the ticket: what was
/// written, the criteria with field ids, and the id of JSM's Approvals field when they test an
/// approval and the site has that field.
async fn write_ticket(
    client: &JiraClient,
    stanza: &Stanza,
    dry_run: bool,
    deadline: Instant,
    tracker: &mut Tracker<'_>,
) -> Result<(step::Written, Option<Approval>, Option<String>), step::Error> {
    check_statuses(client, stanza).await?;
    check_service_desk(client, stanza).await?;
    let (catalog, approval) = resolve_fields(client, stanza).await?;
    let approvals_field = approval
        .as_ref()
        .filter(|a| !approval_tests(a).is_empty())
        .and_then(|_| catalog.approvals_field())
        .map(str::to_owned);
    let written = step::write(
        &Writer::new(client, dry_run, stanza.jira.auth.secret().expose()),
        &stanza.ticket,
        &catalog,
        deadline,
        tracker,
    )
    .await?;
    Ok((written, approval, approvals_field))
}

/// A failure before the wait that wrong credentials (or `api: v3` on a Jira without it) can
/// cause is explained after it happens (issue 12: no `/myself` before every create): the
/// credentials' error replaces it when `/myself` fails.
async fn explain(client: &mut JiraClient, error: step::Error) -> step::Error {
    let explainable = match &error {
        step::Error::Mismatch(_) | step::Error::Invalid(_) => true,
        step::Error::Jira(e) => {
            matches!(e, jira::Error::Status { .. } | jira::Error::Protocol { .. })
        }
    };
    if !explainable {
        return error;
    }
    match client.explain_failure().await {
        Some(cause) => cause.into(),
        None => error,
    }
}

/// What the wait is about: the ticket, its criteria, and the webhook listener that wakes it.
struct Waiting<'a> {
    key: &'a str,
    approval: &'a Approval,
    /// False right after creating the ticket (nobody can have decided yet).
    first_read_now: bool,
    listener: Option<&'a Listener>,
    /// JSM's Approvals field: the approvals come with each read of the issue.
    approvals_field: Option<&'a str>,
}

/// The wait and its ending: the decision, who made it and when, or how long it stayed pending.
async fn wait_for_decision(
    client: &JiraClient,
    waiting: Waiting<'_>,
    deadline: Instant,
    tracker: &mut Tracker<'_>,
) -> Result<Report, step::Error> {
    let Waiting {
        key,
        approval,
        first_read_now,
        listener,
        approvals_field,
    } = waiting;
    if let Some(listener) = listener {
        listener.watch(key, "");
    }
    let mut fields = poll_fields(approval);
    fields.extend(approvals_field.map(str::to_owned));
    let poller = Poller {
        client,
        key,
        fields,
        listener,
        jql: jql_rules(approval),
        approvals: (!approval_tests(approval).is_empty()).then(crate::jsm::Answers::default),
        approvals_field,
        // A ticket this run created has a short changelog: each poll brings it along, so the
        // one that decides also tells who did, without another request (issue 12).
        changelog: (!first_read_now).then(std::sync::Mutex::default),
    };
    let source = crate::hold::Held::new(&poller, key, approval, deadline);
    tracker.section_end();
    tracker.start_wait();
    let rules = poll::Rules {
        approve: &approval.approve,
        reject: approval.reject.as_ref(),
        order: approval.order,
    };
    let cadence = poll::Cadence {
        interval: approval.interval,
        max_interval: approval.max_interval,
        timeout: approval.timeout,
        wake: listener.map(|l| &*l.bell),
    };
    let end = poll::wait(
        &source,
        key,
        rules,
        cadence,
        deadline,
        first_read_now,
        &mut tracker.seen,
    )
    .await;
    let decision = match end {
        End::Decided(Verdict::Approved) => Decision::Approved,
        End::Decided(Verdict::Rejected) => Decision::Rejected,
        End::Decided(Verdict::Pending) | End::TimedOut => Decision::Timeout,
        End::Failed(e) if e.is_not_found() => {
            // 404 is "missing or invisible": rule out lost credentials first (API-NOTES §5).
            client.myself().await?;
            return Err(step::Error::Mismatch(format!(
                "{key} was deleted or is no longer visible to this user while waiting ({e})"
            )));
        }
        End::Failed(e) => return Err(e.into()),
        End::Blocked(reason) => {
            let mut report = blocked(&poller, tracker, reason).await;
            approvers_into(&mut report, tracker, approval);
            return Ok(report);
        }
    };
    let mut report = tracker.report(decision);
    match decision {
        Decision::Approved | Decision::Rejected => record_decider(&poller, &mut report).await,
        _ => {
            report.message = Some(format!(
                "still pending after {}",
                humantime::format_duration(Duration::from_secs(approval.timeout.as_secs()))
            ));
        }
    }
    approvers_into(&mut report, tracker, approval);
    Ok(report)
}

/// JSM: the approvers of the approval the criteria test (the named one, or the newest), as the
/// last read saw them; the one whose answer completed it decided it.
fn approvers_into<Id>(report: &mut Report, tracker: &Tracker<'_>, approval: &Approval<Id>) {
    if let Some(approvals) = tracker
        .seen
        .last
        .as_ref()
        .and_then(|s| s.approvals.as_deref())
    {
        let name = approval_tests(approval).into_iter().find_map(|t| t.name);
        crate::jsm::report(report, approvals, name.as_deref());
    }
}

/// The report of an approval the change window blocked (issue 9): who approved, and why it may
/// not go.
async fn blocked(poller: &Poller<'_>, tracker: &Tracker<'_>, reason: String) -> Report {
    let mut report = tracker.report(Decision::Blocked);
    record_decider(poller, &mut report).await;
    report.message = Some(reason);
    report
}

/// Who made the last status change and when (the changelog), into `report`.
async fn record_decider(poller: &Poller<'_>, report: &mut Report) {
    let key = poller.key;
    match poller.decided_by().await {
        Ok(Some(history)) => {
            report.decided_by = history.author.as_ref().map(jira::models::User::label);
            report.decided_at = Some(history.created);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("could not read who decided {key}: {e}"),
    }
}

/// The JSM approval tests of both trees.
fn approval_tests<Id>(approval: &Approval<Id>) -> Vec<crate::criteria::approval::ApprovalTest> {
    let mut tests = approval.approve.approval_tests();
    tests.extend(approval.reject.iter().flat_map(Criteria::approval_tests));
    tests
}

/// SPEC section 7: criteria testing a JSM approval (and `request_type`) need the ticket's project
/// to be a service desk on a site with Jira Service Management; say so before anything is
/// written (exit 5). A request to create finds its service desk before the create anyway
/// (`jsm::new_request`), so it is not looked up twice.
async fn check_service_desk(client: &JiraClient, stanza: &Stanza) -> Result<(), step::Error> {
    let creates_request = stanza.ticket.request_type.is_some() && stanza.ticket.key().is_none();
    match workflow::project_of(&stanza.ticket)
        .filter(|_| crate::jsm::wanted(stanza) && !creates_request)
    {
        Some(project) => crate::jsm::service_desk(client, &project).await.map(|_| ()),
        None => Ok(()),
    }
}

/// The report of a run that does not wait: the stanza has no approval section, or `--dry-run`
/// (after which a create leaves no ticket, and an update's writes were only printed).
async fn written_only(
    client: &JiraClient,
    key: Option<&str>,
    dry_run: bool,
    tracker: &mut Tracker<'_>,
) -> Result<Report, step::Error> {
    let Some(key) = key else {
        let mut report = tracker.report(Decision::Written);
        report.message = Some("dry run: nothing was written".into());
        return Ok(report);
    };
    tracker.seen.last = Some(read(client, key, &[]).await?);
    let mut report = tracker.report(Decision::Written);
    if dry_run {
        report.message = Some("dry run: the writes are printed on stdout; not waiting".into());
    }
    Ok(report)
}

/// Issue 8 #4: criteria naming a status the project does not have can never match, so the run
/// stops before writing anything rather than wait until its timeout. One request; when Jira
/// cannot list the statuses (permissions, an old version), a warning and the run goes on.
async fn check_statuses(client: &JiraClient, stanza: &Stanza) -> Result<(), step::Error> {
    let wanted: Vec<String> = stanza
        .approval
        .iter()
        .flat_map(Approval::status_names)
        .collect();
    let Some(project) = workflow::project_of(&stanza.ticket).filter(|_| !wanted.is_empty()) else {
        return Ok(());
    };
    match workflow::project_statuses(client, &project).await {
        Ok(statuses) if !statuses.is_empty() => {
            for status in &wanted {
                workflow::criteria_status(status, &project, &statuses)?;
            }
        }
        Ok(_) => tracing::warn!(
            "cannot check the criteria's status names against {project}: Jira listed no statuses"
        ),
        Err(e) => tracing::warn!(
            "cannot check the criteria's status names against {project}: {e}; going on"
        ),
    }
    Ok(())
}

/// Reads Jira's field list when the ticket or the criteria name fields, and resolves the
/// criteria's field names to ids. When nothing names a field, the catalog is empty: no lookup
/// will ask it anything.
async fn resolve_fields(
    client: &JiraClient,
    stanza: &Stanza,
) -> Result<(Catalog, Option<Approval>), step::Error> {
    // A JSM approval criterion reads the approvals with the issue, through the Approvals field.
    let needs_catalog = !stanza.ticket.fields.is_empty()
        || stanza
            .approval
            .as_ref()
            .is_some_and(|a| !a.field_names().is_empty() || !approval_tests(a).is_empty());
    let catalog = if needs_catalog {
        Catalog::new(client.fields().await?)
    } else {
        Catalog::default()
    };
    let mut resolve = |name: &str| catalog.resolve(name).map(|d| d.id.clone());
    let approval = stanza
        .approval
        .as_ref()
        .map(|a| a.resolve(&mut resolve))
        .transpose()?;
    Ok((catalog, approval))
}

/// The fields a poll reads: status and resolution, and those the criteria test.
fn poll_fields(approval: &Approval) -> Vec<String> {
    let mut fields = vec!["status".to_owned(), "resolution".to_owned()];
    for id in approval
        .approve
        .field_ids()
        .into_iter()
        .chain(approval.reject.iter().flat_map(Criteria::field_ids))
    {
        if !fields.contains(&id) {
            fields.push(id);
        }
    }
    // The change window's fields come with the same read (issue 9).
    for id in crate::hold::field_ids(approval.window.as_ref()) {
        if !fields.contains(&id) {
            fields.push(id);
        }
    }
    fields
}

/// Reads the poll's fields in one request.
struct Poller<'a> {
    client: &'a JiraClient,
    key: &'a str,
    fields: Vec<String>,
    /// Learns the issue's id from each read, so that events naming only the id wake the wait.
    listener: Option<&'a Listener>,
    /// The criteria, when they have `jql` criteria for Jira to answer after each read.
    jql: Option<poll::Rules<'a>>,
    /// When the criteria test a JSM approval: each poll also reads the request's approvals, and
    /// this remembers when each answer was first seen.
    approvals: Option<crate::jsm::Answers>,
    /// JSM's Approvals field, read with the issue: the approvals without a request of their own
    /// (SPEC section 7: at most 2 requests per poll with fields, approvals and JQL). Without it,
    /// or when a read does not carry it, they come from the service desk API.
    approvals_field: Option<&'a str>,
    /// When set, each read brings the changelog along, and the last one is kept here.
    changelog: Option<std::sync::Mutex<Option<Vec<History>>>>,
}

impl Poller<'_> {
    /// Who made the last status change: from the last read's changelog when the reads brought
    /// it, else one more read.
    async fn decided_by(&self) -> Result<Option<History>, jira::Error> {
        let kept = self.changelog.as_ref().and_then(|c| c.lock().ok()?.take());
        match kept {
            Some(histories) => Ok(self.client.last_status_change(histories)),
            None => self.client.decided_by(self.key).await,
        }
    }
}

impl IssueSource for Poller<'_> {
    async fn read(&self) -> Result<Snapshot, jira::Error> {
        let with_changelog = self.changelog.is_some();
        let (id, mut snapshot, histories) =
            read_with_id(self.client, self.key, &self.fields, with_changelog).await?;
        if let Some(listener) = self.listener {
            listener.watch(self.key, &id);
        }
        if let (Some(kept), Some(histories)) = (&self.changelog, histories) {
            if let Ok(mut kept) = kept.lock() {
                *kept = Some(histories);
            }
        }
        if let Some(answers) = &self.approvals {
            let carried = self
                .approvals_field
                .and_then(|id| snapshot.fields.get(id))
                .and_then(jira::servicedesk::approvals_in_field);
            let mut list = match carried {
                Some(list) => list,
                None => self.client.approvals(self.key).await?,
            };
            // Jira's own time format, as `completedDate.jira` and the changelog give it.
            let now = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
            let now = format!("{}+0000", now.trim_end_matches('Z'));
            for answer in answers.note(&mut list, &now) {
                tracing::info!("{}: {answer}", self.key);
            }
            snapshot.approvals = Some(list);
        }
        if let Some(rules) = self.jql {
            let (client, key, id) = (self.client, self.key, id.as_str());
            crate::criteria::jql::answer(
                rules.order,
                rules.approve,
                rules.reject,
                &mut snapshot,
                |condition: String| async move { client.finds(key, id, &condition).await },
            )
            .await?;
        }
        Ok(snapshot)
    }
}

/// The rules for [`Poller::jql`]: `Some` when a criterion is `jql` (issue 9).
fn jql_rules(approval: &Approval) -> Option<poll::Rules<'_>> {
    let has_jql = !approval.approve.jql_queries().is_empty()
        || approval
            .reject
            .as_ref()
            .is_some_and(|r| !r.jql_queries().is_empty());
    has_jql.then_some(poll::Rules {
        approve: &approval.approve,
        reject: approval.reject.as_ref(),
        order: approval.order,
    })
}

async fn read(client: &JiraClient, key: &str, fields: &[String]) -> Result<Snapshot, jira::Error> {
    Ok(read_with_id(client, key, fields, false).await?.1)
}

/// Reads the issue's id and the snapshot of `fields`, and its changelog when asked.
async fn read_with_id(
    client: &JiraClient,
    key: &str,
    fields: &[String],
    changelog: bool,
) -> Result<(String, Snapshot, Option<Vec<History>>), jira::Error> {
    let wanted: Vec<String> = if fields.is_empty() {
        vec!["status".into(), "resolution".into()]
    } else {
        fields.to_vec()
    };
    let issue = client.issue(key, &wanted, changelog).await?;
    let id = issue.id;
    let histories = issue.changelog.map(|c| c.histories);
    snapshot(issue.fields)
        .map(|s| (id, s, histories))
        .ok_or_else(|| jira::Error::Protocol {
            method: "GET".into(),
            path: format!("issue/{key}"),
            detail: "the answer has no status; not deciding on an incomplete read".into(),
        })
}

fn snapshot(fields: serde_json::Map<String, Json>) -> Option<Snapshot> {
    let status = fields.get("status")?;
    let name = status.get("name")?.as_str()?.to_owned();
    let category = status
        .pointer("/statusCategory/key")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned();
    let resolution = fields
        .get("resolution")
        .and_then(|r| r.get("name"))
        .and_then(Json::as_str)
        .map(str::to_owned);
    Some(Snapshot {
        status: name,
        category,
        resolution,
        fields,
        ..Snapshot::default()
    })
}

#[cfg(test)]
mod tests {
    use super::snapshot;
    use serde_json::json;

    #[test]
    fn snapshots_need_a_status() {
        let fields = json!({"status": {"name": "Approved", "statusCategory": {"key": "done"}}, "resolution": {"name": "Done"}});
        let snap = snapshot(fields.as_object().unwrap().clone()).unwrap();
        assert_eq!(
            (
                snap.status.as_str(),
                snap.category.as_str(),
                snap.resolution.as_deref()
            ),
            ("Approved", "done", Some("Done"))
        );
        assert!(snapshot(json!({"resolution": null}).as_object().unwrap().clone()).is_none());
    }
}
