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
