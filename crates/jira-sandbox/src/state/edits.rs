//! Edits: create, edit, comment and transition requests, validated the way Jira validates them
//! (errors keyed by field id, Jira's own messages) and turned into typed changes for the store.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::Flavor;

use super::{
    ADF_INVALID, ADF_REQUIRED, Api, JiraError, STRING_REQUIRED,
    adf::{adf_text, check},
    catalog::{FieldDef, ISSUE_TYPES, Kind, PRIORITIES, PROJECT_ID, TRANSITIONS, field_def},
    store::{Change, State, Val, edit_list},
};

/// Parses rich text for the API version: ADF on v3, a string on v2.
pub(super) fn rich_text(raw: &Value, api: Api) -> Result<String, String> {
    rich_value(raw, api).map(|(text, _)| text)
}

/// Parses rich text for the API version: on v3 an ADF document that passes the schema's rules
/// (its text, and the document to store), on v2 a string (wiki markup, stored as it is).
pub(super) fn rich_value(raw: &Value, api: Api) -> Result<(String, Option<Value>), String> {
    if api.v3 {
        let text = adf_text(raw).ok_or_else(|| ADF_REQUIRED.to_owned())?;
        check(raw).map_err(|_| ADF_INVALID.to_owned())?;
        Ok((text, Some(raw.clone())))
    } else {
        raw.as_str()
            .map(|s| (s.to_owned(), None))
            .ok_or_else(|| STRING_REQUIRED.to_owned())
    }
}

pub(super) fn find_option(
    opts: &'static [(&'static str, &'static str)],
    raw: &Value,
) -> Result<&'static str, String> {
    if let Some(value) = raw.get("value").and_then(Value::as_str) {
        return opts
            .iter()
            .find(|o| o.1 == value)
            .map(|o| o.0)
            .ok_or_else(|| format!("Option value '{value}' is not valid"));
    }
    if let Some(id) = raw.get("id").and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_u64().map(|n| n.to_string()))
    }) {
        return opts
            .iter()
            .find(|o| o.0 == id)
            .map(|o| o.0)
            .ok_or_else(|| format!("Option id '{id}' is not valid"));
    }
    Err("Could not find valid 'id' or 'value' in the Parent Option object.".to_owned())
}

pub(super) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u8>().unwrap_or(0))
}

/// Jira's one write format for date-time fields: `2026-12-05T02:00:00.000+0100` (no colon in the
/// offset; `Z` and `+01:00` are refused).
pub(super) fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 28
        && is_date(&s[..10])
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && matches!(b[23], b'+' | b'-')
        && digits(11..13)
        && digits(14..16)
        && digits(17..19)
        && digits(20..23)
        && digits(24..28)
        && s[11..13].parse::<u8>().is_ok_and(|h| h < 24)
        && s[14..16].parse::<u8>().is_ok_and(|m| m < 60)
        && s[17..19].parse::<u8>().is_ok_and(|m| m < 60)
}

pub(super) fn label(raw: &Value) -> Result<String, String> {
    let s = raw.as_str().ok_or_else(|| STRING_REQUIRED.to_owned())?;
    if s.chars().any(char::is_whitespace) {
        return Err(format!("The label '{s}' contains spaces which is invalid."));
    }
    if s.is_empty() {
        return Err("The label '' is invalid.".to_owned());
    }
    Ok(s.to_owned())
}

pub(super) fn array(raw: &Value) -> Result<&Vec<Value>, String> {
    raw.as_array()
        .ok_or_else(|| "Operation value must be an array".to_owned())
}

pub(super) fn cannot_set(id: &str) -> String {
    format!("Field '{id}' cannot be set. It is not on the appropriate screen, or unknown.")
}

/// The issue type a create names (by id or name), or an error keyed `issuetype`.
pub(super) fn issue_type(
    fields: &Map<String, Value>,
    errors: &mut BTreeMap<String, String>,
) -> Option<&'static str> {
    match fields.get("issuetype") {
        None | Some(Value::Null) => {
            errors.insert("issuetype".to_owned(), "Specify an issue type".to_owned());
            None
        }
        Some(t) => {
            let found = ISSUE_TYPES.iter().find(|it| {
                t.get("id").and_then(Value::as_str) == Some(it.0)
                    || t.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(it.1))
            });
            if found.is_none() {
                errors.insert(
                    "issuetype".to_owned(),
                    "Specify a valid issue type".to_owned(),
                );
            }
            found.map(|it| it.0)
        }
    }
}

