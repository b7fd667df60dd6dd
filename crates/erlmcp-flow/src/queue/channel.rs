//! The queue itself: admission by two fair semaphores, storage behind one mutex.
//!
//! Why this shape: `tokio::sync::mpsc` bounds messages but not bytes, cannot hand back
//! the level it is at, and releases capacity one message at a time. Here a producer takes
//! one message slot and `min(weight, max_bytes)` byte permits (fair, FIFO, so a heavy
//! item is not starved), then appends under the mutex; the writer takes everything queued
//! under one lock and returns the capacity of the whole batch in one call per semaphore.
//! Levels are computed under the same lock, so an event never disagrees with the counts.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use parking_lot::Mutex;
use tokio::sync::{Semaphore, TryAcquireError, watch};

use super::watermark::{
    QueueCounters, QueueStats, WatermarkEvent, WatermarkEventKind, WatermarkLevel,
};
use super::{QueueId, Weighted};
use crate::budget::MemoryBudget;
use crate::config::QueueConfig;
use crate::error::{FlowError, InvalidConfig, PushError};

/// A validated queue configuration that makes one queue per connection.
///
/// ```
/// # use erlmcp_flow::{OutboundQueue, QueueConfig};
/// let factory = OutboundQueue::new(&QueueConfig::default()).unwrap();
/// let (tx, mut rx) = factory.channel::<Vec<u8>>(7);
/// tx.try_push(b"hello".to_vec()).unwrap();
/// assert_eq!(rx.try_recv().as_deref(), Some(&b"hello"[..]));
/// ```
#[derive(Debug, Clone)]
pub struct OutboundQueue {
    limits: Limits,
    budget: Option<MemoryBudget>,
    counters: Option<Arc<QueueCounters>>,
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    max_messages: usize,
    max_bytes: usize,
    high_messages: usize,
    low_messages: usize,
    high_bytes: usize,
    low_bytes: usize,
}

impl OutboundQueue {
    /// Validates `config`.
    pub fn new(config: &QueueConfig) -> Result<Self, InvalidConfig> {
        config.validate()?;
        let (high_messages, low_messages) = config.watermarks.thresholds(config.max_messages);
        let (high_bytes, low_bytes) = config.watermarks.thresholds(config.max_bytes);
        Ok(OutboundQueue {
            limits: Limits {
                max_messages: config.max_messages,
                max_bytes: config.max_bytes,
                high_messages,
                low_messages,
                high_bytes,
                low_bytes,
            },
            budget: None,
            counters: None,
        })
    }

    /// Charges every byte queued in the queues made from now on to `budget`.
    pub fn budget(mut self, budget: MemoryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Adds the events of the queues made from now on to `counters` (besides each
    /// queue's own [`QueueStats`]).
    pub fn counters(mut self, counters: Arc<QueueCounters>) -> Self {
        self.counters = Some(counters);
        self
    }

    /// A new queue named `id`.
    pub fn channel<T>(&self, id: impl Into<QueueId>) -> (QueueSender<T>, QueueReceiver<T>) {
        let limits = self.limits;
        let (status, _) = watch::channel(QueueStatus {
            level: WatermarkLevel::Normal,
            closed: false,
        });
        let shared = Arc::new(Shared {
            id: id.into(),
            limits,
            slots: Semaphore::new(limits.max_messages),
            bytes: Semaphore::new(limits.max_bytes),
            state: Mutex::new(State {
                items: VecDeque::new(),
                bytes: 0,
                level: WatermarkLevel::Normal,
                rx_closed: false,
                senders_gone: false,
                rx_waker: None,
                counts: Counts::default(),
            }),
            senders: AtomicUsize::new(1),
            shedding: AtomicBool::new(false),
            level: AtomicU8::new(WatermarkLevel::Normal.as_u8()),
            status,
            budget: self.budget.clone(),
            counters: self.counters.clone(),
        });
        (
            QueueSender {
                shared: shared.clone(),
            },
            QueueReceiver { shared },
        )
    }
}

/// A new queue named `id` with the caps of `config`, charging no budget.
pub fn channel<T>(
    id: impl Into<QueueId>,
    config: &QueueConfig,
) -> Result<(QueueSender<T>, QueueReceiver<T>), InvalidConfig> {
    Ok(OutboundQueue::new(config)?.channel(id))
}

/// The level of a queue and whether its receiver is closed, as watched by
/// [`QueueMonitor::subscribe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStatus {
    /// The watermark level.
    pub level: WatermarkLevel,
    /// True once the receiver closed or was dropped.
    pub closed: bool,
}

struct Shared<T> {
    id: QueueId,
    limits: Limits,
    slots: Semaphore,
    bytes: Semaphore,
    state: Mutex<State<T>>,
    senders: AtomicUsize,
    shedding: AtomicBool,
    /// Mirror of `State::level` for lock-free reads.
    level: AtomicU8,
    status: watch::Sender<QueueStatus>,
    budget: Option<MemoryBudget>,
    counters: Option<Arc<QueueCounters>>,
}

struct State<T> {
    items: VecDeque<Entry<T>>,
    /// Sum of the weights of `items`.
    bytes: usize,
    level: WatermarkLevel,
    rx_closed: bool,
    senders_gone: bool,
    rx_waker: Option<Waker>,
    counts: Counts,
}

struct Entry<T> {
    item: T,
    weight: usize,
}

#[derive(Default)]
struct Counts {
    pushed: u64,
    popped: u64,
    shed: u64,
    purged: u64,
    blocked_pushes: u64,
    warn: u64,
    block: u64,
    clear: u64,
    peak_len: usize,
    peak_bytes: usize,
    last_event: Option<WatermarkEvent>,
}

/// What a take removed, settled after the lock is released.
struct Taken {
    messages: usize,
    charge: usize,
    weight: usize,
    event: Option<WatermarkEvent>,
}

impl<T> Shared<T> {
    /// Byte permits an item of `weight` takes: an item heavier than the cap takes the
    /// whole cap, so it is admitted alone.
    fn charge_of(&self, weight: usize) -> usize {
        weight.min(self.limits.max_bytes)
    }

