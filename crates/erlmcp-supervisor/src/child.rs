//! Child specifications: what a supervisor starts, when it restarts it, and how it stops it.
//!
//! A child's life, as its supervisor sees it:
//!
//! ```text
//!             start (in a new tokio task)
//!   spec ───────────────────────────────▶ Running
//!     ▲                                    │   │
//!     │ restart (after the optional        │   │ terminate: cancel the child's token,
//!     │ backoff delay)                     │   │ wait up to its shutdown timeout, then abort
//!     │                                    │   ▼
//!     │         exit: Ok / Err / panic     │  Stopped ──▶ removed, or restarted with
//!     │◀──── restart type + strategy ◀─────┘               its group (one_for_all, rest_for_one)
//!     │                 │
//!     │                 └─ not restarted ──▶ removed
//! ```
//!
//! The exit is classified from the task's result: `Ok(())` is a normal exit, `Err(_)` a
//! failure, and a [`JoinError`](tokio::task::JoinError) that is a panic is a crash. Panics
//! never cross the task boundary: the supervisor reads them from the join result.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::supervisor::Template;

/// The error a child may end with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a child's start function returns: the child's whole life as one future.
pub type ChildFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'static>>;

/// Default time a worker gets to stop after its shutdown signal before it is aborted.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// When a child is restarted after it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Restart {
    /// Always restarted (listeners, the registry, nested supervisors).
    Permanent,
    /// Restarted only when it ends abnormally (an error or a panic).
    Transient,
    /// Never restarted (sessions: when one ends, its peer is gone).
    Temporary,
}

impl Restart {
    /// Whether a child with this restart type is restarted after `exit`.
    pub fn restarts_after(self, exit: &Exit) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => exit.is_abnormal(),
            Restart::Temporary => false,
        }
    }
}

/// How a child is stopped when its supervisor terminates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Abort the task at once, without a shutdown signal.
    BrutalKill,
    /// Send the shutdown signal, wait this long, then abort.
    Timeout(Duration),
    /// Send the shutdown signal and wait as long as it takes (the default for
    /// supervisors, which bound their own children's shutdown).
    Infinity,
}

/// Whether a child is a worker or a supervisor (for introspection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildKind {
    /// A worker task.
    Worker,
    /// A nested supervisor.
    Supervisor,
}

/// How a child's task ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Exit {
    /// It returned `Ok(())`.
    Normal,
    /// It returned an error.
    Failed(BoxError),
    /// It panicked; the panic message when it was a string.
    Panicked(String),
    /// Its task was aborted (by its supervisor after a shutdown timeout, or with
    /// [`Shutdown::BrutalKill`]).
    Killed,
}

impl Exit {
    /// True for a failure or a panic: the exits a transient child is restarted after.
    pub fn is_abnormal(&self) -> bool {
        matches!(self, Exit::Failed(_) | Exit::Panicked(_))
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Normal => f.write_str("normal"),
            Exit::Failed(err) => write!(f, "failed: {err}"),
            Exit::Panicked(msg) => write!(f, "panicked: {msg}"),
            Exit::Killed => f.write_str("killed"),
        }
    }
}

/// What a child's future may return: `()` (a normal exit) or `Result<(), E>`.
pub trait IntoExit {
    /// Converts into the result a supervisor classifies.
    fn into_exit(self) -> Result<(), BoxError>;
}

