//! Rendering: the JSON of users, projects, create and edit metadata, issues, changelogs and
//! comments per flavor and API version (ADF on Cloud v3, `accountId` users on Cloud, `name` users
//! on Data Center), and the rows of the `/browse/KEY` page.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::Flavor;

use super::{
    Api, JiraError,
    adf::adf,
    catalog::{
        APPROVALS_FIELD, BOT, FIELDS, FieldDef, ISSUE_TYPES, Kind, PRIORITIES, PROJECT_ID,
        STATUSES, Status, TRANSITIONS, operations, option_name, resolution, status,
    },
    store::{Comment, History, Issue, State, Val},
};

/// Jira's timestamp format: `2026-10-20T14:12:29.014+0000`.
pub(crate) fn jira_time(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_millis(t).to_string();
    format!("{}+0000", s.trim_end_matches('Z'))
}

impl State {
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

    /// The project JSON, or `None` for an unknown key or id.
    pub fn project_json(&self, key_or_id: &str, base: &str, api: Api) -> Option<Value> {
        if super::is_desk_project(key_or_id) && !self.is_project(key_or_id) {
            return Some(self.desk_project_json(base, api));
        }
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
        if !self.is_project(key_or_id) && !super::is_desk_project(key_or_id) {
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

    pub(super) fn project_short(&self, base: &str, api: Api) -> Value {
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
    pub(super) fn create_fields(&self, base: &str, api: Api) -> Vec<(&'static str, Value)> {
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

    pub(super) fn val_string(&self, v: &Val) -> String {
        match v {
            Val::Str(s) | Val::Rich(s, _) => s.clone(),
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

    pub(super) fn comment_json(&self, issue: &Issue, c: &Comment, base: &str, api: Api) -> Value {
        let author = self.user_json(c.author, base, api);
        json!({
            "self": format!("{base}/rest/api/{}/issue/{}/comment/{}", api.version(), issue.id, c.id),
            "id": c.id.to_string(), "author": author, "updateAuthor": author,
            "body": match (&c.doc, api.v3) {
                (Some(doc), true) => doc.clone(),
                (None, true) => adf(&c.body),
                (_, false) => json!(c.body),
            },
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

    pub(super) fn history_json(&self, h: &History, base: &str, api: Api) -> Value {
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

    pub(super) fn field_json(&self, issue: &Issue, f: &FieldDef, base: &str, api: Api) -> Value {
        let v = api.version();
        match f.id {
            "issuetype" => {
                let t = ISSUE_TYPES
                    .iter()
                    .find(|t| t.0 == issue.issue_type)
                    .unwrap_or(&ISSUE_TYPES[0]);
                return issue_type_json(t, base, api);
            }
            "project" if self.project_of(issue) != self.project => {
                return Self::desk_project_short(base, api);
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
            APPROVALS_FIELD => return self.approvals_field(issue.id, base, api),
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
            Some(Val::Rich(_, doc)) if api.v3 => doc.clone(),
            Some(Val::Str(s) | Val::Rich(s, _)) => json!(s),
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

pub(super) fn option_json(field: &str, o: &(&str, &str), base: &str, api: Api) -> Value {
    let _ = field;
    json!({"self": format!("{base}/rest/api/{}/customFieldOption/{}", api.version(), o.0), "value": o.1, "id": o.0})
}

pub(super) fn priority_json(p: &(&str, &str), base: &str, api: Api) -> Value {
    json!({
        "self": format!("{base}/rest/api/{}/priority/{}", api.version(), p.0),
        "iconUrl": format!("{base}/images/icons/priorities/{}.svg", p.1.to_lowercase()),
        "name": p.1, "id": p.0,
    })
}

pub(super) fn issue_type_json(t: &(&str, &str, &str), base: &str, api: Api) -> Value {
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

    pub(super) fn wants(&self, id: &str) -> bool {
        match self {
            FieldSel::All => true,
            FieldSel::IdOnly => false,
            FieldSel::Some(list) => list.iter().any(|f| f == id),
        }
    }
}
