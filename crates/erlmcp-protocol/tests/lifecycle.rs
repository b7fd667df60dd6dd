//! The initialization state machine, version negotiation, init timeout, and the wire
//! errors of the session driver (malformed frames, duplicate ids, panics).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{RawPeer, code, object_schema};
use erlmcp_codec::schema::{CallToolResult, JsonObject, Tool};
use erlmcp_protocol::{Server, SessionConfig, SessionError};
use serde_json::{Value, json};

fn server_with(config: SessionConfig) -> Server {
    Server::builder("lifecycle-test", "1.0.0")
        .config(config)
        .tool(
            Tool::new(
                "echo",
                object_schema(json!({"text": {"type": "string"}}), &["text"]),
            ),
            |args: JsonObject, _ctx| async move {
                Ok(CallToolResult::text(
                    args["text"].as_str().unwrap_or_default(),
                ))
            },
        )
        .tool(
            Tool::new(
                "wait",
                object_schema(json!({"ms": {"type": "integer"}}), &["ms"]),
            ),
            |args: JsonObject, _ctx| async move {
                let ms = args["ms"].as_u64().unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(CallToolResult::text("waited"))
            },
        )
        .tool(
            Tool::new("boom", object_schema(json!({}), &[])),
            |_args: JsonObject, _ctx| async move {
                if std::hint::black_box(true) {
                    panic!("boom");
                }
                Ok(CallToolResult::text("unreachable"))
            },
        )
        .build()
        .unwrap()
}

fn server() -> Server {
    server_with(SessionConfig::default())
}

#[tokio::test]
async fn requests_before_initialize_get_errors_naming_the_phase_and_the_session_stays_open() {
    let server = server();
    let mut peer = RawPeer::start(&server);

    // The probe a modern client sends first: unknown method → -32601, not a hang or EOF.
    let (answer, _) = peer.request(json!(1), "server/discover", json!({})).await;
    assert_eq!(code(&answer), -32601, "{answer}");
    assert_eq!(answer["error"]["data"]["phase"], "awaiting_initialize");

    // A known method before initialize → -32600 with the phase.
    let (answer, _) = peer.request(json!(2), "tools/list", json!({})).await;
    assert_eq!(code(&answer), -32600, "{answer}");
    assert_eq!(answer["error"]["data"]["phase"], "awaiting_initialize");
    assert_eq!(answer["error"]["data"]["method"], "tools/list");

    // ping is always allowed.
    let (answer, _) = peer.request(json!("p"), "ping", json!({})).await;
    assert_eq!(answer["result"], json!({}));

    // And the connection is still good for the handshake.
    let init = peer.initialize().await;
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(init["result"]["serverInfo"]["name"], "lifecycle-test");
    assert!(init["result"]["capabilities"]["tools"].is_object());

    let (answer, _) = peer.request(json!(3), "tools/list", json!({})).await;
    assert_eq!(answer["result"]["tools"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn second_initialize_is_refused() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    peer.initialize().await;
    let (answer, _) = peer
        .request(
            json!(9),
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
        )
        .await;
    assert_eq!(code(&answer), -32600, "{answer}");
    assert_eq!(answer["error"]["data"]["phase"], "operational");
}

#[tokio::test]
async fn version_negotiation_echoes_or_counters() {
    for (requested, expected) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2031-01-01", "2025-11-25"),
    ] {
        let server = server();
        let mut peer = RawPeer::start(&server);
        let (answer, _) = peer
            .request(
                json!(1),
                "initialize",
                json!({"protocolVersion": requested, "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
            )
            .await;
        assert_eq!(
            answer["result"]["protocolVersion"], expected,
            "requested {requested}"
        );
    }
}

#[tokio::test]
async fn malformed_version_is_invalid_params_with_supported_and_requested() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    let (answer, _) = peer
        .request(
            json!(1),
            "initialize",
            json!({"protocolVersion": "not-a-version", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
        )
        .await;
    assert_eq!(code(&answer), -32602, "{answer}");
    assert_eq!(answer["error"]["data"]["requested"], "not-a-version");
    let supported: Vec<&str> = answer["error"]["data"]["supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        supported,
        ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
    );
    // Still awaiting initialize: a good one now succeeds.
    peer.initialize().await;
}

#[tokio::test]
async fn initialize_with_missing_fields_is_invalid_params() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    let (answer, _) = peer
        .request(json!(1), "initialize", json!({"capabilities": {}}))
        .await;
    assert_eq!(code(&answer), -32602, "{answer}");
}

#[tokio::test]
async fn session_without_initialize_ends_at_the_init_timeout() {
    let server = server_with(SessionConfig {
        init_timeout: Duration::from_millis(200),
        ..SessionConfig::default()
    });
    let mut peer = RawPeer::start(&server);
    // A ping does not count as initialization.
    let (answer, _) = peer.request(json!(1), "ping", json!({})).await;
    assert_eq!(answer["result"], json!({}));
    assert!(
        peer.closed_within(Duration::from_secs(5)).await,
        "session should close"
    );
    let outcome = tokio::time::timeout(Duration::from_secs(5), &mut peer.session)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(outcome, Err(SessionError::InitTimeout(_))),
        "{outcome:?}"
    );
    assert_eq!(server.session_count(), 0);
}

#[tokio::test]
async fn initialized_session_is_not_ended_by_the_init_timeout() {
    let server = server_with(SessionConfig {
        init_timeout: Duration::from_millis(100),
        ..SessionConfig::default()
    });
    let mut peer = RawPeer::start(&server);
    peer.initialize().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (answer, _) = peer.request(json!(5), "ping", json!({})).await;
    assert_eq!(answer["result"], json!({}));
}

#[tokio::test]
async fn malformed_frames_get_the_right_codes_and_the_session_goes_on() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    peer.initialize().await;

    let cases: &[(&str, i64, Value)] = &[
        ("{not json", -32700, Value::Null),
        ("\u{0}\u{1}", -32700, Value::Null),
        ("[1,2,3]", -32600, Value::Null),
        ("42", -32600, Value::Null),
        (
            r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#,
            -32600,
            json!(7),
        ),
        (r#"{"id":8,"method":"ping"}"#, -32600, json!(8)),
        (r#"{"jsonrpc":"2.0","id":9,"method":42}"#, -32600, json!(9)),
        (
            r#"{"jsonrpc":"2.0","id":10,"method":"ping","params":"x"}"#,
            -32600,
            json!(10),
        ),
        (
            r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
            -32600,
            Value::Null,
        ),
        (r#"{"jsonrpc":"2.0","id":11}"#, -32600, json!(11)),
        (
            r#"{"jsonrpc":"2.0","id":12,"method":"no/such/method"}"#,
            -32601,
            json!(12),
        ),
        (
            r#"{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"nme":"echo"}}"#,
            -32602,
            json!(13),
        ),
        (
            r#"{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"nope"}}"#,
            -32602,
            json!(14),
        ),
        (
            r#"{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"boom"}}"#,
            -32603,
            json!(15),
        ),
    ];
    for (line, expected, id) in cases {
        peer.send_raw(line).await;
        let answer = peer.recv().await;
        assert_eq!(code(&answer), *expected, "for {line}: {answer}");
        assert_eq!(answer["id"], *id, "for {line}: {answer}");
    }
    // Still alive and well.
    let (answer, _) = peer
        .request(
            json!(99),
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "ok"}}),
        )
        .await;
    assert_eq!(answer["result"]["content"][0]["text"], "ok");
}

#[tokio::test]
async fn oversized_frame_is_answered_and_the_session_goes_on() {
    let server = server();
    let mut peer = RawPeer::start_with_limits(&server, common::MAX_FRAME, common::MAX_FRAME * 4);
    peer.initialize().await;
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"{}"}}}}}}"#,
        "x".repeat(common::MAX_FRAME * 2)
    );
    peer.send_raw(&big).await;
    let answer = peer.recv().await;
    assert_eq!(code(&answer), -32600, "{answer}");
    assert_eq!(answer["id"], Value::Null);
    assert_eq!(answer["error"]["data"]["maxFrameBytes"], common::MAX_FRAME);
    let (answer, _) = peer.request(json!(2), "ping", json!({})).await;
    assert_eq!(answer["result"], json!({}));
}

