//! Arbitrary bytes through the Harness input (issue 10): the Jexl parser, the `--at` path parser
//! and node extraction, and the whole Harness loader (finding the step, reading its spec strictly,
//! the connector, expressions and criteria). Any panic, hang or runaway allocation is a bug: bad
//! input must end as exit 2 with a message.
//!
//! The first byte picks the target, so one corpus covers all three: 0 the Jexl parser, 1 a path
//! then a NUL then the YAML it points into, anything else a Harness file whose step `s` is loaded
//! with a fixed connector.
#![no_main]

use jira_gate::harness::{self, jexl};
use jira_gate::locate;
use libfuzzer_sys::fuzz_target;

const CONNECTOR: &str = "connector:
  identifier: jira
  type: Jira
  spec:
    jiraUrl: https://example.atlassian.net
    auth: { type: UsernamePassword, spec: { username: ci, passwordRef: account.jira_token } }
";

fn env(name: &str) -> Option<String> {
    match name {
        "HARNESS_SECRET_JIRA_TOKEN" => Some("tok".into()),
        "HARNESS_VAR_version" => Some("1.$2".into()),
        "JIRA_GATE_SECRETS_DIR" => Some("/nonexistent".into()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match mode {
        0 => {
            if let Ok(expr) = jexl::parse(text) {
                // What prints must parse again, within the length limit (printing adds
                // parentheses and escapes, so a text near the limit may print past it).
                let printed = expr.to_string();
                if printed.len() <= jexl::MAX_LEN {
                    assert!(jexl::parse(&printed).is_ok(), "{expr}");
                }
            }
        }
        1 => {
            let (path, yaml) = text.split_once('\0').unwrap_or((text, ""));
            if let Ok(path) = locate::KeyPath::parse(path) {
                let _ = locate::extract(yaml, &path);
            }
        }
        _ => {
            for convert in [false, true] {
                let _ = harness::load(&harness::Request {
                    file: "fuzz.yaml",
                    text,
                    step: "s",
                    connector: Some(("connector.yaml", CONNECTOR)),
                    vars: [("env".to_owned(), "prod".to_owned())].into(),
                    env: &env,
                    issue_key: Some("OPS-1".into()),
                    convert,
                });
            }
        }
    }
});
