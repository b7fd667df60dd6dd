//! Real loopback TCP: server nodes and client nodes as separate processes (this binary's
//! `serve-tcp` and `tcp-clients` subcommands), driven over their stdin/stdout.
//!
//! Every process may hold 20,000 open files (the hard limit here), so one server process
//! holds at most ≈ 19,990 connections and so does one client process. Past that, several
//! server processes — each with its own registry, as separate nodes would be — and several
//! client processes, each binding its sockets to its own few `127.0.0.x` source addresses
//! (≈ 28,000 ephemeral ports per source address; binding to port 0 gets slow as an
//! address's range fills, so each address is kept under a fifth full).
//!
//! A server node prints `{"listening": ADDR}` and then answers one JSON line per command:
//! `stats`, `churn MILLIS [RATE]`, `quit`. A client node answers `open N`, `ping SAMPLE ROUNDS`,
//! `pingall`, `stats`, `quit`. Client sockets close with `SO_LINGER 0` (a reset, no
//! TIME_WAIT), so a run leaves no ports behind.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use erlmcp_registry::{Kind, LatencySummary, Registry};
use erlmcp_transport::{TcpAcceptor, TransportKind};
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::churn::{ChurnResult, lookup_under_churn};
use crate::heap;
use crate::raw::RawClient;
use crate::session::{SessionEntry, SessionRegistry, scale_server, spawn_session};
use crate::sys::{SockStat, raise_nofile, rss, rss_of, sockstat};

fn reply(value: Value) {
    println!("{value}");
}

// ───────────────────────────── server node ─────────────────────────────

