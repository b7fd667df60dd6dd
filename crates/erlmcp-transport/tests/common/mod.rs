//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use erlmcp_transport::{Frame, FrameReader};

/// Every test finishes within this, or fails.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Runs `fut`, failing the test if it takes longer than [`LIMIT`].
pub async fn bounded<F: Future>(fut: F) -> F::Output {
    tokio::time::timeout(LIMIT, fut)
        .await
        .expect("test did not finish in time")
}

/// A small JSON-RPC request with id `i`.
pub fn frame(i: usize) -> Bytes {
    Bytes::from(format!(r#"{{"jsonrpc":"2.0","method":"ping","id":{i}}}"#))
}

/// A JSON-RPC request with id `i` padded to about `len` bytes.
pub fn padded_frame(i: usize, len: usize) -> Bytes {
    let head = format!(r#"{{"jsonrpc":"2.0","method":"tools/call","id":{i},"params":{{"pad":""#);
    let pad = len.saturating_sub(head.len() + 3);
    let mut text = head;
    text.extend(std::iter::repeat_n('x', pad));
    text.push_str("\"}}");
    Bytes::from(text)
}

/// The next frame, which must be a message.
pub async fn next_message<R: FrameReader>(reader: &mut R) -> BytesMut {
    match reader.next_frame().await {
        Some(Ok(Frame::Message(message))) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}
