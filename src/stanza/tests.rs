//! Parsing and validation, end to end from YAML text.

use std::time::Duration;

use super::load::did_you_mean;
use super::validate::validate_url;
use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "JIRA_URL" => Some("https://example.atlassian.net/".into()),
        "JIRA_USER" => Some("ci@example.com".into()),
        "JIRA_API_TOKEN" => Some("tok-123".into()),
        _ => None,
    }
}

const GOOD: &str = "\
jira:
  url: ${JIRA_URL}
  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }
ticket:
  project: OPS
  type: Change
  summary: Deploy
approval:
  approve_when: { status: [Approved, Done] }
  reject_when: { status: Rejected }
  interval: 10s
  max_interval: 1m
  timeout: 2h
";

fn parse(text: &str) -> Result<Stanza, Error> {
    from_str(text, "step.yml", &env)?.validate("step.yml", &Overrides::default())
}

#[test]
fn a_good_stanza_validates() {
    let stanza = parse(GOOD).unwrap();
    assert_eq!(stanza.jira.url, "https://example.atlassian.net");
    let approval = stanza.approval.unwrap();
    assert_eq!(approval.interval, Duration::from_secs(10));
    assert_eq!(approval.timeout, Duration::from_secs(7200));
    assert!(stanza.warnings.is_empty());
    assert!(format!("{:?}", stanza.jira.auth).contains("***"));
    assert!(!format!("{:?}", stanza.jira.auth).contains("tok-123"));
}

#[test]
fn unknown_keys_are_located_with_a_hint() {
    let text = GOOD.replace("  summary: Deploy", "  sumary: Deploy");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.starts_with("step.yml:7:3: `ticket.sumary`: unknown field `sumary`\n"),
        "{err}"
    );
    assert!(err.contains("did you mean `summary`?"), "{err}");
}

#[test]
fn unset_variables_are_named_at_their_line() {
    let text = GOOD.replace("summary: Deploy", "summary: Deploy ${CI_COMMIT_SHA}");
    let err = parse(&text).unwrap_err().to_string();
    assert!(err.starts_with("step.yml:7:"), "{err}");
    assert!(err.contains("`CI_COMMIT_SHA` is not set"), "{err}");
}

#[test]
fn create_needs_project_type_and_summary() {
    let text = GOOD.replace("  type: Change\n", "");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("`ticket.type`: is required to create"),
        "{err}"
    );
}

#[test]
fn project_must_look_like_a_key() {
    for bad in [
        "OPS\\\" OR project = \\\"X",
        "'OPS\\nX'",
        "'-OPS'",
        "'OPS/1'",
    ] {
        let text = GOOD.replace("project: OPS", &format!("project: {bad}"));
        assert!(text.contains(bad), "fixture changed");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("`ticket.project`"), "{bad}: {err}");
    }
    for good in ["OPS", "ops_2", "10000"] {
        let text = GOOD.replace("project: OPS", &format!("project: {good}"));
        assert!(parse(&text).is_ok(), "{good}");
    }
}

