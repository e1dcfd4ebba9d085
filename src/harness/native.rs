//! A Harness Jira step as the native stanza it means (SPEC section 8): what `convert` prints and
//! what `run`, `validate` and `check` parse for a Harness step.
//!
//! Every value is resolved first (expressions, variables, secret references), then written as
//! native stanza text: literal `$` doubled, secrets from the environment left as
//! `${HARNESS_SECRET_...}` references and secrets from files as `token_file`, so the stanza never
//! holds a secret unless `run` had to inline one read from a file for a text field.
//!
//! The approval criteria travel beside the stanza as a [`Tree`]: native criteria cannot say
//! `<`, `=~` or "check approval before rejection", so `run` evaluates the tree itself, and
//! `convert` writes it out when it has a native form (else exit 2 naming the part).

use std::time::Duration;

use serde_yaml::{Mapping, Value};

use super::connector::{Auth, Connector, Username};
use super::criteria::{self, Tree};
use super::expr::{Context, SecretSource, escape};
use super::fields::{FieldValue, Target, value_for};
use super::step::{
    CriteriaSpec, DEFAULT_RETRY_INTERVAL, Found, Kind, MIN_RETRY_INTERVAL, Scalar, Spec, duration,
};
use super::{Doc, Error, jexl};
use crate::locate::KeyPath;
use crate::stanza::TransitionBy;

/// A Harness step, translated.
#[derive(Debug, Clone)]
pub struct Translated {
    /// The native stanza. For an approval step its criteria are the native form of
    /// [`Translated::approve`] when there is one, else a placeholder the caller replaces.
    pub stanza: Value,
    /// The approval criteria.
    pub approve: Option<Tree>,
    /// The rejection criteria.
    pub reject: Option<Tree>,
    /// Harness checks the approval criteria first; a native stanza checks rejection first.
    pub approval_first: bool,
    /// `projectKey` and `issueType` the issue must have (approval steps).
    pub expect_project: Option<String>,
    /// See `expect_project`.
    pub expect_type: Option<String>,
    /// How the ticket's `transition` is matched: `transitionName` exactly, `status` as the target
    /// status (case-insensitive).
    pub transition_by: TransitionBy,
    /// What was read past, for `-v`.
    pub ignored: Vec<String>,
    /// Notes for the user (e.g. a connector whose identifier differs from `connectorRef`).
    pub notes: Vec<String>,
}

fn put(map: &mut Mapping, key: &str, value: Value) {
    map.insert(Value::String(key.to_owned()), value);
}

fn text(value: String) -> Value {
    Value::String(value)
}

/// The step being translated, with the resolver its values go through.
struct Step<'a> {
    doc: &'a Doc,
    found: &'a Found,
    spec: &'a Spec,
    ctx: &'a Context<'a>,
    spec_path: KeyPath,
}

