//! The official MCP Python SDK (`mcp` 2.x) drives the erlmcp demo server over Streamable
//! HTTP: `tests/interop/python_http_client.py` runs its checks and prints a JSON summary.
//! - `legacy` mode (the `initialize` handshake, 2025-11-25): tools, resources, prompts,
//!   progress, logging, sampling, elicitation, a subscription update on the GET stream,
//!   SSE resumption after the server closes a stream, ping.
//! - `auto` mode (the SDK's default): the `server/discover` probe succeeds, so the client
//!   lands on 2026-07-28 and every request is a stateless POST with mirrored headers:
//!   tools, resources, prompts, progress, sampling and elicitation as input-required
//!   round trips, a resource update on a `subscriptions/listen` stream.
//!
//! The interpreter is `$ERLMCP_PYTHON`, else `<workspace>/target/pyenv/bin/python`. A
//! missing interpreter or SDK is a test failure, never a skip. To create it:
//! `python3 -m venv target/pyenv && target/pyenv/bin/pip install mcp==2.3.0`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use erlmcp::transport::http::{HttpListener, HttpServerConfig};
use serde_json::Value;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let python = std::env::var_os("ERLMCP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/pyenv/bin/python"));
    assert!(
        python.exists(),
        "Python interpreter with the MCP SDK not found at {}.\n\
         Set ERLMCP_PYTHON, or create it: python3 -m venv target/pyenv && \
         target/pyenv/bin/pip install mcp==2.3.0",
        python.display()
    );
    python
}

async fn run(mode: &str) {
    let python = python();
    let script = workspace().join("crates/erlmcp/tests/interop/python_http_client.py");
    let server = erlmcp::demo::server();
    let listener = HttpListener::bind(HttpServerConfig {
        sse_retry: Duration::from_millis(100),
        ..HttpServerConfig::default()
    })
    .await
    .expect("bind");
    let handle = listener.handle();
    let url = format!("http://{}/mcp", listener.local_addr());
    let serving = server.clone();
    tokio::spawn(async move { erlmcp::net_http::serve_http(&serving, listener).await });

    let child = tokio::process::Command::new(&python)
        .arg(&script)
        .args(["--mode", mode, "--url", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", python.display()));
    let output = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the Python client did not finish within 90 s")
        .expect("Python client output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: Value = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| {
            panic!("no JSON summary from the Python client.\nstdout:\n{stdout}\nstderr:\n{stderr}")
        });
    let failed: Vec<&Value> = summary["checks"]
        .as_array()
        .map(|checks| checks.iter().filter(|c| c["ok"] != true).collect())
        .unwrap_or_default();
    assert!(
        summary["ok"] == true && output.status.success() && failed.is_empty(),
        "Python SDK over HTTP ({mode}) failed checks: {failed:#?}\nsummary: {summary:#}\nstderr:\n{stderr}"
    );
    assert!(summary["passed"].as_u64().unwrap_or(0) >= 15, "{summary:#}");
    let era = summary["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == "era.protocol_version"))
        .map(|c| c["detail"].clone());
    let wanted = if mode == "auto" {
        "2026-07-28"
    } else {
        "2025-11-25"
    };
    assert_eq!(era, Some(Value::from(wanted)), "{summary:#}");
    // The SDK's close sent DELETE: both the HTTP session and the engine session are gone.
    let released = async {
        while handle.session_count() != 0 || server.session_count() != 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), released)
        .await
        .expect("sessions released after the Python client closed");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_drives_the_demo_server_over_http_legacy_handshake() {
    run("legacy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_drives_the_demo_server_over_http_auto_mode() {
    run("auto").await;
}
