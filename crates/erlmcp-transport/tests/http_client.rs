//! The Streamable HTTP client transport against the real server over loopback, with the
//! scripted stand-in engine on the server side.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http_support;

use std::time::Duration;

use bytes::Bytes;
use erlmcp_codec::RequestId;
use erlmcp_transport::http::{
    HttpClientOptions, HttpClientTransport, HttpServerConfig, ResponseMode,
};
use erlmcp_transport::{Frame, FrameReader, FrameWriter, Transport, TransportError};
use http_support::*;
use serde_json::{Value, json};

async fn next_json<R: FrameReader>(reader: &mut R) -> Value {
    match bounded(reader.next_frame()).await {
        Some(Ok(Frame::Message(bytes))) => serde_json::from_slice(&bytes).unwrap(),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn frame(value: Value) -> Bytes {
    Bytes::from(value.to_string())
}

fn strict() -> HttpServerConfig {
    // Requests after initialize succeed only if the client sends MCP-Protocol-Version.
    HttpServerConfig {
        protocol_versions: vec!["2025-11-25".into()],
        ..HttpServerConfig::default()
    }
}

async fn initialized(
    url: &str,
) -> (
    erlmcp_transport::http::HttpClientReader,
    erlmcp_transport::http::HttpClientWriter,
    String,
) {
    let transport = HttpClientTransport::connect(url, HttpClientOptions::default()).unwrap();
    let (mut reader, mut writer) = transport.split();
    writer.write_batch(&[frame(initialize(0))]).await.unwrap();
    let answer = next_json(&mut reader).await;
    assert_eq!(answer["id"], 0);
    assert_eq!(answer["result"]["protocolVersion"], "2025-11-25");
    writer
        .write_batch(&[frame(
            json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        )])
        .await
        .unwrap();
    (reader, writer, String::new())
}

#[tokio::test]
async fn requests_carry_session_and_version_headers_in_both_response_modes() {
    for mode in [ResponseMode::Sse, ResponseMode::Json] {
        let h = start(HttpServerConfig {
            response_mode: mode,
            ..strict()
        })
        .await;
        let (mut reader, mut writer, _) = initialized(&h.url).await;
        assert_eq!(h.handle.session_count(), 1);
        writer
            .write_batch(&[
                frame(rpc(1, "echo", json!({"n": 1}))),
                frame(rpc(2, "ping", json!({}))),
            ])
            .await
            .unwrap();
        let mut got = [next_json(&mut reader).await, next_json(&mut reader).await];
        got.sort_by_key(|v| v["id"].as_i64());
        assert_eq!(got[0]["result"], json!({"n": 1}), "{mode:?}");
        assert_eq!(got[1]["result"], json!({}), "{mode:?}");
        writer.close().await.unwrap();
        eventually(|| h.handle.session_count() == 0).await;
    }
}

#[tokio::test]
async fn server_requests_are_answered_by_post_and_pushes_arrive_on_the_get_stream() {
    let h = start(strict()).await;
    let (mut reader, mut writer, _) = initialized(&h.url).await;
    writer
        .write_batch(&[frame(rpc(3, "sample", json!({})))])
        .await
        .unwrap();
    let asked = next_json(&mut reader).await;
    assert_eq!(asked["method"], "sampling/createMessage");
    writer
        .write_batch(&[frame(
            json!({"jsonrpc":"2.0","id": asked["id"], "result": {"text": "hi"}}),
        )])
        .await
        .unwrap();
    let answer = next_json(&mut reader).await;
    assert_eq!(answer["id"], 3);
    assert_eq!(answer["result"]["sampled"]["text"], "hi");
    // Server-initiated messages with no request in flight come over the GET stream the
    // transport opened after initialization.
    writer
        .write_batch(&[frame(
            json!({"jsonrpc":"2.0","method":"trigger/push","params":{"n":2}}),
        )])
        .await
        .unwrap();
    for i in 0..2 {
        let pushed = next_json(&mut reader).await;
        assert_eq!(pushed["method"], "pushed");
        assert_eq!(pushed["params"]["i"], i);
    }
}

#[tokio::test]
async fn a_request_stream_closed_by_the_server_is_resumed_with_last_event_id() {
    let h = start(HttpServerConfig {
        sse_retry: Duration::from_millis(20),
        ..strict()
    })
    .await;
    let (mut reader, mut writer, _) = initialized(&h.url).await;
    writer
        .write_batch(&[frame(rpc(40, "slow", json!({"ms": 400})))])
        .await
        .unwrap();
    let id = RequestId::Number(40);
    eventually(|| h.handle.sessions_with_request(&id).len() == 1).await;
    // Give the priming event time to reach the client, then drop the stream.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(h.handle.sessions_with_request(&id)[0].close_request_stream(&id));
    let answer = next_json(&mut reader).await;
    assert_eq!(answer["id"], 40);
    assert_eq!(answer["result"]["slept"], 400);
}

#[tokio::test]
async fn a_forgotten_session_is_renewed_and_the_request_replayed() {
    let h = start(strict()).await;
    let transport = HttpClientTransport::connect(
        &h.url,
        HttpClientOptions {
            open_get_stream: false,
            ..HttpClientOptions::default()
        },
    )
    .unwrap();
    let (mut reader, mut writer) = transport.split();
    writer.write_batch(&[frame(initialize(0))]).await.unwrap();
    assert_eq!(next_json(&mut reader).await["id"], 0);
    let first = h.handle.session_ids();
    assert_eq!(first.len(), 1);
    h.handle.session(&first[0]).unwrap().terminate();
    assert_eq!(h.handle.session_count(), 0);

    // 404 → a new initialize (its answer is the transport's, not the engine's) → the
    // ping replayed on the new session: the engine sees only the ping's answer.
    writer
        .write_batch(&[frame(rpc(6, "ping", json!({})))])
        .await
        .unwrap();
    let answer = next_json(&mut reader).await;
    assert_eq!(answer["id"], 6, "{answer}");
    assert!(answer.get("result").is_some(), "{answer}");
    let second = h.handle.session_ids();
    assert_eq!(second.len(), 1);
    assert_ne!(second, first, "a new session id");
    writer
        .write_batch(&[frame(rpc(7, "ping", json!({})))])
        .await
        .unwrap();
    assert_eq!(next_json(&mut reader).await["id"], 7);
    assert_eq!(h.handle.session_ids(), second);
}

#[tokio::test]
async fn with_renewal_off_a_forgotten_session_surfaces_as_session_expired() {
    let h = start(strict()).await;
    let transport = HttpClientTransport::connect(
        &h.url,
        HttpClientOptions {
            open_get_stream: false,
            reinitialize: false,
            ..HttpClientOptions::default()
        },
    )
    .unwrap();
    let (mut reader, mut writer) = transport.split();
    writer.write_batch(&[frame(initialize(0))]).await.unwrap();
    let _ = next_json(&mut reader).await;
    // The server ends the session behind the client's back (found through a request in
    // flight, the only handle a test has on it).
    writer
        .write_batch(&[frame(rpc(5, "slow", json!({"ms": 200})))])
        .await
        .unwrap();
    let id = RequestId::Number(5);
    eventually(|| h.handle.sessions_with_request(&id).len() == 1).await;
    let server_side = h.handle.sessions_with_request(&id).pop().unwrap();
    server_side.terminate();
    assert_eq!(h.handle.session_count(), 0);
    writer
        .write_batch(&[frame(rpc(6, "ping", json!({})))])
        .await
        .unwrap();
    // The request in flight's stream ended; the next request's 404 expires the session.
    let mut saw_expired = false;
    for _ in 0..3 {
        match bounded(reader.next_frame()).await {
            Some(Err(TransportError::SessionExpired)) => {
                saw_expired = true;
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(saw_expired);
    let again = writer
        .write_batch(&[frame(rpc(7, "ping", json!({})))])
        .await;
    assert!(matches!(again, Err(TransportError::SessionExpired)));
    assert!(!TransportError::SessionExpired.is_disconnect());
}

#[tokio::test]
async fn only_plain_http_urls_are_accepted() {
    for bad in [
        "https://localhost/mcp",
        "ftp://x/y",
        "not a url",
        "/relative",
    ] {
        let err = HttpClientTransport::connect(bad, HttpClientOptions::default()).unwrap_err();
        assert!(
            matches!(err, TransportError::InvalidUrl { .. }),
            "{bad}: {err}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_server_fails_the_request_not_the_session() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let transport =
        HttpClientTransport::connect(&format!("http://{addr}/mcp"), HttpClientOptions::default())
            .unwrap();
    let (mut reader, mut writer) = transport.split();
    bounded(writer.write_batch(&[frame(initialize(0))]))
        .await
        .unwrap();
    let failed = next_json(&mut reader).await;
    assert_eq!(failed["id"], 0);
    assert_eq!(failed["error"]["code"], -32603);
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP request failed")
    );
    // A notification that cannot be delivered does not fail the writer either.
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    bounded(writer.write_batch(&[frame(note)])).await.unwrap();
}

/// A minimal server that answers `initialize` with JSON and refuses GET with 405, as a
/// server without a GET stream does; it counts the GETs and DELETEs it sees.
async fn no_get_stream_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::{BodyExt, Full};
    use hyper::service::service_fn;
    use hyper::{Method, Response, StatusCode};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let seen_by_server = seen.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let seen = seen_by_server.clone();
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let seen = seen.clone();
                async move {
                    let mut response = Response::new(Full::new(Bytes::new()));
                    match *request.method() {
                        Method::POST => {
                            let body = request.into_body().collect().await.unwrap().to_bytes();
                            let message: Value = serde_json::from_slice(&body).unwrap();
                            if message["method"] == "initialize" {
                                let answer = json!({"jsonrpc":"2.0","id":message["id"],"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"x","version":"0"}}});
                                *response.body_mut() = Full::new(Bytes::from(answer.to_string()));
                                response
                                    .headers_mut()
                                    .insert("content-type", "application/json".parse().unwrap());
                                response
                                    .headers_mut()
                                    .insert("mcp-session-id", "fixed-session".parse().unwrap());
                            } else {
                                *response.status_mut() = StatusCode::ACCEPTED;
                            }
                        }
                        Method::GET => {
                            seen.fetch_add(1, Ordering::SeqCst);
                            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
                        }
                        _ => {
                            seen.fetch_add(100, Ordering::SeqCst);
                            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
                        }
                    }
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    (url, seen)
}

#[tokio::test]
async fn a_server_without_get_stream_is_tolerated_and_close_sends_delete() {
    use std::sync::atomic::Ordering;

    let (url, seen) = no_get_stream_server().await;
    let transport = HttpClientTransport::connect(&url, HttpClientOptions::default()).unwrap();
    let (mut reader, mut writer) = transport.split();
    writer.write_batch(&[frame(initialize(0))]).await.unwrap();
    assert_eq!(next_json(&mut reader).await["id"], 0);
    // One GET attempt, answered 405, and no retries.
    eventually(|| seen.load(Ordering::SeqCst) == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    writer
        .write_batch(&[frame(
            json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        )])
        .await
        .unwrap();
    // close() sends DELETE (tolerating 405 for it as well).
    writer.close().await.unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 101);
    assert!(bounded(reader.next_frame()).await.is_none());
}

// ---- MCP 2026-07-28 requests ------------------------------------------------------------

/// A request carrying the 2026-07-28 per-request `_meta`.
fn modern(id: i64, method: &str, params: Value) -> Value {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "client-test", "version": "0"}
    });
    rpc(id, method, params)
}

/// The server checks every mirrored header (x-mcp-header annotations included), so an
/// answer from the scripted engine proves the client sent them right.
struct RouteAnnotations;

impl erlmcp_transport::http::ParamHeaderSource for RouteAnnotations {
    fn param_headers(
        &self,
        tool: &str,
    ) -> Option<std::sync::Arc<[erlmcp_transport::http::ParamHeader]>> {
        (tool == "route").then(|| {
            erlmcp_transport::http::mirror::param_headers(&json!({"properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "shard": {"type": "integer", "x-mcp-header": "Shard"}
            }}))
            .unwrap()
            .into()
        })
    }
}

#[tokio::test]
async fn modern_requests_carry_the_mirrored_headers_and_no_session() {
    let h = start_with(
        HttpServerConfig::default(),
        Some(std::sync::Arc::new(RouteAnnotations)),
    )
    .await;
    let transport = HttpClientTransport::connect(&h.url, HttpClientOptions::default()).unwrap();
    let (mut reader, mut writer) = transport.split();
    // tools/list: the tool with an invalid annotation is dropped from the answer.
    writer
        .write_batch(&[frame(modern(1, "tools/list", json!({})))])
        .await
        .unwrap();
    let listed = next_json(&mut reader).await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["route"]);
    // tools/call: Mcp-Name plus Mcp-Param-Region (Base64: not ASCII) and Mcp-Param-Shard.
    let args = json!({"region": "Hello, 世界", "shard": 7, "query": "q"});
    writer
        .write_batch(&[frame(modern(
            2,
            "tools/call",
            json!({"name": "route", "arguments": args}),
        ))])
        .await
        .unwrap();
    let called = next_json(&mut reader).await;
    assert_eq!(called["id"], 2, "{called}");
    assert_eq!(called["result"]["called"], "route", "{called}");
    assert_eq!(called["result"]["arguments"], args);
    // A name outside ASCII travels Base64-encoded and still matches.
    writer
        .write_batch(&[frame(modern(
            3,
            "tools/call",
            json!({"name": "météo", "arguments": {}}),
        ))])
        .await
        .unwrap();
    assert_eq!(next_json(&mut reader).await["result"]["called"], "météo");
    // Errors keep their code: the scripted engine knows no resources/read (-32601, 404).
    writer
        .write_batch(&[frame(modern(
            4,
            "resources/read",
            json!({"uri": "file:///tmp/ü.txt"}),
        ))])
        .await
        .unwrap();
    let error = next_json(&mut reader).await;
    assert_eq!(error["error"]["code"], -32601, "{error}");
    // Notifications before the answer arrive in order on the request's stream.
    writer
        .write_batch(&[frame(modern(5, "progress", json!({"ms": 20})))])
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut reader).await["method"],
        "notifications/progress"
    );
    assert_eq!(next_json(&mut reader).await["id"], 5);
    assert_eq!(h.handle.session_count(), 0);
    writer.close().await.unwrap();
}

#[tokio::test]
async fn cancelling_a_modern_request_closes_its_response() {
    let h = start(HttpServerConfig::default()).await;
    let transport = HttpClientTransport::connect(&h.url, HttpClientOptions::default()).unwrap();
    let (mut reader, mut writer) = transport.split();
    writer
        .write_batch(&[frame(modern(9, "slow", json!({"ms": 60_000})))])
        .await
        .unwrap();
    bounded(async {
        while h.handle.exchange_count() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let cancelled =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9}});
    writer.write_batch(&[frame(cancelled)]).await.unwrap();
    // The server saw the response closed: the exchange ended and its reader with it.
    bounded(async {
        while h.handle.exchange_count() > 0
            || h.ended.load(std::sync::atomic::Ordering::SeqCst) == 0
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // Nothing arrives for the cancelled request; the transport still works.
    writer
        .write_batch(&[frame(modern(10, "echo", json!({"after": true})))])
        .await
        .unwrap();
    assert_eq!(next_json(&mut reader).await["result"]["after"], true);
}