impl Step<'_> {
    fn at(&self, key: &str) -> KeyPath {
        self.spec_path.key(key)
    }

    /// Resolves a value's expressions; an error points at the value.
    fn resolve(&self, value: &Scalar, path: &KeyPath) -> Result<String, Error> {
        self.ctx.resolve(&value.0).map_err(|e| {
            self.doc.error(
                path,
                format!("`{}` {}", e.expression, e.message),
                Some(e.hint),
            )
        })
    }

    fn required(&self, value: Option<&Scalar>, key: &str) -> Result<String, Error> {
        match value {
            Some(v) if !v.0.trim().is_empty() => self.resolve(v, &self.at(key)),
            _ => Err(self.doc.error(
                &self.spec_path,
                format!("a {} step needs `{key}`", self.found.kind.name()),
                Some(format!("add `{key}` under `spec`")),
            )),
        }
    }

    /// `issueKey`. A runtime input (`<+input>`, with or without `.default(...)` and the like)
    /// is asked for by Harness when the pipeline starts; here `--issue-key` (or
    /// `JIRA_GATE_ISSUE_KEY`) answers it.
    fn issue_key(&self) -> Result<String, Error> {
        let value = self.spec.issue_key.as_ref();
        if let Some(v) = value.filter(|v| v.0.trim().starts_with("<+input>")) {
            return self.ctx.issue_key.as_deref().map(escape).ok_or_else(|| {
                self.doc.error(
                    &self.at("issueKey"),
                    format!(
                        "`issueKey` is the runtime input `{}`, and no issue key was given",
                        v.0.trim()
                    ),
                    Some("pass --issue-key KEY (or JIRA_GATE_ISSUE_KEY)".into()),
                )
            });
        }
        self.required(value, "issueKey")
    }

    /// A value written as is (no `$$`), for comparing with what Jira says.
    fn optional(&self, value: Option<&Scalar>, key: &str) -> Result<Option<String>, Error> {
        match value {
            Some(v) if !v.0.trim().is_empty() => {
                Ok(Some(self.resolve(v, &self.at(key))?.replace("$$", "$")))
            }
            _ => Ok(None),
        }
    }

    fn ticket(&self, out: &mut Translated) -> Result<Mapping, Error> {
        let spec = self.spec;
        let mut ticket = Mapping::new();
        if self.found.kind == Kind::Create {
            let project = self.required(spec.project_key.as_ref(), "projectKey")?;
            put(&mut ticket, "project", text(project));
            let issue_type = self.required(spec.issue_type.as_ref(), "issueType")?;
            put(&mut ticket, "type", text(issue_type));
        } else {
            let key = self.issue_key()?;
            put(&mut ticket, "key", text(key));
        }
        if self.found.kind == Kind::Approval {
            // Harness fails the step when the issue is not in this project or of this type; a
            // native stanza checks a `project` or `type` written next to `key` the same way.
            for (value, key, native) in [
                (&spec.project_key, "projectKey", "project"),
                (&spec.issue_type, "issueType", "type"),
            ] {
                if let Some(v) = value.as_ref().filter(|v| !v.0.trim().is_empty()) {
                    put(&mut ticket, native, text(self.resolve(v, &self.at(key))?));
                }
            }
        }
        if let Some(entries) = &spec.fields {
            fields(self.doc, &self.at("fields"), entries, &mut ticket, self.ctx)?;
        }
        if self.found.kind == Kind::Create && !ticket.contains_key("summary") {
            return Err(self.doc.error(
                &self.at("fields"),
                "a JiraCreate step needs a Summary field",
                Some("add `- name: Summary` with a `value` to `fields`".into()),
            ));
        }
        if let Some(to) = &spec.transition_to {
            let path = self.at("transitionTo");
            let nonempty = |v: &Option<Scalar>| v.clone().filter(|t| !t.0.trim().is_empty());
            let transition = match (nonempty(&to.transition_name), nonempty(&to.status)) {
                (Some(name), _) => {
                    out.transition_by = TransitionBy::ExactName;
                    self.resolve(&name, &path.key("transitionName"))?
                }
                (None, Some(status)) => {
                    out.transition_by = TransitionBy::Status;
                    self.resolve(&status, &path.key("status"))?
                }
                (None, None) => {
                    return Err(self.doc.error(
                        &path,
                        "`transitionTo` names neither a status nor a transition",
                        Some("set `status` (the target status) or `transitionName`".into()),
                    ));
                }
            };
            put(&mut ticket, "transition", text(transition));
        }
        Ok(ticket)
    }

    fn interval(&self) -> Result<Duration, Error> {
        let Some(value) = &self.spec.retry_interval else {
            return Ok(DEFAULT_RETRY_INTERVAL);
        };
        let path = self.at("retryInterval");
        let raw = self.resolve(value, &path)?;
        let interval = duration(&raw).ok_or_else(|| {
            self.doc.error(
                &path,
                format!("`retryInterval` {raw:?} is not a duration"),
                Some("write it as Harness does: 1m, 30s".into()),
            )
        })?;
        if interval < MIN_RETRY_INTERVAL {
            return Err(self.doc.error(
                &path,
                format!("`retryInterval` {raw} is below Harness's minimum of 10s"),
                Some("use 10s or more".into()),
            ));
        }
        Ok(interval)
    }

    /// The approval section and the trees beside it.
    fn approval(&self, out: &mut Translated) -> Result<Value, Error> {
        let (doc, spec) = (self.doc, self.spec);
        let approve_spec = spec.approval_criteria.as_ref().ok_or_else(|| {
            doc.error(
                &self.spec_path,
                "a JiraApproval step needs `approvalCriteria`",
                Some("add approvalCriteria of type KeyValues or Jexl".into()),
            )
        })?;
        let approve_path = self.at("approvalCriteria");
        let approve =
            criteria_tree(doc, &approve_path, approve_spec, self.ctx)?.ok_or_else(|| {
                doc.error(
                    &approve_path,
                    "the approval criteria have no conditions",
                    Some("add a condition, e.g. key: Status, operator: equals, value: Done".into()),
                )
            })?;
        let reject = match &spec.rejection_criteria {
            Some(r) => criteria_tree(doc, &self.at("rejectionCriteria"), r, self.ctx)?,
            None => None,
        };
        let interval = self.interval()?;
        let mut approval = Mapping::new();
        put(&mut approval, "approve_when", placeholder(&approve));
        if let Some(reject) = &reject {
            put(&mut approval, "reject_when", placeholder(reject));
        }
        let span = |d: Duration| text(humantime::format_duration(d).to_string());
        put(&mut approval, "interval", span(interval));
        put(&mut approval, "max_interval", span(interval));
        put(
            &mut approval,
            "timeout",
            span(self.found.timeout.max(interval)),
        );
        out.expect_project = self.optional(spec.project_key.as_ref(), "projectKey")?;
        out.expect_type = self.optional(spec.issue_type.as_ref(), "issueType")?;
        out.approve = Some(approve);
        out.reject = reject;
        Ok(Value::Mapping(approval))
    }
}

