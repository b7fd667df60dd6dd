//! Demo-server fixtures for the tasks extension (`io.modelcontextprotocol/tasks`,
//! 2026-07-28): tools that run as tasks when a stateless request declares the
//! extension, named as the conformance suite's `tasks-*` scenarios expect
//! (`@modelcontextprotocol/conformance` 0.2.0-alpha, run there for visibility only).
//!
//! | fixture              | task support | does                                                   |
//! |----------------------|--------------|--------------------------------------------------------|
//! | `greet`              | forbidden    | `Hello, {name}!` at once (the sync path)              |
//! | `slow_compute`       | optional     | sleeps `seconds`, then reports `label`                |
//! | `confirm_delete`     | optional     | asks `confirm` (elicitation) while running, then answers |
//! | `multi_input`        | optional     | asks `first` and `second` at once (two keys pending)  |
//! | `failing_job`        | required     | a tool error (`isError`) after a short wait            |
//! | `protocol_error_job` | optional     | a JSON-RPC error (the task fails)                     |
//!
//! In the handshake era they are ordinary tools (task-augmented when the client asks).

use std::time::Duration;

use erlmcp_codec::schema::{
    CallToolResult, ElicitAction, ElicitResult, ElicitValue, JsonObject, TaskSupport, Tool,
    ToolExecution,
};
use erlmcp_protocol::{HandlerError, ServerBuilder};
use serde_json::{Value, json};

use crate::demo_input_required::form;

fn schema(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

fn with_support(mut tool: Tool, support: TaskSupport) -> Tool {
    tool.execution = Some(ToolExecution {
        task_support: Some(support),
        ..ToolExecution::default()
    });
    tool
}

/// The accepted answer's `field`, as text (`None` unless accepted).
fn accepted(answer: &ElicitResult, field: &str) -> Option<String> {
    if answer.action != ElicitAction::Accept {
        return None;
    }
    Some(match answer.content.as_ref()?.get(field)? {
        ElicitValue::String(s) => s.clone(),
        other => json!(other).to_string(),
    })
}

fn text_arg(args: &JsonObject, name: &str) -> String {
    args.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Adds the fixtures to `builder`.
pub(crate) fn fixtures(builder: ServerBuilder) -> ServerBuilder {
    builder
        .tool(
            Tool::new(
                "greet",
                schema(json!({
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                })),
            )
            .with_description("Greets at once (never a task)"),
            |args: JsonObject, _ctx| async move {
                Ok(CallToolResult::text(format!(
                    "Hello, {}!",
                    text_arg(&args, "name")
                )))
            },
        )
        .tool(
            with_support(
                Tool::new(
                    "slow_compute",
                    schema(json!({
                        "type": "object",
                        "properties": {"seconds": {"type": "number"}, "label": {"type": "string"}},
                    })),
                )
                .with_description(
                    "Sleeps `seconds` (at most 600), then reports; a task when the client allows",
                ),
                TaskSupport::Optional,
            ),
            |args: JsonObject, _ctx| async move {
                let seconds = args
                    .get("seconds")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
                    .clamp(0.0, 600.0);
                tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                Ok(CallToolResult::text(format!(
                    "computed {} after {seconds}s",
                    text_arg(&args, "label")
                )))
            },
        )
        .tool(
            with_support(
                Tool::new(
                    "confirm_delete",
                    schema(json!({
                        "type": "object",
                        "properties": {"filename": {"type": "string"}},
                    })),
                )
                .with_description(
                    "Asks for confirmation (input key `confirm`) before 'deleting' a file",
                ),
                TaskSupport::Optional,
            ),
            |args: JsonObject, ctx| async move {
                let file = text_arg(&args, "filename");
                let params = form(&format!("Delete {file}?"), "confirm", "boolean")?;
                let answer = ctx.elicit_as("confirm", params).await?;
                Ok(CallToolResult::text(
                    match accepted(&answer, "confirm").as_deref() {
                        Some("true") => format!("deleted {file}"),
                        _ => format!("kept {file}"),
                    },
                ))
            },
        )
        .tool(
            with_support(
                Tool::new("multi_input", schema(json!({"type": "object"})))
                    .with_description("Asks two questions at once (input keys `first`, `second`)"),
                TaskSupport::Optional,
            ),
            |_args: JsonObject, ctx| async move {
                let (one, two) = (
                    form("First name?", "name", "string")?,
                    form("Second name?", "name", "string")?,
                );
                let (first, second) =
                    tokio::join!(ctx.elicit_as("first", one), ctx.elicit_as("second", two));
                let (first, second) = (first?, second?);
                let name = |a: &ElicitResult| accepted(a, "name").unwrap_or_else(|| "-".into());
                Ok(CallToolResult::text(format!(
                    "{} and {}",
                    name(&first),
                    name(&second)
                )))
            },
        )
        .tool(
            with_support(
                Tool::new("failing_job", schema(json!({"type": "object"})))
                    .with_description("Always a tool error, after a short wait (tasks only)"),
                TaskSupport::Required,
            ),
            |_args: JsonObject, _ctx| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok(CallToolResult::error_text("the job failed"))
            },
        )
        .tool(
            with_support(
                Tool::new("protocol_error_job", schema(json!({"type": "object"})))
                    .with_description("Always a JSON-RPC error (a task of it fails)"),
                TaskSupport::Optional,
            ),
            |_args: JsonObject, _ctx| async move {
                Err::<CallToolResult, _>(HandlerError::internal("the job hit a protocol error"))
            },
        )
}
