//! Harness input (SPEC section 8): run a Harness `JiraCreate`, `JiraUpdate` or `JiraApproval` step
//! as Harness means it, from the pipeline, stage, template or step file it is written in.
//!
//! The pieces are pure and tested on their own: [`jexl`] parses the Jexl subset of approval
//! criteria, [`fields`] applies Harness's string conventions to field values, [`expr`] resolves
//! `<+...>` expressions and secret references, [`connector`] reads the Jira connector, and
//! [`locate`] finds a node in a YAML file by path (for `--at` and for the step) while keeping the
//! outer file's line and column in every message.

pub mod expr;
pub mod fields;
pub mod jexl;
pub mod locate;
