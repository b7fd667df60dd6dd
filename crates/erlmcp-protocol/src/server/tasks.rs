//! Tasks (MCP 2025-11-25): task-augmented `tools/call`, `tasks/get`, `tasks/result`,
//! `tasks/list`, `tasks/cancel` and `notifications/tasks/status`.
//!
//! ```text
//!            ┌──────── input_required ◄─┐   (while the handler waits on the client)
//!            ▼                          │
//!  (create) working ────────────────────┤
//!            ├──► completed   (terminal)│
//!            ├──► failed      (terminal)│
//!            └──► cancelled   (terminal)┘
//!                         ttl elapsed (any state) ──► removed, handler stopped
//! ```
//!
//! Tasks belong to the session that created them: when the session ends, every task it
//! holds is stopped and dropped. Each task also has a retention deadline (its `ttl`,
//! clamped to the configured maximum); the deadline is a tokio timer (tokio's timer is a
//! hierarchical wheel), not a scan per request, and when it fires the task and its result
//! are freed and a still-running handler is stopped.
//!
//! The same store holds the 2026-07-28 tasks extension's tasks (one store per server,
//! see [`crate::server::modern::tasks`]): their entries also carry the task's input
//! exchange, and an observer hears of every change (the listen streams'
//! `notifications/tasks`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use erlmcp_codec::schema::{RELATED_TASK_META_KEY, Task, TaskStatus, methods};
use erlmcp_codec::{ErrorCode, ErrorObject};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::error::HandlerError;
use crate::peer::Peer;
use crate::server::modern::tasks::input::TaskInput;

/// Told the id of a task after each change of it (status, outstanding input), with
/// no lock of the store held.
pub(crate) type Observer = Box<dyn Fn(&TaskStore, &str) + Send + Sync>;

/// Limits of the task machinery, part of [`crate::SessionConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskLimits {
    /// Retention when the client asks for none (default 5 minutes).
    pub default_ttl_ms: u64,
    /// Longest retention granted, whatever the client asks (default 1 hour).
    pub max_ttl_ms: u64,
    /// Polling interval suggested to clients (default 500 ms).
    pub poll_interval_ms: u64,
    /// Tasks one session may hold at once (default 1000); more is -32602.
    pub max_tasks_per_session: usize,
}

impl Default for TaskLimits {
    fn default() -> Self {
        TaskLimits {
            default_ttl_ms: 5 * 60 * 1000,
            max_ttl_ms: 60 * 60 * 1000,
            poll_interval_ms: 500,
            max_tasks_per_session: 1000,
        }
    }
}

struct TaskEntry {
    task: Task,
    seq: u64,
    outcome: Option<Result<Value, ErrorObject>>,
    status: watch::Sender<TaskStatus>,
    handler: Option<AbortHandle>,
    expiry: Option<AbortHandle>,
    /// The input exchange of a 2026 task (`None` for handshake-era tasks).
    input: Option<Arc<TaskInput>>,
}

impl TaskEntry {
    /// Sets a new status (the caller checked it is a move out of a non-terminal one):
    /// message, `lastUpdatedAt`, the watchers; a terminal status releases the handler.
    fn move_to(&mut self, status: TaskStatus, message: Option<String>) {
        self.task.status = status;
        self.task.status_message = message;
        self.task.last_updated_at = now_iso8601();
        if status.is_terminal() {
            self.handler = None;
        }
        self.status.send_replace(status);
    }
}

/// `input_required` while the handler waits on the client, `working` otherwise.
fn input_status(waiting: bool) -> TaskStatus {
    if waiting {
        TaskStatus::InputRequired
    } else {
        TaskStatus::Working
    }
}

impl Drop for TaskEntry {
    fn drop(&mut self) {
        // A dropped task stops its handler and its timer: nothing outlives the entry.
        if let Some(handler) = self.handler.take() {
            handler.abort();
        }
        if let Some(expiry) = self.expiry.take() {
            expiry.abort();
        }
    }
}

/// The tasks of one session.
pub(crate) struct TaskStore {
    session: u64,
    limits: TaskLimits,
    peer: Peer,
    tasks: Mutex<HashMap<String, TaskEntry>>,
    next: AtomicU64,
    observer: Option<Observer>,
}

fn now_iso8601() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

fn unknown_task(task_id: &str) -> HandlerError {
    HandlerError::InvalidParams {
        message: format!("unknown task: {task_id}"),
        data: Some(json!({ "taskId": task_id })),
    }
}

impl TaskStore {
    pub(crate) fn new(session: u64, limits: TaskLimits, peer: Peer) -> Self {
        TaskStore {
            session,
            limits,
            peer,
            tasks: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            observer: None,
        }
    }

    /// The store, with `observer` told of every change.
    pub(crate) fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Tasks currently held.
    pub(crate) fn len(&self) -> usize {
        self.tasks.lock().len()
    }

