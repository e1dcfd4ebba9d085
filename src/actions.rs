//! Write-back actions (issue 9): what `approval.on_approve`, `on_reject`, `on_timeout`,
//! `on_cancel` and `finish.success` / `finish.failure` write to the ticket.
//!
//! An action is up to four writes, made in this order through the step's own write paths
//! ([`crate::step`], [`crate::workflow::shape_fields`], the dry-run [`Writer`]): `fields` (one
//! edit, checked against the edit screen as the ticket's fields are), `labels` (added), `comment`,
//! `transition` (last, since a closing status may make the ticket read-only). Each write is tried
//! even when an earlier one failed, and each is reported as an [`ActionResult`]. Whether a failure
//! changes the exit is the caller's: never for `on_*` (`gate.rs`), always for `finish`.
//!
//! Which ending runs which action: approved → `on_approve`, rejected → `on_reject`, timeout →
//! `on_timeout`, cancelled → `on_cancel`; an error, a write-only step and any other ending (a
//! `blocked` change window) run none.

use serde_json::{Map, Value as Json, json};

use crate::dry_run::{Applied, Writer};
use crate::exit::Exit;
use crate::fields::Catalog;
use crate::outcome::{ActionResult, ActionStatus, Decision};
use crate::stanza::{Action, Actions, TransitionBy};
use crate::step::{self, Moved};
use crate::workflow::{Screen, shape_fields};

/// The action of an ending, with its name in the stanza; `None` when the ending has none.
pub fn for_decision(actions: &Actions, decision: Decision) -> Option<(&'static str, &Action)> {
    let (name, action) = match decision {
        Decision::Approved => ("on_approve", &actions.on_approve),
        Decision::Rejected => ("on_reject", &actions.on_reject),
        Decision::Timeout => ("on_timeout", &actions.on_timeout),
        Decision::Cancelled => ("on_cancel", &actions.on_cancel),
        _ => return None,
    };
    action.as_ref().map(|a| (name, a))
}

/// Every action of the stanza with its key: `approval.on_*`, then `finish.success` and
/// `finish.failure` (for `check`).
pub fn all(stanza: &crate::stanza::Stanza) -> Vec<(&'static str, &Action)> {
    let mut all = Vec::new();
    if let Some(approval) = &stanza.approval {
        let a = &approval.actions;
        all.extend([
            ("approval.on_approve", &a.on_approve),
            ("approval.on_reject", &a.on_reject),
            ("approval.on_timeout", &a.on_timeout),
            ("approval.on_cancel", &a.on_cancel),
        ]);
    }
    all.extend([
        ("finish.success", &stanza.finish.success),
        ("finish.failure", &stanza.finish.failure),
    ]);
    all.into_iter()
        .filter_map(|(key, action)| action.as_ref().map(|a| (key, a)))
        .collect()
}

/// Where an action writes: the ticket, and its status when known (a transition to the status the
/// ticket already has is then not a failure).
#[derive(Debug, Clone, Copy)]
pub struct On<'a> {
    /// The issue key.
    pub key: &'a str,
    /// Its status at the last read.
    pub status: Option<&'a str>,
}

