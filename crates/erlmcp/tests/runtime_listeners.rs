//! The HTTP and stdio listener kinds of the supervised runtime: a crashed HTTP session-
//! accept loop is serving new sessions again within 2 s while established HTTP sessions
//! keep working; `erlmcp serve --stdio` and `--http` run under the runtime, and the stdio
//! runtime ends with its session (EOF → exit 0, a failed session → exit 1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use erlmcp::runtime::{ListenerKind, Runtime};
use erlmcp::transport::http::HttpListener;
use erlmcp::{Client, ClientBuilder};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

mod common;

/// What the injected crashes (and the demo's `panic` tool) panic with.
const EXPECTED_PANICS: &[&str] = &["crash injected"];

async fn connect(url: &str) -> Client {
    tokio::time::timeout(
        Duration::from_secs(10),
        erlmcp::net_http::connect_http(ClientBuilder::new("runtime-http-test", "1"), url),
    )
    .await
    .expect("connect timed out")
    .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_http_listener_serves_again_within_two_seconds() {
    common::quiet_expected_panics(EXPECTED_PANICS);
    let addr = "127.0.0.1:0".parse().unwrap();
    let listener = HttpListener::bind(erlmcp::net_http::config_for(addr))
        .await
        .unwrap();
    let runtime = Runtime::builder(erlmcp::demo::server())
        .bulkheads(4)
        .http(listener)
        .start()
        .unwrap();
    let url = format!("http://{}/mcp", runtime.http_addrs()[0]);

    let mut established = Vec::new();
    for i in 0..10 {
        let client = connect(&url).await;
        common::echo(&client, &format!("before {i}")).await.unwrap();
        established.push(client);
    }
    assert_eq!(runtime.sessions().len(), 10);
    assert!(runtime.sessions().iter().all(|s| s.transport == "http"));
    let sessions_before = runtime.sessions();

    let crashed_at = Instant::now();
    assert_eq!(runtime.crash_listener(ListenerKind::Http), 1);
    // The HTTP server keeps taking connections through the crash; the new session waits
    // in the listener's queue until the restarted loop places it.
    let fresh = tokio::time::timeout(Duration::from_secs(10), async {
        let client = connect(&url).await;
        common::echo(&client, "after").await?;
        Ok::<_, String>(client)
    })
    .await
    .expect("the HTTP listener never came back")
    .unwrap();
    let back_in = crashed_at.elapsed();
    println!("HTTP listener crash → new session served in {back_in:?}");
    assert!(back_in < Duration::from_secs(2), "{back_in:?}");

    let status = runtime.status();
    let http = status
        .listeners
        .iter()
        .find(|g| g.listeners.iter().any(|l| l.kind == ListenerKind::Http))
        .expect("an HTTP listener supervisor");
    assert_eq!((http.supervisor.panics, http.supervisor.restarts), (1, 1));
    assert_eq!(http.listeners[0].starts, 2);
    assert_eq!(http.listeners[0].accepted, 11);
    assert_eq!(
        status.root.restarts, 0,
        "only the accept loop was restarted"
    );
    assert_eq!(status.session_panics(), 0);

    // Every established session, its HTTP session id included, still works.
    for (i, client) in established.iter().enumerate() {
        common::echo(client, &format!("after {i}")).await.unwrap();
    }
    let sessions_after = runtime.sessions();
    assert_eq!(sessions_after.len(), 11);
    assert!(sessions_before.iter().all(|s| sessions_after.contains(s)));
    assert_eq!(runtime.server().session_count(), 11);

    for client in established {
        client.close().await.unwrap();
    }
    fresh.close().await.unwrap();
    tokio::time::timeout(Duration::from_secs(15), runtime.shutdown())
        .await
        .expect("shutdown timed out")
        .unwrap();
}

fn erlmcp_command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_erlmcp"));
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// `serve --stdio` under the runtime: it answers, and EOF on stdin ends the process with
/// exit code 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stdio_ends_with_its_session_on_eof() {
    let mut child = erlmcp_command().args(["serve", "--stdio"]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"over stdio"}}}),
    ] {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    let mut answers = Vec::new();
    while answers.len() < 2 {
        let line = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
            .await
            .expect("no answer")
            .unwrap()
            .expect("stdout closed early");
        answers.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    assert_eq!(answers[0]["id"], 1);
    assert_eq!(answers[1]["result"]["content"][0]["text"], "over stdio");

    drop(stdin); // EOF
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the runtime did not end with its stdio session")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

/// A stdio session that fails (no `initialize` within the init timeout) ends the runtime
/// with exit code 1 and says why on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stdio_exits_non_zero_when_its_session_fails() {
    let mut child = erlmcp_command()
        .args(["serve", "--stdio", "--init-timeout-ms", "300"])
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take().unwrap(); // held open: only the timeout ends it
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("the runtime did not end with its failed session")
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stdio session failed"), "{stderr}");
}

/// `serve --http` under the runtime: serves sessions over Streamable HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_http_runs_under_the_runtime() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = erlmcp_command()
        .args(["serve", "--http", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let deadline = Instant::now() + Duration::from_secs(10);
    let client = loop {
        match erlmcp::net_http::connect_http(ClientBuilder::new("cli-test", "1"), &url).await {
            Ok(client) => break client,
            Err(err) => {
                assert!(Instant::now() < deadline, "never served: {err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    common::echo(&client, "over http").await.unwrap();
    client.close().await.unwrap();
    child.kill().await.unwrap();
}
