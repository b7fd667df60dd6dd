//! Server features end to end, driven by the erlmcp client engine (and a raw peer where
//! the exact wire matters): tools, progress, cancellation, concurrency, pagination,
//! resources, templates, subscriptions, prompts, completion, logging, sampling,
//! elicitation and roots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{RawPeer, code, object_schema};
use erlmcp_codec::Notification;
use erlmcp_codec::schema::{
    CallToolResult, CompleteRequestParams, CompleteResult, ContentBlock, CreateMessageResult,
    ElicitResult, GetPromptResult, JsonObject, LoggingLevel, Prompt, PromptArgument, PromptMessage,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Role, Root, Tool,
};
use erlmcp_protocol::server::{PromptArgs, TemplateVars};
use erlmcp_protocol::{
    Client, ClientBuilder, HandlerError, RequestError, RequestOptions, Server, SessionConfig,
};
use erlmcp_transport::memory_pair;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::{Barrier, mpsc};

async fn connect(server: &Server, builder: ClientBuilder) -> Client {
    let (server_side, client_side) = memory_pair(1 << 20, 256 * 1024);
    tokio::spawn(server.serve(server_side));
    builder.connect(client_side).await.expect("connect")
}

fn client() -> ClientBuilder {
    ClientBuilder::new("features-test", "1.0.0")
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect::<Vec<_>>()
        .join("")
}

