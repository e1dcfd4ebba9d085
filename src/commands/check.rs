//! `jira-gate check`: test a stanza against the real Jira without writing anything.
//!
//! Each item is checked and reported on its own line, so one run shows every problem: the
//! credentials (`/myself`), the project, the issue type, every field name (ticket fields and
//! criteria), and the transition. A transition can only be listed for an existing issue; for a
//! ticket still to be created, the name is checked against the project's statuses instead.

use serde_json::Value as Json;
use tokio::time::Instant;

use crate::error::Error;
use crate::jira::fields::Catalog;
use crate::jira::workflow;
use crate::jira::{self, JiraClient};
use crate::stanza::{Approval, Stanza};

/// The lines `check` prints, and how many were problems.
#[derive(Default)]
struct Tally {
    problems: usize,
}

impl Tally {
    fn report(&mut self, result: Result<String, jira::Error>) {
        match result {
            Ok(line) => eprintln!("  ok       {line}"),
            Err(e) => {
                self.problems += 1;
                eprintln!("  problem  {e}");
            }
        }
    }
}

/// A line that is neither ok nor a problem: only the run itself can tell.
fn note(line: &str) {
    eprintln!("  note     {line}");
}

/// Runs every check; `Ok` when all pass.
pub async fn run(stanza: &Stanza) -> Result<(), Error> {
    let deadline = Instant::now() + stanza.jira.request_timeout * 3;
    let mut client = JiraClient::new(&stanza.jira, deadline)?;
    let mut tally = Tally::default();
    eprintln!("jira-gate check: {}", stanza.jira.url);
    // Without working credentials nothing else can be checked.
    let user = client.connect().await?;
    tally.report(Ok(format!(
        "credentials: authenticated as {}",
        user.label()
    )));
    let client = &client;
    check_project(client, stanza, &mut tally).await;
    check_fields(client, stanza, &mut tally).await;
    check_issue(client, stanza, &mut tally).await;
    check_statuses(client, stanza, &mut tally).await;
    let problems = tally.problems;
    if problems == 0 {
        eprintln!("jira-gate check: all good");
        Ok(())
    } else {
        Err(jira::Error::Mismatch(format!(
            "{problems} problem{} found",
            if problems == 1 { "" } else { "s" }
        ))
        .into())
    }
}

/// The project and the issue type.
async fn check_project(client: &JiraClient, stanza: &Stanza, tally: &mut Tally) {
    let ticket = &stanza.ticket;
    if let Some(project_key) = ticket.project() {
        match client.project(project_key).await {
            Ok(project) => {
                tally.report(Ok(format!("project {}", project.key)));
                if let Some(wanted) = ticket.issue_type() {
                    tally.report(
                        workflow::issue_type(&project, wanted)
                            .map(|t| format!("issue type {} (id {})", t.name, t.id)),
                    );
                }
            }
            Err(e) => tally.report(Err(e)),
        }
    }
}

/// Every field name, of the ticket and of the criteria.
async fn check_fields(client: &JiraClient, stanza: &Stanza, tally: &mut Tally) {
    let ticket = &stanza.ticket;
    let mut names: Vec<String> = ticket.fields.iter().map(|(name, _)| name.clone()).collect();
    if let Some(approval) = &stanza.approval {
        names.extend(approval.field_names());
    }
    if !names.is_empty() {
        match client.fields().await {
            Ok(defs) => {
                let catalog = Catalog::new(defs);
                for name in names {
                    tally.report(
                        catalog
                            .resolve(&name)
                            .map(|d| format!("field {name:?} is {}", d.id)),
                    );
                }
            }
            Err(e) => tally.report(Err(e)),
        }
    }
}

/// The issue to update, and its transition.
async fn check_issue(client: &JiraClient, stanza: &Stanza, tally: &mut Tally) {
    let ticket = &stanza.ticket;
    if let Some(key) = ticket.key() {
        match client.issue(key, &["status".to_owned()], false).await {
            Ok(issue) => {
                let status = issue
                    .fields
                    .get("status")
                    .and_then(|s| s.get("name"))
                    .and_then(Json::as_str)
                    .unwrap_or("?")
                    .to_owned();
                tally.report(Ok(format!("issue {key} (status \"{status}\")")));
                if let Some(wanted) = &ticket.transition {
                    tally.report(
                        check_transition(client, key, wanted, ticket.transition_by, &status).await,
                    );
                }
            }
            Err(e) => tally.report(Err(workflow::not_found(e, key))),
        }
    }
}

/// The criteria's status names (and a transition to apply after a create) against the project's statuses.
async fn check_statuses(client: &JiraClient, stanza: &Stanza, tally: &mut Tally) {
    let ticket = &stanza.ticket;
    // Status names: those of the criteria can never match if the project has no such status;
    // a transition name can only be verified once the ticket exists.
    let project = ticket.project().map(str::to_owned).or_else(|| {
        ticket
            .key()
            .and_then(|k| k.rsplit_once('-'))
            .map(|(p, _)| p.to_owned())
    });
    let wanted: Vec<String> = stanza
        .approval
        .iter()
        .flat_map(Approval::status_names)
        .collect();
    if let Some(project) = project
        .filter(|_| !wanted.is_empty() || (ticket.key().is_none() && ticket.transition.is_some()))
    {
        match project_status_names(client, &project).await {
            Ok(names) => {
                for status in &wanted {
                    tally.report(if names.iter().any(|n| n.eq_ignore_ascii_case(status)) {
                        Ok(format!("status {status:?} exists in {project}"))
                    } else {
                        Err(jira::Error::Mismatch(format!(
                            "the criteria name status {status:?}, which {project} does not have, so they can never match; its statuses: {}",
                            names.join(", ")
                        )))
                    });
                }
                if let (None, Some(transition)) = (ticket.key(), &ticket.transition) {
                    // Neither ok nor a problem: only the run itself can tell.
                    note(
                        &if names.iter().any(|n| n.eq_ignore_ascii_case(transition)) {
                            format!(
                                "transition {transition:?} names a status of {project}; whether it is available is known once the ticket exists"
                            )
                        } else {
                            format!(
                                "transition {transition:?} is not a status of {project}; if it is a transition's name, it is checked when the ticket exists"
                            )
                        },
                    );
                }
            }
            Err(e) => tally.report(Err(e)),
        }
    }
}

async fn check_transition(
    client: &JiraClient,
    key: &str,
    wanted: &str,
    by: workflow::TransitionBy,
    status: &str,
) -> Result<String, jira::Error> {
    let available = client.transitions(key).await?;
    match workflow::pick_transition_by(&available, wanted, by) {
        Some(t) => Ok(format!(
            "transition {wanted:?} is available on {key} (id {})",
            t.id
        )),
        None if status.eq_ignore_ascii_case(wanted) => Ok(format!("{key} is already \"{status}\"")),
        None => Err(jira::Error::Mismatch(format!(
            "no transition named or leading to {wanted:?} from {key}'s status \"{status}\"; available: {}",
            workflow::describe_transitions(&available)
        ))),
    }
}

/// Every status name of the project's workflows (`GET /project/{key}/statuses`).
async fn project_status_names(
    client: &JiraClient,
    project: &str,
) -> Result<Vec<String>, jira::Error> {
    let types: Json = client.project_statuses(project).await?;
    let mut names: Vec<String> = Vec::new();
    for issue_type in types.as_array().into_iter().flatten() {
        for status in issue_type
            .get("statuses")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = status.get("name").and_then(Json::as_str) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
    }
    Ok(names)
}
