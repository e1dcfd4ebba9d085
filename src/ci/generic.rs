//! Any other runner (Tekton, Argo, Jenkins, Buildkite, a Kubernetes Job, a terminal): nothing
//! CI-specific is printed or written. Such runners read the exit code and the `--result-file`
//! JSON, which the core writes for every system.

use super::{Error, Sink};
use crate::outcome::Report;

/// The sink that does nothing.
pub(super) struct Generic;

impl Sink for Generic {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn mask(&self, _secrets: &[&str]) {}

    fn section_start(&self, _id: &str, _title: &str) {}

    fn section_end(&self, _id: &str) {}

    fn finish(&self, _report: &Report) -> Result<(), Error> {
        Ok(())
    }
}
