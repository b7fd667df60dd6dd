//! `scale`: erlmcp at 100,000 sessions, measured.
//!
//! ```text
//! cargo run --release -p erlmcp-benches --bin scale -- --max-sessions 100000 --seconds-per-step 2
//! cargo run --release -p erlmcp-benches --bin scale -- --max-sessions 10000      # quick (CI-sized)
//! ```
//!
//! 1. **Monitor cost**: heap and time per entry for the two monitors of
//!    `erlmcp-registry` (a guard inside the owner task, a watcher task), on 100,000 tasks.
//! 2. **Attribution**: where one in-memory session's heap goes, stage by stage.
//! 3. **In memory**: real sessions (full `initialize` handshake, registered with a
//!    monitor, each answering `ping`) over in-memory duplex pipes, in this process, ramped
//!    1K → 10K → 50K → 100K. At each step: RSS and heap per session (server-side apart),
//!    registry lookup p50/p99/p99.9 under insert/remove churn, `ping` round trips on a
//!    sample.
//! 4. **TCP, one server process**: as many loopback connections as one process can hold
//!    (the open-files limit), each completing the handshake; optionally the same against
//!    the real `erlmcp serve --tcp` binary (`--erlmcp-bin`).
//! 5. **TCP, several server processes**: the ramp to `--max-sessions` spread over server
//!    processes (each its own registry) and client processes (each its own
//!    `127.0.0.x` source address).
//!
//! Writes `scale.json` and `scale.png` to `--out-dir` (default `evidence/out`) and a
//! summary to stderr. Loopback only; bounded by `--time-limit-secs`; every process it
//! starts it stops, and client sockets close with a reset so no ports stay in TIME_WAIT.
//! The `serve-tcp` and `tcp-clients` subcommands are the node processes it starts.

#[path = "../scale/churn.rs"]
mod churn;
#[path = "../scale/memory.rs"]
mod memory;
#[path = "../scale/raw.rs"]
mod raw;
#[path = "../scale/report.rs"]
mod report;
#[path = "../scale/session.rs"]
mod session;
#[path = "../scale/sys.rs"]
mod sys;
#[path = "../scale/tcp.rs"]
mod tcp;

use std::alloc::System;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// Counts every allocation, so heap per session is measured, not estimated.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap held now, by the counting allocator (requested sizes; malloc's own per-chunk
/// overhead is not included).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct HeapStats {
    /// Bytes allocated and not yet freed.
    pub live_bytes: i64,
    /// Allocations not yet freed.
    pub live_blocks: i64,
}

/// Reads the counting allocator.
pub fn heap() -> HeapStats {
    let s = GLOBAL.stats();
    let signed = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    HeapStats {
        live_bytes: signed(s.bytes_allocated) - signed(s.bytes_deallocated),
        live_blocks: signed(s.allocations) - signed(s.deallocations),
    }
}

#[derive(Parser)]
#[command(version, about = "erlmcp at 100,000 sessions, measured")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Node>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Node {
    /// (node process) Serve sessions on loopback TCP; commands on stdin.
    #[command(hide = true)]
    ServeTcp(ServeArgs),
    /// (node process) Hold client connections; commands on stdin.
    #[command(hide = true)]
    TcpClients(ClientArgs),
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long)]
    listen: SocketAddr,
    #[arg(long, default_value_t = erlmcp_transport::DEFAULT_READ_CAPACITY)]
    read_capacity: usize,
    #[arg(long, default_value_t = 64 * 1024)]
    max_frame: usize,
}

#[derive(Args)]
struct ClientArgs {
    #[arg(long, value_delimiter = ',')]
    targets: Vec<SocketAddr>,
    #[arg(long, value_delimiter = ',')]
    sources: Vec<IpAddr>,
}

