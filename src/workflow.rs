//! The step's lookups against the project's workflow and screens, shared by `run` ([`crate::step`],
//! [`crate::gate`]) and `check`, so the two can never disagree: a project's issue type by name, a
//! transition by name or target status, the project's statuses, the create or edit screen's checks
//! of the ticket's fields, and what a 404 on a named issue or project means. Their failures are the
//! step's errors ([`crate::step_error::Error`]), not Jira's: Jira answered, the stanza does not fit.

use serde_json::{Map, Value as Json};

use crate::fields::{self, Catalog};
use crate::jira::models::{FieldMeta, Issue, IssueType, Project, Transition};
use crate::jira::{self, JiraClient};
use crate::stanza::TransitionBy;
use crate::step_error::Error;
use crate::value::Value;

/// The project's issue type with this name (case-insensitive) or id; else the list it has.
pub fn issue_type(project: &Project, wanted: &str) -> Result<IssueType, Error> {
    project
        .issue_types
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(wanted) || t.id == wanted)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = project
                .issue_types
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            Error::Mismatch(format!(
                "project {} has no issue type {wanted:?}; it has: {}",
                project.key,
                names.join(", ")
            ))
        })
}

/// A transition by its name, else by its target status name (case-insensitive).
pub fn pick_transition<'a>(available: &'a [Transition], wanted: &str) -> Option<&'a Transition> {
    pick_transition_by(available, wanted, TransitionBy::NameOrStatus)
}

/// [`pick_transition`] with the matching rule given.
pub fn pick_transition_by<'a>(
    available: &'a [Transition],
    wanted: &str,
    by: TransitionBy,
) -> Option<&'a Transition> {
    let wanted = wanted.trim();
    let by_status = || {
        available.iter().find(|t| {
            t.to.as_ref()
                .is_some_and(|to| to.name.eq_ignore_ascii_case(wanted))
        })
    };
    match by {
        TransitionBy::NameOrStatus => available
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(wanted))
            .or_else(by_status),
        TransitionBy::ExactName => available.iter().find(|t| t.name == wanted),
        TransitionBy::Status => by_status(),
    }
}

