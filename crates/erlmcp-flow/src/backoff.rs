//! Exponential backoff with full jitter, capped.
//!
//! Why jitter, and why *full* jitter: clients that back off on the same schedule come back
//! at the same instant, and a recovering server meets them all at once. Spreading each
//! wait uniformly over `[0, min(cap, base × 2ⁿ)]` ("full jitter", from the AWS
//! architecture blog's *Exponential Backoff And Jitter*) spreads the herd best and does
//! the least total work of the usual schemes. The randomness comes from a caller's RNG,
//! so tests are deterministic with a seeded one.

use std::time::Duration;

use rand::Rng;

use crate::config::BackoffConfig;
use crate::error::InvalidConfig;

/// A capped exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Backoff {
    /// A backoff whose attempt `n` waits up to `min(cap, base × 2ⁿ)`.
    pub fn new(config: &BackoffConfig) -> Result<Self, InvalidConfig> {
        config.validate()?;
        Ok(Backoff {
            base: config.base,
            cap: config.cap,
        })
    }

    /// The ceiling of attempt `n` (counted from 0): `min(cap, base × 2ⁿ)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u128 << attempt.min(127);
        let nanos = self
            .base
            .as_nanos()
            .saturating_mul(factor)
            .min(self.cap.as_nanos());
        duration_from_nanos(nanos)
    }

    /// A delay for attempt `n`, uniform in `[0, ceiling(n)]`.
    pub fn delay<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=ceiling))
    }

    /// The configured base.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The configured cap.
    pub fn cap(&self) -> Duration {
        self.cap
    }
}

fn duration_from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    // The remainder is below 10⁹ and fits a u32.
    let sub = u32::try_from(nanos % NANOS_PER_SEC).unwrap_or(0);
    Duration::new(secs, sub)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    #[test]
    fn ceilings_double_then_stop_at_the_cap() {
        let backoff = Backoff::new(&BackoffConfig::default()).unwrap();
        assert_eq!(backoff.ceiling(0), Duration::from_millis(100));
        assert_eq!(backoff.ceiling(1), Duration::from_millis(200));
        assert_eq!(backoff.ceiling(8), Duration::from_millis(25_600));
        assert_eq!(backoff.ceiling(9), Duration::from_secs(30));
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn a_seeded_rng_gives_the_same_delays() {
        let backoff = Backoff::new(&BackoffConfig::default()).unwrap();
        let mut a = SmallRng::seed_from_u64(7);
        let mut b = SmallRng::seed_from_u64(7);
        for attempt in 0..20 {
            assert_eq!(
                backoff.delay(attempt, &mut a),
                backoff.delay(attempt, &mut b)
            );
        }
    }
}
