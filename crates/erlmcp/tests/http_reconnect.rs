//! The Streamable HTTP client over real loopback when the server forgets its session or
//! dies: a deleted session or a restarted server is re-initialized transparently (new
//! `Mcp-Session-Id`, the failed request replayed once); a dead server sees a bounded
//! number of attempts (the circuit breaker), and a server that comes back is used again
//! within the breaker's backoff.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use erlmcp::ClientBuilder;
use erlmcp::transport::http::{HttpClientOptions, HttpListener, HttpServerHandle, is_unreachable};
use erlmcp_flow::{BackoffConfig, BreakerConfig, CircuitBreaker, Retry, RetryPolicy};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

async fn bounded<F: std::future::Future>(fut: F) -> F::Output {
    tokio::time::timeout(LIMIT, fut)
        .await
        .expect("step timed out")
}

/// A demo server on `addr` (port 0: any); its handle and bound address.
async fn serve(addr: SocketAddr) -> (HttpServerHandle, SocketAddr) {
    let listener = HttpListener::bind(erlmcp::net_http::config_for(addr))
        .await
        .expect("bind");
    let handle = listener.handle();
    let bound = listener.local_addr();
    let server = erlmcp::demo::server();
    tokio::spawn(async move { erlmcp::net_http::serve_http(&server, listener).await });
    (handle, bound)
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/mcp")
}

