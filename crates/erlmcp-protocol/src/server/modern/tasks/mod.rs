//! The tasks extension in its 2026-07-28 form (`io.modelcontextprotocol/tasks`,
//! ext-tasks `specification/draft/tasks.md`), on the same task store and TTL machinery
//! as the 2025-11-25 tasks (one server-wide store: a stateless client may poll from
//! any connection).
//!
//! ```text
//!  tools/call, tool with execution.taskSupport optional|required, request declares the
//!  extension ──▶ CreateTaskResult {resultType: "task", taskId, status: working, ttlMs, pollIntervalMs}
//!  tasks/get    ──▶ the task, with `result` (completed), `error` (failed) or
//!                   `inputRequests` (input_required) inlined
//!  tasks/update ──▶ {} (its `inputResponses` answer the outstanding input requests)
//!  tasks/cancel ──▶ {} (the handler is stopped; the task becomes cancelled)
//!
//!                ┌──────────── input_required ◀─┐  handler asks (elicitation, sampling, roots)
//!                ▼  tasks/update answers all    │
//!  (create) working ─────────────────────────────┘
//!            ├──▶ completed  (a tool result, `isError: true` included)
//!            ├──▶ failed     (a JSON-RPC error)
//!            └──▶ cancelled  (tasks/cancel, from working or input_required)
//!                       ttl elapsed (any state) ──▶ removed, handler stopped
//! ```
//!
//! - The server decides: a tool whose `taskSupport` is `optional` or `required` runs
//!   as a task whenever the request declares the extension; `required` without the
//!   extension is -32021 naming it; `tasks/*` without it are -32021 too.
//! - An unknown or expired task id is -32602 (`tasks/get`, `tasks/update`,
//!   `tasks/cancel`).
//! - A tool result with `isError: true` is `completed` (the 2025 store calls it
//!   `failed`; the 2026 rule keeps `failed` for JSON-RPC errors).
//! - Input while a task runs (module `input`): the handler's ask waits; the task is
//!   `input_required` and shows every outstanding ask in `inputRequests` until
//!   `tasks/update` answers them. `inputResponses` missing, not an object, holding a
//!   non-object, or an answer that is not its ask's result: -32602 and nothing is
//!   taken. Answers under keys that are not outstanding are ignored.
//! - Status notifications (module `notify`): a `subscriptions/listen` stream that asked for
//!   `taskIds` (and declared the extension, else -32021) gets `notifications/tasks` —
//!   the task as `tasks/get` shows it — on every change of those tasks.

pub(crate) mod input;
pub(crate) mod notify;

use std::sync::Arc;

use erlmcp_codec::schema::modern::TASKS_EXTENSION;
use erlmcp_codec::schema::{ClientCapabilities, Task, TaskStatus, TaskSupport};
use erlmcp_codec::{ErrorCode, ErrorObject};
use serde_json::{Map, Value, json};

use crate::error::HandlerError;
use crate::server::context::RequestContext;
use crate::server::modern::input_required::checked_responses;
use crate::server::session::run_tool;
use crate::server::tasks::TaskStore;
use crate::server::tools::{self, RegisteredTool};

use input::TaskInput;

/// Whether this request's capabilities declare the tasks extension.
pub(crate) fn declared(caps: &ClientCapabilities) -> bool {
    caps.extra
        .get("extensions")
        .and_then(Value::as_object)
        .is_some_and(|e| e.contains_key(TASKS_EXTENSION))
}

/// -32021 naming the tasks extension.
pub(crate) fn missing_extension() -> ErrorObject {
    ErrorObject::new(
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        "Missing required client capability",
    )
    .with_data(json!({
        "requiredCapabilities": { "extensions": { TASKS_EXTENSION: {} } }
    }))
}

/// What to do with a `tools/call` of `tool`.
pub(crate) enum Plan {
    /// Run it in the request (no task).
    Inline,
    /// Run it as a task.
    Task,
}

/// The server's choice for `tool` given whether the request declared the extension.
pub(crate) fn plan(tool: &RegisteredTool, declared: bool) -> Result<Plan, ErrorObject> {
    match (tools::task_support(&tool.tool), declared) {
        (TaskSupport::Forbidden, _) => Ok(Plan::Inline),
        (TaskSupport::Required, false) => Err(missing_extension()),
        (_, true) => Ok(Plan::Task),
        (_, false) => Ok(Plan::Inline),
    }
}

/// The 2026 wire form of a task (`ttlMs`, `pollIntervalMs`).
fn wire_task(task: &Task) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("taskId".into(), json!(task.task_id));
    map.insert("status".into(), json!(task.status));
    if let Some(message) = &task.status_message {
        map.insert("statusMessage".into(), json!(message));
    }
    map.insert("createdAt".into(), json!(task.created_at));
    map.insert("lastUpdatedAt".into(), json!(task.last_updated_at));
    map.insert("ttlMs".into(), json!(task.ttl));
    if let Some(poll) = task.poll_interval {
        map.insert("pollIntervalMs".into(), json!(poll));
    }
    map
}

