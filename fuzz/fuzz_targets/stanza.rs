//! Arbitrary bytes through everything a stanza goes through before any network: decoding (size,
//! NUL, UTF-8), interpolation, YAML parsing with serde_yaml, and validation. Any panic, hang or
//! runaway allocation is a bug: bad input must end as exit 2 with a message.
#![no_main]

use jira_gate::stanza::interpolate::interpolate;
use jira_gate::stanza::{self, Overrides};
use libfuzzer_sys::fuzz_target;

fn lookup(name: &str) -> Option<String> {
    match name {
        "JIRA_URL" => Some("https://example.atlassian.net".into()),
        "JIRA_USER" => Some("ci@example.com".into()),
        "JIRA_API_TOKEN" => Some("tok".into()),
        "QUOTE" => Some("a\"b\\c\nd ${NOT_AGAIN} $$".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = stanza::decode("fuzz.yml", data) else {
        return;
    };
    let _ = interpolate(&text, &lookup);
    if let Ok(raw) = stanza::from_str(&text, "fuzz.yml", &lookup) {
        let _ = raw.validate("fuzz.yml", &Overrides::default());
    }
});
