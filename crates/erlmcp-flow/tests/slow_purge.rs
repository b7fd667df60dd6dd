//! A consumer that reads nothing is still slow after its droppable items are purged:
//! the purge empties the queue, but only items the consumer takes count as catching up.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use erlmcp_flow::{
    OutboundQueue, QueueConfig, SlowAction, SlowConsumerDetector, SlowConsumerPolicy, SlowOutcome,
    WeightedItem,
};

fn policy() -> SlowConsumerPolicy {
    SlowConsumerPolicy {
        grace: Duration::from_millis(100),
        action: SlowAction::DropThenDisconnect {
            after: Duration::from_millis(100),
        },
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_consumer_is_disconnected_after_the_purge() {
    let queue = OutboundQueue::new(&QueueConfig {
        max_messages: 10,
        ..QueueConfig::default()
    })
    .unwrap();
    let (tx, rx) = queue.channel::<WeightedItem<Bytes>>(1);
    for _ in 0..10 {
        tx.try_push(WeightedItem::droppable(Bytes::from_static(b"note"), 4))
            .unwrap();
    }
    let monitor = rx.monitor();
    let mut detector = SlowConsumerDetector::new(monitor.id(), &policy()).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(5), detector.supervise(&monitor))
        .await
        .expect("the stalled consumer was never disconnected");
    assert_eq!(outcome, SlowOutcome::Disconnect);
    assert_eq!(
        monitor.stats().purged,
        10,
        "droppable items were purged first"
    );
    drop(rx);
}

#[tokio::test(start_paused = true)]
async fn a_consumer_that_reads_after_the_purge_recovers() {
    let queue = OutboundQueue::new(&QueueConfig {
        max_messages: 10,
        ..QueueConfig::default()
    })
    .unwrap();
    let (tx, mut rx) = queue.channel::<WeightedItem<Bytes>>(2);
    for _ in 0..9 {
        tx.try_push(WeightedItem::droppable(Bytes::from_static(b"note"), 4))
            .unwrap();
    }
    // One item that must be delivered survives the purge; the consumer reads it.
    tx.try_push(WeightedItem::new(Bytes::from_static(b"answer"), 6))
        .unwrap();
    let monitor = rx.monitor();
    let mut detector = SlowConsumerDetector::new(monitor.id(), &policy()).unwrap();
    let reader = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let item = rx.recv().await.unwrap();
        assert_eq!(&item.item[..], b"answer");
        rx
    });
    let supervised =
        tokio::time::timeout(Duration::from_secs(5), detector.supervise(&monitor)).await;
    // It caught up, so supervise keeps watching (no disconnect) until the timeout.
    assert!(supervised.is_err(), "a consumer that read was disconnected");
    assert!(!detector.is_slow());
    drop(reader.await.unwrap());
}