#[test]
fn intervals_must_be_ordered() {
    let err = parse(&GOOD.replace("interval: 10s", "interval: 2m"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`approval.interval`: 2m is longer than max_interval 1m"),
        "{err}"
    );
    let err = parse(&GOOD.replace("timeout: 2h", "timeout: 30s"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`approval.max_interval`: 1m is longer than timeout 30s"),
        "{err}"
    );
    let err = parse(&GOOD.replace("timeout: 2h", "timeout: soon"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid duration \"soon\""), "{err}");
}

#[test]
fn plain_http_only_to_loopback() {
    for (url, ok) in [
        ("https://jira.example.com", true),
        ("http://127.0.0.1:8080", true),
        ("http://localhost:8080/jira", true),
        ("http://[::1]:8080", true),
        ("http://jira.example.com", false),
        ("ftp://jira.example.com", false),
        ("https://user:pw@jira.example.com", false),
    ] {
        assert_eq!(validate_url(url).is_ok(), ok, "{url}");
    }
}

#[test]
fn set_but_empty_variables_warn() {
    let lookup = |name: &str| match name {
        "EMPTY" => Some(String::new()),
        other => env(other),
    };
    let text = GOOD.replace(
        "summary: Deploy",
        "summary: Deploy ${EMPTY} $${EMPTY} ${EMPTY:-x}",
    );
    let stanza = from_str(&text, "s.yml", &lookup)
        .unwrap()
        .validate("s.yml", &Overrides::default())
        .unwrap();
    assert_eq!(stanza.warnings.len(), 1, "{:?}", stanza.warnings);
    assert!(stanza.warnings[0].contains("`EMPTY` is set but empty"));
    assert_eq!(stanza.ticket.summary(), Some("Deploy  ${EMPTY} x"));
}

#[test]
fn literal_token_warns() {
    let text = GOOD.replace("token: '${JIRA_API_TOKEN}'", "token: abc");
    let stanza = parse(&text).unwrap();
    assert_eq!(stanza.warnings.len(), 1);
    assert!(!stanza.warnings[0].contains("abc"));
}

#[test]
fn did_you_mean_picks_the_closest_key() {
    let m =
        "unknown field `aprove_when`, expected one of `approve_when`, `reject_when`, `interval`";
    assert_eq!(did_you_mean(m).unwrap(), "did you mean `approve_when`?");
    let m = "unknown field `zzzzzz`, expected `a` or `b`";
    assert!(did_you_mean(m).unwrap().starts_with("valid keys here"));
}

#[test]
fn nul_and_bad_utf8_are_located() {
    let err = decode("f.yml", b"jira:\n  url: \0")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("f.yml:2:8: the file contains a NUL byte"),
        "{err}"
    );
    let err = decode("f.yml", b"a: \xff").unwrap_err().to_string();
    assert!(
        err.starts_with("f.yml:1:4: the file is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn alias_bombs_are_refused() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("a{}", i - 1)
        };
        text.push_str(&format!(
            "a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let started = std::time::Instant::now();
    assert!(from_str(&text, "bomb.yml", &env).is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn override_timeout_shrinks_intervals() {
    let overrides = Overrides {
        timeout: Some(Duration::from_secs(5)),
        issue_key: Some("OPS-7".into()),
    };
    let stanza = from_str(GOOD, "s", &env)
        .unwrap()
        .validate("s", &overrides)
        .unwrap();
    let approval = stanza.approval.unwrap();
    assert_eq!(approval.interval, Duration::from_secs(5));
    assert_eq!(stanza.ticket.key(), Some("OPS-7"));
}

#[test]
fn connect_budget_defaults_to_two_minutes_and_stays_within_the_timeout() {
    assert_eq!(
        parse(GOOD).unwrap().jira.connect_budget,
        Duration::from_secs(120)
    );
    let with = |budget: &str, timeout: &str| {
        GOOD.replace(
            "  auth: {",
            &format!("  connect_budget: {budget}\n  auth: {{"),
        )
        .replace("timeout: 2h", &format!("timeout: {timeout}"))
        .replace("max_interval: 1m", "max_interval: 10s")
    };
    let stanza = parse(&with("30s", "2h")).unwrap();
    assert_eq!(stanza.jira.connect_budget, Duration::from_secs(30));
    let short = parse(&with("2m", "1m"));
    assert!(
        short
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("`jira.connect_budget`: 2m is longer than the timeout 1m"),
        "{short:?}"
    );
    assert!(parse(&with("0s", "2h")).is_err());
    assert!(parse(&with("soon", "2h")).is_err());
    let shrunk = from_str(&with("30m", "2h"), "step.yml", &env)
        .unwrap()
        .validate(
            "step.yml",
            &Overrides {
                timeout: Some(Duration::from_secs(60)),
                ..Overrides::default()
            },
        )
        .unwrap();
    assert_eq!(shrunk.jira.connect_budget, Duration::from_secs(60));
}

#[test]
fn unquoted_references_in_flow_maps_say_to_quote_them() {
    // Issue 8 #6.
    let text = GOOD.replace("username: '${JIRA_USER}'", "username: ${JIRA_USER}");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.starts_with("step.yml:3:34: `${JIRA_USER}` inside a flow map"),
        "{err}"
    );
    assert!(
        err.ends_with("hint: write it quoted: '${JIRA_USER}'"),
        "{err}"
    );
    let text = GOOD.replace(
        "approve_when: { status: [Approved, Done] }",
        "approve_when: { status: [${A:-Approved}] }",
    );
    let err = parse(&text).unwrap_err().to_string();
    assert!(err.contains("write it quoted: '${A:-Approved}'"), "{err}");
    // Quoted ones, and those outside flow collections, are fine.
    assert!(parse(GOOD).is_ok());
}

#[test]
fn defaults_never_cause_an_error() {
    // Issue 8 #7: (interval, max_interval, timeout) as written → as used.
    let secs = Duration::from_secs;
    for (written, want) in [
        ("  timeout: 30s\n", (secs(30), secs(30), secs(30))),
        ("  timeout: 2m\n", (secs(30), secs(120), secs(120))),
        ("  max_interval: 10s\n", (secs(10), secs(10), secs(3600))),
        ("  interval: 10m\n", (secs(600), secs(600), secs(3600))),
        ("  interval: 2h\n", (secs(3600), secs(3600), secs(3600))),
        ("", (secs(30), secs(300), secs(3600))),
    ] {
        let text = format!(
            "{}approval:\n  approve_when: {{ status: Approved }}\n{written}",
            GOOD.split("approval:").next().unwrap()
        );
        let approval = parse(&text)
            .unwrap_or_else(|e| panic!("{written}: {e}"))
            .approval
            .unwrap();
        assert_eq!(
            (approval.interval, approval.max_interval, approval.timeout),
            want,
            "{written}"
        );
    }
    // Values written side by side still have to agree.
    let text = GOOD
        .replace("  max_interval: 1m\n", "")
        .replace("timeout: 2h", "timeout: 5s");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("`approval.interval`: 10s is longer than timeout 5s"),
        "{err}"
    );
}

#[test]
fn summary_length_is_counted_as_jira_counts_it() {
    // Issue 8 #16: Jira's 255 are UTF-16 units.
    let with = |summary: &str| GOOD.replace("summary: Deploy", &format!("summary: \"{summary}\""));
    assert!(parse(&with(&"é".repeat(255))).is_ok());
    assert!(parse(&with(&"🚀".repeat(127))).is_ok());
    let err = parse(&with(&"🚀".repeat(128))).unwrap_err().to_string();
    assert!(err.contains("it has 256 UTF-16 units"), "{err}");
}

/// The error `GOOD` with `old` replaced by `new` gives, or `None` when it validates.
fn error_with(old: &str, new: &str) -> Option<String> {
    let text = GOOD.replace(old, new);
    assert_ne!(text, GOOD, "fixture changed: {old:?} is not in it");
    parse(&text).err().map(|e| e.to_string())
}

#[test]
fn request_timeout_is_between_one_second_and_ten_minutes() {
    let set = |value: &str| error_with("  auth:", &format!("  request_timeout: {value}\n  auth:"));
    for good in ["1s", "30s", "10m"] {
        assert_eq!(set(good), None, "{good}");
    }
    for bad in ["0s", "10m 1s", "1h"] {
        let err = set(bad).unwrap_or_else(|| panic!("{bad} was accepted"));
        assert!(err.contains("`jira.request_timeout`"), "{bad}: {err}");
    }
}

#[test]
fn a_ca_file_without_a_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, contents) in [("empty.pem", ""), ("text.pem", "not a certificate\n")] {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        let err = error_with(
            "  auth:",
            &format!("  ca_file: '{}'\n  auth:", path.display()),
        )
        .unwrap_or_else(|| panic!("{name} was accepted"));
        assert!(err.contains("holds no PEM certificate"), "{name}: {err}");
    }
}

#[test]
fn issue_keys_are_checked() {
    let key = |key: &str| {
        error_with(
            "  project: OPS\n",
            &format!("  key: '{key}'\n  project: OPS\n"),
        )
    };
    for good in ["OPS-1", "Ops_2-15", " OPS-7 ", "12345"] {
        assert_eq!(key(good), None, "{good}");
    }
    for bad in [
        "OPS", "OPS-", "-1", "1OPS-2", "_OPS-2", "OP$-1", "O P-1", "OPS-1a", "OPS-x",
    ] {
        let err = key(bad).unwrap_or_else(|| panic!("{bad:?} was accepted"));
        assert!(err.contains("is not an issue key"), "{bad}: {err}");
    }
}

#[test]
fn a_blank_issue_key_override_keeps_the_stanza_key() {
    let text = GOOD.replace("  project: OPS\n", "  key: OPS-1\n  project: OPS\n");
    let overrides = Overrides {
        issue_key: Some("  ".into()),
        ..Overrides::default()
    };
    let stanza = from_str(&text, "s", &env)
        .unwrap()
        .validate("s", &overrides)
        .unwrap();
    assert_eq!(stanza.ticket.key(), Some("OPS-1"));
}

#[test]
fn labels_are_one_word_each() {
    let labels = |list: &str| {
        error_with(
            "  summary: Deploy\n",
            &format!("  summary: Deploy\n  labels: {list}\n"),
        )
    };
    assert_eq!(labels("[deploy, prod-eu]"), None);
    for bad in ["['']", "['deploy now']", "[ok, 'a\tb']"] {
        let err = labels(bad).unwrap_or_else(|| panic!("{bad} was accepted"));
        assert!(err.contains("`ticket.labels["), "{bad}: {err}");
    }
}

#[test]
fn the_summary_is_one_line_of_at_most_255_characters() {
    let summary = |text: &str| error_with("  summary: Deploy\n", &format!("  summary: '{text}'\n"));
    assert_eq!(summary(&"é".repeat(255)), None);
    for bad in ["x".repeat(256), "first\n\n  second".to_owned()] {
        let err = summary(&bad).unwrap_or_else(|| panic!("{bad:?} was accepted"));
        assert!(err.contains("`ticket.summary`"), "{bad:?}: {err}");
    }
}

#[test]
fn credentials_query_and_fragment_are_not_part_of_the_url() {
    for url in [
        "https://user@jira.example.com",
        "https://:pw@jira.example.com",
        "https://jira.example.com/?a=b",
        "https://jira.example.com/#top",
    ] {
        assert!(validate_url(url).is_err(), "{url}");
    }
}

#[test]
fn interval_bounds_are_inclusive() {
    let approval = |timing: &str| {
        error_with(
            "  interval: 10s\n  max_interval: 1m\n  timeout: 2h\n",
            &format!("{timing}\n"),
        )
    };
    for good in [
        "  interval: 1s\n  max_interval: 1s\n  timeout: 1s",
        "  interval: 1m\n  max_interval: 1m\n  timeout: 1m",
        "  interval: 1s",
    ] {
        assert_eq!(approval(good), None, "{good}");
    }
    for (bad, key) in [
        (
            "  interval: 999ms",
            "`approval.interval`: 999ms is too short",
        ),
        ("  timeout: 0s", "`approval.timeout`"),
    ] {
        let err = approval(bad).unwrap_or_else(|| panic!("{bad} was accepted"));
        assert!(err.contains(key), "{bad}: {err}");
    }
}

#[test]
fn wake_takes_an_address_and_one_secret() {
    let with = |wake: &str| parse(&format!("{GOOD}  wake: {wake}\n"));
    let approval = with("{ listen: '127.0.0.1:8080', secret: '${JIRA_API_TOKEN}' }")
        .unwrap()
        .approval
        .unwrap();
    let wake = approval.wake.unwrap();
    assert_eq!(wake.listen.to_string(), "127.0.0.1:8080");
    assert!(
        parse(&format!(
            "{GOOD}  wake: {{ listen: '127.0.0.1:8080', secret: '${{JIRA_API_TOKEN}}' }}\n"
        ))
        .unwrap()
        .warnings
        .is_empty()
    );
    assert_eq!(wake.path, "/jira-gate", "the default path");
    assert!(matches!(&wake.check, WakeCheck::Signature(s) if s.expose() == "tok-123"));
    assert!(
        !format!("{wake:?}").contains("tok-123"),
        "the secret is masked"
    );
    let token = with("{ listen: '[::]:9000', path: /hooks/gate, token: t }").unwrap();
    assert!(
        token.warnings[0].contains("`approval.wake.token` is written literally"),
        "{:?}",
        token.warnings
    );
    let wake = token.approval.unwrap().wake.unwrap();
    assert_eq!(wake.path, "/hooks/gate");
    assert!(matches!(&wake.check, WakeCheck::Token(_)));

    for (wake, key, says) in [
        (
            "{ listen: 'localhost:80', secret: s }",
            "approval.wake.listen",
            "not a socket address",
        ),
        (
            "{ listen: '0.0.0.0:8080', secret: s, token: t }",
            "approval.wake",
            "both",
        ),
        ("{ listen: '0.0.0.0:8080' }", "approval.wake", "neither"),
        (
            "{ listen: '0.0.0.0:8080', secret: '' }",
            "approval.wake.secret",
            "is empty",
        ),
        (
            "{ listen: '0.0.0.0:8080', path: hooks, token: t }",
            "approval.wake.path",
            "not a URL path",
        ),
        (
            "{ listen: '0.0.0.0:8080', token: t, secrets: s }",
            "approval.wake.secrets",
            "unknown field",
        ),
    ] {
        let err = with(wake).unwrap_err().to_string();
        assert!(
            err.contains(&format!("`{key}`")) && err.contains(says),
            "{wake}: {err}"
        );
        assert!(!err.contains("tok-123"), "{err}");
    }
}

#[test]
fn a_request_type_brings_its_own_issue_type() {
    let text = GOOD.replace(
        "  summary: Deploy",
        "  summary: Deploy\n  request_type: Request a change",
    );
    let err = parse(&text).unwrap_err().to_string();
    assert!(err.contains("`ticket.type`"), "{err}");
    assert!(
        err.contains("`type` and `request_type` are both given"),
        "{err}"
    );
    let text = text.replace("  type: Change\n", "");
    assert!(parse(&text).is_ok());
}

#[test]
fn the_schema_printed_is_the_one_stored_in_schemas() {
    let stored = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/jira-gate.schema.json"
    ))
    .unwrap();
    assert_eq!(
        json_schema(),
        stored,
        "schemas/jira-gate.schema.json is stale: run `cargo run -- schema > schemas/jira-gate.schema.json`"
    );
}

