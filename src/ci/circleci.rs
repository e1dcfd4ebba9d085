//! CircleCI: `export JIRA_GATE_DECISION='approved'` lines appended to `$BASH_ENV`, which CircleCI
//! sources before each later `run` step of the job. Values are single-quoted for the shell, so
//! nothing in them is expanded or run. `$BASH_ENV` is shared by every step: appended to, never
//! truncated. CircleCI masks project and context variables itself.

use std::path::PathBuf;

use super::{Error, Sink, append, check_writable, shell_assignments};
use crate::outcome::Report;

/// The sink; `bash_env` is `$BASH_ENV` (always set by CircleCI; nothing is written without it).
pub(super) struct CircleCi {
    bash_env: Option<PathBuf>,
}

impl CircleCi {
    pub(super) fn new(bash_env: Option<PathBuf>) -> Self {
        CircleCi { bash_env }
    }
}

impl Sink for CircleCi {
    fn name(&self) -> &'static str {
        "circleci"
    }

    fn mask(&self, _secrets: &[&str]) {}

    fn section_start(&self, _id: &str, _title: &str) {}

    fn section_end(&self, _id: &str) {}

    fn finish(&self, report: &Report) -> Result<(), Error> {
        match &self.bash_env {
            // A line break first, in case the file does not end with one.
            Some(path) => append(
                "CircleCI BASH_ENV",
                path,
                &format!("\n{}", shell_assignments(report, "export ")),
            ),
            None => Ok(()),
        }
    }

    fn preflight(&self) -> Result<(), Error> {
        match &self.bash_env {
            Some(path) => check_writable("CircleCI BASH_ENV", path),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Decision;

    #[test]
    fn an_unwritable_bash_env_fails_the_preflight_and_none_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let err = CircleCi::new(Some(dir.path().join("no/such/bash_env")))
            .preflight()
            .unwrap_err();
        assert!(err.to_string().contains("CircleCI BASH_ENV"), "{err}");
        assert!(err.to_string().contains("no/such/bash_env"), "{err}");
        CircleCi::new(None).preflight().unwrap();
        CircleCi::new(None)
            .finish(&Report::new(Decision::Approved))
            .unwrap();
    }

    #[test]
    fn appends_export_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bash_env");
        std::fs::write(&path, "export EARLIER=1").unwrap();
        let sink = CircleCi::new(Some(path.clone()));
        sink.preflight().unwrap();
        let mut r = Report::new(Decision::Timeout);
        r.decided_by = Some("$(rm -rf /) 'quoted'".into());
        sink.finish(&r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("export EARLIER=1\nexport JIRA_GATE_DECISION='timeout'\n"),
            "{text}"
        );
        assert!(
            text.contains("export JIRA_GATE_DECIDED_BY='$(rm -rf /) '\\''quoted'\\'''\n"),
            "{text}"
        );
    }
}