    fn try_admit(&self, charge: usize) -> Result<(), TryAcquireError> {
        let slot = self.slots.try_acquire()?;
        // `charge` is at most `max_bytes`, which the config bounds to `u32::MAX`.
        let bytes = self.bytes.try_acquire_many(charge as u32)?;
        slot.forget();
        bytes.forget();
        Ok(())
    }

    async fn admit(&self, charge: usize) -> Result<(), FlowError> {
        let slot = self.slots.acquire().await.map_err(|_| FlowError::Closed)?;
        let bytes = self
            .bytes
            .acquire_many(charge as u32)
            .await
            .map_err(|_| FlowError::Closed)?;
        slot.forget();
        bytes.forget();
        Ok(())
    }

    fn enqueue(&self, item: T, weight: usize) -> Result<(), PushError<T>> {
        // Charge before the item is visible, so the receiver never releases first.
        if let Some(budget) = &self.budget {
            budget.charge(weight);
        }
        let mut guard = self.state.lock();
        let st = &mut *guard;
        if st.rx_closed {
            drop(guard);
            if let Some(budget) = &self.budget {
                budget.release(weight);
            }
            return Err(PushError::new(item, FlowError::Closed));
        }
        st.items.push_back(Entry { item, weight });
        st.bytes += weight;
        st.counts.pushed += 1;
        st.counts.peak_len = st.counts.peak_len.max(st.items.len());
        st.counts.peak_bytes = st.counts.peak_bytes.max(st.bytes);
        let event = if st.level == WatermarkLevel::Normal
            && (st.items.len() >= self.limits.high_messages || st.bytes >= self.limits.high_bytes)
        {
            Some(self.change_level(st, WatermarkLevel::High, WatermarkEventKind::Warn))
        } else {
            None
        };
        let waker = st.rx_waker.take();
        drop(guard);
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(event) = event {
            self.emit(event);
        }
        Ok(())
    }

    /// Moves `items` out to `sink`, at most `max`, oldest first.
    fn take(&self, st: &mut State<T>, max: usize, mut sink: impl FnMut(T)) -> Taken {
        let messages = max.min(st.items.len());
        let mut weight = 0usize;
        let mut charge = 0usize;
        for entry in st.items.drain(..messages) {
            weight += entry.weight;
            charge += self.charge_of(entry.weight);
            sink(entry.item);
        }
        st.bytes -= weight;
        st.counts.popped += messages as u64;
        let event = self.after_removal(st);
        Taken {
            messages,
            charge,
            weight,
            event,
        }
    }

    /// Returns capacity and budget; emits the event. Runs without the lock.
    fn settle(&self, taken: Taken) {
        if taken.messages > 0 {
            self.slots.add_permits(taken.messages);
        }
        if taken.charge > 0 {
            self.bytes.add_permits(taken.charge);
        }
        if let Some(budget) = &self.budget {
            budget.release(taken.weight);
        }
        if let Some(event) = taken.event {
            self.emit(event);
        }
    }