/// `scale serve-tcp`: serves sessions on `listen` until `quit` or stdin closes.
pub async fn serve_node(
    listen: SocketAddr,
    read_capacity: usize,
    max_frame_bytes: usize,
) -> anyhow::Result<()> {
    let nofile = raise_nofile();
    let server = scale_server(max_frame_bytes)?;
    let registry: SessionRegistry = Registry::new();
    let acceptor = TcpAcceptor::bind(listen, max_frame_bytes)
        .await
        .with_context(|| format!("binding {listen}"))?
        .with_read_capacity(read_capacity);
    let addr = acceptor.local_addr()?;
    let accept_errors = Arc::new(AtomicU64::new(0));
    let accept_loop = {
        let server = server.clone();
        let registry = registry.clone();
        let errors = accept_errors.clone();
        tokio::spawn(async move {
            let mut conn = 0u64;
            loop {
                match acceptor.accept().await {
                    Ok(transport) => {
                        conn += 1;
                        if spawn_session(&server, &registry, conn, TransportKind::Tcp, transport)
                            .is_err()
                        {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        // Out of file descriptors, most likely: the connection waits in
                        // the backlog; try again shortly.
                        errors.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
        })
    };
    settle().await;
    reply(json!({
        "listening": addr,
        "pid": std::process::id(),
        "nofile": nofile,
        "rss": rss(),
        "heap": heap(),
    }));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("stats") => {
                settle().await;
                reply(json!({
                    "rss": rss(),
                    "heap": heap(),
                    "sessions": server.session_count(),
                    "registered": registry.count_kind(Kind::SESSION),
                    "accept_errors": accept_errors.load(Ordering::Relaxed),
                    "registry": registry.metrics(),
                }));
            }
            Some("churn") => {
                let millis: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(1000);
                let rate: Option<u64> = words.next().and_then(|w| w.parse().ok());
                let keys: Vec<u64> = registry
                    .iter_kind(Kind::SESSION)
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                let reg = registry.clone();
                let result = tokio::task::spawn_blocking(move || {
                    lookup_under_churn(
                        &reg,
                        &keys,
                        |conn| {
                            Arc::new(SessionEntry {
                                conn,
                                transport: TransportKind::Tcp,
                            })
                        },
                        Duration::from_millis(millis),
                        rate,
                    )
                })
                .await?;
                reply(serde_json::to_value(result)?);
            }
            Some("quit") => break,
            _ => reply(json!({"error": format!("unknown command {line:?}")})),
        }
    }
    accept_loop.abort();
    server.shutdown_all();
    Ok(())
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

// ───────────────────────────── client node ─────────────────────────────

async fn open_one(source: IpAddr, target: SocketAddr) -> anyhow::Result<RawClient<TcpStream>> {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = tokio::time::timeout(Duration::from_secs(10), socket.connect(target))
        .await
        .map_err(|_| anyhow!("connect timed out"))??;
    stream.set_nodelay(true)?;
    let mut client = RawClient::new(stream);
    tokio::time::timeout(Duration::from_secs(10), client.handshake())
        .await
        .map_err(|_| anyhow!("handshake timed out"))??;
    Ok(client)
}

fn close_hard(client: &RawClient<TcpStream>) {
    // A reset instead of a FIN: no TIME_WAIT left on this side's port.
    let _ = socket2::SockRef::from(client.io_ref()).set_linger(Some(Duration::ZERO));
}

/// `scale tcp-clients`: holds connections to `targets` from `sources` on command.
pub async fn client_node(targets: Vec<SocketAddr>, sources: Vec<IpAddr>) -> anyhow::Result<()> {
    let nofile = raise_nofile();
    if targets.is_empty() || sources.is_empty() {
        bail!("tcp-clients needs at least one target and one source");
    }
    let mut held: Vec<RawClient<TcpStream>> = Vec::new();
    reply(json!({"ready": true, "pid": std::process::id(), "nofile": nofile}));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("open") => {
                let n: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                let start = Instant::now();
                let first = held.len();
                let results: Vec<anyhow::Result<RawClient<TcpStream>>> =
                    futures::stream::iter(first..first + n)
                        .map(|i| {
                            let target = targets[i % targets.len()];
                            let source = sources[i % sources.len()];
                            open_one(source, target)
                        })
                        .buffer_unordered(128)
                        .collect()
                        .await;
                let mut errors: Vec<String> = Vec::new();
                let mut failed = 0u64;
                for result in results {
                    match result {
                        Ok(client) => held.push(client),
                        Err(err) => {
                            failed += 1;
                            if errors.len() < 5 {
                                errors.push(format!("{err:#}"));
                            }
                        }
                    }
                }
                reply(json!({
                    "opened": held.len() - first,
                    "failed": failed,
                    "held": held.len(),
                    "secs": start.elapsed().as_secs_f64(),
                    "errors": errors,
                }));
            }
            Some("ping") => {
                let sample: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(100);
                let rounds: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(1);
                let sample = sample.min(held.len()).max(1);
                let stride = (held.len() / sample).max(1);
                let rtts: Vec<Vec<u64>> =
                    futures::stream::iter(held.iter_mut().step_by(stride).take(sample))
                        .map(|c| async move {
                            let mut out = Vec::with_capacity(rounds);
                            for _ in 0..rounds {
                                if let Ok(rtt) = c.ping().await {
                                    out.push(u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX));
                                }
                            }
                            out
                        })
                        .buffer_unordered(8)
                        .collect()
                        .await;
                let rtts: Vec<u64> = rtts.into_iter().flatten().collect();
                reply(json!({"rtt_ns": rtts}));
            }
            Some("pingall") => {
                let start = Instant::now();
                let answered = futures::stream::iter(held.iter_mut())
                    .map(|c| async move {
                        tokio::time::timeout(Duration::from_secs(10), c.ping())
                            .await
                            .is_ok_and(|r| r.is_ok())
                    })
                    .buffer_unordered(256)
                    .filter(|ok| futures::future::ready(*ok))
                    .count()
                    .await;
                reply(json!({
                    "answered": answered,
                    "held": held.len(),
                    "secs": start.elapsed().as_secs_f64(),
                }));
            }
            Some("stats") => reply(json!({"rss": rss(), "held": held.len()})),
            Some("quit") => break,
            _ => reply(json!({"error": format!("unknown command {line:?}")})),
        }
    }
    for client in &held {
        close_hard(client);
    }
    let n = held.len();
    drop(held);
    reply(json!({"closed": n}));
    Ok(())
}

// ───────────────────────────── orchestration ─────────────────────────────

/// A child process driven over its stdin/stdout, killed if dropped.
struct Node {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    pid: u32,
}

