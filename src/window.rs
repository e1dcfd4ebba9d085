//! Change windows and freezes (issue 9, SPEC section 7): whether an approved change may go now.
//!
//! Pure: [`state`] takes the current instant, the window's bounds and the freeze periods and says
//! [`State::Open`], [`State::WaitUntil`], [`State::FrozenUntil`] or [`State::Closed`]; the wait
//! around it lives in `crate::hold`. Times are jiff [`Timestamp`]s; each freeze and the window
//! carry a [`TimeZone`] for reading wall-clock text and for showing times to the user. Cron pairs
//! are croner patterns evaluated on wall-clock time in their zone, so `0 18 * * FRI` means 18:00
//! in Berlin on both sides of a DST change.

use std::fmt;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan as _, Zoned};

/// How many freezes in a row [`state`] steps over when looking for the first moment the step may
/// go; past that it reports the last end it reached (and looks again then).
const MAX_HOPS: usize = 64;

/// The window's bounds, resolved to instants (from fixed times or the ticket's fields). A
/// missing bound is open on that side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    /// The change may go from here on.
    pub start: Option<Timestamp>,
    /// The change may not go from here on.
    pub end: Option<Timestamp>,
}

/// A period when nothing may deploy.
#[derive(Debug, Clone)]
pub enum Freeze {
    /// From one instant to another (`to` excluded).
    Fixed {
        /// The first frozen instant.
        from: Timestamp,
        /// The first instant after the freeze.
        to: Timestamp,
        /// The zone the times were written in (for messages).
        zone: Zone,
    },
    /// From each occurrence of `start` to the next occurrence of `end` after it.
    Cron {
        /// When a freeze begins.
        start: Pattern,
        /// When it ends.
        end: Pattern,
        /// The zone both patterns are evaluated in.
        zone: Zone,
    },
}

/// A 5-field cron pattern with the text it came from.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Boxed: a parsed pattern is large, and most freezes are fixed periods.
    cron: Box<Cron>,
    text: String,
}

impl Pattern {
    /// Parses a 5-field cron pattern (minute hour day-of-month month day-of-week).
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let fields = text.split_whitespace().count();
        if fields != 5 && !text.trim_start().starts_with('@') {
            return Err(format!("has {fields} fields, not 5"));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(text)
            .map_err(|e| lowercase_first(&e.to_string()))?;
        Ok(Pattern {
            cron: Box::new(cron),
            text: text.trim().to_owned(),
        })
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// An IANA time zone (or UTC) with the name it was given by.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    tz: TimeZone,
    name: String,
}

impl Zone {
    /// UTC.
    pub fn utc() -> Zone {
        Zone {
            tz: TimeZone::UTC,
            name: "UTC".into(),
        }
    }

    /// Looks up an IANA name (`Europe/Berlin`) in the bundled time zone database.
    pub fn named(name: &str) -> Result<Zone, String> {
        let name = name.trim();
        TimeZone::get(name)
            .map(|tz| Zone {
                tz,
                name: name.to_owned(),
            })
            .map_err(|_| format!("`{name}` is not a known time zone"))
    }

    /// The name it was given by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `t` in this zone and in UTC, for log lines and messages:
    /// `2026-12-05 02:00 CET (Europe/Berlin) = 2026-12-05 01:00 UTC`.
    pub fn show(&self, t: Timestamp) -> String {
        let utc = t.to_zoned(TimeZone::UTC).strftime("%Y-%m-%d %H:%M:%S UTC");
        if self.tz == TimeZone::UTC {
            return utc.to_string();
        }
        let here = t.to_zoned(self.tz.clone());
        format!(
            "{} ({}) = {utc}",
            here.strftime("%Y-%m-%d %H:%M:%S %Z"),
            self.name
        )
    }

