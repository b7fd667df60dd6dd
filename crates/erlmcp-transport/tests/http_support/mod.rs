//! Helpers for the Streamable HTTP tests: a listener with a scripted stand-in for the
//! protocol engine, and a raw HTTP client that reads SSE event by event.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use erlmcp_transport::http::{
    HttpIncoming, HttpListener, HttpServerConfig, HttpServerHandle, ParamHeaderSource,
};
use erlmcp_transport::{Frame, FrameReader, FrameWriter, Transport};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::{Mutex, oneshot};

/// Every wait in these tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Runs `fut`, failing the test if it takes longer than [`LIMIT`].
pub async fn bounded<F: std::future::Future>(fut: F) -> F::Output {
    tokio::time::timeout(LIMIT, fut)
        .await
        .expect("test step did not finish in time")
}

/// A running listener and what its stand-in engine observed.
pub struct Harness {
    pub handle: HttpServerHandle,
    pub url: String,
    /// Sessions whose reader yielded `None` (the engine saw the end).
    pub ended: Arc<AtomicUsize>,
    pub accept_task: tokio::task::JoinHandle<()>,
}

/// Starts a listener on a free loopback port with `config` and the scripted engine.
pub async fn start(config: HttpServerConfig) -> Harness {
    start_with(config, None).await
}

/// [`start`], with a source of `x-mcp-header` annotations for `tools/call`.
pub async fn start_with(
    config: HttpServerConfig,
    params: Option<Arc<dyn ParamHeaderSource>>,
) -> Harness {
    let listener = HttpListener::bind(config).await.expect("bind");
    if let Some(params) = params {
        listener.set_param_headers(params);
    }
    let handle = listener.handle();
    let url = format!("http://{}/mcp", listener.local_addr());
    let ended = Arc::new(AtomicUsize::new(0));
    let ended_for_task = ended.clone();
    let accept_task = tokio::spawn(async move {
        while let Ok(transport) = listener.accept().await {
            tokio::spawn(scripted_session(transport, ended_for_task.clone()));
        }
    });
    Harness {
        handle,
        url,
        ended,
        accept_task,
    }
}

type Writer = Arc<Mutex<erlmcp_transport::http::HttpIncomingWriter>>;

async fn write(writer: &Writer, message: Value) {
    let frame = Bytes::from(serde_json::to_vec(&message).expect("json"));
    let _ = writer.lock().await.write_batch(&[frame]).await;
}

