//! Flow control over real loopback sockets: a client that never reads while the server
//! streams at it (bounded queue, flat RSS, disconnected per policy, a healthy neighbour
//! undisturbed); load shedding under the memory budget; and a client reconnecting to a
//! dead server through the circuit breaker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use erlmcp::net;
use erlmcp::prelude::*;
use erlmcp::protocol::SessionConfig;
use erlmcp::transport::TcpAcceptor;
use erlmcp_flow::{
    BackoffConfig, BreakerConfig, BudgetConfig, CircuitBreaker, FlowConfig, QueueConfig, Retry,
    RetryPolicy, SlowAction, SlowConsumerPolicy,
};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

const QUEUE_CAP: usize = 200;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn flooding_server(flow: FlowConfig) -> Server {
    let payload = "x".repeat(1024);
    Server::builder("flood", "1.0.0")
        .config(SessionConfig {
            flow,
            ..SessionConfig::default()
        })
        .tool(
            Tool::new(
                "flood",
                json!({"type": "object"}).as_object().unwrap().clone(),
            ),
            move |args: JsonObject, ctx| {
                let payload = payload.clone();
                async move {
                    let n = args.get("count").and_then(Value::as_u64).unwrap_or(100_000);
                    for i in 0..n {
                        ctx.log(
                            erlmcp::schema::LoggingLevel::Info,
                            None,
                            json!({"i": i, "pad": payload}),
                        )
                        .await;
                        if ctx.is_cancelled() {
                            break;
                        }
                    }
                    Ok(CallToolResult::text("flooded"))
                }
            },
        )
        .tool(
            Tool::new(
                "echo",
                json!({"type": "object"}).as_object().unwrap().clone(),
            ),
            |args: JsonObject, _ctx| async move {
                Ok(CallToolResult::text(
                    args.get("text").and_then(Value::as_str).unwrap_or_default(),
                ))
            },
        )
        .build()
        .unwrap()
}

async fn listen(server: &Server) -> SocketAddr {
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", 1 << 20).await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    let serving = server.clone();
    tokio::spawn(async move { net::serve_tcp(&serving, acceptor).await });
    addr
}

