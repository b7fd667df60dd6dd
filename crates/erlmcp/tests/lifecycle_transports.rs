//! Session cleanup on the transports the protocol crate's own tests cannot reach: a
//! Streamable HTTP session holding subscriptions, running tasks and an in-flight request
//! is released when the client sends DELETE, and when it goes idle; a stdio server with
//! pending work exits cleanly on EOF.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use erlmcp::protocol::Introspection;
use erlmcp::transport::http::{
    HttpClientOptions, HttpClientTransport, HttpListener, HttpServerConfig,
};
use erlmcp::{ClientBuilder, Server};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

async fn wait_until_empty(server: &Server) -> Introspection {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = server.introspect();
        if now == Introspection::default() || tokio::time::Instant::now() >= deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn serve(config: HttpServerConfig) -> (Server, String) {
    let server = erlmcp::demo::server();
    let listener = HttpListener::bind(config).await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr());
    let serving = server.clone();
    tokio::spawn(async move { erlmcp::net_http::serve_http(&serving, listener).await });
    (server, url)
}

/// Two subscriptions and a long in-flight request on one HTTP session.
async fn load(client: &erlmcp::Client, server: &Server) {
    client.subscribe(erlmcp::demo::COUNTER_URI).await.unwrap();
    client.subscribe("demo://readme").await.unwrap();
    let peer = client.peer().clone();
    tokio::spawn(async move {
        let _: Result<Value, _> = peer
            .request(
                "tools/call",
                json!({"name": "slow_count", "arguments": {"to": 1000, "delay_ms": 1000}}),
                Default::default(),
            )
            .await;
    });
    for _ in 0..100 {
        let held = server.introspect();
        if held.in_flight == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let held = server.introspect();
    assert_eq!(
        (held.sessions, held.subscriptions, held.in_flight),
        (1, 2, 1),
        "{held:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_delete_releases_everything_the_session_held() {
    let (server, url) = serve(HttpServerConfig::default()).await;
    let client = erlmcp::net_http::connect_http(ClientBuilder::new("leak", "1"), &url)
        .await
        .unwrap();
    load(&client, &server).await;
    client.close().await.unwrap();
    assert_eq!(wait_until_empty(&server).await, Introspection::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http_session_is_ended_and_released() {
    let config = HttpServerConfig {
        session_idle_timeout: Some(Duration::from_millis(500)),
        ..HttpServerConfig::default()
    };
    let (server, url) = serve(config).await;
    // A client that vanishes without DELETE and holds no open stream.
    let options = HttpClientOptions {
        open_get_stream: false,
        delete_on_close: false,
        ..HttpClientOptions::default()
    };
    let transport = HttpClientTransport::connect(&url, options).unwrap();
    let client = ClientBuilder::new("idle", "1")
        .connect(transport)
        .await
        .unwrap();
    client.subscribe("demo://readme").await.unwrap();
    assert_eq!(server.introspect().subscriptions, 1);
    drop(client);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(wait_until_empty(&server).await, Introspection::default());
}

#[tokio::test]
async fn a_stdio_server_with_pending_work_exits_cleanly_on_eof() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_erlmcp"))
        .args(["serve", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for line in [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"demo://counter"}}),
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"slow_count","arguments":{"to":1000,"delay_ms":1000}}}),
    ] {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(stdin);
    // The pending 1000-second handler does not keep the process alive past EOF.
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("stdio server did not exit within 5 s of EOF")
        .unwrap();
    assert!(status.success(), "{status:?}");
}
