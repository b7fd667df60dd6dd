//! The stateless era (MCP 2026-07-28) end to end over an in-memory transport: the
//! wire (raw peer) for `server/discover`, every error code, `resultType`, caching
//! hints, input-required round trips with a sealed `requestState`, per-request log
//! level and `subscriptions/listen`; the per-request entry point HTTP uses
//! (`Server::handle_modern`); and the client's legacy, modern and auto modes. Every
//! modern result is validated against the official 2026-07-28 schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{RawPeer, code, object_schema, validate_2026};
use erlmcp_codec::schema::{
    CallToolResult, ContentBlock, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, GetPromptResult, JsonObject, LoggingLevel, Prompt,
    PromptMessage, ReadResourceResult, Resource, ResourceContents, Root, SamplingMessage, Tool,
};
use erlmcp_codec::{Frame, Request, RequestId};
use erlmcp_protocol::server::{PromptArgs, TemplateVars};
use erlmcp_protocol::{
    ClaimedHeaders, ClientBuilder, ClientMode, HandlerError, Server, SessionConfig,
};
use erlmcp_transport::{FrameReader, FrameWriter, Transport, memory_pair};
use serde_json::{Value, json};

const V: &str = "2026-07-28";

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "modern-test", "version": "1"},
    })
}

fn meta_with(caps: Value, log_level: Option<&str>) -> Value {
    let mut m = meta();
    m["io.modelcontextprotocol/clientCapabilities"] = caps;
    if let Some(level) = log_level {
        m["io.modelcontextprotocol/logLevel"] = json!(level);
    }
    m
}

