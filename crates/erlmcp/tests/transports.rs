//! The demo server over real transports: a real child process on stdio, a real TCP
//! listener (in-process and as the `erlmcp serve --tcp` binary), and the `erlmcp call` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use erlmcp::codec::Notification;
use erlmcp::net;
use erlmcp::schema::{ContentBlock, ResourceContents};
use erlmcp::transport::{TcpAcceptor, TcpTransport};
use erlmcp::{ClientBuilder, RequestOptions};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_erlmcp");
const LIMIT: Duration = Duration::from_secs(30);

fn text(result: &erlmcp::schema::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect()
}

fn client_with_notes() -> (ClientBuilder, mpsc::UnboundedReceiver<Notification>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let builder = ClientBuilder::new("transport-test", "1.0.0").on_notification(move |n| {
        let _ = tx.send(n);
    });
    (builder, rx)
}

/// Exercises the demo server through a connected client.
async fn exercise(client: &erlmcp::Client, notes: &mut mpsc::UnboundedReceiver<Notification>) {
    let tools = client.list_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"));
    let payload = "x".repeat(4096);
    let echoed = client
        .call_tool("echo", json!({"text": payload}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), payload);
    let sum = client
        .call_tool("add", json!({"a": 2, "b": 40}))
        .await
        .unwrap();
    assert_eq!(sum.structured_content.unwrap()["sum"], 42.0);
    let failed = client.call_tool("fail", json!({})).await.unwrap();
    assert_eq!(failed.is_error, Some(true));
    let panicked = client.call_tool("panic", json!({})).await.unwrap_err();
    assert_eq!(panicked.rpc_error().unwrap().code.code(), -32603);
    let readme = client.read_resource("demo://readme").await.unwrap();
    assert!(
        matches!(&readme.contents[0], ResourceContents::Text(t) if t.text.contains("erlmcp demo"))
    );
    let logo = client.read_resource("demo://logo.png").await.unwrap();
    assert!(matches!(&logo.contents[0], ResourceContents::Blob(b) if !b.blob.is_empty()));
    let greeting = client.read_resource("demo://greeting/Grace").await.unwrap();
    assert!(
        matches!(&greeting.contents[0], ResourceContents::Text(t) if t.text == "Hello, Grace!")
    );
    let prompt = client
        .get_prompt("greet", &[("name", "Ada")])
        .await
        .unwrap();
    assert!(
        prompt.messages[0]
            .content
            .as_text()
            .unwrap()
            .contains("Ada")
    );

    client.subscribe(erlmcp::demo::COUNTER_URI).await.unwrap();
    let bumped = client.call_tool("bump", json!({})).await.unwrap();
    // Other clients of the same server may be subscribed too.
    assert!(!text(&bumped).contains("notified=0"), "{}", text(&bumped));
    let note = tokio::time::timeout(LIMIT, async {
        loop {
            let n = notes.recv().await.expect("notification stream ended");
            if n.method == "notifications/resources/updated" {
                return n;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(note.params.unwrap()["uri"], erlmcp::demo::COUNTER_URI);

    let progress = std::sync::Arc::new(parking_lot_free::Counter::default());
    let seen = progress.clone();
    let options = RequestOptions {
        timeout: Some(LIMIT),
        on_progress: Some(std::sync::Arc::new(move |_, _, _| seen.bump())),
    };
    let counted = client
        .call_tool_with("slow_count", json!({"to": 3, "delay_ms": 10}), options)
        .await
        .unwrap();
    assert_eq!(text(&counted), "counted to 3");
    assert_eq!(progress.get(), 3);
}

mod parking_lot_free {
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    pub struct Counter(AtomicUsize);

    impl Counter {
        pub fn bump(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        pub fn get(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }
}

#[tokio::test]
async fn demo_server_over_a_real_child_process_on_stdio() {
    let (builder, mut notes) = client_with_notes();
    let mut command = Command::new(BIN);
    command.args(["serve", "--stdio"]);
    let client = tokio::time::timeout(LIMIT, net::connect_child(builder, &mut command))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(client.server().server_info.name, "erlmcp-demo");
    tokio::time::timeout(LIMIT, exercise(&client, &mut notes))
        .await
        .unwrap();
    client.close().await.unwrap();
}

#[tokio::test]
async fn demo_server_over_in_process_tcp_with_concurrent_clients() {
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", 1 << 20).await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    let server = erlmcp::demo::server();
    let serving = server.clone();
    let listener = tokio::spawn(async move { net::serve_tcp(&serving, acceptor).await });

    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(tokio::spawn(async move {
            let (builder, mut notes) = client_with_notes();
            let client = net::connect_tcp(builder, addr).await.unwrap();
            exercise(&client, &mut notes).await;
            client.close().await.unwrap();
        }));
    }
    for c in clients {
        tokio::time::timeout(LIMIT, c).await.unwrap().unwrap();
    }
    // Every session ended when its client closed.
    for _ in 0..100 {
        if server.session_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.session_count(), 0);
    listener.abort();
}

#[tokio::test]
async fn a_hostile_tcp_peer_does_not_disturb_other_sessions() {
    // Room for the 4 KiB echo and the demo's tools/list page (past 8 KiB since the
    // tasks-extension fixtures) of `exercise`, not for the hostile 20 KB line.
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", 16 * 1024).await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    let server = erlmcp::demo::server();
    let serving = server.clone();
    let listener = tokio::spawn(async move { net::serve_tcp(&serving, acceptor).await });

    let (builder, mut notes) = client_with_notes();
    let good = net::connect_tcp(builder, addr).await.unwrap();

    // The hostile peer: garbage, an oversized line, invalid UTF-8, then a valid ping.
    let mut bad = tokio::net::TcpStream::connect(addr).await.unwrap();
    bad.write_all(b"{{{{ not json\n").await.unwrap();
    bad.write_all(&vec![b'a'; 20_000]).await.unwrap();
    bad.write_all(b"\n\xff\xfe\xfd\n{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(bad).lines();
    let mut codes = Vec::new();
    for _ in 0..4 {
        let line = tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let msg: Value = serde_json::from_str(&line).unwrap();
        codes.push(
            msg["error"]["code"]
                .as_i64()
                .or_else(|| msg["result"].as_object().map(|_| 0))
                .unwrap(),
        );
    }
    assert_eq!(
        codes,
        [-32700, -32600, -32700, 0],
        "garbage, oversized, bad UTF-8, then ping"
    );

    tokio::time::timeout(LIMIT, exercise(&good, &mut notes))
        .await
        .unwrap();
    good.close().await.unwrap();
    listener.abort();
}

/// Waits until `addr` accepts connections (bounded).
async fn wait_for_listener(addr: SocketAddr) {
    for _ in 0..300 {
        if TcpTransport::connect(addr, 1024).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("nothing listening on {addr}");
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn erlmcp_serve_tcp_binary_and_erlmcp_call() {
    let addr = free_port();
    let mut server = Command::new(BIN)
        .args(["serve", "--tcp", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_for_listener(addr).await;

    let out = Command::new(BIN)
        .args([
            "call",
            "tools/call",
            r#"{"name":"echo","arguments":{"text":"over tcp"}}"#,
            "--tcp",
            &addr.to_string(),
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["content"][0]["text"], "over tcp");

    // A JSON-RPC error is printed to stderr and the exit status says so.
    let out = Command::new(BIN)
        .args([
            "call",
            "resources/read",
            r#"{"uri":"demo://missing"}"#,
            "--tcp",
            &addr.to_string(),
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["code"], -32002);

    server.kill().await.unwrap();
}

#[tokio::test]
async fn erlmcp_call_spawns_a_stdio_server() {
    let out = Command::new(BIN)
        .args([
            "call",
            "prompts/get",
            r#"{"name":"greet","arguments":{"name":"Ken"}}"#,
            "--",
            BIN,
            "serve",
            "--stdio",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        result["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("Ken")
    );
}

#[tokio::test]
async fn stdout_carries_only_protocol_even_with_debug_logging() {
    let mut child = Command::new(BIN)
        .args(["serve", "--stdio"])
        .env("ERLMCP_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"log","arguments":{"message":"hello","level":"error"}}}),
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"panic","arguments":{}}}),
    ];
    for msg in &input {
        stdin
            .write_all(format!("{msg}\n").as_bytes())
            .await
            .unwrap();
    }
    // Wait for the answers before closing stdin (EOF ends the session).
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while seen
        .iter()
        .filter(|m: &&Value| m.get("id").is_some())
        .count()
        < 3
    {
        let line = tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let msg: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("non-JSON on stdout: {line:?}: {e}"));
        assert_eq!(msg["jsonrpc"], "2.0", "{line}");
        seen.push(msg);
    }
    drop(stdin);
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "server exits cleanly on stdin EOF");
    assert!(lines.next_line().await.unwrap().is_none());
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(
        stderr.contains("handler panicked"),
        "logs go to stderr: {stderr}"
    );
    assert!(seen.iter().any(|m| m["method"] == "notifications/message"));
}
