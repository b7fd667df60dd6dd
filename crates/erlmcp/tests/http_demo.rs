//! The erlmcp client and the erlmcp demo server over Streamable HTTP on loopback: tools,
//! resources, subscriptions (updates over SSE), progress, sampling (a server request over
//! SSE, the client's answer POSTed back), stream resumption and session teardown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use erlmcp::protocol::ProgressCallback;
use erlmcp::schema::{CreateMessageResult, ResourceContents, SamplingMessageContentBlock};
use erlmcp::transport::http::{
    HttpClientOptions, HttpClientTransport, HttpListener, HttpServerConfig, HttpServerHandle,
    ResponseMode,
};
use erlmcp::{ClientBuilder, RequestOptions, Server};
use erlmcp_codec::Notification;
use serde_json::{Value, json};
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(30);

async fn bounded<F: std::future::Future>(fut: F) -> F::Output {
    tokio::time::timeout(LIMIT, fut)
        .await
        .expect("step timed out")
}

async fn serve(config: HttpServerConfig) -> (Server, HttpServerHandle, String) {
    let server = erlmcp::demo::server();
    let listener = HttpListener::bind(config).await.expect("bind");
    let handle = listener.handle();
    let url = format!("http://{}/mcp", listener.local_addr());
    let serving = server.clone();
    tokio::spawn(async move { erlmcp::net_http::serve_http(&serving, listener).await });
    (server, handle, url)
}

fn text(result: &erlmcp::schema::CallToolResult) -> String {
    result
        .content
        .iter()
        .find_map(|b| b.as_text())
        .unwrap_or_default()
        .to_owned()
}

fn builder() -> (ClientBuilder, mpsc::UnboundedReceiver<Notification>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let builder = ClientBuilder::new("http-demo-test", "1.0.0")
        .on_notification(move |n| {
            let _ = tx.send(n);
        })
        .sampling(|params| async move {
            let asked = params
                .messages
                .first()
                .and_then(|m| {
                    m.content
                        .blocks()
                        .first()
                        .and_then(|b| b.as_text().map(str::to_owned))
                })
                .unwrap_or_default();
            let result: CreateMessageResult = serde_json::from_value(json!({
                "role": "assistant",
                "content": SamplingMessageContentBlock::text(format!("echo of {asked}")),
                "model": "test-model",
                "stopReason": "endTurn"
            }))
            .expect("sampling result");
            Ok(result)
        });
    (builder, rx)
}

async fn exercise(url: &str, server: &Server, handle: &HttpServerHandle) {
    let (builder, mut notes) = builder();
    let transport = HttpClientTransport::connect(url, HttpClientOptions::default()).unwrap();
    let client = bounded(builder.connect(transport)).await.expect("connect");
    assert_eq!(client.protocol_version().as_str(), "2025-11-25");
    assert_eq!(handle.session_count(), 1);
    assert_eq!(server.session_count(), 1);

    // Tools.
    let tools = bounded(client.list_tools()).await.unwrap();
    for name in [
        "echo",
        "add",
        "slow_count",
        "sample",
        "test_simple_text",
        "test_reconnection",
    ] {
        assert!(tools.iter().any(|t| t.name == name), "{name} listed");
    }
    let echoed = bounded(client.call_tool("echo", json!({"text": "over http"})))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "over http");
    let sum = bounded(client.call_tool("add", json!({"a": 2, "b": 40})))
        .await
        .unwrap();
    assert_eq!(sum.structured_content.unwrap()["sum"], 42.0);
    let failed = bounded(client.call_tool("fail", json!({}))).await.unwrap();
    assert_eq!(failed.is_error, Some(true));
    let panicked = bounded(client.call_tool("panic", json!({})))
        .await
        .unwrap_err();
    assert_eq!(panicked.rpc_error().unwrap().code.code(), -32603);

    // Resources.
    let readme = bounded(client.read_resource("demo://readme"))
        .await
        .unwrap();
    assert!(
        matches!(&readme.contents[0], ResourceContents::Text(t) if t.text.contains("erlmcp demo"))
    );
    let greeting = bounded(client.read_resource("demo://greeting/Ada"))
        .await
        .unwrap();
    assert!(matches!(&greeting.contents[0], ResourceContents::Text(t) if t.text == "Hello, Ada!"));
    let logo = bounded(client.read_resource("demo://logo.png"))
        .await
        .unwrap();
    assert!(matches!(&logo.contents[0], ResourceContents::Blob(_)));

    // Subscriptions: the update is a server-initiated notification over SSE.
    bounded(client.subscribe(erlmcp::demo::COUNTER_URI))
        .await
        .unwrap();
    let bumped = bounded(client.call_tool("bump", json!({}))).await.unwrap();
    assert!(text(&bumped).contains("notified=1"), "{}", text(&bumped));
    let update = bounded(async {
        loop {
            let note = notes.recv().await.expect("notification");
            if note.method == "notifications/resources/updated" {
                return note;
            }
        }
    })
    .await;
    assert_eq!(update.params.unwrap()["uri"], erlmcp::demo::COUNTER_URI);

    // Progress.
    let seen = Arc::new(AtomicUsize::new(0));
    let seen_in_callback = seen.clone();
    let on_progress: ProgressCallback = Arc::new(move |_p, _t, _m| {
        seen_in_callback.fetch_add(1, Ordering::SeqCst);
    });
    let counted = bounded(client.call_tool_with(
        "slow_count",
        json!({"to": 3, "delay_ms": 10}),
        RequestOptions {
            timeout: Some(LIMIT),
            on_progress: Some(on_progress),
        },
    ))
    .await
    .unwrap();
    assert_eq!(text(&counted), "counted to 3");
    assert_eq!(seen.load(Ordering::SeqCst), 3);

    // Sampling: the server asks the client in the middle of a tool call.
    let sampled = bounded(client.call_tool("sample", json!({"prompt": "the question"})))
        .await
        .unwrap();
    assert_eq!(
        text(&sampled),
        "model (test-model) said: echo of the question"
    );

    // The conformance fixture that drops its own SSE stream: the client resumes it with
    // Last-Event-ID and still gets the result.
    let resumed = bounded(client.call_tool("test_reconnection", json!({})))
        .await
        .unwrap();
    assert!(text(&resumed).contains("Reconnection test completed successfully"));

    // Closing sends DELETE: the HTTP session and the engine session are gone.
    bounded(client.close()).await.unwrap();
    let released = async {
        while handle.session_count() != 0 || server.session_count() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    bounded(released).await;
}

