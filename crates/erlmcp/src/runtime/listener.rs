//! Listener supervisors: one per listener kind, each child one accept loop.
//!
//! ```text
//!   listener.tcp (one_for_one)
//!   └── acceptor-{addr}   permanent: accept ─▶ place a session in a bulkhead ─▶ accept …
//! ```
//!
//! The bound socket belongs to the listener supervisor's child spec, not to the accept
//! loop: when the loop crashes, its restart accepts on the same socket at once, and
//! connections that arrived meanwhile wait in the kernel's backlog. Sessions already
//! placed live in the bulkheads and never notice.
//!
//! `listener.http` works the same way with an [`HttpListener`]: its connections are
//! served by hyper inside the listener (spawned by `HttpListener::bind`, held by the
//! supervisor's child spec), and the supervised accept loop takes each new MCP session
//! (an `initialize` without `Mcp-Session-Id`) and places it in a bulkhead. When the loop
//! crashes, new sessions wait in the listener's bounded queue until the restarted loop
//! takes them; established sessions, their streams and their connections are untouched.
//! When the runtime stops, the loop shuts the HTTP listener down gracefully.
//!
//! `listener.stdio` has one transient child that places the single stdio session and
//! ends; stdin and stdout cannot be accepted twice. How that session ends (EOF, an error,
//! a crash) is reported to the runtime, which ends with it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use erlmcp_supervisor::{
    ChildContext, ChildSpec, Intensity, Restart, Strategy, Supervisor, SupervisorRef,
};
use erlmcp_transport::http::{HttpIncoming, HttpListener};
use erlmcp_transport::{StdioTransport, TcpAcceptor};
use serde::Serialize;
use tokio::sync::{Notify, oneshot};

use super::session::Sessions;

/// Pause after a failed accept (e.g. out of file descriptors) before accepting again.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// The kinds of listener the runtime supervises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ListenerKind {
    /// This process's stdin/stdout (one session).
    Stdio,
    /// TCP listeners.
    Tcp,
    /// Streamable HTTP listeners.
    Http,
}

impl ListenerKind {
    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerKind::Stdio => "stdio",
            ListenerKind::Tcp => "tcp",
            ListenerKind::Http => "http",
        }
    }
}

/// One listener's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerStatus {
    /// The listener kind.
    pub kind: ListenerKind,
    /// Where it listens (`127.0.0.1:7400`, `stdio`).
    pub address: String,
    /// Connections accepted.
    pub accepted: u64,
    /// Accepted connections refused by their bulkhead (full or restarting).
    pub refused: u64,
    /// Times its accept loop started (more than one: it crashed and was restarted).
    pub starts: u64,
}

/// State that outlives every incarnation of one accept loop.
pub(crate) struct Listener {
    pub(crate) kind: ListenerKind,
    pub(crate) address: String,
    crash: Notify,
    accepted: AtomicU64,
    refused: AtomicU64,
    starts: AtomicU64,
}

impl Listener {
    fn new(kind: ListenerKind, address: String) -> Arc<Self> {
        Arc::new(Listener {
            kind,
            address,
            crash: Notify::new(),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            starts: AtomicU64::new(0),
        })
    }

    pub(crate) fn crash(&self) {
        self.crash.notify_one();
    }

    pub(crate) fn status(&self) -> ListenerStatus {
        ListenerStatus {
            kind: self.kind,
            address: self.address.clone(),
            accepted: self.accepted.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            starts: self.starts.load(Ordering::Relaxed),
        }
    }
}

/// Restart budget of a listener supervisor: a listener that keeps crashing escalates to
/// the root after this.
fn listener_intensity() -> Intensity {
    Intensity {
        max_restarts: 5,
        period: Duration::from_secs(10),
    }
}

/// The `listener.tcp` supervisor with one accept loop per acceptor.
pub(crate) fn tcp_supervisor(
    acceptors: Vec<TcpAcceptor>,
    sessions: &Arc<Sessions>,
) -> (Supervisor, SupervisorRef, Vec<Arc<Listener>>) {
    let mut supervisor = Supervisor::new("listener.tcp")
        .strategy(Strategy::OneForOne)
        .intensity(listener_intensity());
    let mut listeners = Vec::new();
    for acceptor in acceptors {
        let address = match acceptor.local_addr() {
            Ok(addr) => addr.to_string(),
            Err(_) => "unknown".to_owned(),
        };
        let listener = Listener::new(ListenerKind::Tcp, address.clone());
        let acceptor = Arc::new(acceptor);
        let state = listener.clone();
        let sessions = sessions.clone();
        supervisor = supervisor.child(ChildSpec::worker(
            format!("acceptor-{address}"),
            move |ctx| accept_loop(ctx, acceptor.clone(), state.clone(), sessions.clone()),
        ));
        listeners.push(listener);
    }
    let handle = supervisor.handle();
    (supervisor, handle, listeners)
}

