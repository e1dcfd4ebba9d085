//! The sandbox's in-memory Jira: users, the workflow, the field catalogue, issues and their
//! changelogs, plus the JSON renderings of all of them.
//!
//! Everything here is synchronous and free of I/O so that the HTTP layer (`server.rs`) can hold the
//! lock for a few microseconds per request. Values are validated the way Jira validates them (errors
//! keyed by field id, Jira's own messages) and stored in a typed form, then rendered per flavor and
//! API version: ADF on Cloud v3, plain strings on v2, `accountId` users on Cloud, `name` users on
//! Data Center.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::{Instant, SystemTime};

use serde_json::{Map, Value, json};

use crate::Flavor;

/// Jira's 404 body for an issue that does not exist or cannot be seen.
pub(crate) const ISSUE_NOT_FOUND: &str =
    "Issue does not exist or you do not have permission to see it.";
/// The message Cloud v3 gives for a plain string where rich text (ADF) is required.
const ADF_REQUIRED: &str =
    "Operation value must be an Atlassian Document (see the Atlassian Document Format)";
const STRING_REQUIRED: &str = "Operation value must be a string";

/// How a request addresses the API: which flavor answers and whether it is REST v3.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Api {
    /// The flavor of the sandbox.
    pub flavor: Flavor,
    /// `true` for `/rest/api/3` (Cloud only).
    pub v3: bool,
}

impl Api {
    fn version(self) -> u8 {
        if self.v3 { 3 } else { 2 }
    }

    fn cloud(self) -> bool {
        self.flavor == Flavor::Cloud
    }
}

/// A Jira error: the HTTP status and an `ErrorCollection` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JiraError {
    /// The HTTP status.
    pub status: u16,
    /// `errorMessages`.
    pub messages: Vec<String>,
    /// `errors`, keyed by field id.
    pub errors: BTreeMap<String, String>,
}

impl JiraError {
    /// An error with one message in `errorMessages`.
    pub fn message(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![message.into()],
            errors: BTreeMap::new(),
        }
    }

    /// A 400 with field errors.
    fn fields(errors: BTreeMap<String, String>) -> Self {
        Self {
            status: 400,
            messages: Vec::new(),
            errors,
        }
    }

    /// A 400 with one field error.
    pub fn field(id: &str, message: impl Into<String>) -> Self {
        Self::fields(BTreeMap::from([(id.to_owned(), message.into())]))
    }

    /// The `ErrorCollection` body.
    pub fn body(&self) -> Value {
        json!({"errorMessages": self.messages, "errors": self.errors})
    }
}

/// A user of the sandbox (the bot, and the two scripted approvers).
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// Data Center username.
    pub name: String,
    /// Data Center user key.
    pub key: &'static str,
    /// Display name.
    pub display: &'static str,
    /// Email address.
    pub email: String,
    /// Cloud account id.
    pub account_id: &'static str,
}

/// Index of the bot in [`State::users`].
pub(crate) const BOT: usize = 0;
/// Index of Alice Approver, the scripted approver.
pub(crate) const ALICE: usize = 1;
/// Index of Bob Builder, the scripted rejecter.
pub(crate) const BOB: usize = 2;

/// A workflow status.
#[derive(Debug)]
pub(crate) struct Status {
    /// Status id.
    pub id: &'static str,
    /// Status name.
    pub name: &'static str,
    /// Status category id: 2 new, 4 indeterminate, 3 done.
    category: u8,
}

/// The statuses of the sandbox workflow.
pub(crate) const STATUSES: [Status; 7] = [
    Status {
        id: "10000",
        name: "To Do",
        category: 2,
    },
    Status {
        id: "3",
        name: "In Progress",
        category: 4,
    },
    Status {
        id: "10100",
        name: "Awaiting approval",
        category: 4,
    },
    Status {
        id: "10101",
        name: "Approved",
        category: 3,
    },
    Status {
        id: "10102",
        name: "Rejected",
        category: 3,
    },
    Status {
        id: "10001",
        name: "Done",
        category: 3,
    },
    // Many real workflows close an issue nobody will act on as "Won't Do" (done category,
    // resolution Won't Do); the shipped stanzas reject on it (issue 8, defect 5).
    Status {
        id: WONT_DO,
        name: "Won't Do",
        category: 3,
    },
];
/// Status id of "To Do", where new issues start.
const TO_DO: &str = "10000";
/// Status id of "Awaiting approval".
pub(crate) const AWAITING: &str = "10100";
/// Status id of "Approved".
pub(crate) const APPROVED: &str = "10101";
/// Status id of "Rejected".
pub(crate) const REJECTED: &str = "10102";
/// Status id of "Won't Do".
const WONT_DO: &str = "10103";

struct Transition {
    id: &'static str,
    name: &'static str,
    from: &'static [&'static str],
    to: &'static str,
}

const TRANSITIONS: [Transition; 7] = [
    Transition {
        id: "11",
        name: "Start progress",
        from: &["10000"],
        to: "3",
    },
    Transition {
        id: "21",
        name: "Request approval",
        from: &["10000", "3"],
        to: AWAITING,
    },
    Transition {
        id: "31",
        name: "Approve",
        from: &[AWAITING],
        to: APPROVED,
    },
    Transition {
        id: "41",
        name: "Reject",
        from: &[AWAITING],
        to: REJECTED,
    },
    Transition {
        id: "51",
        name: "Done",
        from: &[APPROVED],
        to: "10001",
    },
    Transition {
        id: "61",
        name: "Reopen",
        from: &[REJECTED, "10001", WONT_DO],
        to: TO_DO,
    },
    Transition {
        id: "71",
        name: "Won't Do",
        from: &["10000", "3", AWAITING],
        to: WONT_DO,
    },
];

/// Resolutions: id, name, description.
const RESOLUTIONS: [(&str, &str, &str); 2] = [
    ("10000", "Done", "Work has been completed on this issue."),
    ("10001", "Won't Do", "This issue won't be actioned."),
];

/// Priorities: id, name.
const PRIORITIES: [(&str, &str); 5] = [
    ("1", "Highest"),
    ("2", "High"),
    ("3", "Medium"),
    ("4", "Low"),
    ("5", "Lowest"),
];

/// Issue types of the project: id, name, description.
pub(crate) const ISSUE_TYPES: [(&str, &str, &str); 2] = [
    (
        "10002",
        "Change",
        "A change that needs approval before it is deployed.",
    ),
    ("10003", "Task", "A task that needs to be done."),
];

const PROJECT_ID: &str = "10000";
const RISK: &[(&str, &str)] = &[("10100", "Low"), ("10101", "Medium"), ("10102", "High")];
const ENVIRONMENTS: &[(&str, &str)] = &[
    ("10110", "dev"),
    ("10111", "staging"),
    ("10112", "production"),
];

