//! Creating or updating the ticket: the write half of the step.
//!
//! With a key, the issue is read (it must exist and be visible), then edited, commented and
//! transitioned. Without one, the ticket is created, unless `dedupe` finds the ticket an earlier
//! attempt of the same job created. A create whose answer was lost (timeout, reset, 5xx after the
//! body was sent) is not blindly repeated: the dedupe label is searched for first, for a while,
//! because Jira Cloud's search index lags writes by seconds (API-NOTES §0.3).

use std::time::Duration;

use serde_json::{Map, Value as Json, json};
use tokio::time::Instant;

use crate::dry_run::{Applied, Writer};
use crate::fields::Catalog;
use crate::jira::models::{Issue, Transition};
use crate::jira::{self, JiraClient, jql};
use crate::stanza::{Target, Ticket};
use crate::tracker::Tracker;
use crate::workflow::{
    Screen, TARGET_FIELDS, describe_transitions, is_target, issue_type, not_found,
    pick_transition_by, shape_fields, status_of,
};

pub use crate::step_error::Error;

/// How long to keep searching for a ticket whose create was answered ambiguously.
pub const LAG_SEARCH: Duration = Duration::from_secs(30);

/// The ticket the step works on.
#[derive(Debug, Clone)]
pub struct Written {
    /// Its key (`None` only under `--dry-run` when it would have been created).
    pub key: Option<String>,
    /// Whether this run created it.
    pub created: bool,
}

/// The label that marks tickets of one dedupe key: `jira-gate-` + the key made label-safe, plus a
/// hash when that changed anything, so two different keys never share a label.
pub fn dedupe_label(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(120)
        .collect();
    if safe == key && key.len() <= 120 {
        format!("jira-gate-{safe}")
    } else {
        format!("jira-gate-{safe}-{:016x}", fnv1a(key.as_bytes()))
    }
}

/// FNV-1a: stable across versions and platforms (unlike `DefaultHasher`), which a label must be.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Creates or updates the ticket, then comments and transitions it.
pub async fn write(
    writer: &Writer<'_>,
    ticket: &Ticket,
    catalog: &Catalog,
    deadline: Instant,
    tracker: &mut Tracker<'_>,
) -> Result<Written, Error> {
    match &ticket.target {
        Target::Update { key, .. } => update(writer, ticket, key, catalog, tracker).await,
        Target::Create {
            project,
            issue_type,
            summary,
        } => {
            let new = NewIssue {
                project,
                issue_type,
                summary,
            };
            create(writer, ticket, &new, catalog, deadline, tracker).await
        }
    }
}

/// What creating an issue needs, as the validated stanza gives it.
struct NewIssue<'a> {
    project: &'a str,
    issue_type: &'a str,
    summary: &'a str,
}

async fn update(
    writer: &Writer<'_>,
    ticket: &Ticket,
    key: &str,
    catalog: &Catalog,
    tracker: &mut Tracker<'_>,
) -> Result<Written, Error> {
    let client = writer.client();
    let given = key;
    let wanted: Vec<String> = std::iter::once("status")
        .chain(TARGET_FIELDS)
        .map(str::to_owned)
        .collect();
    let issue = client
        .issue(key, &wanted, false)
        .await
        .map_err(|e| not_found(e, key))?;
    is_target(&issue, given, ticket.project(), ticket.issue_type())?;
    let key = if issue.key.is_empty() {
        key.to_owned()
    } else {
        issue.key.clone()
    };
    tracker.ticket(&key, client.browse_url(&key), false);
    client.ticket_exists();
    if !key.eq_ignore_ascii_case(given) {
        tracing::info!("{given} has moved; it is now {key}");
    }
    let mut body = Map::new();
    if let Some(summary) = ticket.summary() {
        body.insert("summary".into(), summary.into());
    }
    if let Some(description) = &ticket.description {
        body.insert("description".into(), client.rich_text(description));
    }
    body.extend(shape_fields(client, &ticket.fields, catalog, Screen::Edit(&key)).await?);
    let mut update = Map::new();
    if !ticket.labels.is_empty() {
        let adds: Vec<Json> = ticket.labels.iter().map(|l| json!({"add": l})).collect();
        update.insert("labels".into(), Json::Array(adds));
    }
    if !body.is_empty() || !update.is_empty() {
        writer
            .edit_issue(&key, Json::Object(body), Json::Object(update))
            .await?
            .log(format_args!("updated {key}"));
    }
    comment_and_transition(writer, ticket, &key, status_of(&issue), Origin::Given).await?;
    Ok(Written {
        key: Some(key),
        created: false,
    })
}

