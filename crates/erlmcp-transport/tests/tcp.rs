//! The TCP transport over real loopback sockets with OS-assigned ports.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{bounded, frame, next_message, padded_frame};
use erlmcp_transport::{
    Frame, FrameReader, FrameWriter, TcpAcceptor, TcpTransport, Transport, TransportError,
    TransportKind,
};
use tokio::net::{TcpListener, TcpStream};

const MAX: usize = 1024 * 1024;

/// An accepted (server) and a connected (client) transport on 127.0.0.1.
async fn connected(acceptor: TcpAcceptor, client_max: usize) -> (TcpTransport, TcpTransport) {
    let addr = acceptor.local_addr().expect("local addr");
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0, "the OS assigned a port");
    let (server, client) = tokio::join!(acceptor.accept(), TcpTransport::connect(addr, client_max));
    (server.expect("accept"), client.expect("connect"))
}

async fn acceptor(max: usize) -> TcpAcceptor {
    TcpAcceptor::bind("127.0.0.1:0", max).await.expect("bind")
}

/// Writes `frame` until the write fails (a closed or reset peer makes the kernel fail a
/// later write, not necessarily the first), and returns the error.
async fn write_until_error<W: FrameWriter>(writer: &mut W) -> TransportError {
    for i in 0..200 {
        if let Err(err) = writer.write_batch(&[frame(i)]).await {
            return err;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("writing to a gone peer never failed");
}

#[tokio::test]
async fn echo_round_trip_of_10000_frames() {
    bounded(async {
        let (server, client) = connected(acceptor(MAX).await, MAX).await;
        assert_eq!(server.info().kind, TransportKind::Tcp);
        assert_eq!(server.info().peer, client.local_addr().to_string());
        assert_eq!(client.info().peer, server.local_addr().to_string());
        assert_eq!(server.peer_addr(), client.local_addr());

        const N: usize = 10_000;
        let echo = tokio::spawn(async move {
            let (mut rx, mut tx) = server.split();
            let mut echoed = 0;
            while let Some(frame) = rx.next_frame().await {
                let Frame::Message(message) = frame.expect("server read") else {
                    panic!("unexpected oversized frame");
                };
                tx.write_batch(&[message.freeze()]).await.expect("echo");
                echoed += 1;
            }
            tx.close().await.expect("server close");
            echoed
        });

        let (mut rx, mut tx) = client.split();
        let sender = tokio::spawn(async move {
            let frames: Vec<Bytes> = (0..N).map(frame).collect();
            for batch in frames.chunks(100) {
                tx.write_batch(batch).await.expect("client write");
            }
            tx.close().await.expect("client close");
        });
        for i in 0..N {
            assert_eq!(next_message(&mut rx).await, frame(i));
        }
        assert!(
            rx.next_frame().await.is_none(),
            "server closed after the echo"
        );
        sender.await.expect("sender task");
        assert_eq!(echo.await.expect("echo task"), N);
    })
    .await;
}

#[tokio::test]
async fn one_batch_of_1000_frames_arrives_intact_and_in_order() {
    bounded(async {
        // ~1.5 MB in one write_batch: more than the socket buffers hold, so the write is
        // split by the kernel and frames straddle reads; a 256-byte initial read buffer
        // must grow for the 3 KB frames.
        let acceptor = acceptor(MAX).await.with_read_capacity(256);
        let (server, client) = connected(acceptor, MAX).await;
        let batch: Vec<Bytes> = (0..1000)
            .map(|i| padded_frame(i, 100 + (i * 37) % 3000))
            .collect();
        let expected = batch.clone();
        let (_client_rx, mut client_tx) = client.split();
        let writer = tokio::spawn(async move {
            client_tx.write_batch(&batch).await.expect("write batch");
            client_tx.close().await.expect("close");
        });
        let (mut rx, _tx) = server.split();
        for want in &expected {
            assert_eq!(&next_message(&mut rx).await[..], &want[..]);
        }
        assert!(rx.next_frame().await.is_none());
        writer.await.expect("writer task");
    })
    .await;
}

#[tokio::test]
async fn oversized_line_arrives_as_oversized_and_the_next_frame_still_arrives() {
    bounded(async {
        // The server takes 1 KiB frames; the client may send up to 1 MiB.
        let (server, client) = connected(acceptor(1024).await, MAX).await;
        let (_client_rx, mut client_tx) = client.split();
        let big = padded_frame(1, 5000);
        assert_eq!(big.len(), 5000);
        client_tx
            .write_batch(&[frame(0), big, frame(2)])
            .await
            .expect("write");
        let (mut rx, _tx) = server.split();
        assert_eq!(next_message(&mut rx).await, frame(0));
        match rx.next_frame().await {
            Some(Ok(Frame::Oversized { len })) => assert_eq!(len, 5000),
            other => panic!("expected Oversized, got {other:?}"),
        }
        assert_eq!(next_message(&mut rx).await, frame(2));
    })
    .await;
}

#[tokio::test]
async fn peer_close_ends_the_reader_and_half_close_keeps_the_other_direction() {
    bounded(async {
        let (server, client) = connected(acceptor(MAX).await, MAX).await;
        let (mut client_rx, mut client_tx) = client.split();
        let (mut server_rx, mut server_tx) = server.split();

        client_tx
            .write_batch(&[frame(1), frame(2)])
            .await
            .expect("write");
        client_tx.close().await.expect("close");
        assert_eq!(next_message(&mut server_rx).await, frame(1));
        assert_eq!(next_message(&mut server_rx).await, frame(2));
        assert!(server_rx.next_frame().await.is_none(), "FIN → None");

        // The client only closed its sending side: it still reads the server's reply.
        server_tx.write_batch(&[frame(3)]).await.expect("reply");
        assert_eq!(next_message(&mut client_rx).await, frame(3));

        // Dropping the server entirely ends the client's reader too.
        drop((server_rx, server_tx));
        assert!(client_rx.next_frame().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn reset_is_a_disconnect_for_reader_and_writer() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (accepted, client) = tokio::join!(listener.accept(), TcpTransport::connect(addr, MAX));
        let (stream, _) = accepted.expect("accept");
        let (mut rx, mut tx) = client.expect("connect").split();

        // SO_LINGER 0: closing sends RST instead of FIN.
        stream.set_zero_linger().expect("SO_LINGER");
        drop(stream);

        let err = match rx.next_frame().await {
            Some(Err(err)) => err,
            other => panic!("expected a reset error, got {other:?}"),
        };
        assert!(err.is_disconnect(), "{err:?}");
        assert!(
            matches!(&err, TransportError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset),
            "{err:?}"
        );
        let err = write_until_error(&mut tx).await;
        assert!(err.is_disconnect(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn writing_to_a_closed_peer_is_a_disconnect() {
    bounded(async {
        let (server, client) = connected(acceptor(MAX).await, MAX).await;
        drop(server);
        let (mut rx, mut tx) = client.split();
        assert!(rx.next_frame().await.is_none());
        // The first write is answered by RST; a later one fails (EPIPE or ECONNRESET).
        let err = write_until_error(&mut tx).await;
        assert!(err.is_disconnect(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn from_stream_wraps_a_connected_socket() {
    bounded(async {
        let acceptor = acceptor(MAX).await;
        let addr = acceptor.local_addr().expect("addr");
        let (server, stream) = tokio::join!(acceptor.accept(), TcpStream::connect(addr));
        let client = TcpTransport::from_stream(stream.expect("connect"), MAX).expect("wrap");
        assert_eq!(client.peer_addr(), addr);
        assert_eq!(client.info().peer, addr.to_string());
        let (_rx, mut tx) = client.split();
        tx.write_batch(&[frame(9)]).await.expect("write");
        let (mut server_rx, _server_tx) = server.expect("accept").split();
        assert_eq!(next_message(&mut server_rx).await, frame(9));
    })
    .await;
}

#[tokio::test]
async fn connect_to_a_closed_port_fails() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let err = match TcpTransport::connect(addr, MAX).await {
            Ok(_) => panic!("nothing listens on {addr}"),
            Err(err) => err,
        };
        assert!(
            matches!(&err, TransportError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused),
            "{err:?}"
        );
    })
    .await;
}
