//! Jira Service Management, the step's side (SPEC section 7): the service desk behind the
//! ticket's project (a clear error when there is none), the answers of a request's approvers as
//! the polls see them, and the approvers and the deciding approver in the report. The reads are
//! `jira::servicedesk`'s; the criterion is `criteria::approval`.

use std::sync::Mutex;

use serde_json::{Map, Value as Json, json};

use crate::value::Value;

use crate::criteria::approval::{self, Answer, JsmApproval};
use crate::fields::Catalog;
use crate::jira::JiraClient;
use crate::jira::models::FieldDef;
use crate::jira::servicedesk::{RequestField, RequestType, ServiceDesk};
use crate::outcome::{ApproverReport, Report};
use crate::stanza::Ticket;
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
    /// Marks in `approvals` when each answer was first seen (`now`, ISO 8601) and in which order;
    /// returns the answers new since the last read, as `Alice Approver approved`.
    pub fn note(&self, approvals: &mut [JsmApproval], now: &str) -> Vec<String> {
        let mut new = Vec::new();
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
                    new.push(format!("{} {}", who.name, who.answer.as_str()));
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
        new
    }
}

/// Puts the approvers of the approval the criteria look at (the named one, else the newest) in the
/// report; once it is decided, `decided_by` is the approver whose answer completed it and
/// `decided_at` when it completed. JSM runs the approval's transition as that approver, so when
/// the changelog's `decided_by` (already in the report) is an approver who answered as decided,
/// it is the one; else the last answer the polls saw.
pub fn report(report: &mut Report, approvals: &[JsmApproval], name: Option<&str>) {
    let Some(chosen) = approval::pick(approvals, name) else {
        return;
    };
    let from_changelog = report.decided_by.as_deref().and_then(|by| {
        chosen.approvers.iter().find(|a| {
            chosen.decision != Answer::Pending
                && a.answer == chosen.decision
                && a.name.trim().eq_ignore_ascii_case(by.trim())
        })
    });
    let completer = from_changelog.or_else(|| chosen.completed_by());
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

/// A customer request to create: the body of `POST /rest/servicedeskapi/request`, and the labels
/// the request type's form has no field for (the step adds them with an edit after the create).
#[derive(Debug)]
pub struct NewRequest {
    /// The body.
    pub body: Json,
    /// Labels to add afterwards.
    pub labels_after: Vec<String>,
}

/// The request type `wanted` (name or id, case-insensitive) of the service desk, or an error
/// listing the ones there are.
pub async fn request_type(
    client: &JiraClient,
    desk: &ServiceDesk,
    wanted: &str,
) -> Result<RequestType, Error> {
    let types = client.request_types(&desk.id).await?;
    let wanted = wanted.trim();
    types
        .iter()
        .find(|t| t.name.trim().eq_ignore_ascii_case(wanted) || t.id == wanted)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<String> = types.iter().map(|t| format!("{:?}", t.name)).collect();
            Error::Mismatch(format!(
                "request type {wanted:?} is not in the service desk of {} (hint: ticket.request_type must be one of: {})",
                desk.project_key,
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            ))
        })
}

/// The form field a stanza field name means: the field id, the form's label, or a Jira field
/// name (through the catalog) whose id is on the form.
fn form_field<'a>(
    form: &'a [RequestField],
    name: &str,
    catalog: &Catalog,
) -> Option<&'a RequestField> {
    let name = name.trim();
    form.iter()
        .find(|f| f.field_id == name || f.name.trim().eq_ignore_ascii_case(name))
        .or_else(|| {
            let id = catalog.resolve(name).ok()?.id.clone();
            form.iter().find(|f| f.field_id == id)
        })
}

