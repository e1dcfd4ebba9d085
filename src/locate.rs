//! Nodes of a larger YAML file by path, with the outer file's lines and columns kept
//! (SPEC section 8: `--at KEY.PATH`, and the step inside a Harness file), and where a key path
//! is written (a stanza error placed at its value's line and column).
//!
//! A path is written `jobs.deploy.steps[2].with.step`: keys separated by dots, sequence indexes in
//! brackets, a key with a dot, bracket or quote written in double quotes (`"app.kubernetes.io"`).
//! A leading dot belongs to the first key, so `.jira-gate` names GitLab's hidden key `.jira-gate`.
//!
//! serde_yaml has no positions for values, but it attaches the position of the node being read to
//! an error. [`find`] walks the path with a visitor that fails on purpose when it reaches the
//! target, and reads the target's line and column from that error. [`extract`] then cuts the
//! node's text out of the file and blanks everything around it, so parsing the result reports
//! the same lines and columns as the outer file. A literal block scalar (`step: |`) holding a
//! stanza is cut the same way, its content lines kept where they are. A node that uses anchors
//! from elsewhere in the file, or merge keys (`<<: *defaults`), is read from the whole file
//! instead, starting on its first line.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A map key.
    Key(String),
    /// A sequence index (0-based).
    Index(usize),
}

/// A path into a YAML document; empty means the whole document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    /// Parses `a.b[2]."c.d"`.
    pub fn parse(text: &str) -> Result<KeyPath, String> {
        let chars: Vec<char> = text.trim().chars().collect();
        let mut segments = Vec::new();
        let mut i = 0;
        let bad = |i: usize, what: &str| {
            format!(
                "the path {text:?} is not valid at character {}: {what} (hint: write keys separated by dots, indexes as [N], and quote keys with dots: a.\"b.c\"[2])",
                i + 1
            )
        };
        // A leading dot is part of the first key (GitLab hidden keys start with one).
        let mut expect_key = true;
        let mut first = true;
        while i < chars.len() {
            match chars[i] {
                '[' => {
                    let end = (i + 1..chars.len())
                        .find(|&j| chars[j] == ']')
                        .ok_or_else(|| bad(i, "`[` has no closing `]`"))?;
                    let digits: String = chars[i + 1..end].iter().collect();
                    let index = digits
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| bad(i, "an index is a number, like [2]"))?;
                    if first {
                        return Err(bad(i, "a path starts with a key"));
                    }
                    segments.push(Segment::Index(index));
                    i = end + 1;
                    expect_key = false;
                }
                '.' if !expect_key => {
                    i += 1;
                    expect_key = true;
                    if i == chars.len() {
                        return Err(bad(i - 1, "the path ends with a dot"));
                    }
                }
                '"' if expect_key => {
                    let mut key = String::new();
                    let mut j = i + 1;
                    loop {
                        match chars.get(j) {
                            None => return Err(bad(i, "the quoted key has no closing quote")),
                            Some('\\') if j + 1 < chars.len() => {
                                key.push(chars[j + 1]);
                                j += 2;
                            }
                            Some('"') => break,
                            Some(&c) => {
                                key.push(c);
                                j += 1;
                            }
                        }
                    }
                    segments.push(Segment::Key(key));
                    i = j + 1;
                    expect_key = false;
                }
                '.' if !first => return Err(bad(i, "an empty key")),
                _ if expect_key => {
                    let start = i;
                    // The first character may be a dot (a hidden key); after it, a dot ends the key.
                    let mut j = i + 1;
                    while j < chars.len() && !matches!(chars[j], '.' | '[' | ']' | '"') {
                        j += 1;
                    }
                    let key: String = chars[start..j].iter().collect();
                    if key.is_empty() || key == "." {
                        return Err(bad(i, "an empty key"));
                    }
                    segments.push(Segment::Key(key));
                    i = j;
                    expect_key = false;
                }
                c => return Err(bad(i, &format!("unexpected `{c}`"))),
            }
            first = false;
        }
        if expect_key && !segments.is_empty() {
            return Err(bad(chars.len(), "the path ends with a dot"));
        }
        Ok(KeyPath(segments))
    }

    /// This path followed by a key.
    #[must_use]
    pub fn key(&self, key: &str) -> KeyPath {
        let mut out = self.clone();
        out.0.push(Segment::Key(key.to_owned()));
        out
    }

    /// This path followed by an index.
    #[must_use]
    pub fn index(&self, index: usize) -> KeyPath {
        let mut out = self.clone();
        out.0.push(Segment::Index(index));
        out
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let plain = !key.is_empty()
                        && key != "."
                        && key.trim() == key
                        && !key.contains(['[', ']', '"'])
                        && !key.chars().skip(1).any(|c| c == '.')
                        && (i == 0 || !key.starts_with('.'));
                    if plain {
                        f.write_str(key)?;
                    } else {
                        write!(f, "\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A 1-based line and column (in characters), as serde_yaml reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Line.
    pub line: usize,
    /// Column.
    pub column: usize,
}

/// What the path leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A map.
    Map,
    /// A sequence.
    Seq,
    /// A string (its value).
    Str(String),
    /// A number, boolean or null.
    Other,
}

/// Why a path leads nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Where: the map or list that lacks the step, or the syntax error.
    pub position: Position,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

enum Failure {
    Found(Kind),
    Missing {
        at: KeyPath,
        key: String,
        keys: Vec<String>,
    },
    OutOfRange {
        at: KeyPath,
        index: usize,
        len: usize,
    },
    Shape {
        at: KeyPath,
        wanted: &'static str,
        found: &'static str,
    },
}

struct Walk<'a> {
    full: &'a KeyPath,
    done: usize,
    failure: &'a RefCell<Option<Failure>>,
}

