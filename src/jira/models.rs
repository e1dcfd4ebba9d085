//! Jira's response bodies, parsed leniently: no `deny_unknown_fields`, optional wherever Jira may
//! leave a key out, because Jira adds and drops fields over time (STYLE.md section 5).

use serde::Deserialize;
use serde_json::{Map, Value};

/// `GET /rest/api/2/serverInfo`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// `Cloud`, `Server` (Data Center nodes report `Server` too) or `DataCenter`.
    #[serde(default)]
    pub deployment_type: Option<String>,
    /// Version string.
    #[serde(default)]
    pub version: Option<String>,
    /// The site's own address (on Cloud, also when asked through the API gateway).
    #[serde(default)]
    pub base_url: Option<String>,
}

/// A user as Cloud (accountId) or Data Center (name/key) shows it.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Cloud account id.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Data Center username.
    #[serde(default)]
    pub name: Option<String>,
    /// Data Center user key.
    #[serde(default)]
    pub key: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Email, when visible.
    #[serde(default)]
    pub email_address: Option<String>,
}

impl User {
    /// The best human name: display name, then username, then account id.
    pub fn label(&self) -> String {
        self.display_name
            .clone()
            .or_else(|| self.name.clone())
            .or_else(|| self.account_id.clone())
            .unwrap_or_else(|| "unknown user".into())
    }
}

/// An entry of `GET /field`.
#[derive(Debug, Deserialize, Clone)]
pub struct FieldDef {
    /// `summary`, `customfield_10050`, ...
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Value shape.
    #[serde(default)]
    pub schema: Option<FieldSchema>,
}

/// A field's `schema`.
#[derive(Debug, Deserialize, Clone, Default)]
pub struct FieldSchema {
    /// `string`, `number`, `option`, `array`, `user`, `date`, `priority`, ...
    #[serde(default, rename = "type")]
    pub kind: String,
    /// For arrays: the element type.
    #[serde(default)]
    pub items: Option<String>,
    /// System field name.
    #[serde(default)]
    pub system: Option<String>,
    /// Custom field type key, e.g. `com.atlassian.jira.plugin.system.customfieldtypes:textarea`.
    #[serde(default)]
    pub custom: Option<String>,
}

/// `GET /project/{key}`.
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// Numeric id.
    #[serde(default)]
    pub id: String,
    /// Project key.
    #[serde(default)]
    pub key: String,
    /// Issue types of the project.
    #[serde(default)]
    pub issue_types: Vec<IssueType>,
}

/// An issue type.
#[derive(Debug, Deserialize, Clone)]
pub struct IssueType {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
}

/// `POST /issue` → 201.
#[derive(Debug, Deserialize)]
pub struct Created {
    /// Numeric id.
    #[serde(default)]
    pub id: String,
    /// Key, e.g. `OPS-42`.
    pub key: String,
}

/// An issue as `GET /issue/{key}` or search returns it.
#[derive(Debug, Deserialize, Default)]
pub struct Issue {
    /// Numeric id.
    #[serde(default)]
    pub id: String,
    /// Key (the current one, if the issue moved).
    #[serde(default)]
    pub key: String,
    /// The requested fields.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// With `expand=changelog`.
    #[serde(default)]
    pub changelog: Option<Changelog>,
}

/// `changelog` of an issue.
#[derive(Debug, Deserialize, Default)]
pub struct Changelog {
    /// Histories: most recent first on Cloud's `expand`, oldest first on Data Center.
    #[serde(default)]
    pub histories: Vec<History>,
}

/// One change set.
#[derive(Debug, Deserialize, Clone)]
pub struct History {
    /// Who (absent for automation).
    #[serde(default)]
    pub author: Option<User>,
    /// When, e.g. `2026-10-20T14:12:29.014+0000`.
    #[serde(default)]
    pub created: String,
    /// What changed.
    #[serde(default)]
    pub items: Vec<HistoryItem>,
}

/// One changed field.
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItem {
    /// Field name (`status`).
    #[serde(default)]
    pub field: String,
    /// Field id (Cloud).
    #[serde(default)]
    pub field_id: Option<String>,
    /// New value's name.
    #[serde(default)]
    pub to_string: Option<String>,
}

/// `GET /issue/{key}/transitions`.
#[derive(Debug, Deserialize, Default)]
pub struct Transitions {
    /// Transitions available from the current status.
    #[serde(default)]
    pub transitions: Vec<Transition>,
}

/// One transition.
#[derive(Debug, Deserialize, Clone)]
pub struct Transition {
    /// Id to post.
    pub id: String,
    /// Transition name (differs from the target status name).
    #[serde(default)]
    pub name: String,
    /// Target status (missing on some real responses).
    #[serde(default)]
    pub to: Option<NamedRef>,
}

/// Anything with an id and a name (status, resolution, priority).
#[derive(Debug, Deserialize, Clone, Default)]
pub struct NamedRef {
    /// Id.
    #[serde(default)]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
}

/// Search results of both `/search/jql` (Cloud) and `/search` (Data Center).
#[derive(Debug, Deserialize, Default)]
pub struct SearchPage {
    /// Issues found.
    #[serde(default)]
    pub issues: Vec<Issue>,
}

/// One field of create metadata (`fields` on Cloud, `values` on Data Center, a map in the old
/// expand form).
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct FieldMeta {
    /// Field id (new endpoints).
    #[serde(default)]
    pub field_id: Option<String>,
    /// Key (Cloud, old form).
    #[serde(default)]
    pub key: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Required on create.
    #[serde(default)]
    pub required: bool,
    /// Whether Jira fills it in when absent.
    #[serde(default)]
    pub has_default_value: bool,
    /// Value shape.
    #[serde(default)]
    pub schema: Option<FieldSchema>,
    /// Allowed values (options, priorities).
    #[serde(default)]
    pub allowed_values: Vec<Value>,
}

/// Which kind of Jira answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Jira Cloud (`*.atlassian.net`): accountIds, `/search/jql`, ADF on v3.
    Cloud,
    /// Jira Data Center or Server: usernames, `/search`, v2 only.
    DataCenter,
}

/// Milliseconds since the epoch of Jira's `2026-10-20T14:12:29.014+0000`.
pub fn parse_jira_time(text: &str) -> Option<i64> {
    // Not `split_at`: a stray multi-byte character must not make a boundary panic.
    let cut = text.len().checked_sub(5)?;
    let (stamp, offset) = (text.get(..cut)?, text.get(cut..)?);
    let sign = match offset.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours: i64 = offset.get(1..3)?.parse().ok()?;
    let minutes: i64 = offset.get(3..5)?.parse().ok()?;
    let utc = humantime::parse_rfc3339_weak(&stamp.replace('T', " ")).ok()?;
    let millis = i64::try_from(utc.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis()).ok()?;
    Some(millis - sign * (hours * 60 + minutes) * 60_000)
}

#[cfg(test)]
mod tests {
    use super::parse_jira_time;

    #[test]
    fn jira_times_compare_across_offsets() {
        let utc = parse_jira_time("2026-10-20T14:12:29.014+0000").unwrap();
        let berlin = parse_jira_time("2026-10-20T16:12:29.014+0200").unwrap();
        let ny = parse_jira_time("2026-10-20T10:12:29.015-0400").unwrap();
        assert_eq!(utc, berlin);
        assert_eq!(ny - utc, 1);
        assert!(parse_jira_time("yesterday").is_none());
    }

    #[test]
    fn odd_jira_times_do_not_panic() {
        assert!(parse_jira_time("2026-10-20T14:12:29.014+00é").is_none());
        assert!(parse_jira_time("+00").is_none());
    }
}