async fn create(
    writer: &Writer<'_>,
    ticket: &Ticket,
    new: &NewIssue<'_>,
    catalog: &Catalog,
    deadline: Instant,
    tracker: &mut Tracker<'_>,
) -> Result<Written, Error> {
    let client = writer.client();
    let project_key = new.project;
    let label = ticket.dedupe.as_deref().map(dedupe_label);

    if let Some(label) = &label {
        if let Some(found) = find_by_label(client, project_key, label).await? {
            tracing::info!(
                "dedupe: reusing {} (label {label}), created by an earlier attempt",
                found.key
            );
            let status = status_of(&found);
            return adopt(writer, ticket, found.key, status, Origin::Reused, tracker).await;
        }
    }

    let (body, labels_after) = payload(client, ticket, new, label.as_deref(), catalog).await?;

    let mut tries = 0;
    let created = loop {
        tries += 1;
        let sent = if ticket.request_type.is_some() {
            writer.create_customer_request(body.clone()).await
        } else {
            writer.create_issue(body.clone()).await
        };
        match sent {
            Ok(Some(created)) => break created,
            Ok(None) => {
                log_dry_run_followups(ticket);
                return Ok(Written {
                    key: None,
                    created: true,
                });
            }
            Err(jira::Error::Ambiguous { cause, .. }) => {
                // A request whose form has no Labels field gets its label only after the create:
                // a search cannot find a request stored without it, so do not create another.
                let findable = label.as_ref().filter(|l| !labels_after.contains(l));
                if let (Some(label), None) = (&label, findable) {
                    return Err(Error::Mismatch(format!(
                        "creating the request failed ambiguously ({cause}); Jira may have stored it without its dedupe label {label} (the request type's form has no Labels field, so the label is added after the create), so jira-gate does not create another (hint: look for the request in {project_key}, or add Labels to the request type's form)"
                    )));
                }
                let Some(label) = findable else {
                    return Err(Error::Mismatch(format!(
                        "creating the ticket failed ambiguously ({cause}); Jira may have stored it, so jira-gate does not create another (hint: set ticket.dedupe so that retries can find the ticket)"
                    )));
                };
                tracing::info!(
                    "create answered ambiguously ({cause}); looking for label {label} before trying again"
                );
                if let Some(found) = search_with_lag(client, project_key, label, deadline).await? {
                    tracing::info!("the earlier create went through: {}", found.key);
                    let status = status_of(&found);
                    return adopt(writer, ticket, found.key, status, Origin::Created, tracker)
                        .await;
                }
                if tries >= 3 {
                    return Err(Error::Mismatch(format!(
                        "creating the ticket failed {tries} times: {cause}"
                    )));
                }
            }
            Err(e) => return Err(e.into()),
        }
    };
    tracing::info!(
        "created {} ({})",
        created.key,
        client.browse_url(&created.key)
    );
    crate::jsm::label_after(writer, &created.key, &labels_after).await?;
    adopt(writer, ticket, created.key, None, Origin::Created, tracker).await
}

/// What to create: with `request_type` a customer request through servicedeskapi (SPEC section
/// 7) and the labels its form has no field for, else the body of `POST /issue`.
async fn payload(
    client: &JiraClient,
    ticket: &Ticket,
    new: &NewIssue<'_>,
    label: Option<&str>,
    catalog: &Catalog,
) -> Result<(Json, Vec<String>), Error> {
    Ok(match &ticket.request_type {
        Some(name) => {
            let request =
                crate::jsm::new_request(client, ticket, new.project, name, label, catalog).await?;
            (request.body, request.labels_after)
        }
        None => (
            create_body(client, ticket, new, label, catalog).await?,
            Vec::new(),
        ),
    })
}

