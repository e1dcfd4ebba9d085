//! The wait: read the issue, evaluate the criteria, sleep, until a decision or the deadline.
//!
//! This loop waits for a *decision*; retrying transient HTTP failures is the client's loop
//! (STYLE.md section 6). Gaps start at `interval` and grow by half each poll up to `max_interval`,
//! jittered so that many pipelines started together spread their requests; a status change
//! resets them to `interval`, because a ticket that moves is likely to move again soon. One log
//! line per status change, and a heartbeat at most once a minute while nothing changes.
//!
//! Generic over [`IssueSource`] so it can be tested with a fake and paused tokio time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::criteria::{self, Criteria, Snapshot, Verdict};
use crate::jira;
use crate::retry::Schedule;

/// How often a line is logged while nothing changes.
pub const HEARTBEAT: Duration = Duration::from_secs(60);

/// Something that can read the issue's current state in one request.
pub trait IssueSource {
    /// A fresh, complete read. Errors never decide.
    fn read(&self) -> impl std::future::Future<Output = Result<Snapshot, jira::Error>>;

    /// Asked when the criteria approve `snapshot`: may the change go now? By default it may; the
    /// change window holds it (issue 9, `crate::hold`).
    fn hold(&self, _snapshot: &Snapshot) -> Hold {
        Hold::Go
    }
}

/// What an approval waits for besides the criteria (issue 9: the change window and freezes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// The approval is final.
    Go,
    /// Keep reading at the cadence (a rejection still ends the wait), reading again by `until`
    /// at the latest; when the deadline comes first, the wait ends blocked with `reason`.
    Wait {
        /// When the hold lifts, if known.
        until: Option<Instant>,
        /// Why the change may not go yet.
        reason: String,
    },
    /// The change may not go before the deadline: the wait ends now.
    Block(String),
}

/// How the wait ended.
#[derive(Debug)]
pub enum End {
    /// The criteria decided.
    Decided(Verdict),
    /// The deadline passed while pending.
    TimedOut,
    /// A read failed permanently (or Jira stayed unreachable past the deadline).
    Failed(jira::Error),
    /// Approved, but held past the deadline (issue 9): why.
    Blocked(String),
}

/// What the wait saw; kept outside the future so a cancelled wait still reports it.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Successful reads.
    pub polls: u32,
    /// The last successful read.
    pub last: Option<Snapshot>,
}

/// What decides: the approve criteria and, when set, the reject criteria.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Approved when this matches.
    pub approve: &'a Criteria,
    /// Rejected when this matches.
    pub reject: Option<&'a Criteria>,
    /// Which is checked first when both match.
    pub order: crate::criteria::Order,
}

/// How often the wait reads, what wakes it early, and the timeout it names in its log line.
#[derive(Debug, Clone, Copy)]
pub struct Cadence<'a> {
    /// The first gap, and the gap after a status change.
    pub interval: Duration,
    /// The longest gap.
    pub max_interval: Duration,
    /// The step's timeout (the wait ends at the `deadline` it was given).
    pub timeout: Duration,
    /// Ends a gap early for an immediate read (a webhook about the issue, SPEC section 10); the
    /// gaps go on as the safety net for lost events.
    pub wake: Option<&'a Bell>,
}

/// How long a wake-up waits for the rest of a burst of events before it reads: every event
/// counted before a read begins is answered by that read, so a burst costs one read.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Where webhook events ring (issue 12): it counts them and wakes the wait. A read answers every
/// event counted before it began; an event counted during a read (it may describe a change the
/// read missed) wakes one more read.
#[derive(Debug, Default)]
pub struct Bell {
    rung: AtomicU64,
    notify: Notify,
}

