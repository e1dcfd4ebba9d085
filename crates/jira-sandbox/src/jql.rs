//! The tiny JQL subset the sandbox understands: `field = value` clauses joined by `AND`, with an
//! optional `ORDER BY created ASC|DESC`.
//!
//! That is what jira-gate's searches need (project plus a dedupe label, or a key plus the user's
//! criterion). Anything else is rejected with Jira's "Error in the JQL Query" 400, so a client that
//! depends on more JQL finds out in tests rather than against a real Jira.

use crate::state::Issue;

/// A field the subset can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Project,
    Labels,
    Key,
    Status,
    IssueType,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    /// The clauses; all must hold.
    pub clauses: Vec<(Field, String)>,
    /// `Some(true)` for `ORDER BY created DESC`, `Some(false)` for ASC.
    pub order_desc: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Equals,
}

fn error(detail: impl std::fmt::Display) -> String {
    format!("Error in the JQL Query: {detail}")
}

fn tokenize(jql: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = jql.char_indices().peekable();
    while let Some(&(pos, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '=' {
            chars.next();
            tokens.push(Token::Equals);
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, e @ ('"' | '\\'))) => s.push(e),
                        Some((p, e)) => {
                            return Err(error(format_args!(
                                "'\\{e}' is an illegal JQL escape sequence. The sandbox accepts only \\\" and \\\\. (line 1, character {p})"
                            )));
                        }
                        None => return Err(error("The quoted string is not terminated.")),
                    },
                    Some((_, ch)) => s.push(ch),
                    None => {
                        return Err(error(format_args!(
                            "Missing closing quote in the string starting at character {}.",
                            pos + 1
                        )));
                    }
                }
            }
            tokens.push(Token::Quoted(s));
        } else if "!<>~(),".contains(c) {
            return Err(error(format_args!(
                "The character '{c}' is not supported by the sandbox's JQL subset. (line 1, character {})",
                pos + 1
            )));
        } else {
            let mut s = String::new();
            while let Some(&(_, ch)) = chars.peek() {
                if ch.is_whitespace() || "=\"!<>~(),".contains(ch) {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            tokens.push(Token::Word(s));
        }
    }
    Ok(tokens)
}

fn field(name: &str) -> Option<Field> {
    Some(match name.to_ascii_lowercase().as_str() {
        "project" => Field::Project,
        "labels" | "label" => Field::Labels,
        "key" | "issuekey" | "id" => Field::Key,
        "status" => Field::Status,
        "issuetype" | "type" => Field::IssueType,
        _ => return None,
    })
}

fn is_keyword(t: &Token, kw: &str) -> bool {
    matches!(t, Token::Word(w) if w.eq_ignore_ascii_case(kw))
}

/// How an error names the token it found.
fn describe(t: Option<&Token>) -> String {
    match t {
        Some(Token::Word(w) | Token::Quoted(w)) => format!("'{w}'"),
        Some(Token::Equals) => "'='".to_owned(),
        None => "the end of the query".to_owned(),
    }
}

/// Parses JQL in the subset.
pub(crate) fn parse(jql: &str) -> Result<Query, String> {
    let tokens = tokenize(jql)?;
    let mut q = Query {
        clauses: Vec::new(),
        order_desc: None,
    };
    let mut i = 0;
    while i < tokens.len() && !is_keyword(&tokens[i], "order") {
        if !q.clauses.is_empty() {
            if !is_keyword(&tokens[i], "and") {
                return Err(error(format_args!(
                    "Expecting either 'OR' or 'AND' but got {}.",
                    describe(tokens.get(i))
                )));
            }
            i += 1;
        }
        q.clauses.push(clause(&tokens, i)?);
        i += 3;
    }
    if i < tokens.len() {
        q.order_desc = Some(order_by(&tokens, i)?);
    }
    Ok(q)
}

