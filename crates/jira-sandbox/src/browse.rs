//! `/browse/KEY`, the link in every summary jira-gate prints: a small HTML page of the issue (its
//! key, summary, status and a table of fields), or an HTML 404 for an unknown key (issue 8,
//! defect 16). Every value is HTML-escaped: summaries and field values come from the client.

/// The page of an issue.
pub(crate) fn issue_page(key: &str, summary: &str, rows: &[(&str, String)]) -> String {
    let status = rows
        .iter()
        .find(|(name, _)| *name == "Status")
        .map_or("", |(_, v)| v.as_str());
    let mut table = String::new();
    for (name, value) in rows {
        table.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape(name),
            escape(value)
        ));
    }
    page(
        &format!("[{}] {}", escape(key), escape(summary)),
        &format!(
            "<h1>{key}: {summary}</h1>\n<p>Status: <strong>{status}</strong></p>\n<table>\n{table}</table>",
            key = escape(key),
            summary = escape(summary),
            status = escape(status),
        ),
    )
}

/// The page of a key the sandbox does not have.
pub(crate) fn not_found_page(key: &str) -> String {
    page(
        "Issue not found",
        &format!(
            "<h1>Issue not found</h1>\n<p>The issue {} does not exist in this sandbox. \
             <code>GET /_sandbox/issues</code> lists the issues it has.</p>",
            escape(key)
        ),
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title} - jira-gate sandbox</title></head>\n<body>\n{body}\n</body>\n</html>\n"
    )
}

/// `&`, `<`, `>`, `"` and `'` as entities, so a value cannot open a tag or leave an attribute.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let page = issue_page(
            "OPS-1",
            "<script>alert('x')</script> & more",
            &[
                ("Status", "To Do".to_owned()),
                ("Labels", "a\"b".to_owned()),
            ],
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(page.contains("<tr><th>Labels</th><td>a&quot;b</td></tr>"));
        assert!(not_found_page("<b>").contains("&lt;b&gt;"));
    }
}
