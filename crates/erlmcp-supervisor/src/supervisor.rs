//! The supervisor: a tokio task that starts its children, watches their tasks, restarts
//! them by strategy within a restart intensity, and stops them in order.
//!
//! One incarnation of a supervisor:
//!
//! ```text
//!   start static children in order
//!               │
//!               ▼
//!   ┌──────────────────────┐  child exit ─▶ restart type says no ─▶ remove it
//!   │       Running        │             ─▶ restart: intensity ok ─▶ stop the rest of its
//!   │ (exits, commands,    │                group (reverse order), restart the group
//!   │  backoff timers)     │                (start order), after the backoff delay
//!   └──────────────────────┘
//!      │ stop signal          │ intensity exceeded
//!      ▼                      ▼
//!   ShuttingDown           ShuttingDown
//!   (all children,         (all children,
//!    reverse order)         reverse order)
//!      │                      │
//!      ▼                      ▼
//!   ends Ok(())            ends Err(RestartIntensity) ─▶ the parent applies its own
//!                                                        strategy to this supervisor
//! ```
//!
//! The supervisor waits on its children's tasks in a [`JoinSet`]; a panic arrives as a
//! [`JoinError`] and is classified as [`Exit::Panicked`], never re-raised. While it stops a
//! child it does nothing else, as an OTP supervisor does; exits of other children that
//! arrive meanwhile are queued and handled right after.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinError, JoinHandle, JoinSet};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::child::{
    BoxError, ChildContext, ChildFuture, ChildSpec, Exit, Restart, Shutdown, Start,
};
use crate::error::SupervisorError;
use crate::handle::{ChildInfo, Command, Shared, SupervisorRef};
use crate::strategy::{Backoff, Intensity, RestartWindow, Strategy};

/// Commands queued for a supervisor before its callers wait.
const MAILBOX: usize = 1024;

/// After a task is aborted, how long to wait for it to go before giving up on it (a task
/// stuck in blocking code cannot be aborted; it is then left behind and logged).
const KILL_GRACE: Duration = Duration::from_secs(1);

/// Default window of [`SupervisorStatus::crashes_in_window`](crate::SupervisorStatus).
pub const DEFAULT_CRASH_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) name: Arc<str>,
    pub(crate) strategy: Strategy,
    pub(crate) intensity: Intensity,
    pub(crate) backoff: Option<Backoff>,
    pub(crate) max_children: Option<usize>,
    pub(crate) concurrent_shutdown: bool,
    pub(crate) crash_window: Duration,
}

/// A supervisor specification, built step by step, then run (or nested as a child with
/// [`ChildSpec::supervisor`]).
///
/// Defaults: `one_for_one`, OTP's intensity (1 restart in 5 s), no backoff, no cap on
/// children, children stopped one at a time in reverse start order.
pub struct Supervisor {
    config: Config,
    children: Vec<ChildSpec>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("config", &self.config)
            .field("children", &self.children)
            .finish()
    }
}

