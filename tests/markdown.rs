//! End to end, `ticket.markup` (issue 9): a Markdown description and comment written by the
//! binary, read back from the sandbox as ADF nodes (Cloud, REST v3, checked against Atlassian's
//! ADF JSON schema) and as wiki markup (Data Center, REST v2); `markup: plain` as before;
//! `--dry-run` printing the converted body; the sandbox refusing a document the schema forbids.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use common::SandboxProc;
use common::run::{Run, Workdir};
use serde_json::{Value, json};

/// Every construct issue 9 names, once.
const MARKDOWN: &str = r"## What changes

Checkout gets **faster**, *calmer*, ~~slower~~ and `cached` ([PR 812](https://git.example.com/pr/812)).
First line  
second line

```yaml
replicas: 3
```

- web
  - api
    1. step one
    2. step two
- worker

3. third
4. fourth

> Rolled back by `make undo`.

| Service | Version |
| ------- | ------- |
| web     | 1.4.2   |

---

Pipeline https://ci.example.com/p/1 waits.
";

/// The wiki markup of [`MARKDOWN`], as Data Center stores it.
const WIKI: &str = "h2. What changes\n\n\
Checkout gets *faster*, _calmer_, -slower- and {{cached}} ([PR 812|https://git.example.com/pr/812]).\nFirst line\nsecond line\n\n\
{code:yaml}\nreplicas: 3\n{code}\n\n\
* web\n** api\n**# step one\n**# step two\n* worker\n\n\
# third\n# fourth\n\n\
bq. Rolled back by {{make undo}}.\n\n\
||Service||Version||\n|web|1.4.2|\n\n\
----\n\n\
Pipeline https://ci.example.com/p/1 waits.";

const COMMENT: &str = "Waiting for **approval**: [pipeline](https://ci.example.com/p/1)";

fn stanza(sandbox: &SandboxProc, markup: &str) -> String {
    let auth = if sandbox.datacenter {
        "{ type: pat, token: '${JIRA_PAT}' }"
    } else {
        "{ type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }"
    };
    let description = MARKDOWN.lines().fold(String::new(), |mut out, line| {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
        out
    });
    format!(
        "jira:\n  url: ${{JIRA_URL}}\n  auth: {auth}\n  request_timeout: 5s\n\
         ticket:\n  project: OPS\n  type: Change\n  summary: Deploy web 1.4.2\n{markup}  \
         comment: \"{COMMENT}\"\n  description: |\n{description}"
    )
}

/// Runs the step (no approval section: it writes and exits 0) and checks what every run shows.
fn write(sandbox: &SandboxProc, markup: &str, extra: &[&str]) -> Run {
    let run = Workdir::new().gate(sandbox, &stanza(sandbox, markup), extra);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.field("decision"), "written", "{}", run.result_text);
    if extra.contains(&"--dry-run") {
        assert!(run.stderr.contains("dry run: would POST"), "{}", run.stderr);
    } else {
        assert_eq!(run.field("issue_key"), "OPS-1", "{}", run.result_text);
        assert!(run.stderr.contains("created OPS-1"), "{}", run.stderr);
        assert!(run.stderr.contains("commented on OPS-1"), "{}", run.stderr);
    }
    assert!(
        run.stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("jira-gate: ")),
        "the summary line ends stderr: {}",
        run.stderr
    );
    run
}

/// The issue's description and its comments' bodies, as the flavor's main API returns them.
fn read_back(sandbox: &SandboxProc) -> (Value, Vec<Value>) {
    let api = sandbox.api();
    let issue = sandbox.get_json(
        &format!("{api}/issue/OPS-1?fields=description,comment"),
        200,
    );
    let comments = issue["fields"]["comment"]["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| c["body"].clone())
        .collect();
    (issue["fields"]["description"].clone(), comments)
}

/// Every node of an ADF document, depth first.
fn nodes(doc: &Value) -> Vec<&Value> {
    let mut out = vec![doc];
    for child in doc["content"].as_array().into_iter().flatten() {
        out.extend(nodes(child));
    }
    out
}

fn of_type<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    nodes(doc)
        .into_iter()
        .filter(|n| n["type"] == kind)
        .collect()
}

/// The text node with exactly `text`.
fn text_node<'a>(doc: &'a Value, text: &str) -> &'a Value {
    nodes(doc)
        .into_iter()
        .find(|n| n["type"] == "text" && n["text"] == text)
        .unwrap_or_else(|| panic!("no text node {text:?} in {doc:#}"))
}

