//! The erlmcp client against the demo server over Streamable HTTP, on real loopback
//! sockets: in auto mode it lands on MCP 2026-07-28 and every request is a sessionless
//! POST whose mirrored headers the server checks (`Mcp-Param-*` included, learnt from
//! `tools/list`); in legacy mode the handshake-era session works as before, on the same
//! endpoint at the same time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use erlmcp::schema::{ContentBlock, CreateMessageResult, ResourceContents};
use erlmcp::transport::http::{HttpListener, HttpServerConfig};
use erlmcp::{ClientBuilder, ClientMode};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

fn text(result: &erlmcp::schema::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect()
}

fn builder(mode: ClientMode) -> ClientBuilder {
    ClientBuilder::new("http-modern-test", "1.0.0")
        .mode(mode)
        .sampling(|_p| async move {
            Ok(serde_json::from_value::<CreateMessageResult>(json!({
                "role": "assistant", "content": {"type": "text", "text": "forty-two"}, "model": "http-model"
            }))
            .unwrap())
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_mode_lands_on_2026_07_28_over_http_with_checked_headers() {
    let server = erlmcp::demo::server();
    let listener = HttpListener::bind(HttpServerConfig::default())
        .await
        .expect("bind");
    let handle = listener.handle();
    let url = format!("http://{}/mcp", listener.local_addr());
    let serving = server.clone();
    tokio::spawn(async move { erlmcp::net_http::serve_http(&serving, listener).await });

    let run = async {
        let client = erlmcp::net_http::connect_http(builder(ClientMode::Auto), &url)
            .await
            .expect("connect");
        assert_eq!(client.protocol_version().as_str(), "2026-07-28");
        assert_eq!(handle.session_count(), 0, "no HTTP session in 2026-07-28");

        // An annotated tool called before tools/list: the client cannot know the
        // Mcp-Param-* headers yet, and the server refuses the call (-32020).
        let early = client
            .call_tool("test_header_routing", json!({"region": "eu-west-1"}))
            .await;
        let code = early.err().and_then(|e| e.rpc_error().map(|e| e.code.0));
        assert_eq!(code, Some(-32020));
        // After tools/list the headers go out (Base64 for a non-ASCII value).
        let tools = client.list_tools().await.expect("tools/list");
        assert!(tools.iter().any(|t| t.name == "test_header_routing"));
        let routed = client
            .call_tool(
                "test_header_routing",
                json!({"region": "São Paulo", "priority": 3}),
            )
            .await
            .expect("routed call");
        assert_eq!(text(&routed), "routed to region São Paulo");

        let echoed = client
            .call_tool("echo", json!({"text": "over modern http"}))
            .await
            .expect("echo");
        assert_eq!(text(&echoed), "over modern http");
        let readme = client.read_resource("demo://readme").await.expect("read");
        let ResourceContents::Text(readme) = &readme.contents[0] else {
            panic!("text resource expected");
        };
        assert!(readme.text.contains("erlmcp demo"));
        let prompt = client
            .get_prompt("greet", &[("name", "Ada")])
            .await
            .expect("prompt");
        assert!(format!("{:?}", prompt.messages).contains("Ada"));
        // Sampling as an input-required round trip, answered by the client's handler.
        let sampled = client
            .call_tool("sample", json!({"prompt": "six times seven?"}))
            .await
            .expect("sample");
        assert!(text(&sampled).contains("forty-two"), "{}", text(&sampled));
        assert_eq!(handle.session_count(), 0);

        // A handshake-era client on the same endpoint at the same time.
        let legacy = erlmcp::net_http::connect_http(builder(ClientMode::Legacy), &url)
            .await
            .expect("legacy connect");
        assert_eq!(legacy.protocol_version().as_str(), "2025-11-25");
        assert_eq!(handle.session_count(), 1);
        let echoed = legacy
            .call_tool("echo", json!({"text": "over legacy http"}))
            .await
            .expect("legacy echo");
        assert_eq!(text(&echoed), "over legacy http");
    };
    tokio::time::timeout(LIMIT, run)
        .await
        .expect("the run finished in time");
    handle.shutdown().await;
}
