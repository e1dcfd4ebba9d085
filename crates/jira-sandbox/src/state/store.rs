//! The store: issues, their values, changelog and comments, and the state that owns them. The
//! operations here keep the invariants (keys, ids, history entries, resolution on a status move);
//! they do not validate input (`edits.rs`) nor render it (`render.rs`).

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use crate::Flavor;

use super::{
    ISSUE_NOT_FOUND, JiraError,
    catalog::{
        AWAITING, BOT, FieldDef, ISSUE_TYPES, PROJECT_ID, REJECTED, TO_DO, User, WONT_DO,
        resolution, status,
    },
};

/// A stored field value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Str(String),
    /// Rich text written as ADF on v3: its text, and the document as sent (read back on v3).
    Rich(String, serde_json::Value),
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
pub(super) struct Item {
    pub(super) field: String,
    pub(super) field_id: &'static str,
    pub(super) custom: bool,
    pub(super) from: Option<String>,
    pub(super) from_string: Option<String>,
    pub(super) to: Option<String>,
    pub(super) to_string: Option<String>,
}

/// One changelog history: who changed what, when.
#[derive(Debug, Clone)]
pub(super) struct History {
    pub(super) id: u64,
    pub(super) author: usize,
    pub(super) created: SystemTime,
    pub(super) items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub(super) struct Comment {
    pub(super) id: u64,
    pub(super) author: usize,
    pub(super) body: String,
    /// The ADF document as sent on v3 (read back on v3), else `None`.
    pub(super) doc: Option<serde_json::Value>,
    pub(super) created: SystemTime,
}

/// An issue.
#[derive(Debug, Clone)]
#[allow(clippy::struct_field_names)]
pub(crate) struct Issue {
    /// Numeric id.
    pub id: u64,
    /// Issue key, `OPS-1`.
    pub key: String,
    pub(super) issue_type: &'static str,
    /// Current status id.
    pub status: &'static str,
    pub(super) resolution: Option<&'static str>,
    pub(super) values: BTreeMap<&'static str, Val>,
    pub(super) created: SystemTime,
    pub(super) updated: SystemTime,
    pub(super) category_changed: SystemTime,
    /// When the issue last changed; search does not see it until the search lag has passed.
    pub changed_at: Instant,
    /// How many times it entered "Awaiting approval"; a scripted approver acts only on the entry
    /// that scheduled it.
    pub approval_round: u64,
    pub(super) history: Vec<History>,
    pub(super) comments: Vec<Comment>,
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

pub(super) type Change = (&'static FieldDef, Option<Val>);

/// The whole sandbox state.
#[derive(Debug)]
pub(crate) struct State {
    /// Project key.
    pub project: String,
    /// The users; [`BOT`], [`ALICE`], [`BOB`], and Dave (`jsm::DAVE`).
    pub users: Vec<User>,
    /// Issues in creation order.
    pub issues: Vec<Issue>,
    pub(super) next_number: u64,
    pub(super) next_history: u64,
    pub(super) next_comment: u64,
    /// Where status changes are sent as webhook events (`--webhook`).
    pub webhook: Option<tokio::sync::mpsc::UnboundedSender<serde_json::Value>>,
    /// The customer requests among the issues (Jira Service Management).
    pub requests: Vec<super::jsm::Request>,
    pub(super) next_request: u64,
    pub(super) next_approval: u64,
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
            User {
                name: "dave".to_owned(),
                key: "JIRAUSER10003",
                display: "Dave Deployer",
                email: "dave@example.com".to_owned(),
                account_id: "5b10a0effa615349cb016cd8",
            },
        ];
        Self {
            project: project.to_owned(),
            users,
            issues: Vec::new(),
            next_number: 1,
            next_history: 10000,
            next_comment: 10000,
            webhook: None,
            requests: Vec::new(),
            next_request: 0,
            next_approval: 0,
        }
    }

    /// Finds a user by Data Center name, or returns `None`.
    pub fn user_by_name(&self, name: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.name.eq_ignore_ascii_case(name))
    }

    pub(super) fn is_project(&self, key_or_id: &str) -> bool {
        key_or_id.eq_ignore_ascii_case(&self.project) || key_or_id == PROJECT_ID
    }

    pub(super) fn check_project(&self, project: &str) -> Result<(), JiraError> {
        if self.is_project(project) {
            Ok(())
        } else {
            Err(JiraError::message(
                404,
                format!("No project could be found with key '{project}'."),
            ))
        }
    }

    /// Finds an issue by key (case-insensitive) or numeric id.
    pub fn find(&self, key_or_id: &str) -> Option<usize> {
        self.issues
            .iter()
            .position(|i| i.key.eq_ignore_ascii_case(key_or_id) || i.id.to_string() == key_or_id)
    }

    pub(super) fn find_or_404(&self, key_or_id: &str) -> Result<usize, JiraError> {
        self.find(key_or_id)
            .ok_or_else(|| JiraError::message(404, ISSUE_NOT_FOUND))
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
        if let Some(hook) = &self.webhook {
            let issue = &self.issues[idx];
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            let event = crate::webhook::status_changed(
                (issue.id, &issue.key),
                (target.id, target.name),
                from.name,
                target.name,
                now,
            );
            // The receiver lives as long as the sandbox; a closed one has nobody to tell.
            let _ = hook.send(event);
        }
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

    pub(super) fn push_history(&mut self, idx: usize, author: usize, items: Vec<Item>) {
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

    pub(super) fn add_comment_text(&mut self, idx: usize, author: usize, body: String) -> u64 {
        self.add_comment_rich(idx, author, body, None)
    }

    /// Adds a comment with its text and, when written as ADF, the document.
    pub(super) fn add_comment_rich(
        &mut self,
        idx: usize,
        author: usize,
        body: String,
        doc: Option<serde_json::Value>,
    ) -> u64 {
        let id = self.next_comment;
        self.next_comment += 1;
        let issue = &mut self.issues[idx];
        let now = SystemTime::now();
        issue.comments.push(Comment {
            id,
            author,
            body,
            doc,
            created: now,
        });
        issue.updated = now;
        issue.changed_at = Instant::now();
        id
    }

    pub(super) fn apply_changes(&mut self, idx: usize, changes: Vec<Change>, author: usize) {
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

    /// Stores a new issue of `issue_type` in To Do with validated `changes` and `comments` by the
    /// bot; returns its index.
    pub(super) fn insert(
        &mut self,
        issue_type: &'static str,
        changes: Vec<Change>,
        comments: Vec<String>,
    ) -> usize {
        let now = SystemTime::now();
        let number = self.next_number;
        self.next_number += 1;
        let mut issue = Issue {
            id: 10000 + number - 1,
            key: format!("{}-{number}", self.project),
            issue_type,
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
        idx
    }
}

/// Adds `item` once, or removes every copy of it.
pub(super) fn edit_list<T: PartialEq>(mut list: Vec<T>, item: T, add: bool) -> Vec<T> {
    if !add {
        list.retain(|x| *x != item);
    } else if !list.contains(&item) {
        list.push(item);
    }
    list
}

pub(super) fn apply_change(issue: &mut Issue, def: &'static FieldDef, val: Option<Val>) {
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
