//! Issue calls: reading and searching issues and their transitions, and the writes (create, edit,
//! comment, transition). A write is built as a [`Write`] value and sent with
//! [`JiraClient::send`], so that `--dry-run` (a layer above the client, `crate::dry_run`) can
//! print it instead.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::client::{JiraClient, segment};
use super::error::Error;
use super::models::Deployment;
use super::models::{History, Issue, SearchPage, Transition, Transitions, parse_jira_time};
use super::transport::{Retry, parse};

/// A write to Jira, built but not sent.
#[derive(Debug, Clone)]
pub struct Write {
    /// `POST` or `PUT`.
    pub method: Method,
    /// The REST path (no host).
    pub path: String,
    /// The JSON body.
    pub body: Value,
    pub(super) retry: Retry,
}

impl Write {
    /// Reads Jira's answer to this write.
    pub fn parse<T: DeserializeOwned>(&self, answer: &Value) -> Result<T, Error> {
        parse(answer, self.method.as_str(), &self.path)
    }
}

impl JiraClient {
    /// `POST /issue`. Not retried once it may have reached Jira: see [`Error::Ambiguous`].
    pub fn create_request(&self, fields: Value) -> Write {
        Write {
            method: Method::POST,
            path: self.rest("issue"),
            body: Value::Object(serde_json::Map::from_iter([("fields".to_owned(), fields)])),
            retry: Retry::UnlessSent,
        }
    }

    /// `PUT /issue/{key}` with `fields` and `update` operations; `None` when both are empty.
    pub fn edit_request(&self, key: &str, fields: Value, update: Value) -> Option<Write> {
        let mut body = json!({});
        if fields.as_object().is_some_and(|f| !f.is_empty()) {
            body["fields"] = fields;
        }
        if update.as_object().is_some_and(|u| !u.is_empty()) {
            body["update"] = update;
        }
        if body.as_object().is_some_and(serde_json::Map::is_empty) {
            return None;
        }
        Some(Write {
            method: Method::PUT,
            path: self.rest(&format!("issue/{}", segment(key))),
            body,
            retry: Retry::Always,
        })
    }

    /// `POST /issue/{key}/comment`.
    pub fn comment_request(&self, key: &str, text: &str) -> Write {
        Write {
            method: Method::POST,
            path: self.rest(&format!("issue/{}/comment", segment(key))),
            body: json!({ "body": self.rich_text(text) }),
            retry: Retry::UnlessSent,
        }
    }

    /// `POST /issue/{key}/transitions`.
    pub fn transition_request(&self, key: &str, transition: &Transition) -> Write {
        Write {
            method: Method::POST,
            path: self.rest(&format!("issue/{}/transitions", segment(key))),
            body: json!({ "transition": { "id": transition.id } }),
            // A transition applied twice fails the second time with 400, so retrying is safe:
            // the caller re-reads the status when that happens.
            retry: Retry::Always,
        }
    }

    /// Sends a write; the answer's body.
    pub async fn send(&self, write: &Write) -> Result<Value, Error> {
        let reply = self
            .transport
            .call(
                write.method.clone(),
                &write.path,
                &[],
                Some(&write.body),
                write.retry,
            )
            .await?;
        Ok(reply.body)
    }

    /// `GET /issue/{key}/transitions`: those available from the current status.
    pub async fn transitions(&self, key: &str) -> Result<Vec<Transition>, Error> {
        let list: Transitions = self
            .transport
            .get(
                &self.rest(&format!("issue/{}/transitions", segment(key))),
                &[],
            )
            .await?;
        Ok(list.transitions)
    }

    /// `GET /issue/{key}` with only `fields` (and the changelog when asked).
    pub async fn issue(
        &self,
        key: &str,
        fields: &[String],
        changelog: bool,
    ) -> Result<Issue, Error> {
        let mut query = vec![("fields", fields.join(","))];
        if changelog {
            query.push(("expand", "changelog".to_owned()));
        }
        self.transport
            .get(&self.rest(&format!("issue/{}", segment(key))), &query)
            .await
    }

    /// Runs a JQL search: Cloud's `/search/jql` (the old `/search` answers 410 there), Data
    /// Center's `/search`. Returns at most `max` issues with the given fields.
    pub async fn search(&self, jql: &str, fields: &[&str], max: u32) -> Result<Vec<Issue>, Error> {
        let path = self.search_path();
        let query = [
            ("jql", jql.to_owned()),
            ("fields", fields.join(",")),
            ("maxResults", max.to_string()),
        ];
        let page: SearchPage = self.transport.get(&path, &query).await?;
        Ok(page.issues)
    }
}

impl JiraClient {
    /// The most recent changelog entry that changed the status, whatever order the endpoint uses
    /// (most recent first on Cloud, oldest first on Data Center: API-NOTES §0.8).
    pub async fn decided_by(&self, key: &str) -> Result<Option<History>, Error> {
        let issue = self.issue(key, &["status".to_owned()], true).await?;
        let histories = issue.changelog.map(|c| c.histories).unwrap_or_default();
        Ok(self.last_status_change(histories))
    }

    /// The latest status change among `histories` (a changelog as this deployment orders it).
    pub fn last_status_change(&self, histories: Vec<History>) -> Option<History> {
        let mut best: Option<(i64, usize, History)> = None;
        let count = histories.len();
        for (index, history) in histories.into_iter().enumerate() {
            if !history
                .items
                .iter()
                .any(|i| i.field == "status" || i.field_id.as_deref() == Some("status"))
            {
                continue;
            }
            // Ties (same millisecond) break by the endpoint's order.
            let order = match self.deployment() {
                Deployment::Cloud => count - index,
                Deployment::DataCenter => index,
            };
            let when = parse_jira_time(&history.created).unwrap_or(i64::MIN);
            if best
                .as_ref()
                .is_none_or(|(t, o, _)| (when, order) > (*t, *o))
            {
                best = Some((when, order, history));
            }
        }
        best.map(|(_, _, h)| h)
    }
}
