//! JQL string quoting. Every value jira-gate puts into JQL goes through [`quote`], so a label,
//! key or status taken from a stanza cannot change the meaning of a query.

/// Quotes a value as a JQL string literal: `"` + escaped text + `"`.
///
/// Backslash and double quote are escaped; newlines, tabs and carriage returns use JQL's `\n`,
/// `\t`, `\r`; other control characters become `\uXXXX`.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_and_escapes() {
        let cases = [
            ("OPS", "\"OPS\""),
            ("a b", "\"a b\""),
            ("x\" OR project = \"Y", "\"x\\\" OR project = \\\"Y\""),
            ("back\\slash", "\"back\\\\slash\""),
            ("line\nbreak\ttab", "\"line\\nbreak\\ttab\""),
            ("bell\u{7}", "\"bell\\u0007\""),
            ("ünï", "\"ünï\""),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "{input:?}");
        }
    }
}
