//! JQL: string quoting, and the searches of `jql` criteria (issue 9). Every value jira-gate puts
//! into JQL goes through [`quote`], so a label, key or status taken from a stanza cannot change
//! the meaning of a query; a criterion's own JQL goes in parentheses after the issue's key
//! ([`on_issue`]), so its `OR` stays inside.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::client::JiraClient;
use super::error::Error;
use super::models::{Deployment, SearchPage};
use super::transport::{Retry, parse};

/// The search of a `jql` criterion on one issue: `key = "KEY" AND (condition)`.
pub fn on_issue(key: &str, condition: &str) -> String {
    format!("key = {} AND ({condition})", quote(key))
}

/// `query` with its string literals blanked out (each becomes one space), so that what is left is
/// JQL's own syntax.
fn outside_literals(query: &str) -> String {
    let mut bare = String::with_capacity(query.len());
    let mut quote_char: Option<char> = None;
    let mut chars = query.chars();
    while let Some(c) = chars.next() {
        match (quote_char, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => {
                quote_char = None;
                bare.push(' ');
            }
            (Some(_), _) => {}
            (None, '"' | '\'') => quote_char = Some(c),
            (None, c) => bare.push(c),
        }
    }
    bare
}

/// Whether `query` has `ORDER BY` outside its string literals.
pub fn orders(query: &str) -> bool {
    let bare: String = outside_literals(query)
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<&str> = bare.split_whitespace().collect();
    words.windows(2).any(|w| w == ["order", "by"])
}

/// Whether the parentheses of `query` outside its string literals balance: a condition that
/// closes more than it opens would escape the `key = KEY AND (...)` around it.
pub fn balanced(query: &str) -> bool {
    let mut depth: usize = 0;
    for c in outside_literals(query).chars() {
        match c {
            '(' => depth += 1,
            ')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0
}

/// One answer of `POST /jql/parse`.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct Parsed {
    errors: Vec<String>,
    warnings: Vec<String>,
}

/// `POST /jql/parse`'s answer.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ParsedQueries {
    queries: Vec<Parsed>,
}

impl JiraClient {
    /// Whether `key = KEY AND (condition)` finds the issue: one search on the flavor's endpoint
    /// (Cloud's `search/jql`, Data Center's `search`) asking for the id only. On Cloud the
    /// issue's `id` goes in `reconcileIssues`, so the search sees the issue's latest writes
    /// (its index lags them otherwise, API-NOTES section 0.3). Jira refusing the query (400:
    /// bad syntax, a field that does not exist) is its text, verbatim, with the query sent.
    pub async fn finds(&self, key: &str, id: &str, condition: &str) -> Result<bool, Error> {
        let jql = on_issue(key, condition);
        let mut query = vec![
            ("jql", jql.clone()),
            ("fields", "id".to_owned()),
            ("maxResults", "1".to_owned()),
        ];
        if self.deployment() == Deployment::Cloud && !id.is_empty() {
            query.push(("reconcileIssues", id.to_owned()));
        }
        let page: SearchPage = self
            .transport
            .get(&self.search_path(), &query)
            .await
            .map_err(|e| match e {
                Error::Status {
                    method,
                    path,
                    status: 400,
                    detail,
                } => Error::Status {
                    method,
                    path,
                    status: 400,
                    detail: format!("{detail} (the query: {jql})"),
                },
                other => other,
            })?;
        // Only this issue counts: whatever the condition says, a hit on another issue is not
        // an answer about this one (the id is stable when the key moved).
        Ok(page
            .issues
            .iter()
            .any(|i| (!id.is_empty() && i.id == id) || i.key.eq_ignore_ascii_case(key)))
    }

    /// What Jira says of `condition` as JQL, for `check`: its errors and warnings, verbatim
    /// (none: it is valid). Cloud's `POST /jql/parse?validation=strict`; Data Center has no
    /// such endpoint, so there a search with `maxResults=0` tries it, its 400 being the answer
    /// (and on a Cloud-like server without `jql/parse`, a 404 or 405, the same).
    pub async fn parse_jql(&self, condition: &str) -> Result<Vec<String>, Error> {
        let jql = format!("({condition})");
        if self.deployment() == Deployment::Cloud {
            let path = self.rest("jql/parse");
            let reply = self
                .transport
                .call(
                    Method::POST,
                    &path,
                    &[("validation", "strict".to_owned())],
                    Some(&json!({ "queries": [jql] })),
                    Retry::Always,
                )
                .await;
            match reply {
                Ok(reply) => {
                    let parsed: ParsedQueries = parse(&reply.body, "POST", &path)?;
                    return Ok(parsed
                        .queries
                        .into_iter()
                        .flat_map(|q| q.errors.into_iter().chain(q.warnings))
                        .collect());
                }
                Err(Error::Status {
                    status: 404 | 405, ..
                }) => tracing::debug!("{path} is not there; trying the JQL with a search"),
                Err(e) => return Err(e),
            }
        }
        let query = [
            ("jql", jql),
            ("fields", "id".to_owned()),
            ("maxResults", "0".to_owned()),
        ];
        match self
            .transport
            .get::<SearchPage>(&self.search_path(), &query)
            .await
        {
            Ok(_) => Ok(Vec::new()),
            Err(Error::Status {
                status: 400,
                detail,
                ..
            }) => Ok(vec![detail]),
            Err(e) => Err(e),
        }
    }

    /// The search endpoint of the flavor: Cloud's `search/jql` (the old `search` answers 410
    /// there), Data Center's `search`.
    pub(super) fn search_path(&self) -> String {
        match self.deployment() {
            Deployment::Cloud => self.rest("search/jql"),
            Deployment::DataCenter => "/rest/api/2/search".to_owned(),
        }
    }
}

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
    use super::{balanced, quote};

    #[test]
    fn a_condition_must_not_escape_its_parentheses() {
        for ok in [
            "a = 1",
            "(a = 1 OR b = 2) AND c = 3",
            "summary ~ \"x)\"",
            "labels = ')('",
        ] {
            assert!(balanced(ok), "{ok}");
        }
        for bad in ["labels = nope) OR (project = CHG", "(a = 1", "a = 1)", ")("] {
            assert!(!balanced(bad), "{bad}");
        }
    }

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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::{on_issue, orders, quote};

    /// Reads the JQL string literal at the start of `text` the way Jira does: the value and the
    /// rest of the text after the closing quote.
    fn literal(text: &str) -> Option<(String, &str)> {
        let mut chars = text.char_indices();
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => return Some((value, &text[at + 1..])),
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    'r' => value.push('\r'),
                    'u' => {
                        let hex: String =
                            (0..4).filter_map(|_| chars.next().map(|c| c.1)).collect();
                        value.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    other => value.push(other),
                },
                c if c.is_control() => return None,
                c => value.push(c),
            }
        }
        None
    }

    proptest! {
        #[test]
        fn the_key_stays_one_literal_and_the_condition_stays_in_its_parentheses(
            key in any::<String>(),
            condition in "[a-z =\"()]{0,30}",
        ) {
            let query = on_issue(&key, &condition);
            let rest = query.strip_prefix("key = ").unwrap();
            let (value, after) = literal(rest).expect("a closed literal");
            prop_assert_eq!(value, key);
            prop_assert_eq!(after, format!(" AND ({condition})"));
        }

        #[test]
        fn quoted_text_never_orders(text in any::<String>()) {
            let plain = format!("labels = {}", quote(&text));
            let ordered = format!("{plain} order  BY created");
            prop_assert!(!orders(&plain), "{}", plain);
            prop_assert!(orders(&ordered), "{}", ordered);
        }
    }
}
