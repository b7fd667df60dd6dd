//! The in-memory transport: two ends of a duplex pipe.

mod common;

use bytes::Bytes;
use common::{bounded, frame, next_message, padded_frame};
use erlmcp_transport::{
    FrameReader, FrameWriter, Transport, TransportError, TransportKind, memory_pair,
};

const MAX: usize = 64 * 1024;

#[tokio::test]
async fn round_trip_both_directions() {
    bounded(async {
        let (a, b) = memory_pair(MAX, 4096);
        assert_eq!(a.info().kind, TransportKind::Memory);
        assert_eq!(a.info().peer, "memory:b");
        assert_eq!(b.info().peer, "memory:a");
        assert_eq!(a.info().max_frame_bytes, MAX);
        let (mut a_rx, mut a_tx) = a.split();
        let (mut b_rx, mut b_tx) = b.split();

        a_tx.write_batch(&[frame(1)]).await.expect("a writes");
        assert_eq!(next_message(&mut b_rx).await, frame(1));
        b_tx.write_batch(&[frame(2), frame(3)])
            .await
            .expect("b writes");
        assert_eq!(next_message(&mut a_rx).await, frame(2));
        assert_eq!(next_message(&mut a_rx).await, frame(3));
    })
    .await;
}

#[tokio::test]
async fn batch_of_1000_larger_than_the_pipe_arrives_in_order() {
    bounded(async {
        // A 512-byte pipe and 1,000 frames of ~300 bytes: the writer waits on the reader
        // many times inside one `write_batch`, and frames straddle reads.
        let (a, b) = memory_pair(MAX, 512);
        let (_a_rx, mut a_tx) = a.split();
        let (mut b_rx, _b_tx) = b.split();
        let batch: Vec<Bytes> = (0..1000).map(|i| padded_frame(i, 300)).collect();
        let expected = batch.clone();
        let writer = tokio::spawn(async move { a_tx.write_batch(&batch).await });
        for want in &expected {
            assert_eq!(&next_message(&mut b_rx).await[..], &want[..]);
        }
        writer.await.expect("writer task").expect("batch written");
    })
    .await;
}

#[tokio::test]
async fn frames_larger_than_the_read_capacity_grow_the_buffer() {
    bounded(async {
        let (a, b) = memory_pair(MAX, 64 * 1024);
        let (_a_rx, mut a_tx) = a.split();
        let (mut b_rx, _b_tx) = b.with_read_capacity(0).split();
        let big = padded_frame(7, 40_000);
        a_tx.write_batch(&[big.clone(), frame(8)])
            .await
            .expect("write");
        assert_eq!(next_message(&mut b_rx).await, big);
        assert_eq!(next_message(&mut b_rx).await, frame(8));
    })
    .await;
}

#[tokio::test]
async fn oversized_outbound_frame_is_refused_and_the_stream_goes_on() {
    bounded(async {
        // Both ends share one limit, so an oversized line cannot reach the reader here
        // (the TCP, child and stdio tests cover that): the writer refuses it first.
        let (a, b) = memory_pair(1024, 8192);
        let (_a_rx, mut a_tx) = a.split();
        let (mut b_rx, _b_tx) = b.split();
        let err = a_tx
            .write_batch(&[frame(1), padded_frame(2, 5000)])
            .await
            .expect_err("oversized outbound frame is refused");
        assert!(matches!(err, TransportError::Frame(_)), "{err:?}");
        assert!(!err.is_disconnect());
        // The refused batch wrote nothing, not even its valid first frame.
        a_tx.write_batch(&[frame(3)])
            .await
            .expect("write after refusal");
        assert_eq!(next_message(&mut b_rx).await, frame(3));
    })
    .await;
}

#[tokio::test]
async fn close_gives_none_and_writing_to_a_dropped_peer_is_a_disconnect() {
    bounded(async {
        let (a, b) = memory_pair(MAX, 4096);
        let (mut a_rx, mut a_tx) = a.split();
        let (mut b_rx, b_tx) = b.split();
        a_tx.write_batch(&[frame(1)]).await.expect("write");
        a_tx.close().await.expect("close");
        a_tx.close().await.expect("closing twice is fine");
        assert!(matches!(
            a_tx.write_batch(&[frame(2)]).await,
            Err(TransportError::Closed)
        ));
        assert_eq!(next_message(&mut b_rx).await, frame(1));
        assert!(b_rx.next_frame().await.is_none(), "EOF after close");

        drop((b_rx, b_tx));
        assert!(a_rx.next_frame().await.is_none(), "peer dropped: EOF");
        let (_c_rx, mut c_tx) = {
            let (c, d) = memory_pair(MAX, 4096);
            drop(d);
            c.split()
        };
        let err = c_tx
            .write_batch(&[frame(3)])
            .await
            .expect_err("peer is gone");
        assert!(err.is_disconnect(), "{err:?}");
    })
    .await;
}
