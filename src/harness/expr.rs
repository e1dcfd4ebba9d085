//! Harness `<+...>` expressions and secret references (SPEC section 8).
//!
//! jira-gate resolves the expressions whose value it can know without Harness:
//! `<+pipeline.name>`, `<+pipeline.identifier>`, `<+stage.name>`, `<+stage.identifier>` from the
//! file; `<+pipeline.variables.X>`, `<+stage.variables.X>` and `<+env.X>` from `--var X=...`,
//! then `HARNESS_VAR_X`, then the variable's `value` in the file (unless it is `<+input>`);
//! `<+secrets.getValue("name")>` from `HARNESS_SECRET_NAME` or a file in the secrets directory;
//! and a reference to an earlier step's `issue.key` from `--issue-key`. Anything else is an error
//! that names the expression, never an empty string.
//!
//! The result is text for a native stanza: a literal `$` is written `$$`, and a secret from the
//! environment stays a `${HARNESS_SECRET_...}` reference, so neither `convert` nor `--dry-run`
//! ever prints a secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The directory secret files are read from unless `JIRA_GATE_SECRETS_DIR` says otherwise
/// (Docker and Kubernetes mount secrets there).
pub const DEFAULT_SECRETS_DIR: &str = "/run/secrets";

/// A pipeline or stage: its name, identifier and variables as the file declares them.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `name`.
    pub name: String,
    /// `identifier`.
    pub identifier: String,
    /// `variables: [{name, value}]`; `None` for `<+input>` or a missing value.
    pub variables: BTreeMap<String, Option<String>>,
}

/// Everything an expression may be resolved from.
pub struct Context<'a> {
    /// The pipeline the step is in (none for a stage or template file without one).
    pub pipeline: Option<Scope>,
    /// The stage the step is in.
    pub stage: Option<Scope>,
    /// `--var NAME=VALUE`.
    pub vars: BTreeMap<String, String>,
    /// The environment (`HARNESS_VAR_*`, `HARNESS_SECRET_*`).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Where secret files live.
    pub secrets_dir: PathBuf,
    /// `--issue-key` / `JIRA_GATE_ISSUE_KEY`.
    pub issue_key: Option<String>,
    /// Whether a secret read from a file may be written into the stanza text (`run`: yes;
    /// `convert`, which prints the stanza: no).
    pub inline_file_secrets: bool,
}

/// Why a value could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The expression as written, e.g. `<+pipeline.variables.env>`.
    pub expression: String,
    /// Why.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// This environment variable (`HARNESS_SECRET_...`).
    Env(String),
    /// This file.
    File(PathBuf),
}

/// The secret's name without the scope prefix (`account.jira_token` → `jira_token`). The
/// reference is written either bare or as the expression `<+secrets.getValue("account.x")>`.
pub fn secret_name(reference: &str) -> &str {
    let mut reference = reference.trim();
    if let Some(name) = reference
        .strip_prefix("<+")
        .and_then(|r| r.strip_suffix('>'))
        .and_then(|inner| secret_call(inner.trim()))
    {
        reference = name.trim();
    }
    for scope in ["account.", "org.", "project."] {
        if let Some(rest) = reference.strip_prefix(scope) {
            return rest;
        }
    }
    reference
}

/// The variable a secret is read from: `HARNESS_SECRET_` and the name upper-cased, every
/// character outside `[A-Z0-9]` written `_`.
pub fn secret_variable(reference: &str) -> String {
    let name: String = secret_name(reference)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("HARNESS_SECRET_{name}")
}

/// The variable a Harness variable is read from (`HARNESS_VAR_` and the name as written).
pub fn var_variable(name: &str) -> String {
    format!("HARNESS_VAR_{name}")
}

