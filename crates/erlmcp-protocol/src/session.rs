//! The session driver: joins one transport to one role (server or client).
//!
//! ```text
//!  transport ──▶ reader task ──parse──▶ role.on_request ─┬─ Reply ──────────────┐
//!                    │                                   └─ Spawn ─▶ handler task ┤
//!                    ├─▶ answers → Peer::complete (outbound requests)             │
//!                    └─▶ notifications/cancelled → abort the handler task         ▼
//!  transport ◀── writer task ◀── bounded queue (Peer) ◀──────────────────── responses
//! ```
//!
//! - The reader takes a concurrency permit *before* spawning a handler, so a peer that
//!   floods requests stops being read (TCP/stdio backpressure reaches it) instead of
//!   being buffered without bound.
//! - The writer drains everything queued into one `write_batch` (one syscall per batch).
//! - A handler that panics answers -32603 for its own request only; the session goes on.
//! - A request whose id is already in flight is refused; ids are never confused.
//! - Malformed frames get the JSON-RPC error their [`erlmcp_codec::ParseError`] names;
//!   an oversized frame gets -32600; the session goes on in both cases.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use erlmcp_codec::schema::methods;
use erlmcp_codec::{
    ErrorCode, ErrorObject, ErrorResponse, Frame, Message, Notification, Request, RequestId,
    Response,
};
use erlmcp_flow::{OutboundQueue, QueueReceiver, SlowConsumerDetector, SlowOutcome, WeightedItem};
use erlmcp_transport::{FrameReader, FrameWriter, Transport};
use futures::FutureExt;
use futures::future::BoxFuture;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::SessionConfig;
use crate::error::{HandlerError, SessionError};
use crate::peer::Peer;

/// Most frames written in one batch; bounds the latency one batch adds to the next.
const MAX_BATCH: usize = 256;

/// What a role does with one inbound request.
pub(crate) enum Dispatch {
    /// The answer is ready now (computed on the reader task: cheap methods only).
    Reply(Result<Value, ErrorObject>),
    /// Run the handler in its own task, bounded by the session's concurrency limit.
    Spawn(BoxFuture<'static, Result<Value, HandlerError>>),
}

/// What the reader hands a role together with a request.
pub(crate) struct RequestScope {
    /// The request's id.
    pub id: RequestId,
    /// Fires when the peer cancels the request or the session ends.
    pub cancel: CancellationToken,
}

/// The role-specific half of a session.
pub(crate) trait SessionRole: Send + Sync + 'static {
    /// Decides how to answer one request.
    fn on_request(&self, request: Request, scope: RequestScope) -> Dispatch;
    /// Handles a notification other than `notifications/cancelled` and
    /// `notifications/progress` (which the driver handles itself).
    fn on_notification(&self, notification: Notification);
    /// True while the session still waits for `initialize` to complete (server role);
    /// the driver ends the session when the init timeout passes in this state.
    fn awaiting_initialize(&self) -> bool {
        false
    }
    /// The session is over; release what it held.
    fn on_closed(&self) {}
}

/// Live counters of one session, readable while it runs.
#[derive(Debug, Default)]
pub struct SessionStats {
    in_flight: Mutex<HashMap<RequestId, CancellationToken>>,
}

impl SessionStats {
    /// Inbound requests currently being handled.
    pub fn in_flight(&self) -> usize {
        self.in_flight.lock().len()
    }
}