    /// Reads a time: RFC 3339 / ISO 8601 with an offset (also Jira's `2026-12-05T02:00:00.000+0100`),
    /// or wall-clock `YYYY-MM-DD HH:MM[:SS]` in this zone. A time skipped by a DST change moves
    /// forward by the gap; a repeated one is its first occurrence.
    pub fn parse_time(&self, text: &str) -> Result<Timestamp, String> {
        let text = text.trim();
        if let Ok(t) = text.parse::<Timestamp>() {
            return Ok(t);
        }
        if let Ok(zoned) = text.parse::<Zoned>() {
            return Ok(zoned.timestamp());
        }
        let civil: DateTime = text
            .parse()
            .map_err(|_| format!("`{text}` is not a date-time"))?;
        if text.len() <= "YYYY-MM-DD".len() {
            return Err(format!("`{text}` is a date without a time"));
        }
        self.civil(civil)
    }

    /// Like [`Zone::parse_time`], and also a date alone: the start of that day in this zone
    /// (`end_of_day` true: the start of the next day, so the date is included).
    pub fn parse_date_or_time(&self, text: &str, end_of_day: bool) -> Result<Timestamp, String> {
        let trimmed = text.trim();
        if trimmed.len() <= "YYYY-MM-DD".len() {
            if let Ok(date) = trimmed.parse::<Date>() {
                let day = if end_of_day {
                    date.checked_add(1.day()).map_err(|e| e.to_string())?
                } else {
                    date
                };
                return self.civil(day.to_datetime(jiff::civil::Time::midnight()));
            }
        }
        self.parse_time(text)
    }

