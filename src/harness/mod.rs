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

use crate::locate::{self, KeyPath, Position};
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
        self.error_at(self.key_position(map, key), message.into(), hint)
    }

    /// An error at `path`.
    pub fn error(&self, path: &KeyPath, message: impl Into<String>, hint: Option<String>) -> Error {
        self.error_at(self.position(path), message.into(), hint)
    }

    fn error_at(&self, position: Position, message: String, hint: Option<String>) -> Error {
        Error {
            file: self.file.clone(),
            line: position.line,
            column: position.column,
            message,
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

pub use native::Translated;

use crate::stanza::TransitionBy;

/// What to load: the Harness file, the step, the connector and the values expressions read.
pub struct Request<'a> {
    /// The Harness file's name, for messages.
    pub file: &'a str,
    /// Its text.
    pub text: &'a str,
    /// `--harness-step`: `STEP` or `STAGE.STEP`.
    pub step: &'a str,
    /// `--connector`: its name and text.
    pub connector: Option<(&'a str, &'a str)>,
    /// `--var NAME=VALUE`.
    pub vars: std::collections::BTreeMap<String, String>,
    /// The environment.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// `--issue-key` / `JIRA_GATE_ISSUE_KEY`.
    pub issue_key: Option<String>,
    /// For `convert`: the stanza is printed, so it must be fully native and hold no secret.
    pub convert: bool,
}

/// Finds the step, reads the connector, resolves everything and translates the step.
pub fn load(request: &Request<'_>) -> Result<Translated, Error> {
    let doc = Doc::parse(request.file, request.text)?;
    let found = step::find(&doc, request.step)?;
    let spec = step::read_spec(&doc, &found)?;
    let connector = match request.connector {
        Some((name, text)) => {
            let cdoc = Doc::parse(name, text)?;
            let connector = connector::Connector::from_doc(&cdoc)?;
            Some((cdoc, connector))
        }
        None => None,
    };
    let ctx = expr::Context {
        pipeline: found.pipeline.clone(),
        stage: found.stage.clone(),
        vars: request.vars.clone(),
        env: request.env,
        secrets_dir: expr::secrets_dir(request.env),
        issue_key: request.issue_key.clone(),
        inline_file_secrets: !request.convert,
    };
    let translated = native::translate(
        &doc,
        &found,
        &spec,
        connector.as_ref().map(|(d, c)| (d, c)),
        &ctx,
    )?;
    if request.convert {
        let spec_path = found.path.key("spec");
        for (tree, key) in [
            (&translated.approve, "approvalCriteria"),
            (&translated.reject, "rejectionCriteria"),
        ] {
            if let Some(Err(what)) = tree.as_ref().map(criteria::Tree::to_native) {
                return Err(doc.error(
                    &spec_path.key(key),
                    format!("{what} has no native equivalent, so this step cannot be converted"),
                    Some(
                        "run the Harness step as it is: jira-gate run FILE --harness-step ID"
                            .into(),
                    ),
                ));
            }
        }
    }
    Ok(translated)
}

impl Translated {
    /// The native stanza as YAML, headed by a comment naming where it came from.
    pub fn to_yaml(&self, file: &str, step: &str) -> String {
        let mut out =
            format!("# jira-gate stanza converted from the Harness step `{step}` in {file}\n");
        if self.approval_first {
            out.push_str("# Harness checks the approval criteria before the rejection criteria; a native stanza checks rejection first.\n");
        }
        match self.transition_by {
            TransitionBy::ExactName => out.push_str("# Harness matches transitionName exactly; a native stanza also takes the transition's target status, case-insensitively.\n"),
            TransitionBy::Status => out.push_str("# Harness matches the status as the transition's target only; a native stanza also takes a transition of that name.\n"),
            TransitionBy::NameOrStatus => {}
        }
        for note in &self.notes {
            out.push_str(&format!("# note: {note}\n"));
        }
        out.push_str(&serde_yaml::to_string(&self.stanza).unwrap_or_default());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/harness/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "HARNESS_SECRET_JIRA_TOKEN" | "HARNESS_SECRET_JIRA_PAT" => Some("s3cret".into()),
            _ => None,
        }
    }

    fn load_step(
        file: &str,
        step: &str,
        connector: &str,
        convert: bool,
    ) -> Result<Translated, Error> {
        let text = fixture(file);
        let connector_text = fixture(connector);
        load(&Request {
            file,
            text: &text,
            step,
            connector: Some((connector, &connector_text)),
            vars: [("environment".to_owned(), "production".to_owned())].into(),
            env: &env,
            issue_key: Some("OPS-1".into()),
            convert,
        })
    }

    #[test]
    fn every_fixture_step_loads() {
        for (file, step) in [
            ("pipeline.yaml", "create_change"),
            ("pipeline.yaml", "approve_change"),
            ("pipeline.yaml", "production.approve_any"),
            ("pipeline.yaml", "close_change"),
            ("approval-jexl.yaml", "jexl_approval"),
            ("runtime-input.yaml", "approve_input"),
        ] {
            for connector in [
                "connector.yaml",
                "connector-pat.yaml",
                "connector-legacy.yaml",
                "connector-get-value.yaml",
            ] {
                let t = load_step(file, step, connector, false)
                    .unwrap_or_else(|e| panic!("{file} {step} {connector}: {e}"));
                let yaml = t.to_yaml(file, step);
                assert!(!yaml.contains("s3cret"), "{yaml}");
            }
        }
        let t = load_step("pipeline.yaml", "create_change", "connector.yaml", true).unwrap();
        assert_eq!(
            t.stanza["ticket"]["summary"],
            "Deploy checkout 1.4.2 to production"
        );
        assert_eq!(t.stanza["ticket"]["labels"][1], "production");
    }

    #[test]
    fn convert_never_writes_a_secret_read_from_a_file_and_run_does_use_it() {
        let secrets = tempfile::tempdir().unwrap();
        std::fs::write(secrets.path().join("release_note"), "from-a-file\n").unwrap();
        let dir = secrets.path().display().to_string();
        let env = |name: &str| match name {
            "JIRA_GATE_SECRETS_DIR" => Some(dir.clone()),
            other => env(other),
        };
        let text = fixture("pipeline.yaml").replace(
            "value: Deploy checkout",
            "value: <+secrets.getValue(\"release_note\")> checkout",
        );
        let connector = fixture("connector.yaml");
        let request = |convert: bool| Request {
            file: "pipeline.yaml",
            text: &text,
            step: "create_change",
            connector: Some(("connector.yaml", &connector)),
            vars: [("environment".to_owned(), "production".to_owned())].into(),
            env: &env,
            issue_key: Some("OPS-1".into()),
            convert,
        };
        let run = load(&request(false)).unwrap();
        assert_eq!(
            run.stanza["ticket"]["summary"],
            "from-a-file checkout 1.4.2 to production"
        );
        let err = load(&request(true)).unwrap_err().to_string();
        assert!(!err.contains("from-a-file"), "{err}");
        assert!(err.contains("HARNESS_SECRET_RELEASE_NOTE"), "{err}");
    }

    #[test]
    fn a_connector_file_of_another_identifier_is_noted_and_the_named_one_is_not() {
        let about_connector = |t: &Translated| {
            t.notes
                .iter()
                .filter(|n| n.contains("connectorRef"))
                .cloned()
                .collect::<Vec<_>>()
        };
        let same = load_step("pipeline.yaml", "create_change", "connector.yaml", false).unwrap();
        assert_eq!(about_connector(&same), Vec::<String>::new());
        let other = load_step(
            "pipeline.yaml",
            "create_change",
            "connector-pat.yaml",
            false,
        )
        .unwrap();
        assert_eq!(
            about_connector(&other),
            [
                "the step's connectorRef is `account.jira` but the connector file is `jira_dc`; \
              using the file"
            ]
        );
    }

    /// Loads `step` of `text` with the fixture connector.
    fn load_text(text: &str, step: &str) -> Result<Translated, Error> {
        let connector = fixture("connector.yaml");
        load(&Request {
            file: "pipeline.yaml",
            text,
            step,
            connector: Some(("connector.yaml", &connector)),
            vars: [("environment".to_owned(), "production".to_owned())].into(),
            env: &env,
            issue_key: Some("OPS-1".into()),
            convert: false,
        })
    }

    #[test]
    fn a_blank_project_or_issue_type_of_an_approval_is_not_checked() {
        let block = "identifier: approve_change\n                  spec:\n                    \
                     connectorRef: account.jira\n                    projectKey: OPS\n                    \
                     issueType: Change\n";
        let blank = block
            .replace("projectKey: OPS", "projectKey: \" \"")
            .replace("issueType: Change", "issueType: \"\"");
        let text = fixture("pipeline.yaml");
        assert!(text.contains(block));
        let text = text.replace(block, &blank);
        let t = load_text(&text, "approve_change").unwrap();
        assert_eq!((t.expect_project, t.expect_type), (None, None));
        let t = load_text(&fixture("pipeline.yaml"), "approve_change").unwrap();
        assert_eq!(t.expect_project.as_deref(), Some("OPS"));
        assert_eq!(t.expect_type.as_deref(), Some("Change"));
    }

    #[test]
    fn jexl_criteria_with_a_key_values_key_are_refused() {
        for extra in ["matchAnyCondition: true", "conditions: []"] {
            let text = fixture("approval-jexl.yaml").replacen(
                "        spec:\n          expression:",
                &format!("        spec:\n          {extra}\n          expression:"),
                1,
            );
            let err = load_text(&text, "jexl_approval").unwrap_err();
            assert!(
                err.message.contains("belong to KeyValues criteria"),
                "{extra}: {err}"
            );
        }
    }

    #[test]
    fn a_jexl_error_points_at_the_file_column_past_resolved_expressions() {
        let original = r#"expression: <+issue.Status> == "Approved" && !(<+issue["Change risk"]> == "High") || <+issue.Status> == "Done""#;
        let jexl = |expression: &str| {
            let text = fixture("approval-jexl.yaml").replacen(
                original,
                &format!("expression: {expression}"),
                1,
            );
            assert!(text.contains(expression));
            let err = load_text(&text, "jexl_approval").unwrap_err();
            (err.line, err.column, err.message)
        };
        // `production` (the variable's value) is a bare word: the error points at `<+pipeline`.
        let (line, column, message) = jexl("<+issue.Env> == <+pipeline.variables.environment>");
        assert_eq!((line, column), (21, 39), "{message}");
        // At the end of the expression: one past its last character in the file.
        let (line, column, message) =
            jexl(r#"<+issue.Env> == "<+pipeline.variables.environment>" &&"#);
        assert!(message.contains("the end of the expression"), "{message}");
        assert_eq!((line, column), (21, 77), "{message}");
        // Written as a block: the line below, the column counted from the block's indentation.
        let (line, column, message) =
            jexl("|\n            <+issue.Env> == <+pipeline.variables.environment>");
        assert_eq!((line, column), (22, 29), "{message}");
        // A block whose first line is blank: the blank line is part of the value, not of the
        // column.
        let (line, column, message) =
            jexl("|\n\n            <+issue.Env> == <+pipeline.variables.environment>");
        assert_eq!((line, column), (23, 29), "{message}");
        // Over two lines, kept (`|`) or folded (`>`): the line that holds the token.
        for style in ["|", ">"] {
            let (line, column, message) = jexl(&format!(
                "{style}\n            <+issue.Env> == \"a\" &&\n              <+issue.Env> == <+pipeline.variables.environment>"
            ));
            assert_eq!((line, column), (23, 31), "{style}: {message}");
        }
        // Blank lines inside the block: `|` keeps each as a line break of the value, `>` folds
        // the break before them away unless a neighbour is more indented; either way the token
        // is found on its own line.
        for (style, blanks, more) in [
            ("|", "\n", ""),
            (">", "\n", ""),
            (">", "\n\n", ""),
            (">", "\n", "  "),
            ("|", "\n\n", "  "),
        ] {
            let (line, column, message) = jexl(&format!(
                "{style}\n            <+issue.Env> == \"a\" &&\n{blanks}            {more}<+issue.Env> == <+pipeline.variables.environment>"
            ));
            let below = 23 + blanks.len();
            assert_eq!(
                (line, column),
                (below, 29 + more.len()),
                "{style} {blanks:?} {more:?}: {message}"
            );
        }
        // At the end of a block: one past its last character, not on the line below.
        for after in ["", "\n", "\n  \n"] {
            let (line, column, message) =
                jexl(&format!("|\n            <+issue.Env> == \"x\" &&{after}"));
            assert!(message.contains("the end of the expression"), "{message}");
            assert_eq!((line, column), (22, 35), "{after:?}: {message}");
        }
    }

    #[test]
    fn a_blank_issue_key_is_refused_as_missing() {
        let text = fixture("pipeline.yaml").replace(
            "issueKey: <+pipeline.stages.production.spec.execution.steps.create_change.issue.key>",
            "issueKey: \"  \"",
        );
        let connector = fixture("connector.yaml");
        let err = load(&Request {
            file: "pipeline.yaml",
            text: &text,
            step: "approve_change",
            connector: Some(("connector.yaml", &connector)),
            vars: [("environment".to_owned(), "production".to_owned())].into(),
            env: &env,
            issue_key: Some("OPS-1".into()),
            convert: false,
        })
        .unwrap_err();
        assert!(err.message.contains("needs `issueKey`"), "{err}");
    }

    #[test]
    fn did_you_mean_allows_a_third_of_a_long_word_wrong_and_two_of_a_short_one() {
        // 9 characters, 3 edits from `connectorRef`: a third of the word.
        assert_eq!(
            did_you_mean("conectrRf", &["connectorRef", "spec"]),
            Some("connectorRef")
        );
        // 5 characters: up to two edits.
        assert_eq!(did_you_mean("tipe", &["type"]), Some("type"));
        assert_eq!(did_you_mean("tymeo", &["type"]), Some("type"));
        assert_eq!(did_you_mean("abcxyz", &["abcdef"]), None);
    }

    #[test]
    fn every_refusal_names_the_place_and_the_thing() {
        for (step, connector, line, column, needle) in [
            ("script", "connector.yaml", 14, 25, "`ShellScript`"),
            ("unresolved", "connector.yaml", 30, 32, "<+trigger.branch>"),
            ("bad_jexl", "connector.yaml", 41, 52, "`.`"),
            (
                "misspelt",
                "connector.yaml",
                48,
                21,
                "did you mean `issueKey`",
            ),
            ("twice", "connector.yaml", 64, 34, "one condition only"),
            ("unresolved", "connector-github.yaml", 5, 9, "`Github`"),
        ] {
            let err = load_step("errors.yaml", step, connector, false).unwrap_err();
            assert_eq!((err.line, err.column), (line, column), "{step}: {err}");
            assert!(err.to_string().contains(needle), "{step}: {err}");
        }
        let text = fixture("pipeline.yaml");
        let err = load(&Request {
            file: "pipeline.yaml",
            text: &text,
            step: "create_change",
            connector: None,
            vars: [("environment".to_owned(), "x".to_owned())].into(),
            env: &env,
            issue_key: None,
            convert: false,
        })
        .unwrap_err();
        assert!(err.to_string().contains("--connector"), "{err}");
        assert_eq!(err.line, 30);
    }

    #[test]
    fn convert_refuses_what_has_no_native_form() {
        let err = load_step(
            "approval-jexl.yaml",
            "jexl_approval",
            "connector.yaml",
            true,
        )
        .unwrap_err();
        assert!(err.message.contains("no native equivalent"), "{err}");
        assert!(err.message.contains("ordering"), "{err}");
        let t = load_step("pipeline.yaml", "approve_change", "connector.yaml", true).unwrap();
        let yaml = t.to_yaml("pipeline.yaml", "approve_change");
        assert!(
            yaml.contains("approval criteria before the rejection"),
            "{yaml}"
        );
    }
}