/// A raw TCP peer that handshakes, asks for a flood of notifications, and never reads.
async fn start_slow_reader(addr: SocketAddr) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let lines = [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"slow","version":"0"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"flood","arguments":{"count": 1_000_000}}}),
    ];
    for line in lines {
        stream
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_bounded_then_disconnected_and_others_are_undisturbed() {
    let flow = FlowConfig {
        queue: QueueConfig {
            max_messages: QUEUE_CAP,
            max_bytes: 1 << 20,
            ..QueueConfig::default()
        },
        slow_consumer: SlowConsumerPolicy {
            grace: Duration::from_millis(500),
            action: SlowAction::DropThenDisconnect {
                after: Duration::from_millis(500),
            },
        },
        ..FlowConfig::default()
    };
    let server = flooding_server(flow);
    let addr = listen(&server).await;
    let baseline = rss_kib();

    let slow = start_slow_reader(addr).await;
    let healthy = net::connect_tcp(ClientBuilder::new("healthy", "1"), addr)
        .await
        .unwrap();

    let started = Instant::now();
    let mut peak_queue = 0usize;
    let mut peak_rss = baseline;
    let mut calls_ok = 0usize;
    let mut slow_gone_after = None;
    while started.elapsed() < Duration::from_secs(10) {
        let result = healthy
            .call_tool("echo", json!({"text": "still here"}))
            .await
            .unwrap();
        assert_eq!(result.content[0].as_text(), Some("still here"));
        calls_ok += 1;
        let sessions = server.sessions();
        for s in &sessions {
            peak_queue = peak_queue.max(s.queued_messages);
        }
        peak_rss = peak_rss.max(rss_kib());
        if sessions.len() == 1 && slow_gone_after.is_none() {
            slow_gone_after = Some(started.elapsed());
        }
        if slow_gone_after.is_some() && calls_ok >= 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(slow);
    let slow_gone_after = slow_gone_after.expect("the slow client was never disconnected");
    println!(
        "slow consumer: peak queue {peak_queue}/{QUEUE_CAP} messages, RSS {baseline} -> peak {peak_rss} KiB, \
         disconnected after {slow_gone_after:?}, healthy calls {calls_ok} (0 failed)"
    );
    assert!(
        peak_queue <= QUEUE_CAP,
        "queue exceeded its cap: {peak_queue}"
    );
    assert!(
        peak_rss.saturating_sub(baseline) < 64 * 1024,
        "RSS grew {baseline} -> {peak_rss} KiB"
    );
    // grace (0.5 s) + drop phase (0.5 s) + detection slack.
    assert!(
        slow_gone_after < Duration::from_secs(5),
        "{slow_gone_after:?}"
    );
    assert!(calls_ok >= 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_requests_are_shed_under_memory_pressure_and_served_again_after() {
    // A tiny budget: one non-reading client's queued notifications exhaust it.
    let flow = FlowConfig {
        queue: QueueConfig {
            max_messages: 10_000,
            max_bytes: 8 << 20,
            ..QueueConfig::default()
        },
        budget: BudgetConfig {
            limit_bytes: 256 * 1024,
            ..BudgetConfig::default()
        },
        slow_consumer: SlowConsumerPolicy {
            grace: Duration::from_secs(600),
            action: SlowAction::Disconnect,
        },
        ..FlowConfig::default()
    };
    let server = flooding_server(flow);
    let addr = listen(&server).await;
    let healthy = net::connect_tcp(ClientBuilder::new("healthy", "1"), addr)
        .await
        .unwrap();
    let slow = start_slow_reader(addr).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let overloaded = loop {
        match healthy.call_tool("echo", json!({"text": "x"})).await {
            Err(err) => break err,
            Ok(_) => assert!(Instant::now() < deadline, "budget pressure never reached"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let rpc = overloaded.rpc_error().expect("a JSON-RPC error");
    assert_eq!(rpc.code.code(), -32010, "{rpc:?}");
    assert!(rpc.data.as_ref().unwrap()["limitBytes"].as_u64().unwrap() == 256 * 1024);
    // ping is never shed.
    healthy.ping().await.unwrap();

    // The slow client goes away: its queue is freed and pressure clears within 5 s.
    let released = Instant::now();
    drop(slow);
    loop {
        if healthy
            .call_tool("echo", json!({"text": "back"}))
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            released.elapsed() < Duration::from_secs(5),
            "no recovery within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "memory budget: shed with -32010, recovered {:?} after the load dropped",
        released.elapsed()
    );
}

#[tokio::test]
async fn reconnects_to_a_dead_server_are_bounded_by_the_breaker_and_recover() {
    // A port with nothing listening: every connect is refused at once.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let backoff = BackoffConfig {
        base: Duration::from_millis(20),
        cap: Duration::from_millis(200),
    };
    let breaker = CircuitBreaker::new(
        "tcp-client",
        &BreakerConfig {
            failure_threshold: 3,
            window: Duration::from_secs(1),
            half_open_probes: 1,
            backoff,
        },
    )
    .unwrap();
    let retry = Retry::new(&RetryPolicy {
        max_attempts: 4,
        backoff,
    })
    .unwrap();
    let attempts = Arc::new(AtomicU32::new(0));

    // The caller retries in a tight loop for 2 s; the breaker decides what reaches the socket.
    let window = Duration::from_secs(2);
    let started = Instant::now();
    while started.elapsed() < window {
        let counter = attempts.clone();
        let builder = move || {
            counter.fetch_add(1, Ordering::SeqCst);
            ClientBuilder::new("resilient", "1")
        };
        assert!(
            net::connect_tcp_resilient(builder, addr, &breaker, &retry)
                .await
                .is_err()
        );
    }
    let guarded = attempts.load(Ordering::SeqCst);

    // The same 2 s without a breaker, for the ratio.
    let started = Instant::now();
    let mut naive = 0u32;
    while started.elapsed() < window {
        naive += 1;
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
    println!(
        "dead server: {guarded} attempts in {window:?} through the breaker vs {naive} naive ({:.4} of naive)",
        f64::from(guarded) / f64::from(naive)
    );
    // 3 failures to open, then at most one probe per open period (>= the backoff floor).
    assert!(guarded <= 3 + 2 * 100, "too many attempts: {guarded}");
    assert!(
        guarded * 20 < naive,
        "breaker did not reduce attempts: {guarded} vs {naive}"
    );

    // The server comes back on the same port; the client gets through within the
    // backoff cap plus scheduling slack.
    let server = erlmcp::demo::server();
    let acceptor = TcpAcceptor::bind(addr, 1 << 20).await.unwrap();
    let serving = server.clone();
    tokio::spawn(async move { net::serve_tcp(&serving, acceptor).await });
    let back = Instant::now();
    let client = loop {
        match net::connect_tcp_resilient(
            || ClientBuilder::new("resilient", "1"),
            addr,
            &breaker,
            &retry,
        )
        .await
        {
            Ok(client) => break client,
            Err(_) => assert!(back.elapsed() < Duration::from_secs(3), "no recovery"),
        }
    };
    println!(
        "dead server: recovered {:?} after the server came back",
        back.elapsed()
    );
    client.ping().await.unwrap();
}
