//! `jira-gate schema`: print the stanza's JSON Schema (the one `schemas/` stores).

use crate::exit::Exit;
use crate::stanza;

/// Prints the schema on stdout.
pub fn run() -> Exit {
    print!("{}", stanza::json_schema());
    Exit::Success
}
