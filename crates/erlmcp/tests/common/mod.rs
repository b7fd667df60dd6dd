//! Helpers shared by the facade's integration tests that run the supervised runtime
//! (`supervision.rs`, `runtime_listeners.rs`). Each test binary compiles this module on
//! its own, so a helper one binary does not use is allowed to be dead there.
#![allow(dead_code)]

use std::time::Duration;

use erlmcp::schema::ContentBlock;
use erlmcp::{Client, RequestOptions};
use serde_json::json;

/// Silences panics whose message contains one of `expected` (injected crashes, the demo's
/// `panic` tool): with `RUST_BACKTRACE` set the default hook symbolises a backtrace for
/// each, which on two cores holds up every other test; the tests count those panics
/// themselves. Any other panic goes to the default hook. Installed once per binary.
pub fn quiet_expected_panics(expected: &'static [&'static str]) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            if !expected.iter().any(|marker| message.contains(marker)) {
                default(info);
            }
        }));
    });
}

/// Calls the demo's `echo` tool and checks the text came back unchanged.
pub async fn echo(client: &Client, text: &str) -> Result<(), String> {
    let options = RequestOptions::with_timeout(Duration::from_secs(10));
    let result = client
        .call_tool_with("echo", json!({ "text": text }), options)
        .await
        .map_err(|e| e.to_string())?;
    let echoed: String = result
        .content
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect();
    if echoed == text {
        Ok(())
    } else {
        Err(format!("echoed {echoed:?}, sent {text:?}"))
    }
}