#[derive(Args)]
struct RunArgs {
    /// The largest session count (the last ramp step), in memory and over TCP.
    #[arg(long, default_value_t = 100_000)]
    max_sessions: usize,
    /// Ramp steps (those ≤ --max-sessions are used, and --max-sessions is always last).
    #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 10_000, 50_000, 100_000])]
    steps: Vec<usize>,
    /// Length of each lookup-under-churn window, per step (and per TCP server node).
    #[arg(long, default_value_t = 2.0)]
    seconds_per_step: f64,
    /// Inserts + removes per second in the paced churn window (the other window churns
    /// as fast as it can).
    #[arg(long, default_value_t = 100_000)]
    paced_churn: u64,
    /// Bytes each in-memory pipe direction holds.
    #[arg(long, default_value_t = 1024)]
    pipe_bytes: usize,
    /// Initial read-buffer capacity of each in-memory server end.
    #[arg(long, default_value_t = 1024)]
    read_capacity: usize,
    /// Initial read-buffer capacity of each TCP connection on the server nodes (erlmcp's
    /// default, which `erlmcp serve --tcp` uses, is 8192).
    #[arg(long, default_value_t = erlmcp_transport::DEFAULT_READ_CAPACITY)]
    tcp_read_capacity: usize,
    /// Largest frame accepted by every session.
    #[arg(long, default_value_t = 64 * 1024)]
    max_frame: usize,
    /// Sessions whose `ping` round trip is timed at each step.
    #[arg(long, default_value_t = 1000)]
    ping_sample: usize,
    /// Pings per sampled session.
    #[arg(long, default_value_t = 5)]
    ping_rounds: usize,
    /// The largest TCP session count (default: --max-sessions). At or below what one
    /// server process can hold, only the single-process TCP ramp runs — the bounded size
    /// `cargo xtask release-evidence` uses.
    #[arg(long)]
    tcp_max_sessions: Option<usize>,
    /// Connections the single-process TCP run asks one server to hold (default: the
    /// open-files hard limit minus 32, or the TCP maximum if smaller).
    #[arg(long)]
    tcp_single_target: Option<usize>,
    /// Connections per server process in the multi-process TCP ramp.
    #[arg(long, default_value_t = 17_000)]
    tcp_per_server: usize,
    /// Connections per client process.
    #[arg(long, default_value_t = 17_000)]
    tcp_per_client: usize,
    /// Also run the single-process TCP ramp against this `erlmcp` binary
    /// (`erlmcp serve --tcp`; RSS only). Build it with `cargo build --release -p erlmcp`.
    #[arg(long)]
    erlmcp_bin: Option<PathBuf>,
    /// Owner tasks for the monitor-cost measurement.
    #[arg(long, default_value_t = 100_000)]
    monitor_entries: usize,
    /// Sessions for the heap attribution.
    #[arg(long, default_value_t = 10_000)]
    attribution_sessions: usize,
    /// Skip the in-memory parts.
    #[arg(long)]
    skip_memory: bool,
    /// Skip the TCP parts.
    #[arg(long)]
    skip_tcp: bool,
    /// Where scale.json and scale.png go.
    #[arg(long, default_value = "evidence/out")]
    out_dir: PathBuf,
    /// The whole run is stopped (and every child killed) after this long.
    #[arg(long, default_value_t = 3600)]
    time_limit_secs: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("scale: cannot start tokio: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Some(Node::ServeTcp(a)) => {
                tcp::serve_node(a.listen, a.read_capacity, a.max_frame).await
            }
            Some(Node::TcpClients(a)) => tcp::client_node(a.targets, a.sources).await,
            None => {
                let limit = Duration::from_secs(cli.run.time_limit_secs);
                match tokio::time::timeout(limit, run(cli.run)).await {
                    Ok(result) => result,
                    Err(_) => Err(anyhow::anyhow!(
                        "time limit of {limit:?} reached; every child process was killed"
                    )),
                }
            }
        }
    });
    // Node processes and sessions still running are not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("scale: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let machine = sys::machine();
    let exe = std::env::current_exe().context("locating this binary")?;
    let mut steps: Vec<usize> = args
        .steps
        .iter()
        .copied()
        .filter(|&s| s > 0 && s < args.max_sessions)
        .collect();
    steps.push(args.max_sessions);
    steps.sort_unstable();
    steps.dedup();
    eprintln!(
        "scale: steps {steps:?}; {} cores, {:.1} GiB, open files {:?}, load {:.2}",
        machine.cores,
        machine.mem_total_bytes as f64 / f64::from(1u32 << 30),
        machine.nofile,
        machine.loadavg_at_start
    );

    let mut report = report::ScaleReport {
        schema: "erlmcp.scale/1",
        generated_at: String::new(),
        command: std::env::args().collect(),
        git_commit: git_commit(),
        machine: machine.clone(),
        loadavg_at_end: 0.0,
        elapsed_secs: 0.0,
        monitor_cost: None,
        attribution: None,
        in_memory: None,
        tcp_single: None,
        tcp_single_erlmcp: None,
        tcp_multi: None,
        growth: Vec::new(),
        goals: report::Goals::default(),
        recommendation: report::Recommendation::default(),
    };

    if !args.skip_memory {
        let cfg = memory::MemoryConfig {
            steps: steps.clone(),
            pipe_bytes: args.pipe_bytes,
            read_capacity: args.read_capacity,
            max_frame_bytes: args.max_frame,
            ping_sample: args.ping_sample,
            ping_rounds: args.ping_rounds,
            ping_concurrency: 8,
            window_secs: args.seconds_per_step,
            paced_churn: args.paced_churn,
            batch: 1000,
        };
        // The ramp runs first, in a fresh process: RSS then grows only by what the
        // sessions take (freed memory of earlier phases would otherwise be reused).
        eprintln!("scale: in-memory ramp");
        let mut run = memory::ramp(&cfg).await?;
        let n = args.attribution_sessions.min(args.max_sessions).max(100);
        eprintln!("scale: heap attribution on {n} sessions");
        let attribution = memory::attribute(&cfg, n).await?;
        eprintln!(
            "scale: per session: {:.0} B heap server-side, {:.0} B pipe (session task future {} B)",
            attribution.server_side,
            attribution.pipe_pair + attribution.pipe_buffers_after_traffic,
            attribution.session_future_bytes
        );
        memory::apply_attribution(&mut run, &attribution);
        report.in_memory = Some(run);
        report.attribution = Some(attribution);
        let entries = args.monitor_entries.min(args.max_sessions.max(1000));
        eprintln!("scale: monitor cost on {entries} tasks");
        report.monitor_cost = Some(memory::monitor_cost(entries).await?);
    }

    if !args.skip_tcp {
        let hard = usize::try_from(machine.nofile.1).unwrap_or(usize::MAX);
        let tcp_max = args.tcp_max_sessions.unwrap_or(args.max_sessions);
        let single_target = args
            .tcp_single_target
            .unwrap_or(hard.saturating_sub(32))
            .min(tcp_max);
        let per_client = args.tcp_per_client.min(hard.saturating_sub(32)).max(1);
        let cfg = tcp::TcpConfig {
            steps: steps.clone(),
            single_target,
            per_server: args.tcp_per_server,
            per_client,
            read_capacity: args.tcp_read_capacity,
            max_frame_bytes: args.max_frame,
            churn_millis: (args.seconds_per_step * 1000.0) as u64,
            ping_sample: args.ping_sample,
            ping_rounds: args.ping_rounds,
            erlmcp_bin: args.erlmcp_bin.clone(),
        };
        let mut single_steps: Vec<usize> = steps
            .iter()
            .copied()
            .filter(|&s| s < single_target)
            .collect();
        single_steps.push(single_target);
        let clients = single_target.div_ceil(per_client);
        eprintln!("scale: tcp, one server process, steps {single_steps:?}");
        report.tcp_single = Some(tcp::run(&cfg, &exe, 1, clients, 2, &single_steps, false).await?);
        if cfg.erlmcp_bin.is_some() {
            eprintln!("scale: tcp, one erlmcp serve --tcp process, steps {single_steps:?}");
            report.tcp_single_erlmcp =
                Some(tcp::run(&cfg, &exe, 1, clients, 2, &single_steps, true).await?);
        }
        if tcp_max > single_target {
            let servers = tcp_max.div_ceil(args.tcp_per_server.max(1));
            let clients = tcp_max.div_ceil(per_client);
            let mut multi_steps: Vec<usize> =
                steps.iter().copied().filter(|&s| s < tcp_max).collect();
            multi_steps.push(tcp_max);
            eprintln!(
                "scale: tcp, {servers} server processes and {clients} client processes, steps {multi_steps:?}"
            );
            report.tcp_multi =
                Some(tcp::run(&cfg, &exe, servers, clients, 20, &multi_steps, false).await?);
        }
    }

    if let Some(run) = &report.in_memory {
        let points: Vec<(usize, f64)> = run
            .steps
            .iter()
            .map(|s| (s.sessions, s.heap_delta_bytes as f64))
            .collect();
        report
            .growth
            .extend(report::growth("in-memory heap", &points));
        let points: Vec<(usize, f64)> = run
            .steps
            .iter()
            .map(|s| (s.sessions, s.rss_delta_bytes as f64))
            .collect();
        report
            .growth
            .extend(report::growth("in-memory RSS", &points));
    }
    for (name, run) in [
        ("tcp one process server RSS", &report.tcp_single),
        ("tcp several processes server RSS", &report.tcp_multi),
    ] {
        if let Some(run) = run {
            let points: Vec<(usize, f64)> = run
                .steps
                .iter()
                .map(|s| (s.sessions, s.server_rss_delta_bytes as f64))
                .collect();
            report.growth.extend(report::growth(name, &points));
        }
    }
    report::assess(&mut report);
    report.generated_at = sys::now_rfc3339();
    report.loadavg_at_end = sys::loadavg();
    report.elapsed_secs = started.elapsed().as_secs_f64();

    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let json_path = args.out_dir.join("scale.json");
    let png_path = args.out_dir.join("scale.png");
    std::fs::write(&json_path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", json_path.display()))?;
    let text = report::plot(&report, &png_path)?;
    report::print_summary(&report);
    eprintln!(
        "scale: wrote {} and {}{} in {:.0} s",
        json_path.display(),
        png_path.display(),
        if text {
            ""
        } else {
            " (no TrueType font found: graph without text)"
        },
        report.elapsed_secs
    );
    Ok(())
}
