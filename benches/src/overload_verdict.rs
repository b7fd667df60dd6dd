//! The overload harness's pass/fail rules, apart from the run that measures the figures.
//!
//! The `overload` binary measures; this module decides. A run fails when flow control did
//! not hold (the queue above its cap, memory growing beyond its bound), when the slow-
//! consumer policy never acted, when the healthy neighbour was disturbed, or when the run
//! did not overload the server at all (producer less than `min_ratio` × the consumer, or
//! the overload lapsing for longer than `max_idle_ms` at a stretch). Every broken rule is
//! reported, not only the first, so one run says everything that went wrong.

use serde::Serialize;

/// The bounds a run is held to.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limits {
    /// Per-session queue cap, messages.
    pub queue_cap: usize,
    /// Largest allowed RSS growth over the baseline taken before the clients start, KiB.
    pub max_rss_growth_kib: u64,
    /// Largest allowed RSS drift between the peak of the first half of the run and the
    /// peak of the second half, KiB: under a sustained, bounded overload memory plateaus.
    pub max_rss_drift_kib: u64,
    /// Smallest producer/consumer rate ratio that counts as overload.
    pub min_ratio: f64,
    /// Longest stretch without anything queued for the slow session, ms: the overload
    /// must be sustained, not a burst at the start.
    pub max_idle_ms: u64,
}

/// What a run observed (the figures the summary reports).
#[derive(Debug, Clone, Copy)]
pub struct Observed {
    /// Largest sampled queue length of any session, messages.
    pub peak_queue: usize,
    /// RSS before the clients started, KiB.
    pub baseline_rss_kib: u64,
    /// Largest sampled RSS, KiB.
    pub peak_rss_kib: u64,
    /// Largest sampled RSS in the first half of the run, KiB.
    pub first_half_peak_rss_kib: u64,
    /// Largest sampled RSS in the second half of the run, KiB.
    pub second_half_peak_rss_kib: u64,
    /// Times the server ended the slow client's session (seen by either side).
    pub slow_disconnects: usize,
    /// Successful calls of the healthy client.
    pub healthy_calls: u64,
    /// Failed calls of the healthy client.
    pub healthy_failures: u64,
    /// Producer rate / consumer rate.
    pub ratio: f64,
    /// Longest stretch of consecutive samples with nothing queued, ms.
    pub longest_idle_ms: u64,
}

/// Every rule `observed` breaks, as a sentence each; empty when the run passed.
pub fn violations(limits: &Limits, observed: &Observed) -> Vec<String> {
    let mut broken = Vec::new();
    if observed.peak_queue > limits.queue_cap {
        broken.push(format!(
            "queue above its cap: {} messages queued, cap {}",
            observed.peak_queue, limits.queue_cap
        ));
    }
    let growth = observed
        .peak_rss_kib
        .saturating_sub(observed.baseline_rss_kib);
    if growth > limits.max_rss_growth_kib {
        broken.push(format!(
            "RSS grew by {growth} KiB over the baseline, bound {} KiB",
            limits.max_rss_growth_kib
        ));
    }
    let drift = observed
        .second_half_peak_rss_kib
        .saturating_sub(observed.first_half_peak_rss_kib);
    if drift > limits.max_rss_drift_kib {
        broken.push(format!(
            "RSS still growing: second-half peak {} KiB is {drift} KiB above the first-half \
             peak {} KiB, bound {} KiB",
            observed.second_half_peak_rss_kib,
            observed.first_half_peak_rss_kib,
            limits.max_rss_drift_kib
        ));
    }
    if observed.slow_disconnects == 0 {
        broken.push("the slow session was never disconnected".to_owned());
    }
    if observed.healthy_failures > 0 {
        broken.push(format!(
            "the healthy client's calls failed: {} of {}",
            observed.healthy_failures,
            observed.healthy_calls + observed.healthy_failures
        ));
    }
    if observed.healthy_calls == 0 {
        broken.push("the healthy client completed no call".to_owned());
    }
    if observed.ratio.is_nan() || observed.ratio < limits.min_ratio {
        broken.push(format!(
            "not an overload: producer/consumer ratio {:.1} < {}",
            observed.ratio, limits.min_ratio
        ));
    }
    if observed.longest_idle_ms > limits.max_idle_ms {
        broken.push(format!(
            "overload not sustained: nothing queued for {} ms at a stretch, bound {} ms",
            observed.longest_idle_ms, limits.max_idle_ms
        ));
    }
    broken
}

/// The longest run of consecutive samples (taken every `interval_ms`) for which `idle`
/// holds, in ms.
pub fn longest_idle_ms<T>(samples: &[T], interval_ms: u64, idle: impl Fn(&T) -> bool) -> u64 {
    let (mut longest, mut current) = (0u64, 0u64);
    for sample in samples {
        if idle(sample) {
            current += interval_ms;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            queue_cap: 1000,
            max_rss_growth_kib: 64 * 1024,
            max_rss_drift_kib: 8 * 1024,
            min_ratio: 10.0,
            max_idle_ms: 1000,
        }
    }

    fn good() -> Observed {
        Observed {
            peak_queue: 1000,
            baseline_rss_kib: 10_000,
            peak_rss_kib: 30_000,
            first_half_peak_rss_kib: 29_000,
            second_half_peak_rss_kib: 30_000,
            slow_disconnects: 4,
            healthy_calls: 5000,
            healthy_failures: 0,
            ratio: 40.0,
            longest_idle_ms: 300,
        }
    }

    #[test]
    fn a_run_within_every_bound_passes() {
        assert_eq!(violations(&limits(), &good()), Vec::<String>::new());
    }

    /// Breaks one rule of a good run.
    type Spoil = fn(&mut Observed);

    #[test]
    fn each_broken_rule_is_reported() {
        let cases: [(Spoil, &str); 8] = [
            (|o| o.peak_queue = 1001, "queue above its cap"),
            (|o| o.peak_rss_kib = 10_000 + 64 * 1024 + 1, "RSS grew"),
            (
                |o| o.second_half_peak_rss_kib = 29_000 + 8 * 1024 + 1,
                "RSS still growing",
            ),
            (|o| o.slow_disconnects = 0, "never disconnected"),
            (|o| o.healthy_failures = 1, "healthy client's calls failed"),
            (|o| o.healthy_calls = 0, "completed no call"),
            (|o| o.ratio = 9.9, "not an overload"),
            (|o| o.longest_idle_ms = 1100, "not sustained"),
        ];
        for (breaks, expected) in cases {
            let mut observed = good();
            breaks(&mut observed);
            let found = violations(&limits(), &observed);
            assert_eq!(found.len(), 1, "{expected}: {found:?}");
            assert!(found[0].contains(expected), "{expected}: {found:?}");
        }
    }

    #[test]
    fn all_broken_rules_are_reported_together() {
        let mut observed = good();
        observed.peak_queue = 2000;
        observed.ratio = f64::NAN;
        assert_eq!(violations(&limits(), &observed).len(), 2);
    }

    #[test]
    fn idle_stretches_are_measured_between_busy_samples() {
        let queued = [5, 0, 0, 3, 0, 0, 0, 1, 0];
        assert_eq!(longest_idle_ms(&queued, 100, |q| *q == 0), 300);
        assert_eq!(longest_idle_ms(&[1, 2], 100, |q: &i32| *q == 0), 0);
    }
}