fn server() -> Server {
    Server::builder("modern-test", "2.0.0")
        .instructions("a test server")
        .tool(
            Tool::new(
                "echo",
                object_schema(json!({"text": {"type": "string"}}), &["text"]),
            ),
            |args: JsonObject, _ctx| async move {
                Ok(CallToolResult::text(
                    args["text"].as_str().unwrap_or_default(),
                ))
            },
        )
        .tool(
            Tool::new("ask", object_schema(json!({}), &[])),
            |_args: JsonObject, ctx| async move {
                let params: ElicitRequestParams = serde_json::from_value(json!({
                    "mode": "form",
                    "message": "colour?",
                    "requestedSchema": {"type": "object", "properties": {"c": {"type": "string"}}},
                }))
                .map_err(|e| HandlerError::internal(e.to_string()))?;
                // Two rounds: elicitation first, then sampling with what the user said.
                let colour = ctx.elicit(params).await?;
                let said = colour.content.map(|c| json!(c)).unwrap_or_default();
                let answer = ctx
                    .create_message(CreateMessageRequestParams::new(
                        vec![SamplingMessage::user_text(format!("describe {said}"))],
                        16,
                    ))
                    .await?;
                let text = answer
                    .content
                    .blocks()
                    .iter()
                    .find_map(|b| b.as_text())
                    .unwrap_or_default()
                    .to_owned();
                Ok(CallToolResult::text(format!("{said} / {text}")))
            },
        )
        .tool(
            Tool::new("roots", object_schema(json!({}), &[])),
            |_args: JsonObject, ctx| async move {
                let roots = ctx.list_roots().await?;
                Ok(CallToolResult::text(
                    roots
                        .roots
                        .iter()
                        .map(|r| r.uri.clone())
                        .collect::<Vec<_>>()
                        .join(","),
                ))
            },
        )
        .tool(
            Tool::new("log", object_schema(json!({}), &[])),
            |_args: JsonObject, ctx| async move {
                ctx.log(LoggingLevel::Info, Some("t"), json!("info line"))
                    .await;
                ctx.log(LoggingLevel::Debug, Some("t"), json!("debug line"))
                    .await;
                ctx.progress(1.0, Some(2.0), None).await;
                Ok(CallToolResult::text("logged"))
            },
        )
        .resource(
            Resource::new("mem://a", "a"),
            |uri: String, _vars: TemplateVars, _ctx| async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri, "A",
                )]))
            },
        )
        .prompt(Prompt::new("hello"), |_args: PromptArgs, _ctx| async move {
            Ok(GetPromptResult::new(vec![PromptMessage::user_text(
                "hello",
            )]))
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn discover_and_every_feature_answer_with_2026_shapes() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    let (answer, _) = peer
        .request(json!("d"), "server/discover", json!({"_meta": meta()}))
        .await;
    validate_2026("DiscoverResultResponse", &answer);
    let result = &answer["result"];
    assert_eq!(result["supportedVersions"], json!([V]));
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["instructions"], "a test server");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "modern-test"
    );
    assert!(result["capabilities"]["tools"].is_object());
    assert!(result["capabilities"].get("tasks").is_none());

    let (answer, _) = peer
        .request(json!(1), "tools/list", json!({"_meta": meta()}))
        .await;
    validate_2026("ListToolsResultResponse", &answer);
    assert_eq!(answer["result"]["ttlMs"], 0);
    assert_eq!(answer["result"]["cacheScope"], "public");
    let (answer, _) = peer
        .request(
            json!(2),
            "tools/call",
            json!({"_meta": meta(), "name": "echo", "arguments": {"text": "hi"}}),
        )
        .await;
    validate_2026("CallToolResultResponse", &answer);
    assert_eq!(answer["result"]["content"][0]["text"], "hi");
    let (answer, _) = peer
        .request(
            json!(3),
            "resources/read",
            json!({"_meta": meta(), "uri": "mem://a"}),
        )
        .await;
    validate_2026("ReadResourceResultResponse", &answer);
    assert_eq!(answer["result"]["cacheScope"], "private");
    let (answer, _) = peer
        .request(json!(4), "resources/list", json!({"_meta": meta()}))
        .await;
    validate_2026("ListResourcesResultResponse", &answer);
    let (answer, _) = peer
        .request(
            json!(5),
            "prompts/get",
            json!({"_meta": meta(), "name": "hello"}),
        )
        .await;
    validate_2026("GetPromptResultResponse", &answer);
    let (answer, _) = peer
        .request(json!(6), "prompts/list", json!({"_meta": meta()}))
        .await;
    validate_2026("ListPromptsResultResponse", &answer);
    assert_eq!(server.sessions()[0].phase, "stateless");
    assert_eq!(server.sessions()[0].protocol_version, Some(V));

    // Handshake-era task augmentation (`params.task`) does not exist here: the call runs inline.
    let (answer, _) = peer
        .request(
            json!(7),
            "tools/call",
            json!({"_meta": meta(), "name": "echo", "arguments": {"text": "t"}, "task": {"ttl": 1000}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "t", "{answer}");
    assert_eq!(server.sessions()[0].tasks, 0);
}

#[tokio::test]
async fn each_error_code_of_the_stateless_era() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    // Missing required _meta key → -32602 (and the connection stays usable).
    let (a, _) = peer
        .request(
            json!(1),
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": V}}),
        )
        .await;
    assert_eq!(code(&a), -32602, "{a}");
    // Unsupported version → -32022 with data.supported and data.requested.
    let mut old = meta();
    old["io.modelcontextprotocol/protocolVersion"] = json!("1900-01-01");
    let (a, _) = peer
        .request(json!(2), "tools/list", json!({"_meta": old}))
        .await;
    assert_eq!(code(&a), -32022, "{a}");
    assert_eq!(
        a["error"]["data"],
        json!({"supported": [V], "requested": "1900-01-01"})
    );
    validate_2026("UnsupportedProtocolVersionError", &a);
    // initialize on a stateless connection → -32022.
    let (a, _) = peer
        .request(json!(3), "initialize", json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}))
        .await;
    assert_eq!(code(&a), -32022, "{a}");
    // Handshake-era methods do not exist here.
    for (id, method) in [
        (4, "logging/setLevel"),
        (5, "resources/subscribe"),
        (6, "ping"),
    ] {
        let (a, _) = peer
            .request(
                json!(id),
                method,
                json!({"_meta": meta(), "level": "info", "uri": "mem://a"}),
            )
            .await;
        assert_eq!(code(&a), -32601, "{method}: {a}");
    }
    // Resource not found → -32602 in 2026-07-28.
    let (a, _) = peer
        .request(
            json!(7),
            "resources/read",
            json!({"_meta": meta(), "uri": "mem://nope"}),
        )
        .await;
    assert_eq!(code(&a), -32602, "{a}");
    // A tool that needs elicitation, asked without the capability → -32021.
    let (a, _) = peer
        .request(
            json!(8),
            "tools/call",
            json!({"_meta": meta(), "name": "ask"}),
        )
        .await;
    assert_eq!(code(&a), -32021, "{a}");
    assert_eq!(
        a["error"]["data"]["requiredCapabilities"],
        json!({"elicitation": {}})
    );
    validate_2026("MissingRequiredClientCapabilityError", &a);

    // Header mismatch (-32020) through the per-request entry point HTTP uses.
    let (output, _notes) = server.modern_output();
    let request = Request {
        id: RequestId::Number(9),
        method: "tools/call".into(),
        params: Some(json!({"_meta": meta(), "name": "echo", "arguments": {"text": "x"}})),
    };
    for claimed in [
        ClaimedHeaders {
            protocol_version: Some("2025-11-25".into()),
            ..Default::default()
        },
        ClaimedHeaders {
            method: Some("tools/list".into()),
            ..Default::default()
        },
        ClaimedHeaders {
            name: Some("other".into()),
            ..Default::default()
        },
    ] {
        let err = server
            .handle_modern(request.clone(), claimed, &output)
            .await
            .unwrap_err();
        assert_eq!(err.code.code(), -32020, "{err:?}");
    }
    let matching = ClaimedHeaders {
        protocol_version: Some(V.into()),
        method: Some("tools/call".into()),
        name: Some("echo".into()),
    };
    let ok = server
        .handle_modern(request, matching, &output)
        .await
        .expect("matching headers");
    assert_eq!(ok["content"][0]["text"], "x");
}

