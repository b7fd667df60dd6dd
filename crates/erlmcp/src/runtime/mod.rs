//! The supervised runtime: a [`Server`] served on its listeners under one supervision tree,
//! so that one crash never takes down another connection.
//!
//! ```text
//! erlmcp (root, one_for_one)
//! ├── registry             permanent; started first, stopped last: outlives every transport
//! ├── sessions-0 … -{N-1}  session bulkheads (one_for_one, capped); each session is a
//! │                        temporary child of one of them, placed by hash of its key
//! ├── listener.stdio       one supervisor per listener kind, present when configured;
//! ├── listener.tcp         a crash restarts that listener only
//! │   └── acceptor-{addr}  permanent accept loop
//! └── listener.http        Streamable HTTP: hyper serves the connections, the loop
//!     └── http-{addr}      permanent: takes each new MCP session into a bulkhead
//! ```
//!
//! With stdio, the runtime lives as long as its one session:
//! [`Runtime::run_until_stdio_ends`] stops the tree when stdin reaches EOF (or the
//! session fails) and says how the session ended.
//!
//! Children start in that order and stop in the reverse order: listeners stop accepting
//! first, then the bulkheads end their sessions (each session flushes what it owes and
//! closes, within the session shutdown timeout), and the registry goes last. The listeners
//! come after the bulkheads (the architecture map lists them before) for exactly that
//! reason: in a supervisor, start order is the reverse of stop order.
//!
//! What fails where:
//! - a panic in a tool handler is a JSON-RPC error for that request (the protocol engine
//!   catches it); the session goes on;
//! - a panic in a session task ends that session only: its bulkhead counts it and does not
//!   restart it (the peer is gone);
//! - a panic in an accept loop restarts that loop on the same bound socket; sessions are
//!   not touched;
//! - a bulkhead or listener supervisor past its restart intensity is restarted by the root;
//!   the root past its own ends the runtime ([`Runtime::wait`] returns the error).
//!
//! ```rust
//! use erlmcp::runtime::{ListenerKind, Runtime};
//! use erlmcp::transport::TcpAcceptor;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let acceptor = TcpAcceptor::bind("127.0.0.1:0", 1 << 20).await?;
//! let runtime = Runtime::builder(erlmcp::demo::server())
//!     .bulkheads(8)
//!     .tcp(acceptor)
//!     .start()?;
//! let addr = runtime.tcp_addrs()[0];
//! let client = erlmcp::net::connect_tcp(erlmcp::ClientBuilder::new("doc", "1.0"), addr).await?;
//! assert_eq!(runtime.status().active_connections(), 1);
//!
//! // The accept loop crashes and is restarted; the session does not notice.
//! runtime.crash_listener(ListenerKind::Tcp);
//! client.call_tool("echo", serde_json::json!({"text": "still here"})).await?;
//!
//! let status = serde_json::to_value(runtime.status())?; // for the evidence bundle
//! assert_eq!(status["bulkheads"].as_array().map(Vec::len), Some(8));
//! client.close().await?;
//! runtime.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! **The registry.** Two `erlmcp-registry` registries, both outliving every transport:
//! the [`Server`]'s (session id → live session, kind `session`, plus the resource-URI →
//! subscribers groups the fan-out uses) and the runtime's (runtime key → connection, kind
//! `connection`: peer, transport, bulkhead). Each entry's guard lives in its session's
//! future, so a session that ends, panics or is aborted leaves no entry in either. The
//! `registry` child marks their place in the tree and, when the runtime stops, ends every
//! session still registered. [`Runtime::status`] reports both registries' counts, sampled
//! lookup latency and lock contention.
//!
//! **Fault injection.** [`Runtime::crash_session`] and [`Runtime::crash_listener`] make
//! the session task or the accept loop panic — a real panic in that task, outside the
//! protocol engine's per-request catch — for chaos tests and the crash-isolation harness.

