//! `overload`: sustained overload of one erlmcp server by a slow consumer, in-process and
//! loopback only, bounded in time.
//!
//! ```text
//! overload [--seconds 10] [--queue-cap 1000] [--queue-bytes 1048576]
//!          [--budget-bytes 8388608] [--read-chunk 4096] [--read-interval-ms 10]
//!          [--max-rss-growth-mib 32] [--max-rss-drift-mib 8] [--min-ratio 10]
//!          [--max-idle-ms 1000]
//!          [--csv evidence/out/overload.csv] [--png evidence/out/overload.png] [--out FILE]
//! ```
//!
//! A `flood` tool streams ~1 KiB log notifications as fast as the server can produce them
//! to a raw TCP client that reads `--read-chunk` bytes every `--read-interval-ms`; the
//! server's flow control (queue cap, drop-then-disconnect slow-consumer policy, shared
//! memory budget) must bound the queue and the process RSS and disconnect it. When it is
//! disconnected it reconnects (and again does not keep up), so the overload lasts the
//! whole run. A
//! healthy client calls `echo` in a loop meanwhile. Every 100 ms the process RSS, the
//! queued messages, the budget and the healthy calls are sampled into a CSV and a PNG;
//! a JSON summary goes to stdout (or `--out`). The run stops by itself.
//!
//! The run then judges itself ([`erlmcp_benches::overload_verdict`]): the queue above its
//! cap, RSS growth beyond `--max-rss-growth-mib` (or still climbing in the second half by
//! more than `--max-rss-drift-mib`), a slow session never disconnected, a failed healthy
//! call, a producer/consumer ratio under `--min-ratio`, or the overload lapsing for more
//! than `--max-idle-ms` each make it exit non-zero, after writing every output, with one
//! line per broken rule on stderr (and in the summary's `verdict`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use clap::Parser;
use erlmcp::net;
use erlmcp::prelude::*;
use erlmcp::protocol::SessionConfig;
use erlmcp::transport::TcpAcceptor;
use erlmcp_benches::overload_verdict;
use erlmcp_flow::{FlowConfig, QueueConfig, SlowAction, SlowConsumerPolicy};
use parking_lot::Mutex;
use plotters::prelude::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Parser)]
#[command(
    version,
    about = "Sustained overload by a slow consumer: bounded queue, flat RSS, disconnect per policy"
)]
struct Cli {
    /// How long the overload lasts.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Per-session outbound queue cap, messages.
    #[arg(long, default_value_t = 1000)]
    queue_cap: usize,
    /// Per-session outbound queue cap, bytes.
    #[arg(long, default_value_t = 1 << 20)]
    queue_bytes: usize,
    /// Shared memory budget over every queue, bytes.
    #[arg(long, default_value_t = 8 << 20)]
    budget_bytes: usize,
    /// Slow-consumer grace before dropping its notifications, ms.
    #[arg(long, default_value_t = 500)]
    grace_ms: u64,
    /// Further time after the drop before disconnecting, ms.
    #[arg(long, default_value_t = 500)]
    disconnect_after_ms: u64,
    /// Bytes the slow client reads at a time.
    #[arg(long, default_value_t = 4096)]
    read_chunk: usize,
    /// Pause between the slow client's reads, ms.
    #[arg(long, default_value_t = 10)]
    read_interval_ms: u64,
    /// Largest allowed RSS growth over the baseline before the clients start, MiB.
    #[arg(long, default_value_t = 32)]
    max_rss_growth_mib: u64,
    /// Largest allowed rise of the RSS peak from the first half of the run to the second,
    /// MiB (memory must plateau under a sustained, bounded overload).
    #[arg(long, default_value_t = 8)]
    max_rss_drift_mib: u64,
    /// Smallest producer/consumer rate ratio that counts as overload.
    #[arg(long, default_value_t = 10.0)]
    min_ratio: f64,
    /// Longest allowed stretch with nothing queued for the slow session, ms.
    #[arg(long, default_value_t = 1000)]
    max_idle_ms: u64,
    /// Time series output.
    #[arg(long, default_value = "evidence/out/overload.csv")]
    csv: PathBuf,
    /// Figure output.
    #[arg(long, default_value = "evidence/out/overload.png")]
    png: PathBuf,
    /// JSON summary output (stdout when absent).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Time between samples, ms.
const SAMPLE_MS: u64 = 100;

/// The slow client's pause before reconnecting, ms.
const RECONNECT_PAUSE_MS: u64 = 100;

/// One end of a slow connection by the server.
#[derive(Debug, Clone, Copy)]
struct Disconnect {
    /// When, since the start of the run.
    at_ms: u64,
    /// How long after its flood request.
    after_ms: u64,
    /// Seen as EOF by the client (else by its watchdog).
    via_eof: bool,
}

/// One 100 ms sample.
#[derive(Debug, Clone, Copy)]
struct Sample {
    t_ms: u64,
    rss_kib: u64,
    queued_messages: usize,
    budget_used_bytes: usize,
    under_pressure: bool,
    healthy_calls: u64,
    healthy_failures: u64,
}

/// Counters shared by the clients, the flood tool and the sampler.
#[derive(Default)]
struct Counters {
    produced: AtomicU64,
    /// Time the flood handlers ran, summed over every slow connection.
    flood_micros: AtomicU64,
    consumed_bytes: AtomicU64,
    consumed_lines: AtomicU64,
    healthy_calls: AtomicU64,
    healthy_failures: AtomicU64,
    slow_connections: AtomicU64,
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn object_schema() -> JsonObject {
    let mut schema = JsonObject::new();
    schema.insert("type".to_owned(), Value::from("object"));
    schema
}

fn server(cli: &Cli, counters: Arc<Counters>, stop: Arc<AtomicBool>) -> anyhow::Result<Server> {
    let flow = FlowConfig {
        queue: QueueConfig {
            max_messages: cli.queue_cap,
            max_bytes: cli.queue_bytes,
            ..QueueConfig::default()
        },
        slow_consumer: SlowConsumerPolicy {
            grace: Duration::from_millis(cli.grace_ms),
            action: SlowAction::DropThenDisconnect {
                after: Duration::from_millis(cli.disconnect_after_ms),
            },
        },
        budget: erlmcp_flow::BudgetConfig {
            limit_bytes: cli.budget_bytes,
            ..erlmcp_flow::BudgetConfig::default()
        },
        ..FlowConfig::default()
    };
    flow.validate().map_err(|e| anyhow!("flow config: {e}"))?;
    let payload = "x".repeat(1024);
    Server::builder("overload", "1.0.0")
        .config(SessionConfig {
            flow,
            ..SessionConfig::default()
        })
        .tool(
            Tool::new("flood", object_schema()),
            move |_args: JsonObject, ctx| {
                let payload = payload.clone();
                let counters = counters.clone();
                let stop = stop.clone();
                async move {
                    // Adds the time since the last report to the shared active time; a
                    // handler dropped when its session is closed loses at most 256
                    // messages' worth.
                    let mut reported = Instant::now();
                    let mut report = |counters: &Counters| {
                        let now = Instant::now();
                        counters.flood_micros.fetch_add(
                            now.duration_since(reported).as_micros() as u64,
                            Ordering::Relaxed,
                        );
                        reported = now;
                    };
                    let mut i = 0u64;
                    while !ctx.is_cancelled() && !stop.load(Ordering::Relaxed) {
                        ctx.log(
                            erlmcp::schema::LoggingLevel::Info,
                            None,
                            json!({"i": i, "pad": payload}),
                        )
                        .await;
                        counters.produced.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                        if i.is_multiple_of(256) {
                            report(&counters);
                        }
                    }
                    report(&counters);
                    Ok(CallToolResult::text("flooded"))
                }
            },
        )
        .tool(
            Tool::new("echo", object_schema()),
            |args: JsonObject, _ctx| async move {
                Ok(CallToolResult::text(
                    args.get("text").and_then(Value::as_str).unwrap_or_default(),
                ))
            },
        )
        .build()
        .map_err(|e| anyhow!("server: {e}"))
}

/// How a slow connection ended.
enum SlowEnd {
    /// The server ended the session: `via_eof` when the client read the EOF itself,
    /// otherwise its watchdog saw the session leave the server's table first.
    Disconnected { after_ms: u64, via_eof: bool },
    /// The run ended.
    Stopped,
}

/// One slow connection: handshake, ask for a flood, read slowly until the server ends
/// the session.
///
/// Why a watchdog: when the server closes a slow consumer's connection, its FIN sits in
/// the kernel behind megabytes of already-written notifications (loopback send buffers
/// grow to several MiB), which this reader drains at a few hundred KiB/s — it would read
/// the EOF seconds later, and the run would be idle meanwhile. Like a client with an
/// application-level liveness check, it instead watches for its session to leave the
/// server's session table (the harness runs the server in-process) and reconnects at
/// once, so the overload is sustained. Both ways are counted.
async fn slow_connection(
    addr: SocketAddr,
    server: &Server,
    healthy_id: u64,
    cli_chunk: usize,
    interval: Duration,
    counters: &Counters,
    stop: &AtomicBool,
) -> anyhow::Result<SlowEnd> {
    // A small receive buffer, so the kernel does not hide the slowness for long.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(64 * 1024)?;
    let mut stream = socket.connect(addr).await?;
    counters.slow_connections.fetch_add(1, Ordering::Relaxed);
    let lines = [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"slow","version":"0"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"flood","arguments":{}}}),
    ];
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes()).await?;
    }
    let asked = Instant::now();
    let slow_session_live = || server.sessions().iter().any(|s| s.id != healthy_id);
    let mut seen_live = false;
    let mut last_check = Instant::now();
    let mut buf = vec![0u8; cli_chunk];
    while !stop.load(Ordering::Relaxed) {
        let after_ms = asked.elapsed().as_millis() as u64;
        if last_check.elapsed() >= Duration::from_millis(SAMPLE_MS) {
            last_check = Instant::now();
            let live = slow_session_live();
            if seen_live && !live {
                return Ok(SlowEnd::Disconnected {
                    after_ms,
                    via_eof: false,
                });
            }
            seen_live |= live;
        }
        // Bounded, so that a server that stops writing does not hide the watchdog.
        match tokio::time::timeout(
            interval.max(Duration::from_millis(10)),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => continue,
            Ok(Ok(0) | Err(_)) => {
                return Ok(SlowEnd::Disconnected {
                    after_ms,
                    via_eof: true,
                });
            }
            Ok(Ok(n)) => {
                counters
                    .consumed_bytes
                    .fetch_add(n as u64, Ordering::Relaxed);
                counters.consumed_lines.fetch_add(
                    memchr::memchr_iter(b'\n', &buf[..n]).count() as u64,
                    Ordering::Relaxed,
                );
            }
        }
        tokio::time::sleep(interval).await;
    }
    Ok(SlowEnd::Stopped)
}