impl Node {
    async fn spawn(exe: &Path, args: &[String], label: String) -> anyhow::Result<(Node, Value)> {
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("ERLMCP_LOG", "error")
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {label}"))?;
        let pid = child.id().unwrap_or(0);
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().context("child stdout")?).lines();
        let mut node = Node {
            label,
            child,
            stdin,
            stdout,
            pid,
        };
        let hello = node.read(Duration::from_secs(30)).await?;
        Ok((node, hello))
    }

    async fn read(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        let line = tokio::time::timeout(timeout, self.stdout.next_line())
            .await
            .map_err(|_| anyhow!("{}: no answer within {timeout:?}", self.label))??
            .ok_or_else(|| anyhow!("{}: exited", self.label))?;
        serde_json::from_str(&line).with_context(|| format!("{}: bad answer {line:?}", self.label))
    }

    async fn cmd(&mut self, command: &str, timeout: Duration) -> anyhow::Result<Value> {
        let stdin = self.stdin.as_mut().context("node stdin closed")?;
        stdin.write_all(format!("{command}\n").as_bytes()).await?;
        stdin.flush().await?;
        self.read(timeout).await
    }

    async fn quit(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"quit\n").await;
            let _ = stdin.flush().await;
        }
        if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// A server process that is not driven (the real `erlmcp serve --tcp`): RSS only.
struct Passive {
    child: Child,
    pid: u32,
}

