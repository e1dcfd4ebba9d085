//! The YAML step definition (SPEC section 1): strict parsing, interpolation and validation.
//!
//! Parsing has two stages, as ripgrep's Low/HiArgs do. [`RawStanza`] mirrors what the user writes,
//! with `deny_unknown_fields` everywhere so a misspelt key is an error with its line, column, key
//! path and a "did you mean" hint. Values are interpolated from the environment while they are
//! deserialized, so an unset variable is reported at its own line. [`RawStanza::validate`] then
//! builds the [`Stanza`] the rest of the program uses, in which every rule of the contract
//! (create needs project, type and summary; `interval <= max_interval <= timeout`; https unless
//! loopback) already holds.
//!
//! serde_yaml is deprecated upstream; it is called from [`from_str`] only, so it can be swapped in
//! one place.
//!
//! The rooms: [`raw`] (what the user writes), [`scalars`] and [`interpolate`] (values and
//! `${NAME}`), [`load`] (bytes to [`RawStanza`]), [`validate`] (rules, criteria trees),
//! [`model`] (the validated [`Stanza`]) and [`error`].
//!
//! Which source wins (flag > variable > stanza > default) is written down once, in `crate::input`;
//! [`Overrides`] carries the flags and variables here.

pub mod actions;
pub mod error;
pub mod interpolate;
pub mod load;
pub mod model;
pub mod raw;
pub mod scalars;
pub mod validate;

pub use error::Error;
pub use load::{MAX_STANZA_BYTES, decode, from_str, json_schema};
pub use model::{
    Action, Actions, Approval, Bound, ChangeWindow, DEFAULT_INTERVAL, DEFAULT_MAX_INTERVAL,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_TIMEOUT, Finish, Overrides, Stanza, Target, Ticket,
    TransitionBy, WRITE_ONLY_BUDGET, Wake, WakeCheck,
};
pub use raw::{AuthType, RawApproval, RawAuth, RawCriterion, RawJira, RawStanza, RawTicket};
pub use scalars::{Names, Span, Text};
pub use validate::looks_like_issue_key;

#[cfg(test)]
mod tests;