mod listener;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use erlmcp_protocol::{RegistryReport, Server};
use erlmcp_registry::RegistryMetrics;
use erlmcp_supervisor::{
    BulkheadConfig, BulkheadStatus, Bulkheads, ChildSpec, Intensity, Shutdown, Strategy,
    Supervisor, SupervisorRef,
};
use erlmcp_transport::http::HttpListener;
use erlmcp_transport::{TcpAcceptor, Transport};
use serde::Serialize;
use tokio::task::JoinHandle;

pub use erlmcp_supervisor::{DEFAULT_BULKHEADS, SupervisorError, SupervisorStatus};
pub use listener::{ListenerKind, ListenerStatus};
pub use session::SessionInfo;

use listener::Listener;
use session::Sessions;

/// Default cap on sessions per bulkhead (8 × 16 384 leaves room for 100K connections).
pub const DEFAULT_MAX_SESSIONS_PER_BULKHEAD: usize =
    erlmcp_supervisor::DEFAULT_MAX_CHILDREN_PER_BULKHEAD;

/// Default time a session gets to flush and close when the runtime stops it.
pub const DEFAULT_SESSION_SHUTDOWN: Duration = Duration::from_secs(5);

/// Why the runtime refused something or ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum RuntimeError {
    /// A supervisor refused or failed: a full or restarting bulkhead refused a session,
    /// invalid configuration, or the root exceeded its restart intensity.
    Supervisor(SupervisorError),
    /// The root supervisor's task panicked or was aborted.
    RootTask(tokio::task::JoinError),
    /// The runtime's session registry refused a session.
    Registry(erlmcp_registry::RegistryError),
    /// [`Runtime::wait`] was called after the runtime had already ended.
    Ended,
    /// The stdio session ended with an error (or its task panicked); the runtime was
    /// stopped after it.
    StdioSession(String),
    /// [`Runtime::run_until_stdio_ends`] on a runtime without a stdio listener.
    NoStdio,
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuntimeError::Supervisor(_) => f.write_str("supervision refused or failed"),
            RuntimeError::RootTask(_) => f.write_str("the root supervisor's task failed"),
            RuntimeError::Registry(_) => f.write_str("the session registry refused the session"),
            RuntimeError::Ended => f.write_str("the runtime has already ended"),
            RuntimeError::StdioSession(why) => write!(f, "the stdio session failed: {why}"),
            RuntimeError::NoStdio => f.write_str("the runtime has no stdio listener"),
        }
    }
}

impl std::error::Error for RuntimeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RuntimeError::Supervisor(err) => Some(err),
            RuntimeError::RootTask(err) => Some(err),
            RuntimeError::Registry(err) => Some(err),
            RuntimeError::Ended | RuntimeError::StdioSession(_) | RuntimeError::NoStdio => None,
        }
    }
}

impl From<SupervisorError> for RuntimeError {
    fn from(err: SupervisorError) -> Self {
        RuntimeError::Supervisor(err)
    }
}

/// One session bulkhead's status, in connection terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionBulkheadStatus {
    /// Its index, `0..N`.
    pub index: usize,
    /// Sessions (connections) running in it now.
    pub active_connections: usize,
    /// Its cap on sessions.
    pub max_connections: usize,
    /// Sessions that panicked or failed within the last `window_ms`.
    pub crashes_in_window: usize,
    /// The window of `crashes_in_window`, in milliseconds.
    pub window_ms: u64,
    /// Restarts it made (sessions are never restarted, so this stays 0 unless other
    /// children are added).
    pub restart_count: u64,
    /// Session tasks that panicked (all time).
    pub panics: u64,
    /// Sessions that ended with an error: transport failure, init timeout (all time).
    pub failures: u64,
    /// Times the bulkhead itself was started (more than one: the root restarted it).
    pub incarnations: u64,
}

