//! Both protocol eras against the same demo server over real transports: a real TCP
//! listener (clients of both eras at once, and a raw TCP peer for the exact wire of
//! every stateless-era error code and a forged `requestState`) and a real child
//! process on stdio (the client's auto mode lands on 2026-07-28); and the tasks
//! extension end to end over TCP (a client that drives a task and answers its input,
//! a raw listen stream that hears `notifications/tasks`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use erlmcp::codec::Notification;
use erlmcp::net;
use erlmcp::schema::{
    ContentBlock, CreateMessageResult, ElicitResult, LoggingLevel, ResourceContents, Root,
};
use erlmcp::transport::TcpAcceptor;
use erlmcp::{ClientBuilder, ClientMode};
use serde_json::{Value, json};
use std::sync::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_erlmcp");
const LIMIT: Duration = Duration::from_secs(30);

fn text(result: &erlmcp::schema::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect()
}

/// A client with sampling, elicitation and roots handlers, recording notifications.
fn client(mode: ClientMode) -> (ClientBuilder, Arc<Mutex<Vec<Notification>>>) {
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = notes.clone();
    let builder = ClientBuilder::new("dual-era-test", "1.0.0")
        .mode(mode)
        .sampling(|_p| async move {
            Ok(serde_json::from_value::<CreateMessageResult>(json!({
                "role": "assistant", "content": {"type": "text", "text": "forty-two"}, "model": "test-model"
            }))
            .unwrap())
        })
        .elicitation(|_p| async move {
            Ok(serde_json::from_value::<ElicitResult>(
                json!({"action": "accept", "content": {"answer": "blue"}}),
            )
            .unwrap())
        })
        .roots(vec![Root::new("file:///dual-era-root")])
        .on_notification(move |n| sink.lock().expect("notes").push(n));
    (builder, notes)
}

