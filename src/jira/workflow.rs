//! Workflow lookups that `run` and `check` share: a project's issue type by name, a transition by
//! name or target status, an issue's status, and what a 404 on a named issue means.

use serde_json::Value as Json;

use super::error::Error;
use super::models::{Issue, IssueType, Project, Transition};

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

/// A 404 on the issue named in the stanza: say which issue.
pub fn not_found(error: Error, key: &str) -> Error {
    match error {
        Error::Status {
            status: 404,
            detail,
            ..
        } => Error::Mismatch(format!(
            "issue {key} does not exist or is not visible to this user: {detail} (hint: check ticket.key / --issue-key and the user's Browse permission)"
        )),
        other => other,
    }
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
        assert_eq!(
            pick_transition_by(&list, "Request approval", TransitionBy::ExactName)
                .unwrap()
                .id,
            "21"
        );
        assert!(pick_transition_by(&list, "request approval", TransitionBy::ExactName).is_none());
        assert!(pick_transition_by(&list, "Request approval", TransitionBy::Status).is_none());
        assert_eq!(
            pick_transition_by(&list, "AWAITING approval", TransitionBy::Status)
                .unwrap()
                .id,
            "21"
        );
        assert_eq!(
            describe_transitions(&list),
            "\"Request approval\" (→ Awaiting approval), \"Start progress\" (→ In Progress)"
        );
    }
}
