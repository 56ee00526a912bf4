//! Reconnect delays: exponential backoff with full jitter, reset after a link stayed up.

use std::time::Duration;

/// Exponential backoff between `min` and `max`, each delay drawn uniformly below the current
/// ceiling ("full jitter") so that many gateways restarting together do not reconnect in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9);
        Backoff {
            min,
            max: max.max(min),
            attempt: 0,
            rng: seed | 1,
        }
    }

    /// A deterministic sequence, for tests.
    pub fn with_seed(min: Duration, max: Duration, seed: u64) -> Self {
        Backoff {
            rng: seed | 1,
            ..Backoff::new(min, max)
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: plenty for jitter
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The delay before the next attempt: at least `min`, at most the current ceiling
    /// (`min * 2^attempt`, capped at `max`).
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self
            .min
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let span = ceiling.saturating_sub(self.min).as_millis() as u64;
        let extra = if span == 0 {
            0
        } else {
            self.next_random() % (span + 1)
        };
        self.min + Duration::from_millis(extra)
    }

    /// The link came up and stayed: start again from `min`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_within_bounds_and_reset() {
        let (min, max) = (Duration::from_millis(500), Duration::from_secs(30));
        let mut b = Backoff::with_seed(min, max, 42);
        let mut ceilings = Vec::new();
        for i in 0..12u32 {
            let d = b.next_delay();
            let ceiling = min.saturating_mul(1 << i).min(max);
            assert!(
                d >= min && d <= ceiling,
                "attempt {i}: {d:?} not in {min:?}..={ceiling:?}"
            );
            ceilings.push(ceiling);
        }
        assert_eq!(*ceilings.last().unwrap(), max);
        b.reset();
        assert!(b.next_delay() <= min);
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut b = Backoff::with_seed(Duration::from_millis(100), Duration::from_secs(60), 7);
        for _ in 0..6 {
            b.next_delay();
        }
        let delays: std::collections::HashSet<Duration> = (0..20).map(|_| b.next_delay()).collect();
        assert!(delays.len() > 10, "delays should differ: {delays:?}");
    }
}