#[tokio::test]
async fn input_required_round_trips_and_forged_state_is_refused() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    let caps = json!({"elicitation": {"form": {}}, "sampling": {}});
    let params = json!({"_meta": meta_with(caps.clone(), None), "name": "ask", "arguments": {}});
    let (a, _) = peer.request(json!(1), "tools/call", params.clone()).await;
    let round1 = a["result"].clone();
    validate_2026("InputRequiredResult", &round1);
    assert_eq!(round1["resultType"], "input_required");
    let elicit = &round1["inputRequests"]["elicitation-1"];
    assert_eq!(elicit["method"], "elicitation/create");
    let state1 = round1["requestState"].as_str().unwrap().to_owned();

    // Round 2: answer the elicitation; the handler goes on and asks for sampling.
    let mut retry = params.clone();
    retry["inputResponses"] =
        json!({"elicitation-1": {"action": "accept", "content": {"c": "red"}}});
    retry["requestState"] = json!(state1);
    let (a, _) = peer.request(json!(2), "tools/call", retry.clone()).await;
    let round2 = a["result"].clone();
    assert_eq!(round2["resultType"], "input_required", "{a}");
    assert!(
        round2["inputRequests"]["sampling-2"].is_object(),
        "{round2}"
    );
    let state2 = round2["requestState"].as_str().unwrap().to_owned();

    // Round 3: only the sampling answer; the elicitation answer comes from the state.
    let mut retry3 = params.clone();
    retry3["inputResponses"] = json!({"sampling-2": {"role": "assistant", "content": {"type": "text", "text": "warm"}, "model": "m"}});
    retry3["requestState"] = json!(state2);
    let (a, _) = peer.request(json!(3), "tools/call", retry3).await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    assert_eq!(a["result"]["content"][0]["text"], r#"{"c":"red"} / warm"#);

    // A forged state (valid shape, wrong MAC) and a state reused for other params are refused.
    let (body, _) = state1.split_once('.').unwrap();
    let mut forged = retry.clone();
    forged["requestState"] = json!(format!("{body}.AAAA"));
    let (a, _) = peer.request(json!(4), "tools/call", forged).await;
    assert_eq!(code(&a), -32602, "{a}");
    assert_eq!(a["error"]["message"], "invalid requestState");
    let mut moved = retry.clone();
    moved["arguments"] = json!({"other": true});
    let (a, _) = peer.request(json!(5), "tools/call", moved).await;
    assert_eq!(code(&a), -32602, "{a}");
    let mut junk = retry;
    junk["requestState"] = json!("not-a-state");
    let (a, _) = peer.request(json!(6), "tools/call", junk).await;
    assert_eq!(code(&a), -32602, "{a}");
}

/// A form asking for one string field.
fn form(message: &str, field: &str) -> ElicitRequestParams {
    serde_json::from_value(json!({
        "message": message,
        "requestedSchema": {"type": "object", "properties": {field: {"type": "string"}}, "required": [field]},
    }))
    .unwrap()
}

