//! Finding a Jira step in a Harness file and reading its `spec` strictly (SPEC section 8).
//!
//! The step may sit in a pipeline (in a stage, a parallel block, a step group or rollback steps),
//! in a stage file, a stage, step group or pipeline template, or be a step template itself
//! (`template: { type: Step, spec: { type: JiraCreate, spec: ... } }`, found by the template's
//! identifier). `--harness-step STAGE.STEP` picks one when two stages use the same identifier.
//!
//! The step's own keys that jira-gate has no use for (`failureStrategies`, `when`, `strategy`,
//! ...) are read past and listed for `-v`; inside `spec`, a key Harness does not define is an
//! error with a "did you mean", because a misspelt `issueKey` would silently change what runs.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_yaml::Value;

use super::expr::Scope;
use super::{Doc, Error, did_you_mean, scalar_text};
use crate::locate::{self, KeyPath};

/// The Jira step types jira-gate runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `JiraCreate`.
    Create,
    /// `JiraUpdate`.
    Update,
    /// `JiraApproval`.
    Approval,
}

impl Kind {
    /// Harness's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Create => "JiraCreate",
            Kind::Update => "JiraUpdate",
            Kind::Approval => "JiraApproval",
        }
    }
}

/// Harness's default step timeout for Jira steps.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60 * 60);
/// Harness's default `retryInterval`.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(60);
/// The smallest `retryInterval` Harness accepts.
pub const MIN_RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// A step found in the file.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where the step map is (the template's `spec` for a step template).
    pub path: KeyPath,
    /// `identifier`.
    pub identifier: String,
    /// `name`.
    pub name: Option<String>,
    /// The step type.
    pub kind: Kind,
    /// The pipeline around it, if the file has one.
    pub pipeline: Option<Scope>,
    /// The stage around it.
    pub stage: Option<Scope>,
    /// `timeout` (Harness default 10h).
    pub timeout: Duration,
    /// Step keys read past, for `-v`.
    pub ignored: Vec<String>,
}

struct Candidate {
    path: KeyPath,
    identifier: String,
    stage: Option<Scope>,
    pipeline: Option<Scope>,
}

/// Step keys Harness defines that jira-gate does not use.
const STEP_KEYS: &[&str] = &[
    "name",
    "identifier",
    "type",
    "spec",
    "timeout",
    "description",
    "failureStrategies",
    "when",
    "strategy",
    "enforce",
    "delegateSelectors",
    "tags",
];

/// Finds the step `wanted` (`STEP` or `STAGE.STEP`).
pub fn find(doc: &Doc, wanted: &str) -> Result<Found, Error> {
    let mut candidates = Vec::new();
    walk(
        doc,
        &doc.root,
        &KeyPath::default(),
        None,
        None,
        &mut candidates,
    );
    let step_wanted = wanted.split_once('.').map_or(wanted, |(_, step)| step);
    let candidate = pick(doc, &candidates, wanted)?;
    let path = &candidate.path;
    if let Some(reference) = doc.text_at(&path.key("template").key("templateRef")) {
        return Err(doc.error(
            &path.key("template"),
            format!("step `{step_wanted}` uses the step template `{reference}`"),
            Some("pass the template's file instead, with the template's identifier".into()),
        ));
    }
    let type_name = doc.text_at(&path.key("type")).unwrap_or_default();
    let kind = match type_name.as_str() {
        "JiraCreate" => Kind::Create,
        "JiraUpdate" => Kind::Update,
        "JiraApproval" => Kind::Approval,
        other => {
            return Err(doc.error(
                &path.key("type"),
                format!("step `{step_wanted}` is of type `{other}`, which jira-gate does not run"),
                Some("jira-gate runs JiraCreate, JiraUpdate and JiraApproval steps".into()),
            ));
        }
    };
    let timeout = match doc.text_at(&path.key("timeout")) {
        None => DEFAULT_TIMEOUT,
        Some(text) => duration(&text).ok_or_else(|| {
            doc.error(
                &path.key("timeout"),
                format!("the step timeout {text:?} is not a duration"),
                Some("write it as Harness does: 10m, 1h, 1d".into()),
            )
        })?,
    };
    let ignored = doc
        .get(path)
        .and_then(Value::as_mapping)
        .map(|map| {
            map.keys()
                .filter_map(scalar_text)
                .filter(|k| {
                    !matches!(
                        k.as_str(),
                        "name" | "identifier" | "type" | "spec" | "timeout"
                    )
                })
                .map(|k| format!("{path}.{k}"))
                .collect()
        })
        .unwrap_or_default();
    let unknown: Vec<String> = doc.other_keys(path, STEP_KEYS);
    if let Some(key) = unknown.first() {
        if let Some(close) = did_you_mean(key, &["spec", "timeout", "type", "identifier"]) {
            return Err(doc.key_error(
                path,
                key,
                format!("step `{step_wanted}` has an unknown key `{key}`"),
                Some(format!("did you mean `{close}`?")),
            ));
        }
    }
    Ok(Found {
        path: path.clone(),
        identifier: candidate.identifier.clone(),
        name: doc.text_at(&path.key("name")),
        kind,
        pipeline: candidate.pipeline.clone(),
        stage: candidate.stage.clone(),
        timeout,
        ignored,
    })
}