impl State {
    pub(super) fn find_user(&self, raw: &Value, api: Api) -> Result<usize, String> {
        match api.flavor {
            Flavor::Cloud => {
                let id = raw
                    .get("accountId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        "Specify the user by accountId: 'name' and 'key' are not supported."
                            .to_owned()
                    })?;
                self.users
                    .iter()
                    .position(|u| u.account_id == id)
                    .ok_or_else(|| {
                        "Specified user does not exist or you do not have required permissions"
                            .to_owned()
                    })
            }
            Flavor::Datacenter => {
                let name = raw
                    .get("name")
                    .or_else(|| raw.get("key"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| "Specify the user by name.".to_owned())?;
                self.users
                    .iter()
                    .position(|u| u.name == name || u.key == name)
                    .ok_or_else(|| format!("User '{name}' does not exist."))
            }
        }
    }

    /// `POST /issue`: validates like Jira and stores the issue; returns its index.
    pub fn create(&mut self, body: &Value, api: Api) -> Result<usize, JiraError> {
        let empty = Map::new();
        let fields = body
            .get("fields")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut errors = BTreeMap::new();
        match fields.get("project") {
            Some(p) if self.project_ref_ok(p) => {}
            _ => {
                errors.insert(
                    "project".to_owned(),
                    "Specify a valid project ID or key".to_owned(),
                );
            }
        }
        let issue_type = issue_type(fields, &mut errors);
        if fields
            .get("summary")
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            errors.insert(
                "summary".to_owned(),
                "You must specify a summary of the issue.".to_owned(),
            );
        }
        let mut changes = Vec::new();
        for (id, raw) in fields {
            if matches!(id.as_str(), "project" | "issuetype") {
                continue;
            }
            match self.parse_field(id, raw, api) {
                Ok(c) => changes.push(c),
                Err(e) => {
                    errors.entry(id.clone()).or_insert(e);
                }
            }
        }
        let mut comments = Vec::new();
        self.parse_update(body, fields, api, &mut changes, &mut comments, &mut errors);
        if !errors.is_empty() {
            return Err(JiraError::fields(errors));
        }
        Ok(self.insert(issue_type.unwrap_or(ISSUE_TYPES[0].0), changes, comments))
    }

    pub(super) fn project_ref_ok(&self, p: &Value) -> bool {
        p.get("key")
            .and_then(Value::as_str)
            .is_some_and(|k| k.eq_ignore_ascii_case(&self.project))
            || p.get("id")
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .is_some_and(|id| id == PROJECT_ID)
    }

    pub(super) fn parse_field(&self, id: &str, raw: &Value, api: Api) -> Result<Change, String> {
        let def = field_def(id).ok_or_else(|| cannot_set(id))?;
        Ok((def, self.parse_value(def, raw, api)?))
    }

    pub(super) fn parse_value(
        &self,
        def: &'static FieldDef,
        raw: &Value,
        api: Api,
    ) -> Result<Option<Val>, String> {
        if raw.is_null() {
            return match def.kind {
                Kind::Summary => Err("You must specify a summary of the issue.".to_owned()),
                Kind::ReadOnly | Kind::IssueType | Kind::Project => Err(cannot_set(def.id)),
                _ => Ok(None),
            };
        }
        let val = match def.kind {
            Kind::Summary => match raw.as_str() {
                Some(s) if !s.trim().is_empty() => Val::Str(s.to_owned()),
                Some(_) => return Err("You must specify a summary of the issue.".to_owned()),
                None => return Err(STRING_REQUIRED.to_owned()),
            },
            Kind::Rich => match rich_value(raw, api)? {
                (text, Some(doc)) => Val::Rich(text, doc),
                (text, None) => Val::Str(text),
            },
            Kind::Text => Val::Str(
                raw.as_str()
                    .ok_or_else(|| STRING_REQUIRED.to_owned())?
                    .to_owned(),
            ),
            Kind::Select(opts) => Val::Opt(find_option(opts, raw)?),
            Kind::MultiSelect(opts) => Val::Opts(
                array(raw)?
                    .iter()
                    .map(|o| find_option(opts, o))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Priority => Val::Prio(find_priority(raw)?),
            Kind::User => Val::User(self.find_user(raw, api)?),
            Kind::MultiUser => Val::Users(
                array(raw)?
                    .iter()
                    .map(|u| self.find_user(u, api))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Number => Val::Num(
                raw.as_number()
                    .cloned()
                    .ok_or_else(|| "Operation value must be a number".to_owned())?,
            ),
            Kind::Date => match raw.as_str() {
                Some(s) if is_date(s) => Val::Str(s.to_owned()),
                _ => return Err(format!("Error parsing date string: {}", display_raw(raw))),
            },
            Kind::DateTime => match raw.as_str() {
                Some(s) if is_datetime(s) => Val::Str(s.to_owned()),
                _ => return Err(format!("Error parsing time: {}", display_raw(raw))),
            },
            Kind::Labels => Val::Labels(array(raw)?.iter().map(label).collect::<Result<_, _>>()?),
            Kind::Components => {
                if let Some(c) = array(raw)?.first() {
                    let name = c
                        .get("name")
                        .or_else(|| c.get("id"))
                        .map_or_else(|| c.to_string(), display_raw);
                    return Err(format!("Component name '{name}' is not valid"));
                }
                return Ok(None);
            }
            Kind::IssueType | Kind::Project | Kind::ReadOnly => return Err(cannot_set(def.id)),
        };
        Ok(Some(val))
    }

    /// Parses the `update` operations of a create or edit body into `changes` and `comments`.
    pub(super) fn parse_update(
        &self,
        body: &Value,
        fields: &Map<String, Value>,
        api: Api,
        changes: &mut Vec<Change>,
        comments: &mut Vec<String>,
        errors: &mut BTreeMap<String, String>,
    ) {
        let Some(update) = body.get("update").and_then(Value::as_object) else {
            return;
        };
        for (id, ops) in update {
            if fields.contains_key(id) {
                errors.insert(
                    id.clone(),
                    format!("Field '{id}' cannot be set and updated in the same request."),
                );
                continue;
            }
            let Some(ops) = ops.as_array() else {
                errors.insert(id.clone(), "Operation value must be an array".to_owned());
                continue;
            };
            if id == "comment" {
                for op in ops {
                    match op
                        .get("add")
                        .and_then(|a| a.get("body"))
                        .map(|b| rich_text(b, api))
                    {
                        Some(Ok(text)) => comments.push(text),
                        Some(Err(e)) => {
                            errors.insert("comment".to_owned(), e);
                        }
                        None => {
                            errors.insert(
                                "comment".to_owned(),
                                "Comment body can not be empty!".to_owned(),
                            );
                        }
                    }
                }
                continue;
            }
            let Some(def) = field_def(id) else {
                errors.insert(id.clone(), cannot_set(id));
                continue;
            };
            // Later operations see the result of earlier ones, as in Jira.
            let mut current = changes
                .iter()
                .rev()
                .find(|c| c.0.id == def.id)
                .and_then(|c| c.1.clone());
            let mut ok = true;
            for op in ops {
                match self.apply_op(def, op, current.take(), api) {
                    Ok(v) => current = v,
                    Err(e) => {
                        errors.insert(id.clone(), e);
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                changes.push((def, current));
            }
        }
    }

    /// Applies one `{"add"|"remove"|"set": value}` operation to `current`, the value so far.
    pub(super) fn apply_op(
        &self,
        def: &'static FieldDef,
        op: &Value,
        current: Option<Val>,
        api: Api,
    ) -> Result<Option<Val>, String> {
        let Some((verb, raw)) = op.as_object().and_then(|o| o.iter().next()) else {
            return Err("Operation must be an object".to_owned());
        };
        let add = match verb.as_str() {
            "set" => return self.parse_value(def, raw, api),
            "add" => true,
            "remove" => false,
            other => {
                return Err(format!(
                    "Operation '{other}' is not supported for field '{}'",
                    def.id
                ));
            }
        };
        Ok(Some(match (def.kind, current) {
            (Kind::Labels, cur) => {
                let list = if let Some(Val::Labels(l)) = cur {
                    l
                } else {
                    Vec::new()
                };
                Val::Labels(edit_list(list, label(raw)?, add))
            }
            (Kind::MultiSelect(opts), cur) => {
                let list = if let Some(Val::Opts(l)) = cur {
                    l
                } else {
                    Vec::new()
                };
                Val::Opts(edit_list(list, find_option(opts, raw)?, add))
            }
            (Kind::MultiUser, cur) => {
                let list = if let Some(Val::Users(l)) = cur {
                    l
                } else {
                    Vec::new()
                };
                Val::Users(edit_list(list, self.find_user(raw, api)?, add))
            }
            _ => {
                return Err(format!(
                    "Operation '{verb}' is not supported for field '{}'",
                    def.id
                ));
            }
        }))
    }

    /// `PUT /issue/{key}`: validates everything first, then applies it with one history.
    pub fn edit(
        &mut self,
        key: &str,
        body: &Value,
        api: Api,
        author: usize,
    ) -> Result<(), JiraError> {
        let idx = self.find_or_404(key)?;
        let empty = Map::new();
        let fields = body
            .get("fields")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut errors = BTreeMap::new();
        let mut changes = Vec::new();
        for (id, raw) in fields {
            match self.parse_field(id, raw, api) {
                Ok(c) => changes.push(c),
                Err(e) => {
                    errors.insert(id.clone(), e);
                }
            }
        }
        let mut comments = Vec::new();
        // List operations start from the issue's current value.
        let seeded: Vec<Change> = body
            .get("update")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|u| u.keys())
            .filter_map(|id| field_def(id))
            .map(|def| (def, self.issues[idx].values.get(def.id).cloned()))
            .collect();
        let seeded_len = seeded.len();
        let mut all = seeded;
        all.append(&mut changes);
        self.parse_update(body, fields, api, &mut all, &mut comments, &mut errors);
        if !errors.is_empty() {
            return Err(JiraError::fields(errors));
        }
        let changes: Vec<Change> = all.into_iter().skip(seeded_len).collect();
        self.apply_changes(idx, changes, author);
        for text in comments {
            self.add_comment_text(idx, author, text);
        }
        Ok(())
    }

    /// `POST /issue/{key}/comment`: returns the Comment JSON.
    pub fn add_comment(
        &mut self,
        key: &str,
        body: &Value,
        base: &str,
        api: Api,
        author: usize,
    ) -> Result<Value, JiraError> {
        let idx = self.find_or_404(key)?;
        let text = match body.get("body") {
            None | Some(Value::Null) => {
                return Err(JiraError::field(
                    "comment",
                    "Comment body can not be empty!",
                ));
            }
            Some(b) => rich_value(b, api).map_err(|e| JiraError::field("comment", e))?,
        };
        let id = self.add_comment_rich(idx, author, text.0, text.1);
        let issue = &self.issues[idx];
        let c = issue
            .comments
            .iter()
            .find(|c| c.id == id)
            .expect("comment just added");
        Ok(self.comment_json(issue, c, base, api))
    }

    /// `POST /issue/{key}/transitions`; returns the issue index when it entered "Awaiting
    /// approval" (so the caller can schedule the scripted approver).
    pub fn do_transition(
        &mut self,
        key: &str,
        body: &Value,
        api: Api,
        author: usize,
    ) -> Result<Option<usize>, JiraError> {
        let idx = self.find_or_404(key)?;
        let tid = body
            .get("transition")
            .and_then(|t| t.get("id"))
            .and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            });
        let Some(tid) = tid else {
            return Err(JiraError::message(400, "Missing 'transition' identifier"));
        };
        let current = self.issues[idx].status;
        let Some(t) = TRANSITIONS
            .iter()
            .find(|t| t.id == tid && t.from.contains(&current))
        else {
            return Err(JiraError::message(
                400,
                format!("Transition id '{tid}' is not valid for this issue."),
            ));
        };
        let mut rest = body.clone();
        if let Some(o) = rest.as_object_mut() {
            o.remove("transition");
            if let Some(f) = o.get_mut("fields").and_then(Value::as_object_mut) {
                // The resolution is set by the workflow, as post-functions do.
                f.remove("resolution");
            }
        }
        if rest.get("fields").is_some() || rest.get("update").is_some() {
            self.edit(key, &rest, api, author)?;
        }
        Ok(self.move_to(idx, t.to, author))
    }
}

pub(super) fn display_raw(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

pub(super) fn find_priority(raw: &Value) -> Result<&'static str, String> {
    if let Some(name) = raw.get("name").and_then(Value::as_str) {
        return PRIORITIES
            .iter()
            .find(|p| p.1.eq_ignore_ascii_case(name))
            .map(|p| p.0)
            .ok_or_else(|| format!("Priority name '{name}' is not valid"));
    }
    if let Some(id) = raw.get("id").and_then(Value::as_str) {
        return PRIORITIES
            .iter()
            .find(|p| p.0 == id)
            .map(|p| p.0)
            .ok_or_else(|| format!("Priority with id '{id}' does not exist"));
    }
    Err("Could not find valid 'id' or 'name' in priority object.".to_owned())
}