/// A value (or list of values) for a form field that lists its valid values, as `{"id": …}`
/// objects; `None` when the field lists none or the value is already an object. A value that is
/// neither a valid label nor a valid id is an error listing the valid labels.
fn option_ids(field: &RequestField, value: &Value) -> Result<Option<Json>, Error> {
    if field.valid_values.is_empty() {
        return Ok(None);
    }
    let id_of = |v: &Value| -> Result<Option<Json>, Error> {
        let Some(text) = v.as_text() else {
            return Ok(None);
        };
        let text = text.trim();
        let found = field
            .valid_values
            .iter()
            .find(|o| o.label.trim().eq_ignore_ascii_case(text))
            .or_else(|| field.valid_values.iter().find(|o| o.value == text));
        match found {
            Some(o) => Ok(Some(json!({"id": o.value}))),
            None => Err(Error::Mismatch(format!(
                "{text:?} is not a value of {:?} ({}) (hint: use one of: {})",
                field.name,
                field.field_id,
                field
                    .valid_values
                    .iter()
                    .map(|o| format!("{:?}", o.label))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    };
    match value {
        Value::List(items) => {
            let mut out = Vec::new();
            for item in items {
                match id_of(item)? {
                    Some(id) => out.push(id),
                    None => return Ok(None),
                }
            }
            Ok(Some(Json::Array(out)))
        }
        Value::Map(_) | Value::Null => Ok(None),
        single => id_of(single),
    }
}

/// Lists a form's fields for messages: `"Change risk" (customfield_10050, required)`.
pub fn describe_form(form: &[RequestField]) -> String {
    form.iter()
        .map(|f| {
            format!(
                "{:?} ({}{})",
                f.name,
                f.field_id,
                if f.required { ", required" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the ticket's fields against the request type's form: each must be on it, and every
/// required field must be given. Returns the form field of each stanza field, in order.
pub fn check_form<'a>(
    form: &'a [RequestField],
    ticket: &Ticket,
    catalog: &Catalog,
    type_name: &str,
) -> Result<Vec<&'a RequestField>, Error> {
    let mut found = Vec::new();
    for (name, _) in &ticket.fields {
        let field = form_field(form, name, catalog).ok_or_else(|| {
            Error::Mismatch(format!(
                "field {name:?} is not on the form of request type {type_name:?} (hint: ticket.fields of a request must be among: {})",
                describe_form(form)
            ))
        })?;
        found.push(field);
    }
    let given = |id: &str| {
        found.iter().any(|f| f.field_id == id)
            || (id == "summary" && ticket.summary().is_some())
            || (id == "description" && ticket.description.is_some())
            || (id == "labels" && !ticket.labels.is_empty())
    };
    let missing: Vec<String> = form
        .iter()
        .filter(|f| f.required && !given(&f.field_id))
        .map(|f| format!("{:?} ({})", f.name, f.field_id))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Mismatch(format!(
            "request type {type_name:?} requires {} (hint: add {} to ticket.fields)",
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "them" }
        )));
    }
    Ok(found)
}

/// The customer request for the ticket: the service desk of `project`, the request type by name,
/// and `requestFieldValues` from summary, description, labels (with the dedupe `label`) and the
/// ticket's fields, each checked against the request type's form first.
pub async fn new_request(
    client: &JiraClient,
    ticket: &Ticket,
    project: &str,
    request_type_name: &str,
    label: Option<&str>,
    catalog: &Catalog,
) -> Result<NewRequest, Error> {
    let desk = service_desk(client, project).await?;
    let rt = request_type(client, &desk, request_type_name).await?;
    let form = client.request_type_fields(&desk.id, &rt.id).await?;
    let on_form = check_form(&form, ticket, catalog, &rt.name)?;
    let mut values = Map::new();
    if let Some(summary) = ticket.summary() {
        values.insert("summary".into(), summary.into());
    }
    if let Some(description) = &ticket.description {
        // Form fields take wiki markup, or ADF when the request says `isAdfRequest` (v3).
        values.insert("description".into(), client.rich_text(description));
    }
    let mut labels = ticket.labels.clone();
    if let Some(label) = label {
        if !labels.iter().any(|l| l == label) {
            labels.push(label.to_owned());
        }
    }
    let mut labels_after = Vec::new();
    if form.iter().any(|f| f.field_id == "labels") {
        if !labels.is_empty() {
            values.insert("labels".into(), json!(labels));
        }
    } else {
        labels_after = labels;
    }
    for ((name, value), field) in ticket.fields.iter().zip(on_form) {
        let def = catalog.resolve(&field.field_id).ok().cloned().or_else(|| {
            serde_json::from_value::<FieldDef>(
                json!({"id": field.field_id, "name": field.name, "schema": field.jira_schema}),
            )
            .ok()
        });
        let shaped = match (option_ids(field, value)?, def) {
            (Some(ids), _) => ids,
            (None, Some(def)) => crate::fields::shape(client, &def, value, None).await?,
            (None, None) => value.to_json(),
        };
        tracing::debug!("request field {name:?} is {}", field.field_id);
        values.insert(field.field_id.clone(), shaped);
    }
    let mut body = json!({
        "serviceDeskId": desk.id,
        "requestTypeId": rt.id,
        "requestFieldValues": values,
    });
    if client.sends_adf() {
        body["isAdfRequest"] = json!(true);
    }
    Ok(NewRequest { body, labels_after })
}

/// Adds `labels` to the request `key` just created (its form has no Labels field), so the dedupe
/// search finds it.
pub async fn label_after(
    writer: &crate::dry_run::Writer<'_>,
    key: &str,
    labels: &[String],
) -> Result<(), Error> {
    if labels.is_empty() {
        return Ok(());
    }
    let adds: Vec<Json> = labels.iter().map(|l| json!({"add": l})).collect();
    writer
        .edit_issue(key, json!({}), json!({"labels": adds}))
        .await?
        .log(format_args!("labelled {key}"));
    Ok(())
}

/// Whether the stanza needs Jira Service Management: `approval:` criteria, or `request_type` for a
/// ticket to create.
pub fn wanted(stanza: &crate::stanza::Stanza) -> bool {
    (stanza.ticket.request_type.is_some() && stanza.ticket.key().is_none())
        || stanza.approval.as_ref().is_some_and(|a| {
            !a.approve.approval_tests().is_empty()
                || a.reject
                    .as_ref()
                    .is_some_and(|r| !r.approval_tests().is_empty())
        })
}

/// `check`'s lines for Jira Service Management: the project is a service desk on a site with JSM,
/// the request type exists, and the ticket's fields fit its form with every required one given.
pub async fn check(
    client: &JiraClient,
    stanza: &crate::stanza::Stanza,
    catalog: Option<&Catalog>,
) -> Vec<Result<String, Error>> {
    let Some(project) = crate::workflow::project_of(&stanza.ticket).filter(|_| wanted(stanza))
    else {
        return Vec::new();
    };
    let desk = match service_desk(client, &project).await {
        Ok(desk) => desk,
        Err(e) => return vec![Err(e)],
    };
    let mut lines = vec![Ok(format!(
        "project {} is a Jira Service Management service desk (id {})",
        desk.project_key, desk.id
    ))];
    // `request_type` only matters for a ticket to create.
    let Some(name) = stanza
        .ticket
        .request_type
        .as_ref()
        .filter(|_| stanza.ticket.key().is_none())
    else {
        return lines;
    };
    let rt = match request_type(client, &desk, name).await {
        Ok(rt) => rt,
        Err(e) => {
            lines.push(Err(e));
            return lines;
        }
    };
    lines.push(Ok(format!("request type {:?} (id {})", rt.name, rt.id)));
    // `run` resolves Jira field names with the field list too.
    let fetched = match catalog {
        Some(_) => None,
        None if stanza.ticket.fields.is_empty() => None,
        None => client.fields().await.ok().map(Catalog::new),
    };
    let catalog = catalog.or(fetched.as_ref());
    let empty = Catalog::default();
    let form = match client.request_type_fields(&desk.id, &rt.id).await {
        Ok(form) => form,
        Err(e) => {
            lines.push(Err(e.into()));
            return lines;
        }
    };
    lines.push(
        check_form(&form, &stanza.ticket, catalog.unwrap_or(&empty), &rt.name).map(|_| {
            format!(
                "the ticket's fields fit the form of {:?} and give every required one",
                rt.name
            )
        }),
    );
    lines
}

/// A scripted Jira for the unit tests of this module, of `jira::servicedesk` and of `actions`:
/// each request gets the answer of the first route whose method matches and whose path (with
/// its query) starts with the route's, else a 404; every request is kept as `METHOD path body`.
#[cfg(test)]
pub(crate) mod scripted {
    use std::convert::Infallible;
    use std::sync::{Arc, Mutex};

    use http_body_util::{BodyExt, Full};
    use hyper::body::{Bytes, Incoming};
    use hyper::{Request, Response};
    use serde_json::Value as Json;
    use tokio::time::{Duration, Instant};

    use crate::jira::{ApiChoice, Auth, ClientConfig, JiraClient};

    /// One answer: method, path prefix, status, body (`Json::Null` sends none).
    pub(crate) type Route = (&'static str, &'static str, u16, Json);

    /// The running fake; dropping it stops it.
    pub(crate) struct Jira {
        url: String,
        seen: Arc<Mutex<Vec<String>>>,
        task: tokio::task::AbortHandle,
    }

    impl Jira {
        /// Listens on a free port of 127.0.0.1 and answers with `routes`.
        pub(crate) async fn start(routes: Vec<Route>) -> Jira {
            let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", socket.local_addr().unwrap());
            let seen = Arc::new(Mutex::new(Vec::new()));
            let routes = Arc::new(routes);
            let kept = Arc::clone(&seen);
            let task = tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = socket.accept().await else {
                        continue;
                    };
                    let (routes, kept) = (Arc::clone(&routes), Arc::clone(&kept));
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let (routes, kept) = (Arc::clone(&routes), Arc::clone(&kept));
                            async move { Ok::<_, Infallible>(answer(req, &routes, &kept).await) }
                        });
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    });
                }
            })
            .abort_handle();
            Jira { url, seen, task }
        }

        /// A client of this Jira (a personal access token, REST v2, plain text).
        pub(crate) fn client(&self) -> JiraClient {
            let config = ClientConfig {
                url: self.url.clone(),
                auth: Auth::Pat {
                    token: crate::secret::Secret::new("t0ken"),
                },
                api: ApiChoice::V2,
                ca_file: None,
                request_timeout: Duration::from_secs(5),
                connect_budget: Duration::from_secs(5),
                site_url: None,
                markup: crate::markup::Markup::Plain,
            };
            JiraClient::new(&config, Instant::now() + Duration::from_secs(10)).unwrap()
        }

        /// The requests so far, as `METHOD path?query body`.
        pub(crate) fn seen(&self) -> Vec<String> {
            self.seen.lock().unwrap().clone()
        }
    }

    impl Drop for Jira {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn answer(
        req: Request<Incoming>,
        routes: &[Route],
        kept: &Mutex<Vec<String>>,
    ) -> Response<Full<Bytes>> {
        let method = req.method().as_str().to_owned();
        let target = req
            .uri()
            .path_and_query()
            .map_or_else(String::new, ToString::to_string);
        let body = req.into_body().collect().await.unwrap().to_bytes();
        kept.lock().unwrap().push(
            format!("{method} {target} {}", String::from_utf8_lossy(&body))
                .trim_end()
                .to_owned(),
        );
        let (status, text) = routes
            .iter()
            .find(|(m, path, _, _)| *m == method && target.starts_with(path))
            .map_or_else(
                || {
                    (
                        404,
                        r#"{"errorMessages":["no route in the test"],"errors":{}}"#.to_owned(),
                    )
                },
                |(_, _, status, body)| {
                    let text = if body.is_null() {
                        String::new()
                    } else {
                        body.to_string()
                    };
                    (*status, text)
                },
            );
        let mut response = Response::new(Full::new(Bytes::from(text)));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criteria::approval::Approver;
    use crate::outcome::Decision;

    fn approval(answers: &[(&str, Answer, u32)], decision: Answer) -> JsmApproval {
        JsmApproval {
            id: "1".into(),
            name: "Awaiting approval".into(),
            decision,
            created_ms: 1,
            completed_at: Some("2026-11-29T07:00:05.000+0000".into()),
            approvers: answers
                .iter()
                .map(|(name, answer, order)| Approver {
                    name: (*name).into(),
                    answer: *answer,
                    seen_at: (*order > 0).then(|| format!("t{order}")),
                    seen_order: *order,
                })
                .collect(),
        }
    }

    #[test]
    fn the_changelog_names_the_deciding_approver_when_it_can() {
        // Alice and Dave answered between two polls: the changelog tells who completed it.
        let list = [approval(
            &[
                ("Alice", Answer::Approved, 2),
                ("Bob", Answer::Pending, 0),
                ("Dave", Answer::Approved, 1),
            ],
            Answer::Approved,
        )];
        let mut r = Report::new(Decision::Approved);
        r.decided_by = Some("Dave".into());
        report(&mut r, &list, None);
        assert_eq!(r.decided_by.as_deref(), Some("Dave"));
        assert_eq!(
            r.decided_at.as_deref(),
            Some("2026-11-29T07:00:05.000+0000")
        );
        let times: Vec<Option<&str>> = r.approvers.iter().map(|a| a.time.as_deref()).collect();
        assert_eq!(
            times,
            [Some("t2"), None, Some("2026-11-29T07:00:05.000+0000")]
        );
        // A changelog author who is no approver (a bot's transition) is not taken.
        let mut r = Report::new(Decision::Approved);
        r.decided_by = Some("CI Bot".into());
        report(&mut r, &list, None);
        assert_eq!(r.decided_by.as_deref(), Some("Alice"));
        // Pending: no one decided; the approvers are listed.
        let pending = [approval(&[("Alice", Answer::Approved, 1)], Answer::Pending)];
        let mut r = Report::new(Decision::Timeout);
        report(&mut r, &pending, None);
        assert_eq!(r.decided_by, None);
        assert_eq!(r.approvers[0].decision, "approved");
        // No approval of that name: nothing is reported.
        let mut r = Report::new(Decision::Timeout);
        report(&mut r, &pending, Some("CAB"));
        assert!(r.approvers.is_empty());
    }

    use super::scripted::{Jira, Route};
    use crate::stanza::{Overrides, Stanza, from_str};

    fn stanza(text: &str) -> Stanza {
        let text =
            format!("jira: {{url: 'https://x.example', auth: {{type: pat, token: t}}}}\n{text}");
        from_str(&text, "t.yml", &|_| None)
            .and_then(|raw| raw.validate("t.yml", &Overrides::default()))
            .unwrap()
    }

    /// Two service desks as `GET /servicedesk` lists them: ids as text on one, as numbers on the
    /// other (both are seen).
    fn desks() -> Route {
        (
            "GET",
            "/rest/servicedeskapi/servicedesk?",
            200,
            json!({"size": 2, "start": 0, "limit": 50, "isLastPage": true, "values": [
                {"id": "1", "projectId": "11001", "projectKey": "ITH", "projectName": "IT Help Desk"},
                {"id": 4, "projectId": 10010, "projectKey": "CHG", "projectName": "Change Management"}
            ]}),
        )
    }

    fn request_types() -> Route {
        (
            "GET",
            "/rest/servicedeskapi/servicedesk/4/requesttype?",
            200,
            json!({"isLastPage": true, "values": [
                {"id": "21", "name": "Request a change", "issueTypeId": "10100"},
                {"id": 22, "name": " Emergency change ", "issueTypeId": 10101}
            ]}),
        )
    }

    /// The form of "Request a change": summary, description and Change risk (options) required.
    fn change_form(with_labels: bool) -> Route {
        let mut fields = vec![
            json!({"fieldId": "summary", "name": "What changes?", "required": true, "jiraSchema": {"type": "string", "system": "summary"}}),
            json!({"fieldId": "description", "name": "Why", "required": true, "jiraSchema": {"type": "string", "system": "description"}}),
            json!({"fieldId": "customfield_10050", "name": "Change risk", "required": true,
                   "jiraSchema": {"type": "option", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select"},
                   "validValues": [{"value": "10100", "label": "Low", "children": []}, {"value": 10101, "label": "High", "children": []}]}),
        ];
        if with_labels {
            fields.push(json!({"fieldId": "labels", "name": "Labels", "required": false, "jiraSchema": {"type": "array", "items": "string", "system": "labels"}}));
        }
        (
            "GET",
            "/rest/servicedeskapi/servicedesk/4/requesttype/21/field",
            200,
            json!({"requestTypeFields": fields, "canRaiseOnBehalfOf": true}),
        )
    }

    fn labels_sent(made: &NewRequest) -> Option<&Json> {
        made.body["requestFieldValues"].get("labels")
    }

    fn change_request(fields: &str) -> Stanza {
        stanza(&format!(
            "ticket:\n  project: CHG\n  request_type: request a CHANGE\n  summary: Deploy web 1.4.2\n  description: Pipeline 7 waits.\n  labels: [web]\n  fields:\n{fields}"
        ))
    }

    /// A project is found among the service desks by key (any case) or by project id.
    #[tokio::test]
    async fn a_service_desk_is_found_by_its_project_key_or_id() {
        let jira = Jira::start(vec![desks()]).await;
        let client = jira.client();
        assert_eq!(service_desk(&client, "chg").await.unwrap().id, "4");
        let by_id = service_desk(&client, "10010").await.unwrap();
        assert_eq!(
            (by_id.id.as_str(), by_id.project_key.as_str()),
            ("4", "CHG")
        );
        let e = service_desk(&client, "OPS").await.unwrap_err().to_string();
        assert_eq!(
            e,
            "project OPS is not a Jira Service Management service desk, so it has no approvals or request types (service desks: ITH (IT Help Desk), CHG (Change Management)) (hint: use a service desk project, or `status:` criteria and `ticket.type`)"
        );
        let none = Jira::start(vec![(
            "GET",
            "/rest/servicedeskapi/servicedesk",
            200,
            json!({"values": []}),
        )])
        .await;
        let e = service_desk(&none.client(), "OPS").await.unwrap_err();
        assert!(
            e.to_string()
                .contains("(service desks: none visible to this user)"),
            "{e}"
        );
    }

    /// A site without JSM (Cloud's 404 on `/servicedesk`) is said to be one; any other refusal
    /// is passed on as Jira's own words.
    #[tokio::test]
    async fn a_site_without_jsm_is_told_apart_from_other_refusals() {
        let cloud = Jira::start(vec![(
            "GET",
            "/rest/servicedeskapi/servicedesk",
            404,
            json!({"errorMessages": ["null for uri: /rest/servicedeskapi/servicedesk"]}),
        )])
        .await;
        let e = service_desk(&cloud.client(), "CHG")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("has no Jira Service Management (GET /rest/servicedeskapi/servicedesk answered HTTP 404: null for uri: /rest/servicedeskapi/servicedesk); `approval:` criteria and `ticket.request_type` need it (hint: use `status:` criteria and `ticket.type` on this site)"),
            "{e}"
        );
        let forbidden = Jira::start(vec![(
            "GET",
            "/rest/servicedeskapi/servicedesk",
            403,
            json!({"errorMessage": "You are not an agent"}),
        )])
        .await;
        let e = service_desk(&forbidden.client(), "CHG").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "GET /rest/servicedeskapi/servicedesk answered HTTP 403: You are not an agent"
        );
    }

    /// A request type is named by its name (any case, spaces around ignored) or its id; a wrong
    /// one lists the request types there are.
    #[tokio::test]
    async fn a_request_type_is_found_by_name_or_id_or_the_types_are_listed() {
        let jira = Jira::start(vec![desks(), request_types()]).await;
        let client = jira.client();
        let desk = service_desk(&client, "CHG").await.unwrap();
        let by_name = request_type(&client, &desk, " emergency CHANGE")
            .await
            .unwrap();
        assert_eq!(
            (by_name.id.as_str(), by_name.issue_type_id.as_str()),
            ("22", "10101")
        );
        assert_eq!(
            request_type(&client, &desk, "21").await.unwrap().name,
            "Request a change"
        );
        let e = request_type(&client, &desk, "Standard change")
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "request type \"Standard change\" is not in the service desk of CHG (hint: ticket.request_type must be one of: \"Request a change\", \" Emergency change \")"
        );
    }

    /// The customer request's body: the form's ids, the option's id for a label or an id, the
    /// dedupe label with the ticket's labels, which go after the create when the form has no
    /// Labels field.
    #[tokio::test]
    async fn a_request_carries_the_form_values_and_its_labels() {
        let ticket = change_request("    Change risk: high\n").ticket;
        let jira = Jira::start(vec![desks(), request_types(), change_form(true)]).await;
        let client = jira.client();
        let catalog = Catalog::default();
        let made = new_request(
            &client,
            &ticket,
            "CHG",
            "request a CHANGE",
            Some("jira-gate-p7"),
            &catalog,
        )
        .await
        .unwrap();
        assert_eq!(
            made.body,
            json!({"serviceDeskId": "4", "requestTypeId": "21", "requestFieldValues": {
                "summary": "Deploy web 1.4.2", "description": "Pipeline 7 waits.",
                "labels": ["web", "jira-gate-p7"], "customfield_10050": {"id": "10101"}}})
        );
        assert!(made.labels_after.is_empty());
        // A label the ticket has already is not added twice.
        let made = new_request(&client, &ticket, "CHG", "21", Some("web"), &catalog)
            .await
            .unwrap();
        assert_eq!(made.body["requestFieldValues"]["labels"], json!(["web"]));

        // Without Labels on the form, the labels go after the create.
        let jira = Jira::start(vec![desks(), request_types(), change_form(false)]).await;
        let made = new_request(
            &jira.client(),
            &ticket,
            "CHG",
            "21",
            Some("jira-gate-p7"),
            &catalog,
        )
        .await
        .unwrap();
        assert_eq!(labels_sent(&made), None, "{}", made.body);
        assert_eq!(made.labels_after, ["web", "jira-gate-p7"]);
    }

    /// No labels at all: the body has no `labels`, and nothing is labelled afterwards.
    #[tokio::test]
    async fn a_request_without_labels_sends_none() {
        let ticket = stanza("ticket:\n  project: CHG\n  request_type: Request a change\n  summary: Deploy\n  description: d\n  fields: {Change risk: '10100'}\n").ticket;
        let jira = Jira::start(vec![desks(), request_types(), change_form(true)]).await;
        let client = jira.client();
        let made = new_request(&client, &ticket, "CHG", "21", None, &Catalog::default())
            .await
            .unwrap();
        assert_eq!(labels_sent(&made), None, "{}", made.body);
        assert_eq!(
            made.body["requestFieldValues"]["customfield_10050"],
            json!({"id": "10100"})
        );
        let writer = crate::dry_run::Writer::new(&client, false, "t0ken");
        label_after(&writer, "CHG-7", &[]).await.unwrap();
        label_after(&writer, "CHG-7", &made.labels_after)
            .await
            .unwrap();
        assert!(
            !jira.seen().iter().any(|r| r.starts_with("PUT")),
            "{:?}",
            jira.seen()
        );
    }

    /// The labels of a request whose form has no Labels field are added with one edit.
    #[tokio::test]
    async fn labels_the_form_lacks_are_added_after_the_create() {
        let jira = Jira::start(vec![("PUT", "/rest/api/2/issue/CHG-7", 204, Json::Null)]).await;
        let client = jira.client();
        let writer = crate::dry_run::Writer::new(&client, false, "t0ken");
        label_after(&writer, "CHG-7", &["web".into(), "jira-gate-p7".into()])
            .await
            .unwrap();
        assert_eq!(
            jira.seen(),
            [
                r#"PUT /rest/api/2/issue/CHG-7 {"update":{"labels":[{"add":"web"},{"add":"jira-gate-p7"}]}}"#
            ]
        );
    }

    /// An option is given by its label (any case) or its id; anything else lists the labels; a
    /// list gives a list; a map, a null, a non-text value or a field without options are sent
    /// as written.
    #[test]
    fn an_option_is_named_by_its_label_or_its_id() {
        let field: RequestField = serde_json::from_value(json!({"fieldId": "customfield_10050", "name": "Change risk",
            "validValues": [{"value": "10100", "label": "Low"}, {"value": 10101, "label": " High "}]})).unwrap();
        let text = |t: &str| Value::String(t.into());
        assert_eq!(
            option_ids(&field, &text(" high")).unwrap(),
            Some(json!({"id": "10101"}))
        );
        assert_eq!(
            option_ids(&field, &text("10100")).unwrap(),
            Some(json!({"id": "10100"}))
        );
        let list = Value::List(vec![text("low"), text("10101")]);
        assert_eq!(
            option_ids(&field, &list).unwrap(),
            Some(json!([{"id": "10100"}, {"id": "10101"}]))
        );
        assert_eq!(
            option_ids(&field, &text("Extreme"))
                .unwrap_err()
                .to_string(),
            "\"Extreme\" is not a value of \"Change risk\" (customfield_10050) (hint: use one of: \"Low\", \" High \")"
        );
        assert_eq!(option_ids(&field, &Value::Null).unwrap(), None);
        assert_eq!(
            option_ids(&field, &Value::List(vec![text("low"), Value::Null])).unwrap(),
            None
        );
        let free: RequestField =
            serde_json::from_value(json!({"fieldId": "customfield_1"})).unwrap();
        assert_eq!(option_ids(&free, &text("Low")).unwrap(), None);
    }

    /// A stanza field is found on the form by id, by the form's label, or by its Jira name; a
    /// field not on the form lists the form; required fields must be given, summary,
    /// description and labels by the ticket's own keys.
    #[test]
    fn the_ticket_must_fit_the_request_types_form() {
        let form: Vec<RequestField> = serde_json::from_value(json!([
            {"fieldId": "summary", "name": "What changes?", "required": true},
            {"fieldId": "description", "name": "Why", "required": true},
            {"fieldId": "labels", "name": "Tags", "required": true},
            {"fieldId": "customfield_10050", "name": "Change risk", "required": true},
            {"fieldId": "customfield_10060", "name": "Window", "required": false}
        ]))
        .unwrap();
        let catalog = Catalog::new(
            serde_json::from_value(
                json!([{"id": "customfield_10060", "name": "Maintenance window"}]),
            )
            .unwrap(),
        );
        let fits = |yaml: &str| {
            let ticket = stanza(&format!(
                "ticket:\n  project: CHG\n  request_type: R\n{yaml}"
            ))
            .ticket;
            check_form(&form, &ticket, &catalog, "R")
                .map(|found| found.iter().map(|f| f.field_id.clone()).collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        };
        let all = "  summary: s\n  description: d\n  labels: [x]\n";
        assert_eq!(
            fits(&format!(
                "{all}  fields: {{Maintenance window: x, ' change RISK ': Low}}\n"
            )),
            Ok(vec!["customfield_10050".into(), "customfield_10060".into()])
        );
        assert_eq!(
            fits(&format!("{all}  fields: {{Team: x, Change risk: Low}}\n")),
            Err("field \"Team\" is not on the form of request type \"R\" (hint: ticket.fields of a request must be among: \"What changes?\" (summary, required), \"Why\" (description, required), \"Tags\" (labels, required), \"Change risk\" (customfield_10050, required), \"Window\" (customfield_10060))".into())
        );
        assert_eq!(
            fits("  summary: s\n  fields: {Change risk: Low}\n"),
            Err("request type \"R\" requires \"Why\" (description), \"Tags\" (labels) (hint: add them to ticket.fields)".into())
        );
        assert_eq!(
            fits("  summary: s\n  description: d\n  labels: [x]\n"),
            Err("request type \"R\" requires \"Change risk\" (customfield_10050) (hint: add it to ticket.fields)".into())
        );
        // A form field given by id counts as given, whatever its id.
        assert_eq!(
            fits("  summary: s\n  fields: {description: d, labels: [x], customfield_10050: Low}\n"),
            Ok(vec![
                "customfield_10050".into(),
                "description".into(),
                "labels".into()
            ])
        );
    }

    /// JSM is needed for `approval:` criteria (approve or reject) and for a request to create,
    /// not for a request type on a ticket that exists.
    #[test]
    fn jsm_is_needed_by_approval_criteria_and_requests_to_create() {
        let wants = |yaml: &str| wanted(&stanza(yaml));
        assert!(wants(
            "ticket: {project: CHG, request_type: R, summary: s}\n"
        ));
        assert!(!wants("ticket: {key: CHG-1, request_type: R}\n"));
        assert!(!wants(
            "ticket: {key: CHG-1}\napproval: {approve_when: {status: Done}}\n"
        ));
        assert!(wants(
            "ticket: {key: CHG-1}\napproval: {approve_when: {approval: approved}}\n"
        ));
        assert!(wants(
            "ticket: {key: CHG-1}\napproval: {approve_when: {status: Done}, reject_when: {approval: declined}}\n"
        ));
        assert!(!wants(
            "ticket: {key: CHG-1}\napproval: {approve_when: {status: Done}, reject_when: {status: Rejected}}\n"
        ));
    }

    /// `check` says the project is a service desk, the request type exists and the ticket fits
    /// its form; a Jira field name on the form is resolved with the field list, read only when
    /// the ticket has fields.
    #[tokio::test]
    async fn check_reports_the_desk_the_request_type_and_the_form() {
        let field_list = (
            "GET",
            "/rest/api/2/field",
            200,
            json!([{"id": "customfield_10050", "name": "Risk level", "schema": {"type": "option"}}]),
        );
        let jira = Jira::start(vec![
            desks(),
            request_types(),
            change_form(false),
            field_list,
        ])
        .await;
        let client = jira.client();
        let lines = |r: Vec<Result<String, Error>>| -> Vec<String> {
            r.into_iter()
                .map(|l| l.unwrap_or_else(|e| format!("error: {e}")))
                .collect()
        };
        let ok = lines(check(&client, &change_request("    Risk level: Low\n"), None).await);
        assert_eq!(
            ok,
            [
                "project CHG is a Jira Service Management service desk (id 4)",
                "request type \"Request a change\" (id 21)",
                "the ticket's fields fit the form of \"Request a change\" and give every required one"
            ]
        );
        assert!(
            jira.seen()
                .iter()
                .any(|r| r.starts_with("GET /rest/api/2/field"))
        );
        // No fields: the field list is not read, and the form misses its required one.
        let before = jira.seen().len();
        let bare = stanza(
            "ticket:\n  project: CHG\n  request_type: Request a change\n  summary: s\n  description: d\n",
        );
        let lines_bare = lines(check(&client, &bare, None).await);
        assert_eq!(
            lines_bare[2],
            "error: request type \"Request a change\" requires \"Change risk\" (customfield_10050) (hint: add it to ticket.fields)"
        );
        assert!(
            !jira.seen()[before..]
                .iter()
                .any(|r| r.starts_with("GET /rest/api/2/field")),
            "{:?}",
            jira.seen()
        );
        // An existing ticket needs only the service desk; a wrong request type stops the lines.
        let existing =
            stanza("ticket: {key: CHG-1}\napproval: {approve_when: {approval: approved}}\n");
        assert_eq!(
            lines(check(&client, &existing, None).await),
            ["project CHG is a Jira Service Management service desk (id 4)"]
        );
        let wrong = stanza("ticket: {project: CHG, request_type: Standard change, summary: s}\n");
        let got = lines(check(&client, &wrong, None).await);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[1].starts_with("error: request type \"Standard change\" is not in"),
            "{got:?}"
        );
        let other = stanza("ticket: {project: OPS, request_type: R, summary: s}\n");
        let got = lines(check(&client, &other, None).await);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("error: project OPS is not"), "{got:?}");
        assert!(lines(check(&client, &stanza("ticket: {key: OPS-1}\n"), None).await).is_empty());
    }

    #[test]
    fn answers_keep_the_time_they_were_first_seen() {
        let answers = Answers::default();
        let mut first = [approval(
            &[("Alice", Answer::Approved, 0), ("Bob", Answer::Pending, 0)],
            Answer::Pending,
        )];
        assert_eq!(answers.note(&mut first, "t1"), ["Alice approved"]);
        let mut second = [approval(
            &[("Alice", Answer::Approved, 0), ("Bob", Answer::Declined, 0)],
            Answer::Declined,
        )];
        assert_eq!(answers.note(&mut second, "t2"), ["Bob declined"]);
        assert_eq!(second[0].approvers[0].seen_at.as_deref(), Some("t1"));
        assert_eq!(second[0].approvers[1].seen_order, 2);
        assert_eq!(second[0].completed_by().unwrap().name, "Bob");
    }
}
