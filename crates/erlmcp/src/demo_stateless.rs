//! Demo-server fixtures for the MCP 2026-07-28 (stateless) server scenarios of the
//! conformance suite (`@modelcontextprotocol/conformance` 0.2.0-alpha, `server-stateless`):
//! diagnostic tools it calls by name to watch the engine's per-request rules.
//!
//! | tool                          | what the suite checks with it                               |
//! |-------------------------------|-------------------------------------------------------------|
//! | `test_missing_capability`     | asks for sampling: -32021 (HTTP 400) when not declared      |
//! | `test_streaming_elicitation`  | asks for elicitation: an input-required result, never a request on the stream |
//! | `test_logging_tool`           | logs: no `notifications/message` unless the request set a log level |
//! | `test_trigger_tool_change`    | adds or removes a tool: `tools/list_changed` on listen streams |
//! | `test_trigger_prompt_change`  | adds or removes a prompt: `prompts/list_changed` on listen streams |
//!
//! The same tools work in the handshake era, where the asks are ordinary requests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use erlmcp_codec::schema::{
    CallToolResult, ElicitRequestParams, GetPromptResult, JsonObject, LoggingLevel, Prompt,
    PromptMessage, Tool,
};
use erlmcp_codec::schema::{CreateMessageRequestParams, SamplingMessage};
use erlmcp_protocol::{HandlerError, Server, ServerBuilder};
use serde_json::{Value, json};

fn no_arguments() -> JsonObject {
    match json!({"type": "object", "properties": {}}) {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// The tool and prompt the change triggers add and remove.
const DYNAMIC_TOOL: &str = "test_dynamic_tool";
const DYNAMIC_PROMPT: &str = "test_dynamic_prompt";

/// Adds the fixtures to `builder`. `server` is filled once the server is built (the change
/// triggers edit its registries).
pub(crate) fn fixtures(builder: ServerBuilder, server: Arc<OnceLock<Server>>) -> ServerBuilder {
    let tool_added = Arc::new(AtomicBool::new(false));
    let prompt_added = Arc::new(AtomicBool::new(false));
    let for_tools = server.clone();
    let for_prompts = server;
    builder
        .tool(
            Tool::new("test_missing_capability", no_arguments())
                .with_description("Asks the client's model; needs the sampling capability"),
            |_args: JsonObject, ctx| async move {
                let params = CreateMessageRequestParams::new(
                    vec![SamplingMessage::user_text("Say hello")],
                    16,
                );
                let answer = ctx.create_message(params).await?;
                let text = answer
                    .content
                    .blocks()
                    .iter()
                    .find_map(|b| b.as_text())
                    .unwrap_or_default()
                    .to_owned();
                Ok(CallToolResult::text(text))
            },
        )
        .tool(
            Tool::new("test_streaming_elicitation", no_arguments())
                .with_description("Reports progress, then asks the user for a name"),
            |_args: JsonObject, ctx| async move {
                ctx.progress(1.0, Some(2.0), Some("asking")).await;
                let params: ElicitRequestParams = serde_json::from_value(json!({
                    "message": "What is your name?",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}},
                        "required": ["name"]
                    }
                }))
                .map_err(|e| HandlerError::internal(e.to_string()))?;
                let answer = ctx.elicit(params).await?;
                Ok(CallToolResult::text(format!(
                    "elicitation answered: {}",
                    json!(answer.content.unwrap_or_default())
                )))
            },
        )
        .tool(
            Tool::new("test_logging_tool", no_arguments())
                .with_description("Logs at info level, then answers"),
            |_args: JsonObject, ctx| async move {
                ctx.log(
                    LoggingLevel::Info,
                    Some("test_logging_tool"),
                    json!("a log message"),
                )
                .await;
                Ok(CallToolResult::text("logged"))
            },
        )
        .tool(
            Tool::new("test_trigger_tool_change", no_arguments())
                .with_description("Adds or removes test_dynamic_tool (tools/list_changed)"),
            move |_args: JsonObject, _ctx| {
                let server = for_tools.clone();
                let added = tool_added.clone();
                async move {
                    let Some(server) = server.get() else {
                        return Err(HandlerError::internal("server not built yet"));
                    };
                    if added.swap(false, Ordering::SeqCst) {
                        server.remove_tool(DYNAMIC_TOOL);
                        return Ok(CallToolResult::text(format!("removed {DYNAMIC_TOOL}")));
                    }
                    added.store(true, Ordering::SeqCst);
                    server
                        .add_tool(
                            Tool::new(DYNAMIC_TOOL, no_arguments())
                                .with_description("Added at runtime"),
                            |_args: JsonObject, _ctx| async move {
                                Ok(CallToolResult::text("dynamic"))
                            },
                        )
                        .map_err(HandlerError::internal)?;
                    Ok(CallToolResult::text(format!("added {DYNAMIC_TOOL}")))
                }
            },
        )
        .tool(
            Tool::new("test_trigger_prompt_change", no_arguments())
                .with_description("Adds or removes test_dynamic_prompt (prompts/list_changed)"),
            move |_args: JsonObject, _ctx| {
                let server = for_prompts.clone();
                let added = prompt_added.clone();
                async move {
                    let Some(server) = server.get() else {
                        return Err(HandlerError::internal("server not built yet"));
                    };
                    if added.swap(false, Ordering::SeqCst) {
                        server.remove_prompt(DYNAMIC_PROMPT);
                        return Ok(CallToolResult::text(format!("removed {DYNAMIC_PROMPT}")));
                    }
                    added.store(true, Ordering::SeqCst);
                    server.add_prompt(
                        Prompt::new(DYNAMIC_PROMPT).with_description("Added at runtime"),
                        |_args: erlmcp_protocol::server::PromptArgs, _ctx| async move {
                            Ok(GetPromptResult::new(vec![PromptMessage::user_text(
                                "dynamic",
                            )]))
                        },
                    );
                    Ok(CallToolResult::text(format!("added {DYNAMIC_PROMPT}")))
                }
            },
        )
}