fn counting_server() -> Server {
    Server::builder("features", "1.0.0")
        .tool(
            Tool::new(
                "count",
                object_schema(
                    json!({"to": {"type": "integer"}, "delay_ms": {"type": "integer"}}),
                    &["to"],
                ),
            ),
            |args: JsonObject, ctx| async move {
                let to = args["to"].as_u64().unwrap_or(1);
                let delay = args.get("delay_ms").and_then(Value::as_u64).unwrap_or(10);
                for i in 1..=to {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    #[allow(clippy::cast_precision_loss)]
                    ctx.progress(i as f64, Some(to as f64), None).await;
                }
                Ok(CallToolResult::text(format!("{to}")))
            },
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn progress_notifications_reach_the_callback_in_order() {
    let server = counting_server();
    let client = connect(&server, client()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let options = RequestOptions {
        timeout: Some(Duration::from_secs(10)),
        on_progress: Some(Arc::new(move |p, total, _| sink.lock().push((p, total)))),
    };
    let result = client
        .call_tool_with("count", json!({"to": 5}), options)
        .await
        .unwrap();
    assert_eq!(text_of(&result), "5");
    let seen = seen.lock().clone();
    assert_eq!(
        seen,
        (1..=5)
            .map(|i| (f64::from(i), Some(5.0)))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn no_progress_is_sent_without_a_progress_token() {
    let server = counting_server();
    let mut peer = RawPeer::start(&server);
    peer.initialize().await;
    let (answer, notes) = peer
        .request(
            json!(1),
            "tools/call",
            json!({"name": "count", "arguments": {"to": 3}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "3");
    assert!(notes.is_empty(), "unexpected notifications: {notes:?}");
}

#[tokio::test]
async fn cancelled_notification_stops_the_handler_and_suppresses_the_answer() {
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let (s, f) = (started.clone(), finished.clone());
    let server = Server::builder("cancel", "1.0.0")
        .tool(
            Tool::new("long", object_schema(json!({}), &[])),
            move |_args: JsonObject, _ctx| {
                let (s, f) = (s.clone(), f.clone());
                async move {
                    s.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    f.fetch_add(1, Ordering::SeqCst);
                    Ok(CallToolResult::text("done"))
                }
            },
        )
        .build()
        .unwrap();
    let mut peer = RawPeer::start(&server);
    peer.initialize().await;
    peer.send(json!({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"long"}}))
        .await;
    for _ in 0..100 {
        if started.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.sessions()[0].in_flight, 1);
    peer.notify(
        "notifications/cancelled",
        json!({"requestId": "c1", "reason": "user"}),
    )
    .await;
    // No answer for the cancelled request; the next request is answered first.
    let (answer, notes) = peer.request(json!(2), "ping", json!({})).await;
    assert_eq!(answer["result"], json!({}));
    assert!(
        notes.is_empty(),
        "cancelled request was answered: {notes:?}"
    );
    assert_eq!(server.sessions()[0].in_flight, 0);
    assert!(peer.try_recv(Duration::from_millis(200)).await.is_none());
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "handler ran to completion"
    );
}

#[tokio::test]
async fn client_timeout_cancels_the_request_on_the_server() {
    let server = counting_server();
    let client = connect(&server, client()).await;
    let err = client
        .call_tool_with(
            "count",
            json!({"to": 1000, "delay_ms": 50}),
            RequestOptions::with_timeout(Duration::from_millis(150)),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    // The server got notifications/cancelled and dropped the handler.
    for _ in 0..200 {
        if server.sessions()[0].in_flight == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.sessions()[0].in_flight, 0);
    assert_eq!(client.peer().pending_requests(), 0);
    client.ping().await.unwrap();
}

#[tokio::test]
async fn handlers_of_one_session_run_concurrently() {
    const N: usize = 8;
    let barrier = Arc::new(Barrier::new(N));
    let b = barrier.clone();
    let server = Server::builder("concurrent", "1.0.0")
        .tool(
            Tool::new("meet", object_schema(json!({}), &[])),
            move |_args: JsonObject, _ctx| {
                let b = b.clone();
                async move {
                    // Completes only if all N calls are running at the same time.
                    b.wait().await;
                    Ok(CallToolResult::text("met"))
                }
            },
        )
        .build()
        .unwrap();
    let client = Arc::new(connect(&server, client()).await);
    let calls: Vec<_> = (0..N)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.call_tool("meet", json!({})).await })
        })
        .collect();
    for call in calls {
        let result = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(text_of(&result), "met");
    }
}

#[tokio::test]
async fn concurrency_per_session_is_bounded() {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let server = Server::builder("bounded", "1.0.0")
        .config(SessionConfig {
            max_concurrent_requests: 3,
            ..SessionConfig::default()
        })
        .tool(
            Tool::new("work", object_schema(json!({}), &[])),
            move |_args: JsonObject, _ctx| {
                let (r, p) = (r.clone(), p.clone());
                async move {
                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    r.fetch_sub(1, Ordering::SeqCst);
                    Ok(CallToolResult::text("ok"))
                }
            },
        )
        .build()
        .unwrap();
    let client = Arc::new(connect(&server, client()).await);
    let calls: Vec<_> = (0..30)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.call_tool("work", json!({})).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "peak concurrency {peak} exceeds the bound");
    assert!(peak >= 2, "handlers never overlapped (peak {peak})");
}

#[tokio::test]
async fn tool_input_is_validated_against_its_schema_as_a_tool_error() {
    let server = counting_server();
    let client = connect(&server, client()).await;
    let result = client
        .call_tool("count", json!({"to": "three"}))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    assert!(
        text_of(&result).contains("invalid arguments"),
        "{}",
        text_of(&result)
    );
    let result = client.call_tool("count", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(true));
}

#[tokio::test]
async fn structured_output_is_checked_against_the_output_schema() {
    let server = Server::builder("structured", "1.0.0")
        .tool(
            Tool::new("good", object_schema(json!({}), &[]))
                .with_output_schema(object_schema(json!({"n": {"type": "integer"}}), &["n"])),
            |_args: JsonObject, _ctx| async move {
                let mut r = CallToolResult::text("{\"n\":1}");
                r.structured_content = Some(json!({"n": 1}));
                Ok(r)
            },
        )
        .tool(
            Tool::new("bad", object_schema(json!({}), &[]))
                .with_output_schema(object_schema(json!({"n": {"type": "integer"}}), &["n"])),
            |_args: JsonObject, _ctx| async move {
                let mut r = CallToolResult::text("oops");
                r.structured_content = Some(json!({"n": "one"}));
                Ok(r)
            },
        )
        .build()
        .unwrap();
    let client = connect(&server, client()).await;
    let tools = client.list_tools().await.unwrap();
    assert!(tools.iter().all(|t| t.output_schema.is_some()));
    let good = client.call_tool("good", json!({})).await.unwrap();
    assert_eq!(good.structured_content.unwrap()["n"], 1);
    let err = client.call_tool("bad", json!({})).await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code.code(), -32603);
}

