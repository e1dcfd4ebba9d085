//! The JQL the sandbox understands: clauses joined by `AND`, `OR`, `NOT` and parentheses, with the
//! operators `=`, `!=`, `~`, `!~`, `IN`, `NOT IN`, `IS [NOT] EMPTY` and, on numbers, `<`, `<=`,
//! `>`, `>=`, and an optional `ORDER BY created ASC|DESC`.
//!
//! This file reads the text into a [`Query`] (Jira's "Error in the JQL Query: ..." messages for
//! bad syntax); [`check`](Query::check) in `jql/eval.rs` resolves the field names and values the
//! way Jira does (an unknown field, an operator the field does not support, a status that does
//! not exist) and [`matches`](Query::matches) evaluates the query on an issue. Enough for what
//! jira-gate sends: dedupe searches and `key = KEY AND (criterion)`.

mod eval;

/// An operator of a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    NotEq,
    Like,
    NotLike,
    In,
    NotIn,
    Is,
    IsNot,
    Less,
    LessEq,
    Greater,
    GreaterEq,
}

impl Op {
    /// As Jira names it in messages and in `jql/parse` structures.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::NotEq => "!=",
            Op::Like => "~",
            Op::NotLike => "!~",
            Op::In => "in",
            Op::NotIn => "not in",
            Op::Is => "is",
            Op::IsNot => "is not",
            Op::Less => "<",
            Op::LessEq => "<=",
            Op::Greater => ">",
            Op::GreaterEq => ">=",
        }
    }

    /// The operator that holds exactly when this one does not (for `NOT`).
    fn negated(self) -> Op {
        match self {
            Op::Eq => Op::NotEq,
            Op::NotEq => Op::Eq,
            Op::Like => Op::NotLike,
            Op::NotLike => Op::Like,
            Op::In => Op::NotIn,
            Op::NotIn => Op::In,
            Op::Is => Op::IsNot,
            Op::IsNot => Op::Is,
            Op::Less => Op::GreaterEq,
            Op::LessEq => Op::Greater,
            Op::Greater => Op::LessEq,
            Op::GreaterEq => Op::Less,
        }
    }
}

/// The right-hand side of a clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operand {
    /// One value, as written (unquoted).
    Value(String),
    /// `(a, b, c)`.
    List(Vec<String>),
    /// `EMPTY` or `NULL`.
    Empty,
}

/// `field op operand`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    /// The field as written: a name, a quoted custom field name, or `cf[10050]`.
    pub field: String,
    pub op: Op,
    pub operand: Operand,
}

/// The `WHERE` part of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Clause(Clause),
}

impl Expr {
    /// The same condition with every `NOT` pushed down into the clauses' operators, as Jira reads
    /// it: `NOT labels = x` is `labels != x` (which, like every negative operator, does not match
    /// an empty field).
    pub fn without_not(self, negate: bool) -> Expr {
        match self {
            Expr::Not(inner) => inner.without_not(!negate),
            Expr::And(list) => {
                let list = list.into_iter().map(|e| e.without_not(negate)).collect();
                if negate {
                    Expr::Or(list)
                } else {
                    Expr::And(list)
                }
            }
            Expr::Or(list) => {
                let list = list.into_iter().map(|e| e.without_not(negate)).collect();
                if negate {
                    Expr::And(list)
                } else {
                    Expr::Or(list)
                }
            }
            Expr::Clause(mut c) => {
                if negate {
                    c.op = c.op.negated();
                }
                Expr::Clause(c)
            }
        }
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    /// The condition; `None` for a query without one.
    pub condition: Option<Expr>,
    /// `Some(true)` for `ORDER BY created DESC`, `Some(false)` for ASC.
    pub order_desc: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

/// A token and the 1-based character where it starts.
type Token = (Tok, usize);

/// The operators, longest first.
const OPERATORS: [&str; 8] = ["!=", "!~", "<=", ">=", "=", "~", "<", ">"];
/// Characters that end an unquoted word.
const SPECIAL: &str = "=!<>~(),\"'";
const VALID_OPERATORS: &str = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.";
/// Words that are part of the language, not names or values, unless quoted.
const RESERVED: [&str; 11] = [
    "and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc",
];

/// Whether `word` is part of the language (it must be quoted to be a name or a value).
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word.to_ascii_lowercase().as_str())
}

fn error(detail: impl std::fmt::Display) -> String {
    format!("Error in the JQL Query: {detail}")
}