/// What a field holds, which decides how it is validated and rendered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Summary,
    /// Rich text: ADF on v3, a string on v2.
    Rich,
    /// Single-line text.
    Text,
    Select(&'static [(&'static str, &'static str)]),
    MultiSelect(&'static [(&'static str, &'static str)]),
    Priority,
    User,
    MultiUser,
    Number,
    Date,
    Labels,
    Components,
    IssueType,
    Project,
    /// Computed by Jira; cannot be set.
    ReadOnly,
}

/// One entry of the field catalogue (`GET /field`).
#[derive(Debug)]
pub(crate) struct FieldDef {
    /// Field id.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Value kind.
    pub kind: Kind,
    schema: Value,
}

impl FieldDef {
    fn custom(&self) -> bool {
        self.id.starts_with("customfield_")
    }

    /// The `FieldDetails` JSON.
    pub fn details(&self) -> Value {
        let clause = if self.custom() {
            let num = self.id.trim_start_matches("customfield_");
            json!([format!("cf[{num}]"), self.name])
        } else {
            json!([self.id])
        };
        let read_only = matches!(self.kind, Kind::ReadOnly);
        json!({
            "id": self.id, "key": self.id, "name": self.name, "custom": self.custom(),
            "orderable": !read_only, "navigable": true, "searchable": true,
            "clauseNames": clause, "schema": self.schema,
        })
    }
}

fn system(id: &'static str, name: &'static str, kind: Kind, ty: &str) -> FieldDef {
    FieldDef {
        id,
        name,
        kind,
        schema: json!({"type": ty, "system": id}),
    }
}

fn system_array(id: &'static str, name: &'static str, kind: Kind, items: &str) -> FieldDef {
    FieldDef {
        id,
        name,
        kind,
        schema: json!({"type": "array", "items": items, "system": id}),
    }
}

fn custom(id: &'static str, name: &'static str, kind: Kind, ty: &str, plugin: &str) -> FieldDef {
    let custom_id: u64 = id.trim_start_matches("customfield_").parse().unwrap_or(0);
    let mut schema = json!({
        "type": ty,
        "custom": format!("com.atlassian.jira.plugin.system.customfieldtypes:{plugin}"),
        "customId": custom_id,
    });
    if let Some((outer, items)) = ty.split_once(':') {
        schema["type"] = json!(outer);
        schema["items"] = json!(items);
    }
    FieldDef {
        id,
        name,
        kind,
        schema,
    }
}

/// The field catalogue, in the order `GET /field` lists it.
pub(crate) static FIELDS: LazyLock<Vec<FieldDef>> = LazyLock::new(|| {
    vec![
        system("summary", "Summary", Kind::Summary, "string"),
        system("description", "Description", Kind::Rich, "string"),
        system("issuetype", "Issue Type", Kind::IssueType, "issuetype"),
        system("project", "Project", Kind::Project, "project"),
        system("status", "Status", Kind::ReadOnly, "status"),
        system("resolution", "Resolution", Kind::ReadOnly, "resolution"),
        system_array("labels", "Labels", Kind::Labels, "string"),
        system("priority", "Priority", Kind::Priority, "priority"),
        system("assignee", "Assignee", Kind::User, "user"),
        system("reporter", "Reporter", Kind::User, "user"),
        system("duedate", "Due date", Kind::Date, "date"),
        system("created", "Created", Kind::ReadOnly, "datetime"),
        system("updated", "Updated", Kind::ReadOnly, "datetime"),
        system(
            "statuscategorychangedate",
            "Status Category Changed",
            Kind::ReadOnly,
            "datetime",
        ),
        system("comment", "Comment", Kind::ReadOnly, "comments-page"),
        system_array("components", "Component/s", Kind::Components, "component"),
        system_array("issuelinks", "Linked Issues", Kind::ReadOnly, "issuelinks"),
        system("watches", "Watchers", Kind::ReadOnly, "watches"),
        custom(
            "customfield_10050",
            "Change risk",
            Kind::Select(RISK),
            "option",
            "select",
        ),
        custom(
            "customfield_10051",
            "Deployment notes",
            Kind::Rich,
            "string",
            "textarea",
        ),
        custom(
            "customfield_10052",
            "Approvers",
            Kind::MultiUser,
            "array:user",
            "multiuserpicker",
        ),
        custom(
            "customfield_10053",
            "Risk score",
            Kind::Number,
            "number",
            "float",
        ),
        custom(
            "customfield_10054",
            "Environments",
            Kind::MultiSelect(ENVIRONMENTS),
            "array:option",
            "multiselect",
        ),
        custom(
            "customfield_10055",
            "Ticket ref",
            Kind::Text,
            "string",
            "textfield",
        ),
    ]
});

fn field_def(id: &str) -> Option<&'static FieldDef> {
    FIELDS.iter().find(|f| f.id == id)
}

/// A stored field value.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Num(serde_json::Number),
    Opt(&'static str),
    Opts(Vec<&'static str>),
    Prio(&'static str),
    User(usize),
    Users(Vec<usize>),
    Labels(Vec<String>),
}

/// One item of a changelog history.
#[derive(Debug, Clone)]
struct Item {
    field: String,
    field_id: &'static str,
    custom: bool,
    from: Option<String>,
    from_string: Option<String>,
    to: Option<String>,
    to_string: Option<String>,
}

/// One changelog history: who changed what, when.
#[derive(Debug, Clone)]
struct History {
    id: u64,
    author: usize,
    created: SystemTime,
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
struct Comment {
    id: u64,
    author: usize,
    body: String,
    created: SystemTime,
}

/// An issue.
#[derive(Debug, Clone)]
#[allow(clippy::struct_field_names)]
pub(crate) struct Issue {
    /// Numeric id.
    pub id: u64,
    /// Issue key, `OPS-1`.
    pub key: String,
    issue_type: &'static str,
    /// Current status id.
    pub status: &'static str,
    resolution: Option<&'static str>,
    values: BTreeMap<&'static str, Val>,
    created: SystemTime,
    updated: SystemTime,
    category_changed: SystemTime,
    /// When the issue last changed; search does not see it until the search lag has passed.
    pub changed_at: Instant,
    /// How many times it entered "Awaiting approval"; a scripted approver acts only on the entry
    /// that scheduled it.
    pub approval_round: u64,
    history: Vec<History>,
    comments: Vec<Comment>,
}

impl Issue {
    /// The summary.
    pub fn summary(&self) -> &str {
        match self.values.get("summary") {
            Some(Val::Str(s)) => s,
            _ => "",
        }
    }

    /// The labels.
    pub fn labels(&self) -> &[String] {
        match self.values.get("labels") {
            Some(Val::Labels(l)) => l,
            _ => &[],
        }
    }

    /// The issue type name.
    pub fn issue_type_name(&self) -> &'static str {
        ISSUE_TYPES
            .iter()
            .find(|t| t.0 == self.issue_type)
            .map_or("", |t| t.1)
    }

    /// The status name.
    pub fn status_name(&self) -> &'static str {
        status(self.status).name
    }

    /// The creation time.
    pub fn created(&self) -> SystemTime {
        self.created
    }
}

fn status(id: &str) -> &'static Status {
    STATUSES.iter().find(|s| s.id == id).unwrap_or(&STATUSES[0])
}

/// Finds a status by name (case-insensitive) or id.
pub(crate) fn status_by_name(name: &str) -> Option<&'static Status> {
    STATUSES
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name) || s.id == name)
}

/// Jira's timestamp format: `2026-10-20T14:12:29.014+0000`.
pub(crate) fn jira_time(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_millis(t).to_string();
    format!("{}+0000", s.trim_end_matches('Z'))
}

