//! The process environment, read once, with GitHub Actions inputs folded in.
//!
//! A GitHub docker action receives its inputs as `INPUT_<NAME>` (upper-cased, hyphens kept:
//! `INPUT_STEP-FILE`). When `GITHUB_ACTIONS=true`, a variable the step reads that is unset falls
//! back to the matching input: `JIRA_GATE_STEP` ← `INPUT_STEP`, `JIRA_URL` ← `INPUT_JIRA-URL`, and
//! so on (see [`GITHUB_INPUTS`]). GitHub sets every declared input, empty when not given, so empty
//! inputs count as absent.

use std::collections::HashMap;

/// Variable the step reads → the action input that supplies it.
pub const GITHUB_INPUTS: &[(&str, &str)] = &[
    ("JIRA_GATE_STEP", "step"),
    ("JIRA_GATE_STEP_FILE", "step-file"),
    ("JIRA_GATE_ISSUE_KEY", "issue-key"),
    ("JIRA_GATE_TIMEOUT", "timeout"),
    ("JIRA_GATE_OUTCOME", "outcome"),
    ("JIRA_URL", "jira-url"),
    ("JIRA_USER", "jira-user"),
    ("JIRA_API_TOKEN", "jira-token"),
    ("JIRA_PAT", "jira-pat"),
];

/// Variables whose values are secrets wherever they come from; masked before anything is printed.
const SECRET_VARIABLES: &[&str] = &[
    "JIRA_API_TOKEN",
    "JIRA_PAT",
    "INPUT_JIRA-TOKEN",
    "INPUT_JIRA-PAT",
    "PLUGIN_JIRA_TOKEN",
    "PLUGIN_JIRA_PAT",
];

/// A snapshot of the environment.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

/// The names only: the values hold tokens (a `{:?}` in a log line must never print one).
impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Env").field("names", &names).finish()
    }
}

impl Env {
    /// The current process's variables (those that are valid UTF-8).
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment made of these pairs (tests, demo).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The same environment with these variables set (replacing existing ones).
    #[must_use]
    pub fn with_overrides(mut self, pairs: Vec<(String, String)>) -> Self {
        self.vars.extend(pairs);
        self
    }

    /// True inside GitHub Actions.
    pub fn is_github(&self) -> bool {
        self.vars.get("GITHUB_ACTIONS").is_some_and(|v| v == "true")
    }

    /// A variable, falling back to its GitHub input inside GitHub Actions.
    ///
    /// An empty variable also falls back (action.yml's `runs.env` sets the mapped variables to
    /// empty strings for inputs that were not given).
    pub fn get(&self, name: &str) -> Option<String> {
        self.get_from(name).map(|(value, _)| value)
    }

