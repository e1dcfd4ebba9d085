//! End to end: change windows and freezes (issue 9, SPEC section 7) through the binary against a
//! sandbox process. An approved ticket waits for its window, exits 0 once it opens, or 7
//! (`blocked`) at once when the window closed or opens after the timeout; a rejection still wins
//! while it waits.
#![cfg(feature = "sandbox")]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::SandboxProc;
use common::run::{Run, Workdir};
use jiff::{SignedDuration, Timestamp, tz::TimeZone};

fn jira_block(sandbox: &SandboxProc) -> &'static str {
    if sandbox.datacenter {
        "jira:\n  url: ${JIRA_URL}\n  auth: { type: pat, token: '${JIRA_PAT}' }\n  request_timeout: 5s\n"
    } else {
        "jira:\n  url: ${JIRA_URL}\n  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n  request_timeout: 5s\n"
    }
}

/// An existing ticket, already approved: the window alone decides.
fn approved_ticket(sandbox: &SandboxProc) -> String {
    let key = sandbox.create("Deploy web 1.4.2", &["deploy"]);
    sandbox.set_status(&key, "Approved");
    key
}

/// A stanza updating `key`, approved on "Approved", with `timeout` and the window/freeze `extra`.
fn stanza(sandbox: &SandboxProc, key: &str, timeout: &str, extra: &str) -> String {
    format!(
        "{}ticket:\n  key: {key}\napproval:\n  approve_when: {{ status: Approved }}\n  reject_when: {{ status: Rejected }}\n  interval: 1s\n  max_interval: 1s\n  timeout: {timeout}\n{extra}",
        jira_block(sandbox)
    )
}

/// Now plus `seconds`, as RFC 3339 in UTC.
fn in_seconds(seconds: i64) -> String {
    Timestamp::now()
        .checked_add(SignedDuration::from_secs(seconds))
        .unwrap()
        .round(jiff::Unit::Second)
        .unwrap()
        .to_string()
}

/// Now plus `seconds`, as Berlin wall-clock time `YYYY-MM-DD HH:MM:SS`.
fn berlin_in(seconds: i64) -> String {
    Timestamp::now()
        .checked_add(SignedDuration::from_secs(seconds))
        .unwrap()
        .to_zoned(TimeZone::get("Europe/Berlin").unwrap())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Runs the stanza as a GitHub Actions step (`github`) or GitLab CI job; the run and the outputs
/// file's text (`$GITHUB_OUTPUT`, or the dotenv file).
fn gate_in(sandbox: &SandboxProc, stanza: &str, github: bool) -> (Run, String) {
    let work = Workdir::new();
    work.write("step.yml", stanza);
    let mut cmd = work.command_for(sandbox);
    if github {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", work.path("outputs"));
    } else {
        cmd.env("GITLAB_CI", "true")
            .env("JIRA_GATE_DOTENV", work.path("outputs"));
    }
    let run = work.run(cmd.args(["run", "step.yml", "--result-file", "result.json"]));
    let outputs = std::fs::read_to_string(work.path("outputs")).unwrap_or_default();
    (run, outputs)
}

/// Runs the stanza under GitHub and under GitLab: each ends blocked, exit 7, with `why` in the
/// summary line, the result file and the outputs. The GitHub run is returned.
fn assert_blocked(sandbox: &SandboxProc, stanza: &str, key: &str, why: &str) -> Run {
    let (run, github) = gate_in(sandbox, stanza, true);
    let (gitlab_run, gitlab) = gate_in(sandbox, stanza, false);
    for run in [&run, &gitlab_run] {
        assert_eq!(run.code, 7, "{}", run.stderr);
        let summary = run
            .stderr
            .lines()
            .rfind(|l| l.starts_with("jira-gate: "))
            .unwrap();
        assert!(
            summary.starts_with(&format!("jira-gate: blocked {key} (status \"Approved\"")),
            "{summary}"
        );
        assert!(summary.contains(why), "{summary}");
        assert_eq!(run.field("decision"), "blocked");
        assert_eq!(run.field("exit_code"), 7);
        assert!(
            run.field("message").as_str().unwrap().contains(why),
            "{}",
            run.result_text
        );
    }
    assert!(github.contains("decision=blocked\n"), "{github}");
    assert!(github.contains("exit-code=7\n"), "{github}");
    assert!(
        run.stdout.contains("::error title=jira-gate blocked::"),
        "{}",
        run.stdout
    );
    assert!(gitlab.contains("JIRA_GATE_DECISION=blocked"), "{gitlab}");
    assert!(gitlab.contains("JIRA_GATE_EXIT_CODE=7"), "{gitlab}");
    run
}

#[test]
fn a_window_a_few_seconds_ahead_is_waited_for_then_0() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = approved_ticket(&sandbox);
    let window = format!(
        "  window:\n    start: \"{}\"\n    end: \"{}\"\n    timezone: Europe/Berlin\n",
        berlin_in(4),
        berlin_in(3600)
    );
    let (run, github) = gate_in(&sandbox, &stanza(&sandbox, &key, "30s", &window), true);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.elapsed >= Duration::from_secs(3), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(15), "{:?}", run.elapsed);
    // When it opens, in the zone given and in UTC.
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("waiting for the change window to open at"))
        .unwrap_or_else(|| panic!("no waiting line:\n{}", run.stderr));
    assert!(line.contains("(Europe/Berlin) = "), "{line}");
    assert!(line.ends_with(" UTC"), "{line}");
    assert!(
        run.stderr
            .contains("the change may go now: inside its window, outside every freeze"),
        "{}",
        run.stderr
    );
    assert_eq!(run.field("decision"), "approved");
    assert_eq!(run.field("exit_code"), 0);
    assert!(run.field("polls").as_u64().unwrap() >= 2);
    assert!(github.contains("decision=approved\n"), "{github}");
}

