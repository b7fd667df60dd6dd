//! Counters a supervisor keeps while it runs, readable at any time without asking it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::time::Instant;

use crate::child::Exit;
use crate::strategy::Strategy;

/// Crash times kept for [`SupervisorStatus::crashes_in_window`]; past this many within
/// the window the figure saturates (memory stays bounded under a crash storm).
pub const MAX_TRACKED_CRASHES: usize = 65_536;

/// A snapshot of one supervisor: its children and what happened to them. Counters cover
/// every incarnation of the supervisor (they survive its restarts by its parent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupervisorStatus {
    /// The supervisor's name.
    pub name: String,
    /// Its restart strategy.
    pub strategy: Strategy,
    /// Whether an incarnation is running now.
    pub running: bool,
    /// Children running now.
    pub active_children: usize,
    /// The cap on children (`None`: unbounded).
    pub max_children: Option<usize>,
    /// Child starts, first starts and restarts together.
    pub started: u64,
    /// Child restarts (a `one_for_all` restart of three children counts three).
    pub restarts: u64,
    /// Children that returned `Ok`.
    pub normal_exits: u64,
    /// Children that returned an error.
    pub failures: u64,
    /// Children that panicked.
    pub panics: u64,
    /// Children aborted after their shutdown timeout or by brutal kill.
    pub killed: u64,
    /// Failures and panics within the last `window_ms`.
    pub crashes_in_window: usize,
    /// The window of `crashes_in_window`, in milliseconds.
    pub window_ms: u64,
    /// How many times the supervisor itself was started (more than one: its parent
    /// restarted it).
    pub incarnations: u64,
}

#[derive(Debug)]
pub(crate) struct Stats {
    pub(crate) active: AtomicUsize,
    started: AtomicU64,
    restarts: AtomicU64,
    normal_exits: AtomicU64,
    failures: AtomicU64,
    panics: AtomicU64,
    killed: AtomicU64,
    pub(crate) incarnations: AtomicU64,
    crashes: Mutex<VecDeque<Instant>>,
}

impl Stats {
    pub(crate) fn new() -> Self {
        Stats {
            active: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            normal_exits: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            panics: AtomicU64::new(0),
            killed: AtomicU64::new(0),
            incarnations: AtomicU64::new(0),
            crashes: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn started(&self, restart: bool) {
        self.active.fetch_add(1, Ordering::Relaxed);
        self.started.fetch_add(1, Ordering::Relaxed);
        if restart {
            self.restarts.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn exited(&self, exit: &Exit, window: Duration) {
        // Saturating: a dropped incarnation resets `active` to zero itself.
        let _ = self
            .active
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        let counter = match exit {
            Exit::Normal => &self.normal_exits,
            Exit::Failed(_) => &self.failures,
            Exit::Panicked(_) => &self.panics,
            Exit::Killed => &self.killed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if exit.is_abnormal() {
            let now = Instant::now();
            let mut crashes = self.crashes.lock();
            prune(&mut crashes, now, window);
            if crashes.len() >= MAX_TRACKED_CRASHES {
                crashes.pop_front();
            }
            crashes.push_back(now);
        }
    }

    pub(crate) fn crashes_in(&self, window: Duration) -> usize {
        let mut crashes = self.crashes.lock();
        prune(&mut crashes, Instant::now(), window);
        crashes.len()
    }

    pub(crate) fn snapshot(
        &self,
        name: &str,
        strategy: Strategy,
        running: bool,
        max_children: Option<usize>,
        window: Duration,
    ) -> SupervisorStatus {
        SupervisorStatus {
            name: name.to_owned(),
            strategy,
            running,
            active_children: self.active.load(Ordering::Relaxed),
            max_children,
            started: self.started.load(Ordering::Relaxed),
            restarts: self.restarts.load(Ordering::Relaxed),
            normal_exits: self.normal_exits.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            panics: self.panics.load(Ordering::Relaxed),
            killed: self.killed.load(Ordering::Relaxed),
            crashes_in_window: self.crashes_in(window),
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            incarnations: self.incarnations.load(Ordering::Relaxed),
        }
    }
}

fn prune(crashes: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while let Some(&oldest) = crashes.front() {
        if now.duration_since(oldest) > window {
            crashes.pop_front();
        } else {
            break;
        }
    }
}
