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

/// Block nodes a document holds.
const BLOCKS: &[&str] = &[
    "paragraph",
    "heading",
    "bulletList",
    "orderedList",
    "taskList",
    "decisionList",
    "blockquote",
    "codeBlock",
    "rule",
    "panel",
    "table",
    "mediaSingle",
    "mediaGroup",
    "blockCard",
    "embedCard",
    "expand",
];
/// Inline nodes a paragraph or heading holds.
const INLINES: &[&str] = &[
    "text",
    "hardBreak",
    "mention",
    "emoji",
    "date",
    "status",
    "inlineCard",
    "placeholder",
    "mediaInline",
];
/// What a list item and a quote hold: the schema keeps headings, quotes, tables and rules out.
const LIST_ITEM: &[&str] = &[
    "paragraph",
    "bulletList",
    "orderedList",
    "taskList",
    "codeBlock",
    "mediaSingle",
];
const QUOTE: &[&str] = &[
    "paragraph",
    "bulletList",
    "orderedList",
    "codeBlock",
    "mediaSingle",
    "mediaGroup",
];
/// What a table cell holds: blocks, but no table.
const CELL: &[&str] = &[
    "paragraph",
    "heading",
    "bulletList",
    "orderedList",
    "taskList",
    "decisionList",
    "blockquote",
    "codeBlock",
    "rule",
    "panel",
    "mediaSingle",
    "mediaGroup",
    "blockCard",
    "embedCard",
];
/// Nodes taken as they are: the sandbox does not look inside them.
const OPAQUE: &[&str] = &[
    "mention",
    "emoji",
    "date",
    "status",
    "inlineCard",
    "placeholder",
    "mediaInline",
    "taskList",
    "decisionList",
    "panel",
    "mediaSingle",
    "mediaGroup",
    "blockCard",
    "embedCard",
    "expand",
];
const MARKS: &[&str] = &[
    "strong",
    "em",
    "strike",
    "code",
    "link",
    "underline",
    "textColor",
    "backgroundColor",
    "subsup",
    "annotation",
];

/// Checks a document against the ADF schema's rules for the nodes Jira clients write (what each
/// node may hold, the minimum of one child where the schema has one, heading levels, non-empty
/// text, known marks, `code` only with `link`), the way Cloud refuses a document that breaks
/// them. The error says where, for the sandbox's own tests.
pub(super) fn check(doc: &Value) -> Result<(), String> {
    if doc.get("version") != Some(&json!(1)) {
        return Err("doc: version must be 1".into());
    }
    node(doc, "doc", "doc")
}

fn node(v: &Value, kind: &str, at: &str) -> Result<(), String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{at}: not an object"))?;
    let allowed_keys: &[&str] = match kind {
        "doc" => &["type", "version", "content"],
        "text" => &["type", "text", "marks"],
        _ => &["type", "attrs", "content", "marks"],
    };
    if let Some(key) = obj.keys().find(|k| !allowed_keys.contains(&k.as_str())) {
        return Err(format!("{at}: unexpected property {key:?}"));
    }
    attrs(v, kind, at)?;
    if kind == "text" {
        return text(v, at);
    }
    if OPAQUE.contains(&kind) {
        return Ok(());
    }
    let (children, min): (&[&str], usize) = match kind {
        "doc" => (BLOCKS, 0),
        "paragraph" | "heading" => (INLINES, 0),
        "bulletList" | "orderedList" => (&["listItem"], 1),
        "listItem" => (LIST_ITEM, 1),
        "blockquote" => (QUOTE, 1),
        "codeBlock" => (&["text"], 0),
        "table" => (&["tableRow"], 1),
        "tableRow" => (&["tableHeader", "tableCell"], 1),
        "tableHeader" | "tableCell" => (CELL, 1),
        "hardBreak" | "rule" => (&[], 0),
        other => return Err(format!("{at}: unknown node type {other:?}")),
    };
    let content = match v.get("content") {
        None if min == 0 => return Ok(()),
        None => return Err(format!("{at}: content is required")),
        Some(c) => c
            .as_array()
            .ok_or_else(|| format!("{at}: content is not an array"))?,
    };
    if content.len() < min {
        return Err(format!("{at}: content needs at least {min} node"));
    }
    for (i, child) in content.iter().enumerate() {
        let child_kind = child.get("type").and_then(Value::as_str).unwrap_or("");
        let child_at = format!("{at}.content[{i}]");
        if !children.contains(&child_kind) {
            return Err(format!("{child_at}: a {kind} cannot hold {child_kind:?}"));
        }
        if kind == "codeBlock" && child.get("marks").is_some_and(|m| m != &json!([])) {
            return Err(format!("{child_at}: code block text takes no marks"));
        }
        node(child, child_kind, &child_at)?;
    }
    Ok(())
}