/// Runs a session to its end. Returns `Ok` when the peer closed the stream or `shutdown`
/// fired, and the reason otherwise.
pub(crate) async fn run_session<T: Transport, R: SessionRole>(
    transport: T,
    role: Arc<R>,
    peer: Peer,
    outbound: QueueReceiver<WeightedItem<Bytes>>,
    config: SessionConfig,
    stats: Arc<SessionStats>,
    shutdown: CancellationToken,
) -> Result<(), SessionError> {
    // The transport enforces the frame limit; name its figure in errors, not the config's.
    let max_frame_bytes = transport.info().max_frame_bytes;
    let (mut reader, writer) = transport.split();
    let writer_stop = CancellationToken::new();
    let monitor = outbound.monitor();
    let writer_task = tokio::spawn(write_loop(writer, outbound, writer_stop.clone()));
    // A peer that lets its queue sit above the high watermark past the grace is shed
    // (droppable notifications) and then disconnected, per the configured policy.
    let slow_watch = async {
        match SlowConsumerDetector::new(monitor.id(), &config.flow.slow_consumer) {
            Ok(mut detector) => detector.supervise(&monitor).await,
            Err(err) => {
                tracing::warn!(error = %err, "invalid slow-consumer policy; not supervising");
                std::future::pending().await
            }
        }
    };
    tokio::pin!(slow_watch);
    let permits = Arc::new(Semaphore::new(config.max_concurrent_requests.max(1)));
    let cleanup = SessionCleanup {
        role: role.clone(),
        peer: peer.clone(),
        stats: stats.clone(),
        writer_stop: writer_stop.clone(),
    };

    let init_timer = tokio::time::sleep(config.init_timeout);
    tokio::pin!(init_timer);
    let mut init_armed = role.awaiting_initialize();

    let outcome = loop {
        let frame = tokio::select! {
            biased;
            () = shutdown.cancelled() => break Ok(()),
            outcome = &mut slow_watch => match outcome {
                SlowOutcome::Disconnect => {
                    tracing::warn!(queue = %monitor.id(), "slow consumer: disconnecting per policy");
                    break Err(SessionError::SlowConsumer);
                }
                // The writer is gone (the peer stopped reading for good): end the session.
                _ => break Ok(()),
            },
            () = &mut init_timer, if init_armed => {
                init_armed = false;
                if role.awaiting_initialize() {
                    tracing::info!(timeout = ?config.init_timeout, "no initialize within the init timeout; ending session");
                    break Err(SessionError::InitTimeout(config.init_timeout));
                }
                continue;
            }
            frame = reader.next_frame() => frame,
        };
        let frame = match frame {
            None => break Ok(()),
            Some(Err(err)) if err.is_disconnect() => break Ok(()),
            Some(Err(err)) => break Err(SessionError::Transport(err)),
            Some(Ok(frame)) => frame,
        };
        match frame {
            Frame::Oversized { len } => {
                tracing::warn!(len, max = max_frame_bytes, "oversized frame discarded");
                let error =
                    ErrorObject::new(ErrorCode::INVALID_REQUEST, "frame exceeds the maximum size")
                        .with_data(json!({"frameBytes": len, "maxFrameBytes": max_frame_bytes}));
                send_error(&peer, None, error).await;
            }
            Frame::Message(mut bytes) => match Message::parse(&mut bytes) {
                Err(err) => {
                    tracing::debug!(error = %err, "malformed frame");
                    let response = ErrorResponse::from(err);
                    let _ = peer
                        .send_frame(Bytes::from(Message::Error(response).to_vec()))
                        .await;
                }
                Ok(Message::Request(request)) => {
                    dispatch_request(&role, &peer, &permits, &stats, request).await;
                }
                Ok(Message::Notification(notification)) => {
                    handle_notification(&role, &peer, &stats, notification);
                }
                Ok(Message::Response(Response { id, result })) => {
                    if !peer.complete(&id, Ok(result)) {
                        tracing::debug!(%id, "answer for a request nobody waits for");
                    }
                }
                Ok(Message::Error(ErrorResponse { id, error })) => match id {
                    Some(id) => {
                        if !peer.complete(&id, Err(error)) {
                            tracing::debug!(%id, "error for a request nobody waits for");
                        }
                    }
                    None => {
                        tracing::warn!(code = %error.code, message = %error.message, "peer reported an error without id")
                    }
                },
            },
        }
    };

    // Release everything (the guard does it on every path), then let the writer flush
    // what is queued (answers to the last requests) and stop.
    drop(cleanup);
    let mut writer_task = writer_task;
    let grace = match outcome {
        // The peer is not reading: there is nothing worth flushing to it.
        Err(SessionError::SlowConsumer) => Duration::ZERO,
        _ => WRITER_FLUSH_GRACE,
    };
    if tokio::time::timeout(grace, &mut writer_task).await.is_err() {
        // A write blocked on a peer that stopped reading must not keep the session (and
        // its connection) alive: dropping the writer closes our side.
        writer_task.abort();
    }
    outcome
}

