//! Atlassian Document Format, the sandbox's own: the text of a document a client sent, and a
//! document for a stored text. Written here rather than shared with jira-gate, so that the test
//! double checks the client's ADF independently.

use serde_json::{Value, json};

/// Extracts the text of an ADF document; `None` when `v` is not one.
pub(super) fn adf_text(v: &Value) -> Option<String> {
    pub(super) fn walk(v: &Value, out: &mut String) {
        if let Some(t) = v.get("text").and_then(Value::as_str) {
            out.push_str(t);
        }
        if v.get("type").and_then(Value::as_str) == Some("hardBreak") {
            out.push('\n');
        }
        if let Some(children) = v.get("content").and_then(Value::as_array) {
            for (i, c) in children.iter().enumerate() {
                let block = c.get("content").is_some() && v.get("type") == Some(&json!("doc"));
                if block && i > 0 {
                    out.push('\n');
                }
                walk(c, out);
            }
        }
    }
    let obj = v.as_object()?;
    if obj.get("type")? != "doc" || !obj.get("content")?.is_array() {
        return None;
    }
    let mut out = String::new();
    walk(v, &mut out);
    Some(out)
}

/// Renders text as an ADF document, one paragraph per line.
pub(super) fn adf(text: &str) -> Value {
    let content: Vec<Value> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n')
            .map(|line| {
                if line.is_empty() {
                    json!({"type": "paragraph", "content": []})
                } else {
                    json!({"type": "paragraph", "content": [{"type": "text", "text": line}]})
                }
            })
            .collect()
    };
    json!({"type": "doc", "version": 1, "content": content})
}
