//! Tasks (2025-11-25): task-augmented execution of `tools/call`,
//! `sampling/createMessage` and `elicitation/create`, polled with `tasks/get`,
//! collected with `tasks/result`, listed with `tasks/list`, stopped with `tasks/cancel`,
//! and announced with `notifications/tasks/status`.
//!
//! ```text
//!            ┌──────────────── input_required ◄─┐
//!            ▼                                  │
//!  (create) working ───────────────────────────►┤
//!            │                                  │
//!            ├──► completed   (terminal)        │
//!            ├──► failed      (terminal)        │
//!            └──► cancelled   (terminal)  ◄─────┘
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Cursor, EmptyResult, Meta};

/// The `_meta` key that ties a message to a task ([`RelatedTaskMetadata`]).
pub const RELATED_TASK_META_KEY: &str = "io.modelcontextprotocol/related-task";

/// The state of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Being processed.
    Working,
    /// Waiting for input from the requester (e.g. an elicitation).
    InputRequired,
    /// Finished successfully; the result is available via `tasks/result`.
    Completed,
    /// Finished with an error.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl TaskStatus {
    /// Whether no further transitions can happen.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

/// The data of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The task id.
    pub task_id: String,
    /// Current state.
    pub status: TaskStatus,
    /// Human-readable detail about the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 time of the last update.
    pub last_updated_at: String,
    /// Retention from creation in milliseconds; `None` (`null` on the wire, always
    /// written) means unlimited.
    pub ttl: Option<u64>,
    /// Suggested polling interval in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<u64>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Task {
    /// A task in `status` with both timestamps set to `now` (ISO 8601).
    pub fn new(
        task_id: impl Into<String>,
        status: TaskStatus,
        now: impl Into<String>,
        ttl: Option<u64>,
    ) -> Self {
        let now = now.into();
        Task {
            task_id: task_id.into(),
            status,
            status_message: None,
            created_at: now.clone(),
            last_updated_at: now,
            ttl,
            poll_interval: None,
            extra: Map::new(),
        }
    }
}

/// The `task` member of a request's params: asks for task-augmented execution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskMetadata {
    /// Requested retention from creation in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `_meta["io.modelcontextprotocol/related-task"]`: the task a message belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedTaskMetadata {
    /// The task id.
    pub task_id: String,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Base shape of task-augmentable request params (`_meta` and `task`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskAugmentedRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Present when the caller asks for task-augmented execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The immediate answer to a task-augmented request (instead of its normal result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTaskResult {
    /// The task that was created.
    pub task: Task,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parameters of `tasks/get` (also the shape of `tasks/result` and `tasks/cancel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskRequestParams {
    /// The task id.
    pub task_id: String,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GetTaskRequestParams {
    /// Parameters naming `task_id`.
    pub fn new(task_id: impl Into<String>) -> Self {
        GetTaskRequestParams {
            task_id: task_id.into(),
            extra: Map::new(),
        }
    }
}

/// Parameters of `tasks/result`.
pub type GetTaskPayloadRequestParams = GetTaskRequestParams;

/// Parameters of `tasks/cancel`.
pub type CancelTaskRequestParams = GetTaskRequestParams;

/// The answer to `tasks/get`: the task's data plus `_meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task (its members sit at the top level of the result).
    #[serde(flatten)]
    pub task: Task,
}

impl From<Task> for GetTaskResult {
    fn from(task: Task) -> Self {
        GetTaskResult { meta: None, task }
    }
}

/// The answer to `tasks/cancel`: the task in its (now cancelled) state.
pub type CancelTaskResult = GetTaskResult;

/// The answer to `tasks/result`: exactly the result the original request would have
/// produced (e.g. a [`CallToolResult`](super::CallToolResult)); read `extra` or convert
/// with `serde_json::from_value`.
pub type GetTaskPayloadResult = EmptyResult;

/// The answer to `tasks/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTasksResult {
    /// The tasks on this page.
    pub tasks: Vec<Task>,
    /// Present when more pages exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parameters of `notifications/tasks/status`: the task's data plus `_meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatusNotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task (its members sit at the top level of the params).
    #[serde(flatten)]
    pub task: Task,
}

impl From<Task> for TaskStatusNotificationParams {
    fn from(task: Task) -> Self {
        TaskStatusNotificationParams { meta: None, task }
    }
}

/// Whether a tool can be run as a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskSupport {
    /// Never as a task (the default when absent).
    Forbidden,
    /// With or without a task.
    Optional,
    /// Only as a task.
    Required,
}

/// Execution-related properties of a [`Tool`](super::Tool) (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// Whether the tool supports task-augmented execution; absent means forbidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<TaskSupport>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
