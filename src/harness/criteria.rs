//! Harness approval and rejection criteria, as one tree (SPEC section 8).
//!
//! Both Harness forms end here: `KeyValues` conditions (`equals`, `not equals`, `in`, `not in`,
//! joined by `matchAnyCondition`) and Jexl expressions. Negations are pushed down to the tests
//! (`!(a == x)` is `a != x`, De Morgan for `&&` and `||`), so the tree has only "all", "any" and
//! field tests: the native criteria express most of it directly ([`Tree::to_native`] for
//! `convert`), and the criteria module evaluates the rest.

use serde_yaml::{Mapping, Value};

use super::fields::split;
use super::jexl::{Comparison, Expr, Literal, Op};

/// A criterion tree without negation.
#[derive(Debug, Clone, PartialEq)]
pub enum Tree {
    /// Every child holds (an empty list holds).
    All(Vec<Tree>),
    /// Some child holds (an empty list does not).
    Any(Vec<Tree>),
    /// A test on one field.
    Test {
        /// The field's name or id, as written.
        field: String,
        /// The test.
        test: Test,
    },
}

/// What a field is tested for.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Equal (case-insensitive text, numbers numerically).
    Eq(Literal),
    /// Not equal.
    Ne(Literal),
    /// One of these.
    In(Vec<String>),
    /// None of these.
    NotIn(Vec<String>),
    /// Less than.
    Lt(Literal),
    /// Less than or equal.
    Le(Literal),
    /// Greater than.
    Gt(Literal),
    /// Greater than or equal.
    Ge(Literal),
    /// The whole value matches the pattern.
    Matches(String),
    /// The value does not match the pattern.
    NotMatches(String),
}

/// A KeyValues condition that cannot be used, with the index of the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    /// Index in `conditions`.
    pub index: usize,
    /// Which key of the condition (`key`, `operator`).
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// The operators KeyValues conditions take.
pub const OPERATORS: &[&str] = &["equals", "not equals", "in", "not in"];

/// Builds the tree from KeyValues conditions (`(key, operator, value)`). Harness allows a field in
/// one condition only.
pub fn from_key_values(
    conditions: &[(String, String, String)],
    match_any: bool,
) -> Result<Tree, ConditionError> {
    let mut seen: Vec<String> = Vec::new();
    let mut tests = Vec::new();
    for (index, (key, operator, value)) in conditions.iter().enumerate() {
        let field = key.trim().to_owned();
        if field.is_empty() {
            return Err(ConditionError {
                index,
                key: "key",
                message: "the condition names no field".into(),
                hint: "set `key` to a field name, e.g. Status".into(),
            });
        }
        if let Some(first) = seen.iter().position(|s| s.eq_ignore_ascii_case(&field)) {
            return Err(ConditionError {
                index,
                key: "key",
                message: format!(
                    "the field `{field}` is already tested by condition {first}; Harness allows each field in one condition only"
                ),
                hint: "merge the two conditions, e.g. with `in`".into(),
            });
        }
        seen.push(field.clone());
        let test = match operator.trim() {
            "equals" => Test::Eq(Literal::Str(value.clone())),
            "not equals" => Test::Ne(Literal::Str(value.clone())),
            "in" => Test::In(split(value)),
            "not in" => Test::NotIn(split(value)),
            other => {
                let close = super::did_you_mean(other, OPERATORS);
                return Err(ConditionError {
                    index,
                    key: "operator",
                    message: format!("the operator `{other}` is not one Harness defines"),
                    hint: match close {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => format!("use one of: {}", OPERATORS.join(", ")),
                    },
                });
            }
        };
        tests.push(Tree::Test { field, test });
    }
    Ok(if match_any {
        Tree::Any(tests)
    } else {
        Tree::All(tests)
    })
}

/// Builds the tree from a parsed Jexl expression.
pub fn from_jexl(expr: &Expr) -> Tree {
    build(expr, false)
}

