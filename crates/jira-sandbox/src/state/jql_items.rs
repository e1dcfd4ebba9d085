//! What JQL sees of the store: the fields a query may name (system names, custom field names
//! and `cf[id]`), every name each value of an issue's field answers to, and which values exist.
//! The query language itself is `crate::jql`.

use super::catalog::{
    FIELDS, FieldDef, ISSUE_TYPES, Kind, PRIORITIES, PROJECT_ID, RESOLUTIONS, STATUSES,
    option_name, resolution, status,
};
use super::store::{State, Val};

/// A field a query names.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JqlField {
    Key,
    Project,
    Status,
    Category,
    Resolution,
    IssueType,
    /// A field of the catalogue kept in the issue's values.
    Value(&'static FieldDef),
}

/// Which operators a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JqlKind {
    /// Free text: `~`, `!~`, `IS [NOT]`.
    Text,
    /// Numbers: the equality and list operators, `IS [NOT]`, and `<`, `<=`, `>`, `>=`.
    Number,
    /// Everything else: the equality and list operators and `IS [NOT]`.
    Plain,
}

/// The status categories: id, key, name.
const CATEGORIES: [(&str, &str, &str); 3] = [
    ("2", "new", "To Do"),
    ("4", "indeterminate", "In Progress"),
    ("3", "done", "Done"),
];

/// The field `name` names in JQL (case-insensitive), with the operators it takes.
pub(crate) fn jql_field(name: &str) -> Option<(JqlField, JqlKind)> {
    let lower = name.trim().to_ascii_lowercase();
    let system = match lower.as_str() {
        "key" | "issuekey" | "issue" | "id" => Some(JqlField::Key),
        "project" => Some(JqlField::Project),
        "status" => Some(JqlField::Status),
        "statuscategory" => Some(JqlField::Category),
        "resolution" => Some(JqlField::Resolution),
        "issuetype" | "type" => Some(JqlField::IssueType),
        _ => None,
    };
    if let Some(field) = system {
        return Some((field, JqlKind::Plain));
    }
    let custom_id = lower
        .strip_prefix("cf[")
        .and_then(|rest| rest.strip_suffix(']'))
        .map(|num| format!("customfield_{num}"));
    let def = FIELDS.iter().find(|f| match &custom_id {
        Some(id) => f.id == id,
        None if f.custom() => f.name.eq_ignore_ascii_case(name.trim()),
        None => f.id == lower && jql_system_value(f.id),
    })?;
    let kind = match def.kind {
        Kind::Summary | Kind::Rich | Kind::Text => JqlKind::Text,
        Kind::Number => JqlKind::Number,
        _ => JqlKind::Plain,
    };
    Some((JqlField::Value(def), kind))
}

/// The system fields kept among an issue's values that the sandbox's JQL can search.
fn jql_system_value(id: &str) -> bool {
    matches!(
        id,
        "summary" | "description" | "labels" | "priority" | "assignee" | "reporter"
    )
}

impl State {
    /// The values of `field` on the issue at `idx`, each with every name it answers to (an
    /// option's value and id, a user's names, a status's name and id, ...). Empty when unset.
    pub(crate) fn jql_items(&self, idx: usize, field: JqlField) -> Vec<Vec<String>> {
        let issue = &self.issues[idx];
        match field {
            JqlField::Key => vec![vec![issue.key.clone(), issue.id.to_string()]],
            JqlField::Project if self.project_of(issue) == super::jsm::DESK_KEY => vec![vec![
                super::jsm::DESK_KEY.to_owned(),
                super::jsm::DESK_PROJECT_ID.to_owned(),
                super::jsm::DESK_NAME.to_owned(),
            ]],
            JqlField::Project => vec![vec![
                self.project.clone(),
                PROJECT_ID.to_owned(),
                "Operations".to_owned(),
            ]],
            JqlField::Status => {
                let s = status(issue.status);
                vec![vec![s.name.to_owned(), s.id.to_owned()]]
            }
            JqlField::Category => {
                let id = status(issue.status).category.to_string();
                CATEGORIES
                    .iter()
                    .filter(|c| c.0 == id)
                    .map(|c| vec![c.0.to_owned(), c.1.to_owned(), c.2.to_owned()])
                    .collect()
            }
            JqlField::Resolution => issue
                .resolution
                .map(|r| {
                    let (id, name, _) = resolution(r);
                    vec![vec![name.to_owned(), id.to_owned()]]
                })
                .unwrap_or_default(),
            JqlField::IssueType => ISSUE_TYPES
                .iter()
                .filter(|t| t.0 == issue.issue_type)
                .map(|t| vec![t.1.to_owned(), t.0.to_owned()])
                .collect(),
            JqlField::Value(def) => match issue.values.get(def.id) {
                None => Vec::new(),
                Some(val) => self.val_items(val),
            },
        }
    }

    fn val_items(&self, val: &Val) -> Vec<Vec<String>> {
        let option = |id: &str| vec![option_name(id).to_owned(), id.to_owned()];
        match val {
            Val::Str(s) | Val::Rich(s, _) if s.trim().is_empty() => Vec::new(),
            Val::Str(s) | Val::Rich(s, _) => vec![vec![s.clone()]],
            Val::Num(n) => vec![vec![n.to_string()]],
            Val::Opt(id) | Val::Prio(id) => vec![option(id)],
            Val::Opts(ids) => ids.iter().map(|id| option(id)).collect(),
            Val::User(u) => vec![self.user_names(*u)],
            Val::Users(us) => us.iter().map(|u| self.user_names(*u)).collect(),
            Val::Labels(labels) => labels.iter().map(|l| vec![l.clone()]).collect(),
        }
    }

    fn user_names(&self, idx: usize) -> Vec<String> {
        let u = &self.users[idx];
        vec![
            u.name.clone(),
            u.key.to_owned(),
            u.display.to_owned(),
            u.email.clone(),
            u.account_id.to_owned(),
        ]
    }

    /// Whether `value` names something that exists for `field` (a status, a project, an
    /// option, an issue, ...); free values (labels, text, numbers) always do.
    pub(crate) fn jql_value_exists(&self, field: JqlField, value: &str) -> bool {
        let v = value.trim();
        let is = |name: &str| name.eq_ignore_ascii_case(v);
        match field {
            JqlField::Key => self.find(v).is_some(),
            JqlField::Project => {
                self.is_project(v)
                    || is("Operations")
                    || super::jsm::is_desk_project(v)
                    || is(super::jsm::DESK_NAME)
            }
            JqlField::Status => STATUSES.iter().any(|s| is(s.name) || s.id == v),
            JqlField::Category => CATEGORIES.iter().any(|c| is(c.0) || is(c.1) || is(c.2)),
            JqlField::Resolution => {
                is("unresolved") || RESOLUTIONS.iter().any(|r| is(r.0) || is(r.1))
            }
            JqlField::IssueType => ISSUE_TYPES.iter().any(|t| is(t.0) || is(t.1)),
            JqlField::Value(def) => match def.kind {
                Kind::Select(options) | Kind::MultiSelect(options) => {
                    options.iter().any(|o| is(o.0) || is(o.1))
                }
                Kind::Priority => PRIORITIES.iter().any(|p| is(p.0) || is(p.1)),
                Kind::User | Kind::MultiUser => {
                    (0..self.users.len()).any(|u| self.user_names(u).iter().any(|n| is(n)))
                }
                _ => true,
            },
        }
    }
}