/// Translates the step. `connector` is the connector file and what was read from it.
pub fn translate(
    doc: &Doc,
    found: &Found,
    spec: &Spec,
    connector: Option<(&Doc, &Connector)>,
    ctx: &Context<'_>,
) -> Result<Translated, Error> {
    let step = Step {
        doc,
        found,
        spec,
        ctx,
        spec_path: found.path.key("spec"),
    };
    let connector_ref = step.required(spec.connector_ref.as_ref(), "connectorRef")?;
    let Some((connector_doc, connector)) = connector else {
        return Err(doc.error(
            &step.at("connectorRef"),
            format!(
                "step `{}` uses the connector `{connector_ref}`, and no connector file was given",
                found.identifier
            ),
            Some("export the connector's YAML from Harness and pass it with --connector FILE (or JIRA_GATE_CONNECTOR)".into()),
        ));
    };
    let mut out = Translated {
        stanza: Value::Null,
        approve: None,
        reject: None,
        approval_first: found.kind == Kind::Approval,
        expect_project: None,
        expect_type: None,
        transition_by: TransitionBy::NameOrStatus,
        ignored: found.ignored.clone(),
        notes: Vec::new(),
    };
    let wanted = super::expr::secret_name(&connector_ref);
    if let Some(id) = connector.identifier.as_ref().filter(|id| *id != wanted) {
        out.notes.push(format!(
            "the step's connectorRef is `{connector_ref}` but the connector file is `{id}`; using the file"
        ));
    }
    out.ignored.extend(connector.ignored.iter().cloned());
    if spec.delegate_selectors.is_some() {
        out.ignored
            .push(format!("{}.delegateSelectors", step.spec_path));
    }
    let mut stanza = Mapping::new();
    put(&mut stanza, "jira", jira(connector_doc, connector, ctx)?);
    put(
        &mut stanza,
        "ticket",
        Value::Mapping(step.ticket(&mut out)?),
    );
    match found.kind {
        Kind::Approval => {
            let approval = step.approval(&mut out)?;
            put(&mut stanza, "approval", approval);
        }
        Kind::Update => {
            for (value, key) in [
                (&spec.project_key, "projectKey"),
                (&spec.issue_type, "issueType"),
            ] {
                if value.is_some() {
                    out.ignored.push(format!("{}.{key}", step.spec_path));
                }
            }
        }
        Kind::Create => {}
    }
    out.stanza = Value::Mapping(stanza);
    Ok(out)
}

/// The native form of the tree, or a stand-in that `run` replaces with the tree itself.
fn placeholder(tree: &Tree) -> Value {
    tree.to_native().unwrap_or_else(|_| {
        let mut map = Mapping::new();
        put(
            &mut map,
            "status",
            text("jira-gate: evaluated from the Harness criteria".into()),
        );
        Value::Mapping(map)
    })
}

