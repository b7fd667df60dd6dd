//! The demo server behind `erlmcp serve`: real tools, resources, templates, prompts,
//! completion and logging that exercise every feature of the engine. Tests, the load
//! harness and the interop suite run against it.
//!
//! | kind      | name                         | shows                                         |
//! |-----------|------------------------------|-----------------------------------------------|
//! | tool      | `echo`                       | the hot path (load harness)                    |
//! | tool      | `add`                        | typed arguments, `structuredContent` + schema |
//! | tool      | `slow_count`                 | progress notifications, cancellation          |
//! | tool      | `fail`                       | tool errors as `isError` results              |
//! | tool      | `panic`                      | a panicking handler → -32603 for that call    |
//! | tool      | `log`                        | `notifications/message` at the session level  |
//! | tool      | `sample`                     | `sampling/createMessage` to the client        |
//! | tool      | `ask`                        | `elicitation/create` to the client            |
//! | tool      | `list_roots`                 | `roots/list` to the client                    |
//! | tool      | `bump`                       | changes `demo://counter`, notifies subscribers|
//! | resource  | `demo://readme`, `demo://logo.png`, `demo://counter` | text, blob, subscriptions |
//! | template  | `demo://greeting/{name}`     | RFC 6570 matching                              |
//! | prompt    | `greet`, `review_code`       | arguments, embedded resources                 |
//!
//! It also carries the fixtures the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`) expects of a server under test: the `test_*` tools,
//! `test://` resources and `test_*` prompts of its reference "everything" server (see
//! [`conformance_fixtures`] and `scripts/conformance.sh`), and the diagnostic tools of its
//! 2026-07-28 `server-stateless` scenario (`test_missing_capability`,
//! `test_streaming_elicitation`, `test_logging_tool`, `test_trigger_*_change`) and its
//! input-required scenarios (`test_input_required_result_*`, asking under the keys the
//! suite expects), and the tools of its tasks-extension scenarios (`slow_compute`,
//! `confirm_delete`, `multi_input`, …: see `demo_tasks`), which run as tasks when a
//! stateless request declares `io.modelcontextprotocol/tasks`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use erlmcp_codec::schema::{
    CallToolResult, CompleteResult, ContentBlock, CreateMessageRequestParams, ElicitRequestParams,
    EmbeddedResource, GetPromptResult, JsonObject, LoggingLevel, Prompt, PromptArgument,
    PromptMessage, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Role,
    SamplingMessage, Tool,
};
use erlmcp_protocol::{HandlerError, Server, SessionConfig};
use serde_json::{Value, json};

/// URI of the counter resource that `bump` changes.
pub const COUNTER_URI: &str = "demo://counter";

fn schema(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

fn text_arg<'a>(args: &'a JsonObject, name: &str) -> &'a str {
    args.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// A 1×1 transparent PNG, served as a blob resource.
const LOGO_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// Names offered by completion for `greet`'s `name` argument and the greeting template.
const NAMES: &[&str] = &[
    "Ada", "Alan", "Barbara", "Edsger", "Grace", "Joe", "Ken", "Linus",
];

fn described(mut resource: Resource, description: &str) -> Resource {
    resource.description = Some(description.to_owned());
    resource
}

fn argument(name: &str, description: &str, required: bool) -> PromptArgument {
    let mut argument = PromptArgument::new(name, required);
    argument.description = Some(description.to_owned());
    argument
}

/// Builds the demo server with default session limits.
pub fn server() -> Server {
    server_with_config(SessionConfig::default())
}

/// Builds the demo server with the given session limits.
pub fn server_with_config(config: SessionConfig) -> Server {
    server_with_roots(config, None)
}

