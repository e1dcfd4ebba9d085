//! The YAML a reader copies from the docs works: every ```yaml block of README.md and docs/*.md
//! parses, every block that is a whole stanza (a top-level `jira:` key) passes `jira-gate validate`,
//! and every inline flow mapping in backticks (`auth: { type: pat, … }`) parses too.
// These tests run `jira-gate sandbox`: they need the `sandbox` feature (a default one).
#![cfg(feature = "sandbox")]

mod common;

use std::path::{Path, PathBuf};

use common::run::Workdir;

/// README.md and every docs/*.md, sorted: (file name, text).
fn documents() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs.into_iter()
        .map(|doc| {
            let name = doc.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&doc).unwrap())
        })
        .collect()
}

/// The ```yaml blocks of `text`: (line of the opening fence, body).
fn yaml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let fence = line.trim_start();
        match &mut open {
            None if fence.starts_with("```yaml") || fence.starts_with("```yml") => {
                open = Some((n + 1, String::new()));
            }
            Some(_) if fence.starts_with("```") => blocks.extend(open.take()),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    assert!(open.is_none(), "a ```yaml block is not closed");
    blocks
}

/// Whether `yaml` starts with `key: {` (a one-word key holding a flow mapping).
fn is_flow_mapping(yaml: &str) -> bool {
    yaml.split_once(": {")
        .is_some_and(|(key, _)| !key.is_empty() && !key.contains([' ', '#']))
}

/// The flow mappings a reader copies from prose: inline code spans outside fenced blocks
/// (`auth: { type: pat, … }`, which may wrap onto the next line) and commented-out lines of
/// fenced blocks (`# auth: { … }   # a comment`): (line, YAML).
fn inline_flow_mappings(text: &str) -> Vec<(usize, String)> {
    let mut spans = Vec::new();
    let mut commented_out = Vec::new();
    let mut fenced = false;
    let mut span: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            if let Some(commented) = line.trim_start().strip_prefix("# ") {
                if is_flow_mapping(commented) {
                    commented_out.push((n + 1, commented.to_owned()));
                }
            }
            continue;
        }
        // Each backtick opens or closes a span; a span may wrap onto the next line.
        for (i, part) in line.split('`').enumerate() {
            if i == 0 {
                if let Some((_, open)) = &mut span {
                    open.push(' ');
                    open.push_str(part);
                }
            } else if let Some(done) = span.take() {
                spans.push(done);
            } else {
                span = Some((n + 1, part.to_owned()));
            }
        }
    }
    spans
        .into_iter()
        .filter(|(_, s)| is_flow_mapping(s) && s.ends_with('}'))
        .chain(commented_out)
        .collect()
}

/// The variables a stanza references without a default: `${NAME}` (not `${NAME:-…}`, nor
/// GitHub's `${{ … }}`).
fn required_variables(stanza: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in stanza.match_indices("${") {
        let rest = &stanza[at + 2..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && rest[name.len()..].starts_with('}') && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// A plausible value for a variable the docs reference.
fn value_for(name: &str) -> &'static str {
    if name.ends_with("URL") {
        "https://jira.example.com"
    } else {
        "docs-1"
    }
}

#[test]
fn yaml_blocks_parse_and_stanzas_validate() {
    let mut blocks = 0;
    let mut stanzas = 0;
    for (name, text) in documents() {
        for (line, body) in yaml_blocks(&text) {
            blocks += 1;
            let parsed: serde_yaml::Value = serde_yaml::from_str(&body)
                .unwrap_or_else(|e| panic!("{name}:{line}: the ```yaml block is not YAML: {e}"));
            if parsed.get("jira").is_none() {
                continue;
            }
            stanzas += 1;
            let work = Workdir::new();
            work.write("stanza.yml", &body);
            let mut cmd = work.command();
            for variable in required_variables(&body) {
                cmd.env(&variable, value_for(&variable));
            }
            let run = work.run(cmd.args(["validate", "stanza.yml"]));
            assert_eq!(
                run.code, 0,
                "{name}:{line}: the stanza does not validate:\n{}",
                run.stderr
            );
        }
    }
    assert!(blocks >= 5, "only {blocks} ```yaml blocks found");
    assert!(stanzas >= 1, "no stanza among the ```yaml blocks");
}

#[test]
fn inline_flow_mappings_parse() {
    let mut checked = 0;
    for (name, text) in documents() {
        for (line, span) in inline_flow_mappings(&text) {
            checked += 1;
            if let Err(e) = serde_yaml::from_str::<serde_yaml::Value>(&span) {
                panic!("{name}:{line}: `{span}` is not YAML: {e}");
            }
        }
    }
    assert!(checked >= 3, "only {checked} inline flow mappings found");
}

#[test]
fn the_extractors_find_what_they_should() {
    let text = "intro `auth: { type: pat, token: x }` and `auth: { type: basic,\n  username: u }`\n```yaml\na: 1\n  # b: { c: d }  # note\n  # plain comment: {x}\n```\n```sh\nb\n```\n`not: a map`\n";
    assert_eq!(
        yaml_blocks(text),
        [(
            3,
            "a: 1\n  # b: { c: d }  # note\n  # plain comment: {x}\n".to_owned()
        )]
    );
    assert_eq!(
        inline_flow_mappings(text),
        [
            (1, "auth: { type: pat, token: x }".to_owned()),
            (1, "auth: { type: basic,   username: u }".to_owned()),
            (5, "b: { c: d }  # note".to_owned()),
        ]
    );
    assert_eq!(
        required_variables("a: ${A}\nb: ${B:-x}\nc: ${{ c }}\nd: \"${A}-${D}\""),
        ["A", "D"]
    );
    assert!(serde_yaml::from_str::<serde_yaml::Value>("auth: { token: ${JIRA_PAT} }").is_err());
}
