//! Fault injection: scripted rules (`POST /_sandbox/faults`) and seeded random faults
//! (`--fault-rate`, `--faults`).
//!
//! Random faults come from one `StdRng` seeded with `--seed`, drawn once per REST request in
//! arrival order, so the same seed and the same request sequence give the same faults. Scripted
//! rules come first: the first rule that matches and has `times` left applies, then `times` drops by
//! one.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// A kind of random fault (`--faults`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    /// HTTP 500 Internal Server Error.
    #[value(name = "500")]
    Status500,
    /// HTTP 502 Bad Gateway (HTML body, as a proxy sends it).
    #[value(name = "502")]
    Status502,
    /// HTTP 503 Service Unavailable with `Retry-After`.
    #[value(name = "503")]
    Status503,
    /// HTTP 504 Gateway Timeout (HTML body).
    #[value(name = "504")]
    Status504,
    /// HTTP 429 Too Many Requests with `Retry-After` and `X-RateLimit-Reset`.
    #[value(name = "429")]
    Status429,
    /// A delay of 0.2 to 2 s before a normal answer.
    Delay,
    /// The connection closes without an answer; the request is not performed.
    Drop,
    /// The request is performed, the answer is cut short.
    Truncate,
}

impl FaultKind {
    /// All kinds, the default of `--faults`.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
        FaultKind::Status504,
        FaultKind::Status429,
        FaultKind::Delay,
        FaultKind::Drop,
        FaultKind::Truncate,
    ];
}

/// What a scripted rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RuleKind {
    /// Answer with `status` (default 503) without performing the request.
    Status,
    /// Sleep `delay_ms`, then perform the request and answer normally.
    Delay,
    /// Close the connection without performing the request.
    Drop,
    /// Perform the request, send a cut body.
    Truncate,
    /// Perform the request, then close the connection without answering.
    StoreThenDrop,
    /// Answer `status` (default 502) with an HTML page instead of JSON.
    NonJson,
    /// Perform the request, then answer only after `delay_ms` (a write stored but answered too
    /// late for the client).
    Late,
    /// Answer 200 with a JSON-looking body that streams on for a gibibyte (a response-size cap
    /// test); the request is not performed.
    Huge,
}