#[test]
fn a_closed_window_exits_7_at_once() {
    for sandbox in [SandboxProc::cloud(&[]), SandboxProc::datacenter(&[])] {
        let key = approved_ticket(&sandbox);
        let window = format!(
            "  window:\n    start: \"{}\"\n    end: \"{}\"\n",
            in_seconds(-7200),
            in_seconds(-3600)
        );
        let run = assert_blocked(
            &sandbox,
            &stanza(&sandbox, &key, "30s", &window),
            &key,
            "approved, but the change window closed at",
        );
        assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
        assert_eq!(run.field("polls"), 1);
        assert!(run.field("decided_by").is_string(), "{}", run.result_text);
    }
}

#[test]
fn a_window_opening_after_the_timeout_exits_7_at_once() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = approved_ticket(&sandbox);
    let window = format!("  window:\n    start: \"{}\"\n", in_seconds(3600));
    let run = assert_blocked(
        &sandbox,
        &stanza(&sandbox, &key, "20s", &window),
        &key,
        "after the timeout at",
    );
    assert!(
        run.stderr.contains("the change window opens at"),
        "{}",
        run.stderr
    );
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
}

#[test]
fn an_active_freeze_is_waited_out_or_exits_7() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = approved_ticket(&sandbox);
    // Ends in 4 seconds: waits, then 0.
    let freeze = format!(
        "  freeze:\n    - {{ from: \"{}\", to: \"{}\", timezone: Europe/Berlin }}\n",
        in_seconds(-60),
        in_seconds(4)
    );
    let (run, _) = gate_in(&sandbox, &stanza(&sandbox, &key, "30s", &freeze), false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.elapsed >= Duration::from_secs(3), "{:?}", run.elapsed);
    assert!(
        run.stderr.contains("approved, but frozen until")
            && run.stderr.contains("(Europe/Berlin) = ")
            && run.stderr.contains("the change may go now"),
        "{}",
        run.stderr
    );
    assert_eq!(run.field("decision"), "approved");

    // Lasts past the timeout: 7 at once.
    let freeze = format!(
        "  freeze:\n    - {{ from: \"{}\", to: \"{}\" }}\n",
        in_seconds(-60),
        in_seconds(7200)
    );
    let run = assert_blocked(
        &sandbox,
        &stanza(&sandbox, &key, "20s", &freeze),
        &key,
        "approved, but frozen until",
    );
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
}