/// Builds the demo server; with a sandbox, the files under its roots are served as
/// `file://` resources (every read checked by `erlmcp-security`).
pub fn server_with_roots(
    config: SessionConfig,
    sandbox: Option<erlmcp_security::Sandbox>,
) -> Server {
    let counter = Arc::new(AtomicU64::new(0));
    let server_slot: Arc<std::sync::OnceLock<Server>> = Arc::new(std::sync::OnceLock::new());

    let counter_for_read = counter.clone();
    let counter_for_bump = counter.clone();
    let slot_for_bump = server_slot.clone();

    let server = Server::builder("erlmcp-demo", env!("CARGO_PKG_VERSION"))
        .config(config)
        .instructions("erlmcp demo server: try the `echo`, `add` and `slow_count` tools.")
        .tool(
            Tool::new("echo", schema(json!({
                "type": "object",
                "properties": {"text": {"type": "string", "description": "Text to echo back"}},
                "required": ["text"]
            })))
            .with_description("Echoes its `text` argument back."),
            // The text is moved into the result, not copied: this is the load harness's tool.
            |mut args: JsonObject, _ctx| async move {
                let text = match args.remove("text") {
                    Some(Value::String(text)) => text,
                    _ => String::new(),
                };
                Ok(CallToolResult::text(text))
            },
        )
        .tool(
            Tool::new("add", schema(json!({
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"]
            })))
            .with_description("Adds two numbers; the sum is also structured content.")
            .with_output_schema(schema(json!({
                "type": "object",
                "properties": {"sum": {"type": "number"}},
                "required": ["sum"]
            }))),
            |args: JsonObject, _ctx| async move {
                let a = args.get("a").and_then(Value::as_f64).unwrap_or_default();
                let b = args.get("b").and_then(Value::as_f64).unwrap_or_default();
                let sum = a + b;
                let mut result = CallToolResult::text(format!("{sum}"));
                result.structured_content = Some(json!({"sum": sum}));
                Ok(result)
            },
        )
        .tool(
            Tool::new("slow_count", schema(json!({
                "type": "object",
                "properties": {
                    "to": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "delay_ms": {"type": "integer", "minimum": 0, "maximum": 10000}
                },
                "required": ["to"]
            })))
            .with_description("Counts to `to`, one step per `delay_ms`, reporting progress. Cancellable."),
            |args: JsonObject, ctx| async move {
                let to = args.get("to").and_then(Value::as_u64).unwrap_or(1);
                let delay = args.get("delay_ms").and_then(Value::as_u64).unwrap_or(100);
                for i in 1..=to {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    #[allow(clippy::cast_precision_loss)]
                    ctx.progress(i as f64, Some(to as f64), Some(&format!("step {i} of {to}"))).await;
                }
                Ok(CallToolResult::text(format!("counted to {to}")))
            },
        )
        .tool(
            Tool::new("fail", schema(json!({
                "type": "object",
                "properties": {"message": {"type": "string"}}
            })))
            .with_description("Always fails, as a tool error the model can read (isError: true)."),
            |args: JsonObject, _ctx| async move {
                let message = match text_arg(&args, "message") {
                    "" => "the tool failed as asked",
                    m => m,
                };
                Ok(CallToolResult::error_text(message))
            },
        )
        .tool(
            Tool::new("panic", schema(json!({"type": "object"})))
                .with_description("Panics inside the handler: the call gets -32603, the session lives on."),
            |_args: JsonObject, _ctx| async move {
                if std::hint::black_box(true) {
                    panic!("demo tool panicked on purpose");
                }
                Ok(CallToolResult::text("unreachable"))
            },
        )
        .tool(
            Tool::new("log", schema(json!({
                "type": "object",
                "properties": {
                    "level": {"type": "string", "enum": ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]},
                    "message": {"type": "string"}
                },
                "required": ["message"]
            })))
            .with_description("Sends a log message at the given level (filtered by logging/setLevel)."),
            |args: JsonObject, ctx| async move {
                let level: LoggingLevel = args
                    .get("level")
                    .cloned()
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or(LoggingLevel::Info);
                ctx.log(level, Some("demo"), json!(text_arg(&args, "message"))).await;
                Ok(CallToolResult::text("logged"))
            },
        )
        .tool(
            Tool::new("sample", schema(json!({
                "type": "object",
                "properties": {"prompt": {"type": "string"}},
                "required": ["prompt"]
            })))
            .with_description("Asks the client's model (sampling/createMessage) and returns its answer."),
            |args: JsonObject, ctx| async move {
                let params = CreateMessageRequestParams::new(
                    vec![SamplingMessage::user_text(text_arg(&args, "prompt"))],
                    256,
                );
                match ctx.create_message(params).await {
                    Ok(answer) => {
                        let text = answer
                            .content
                            .blocks()
                            .iter()
                            .find_map(|b| b.as_text())
                            .unwrap_or_default()
                            .to_owned();
                        Ok(CallToolResult::text(format!("model ({}) said: {text}", answer.model)))
                    }
                    Err(err) => Ok(CallToolResult::error_text(format!("sampling failed: {err}"))),
                }
            },
        )
        .tool(
            Tool::new("ask", schema(json!({
                "type": "object",
                "properties": {"question": {"type": "string"}},
                "required": ["question"]
            })))
            .with_description("Asks the user a question through the client (elicitation/create)."),
            |args: JsonObject, ctx| async move {
                let params: ElicitRequestParams = serde_json::from_value(json!({
                    "mode": "form",
                    "message": text_arg(&args, "question"),
                    "requestedSchema": {
                        "type": "object",
                        "properties": {"answer": {"type": "string"}},
                        "required": ["answer"]
                    }
                }))
                .map_err(|e| HandlerError::internal(e.to_string()))?;
                match ctx.elicit(params).await {
                    Ok(result) => Ok(CallToolResult::text(format!(
                        "action={} content={}",
                        json!(result.action),
                        json!(result.content)
                    ))),
                    Err(err) => Ok(CallToolResult::error_text(format!("elicitation failed: {err}"))),
                }
            },
        )
        .tool(
            Tool::new("list_roots", schema(json!({"type": "object"})))
                .with_description("Lists the client's roots (roots/list)."),
            |_args: JsonObject, ctx| async move {
                match ctx.list_roots().await {
                    Ok(result) => {
                        let uris: Vec<String> = result.roots.iter().map(|r| r.uri.clone()).collect();
                        Ok(CallToolResult::text(uris.join("\n")))
                    }
                    Err(err) => Ok(CallToolResult::error_text(format!("roots/list failed: {err}"))),
                }
            },
        )
        .tool(
            Tool::new("bump", schema(json!({"type": "object"})))
                .with_description("Increments demo://counter and notifies its subscribers."),
            move |_args: JsonObject, _ctx| {
                let counter = counter_for_bump.clone();
                let slot = slot_for_bump.clone();
                async move {
                    let value = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    let notified = slot.get().map(|s| s.notify_resource_updated(COUNTER_URI)).unwrap_or(0);
                    Ok(CallToolResult::text(format!("counter={value} notified={notified}")))
                }
            },
        )
        .resource(
            described(
                Resource::new("demo://readme", "readme").with_mime_type("text/markdown"),
                "What this server is.",
            ),
            |uri: String, _vars, _ctx| async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri,
                    "# erlmcp demo\n\nA server that exercises every MCP feature erlmcp implements.\n",
                )
                .with_mime_type("text/markdown")]))
            },
        )
        .resource(
            Resource::new("demo://logo.png", "logo").with_mime_type("image/png"),
            |uri: String, _vars, _ctx| async move {
                let blob = base64::engine::general_purpose::STANDARD.encode(LOGO_PNG);
                Ok(ReadResourceResult::new(vec![
                    ResourceContents::blob(uri, blob).with_mime_type("image/png"),
                ]))
            },
        )
        .resource(
            described(
                Resource::new(COUNTER_URI, "counter").with_mime_type("text/plain"),
                "A number that the `bump` tool increments; subscribe to it.",
            ),
            move |uri: String, _vars, _ctx| {
                let value = counter_for_read.load(Ordering::SeqCst);
                async move { Ok(ReadResourceResult::new(vec![ResourceContents::text(uri, value.to_string())])) }
            },
        )
        .resource_template(
            {
                let mut template = ResourceTemplate::new("demo://greeting/{name}", "greeting");
                template.mime_type = Some("text/plain".into());
                template.description = Some("A greeting for {name}.".into());
                template
            },
            |uri: String, vars: erlmcp_protocol::server::TemplateVars, _ctx| async move {
                let name = vars.get("name").cloned().unwrap_or_default();
                Ok(ReadResourceResult::new(vec![ResourceContents::text(uri, format!("Hello, {name}!"))]))
            },
        )
        .prompt(
            Prompt::new("greet")
                .with_description("Greets someone by name.")
                .with_argument(argument("name", "Who to greet", true)),
            |args: erlmcp_protocol::server::PromptArgs, _ctx| async move {
                let name = args.get("name").cloned().unwrap_or_default();
                Ok(GetPromptResult::new(vec![PromptMessage::new(
                    Role::User,
                    ContentBlock::text(format!("Please greet {name} warmly.")),
                )]))
            },
        )
        .prompt(
            Prompt::new("review_code")
                .with_description("Reviews a piece of code; embeds the demo readme for context.")
                .with_argument(argument("code", "The code to review", true))
                .with_argument(argument("language", "Programming language", false)),
            |args: erlmcp_protocol::server::PromptArgs, _ctx| async move {
                let code = args.get("code").cloned().unwrap_or_default();
                let language = args.get("language").cloned().unwrap_or_else(|| "text".into());
                let mut result = GetPromptResult::new(vec![
                    PromptMessage::new(
                        Role::User,
                        ContentBlock::text(format!("Review this {language} code:\n{code}")),
                    ),
                    PromptMessage::new(
                        Role::User,
                        ContentBlock::Resource(EmbeddedResource::new(ResourceContents::text(
                            "demo://readme",
                            "# erlmcp demo",
                        ))),
                    ),
                ]);
                result.description = Some("Code review prompt".into());
                Ok(result)
            },
        )
        .completion(|params: erlmcp_codec::schema::CompleteRequestParams, _ctx| async move {
            let prefix = params.argument.value.to_lowercase();
            let values: Vec<String> = match params.argument.name.as_str() {
                "name" => NAMES
                    .iter()
                    .filter(|n| n.to_lowercase().starts_with(&prefix))
                    .map(|n| (*n).to_owned())
                    .collect(),
                "language" => ["python", "rust", "typescript", "erlang"]
                    .iter()
                    .filter(|n| n.starts_with(&prefix))
                    .map(|n| (*n).to_owned())
                    .collect(),
                _ => Vec::new(),
            };
            Ok::<_, HandlerError>(CompleteResult::new(values))
        });
    let server = conformance_fixtures(server);
    let server = crate::demo_stateless::fixtures(server, server_slot.clone());
    let server = crate::demo_input_required::fixtures(server);
    let server = crate::demo_tasks::fixtures(server);
    let server = match sandbox {
        Some(sandbox) => server.filesystem(sandbox),
        None => server,
    };
    let server = server.build();
    match server {
        Ok(server) => {
            let _ = server_slot.set(server.clone());
            server
        }
        // The demo definition is fixed; a failure here is a bug caught by the tests.
        Err(err) => panic!("demo server definition is invalid: {err}"),
    }
}

