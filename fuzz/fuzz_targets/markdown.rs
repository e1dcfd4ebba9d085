//! Arbitrary text as `ticket.markup: markdown` (issue 9): converting it to ADF and to wiki markup
//! never panics, the ADF is valid against Atlassian's ADF JSON schema, and the ADF renderer loses
//! no text the Markdown parser found (the schema's narrower places reshape, never drop, text).
#![no_main]

use std::sync::LazyLock;

use jira_gate::markup::{adf, parse, plain_text, wiki};
use libfuzzer_sys::fuzz_target;

static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: serde_json::Value = serde_json::from_str(include_str!(
        "../../../shared/jira/fixtures/adf-schema/full.json"
    ))
    .expect("the ADF schema is JSON");
    jsonschema::validator_for(&schema).expect("the ADF schema compiles")
});

/// The text without whitespace and `|` (a table in a list item becomes `a | b` paragraphs).
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '|')
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let doc = adf::from_markdown(&text);
    if let Some(error) = SCHEMA.iter_errors(&doc).next() {
        panic!("invalid ADF for {text:?}: {error}\n{doc:#}");
    }
    // What Jira reads back must parse within serde_json's default depth.
    let sent = serde_json::to_string(&doc).expect("ADF serializes");
    serde_json::from_str::<serde_json::Value>(&sent).expect("ADF parses back");
    assert_eq!(
        squeeze(&jira_gate::adf::to_text(&doc)),
        squeeze(&plain_text(&parse(&text))),
        "text lost for {text:?}"
    );
    let _ = wiki::from_markdown(&text);
});
