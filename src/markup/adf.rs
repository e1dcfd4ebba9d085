//! Markdown → Atlassian Document Format (REST v3), valid against the ADF JSON schema
//! (`../shared/jira/fixtures/adf-schema/full.json`) whatever the input.
//!
//! The schema allows less nesting than Markdown: a list item and a block quote hold only
//! paragraphs, lists and code blocks, so a heading there becomes a bold paragraph, a quote or a
//! table its paragraphs, and a rule is left out. Text never is: every word written reaches Jira.
//! Inline code keeps only its link mark (the schema's rule for `code`), and bare `http(s)://`
//! URLs in text get a link mark, as in plain text.

use serde_json::{Map, Value, json};

use super::{Block, Inline, Marks, Row};

/// Converts Markdown to an ADF document.
pub fn from_markdown(text: &str) -> Value {
    let blocks = super::parse(text);
    json!({"type": "doc", "version": 1, "content": blocks_json(&blocks, Context::Doc)})
}

/// Where blocks go, which decides what the schema allows there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// The document, or a table cell (all but tables inside tables, which Markdown cannot write).
    Doc,
    /// A list item or a block quote: paragraphs, lists and code blocks only.
    Narrow,
}

fn blocks_json(blocks: &[Block], context: Context) -> Vec<Value> {
    let mut out = Vec::new();
    for block in blocks {
        block_json(block, context, &mut out);
    }
    out
}

fn block_json(block: &Block, context: Context, out: &mut Vec<Value>) {
    match block {
        Block::Paragraph(inlines) => out.push(paragraph(inlines, false)),
        Block::Heading(level, inlines) if context == Context::Doc => out.push(json!({
            "type": "heading", "attrs": {"level": (*level).clamp(1, 6)}, "content": inlines_json(inlines, false),
        })),
        Block::Heading(_, inlines) => out.push(paragraph(inlines, true)),
        Block::Code { language, text } => {
            let mut node = json!({"type": "codeBlock"});
            if let Some(language) = language {
                node["attrs"] = json!({"language": language});
            }
            if !text.is_empty() {
                node["content"] = json!([{"type": "text", "text": text}]);
            }
            out.push(node);
        }
        Block::List { start, items } => {
            let items: Vec<Value> = items
                .iter()
                .map(|blocks| {
                    let content = non_empty(blocks_json(blocks, Context::Narrow));
                    json!({"type": "listItem", "content": content})
                })
                .collect();
            if items.is_empty() {
                return;
            }
            out.push(match start {
                Some(order) => {
                    json!({"type": "orderedList", "attrs": {"order": order}, "content": items})
                }
                None => json!({"type": "bulletList", "content": items}),
            });
        }
        Block::Quote(blocks) if context == Context::Doc => out.push(json!({
            "type": "blockquote", "content": non_empty(blocks_json(blocks, Context::Narrow)),
        })),
        Block::Quote(blocks) => out.extend(blocks_json(blocks, context)),
        Block::Table(rows) if context == Context::Doc => {
            let rows: Vec<Value> = rows.iter().filter_map(row_json).collect();
            if !rows.is_empty() {
                out.push(json!({"type": "table", "content": rows}));
            }
        }
        Block::Table(rows) => {
            for row in rows {
                let mut line: Vec<Inline> = Vec::new();
                for (i, cell) in row.cells.iter().enumerate() {
                    if i > 0 {
                        line.push(Inline::Text(" | ".into(), Marks::default()));
                    }
                    line.extend(cell.iter().cloned());
                }
                out.push(paragraph(&line, row.header));
            }
        }
        Block::Rule if context == Context::Doc => out.push(json!({"type": "rule"})),
        Block::Rule => {}
    }
}

fn row_json(row: &Row) -> Option<Value> {
    if row.cells.is_empty() {
        return None;
    }
    let kind = if row.header {
        "tableHeader"
    } else {
        "tableCell"
    };
    let cells: Vec<Value> = row
        .cells
        .iter()
        .map(|cell| json!({"type": kind, "content": [paragraph(cell, false)]}))
        .collect();
    Some(json!({"type": "tableRow", "content": cells}))
}

/// The schema's minimum of one block in a list item, quote or cell.
fn non_empty(mut content: Vec<Value>) -> Vec<Value> {
    if content.is_empty() {
        content.push(json!({"type": "paragraph", "content": []}));
    }
    content
}

fn paragraph(inlines: &[Inline], strong: bool) -> Value {
    json!({"type": "paragraph", "content": inlines_json(inlines, strong)})
}

fn inlines_json(inlines: &[Inline], strong: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for inline in inlines {
        match inline {
            Inline::Break => out.push(json!({"type": "hardBreak"})),
            Inline::Text(text, marks) if marks.link.is_none() && !marks.code => {
                for (part, url) in crate::adf::url_spans(text) {
                    let link = url.then(|| part.to_owned());
                    push_text(&mut out, part, marks, strong, link.as_deref());
                }
            }
            Inline::Text(text, marks) => {
                push_text(&mut out, text, marks, strong, marks.link.as_deref());
            }
        }
    }
    out
}

