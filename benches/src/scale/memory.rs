//! The in-memory run: real server sessions over in-memory duplex pipes, in this process,
//! ramped to 100,000 — no file descriptors, so the registry, the session tasks and their
//! buffers are what is measured.
//!
//! ## What is server-side, and how it is measured
//! Each session is a `tokio::io::duplex` pipe: the server end is a `StreamTransport`
//! (exactly what `erlmcp_transport::memory_pair` builds, with a chosen read capacity) served
//! by `Server::serve` inside `Registry::monitor`; the client end is a [`RawClient`], which
//! holds the bare pipe end and nothing else (it writes `initialize` / `ping` lines and
//! reads answers into a stack buffer). So the heap this process holds per session is
//! - the server session (engine state, its tasks, read/write buffers, registry entry),
//! - the pipe: its shared state and the two direction buffers, which grow to the largest
//!   message sent through them and stay (a socket's kernel buffers play that part on TCP),
//! - the client: `size_of::<RawClient>()` bytes in one `Vec`, nothing on the heap.
//!
//! Heap figures come from the counting global allocator (`stats_alloc`: bytes requested
//! and not yet freed, without malloc's own per-chunk overhead); RSS from
//! `/proc/self/status`. [`attribute`] splits one session's heap into stages on 10,000
//! sessions, with a pipes-only control carrying the same bytes, so the pipe's share can
//! be taken out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use erlmcp_protocol::Server;
use erlmcp_registry::{Kind, LatencySummary, Registry};
use erlmcp_transport::{StreamTransport, TransportInfo, TransportKind};
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};

use crate::churn::{ChurnResult, lookup_under_churn};
use crate::heap;
use crate::raw::{INITIALIZED_LINE, RawClient, initialize_line};
use crate::session::{SessionEntry, SessionRegistry, scale_server, spawn_session};
use crate::sys::{Rss, rss};

/// Settings of the in-memory run.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryConfig {
    /// Session counts to measure at, ascending.
    pub steps: Vec<usize>,
    /// Bytes each pipe direction holds before the writer waits.
    pub pipe_bytes: usize,
    /// Initial read-buffer capacity of each server end.
    pub read_capacity: usize,
    /// Largest frame either end accepts.
    pub max_frame_bytes: usize,
    /// Sessions whose `ping` round trip is timed at each step.
    pub ping_sample: usize,
    /// Pings per sampled session.
    pub ping_rounds: usize,
    /// Sampled pings in flight at once.
    pub ping_concurrency: usize,
    /// Length of the lookup-under-churn window.
    pub window_secs: f64,
    /// Rate of the paced churn window (inserts + removes per second).
    pub paced_churn: u64,
    /// Sessions created per batch (created, spawned, then handshaken concurrently).
    pub batch: usize,
}

type ServerEnd = StreamTransport<ReadHalf<DuplexStream>, WriteHalf<DuplexStream>>;

/// One pipe: the server end as `memory_pair` builds it, the client end bare.
fn pipe(cfg: &MemoryConfig) -> (ServerEnd, DuplexStream) {
    let (server_io, client_io) = tokio::io::duplex(cfg.pipe_bytes.max(1));
    let (reader, writer) = tokio::io::split(server_io);
    let info = TransportInfo::new(TransportKind::Memory, "memory:client", cfg.max_frame_bytes);
    (
        StreamTransport::new(reader, writer, info).with_read_capacity(cfg.read_capacity),
        client_io,
    )
}

