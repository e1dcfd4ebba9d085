//! `approval.window` and `approval.freeze` (issue 9): zones, times and cron patterns checked here,
//! so a run never starts with a window it cannot read. Every problem names its key path
//! (`approval.freeze[1].cron_end`) and the value.

use super::{Problem, nonempty, problem};
use crate::criteria::Named;
use crate::stanza::model::{Bound, ChangeWindow};
use crate::stanza::raw::{RawFreeze, RawWindow};
use crate::stanza::scalars::Text;
use crate::window::{Freeze, Pattern, Zone};

const ZONE_HINT: &str =
    "write an IANA time zone name, e.g. `Europe/Berlin`, `America/New_York` or `UTC`";
const TIME_HINT: &str =
    "write RFC 3339 (`2026-12-05T02:00:00+01:00`) or `2026-12-05 02:00` with a `timezone`";
const DATE_HINT: &str =
    "write a date (`2026-12-20`), `2026-12-20 18:00` with a `timezone`, or RFC 3339";
const CRON_HINT: &str =
    "five fields: minute hour day-of-month month day-of-week, e.g. `0 18 * * FRI`";

/// The zone at `key`, UTC when not written.
fn zone(text: Option<Text>, key: &str) -> Result<Zone, Problem> {
    match nonempty(text) {
        None => Ok(Zone::utc()),
        Some(name) => Zone::named(&name).map_err(|e| problem(key, e, Some(ZONE_HINT))),
    }
}

/// `approval.window`: each side a field or a fixed time (not both), at least one side, and a
/// fixed end after a fixed start.
pub(super) fn validate_window(raw: RawWindow) -> Result<ChangeWindow<Named>, Problem> {
    let zone = zone(raw.timezone, "approval.window.timezone")?;
    let side =
        |field: Option<Text>, at: Option<Text>, name: &str| -> Result<Bound<Named>, Problem> {
            match (nonempty(field), nonempty(at)) {
                (Some(_), Some(_)) => Err(problem(
                    "approval.window",
                    format!("both `{name}` and `{name}_field` are set"),
                    Some("take the time from a field of the ticket or write it here, not both"),
                )),
                (Some(field), None) => Ok(Bound::Field {
                    name: field,
                    id: Named,
                }),
                (None, Some(text)) => zone
                    .parse_time(&text)
                    .map(Bound::At)
                    .map_err(|e| problem(format!("approval.window.{name}"), e, Some(TIME_HINT))),
                (None, None) => Ok(Bound::Open),
            }
        };
    let start = side(raw.start_field, raw.start, "start")?;
    let end = side(raw.end_field, raw.end, "end")?;
    match (&start, &end) {
        (Bound::Open, Bound::Open) => {
            return Err(problem(
                "approval.window",
                "has neither a start nor an end",
                Some(
                    "set `start_field` and `end_field` (e.g. `Planned start`, `Planned end`), or `start` and `end`",
                ),
            ));
        }
        (Bound::At(start), Bound::At(end)) if end <= start => {
            return Err(problem(
                "approval.window.end",
                format!(
                    "{} is not after the start {}",
                    zone.show(*end),
                    zone.show(*start)
                ),
                Some("the window ends after it starts"),
            ));
        }
        _ => {}
    }
    Ok(ChangeWindow { start, end, zone })
}

/// `approval.freeze`: each entry a `from`/`to` pair or a `cron_start`/`cron_end` pair.
pub(super) fn validate_freezes(raw: Vec<RawFreeze>) -> Result<Vec<Freeze>, Problem> {
    raw.into_iter()
        .enumerate()
        .map(|(i, f)| validate_freeze(f, &format!("approval.freeze[{i}]")))
        .collect()
}