impl Supervisor {
    /// A supervisor named `name` (its id when nested in another supervisor).
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        let config = Config {
            name: name.clone(),
            strategy: Strategy::default(),
            intensity: Intensity::default(),
            backoff: None,
            max_children: None,
            concurrent_shutdown: false,
            crash_window: DEFAULT_CRASH_WINDOW,
        };
        let shared = Arc::new(Shared::new(&config));
        Supervisor {
            config,
            children: Vec::new(),
            shared,
        }
    }

    fn sync_status(self) -> Self {
        self.shared.configure(&self.config);
        self
    }

    /// Sets the restart strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.config.strategy = strategy;
        self.sync_status()
    }

    /// Sets the restart intensity.
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.config.intensity = intensity;
        self
    }

    /// Delays restarts with an exponential backoff.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = Some(backoff);
        self
    }

    /// Caps the number of children: [`SupervisorRef::start_child`] past it fails with
    /// [`SupervisorError::Full`].
    pub fn max_children(mut self, max: usize) -> Self {
        self.config.max_children = Some(max);
        self.sync_status()
    }

    /// Stops all children at once (each still within its own shutdown timeout) instead
    /// of one at a time in reverse start order. For pools of independent children
    /// (sessions), where the order means nothing and one-at-a-time would take long.
    pub fn concurrent_shutdown(mut self, concurrent: bool) -> Self {
        self.config.concurrent_shutdown = concurrent;
        self
    }

    /// The window of [`SupervisorStatus::crashes_in_window`](crate::SupervisorStatus)
    /// (default [`DEFAULT_CRASH_WINDOW`]).
    pub fn crash_window(mut self, window: Duration) -> Self {
        self.config.crash_window = window;
        self.sync_status()
    }

    /// Adds a static child; static children start in the order they were added.
    pub fn child(mut self, spec: ChildSpec) -> Self {
        self.children.push(spec);
        self
    }

    /// A handle to this supervisor, valid across all its incarnations.
    pub fn handle(&self) -> SupervisorRef {
        SupervisorRef::new(self.shared.clone())
    }

    /// Runs the supervisor in the calling task until [`SupervisorRef::shutdown`] (then
    /// `Ok`) or until its restart intensity is exceeded (then
    /// [`SupervisorError::RestartIntensity`]). The static children start when the future
    /// is first polled.
    pub fn run(self) -> impl Future<Output = Result<(), SupervisorError>> + Send + 'static {
        let template = self.into_template();
        async move { template.incarnate(CancellationToken::new()).await }
    }

    /// Starts the supervisor — and, before returning, its static children, nested
    /// supervisors' static children included — in a new tokio task. Must be called
    /// within a tokio runtime.
    pub fn spawn(self) -> (SupervisorRef, JoinHandle<Result<(), SupervisorError>>) {
        let handle = self.handle();
        let run = self.into_template().incarnate(CancellationToken::new());
        (handle, tokio::spawn(run))
    }

    pub(crate) fn into_template(self) -> Template {
        Template {
            config: Arc::new(self.config),
            children: parking_lot::Mutex::new(self.children),
            shared: self.shared,
        }
    }
}

/// What a nested supervisor's child spec keeps: enough to start a fresh incarnation.
pub(crate) struct Template {
    config: Arc<Config>,
    children: parking_lot::Mutex<Vec<ChildSpec>>,
    shared: Arc<Shared>,
}

impl Template {
    pub(crate) fn name(&self) -> Arc<str> {
        self.config.name.clone()
    }

    /// Installs a new incarnation (its mailbox is live from here on), starts its static
    /// children, and returns its run future. `stop` ends it. Needs a tokio runtime.
    pub(crate) fn incarnate(
        &self,
        stop: CancellationToken,
    ) -> impl Future<Output = Result<(), SupervisorError>> + Send + 'static + use<> {
        let specs: Vec<ChildSpec> = self
            .children
            .lock()
            .iter_mut()
            .filter_map(ChildSpec::respawn)
            .collect();
        let (tx, mailbox) = mpsc::channel(MAILBOX);
        let incarnation = self.shared.install(&self.config, tx, stop.clone());
        let mut runner = Runner {
            config: self.config.clone(),
            shared: self.shared.clone(),
            incarnation,
            stop,
            window: RestartWindow::new(self.config.intensity),
            children: BTreeMap::new(),
            ids: HashMap::new(),
            tasks: JoinSet::new(),
            by_task: HashMap::new(),
            deferred: VecDeque::new(),
            delayed: Vec::new(),
            next_seq: 0,
        };
        let mut invalid = None;
        for spec in specs {
            if let Err(err) = runner.add(spec) {
                invalid = Some(err);
                break;
            }
        }
        runner.run(invalid, mailbox)
    }
}

type Joined = Result<(tokio::task::Id, Result<(), BoxError>), JoinError>;

fn joined_id(joined: &Joined) -> tokio::task::Id {
    match joined {
        Ok((id, _)) => *id,
        Err(err) => err.id(),
    }
}

fn classify(joined: Joined) -> Exit {
    match joined {
        Ok((_, Ok(()))) => Exit::Normal,
        Ok((_, Err(err))) => Exit::Failed(err),
        Err(err) if err.is_panic() => {
            let payload = err.into_panic();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            Exit::Panicked(message)
        }
        Err(_) => Exit::Killed,
    }
}

struct Running {
    task: tokio::task::Id,
    abort: AbortHandle,
    token: CancellationToken,
}