fn schema_valid(doc: &Value) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/jira/fixtures/adf-schema/full.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[test]
fn markdown_becomes_adf_nodes_on_cloud() {
    let sandbox = SandboxProc::cloud(&[]);
    write(&sandbox, "", &[]);

    let (doc, comments) = read_back(&sandbox);
    schema_valid(&doc);
    let heading = of_type(&doc, "heading");
    assert_eq!(heading[0]["attrs"]["level"], 2);
    assert_eq!(heading[0]["content"][0]["text"], "What changes");
    for (text, mark) in [
        ("faster", "strong"),
        ("calmer", "em"),
        ("slower", "strike"),
        ("cached", "code"),
    ] {
        assert_eq!(text_node(&doc, text)["marks"], json!([{"type": mark}]));
    }
    assert_eq!(
        text_node(&doc, "PR 812")["marks"],
        json!([{"type": "link", "attrs": {"href": "https://git.example.com/pr/812"}}])
    );
    assert_eq!(
        text_node(&doc, "https://ci.example.com/p/1")["marks"][0]["attrs"]["href"],
        "https://ci.example.com/p/1"
    );
    assert_eq!(
        of_type(&doc, "hardBreak").len(),
        2,
        "a soft and a hard line break"
    );
    let code = of_type(&doc, "codeBlock");
    assert_eq!(code[0]["attrs"]["language"], "yaml");
    assert_eq!(code[0]["content"][0]["text"], "replicas: 3");

    let bullets = of_type(&doc, "bulletList");
    assert_eq!(bullets.len(), 2, "a list and the list nested in it");
    assert_eq!(bullets[0]["content"].as_array().unwrap().len(), 2);
    let ordered = of_type(&doc, "orderedList");
    assert_eq!(ordered.len(), 2);
    assert_eq!(ordered[0]["attrs"]["order"], 1);
    assert_eq!(
        of_type(bullets[1], "orderedList").len(),
        1,
        "nested three deep"
    );
    assert_eq!(
        ordered[1]["attrs"]["order"], 3,
        "an ordered list keeps its start"
    );
    assert_eq!(ordered[1]["content"].as_array().unwrap().len(), 2);

    let quote = of_type(&doc, "blockquote");
    assert_eq!(quote[0]["content"][0]["type"], "paragraph");
    assert_eq!(text_node(quote[0], "make undo")["marks"][0]["type"], "code");

    let table = of_type(&doc, "table");
    let rows = table[0]["content"].as_array().unwrap();
    assert_eq!(rows[0]["content"][0]["type"], "tableHeader");
    assert_eq!(rows[1]["content"][1]["type"], "tableCell");
    assert_eq!(
        rows[1]["content"][1]["content"][0]["content"][0]["text"],
        "1.4.2"
    );
    assert_eq!(of_type(&doc, "rule").len(), 1);

    assert_eq!(comments.len(), 1);
    schema_valid(&comments[0]);
    assert_eq!(
        text_node(&comments[0], "approval")["marks"],
        json!([{"type": "strong"}])
    );
    assert_eq!(
        text_node(&comments[0], "pipeline")["marks"][0]["attrs"]["href"],
        "https://ci.example.com/p/1"
    );
}

#[test]
fn markdown_becomes_wiki_markup_on_data_center() {
    let sandbox = SandboxProc::datacenter(&[]);
    write(&sandbox, "  markup: markdown\n", &[]);
    let (description, comments) = read_back(&sandbox);
    assert_eq!(description, WIKI);
    assert_eq!(
        comments,
        [json!(
            "Waiting for *approval*: [pipeline|https://ci.example.com/p/1]"
        )]
    );
}

#[test]
fn plain_markup_sends_the_text_as_written() {
    let cloud = SandboxProc::cloud(&[]);
    write(&cloud, "  markup: plain\n", &[]);
    let (doc, comments) = read_back(&cloud);
    schema_valid(&doc);
    assert!(of_type(&doc, "heading").is_empty(), "{doc:#}");
    assert!(of_type(&doc, "table").is_empty(), "{doc:#}");
    assert_eq!(text_node(&doc, "## What changes")["type"], "text");
    assert_eq!(
        comments[0]["content"][0]["content"][0]["text"], "Waiting for **approval**: [pipeline](",
        "plain text keeps the Markdown signs; only the bare URL is linked"
    );

    let dc = SandboxProc::datacenter(&[]);
    write(&dc, "  markup: plain\n", &[]);
    let (description, comments) = read_back(&dc);
    assert_eq!(description, MARKDOWN.trim_end());
    assert_eq!(comments, [json!(COMMENT)]);
}

#[test]
fn dry_run_prints_the_converted_body() {
    for sandbox in [SandboxProc::cloud(&[]), SandboxProc::datacenter(&[])] {
        let run = write(&sandbox, "", &["--dry-run"]);
        let create: Value = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
        assert_eq!(create["method"], "POST");
        let description = &create["body"]["fields"]["description"];
        if sandbox.datacenter {
            assert_eq!(description, WIKI);
        } else {
            schema_valid(description);
            assert_eq!(of_type(description, "table").len(), 1);
            assert_eq!(
                of_type(description, "codeBlock")[0]["attrs"]["language"],
                "yaml"
            );
        }
        assert_eq!(sandbox.issues().len(), 0, "a dry run writes nothing");
    }
}

#[test]
fn the_sandbox_refuses_adf_the_schema_forbids() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = sandbox.create("Existing", &[]);
    let heading_in_quote = json!({"type": "doc", "version": 1, "content": [
        {"type": "blockquote", "content": [
            {"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "no"}]}]}]});
    let (status, body) = sandbox.send(
        "PUT",
        &format!("/rest/api/3/issue/{key}"),
        &json!({"fields": {"description": heading_in_quote}}),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"errorMessages": [], "errors": {"description": "The field value is not valid Atlassian Document Format (ADF) content."}})
    );
    let empty_text = json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": ""}]}]});
    let (status, body) = sandbox.send(
        "POST",
        &format!("/rest/api/3/issue/{key}/comment"),
        &json!({"body": empty_text}),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["comment"],
        "The field value is not valid Atlassian Document Format (ADF) content."
    );
    // A valid document is stored as sent and read back on v3.
    let doc = json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": "kept"}]}]});
    let (status, _) = sandbox.send(
        "PUT",
        &format!("/rest/api/3/issue/{key}"),
        &json!({"fields": {"description": doc}}),
    );
    assert_eq!(status, 204);
    let issue = sandbox.get_json(&format!("/rest/api/3/issue/{key}"), 200);
    assert_eq!(issue["fields"]["description"], doc);
    let v2 = sandbox.get_json(&format!("/rest/api/2/issue/{key}"), 200);
    assert_eq!(v2["fields"]["description"], "kept");
}