    fn after_removal(&self, st: &mut State<T>) -> Option<WatermarkEvent> {
        (st.level != WatermarkLevel::Normal
            && st.items.len() <= self.limits.low_messages
            && st.bytes <= self.limits.low_bytes)
            .then(|| self.change_level(st, WatermarkLevel::Normal, WatermarkEventKind::Clear))
    }

    fn change_level(
        &self,
        st: &mut State<T>,
        level: WatermarkLevel,
        kind: WatermarkEventKind,
    ) -> WatermarkEvent {
        st.level = level;
        self.level.store(level.as_u8(), Ordering::Release);
        self.status.send_modify(|status| status.level = level);
        match kind {
            WatermarkEventKind::Block => st.counts.block += 1,
            WatermarkEventKind::Warn => st.counts.warn += 1,
            WatermarkEventKind::Clear => st.counts.clear += 1,
        }
        let event = WatermarkEvent {
            queue: self.id,
            kind,
            len: st.items.len(),
            bytes: st.bytes,
            max_messages: self.limits.max_messages,
            max_bytes: self.limits.max_bytes,
            at: SystemTime::now(),
        };
        st.counts.last_event = Some(event.clone());
        event
    }

    fn emit(&self, event: WatermarkEvent) {
        event.log();
        if let Some(counters) = &self.counters {
            counters.event(event.kind);
        }
    }

    /// A producer found no room.
    fn note_blocked(&self) {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        st.counts.blocked_pushes += 1;
        let event = (st.level != WatermarkLevel::Blocked)
            .then(|| self.change_level(st, WatermarkLevel::Blocked, WatermarkEventKind::Block));
        drop(guard);
        if let Some(event) = event {
            self.emit(event);
        }
    }

    fn note_shed(&self) {
        self.state.lock().counts.shed += 1;
        if let Some(counters) = &self.counters {
            counters.add_shed(1);
        }
    }

    fn close_rx(&self) {
        {
            let mut st = self.state.lock();
            if st.rx_closed {
                return;
            }
            st.rx_closed = true;
        }
        self.slots.close();
        self.bytes.close();
        self.status.send_modify(|status| status.closed = true);
    }

    fn stats(&self) -> QueueStats {
        let st = self.state.lock();
        QueueStats {
            id: self.id,
            len: st.items.len(),
            bytes: st.bytes,
            max_messages: self.limits.max_messages,
            max_bytes: self.limits.max_bytes,
            level: st.level,
            pushed: st.counts.pushed,
            popped: st.counts.popped,
            shed: st.counts.shed,
            purged: st.counts.purged,
            blocked_pushes: st.counts.blocked_pushes,
            warn_events: st.counts.warn,
            block_events: st.counts.block,
            clear_events: st.counts.clear,
            peak_len: st.counts.peak_len,
            peak_bytes: st.counts.peak_bytes,
            last_event: st.counts.last_event.clone(),
        }
    }

    fn level(&self) -> WatermarkLevel {
        WatermarkLevel::from_u8(self.level.load(Ordering::Acquire))
    }
}

impl<T: Weighted> Shared<T> {
    fn refuse_if_shedding(&self, item: &T) -> bool {
        if self.shedding.load(Ordering::Relaxed) && item.droppable() {
            self.note_shed();
            return true;
        }
        false
    }

    fn purge_droppable(&self) -> usize {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let mut removed = Vec::new();
        let mut weight = 0usize;
        let mut charge = 0usize;
        let mut kept = VecDeque::with_capacity(st.items.len());
        for entry in st.items.drain(..) {
            if entry.item.droppable() {
                weight += entry.weight;
                charge += self.charge_of(entry.weight);
                removed.push(entry.item);
            } else {
                kept.push_back(entry);
            }
        }
        st.items = kept;
        st.bytes -= weight;
        st.counts.purged += removed.len() as u64;
        let event = self.after_removal(st);
        drop(guard);
        let purged = removed.len();
        drop(removed);
        if let Some(counters) = &self.counters {
            counters.add_purged(purged as u64);
        }
        self.settle(Taken {
            messages: purged,
            charge,
            weight,
            event,
        });
        purged
    }
}

/// The producing half of a queue. Cloning adds a producer.
pub struct QueueSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Weighted> QueueSender<T> {
    /// Queues `item`, waiting for room: this wait is the backpressure. Fails with
    /// [`FlowError::Closed`] once the receiver is closed or gone, or [`FlowError::Shed`]
    /// for a droppable item while the queue sheds them. Cancelling the future drops the
    /// item and takes no room.
    pub async fn push(&self, item: T) -> Result<(), PushError<T>> {
        let shared = &*self.shared;
        if shared.refuse_if_shedding(&item) {
            return Err(PushError::new(item, FlowError::Shed));
        }
        let weight = item.weight();
        let charge = shared.charge_of(weight);
        match shared.try_admit(charge) {
            Ok(()) => {}
            Err(TryAcquireError::Closed) => return Err(PushError::new(item, FlowError::Closed)),
            Err(TryAcquireError::NoPermits) => {
                shared.note_blocked();
                if let Err(reason) = shared.admit(charge).await {
                    return Err(PushError::new(item, reason));
                }
            }
        }
        shared.enqueue(item, weight)
    }