/// `field = value` at `tokens[i..i + 3]`.
fn clause(tokens: &[Token], i: usize) -> Result<(Field, String), String> {
    let f = match tokens.get(i) {
        Some(Token::Word(w) | Token::Quoted(w)) => field(w)
            .ok_or_else(|| error(format_args!("Field '{w}' is not supported by the sandbox.")))?,
        other => {
            return Err(error(format_args!(
                "Expecting a field name but got {}.",
                describe(other)
            )));
        }
    };
    if tokens.get(i + 1) != Some(&Token::Equals) {
        return Err(error(format_args!(
            "Expecting operator '=' but got {}. The sandbox supports only '='.",
            describe(tokens.get(i + 1))
        )));
    }
    let value = match tokens.get(i + 2) {
        Some(Token::Word(w) | Token::Quoted(w))
            if !(matches!(tokens[i + 2], Token::Word(_)) && w.eq_ignore_ascii_case("and")) =>
        {
            w.clone()
        }
        other => {
            return Err(error(format_args!(
                "Expecting a value but got {}.",
                describe(other)
            )));
        }
    };
    Ok((f, value))
}

/// `ORDER BY created [ASC|DESC]` from `tokens[i]` to the end; `true` for descending.
fn order_by(tokens: &[Token], i: usize) -> Result<bool, String> {
    if !tokens.get(i + 1).is_some_and(|t| is_keyword(t, "by")) {
        return Err(error("Expecting 'BY' after 'ORDER'."));
    }
    if !tokens.get(i + 2).is_some_and(|t| is_keyword(t, "created")) {
        return Err(error(format_args!(
            "The sandbox can only order by 'created', got {}.",
            describe(tokens.get(i + 2))
        )));
    }
    let desc = match tokens.get(i + 3) {
        None => true,
        Some(t) if is_keyword(t, "desc") => true,
        Some(t) if is_keyword(t, "asc") => false,
        other => {
            return Err(error(format_args!(
                "Expecting 'ASC' or 'DESC' but got {}.",
                describe(other)
            )));
        }
    };
    if tokens.len() > i + 4 {
        return Err(error(format_args!(
            "Unexpected {} after ORDER BY.",
            describe(tokens.get(i + 4))
        )));
    }
    Ok(desc)
}

impl Query {
    /// Whether the query has no restriction (Cloud refuses those).
    pub fn unbounded(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Whether `issue` matches every clause.
    pub fn matches(&self, issue: &Issue, project: &str) -> bool {
        self.clauses.iter().all(|(f, v)| match f {
            Field::Project => v.eq_ignore_ascii_case(project) || v == "10000" || v == "Operations",
            Field::Labels => issue.labels().iter().any(|l| l.eq_ignore_ascii_case(v)),
            Field::Key => issue.key.eq_ignore_ascii_case(v) || issue.id.to_string() == *v,
            Field::Status => issue.status_name().eq_ignore_ascii_case(v) || issue.status == v,
            Field::IssueType => issue.issue_type_name().eq_ignore_ascii_case(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clauses_quotes_and_order() {
        let q = parse(r#"project = OPS AND labels = "a\"b\\c" and Status = "Awaiting approval" ORDER BY created ASC"#)
            .unwrap();
        assert_eq!(
            q.clauses,
            vec![
                (Field::Project, "OPS".to_owned()),
                (Field::Labels, "a\"b\\c".to_owned()),
                (Field::Status, "Awaiting approval".to_owned()),
            ]
        );
        assert_eq!(q.order_desc, Some(false));
    }

    #[test]
    fn empty_and_order_only_are_unbounded() {
        assert!(parse("").unwrap().unbounded());
        assert!(parse("order by created DESC").unwrap().unbounded());
    }

    #[test]
    fn rejects_what_it_does_not_know() {
        for bad in [
            "project != OPS",
            "project = OPS OR key = OPS-1",
            "summary = x",
            "project in (OPS)",
            "project = \"OPS",
            "project =",
            "project = OPS ORDER BY key",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.starts_with("Error in the JQL Query: "), "{bad}: {err}");
        }
    }
}
