//! Jira Service Management: the service desk project (`CHG`), its request types and their fields,
//! customer requests created through `servicedeskapi`, and their N-of-M approvals.
//!
//! A request is an ordinary issue of the store (key `CHG-n`) plus a [`Request`] entry here. A
//! request type with an approval puts the new request in "Awaiting approval" with one pending
//! approval; when enough approvers approve (or one declines, as in JSM) the approval completes and
//! the request moves to "Approved" or "Rejected" as the completing approver. The renderings follow
//! the Service Management OpenAPI: `PagedDTO` envelopes, `ApprovalDTO` with `finalDecision` and
//! `approverDecision`, and errors as `{"errorMessage", "i18nErrorMessage"}`.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use serde_json::{Map, Value, json};

use crate::Flavor;

use super::{
    Api,
    catalog::{ALICE, APPROVED, AWAITING, BOB, BOT, FieldDef, TO_DO, field_def},
    render::jira_time,
    store::{Issue, State, Val},
};

/// Key of the service desk project.
pub(crate) const DESK_KEY: &str = "CHG";
/// Its project id.
pub(crate) const DESK_PROJECT_ID: &str = "10001";
/// Its project name.
pub(crate) const DESK_NAME: &str = "Change Management";
/// The service desk id.
pub(crate) const DESK_ID: &str = "1";
/// Index of Dave Deployer, the third approver.
pub(crate) const DAVE: usize = 3;

/// One field of a request type's form.
pub(crate) struct FormField {
    /// The Jira field id.
    pub id: &'static str,
    /// The label customers see.
    pub label: &'static str,
    /// Whether the form requires it.
    pub required: bool,
}

/// A customer request type of the service desk.
pub(crate) struct RequestType {
    /// Id.
    pub id: &'static str,
    /// Name.
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// The issue type its requests get.
    pub issue_type: &'static str,
    /// The form.
    pub fields: &'static [FormField],
    /// The approvers (user indexes) and how many of them must approve; `None`: no approval step.
    pub approval: Option<(&'static [usize], usize)>,
}

const SUMMARY: FormField = FormField {
    id: "summary",
    label: "What are you changing?",
    required: true,
};
const DESCRIPTION: FormField = FormField {
    id: "description",
    label: "Describe the change",
    required: false,
};

/// The request types of the service desk.
pub(crate) const REQUEST_TYPES: [RequestType; 3] = [
    RequestType {
        id: "10",
        name: "Request a change",
        description: "A normal change: two of three approvers must approve it.",
        issue_type: "10002",
        fields: &[
            SUMMARY,
            DESCRIPTION,
            FormField {
                id: "customfield_10050",
                label: "Change risk",
                required: true,
            },
            FormField {
                id: "customfield_10055",
                label: "Ticket ref",
                required: false,
            },
            FormField {
                id: "labels",
                label: "Labels",
                required: false,
            },
        ],
        approval: Some((&[ALICE, BOB, DAVE], 2)),
    },
    RequestType {
        id: "11",
        name: "Emergency change",
        description: "An urgent change: one approver decides.",
        issue_type: "10002",
        fields: &[
            SUMMARY,
            DESCRIPTION,
            FormField {
                id: "labels",
                label: "Labels",
                required: false,
            },
        ],
        approval: Some((&[ALICE], 1)),
    },
    RequestType {
        id: "12",
        name: "Get IT help",
        description: "Ask the operations team for help; no approval.",
        issue_type: "10003",
        fields: &[SUMMARY, DESCRIPTION],
        approval: None,
    },
];

/// What one approver answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Pending,
    Approved,
    Declined,
}

impl Answer {
    fn as_str(self) -> &'static str {
        match self {
            Answer::Pending => "pending",
            Answer::Approved => "approved",
            Answer::Declined => "declined",
        }
    }
}

/// One approval of a request.
#[derive(Debug, Clone)]
pub(crate) struct Approval {
    /// Id, unique in the sandbox.
    pub id: u64,
    /// The approvers and their answers, in order.
    pub approvers: Vec<(usize, Answer)>,
    /// How many approvals complete it.
    pub needed: usize,
    /// The final decision.
    pub decision: Answer,
    created: SystemTime,
    completed: Option<SystemTime>,
}

/// The service-desk side of an issue created as a customer request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The issue's id.
    pub issue_id: u64,
    /// The request type's id.
    pub type_id: &'static str,
    /// Its approvals, oldest first.
    pub approvals: Vec<Approval>,
}

