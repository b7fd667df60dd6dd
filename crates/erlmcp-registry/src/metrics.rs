//! Lookup latency and contention, readable while the registry runs.
//!
//! ## Keeping the hot path cheap
//! Timing every lookup would cost two clock reads (≈ 40 ns on Linux) on an operation that
//! takes tens of nanoseconds, and one shared histogram would be a contended lock. So:
//! - each shard counts its lookups in an atomic next to its lock (the cache line the lock
//!   already writes);
//! - one lookup in `sample_every` (default [`DEFAULT_SAMPLE_EVERY`]) is timed, chosen by
//!   that counter, and recorded into one of a few striped HDR histograms with `try_lock`:
//!   a sample that meets a busy stripe is counted as dropped rather than waited for;
//! - contention is measured where it happens: a lock acquisition first tries without
//!   blocking; each failure is counted and the blocking wait that follows is timed.
//!
//! The `registry` bench in `benches/` measures what this costs against metrics turned off.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam::utils::CachePadded;
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// Default: time one lookup in 128.
pub const DEFAULT_SAMPLE_EVERY: u32 = 128;

/// Number of histogram stripes (a power of two); shard `i` records into stripe `i % N`.
const STRIPES: usize = 8;

/// Longest lookup a histogram can hold (1 s); longer samples are clamped to it.
const HIST_MAX_NS: u64 = 1_000_000_000;

fn new_histogram() -> Histogram<u64> {
    // Two significant digits: 1 % resolution in ≈ 24 KiB per stripe.
    Histogram::new_with_bounds(1, HIST_MAX_NS, 2).expect("constant histogram bounds are valid")
}

/// Timed samples of lookups, in striped histograms.
pub(crate) struct LookupSampler {
    /// `sample_every - 1` (a power of two minus one); `None` when sampling is off.
    mask: Option<u64>,
    every: u32,
    stripes: Box<[CachePadded<Mutex<Histogram<u64>>>]>,
    dropped: AtomicU64,
}

impl LookupSampler {
    /// `every` is a power of two, or 0 for off.
    pub(crate) fn new(every: u32) -> Self {
        let stripes = if every == 0 {
            Vec::new()
        } else {
            (0..STRIPES)
                .map(|_| CachePadded::new(Mutex::new(new_histogram())))
                .collect()
        };
        LookupSampler {
            mask: (every != 0).then(|| u64::from(every) - 1),
            every,
            stripes: stripes.into_boxed_slice(),
            dropped: AtomicU64::new(0),
        }
    }

    /// True when lookups are counted at all (sampling is on).
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.mask.is_some()
    }

    /// Whether the lookup numbered `n` (per shard) is timed.
    #[inline]
    pub(crate) fn should_sample(&self, n: u64) -> bool {
        matches!(self.mask, Some(mask) if n & mask == 0)
    }

    /// Records one timed lookup of shard `shard`.
    #[inline]
    pub(crate) fn record(&self, shard: usize, ns: u64) {
        let Some(stripe) = self.stripes.get(shard % STRIPES.max(1)) else {
            return;
        };
        match stripe.try_lock() {
            Some(mut histogram) => histogram.saturating_record(ns.clamp(1, HIST_MAX_NS)),
            None => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn every(&self) -> u32 {
        self.every
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// All stripes merged.
    pub(crate) fn merged(&self) -> Histogram<u64> {
        let mut total = new_histogram();
        for stripe in self.stripes.iter() {
            // Same bounds everywhere, so `add` cannot fail; a failure would only lose samples.
            let _ = total.add(&*stripe.lock());
        }
        total
    }

    /// Forgets every sample (for a fresh measurement window).
    pub(crate) fn reset(&self) {
        for stripe in self.stripes.iter() {
            stripe.lock().reset();
        }
        self.dropped.store(0, Ordering::Relaxed);
    }
}

/// Percentiles of a latency distribution, in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LatencySummary {
    /// Samples behind the figures.
    pub samples: u64,
    /// Smallest sample.
    pub min_ns: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest sample.
    pub max_ns: u64,
    /// Mean.
    pub mean_ns: f64,
}

impl LatencySummary {
    /// The summary of an HDR histogram of nanoseconds (all zero when it is empty).
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            samples: h.len(),
            min_ns: h.min(),
            p50_ns: h.value_at_quantile(0.50),
            p90_ns: h.value_at_quantile(0.90),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            max_ns: h.max(),
            mean_ns: h.mean(),
        }
    }
}

/// Entries of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KindCount {
    /// The kind's index.
    pub kind: u8,
    /// The kind's name.
    pub name: &'static str,
    /// Entries of this kind.
    pub entries: usize,
}

/// How often the shard locks were found busy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Contention {
    /// Read acquisitions (lookups, iteration) that found their shard write-locked.
    pub read_try_failures: u64,
    /// Write acquisitions (insert, remove) that found their shard locked.
    pub write_try_failures: u64,
    /// Total time spent waiting after a failed try, in nanoseconds.
    pub lock_wait_ns: u64,
    /// Timed samples not recorded because their histogram stripe was busy.
    pub samples_dropped: u64,
}

/// A snapshot of a registry's counts, lookup latency and contention. Serialises to JSON
/// for status endpoints and the evidence bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RegistryMetrics {
    /// Entries now.
    pub entries: usize,
    /// Entries per kind (kinds with entries only).
    pub by_kind: Vec<KindCount>,
    /// Number of shards.
    pub shards: usize,
    /// Entries in the fullest shard (balance check: ≈ `entries / shards`).
    pub max_shard_entries: usize,
    /// Successful inserts (all time).
    pub inserts: u64,
    /// Inserts refused because the key was taken.
    pub duplicates: u64,
    /// Inserts refused because the registry was full.
    pub refused_full: u64,
    /// Entries removed by key or by [`Registration::remove`](crate::Registration::remove).
    pub removes: u64,
    /// Entries removed because their owner ended (its [`Registration`](crate::Registration)
    /// was dropped: the task finished, panicked or was aborted).
    pub owner_removals: u64,
    /// Lookups (all time; 0 when lookup metrics are off).
    pub lookups: u64,
    /// One lookup in this many is timed (0: lookup metrics off).
    pub lookup_sample_every: u32,
    /// Latency of the timed lookups (hash, lock, probe, clone of the value).
    pub lookup: LatencySummary,
    /// Lock contention.
    pub contention: Contention,
}
