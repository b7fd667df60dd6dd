//! The supervised runtime over real loopback TCP: crash isolation across 1000 concurrent
//! sessions, a listener crash and its restart time, a cascade confined to one bulkhead,
//! bulkhead caps and ordered shutdown.
//!
//! Figures are printed (`cargo test -p erlmcp --test supervision -- --nocapture`); when
//! `ERLMCP_SUPERVISION_EVIDENCE` names a file, the crash-isolation test writes its figures
//! and the runtime status there as JSON, for the evidence bundle's `supervision` section.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use erlmcp::runtime::{ListenerKind, Runtime, RuntimeError, SupervisorError};
use erlmcp::transport::{TcpAcceptor, TcpTransport, memory_pair};
use erlmcp::{Client, ClientBuilder, RequestOptions};
use serde_json::json;
use tokio::sync::{Barrier, Semaphore};

mod common;

/// What the injected crashes (and the demo's `panic` tool) panic with.
const EXPECTED_PANICS: &[&str] = &["crash injected", "on purpose"];

const MAX_FRAME: usize = 1 << 20;

async fn start_runtime(bulkheads: usize) -> Runtime {
    common::quiet_expected_panics(EXPECTED_PANICS);
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", MAX_FRAME).await.unwrap();
    Runtime::builder(erlmcp::demo::server())
        .bulkheads(bulkheads)
        .tcp(acceptor)
        .start()
        .unwrap()
}

/// Connects and initializes a client; returns it with its local address (the peer
/// address the runtime records for the session).
async fn connect(addr: SocketAddr) -> Result<(Client, SocketAddr), String> {
    let transport = TcpTransport::connect(addr, MAX_FRAME)
        .await
        .map_err(|e| e.to_string())?;
    let local = transport.local_addr();
    let client = ClientBuilder::new("supervision-test", "1.0.0")
        .connect(transport)
        .await
        .map_err(|e| e.to_string())?;
    Ok((client, local))
}

/// The runtime's session key for each local address.
fn keys_by_peer(runtime: &Runtime) -> HashMap<String, u64> {
    runtime
        .sessions()
        .into_iter()
        .map(|s| (s.peer, s.key))
        .collect()
}

async fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    errors: AtomicU64,
    tool_panics_answered: AtomicU64,
    crashed_calls_failed: AtomicU64,
}