fn push_text(out: &mut Vec<Value>, text: &str, marks: &Marks, strong: bool, link: Option<&str>) {
    if text.is_empty() {
        return;
    }
    let mut list: Vec<Value> = Vec::new();
    if marks.code {
        list.push(json!({"type": "code"}));
    } else {
        if marks.strong || strong {
            list.push(json!({"type": "strong"}));
        }
        if marks.em {
            list.push(json!({"type": "em"}));
        }
        if marks.strike {
            list.push(json!({"type": "strike"}));
        }
    }
    if let Some(href) = link.filter(|h| !h.is_empty()) {
        list.push(json!({"type": "link", "attrs": {"href": href}}));
    }
    let mut node = Map::new();
    node.insert("type".into(), json!("text"));
    node.insert("text".into(), json!(text));
    if !list.is_empty() {
        node.insert("marks".into(), Value::Array(list));
    }
    out.push(Value::Object(node));
}

#[cfg(test)]
mod tests {
    use super::from_markdown;
    use serde_json::json;

    #[test]
    fn every_construct_becomes_its_node() {
        let doc = from_markdown(
            "# Title\n\nSome **bold**, *em*, ~~gone~~ and `code` [link](https://x.example).\n\n\
             ```rust\nfn main() {}\n```\n\n- a\n  1. b\n\n> quoted\n\n| h |\n| - |\n| c |\n\n---\n",
        );
        let content = doc["content"].as_array().unwrap();
        let kinds: Vec<&str> = content
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "heading",
                "paragraph",
                "codeBlock",
                "bulletList",
                "blockquote",
                "table",
                "rule"
            ]
        );
        assert_eq!(content[0]["attrs"]["level"], 1);
        assert_eq!(content[2]["attrs"]["language"], "rust");
        assert_eq!(content[2]["content"][0]["text"], "fn main() {}");
        assert_eq!(
            content[3]["content"][0]["content"][1]["type"],
            "orderedList"
        );
        assert_eq!(
            content[5]["content"][0]["content"][0]["type"],
            "tableHeader"
        );
        let para = &content[1]["content"];
        assert_eq!(
            para[1],
            json!({"type": "text", "text": "bold", "marks": [{"type": "strong"}]})
        );
        assert_eq!(
            para[7],
            json!({"type": "text", "text": "code", "marks": [{"type": "code"}]})
        );
        assert_eq!(
            para[9],
            json!({"type": "text", "text": "link", "marks": [{"type": "link", "attrs": {"href": "https://x.example"}}]})
        );
    }

    #[test]
    fn narrow_places_get_what_the_schema_allows() {
        let doc = from_markdown(
            "- # heading in a list\n- > quote in a list\n\n> # heading\n> > nested\n",
        );
        let list = &doc["content"][0];
        assert_eq!(
            list["content"][0]["content"][0],
            json!({"type": "paragraph", "content": [{"type": "text", "text": "heading in a list", "marks": [{"type": "strong"}]}]})
        );
        assert_eq!(list["content"][1]["content"][0]["type"], "paragraph");
        let quote = &doc["content"][1];
        assert_eq!(quote["type"], "blockquote");
        assert_eq!(quote["content"][1]["content"][0]["text"], "nested");
    }

    #[test]
    fn bare_urls_are_links_and_empty_items_have_a_paragraph() {
        let doc = from_markdown("see https://ci.example/p/1 now\n\n-\n");
        assert_eq!(
            doc["content"][0]["content"][1]["marks"][0]["attrs"]["href"],
            "https://ci.example/p/1"
        );
        assert_eq!(
            doc["content"][1]["content"][0]["content"],
            json!([{"type": "paragraph", "content": []}])
        );
    }

    #[test]
    fn a_table_in_a_list_becomes_a_paragraph_per_row_with_bars_between_cells() {
        let doc = from_markdown("- | h | i |\n  | - | - |\n  | c | d |\n");
        let strong = json!([{"type": "strong"}]);
        assert_eq!(
            doc["content"][0]["content"][0]["content"],
            json!([
                {"type": "paragraph", "content": [
                    {"type": "text", "text": "h", "marks": strong},
                    {"type": "text", "text": " | ", "marks": strong},
                    {"type": "text", "text": "i", "marks": strong},
                ]},
                {"type": "paragraph", "content": [
                    {"type": "text", "text": "c"},
                    {"type": "text", "text": " | "},
                    {"type": "text", "text": "d"},
                ]},
            ])
        );
    }

    #[test]
    fn a_rule_inside_a_quote_is_left_out() {
        let doc = from_markdown("> a\n>\n> ***\n>\n> b\n");
        assert_eq!(
            doc["content"],
            json!([{"type": "blockquote", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "a"}]},
                {"type": "paragraph", "content": [{"type": "text", "text": "b"}]},
            ]}])
        );
    }
}
