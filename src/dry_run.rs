//! `--dry-run` as a layer above the Jira client: [`Writer`] sends the step's writes, or prints
//! them on stdout as JSON lines instead. Reads always go to Jira, so a dry run still checks that
//! the stanza fits the site.

use serde_json::{Value, json};

use crate::jira::models::{Created, Transition};
use crate::jira::{Error, JiraClient, Write};

/// What became of a write. The step logs what it did through [`Applied::log`], which says it
/// only when Jira was sent the write, so the step never asks whether this is a dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Applied {
    /// Jira was sent the write (or, after a lost answer, is known to have applied it).
    Sent,
    /// `--dry-run`: the write was printed on stdout instead.
    Printed,
    /// There was nothing to write.
    Nothing,
}

impl Applied {
    /// Logs `what` (e.g. "updated OPS-1") when the write reached Jira.
    pub fn log(self, what: std::fmt::Arguments<'_>) {
        if self == Applied::Sent {
            tracing::info!("{what}");
        }
    }
}

/// Where the step's writes go.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    client: &'a JiraClient,
    dry_run: bool,
    /// Printed as `***` in dry-run lines (the token, also where a stanza interpolated it into a
    /// summary or comment).
    secret: &'a str,
}

impl<'a> Writer<'a> {
    /// Writes through `client`, or only prints them when `dry_run` is set, with `secret` (the
    /// token) printed as `***`.
    pub fn new(client: &'a JiraClient, dry_run: bool, secret: &'a str) -> Self {
        Writer {
            client,
            dry_run,
            secret,
        }
    }

    /// The client, for reads.
    pub fn client(&self) -> &'a JiraClient {
        self.client
    }

    /// Creates an issue; `None` under `--dry-run`, where no issue exists afterwards (the one
    /// write whose dry run changes what the step can do next).
    pub async fn create_issue(&self, fields: Value) -> Result<Option<Created>, Error> {
        let write = self.client.create_request(fields);
        match self.apply(&write).await? {
            (Applied::Sent, Some(answer)) => write.parse(&answer).map(Some),
            _ => Ok(None),
        }
    }

    /// Creates a Jira Service Management customer request (`POST /rest/servicedeskapi/request`);
    /// `None` under `--dry-run`, like [`Writer::create_issue`].
    pub async fn create_customer_request(&self, body: Value) -> Result<Option<Created>, Error> {
        let write = self.client.create_customer_request(body);
        match self.apply(&write).await? {
            (Applied::Sent, Some(answer)) => {
                let created: crate::jira::servicedesk::CreatedRequest = write.parse(&answer)?;
                Ok(Some(Created {
                    id: created.issue_id,
                    key: created.issue_key,
                }))
            }
            _ => Ok(None),
        }
    }

    /// Edits an issue's `fields` and applies `update` operations (nothing when both are empty).
    pub async fn edit_issue(
        &self,
        key: &str,
        fields: Value,
        update: Value,
    ) -> Result<Applied, Error> {
        match self.client.edit_request(key, fields, update) {
            Some(write) => Ok(self.apply(&write).await?.0),
            None => Ok(Applied::Nothing),
        }
    }

    /// Adds a plain-text comment.
    pub async fn add_comment(&self, key: &str, text: &str) -> Result<Applied, Error> {
        Ok(self.apply(&self.client.comment_request(key, text)).await?.0)
    }

    /// Applies a transition.
    pub async fn do_transition(
        &self,
        key: &str,
        transition: &Transition,
    ) -> Result<Applied, Error> {
        Ok(self
            .apply(&self.client.transition_request(key, transition))
            .await?
            .0)
    }

    /// Applies a transition with a comment in the same request (`update.comment`, one request
    /// instead of two: issue 12); without a comment, [`Writer::do_transition`].
    pub async fn do_transition_commented(
        &self,
        key: &str,
        transition: &Transition,
        comment: Option<&str>,
    ) -> Result<Applied, Error> {
        let mut write = self.client.transition_request(key, transition);
        if let (Some(text), Some(body)) = (comment, write.body.as_object_mut()) {
            let comment = json!([{ "add": { "body": self.client.rich_text(text) } }]);
            body.insert("update".into(), json!({ "comment": comment }));
        }
        Ok(self.apply(&write).await?.0)
    }

    /// Sends the write and returns Jira's answer, or prints it under `--dry-run` (no answer).
    async fn apply(&self, write: &Write) -> Result<(Applied, Option<Value>), Error> {
        if !self.dry_run {
            let answer = self.client.send(write).await?;
            return Ok((Applied::Sent, Some(answer)));
        }
        let (method, path) = (write.method.as_str(), &write.path);
        let line = json!({"dry_run": true, "method": method, "url": self.client.url(path), "body": write.body});
        println!("{}", redact(&line.to_string(), self.secret));
        tracing::info!("dry run: would {method} {}", redact(path, self.secret));
        Ok((Applied::Printed, None))
    }
}

/// `text` with every occurrence of `secret` as `***` (a secret shorter than 4 characters would
/// hide ordinary text, and is not worth hiding).
fn redact(text: &str, secret: &str) -> String {
    if secret.chars().count() < 4 {
        return text.to_owned();
    }
    // As written in a JSON line too, where `"` or `\` in the secret are escaped.
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    let escaped = escaped.trim_matches('"');
    text.replace(secret, "***").replace(escaped, "***")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn the_secret_never_shows_in_a_dry_run_line() {
        let line = serde_json::json!({"summary": "tok s3cr\"et! and s3cr\"et!"}).to_string();
        let shown = redact(&line, "s3cr\"et!");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert_eq!(shown.matches("***").count(), 2, "{shown}");
        assert_eq!(redact("a b c", "b"), "a b c");
    }
}
