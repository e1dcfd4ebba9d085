//! Property tests: criteria evaluation, JQL quoting and stanza interpolation (issue 4).

use jira_gate::criteria::{Criteria, FieldTest, Snapshot, Verdict, decide};
use jira_gate::jira::jql::quote;
use jira_gate::stanza::interpolate::interpolate;
use jira_gate::value::Value;
use proptest::prelude::*;
use serde_json::json;

/// A snapshot whose status is `status` and whose field `f` holds `field`.
fn snapshot(status: &str, field: serde_json::Value) -> Snapshot {
    let mut fields = serde_json::Map::new();
    fields.insert("f".into(), field);
    Snapshot {
        status: status.to_owned(),
        category: "indeterminate".into(),
        resolution: None,
        fields,
        ..Snapshot::default()
    }
}

fn field(test: FieldTest) -> Criteria {
    Criteria::Field {
        name: "F".into(),
        id: "f".into(),
        test,
    }
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 ']{0,12}"
}

/// A scalar field value as Jira sends it: text, a number, or an option object.
fn scalar() -> impl Strategy<Value = (serde_json::Value, String)> {
    prop_oneof![
        word().prop_map(|w| (json!(w), w)),
        (0i64..10_000).prop_map(|n| (json!(n), n.to_string())),
        word().prop_map(|w| (json!({"value": w, "id": "10001"}), w)),
    ]
}

proptest! {
    #[test]
    fn rejection_wins_when_both_hold(status in word()) {
        let both = Criteria::Status(vec![status.clone()]);
        let issue = snapshot(&status, json!(null));
        prop_assert_eq!(decide(&both, Some(&both), &issue), Verdict::Rejected);
        prop_assert_eq!(decide(&both, None, &issue), Verdict::Approved);
    }

    #[test]
    fn status_is_case_insensitive(status in word(), upper in any::<bool>()) {
        let written = if upper { status.to_uppercase() } else { status.to_lowercase() };
        let criterion = Criteria::Status(vec![format!(" {written} ")]);
        prop_assert!(criterion.holds(&snapshot(&status, json!(null))));
    }

    #[test]
    fn not_equals_is_the_negation_of_equals(
        (value, _) in scalar(),
        wanted in prop_oneof![word().prop_map(Value::String), Just(Value::Null)],
        list in proptest::collection::vec(scalar(), 0..4),
        as_list in any::<bool>(),
    ) {
        let value = if as_list {
            serde_json::Value::Array(list.into_iter().map(|(v, _)| v).collect())
        } else {
            value
        };
        let issue = snapshot("x", value);
        let eq = field(FieldTest::Equals(wanted.clone())).holds(&issue);
        let ne = field(FieldTest::NotEquals(wanted)).holds(&issue);
        prop_assert_ne!(eq, ne);
    }

    #[test]
    fn in_a_singleton_equals_equals_on_scalars((value, text) in scalar(), other in word(), same in any::<bool>()) {
        let wanted = Value::String(if same { text.to_uppercase() } else { other });
        let issue = snapshot("x", value);
        prop_assert_eq!(
            field(FieldTest::In(vec![wanted.clone()])).holds(&issue),
            field(FieldTest::Equals(wanted)).holds(&issue)
        );
    }

    #[test]
    fn not_in_a_disjoint_list_holds(
        values in proptest::collection::vec("[a-m]{1,6}", 0..4),
        others in proptest::collection::vec("[n-z]{1,6}", 0..4),
    ) {
        let issue = snapshot("x", json!(values));
        let list = others.into_iter().map(Value::String).collect::<Vec<_>>();
        prop_assert!(field(FieldTest::NotIn(list.clone())).holds(&issue));
        // `in` a disjoint list never holds (and never on an empty value).
        prop_assert!(!field(FieldTest::In(list)).holds(&issue));
    }

    #[test]
    fn in_and_not_in_exclude_each_other_on_scalars((value, _) in scalar(), list in proptest::collection::vec(word(), 1..4)) {
        let issue = snapshot("x", value);
        let list: Vec<Value> = list.into_iter().map(Value::String).collect();
        let is_in = field(FieldTest::In(list.clone())).holds(&issue);
        let not_in = field(FieldTest::NotIn(list)).holds(&issue);
        prop_assert_ne!(is_in, not_in);
    }

    #[test]
    fn empty_is_exclusive(value in prop_oneof![Just(json!(null)), Just(json!("")), Just(json!([])), scalar().prop_map(|(v, _)| v)]) {
        let issue = snapshot("x", value);
        prop_assert_ne!(
            field(FieldTest::Empty(true)).holds(&issue),
            field(FieldTest::Empty(false)).holds(&issue)
        );
    }

    #[test]
    fn jql_quote_round_trips(text in any::<String>()) {
        let quoted = quote(&text);
        prop_assert_eq!(unquote(&quoted), Some(text));
    }

    #[test]
    fn jql_quote_is_one_literal_on_one_line(text in any::<String>()) {
        let quoted = quote(&text);
        let inner = &quoted[1..quoted.len() - 1];
        prop_assert!(quoted.starts_with('"') && quoted.ends_with('"'));
        prop_assert!(!quoted.contains('\n') && !quoted.contains('\r'));
        prop_assert!(!quoted.chars().any(char::is_control));
        // Every `"` inside is escaped by an odd run of backslashes.
        let bytes = inner.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'"' {
                let run = bytes[..i].iter().rev().take_while(|c| **c == b'\\').count();
                prop_assert!(run % 2 == 1, "unescaped quote in {quoted}");
            }
        }
        // The literal does not end inside an escape.
        let trailing = bytes.iter().rev().take_while(|c| **c == b'\\').count();
        prop_assert!(trailing % 2 == 0, "{quoted} ends in an escape");
    }

    #[test]
    fn dollar_dollar_round_trips(text in any::<String>()) {
        // Doubling every `$` gives back the text, whatever it holds.
        let escaped = text.replace('$', "$$");
        prop_assert_eq!(interpolate(&escaped, &|_| None), Ok(text));
    }

    #[test]
    fn interpolation_takes_values_verbatim(value in any::<String>(), prefix in "[a-z ]{0,5}") {
        let lookup = |name: &str| (name == "V").then(|| value.clone());
        prop_assert_eq!(
            interpolate(&format!("{prefix}${{V}}{prefix}"), &lookup),
            Ok(format!("{prefix}{value}{prefix}"))
        );
    }

    #[test]
    fn defaults_apply_when_unset_or_empty(default in "[^}]{0,12}", set in proptest::option::of("[a-z]{0,3}")) {
        let lookup = |name: &str| if name == "V" { set.clone() } else { None };
        let got = interpolate(&format!("${{V:-{default}}}"), &lookup).unwrap();
        match &set {
            Some(v) if !v.is_empty() => prop_assert_eq!(&got, v),
            _ => prop_assert_eq!(got, default),
        }
    }

    #[test]
    fn interpolation_never_panics(text in any::<String>()) {
        let _ = interpolate(&text, &|n| (n.len() % 2 == 0).then(|| n.to_owned()));
    }
}

/// A JQL string literal reader: `"…"` with `\"`, `\\`, `\n`, `\t`, `\r`, `\uXXXX` escapes. `None`
/// when the text is not exactly one literal.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    if hex.len() != 4 {
                        return None;
                    }
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

#[test]
fn unquote_rejects_what_is_not_one_literal() {
    assert_eq!(unquote("\"a\" OR \"b\""), None);
    assert_eq!(unquote("\"a\\\""), None);
    assert_eq!(unquote("\"a\\u00e9\""), Some("aé".into()));
}
