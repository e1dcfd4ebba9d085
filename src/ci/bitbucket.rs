//! Bitbucket Pipelines, as a pipe: the result goes to the pipe's shared storage,
//! `$BITBUCKET_PIPE_SHARED_STORAGE_DIR/jira-gate/`, as `result.env` (`JIRA_GATE_DECISION='approved'`
//! lines a later command reads with `source`) and `result.json` (the `--result-file` record).
//! Both files are the pipe's own, so a retried step replaces them. Outside a pipe the variable is
//! unset and nothing is written: use `--result-file` there.

use std::path::PathBuf;

use super::{Error, Sink, check_dir, replace, shell_assignments};
use crate::outcome::Report;

/// The sink; `storage` is `$BITBUCKET_PIPE_SHARED_STORAGE_DIR`.
pub(super) struct Bitbucket {
    storage: Option<PathBuf>,
}

impl Bitbucket {
    pub(super) fn new(storage: Option<PathBuf>) -> Self {
        Bitbucket { storage }
    }

    fn dir(&self) -> Option<PathBuf> {
        self.storage.as_ref().map(|s| s.join("jira-gate"))
    }
}

impl Sink for Bitbucket {
    fn name(&self) -> &'static str {
        "bitbucket"
    }

    /// Bitbucket masks secured repository and workspace variables itself.
    fn mask(&self, _secrets: &[&str]) {}

    fn section_start(&self, _id: &str, _title: &str) {}

    fn section_end(&self, _id: &str) {}

    fn finish(&self, report: &Report) -> Result<(), Error> {
        let Some(dir) = self.dir() else {
            return Ok(());
        };
        check_dir("Bitbucket pipe result", &dir, "result.env")?;
        replace(
            "Bitbucket pipe result",
            &dir.join("result.env"),
            &shell_assignments(report, ""),
        )?;
        let mut json = serde_json::to_string_pretty(report).unwrap_or_default();
        json.push('\n');
        replace("Bitbucket pipe result", &dir.join("result.json"), &json)
    }

    fn preflight(&self) -> Result<(), Error> {
        match self.dir() {
            Some(dir) => check_dir("Bitbucket pipe result", &dir, "result.env"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Decision;

    #[test]
    fn writes_env_and_json_into_the_pipe_storage() {
        let dir = tempfile::tempdir().unwrap();
        let sink = Bitbucket::new(Some(dir.path().to_owned()));
        sink.preflight().unwrap();
        let mut r = Report::new(Decision::Rejected);
        r.decided_by = Some("O'Brien".into());
        sink.finish(&r).unwrap();
        let env = std::fs::read_to_string(dir.path().join("jira-gate/result.env")).unwrap();
        assert!(env.starts_with("JIRA_GATE_DECISION='rejected'\n"), "{env}");
        assert!(
            env.contains("JIRA_GATE_DECIDED_BY='O'\\''Brien'\n"),
            "{env}"
        );
        assert!(env.ends_with("JIRA_GATE_EXIT_CODE='3'\n"), "{env}");
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("jira-gate/result.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(json["decision"], "rejected");
        // A retried step replaces its result.
        sink.finish(&Report::new(Decision::Approved)).unwrap();
        let env = std::fs::read_to_string(dir.path().join("jira-gate/result.env")).unwrap();
        assert_eq!(env.lines().count(), 12, "{env}");
    }

    #[test]
    fn without_storage_nothing_is_written() {
        let sink = Bitbucket::new(None);
        sink.preflight().unwrap();
        sink.finish(&Report::new(Decision::Approved)).unwrap();
    }

    #[test]
    fn an_unusable_storage_fails_the_preflight() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = Bitbucket::new(Some(file)).preflight().unwrap_err();
        assert!(err.to_string().contains("Bitbucket pipe result"), "{err}");
    }
}
