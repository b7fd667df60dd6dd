//! A memory budget shared by every queue, and the pressure signal it raises.
//!
//! Why: a per-queue cap bounds one peer, not the process. Ten thousand peers each at an
//! 8 MiB cap could still hold 80 GiB. The budget sums what every queue holds; above its
//! high threshold it reports *pressure*, and the engine refuses new work (the session
//! engine answers new requests with a JSON-RPC error) until usage is back at or below the
//! low threshold. The budget never blocks a push itself: per-queue caps already bound
//! each producer, and refusing new work is what lets the queues drain.
//!
//! ```text
//!             used >= high
//!   RELAXED ───────────────▶ PRESSURE
//!      ▲                        │
//!      └────────────────────────┘
//!             used <= low
//! ```
//!
//! The hot path is two atomic operations per charge or release; the transition itself
//! takes a small lock and re-reads the usage until it is stable, so concurrent charges
//! and releases never leave the signal disagreeing with the usage. Recovery is immediate:
//! the release that brings usage to the low threshold clears the signal.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::config::BudgetConfig;
use crate::error::{FlowError, InvalidConfig};

/// A memory budget shared by many queues. Cloning shares it.
#[derive(Clone)]
pub struct MemoryBudget {
    inner: Arc<Inner>,
}

struct Inner {
    used: AtomicUsize,
    peak: AtomicUsize,
    limit: usize,
    high: usize,
    low: usize,
    pressure: AtomicBool,
    transition: Mutex<()>,
    signal: watch::Sender<bool>,
    episodes: AtomicU64,
    shed: AtomicU64,
}

/// A point-in-time view of a [`MemoryBudget`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BudgetStats {
    /// Bytes charged now.
    pub used: usize,
    /// The most bytes ever charged at once.
    pub peak: usize,
    /// The configured limit.
    pub limit: usize,
    /// Pressure starts at or above this many bytes.
    pub high: usize,
    /// Pressure ends at or below this many bytes.
    pub low: usize,
    /// True while under pressure.
    pub under_pressure: bool,
    /// How many times pressure started.
    pub pressure_episodes: u64,
    /// Work refused because of pressure (counted by [`crate::service::LoadShed`] and
    /// [`MemoryBudget::try_reserve`]).
    pub shed: u64,
}

impl MemoryBudget {
    /// A budget of `config.limit_bytes`, under pressure from the high watermark until the
    /// low watermark.
    pub fn new(config: &BudgetConfig) -> Result<Self, InvalidConfig> {
        config.validate()?;
        let (high, low) = config.watermarks.thresholds(config.limit_bytes);
        let (signal, _) = watch::channel(false);
        Ok(MemoryBudget {
            inner: Arc::new(Inner {
                used: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                limit: config.limit_bytes,
                high,
                low,
                pressure: AtomicBool::new(false),
                transition: Mutex::new(()),
                signal,
                episodes: AtomicU64::new(0),
                shed: AtomicU64::new(0),
            }),
        })
    }

    /// Bytes charged now.
    pub fn used(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// The configured limit in bytes.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// True while usage went above the high threshold and has not yet come back to the
    /// low one. New work should be refused meanwhile.
    pub fn is_under_pressure(&self) -> bool {
        self.inner.pressure.load(Ordering::Acquire)
    }

    /// The pressure signal: `true` while under pressure. Changes only on transitions.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.inner.signal.subscribe()
    }

    /// Completes once the budget is not under pressure (at once if it is not now).
    pub async fn relieved(&self) {
        let mut signal = self.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail while we wait.
        let _ = signal.wait_for(|pressure| !*pressure).await;
    }

    /// Charges `bytes` for as long as the returned reservation lives (for memory held
    /// outside the queues, such as inbound buffers). Never refused.
    pub fn reserve(&self, bytes: usize) -> Reservation {
        self.charge(bytes);
        Reservation {
            budget: self.clone(),
            bytes,
        }
    }