fn build(expr: &Expr, negated: bool) -> Tree {
    match expr {
        Expr::Not(inner) => build(inner, !negated),
        Expr::Const(b) => {
            if *b == negated {
                Tree::Any(Vec::new())
            } else {
                Tree::All(Vec::new())
            }
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            let is_and = matches!(expr, Expr::And(..)) != negated;
            let mut children = Vec::new();
            for child in [a, b] {
                match (build(child, negated), is_and) {
                    (Tree::All(inner), true) | (Tree::Any(inner), false) => children.extend(inner),
                    (other, _) => children.push(other),
                }
            }
            if is_and {
                Tree::All(children)
            } else {
                Tree::Any(children)
            }
        }
        Expr::Compare(Comparison {
            field, op, value, ..
        }) => {
            let value = value.clone();
            let test = match (op, negated) {
                (Op::Eq, false) | (Op::Ne, true) => Test::Eq(value),
                (Op::Ne, false) | (Op::Eq, true) => Test::Ne(value),
                (Op::Lt, false) | (Op::Ge, true) => Test::Lt(value),
                (Op::Le, false) | (Op::Gt, true) => Test::Le(value),
                (Op::Gt, false) | (Op::Le, true) => Test::Gt(value),
                (Op::Ge, false) | (Op::Lt, true) => Test::Ge(value),
                (Op::Matches, false) => Test::Matches(value.text()),
                (Op::Matches, true) => Test::NotMatches(value.text()),
            };
            Tree::Test {
                field: field.clone(),
                test,
            }
        }
    }
}

fn literal_yaml(literal: &Literal) -> Value {
    match literal {
        Literal::Str(s) => Value::String(super::expr::escape(s)),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Num(n) => serde_yaml::from_str::<Value>(n)
            .ok()
            .filter(Value::is_number)
            .unwrap_or_else(|| Value::String(n.clone())),
    }
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    let mut out = Mapping::new();
    for (k, v) in pairs {
        out.insert(Value::String(k.to_owned()), v);
    }
    Value::Mapping(out)
}

fn literal_value(literal: &Literal) -> crate::value::Value {
    use crate::value::Value as V;
    match literal {
        Literal::Str(s) => V::String(s.clone()),
        Literal::Bool(b) => V::Bool(*b),
        Literal::Num(n) => n
            .parse::<serde_json::Number>()
            .map_or_else(|_| V::String(n.clone()), V::Number),
    }
}

impl Tree {
    /// The tree in the criteria module's terms, which `run` evaluates. A pattern that does not
    /// compile is an error naming it (the Jexl parser has already checked it).
    pub fn to_criteria(&self) -> Result<crate::criteria::Criteria<crate::criteria::Named>, String> {
        use crate::criteria::{Criteria, FieldTest, Named, Ordering, Pattern};
        use crate::value::Value as V;
        let children = |list: &[Tree]| {
            list.iter()
                .map(Tree::to_criteria)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match self {
            Tree::All(list) => Criteria::All(children(list)?),
            Tree::Any(list) => Criteria::Any(children(list)?),
            Tree::Test { field, test } => {
                let status = field.eq_ignore_ascii_case("status");
                let strings = |items: &[String]| items.iter().cloned().map(V::String).collect();
                let pattern =
                    |p: &str| Pattern::new(p).map_err(|e| format!("the pattern {p:?}: {e}"));
                let test = match test {
                    Test::Eq(v) if status => return Ok(Criteria::Status(vec![v.text()])),
                    Test::In(items) if status => return Ok(Criteria::Status(items.clone())),
                    Test::Eq(v) => FieldTest::Equals(literal_value(v)),
                    Test::Ne(v) => FieldTest::NotEquals(literal_value(v)),
                    Test::In(items) => FieldTest::In(strings(items)),
                    Test::NotIn(items) => FieldTest::NotIn(strings(items)),
                    Test::Lt(v) => FieldTest::Order(Ordering::Less, literal_value(v)),
                    Test::Le(v) => FieldTest::Order(Ordering::LessOrEqual, literal_value(v)),
                    Test::Gt(v) => FieldTest::Order(Ordering::Greater, literal_value(v)),
                    Test::Ge(v) => FieldTest::Order(Ordering::GreaterOrEqual, literal_value(v)),
                    Test::Matches(p) => FieldTest::Matches(pattern(p)?),
                    Test::NotMatches(p) => FieldTest::NotMatches(pattern(p)?),
                };
                Criteria::Field {
                    name: field.clone(),
                    id: Named,
                    test,
                }
            }
        })
    }