#[test]
fn a_step_definition_of_256_kib_is_read_and_one_byte_more_is_refused() {
    let mut bytes = b"# ".to_vec();
    bytes.resize(256 * 1024, b'x');
    assert!(decode("big.yml", &bytes).is_ok());
    bytes.push(b'x');
    let err = decode("big.yml", &bytes).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "big.yml:1:1: the file is 262145 bytes; a step definition may be at most 262144\n"
        ),
        "{err}"
    );
}

#[test]
fn without_an_approval_section_the_step_has_five_minutes_to_reach_jira() {
    let write_only = GOOD.split("approval:").next().unwrap();
    let stanza = parse(write_only).unwrap();
    assert!(stanza.approval.is_none());
    assert_eq!(stanza.budget, Duration::from_secs(5 * 60));
    let given = from_str(write_only, "s", &env)
        .unwrap()
        .validate(
            "s",
            &Overrides {
                timeout: Some(Duration::from_secs(20)),
                ..Overrides::default()
            },
        )
        .unwrap();
    assert_eq!(given.budget, Duration::from_secs(20), "--timeout wins");
}

#[test]
fn did_you_mean_allows_a_third_of_a_long_key_wrong() {
    // `intervalxxx` is 11 characters, 3 edits from `interval`: a third of 11, rounded down.
    let m = "unknown field `intervalxxx`, expected `interval` or `timeout`";
    assert_eq!(did_you_mean(m).unwrap(), "did you mean `interval`?");
    let m = "unknown field `intervxxxxx`, expected `interval` or `timeout`";
    assert_eq!(
        did_you_mean(m).unwrap(),
        "valid keys here: interval, timeout"
    );
}