/// Runs `action` (named `name`, e.g. `on_approve`) on the ticket, pushing one [`ActionResult`] per
/// write into `results` as soon as it is known, so that a caller that stops waiting still has
/// those. Returns the exit of the first failure, if one failed.
pub async fn run(
    writer: &Writer<'_>,
    on: On<'_>,
    name: &str,
    action: &Action,
    results: &mut Vec<ActionResult>,
) -> Option<Exit> {
    tracing::info!("{name}: {} on {}", describe(action), on.key);
    let mut failed = None;
    let mut report = |write: &'static str, outcome: Result<Applied, step::Error>| {
        let (result, error) = match outcome {
            Ok(Applied::Printed) => (ActionStatus::DryRun, None),
            Ok(_) => (ActionStatus::Ok, None),
            Err(e) => {
                let text = crate::error::describe_step(&e);
                tracing::warn!("{name}: the {write} of {} failed: {text}", on.key);
                failed = failed.or(Some(e.exit()));
                (ActionStatus::Failed, Some(text))
            }
        };
        results.push(ActionResult {
            action: name.to_owned(),
            write,
            result,
            error,
        });
    };
    // With a transition, the comment rides in its request (one write Jira applies whole).
    let with_transition = action.transition.is_some();
    for write in writes(action) {
        match write {
            "fields" => report(write, set_fields(writer, on.key, action).await),
            "labels" => report(write, add_labels(writer, on.key, &action.labels).await),
            "comment" if with_transition => {}
            "comment" => report(
                write,
                comment(writer, on.key, action.comment.as_deref()).await,
            ),
            _ => {
                let text = action.comment.as_deref();
                let (moved, commented) = move_to(writer, on, action, text).await;
                if let Some(commented) = commented {
                    report("comment", commented);
                }
                report(write, moved);
            }
        }
    }
    failed
}

/// Reports every write of `action` not reported yet in `results` as abandoned, because `why`.
pub fn abandon(name: &str, action: &Action, why: &str, results: &mut Vec<ActionResult>) {
    let left: Vec<&'static str> = writes(action)
        .into_iter()
        .filter(|w| !results.iter().any(|r| r.action == name && r.write == *w))
        .collect();
    if left.is_empty() {
        return;
    }
    tracing::warn!("{name}: abandoned ({why}): {} not done", left.join(", "));
    results.extend(left.into_iter().map(|write| ActionResult {
        action: name.to_owned(),
        write,
        result: ActionStatus::Abandoned,
        error: Some(why.to_owned()),
    }));
}

/// The keys `action` writes, in the order they are written.
fn writes(action: &Action) -> Vec<&'static str> {
    [
        ("fields", !action.fields.is_empty()),
        ("labels", !action.labels.is_empty()),
        ("comment", action.comment.is_some()),
        ("transition", action.transition.is_some()),
    ]
    .into_iter()
    .filter_map(|(write, set)| set.then_some(write))
    .collect()
}