/// A `servicedeskapi` error: status, message and i18n key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeskError {
    /// HTTP status.
    pub status: u16,
    /// `errorMessage`.
    pub message: String,
    key: &'static str,
}

impl DeskError {
    /// An error with an i18n key.
    pub fn new(status: u16, key: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            key,
        }
    }

    /// The body Service Management sends.
    pub fn body(&self) -> Value {
        json!({"errorMessage": self.message, "i18nErrorMessage": {"i18nKey": self.key, "parameters": []}})
    }
}

/// The `PagedDTO` envelope around `values`, paged by `start` and `limit` (default 50).
pub(crate) fn paged(
    values: Vec<Value>,
    start: usize,
    limit: usize,
    base: &str,
    path: &str,
) -> Value {
    let limit = limit.clamp(1, 100);
    let total = values.len();
    let page: Vec<Value> = values.into_iter().skip(start).take(limit).collect();
    let last = start + page.len() >= total;
    let mut links = json!({"base": format!("{base}/rest/servicedeskapi"), "context": ""});
    if !last {
        links["next"] = json!(format!(
            "{base}{path}?start={}&limit={limit}",
            start + limit
        ));
    }
    if start > 0 {
        links["prev"] = json!(format!(
            "{base}{path}?start={}&limit={limit}",
            start.saturating_sub(limit)
        ));
    }
    json!({"_expands": [], "size": page.len(), "start": start, "limit": limit, "isLastPage": last, "_links": links, "values": page})
}

fn date_json(t: SystemTime) -> Value {
    let millis = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let jira = jira_time(t);
    let iso = format!("{}{}", &jira[..19], &jira[23..]);
    json!({"iso8601": iso, "jira": jira, "friendly": iso, "epochMillis": millis})
}

/// Whether `key_or_id` names the service desk's project.
pub(crate) fn is_desk_project(key_or_id: &str) -> bool {
    key_or_id.eq_ignore_ascii_case(DESK_KEY) || key_or_id == DESK_PROJECT_ID
}

/// Whether `id` names the service desk (its id, or its project's key or id).
fn is_desk(id: &str) -> bool {
    id == DESK_ID || is_desk_project(id)
}

fn no_desk(id: &str) -> DeskError {
    DeskError::new(
        404,
        "sd.servicedesk.error.not.found",
        format!(
            "Service Desk with id '{id}' does not exist or you do not have permission to see it."
        ),
    )
}

/// The request type `id` of the service desk `desk`.
fn request_type(desk: &str, id: &str) -> Result<&'static RequestType, DeskError> {
    if !is_desk(desk) {
        return Err(no_desk(desk));
    }
    REQUEST_TYPES.iter().find(|t| t.id == id).ok_or_else(|| {
        DeskError::new(
            404,
            "sd.requesttype.error.not.found",
            format!("The request type with id '{id}' does not exist in this service desk."),
        )
    })
}

impl State {
    /// The project key of an issue: the service desk's for requests, else the sandbox project's.
    pub fn project_of(&self, issue: &Issue) -> &str {
        if self.requests.iter().any(|r| r.issue_id == issue.id) {
            DESK_KEY
        } else {
            &self.project
        }
    }

    /// The short project JSON of the service desk project.
    pub(super) fn desk_project_short(base: &str, api: Api) -> Value {
        let v = if api.v3 { 3 } else { 2 };
        json!({
            "self": format!("{base}/rest/api/{v}/project/{DESK_PROJECT_ID}"),
            "id": DESK_PROJECT_ID, "key": DESK_KEY, "name": DESK_NAME,
            "projectTypeKey": "service_desk", "simplified": false,
        })
    }

    /// `GET /project/CHG`: the service desk project, with the sandbox's issue types.
    pub(super) fn desk_project_json(&self, base: &str, api: Api) -> Value {
        let mut v = Self::desk_project_short(base, api);
        v["issueTypes"] = Value::Array(
            super::catalog::ISSUE_TYPES
                .iter()
                .map(|t| super::render::issue_type_json(t, base, api))
                .collect(),
        );
        v["description"] = json!("Sandbox service desk for jira-gate (Jira Service Management)");
        v["lead"] = self.user_json(BOT, base, api);
        v
    }