impl Walk<'_> {
    fn fail<E: de::Error>(&self, failure: Failure) -> E {
        *self.failure.borrow_mut() = Some(failure);
        E::custom("jira-gate: located")
    }

    fn here(&self) -> KeyPath {
        KeyPath(self.full.0[..self.done].to_vec())
    }

    fn next(&self) -> Option<&Segment> {
        self.full.0.get(self.done)
    }

    fn deeper(&self) -> Walk<'_> {
        Walk {
            full: self.full,
            done: self.done + 1,
            failure: self.failure,
        }
    }

    fn scalar<E: de::Error>(&self, kind: Kind) -> E {
        match self.next() {
            None => self.fail(Failure::Found(kind)),
            Some(segment) => self.fail(Failure::Shape {
                at: self.here(),
                wanted: if matches!(segment, Segment::Key(_)) {
                    "a map"
                } else {
                    "a list"
                },
                found: "a single value",
            }),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key as text, whatever scalar it is written as.
struct KeyText(String);

impl<'de> de::Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let wanted = match self.next() {
            None => return Err(self.fail(Failure::Found(Kind::Map))),
            Some(Segment::Index(_)) => {
                return Err(self.fail(Failure::Shape {
                    at: self.here(),
                    wanted: "a list",
                    found: "a map",
                }));
            }
            Some(Segment::Key(key)) => key.clone(),
        };
        let mut keys = Vec::new();
        while let Some(KeyText(key)) = map.next_key()? {
            if key == wanted {
                return map.next_value_seed(self.deeper());
            }
            map.next_value::<IgnoredAny>()?;
            keys.push(key);
        }
        Err(self.fail(Failure::Missing {
            at: self.here(),
            key: wanted,
            keys,
        }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let wanted = match self.next() {
            None => return Err(self.fail(Failure::Found(Kind::Seq))),
            Some(Segment::Key(_)) => {
                return Err(self.fail(Failure::Shape {
                    at: self.here(),
                    wanted: "a map",
                    found: "a list",
                }));
            }
            Some(Segment::Index(i)) => *i,
        };
        let mut len = 0;
        loop {
            if len == wanted {
                return match seq.next_element_seed(self.deeper())? {
                    Some(()) => Ok(()),
                    None => Err(self.fail(Failure::OutOfRange {
                        at: self.here(),
                        index: wanted,
                        len,
                    })),
                };
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Err(self.fail(Failure::OutOfRange {
                    at: self.here(),
                    index: wanted,
                    len,
                }));
            }
            len += 1;
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.scalar(Kind::Str(v.to_owned())))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.scalar(Kind::Other))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.scalar(Kind::Other))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.scalar(Kind::Other))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.scalar(Kind::Other))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.scalar(Kind::Other))
    }
    /// An empty document (nothing but comments, or nothing at all): no node to point at, which
    /// [`find`] reports as an empty file.
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Where the node at `path` starts, and what it is.
#[allow(clippy::too_many_lines)] // one walk down the path, segment by segment; splitting it scatters the position bookkeeping
pub fn find(text: &str, path: &KeyPath) -> Result<(Position, Kind), Error> {
    let failure = RefCell::new(None);
    let walk = Walk {
        full: path,
        done: 0,
        failure: &failure,
    };
    let result = walk.deserialize(serde_yaml::Deserializer::from_str(text));
    let err = match result {
        Ok(()) => {
            return Err(Error {
                position: Position { line: 1, column: 1 },
                message: "the file is empty".into(),
                hint: None,
            });
        }
        Err(err) => err,
    };
    let position = err
        .location()
        .map_or(Position { line: 1, column: 1 }, |l| Position {
            line: l.line(),
            column: l.column(),
        });
    let at = |p: &KeyPath| {
        if p.0.is_empty() {
            "the document".to_owned()
        } else {
            format!("`{p}`")
        }
    };
    match failure.into_inner() {
        Some(Failure::Found(kind)) => Ok((position, kind)),
        Some(Failure::Missing {
            at: here,
            key,
            keys,
        }) => {
            let close = keys
                .iter()
                .map(|k| {
                    (
                        strsim::levenshtein(&k.to_lowercase(), &key.to_lowercase()),
                        k,
                    )
                })
                .min_by_key(|(d, _)| *d)
                .filter(|(d, _)| *d <= (key.len() / 3).max(2))
                .map(|(_, k)| k.clone());
            Err(Error {
                position,
                message: format!("{} has no key `{key}`", at(&here)),
                hint: Some(match close {
                    Some(k) => format!("did you mean `{k}`?"),
                    None if keys.is_empty() => "the map is empty".into(),
                    None => format!("its keys: {}", keys.join(", ")),
                }),
            })
        }
        Some(Failure::OutOfRange {
            at: here,
            index,
            len,
        }) => Err(Error {
            position,
            message: format!(
                "{} has {len} items, so [{index}] is past its end",
                at(&here)
            ),
            hint: Some("indexes start at 0".into()),
        }),
        Some(Failure::Shape {
            at: here,
            wanted,
            found,
        }) => Err(Error {
            position,
            message: format!("{} is {found}, not {wanted}", at(&here)),
            hint: Some("check the path against the file".into()),
        }),
        None => {
            let mut message = err.to_string();
            if let Some(cut) = message.find(" at line ") {
                message.truncate(cut);
            }
            Err(Error {
                position,
                message: format!("the file is not valid YAML: {message}"),
                hint: None,
            })
        }
    }
}

