//! The outbound side of a session, shared by the server and client roles: sending
//! notifications, sending requests and waiting for their answers.
//!
//! Request ids are allocated from a per-session monotonic counter and never reused. An
//! answer is matched to its waiting caller through the pending table; a request that times
//! out (or whose caller gives up) is removed from the table and the peer is told with
//! `notifications/cancelled`, so a late answer is dropped rather than delivered to the
//! wrong caller.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use erlmcp_codec::{ErrorObject, Message, Notification, Request, RequestId};
use erlmcp_flow::{QueueSender, WeightedItem};
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::error::RequestError;

/// A progress callback: `(progress, total, message)`.
pub type ProgressCallback = Arc<dyn Fn(f64, Option<f64>, Option<String>) + Send + Sync>;

/// Options for one outbound request.
#[derive(Clone, Default)]
pub struct RequestOptions {
    /// Give up after this long and send `notifications/cancelled`. `None` uses the
    /// session default.
    pub timeout: Option<Duration>,
    /// Called for each `notifications/progress` the peer sends for this request. Setting
    /// it adds a `progressToken` to the request's `_meta`.
    pub on_progress: Option<ProgressCallback>,
}

impl std::fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

impl RequestOptions {
    /// Options with a timeout.
    pub fn with_timeout(timeout: Duration) -> Self {
        RequestOptions {
            timeout: Some(timeout),
            on_progress: None,
        }
    }
}

type Pending = oneshot::Sender<Result<Value, ErrorObject>>;

struct PeerShared {
    outbound: QueueSender<WeightedItem<Bytes>>,
    next_id: AtomicI64,
    pending: Mutex<HashMap<i64, Pending>>,
    progress: Mutex<HashMap<i64, ProgressCallback>>,
    default_timeout: Duration,
}

/// A handle for sending to the other side of one session. Cheap to clone.
#[derive(Clone)]
pub struct Peer {
    shared: Arc<PeerShared>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("pending", &self.shared.pending.lock().len())
            .finish()
    }
}

impl Peer {
    pub(crate) fn new(
        outbound: QueueSender<WeightedItem<Bytes>>,
        default_timeout: Duration,
    ) -> Self {
        Peer {
            shared: Arc::new(PeerShared {
                outbound,
                next_id: AtomicI64::new(0),
                pending: Mutex::new(HashMap::new()),
                progress: Mutex::new(HashMap::new()),
                default_timeout,
            }),
        }
    }

    /// Queues an already encoded frame, waiting for queue space (backpressure).
    pub(crate) async fn send_frame(&self, frame: Bytes) -> Result<(), RequestError> {
        let weight = frame.len();
        self.shared
            .outbound
            .push(WeightedItem::new(frame, weight))
            .await
            .map_err(|_| RequestError::SessionClosed)
    }

    /// Queues an already encoded frame if there is room now. A full queue hands the
    /// frame back (`Err(Some(frame))`) for the caller to wait with
    /// [`send_frame`](Self::send_frame) somewhere it may block; a closed queue drops it
    /// (`Err(None)`), as `send_frame` would.
    pub(crate) fn try_send_frame_now(&self, frame: Bytes) -> Result<(), Option<Bytes>> {
        let weight = frame.len();
        match self
            .shared
            .outbound
            .try_push(WeightedItem::new(frame, weight))
        {
            Ok(()) => Ok(()),
            Err(e) if e.is_full() => Err(Some(e.into_inner().item)),
            Err(_) => Err(None),
        }
    }

