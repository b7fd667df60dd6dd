//! Demo-server fixtures for the multi-round-trip (input-required) scenarios of the
//! conformance suite's 2026-07-28 server set (`input-required-result-*`,
//! `@modelcontextprotocol/conformance` 0.2.0-alpha): tools and a prompt that ask the
//! client for input under the keys the suite expects.
//!
//! | fixture                                       | asks (key → method)                          |
//! |-----------------------------------------------|----------------------------------------------|
//! | tool `test_input_required_result_elicitation` | `user_name` → elicitation; answers "Hello, <name>!" |
//! | tool `test_input_required_result_sampling`    | `capital_question` → sampling; answers the model's text |
//! | tool `test_input_required_result_list_roots`  | `client_roots` → roots; answers the roots' URIs |
//! | tool `test_input_required_result_request_state` | `confirm` → elicitation; answers "state-ok" only on a verified `requestState` |
//! | tool `test_input_required_result_multiple_inputs` | `user_name`, `greeting`, `client_roots` in one round |
//! | tool `test_input_required_result_multi_round` | `step1`, then `step2` in the next round       |
//! | tool `test_input_required_result_tampered_state` | `approval` → elicitation (the suite then tampers with the state) |
//! | tool `test_input_required_result_capabilities` | only what the request declared: `confirmation`, `summary`, `workspace_roots` |
//! | prompt `test_input_required_result_prompt`    | `user_context` → elicitation; a prompt using it |
//!
//! In the handshake era the same fixtures send ordinary requests to the client (the keys
//! only matter statelessly).

use erlmcp_codec::schema::{
    CallToolResult, CreateMessageRequestParams, CreateMessageResult, ElicitAction,
    ElicitRequestParams, ElicitResult, ElicitValue, GetPromptResult, JsonObject, ListRootsResult,
    Prompt, PromptMessage, SamplingMessage, Tool,
};
use erlmcp_protocol::server::PromptArgs;
use erlmcp_protocol::{HandlerError, RequestContext, ServerBuilder};
use serde_json::{Value, json};

fn no_arguments() -> JsonObject {
    match json!({"type": "object", "properties": {}}) {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// An elicitation form with one required field of `kind` (`string`, `boolean`).
pub(crate) fn form(
    message: &str,
    field: &str,
    kind: &str,
) -> Result<ElicitRequestParams, HandlerError> {
    serde_json::from_value(json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": { field: { "type": kind } },
            "required": [field],
        },
    }))
    .map_err(|e| HandlerError::internal(e.to_string()))
}

fn question(text: &str, max_tokens: u64) -> CreateMessageRequestParams {
    CreateMessageRequestParams::new(vec![SamplingMessage::user_text(text)], max_tokens)
}

/// The accepted value of `field`, as text; `None` when the user did not accept.
fn field(answer: &ElicitResult, field: &str) -> Option<String> {
    if answer.action != ElicitAction::Accept {
        return None;
    }
    Some(match answer.content.as_ref()?.get(field)? {
        ElicitValue::String(s) => s.clone(),
        other => json!(other).to_string(),
    })
}

fn model_text(answer: &CreateMessageResult) -> String {
    answer
        .content
        .blocks()
        .iter()
        .find_map(|b| b.as_text())
        .unwrap_or_default()
        .to_owned()
}

