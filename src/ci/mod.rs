//! CI systems: where outputs go and how logs are decorated (SPEC section 3).
//! (Placeholder until the ci branch lands.)

use crate::outcome::Report;

/// Output errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Path.
        path: String,
        /// OS error.
        source: std::io::Error,
    },
}

/// A CI system's outputs.
pub trait Sink {
    /// Name.
    fn name(&self) -> &'static str;
    /// Mask secrets.
    fn mask(&self, secrets: &[&str]);
    /// Open a section.
    fn section_start(&self, id: &str, title: &str);
    /// Close a section.
    fn section_end(&self, id: &str);
    /// Write outputs.
    fn finish(&self, report: &Report) -> Result<(), Error>;
}

struct Generic;

impl Sink for Generic {
    fn name(&self) -> &'static str {
        "generic"
    }
    fn mask(&self, _: &[&str]) {}
    fn section_start(&self, _: &str, _: &str) {}
    fn section_end(&self, _: &str) {}
    fn finish(&self, _: &Report) -> Result<(), Error> {
        Ok(())
    }
}

/// Detects the CI system.
pub fn detect(_env: &dyn Fn(&str) -> Option<String>) -> Box<dyn Sink> {
    Box::new(Generic)
}