/// Starts `tool` as a task and answers with the `CreateTaskResult`.
pub(crate) fn start(
    store: &Arc<TaskStore>,
    tool: Arc<RegisteredTool>,
    arguments: Map<String, Value>,
    mut ctx: RequestContext,
) -> Result<Value, ErrorObject> {
    let task = store.create(None).map_err(|e| e.to_error_object())?;
    let task_id = task.task_id.clone();
    ctx.task_id = Some(task_id.clone());
    let input = Arc::new(TaskInput::new(task_id.clone(), store));
    store.attach_input(&task_id, input.clone());
    ctx.task_input = Some(input);
    let runner = store.clone();
    let id = task_id.clone();
    let handle = tokio::spawn(async move {
        let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(run_tool(
            tool, arguments, ctx,
        )))
        .await
        .unwrap_or_else(|_| Err(HandlerError::internal("tool handler panicked")));
        runner.finish(&id, outcome.map_err(|e| e.to_error_object()));
    });
    store.attach(&task_id, handle.abort_handle());
    let mut result = wire_task(&task);
    result.insert("resultType".into(), json!("task"));
    Ok(Value::Object(result))
}

fn task_id(params: Option<&Value>) -> Result<String, ErrorObject> {
    params
        .and_then(|p| p.get("taskId"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ErrorObject::new(ErrorCode::INVALID_PARAMS, "params.taskId is required"))
}

fn not_found(task_id: &str) -> ErrorObject {
    ErrorObject::new(
        ErrorCode::INVALID_PARAMS,
        "Failed to retrieve task: Task not found",
    )
    .with_data(json!({ "taskId": task_id }))
}

/// The task as `tasks/get` and `notifications/tasks` show it (a `DetailedTask`):
/// `result`, `error` or `inputRequests` inlined by status.
pub(crate) fn detailed(store: &TaskStore, id: &str) -> Result<Map<String, Value>, ErrorObject> {
    let view = match store.input(id) {
        Some(input) => input.view(store),
        None => store
            .snapshot(id)
            .map(|(task, outcome)| (task, outcome, Default::default())),
    };
    let (mut task, outcome, requests) = view.map_err(|_| not_found(id))?;
    let mut extra = Map::new();
    match outcome {
        Some(Ok(result)) if task.status != TaskStatus::Cancelled => {
            // A tool result (even `isError: true`) is `completed` in 2026-07-28.
            task.status = TaskStatus::Completed;
            if task.status_message.as_deref() == Some("the tool reported an error") {
                task.status_message = None;
            }
            extra.insert("result".into(), result);
        }
        Some(Err(error)) if task.status == TaskStatus::Failed => {
            extra.insert("error".into(), json!(error));
        }
        _ => {}
    }
    if task.status == TaskStatus::InputRequired {
        extra.insert("inputRequests".into(), json!(requests));
    }
    let mut map = wire_task(&task);
    map.extend(extra);
    Ok(map)
}

/// `tasks/get`: the task with its outcome or outstanding input inlined.
pub(crate) fn get(store: &TaskStore, params: Option<&Value>) -> Result<Value, ErrorObject> {
    let id = task_id(params)?;
    detailed(store, &id).map(Value::Object)
}

/// `tasks/cancel`: stops the task (an `input_required` one too: its asks are dropped);
/// a task that already ended is acknowledged too (cancellation is cooperative and
/// eventually consistent).
pub(crate) fn cancel(store: &TaskStore, params: Option<&Value>) -> Result<Value, ErrorObject> {
    let id = task_id(params)?;
    store.snapshot(&id).map_err(|_| not_found(&id))?;
    if store.cancel(&id).is_ok()
        && let Some(input) = store.input(&id)
    {
        input.close();
    }
    Ok(json!({}))
}

/// `tasks/update`: hands the answers in `inputResponses` to the asks waiting for them
/// (see [`input`]). A task with nothing outstanding (working, or ended) acknowledges
/// and ignores them.
pub(crate) fn update(store: &TaskStore, params: Option<&Value>) -> Result<Value, ErrorObject> {
    let id = task_id(params)?;
    store.snapshot(&id).map_err(|_| not_found(&id))?;
    let Some(responses) = params.and_then(|p| p.get("inputResponses")) else {
        return Err(ErrorObject::new(
            ErrorCode::INVALID_PARAMS,
            "params.inputResponses is required",
        ));
    };
    let responses = checked_responses(Some(responses.clone())).map_err(|e| e.to_error_object())?;
    if let Some(input) = store.input(&id) {
        let delivered = input.answer(responses).map_err(|e| e.to_error_object())?;
        tracing::debug!(
            task = %id,
            taken = delivered.taken,
            ignored = delivered.ignored,
            "tasks/update"
        );
    }
    Ok(json!({}))
}
