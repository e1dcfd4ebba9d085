//! The value a stanza gives a Jira field or a criterion operand, shared by `stanza` (which reads
//! it), `criteria` (which compares with it) and `jira` (which sends it).
//!
//! A leaf: it depends on nothing else in the crate, so the three users do not depend on each
//! other through it. Reading it from YAML (with interpolation) lives in `stanza`.

use std::collections::BTreeMap;

/// Any YAML value for a Jira field or a criterion operand; strings in it are interpolated.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null` or `~`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// Text.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A map (for fields that take objects, e.g. `{id: "10001"}`).
    Map(BTreeMap<String, Value>),
}

impl Value {
    /// The value as JSON, for sending to Jira.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => s.clone().into(),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Map(map) => map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
        }
    }

    /// Scalars as text (`5`, `true`, `Low`); `None` for null, lists and maps.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            Value::Null | Value::List(_) | Value::Map(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Value;
    use serde_json::json;

    #[test]
    fn a_value_goes_to_jira_as_the_json_it_was_written_as() {
        let value = Value::Map(
            [
                ("id".to_owned(), Value::String("10001".into())),
                (
                    "list".to_owned(),
                    Value::List(vec![
                        Value::Null,
                        Value::Bool(true),
                        Value::Number(42.into()),
                    ]),
                ),
            ]
            .into(),
        );
        assert_eq!(
            value.to_json(),
            json!({"id": "10001", "list": [null, true, 42]})
        );
        assert_eq!(Value::String("Low".into()).to_json(), json!("Low"));
    }

    #[test]
    fn only_scalars_read_as_text() {
        assert_eq!(Value::Number(7.into()).as_text().as_deref(), Some("7"));
        assert_eq!(Value::Bool(false).as_text().as_deref(), Some("false"));
        assert_eq!(
            Value::String("Low".into()).as_text().as_deref(),
            Some("Low")
        );
        for value in [Value::Null, Value::List(vec![]), Value::Map([].into())] {
            assert_eq!(value.as_text(), None, "{value:?}");
        }
    }
}