#[test]
fn an_empty_variable_with_a_default_does_not_warn() {
    let lookup = |name: &str| match name {
        "EMPTY" => Some(String::new()),
        other => env(other),
    };
    let text = GOOD.replace("summary: Deploy", "summary: Deploy ${EMPTY:-now}");
    let stanza = from_str(&text, "s.yml", &lookup)
        .unwrap()
        .validate("s.yml", &Overrides::default())
        .unwrap();
    assert!(stanza.warnings.is_empty(), "{:?}", stanza.warnings);
    assert_eq!(stanza.ticket.summary(), Some("Deploy now"));
}

#[test]
fn a_missing_top_level_key_is_named_without_a_key_path() {
    let err = parse(&GOOD.replace(
        "ticket:\n  project: OPS\n  type: Change\n  summary: Deploy\n",
        "",
    ))
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "step.yml:1:1: missing field `ticket`\n  hint: add `ticket:` to this map; the files in steps/ show a whole stanza"
    );
}

#[test]
fn a_new_ticket_names_its_project_type_and_summary_and_an_update_what_is_written() {
    let names = |text: &str| {
        let ticket = parse(text).unwrap().ticket;
        [
            ticket.key(),
            ticket.project(),
            ticket.issue_type(),
            ticket.summary(),
        ]
        .map(|name| name.map(str::to_owned))
    };
    let owned = |names: [Option<&str>; 4]| names.map(|name| name.map(str::to_owned));
    assert_eq!(
        names(GOOD),
        owned([None, Some("OPS"), Some("Change"), Some("Deploy")])
    );
    let by_key = GOOD.replace(
        "  project: OPS\n  type: Change\n  summary: Deploy\n",
        "  key: OPS-1\n",
    );
    assert_eq!(names(&by_key), owned([Some("OPS-1"), None, None, None]));
    let by_key_with_all = GOOD.replace("  project: OPS\n", "  key: OPS-1\n  project: OPS\n");
    assert_eq!(
        names(&by_key_with_all),
        owned([Some("OPS-1"), Some("OPS"), Some("Change"), Some("Deploy")])
    );
}

