//! The `jira-gate` binary.
fn main() {}
