//! The Streamable HTTP server's rules for MCP 2026-07-28 (stateless) requests, over real
//! loopback sockets with a scripted engine: the era chosen per request, the mirrored
//! headers checked against the body (-32020, HTTP 400), answer statuses, JSON or SSE
//! answers, cancellation by closing the response, modern-only deployments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use erlmcp_transport::http::{
    EraPolicy, HttpServerConfig, ParamHeader, ParamHeaderSource, ResponseMode, mirror,
};
use http_support::*;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const V: &str = "2026-07-28";

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"}
    })
}

/// A modern request: `params` plus the per-request `_meta`.
fn modern(id: i64, method: &str, params: Value) -> Value {
    let mut params = params;
    params["_meta"] = meta();
    rpc(id, method, params)
}

/// The headers a conforming client sends for `body` (method and name mirrored).
fn mirrored(body: &Value) -> Vec<(String, String)> {
    let method = body["method"].as_str().unwrap().to_owned();
    let mut headers = vec![
        ("mcp-protocol-version".to_owned(), V.to_owned()),
        ("mcp-method".to_owned(), method.clone()),
    ];
    if let Some(field) = mirror::name_field(&method)
        && let Some(name) = body["params"][field].as_str()
    {
        headers.push(("mcp-name".to_owned(), mirror::encode_value(name)));
    }
    headers
}

async fn post_with(
    url: &str,
    body: &Value,
    headers: &[(String, String)],
) -> hyper::Response<hyper::body::Incoming> {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    send(post(url, None, body, &pairs)).await
}

/// Posts `body` with its mirrored headers, changed by `edit`.
async fn post_edited(
    url: &str,
    body: &Value,
    edit: impl FnOnce(&mut Vec<(String, String)>),
) -> hyper::Response<hyper::body::Incoming> {
    let mut headers = mirrored(body);
    edit(&mut headers);
    post_with(url, body, &headers).await
}

fn set(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value.to_owned()));
}

fn remove(headers: &mut Vec<(String, String)>, name: &str) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
}

async fn expect_mismatch(response: hyper::Response<hyper::body::Incoming>, id: i64) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = json_body(response).await;
    assert_eq!(body["error"]["code"], -32020, "{body}");
    assert_eq!(body["id"], id, "{body}");
}

fn json_config() -> HttpServerConfig {
    HttpServerConfig {
        response_mode: ResponseMode::Json,
        ..HttpServerConfig::default()
    }
}

