//! The requests jira-gate sends, checked against Atlassian's Jira Cloud OpenAPI spec in
//! `../shared/jira/fixtures/atlassian-openapi/` (beside the clone in CI; when it is absent this
//! says so in one line and checks nothing else, except under `CI=true`, where that fails).
//!
//! Every request of a full run (method, path, query parameters) must be an operation of the spec
//! that is not deprecated, and every write body (`--dry-run` prints them) must fit the operation's
//! request schema, with rich text as valid Atlassian Document Format.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use common::SandboxProc;
use common::run::Workdir;
use serde_json::Value;

fn spec() -> Option<Value> {
    let path = common::fixtures::shared_fixtures("conformance_client")?
        .join("atlassian-openapi/swagger-v3.v3.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(serde_json::from_str(&text).expect("the spec is JSON"))
}

/// The spec operation for a concrete path (`/rest/api/3/issue/OPS-1` → `/rest/api/3/issue/{issueIdOrKey}`).
fn operation<'a>(spec: &'a Value, method: &str, path: &str) -> Option<(&'a str, &'a Value)> {
    let wanted: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let paths = spec["paths"].as_object().unwrap();
    let mut best: Option<(&str, &Value, usize)> = None;
    for (template, item) in paths {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != wanted.len() {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&wanted).all(|(t, w)| {
            if t.starts_with('{') {
                true
            } else {
                literal += 1;
                t == w
            }
        });
        if fits && best.is_none_or(|(_, _, l)| literal > l) {
            if let Some(op) = item.get(method.to_lowercase()) {
                best = Some((template.as_str(), op, literal));
            }
        }
    }
    best.map(|(t, op, _)| (t, op))
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            &spec["components"]["schemas"][name]
        }
        None => schema,
    }
}

const CONNECTION: &str = "jira:\n  url: ${JIRA_URL}\n  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n";
const FIELDS: &str = "  fields:\n    Priority: High\n    Change risk: Low\n    Approvers: [alice@example.com]\n    Risk score: 7\n    Environments: [staging]\n    Deployment notes: |\n      first line\n      see https://ci.example.com/p/1\n\n      second paragraph\n    duedate: 2026-12-24\n";