/// Extracts the text of an ADF document; `None` when `v` is not one.
fn adf_text(v: &Value) -> Option<String> {
    fn walk(v: &Value, out: &mut String) {
        if let Some(t) = v.get("text").and_then(Value::as_str) {
            out.push_str(t);
        }
        if v.get("type").and_then(Value::as_str) == Some("hardBreak") {
            out.push('\n');
        }
        if let Some(children) = v.get("content").and_then(Value::as_array) {
            for (i, c) in children.iter().enumerate() {
                let block = c.get("content").is_some() && v.get("type") == Some(&json!("doc"));
                if block && i > 0 {
                    out.push('\n');
                }
                walk(c, out);
            }
        }
    }
    let obj = v.as_object()?;
    if obj.get("type")? != "doc" || !obj.get("content")?.is_array() {
        return None;
    }
    let mut out = String::new();
    walk(v, &mut out);
    Some(out)
}

/// Renders text as an ADF document, one paragraph per line.
fn adf(text: &str) -> Value {
    let content: Vec<Value> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n')
            .map(|line| {
                if line.is_empty() {
                    json!({"type": "paragraph", "content": []})
                } else {
                    json!({"type": "paragraph", "content": [{"type": "text", "text": line}]})
                }
            })
            .collect()
    };
    json!({"type": "doc", "version": 1, "content": content})
}

/// Parses rich text for the API version: ADF on v3, a string on v2.
fn rich_text(raw: &Value, api: Api) -> Result<String, String> {
    if api.v3 {
        adf_text(raw).ok_or_else(|| ADF_REQUIRED.to_owned())
    } else {
        raw.as_str()
            .map(str::to_owned)
            .ok_or_else(|| STRING_REQUIRED.to_owned())
    }
}

fn find_option(
    opts: &'static [(&'static str, &'static str)],
    raw: &Value,
) -> Result<&'static str, String> {
    if let Some(value) = raw.get("value").and_then(Value::as_str) {
        return opts
            .iter()
            .find(|o| o.1 == value)
            .map(|o| o.0)
            .ok_or_else(|| format!("Option value '{value}' is not valid"));
    }
    if let Some(id) = raw.get("id").and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_u64().map(|n| n.to_string()))
    }) {
        return opts
            .iter()
            .find(|o| o.0 == id)
            .map(|o| o.0)
            .ok_or_else(|| format!("Option id '{id}' is not valid"));
    }
    Err("Could not find valid 'id' or 'value' in the Parent Option object.".to_owned())
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u8>().unwrap_or(0))
}

fn label(raw: &Value) -> Result<String, String> {
    let s = raw.as_str().ok_or_else(|| STRING_REQUIRED.to_owned())?;
    if s.chars().any(char::is_whitespace) {
        return Err(format!("The label '{s}' contains spaces which is invalid."));
    }
    if s.is_empty() {
        return Err("The label '' is invalid.".to_owned());
    }
    Ok(s.to_owned())
}

fn array(raw: &Value) -> Result<&Vec<Value>, String> {
    raw.as_array()
        .ok_or_else(|| "Operation value must be an array".to_owned())
}

fn cannot_set(id: &str) -> String {
    format!("Field '{id}' cannot be set. It is not on the appropriate screen, or unknown.")
}

