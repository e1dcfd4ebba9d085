//! The change window around the wait (issue 9, SPEC section 7): once the criteria approve, the
//! change goes only inside `approval.window` and outside every `approval.freeze`.
//!
//! [`Held`] wraps the run's [`IssueSource`] and answers [`IssueSource::hold`] from what the same
//! read brought (the window's fields are among the poll's fields, so no extra request) and the
//! clock, through the pure [`crate::window::state`]. `poll::wait` keeps reading at its cadence
//! while the window holds an approval, so a rejection still ends the wait with 3.
//!
//! A window field that is empty on the ticket counts as "not planned yet": the step keeps waiting
//! (one log line) for someone to fill it in, and ends blocked (7) if nobody does by the timeout.

use std::cell::RefCell;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value as Json;
use tokio::time::Instant;

use crate::criteria::Snapshot;
use crate::jira;
use crate::poll::{Hold, IssueSource};
use crate::stanza::{Approval, Bound, ChangeWindow};
use crate::window::{self, Freeze, State, Window};

/// Read a little after the window opens, so that the clock read then is surely past it.
const SLACK: Duration = Duration::from_millis(200);

/// The run's issue source with the window's say over approvals.
pub struct Held<'a, S> {
    inner: &'a S,
    key: &'a str,
    window: Option<&'a ChangeWindow>,
    freezes: &'a [Freeze],
    deadline: Instant,
    /// The last hold logged, so a line is written when it changes, not at every poll.
    logged: RefCell<Option<String>>,
}

impl<'a, S: IssueSource> Held<'a, S> {
    /// Wraps `inner`, reading the window and freezes of `approval`; the wait ends at `deadline`.
    pub fn new(inner: &'a S, key: &'a str, approval: &'a Approval, deadline: Instant) -> Self {
        Held {
            inner,
            key,
            window: approval.window.as_ref(),
            freezes: &approval.freeze,
            deadline,
            logged: RefCell::new(None),
        }
    }

    /// The hold at wall-clock `now` (which is `at` on the wait's clock).
    fn decide(&self, snapshot: &Snapshot, now: Timestamp, at: Instant) -> Hold {
        if self.window.is_none() && self.freezes.is_empty() {
            return Hold::Go;
        }
        let window = match self.bounds(snapshot) {
            Ok(window) => window,
            Err(hold) => return hold,
        };
        let zone = self.window.map(|w| &w.zone);
        let deadline = add(now, self.deadline.saturating_duration_since(at));
        match window::state(now, &window, self.freezes) {
            State::Open => {
                if self.logged.borrow_mut().take().is_some() {
                    tracing::info!(
                        "{}: the change may go now: inside its window, outside every freeze",
                        self.key
                    );
                }
                Hold::Go
            }
            State::Closed(end) => {
                let zone = zone.cloned().unwrap_or_else(window::Zone::utc);
                Hold::Block(if end <= now {
                    format!(
                        "approved, but the change window closed at {}",
                        zone.show(end)
                    )
                } else {
                    format!(
                        "approved, but the change window closes at {} before the freeze ends",
                        zone.show(end)
                    )
                })
            }
            State::WaitUntil(t) => {
                let zone = zone.cloned().unwrap_or_else(window::Zone::utc);
                let clock = Clock { now, at, deadline };
                self.until(
                    t,
                    &zone,
                    clock,
                    [
                        "approved, but the change window opens at",
                        "approved; waiting for the change window to open at",
                    ],
                    "",
                )
            }
            State::FrozenUntil(t) => {
                let freeze = self.freezes.iter().find(|f| f.active_until(now).is_some());
                let zone = freeze.map_or_else(window::Zone::utc, |f| f.zone().clone());
                let which = freeze.map(|f| format!(" ({})", f.describe()));
                let clock = Clock { now, at, deadline };
                self.until(
                    t,
                    &zone,
                    clock,
                    ["approved, but frozen until", "approved, but frozen until"],
                    &which.unwrap_or_default(),
                )
            }
        }
    }

