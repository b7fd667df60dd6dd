//! A bounded multi-producer, single-consumer outbound queue with watermarks.
//!
//! Why: a peer that reads slower than the server writes must slow the server down, not
//! make it buffer without bound. Each connection gets one queue, capped both in messages
//! and in bytes (a thousand 4 MiB frames is not "a thousand messages" to the allocator).
//! A full queue makes [`QueueSender::push`] wait — that wait is the backpressure that
//! reaches the handlers producing output — and makes [`QueueSender::try_push`] hand the
//! item back. The writer drains everything queued at once
//! ([`QueueReceiver::recv_many`]) so a batch costs one write.
//!
//! The queue also tells the rest of the system how full it is: crossing the high
//! watermark, being full, and falling back to the low watermark are *events* (`warn`,
//! `block`, `clear`) logged through `tracing` and counted; the level feeds the slow
//! consumer detector ([`crate::slow`]); every byte queued is charged to an optional shared
//! [`MemoryBudget`](crate::budget::MemoryBudget).
//!
//! ```text
//!                 fill >= high                        a push finds no room
//!   ┌────────┐ ──────────────────▶ ┌──────┐ ─────────────────────────────▶ ┌─────────┐
//!   │ NORMAL │        (warn)       │ HIGH │            (block)              │ BLOCKED │
//!   └────────┘ ◀────────────────── └──────┘                                 └─────────┘
//!       ▲          fill <= low (clear)                                          │
//!       └───────────────────────────────────────────────────────────────────────┘
//!                                   fill <= low (clear)
//! ```
//!
//! *fill* is the larger share of either cap. A push that finds no room from NORMAL goes
//! straight to BLOCKED. The levels are sticky until the low watermark, so each episode
//! logs one `warn`, at most one `block` and one `clear`.
//!
//! Implementation: admission is two fair tokio semaphores (message slots and bytes), so
//! waiting producers are served in order and a heavy item is not starved by light ones;
//! the items sit in a `VecDeque` behind a `parking_lot` mutex that a batch drain takes
//! once. Close semantics follow `tokio::sync::mpsc`: the receiver sees `None` once every
//! sender is gone (or it closed) and the queue is empty.

mod channel;
mod watermark;

pub use channel::{OutboundQueue, QueueMonitor, QueueReceiver, QueueSender, QueueStatus, channel};
pub use watermark::{
    QueueCounters, QueueCountersSnapshot, QueueStats, WatermarkEvent, WatermarkEventKind,
    WatermarkLevel,
};

use std::fmt;

/// What the queue needs to know about an item: its size, and whether it may be dropped
/// when its consumer is slow.
pub trait Weighted {
    /// The bytes this item holds, charged to the queue's byte cap and to the budget.
    /// Must not change while the item is queued.
    fn weight(&self) -> usize;

    /// True for items that may be dropped when the consumer is slow (progress or log
    /// notifications, for instance). Answers to requests never are. Default: `false`.
    fn droppable(&self) -> bool {
        false
    }
}

impl Weighted for bytes::Bytes {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weighted for Vec<u8> {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weighted for String {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weighted for Box<[u8]> {
    fn weight(&self) -> usize {
        self.len()
    }
}

/// An item with its weight and droppability stated by the producer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedItem<T> {
    /// The item.
    pub item: T,
    /// Its weight in bytes.
    pub weight: usize,
    /// Whether it may be dropped when the consumer is slow.
    pub droppable: bool,
}

impl<T> WeightedItem<T> {
    /// An item that must be delivered.
    pub fn new(item: T, weight: usize) -> Self {
        WeightedItem {
            item,
            weight,
            droppable: false,
        }
    }

    /// An item that may be dropped when the consumer is slow.
    pub fn droppable(item: T, weight: usize) -> Self {
        WeightedItem {
            item,
            weight,
            droppable: true,
        }
    }
}

impl<T> Weighted for WeightedItem<T> {
    fn weight(&self) -> usize {
        self.weight
    }

    fn droppable(&self) -> bool {
        self.droppable
    }
}

/// Names a queue in events and logs (the connection or session it serves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(pub u64);

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u64> for QueueId {
    fn from(id: u64) -> Self {
        QueueId(id)
    }
}
