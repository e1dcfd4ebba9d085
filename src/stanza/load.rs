//! Reading a stanza: the bytes checked (size, NUL, UTF-8), the YAML parsed into a [`RawStanza`]
//! with interpolation, and serde's errors turned into located messages with a hint.
//!
//! serde_yaml is deprecated upstream; it is called from [`from_str`] only, so it can be swapped in
//! one place.

use super::error::Error;
use super::interpolate::{self, Lookup, references};
use super::raw::RawStanza;
use crate::locate::{self, KeyPath};

/// Stanzas larger than this are refused before parsing (a step definition is a few hundred bytes).
pub const MAX_STANZA_BYTES: usize = 256 * 1024;

/// Checks size, NUL bytes and UTF-8 before any YAML parsing.
pub fn decode(file: &str, bytes: &[u8]) -> Result<String, Error> {
    let located = |offset: usize, message: String, hint: &str| {
        let line = bytes[..offset].split(|&b| b == b'\n').count();
        let column = offset
            - bytes[..offset]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        Error::Parse {
            file: file.to_owned(),
            line,
            column,
            message,
            hint: Some(hint.to_owned()),
        }
    };
    if bytes.len() > MAX_STANZA_BYTES {
        return Err(located(
            0,
            format!(
                "the file is {} bytes; a step definition may be at most {MAX_STANZA_BYTES}",
                bytes.len()
            ),
            "is this the right file?",
        ));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(located(
            offset,
            "the file contains a NUL byte".into(),
            "is this a binary file?",
        ));
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        located(
            offset,
            "the file is not valid UTF-8".into(),
            "save the file as UTF-8",
        )
    })
}

/// Parses YAML text into a [`RawStanza`], interpolating values through `lookup`.
///
/// The only place serde_yaml is called.
pub fn from_str(text: &str, file: &str, lookup: Lookup<'_>) -> Result<RawStanza, Error> {
    let result = interpolate::scoped(text, lookup, || {
        serde_path_to_error::deserialize::<_, RawStanza>(serde_yaml::Deserializer::from_str(text))
    });
    // `${NAME}` of a set but empty variable is allowed (as in the shell) but rarely meant: a CI
    // variable defined from a missing secret or setting is empty, not unset.
    let empty: Vec<String> = references(text)
        .into_iter()
        .filter(|(name, has_default)| !has_default && lookup(name).is_some_and(|v| v.is_empty()))
        .map(|(name, _)| name)
        .fold(Vec::new(), |mut seen, name| {
            if !seen.contains(&name) {
                seen.push(name);
            }
            seen
        });
    let result = result.map(|mut raw| {
        raw.warnings = empty
            .iter()
            .map(|name| format!("{file}: `{name}` is set but empty, so `${{{name}}}` is an empty string (hint: check the variable, or write `${{{name}:-}}` if empty is meant)"))
            .collect();
        raw
    });
    result.map_err(|err| parse_error(err, text, file))
}

/// A serde_yaml error as the user should see it: their key path, line and column, no Rust type
/// names, and a hint where one helps.
fn parse_error(
    err: serde_path_to_error::Error<serde_yaml::Error>,
    text: &str,
    file: &str,
) -> Error {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let (line, column) = inner.location().map_or((1, 1), |l| (l.line(), l.column()));
    if let Some(error) = unquoted_reference(text, file, line, column) {
        return error;
    }
    let mut message = inner.to_string();
    if let Some(error) = tab_indentation(text, file, line, column, &message) {
        return error;
    }
    // serde_yaml places an error raised by a value's own parser (a duration, a URL) at whatever
    // event it read last, which can be the line before; the path leads to the value itself. A
    // key's errors (unknown, duplicate, missing) keep serde_yaml's place, on the key or its map.
    let about_a_key = ["unknown field", "duplicate field", "missing field"]
        .iter()
        .any(|k| message.contains(k));
    let (line, column) = if let Some(key) = duplicate_key(&message) {
        second_key(text, &path, key).unwrap_or((line, column))
    } else if about_a_key {
        (line, column)
    } else {
        position_of(text, &path).unwrap_or((line, column))
    };
    // serde_yaml appends " at line L column C" and may prefix the path; we print both ourselves.
    if let Some(cut) = message.find(" at line ") {
        message.truncate(cut);
    }
    // serde_yaml prefixes the path of the enclosing map ("ticket: unknown field ...",
    // "ticket.fields.Change risk: invalid type ..."); a path may hold spaces, as field names do.
    if let Some((head, _)) = message.split_once(": ") {
        if path.starts_with(head) {
            let cut = head.len() + 2;
            message.drain(..cut);
        }
    }
    // Our Rust type names mean nothing to the user.
    for raw in [
        "struct RawStanza",
        "struct RawJira",
        "struct RawAuth",
        "struct RawTicket",
        "struct RawApproval",
        "struct RawCriterion",
    ] {
        message = message.replace(raw, "a map of keys");
    }
    let mut hint = did_you_mean(&message).or_else(|| missing_key_hint(&message));
    if text.trim().is_empty() {
        hint = Some("the stanza is empty; start from one of the files in steps/".into());
    }
    // The hint names the keys; the long "expected one of" list would only repeat them.
    if let Some(cut) = message.find(", expected ") {
        if hint.is_some() {
            message.truncate(cut);
        }
    }
    let message = if path == "." || path.is_empty() {
        message
    } else {
        format!("`{path}`: {message}")
    };
    Error::Parse {
        file: file.to_owned(),
        line,
        column,
        message,
        hint,
    }
}

