//! `jira-gate check`: test a stanza against the real Jira without writing anything.
//!
//! Each item is checked and reported on its own line, so one run shows every problem: the
//! credentials (`/myself`), the project, the issue type, every field name (ticket fields and
//! criteria), and the transition. A transition can only be listed for an existing issue; for a
//! ticket still to be created, the name is checked against the project's statuses instead. The
//! ticket's fields go through the same create or edit screen checks as in `run`
//! ([`workflow::shape_fields`]): on the screen, option values allowed.

use tokio::time::Instant;

use crate::error::Error;
use crate::fields::Catalog;
use crate::jira::models::{IssueType, Project};
use crate::jira::{self, JiraClient};
use crate::logging::{self, Level};
use crate::stanza::{Approval, Stanza};
use crate::step;
use crate::workflow::{self, Screen};

/// A problem as `check` prints it: Jira's errors with their hint.
trait Problem {
    fn describe(&self) -> String;
}

impl Problem for jira::Error {
    fn describe(&self) -> String {
        crate::error::describe_jira(self)
    }
}

impl Problem for step::Error {
    fn describe(&self) -> String {
        crate::error::describe_step(self)
    }
}

impl<T: Problem> Problem for &T {
    fn describe(&self) -> String {
        (*self).describe()
    }
}

/// The lines `check` prints, and how many were problems.
#[derive(Default)]
struct Tally {
    problems: usize,
}

impl Tally {
    fn ok(&mut self, line: &str) {
        self.report::<step::Error>(Ok(line.to_owned()));
    }

    fn report<E: Problem>(&mut self, result: Result<String, E>) {
        match result {
            Ok(line) => logging::line(Level::Info, &format!("  ok       {line}"), None),
            Err(e) => {
                self.problems += 1;
                logging::line(Level::Warn, &format!("  problem  {}", e.describe()), None);
            }
        }
    }
}

/// A line that is neither ok nor a problem: only the run itself can tell.
fn note(line: &str) {
    logging::line(Level::Info, &format!("  note     {line}"), None);
}

/// Runs every check; `Ok` when all pass.
pub async fn run(stanza: &Stanza) -> Result<(), Error> {
    let deadline = Instant::now() + stanza.jira.request_timeout * 3;
    let mut client = JiraClient::new(&stanza.jira, deadline)?;
    let mut tally = Tally::default();
    logging::line(
        Level::Info,
        &format!("jira-gate check: {}", stanza.jira.url),
        None,
    );
    // What a Jira admin registers for `approval.wake`: from the stanza alone, so it is printed
    // even when Jira cannot be reached.
    if let Some(wake) = stanza.approval.as_ref().and_then(|a| a.wake.as_ref()) {
        for line in crate::wake_guide::lines(wake, &stanza.ticket) {
            note(&format!("wake: {line}"));
        }
    }
    // Without working credentials nothing else can be checked.
    client.connect().await?;
    client.confirm_v3().await?;
    let user = client.myself().await?;
    tally.ok(&format!("credentials: authenticated as {}", user.label()));
    let client = &client;
    let create = check_project(client, stanza, &mut tally).await;
    let catalog = check_fields(client, stanza, &mut tally).await;
    let exists = check_issue(client, stanza, &mut tally).await;
    if let Some(catalog) = &catalog {
        let screen = match (&create, stanza.ticket.key()) {
            (Some((project, issue_type)), _) => Some(Screen::Create(&project.key, issue_type)),
            (None, Some(key)) if exists => Some(Screen::Edit(key)),
            _ => None,
        };
        if let Some(screen) = screen {
            check_screen(client, stanza, catalog, screen, &mut tally).await;
        }
    }
    check_statuses(client, stanza, &mut tally).await;
    let problems = tally.problems;
    if problems == 0 {
        logging::line(Level::Info, "jira-gate check: all good", None);
        Ok(())
    } else {
        Err(step::Error::Mismatch(format!(
            "{problems} problem{} found",
            if problems == 1 { "" } else { "s" }
        ))
        .into())
    }
}

/// The project and the issue type of a ticket to create, when both exist.
async fn check_project(
    client: &JiraClient,
    stanza: &Stanza,
    tally: &mut Tally,
) -> Option<(Project, IssueType)> {
    let ticket = &stanza.ticket;
    let project_key = ticket.project()?;
    match workflow::project(client, project_key).await {
        Ok(project) => {
            tally.ok(&format!("project {}", project.key));
            let found = workflow::issue_type(&project, ticket.issue_type()?);
            tally.report(
                found
                    .as_ref()
                    .map(|t| format!("issue type {} (id {})", t.name, t.id)),
            );
            found.ok().map(|t| (project, t))
        }
        Err(e) => {
            tally.report::<step::Error>(Err(e));
            None
        }
    }
}