impl Context<'_> {
    /// Finds a secret: the environment first, then the secrets directory.
    pub fn secret(&self, reference: &str) -> Result<SecretSource, Error> {
        let name = secret_name(reference);
        let variable = secret_variable(reference);
        let unresolved = |message: String| Error {
            expression: reference.trim().to_owned(),
            message,
            hint: format!(
                "export {variable}, or put the secret in {}/{name}",
                self.secrets_dir.display()
            ),
        };
        if name.is_empty() {
            return Err(unresolved("the secret reference is empty".into()));
        }
        if (self.env)(&variable).is_some() {
            return Ok(SecretSource::Env(variable));
        }
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(unresolved(format!(
                "the secret name {name:?} cannot be a file name"
            )));
        }
        let path = self.secrets_dir.join(name);
        if path.is_file() {
            return Ok(SecretSource::File(path));
        }
        Err(unresolved(format!(
            "the secret `{name}` is neither in {variable} nor in {}",
            path.display()
        )))
    }

    /// Resolves every `<+...>` in `text`; the result is native stanza text (`$` escaped).
    pub fn resolve(&self, text: &str) -> Result<String, Error> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("<+") {
            out.push_str(&escape(&rest[..start]));
            let after = &rest[start + 2..];
            let Some(end) = closing(after) else {
                return Err(Error {
                    expression: rest[start..].chars().take(40).collect(),
                    message: "the expression has no closing `>`".into(),
                    hint: "Harness expressions are written <+...>".into(),
                });
            };
            out.push_str(&self.expression(after[..end].trim())?);
            rest = &after[end + 1..];
        }
        out.push_str(&escape(rest));
        Ok(out)
    }

    #[allow(clippy::too_many_lines)] // one match over Harness's expression roots, each arm short
    fn expression(&self, inner: &str) -> Result<String, Error> {
        let unresolved = |message: &str, hint: String| Error {
            expression: format!("<+{inner}>"),
            message: message.to_owned(),
            hint,
        };
        let scope_field = |scope: &Option<Scope>, what: &str, field: &str| {
            scope
                .as_ref()
                .map(|s| {
                    escape(if field == "name" {
                        &s.name
                    } else {
                        &s.identifier
                    })
                })
                .ok_or_else(|| {
                    unresolved(
                        &format!("the file has no {what}"),
                        "run the step from the pipeline file, or replace the expression".into(),
                    )
                })
        };
        match inner {
            "pipeline.name" | "pipeline.identifier" => {
                return scope_field(&self.pipeline, "pipeline", &inner[9..]);
            }
            "stage.name" | "stage.identifier" => {
                return scope_field(&self.stage, "stage", &inner[6..]);
            }
            "input" => {
                return Err(unresolved(
                    "is a runtime input, which only Harness can ask for",
                    "write the value in the file, or make it a variable whose value is <+input> and pass --var NAME=VALUE (an issueKey runtime input takes --issue-key KEY)".into(),
                ));
            }
            _ => {}
        }
        if let Some(name) = secret_call(inner) {
            return match self.secret(name)? {
                SecretSource::Env(variable) => Ok(format!("${{{variable}}}")),
                SecretSource::File(path) if self.inline_file_secrets => {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        unresolved(
                            &format!("cannot read {}: {e}", path.display()),
                            "check the file's permissions".into(),
                        )
                    })?;
                    Ok(escape(text.trim()))
                }
                SecretSource::File(path) => Err(unresolved(
                    &format!(
                        "reads {}, and a native stanza can only read a file as the token",
                        path.display()
                    ),
                    format!(
                        "export {} when running the converted stanza",
                        secret_variable(name)
                    ),
                )),
            };
        }
        let variable = ["pipeline.variables.", "stage.variables.", "env."]
            .iter()
            .find_map(|prefix| inner.strip_prefix(prefix).map(|name| (*prefix, name)));
        if let Some((prefix, name)) = variable {
            return self.variable(prefix, name).ok_or_else(|| {
                unresolved(
                    &format!("the variable `{name}` has no value"),
                    format!("pass --var {name}=VALUE or export {}", var_variable(name)),
                )
            });
        }
        if inner.ends_with(".issue.key") {
            return self.issue_key.as_deref().map(escape).ok_or_else(|| {
                unresolved(
                    "refers to the key of an issue an earlier step wrote",
                    "pass that step's issue-key output as --issue-key KEY (or JIRA_GATE_ISSUE_KEY)"
                        .into(),
                )
            });
        }
        Err(unresolved(
            "is not an expression jira-gate can resolve",
            "jira-gate resolves <+pipeline.name|identifier>, <+stage.name|identifier>, <+pipeline.variables.X>, <+stage.variables.X>, <+env.X>, <+secrets.getValue(\"NAME\")> and an earlier step's <+...issue.key>".into(),
        ))
    }

    fn variable(&self, prefix: &str, name: &str) -> Option<String> {
        if let Some(value) = self.vars.get(name) {
            return Some(escape(value));
        }
        if let Some(value) = (self.env)(&var_variable(name)) {
            return Some(escape(&value));
        }
        let scopes: Vec<&Option<Scope>> = match prefix {
            "stage.variables." => vec![&self.stage],
            "pipeline.variables." => vec![&self.pipeline],
            _ => vec![&self.stage, &self.pipeline],
        };
        scopes
            .into_iter()
            .flatten()
            .find_map(|scope| scope.variables.get(name).cloned().flatten())
            .map(|v| escape(&v))
    }
}

