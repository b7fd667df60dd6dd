//! Shared test helpers: a raw JSON-RPC peer over an in-memory transport, so tests can
//! send exactly the bytes they want and see exactly what the engine answers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use erlmcp_codec::Frame;
use erlmcp_protocol::{Server, SessionError};
use erlmcp_transport::{
    FrameReader, FrameWriter, StreamReader, StreamTransport, StreamWriter, Transport,
    TransportInfo, TransportKind,
};
use serde_json::{Value, json};
use tokio::io::{DuplexStream, ReadHalf, WriteHalf};
use tokio::task::JoinHandle;

pub const MAX_FRAME: usize = 64 * 1024;

/// A client-side peer that speaks raw JSON lines.
pub struct RawPeer {
    pub reader: StreamReader<ReadHalf<DuplexStream>>,
    pub writer: StreamWriter<WriteHalf<DuplexStream>>,
    pub session: JoinHandle<Result<(), SessionError>>,
}

impl RawPeer {
    /// Starts a session of `server` and returns the raw peer on the other end.
    pub fn start(server: &Server) -> RawPeer {
        Self::start_with_limits(server, MAX_FRAME, MAX_FRAME)
    }

    /// Like [`RawPeer::start`], with separate frame limits for the server and this peer
    /// (a larger peer limit lets a test send frames the server must refuse).
    pub fn start_with_limits(server: &Server, server_limit: usize, peer_limit: usize) -> RawPeer {
        let (a, b) = tokio::io::duplex(256 * 1024);
        let (ar, aw) = tokio::io::split(a);
        let (br, bw) = tokio::io::split(b);
        let server_side = StreamTransport::new(
            ar,
            aw,
            TransportInfo::new(TransportKind::Memory, "raw-test", server_limit),
        );
        let peer_side = StreamTransport::new(
            br,
            bw,
            TransportInfo::new(TransportKind::Memory, "raw-test", peer_limit),
        );
        let session = tokio::spawn(server.serve(server_side));
        let (reader, writer) = peer_side.split();
        RawPeer {
            reader,
            writer,
            session,
        }
    }

    pub async fn send_raw(&mut self, line: &str) {
        self.writer
            .write_batch(&[Bytes::copy_from_slice(line.as_bytes())])
            .await
            .expect("write");
    }

    pub async fn send(&mut self, message: Value) {
        self.send_raw(&message.to_string()).await;
    }

    /// The next message from the server (panics after 5 s of silence).
    pub async fn recv(&mut self) -> Value {
        self.try_recv(Duration::from_secs(5))
            .await
            .expect("server sent nothing within 5 s")
    }

    /// The next message, or `None` if nothing arrives within `wait` or the stream ended.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<Value> {
        match tokio::time::timeout(wait, self.reader.next_frame()).await {
            Ok(Some(Ok(Frame::Message(bytes)))) => {
                Some(serde_json::from_slice(&bytes).expect("server sent invalid JSON"))
            }
            Ok(Some(Ok(Frame::Oversized { len }))) => {
                panic!("server sent an oversized frame of {len} bytes")
            }
            Ok(Some(Err(err))) => panic!("transport error: {err}"),
            Ok(None) | Err(_) => None,
        }
    }

    /// True when the server closed the stream within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        matches!(
            tokio::time::timeout(wait, self.reader.next_frame()).await,
            Ok(None)
        )
    }

    /// Sends a request and returns the answer with the same id, collecting any
    /// notifications that arrive first.
    pub async fn request(&mut self, id: Value, method: &str, params: Value) -> (Value, Vec<Value>) {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        let mut notes = Vec::new();
        loop {
            let msg = self.recv().await;
            if msg.get("id") == Some(&id)
                && (msg.get("result").is_some() || msg.get("error").is_some())
            {
                return (msg, notes);
            }
            notes.push(msg);
        }
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await;
    }

    /// Performs the handshake with the given capabilities.
    pub async fn initialize_with(&mut self, capabilities: Value) -> Value {
        let (answer, _) = self
            .request(
                json!(0),
                "initialize",
                json!({
                    "protocolVersion": "2025-11-25",
                    "capabilities": capabilities,
                    "clientInfo": {"name": "raw-test", "version": "0"}
                }),
            )
            .await;
        assert!(
            answer.get("result").is_some(),
            "initialize failed: {answer}"
        );
        self.notify("notifications/initialized", json!({})).await;
        answer
    }

    pub async fn initialize(&mut self) -> Value {
        self.initialize_with(json!({})).await
    }
}

/// The error code of an error response.
pub fn code(msg: &Value) -> i64 {
    msg["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error response: {msg}"))
}

/// `{"type":"object"}` plus the given properties and required list.
pub fn object_schema(properties: Value, required: &[&str]) -> serde_json::Map<String, Value> {
    json!({"type": "object", "properties": properties, "required": required})
        .as_object()
        .unwrap()
        .clone()
}

/// Validates `value` against definition `def` of the official 2026-07-28 schema.
pub fn validate_2026(def: &str, value: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/mcp-spec/2026-07-28/schema.json");
    let root: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("2026 schema"))
        .expect("schema JSON");
    let schema = json!({
        "$schema": root["$schema"],
        "$defs": root["$defs"],
        "$ref": format!("#/$defs/{def}"),
    });
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{def} does not validate: {errors:?}\n{value}"
    );
}