    /// Waits until `t` (reading again then), or blocks when `t` comes after the deadline; the
    /// texts are the start of the blocked and of the waiting line, `which` their end.
    fn until(
        &self,
        t: Timestamp,
        zone: &window::Zone,
        clock: Clock,
        [late, waiting]: [&str; 2],
        which: &str,
    ) -> Hold {
        // The wait's last read comes before the deadline: a moment at it is already too late.
        if t >= clock.deadline {
            return Hold::Block(format!(
                "{late} {}, after the timeout at {}{which}",
                zone.show(t),
                zone.show(clock.deadline)
            ));
        }
        let until = clock.at + t.duration_since(clock.now).unsigned_abs() + SLACK;
        self.wait(Some(until), format!("{waiting} {}{which}", zone.show(t)))
    }

    /// The window's bounds on this read; a hold when a field of the ticket gives no time.
    fn bounds(&self, snapshot: &Snapshot) -> Result<Window, Hold> {
        match self.window.map(|w| bounds(w, snapshot)).transpose() {
            Ok(window) => Ok(window.unwrap_or_default()),
            Err(Unread::Empty(name)) => Err(self.wait(
                None,
                format!(
                    "approved, but the change window's field {name:?} is empty on {}; waiting for it to be planned",
                    self.key
                ),
            )),
            Err(Unread::Bad(name, text)) => Err(Hold::Block(format!(
                "approved, but the change window's field {name:?} on {} holds `{text}`, not a date-time",
                self.key
            ))),
        }
    }

    /// Keep waiting; the reason is logged once, when it changes.
    fn wait(&self, until: Option<Instant>, reason: String) -> Hold {
        let mut logged = self.logged.borrow_mut();
        if logged.as_deref() != Some(reason.as_str()) {
            tracing::info!("{}: {reason}", self.key);
            *logged = Some(reason.clone());
        }
        Hold::Wait { until, reason }
    }
}

impl<S: IssueSource> IssueSource for Held<'_, S> {
    async fn read(&self) -> Result<Snapshot, jira::Error> {
        self.inner.read().await
    }

    fn hold(&self, snapshot: &Snapshot) -> Hold {
        self.decide(snapshot, Timestamp::now(), Instant::now())
    }
}

/// The same moment on the wall clock (`now`) and on the wait's clock (`at`), and the deadline
/// on the wall clock.
#[derive(Clone, Copy)]
struct Clock {
    now: Timestamp,
    at: Instant,
    deadline: Timestamp,
}