    /// Creates a `working` task with the granted ttl; the caller then attaches its handler.
    pub(crate) fn create(
        self: &Arc<Self>,
        requested_ttl: Option<u64>,
    ) -> Result<Task, HandlerError> {
        let ttl = requested_ttl
            .unwrap_or(self.limits.default_ttl_ms)
            .min(self.limits.max_ttl_ms);
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let task_id = format!(
            "{:x}-{:x}-{:016x}",
            self.session,
            seq,
            rand::random::<u64>()
        );
        let mut task = Task::new(
            task_id.clone(),
            TaskStatus::Working,
            now_iso8601(),
            Some(ttl),
        );
        task.poll_interval = Some(self.limits.poll_interval_ms);
        let (status, _) = watch::channel(TaskStatus::Working);
        {
            let mut tasks = self.tasks.lock();
            if tasks.len() >= self.limits.max_tasks_per_session {
                return Err(HandlerError::InvalidParams {
                    message: "task limit reached for this session".into(),
                    data: Some(json!({ "limit": self.limits.max_tasks_per_session })),
                });
            }
            tasks.insert(
                task_id.clone(),
                TaskEntry {
                    task: task.clone(),
                    seq,
                    outcome: None,
                    status,
                    handler: None,
                    expiry: None,
                    input: None,
                },
            );
        }
        let store = Arc::downgrade(self);
        let id = task_id.clone();
        let expiry = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ttl)).await;
            if let Some(store) = store.upgrade() {
                store.expire(&id);
            }
        });
        if let Some(entry) = self.tasks.lock().get_mut(&task_id) {
            entry.expiry = Some(expiry.abort_handle());
        } else {
            expiry.abort();
        }
        Ok(task)
    }

    /// Attaches the running handler so cancellation and expiry can stop it.
    pub(crate) fn attach(&self, task_id: &str, handler: AbortHandle) {
        match self.tasks.lock().get_mut(task_id) {
            Some(entry) if !entry.task.status.is_terminal() => entry.handler = Some(handler),
            _ => handler.abort(),
        }
    }

    /// Attaches a 2026 task's input exchange.
    pub(crate) fn attach_input(&self, task_id: &str, input: Arc<TaskInput>) {
        if let Some(entry) = self.tasks.lock().get_mut(task_id) {
            entry.input = Some(input);
        }
    }

    /// A 2026 task's input exchange.
    pub(crate) fn input(&self, task_id: &str) -> Option<Arc<TaskInput>> {
        self.tasks.lock().get(task_id)?.input.clone()
    }

    fn expire(&self, task_id: &str) {
        let removed = self.tasks.lock().remove(task_id);
        if removed.is_some() {
            tracing::debug!(session = self.session, task = task_id, "task expired");
        }
    }

    /// Moves a task to `status` (unless it is already terminal) and tells the client.
    fn transition(
        &self,
        task_id: &str,
        status: TaskStatus,
        message: Option<String>,
    ) -> Option<Task> {
        let task = self.set_status(task_id, status, message)?;
        self.announce(&task);
        Some(task)
    }

    /// Moves a task to `status` unless it is terminal or already there; tells nobody
    /// (the caller then calls [`TaskStore::announce`], with no lock held).
    fn set_status(
        &self,
        task_id: &str,
        status: TaskStatus,
        message: Option<String>,
    ) -> Option<Task> {
        let mut tasks = self.tasks.lock();
        let entry = tasks.get_mut(task_id)?;
        if entry.task.status.is_terminal() || entry.task.status == status {
            return None;
        }
        entry.move_to(status, message);
        Some(entry.task.clone())
    }

    /// A 2026 task's outstanding input changed: `input_required` while some is
    /// outstanding, `working` once none is; `lastUpdatedAt` moves either way (the
    /// outstanding requests changed even when the status did not). `None` for a
    /// terminal or unknown task. The caller announces the returned task.
    pub(crate) fn settle_input(&self, task_id: &str, outstanding: bool) -> Option<Task> {
        let status = input_status(outstanding);
        let mut tasks = self.tasks.lock();
        let entry = tasks.get_mut(task_id)?;
        if entry.task.status.is_terminal() {
            return None;
        }
        if entry.task.status == status {
            entry.task.last_updated_at = now_iso8601();
        } else {
            entry.move_to(status, None);
        }
        Some(entry.task.clone())
    }

    /// Tells the client (handshake era: `notifications/tasks/status` on the session)
    /// and the observer that `task` changed.
    pub(crate) fn announce(&self, task: &Task) {
        self.peer
            .try_notify(methods::NOTIFICATIONS_TASKS_STATUS, task);
        if let Some(observer) = &self.observer {
            observer(self, &task.task_id);
        }
    }

    /// The handler is waiting on the client (`input_required`) or working again.
    pub(crate) fn set_waiting_for_input(&self, task_id: &str, waiting: bool) {
        self.transition(task_id, input_status(waiting), None);
    }

    /// Records the handler's outcome: `completed`, or `failed` for JSON-RPC errors and
    /// tool results with `isError: true`.
    pub(crate) fn finish(&self, task_id: &str, outcome: Result<Value, ErrorObject>) {
        let (status, message) = match &outcome {
            Ok(value) if value.get("isError") == Some(&Value::Bool(true)) => (
                TaskStatus::Failed,
                Some("the tool reported an error".to_owned()),
            ),
            Ok(_) => (TaskStatus::Completed, None),
            Err(error) => (TaskStatus::Failed, Some(error.message.clone())),
        };
        if let Some(entry) = self.tasks.lock().get_mut(task_id) {
            if entry.task.status.is_terminal() {
                return;
            }
            entry.outcome = Some(outcome);
        }
        self.transition(task_id, status, message);
    }

    /// `tasks/get`.
    pub(crate) fn get(&self, task_id: &str) -> Result<Task, HandlerError> {
        self.tasks
            .lock()
            .get(task_id)
            .map(|e| e.task.clone())
            .ok_or_else(|| unknown_task(task_id))
    }

    /// A task with its outcome, once it has one (the 2026 `tasks/get` inlines it).
    pub(crate) fn snapshot(
        &self,
        task_id: &str,
    ) -> Result<(Task, Option<Result<Value, ErrorObject>>), HandlerError> {
        self.tasks
            .lock()
            .get(task_id)
            .map(|e| (e.task.clone(), e.outcome.clone()))
            .ok_or_else(|| unknown_task(task_id))
    }

    /// `tasks/list`, oldest first.
    pub(crate) fn list(&self) -> Vec<Task> {
        let tasks = self.tasks.lock();
        let mut all: Vec<(u64, Task)> = tasks.values().map(|e| (e.seq, e.task.clone())).collect();
        all.sort_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, t)| t).collect()
    }

    /// `tasks/cancel`: stops the handler; a terminal task cannot be cancelled (-32602).
    pub(crate) fn cancel(&self, task_id: &str) -> Result<Task, HandlerError> {
        {
            let mut tasks = self.tasks.lock();
            let entry = tasks
                .get_mut(task_id)
                .ok_or_else(|| unknown_task(task_id))?;
            if entry.task.status.is_terminal() {
                return Err(HandlerError::InvalidParams {
                    message: format!(
                        "task {task_id} is already {}",
                        status_name(entry.task.status)
                    ),
                    data: Some(json!({ "taskId": task_id, "status": entry.task.status })),
                });
            }
            if let Some(handler) = entry.handler.take() {
                handler.abort();
            }
            entry.outcome = Some(Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                "the task was cancelled",
            )
            .with_data(json!({ "taskId": task_id }))));
        }
        self.transition(
            task_id,
            TaskStatus::Cancelled,
            Some("cancelled by the client".into()),
        )
        .ok_or_else(|| unknown_task(task_id))
    }

    /// `tasks/result`: waits until the task is terminal, then returns the underlying
    /// request's result (or its error), tagged with the related-task `_meta`.
    pub(crate) async fn result(&self, task_id: &str) -> Result<Value, HandlerError> {
        let mut status = {
            let tasks = self.tasks.lock();
            let entry = tasks.get(task_id).ok_or_else(|| unknown_task(task_id))?;
            entry.status.subscribe()
        };
        // Waits for a terminal status; fails if the task expires meanwhile.
        if status.wait_for(|s| s.is_terminal()).await.is_err() {
            return Err(unknown_task(task_id));
        }
        let outcome = {
            let tasks = self.tasks.lock();
            let entry = tasks.get(task_id).ok_or_else(|| unknown_task(task_id))?;
            entry.outcome.clone()
        };
        match outcome {
            Some(Ok(mut value)) => {
                if let Value::Object(map) = &mut value {
                    let meta = map.entry("_meta").or_insert_with(|| json!({}));
                    if let Value::Object(meta) = meta {
                        meta.insert(RELATED_TASK_META_KEY.into(), json!({ "taskId": task_id }));
                    }
                }
                Ok(value)
            }
            Some(Err(error)) => Err(HandlerError::Rpc(error)),
            None => Err(HandlerError::internal("task ended without a result")),
        }
    }

    /// Stops and drops every task (the session is over).
    pub(crate) fn clear(&self) {
        let drained: Vec<TaskEntry> = self.tasks.lock().drain().map(|(_, e)| e).collect();
        drop(drained);
    }
}

fn status_name(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Working => "working",
        TaskStatus::InputRequired => "input_required",
        TaskStatus::Completed => "completed",
        TaskStatus::Failed => "failed",
        TaskStatus::Cancelled => "cancelled",
    }
}
