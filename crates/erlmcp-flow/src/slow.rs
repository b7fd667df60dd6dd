//! Slow-consumer detection: what to do with a peer that does not keep up.
//!
//! Why: a bounded queue turns a slow reader into waiting producers, which is right for a
//! burst and wrong for a peer that never catches up — its session would hold handlers,
//! memory and budget forever. A consumer whose queue stays above its high watermark for
//! longer than a grace period is marked *slow*, and the policy decides: drop the items
//! marked droppable (progress and log notifications) and refuse new ones, disconnect it,
//! or drop first and disconnect if that did not help. Only that peer's queue is touched;
//! other sessions never notice.
//!
//! ```text
//!                level above high                 grace elapsed
//!   ┌─────────┐ ─────────────────▶ ┌──────────┐ ───────────────▶ ┌──────┐
//!   │ HEALTHY │                    │ WATCHING │                  │ SLOW │ ── policy action
//!   └─────────┘ ◀───────────────── └──────────┘                  └──────┘
//!        ▲        level normal                                       │
//!        └───────────────────────────────────────────────────────────┘
//!                          level normal (recovered)
//! ```
//!
//! "Above high" is the queue's [`WatermarkLevel`], which has hysteresis: once at the high
//! watermark, a queue counts as above it until it drains to the low watermark.
//!
//! The detector is a plain state machine driven by [`SlowConsumerDetector::observe_at`]
//! (the decision API, clock passed in), with [`SlowConsumerDetector::observe`] reading
//! `tokio::time::Instant::now()` (so `tokio::time::pause()` drives it in tests) and
//! [`SlowConsumerDetector::supervise`] running it against a queue until the policy says
//! disconnect. The writer itself cannot do the timing: when the peer stops reading, the
//! writer is the task stuck in a write.

use std::fmt;

use tokio::time::{Instant, sleep_until};

use crate::config::{SlowAction, SlowConsumerPolicy};
use crate::error::InvalidConfig;
use crate::queue::{QueueId, QueueMonitor, WatermarkLevel, Weighted};

/// What the engine should do about a consumer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlowVerdict {
    /// Keeping up; nothing to do (and stop shedding, if it was on).
    Healthy,
    /// Above the high watermark, within its grace; look again at `deadline`.
    Watching {
        /// When the consumer would be marked slow.
        deadline: Instant,
    },
    /// Slow: drop its droppable items and refuse new ones.
    DropDroppable {
        /// When it will be disconnected if it stays slow (`None`: never).
        disconnect_at: Option<Instant>,
    },
    /// Slow past every allowance: disconnect it.
    Disconnect,
}

impl SlowVerdict {
    /// The next instant at which the verdict may change without a level change.
    pub fn deadline(&self) -> Option<Instant> {
        match *self {
            SlowVerdict::Watching { deadline } => Some(deadline),
            SlowVerdict::DropDroppable { disconnect_at } => disconnect_at,
            SlowVerdict::Healthy | SlowVerdict::Disconnect => None,
        }
    }
}

/// How [`SlowConsumerDetector::supervise`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlowOutcome {
    /// The policy says disconnect the consumer.
    Disconnect,
    /// The queue's receiver closed first.
    QueueClosed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Healthy,
    Watching { since: Instant },
    Slow { since: Instant, marked_at: Instant },
}

/// Tracks one consumer against a [`SlowConsumerPolicy`].
pub struct SlowConsumerDetector {
    queue: QueueId,
    policy: SlowConsumerPolicy,
    phase: Phase,
    disconnect_logged: bool,
    marked_total: u64,
}

impl SlowConsumerDetector {
    /// A detector for the consumer of `queue`.
    pub fn new(queue: QueueId, policy: &SlowConsumerPolicy) -> Result<Self, InvalidConfig> {
        policy.validate()?;
        Ok(SlowConsumerDetector {
            queue,
            policy: policy.clone(),
            phase: Phase::Healthy,
            disconnect_logged: false,
            marked_total: 0,
        })
    }

    /// True while the consumer is marked slow.
    pub fn is_slow(&self) -> bool {
        matches!(self.phase, Phase::Slow { .. })
    }

    /// How many times the consumer was marked slow.
    pub fn marked_total(&self) -> u64 {
        self.marked_total
    }

    /// [`observe_at`](Self::observe_at) with the current `tokio::time` instant.
    pub fn observe(&mut self, level: WatermarkLevel) -> SlowVerdict {
        self.observe_at(level, Instant::now())
    }