#[tokio::test]
async fn every_list_paginates_with_opaque_cursors() {
    let mut builder = Server::builder("many", "1.0.0").config(SessionConfig {
        page_size: 7,
        ..SessionConfig::default()
    });
    for i in 0..25 {
        builder = builder
            .tool(
                Tool::new(format!("t{i:02}"), object_schema(json!({}), &[])),
                |_a: JsonObject, _c| async move { Ok(CallToolResult::text("")) },
            )
            .resource(
                Resource::new(format!("mem://r{i:02}"), format!("r{i}")),
                |uri: String, _v: TemplateVars, _c| async move {
                    Ok(ReadResourceResult::new(vec![ResourceContents::text(
                        uri, "",
                    )]))
                },
            )
            .prompt(
                Prompt::new(format!("p{i:02}")),
                |_a: PromptArgs, _c| async move { Ok(GetPromptResult::new(vec![])) },
            );
    }
    let server = builder.build().unwrap();
    let client = connect(&server, client()).await;
    let first = client.list_tools_page(None).await.unwrap();
    assert_eq!(first.tools.len(), 7);
    assert!(first.next_cursor.is_some());
    let names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        (0..25).map(|i| format!("t{i:02}")).collect::<Vec<_>>()
    );
    assert_eq!(client.list_resources().await.unwrap().len(), 25);
    assert_eq!(client.list_prompts().await.unwrap().len(), 25);
    let err = client
        .list_tools_page(Some("bogus".into()))
        .await
        .unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code.code(), -32602);
}

fn resource_server() -> Server {
    Server::builder("resources", "1.0.0")
        .resource(
            Resource::new("mem://a", "a").with_mime_type("text/plain"),
            |uri: String, _v: TemplateVars, _c| async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri, "A",
                )]))
            },
        )
        .resource_template(
            ResourceTemplate::new("mem://users/{id}/profile", "profile"),
            |uri: String, vars: TemplateVars, _c| async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri,
                    format!("user {}", vars["id"]),
                )]))
            },
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn resources_and_templates_are_read_and_unknown_uris_are_not_found() {
    let server = resource_server();
    let client = connect(&server, client()).await;
    let a = client.read_resource("mem://a").await.unwrap();
    assert_eq!(a.contents[0].uri(), "mem://a");
    let templates = client.list_resource_templates().await.unwrap();
    assert_eq!(templates[0].uri_template, "mem://users/{id}/profile");
    let profile = client
        .read_resource("mem://users/42/profile")
        .await
        .unwrap();
    match &profile.contents[0] {
        ResourceContents::Text(t) => assert_eq!(t.text, "user 42"),
        other => panic!("unexpected {other:?}"),
    }
    let err = client.read_resource("mem://nothing").await.unwrap_err();
    let rpc = err.rpc_error().unwrap();
    assert_eq!(rpc.code.code(), -32002);
    assert_eq!(rpc.data.as_ref().unwrap()["uri"], "mem://nothing");
}

#[tokio::test]
async fn template_variables_with_traversal_are_refused() {
    let server = resource_server();
    let client = connect(&server, client()).await;
    for uri in [
        "mem://users/..%2F..%2Fetc%2Fpasswd/profile",
        "mem://users/%2e%2e/profile",
    ] {
        let err = client.read_resource(uri).await.unwrap_err();
        let code = err.rpc_error().unwrap().code.code();
        assert!(code == -32602 || code == -32002, "{uri}: {code}");
    }
    // The session is undisturbed.
    client.read_resource("mem://users/7/profile").await.unwrap();
}

#[tokio::test]
async fn subscriptions_deliver_updates_until_unsubscribed() {
    let server = resource_server();
    let (tx, mut rx) = mpsc::unbounded_channel::<Notification>();
    let client = connect(
        &server,
        client().on_notification(move |n| {
            let _ = tx.send(n);
        }),
    )
    .await;
    client.subscribe("mem://a").await.unwrap();
    assert_eq!(server.sessions()[0].subscriptions, 1);
    assert_eq!(server.notify_resource_updated("mem://a"), 1);
    let note = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.method, "notifications/resources/updated");
    assert_eq!(note.params.unwrap()["uri"], "mem://a");
    // Not subscribed to this one.
    assert_eq!(server.notify_resource_updated("mem://users/1/profile"), 0);
    client.unsubscribe("mem://a").await.unwrap();
    assert_eq!(server.sessions()[0].subscriptions, 0);
    assert_eq!(server.notify_resource_updated("mem://a"), 0);
    // Unknown resources cannot be subscribed to.
    let err = client.subscribe("mem://nothing").await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code.code(), -32002);
}

#[tokio::test]
async fn subscription_limit_is_enforced_per_session() {
    let mut builder = Server::builder("limits", "1.0.0").max_subscriptions(3);
    for i in 0..5 {
        builder = builder.resource(
            Resource::new(format!("mem://{i}"), format!("{i}")),
            |uri: String, _v: TemplateVars, _c| async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri, "",
                )]))
            },
        );
    }
    let server = builder.build().unwrap();
    let client = connect(&server, client()).await;
    for i in 0..3 {
        client.subscribe(&format!("mem://{i}")).await.unwrap();
    }
    let err = client.subscribe("mem://3").await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code.code(), -32602);
    // Re-subscribing to a held URI is fine.
    client.subscribe("mem://0").await.unwrap();
}