/// The node at `path`, ready to parse on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Where it starts.
    pub position: Position,
    /// The node's text with everything else blanked: as many lines as before it, so a parser's
    /// line and column are the outer file's. For a string that is not a literal block scalar it is
    /// the string's value on the node's first line.
    pub text: String,
}

/// Cuts out the node at `path` (a map, a list, or a string holding YAML).
pub fn extract(text: &str, path: &KeyPath) -> Result<Node, Error> {
    if path.0.is_empty() {
        return Ok(Node {
            position: Position { line: 1, column: 1 },
            text: text.to_owned(),
        });
    }
    let (position, kind) = find(text, path)?;
    // YAML counts a lone carriage return as a line break too (found by the fuzzer: a line number
    // past the last '\n'-separated line panicked); count lines the way the parser did.
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalized.split('\n').collect();
    // An anchor or a tag before the node (`.jira-gate: &gate`) is where serde_yaml places it; the
    // node's own text comes after them.
    let (row, col) = past_properties(&lines, position.line - 1, position.column - 1);
    let start_char = lines
        .get(row)
        .and_then(|l| l.chars().nth(col))
        .unwrap_or(' ');
    let blank_before = |n: usize| "\n".repeat(n);
    let cut = match kind {
        Kind::Map | Kind::Seq if matches!(start_char, '{' | '[') => flow(&lines, row, col),
        Kind::Map | Kind::Seq => block(&lines, row, col, kind == Kind::Seq),
        Kind::Str(value) => {
            if start_char == '|' {
                if let Some(cut) = literal(&lines, row, &value) {
                    return Ok(Node {
                        position,
                        text: cut,
                    });
                }
            }
            // Another scalar style: its value, starting on the node's line.
            format!("{}{value}", blank_before(row))
        }
        Kind::Other => {
            return Err(Error {
                position,
                message: format!("`{path}` is a single value, not a step definition"),
                hint: Some("point the path at a map, or at a string holding YAML".into()),
            });
        }
    };
    // Anchors defined outside the node, and merge keys (`<<: *defaults`, common in GitLab CI),
    // only mean something in the whole file: read the node from it, aliases resolved and merges
    // applied, on the node's first line. Lines inside it are then approximate.
    if uses_anchors(&cut) {
        if let Some(text) = resolved(text, path, row) {
            return Ok(Node { position, text });
        }
    }
    Ok(Node {
        position,
        text: cut,
    })
}