/// How long a finished session waits for its writer to flush queued answers.
const WRITER_FLUSH_GRACE: Duration = Duration::from_secs(2);

/// Releases what a session holds when its driver ends — normally, or because the driver
/// future was dropped half-way (its task panicked or was aborted by a supervisor). In
/// that case nothing after the `loop` runs, so the work lives in `Drop`.
struct SessionCleanup<R: SessionRole> {
    role: Arc<R>,
    peer: Peer,
    stats: Arc<SessionStats>,
    writer_stop: CancellationToken,
}

impl<R: SessionRole> Drop for SessionCleanup<R> {
    fn drop(&mut self) {
        // Stop every handler still running: nobody will read their answers.
        let cancelled: Vec<CancellationToken> = self
            .stats
            .in_flight
            .lock()
            .drain()
            .map(|(_, token)| token)
            .collect();
        for token in cancelled {
            token.cancel();
        }
        self.peer.fail_all_pending();
        self.role.on_closed();
        self.writer_stop.cancel();
    }
}

async fn write_loop<W: FrameWriter>(
    mut writer: W,
    mut outbound: QueueReceiver<WeightedItem<Bytes>>,
    stop: CancellationToken,
) {
    // Allocated on first use (and kept): an idle session never writes, and 100,000 idle
    // sessions would otherwise hold 1.25 KiB of empty batch space each.
    let mut items: Vec<WeightedItem<Bytes>> = Vec::new();
    let mut batch: Vec<Bytes> = Vec::new();
    loop {
        let received = tokio::select! {
            biased;
            n = outbound.recv_many(&mut items, MAX_BATCH) => n,
            () = stop.cancelled() => 0,
        };
        if received == 0 {
            break;
        }
        batch.extend(items.drain(..).map(|item| item.item));
        if let Err(err) = writer.write_batch(&batch).await {
            tracing::debug!(error = %err, "write failed; writer stops");
            outbound.close();
            return;
        }
        batch.clear();
    }
    // Drain what was queued before the stop, without waiting for more.
    outbound.drain_into(&mut items, usize::MAX);
    outbound.close();
    batch.extend(items.drain(..).map(|item| item.item));
    if !batch.is_empty() {
        let _ = writer.write_batch(&batch).await;
    }
    let _ = writer.close().await;
}

async fn send_error(peer: &Peer, id: Option<RequestId>, error: ErrorObject) {
    let frame = Message::Error(ErrorResponse { id, error }).to_vec();
    let _ = peer.send_frame(Bytes::from(frame)).await;
}

pub(crate) fn encode_reply(id: RequestId, outcome: Result<Value, ErrorObject>) -> Bytes {
    let message = match outcome {
        Ok(result) => Message::Response(Response { id, result }),
        Err(error) => Message::Error(ErrorResponse {
            id: Some(id),
            error,
        }),
    };
    Bytes::from(message.to_vec())
}

