//! Outbound queue, slow-consumer detection and memory budget: behaviour, timing (with a
//! paused tokio clock) and properties.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use erlmcp_flow::queue::QueueCounters;
use erlmcp_flow::service::LoadShedLayer;
use erlmcp_flow::{
    BudgetConfig, FlowError, MemoryBudget, OutboundQueue, QueueConfig, QueueId, SlowAction,
    SlowConsumerDetector, SlowConsumerPolicy, SlowOutcome, SlowVerdict, WatermarkEventKind,
    WatermarkLevel, Watermarks, Weighted,
};
use proptest::prelude::*;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt, service_fn};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Msg {
    producer: usize,
    seq: u64,
    weight: usize,
    droppable: bool,
}

impl Msg {
    fn new(seq: u64, weight: usize) -> Self {
        Msg {
            producer: 0,
            seq,
            weight,
            droppable: false,
        }
    }

    fn droppable(seq: u64, weight: usize) -> Self {
        Msg {
            droppable: true,
            ..Msg::new(seq, weight)
        }
    }
}

impl Weighted for Msg {
    fn weight(&self) -> usize {
        self.weight
    }

    fn droppable(&self) -> bool {
        self.droppable
    }
}

fn config(max_messages: usize, max_bytes: usize) -> QueueConfig {
    QueueConfig {
        max_messages,
        max_bytes,
        watermarks: Watermarks::new(80, 50),
    }
}

fn budget(limit: usize) -> MemoryBudget {
    MemoryBudget::new(&BudgetConfig {
        limit_bytes: limit,
        watermarks: Watermarks::new(80, 50),
    })
    .unwrap()
}

// ---- queue behaviour ----

#[test]
fn invalid_config_is_refused() {
    assert_eq!(
        OutboundQueue::new(&config(0, 10)).unwrap_err().field(),
        "queue.max_messages"
    );
    assert_eq!(
        OutboundQueue::new(&config(10, 0)).unwrap_err().field(),
        "queue.max_bytes"
    );
}

#[test]
fn try_push_respects_message_and_byte_caps() {
    let (tx, mut rx) = erlmcp_flow::queue::channel::<Msg>(1, &config(3, 100)).unwrap();
    tx.try_push(Msg::new(0, 10)).unwrap();
    tx.try_push(Msg::new(1, 10)).unwrap();
    tx.try_push(Msg::new(2, 10)).unwrap();
    let refused = tx.try_push(Msg::new(3, 10)).unwrap_err();
    assert!(refused.is_full());
    assert_eq!(refused.into_inner().seq, 3);

    assert_eq!(rx.try_recv().unwrap().seq, 0);
    assert_eq!(rx.try_recv().unwrap().seq, 1);
    assert_eq!(rx.try_recv().unwrap().seq, 2);
    assert!(rx.try_recv().is_none());

    // Byte cap: 60 + 50 > 100.
    tx.try_push(Msg::new(4, 60)).unwrap();
    assert!(tx.try_push(Msg::new(5, 50)).unwrap_err().is_full());
    tx.try_push(Msg::new(6, 40)).unwrap();
    assert_eq!(rx.bytes(), 100);
}

#[test]
fn an_item_heavier_than_the_byte_cap_is_admitted_alone() {
    let (tx, mut rx) = erlmcp_flow::queue::channel::<Msg>(1, &config(10, 100)).unwrap();
    tx.try_push(Msg::new(0, 1)).unwrap();
    assert!(tx.try_push(Msg::new(1, 500)).unwrap_err().is_full());
    rx.try_recv().unwrap();
    tx.try_push(Msg::new(1, 500)).unwrap();
    assert!(tx.try_push(Msg::new(2, 1)).unwrap_err().is_full());
    assert_eq!(rx.try_recv().unwrap().weight, 500);
    tx.try_push(Msg::new(2, 1)).unwrap();
}

