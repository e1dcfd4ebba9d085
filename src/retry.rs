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

use backoff::SystemClock;
use backoff::backoff::Backoff as _;
use backoff::exponential::ExponentialBackoff;
use rand::Rng as _;

/// The shortest share of the nominal gap a jittered gap can be.
pub const JITTER_FLOOR: f64 = 0.5;

/// An endless sequence of jittered, exponentially growing gaps.
#[derive(Debug)]
pub struct Schedule {
    inner: ExponentialBackoff<SystemClock>,
}

impl Schedule {
    /// Gaps start at `initial` and double up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Schedule::with_multiplier(initial, max, 2.0)
    }

    /// Gaps start at `initial` and grow by `multiplier` up to `max`.
    pub fn with_multiplier(initial: Duration, max: Duration, multiplier: f64) -> Self {
        let inner = ExponentialBackoff {
            current_interval: initial,
            initial_interval: initial,
            // The crate's own jitter is symmetric and would overshoot `max`; ours is applied below.
            randomization_factor: 0.0,
            multiplier,
            max_interval: max.max(initial),
            max_elapsed_time: None,
            ..ExponentialBackoff::default()
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
    use super::{JITTER_FLOOR, Schedule};
    use std::time::Duration;

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
