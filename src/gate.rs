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

/// How long a cancelled step may spend on its `on_cancel_comment`.
const CANCEL_COMMENT_BUDGET: Duration = Duration::from_millis(1500);

/// Runs the step to a report. `cancel` resolves when the process is asked to stop, `again` when
/// it is asked a second time: then the cancellation's comment is abandoned (issue 8 #16).
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
    tracker.section_start();
    // When `cancel` wins, the run's future is dropped and `tracker` holds what was known.
    let outcome = tokio::select! {
        report = drive(stanza, &mut client, dry_run, deadline, &mut tracker) => Ok(report),
        signal = cancel => Err(signal),
    };
    tracker.section_end();
    match outcome {
        Ok(report) => report,
        Err(signal) => {
            let cancelled = cancelled(stanza, &mut client, dry_run, &tracker, signal);
            tokio::select! {
                report = cancelled => report,
                signal = again => {
                    tracing::warn!("second {signal} received; not waiting for Jira any more");
                    let mut report = tracker.report(Decision::Cancelled);
                    report.message = Some(format!("cancelled by a second {signal}"));
                    report
                }
            }
        }
    }
}

/// The report of a run a signal stopped, after the `on_cancel_comment` (within a short budget).
async fn cancelled(
    stanza: &Stanza,
    client: &mut JiraClient,
    dry_run: bool,
    tracker: &Tracker<'_>,
    signal: &str,
) -> Report {
    tracing::warn!("{signal} received; stopping");
    let mut report = tracker.report(Decision::Cancelled);
    report.message = Some(format!("cancelled by {signal}"));
    let comment = stanza
        .approval
        .as_ref()
        .and_then(|a| a.on_cancel_comment.as_deref());
    if let (Some(comment), Some(key)) = (comment, tracker.key()) {
        client.set_deadline(Instant::now() + CANCEL_COMMENT_BUDGET);
        let writer = Writer::new(client, dry_run, stanza.jira.auth.secret().expose());
        match tokio::time::timeout(CANCEL_COMMENT_BUDGET, writer.add_comment(key, comment)).await {
            Ok(Ok(applied)) => applied.log(format_args!("commented on {key}: cancelled")),
            Ok(Err(e)) => tracing::warn!("could not comment on {key}: {e}"),
            Err(_) => tracing::warn!("could not comment on {key} in time"),
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
    let (written, approval) = match write_ticket(client, stanza, dry_run, deadline, tracker).await {
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
    };
    wait_for_decision(client, waiting, deadline, tracker).await
}

/// Checks the criteria's statuses, resolves the field names and writes the ticket.
async fn write_ticket(
    client: &JiraClient,
    stanza: &Stanza,
    dry_run: bool,
    deadline: Instant,
    tracker: &mut Tracker<'_>,
) -> Result<(step::Written, Option<Approval>), step::Error> {
    check_statuses(client, stanza).await?;
    let (catalog, approval) = resolve_fields(client, stanza).await?;
    let written = step::write(
        &Writer::new(client, dry_run, stanza.jira.auth.secret().expose()),
        &stanza.ticket,
        &catalog,
        deadline,
        tracker,
    )
    .await?;
    Ok((written, approval))
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
    } = waiting;
    if let Some(listener) = listener {
        listener.watch(key, "");
    }
    let source = Poller {
        client,
        key,
        fields: poll_fields(approval),
        listener,
        // A ticket this run created has a short changelog: each poll brings it along, so the
        // one that decides also tells who did, without another request (issue 12).
        changelog: (!first_read_now).then(std::sync::Mutex::default),
    };
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
    };
    let mut report = tracker.report(decision);
    match decision {
        Decision::Approved | Decision::Rejected => match source.decided_by().await {
            Ok(Some(history)) => {
                report.decided_by = history.author.as_ref().map(jira::models::User::label);
                report.decided_at = Some(history.created);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("could not read who decided {key}: {e}"),
        },
        _ => {
            report.message = Some(format!(
                "still pending after {}",
                humantime::format_duration(Duration::from_secs(approval.timeout.as_secs()))
            ));
        }
    }
    Ok(report)
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
    let needs_catalog = !stanza.ticket.fields.is_empty()
        || stanza
            .approval
            .as_ref()
            .is_some_and(|a| !a.field_names().is_empty());
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
    fields
}

/// Reads the poll's fields in one request.
struct Poller<'a> {
    client: &'a JiraClient,
    key: &'a str,
    fields: Vec<String>,
    /// Learns the issue's id from each read, so that events naming only the id wake the wait.
    listener: Option<&'a Listener>,
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
        let (id, snapshot, histories) =
            read_with_id(self.client, self.key, &self.fields, with_changelog).await?;
        if let Some(listener) = self.listener {
            listener.watch(self.key, &id);
        }
        if let (Some(kept), Some(histories)) = (&self.changelog, histories) {
            if let Ok(mut kept) = kept.lock() {
                *kept = Some(histories);
            }
        }
        Ok(snapshot)
    }
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