/// The one candidate `wanted` names, or an error listing what there is.
fn pick<'c>(doc: &Doc, candidates: &'c [Candidate], wanted: &str) -> Result<&'c Candidate, Error> {
    let (stage_wanted, step_wanted) = match wanted.split_once('.') {
        Some((stage, step)) => (Some(stage), step),
        None => (None, wanted),
    };
    let matching: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.identifier == step_wanted)
        .filter(|c| {
            stage_wanted.is_none_or(|s| c.stage.as_ref().is_some_and(|st| st.identifier == s))
        })
        .collect();
    let shown = |c: &Candidate| match &c.stage {
        Some(stage) => format!("{}.{}", stage.identifier, c.identifier),
        None => c.identifier.clone(),
    };
    match matching.as_slice() {
        [one] => Ok(*one),
        [] => {
            let names: Vec<String> = candidates.iter().map(shown).collect();
            let ids: Vec<&str> = candidates.iter().map(|c| c.identifier.as_str()).collect();
            let hint = match did_you_mean(step_wanted, &ids) {
                Some(close) => format!("did you mean `{close}`?"),
                None if names.is_empty() => "the file has no steps".into(),
                None => format!("steps in the file: {}", names.join(", ")),
            };
            Err(doc.error(
                &KeyPath::default(),
                format!("no step with the identifier `{wanted}`"),
                Some(hint),
            ))
        }
        many => {
            let names: Vec<String> = many.iter().map(|c| shown(c)).collect();
            Err(doc.error(
                &many[1].path,
                format!(
                    "{} steps have the identifier `{wanted}`: {}",
                    many.len(),
                    names.join(", ")
                ),
                Some("name the stage too: --harness-step STAGE.STEP".into()),
            ))
        }
    }
}

/// A Harness duration (`10m`, `1h 30m`, `1d`, `1w`).
pub fn duration(text: &str) -> Option<Duration> {
    humantime::parse_duration(text.trim()).ok()
}

fn scope(doc: &Doc, path: &KeyPath) -> Scope {
    let mut variables = BTreeMap::new();
    if let Some(list) = doc.get(&path.key("variables")).and_then(Value::as_sequence) {
        for item in list {
            let Some(name) = item.get("name").and_then(scalar_text) else {
                continue;
            };
            let value = item
                .get("value")
                .and_then(scalar_text)
                .filter(|v| !v.contains("<+input>"));
            variables.insert(name, value);
        }
    }
    Scope {
        name: doc.text_at(&path.key("name")).unwrap_or_default(),
        identifier: doc.text_at(&path.key("identifier")).unwrap_or_default(),
        variables,
    }
}