/// The key of serde's "duplicate field `url`".
fn duplicate_key(message: &str) -> Option<&str> {
    let rest = message.split_once("duplicate field `")?.1;
    Some(rest.split_once('`')?.0)
}

/// Where `key` is written a second time in the block map at `path` (serde_yaml points at the
/// map, or at the first one): the line and column of that second key. `None` for a flow map
/// (`{ a: 1, a: 2 }`) or a key written with quotes.
pub(super) fn second_key(text: &str, path: &str, key: &str) -> Option<(usize, usize)> {
    // The top-level map is the whole document, from its first line.
    let (first_line, column) = if path == "." || path.is_empty() {
        (1, 1)
    } else {
        position_of(text, path)?
    };
    let indent = column - 1;
    let mut seen = 0;
    for (number, content) in text.lines().enumerate().skip(first_line - 1) {
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        // The map's first line may start left of its first key (`- key: value` in a list).
        let depth = if number + 1 == first_line {
            indent
        } else {
            content.len() - trimmed.len()
        };
        if depth < indent {
            break; // the map has ended
        }
        let this_key = content
            .get(indent..)
            .and_then(|rest| rest.strip_prefix(key))
            .is_some_and(|rest| rest.trim_start().starts_with(':'));
        if depth == indent && this_key {
            seen += 1;
            if seen == 2 {
                return Some((number + 1, column));
            }
        }
    }
    None
}

/// A tab where YAML expects indentation: YAML's own message ("found character that cannot start
/// any token") does not say that tabs are never indentation in YAML.
pub(super) fn tab_indentation(
    text: &str,
    file: &str,
    line: usize,
    column: usize,
    message: &str,
) -> Option<Error> {
    let content = text.lines().nth(line.checked_sub(1)?)?;
    let at = content.chars().nth(column.checked_sub(1)?)?;
    let leading = content.chars().take(column).all(|c| c == ' ' || c == '\t');
    let tab_message =
        message.contains("cannot start any token") || message.contains("tab character");
    if at != '\t' || !leading || !tab_message {
        return None;
    }
    Some(Error::Parse {
        file: file.to_owned(),
        line,
        column,
        message: "a tab in the indentation: YAML indents with spaces only".into(),
        hint: Some(
            "replace the tab with spaces (two per level, as in the examples in steps/)".into(),
        ),
    })
}

/// Issue 8 #6: `auth: { type: pat, token: ${JIRA_PAT} }` is a YAML syntax error, because inside
/// a flow map `{`, `}` and `,` end a plain scalar: YAML reads `$` and then a nested map. When the
/// error's line (or the one before: the parser may notice at the next line) has an unquoted `${`
/// inside `{ }` or `[ ]` before the error, say so at the reference and show the quoted form.
fn unquoted_reference(text: &str, file: &str, line: usize, column: usize) -> Option<Error> {
    let lines: Vec<&str> = text.lines().collect();
    let candidates = [line, line.saturating_sub(1)];
    for number in candidates
        .into_iter()
        .filter(|&n| n >= 1 && n <= lines.len())
    {
        let content = lines[number - 1];
        // Up to and including the character the parser stopped at (1-based column).
        let end = if number == line {
            content
                .char_indices()
                .nth(column)
                .map_or(content.len(), |(i, _)| i)
        } else {
            content.len()
        };
        let Some(at) = unquoted_flow_reference(&content[..end]) else {
            continue;
        };
        let reference: String = content[at..]
            .find('}')
            .map_or(&content[at..], |close| &content[at..=at + close])
            .to_owned();
        return Some(Error::Parse {
            file: file.to_owned(),
            line: number,
            column: content[..at].chars().count() + 1,
            message: format!(
                "`{reference}` inside a flow map or list (`{{ }}`, `[ ]`) must be quoted: unquoted, YAML reads its `{{` as the start of another map"
            ),
            hint: Some(format!("write it quoted: '{reference}'")),
        });
    }
    None
}

