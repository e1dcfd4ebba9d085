//! `${NAME}`, `${NAME:-default}` and `$$` in stanza values (SPEC section 1).
//!
//! Interpolation is plain text substitution from an environment lookup; it never runs a shell.
//! An unset variable without a default is an error that names it, never an empty string, because
//! an empty `summary` or `key` would silently change what the step does.
//!
//! The lookup reaches the `Deserialize` impls of the scalar types through a thread-local that
//! `scoped` installs for one parse, so serde_yaml attaches the location of the value to any
//! error they raise.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `${NAME}` where NAME is not set and no default is given.
    Unset(String),
    /// `${` without a closing `}`, an empty name or a name with characters outside `[A-Za-z0-9_]`.
    Syntax(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unset(name) => write!(
                f,
                "environment variable `{name}` is not set (hint: export it, or give a default with `${{{name}:-value}}`)"
            ),
            Error::Syntax(detail) => write!(f, "{detail} (hint: write `$$` for a literal `$`)"),
        }
    }
}

/// Replaces every `${NAME}`, `${NAME:-default}` and `$$` in `text`.
///
/// A `$` followed by anything else is kept as it is, so prices and regexes survive. Defaults are
/// taken literally (they are not interpolated again). `${NAME:-x}` uses `x` when NAME is unset or
/// empty, like the shell.
pub fn interpolate(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            // The value is not quoted: it may be a secret.
            let end = body
                .find('}')
                .ok_or_else(|| Error::Syntax("`${` without a closing `}`".to_owned()))?;
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::Syntax(
                    "a `${...}` reference names no variable; names use letters, digits and `_`"
                        .to_owned(),
                ));
            }
            match (lookup(name), default) {
                (Some(value), Some(default)) if value.is_empty() => out.push_str(default),
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => return Err(Error::Unset(name.to_owned())),
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// An environment lookup: the variable's value, or `None` when it is unset.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;
type OwnedLookup = Box<dyn Fn(&str) -> Option<String>>;

thread_local! {
    static LOOKUP: RefCell<Option<OwnedLookup>> = const { RefCell::new(None) };
}

/// Runs `parse` with `lookup` installed for [`expand`]. The thread-local needs a 'static closure,
/// so the few names `text` mentions are looked up first.
pub(super) fn scoped<T>(text: &str, lookup: Lookup<'_>, parse: impl FnOnce() -> T) -> T {
    let mut names = BTreeMap::new();
    for (name, _) in references(text) {
        if let Some(value) = lookup(&name) {
            names.insert(name, value);
        }
    }
    LOOKUP.with(|cell| *cell.borrow_mut() = Some(Box::new(move |n: &str| names.get(n).cloned())));
    let result = parse();
    LOOKUP.with(|cell| *cell.borrow_mut() = None);
    result
}

/// Interpolates one scalar with the lookup [`scoped`] installed (none: every variable is unset).
pub(super) fn expand<E: serde::de::Error>(raw: &str) -> Result<String, E> {
    LOOKUP.with(|cell| {
        let guard = cell.borrow();
        let lookup: Lookup<'_> = match guard.as_ref() {
            Some(f) => f.as_ref(),
            None => &|_| None,
        };
        interpolate(raw, lookup).map_err(E::custom)
    })
}

/// The names referenced as `${NAME}` or `${NAME:-default}`, each with whether it has a default.
/// `$${` is a literal and references nothing.
pub(super) fn references(text: &str) -> Vec<(String, bool)> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find(['}', ':']).unwrap_or(body.len());
            names.push((body[..end].to_owned(), body[end..].starts_with(":-")));
            rest = &body[end..];
        } else {
            rest = after;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::{Error, interpolate};

    fn env(name: &str) -> Option<String> {
        match name {
            "USER" => Some("ci".into()),
            "EMPTY" => Some(String::new()),
            "QUOTE" => Some("a\"b ${NOT_EXPANDED}".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_defaults_and_dollars() {
        let cases = [
            ("plain", "plain"),
            ("${USER}", "ci"),
            ("hi ${USER}!", "hi ci!"),
            ("${MISSING:-fallback}", "fallback"),
            ("${MISSING:-}", ""),
            ("${EMPTY:-x}", "x"),
            ("${EMPTY}", ""),
            ("$$HOME", "$HOME"),
            ("cost $5", "cost $5"),
            ("end $", "end $"),
            ("${QUOTE}", "a\"b ${NOT_EXPANDED}"),
            ("${MISSING:-a:-b}", "a:-b"),
        ];
        for (input, want) in cases {
            assert_eq!(interpolate(input, &env).unwrap(), want, "input {input:?}");
        }
    }

    #[test]
    fn unset_is_an_error_naming_the_variable() {
        let err = interpolate("x ${JIRA_URL} y", &env).unwrap_err();
        assert_eq!(err, Error::Unset("JIRA_URL".into()));
        assert!(err.to_string().contains("`JIRA_URL` is not set"));
    }

    #[test]
    fn malformed_references_are_errors() {
        for bad in ["${USER", "${}", "${A B}", "${A-b}"] {
            assert!(
                matches!(interpolate(bad, &env), Err(Error::Syntax(_))),
                "{bad}"
            );
        }
    }
}