fn accepted(answer: &ElicitResult, field: &str) -> String {
    answer
        .content
        .as_ref()
        .and_then(|c| c.get(field))
        .map(|v| json!(v).as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// Handlers that name their asks: two rounds (`step1`, `step2`), three asks in one round,
/// a key used twice, a prompt that asks, and a completion handler that tries to.
fn named_input_server() -> Server {
    Server::builder("named-input", "1.0.0")
        .tool(
            Tool::new("steps", object_schema(json!({}), &[])),
            |_args: JsonObject, ctx| async move {
                let name = ctx.elicit_as("step1", form("name?", "name")).await?;
                let colour = ctx.elicit_as("step2", form("colour?", "color")).await?;
                Ok(CallToolResult::text(format!(
                    "{} likes {}",
                    accepted(&name, "name"),
                    accepted(&colour, "color")
                )))
            },
        )
        .tool(
            Tool::new("many", object_schema(json!({}), &[])),
            |_args: JsonObject, ctx| async move {
                let name = ctx.elicit_as("user_name", form("name?", "name")).await;
                let greeting = ctx
                    .create_message_as(
                        "greeting",
                        CreateMessageRequestParams::new(vec![SamplingMessage::user_text("hi")], 8),
                    )
                    .await;
                let roots = ctx.list_roots_as("client_roots").await;
                let (name, greeting, roots) = (name?, greeting?, roots?);
                let said = greeting
                    .content
                    .blocks()
                    .iter()
                    .find_map(|b| b.as_text())
                    .unwrap_or_default()
                    .to_owned();
                Ok(CallToolResult::text(format!(
                    "{said} {} ({} roots)",
                    accepted(&name, "name"),
                    roots.roots.len()
                )))
            },
        )
        .tool(
            Tool::new("twice", object_schema(json!({}), &[])),
            |_args: JsonObject, ctx| async move {
                ctx.elicit_as("k", form("first?", "a")).await?;
                Ok(match ctx.elicit_as("k", form("second?", "a")).await {
                    Ok(_) => CallToolResult::text("second ask answered"),
                    Err(e) => CallToolResult::error_text(e.to_string()),
                })
            },
        )
        .prompt(
            Prompt::new("contextual"),
            |_args: PromptArgs, ctx| async move {
                let answer = ctx
                    .elicit_as("user_context", form("context?", "context"))
                    .await?;
                Ok(GetPromptResult::new(vec![PromptMessage::user_text(
                    format!("with {}", accepted(&answer, "context")),
                )]))
            },
        )
        .completion(|_params, ctx| async move {
            let refusal = match ctx.elicit_as("nope", form("?", "x")).await {
                Ok(_) => "asked".to_owned(),
                Err(e) => e.to_string(),
            };
            Ok(erlmcp_codec::schema::CompleteResult::new(vec![refusal]))
        })
        .build()
        .unwrap()
}

fn all_caps() -> Value {
    json!({"elicitation": {"form": {}}, "sampling": {}, "roots": {}})
}

fn accept(field: &str, value: &str) -> Value {
    json!({"action": "accept", "content": {field: value}})
}

#[tokio::test]
async fn named_keys_carry_multi_round_and_multi_ask_rounds() {
    let server = named_input_server();
    let mut peer = RawPeer::start(&server);
    let params = json!({"_meta": meta_with(all_caps(), None), "name": "steps", "arguments": {}});

    // Round 1 asks step1 only (the handler stops at the first unanswered ask).
    let (a, _) = peer.request(json!(1), "tools/call", params.clone()).await;
    let r1 = a["result"].clone();
    validate_2026("InputRequiredResult", &r1);
    let keys: Vec<&String> = r1["inputRequests"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["step1"], "{r1}");
    assert_eq!(r1["inputRequests"]["step1"]["method"], "elicitation/create");
    assert_eq!(r1["inputRequests"]["step1"]["params"]["message"], "name?");
    let s1 = r1["requestState"].as_str().unwrap().to_owned();

    // Round 2: step1 answered; a new round asks step2 under a new state.
    let mut retry = params.clone();
    retry["inputResponses"] = json!({"step1": accept("name", "Ada")});
    retry["requestState"] = json!(s1);
    let (a, _) = peer.request(json!(2), "tools/call", retry).await;
    let r2 = a["result"].clone();
    validate_2026("InputRequiredResult", &r2);
    let keys: Vec<&String> = r2["inputRequests"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["step2"], "{r2}");
    let s2 = r2["requestState"].as_str().unwrap().to_owned();
    assert_ne!(s1, s2);

    // Round 3: step2 answered; a rewritten step1 next to the state is ignored (the
    // sealed answer stands).
    let mut retry = params.clone();
    retry["inputResponses"] =
        json!({"step2": accept("color", "blue"), "step1": accept("name", "Eve")});
    retry["requestState"] = json!(s2);
    let (a, _) = peer.request(json!(3), "tools/call", retry).await;
    validate_2026("CallToolResult", &a["result"]);
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    assert_eq!(a["result"]["content"][0]["text"], "Ada likes blue");

    // Three asks in one round, each under its name and method; one retry answers all.
    let params = json!({"_meta": meta_with(all_caps(), None), "name": "many", "arguments": {}});
    let (a, _) = peer.request(json!(4), "tools/call", params.clone()).await;
    let r1 = a["result"].clone();
    validate_2026("InputRequiredResult", &r1);
    let asked: Vec<(String, String)> = r1["inputRequests"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["method"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        asked,
        [
            ("client_roots".to_owned(), "roots/list".to_owned()),
            ("greeting".to_owned(), "sampling/createMessage".to_owned()),
            ("user_name".to_owned(), "elicitation/create".to_owned()),
        ]
    );
    let mut retry = params.clone();
    retry["inputResponses"] = json!({
        "user_name": accept("name", "Ada"),
        "greeting": {"role": "assistant", "content": {"type": "text", "text": "Hello"}, "model": "m"},
        "client_roots": {"roots": [{"uri": "file:///w", "name": "w"}]},
    });
    retry["requestState"] = r1["requestState"].clone();
    let (a, _) = peer.request(json!(5), "tools/call", retry).await;
    assert_eq!(
        a["result"]["content"][0]["text"], "Hello Ada (1 roots)",
        "{a}"
    );

    // A prompt asks too: prompts/get ends input-required, then completes.
    let params = json!({"_meta": meta_with(all_caps(), None), "name": "contextual"});
    let (a, _) = peer.request(json!(6), "prompts/get", params.clone()).await;
    assert_eq!(a["result"]["resultType"], "input_required", "{a}");
    assert!(a["result"]["inputRequests"]["user_context"].is_object());
    let mut retry = params;
    retry["inputResponses"] = json!({"user_context": accept("context", "tests")});
    retry["requestState"] = a["result"]["requestState"].clone();
    let (a, _) = peer.request(json!(7), "prompts/get", retry).await;
    validate_2026("GetPromptResult", &a["result"]);
    assert_eq!(a["result"]["messages"][0]["content"]["text"], "with tests");
}

#[tokio::test]
async fn answers_without_state_malformed_answers_duplicate_keys_and_methods_that_cannot_ask() {
    let server = named_input_server();
    let mut peer = RawPeer::start(&server);
    let call = |tool: &str, responses: Value| {
        json!({
            "_meta": meta_with(all_caps(), None),
            "name": tool,
            "arguments": {},
            "inputResponses": responses,
        })
    };

    // No state: the answers are taken as given; keys nobody asks are ignored.
    let responses = json!({
        "step1": accept("name", "Ada"),
        "step2": accept("color", "red"),
        "unknown_extra_key": {"action": "accept", "content": {"x": "y"}},
    });
    let (a, _) = peer
        .request(json!(1), "tools/call", call("steps", responses))
        .await;
    assert_eq!(a["result"]["content"][0]["text"], "Ada likes red", "{a}");
    // Only some answers, or wrong keys: the rest is asked for again.
    let (a, _) = peer
        .request(
            json!(2),
            "tools/call",
            call("steps", json!({"wrong": accept("x", "y")})),
        )
        .await;
    assert_eq!(a["result"]["resultType"], "input_required", "{a}");
    assert!(a["result"]["inputRequests"]["step1"].is_object());

    // Malformed inputResponses: -32602, naming the key where there is one.
    let (a, _) = peer
        .request(json!(3), "tools/call", call("steps", Value::Null))
        .await;
    assert_eq!(code(&a), -32602, "{a}");
    let (a, _) = peer
        .request(
            json!(4),
            "tools/call",
            call("steps", json!({"step1": 12345})),
        )
        .await;
    assert_eq!(code(&a), -32602, "{a}");
    assert_eq!(a["error"]["data"]["inputResponse"], "step1");
    // An object that is not an ElicitResult: refused whatever the handler made of it.
    let (a, _) = peer
        .request(
            json!(5),
            "tools/call",
            call("steps", json!({"step1": {"action": "maybe"}})),
        )
        .await;
    assert_eq!(code(&a), -32602, "{a}");
    assert_eq!(a["error"]["data"]["inputResponse"], "step1");

    // One key, two asks: the second fails (it would otherwise meet the first's answer).
    let (a, _) = peer
        .request(
            json!(6),
            "tools/call",
            call("twice", json!({"k": accept("a", "1")})),
        )
        .await;
    assert_eq!(a["result"]["isError"], true, "{a}");
    let text = a["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("`k` is already used"), "{text}");

    // completion/complete may not end input-required: the handler's ask is refused.
    let params = json!({
        "_meta": meta_with(all_caps(), None),
        "ref": {"type": "ref/prompt", "name": "contextual"},
        "argument": {"name": "a", "value": ""},
    });
    let (a, _) = peer.request(json!(7), "completion/complete", params).await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    let refusal = a["result"]["completion"]["values"][0].as_str().unwrap();
    assert!(refusal.contains("cannot ask the client"), "{refusal}");
}

#[tokio::test]
async fn logs_only_when_asked_at_the_level_asked_and_progress_flows() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    let (a, notes) = peer
        .request(
            json!(1),
            "tools/call",
            json!({"_meta": meta(), "name": "log"}),
        )
        .await;
    assert_eq!(a["result"]["content"][0]["text"], "logged");
    assert!(
        notes.iter().all(|n| n["method"] != "notifications/message"),
        "{notes:?}"
    );

    let (_, notes) = peer
        .request(
            json!(2),
            "tools/call",
            json!({"_meta": meta_with(json!({}), Some("info")), "name": "log"}),
        )
        .await;
    let logs: Vec<&Value> = notes
        .iter()
        .filter(|n| n["method"] == "notifications/message")
        .collect();
    assert_eq!(logs.len(), 1, "{notes:?}");
    assert_eq!(logs[0]["params"]["data"], "info line");

    let mut with_progress = meta_with(json!({}), Some("debug"));
    with_progress["progressToken"] = json!("p1");
    let (_, notes) = peer
        .request(
            json!(3),
            "tools/call",
            json!({"_meta": with_progress, "name": "log"}),
        )
        .await;
    assert_eq!(
        notes
            .iter()
            .filter(|n| n["method"] == "notifications/message")
            .count(),
        2
    );
    let progress: Vec<&Value> = notes
        .iter()
        .filter(|n| n["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 1);
    assert_eq!(progress[0]["params"]["progressToken"], "p1");
}

#[tokio::test]
async fn subscriptions_listen_acknowledges_streams_and_ends_on_cancel() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    peer.send(json!({"jsonrpc": "2.0", "id": "listen-1", "method": "subscriptions/listen", "params": {
        "_meta": meta(),
        "notifications": {"toolsListChanged": true, "promptsListChanged": false, "resourceSubscriptions": ["mem://a", "mem://unknown"]},
    }}))
    .await;
    let ack = peer.recv().await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    validate_2026("SubscriptionsAcknowledgedNotification", &ack);
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "listen-1"
    );
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["mem://a"]})
    );
    // The listener is registered right after the acknowledgement goes out.
    for _ in 0..100 {
        if server.listener_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.listener_count(), 1);

    server
        .add_tool(
            Tool::new("late", object_schema(json!({}), &[])),
            |_a: JsonObject, _c| async move { Ok(CallToolResult::text("late")) },
        )
        .unwrap();
    let changed = peer.recv().await;
    assert_eq!(changed["method"], "notifications/tools/list_changed");
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "listen-1"
    );
    assert_eq!(server.notify_resource_updated("mem://a"), 1);
    let updated = peer.recv().await;
    assert_eq!(updated["method"], "notifications/resources/updated");
    assert_eq!(updated["params"]["uri"], "mem://a");
    validate_2026("ResourceUpdatedNotification", &updated);
    // Prompts were not asked for: nothing arrives.
    server.add_prompt(Prompt::new("late"), |_a: PromptArgs, _c| async move {
        Ok(GetPromptResult::new(vec![PromptMessage::user_text("x")]))
    });
    assert!(peer.try_recv(Duration::from_millis(200)).await.is_none());

    peer.notify("notifications/cancelled", json!({"requestId": "listen-1"}))
        .await;
    for _ in 0..100 {
        if server.listener_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.listener_count(), 0);
}