/// A pending change of one field: `None` clears it.
type Change = (&'static FieldDef, Option<Val>);

/// The whole sandbox state.
#[derive(Debug)]
pub(crate) struct State {
    /// Project key.
    pub project: String,
    /// The users; [`BOT`], [`ALICE`], [`BOB`].
    pub users: Vec<User>,
    /// Issues in creation order.
    pub issues: Vec<Issue>,
    next_number: u64,
    next_history: u64,
    next_comment: u64,
}

impl State {
    /// A fresh state with no issues.
    pub fn new(flavor: Flavor, project: &str, bot_user: &str) -> Self {
        let (bot_name, bot_email) = match flavor {
            Flavor::Cloud => ("ci-bot".to_owned(), bot_user.to_owned()),
            Flavor::Datacenter => (bot_user.to_owned(), "ci-bot@example.com".to_owned()),
        };
        let users = vec![
            User {
                name: bot_name,
                key: "JIRAUSER10000",
                display: "CI Bot",
                email: bot_email,
                account_id: "5b10ac8d82e05b22cc7d4ef5",
            },
            User {
                name: "alice".to_owned(),
                key: "JIRAUSER10001",
                display: "Alice Approver",
                email: "alice@example.com".to_owned(),
                account_id: "5b10a2844c20165700ede21a",
            },
            User {
                name: "bob".to_owned(),
                key: "JIRAUSER10002",
                display: "Bob Builder",
                email: "bob@example.com".to_owned(),
                account_id: "5b109f2e9729b51b54dc274b",
            },
        ];
        Self {
            project: project.to_owned(),
            users,
            issues: Vec::new(),
            next_number: 1,
            next_history: 10000,
            next_comment: 10000,
        }
    }

    /// Finds a user by Data Center name, or returns `None`.
    pub fn user_by_name(&self, name: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.name.eq_ignore_ascii_case(name))
    }

    /// The user JSON of the flavor.
    pub fn user_json(&self, idx: usize, base: &str, api: Api) -> Value {
        let u = &self.users[idx];
        let avatars = json!({
            "48x48": format!("{base}/secure/useravatar?size=large&ownerId={}", u.name),
            "24x24": format!("{base}/secure/useravatar?size=small&ownerId={}", u.name),
            "16x16": format!("{base}/secure/useravatar?size=xsmall&ownerId={}", u.name),
            "32x32": format!("{base}/secure/useravatar?size=medium&ownerId={}", u.name),
        });
        match api.flavor {
            Flavor::Cloud => json!({
                "self": format!("{base}/rest/api/{}/user?accountId={}", api.version(), u.account_id),
                "accountId": u.account_id, "accountType": "atlassian", "emailAddress": u.email,
                "avatarUrls": avatars, "displayName": u.display, "active": true, "timeZone": "Etc/UTC",
            }),
            Flavor::Datacenter => json!({
                "self": format!("{base}/rest/api/2/user?username={}", u.name),
                "name": u.name, "key": u.key, "emailAddress": u.email, "avatarUrls": avatars,
                "displayName": u.display, "active": true, "timeZone": "Etc/UTC",
            }),
        }
    }

    /// `GET /myself`.
    pub fn myself(&self, idx: usize, base: &str, api: Api) -> Value {
        let mut v = self.user_json(idx, base, api);
        if api.flavor == Flavor::Datacenter {
            v["locale"] = json!("en_US");
        }
        v["groups"] = json!({"size": 1, "items": []});
        v["applicationRoles"] = json!({"size": 1, "items": []});
        v
    }

    /// `GET /user/search`: users whose display name, email or name starts with `query`.
    pub fn user_search(&self, query: &str, base: &str, api: Api) -> Value {
        let q = query.to_lowercase();
        let found: Vec<Value> = (0..self.users.len())
            .filter(|&i| {
                let u = &self.users[i];
                q.is_empty()
                    || u.display.to_lowercase().starts_with(&q)
                    || u.display
                        .to_lowercase()
                        .split(' ')
                        .any(|w| w.starts_with(&q))
                    || u.email.to_lowercase().starts_with(&q)
                    || u.name.to_lowercase().starts_with(&q)
            })
            .map(|i| self.user_json(i, base, api))
            .collect();
        Value::Array(found)
    }

    fn find_user(&self, raw: &Value, api: Api) -> Result<usize, String> {
        match api.flavor {
            Flavor::Cloud => {
                let id = raw
                    .get("accountId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        "Specify the user by accountId: 'name' and 'key' are not supported."
                            .to_owned()
                    })?;
                self.users
                    .iter()
                    .position(|u| u.account_id == id)
                    .ok_or_else(|| {
                        "Specified user does not exist or you do not have required permissions"
                            .to_owned()
                    })
            }
            Flavor::Datacenter => {
                let name = raw
                    .get("name")
                    .or_else(|| raw.get("key"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| "Specify the user by name.".to_owned())?;
                self.users
                    .iter()
                    .position(|u| u.name == name || u.key == name)
                    .ok_or_else(|| format!("User '{name}' does not exist."))
            }
        }
    }

    /// The project JSON, or `None` for an unknown key or id.
    pub fn project_json(&self, key_or_id: &str, base: &str, api: Api) -> Option<Value> {
        if !self.is_project(key_or_id) {
            return None;
        }
        let types: Vec<Value> = ISSUE_TYPES
            .iter()
            .map(|t| issue_type_json(t, base, api))
            .collect();
        Some(json!({
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": format!("{base}/rest/api/{}/project/{PROJECT_ID}", api.version()),
            "id": PROJECT_ID, "key": self.project, "name": "Operations",
            "description": "Sandbox project for jira-gate", "projectTypeKey": "software",
            "simplified": false, "style": "classic", "issueTypes": types,
            "lead": self.user_json(BOT, base, api),
        }))
    }

    /// `GET /project/{key}/statuses`: every issue type with the workflow's statuses.
    pub fn project_statuses(&self, key_or_id: &str, base: &str, api: Api) -> Option<Value> {
        if !self.is_project(key_or_id) {
            return None;
        }
        let statuses: Vec<Value> = STATUSES.iter().map(|s| status_json(s, base, api)).collect();
        Some(Value::Array(
            ISSUE_TYPES
                .iter()
                .map(|t| {
                    let mut entry = issue_type_json(t, base, api);
                    entry["statuses"] = Value::Array(statuses.clone());
                    entry
                })
                .collect(),
        ))
    }

    fn is_project(&self, key_or_id: &str) -> bool {
        key_or_id.eq_ignore_ascii_case(&self.project) || key_or_id == PROJECT_ID
    }

    fn project_short(&self, base: &str, api: Api) -> Value {
        json!({
            "self": format!("{base}/rest/api/{}/project/{PROJECT_ID}", api.version()),
            "id": PROJECT_ID, "key": self.project, "name": "Operations",
            "projectTypeKey": "software", "simplified": false,
        })
    }

    /// The issue-type list for createmeta (Cloud `issueTypes`, Data Center `values`).
    pub fn createmeta_types(
        &self,
        project: &str,
        base: &str,
        api: Api,
    ) -> Result<Value, JiraError> {
        self.check_project(project)?;
        let types: Vec<Value> = ISSUE_TYPES
            .iter()
            .map(|t| issue_type_json(t, base, api))
            .collect();
        let n = types.len();
        Ok(match api.flavor {
            Flavor::Cloud => {
                json!({"issueTypes": types, "maxResults": 50, "startAt": 0, "total": n})
            }
            Flavor::Datacenter => {
                json!({"maxResults": 50, "startAt": 0, "total": n, "isLast": true, "values": types})
            }
        })
    }

    fn check_project(&self, project: &str) -> Result<(), JiraError> {
        if self.is_project(project) {
            Ok(())
        } else {
            Err(JiraError::message(
                404,
                format!("No project could be found with key '{project}'."),
            ))
        }
    }

    /// The field list for createmeta of one issue type.
    pub fn createmeta_fields(
        &self,
        project: &str,
        type_id: &str,
        base: &str,
        api: Api,
    ) -> Result<Value, JiraError> {
        self.check_project(project)?;
        if !ISSUE_TYPES.iter().any(|t| t.0 == type_id) {
            return Err(JiraError::message(
                400,
                "The issue type selected is invalid.",
            ));
        }
        let fields: Vec<Value> = self
            .create_fields(base, api)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        let n = fields.len();
        Ok(match api.flavor {
            Flavor::Cloud => json!({"fields": fields, "maxResults": 50, "startAt": 0, "total": n}),
            Flavor::Datacenter => {
                json!({"maxResults": 50, "startAt": 0, "total": n, "isLast": true, "values": fields})
            }
        })
    }

    /// The fields on the create screen, as createmeta entries.
    fn create_fields(&self, base: &str, api: Api) -> Vec<(&'static str, Value)> {
        FIELDS
            .iter()
            .filter(|f| !matches!(f.kind, Kind::ReadOnly))
            .map(|f| {
                let required = matches!(f.id, "summary" | "issuetype" | "project");
                let mut v = json!({
                    "fieldId": f.id, "key": f.id, "name": f.name, "required": required,
                    "schema": f.schema, "hasDefaultValue": false,
                    "operations": operations(f.kind),
                });
                let allowed: Option<Vec<Value>> = match f.kind {
                    Kind::Select(opts) | Kind::MultiSelect(opts) => Some(
                        opts.iter()
                            .map(|o| option_json(f.id, o, base, api))
                            .collect(),
                    ),
                    Kind::Priority => Some(
                        PRIORITIES
                            .iter()
                            .map(|p| priority_json(p, base, api))
                            .collect(),
                    ),
                    Kind::IssueType => Some(
                        ISSUE_TYPES
                            .iter()
                            .map(|t| issue_type_json(t, base, api))
                            .collect(),
                    ),
                    Kind::Project => Some(vec![self.project_short(base, api)]),
                    _ => None,
                };
                if let Some(a) = allowed {
                    v["allowedValues"] = Value::Array(a);
                }
                if matches!(f.kind, Kind::User | Kind::MultiUser) {
                    v["autoCompleteUrl"] = json!(format!(
                        "{base}/rest/api/{}/user/search?query=",
                        api.version()
                    ));
                }
                (f.id, v)
            })
            .collect()
    }

    /// The deprecated `GET /issue/createmeta?expand=projects.issuetypes.fields` (Cloud only).
    pub fn createmeta_old(&self, base: &str, api: Api) -> Value {
        let fields: Map<String, Value> = self
            .create_fields(base, api)
            .into_iter()
            .map(|(id, mut v)| {
                if let Some(o) = v.as_object_mut() {
                    o.remove("fieldId");
                }
                (id.to_owned(), v)
            })
            .collect();
        let types: Vec<Value> = ISSUE_TYPES
            .iter()
            .map(|t| {
                let mut v = issue_type_json(t, base, api);
                v["expand"] = json!("fields");
                v["fields"] = Value::Object(fields.clone());
                v
            })
            .collect();
        let mut project = self.project_short(base, api);
        project["expand"] = json!("issuetypes");
        project["issuetypes"] = Value::Array(types);
        json!({"expand": "projects", "projects": [project]})
    }

    /// The issue as (field name, text) rows for its `/browse/KEY` page: type, status and
    /// resolution, every other field that has a value, then the dates.
    pub fn browse_rows(&self, idx: usize) -> Vec<(&'static str, String)> {
        let issue = &self.issues[idx];
        let resolution = issue.resolution.map_or("Unresolved", |r| resolution(r).1);
        let mut rows = vec![
            ("Issue Type", issue.issue_type_name().to_owned()),
            ("Status", issue.status_name().to_owned()),
            ("Resolution", resolution.to_owned()),
        ];
        for def in FIELDS.iter().filter(|f| f.id != "summary") {
            if let Some(v) = issue.values.get(def.id) {
                rows.push((def.name, self.val_string(v)));
            }
        }
        rows.push(("Created", jira_time(issue.created)));
        rows.push(("Updated", jira_time(issue.updated)));
        rows
    }

    /// Finds an issue by key (case-insensitive) or numeric id.
    pub fn find(&self, key_or_id: &str) -> Option<usize> {
        self.issues
            .iter()
            .position(|i| i.key.eq_ignore_ascii_case(key_or_id) || i.id.to_string() == key_or_id)
    }

    fn find_or_404(&self, key_or_id: &str) -> Result<usize, JiraError> {
        self.find(key_or_id)
            .ok_or_else(|| JiraError::message(404, ISSUE_NOT_FOUND))
    }

    /// `POST /issue`: validates like Jira and stores the issue; returns its index.
    pub fn create(&mut self, body: &Value, api: Api) -> Result<usize, JiraError> {
        let empty = Map::new();
        let fields = body
            .get("fields")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut errors = BTreeMap::new();
        match fields.get("project") {
            Some(p) if self.project_ref_ok(p) => {}
            _ => {
                errors.insert(
                    "project".to_owned(),
                    "Specify a valid project ID or key".to_owned(),
                );
            }
        }
        let issue_type = match fields.get("issuetype") {
            None | Some(Value::Null) => {
                errors.insert("issuetype".to_owned(), "Specify an issue type".to_owned());
                None
            }
            Some(t) => {
                let found = ISSUE_TYPES.iter().find(|it| {
                    t.get("id").and_then(Value::as_str) == Some(it.0)
                        || t.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case(it.1))
                });
                if found.is_none() {
                    errors.insert(
                        "issuetype".to_owned(),
                        "Specify a valid issue type".to_owned(),
                    );
                }
                found.map(|it| it.0)
            }
        };
        if fields
            .get("summary")
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            errors.insert(
                "summary".to_owned(),
                "You must specify a summary of the issue.".to_owned(),
            );
        }
        let mut changes = Vec::new();
        for (id, raw) in fields {
            if matches!(id.as_str(), "project" | "issuetype") {
                continue;
            }
            match self.parse_field(id, raw, api) {
                Ok(c) => changes.push(c),
                Err(e) => {
                    errors.entry(id.clone()).or_insert(e);
                }
            }
        }
        let mut comments = Vec::new();
        self.parse_update(body, fields, api, &mut changes, &mut comments, &mut errors);
        if !errors.is_empty() {
            return Err(JiraError::fields(errors));
        }
        let now = SystemTime::now();
        let number = self.next_number;
        self.next_number += 1;
        let mut issue = Issue {
            id: 10000 + number - 1,
            key: format!("{}-{number}", self.project),
            issue_type: issue_type.unwrap_or(ISSUE_TYPES[0].0),
            status: TO_DO,
            resolution: None,
            values: BTreeMap::from([("reporter", Val::User(BOT))]),
            created: now,
            updated: now,
            category_changed: now,
            changed_at: Instant::now(),
            approval_round: 0,
            history: Vec::new(),
            comments: Vec::new(),
        };
        for (def, val) in changes {
            apply_change(&mut issue, def, val);
        }
        self.issues.push(issue);
        let idx = self.issues.len() - 1;
        for body in comments {
            self.add_comment_text(idx, BOT, body);
        }
        Ok(idx)
    }

    fn project_ref_ok(&self, p: &Value) -> bool {
        p.get("key")
            .and_then(Value::as_str)
            .is_some_and(|k| k.eq_ignore_ascii_case(&self.project))
            || p.get("id")
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .is_some_and(|id| id == PROJECT_ID)
    }

    fn parse_field(&self, id: &str, raw: &Value, api: Api) -> Result<Change, String> {
        let def = field_def(id).ok_or_else(|| cannot_set(id))?;
        Ok((def, self.parse_value(def, raw, api)?))
    }

    fn parse_value(
        &self,
        def: &'static FieldDef,
        raw: &Value,
        api: Api,
    ) -> Result<Option<Val>, String> {
        if raw.is_null() {
            return match def.kind {
                Kind::Summary => Err("You must specify a summary of the issue.".to_owned()),
                Kind::ReadOnly | Kind::IssueType | Kind::Project => Err(cannot_set(def.id)),
                _ => Ok(None),
            };
        }
        let val = match def.kind {
            Kind::Summary => match raw.as_str() {
                Some(s) if !s.trim().is_empty() => Val::Str(s.to_owned()),
                Some(_) => return Err("You must specify a summary of the issue.".to_owned()),
                None => return Err(STRING_REQUIRED.to_owned()),
            },
            Kind::Rich => Val::Str(rich_text(raw, api)?),
            Kind::Text => Val::Str(
                raw.as_str()
                    .ok_or_else(|| STRING_REQUIRED.to_owned())?
                    .to_owned(),
            ),
            Kind::Select(opts) => Val::Opt(find_option(opts, raw)?),
            Kind::MultiSelect(opts) => Val::Opts(
                array(raw)?
                    .iter()
                    .map(|o| find_option(opts, o))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Priority => Val::Prio(find_priority(raw)?),
            Kind::User => Val::User(self.find_user(raw, api)?),
            Kind::MultiUser => Val::Users(
                array(raw)?
                    .iter()
                    .map(|u| self.find_user(u, api))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Number => Val::Num(
                raw.as_number()
                    .cloned()
                    .ok_or_else(|| "Operation value must be a number".to_owned())?,
            ),
            Kind::Date => match raw.as_str() {
                Some(s) if is_date(s) => Val::Str(s.to_owned()),
                _ => return Err(format!("Error parsing date string: {}", display_raw(raw))),
            },
            Kind::Labels => Val::Labels(array(raw)?.iter().map(label).collect::<Result<_, _>>()?),
            Kind::Components => {
                if let Some(c) = array(raw)?.first() {
                    let name = c
                        .get("name")
                        .or_else(|| c.get("id"))
                        .map_or_else(|| c.to_string(), display_raw);
                    return Err(format!("Component name '{name}' is not valid"));
                }
                return Ok(None);
            }
            Kind::IssueType | Kind::Project | Kind::ReadOnly => return Err(cannot_set(def.id)),
        };
        Ok(Some(val))
    }

    /// Parses the `update` operations of a create or edit body into `changes` and `comments`.
    fn parse_update(
        &self,
        body: &Value,
        fields: &Map<String, Value>,
        api: Api,
        changes: &mut Vec<Change>,
        comments: &mut Vec<String>,
        errors: &mut BTreeMap<String, String>,
    ) {
        let Some(update) = body.get("update").and_then(Value::as_object) else {
            return;
        };
        for (id, ops) in update {
            if fields.contains_key(id) {
                errors.insert(
                    id.clone(),
                    format!("Field '{id}' cannot be set and updated in the same request."),
                );
                continue;
            }
            let Some(ops) = ops.as_array() else {
                errors.insert(id.clone(), "Operation value must be an array".to_owned());
                continue;
            };
            if id == "comment" {
                for op in ops {
                    match op
                        .get("add")
                        .and_then(|a| a.get("body"))
                        .map(|b| rich_text(b, api))
                    {
                        Some(Ok(text)) => comments.push(text),
                        Some(Err(e)) => {
                            errors.insert("comment".to_owned(), e);
                        }
                        None => {
                            errors.insert(
                                "comment".to_owned(),
                                "Comment body can not be empty!".to_owned(),
                            );
                        }
                    }
                }
                continue;
            }
            let Some(def) = field_def(id) else {
                errors.insert(id.clone(), cannot_set(id));
                continue;
            };
            // Later operations see the result of earlier ones, as in Jira.
            let mut current = changes
                .iter()
                .rev()
                .find(|c| c.0.id == def.id)
                .and_then(|c| c.1.clone());
            let mut ok = true;
            for op in ops {
                match self.apply_op(def, op, current.take(), api) {
                    Ok(v) => current = v,
                    Err(e) => {
                        errors.insert(id.clone(), e);
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                changes.push((def, current));
            }
        }
    }

    /// Applies one `{"add"|"remove"|"set": value}` operation to `current`, the value so far.
    fn apply_op(
        &self,
        def: &'static FieldDef,
        op: &Value,
        current: Option<Val>,
        api: Api,
    ) -> Result<Option<Val>, String> {
        let Some((verb, raw)) = op.as_object().and_then(|o| o.iter().next()) else {
            return Err("Operation must be an object".to_owned());
        };
        let add = match verb.as_str() {
            "set" => return self.parse_value(def, raw, api),
            "add" => true,
            "remove" => false,
            other => {
                return Err(format!(
                    "Operation '{other}' is not supported for field '{}'",
                    def.id
                ));
            }
        };
        Ok(Some(match (def.kind, current) {
            (Kind::Labels, cur) => {
                let list = if let Some(Val::Labels(l)) = cur {
                    l
                } else {
                    Vec::new()
                };
                Val::Labels(edit_list(list, label(raw)?, add))
            }
            (Kind::MultiSelect(opts), cur) => {
                let list = if let Some(Val::Opts(l)) = cur {
                    l
                } else {
                    Vec::new()
                };
                Val::Opts(edit_list(list, find_option(opts, raw)?, add))
            }
            (Kind::MultiUser, cur) => {
                let list = if let Some(Val::Users(l)) = cur {
                    l
                } else {
                    Vec::new()
                };
                Val::Users(edit_list(list, self.find_user(raw, api)?, add))
            }
            _ => {
                return Err(format!(
                    "Operation '{verb}' is not supported for field '{}'",
                    def.id
                ));
            }
        }))
    }

    /// `PUT /issue/{key}`: validates everything first, then applies it with one history.
    pub fn edit(
        &mut self,
        key: &str,
        body: &Value,
        api: Api,
        author: usize,
    ) -> Result<(), JiraError> {
        let idx = self.find_or_404(key)?;
        let empty = Map::new();
        let fields = body
            .get("fields")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut errors = BTreeMap::new();
        let mut changes = Vec::new();
        for (id, raw) in fields {
            match self.parse_field(id, raw, api) {
                Ok(c) => changes.push(c),
                Err(e) => {
                    errors.insert(id.clone(), e);
                }
            }
        }
        let mut comments = Vec::new();
        // List operations start from the issue's current value.
        let seeded: Vec<Change> = body
            .get("update")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|u| u.keys())
            .filter_map(|id| field_def(id))
            .map(|def| (def, self.issues[idx].values.get(def.id).cloned()))
            .collect();
        let seeded_len = seeded.len();
        let mut all = seeded;
        all.append(&mut changes);
        self.parse_update(body, fields, api, &mut all, &mut comments, &mut errors);
        if !errors.is_empty() {
            return Err(JiraError::fields(errors));
        }
        let changes: Vec<Change> = all.into_iter().skip(seeded_len).collect();
        self.apply_changes(idx, changes, author);
        for text in comments {
            self.add_comment_text(idx, author, text);
        }
        Ok(())
    }

    fn apply_changes(&mut self, idx: usize, changes: Vec<Change>, author: usize) {
        let mut items = Vec::new();
        for (def, val) in changes {
            let issue = &self.issues[idx];
            let old = issue.values.get(def.id).cloned();
            if old == val {
                continue;
            }
            items.push(Item {
                field: if def.custom() {
                    def.name.to_owned()
                } else {
                    def.id.to_owned()
                },
                field_id: def.id,
                custom: def.custom(),
                from: None,
                from_string: old.as_ref().map(|v| self.val_string(v)),
                to: None,
                to_string: val.as_ref().map(|v| self.val_string(v)),
            });
            apply_change(&mut self.issues[idx], def, val);
        }
        if !items.is_empty() {
            self.push_history(idx, author, items);
        }
    }

    fn val_string(&self, v: &Val) -> String {
        match v {
            Val::Str(s) => s.clone(),
            Val::Num(n) => n.to_string(),
            Val::Opt(id) | Val::Prio(id) => option_name(id).to_owned(),
            Val::Opts(ids) => ids
                .iter()
                .map(|id| option_name(id))
                .collect::<Vec<_>>()
                .join(","),
            Val::User(u) => self.users[*u].display.to_owned(),
            Val::Users(us) => us
                .iter()
                .map(|u| self.users[*u].display)
                .collect::<Vec<_>>()
                .join(","),
            Val::Labels(l) => l.join(" "),
        }
    }

    fn push_history(&mut self, idx: usize, author: usize, items: Vec<Item>) {
        let id = self.next_history;
        self.next_history += 1;
        let issue = &mut self.issues[idx];
        let now = SystemTime::now();
        issue.updated = now;
        issue.changed_at = Instant::now();
        issue.history.push(History {
            id,
            author,
            created: now,
            items,
        });
    }

    fn add_comment_text(&mut self, idx: usize, author: usize, body: String) -> u64 {
        let id = self.next_comment;
        self.next_comment += 1;
        let issue = &mut self.issues[idx];
        let now = SystemTime::now();
        issue.comments.push(Comment {
            id,
            author,
            body,
            created: now,
        });
        issue.updated = now;
        issue.changed_at = Instant::now();
        id
    }

    /// `POST /issue/{key}/comment`: returns the Comment JSON.
    pub fn add_comment(
        &mut self,
        key: &str,
        body: &Value,
        base: &str,
        api: Api,
        author: usize,
    ) -> Result<Value, JiraError> {
        let idx = self.find_or_404(key)?;
        let text = match body.get("body") {
            None | Some(Value::Null) => {
                return Err(JiraError::field(
                    "comment",
                    "Comment body can not be empty!",
                ));
            }
            Some(b) => rich_text(b, api).map_err(|e| JiraError::field("comment", e))?,
        };
        let id = self.add_comment_text(idx, author, text);
        let issue = &self.issues[idx];
        let c = issue
            .comments
            .iter()
            .find(|c| c.id == id)
            .expect("comment just added");
        Ok(self.comment_json(issue, c, base, api))
    }

    fn comment_json(&self, issue: &Issue, c: &Comment, base: &str, api: Api) -> Value {
        let author = self.user_json(c.author, base, api);
        json!({
            "self": format!("{base}/rest/api/{}/issue/{}/comment/{}", api.version(), issue.id, c.id),
            "id": c.id.to_string(), "author": author, "updateAuthor": author,
            "body": if api.v3 { adf(&c.body) } else { json!(c.body) },
            "created": jira_time(c.created), "updated": jira_time(c.created), "jsdPublic": true,
        })
    }

    /// `GET /issue/{key}/transitions`.
    /// `GET /issue/{key}/editmeta`: the edit screen's fields, keyed by id (as Jira answers).
    pub fn editmeta(&self, key: &str, base: &str, api: Api) -> Result<Value, JiraError> {
        self.find_or_404(key)?;
        let fields: Map<String, Value> = self
            .create_fields(base, api)
            .into_iter()
            .filter(|(id, _)| !matches!(*id, "project" | "issuetype"))
            .map(|(id, mut v)| {
                if let Some(o) = v.as_object_mut() {
                    o.remove("fieldId");
                }
                (id.to_owned(), v)
            })
            .collect();
        Ok(json!({ "fields": fields }))
    }

    /// The transitions available from the issue's current status.
    pub fn transitions(&self, key: &str, base: &str, api: Api) -> Result<Value, JiraError> {
        let idx = self.find_or_404(key)?;
        let current = self.issues[idx].status;
        let list: Vec<Value> = TRANSITIONS
            .iter()
            .filter(|t| t.from.contains(&current))
            .map(|t| {
                json!({
                    "id": t.id, "name": t.name, "to": status_json(status(t.to), base, api),
                    "hasScreen": false, "isGlobal": false, "isInitial": false,
                    "isAvailable": true, "isConditional": false, "isLooped": false,
                })
            })
            .collect();
        Ok(json!({"expand": "transitions", "transitions": list}))
    }

    /// `POST /issue/{key}/transitions`; returns the issue index when it entered "Awaiting
    /// approval" (so the caller can schedule the scripted approver).
    pub fn do_transition(
        &mut self,
        key: &str,
        body: &Value,
        api: Api,
        author: usize,
    ) -> Result<Option<usize>, JiraError> {
        let idx = self.find_or_404(key)?;
        let tid = body
            .get("transition")
            .and_then(|t| t.get("id"))
            .and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            });
        let Some(tid) = tid else {
            return Err(JiraError::message(400, "Missing 'transition' identifier"));
        };
        let current = self.issues[idx].status;
        let Some(t) = TRANSITIONS
            .iter()
            .find(|t| t.id == tid && t.from.contains(&current))
        else {
            return Err(JiraError::message(
                400,
                format!("Transition id '{tid}' is not valid for this issue."),
            ));
        };
        let mut rest = body.clone();
        if let Some(o) = rest.as_object_mut() {
            o.remove("transition");
            if let Some(f) = o.get_mut("fields").and_then(Value::as_object_mut) {
                // The resolution is set by the workflow, as post-functions do.
                f.remove("resolution");
            }
        }
        if rest.get("fields").is_some() || rest.get("update").is_some() {
            self.edit(key, &rest, api, author)?;
        }
        Ok(self.move_to(idx, t.to, author))
    }

    /// Moves an issue to a status with a changelog history; returns `Some(idx)` when it entered
    /// "Awaiting approval".
    pub fn move_to(&mut self, idx: usize, to: &'static str, author: usize) -> Option<usize> {
        let issue = &self.issues[idx];
        let from = status(issue.status);
        let target = status(to);
        let mut items = vec![Item {
            field: "status".to_owned(),
            field_id: "status",
            custom: false,
            from: Some(from.id.to_owned()),
            from_string: Some(from.name.to_owned()),
            to: Some(target.id.to_owned()),
            to_string: Some(target.name.to_owned()),
        }];
        let new_resolution = match to {
            REJECTED | WONT_DO => Some(Some("10001")),
            "10001" => Some(Some("10000")),
            TO_DO => Some(None),
            _ => None,
        };
        if let Some(res) = new_resolution {
            if res != issue.resolution {
                items.push(Item {
                    field: "resolution".to_owned(),
                    field_id: "resolution",
                    custom: false,
                    from: issue.resolution.map(str::to_owned),
                    from_string: issue.resolution.map(|r| resolution(r).1.to_owned()),
                    to: res.map(str::to_owned),
                    to_string: res.map(|r| resolution(r).1.to_owned()),
                });
            }
        }
        let issue = &mut self.issues[idx];
        if from.category != target.category {
            issue.category_changed = SystemTime::now();
        }
        issue.status = target.id;
        if let Some(res) = new_resolution {
            issue.resolution = res;
        }
        if to == AWAITING {
            issue.approval_round += 1;
        }
        self.push_history(idx, author, items);
        (to == AWAITING).then_some(idx)
    }

    /// Removes an issue; `false` when it does not exist.
    pub fn delete(&mut self, key: &str) -> bool {
        match self.find(key) {
            Some(idx) => {
                self.issues.remove(idx);
                true
            }
            None => false,
        }
    }

    /// `GET /issue/{key}`: the issue with the selected fields, optionally with its changelog.
    pub fn issue_json(
        &self,
        idx: usize,
        sel: &FieldSel,
        changelog: bool,
        base: &str,
        api: Api,
    ) -> Value {
        let issue = &self.issues[idx];
        let mut v = json!({
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue.id.to_string(),
            "self": format!("{base}/rest/api/{}/issue/{}", api.version(), issue.id),
            "key": issue.key,
        });
        if !matches!(sel, FieldSel::IdOnly) {
            let fields: Map<String, Value> = FIELDS
                .iter()
                .filter(|f| sel.wants(f.id))
                .filter(|f| api.cloud() || f.id != "statuscategorychangedate")
                .map(|f| (f.id.to_owned(), self.field_json(issue, f, base, api)))
                .collect();
            v["fields"] = Value::Object(fields);
        }
        if changelog {
            let mut histories: Vec<Value> = issue
                .history
                .iter()
                .map(|h| self.history_json(h, base, api))
                .collect();
            if api.cloud() {
                histories.reverse();
            }
            let n = histories.len();
            v["changelog"] =
                json!({"startAt": 0, "maxResults": n, "total": n, "histories": histories});
        }
        v
    }

    /// Cloud `GET /issue/{key}/changelog`: oldest first, paged.
    pub fn changelog_page(
        &self,
        key: &str,
        start: usize,
        max: usize,
        base: &str,
        api: Api,
    ) -> Result<Value, JiraError> {
        let idx = self.find_or_404(key)?;
        let issue = &self.issues[idx];
        let total = issue.history.len();
        let values: Vec<Value> = issue
            .history
            .iter()
            .skip(start)
            .take(max)
            .map(|h| self.history_json(h, base, api))
            .collect();
        Ok(json!({
            "self": format!("{base}/rest/api/3/issue/{}/changelog?maxResults={max}&startAt={start}", issue.key),
            "maxResults": max, "startAt": start, "total": total,
            "isLast": start + values.len() >= total, "values": values,
        }))
    }

    fn history_json(&self, h: &History, base: &str, api: Api) -> Value {
        let items: Vec<Value> = h
            .items
            .iter()
            .map(|i| {
                let mut v = json!({
                    "field": i.field, "fieldtype": if i.custom { "custom" } else { "jira" },
                    "from": i.from, "fromString": i.from_string, "to": i.to, "toString": i.to_string,
                });
                if api.cloud() {
                    v["fieldId"] = json!(i.field_id);
                }
                v
            })
            .collect();
        json!({
            "id": h.id.to_string(), "author": self.user_json(h.author, base, api),
            "created": jira_time(h.created), "items": items,
        })
    }

    fn field_json(&self, issue: &Issue, f: &FieldDef, base: &str, api: Api) -> Value {
        let v = api.version();
        match f.id {
            "issuetype" => {
                let t = ISSUE_TYPES
                    .iter()
                    .find(|t| t.0 == issue.issue_type)
                    .unwrap_or(&ISSUE_TYPES[0]);
                return issue_type_json(t, base, api);
            }
            "project" => return self.project_short(base, api),
            "status" => return status_json(status(issue.status), base, api),
            "resolution" => {
                return issue.resolution.map_or(Value::Null, |r| {
                    let (id, name, description) = resolution(r);
                    json!({"self": format!("{base}/rest/api/{v}/resolution/{id}"), "id": id, "name": name, "description": description})
                });
            }
            "created" => return json!(jira_time(issue.created)),
            "updated" => return json!(jira_time(issue.updated)),
            "statuscategorychangedate" => return json!(jira_time(issue.category_changed)),
            "comment" => {
                let comments: Vec<Value> = issue
                    .comments
                    .iter()
                    .map(|c| self.comment_json(issue, c, base, api))
                    .collect();
                let n = comments.len();
                return json!({
                    "comments": comments, "self": format!("{base}/rest/api/{v}/issue/{}/comment", issue.id),
                    "maxResults": n, "total": n, "startAt": 0,
                });
            }
            "issuelinks" | "components" => return json!([]),
            "watches" => {
                return json!({
                    "self": format!("{base}/rest/api/{v}/issue/{}/watchers", issue.key),
                    "watchCount": 1, "isWatching": true,
                });
            }
            _ => {}
        }
        match issue.values.get(f.id) {
            None => match f.kind {
                Kind::Labels => json!([]),
                _ => Value::Null,
            },
            Some(Val::Str(s)) if matches!(f.kind, Kind::Rich) && api.v3 => adf(s),
            Some(Val::Str(s)) => json!(s),
            Some(Val::Num(n)) => json!(n),
            Some(Val::Labels(l)) => json!(l),
            Some(Val::Opt(id)) => match f.kind {
                Kind::Select(opts) => opts
                    .iter()
                    .find(|o| o.0 == *id)
                    .map_or(Value::Null, |o| option_json(f.id, o, base, api)),
                _ => Value::Null,
            },
            Some(Val::Opts(ids)) => match f.kind {
                Kind::MultiSelect(opts) => Value::Array(
                    ids.iter()
                        .filter_map(|id| opts.iter().find(|o| o.0 == *id))
                        .map(|o| option_json(f.id, o, base, api))
                        .collect(),
                ),
                _ => json!([]),
            },
            Some(Val::Prio(id)) => PRIORITIES
                .iter()
                .find(|p| p.0 == *id)
                .map_or(Value::Null, |p| priority_json(p, base, api)),
            Some(Val::User(u)) => self.user_json(*u, base, api),
            Some(Val::Users(us)) => {
                Value::Array(us.iter().map(|u| self.user_json(*u, base, api)).collect())
            }
        }
    }
}

