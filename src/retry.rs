//! The one place that uses the `backoff` crate (the design card's choice).
//!
//! `backoff` is marked unmaintained (RUSTSEC-2025-0012, accepted in deny.toml); keeping every use
//! of it behind [`Schedule`] means it can be swapped for `backon` in this file alone. Both loops of
//! the program take their gaps from here: the Jira client's retries of transient failures and the
//! wait loop's polls.
//!
//! The nominal gaps grow exponentially from `initial` up to `max`; each gap actually slept is the
//! nominal one times a random factor in [`JITTER_FLOOR`, 1] ("equal jitter"). Jitter only ever
//! shortens a gap, so `max` stays a hard ceiling, and it is wide enough to spread a fleet of
//! pipelines that started in the same second (measured in docs/PERFORMANCE.md).

use std::time::Duration;

use backoff::backoff::Backoff as _;
use backoff::exponential::ExponentialBackoff;
use backoff::{Clock, SystemClock};
use rand::Rng as _;

/// The shortest share of the nominal gap a jittered gap can be.
pub const JITTER_FLOOR: f64 = 0.5;

/// An endless sequence of jittered, exponentially growing gaps. `C` is the clock the `backoff`
/// crate measures elapsed time with (the system clock; tests move a clock of their own).
#[derive(Debug)]
pub struct Schedule<C: Clock = SystemClock> {
    inner: ExponentialBackoff<C>,
}

impl Schedule {
    /// Gaps start at `initial` and double up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Schedule::with_multiplier(initial, max, 2.0)
    }

    /// Gaps start at `initial` and grow by `multiplier` up to `max`.
    pub fn with_multiplier(initial: Duration, max: Duration, multiplier: f64) -> Self {
        Schedule::with_clock(initial, max, multiplier, SystemClock::default())
    }
}

impl<C: Clock> Schedule<C> {
    /// Like [`Schedule::with_multiplier`], measuring elapsed time on `clock`.
    pub fn with_clock(initial: Duration, max: Duration, multiplier: f64, clock: C) -> Self {
        let start_time = clock.now();
        let inner = ExponentialBackoff {
            current_interval: initial,
            initial_interval: initial,
            // The crate's own jitter is symmetric and would overshoot `max`; ours is applied below.
            randomization_factor: 0.0,
            multiplier,
            max_interval: max.max(initial),
            // Never give up: the caller owns the deadline (`None` turns off the crate's 15 min).
            max_elapsed_time: None,
            start_time,
            clock,
        };
        Schedule { inner }
    }

    /// The next gap. Never ends: the caller owns the deadline.
    pub fn next_gap(&mut self) -> Duration {
        let nominal = self.inner.next_backoff().unwrap_or(self.inner.max_interval);
        jitter(nominal)
    }

    /// Starts again from the initial gap (after a success, or a change worth watching closely).
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}

/// A random share of `nominal`, anywhere in [0, `nominal`] ("full jitter"): for a first gap,
/// where nothing is known yet and spreading a fleet matters most.
pub fn full_jitter(nominal: Duration) -> Duration {
    nominal.mul_f64(rand::thread_rng().gen_range(0.0..=1.0))
}

/// `nominal` times a random factor in [`JITTER_FLOOR`, 1].
pub fn jitter(nominal: Duration) -> Duration {
    nominal.mul_f64(rand::thread_rng().gen_range(JITTER_FLOOR..=1.0))
}

#[cfg(test)]
mod tests {
    /// A clock the test moves by hand.
    #[derive(Debug, Clone, Default)]
    struct ManualClock(std::rc::Rc<std::cell::Cell<Duration>>);

    impl backoff::Clock for ManualClock {
        fn now(&self) -> std::time::Instant {
            // A fixed origin plus the hand-moved offset.
            thread_local!(static ORIGIN: std::time::Instant = std::time::Instant::now());
            ORIGIN.with(|origin| *origin + self.0.get())
        }
    }

    #[test]
    fn the_schedule_never_jumps_to_its_ceiling_after_fifteen_minutes() {
        // The backoff crate gives up after 15 min by default; then every gap would be `max` (an
        // hour here) although the nominal gap is still seconds.
        let clock = ManualClock::default();
        let mut schedule = super::Schedule::with_clock(
            Duration::from_secs(1),
            Duration::from_secs(3600),
            2.0,
            clock.clone(),
        );
        assert!(schedule.next_gap() <= Duration::from_secs(1));
        clock.0.set(Duration::from_secs(16 * 60));
        let gap = schedule.next_gap();
        assert!(gap <= Duration::from_secs(2), "{gap:?} after 16 minutes");
    }