    /// Queues `item` if there is room now; otherwise hands it back with
    /// [`FlowError::QueueFull`] (or `Closed` / `Shed` as for [`push`](Self::push)).
    pub fn try_push(&self, item: T) -> Result<(), PushError<T>> {
        let shared = &*self.shared;
        if shared.refuse_if_shedding(&item) {
            return Err(PushError::new(item, FlowError::Shed));
        }
        let weight = item.weight();
        match shared.try_admit(shared.charge_of(weight)) {
            Ok(()) => shared.enqueue(item, weight),
            Err(TryAcquireError::Closed) => Err(PushError::new(item, FlowError::Closed)),
            Err(TryAcquireError::NoPermits) => {
                shared.note_blocked();
                Err(PushError::new(item, FlowError::QueueFull))
            }
        }
    }
}

impl<T> QueueSender<T> {
    /// The queue's name.
    pub fn id(&self) -> QueueId {
        self.shared.id
    }

    /// True once the receiver closed or was dropped.
    pub fn is_closed(&self) -> bool {
        self.shared.slots.is_closed()
    }

    /// Message slots free now.
    pub fn free_slots(&self) -> usize {
        self.shared.slots.available_permits()
    }

    /// The watermark level now.
    pub fn level(&self) -> WatermarkLevel {
        self.shared.level()
    }

    /// A snapshot of the queue's counters.
    pub fn stats(&self) -> QueueStats {
        self.shared.stats()
    }

    /// A handle that watches and steers the queue without keeping it open.
    pub fn monitor(&self) -> QueueMonitor<T> {
        QueueMonitor {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Clone for QueueSender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        QueueSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for QueueSender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let waker = {
            let mut st = self.shared.state.lock();
            st.senders_gone = true;
            st.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for QueueSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueSender")
            .field("id", &self.shared.id)
            .field("level", &self.shared.level())
            .finish_non_exhaustive()
    }
}

/// The consuming half of a queue (the connection's writer).
pub struct QueueReceiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> QueueReceiver<T> {
    /// The next item; `None` once every sender is gone (or [`close`](Self::close) was
    /// called) and the queue is empty.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Waits for at least one item, then moves up to `max` queued items to the end of
    /// `buf`: one batch for one write. Returns how many were moved; `0` means the queue is
    /// finished (or `max` was `0`).
    pub async fn recv_many(&mut self, buf: &mut Vec<T>, max: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, buf, max)).await
    }

    /// Polls for the next item (see [`recv`](Self::recv)).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let shared = &*self.shared;
        let mut guard = shared.state.lock();
        let st = &mut *guard;
        if st.items.is_empty() {
            return match Self::park(st, cx) {
                true => Poll::Ready(None),
                false => Poll::Pending,
            };
        }
        let mut out = None;
        let taken = shared.take(st, 1, |item| out = Some(item));
        drop(guard);
        shared.settle(taken);
        Poll::Ready(out)
    }

