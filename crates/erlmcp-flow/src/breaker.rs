//! A circuit breaker: closed, open, half-open.
//!
//! Why: a client facing a dead or failing server must stop hammering it. Retrying at full
//! speed wastes the client's resources, keeps the server down while it tries to recover,
//! and delays the failure the caller needs to hear about. The breaker counts failures in
//! a sliding window; past the threshold it *opens* and refuses every call at once, without
//! touching the network. After a backoff it lets a few probes through (*half-open*): if
//! they succeed the breaker closes, otherwise it opens again for a longer backoff. A dead
//! server thus sees `failure_threshold` attempts, then one round of probes per backoff.
//!
//! ```text
//!                    failure_threshold failures within `window`
//!      ┌────────┐ ─────────────────────────────────────────────▶ ┌──────┐
//!      │ CLOSED │                                                 │ OPEN │ refuses at once
//!      └────────┘ ◀───────────┐                      ┌──────────▶ └──────┘
//!                             │ every probe          │ a probe        │
//!                             │ succeeded            │ failed         │ backoff(trips)
//!                             │                      │ (trips += 1)   │ elapsed
//!                           ┌─┴──────────────────────┴─┐              │
//!                           │ HALF_OPEN: admits         │ ◀────────────┘
//!                           │ `half_open_probes` calls  │
//!                           └───────────────────────────┘
//! ```
//!
//! The open period of the n-th consecutive opening is a full-jitter delay of attempt n
//! ([`crate::backoff`]), capped; closing resets n. Time is `tokio::time`, so tests drive it
//! with `tokio::time::pause()`.
//!
//! Cost: while closed, [`CircuitBreaker::acquire`] is one atomic load and a reference-count
//! increment, and a success report takes no lock. While open, a refusal is two atomic
//! loads and a clock read. Failures and transitions take a mutex.
//!
//! Reports are tied to the period that issued the permit: a probe's verdict counts only in
//! the half-open period that admitted it, so a late answer from an earlier period cannot
//! close a breaker that has since reopened.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::config::BreakerConfig;
use crate::error::{FlowError, InvalidConfig};

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
const HALF_OPEN: u8 = 2;

/// Events buffered per subscriber before the slowest one starts missing some.
const EVENT_CAPACITY: usize = 64;

/// The state of a [`CircuitBreaker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls pass; failures are counted.
    Closed,
    /// Calls are refused at once.
    Open,
    /// A limited number of probe calls pass.
    HalfOpen,
}

impl BreakerState {
    fn from_u8(raw: u8) -> Self {
        match raw {
            OPEN => BreakerState::Open,
            HALF_OPEN => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            BreakerState::Closed => CLOSED,
            BreakerState::Open => OPEN,
            BreakerState::HalfOpen => HALF_OPEN,
        }
    }

    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state change of a breaker, sent to [`CircuitBreaker::subscribe`]rs and to `tracing`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BreakerEvent {
    /// The breaker's name (the transport or peer it guards).
    pub breaker: Arc<str>,
    /// The state left.
    pub from: BreakerState,
    /// The state entered.
    pub to: BreakerState,
    /// Failures counted when the change happened (in the window, or the failed probe).
    pub failures: u32,
    /// Wall-clock time of the last failure seen, if any.
    pub last_failure: Option<SystemTime>,
    /// Wall-clock time of the change.
    pub at: SystemTime,
    /// How long the breaker stays open (only when `to` is [`BreakerState::Open`]).
    pub open_for: Option<Duration>,
}

/// A point-in-time view of a breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BreakerStats {
    /// The state now (an open breaker whose backoff elapsed reports half-open).
    pub state: BreakerState,
    /// Failures in the current window (closed state only).
    pub failures_in_window: u32,
    /// Consecutive openings since the breaker last closed.
    pub consecutive_trips: u32,
    /// Openings since the breaker was made.
    pub opened_total: u64,
    /// Calls refused since the breaker was made.
    pub rejected_total: u64,
    /// Wall-clock time of the last failure seen, if any.
    pub last_failure: Option<SystemTime>,
}

/// A circuit breaker. Cloning shares it; it is `Send + Sync`.
#[derive(Clone)]
pub struct CircuitBreaker {
    inner: Arc<Inner>,
}

