//! Harness input (SPEC section 8): run a Harness `JiraCreate`, `JiraUpdate` or `JiraApproval` step
//! as Harness means it, from the pipeline, stage, template or step file it is written in.
//!
//! The pieces are pure and tested on their own: [`jexl`] parses the Jexl subset of approval
//! criteria, [`fields`] applies Harness's string conventions to field values, [`expr`] resolves
//! `<+...>` expressions and secret references, [`connector`] reads the Jira connector, and
//! [`locate`] finds a node in a YAML file by path (for `--at` and for the step) while keeping the
//! outer file's line and column in every message.

pub mod connector;
pub mod expr;
pub mod fields;
pub mod jexl;
pub mod locate;

use locate::{KeyPath, Position};
use serde_yaml::Value;

/// Why a Harness file cannot be run. Always exit 2: the input is what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}{}", .hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
pub struct Error {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, naming the key, value or construct.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

/// A YAML file read whole, with its text kept for positions.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The file name for messages.
    pub file: String,
    /// The text.
    pub text: String,
    /// The parsed document.
    pub root: Value,
}

impl Doc {
    /// Parses `text`; a syntax error names its line and column.
    pub fn parse(file: &str, text: &str) -> Result<Doc, Error> {
        let root: Value = serde_yaml::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            let mut message = e.to_string();
            if let Some(cut) = message.find(" at line ") {
                message.truncate(cut);
            }
            Error {
                file: file.to_owned(),
                line,
                column,
                message: format!("not valid YAML: {message}"),
                hint: None,
            }
        })?;
        Ok(Doc {
            file: file.to_owned(),
            text: text.to_owned(),
            root,
        })
    }

    /// The value at `path`, if there is one.
    pub fn get(&self, path: &KeyPath) -> Option<&Value> {
        let mut node = &self.root;
        for segment in &path.0 {
            node = match segment {
                locate::Segment::Key(key) => node.as_mapping()?.get(key.as_str())?,
                locate::Segment::Index(i) => node.as_sequence()?.get(*i)?,
            };
        }
        Some(node)
    }

    /// The string at `path`; numbers and booleans as text.
    pub fn text_at(&self, path: &KeyPath) -> Option<String> {
        scalar_text(self.get(path)?)
    }

    /// Where `path` starts, or its nearest existing ancestor.
    pub fn position(&self, path: &KeyPath) -> Position {
        let mut path = path.clone();
        loop {
            if let Ok((position, _)) = locate::find(&self.text, &path) {
                return position;
            }
            if path.0.pop().is_none() {
                return Position { line: 1, column: 1 };
            }
        }
    }

    /// Where the key `key` of the map at `map` is written (its value's position when the key
    /// cannot be told apart, as in a flow map).
    pub fn key_position(&self, map: &KeyPath, key: &str) -> Position {
        let start = self.position(map);
        let value = self.position(&map.key(key));
        let lines: Vec<&str> = self.text.lines().collect();
        for line in (start.line..=value.line).rev() {
            let Some(text) = lines.get(line - 1) else {
                continue;
            };
            let rest: String = text.chars().skip(start.column - 1).collect();
            let rest = rest
                .strip_prefix(key)
                .or_else(|| rest.strip_prefix(&format!("\"{key}\"")))
                .or_else(|| rest.strip_prefix(&format!("'{key}'")));
            if rest.is_some_and(|r| r.trim_start().starts_with(':')) {
                return Position {
                    line,
                    column: start.column,
                };
            }
        }
        value
    }

    /// An error at the key `key` of the map at `map`.
    pub fn key_error(
        &self,
        map: &KeyPath,
        key: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Error {
        let Position { line, column } = self.key_position(map, key);
        Error {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
            hint,
        }
    }

    /// An error at `path`.
    pub fn error(&self, path: &KeyPath, message: impl Into<String>, hint: Option<String>) -> Error {
        let Position { line, column } = self.position(path);
        Error {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
            hint,
        }
    }

    /// An error from [`locate`], in this file.
    pub fn located(&self, e: locate::Error) -> Error {
        Error {
            file: self.file.clone(),
            line: e.position.line,
            column: e.position.column,
            message: e.message,
            hint: e.hint,
        }
    }

    /// The keys of the map at `path` that are not in `known`.
    pub fn other_keys(&self, path: &KeyPath, known: &[&str]) -> Vec<String> {
        self.get(path)
            .and_then(Value::as_mapping)
            .map(|map| {
                map.keys()
                    .filter_map(scalar_text)
                    .filter(|k| !known.contains(&k.as_str()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A scalar as text (`5`, `true`, `Low`); `None` for null, lists and maps.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Tagged(tagged) => scalar_text(&tagged.value),
        Value::Null | Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

/// The closest of `candidates` to `got`, when close enough to be a misspelling.
pub fn did_you_mean<'a>(got: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&got.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .min_by_key(|(d, _)| *d)
        .filter(|(d, _)| *d <= (got.len() / 3).max(2))
        .map(|(_, c)| c)
}
pub mod criteria;
pub mod native;
pub mod step;
