//! Keeps the sandbox honest: its bodies must have the shapes of real Jira bodies (the fixtures in
//! `../shared/jira/fixtures/jira-cli`) and of Atlassian's `OpenAPI` document.
//!
//! Shapes, not values: every key a fixture has must be in ours with the same JSON type,
//! recursively. When the shared folder is absent (a user's clone) the tests say so and pass; under
//! `CI=true` they fail instead.

mod common;

use std::path::PathBuf;

use common::TestSandbox;
use serde_json::{Value, json};

fn fixtures() -> Option<PathBuf> {
    common::fixtures::shared_fixtures("conformance")
}

fn fixture(dir: &std::path::Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join("jira-cli").join(name)).expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where `ours` lacks a key of `real` or has another type. A `null` on either side matches
/// anything (Jira nulls optional values); arrays compare their first elements.
fn shape_gaps(real: &Value, ours: &Value, path: &str, gaps: &mut Vec<String>) {
    if real.is_null() || ours.is_null() {
        return;
    }
    if kind(real) != kind(ours) {
        gaps.push(format!(
            "{path}: Jira has {}, sandbox has {}",
            kind(real),
            kind(ours)
        ));
        return;
    }
    match (real, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, rv) in r {
                match o.get(k) {
                    Some(ov) => shape_gaps(rv, ov, &format!("{path}.{k}"), gaps),
                    None => gaps.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            if let (Some(rv), Some(ov)) = (r.first(), o.first()) {
                shape_gaps(rv, ov, &format!("{path}[0]"), gaps);
            }
        }
        _ => {}
    }
}

fn assert_shape(real: &Value, ours: &Value, what: &str) {
    let mut gaps = Vec::new();
    shape_gaps(real, ours, what, &mut gaps);
    assert!(
        gaps.is_empty(),
        "{what} differs from Jira's shape:\n{}\nours: {ours}",
        gaps.join("\n")
    );
}

fn seeded(sb: &TestSandbox) -> String {
    let v3 = sb.api() == "/rest/api/3";
    let description = if v3 {
        json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "d"}]}]})
    } else {
        json!("d")
    };
    let (s, v) = sb.send(
        "POST",
        &format!("{}/issue", sb.api()),
        &json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Change"}, "summary": "Bug summary",
                "description": description, "labels": ["critical"], "priority": {"name": "Medium"}}}),
    );
    assert_eq!(s, 201, "{v}");
    v["key"].as_str().unwrap().to_owned()
}

#[test]
// One shape check per body, both flavors side by side; split, the pairs would drift apart.
#[allow(clippy::too_many_lines)]
fn bodies_have_the_shapes_of_real_jira() {
    let Some(dir) = fixtures() else { return };
    let cloud = TestSandbox::cloud(&[]);
    let dc = TestSandbox::datacenter(&[]);
    let serverinfo = fixture(&dir, "serverinfo.json");
    assert_shape(
        &serverinfo,
        &cloud.get_json("/rest/api/2/serverInfo", 200),
        "cloud serverInfo",
    );
    assert_shape(
        &serverinfo,
        &dc.get_json("/rest/api/2/serverInfo", 200),
        "dc serverInfo",
    );
    let myself = fixture(&dir, "myself.json");
    assert_shape(
        &myself,
        &cloud.get_json("/rest/api/3/myself", 200),
        "cloud myself",
    );
    assert_shape(
        &myself,
        &dc.get_json("/rest/api/2/myself", 200),
        "dc myself",
    );

    // Each fixture field against the sandbox field of the same sort.
    let fields = cloud.get_json("/rest/api/3/field", 200);
    let ours = |id: &str| {
        fields
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap()
    };
    for (real, mine) in fixture(&dir, "fields.json")
        .as_array()
        .unwrap()
        .iter()
        .zip(["components", "customfield_10053", "summary"])
    {
        assert_shape(
            real,
            &ours(mine),
            &format!("field {mine} vs {}", real["id"]),
        );
    }

    let key = seeded(&cloud);
    assert_shape(
        &fixture(&dir, "transitions.json"),
        &cloud.get_json(&format!("/rest/api/3/issue/{key}/transitions"), 200),
        "transitions",
    );
    assert_shape(
        &fixture(&dir, "issue.json"),
        &cloud.get_json(&format!("/rest/api/3/issue/{key}"), 200),
        "v3 issue",
    );
    assert_shape(
        &fixture(&dir, "issue-2.json"),
        &cloud.get_json(&format!("/rest/api/2/issue/{key}"), 200),
        "v2 issue",
    );
    let dc_key = seeded(&dc);
    assert_shape(
        &fixture(&dir, "issue-2.json"),
        &dc.get_json(&format!("/rest/api/2/issue/{dc_key}"), 200),
        "dc issue",
    );

    let mut search = fixture(&dir, "search.json");
    // `expand` echoes a request parameter; Atlassian's SearchAndReconcileResults has no such key.
    search.as_object_mut().unwrap().remove("expand");
    let fields_param = "issuetype,resolution,created,priority,labels,assignee,updated,status,summary,reporter,watches";
    let ours = cloud.get_json(
        &format!("/rest/api/3/search/jql?jql=project%3DOPS&fields={fields_param}"),
        200,
    );
    assert_shape(&search, &ours, "search/jql");

    assert_shape(
        &fixture(&dir, "createmetav9.json"),
        &dc.get_json("/rest/api/2/issue/createmeta/OPS/issuetypes", 200),
        "dc createmeta issuetypes",
    );
}

