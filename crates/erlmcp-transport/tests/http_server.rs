//! Streamable HTTP server rules, each checked with raw HTTP requests over loopback
//! sockets against a scripted stand-in for the protocol engine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use erlmcp_codec::RequestId;
use erlmcp_transport::http::{HttpServerConfig, ResponseMode};
use http_support::*;
use hyper::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config() -> HttpServerConfig {
    HttpServerConfig::default()
}

const V: (&str, &str) = ("mcp-protocol-version", "2025-11-25");

#[tokio::test]
async fn initialize_issues_a_random_session_id_and_answers_on_a_primed_sse_stream() {
    let h = start(config()).await;
    let response = send(post(&h.url, None, &initialize(1), &[])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = header(&response, "mcp-session-id").unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(header(&response, "cache-control"), Some("no-cache"));
    let mut events = EventReader::new(response);
    // Priming: an id, a retry field, empty data — first.
    let priming = events.next().await.unwrap();
    assert!(priming.has_data && priming.data.is_empty(), "{priming:?}");
    assert_eq!(priming.retry, Some(1000));
    let priming_id = priming.id.clone().unwrap();
    let (stream, _) = priming_id.split_once(':').unwrap();
    // The answer, with an id on the same stream; then the stream closes.
    let answer = events.next().await.unwrap();
    assert_eq!(answer.json()["id"], 1);
    assert_eq!(answer.json()["result"]["protocolVersion"], "2025-11-25");
    let answer_id = answer.id.unwrap();
    assert!(answer_id.starts_with(&format!("{stream}:")));
    assert_ne!(answer_id, priming_id);
    assert!(events.ends_within(Duration::from_secs(5)).await);
    // A second session gets a different id.
    let other = open_session(&h.url).await;
    assert_ne!(other, id);
    assert_eq!(h.handle.session_count(), 2);
}

#[tokio::test]
async fn json_mode_answers_requests_with_a_json_body() {
    let h = start(HttpServerConfig {
        response_mode: ResponseMode::Json,
        ..config()
    })
    .await;
    let response = send(post(&h.url, None, &initialize(1), &[])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    let session = header(&response, "mcp-session-id").unwrap().to_owned();
    let body = json_body(response).await;
    assert_eq!(body["id"], 1);
    let response = send(post(
        &h.url,
        Some(&session),
        &rpc(2, "echo", json!({"x": 1})),
        &[V],
    ))
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(response).await["result"], json!({"x": 1}));
}

#[tokio::test]
async fn notifications_and_answers_get_202_without_body() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    let notification =
        json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}});
    let response = send(post(&h.url, Some(&session), &notification, &[V])).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(body_bytes(response).await.is_empty());
    let answer = json!({"jsonrpc":"2.0","id":"srv-9","result":{}});
    let response = send(post(&h.url, Some(&session), &answer, &[V])).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(body_bytes(response).await.is_empty());
}

