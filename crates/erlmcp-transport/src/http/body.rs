//! Response bodies of the HTTP server (a whole JSON text, or an SSE stream fed by a
//! session) and the request body of the HTTP client (one frame that says when it was
//! handed to the connection).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Interval, MissedTickBehavior};

use crate::http::exchange::ExchangeShared;
use crate::http::sse;

/// The body of every server response.
pub(crate) enum ServerBody {
    /// A complete body (JSON, or empty).
    Full(Option<Bytes>),
    /// An event stream: ends when the session drops the sending side.
    Sse(SseBody),
}

impl ServerBody {
    pub(crate) fn empty() -> Self {
        ServerBody::Full(None)
    }

    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        ServerBody::Full(Some(bytes.into()))
    }
}

/// An SSE response body: events from the session's queue, and keep-alive comments while
/// the stream is idle.
pub(crate) struct SseBody {
    events: mpsc::Receiver<Bytes>,
    keepalive: Option<Interval>,
    /// The stateless exchange this stream answers: dropping the body (the client closed
    /// the response) ends it, which cancels the request.
    exchange: Option<Arc<ExchangeShared>>,
}

impl Drop for SseBody {
    fn drop(&mut self) {
        if let Some(exchange) = self.exchange.take() {
            exchange.end();
        }
    }
}

impl SseBody {
    pub(crate) fn new(events: mpsc::Receiver<Bytes>, keepalive: Option<Duration>) -> Self {
        let keepalive = keepalive.filter(|d| !d.is_zero()).map(|period| {
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        SseBody {
            events,
            keepalive,
            exchange: None,
        }
    }

    /// Ties the body to a stateless exchange (see the `exchange` field).
    pub(crate) fn ending(mut self, exchange: Arc<ExchangeShared>) -> Self {
        self.exchange = Some(exchange);
        self
    }
}

impl Body for ServerBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            ServerBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ServerBody::Sse(sse) => {
                match sse.events.poll_recv(cx) {
                    Poll::Ready(Some(event)) => {
                        if let Some(keepalive) = &mut sse.keepalive {
                            keepalive.reset();
                        }
                        return Poll::Ready(Some(Ok(Frame::data(event))));
                    }
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => {}
                }
                if let Some(keepalive) = &mut sse.keepalive
                    && keepalive.poll_tick(cx).is_ready()
                {
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(sse::KEEPALIVE)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ServerBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ServerBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ServerBody::Full(None) => SizeHint::with_exact(0),
            ServerBody::Sse(_) => SizeHint::default(),
        }
    }
}

/// The body of a client request: at most one chunk. When the chunk is taken by the
/// connection (the request is on its way), `sent` fires with `true`; if the body is
/// dropped before that (the request failed), it fires with `false`.
pub(crate) struct ClientBody {
    data: Option<Bytes>,
    sent: Option<oneshot::Sender<bool>>,
}

impl ClientBody {
    /// A body carrying `data` that reports when it was sent.
    pub(crate) fn signalled(data: Bytes, sent: oneshot::Sender<bool>) -> Self {
        ClientBody {
            data: Some(data),
            sent: Some(sent),
        }
    }

    /// A body carrying `data`, nobody told when it goes out.
    pub(crate) fn full(data: Bytes) -> Self {
        ClientBody {
            data: Some(data),
            sent: None,
        }
    }

    /// An empty body (GET, DELETE).
    pub(crate) fn empty() -> Self {
        ClientBody {
            data: None,
            sent: None,
        }
    }
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let frame = this.data.take();
        if let Some(sent) = this.sent.take() {
            let _ = sent.send(true);
        }
        Poll::Ready(frame.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |b| b.len() as u64))
    }
}

impl Drop for ClientBody {
    fn drop(&mut self) {
        if let Some(sent) = self.sent.take() {
            // Dropped with its data still inside: the request never went out. With the data
            // taken, hyper wrote it.
            let _ = sent.send(self.data.is_none());
        }
    }
}