    /// Polls for a batch (see [`recv_many`](Self::recv_many)).
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut Vec<T>,
        max: usize,
    ) -> Poll<usize> {
        if max == 0 {
            return Poll::Ready(0);
        }
        let shared = &*self.shared;
        let mut guard = shared.state.lock();
        let st = &mut *guard;
        if st.items.is_empty() {
            return match Self::park(st, cx) {
                true => Poll::Ready(0),
                false => Poll::Pending,
            };
        }
        buf.reserve(max.min(st.items.len()));
        let taken = shared.take(st, max, |item| buf.push(item));
        drop(guard);
        let moved = taken.messages;
        shared.settle(taken);
        Poll::Ready(moved)
    }

    /// On an empty queue: true when it is finished, else registers the waker.
    fn park(st: &mut State<T>, cx: &mut Context<'_>) -> bool {
        if st.rx_closed || st.senders_gone {
            return true;
        }
        match &mut st.rx_waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        false
    }

    /// The next item if one is queued now.
    pub fn try_recv(&mut self) -> Option<T> {
        let shared = &*self.shared;
        let mut guard = shared.state.lock();
        if guard.items.is_empty() {
            return None;
        }
        let mut out = None;
        let taken = shared.take(&mut guard, 1, |item| out = Some(item));
        drop(guard);
        shared.settle(taken);
        out
    }

    /// Moves up to `max` items queued now to the end of `buf`, without waiting. Returns
    /// how many were moved.
    pub fn drain_into(&mut self, buf: &mut Vec<T>, max: usize) -> usize {
        let shared = &*self.shared;
        let mut guard = shared.state.lock();
        if guard.items.is_empty() || max == 0 {
            return 0;
        }
        buf.reserve(max.min(guard.items.len()));
        let taken = shared.take(&mut guard, max, |item| buf.push(item));
        drop(guard);
        let moved = taken.messages;
        shared.settle(taken);
        moved
    }

    /// Refuses new pushes (waiting producers get [`FlowError::Closed`]); what is queued
    /// can still be received.
    pub fn close(&mut self) {
        self.shared.close_rx();
    }

    /// True once every sender is gone or [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        let st = self.shared.state.lock();
        st.rx_closed || st.senders_gone
    }

    /// The queue's name.
    pub fn id(&self) -> QueueId {
        self.shared.id
    }

    /// Messages queued now.
    pub fn len(&self) -> usize {
        self.shared.state.lock().items.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes queued now.
    pub fn bytes(&self) -> usize {
        self.shared.state.lock().bytes
    }

    /// The watermark level now.
    pub fn level(&self) -> WatermarkLevel {
        self.shared.level()
    }

    /// A snapshot of the queue's counters.
    pub fn stats(&self) -> QueueStats {
        self.shared.stats()
    }

    /// A handle that watches and steers the queue without keeping it open.
    pub fn monitor(&self) -> QueueMonitor<T> {
        QueueMonitor {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for QueueReceiver<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        shared.close_rx();
        // Free what is still queued now: its memory and its share of the budget.
        let items = {
            let mut st = shared.state.lock();
            st.bytes = 0;
            std::mem::take(&mut st.items)
        };
        if let Some(budget) = &shared.budget {
            budget.release(items.iter().map(|entry| entry.weight).sum());
        }
        drop(items);
    }
}

impl<T> futures::Stream for QueueReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> fmt::Debug for QueueReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueReceiver")
            .field("id", &self.shared.id)
            .field("level", &self.shared.level())
            .finish_non_exhaustive()
    }
}

/// Watches and steers a queue (for the slow-consumer detector and metrics). Holding one
/// keeps neither side open.
pub struct QueueMonitor<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for QueueMonitor<T> {
    fn clone(&self) -> Self {
        QueueMonitor {
            shared: self.shared.clone(),
        }
    }
}

impl<T> QueueMonitor<T> {
    /// The queue's name.
    pub fn id(&self) -> QueueId {
        self.shared.id
    }

    /// The watermark level now.
    pub fn level(&self) -> WatermarkLevel {
        self.shared.level()
    }

    /// Level and closed flag, updated on every change.
    pub fn subscribe(&self) -> watch::Receiver<QueueStatus> {
        self.shared.status.subscribe()
    }

    /// A snapshot of the queue's counters.
    pub fn stats(&self) -> QueueStats {
        self.shared.stats()
    }

    /// While on, droppable items are refused at push with [`FlowError::Shed`].
    pub fn set_shedding(&self, on: bool) {
        self.shared.shedding.store(on, Ordering::Relaxed);
    }

    /// True while droppable items are refused.
    pub fn is_shedding(&self) -> bool {
        self.shared.shedding.load(Ordering::Relaxed)
    }

    /// Closes the receiving side: pushes fail from now on; what is queued can still be
    /// received.
    pub fn close(&self) {
        self.shared.close_rx();
    }
}

impl<T: Weighted> QueueMonitor<T> {
    /// Removes every droppable item queued now; returns how many.
    pub fn purge_droppable(&self) -> usize {
        self.shared.purge_droppable()
    }
}

impl<T> fmt::Debug for QueueMonitor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueMonitor")
            .field("id", &self.shared.id)
            .field("level", &self.shared.level())
            .finish_non_exhaustive()
    }
}