fn tokenize(jql: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = jql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let (text, next) = quoted(&chars, i)?;
            tokens.push((Tok::Quoted(text), at));
            i = next;
        } else if let Some(op) = OPERATORS.iter().find(|op| {
            op.chars()
                .enumerate()
                .all(|(k, oc)| chars.get(i + k) == Some(&oc))
        }) {
            tokens.push((Tok::Op(op), at));
            i += op.len();
        } else if c == '!' {
            return Err(error(format_args!(
                "The character '!' must be followed by '=' or '~'. (line 1, character {at})"
            )));
        } else if let Some(tok) = match c {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            _ => None,
        } {
            tokens.push((tok, at));
            i += 1;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !SPECIAL.contains(chars[i]) {
                i += 1;
            }
            tokens.push((Tok::Word(chars[start..i].iter().collect()), at));
        }
    }
    Ok(tokens)
}

/// The string literal starting at `chars[start]` (a quote); its text and the index after it.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let quote = chars[start];
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(error(format_args!(
                    "Missing closing quote in the string starting at character {}. (line 1, character {})",
                    start + 1,
                    start + 1
                )));
            }
            Some(&c) if c == quote => return Ok((text, i + 1)),
            Some('\\') => {
                let escaped = match chars.get(i + 1) {
                    Some(&e @ ('"' | '\'' | '\\' | ' ')) => e,
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('u') => {
                        let hex: String = chars.iter().skip(i + 2).take(4).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .ok()
                            .filter(|_| hex.len() == 4);
                        match code.and_then(char::from_u32) {
                            Some(c) => {
                                i += 4;
                                c
                            }
                            None => return Err(bad_escape('u', i + 1)),
                        }
                    }
                    Some(&e) => return Err(bad_escape(e, i + 1)),
                    None => return Err(error("The quoted string is not terminated.")),
                };
                text.push(escaped);
                i += 2;
            }
            Some(&c) => {
                text.push(c);
                i += 1;
            }
        }
    }
}

fn bad_escape(c: char, at: usize) -> String {
    error(format_args!(
        "'\\{c}' is an illegal JQL escape sequence. The valid escape sequences are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX. (line 1, character {at})"
    ))
}

/// Reads tokens into a [`Query`].
struct Parser {
    tokens: Vec<Token>,
    next: usize,
}

fn is_word(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some((Tok::Word(w), _)) if w.eq_ignore_ascii_case(kw))
}

