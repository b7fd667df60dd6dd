//! Sessions as supervised children: each is a temporary child of one bulkhead.
//!
//! ```text
//!   listener accepts ─▶ key = next number ─▶ bulkhead = hash(key) % N
//!        │
//!        ▼
//!   bulkhead.start_child(oneshot "session-{key}")          refused (bulkhead full or
//!        │                                                 restarting) ─▶ connection dropped
//!        ▼
//!   Running: Server::serve over the transport, whose reader ends (EOF) when the
//!            bulkhead asks the child to stop, so the session closes as if the peer had
//!        │   left: queued answers are flushed, then the transport is closed.
//!        ├── peer leaves / stop signal ─▶ Ok            (normal exit)
//!        ├── session error (transport, init timeout) ─▶ Err   (counted as a failure)
//!        └── panic in the session task ─▶ JoinError    (counted as a panic)
//!   In every case the child is not restarted (its peer is gone) and its entry leaves
//!   the session table (a drop guard, so a panic removes it too).
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use erlmcp_codec::Frame;
use erlmcp_protocol::{Server, SessionError};
use erlmcp_supervisor::{Bulkheads, CancellationToken, ChildSpec, Shutdown};
use erlmcp_transport::{FrameReader, Transport, TransportError, TransportInfo};
use serde::Serialize;
use tokio::sync::{Notify, oneshot};

use super::RuntimeError;

/// One live session, as the runtime sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// The runtime's key for the session (also its child id: `session-{key}`).
    pub key: u64,
    /// The peer, as the transport names it (`127.0.0.1:50312`, `stdio`, …).
    pub peer: String,
    /// The transport kind (`tcp`, `stdio`, …).
    pub transport: &'static str,
    /// The bulkhead the session runs in.
    pub bulkhead: usize,
}

struct Entry {
    info: SessionInfo,
    crash: Arc<Notify>,
}

/// The runtime's table of live sessions.
#[derive(Default)]
pub(crate) struct SessionTable {
    entries: Mutex<HashMap<u64, Entry>>,
}

impl SessionTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn list(&self) -> Vec<SessionInfo> {
        let mut out: Vec<SessionInfo> = self.lock().values().map(|e| e.info.clone()).collect();
        out.sort_by_key(|s| s.key);
        out
    }

    pub(crate) fn crash(&self, key: u64) -> bool {
        match self.lock().get(&key) {
            Some(entry) => {
                entry.crash.notify_one();
                true
            }
            None => false,
        }
    }

    fn remove(&self, key: u64) {
        self.lock().remove(&key);
    }
}

/// Removes a session's entry when its task ends, however it ends.
struct EntryGuard {
    table: Arc<SessionTable>,
    key: u64,
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        self.table.remove(self.key);
    }
}

/// What starting a session needs; shared by every listener.
pub(crate) struct Sessions {
    pub(crate) server: Server,
    pub(crate) bulkheads: Bulkheads,
    pub(crate) table: Arc<SessionTable>,
    pub(crate) shutdown: Shutdown,
    next_key: std::sync::atomic::AtomicU64,
}

impl Sessions {
    pub(crate) fn new(server: Server, bulkheads: Bulkheads, shutdown: Shutdown) -> Self {
        Sessions {
            server,
            bulkheads,
            table: Arc::new(SessionTable::default()),
            shutdown,
            next_key: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Places a session over `transport` in a bulkhead by the hash of a fresh key.
    pub(crate) async fn start<T: Transport>(&self, transport: T) -> Result<u64, RuntimeError> {
        self.start_watched(transport, None).await
    }

    /// [`start`](Self::start), telling `on_end` how the session ended (`Ok`, or its error
    /// as text). A panic in the session drops `on_end` unsent.
    pub(crate) async fn start_watched<T: Transport>(
        &self,
        transport: T,
        on_end: Option<oneshot::Sender<Result<(), String>>>,
    ) -> Result<u64, RuntimeError> {
        let key = self
            .next_key
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let bulkhead = self.bulkheads.place(&key);
        let transport_info = transport.info();
        let crash = Arc::new(Notify::new());
        self.table.lock().insert(
            key,
            Entry {
                info: SessionInfo {
                    key,
                    peer: transport_info.peer.clone(),
                    transport: transport_info.kind.as_str(),
                    bulkhead,
                },
                crash: crash.clone(),
            },
        );
        let guard = EntryGuard {
            table: self.table.clone(),
            key,
        };
        let server = self.server.clone();
        let spec = ChildSpec::oneshot(format!("session-{key}"), move |ctx| {
            let on_end = on_end;
            async move {
                let outcome =
                    session_task(server, transport, ctx.shutdown_token(), crash, guard, key).await;
                if let Some(on_end) = on_end {
                    let _ = on_end.send(outcome.as_ref().map(drop).map_err(ToString::to_string));
                }
                outcome
            }
        })
        .shutdown(self.shutdown);
        match self.bulkheads.start_child_in(bulkhead, spec).await {
            Ok(()) => Ok(key),
            Err(err) => {
                // The spec, and the guard in it, are dropped with the refusal.
                tracing::warn!(key, bulkhead, peer = %transport_info.peer, error = %err, "session refused");
                self.table.remove(key);
                Err(RuntimeError::Supervisor(err))
            }
        }
    }
}

async fn session_task<T: Transport>(
    server: Server,
    transport: T,
    stop: CancellationToken,
    crash: Arc<Notify>,
    guard: EntryGuard,
    key: u64,
) -> Result<(), SessionError> {
    let _guard = guard;
    let session = server.serve(StopOnSignal {
        inner: transport,
        stop,
    });
    tokio::select! {
        outcome = session => outcome,
        () = crash.notified() => {
            panic!("session {key}: crash injected by Runtime::crash_session")
        }
    }
}

/// A transport whose reader reports EOF once `stop` fires, so that a session asked to
/// stop by its supervisor ends the way it ends when the peer leaves.
struct StopOnSignal<T> {
    inner: T,
    stop: CancellationToken,
}

impl<T: Transport> Transport for StopOnSignal<T> {
    type Reader = StopOnSignalReader<T::Reader>;
    type Writer = T::Writer;

    fn info(&self) -> TransportInfo {
        self.inner.info()
    }

    fn split(self) -> (Self::Reader, Self::Writer) {
        let (reader, writer) = self.inner.split();
        (
            StopOnSignalReader {
                inner: reader,
                stop: self.stop,
            },
            writer,
        )
    }
}

struct StopOnSignalReader<R> {
    inner: R,
    stop: CancellationToken,
}

impl<R: FrameReader> FrameReader for StopOnSignalReader<R> {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        tokio::select! {
            biased;
            () = self.stop.cancelled() => None,
            frame = self.inner.next_frame() => frame,
        }
    }
}