fn walk(
    doc: &Doc,
    node: &Value,
    path: &KeyPath,
    pipeline: Option<&Scope>,
    stage: Option<&Scope>,
    out: &mut Vec<Candidate>,
) {
    match node {
        Value::Mapping(map) => {
            for (key, value) in map {
                let Some(key) = scalar_text(key) else {
                    continue;
                };
                let here = path.key(&key);
                let mut pipeline = pipeline.cloned();
                let mut stage = stage.cloned();
                match key.as_str() {
                    "pipeline" if value.is_mapping() => pipeline = Some(scope(doc, &here)),
                    "stage" if value.is_mapping() => stage = Some(scope(doc, &here)),
                    "step" if value.is_mapping() => {
                        if let Some(identifier) = value.get("identifier").and_then(scalar_text) {
                            out.push(Candidate {
                                path: here.clone(),
                                identifier,
                                stage: stage.clone(),
                                pipeline: pipeline.clone(),
                            });
                        }
                        continue;
                    }
                    "template" if value.is_mapping() => {
                        let kind = value.get("type").and_then(scalar_text).unwrap_or_default();
                        match kind.as_str() {
                            "Pipeline" => pipeline = Some(scope(doc, &here.key("spec"))),
                            "Stage" => {
                                let mut s = scope(doc, &here.key("spec"));
                                s.name = doc.text_at(&here.key("name")).unwrap_or_default();
                                s.identifier =
                                    doc.text_at(&here.key("identifier")).unwrap_or_default();
                                stage = Some(s);
                            }
                            "Step" => {
                                if let Some(identifier) =
                                    value.get("identifier").and_then(scalar_text)
                                {
                                    out.push(Candidate {
                                        path: here.key("spec"),
                                        identifier,
                                        stage: stage.clone(),
                                        pipeline: pipeline.clone(),
                                    });
                                }
                                continue;
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
                walk(doc, value, &here, pipeline.as_ref(), stage.as_ref(), out);
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(doc, item, &path.index(i), pipeline, stage, out);
            }
        }
        Value::Tagged(tagged) => walk(doc, &tagged.value, path, pipeline, stage, out),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The specs, strictly.

/// `{name, value}` of a field list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldEntry {
    /// Display name or id.
    pub name: Scalar,
    /// The value, in Harness's string conventions.
    pub value: Scalar,
}

/// A YAML scalar taken as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        match value {
            Value::Null => Ok(Scalar(String::new())),
            other => scalar_text(&other).map(Scalar).ok_or_else(|| {
                serde::de::Error::custom("expected a single value, not a list or map")
            }),
        }
    }
}

/// `transitionTo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TransitionTo {
    /// The target status (case-insensitive).
    #[serde(default)]
    pub status: Option<Scalar>,
    /// The transition's name (exact).
    #[serde(default)]
    pub transition_name: Option<Scalar>,
}

/// `approvalCriteria` / `rejectionCriteria`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriteriaSpec {
    /// `KeyValues` or `Jexl`.
    #[serde(rename = "type")]
    pub kind: Scalar,
    /// Its settings.
    pub spec: CriteriaBody,
}

/// The body of a criteria spec (keys of both types; which apply depends on `type`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CriteriaBody {
    /// KeyValues: any condition (true) or all (false, the default).
    #[serde(default)]
    pub match_any_condition: Option<Scalar>,
    /// KeyValues: the conditions.
    #[serde(default)]
    pub conditions: Option<Vec<Condition>>,
    /// Jexl: the expression.
    #[serde(default)]
    pub expression: Option<Scalar>,
}

/// A KeyValues condition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The field.
    pub key: Scalar,
    /// `equals`, `not equals`, `in`, `not in`.
    pub operator: Scalar,
    /// The value (comma-separated for `in` / `not in`).
    pub value: Scalar,
}

/// A Jira step's `spec`: the keys of all three types; [`read_spec`] checks which apply.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    /// The connector's identifier (with its scope prefix).
    #[serde(default)]
    pub connector_ref: Option<Scalar>,
    /// Project key.
    #[serde(default)]
    pub project_key: Option<Scalar>,
    /// Issue type name.
    #[serde(default)]
    pub issue_type: Option<Scalar>,
    /// Issue key (update, approval).
    #[serde(default)]
    pub issue_key: Option<Scalar>,
    /// Fields (create, update).
    #[serde(default)]
    pub fields: Option<Vec<FieldEntry>>,
    /// Transition (update).
    #[serde(default)]
    pub transition_to: Option<TransitionTo>,
    /// Approval criteria.
    #[serde(default)]
    pub approval_criteria: Option<CriteriaSpec>,
    /// Rejection criteria.
    #[serde(default)]
    pub rejection_criteria: Option<CriteriaSpec>,
    /// Poll interval (approval).
    #[serde(default)]
    pub retry_interval: Option<Scalar>,
    /// Harness-only: which delegate runs the step.
    #[serde(default)]
    pub delegate_selectors: Option<Value>,
}