#[tokio::test]
async fn a_request_id_already_in_flight_is_refused() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    peer.initialize().await;
    let call = json!({"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"wait","arguments":{"ms":300}}});
    peer.send(call.clone()).await;
    peer.send(call).await;
    let first = peer.recv().await;
    assert_eq!(code(&first), -32600, "{first}");
    assert_eq!(first["id"], "dup");
    let second = peer.recv().await;
    assert_eq!(second["result"]["content"][0]["text"], "waited", "{second}");
    // Once answered, the id may be used again.
    let (answer, _) = peer.request(json!("dup"), "ping", json!({})).await;
    assert_eq!(answer["result"], json!({}));
}

#[tokio::test]
async fn a_panicking_handler_fails_only_its_own_request() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    peer.initialize().await;
    peer.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait","arguments":{"ms":200}}})).await;
    peer.send(json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"boom"}}))
        .await;
    let first = peer.recv().await;
    assert_eq!(first["id"], 2);
    assert_eq!(code(&first), -32603);
    assert_eq!(first["error"]["data"]["panic"], "boom");
    let second = peer.recv().await;
    assert_eq!(second["id"], 1);
    assert_eq!(second["result"]["content"][0]["text"], "waited");
}

#[tokio::test]
async fn eof_ends_the_session_cleanly_and_releases_it() {
    let server = server();
    let peer = RawPeer::start(&server);
    assert_eq!(server.session_count(), 1);
    let RawPeer {
        reader,
        writer,
        session,
    } = peer;
    drop(writer);
    drop(reader);
    let outcome = tokio::time::timeout(Duration::from_secs(5), session)
        .await
        .unwrap()
        .unwrap();
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(server.session_count(), 0);
}