#[test]
fn a_value_of_the_wrong_kind_says_what_belongs_there() {
    for (old, new, says) in [
        (
            "summary: Deploy",
            "summary: [Deploy]",
            "`ticket.summary`: invalid type: sequence, expected a string",
        ),
        (
            "status: Rejected",
            "status: {a: b}",
            "`approval.reject_when.status`: invalid type: map, expected a name or a list of names",
        ),
        (
            "status: Rejected",
            "approval: 5",
            "`approval.reject_when.approval`: invalid type: integer `5`, expected `approved`, `declined`, `pending`, or a map with `decision` and `name`",
        ),
        (
            "summary: Deploy",
            "summary: Deploy\n  fields: {Risk: !low x}",
            "`ticket.fields.Risk`: invalid type: enum, expected a value",
        ),
    ] {
        let err = error_with(old, new).unwrap_or_else(|| panic!("{new} was accepted"));
        assert!(err.ends_with(says), "{new}: {err}");
    }
}

#[test]
fn the_wait_is_described_with_its_window_and_freezes() {
    let approval = |extra: &str| parse(&format!("{GOOD}{extra}")).unwrap().approval.unwrap();
    let clause = |extra: &str| approval(extra).window_clause();
    let freeze = "    - { from: \"2026-12-20\", to: \"2027-01-04\" }\n";
    assert_eq!(clause(""), "");
    assert_eq!(
        clause(&format!("  freeze:\n{freeze}")),
        "; goes only outside 1 freeze"
    );
    assert_eq!(
        clause(&format!("  freeze:\n{freeze}{freeze}")),
        "; goes only outside 2 freezes"
    );
    assert_eq!(
        clause("  window: { start_field: Planned start, end_field: Planned end }\n"),
        "; goes only inside the change window (from \"Planned start\" to \"Planned end\")"
    );
    assert_eq!(
        clause("  window: { end_field: Planned end }\n"),
        "; goes only inside the change window (until \"Planned end\")"
    );
    assert_eq!(
        clause(&format!(
            "  window: {{ start: \"2026-12-05 02:00\" }}\n  freeze:\n{freeze}"
        )),
        "; goes only inside the change window (from 2026-12-05 02:00:00 UTC) and outside 1 freeze"
    );
}