fn summary(h: &Histogram<u64>) -> LatencySummary {
    LatencySummary::from_histogram(h)
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("constant histogram bounds")
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// One measured step of the ramp.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryStep {
    /// Sessions held (target of this step).
    pub sessions: usize,
    /// Entries of kind `session` in the registry.
    pub registered: usize,
    /// Sessions the server's own table counts.
    pub server_sessions: usize,
    /// Sessions that answered one `ping` each at this step.
    pub answered_ping: usize,
    /// Sampled keys (the ping sample) whose registry entry routes to the right session.
    pub routed_correctly: usize,
    /// Seconds to ping every session once (256 in flight).
    pub ping_all_secs: f64,
    /// Seconds this step's new sessions took to open and complete the handshake.
    pub ramp_secs: f64,
    /// Process RSS.
    pub rss: Rss,
    /// RSS above the baseline (runtime and server built, no session).
    pub rss_delta_bytes: u64,
    /// `rss_delta_bytes / sessions`: server, pipe and raw client together.
    pub rss_per_session: f64,
    /// Heap held above the baseline.
    pub heap_delta_bytes: i64,
    /// Heap allocations (blocks) held above the baseline, per session.
    pub heap_blocks_per_session: f64,
    /// `heap_delta_bytes / sessions`: server, pipe and raw client together.
    pub heap_per_session: f64,
    /// Server-side heap per session: `heap_per_session` minus the pipe (measured by the
    /// pipes-only control at the same traffic) and minus the raw client's in-line bytes.
    pub server_heap_per_session: f64,
    /// Registry lookup latency under churn as fast as the churn thread can go.
    pub lookup: ChurnResult,
    /// The same with the churn paced to `MemoryConfig::paced_churn` operations per second.
    pub lookup_paced: ChurnResult,
    /// `ping` round trips on the sample.
    pub ping: LatencySummary,
}

/// Where one session's heap goes, measured in stages on `sessions` sessions (bytes per
/// session; each stage is the heap allocated by that step alone).
#[derive(Debug, Clone, Serialize)]
pub struct Attribution {
    /// Sessions measured.
    pub sessions: usize,
    /// `size_of` the future `Server::serve` returns (lives inside the session task).
    pub serve_future_bytes: usize,
    /// `size_of` the future spawned: `serve`'s inside `Registry::monitor`'s `Monitored`.
    pub session_future_bytes: usize,
    /// `size_of::<RawClient<DuplexStream>>()`, held in-line in a `Vec` per session (no
    /// heap; not in the figures below).
    pub raw_client_bytes: usize,
    /// 1. Pipe pair + server-end transport built (split halves, transport info).
    pub pipe_and_transport: f64,
    /// 2. `Server::serve` called, future not yet spawned: the server's session-table
    ///    entry, session state, peer, outbound queue, task store.
    pub serve_future_state: f64,
    /// 3a. Spawned, not yet polled: tokio's task cell (header + the session future).
    pub task_cell: f64,
    /// 3b. The registry entry (slot, table growth, the `Arc` handle), measured apart.
    pub registry_entry: f64,
    /// 4. First poll, idle before any frame: the read buffer, the writer task, the
    ///    dispatch semaphore, the cleanup guard.
    pub session_start: f64,
    /// 5. After `initialize`, `notifications/initialized` and one `ping`, idle again:
    ///    client info and capabilities, the writer's batch buffer, pipe buffers grown by
    ///    the traffic.
    pub after_handshake: f64,
    /// Pipes-only control: a bare `tokio::io::duplex` pair (its shared state).
    pub pipe_pair: f64,
    /// Pipes-only control: the same bytes through a bare pipe pair, what the pipe's two
    /// buffers keep afterwards.
    pub pipe_buffers_after_traffic: f64,
    /// Heap blocks per session at the end.
    pub blocks_per_session: f64,
    /// Server-side total: `total` minus the bare pipe pair and its buffers (the server
    /// end's split and transport info count as server-side).
    pub server_side: f64,
    /// Heap allocated per session, stages 1–5 (server and pipe; the raw client allocates
    /// none).
    pub total: f64,
}

fn per(delta: i64, n: usize) -> f64 {
    delta as f64 / n.max(1) as f64
}