fn attrs(v: &Value, kind: &str, at: &str) -> Result<(), String> {
    let attrs = v.get("attrs");
    if attrs.is_some_and(|a| !a.is_object()) {
        return Err(format!("{at}: attrs is not an object"));
    }
    match kind {
        "heading" => {
            let level = attrs.and_then(|a| a.get("level")).and_then(Value::as_u64);
            if !matches!(level, Some(1..=6)) {
                return Err(format!("{at}: a heading needs attrs.level from 1 to 6"));
            }
        }
        "orderedList" => {
            if let Some(order) = attrs.and_then(|a| a.get("order")) {
                if !order.as_f64().is_some_and(|o| o >= 0.0) {
                    return Err(format!("{at}: attrs.order must be a number from 0"));
                }
            }
        }
        "codeBlock" => {
            if let Some(language) = attrs.and_then(|a| a.get("language")) {
                if !language.is_string() {
                    return Err(format!("{at}: attrs.language must be a string"));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn text(v: &Value, at: &str) -> Result<(), String> {
    if v.get("text")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(format!("{at}: text must be a non-empty string"));
    }
    let Some(marks) = v.get("marks") else {
        return Ok(());
    };
    let marks = marks
        .as_array()
        .ok_or_else(|| format!("{at}: marks is not an array"))?;
    let mut seen = Vec::new();
    for mark in marks {
        let kind = mark.get("type").and_then(Value::as_str).unwrap_or("");
        if !MARKS.contains(&kind) {
            return Err(format!("{at}: unknown mark {kind:?}"));
        }
        if seen.contains(&kind) {
            return Err(format!("{at}: mark {kind:?} twice"));
        }
        if kind == "link"
            && !mark
                .get("attrs")
                .and_then(|a| a.get("href"))
                .is_some_and(Value::is_string)
        {
            return Err(format!("{at}: a link mark needs attrs.href"));
        }
        seen.push(kind);
    }
    let other = seen
        .iter()
        .find(|k| !matches!(**k, "code" | "link" | "annotation"));
    if let (true, Some(other)) = (seen.contains(&"code"), other) {
        return Err(format!("{at}: the code mark cannot go with {other:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;
    use serde_json::json;

    fn doc(content: &serde_json::Value) -> serde_json::Value {
        json!({"type": "doc", "version": 1, "content": content})
    }

    #[test]
    fn the_nodes_clients_write_pass() {
        let ok = doc(&json!([
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "H"}]},
            {"type": "bulletList", "content": [{"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "a", "marks": [{"type": "code"}, {"type": "link", "attrs": {"href": "x"}}]}]},
                {"type": "orderedList", "attrs": {"order": 3}, "content": [{"type": "listItem", "content": [{"type": "paragraph"}]}]}]}]},
            {"type": "blockquote", "content": [{"type": "codeBlock", "attrs": {"language": "sh"}, "content": [{"type": "text", "text": "ls"}]}]},
            {"type": "table", "content": [{"type": "tableRow", "content": [{"type": "tableHeader", "content": [{"type": "paragraph", "content": []}]}]}]},
            {"type": "rule"},
            {"type": "paragraph", "content": [{"type": "hardBreak"}]}
        ]));
        assert_eq!(check(&ok), Ok(()));
    }

    #[test]
    fn what_the_schema_forbids_is_refused() {
        let bad = [
            json!([{"type": "blockquote", "content": [{"type": "heading", "attrs": {"level": 1}}]}]),
            json!([{"type": "bulletList", "content": []}]),
            json!([{"type": "heading", "attrs": {"level": 7}}]),
            json!([{"type": "paragraph", "content": [{"type": "text", "text": ""}]}]),
            json!([{"type": "paragraph", "content": [{"type": "text", "text": "a", "marks": [{"type": "code"}, {"type": "strong"}]}]}]),
            json!([{"type": "paragraph", "content": [{"type": "text", "text": "a", "marks": [{"type": "link"}]}]}]),
            json!([{"type": "listItem", "content": [{"type": "paragraph"}]}]),
            json!([{"type": "paragraph", "bogus": 1}]),
            json!([{"type": "codeBlock", "content": [{"type": "text", "text": "a", "marks": [{"type": "em"}]}]}]),
        ];
        for content in bad {
            assert!(check(&doc(&content)).is_err(), "{content}");
        }
    }
}
