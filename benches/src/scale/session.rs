//! The server every scale run serves, and how a session is registered: each session task
//! runs inside [`Registry::monitor`], so its entry lives exactly as long as the task.

use std::sync::Arc;

use anyhow::Context;
use erlmcp_codec::schema::{CallToolResult, JsonObject, Tool};
use erlmcp_protocol::{Server, SessionConfig};
use erlmcp_registry::{Kind, Registry};
use erlmcp_transport::{Transport, TransportKind};
use serde_json::{Value, json};

/// What the registry holds per session: the handle the runtime would route by.
#[derive(Debug)]
pub struct SessionEntry {
    /// The harness's connection number (the registry key).
    pub conn: u64,
    /// The transport the session runs on.
    pub transport: TransportKind,
}

/// The session table of one node.
pub type SessionRegistry = Registry<u64, Arc<SessionEntry>>;

/// A server with one tool, the shape of a small production server: the session engine
/// is the same whatever the server offers; tools live once per server, not per session.
pub fn scale_server(max_frame_bytes: usize) -> anyhow::Result<Server> {
    let config = SessionConfig {
        max_frame_bytes,
        ..SessionConfig::default()
    };
    let schema = match json!({
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"]
    }) {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    };
    Server::builder("erlmcp-scale", env!("CARGO_PKG_VERSION"))
        .config(config)
        .tool(
            Tool::new("echo", schema).with_description("Echoes its `text` argument back."),
            |args: JsonObject, _ctx| async move {
                let text = args.get("text").and_then(Value::as_str).unwrap_or_default();
                Ok(CallToolResult::text(text))
            },
        )
        .build()
        .context("building the scale server")
}

/// Spawns one session on `transport`, registered under `conn` for as long as it runs.
pub fn spawn_session<T: Transport>(
    server: &Server,
    registry: &SessionRegistry,
    conn: u64,
    kind: TransportKind,
    transport: T,
) -> anyhow::Result<()> {
    let entry = Arc::new(SessionEntry {
        conn,
        transport: kind,
    });
    let session = registry
        .monitor(conn, entry, Kind::SESSION, server.serve(transport))
        .context("registering the session")?;
    // Spawned as is: wrapping it in another `async` block would double the task's size.
    drop(tokio::spawn(session));
    Ok(())
}