/// The byte offset of the first `${` in `line` that starts a plain (unquoted) value inside a flow
/// collection: after `{`, `[`, `,` or `: ` with a `{` or `[` opened earlier on the line.
fn unquoted_flow_reference(line: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' if matches!(previous, '{' | '[' | ',' | ':' | ' ') => quote = Some(c),
                '#' if previous == ' ' => return None,
                '{' | '[' => depth += 1,
                '}' | ']' => depth = depth.saturating_sub(1),
                '$' if depth > 0 && line[i..].starts_with("${") => {
                    let before = line[..i].trim_end().chars().last();
                    if matches!(before, Some('{' | '[' | ',' | ':')) {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
        if !c.is_whitespace() || quote.is_none() {
            previous = c;
        }
    }
    None
}

/// The line and column of the node at `key` (a key path as the errors write it, e.g.
/// `approval.approve_when.all[1].status`) in `text`, if there is one.
pub(super) fn position_of(text: &str, key: &str) -> Option<(usize, usize)> {
    let path = KeyPath::parse(key).ok().filter(|p| !p.0.is_empty())?;
    let (position, _) = locate::find(text, &path).ok()?;
    Some((position.line, position.column))
}

/// For serde's "missing field `auth`": where the key goes.
fn missing_key_hint(message: &str) -> Option<String> {
    let rest = message.split_once("missing field `")?.1;
    let key = rest.split_once('`')?.0;
    Some(format!(
        "add `{key}:` to this map; the files in steps/ show a whole stanza"
    ))
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (and unknown variants), the closest
/// expected name.
pub(super) fn did_you_mean(message: &str) -> Option<String> {
    let (got, expected, what) = if let Some(rest) = message.strip_prefix("unknown field `") {
        let (got, expected) = rest.split_once("`, expected ")?;
        (got, expected, "keys")
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (got, expected) = rest.split_once("`, expected ")?;
        (got, expected, "values")
    } else {
        return None;
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&got.to_lowercase(), c), *c))
        .min_by_key(|(d, _)| *d)?;
    let limit = (got.len() / 3).max(2);
    if best.0 <= limit {
        Some(format!("did you mean `{}`?", best.1))
    } else {
        Some(format!("valid {what} here: {}", candidates.join(", ")))
    }
}

/// The JSON Schema of the stanza, as `jira-gate schema` prints it and `schemas/` stores it.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RawStanza);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::unquoted_flow_reference;

    #[test]
    fn only_an_unquoted_reference_inside_a_flow_collection_is_flagged() {
        for (line, want) in [
            ("auth: { type: pat, token: ${T} }", Some(26)),
            ("status: [${A}]", Some(9)),
            ("status: [a,${A}]", Some(11)),
            ("auth: { token:${T} }", Some(14)),
            // Plain block values and quoted ones are read as text.
            ("token: ${T}", None),
            ("auth: { token: '${T}' }", None),
            ("auth: { token: \"${T}\" }", None),
            // A quote ends only at its own kind of quote.
            ("auth: { a: '{x, ${T}' }", None),
            ("auth: { a: 'x', token: ${T} }", Some(23)),
            ("auth: { a: \"x'\", token: ${T} }", Some(24)),
            // A quote opens a value only at its start, not inside a word.
            ("auth: { a: it's, token: ${T} }", Some(24)),
            // A comment starts at `#` after a space; the rest of the line is not read.
            ("status: [a, # note, ${A}]", None),
            ("auth: { a: b#c, token: ${T} }", Some(23)),
            // Once the collection is closed, a reference is no longer inside it.
            ("a: {b: c} d: ${X}", None),
            // Only `${` opens a reference, and only after `{`, `[`, `,` or `:`.
            ("status: [a, $HOME]", None),
            ("status: [a ${A}]", None),
        ] {
            assert_eq!(unquoted_flow_reference(line), want, "{line}");
        }
    }
}