/// Every request of real runs (create with fields, dedupe, transition, comment, wait, changelog;
/// update by key) is a documented, non-deprecated operation with documented query parameters.
#[test]
fn every_request_is_a_documented_operation() {
    let Some(spec) = spec() else { return };
    let sandbox = SandboxProc::cloud(&["--approve-after", "1s"]);
    let create = format!(
        "{CONNECTION}ticket:\n  project: OPS\n  type: Change\n  summary: Deploy\n  description: Pipeline waits\n  labels: [deploy]\n{FIELDS}  dedupe: run-1\n  transition: Request approval\n  comment: waiting\napproval:\n  approve_when: {{ field: Change risk, equals: Low, status: Approved, jql: 'labels = deploy' }}\n  interval: 1s\n  max_interval: 1s\n  timeout: 20s\n"
    );
    let run = Workdir::new().gate(&sandbox, &create, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let update = format!(
        "{CONNECTION}ticket:\n  key: OPS-1\n  summary: Updated\n  labels: [again]\n  comment: again\n"
    );
    let run = Workdir::new().gate(&sandbox, &update, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // `check` too: it asks Cloud to parse the `jql` criterion (issue 9).
    let work = Workdir::new();
    work.write("step.yml", &create);
    let run = work.run(work.command_for(&sandbox).args(["check", "step.yml"]));
    assert_eq!(run.code, 0, "{}", run.stderr);

    let requests = sandbox.requests();
    assert!(requests.len() >= 10, "{requests:?}");
    for path in ["/rest/api/3/search/jql", "/rest/api/3/jql/parse"] {
        assert!(requests.iter().any(|r| r["path"] == path), "{path}");
    }
    for request in requests {
        let method = request["method"].as_str().unwrap();
        // REST v2 has the same operations as v3 on Cloud (only rich text differs).
        let path = request["path"]
            .as_str()
            .unwrap()
            .replacen("/rest/api/2/", "/rest/api/3/", 1);
        let (template, op) = operation(&spec, method, &path)
            .unwrap_or_else(|| panic!("{method} {path} is not in the spec"));
        assert_ne!(op["deprecated"], true, "{method} {template} is deprecated");
        let declared: Vec<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        let query = request["query"].as_str().unwrap_or_default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let name = pair.split('=').next().unwrap();
            assert!(
                declared.contains(&name),
                "{method} {template}: query parameter {name} is not documented ({declared:?})"
            );
        }
    }
}

/// The write bodies fit the request schemas, and rich text is valid ADF.
#[test]
#[allow(clippy::too_many_lines)] // one scenario: every write of one run, checked in order
fn write_bodies_fit_the_schemas() {
    let Some(spec) = spec() else { return };
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Existing", &[]);
    let create = format!(
        "{CONNECTION}ticket:\n  project: OPS\n  type: Change\n  summary: Deploy\n  description: |\n    Pipeline https://ci.example.com/p/1 waits.\n    Line two\n\n    Para two\n  labels: [deploy]\n{FIELDS}  dedupe: run-2\n"
    );
    let update = format!(
        "{CONNECTION}ticket:\n  key: {key}\n  summary: Updated\n  description: new text\n  labels: [more]\n{FIELDS}  comment: \"Waiting: https://ci.example.com/p/2\"\n  transition: Start progress\n"
    );
    let mut bodies = Vec::new();
    for stanza in [create, update] {
        let run = Workdir::new().gate(&sandbox, &stanza, &["--dry-run"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        bodies.extend(
            run.stdout
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    let methods: Vec<String> = bodies
        .iter()
        .map(|b| {
            format!(
                "{} {}",
                b["method"].as_str().unwrap(),
                b["url"]
                    .as_str()
                    .unwrap()
                    .rsplit("/rest/api/3/")
                    .next()
                    .unwrap()
            )
        })
        .collect();
    assert_eq!(
        methods,
        [
            "POST issue",
            format!("PUT issue/{key}").as_str(),
            // The comment rides in the transition's `update.comment` (issue 12).
            format!("POST issue/{key}/transitions").as_str()
        ]
    );
    for body in &bodies {
        let path = body["url"]
            .as_str()
            .unwrap()
            .split_once("/rest/")
            .map(|(_, p)| format!("/rest/{p}"))
            .unwrap();
        let method = body["method"].as_str().unwrap();
        let (template, op) = operation(&spec, method, &path).unwrap();
        let schema = resolve(
            &spec,
            &op["requestBody"]["content"]["application/json"]["schema"],
        );
        let properties = schema["properties"].as_object().unwrap();
        let sent = body["body"].as_object().unwrap();
        for (name, value) in sent {
            let property = resolve(
                &spec,
                properties.get(name).unwrap_or_else(|| {
                    panic!("{method} {template}: `{name}` is not in the schema")
                }),
            );
            if property["type"] == "object" {
                assert!(value.is_object(), "{template}: `{name}` must be an object");
            }
        }
        if let Some(update) = sent.get("update") {
            for (field, operations) in update.as_object().unwrap() {
                for operation in operations.as_array().unwrap() {
                    for verb in operation.as_object().unwrap().keys() {
                        assert!(
                            ["add", "set", "remove", "edit", "copy"].contains(&verb.as_str()),
                            "update.{field}: {verb}"
                        );
                    }
                }
            }
            let fields = sent.get("fields").and_then(Value::as_object);
            for field in update.as_object().unwrap().keys() {
                assert!(
                    !fields.is_some_and(|f| f.contains_key(field)),
                    "{field} in both fields and update (Jira answers 400)"
                );
            }
        }
        if let Some(transition) = sent.get("transition") {
            assert!(
                transition["id"].is_string(),
                "transition ids are strings: {transition}"
            );
        }
        for rich in [
            sent.get("body"),
            sent.get("fields").and_then(|f| f.get("description")),
            sent.get("fields").and_then(|f| f.get("customfield_10051")),
            body["body"].pointer("/update/comment/0/add/body"),
        ]
        .into_iter()
        .flatten()
        {
            assert_adf(rich);
        }
    }
    let create = &bodies[0]["body"]["fields"];
    assert_eq!(create["project"], serde_json::json!({"key": "OPS"}));
    assert!(create["issuetype"]["id"].is_string());
    assert_eq!(
        create["customfield_10050"],
        serde_json::json!({"value": "Low"})
    );
    assert!(
        create["customfield_10052"][0]["accountId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(create["customfield_10053"], 7);
    assert!(
        create["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "jira-gate-run-2")
    );
}

/// A minimal ADF check: the document shape, node types jira-gate emits, no empty text nodes,
/// link marks with an href.
fn assert_adf(doc: &Value) {
    assert_eq!(doc["type"], "doc", "{doc}");
    assert_eq!(doc["version"], 1, "{doc}");
    for block in doc["content"].as_array().expect("content") {
        assert_eq!(block["type"], "paragraph", "{block}");
        for inline in block["content"].as_array().expect("paragraph content") {
            match inline["type"].as_str().unwrap() {
                "text" => {
                    assert!(
                        !inline["text"].as_str().unwrap().is_empty(),
                        "ADF forbids empty text nodes: {doc}"
                    );
                    for mark in inline["marks"].as_array().into_iter().flatten() {
                        assert_eq!(mark["type"], "link");
                        assert!(mark["attrs"]["href"].as_str().unwrap().starts_with("http"));
                    }
                }
                "hardBreak" => assert!(inline.get("text").is_none()),
                other => panic!("unexpected inline node {other}"),
            }
        }
    }
}