fn root_list(answer: &ListRootsResult) -> String {
    answer
        .roots
        .iter()
        .map(|r| match &r.name {
            Some(name) => format!("{} ({name})", r.uri),
            None => r.uri.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn ask_name(ctx: &RequestContext, key: &str) -> Result<ElicitResult, HandlerError> {
    let params = form("What is your name?", "name", "string")?;
    Ok(ctx.elicit_as(key, params).await?)
}

/// Adds the fixtures to `builder`.
pub(crate) fn fixtures(builder: ServerBuilder) -> ServerBuilder {
    builder
        .tool(
            Tool::new("test_input_required_result_elicitation", no_arguments())
                .with_description("Asks the user's name (input key `user_name`), then greets"),
            |_args: JsonObject, ctx| async move {
                let answer = ask_name(&ctx, "user_name").await?;
                Ok(match field(&answer, "name") {
                    Some(name) => CallToolResult::text(format!("Hello, {name}!")),
                    None => CallToolResult::text("Hello, whoever you are!"),
                })
            },
        )
        .tool(
            Tool::new("test_input_required_result_sampling", no_arguments()).with_description(
                "Asks the client's model a question (input key `capital_question`)",
            ),
            |_args: JsonObject, ctx| async move {
                let answer = ctx
                    .create_message_as(
                        "capital_question",
                        question("What is the capital of France?", 100),
                    )
                    .await?;
                Ok(CallToolResult::text(model_text(&answer)))
            },
        )
        .tool(
            Tool::new("test_input_required_result_list_roots", no_arguments())
                .with_description("Asks for the client's roots (input key `client_roots`)"),
            |_args: JsonObject, ctx| async move {
                let roots = ctx.list_roots_as("client_roots").await?;
                Ok(CallToolResult::text(format!(
                    "{} client root(s): {}",
                    roots.roots.len(),
                    root_list(&roots)
                )))
            },
        )
        .tool(
            Tool::new("test_input_required_result_request_state", no_arguments()).with_description(
                "Asks for a confirmation (input key `confirm`); says state-ok when the \
                     retry carried the sealed requestState",
            ),
            |_args: JsonObject, ctx| async move {
                let params = form("Please confirm", "ok", "boolean")?;
                let answer = ctx.elicit_as("confirm", params).await?;
                let ok = field(&answer, "ok").unwrap_or_else(|| "not given".into());
                Ok(if ctx.resumed_from_state() {
                    CallToolResult::text(format!("state-ok: requestState verified, ok={ok}"))
                } else {
                    CallToolResult::text(format!("answered without a requestState, ok={ok}"))
                })
            },
        )
        .tool(
            Tool::new("test_input_required_result_multiple_inputs", no_arguments())
                .with_description(
                    "Asks for a name, a greeting and the roots in one round \
                     (`user_name`, `greeting`, `client_roots`)",
                ),
            |_args: JsonObject, ctx| async move {
                // All three asks before the first `?`: one round carries them all.
                let name = ask_name(&ctx, "user_name").await;
                let greeting = ctx
                    .create_message_as("greeting", question("Generate a greeting", 50))
                    .await;
                let roots = ctx.list_roots_as("client_roots").await;
                let (name, greeting, roots) = (name?, greeting?, roots?);
                Ok(CallToolResult::text(format!(
                    "{} {} (roots: {})",
                    model_text(&greeting),
                    field(&name, "name").unwrap_or_default(),
                    root_list(&roots)
                )))
            },
        )
        .tool(
            Tool::new("test_input_required_result_multi_round", no_arguments())
                .with_description("Asks `step1` (a name), then `step2` (a colour) a round later"),
            |_args: JsonObject, ctx| async move {
                let name = ctx
                    .elicit_as(
                        "step1",
                        form("Step 1: What is your name?", "name", "string")?,
                    )
                    .await?;
                let colour = ctx
                    .elicit_as(
                        "step2",
                        form("Step 2: What is your favorite color?", "color", "string")?,
                    )
                    .await?;
                Ok(CallToolResult::text(format!(
                    "{} likes {}",
                    field(&name, "name").unwrap_or_default(),
                    field(&colour, "color").unwrap_or_default()
                )))
            },
        )
        .tool(
            Tool::new("test_input_required_result_tampered_state", no_arguments())
                .with_description("Asks for an approval (input key `approval`)"),
            |_args: JsonObject, ctx| async move {
                let params = form("Approve?", "ok", "boolean")?;
                let answer = ctx.elicit_as("approval", params).await?;
                Ok(CallToolResult::text(format!(
                    "approval: {}",
                    field(&answer, "ok").unwrap_or_else(|| "not given".into())
                )))
            },
        )
        .tool(
            Tool::new("test_input_required_result_capabilities", no_arguments()).with_description(
                "Asks only for what the request declared: elicitation, sampling, roots",
            ),
            |_args: JsonObject, ctx| async move {
                let caps = ctx.client_capabilities().unwrap_or_default();
                let mut said = Vec::new();
                let mut pending = Ok(());
                if caps.elicitation.is_some() {
                    match ctx
                        .elicit_as("confirmation", form("Proceed?", "ok", "boolean")?)
                        .await
                    {
                        Ok(answer) => said.push(format!("confirmation={:?}", answer.action)),
                        Err(e) => pending = Err(e),
                    }
                }
                if caps.sampling.is_some() {
                    match ctx
                        .create_message_as("summary", question("Summarise the request", 50))
                        .await
                    {
                        Ok(answer) => said.push(format!("summary={}", model_text(&answer))),
                        Err(e) => pending = Err(e),
                    }
                }
                if caps.roots.is_some() {
                    match ctx.list_roots_as("workspace_roots").await {
                        Ok(roots) => said.push(format!("roots={}", root_list(&roots))),
                        Err(e) => pending = Err(e),
                    }
                }
                pending?;
                Ok(CallToolResult::text(if said.is_empty() {
                    "the request declared none of elicitation, sampling, roots".to_owned()
                } else {
                    said.join("; ")
                }))
            },
        )
        .prompt(
            Prompt::new("test_input_required_result_prompt").with_description(
                "Asks what context to use (input key `user_context`), then builds the prompt",
            ),
            |_args: PromptArgs, ctx| async move {
                let params = form("What context should the prompt use?", "context", "string")?;
                let answer = ctx.elicit_as("user_context", params).await?;
                let context = field(&answer, "context").unwrap_or_else(|| "none".into());
                Ok(GetPromptResult::new(vec![PromptMessage::user_text(
                    format!("Answer with this context in mind: {context}"),
                )]))
            },
        )
}