#[tokio::test]
async fn both_eras_share_one_server_and_the_era_is_fixed_by_the_first_request() {
    let server = server();
    let mut legacy = RawPeer::start(&server);
    let mut modern = RawPeer::start(&server);
    legacy.initialize().await;
    let (a, _) = legacy
        .request(
            json!(1),
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "old"}}),
        )
        .await;
    assert_eq!(a["result"]["content"][0]["text"], "old");
    assert!(
        a["result"].get("resultType").is_none(),
        "handshake-era results are unchanged: {a}"
    );
    // A modern request on a handshake connection is refused.
    let (a, _) = legacy
        .request(json!(2), "tools/list", json!({"_meta": meta()}))
        .await;
    assert_eq!(code(&a), -32600, "{a}");
    let (a, _) = modern
        .request(
            json!(1),
            "tools/call",
            json!({"_meta": meta(), "name": "echo", "arguments": {"text": "new"}}),
        )
        .await;
    assert_eq!(a["result"]["content"][0]["text"], "new");
    assert_eq!(a["result"]["resultType"], "complete");
    let phases: Vec<&str> = server.sessions().iter().map(|s| s.phase).collect();
    assert_eq!(phases, ["operational", "stateless"]);
}

/// Connects a client in `mode` to `server` over memory.
async fn connect(server: &Server, builder: ClientBuilder) -> erlmcp_protocol::Client {
    let (server_side, client_side) = memory_pair(1 << 20, 256 * 1024);
    tokio::spawn(server.serve(server_side));
    builder.connect(client_side).await.expect("connect")
}