#[tokio::test]
async fn push_waits_for_room_and_the_wait_is_backpressure() {
    let (tx, mut rx) = erlmcp_flow::queue::channel::<Msg>(1, &config(2, 1 << 20)).unwrap();
    tx.push(Msg::new(0, 1)).await.unwrap();
    tx.push(Msg::new(1, 1)).await.unwrap();
    let producer = {
        let tx = tx.clone();
        tokio::spawn(async move { tx.push(Msg::new(2, 1)).await })
    };
    tokio::task::yield_now().await;
    assert!(!producer.is_finished(), "a full queue makes push wait");
    assert_eq!(rx.level(), WatermarkLevel::Blocked);

    let mut batch = Vec::new();
    assert_eq!(rx.recv_many(&mut batch, 16).await, 2);
    producer.await.unwrap().unwrap();
    assert_eq!(rx.recv().await.unwrap().seq, 2);
    let seqs: Vec<u64> = batch.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [0, 1]);
}

#[tokio::test]
async fn receiver_sees_none_after_every_sender_is_gone() {
    let (tx, mut rx) = erlmcp_flow::queue::channel::<Msg>(1, &config(8, 1024)).unwrap();
    let tx2 = tx.clone();
    tx.push(Msg::new(0, 1)).await.unwrap();
    drop(tx);
    tx2.push(Msg::new(1, 1)).await.unwrap();
    let waiter = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(m) = rx.recv().await {
            got.push(m.seq);
        }
        got
    });
    tokio::task::yield_now().await;
    drop(tx2);
    assert_eq!(waiter.await.unwrap(), [0, 1]);
}

#[tokio::test]
async fn close_refuses_pushes_but_delivers_what_is_queued() {
    let (tx, mut rx) = erlmcp_flow::queue::channel::<Msg>(1, &config(1, 1024)).unwrap();
    tx.push(Msg::new(0, 1)).await.unwrap();
    let blocked = {
        let tx = tx.clone();
        tokio::spawn(async move { tx.push(Msg::new(1, 1)).await })
    };
    tokio::task::yield_now().await;
    rx.close();
    let err = blocked.await.unwrap().unwrap_err();
    assert!(err.is_closed());
    assert!(tx.is_closed());
    assert!(tx.try_push(Msg::new(2, 1)).unwrap_err().is_closed());
    assert_eq!(rx.recv().await.unwrap().seq, 0);
    assert!(rx.recv().await.is_none());
}

#[tokio::test]
async fn dropping_the_receiver_fails_pushes_and_frees_the_budget() {
    let budget = budget(1 << 20);
    let queues = OutboundQueue::new(&config(8, 1024))
        .unwrap()
        .budget(budget.clone());
    let (tx, rx) = queues.channel::<Msg>(1);
    tx.push(Msg::new(0, 100)).await.unwrap();
    tx.push(Msg::new(1, 200)).await.unwrap();
    assert_eq!(budget.used(), 300);
    drop(rx);
    assert_eq!(budget.used(), 0);
    assert_eq!(
        tx.push(Msg::new(2, 1)).await.unwrap_err().reason(),
        &FlowError::Closed
    );
    assert_eq!(budget.used(), 0);
}

#[test]
fn watermark_events_warn_block_clear_with_counters() {
    let counters = Arc::new(QueueCounters::new());
    let queues = OutboundQueue::new(&config(10, 1 << 20))
        .unwrap()
        .counters(counters.clone());
    let (tx, mut rx) = queues.channel::<Msg>(QueueId(77));
    let monitor = tx.monitor();
    let status = monitor.subscribe();

    for seq in 0..7 {
        tx.try_push(Msg::new(seq, 1)).unwrap();
    }
    assert_eq!(tx.level(), WatermarkLevel::Normal);
    tx.try_push(Msg::new(7, 1)).unwrap(); // 8 of 10 = 80 %
    assert_eq!(tx.level(), WatermarkLevel::High);
    let warn = tx.stats().last_event.unwrap();
    assert_eq!(warn.kind, WatermarkEventKind::Warn);
    assert_eq!(
        (warn.queue, warn.len, warn.max_messages),
        (QueueId(77), 8, 10)
    );
    assert_eq!(status.borrow().level, WatermarkLevel::High);
    assert!(!status.borrow().closed);

    tx.try_push(Msg::new(8, 1)).unwrap();
    tx.try_push(Msg::new(9, 1)).unwrap();
    assert!(tx.try_push(Msg::new(10, 1)).unwrap_err().is_full());
    assert!(tx.try_push(Msg::new(10, 1)).unwrap_err().is_full());
    assert_eq!(tx.level(), WatermarkLevel::Blocked);

    // Sticky until the low watermark (5 of 10).
    let mut out = Vec::new();
    rx.drain_into(&mut out, 4);
    assert_eq!(rx.level(), WatermarkLevel::Blocked);
    rx.drain_into(&mut out, 1);
    assert_eq!(rx.level(), WatermarkLevel::Normal);

    let stats = rx.stats();
    assert_eq!(
        (stats.warn_events, stats.block_events, stats.clear_events),
        (1, 1, 1),
        "one event of each kind per episode"
    );
    assert_eq!(stats.blocked_pushes, 2);
    assert_eq!(
        (stats.pushed, stats.popped, stats.len, stats.peak_len),
        (10, 5, 5, 10)
    );
    assert_eq!(stats.last_event.unwrap().kind, WatermarkEventKind::Clear);
    let shared = counters.snapshot();
    assert_eq!(
        (shared.warn_events, shared.block_events, shared.clear_events),
        (1, 1, 1)
    );
}

