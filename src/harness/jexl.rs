//! The subset of Jexl that Harness approval criteria use (SPEC section 8), parsed by hand.
//!
//! Harness writes `approvalCriteria: { type: Jexl, spec: { expression: ... } }` with expressions
//! such as `<+issue.Status> == "Approved" && <+issue.Priority> != "Low"`. jira-gate accepts:
//! `<+issue.FIELD>` (or `<+issue["FIELD"]>`), string, number and boolean literals, the comparisons
//! `== != < <= > >=`, the regex match `=~`, `&& || !` and parentheses. Anything else (arithmetic,
//! method calls, ternaries, other `<+...>` expressions) is refused with the column of the token
//! and its name, because guessing at a condition that decides a deploy is worse than stopping.
//!
//! Precedence, loosest first: `||`, `&&`, `!`, comparisons. A comparison compares one field with
//! one literal (either side); `!` applies to a condition. The parser builds an [`Expr`] tree; the
//! criteria module evaluates it, so there is one evaluator for native and Harness criteria.

use std::fmt;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// The condition does not hold.
    Not(Box<Expr>),
    /// `true` or `false` written as a whole condition.
    Const(bool),
    /// A field compared with a literal.
    Compare(Comparison),
}

/// `<+issue.FIELD> OP literal`, normalised so the field is on the left.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The field name or id as written after `issue.`.
    pub field: String,
    /// The operator (flipped when the literal was written first).
    pub op: Op,
    /// The literal.
    pub value: Literal,
    /// 1-based column of the field reference, for messages.
    pub column: usize,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=~`: the whole value matches the regular expression.
    Matches,
}

impl Op {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Matches => "=~",
        }
    }

    /// The same comparison with its operands swapped (`1 < x` is `x > 1`).
    fn flipped(self) -> Option<Op> {
        Some(match self {
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            Op::Matches => return None,
            same => same,
        })
    }
}

/// A literal operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A quoted string, escapes resolved.
    Str(String),
    /// A number, as written.
    Num(String),
    /// `true` or `false`.
    Bool(bool),
}

impl Literal {
    /// The literal as the text a field value is compared with.
    pub fn text(&self) -> String {
        match self {
            Literal::Str(s) | Literal::Num(s) => s.clone(),
            Literal::Bool(b) => b.to_string(),
        }
    }
}

/// Why an expression was refused. `column` is 1-based, in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Where the offending token starts.
    pub column: usize,
    /// What is wrong, naming the token.
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for Error {}

/// Expressions longer than this are refused (a criterion is a line or two).
pub const MAX_LEN: usize = 4096;
/// Nesting deeper than this is refused, so the recursive parser cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

const SUPPORTED: &str = "jira-gate supports <+issue.FIELD>, string/number/boolean literals, == != < <= > >= =~, && || ! and parentheses";

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(String),
    Str(String),
    Num(String),
    Bool(bool),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Field(f) => format!("`<+issue.{f}>`"),
            Tok::Str(s) => format!("the string {s:?}"),
            Tok::Num(n) => format!("the number {n}"),
            Tok::Bool(b) => format!("`{b}`"),
            Tok::Op(op) => format!("`{}`", op.symbol()),
            Tok::And => "`&&`".into(),
            Tok::Or => "`||`".into(),
            Tok::Not => "`!`".into(),
            Tok::Open => "`(`".into(),
            Tok::Close => "`)`".into(),
            Tok::End => "the end of the expression".into(),
        }
    }
}

/// Parses one expression.
pub fn parse(source: &str) -> Result<Expr, Error> {
    if source.len() > MAX_LEN {
        return Err(Error {
            column: 1,
            message: format!(
                "the expression is {} bytes; at most {MAX_LEN} are accepted",
                source.len()
            ),
        });
    }
    let tokens = lex(source)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let expr = parser.or()?;
    let (tok, column) = parser.peek();
    if *tok != Tok::End {
        return Err(Error {
            column,
            message: format!(
                "expected `&&`, `||` or the end of the expression, found {}",
                tok.describe()
            ),
        });
    }
    Ok(expr)
}

fn lex(source: &str) -> Result<Vec<(Tok, usize)>, Error> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, len) = match (c, next) {
            ('<', Some('+')) => field(&chars, i)?,
            ('"' | '\'', _) => string(&chars, i)?,
            ('0'..='9', _) => number(&chars, i),
            ('-', Some('0'..='9')) => {
                let (tok, len) = number(&chars, i + 1);
                match tok {
                    Tok::Num(n) => (Tok::Num(format!("-{n}")), len + 1),
                    other => (other, len + 1),
                }
            }
            ('=', Some('=')) => (Tok::Op(Op::Eq), 2),
            ('=', Some('~')) => (Tok::Op(Op::Matches), 2),
            ('!', Some('=')) => (Tok::Op(Op::Ne), 2),
            ('<', Some('=')) => (Tok::Op(Op::Le), 2),
            ('>', Some('=')) => (Tok::Op(Op::Ge), 2),
            ('<', _) => (Tok::Op(Op::Lt), 1),
            ('>', _) => (Tok::Op(Op::Gt), 1),
            ('&', Some('&')) => (Tok::And, 2),
            ('|', Some('|')) => (Tok::Or, 2),
            ('!', _) => (Tok::Not, 1),
            ('(', _) => (Tok::Open, 1),
            (')', _) => (Tok::Close, 1),
            (c, _) if c.is_alphabetic() || c == '_' || c == '$' => {
                let end = (i..chars.len())
                    .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '$'))
                    .unwrap_or(chars.len());
                let word: String = chars[i..end].iter().collect();
                match word.as_str() {
                    "true" => (Tok::Bool(true), end - i),
                    "false" => (Tok::Bool(false), end - i),
                    "and" | "or" | "not" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
                        return Err(unsupported(
                            column,
                            &format!("the word operator `{word}`"),
                            "write the symbol instead (&&, ||, !, ==, !=, <, <=, >, >=)",
                        ));
                    }
                    _ => {
                        return Err(unsupported(
                            column,
                            &format!("the name `{word}`"),
                            "refer to issue fields as <+issue.FIELD> and quote strings",
                        ));
                    }
                }
            }
            _ => {
                let what = match (c, next) {
                    ('&', _) => "`&` (bitwise and; did you mean `&&`?)".to_owned(),
                    ('|', _) => "`|` (bitwise or; did you mean `||`?)".to_owned(),
                    ('=', _) => "`=` (assignment; did you mean `==`?)".to_owned(),
                    ('?', _) => "the ternary `?:`".to_owned(),
                    ('+' | '-' | '*' | '/' | '%', _) => format!("the arithmetic operator `{c}`"),
                    ('[' | ']' | '{' | '}', _) => format!("`{c}` (arrays and maps)"),
                    ('.', _) => "`.` (property access or a method call)".to_owned(),
                    _ => format!("the character `{c}`"),
                };
                return Err(unsupported(column, &what, SUPPORTED));
            }
        };
        tokens.push((tok, column));
        i += len;
    }
    tokens.push((Tok::End, chars.len() + 1));
    Ok(tokens)
}

fn unsupported(column: usize, what: &str, hint: &str) -> Error {
    Error {
        column,
        message: format!("unsupported Jexl: {what} (hint: {hint})"),
    }
}

/// `<+issue.NAME>` or `<+issue["NAME"]>`, starting at `chars[start] == '<'`.
fn field(chars: &[char], start: usize) -> Result<(Tok, usize), Error> {
    let column = start + 1;
    let Some(close) = (start + 2..chars.len()).find(|&j| chars[j] == '>') else {
        return Err(Error {
            column,
            message: "`<+` has no closing `>`".into(),
        });
    };
    let inner: String = chars[start + 2..close].iter().collect();
    let inner = inner.trim();
    let name = if let Some(rest) = inner.strip_prefix("issue.") {
        Some(rest.trim().to_owned())
    } else if let Some(rest) = inner.strip_prefix("issue[") {
        rest.strip_suffix(']')
            .map(str::trim)
            .and_then(|q| {
                q.strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .or_else(|| q.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')))
            })
            .map(str::to_owned)
    } else {
        None
    };
    match name {
        Some(name) if !name.is_empty() => Ok((Tok::Field(name), close + 1 - start)),
        _ => Err(unsupported(
            column,
            &format!("the expression `<+{inner}>`"),
            "in approval criteria only issue fields can be read: <+issue.FIELD> or <+issue[\"FIELD NAME\"]>",
        )),
    }
}

fn string(chars: &[char], start: usize) -> Result<(Tok, usize), Error> {
    let quote = chars[start];
    let mut out = String::new();
    let mut j = start + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' => {
                let Some(&escaped) = chars.get(j + 1) else {
                    break;
                };
                out.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
                j += 2;
            }
            c if c == quote => return Ok((Tok::Str(out), j + 1 - start)),
            c => {
                out.push(c);
                j += 1;
            }
        }
    }
    Err(Error {
        column: start + 1,
        message: format!("the string starting here has no closing {quote}"),
    })
}

fn number(chars: &[char], start: usize) -> (Tok, usize) {
    let mut end = start;
    let mut dot = false;
    while end < chars.len() {
        match chars[end] {
            '0'..='9' => end += 1,
            '.' if !dot && chars.get(end + 1).is_some_and(char::is_ascii_digit) => {
                dot = true;
                end += 1;
            }
            _ => break,
        }
    }
    (Tok::Num(chars[start..end].iter().collect()), end - start)
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> (&Tok, usize) {
        let (tok, column) = &self.tokens[self.at.min(self.tokens.len() - 1)];
        (tok, *column)
    }

    fn bump(&mut self) -> (Tok, usize) {
        let (tok, column) = self.tokens[self.at.min(self.tokens.len() - 1)].clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        (tok, column)
    }

    fn deeper(&mut self, column: usize) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error {
                column,
                message: format!("the expression nests deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, Error> {
        let mut left = self.and()?;
        while *self.peek().0 == Tok::Or {
            self.bump();
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, Error> {
        let mut left = self.unary()?;
        while *self.peek().0 == Tok::And {
            self.bump();
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        let (tok, column) = self.peek();
        match tok {
            Tok::Not => {
                self.bump();
                self.deeper(column)?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Tok::Open => {
                self.bump();
                self.deeper(column)?;
                let inner = self.or()?;
                self.depth -= 1;
                let (close, at) = self.bump();
                if close != Tok::Close {
                    return Err(Error {
                        column: at,
                        message: format!(
                            "expected `)` to close the `(` at column {column}, found {}",
                            close.describe()
                        ),
                    });
                }
                self.no_comparison_after("a parenthesised condition")?;
                Ok(inner)
            }
            _ => self.comparison(),
        }
    }

    /// `(a) == b` and `x == y == z` compare a condition with a value, which the subset excludes.
    fn no_comparison_after(&self, what: &str) -> Result<(), Error> {
        if let (Tok::Op(op), column) = self.peek() {
            return Err(unsupported(
                column,
                &format!("`{}` after {what}", op.symbol()),
                "a comparison takes one <+issue.FIELD> and one literal; join conditions with && or ||",
            ));
        }
        Ok(())
    }

    fn comparison(&mut self) -> Result<Expr, Error> {
        let (left, left_col) = self.operand()?;
        let (tok, op_col) = self.peek();
        let Tok::Op(op) = *tok else {
            return match left {
                Tok::Bool(b) => Ok(Expr::Const(b)),
                other => Err(Error {
                    column: op_col,
                    message: format!(
                        "expected a comparison operator after {}, found {} (hint: {SUPPORTED})",
                        other.describe(),
                        tok.describe()
                    ),
                }),
            };
        };
        self.bump();
        let (right, right_col) = self.operand()?;
        self.no_comparison_after("a comparison")?;
        let (field, field_col, literal, op) = match (left, right) {
            (Tok::Field(_), Tok::Field(_)) => {
                return Err(unsupported(
                    right_col,
                    "comparing two fields",
                    "compare a field with a literal",
                ));
            }
            (Tok::Field(f), lit) => (f, left_col, lit, op),
            (lit, Tok::Field(f)) => {
                let Some(flipped) = op.flipped() else {
                    return Err(unsupported(
                        right_col,
                        "a field as the pattern of `=~`",
                        "write <+issue.FIELD> =~ \"pattern\"",
                    ));
                };
                (f, right_col, lit, flipped)
            }
            (_, _) => {
                return Err(unsupported(
                    left_col,
                    "comparing two literals",
                    "one side of a comparison must be <+issue.FIELD>",
                ));
            }
        };
        let value = match literal {
            Tok::Str(s) => Literal::Str(s),
            Tok::Num(n) => Literal::Num(n),
            Tok::Bool(b) => Literal::Bool(b),
            _ => unreachable!("operand() returns fields and literals only"),
        };
        if op == Op::Matches {
            let Literal::Str(pattern) = &value else {
                return Err(unsupported(
                    op_col,
                    "`=~` with a pattern that is not a string",
                    "write <+issue.FIELD> =~ \"pattern\"",
                ));
            };
            if let Err(e) = regex::Regex::new(pattern) {
                return Err(Error {
                    column: op_col,
                    message: format!(
                        "the pattern of `=~` is not a valid regular expression: {}",
                        e.to_string().lines().last().unwrap_or_default()
                    ),
                });
            }
        }
        Ok(Expr::Compare(Comparison {
            field,
            op,
            value,
            column: field_col,
        }))
    }

    fn operand(&mut self) -> Result<(Tok, usize), Error> {
        let (tok, column) = self.bump();
        match tok {
            Tok::Field(_) | Tok::Str(_) | Tok::Num(_) | Tok::Bool(_) => Ok((tok, column)),
            other => Err(Error {
                column,
                message: format!(
                    "expected <+issue.FIELD> or a literal, found {}",
                    other.describe()
                ),
            }),
        }
    }
}

impl Expr {
    /// The same tree with every column set to 0, for comparing shapes.
    #[must_use]
    pub fn without_columns(&self) -> Expr {
        match self {
            Expr::And(a, b) => {
                Expr::And(Box::new(a.without_columns()), Box::new(b.without_columns()))
            }
            Expr::Or(a, b) => {
                Expr::Or(Box::new(a.without_columns()), Box::new(b.without_columns()))
            }
            Expr::Not(a) => Expr::Not(Box::new(a.without_columns())),
            Expr::Const(b) => Expr::Const(*b),
            Expr::Compare(c) => Expr::Compare(Comparison {
                column: 0,
                ..c.clone()
            }),
        }
    }
}

impl fmt::Display for Expr {
    /// Writes the expression back as Jexl, parenthesised so it parses to the same tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(a, b) => write!(f, "({a} && {b})"),
            Expr::Or(a, b) => write!(f, "({a} || {b})"),
            Expr::Not(inner) => write!(f, "!{inner}"),
            Expr::Const(b) => write!(f, "{b}"),
            Expr::Compare(c) => {
                if c.field.chars().all(|ch| ch.is_alphanumeric() || ch == '_') {
                    write!(f, "(<+issue.{}>", c.field)?;
                } else {
                    write!(f, "(<+issue[{}]>", quote(&c.field))?;
                }
                write!(f, " {} ", c.op.symbol())?;
                match &c.value {
                    Literal::Str(s) => write!(f, "{})", quote(s)),
                    Literal::Num(n) => write!(f, "{n})"),
                    Literal::Bool(b) => write!(f, "{b})"),
                }
            }
        }
    }
}

fn quote(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(field: &str, op: Op, value: Literal) -> Expr {
        Expr::Compare(Comparison {
            field: field.into(),
            op,
            value,
            column: 0,
        })
    }

    fn shape(e: &Expr) -> Expr {
        e.without_columns()
    }

    fn s(text: &str) -> Literal {
        Literal::Str(text.into())
    }

    #[test]
    fn a_single_comparison() {
        assert_eq!(
            parse(r#"<+issue.Status> == "Approved""#).unwrap(),
            Expr::Compare(Comparison {
                field: "Status".into(),
                op: Op::Eq,
                value: s("Approved"),
                column: 1
            })
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tighter_than_and() {
        let e = parse(r#"<+issue.a> == "1" || <+issue.b> == "2" && !(<+issue.c> != "3")"#).unwrap();
        assert_eq!(
            shape(&e),
            Expr::Or(
                Box::new(cmp("a", Op::Eq, s("1"))),
                Box::new(Expr::And(
                    Box::new(cmp("b", Op::Eq, s("2"))),
                    Box::new(Expr::Not(Box::new(cmp("c", Op::Ne, s("3")))))
                ))
            )
        );
        let e = parse(r#"(<+issue.a> == "1" || <+issue.b> == "2") && <+issue.c> == "3""#).unwrap();
        assert!(matches!(e, Expr::And(..)), "{e:?}");
    }

    #[test]
    fn and_and_or_are_left_associative() {
        let e = parse("true && false && true").unwrap();
        assert_eq!(
            e,
            Expr::And(
                Box::new(Expr::And(
                    Box::new(Expr::Const(true)),
                    Box::new(Expr::Const(false))
                )),
                Box::new(Expr::Const(true))
            )
        );
    }

    #[test]
    fn literal_first_flips_the_operator() {
        let e = parse("10 < <+issue.Story Points>").unwrap();
        assert_eq!(
            shape(&e),
            cmp("Story Points", Op::Gt, Literal::Num("10".into()))
        );
        let e = parse(r#""Done" == <+issue["Status"]>"#).unwrap();
        assert_eq!(shape(&e), cmp("Status", Op::Eq, s("Done")));
    }

    #[test]
    fn literals_escapes_numbers_and_booleans() {
        let e = parse(r#"<+issue.x> == 'it\'s "ok"\\'"#).unwrap();
        assert_eq!(shape(&e), cmp("x", Op::Eq, s("it's \"ok\"\\")));
        let e = parse("<+issue.x> >= -2.5").unwrap();
        assert_eq!(shape(&e), cmp("x", Op::Ge, Literal::Num("-2.5".into())));
        let e = parse("<+issue.flag> != false").unwrap();
        assert_eq!(shape(&e), cmp("flag", Op::Ne, Literal::Bool(false)));
    }

    #[test]
    fn regex_match_is_checked_when_parsed() {
        let e = parse(r#"<+issue.Summary> =~ "deploy .*""#).unwrap();
        assert_eq!(shape(&e), cmp("Summary", Op::Matches, s("deploy .*")));
        let err = parse(r#"<+issue.Summary> =~ "(unclosed""#).unwrap_err();
        assert_eq!(err.column, 18);
        assert!(
            err.message.contains("not a valid regular expression"),
            "{err}"
        );
        let err = parse(r#""x" =~ <+issue.Summary>"#).unwrap_err();
        assert!(err.message.contains("pattern of `=~`"), "{err}");
    }

    #[test]
    fn unsupported_tokens_are_named_with_their_column() {
        for (text, column, name) in [
            ("<+issue.a> + 1 == 2", 12, "`+`"),
            (r#"<+issue.a> == "x" ? true : false"#, 19, "ternary"),
            ("<+issue.a>.size() > 1", 11, "`.`"),
            (r#"<+issue.a> == "x" and true"#, 19, "`and`"),
            (r#"<+pipeline.name> == "x""#, 1, "`<+pipeline.name>`"),
            (r#"<+issue.a> = "x""#, 12, "`=`"),
            (r#"<+issue.a> =~ ["x"]"#, 15, "`[`"),
            ("size(<+issue.a>) > 1", 1, "`size`"),
            ("<+issue.a> == null", 15, "`null`"),
            ("<+issue.a> & true", 12, "`&`"),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.column, column, "{text}: {err}");
            assert!(err.message.contains("unsupported Jexl"), "{text}: {err}");
            assert!(err.message.contains(name), "{text}: {err}");
        }
    }

    #[test]
    fn shapes_outside_the_subset_are_errors_with_a_column() {
        for (text, column) in [
            ("", 1),
            ("<+issue.a>", 11),
            ("(<+issue.a> == \"x\"", 19),
            ("<+issue.a> == \"x\")", 18),
            ("<+issue.a> == <+issue.b>", 15),
            ("\"a\" == \"b\"", 1),
            ("<+issue.a> == \"x\" == true", 19),
            ("(true) == true", 8),
            ("<+issue.a == \"x\"", 1),
            ("<+issue.a> == \"unterminated", 15),
            ("<+issue.> == \"x\"", 1),
            ("!", 2),
            ("&& true", 1),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.column, column, "{text}: {err}");
        }
    }

    #[test]
    fn a_condition_compared_again_is_named_as_unsupported() {
        for (text, column, what) in [
            ("<+issue.a> == \"x\" == true", 19, "`==` after a comparison"),
            ("(true) != false", 8, "`!=` after a parenthesised condition"),
            (
                "(<+issue.a> == 1) < 2",
                19,
                "`<` after a parenthesised condition",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.column, column, "{text}: {err}");
            assert!(
                err.message
                    .starts_with(&format!("unsupported Jexl: {what}")),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}true{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&deep).unwrap_err().message.contains("nests deeper"));
        let nots = format!("{}true", "!".repeat(500));
        assert!(parse(&nots).is_err());
        assert!(parse(&format!("{}true", "!".repeat(10))).is_ok());
    }

    #[test]
    fn display_parses_back_to_the_same_tree() {
        for text in [
            r#"<+issue.Status> == "Done" && !(<+issue["Change risk"]> == "High") || false"#,
            r#"<+issue.n> <= 3 || <+issue.s> =~ "a\"b\\.c""#,
        ] {
            let e = parse(text).unwrap();
            let again = parse(&e.to_string()).unwrap();
            assert_eq!(shape(&e), shape(&again), "{e}");
        }
    }

    #[test]
    fn unsupported_characters_say_what_they_are_in_jexl() {
        for (text, what) in [
            ("<+issue.a> & true", "`&` (bitwise and; did you mean `&&`?)"),
            ("<+issue.a> | true", "`|` (bitwise or; did you mean `||`?)"),
            ("<+issue.a> = \"x\"", "`=` (assignment; did you mean `==`?)"),
            ("<+issue.a> ? 1 : 2", "the ternary `?:`"),
            ("<+issue.a> * 2 == 4", "the arithmetic operator `*`"),
            ("<+issue.a> % 2 == 0", "the arithmetic operator `%`"),
            ("<+issue.a> =~ {}", "`{` (arrays and maps)"),
            (
                "<+issue.a>.length == 1",
                "`.` (property access or a method call)",
            ),
            ("<+issue.a> == #", "the character `#`"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(
                err.message
                    .starts_with(&format!("unsupported Jexl: {what} (hint: ")),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn a_bare_word_is_named_whole_and_word_operators_get_their_symbol() {
        for (text, what) in [
            ("size_of(<+issue.a>) > 1", "the name `size_of`"),
            ("_x == 1", "the name `_x`"),
            ("$env == 1", "the name `$env`"),
            ("a$b == 1", "the name `a$b`"),
            ("x2 == 1", "the name `x2`"),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.column, 1, "{text}: {err}");
            assert!(err.message.contains(what), "{text}: {err}");
        }
        for word in ["and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge"] {
            let err = parse(&format!("<+issue.a> == 1 {word} true")).unwrap_err();
            assert_eq!(err.column, 17, "{word}: {err}");
            assert!(
                err.message.contains(&format!("the word operator `{word}`"))
                    && err.message.contains("write the symbol instead"),
                "{word}: {err}"
            );
        }
    }

    #[test]
    fn a_number_takes_at_most_one_decimal_point_followed_by_a_digit() {
        let e = parse("<+issue.x> == 1.25").unwrap();
        assert_eq!(shape(&e), cmp("x", Op::Eq, Literal::Num("1.25".into())));
        for (text, column) in [("<+issue.x> == 1.2.3", 18), ("<+issue.x> == 1.", 16)] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.column, column, "{text}: {err}");
            assert!(err.message.contains("`.`"), "{text}: {err}");
        }
    }

    #[test]
    fn nesting_is_counted_per_path_up_to_the_limit() {
        let at_limit = format!("{}true{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&at_limit).is_ok());
        let over = format!("{}true", "!".repeat(MAX_DEPTH + 1));
        assert!(parse(&over).unwrap_err().message.contains("nests deeper"));
        let siblings = vec!["(!true)"; 3 * MAX_DEPTH].join(" || ");
        assert!(parse(&siblings).is_ok());
    }

    #[test]
    fn display_writes_plain_names_with_a_dot_and_others_quoted() {
        for (text, shown) in [
            ("<+issue.risk_level> == 2", "(<+issue.risk_level> == 2)"),
            (
                r#"<+issue["Change risk"]> != "High""#,
                r#"(<+issue["Change risk"]> != "High")"#,
            ),
        ] {
            assert_eq!(parse(text).unwrap().to_string(), shown);
        }
    }

    #[test]
    fn a_printed_expression_is_one_line_with_its_escapes() {
        let e = parse(r#"<+issue["Change risk"]> == "line\none\t\"quoted\" back\\slash""#).unwrap();
        assert_eq!(
            shape(&e),
            cmp(
                "Change risk",
                Op::Eq,
                s("line\none\t\"quoted\" back\\slash")
            )
        );
        let shown = e.to_string();
        assert_eq!(
            shown,
            r#"(<+issue["Change risk"]> == "line\none\t\"quoted\" back\\slash")"#
        );
        assert_eq!(shape(&parse(&shown).unwrap()), shape(&e));
    }

    #[test]
    fn an_error_reads_as_its_column_then_its_message() {
        let err = parse("<+issue.a> + 1 == 2").unwrap_err();
        assert_eq!(err.to_string(), format!("column 12: {}", err.message));
        assert!(
            err.message
                .starts_with("unsupported Jexl: the arithmetic operator `+`")
        );
    }

    #[test]
    fn errors_name_the_token_that_was_found() {
        for (text, found) in [
            ("(<+issue.a> == \"x\"", "found the end of the expression"),
            (
                "<+issue.a> <+issue.b>",
                "after `<+issue.a>`, found `<+issue.b>`",
            ),
            ("<+issue.a> \"x\"", "found the string \"x\""),
            ("<+issue.a> 7", "found the number 7"),
            ("<+issue.a> true", "found `true`"),
            ("<+issue.a> == )", "found `)`"),
            ("<+issue.a> == (", "found `(`"),
            ("<+issue.a> == !", "found `!`"),
            ("<+issue.a> == ||", "found `||`"),
            ("<+issue.a> == &&", "found `&&`"),
            ("<+issue.a> == ==", "found `==`"),
            ("(true true", "found `true`"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.message.contains(found), "{text}: {err}");
        }
    }

    #[test]
    fn an_expression_of_exactly_the_maximum_length_is_accepted() {
        let head = "<+issue.a> == \"";
        let at_limit = format!("{head}{}\"", "x".repeat(MAX_LEN - head.len() - 1));
        assert_eq!(at_limit.len(), MAX_LEN);
        assert!(parse(&at_limit).is_ok());
        let over = format!("{head}{}\"", "x".repeat(MAX_LEN - head.len()));
        let err = parse(&over).unwrap_err();
        assert_eq!(err.column, 1);
        assert!(err.message.contains("at most 4096"), "{err}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let err = parse(r#"<+issue.é> == "ü" +"#).unwrap_err();
        assert_eq!(err.column, 19);
    }
}