#[test]
fn shape_check_catches_differences() {
    let mut gaps = Vec::new();
    shape_gaps(
        &json!({"a": 1, "b": {"c": "x"}, "d": [{"e": true}]}),
        &json!({"a": "1", "b": {}, "d": [{"e": 0}]}),
        "$",
        &mut gaps,
    );
    assert_eq!(
        gaps,
        [
            "$.a: Jira has number, sandbox has string",
            "$.b.c: missing",
            "$.d[0].e: Jira has boolean, sandbox has number"
        ]
    );
}

/// Checks `value` against an `OpenAPI` schema: types, declared properties, required keys.
struct OpenApi {
    spec: Value,
}

impl OpenApi {
    fn schema(&self, name: &str) -> &Value {
        &self.spec["components"]["schemas"][name]
    }

    fn resolve<'a>(&'a self, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => self.schema(r.rsplit('/').next().unwrap()),
            None => match s.get("allOf").and_then(Value::as_array) {
                Some(all) if all.len() == 1 => self.resolve(&all[0]),
                _ => s,
            },
        }
    }

    fn check(&self, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if value.is_null() {
            return;
        }
        if let Some(ty) = schema.get("type").and_then(Value::as_str) {
            let ok = match ty {
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                other => kind(value) == other,
            };
            if !ok {
                errors.push(format!("{path}: expected {ty}, got {}", kind(value)));
                return;
            }
        }
        if let (Some(props), Some(obj)) = (
            schema.get("properties").and_then(Value::as_object),
            value.as_object(),
        ) {
            for (k, v) in obj {
                match props.get(k) {
                    Some(p) => self.check(p, v, &format!("{path}.{k}"), errors),
                    None if schema.get("additionalProperties").is_some() => {}
                    None => errors.push(format!("{path}.{k}: not in the schema")),
                }
            }
            for r in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !obj.contains_key(r.as_str().unwrap()) {
                    errors.push(format!("{path}.{r}: required"));
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
            for (i, v) in arr.iter().enumerate() {
                self.check(items, v, &format!("{path}[{i}]"), errors);
            }
        }
    }

    fn assert_valid(&self, name: &str, value: &Value) {
        let mut errors = Vec::new();
        self.check(self.schema(name), value, name, &mut errors);
        assert!(
            errors.is_empty(),
            "{name}:\n{}\nbody: {value}",
            errors.join("\n")
        );
    }

    /// The statuses the spec documents for `method path`.
    fn statuses(&self, path: &str, method: &str) -> Vec<u16> {
        self.spec["paths"][path][method]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .filter_map(|k| k.parse().ok())
            .collect()
    }
}

#[test]
// One schema check per endpoint, in one list; split, it would be harder to see what is covered.
#[allow(clippy::too_many_lines)]
fn answers_match_the_openapi_spec() {
    let Some(dir) = fixtures() else { return };
    let text =
        std::fs::read_to_string(dir.join("atlassian-openapi/swagger-v3.v3.json")).expect("spec");
    let api = OpenApi {
        spec: serde_json::from_str(&text).expect("spec JSON"),
    };
    let mut errors = Vec::new();
    api.check(
        api.schema("CreatedIssue"),
        &json!({"id": 1, "oops": true}),
        "bad",
        &mut errors,
    );
    assert_eq!(
        errors,
        ["bad.id: expected string, got number"],
        "the checker can fail"
    );
    let sb = TestSandbox::cloud(&[]);

    let (s, created) = sb.send(
        "POST",
        "/rest/api/3/issue",
        &json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"id": "10002"}, "summary": "s"}}),
    );
    assert!(api.statuses("/rest/api/3/issue", "post").contains(&s));
    api.assert_valid("CreatedIssue", &created);
    for k in ["id", "key", "self"] {
        assert!(created[k].is_string(), "CreatedIssue.{k}");
    }
    let key = created["key"].as_str().unwrap().to_owned();

    let (s, err) = sb.send(
        "POST",
        "/rest/api/3/issue",
        &json!({"fields": {"summary": ""}}),
    );
    assert_eq!(s, 400);
    assert!(api.statuses("/rest/api/3/issue", "post").contains(&400));
    api.assert_valid("ErrorCollection", &err);

    let transitions = sb.get_json(&format!("/rest/api/3/issue/{key}/transitions"), 200);
    api.assert_valid("Transitions", &transitions);
    let (s, _) = sb.send(
        "POST",
        &format!("/rest/api/3/issue/{key}/transitions"),
        &json!({"transition": {"id": "21"}}),
    );
    assert!(
        api.statuses("/rest/api/3/issue/{issueIdOrKey}/transitions", "post")
            .contains(&s)
    );
    let (s, err) = sb.send(
        "POST",
        &format!("/rest/api/3/issue/{key}/transitions"),
        &json!({"transition": {"id": "99"}}),
    );
    assert_eq!(s, 400);
    api.assert_valid("ErrorCollection", &err);

    let (s, _) = sb.send(
        "PUT",
        &format!("/rest/api/3/issue/{key}"),
        &json!({"fields": {"summary": "t"}}),
    );
    assert!(
        api.statuses("/rest/api/3/issue/{issueIdOrKey}", "put")
            .contains(&s),
        "edit answered {s}"
    );
    let (s, c) = sb.send(
        "POST",
        &format!("/rest/api/3/issue/{key}/comment"),
        &json!({"body": {"type": "doc", "version": 1, "content": []}}),
    );
    assert_eq!(s, 201);
    api.assert_valid("Comment", &c);
    let page = sb.get_json(&format!("/rest/api/3/issue/{key}/changelog"), 200);
    api.assert_valid("PageBeanChangelog", &page);
    let search = sb.get_json(
        "/rest/api/3/search/jql?jql=project%3DOPS&fields=status",
        200,
    );
    api.assert_valid("SearchAndReconcileResults", &search);
    api.assert_valid(
        "ServerInformation",
        &sb.get_json("/rest/api/3/serverInfo", 200),
    );
    for f in sb.get_json("/rest/api/3/field", 200).as_array().unwrap() {
        api.assert_valid("FieldDetails", f);
    }
}