#[test]
fn byte_watermarks_count_too() {
    let (tx, mut rx) = erlmcp_flow::queue::channel::<Msg>(1, &config(1000, 1000)).unwrap();
    tx.try_push(Msg::new(0, 800)).unwrap();
    assert_eq!(tx.level(), WatermarkLevel::High);
    tx.try_push(Msg::new(1, 100)).unwrap();
    rx.try_recv().unwrap();
    assert_eq!(
        rx.level(),
        WatermarkLevel::Normal,
        "100 bytes is below 50 %"
    );
}

#[test]
fn shedding_refuses_droppable_items_and_purge_removes_queued_ones() {
    let counters = Arc::new(QueueCounters::new());
    let queues = OutboundQueue::new(&config(10, 1000))
        .unwrap()
        .counters(counters.clone());
    let (tx, mut rx) = queues.channel::<Msg>(3);
    let monitor = rx.monitor();
    tx.try_push(Msg::new(0, 10)).unwrap();
    tx.try_push(Msg::droppable(1, 10)).unwrap();
    tx.try_push(Msg::new(2, 10)).unwrap();
    tx.try_push(Msg::droppable(3, 10)).unwrap();

    monitor.set_shedding(true);
    assert!(tx.try_push(Msg::droppable(4, 10)).unwrap_err().is_shed());
    tx.try_push(Msg::new(5, 10)).unwrap();
    assert_eq!(monitor.purge_droppable(), 2);
    assert_eq!((rx.len(), rx.bytes()), (3, 30));
    let mut out = Vec::new();
    rx.drain_into(&mut out, 10);
    assert_eq!(out.iter().map(|m| m.seq).collect::<Vec<_>>(), [0, 2, 5]);
    let stats = rx.stats();
    assert_eq!((stats.shed, stats.purged), (1, 2));
    let shared = counters.snapshot();
    assert_eq!((shared.shed, shared.purged), (1, 2));
    // Purged capacity is back.
    for seq in 10..20 {
        tx.try_push(Msg::new(seq, 10)).unwrap();
    }
}

#[tokio::test]
async fn the_receiver_is_a_stream() {
    use futures::StreamExt;
    let (tx, rx) = erlmcp_flow::queue::channel::<Vec<u8>>(1, &QueueConfig::default()).unwrap();
    tx.push(b"a".to_vec()).await.unwrap();
    tx.push(b"bc".to_vec()).await.unwrap();
    drop(tx);
    let all: Vec<Vec<u8>> = rx.collect().await;
    assert_eq!(all, [b"a".to_vec(), b"bc".to_vec()]);
}

// ---- slow consumers ----

fn policy(grace_ms: u64, action: SlowAction) -> SlowConsumerPolicy {
    SlowConsumerPolicy {
        grace: Duration::from_millis(grace_ms),
        action,
    }
}

