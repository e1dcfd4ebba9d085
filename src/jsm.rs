//! Jira Service Management, the step's side (SPEC section 7): the service desk behind the
//! ticket's project (a clear error when there is none), the answers of a request's approvers as
//! the polls see them, and the approvers and the deciding approver in the report. The reads are
//! `jira::servicedesk`'s; the criterion is `criteria::approval`.

use std::sync::Mutex;

use crate::criteria::approval::{self, Answer, JsmApproval};
use crate::jira::JiraClient;
use crate::jira::servicedesk::ServiceDesk;
use crate::outcome::{ApproverReport, Report};
use crate::step_error::Error;

/// The service desk of `project` (key or id), or why there is none: the site has no Jira Service
/// Management, or the project is not a service desk (exit 5 either way, with the desks there are).
pub async fn service_desk(client: &JiraClient, project: &str) -> Result<ServiceDesk, Error> {
    let desks = match client.service_desks().await {
        Ok(desks) => desks,
        Err(e) if e.no_service_management() => {
            return Err(Error::Mismatch(format!(
                "{} has no Jira Service Management ({e}); `approval:` criteria and `ticket.request_type` need it (hint: use `status:` criteria and `ticket.type` on this site)",
                client.url("")
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let found = desks
        .iter()
        .find(|d| d.project_key.eq_ignore_ascii_case(project) || d.project_id == project);
    if let Some(desk) = found {
        return Ok(desk.clone());
    }
    let list: Vec<String> = desks
        .iter()
        .map(|d| format!("{} ({})", d.project_key, d.project_name))
        .collect();
    Err(Error::Mismatch(format!(
        "project {project} is not a Jira Service Management service desk, so it has no approvals or request types (service desks: {}) (hint: use a service desk project, or `status:` criteria and `ticket.type`)",
        if list.is_empty() {
            "none visible to this user".to_owned()
        } else {
            list.join(", ")
        }
    )))
}

/// The order in which the polls saw the approvers' answers, which JSM does not date.
#[derive(Debug, Default)]
pub struct Answers {
    seen: Mutex<(u32, Vec<Seen>)>,
}

/// One answer seen: approval id, approver, order, when.
#[derive(Debug)]
struct Seen {
    approval: String,
    approver: String,
    order: u32,
    at: String,
}

impl Answers {
    /// Marks in `approvals` when each answer was first seen (`now`, ISO 8601) and in which order.
    pub fn note(&self, approvals: &mut [JsmApproval], now: &str) {
        let mut guard = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (counter, seen) = &mut *guard;
        for a in approvals.iter_mut() {
            for who in a
                .approvers
                .iter_mut()
                .filter(|w| w.answer != Answer::Pending)
            {
                let known = seen
                    .iter()
                    .find(|s| s.approval == a.id && s.approver == who.name);
                let (order, at) = if let Some(s) = known {
                    (s.order, s.at.clone())
                } else {
                    *counter += 1;
                    seen.push(Seen {
                        approval: a.id.clone(),
                        approver: who.name.clone(),
                        order: *counter,
                        at: now.to_owned(),
                    });
                    (*counter, now.to_owned())
                };
                who.seen_order = order;
                who.seen_at = Some(at);
            }
        }
    }
}

/// Puts the approvers of the approval the criteria look at (the named one, else the newest) in the
/// report; once it is decided, `decided_by` is the approver whose answer completed it and
/// `decided_at` when it completed.
pub fn report(report: &mut Report, approvals: &[JsmApproval], name: Option<&str>) {
    let Some(chosen) = approval::pick(approvals, name) else {
        return;
    };
    let completer = chosen.completed_by();
    report.approvers = chosen
        .approvers
        .iter()
        .map(|a| ApproverReport {
            name: a.name.clone(),
            decision: a.answer.as_str().to_owned(),
            time: if completer.is_some_and(|c| c.name == a.name) {
                chosen.completed_at.clone().or(a.seen_at.clone())
            } else {
                a.seen_at.clone()
            },
        })
        .collect();
    if let Some(who) = completer {
        report.decided_by = Some(who.name.clone());
        report.decided_at = chosen.completed_at.clone().or(who.seen_at.clone());
    }
}
