//! Watermark levels, events and counters of a queue.
//!
//! Why separate from the channel: the levels are what the rest of the system reads
//! (slow-consumer detection, metrics, logs); the channel is how items move. This module
//! holds the vocabulary and the one place events become log lines and counter bumps.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::QueueId;
use crate::breaker::unix_millis;

/// How full a queue is, with hysteresis (see the state diagram in [`crate::queue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WatermarkLevel {
    /// Below the high watermark, or back at the low one since.
    Normal,
    /// Reached the high watermark and not yet back at the low one.
    High,
    /// A producer found no room since the queue left NORMAL.
    Blocked,
}

impl WatermarkLevel {
    /// True at [`High`](Self::High) or [`Blocked`](Self::Blocked): what the slow-consumer
    /// detector watches.
    pub fn is_above_high(self) -> bool {
        self != WatermarkLevel::Normal
    }

    pub(crate) fn as_u8(self) -> u8 {
        match self {
            WatermarkLevel::Normal => 0,
            WatermarkLevel::High => 1,
            WatermarkLevel::Blocked => 2,
        }
    }

    pub(crate) fn from_u8(raw: u8) -> Self {
        match raw {
            1 => WatermarkLevel::High,
            2 => WatermarkLevel::Blocked,
            _ => WatermarkLevel::Normal,
        }
    }
}

/// What happened to a queue's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatermarkEventKind {
    /// A producer found the queue full (it waits, or `try_push` was refused).
    Block,
    /// The queue reached its high watermark.
    Warn,
    /// The queue fell back to its low watermark.
    Clear,
}

impl WatermarkEventKind {
    /// `block`, `warn` or `clear`.
    pub fn as_str(self) -> &'static str {
        match self {
            WatermarkEventKind::Block => "block",
            WatermarkEventKind::Warn => "warn",
            WatermarkEventKind::Clear => "clear",
        }
    }
}

/// A watermark crossing, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatermarkEvent {
    /// The queue (connection) it happened to.
    pub queue: QueueId,
    /// What happened.
    pub kind: WatermarkEventKind,
    /// Messages queued at the time.
    pub len: usize,
    /// Bytes queued at the time.
    pub bytes: usize,
    /// The message cap.
    pub max_messages: usize,
    /// The byte cap.
    pub max_bytes: usize,
    /// Wall-clock time of the crossing.
    pub at: SystemTime,
}

impl WatermarkEvent {
    pub(crate) fn log(&self) {
        let at_ms = unix_millis(self.at);
        let event = self.kind.as_str();
        match self.kind {
            WatermarkEventKind::Block | WatermarkEventKind::Warn => tracing::warn!(
                target: "erlmcp_flow::queue",
                queue = %self.queue,
                event,
                len = self.len,
                bytes = self.bytes,
                max_messages = self.max_messages,
                max_bytes = self.max_bytes,
                at_ms,
                "outbound queue watermark"
            ),
            WatermarkEventKind::Clear => tracing::info!(
                target: "erlmcp_flow::queue",
                queue = %self.queue,
                event,
                len = self.len,
                bytes = self.bytes,
                max_messages = self.max_messages,
                max_bytes = self.max_bytes,
                at_ms,
                "outbound queue watermark"
            ),
        }
    }
}

/// A point-in-time view of one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStats {
    /// The queue.
    pub id: QueueId,
    /// Messages queued now.
    pub len: usize,
    /// Bytes queued now.
    pub bytes: usize,
    /// The message cap.
    pub max_messages: usize,
    /// The byte cap.
    pub max_bytes: usize,
    /// The level now.
    pub level: WatermarkLevel,
    /// Items accepted.
    pub pushed: u64,
    /// Items taken by the receiver.
    pub popped: u64,
    /// Droppable items refused at push while shedding.
    pub shed: u64,
    /// Droppable items removed from the queue by a purge.
    pub purged: u64,
    /// Pushes that found no room (waited, or were refused by `try_push`).
    pub blocked_pushes: u64,
    /// `warn` events.
    pub warn_events: u64,
    /// `block` events.
    pub block_events: u64,
    /// `clear` events.
    pub clear_events: u64,
    /// The most messages ever queued at once.
    pub peak_len: usize,
    /// The most bytes ever queued at once.
    pub peak_bytes: usize,
    /// The last watermark event, if any.
    pub last_event: Option<WatermarkEvent>,
}

/// Counters shared by many queues (for a process-wide view); pass one to
/// [`OutboundQueue::counters`](super::OutboundQueue::counters).
#[derive(Debug, Default)]
pub struct QueueCounters {
    warn: AtomicU64,
    block: AtomicU64,
    clear: AtomicU64,
    shed: AtomicU64,
    purged: AtomicU64,
}

/// The values of a [`QueueCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct QueueCountersSnapshot {
    /// `warn` events.
    pub warn_events: u64,
    /// `block` events.
    pub block_events: u64,
    /// `clear` events.
    pub clear_events: u64,
    /// Droppable items refused at push while shedding.
    pub shed: u64,
    /// Droppable items removed by purges.
    pub purged: u64,
}

impl QueueCounters {
    /// Zeroed counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// The values now.
    pub fn snapshot(&self) -> QueueCountersSnapshot {
        QueueCountersSnapshot {
            warn_events: self.warn.load(Ordering::Relaxed),
            block_events: self.block.load(Ordering::Relaxed),
            clear_events: self.clear.load(Ordering::Relaxed),
            shed: self.shed.load(Ordering::Relaxed),
            purged: self.purged.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn event(&self, kind: WatermarkEventKind) {
        let counter = match kind {
            WatermarkEventKind::Block => &self.block,
            WatermarkEventKind::Warn => &self.warn,
            WatermarkEventKind::Clear => &self.clear,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_shed(&self, n: u64) {
        self.shed.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_purged(&self, n: u64) {
        self.purged.fetch_add(n, Ordering::Relaxed);
    }
}