#[test]
fn detector_state_machine() {
    let after = Duration::from_secs(5);
    let mut detector = SlowConsumerDetector::new(
        QueueId(1),
        &policy(5000, SlowAction::DropThenDisconnect { after }),
    )
    .unwrap();
    let t0 = Instant::now();
    let s = Duration::from_secs;
    assert_eq!(
        detector.observe_at(WatermarkLevel::Normal, t0),
        SlowVerdict::Healthy
    );
    assert_eq!(
        detector.observe_at(WatermarkLevel::High, t0),
        SlowVerdict::Watching {
            deadline: t0 + s(5)
        }
    );
    assert_eq!(
        detector.observe_at(WatermarkLevel::Blocked, t0 + s(4)),
        SlowVerdict::Watching {
            deadline: t0 + s(5)
        }
    );
    assert_eq!(
        detector.observe_at(WatermarkLevel::Blocked, t0 + s(5)),
        SlowVerdict::DropDroppable {
            disconnect_at: Some(t0 + s(10))
        }
    );
    assert!(detector.is_slow());
    assert_eq!(
        detector.observe_at(WatermarkLevel::High, t0 + s(10)),
        SlowVerdict::Disconnect
    );
    // Recovery resets the clock.
    assert_eq!(
        detector.observe_at(WatermarkLevel::Normal, t0 + s(11)),
        SlowVerdict::Healthy
    );
    assert!(!detector.is_slow());
    assert_eq!(
        detector.observe_at(WatermarkLevel::High, t0 + s(12)),
        SlowVerdict::Watching {
            deadline: t0 + s(17)
        }
    );
    assert_eq!(detector.marked_total(), 1);

    let mut disconnect =
        SlowConsumerDetector::new(QueueId(2), &policy(100, SlowAction::Disconnect)).unwrap();
    disconnect.observe_at(WatermarkLevel::High, t0);
    assert_eq!(
        disconnect.observe_at(WatermarkLevel::High, t0 + Duration::from_millis(100)),
        SlowVerdict::Disconnect
    );
    let mut drop_only =
        SlowConsumerDetector::new(QueueId(3), &policy(0, SlowAction::DropDroppable)).unwrap();
    assert_eq!(
        drop_only.observe_at(WatermarkLevel::High, t0 + s(100)),
        SlowVerdict::DropDroppable {
            disconnect_at: None
        }
    );
}

#[tokio::test(start_paused = true)]
async fn supervise_drops_then_disconnects_a_slow_consumer_only() {
    let queues = OutboundQueue::new(&config(10, 1 << 20)).unwrap();
    let (slow_tx, _slow_rx) = queues.channel::<Msg>(1);
    let (fast_tx, mut fast_rx) = queues.channel::<Msg>(2);

    // The slow peer's writer never drains: 9 of 10 queued, some droppable.
    for seq in 0..9 {
        let msg = if seq % 3 == 0 {
            Msg::droppable(seq, 1)
        } else {
            Msg::new(seq, 1)
        };
        slow_tx.try_push(msg).unwrap();
    }
    assert_eq!(slow_tx.level(), WatermarkLevel::High);

    let slow_policy = policy(
        5000,
        SlowAction::DropThenDisconnect {
            after: Duration::from_secs(5),
        },
    );
    let monitor = slow_tx.monitor();
    let supervisor = tokio::spawn({
        let monitor = monitor.clone();
        async move {
            let mut detector = SlowConsumerDetector::new(QueueId(1), &slow_policy).unwrap();
            let outcome = detector.supervise(&monitor).await;
            (outcome, Instant::now())
        }
    });
    let fast_monitor = fast_tx.monitor();
    let fast_supervisor = tokio::spawn(async move {
        let mut detector =
            SlowConsumerDetector::new(QueueId(2), &SlowConsumerPolicy::default()).unwrap();
        detector.supervise(&fast_monitor).await
    });
    let started = Instant::now();

    tokio::time::sleep(Duration::from_millis(4900)).await;
    assert!(!monitor.is_shedding(), "within the grace nothing happens");
    assert_eq!(monitor.stats().len, 9);

    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(monitor.is_shedding(), "marked slow after the grace");
    assert_eq!(monitor.stats().purged, 3);
    assert!(
        slow_tx
            .try_push(Msg::droppable(100, 1))
            .unwrap_err()
            .is_shed()
    );

    // The other session is untouched meanwhile.
    fast_tx.try_push(Msg::droppable(0, 1)).unwrap();
    assert_eq!(fast_rx.recv().await.unwrap().seq, 0);

    let (outcome, at) = supervisor.await.unwrap();
    assert_eq!(outcome, SlowOutcome::Disconnect);
    assert_eq!(at - started, Duration::from_secs(10));

    drop(fast_rx);
    assert_eq!(fast_supervisor.await.unwrap(), SlowOutcome::QueueClosed);
}