/// 1000 concurrent TCP sessions call tools. 100 of them also call the `panic` tool (a
/// handler panic, caught per request: -32603, and the session goes on). 50 of them have
/// their session task made to panic mid-run (`Runtime::crash_session`: a real panic in the
/// task, outside the per-request catch). Every call on every other session must succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_thousand_sessions_crashes_stay_in_their_sessions() {
    const SESSIONS: usize = 1000;
    const ROUNDS: usize = 5;
    let is_panic_caller = |i: usize| i % 10 == 3; // 100 sessions
    let is_crashed = |i: usize| i % 20 == 7; // 50 sessions, disjoint from the above

    let began = Instant::now();
    let runtime = Arc::new(start_runtime(8).await);
    let addr = runtime.tcp_addrs()[0];

    let work = async {
        // Connect everyone (100 handshakes in flight at a time), one echo each.
        let gate = Arc::new(Semaphore::new(100));
        let mut connecting = Vec::new();
        for i in 0..SESSIONS {
            let gate = gate.clone();
            connecting.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.unwrap();
                let (client, local) = connect(addr).await.unwrap();
                common::echo(&client, &format!("hello {i}")).await.unwrap();
                (client, local)
            }));
        }
        let mut clients = Vec::with_capacity(SESSIONS);
        for c in connecting {
            clients.push(c.await.unwrap());
        }
        let connected_in = began.elapsed();
        let keys = keys_by_peer(&runtime);
        assert_eq!(keys.len(), SESSIONS);
        let status = runtime.status();
        assert_eq!(status.active_connections(), SESSIONS);
        let per_bulkhead: Vec<usize> = status
            .bulkheads
            .iter()
            .map(|b| b.active_connections)
            .collect();
        println!(
            "connected {SESSIONS} sessions in {connected_in:?}; per bulkhead {per_bulkhead:?}"
        );

        // Everyone calls tools concurrently; the crashes land while they do.
        let tally = Arc::new(Tally::default());
        let barrier = Arc::new(Barrier::new(SESSIONS + 1));
        let (landed, crashes_landed) = tokio::sync::watch::channel(false);
        let mut workers = Vec::new();
        let mut crash_keys = Vec::new();
        for (i, (client, local)) in clients.into_iter().enumerate() {
            let key = keys[&local.to_string()];
            if is_crashed(i) {
                crash_keys.push(key);
            }
            let tally = tally.clone();
            let barrier = barrier.clone();
            let mut crashes_landed = crashes_landed.clone();
            workers.push(tokio::spawn(async move {
                barrier.wait().await;
                if is_crashed(i) {
                    // Once the crashes have ended the sessions, show this one is gone.
                    crashes_landed.wait_for(|landed| *landed).await.unwrap();
                    let options = RequestOptions::with_timeout(Duration::from_millis(500));
                    let call = client.call_tool_with("echo", json!({"text": "anyone?"}), options);
                    if call.await.is_err() {
                        tally.crashed_calls_failed.fetch_add(1, Ordering::Relaxed);
                    }
                    return client;
                }
                for round in 0..ROUNDS {
                    if is_panic_caller(i) && round == 2 {
                        match client.call_tool("panic", json!({})).await {
                            Err(err) if err.rpc_error().map(|e| e.code.code()) == Some(-32603) => {
                                tally.tool_panics_answered.fetch_add(1, Ordering::Relaxed);
                            }
                            other => panic!("session {i}: panic tool gave {other:?}"),
                        }
                    }
                    match common::echo(&client, &format!("session {i} round {round}")).await {
                        Ok(()) => tally.ok.fetch_add(1, Ordering::Relaxed),
                        Err(err) => {
                            eprintln!("session {i} round {round}: {err}");
                            tally.errors.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
                client
            }));
        }
        barrier.wait().await;
        let crashed_at = Instant::now();
        for key in &crash_keys {
            assert!(runtime.crash_session(*key));
        }
        eventually("the crashes", Duration::from_secs(10), || {
            runtime.status().session_panics() == crash_keys.len() as u64
        })
        .await;
        let remaining = runtime.sessions();
        assert!(
            crash_keys
                .iter()
                .all(|k| !remaining.iter().any(|s| s.key == *k))
        );
        landed.send(true).unwrap();
        let mut clients = Vec::new();
        for w in workers {
            clients.push(w.await.unwrap());
        }
        let calls_done_in = crashed_at.elapsed();

        let survivors = SESSIONS - crash_keys.len();
        let ok = tally.ok.load(Ordering::Relaxed);
        let errors = tally.errors.load(Ordering::Relaxed);
        let tool_panics = tally.tool_panics_answered.load(Ordering::Relaxed);
        let crashed_failed = tally.crashed_calls_failed.load(Ordering::Relaxed);
        let status = runtime.status();
        let registry_entries = runtime.server().session_count();
        println!(
            "crash isolation: {survivors} surviving sessions, {ok} calls ok, {errors} errors; \
             {tool_panics} tool panics answered -32603; {} session tasks crashed, {crashed_failed} of \
             their calls failed; calls done in {calls_done_in:?}; registry entries {registry_entries}",
            crash_keys.len()
        );
        assert_eq!(errors, 0, "a crash leaked into another session");
        assert_eq!(ok, (survivors * ROUNDS) as u64);
        assert_eq!(tool_panics, 100);
        assert_eq!(crash_keys.len(), 50);
        assert_eq!(crashed_failed, 50, "a crashed session still answered");
        assert_eq!(
            status.session_panics(),
            50,
            "each crash counted once, in its bulkhead"
        );
        assert_eq!(status.active_connections(), survivors);
        assert_eq!(status.sessions, survivors);
        assert_eq!(status.root.restarts, 0);
        assert!(
            status
                .bulkheads
                .iter()
                .all(|b| b.incarnations == 1 && b.restart_count == 0)
        );
        assert!(status.listeners.iter().all(|l| l.supervisor.restarts == 0));
        // A crashed session leaves no entry in either registry: the server's (its guard
        // rides in the session future) nor the runtime's.
        assert_eq!(registry_entries, survivors);
        assert_eq!(status.registry.entries, survivors);
        assert_eq!(status.registry.connections.entries, survivors);
        assert_eq!(runtime.server().introspect().registry_entries, survivors);

        let evidence = json!({
            "sessions": SESSIONS,
            "rounds_per_session": ROUNDS,
            "surviving_sessions": survivors,
            "calls_ok": ok,
            "call_errors_on_surviving_sessions": errors,
            "tool_panics_answered": tool_panics,
            "session_tasks_crashed": crash_keys.len(),
            "calls_to_crashed_sessions_failed": crashed_failed,
            "connect_ms": connected_in.as_millis() as u64,
            "calls_ms": calls_done_in.as_millis() as u64,
            "registry_entries_after_crashes": registry_entries,
            "runtime_status": serde_json::to_value(&status).unwrap(),
        });
        println!("{}", serde_json::to_string(&evidence).unwrap());
        if let Ok(path) = std::env::var("ERLMCP_SUPERVISION_EVIDENCE") {
            std::fs::write(&path, serde_json::to_vec_pretty(&evidence).unwrap()).unwrap();
        }

        for client in clients {
            let _ = client.close().await;
        }
        eventually("every session closed", Duration::from_secs(10), || {
            runtime.status().active_connections() == 0
        })
        .await;
    };
    tokio::time::timeout(Duration::from_secs(90), work)
        .await
        .expect("test took too long");
    println!("crash isolation test took {:?}", began.elapsed());
}

/// The TCP accept loop panics; it is accepting again in under 2 s, the established
/// sessions keep working, and the registry keeps its entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_listener_is_accepting_again_within_two_seconds() {
    let runtime = start_runtime(8).await;
    let addr = runtime.tcp_addrs()[0];
    let mut established = Vec::new();
    for i in 0..20 {
        let (client, _) = connect(addr).await.unwrap();
        common::echo(&client, &format!("before {i}")).await.unwrap();
        established.push(client);
    }
    let sessions_before = runtime.sessions();
    assert_eq!(runtime.server().session_count(), 20);

    let crashed_at = Instant::now();
    assert_eq!(runtime.crash_listener(ListenerKind::Tcp), 1);
    // The socket stays bound through the crash, so a connection made now waits in the
    // backlog until the restarted accept loop takes it: one attempt measures the gap.
    let fresh = tokio::time::timeout(Duration::from_secs(10), async {
        let (client, _) = connect(addr).await?;
        common::echo(&client, "after").await?;
        Ok::<_, String>(client)
    })
    .await
    .expect("listener never came back")
    .unwrap();
    let back_in = crashed_at.elapsed();
    println!("listener crash → new connection served in {back_in:?}");
    assert!(back_in < Duration::from_secs(2), "{back_in:?}");

    let status = runtime.status();
    let tcp = &status.listeners[0];
    assert_eq!((tcp.supervisor.panics, tcp.supervisor.restarts), (1, 1));
    assert_eq!(tcp.listeners[0].starts, 2);
    assert_eq!(tcp.listeners[0].kind, ListenerKind::Tcp);
    assert_eq!(
        status.root.restarts, 0,
        "only the accept loop was restarted"
    );
    assert_eq!(status.session_panics(), 0);

    for (i, client) in established.iter().enumerate() {
        common::echo(client, &format!("after {i}")).await.unwrap();
    }
    let sessions_after = runtime.sessions();
    assert_eq!(sessions_after.len(), 21);
    assert!(sessions_before.iter().all(|s| sessions_after.contains(s)));
    assert_eq!(
        runtime.server().session_count(),
        21,
        "the registry kept its entries"
    );

    for client in established {
        client.close().await.unwrap();
    }
    fresh.close().await.unwrap();
    runtime.shutdown().await.unwrap();
}