/// "comment, transition \"Done\"", for the log.
fn describe(action: &Action) -> String {
    writes(action)
        .into_iter()
        .map(|w| match (w, &action.transition) {
            ("transition", Some(t)) => format!("transition {t:?}"),
            ("labels", _) => format!("labels {}", action.labels.join(", ")),
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The comment, through the writer's `add_comment` (the path of `ticket.comment`). A comment
/// whose answer was lost is not repeated (it could be posted twice), and reported as failed.
async fn comment(
    writer: &Writer<'_>,
    key: &str,
    text: Option<&str>,
) -> Result<Applied, step::Error> {
    let applied = writer
        .add_comment(key, text.unwrap_or_default())
        .await
        .map_err(|e| match e {
            crate::jira::Error::Ambiguous { cause, .. } => step::Error::Mismatch(format!(
                "the comment may or may not have been posted ({cause}); not repeating it"
            )),
            other => other.into(),
        })?;
    applied.log(format_args!("commented on {key}"));
    Ok(applied)
}

/// The action's fields, by name or id, as one edit checked against the issue's edit screen.
async fn set_fields(
    writer: &Writer<'_>,
    key: &str,
    action: &Action,
) -> Result<Applied, step::Error> {
    let client = writer.client();
    let catalog = Catalog::new(client.fields().await?);
    let body = shape_fields(client, &action.fields, &catalog, Screen::Edit(key)).await?;
    let applied = writer
        .edit_issue(key, Json::Object(body), Json::Object(Map::new()))
        .await?;
    applied.log(format_args!("set the fields of {key}"));
    Ok(applied)
}

/// Adds labels; the issue keeps the ones it has.
async fn add_labels(
    writer: &Writer<'_>,
    key: &str,
    labels: &[String],
) -> Result<Applied, step::Error> {
    let adds: Vec<Json> = labels.iter().map(|l| json!({"add": l})).collect();
    let applied = writer
        .edit_issue(
            key,
            Json::Object(Map::new()),
            json!({"labels": Json::Array(adds)}),
        )
        .await?;
    applied.log(format_args!("labelled {key} {}", labels.join(", ")));
    Ok(applied)
}

/// The transition, by name or target status, with `text` as its comment: the transition's
/// outcome, and the comment's when there is one (in the same request when the transition is
/// applied, else posted on its own). An unavailable transition is a failure that lists the
/// available ones.
async fn move_to(
    writer: &Writer<'_>,
    on: On<'_>,
    action: &Action,
    text: Option<&str>,
) -> (
    Result<Applied, step::Error>,
    Option<Result<Applied, step::Error>>,
) {
    let wanted = action.transition.as_deref().unwrap_or_default();
    let moved = step::transition(
        writer,
        on.key,
        wanted,
        TransitionBy::NameOrStatus,
        on.status,
        text,
    )
    .await;
    let outcome = match moved {
        Ok(Moved::Applied(applied)) => return (Ok(applied), text.map(|_| Ok(applied))),
        Ok(Moved::Already) => Ok(Applied::Nothing),
        Ok(Moved::Unavailable(available)) => Err(step::Error::Mismatch(format!(
            "no transition named or leading to {wanted:?} is available on {}{}; available: {available} (hint: check the transition's name in the workflow)",
            on.key,
            on.status
                .map(|s| format!(" (status \"{s}\")"))
                .unwrap_or_default()
        ))),
        // The comment went in the request whose answer was lost: posting it again could post it
        // twice.
        Err(e @ step::Error::Jira(crate::jira::Error::Ambiguous { .. })) => {
            let lost = text.map(|_| {
                Err(step::Error::Mismatch(
                    "the comment went with the transition, whose answer was lost; not repeating it"
                        .into(),
                ))
            });
            return (Err(e), lost);
        }
        Err(e) => Err(e),
    };
    // No transition request went out, or Jira refused it whole: the comment goes on its own.
    let commented = match text {
        Some(_) => Some(comment(writer, on.key, text).await),
        None => None,
    };
    (outcome, commented)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action() -> Action {
        Action {
            comment: Some("done".into()),
            transition: Some("Done".into()),
            labels: vec!["deployed".into()],
            fields: Vec::new(),
        }
    }

    #[test]
    fn each_ending_runs_its_own_action() {
        let actions = Actions {
            on_approve: Some(action()),
            on_timeout: Some(Action::default()),
            ..Actions::default()
        };
        assert_eq!(
            for_decision(&actions, Decision::Approved).map(|(n, _)| n),
            Some("on_approve")
        );
        assert_eq!(
            for_decision(&actions, Decision::Timeout).map(|(n, _)| n),
            Some("on_timeout")
        );
        for none in [
            Decision::Rejected,
            Decision::Cancelled,
            Decision::Error,
            Decision::Written,
            Decision::Finished,
        ] {
            assert!(for_decision(&actions, none).is_none(), "{none:?}");
        }
    }

    use crate::jsm::scripted::Jira;
    use crate::stanza::{Overrides, from_str};
    use crate::value::Value;

    fn said(comment: &str) -> Action {
        Action {
            comment: Some(comment.into()),
            ..Action::default()
        }
    }

    /// Every ending that has an action gets its own, not another's.
    #[test]
    fn each_ending_gets_the_action_written_for_it() {
        let actions = Actions {
            on_approve: Some(said("approved")),
            on_reject: Some(said("rejected")),
            on_timeout: Some(said("timed out")),
            on_cancel: Some(said("cancelled")),
        };
        let got = |d| for_decision(&actions, d).map(|(n, a)| (n, a.comment.as_deref().unwrap()));
        assert_eq!(got(Decision::Approved), Some(("on_approve", "approved")));
        assert_eq!(got(Decision::Rejected), Some(("on_reject", "rejected")));
        assert_eq!(got(Decision::Timeout), Some(("on_timeout", "timed out")));
        assert_eq!(got(Decision::Cancelled), Some(("on_cancel", "cancelled")));
        assert_eq!(got(Decision::Blocked), None);
    }

    /// `check` goes through every action of the stanza, by its key, in the stanza's order.
    #[test]
    fn every_action_of_the_stanza_is_listed_by_its_key() {
        let keys = |rest: &str| {
            let text = format!(
                "jira: {{url: 'https://x.example', auth: {{type: pat, token: t}}}}\nticket: {{key: OPS-1}}\n{rest}"
            );
            let stanza = from_str(&text, "t.yml", &|_| None)
                .and_then(|raw| raw.validate("t.yml", &Overrides::default()))
                .unwrap();
            all(&stanza)
                .into_iter()
                .map(|(key, a)| format!("{key}: {}", describe(a)))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(
                "approval:\n  approve_when: {status: Approved}\n  on_reject: {comment: no}\n  on_cancel: {transition: Cancel}\nfinish:\n  success: {labels: [deployed]}\n  failure: {comment: failed}\n"
            ),
            [
                "approval.on_reject: comment",
                "approval.on_cancel: transition \"Cancel\"",
                "finish.success: labels deployed",
                "finish.failure: comment"
            ]
        );
        assert_eq!(
            keys("finish:\n  success: {comment: done}\n"),
            ["finish.success: comment"]
        );
        assert!(keys("").is_empty());
    }

    /// The Jira of the action tests: OPS-1 with a text field on its edit screen and a "Done"
    /// transition; every write succeeds.
    async fn jira() -> Jira {
        Jira::start(vec![
            (
                "GET",
                "/rest/api/2/field",
                200,
                json!([{"id": "customfield_10060", "name": "Deployed version", "schema": {"type": "string"}}]),
            ),
            (
                "GET",
                "/rest/api/2/issue/OPS-1/editmeta",
                200,
                json!({"fields": {"customfield_10060": {"required": false, "name": "Deployed version", "schema": {"type": "string"}, "operations": ["set"]}}}),
            ),
            ("PUT", "/rest/api/2/issue/OPS-1", 204, Json::Null),
            (
                "GET",
                "/rest/api/2/issue/OPS-1/transitions",
                200,
                json!({"transitions": [{"id": "31", "name": "Done", "to": {"id": "10002", "name": "Done"}}]}),
            ),
            ("POST", "/rest/api/2/issue/OPS-1/transitions", 204, Json::Null),
            (
                "POST",
                "/rest/api/2/issue/OPS-1/comment",
                201,
                json!({"id": "10100"}),
            ),
        ])
        .await
    }

    async fn run_on(
        jira: &Jira,
        status: Option<&str>,
        action: &Action,
    ) -> (
        Option<Exit>,
        Vec<(&'static str, ActionStatus, Option<String>)>,
    ) {
        let client = jira.client();
        let writer = Writer::new(&client, false, "t0ken");
        let on = On {
            key: "OPS-1",
            status,
        };
        let mut results = Vec::new();
        let failed = run(&writer, on, "on_approve", action, &mut results).await;
        assert!(results.iter().all(|r| r.action == "on_approve"));
        let results = results
            .into_iter()
            .map(|r| (r.write, r.result, r.error))
            .collect();
        (failed, results)
    }

    /// These writes, each done.
    fn done(writes: &[&'static str]) -> Vec<(&'static str, ActionStatus, Option<String>)> {
        writes
            .iter()
            .map(|w| (*w, ActionStatus::Ok, None))
            .collect()
    }

    /// An action with all four writes: the fields in one edit, the labels added, the comment in
    /// the transition's request.
    #[tokio::test]
    async fn an_action_writes_fields_labels_then_the_transition_with_its_comment() {
        let jira = jira().await;
        let action = Action {
            fields: vec![("Deployed version".into(), Value::String("1.4.2".into()))],
            ..action()
        };
        let (failed, results) = run_on(&jira, Some("In Progress"), &action).await;
        assert_eq!(failed, None);
        assert_eq!(
            results,
            done(&["fields", "labels", "comment", "transition"])
        );
        assert_eq!(
            jira.seen(),
            [
                "GET /rest/api/2/field",
                "GET /rest/api/2/issue/OPS-1/editmeta",
                r#"PUT /rest/api/2/issue/OPS-1 {"fields":{"customfield_10060":"1.4.2"}}"#,
                r#"PUT /rest/api/2/issue/OPS-1 {"update":{"labels":[{"add":"deployed"}]}}"#,
                "GET /rest/api/2/issue/OPS-1/transitions",
                r#"POST /rest/api/2/issue/OPS-1/transitions {"transition":{"id":"31"},"update":{"comment":[{"add":{"body":"done"}}]}}"#,
            ]
        );
    }

    /// A comment without a transition is posted on its own, once.
    #[tokio::test]
    async fn a_comment_alone_is_posted_on_its_own() {
        let jira = jira().await;
        let (failed, results) = run_on(&jira, None, &said("Approved; deploying now.")).await;
        assert_eq!(failed, None);
        assert_eq!(results, done(&["comment"]));
        assert_eq!(
            jira.seen(),
            [r#"POST /rest/api/2/issue/OPS-1/comment {"body":"Approved; deploying now."}"#]
        );
    }

    /// A transition that is not available fails with the ones that are (exit 5 for the caller
    /// that counts it); its comment is still posted on its own. Other writes are still made.
    #[tokio::test]
    async fn an_unavailable_transition_fails_and_its_comment_goes_on_its_own() {
        let jira = jira().await;
        let action = Action {
            transition: Some("Cancel".into()),
            ..action()
        };
        let (failed, results) = run_on(&jira, Some("In Progress"), &action).await;
        assert_eq!(failed, Some(Exit::Jira));
        assert_eq!(
            results,
            [
                ("labels", ActionStatus::Ok, None),
                ("comment", ActionStatus::Ok, None),
                (
                    "transition",
                    ActionStatus::Failed,
                    Some("no transition named or leading to \"Cancel\" is available on OPS-1 (status \"In Progress\"); available: \"Done\" (→ Done) (hint: check the transition's name in the workflow)".into())
                )
            ]
        );
        assert_eq!(
            jira.seen().last().unwrap(),
            r#"POST /rest/api/2/issue/OPS-1/comment {"body":"done"}"#
        );
    }

    /// A ticket already in the transition's status is not moved, and that is no failure; the
    /// comment goes on its own.
    #[tokio::test]
    async fn a_ticket_already_there_is_not_moved_and_that_is_no_failure() {
        let jira = jira().await;
        let action = Action {
            transition: Some("Closed".into()),
            labels: Vec::new(),
            ..action()
        };
        let (failed, results) = run_on(&jira, Some("closed"), &action).await;
        assert_eq!(failed, None);
        assert_eq!(results, done(&["comment", "transition"]));
        assert!(
            !jira
                .seen()
                .iter()
                .any(|r| r.starts_with("POST /rest/api/2/issue/OPS-1/transitions")),
            "{:?}",
            jira.seen()
        );
    }

    #[test]
    fn writes_are_ordered_and_abandoned_ones_reported() {
        assert_eq!(writes(&action()), ["labels", "comment", "transition"]);
        assert_eq!(
            describe(&action()),
            "labels deployed, comment, transition \"Done\""
        );
        let mut results = vec![ActionResult {
            action: "on_cancel".into(),
            write: "labels",
            result: ActionStatus::Ok,
            error: None,
        }];
        abandon("on_cancel", &action(), "out of time", &mut results);
        let left: Vec<(&str, ActionStatus)> = results.iter().map(|r| (r.write, r.result)).collect();
        assert_eq!(
            left,
            [
                ("labels", ActionStatus::Ok),
                ("comment", ActionStatus::Abandoned),
                ("transition", ActionStatus::Abandoned)
            ]
        );
        let json = serde_json::to_value(&results[1]).unwrap();
        assert_eq!(
            json,
            json!({"action": "on_cancel", "write": "comment", "result": "abandoned", "error": "out of time"})
        );
    }
}