    fn civil(&self, civil: DateTime) -> Result<Timestamp, String> {
        civil
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| format!("`{civil}` cannot be placed in {}: {e}", self.name))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Freeze {
    /// The end of the freeze that `t` lies in, if it lies in one.
    pub fn active_until(&self, t: Timestamp) -> Option<Timestamp> {
        match self {
            Freeze::Fixed { from, to, .. } => (*from <= t && t < *to).then_some(*to),
            Freeze::Cron { start, end, zone } => {
                let here = t.to_zoned(zone.tz.clone());
                let began = start.cron.find_previous_occurrence(&here, true).ok()?;
                let ends = end.cron.find_next_occurrence(&began, false).ok()?;
                (ends.timestamp() > t).then(|| ends.timestamp())
            }
        }
    }

    /// The zone the freeze was written in.
    pub fn zone(&self) -> &Zone {
        match self {
            Freeze::Fixed { zone, .. } | Freeze::Cron { zone, .. } => zone,
        }
    }

    /// The freeze as written, for messages.
    pub fn describe(&self) -> String {
        match self {
            Freeze::Fixed { from, to, zone } => {
                format!("freeze from {} until {}", zone.show(*from), zone.show(*to))
            }
            Freeze::Cron { start, end, zone } => format!(
                "freeze from `{}` to `{}` ({zone})",
                start.text(),
                end.text()
            ),
        }
    }
}

/// Whether the change may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Inside the window and outside every freeze.
    Open,
    /// The window opens later: the first moment after that outside every freeze.
    WaitUntil(Timestamp),
    /// Inside a freeze: the first moment after it (and after any freeze that follows at once).
    FrozenUntil(Timestamp),
    /// The window closed at this instant, or closes then before the step may go (a freeze lasts
    /// past it); it never opens again.
    Closed(Timestamp),
}

/// Where `now` stands with `window` and `freezes`.
pub fn state(now: Timestamp, window: &Window, freezes: &[Freeze]) -> State {
    if let Some(end) = window.end.filter(|end| now >= *end) {
        return State::Closed(end);
    }
    let waits_for_window = window.start.is_some_and(|start| now < start);
    let mut go = window.start.map_or(now, |start| start.max(now));
    let mut frozen = false;
    for _ in 0..MAX_HOPS {
        let Some(until) = freezes.iter().filter_map(|f| f.active_until(go)).max() else {
            break;
        };
        go = until;
        frozen = true;
    }
    if let Some(end) = window.end.filter(|end| go >= *end) {
        return State::Closed(end);
    }
    match (waits_for_window, frozen) {
        (false, false) => State::Open,
        (true, _) => State::WaitUntil(go),
        (false, true) => State::FrozenUntil(go),
    }
}

/// A date-time field's value as Jira takes it on write, `2026-12-05T01:00:00.000+0000` (API-NOTES
/// 4.2b): from RFC 3339, Jira's own format, or `YYYY-MM-DD HH:MM` read as UTC.
pub fn jira_datetime(text: &str) -> Result<String, String> {
    let t = Zone::utc().parse_time(text)?;
    Ok(t.to_zoned(TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M:%S%.3f%z")
        .to_string())
}

/// croner's messages start with a capital and end with a full stop; ours do neither.
fn lowercase_first(message: &str) -> String {
    let message = message.trim_end_matches('.');
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn berlin() -> Zone {
        Zone::named("Europe/Berlin").unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_fixed_freeze_ends_at_its_end_and_says_so() {
        let freeze = Freeze::Fixed {
            from: at("2026-12-20T00:00:00Z"),
            to: at("2027-01-04T00:00:00Z"),
            zone: berlin(),
        };
        assert_eq!(
            freeze.active_until(at("2026-12-20T00:00:00Z")),
            Some(at("2027-01-04T00:00:00Z"))
        );
        assert_eq!(
            freeze.active_until(at("2027-01-03T23:59:59Z")),
            Some(at("2027-01-04T00:00:00Z"))
        );
        // Its end is the first moment the change may go again.
        assert_eq!(freeze.active_until(at("2027-01-04T00:00:00Z")), None);
        assert_eq!(freeze.active_until(at("2026-12-19T23:59:59Z")), None);
        assert!(
            freeze
                .describe()
                .starts_with("freeze from 2026-12-20 01:00:00 CET (Europe/Berlin)"),
            "{}",
            freeze.describe()
        );
        assert_eq!(
            weekend().describe(),
            "freeze from `0 18 * * FRI` to `0 8 * * MON` (Europe/Berlin)"
        );
        assert_eq!(berlin().to_string(), "Europe/Berlin");
    }

    #[test]
    fn a_bad_pattern_is_explained_in_a_sentence_that_continues_ours() {
        let e = Pattern::parse("0 18 * * FRY").unwrap_err();
        assert!(e.starts_with("pattern contains illegal characters"), "{e}");
    }

    #[test]
    fn a_pattern_keeps_its_text_for_the_log() {
        assert_eq!(
            Pattern::parse(" 0 18 * * FRI ").unwrap().text(),
            "0 18 * * FRI"
        );
    }

    fn weekend() -> Freeze {
        Freeze::Cron {
            start: Pattern::parse("0 18 * * FRI").unwrap(),
            end: Pattern::parse("0 8 * * MON").unwrap(),
            zone: berlin(),
        }
    }

    #[test]
    fn wall_clock_text_is_read_in_its_zone_across_dst() {
        let zone = berlin();
        // Winter: UTC+1; summer: UTC+2.
        assert_eq!(
            zone.parse_time("2026-12-05 02:00").unwrap(),
            at("2026-12-05T01:00:00Z")
        );
        assert_eq!(
            zone.parse_time("2026-07-05 02:00").unwrap(),
            at("2026-07-05T00:00:00Z")
        );
        // 2026-03-29 02:30 does not exist in Berlin: it moves forward by the hour skipped.
        assert_eq!(
            zone.parse_time("2026-03-29 02:30").unwrap(),
            at("2026-03-29T01:30:00Z")
        );
        // 2026-10-25 02:30 happens twice: the first one (still summer time) is meant.
        assert_eq!(
            zone.parse_time("2026-10-25 02:30").unwrap(),
            at("2026-10-25T00:30:00Z")
        );
        // Offsets win over the zone; Jira's own format has no colon in the offset.
        assert_eq!(
            zone.parse_time("2026-12-05T02:00:00.000+0100").unwrap(),
            at("2026-12-05T01:00:00Z")
        );
        assert_eq!(
            zone.parse_time("2026-12-05T02:00:00-05:00").unwrap(),
            at("2026-12-05T07:00:00Z")
        );
        assert!(zone.parse_time("2026-12-05").is_err());
        assert!(zone.parse_time("tomorrow").is_err());
    }

    #[test]
    fn dates_cover_whole_days_in_their_zone() {
        let zone = berlin();
        assert_eq!(
            zone.parse_date_or_time("2026-12-20", false).unwrap(),
            at("2026-12-19T23:00:00Z")
        );
        assert_eq!(
            zone.parse_date_or_time("2027-01-04", true).unwrap(),
            at("2027-01-04T23:00:00Z")
        );
    }

    #[test]
    fn the_window_opens_and_closes() {
        let window = Window {
            start: Some(at("2026-12-05T01:00:00Z")),
            end: Some(at("2026-12-05T03:00:00Z")),
        };
        assert_eq!(
            state(at("2026-12-05T00:00:00Z"), &window, &[]),
            State::WaitUntil(at("2026-12-05T01:00:00Z"))
        );
        assert_eq!(state(at("2026-12-05T01:00:00Z"), &window, &[]), State::Open);
        assert_eq!(
            state(at("2026-12-05T03:00:00Z"), &window, &[]),
            State::Closed(at("2026-12-05T03:00:00Z"))
        );
        assert_eq!(
            state(at("2030-01-01T00:00:00Z"), &Window::default(), &[]),
            State::Open
        );
    }

    #[test]
    fn a_weekend_freeze_follows_berlin_wall_clock_across_dst() {
        let freeze = [weekend()];
        let open = Window::default();
        // Saturday 2026-03-28, the night before summer time: frozen until Monday 08:00 CEST.
        assert_eq!(
            state(at("2026-03-28T12:00:00Z"), &open, &freeze),
            State::FrozenUntil(at("2026-03-30T06:00:00Z"))
        );
        // Friday 17:59 CET is before the freeze; 18:00 CET is in it.
        assert_eq!(
            state(at("2026-03-27T16:59:00Z"), &open, &freeze),
            State::Open
        );
        assert_eq!(
            state(at("2026-03-27T17:00:00Z"), &open, &freeze),
            State::FrozenUntil(at("2026-03-30T06:00:00Z"))
        );
        // Monday 08:00 CEST ends it; the weekend of the switch back to winter time ends at 08:00 CET.
        assert_eq!(
            state(at("2026-03-30T06:00:00Z"), &open, &freeze),
            State::Open
        );
        assert_eq!(
            state(at("2026-10-24T20:00:00Z"), &open, &freeze),
            State::FrozenUntil(at("2026-10-26T07:00:00Z"))
        );
        // Wednesday: not frozen.
        assert_eq!(
            state(at("2026-10-28T12:00:00Z"), &open, &freeze),
            State::Open
        );
    }

    #[test]
    fn a_window_that_opens_inside_a_freeze_waits_for_its_end_or_closes() {
        let freeze = [weekend()];
        // Opens Saturday 10:00, closes Monday 12:00 Berlin: the first moment is Monday 08:00.
        let window = Window {
            start: Some(at("2026-12-05T09:00:00Z")),
            end: Some(at("2026-12-07T11:00:00Z")),
        };
        assert_eq!(
            state(at("2026-12-04T12:00:00Z"), &window, &freeze),
            State::WaitUntil(at("2026-12-07T07:00:00Z"))
        );
        // Closes Sunday: no moment left.
        let short = Window {
            end: Some(at("2026-12-06T11:00:00Z")),
            ..window
        };
        assert_eq!(
            state(at("2026-12-04T12:00:00Z"), &short, &freeze),
            State::Closed(at("2026-12-06T11:00:00Z"))
        );
    }

    #[test]
    fn back_to_back_freezes_are_stepped_over() {
        let zone = berlin();
        let first = Freeze::Fixed {
            from: zone.parse_date_or_time("2026-12-20", false).unwrap(),
            to: zone.parse_date_or_time("2027-01-04", true).unwrap(),
            zone: zone.clone(),
        };
        // 2027-01-05 00:00 is Tuesday; no weekend freeze then, so that is the end.
        let freezes = [first, weekend()];
        assert_eq!(
            state(at("2026-12-24T12:00:00Z"), &Window::default(), &freezes),
            State::FrozenUntil(at("2027-01-04T23:00:00Z"))
        );
        // Ending on a Saturday instead: the weekend freeze that is already running follows.
        let saturday = Freeze::Fixed {
            from: at("2027-01-01T00:00:00Z"),
            to: at("2027-01-09T12:00:00Z"),
            zone: zone.clone(),
        };
        assert_eq!(
            state(
                at("2027-01-02T00:00:00Z"),
                &Window::default(),
                &[saturday, weekend()]
            ),
            State::FrozenUntil(at("2027-01-11T07:00:00Z"))
        );
    }

    #[test]
    fn patterns_need_five_fields_and_zones_must_exist() {
        assert!(Pattern::parse("0 18 * * FRI").is_ok());
        assert_eq!(
            Pattern::parse("0 0 18 * * FRI").unwrap_err(),
            "has 6 fields, not 5"
        );
        assert!(Pattern::parse("0 25 * * *").is_err());
        assert!(Zone::named("Europe/Berlin").is_ok());
        assert_eq!(
            Zone::named("Europe/Berlni").unwrap_err(),
            "`Europe/Berlni` is not a known time zone"
        );
    }

    #[test]
    fn date_times_are_written_in_jiras_format() {
        for text in [
            "2026-12-05T02:00:00+01:00",
            "2026-12-05T02:00:00.000+0100",
            "2026-12-05 01:00",
            "2026-12-05T01:00:00Z",
        ] {
            assert_eq!(
                jira_datetime(text).unwrap(),
                "2026-12-05T01:00:00.000+0000",
                "{text}"
            );
        }
        assert!(jira_datetime("next friday").is_err());
    }

    #[test]
    fn times_are_shown_in_both_zones() {
        let t = at("2026-12-05T01:00:00Z");
        assert_eq!(
            berlin().show(t),
            "2026-12-05 02:00:00 CET (Europe/Berlin) = 2026-12-05 01:00:00 UTC"
        );
        assert_eq!(Zone::utc().show(t), "2026-12-05 01:00:00 UTC");
    }

    fn instant() -> impl Strategy<Value = Timestamp> {
        // 2026 to 2028, to the minute.
        (1_767_225_600i64..1_861_920_000).prop_map(|s| Timestamp::from_second(s - s % 60).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the inputs, the answer is consistent: Open only inside the window and outside
        /// every freeze; a wait ends in the future at a moment that is itself open (or within the
        /// hop limit); Closed only at or after a window end.
        #[test]
        fn state_is_consistent(now in instant(), a in instant(), b in instant(), f in instant(), len in 0i64..400_000, cron in any::<bool>()) {
            let window = Window { start: Some(a.min(b)), end: Some(a.max(b)) };
            let fixed = Freeze::Fixed { from: f, to: f.checked_add(len.seconds()).unwrap(), zone: berlin() };
            let freezes = if cron { vec![fixed, weekend()] } else { vec![fixed] };
            match state(now, &window, &freezes) {
                State::Open => {
                    prop_assert!(a.min(b) <= now && now < a.max(b));
                    prop_assert!(freezes.iter().all(|f| f.active_until(now).is_none()));
                }
                State::WaitUntil(t) | State::FrozenUntil(t) => {
                    prop_assert!(t > now);
                    prop_assert!(t < a.max(b));
                    prop_assert_eq!(state(t, &window, &freezes), State::Open);
                }
                State::Closed(end) => prop_assert_eq!(end, a.max(b)),
            }
        }

        /// A weekend freeze is active exactly from Friday 18:00 to Monday 08:00 Berlin time.
        #[test]
        fn weekend_freeze_matches_the_wall_clock(now in instant()) {
            let here = now.to_zoned(berlin().tz.clone());
            let minutes = i32::from(here.weekday().to_monday_zero_offset()) * 24 * 60
                + i32::from(here.hour()) * 60
                + i32::from(here.minute());
            let friday_18 = 4 * 24 * 60 + 18 * 60;
            let monday_8 = 8 * 60;
            let frozen = minutes >= friday_18 || minutes < monday_8;
            prop_assert_eq!(weekend().active_until(now).is_some(), frozen);
        }
    }
}