fn full_client(mode: ClientMode) -> ClientBuilder {
    ClientBuilder::new("modern-client", "1")
        .mode(mode)
        .elicitation(|_p| async move {
            Ok(serde_json::from_value::<ElicitResult>(json!({"action": "accept", "content": {"c": "green"}})).unwrap())
        })
        .sampling(|_p| async move {
            Ok(serde_json::from_value::<CreateMessageResult>(json!({"role": "assistant", "content": {"type": "text", "text": "grassy"}, "model": "m"})).unwrap())
        })
        .roots(vec![Root::new("file:///r1")])
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect()
}

#[tokio::test]
async fn client_modes_against_a_dual_era_server() {
    let server = server();
    for mode in [ClientMode::Auto, ClientMode::Modern] {
        let client = connect(&server, full_client(mode)).await;
        assert!(client.is_stateless(), "{mode:?}");
        assert_eq!(client.protocol_version().as_str(), V);
        assert_eq!(client.server().server_info.name, "modern-test");
        // Two input rounds answered by the same handlers as in the handshake era.
        let r = client.call_tool("ask", json!({})).await.expect("ask");
        assert_eq!(text(&r), r#"{"c":"green"} / grassy"#);
        let r = client.call_tool("roots", json!({})).await.expect("roots");
        assert_eq!(text(&r), "file:///r1");
        let read = client.read_resource("mem://a").await.expect("read");
        assert_eq!(read.contents.len(), 1);
        assert!(client.get_prompt("hello", &[]).await.is_ok());
        assert!(client.list_tools().await.expect("list").len() >= 4);
        client.ping().await.expect("ping is discover");
        assert!(client.subscribe("mem://a").await.is_err());
    }
    let legacy = connect(&server, full_client(ClientMode::Legacy)).await;
    assert!(!legacy.is_stateless());
    assert_eq!(legacy.protocol_version().as_str(), "2025-11-25");
    let r = legacy.call_tool("ask", json!({})).await.expect("ask");
    assert_eq!(text(&r), r#"{"c":"green"} / grassy"#);
}

/// A handshake-era-only peer: answers `server/discover` the way `reply` says, then
/// `initialize` and `tools/list`.
async fn legacy_only_server(transport: erlmcp_transport::MemoryTransport, reply: Option<Value>) {
    let (mut reader, mut writer) = transport.split();
    while let Some(Ok(Frame::Message(bytes))) = reader.next_frame().await {
        let msg: Value = serde_json::from_slice(&bytes).unwrap();
        let Some(id) = msg.get("id").cloned() else {
            continue;
        };
        let answer = match msg["method"].as_str() {
            Some("server/discover") => match &reply {
                Some(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
                None => continue, // never answers: the client's probe times out
            },
            Some("initialize") => json!({"jsonrpc": "2.0", "id": id, "result": {
                "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                "serverInfo": {"name": "legacy-only", "version": "1"}}}),
            Some("tools/list") => json!({"jsonrpc": "2.0", "id": id, "result": {"tools": []}}),
            _ => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no"}}),
        };
        writer
            .write_batch(&[bytes::Bytes::from(answer.to_string())])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn auto_falls_back_to_initialize_on_any_error_or_timeout_and_modern_mode_does_not() {
    // Not one particular error code: -32601, -32600 and a server-defined code all fall back.
    let replies = [
        Some(json!({"code": -32601, "message": "method not found"})),
        Some(json!({"code": -32600, "message": "not initialized"})),
        Some(json!({"code": -32000, "message": "something else"})),
        None,
    ];
    for reply in replies {
        let (server_side, client_side) = memory_pair(1 << 20, 256 * 1024);
        tokio::spawn(legacy_only_server(server_side, reply.clone()));
        let config = SessionConfig {
            init_timeout: Duration::from_millis(300),
            ..SessionConfig::default()
        };
        let client = ClientBuilder::new("auto", "1")
            .mode(ClientMode::Auto)
            .config(config)
            .connect(client_side)
            .await
            .unwrap_or_else(|e| panic!("auto with {reply:?}: {e}"));
        assert!(!client.is_stateless());
        assert_eq!(client.server().server_info.name, "legacy-only");
        assert!(client.list_tools().await.expect("tools/list").is_empty());
    }
    let (server_side, client_side) = memory_pair(1 << 20, 256 * 1024);
    tokio::spawn(legacy_only_server(
        server_side,
        Some(json!({"code": -32601, "message": "no"})),
    ));
    let refused = ClientBuilder::new("modern", "1")
        .mode(ClientMode::Modern)
        .connect(client_side)
        .await;
    assert!(refused.is_err(), "modern mode must not fall back");
}

#[tokio::test]
async fn handle_modern_streams_notifications_and_survives_a_panicking_handler() {
    let server = Server::builder("h", "1")
        .tool(
            Tool::new("boom", object_schema(json!({}), &[])),
            |_a: JsonObject, _c| async move {
                if std::hint::black_box(true) {
                    panic!("boom");
                }
                Ok(CallToolResult::text("unreachable"))
            },
        )
        .tool(
            Tool::new("log", object_schema(json!({}), &[])),
            |_a: JsonObject, ctx| async move {
                ctx.log(LoggingLevel::Warning, None, json!("careful")).await;
                Ok(CallToolResult::text("done"))
            },
        )
        .build()
        .unwrap();
    let (output, mut notes) = server.modern_output();
    let call = |name: &str, meta: Value| Request {
        id: RequestId::Number(1),
        method: "tools/call".into(),
        params: Some(json!({"_meta": meta, "name": name})),
    };
    let answer = server
        .handle_modern(
            call("log", meta_with(json!({}), Some("warning"))),
            ClaimedHeaders::default(),
            &output,
        )
        .await
        .expect("log");
    assert_eq!(answer["content"][0]["text"], "done");
    let frame = notes
        .try_next()
        .expect("log notification queued before the answer");
    let note: Value = serde_json::from_slice(&frame).unwrap();
    assert_eq!(note["method"], "notifications/message");
    let err = server
        .handle_modern(call("boom", meta()), ClaimedHeaders::default(), &output)
        .await
        .unwrap_err();
    assert_eq!(err.code.code(), -32603);
    drop(output);
    assert!(notes.next().await.is_none(), "stream ends with its output");
}

fn with_support(mut tool: Tool, support: erlmcp_codec::schema::TaskSupport) -> Tool {
    tool.execution = Some(erlmcp_codec::schema::ToolExecution {
        task_support: Some(support),
        extra: serde_json::Map::new(),
    });
    tool
}

/// The tasks extension (2026-07-28 form): the server answers with a task handle when
/// the tool supports it and the request declares the extension; `tasks/get` inlines the
/// result; `tasks/cancel` stops a running task; missing extension → -32021; unknown
/// task → -32602.
#[tokio::test]
async fn tasks_extension_creates_polls_and_cancels() {
    use erlmcp_codec::schema::TaskSupport;
    let server = Server::builder("tasks-2026", "1")
        .tool(
            with_support(Tool::new("quick", object_schema(json!({}), &[])), TaskSupport::Optional),
            |_a: JsonObject, _c| async move { Ok(CallToolResult::text("quick done")) },
        )
        .tool(
            with_support(Tool::new("oops", object_schema(json!({}), &[])), TaskSupport::Optional),
            |_a: JsonObject, _c| async move { Ok(CallToolResult::error_text("tool-level failure")) },
        )
        .tool(
            with_support(Tool::new("forever", object_schema(json!({}), &[])), TaskSupport::Required),
            |_a: JsonObject, _c| async move {
                std::future::pending::<()>().await;
                Ok(CallToolResult::text("never"))
            },
        )
        .build()
        .unwrap();
    let mut peer = RawPeer::start(&server);
    let ext = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    let (d, _) = peer
        .request(json!(0), "server/discover", json!({"_meta": meta()}))
        .await;
    assert_eq!(
        d["result"]["capabilities"]["extensions"],
        json!({"io.modelcontextprotocol/tasks": {}})
    );
    validate_2026("DiscoverResultResponse", &d);

    // Without the extension: optional runs inline, required is -32021 naming the extension.
    let (a, _) = peer
        .request(
            json!(1),
            "tools/call",
            json!({"_meta": meta(), "name": "quick"}),
        )
        .await;
    assert_eq!(a["result"]["resultType"], "complete");
    let (a, _) = peer
        .request(
            json!(2),
            "tools/call",
            json!({"_meta": meta(), "name": "forever"}),
        )
        .await;
    assert_eq!(code(&a), -32021, "{a}");
    assert_eq!(
        a["error"]["data"]["requiredCapabilities"]["extensions"],
        json!({"io.modelcontextprotocol/tasks": {}})
    );
    let (a, _) = peer
        .request(
            json!(3),
            "tasks/get",
            json!({"_meta": meta(), "taskId": "x"}),
        )
        .await;
    assert_eq!(code(&a), -32021, "{a}");

    // With it: a task handle, then the result inlined by tasks/get.
    let with_ext = meta_with(ext.clone(), None);
    let (a, _) = peer
        .request(
            json!(4),
            "tools/call",
            json!({"_meta": with_ext, "name": "quick"}),
        )
        .await;
    let created = &a["result"];
    assert_eq!(created["resultType"], "task", "{a}");
    assert_eq!(created["status"], "working");
    assert!(
        created["ttlMs"].is_u64() && created["pollIntervalMs"].is_u64(),
        "{created}"
    );
    let id = created["taskId"].as_str().unwrap().to_owned();
    let poll = |n: i64, id: &str| json!({"jsonrpc": "2.0", "id": n, "method": "tasks/get", "params": {"_meta": meta_with(json!({"extensions": {"io.modelcontextprotocol/tasks": {}}}), None), "taskId": id}});
    let mut done = Value::Null;
    for n in 0..100 {
        peer.send(poll(100 + n, &id)).await;
        let got = peer.recv().await;
        if got["result"]["status"] == "completed" {
            done = got;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    assert_eq!(done["result"]["result"]["content"][0]["text"], "quick done");

    // A tool-level error is `completed` with isError, not `failed`.
    let (a, _) = peer
        .request(
            json!(5),
            "tools/call",
            json!({"_meta": meta_with(ext.clone(), None), "name": "oops"}),
        )
        .await;
    let oops = a["result"]["taskId"].as_str().unwrap().to_owned();
    let mut seen = Value::Null;
    for n in 0..100 {
        peer.send(poll(300 + n, &oops)).await;
        let got = peer.recv().await;
        if got["result"]["status"] != "working" {
            seen = got;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen["result"]["status"], "completed", "{seen}");
    assert_eq!(seen["result"]["result"]["isError"], true);

    // Cancel a running task.
    let (a, _) = peer
        .request(
            json!(6),
            "tools/call",
            json!({"_meta": meta_with(ext.clone(), None), "name": "forever"}),
        )
        .await;
    let forever = a["result"]["taskId"].as_str().unwrap().to_owned();
    let (a, _) = peer
        .request(
            json!(7),
            "tasks/cancel",
            json!({"_meta": meta_with(ext.clone(), None), "taskId": forever}),
        )
        .await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    peer.send(poll(8, &forever)).await;
    let got = peer.recv().await;
    assert_eq!(got["result"]["status"], "cancelled", "{got}");
    let (a, _) = peer
        .request(
            json!(9),
            "tasks/update",
            json!({"_meta": meta_with(ext.clone(), None), "taskId": forever, "inputResponses": {}}),
        )
        .await;
    assert_eq!(a["result"]["resultType"], "complete", "{a}");
    let (a, _) = peer
        .request(
            json!(10),
            "tasks/get",
            json!({"_meta": meta_with(ext, None), "taskId": "no-such-task"}),
        )
        .await;
    assert_eq!(code(&a), -32602, "{a}");
}