    /// Like [`Env::get`], with where the value came from, for messages: the variable's name, or
    /// ``input `timeout` `` when a GitHub action input or a Drone/Woodpecker setting filled it in.
    pub fn get_from(&self, name: &str) -> Option<(String, String)> {
        let value = self.vars.get(name);
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            return Some((value.clone(), name.to_owned()));
        }
        GITHUB_INPUTS
            .iter()
            .find(|(var, _)| *var == name)
            .and_then(|(_, input)| {
                self.github_input(input)
                    .or_else(|| self.plugin_setting(input))
                    .map(|v| (v, format!("input `{input}`")))
            })
            .or_else(|| value.map(|v| (v.clone(), name.to_owned())))
    }

    /// A non-empty Drone or Woodpecker plugin setting (`settings: { step_file: ... }` arrives as
    /// `PLUGIN_STEP_FILE`), only inside those systems (`DRONE=true` or `CI=woodpecker`). `name`
    /// is the input's name as in [`GITHUB_INPUTS`].
    pub fn plugin_setting(&self, name: &str) -> Option<String> {
        let is_plugin = self.vars.get("DRONE").is_some_and(|v| v == "true")
            || self.vars.get("CI").is_some_and(|v| v == "woodpecker");
        if !is_plugin {
            return None;
        }
        self.vars
            .get(&format!("PLUGIN_{}", name.to_uppercase().replace('-', "_")))
            .filter(|v| !v.is_empty())
            .cloned()
    }

    /// A non-empty GitHub input (`INPUT_<NAME>`), only inside GitHub Actions.
    pub fn github_input(&self, name: &str) -> Option<String> {
        if !self.is_github() {
            return None;
        }
        self.vars
            .get(&format!("INPUT_{}", name.to_uppercase()))
            .filter(|v| !v.is_empty())
            .cloned()
    }

    /// Values of the variables that hold secrets, for masking.
    pub fn secret_values(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in SECRET_VARIABLES {
            if let Some(value) = self.vars.get(*name).filter(|v| !v.trim().is_empty()) {
                if !out.contains(value) {
                    out.push(value.clone());
                }
            }
        }
        // Harness secret references read `HARNESS_SECRET_<NAME>` (issue 10): every one is a secret.
        for (name, value) in &self.vars {
            if name.starts_with("HARNESS_SECRET_")
                && !value.trim().is_empty()
                && !out.contains(value)
            {
                out.push(value.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Env;

    #[test]
    fn harness_secret_variables_are_secrets() {
        let env = Env::from_pairs([
            ("HARNESS_SECRET_JIRA_TOKEN", "t0ken"),
            ("HARNESS_SECRET_EMPTY", " "),
            ("HARNESS_VAR_version", "1.4.2"),
        ]);
        assert_eq!(env.secret_values(), vec!["t0ken".to_owned()]);
    }

    #[test]
    fn github_inputs_fill_unset_variables() {
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("INPUT_STEP-FILE", "steps/x.yml"),
            ("INPUT_JIRA-URL", "https://a.atlassian.net"),
            ("INPUT_ISSUE-KEY", ""),
            ("JIRA_USER", "set@example.com"),
            ("INPUT_JIRA-USER", "input@example.com"),
            ("INPUT_JIRA-TOKEN", "tok"),
            ("JIRA_PAT", ""),
            ("INPUT_JIRA-PAT", "pat"),
        ]);
        assert_eq!(
            env.get("JIRA_PAT").as_deref(),
            Some("pat"),
            "an empty variable falls back to its input"
        );
        assert_eq!(
            env.get("JIRA_GATE_STEP_FILE").as_deref(),
            Some("steps/x.yml")
        );
        assert_eq!(
            env.get("JIRA_URL").as_deref(),
            Some("https://a.atlassian.net")
        );
        assert_eq!(
            env.get("JIRA_USER").as_deref(),
            Some("set@example.com"),
            "a set variable wins"
        );
        assert_eq!(
            env.get("JIRA_GATE_ISSUE_KEY"),
            None,
            "empty inputs are absent"
        );
        assert_eq!(
            env.secret_values(),
            vec!["tok".to_owned(), "pat".to_owned()]
        );
    }

    #[test]
    fn plugin_settings_fill_unset_variables_in_woodpecker_and_drone() {
        for marker in [("CI", "woodpecker"), ("DRONE", "true")] {
            let env = Env::from_pairs([
                marker,
                ("PLUGIN_STEP_FILE", "gate.yml"),
                ("PLUGIN_JIRA_URL", "https://a.atlassian.net"),
                ("PLUGIN_JIRA_TOKEN", "tok"),
                ("JIRA_USER", "set@example.com"),
                ("PLUGIN_JIRA_USER", "setting@example.com"),
            ]);
            assert_eq!(env.get("JIRA_GATE_STEP_FILE").as_deref(), Some("gate.yml"));
            assert_eq!(
                env.get("JIRA_URL").as_deref(),
                Some("https://a.atlassian.net")
            );
            assert_eq!(env.get("JIRA_USER").as_deref(), Some("set@example.com"));
            assert_eq!(env.secret_values(), vec!["tok".to_owned()]);
        }
        let elsewhere = Env::from_pairs([("PLUGIN_STEP_FILE", "gate.yml")]);
        assert_eq!(elsewhere.get("JIRA_GATE_STEP_FILE"), None);
    }

    #[test]
    fn inputs_are_ignored_outside_github() {
        let env = Env::from_pairs([("INPUT_STEP-FILE", "x.yml")]);
        assert_eq!(env.get("JIRA_GATE_STEP_FILE"), None);
    }

    #[test]
    fn debug_prints_names_never_values() {
        let env = Env::from_pairs([("JIRA_API_TOKEN", "s3cr3t-value"), ("HOME", "/root")]);
        let shown = format!("{env:?}");
        assert!(
            shown.contains("JIRA_API_TOKEN") && shown.contains("HOME"),
            "{shown}"
        );
        assert!(
            !shown.contains("s3cr3t-value") && !shown.contains("/root"),
            "{shown}"
        );
    }
}