fn uses_anchors(cut: &str) -> bool {
    cut.contains("<<:")
        || serde_yaml::from_str::<serde_yaml::Value>(cut)
            .is_err_and(|e| e.to_string().contains("unknown anchor"))
}

fn resolved(text: &str, path: &KeyPath, row: usize) -> Option<String> {
    let mut root: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    root.apply_merge().ok()?;
    let mut node = &root;
    for segment in &path.0 {
        node = match segment {
            Segment::Key(key) => node.as_mapping()?.get(key.as_str())?,
            Segment::Index(i) => node.as_sequence()?.get(*i)?,
        };
    }
    let mut node = node.clone();
    node.apply_merge().ok()?;
    if let serde_yaml::Value::Mapping(map) = &mut node {
        // apply_merge only merges at the top of the value it is called on.
        for value in map.values_mut() {
            value.apply_merge().ok()?;
        }
    }
    Some(format!(
        "{}{}",
        "\n".repeat(row),
        serde_yaml::to_string(&node).ok()?
    ))
}

/// Where a node starts once the anchor and tag written before it (`&gate`, `!!map`) are passed:
/// further on their line, or else the first line below them holding more than a comment.
fn past_properties(lines: &[&str], row: usize, col: usize) -> (usize, usize) {
    let line: Vec<char> = lines
        .get(row)
        .map_or_else(Vec::new, |l| l.chars().collect());
    let mut i = col;
    while matches!(line.get(i), Some('&' | '!')) {
        while line.get(i).is_some_and(|c| !c.is_whitespace()) {
            i += 1;
        }
        while line.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
    }
    if i == col {
        return (row, col);
    }
    if line.get(i).is_some_and(|c| *c != '#') {
        return (row, i);
    }
    lines
        .iter()
        .enumerate()
        .skip(row + 1)
        .find(|(_, l)| !is_filler(l))
        .map_or((row, col), |(r, l)| (r, indentation(l)))
}

fn indentation(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ').count()
}

fn is_filler(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// A block map or list starting at (row, col): lines until one is indented less (or, for a list,
/// as much but not an item), or a document marker.
fn block(lines: &[&str], row: usize, col: usize, seq: bool) -> String {
    let mut out: Vec<String> = vec![String::new(); row];
    let first: String = lines[row]
        .chars()
        .enumerate()
        .map(|(i, c)| if i < col { ' ' } else { c })
        .collect();
    out.push(first);
    for line in &lines[row + 1..] {
        if line.starts_with("---") || line.starts_with("...") {
            break;
        }
        if !is_filler(line) {
            let indent = indentation(line);
            let item = line.trim_start().starts_with("- ") || line.trim() == "-";
            if indent < col || (seq && indent == col && !item) {
                break;
            }
        }
        out.push((*line).to_owned());
    }
    out.join("\n")
}

/// A flow map or list starting at (row, col): up to its closing bracket.
fn flow(lines: &[&str], row: usize, col: usize) -> String {
    let mut out: Vec<String> = vec![String::new(); row];
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (r, line) in lines.iter().enumerate().skip(row) {
        let mut kept = String::new();
        for (i, c) in line.chars().enumerate() {
            if r == row && i < col {
                kept.push(' ');
                continue;
            }
            kept.push(c);
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if kept.ends_with(" #") => break,
                (None, '{' | '[') => depth += 1,
                (None, '}' | ']') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        out.push(kept);
                        return out.join("\n");
                    }
                }
                _ => {}
            }
        }
        out.push(kept);
    }
    out.join("\n")
}

