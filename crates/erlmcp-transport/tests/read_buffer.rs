//! The read buffer of a stream transport exists only while bytes are waiting: an idle
//! connection holds none, a half-read frame keeps it, and frames handed out stay intact
//! after it is given back. Over real loopback TCP and in-memory pipes.

mod common;

use std::time::Duration;

use common::{bounded, frame, next_message, padded_frame};
use erlmcp_transport::{
    DEFAULT_READ_CAPACITY, Frame, FrameReader, FrameWriter, StreamReader, StreamTransport,
    TcpAcceptor, TcpTransport, Transport, TransportInfo, TransportKind, memory_pair,
};
use tokio::io::{AsyncWriteExt, DuplexStream, ReadHalf};

const MAX: usize = 64 * 1024;

/// A raw byte writer (`pipe_bytes` of pipe) and the reading half of a stream transport
/// on its other end, refusing frames over `max_frame`.
fn raw_writer_and_reader(
    pipe_bytes: usize,
    max_frame: usize,
    read_capacity: usize,
) -> (DuplexStream, StreamReader<ReadHalf<DuplexStream>>) {
    let (client, server) = tokio::io::duplex(pipe_bytes);
    let info = TransportInfo::new(TransportKind::Memory, "test", max_frame);
    let (reader, _writer) =
        StreamTransport::new(tokio::io::split(server).0, tokio::io::sink(), info)
            .with_read_capacity(read_capacity)
            .split();
    (client, reader)
}

/// Lets `reader` poll until it would block (it must: nothing more is coming), then gives
/// the reader back.
async fn read_until_idle<R: FrameReader>(reader: &mut R) {
    let waited = tokio::time::timeout(Duration::from_millis(50), reader.next_frame()).await;
    assert!(waited.is_err(), "no frame was sent, got {waited:?}");
}

#[tokio::test]
async fn an_idle_memory_connection_holds_no_read_buffer() {
    bounded(async {
        let (a, b) = memory_pair(MAX, 4096);
        let (_a_rx, mut a_tx) = a.split();
        let (mut b_rx, _b_tx) = b.split();
        assert_eq!(
            b_rx.buffered_capacity(),
            0,
            "nothing allocated before bytes arrive"
        );

        a_tx.write_batch(&[frame(1), frame(2)])
            .await
            .expect("writes");
        let first = next_message(&mut b_rx).await;
        assert!(
            b_rx.buffered_capacity() > 0,
            "the buffer exists while frames wait"
        );
        let second = next_message(&mut b_rx).await;
        read_until_idle(&mut b_rx).await;
        assert_eq!(
            b_rx.buffered_capacity(),
            0,
            "idle: the buffer was given back"
        );
        // Frames handed out own their bytes.
        assert_eq!(first, frame(1));
        assert_eq!(second, frame(2));

        // The next frame gets a fresh buffer.
        a_tx.write_batch(&[frame(3)]).await.expect("writes");
        assert_eq!(next_message(&mut b_rx).await, frame(3));
        read_until_idle(&mut b_rx).await;
        assert_eq!(b_rx.buffered_capacity(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_half_read_frame_keeps_the_buffer_until_it_completes() {
    bounded(async {
        let (mut client, mut b_rx) = raw_writer_and_reader(4096, MAX, DEFAULT_READ_CAPACITY);
        let whole = padded_frame(9, 3000);
        let (head, tail) = whole.split_at(1700);
        client.write_all(head).await.expect("writes the head");
        read_until_idle(&mut b_rx).await;
        assert!(
            b_rx.buffered_capacity() >= head.len(),
            "a partial frame keeps its bytes: {}",
            b_rx.buffered_capacity()
        );
        client.write_all(tail).await.expect("writes the tail");
        client.write_all(b"\n").await.expect("writes the newline");
        assert_eq!(&next_message(&mut b_rx).await[..], &whole[..]);
        read_until_idle(&mut b_rx).await;
        assert_eq!(b_rx.buffered_capacity(), 0);
    })
    .await;
}

#[tokio::test]
async fn frames_many_times_the_buffer_grow_it_and_are_then_released() {
    bounded(async {
        let (a, b) = memory_pair(MAX, 64 * 1024);
        let (_a_rx, mut a_tx) = a.split();
        let (mut b_rx, _b_tx) = b.with_read_capacity(256).split();
        let big = padded_frame(7, 50_000);
        let batch = vec![big.clone(), frame(8), big.clone()];
        let writer = tokio::spawn(async move { a_tx.write_batch(&batch).await.map(|()| a_tx) });
        assert_eq!(&next_message(&mut b_rx).await[..], &big[..]);
        assert_eq!(next_message(&mut b_rx).await, frame(8));
        assert_eq!(&next_message(&mut b_rx).await[..], &big[..]);
        let _a_tx = writer.await.expect("writer task").expect("batch written");
        read_until_idle(&mut b_rx).await;
        assert_eq!(b_rx.buffered_capacity(), 0);
    })
    .await;
}

#[tokio::test]
async fn oversized_lines_while_idle_releases_are_still_discarded_whole() {
    bounded(async {
        let (mut client, mut b_rx) = raw_writer_and_reader(1024, 1000, 256);
        // 3,000 bytes with no newline, in pieces, with idle gaps: the reader is in its
        // discarding state with an empty buffer between the pieces.
        for _ in 0..3 {
            client.write_all(&[b'x'; 1000]).await.expect("writes");
            read_until_idle(&mut b_rx).await;
        }
        client.write_all(b"\n").await.expect("writes");
        match b_rx.next_frame().await {
            Some(Ok(Frame::Oversized { len })) => assert_eq!(len, 3000),
            other => panic!("expected an oversized frame, got {other:?}"),
        }
        client.write_all(&frame(5)).await.expect("writes");
        client.write_all(b"\n").await.expect("writes");
        assert_eq!(next_message(&mut b_rx).await, frame(5));
        // The last frame without a newline still arrives at EOF.
        client.write_all(&frame(6)).await.expect("writes");
        drop(client);
        assert_eq!(next_message(&mut b_rx).await, frame(6));
        assert!(
            b_rx.next_frame().await.is_none(),
            "EOF after the last frame"
        );
    })
    .await;
}

#[tokio::test]
async fn an_idle_tcp_connection_holds_no_read_buffer() {
    bounded(async {
        let acceptor = TcpAcceptor::bind("127.0.0.1:0", MAX).await.expect("binds");
        let addr = acceptor.local_addr().expect("local addr");
        let (client, server) = tokio::join!(TcpTransport::connect(addr, MAX), acceptor.accept());
        let (_c_rx, mut c_tx) = client.expect("connects").split();
        let (mut s_rx, _s_tx) = server.expect("accepts").split();
        for i in 0..100 {
            c_tx.write_batch(&[padded_frame(i, 4000)])
                .await
                .expect("writes");
            let got = next_message(&mut s_rx).await;
            assert_eq!(got.len(), padded_frame(i, 4000).len());
        }
        read_until_idle(&mut s_rx).await;
        assert_eq!(s_rx.buffered_capacity(), 0, "idle TCP: no read buffer");
        c_tx.write_batch(&[frame(1)]).await.expect("writes");
        assert_eq!(next_message(&mut s_rx).await, frame(1));
    })
    .await;
}
