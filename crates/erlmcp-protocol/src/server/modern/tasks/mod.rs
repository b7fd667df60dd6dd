//! The tasks extension in its 2026-07-28 form (`io.modelcontextprotocol/tasks`,
//! ext-tasks `specification/2026-07-28/tasks.md`), on the same task store and TTL
//! machinery as the 2025-11-25 tasks (one server-wide store: a stateless client may
//! poll from any connection).
//!
//! ```text
//!  tools/call, tool with execution.taskSupport optional|required, request declares the
//!  extension ──▶ CreateTaskResult {resultType: "task", taskId, status: working, ttlMs, pollIntervalMs}
//!  tasks/get    ──▶ the task, with `result` (completed) or `error` (failed) inlined
//!  tasks/cancel ──▶ {} (the handler is stopped; the task becomes cancelled)
//!  tasks/update ──▶ {} for a known task (its answers are ignored: see below)
//! ```
//!
//! - The server decides: a tool whose `taskSupport` is `optional` or `required` runs
//!   as a task whenever the request declares the extension; `required` without the
//!   extension is -32021 naming it; `tasks/*` without it are -32021 too.
//! - An unknown or expired task id is -32602.
//! - A tool result with `isError: true` is `completed` (the 2025 store calls it
//!   `failed`; the 2026 rule keeps `failed` for JSON-RPC errors).
//! - Not supported yet: input asked for *while* a task runs (`input_required` tasks
//!   answered with `tasks/update`); such an ask fails inside the handler.
//!   `notifications/tasks` on listen streams are not sent.

use std::sync::Arc;

use erlmcp_codec::schema::modern::TASKS_EXTENSION;
use erlmcp_codec::schema::{ClientCapabilities, Task, TaskStatus, TaskSupport};
use erlmcp_codec::{ErrorCode, ErrorObject};
use serde_json::{Map, Value, json};

use crate::error::HandlerError;
use crate::server::context::RequestContext;
use crate::server::session::run_tool;
use crate::server::tasks::TaskStore;
use crate::server::tools::{self, RegisteredTool};

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

/// `tasks/get`: the task with its outcome inlined.
pub(crate) fn get(store: &TaskStore, params: Option<&Value>) -> Result<Value, ErrorObject> {
    let id = task_id(params)?;
    let (mut task, outcome) = store.snapshot(&id).map_err(|_| not_found(&id))?;
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
    let mut map = wire_task(&task);
    map.extend(extra);
    Ok(Value::Object(map))
}

/// `tasks/cancel`: stops the task; a task that already ended is acknowledged too
/// (cancellation is cooperative and eventually consistent).
pub(crate) fn cancel(store: &TaskStore, params: Option<&Value>) -> Result<Value, ErrorObject> {
    let id = task_id(params)?;
    store.snapshot(&id).map_err(|_| not_found(&id))?;
    let _ = store.cancel(&id);
    Ok(json!({}))
}

/// `tasks/update`: acknowledged for a known task. No task of this server waits for
/// input, so every response is for a key that is not outstanding and is ignored.
pub(crate) fn update(store: &TaskStore, params: Option<&Value>) -> Result<Value, ErrorObject> {
    let id = task_id(params)?;
    store.snapshot(&id).map_err(|_| not_found(&id))?;
    Ok(json!({}))
}
