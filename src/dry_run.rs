//! `--dry-run` as a layer above the Jira client: [`Writer`] sends the step's writes, or prints
//! them on stdout as JSON lines instead. Reads always go to Jira, so a dry run still checks that
//! the stanza fits the site.

use serde_json::{Value, json};

use crate::jira::models::{Created, Transition};
use crate::jira::{Error, JiraClient, Write};

/// Where the step's writes go.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    client: &'a JiraClient,
    dry_run: bool,
}

impl<'a> Writer<'a> {
    /// Writes through `client`, or only prints them when `dry_run` is set.
    pub fn new(client: &'a JiraClient, dry_run: bool) -> Self {
        Writer { client, dry_run }
    }

    /// The client, for reads.
    pub fn client(&self) -> &'a JiraClient {
        self.client
    }

    /// True under `--dry-run`: writes are printed, not sent.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Creates an issue; `None` under `--dry-run`, where no issue exists afterwards.
    pub async fn create_issue(&self, fields: Value) -> Result<Option<Created>, Error> {
        let write = self.client.create_request(fields);
        match self.apply(&write).await? {
            Some(answer) => write.parse(&answer).map(Some),
            None => Ok(None),
        }
    }

    /// Edits an issue's `fields` and applies `update` operations (nothing when both are empty).
    pub async fn edit_issue(&self, key: &str, fields: Value, update: Value) -> Result<(), Error> {
        match self.client.edit_request(key, fields, update) {
            Some(write) => self.apply(&write).await.map(drop),
            None => Ok(()),
        }
    }

    /// Adds a plain-text comment.
    pub async fn add_comment(&self, key: &str, text: &str) -> Result<(), Error> {
        self.apply(&self.client.comment_request(key, text))
            .await
            .map(drop)
    }

    /// Applies a transition.
    pub async fn do_transition(&self, key: &str, transition: &Transition) -> Result<(), Error> {
        self.apply(&self.client.transition_request(key, transition))
            .await
            .map(drop)
    }

    /// Sends the write and returns Jira's answer, or prints it under `--dry-run` (`None`).
    async fn apply(&self, write: &Write) -> Result<Option<Value>, Error> {
        if !self.dry_run {
            return self.client.send(write).await.map(Some);
        }
        let (method, path) = (write.method.as_str(), &write.path);
        let line = json!({"dry_run": true, "method": method, "url": self.client.url(path), "body": write.body});
        println!("{line}");
        tracing::info!("dry run: would {method} {path}");
        Ok(None)
    }
}
