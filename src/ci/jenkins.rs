//! Jenkins: `jira-gate.properties` in the workspace (`$WORKSPACE`, or the path in
//! `JIRA_GATE_PROPERTIES`), for `readProperties file: 'jira-gate.properties'` of the Pipeline
//! Utility Steps plugin. Keys are SPEC section 3's `snake_case` names (`props.decision`,
//! `props.issue_key`). Keys and values are escaped as `java.util.Properties` reads them
//! (backslash escapes for `\`, `=`, `:`, `#`, `!`, white space and line breaks, `\uXXXX` for
//! anything outside printable ASCII), so every value reads back exactly whatever the file's
//! charset is taken to be. The file is the step's own: a retried step replaces it.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{Error, Sink, check_writable, fields, replace};
use crate::outcome::Report;

/// The file name in the workspace.
pub(super) const DEFAULT_FILE: &str = "jira-gate.properties";

/// The Jenkins sink.
pub(super) struct Jenkins {
    path: PathBuf,
}

impl Jenkins {
    pub(super) fn new(path: PathBuf) -> Self {
        Jenkins { path }
    }
}

impl Sink for Jenkins {
    fn name(&self) -> &'static str {
        "jenkins"
    }

    /// Jenkins masks credentials bound with `withCredentials` itself.
    fn mask(&self, _secrets: &[&str]) {}

    fn section_start(&self, _id: &str, _title: &str) {}

    fn section_end(&self, _id: &str) {}

    fn finish(&self, report: &Report) -> Result<(), Error> {
        let mut text = String::from("# jira-gate result\n");
        for (name, value) in fields(report) {
            let _ = writeln!(text, "{}={}", escape(name, true), escape(&value, false));
        }
        replace("Jenkins properties", &self.path, &text)
    }

    fn preflight(&self) -> Result<(), Error> {
        check_writable("Jenkins properties", &self.path)
    }
}

/// Escapes a key (`key = true`) or a value as `java.util.Properties::store` does.
fn escape(s: &str, key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            ' ' if key || i == 0 => out.push_str("\\ "),
            '=' | ':' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Decision;
    use proptest::prelude::*;

    /// `java.util.Properties::load` for one logical line without continuations: the key ends at
    /// the first unescaped `=`, `:` or white space; the separator and white space around it go.
    fn load_line(line: &str) -> (String, String) {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut key_end = chars.len();
        while i < chars.len() {
            match chars[i] {
                '\\' => i += 2,
                '=' | ':' | ' ' | '\t' | '\u{c}' => {
                    key_end = i;
                    break;
                }
                _ => i += 1,
            }
        }
        let key: String = chars[..key_end.min(chars.len())].iter().collect();
        let mut j = key_end;
        while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\u{c}') {
            j += 1;
        }
        if j < chars.len() && matches!(chars[j], '=' | ':') {
            j += 1;
        }
        while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\u{c}') {
            j += 1;
        }
        let value: String = chars[j.min(chars.len())..].iter().collect();
        (unescape(&key), unescape(&value))
    }

    fn unescape(s: &str) -> String {
        let mut units: Vec<u16> = Vec::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                let mut buf = [0u16; 2];
                units.extend_from_slice(c.encode_utf16(&mut buf));
                continue;
            }
            let escaped = match chars.next() {
                Some('t') => '\t',
                Some('n') => '\n',
                Some('r') => '\r',
                Some('f') => '\u{c}',
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    units.push(u16::from_str_radix(&hex, 16).unwrap());
                    continue;
                }
                Some(other) => other,
                None => break,
            };
            let mut buf = [0u16; 2];
            units.extend_from_slice(escaped.encode_utf16(&mut buf));
        }
        String::from_utf16(&units).unwrap()
    }

    #[test]
    fn escapes_keys_and_values() {
        assert_eq!(escape("a=b:c d#e!f", true), "a\\=b\\:c\\ d\\#e\\!f");
        assert_eq!(escape(" lead and inner ", false), "\\ lead and inner ");
        assert_eq!(escape("C:\\dir\nnext", false), "C\\:\\\\dir\\nnext");
        assert_eq!(escape("Zoë 😀", false), "Zo\\u00EB \\uD83D\\uDE00");
        // The short escapes `Properties::store` writes, not `\uXXXX`.
        assert_eq!(escape("a\tb\rc\u{c}d", false), "a\\tb\\rc\\fd");
        assert_eq!(
            load_line("a\\=b\\:c\\ d = \\ x"),
            ("a=b:c d".into(), " x".into())
        );
    }

    #[test]
    fn finish_writes_a_properties_file_that_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        let sink = Jenkins::new(path.clone());
        sink.preflight().unwrap();
        assert!(!path.exists(), "the probe leaves nothing behind");
        let mut r = Report::new(Decision::Approved);
        r.issue_url = Some("https://jira.example.com/browse/OPS-1".into());
        r.decided_by = Some("Zoë O'Neil".into());
        sink.finish(&r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let props: Vec<(String, String)> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(load_line)
            .collect();
        assert_eq!(props.len(), 12, "{text}");
        assert!(props.contains(&("decision".into(), "approved".into())));
        assert!(props.contains(&(
            "issue_url".into(),
            "https://jira.example.com/browse/OPS-1".into()
        )));
        assert!(props.contains(&("decided_by".into(), "Zoë O'Neil".into())));
        assert!(text.is_ascii(), "{text}");
    }

    #[test]
    fn an_unwritable_path_fails_the_preflight() {
        let dir = tempfile::tempdir().unwrap();
        let err = Jenkins::new(dir.path().join("no/ws/jira-gate.properties"))
            .preflight()
            .unwrap_err();
        assert!(err.to_string().contains("Jenkins properties"), "{err}");
        assert!(err.to_string().contains("no/ws"), "{err}");
    }

    proptest! {
        #[test]
        fn keys_and_values_round_trip(key in "\\PC{1,12}", value in any::<String>()) {
            let line = format!("{}={}", escape(&key, true), escape(&value, false));
            prop_assert!(!line.contains(['\n', '\r']));
            prop_assert_eq!(load_line(&line), (key, value));
        }
    }
}
