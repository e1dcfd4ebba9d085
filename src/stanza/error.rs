//! `stanza::Error`: why a step definition was refused, always with the file and, for parse errors,
//! the line and column.

/// Why a stanza was refused. Every variant names the file; parse errors also the line and column.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}: {source}{}", hint_suffix(read_hint(source)))]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The text is not acceptable YAML for a stanza (syntax, unknown key, wrong type, unset variable).
    #[error("{file}:{line}:{column}: {message}{}", hint_suffix(.hint.as_deref()))]
    Parse {
        /// The file name as given (`-` shows as `<stdin>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, including the key path.
        message: String,
        /// A suggestion, such as the key that was probably meant.
        hint: Option<String>,
    },
    /// The stanza parsed but breaks a rule of the contract.
    #[error("{file}{}: `{key}`: {message}{}", at_suffix(*.at), hint_suffix(.hint.as_deref()))]
    Invalid {
        /// The file name.
        file: String,
        /// The line and column of the key's value in the file, when it could be found
        /// ([`Error::located`]); `u32`s keep the error small (a stanza is at most 256 KiB).
        at: Option<(u32, u32)>,
        /// The key path, e.g. `approval.interval`.
        key: String,
        /// What is wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// No stanza was given anywhere.
    #[error(
        "no step definition: pass a FILE, set JIRA_GATE_STEP_FILE or JIRA_GATE_STEP, or create jira-gate.yml"
    )]
    Missing,
}

impl Error {
    /// The error with the line and column of its key's value in `text`, the stanza's text, when
    /// the key path leads to a node there (a rule broken by a flag or a variable has none).
    #[must_use]
    pub fn located(self, text: &str) -> Self {
        match self {
            Error::Invalid {
                file,
                at: None,
                key,
                message,
                hint,
            } => Error::Invalid {
                at: super::load::position_of(text, &key).and_then(|(line, column)| {
                    Some((u32::try_from(line).ok()?, u32::try_from(column).ok()?))
                }),
                file,
                key,
                message,
                hint,
            },
            other => other,
        }
    }
}

/// What to do about a stanza file that cannot be read.
fn read_hint(source: &std::io::Error) -> Option<&'static str> {
    match source.kind() {
        std::io::ErrorKind::NotFound => Some(
            "check the path (a relative one starts at the working directory), or set JIRA_GATE_STEP_FILE, or put jira-gate.yml in the working directory",
        ),
        std::io::ErrorKind::IsADirectory => {
            Some("pass the stanza file inside it, e.g. DIR/jira-gate.yml")
        }
        std::io::ErrorKind::PermissionDenied => Some(
            "the step's user must be able to read it (in a container, check the mounted file's owner and mode)",
        ),
        _ => None,
    }
}

fn at_suffix(at: Option<(u32, u32)>) -> String {
    at.map(|(line, column)| format!(":{line}:{column}"))
        .unwrap_or_default()
}

fn hint_suffix(hint: Option<&str>) -> String {
    hint.map(|h| format!("\n  hint: {h}")).unwrap_or_default()
}
