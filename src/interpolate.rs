//! `${NAME}`, `${NAME:-default}` and `$$` in stanza values (SPEC section 1).
//!
//! Interpolation is plain text substitution from an environment lookup; it never runs a shell.
//! An unset variable without a default is an error that names it, never an empty string, because
//! an empty `summary` or `key` would silently change what the step does.

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