#[tokio::test]
async fn list_changed_is_broadcast_when_tools_change() {
    let server = counting_server();
    let (tx, mut rx) = mpsc::unbounded_channel::<Notification>();
    let client = connect(
        &server,
        client().on_notification(move |n| {
            let _ = tx.send(n);
        }),
    )
    .await;
    server
        .add_tool(
            Tool::new("late", object_schema(json!({}), &[])),
            |_a: JsonObject, _c| async move { Ok(CallToolResult::text("late")) },
        )
        .unwrap();
    let note = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.method, "notifications/tools/list_changed");
    assert_eq!(
        text_of(&client.call_tool("late", json!({})).await.unwrap()),
        "late"
    );
    assert!(server.remove_tool("late"));
    let err = client.call_tool("late", json!({})).await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code.code(), -32602);
}

#[tokio::test]
async fn prompts_enforce_required_arguments_and_completion_answers() {
    let server = Server::builder("prompts", "1.0.0")
        .prompt(
            Prompt::new("greet").with_argument(PromptArgument::new("name", true)),
            |args: PromptArgs, _c| async move {
                Ok(GetPromptResult::new(vec![PromptMessage::new(
                    Role::User,
                    ContentBlock::text(format!("hi {}", args["name"])),
                )]))
            },
        )
        .completion(|params: CompleteRequestParams, _c| async move {
            let all = ["alice", "bob", "alfred"];
            let values = all
                .iter()
                .filter(|v| v.starts_with(params.argument.value.as_str()))
                .map(|v| (*v).to_owned())
                .collect();
            Ok::<_, HandlerError>(CompleteResult::new(values))
        })
        .build()
        .unwrap();
    let client = connect(&server, client()).await;
    let caps = &client.server().capabilities;
    assert!(caps.prompts.is_some() && caps.completions.is_some() && caps.tools.is_none());
    let got = client
        .get_prompt("greet", &[("name", "Ada")])
        .await
        .unwrap();
    assert_eq!(got.messages[0].content.as_text(), Some("hi Ada"));
    let err = client.get_prompt("greet", &[]).await.unwrap_err();
    let rpc = err.rpc_error().unwrap();
    assert_eq!(rpc.code.code(), -32602);
    assert_eq!(rpc.data.as_ref().unwrap()["missing"], json!(["name"]));
    let params: CompleteRequestParams = serde_json::from_value(json!({
        "ref": {"type": "ref/prompt", "name": "greet"},
        "argument": {"name": "name", "value": "al"}
    }))
    .unwrap();
    let done = client.complete(params).await.unwrap();
    assert_eq!(done.completion.values, ["alice", "alfred"]);
    // Tools are not offered by this server.
    let err = client.list_tools().await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code.code(), -32601);
}

#[tokio::test]
async fn log_messages_respect_the_session_level() {
    let server = Server::builder("logging", "1.0.0")
        .tool(
            Tool::new("log", object_schema(json!({}), &[])),
            |_a: JsonObject, ctx| async move {
                ctx.log(LoggingLevel::Info, Some("t"), json!("info line"))
                    .await;
                ctx.log(LoggingLevel::Error, Some("t"), json!("error line"))
                    .await;
                Ok(CallToolResult::text("logged"))
            },
        )
        .build()
        .unwrap();
    let mut peer = RawPeer::start(&server);
    peer.initialize().await;
    let (_, notes) = peer
        .request(json!(1), "tools/call", json!({"name": "log"}))
        .await;
    assert_eq!(notes.len(), 2, "{notes:?}");
    let (answer, _) = peer
        .request(json!(2), "logging/setLevel", json!({"level": "warning"}))
        .await;
    assert_eq!(answer["result"], json!({}));
    let (_, notes) = peer
        .request(json!(3), "tools/call", json!({"name": "log"}))
        .await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["method"], "notifications/message");
    assert_eq!(notes[0]["params"]["level"], "error");
    assert_eq!(notes[0]["params"]["data"], "error line");
    let (answer, _) = peer
        .request(json!(4), "logging/setLevel", json!({"level": "loud"}))
        .await;
    assert_eq!(code(&answer), -32602);
}