    /// The user as `servicedeskapi` renders it (`UserDTO`).
    fn desk_user(&self, idx: usize, base: &str, api: Api) -> Value {
        let u = &self.users[idx];
        let mut v = json!({
            "emailAddress": u.email, "displayName": u.display, "active": true, "timeZone": "Etc/UTC",
        });
        let avatars = self.user_json(idx, base, api)["avatarUrls"].clone();
        let rest = match api.flavor {
            // Cloud fills `key` and `name` with the account id, as its examples show.
            Flavor::Cloud => {
                v["accountId"] = json!(u.account_id);
                v["key"] = json!(u.account_id);
                v["name"] = json!(u.account_id);
                format!("{base}/rest/api/2/user?accountId={}", u.account_id)
            }
            Flavor::Datacenter => {
                v["key"] = json!(u.key);
                v["name"] = json!(u.name);
                format!("{base}/rest/api/2/user?username={}", u.name)
            }
        };
        v["_links"] = json!({"jiraRest": rest, "avatarUrls": avatars, "self": rest});
        v
    }

    /// `GET /info` (`SoftwareInfoDTO`): Service Management of `version`, licensed.
    pub fn desk_info(base: &str, version: &str) -> Value {
        // 2026-01-15, the build date `serverInfo` gives too.
        let built = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_768_435_200);
        json!({
            "version": version, "platformVersion": version, "buildDate": date_json(built),
            "buildChangeSet": "0000000000000000000000000000000000000000", "isLicensedForUse": true,
            "_links": {"self": format!("{base}/rest/servicedeskapi/info")},
        })
    }

    /// `ServiceDeskDTO`.
    pub fn desk_json(base: &str) -> Value {
        json!({
            "id": DESK_ID, "projectId": DESK_PROJECT_ID, "projectName": DESK_NAME, "projectKey": DESK_KEY,
            "_links": {"self": format!("{base}/rest/servicedeskapi/servicedesk/{DESK_ID}")},
        })
    }

    /// `GET /servicedesk/{id}`.
    pub fn desk(id: &str, base: &str) -> Result<Value, DeskError> {
        if is_desk(id) {
            Ok(Self::desk_json(base))
        } else {
            Err(no_desk(id))
        }
    }

    /// The request types of the service desk `desk`, as `RequestTypeDTO`s.
    pub fn request_types(desk: &str, base: &str) -> Result<Vec<Value>, DeskError> {
        if !is_desk(desk) {
            return Err(no_desk(desk));
        }
        Ok(REQUEST_TYPES
            .iter()
            .map(|t| {
                json!({
                    "_expands": [], "id": t.id, "name": t.name, "description": t.description, "helpText": "",
                    "issueTypeId": t.issue_type, "serviceDeskId": DESK_ID, "portalId": DESK_ID, "groupIds": ["1"],
                    "icon": {"id": "10500", "_links": {"iconUrls": {
                        "48x48": format!("{base}/rest/api/2/universal_avatar/view/type/SD_REQTYPE/avatar/10500?size=large"),
                        "24x24": format!("{base}/rest/api/2/universal_avatar/view/type/SD_REQTYPE/avatar/10500?size=small"),
                        "16x16": format!("{base}/rest/api/2/universal_avatar/view/type/SD_REQTYPE/avatar/10500?size=xsmall"),
                        "32x32": format!("{base}/rest/api/2/universal_avatar/view/type/SD_REQTYPE/avatar/10500?size=medium"),
                    }}},
                    "_links": {"self": format!("{base}/rest/servicedeskapi/servicedesk/{DESK_ID}/requesttype/{}", t.id)},
                })
            })
            .collect())
    }

    /// `GET /servicedesk/{id}/requesttype/{id}/field`: `CustomerRequestCreateMetaDTO`.
    pub fn request_type_fields(desk: &str, id: &str) -> Result<Value, DeskError> {
        let t = request_type(desk, id)?;
        let fields: Vec<Value> = t
            .fields
            .iter()
            .filter_map(|f| field_def(f.id).map(|def| (f, def)))
            .map(|(f, def)| {
                let valid: Vec<Value> = match def.kind {
                    super::catalog::Kind::Select(opts)
                    | super::catalog::Kind::MultiSelect(opts) => opts
                        .iter()
                        .map(|o| json!({"value": o.0, "label": o.1, "children": []}))
                        .collect(),
                    _ => Vec::new(),
                };
                json!({
                    "fieldId": f.id, "name": f.label, "description": "", "required": f.required,
                    "defaultValues": [], "validValues": valid, "presetValues": [],
                    "jiraSchema": def.schema, "visible": true,
                })
            })
            .collect();
        Ok(
            json!({"requestTypeFields": fields, "canRaiseOnBehalfOf": true, "canAddRequestParticipants": true}),
        )
    }

    /// `POST /request`: validates like Service Management and stores the request; returns the
    /// issue index.
    pub fn create_request(&mut self, body: &Value, api: Api) -> Result<usize, DeskError> {
        let text = |k: &str| {
            body.get(k).and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
        };
        let desk = text("serviceDeskId").ok_or_else(|| {
            DeskError::new(
                400,
                "sd.request.create.error.servicedesk.missing",
                "The service desk id is missing.",
            )
        })?;
        let type_id = text("requestTypeId").ok_or_else(|| {
            DeskError::new(
                400,
                "sd.request.create.error.requesttype.missing",
                "The request type id is missing.",
            )
        })?;
        let t = request_type(&desk, &type_id).map_err(|mut e| {
            e.status = 400;
            e
        })?;
        let empty = Map::new();
        let values = body
            .get("requestFieldValues")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        // Form fields are rich text as strings (wiki markup), unless the body says it sends ADF.
        let form_api = Api {
            flavor: api.flavor,
            v3: body.get("isAdfRequest").and_then(Value::as_bool) == Some(true),
        };
        let mut errors: BTreeMap<String, String> = BTreeMap::new();
        let mut changes: Vec<(&'static FieldDef, Option<Val>)> = Vec::new();
        for (id, raw) in values {
            let on_form = t.fields.iter().find(|f| f.id == id.as_str());
            match (on_form, field_def(id)) {
                (Some(_), Some(def)) => match self.parse_value(def, raw, form_api) {
                    Ok(v) => changes.push((def, v)),
                    Err(e) => {
                        errors.insert(id.clone(), e);
                    }
                },
                _ => {
                    errors.insert(
                        id.clone(),
                        format!("Field '{id}' cannot be set. It is not on the appropriate screen, or unknown."),
                    );
                }
            }
        }
        for f in t.fields.iter().filter(|f| f.required) {
            let given = changes.iter().any(|(def, v)| def.id == f.id && v.is_some());
            if !given && !errors.contains_key(f.id) {
                errors.insert(f.id.to_owned(), format!("{} is required.", f.label));
            }
        }
        if !errors.is_empty() {
            let message = errors
                .iter()
                .map(|(id, m)| format!("{id}: {m}"))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(DeskError::new(
                400,
                "sd.request.create.error.validation",
                message,
            ));
        }
        Ok(self.insert_request(t, changes))
    }

    fn insert_request(
        &mut self,
        t: &'static RequestType,
        changes: Vec<(&'static FieldDef, Option<Val>)>,
    ) -> usize {
        let now = SystemTime::now();
        self.next_request += 1;
        let number = self.next_request;
        let mut issue = Issue {
            id: 20000 + number,
            key: format!("{DESK_KEY}-{number}"),
            issue_type: t.issue_type,
            status: if t.approval.is_some() {
                AWAITING
            } else {
                TO_DO
            },
            resolution: None,
            values: BTreeMap::from([("reporter", Val::User(BOT))]),
            created: now,
            updated: now,
            category_changed: now,
            changed_at: Instant::now(),
            approval_round: u64::from(t.approval.is_some()),
            history: Vec::new(),
            comments: Vec::new(),
        };
        for (def, val) in changes {
            super::store::apply_change(&mut issue, def, val);
        }
        let issue_id = issue.id;
        self.issues.push(issue);
        let approvals = t
            .approval
            .map(|(who, needed)| {
                self.next_approval += 1;
                vec![Approval {
                    id: self.next_approval,
                    approvers: who.iter().map(|u| (*u, Answer::Pending)).collect(),
                    needed,
                    decision: Answer::Pending,
                    created: now,
                    completed: None,
                }]
            })
            .unwrap_or_default();
        self.requests.push(Request {
            issue_id,
            type_id: t.id,
            approvals,
        });
        self.issues.len() - 1
    }

    /// The request entry of an issue (by key or id), or Service Management's 404.
    fn request_of(&self, key: &str) -> Result<(usize, usize), DeskError> {
        let not_found = || {
            DeskError::new(
                404,
                "sd.request.error.not.found",
                format!(
                    "Request with key or id '{key}' does not exist or you do not have permission to see it."
                ),
            )
        };
        let idx = self.find(key).ok_or_else(not_found)?;
        let id = self.issues[idx].id;
        let r = self
            .requests
            .iter()
            .position(|r| r.issue_id == id)
            .ok_or_else(not_found)?;
        Ok((idx, r))
    }

    /// `CustomerRequestDTO` of a request (after create).
    pub fn request_json(&self, idx: usize, base: &str, api: Api) -> Value {
        let issue = &self.issues[idx];
        let r = self.requests.iter().find(|r| r.issue_id == issue.id);
        let type_id = r.map_or("", |r| r.type_id);
        let labels = REQUEST_TYPES
            .iter()
            .find(|t| t.id == type_id)
            .map(|t| t.fields)
            .unwrap_or_default();
        let values: Vec<Value> = labels
            .iter()
            .filter_map(|f| {
                let def = field_def(f.id)?;
                issue.values.get(f.id).map(|_| {
                    let v2 = Api { flavor: api.flavor, v3: false };
                    json!({"fieldId": f.id, "label": f.label, "value": self.field_json(issue, def, base, v2)})
                })
            })
            .collect();
        json!({
            "_expands": ["participant", "status", "sla", "requestType", "serviceDesk", "attachment", "action", "comment"],
            "issueId": issue.id.to_string(), "issueKey": issue.key, "requestTypeId": type_id, "serviceDeskId": DESK_ID,
            "createdDate": date_json(issue.created()), "reporter": self.desk_user(BOT, base, api),
            "requestFieldValues": values,
            "currentStatus": {"status": issue.status_name(), "statusCategory": Self::status_category(issue), "statusDate": date_json(issue.updated)},
            "_links": {
                "jiraRest": format!("{base}/rest/api/2/issue/{}", issue.id),
                "web": format!("{base}/servicedesk/customer/portal/{DESK_ID}/{}", issue.key),
                "self": format!("{base}/rest/servicedeskapi/request/{}", issue.id),
                "agent": format!("{base}/browse/{}", issue.key),
            },
        })
    }

    /// The status category as `servicedeskapi` names it: `NEW`, `INDETERMINATE`, `DONE`.
    fn status_category(issue: &Issue) -> &'static str {
        let shown = super::render::status_json(
            super::catalog::status(issue.status),
            "",
            Api {
                flavor: Flavor::Cloud,
                v3: false,
            },
        );
        match shown["statusCategory"]["key"].as_str() {
            Some("new") => "NEW",
            Some("done") => "DONE",
            _ => "INDETERMINATE",
        }
    }

    /// `ApprovalDTO`.
    fn approval_json(&self, issue_id: u64, a: &Approval, base: &str, api: Api) -> Value {
        let approvers: Vec<Value> = a
            .approvers
            .iter()
            .map(|(u, answer)| json!({"approver": self.desk_user(*u, base, api), "approverDecision": answer.as_str()}))
            .collect();
        let mut v = json!({
            "id": a.id.to_string(), "name": "Awaiting approval", "finalDecision": a.decision.as_str(),
            "canAnswerApproval": false, "approvers": approvers, "createdDate": date_json(a.created),
            "_links": {"self": format!("{base}/rest/servicedeskapi/request/{issue_id}/approval/{}", a.id)},
        });
        if let Some(done) = a.completed {
            v["completedDate"] = date_json(done);
        }
        if api.flavor == Flavor::Datacenter {
            v["condition"] = json!({"type": "number", "value": a.needed.to_string()});
        }
        v
    }

    /// `GET /request/{key}/approval`: every approval of the request, oldest first.
    pub fn approvals(&self, key: &str, base: &str, api: Api) -> Result<Vec<Value>, DeskError> {
        let (idx, r) = self.request_of(key)?;
        let issue_id = self.issues[idx].id;
        Ok(self.requests[r]
            .approvals
            .iter()
            .map(|a| self.approval_json(issue_id, a, base, api))
            .collect())
    }

    /// The value of the Approvals field on an issue read: the request's approvals as
    /// [`Self::approvals`] lists them, `null` for an issue that is not a request or has none.
    pub(super) fn approvals_field(&self, issue_id: u64, base: &str, api: Api) -> Value {
        match self.requests.iter().find(|r| r.issue_id == issue_id) {
            Some(r) if !r.approvals.is_empty() => Value::Array(
                r.approvals
                    .iter()
                    .map(|a| self.approval_json(issue_id, a, base, api))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }

    /// `GET /request/{key}/approval/{id}`.
    pub fn approval(&self, key: &str, id: &str, base: &str, api: Api) -> Result<Value, DeskError> {
        let (idx, r) = self.request_of(key)?;
        let a = self.requests[r]
            .approvals
            .iter()
            .find(|a| a.id.to_string() == id)
            .ok_or_else(|| no_approval(id))?;
        Ok(self.approval_json(self.issues[idx].id, a, base, api))
    }

    /// An approver's answer to the approval `id` (the newest pending one when `None`): `approve`
    /// or `decline`. Completing the approval moves the request. Returns the approval's JSON.
    pub fn answer(
        &mut self,
        key: &str,
        id: Option<&str>,
        user: usize,
        verb: &str,
        base: &str,
        api: Api,
    ) -> Result<Value, DeskError> {
        let answer = match verb {
            "approve" => Answer::Approved,
            "decline" => Answer::Declined,
            other => {
                return Err(DeskError::new(
                    400,
                    "sd.approval.error.decision.invalid",
                    format!("The decision '{other}' is not valid: use 'approve' or 'decline'."),
                ));
            }
        };
        let (idx, r) = self.request_of(key)?;
        let approvals = &mut self.requests[r].approvals;
        let a = match id {
            Some(id) => approvals
                .iter_mut()
                .find(|a| a.id.to_string() == id)
                .ok_or_else(|| no_approval(id))?,
            None => approvals
                .iter_mut()
                .rev()
                .find(|a| a.decision == Answer::Pending)
                .ok_or_else(|| no_approval("pending"))?,
        };
        if a.decision != Answer::Pending {
            return Err(DeskError::new(
                409,
                "sd.approval.error.already.completed",
                "This approval has already been completed.",
            ));
        }
        let Some(slot) = a.approvers.iter_mut().find(|(u, _)| *u == user) else {
            return Err(DeskError::new(
                403,
                "sd.approval.error.not.approver",
                "You are not an approver on this approval.",
            ));
        };
        if slot.1 != Answer::Pending {
            return Err(DeskError::new(
                409,
                "sd.approval.error.already.answered",
                "You have already answered this approval.",
            ));
        }
        slot.1 = answer;
        let approved = a
            .approvers
            .iter()
            .filter(|(_, x)| *x == Answer::Approved)
            .count();
        let declined = a.approvers.iter().any(|(_, x)| *x == Answer::Declined);
        let decision = if declined {
            Answer::Declined
        } else if approved >= a.needed {
            Answer::Approved
        } else {
            Answer::Pending
        };
        if decision != Answer::Pending {
            a.decision = decision;
            a.completed = Some(SystemTime::now());
        }
        let a = a.clone();
        let issue_id = self.issues[idx].id;
        if decision != Answer::Pending && self.issues[idx].status == AWAITING {
            let to = if decision == Answer::Approved {
                APPROVED
            } else {
                super::catalog::REJECTED
            };
            self.move_to(idx, to, user);
        }
        Ok(self.approval_json(issue_id, &a, base, api))
    }
}

fn no_approval(id: &str) -> DeskError {
    DeskError::new(
        404,
        "sd.approval.error.not.found",
        format!("The approval with id '{id}' does not exist on this request."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_to_their_neighbours_only_when_there_are_some() {
        let values: Vec<Value> = (0..5).map(|n| json!(n)).collect();
        let first = paged(
            values.clone(),
            0,
            2,
            "http://h",
            "/rest/servicedeskapi/servicedesk",
        );
        assert_eq!(first["values"], json!([0, 1]));
        assert_eq!(first["size"], 2);
        assert_eq!(first["isLastPage"], false);
        assert_eq!(
            first["_links"]["next"],
            "http://h/rest/servicedeskapi/servicedesk?start=2&limit=2"
        );
        assert!(first["_links"].get("prev").is_none());
        let last = paged(values.clone(), 4, 2, "http://h", "/p");
        assert_eq!(last["values"], json!([4]));
        assert_eq!(last["isLastPage"], true);
        assert!(last["_links"].get("next").is_none());
        assert_eq!(last["_links"]["prev"], "http://h/p?start=2&limit=2");
        let past = paged(values, 9, 50, "http://h", "/p");
        assert_eq!(
            (past["size"].as_u64(), past["isLastPage"].as_bool()),
            (Some(0), Some(true))
        );
    }

    #[test]
    fn dates_carry_every_form() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_768_435_200_123);
        let d = date_json(t);
        assert_eq!(d["jira"], "2026-01-15T00:00:00.123+0000");
        assert_eq!(d["iso8601"], "2026-01-15T00:00:00+0000");
        assert_eq!(d["epochMillis"], 1_768_435_200_123_u64);
    }
}