fn jira(doc: &Doc, connector: &Connector, ctx: &Context<'_>) -> Result<Value, Error> {
    let root = KeyPath::default().key("connector").key("spec");
    let auth_spec = if doc.get(&root.key("auth")).is_some() {
        root.key("auth").key("spec")
    } else {
        root.clone()
    };
    let secret = |reference: &str, key: &str| -> Result<SecretSource, Error> {
        ctx.secret(reference).map_err(|e| {
            doc.error(
                &auth_spec.key(key),
                format!("the secret `{}`: {}", e.expression, e.message),
                Some(e.hint),
            )
        })
    };
    let url = ctx.resolve(&connector.url).map_err(|e| {
        doc.error(
            &root.key("jiraUrl"),
            format!("`{}` {}", e.expression, e.message),
            Some(e.hint),
        )
    })?;
    let mut auth = Mapping::new();
    let token = match &connector.auth {
        Auth::UsernamePassword {
            username,
            password_ref,
        } => {
            put(&mut auth, "type", text("basic".into()));
            let user = match username {
                Username::Plain(u) => escape(u),
                Username::Secret(reference) => match secret(reference, "usernameRef")? {
                    SecretSource::Env(var) => format!("${{{var}}}"),
                    SecretSource::File(path) if !ctx.inline_file_secrets => {
                        return Err(doc.error(
                            &auth_spec.key("usernameRef"),
                            format!(
                                "the username is read from {}, and a converted stanza cannot read a file for it",
                                path.display()
                            ),
                            Some(format!(
                                "export {} when converting and running the stanza",
                                super::expr::secret_variable(reference)
                            )),
                        ));
                    }
                    SecretSource::File(path) => {
                        let value = std::fs::read_to_string(&path).map_err(|e| {
                            doc.error(
                                &auth_spec.key("usernameRef"),
                                format!("cannot read {}: {e}", path.display()),
                                None,
                            )
                        })?;
                        escape(value.trim())
                    }
                },
            };
            put(&mut auth, "username", text(user));
            secret(password_ref, "passwordRef")?
        }
        Auth::PersonalAccessToken { pat_ref } => {
            put(&mut auth, "type", text("pat".into()));
            secret(pat_ref, "patRef")?
        }
    };
    match token {
        SecretSource::Env(var) => put(&mut auth, "token", text(format!("${{{var}}}"))),
        SecretSource::File(path) => put(
            &mut auth,
            "token_file",
            text(escape(&path.display().to_string())),
        ),
    }
    let mut jira = Mapping::new();
    put(&mut jira, "url", text(url.trim_end_matches('/').to_owned()));
    put(&mut jira, "auth", Value::Mapping(auth));
    Ok(Value::Mapping(jira))
}

fn fields(
    doc: &Doc,
    path: &KeyPath,
    entries: &[super::step::FieldEntry],
    ticket: &mut Mapping,
    ctx: &Context<'_>,
) -> Result<(), Error> {
    let mut others = Mapping::new();
    let mut labels: Vec<Value> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let here = path.index(i);
        let name = entry.name.0.trim();
        if name.is_empty() {
            return Err(doc.error(
                &here,
                "a field without a name",
                Some("give each field a `name`".into()),
            ));
        }
        let value = ctx.resolve(&entry.value.0).map_err(|e| {
            doc.error(
                &here.key("value"),
                format!("`{}` {}", e.expression, e.message),
                Some(e.hint),
            )
        })?;
        let target = Target::of(name);
        let key = match &target {
            Target::Summary => "summary",
            Target::Description => "description",
            Target::Comment => "comment",
            Target::Labels => {
                if let FieldValue::Many(items) = value_for(&target, &value) {
                    labels.extend(items.into_iter().map(Value::String));
                }
                continue;
            }
            Target::Field(field) => {
                let value = match value_for(&target, &value) {
                    FieldValue::One(v) => Value::String(v),
                    FieldValue::Many(items) => {
                        Value::Sequence(items.into_iter().map(Value::String).collect())
                    }
                };
                others.insert(Value::String(field.clone()), value);
                continue;
            }
        };
        if ticket.contains_key(key) {
            return Err(doc.error(
                &here,
                format!("the field `{name}` is given twice"),
                Some("keep one".into()),
            ));
        }
        put(ticket, key, text(value));
    }
    // Harness sends the text to Jira as written; Markdown (issue 9) is the native stanza's default.
    if ticket.contains_key("description") || ticket.contains_key("comment") {
        put(ticket, "markup", Value::String("plain".into()));
    }
    if !labels.is_empty() {
        put(ticket, "labels", Value::Sequence(labels));
    }
    if !others.is_empty() {
        put(ticket, "fields", Value::Mapping(others));
    }
    Ok(())
}