/// The demo's tools, resources and prompts, and the server → client asks, in either era.
async fn exercise(client: &erlmcp::Client, notes: &Mutex<Vec<Notification>>) {
    let echoed = client
        .call_tool("echo", json!({"text": "hi"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "hi");
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
    let sampled = client
        .call_tool("sample", json!({"prompt": "q"}))
        .await
        .unwrap();
    assert_eq!(text(&sampled), "model (test-model) said: forty-two");
    let asked = client
        .call_tool("ask", json!({"question": "colour?"}))
        .await
        .unwrap();
    assert!(text(&asked).contains("blue"), "{}", text(&asked));
    let roots = client.call_tool("list_roots", json!({})).await.unwrap();
    assert!(
        text(&roots).contains("file:///dual-era-root"),
        "{}",
        text(&roots)
    );
    client.set_logging_level(LoggingLevel::Info).await.unwrap();
    client
        .call_tool("log", json!({"level": "warning", "message": "careful"}))
        .await
        .unwrap();
    let logged = tokio::time::timeout(LIMIT, async {
        loop {
            if notes
                .lock()
                .expect("notes")
                .iter()
                .any(|n| n.method == "notifications/message")
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(logged.is_ok(), "no log notification arrived");
}

#[tokio::test]
async fn both_eras_against_one_demo_server_over_tcp() {
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", 1 << 20).await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    let server = erlmcp::demo::server();
    let serving = server.clone();
    let listener = tokio::spawn(async move { net::serve_tcp(&serving, acceptor).await });

    let mut runs = Vec::new();
    for mode in [ClientMode::Legacy, ClientMode::Auto, ClientMode::Modern] {
        runs.push(tokio::spawn(async move {
            let (builder, notes) = client(mode);
            let client = net::connect_tcp(builder, addr).await.unwrap();
            let expected = if mode == ClientMode::Legacy {
                "2025-11-25"
            } else {
                "2026-07-28"
            };
            assert_eq!(client.protocol_version().as_str(), expected, "{mode:?}");
            assert_eq!(client.server().server_info.name, "erlmcp-demo");
            exercise(&client, &notes).await;
            client.close().await.unwrap();
        }));
    }
    for run in runs {
        tokio::time::timeout(LIMIT, run).await.unwrap().unwrap();
    }
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
async fn auto_mode_lands_on_2026_over_a_real_child_process_on_stdio() {
    let (builder, notes) = client(ClientMode::Auto);
    let mut command = Command::new(BIN);
    command.args(["serve", "--stdio"]);
    let client = tokio::time::timeout(LIMIT, net::connect_child(builder, &mut command))
        .await
        .unwrap()
        .unwrap();
    assert!(client.is_stateless());
    assert_eq!(
        client.discover_result().unwrap().supported_versions,
        ["2026-07-28"]
    );
    tokio::time::timeout(LIMIT, exercise(&client, &notes))
        .await
        .unwrap();
    client.close().await.unwrap();
}

/// A raw JSON-lines peer on a TCP socket.
struct Raw {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.writer
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        loop {
            let mut buf = String::new();
            let n = tokio::time::timeout(LIMIT, self.reader.read_line(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "server closed the connection");
            let msg: Value = serde_json::from_str(&buf).unwrap();
            if msg["id"] == json!(id) {
                return msg;
            }
        }
    }
}

fn meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
    })
}

fn error_code(msg: &Value) -> i64 {
    msg["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {msg}"))
}

#[tokio::test]
async fn stateless_error_codes_and_forged_request_state_on_the_tcp_wire() {
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", 1 << 20).await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    let server = erlmcp::demo::server();
    let serving = server.clone();
    let listener = tokio::spawn(async move { net::serve_tcp(&serving, acceptor).await });
    let (read, writer) = TcpStream::connect(addr).await.unwrap().into_split();
    let mut raw = Raw {
        reader: BufReader::new(read),
        writer,
    };

    let discover = raw
        .request(1, "server/discover", json!({"_meta": meta(json!({}))}))
        .await;
    assert_eq!(
        discover["result"]["supportedVersions"],
        json!(["2026-07-28"])
    );
    assert_eq!(discover["result"]["resultType"], "complete");
    let missing = raw
        .request(
            2,
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}),
        )
        .await;
    assert_eq!(error_code(&missing), -32602);
    let mut old = meta(json!({}));
    old["io.modelcontextprotocol/protocolVersion"] = json!("2024-01-01");
    let unsupported = raw.request(3, "tools/list", json!({"_meta": old})).await;
    assert_eq!(error_code(&unsupported), -32022);
    assert_eq!(
        unsupported["error"]["data"]["supported"],
        json!(["2026-07-28"])
    );
    let no_caps = raw
        .request(
            4,
            "tools/call",
            json!({"_meta": meta(json!({})), "name": "sample", "arguments": {"prompt": "q"}}),
        )
        .await;
    assert_eq!(error_code(&no_caps), -32021);
    let not_found = raw
        .request(
            5,
            "resources/read",
            json!({"_meta": meta(json!({})), "uri": "demo://nope"}),
        )
        .await;
    assert_eq!(error_code(&not_found), -32602);

    let params = json!({"_meta": meta(json!({"sampling": {}})), "name": "sample", "arguments": {"prompt": "q"}});
    let round1 = raw.request(6, "tools/call", params.clone()).await;
    assert_eq!(round1["result"]["resultType"], "input_required", "{round1}");
    let state = round1["result"]["requestState"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = json!({"sampling-1": {"role": "assistant", "content": {"type": "text", "text": "ok"}, "model": "m"}});
    let mut forged = params.clone();
    forged["inputResponses"] = answer.clone();
    forged["requestState"] = json!(format!("{}x", state));
    let refused = raw.request(7, "tools/call", forged).await;
    assert_eq!(error_code(&refused), -32602);
    let mut retry = params;
    retry["inputResponses"] = answer;
    retry["requestState"] = json!(state);
    let done = raw.request(8, "tools/call", retry).await;
    assert_eq!(
        done["result"]["content"][0]["text"], "model (m) said: ok",
        "{done}"
    );
    listener.abort();
}

impl Raw {
    async fn connect(addr: std::net::SocketAddr) -> Raw {
        let (read, writer) = TcpStream::connect(addr).await.unwrap().into_split();
        Raw {
            reader: BufReader::new(read),
            writer,
        }
    }

    async fn send(&mut self, message: Value) {
        self.writer
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
    }

    async fn recv(&mut self) -> Value {
        let mut buf = String::new();
        let n = tokio::time::timeout(LIMIT, self.reader.read_line(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "server closed the connection");
        serde_json::from_str(&buf).unwrap()
    }
}

/// The tasks extension against the demo server over TCP: a client built with
/// `.tasks()` gets a task for `confirm_delete` / `multi_input`, answers their input
/// with its elicitation handler through `tasks/update` and returns the final results;
/// a raw listen stream that asked for a task's id hears its `notifications/tasks`.
#[tokio::test]
async fn tasks_extension_end_to_end_over_tcp() {
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", 1 << 20).await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    let server = erlmcp::demo::server();
    let serving = server.clone();
    let listener = tokio::spawn(async move { net::serve_tcp(&serving, acceptor).await });

    let builder = ClientBuilder::new("tasks-e2e", "1")
        .mode(ClientMode::Modern)
        .tasks()
        .elicitation(|p| async move {
            let asks_delete = serde_json::to_value(&p).unwrap()["message"]
                .as_str()
                .is_some_and(|m| m.contains("Delete"));
            let answer = if asks_delete {
                json!({"action": "accept", "content": {"confirm": true}})
            } else {
                json!({"action": "accept", "content": {"name": "Ann"}})
            };
            Ok(serde_json::from_value::<ElicitResult>(answer).unwrap())
        });
    let client = tokio::time::timeout(LIMIT, net::connect_tcp(builder, addr))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        client.discover_result().unwrap().capabilities.extra["extensions"],
        json!({"io.modelcontextprotocol/tasks": {}})
    );
    let deleted = tokio::time::timeout(
        LIMIT,
        client.call_tool("confirm_delete", json!({"filename": "report.txt"})),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(text(&deleted), "deleted report.txt");
    let both = tokio::time::timeout(LIMIT, client.call_tool("multi_input", json!({})))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(text(&both), "Ann and Ann");

    // A raw caller starts a task; a raw listener asks for its id and hears it end.
    let ext = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}, "elicitation": {}});
    let mut caller = Raw::connect(addr).await;
    let created = caller
        .request(
            1,
            "tools/call",
            json!({"_meta": meta(ext.clone()), "name": "confirm_delete", "arguments": {"filename": "a.txt"}}),
        )
        .await;
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let id = created["result"]["taskId"].as_str().unwrap().to_owned();
    let mut listen = Raw::connect(addr).await;
    listen
        .send(
            json!({"jsonrpc": "2.0", "id": "tasks", "method": "subscriptions/listen", "params": {
                "_meta": meta(ext.clone()), "notifications": {"taskIds": [id]},
            }}),
        )
        .await;
    let ack = listen.recv().await;
    assert_eq!(
        ack["params"]["notifications"]["taskIds"],
        json!([id]),
        "{ack}"
    );
    for _ in 0..100 {
        if server.listener_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut waiting = Value::Null;
    for n in 0..200 {
        let got = caller
            .request(
                10 + n,
                "tasks/get",
                json!({"_meta": meta(ext.clone()), "taskId": id}),
            )
            .await;
        if got["result"]["status"] == "input_required" {
            waiting = got;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        waiting["result"]["inputRequests"]["confirm"]["method"], "elicitation/create",
        "{waiting}"
    );
    let ack = caller
        .request(
            300,
            "tasks/update",
            json!({"_meta": meta(ext.clone()), "taskId": id,
                   "inputResponses": {"confirm": {"action": "accept", "content": {"confirm": false}}}}),
        )
        .await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    let done = loop {
        let note = listen.recv().await;
        assert_eq!(note["method"], "notifications/tasks", "{note}");
        assert_eq!(note["params"]["taskId"], id.as_str());
        if note["params"]["status"] == "completed" {
            break note;
        }
    };
    assert_eq!(done["params"]["result"]["content"][0]["text"], "kept a.txt");
    assert_eq!(
        done["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "tasks"
    );
    client.close().await.unwrap();
    listener.abort();
}
