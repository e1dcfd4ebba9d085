//! Tekton and Argo Workflows: one file per output in a directory, named in kebab-case
//! (`decision`, `issue-key`, ...), holding the bare value without a line break. Tekton reads
//! `/tekton/results/NAME` (or the directory given by `--tekton-results`) as the Task's result
//! `NAME`; Argo reads `/tmp/jira-gate/outputs/NAME` through
//! `outputs.parameters[].valueFrom.path`. Each file is ours alone, so a retried step replaces it.

use std::path::PathBuf;

use super::{Error, Sink, check_dir, check_writable, fields, replace};
use crate::outcome::Report;

/// Where Argo's output parameters are read from, unless `JIRA_GATE_ARGO_OUTPUTS` says otherwise.
pub(super) const ARGO_OUTPUTS: &str = "/tmp/jira-gate/outputs";

/// The sink: a directory of one-value files.
pub(super) struct ResultFiles {
    name: &'static str,
    what: &'static str,
    dir: PathBuf,
    /// Argo's directory is ours to create; Tekton's is mounted by Tekton, and a missing one means
    /// a wrong `--tekton-results` (creating `/tekton/results` on a host would hide that).
    create: bool,
}

impl ResultFiles {
    pub(super) fn tekton(dir: PathBuf) -> Self {
        ResultFiles {
            name: "tekton",
            what: "Tekton result",
            dir,
            create: false,
        }
    }

    pub(super) fn argo(dir: PathBuf) -> Self {
        ResultFiles {
            name: "argo",
            what: "Argo output parameter",
            dir,
            create: true,
        }
    }
}

impl Sink for ResultFiles {
    fn name(&self) -> &'static str {
        self.name
    }

    /// Both take secrets from Kubernetes Secrets; neither has a masking command.
    fn mask(&self, _secrets: &[&str]) {}

    fn section_start(&self, _id: &str, _title: &str) {}

    fn section_end(&self, _id: &str) {}

    fn finish(&self, report: &Report) -> Result<(), Error> {
        if self.create {
            check_dir(self.what, &self.dir, "decision")?;
        }
        for (name, value) in fields(report) {
            replace(self.what, &self.dir.join(name.replace('_', "-")), &value)?;
        }
        Ok(())
    }

    fn preflight(&self) -> Result<(), Error> {
        if self.create {
            check_dir(self.what, &self.dir, "decision")
        } else {
            check_writable(self.what, &self.dir.join("decision"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Decision;

    #[test]
    fn one_file_per_output_without_a_line_break() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("results");
        let sink = ResultFiles::argo(out.clone());
        sink.preflight().unwrap();
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "the probe is removed"
        );
        let mut r = Report::new(Decision::Approved);
        r.issue_key = Some("OPS-9".into());
        r.decided_by = Some("Jane Doe\n".into());
        sink.finish(&r).unwrap();
        let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
        assert_eq!(read("decision"), "approved");
        assert_eq!(read("issue-key"), "OPS-9");
        assert_eq!(read("decided-by"), "Jane Doe");
        assert_eq!(read("status"), "");
        assert_eq!(read("exit-code"), "0");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 12);
        sink.finish(&Report::new(Decision::Rejected)).unwrap();
        assert_eq!(read("decision"), "rejected", "replaced, not appended");
    }

    #[test]
    fn a_missing_tekton_directory_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results");
        let err = ResultFiles::tekton(results.clone())
            .preflight()
            .unwrap_err();
        assert!(err.to_string().contains("results/decision"), "{err}");
        assert!(!results.exists());
        std::fs::create_dir(&results).unwrap();
        let sink = ResultFiles::tekton(results.clone());
        sink.preflight().unwrap();
        sink.finish(&Report::new(Decision::Approved)).unwrap();
        assert_eq!(
            std::fs::read_to_string(results.join("decision")).unwrap(),
            "approved"
        );
    }

    #[test]
    fn an_unusable_directory_fails_the_preflight_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "").unwrap();
        let err = ResultFiles::tekton(file.join("results"))
            .preflight()
            .unwrap_err();
        assert!(err.to_string().contains("Tekton result"), "{err}");
        assert!(err.to_string().contains("plain-file"), "{err}");
    }
}