/// The tree of one criteria spec; `None` for KeyValues without conditions.
#[allow(clippy::too_many_lines)] // KeyValues and Jexl side by side, with the shared conversion at the end
fn criteria_tree(
    doc: &Doc,
    path: &KeyPath,
    spec: &CriteriaSpec,
    ctx: &Context<'_>,
) -> Result<Option<Tree>, Error> {
    let body = path.key("spec");
    match spec.kind.0.as_str() {
        "KeyValues" => {
            if spec.spec.expression.is_some() {
                return Err(doc.key_error(
                    &body,
                    "expression",
                    "`expression` belongs to Jexl criteria, not KeyValues",
                    Some("set `type: Jexl`, or write `conditions`".into()),
                ));
            }
            let conditions = spec.spec.conditions.clone().unwrap_or_default();
            if conditions.is_empty() {
                return Ok(None);
            }
            let match_any = match spec.spec.match_any_condition.as_ref().map(|s| s.0.trim()) {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(doc.error(
                        &body.key("matchAnyCondition"),
                        format!("`matchAnyCondition` is {other:?}, not true or false"),
                        None,
                    ));
                }
            };
            let mut triples = Vec::new();
            for (i, c) in conditions.iter().enumerate() {
                let value = ctx.resolve(&c.value.0).map_err(|e| {
                    doc.error(
                        &body.key("conditions").index(i).key("value"),
                        format!("`{}` {}", e.expression, e.message),
                        Some(e.hint),
                    )
                })?;
                triples.push((
                    c.key.0.clone(),
                    c.operator.0.clone(),
                    value.replace("$$", "$"),
                ));
            }
            criteria::from_key_values(&triples, match_any)
                .map(Some)
                .map_err(|e| {
                    doc.error(
                        &body.key("conditions").index(e.index).key(e.key),
                        e.message,
                        Some(e.hint),
                    )
                })
        }
        "Jexl" => {
            if spec.spec.conditions.is_some() || spec.spec.match_any_condition.is_some() {
                return Err(doc.error(
                    &body,
                    "`conditions` and `matchAnyCondition` belong to KeyValues criteria, not Jexl",
                    Some("set `type: KeyValues`, or write `expression`".into()),
                ));
            }
            let Some(expression) = spec
                .spec
                .expression
                .as_ref()
                .filter(|e| !e.0.trim().is_empty())
            else {
                return Err(doc.error(
                    &body,
                    "Jexl criteria need an `expression`",
                    Some("for example expression: <+issue.Status> == \"Done\"".into()),
                ));
            };
            let at = body.key("expression");
            // Harness renders the other expressions (pipeline variables, ...) before Jexl runs.
            let (rendered, columns) = render(ctx, &expression.0).map_err(|e| {
                doc.error(
                    &at,
                    format!("`{}` {}", e.expression, e.message),
                    Some(e.hint),
                )
            })?;
            let expr = jexl::parse(&rendered).map_err(|e| {
                let mut err =
                    doc.error(&at, format!("in the Jexl expression: {}", e.message), None);
                let column = columns.get(e.column - 1).copied().unwrap_or(e.column);
                (err.line, err.column) =
                    token_position(doc, (err.line, err.column), &expression.0, column);
                err
            })?;
            Ok(Some(criteria::from_jexl(&expr)))
        }
        other => Err(doc.error(
            &path.key("type"),
            format!("criteria of type `{other}` are not supported"),
            Some("use KeyValues or Jexl".into()),
        )),
    }
}

/// The Jexl text with every `<+...>` that does not read the issue replaced by its value, and for
/// each character of the result the 1-based column it came from.
fn render(ctx: &Context<'_>, text: &str) -> Result<(String, Vec<usize>), super::expr::Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut columns = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..].iter().collect();
        let inner = rest.strip_prefix("<+").map(str::trim_start);
        let reads_issue = inner.is_some_and(|r| r.starts_with("issue.") || r.starts_with("issue["));
        match (inner, rest.find('>')) {
            (Some(_), Some(end)) if !reads_issue => {
                let expression: String = rest[..=end].to_owned();
                let value = ctx.resolve(&expression)?.replace("$$", "$");
                for c in value.chars() {
                    out.push(c);
                    columns.push(i + 1);
                }
                i += expression.chars().count();
            }
            _ => {
                out.push(chars[i]);
                columns.push(i + 1);
                i += 1;
            }
        }
    }
    columns.push(chars.len() + 1);
    Ok((out, columns))
}