#[tokio::test]
async fn session_id_is_required_and_must_be_known() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    // No session id on a request that is not initialize: 400.
    let response = send(post(&h.url, None, &rpc(2, "ping", json!({})), &[V])).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let get = |s: Option<&str>| {
        let mut headers = vec![("accept", "text/event-stream"), V];
        if let Some(s) = s {
            headers.push(("mcp-session-id", s));
        }
        request(Method::GET, &h.url, &headers, "")
    };
    assert_eq!(send(get(None)).await.status(), StatusCode::BAD_REQUEST);
    let delete = |s: &str| request(Method::DELETE, &h.url, &[("mcp-session-id", s), V], "");
    assert_eq!(
        send(request(Method::DELETE, &h.url, &[V], ""))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    // Unknown ids: 404 for POST, GET and DELETE.
    let unknown = "0123456789abcdef0123456789abcdef";
    let response = send(post(
        &h.url,
        Some(unknown),
        &rpc(2, "ping", json!({})),
        &[V],
    ))
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_body(response).await["error"]["code"], -32001);
    assert_eq!(
        send(get(Some(unknown))).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(send(delete(unknown)).await.status(), StatusCode::NOT_FOUND);
    // A malformed id: 400.
    let response = send(post(
        &h.url,
        Some("has\tspace"),
        &rpc(2, "ping", json!({})),
        &[V],
    ))
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The real one works.
    let response = send(post(
        &h.url,
        Some(&session),
        &rpc(2, "ping", json!({})),
        &[V],
    ))
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn protocol_version_header_rules() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    let ping = rpc(3, "ping", json!({}));
    // Missing: taken as 2025-03-26, which is supported.
    let response = send(post(&h.url, Some(&session), &ping, &[])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let _ = body_bytes(response).await;
    for good in ["2025-11-25", "2025-06-18", "2025-03-26"] {
        let response = send(post(
            &h.url,
            Some(&session),
            &ping,
            &[("mcp-protocol-version", good)],
        ))
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{good}");
        let _ = body_bytes(response).await;
    }
    for bad in ["1999-01-01", "garbage", "2026-07-28", ""] {
        let response = send(post(
            &h.url,
            Some(&session),
            &ping,
            &[("mcp-protocol-version", bad)],
        ))
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    let get = request(
        Method::GET,
        &h.url,
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "1.0"),
        ],
        "",
    );
    assert_eq!(send(get).await.status(), StatusCode::BAD_REQUEST);
    // A server that does not accept the default version requires the header.
    let strict = start(HttpServerConfig {
        protocol_versions: vec!["2025-11-25".into()],
        ..config()
    })
    .await;
    let session = open_session(&strict.url).await;
    let response = send(post(&strict.url, Some(&session), &ping, &[])).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = send(post(&strict.url, Some(&session), &ping, &[V])).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn accept_content_type_method_and_path_rules() {
    let h = start(config()).await;
    let body = initialize(1).to_string();
    let with = |accept: &str, content_type: &str| {
        request(
            Method::POST,
            &h.url,
            &[("accept", accept), ("content-type", content_type)],
            &body,
        )
    };
    assert_eq!(
        send(with("application/json", "application/json"))
            .await
            .status(),
        StatusCode::NOT_ACCEPTABLE
    );
    assert_eq!(
        send(with("text/event-stream", "application/json"))
            .await
            .status(),
        StatusCode::NOT_ACCEPTABLE
    );
    assert_eq!(
        send(with(ACCEPT_BOTH, "text/plain")).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        send(request(
            Method::POST,
            &h.url,
            &[("content-type", "application/json")],
            &body
        ))
        .await
        .status(),
        StatusCode::NOT_ACCEPTABLE
    );
    let session = open_session(&h.url).await;
    let get = request(
        Method::GET,
        &h.url,
        &[
            ("accept", "application/json"),
            ("mcp-session-id", &session),
            V,
        ],
        "",
    );
    assert_eq!(send(get).await.status(), StatusCode::NOT_ACCEPTABLE);
    for method in [Method::PUT, Method::PATCH, Method::OPTIONS] {
        let response = send(request(method.clone(), &h.url, &[], "")).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(header(&response, "allow"), Some("GET, POST, DELETE"));
    }
    let elsewhere = h.url.replace("/mcp", "/other");
    assert_eq!(
        send(post(&elsewhere, None, &initialize(1), &[]))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn malformed_bodies_get_400_with_a_json_rpc_error() {
    let h = start(config()).await;
    let raw = |body: &str| {
        request(
            Method::POST,
            &h.url,
            &[
                ("accept", ACCEPT_BOTH),
                ("content-type", "application/json"),
            ],
            body,
        )
    };
    let response = send(raw("{not json")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error = json_body(response).await;
    assert_eq!(error["error"]["code"], -32700);
    assert_eq!(error["id"], serde_json::Value::Null);
    // A JSON batch (removed in 2025-06-18) and a non-message: invalid request.
    for body in [
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
        r#"{"jsonrpc":"2.0","id":1}"#,
    ] {
        let response = send(raw(body)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json_body(response).await["error"]["code"], -32600);
    }
    assert_eq!(h.handle.session_count(), 0);
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let h = start(HttpServerConfig {
        max_body_bytes: 1024,
        ..config()
    })
    .await;
    let big = rpc(1, "initialize", json!({"pad": "x".repeat(2000)}));
    let response = send(post(&h.url, None, &big, &[])).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Without Content-Length (chunked), the limit applies while reading.
    let mut stream = tokio::net::TcpStream::connect(h.handle.local_addr())
        .await
        .unwrap();
    let chunk = "x".repeat(1500);
    let wire = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {ACCEPT_BOTH}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    stream.write_all(wire.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    bounded(stream.read_exact(&mut head)).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
    // Just under the limit is fine.
    let fits = send(post(&h.url, None, &initialize(1), &[])).await;
    assert_eq!(fits.status(), StatusCode::OK);
}

#[tokio::test]
async fn host_and_origin_are_checked_against_loopback_allow_lists() {
    let h = start(config()).await;
    let evil_origin = send(post(
        &h.url,
        None,
        &initialize(1),
        &[("origin", "http://evil.example")],
    ))
    .await;
    assert_eq!(evil_origin.status(), StatusCode::FORBIDDEN);
    let evil_host = send(post(
        &h.url,
        None,
        &initialize(1),
        &[("host", "evil.example")],
    ))
    .await;
    assert_eq!(evil_host.status(), StatusCode::FORBIDDEN);
    let evil_host_port = send(post(
        &h.url,
        None,
        &initialize(1),
        &[("host", "evil.example:8080")],
    ))
    .await;
    assert_eq!(evil_host_port.status(), StatusCode::FORBIDDEN);
    let null_origin = send(post(&h.url, None, &initialize(1), &[("origin", "null")])).await;
    assert_eq!(null_origin.status(), StatusCode::FORBIDDEN);
    assert_eq!(h.handle.session_count(), 0);
    // Loopback names with any port, and loopback origins, are accepted.
    let port = h.handle.local_addr().port().to_string();
    for (host, origin) in [
        (
            format!("localhost:{port}"),
            format!("http://localhost:{port}"),
        ),
        (
            format!("127.0.0.1:{port}"),
            "http://127.0.0.1:5173".to_owned(),
        ),
        ("[::1]".to_owned(), "https://[::1]".to_owned()),
    ] {
        let response = send(post(
            &h.url,
            None,
            &initialize(1),
            &[("host", &host), ("origin", &origin)],
        ))
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{host} {origin}");
    }
    // A configured list replaces the default.
    let custom = start(HttpServerConfig {
        allowed_hosts: vec!["mcp.internal:*".into()],
        allowed_origins: vec!["https://app.example.com".into()],
        ..config()
    })
    .await;
    let default_host = send(post(&custom.url, None, &initialize(1), &[])).await;
    assert_eq!(default_host.status(), StatusCode::FORBIDDEN);
    let ok = send(post(
        &custom.url,
        None,
        &initialize(1),
        &[
            ("host", "mcp.internal:1"),
            ("origin", "https://app.example.com"),
        ],
    ))
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn header_values_with_control_bytes_get_400() {
    let h = start(config()).await;
    for bad in [
        "X-Test: a\x01b",
        "X-Test: a\x7fb",
        "Mcp-Session-Id: ab\x00cd",
    ] {
        let mut stream = tokio::net::TcpStream::connect(h.handle.local_addr())
            .await
            .unwrap();
        let body = initialize(1).to_string();
        let wire = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n{bad}\r\nAccept: {ACCEPT_BOTH}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(wire.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        bounded(stream.read_exact(&mut head)).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 400", "{bad:?}");
    }
    // A header value past the limit (8 KiB by default) is refused the same way.
    let long = "x".repeat(9 * 1024);
    let response = send(post(&h.url, None, &initialize(1), &[("x-long", &long)])).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.handle.session_count(), 0);
}

fn get_stream(
    url: &str,
    session: &str,
    last_event_id: Option<&str>,
) -> hyper::Request<http_body_util::Full<bytes::Bytes>> {
    let mut headers = vec![
        ("accept", "text/event-stream"),
        ("mcp-session-id", session),
        V,
    ];
    if let Some(id) = last_event_id {
        headers.push(("last-event-id", id));
    }
    request(Method::GET, url, &headers, "")
}

fn push(n: u64) -> serde_json::Value {
    json!({"jsonrpc":"2.0","method":"trigger/push","params":{"n": n}})
}

#[tokio::test]
async fn get_stream_is_primed_and_carries_server_messages_with_resumable_ids() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    // A message sent while no stream is open waits for the GET stream.
    assert_eq!(
        send(post(&h.url, Some(&session), &push(1), &[V]))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let response = send(get_stream(&h.url, &session, None)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut events = EventReader::new(response);
    let priming = events.next().await.unwrap();
    assert!(priming.data.is_empty() && priming.has_data);
    assert_eq!(priming.retry, Some(1000));
    let waited = events.next_message().await.unwrap();
    assert_eq!(waited.json()["method"], "pushed");
    // Two more, live.
    assert_eq!(
        send(post(&h.url, Some(&session), &push(2), &[V]))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let first = events.next_message().await.unwrap();
    let second = events.next_message().await.unwrap();
    assert_eq!(first.json()["params"]["i"], 0);
    assert_eq!(second.json()["params"]["i"], 1);
    let stream = priming
        .id
        .as_deref()
        .unwrap()
        .split_once(':')
        .unwrap()
        .0
        .to_owned();
    for e in [&waited, &first, &second] {
        assert!(e.id.as_deref().unwrap().starts_with(&format!("{stream}:")));
    }
    // Resume after `first`: exactly `second` is replayed, then the stream goes on.
    let resumed = send(get_stream(&h.url, &session, first.id.as_deref())).await;
    assert_eq!(resumed.status(), StatusCode::OK);
    let mut resumed = EventReader::new(resumed);
    let retry = resumed.next().await.unwrap();
    assert_eq!((retry.retry, retry.has_data), (Some(1000), false));
    let replayed = resumed.next_message().await.unwrap();
    assert_eq!(replayed, second);
    // The old connection of that stream is closed; new messages go to the resumed one.
    assert!(events.ends_within(Duration::from_secs(5)).await);
    assert_eq!(
        send(post(&h.url, Some(&session), &push(1), &[V]))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let live = resumed.next_message().await.unwrap();
    assert_eq!(live.json()["method"], "pushed");
    // Malformed or foreign Last-Event-ID: 400.
    assert_eq!(
        send(get_stream(&h.url, &session, Some("nonsense")))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(get_stream(&h.url, &session, Some("999:1")))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn last_event_id_replays_only_the_events_of_that_stream() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    // Two request streams, one after the other, each with a progress notification and an
    // answer.
    let mut ids = Vec::new();
    for (n, id) in [(1, 10), (2, 11)] {
        let response = send(post(
            &h.url,
            Some(&session),
            &rpc(id, "progress", json!({"ms": 10})),
            &[V],
        ))
        .await;
        let mut events = EventReader::new(response);
        let priming = events.next().await.unwrap();
        let progress = events.next_message().await.unwrap();
        assert_eq!(progress.json()["method"], "notifications/progress");
        let answer = events.next_message().await.unwrap();
        assert_eq!(answer.json()["id"], id);
        assert!(
            events.ends_within(Duration::from_secs(5)).await,
            "stream {n} closes after its answer"
        );
        ids.push((priming.id.unwrap(), progress, answer));
    }
    for (priming, progress, answer) in &ids {
        let response = send(get_stream(&h.url, &session, Some(priming))).await;
        assert_eq!(response.status(), StatusCode::OK);
        let mut events = EventReader::new(response);
        assert_eq!(events.next_message().await.as_ref(), Some(progress));
        assert_eq!(events.next_message().await.as_ref(), Some(answer));
        // A finished stream ends after its replay; nothing of the other stream appears.
        assert!(events.ends_within(Duration::from_secs(5)).await);
    }
}

#[tokio::test]
async fn two_get_streams_run_at_once_and_each_message_goes_to_one() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    let mut a = EventReader::new(send(get_stream(&h.url, &session, None)).await);
    let mut b = EventReader::new(send(get_stream(&h.url, &session, None)).await);
    let a_id = a.next().await.unwrap().id.unwrap();
    let b_id = b.next().await.unwrap().id.unwrap();
    assert_ne!(
        a_id.split(':').next(),
        b_id.split(':').next(),
        "distinct streams"
    );
    assert_eq!(
        send(post(&h.url, Some(&session), &push(3), &[V]))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    // The newest stream gets them; the other stays open and quiet.
    for i in 0..3 {
        assert_eq!(b.next_message().await.unwrap().json()["params"]["i"], i);
    }
    assert!(!a.ends_within(Duration::from_millis(200)).await);
    // DELETE ends both.
    let delete = request(
        Method::DELETE,
        &h.url,
        &[("mcp-session-id", &session), V],
        "",
    );
    assert_eq!(send(delete).await.status(), StatusCode::OK);
    assert!(a.ends_within(Duration::from_secs(5)).await);
    assert!(b.ends_within(Duration::from_secs(5)).await);
}

#[tokio::test]
async fn delete_releases_the_session_and_later_use_is_404() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    let keep = open_session(&h.url).await;
    assert_eq!(h.handle.session_count(), 2);
    let delete = |s: &str| request(Method::DELETE, &h.url, &[("mcp-session-id", s), V], "");
    assert_eq!(send(delete(&session)).await.status(), StatusCode::OK);
    assert_eq!(h.handle.session_count(), 1);
    // The engine's reader saw the end.
    eventually(|| h.ended.load(Ordering::SeqCst) == 1).await;
    assert_eq!(
        send(post(
            &h.url,
            Some(&session),
            &rpc(5, "ping", json!({})),
            &[V]
        ))
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(get_stream(&h.url, &session, None)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(send(delete(&session)).await.status(), StatusCode::NOT_FOUND);
    // The other session is untouched.
    let response = send(post(&h.url, Some(&keep), &rpc(5, "ping", json!({})), &[V])).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn server_requests_travel_on_the_post_stream_and_the_answer_comes_back_by_post() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    let response = send(post(
        &h.url,
        Some(&session),
        &rpc(7, "sample", json!({})),
        &[V],
    ))
    .await;
    let mut events = EventReader::new(response);
    let asked = events.next_message().await.unwrap();
    assert_eq!(asked.json()["method"], "sampling/createMessage");
    assert_eq!(asked.json()["id"], "srv-1");
    let reply = json!({"jsonrpc":"2.0","id":"srv-1","result":{"text":"hello"}});
    assert_eq!(
        send(post(&h.url, Some(&session), &reply, &[V]))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let answer = events.next_message().await.unwrap();
    assert_eq!(answer.json()["id"], 7);
    assert_eq!(answer.json()["result"]["sampled"]["text"], "hello");
    assert!(events.ends_within(Duration::from_secs(5)).await);
}

#[tokio::test]
async fn json_mode_sends_server_messages_on_the_get_stream() {
    let h = start(HttpServerConfig {
        response_mode: ResponseMode::Json,
        ..config()
    })
    .await;
    let session = open_session(&h.url).await;
    let mut get = EventReader::new(send(get_stream(&h.url, &session, None)).await);
    let url = h.url.clone();
    let session_for_call = session.clone();
    let call = tokio::spawn(async move {
        json_body(
            send(post(
                &url,
                Some(&session_for_call),
                &rpc(8, "sample", json!({})),
                &[V],
            ))
            .await,
        )
        .await
    });
    let asked = get.next_message().await.unwrap();
    assert_eq!(asked.json()["id"], "srv-1");
    let reply = json!({"jsonrpc":"2.0","id":"srv-1","result":{"n":1}});
    assert_eq!(
        send(post(&h.url, Some(&session), &reply, &[V]))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let answer = bounded(call).await.unwrap();
    assert_eq!(answer["result"]["sampled"]["n"], 1);
}

#[tokio::test]
async fn a_request_id_already_in_flight_is_refused() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    let first = send(post(
        &h.url,
        Some(&session),
        &rpc(4, "slow", json!({"ms": 300})),
        &[V],
    ))
    .await;
    let duplicate = send(post(
        &h.url,
        Some(&session),
        &rpc(4, "ping", json!({})),
        &[V],
    ))
    .await;
    assert_eq!(duplicate.status(), StatusCode::BAD_REQUEST);
    let error = json_body(duplicate).await;
    assert_eq!(error["id"], 4);
    assert_eq!(error["error"]["code"], -32600);
    let answer = EventReader::new(first).next_message().await.unwrap();
    assert_eq!(answer.json()["result"]["slept"], 300);
}

#[tokio::test]
async fn idle_sessions_end_after_the_timeout() {
    let h = start(HttpServerConfig {
        session_idle_timeout: Some(Duration::from_millis(200)),
        ..config()
    })
    .await;
    let session = open_session(&h.url).await;
    eventually(|| h.handle.session_count() == 0).await;
    eventually(|| h.ended.load(Ordering::SeqCst) == 1).await;
    let response = send(post(
        &h.url,
        Some(&session),
        &rpc(5, "ping", json!({})),
        &[V],
    ))
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // An open GET stream keeps a session alive.
    let kept = open_session(&h.url).await;
    let mut get = EventReader::new(send(get_stream(&h.url, &kept, None)).await);
    let _ = get.next().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(h.handle.session_count(), 1);
}

#[tokio::test]
async fn closing_a_request_stream_lets_the_client_resume_it_for_the_answer() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    let response = send(post(
        &h.url,
        Some(&session),
        &rpc(21, "slow", json!({"ms": 300})),
        &[V],
    ))
    .await;
    let mut events = EventReader::new(response);
    let priming = events.next().await.unwrap().id.unwrap();
    let handles = h.handle.sessions_with_request(&RequestId::Number(21));
    assert_eq!(handles.len(), 1);
    assert_eq!(handles[0].session_id(), session);
    // Handlers use the process-wide lookup (they know the request id, not the session).
    assert!(erlmcp_transport::http::close_request_stream(
        &RequestId::Number(21)
    ));
    assert!(
        !handles[0].close_request_stream(&RequestId::Number(21)),
        "already closed"
    );
    // The POST stream ends without the answer…
    assert!(events.ends_within(Duration::from_secs(5)).await);
    // …and a GET with its last event id gets it, then closes.
    let mut resumed = EventReader::new(send(get_stream(&h.url, &session, Some(&priming))).await);
    let answer = resumed.next_message().await.unwrap();
    assert_eq!(answer.json()["id"], 21);
    assert!(resumed.ends_within(Duration::from_secs(5)).await);
}

#[tokio::test]
async fn shutdown_drains_requests_in_flight_then_refuses() {
    let h = start(config()).await;
    let session = open_session(&h.url).await;
    let mut get = EventReader::new(send(get_stream(&h.url, &session, None)).await);
    let _ = get.next().await;
    let slow = send(post(
        &h.url,
        Some(&session),
        &rpc(30, "slow", json!({"ms": 400})),
        &[V],
    ))
    .await;
    let handle = h.handle.clone();
    let shutdown = tokio::spawn(async move { handle.shutdown().await });
    // The GET stream closes at once; the request in flight still gets its answer.
    assert!(get.ends_within(Duration::from_secs(5)).await);
    let answer = EventReader::new(slow).next_message().await.unwrap();
    assert_eq!(answer.json()["result"]["slept"], 400);
    bounded(shutdown).await.unwrap();
    assert_eq!(h.handle.session_count(), 0);
    eventually(|| h.ended.load(Ordering::SeqCst) == 1).await;
    // The accept loop is over and new connections are refused.
    bounded(h.accept_task).await.unwrap();
    let refused = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(hyper_util::client::legacy::connect::HttpConnector::new())
        .request(post(&h.url, None, &initialize(1), &[]))
        .await;
    match refused {
        Err(_) => {}
        Ok(response) => assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE),
    }
}

#[tokio::test]
async fn bad_configurations_are_refused_at_bind() {
    let bad = erlmcp_transport::http::HttpListener::bind(HttpServerConfig {
        allowed_hosts: vec!["http://nope".into()],
        ..config()
    })
    .await
    .unwrap_err();
    assert!(
        bad.to_string().contains("I/O") || matches!(bad, erlmcp_transport::TransportError::Io(_))
    );
}

/// Sessions are routed by `Mcp-Session-Id` through the registry, whose entry belongs to
/// the engine's writer: an engine that crashes (its task panics, dropping the transport
/// without closing it) leaves no session entry behind, and the id is then unknown (404).
#[tokio::test]
async fn a_crashed_engine_leaves_no_session_entry() {
    use erlmcp_transport::{Frame, FrameReader, FrameWriter, Transport};
    let listener = erlmcp_transport::http::HttpListener::bind(config())
        .await
        .unwrap();
    let handle = listener.handle();
    let url = format!("http://{}/mcp", listener.local_addr());
    let opener = {
        let url = url.clone();
        tokio::spawn(async move { open_session(&url).await })
    };
    let transport = bounded(listener.accept()).await.unwrap();
    let engine = tokio::spawn(async move {
        let (mut reader, mut writer) = transport.split();
        let Some(Ok(Frame::Message(bytes))) = reader.next_frame().await else {
            panic!("no initialize");
        };
        let request: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "serverInfo": {"name": "crashing", "version": "1"}}});
        writer
            .write_batch(&[serde_json::to_vec(&answer).unwrap().into()])
            .await
            .unwrap();
        // `notifications/initialized` arrives; the engine crashes holding the transport.
        let _ = reader.next_frame().await;
        panic!("engine crashed (test)");
    });
    let session = bounded(opener).await.unwrap();
    assert!(bounded(engine).await.unwrap_err().is_panic());
    eventually(|| handle.session_count() == 0).await;
    let metrics = handle.registry_metrics();
    assert_eq!((metrics.inserts, metrics.entries), (1, 0));
    assert_eq!(
        metrics.owner_removals, 1,
        "the writer's guard removed the entry"
    );
    let response = send(post(&url, Some(&session), &rpc(2, "ping", json!({})), &[V])).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(handle.registry_metrics().lookups >= 2);
}

/// `max_sessions` is the registry's limit: past it, `initialize` gets 503 and the
/// refusal is counted.
#[tokio::test]
async fn sessions_past_max_sessions_are_refused_by_the_registry() {
    let h = start(HttpServerConfig {
        max_sessions: 2,
        ..config()
    })
    .await;
    let first = open_session(&h.url).await;
    let _second = open_session(&h.url).await;
    let response = send(post(&h.url, None, &initialize(9), &[])).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h.handle.registry_metrics().refused_full, 1);
    assert_eq!(h.handle.session_count(), 2);
    let delete = request(Method::DELETE, &h.url, &[("mcp-session-id", &first), V], "");
    assert_eq!(send(delete).await.status(), StatusCode::OK);
    let _third = open_session(&h.url).await;
    assert_eq!(h.handle.session_count(), 2);
}

/// `shutdown` returns only after the listening socket is closed, so a restarted server
/// (or anything else) can bind the same address at once — on a multi-threaded runtime,
/// where the accept loop runs on another worker than the caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_shutdown_the_address_can_be_bound_again_at_once() {
    for round in 0..50 {
        let listener = erlmcp_transport::http::HttpListener::bind(config())
            .await
            .unwrap();
        let addr = listener.local_addr();
        bounded(listener.shutdown()).await;
        let again = tokio::net::TcpListener::bind(addr).await;
        assert!(
            again.is_ok(),
            "round {round}: {addr} still bound after shutdown: {again:?}"
        );
    }
}