/// The body of `POST /issue`: project, issue type, summary, description, labels (with the dedupe
/// label) and the ticket's fields, checked against the project's create screen.
async fn create_body(
    client: &JiraClient,
    ticket: &Ticket,
    new: &NewIssue<'_>,
    label: Option<&str>,
    catalog: &Catalog,
) -> Result<Json, Error> {
    let project = crate::workflow::project(client, new.project).await?;
    let issue_type = issue_type(&project, new.issue_type)?;

    let mut body = Map::new();
    body.insert("project".into(), json!({"key": project.key}));
    body.insert("issuetype".into(), json!({"id": issue_type.id}));
    body.insert("summary".into(), new.summary.into());
    if let Some(description) = &ticket.description {
        body.insert("description".into(), client.rich_text(description));
    }
    let mut labels = ticket.labels.clone();
    if let Some(label) = label {
        if !labels.iter().any(|l| l == label) {
            labels.push(label.to_owned());
        }
    }
    if !labels.is_empty() {
        body.insert("labels".into(), json!(labels));
    }
    body.extend(
        shape_fields(
            client,
            &ticket.fields,
            catalog,
            Screen::Create(&project.key, &issue_type),
        )
        .await?,
    );
    Ok(Json::Object(body))
}

/// Under `--dry-run` no ticket exists after the create, so its comment and transition are only
/// described.
fn log_dry_run_followups(ticket: &Ticket) {
    let then: Vec<String> = [
        ticket.comment.as_ref().map(|_| "comment on it".to_owned()),
        ticket
            .transition
            .as_ref()
            .map(|t| format!("apply the transition {t:?}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !then.is_empty() {
        tracing::info!(
            "dry run: after the create, jira-gate would {}",
            then.join(" and ")
        );
    }
}

/// The oldest ticket of the project carrying the label (`dedupe_label` of the dedupe key).
pub async fn find_by_label(
    client: &JiraClient,
    project: &str,
    label: &str,
) -> Result<Option<Issue>, Error> {
    let query = format!(
        "project = {} AND labels = {} ORDER BY created ASC",
        jql::quote(project),
        jql::quote(label)
    );
    let mut found = client.search(&query, &["status", "labels"], 5).await?;
    if found.len() > 1 {
        tracing::warn!(
            "dedupe: {} tickets carry label {label}: {}; using the oldest",
            found.len(),
            found
                .iter()
                .map(|i| i.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(if found.is_empty() {
        None
    } else {
        Some(found.remove(0))
    })
}

/// Searches for the label every two seconds for [`LAG_SEARCH`] (or until the deadline).
async fn search_with_lag(
    client: &JiraClient,
    project: &str,
    label: &str,
    deadline: Instant,
) -> Result<Option<Issue>, Error> {
    let until = (Instant::now() + LAG_SEARCH).min(deadline);
    loop {
        if let Some(found) = find_by_label(client, project, label).await? {
            return Ok(Some(found));
        }
        if Instant::now() + Duration::from_secs(2) >= until {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Reports a ticket this run created or reused as soon as it exists, then comments and transitions.
async fn adopt(
    writer: &Writer<'_>,
    ticket: &Ticket,
    key: String,
    status: Option<String>,
    origin: Origin,
    tracker: &mut Tracker<'_>,
) -> Result<Written, Error> {
    let created = origin == Origin::Created;
    tracker.ticket(&key, writer.client().browse_url(&key), created);
    writer.client().ticket_exists();
    comment_and_transition(writer, ticket, &key, status, origin).await?;
    Ok(Written {
        key: Some(key),
        created,
    })
}

/// Where the ticket came from, which decides how forgiving [`comment_and_transition`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// This run created it: a missing transition is a configuration error.
    Created,
    /// A dedupe search found it: the comment is not repeated.
    Reused,
    /// `ticket.key` named it: it may be anywhere in its workflow.
    Given,
}

/// Comment and transition after the ticket exists. A created ticket must have the transition; a
/// reused or given one may have moved past it, so an unavailable transition is only a warning
/// there and the wait judges the current status. On a dedupe reuse the comment is not repeated.
/// The comment goes with the transition in one request when there is one to apply.
async fn comment_and_transition(
    writer: &Writer<'_>,
    ticket: &Ticket,
    key: &str,
    status: Option<String>,
    origin: Origin,
) -> Result<(), Error> {
    let client = writer.client();
    let mut comment = ticket.comment.as_deref();
    if comment.is_some() && origin == Origin::Reused {
        tracing::info!("dedupe: not repeating the comment on {key}");
        comment = None;
    }
    let Some(wanted) = &ticket.transition else {
        return post_comment(writer, key, comment).await;
    };
    let available = client.transitions(key).await?;
    if let Some(transition) = pick_transition_by(&available, wanted, ticket.transition_by) {
        return transition_with(writer, key, transition, comment)
            .await
            .map(|_| ());
    }
    post_comment(writer, key, comment).await?;
    not_available(key, wanted, status, origin, &available)
}

/// Posts the comment on its own.
async fn post_comment(writer: &Writer<'_>, key: &str, comment: Option<&str>) -> Result<(), Error> {
    let Some(comment) = comment else {
        return Ok(());
    };
    match writer.add_comment(key, comment).await {
        Ok(applied) => applied.log(format_args!("commented on {key}")),
        // POST comment is not idempotent: repeating it could post it twice, and failing the gate
        // over a comment whose fate is unknown would be worse than either.
        Err(jira::Error::Ambiguous { cause, .. }) => tracing::warn!(
            "the comment on {key} may or may not have been posted ({cause}); not repeating it"
        ),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// What became of a wanted transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// It was applied (or printed, under `--dry-run`).
    Applied(Applied),
    /// The issue already has the wanted status.
    Already,
    /// No such transition from the issue's status; the transitions that are available.
    Unavailable(String),
}

/// Applies the transition named (or leading to) `wanted` on `key`, whose status is `status` when
/// known, with `comment` in the same request when it is applied (not when it is `Already` there
/// or `Unavailable`: the caller then posts the comment on its own). Whether an unavailable one is
/// an error is the caller's to say.
pub async fn transition(
    writer: &Writer<'_>,
    key: &str,
    wanted: &str,
    by: crate::stanza::TransitionBy,
    status: Option<&str>,
    comment: Option<&str>,
) -> Result<Moved, Error> {
    let available = writer.client().transitions(key).await?;
    let Some(transition) = pick_transition_by(&available, wanted, by) else {
        if status.is_some_and(|s| s.eq_ignore_ascii_case(wanted)) {
            tracing::info!("{key} is already \"{wanted}\"");
            return Ok(Moved::Already);
        }
        return Ok(Moved::Unavailable(describe_transitions(&available)));
    };
    transition_with(writer, key, transition, comment)
        .await
        .map(Moved::Applied)
}

/// Applies the transition, with the comment in the same request. Jira applies both or neither,
/// so a retry after a lost answer cannot post the comment twice. When Jira refuses the comment
/// there (a 400 naming it), the comment is posted on its own and the transition sent without it.
async fn transition_with(
    writer: &Writer<'_>,
    key: &str,
    transition: &Transition,
    mut comment: Option<&str>,
) -> Result<Applied, Error> {
    let client = writer.client();
    let applied = loop {
        match writer
            .do_transition_commented(key, transition, comment)
            .await
        {
            Ok(applied) => break applied,
            Err(jira::Error::Status {
                status: 400,
                detail,
                ..
            }) if comment.is_some() && detail.to_lowercase().contains("comment") => {
                tracing::info!(
                    "Jira does not take the comment with the transition on {key} ({detail}); posting it on its own"
                );
                post_comment(writer, key, comment.take()).await?;
            }
            // A transition whose answer was lost is retried, and the retry fails with 400 because
            // the issue has moved on: look before calling that an error; if it did go through, it
            // was applied.
            Err(e) => {
                if !matches!(
                    e,
                    jira::Error::Status {
                        status: 400 | 409,
                        ..
                    }
                ) || !reached(client, key, transition).await
                {
                    return Err(e.into());
                }
                tracing::info!(
                    "{key} already went through \"{}\" (an earlier attempt was applied)",
                    transition.name
                );
                break Applied::Sent;
            }
        }
    };
    if comment.is_some() {
        applied.log(format_args!("commented on {key}"));
    }
    let to = transition
        .to
        .as_ref()
        .map_or(String::new(), |s| format!(" → \"{}\"", s.name));
    applied.log(format_args!(
        "transitioned {key} with \"{}\"{to}",
        transition.name
    ));
    Ok(applied)
}

/// No transition named or leading to `wanted`: fine when the ticket is already there, a warning
/// for a given or reused ticket, an error for one this run created.
fn not_available(
    key: &str,
    wanted: &str,
    status: Option<String>,
    origin: Origin,
    available: &[Transition],
) -> Result<(), Error> {
    if status
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case(wanted))
    {
        tracing::info!("{key} is already \"{wanted}\"");
        return Ok(());
    }
    let status = status
        .map(|s| format!(" (status \"{s}\")"))
        .unwrap_or_default();
    if origin != Origin::Created {
        tracing::warn!(
            "transition \"{wanted}\" is not available on {key}{status}; leaving the status as it is (available: {})",
            describe_transitions(available)
        );
        return Ok(());
    }
    Err(Error::Mismatch(format!(
        "no transition named or leading to {wanted:?} is available on {key}{status}; available: {}",
        describe_transitions(available)
    )))
}

/// Whether `key` now has the transition's target status.
async fn reached(client: &JiraClient, key: &str, transition: &Transition) -> bool {
    let Some(target) = &transition.to else {
        return false;
    };
    match client.issue(key, &["status".to_owned()], false).await {
        Ok(issue) => status_of(&issue).is_some_and(|s| s.eq_ignore_ascii_case(&target.name)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-connection-per-request HTTP server answering `replies` in order; it returns the
    /// requests it saw as `METHOD path body`.
    async fn scripted(
        replies: Vec<(u16, &'static str)>,
    ) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", socket.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            for (status, body) in replies {
                let (mut stream, _) = socket.accept().await.unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if rest.len() >= length {
                            let line = head.lines().next().unwrap();
                            let mut parts = line.split(' ');
                            seen.push(format!(
                                "{} {} {rest}",
                                parts.next().unwrap(),
                                parts.next().unwrap()
                            ));
                            break;
                        }
                    }
                }
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).await.unwrap();
            }
            seen
        });
        (url, task)
    }

    /// Jira refuses the comment inside the transition (a 400 naming it): the comment is posted
    /// on its own, then the transition is sent without it.
    #[tokio::test]
    async fn a_comment_refused_in_the_transition_is_posted_on_its_own() {
        let refused = r#"{"errorMessages":[],"errors":{"comment":"Field 'comment' cannot be set. It is not on the appropriate screen, or unknown."}}"#;
        let (url, server) = scripted(vec![(400, refused), (201, r#"{"id":"1"}"#), (204, "")]).await;
        let config = jira::ClientConfig {
            url,
            auth: jira::Auth::Pat {
                token: crate::secret::Secret::new("t0ken"),
            },
            api: jira::ApiChoice::V2,
            ca_file: None,
            request_timeout: Duration::from_secs(5),
            connect_budget: Duration::from_secs(5),
            site_url: None,
            markup: crate::markup::Markup::Plain,
        };
        let client = JiraClient::new(&config, Instant::now() + Duration::from_secs(10)).unwrap();
        let writer = Writer::new(&client, false, "t0ken");
        let transition = Transition {
            id: "11".into(),
            name: "Request approval".into(),
            to: None,
        };
        let _applied = transition_with(&writer, "OPS-1", &transition, Some("waiting"))
            .await
            .unwrap();
        let seen = server.await.unwrap();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(
            seen[0].starts_with("POST /rest/api/2/issue/OPS-1/transitions ")
                && seen[0].contains(r#""update":{"comment":[{"add":{"body":"waiting"}}]}"#),
            "{seen:?}"
        );
        assert_eq!(
            seen[1],
            r#"POST /rest/api/2/issue/OPS-1/comment {"body":"waiting"}"#
        );
        assert_eq!(
            seen[2],
            r#"POST /rest/api/2/issue/OPS-1/transitions {"transition":{"id":"11"}}"#
        );
    }

    #[test]
    fn dedupe_labels_are_safe_stable_and_distinct() {
        assert_eq!(dedupe_label("1234-production"), "jira-gate-1234-production");
        let spaced = dedupe_label("Build 7 / prod");
        assert!(spaced.starts_with("jira-gate-build-7---prod-"), "{spaced}");
        assert!(!spaced.contains(' '));
        assert_eq!(spaced, dedupe_label("Build 7 / prod"), "stable");
        assert_ne!(
            dedupe_label("a b"),
            dedupe_label("a/b"),
            "distinct keys stay distinct"
        );
        assert!(dedupe_label(&"x".repeat(500)).len() < 160);
        assert_ne!(dedupe_label("ABC"), dedupe_label("abc"));
    }
}
