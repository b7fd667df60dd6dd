//! `load`: erlmcp's throughput and latency harness, and its ceiling peer.
//!
//! ```text
//! load --server-bin target/release/erlmcp [--transports stdio,tcp] [--inflight 1,64]
//!      [--payload 4096] [--seconds 5] [--max-messages N] [--out FILE]
//! load ceiling-peer --stdio | --tcp 127.0.0.1:PORT
//! ```
//!
//! For every transport and scenario it first measures the ceiling (this binary's own
//! `ceiling-peer`, which does no JSON work), then erlmcp under the same load, and reports
//! erlmcp as a ratio of the ceiling. Records go to stdout (or `--out`) as a JSON array of
//! `erlmcp_evidence::ThroughputRecord`; the table goes to stderr. Loopback only; every
//! server it starts, it stops.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use erlmcp_benches::driver::LoadConfig;
use erlmcp_benches::scenario::{self, RunConfig, Scenario};
use erlmcp_benches::spawn::{Target, Transport};
use erlmcp_benches::{peer, report};
use erlmcp_evidence::ThroughputRecord;

#[derive(Parser)]
#[command(
    version,
    about = "erlmcp throughput/latency harness with a no-JSON ceiling peer"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve as the ceiling peer: answer every line with an id, by byte scanning only.
    CeilingPeer(PeerArgs),
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct PeerArgs {
    /// Serve stdin/stdout until stdin closes.
    #[arg(long)]
    stdio: bool,
    /// Listen on this loopback address until killed.
    #[arg(long, value_name = "ADDR")]
    tcp: Option<SocketAddr>,
}

#[derive(Args)]
struct RunArgs {
    /// The erlmcp binary to measure (`serve --stdio` / `serve --tcp ADDR`).
    #[arg(long, value_name = "PATH")]
    server_bin: Option<PathBuf>,
    /// Transports to measure.
    #[arg(long, value_delimiter = ',', default_value = "stdio,tcp")]
    transports: Vec<Transport>,
    /// In-flight windows for the round-trip scenario.
    #[arg(long, value_delimiter = ',', default_value = "1,64")]
    inflight: Vec<usize>,
    /// Bytes per request line.
    #[arg(long, default_value_t = 4096)]
    payload: usize,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Message cap per scenario (stops before --seconds if reached).
    #[arg(long, default_value_t = 5_000_000)]
    max_messages: u64,
    /// Skip the one-way scenario.
    #[arg(long)]
    no_one_way: bool,
    /// Skip the ceiling measurements (no ratios then).
    #[arg(long)]
    no_ceiling: bool,
    /// Write the JSON records here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::CeilingPeer(args)) => match (args.stdio, args.tcp) {
            (_, Some(addr)) => peer::run_tcp(addr),
            _ => peer::run_stdio(),
        },
        None => run(cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let Some(server_bin) = args.server_bin else {
        bail!("--server-bin PATH is required (or use the ceiling-peer subcommand)");
    };
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        bail!("--seconds must be a positive number");
    }
    let erlmcp = Target::erlmcp(&server_bin);
    let ceiling = Target::ceiling(std::env::current_exe().context("locate the load binary")?);
    let config = RunConfig {
        load: LoadConfig {
            payload: args.payload,
            duration: Duration::from_secs_f64(args.seconds),
            max_messages: args.max_messages,
            drain_timeout: Duration::from_secs(10),
        },
        connect_timeout: Duration::from_secs(10),
    };
    let mut scenarios: Vec<Scenario> = args
        .inflight
        .iter()
        .map(|&in_flight| Scenario::RoundTrip { in_flight })
        .collect();
    if !args.no_one_way {
        scenarios.push(Scenario::OneWay);
    }

    let mut records: Vec<ThroughputRecord> = Vec::new();
    let mut failures = Vec::new();
    for &transport in &args.transports {
        for &scenario in &scenarios {
            let ceiling_record = if args.no_ceiling {
                None
            } else {
                eprintln!("measuring ceiling {scenario} over {transport} …");
                match scenario::run(&ceiling, transport, scenario, &config) {
                    Ok(r) => {
                        records.push(r.clone());
                        Some(r)
                    }
                    Err(e) => {
                        eprintln!("  failed: {e:#}");
                        failures.push(format!("ceiling {scenario} over {transport}"));
                        None
                    }
                }
            };
            eprintln!("measuring erlmcp {scenario} over {transport} …");
            match scenario::run(&erlmcp, transport, scenario, &config) {
                Ok(mut r) => {
                    if let Some(c) = &ceiling_record {
                        r.set_ceiling(c.msgs_per_sec);
                    }
                    records.push(r);
                }
                Err(e) => {
                    eprintln!("  failed: {e:#}");
                    failures.push(format!("erlmcp {scenario} over {transport}"));
                }
            }
        }
    }

    eprintln!("\n{}", report::table(&records));
    let json = serde_json::to_string_pretty(&records)? + "\n";
    match &args.out {
        Some(path) => erlmcp_evidence::bundle::write_atomic(path, json.as_bytes())?,
        None => print!("{json}"),
    }
    if !failures.is_empty() {
        bail!(
            "{} scenario(s) failed: {}",
            failures.len(),
            failures.join("; ")
        );
    }
    Ok(())
}
