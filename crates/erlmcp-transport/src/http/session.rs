//! One HTTP session on the server: the queue into the protocol engine, the exchanges
//! waiting for answers, the SSE streams, and the bounded event store behind
//! `Last-Event-ID`.
//!
//! ```text
//!  POST (request) ──▶ begin_exchange ──▶ inbound queue ──▶ engine
//!                       │ Json: oneshot ◀──────────────┐
//!                       │ Sse:  stream s (priming) ◀───┤ route(answer id) ◀── engine writer
//!  GET ─────────────▶ open_standalone ◀────────────────┘ route(request/notification):
//!                                                          newest live POST stream,
//!                                                          else newest live GET stream,
//!                                                          else backlog (bounded)
//! ```
//!
//! Every event written to a stream gets an id `<stream>:<seq>` and is kept in the event
//! store (the oldest are dropped past the capacity) whether or not a connection is attached
//! to the stream at that moment, so a client that lost a stream resumes it with
//! `Last-Event-ID` and gets exactly that stream's missed events.
//!
//! Nothing here waits on a client: events go to a connection with `try_send`, and a
//! connection whose queue is full is detached (a slow consumer), never waited for.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use erlmcp_codec::{Frame, RequestId};
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::http::envelope::{self, Envelope};
use crate::http::sse::{self, EventId};

/// Counts exchanges in flight across a listener, so shutdown can wait for them.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