/// The index of the `>` that closes an expression, skipping `>` inside quotes.
fn closing(after: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in after.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// `secrets.getValue("name")` → `name`.
fn secret_call(inner: &str) -> Option<&str> {
    let args = inner
        .strip_prefix("secrets.getValue(")?
        .strip_suffix(')')?
        .trim();
    let name = args
        .strip_prefix('"')
        .and_then(|a| a.strip_suffix('"'))
        .or_else(|| args.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')))?;
    Some(name)
}

/// Native stanza text for a literal: `$` becomes `$$` so nothing is interpolated.
pub fn escape(text: &str) -> String {
    text.replace('$', "$$")
}

/// The secrets directory: `JIRA_GATE_SECRETS_DIR`, else [`DEFAULT_SECRETS_DIR`].
pub fn secrets_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    env("JIRA_GATE_SECRETS_DIR")
        .filter(|d| !d.trim().is_empty())
        .map_or_else(
            || Path::new(DEFAULT_SECRETS_DIR).to_path_buf(),
            PathBuf::from,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HARNESS_SECRET_JIRA_TOKEN" => Some("s3cret".into()),
            "HARNESS_VAR_region" => Some("eu".into()),
            _ => None,
        }
    }

    fn context(dir: &Path) -> Context<'static> {
        let mut variables = BTreeMap::new();
        variables.insert("service".to_owned(), Some("web".to_owned()));
        variables.insert("asked".to_owned(), None);
        Context {
            pipeline: Some(Scope {
                name: "Deploy web".into(),
                identifier: "deploy_web".into(),
                variables,
            }),
            stage: Some(Scope {
                name: "Prod".into(),
                identifier: "prod".into(),
                variables: BTreeMap::new(),
            }),
            vars: [("version".to_owned(), "1.4.$2".to_owned())].into(),
            env: &env,
            secrets_dir: dir.to_path_buf(),
            issue_key: None,
            inline_file_secrets: true,
        }
    }

    #[test]
    fn names_variables_and_escaping() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path());
        assert_eq!(
            ctx.resolve("<+pipeline.name> / <+stage.identifier> costs $5")
                .unwrap(),
            "Deploy web / prod costs $$5"
        );
        assert_eq!(
            ctx.resolve("<+pipeline.variables.version>").unwrap(),
            "1.4.$$2"
        );
        assert_eq!(ctx.resolve("<+env.region>").unwrap(), "eu");
        assert_eq!(ctx.resolve("<+pipeline.variables.service>").unwrap(), "web");
        let err = ctx.resolve("<+pipeline.variables.asked>").unwrap_err();
        assert_eq!(err.expression, "<+pipeline.variables.asked>");
        assert!(err.hint.contains("--var asked=VALUE"), "{err:?}");
        let err = ctx.resolve("<+stage.variables.service>").unwrap_err();
        assert!(err.message.contains("`service`"), "{err:?}");
    }

    #[test]
    fn each_scope_reads_its_own_variable_and_env_prefers_the_stage() {
        let dir = tempfile::tempdir().unwrap();
        let mut ctx = context(dir.path());
        if let Some(stage) = ctx.stage.as_mut() {
            stage
                .variables
                .insert("service".to_owned(), Some("api".to_owned()));
        }
        assert_eq!(ctx.resolve("<+pipeline.variables.service>").unwrap(), "web");
        assert_eq!(ctx.resolve("<+stage.variables.service>").unwrap(), "api");
        assert_eq!(ctx.resolve("<+env.service>").unwrap(), "api");
    }

    #[test]
    fn a_quoted_closing_bracket_does_not_end_the_expression() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path());
        assert_eq!(
            ctx.resolve(r#"token <+secrets.getValue("jira>token")> end"#)
                .unwrap(),
            "token ${HARNESS_SECRET_JIRA_TOKEN} end"
        );
        assert_eq!(
            ctx.resolve("<+secrets.getValue('jira>token')>").unwrap(),
            "${HARNESS_SECRET_JIRA_TOKEN}"
        );
    }

    #[test]
    fn unknown_expressions_and_inputs_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path());
        let err = ctx.resolve("x <+trigger.branch> y").unwrap_err();
        assert_eq!(err.expression, "<+trigger.branch>");
        let err = ctx.resolve("<+input>").unwrap_err();
        assert!(err.message.contains("runtime input"), "{err:?}");
        let err = ctx.resolve("<+pipeline.name").unwrap_err();
        assert!(err.message.contains("no closing"), "{err:?}");
    }

    #[test]
    fn issue_key_of_an_earlier_step() {
        let dir = tempfile::tempdir().unwrap();
        let mut ctx = context(dir.path());
        let text = "<+pipeline.stages.prod.spec.execution.steps.create.issue.key>";
        let err = ctx.resolve(text).unwrap_err();
        assert!(err.hint.contains("--issue-key"), "{err:?}");
        ctx.issue_key = Some("OPS-7".into());
        assert_eq!(ctx.resolve(text).unwrap(), "OPS-7");
    }

    #[test]
    fn secrets_from_the_environment_stay_references() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path());
        assert_eq!(
            ctx.resolve(r#"<+secrets.getValue("account.jira-token")>"#)
                .unwrap(),
            "${HARNESS_SECRET_JIRA_TOKEN}"
        );
        assert_eq!(
            ctx.secret("org.jira_token").unwrap(),
            SecretSource::Env("HARNESS_SECRET_JIRA_TOKEN".into())
        );
    }

    #[test]
    fn secrets_from_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pat"), "p$t\n").unwrap();
        let mut ctx = context(dir.path());
        assert_eq!(
            ctx.secret("account.pat").unwrap(),
            SecretSource::File(dir.path().join("pat"))
        );
        assert_eq!(ctx.resolve("<+secrets.getValue('pat')>").unwrap(), "p$$t");
        ctx.inline_file_secrets = false;
        let err = ctx.resolve("<+secrets.getValue('pat')>").unwrap_err();
        assert!(err.hint.contains("HARNESS_SECRET_PAT"), "{err:?}");
        let err = ctx.secret("missing").unwrap_err();
        assert!(err.message.contains("HARNESS_SECRET_MISSING"), "{err:?}");
        assert!(ctx.secret("../etc/passwd").is_err());
    }

    #[test]
    fn a_secret_name_never_reaches_outside_the_secrets_directory_or_a_hidden_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/x"), "nested").unwrap();
        std::fs::write(dir.path().join(".hidden"), "dotfile").unwrap();
        std::fs::write(dir.path().join("plain"), "ok").unwrap();
        let ctx = context(dir.path());
        for name in ["sub/x", "sub\\x", ".hidden"] {
            let err = ctx.secret(name).unwrap_err();
            assert!(
                err.message.contains("cannot be a file name"),
                "{name}: {err:?}"
            );
        }
        assert_eq!(
            ctx.secret("plain").unwrap(),
            SecretSource::File(dir.path().join("plain"))
        );
    }

    #[test]
    fn secret_variable_names() {
        assert_eq!(
            secret_variable("account.jira-token"),
            "HARNESS_SECRET_JIRA_TOKEN"
        );
        assert_eq!(secret_variable("org.a.b"), "HARNESS_SECRET_A_B");
        assert_eq!(secret_name("project.x"), "x");
    }

    #[test]
    fn a_connector_ref_may_be_written_as_a_get_value_expression() {
        assert_eq!(
            secret_variable(r#"<+secrets.getValue("jira_pat")>"#),
            "HARNESS_SECRET_JIRA_PAT"
        );
        assert_eq!(
            secret_name(r" <+secrets.getValue('account.jira-token')> "),
            "jira-token"
        );
        assert_eq!(secret_name(r#"<+secrets.getValue("org.a.b")>"#), "a.b");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pat"), "p\n").unwrap();
        let ctx = context(dir.path());
        assert_eq!(
            ctx.secret(r#"<+secrets.getValue("org.jira_token")>"#)
                .unwrap(),
            SecretSource::Env("HARNESS_SECRET_JIRA_TOKEN".into())
        );
        assert_eq!(
            ctx.secret(r#"<+secrets.getValue("account.pat")>"#).unwrap(),
            SecretSource::File(dir.path().join("pat"))
        );
        // Any other text is read as a plain name.
        assert_eq!(secret_name("<+env.x>"), "<+env.x>");
        assert!(ctx.secret("<+env.x>").is_err());
    }

    #[test]
    fn secrets_dir_default_and_override() {
        assert_eq!(secrets_dir(&|_| None), PathBuf::from("/run/secrets"));
        assert_eq!(
            secrets_dir(&|n| (n == "JIRA_GATE_SECRETS_DIR").then(|| "/tmp/s".into())),
            PathBuf::from("/tmp/s")
        );
    }
}
