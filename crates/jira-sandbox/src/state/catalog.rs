//! The seed catalog: users, the workflow (statuses, transitions, resolutions), priorities, issue
//! types, the project's option lists and the field catalogue. Constant data and lookups only.

use std::sync::LazyLock;

use serde_json::{Value, json};

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
    pub(super) category: u8,
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
pub(super) const TO_DO: &str = "10000";
/// Status id of "Awaiting approval".
pub(crate) const AWAITING: &str = "10100";
/// Status id of "Approved".
pub(crate) const APPROVED: &str = "10101";
/// Status id of "Rejected".
pub(crate) const REJECTED: &str = "10102";
/// Status id of "Won't Do".
pub(super) const WONT_DO: &str = "10103";

pub(super) struct Transition {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) from: &'static [&'static str],
    pub(super) to: &'static str,
}

pub(super) const TRANSITIONS: [Transition; 7] = [
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
pub(super) const RESOLUTIONS: [(&str, &str, &str); 2] = [
    ("10000", "Done", "Work has been completed on this issue."),
    ("10001", "Won't Do", "This issue won't be actioned."),
];

/// Priorities: id, name.
pub(super) const PRIORITIES: [(&str, &str); 5] = [
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

pub(super) const PROJECT_ID: &str = "10000";
pub(super) const RISK: &[(&str, &str)] =
    &[("10100", "Low"), ("10101", "Medium"), ("10102", "High")];
pub(super) const ENVIRONMENTS: &[(&str, &str)] = &[
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
    /// `yyyy-MM-dd'T'HH:mm:ss.SSSZ` only, as Jira takes it (API-NOTES 4.2b).
    DateTime,
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
    pub(super) schema: Value,
}

impl FieldDef {
    pub(super) fn custom(&self) -> bool {
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

pub(super) fn system(id: &'static str, name: &'static str, kind: Kind, ty: &str) -> FieldDef {
    FieldDef {
        id,
        name,
        kind,
        schema: json!({"type": ty, "system": id}),
    }
}

pub(super) fn system_array(
    id: &'static str,
    name: &'static str,
    kind: Kind,
    items: &str,
) -> FieldDef {
    FieldDef {
        id,
        name,
        kind,
        schema: json!({"type": "array", "items": items, "system": id}),
    }
}

pub(super) fn custom(
    id: &'static str,
    name: &'static str,
    kind: Kind,
    ty: &str,
    plugin: &str,
) -> FieldDef {
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
        // JSM's change window fields (issue 9), on every create and edit screen.
        custom(
            "customfield_10060",
            "Planned start",
            Kind::DateTime,
            "datetime",
            "datetime",
        ),
        custom(
            "customfield_10061",
            "Planned end",
            Kind::DateTime,
            "datetime",
            "datetime",
        ),
        // JSM's Approvals field: a request's approvals on the issue, as the service desk API
        // lists them (API-NOTES 4.2); read-only.
        FieldDef {
            id: APPROVALS_FIELD,
            name: "Approvals",
            kind: Kind::ReadOnly,
            schema: json!({
                "type": "sd-approvals",
                "custom": "com.atlassian.servicedesk.approvals-plugin:sd-approvals",
                "customId": 10062,
            }),
        },
    ]
});

/// The id of JSM's Approvals field.
pub(crate) const APPROVALS_FIELD: &str = "customfield_10062";

pub(super) fn field_def(id: &str) -> Option<&'static FieldDef> {
    FIELDS.iter().find(|f| f.id == id)
}

pub(super) fn status(id: &str) -> &'static Status {
    STATUSES.iter().find(|s| s.id == id).unwrap_or(&STATUSES[0])
}

/// Finds a status by name (case-insensitive) or id.
pub(crate) fn status_by_name(name: &str) -> Option<&'static Status> {
    STATUSES
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name) || s.id == name)
}

pub(super) fn option_name(id: &str) -> &'static str {
    RISK.iter()
        .chain(ENVIRONMENTS)
        .chain(PRIORITIES.iter())
        .find(|o| o.0 == id)
        .map_or("", |o| o.1)
}

pub(super) fn resolution(id: &str) -> (&'static str, &'static str, &'static str) {
    RESOLUTIONS
        .iter()
        .copied()
        .find(|r| r.0 == id)
        .unwrap_or(RESOLUTIONS[0])
}

pub(super) fn operations(kind: Kind) -> Value {
    match kind {
        Kind::Labels | Kind::MultiSelect(_) | Kind::MultiUser | Kind::Components => {
            json!(["add", "set", "remove"])
        }
        _ => json!(["set"]),
    }
}