impl Bell {
    /// One verified event about the issue.
    pub fn ring(&self) {
        self.rung.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Events so far.
    pub fn count(&self) -> u64 {
        self.rung.load(Ordering::SeqCst)
    }
}

/// Waits for a decision on `key` until `deadline`, recording progress in `seen`.
pub async fn wait<S: IssueSource>(
    source: &S,
    key: &str,
    rules: Rules<'_>,
    cadence: Cadence<'_>,
    deadline: Instant,
    first_read_now: bool,
    seen: &mut Seen,
) -> End {
    let mut schedule = Schedule::with_multiplier(cadence.interval, cadence.max_interval, 1.5);
    let started = Instant::now();
    log_start(key, &rules, &cadence);
    let mut progress = Progress {
        started,
        last_line: started,
        warned_done: false,
    };
    // Just before the deadline there is one last read (`FINAL_READ_LEAD` early, so that it ends
    // by the deadline), so an approval in the last gap is not missed.
    let last_read = deadline
        .checked_sub(FINAL_READ_LEAD)
        .unwrap_or(deadline)
        .max(started);
    let mut last_round = false;
    // Whether the change window holds an approval (issue 9).
    let mut held = Hold::Go;
    // Events before the wait are about this run's own writes; the first read answers them.
    let mut answered = cadence.wake.map_or(0, Bell::count);
    if !first_read_now {
        // A ticket this run just created cannot be decided yet; a jittered first gap spreads the
        // polls of pipelines that started together from the first one on.
        let gap = crate::retry::full_jitter(cadence.interval);
        last_round = sleep_within(gap, last_read, cadence.wake, answered).await;
    }
    loop {
        answered = cadence.wake.map_or(0, Bell::count);
        match source.read().await {
            Ok(snapshot) => {
                seen.polls += 1;
                let verdict =
                    criteria::decide_in(rules.order, rules.approve, rules.reject, &snapshot);
                if progress.note(key, &snapshot, seen.last.as_ref(), &verdict, seen.polls) {
                    schedule.reset();
                }
                seen.last = Some(snapshot);
                held = hold_of(source, &verdict, seen.last.as_ref());
                if let Some(end) = ending(verdict, &held) {
                    return end;
                }
            }
            // A read without a status is not a decision, nor a reason to give up.
            Err(e @ jira::Error::Protocol { .. }) => {
                tracing::warn!("ignoring an incomplete read: {e}");
            }
            Err(e) => return End::Failed(e),
        }
        if last_round {
            tokio::time::sleep_until(deadline).await;
            return timed_out(held);
        }
        last_round = sleep_within(
            gap_by(&held, &mut schedule),
            last_read,
            cadence.wake,
            answered,
        )
        .await;
    }
}

/// The wait's opening line: what it waits for and at which cadence.
fn log_start(key: &str, rules: &Rules<'_>, cadence: &Cadence<'_>) {
    tracing::info!(
        "waiting for {key}: approve when {}{}; polling every {} up to {}, timeout {}",
        rules.approve.describe(),
        rules
            .reject
            .map(|r| format!(", reject when {}", r.describe()))
            .unwrap_or_default(),
        humantime::format_duration(cadence.interval),
        humantime::format_duration(cadence.max_interval),
        humantime::format_duration(cadence.timeout),
    );
}

/// The wait's log of what the reads saw: a line per status change, a heartbeat, one warning.
struct Progress {
    started: Instant,
    last_line: Instant,
    warned_done: bool,
}

impl Progress {
    /// Logs what a read saw; true when the status changed since `previous`.
    fn note(
        &mut self,
        key: &str,
        snapshot: &Snapshot,
        previous: Option<&Snapshot>,
        verdict: &Verdict,
        polls: u32,
    ) -> bool {
        let changed = previous.is_none_or(|l| l.status != snapshot.status);
        if changed {
            tracing::info!("{key} is \"{}\" ({})", snapshot.status, snapshot.category);
            self.last_line = Instant::now();
        } else if self.last_line.elapsed() >= HEARTBEAT {
            tracing::info!(
                "still waiting: {key} is \"{}\" after {}, {polls} polls",
                snapshot.status,
                humantime::format_duration(Duration::from_secs(self.started.elapsed().as_secs()))
            );
            self.last_line = Instant::now();
        }
        // Issue 8 #4: a closed ticket that no criterion matches will likely never be decided;
        // say so once, and keep waiting (it may be reopened).
        if *verdict == Verdict::Pending && snapshot.category == "done" && !self.warned_done {
            self.warned_done = true;
            tracing::warn!(
                "{key} is \"{}\", a done status that matches neither criterion; still waiting until the timeout (hint: add it to approve_when or reject_when)",
                snapshot.status
            );
        }
        changed
    }
}

/// What the change window says about `verdict` on `snapshot`: only an approval can be held.
fn hold_of<S: IssueSource>(source: &S, verdict: &Verdict, snapshot: Option<&Snapshot>) -> Hold {
    match snapshot.filter(|_| *verdict == Verdict::Approved) {
        Some(snapshot) => source.hold(snapshot),
        None => Hold::Go,
    }
}

/// The end of the wait after a read, if it ends: a decision the window lets through, or a block.
fn ending(verdict: Verdict, held: &Hold) -> Option<End> {
    match held {
        Hold::Block(reason) => Some(End::Blocked(reason.clone())),
        Hold::Wait { .. } => None,
        Hold::Go => (verdict != Verdict::Pending).then_some(End::Decided(verdict)),
    }
}

/// The end at the deadline: blocked when the window still held an approval, else timed out.
fn timed_out(held: Hold) -> End {
    match held {
        Hold::Wait { reason, .. } | Hold::Block(reason) => End::Blocked(reason),
        Hold::Go => End::TimedOut,
    }
}

/// The next gap, ending when a held approval's window opens if that comes first.
fn gap_by(held: &Hold, schedule: &mut Schedule) -> Duration {
    let gap = schedule.next_gap();
    match held {
        Hold::Wait {
            until: Some(until), ..
        } => gap.min(until.saturating_duration_since(Instant::now())),
        _ => gap,
    }
}

/// How long before the deadline the last read starts: it must answer by the deadline, which the
/// client enforces (the timeout is a hard bound).
pub const FINAL_READ_LEAD: Duration = Duration::from_secs(1);

/// Sleeps for `gap`, or only until `deadline` when that comes first; true in the second case.
/// An event the last read did not answer (the bell's count above `answered`) ends the sleep after
/// [`DEBOUNCE`], for the rest of its burst (and it is not the last round: the deadline has not
/// come). A wake-up for events already answered goes back to sleep.
async fn sleep_within(
    gap: Duration,
    deadline: Instant,
    wake: Option<&Bell>,
    answered: u64,
) -> bool {
    let last = Instant::now() + gap >= deadline;
    let until = if last { deadline } else { Instant::now() + gap };
    let Some(bell) = wake else {
        tokio::time::sleep_until(until).await;
        return last;
    };
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(until) => return last,
            () = bell.notify.notified() => {
                if bell.count() == answered {
                    continue;
                }
                tracing::debug!("woken for an immediate read");
                let settled = (Instant::now() + DEBOUNCE).min(until);
                tokio::time::sleep_until(settled).await;
                return last && settled >= until;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Statuses to return, one per read; the last one repeats.
    struct Script(RefCell<Vec<Result<&'static str, u16>>>);

    impl IssueSource for Script {
        async fn read(&self) -> Result<Snapshot, jira::Error> {
            let mut script = self.0.borrow_mut();
            let next = if script.len() > 1 {
                script.remove(0)
            } else {
                script[0]
            };
            match next {
                Ok(status) => Ok(Snapshot {
                    status: status.into(),
                    category: "indeterminate".into(),
                    ..Snapshot::default()
                }),
                Err(code) => Err(jira::Error::Status {
                    method: "GET".into(),
                    path: "/x".into(),
                    status: code,
                    detail: "gone".into(),
                }),
            }
        }
    }

    /// Waits on "Approved" / "Rejected" until `deadline`, gaps growing from `interval` to `max`.
    async fn wait_on<S: IssueSource>(
        source: &S,
        (interval, max_interval): (Duration, Duration),
        deadline: Instant,
        first_read_now: bool,
        seen: &mut Seen,
    ) -> End {
        let approve = Criteria::Status(vec!["Approved".into()]);
        let reject = Criteria::Status(vec!["Rejected".into()]);
        let rules = Rules {
            approve: &approve,
            reject: Some(&reject),
            order: crate::criteria::Order::RejectionFirst,
        };
        let cadence = Cadence {
            interval,
            max_interval,
            timeout: deadline - Instant::now(),
            wake: None,
        };
        wait(
            source,
            "OPS-1",
            rules,
            cadence,
            deadline,
            first_read_now,
            seen,
        )
        .await
    }

    /// Waits on "Approved" / "Rejected", polling every 10s up to 60s.
    async fn wait_for(source: &Script, timeout: u64, first_read_now: bool, seen: &mut Seen) -> End {
        let gaps = (Duration::from_secs(10), Duration::from_secs(60));
        let deadline = Instant::now() + Duration::from_secs(timeout);
        wait_on(source, gaps, deadline, first_read_now, seen).await
    }

    #[tokio::test(start_paused = true)]
    async fn decides_after_the_status_changes() {
        let source = Script(RefCell::new(vec![
            Ok("Waiting"),
            Ok("Waiting"),
            Ok("Approved"),
        ]));
        let mut seen = Seen::default();
        let end = wait_for(&source, 3600, true, &mut seen).await;
        assert!(matches!(end, End::Decided(Verdict::Approved)), "{end:?}");
        assert_eq!(seen.polls, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wake_ends_the_gap_and_a_burst_costs_one_read() {
        let source = Script(RefCell::new(vec![
            Ok("Waiting"),
            Ok("Waiting"),
            Ok("Approved"),
        ]));
        let approve = Criteria::Status(vec!["Approved".into()]);
        let rules = Rules {
            approve: &approve,
            reject: None,
            order: crate::criteria::Order::RejectionFirst,
        };
        let bell = Bell::default();
        // Two events about the run's own writes, before the wait: the first read answers them.
        bell.ring();
        bell.ring();
        let cadence = Cadence {
            interval: Duration::from_secs(60),
            max_interval: Duration::from_secs(600),
            timeout: Duration::from_secs(3600),
            wake: Some(&bell),
        };
        let start = Instant::now();
        let mut seen = Seen::default();
        let deadline = start + cadence.timeout;
        let events = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            for _ in 0..5 {
                bell.ring();
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        };
        let (end, ()) = tokio::join!(
            wait(&source, "OPS-1", rules, cadence, deadline, true, &mut seen),
            events
        );
        assert!(matches!(end, End::Decided(Verdict::Approved)), "{end:?}");
        // The read at once, one read for the burst (after `DEBOUNCE`), then the 60s gap: a second
        // read for the burst, or one for the events before the wait, would have been the third,
        // "Approved", within two seconds.
        assert_eq!(seen.polls, 3, "a burst of five events costs one read");
        let took = Instant::now() - start;
        assert!(
            (Duration::from_secs(30)..Duration::from_secs(200)).contains(&took),
            "one read at 1.2s, then a gap of 60s or more (jittered, growing): {took:?}"
        );
    }

    /// An event that comes while a read is under way wakes one more read: it may describe a
    /// change the read began too early to see.
    #[tokio::test(start_paused = true)]
    async fn an_event_during_a_read_wakes_one_more() {
        struct Slow<'a>(&'a Bell, RefCell<u32>);
        impl IssueSource for Slow<'_> {
            async fn read(&self) -> Result<Snapshot, jira::Error> {
                *self.1.borrow_mut() += 1;
                let n = *self.1.borrow();
                if n == 2 {
                    self.0.ring();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(Snapshot {
                    status: if n >= 3 { "Approved" } else { "Waiting" }.into(),
                    ..Snapshot::default()
                })
            }
        }
        let bell = Bell::default();
        let source = Slow(&bell, RefCell::new(0));
        let approve = Criteria::Status(vec!["Approved".into()]);
        let rules = Rules {
            approve: &approve,
            reject: None,
            order: crate::criteria::Order::RejectionFirst,
        };
        let cadence = Cadence {
            interval: Duration::from_secs(60),
            max_interval: Duration::from_secs(60),
            timeout: Duration::from_secs(3600),
            wake: Some(&bell),
        };
        let start = Instant::now();
        let deadline = start + cadence.timeout;
        let events = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            bell.ring();
        };
        let mut seen = Seen::default();
        let (end, ()) = tokio::join!(
            wait(&source, "OPS-1", rules, cadence, deadline, true, &mut seen),
            events
        );
        assert!(matches!(end, End::Decided(Verdict::Approved)), "{end:?}");
        assert_eq!(seen.polls, 3);
        assert!(
            Instant::now() - start < Duration::from_secs(2),
            "{:?}",
            Instant::now() - start
        );
    }

    #[tokio::test(start_paused = true)]
    async fn rejects_and_times_out_and_fails() {
        let mut seen = Seen::default();
        let source = Script(RefCell::new(vec![Ok("Rejected")]));
        let end = wait_for(&source, 60, true, &mut seen).await;
        assert!(matches!(end, End::Decided(Verdict::Rejected)));

        let start = Instant::now();
        let mut seen = Seen::default();
        let source = Script(RefCell::new(vec![Ok("Waiting")]));
        let end = wait_for(&source, 120, false, &mut seen).await;
        assert!(matches!(end, End::TimedOut));
        assert_eq!(
            Instant::now() - start,
            Duration::from_secs(120),
            "ends exactly at the deadline"
        );
        let polls = seen.polls;
        assert!(
            (4..=8).contains(&polls),
            "gaps grow from 10s toward 60s: {polls} polls in 120s"
        );

        let mut seen = Seen::default();
        let source = Script(RefCell::new(vec![Ok("Waiting"), Err(404)]));
        let end = wait_for(&source, 600, true, &mut seen).await;
        assert!(matches!(end, End::Failed(e) if e.is_not_found()));
        assert_eq!(seen.last.as_ref().unwrap().status, "Waiting");
    }

    /// Approves at the first read, and records when each read happened.
    struct Timed(RefCell<Vec<Instant>>);

    impl IssueSource for Timed {
        async fn read(&self) -> Result<Snapshot, jira::Error> {
            self.0.borrow_mut().push(Instant::now());
            Ok(Snapshot {
                status: "Approved".into(),
                ..Snapshot::default()
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn only_a_ticket_just_created_waits_before_the_first_read() {
        for first_read_now in [true, false] {
            let start = Instant::now();
            let source = Timed(RefCell::default());
            let deadline = start + Duration::from_secs(600);
            let end = wait_on(
                &source,
                (Duration::from_secs(10), Duration::from_secs(10)),
                deadline,
                first_read_now,
                &mut Seen::default(),
            )
            .await;
            assert!(matches!(end, End::Decided(Verdict::Approved)), "{end:?}");
            let first = source.0.borrow()[0] - start;
            if first_read_now {
                assert_eq!(first, Duration::ZERO, "an existing ticket is read at once");
            } else {
                // A full-jitter share of the 10 s interval (zero only with odds of 2^-53).
                assert!(
                    first > Duration::ZERO && first <= Duration::from_secs(10),
                    "{first:?}"
                );
            }
        }
    }

    /// Approved at every read; the change window opens at `opens` (issue 9).
    struct Windowed {
        opens: Option<Instant>,
        reads: RefCell<Vec<Instant>>,
    }

    impl IssueSource for Windowed {
        async fn read(&self) -> Result<Snapshot, jira::Error> {
            self.reads.borrow_mut().push(Instant::now());
            Ok(Snapshot {
                status: "Approved".into(),
                ..Snapshot::default()
            })
        }

        fn hold(&self, _snapshot: &Snapshot) -> Hold {
            match self.opens {
                Some(opens) if Instant::now() >= opens => Hold::Go,
                until => Hold::Wait {
                    until,
                    reason: "not open yet".into(),
                },
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_approval_goes_when_the_window_opens_not_at_the_next_gap() {
        let start = Instant::now();
        let source = Windowed {
            opens: Some(start + Duration::from_secs(25)),
            reads: RefCell::default(),
        };
        let deadline = start + Duration::from_secs(600);
        let gaps = (Duration::from_secs(60), Duration::from_secs(60));
        let mut seen = Seen::default();
        let end = wait_on(&source, gaps, deadline, true, &mut seen).await;
        assert!(matches!(end, End::Decided(Verdict::Approved)), "{end:?}");
        assert_eq!(Instant::now() - start, Duration::from_secs(25));
        assert_eq!(seen.polls, 2, "{:?}", source.reads.borrow());
    }

    #[tokio::test(start_paused = true)]
    async fn an_approval_held_at_the_deadline_ends_blocked() {
        let start = Instant::now();
        let source = Windowed {
            opens: None,
            reads: RefCell::default(),
        };
        let mut seen = Seen::default();
        let end = wait_for_windowed(&source, start + Duration::from_secs(120), &mut seen).await;
        assert!(
            matches!(&end, End::Blocked(r) if r == "not open yet"),
            "{end:?}"
        );
        assert_eq!(Instant::now() - start, Duration::from_secs(120));
        assert!(seen.polls >= 3, "kept reading while held: {}", seen.polls);
    }

    async fn wait_for_windowed(source: &Windowed, deadline: Instant, seen: &mut Seen) -> End {
        let gaps = (Duration::from_secs(10), Duration::from_secs(30));
        wait_on(source, gaps, deadline, true, seen).await
    }

    /// What `tracing` writes while a test holds the subscriber `capture` returns.
    #[derive(Clone, Default)]
    struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Waits 300 s on a ticket that stays "Waiting", polling about every second; returns what
    /// was logged.
    async fn log_of_five_quiet_minutes() -> String {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        // Another test thread may have met the call sites first, with no subscriber: ask again.
        tracing::callsite::rebuild_interest_cache();
        let source = Script(RefCell::new(vec![Ok("Waiting")]));
        let mut seen = Seen::default();
        let deadline = Instant::now() + Duration::from_secs(300);
        let end = wait_on(
            &source,
            (Duration::from_secs(1), Duration::from_secs(1)),
            deadline,
            true,
            &mut seen,
        )
        .await;
        assert!(matches!(end, End::TimedOut), "{end:?}");
        assert!(seen.polls > 250, "{} polls", seen.polls);
        String::from_utf8(logs.0.lock().unwrap().clone()).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn while_nothing_changes_one_line_a_minute() {
        // A thread-local subscriber can miss a call site that another test thread registers at
        // the same moment (tracing's interest cache is shared): about 1 run in 150 logged no
        // "still waiting" line at all. Such a run is taken again; the mutant this test is for
        // logs one line per poll, hundreds.
        for _ in 0..3 {
            let text = log_of_five_quiet_minutes().await;
            let lines = text.matches("still waiting").count();
            if lines == 0 {
                continue;
            }
            // One after each minute without a change: at about 60, 120, 180 and 240 s (and
            // 300 s when the jitter lands the fourth exactly on 240 s).
            assert!((4..=5).contains(&lines), "{lines} lines:\n{text}");
            return;
        }
        panic!("three runs in a row logged nothing");
    }
}