struct Child {
    spec: ChildSpec,
    running: Option<Running>,
    /// Restarts since the child last ran longer than the intensity period (backoff).
    consecutive: u32,
    started_at: Instant,
}

struct Stopping {
    id: Arc<str>,
    abort: AbortHandle,
    deadline: Option<Instant>,
    aborted: bool,
}

enum Event {
    Stop,
    Exit(Joined),
    Wake,
    Command(Command),
}

struct Runner {
    config: Arc<Config>,
    shared: Arc<Shared>,
    incarnation: u64,
    stop: CancellationToken,
    window: RestartWindow,
    /// Children by start position: restarts keep their position, so `rest_for_one`'s
    /// "started after" is a range of this map.
    children: BTreeMap<u64, Child>,
    ids: HashMap<Arc<str>, u64>,
    tasks: JoinSet<Result<(), BoxError>>,
    by_task: HashMap<tokio::task::Id, u64>,
    /// Exits that arrived while the supervisor was stopping other children.
    deferred: VecDeque<Joined>,
    /// Restarts waiting for their backoff delay.
    delayed: Vec<(Instant, u64)>,
    next_seq: u64,
}

impl Drop for Runner {
    fn drop(&mut self) {
        // Dropping the JoinSet aborts whatever is still running (a supervisor that is
        // killed takes its children with it).
        self.shared.uninstall(self.incarnation);
    }
}