struct Inner {
    name: Arc<str>,
    config: BreakerConfig,
    backoff: Backoff,
    /// Mirror of `Core::state` for the lock-free paths.
    state: AtomicU8,
    /// Mirror of `Core::open_until`, as nanoseconds since `epoch`.
    open_until: AtomicU64,
    epoch: Instant,
    rejected: AtomicU64,
    core: Mutex<Core>,
    events: broadcast::Sender<BreakerEvent>,
}

struct Core {
    state: BreakerState,
    /// Times of the failures in the current window, oldest first, at most the threshold.
    failures: VecDeque<Instant>,
    trips: u32,
    /// Bumped on every transition; permits carry the period that issued them.
    period: u64,
    probes_issued: u32,
    probes_succeeded: u32,
    open_until: Instant,
    last_failure: Option<SystemTime>,
    opened_total: u64,
    rng: SmallRng,
}

impl CircuitBreaker {
    /// A closed breaker named `name` (the transport or peer it guards, used in events).
    pub fn new(name: impl Into<Arc<str>>, config: &BreakerConfig) -> Result<Self, InvalidConfig> {
        let seed = rand::random::<u64>();
        Self::with_seed(name, config, seed)
    }

    /// Like [`new`](Self::new), with the jitter drawn from a generator seeded with `seed`,
    /// so the open periods are reproducible.
    pub fn with_seed(
        name: impl Into<Arc<str>>,
        config: &BreakerConfig,
        seed: u64,
    ) -> Result<Self, InvalidConfig> {
        config.validate()?;
        let backoff = Backoff::new(&config.backoff)?;
        let now = Instant::now();
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Ok(CircuitBreaker {
            inner: Arc::new(Inner {
                name: name.into(),
                config: *config,
                backoff,
                state: AtomicU8::new(CLOSED),
                open_until: AtomicU64::new(0),
                epoch: now,
                rejected: AtomicU64::new(0),
                core: Mutex::new(Core {
                    state: BreakerState::Closed,
                    failures: VecDeque::with_capacity(config.failure_threshold as usize),
                    trips: 0,
                    period: 0,
                    probes_issued: 0,
                    probes_succeeded: 0,
                    open_until: now,
                    last_failure: None,
                    opened_total: 0,
                    rng: SmallRng::seed_from_u64(seed),
                }),
                events,
            }),
        })
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &BreakerConfig {
        &self.inner.config
    }

    /// Asks to make one call. `Ok` carries a [`Permit`] on which to report the outcome;
    /// [`FlowError::CircuitOpen`] means: do not touch the network.
    pub fn acquire(&self) -> Result<Permit, FlowError> {
        let inner = &self.inner;
        match inner.state.load(Ordering::Acquire) {
            CLOSED => Ok(Permit::new(inner.clone(), None)),
            OPEN => {
                let until = inner.open_until.load(Ordering::Acquire);
                let now = inner.nanos_since_epoch(Instant::now());
                if now < until {
                    inner.rejected.fetch_add(1, Ordering::Relaxed);
                    return Err(FlowError::CircuitOpen {
                        retry_after: Some(Duration::from_nanos(until - now)),
                    });
                }
                self.acquire_slow()
            }
            _ => self.acquire_slow(),
        }
    }

    fn acquire_slow(&self) -> Result<Permit, FlowError> {
        let inner = &self.inner;
        let now = Instant::now();
        let mut core = inner.core.lock();
        let event = inner.maybe_half_open(&mut core, now);
        let result = match core.state {
            BreakerState::Closed => Ok(Permit::new(inner.clone(), None)),
            BreakerState::Open => Err(FlowError::CircuitOpen {
                retry_after: Some(core.open_until.saturating_duration_since(now)),
            }),
            BreakerState::HalfOpen => {
                if core.probes_issued < inner.config.half_open_probes {
                    core.probes_issued += 1;
                    Ok(Permit::new(inner.clone(), Some(core.period)))
                } else {
                    Err(FlowError::CircuitOpen { retry_after: None })
                }
            }
        };
        drop(core);
        if result.is_err() {
            inner.rejected.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(event) = event {
            inner.emit(event);
        }
        result
    }

    /// Runs `future` if the breaker admits a call and reports its outcome (`Err` is a
    /// failure). A refused call never polls `future`: the outer `Err` is the refusal, the
    /// inner result is the call's own. Dropping the returned future mid-call reports
    /// nothing.
    pub async fn call<T, E, F>(&self, future: F) -> Result<Result<T, E>, FlowError>
    where
        F: Future<Output = Result<T, E>>,
    {
        let permit = self.acquire()?;
        Ok(permit.record(future.await))
    }

    /// The state now. An open breaker whose backoff has elapsed reports
    /// [`BreakerState::HalfOpen`]: the next call would be a probe.
    pub fn state(&self) -> BreakerState {
        let inner = &self.inner;
        let state = BreakerState::from_u8(inner.state.load(Ordering::Acquire));
        if state == BreakerState::Open
            && inner.nanos_since_epoch(Instant::now()) >= inner.open_until.load(Ordering::Acquire)
        {
            return BreakerState::HalfOpen;
        }
        state
    }

    /// Time left until an open breaker admits a probe; `None` unless open.
    pub fn retry_after(&self) -> Option<Duration> {
        let inner = &self.inner;
        if inner.state.load(Ordering::Acquire) != OPEN {
            return None;
        }
        let until = inner.open_until.load(Ordering::Acquire);
        let now = inner.nanos_since_epoch(Instant::now());
        (now < until).then(|| Duration::from_nanos(until - now))
    }

    /// State changes from now on. A subscriber that falls more than 64 events behind
    /// misses the oldest ones (`RecvError::Lagged`).
    pub fn subscribe(&self) -> broadcast::Receiver<BreakerEvent> {
        self.inner.events.subscribe()
    }

    /// Closes the breaker and forgets its failures (an operator's override).
    pub fn reset(&self) {
        let inner = &self.inner;
        let mut core = inner.core.lock();
        let event = (core.state != BreakerState::Closed)
            .then(|| inner.transition(&mut core, BreakerState::Closed, 0, None));
        core.trips = 0;
        core.failures.clear();
        drop(core);
        if let Some(event) = event {
            inner.emit(event);
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> BreakerStats {
        let state = self.state();
        let inner = &self.inner;
        let mut core = inner.core.lock();
        if core.state == BreakerState::Closed {
            prune(&mut core.failures, Instant::now(), inner.config.window);
        }
        BreakerStats {
            state,
            failures_in_window: core.failures.len() as u32,
            consecutive_trips: core.trips,
            opened_total: core.opened_total,
            rejected_total: inner.rejected.load(Ordering::Relaxed),
            last_failure: core.last_failure,
        }
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.inner.name)
            .field("state", &self.state())
            .finish()
    }
}

impl Inner {
    fn nanos_since_epoch(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// OPEN → HALF_OPEN once the backoff elapsed.
    fn maybe_half_open(&self, core: &mut Core, now: Instant) -> Option<BreakerEvent> {
        if core.state == BreakerState::Open && now >= core.open_until {
            let failures = core.failures.len() as u32;
            Some(self.transition(core, BreakerState::HalfOpen, failures, None))
        } else {
            None
        }
    }

    /// Moves to `to`, starting a new period; the caller emits the returned event after
    /// releasing the lock.
    fn transition(
        &self,
        core: &mut Core,
        to: BreakerState,
        failures: u32,
        open_for: Option<Duration>,
    ) -> BreakerEvent {
        let from = core.state;
        core.state = to;
        core.period = core.period.wrapping_add(1);
        core.probes_issued = 0;
        core.probes_succeeded = 0;
        // Publish the deadline before the state, so a lock-free reader that sees OPEN also
        // sees its deadline.
        self.open_until
            .store(self.nanos_since_epoch(core.open_until), Ordering::Release);
        self.state.store(to.as_u8(), Ordering::Release);
        BreakerEvent {
            breaker: self.name.clone(),
            from,
            to,
            failures,
            last_failure: core.last_failure,
            at: SystemTime::now(),
            open_for,
        }
    }

    fn trip(&self, core: &mut Core, now: Instant, failures: u32) -> BreakerEvent {
        let open_for = self.backoff.delay(core.trips, &mut core.rng);
        core.trips = core.trips.saturating_add(1);
        core.open_until = now + open_for;
        core.opened_total += 1;
        core.failures.clear();
        self.transition(core, BreakerState::Open, failures, Some(open_for))
    }

    fn on_success(&self, period: u64) {
        let mut core = self.core.lock();
        if core.state != BreakerState::HalfOpen || core.period != period {
            return;
        }
        core.probes_succeeded += 1;
        let event = (core.probes_succeeded >= self.config.half_open_probes).then(|| {
            core.trips = 0;
            core.failures.clear();
            self.transition(&mut core, BreakerState::Closed, 0, None)
        });
        drop(core);
        if let Some(event) = event {
            self.emit(event);
        }
    }

    fn on_failure(&self, probe: Option<u64>) {
        let now = Instant::now();
        let mut core = self.core.lock();
        core.last_failure = Some(SystemTime::now());
        let event = match core.state {
            BreakerState::HalfOpen if probe == Some(core.period) => {
                Some(self.trip(&mut core, now, 1))
            }
            BreakerState::Closed => {
                prune(&mut core.failures, now, self.config.window);
                core.failures.push_back(now);
                let failures = core.failures.len() as u32;
                (failures >= self.config.failure_threshold)
                    .then(|| self.trip(&mut core, now, failures))
            }
            // Already open, or a stale probe: the outcome changes nothing.
            _ => None,
        };
        drop(core);
        if let Some(event) = event {
            self.emit(event);
        }
    }

    /// A probe ended without a verdict (its permit was dropped): free its slot.
    fn on_abandoned(&self, period: u64) {
        let mut core = self.core.lock();
        if core.state == BreakerState::HalfOpen && core.period == period {
            core.probes_issued = core.probes_issued.saturating_sub(1);
        }
    }

    fn emit(&self, event: BreakerEvent) {
        let last_failure_ms = event.last_failure.map(unix_millis);
        let at_ms = unix_millis(event.at);
        let open_for_ms = event.open_for.map(|d| d.as_millis() as u64);
        match event.to {
            BreakerState::Open => tracing::warn!(
                target: "erlmcp_flow::breaker",
                breaker = %event.breaker,
                from = %event.from,
                to = %event.to,
                failures = event.failures,
                last_failure_ms,
                open_for_ms,
                at_ms,
                "circuit breaker opened"
            ),
            _ => tracing::info!(
                target: "erlmcp_flow::breaker",
                breaker = %event.breaker,
                from = %event.from,
                to = %event.to,
                failures = event.failures,
                last_failure_ms,
                at_ms,
                "circuit breaker state changed"
            ),
        }
        // No subscriber is fine.
        let _ = self.events.send(event);
    }
}

/// Drops failures that fell out of the window ending at `now`.
fn prune(failures: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while let Some(&oldest) = failures.front() {
        if now.saturating_duration_since(oldest) >= window {
            failures.pop_front();
        } else {
            break;
        }
    }
}

pub(crate) fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Leave to make one call through a [`CircuitBreaker`]; report how it went.
///
/// Dropping a permit without a verdict (the call was cancelled) counts as neither success
/// nor failure; a probe's slot is freed for another caller.
#[must_use = "report the outcome with success() or failure()"]
pub struct Permit {
    inner: Arc<Inner>,
    /// `Some(period)` for a half-open probe.
    probe: Option<u64>,
    reported: bool,
}

impl Permit {
    fn new(inner: Arc<Inner>, probe: Option<u64>) -> Self {
        Permit {
            inner,
            probe,
            reported: false,
        }
    }

    /// True for a half-open probe, whose verdict decides whether the breaker closes.
    pub fn is_probe(&self) -> bool {
        self.probe.is_some()
    }

    /// The call succeeded.
    pub fn success(mut self) {
        self.reported = true;
        if let Some(period) = self.probe {
            self.inner.on_success(period);
        }
    }

    /// The call failed (counts towards opening the breaker).
    pub fn failure(mut self) {
        self.reported = true;
        self.inner.on_failure(self.probe);
    }

    /// Reports `Ok` as success and `Err` as failure, and hands the result back.
    pub fn record<T, E>(self, result: Result<T, E>) -> Result<T, E> {
        match &result {
            Ok(_) => self.success(),
            Err(_) => self.failure(),
        }
        result
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.reported
            && let Some(period) = self.probe
        {
            self.inner.on_abandoned(period);
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.inner.name)
            .field("probe", &self.probe.is_some())
            .finish()
    }
}