#[test]
fn the_fields_a_window_reads_are_looked_up_with_the_criteria_fields() {
    let approval = |window: &str| {
        parse(&format!("{GOOD}  window: {window}\n"))
            .unwrap()
            .approval
            .unwrap()
    };
    assert_eq!(
        approval("{ start_field: Planned start, end_field: Planned end }").field_names(),
        ["Planned start", "Planned end"]
    );
    assert_eq!(
        approval("{ start: \"2026-12-05 02:00\", end_field: Planned end }").field_names(),
        ["Planned end"]
    );
    assert!(
        approval("{ start: \"2026-12-05 02:00\" }")
            .field_names()
            .is_empty()
    );
}

#[test]
fn a_syntax_error_before_an_unquoted_reference_on_its_line_is_reported_as_it_is() {
    let err = error_with("username: '${JIRA_USER}'", "username: 'a' 'b', token: ${T}").unwrap();
    assert_eq!(
        err,
        "step.yml:3:38: `jira.auth.?`: did not find expected ',' or '}'"
    );
}

#[test]
fn a_field_name_with_a_space_is_named_once_in_an_error() {
    let err = error_with(
        "summary: Deploy",
        "summary: Deploy\n  fields: {Change risk: !low x}",
    )
    .unwrap();
    assert_eq!(
        err,
        "step.yml:8:25: `ticket.fields.Change risk`: invalid type: enum, expected a value"
    );
}