fn reverse_server() -> Server {
    Server::builder("reverse", "1.0.0")
        .tool(
            Tool::new("sample", object_schema(json!({}), &[])),
            |_a: JsonObject, ctx| async move {
                let params = serde_json::from_value(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": "2+2?"}}],
                    "maxTokens": 10
                }))
                .unwrap();
                match ctx.create_message(params).await {
                    Ok(r) => Ok(CallToolResult::text(format!(
                        "{}:{}",
                        r.model,
                        r.content
                            .blocks()
                            .iter()
                            .find_map(|b| b.as_text())
                            .unwrap_or_default()
                    ))),
                    Err(e) => Ok(CallToolResult::error_text(e.to_string())),
                }
            },
        )
        .tool(
            Tool::new("ask", object_schema(json!({}), &[])),
            |_a: JsonObject, ctx| async move {
                let params = serde_json::from_value(json!({
                "mode": "form",
                "message": "name?",
                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
            }))
            .unwrap();
                match ctx.elicit(params).await {
                    Ok(r) => Ok(CallToolResult::text(
                        serde_json::to_string(&r.content.unwrap_or_default()).unwrap(),
                    )),
                    Err(e) => Ok(CallToolResult::error_text(e.to_string())),
                }
            },
        )
        .tool(
            Tool::new("roots", object_schema(json!({}), &[])),
            |_a: JsonObject, ctx| async move {
                match ctx.list_roots().await {
                    Ok(r) => Ok(CallToolResult::text(
                        r.roots
                            .iter()
                            .map(|r| r.uri.clone())
                            .collect::<Vec<_>>()
                            .join(","),
                    )),
                    Err(e) => Ok(CallToolResult::error_text(e.to_string())),
                }
            },
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn server_requests_reach_client_handlers() {
    let server = reverse_server();
    let client = connect(
        &server,
        client()
            .sampling(|_p| async move {
                Ok(serde_json::from_value::<CreateMessageResult>(json!({
                    "role": "assistant", "content": {"type": "text", "text": "4"}, "model": "test-model"
                }))
                .unwrap())
            })
            .elicitation(|_p| async move {
                Ok(serde_json::from_value::<ElicitResult>(json!({"action": "accept", "content": {"name": "Ada"}})).unwrap())
            })
            .roots(vec![Root::new("file:///work")]),
    )
    .await;
    assert_eq!(
        text_of(&client.call_tool("sample", json!({})).await.unwrap()),
        "test-model:4"
    );
    assert_eq!(
        text_of(&client.call_tool("ask", json!({})).await.unwrap()),
        r#"{"name":"Ada"}"#
    );
    assert_eq!(
        text_of(&client.call_tool("roots", json!({})).await.unwrap()),
        "file:///work"
    );
    client
        .set_roots(vec![Root::new("file:///a"), Root::new("file:///b")])
        .await
        .unwrap();
    assert_eq!(
        text_of(&client.call_tool("roots", json!({})).await.unwrap()),
        "file:///a,file:///b"
    );
}

#[tokio::test]
async fn server_requests_fail_cleanly_without_the_capability() {
    let server = reverse_server();
    let client = connect(&server, client()).await;
    for tool in ["sample", "ask", "roots"] {
        let result = client.call_tool(tool, json!({})).await.unwrap();
        assert_eq!(result.is_error, Some(true), "{tool}");
        assert!(
            text_of(&result).contains("capability"),
            "{tool}: {}",
            text_of(&result)
        );
    }
}

#[tokio::test]
async fn client_request_ids_are_monotonic_and_never_reused() {
    // A hand-written server that records the ids the real client allocates.
    let (server_side, client_side) = memory_pair(1 << 20, 64 * 1024);
    let fake_server = tokio::spawn(async move {
        use erlmcp_transport::{FrameReader, FrameWriter, Transport};
        let (mut reader, mut writer) = server_side.split();
        let mut ids = Vec::new();
        while let Some(Ok(erlmcp_codec::Frame::Message(bytes))) = reader.next_frame().await {
            let msg: Value = serde_json::from_slice(&bytes).unwrap();
            let Some(id) = msg.get("id").cloned() else {
                continue;
            };
            ids.push(id.clone());
            let result = if msg["method"] == "initialize" {
                json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "fake", "version": "0"}})
            } else {
                json!({})
            };
            let reply = json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string();
            writer
                .write_batch(&[bytes::Bytes::from(reply)])
                .await
                .unwrap();
        }
        ids
    });
    let client = client().connect(client_side).await.unwrap();
    for _ in 0..20 {
        client.ping().await.unwrap();
    }
    client.close().await.unwrap();
    let ids = fake_server.await.unwrap();
    let numbers: Vec<i64> = ids.iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(numbers.len(), 21);
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
}