#[tokio::test]
async fn demo_server_over_http_with_sse_answers() {
    let (server, handle, url) = serve(HttpServerConfig {
        sse_retry: Duration::from_millis(50),
        ..HttpServerConfig::default()
    })
    .await;
    exercise(&url, &server, &handle).await;
}

#[tokio::test]
async fn demo_server_over_http_with_json_answers() {
    let (server, handle, url) = serve(HttpServerConfig {
        response_mode: ResponseMode::Json,
        sse_retry: Duration::from_millis(50),
        ..HttpServerConfig::default()
    })
    .await;
    exercise(&url, &server, &handle).await;
}

#[tokio::test]
async fn deleting_the_session_ends_it_and_the_client_continues_on_a_new_one() {
    let (server, handle, url) = serve(HttpServerConfig::default()).await;
    let (builder, _notes) = builder();
    let transport = HttpClientTransport::connect(&url, HttpClientOptions::default()).unwrap();
    let client = bounded(builder.connect(transport)).await.expect("connect");
    assert_eq!(server.session_count(), 1);
    let first = handle.session_ids();
    // Terminate the session on the server side (as an operator or idle timeout would).
    let slow = client.call_tool("slow_count", json!({"to": 50, "delay_ms": 20}));
    let terminate = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let ids = handle.session_ids();
        assert_eq!(ids.len(), 1);
        handle.session(&ids[0]).expect("live session").terminate();
    };
    let (outcome, ()) = bounded(async { tokio::join!(slow, terminate) }).await;
    assert!(
        outcome.is_err(),
        "the call in flight fails when its session ends (it may have run: not replayed)"
    );
    // The old engine session is released; the client renewed into a new one (404 on
    // resuming the stream) and goes on there.
    let renewed = async {
        loop {
            let ids = handle.session_ids();
            if ids.len() == 1 && ids != first && server.session_count() == 1 {
                return ids;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let second = bounded(renewed).await;
    let echoed = bounded(client.call_tool("echo", json!({"text": "still here"})))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "still here");
    assert_eq!(handle.session_ids(), second);
    bounded(client.close()).await.unwrap();
    let closed = async {
        while server.session_count() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    bounded(closed).await;
}

#[tokio::test]
async fn connect_http_helper_and_the_cli_flag() {
    let (_server, _handle, url) = serve(HttpServerConfig::default()).await;
    let client = bounded(erlmcp::net_http::connect_http(
        ClientBuilder::new("helper", "1"),
        &url,
    ))
    .await
    .unwrap();
    let result: Value = bounded(client.request("ping", json!({}), RequestOptions::default()))
        .await
        .unwrap();
    assert_eq!(result, json!({}));
    bounded(client.close()).await.unwrap();

    // `erlmcp serve --http ADDR` serves the same endpoint.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_erlmcp"))
        .args(["serve", "--http", &format!("127.0.0.1:{port}")])
        .kill_on_drop(true)
        .spawn()
        .expect("spawn erlmcp serve --http");
    let url = format!("http://127.0.0.1:{port}/mcp");
    let client = bounded(async {
        loop {
            match erlmcp::net_http::connect_http(ClientBuilder::new("cli", "1"), &url).await {
                Ok(client) => return client,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    let echoed = bounded(client.call_tool("echo", json!({"text": "cli"})))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "cli");
    bounded(client.close()).await.unwrap();
    child.kill().await.unwrap();
}
