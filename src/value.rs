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