/// How a message names what it found: `'word' ... (line 1, character N)` or the end.
fn found(t: Option<&Token>) -> (String, String) {
    match t {
        None => (String::new(), String::new()),
        Some((tok, at)) => {
            let text = match tok {
                Tok::Word(w) => w.clone(),
                Tok::Quoted(w) => format!("\"{w}\""),
                Tok::Op(op) => (*op).to_owned(),
                Tok::Open => "(".to_owned(),
                Tok::Close => ")".to_owned(),
                Tok::Comma => ",".to_owned(),
            };
            (text, format!(" (line 1, character {at})"))
        }
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn peek_is(&self, kw: &str) -> bool {
        is_word(self.peek(), kw)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.next).cloned();
        self.next += 1;
        t
    }

    /// "Expecting WHAT but got 'x'. (...)" or "Expecting WHAT before the end of the query."
    fn expecting(&self, what: &str, more: &str) -> String {
        match self.peek() {
            None => error(format_args!(
                "Expecting {what} before the end of the query.{more}"
            )),
            t => {
                let (text, at) = found(t);
                error(format_args!("Expecting {what} but got '{text}'.{more}{at}"))
            }
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.joined("or", Self::and, Expr::Or)
    }

    fn and(&mut self) -> Result<Expr, String> {
        self.joined("and", Self::unary, Expr::And)
    }

    /// `part (KEYWORD part)*`: one part alone, or `join` of them all.
    fn joined(
        &mut self,
        keyword: &str,
        part: fn(&mut Self) -> Result<Expr, String>,
        join: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr, String> {
        let mut list = vec![part(self)?];
        while self.peek_is(keyword) {
            self.bump();
            list.push(part(self)?);
        }
        Ok(if list.len() == 1 {
            list.remove(0)
        } else {
            join(list)
        })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_is("not") {
            self.bump();
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if matches!(self.peek(), Some((Tok::Open, _))) {
            self.bump();
            let inner = self.or()?;
            if !matches!(self.peek(), Some((Tok::Close, _))) {
                return Err(self.expecting("')'", ""));
            }
            self.bump();
            return Ok(inner);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Expr, String> {
        let field = match self.peek() {
            Some((Tok::Quoted(w), _)) => w.clone(),
            Some((Tok::Word(w), _)) if !is_reserved(w) => w.clone(),
            _ => return Err(self.expecting("a field name", "")),
        };
        self.bump();
        let op = self.operator()?;
        let operand = self.operand()?;
        Ok(Expr::Clause(Clause { field, op, operand }))
    }

    fn operator(&mut self) -> Result<Op, String> {
        let more = format!(" {VALID_OPERATORS}");
        let op = match self.peek() {
            Some((Tok::Op(op), _)) => match *op {
                "=" => Op::Eq,
                "!=" => Op::NotEq,
                "~" => Op::Like,
                "!~" => Op::NotLike,
                "<" => Op::Less,
                "<=" => Op::LessEq,
                ">" => Op::Greater,
                _ => Op::GreaterEq,
            },
            t if is_word(t, "in") => Op::In,
            t if is_word(t, "is") => {
                self.bump();
                if self.peek_is("not") {
                    self.bump();
                    return Ok(Op::IsNot);
                }
                return Ok(Op::Is);
            }
            t if is_word(t, "not") => {
                self.bump();
                if !self.peek_is("in") {
                    return Err(self.expecting("'IN' after 'NOT'", &more));
                }
                self.bump();
                return Ok(Op::NotIn);
            }
            _ => return Err(self.expecting("operator", &more)),
        };
        self.bump();
        Ok(op)
    }

    fn operand(&mut self) -> Result<Operand, String> {
        if self.peek_is("empty") || self.peek_is("null") {
            self.bump();
            return Ok(Operand::Empty);
        }
        if matches!(self.peek(), Some((Tok::Open, _))) {
            self.bump();
            let mut values = vec![self.value("either a value or function")?];
            while matches!(self.peek(), Some((Tok::Comma, _))) {
                self.bump();
                values.push(self.value("either a value or function")?);
            }
            if !matches!(self.peek(), Some((Tok::Close, _))) {
                return Err(self.expecting("')'", ""));
            }
            self.bump();
            return Ok(Operand::List(values));
        }
        Ok(Operand::Value(
            self.value("either a value, list or function")?,
        ))
    }

    fn value(&mut self, what: &str) -> Result<String, String> {
        let value = match self.peek() {
            Some((Tok::Quoted(w), _)) => w.clone(),
            Some((Tok::Word(w), _)) if !is_reserved(w) => w.clone(),
            t => {
                let (text, _) = found(t);
                let more = if t.is_some() {
                    format!(" You must surround '{text}' in quotation marks to use it as a value.")
                } else {
                    String::new()
                };
                return Err(self.expecting(what, &more));
            }
        };
        self.bump();
        if matches!(self.peek(), Some((Tok::Open, _))) {
            return Err(error(format_args!(
                "Unable to find JQL function '{value}()'."
            )));
        }
        Ok(value)
    }

    /// `ORDER BY created [ASC|DESC]`; `true` for descending.
    fn order_by(&mut self) -> Result<bool, String> {
        self.bump();
        if !self.peek_is("by") {
            return Err(self.expecting("'BY'", ""));
        }
        self.bump();
        if !self.peek_is("created") {
            let (text, at) = found(self.peek());
            return Err(error(format_args!(
                "The sandbox can only order by 'created', got '{text}'.{at}"
            )));
        }
        self.bump();
        let desc = if self.peek_is("asc") {
            false
        } else {
            self.peek_is("desc") || self.peek().is_none()
        };
        if self.peek().is_some() {
            if !self.peek_is("asc") && !self.peek_is("desc") {
                return Err(self.expecting("'ASC' or 'DESC'", ""));
            }
            self.bump();
        }
        if self.peek().is_some() {
            return Err(self.expecting("the end of the query", ""));
        }
        Ok(desc)
    }
}

/// Parses a query; the error is Jira's message.
pub(crate) fn parse(jql: &str) -> Result<Query, String> {
    let mut p = Parser {
        tokens: tokenize(jql)?,
        next: 0,
    };
    let condition = if p.peek().is_none() || p.peek_is("order") {
        None
    } else {
        Some(p.or()?)
    };
    let order_desc = if p.peek_is("order") {
        Some(p.order_by()?)
    } else if p.peek().is_some() {
        return Err(p.expecting("either 'OR' or 'AND'", ""));
    } else {
        None
    };
    Ok(Query {
        condition,
        order_desc,
    })
}

impl Query {
    /// Whether the query has no restriction (Cloud refuses those).
    pub fn unbounded(&self) -> bool {
        self.condition.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(field: &str, op: Op, operand: Operand) -> Expr {
        Expr::Clause(Clause {
            field: field.into(),
            op,
            operand,
        })
    }

    fn v(s: &str) -> Operand {
        Operand::Value(s.into())
    }

    #[test]
    fn parses_clauses_quotes_and_order() {
        let q = parse(r#"project = OPS AND labels = "a\"b\\c" and Status = 'Awaiting approval' ORDER BY created ASC"#)
            .unwrap();
        assert_eq!(
            q.condition,
            Some(Expr::And(vec![
                clause("project", Op::Eq, v("OPS")),
                clause("labels", Op::Eq, v("a\"b\\c")),
                clause("Status", Op::Eq, v("Awaiting approval")),
            ]))
        );
        assert_eq!(q.order_desc, Some(false));
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let q = parse("a = 1 OR b = 2 AND c = 3").unwrap();
        assert_eq!(
            q.condition,
            Some(Expr::Or(vec![
                clause("a", Op::Eq, v("1")),
                Expr::And(vec![
                    clause("b", Op::Eq, v("2")),
                    clause("c", Op::Eq, v("3"))
                ]),
            ]))
        );
        let q = parse("(a = 1 OR b = 2) AND NOT c = 3").unwrap();
        assert_eq!(
            q.condition,
            Some(Expr::And(vec![
                Expr::Or(vec![
                    clause("a", Op::Eq, v("1")),
                    clause("b", Op::Eq, v("2"))
                ]),
                Expr::Not(Box::new(clause("c", Op::Eq, v("3")))),
            ]))
        );
    }

    #[test]
    fn every_operator_and_operand() {
        for (text, op, operand) in [
            ("f != x", Op::NotEq, v("x")),
            ("f ~ \"two words\"", Op::Like, v("two words")),
            ("f !~ x", Op::NotLike, v("x")),
            (
                "f in (a, \"b c\")",
                Op::In,
                Operand::List(vec!["a".into(), "b c".into()]),
            ),
            ("f NOT IN (a)", Op::NotIn, Operand::List(vec!["a".into()])),
            ("f is EMPTY", Op::Is, Operand::Empty),
            ("f IS NOT null", Op::IsNot, Operand::Empty),
            ("f <= 3", Op::LessEq, v("3")),
            ("f>3", Op::Greater, v("3")),
            ("cf[10050] = Low", Op::Eq, v("Low")),
        ] {
            let q = parse(text).unwrap();
            let Some(Expr::Clause(c)) = q.condition else {
                panic!("{text}: {q:?}");
            };
            assert_eq!((c.op, c.operand), (op, operand), "{text}");
        }
        assert_eq!(
            parse("'Change risk' = Low").unwrap().condition,
            Some(clause("Change risk", Op::Eq, v("Low")))
        );
    }

    #[test]
    fn escapes_decode() {
        let q = parse(r#"labels = "a\nb\tc\u00e9\'d""#).unwrap();
        assert_eq!(
            q.condition,
            Some(clause("labels", Op::Eq, v("a\nb\tc\u{e9}'d")))
        );
    }

    #[test]
    fn not_is_pushed_into_the_operators() {
        let q = parse("NOT (a = 1 OR b IS EMPTY) AND NOT NOT c ~ x").unwrap();
        assert_eq!(
            q.condition.unwrap().without_not(false),
            Expr::And(vec![
                Expr::And(vec![
                    clause("a", Op::NotEq, v("1")),
                    clause("b", Op::IsNot, Operand::Empty),
                ]),
                clause("c", Op::Like, v("x")),
            ])
        );
    }

    #[test]
    fn empty_and_order_only_are_unbounded() {
        assert!(parse("").unwrap().unbounded());
        assert!(parse("order by created DESC").unwrap().unbounded());
        assert!(!parse("key = OPS-1").unwrap().unbounded());
    }

    #[test]
    fn syntax_errors_read_like_jiras() {
        for (bad, want) in [
            (
                "invalid query",
                "Error in the JQL Query: Expecting operator but got 'query'. The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character 9)",
            ),
            (
                "labels = )",
                "Error in the JQL Query: Expecting either a value, list or function but got ')'. You must surround ')' in quotation marks to use it as a value. (line 1, character 10)",
            ),
            (
                "(labels = x",
                "Error in the JQL Query: Expecting ')' before the end of the query.",
            ),
            (
                "labels = x foo = y",
                "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'. (line 1, character 12)",
            ),
            (
                "labels =",
                "Error in the JQL Query: Expecting either a value, list or function before the end of the query.",
            ),
            (
                "labels = \"x",
                "Error in the JQL Query: Missing closing quote in the string starting at character 10. (line 1, character 10)",
            ),
            (
                "labels = \"a\\qb\"",
                "Error in the JQL Query: '\\q' is an illegal JQL escape sequence. The valid escape sequences are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX. (line 1, character 12)",
            ),
            (
                "assignee = me()",
                "Error in the JQL Query: Unable to find JQL function 'me()'.",
            ),
            (
                "AND = x",
                "Error in the JQL Query: Expecting a field name but got 'AND'. (line 1, character 1)",
            ),
        ] {
            assert_eq!(parse(bad).unwrap_err(), want, "{bad}");
        }
        for bad in [
            "project = OPS OR",
            "project in ()",
            "project NOT x",
            "project = OPS ORDER BY key",
            "project = OPS ORDER created",
            "status IS",
            "a = 1 ! b = 2",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.starts_with("Error in the JQL Query: "), "{bad}: {err}");
        }
    }
}