/// Which spec keys each step type takes (beyond `connectorRef` and `delegateSelectors`).
fn allowed(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Create => &["projectKey", "issueType", "fields"],
        Kind::Update => &[
            "issueKey",
            "fields",
            "transitionTo",
            "projectKey",
            "issueType",
        ],
        Kind::Approval => &[
            "projectKey",
            "issueType",
            "issueKey",
            "approvalCriteria",
            "rejectionCriteria",
            "retryInterval",
        ],
    }
}

/// Reads the step's `spec` strictly, with the outer file's positions in every error.
pub fn read_spec(doc: &Doc, found: &Found) -> Result<Spec, Error> {
    let spec_path = found.path.key("spec");
    let node = locate::extract(&doc.text, &spec_path).map_err(|e| doc.located(e))?;
    let spec: Spec = serde_path_to_error::deserialize(serde_yaml::Deserializer::from_str(
        &node.text,
    ))
    .map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let (line, column) = inner
            .location()
            .map_or((node.position.line, node.position.column), |l| {
                (l.line(), l.column())
            });
        let mut message = inner.to_string();
        if let Some(cut) = message.find(" at line ") {
            message.truncate(cut);
        }
        let mut hint = None;
        if let Some(rest) = message.strip_prefix("unknown field `") {
            if let Some((got, expected)) = rest.split_once("`, expected ") {
                let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
                hint = Some(match did_you_mean(got, &candidates) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "{} steps take: {}",
                        found.kind.name(),
                        candidates.join(", ")
                    ),
                });
                message = format!(
                    "unknown key `{got}` in the {} step's spec",
                    found.kind.name()
                );
            }
        }
        let message = if path == "." || path.is_empty() || hint.is_some() {
            message
        } else {
            format!("`{spec_path}.{path}`: {message}")
        };
        Error {
            file: doc.file.clone(),
            line,
            column,
            message,
            hint,
        }
    })?;
    let keys = doc.other_keys(&spec_path, &["connectorRef", "delegateSelectors"]);
    for key in keys {
        if !allowed(found.kind).contains(&key.as_str()) {
            return Err(doc.key_error(
                &spec_path,
                &key,
                format!("`{key}` does not belong in a {} step", found.kind.name()),
                Some(format!(
                    "{} steps take: connectorRef, {}",
                    found.kind.name(),
                    allowed(found.kind).join(", ")
                )),
            ));
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIPELINE: &str = "\
pipeline:
  name: Deploy web
  identifier: deploy_web
  projectIdentifier: shop
  variables:
    - name: version
      type: String
      value: 1.4.2
    - name: asked
      type: String
      value: <+input>
  stages:
    - stage:
        name: Prod
        identifier: prod
        type: Custom
        spec:
          execution:
            steps:
              - step:
                  type: ShellScript
                  name: build
                  identifier: build
                  spec: {}
              - stepGroup:
                  identifier: group
                  steps:
                    - parallel:
                        - step:
                            type: JiraCreate
                            name: Create
                            identifier: create
                            timeout: 5m
                            failureStrategies: []
                            spec:
                              connectorRef: account.jira
                              projectKey: OPS
                              issueType: Task
                              fields:
                                - name: Summary
                                  value: Deploy <+pipeline.variables.version>
    - stage:
        name: Other
        identifier: other
        spec:
          execution:
            steps:
              - step:
                  type: JiraApproval
                  identifier: create
                  spec:
                    connectorRef: jira
                    issueKey: OPS-1
                    approvalCriteria:
                      type: Jexl
                      spec:
                        expression: <+issue.Status> == \"Done\"
                    retryIntrval: 1m
";

    fn doc() -> Doc {
        Doc::parse("pipeline.yaml", PIPELINE).unwrap()
    }

    #[test]
    fn finds_nested_steps_with_their_scopes() {
        let doc = doc();
        let found = find(&doc, "prod.create").unwrap();
        assert_eq!(found.kind, Kind::Create);
        assert_eq!(found.timeout, Duration::from_secs(300));
        assert_eq!(found.stage.as_ref().unwrap().name, "Prod");
        let pipeline = found.pipeline.as_ref().unwrap();
        assert_eq!(pipeline.identifier, "deploy_web");
        assert_eq!(pipeline.variables["version"].as_deref(), Some("1.4.2"));
        assert_eq!(pipeline.variables["asked"], None);
        assert!(
            found
                .ignored
                .iter()
                .any(|k| k.ends_with("failureStrategies"))
        );
        let spec = read_spec(&doc, &found).unwrap();
        assert_eq!(spec.project_key.unwrap().0, "OPS");
        assert_eq!(spec.fields.unwrap()[0].name.0, "Summary");
    }

    #[test]
    fn a_step_without_a_timeout_gets_harness_default_of_ten_hours() {
        let found = find(&doc(), "other.create").unwrap();
        assert_eq!(found.kind, Kind::Approval);
        assert_eq!(found.timeout, Duration::from_secs(10 * 3600));
    }

    #[test]
    fn a_missing_step_is_answered_with_the_steps_there_are_or_their_absence() {
        let err = find(&doc(), "zzzzzzzz").unwrap_err().to_string();
        assert!(err.contains("steps in the file: prod.build"), "{err}");
        let empty = Doc::parse("empty.yaml", "pipeline:\n  identifier: p\n").unwrap();
        let err = find(&empty, "approve").unwrap_err().to_string();
        assert!(err.contains("the file has no steps"), "{err}");
    }

    const STEP: &str = "type: JiraApproval\nname: Approve\nidentifier: approve\nspec: {}";

    fn indent(text: &str, by: usize) -> String {
        let pad = " ".repeat(by);
        text.lines().flat_map(|l| [pad.as_str(), l, "\n"]).collect()
    }

    #[test]
    fn templates_give_their_steps_the_pipeline_and_stage_they_declare() {
        let stage_template = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/harness/stage-template.yaml"
        ))
        .unwrap();
        let doc = Doc::parse("stage-template.yaml", &stage_template).unwrap();
        let stage = find(&doc, "comment").unwrap().stage.unwrap();
        assert_eq!(
            (stage.name.as_str(), stage.identifier.as_str()),
            ("Close change", "close_stage")
        );

        let pipeline_template = format!(
            "template:\n  name: Deploy\n  identifier: deploy_tpl\n  type: Pipeline\n  spec:\n    \
             variables:\n      - name: version\n        type: String\n        value: 2.0.0\n    \
             stages:\n      - stage:\n          name: Prod\n          identifier: prod\n          \
             spec:\n            execution:\n              steps:\n                - step:\n{}",
            indent(STEP, 20)
        );
        let doc = Doc::parse("pipeline-template.yaml", &pipeline_template).unwrap();
        let found = find(&doc, "approve").unwrap();
        assert_eq!(found.stage.unwrap().identifier, "prod");
        assert_eq!(
            found.pipeline.unwrap().variables["version"].as_deref(),
            Some("2.0.0")
        );
    }

    #[test]
    fn a_step_under_a_yaml_tag_is_found() {
        let text = format!(
            "pipeline:\n  identifier: p\n  stages: !custom\n    - stage:\n        identifier: s\n        \
             spec:\n          execution:\n            steps:\n              - step:\n{}",
            indent(STEP, 18)
        );
        let doc = Doc::parse("tagged.yaml", &text).unwrap();
        assert_eq!(
            find(&doc, "approve").unwrap().stage.unwrap().identifier,
            "s"
        );
    }

    #[test]
    fn only_a_map_opens_a_pipeline_stage_or_step() {
        // `pipeline:`, `stage:` and `step:` holding lists are plain keys: the step inside keeps
        // the pipeline and stage around it.
        let text = format!(
            "pipeline:\n  identifier: outer\n  variables:\n    - name: v\n      value: x\n  \
             stages:\n    - stage:\n        identifier: s\n        spec:\n          pipeline:\n            \
             - stage:\n                - step:\n                    - step:\n{}",
            indent(STEP, 24)
        );
        let doc = Doc::parse("lists.yaml", &text).unwrap();
        let found = find(&doc, "approve").unwrap();
        assert_eq!(found.stage.unwrap().identifier, "s");
        assert_eq!(found.pipeline.unwrap().variables["v"].as_deref(), Some("x"));
    }

    #[test]
    fn ambiguous_missing_and_unsupported_steps() {
        let doc = doc();
        let err = find(&doc, "create").unwrap_err();
        assert!(err.message.contains("2 steps"), "{err}");
        assert!(err.to_string().contains("STAGE.STEP"), "{err}");
        let err = find(&doc, "craete").unwrap_err();
        assert!(err.to_string().contains("did you mean `create`"), "{err}");
        let err = find(&doc, "build").unwrap_err();
        assert!(err.message.contains("`ShellScript`"), "{err}");
        assert_eq!((err.line, err.column), (21, 25));
    }

    #[test]
    fn misspelt_spec_keys_are_located_with_a_suggestion() {
        let doc = doc();
        let found = find(&doc, "other.create").unwrap();
        let err = read_spec(&doc, &found).unwrap_err();
        assert_eq!((err.line, err.column), (58, 21));
        assert!(
            err.to_string().contains("did you mean `retryInterval`"),
            "{err}"
        );
        assert_eq!(
            err.message,
            "unknown key `retryIntrval` in the JiraApproval step's spec"
        );
    }

    #[test]
    fn a_spec_of_the_wrong_shape_is_named_without_a_path() {
        let text = format!(
            "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: s\n        \
             spec:\n          execution:\n            steps:\n              - step:\n{}",
            indent(&STEP.replace("spec: {}", "spec: '[7]'"), 18)
        );
        let doc = Doc::parse("pipeline.yaml", &text).unwrap();
        let found = find(&doc, "approve").unwrap();
        let err = read_spec(&doc, &found).unwrap_err();
        assert_eq!(err.message, "invalid type: sequence, expected struct Spec");
    }

    #[test]
    fn a_wrong_value_inside_the_spec_is_named_by_its_path() {
        let text = PIPELINE.replace("issueKey: OPS-1", "issueKey: [OPS-1, OPS-2]");
        let doc = Doc::parse("pipeline.yaml", &text).unwrap();
        let found = find(&doc, "other.create").unwrap();
        let err = read_spec(&doc, &found).unwrap_err();
        assert_eq!(
            err.message,
            "`pipeline.stages[1].stage.spec.execution.steps[0].step.spec.issueKey`: \
             expected a single value, not a list or map"
        );
    }

    #[test]
    fn keys_of_another_step_type_are_refused() {
        let text = "step:\n  type: JiraCreate\n  identifier: c\n  spec:\n    connectorRef: j\n    projectKey: OPS\n    issueType: Task\n    retryInterval: 1m\n";
        let doc = Doc::parse("step.yaml", text).unwrap();
        let found = find(&doc, "c").unwrap();
        let err = read_spec(&doc, &found).unwrap_err();
        assert_eq!((err.line, err.column), (8, 5));
        assert!(
            err.message.contains("does not belong in a JiraCreate step"),
            "{err}"
        );
    }

    #[test]
    fn step_templates_are_found_by_the_template_identifier() {
        let text = "\
template:
  name: Ask for approval
  identifier: ask
  versionLabel: v1
  type: Step
  spec:
    type: JiraApproval
    timeout: 1d
    spec:
      connectorRef: jira
      issueKey: OPS-1
      approvalCriteria:
        type: KeyValues
        spec:
          matchAnyCondition: true
          conditions:
            - key: Status
              operator: equals
              value: Done
";
        let doc = Doc::parse("template.yaml", text).unwrap();
        let found = find(&doc, "ask").unwrap();
        assert_eq!(found.kind, Kind::Approval);
        assert_eq!(found.timeout, Duration::from_secs(86_400));
        let spec = read_spec(&doc, &found).unwrap();
        let criteria = spec.approval_criteria.unwrap();
        assert_eq!(criteria.kind.0, "KeyValues");
        assert_eq!(criteria.spec.conditions.unwrap()[0].operator.0, "equals");
    }
}
