//! Jira Service Management, the step's side (SPEC section 7): the service desk behind the
//! ticket's project (a clear error when there is none), the answers of a request's approvers as
//! the polls see them, and the approvers and the deciding approver in the report. The reads are
//! `jira::servicedesk`'s; the criterion is `criteria::approval`.

use std::sync::Mutex;

use serde_json::{Map, Value as Json, json};

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
        // Form fields take text (wiki markup) unless the request says it sends ADF.
        values.insert("description".into(), description.as_str().into());
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
        let shaped = match def {
            Some(def) => crate::fields::shape(client, &def, value, None).await?,
            None => value.to_json(),
        };
        tracing::debug!("request field {name:?} is {}", field.field_id);
        values.insert(field.field_id.clone(), shaped);
    }
    Ok(NewRequest {
        body: json!({
            "serviceDeskId": desk.id,
            "requestTypeId": rt.id,
            "requestFieldValues": values,
        }),
        labels_after,
    })
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

/// Whether the stanza needs Jira Service Management: `approval:` criteria or `request_type`.
pub fn wanted(stanza: &crate::stanza::Stanza) -> bool {
    stanza.ticket.request_type.is_some()
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
    let Some(name) = &stanza.ticket.request_type else {
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