/// Adds `item` once, or removes every copy of it.
fn edit_list<T: PartialEq>(mut list: Vec<T>, item: T, add: bool) -> Vec<T> {
    if !add {
        list.retain(|x| *x != item);
    } else if !list.contains(&item) {
        list.push(item);
    }
    list
}

fn apply_change(issue: &mut Issue, def: &'static FieldDef, val: Option<Val>) {
    match val {
        Some(v) => {
            issue.values.insert(def.id, v);
        }
        None => {
            issue.values.remove(def.id);
        }
    }
    issue.updated = SystemTime::now();
    issue.changed_at = Instant::now();
}

fn display_raw(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn find_priority(raw: &Value) -> Result<&'static str, String> {
    if let Some(name) = raw.get("name").and_then(Value::as_str) {
        return PRIORITIES
            .iter()
            .find(|p| p.1.eq_ignore_ascii_case(name))
            .map(|p| p.0)
            .ok_or_else(|| format!("Priority name '{name}' is not valid"));
    }
    if let Some(id) = raw.get("id").and_then(Value::as_str) {
        return PRIORITIES
            .iter()
            .find(|p| p.0 == id)
            .map(|p| p.0)
            .ok_or_else(|| format!("Priority with id '{id}' does not exist"));
    }
    Err("Could not find valid 'id' or 'name' in priority object.".to_owned())
}