#[tokio::test]
async fn a_request_to_a_closed_session_fails_fast() {
    let server = counting_server();
    let client = connect(&server, client()).await;
    server.shutdown_all();
    let err = tokio::time::timeout(Duration::from_secs(5), client.ping())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, RequestError::SessionClosed), "{err:?}");
}

#[tokio::test]
async fn older_protocol_versions_get_results_in_their_own_shape() {
    let server = Server::builder("compat", "1.0.0")
        .tool(
            Tool::new("sum", object_schema(json!({}), &[]))
                .with_title("Sum")
                .with_output_schema(object_schema(json!({"n": {"type": "integer"}}), &["n"])),
            |_args: JsonObject, _ctx| async move {
                let mut r = CallToolResult::text("3");
                r.structured_content = Some(json!({"n": 3}));
                Ok(r)
            },
        )
        .build()
        .unwrap();
    for (version, modern) in [
        ("2024-11-05", false),
        ("2025-03-26", false),
        ("2025-06-18", true),
        ("2025-11-25", true),
    ] {
        let mut peer = RawPeer::start(&server);
        let (init, _) = peer
            .request(
                json!(0),
                "initialize",
                json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "old", "version": "0"}}),
            )
            .await;
        assert_eq!(init["result"]["protocolVersion"], version);
        peer.notify("notifications/initialized", json!({})).await;
        let (list, _) = peer.request(json!(1), "tools/list", json!({})).await;
        let tool = &list["result"]["tools"][0];
        assert_eq!(
            tool.get("outputSchema").is_some(),
            modern,
            "{version}: {tool}"
        );
        assert_eq!(tool.get("title").is_some(), modern, "{version}: {tool}");
        let (call, _) = peer
            .request(json!(2), "tools/call", json!({"name": "sum"}))
            .await;
        assert_eq!(
            call["result"].get("structuredContent").is_some(),
            modern,
            "{version}: {call}"
        );
        assert_eq!(call["result"]["content"][0]["text"], "3");
    }
}

#[tokio::test]
async fn sandboxed_files_are_served_and_escapes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("hello.txt"), "hello from the sandbox").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub").join("deep.md"), "# deep").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "TOP-SECRET-CONTENT").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.txt")).unwrap();
    let sandbox = erlmcp_security::Sandbox::new([&root]).unwrap();
    let canonical_root = std::fs::canonicalize(&root).unwrap();
    let base = format!("file://{}", canonical_root.display());

    let server = Server::builder("files", "1.0.0")
        .filesystem(sandbox)
        .build()
        .unwrap();
    let client = connect(&server, client()).await;
    let listed: Vec<String> = client
        .list_resources()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uri)
        .collect();
    assert!(listed.contains(&format!("{base}/hello.txt")), "{listed:?}");
    let read = client
        .read_resource(&format!("{base}/hello.txt"))
        .await
        .unwrap();
    assert!(
        matches!(&read.contents[0], ResourceContents::Text(t) if t.text == "hello from the sandbox")
    );
    let deep = client
        .read_resource(&format!("{base}/sub/deep.md"))
        .await
        .unwrap();
    assert!(matches!(&deep.contents[0], ResourceContents::Text(t) if t.text == "# deep"));

    let missing = client
        .read_resource(&format!("{base}/nope.txt"))
        .await
        .unwrap_err();
    assert_eq!(missing.rpc_error().unwrap().code.code(), -32002);
    for escape in [
        format!("{base}/../secret.txt"),
        format!("{base}/%2e%2e/secret.txt"),
        format!("{base}/sub/..%2f..%2fsecret.txt"),
        format!("{base}/link.txt"),
        "file:///etc/passwd".to_owned(),
    ] {
        let err = client.read_resource(&escape).await.unwrap_err();
        let rpc = err.rpc_error().unwrap();
        assert!(
            rpc.code.code() == -32602 || rpc.code.code() == -32002,
            "{escape}: {rpc:?}"
        );
        assert!(
            !format!("{rpc:?}").contains("TOP-SECRET"),
            "{escape} leaked the secret"
        );
    }
    // Nothing else was disturbed.
    client.ping().await.unwrap();
    let again = client
        .read_resource(&format!("{base}/hello.txt"))
        .await
        .unwrap();
    assert_eq!(again.contents.len(), 1);
}