/// The content of a literal block scalar whose `|` is on `row`, left in place; `None` when the
/// lines do not give back `value` (then the caller uses the value itself).
fn literal(lines: &[&str], row: usize, value: &str) -> Option<String> {
    let body = &lines[row + 1..];
    let indent = body
        .iter()
        .find(|l| !l.trim().is_empty())
        .map(|l| indentation(l))?;
    if indent == 0 {
        return None;
    }
    let mut kept = Vec::new();
    for line in body {
        if !line.trim().is_empty() && indentation(line) < indent {
            break;
        }
        kept.push(*line);
    }
    let dedented: Vec<&str> = kept.iter().map(|l| l.get(indent..).unwrap_or("")).collect();
    if dedented.join("\n").trim_end() != value.trim_end() {
        return None;
    }
    let mut out = vec![""; row + 1];
    out.extend(kept);
    Some(out.join("\n"))
}

#[cfg(test)]
mod tests {
    /// Found by the fuzzer: lone carriage returns are line breaks to YAML, so the node's line
    /// lies past the last '\n'-separated line; this panicked.
    #[test]
    fn lone_carriage_returns_count_as_lines() {
        let yaml = format!(
            "stages: [a]{}\n.jira-gate:\n  key: OPS-1\nafter: 1\n",
            "\r".repeat(60)
        );
        let path = KeyPath::parse(".jira-gate").unwrap();
        let node = extract(&yaml, &path).unwrap();
        assert!(node.text.contains("key: OPS-1"), "{:?}", node.text);
        assert!(!node.text.contains("after"), "{:?}", node.text);
        // Old Mac line ends throughout.
        let node = extract(".jira-gate:\r  key: OPS-2\rafter: 1\r", &path).unwrap();
        assert!(node.text.contains("key: OPS-2"), "{:?}", node.text);
    }

    use super::*;

    fn path(text: &str) -> KeyPath {
        KeyPath::parse(text).unwrap()
    }