/// Measures the stages of [`Attribution`] on `n` sessions of a fresh server.
pub async fn attribute(cfg: &MemoryConfig, n: usize) -> anyhow::Result<Attribution> {
    let init = initialize_line();
    let ping = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";

    // Pipes-only control: the same traffic through bare pipes (both ends bare here).
    // Every `Vec` is allocated before the first reading, so the deltas are heap that the
    // pipes and sessions themselves allocate, not the harness's bookkeeping.
    let mut pairs: Vec<(DuplexStream, DuplexStream)> = Vec::with_capacity(n);
    let init_answer = {
        // One real handshake to learn the answer's size.
        let server = scale_server(cfg.max_frame_bytes)?;
        let (end, client) = pipe(cfg);
        let task = tokio::spawn(server.serve(end));
        let mut raw = RawClient::new(client);
        let len = raw.handshake().await?;
        drop(raw);
        let _ = task.await;
        vec![b'x'; len + 1]
    };
    let ping_answer = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n";
    let mut scratch = vec![0u8; 64 * 1024];
    settle().await;
    let h0 = heap();
    pairs.extend((0..n).map(|_| tokio::io::duplex(cfg.pipe_bytes.max(1))));
    settle().await;
    let h1 = heap();
    for (a, b) in pairs.iter_mut() {
        for (from_client, bytes) in [
            (true, &init[..]),
            (false, &init_answer[..]),
            (true, INITIALIZED_LINE),
            (true, &ping[..]),
            (false, &ping_answer[..]),
        ] {
            let (w, r) = if from_client {
                (&mut *b, &mut *a)
            } else {
                (&mut *a, &mut *b)
            };
            // Write and read in pieces the pipe can hold.
            for piece in bytes.chunks(cfg.pipe_bytes.max(1)) {
                w.write_all(piece).await?;
                r.read_exact(&mut scratch[..piece.len()]).await?;
            }
        }
    }
    settle().await;
    let h2 = heap();
    drop(pairs);
    drop(scratch);
    let pipe_pair = per(h1.live_bytes - h0.live_bytes, n);
    let pipe_buffers = per(h2.live_bytes - h1.live_bytes, n);

    // What one registry entry costs (slot, table growth, the `Arc` value).
    let registry_entry = {
        let registry: SessionRegistry = Registry::new();
        let mut guards = Vec::with_capacity(n);
        settle().await;
        let r0 = heap();
        for conn in 0..n as u64 {
            let entry = Arc::new(SessionEntry {
                conn,
                transport: TransportKind::Memory,
            });
            guards.push(registry.insert(conn, entry, Kind::SESSION)?);
        }
        let r1 = heap();
        drop(guards);
        per(r1.live_bytes - r0.live_bytes, n)
    };

    // The real sessions, stage by stage. They run on their own current-thread runtime, so
    // they can be spawned without being polled (stage 3) and then started (stage 4).
    let sessions_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let server = scale_server(cfg.max_frame_bytes)?;
    let registry: SessionRegistry = Registry::new();
    let mut ends: Vec<ServerEnd> = Vec::with_capacity(n);
    let mut clients: Vec<RawClient<DuplexStream>> = Vec::with_capacity(n);
    let mut futures = Vec::with_capacity(n);
    settle().await;
    let s0 = heap();
    for _ in 0..n {
        let (end, client) = pipe(cfg);
        ends.push(end);
        clients.push(RawClient::new(client));
    }
    settle().await;
    let s1 = heap();
    futures.extend(ends.drain(..).map(|end| server.serve(end)));
    let serve_future_bytes = futures.first().map_or(0, std::mem::size_of_val);
    settle().await;
    let s2 = heap();
    let mut session_future_bytes = 0;
    for (conn, fut) in (0u64..).zip(futures.drain(..)) {
        let entry = Arc::new(SessionEntry {
            conn,
            transport: TransportKind::Memory,
        });
        let monitored = registry.monitor(conn, entry, Kind::SESSION, fut)?;
        session_future_bytes = std::mem::size_of_val(&monitored);
        drop(sessions_rt.spawn(monitored));
    }
    settle().await;
    let s3 = heap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = std::thread::spawn(move || {
        sessions_rt.block_on(async {
            let _ = stopped.await;
        });
        sessions_rt.shutdown_timeout(Duration::from_secs(5));
    });
    settle().await;
    let s4 = heap();
    let ok = futures::stream::iter(clients.iter_mut())
        .map(|c| async move { c.handshake().await.is_ok() && c.ping().await.is_ok() })
        .buffer_unordered(256)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await;
    if ok != n {
        bail!("attribution: only {ok} of {n} sessions completed the handshake");
    }
    settle().await;
    let s5 = heap();
    drop(clients);
    drop(ends);
    drop(futures);
    let cleaned = wait_until(|| registry.is_empty() && server.session_count() == 0).await;
    let _ = stop.send(());
    let _ = tokio::task::spawn_blocking(move || driver.join()).await;
    cleaned?;

    let total = per(s5.live_bytes - s0.live_bytes, n);
    let spawned = per(s3.live_bytes - s2.live_bytes, n);
    Ok(Attribution {
        sessions: n,
        serve_future_bytes,
        session_future_bytes,
        raw_client_bytes: std::mem::size_of::<RawClient<DuplexStream>>(),
        pipe_and_transport: per(s1.live_bytes - s0.live_bytes, n),
        serve_future_state: per(s2.live_bytes - s1.live_bytes, n),
        task_cell: spawned - registry_entry,
        registry_entry,
        session_start: per(s4.live_bytes - s3.live_bytes, n),
        after_handshake: per(s5.live_bytes - s4.live_bytes, n),
        pipe_pair,
        pipe_buffers_after_traffic: pipe_buffers,
        blocks_per_session: per(s5.live_blocks - s0.live_blocks, n),
        server_side: total - pipe_pair - pipe_buffers,
        total,
    })
}