impl Runner {
    async fn run(
        mut self,
        invalid: Option<SupervisorError>,
        mut mailbox: mpsc::Receiver<Command>,
    ) -> Result<(), SupervisorError> {
        if let Some(err) = invalid {
            tracing::error!(supervisor = %self.config.name, error = %err, "invalid static child");
            self.terminate_all().await;
            return Err(err);
        }
        let stop = self.stop.clone();
        loop {
            if let Some(joined) = self.deferred.pop_front() {
                self.on_exit(joined).await?;
                continue;
            }
            let wake = self.delayed.iter().map(|(at, _)| *at).min();
            let event = tokio::select! {
                biased;
                () = stop.cancelled() => Event::Stop,
                Some(joined) = self.tasks.join_next_with_id() => Event::Exit(joined),
                () = sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => Event::Wake,
                Some(command) = mailbox.recv() => Event::Command(command),
            };
            match event {
                Event::Stop => break,
                Event::Exit(joined) => self.on_exit(joined).await?,
                Event::Wake => self.start_due(),
                Event::Command(command) => self.on_command(command).await,
            }
        }
        tracing::debug!(supervisor = %self.config.name, "supervisor shutting down");
        mailbox.close();
        self.terminate_all().await;
        Ok(())
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Start { spec, reply } => {
                let _ = reply.send(self.add(spec));
            }
            Command::Terminate { id, reply } => {
                let outcome = match self.ids.get(&id).copied() {
                    Some(seq) => {
                        self.terminate(&[seq]).await;
                        self.remove(seq);
                        Ok(())
                    }
                    None => Err(SupervisorError::NotFound { id }),
                };
                let _ = reply.send(outcome);
            }
            Command::Children { reply } => {
                let children = self
                    .children
                    .values()
                    .map(|child| ChildInfo {
                        id: child.spec.id.to_string(),
                        kind: child.spec.kind(),
                        restart: child.spec.restart,
                        running: child.running.is_some(),
                    })
                    .collect();
                let _ = reply.send(children);
            }
        }
    }

    fn add(&mut self, spec: ChildSpec) -> Result<(), SupervisorError> {
        if self.ids.contains_key(&spec.id) {
            return Err(SupervisorError::AlreadyPresent { id: spec.id });
        }
        if matches!(spec.start, Start::Once(_)) && spec.restart != Restart::Temporary {
            return Err(SupervisorError::NotRestartable { id: spec.id });
        }
        if let Some(max) = self.config.max_children
            && self.children.len() >= max
        {
            return Err(SupervisorError::Full {
                name: self.config.name.clone(),
                max,
            });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.ids.insert(spec.id.clone(), seq);
        self.children.insert(
            seq,
            Child {
                spec,
                running: None,
                consecutive: 0,
                started_at: Instant::now(),
            },
        );
        self.start(seq, false);
        Ok(())
    }

    fn remove(&mut self, seq: u64) {
        if let Some(child) = self.children.remove(&seq) {
            self.ids.remove(&child.spec.id);
        }
        self.delayed.retain(|(_, s)| *s != seq);
    }

    /// Starts child `seq` in a new task. The start function itself runs inside that task,
    /// so a panic in it is a crash of the child, not of the supervisor.
    fn start(&mut self, seq: u64, restart: bool) {
        let Some(child) = self.children.get_mut(&seq) else {
            return;
        };
        let token = CancellationToken::new();
        let ctx = ChildContext::new(child.spec.id.clone(), token.clone());
        let future: ChildFuture = match &mut child.spec.start {
            Start::Repeat(start) => {
                let start = start.clone();
                Box::pin(async move { start(ctx).await })
            }
            Start::Once(slot) => match slot.take() {
                Some(start) => Box::pin(async move { start(ctx).await }),
                None => {
                    self.remove(seq);
                    return;
                }
            },
            Start::Supervisor(template) => {
                let run = template.incarnate(token.clone());
                Box::pin(async move { run.await.map_err(BoxError::from) })
            }
        };
        let abort = self.tasks.spawn(future);
        let task = abort.id();
        self.by_task.insert(task, seq);
        child.running = Some(Running { task, abort, token });
        child.started_at = Instant::now();
        self.shared.stats.started(restart);
        if restart {
            tracing::info!(supervisor = %self.config.name, child = %child.spec.id, "child restarted");
        }
    }

    fn start_due(&mut self) {
        let now = Instant::now();
        let mut due: Vec<u64> = self
            .delayed
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, seq)| *seq)
            .collect();
        self.delayed.retain(|(at, _)| *at > now);
        due.sort_unstable();
        for seq in due {
            self.start(seq, true);
        }
    }

    async fn on_exit(&mut self, joined: Joined) -> Result<(), SupervisorError> {
        let Some(seq) = self.by_task.remove(&joined_id(&joined)) else {
            return Ok(()); // a child already stopped or removed
        };
        let exit = classify(joined);
        self.shared.stats.exited(&exit, self.config.crash_window);
        let Some(child) = self.children.get_mut(&seq) else {
            return Ok(());
        };
        child.running = None;
        let id = child.spec.id.clone();
        if exit.is_abnormal() {
            tracing::warn!(supervisor = %self.config.name, child = %id, %exit, "child crashed");
        } else {
            tracing::debug!(supervisor = %self.config.name, child = %id, %exit, "child ended");
        }
        if !child.spec.restart.restarts_after(&exit) {
            self.remove(seq);
            return Ok(());
        }
        if child.started_at.elapsed() >= self.config.intensity.period {
            child.consecutive = 0;
        }
        let consecutive = child.consecutive;
        child.consecutive = consecutive.saturating_add(1);

        if !self.window.admit(Instant::now()) {
            let intensity = self.config.intensity;
            tracing::error!(
                supervisor = %self.config.name,
                child = %id,
                max_restarts = intensity.max_restarts,
                period = ?intensity.period,
                "restart intensity exceeded; stopping every child and escalating"
            );
            self.terminate_all().await;
            return Err(SupervisorError::RestartIntensity {
                name: self.config.name.clone(),
                max_restarts: intensity.max_restarts,
                period: intensity.period,
            });
        }

        let group: Vec<u64> = match self.config.strategy {
            Strategy::OneForOne => vec![seq],
            Strategy::OneForAll => self.children.keys().copied().collect(),
            Strategy::RestForOne => self.children.range(seq..).map(|(s, _)| *s).collect(),
        };
        let others: Vec<u64> = group.iter().rev().copied().filter(|s| *s != seq).collect();
        if !others.is_empty() {
            self.terminate(&others).await;
        }
        self.delayed.retain(|(_, s)| !group.contains(s));
        let delay = self
            .config
            .backoff
            .map(|b| b.delay(consecutive))
            .unwrap_or(Duration::ZERO);
        let at = Instant::now() + delay;
        for s in group {
            let keep = self
                .children
                .get(&s)
                .is_some_and(|c| s == seq || c.spec.restart != Restart::Temporary);
            if !keep {
                self.remove(s);
            } else if delay.is_zero() {
                self.start(s, true);
            } else {
                self.delayed.push((at, s));
            }
        }
        Ok(())
    }

    async fn terminate_all(&mut self) {
        self.delayed.clear();
        let seqs: Vec<u64> = self.children.keys().rev().copied().collect();
        self.terminate(&seqs).await;
        self.children.clear();
        self.ids.clear();
    }

    /// Stops the given children (already in the order wanted): all at once or one at a
    /// time, as configured. They stay in the child table (the caller removes or restarts
    /// them).
    async fn terminate(&mut self, seqs: &[u64]) {
        if self.config.concurrent_shutdown {
            self.stop_children(seqs).await;
        } else {
            for seq in seqs {
                self.stop_children(std::slice::from_ref(seq)).await;
            }
        }
    }

    async fn stop_children(&mut self, seqs: &[u64]) {
        let now = Instant::now();
        let mut pending: HashMap<tokio::task::Id, Stopping> = HashMap::new();
        for seq in seqs {
            let Some(child) = self.children.get_mut(seq) else {
                continue;
            };
            let Some(running) = child.running.take() else {
                continue;
            };
            self.by_task.remove(&running.task);
            let (deadline, aborted) = match child.spec.shutdown {
                Shutdown::BrutalKill => {
                    running.abort.abort();
                    (Some(now + KILL_GRACE), true)
                }
                Shutdown::Timeout(timeout) => {
                    running.token.cancel();
                    (Some(now + timeout), false)
                }
                Shutdown::Infinity => {
                    running.token.cancel();
                    (None, false)
                }
            };
            pending.insert(
                running.task,
                Stopping {
                    id: child.spec.id.clone(),
                    abort: running.abort,
                    deadline,
                    aborted,
                },
            );
        }
        // Exits already queued for these children.
        let queued = std::mem::take(&mut self.deferred);
        for joined in queued {
            match pending.remove(&joined_id(&joined)) {
                Some(stopping) => self.record_stop(&stopping, joined),
                None => self.deferred.push_back(joined),
            }
        }
        while !pending.is_empty() {
            let wake = pending.values().filter_map(|s| s.deadline).min();
            let joined = tokio::select! {
                joined = self.tasks.join_next_with_id() => Some(joined),
                () = sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => None,
            };
            let joined = match joined {
                None => {
                    self.past_deadline(&mut pending);
                    continue;
                }
                Some(None) => break, // no task left at all
                Some(Some(joined)) => joined,
            };
            match pending.remove(&joined_id(&joined)) {
                Some(stopping) => self.record_stop(&stopping, joined),
                None => self.deferred.push_back(joined),
            }
        }
    }

    fn record_stop(&self, stopping: &Stopping, joined: Joined) {
        let exit = if stopping.aborted && matches!(&joined, Err(e) if e.is_cancelled()) {
            Exit::Killed
        } else {
            classify(joined)
        };
        tracing::debug!(supervisor = %self.config.name, child = %stopping.id, %exit, "child stopped");
        self.shared.stats.exited(&exit, self.config.crash_window);
    }

    fn past_deadline(&self, pending: &mut HashMap<tokio::task::Id, Stopping>) {
        let now = Instant::now();
        let mut abandoned = Vec::new();
        for (task, stopping) in pending.iter_mut() {
            match stopping.deadline {
                Some(deadline) if deadline <= now => {
                    if stopping.aborted {
                        abandoned.push(*task);
                    } else {
                        tracing::warn!(supervisor = %self.config.name, child = %stopping.id, "child ignored its shutdown timeout; aborting it");
                        stopping.abort.abort();
                        stopping.aborted = true;
                        stopping.deadline = Some(now + KILL_GRACE);
                    }
                }
                _ => {}
            }
        }
        for task in abandoned {
            if let Some(stopping) = pending.remove(&task) {
                tracing::error!(supervisor = %self.config.name, child = %stopping.id, "child did not end after abort (blocking code?); leaving it behind");
                self.shared
                    .stats
                    .exited(&Exit::Killed, self.config.crash_window);
            }
        }
    }
}