async fn accept_loop(
    ctx: ChildContext,
    acceptor: Arc<TcpAcceptor>,
    listener: Arc<Listener>,
    sessions: Arc<Sessions>,
) {
    listener.starts.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(address = %listener.address, "accepting");
    loop {
        let accepted = tokio::select! {
            biased;
            () = ctx.shutdown_requested() => return,
            () = listener.crash.notified() => {
                panic!("TCP listener {}: crash injected by Runtime::crash_listener", listener.address)
            }
            accepted = acceptor.accept() => accepted,
        };
        match accepted {
            Ok(transport) => {
                listener.accepted.fetch_add(1, Ordering::Relaxed);
                if sessions.start(transport).await.is_err() {
                    listener.refused.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(err) => {
                tracing::warn!(address = %listener.address, error = %err, "accept failed; retrying");
                tokio::select! {
                    () = ctx.shutdown_requested() => return,
                    () = tokio::time::sleep(ACCEPT_RETRY) => {}
                }
            }
        }
    }
}

/// The `listener.http` supervisor with one session-accept loop per HTTP listener.
pub(crate) fn http_supervisor(
    http: Vec<HttpListener>,
    sessions: &Arc<Sessions>,
) -> (Supervisor, SupervisorRef, Vec<Arc<Listener>>) {
    let mut supervisor = Supervisor::new("listener.http")
        .strategy(Strategy::OneForOne)
        .intensity(listener_intensity());
    let mut listeners = Vec::new();
    for http in http {
        let address = http.local_addr().to_string();
        let listener = Listener::new(ListenerKind::Http, address.clone());
        // Tools' `x-mcp-header` annotations, checked by the listener on 2026-07-28
        // requests, come from the server's own tool table.
        http.set_param_headers(crate::net_http::tool_param_headers(&sessions.server));
        let http = Arc::new(http);
        let state = listener.clone();
        let sessions = sessions.clone();
        supervisor = supervisor.child(ChildSpec::worker(format!("http-{address}"), move |ctx| {
            http_accept_loop(ctx, http.clone(), state.clone(), sessions.clone())
        }));
        listeners.push(listener);
    }
    let handle = supervisor.handle();
    (supervisor, handle, listeners)
}

async fn http_accept_loop(
    ctx: ChildContext,
    http: Arc<HttpListener>,
    listener: Arc<Listener>,
    sessions: Arc<Sessions>,
) {
    listener.starts.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(address = %listener.address, "accepting HTTP sessions");
    loop {
        let accepted = tokio::select! {
            biased;
            () = ctx.shutdown_requested() => {
                // Stop taking connections and drain in-flight requests; the sessions
                // themselves are ended by their bulkheads after the listeners.
                http.shutdown().await;
                return;
            }
            () = listener.crash.notified() => {
                panic!("HTTP listener {}: crash injected by Runtime::crash_listener", listener.address)
            }
            accepted = http.accept() => accepted,
        };
        match accepted {
            Ok(HttpIncoming::Session(transport)) => {
                listener.accepted.fetch_add(1, Ordering::Relaxed);
                if sessions.start(transport).await.is_err() {
                    listener.refused.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(HttpIncoming::Exchange(exchange)) => {
                // A stateless (2026-07-28) request lives only as long as its response:
                // it is not a session, so it is not placed in a bulkhead. The engine turns
                // a handler panic into -32603, and HTTP shutdown drains it.
                listener.accepted.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(crate::net_http::serve_exchange(
                    sessions.server.clone(),
                    exchange,
                ));
            }
            Err(erlmcp_transport::TransportError::Closed) => {
                // Shut down from elsewhere: nothing more will come.
                ctx.shutdown_requested().await;
                return;
            }
            Err(err) => {
                tracing::warn!(address = %listener.address, error = %err, "HTTP accept failed; retrying");
                tokio::select! {
                    () = ctx.shutdown_requested() => return,
                    () = tokio::time::sleep(ACCEPT_RETRY) => {}
                }
            }
        }
    }
}

/// How the stdio session ended: `Ok`, or its error as text; dropped unsent if it panicked.
pub(crate) type StdioEnd = oneshot::Receiver<Result<(), String>>;

/// The `listener.stdio` supervisor: one transient child that places the stdio session;
/// the receiver hears how that session ended.
pub(crate) fn stdio_supervisor(
    max_frame_bytes: usize,
    sessions: &Arc<Sessions>,
) -> (Supervisor, SupervisorRef, Arc<Listener>, StdioEnd) {
    let listener = Listener::new(ListenerKind::Stdio, "stdio".to_owned());
    let state = listener.clone();
    let sessions = sessions.clone();
    let (on_end, ended) = oneshot::channel();
    let on_end = Arc::new(std::sync::Mutex::new(Some(on_end)));
    let supervisor = Supervisor::new("listener.stdio")
        .intensity(listener_intensity())
        .child(
            ChildSpec::worker("stdio", move |_ctx| {
                let state = state.clone();
                let sessions = sessions.clone();
                let on_end = on_end
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                async move {
                    state.starts.fetch_add(1, Ordering::Relaxed);
                    state.accepted.fetch_add(1, Ordering::Relaxed);
                    let transport = StdioTransport::new(max_frame_bytes);
                    match sessions.start_watched(transport, on_end).await {
                        Ok(_) => Ok(()),
                        Err(err) => {
                            state.refused.fetch_add(1, Ordering::Relaxed);
                            Err(err)
                        }
                    }
                }
            })
            .restart(Restart::Transient),
        );
    let handle = supervisor.handle();
    (supervisor, handle, listener, ended)
}

/// The addresses the listeners of `kind` are bound to.
pub(crate) fn addrs(listeners: &[Arc<Listener>], kind: ListenerKind) -> Vec<SocketAddr> {
    listeners
        .iter()
        .filter(|l| l.kind == kind)
        .filter_map(|l| l.address.parse().ok())
        .collect()
}