async fn echo(client: &erlmcp::Client, text: &str) -> Result<String, erlmcp::RequestError> {
    let result = client.call_tool("echo", json!({"text": text})).await?;
    Ok(result
        .content
        .iter()
        .find_map(|b| b.as_text())
        .unwrap_or_default()
        .to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_session_is_reinitialized_and_the_request_replayed() {
    let (handle, addr) = serve(any_port()).await;
    let client = bounded(erlmcp::net_http::connect_http(
        ClientBuilder::new("reconnect-test", "1"),
        &url(addr),
    ))
    .await
    .unwrap();
    assert_eq!(bounded(echo(&client, "before")).await.unwrap(), "before");
    let first = handle.session_ids();
    assert_eq!(first.len(), 1);

    // The server ends the session (as DELETE or its idle timeout would).
    handle.session(&first[0]).unwrap().terminate();

    // The next call gets 404, the transport initializes a new session and replays it.
    assert_eq!(bounded(echo(&client, "after")).await.unwrap(), "after");
    let second = handle.session_ids();
    assert_eq!(second.len(), 1, "exactly one live session: {second:?}");
    assert_ne!(second, first, "a new session id");
    // And it keeps working on the new session.
    assert_eq!(bounded(echo(&client, "again")).await.unwrap(), "again");
    assert_eq!(handle.session_ids(), second);
    bounded(client.close()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_is_used_again_transparently() {
    let (handle, addr) = serve(any_port()).await;
    let client = bounded(erlmcp::net_http::connect_http(
        ClientBuilder::new("reconnect-test", "1"),
        &url(addr),
    ))
    .await
    .unwrap();
    assert_eq!(bounded(echo(&client, "one")).await.unwrap(), "one");
    let old = handle.session_ids();

    // The server process "restarts": everything it knew is gone, same address.
    bounded(handle.shutdown()).await;
    drop(handle);
    let (restarted, again) = serve(addr).await;
    assert_eq!(again, addr);
    assert_eq!(restarted.session_count(), 0);

    // Several calls at once: one renewal, every call replayed on the new session.
    let calls: Vec<_> = (0..4)
        .map(|i| echo(&client, if i % 2 == 0 { "even" } else { "odd" }))
        .collect();
    let answers = bounded(futures::future::join_all(calls)).await;
    for (i, answer) in answers.into_iter().enumerate() {
        let expected = if i % 2 == 0 { "even" } else { "odd" };
        assert_eq!(answer.unwrap(), expected, "call {i}");
    }
    let new = restarted.session_ids();
    assert_eq!(new.len(), 1, "one renewal for all the calls: {new:?}");
    assert_ne!(new, old);
    bounded(client.close()).await.unwrap();
}

/// Accepts TCP connections and closes them at once, counting them: a server that is
/// there but dead.
async fn black_hole(addr: SocketAddr) -> Arc<AtomicU64> {
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            drop(stream);
        }
    });
    accepted
}

fn test_breaker() -> (CircuitBreaker, BreakerConfig) {
    let config = BreakerConfig {
        failure_threshold: 5,
        window: Duration::from_secs(30),
        half_open_probes: 1,
        backoff: BackoffConfig {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(2),
        },
    };
    (CircuitBreaker::new("http test", &config).unwrap(), config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_sees_a_bounded_number_of_attempts() {
    let (handle, addr) = serve(any_port()).await;
    let (breaker, config) = test_breaker();
    let retry = Retry::new(&RetryPolicy::default()).unwrap();
    let options = HttpClientOptions {
        // Only POSTs here: the GET stream would add attempts of its own schedule.
        open_get_stream: false,
        ..HttpClientOptions::default()
    };
    let client = bounded(erlmcp::net_http::connect_http_resilient(
        || ClientBuilder::new("reconnect-test", "1"),
        &url(addr),
        options,
        &breaker,
        &retry,
    ))
    .await
    .unwrap();
    assert_eq!(bounded(echo(&client, "alive")).await.unwrap(), "alive");

    // The server dies; something at its address accepts and hangs up at once.
    bounded(handle.shutdown()).await;
    drop(handle);
    let attempts = black_hole(addr).await;

    // The caller keeps calling for 2 s regardless.
    let began = Instant::now();
    let mut calls = 0u64;
    while began.elapsed() < Duration::from_secs(2) {
        let err = bounded(echo(&client, "anyone?")).await.unwrap_err();
        let rpc = err.rpc_error().expect("a JSON-RPC error for the caller");
        assert!(is_unreachable(rpc), "{rpc:?}");
        calls += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let seen = attempts.load(Ordering::Relaxed);
    let stats = breaker.stats();
    eprintln!(
        "dead server: {calls} calls in 2 s, {seen} connection attempts, breaker opened {} times",
        stats.opened_total
    );
    // Each attempt is one failure before the breaker opens, or one half-open probe per
    // opening after that.
    let bound = u64::from(config.failure_threshold)
        + u64::from(config.half_open_probes) * stats.opened_total;
    assert!(stats.opened_total >= 1, "the breaker opened");
    assert!(seen <= bound, "{seen} attempts > bound {bound}");
    assert!(seen * 10 <= calls, "{seen} attempts for {calls} calls");

    bounded(client.close()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_comes_back_is_used_within_the_backoff() {
    let (handle, addr) = serve(any_port()).await;
    let (breaker, config) = test_breaker();
    let retry = Retry::new(&RetryPolicy::default()).unwrap();
    let client = bounded(erlmcp::net_http::connect_http_resilient(
        || ClientBuilder::new("reconnect-test", "1"),
        &url(addr),
        HttpClientOptions::default(),
        &breaker,
        &retry,
    ))
    .await
    .unwrap();
    assert_eq!(bounded(echo(&client, "alive")).await.unwrap(), "alive");

    // Down: connections refused until the breaker opens.
    bounded(handle.shutdown()).await;
    drop(handle);
    for _ in 0..config.failure_threshold * 2 {
        let err = bounded(echo(&client, "down")).await.unwrap_err();
        assert!(is_unreachable(err.rpc_error().expect("rpc error")));
    }
    assert_ne!(breaker.state(), erlmcp_flow::BreakerState::Closed);

    // Back, knowing nothing of the old session: within the breaker's longest open period
    // (its backoff cap) a call gets through, renews the session and succeeds.
    let (restarted, _) = serve(addr).await;
    let back = Instant::now();
    let recovered = loop {
        match bounded(echo(&client, "back")).await {
            Ok(answer) => break answer,
            Err(err) => assert!(is_unreachable(err.rpc_error().expect("rpc error"))),
        }
        assert!(
            back.elapsed() <= config.backoff.cap + Duration::from_secs(1),
            "not recovered within the backoff cap"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(recovered, "back");
    eprintln!(
        "recovered {} ms after the server came back",
        back.elapsed().as_millis()
    );
    assert_eq!(breaker.state(), erlmcp_flow::BreakerState::Closed);
    assert_eq!(
        restarted.session_count(),
        1,
        "a new session on the restarted server"
    );
    bounded(client.close()).await.unwrap();
}
