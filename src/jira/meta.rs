//! Metadata calls: the field list, projects with their issue types and statuses, and the create
//! and edit screens' field metadata.

use serde_json::Value;

use super::client::{JiraClient, segment};
use super::error::Error;
use super::models::{FieldDef, FieldMeta, IssueType, Project};
use super::transport::parse;

impl JiraClient {
    /// `GET /field`.
    pub async fn fields(&self) -> Result<Vec<FieldDef>, Error> {
        self.transport.get(&self.rest("field"), &[]).await
    }

    /// `GET /project/{key}` with its issue types.
    /// No request when [`JiraClient::project_statuses`] already listed the project's issue types
    /// (issue 12: one request fewer per gate).
    pub async fn project(&self, key: &str) -> Result<Project, Error> {
        if let Some(known) = self.known_project(key) {
            return Ok(known);
        }
        self.transport
            .get(&self.rest(&format!("project/{}", segment(key))), &[])
            .await
    }

    /// `GET /project/{key}/statuses`: statuses per issue type. The issue types it lists (id and
    /// name) are kept, so that [`JiraClient::project`] need not ask for them again.
    pub async fn project_statuses(&self, key: &str) -> Result<Value, Error> {
        let answer: Value = self
            .transport
            .get(
                &self.rest(&format!("project/{}/statuses", segment(key))),
                &[],
            )
            .await?;
        let issue_types: Vec<IssueType> = answer
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| serde_json::from_value(t.clone()).ok())
            .collect();
        if !issue_types.is_empty() {
            // Project keys are upper case in Jira; the stanza may have written it otherwise.
            self.learn_project(Project {
                id: String::new(),
                key: key.to_ascii_uppercase(),
                issue_types,
            });
        }
        Ok(answer)
    }

    /// Create metadata for one issue type: the new per-project endpoint (Cloud `fields`, Data
    /// Center `values`), falling back to the old `expand=projects.issuetypes.fields` form when the
    /// new one answers 404 (Data Center before 8.4).
    pub async fn create_fields(
        &self,
        project: &str,
        issue_type: &IssueType,
    ) -> Result<Vec<FieldMeta>, Error> {
        let path = self.rest(&format!(
            "issue/createmeta/{}/issuetypes/{}",
            segment(project),
            segment(&issue_type.id)
        ));
        let mut out = Vec::new();
        let mut start = 0usize;
        loop {
            let query = [
                ("startAt", start.to_string()),
                ("maxResults", "100".to_owned()),
            ];
            let page: Value = match self.transport.get(&path, &query).await {
                Ok(page) => page,
                Err(e) if e.is_not_found() && start == 0 => {
                    return self.create_fields_old(project, issue_type).await;
                }
                Err(e) => return Err(e),
            };
            let list = page
                .get("fields")
                .or_else(|| page.get("values"))
                .cloned()
                .unwrap_or(Value::Array(vec![]));
            let items: Vec<FieldMeta> = parse(&list, "GET", &path)?;
            let count = items.len();
            out.extend(items);
            let total = page
                .get("total")
                .and_then(Value::as_u64)
                .map_or(usize::MAX, |t| usize::try_from(t).unwrap_or(usize::MAX));
            let last = page.get("isLast").and_then(Value::as_bool).unwrap_or(false);
            start += count;
            if count == 0 || last || start >= total {
                return Ok(out);
            }
        }
    }

    /// `GET /issue/{key}/editmeta`: the edit screen's fields (`{"fields": {id: meta}}`).
    pub async fn edit_fields(&self, key: &str) -> Result<Vec<FieldMeta>, Error> {
        let path = self.rest(&format!("issue/{}/editmeta", segment(key)));
        let body: Value = self.transport.get(&path, &[]).await?;
        metas_by_id(body.get("fields"), &path)
    }

    async fn create_fields_old(
        &self,
        project: &str,
        issue_type: &IssueType,
    ) -> Result<Vec<FieldMeta>, Error> {
        let path = self.rest("issue/createmeta");
        let query = [
            ("projectKeys", project.to_owned()),
            ("issuetypeIds", issue_type.id.clone()),
            ("expand", "projects.issuetypes.fields".to_owned()),
        ];
        let body: Value = self.transport.get(&path, &query).await?;
        metas_by_id(body.pointer("/projects/0/issuetypes/0/fields"), &path)
    }
}

/// Field metadata given as a map by field id (old createmeta, editmeta), as a list.
fn metas_by_id(fields: Option<&Value>, path: &str) -> Result<Vec<FieldMeta>, Error> {
    let fields = fields
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    fields
        .into_iter()
        .map(|(id, mut meta)| {
            if let Some(obj) = meta.as_object_mut() {
                obj.entry("fieldId").or_insert(Value::String(id));
            }
            parse(&meta, "GET", path)
        })
        .collect()
}