/// Every session of one bulkhead is crashed; the failures stop at that bulkhead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_across_one_bulkhead_stop_at_that_bulkhead() {
    let runtime = start_runtime(8).await;
    let addr = runtime.tcp_addrs()[0];
    let mut clients = Vec::new();
    for _ in 0..160 {
        clients.push(connect(addr).await.unwrap());
    }
    let placed: HashMap<String, (u64, usize)> = runtime
        .sessions()
        .into_iter()
        .map(|s| (s.peer, (s.key, s.bulkhead)))
        .collect();
    let mut per_bulkhead: BTreeMap<usize, usize> = BTreeMap::new();
    for (_, bulkhead) in placed.values() {
        *per_bulkhead.entry(*bulkhead).or_default() += 1;
    }
    let (&target, &victims) = per_bulkhead.iter().max_by_key(|(_, n)| **n).unwrap();
    assert!(victims > 0);

    for (key, bulkhead) in placed.values() {
        if *bulkhead == target {
            assert!(runtime.crash_session(*key));
        }
    }
    eventually("the crashes", Duration::from_secs(10), || {
        runtime.status().bulkheads[target].panics == victims as u64
    })
    .await;

    let mut survivors = 0;
    for (client, local) in &clients {
        let (_, bulkhead) = placed[&local.to_string()];
        if bulkhead != target {
            for round in 0..3 {
                common::echo(client, &format!("round {round}"))
                    .await
                    .unwrap();
            }
            survivors += 1;
        }
    }
    let status = runtime.status();
    println!("crashed all {victims} sessions of bulkhead {target}; {survivors} others unaffected");
    for b in &status.bulkheads {
        if b.index == target {
            assert_eq!((b.active_connections, b.crashes_in_window), (0, victims));
        } else {
            assert_eq!(
                (b.panics, b.failures, b.crashes_in_window),
                (0, 0, 0),
                "{b:?}"
            );
            assert_eq!(
                b.active_connections,
                per_bulkhead.get(&b.index).copied().unwrap_or(0)
            );
        }
        assert_eq!(b.incarnations, 1);
    }
    assert_eq!((status.root.restarts, status.root.failures), (0, 0));
    assert_eq!(status.sessions, survivors);
    for (client, _) in clients {
        let _ = client.close().await;
    }
}