fn write_csv(samples: &[Sample], path: &Path) -> anyhow::Result<()> {
    let mut csv = String::from(
        "t_ms,rss_kib,queued_messages,budget_used_bytes,under_pressure,healthy_calls,healthy_failures\n",
    );
    for s in samples {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            s.t_ms,
            s.rss_kib,
            s.queued_messages,
            s.budget_used_bytes,
            u8::from(s.under_pressure),
            s.healthy_calls,
            s.healthy_failures
        ));
    }
    std::fs::write(path, csv).with_context(|| format!("write {}", path.display()))
}

type Series = (&'static str, RGBColor, Vec<(f64, f64)>);

/// One panel: time (s) on x, the series on y, optional vertical markers (disconnects).
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    y_label: &str,
    series: &[Series],
    markers: &[f64],
    x_max: f64,
    text: bool,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let y_max = series
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let y_max = (y_max * 1.15).max(1.0);
    let mut builder = ChartBuilder::on(area);
    builder.margin(12);
    if text {
        builder
            .caption(title, ("sans-serif", 20))
            .x_label_area_size(40)
            .y_label_area_size(64);
    } else {
        builder.x_label_area_size(8).y_label_area_size(8);
    }
    let mut chart = builder
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(|e| anyhow!("{e:?}"))?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("time (s)").y_desc(y_label);
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(|e| anyhow!("{e:?}"))?;
    let grey = RGBColor(160, 160, 160);
    for (i, &x) in markers.iter().enumerate() {
        let line = chart
            .draw_series(LineSeries::new(vec![(x, 0.0), (x, y_max)], grey))
            .map_err(|e| anyhow!("{e:?}"))?;
        if text && i == 0 {
            line.label("slow client disconnected")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], grey));
        }
    }
    for (name, color, pts) in series {
        let color = *color;
        let line = chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| anyhow!("{e:?}"))?;
        if text {
            line.label(*name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        }
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| anyhow!("{e:?}"))?;
    }
    Ok(())
}