#[test]
fn a_rejection_while_waiting_for_the_window_exits_3() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = approved_ticket(&sandbox);
    let window = format!("  window:\n    start: \"{}\"\n", in_seconds(25));
    let work = Workdir::new();
    work.write("step.yml", stanza(&sandbox, &key, "40s", &window));
    let started = Instant::now();
    let child = work
        .command_for(&sandbox)
        .args(["run", "step.yml", "--result-file", "result.json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    sandbox.set_status(&key, "Rejected");
    let output = child.wait_with_output().unwrap();
    let run = work.finish(&output, started);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    assert!(
        run.stderr
            .contains("waiting for the change window to open at"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .lines()
            .last()
            .unwrap()
            .starts_with(&format!("jira-gate: rejected {key} (status \"Rejected\"")),
        "{}",
        run.stderr
    );
    assert_eq!(run.field("decision"), "rejected");
    assert_eq!(run.field("exit_code"), 3);
}

#[test]
fn a_window_from_the_tickets_own_fields() {
    for sandbox in [
        SandboxProc::cloud(&["--approve-after", "1s"]),
        SandboxProc::datacenter(&["--approve-after", "1s"]),
    ] {
        let stanza = format!(
            "{}ticket:\n  project: OPS\n  type: Change\n  summary: Deploy web 1.4.2\n  transition: Request approval\n  fields:\n    Planned start: \"{}\"\n    Planned end: \"{}\"\napproval:\n  approve_when: {{ status: Approved }}\n  interval: 1s\n  max_interval: 1s\n  timeout: 30s\n  window:\n    start_field: Planned start\n    end_field: Planned end\n    timezone: Europe/Berlin\n",
            jira_block(&sandbox),
            in_seconds(5),
            berlin_in(3600).replace(' ', "T") + "+01:00"
        );
        let (run, github) = gate_in(&sandbox, &stanza, true);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.elapsed >= Duration::from_secs(3), "{:?}", run.elapsed);
        assert!(
            run.stderr
                .contains("waiting for the change window to open at")
                && run.stderr.contains("(Europe/Berlin) = "),
            "{}",
            run.stderr
        );
        assert_eq!(run.field("decision"), "approved");
        assert!(github.contains("decision=approved\n"), "{github}");
        // Every poll reads the window's fields with the status: one request per poll, as many
        // polls as the run counted.
        let polls: Vec<String> = sandbox
            .requests()
            .into_iter()
            .filter(|r| {
                r["method"] == "GET"
                    && r["path"]
                        .as_str()
                        .is_some_and(|p| p.ends_with("/issue/OPS-1"))
            })
            .filter_map(|r| r["query"].as_str().map(str::to_owned))
            .filter(|q| q.starts_with("fields=status%2Cresolution"))
            .collect();
        assert_eq!(
            polls.len() as u64,
            run.field("polls").as_u64().unwrap(),
            "{polls:?}"
        );
        assert!(polls.len() >= 2, "{polls:?}");
        assert!(
            polls
                .iter()
                // A created ticket's polls bring the changelog along (issue 12).
                .all(|q| q
                    == "fields=status%2Cresolution%2Ccustomfield_10060%2Ccustomfield_10061&expand=changelog"),
            "{polls:?}"
        );
        // Stored in Jira's one date-time format.
        let issue = sandbox.get_json(
            &format!("{}/issue/OPS-1?fields=customfield_10060", sandbox.api()),
            200,
        );
        let start = issue["fields"]["customfield_10060"].as_str().unwrap();
        assert!(start.ends_with(".000+0000"), "{start}");
    }
}

#[test]
fn an_empty_window_field_waits_and_ends_blocked() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = approved_ticket(&sandbox);
    let window = "  window:\n    start_field: Planned start\n";
    let run = assert_blocked(
        &sandbox,
        &stanza(&sandbox, &key, "4s", window),
        &key,
        "field \"Planned start\" is empty",
    );
    assert!(run.elapsed >= Duration::from_secs(3), "{:?}", run.elapsed);
    assert_eq!(
        run.stderr.matches("is empty on").count(),
        2,
        "logged once, then the summary:\n{}",
        run.stderr
    );
}

