//! Lifecycle leak closure: everything a session holds is released when it ends, on the
//! in-memory and TCP transports; subscribe/unsubscribe churn leaves nothing behind; a
//! bounded soak keeps handler counts and RSS flat.
//!
//! The soak prints its figures; when `ERLMCP_LIFECYCLE_EVIDENCE` names a file it also
//! writes them there as JSON (introspection totals before/after, handler counts and RSS
//! at each stage, cycles), which `cargo xtask release-evidence` reads with
//! `erlmcp_evidence::LifecycleRecord::parse` into the bundle's `lifecycle` section.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{RawPeer, object_schema};
use erlmcp_codec::schema::{
    CallToolResult, JsonObject, ReadResourceResult, Resource, ResourceContents, TaskSupport, Tool,
    ToolExecution,
};
use erlmcp_protocol::server::TemplateVars;
use erlmcp_protocol::{ClientBuilder, Introspection, Server};
use erlmcp_transport::{TcpAcceptor, TcpTransport, memory_pair};
use proptest::prelude::*;
use serde_json::json;

const RESOURCES: usize = 64;

fn server() -> Server {
    let mut builder = Server::builder("leaks", "1.0.0").max_subscriptions(10_000);
    for i in 0..RESOURCES {
        builder = builder.resource(
            Resource::new(format!("mem://{i}"), format!("r{i}")),
            |uri: String, _v: TemplateVars, _c| async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri, "x",
                )]))
            },
        );
    }
    let mut long = Tool::new("long", object_schema(json!({}), &[]));
    long.execution = Some(ToolExecution {
        task_support: Some(TaskSupport::Optional),
        ..ToolExecution::default()
    });
    builder
        .tool(long, |_a: JsonObject, _c| async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(CallToolResult::text("late"))
        })
        .tool(
            Tool::new("sample", object_schema(json!({}), &[])),
            |_a: JsonObject, ctx| async move {
                let params = serde_json::from_value(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": "?"}}],
                    "maxTokens": 1
                }))
                .unwrap();
                let _ = ctx.create_message(params).await;
                Ok(CallToolResult::text("sampled"))
            },
        )
        .build()
        .unwrap()
}