    /// Feeds the queue's level at `now`; returns what to do. Call it on every level
    /// change and at the verdict's [`deadline`](SlowVerdict::deadline).
    pub fn observe_at(&mut self, level: WatermarkLevel, now: Instant) -> SlowVerdict {
        if !level.is_above_high() {
            if let Phase::Slow { since, .. } = self.phase {
                tracing::info!(
                    target: "erlmcp_flow::slow",
                    queue = %self.queue,
                    slow_for_ms = now.saturating_duration_since(since).as_millis() as u64,
                    "consumer caught up; no longer slow"
                );
            }
            self.phase = Phase::Healthy;
            self.disconnect_logged = false;
            return SlowVerdict::Healthy;
        }
        let since = match self.phase {
            Phase::Healthy => {
                self.phase = Phase::Watching { since: now };
                now
            }
            Phase::Watching { since } | Phase::Slow { since, .. } => since,
        };
        let slow_at = since + self.policy.grace;
        if now < slow_at {
            return SlowVerdict::Watching { deadline: slow_at };
        }
        let marked_at = match self.phase {
            Phase::Slow { marked_at, .. } => marked_at,
            _ => {
                self.marked_total += 1;
                tracing::warn!(
                    target: "erlmcp_flow::slow",
                    queue = %self.queue,
                    grace_ms = self.policy.grace.as_millis() as u64,
                    action = ?self.policy.action,
                    "consumer above the high watermark past its grace; marked slow"
                );
                self.phase = Phase::Slow {
                    since,
                    marked_at: slow_at,
                };
                slow_at
            }
        };
        let verdict = match self.policy.action {
            SlowAction::DropDroppable => SlowVerdict::DropDroppable {
                disconnect_at: None,
            },
            SlowAction::Disconnect => SlowVerdict::Disconnect,
            SlowAction::DropThenDisconnect { after } => {
                let disconnect_at = marked_at + after;
                if now >= disconnect_at {
                    SlowVerdict::Disconnect
                } else {
                    SlowVerdict::DropDroppable {
                        disconnect_at: Some(disconnect_at),
                    }
                }
            }
        };
        if verdict == SlowVerdict::Disconnect && !self.disconnect_logged {
            self.disconnect_logged = true;
            tracing::warn!(
                target: "erlmcp_flow::slow",
                queue = %self.queue,
                slow_for_ms = now.saturating_duration_since(since).as_millis() as u64,
                "slow consumer: disconnecting"
            );
        }
        verdict
    }

    /// Runs the detector against `monitor`'s queue: turns shedding on (and purges the
    /// droppable items queued) while the verdict is [`SlowVerdict::DropDroppable`], off
    /// when the consumer recovers, and returns when the policy says disconnect or the
    /// receiver closes. Spawn it beside the session's writer.
    pub async fn supervise<T: Weighted>(&mut self, monitor: &QueueMonitor<T>) -> SlowOutcome {
        let mut status = monitor.subscribe();
        // Items the consumer had taken when it was marked slow. Purging its droppable
        // items empties the queue without the consumer reading anything, so only real
        // progress past this mark counts as catching up.
        let mut popped_at_mark: Option<u64> = None;
        loop {
            let current = *status.borrow_and_update();
            if current.closed {
                monitor.set_shedding(false);
                return SlowOutcome::QueueClosed;
            }
            let mut level = current.level;
            if let Some(mark) = popped_at_mark
                && !level.is_above_high()
                && monitor.stats().popped <= mark
            {
                level = WatermarkLevel::High;
            }
            let verdict = self.observe(level);
            popped_at_mark = match (self.is_slow(), popped_at_mark) {
                (true, None) => Some(monitor.stats().popped),
                (true, mark) => mark,
                (false, _) => None,
            };
            match verdict {
                SlowVerdict::Healthy | SlowVerdict::Watching { .. } => {
                    monitor.set_shedding(false);
                }
                SlowVerdict::DropDroppable { .. } => {
                    if !monitor.is_shedding() {
                        monitor.set_shedding(true);
                        let purged = monitor.purge_droppable();
                        tracing::info!(
                            target: "erlmcp_flow::slow",
                            queue = %self.queue,
                            purged,
                            "shedding droppable items of a slow consumer"
                        );
                    }
                }
                SlowVerdict::Disconnect => return SlowOutcome::Disconnect,
            }
            // The sender lives as long as the monitor, so `changed` only fails if the
            // queue is gone, which the `closed` flag reports first.
            match verdict.deadline() {
                Some(deadline) => {
                    tokio::select! {
                        changed = status.changed() => if changed.is_err() { return SlowOutcome::QueueClosed },
                        () = sleep_until(deadline) => {}
                    }
                }
                None => {
                    if status.changed().await.is_err() {
                        return SlowOutcome::QueueClosed;
                    }
                }
            }
        }
    }
}

impl fmt::Debug for SlowConsumerDetector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlowConsumerDetector")
            .field("queue", &self.queue)
            .field("policy", &self.policy)
            .field("slow", &self.is_slow())
            .finish()
    }
}