/// The 1×1 red PNG of the conformance suite's reference server.
const TEST_IMAGE_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/// The minimal WAV file of the conformance suite's reference server.
const TEST_AUDIO_BASE64: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

fn no_arguments() -> JsonObject {
    schema(json!({"type": "object", "properties": {}}))
}

fn titled(mut resource: Resource, title: &str, description: &str) -> Resource {
    resource.title = Some(title.to_owned());
    resource.description = Some(description.to_owned());
    resource
}

async fn elicit_text(
    ctx: &erlmcp_protocol::RequestContext,
    params: Value,
    done: &str,
) -> Result<CallToolResult, HandlerError> {
    let params: ElicitRequestParams =
        serde_json::from_value(params).map_err(|e| HandlerError::internal(e.to_string()))?;
    Ok(match ctx.elicit(params).await {
        Ok(result) => CallToolResult::text(format!(
            "{done}: action={}, content={}",
            json!(result.action).as_str().unwrap_or_default(),
            json!(result.content.unwrap_or_default())
        )),
        Err(err) => CallToolResult::text(format!("Elicitation not supported or error: {err}")),
    })
}

/// The tools, resources and prompts the MCP conformance suite (server scenarios,
/// `@modelcontextprotocol/conformance` 0.1.16) calls by name, as its reference
/// "everything" server defines them.
pub fn conformance_fixtures(
    builder: erlmcp_protocol::ServerBuilder,
) -> erlmcp_protocol::ServerBuilder {
    use erlmcp_codec::schema::LoggingLevel::Info;
    let sleep = || tokio::time::sleep(Duration::from_millis(50));
    builder
        .tool(
            Tool::new("test_simple_text", no_arguments())
                .with_description("Tests simple text content response"),
            |_args: JsonObject, _ctx| async move {
                Ok(CallToolResult::text("This is a simple text response for testing."))
            },
        )
        .tool(
            Tool::new("test_image_content", no_arguments())
                .with_description("Tests image content response"),
            |_args: JsonObject, _ctx| async move {
                Ok(CallToolResult::success(vec![ContentBlock::image(TEST_IMAGE_BASE64, "image/png")]))
            },
        )
        .tool(
            Tool::new("test_audio_content", no_arguments())
                .with_description("Tests audio content response"),
            |_args: JsonObject, _ctx| async move {
                Ok(CallToolResult::success(vec![ContentBlock::audio(TEST_AUDIO_BASE64, "audio/wav")]))
            },
        )
        .tool(
            Tool::new("test_embedded_resource", no_arguments())
                .with_description("Tests embedded resource content response"),
            |_args: JsonObject, _ctx| async move {
                Ok(CallToolResult::success(vec![ContentBlock::resource(
                    ResourceContents::text("test://embedded-resource", "This is an embedded resource content.")
                        .with_mime_type("text/plain"),
                )]))
            },
        )
        .tool(
            Tool::new("test_multiple_content_types", no_arguments())
                .with_description("Tests response with multiple content types (text, image, resource)"),
            |_args: JsonObject, _ctx| async move {
                Ok(CallToolResult::success(vec![
                    ContentBlock::text("Multiple content types test:"),
                    ContentBlock::image(TEST_IMAGE_BASE64, "image/png"),
                    ContentBlock::resource(
                        ResourceContents::text("test://mixed-content-resource", r#"{"test":"data","value":123}"#)
                            .with_mime_type("application/json"),
                    ),
                ]))
            },
        )
        .tool(
            Tool::new("test_tool_with_logging", no_arguments())
                .with_description("Tests tool that emits log messages during execution"),
            move |_args: JsonObject, ctx| async move {
                ctx.log(Info, None, json!("Tool execution started")).await;
                sleep().await;
                ctx.log(Info, None, json!("Tool processing data")).await;
                sleep().await;
                ctx.log(Info, None, json!("Tool execution completed")).await;
                Ok(CallToolResult::text("Tool with logging executed successfully"))
            },
        )
        .tool(
            Tool::new("test_tool_with_progress", no_arguments())
                .with_description("Tests tool that reports progress notifications"),
            move |_args: JsonObject, ctx| async move {
                for step in [0.0, 50.0, 100.0] {
                    ctx.progress(step, Some(100.0), Some(&format!("Completed step {step} of 100"))).await;
                    if step < 100.0 {
                        sleep().await;
                    }
                }
                Ok(CallToolResult::text("Progress reported: 0, 50, 100 of 100"))
            },
        )
        .tool(
            Tool::new("test_error_handling", no_arguments())
                .with_description("Tests error response handling"),
            |_args: JsonObject, _ctx| async move {
                Ok(CallToolResult::error_text("This tool intentionally returns an error for testing"))
            },
        )
        .tool(
            Tool::new("test_reconnection", no_arguments()).with_description(
                "Tests SSE stream disconnection and client reconnection (SEP-1699): over HTTP the \
                 server closes this call's stream and sends the result after the client reconnects.",
            ),
            |_args: JsonObject, ctx| async move {
                let closed = erlmcp_transport::http::close_request_stream(ctx.request_id());
                tokio::time::sleep(Duration::from_millis(100)).await;
                tracing::debug!(closed, "test_reconnection done");
                Ok(CallToolResult::text(
                    "Reconnection test completed successfully. If you received this, the client \
                     properly reconnected after stream closure.",
                ))
            },
        )
        .tool(
            Tool::new("test_sampling", schema(json!({
                "type": "object",
                "properties": {"prompt": {"type": "string", "description": "The prompt to send to the LLM"}},
                "required": ["prompt"]
            })))
            .with_description("Tests server-initiated sampling (LLM completion request)"),
            |args: JsonObject, ctx| async move {
                let params = CreateMessageRequestParams::new(
                    vec![SamplingMessage::user_text(text_arg(&args, "prompt"))],
                    100,
                );
                Ok(match ctx.create_message(params).await {
                    Ok(answer) => {
                        let text = answer
                            .content
                            .blocks()
                            .iter()
                            .find_map(|b| b.as_text())
                            .unwrap_or("No response")
                            .to_owned();
                        CallToolResult::text(format!("LLM response: {text}"))
                    }
                    Err(err) => CallToolResult::text(format!("Sampling not supported or error: {err}")),
                })
            },
        )
        .tool(
            Tool::new("test_elicitation", schema(json!({
                "type": "object",
                "properties": {"message": {"type": "string", "description": "The message to show the user"}},
                "required": ["message"]
            })))
            .with_description("Tests server-initiated elicitation (user input request)"),
            |args: JsonObject, ctx| async move {
                let params = json!({
                    "message": text_arg(&args, "message"),
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "username": {"type": "string", "description": "User's response"},
                            "email": {"type": "string", "description": "User's email address"}
                        },
                        "required": ["username", "email"]
                    }
                });
                elicit_text(&ctx, params, "User response").await
            },
        )
        .tool(
            Tool::new("test_elicitation_sep1034_defaults", no_arguments())
                .with_description("Tests elicitation with default values per SEP-1034"),
            |_args: JsonObject, ctx| async move {
                let params = json!({
                    "message": "Please review and update the form fields with defaults",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "description": "User name", "default": "John Doe"},
                            "age": {"type": "integer", "description": "User age", "default": 30},
                            "score": {"type": "number", "description": "User score", "default": 95.5},
                            "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
                            "verified": {"type": "boolean", "description": "Verification status", "default": true}
                        },
                        "required": []
                    }
                });
                elicit_text(&ctx, params, "Elicitation completed").await
            },
        )
        .tool(
            Tool::new("test_elicitation_sep1330_enums", no_arguments())
                .with_description("Tests elicitation with enum schema improvements per SEP-1330"),
            |_args: JsonObject, ctx| async move {
                let params = json!({
                    "message": "Please select options from the enum fields",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "untitledSingle": {"type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"]},
                            "titledSingle": {"type": "string", "description": "Select one option with titles", "oneOf": [
                                {"const": "value1", "title": "First Option"},
                                {"const": "value2", "title": "Second Option"},
                                {"const": "value3", "title": "Third Option"}
                            ]},
                            "legacyEnum": {"type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
                            "untitledMulti": {"type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3, "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                            "titledMulti": {"type": "array", "description": "Select multiple options with titles", "minItems": 1, "maxItems": 3, "items": {"anyOf": [
                                {"const": "value1", "title": "First Choice"},
                                {"const": "value2", "title": "Second Choice"},
                                {"const": "value3", "title": "Third Choice"}
                            ]}}
                        },
                        "required": []
                    }
                });
                elicit_text(&ctx, params, "Elicitation completed").await
            },
        )
        .tool(
            Tool::new("json_schema_2020_12_tool", schema(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {
                    "address": {
                        "type": "object",
                        "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
                    }
                },
                "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                "additionalProperties": false
            })))
            .with_description("Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)"),
            |args: JsonObject, _ctx| async move {
                Ok(CallToolResult::text(format!(
                    "JSON Schema 2020-12 tool called with: {}",
                    Value::Object(args)
                )))
            },
        )
        // 2026-07-28 Streamable HTTP mirrors annotated arguments in `Mcp-Param-*` headers
        // (the http-custom-header-server-validation scenario looks for such a tool).
        .tool(
            Tool::new("test_header_routing", schema(json!({
                "type": "object",
                "properties": {
                    "region": {
                        "type": "string",
                        "description": "Where to run; mirrored as Mcp-Param-Region",
                        "x-mcp-header": "Region"
                    },
                    "priority": {
                        "type": "integer",
                        "description": "Mirrored as Mcp-Param-Priority",
                        "x-mcp-header": "Priority"
                    },
                    "query": {"type": "string"}
                },
                "required": ["region"]
            })))
            .with_description("Tool whose arguments are mirrored into HTTP headers (x-mcp-header)"),
            |args: JsonObject, _ctx| async move {
                Ok(CallToolResult::text(format!(
                    "routed to region {}",
                    text_arg(&args, "region")
                )))
            },
        )
        .resource(
            titled(
                Resource::new("test://static-text", "static-text").with_mime_type("text/plain"),
                "Static Text Resource",
                "A static text resource for testing",
            ),
            |uri: String, _vars, _ctx| async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri,
                    "This is the content of the static text resource.",
                )
                .with_mime_type("text/plain")]))
            },
        )
        .resource(
            titled(
                Resource::new("test://static-binary", "static-binary").with_mime_type("image/png"),
                "Static Binary Resource",
                "A static binary resource (image) for testing",
            ),
            |uri: String, _vars, _ctx| async move {
                Ok(ReadResourceResult::new(vec![
                    ResourceContents::blob(uri, TEST_IMAGE_BASE64).with_mime_type("image/png"),
                ]))
            },
        )
        .resource_template(
            {
                let mut template = ResourceTemplate::new("test://template/{id}/data", "template");
                template.title = Some("Resource Template".into());
                template.mime_type = Some("application/json".into());
                template.description = Some("A resource template with parameter substitution".into());
                template
            },
            |uri: String, vars: erlmcp_protocol::server::TemplateVars, _ctx| async move {
                let id = vars.get("id").cloned().unwrap_or_default();
                let text = json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
                Ok(ReadResourceResult::new(vec![
                    ResourceContents::text(uri, text.to_string()).with_mime_type("application/json"),
                ]))
            },
        )
        .resource(
            titled(
                Resource::new("test://watched-resource", "watched-resource").with_mime_type("text/plain"),
                "Watched Resource",
                "A resource clients can subscribe to",
            ),
            |uri: String, _vars, _ctx| async move {
                Ok(ReadResourceResult::new(vec![
                    ResourceContents::text(uri, "Watched resource content").with_mime_type("text/plain"),
                ]))
            },
        )
        .prompt(
            Prompt::new("test_simple_prompt").with_description("A simple prompt without arguments"),
            |_args: erlmcp_protocol::server::PromptArgs, _ctx| async move {
                Ok(GetPromptResult::new(vec![PromptMessage::user_text(
                    "This is a simple prompt for testing.",
                )]))
            },
        )
        .prompt(
            Prompt::new("test_prompt_with_arguments")
                .with_description("A prompt with required arguments")
                .with_argument(argument("arg1", "First test argument", true))
                .with_argument(argument("arg2", "Second test argument", true)),
            |args: erlmcp_protocol::server::PromptArgs, _ctx| async move {
                let arg = |name: &str| args.get(name).cloned().unwrap_or_default();
                Ok(GetPromptResult::new(vec![PromptMessage::user_text(format!(
                    "Prompt with arguments: arg1='{}', arg2='{}'",
                    arg("arg1"),
                    arg("arg2")
                ))]))
            },
        )
        .prompt(
            Prompt::new("test_prompt_with_embedded_resource")
                .with_description("A prompt that includes an embedded resource")
                .with_argument(argument("resourceUri", "URI of the resource to embed", true)),
            |args: erlmcp_protocol::server::PromptArgs, _ctx| async move {
                let uri = args.get("resourceUri").cloned().unwrap_or_default();
                Ok(GetPromptResult::new(vec![
                    PromptMessage::new(
                        Role::User,
                        ContentBlock::Resource(EmbeddedResource::new(
                            ResourceContents::text(uri, "Embedded resource content for testing.")
                                .with_mime_type("text/plain"),
                        )),
                    ),
                    PromptMessage::user_text("Please process the embedded resource above."),
                ]))
            },
        )
        .prompt(
            Prompt::new("test_prompt_with_image").with_description("A prompt that includes image content"),
            |_args: erlmcp_protocol::server::PromptArgs, _ctx| async move {
                Ok(GetPromptResult::new(vec![
                    PromptMessage::new(Role::User, ContentBlock::image(TEST_IMAGE_BASE64, "image/png")),
                    PromptMessage::user_text("Please analyze the image above."),
                ]))
            },
        )
}