#[tokio::test]
async fn a_sessionless_modern_request_is_served_statelessly() {
    let h = start(HttpServerConfig::default()).await;
    let body = modern(1, "echo", json!({"x": 1}));
    let response = post_edited(&h.url, &body, |_| {}).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(header(&response, "mcp-session-id"), None);
    let answer = json_body(response).await;
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["result"]["x"], 1);
    assert_eq!(h.handle.session_count(), 0);
    // The exchange's reader ended once the answer was out.
    bounded(async {
        while h.ended.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(h.handle.exchange_count(), 0);
    // Several at once, same id even: each is its own exchange.
    let (slow, echo) = (
        modern(5, "slow", json!({"ms": 100})),
        modern(5, "echo", json!({"y": 2})),
    );
    let (a, b) = tokio::join!(
        post_edited(&h.url, &slow, |_| {}),
        post_edited(&h.url, &echo, |_| {})
    );
    assert_eq!(json_body(a).await["result"]["slept"], 100);
    assert_eq!(json_body(b).await["result"]["y"], 2);
}

#[tokio::test]
async fn server_discover_and_a_modern_version_header_also_select_the_modern_era() {
    let h = start(HttpServerConfig::default()).await;
    // No _meta at all: the engine judges the envelope; the transport only routes it.
    let discover = rpc(2, "server/discover", json!({}));
    let response = post_with(
        &h.url,
        &discover,
        &[("mcp-method".into(), "server/discover".into())],
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "scripted engine has no server/discover"
    );
    assert_eq!(json_body(response).await["error"]["code"], -32601);
    let listed = rpc(3, "echo", json!({}));
    let response = post_with(
        &h.url,
        &listed,
        &[("mcp-protocol-version".into(), V.into())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    // A handshake-era version without a session is still the handshake era: 400.
    let response = post_with(
        &h.url,
        &listed,
        &[("mcp-protocol-version".into(), "2025-11-25".into())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.handle.session_count(), 0);
}

#[tokio::test]
async fn protocol_version_and_method_headers_must_match_the_body() {
    let h = start(HttpServerConfig::default()).await;
    let body = modern(11, "echo", json!({}));
    expect_mismatch(
        post_edited(&h.url, &body, |hd| remove(hd, "mcp-protocol-version")).await,
        11,
    )
    .await;
    expect_mismatch(
        post_edited(&h.url, &body, |hd| {
            set(hd, "mcp-protocol-version", "2025-11-25")
        })
        .await,
        11,
    )
    .await;
    expect_mismatch(
        post_edited(&h.url, &body, |hd| remove(hd, "mcp-method")).await,
        11,
    )
    .await;
    expect_mismatch(
        post_edited(&h.url, &body, |hd| set(hd, "mcp-method", "ping")).await,
        11,
    )
    .await;
    // Values are case-sensitive.
    expect_mismatch(
        post_edited(&h.url, &body, |hd| set(hd, "mcp-method", "ECHO")).await,
        11,
    )
    .await;
    // A repeated header is refused: first-copy and last-copy readers would disagree.
    let mut twice = mirrored(&body);
    twice.push(("mcp-method".into(), "echo".into()));
    let pairs: Vec<(&str, &str)> = twice
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let mut request = post(&h.url, None, &body, &[]);
    for (name, value) in pairs {
        request.headers_mut().append(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            hyper::header::HeaderValue::from_str(value).unwrap(),
        );
    }
    expect_mismatch(send(request).await, 11).await;
    // Nothing refused reached the engine.
    assert_eq!(h.ended.load(Ordering::SeqCst), 0);
    let ok = post_edited(&h.url, &body, |_| {}).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_name_header_mirrors_name_or_uri_with_base64_for_non_ascii() {
    let h = start(HttpServerConfig::default()).await;
    for (method, field) in [
        ("tools/call", "name"),
        ("prompts/get", "name"),
        ("resources/read", "uri"),
    ] {
        let body = modern(21, method, json!({field: "résumé 世界"}));
        let encoded = mirror::encode_value("résumé 世界");
        assert!(encoded.starts_with("=?base64?"));
        // Base64 form: accepted.
        let response = post_edited(&h.url, &body, |hd| set(hd, "mcp-name", &encoded)).await;
        accepted(response).await;
        expect_mismatch(
            post_edited(&h.url, &body, |hd| remove(hd, "mcp-name")).await,
            21,
        )
        .await;
        expect_mismatch(
            post_edited(&h.url, &body, |hd| set(hd, "mcp-name", "other")).await,
            21,
        )
        .await;
        // Broken Base64.
        expect_mismatch(
            post_edited(&h.url, &body, |hd| {
                set(hd, "mcp-name", "=?base64?cmVz!!!?=")
            })
            .await,
            21,
        )
        .await;
    }
    // A value that looks like the sentinel but lacks the suffix is literal.
    let body = modern(22, "tools/call", json!({"name": "=?base64?abc"}));
    let response = post_edited(&h.url, &body, |hd| set(hd, "mcp-name", "=?base64?abc")).await;
    accepted(response).await;
}

/// Past the header checks: the scripted engine answered (a result, or -32601 for methods
/// it does not know), not the -32020 refusal.
async fn accepted(response: hyper::Response<hyper::body::Incoming>) {
    let status = response.status();
    let body = json_body(response).await;
    assert!(
        status == StatusCode::OK || status == StatusCode::NOT_FOUND,
        "{status} {body}"
    );
    assert_ne!(body["error"]["code"], -32020, "{body}");
}

/// Writes one raw HTTP/1.1 request and reads the whole response (status line, headers,
/// body) as text; for header spellings and bytes a client library would normalise.
async fn raw(addr: std::net::SocketAddr, head: &[u8], body: &str) -> String {
    let mut stream = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
    let mut request = head.to_vec();
    request.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    stream.write_all(&request).await.unwrap();
    let mut out = Vec::new();
    bounded(stream.read_to_end(&mut out)).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn raw_head(addr: std::net::SocketAddr, extra: &str) -> Vec<u8> {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\n{extra}"
    )
    .into_bytes()
}

#[tokio::test]
async fn header_names_are_case_insensitive_and_values_may_carry_surrounding_whitespace() {
    let h = start(HttpServerConfig::default()).await;
    let addr = h.handle.local_addr();
    let body = modern(31, "tools/call", json!({"name": "get_weather"})).to_string();
    let head = raw_head(
        addr,
        "MCP-PROTOCOL-VERSION: 2026-07-28\r\nMCP-METHOD: tools/call\r\nmcp-name:   get_weather  \r\n",
    );
    let response = raw(addr, &head, &body).await;
    // Accepted: the scripted engine's answer, not -32020.
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""called":"get_weather""#), "{response}");
    // Raw non-ASCII bytes in Mcp-Name are refused: such values must be Base64-encoded.
    let mut head = raw_head(
        addr,
        "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: ",
    );
    head.extend_from_slice("get_wéather\r\n".as_bytes());
    let body = modern(32, "tools/call", json!({"name": "get_wéather"})).to_string();
    let response = raw(addr, &head, &body).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("-32020"), "{response}");
    // Control bytes in an Mcp-* header: refused by the HTTP parser already.
    let mut head = raw_head(
        addr,
        "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: get",
    );
    head.extend_from_slice(b"\x01weather\r\n");
    let body = modern(33, "tools/call", json!({"name": "get\u{1}weather"})).to_string();
    let response = raw(addr, &head, &body).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    // An Mcp-* value past the header size limit: -32020 from the security check.
    let long = "x".repeat(9000);
    let head = raw_head(
        addr,
        &format!(
            "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: {long}\r\n"
        ),
    );
    let body = modern(34, "tools/call", json!({"name": long})).to_string();
    let response = raw(addr, &head, &body).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("-32020"), "{response}");
}

/// Annotations for the tool `route`: `region` (string) and `shard` (integer).
struct Annotations;

impl ParamHeaderSource for Annotations {
    fn param_headers(&self, tool: &str) -> Option<Arc<[ParamHeader]>> {
        (tool == "route").then(|| {
            mirror::param_headers(&json!({"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "shard": {"type": "integer", "x-mcp-header": "Shard"},
                "query": {"type": "string"}
            }}))
            .unwrap()
            .into()
        })
    }
}

#[tokio::test]
async fn mcp_param_headers_mirror_annotated_arguments() {
    let h = start_with(HttpServerConfig::default(), Some(Arc::new(Annotations))).await;
    let call = |args: Value| {
        modern(
            41,
            "tools/call",
            json!({"name": "route", "arguments": args}),
        )
    };
    let accepted = |response: hyper::Response<hyper::body::Incoming>| async move {
        // Past the header checks: the scripted engine's answer.
        assert_eq!(response.status(), StatusCode::OK);
        assert!(json_body(response).await["result"]["called"].is_string());
    };
    let body = call(json!({"region": "us-west1", "shard": 7, "query": "q"}));
    accepted(
        post_edited(&h.url, &body, |hd| {
            set(hd, "Mcp-Param-Region", "us-west1");
            set(hd, "Mcp-Param-Shard", "7");
        })
        .await,
    )
    .await;
    // Base64, and numeric comparison of integers.
    let body = call(json!({"region": "Hello", "shard": 7}));
    accepted(
        post_edited(&h.url, &body, |hd| {
            set(hd, "mcp-param-region", "=?base64?SGVsbG8=?=");
            set(hd, "mcp-param-shard", "7.0");
        })
        .await,
    )
    .await;
    // Bad padding, bad alphabet.
    for bad in ["=?base64?SGVsbG8?=", "=?base64?SGVs!!!bG8=?="] {
        expect_mismatch(
            post_edited(&h.url, &body, |hd| {
                set(hd, "mcp-param-region", bad);
                set(hd, "mcp-param-shard", "7");
            })
            .await,
            41,
        )
        .await;
    }
    // Without both markers a value is literal: the Base64 text itself must be the argument.
    let literal = call(json!({"region": "SGVsbG8="}));
    accepted(
        post_edited(&h.url, &literal, |hd| {
            set(hd, "mcp-param-region", "SGVsbG8=")
        })
        .await,
    )
    .await;
    // The header omitted while the body has the argument.
    expect_mismatch(
        post_edited(&h.url, &call(json!({"region": "x"})), |_| {}).await,
        41,
    )
    .await;
    // A header for an argument the body lacks.
    expect_mismatch(
        post_edited(&h.url, &call(json!({})), |hd| {
            set(hd, "mcp-param-region", "x")
        })
        .await,
        41,
    )
    .await;
    // A different value.
    expect_mismatch(
        post_edited(&h.url, &call(json!({"shard": 7})), |hd| {
            set(hd, "mcp-param-shard", "8")
        })
        .await,
        41,
    )
    .await;
    // null counts as absent; unannotated tools and headers are not checked.
    accepted(post_edited(&h.url, &call(json!({"region": null})), |_| {}).await).await;
    let other = modern(
        42,
        "tools/call",
        json!({"name": "plain", "arguments": {"region": "x"}}),
    );
    accepted(post_edited(&h.url, &other, |hd| set(hd, "mcp-param-other", "y")).await).await;
}

#[tokio::test]
async fn answer_statuses_follow_the_error_code() {
    let h = start(HttpServerConfig::default()).await;
    for (code, status) in [
        (-32601, StatusCode::NOT_FOUND),
        (-32602, StatusCode::BAD_REQUEST),
        (-32600, StatusCode::BAD_REQUEST),
        (-32021, StatusCode::BAD_REQUEST),
        (-32022, StatusCode::BAD_REQUEST),
        (-32603, StatusCode::OK),
        (-1, StatusCode::OK),
    ] {
        let body = modern(51, "fail", json!({"code": code}));
        let response = post_edited(&h.url, &body, |_| {}).await;
        assert_eq!(response.status(), status, "code {code}");
        let answer = json_body(response).await;
        assert_eq!(answer["error"]["code"], code);
        assert_eq!(answer["id"], 51);
    }
}

#[tokio::test]
async fn notifications_before_the_answer_open_an_sse_stream_without_ids() {
    // Even in JSON response mode: the stream belongs to the request.
    let h = start(json_config()).await;
    let body = modern(61, "progress", json!({"ms": 30}));
    let response = post_edited(&h.url, &body, |_| {}).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), Some("text/event-stream"));
    assert_eq!(header(&response, "x-accel-buffering"), Some("no"));
    assert_eq!(header(&response, "mcp-session-id"), None);
    let mut events = EventReader::new(response);
    let first = events.next().await.expect("progress event");
    assert_eq!(first.id, None);
    assert_eq!(first.json()["method"], "notifications/progress");
    let answer = events.next().await.expect("answer event");
    assert_eq!(answer.json()["id"], 61);
    assert!(events.next().await.is_none(), "the answer ends the stream");
    // A notification POSTed by a modern client is accepted and goes nowhere.
    let note =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"_meta": meta()}});
    let response = post_with(&h.url, &note, &[("mcp-protocol-version".into(), V.into())]).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(h.handle.session_count(), 0);
}

