//! Field names → ids, and stanza values → the JSON shape each field's schema wants.
//!
//! `GET /field` is read once per run into a [`Catalog`]. A name that matches no field, or several,
//! is an error that lists the candidates (names are not unique in Jira: API-NOTES §2.5). Values are
//! shaped from the field's schema: options become `{"value"}`, multi-selects, labels and
//! components arrays, priority `{"name"}`, users `{"accountId"}` on Cloud and `{"name"}` on Data
//! Center, numbers JSON numbers, rich text ADF on v3. A map written in the stanza is sent as it is,
//! for fields this table does not know. A user field's value is looked up (`user/search`) and must
//! match one user exactly.
//!
//! This is the step's knowledge of the stanza's fields, not the client's: its errors are the
//! step's ([`crate::step_error::Error`]), and `jira/` only makes the calls.

use serde_json::{Value as Json, json};

use crate::jira::models::{FieldDef, FieldMeta, FieldSchema, User};
use crate::jira::{Deployment, JiraClient};
use crate::step_error::Error;
use crate::value::Value;

/// Custom field type keys whose value is rich text (ADF on v3).
const TEXTAREA: &str = "com.atlassian.jira.plugin.system.customfieldtypes:textarea";

/// The custom field type of JSM's Approvals field (API-NOTES 4.2).
const APPROVALS: &str = "com.atlassian.servicedesk.approvals-plugin:sd-approvals";

/// The site's fields, as `GET /field` lists them.
#[derive(Debug, Default)]
pub struct Catalog {
    defs: Vec<FieldDef>,
}

impl Catalog {
    /// Wraps the list from `GET /field`.
    pub fn new(defs: Vec<FieldDef>) -> Self {
        Catalog { defs }
    }

    /// The id of JSM's Approvals field (`schema.custom` ends in `:sd-approvals`): the request's
    /// approvals, the same as `/rest/servicedeskapi/request/{key}/approval` lists them.
    pub fn approvals_field(&self) -> Option<&str> {
        self.defs
            .iter()
            .find(|d| {
                d.schema
                    .as_ref()
                    .and_then(|s| s.custom.as_deref())
                    .is_some_and(|c| c == APPROVALS)
            })
            .map(|d| d.id.as_str())
    }

