//! One MCP 2026-07-28 request served statelessly: an [`HttpExchangeTransport`] carries
//! exactly one request to the protocol engine, and its answer — with the notifications
//! that relate to it — back on that request's own HTTP response.
//!
//! ```text
//!            engine writes            POST response                 reader
//!  Waiting ──answer──────────────▶ JSON, status from the code ──▶ Over ──▶ None
//!     │ ──notification──▶ Streaming: SSE (200), one event each
//!     │                      │ ──answer──▶ last event, stream closes ─▶ Over ──▶ None
//!     │                      │ ──client closes the stream ─────────▶ Over ──▶ None
//!     └── client goes away before the first frame ─────────────────▶ Over ──▶ None
//! ```
//!
//! The response waits for the engine's first frame: an answer that comes first is sent as
//! one JSON body, so its HTTP status can follow its error code (404 for an unknown method,
//! 400 for the negotiation and header errors); a notification that comes first opens an
//! SSE stream (a `subscriptions/listen` stream stays open that way). The reader ends once
//! the exchange is over: after the answer, or when the client closed the response, which
//! is the 2026-07-28 cancellation signal — the engine then stops the request's handler.
//! Server-to-client requests are never sent (the era embeds them in input-required
//! results); the engine should not write any, and one written is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use erlmcp_codec::{Frame, RequestId};
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::contract::{FrameReader, FrameWriter, Transport, TransportInfo};
use crate::error::TransportError;
use crate::http::envelope::{self, Envelope};
use crate::http::session::InFlight;
use crate::http::sse;

/// What the POST waiting for the exchange gets first.
pub(crate) enum First {
    /// The answer, before any notification: a JSON body.
    Answer(Bytes),
    /// An SSE stream of encoded events (notifications, then the answer).
    Stream(mpsc::Receiver<Bytes>),
}

enum State {
    Waiting(oneshot::Sender<First>),
    Streaming(mpsc::Sender<Bytes>),
    Over,
}

/// The shared state of one exchange.
pub(crate) struct ExchangeShared {
    id: RequestId,
    state: Mutex<State>,
    over: CancellationToken,
    in_flight: Arc<InFlight>,
    counted: AtomicBool,
    sse_buffer: usize,
    /// `subscriptions/listen`: open until the client or a shutdown closes it.
    pub(crate) long_lived: bool,
}

impl std::fmt::Debug for ExchangeShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpExchange")
            .field("id", &self.id)
            .finish()
    }
}

impl ExchangeShared {
    /// A new exchange for the request `id`, and where its POST gets the first frame.
    pub(crate) fn new(
        id: RequestId,
        long_lived: bool,
        sse_buffer: usize,
        in_flight: Arc<InFlight>,
    ) -> (Arc<Self>, oneshot::Receiver<First>) {
        let (tx, rx) = oneshot::channel();
        in_flight.add();
        let shared = Arc::new(ExchangeShared {
            id,
            state: Mutex::new(State::Waiting(tx)),
            over: CancellationToken::new(),
            in_flight,
            counted: AtomicBool::new(true),
            sse_buffer: sse_buffer.max(2),
            long_lived,
        });
        (shared, rx)
    }

    /// Ends the exchange (answered, abandoned by the client, or shut down): the engine's
    /// reader ends, an open stream closes. Idempotent.
    pub(crate) fn end(&self) {
        *self.state.lock() = State::Over;
        if self.counted.swap(false, Ordering::SeqCst) {
            self.in_flight.done();
        }
        self.over.cancel();
    }

    /// Ends the exchange if its POST still waits for the first frame (the POST is being
    /// dropped: the client went away).
    pub(crate) fn abandon_if_waiting(&self) {
        let waiting = matches!(*self.state.lock(), State::Waiting(_));
        if waiting {
            self.end();
        }
    }

    /// True once the exchange is over.
    pub(crate) fn is_over(&self) -> bool {
        self.over.is_cancelled()
    }

    /// Routes one frame the engine wrote.
    fn route(&self, frame: Bytes) {
        let mut state = self.state.lock();
        match envelope::peek(&frame) {
            Envelope::Answer(Some(id)) if id == self.id => {
                match std::mem::replace(&mut *state, State::Over) {
                    State::Waiting(first) => {
                        let _ = first.send(First::Answer(frame));
                    }
                    State::Streaming(events) => {
                        if events.try_send(sse::encode_data(&frame)).is_err() {
                            tracing::debug!(id = %self.id, "answer not delivered: the stream is gone or full");
                        }
                    }
                    State::Over => {}
                }
                drop(state);
                self.end();
            }
            Envelope::Notification => {
                let event = sse::encode_data(&frame);
                let delivered = match &mut *state {
                    State::Waiting(_) => {
                        let (tx, rx) = mpsc::channel(self.sse_buffer);
                        let _ = tx.try_send(event);
                        if let State::Waiting(first) =
                            std::mem::replace(&mut *state, State::Streaming(tx))
                        {
                            first.send(First::Stream(rx)).is_ok()
                        } else {
                            true
                        }
                    }
                    State::Streaming(events) => events.try_send(event).is_ok(),
                    State::Over => true,
                };
                if !delivered {
                    // The client stopped reading (or went away): that closes the request.
                    tracing::debug!(id = %self.id, "response stream gone or full; exchange ended");
                    drop(state);
                    self.end();
                }
            }
            Envelope::Request { .. } => {
                tracing::debug!(id = %self.id, "server request on a stateless exchange dropped (2026-07-28 embeds them in results)");
            }
            Envelope::Answer(_) => {
                tracing::debug!(id = %self.id, "answer to another request dropped");
            }
            Envelope::Unknown => tracing::warn!("engine wrote a frame that is not JSON-RPC"),
        }
    }
}