/// The ticket's fields against the create or edit screen, as `run` checks them.
async fn check_screen(
    client: &JiraClient,
    stanza: &Stanza,
    catalog: &Catalog,
    screen: Screen<'_>,
    tally: &mut Tally,
) {
    let fields = &stanza.ticket.fields;
    if fields.is_empty() {
        return;
    }
    let place = match screen {
        Screen::Create(project, issue_type) => {
            format!("the create screen of {project} / {}", issue_type.name)
        }
        Screen::Edit(key) => format!("the edit screen of {key}"),
    };
    tally.report(
        workflow::shape_fields(client, fields, catalog, screen)
            .await
            .map(|_| format!("the ticket's fields and values fit {place}")),
    );
}

/// Every field name, of the ticket and of the criteria; the catalog when all of them are known.
async fn check_fields(client: &JiraClient, stanza: &Stanza, tally: &mut Tally) -> Option<Catalog> {
    let ticket = &stanza.ticket;
    let mut names: Vec<String> = ticket.fields.iter().map(|(name, _)| name.clone()).collect();
    if let Some(approval) = &stanza.approval {
        names.extend(approval.field_names());
    }
    if names.is_empty() {
        return None;
    }
    match client.fields().await {
        Ok(defs) => {
            let catalog = Catalog::new(defs);
            let mut all_known = true;
            for name in names {
                let found = catalog.resolve(&name);
                all_known &= found.is_ok();
                tally.report(found.map(|d| format!("field {name:?} is {}", d.id)));
            }
            all_known.then_some(catalog)
        }
        Err(e) => {
            tally.report::<jira::Error>(Err(e));
            None
        }
    }
}

/// The issue to update, and its transition; true when it exists.
async fn check_issue(client: &JiraClient, stanza: &Stanza, tally: &mut Tally) -> bool {
    let ticket = &stanza.ticket;
    let Some(key) = ticket.key() else {
        return false;
    };
    let wanted: Vec<String> = std::iter::once("status")
        .chain(workflow::TARGET_FIELDS)
        .map(str::to_owned)
        .collect();
    match client.issue(key, &wanted, false).await {
        Ok(issue) => {
            if ticket.project().is_some() || ticket.issue_type().is_some() {
                tally.report(
                    workflow::is_target(&issue, key, ticket.project(), ticket.issue_type())
                        .map(|()| format!("{key} is in the project and of the type written")),
                );
            }
            let status = workflow::status_of(&issue).unwrap_or_else(|| "?".to_owned());
            tally.ok(&format!("issue {key} (status \"{status}\")"));
            if let Some(wanted) = &ticket.transition {
                tally.report(
                    check_transition(client, key, wanted, ticket.transition_by, &status).await,
                );
            }
            true
        }
        Err(e) => {
            tally.report(Err(workflow::not_found(e, key)));
            false
        }
    }
}

/// The criteria's status names (and a transition to apply after a create) against the project's statuses.
async fn check_statuses(client: &JiraClient, stanza: &Stanza, tally: &mut Tally) {
    let ticket = &stanza.ticket;
    // Status names: those of the criteria can never match if the project has no such status;
    // a transition name can only be verified once the ticket exists.
    let project = workflow::project_of(ticket);
    let wanted: Vec<String> = stanza
        .approval
        .iter()
        .flat_map(Approval::status_names)
        .collect();
    if let Some(project) = project
        .filter(|_| !wanted.is_empty() || (ticket.key().is_none() && ticket.transition.is_some()))
    {
        match workflow::project_statuses(client, &project).await {
            Ok(names) => {
                for status in &wanted {
                    tally.report(
                        workflow::criteria_status(status, &project, &names)
                            .map(|()| format!("status {status:?} exists in {project}")),
                    );
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
            Err(e) => tally.report::<jira::Error>(Err(e)),
        }
    }
}

async fn check_transition(
    client: &JiraClient,
    key: &str,
    wanted: &str,
    by: workflow::TransitionBy,
    status: &str,
) -> Result<String, step::Error> {
    let available = client.transitions(key).await?;
    match workflow::pick_transition_by(&available, wanted, by) {
        Some(t) => Ok(format!(
            "transition {wanted:?} is available on {key} (id {})",
            t.id
        )),
        None if status.eq_ignore_ascii_case(wanted) => Ok(format!("{key} is already \"{status}\"")),
        None => Err(step::Error::Mismatch(format!(
            "no transition named or leading to {wanted:?} from {key}'s status \"{status}\"; available: {}",
            workflow::describe_transitions(&available)
        ))),
    }
}