/// A stand-in engine. Requests:
/// - `initialize`: echoes the requested protocol version;
/// - `ping`: `{}`; `echo`: its params;
/// - `slow` `{ms}`: answers after `ms`;
/// - `progress` `{ms}`: sends `notifications/progress`, waits `ms`, answers;
/// - `sample`: sends the request `sampling/createMessage` (id `"srv-1"`) and answers with
///   the client's answer to it.
///
/// - `stream` `{n, ms}`: sends `n` notifications `tick` `{i}`, `ms` apart, and never
///   answers (like `subscriptions/listen`);
/// - `fail` `{code}`: answers with that JSON-RPC error code;
/// - `tools/list`: the tool `route` (arguments `region`, string, and `shard`, integer,
///   mirrored as `Mcp-Param-Region` / `-Shard`) and `broken` (an annotation on a number);
/// - `tools/call`: `{called: name, arguments}`.
///
/// Notification `trigger/push` `{n}`: sends `n` notifications `pushed` `{i}`.
async fn scripted_session(transport: HttpIncoming, ended: Arc<AtomicUsize>) {
    let (mut reader, writer) = transport.split();
    let writer: Writer = Arc::new(Mutex::new(writer));
    let waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>> = Arc::default();
    while let Some(frame) = reader.next_frame().await {
        let Ok(Frame::Message(bytes)) = frame else {
            continue;
        };
        let message: Value = serde_json::from_slice(&bytes).expect("engine got JSON");
        let id = message.get("id").cloned();
        let params = message.get("params").cloned().unwrap_or(json!({}));
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            // An answer to one of our requests.
            let key = id.map(|i| i.to_string()).unwrap_or_default();
            if let Some(tx) = waiting.lock().await.remove(&key) {
                let _ = tx.send(message.get("result").cloned().unwrap_or(Value::Null));
            }
            continue;
        };
        let writer = writer.clone();
        let answer = |result: Value| json!({"jsonrpc": "2.0", "id": id.clone(), "result": result});
        match (method, id.is_some()) {
            ("trigger/push", false) => {
                let n = params["n"].as_u64().unwrap_or(1);
                for i in 0..n {
                    write(
                        &writer,
                        json!({"jsonrpc":"2.0","method":"pushed","params":{"i": i}}),
                    )
                    .await;
                }
            }
            (_, false) => {}
            ("initialize", true) => {
                let version = params["protocolVersion"].clone();
                write(&writer, answer(json!({"protocolVersion": version, "capabilities": {}, "serverInfo": {"name": "scripted", "version": "0"}}))).await;
            }
            ("ping", true) => write(&writer, answer(json!({}))).await,
            ("tools/list", true) => {
                write(
                    &writer,
                    answer(json!({"tools": [
                        {"name": "route", "inputSchema": {"type": "object", "properties": {
                            "region": {"type": "string", "x-mcp-header": "Region"},
                            "shard": {"type": "integer", "x-mcp-header": "Shard"},
                            "query": {"type": "string"}
                        }}},
                        {"name": "broken", "inputSchema": {"type": "object", "properties": {
                            "ratio": {"type": "number", "x-mcp-header": "Ratio"}
                        }}}
                    ]})),
                )
                .await;
            }
            ("tools/call", true) => {
                write(
                    &writer,
                    answer(json!({"called": params["name"], "arguments": params["arguments"]})),
                )
                .await;
            }
            ("fail", true) => {
                let code = params["code"].as_i64().unwrap_or(-32603);
                write(&writer, json!({"jsonrpc":"2.0","id": id,"error":{"code": code,"message": "scripted failure"}})).await;
            }
            ("stream", true) => {
                let n = params["n"].as_u64().unwrap_or(1);
                let ms = params["ms"].as_u64().unwrap_or(10);
                tokio::spawn(async move {
                    for i in 0..n {
                        write(
                            &writer,
                            json!({"jsonrpc":"2.0","method":"tick","params":{"i": i}}),
                        )
                        .await;
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                });
            }
            ("echo", true) => write(&writer, answer(params)).await,
            ("slow", true) => {
                let ms = params["ms"].as_u64().unwrap_or(100);
                let message = answer(json!({"slept": ms}));
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    write(&writer, message).await;
                });
            }
            ("progress", true) => {
                let ms = params["ms"].as_u64().unwrap_or(50);
                let message = answer(json!({"done": true}));
                tokio::spawn(async move {
                    write(&writer, json!({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress": 1}})).await;
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    write(&writer, message).await;
                });
            }
            ("sample", true) => {
                let (tx, rx) = oneshot::channel();
                waiting.lock().await.insert("\"srv-1\"".to_owned(), tx);
                let id = id.clone();
                tokio::spawn(async move {
                    write(&writer, json!({"jsonrpc":"2.0","id":"srv-1","method":"sampling/createMessage","params":{}})).await;
                    let sampled = rx.await.unwrap_or(Value::Null);
                    write(
                        &writer,
                        json!({"jsonrpc":"2.0","id": id,"result":{"sampled": sampled}}),
                    )
                    .await;
                });
            }
            (other, true) => {
                write(&writer, json!({"jsonrpc":"2.0","id": id,"error":{"code":-32601,"message": format!("no {other}")}})).await;
            }
        }
    }
    ended.fetch_add(1, Ordering::SeqCst);
    let _ = writer.lock().await.close().await;
}

/// A raw HTTP client.
pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// Both media types MCP clients must accept.
pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";

/// Builds a request to `url` with the given headers.
pub fn request(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(Bytes::from(body.to_owned())));
    *request.method_mut() = method;
    *request.uri_mut() = url.parse().expect("url");
    for (name, value) in headers {
        request.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    request
}

/// A POST of `body` with the usual MCP headers plus `extra`.
pub fn post(
    url: &str,
    session: Option<&str>,
    body: &Value,
    extra: &[(&str, &str)],
) -> Request<Full<Bytes>> {
    let mut headers = vec![
        ("accept", ACCEPT_BOTH),
        ("content-type", "application/json"),
    ];
    if let Some(session) = session {
        headers.push(("mcp-session-id", session));
    }
    headers.extend_from_slice(extra);
    request(Method::POST, url, &headers, &body.to_string())
}

/// The `initialize` request.
pub fn initialize(id: i64) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}})
}