    use super::{JITTER_FLOOR, Schedule, full_jitter, jitter};
    use std::time::Duration;

    /// How many draws the distribution tests take.
    const DRAWS: u32 = 10_000;

    /// The slack the distribution tests allow around an expected share or mean, as a fraction of
    /// the range drawn from. By Hoeffding's inequality a correct implementation misses one such
    /// bound with probability at most `2·exp(−2·DRAWS·SLACK²)` = `2·exp(−50)` ≈ 4e−22; with the 23
    /// bounds below the tests fail by chance with probability under 1e−20.
    const SLACK: f64 = 0.05;

    /// `count` as a share of [`DRAWS`].
    fn share_of_draws(count: usize) -> f64 {
        f64::from(u32::try_from(count).unwrap()) / f64::from(DRAWS)
    }

    /// `DRAWS` gaps from `draw(nominal)`, as shares of a 10 s nominal gap.
    fn shares(draw: fn(Duration) -> Duration) -> Vec<f64> {
        let nominal = Duration::from_secs(10);
        (0..DRAWS)
            .map(|_| draw(nominal).as_secs_f64() / nominal.as_secs_f64())
            .collect()
    }

    /// Asserts that `shares` look uniform on [`low`, `high`]: all inside, the mean in the middle,
    /// and each tenth of the range holding a tenth of the draws (within [`SLACK`]).
    fn assert_uniform(shares: &[f64], low: f64, high: f64) {
        assert_eq!(shares.len(), DRAWS as usize);
        for share in shares {
            assert!(
                (low - 1e-9..=high + 1e-9).contains(share),
                "{share} outside [{low}, {high}]"
            );
        }
        let width = high - low;
        let mean = shares.iter().sum::<f64>() / f64::from(DRAWS);
        let middle = low + width / 2.0;
        assert!(
            (mean - middle).abs() < SLACK * width,
            "mean share {mean}, want {middle}"
        );
        for tenth in 0..10 {
            let from = low + width * f64::from(tenth) / 10.0;
            let to = from + width / 10.0;
            let inside = shares.iter().filter(|s| (from..to).contains(*s)).count();
            assert!(
                (share_of_draws(inside) - 0.1).abs() < SLACK,
                "{inside} of {DRAWS} draws in [{from:.2}, {to:.2}), want about a tenth"
            );
        }
    }

    #[test]
    fn full_jitter_is_uniform_over_the_whole_gap() {
        assert_uniform(&shares(full_jitter), 0.0, 1.0);
    }

    #[test]
    fn the_first_poll_after_a_create_is_not_immediate() {
        // The wait loop sleeps `full_jitter(interval)` before its first poll. Expected share of
        // draws under 1 % of the interval: 0.01; bound 0.01 + SLACK (see SLACK for the odds).
        let shares = shares(full_jitter);
        let immediate = shares.iter().filter(|s| **s < 0.01).count();
        assert!(
            share_of_draws(immediate) < 0.01 + SLACK,
            "{immediate} of {DRAWS} first polls came within 1 % of the interval"
        );
    }

    #[test]
    fn jitter_is_uniform_between_the_floor_and_the_nominal_gap() {
        assert_uniform(&shares(jitter), JITTER_FLOOR, 1.0);
    }

    #[test]
    fn gaps_grow_to_the_ceiling_and_never_pass_it() {
        for _ in 0..20 {
            let mut schedule = Schedule::new(Duration::from_secs(1), Duration::from_secs(8));
            let gaps: Vec<f64> = (0..8).map(|_| schedule.next_gap().as_secs_f64()).collect();
            let nominal = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 8.0];
            for (gap, nominal) in gaps.iter().zip(nominal) {
                assert!(*gap >= nominal * JITTER_FLOOR - 1e-9, "{gaps:?}");
                assert!(*gap <= nominal + 1e-9, "{gaps:?}");
            }
            schedule.reset();
            assert!(schedule.next_gap() <= Duration::from_secs(1));
        }
    }

    #[test]
    fn jitter_spreads_a_fleet() {
        let firsts: Vec<Duration> = (0..50)
            .map(|_| Schedule::new(Duration::from_secs(10), Duration::from_secs(60)).next_gap())
            .collect();
        let distinct: std::collections::HashSet<_> = firsts.iter().collect();
        assert!(
            distinct.len() > 40,
            "jitter should spread first polls: {firsts:?}"
        );
        let (min, max) = (firsts.iter().min().unwrap(), firsts.iter().max().unwrap());
        assert!(
            max.as_secs_f64() - min.as_secs_f64() > 2.5,
            "spread over most of 5..10s: {min:?}..{max:?}"
        );
    }
}