async fn dispatch_request<R: SessionRole>(
    role: &Arc<R>,
    peer: &Peer,
    permits: &Arc<Semaphore>,
    stats: &Arc<SessionStats>,
    request: Request,
) {
    let id = request.id.clone();
    let cancel = CancellationToken::new();
    let duplicate = {
        let mut in_flight = stats.in_flight.lock();
        let duplicate = in_flight.contains_key(&id);
        if !duplicate {
            in_flight.insert(id.clone(), cancel.clone());
        }
        duplicate
    };
    if duplicate {
        {
            let error = ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                "a request with this id is already in flight",
            )
            .with_data(json!({"requestId": id.to_value()}));
            send_error(peer, Some(id), error).await;
            return;
        }
    }
    let scope = RequestScope {
        id: id.clone(),
        cancel: cancel.clone(),
    };
    match role.on_request(request, scope) {
        Dispatch::Reply(outcome) => {
            stats.in_flight.lock().remove(&id);
            let _ = peer.send_frame(encode_reply(id, outcome)).await;
        }
        Dispatch::Spawn(mut handler) => {
            // Waiting here is the inbound backpressure: no permit, no more reading.
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            // Cheap handlers (an echo, a lookup) are done on their first poll: run that
            // poll here and answer without a task of their own, which saves a spawn and
            // a hand-over between threads per request. A handler that is not done goes
            // on in its own task; it registers that task's waker when polled there, so
            // the no-op waker of this first poll is never needed.
            let mut first_poll = std::task::Context::from_waker(std::task::Waker::noop());
            let polled = std::panic::catch_unwind(AssertUnwindSafe(|| {
                handler.as_mut().poll(&mut first_poll)
            }));
            let outcome = match polled {
                Ok(std::task::Poll::Pending) => None,
                Ok(std::task::Poll::Ready(result)) => Some(Ok(result)),
                Err(panic) => Some(Err(panic)),
            };
            if let Some(outcome) = outcome {
                stats.in_flight.lock().remove(&id);
                let frame = encode_reply(id.clone(), handler_outcome(&id, outcome));
                // The reader must not block on a full outbound queue (it would stop
                // watching for slow consumers and shutdown): wait for room in a task.
                if let Err(Some(frame)) = peer.try_send_frame_now(frame) {
                    let peer = peer.clone();
                    tokio::spawn(async move {
                        let _permit = permit;
                        let _ = peer.send_frame(frame).await;
                    });
                }
                return;
            }
            let peer = peer.clone();
            let stats = stats.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let outcome = tokio::select! {
                    biased;
                    () = cancel.cancelled() => None,
                    outcome = AssertUnwindSafe(handler).catch_unwind() => Some(outcome),
                };
                stats.in_flight.lock().remove(&id);
                // Cancelled: the spec says not to answer a cancelled request.
                let Some(outcome) = outcome else {
                    return;
                };
                let outcome = handler_outcome(&id, outcome);
                let _ = peer.send_frame(encode_reply(id, outcome)).await;
            });
        }
    }
}

/// What a finished handler answers: its result, its error, or -32603 if it panicked.
fn handler_outcome(
    id: &RequestId,
    outcome: Result<Result<Value, HandlerError>, Box<dyn std::any::Any + Send>>,
) -> Result<Value, ErrorObject> {
    match outcome {
        Ok(result) => result.map_err(|e| e.to_error_object()),
        Err(panic) => {
            let detail = panic_message(&panic);
            tracing::error!(request = %id, panic = %detail, "handler panicked");
            Err(
                ErrorObject::new(ErrorCode::INTERNAL_ERROR, "handler panicked")
                    .with_data(json!({"panic": detail})),
            )
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

fn handle_notification<R: SessionRole>(
    role: &Arc<R>,
    peer: &Peer,
    stats: &Arc<SessionStats>,
    notification: Notification,
) {
    match notification.method.as_str() {
        methods::NOTIFICATIONS_CANCELLED => {
            let id = notification
                .params
                .as_ref()
                .and_then(|p| p.get("requestId"))
                .and_then(RequestId::from_value);
            if let Some(id) = id {
                let token = stats.in_flight.lock().remove(&id);
                if let Some(token) = token {
                    tracing::debug!(%id, "request cancelled by peer");
                    token.cancel();
                }
            }
        }
        methods::NOTIFICATIONS_PROGRESS => {
            let Some(params) = notification.params.as_ref() else {
                return;
            };
            let (Some(token), Some(progress)) = (
                params.get("progressToken"),
                params.get("progress").and_then(Value::as_f64),
            ) else {
                return;
            };
            let total = params.get("total").and_then(Value::as_f64);
            let message = params
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned);
            peer.progress(token, progress, total, message);
        }
        _ => role.on_notification(notification),
    }
}

/// Creates the outbound queue and the peer handle of a new session.
pub(crate) fn new_peer(
    queues: &OutboundQueue,
    id: u64,
    config: &SessionConfig,
) -> (Peer, QueueReceiver<WeightedItem<Bytes>>) {
    let (tx, rx) = queues.channel(id);
    (Peer::new(tx, config.request_timeout), rx)
}
