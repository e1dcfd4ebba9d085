//! `stanza::Error`: why a step definition was refused, always with the file and, for parse errors,
//! the line and column.

/// Why a stanza was refused. Every variant names the file; parse errors also the line and column.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
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
    #[error("{file}: `{key}`: {message}{}", hint_suffix(.hint.as_deref()))]
    Invalid {
        /// The file name.
        file: String,
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

fn hint_suffix(hint: Option<&str>) -> String {
    hint.map(|h| format!("\n  hint: {h}")).unwrap_or_default()
}
