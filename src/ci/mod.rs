//! CI systems: where outputs go and how logs are decorated (SPEC section 3).
//!
//! [`detect()`] looks at the environment once and returns the sink for GitHub Actions, GitLab CI or
//! a generic runner. One implementation per system, one file each (the pattern of hyperfine's
//! `export/`), so the run loop never asks which CI it is in: it masks the secrets, opens and closes
//! log sections and hands the final [`Report`] over, and each sink renders that in its own format.

mod generic;
mod github;
mod gitlab;

use std::path::PathBuf;

use crate::outcome::Report;

/// A CI system's view of one run: masking, log sections and the final outputs.
///
/// Object-safe and `Send + Sync`, so a `Box<dyn Sink>` can live across `.await` points.
pub trait Sink: Send + Sync {
    /// `"github"`, `"gitlab"` or `"generic"`.
    fn name(&self) -> &'static str;

    /// Called once, before anything else is printed. GitHub prints `::add-mask::` for each
    /// non-empty secret, each line of a multi-line secret separately; the others do nothing.
    fn mask(&self, secrets: &[&str]);

    /// Opens a collapsible log section around verbose output.
    fn section_start(&self, id: &str, title: &str);

    /// Closes the section opened with the same `id`.
    fn section_end(&self, id: &str);

    /// At the end: annotations and outputs for this report.
    fn finish(&self, report: &Report) -> Result<(), Error>;
}

/// Why the CI outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A CI file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`, the dotenv file) could not be read or
    /// appended to.
    #[error("cannot write the {what} file {}", path.display())]
    File {
        /// Which file, in words ("GitHub output", "GitLab dotenv", ...).
        what: &'static str,
        /// The path as the environment gave it.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A value that GitLab's dotenv parser would reject or change; nothing was written.
    #[error(
        "refusing to write {key} to the GitLab dotenv file {}: {reason}",
        path.display()
    )]
    Dotenv {
        /// The dotenv file.
        path: PathBuf,
        /// The variable (or the file, for limits on the whole file).
        key: String,
        /// What GitLab would do with it, and what to do instead.
        reason: String,
    },
}

/// Looks at the environment once (through `env`, so tests need no process environment) and
/// returns the sink for the CI system the step runs in.
///
/// `GITHUB_ACTIONS=true` selects GitHub Actions (outputs to `$GITHUB_OUTPUT`, summary to
/// `$GITHUB_STEP_SUMMARY`, either skipped when unset), `GITLAB_CI=true` selects GitLab CI (dotenv
/// at `$JIRA_GATE_DOTENV`, default `jira-gate.env`); anything else is a generic runner.
pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Box<dyn Sink> {
    let is_true = |name: &str| env(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let path = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if is_true("GITHUB_ACTIONS") {
        Box::new(github::GitHub::new(
            path("GITHUB_OUTPUT"),
            path("GITHUB_STEP_SUMMARY"),
        ))
    } else if is_true("GITLAB_CI") {
        Box::new(gitlab::GitLab::new(
            path("JIRA_GATE_DOTENV").unwrap_or_else(|| PathBuf::from(gitlab::DEFAULT_DOTENV)),
        ))
    } else {
        Box::new(generic::Generic)
    }
}

/// The output fields of SPEC section 3 in their canonical order, `snake_case` names, missing
/// values as empty strings. Each sink renames them to its own convention.
fn fields(report: &Report) -> [(&'static str, String); 12] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        ("decision", report.decision.as_str().to_owned()),
        ("issue_key", opt(&report.issue_key)),
        ("issue_url", opt(&report.issue_url)),
        ("created", report.created.to_string()),
        ("status", opt(&report.status)),
        ("status_category", opt(&report.status_category)),
        ("resolution", opt(&report.resolution)),
        ("decided_by", opt(&report.decided_by)),
        ("decided_at", opt(&report.decided_at)),
        ("waited_seconds", report.waited_seconds.to_string()),
        ("polls", report.polls.to_string()),
        ("exit_code", report.exit_code.to_string()),
    ]
}

/// Appends `text` to the file at `path`, creating it if needed; never truncates. One write call,
/// so a reader never sees half of our block followed by someone else's.
fn append(what: &'static str, path: &std::path::Path, text: &str) -> Result<(), Error> {
    use std::io::Write as _;
    let file_error = |source| Error::File {
        what,
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(file_error)?;
    file.write_all(text.as_bytes()).map_err(file_error)?;
    file.flush().map_err(file_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Decision;
    use std::collections::HashMap;

    fn sink_for(vars: &[(&str, &str)]) -> &'static str {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        detect(&|name: &str| map.get(name).cloned()).name()
    }

    #[test]
    fn detection() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "generic"),
            (&[("CI", "true")], "generic"),
            (&[("GITHUB_ACTIONS", "true")], "github"),
            (&[("GITHUB_ACTIONS", "false")], "generic"),
            (&[("GITHUB_ACTIONS", "")], "generic"),
            (&[("GITLAB_CI", "true")], "gitlab"),
            (&[("GITLAB_CI", "TRUE")], "gitlab"),
            (
                &[("GITHUB_ACTIONS", "true"), ("GITLAB_CI", "true")],
                "github",
            ),
        ];
        for (vars, want) in cases {
            assert_eq!(sink_for(vars), *want, "{vars:?}");
        }
    }

    #[test]
    fn fields_fill_missing_values_with_empty_strings() {
        let report = Report::new(Decision::Timeout);
        let f = fields(&report);
        assert_eq!(f[0], ("decision", "timeout".to_owned()));
        assert_eq!(f[1], ("issue_key", String::new()));
        assert_eq!(f[3], ("created", "false".to_owned()));
        assert_eq!(f[11], ("exit_code", "4".to_owned()));
    }

    #[test]
    fn append_never_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, "before=1\n").unwrap();
        append("test", &path, "after=2\n").unwrap();
        append("test", &path, "again=3\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "before=1\nafter=2\nagain=3\n"
        );
    }

    #[test]
    fn append_error_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("out");
        let err = append("GitHub output", &path, "x=1\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("GitHub output"), "{text}");
        assert!(text.contains("missing-dir"), "{text}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
