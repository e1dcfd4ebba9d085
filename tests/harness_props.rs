//! Property tests for the Harness input (issue 10): the Jexl parser and the field-string
//! splitter never panic on any text, and their printed forms read back the same.

use jira_gate::harness::fields::{join, split};
use jira_gate::harness::jexl::{Comparison, Expr, Literal, Op, parse};
use jira_gate::locate::{KeyPath, Segment};
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

/// A YAML tree of maps and lists with plain scalar leaves.
fn tree() -> impl Strategy<Value = serde_yaml::Value> {
    let leaf = prop_oneof![
        "[a-z][a-z0-9 ]{0,6}".prop_map(serde_yaml::Value::String),
        (0u32..1000).prop_map(|n| serde_yaml::Value::Number(n.into())),
        any::<bool>().prop_map(serde_yaml::Value::Bool),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(serde_yaml::Value::Sequence),
            proptest::collection::btree_map("[a-z.][a-z.-]{0,5}", inner, 1..4).prop_map(|m| {
                serde_yaml::Value::Mapping(
                    m.into_iter()
                        .map(|(k, v)| (serde_yaml::Value::String(k), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// Every path to a map or list inside `value`, with the node.
fn containers(
    value: &serde_yaml::Value,
    path: &KeyPath,
    out: &mut Vec<(KeyPath, serde_yaml::Value)>,
) {
    match value {
        serde_yaml::Value::Mapping(map) => {
            if !path.0.is_empty() {
                out.push((path.clone(), value.clone()));
            }
            for (k, v) in map {
                containers(v, &path.key(k.as_str().unwrap()), out);
            }
        }
        serde_yaml::Value::Sequence(items) => {
            if !path.0.is_empty() {
                out.push((path.clone(), value.clone()));
            }
            for (i, v) in items.iter().enumerate() {
                containers(v, &path.index(i), out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn extracted_nodes_are_the_nodes_at_their_paths(root in tree(), pick in any::<prop::sample::Index>()) {
        let text = serde_yaml::to_string(&root).unwrap();
        let mut found = Vec::new();
        containers(&root, &KeyPath::default(), &mut found);
        prop_assume!(!found.is_empty());
        let (path, node) = &found[pick.index(found.len())];
        let extracted = jira_gate::locate::extract(&text, path)
            .map_err(|e| TestCaseError::fail(format!("{path}: {e:?}\n{text}")))?;
        let parsed: serde_yaml::Value = serde_yaml::from_str(&extracted.text)
            .map_err(|e| TestCaseError::fail(format!("{path}: {e}\n{}", extracted.text)))?;
        prop_assert_eq!(&parsed, node, "{}\n{}", path, text);
        // The lines before the node are blank, so positions are the outer file's.
        let (position, _) = jira_gate::locate::find(&text, path).unwrap();
        prop_assert!(extracted.text.lines().take(position.line - 1).all(str::is_empty));
    }
}

fn loader_env(name: &str) -> Option<String> {
    (name == "HARNESS_SECRET_JIRA_TOKEN").then(|| "tok".to_owned())
}

/// Runs the whole Harness loader on `text` for step `id`; only a panic fails.
fn load_any(text: &str, id: &str) {
    let connector = "connector:\n  type: Jira\n  spec:\n    jiraUrl: https://x.example.com\n    auth: { type: UsernamePassword, spec: { username: u, passwordRef: jira_token } }\n";
    for convert in [false, true] {
        let _ = jira_gate::harness::load(&jira_gate::harness::Request {
            file: "p.yaml",
            text,
            step: id,
            connector: Some(("c.yaml", connector)),
            vars: std::collections::BTreeMap::new(),
            env: &loader_env,
            issue_key: Some("OPS-1".into()),
            convert,
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_loader_never_panics_on_a_damaged_pipeline(
        cut in any::<prop::sample::Index>(),
        len in 0usize..40,
        insert in "[ \\-:\\[\\]{}<>+\"'#|a-z0-9\n]{0,6}",
        id in prop_oneof![Just("create_change"), Just("approve_change"), Just("approve_any"), Just("close_change")],
    ) {
        let text = include_str!("fixtures/harness/pipeline.yaml");
        let mut at = cut.index(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + len).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let damaged = format!("{}{insert}{}", &text[..at], &text[end..]);
        load_any(&damaged, id);
    }

    #[test]
    fn the_loader_never_panics_on_any_text(text in "\\PC{0,200}") {
        load_any(&text, "s");
    }
}
