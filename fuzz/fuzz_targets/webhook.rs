//! Arbitrary bytes as a webhook body and an `X-Hub-Signature` header: the body parser and both
//! verifiers must answer (an event, a refusal), never panic. A right signature must verify.
#![no_main]

use jira_gate::wake::{parse_event, verify_signature, verify_token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first line is the header, the rest the body.
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&data[..0], data),
    };
    let header = String::from_utf8_lossy(header);
    if let Some(event) = parse_event(body) {
        let _ = event.names("OPS-1", "10001");
    }
    let _ = verify_signature(b"fuzz-secret", body, Some(&header));
    let _ = verify_token("fuzz-token", Some(&header));
});
