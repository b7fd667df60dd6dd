//! Sessions as supervised children: each is a temporary child of one bulkhead, and an
//! entry of kind `connection` in the runtime's `erlmcp-registry` registry.
//!
//! ```text
//!   listener accepts ─▶ key = next number ─▶ registry.insert(key, Kind::CONNECTION)
//!        │                                   bulkhead = hash(key) % N
//!        ▼
//!   bulkhead.start_child(oneshot "session-{key}")          refused (bulkhead full or
//!        │                                                 restarting) ─▶ connection dropped,
//!        ▼                                                 entry removed with the spec
//!   Running: Server::serve over the transport, whose reader ends (EOF) when the
//!            bulkhead asks the child to stop, so the session closes as if the peer had
//!        │   left: queued answers are flushed, then the transport is closed.
//!        ├── peer leaves / stop signal ─▶ Ok            (normal exit)
//!        ├── session error (transport, init timeout) ─▶ Err   (counted as a failure)
//!        └── panic in the session task ─▶ JoinError    (counted as a panic)
//!   In every case the child is not restarted (its peer is gone) and its entry leaves
//!   the registry: the entry's guard lives in the session future (the monitor), so a
//!   panic or an abort removes it too — and the server's own session entry likewise.
//! ```
//!
//! The session future is built eagerly and polled in place (no `async` wrapper around
//! it, which would store it twice): the fault-injection panic of
//! [`Runtime::crash_session`](super::Runtime::crash_session) fires from the reader.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use erlmcp_codec::Frame;
use erlmcp_protocol::Server;
use erlmcp_registry::{Kind, Registry, RegistryMetrics};
use erlmcp_supervisor::{Bulkheads, CancellationToken, ChildSpec, Shutdown};
use erlmcp_transport::{FrameReader, Transport, TransportError, TransportInfo};
use futures::FutureExt;
use serde::Serialize;
use tokio::sync::oneshot;

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

/// The runtime's registry entry of one session.
#[derive(Debug)]
pub(crate) struct Entry {
    info: SessionInfo,
    /// Fault injection: set, the session's reader panics instead of reporting the stop.
    crash: AtomicBool,
    /// The child's stop token, once the child started (fault injection fires it to wake
    /// the reader: the reader watches one token per frame, not two).
    stop: OnceLock<CancellationToken>,
}

impl Entry {
    fn crash(&self) {
        self.crash.store(true, Ordering::SeqCst);
        if let Some(stop) = self.stop.get() {
            stop.cancel();
        }
    }
}

/// The runtime's live sessions: runtime key → entry, kind `connection`.
#[derive(Clone, Default)]
pub(crate) struct SessionTable {
    registry: Registry<u64, Arc<Entry>>,
}

impl SessionTable {
    pub(crate) fn len(&self) -> usize {
        self.registry.count_kind(Kind::CONNECTION)
    }

    pub(crate) fn list(&self) -> Vec<SessionInfo> {
        let mut out: Vec<SessionInfo> = Vec::with_capacity(self.len());
        self.registry
            .for_each_kind(Kind::CONNECTION, |_, e| out.push(e.info.clone()));
        out.sort_by_key(|s| s.key);
        out
    }

    pub(crate) fn crash(&self, key: u64) -> bool {
        self.registry.with(&key, |e| e.crash()).is_some()
    }

    pub(crate) fn metrics(&self) -> RegistryMetrics {
        self.registry.metrics()
    }
}

/// What starting a session needs; shared by every listener.
pub(crate) struct Sessions {
    pub(crate) server: Server,
    pub(crate) bulkheads: Bulkheads,
    pub(crate) table: SessionTable,
    pub(crate) shutdown: Shutdown,
    next_key: std::sync::atomic::AtomicU64,
}

impl Sessions {
    pub(crate) fn new(server: Server, bulkheads: Bulkheads, shutdown: Shutdown) -> Self {
        Sessions {
            server,
            bulkheads,
            table: SessionTable::default(),
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
        let entry = Arc::new(Entry {
            info: SessionInfo {
                key,
                peer: transport_info.peer.clone(),
                transport: transport_info.kind.as_str(),
                bulkhead,
            },
            crash: AtomicBool::new(false),
            stop: OnceLock::new(),
        });
        let registration = self
            .table
            .registry
            .insert(key, entry.clone(), Kind::CONNECTION)
            .map_err(RuntimeError::Registry)?;
        let server = self.server.clone();
        let spec = ChildSpec::oneshot(format!("session-{key}"), move |ctx| {
            // The entry's guard rides in the session future: it goes when the session
            // ends, panics or is aborted. `map` keeps the session future in place (no
            // second copy of it in an outer `async` block).
            let stop = ctx.shutdown_token();
            let _ = entry.stop.set(stop.clone());
            registration
                .monitor(server.serve(StopOnSignal {
                    inner: transport,
                    stop,
                    entry,
                }))
                .map(move |outcome| {
                    if let Some(on_end) = on_end {
                        let _ =
                            on_end.send(outcome.as_ref().map(drop).map_err(ToString::to_string));
                    }
                    outcome
                })
        })
        .shutdown(self.shutdown);
        match self.bulkheads.start_child_in(bulkhead, spec).await {
            Ok(()) => Ok(key),
            Err(err) => {
                // The spec, and the registration in it, were dropped with the refusal.
                tracing::warn!(key, bulkhead, peer = %transport_info.peer, error = %err, "session refused");
                Err(RuntimeError::Supervisor(err))
            }
        }
    }
}

/// A transport whose reader reports EOF once `stop` fires, so that a session asked to
/// stop by its supervisor ends the way it ends when the peer leaves — and panics once
/// `crash` fires (fault injection: a real panic in the session task, outside the protocol
/// engine's per-request catch).
struct StopOnSignal<T> {
    inner: T,
    stop: CancellationToken,
    entry: Arc<Entry>,
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
                entry: self.entry,
            },
            writer,
        )
    }
}

struct StopOnSignalReader<R> {
    inner: R,
    stop: CancellationToken,
    entry: Arc<Entry>,
}

impl<R> StopOnSignalReader<R> {
    fn crash_if_asked(&self) {
        if self.entry.crash.load(Ordering::SeqCst) {
            panic!(
                "session {}: crash injected by Runtime::crash_session",
                self.entry.info.key
            )
        }
    }
}

impl<R: FrameReader> FrameReader for StopOnSignalReader<R> {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        self.crash_if_asked();
        tokio::select! {
            biased;
            () = self.stop.cancelled() => {
                self.crash_if_asked();
                None
            }
            frame = self.inner.next_frame() => frame,
        }
    }
}