/// A request.
pub fn rpc(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":method,"params":params})
}

/// Sends a request and returns the response.
pub async fn send(request: Request<Full<Bytes>>) -> Response<Incoming> {
    bounded(client().request(request))
        .await
        .expect("request sent")
}

/// Reads a whole body as JSON.
pub async fn json_body(response: Response<Incoming>) -> Value {
    let bytes = bounded(response.into_body().collect())
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("JSON body")
}

/// Reads a whole body.
pub async fn body_bytes(response: Response<Incoming>) -> Bytes {
    bounded(response.into_body().collect())
        .await
        .expect("body")
        .to_bytes()
}

/// A header as text.
pub fn header<'a>(response: &'a Response<Incoming>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// One SSE event as seen on the wire.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    pub id: Option<String>,
    pub retry: Option<u64>,
    pub data: String,
    pub has_data: bool,
}

impl Event {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).expect("event data is JSON")
    }
}

/// Reads SSE events from a response body, one at a time.
pub struct EventReader {
    body: Incoming,
    buf: String,
}

impl EventReader {
    pub fn new(response: Response<Incoming>) -> Self {
        assert_eq!(header(&response, "content-type"), Some("text/event-stream"));
        EventReader {
            body: response.into_body(),
            buf: String::new(),
        }
    }

    /// The next event block (events and `retry:`-only blocks; comments skipped), or `None`
    /// when the stream ended.
    pub async fn next(&mut self) -> Option<Event> {
        bounded(self.next_unbounded()).await
    }

    async fn next_unbounded(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = Event::default();
                let mut comment_only = true;
                for line in block.lines() {
                    if line.starts_with(':') || line.is_empty() {
                        continue;
                    }
                    comment_only = false;
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "id" => event.id = Some(value.to_owned()),
                        "retry" => event.retry = value.parse().ok(),
                        "data" => {
                            if event.has_data {
                                event.data.push('\n');
                            }
                            event.has_data = true;
                            event.data.push_str(value);
                        }
                        _ => {}
                    }
                }
                if comment_only {
                    continue;
                }
                return Some(event);
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf
                            .push_str(std::str::from_utf8(&data).expect("utf-8"));
                    }
                }
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// The next event carrying data (priming and retry blocks skipped).
    pub async fn next_message(&mut self) -> Option<Event> {
        loop {
            let event = self.next().await?;
            if event.has_data && !event.data.is_empty() {
                return Some(event);
            }
        }
    }

    /// True if the stream ends (no more events) within `wait`.
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        matches!(
            tokio::time::timeout(wait, self.next_unbounded()).await,
            Ok(None)
        )
    }
}

/// Initializes a session over raw HTTP; returns its id.
pub async fn open_session(url: &str) -> String {
    let response = send(post(url, None, &initialize(0), &[])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = header(&response, "mcp-session-id")
        .expect("session id")
        .to_owned();
    let content_type = header(&response, "content-type")
        .unwrap_or_default()
        .to_owned();
    if content_type == "text/event-stream" {
        let mut events = EventReader::new(response);
        let answer = events.next_message().await.expect("initialize answer");
        assert_eq!(answer.json()["id"], 0);
    } else {
        let _ = body_bytes(response).await;
    }
    let initialized = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    let response = send(post(
        url,
        Some(&id),
        &initialized,
        &[("mcp-protocol-version", "2025-11-25")],
    ))
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    id
}

/// Waits until `cond` holds (polling), failing after [`LIMIT`].
pub async fn eventually(mut cond: impl FnMut() -> bool) {
    bounded(async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