#[tokio::test]
async fn closing_the_response_cancels_the_request() {
    let h = start(HttpServerConfig::default()).await;
    // A stream that would never end (like subscriptions/listen), closed by the client.
    let response = post_edited(
        &h.url,
        &modern(71, "stream", json!({"n": 1000, "ms": 20})),
        |_| {},
    )
    .await;
    let mut events = EventReader::new(response);
    assert_eq!(events.next().await.expect("tick").json()["method"], "tick");
    assert_eq!(h.handle.exchange_count(), 1);
    drop(events);
    bounded(async {
        while h.ended.load(Ordering::SeqCst) < 1 || h.handle.exchange_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // A request waiting for its JSON answer, its connection dropped before the answer.
    let addr = h.handle.local_addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = modern(72, "slow", json!({"ms": 60_000})).to_string();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nMCP-Protocol-Version: {V}\r\nMcp-Method: slow\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    bounded(async {
        while h.handle.exchange_count() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    drop(stream);
    bounded(async {
        while h.ended.load(Ordering::SeqCst) < 2 || h.handle.exchange_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn modern_only_deployments_refuse_get_and_delete_and_ignore_session_ids() {
    let h = start(HttpServerConfig {
        eras: EraPolicy::ModernOnly,
        ..HttpServerConfig::default()
    })
    .await;
    for method in [Method::GET, Method::DELETE, Method::PUT] {
        let response = send(request(
            method.clone(),
            &h.url,
            &[("accept", "text/event-stream"), ("mcp-session-id", "abc")],
            "",
        ))
        .await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(header(&response, "allow"), Some("POST"));
    }
    // A stale session id and Last-Event-ID are ignored; no session id is minted.
    let body = modern(81, "echo", json!({"z": 3}));
    let response = post_edited(&h.url, &body, |hd| {
        set(hd, "mcp-session-id", "no-such-session");
        set(hd, "last-event-id", "1:1");
    })
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "mcp-session-id"), None);
    assert_eq!(json_body(response).await["result"]["z"], 3);
    // initialize does not exist in 2026-07-28: 404 and -32601, and no session.
    bounded(async {
        while h.ended.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let response = post_with(
        &h.url,
        &initialize(82),
        &[("mcp-method".into(), "initialize".into())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&response, "mcp-session-id"), None);
    let body = json_body(response).await;
    assert_eq!(
        (body["id"].clone(), body["error"]["code"].clone()),
        (json!(82), json!(-32601))
    );
    assert_eq!(h.handle.session_count(), 0);
    assert_eq!(
        h.ended.load(Ordering::SeqCst),
        1,
        "initialize never reached the engine"
    );
}

#[tokio::test]
async fn an_initialize_carrying_the_modern_meta_is_a_removed_method() {
    let h = start(HttpServerConfig::default()).await;
    let body = modern(
        83,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}}),
    );
    let response = post_edited(&h.url, &body, |_| {}).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&response, "mcp-session-id"), None);
    assert_eq!(json_body(response).await["error"]["code"], -32601);
    assert_eq!(h.handle.session_count(), 0);
    // Without the modern _meta it opens a handshake-era session, as always.
    let response = send(post(&h.url, None, &initialize(84), &[])).await;
    assert!(header(&response, "mcp-session-id").is_some());
}

#[tokio::test]
async fn handshake_only_deployments_require_a_session() {
    let h = start(HttpServerConfig {
        eras: EraPolicy::HandshakeOnly,
        ..HttpServerConfig::default()
    })
    .await;
    let response = post_edited(&h.url, &modern(91, "echo", json!({})), |_| {}).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.ended.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn both_eras_share_one_endpoint() {
    let h = start(HttpServerConfig::default()).await;
    let response = send(post(&h.url, None, &initialize(1), &[])).await;
    let session = header(&response, "mcp-session-id")
        .expect("session")
        .to_owned();
    drop(response);
    let legacy = send(post(
        &h.url,
        Some(&session),
        &rpc(2, "echo", json!({"l": 1})),
        &[("mcp-protocol-version", "2025-11-25")],
    ))
    .await;
    assert_eq!(legacy.status(), StatusCode::OK);
    let modern_answer = post_edited(&h.url, &modern(3, "echo", json!({"m": 1})), |_| {}).await;
    assert_eq!(json_body(modern_answer).await["result"]["m"], 1);
    assert_eq!(h.handle.session_count(), 1);
}

#[tokio::test]
async fn the_exchange_cap_and_shutdown_hold_for_stateless_requests() {
    let h = start(HttpServerConfig {
        max_exchanges: 1,
        shutdown_grace: Duration::from_millis(200),
        ..HttpServerConfig::default()
    })
    .await;
    let response = post_edited(
        &h.url,
        &modern(1, "stream", json!({"n": 1000, "ms": 20})),
        |_| {},
    )
    .await;
    let mut events = EventReader::new(response);
    assert!(events.next().await.is_some());
    let refused = post_edited(&h.url, &modern(2, "echo", json!({})), |_| {}).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Shutdown closes the open stream instead of waiting out its grace for it.
    let started = std::time::Instant::now();
    bounded(h.handle.shutdown()).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let mut rest = 0;
    while events.next().await.is_some() {
        rest += 1;
        assert!(rest < 1000, "the stream did not end");
    }
    assert_eq!(h.handle.exchange_count(), 0);
}
