//! Runners with no output channel of their own (a Kubernetes Job, a terminal, Drone and
//! Woodpecker, whose plugins have no step outputs): nothing CI-specific is printed or written.
//! They read the exit code and the `--result-file` JSON, which the core writes for every system.
//! Drone and Woodpecker pass the step's settings as `PLUGIN_*` variables, read by `crate::env`.

use super::{Error, Sink};
use crate::outcome::Report;

/// The sink that does nothing, under the name of the system it stands for.
pub(super) struct Generic {
    name: &'static str,
}

impl Generic {
    pub(super) fn named(name: &'static str) -> Self {
        Generic { name }
    }
}

impl Sink for Generic {
    fn name(&self) -> &'static str {
        self.name
    }

    fn mask(&self, _secrets: &[&str]) {}

    fn section_start(&self, _id: &str, _title: &str) {}

    fn section_end(&self, _id: &str) {}

    fn finish(&self, _report: &Report) -> Result<(), Error> {
        Ok(())
    }
}

/// `JIRA_GATE_CI` named no known system: the step must not start (its outputs would go nowhere
/// the user expects), so the preflight fails, and so does `finish` for a caller that skipped it.
pub(super) struct Unknown {
    pub(super) value: String,
}

impl Unknown {
    fn error(&self) -> Error {
        Error::UnknownSystem {
            value: self.value.clone(),
        }
    }
}

impl Sink for Unknown {
    fn name(&self) -> &'static str {
        "unknown"
    }

    fn mask(&self, _secrets: &[&str]) {}

    fn section_start(&self, _id: &str, _title: &str) {}

    fn section_end(&self, _id: &str) {}

    fn finish(&self, _report: &Report) -> Result<(), Error> {
        Err(self.error())
    }

    fn preflight(&self) -> Result<(), Error> {
        Err(self.error())
    }
}