fn validate_freeze(raw: RawFreeze, key: &str) -> Result<Freeze, Problem> {
    let zone = zone(raw.timezone, &format!("{key}.timezone"))?;
    let fixed = (nonempty(raw.from), nonempty(raw.to));
    let cron = (nonempty(raw.cron_start), nonempty(raw.cron_end));
    let shape = Some("write `from` and `to` (dates or date-times), or `cron_start` and `cron_end`");
    match (fixed, cron) {
        ((Some(from), Some(to)), (None, None)) => {
            let at = |text: &str, name: &str, end_of_day: bool| {
                zone.parse_date_or_time(text, end_of_day)
                    .map_err(|e| problem(format!("{key}.{name}"), e, Some(DATE_HINT)))
            };
            let (from_at, to_at) = (at(&from, "from", false)?, at(&to, "to", true)?);
            if to_at <= from_at {
                return Err(problem(
                    format!("{key}.to"),
                    format!("`{to}` is not after `from` `{from}`"),
                    Some("a freeze ends after it begins; a date `to` includes that whole day"),
                ));
            }
            Ok(Freeze::Fixed {
                from: from_at,
                to: to_at,
                zone,
            })
        }
        ((None, None), (Some(start), Some(end))) => {
            let pattern = |text: &str, name: &str| {
                Pattern::parse(text).map_err(|e| {
                    problem(
                        format!("{key}.{name}"),
                        format!("`{text}` is not a cron pattern: {e}"),
                        Some(CRON_HINT),
                    )
                })
            };
            Ok(Freeze::Cron {
                start: pattern(&start, "cron_start")?,
                end: pattern(&end, "cron_end")?,
                zone,
            })
        }
        ((None, None), (None, None)) => Err(problem(key, "is empty", shape)),
        ((Some(_), _) | (_, Some(_)), (Some(_), _) | (_, Some(_))) => Err(problem(
            key,
            "mixes a `from`/`to` period with a cron pair",
            Some("write each kind of freeze as its own list entry"),
        )),
        ((from, to), (start, end)) => {
            let missing = match (from, to, start, end) {
                (Some(_), None, ..) => "to",
                (None, Some(_), ..) => "from",
                (.., Some(_), None) => "cron_end",
                _ => "cron_start",
            };
            Err(problem(format!("{key}.{missing}"), "is missing", shape))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::stanza::{Bound, Error, Overrides, Stanza, from_str};
    use crate::window::Freeze;

    fn parse(approval_extra: &str) -> Result<Stanza, Error> {
        let text = format!(
            "jira:\n  url: https://example.atlassian.net\n  auth: {{ type: pat, token: x }}\nticket:\n  key: OPS-1\napproval:\n  approve_when: {{ status: Approved }}\n{approval_extra}"
        );
        from_str(&text, "step.yml", &|_| None)?.validate("step.yml", &Overrides::default())
    }

    /// The key path, message and hint of a refused stanza.
    fn refused(approval_extra: &str) -> (String, String, String) {
        match parse(approval_extra) {
            Err(Error::Invalid {
                key, message, hint, ..
            }) => (key, message, hint.unwrap_or_default()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn windows_take_fields_or_fixed_times() {
        let stanza = parse(
            "  window: { start_field: Planned start, end: \"2026-12-05 04:00\", timezone: Europe/Berlin }\n",
        )
        .unwrap();
        let window = stanza.approval.unwrap().window.unwrap();
        assert!(matches!(&window.start, Bound::Field { name, .. } if name == "Planned start"));
        assert_eq!(
            window.end,
            Bound::At("2026-12-05T03:00:00Z".parse().unwrap())
        );
        assert_eq!(window.zone.name(), "Europe/Berlin");
    }

    #[test]
    fn freezes_take_dates_or_cron_pairs() {
        let stanza = parse(
            "  freeze:\n    - { from: \"2026-12-20\", to: \"2027-01-04\", timezone: Europe/Berlin }\n    - { cron_start: \"0 18 * * FRI\", cron_end: \"0 8 * * MON\" }\n",
        )
        .unwrap();
        let freezes = stanza.approval.unwrap().freeze;
        let Freeze::Fixed { from, to, .. } = &freezes[0] else {
            panic!("{freezes:?}")
        };
        assert_eq!(from.to_string(), "2026-12-19T23:00:00Z");
        assert_eq!(
            to.to_string(),
            "2027-01-04T23:00:00Z",
            "the last day is included"
        );
        assert!(matches!(&freezes[1], Freeze::Cron { zone, .. } if zone.name() == "UTC"));
    }

    #[test]
    fn each_problem_names_its_key_and_value() {
        let cases = [
            (
                "  window: {}\n",
                "approval.window",
                "has neither a start nor an end",
            ),
            (
                "  window: { start: x, start_field: Planned start }\n",
                "approval.window",
                "both `start` and `start_field` are set",
            ),
            (
                "  window: { start: \"5 Dec\" }\n",
                "approval.window.start",
                "`5 Dec` is not a date-time",
            ),
            (
                "  freeze: [{ from: \"2026-12-20\" }]\n",
                "approval.freeze[0].to",
                "is missing",
            ),
            (
                "  freeze: [{ from: \"2026-12-20\", to: \"2026-12-19\" }]\n",
                "approval.freeze[0].to",
                "`2026-12-19` is not after `from` `2026-12-20`",
            ),
            (
                "  freeze: [{ cron_start: \"0 18 * * FRI\", cron_end: \"0 8 * * MON\", timezone: Mars/Base }]\n",
                "approval.freeze[0].timezone",
                "`Mars/Base` is not a known time zone",
            ),
            (
                "  freeze: [{ cron_start: \"0 18 * * * FRI\", cron_end: \"0 8 * * MON\" }]\n",
                "approval.freeze[0].cron_start",
                "`0 18 * * * FRI` is not a cron pattern: has 6 fields, not 5",
            ),
            ("  freeze: [{}]\n", "approval.freeze[0]", "is empty"),
        ];
        for (extra, key, message) in cases {
            let (got_key, got_message, hint) = refused(extra);
            assert_eq!((got_key.as_str(), got_message.as_str()), (key, message));
            assert!(!hint.is_empty(), "{key}: no hint");
        }
    }

    #[test]
    fn a_freeze_with_half_a_pair_names_the_missing_half() {
        for (freeze, key) in [
            ("{ from: \"2026-12-20\" }", "approval.freeze[0].to"),
            ("{ to: \"2026-12-20\" }", "approval.freeze[0].from"),
            (
                "{ cron_start: \"0 18 * * FRI\" }",
                "approval.freeze[0].cron_end",
            ),
            (
                "{ cron_end: \"0 8 * * MON\" }",
                "approval.freeze[0].cron_start",
            ),
        ] {
            let (got_key, message, hint) = refused(&format!("  freeze: [{freeze}]\n"));
            assert_eq!(
                (got_key.as_str(), message.as_str()),
                (key, "is missing"),
                "{freeze}"
            );
            assert!(
                hint.contains("`cron_start` and `cron_end`"),
                "{freeze}: {hint}"
            );
        }
    }

    #[test]
    fn a_fixed_window_must_end_after_it_starts() {
        let stanza = parse(
            "  window: { start: \"2026-12-05 02:00\", end: \"2026-12-05 04:00\", timezone: Europe/Berlin }\n",
        )
        .unwrap();
        let window = stanza.approval.unwrap().window.unwrap();
        assert_eq!(
            (window.start, window.end),
            (
                Bound::At("2026-12-05T01:00:00Z".parse().unwrap()),
                Bound::At("2026-12-05T03:00:00Z".parse().unwrap())
            )
        );
        for end in ["2026-12-05 02:00", "2026-12-05 01:59"] {
            let (key, message, _) = refused(&format!(
                "  window: {{ start: \"2026-12-05 02:00\", end: \"{end}\" }}\n"
            ));
            assert_eq!(key, "approval.window.end", "{end}");
            assert!(
                message.ends_with("is not after the start 2026-12-05 02:00:00 UTC"),
                "{end}: {message}"
            );
        }
    }
}
