//! The client's side of the tasks extension (2026-07-28, `io.modelcontextprotocol/tasks`),
//! declared with [`ClientBuilder::tasks`](super::ClientBuilder::tasks): a `tools/call`
//! the server answers with a task is driven to its end, so the caller still gets the
//! `CallToolResult` (the extension's backwards-compatibility reading).
//!
//! ```text
//!  tools/call ──▶ {resultType: "task", taskId, pollIntervalMs}
//!   loop: wait pollIntervalMs ──▶ tasks/get
//!         working         ──▶ poll again
//!         input_required  ──▶ the keys not answered yet go to the sampling / elicitation /
//!                             roots handlers ──▶ tasks/update {inputResponses} ──▶ poll again
//!         completed       ──▶ its `result` is the tools/call's result
//!         failed          ──▶ its `error` ([`RequestError::Rpc`])
//!         cancelled       ──▶ [`RequestError::Rpc`] (-32603, `data.taskId`)
//! ```
//!
//! - Each key is answered once: a poll that shows it again (the answer is not taken
//!   yet) does not ask the user twice.
//! - A handler that fails (or an input the client has no handler for) cancels the task
//!   (`tasks/cancel`) and fails the call with that error.
//! - Dropping the call's future stops polling; the server keeps the task until its TTL.
//! - A task handle for anything but `tools/call` is an invalid result.

use std::collections::BTreeSet;
use std::time::Duration;

use erlmcp_codec::schema::methods;
use erlmcp_codec::schema::modern::InputRequests;
use erlmcp_codec::{ErrorCode, ErrorObject};
use serde_json::{Value, json};

use super::{Client, modern};
use crate::error::RequestError;

/// Longest wait between two polls, whatever the server suggests.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// The wait when the server suggests none.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Whether `result` is a task handle (`CreateTaskResult`).
pub(super) fn is_task(result: &Value) -> bool {
    result.get("resultType").and_then(Value::as_str) == Some("task")
}

fn poll_interval(task: &Value) -> Duration {
    task.get("pollIntervalMs")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_POLL_INTERVAL, Duration::from_millis)
        .min(MAX_POLL_INTERVAL)
}

fn invalid(message: &str) -> RequestError {
    RequestError::InvalidResult(serde::de::Error::custom(message))
}

impl Client {
    /// Drives the task `created` (the answer to `method`) to its end; `meta` is the
    /// stateless `_meta` every task request carries.
    pub(super) async fn drive_task(
        &self,
        method: &str,
        created: Value,
        meta: &Value,
    ) -> Result<Value, RequestError> {
        if method != methods::TOOLS_CALL || !self.role.tasks {
            return Err(invalid(
                "a task handle answered a request that cannot be a task",
            ));
        }
        let Some(task_id) = created.get("taskId").and_then(Value::as_str) else {
            return Err(invalid("the task handle has no taskId"));
        };
        let task_id = task_id.to_owned();
        let mut wait = poll_interval(&created);
        let mut answered = BTreeSet::new();
        loop {
            tokio::time::sleep(wait).await;
            let task = self
                .task_request(methods::TASKS_GET, json!({ "taskId": task_id }), meta)
                .await?;
            wait = poll_interval(&task);
            match task.get("status").and_then(Value::as_str) {
                Some("completed") => {
                    return task
                        .get("result")
                        .cloned()
                        .ok_or_else(|| invalid("a completed task without its result"));
                }
                Some("failed") => {
                    let error = task
                        .get("error")
                        .cloned()
                        .and_then(|e| serde_json::from_value::<ErrorObject>(e).ok())
                        .unwrap_or_else(|| {
                            ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the task failed")
                        });
                    return Err(RequestError::Rpc(error));
                }
                Some("cancelled") => {
                    return Err(RequestError::Rpc(
                        ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the task was cancelled")
                            .with_data(json!({ "taskId": task_id })),
                    ));
                }
                Some("input_required") => {
                    let requests: InputRequests = task
                        .get("inputRequests")
                        .cloned()
                        .map(serde_json::from_value)
                        .transpose()
                        .map_err(RequestError::InvalidResult)?
                        .unwrap_or_default();
                    let fresh: InputRequests = requests
                        .into_iter()
                        .filter(|(key, _)| !answered.contains(key))
                        .collect();
                    if fresh.is_empty() {
                        continue;
                    }
                    let keys: Vec<String> = fresh.keys().cloned().collect();
                    let responses = match modern::answer_requests(&self.role, fresh).await {
                        Ok(responses) => responses,
                        Err(error) => {
                            let cancel = json!({ "taskId": task_id });
                            let _ = self.task_request(methods::TASKS_CANCEL, cancel, meta).await;
                            return Err(error);
                        }
                    };
                    let update = json!({ "taskId": task_id, "inputResponses": responses });
                    self.task_request(methods::TASKS_UPDATE, update, meta)
                        .await?;
                    answered.extend(keys);
                    // The answers may be taken at once: look again without the full wait.
                    wait = wait.min(Duration::from_millis(50));
                }
                _ => {}
            }
        }
    }

    async fn task_request(
        &self,
        method: &str,
        params: Value,
        meta: &Value,
    ) -> Result<Value, RequestError> {
        self.peer
            .request_value(method, modern::stamp(params, meta), self.opts())
            .await
    }
}
