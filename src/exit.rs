//! The process exit codes: SPEC section 2's table as one enum. A [`crate::outcome::Report`] holds
//! its [`Exit`]; errors map to one by variant ([`crate::error::Error::exit`]); `main` turns it
//! into the `std::process::ExitCode` it returns.

use std::fmt;

use serde::{Serialize, Serializer};

/// How the process ends (SPEC section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: approved, or the ticket was written and there is no `approval` section (also: a command
    /// that succeeded).
    Success,
    /// 1: an unexpected failure (a bug, or outputs could not be written).
    Unexpected,
    /// 2: invalid usage or stanza.
    Invalid,
    /// 3: rejected.
    Rejected,
    /// 4: timed out while pending.
    Timeout,
    /// 5: Jira error: authentication, permission, not found, validation, or unreachable past the
    /// retry budget.
    Jira,
    /// 6: cancelled (SIGINT or SIGTERM).
    Cancelled,
    /// 7: approved, but blocked: the change window has closed, or a freeze lasts past the timeout
    /// (SPEC section 7).
    Blocked,
}

impl Exit {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Unexpected => 1,
            Exit::Invalid => 2,
            Exit::Rejected => 3,
            Exit::Timeout => 4,
            Exit::Jira => 5,
            Exit::Cancelled => 6,
            Exit::Blocked => 7,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// The result file and the CI outputs carry the number.
impl Serialize for Exit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn codes_follow_the_spec_table() {
        let all = [
            Exit::Success,
            Exit::Unexpected,
            Exit::Invalid,
            Exit::Rejected,
            Exit::Timeout,
            Exit::Jira,
            Exit::Cancelled,
            Exit::Blocked,
        ];
        let codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(serde_json::to_string(&Exit::Timeout).unwrap(), "4");
        assert_eq!(Exit::Jira.to_string(), "5");
    }
}
