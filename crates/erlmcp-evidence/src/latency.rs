//! Latency summaries from HDR histograms.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The unit every [`LatencyRecord`] value is in: microseconds.
pub const LATENCY_UNIT: &str = "us";

/// A latency distribution summarised from an HDR histogram of microsecond values.
///
/// Percentiles are HDR's "value at quantile": the recorded values are exact to the
/// histogram's significant digits (3 in erlmcp's harness, i.e. within 0.1 %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRecord {
    /// How many values were recorded.
    pub count: u64,
    /// The smallest value.
    pub min: u64,
    /// The median.
    pub p50: u64,
    /// The 90th percentile.
    pub p90: u64,
    /// The 99th percentile.
    pub p99: u64,
    /// The 99.9th percentile.
    pub p99_9: u64,
    /// The largest value.
    pub max: u64,
    /// The arithmetic mean.
    pub mean: f64,
    /// Always [`LATENCY_UNIT`] (`"us"`).
    pub unit: String,
}

impl LatencyRecord {
    /// Summarises a histogram whose values are microseconds. An empty histogram gives
    /// a record with `count` 0 and every value 0.
    pub fn from_histogram(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return LatencyRecord {
                count: 0,
                min: 0,
                p50: 0,
                p90: 0,
                p99: 0,
                p99_9: 0,
                max: 0,
                mean: 0.0,
                unit: LATENCY_UNIT.to_owned(),
            };
        }
        LatencyRecord {
            count: histogram.len(),
            min: histogram.min(),
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            p99_9: histogram.value_at_quantile(0.999),
            max: histogram.max(),
            mean: histogram.mean(),
            unit: LATENCY_UNIT.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_a_known_distribution() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in 1..=1000 {
            h.record(v).unwrap();
        }
        let r = LatencyRecord::from_histogram(&h);
        assert_eq!(r.count, 1000);
        assert_eq!(r.min, 1);
        assert_eq!(r.p50, 500);
        assert_eq!(r.p90, 900);
        assert_eq!(r.p99, 990);
        assert_eq!(r.p99_9, 999);
        assert_eq!(r.max, 1000);
        assert!((r.mean - 500.5).abs() < 0.5);
        assert_eq!(r.unit, "us");
    }

    #[test]
    fn empty_histogram_is_all_zero() {
        let h = Histogram::<u64>::new(3).unwrap();
        let r = LatencyRecord::from_histogram(&h);
        assert_eq!((r.count, r.min, r.max, r.p99_9), (0, 0, 0, 0));
    }
}