/// The first line of the error `text` gets, validated and located as `jira-gate` does.
fn located_error(text: &str) -> String {
    let err = match from_str(text, "step.yml", &env) {
        Ok(raw) => raw
            .validate("step.yml", &Overrides::default())
            .map(|_| ())
            .map_err(|e| e.located(text)),
        Err(e) => Err(e),
    }
    .unwrap_err()
    .to_string();
    err.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn a_broken_rule_is_located_at_its_value() {
    assert_eq!(
        located_error(&GOOD.replace("interval: 10s", "interval: 10m")),
        "step.yml:11:13: `approval.interval`: 10m is longer than max_interval 1m"
    );
    // A rule broken by a flag or a variable has no place in the file: the key only.
    let err = from_str(GOOD, "step.yml", &env)
        .unwrap()
        .validate(
            "step.yml",
            &Overrides {
                issue_key: Some("not a key".into()),
                ..Overrides::default()
            },
        )
        .unwrap_err()
        .located(GOOD)
        .to_string();
    assert!(err.starts_with("step.yml: `"), "{err}");
}

#[test]
fn a_value_refused_by_its_parser_is_located_at_the_value() {
    assert_eq!(
        located_error(&GOOD.replace("timeout: 2h", "timeout: 2 hourz")),
        "step.yml:13:12: `approval.timeout`: invalid duration \"2 hourz\": unknown time unit \"hourz\", supported units: ns, us/µs, ms, sec, min, hours, days, weeks, months, years (and few variations) (hint: write durations like `90s`, `5m`, `1h 30m`)"
    );
}

#[test]
fn an_unknown_key_keeps_the_key_position_not_its_value() {
    assert!(
        located_error(&GOOD.replace("  summary: Deploy", "  sumary: Deploy"))
            .starts_with("step.yml:7:3: "),
    );
}

#[test]
fn a_duplicate_key_is_located_at_its_second_occurrence() {
    let twice = GOOD.replace(
        "  summary: Deploy\n",
        "  summary: Deploy\n  # again, below a comment\n\n  type: Task\n",
    );
    assert_eq!(
        located_error(&twice),
        "step.yml:10:3: `ticket`: duplicate field `type`"
    );
    // At the top: the second `ticket:` map.
    let top = format!("{GOOD}ticket:\n  key: OPS-1\n");
    assert_eq!(
        located_error(&top),
        "step.yml:14:1: duplicate field `ticket`"
    );
    // A key nested deeper with the same name is not a duplicate of the map's own.
    assert_eq!(
        super::load::second_key("a:\n  b:\n    c: 1\n  c: 2\n  c: 3\n", "a", "c"),
        Some((5, 3))
    );
    // The map ends where the indentation goes back: a later `c` elsewhere is not counted.
    assert_eq!(
        super::load::second_key("a:\n  c: 1\nb:\n  c: 2\n", "a", "c"),
        None
    );
    // The duplicated key is the map's first one.
    assert_eq!(
        super::load::second_key("a:\n  c: 1\n  c: 2\n", "a", "c"),
        Some((3, 3))
    );
    // A map in a list starts on the item's line, right of the dash.
    assert_eq!(
        super::load::second_key("list:\n  - c: 1\n    d: 2\n    c: 3\n", "list[0]", "c"),
        Some((4, 5))
    );
    // At the top, after comments and blank lines.
    assert_eq!(
        super::load::second_key("# top\n\nc: 1\nd: 2\nc: 3\n", ".", "c"),
        Some((5, 1))
    );
    // A longer key that starts with the name is another key.
    assert_eq!(
        super::load::second_key("a:\n  c: 1\n  cc: 2\n", "a", "c"),
        None
    );
}

#[test]
fn a_tab_in_the_indentation_is_named_with_a_hint() {
    let text = GOOD.replace("  timeout: 2h", "\ttimeout: 2h");
    let err = from_str(&text, "step.yml", &env).unwrap_err().to_string();
    assert_eq!(
        err,
        "step.yml:13:1: a tab in the indentation: YAML indents with spaces only\n  hint: replace the tab with spaces (two per level, as in the examples in steps/)"
    );
    // Spaces, then a tab, before a key.
    let tab = "found character that cannot start any token";
    let named = |text: &str, line, column, message: &str| {
        super::load::tab_indentation(text, "step.yml", line, column, message)
            .map(|e| e.to_string().lines().next().unwrap_or_default().to_owned())
    };
    assert_eq!(
        named("a:\n  \tb: 1\n", 2, 3, tab).as_deref(),
        Some("step.yml:2:3: a tab in the indentation: YAML indents with spaces only")
    );
    // Not a tab where the parser stopped, a tab after text, or another error: YAML's message.
    assert_eq!(named("a:\n  b: 1\n", 2, 3, tab), None);
    assert_eq!(named("a: 1\tb\n", 1, 5, tab), None);
    assert_eq!(
        named("a:\n\tb: 1\n", 2, 1, "did not find expected key"),
        None
    );
    assert!(
        named(
            "a:\n\tb: 1\n",
            2,
            1,
            "found a tab character that violates indentation"
        )
        .is_some()
    );
    // A tab inside a value is not indentation: YAML's own message stays.
    let quoted = GOOD.replace("summary: Deploy", "summary: \"Deploy\tweb\"");
    assert!(from_str(&quoted, "step.yml", &env).is_ok());
}

#[test]
fn empty_lists_and_a_zero_timeout_are_refused_with_a_hint() {
    for (from, to, key, hint) in [
        (
            "timeout: 2h",
            "timeout: 0s",
            "`approval.timeout`: must be more than 0s",
            "e.g. `timeout: 4h`",
        ),
        (
            "approve_when: { status: [Approved, Done] }",
            "approve_when: { all: [] }",
            "`approval.approve_when.all`: the list is empty",
            "list the criteria it combines",
        ),
        (
            "approve_when: { status: [Approved, Done] }",
            "approve_when: { status: [] }",
            "`approval.approve_when.status`: lists no status",
            "e.g. `status: Approved`",
        ),
        (
            "approve_when: { status: [Approved, Done] }",
            "approve_when: { status_category: [] }",
            "`approval.approve_when.status_category`: lists no category",
            "one of new, indeterminate, done",
        ),
        (
            "approve_when: { status: [Approved, Done] }",
            "approve_when: { field: Risk, in: [] }",
            "`approval.approve_when.in`: the list is empty",
            "list the values",
        ),
        (
            "approve_when: { status: [Approved, Done] }",
            "approve_when: { field: Risk, not_in: [] }",
            "`approval.approve_when.not_in`: the list is empty",
            "list the values",
        ),
    ] {
        let text = GOOD.replace(from, to);
        assert_ne!(text, GOOD, "{from}");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
        assert!(err.contains(hint), "{err}");
        assert!(err.contains("\n  hint: "), "{err}");
    }
}

#[test]
fn a_missing_key_and_an_unreadable_file_say_what_to_do() {
    let text = GOOD.replace(
        "  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n",
        "",
    );
    let err = parse(&text).unwrap_err().to_string();
    assert_eq!(
        err,
        "step.yml:2:3: `jira`: missing field `auth`\n  hint: add `auth:` to this map; the files in steps/ show a whole stanza"
    );
    let read = |kind: std::io::ErrorKind| {
        Error::Read {
            path: "s.yml".into(),
            source: std::io::Error::from(kind),
        }
        .to_string()
    };
    for (kind, hint) in [
        (std::io::ErrorKind::NotFound, "check the path"),
        (
            std::io::ErrorKind::IsADirectory,
            "pass the stanza file inside it",
        ),
        (
            std::io::ErrorKind::PermissionDenied,
            "must be able to read it",
        ),
    ] {
        let said = read(kind);
        assert!(said.starts_with("cannot read s.yml: "), "{said}");
        assert!(said.contains("\n  hint: ") && said.contains(hint), "{said}");
    }
    assert!(!read(std::io::ErrorKind::Interrupted).contains("hint"));
}
