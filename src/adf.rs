//! Plain text ↔ Atlassian Document Format (ADF), the rich-text JSON that REST v3 requires for
//! descriptions, comments and textarea fields (API-NOTES §0.9).
//!
//! Text becomes paragraphs (split at blank lines), single line breaks become `hardBreak` nodes and
//! `http(s)://` URLs get a link mark, so a pipeline URL in a description is clickable in Jira.
//! This is `ticket.markup: plain`; Markdown, the default, is `crate::markup`.

use serde_json::{Value, json};

/// Converts plain text to an ADF document.
pub fn from_text(text: &str) -> Value {
    let normalized = text.replace("\r\n", "\n");
    let paragraphs: Vec<Value> = normalized
        .split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let mut content = Vec::new();
            for (i, line) in p.split('\n').enumerate() {
                if i > 0 {
                    content.push(json!({"type": "hardBreak"}));
                }
                push_text_with_links(line, &mut content);
            }
            json!({"type": "paragraph", "content": content})
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

fn push_text_with_links(line: &str, out: &mut Vec<Value>) {
    for (part, is_url) in url_spans(line) {
        if is_url {
            out.push(json!({"type": "text", "text": part, "marks": [{"type": "link", "attrs": {"href": part}}]}));
        } else {
            out.push(json!({"type": "text", "text": part}));
        }
    }
}

/// `text` cut into runs, each with whether it is an `http(s)://` URL (up to the next whitespace,
/// without trailing punctuation). No run is empty.
pub(crate) fn url_spans(text: &str) -> Vec<(&str, bool)> {
    let mut spans = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let start = ["https://", "http://"]
            .iter()
            .filter_map(|p| rest.find(p))
            .min();
        let Some(start) = start else {
            spans.push((rest, false));
            break;
        };
        if start > 0 {
            spans.push((&rest[..start], false));
        }
        let url_len = rest[start..]
            .find(char::is_whitespace)
            .unwrap_or(rest.len() - start);
        let url = rest[start..start + url_len].trim_end_matches(['.', ',', ')', ';', ':']);
        if url.is_empty() {
            // Cannot happen (a scheme is not punctuation), but never loop forever.
            spans.push((&rest[start..], false));
            break;
        }
        spans.push((url, true));
        rest = &rest[start + url.len()..];
    }
    spans
}

/// Extracts the plain text of an ADF document (for criteria on rich-text fields).
pub fn to_text(doc: &Value) -> String {
    let mut out = String::new();
    walk(doc, &mut out);
    out.trim_end().to_owned()
}

fn walk(node: &Value, out: &mut String) {
    match node.get("type").and_then(Value::as_str) {
        Some("text") => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or_default()),
        Some("hardBreak") => out.push('\n'),
        Some(kind) => {
            if let Some(children) = node.get("content").and_then(Value::as_array) {
                for child in children {
                    walk(child, out);
                }
            }
            if matches!(kind, "paragraph" | "heading" | "codeBlock" | "listItem") {
                out.push_str("\n\n");
            }
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{from_text, to_text};
    use serde_json::json;

    #[test]
    fn paragraphs_breaks_and_links() {
        let doc =
            from_text("Pipeline https://ci.example.com/p/1 waits.\nSecond line\n\nNew paragraph");
        assert_eq!(
            doc,
            json!({"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [
                    {"type": "text", "text": "Pipeline "},
                    {"type": "text", "text": "https://ci.example.com/p/1", "marks": [{"type": "link", "attrs": {"href": "https://ci.example.com/p/1"}}]},
                    {"type": "text", "text": " waits."},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "Second line"}]},
                {"type": "paragraph", "content": [{"type": "text", "text": "New paragraph"}]}]})
        );
        assert_eq!(
            to_text(&doc),
            "Pipeline https://ci.example.com/p/1 waits.\nSecond line\n\nNew paragraph"
        );
    }

    #[test]
    fn empty_text_is_an_empty_doc() {
        assert_eq!(
            from_text("\n\n"),
            json!({"type": "doc", "version": 1, "content": []})
        );
        assert_eq!(to_text(&from_text("")), "");
    }

    #[test]
    fn crlf_and_unicode_survive() {
        let doc = from_text("Grüße\r\nzweite Zeile ✓");
        assert_eq!(to_text(&doc), "Grüße\nzweite Zeile ✓");
    }
}