fn option_name(id: &str) -> &'static str {
    RISK.iter()
        .chain(ENVIRONMENTS)
        .chain(PRIORITIES.iter())
        .find(|o| o.0 == id)
        .map_or("", |o| o.1)
}

fn resolution(id: &str) -> (&'static str, &'static str, &'static str) {
    RESOLUTIONS
        .iter()
        .copied()
        .find(|r| r.0 == id)
        .unwrap_or(RESOLUTIONS[0])
}

fn operations(kind: Kind) -> Value {
    match kind {
        Kind::Labels | Kind::MultiSelect(_) | Kind::MultiUser | Kind::Components => {
            json!(["add", "set", "remove"])
        }
        _ => json!(["set"]),
    }
}

fn option_json(field: &str, o: &(&str, &str), base: &str, api: Api) -> Value {
    let _ = field;
    json!({"self": format!("{base}/rest/api/{}/customFieldOption/{}", api.version(), o.0), "value": o.1, "id": o.0})
}

fn priority_json(p: &(&str, &str), base: &str, api: Api) -> Value {
    json!({
        "self": format!("{base}/rest/api/{}/priority/{}", api.version(), p.0),
        "iconUrl": format!("{base}/images/icons/priorities/{}.svg", p.1.to_lowercase()),
        "name": p.1, "id": p.0,
    })
}

