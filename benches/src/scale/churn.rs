//! Registry lookup latency under concurrent insert/remove churn: one thread looks up
//! random live session keys and times every lookup; another inserts and removes entries
//! of another kind — as fast as it can (the worst case) or paced to a given rate —
//! keeping 1,024 in flight.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use erlmcp_registry::{Kind, LatencySummary, Registry};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// What one measurement window found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChurnResult {
    /// Length of the window.
    pub seconds: f64,
    /// Entries in the registry during the window (excluding churn entries).
    pub entries: usize,
    /// Lookups done (every one timed by the harness).
    pub lookups: u64,
    /// Lookups that found nothing (0 unless sessions ended during the window).
    pub misses: u64,
    /// Harness-timed `get` latency: find the key and clone its `Arc` handle out, which
    /// touches the handle's memory (includes one clock read, see `clock_overhead_ns`).
    pub lookup: LatencySummary,
    /// Harness-timed `contains_key` latency in the same window: the registry's own
    /// structures only (hash, shard lock, table probe), not the handle's memory.
    pub probe: LatencySummary,
    /// The registry's own sampled figure over the same window (1 lookup in N).
    pub registry_reported: LatencySummary,
    /// Inserts + removes done by the churn thread.
    pub churn_ops: u64,
    /// Churn rate achieved.
    pub churn_ops_per_sec: f64,
    /// Churn rate asked for (`None`: as fast as possible).
    pub churn_target_per_sec: Option<u64>,
    /// Shard read locks found write-locked during the window.
    pub read_try_failures: u64,
    /// Shard write locks found busy during the window.
    pub write_try_failures: u64,
    /// Median cost of two back-to-back `Instant::now()` calls on this machine.
    pub clock_overhead_ns: u64,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("constant histogram bounds")
}

fn clock_overhead_ns() -> u64 {
    let mut h = histogram();
    for _ in 0..10_000 {
        let a = Instant::now();
        let b = Instant::now();
        h.saturating_record(u64::try_from((b - a).as_nanos()).unwrap_or(u64::MAX).max(1));
    }
    h.value_at_quantile(0.5)
}

/// Runs one window of `duration` on `registry`, looking up `keys` (live entries) while
/// churning entries of kind [`Kind::CONNECTION`] made by `make_value`, at `rate`
/// inserts + removes per second (`None`: as fast as possible).
pub fn lookup_under_churn<V>(
    registry: &Registry<u64, V>,
    keys: &[u64],
    make_value: impl Fn(u64) -> V + Sync,
    duration: Duration,
    rate: Option<u64>,
) -> ChurnResult
where
    V: Clone + Send + Sync + 'static,
{
    let before = registry.metrics();
    registry.reset_lookup_latency();
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let ((hist, probes, lookups, misses), churn_ops) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut hist = histogram();
            let mut probes = histogram();
            let mut rng = 0x9E37_79B9_7F4A_7C15u64;
            let (mut lookups, mut misses) = (0u64, 0u64);
            if keys.is_empty() {
                return (hist, probes, 0, 0);
            }
            let n = keys.len() as u64;
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..256 {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let key = keys[usize::try_from(rng % n).unwrap_or(0)];
                    if rng & 1 == 1 {
                        let t0 = Instant::now();
                        let found = registry.contains_key(&key);
                        let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        probes.saturating_record(ns.max(1));
                        std::hint::black_box(found);
                        continue;
                    }
                    let t0 = Instant::now();
                    let found = registry.get(&key);
                    let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    hist.saturating_record(ns.max(1));
                    if found.is_none() {
                        misses += 1;
                    }
                    drop(std::hint::black_box(found));
                    lookups += 1;
                }
            }
            (hist, probes, lookups, misses)
        });
        let churner = s.spawn(|| {
            let mut window = VecDeque::with_capacity(1024);
            let mut next = 1u64 << 48;
            let mut ops = 0u64;
            let began = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                if let Some(rate) = rate.filter(|&r| r > 0) {
                    let due = Duration::from_secs_f64(ops as f64 / rate as f64);
                    if let Some(early) = due.checked_sub(began.elapsed()) {
                        std::thread::sleep(early.min(Duration::from_millis(10)));
                        continue;
                    }
                }
                for _ in 0..64 {
                    next += 1;
                    if let Ok(guard) = registry.insert(next, make_value(next), Kind::CONNECTION) {
                        window.push_back(guard);
                    }
                    ops += 1;
                    if window.len() >= 1024 {
                        drop(window.pop_front());
                        ops += 1;
                    }
                }
            }
            ops += window.len() as u64;
            drop(window);
            ops
        });
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        (
            reader.join().expect("lookup thread"),
            churner.join().expect("churn thread"),
        )
    });
    let seconds = start.elapsed().as_secs_f64();
    let after = registry.metrics();
    ChurnResult {
        seconds,
        entries: keys.len(),
        lookups,
        misses,
        lookup: LatencySummary::from_histogram(&hist),
        probe: LatencySummary::from_histogram(&probes),
        registry_reported: after.lookup,
        churn_ops,
        churn_ops_per_sec: churn_ops as f64 / seconds.max(1e-9),
        churn_target_per_sec: rate,
        read_try_failures: after.contention.read_try_failures - before.contention.read_try_failures,
        write_try_failures: after.contention.write_try_failures
            - before.contention.write_try_failures,
        clock_overhead_ns: clock_overhead_ns(),
    }
}