/// One stateless request as a [`Transport`]: the reader yields the request, then ends
/// once the exchange is over; the writer routes the engine's frames to the response.
pub struct HttpExchangeTransport {
    reader: HttpExchangeReader,
    writer: HttpExchangeWriter,
    info: TransportInfo,
}

impl std::fmt::Debug for HttpExchangeTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpExchangeTransport")
            .field("id", &self.writer.shared.id)
            .field("peer", &self.info.peer)
            .finish()
    }
}

impl HttpExchangeTransport {
    pub(crate) fn new(shared: Arc<ExchangeShared>, frame: BytesMut, info: TransportInfo) -> Self {
        HttpExchangeTransport {
            reader: HttpExchangeReader {
                frame: Some(frame),
                shared: shared.clone(),
            },
            writer: HttpExchangeWriter { shared },
            info,
        }
    }

    /// The JSON-RPC id of the request this exchange carries.
    pub fn request_id(&self) -> &RequestId {
        &self.writer.shared.id
    }
}

impl Transport for HttpExchangeTransport {
    type Reader = HttpExchangeReader;
    type Writer = HttpExchangeWriter;

    fn info(&self) -> TransportInfo {
        self.info.clone()
    }

    fn split(self) -> (HttpExchangeReader, HttpExchangeWriter) {
        (self.reader, self.writer)
    }
}

/// The reading half of an [`HttpExchangeTransport`].
pub struct HttpExchangeReader {
    frame: Option<BytesMut>,
    shared: Arc<ExchangeShared>,
}

impl FrameReader for HttpExchangeReader {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        if let Some(frame) = self.frame.take()
            && !self.shared.is_over()
        {
            return Some(Ok(Frame::Message(frame)));
        }
        self.shared.over.cancelled().await;
        None
    }
}

/// The writing half of an [`HttpExchangeTransport`]. It never waits on the client.
pub struct HttpExchangeWriter {
    shared: Arc<ExchangeShared>,
}

impl FrameWriter for HttpExchangeWriter {
    async fn write_batch(&mut self, batch: &[Bytes]) -> Result<(), TransportError> {
        if self.shared.is_over() {
            return Err(TransportError::Closed);
        }
        for frame in batch {
            self.shared.route(frame.clone());
        }
        Ok(())
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        self.shared.end();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange() -> (Arc<ExchangeShared>, oneshot::Receiver<First>, Arc<InFlight>) {
        let in_flight = Arc::new(InFlight::default());
        let (shared, first) =
            ExchangeShared::new(RequestId::Number(7), false, 4, in_flight.clone());
        (shared, first, in_flight)
    }

    #[tokio::test]
    async fn an_answer_first_is_a_json_body_and_ends_the_reader() {
        let (shared, first, in_flight) = exchange();
        let mut transport = HttpExchangeTransport::new(
            shared.clone(),
            BytesMut::from(&b"{}"[..]),
            TransportInfo::new(crate::contract::TransportKind::Http, "t", 1024),
        )
        .split();
        assert!(matches!(
            transport.0.next_frame().await,
            Some(Ok(Frame::Message(_)))
        ));
        transport
            .1
            .write_batch(&[Bytes::from_static(
                br#"{"jsonrpc":"2.0","id":7,"result":{}}"#,
            )])
            .await
            .unwrap();
        assert!(matches!(first.await, Ok(First::Answer(_))));
        assert!(transport.0.next_frame().await.is_none());
        in_flight.wait_idle().await;
        assert!(transport.1.write_batch(&[Bytes::new()]).await.is_err());
    }

    #[tokio::test]
    async fn a_notification_first_opens_a_stream_that_the_answer_closes() {
        let (shared, first, _) = exchange();
        shared.route(Bytes::from_static(
            br#"{"jsonrpc":"2.0","method":"notifications/progress"}"#,
        ));
        shared.route(Bytes::from_static(
            br#"{"jsonrpc":"2.0","id":"srv","method":"sampling/createMessage"}"#,
        ));
        shared.route(Bytes::from_static(
            br#"{"jsonrpc":"2.0","id":8,"result":{}}"#,
        ));
        shared.route(Bytes::from_static(
            br#"{"jsonrpc":"2.0","id":7,"result":{}}"#,
        ));
        let Ok(First::Stream(mut events)) = first.await else {
            panic!("expected a stream");
        };
        let mut seen = Vec::new();
        while let Some(event) = events.recv().await {
            seen.push(String::from_utf8_lossy(&event).into_owned());
        }
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[0].starts_with("data: ") && seen[0].contains("notifications/progress"));
        assert!(seen[1].contains(r#""id":7"#));
        assert!(shared.is_over());
    }

    #[tokio::test]
    async fn a_client_that_goes_away_ends_the_reader() {
        let (shared, first, in_flight) = exchange();
        drop(first);
        shared.route(Bytes::from_static(
            br#"{"jsonrpc":"2.0","method":"notifications/progress"}"#,
        ));
        assert!(shared.is_over());
        in_flight.wait_idle().await;
    }
}
