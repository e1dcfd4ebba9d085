//! `jira-gate check`: test a stanza against the real Jira without writing anything.
//!
//! Each item is checked and reported on its own line, so one run shows every problem: the
//! credentials (`/myself`), the project, the issue type, every field name (ticket fields and
//! criteria), and the transition. A transition can only be listed for an existing issue; for a
//! ticket still to be created, the name is checked against the project's statuses instead. The
//! ticket's fields go through the same create or edit screen checks as in `run`
//! ([`workflow::shape_fields`]): on the screen, option values allowed. The actions
//! (`approval.on_*`, `finish.*`, issue 9) have their field names and transitions checked too.
//! With Jira Service Management in the stanza, the service desk, the request type and its form
//! are checked too ([`crate::jsm::check`]).

use tokio::time::Instant;

use crate::actions;
use crate::criteria::Criteria;
use crate::error::Error;
use crate::fields::Catalog;
use crate::jira::models::{IssueType, Project};
use crate::jira::{self, JiraClient};
use crate::logging::{self, Level};
use crate::stanza::{Approval, ChangeWindow, Stanza};
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
    let statuses = project_statuses(client, stanza, &mut tally).await;
    let statuses = statuses
        .as_ref()
        .map(|(p, names)| (p.as_str(), names.as_slice()));
    check_statuses(stanza, statuses, &mut tally);
    check_jql(client, stanza, &mut tally).await;
    check_action_transitions(client, stanza, statuses, &mut tally).await;
    check_window(stanza, catalog.as_ref(), &mut tally);
    // Jira Service Management (issue 9): the service desk, the request type and its form.
    for line in crate::jsm::check(client, stanza, catalog.as_ref()).await {
        tally.report(line);
    }
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
            // A customer request takes its issue type from the request type (`crate::jsm`).
            let issue_type = ticket.issue_type().filter(|t| !t.is_empty())?;
            let found = workflow::issue_type(&project, issue_type);
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
    // A customer request's fields are checked against its request type's form instead
    // (`crate::jsm::check`): a form label need not be a Jira field name.
    let mut names: Vec<String> = if ticket.request_type.is_some() && ticket.key().is_none() {
        Vec::new()
    } else {
        ticket.fields.iter().map(|(name, _)| name.clone()).collect()
    };
    if let Some(approval) = &stanza.approval {
        names.extend(approval.field_names());
    }
    names.extend(action_field_names(stanza));
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