    /// Like [`reserve`](Self::reserve), but refuses with [`FlowError::Overloaded`] while
    /// under pressure or when the charge would pass the limit.
    pub fn try_reserve(&self, bytes: usize) -> Result<Reservation, FlowError> {
        if self.is_under_pressure() || self.used().saturating_add(bytes) > self.inner.limit {
            self.note_shed();
            return Err(FlowError::Overloaded);
        }
        Ok(self.reserve(bytes))
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> BudgetStats {
        let inner = &self.inner;
        BudgetStats {
            used: inner.used.load(Ordering::Relaxed),
            peak: inner.peak.load(Ordering::Relaxed),
            limit: inner.limit,
            high: inner.high,
            low: inner.low,
            under_pressure: inner.pressure.load(Ordering::Acquire),
            pressure_episodes: inner.episodes.load(Ordering::Relaxed),
            shed: inner.shed.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn note_shed(&self) {
        self.inner.shed.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `bytes` to the usage. Every charge is matched by a release of the same size.
    pub(crate) fn charge(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let inner = &self.inner;
        let now = inner.used.fetch_add(bytes, Ordering::SeqCst) + bytes;
        if now > inner.peak.load(Ordering::Relaxed) {
            inner.peak.fetch_max(now, Ordering::Relaxed);
        }
        if now >= inner.high && !inner.pressure.load(Ordering::SeqCst) {
            self.reevaluate();
        }
    }

    /// Removes `bytes` charged earlier.
    pub(crate) fn release(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let inner = &self.inner;
        let before = inner.used.fetch_sub(bytes, Ordering::SeqCst);
        debug_assert!(before >= bytes, "budget released more than was charged");
        let now = before.wrapping_sub(bytes);
        if now <= inner.low && inner.pressure.load(Ordering::SeqCst) {
            self.reevaluate();
        }
    }

    /// Moves the signal to agree with the usage, re-reading until both are stable.
    fn reevaluate(&self) {
        let inner = &self.inner;
        let _guard = inner.transition.lock();
        loop {
            let used = inner.used.load(Ordering::SeqCst);
            let pressure = inner.pressure.load(Ordering::SeqCst);
            let next = if !pressure && used >= inner.high {
                true
            } else if pressure && used <= inner.low {
                false
            } else {
                return;
            };
            inner.pressure.store(next, Ordering::SeqCst);
            inner.signal.send_replace(next);
            if next {
                inner.episodes.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    target: "erlmcp_flow::budget",
                    used,
                    high = inner.high,
                    limit = inner.limit,
                    "memory budget under pressure; shedding new work"
                );
            } else {
                tracing::info!(
                    target: "erlmcp_flow::budget",
                    used,
                    low = inner.low,
                    limit = inner.limit,
                    "memory pressure cleared"
                );
            }
        }
    }
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("used", &self.used())
            .field("limit", &self.inner.limit)
            .field("under_pressure", &self.is_under_pressure())
            .finish()
    }
}

/// Bytes charged to a [`MemoryBudget`] until this is dropped.
#[must_use = "the charge is released when the reservation is dropped"]
pub struct Reservation {
    budget: MemoryBudget,
    bytes: usize,
}

impl Reservation {
    /// The bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Changes the bytes held to `bytes`.
    pub fn resize(&mut self, bytes: usize) {
        if bytes > self.bytes {
            self.budget.charge(bytes - self.bytes);
        } else {
            self.budget.release(self.bytes - bytes);
        }
        self.bytes = bytes;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("bytes", &self.bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Watermarks;

    fn budget(limit: usize) -> MemoryBudget {
        MemoryBudget::new(&BudgetConfig {
            limit_bytes: limit,
            watermarks: Watermarks::new(80, 50),
        })
        .unwrap()
    }

    #[test]
    fn pressure_has_hysteresis() {
        let budget = budget(1000);
        let mut held = budget.reserve(700);
        assert!(!budget.is_under_pressure());
        held.resize(800);
        assert!(budget.is_under_pressure());
        held.resize(600);
        assert!(budget.is_under_pressure(), "still above the low threshold");
        held.resize(500);
        assert!(!budget.is_under_pressure());
        drop(held);
        let stats = budget.stats();
        assert_eq!(
            (stats.used, stats.peak, stats.pressure_episodes),
            (0, 800, 1)
        );
    }

    #[test]
    fn try_reserve_refuses_under_pressure_and_past_the_limit() {
        let budget = budget(1000);
        assert_eq!(budget.try_reserve(1001).unwrap_err(), FlowError::Overloaded);
        let held = budget.try_reserve(900).unwrap();
        assert_eq!(budget.try_reserve(1).unwrap_err(), FlowError::Overloaded);
        drop(held);
        assert!(budget.try_reserve(1).is_ok());
        assert_eq!(budget.stats().shed, 2);
    }

    #[test]
    fn concurrent_charges_leave_signal_consistent() {
        let budget = budget(1000);
        std::thread::scope(|scope| {
            for _ in 0..2 {
                let budget = budget.clone();
                scope.spawn(move || {
                    for i in 0..20_000 {
                        let r = budget.reserve(100 + (i % 7) * 50);
                        drop(r);
                    }
                });
            }
        });
        assert_eq!(budget.used(), 0);
        assert!(!budget.is_under_pressure());
    }
}
