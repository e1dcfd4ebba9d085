//! A parsed query against the sandbox: [`Query::check`] names what Jira would refuse (an unknown
//! field, an operator the field does not take, a value that does not exist), and
//! [`Checked::matches`] evaluates the query on an issue.
//!
//! As in Jira, the negative operators (`!=`, `NOT IN`, `!~`, and a `NOT` pushed into them) never
//! match an empty field, `resolution = Unresolved` means no resolution, `~` matches words (a
//! word of the text starting with each word asked for, `*` allowed at the end), and names,
//! options and statuses compare case-insensitively, by name or id.

use super::{Clause, Expr, Op, Operand, Query};
use crate::state::{JqlField, JqlKind, State, jql_field};

/// A query whose fields are resolved; it can be evaluated.
#[derive(Debug)]
pub(crate) struct Checked {
    condition: Option<Cond>,
    /// `Some(true)` for `ORDER BY created DESC`, `Some(false)` for ASC.
    pub order_desc: Option<bool>,
}

#[derive(Debug)]
enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Clause {
        field: JqlField,
        kind: JqlKind,
        op: Op,
        operand: Operand,
    },
}

/// What Jira objects to in a query: `errors` make it meaningless; `warnings` name values that
/// do not exist (`jql/parse` lists them apart, a search refuses them as errors).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Problems {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Problems {
    /// Every message, errors first.
    pub fn all(self) -> Vec<String> {
        self.errors.into_iter().chain(self.warnings).collect()
    }
}

impl Query {
    /// Resolves the fields against the sandbox's catalogue and checks each clause as Jira does.
    pub fn check(&self, st: &State) -> Result<Checked, Problems> {
        let mut problems = Problems::default();
        let condition = self
            .condition
            .clone()
            .map(|e| resolve(e.without_not(false), st, &mut problems));
        if problems.errors.is_empty() && problems.warnings.is_empty() {
            Ok(Checked {
                condition,
                order_desc: self.order_desc,
            })
        } else {
            Err(problems)
        }
    }
}

fn resolve(expr: Expr, st: &State, problems: &mut Problems) -> Cond {
    match expr {
        Expr::And(list) => Cond::And(list.into_iter().map(|e| resolve(e, st, problems)).collect()),
        Expr::Or(list) => Cond::Or(list.into_iter().map(|e| resolve(e, st, problems)).collect()),
        // `without_not` has removed every `NOT`.
        Expr::Not(inner) => resolve(inner.without_not(true), st, problems),
        Expr::Clause(clause) => resolve_clause(clause, st, problems),
    }
}

fn resolve_clause(clause: Clause, st: &State, problems: &mut Problems) -> Cond {
    let Clause { field, op, operand } = clause;
    let Some((target, kind)) = jql_field(&field) else {
        problems.errors.push(format!(
            "Field '{field}' does not exist or you do not have permission to view it."
        ));
        return Cond::And(Vec::new());
    };
    if let Some(message) = operator_problem(&field, kind, op, &operand) {
        problems.errors.push(message);
    }
    let values: &[String] = match &operand {
        Operand::Value(v) => std::slice::from_ref(v),
        Operand::List(list) => list,
        Operand::Empty => &[],
    };
    for value in values {
        if kind == JqlKind::Number && value.trim().parse::<f64>().is_err() {
            problems.errors.push(format!(
                "The value '{value}' is not a valid number for the field '{field}'."
            ));
        } else if !st.jql_value_exists(target, value) {
            problems.warnings.push(missing_value(target, &field, value));
        }
    }
    Cond::Clause {
        field: target,
        kind,
        op,
        operand,
    }
}

/// Jira's message when `op` does not fit the field or the operand; `None` when it does.
fn operator_problem(field: &str, kind: JqlKind, op: Op, operand: &Operand) -> Option<String> {
    let allowed = match kind {
        JqlKind::Text => matches!(op, Op::Like | Op::NotLike | Op::Is | Op::IsNot),
        JqlKind::Number => !matches!(op, Op::Like | Op::NotLike),
        JqlKind::Plain => matches!(
            op,
            Op::Eq | Op::NotEq | Op::In | Op::NotIn | Op::Is | Op::IsNot
        ),
    };
    let symbol = op.symbol();
    let shape = match (op, operand) {
        (Op::Is | Op::IsNot | Op::Eq | Op::NotEq, Operand::Empty)
        | (Op::In | Op::NotIn, Operand::List(_)) => None,
        (Op::Is | Op::IsNot, _) => Some(format!(
            "The operator '{symbol}' can only be used with the 'EMPTY' or 'NULL' keywords for field '{field}'."
        )),
        (Op::In | Op::NotIn, Operand::Value(v)) => Some(format!(
            "Operator '{symbol}' does not support the non-list value '\"{v}\"' for field '{field}'."
        )),
        (_, Operand::List(list)) => Some(format!(
            "Operator '{symbol}' does not support the list value '({})' for field '{field}'.",
            list.join(", ")
        )),
        (_, Operand::Empty) => Some(format!(
            "Operator '{symbol}' does not support searching for EMPTY values for field '{field}'."
        )),
        (_, Operand::Value(_)) => None,
    };
    shape.or_else(|| {
        (!allowed)
            .then(|| format!("The operator '{symbol}' is not supported by the '{field}' field."))
    })
}