    /// Queues a frame that may be shed when the peer is a slow consumer, waiting for
    /// queue space otherwise. Shedding is not an error: the peer asked for slowness.
    pub(crate) async fn send_droppable(&self, frame: Bytes) -> Result<(), RequestError> {
        let weight = frame.len();
        match self
            .shared
            .outbound
            .push(WeightedItem::droppable(frame, weight))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.is_shed() => {
                // A shed push completes at once; without this a handler that streams
                // notifications at a slow consumer would never yield, hogging its worker
                // and never seeing its own cancellation.
                tokio::task::consume_budget().await;
                Ok(())
            }
            Err(_) => Err(RequestError::SessionClosed),
        }
    }

    /// Queues a frame without waiting; `false` when the queue is full or closed.
    pub(crate) fn try_send_frame(&self, frame: Bytes) -> bool {
        let weight = frame.len();
        self.shared
            .outbound
            .try_push(WeightedItem::droppable(frame, weight))
            .is_ok()
    }

    /// True once the session's writer has gone.
    pub fn is_closed(&self) -> bool {
        self.shared.outbound.is_closed()
    }

    /// Sends a notification.
    pub async fn notify<P: Serialize>(&self, method: &str, params: P) -> Result<(), RequestError> {
        let frame = encode_notification(method, params)?;
        if is_droppable(method) {
            self.send_droppable(frame).await
        } else {
            self.send_frame(frame).await
        }
    }

    /// Sends a notification if there is queue space right now; returns whether it was queued.
    /// Used for fan-out (resource updates, list changes) where one slow peer must not
    /// hold up the sender.
    pub fn try_notify<P: Serialize>(&self, method: &str, params: P) -> bool {
        match encode_notification(method, params) {
            Ok(frame) => self.try_send_frame(frame),
            Err(_) => false,
        }
    }

    /// Sends a request and waits for its result, deserialised as `R`.
    pub async fn request<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: P,
        options: RequestOptions,
    ) -> Result<R, RequestError> {
        let value = self.request_value(method, params, options).await?;
        serde_json::from_value(value).map_err(RequestError::InvalidResult)
    }

    /// Sends a request and waits for its raw result.
    pub async fn request_value<P: Serialize>(
        &self,
        method: &str,
        params: P,
        options: RequestOptions,
    ) -> Result<Value, RequestError> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let mut params = serde_json::to_value(params).map_err(RequestError::InvalidParams)?;
        if let Some(callback) = options.on_progress.clone() {
            if let Value::Null = params {
                params = json!({});
            }
            if let Value::Object(map) = &mut params {
                let meta = map.entry("_meta").or_insert_with(|| json!({}));
                if let Value::Object(meta) = meta {
                    meta.insert("progressToken".into(), Value::from(id));
                }
            }
            self.shared.progress.lock().insert(id, callback);
        }
        let request = Message::Request(Request {
            id: RequestId::Number(id),
            method: method.to_owned(),
            params: match params {
                Value::Null => None,
                other => Some(other),
            },
        });
        let (tx, rx) = oneshot::channel();
        self.shared.pending.lock().insert(id, tx);
        // Whatever happens below, the pending entry and progress callback go away with it.
        let guard = PendingGuard { peer: self, id };
        self.send_frame(Bytes::from(request.to_vec())).await?;
        let timeout = options.timeout.unwrap_or(self.shared.default_timeout);
        let outcome = tokio::time::timeout(timeout, rx).await;
        match outcome {
            Ok(Ok(Ok(value))) => {
                guard.disarm();
                Ok(value)
            }
            Ok(Ok(Err(error))) => {
                guard.disarm();
                Err(RequestError::Rpc(error))
            }
            Ok(Err(_)) => {
                guard.disarm();
                Err(RequestError::SessionClosed)
            }
            Err(_) => {
                drop(guard);
                // Tell the peer to stop working on it; best effort.
                self.try_notify(
                    erlmcp_codec::schema::methods::NOTIFICATIONS_CANCELLED,
                    json!({"requestId": id, "reason": "request timed out"}),
                );
                Err(RequestError::Timeout(timeout))
            }
        }
    }

    /// Delivers an answer from the peer to whoever waits for it. Returns `false` for an
    /// answer nobody waits for (unknown, cancelled or timed-out id).
    pub(crate) fn complete(&self, id: &RequestId, outcome: Result<Value, ErrorObject>) -> bool {
        let RequestId::Number(n) = id else {
            return false;
        };
        self.shared.progress.lock().remove(n);
        match self.shared.pending.lock().remove(n) {
            Some(tx) => tx.send(outcome).is_ok(),
            None => false,
        }
    }

    /// Delivers a progress notification to the callback registered for its token.
    pub(crate) fn progress(
        &self,
        token: &Value,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) {
        let Some(n) = token.as_i64() else {
            return;
        };
        let callback = self.shared.progress.lock().get(&n).cloned();
        if let Some(callback) = callback {
            callback(progress, total, message);
        }
    }

    /// Fails every waiting request: the session is over.
    pub(crate) fn fail_all_pending(&self) {
        let pending: Vec<Pending> = self
            .shared
            .pending
            .lock()
            .drain()
            .map(|(_, tx)| tx)
            .collect();
        self.shared.progress.lock().clear();
        drop(pending);
    }

    /// Messages queued for the writer and not yet taken by it.
    pub fn queued(&self) -> usize {
        self.shared.outbound.stats().len
    }

    /// The outbound queue's figures (length, bytes, level, pushes, sheds, …).
    pub fn queue_stats(&self) -> erlmcp_flow::QueueStats {
        self.shared.outbound.stats()
    }

    /// Number of outbound requests still waiting for an answer.
    pub fn pending_requests(&self) -> usize {
        self.shared.pending.lock().len()
    }
}

/// Removes a pending entry when the waiting future is dropped (timeout, caller gave up).
struct PendingGuard<'a> {
    peer: &'a Peer,
    id: i64,
}

impl PendingGuard<'_> {
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.peer.shared.pending.lock().remove(&self.id);
        self.peer.shared.progress.lock().remove(&self.id);
    }
}

/// Notifications a slow consumer may miss: informational ones whose loss the protocol
/// tolerates (a later one supersedes them, or they are advisory). Cancellation and
/// lifecycle notifications are never dropped.
pub(crate) fn is_droppable(method: &str) -> bool {
    use erlmcp_codec::schema::methods;
    matches!(
        method,
        methods::NOTIFICATIONS_PROGRESS
            | methods::NOTIFICATIONS_MESSAGE
            | methods::NOTIFICATIONS_RESOURCES_UPDATED
            | methods::NOTIFICATIONS_RESOURCES_LIST_CHANGED
            | methods::NOTIFICATIONS_TOOLS_LIST_CHANGED
            | methods::NOTIFICATIONS_PROMPTS_LIST_CHANGED
            | methods::NOTIFICATIONS_TASKS_STATUS
    )
}

pub(crate) fn encode_notification<P: Serialize>(
    method: &str,
    params: P,
) -> Result<Bytes, RequestError> {
    let params = serde_json::to_value(params).map_err(RequestError::InvalidParams)?;
    let message = Message::Notification(Notification {
        method: method.to_owned(),
        params: match params {
            Value::Null => None,
            other => Some(other),
        },
    });
    Ok(Bytes::from(message.to_vec()))
}