#[test]
fn bad_windows_and_freezes_are_refused_with_their_key() {
    let sandbox = SandboxProc::cloud(&[]);
    for (extra, key, value, hint) in [
        (
            "  window:\n    start: \"2026-12-05 02:00\"\n    timezone: Europe/Berlni\n",
            "`approval.window.timezone`",
            "`Europe/Berlni`",
            "IANA time zone",
        ),
        (
            "  window:\n    start: \"2026-12-05T04:00:00+01:00\"\n    end: \"2026-12-05T02:00:00+01:00\"\n",
            "`approval.window.end`",
            "is not after the start",
            "ends after it starts",
        ),
        (
            "  freeze:\n    - { cron_start: \"0 18 * * FRI\", cron_end: \"0 8 * MON\" }\n",
            "`approval.freeze[0].cron_end`",
            "`0 8 * MON`",
            "minute hour day-of-month",
        ),
        (
            "  freeze:\n    - { from: \"2026-12-20\", cron_end: \"0 8 * * MON\" }\n",
            "`approval.freeze[0]`",
            "mixes",
            "own list entry",
        ),
    ] {
        let work = Workdir::new();
        work.write("step.yml", stanza(&sandbox, "OPS-1", "30s", extra));
        let run = work.run(work.command_for(&sandbox).args(["validate", "step.yml"]));
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(key) && run.stderr.contains(value),
            "{key} {value}:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint:") && run.stderr.contains(hint),
            "{}",
            run.stderr
        );
        assert!(run.result.is_none());
    }
}

#[test]
fn check_says_whether_window_fields_are_date_times() {
    let sandbox = SandboxProc::cloud(&[]);
    let key = approved_ticket(&sandbox);
    let good = "  window:\n    start_field: Planned start\n    end_field: Planned end\n  freeze:\n    - { cron_start: \"0 18 * * FRI\", cron_end: \"0 8 * * MON\", timezone: Europe/Berlin }\n";
    let bad = "  window:\n    start_field: Ticket ref\n";
    let fixed = "  window:\n    start: \"2026-12-05 02:00\"\n  freeze:\n    - { from: \"2026-12-20\", to: \"2027-01-04\", timezone: Europe/Berlin }\n";
    for (extra, code, lines) in [
        (
            good,
            0,
            &[
                "ok       window field \"Planned start\" (customfield_10060) is a date-time field",
                "ok       freeze from `0 18 * * FRI` to `0 8 * * MON` (Europe/Berlin)",
            ][..],
        ),
        (
            fixed,
            0,
            &[
                "ok       freeze from 2026-12-20 00:00:00 CET (Europe/Berlin) = 2026-12-19 23:00:00 UTC until 2027-01-05 00:00:00 CET (Europe/Berlin) = 2027-01-04 23:00:00 UTC",
            ][..],
        ),
        (
            bad,
            5,
            &[
                "problem  window field \"Ticket ref\" (customfield_10055) is a string field, not a date-time field",
            ][..],
        ),
    ] {
        let work = Workdir::new();
        work.write("step.yml", stanza(&sandbox, &key, "30s", extra));
        let run = work.run(work.command_for(&sandbox).args(["check", "step.yml"]));
        assert_eq!(run.code, code, "{}", run.stderr);
        for line in lines {
            assert!(run.stderr.contains(line), "{line}:\n{}", run.stderr);
        }
        assert!(run.result.is_none() && run.stdout.is_empty());
    }
}

#[test]
fn validate_says_what_the_window_does() {
    let sandbox = SandboxProc::cloud(&[]);
    let extra = "  window:\n    start_field: Planned start\n    end_field: Planned end\n  freeze:\n    - { cron_start: \"0 18 * * FRI\", cron_end: \"0 8 * * MON\", timezone: Europe/Berlin }\n";
    let work = Workdir::new();
    work.write("step.yml", stanza(&sandbox, "OPS-1", "30s", extra));
    let run = work.run(work.command_for(&sandbox).args(["validate", "step.yml"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "step.yml is valid: updates OPS-1, then waits up to 30s for status in [Approved]; goes only inside the change window (from \"Planned start\" to \"Planned end\") and outside 1 freeze"
        ),
        "{}",
        run.stderr
    );
    assert!(sandbox.requests().is_empty(), "validate reads no Jira");
}