/// Waits (up to 30 s) until `done` holds.
pub async fn wait_until(done: impl Fn() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        if Instant::now() > deadline {
            bail!("cleanup did not finish within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// What the ramp left behind once every client closed.
#[derive(Debug, Clone, Serialize)]
pub struct Cleanup {
    /// Seconds from dropping every client to an empty registry and session table.
    pub secs: f64,
    /// Registry entries left (0: every monitor fired).
    pub registry_entries_left: usize,
    /// Sessions left in the server's table.
    pub server_sessions_left: usize,
    /// Entries removed because their owner (session task) ended, over the whole run.
    pub owner_removals: u64,
}

/// The whole in-memory ramp.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryRun {
    /// Settings.
    pub config: MemoryConfig,
    /// Bare pipe pair per session, from the pipes-only control.
    pub pipe_structures_per_session: f64,
    /// Pipe buffers per pair after the handshake's traffic, from the control.
    pub pipe_buffers_per_session: f64,
    /// The steps.
    pub steps: Vec<MemoryStep>,
    /// After the last step.
    pub cleanup: Cleanup,
}

/// Ramps to each step in `cfg.steps`, measuring at each.
pub async fn ramp(cfg: &MemoryConfig) -> anyhow::Result<MemoryRun> {
    let server: Server = scale_server(cfg.max_frame_bytes)?;
    let registry: SessionRegistry = Registry::new();
    let mut clients: Vec<RawClient<DuplexStream>> = Vec::new();
    let max = cfg.steps.iter().copied().max().unwrap_or(0);
    clients.reserve_exact(max);
    settle().await;
    let base_heap = heap();
    let base_rss = rss();
    let mut steps = Vec::new();
    for &target in &cfg.steps {
        let started = Instant::now();
        while clients.len() < target {
            let batch = cfg.batch.min(target - clients.len());
            let first = clients.len();
            for i in 0..batch {
                let (end, client) = pipe(cfg);
                let conn = (first + i) as u64;
                spawn_session(&server, &registry, conn, TransportKind::Memory, end)?;
                clients.push(RawClient::new(client));
            }
            let ok = futures::stream::iter(clients[first..].iter_mut())
                .map(|c| async move { c.handshake().await.is_ok() })
                .buffer_unordered(256)
                .filter(|ok| futures::future::ready(*ok))
                .count()
                .await;
            if ok != batch {
                bail!("only {ok} of {batch} handshakes completed at {first} sessions");
            }
        }
        let ramp_secs = started.elapsed().as_secs_f64();

        // Every session answers ping (this also brings each pipe to the same traffic as
        // the attribution's control).
        let started = Instant::now();
        let answered = futures::stream::iter(clients.iter_mut())
            .map(|c| async move { c.ping().await.is_ok() })
            .buffer_unordered(256)
            .filter(|ok| futures::future::ready(*ok))
            .count()
            .await;
        let ping_all_secs = started.elapsed().as_secs_f64();

        settle().await;
        let h = heap();
        let r = rss();
        let n = clients.len();
        let heap_delta = h.live_bytes - base_heap.live_bytes;
        let heap_per_session = per(heap_delta, n);

        // Registry lookups under churn, the sessions idle.
        let window = Duration::from_secs_f64(cfg.window_secs);
        let mut windows = Vec::new();
        for rate in [None, Some(cfg.paced_churn)] {
            let keys: Vec<u64> = (0..n as u64).collect();
            let reg = registry.clone();
            windows.push(
                tokio::task::spawn_blocking(move || {
                    lookup_under_churn(
                        &reg,
                        &keys,
                        |conn| {
                            Arc::new(SessionEntry {
                                conn,
                                transport: TransportKind::Memory,
                            })
                        },
                        window,
                        rate,
                    )
                })
                .await
                .context("lookup window")?,
            );
        }
        let lookup_paced = windows.pop().context("paced window")?;
        let lookup = windows.pop().context("max-rate window")?;

        // Ping round trips on an evenly spread sample.
        let sample = cfg.ping_sample.min(n).max(1);
        let stride = (n / sample).max(1);
        let rounds = cfg.ping_rounds.max(1);
        let rtts: Vec<Vec<Duration>> =
            futures::stream::iter(clients.iter_mut().step_by(stride).take(sample))
                .map(|c| async move {
                    let mut out = Vec::with_capacity(rounds);
                    for _ in 0..rounds {
                        if let Ok(rtt) = c.ping().await {
                            out.push(rtt);
                        }
                    }
                    out
                })
                .buffer_unordered(cfg.ping_concurrency.max(1))
                .collect()
                .await;
        let routed_correctly = (0..n as u64)
            .step_by(stride)
            .take(sample)
            .filter(|&k| {
                registry
                    .with(&k, |e| e.conn == k && e.transport == TransportKind::Memory)
                    .unwrap_or(false)
            })
            .count();
        let mut hist = new_hist();
        for rtt in rtts.into_iter().flatten() {
            hist.saturating_record(u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX).max(1));
        }

        let step = MemoryStep {
            sessions: n,
            registered: registry.count_kind(Kind::SESSION),
            server_sessions: server.session_count(),
            answered_ping: answered,
            routed_correctly,
            ping_all_secs,
            ramp_secs,
            rss: r,
            rss_delta_bytes: r.rss_bytes.saturating_sub(base_rss.rss_bytes),
            rss_per_session: r.rss_bytes.saturating_sub(base_rss.rss_bytes) as f64 / n as f64,
            heap_delta_bytes: heap_delta,
            heap_blocks_per_session: per(h.live_blocks - base_heap.live_blocks, n),
            heap_per_session,
            // Filled in by `apply_attribution` once the pipe's share is known.
            server_heap_per_session: heap_per_session,
            lookup,
            lookup_paced,
            ping: summary(&hist),
        };
        eprintln!(
            "scale: memory {:>7} sessions  rss/session {:>7.0} B  heap/session {:>6.0} B  lookup p99 {} ns  ping p99 {:.1} µs",
            step.sessions,
            step.rss_per_session,
            step.heap_per_session,
            step.lookup.lookup.p99_ns,
            step.ping.p99_ns as f64 / 1000.0
        );
        steps.push(step);
    }

    // Close every client: each session sees EOF and ends; its monitor removes its entry.
    let started = Instant::now();
    drop(clients);
    let cleaned = wait_until(|| registry.is_empty() && server.session_count() == 0).await;
    let cleanup = Cleanup {
        secs: started.elapsed().as_secs_f64(),
        registry_entries_left: registry.count(),
        server_sessions_left: server.session_count(),
        owner_removals: registry.metrics().owner_removals,
    };
    cleaned?;
    Ok(MemoryRun {
        config: cfg.clone(),
        pipe_structures_per_session: 0.0,
        pipe_buffers_per_session: 0.0,
        steps,
        cleanup,
    })
}

/// Takes the pipe's share (from the attribution's pipes-only control) out of every step:
/// the clients' `Vec` was reserved before the baseline, so what is not the pipe is the
/// server's.
pub fn apply_attribution(run: &mut MemoryRun, a: &Attribution) {
    run.pipe_structures_per_session = a.pipe_pair;
    run.pipe_buffers_per_session = a.pipe_buffers_after_traffic;
    for step in &mut run.steps {
        step.server_heap_per_session =
            step.heap_per_session - a.pipe_pair - a.pipe_buffers_after_traffic;
    }
}

/// Heap per monitored entry and time per register/teardown, guard versus watcher.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorCost {
    /// Entries measured.
    pub entries: usize,
    /// Heap per owner task with no registry entry at all (the baseline).
    pub bare_task_bytes: f64,
    /// Heap per owner task registered with `Registry::monitor` (guard inside the task).
    pub guard_bytes: f64,
    /// Heap per owner task registered with `Registry::watch` (a watcher task).
    pub watcher_bytes: f64,
    /// Nanoseconds per entry to register and spawn, guard.
    pub guard_register_ns: f64,
    /// Nanoseconds per entry to spawn and register, watcher.
    pub watcher_register_ns: f64,
    /// Nanoseconds per entry from "owners end" to "registry empty", guard.
    pub guard_teardown_ns: f64,
    /// Nanoseconds per entry from "owners end" to "registry empty", watcher.
    pub watcher_teardown_ns: f64,
}