impl From<BulkheadStatus> for SessionBulkheadStatus {
    fn from(b: BulkheadStatus) -> Self {
        SessionBulkheadStatus {
            index: b.index,
            active_connections: b.active,
            max_connections: b.max,
            crashes_in_window: b.crashes_in_window,
            window_ms: b.window_ms,
            restart_count: b.restarts,
            panics: b.panics,
            failures: b.failures,
            incarnations: b.incarnations,
        }
    }
}

/// The registries' status: counts, sampled lookup latency (HDR), lock contention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistryStatus {
    /// What backs it.
    pub backing: &'static str,
    /// Entries in the server's session registry (live protocol sessions).
    pub entries: usize,
    /// The server's session registry and resource-subscriber groups.
    pub server: RegistryReport,
    /// The runtime's connection registry (one entry per supervised session).
    pub connections: RegistryMetrics,
}

/// A listener supervisor and its listeners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerSupervisorStatus {
    /// The supervisor's counters (`restarts`: accept loops restarted after a crash).
    pub supervisor: SupervisorStatus,
    /// Its listeners.
    pub listeners: Vec<ListenerStatus>,
}

/// Everything the runtime can say about itself; serialisable for the evidence bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeStatus {
    /// The root supervisor.
    pub root: SupervisorStatus,
    /// The registry.
    pub registry: RegistryStatus,
    /// Listener supervisors, by kind.
    pub listeners: Vec<ListenerSupervisorStatus>,
    /// Session bulkheads, by index.
    pub bulkheads: Vec<SessionBulkheadStatus>,
    /// Sessions the runtime runs now (its own table).
    pub sessions: usize,
}

impl RuntimeStatus {
    /// Sessions running across all bulkheads.
    pub fn active_connections(&self) -> usize {
        self.bulkheads.iter().map(|b| b.active_connections).sum()
    }

    /// Session tasks that panicked, across all bulkheads.
    pub fn session_panics(&self) -> u64 {
        self.bulkheads.iter().map(|b| b.panics).sum()
    }
}

/// Builds a [`Runtime`].
pub struct RuntimeBuilder {
    server: Server,
    bulkheads: BulkheadConfig,
    session_shutdown: Duration,
    tcp: Vec<TcpAcceptor>,
    http: Vec<HttpListener>,
    stdio: Option<usize>,
}

impl std::fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field("bulkheads", &self.bulkheads)
            .field("session_shutdown", &self.session_shutdown)
            .field("tcp", &self.tcp.len())
            .field("http", &self.http.len())
            .field("stdio", &self.stdio)
            .finish()
    }
}

impl RuntimeBuilder {
    /// Number of session bulkheads (default [`DEFAULT_BULKHEADS`], at least one).
    pub fn bulkheads(mut self, count: usize) -> Self {
        self.bulkheads.count = count;
        self
    }

    /// Cap on sessions per bulkhead (default [`DEFAULT_MAX_SESSIONS_PER_BULKHEAD`]).
    /// A connection placed in a full bulkhead is refused (closed), not moved elsewhere.
    pub fn max_sessions_per_bulkhead(mut self, max: usize) -> Self {
        self.bulkheads.max_children = max;
        self
    }

    /// Window of the per-bulkhead crash count (default 60 s).
    pub fn crash_window(mut self, window: Duration) -> Self {
        self.bulkheads.crash_window = window;
        self
    }