async fn wait_until_empty(server: &Server, within: Duration) -> Introspection {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = server.introspect();
        if now == Introspection::default() || tokio::time::Instant::now() >= deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn unsubscribing_everything_leaves_no_handlers() {
    let server = server();
    let (server_side, client_side) = memory_pair(1 << 20, 64 * 1024);
    tokio::spawn(server.serve(server_side));
    let client = ClientBuilder::new("leak-test", "1")
        .connect(client_side)
        .await
        .unwrap();
    for i in 0..RESOURCES {
        client.subscribe(&format!("mem://{i}")).await.unwrap();
    }
    assert_eq!(server.introspect().subscriptions, RESOURCES);
    for i in 0..RESOURCES {
        client.unsubscribe(&format!("mem://{i}")).await.unwrap();
    }
    assert_eq!(server.introspect().subscriptions, 0);
    assert_eq!(server.notify_resource_updated("mem://0"), 0);
}

/// Opens a session holding a bit of everything: subscriptions, an in-flight request,
/// running tasks, and an outbound request (sampling) the client never answers.
async fn load_session(peer: &mut RawPeer) {
    peer.initialize_with(json!({"sampling": {}})).await;
    for i in 0..10 {
        let (answer, _) = peer
            .request(
                json!(100 + i),
                "resources/subscribe",
                json!({"uri": format!("mem://{i}")}),
            )
            .await;
        assert!(answer.get("result").is_some(), "{answer}");
    }
    for i in 0..5 {
        let (answer, _) = peer
            .request(
                json!(200 + i),
                "tools/call",
                json!({"name": "long", "task": {"ttl": 60000}}),
            )
            .await;
        assert!(answer["result"]["task"].is_object(), "{answer}");
    }
    peer.send(
        json!({"jsonrpc": "2.0", "id": 300, "method": "tools/call", "params": {"name": "long"}}),
    )
    .await;
    peer.send(
        json!({"jsonrpc": "2.0", "id": 301, "method": "tools/call", "params": {"name": "sample"}}),
    )
    .await;
    // Wait until the server has asked us for sampling (and we never answer).
    loop {
        let msg = peer.recv().await;
        if msg["method"] == "sampling/createMessage" {
            break;
        }
    }
}

#[tokio::test]
async fn disconnect_releases_everything_on_the_memory_transport() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    load_session(&mut peer).await;
    let held = server.introspect();
    assert_eq!(held.sessions, 1);
    assert_eq!(held.subscriptions, 10);
    assert_eq!(held.tasks, 5);
    assert_eq!(held.in_flight, 2);
    assert_eq!(held.pending_outbound, 1);
    let RawPeer {
        reader,
        writer,
        session,
    } = peer;
    drop((reader, writer));
    let after = wait_until_empty(&server, Duration::from_secs(5)).await;
    assert_eq!(after, Introspection::default());
    tokio::time::timeout(Duration::from_secs(5), session)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn disconnect_releases_everything_on_tcp() {
    let server = server();
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", 1 << 20).await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    let serving = server.clone();
    tokio::spawn(async move {
        while let Ok(transport) = acceptor.accept().await {
            tokio::spawn(serving.serve(transport));
        }
    });
    for _ in 0..3 {
        let client = ClientBuilder::new("leak-test", "1")
            .sampling(|_p| async move {
                // Never answers within the test: the request stays pending until disconnect.
                tokio::time::sleep(Duration::from_secs(120)).await;
                Err(erlmcp_protocol::HandlerError::internal("unreachable"))
            })
            .connect(TcpTransport::connect(addr, 1 << 20).await.unwrap())
            .await
            .unwrap();
        for i in 0..10 {
            client.subscribe(&format!("mem://{i}")).await.unwrap();
        }
        let peer = client.peer().clone();
        for _ in 0..5 {
            let _: serde_json::Value = peer
                .request(
                    "tools/call",
                    json!({"name": "long", "task": {}}),
                    Default::default(),
                )
                .await
                .unwrap();
        }
        let pending = tokio::spawn(async move {
            let _: Result<serde_json::Value, _> = peer
                .request("tools/call", json!({"name": "sample"}), Default::default())
                .await;
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let held = server.introspect();
        assert_eq!(
            (held.sessions, held.subscriptions, held.tasks),
            (1, 10, 5),
            "{held:?}"
        );
        assert_eq!(held.pending_outbound, 1, "{held:?}");
        // TCP close from the client side.
        drop(client);
        pending.abort();
        let after = wait_until_empty(&server, Duration::from_secs(5)).await;
        assert_eq!(after, Introspection::default());
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_subscribe_cycles_and_connect_cycles_keep_counts_and_rss_flat() {
    const CYCLES: usize = 10_000;
    let server = server();
    let (server_side, client_side) = memory_pair(1 << 20, 64 * 1024);
    tokio::spawn(server.serve(server_side));
    let client = ClientBuilder::new("soak", "1")
        .connect(client_side)
        .await
        .unwrap();

    // Warm up allocator pools before the baseline.
    for i in 0..500 {
        let uri = format!("mem://{}", i % RESOURCES);
        client.subscribe(&uri).await.unwrap();
        client.unsubscribe(&uri).await.unwrap();
    }
    let baseline = rss_kib();
    let introspection_before = server.introspect();
    let handlers_before = introspection_before.subscriptions;
    for i in 0..CYCLES {
        let uri = format!("mem://{}", i % RESOURCES);
        client.subscribe(&uri).await.unwrap();
        client.unsubscribe(&uri).await.unwrap();
    }
    let after_subscribe = rss_kib();
    let handlers_after_subscribe = server.introspect().subscriptions;
    assert_eq!(handlers_after_subscribe, 0);
    client.close().await.unwrap();

    for _ in 0..CYCLES {
        let (server_side, client_side) = memory_pair(64 * 1024, 4096);
        let session = tokio::spawn(server.serve(server_side));
        let client = ClientBuilder::new("soak", "1")
            .connect(client_side)
            .await
            .unwrap();
        client.subscribe("mem://1").await.unwrap();
        client.close().await.unwrap();
        session.await.unwrap().unwrap();
    }
    let after_connect = rss_kib();
    let left = wait_until_empty(&server, Duration::from_secs(5)).await;
    assert_eq!(left, Introspection::default());
    println!(
        "soak: {CYCLES} subscribe/unsubscribe cycles and {CYCLES} connect/disconnect cycles; \
         RSS baseline {baseline} KiB, after subscribe cycles {after_subscribe} KiB, after connect cycles {after_connect} KiB; \
         handlers left {}",
        left.subscriptions
    );
    // Flat: growth bounded by a few MiB of allocator noise, not proportional to cycles.
    const RSS_GROWTH_BOUND_KIB: u64 = 16 * 1024;
    let growth = after_connect.saturating_sub(baseline);
    let evidence = json!({
        "cycles": {"subscribe_unsubscribe": CYCLES, "connect_disconnect": CYCLES},
        "handlers": {
            "before": handlers_before,
            "after_subscribe_cycles": handlers_after_subscribe,
            "after_connect_cycles": left.subscriptions,
        },
        "rss_kib": {
            "before": baseline,
            "after_subscribe_cycles": after_subscribe,
            "after_connect_cycles": after_connect,
        },
        "rss_growth_kib": growth,
        "rss_growth_bound_kib": RSS_GROWTH_BOUND_KIB,
        "introspection_before": introspection_before,
        "introspection_after": left,
    });
    println!("{evidence}");
    let record = serde_json::to_vec_pretty(&evidence).unwrap();
    // The bundle's reader must take exactly what the soak writes.
    let parsed = erlmcp_evidence::LifecycleRecord::parse(&record)
        .unwrap_or_else(|e| panic!("release-evidence would refuse this soak record: {e}"));
    assert_eq!(parsed.rss_growth_kib, growth);
    assert_eq!(parsed.cycles.connect_disconnect, CYCLES as u64);
    if let Ok(path) = std::env::var("ERLMCP_LIFECYCLE_EVIDENCE") {
        std::fs::write(&path, &record).unwrap();
    }
    assert!(
        growth <= RSS_GROWTH_BOUND_KIB,
        "RSS grew from {baseline} to {after_connect} KiB"
    );
}

#[derive(Debug, Clone)]
enum Op {
    Subscribe(usize),
    Unsubscribe(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..8usize).prop_map(Op::Subscribe),
        (0..8usize).prop_map(Op::Unsubscribe),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn handler_count_equals_live_subscriptions(ops in proptest::collection::vec(op(), 0..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let server = server();
            let (server_side, client_side) = memory_pair(1 << 20, 64 * 1024);
            tokio::spawn(server.serve(server_side));
            let client = ClientBuilder::new("prop", "1").connect(client_side).await.unwrap();
            let mut live = std::collections::HashSet::new();
            for op in ops {
                match op {
                    Op::Subscribe(i) => {
                        client.subscribe(&format!("mem://{i}")).await.unwrap();
                        live.insert(i);
                    }
                    Op::Unsubscribe(i) => {
                        client.unsubscribe(&format!("mem://{i}")).await.unwrap();
                        live.remove(&i);
                    }
                }
                prop_assert_eq!(server.introspect().subscriptions, live.len());
            }
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn an_aborted_session_task_releases_everything_and_closes_the_connection() {
    let server = server();
    let mut peer = RawPeer::start(&server);
    load_session(&mut peer).await;
    assert_eq!(server.introspect().sessions, 1);
    // What a supervisor does to a crashed or stopped session: the driver future is dropped.
    peer.session.abort();
    let after = wait_until_empty(&server, Duration::from_secs(5)).await;
    assert_eq!(after, Introspection::default());
    // The peer sees the connection close rather than hanging.
    let mut closed = false;
    for _ in 0..100 {
        match peer.try_recv(Duration::from_millis(50)).await {
            Some(_) => continue,
            None => {
                closed = peer.closed_within(Duration::from_millis(10)).await;
                break;
            }
        }
    }
    assert!(
        closed,
        "connection stayed open after the session task was aborted"
    );
}

#[tokio::test]
async fn a_session_future_dropped_before_it_runs_leaves_no_entry() {
    let server = server();
    let (server_side, _client_side) = memory_pair(1 << 20, 4096);
    let session = server.serve(server_side);
    assert_eq!(server.session_count(), 1);
    drop(session);
    assert_eq!(server.session_count(), 0);
}