#[tokio::test(start_paused = true)]
async fn a_consumer_that_catches_up_within_the_grace_is_never_marked() {
    let (tx, mut rx) = erlmcp_flow::queue::channel::<Msg>(1, &config(10, 1 << 20)).unwrap();
    for seq in 0..9 {
        tx.try_push(Msg::new(seq, 1)).unwrap();
    }
    let monitor = tx.monitor();
    let supervisor = tokio::spawn(async move {
        let mut detector =
            SlowConsumerDetector::new(QueueId(1), &policy(5000, SlowAction::Disconnect)).unwrap();
        let outcome = detector.supervise(&monitor).await;
        (outcome, detector.marked_total())
    });
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut out = Vec::new();
    rx.drain_into(&mut out, 100);
    tokio::time::sleep(Duration::from_secs(60)).await;
    drop(rx);
    assert_eq!(supervisor.await.unwrap(), (SlowOutcome::QueueClosed, 0));
}

// ---- memory budget and load shedding ----

#[tokio::test]
async fn pressure_sheds_new_work_and_recovers_once_usage_drops() {
    let budget = budget(1000); // pressure at 800, relieved at 500
    let queues = OutboundQueue::new(&config(100, 1000))
        .unwrap()
        .budget(budget.clone());
    let (tx_a, mut rx_a) = queues.channel::<Msg>(1);
    let (tx_b, mut rx_b) = queues.channel::<Msg>(2);
    let mut signal = budget.subscribe();

    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut service = LoadShedLayer::new(budget.clone()).layer(service_fn({
        let calls = calls.clone();
        move |n: u32| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { Ok::<_, std::io::Error>(n) }
        }
    }));
    assert_eq!(service.ready().await.unwrap().call(1).await.unwrap(), 1);

    for seq in 0..4 {
        tx_a.push(Msg::new(seq, 100)).await.unwrap();
        tx_b.push(Msg::new(seq, 100)).await.unwrap();
    }
    assert!(
        budget.is_under_pressure(),
        "800 of 1000 is the high threshold"
    );
    signal.changed().await.unwrap();
    assert!(*signal.borrow_and_update());

    let err = service.ready().await.unwrap().call(2).await.unwrap_err();
    assert_eq!(FlowError::find(&*err), Some(&FlowError::Overloaded));
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "shed work never reached the service"
    );

    // Draining to 600 is not enough (hysteresis); to 500 is.
    let mut out = Vec::new();
    rx_a.drain_into(&mut out, 2);
    assert!(budget.is_under_pressure());
    let relieved = tokio::spawn({
        let budget = budget.clone();
        async move { budget.relieved().await }
    });
    rx_b.drain_into(&mut out, 1);
    assert!(!budget.is_under_pressure());
    tokio::time::timeout(Duration::from_secs(5), relieved)
        .await
        .expect("recovery within 5 s")
        .unwrap();
    assert_eq!(service.ready().await.unwrap().call(3).await.unwrap(), 3);
    let stats = budget.stats();
    assert_eq!(
        (stats.used, stats.peak, stats.pressure_episodes, stats.shed),
        (500, 800, 1, 1)
    );
}

// ---- properties ----

#[derive(Debug, Clone)]
enum Op {
    Push { weight: usize, droppable: bool },
    Pop,
    Drain(usize),
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..80, any::<bool>()).prop_map(|(weight, droppable)| Op::Push { weight, droppable }),
        2 => Just(Op::Pop),
        1 => (0usize..8).prop_map(Op::Drain),
        1 => Just(Op::Purge),
    ]
}

