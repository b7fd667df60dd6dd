//! [`SupervisorRef`]: a cheap handle to a supervisor that stays valid across its restarts.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::child::{ChildKind, ChildSpec, Restart};
use crate::error::SupervisorError;
use crate::status::{Stats, SupervisorStatus};
use crate::strategy::Strategy;
use crate::supervisor::Config;

/// One child as its supervisor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildInfo {
    /// The child's id.
    pub id: String,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Its restart type.
    pub restart: Restart,
    /// False while it waits for a backoff delay.
    pub running: bool,
}

pub(crate) enum Command {
    Start {
        spec: ChildSpec,
        reply: oneshot::Sender<Result<(), SupervisorError>>,
    },
    Terminate {
        id: Arc<str>,
        reply: oneshot::Sender<Result<(), SupervisorError>>,
    },
    Children {
        reply: oneshot::Sender<Vec<ChildInfo>>,
    },
}

/// The current incarnation, if one runs.
struct Live {
    incarnation: u64,
    mailbox: Option<mpsc::Sender<Command>>,
    stop: Option<CancellationToken>,
    strategy: Strategy,
    max_children: Option<usize>,
    window: Duration,
}

/// What every handle and every incarnation of one supervisor share.
pub(crate) struct Shared {
    name: Arc<str>,
    live: Mutex<Live>,
    pub(crate) stats: Stats,
}

impl Shared {
    pub(crate) fn new(config: &Config) -> Self {
        Shared {
            name: config.name.clone(),
            live: Mutex::new(Live {
                incarnation: 0,
                mailbox: None,
                stop: None,
                strategy: config.strategy,
                max_children: config.max_children,
                window: config.crash_window,
            }),
            stats: Stats::new(),
        }
    }

    pub(crate) fn configure(&self, config: &Config) {
        let mut live = self.live.lock();
        live.strategy = config.strategy;
        live.max_children = config.max_children;
        live.window = config.crash_window;
    }

    /// Makes a new incarnation the one commands go to; returns its number.
    pub(crate) fn install(
        &self,
        config: &Config,
        mailbox: mpsc::Sender<Command>,
        stop: CancellationToken,
    ) -> u64 {
        let mut live = self.live.lock();
        live.incarnation += 1;
        live.mailbox = Some(mailbox);
        live.stop = Some(stop);
        live.strategy = config.strategy;
        live.max_children = config.max_children;
        live.window = config.crash_window;
        self.stats
            .incarnations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        live.incarnation
    }

    /// The incarnation `incarnation` has ended.
    pub(crate) fn uninstall(&self, incarnation: u64) {
        let mut live = self.live.lock();
        if live.incarnation == incarnation {
            live.mailbox = None;
            live.stop = None;
            self.stats
                .active
                .store(0, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// A handle to a supervisor: start and stop its children, read its status, ask it to
/// shut down. Cheap to clone; it addresses whichever incarnation runs now, so it stays
/// valid when the supervisor's parent restarts it.
#[derive(Clone)]
pub struct SupervisorRef {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SupervisorRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorRef")
            .field("name", &self.shared.name)
            .field("running", &self.is_running())
            .finish()
    }
}

impl SupervisorRef {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        SupervisorRef { shared }
    }

    /// The supervisor's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Whether an incarnation is running now.
    pub fn is_running(&self) -> bool {
        self.shared.live.lock().mailbox.is_some()
    }

    /// A snapshot of the supervisor's counters (no message to the supervisor: this never
    /// waits on it, even while it is busy stopping children).
    pub fn status(&self) -> SupervisorStatus {
        let (running, strategy, max_children, window) = {
            let live = self.shared.live.lock();
            (
                live.mailbox.is_some(),
                live.strategy,
                live.max_children,
                live.window,
            )
        };
        self.shared
            .stats
            .snapshot(&self.shared.name, strategy, running, max_children, window)
    }

    /// Adds a child and starts it. Fails with [`SupervisorError::AlreadyPresent`],
    /// [`SupervisorError::Full`], [`SupervisorError::NotRestartable`] or
    /// [`SupervisorError::NotRunning`]; on failure the spec (and whatever its start
    /// function owns) is dropped.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<(), SupervisorError> {
        self.call(|reply| Command::Start { spec, reply }).await?
    }

    /// Stops a child (within its shutdown policy) and removes it.
    pub async fn terminate_child(&self, id: &str) -> Result<(), SupervisorError> {
        let id: Arc<str> = Arc::from(id);
        self.call(|reply| Command::Terminate { id, reply }).await?
    }

    /// The children, in start order.
    pub async fn children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        self.call(|reply| Command::Children { reply }).await
    }

    /// Asks the running incarnation to stop its children in order and end with `Ok`.
    /// For a nested supervisor its parent then applies the child's restart type (a
    /// permanent supervisor is started again): to remove a nested supervisor for good,
    /// terminate it through its parent.
    pub fn shutdown(&self) {
        if let Some(stop) = &self.shared.live.lock().stop {
            stop.cancel();
        }
    }

    async fn call<R>(
        &self,
        command: impl FnOnce(oneshot::Sender<R>) -> Command,
    ) -> Result<R, SupervisorError> {
        let not_running = || SupervisorError::NotRunning {
            name: self.shared.name.clone(),
        };
        let mailbox = self
            .shared
            .live
            .lock()
            .mailbox
            .clone()
            .ok_or_else(not_running)?;
        let (reply, answer) = oneshot::channel();
        mailbox
            .send(command(reply))
            .await
            .map_err(|_| not_running())?;
        answer.await.map_err(|_| not_running())
    }
}