/// The file position of column `column` (1-based, in characters) of the scalar `value` that
/// starts at (line, start): after the quote of a quoted scalar; in a block scalar, on the line of
/// the block that holds that character.
fn token_position(
    doc: &Doc,
    (line, start): (usize, usize),
    value: &str,
    column: usize,
) -> (usize, usize) {
    let lines: Vec<&str> = doc.text.lines().collect();
    let first = lines
        .get(line - 1)
        .and_then(|l| l.chars().nth(start - 1))
        .unwrap_or(' ');
    match first {
        '|' | '>' => block_position(&lines[line..], value, column - 1, first == '>')
            .map_or((line, start), |(row, at)| (line + row + 1, at)),
        '"' | '\'' => (line, start + column),
        _ => (line, start + column - 1),
    }
}

/// In the lines after a block scalar's `|` or `>`: the row (0-based) and 1-based column of
/// character `index` of its value. Each line gives the value its text past the block's
/// indentation and one character for its line break (a newline, or a space where `>` folds),
/// except that `>` drops the break of a text line followed by blank lines when neither it nor
/// the next text line is more indented (YAML's folding: `a`, a blank line, `b` read `a\nb`).
fn block_position(
    lines: &[&str],
    value: &str,
    index: usize,
    folded: bool,
) -> Option<(usize, usize)> {
    let depth = |l: &str| l.chars().take_while(|c| *c == ' ').count();
    let blank = |l: &str| l.trim().is_empty();
    let indent = depth(lines.iter().find(|l| !blank(l))?);
    let total = value.chars().count();
    let mut consumed = 0;
    let mut last = None;
    // The last text line, when it is at the block's indentation (not "more indented").
    let mut previous: Option<bool> = None;
    // Whether the line before this one holds text.
    let mut after_text = false;
    for (row, text) in lines.iter().enumerate() {
        let is_blank = blank(text);
        let ended = !is_blank && depth(text) < indent;
        // The block's text is all read (blank lines after it are not part of the value).
        if ended || (consumed >= total && previous.is_some()) {
            break;
        }
        let length = text.chars().count().saturating_sub(indent);
        let next_plain = || {
            lines[row..]
                .iter()
                .find(|l| !blank(l))
                .is_some_and(|l| depth(l) == indent)
        };
        let folds = folded && is_blank && after_text && previous == Some(true) && next_plain();
        let takes = if folds { 0 } else { length + 1 };
        if index < consumed + takes {
            return Some((row, indent + index - consumed + 1));
        }
        if !is_blank {
            previous = Some(depth(text) == indent);
        }
        after_text = !is_blank;
        consumed += takes;
        last = Some((row, indent + length + 1));
    }
    // Past the last character (an error at the end): after the last line's text.
    last.filter(|_| index <= total)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::step;
    use super::*;

    const CONNECTOR: &str = "connector:
  identifier: jira
  type: Jira
  spec:
    jiraUrl: https://example.atlassian.net/
    auth:
      type: UsernamePassword
      spec:
        username: ci@example.com
        passwordRef: account.jira_token
";

    fn env(name: &str) -> Option<String> {
        (name == "HARNESS_SECRET_JIRA_TOKEN").then(|| "t0ken".into())
    }

    fn run(text: &str, id: &str, issue_key: Option<&str>) -> Result<Translated, Error> {
        let doc = Doc::parse("p.yaml", text).unwrap();
        let cdoc = Doc::parse("c.yaml", CONNECTOR).unwrap();
        let connector = Connector::from_doc(&cdoc).unwrap();
        let found = step::find(&doc, id)?;
        let spec = step::read_spec(&doc, &found)?;
        let ctx = Context {
            pipeline: found.pipeline.clone(),
            stage: found.stage.clone(),
            vars: BTreeMap::new(),
            env: &env,
            secrets_dir: "/nonexistent".into(),
            issue_key: issue_key.map(str::to_owned),
            inline_file_secrets: false,
        };
        translate(&doc, &found, &spec, Some((&cdoc, &connector)), &ctx)
    }

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn a_create_step() {
        let t = run(
            "pipeline:
  name: Deploy
  identifier: deploy
  stages:
    - stage:
        identifier: prod
        name: Prod
        spec:
          execution:
            steps:
              - step:
                  type: JiraCreate
                  identifier: create
                  spec:
                    connectorRef: account.jira
                    projectKey: OPS
                    issueType: Change
                    delegateSelectors: [d]
                    fields:
                      - name: Summary
                        value: <+pipeline.name> to <+stage.name> costs $5
                      - name: Labels
                        value: deploy, \"a, b\"
                      - name: Components
                        value: Web, API
                      - name: Priority
                        value: High
",
            "create",
            None,
        )
        .unwrap();
        assert_eq!(
            t.stanza,
            yaml(
                "jira:
  url: https://example.atlassian.net
  auth: {type: basic, username: ci@example.com, token: '${HARNESS_SECRET_JIRA_TOKEN}'}
ticket:
  project: OPS
  type: Change
  summary: Deploy to Prod costs $$5
  labels: [deploy, 'a, b']
  fields: {Components: [Web, API], Priority: High}
"
            )
        );
        assert!(t.approve.is_none());
        assert!(t.ignored.iter().any(|k| k.ends_with("delegateSelectors")));
    }

    const APPROVAL: &str = "step:
  type: JiraApproval
  identifier: approve
  timeout: 2h
  spec:
    connectorRef: jira
    projectKey: OPS
    issueType: Change
    issueKey: <+pipeline.stages.prod.spec.execution.steps.create.issue.key>
    retryInterval: 15s
    approvalCriteria:
      type: Jexl
      spec:
        expression: <+issue.Status> == \"Approved\" && <+issue.Points> < 5
    rejectionCriteria:
      type: KeyValues
      spec:
        matchAnyCondition: true
        conditions:
          - key: Status
            operator: in
            value: Rejected, Cancelled
";

    #[test]
    fn an_approval_step() {
        let err = run(APPROVAL, "approve", None).unwrap_err();
        assert_eq!((err.line, err.column), (9, 15));
        assert!(err.to_string().contains("--issue-key"), "{err}");
        let t = run(APPROVAL, "approve", Some("OPS-4")).unwrap();
        assert_eq!(t.stanza["ticket"]["key"], "OPS-4");
        assert_eq!(t.stanza["approval"]["interval"], "15s");
        assert_eq!(t.stanza["approval"]["timeout"], "2h");
        assert_eq!(
            t.stanza["approval"]["reject_when"],
            yaml("status: [Rejected, Cancelled]")
        );
        assert!(t.approve.as_ref().unwrap().to_native().is_err());
        assert!(t.approval_first);
        assert_eq!(t.expect_project.as_deref(), Some("OPS"));
        assert_eq!(t.expect_type.as_deref(), Some("Change"));
        // The stanza checks them too: `project` and `type` next to `key`.
        assert_eq!(t.stanza["ticket"]["project"], "OPS");
        assert_eq!(t.stanza["ticket"]["type"], "Change");
        // The interval does not grow.
        assert_eq!(t.stanza["approval"]["max_interval"], "15s");
    }

    #[test]
    fn a_runtime_input_issue_key_takes_the_given_key() {
        let text = APPROVAL.replace(
            "issueKey: <+pipeline.stages.prod.spec.execution.steps.create.issue.key>",
            "issueKey: <+input>",
        );
        let t = run(&text, "approve", Some("OPS-5")).unwrap();
        assert_eq!(t.stanza["ticket"]["key"], "OPS-5");
        let err = run(&text, "approve", None).unwrap_err();
        assert_eq!((err.line, err.column), (9, 15));
        let message = err.to_string();
        assert!(
            message.contains("`<+input>`") && message.contains("--issue-key"),
            "{message}"
        );
        let text = text.replace("<+input>", "<+input>.default(OPS-1)");
        let t = run(&text, "approve", Some("OPS-6")).unwrap();
        assert_eq!(t.stanza["ticket"]["key"], "OPS-6");
    }

    #[test]
    fn approval_mistakes_are_located() {
        let short = APPROVAL.replace("retryInterval: 15s", "retryInterval: 5s");
        let err = run(&short, "approve", Some("OPS-4")).unwrap_err();
        assert_eq!((err.line, err.column), (10, 20));
        assert!(err.message.contains("minimum of 10s"), "{err}");
        let jexl = APPROVAL.replace("<+issue.Points> < 5", "<+issue.Points> + 1 < 5");
        let err = run(&jexl, "approve", Some("OPS-4")).unwrap_err();
        assert_eq!((err.line, err.column), (14, 70));
        assert!(err.message.contains("`+`"), "{err}");
        let twice = APPROVAL.replace("value: Rejected, Cancelled", "value: Rejected\n          - key: status\n            operator: equals\n            value: X");
        let err = run(&twice, "approve", Some("OPS-4")).unwrap_err();
        assert_eq!((err.line, err.column), (23, 18));
        assert!(err.message.contains("one condition only"), "{err}");
    }

    #[test]
    fn other_expressions_in_jexl_are_rendered_first() {
        let text = |expression: &str| {
            format!(
                "pipeline:
  identifier: p
  variables:
    - name: target
      value: Done
  stages:
    - stage:
        identifier: s
        spec:
          execution:
            steps:
              - step:
                  type: JiraApproval
                  identifier: a
                  spec:
                    connectorRef: jira
                    issueKey: OPS-1
                    approvalCriteria:
                      type: Jexl
                      spec:
                        expression: '{expression}'
"
            )
        };
        let t = run(
            &text("<+issue.Status> == \"<+pipeline.variables.target>\""),
            "a",
            None,
        )
        .unwrap();
        assert_eq!(
            t.approve.unwrap().to_native().unwrap(),
            yaml("status: Done")
        );
        // Columns after a rendered expression are the file's.
        let err = run(
            &text("\"<+pipeline.variables.target>\" == <+issue.n> + 1"),
            "a",
            None,
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (21, 83));
        assert!(err.message.contains("`+`"), "{err}");
        let err = run(&text("<+issue.n> == \"<+trigger.x>\""), "a", None).unwrap_err();
        assert!(err.message.contains("<+trigger.x>"), "{err}");
    }

    #[test]
    fn an_update_step_with_a_transition() {
        let t = run(
            "step:
  type: JiraUpdate
  identifier: update
  spec:
    connectorRef: jira
    issueKey: OPS-9
    transitionTo:
      status: done
      transitionName: \"\"
    fields:
      - name: Comment
        value: Deployed
",
            "update",
            None,
        )
        .unwrap();
        assert_eq!(t.stanza["ticket"]["transition"], "done");
        assert_eq!(t.stanza["ticket"]["comment"], "Deployed");
        assert_eq!(
            t.stanza["ticket"]["markup"], "plain",
            "sent as Harness sends it"
        );
        assert!(t.stanza.get("approval").is_none());
    }
}

