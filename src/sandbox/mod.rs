//! The built-in Jira sandbox.