/// A full bulkhead refuses a session (it is not moved elsewhere); sessions on any
/// transport can be placed; shutdown ends sessions in order and gracefully.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulkhead_caps_and_ordered_shutdown() {
    common::quiet_expected_panics(EXPECTED_PANICS);
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", MAX_FRAME).await.unwrap();
    let runtime = Runtime::builder(erlmcp::demo::server())
        .bulkheads(1)
        .max_sessions_per_bulkhead(3)
        .tcp(acceptor)
        .start()
        .unwrap();
    let addr = runtime.tcp_addrs()[0];

    // An in-memory session placed directly, then two over TCP: the bulkhead is full.
    let (ours, theirs) = memory_pair(MAX_FRAME, 64 * 1024);
    runtime.start_session(theirs).await.unwrap();
    let memory_client = ClientBuilder::new("memory", "1.0.0")
        .connect(ours)
        .await
        .unwrap();
    common::echo(&memory_client, "in memory").await.unwrap();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let (client, _) = connect(addr).await.unwrap();
        clients.push(client);
    }
    let (_, extra) = memory_pair(MAX_FRAME, 1024);
    match runtime.start_session(extra).await {
        Err(RuntimeError::Supervisor(SupervisorError::Full { max: 3, .. })) => {}
        other => panic!("expected a full bulkhead, got {other:?}"),
    }
    // Over TCP the refused connection is closed before it is initialized.
    assert!(connect(addr).await.is_err());
    // The refused transport is dropped (closing the socket) inside the refusal, so the
    // peer can see the close a moment before the listener counts it.
    eventually("the refusal to be counted", Duration::from_secs(5), || {
        runtime.status().listeners[0].listeners[0].refused == 1
    })
    .await;
    let status = runtime.status();
    assert_eq!(status.listeners[0].listeners[0].refused, 1);
    assert_eq!(status.bulkheads[0].max_connections, 3);
    assert_eq!(status.sessions, 3);

    let server = runtime.server().clone();
    let began = Instant::now();
    runtime.shutdown().await.unwrap();
    println!("ordered shutdown of 3 sessions took {:?}", began.elapsed());
    assert!(began.elapsed() < Duration::from_secs(5));
    // Each session ended through its own close path: the server's table is empty.
    assert_eq!(server.session_count(), 0);
    for client in &clients {
        assert!(common::echo(client, "gone?").await.is_err());
    }
    assert!(connect(addr).await.is_err(), "the listener is closed");
}