#[cfg(test)]
mod file_secret_tests {
    use std::collections::BTreeMap;

    use super::super::step;
    use super::*;

    #[test]
    fn convert_never_inlines_a_secret_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("jira_user"), "ci-bot\n").unwrap();
        std::fs::write(dir.path().join("jira_password"), "pw\n").unwrap();
        let cdoc = Doc::parse(
            "c.yaml",
            "connector:\n  type: Jira\n  spec:\n    jiraUrl: https://jira.example.com\n    usernameRef: jira_user\n    passwordRef: jira_password\n",
        )
        .unwrap();
        let connector = Connector::from_doc(&cdoc).unwrap();
        let doc = Doc::parse(
            "s.yaml",
            "step:\n  type: JiraUpdate\n  identifier: u\n  spec:\n    connectorRef: jira\n    issueKey: OPS-1\n",
        )
        .unwrap();
        let found = step::find(&doc, "u").unwrap();
        let spec = step::read_spec(&doc, &found).unwrap();
        let mut ctx = Context {
            pipeline: None,
            stage: None,
            vars: BTreeMap::new(),
            env: &|_| None,
            secrets_dir: dir.path().to_path_buf(),
            issue_key: None,
            inline_file_secrets: true,
        };
        let t = translate(&doc, &found, &spec, Some((&cdoc, &connector)), &ctx).unwrap();
        assert_eq!(t.stanza["jira"]["auth"]["username"], "ci-bot");
        let token_file = dir.path().join("jira_password").display().to_string();
        assert_eq!(t.stanza["jira"]["auth"]["token_file"], token_file.as_str());
        ctx.inline_file_secrets = false;
        let err = translate(&doc, &found, &spec, Some((&cdoc, &connector)), &ctx).unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("c.yaml", 5));
        assert!(
            err.to_string().contains("HARNESS_SECRET_JIRA_USER"),
            "{err}"
        );
    }
}