/// The example of a 200 (or 201) answer in Atlassian's Service Management `OpenAPI` document.
fn jsm_example(spec: &Value, path: &str, method: &str) -> Value {
    let responses = &spec["paths"][path][method]["responses"];
    let example = ["200", "201"]
        .iter()
        .find_map(|code| responses[*code]["content"]["application/json"]["example"].as_str())
        .unwrap_or_else(|| panic!("no example for {method} {path}"));
    let mut example: Value = serde_json::from_str(example).expect("example JSON");
    // Paging links are there only when there is a page before or after.
    if let Some(links) = example.get_mut("_links").and_then(Value::as_object_mut) {
        links.remove("next");
        links.remove("prev");
    }
    example
}

#[test]
fn servicedeskapi_bodies_have_the_shapes_of_the_jsm_spec() {
    let Some(dir) = fixtures() else { return };
    let text = std::fs::read_to_string(dir.join("atlassian-openapi/service-management.v3.json"))
        .expect("the JSM OpenAPI document");
    let spec: Value = serde_json::from_str(&text).expect("JSON");
    let sb = TestSandbox::cloud(&[]);
    let (status, created) = sb.send(
        "POST",
        "/rest/servicedeskapi/request",
        &json!({"serviceDeskId": "1", "requestTypeId": "10", "requestFieldValues": {
            "summary": "s", "description": "d", "customfield_10050": {"value": "Low"}}}),
    );
    assert_eq!(status, 201, "{created}");
    let mut request = jsm_example(&spec, "/rest/servicedeskapi/request", "post");
    // The example shows a request with every expansion; a create answers without them.
    for expanded in [
        "serviceDesk",
        "requestType",
        "participants",
        "sla",
        "status",
        "attachments",
        "comments",
        "actions",
    ] {
        request.as_object_mut().unwrap().remove(expanded);
    }
    assert_shape(&request, &created, "POST request");
    for (path, ours) in [
        ("/rest/servicedeskapi/info", "/rest/servicedeskapi/info"),
        (
            "/rest/servicedeskapi/servicedesk",
            "/rest/servicedeskapi/servicedesk",
        ),
        (
            "/rest/servicedeskapi/servicedesk/{serviceDeskId}",
            "/rest/servicedeskapi/servicedesk/CHG",
        ),
        (
            "/rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype",
            "/rest/servicedeskapi/servicedesk/1/requesttype",
        ),
        (
            "/rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype/{requestTypeId}/field",
            "/rest/servicedeskapi/servicedesk/1/requesttype/10/field",
        ),
    ] {
        assert_shape(
            &jsm_example(&spec, path, "get"),
            &sb.get_json(ours, 200),
            ours,
        );
    }
    // An answered approval, with its completedDate (absent while it is pending).
    let r = sb
        .client()
        .post(sb.url("/_sandbox/issues/CHG-1/approval"))
        .json(&json!({"by": "alice", "decision": "decline"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_shape(
        &jsm_example(
            &spec,
            "/rest/servicedeskapi/request/{issueIdOrKey}/approval",
            "get",
        ),
        &sb.get_json("/rest/servicedeskapi/request/CHG-1/approval", 200),
        "approvals",
    );
    assert_shape(
        &jsm_example(
            &spec,
            "/rest/servicedeskapi/request/{issueIdOrKey}/approval/{approvalId}",
            "get",
        ),
        &sb.get_json("/rest/servicedeskapi/request/CHG-1/approval/1", 200),
        "approval",
    );
}