fn issue_type_json(t: &(&str, &str, &str), base: &str, api: Api) -> Value {
    json!({
        "self": format!("{base}/rest/api/{}/issuetype/{}", api.version(), t.0),
        "id": t.0, "description": t.2,
        "iconUrl": format!("{base}/images/icons/issuetypes/{}.svg", t.1.to_lowercase()),
        "name": t.1, "subtask": false, "hierarchyLevel": 0,
    })
}

/// `StatusDetails` JSON.
pub(crate) fn status_json(s: &Status, base: &str, api: Api) -> Value {
    let v = api.version();
    let (key, color, name) = match s.category {
        2 => ("new", "blue-gray", "To Do"),
        4 => ("indeterminate", "yellow", "In Progress"),
        _ => ("done", "green", "Done"),
    };
    json!({
        "self": format!("{base}/rest/api/{v}/status/{}", s.id),
        "description": "", "iconUrl": format!("{base}/images/icons/statuses/generic.png"),
        "name": s.name, "id": s.id,
        "statusCategory": {
            "self": format!("{base}/rest/api/{v}/statuscategory/{}", s.category),
            "id": s.category, "key": key, "colorName": color, "name": name,
        },
    })
}

/// Which fields a read asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldSel {
    /// `*all`, `*navigable`, or no `fields` parameter on GET issue.
    All,
    /// Only the issue id (Cloud `search/jql` default).
    IdOnly,
    /// The listed ids.
    Some(Vec<String>),
}

impl FieldSel {
    /// Parses a `fields` parameter (comma-separated, possibly repeated); `default` when absent.
    pub fn parse<'a>(params: impl IntoIterator<Item = &'a str>, default: FieldSel) -> FieldSel {
        let list: Vec<String> = params
            .into_iter()
            .flat_map(|p| p.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if list.is_empty() {
            return default;
        }
        if list.iter().any(|f| f == "*all" || f == "*navigable") {
            return FieldSel::All;
        }
        if list.iter().all(|f| f == "id") {
            return FieldSel::IdOnly;
        }
        FieldSel::Some(list)
    }

    fn wants(&self, id: &str) -> bool {
        match self {
            FieldSel::All => true,
            FieldSel::IdOnly => false,
            FieldSel::Some(list) => list.iter().any(|f| f == id),
        }
    }
}