    /// The native criterion (SPEC section 1) meaning the same, or the name of the part that has
    /// no native form (ordering comparisons, `=~`, a constant condition).
    pub fn to_native(&self) -> Result<Value, String> {
        match self {
            Tree::All(children) | Tree::Any(children) => {
                if children.is_empty() {
                    return Err(format!(
                        "a condition that is always {}",
                        matches!(self, Tree::All(_))
                    ));
                }
                if children.len() == 1 {
                    return children[0].to_native();
                }
                let list = children
                    .iter()
                    .map(Tree::to_native)
                    .collect::<Result<Vec<_>, _>>()?;
                let key = if matches!(self, Tree::All(_)) {
                    "all"
                } else {
                    "any"
                };
                Ok(map(vec![(key, Value::Sequence(list))]))
            }
            Tree::Test { field, test } => {
                let name = Value::String(super::expr::escape(field));
                let list = |items: &[String]| {
                    Value::Sequence(
                        items
                            .iter()
                            .map(|i| Value::String(super::expr::escape(i)))
                            .collect(),
                    )
                };
                let status = field.eq_ignore_ascii_case("status");
                Ok(match test {
                    Test::Eq(v) if status => map(vec![("status", literal_yaml(v))]),
                    Test::In(items) if status => map(vec![("status", list(items))]),
                    Test::Eq(v) => map(vec![("field", name), ("equals", literal_yaml(v))]),
                    Test::Ne(v) => map(vec![("field", name), ("not_equals", literal_yaml(v))]),
                    Test::In(items) => map(vec![("field", name), ("in", list(items))]),
                    Test::NotIn(items) => map(vec![("field", name), ("not_in", list(items))]),
                    Test::Lt(_) | Test::Le(_) | Test::Gt(_) | Test::Ge(_) => {
                        return Err(format!("the ordering comparison on `{field}`"));
                    }
                    Test::Matches(_) | Test::NotMatches(_) => {
                        return Err(format!("the regex match `=~` on `{field}`"));
                    }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::jexl::parse;
    use super::*;

    fn kv(items: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        items
            .iter()
            .map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into()))
            .collect()
    }

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn key_values_any_and_all() {
        let tree = from_key_values(
            &kv(&[
                ("Status", "in", "Done, Approved"),
                ("Priority", "not equals", "Low"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(
            tree.to_native().unwrap(),
            yaml("all: [{status: [Done, Approved]}, {field: Priority, not_equals: Low}]")
        );
        let tree = from_key_values(&kv(&[("Status", "equals", "Done")]), true).unwrap();
        assert_eq!(tree.to_native().unwrap(), yaml("status: Done"));
    }

    #[test]
    fn key_values_mistakes() {
        let err = from_key_values(
            &kv(&[("Status", "equals", "A"), ("status", "equals", "B")]),
            true,
        )
        .unwrap_err();
        assert_eq!((err.index, err.key), (1, "key"));
        assert!(err.message.contains("one condition only"), "{err:?}");
        let err = from_key_values(&kv(&[("Status", "equal", "A")]), true).unwrap_err();
        assert_eq!(err.hint, "did you mean `equals`?");
    }

    #[test]
    fn conditions_on_fields_other_than_status_test_that_field() {
        let tree = from_key_values(
            &kv(&[
                ("Priority", "in", "High, Highest"),
                ("Risk", "equals", "Low"),
                ("Env", "not in", "prod"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(
            tree.to_native().unwrap(),
            yaml(
                "all: [{field: Priority, in: [High, Highest]}, {field: Risk, equals: Low}, \
                 {field: Env, not_in: [prod]}]"
            )
        );
        let criteria = tree
            .to_criteria()
            .unwrap()
            .resolve(&mut |n: &str| Ok::<_, ()>(n.to_lowercase()))
            .unwrap();
        let issue = |priority: &str, risk: &str, env: &str| {
            let mut fields = serde_json::Map::new();
            fields.insert("priority".into(), serde_json::json!({"name": priority}));
            fields.insert("risk".into(), serde_json::json!({"value": risk}));
            fields.insert("env".into(), serde_json::json!(env));
            crate::criteria::Snapshot {
                status: "Open".into(),
                fields,
                ..crate::criteria::Snapshot::default()
            }
        };
        // The status is "Open" throughout: only the named fields decide.
        assert!(criteria.holds(&issue("Highest", "Low", "staging")));
        assert!(!criteria.holds(&issue("Low", "Low", "staging")));
        assert!(!criteria.holds(&issue("High", "High", "staging")));
        assert!(!criteria.holds(&issue("High", "Low", "prod")));
    }

    #[test]
    fn negations_are_pushed_down() {
        let expr = parse(r#"!(<+issue.Status> == "Done" || <+issue.n> < 3) && true"#).unwrap();
        assert_eq!(
            from_jexl(&expr),
            Tree::All(vec![
                Tree::Test {
                    field: "Status".into(),
                    test: Test::Ne(Literal::Str("Done".into()))
                },
                Tree::Test {
                    field: "n".into(),
                    test: Test::Ge(Literal::Num("3".into()))
                },
            ])
        );
        let expr = parse("!!false").unwrap();
        assert_eq!(from_jexl(&expr), Tree::Any(vec![]));
    }

    #[test]
    fn trees_evaluate_through_the_criteria_module() {
        use crate::criteria::{Order, Snapshot, Verdict, decide_in};
        let expr = parse(r#"<+issue.Status> == "Approved" && !(<+issue.Risk> =~ "Hi.*") && <+issue.Points> <= 5"#).unwrap();
        let resolve = |c: crate::criteria::Criteria<crate::criteria::Named>| {
            c.resolve(&mut |n: &str| Ok::<_, ()>(n.to_lowercase()))
                .unwrap()
        };
        let approve = resolve(from_jexl(&expr).to_criteria().unwrap());
        let reject = resolve(
            from_key_values(&kv(&[("Status", "in", "Approved, Rejected")]), true)
                .unwrap()
                .to_criteria()
                .unwrap(),
        );
        let issue = |status: &str, risk: &str, points: i64| {
            let mut fields = serde_json::Map::new();
            fields.insert("risk".into(), serde_json::json!({"value": risk}));
            fields.insert("points".into(), serde_json::json!(points));
            Snapshot {
                status: status.into(),
                category: String::new(),
                resolution: None,
                fields,
                ..Snapshot::default()
            }
        };
        for (order, (status, risk, points), verdict) in [
            (
                Order::ApprovalFirst,
                ("Approved", "Low", 5),
                Verdict::Approved,
            ),
            (
                Order::RejectionFirst,
                ("Approved", "Low", 5),
                Verdict::Rejected,
            ),
            (
                Order::ApprovalFirst,
                ("Approved", "High", 5),
                Verdict::Rejected,
            ),
            (
                Order::ApprovalFirst,
                ("Approved", "Low", 6),
                Verdict::Rejected,
            ),
            (Order::ApprovalFirst, ("Open", "Low", 1), Verdict::Pending),
        ] {
            let snapshot = issue(status, risk, points);
            assert_eq!(
                decide_in(order, &approve, Some(&reject), &snapshot),
                verdict,
                "{order:?} {status} {risk} {points}"
            );
        }
        assert!(
            approve.describe().contains("Risk does not match /Hi.*/"),
            "{}",
            approve.describe()
        );
    }

    #[test]
    fn jexl_to_native_where_it_can() {
        let expr = parse(
            r#"<+issue.Status> == "Approved" && (<+issue.Risk> != "High" || <+issue.Points> == 3)"#,
        )
        .unwrap();
        assert_eq!(
            from_jexl(&expr).to_native().unwrap(),
            yaml(
                "all: [{status: Approved}, {any: [{field: Risk, not_equals: High}, {field: Points, equals: 3}]}]"
            )
        );
        let expr = parse(r#"<+issue.Summary> =~ "x.*""#).unwrap();
        assert!(from_jexl(&expr).to_native().unwrap_err().contains("=~"));
        let expr = parse("<+issue.n> > 2").unwrap();
        assert!(
            from_jexl(&expr)
                .to_native()
                .unwrap_err()
                .contains("ordering")
        );
    }
}
