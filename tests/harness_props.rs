//! Property tests for the Harness input (issue 10): the Jexl parser and the field-string
//! splitter never panic on any text, and their printed forms read back the same.

use jira_gate::harness::fields::{join, split};
use jira_gate::harness::jexl::{Comparison, Expr, Literal, Op, parse};
use jira_gate::harness::locate::{KeyPath, Segment};
use proptest::prelude::*;

/// A field name `<+issue.NAME>` or `<+issue["NAME"]>` can carry.
fn field() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 _]{0,10}[A-Za-z0-9]".prop_map(|s| s.trim().to_owned())
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        "[^\"\\\\]{0,8}".prop_map(Literal::Str),
        "[a-z\"\\\\ ]{0,6}".prop_map(Literal::Str),
        (0u32..100_000).prop_map(|n| Literal::Num(n.to_string())),
        any::<bool>().prop_map(Literal::Bool),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Eq),
        Just(Op::Ne),
        Just(Op::Lt),
        Just(Op::Le),
        Just(Op::Gt),
        Just(Op::Ge),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (field(), op(), literal()).prop_map(|(field, op, value)| {
            Expr::Compare(Comparison {
                field,
                op,
                value,
                column: 0,
            })
        }),
        any::<bool>().prop_map(Expr::Const),
    ];
    leaf.prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}

/// The tree without columns.
fn shape(e: &Expr) -> Expr {
    e.without_columns()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn jexl_never_panics(text in "\\PC{0,80}") {
        if let Err(e) = parse(&text) {
            prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1, "{e} in {text:?}");
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn jexl_never_panics_on_its_own_tokens(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("<+issue.a>"), Just("<+issue[\"b c\"]>"), Just("\"x\""), Just("'y'"), Just("3"),
                Just("-2.5"), Just("true"), Just("=="), Just("!="), Just("<"), Just("<="), Just(">"),
                Just(">="), Just("=~"), Just("&&"), Just("||"), Just("!"), Just("("), Just(")"),
                Just("+"), Just("<+pipeline.name>"), Just("\"(\""),
            ],
            0..24,
        )
    ) {
        let text = parts.join(" ");
        let _ = parse(&text);
    }

    #[test]
    fn printed_expressions_parse_back_to_the_same_tree(e in expr()) {
        let printed = e.to_string();
        let again = parse(&printed).map_err(|err| TestCaseError::fail(format!("{printed}: {err}")))?;
        prop_assert_eq!(shape(&again), shape(&e), "{}", printed);
    }

    #[test]
    fn splitting_never_panics(text in "\\PC{0,60}") {
        for item in split(&text) {
            prop_assert!(!item.trim().is_empty());
        }
    }

    #[test]
    fn joined_values_split_back(values in proptest::collection::vec("[^\"]{0,12}", 0..6)) {
        let values: Vec<String> = values.into_iter().filter(|v| !v.trim().is_empty()).collect();
        let joined = join(&values).expect("values without quotes can be joined");
        prop_assert_eq!(split(&joined), values);
    }

    #[test]
    fn key_paths_print_and_parse_back(
        segments in proptest::collection::vec(
            prop_oneof![
                "[A-Za-z_.\\[\\]\" -]{1,8}".prop_map(Segment::Key),
                (0usize..50).prop_map(Segment::Index),
            ],
            1..6,
        )
    ) {
        let mut segments = segments;
        if let Some(Segment::Index(_)) = segments.first() {
            segments.insert(0, Segment::Key("root".into()));
        }
        let path = KeyPath(segments);
        let printed = path.to_string();
        let again = KeyPath::parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert_eq!(again, path, "{}", printed);
    }
}