    /// Time a session gets to flush and close when stopped (default
    /// [`DEFAULT_SESSION_SHUTDOWN`]); past it the session task is aborted.
    pub fn session_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.session_shutdown = timeout;
        self
    }

    /// Serves TCP connections from this bound acceptor (may be called more than once; all
    /// go under `listener.tcp`).
    pub fn tcp(mut self, acceptor: TcpAcceptor) -> Self {
        self.tcp.push(acceptor);
        self
    }

    /// Serves Streamable HTTP sessions from this bound listener (may be called more than
    /// once; all go under `listener.http`).
    pub fn http(mut self, listener: HttpListener) -> Self {
        self.http.push(listener);
        self
    }

    /// Serves one session on this process's stdin/stdout, under `listener.stdio`.
    pub fn stdio(mut self, max_frame_bytes: usize) -> Self {
        self.stdio = Some(max_frame_bytes);
        self
    }

    /// Builds the tree and starts it; every listener accepts when this returns. Must be
    /// called within a tokio runtime.
    pub fn start(self) -> Result<Runtime, RuntimeError> {
        let (bulkheads, bulkhead_supervisors) = Bulkheads::new(&self.bulkheads)?;
        let sessions = Arc::new(Sessions::new(
            self.server.clone(),
            bulkheads,
            Shutdown::Timeout(self.session_shutdown),
        ));

        let registry_server = self.server.clone();
        let mut root = Supervisor::new("erlmcp")
            .strategy(Strategy::OneForOne)
            .intensity(Intensity {
                max_restarts: 10,
                period: Duration::from_secs(10),
            })
            .child(ChildSpec::worker("registry", move |ctx| {
                let server = registry_server.clone();
                async move {
                    ctx.shutdown_requested().await;
                    server.shutdown_all();
                }
            }));
        for bulkhead in bulkhead_supervisors {
            root = root.child(ChildSpec::supervisor(bulkhead));
        }

        let mut listener_groups = Vec::new();
        let mut listeners = Vec::new();
        let mut stdio_end = None;
        if let Some(max_frame_bytes) = self.stdio {
            let (supervisor, handle, listener, ended) =
                listener::stdio_supervisor(max_frame_bytes, &sessions);
            root = root.child(ChildSpec::supervisor(supervisor));
            listener_groups.push((handle, vec![listener.clone()]));
            listeners.push(listener);
            stdio_end = Some(ended);
        }
        if !self.tcp.is_empty() {
            let (supervisor, handle, tcp) = listener::tcp_supervisor(self.tcp, &sessions);
            root = root.child(ChildSpec::supervisor(supervisor));
            listener_groups.push((handle, tcp.clone()));
            listeners.extend(tcp);
        }
        if !self.http.is_empty() {
            let (supervisor, handle, http) = listener::http_supervisor(self.http, &sessions);
            root = root.child(ChildSpec::supervisor(supervisor));
            listener_groups.push((handle, http.clone()));
            listeners.extend(http);
        }

        let (root, task) = root.spawn();
        Ok(Runtime {
            server: self.server,
            sessions,
            root,
            listener_groups,
            listeners,
            task: Some(task),
            stdio_end,
        })
    }
}

/// A [`Server`] running under the supervision tree drawn in the [module docs](self).
/// Dropping it asks the tree to stop; [`shutdown`](Self::shutdown) stops it and waits.
pub struct Runtime {
    server: Server,
    sessions: Arc<Sessions>,
    root: SupervisorRef,
    listener_groups: Vec<(SupervisorRef, Vec<Arc<Listener>>)>,
    listeners: Vec<Arc<Listener>>,
    task: Option<JoinHandle<Result<(), SupervisorError>>>,
    stdio_end: Option<listener::StdioEnd>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("root", &self.root)
            .field("sessions", &self.sessions.table.len())
            .finish()
    }
}

impl Runtime {
    /// Starts building a runtime for `server`.
    pub fn builder(server: Server) -> RuntimeBuilder {
        RuntimeBuilder {
            server,
            bulkheads: BulkheadConfig {
                name: "sessions".to_owned(),
                max_children: DEFAULT_MAX_SESSIONS_PER_BULKHEAD,
                ..BulkheadConfig::default()
            },
            session_shutdown: DEFAULT_SESSION_SHUTDOWN,
            tcp: Vec::new(),
            http: Vec::new(),
            stdio: None,
        }
    }

    /// The server it runs.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The addresses its TCP listeners are bound to.
    pub fn tcp_addrs(&self) -> Vec<SocketAddr> {
        listener::addrs(&self.listeners, ListenerKind::Tcp)
    }