impl InFlight {
    pub(crate) fn add(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn done(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Waits until no exchange is in flight.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// The per-session figures the routing needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) retry_ms: u64,
    pub(crate) sse_buffer: usize,
    pub(crate) store_capacity: usize,
    pub(crate) store_max_bytes: usize,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndReason {
    /// The client sent DELETE.
    Deleted,
    /// No activity for the idle timeout.
    Idle,
    /// The protocol engine closed its writer.
    EngineClosed,
    /// The listener shut down.
    Shutdown,
}

/// How an exchange will be answered.
enum Exchange {
    Json(oneshot::Sender<Bytes>),
    Sse { stream: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum StreamKind {
    /// The SSE answer stream of the in-flight request with this id.
    Request(RequestId),
    /// A GET stream for server-initiated messages.
    Standalone,
}

struct StreamRecord {
    kind: StreamKind,
    conn: Option<mpsc::Sender<Bytes>>,
}

impl StreamRecord {
    fn is_live(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| !c.is_closed())
    }
}

struct StoredEvent {
    id: EventId,
    frame: Bytes,
}

struct Routing {
    exchanges: HashMap<RequestId, Exchange>,
    /// Streams that can still get events: requests in flight and GET streams.
    streams: HashMap<u64, StreamRecord>,
    store: VecDeque<StoredEvent>,
    store_bytes: usize,
    /// Server messages that found no live stream, waiting for the next GET.
    backlog: VecDeque<Bytes>,
    backlog_bytes: usize,
    next_stream: u64,
    next_seq: u64,
    last_activity: Instant,
    ended: bool,
}

/// The answer a POST with a request waits for.
pub(crate) enum Pending {
    /// The JSON body will arrive here (dropped: the session ended).
    Json(oneshot::Receiver<Bytes>),
    /// The SSE response body (its priming event is already queued).
    Sse(mpsc::Receiver<Bytes>),
}

/// A POST carried a request whose id is already in flight in this session.
#[derive(Debug)]
pub(crate) struct DuplicateId;

/// A `Last-Event-ID` names a stream this session never had.
#[derive(Debug)]
pub(crate) struct UnknownStream;

/// The shared state of one HTTP session.
pub(crate) struct SessionShared {
    pub(crate) id: Arc<str>,
    inbound: mpsc::Sender<Frame>,
    routing: Mutex<Routing>,
    pub(crate) ended: CancellationToken,
    limits: Limits,
    in_flight: Arc<InFlight>,
}

impl std::fmt::Debug for SessionShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSession").field("id", &self.id).finish()
    }
}

impl SessionShared {
    /// A new session and the receiving end of its inbound queue.
    pub(crate) fn new(
        id: Arc<str>,
        inbound_queue: usize,
        limits: Limits,
        in_flight: Arc<InFlight>,
    ) -> (Arc<Self>, mpsc::Receiver<Frame>) {
        let (tx, rx) = mpsc::channel(inbound_queue);
        let session = Arc::new(SessionShared {
            id,
            inbound: tx,
            routing: Mutex::new(Routing {
                exchanges: HashMap::new(),
                streams: HashMap::new(),
                store: VecDeque::new(),
                store_bytes: 0,
                backlog: VecDeque::new(),
                backlog_bytes: 0,
                next_stream: 1,
                next_seq: 1,
                last_activity: Instant::now(),
                ended: false,
            }),
            ended: CancellationToken::new(),
            limits,
            in_flight,
        });
        (session, rx)
    }

    /// Records client activity (for the idle timeout).
    pub(crate) fn touch(&self) {
        self.routing.lock().last_activity = Instant::now();
    }

    /// True when nothing is in flight, no stream is attached, and the last activity is
    /// older than `timeout`.
    pub(crate) fn is_idle(&self, now: Instant, timeout: Duration) -> bool {
        let routing = self.routing.lock();
        routing.exchanges.is_empty()
            && !routing.streams.values().any(StreamRecord::is_live)
            && now.saturating_duration_since(routing.last_activity) >= timeout
    }

    /// Queues an inbound frame for the engine, waiting for queue space (backpressure).
    /// `false` when the session has ended.
    pub(crate) async fn deliver(&self, frame: BytesMut) -> bool {
        tokio::select! {
            biased;
            () = self.ended.cancelled() => false,
            sent = self.inbound.send(Frame::Message(frame)) => sent.is_ok(),
        }
    }

    /// Registers the exchange of a request before it goes to the engine, so its answer
    /// always finds it.
    pub(crate) fn begin_exchange(
        &self,
        id: RequestId,
        sse_mode: bool,
    ) -> Result<Pending, DuplicateId> {
        let mut routing = self.routing.lock();
        if routing.exchanges.contains_key(&id) {
            return Err(DuplicateId);
        }
        self.in_flight.add();
        if !sse_mode {
            let (tx, rx) = oneshot::channel();
            routing.exchanges.insert(id, Exchange::Json(tx));
            return Ok(Pending::Json(rx));
        }
        let stream = routing.next_stream;
        routing.next_stream += 1;
        let (tx, rx) = mpsc::channel(self.limits.sse_buffer.max(2));
        let priming = EventId {
            stream,
            seq: routing.next_seq,
        };
        routing.next_seq += 1;
        let _ = tx.try_send(sse::encode_priming(priming, self.limits.retry_ms));
        routing.streams.insert(
            stream,
            StreamRecord {
                kind: StreamKind::Request(id.clone()),
                conn: Some(tx),
            },
        );
        routing.exchanges.insert(id, Exchange::Sse { stream });
        Ok(Pending::Sse(rx))
    }

    /// Forgets a JSON exchange whose client went away before the answer came.
    pub(crate) fn abandon_json(&self, id: &RequestId) {
        let mut routing = self.routing.lock();
        if matches!(routing.exchanges.get(id), Some(Exchange::Json(_))) {
            routing.exchanges.remove(id);
            self.in_flight.done();
        }
    }

    /// Closes the SSE connection carrying the request `id` (its events are kept: the
    /// client resumes with `Last-Event-ID`). `false` if the request is not in flight on an
    /// SSE stream.
    pub(crate) fn close_request_stream(&self, id: &RequestId) -> bool {
        let mut routing = self.routing.lock();
        let Some(Exchange::Sse { stream }) = routing.exchanges.get(id) else {
            return false;
        };
        let stream = *stream;
        match routing.streams.get_mut(&stream) {
            Some(record) => record.conn.take().is_some(),
            None => false,
        }
    }

    /// True if a request with this id is in flight.
    pub(crate) fn has_request(&self, id: &RequestId) -> bool {
        self.routing.lock().exchanges.contains_key(id)
    }

    /// Routes one frame written by the engine.
    pub(crate) fn route(&self, frame: Bytes) {
        let mut routing = self.routing.lock();
        if routing.ended {
            return;
        }
        match envelope::peek(&frame) {
            Envelope::Answer(Some(id)) => match routing.exchanges.remove(&id) {
                Some(Exchange::Json(reply)) => {
                    self.in_flight.done();
                    let _ = reply.send(frame);
                }
                Some(Exchange::Sse { stream }) => {
                    self.in_flight.done();
                    self.emit(&mut routing, stream, frame);
                    // The answer ends the stream: the connection closes once its queue
                    // drains, and the events stay in the store for a late resume.
                    routing.streams.remove(&stream);
                }
                None => tracing::debug!(%id, "answer for no exchange in flight; dropped"),
            },
            Envelope::Unknown => tracing::warn!("engine wrote a frame that is not JSON-RPC"),
            // Requests, notifications and errors without id: server-initiated.
            _ => self.route_server_message(&mut routing, frame),
        }
    }

    fn route_server_message(&self, routing: &mut Routing, frame: Bytes) {
        let newest = |kind_is_request: bool| {
            routing
                .streams
                .iter()
                .filter(|(_, r)| {
                    matches!(r.kind, StreamKind::Request(_)) == kind_is_request && r.is_live()
                })
                .map(|(id, _)| *id)
                .max()
        };
        let target = newest(true).or_else(|| newest(false));
        match target {
            Some(stream) => self.emit(routing, stream, frame),
            None => {
                routing.backlog_bytes += frame.len();
                routing.backlog.push_back(frame);
                while routing.backlog.len() > self.limits.store_capacity
                    || routing.backlog_bytes > self.limits.store_max_bytes
                {
                    let Some(dropped) = routing.backlog.pop_front() else {
                        break;
                    };
                    routing.backlog_bytes -= dropped.len();
                    tracing::warn!(session = %self.id, "no stream open; oldest waiting message dropped");
                }
            }
        }
    }

    /// Writes an event to a stream: stored, then sent if a connection is attached.
    fn emit(&self, routing: &mut Routing, stream: u64, frame: Bytes) {
        let id = EventId {
            stream,
            seq: routing.next_seq,
        };
        routing.next_seq += 1;
        let event = sse::encode_event(id, &frame);
        routing.store_bytes += frame.len();
        routing.store.push_back(StoredEvent { id, frame });
        while routing.store.len() > self.limits.store_capacity
            || routing.store_bytes > self.limits.store_max_bytes
        {
            let Some(dropped) = routing.store.pop_front() else {
                break;
            };
            routing.store_bytes -= dropped.frame.len();
        }
        let Some(record) = routing.streams.get_mut(&stream) else {
            return;
        };
        if let Some(conn) = &record.conn {
            match conn.try_send(event) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(session = %self.id, stream, "slow SSE consumer; connection closed, events kept for resume");
                    record.conn = None;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => record.conn = None,
            }
        }
    }

    /// Opens a GET stream: a new standalone stream (`resume` is `None`), or the
    /// continuation of the stream `resume` names, replaying its events after that id.
    pub(crate) fn open_stream(
        &self,
        resume: Option<EventId>,
    ) -> Result<mpsc::Receiver<Bytes>, UnknownStream> {
        let mut routing = self.routing.lock();
        let Some(last) = resume else {
            let stream = routing.next_stream;
            routing.next_stream += 1;
            let waiting = routing.backlog.len();
            let (tx, rx) = mpsc::channel((self.limits.sse_buffer + waiting).max(2));
            let priming = EventId {
                stream,
                seq: routing.next_seq,
            };
            routing.next_seq += 1;
            let _ = tx.try_send(sse::encode_priming(priming, self.limits.retry_ms));
            routing.streams.insert(
                stream,
                StreamRecord {
                    kind: StreamKind::Standalone,
                    conn: Some(tx),
                },
            );
            routing.backlog_bytes = 0;
            let backlog: Vec<Bytes> = routing.backlog.drain(..).collect();
            for frame in backlog {
                self.emit(&mut routing, stream, frame);
            }
            return Ok(rx);
        };
        if last.stream == 0 || last.stream >= routing.next_stream {
            return Err(UnknownStream);
        }
        let missed: Vec<Bytes> = routing
            .store
            .iter()
            .filter(|e| e.id.stream == last.stream && e.id.seq > last.seq)
            .map(|e| sse::encode_event(e.id, &e.frame))
            .collect();
        let capacity = self.limits.sse_buffer + missed.len() + routing.backlog.len() + 1;
        let (tx, rx) = mpsc::channel(capacity);
        let _ = tx.try_send(sse::encode_retry(self.limits.retry_ms));
        for event in missed {
            let _ = tx.try_send(event);
        }
        // A stream still open (a request in flight, a GET stream) continues on this
        // connection; a finished one ends after the replay (`tx` dropped here).
        let standalone = match routing.streams.get_mut(&last.stream) {
            Some(record) => {
                record.conn = Some(tx);
                record.kind == StreamKind::Standalone
            }
            None => false,
        };
        if standalone {
            // Messages that found no live stream while this one was down continue it.
            routing.backlog_bytes = 0;
            let backlog: Vec<Bytes> = routing.backlog.drain(..).collect();
            for frame in backlog {
                self.emit(&mut routing, last.stream, frame);
            }
        }
        Ok(rx)
    }

    /// Ends the session: the engine's reader sees the end, every stream closes, every
    /// waiting POST is released. Idempotent; `true` the first time.
    pub(crate) fn end(&self, reason: EndReason) -> bool {
        let mut routing = self.routing.lock();
        if routing.ended {
            return false;
        }
        routing.ended = true;
        for _ in routing.exchanges.drain() {
            self.in_flight.done();
        }
        routing.streams.clear();
        routing.backlog.clear();
        routing.store.clear();
        routing.backlog_bytes = 0;
        routing.store_bytes = 0;
        drop(routing);
        self.ended.cancel();
        tracing::debug!(session = %self.id, ?reason, "HTTP session ended");
        true
    }

    /// Closes every GET stream's connection (shutdown: they would otherwise never end).
    pub(crate) fn close_standalone_streams(&self) {
        let mut routing = self.routing.lock();
        for record in routing.streams.values_mut() {
            if record.kind == StreamKind::Standalone {
                record.conn = None;
            }
        }
    }

    /// True once [`end`](Self::end) ran.
    pub(crate) fn is_ended(&self) -> bool {
        self.ended.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> (Arc<SessionShared>, mpsc::Receiver<Frame>) {
        SessionShared::new(
            Arc::from("s"),
            8,
            Limits {
                retry_ms: 100,
                sse_buffer: 8,
                store_capacity: 4,
                store_max_bytes: 1 << 20,
            },
            Arc::new(InFlight::default()),
        )
    }

    fn drain(rx: &mut mpsc::Receiver<Bytes>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(b) = rx.try_recv() {
            out.push(String::from_utf8_lossy(&b).into_owned());
        }
        out
    }

    #[test]
    fn answers_go_to_their_exchange_and_close_the_stream() {
        let (s, _rx) = session();
        let Ok(Pending::Sse(mut a)) = s.begin_exchange(RequestId::Number(1), true) else {
            panic!("sse exchange");
        };
        let Ok(Pending::Sse(mut b)) = s.begin_exchange(RequestId::Number(2), true) else {
            panic!("sse exchange");
        };
        assert!(s.begin_exchange(RequestId::Number(1), true).is_err());
        s.route(Bytes::from_static(
            br#"{"jsonrpc":"2.0","method":"notifications/progress"}"#,
        ));
        s.route(Bytes::from_static(
            br#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
        ));
        let a_events = drain(&mut a);
        assert!(a_events[0].starts_with("id: 1:1\nretry: 100\ndata: \n\n"));
        assert_eq!(a_events.len(), 2, "{a_events:?}");
        assert!(a_events[1].contains(r#""id":1"#));
        // The notification went to the newest live request stream (2).
        let b_events = drain(&mut b);
        assert_eq!(b_events.len(), 2);
        assert!(b_events[1].contains("notifications/progress"));
        // Stream 1 is finished: its sender is gone.
        assert!(a.try_recv().is_err());
        assert!(!s.has_request(&RequestId::Number(1)));
    }

    #[test]
    fn unrouted_messages_wait_for_a_get_stream_and_replay_is_per_stream() {
        let (s, _rx) = session();
        s.route(Bytes::from_static(
            br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
        ));
        let mut get = s.open_stream(None).unwrap();
        let events = drain(&mut get);
        assert_eq!(events.len(), 2);
        assert!(events[1].starts_with("id: 1:2\n"));
        s.route(Bytes::from_static(br#"{"jsonrpc":"2.0","method":"a"}"#));
        let mut get2 = s.open_stream(None).unwrap();
        let _ = drain(&mut get2);
        // Newest live standalone stream is 2.
        s.route(Bytes::from_static(br#"{"jsonrpc":"2.0","method":"b"}"#));
        assert_eq!(drain(&mut get).len(), 1);
        assert_eq!(drain(&mut get2).len(), 1);
        // Resume stream 1 after its priming event: only its own two events come back.
        let mut resumed = s.open_stream(EventId::parse("1:1")).unwrap();
        let replay = drain(&mut resumed);
        assert_eq!(replay.len(), 3, "{replay:?}");
        assert!(replay[1].contains(r#""method":"ping""#));
        assert!(replay[2].contains(r#""method":"a""#));
        assert!(s.open_stream(EventId::parse("9:1")).is_err());
    }

    #[test]
    fn the_event_store_keeps_only_the_newest_events() {
        let (s, _rx) = session();
        let mut get = s.open_stream(None).unwrap();
        let priming = drain(&mut get).remove(0);
        let priming_id = priming
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("id: ")
            .to_owned();
        for i in 0..6 {
            s.route(Bytes::from(format!(
                r#"{{"jsonrpc":"2.0","method":"m{i}"}}"#
            )));
        }
        assert_eq!(drain(&mut get).len(), 6);
        let mut resumed = s.open_stream(EventId::parse(&priming_id)).unwrap();
        let replay = drain(&mut resumed);
        // The retry block, then the 4 newest events (capacity 4): m2..m5.
        assert_eq!(replay.len(), 5, "{replay:?}");
        assert!(replay[1].contains("m2") && replay[4].contains("m5"));
    }

    #[test]
    fn end_releases_everything() {
        let (s, mut rx) = session();
        let Ok(Pending::Json(reply)) = s.begin_exchange(RequestId::Number(5), false) else {
            panic!("json exchange");
        };
        assert!(s.end(EndReason::Deleted));
        assert!(!s.end(EndReason::Deleted));
        assert!(s.is_ended());
        drop(reply);
        assert!(rx.try_recv().is_err());
    }
}