/// Issue 9: the change window's fields are date-time fields; the freezes (their zones and cron
/// patterns were checked when the stanza was read) are listed as understood.
fn check_window(stanza: &Stanza, catalog: Option<&Catalog>, tally: &mut Tally) {
    let Some(approval) = &stanza.approval else {
        return;
    };
    for name in approval.window.iter().flat_map(ChangeWindow::field_names) {
        // A name the catalog lacks was reported by `check_fields` already.
        let Some(def) = catalog.and_then(|c| c.resolve(&name).ok()) else {
            continue;
        };
        let kind = def.schema.as_ref().map_or("", |s| s.kind.as_str());
        tally.report(if kind == "datetime" {
            Ok(format!("window field {name:?} ({}) is a date-time field", def.id))
        } else {
            Err(step::Error::Mismatch(format!(
                "window field {name:?} ({}) is a {} field, not a date-time field (hint: name a date-time field such as \"Planned start\")",
                def.id,
                if kind.is_empty() { "untyped" } else { kind }
            )))
        });
    }
    for freeze in &approval.freeze {
        tally.ok(&freeze.describe());
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

/// The project's statuses, read once when a check needs them: the criteria's status names, a
/// transition to apply after a create, the actions' transitions. A failed read is reported here,
/// once, and those checks are then skipped.
async fn project_statuses(
    client: &JiraClient,
    stanza: &Stanza,
    tally: &mut Tally,
) -> Option<(String, Vec<String>)> {
    let ticket = &stanza.ticket;
    let needed = stanza.approval.iter().any(|a| !a.status_names().is_empty())
        || (ticket.key().is_none() && ticket.transition.is_some())
        || actions::all(stanza)
            .iter()
            .any(|(_, a)| a.transition.is_some());
    let project = workflow::project_of(ticket).filter(|_| needed)?;
    match workflow::project_statuses(client, &project).await {
        Ok(names) => Some((project, names)),
        Err(e) => {
            tally.report::<jira::Error>(Err(e));
            None
        }
    }
}

/// The criteria's status names (and a transition to apply after a create) against the project's
/// statuses.
fn check_statuses(stanza: &Stanza, statuses: Option<(&str, &[String])>, tally: &mut Tally) {
    let ticket = &stanza.ticket;
    let Some((project, names)) = statuses else {
        return;
    };
    // Status names: those of the criteria can never match if the project has no such status;
    // a transition name can only be verified once the ticket exists.
    for status in stanza.approval.iter().flat_map(Approval::status_names) {
        tally.report(
            workflow::criteria_status(&status, project, names)
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

/// Every `jql` criterion as Jira parses it (issue 9): Cloud's `jql/parse`, a `maxResults=0`
/// search on Data Center; what Jira says of a bad one, verbatim.
async fn check_jql(client: &JiraClient, stanza: &Stanza, tally: &mut Tally) {
    let Some(approval) = &stanza.approval else {
        return;
    };
    let mut queries = approval.approve.jql_queries();
    for query in approval.reject.iter().flat_map(Criteria::jql_queries) {
        if !queries.contains(&query) {
            queries.push(query);
        }
    }
    for query in queries {
        tally.report(match client.parse_jql(&query).await {
            Ok(said) if said.is_empty() => Ok(format!("jql `{query}` is valid")),
            Ok(said) => Err(step::Error::Mismatch(format!(
                "jql `{query}`: Jira says: {}",
                said.join(" ")
            ))),
            Err(e) => Err(step::Error::Jira(e)),
        });
    }
}

/// The field names of the actions (`approval.on_*`, `finish.*`) not named elsewhere already.
fn action_field_names(stanza: &Stanza) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, action) in actions::all(stanza) {
        for (name, _) in &action.fields {
            if !names.contains(name) && !stanza.ticket.fields.iter().any(|(n, _)| n == name) {
                names.push(name.clone());
            }
        }
    }
    names
}

/// The actions' transitions (issue 9). Jira lists a ticket's transitions only from its current
/// status, and an action runs from another one (the decision's), so each is checked against the
/// project's statuses: naming a status is ok; else, one available on the ticket now is ok; else
/// a note, since it may be a transition's name that only the workflow's other statuses have.
async fn check_action_transitions(
    client: &JiraClient,
    stanza: &Stanza,
    statuses: Option<(&str, &[String])>,
    tally: &mut Tally,
) {
    let wanted: Vec<(&str, &str)> = actions::all(stanza)
        .into_iter()
        .filter_map(|(key, a)| a.transition.as_deref().map(|t| (key, t)))
        .collect();
    let Some((project, statuses)) = statuses.filter(|_| !wanted.is_empty()) else {
        return;
    };
    let now = match stanza.ticket.key() {
        Some(key) => client.transitions(key).await.unwrap_or_default(),
        None => Vec::new(),
    };
    for (key, transition) in wanted {
        if let Some(status) = statuses.iter().find(|s| s.eq_ignore_ascii_case(transition)) {
            tally.ok(&format!(
                "{key}.transition {transition:?} leads to status \"{status}\" of {project}"
            ));
        } else if let Some(t) = workflow::pick_transition(&now, transition) {
            tally.ok(&format!(
                "{key}.transition {transition:?} is available on {} now (id {})",
                stanza.ticket.key().unwrap_or_default(),
                t.id
            ));
        } else {
            note(&format!(
                "{key}.transition {transition:?} is not a status of {project}; if it is a transition's name, Jira can only tell once the ticket is in the status it starts from (statuses: {})",
                statuses.join(", ")
            ));
        }
    }
}

async fn check_transition(
    client: &JiraClient,
    key: &str,
    wanted: &str,
    by: crate::stanza::TransitionBy,
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