    #[test]
    fn paths_parse_and_print() {
        assert_eq!(
            path("jobs.deploy.steps[2].with.step").0,
            vec![
                Segment::Key("jobs".into()),
                Segment::Key("deploy".into()),
                Segment::Key("steps".into()),
                Segment::Index(2),
                Segment::Key("with".into()),
                Segment::Key("step".into()),
            ]
        );
        assert_eq!(
            path(".jira-gate").0,
            vec![Segment::Key(".jira-gate".into())]
        );
        assert_eq!(
            path(r#"a."b.c"[0]."x[1]""#).0,
            vec![
                Segment::Key("a".into()),
                Segment::Key("b.c".into()),
                Segment::Index(0),
                Segment::Key("x[1]".into()),
            ]
        );
        for text in [
            "jobs.deploy.steps[2].with.step",
            ".jira-gate",
            r#"a."b.c"[0]."x[1]""#,
        ] {
            assert_eq!(path(text).to_string(), text);
        }
        for bad in ["a.", "a[x]", "a[1", "[0]", "a..b", "\"open", "a]"] {
            assert!(KeyPath::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(path("").0, vec![]);
    }

    const FILE: &str = "\
stages: [build]
.jira-gate:
  jira:
    url: https://x
  ticket: { key: OPS-1 }
deploy:
  script:
    - echo hi
  steps:
  - name: one
  - with:
      step: |
        jira:
          url: https://y
        ticket:
          key: OPS-2
    after: 1
\"a.b\": [1, {c: 2}]
";

    #[test]
    fn finds_nodes_with_their_position() {
        let (pos, kind) = find(FILE, &path(".jira-gate")).unwrap();
        assert_eq!((pos.line, pos.column, kind), (3, 3, Kind::Map));
        let (pos, _) = find(FILE, &path(".jira-gate.ticket")).unwrap();
        assert_eq!((pos.line, pos.column), (5, 11));
        let (pos, _) = find(FILE, &path("deploy.steps[1]")).unwrap();
        assert_eq!((pos.line, pos.column), (11, 5));
        let (pos, kind) = find(FILE, &path("deploy.steps[1].with.step")).unwrap();
        assert_eq!((pos.line, pos.column), (12, 13));
        assert!(matches!(kind, Kind::Str(s) if s.starts_with("jira:\n")));
        let (pos, _) = find(FILE, &path("\"a.b\"[1].c")).unwrap();
        assert_eq!((pos.line, pos.column), (18, 16));
    }

    #[test]
    fn missing_keys_and_indexes_say_where_and_what() {
        let err = find(FILE, &path("deploy.stpes")).unwrap_err();
        assert_eq!(err.message, "`deploy` has no key `stpes`");
        assert_eq!(err.hint.as_deref(), Some("did you mean `steps`?"));
        assert_eq!((err.position.line, err.position.column), (7, 3));
        let err = find(FILE, &path("deploy.steps[5]")).unwrap_err();
        assert!(err.message.contains("has 2 items"), "{err:?}");
        let err = find(FILE, &path("stages.x")).unwrap_err();
        assert!(err.message.contains("is a list, not a map"), "{err:?}");
        let err = find(FILE, &path("deploy[0]")).unwrap_err();
        assert!(err.message.contains("is a map, not a list"), "{err:?}");
        let err = find("x: 1\na: [", &path("b")).unwrap_err();
        assert!(err.message.contains("not valid YAML"), "{err:?}");
    }

    fn parse_at(node: &Node) -> serde_yaml::Value {
        serde_yaml::from_str(&node.text).unwrap()
    }

    #[test]
    fn extracted_nodes_parse_alone_and_keep_lines() {
        let node = extract(FILE, &path(".jira-gate")).unwrap();
        let value = parse_at(&node);
        assert_eq!(value["ticket"]["key"], "OPS-1");
        assert!(value.get("deploy").is_none());
        assert_eq!(node.text.lines().count(), 5);

        let node = extract(FILE, &path("deploy.steps[1].with.step")).unwrap();
        let value = parse_at(&node);
        assert_eq!(value["ticket"]["key"], "OPS-2");
        // An error in the stanza points at the outer file's line and column.
        let err =
            serde_yaml::from_str::<std::collections::BTreeMap<String, u8>>(&node.text).unwrap_err();
        let location = err.location().unwrap();
        assert_eq!((location.line(), location.column()), (14, 11));

        let node = extract(FILE, &path(".jira-gate.ticket")).unwrap();
        assert_eq!(parse_at(&node)["key"], "OPS-1");
        let node = extract(FILE, &path("deploy.steps")).unwrap();
        assert_eq!(parse_at(&node).as_sequence().unwrap().len(), 2);
        let node = extract(FILE, &path("\"a.b\"")).unwrap();
        assert_eq!(parse_at(&node)[1]["c"], 2);
    }

    #[test]
    fn a_compact_list_under_a_key_ends_at_the_next_key() {
        let text = "steps:\n- a\n- b: 1\n  c: 2\nnext: 3\n";
        let node = extract(text, &path("steps")).unwrap();
        let value = parse_at(&node);
        assert_eq!(value.as_sequence().unwrap().len(), 2);
        let node = extract(text, &path("steps[1]")).unwrap();
        assert_eq!(parse_at(&node)["c"], 2);
    }

    #[test]
    fn anchors_and_merge_keys_from_outside_the_node_are_resolved() {
        let text = "\
.jira: &jira
  url: https://x.example.com
  auth: { type: pat, token: t }
.defaults: &defaults
  project: OPS
  type: Change
.jira-gate:
  jira: *jira
  ticket:
    <<: *defaults
    summary: Deploy
";
        let node = extract(text, &path(".jira-gate")).unwrap();
        let value = parse_at(&node);
        assert_eq!(value["jira"]["url"], "https://x.example.com");
        assert_eq!(value["ticket"]["project"], "OPS");
        assert_eq!(value["ticket"]["summary"], "Deploy");
        assert!(value["ticket"].get("<<").is_none());
        assert_eq!(node.text.lines().take_while(|l| l.is_empty()).count(), 7);
    }

    #[test]
    fn quoted_strings_give_their_value() {
        let text = "x:\n  step: '{ticket: {key: OPS-3}}'\n";
        let node = extract(text, &path("x.step")).unwrap();
        assert_eq!(parse_at(&node)["ticket"]["key"], "OPS-3");
        assert_eq!(node.position.line, 2);
        let err = extract("x: 5\n", &path("x")).unwrap_err();
        assert!(err.message.contains("single value"), "{err:?}");
    }

    fn error_of(text: &str, at: &str) -> Error {
        find(text, &path(at)).unwrap_err()
    }

    #[test]
    fn a_bad_path_is_refused_at_the_character_where_it_goes_wrong() {
        let says = |text: &str| KeyPath::parse(text).unwrap_err();
        assert!(
            says("a.").contains("at character 2: the path ends with a dot"),
            "{}",
            says("a.")
        );
        assert!(says("ab..c").contains("at character 4: an empty key"));
        assert!(says(".").contains("at character 1: an empty key"));
        assert!(says("a\"b\"").contains("at character 2: unexpected `\"`"));
        // A backslash at the very end escapes nothing: the key is still open.
        assert!(says("a.\"b\\").contains("at character 3: the quoted key has no closing quote"));
    }

    #[test]
    fn a_quoted_key_keeps_its_escaped_quotes_and_backslashes() {
        assert_eq!(
            path(r#""say \"hi\""."back\\slash".x"#).0,
            vec![
                Segment::Key("say \"hi\"".into()),
                Segment::Key("back\\slash".into()),
                Segment::Key("x".into()),
            ]
        );
    }

    #[test]
    fn a_key_is_quoted_in_print_only_when_it_must_be() {
        let printed = |keys: &[&str]| {
            KeyPath(keys.iter().map(|k| Segment::Key((*k).into())).collect()).to_string()
        };
        // Plain: a leading dot on the first key (GitLab's hidden keys), dashes, inner spaces.
        assert_eq!(printed(&[".jira-gate", "a b", "x-y"]), ".jira-gate.a b.x-y");
        // Quoted: what would not read back plain.
        assert_eq!(printed(&["a", ""]), r#"a."""#);
        assert_eq!(printed(&["."]), r#"".""#);
        assert_eq!(printed(&[" a"]), r#"" a""#);
        assert_eq!(printed(&["a "]), r#""a ""#);
        assert_eq!(printed(&["a[1]"]), r#""a[1]""#);
        assert_eq!(printed(&["a]"]), r#""a]""#);
        assert_eq!(printed(&["say \"hi\""]), r#""say \"hi\"""#);
        assert_eq!(printed(&["back\\slash."]), r#""back\\slash.""#);
        assert_eq!(printed(&["app.kubernetes.io"]), r#""app.kubernetes.io""#);
        assert_eq!(printed(&["a", ".hidden"]), r#"a.".hidden""#);
        assert_eq!(
            KeyPath(vec![Segment::Key("a".into()), Segment::Index(3)]).to_string(),
            "a[3]"
        );
    }

    #[test]
    fn a_misspelt_key_gets_a_suggestion_within_a_third_of_its_length() {
        let file = "pipeline:\n  stagesxyz: 1\n  name: p\n";
        // Three letters wrong in nine: suggested.
        let err = error_of(file, "pipeline.stagesabc");
        assert_eq!(err.hint.as_deref(), Some("did you mean `stagesxyz`?"));
        // Nothing close: the keys there are listed instead.
        let err = error_of(file, "pipeline.timeout");
        assert_eq!(err.message, "`pipeline` has no key `timeout`");
        assert_eq!(err.hint.as_deref(), Some("its keys: stagesxyz, name"));
        let err = error_of("pipeline: {}\n", "pipeline.stages");
        assert_eq!(err.hint.as_deref(), Some("the map is empty"));
    }

    #[test]
    fn a_path_through_a_single_value_says_so_whatever_the_value() {
        for value in ["true", "-1", "7", "1.5", "null", "~", "text"] {
            let file = format!("a:\n  b: {value}\n");
            let err = error_of(&file, "a.b.c");
            assert_eq!(err.message, "`a.b` is a single value, not a map", "{value}");
            assert_eq!((err.position.line, err.position.column), (2, 6), "{value}");
            let err = error_of(&file, "a.b[0]");
            assert_eq!(
                err.message, "`a.b` is a single value, not a list",
                "{value}"
            );
            let (position, kind) = find(&file, &path("a.b")).unwrap();
            assert_eq!((position.line, position.column), (2, 6), "{value}");
            let expected = if value == "text" {
                Kind::Str("text".into())
            } else {
                Kind::Other
            };
            assert_eq!(kind, expected, "{value}");
        }
    }

    #[test]
    fn an_empty_file_is_reported_as_empty() {
        for text in ["", "# nothing here\n", "\n\n"] {
            let err = error_of(text, ".jira-gate");
            assert_eq!(err.message, "the file is empty", "{text:?}");
            assert_eq!((err.position.line, err.position.column), (1, 1));
        }
    }

    #[test]
    fn a_map_used_as_a_key_is_refused_saying_a_key_was_expected() {
        let err = error_of("? {a: 1}\n: 2\n", "a");
        assert!(err.message.ends_with("expected a key"), "{err:?}");
        // A tagged node on the path is not walked into.
        let err = error_of("a: !reference [x, y]\n", "a[0]");
        assert!(err.message.ends_with("expected a YAML node"), "{err:?}");
    }

    #[test]
    fn an_anchored_or_tagged_node_is_cut_from_under_its_anchor() {
        let text = "\
.jira-gate: &gate   # shared
  jira:
    url: https://x
  ticket: { key: OPS-1 }
steps: !!seq
- a
- b
flow: &f {x: 1,
  y: 2}
next: 1
";
        let node = extract(text, &path(".jira-gate")).unwrap();
        assert_eq!(
            node.position,
            Position {
                line: 1,
                column: 13
            }
        );
        assert_eq!(parse_at(&node)["ticket"]["key"], "OPS-1");
        assert!(parse_at(&node).get("steps").is_none());
        assert_eq!(node.text.lines().nth(1), Some("  jira:"));
        let node = extract(text, &path("steps")).unwrap();
        assert_eq!(
            parse_at(&node),
            serde_yaml::from_str::<serde_yaml::Value>("[a, b]").unwrap()
        );
        let node = extract(text, &path("flow")).unwrap();
        assert_eq!(parse_at(&node)["y"], 2);
    }

    #[test]
    fn a_flow_map_written_over_several_lines_is_cut_whole() {
        let text = "a:\n  b: {x: 1,\n    y: [2,\n   3]}\n  c: 4\n";
        let node = extract(text, &path("a.b")).unwrap();
        assert_eq!(parse_at(&node)["y"][1], 3);
        assert!(parse_at(&node).get("c").is_none());
    }

    #[test]
    fn brackets_in_quotes_or_comments_do_not_end_a_flow_node() {
        let text = "\
a: {x: \"a}\", y: 'b]', z: 'it''s', u: http://h/#f,  # a ] here is a comment
  v: [1]}
b: 2
";
        let node = extract(text, &path("a")).unwrap();
        let value = parse_at(&node);
        assert_eq!(value["x"], "a}");
        assert_eq!(value["y"], "b]");
        assert_eq!(value["z"], "it's");
        assert_eq!(value["u"], "http://h/#f");
        assert_eq!(value["v"][0], 1);
        assert!(value.get("b").is_none());
    }

    #[test]
    fn blank_lines_and_comments_inside_a_block_node_do_not_end_it() {
        let text = "a:\n  b: 1\n\n# about c\n  c: 2\n   # deeper\n  d: 3\ne: 4\n";
        let node = extract(text, &path("a")).unwrap();
        let value = parse_at(&node);
        assert_eq!(
            (value["b"].clone(), value["d"].clone()),
            (1.into(), 3.into())
        );
        assert!(value.get("e").is_none());
    }

    #[test]
    fn a_stanza_in_a_literal_block_with_blank_lines_keeps_its_lines() {
        let text = "\
step: |
  jira:
    url: https://y

  ticket: [
after: 1
";
        let node = extract(text, &path("step")).unwrap();
        assert_eq!(node.text, "\n  jira:\n    url: https://y\n\n  ticket: [");
        let err = serde_yaml::from_str::<serde_yaml::Value>(&node.text).unwrap_err();
        assert_eq!(err.location().unwrap().line(), 6);
    }

    #[test]
    fn merge_keys_are_applied_even_with_their_anchor_inside_the_node() {
        let text = "\
.jira-gate:
  ticket: &t
    project: OPS
  again:
    <<: *t
    summary: Deploy
";
        let node = extract(text, &path(".jira-gate")).unwrap();
        let value = parse_at(&node);
        assert_eq!(value["again"]["project"], "OPS");
        assert!(value["again"].get("<<").is_none());
    }
}