    /// The addresses its HTTP listeners are bound to (the endpoint path is the listener's
    /// configured one, `/mcp` by default).
    pub fn http_addrs(&self) -> Vec<SocketAddr> {
        listener::addrs(&self.listeners, ListenerKind::Http)
    }

    /// The live sessions, by key.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.sessions.table.list()
    }

    /// Places a session over any transport in a bulkhead (what the listeners do for each
    /// connection); returns its key.
    pub async fn start_session<T: Transport>(&self, transport: T) -> Result<u64, RuntimeError> {
        self.sessions.start(transport).await
    }

    /// Fault injection: makes session `key`'s task panic. False if no such session.
    pub fn crash_session(&self, key: u64) -> bool {
        self.sessions.table.crash(key)
    }

    /// Fault injection: makes every accept loop of `kind` panic; returns how many.
    pub fn crash_listener(&self, kind: ListenerKind) -> usize {
        let mut crashed = 0;
        for listener in self.listeners.iter().filter(|l| l.kind == kind) {
            listener.crash();
            crashed += 1;
        }
        crashed
    }

    /// A snapshot of the whole tree.
    pub fn status(&self) -> RuntimeStatus {
        RuntimeStatus {
            root: self.root.status(),
            registry: RegistryStatus {
                backing: "erlmcp-registry",
                entries: self.server.session_count(),
                server: self.server.registry_metrics(),
                connections: self.sessions.table.metrics(),
            },
            listeners: self
                .listener_groups
                .iter()
                .map(|(supervisor, listeners)| ListenerSupervisorStatus {
                    supervisor: supervisor.status(),
                    listeners: listeners.iter().map(|l| l.status()).collect(),
                })
                .collect(),
            bulkheads: self
                .sessions
                .bulkheads
                .status()
                .into_iter()
                .map(SessionBulkheadStatus::from)
                .collect(),
            sessions: self.sessions.table.len(),
        }
    }

    /// Waits until the tree ends: `Ok` after [`shutdown`](Self::shutdown) from elsewhere,
    /// an error when the root exceeded its restart intensity.
    pub async fn wait(&mut self) -> Result<(), RuntimeError> {
        let task = self.task.take().ok_or(RuntimeError::Ended)?;
        match task.await {
            Ok(outcome) => outcome.map_err(RuntimeError::Supervisor),
            Err(err) => Err(RuntimeError::RootTask(err)),
        }
    }

    /// For a runtime serving stdio: waits until the stdio session ends (EOF on stdin, an
    /// error, a crash), then stops the tree and waits for it. `Ok` for a session that ended
    /// cleanly; [`RuntimeError::StdioSession`] with its reason otherwise; the root's error
    /// if the tree failed first.
    pub async fn run_until_stdio_ends(mut self) -> Result<(), RuntimeError> {
        let ended = self.stdio_end.take().ok_or(RuntimeError::NoStdio)?;
        let task = self.task.take().ok_or(RuntimeError::Ended)?;
        tokio::pin!(task);
        let session = tokio::select! {
            session = ended => session,
            root = &mut task => {
                return match root {
                    Ok(outcome) => outcome.map_err(RuntimeError::Supervisor),
                    Err(err) => Err(RuntimeError::RootTask(err)),
                };
            }
        };
        self.root.shutdown();
        let stopped = match task.await {
            Ok(outcome) => outcome.map_err(RuntimeError::Supervisor),
            Err(err) => Err(RuntimeError::RootTask(err)),
        };
        match session {
            Ok(Ok(())) => stopped,
            Ok(Err(why)) => Err(RuntimeError::StdioSession(why)),
            Err(_) => Err(RuntimeError::StdioSession(
                "the session task panicked".to_owned(),
            )),
        }
    }

    /// Stops the tree in order — listeners, then sessions (each flushes and closes), then
    /// the registry — and waits for it.
    pub async fn shutdown(mut self) -> Result<(), RuntimeError> {
        self.root.shutdown();
        match self.wait().await {
            Err(RuntimeError::Ended) => Ok(()),
            other => other,
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.root.shutdown();
    }
}