/// Measures [`MonitorCost`] with `n` owner tasks each waiting on a oneshot.
pub async fn monitor_cost(n: usize) -> anyhow::Result<MonitorCost> {
    async fn round(
        n: usize,
        mode: u8,
        registry: &SessionRegistry,
    ) -> anyhow::Result<(f64, f64, f64)> {
        settle().await;
        let before = heap();
        let started = Instant::now();
        let mut senders = Vec::with_capacity(n);
        for conn in 0..n as u64 {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            senders.push(tx);
            let owner = async move {
                let _ = rx.await;
            };
            let entry = || {
                Arc::new(SessionEntry {
                    conn,
                    transport: TransportKind::Memory,
                })
            };
            match mode {
                0 => drop(tokio::spawn(owner)),
                1 => drop(tokio::spawn(registry.monitor(
                    conn,
                    entry(),
                    Kind::SESSION,
                    owner,
                )?)),
                _ => {
                    let task = tokio::spawn(owner);
                    drop(registry.watch(conn, entry(), Kind::SESSION, task)?);
                }
            }
        }
        let register_ns = started.elapsed().as_nanos() as f64 / n as f64;
        settle().await;
        let held = heap();
        let bytes = per(held.live_bytes - before.live_bytes, n)
            - std::mem::size_of::<tokio::sync::oneshot::Sender<()>>() as f64;
        let started = Instant::now();
        drop(senders);
        wait_until(|| registry.is_empty()).await?;
        let teardown_ns = started.elapsed().as_nanos() as f64 / n as f64;
        Ok((bytes, register_ns, teardown_ns))
    }
    let registry: SessionRegistry = Registry::new();
    let (bare, _, _) = round(n, 0, &registry).await?;
    let (guard, guard_reg, guard_down) = round(n, 1, &registry).await?;
    let (watcher, watch_reg, watch_down) = round(n, 2, &registry).await?;
    Ok(MonitorCost {
        entries: n,
        bare_task_bytes: bare,
        guard_bytes: guard,
        watcher_bytes: watcher,
        guard_register_ns: guard_reg,
        watcher_register_ns: watch_reg,
        guard_teardown_ns: guard_down,
        watcher_teardown_ns: watch_down,
    })
}