proptest! {
    /// Any sequence of pushes and pops: the queue matches a model FIFO, refuses exactly
    /// when the model would pass a cap, and never holds more than its caps.
    #[test]
    fn queue_never_exceeds_its_caps(
        max_messages in 1usize..12,
        max_bytes in 1usize..300,
        ops in prop::collection::vec(op(), 1..200),
    ) {
        let budget = budget(1 << 20);
        let queues = OutboundQueue::new(&config(max_messages, max_bytes)).unwrap().budget(budget.clone());
        let (tx, mut rx) = queues.channel::<Msg>(1);
        let monitor = rx.monitor();
        let mut model: VecDeque<Msg> = VecDeque::new();
        let mut seq = 0;
        for op in ops {
            match op {
                Op::Push { weight, droppable } => {
                    seq += 1;
                    let msg = Msg { producer: 0, seq, weight, droppable };
                    let len = model.len();
                    let bytes: usize = model.iter().map(|m| m.weight.min(max_bytes)).sum();
                    let fits = len < max_messages && bytes + weight.min(max_bytes) <= max_bytes;
                    match tx.try_push(msg.clone()) {
                        Ok(()) => { prop_assert!(fits); model.push_back(msg); }
                        Err(err) => { prop_assert!(!fits); prop_assert!(err.is_full()); }
                    }
                }
                Op::Pop => prop_assert_eq!(rx.try_recv(), model.pop_front()),
                Op::Drain(max) => {
                    let mut out = Vec::new();
                    let n = rx.drain_into(&mut out, max);
                    let expected: Vec<Msg> = (0..n).filter_map(|_| model.pop_front()).collect();
                    prop_assert_eq!(n, expected.len());
                    prop_assert_eq!(out, expected);
                }
                Op::Purge => {
                    let before = model.len();
                    model.retain(|m| !m.droppable);
                    prop_assert_eq!(monitor.purge_droppable(), before - model.len());
                }
            }
            let stats = rx.stats();
            prop_assert!(stats.len <= max_messages);
            prop_assert_eq!(stats.len, model.len());
            let bytes: usize = model.iter().map(|m| m.weight).sum();
            prop_assert_eq!(stats.bytes, bytes);
            prop_assert_eq!(budget.used(), bytes);
            // Admission counts an item heavier than the cap as the whole cap, so such an
            // item is admitted alone; otherwise the byte cap holds exactly.
            let charged: usize = model.iter().map(|m| m.weight.min(max_bytes)).sum();
            prop_assert!(charged <= max_bytes);
            if model.iter().all(|m| m.weight <= max_bytes) {
                prop_assert!(stats.bytes <= max_bytes);
            }
        }
        drop(rx);
        prop_assert_eq!(budget.used(), 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Concurrent producers on a multi-threaded runtime against a batching consumer:
    /// every item arrives once, in its producer's order, and the caps hold at every
    /// instant (the peaks are recorded under the queue's lock on every push).
    #[test]
    fn concurrent_producers_never_exceed_the_caps(
        max_messages in 1usize..16,
        max_bytes in 64usize..512,
        producers in 1usize..5,
        per_producer in 1usize..200,
        batch in 1usize..32,
        weights in prop::collection::vec(0usize..64, 1..16),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let budget = budget(1 << 20);
        let queues = OutboundQueue::new(&config(max_messages, max_bytes)).unwrap().budget(budget.clone());
        let (tx, mut rx) = queues.channel::<Msg>(9);
        let received = runtime.block_on(async move {
            let mut tasks = Vec::new();
            for producer in 0..producers {
                let tx = tx.clone();
                let weights = weights.clone();
                tasks.push(tokio::spawn(async move {
                    for seq in 0..per_producer as u64 {
                        let weight = weights[(seq as usize + producer) % weights.len()];
                        let msg = Msg { producer, seq, weight, droppable: false };
                        tx.push(msg).await.unwrap();
                    }
                }));
            }
            drop(tx);
            let consumer = tokio::spawn(async move {
                let mut all = Vec::new();
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    if rx.recv_many(&mut buf, batch).await == 0 {
                        break;
                    }
                    prop_assert!(buf.len() <= batch);
                    all.append(&mut buf);
                    if all.len() % 7 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                let stats = rx.stats();
                Ok((all, stats))
            });
            for task in tasks {
                task.await.unwrap();
            }
            consumer.await.unwrap()
        })?;
        let (all, stats) = received;
        prop_assert!(stats.peak_len <= max_messages);
        prop_assert!(stats.peak_bytes <= max_bytes);
        prop_assert_eq!(all.len(), producers * per_producer);
        for producer in 0..producers {
            let seqs: Vec<u64> = all.iter().filter(|m| m.producer == producer).map(|m| m.seq).collect();
            prop_assert_eq!(seqs, (0..per_producer as u64).collect::<Vec<_>>());
        }
        prop_assert_eq!(budget.used(), 0);
    }
}