/// The field ids the window reads, to add to the poll's fields.
pub fn field_ids(window: Option<&ChangeWindow>) -> Vec<String> {
    window
        .into_iter()
        .flat_map(|w| [&w.start, &w.end])
        .filter_map(|b| match b {
            Bound::Field { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// Why a window field gave no time.
enum Unread {
    /// The field is empty (null, missing or blank): name.
    Empty(String),
    /// It holds something else: name, text.
    Bad(String, String),
}

/// The window's bounds on this read of the ticket.
fn bounds(window: &ChangeWindow, snapshot: &Snapshot) -> Result<Window, Unread> {
    let side = |bound: &Bound| -> Result<Option<Timestamp>, Unread> {
        match bound {
            Bound::Open => Ok(None),
            Bound::At(t) => Ok(Some(*t)),
            Bound::Field { name, id } => match snapshot.fields.get(id) {
                None | Some(Json::Null) => Err(Unread::Empty(name.clone())),
                Some(Json::String(text)) if text.trim().is_empty() => {
                    Err(Unread::Empty(name.clone()))
                }
                Some(Json::String(text)) => window
                    .zone
                    .parse_date_or_time(text, false)
                    .map(Some)
                    .map_err(|_| Unread::Bad(name.clone(), text.clone())),
                Some(other) => Err(Unread::Bad(name.clone(), other.to_string())),
            },
        }
    };
    Ok(Window {
        start: side(&window.start)?,
        end: side(&window.end)?,
    })
}

/// `t` plus a duration, saturating at jiff's range.
fn add(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{Pattern, Zone};

    /// Never read: the tests ask the hold only.
    struct NoReads;

    impl IssueSource for NoReads {
        async fn read(&self) -> Result<Snapshot, jira::Error> {
            unreachable!("the hold is asked without a read")
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn planned(start: Option<&str>, end: Option<&str>) -> Snapshot {
        let mut fields = serde_json::Map::new();
        for (id, value) in [("customfield_10060", start), ("customfield_10061", end)] {
            fields.insert(
                id.into(),
                value.map_or(Json::Null, |v| Json::String(v.into())),
            );
        }
        Snapshot {
            status: "Approved".into(),
            fields,
            ..Snapshot::default()
        }
    }

    fn fields_window() -> ChangeWindow {
        ChangeWindow {
            start: Bound::Field {
                name: "Planned start".into(),
                id: "customfield_10060".into(),
            },
            end: Bound::Field {
                name: "Planned end".into(),
                id: "customfield_10061".into(),
            },
            zone: Zone::named("Europe/Berlin").unwrap(),
        }
    }

    /// The hold at `now` for a wait whose deadline is `left` away.
    fn hold_at(
        window: Option<&ChangeWindow>,
        freezes: &[Freeze],
        snapshot: &Snapshot,
        now: &str,
        left: Duration,
    ) -> (Hold, Instant) {
        let start = Instant::now();
        let held = Held {
            inner: &NoReads,
            key: "OPS-1",
            window,
            freezes,
            deadline: start + left,
            logged: RefCell::new(None),
        };
        (held.decide(snapshot, at(now), start), start)
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_tickets_fields_open_and_close_the_window() {
        let window = fields_window();
        let ticket = planned(
            Some("2026-12-05T02:00:00.000+0100"),
            Some("2026-12-05T04:00:00.000+0100"),
        );
        // Half an hour early, an hour left: wait for the opening, in Berlin time and UTC.
        let (hold, start) = hold_at(Some(&window), &[], &ticket, "2026-12-05T00:30:00Z", HOUR);
        let Hold::Wait { until, reason } = hold else {
            panic!("{hold:?}")
        };
        assert_eq!(until, Some(start + Duration::from_secs(30 * 60) + SLACK));
        assert_eq!(
            reason,
            "approved; waiting for the change window to open at 2026-12-05 02:00:00 CET (Europe/Berlin) = 2026-12-05 01:00:00 UTC"
        );
        // Only ten minutes left: blocked at once.
        let (hold, _) = hold_at(
            Some(&window),
            &[],
            &ticket,
            "2026-12-05T00:30:00Z",
            Duration::from_secs(600),
        );
        assert!(
            matches!(&hold, Hold::Block(r) if r.contains("opens at 2026-12-05 02:00:00 CET") && r.contains("after the timeout at 2026-12-05 01:40:00 CET")),
            "{hold:?}"
        );
        // Inside: go. After: closed.
        let (hold, _) = hold_at(Some(&window), &[], &ticket, "2026-12-05T01:30:00Z", HOUR);
        assert_eq!(hold, Hold::Go);
        let (hold, _) = hold_at(Some(&window), &[], &ticket, "2026-12-05T03:00:00Z", HOUR);
        assert_eq!(
            hold,
            Hold::Block(
                "approved, but the change window closed at 2026-12-05 04:00:00 CET (Europe/Berlin) = 2026-12-05 03:00:00 UTC"
                    .into()
            )
        );
    }

    #[test]
    fn the_poll_reads_the_fields_the_window_names() {
        assert_eq!(
            field_ids(Some(&fields_window())),
            ["customfield_10060", "customfield_10061"]
        );
        let fixed = ChangeWindow {
            start: Bound::At(at("2026-12-05T01:00:00Z")),
            end: Bound::Open,
            zone: Zone::named("UTC").unwrap(),
        };
        assert!(field_ids(Some(&fixed)).is_empty());
        assert!(field_ids(None).is_empty());
    }

    #[test]
    fn a_window_opening_at_the_deadline_blocks_at_once() {
        let window = fields_window();
        let ticket = planned(
            Some("2026-12-05T02:00:00.000+0100"),
            Some("2026-12-05T04:00:00.000+0100"),
        );
        let (hold, _) = hold_at(
            Some(&window),
            &[],
            &ticket,
            "2026-12-05T00:30:00Z",
            Duration::from_secs(30 * 60),
        );
        assert!(matches!(&hold, Hold::Block(_)), "{hold:?}");
    }

    #[test]
    fn the_waiting_line_is_logged_once_per_reason() {
        let window = fields_window();
        let start = Instant::now();
        let held = Held {
            inner: &NoReads,
            key: "OPS-1",
            window: Some(&window),
            freezes: &[],
            deadline: start + HOUR,
            logged: RefCell::new(None),
        };
        let ticket = planned(
            Some("2026-12-05T02:00:00.000+0100"),
            Some("2026-12-05T04:00:00.000+0100"),
        );
        let Hold::Wait { reason, .. } = held.decide(&ticket, at("2026-12-05T00:30:00Z"), start)
        else {
            panic!("not a wait")
        };
        assert!(
            reason.contains("waiting for the change window to open"),
            "{reason}"
        );
        assert_eq!(held.logged.borrow().as_deref(), Some(reason.as_str()));
    }

    /// The hold passes reads through untouched.
    struct Reads;

    impl IssueSource for Reads {
        async fn read(&self) -> Result<Snapshot, jira::Error> {
            Ok(Snapshot {
                status: "Approved".into(),
                ..Snapshot::default()
            })
        }
    }

    #[tokio::test]
    async fn reads_go_through_the_hold() {
        let held = Held {
            inner: &Reads,
            key: "OPS-1",
            window: None,
            freezes: &[],
            deadline: Instant::now() + HOUR,
            logged: RefCell::new(None),
        };
        assert_eq!(held.read().await.unwrap().status, "Approved");
    }

    #[test]
    fn an_empty_field_waits_and_a_wrong_one_blocks() {
        let window = fields_window();
        // A blank text is as empty as no value.
        let (hold, _) = hold_at(
            Some(&window),
            &[],
            &planned(Some("  "), None),
            "2026-12-05T00:30:00Z",
            HOUR,
        );
        assert!(matches!(&hold, Hold::Wait { until: None, .. }), "{hold:?}");
        let (hold, _) = hold_at(
            Some(&window),
            &[],
            &planned(None, Some("2026-12-05T04:00:00.000+0100")),
            "2026-12-05T00:30:00Z",
            HOUR,
        );
        assert!(
            matches!(&hold, Hold::Wait { until: None, reason } if reason.contains("field \"Planned start\" is empty on OPS-1")),
            "{hold:?}"
        );
        let (hold, _) = hold_at(
            Some(&window),
            &[],
            &planned(Some("soon"), None),
            "2026-12-05T00:30:00Z",
            HOUR,
        );
        assert!(
            matches!(&hold, Hold::Block(r) if r.contains("holds `soon`, not a date-time")),
            "{hold:?}"
        );
    }

    #[test]
    fn a_freeze_waits_or_blocks_and_no_window_goes() {
        let weekend = [Freeze::Cron {
            start: Pattern::parse("0 18 * * FRI").unwrap(),
            end: Pattern::parse("0 8 * * MON").unwrap(),
            zone: Zone::named("Europe/Berlin").unwrap(),
        }];
        let ticket = planned(None, None);
        // Monday 07:30 Berlin: frozen for half an hour more.
        let (hold, start) = hold_at(None, &weekend, &ticket, "2026-12-07T06:30:00Z", HOUR);
        let Hold::Wait { until, reason } = hold else {
            panic!("{hold:?}")
        };
        assert_eq!(until, Some(start + Duration::from_secs(30 * 60) + SLACK));
        assert!(
            reason.starts_with("approved, but frozen until 2026-12-07 08:00:00 CET (Europe/Berlin) = 2026-12-07 07:00:00 UTC"),
            "{reason}"
        );
        // Saturday: the freeze lasts past an hour's timeout.
        let (hold, _) = hold_at(None, &weekend, &ticket, "2026-12-05T12:00:00Z", HOUR);
        assert!(
            matches!(&hold, Hold::Block(r) if r.starts_with("approved, but frozen until 2026-12-07 08:00:00 CET")),
            "{hold:?}"
        );
        // Neither a window nor a freeze: every approval goes.
        let (hold, _) = hold_at(None, &[], &ticket, "2026-12-05T12:00:00Z", HOUR);
        assert_eq!(hold, Hold::Go);
    }
}