    /// The field with this id, or else this display name (case-insensitive).
    pub fn resolve(&self, name: &str) -> Result<&FieldDef, Error> {
        let wanted = name.trim();
        if let Some(def) = self.defs.iter().find(|d| d.id == wanted) {
            return Ok(def);
        }
        let matches: Vec<&FieldDef> = self
            .defs
            .iter()
            .filter(|d| d.name.eq_ignore_ascii_case(wanted))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => {
                let mut close: Vec<(usize, &FieldDef)> = self
                    .defs
                    .iter()
                    .map(|d| {
                        (
                            strsim::levenshtein(&d.name.to_lowercase(), &wanted.to_lowercase()),
                            d,
                        )
                    })
                    .collect();
                close.sort_by_key(|(distance, _)| *distance);
                let shown: Vec<String> = close
                    .iter()
                    .take(5)
                    .map(|(_, d)| format!("{} ({})", d.name, d.id))
                    .collect();
                Err(Error::Mismatch(format!(
                    "no Jira field is named or has the id {wanted:?}; closest: {} (hint: names are case-insensitive; ids look like customfield_10050)",
                    shown.join(", ")
                )))
            }
            many => Err(Error::Mismatch(format!(
                "{wanted:?} names {} fields: {} (hint: use the id instead of the name)",
                many.len(),
                many.iter()
                    .map(|d| d.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Shapes one stanza value for a field. `allowed` comes from create metadata when the caller
/// fetched it (options); a value outside it is an error listing the allowed ones.
pub async fn shape(
    client: &JiraClient,
    def: &FieldDef,
    value: &Value,
    allowed: Option<&FieldMeta>,
) -> Result<Json, Error> {
    if let Value::Map(_) | Value::Null = value {
        return Ok(value.to_json());
    }
    let schema = def.schema.clone().unwrap_or_default();
    if schema.kind == "array" {
        let items: Vec<&Value> = match value {
            Value::List(items) => items.iter().collect(),
            single => vec![single],
        };
        let element = FieldSchema {
            kind: schema.items.clone().unwrap_or_else(|| "string".into()),
            ..schema.clone()
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Value::Map(_) = item {
                out.push(item.to_json());
            } else {
                out.push(shape_scalar(client, def, &element, item, allowed).await?);
            }
        }
        return Ok(Json::Array(out));
    }
    if let Value::List(_) = value {
        return Err(Error::Mismatch(format!(
            "field {:?} ({}) takes one value, not a list",
            def.name, def.id
        )));
    }
    shape_scalar(client, def, &schema, value, allowed).await
}

async fn shape_scalar(
    client: &JiraClient,
    def: &FieldDef,
    schema: &FieldSchema,
    value: &Value,
    allowed: Option<&FieldMeta>,
) -> Result<Json, Error> {
    let text = value.as_text().unwrap_or_default();
    let bad = |what: &str| {
        Error::Mismatch(format!(
            "field {:?} ({}) needs {what}, got {text:?}",
            def.name, def.id
        ))
    };
    Ok(match schema.kind.as_str() {
        "number" => match value {
            Value::Number(n) => Json::Number(n.clone()),
            _ => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Json::Number)
                .ok_or_else(|| bad("a number"))?,
        },
        "date" => {
            let day = text.trim();
            if day.len() != 10 || humantime::parse_rfc3339_weak(&format!("{day} 00:00:00")).is_err()
            {
                return Err(bad("a date written YYYY-MM-DD"));
            }
            Json::String(day.to_owned())
        }
        "option" => json!({ "value": allowed_value(def, allowed, &text)? }),
        "priority" | "resolution" | "component" | "version" | "issuetype" | "status" => {
            json!({ "name": text })
        }
        "project" => json!({ "key": text }),
        "user" => {
            let user = find_user(client, &text).await?;
            match client.deployment() {
                Deployment::Cloud => json!({ "accountId": user.account_id.unwrap_or(text) }),
                Deployment::DataCenter => json!({ "name": user.name.unwrap_or(text) }),
            }
        }
        "string" if is_rich_text(def, schema) => {
            client.plain_rich_text(text.trim_end_matches('\n'))
        }
        // Issue 9: Jira takes one date-time format only (API-NOTES 4.2b).
        "datetime" => Json::String(crate::window::jira_datetime(&text).map_err(|_| {
            bad("RFC 3339 (`2026-12-05T02:00:00+01:00`) or `YYYY-MM-DD HH:MM` (UTC)")
        })?),
        "string" => Json::String(text.trim_end_matches('\n').to_owned()),
        _ => value.to_json(),
    })
}

/// The one user whose display name, email, username or account id is `query`
/// (case-insensitive); several candidates, or none, are an error listing them.
async fn find_user(client: &JiraClient, query: &str) -> Result<User, Error> {
    let users = client.search_users(query).await?;
    pick_user(&users, query)
}

/// The one user of Jira's search answer that is exactly `query`.
fn pick_user(users: &[User], query: &str) -> Result<User, Error> {
    let wanted = query.to_lowercase();
    let exact: Vec<&User> = users
        .iter()
        .filter(|u| {
            [
                &u.account_id,
                &u.name,
                &u.key,
                &u.display_name,
                &u.email_address,
            ]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| v.to_lowercase() == wanted))
        })
        .collect();
    match (exact.as_slice(), users) {
        ([one], _) => Ok((*one).clone()),
        ([], []) => Err(Error::Mismatch(format!(
            "no Jira user matches {query:?} (hint: use the email, username or account id)"
        ))),
        // Jira's search found one user, but not by an exact name, email or id: say so.
        ([], [only]) => Err(Error::Mismatch(format!(
            "no Jira user is exactly {query:?}; did you mean {}? (hint: use the email, username or account id)",
            only.label()
        ))),
        (many, all) => {
            let list = if many.is_empty() {
                all.iter().collect::<Vec<_>>()
            } else {
                many.to_vec()
            };
            Err(Error::Mismatch(format!(
                "{query:?} matches several Jira users: {} (hint: use the email or account id)",
                list.iter()
                    .map(|u| u.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
}

fn is_rich_text(def: &FieldDef, schema: &FieldSchema) -> bool {
    schema.custom.as_deref() == Some(TEXTAREA)
        || matches!(
            schema.system.as_deref(),
            Some("description" | "environment")
        )
        || matches!(def.id.as_str(), "description" | "environment")
}

/// The allowed option whose value matches `text` case-insensitively (sent with Jira's spelling).
fn allowed_value(def: &FieldDef, allowed: Option<&FieldMeta>, text: &str) -> Result<String, Error> {
    let Some(meta) = allowed.filter(|m| !m.allowed_values.is_empty()) else {
        return Ok(text.to_owned());
    };
    let values: Vec<&str> = meta
        .allowed_values
        .iter()
        .filter_map(|v| v.get("value").and_then(Json::as_str))
        .collect();
    values
        .iter()
        .find(|v| v.eq_ignore_ascii_case(text.trim()))
        .map(|v| (*v).to_owned())
        .ok_or_else(|| {
            Error::Mismatch(format!(
                "{text:?} is not an option of field {:?} ({}); allowed: {}",
                def.name,
                def.id,
                values.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_user_is_picked_only_by_an_exact_match() {
        let user = |name: &str, email: &str| -> super::User {
            serde_json::from_value(serde_json::json!({
                "accountId": format!("id-{name}"), "displayName": name, "emailAddress": email
            }))
            .unwrap()
        };
        let ann = user("Ann Approver", "ann@example.com");
        let anna = user("Anna Other", "anna@example.com");
        let both = [ann.clone(), anna.clone()];
        assert_eq!(
            super::pick_user(&both, "ANN@example.com")
                .unwrap()
                .display_name,
            ann.display_name
        );
        let one = super::pick_user(&[anna], "Ann").unwrap_err().to_string();
        assert!(
            one.contains("no Jira user is exactly \"Ann\"; did you mean Anna Other"),
            "{one}"
        );
        let several = super::pick_user(&both, "an").unwrap_err().to_string();
        assert!(several.contains("matches several Jira users"), "{several}");
        let none = super::pick_user(&[], "x").unwrap_err().to_string();
        assert!(none.contains("no Jira user matches \"x\""), "{none}");
    }

    use super::*;

    fn def(
        id: &str,
        name: &str,
        kind: &str,
        items: Option<&str>,
        custom: Option<&str>,
    ) -> FieldDef {
        FieldDef {
            id: id.into(),
            name: name.into(),
            schema: Some(FieldSchema {
                kind: kind.into(),
                items: items.map(Into::into),
                system: None,
                custom: custom.map(Into::into),
            }),
        }
    }

    #[test]
    fn resolves_by_id_then_name_and_lists_candidates() {
        let catalog = Catalog::new(vec![
            def("summary", "Summary", "string", None, None),
            def("customfield_10050", "Change risk", "option", None, None),
            def("customfield_1", "Team", "string", None, None),
            def("customfield_2", "Team", "string", None, None),
        ]);
        assert_eq!(
            catalog.resolve("customfield_10050").unwrap().name,
            "Change risk"
        );
        assert_eq!(
            catalog.resolve("change RISK").unwrap().id,
            "customfield_10050"
        );
        let err = catalog.resolve("Change rsik").unwrap_err().to_string();
        assert!(
            err.contains("closest: Change risk (customfield_10050)"),
            "{err}"
        );
        let err = catalog.resolve("Team").unwrap_err().to_string();
        assert!(
            err.contains("names 2 fields: customfield_1, customfield_2"),
            "{err}"
        );
    }

    #[test]
    fn the_approvals_field_is_found_by_its_jsm_type_not_its_name() {
        let catalog = Catalog::new(vec![
            def("customfield_1", "Approvals", "string", None, None),
            def(
                "customfield_10062",
                "Freigaben",
                "sd-approvals",
                None,
                Some("com.atlassian.servicedesk.approvals-plugin:sd-approvals"),
            ),
        ]);
        assert_eq!(catalog.approvals_field(), Some("customfield_10062"));
        // A site without JSM has no such field.
        let plain = Catalog::new(vec![def(
            "customfield_1",
            "Approvals",
            "array",
            Some("string"),
            Some("com.atlassian.jira.plugin.system.customfieldtypes:labels"),
        )]);
        assert_eq!(plain.approvals_field(), None);
    }

    /// A client that is never asked anything over the network (`api` set, so no `serverInfo`).
    fn offline(api: crate::jira::ApiChoice) -> JiraClient {
        let config = crate::jira::ClientConfig {
            url: "https://jira.example.com".into(),
            auth: crate::jira::Auth::Pat {
                token: crate::secret::Secret::new("t"),
            },
            api,
            ca_file: None,
            request_timeout: std::time::Duration::from_secs(5),
            connect_budget: std::time::Duration::from_secs(5),
            site_url: None,
            markup: crate::markup::Markup::Plain,
        };
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        JiraClient::new(&config, deadline).unwrap()
    }

    #[tokio::test]
    async fn each_kind_of_field_gets_the_json_jira_takes_for_it() {
        let client = offline(crate::jira::ApiChoice::V3);
        let text = |t: &str| Value::String(t.into());
        let number = |n: i64| Value::Number(n.into());
        let textarea = "com.atlassian.jira.plugin.system.customfieldtypes:textarea";
        for (kind, custom, value, want) in [
            ("number", None, text(" 2.5 "), json!(2.5)),
            ("number", None, number(3), json!(3)),
            ("date", None, text(" 2026-12-05 "), json!("2026-12-05")),
            ("priority", None, text("High"), json!({"name": "High"})),
            ("version", None, text("1.4"), json!({"name": "1.4"})),
            ("project", None, text("OPS"), json!({"key": "OPS"})),
            (
                "datetime",
                None,
                text("2026-12-05T02:00:00+01:00"),
                json!("2026-12-05T01:00:00.000+0000"),
            ),
            ("string", None, text("one line\n"), json!("one line")),
            (
                "string",
                Some(textarea),
                text("notes"),
                json!({"type": "doc", "version": 1, "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": "notes"}]}
                ]}),
            ),
            ("any", None, number(7), json!(7)),
        ] {
            let field = def("customfield_1", "F", kind, None, custom);
            assert_eq!(
                shape(&client, &field, &value, None).await.unwrap(),
                want,
                "{kind} {custom:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_value_that_does_not_fit_its_field_is_refused_with_what_it_needs() {
        let client = offline(crate::jira::ApiChoice::V3);
        for (kind, value, needs) in [
            ("number", "many", "needs a number"),
            ("date", "2026-12-5", "needs a date written YYYY-MM-DD"),
            ("date", "2026-13-05", "needs a date written YYYY-MM-DD"),
            (
                "date",
                "2026-12-05T10:00",
                "needs a date written YYYY-MM-DD",
            ),
            ("datetime", "soon", "needs RFC 3339"),
        ] {
            let field = def("customfield_1", "F", kind, None, None);
            let err = shape(&client, &field, &Value::String(value.into()), None)
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains(needs), "{kind} {value}: {err}");
        }
    }

    #[tokio::test]
    async fn a_user_field_takes_the_account_id_on_cloud_and_the_username_on_data_center() {
        let users = json!([{"accountId": "5b10a", "name": "ann", "displayName": "Ann Approver",
                            "emailAddress": "ann@example.com"}]);
        let jira =
            crate::jsm::scripted::Jira::start(vec![("GET", "/rest/api/2/user/search", 200, users)])
                .await;
        let field = def("assignee", "Assignee", "user", None, None);
        let ann = Value::String("ann@example.com".into());
        assert_eq!(
            shape(&jira.client(), &field, &ann, None).await.unwrap(),
            json!({"name": "ann"})
        );
        assert_eq!(
            jira.seen(),
            ["GET /rest/api/2/user/search?username=ann%40example.com"]
        );
    }

    #[tokio::test]
    async fn each_element_of_a_list_field_is_shaped_as_its_items_are() {
        let client = offline(crate::jira::ApiChoice::V2);
        let field = def(
            "customfield_10054",
            "Environments",
            "array",
            Some("option"),
            None,
        );
        let value = Value::List(vec![
            Value::String("staging".into()),
            Value::String("production".into()),
        ]);
        assert_eq!(
            shape(&client, &field, &value, None).await.unwrap(),
            json!([{"value": "staging"}, {"value": "production"}])
        );
    }

    #[test]
    fn option_values_take_jiras_spelling() {
        let field = def("customfield_10050", "Change risk", "option", None, None);
        let meta = FieldMeta {
            field_id: Some("customfield_10050".into()),
            key: None,
            name: "Change risk".into(),
            required: false,
            has_default_value: false,
            schema: None,
            allowed_values: vec![
                json!({"value": "Low", "id": "1"}),
                json!({"value": "High", "id": "2"}),
            ],
        };
        assert_eq!(allowed_value(&field, Some(&meta), "low").unwrap(), "Low");
        let err = allowed_value(&field, Some(&meta), "Huge")
            .unwrap_err()
            .to_string();
        assert!(err.contains("allowed: Low, High"), "{err}");
        assert_eq!(allowed_value(&field, None, "anything").unwrap(), "anything");
    }
}