impl IntoExit for () {
    fn into_exit(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> IntoExit for Result<(), E> {
    fn into_exit(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// Handed to a child's start function: its id and its shutdown signal.
#[derive(Debug, Clone)]
pub struct ChildContext {
    id: Arc<str>,
    token: CancellationToken,
}

impl ChildContext {
    pub(crate) fn new(id: Arc<str>, token: CancellationToken) -> Self {
        ChildContext { id, token }
    }

    /// The child's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Resolves when the supervisor asks this child to stop. A child should then finish
    /// what it owes its peers and return; past its shutdown timeout it is aborted.
    pub fn shutdown_requested(&self) -> WaitForCancellationFuture<'_> {
        self.token.cancelled()
    }

    /// True once the supervisor has asked this child to stop.
    pub fn is_shutdown_requested(&self) -> bool {
        self.token.is_cancelled()
    }

    /// The shutdown signal as an owned token (to hand to code the child runs).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.token.clone()
    }
}

pin_project_lite::pin_project! {
    /// A child's future with its output converted by [`IntoExit`], polled in place. (An
    /// `async move { fut.await.into_exit() }` block would keep the captured future and the
    /// awaited one in separate slots: every child task — one per session in the runtime —
    /// would be twice the size of its future.)
    struct ExitOf<F> {
        #[pin]
        fut: F,
    }
}

impl<F> Future for ExitOf<F>
where
    F: Future,
    F::Output: IntoExit,
{
    type Output = Result<(), BoxError>;

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        self.project().fut.poll(cx).map(IntoExit::into_exit)
    }
}

type RepeatFn = dyn Fn(ChildContext) -> ChildFuture + Send + Sync + 'static;
type OnceFn = dyn FnOnce(ChildContext) -> ChildFuture + Send + 'static;

pub(crate) enum Start {
    /// Called for every start and restart.
    Repeat(Arc<RepeatFn>),
    /// Called once; `None` after that.
    Once(Option<Box<OnceFn>>),
    /// A nested supervisor: each start is a fresh incarnation of the template.
    Supervisor(Arc<Template>),
}

/// One child of a supervisor: its id, how to start it, its restart type and its
/// shutdown policy.
pub struct ChildSpec {
    pub(crate) id: Arc<str>,
    pub(crate) start: Start,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("kind", &self.kind())
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .finish()
    }
}

impl ChildSpec {
    /// A permanent worker: `start` is called for every start and restart, and the future it
    /// returns is the child's life. Stopped with [`DEFAULT_SHUTDOWN_TIMEOUT`].
    pub fn worker<F, Fut>(id: impl Into<Arc<str>>, start: F) -> Self
    where
        F: Fn(ChildContext) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        let start = move |ctx: ChildContext| -> ChildFuture {
            let fut = start(ctx);
            Box::pin(ExitOf { fut })
        };
        ChildSpec {
            id: id.into(),
            start: Start::Repeat(Arc::new(start)),
            restart: Restart::Permanent,
            shutdown: Shutdown::Timeout(DEFAULT_SHUTDOWN_TIMEOUT),
        }
    }

    /// A temporary worker whose start function runs once, so it may own what it serves
    /// (a connection, say). It is never restarted.
    pub fn oneshot<F, Fut>(id: impl Into<Arc<str>>, start: F) -> Self
    where
        F: FnOnce(ChildContext) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        let start = move |ctx: ChildContext| -> ChildFuture {
            let fut = start(ctx);
            Box::pin(ExitOf { fut })
        };
        ChildSpec {
            id: id.into(),
            start: Start::Once(Some(Box::new(start))),
            restart: Restart::Temporary,
            shutdown: Shutdown::Timeout(DEFAULT_SHUTDOWN_TIMEOUT),
        }
    }

    /// A nested supervisor, permanent, with [`Shutdown::Infinity`] (it bounds its own
    /// children's shutdown). Its id is the supervisor's name. Each (re)start runs a fresh
    /// incarnation: its static children start again; children added with
    /// [`SupervisorRef::start_child`](crate::SupervisorRef::start_child) are gone, as in OTP.
    pub fn supervisor(supervisor: crate::Supervisor) -> Self {
        let template = supervisor.into_template();
        ChildSpec {
            id: template.name(),
            start: Start::Supervisor(Arc::new(template)),
            restart: Restart::Permanent,
            shutdown: Shutdown::Infinity,
        }
    }

    /// Sets the restart type.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets the shutdown policy.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// The child's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Worker or supervisor.
    pub fn kind(&self) -> ChildKind {
        match self.start {
            Start::Supervisor(_) => ChildKind::Supervisor,
            _ => ChildKind::Worker,
        }
    }

    /// The restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// A copy for a new incarnation of a supervisor; `None` for a one-shot child that
    /// already ran.
    pub(crate) fn respawn(&mut self) -> Option<ChildSpec> {
        let start = match &mut self.start {
            Start::Repeat(f) => Start::Repeat(f.clone()),
            Start::Supervisor(t) => Start::Supervisor(t.clone()),
            Start::Once(f) => Start::Once(Some(f.take()?)),
        };
        Some(ChildSpec {
            id: self.id.clone(),
            start,
            restart: self.restart,
            shutdown: self.shutdown,
        })
    }
}
