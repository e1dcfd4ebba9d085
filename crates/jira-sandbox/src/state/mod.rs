//! The sandbox's in-memory Jira: users, the workflow, the field catalogue, issues and their
//! changelogs, plus the JSON renderings of all of them.
//!
//! Everything here is synchronous and free of I/O so that the HTTP layer (`server.rs`) can hold the
//! lock for a few microseconds per request. Values are validated the way Jira validates them (errors
//! keyed by field id, Jira's own messages) and stored in a typed form, then rendered per flavor and
//! API version: ADF on Cloud v3, plain strings on v2, `accountId` users on Cloud, `name` users on
//! Data Center.
//!
//! The rooms: `catalog` (the seed: users, workflow, fields), `store` (issues and the operations that
//! keep them consistent), `edits` (requests validated into changes), `render` (JSON for each API),
//! `adf` (the sandbox's own Atlassian Document Format code) and `jsm` (the service desk project,
//! its request types, customer requests and their approvals).

mod adf;
mod catalog;
mod edits;
mod jql_items;
mod jsm;
mod render;
mod store;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::Flavor;

pub(crate) use catalog::{
    ALICE, APPROVALS_FIELD, APPROVED, AWAITING, BOB, BOT, FIELDS, FieldDef, REJECTED,
    status_by_name,
};
pub(crate) use jql_items::{JqlField, JqlKind, jql_field};
pub(crate) use jsm::{DeskError, is_desk_project, paged};
pub(crate) use render::{FieldSel, jira_time};
pub(crate) use store::State;

/// Jira's 404 body for an issue that does not exist or cannot be seen.
pub(crate) const ISSUE_NOT_FOUND: &str =
    "Issue does not exist or you do not have permission to see it.";
/// The message Cloud v3 gives for a plain string where rich text (ADF) is required.
const ADF_REQUIRED: &str =
    "Operation value must be an Atlassian Document (see the Atlassian Document Format)";
const STRING_REQUIRED: &str = "Operation value must be a string";
/// The message Cloud v3 gives for a document that breaks the ADF schema's rules.
const ADF_INVALID: &str = "The field value is not valid Atlassian Document Format (ADF) content.";

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