/// Draws memory (RSS, budget used) and queue size (with its cap) over time.
fn plot(
    samples: &[Sample],
    disconnects_s: &[f64],
    queue_cap: usize,
    path: &Path,
) -> anyhow::Result<bool> {
    // plotters is built without its text features in this package (they would change how
    // criterion draws), so the figure has no text; the colours are documented in
    // evidence/README.md.
    let text = false;
    let x_max = samples
        .last()
        .map_or(1.0, |s| s.t_ms as f64 / 1000.0)
        .max(1.0);
    let t = |s: &Sample| s.t_ms as f64 / 1000.0;
    let mib = |kib: f64| kib / 1024.0;
    let memory: Vec<Series> = vec![
        (
            "process RSS (MiB)",
            RGBColor(31, 119, 180),
            samples
                .iter()
                .map(|s| (t(s), mib(s.rss_kib as f64)))
                .collect(),
        ),
        (
            "memory budget used (MiB)",
            RGBColor(255, 127, 14),
            samples
                .iter()
                .map(|s| (t(s), mib(s.budget_used_bytes as f64 / 1024.0)))
                .collect(),
        ),
    ];
    let queue: Vec<Series> = vec![
        (
            "slow session queued messages",
            RGBColor(44, 160, 44),
            samples
                .iter()
                .map(|s| (t(s), s.queued_messages as f64))
                .collect(),
        ),
        (
            "queue cap",
            RGBColor(214, 39, 40),
            vec![(0.0, queue_cap as f64), (x_max, queue_cap as f64)],
        ),
    ];
    let root = BitMapBackend::new(path, (1000, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let (top, bottom) = root.split_vertically(400);
    panel(
        &top,
        "Memory under sustained overload",
        "MiB",
        &memory,
        disconnects_s,
        x_max,
        text,
    )?;
    panel(
        &bottom,
        "Outbound queue of the slow session",
        "messages",
        &queue,
        disconnects_s,
        x_max,
        text,
    )?;
    root.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(text)
}

fn ensure_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<(Value, Vec<String>)> {
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let server = server(&cli, counters.clone(), stop.clone())?;
    let acceptor = TcpAcceptor::bind("127.0.0.1:0", 1 << 20).await?;
    let addr = acceptor.local_addr()?;
    let serving = server.clone();
    let accept_task = tokio::spawn(async move { net::serve_tcp(&serving, acceptor).await });

    let baseline_rss = rss_kib();
    let started = Instant::now();
    let duration = Duration::from_secs_f64(cli.seconds.max(0.5));

    // The healthy neighbour, first, so that every other session is the slow client's.
    let healthy = net::connect_tcp(ClientBuilder::new("healthy", "1"), addr)
        .await
        .map_err(|e| anyhow!("healthy client: {e}"))?;
    let healthy_id = match server.sessions().as_slice() {
        [only] => only.id,
        other => return Err(anyhow!("expected one session, found {}", other.len())),
    };

    // The slow client: reconnects after every disconnect, so the overload is sustained.
    let disconnects: Arc<Mutex<Vec<Disconnect>>> = Arc::default();
    let slow = {
        let (counters, stop, disconnects) = (counters.clone(), stop.clone(), disconnects.clone());
        let server = server.clone();
        let (chunk, interval) = (cli.read_chunk, Duration::from_millis(cli.read_interval_ms));
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match slow_connection(addr, &server, healthy_id, chunk, interval, &counters, &stop)
                    .await
                {
                    Ok(SlowEnd::Disconnected { after_ms, via_eof }) => {
                        disconnects.lock().push(Disconnect {
                            at_ms: started.elapsed().as_millis() as u64,
                            after_ms,
                            via_eof,
                        });
                    }
                    Ok(SlowEnd::Stopped) => break,
                    Err(err) => eprintln!("slow client: {err}"),
                }
                tokio::time::sleep(Duration::from_millis(RECONNECT_PAUSE_MS)).await;
            }
        })
    };
    let healthy_task = {
        let (counters, stop) = (counters.clone(), stop.clone());
        tokio::spawn(async move {
            let options = || RequestOptions::with_timeout(Duration::from_secs(2));
            while !stop.load(Ordering::Relaxed) {
                let ok = healthy
                    .call_tool_with("echo", json!({"text": "still here"}), options())
                    .await
                    .is_ok_and(|r| {
                        r.content.first().and_then(|c| c.as_text()) == Some("still here")
                    });
                if ok {
                    counters.healthy_calls.fetch_add(1, Ordering::Relaxed);
                } else if !stop.load(Ordering::Relaxed) {
                    counters.healthy_failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            let _ = healthy.close().await;
        })
    };

    // The sampler.
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(SAMPLE_MS));
    loop {
        tick.tick().await;
        let elapsed = started.elapsed();
        let budget = server.memory_budget();
        // The healthy session's queue is at most its in-flight answer; the maximum over
        // sessions is the slow one's.
        let sessions = server.sessions();
        let queued = sessions
            .iter()
            .map(|s| s.queued_messages)
            .max()
            .unwrap_or(0);
        samples.push(Sample {
            t_ms: elapsed.as_millis() as u64,
            rss_kib: rss_kib(),
            queued_messages: queued,
            budget_used_bytes: budget.used,
            under_pressure: budget.under_pressure,
            healthy_calls: counters.healthy_calls.load(Ordering::Relaxed),
            healthy_failures: counters.healthy_failures.load(Ordering::Relaxed),
        });
        if elapsed >= duration {
            break;
        }
    }
    let elapsed_s = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    server.shutdown_all();
    let _ = tokio::time::timeout(Duration::from_secs(5), healthy_task).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), slow).await;
    accept_task.abort();
    let budget = server.memory_budget();

    ensure_parent(&cli.csv)?;
    write_csv(&samples, &cli.csv)?;
    let disconnects = disconnects.lock().clone();
    // Vertical markers: each time the server ended the slow session.
    let disconnects_s: Vec<f64> = disconnects
        .iter()
        .map(|d| d.at_ms as f64 / 1000.0)
        .collect();
    ensure_parent(&cli.png)?;
    let text = plot(&samples, &disconnects_s, cli.queue_cap, &cli.png)?;

    let produced = counters.produced.load(Ordering::Relaxed);
    let consumed_bytes = counters.consumed_bytes.load(Ordering::Relaxed);
    let consumed_lines = counters.consumed_lines.load(Ordering::Relaxed);
    // Rates while each side was active: the flood handlers run until the server drops or
    // disconnects their consumer (summed over every connection); the reader reads for the
    // whole run.
    let flood_s = (counters.flood_micros.load(Ordering::Relaxed) as f64 / 1e6).max(1e-3);
    let produced_per_s = produced as f64 / flood_s;
    let consumed_per_s = consumed_lines as f64 / elapsed_s;
    let ratio = produced_per_s / consumed_per_s.max(1e-9);
    let peak_rss = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let end_rss = samples.last().map_or(0, |s| s.rss_kib);
    let peak_queue = samples.iter().map(|s| s.queued_messages).max().unwrap_or(0);
    let peak_budget = samples
        .iter()
        .map(|s| s.budget_used_bytes)
        .max()
        .unwrap_or(0);
    let healthy_calls = counters.healthy_calls.load(Ordering::Relaxed);
    let healthy_failures = counters.healthy_failures.load(Ordering::Relaxed);
    let half_ms = (elapsed_s * 500.0) as u64;
    let half_peak = |second: bool| {
        samples
            .iter()
            .filter(|s| (s.t_ms >= half_ms) == second)
            .map(|s| s.rss_kib)
            .max()
            .unwrap_or(0)
    };
    // Idle = nothing queued for any session. The first second is the ramp-up (handshakes,
    // the first flood request), not a lapse of the overload.
    let after_ramp: Vec<&Sample> = samples.iter().filter(|s| s.t_ms >= 1000).collect();
    let longest_idle_ms =
        overload_verdict::longest_idle_ms(&after_ramp, SAMPLE_MS, |s| s.queued_messages == 0);
    let slow_connections = counters.slow_connections.load(Ordering::Relaxed);
    let limits = overload_verdict::Limits {
        queue_cap: cli.queue_cap,
        max_rss_growth_kib: cli.max_rss_growth_mib * 1024,
        max_rss_drift_kib: cli.max_rss_drift_mib * 1024,
        min_ratio: cli.min_ratio,
        max_idle_ms: cli.max_idle_ms,
    };
    let observed = overload_verdict::Observed {
        peak_queue,
        baseline_rss_kib: baseline_rss,
        peak_rss_kib: peak_rss,
        first_half_peak_rss_kib: half_peak(false),
        second_half_peak_rss_kib: half_peak(true),
        slow_disconnects: disconnects.len(),
        healthy_calls,
        healthy_failures,
        ratio,
        longest_idle_ms,
    };
    let violations = overload_verdict::violations(&limits, &observed);
    let summary = json!({
        "seconds": elapsed_s,
        "samples": samples.len(),
        "sample_interval_ms": SAMPLE_MS,
        "config": {
            "queue_cap_messages": cli.queue_cap,
            "queue_cap_bytes": cli.queue_bytes,
            "budget_limit_bytes": cli.budget_bytes,
            "slow_consumer_policy": "drop_then_disconnect",
            "grace_ms": cli.grace_ms,
            "disconnect_after_ms": cli.disconnect_after_ms,
            "slow_reader": {"chunk_bytes": cli.read_chunk, "interval_ms": cli.read_interval_ms},
        },
        "rss_kib": {
            "baseline": baseline_rss,
            "peak": peak_rss,
            "end": end_rss,
            "growth": peak_rss.saturating_sub(baseline_rss),
            "first_half_peak": observed.first_half_peak_rss_kib,
            "second_half_peak": observed.second_half_peak_rss_kib,
        },
        "queue": {
            "peak_messages": peak_queue,
            "cap_messages": cli.queue_cap,
            "within_cap": peak_queue <= cli.queue_cap,
        },
        "budget": {
            "peak_used_bytes": peak_budget,
            "limit_bytes": cli.budget_bytes,
            "samples_under_pressure": samples.iter().filter(|s| s.under_pressure).count(),
            "pressure_episodes": budget.pressure_episodes,
            "requests_shed": budget.shed,
        },
        "produce_consume": {
            "produced_messages": produced,
            "consumed_messages": consumed_lines,
            "consumed_bytes": consumed_bytes,
            "flood_active_s": flood_s,
            "produced_per_s": produced_per_s,
            "consumed_per_s": consumed_per_s,
            "consumed_bytes_per_s": consumed_bytes as f64 / elapsed_s,
            "ratio": ratio,
            "at_least_10x": ratio >= 10.0,
            "longest_idle_ms": longest_idle_ms,
        },
        "healthy": {
            "calls": healthy_calls,
            "failures": healthy_failures,
            "calls_per_s": healthy_calls as f64 / elapsed_s,
        },
        "slow_client": {
            "connections": slow_connections,
            "reconnects": slow_connections.saturating_sub(1),
            "disconnected_by_server": !disconnects.is_empty(),
            "disconnects": disconnects.len(),
            "first_disconnect_at_ms": disconnects.first().map(|d| d.at_ms),
            "disconnect_after_flood_request_ms": disconnects.iter().map(|d| d.after_ms).collect::<Vec<_>>(),
            "eof_seen_by_client": disconnects.iter().filter(|d| d.via_eof).count(),
            "seen_by_watchdog": disconnects.iter().filter(|d| !d.via_eof).count(),
        },
        "files": {
            "csv": cli.csv.display().to_string(),
            "png": cli.png.display().to_string(),
            "png_has_text": text,
        },
        "verdict": {
            "limits": limits,
            "violations": violations,
            "passed": violations.is_empty(),
        },
    });
    Ok((summary, violations))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let out = cli.out.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (summary, violations) = runtime.block_on(run(cli))?;
    // Handlers still winding down must not hold the process open.
    runtime.shutdown_timeout(Duration::from_secs(2));
    let json = serde_json::to_string_pretty(&summary)?;
    match out {
        Some(path) => {
            ensure_parent(&path)?;
            std::fs::write(&path, format!("{json}\n"))
                .with_context(|| format!("write {}", path.display()))?;
            eprintln!("{json}");
        }
        None => println!("{json}"),
    }
    if violations.is_empty() {
        return Ok(());
    }
    for violation in &violations {
        eprintln!("overload: FAILED: {violation}");
    }
    Err(anyhow!(
        "{} flow-control rule(s) broken under overload",
        violations.len()
    ))
}