/// `"Approve" (→ Approved), "Reject" (→ Rejected)`, or "none".
pub fn describe_transitions(available: &[Transition]) -> String {
    if available.is_empty() {
        return "none (hint: the user may lack the Transition issues permission)".into();
    }
    available
        .iter()
        .map(|t| match &t.to {
            Some(to) => format!("\"{}\" (→ {})", t.name, to.name),
            None => format!("\"{}\"", t.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The issue's status name, if the read included it.
pub fn status_of(issue: &Issue) -> Option<String> {
    issue
        .fields
        .get("status")
        .and_then(|s| s.get("name"))
        .and_then(Json::as_str)
        .map(str::to_owned)
}

/// The fields [`is_target`] reads, besides `status`.
pub const TARGET_FIELDS: [&str; 2] = ["project", "issuetype"];

/// Issue 8 #12: `ticket.key` given with `project` and/or `type` means that issue must be in that
/// project and of that type, as Harness's JiraApproval checks; a key from another project (a
/// stale `--issue-key`, a typo) must not be updated or approved. Each is compared by key or id
/// (project) and name or id (type), case-insensitively; the error names what the issue is.
pub fn is_target(
    issue: &Issue,
    key: &str,
    project: Option<&str>,
    issue_type: Option<&str>,
) -> Result<(), Error> {
    let field = |name: &str, part: &str| {
        issue
            .fields
            .get(name)
            .and_then(|v| v.get(part))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let matches = |wanted: &str, a: &str, b: &str| {
        let wanted = wanted.trim();
        wanted.eq_ignore_ascii_case(a) || wanted == b
    };
    if let Some(wanted) = project {
        let (real, id) = (field("project", "key"), field("project", "id"));
        if !matches(wanted, &real, &id) {
            return Err(Error::Mismatch(format!(
                "{key} is in project {real}, not {wanted} (hint: ticket.project names the issue's project when ticket.key is given; fix the key or the project)"
            )));
        }
    }
    if let Some(wanted) = issue_type {
        let (real, id) = (field("issuetype", "name"), field("issuetype", "id"));
        if !matches(wanted, &real, &id) {
            return Err(Error::Mismatch(format!(
                "{key} is a {real}, not a {wanted} (hint: ticket.type names the issue's type when ticket.key is given; fix the key or the type)"
            )));
        }
    }
    Ok(())
}

/// A 404 on the issue named in the stanza: say which issue.
pub fn not_found(error: jira::Error, key: &str) -> Error {
    invisible(
        error,
        &format!("issue {key}"),
        "ticket.key / --issue-key and the user's Browse permission",
    )
}

/// The project named in the stanza; a 404 says which project and what to check.
pub async fn project(client: &JiraClient, key: &str) -> Result<Project, Error> {
    client
        .project(key)
        .await
        .map_err(|e| project_not_found(e, key))
}

/// A 404 on the project named in the stanza: say which project.
fn project_not_found(error: jira::Error, project: &str) -> Error {
    invisible(
        error,
        &format!("project {project:?}"),
        "ticket.project and the user's Browse projects permission",
    )
}

/// "`what` does not exist or is not visible" for a 404, with what to check; other errors as they are.
fn invisible(error: jira::Error, what: &str, check: &str) -> Error {
    match error {
        jira::Error::Status {
            status: 404,
            detail,
            ..
        } => Error::Mismatch(format!(
            "{what} does not exist or is not visible to this user: {detail} (hint: check {check})"
        )),
        other => other.into(),
    }
}

/// Every status name of the project's workflows (`GET /project/{key}/statuses`, one request).
pub async fn project_statuses(
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

/// Checks one status name of the criteria against the project's statuses (case-insensitive).
pub fn criteria_status(status: &str, project: &str, statuses: &[String]) -> Result<(), Error> {
    if statuses.iter().any(|n| n.eq_ignore_ascii_case(status)) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "the criteria name status {status:?}, which {project} does not have, so they can never match; its statuses: {} (hint: fix approve_when / reject_when)",
            statuses.join(", ")
        )))
    }
}

/// The project of the ticket: the one to create in, or the prefix of the key to update.
pub fn project_of(ticket: &crate::stanza::Ticket) -> Option<String> {
    ticket.project().map(str::to_owned).or_else(|| {
        ticket
            .key()
            .and_then(|k| k.rsplit_once('-'))
            .map(|(p, _)| p.to_owned())
    })
}

/// Which screen's metadata tells the fields that can be set and their allowed values: the create
/// screen of a project's issue type, or an existing issue's edit screen.
#[derive(Debug, Clone, Copy)]
pub enum Screen<'a> {
    /// `createmeta` of this project key and issue type.
    Create(&'a str, &'a IssueType),
    /// `editmeta` of this issue key.
    Edit(&'a str),
}

/// The ticket's fields as Jira takes them, checked against the screen: every field must be on it
/// (when Jira lists the screen) and every option value allowed. `run` sends the result; `check`
/// only reports whether it could be built.
pub async fn shape_fields(
    client: &JiraClient,
    ticket_fields: &[(String, Value)],
    catalog: &Catalog,
    screen: Screen<'_>,
) -> Result<Map<String, Json>, Error> {
    let mut body = Map::new();
    if ticket_fields.is_empty() {
        return Ok(body);
    }
    let defs = ticket_fields
        .iter()
        .map(|(name, _)| catalog.resolve(name))
        .collect::<Result<Vec<_>, _>>()?;
    let (screen_name, meta): (String, Vec<FieldMeta>) = match screen {
        Screen::Create(project, issue_type) => (
            format!("the create screen of {project} / {}", issue_type.name),
            client.create_fields(project, issue_type).await?,
        ),
        Screen::Edit(key) => (
            format!("the edit screen of {key}"),
            client.edit_fields(key).await?,
        ),
    };
    let on_screen = |id: &str| {
        meta.iter()
            .find(|m| m.field_id.as_deref().or(m.key.as_deref()) == Some(id))
    };
    for def in &defs {
        // An empty list is a screen Jira would not show: let Jira judge the write.
        if on_screen(&def.id).is_none() && !meta.is_empty() {
            return Err(Error::Mismatch(format!(
                "field {:?} ({}) is not on {screen_name} (hint: Jira sets some fields itself, e.g. Resolution by a transition; remove it from ticket.fields or add it to the screen)",
                def.name, def.id
            )));
        }
    }
    for ((_, value), def) in ticket_fields.iter().zip(defs) {
        let shaped = fields::shape(client, def, value, on_screen(&def.id)).await?;
        body.insert(def.id.clone(), shaped);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::models::NamedRef;

    #[test]
    fn transitions_match_name_then_target() {
        let list = vec![
            Transition {
                id: "21".into(),
                name: "Request approval".into(),
                to: Some(NamedRef {
                    id: None,
                    name: "Awaiting approval".into(),
                }),
            },
            Transition {
                id: "11".into(),
                name: "Start progress".into(),
                to: Some(NamedRef {
                    id: None,
                    name: "In Progress".into(),
                }),
            },
        ];
        assert_eq!(pick_transition(&list, "request APPROVAL").unwrap().id, "21");
        assert_eq!(
            pick_transition(&list, "awaiting approval").unwrap().id,
            "21"
        );
        assert!(pick_transition(&list, "Done").is_none());
        // Harness's rules (issue 10): a transition name exactly, or a target status only.
        let by = |name: &str, rule| pick_transition_by(&list, name, rule).map(|t| t.id.clone());
        assert_eq!(
            by("Request approval", TransitionBy::ExactName).as_deref(),
            Some("21")
        );
        assert_eq!(by("request approval", TransitionBy::ExactName), None);
        assert_eq!(by("Request approval", TransitionBy::Status), None);
        assert_eq!(
            by("AWAITING approval", TransitionBy::Status).as_deref(),
            Some("21")
        );
        assert_eq!(
            describe_transitions(&list),
            "\"Request approval\" (→ Awaiting approval), \"Start progress\" (→ In Progress)"
        );
    }

    #[test]
    fn an_issue_is_checked_against_the_written_project_and_type() {
        let issue: Issue = serde_json::from_value(serde_json::json!({"key": "OPS-1", "fields": {
            "project": {"key": "OPS", "id": "10000"}, "issuetype": {"name": "Change", "id": "10002"}
        }}))
        .unwrap();
        for (project, kind) in [
            (None, None),
            (Some("ops"), Some("change")),
            (Some("10000"), Some("10002")),
        ] {
            assert!(is_target(&issue, "OPS-1", project, kind).is_ok());
        }
        let err = is_target(&issue, "OPS-1", Some("ABC"), None).unwrap_err();
        assert!(
            err.to_string().contains("OPS-1 is in project OPS, not ABC"),
            "{err}"
        );
        let err = is_target(&issue, "OPS-1", Some("OPS"), Some("Task")).unwrap_err();
        assert!(
            err.to_string().contains("OPS-1 is a Change, not a Task"),
            "{err}"
        );
    }
}
