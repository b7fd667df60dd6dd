//! Bulkheads: a fixed number of failure domains, each its own supervisor.
//!
//! Why a fixed number and not one supervisor for everything? A single supervisor is one
//! restart budget and one task that every start and every exit goes through. With `N`
//! bulkheads a storm of failures in one of them spends that bulkhead's budget only: if it
//! exceeds its intensity it ends (with its children) and its parent restarts it, while
//! the other `N - 1` never notice. Children are placed by a hash of a key the caller
//! chooses, so placement is stable and spreads evenly, and each bulkhead has a cap: a full
//! bulkhead refuses new children rather than spilling into its neighbours.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::child::ChildSpec;
use crate::error::SupervisorError;
use crate::handle::SupervisorRef;
use crate::strategy::{Intensity, Strategy};
use crate::supervisor::{DEFAULT_CRASH_WINDOW, Supervisor};

/// Default number of bulkheads.
pub const DEFAULT_BULKHEADS: usize = 8;

/// Default cap on children per bulkhead (8 × 16 384 leaves room for 100K connections).
pub const DEFAULT_MAX_CHILDREN_PER_BULKHEAD: usize = 16_384;

/// How to build a set of bulkheads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkheadConfig {
    /// Name prefix; bulkhead `i` is named `{prefix}-{i}`.
    pub name: String,
    /// How many bulkheads (at least one).
    pub count: usize,
    /// Cap on children per bulkhead (at least one).
    pub max_children: usize,
    /// Restart intensity of each bulkhead (matters for children that are restarted;
    /// temporary children never are).
    pub intensity: Intensity,
    /// Window of the crash count in [`BulkheadStatus`].
    pub crash_window: Duration,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        BulkheadConfig {
            name: "bulkhead".to_owned(),
            count: DEFAULT_BULKHEADS,
            max_children: DEFAULT_MAX_CHILDREN_PER_BULKHEAD,
            intensity: Intensity {
                max_restarts: 10,
                period: Duration::from_secs(10),
            },
            crash_window: DEFAULT_CRASH_WINDOW,
        }
    }
}

/// One bulkhead's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkheadStatus {
    /// Its index, `0..count`.
    pub index: usize,
    /// Its supervisor's name.
    pub name: String,
    /// Whether its supervisor runs now.
    pub running: bool,
    /// Children running now.
    pub active: usize,
    /// Its cap on children.
    pub max: usize,
    /// Failures and panics of its children within the last `window_ms`.
    pub crashes_in_window: usize,
    /// The window of `crashes_in_window`, in milliseconds.
    pub window_ms: u64,
    /// Child restarts it made.
    pub restarts: u64,
    /// Children that panicked (all time).
    pub panics: u64,
    /// Children that ended with an error (all time).
    pub failures: u64,
    /// Times the bulkhead itself was started (more than one: its parent restarted it).
    pub incarnations: u64,
}

/// Handles to a fixed set of bulkhead supervisors. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Bulkheads {
    heads: Arc<[SupervisorRef]>,
    max_children: usize,
}

impl Bulkheads {
    /// Builds `config.count` bulkhead supervisors (`one_for_one`, capped, stopping their
    /// children concurrently) and the handles to them. Nest each returned [`Supervisor`]
    /// in a parent with [`ChildSpec::supervisor`], or run it yourself.
    pub fn new(config: &BulkheadConfig) -> Result<(Bulkheads, Vec<Supervisor>), SupervisorError> {
        if config.count == 0 {
            return Err(SupervisorError::InvalidConfig {
                reason: "bulkhead count must be at least one",
            });
        }
        if config.max_children == 0 {
            return Err(SupervisorError::InvalidConfig {
                reason: "bulkhead max_children must be at least one",
            });
        }
        let supervisors: Vec<Supervisor> = (0..config.count)
            .map(|i| {
                Supervisor::new(format!("{}-{i}", config.name))
                    .strategy(Strategy::OneForOne)
                    .intensity(config.intensity)
                    .max_children(config.max_children)
                    .concurrent_shutdown(true)
                    .crash_window(config.crash_window)
            })
            .collect();
        let heads: Arc<[SupervisorRef]> = supervisors.iter().map(Supervisor::handle).collect();
        Ok((
            Bulkheads {
                heads,
                max_children: config.max_children,
            },
            supervisors,
        ))
    }

    /// Number of bulkheads.
    pub fn len(&self) -> usize {
        self.heads.len()
    }

    /// Always false (there is at least one bulkhead).
    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    /// The bulkhead a key is placed in: a stable hash of the key, modulo the count.
    pub fn place<K: Hash + ?Sized>(&self, key: &K) -> usize {
        let mut hasher = std::hash::DefaultHasher::new();
        key.hash(&mut hasher);
        let n = self.heads.len().max(1) as u64;
        usize::try_from(hasher.finish() % n).unwrap_or(0)
    }

    /// The supervisor of bulkhead `index`.
    pub fn get(&self, index: usize) -> Option<&SupervisorRef> {
        self.heads.get(index)
    }

    /// Starts `spec` in the bulkhead `key` is placed in; returns that bulkhead's index.
    pub async fn start_child<K: Hash + ?Sized>(
        &self,
        key: &K,
        spec: ChildSpec,
    ) -> Result<usize, SupervisorError> {
        let index = self.place(key);
        self.start_child_in(index, spec).await.map(|()| index)
    }

    /// Starts `spec` in bulkhead `index` (modulo the count).
    pub async fn start_child_in(
        &self,
        index: usize,
        spec: ChildSpec,
    ) -> Result<(), SupervisorError> {
        let head = &self.heads[index % self.heads.len()];
        head.start_child(spec).await
    }

    /// The status of every bulkhead, by index.
    pub fn status(&self) -> Vec<BulkheadStatus> {
        self.heads
            .iter()
            .enumerate()
            .map(|(index, head)| {
                let s = head.status();
                BulkheadStatus {
                    index,
                    name: s.name,
                    running: s.running,
                    active: s.active_children,
                    max: self.max_children,
                    crashes_in_window: s.crashes_in_window,
                    window_ms: s.window_ms,
                    restarts: s.restarts,
                    panics: s.panics,
                    failures: s.failures,
                    incarnations: s.incarnations,
                }
            })
            .collect()
    }
}