fn missing_value(target: JqlField, field: &str, value: &str) -> String {
    match target {
        JqlField::Key if !valid_key(value) => {
            format!("The issue key '{value}' for field '{field}' is invalid.")
        }
        JqlField::Key => format!("An issue with key '{value}' does not exist for field '{field}'."),
        _ => format!("The value '{value}' does not exist for the field '{field}'."),
    }
}

/// `PROJ-123` (letters, digits and `_` before the dash) or a numeric id.
fn valid_key(value: &str) -> bool {
    if value.chars().all(|c| c.is_ascii_digit()) && !value.is_empty() {
        return true;
    }
    value.split_once('-').is_some_and(|(project, number)| {
        project
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && project
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit())
    })
}

impl Checked {
    /// Whether the issue at `idx` matches (a query without a condition matches every issue).
    pub fn matches(&self, st: &State, idx: usize) -> bool {
        self.condition.as_ref().is_none_or(|c| holds(c, st, idx))
    }
}

fn holds(cond: &Cond, st: &State, idx: usize) -> bool {
    match cond {
        Cond::And(list) => list.iter().all(|c| holds(c, st, idx)),
        Cond::Or(list) => list.iter().any(|c| holds(c, st, idx)),
        Cond::Clause {
            field,
            kind,
            op,
            operand,
        } => {
            let items = st.jql_items(idx, *field);
            clause_holds(&items, *field, *kind, *op, operand)
        }
    }
}

fn clause_holds(
    items: &[Vec<String>],
    field: JqlField,
    kind: JqlKind,
    op: Op,
    operand: &Operand,
) -> bool {
    let empty = items.is_empty();
    let is = |value: &str| {
        if matches!(field, JqlField::Resolution) && value.trim().eq_ignore_ascii_case("unresolved")
        {
            return empty;
        }
        items
            .iter()
            .any(|item| item.iter().any(|name| same(name, value, kind)))
    };
    match (op, operand) {
        (Op::Is | Op::Eq, Operand::Empty) => empty,
        (Op::IsNot | Op::NotEq, Operand::Empty) => !empty,
        (Op::Eq, Operand::Value(v)) => is(v),
        (Op::NotEq, Operand::Value(v)) => !empty && !is(v),
        (Op::In, Operand::List(list)) => list.iter().any(|v| is(v)),
        (Op::NotIn, Operand::List(list)) => !empty && !list.iter().any(|v| is(v)),
        (Op::Like, Operand::Value(v)) => has_words(items, v),
        (Op::NotLike, Operand::Value(v)) => !empty && !has_words(items, v),
        (Op::Less | Op::LessEq | Op::Greater | Op::GreaterEq, Operand::Value(v)) => {
            let (Some(wanted), [item]) = (number(v), items) else {
                return false;
            };
            item.first()
                .and_then(|n| number(n))
                .is_some_and(|n| match op {
                    Op::Less => n < wanted,
                    Op::LessEq => n <= wanted,
                    Op::Greater => n > wanted,
                    _ => n >= wanted,
                })
        }
        _ => false,
    }
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse().ok()
}