/// A scripted fault rule, as posted to `/_sandbox/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rule {
    /// HTTP method to match (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Path prefix to match (any when absent).
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// What to do.
    pub kind: RuleKind,
    /// Status for `status` and `non_json`.
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` value to send.
    #[serde(default)]
    pub retry_after: Option<String>,
    /// Extra headers to send.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Delay for `delay` and `late`.
    #[serde(default)]
    pub delay_ms: u64,
    /// How many requests it applies to.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// The fault chosen for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer this status with these headers; do not perform the request.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        html: bool,
    },
    /// Sleep, then perform normally.
    Delay(Duration),
    /// Close without performing.
    Drop,
    /// Perform, then send a cut body.
    Truncate,
    /// Perform, then close without answering.
    StoreThenDrop,
    /// Perform, then wait before answering.
    Late(Duration),
    /// Answer 200 with an endless-looking body; do not perform.
    Huge,
}

impl Fault {
    /// Short name for the request log.
    pub fn name(&self) -> String {
        match self {
            Fault::Status {
                status, html: true, ..
            } => format!("non_json {status}"),
            Fault::Status { status, .. } => status.to_string(),
            Fault::Delay(d) => format!("delay {}ms", d.as_millis()),
            Fault::Drop => "drop".to_owned(),
            Fault::Truncate => "truncate".to_owned(),
            Fault::StoreThenDrop => "store_then_drop".to_owned(),
            Fault::Late(d) => format!("late {}ms", d.as_millis()),
            Fault::Huge => "huge".to_owned(),
        }
    }
}

/// The fault injector of one sandbox.
#[derive(Debug)]
pub(crate) struct Faults {
    rules: Vec<Rule>,
    rng: StdRng,
    rate: f64,
    kinds: Vec<FaultKind>,
}

impl Faults {
    /// A fault injector with random faults at `rate` drawn from `kinds`.
    pub fn new(seed: u64, rate: f64, kinds: &[FaultKind]) -> Self {
        Self {
            rules: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            rate,
            kinds: kinds.to_vec(),
        }
    }

    /// Adds scripted rules after the existing ones.
    pub fn add(&mut self, rules: Vec<Rule>) {
        self.rules.extend(rules);
    }

    /// Removes all scripted rules.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Decides the fault for one REST request, if any; `now` is the clock `X-RateLimit-Reset`
    /// counts from. The clock is a parameter so that a seed alone fixes the plan (issue 13: a
    /// test comparing two plans failed when the wall clock's millisecond ticked between them).
    pub fn decide(&mut self, method: &str, path: &str, now: SystemTime) -> Option<Fault> {
        if let Some(rule) = self.rules.iter_mut().find(|r| {
            r.times > 0
                && r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
        }) {
            rule.times -= 1;
            return Some(rule_fault(rule, now));
        }
        if self.rate <= 0.0 || self.kinds.is_empty() {
            return None;
        }
        // Always draw the same number of values per request, so that one request's fault never
        // shifts the sequence of the next ones.
        let roll: f64 = self.rng.r#gen();
        let pick = self.rng.gen_range(0..self.kinds.len());
        let delay_ms = self.rng.gen_range(200..=2000);
        if roll >= self.rate {
            return None;
        }
        Some(match self.kinds[pick] {
            FaultKind::Status500 => status_fault(500, None, now),
            FaultKind::Status502 => Fault::Status {
                status: 502,
                headers: Vec::new(),
                html: true,
            },
            FaultKind::Status503 => status_fault(503, Some("1"), now),
            FaultKind::Status504 => Fault::Status {
                status: 504,
                headers: Vec::new(),
                html: true,
            },
            FaultKind::Status429 => status_fault(429, Some("1"), now),
            FaultKind::Delay => Fault::Delay(Duration::from_millis(delay_ms)),
            FaultKind::Drop => Fault::Drop,
            FaultKind::Truncate => Fault::Truncate,
        })
    }
}

fn status_fault(status: u16, retry_after: Option<&str>, now: SystemTime) -> Fault {
    let mut headers = Vec::new();
    if let Some(r) = retry_after {
        headers.push(("Retry-After".to_owned(), r.to_owned()));
    }
    if status == 429 {
        headers.push(("X-RateLimit-Reset".to_owned(), reset_time(retry_after, now)));
    }
    Fault::Status {
        status,
        headers,
        html: false,
    }
}

/// `X-RateLimit-Reset`: an ISO-8601 timestamp, as Cloud sends it.
fn reset_time(retry_after: Option<&str>, now: SystemTime) -> String {
    let secs = retry_after.and_then(|r| r.parse().ok()).unwrap_or(1);
    let t = now + Duration::from_secs(secs);
    humantime::format_rfc3339_millis(t).to_string()
}

fn rule_fault(rule: &Rule, now: SystemTime) -> Fault {
    let extra: Vec<(String, String)> = rule
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match rule.kind {
        RuleKind::Status | RuleKind::NonJson => {
            let html = rule.kind == RuleKind::NonJson;
            let status = rule.status.unwrap_or(if html { 502 } else { 503 });
            let mut fault = status_fault(status, None, now);
            if let Fault::Status {
                headers, html: h, ..
            } = &mut fault
            {
                *h = html;
                if let Some(r) = &rule.retry_after {
                    headers.retain(|(k, _)| k != "X-RateLimit-Reset");
                    headers.push(("Retry-After".to_owned(), r.clone()));
                    if status == 429 {
                        headers.push(("X-RateLimit-Reset".to_owned(), reset_time(Some(r), now)));
                    }
                }
                // A rule's header replaces a default one of the same name; an empty value
                // removes it (e.g. a 429 without `X-RateLimit-Reset`).
                for (name, value) in extra {
                    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
                    if !value.is_empty() {
                        headers.push((name, value));
                    }
                }
            }
            fault
        }
        RuleKind::Delay => Fault::Delay(Duration::from_millis(rule.delay_ms)),
        RuleKind::Drop => Fault::Drop,
        RuleKind::Truncate => Fault::Truncate,
        RuleKind::StoreThenDrop => Fault::StoreThenDrop,
        RuleKind::Late => Fault::Late(Duration::from_millis(rule.delay_ms)),
        RuleKind::Huge => Fault::Huge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed instant: 2026-01-15T00:00:00Z.
    fn clock() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_768_435_200)
    }

    fn sequence(seed: u64) -> Vec<Option<Fault>> {
        let mut f = Faults::new(seed, 0.5, &FaultKind::ALL);
        (0..50)
            .map(|_| f.decide("GET", "/rest/api/2/myself", clock()))
            .collect()
    }

    #[test]
    fn same_seed_same_faults() {
        let a = sequence(7);
        // The wall clock moves on between the two plans; the plans must not notice (issue 13).
        std::thread::sleep(Duration::from_millis(3));
        assert_eq!(a, sequence(7));
        assert_ne!(a, sequence(8));
        let n = a.iter().filter(|f| f.is_some()).count();
        assert!((10..=40).contains(&n), "{n} faults of 50 at rate 0.5");
    }

    #[test]
    fn rate_limit_reset_counts_from_the_given_clock() {
        let mut f = Faults::new(1, 1.0, &[FaultKind::Status429]);
        let Some(Fault::Status { headers, .. }) = f.decide("GET", "/", clock()) else {
            panic!("a 429 at rate 1.0");
        };
        assert!(
            headers.contains(&(
                "X-RateLimit-Reset".to_owned(),
                "2026-01-15T00:00:01.000Z".to_owned()
            )),
            "{headers:?}"
        );
    }

    #[test]
    fn rules_match_in_order_and_run_out() {
        let mut f = Faults::new(1, 0.0, &FaultKind::ALL);
        let rules: Vec<Rule> = serde_json::from_str(
            r#"[{"method":"POST","path_prefix":"/rest/api/3/issue","kind":"status","status":429,"retry_after":"2","times":2},
                {"kind":"drop"}]"#,
        )
        .unwrap();
        f.add(rules);
        let first = f.decide("POST", "/rest/api/3/issue", clock()).unwrap();
        match &first {
            Fault::Status {
                status: 429,
                headers,
                ..
            } => {
                assert!(headers.contains(&("Retry-After".to_owned(), "2".to_owned())));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            f.decide("GET", "/rest/api/3/issue/OPS-1", clock()),
            Some(Fault::Drop)
        );
        assert!(matches!(
            f.decide("POST", "/rest/api/3/issue", clock()),
            Some(Fault::Status { status: 429, .. })
        ));
        assert_eq!(f.decide("POST", "/rest/api/3/issue", clock()), None);
    }
}