async fn wait_listening(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("nothing listening on {addr} after 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// Settings of the TCP runs.
#[derive(Debug, Clone, Serialize)]
pub struct TcpConfig {
    /// Session counts for the multi-process ramp.
    pub steps: Vec<usize>,
    /// Connections one server process is asked to hold in the single-process run.
    pub single_target: usize,
    /// Connections per server process in the multi-process ramp.
    pub per_server: usize,
    /// Connections per client process.
    pub per_client: usize,
    /// Initial read-buffer capacity of each accepted connection (the erlmcp default is
    /// 8192; `erlmcp serve --tcp` uses it).
    pub read_capacity: usize,
    /// Largest frame accepted.
    pub max_frame_bytes: usize,
    /// Lookup-under-churn window per server node, in milliseconds.
    pub churn_millis: u64,
    /// Sessions whose `ping` is timed per step (spread over the client nodes).
    pub ping_sample: usize,
    /// Pings per sampled session.
    pub ping_rounds: usize,
    /// The real `erlmcp` binary, for the single-process comparison (RSS only).
    pub erlmcp_bin: Option<PathBuf>,
}

/// One measured step of a TCP run.
#[derive(Debug, Clone, Serialize)]
pub struct TcpStep {
    /// Connections held with a completed handshake.
    pub sessions: usize,
    /// Server processes.
    pub servers: usize,
    /// Client processes.
    pub clients: usize,
    /// Sessions the servers' own tables count (sum; `None` for the erlmcp binary).
    pub server_sessions: Option<usize>,
    /// Registry entries of kind `session` (sum).
    pub registered: Option<usize>,
    /// Connections that failed to open or finish the handshake so far.
    pub open_failures: u64,
    /// Sessions that answered one `ping` each at this step.
    pub answered_ping: usize,
    /// Seconds this step's new connections took.
    pub open_secs: f64,
    /// Server processes' RSS, summed.
    pub server_rss_bytes: u64,
    /// Above the servers' RSS before any connection.
    pub server_rss_delta_bytes: u64,
    /// `server_rss_delta_bytes / sessions`.
    pub rss_per_session: f64,
    /// Server heap (counting allocator) per session.
    pub heap_per_session: Option<f64>,
    /// Kernel TCP figures (both ends of every connection, machine-wide).
    pub kernel: SockStat,
    /// Kernel TCP buffer memory above the run's start, per session.
    pub kernel_bytes_per_session: f64,
    /// Lookup latency under churn on the node with the worst p99.
    pub lookup: Option<ChurnResult>,
    /// Lookup p99 of each node, in nanoseconds.
    pub lookup_p99_per_node: Vec<u64>,
    /// `ping` round trips on the sample.
    pub ping: LatencySummary,
    /// Client processes' RSS, summed (not part of the server figures).
    pub client_rss_bytes: u64,
}

/// A TCP run: a single server process or several.
#[derive(Debug, Clone, Serialize)]
pub struct TcpRun {
    /// `scale serve-tcp` (registry inside) or `erlmcp serve --tcp`.
    pub server: String,
    /// The steps.
    pub steps: Vec<TcpStep>,
    /// Kernel TCP figures after every process exited.
    pub kernel_after_cleanup: SockStat,
}

#[derive(Deserialize)]
struct Stats {
    rss: RssJson,
    heap: crate::HeapStats,
    sessions: usize,
    registered: usize,
}

#[derive(Deserialize)]
struct RssJson {
    rss_bytes: u64,
}

enum Servers {
    Driven(Vec<Node>),
    Passive(Vec<Passive>),
}

/// Source addresses per client process.
pub const SOURCES_PER_CLIENT: usize = 4;

/// Runs one TCP ramp: `servers` server processes, `clients` client processes with
/// [`SOURCES_PER_CLIENT`] source addresses each from `127.0.0.{first_source}` on,
/// measuring at each of `steps`.
pub async fn run(
    cfg: &TcpConfig,
    exe: &Path,
    servers: usize,
    clients: usize,
    first_source: u8,
    steps: &[usize],
    use_erlmcp: bool,
) -> anyhow::Result<TcpRun> {
    let kernel_start = sockstat();
    let wait = Duration::from_secs(300);
    let mut addrs = Vec::new();
    let mut base_rss = 0u64;
    let mut base_heap = 0i64;
    let mut server_nodes = if use_erlmcp {
        let bin = cfg.erlmcp_bin.as_ref().context("no erlmcp binary given")?;
        let mut passive = Vec::new();
        for _ in 0..servers {
            let addr = free_port()?;
            let child = Command::new(bin)
                .args(["serve", "--tcp", &addr.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .env("ERLMCP_LOG", "error")
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?;
            let pid = child.id().unwrap_or(0);
            wait_listening(addr).await?;
            addrs.push(addr);
            passive.push(Passive { child, pid });
        }
        settle().await;
        base_rss = passive.iter().map(|p| rss_of(p.pid).rss_bytes).sum();
        Servers::Passive(passive)
    } else {
        let mut nodes = Vec::new();
        for i in 0..servers {
            let args = vec![
                "serve-tcp".to_owned(),
                "--listen".to_owned(),
                "127.0.0.1:0".to_owned(),
                "--read-capacity".to_owned(),
                cfg.read_capacity.to_string(),
                "--max-frame".to_owned(),
                cfg.max_frame_bytes.to_string(),
            ];
            let (node, hello) = Node::spawn(exe, &args, format!("server-{i}")).await?;
            let addr: SocketAddr = hello["listening"]
                .as_str()
                .context("server node did not say where it listens")?
                .parse()?;
            base_rss += hello["rss"]["rss_bytes"].as_u64().unwrap_or(0);
            base_heap += hello["heap"]["live_bytes"].as_i64().unwrap_or(0);
            addrs.push(addr);
            nodes.push(node);
        }
        Servers::Driven(nodes)
    };
    let targets = addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut client_nodes = Vec::new();
    for i in 0..clients {
        // Several source addresses per client process: binding to port 0 searches the
        // ephemeral range of that address, which gets slow as the range fills up.
        let sources = (0..SOURCES_PER_CLIENT)
            .map(|j| {
                format!(
                    "127.0.0.{}",
                    usize::from(first_source) + i * SOURCES_PER_CLIENT + j
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let args = vec![
            "tcp-clients".to_owned(),
            "--targets".to_owned(),
            targets.clone(),
            "--sources".to_owned(),
            sources,
        ];
        let (node, _) = Node::spawn(exe, &args, format!("clients-{i}")).await?;
        client_nodes.push(node);
    }

    let mut out = Vec::new();
    let mut held = 0usize;
    let mut failures = 0u64;
    for &target in steps {
        // Open the difference, split over the client nodes.
        let start = Instant::now();
        let need = target.saturating_sub(held);
        let opens = client_nodes.iter_mut().enumerate().map(|(i, node)| {
            let share = need / clients + usize::from(i < need % clients);
            async move { node.cmd(&format!("open {share}"), wait).await }
        });
        for answer in futures::future::join_all(opens).await {
            let answer = answer?;
            failures += answer["failed"].as_u64().unwrap_or(0);
            if let Some(errors) = answer["errors"].as_array()
                && !errors.is_empty()
            {
                eprintln!("scale: tcp open errors: {errors:?}");
            }
        }
        let open_secs = start.elapsed().as_secs_f64();
        held = 0;
        for node in client_nodes.iter_mut() {
            held += node.cmd("stats", wait).await?["held"].as_u64().unwrap_or(0) as usize;
        }

        // Every session answers ping.
        let pings = client_nodes
            .iter_mut()
            .map(|node| async move { node.cmd("pingall", wait).await });
        let mut answered = 0usize;
        for answer in futures::future::join_all(pings).await {
            answered += answer?["answered"].as_u64().unwrap_or(0) as usize;
        }

        // Server memory and registry.
        let mut server_rss = 0u64;
        let mut heap_now = 0i64;
        let mut server_sessions = None;
        let mut registered = None;
        let mut lookup: Option<ChurnResult> = None;
        let mut lookup_p99_per_node = Vec::new();
        match &mut server_nodes {
            Servers::Driven(nodes) => {
                let (mut s, mut r) = (0usize, 0usize);
                for node in nodes.iter_mut() {
                    let stats: Stats = serde_json::from_value(node.cmd("stats", wait).await?)?;
                    server_rss += stats.rss.rss_bytes;
                    heap_now += stats.heap.live_bytes;
                    s += stats.sessions;
                    r += stats.registered;
                }
                server_sessions = Some(s);
                registered = Some(r);
                for node in nodes.iter_mut() {
                    let result: ChurnResult = serde_json::from_value(
                        node.cmd(&format!("churn {}", cfg.churn_millis), wait)
                            .await?,
                    )?;
                    lookup_p99_per_node.push(result.lookup.p99_ns);
                    if lookup
                        .as_ref()
                        .is_none_or(|worst| result.lookup.p99_ns > worst.lookup.p99_ns)
                    {
                        lookup = Some(result);
                    }
                }
            }
            Servers::Passive(procs) => {
                server_rss = procs.iter().map(|p| rss_of(p.pid).rss_bytes).sum();
            }
        }

        // Ping round trips on a sample spread over the client nodes.
        let per_node = (cfg.ping_sample / clients).max(1);
        let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
            .expect("constant histogram bounds");
        for node in client_nodes.iter_mut() {
            let answer = node
                .cmd(&format!("ping {per_node} {}", cfg.ping_rounds), wait)
                .await?;
            for v in answer["rtt_ns"].as_array().into_iter().flatten() {
                hist.saturating_record(v.as_u64().unwrap_or(0).max(1));
            }
        }
        let mut client_rss = 0u64;
        for node in client_nodes.iter() {
            client_rss += rss_of(node.pid).rss_bytes;
        }
        let kernel = sockstat();
        let delta = server_rss.saturating_sub(base_rss);
        let step = TcpStep {
            sessions: held,
            servers,
            clients,
            server_sessions,
            registered,
            open_failures: failures,
            answered_ping: answered,
            open_secs,
            server_rss_bytes: server_rss,
            server_rss_delta_bytes: delta,
            rss_per_session: delta as f64 / held.max(1) as f64,
            heap_per_session: matches!(server_nodes, Servers::Driven(_))
                .then(|| (heap_now - base_heap) as f64 / held.max(1) as f64),
            kernel,
            kernel_bytes_per_session: kernel
                .tcp_mem_bytes
                .saturating_sub(kernel_start.tcp_mem_bytes)
                as f64
                / held.max(1) as f64,
            lookup,
            lookup_p99_per_node,
            ping: LatencySummary::from_histogram(&hist),
            client_rss_bytes: client_rss,
        };
        eprintln!(
            "scale: tcp {:>7} sessions on {} server(s)  rss/session {:>7.0} B  lookup p99 {} ns  ping p99 {:.1} µs  failures {}",
            step.sessions,
            servers,
            step.rss_per_session,
            step.lookup.as_ref().map_or(0, |l| l.lookup.p99_ns),
            step.ping.p99_ns as f64 / 1000.0,
            failures
        );
        out.push(step);
    }

    // Cleanup: clients reset their connections, then the servers stop.
    for node in client_nodes {
        node.quit().await;
    }
    match server_nodes {
        Servers::Driven(nodes) => {
            for node in nodes {
                node.quit().await;
            }
        }
        Servers::Passive(procs) => {
            for mut p in procs {
                let _ = p.child.kill().await;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(TcpRun {
        server: if use_erlmcp {
            "erlmcp serve --tcp".to_owned()
        } else {
            "scale serve-tcp".to_owned()
        },
        steps: out,
        kernel_after_cleanup: sockstat(),
    })
}