fn same(name: &str, value: &str, kind: JqlKind) -> bool {
    if kind == JqlKind::Number {
        if let (Some(a), Some(b)) = (number(name), number(value)) {
            return (a - b).abs() <= f64::EPSILON * a.abs().max(b.abs()).max(1.0);
        }
    }
    name.trim().to_lowercase() == value.trim().to_lowercase()
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '*'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether some value's text has every word of `wanted` (as a word's start).
fn has_words(items: &[Vec<String>], wanted: &str) -> bool {
    let wanted = words(wanted);
    !wanted.is_empty()
        && items.iter().any(|item| {
            let text: Vec<String> = item.iter().flat_map(|t| words(t)).collect();
            wanted.iter().all(|w| {
                let stem = w.trim_end_matches('*');
                text.iter().any(|t| t.starts_with(stem))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Flavor;
    use crate::jql::parse;
    use serde_json::json;

    fn state() -> State {
        let mut st = State::new(Flavor::Cloud, "OPS", "ci-bot@example.com");
        let api = crate::state::Api {
            flavor: Flavor::Cloud,
            v3: false,
        };
        for fields in [
            json!({"summary": "Deploy checkout-api 1.4.2", "labels": ["deploy", "tested"],
                   "customfield_10050": {"value": "Low"}, "customfield_10053": 7}),
            json!({"summary": "Rotate keys"}),
        ] {
            let mut fields = fields;
            fields["project"] = json!({"key": "OPS"});
            fields["issuetype"] = json!({"name": "Change"});
            st.create(&json!({ "fields": fields }), api).unwrap();
        }
        st
    }

    fn hits(st: &State, jql: &str) -> Vec<String> {
        let checked = parse(jql)
            .unwrap()
            .check(st)
            .unwrap_or_else(|p| panic!("{jql}: {p:?}"));
        (0..st.issues.len())
            .filter(|&i| checked.matches(st, i))
            .map(|i| st.issues[i].key.clone())
            .collect()
    }

    #[test]
    fn evaluates_every_operator_the_criteria_use() {
        let st = state();
        for (jql, want) in [
            ("labels = tested", &["OPS-1"][..]),
            ("labels = TESTED", &["OPS-1"]),
            ("labels != tested", &[]),
            ("labels IS EMPTY", &["OPS-2"]),
            ("labels is not empty", &["OPS-1"]),
            ("labels = EMPTY", &["OPS-2"]),
            ("labels in (x, deploy)", &["OPS-1"]),
            ("labels not in (x)", &["OPS-1"]),
            ("NOT labels = tested", &[]),
            ("key = OPS-2 OR labels = deploy", &["OPS-1", "OPS-2"]),
            (
                "key = OPS-1 AND (labels = x OR status = 'To Do')",
                &["OPS-1"],
            ),
            ("key = OPS-1 AND NOT (labels = x OR labels = y)", &["OPS-1"]),
            ("key in (OPS-1, 10001)", &["OPS-1", "OPS-2"]),
            ("project = OPS AND status != Done", &["OPS-1", "OPS-2"]),
            (
                "project = Operations and statusCategory = 'To Do'",
                &["OPS-1", "OPS-2"],
            ),
            ("statusCategory = new", &["OPS-1", "OPS-2"]),
            ("statusCategory = done", &[]),
            ("resolution = Unresolved", &["OPS-1", "OPS-2"]),
            ("resolution IS EMPTY", &["OPS-1", "OPS-2"]),
            ("resolution = Done", &[]),
            ("issuetype = Change", &["OPS-1", "OPS-2"]),
            ("type = Task", &[]),
            ("summary ~ checkout", &["OPS-1"]),
            ("summary ~ 'deploy checkout'", &["OPS-1"]),
            ("summary ~ 'check*'", &["OPS-1"]),
            ("summary !~ checkout", &["OPS-2"]),
            ("summary ~ rollback", &[]),
            ("'Change risk' = low", &["OPS-1"]),
            ("cf[10050] = 10100", &["OPS-1"]),
            ("cf[10050] in (Medium, High)", &[]),
            ("cf[10050] is empty", &["OPS-2"]),
            ("cf[10050] != Low", &[]),
            ("reporter = 'CI Bot'", &["OPS-1", "OPS-2"]),
        ] {
            assert_eq!(hits(&st, jql), want, "{jql}");
        }
    }

    #[test]
    fn names_what_jira_refuses() {
        let st = state();
        for (jql, errors, warnings) in [
            (
                "universe = 42",
                &["Field 'universe' does not exist or you do not have permission to view it."][..],
                &[][..],
            ),
            (
                "summary = test",
                &["The operator '=' is not supported by the 'summary' field."],
                &[],
            ),
            (
                "labels ~ x",
                &["The operator '~' is not supported by the 'labels' field."],
                &[],
            ),
            (
                "summary in test",
                &[
                    "Operator 'in' does not support the non-list value '\"test\"' for field 'summary'.",
                ],
                &[],
            ),
            (
                "status = Aproved",
                &[],
                &["The value 'Aproved' does not exist for the field 'status'."],
            ),
            (
                "key = OPS-99",
                &[],
                &["An issue with key 'OPS-99' does not exist for field 'key'."],
            ),
            (
                "key = nonsense",
                &[],
                &["The issue key 'nonsense' for field 'key' is invalid."],
            ),
            (
                "'Risk score' > many",
                &["The value 'many' is not a valid number for the field 'Risk score'."],
                &[],
            ),
        ] {
            let problems = parse(jql).unwrap().check(&st).unwrap_err();
            assert_eq!(
                problems,
                Problems {
                    errors: errors.iter().map(|s| (*s).to_owned()).collect(),
                    warnings: warnings.iter().map(|s| (*s).to_owned()).collect(),
                },
                "{jql}"
            );
        }
    }

    #[test]
    fn numbers_compare_numerically() {
        let st = state();
        for (jql, want) in [
            ("'Risk score' = 7.0", &["OPS-1"][..]),
            ("'Risk score' > 6", &["OPS-1"]),
            ("'Risk score' <= 6", &[]),
            ("'Risk score' >= 7", &["OPS-1"]),
        ] {
            assert_eq!(hits(&st, jql), want, "{jql}");
        }
    }
}
