//! `cargo xtask`: erlmcp's build orchestration.
//!
//! - `regression`: the project's test command (Python venv for interop tests, then
//!   `cargo test --workspace`).
//! - `bench`: release build, then the `load` harness against `target/release/erlmcp`.
//! - `fuzz --seconds N`: every cargo-fuzz target for N seconds.
//! - `sbom`: CycloneDX SBOM of the workspace.
//! - `release-evidence`: all of the above, plus the overload harness and the supervision
//!   test's figures, into `evidence/bundle.json`.
//!
//! It holds orchestration only: figures are measured by `benches/` and the fuzzers, and
//! recorded with `erlmcp-evidence` types.

mod bench;
mod fuzz;
mod overload;
mod regression;
mod release;
mod sbom;
mod scale;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "erlmcp build orchestration")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the test suite: ensure target/pyenv (requirements-dev.txt), then
    /// `cargo test --workspace` with ERLMCP_PYTHON set. Extra arguments go to cargo test.
    Regression {
        /// Passed to `cargo test` (e.g. `-- --nocapture`, `--no-fail-fast`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_args: Vec<String>,
    },
    /// Build erlmcp in release and run the load harness; writes evidence/out/throughput.json.
    Bench {
        /// Seconds per load scenario.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Also run the criterion micro-benchmarks (`cargo bench -p erlmcp-benches`).
        #[arg(long)]
        criterion: bool,
        /// Passed to the `load` binary (e.g. `--transports tcp --inflight 1,8,64`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        load_args: Vec<String>,
    },
    /// Run every fuzz target for N seconds; writes evidence/out/fuzz.json.
    Fuzz {
        /// Seconds per target (libFuzzer's -max_total_time).
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// The cargo-fuzz project.
        #[arg(long, default_value = "fuzz")]
        dir: PathBuf,
    },
    /// Write the CycloneDX SBOM to evidence/out/sbom.cdx.json.
    Sbom,
    /// Tests (with the supervision test's figures), load, the overload harness, the scale
    /// harness, fuzz and SBOM into evidence/bundle.json (+ evidence/throughput.csv,
    /// evidence/overload.csv, evidence/overload.png, evidence/scale.json,
    /// evidence/scale.png).
    ReleaseEvidence {
        /// Seconds per load scenario.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Seconds of sustained overload (slow consumer) for the `flow_control` section.
        #[arg(long, default_value_t = 5.0)]
        overload_seconds: f64,
        /// In-memory sessions the scale harness ramps to (one process) for the `scale`
        /// section; 0 skips the scale harness.
        #[arg(long, default_value_t = 100_000)]
        scale_sessions: usize,
        /// Loopback TCP sessions the scale harness ramps to: up to what one server
        /// process holds on one process, past it spread over several server and client
        /// processes (each server its own registry, like separate nodes).
        #[arg(long, default_value_t = 100_000)]
        scale_tcp_sessions: usize,
        /// Seconds per fuzz target; 0 skips fuzzing.
        #[arg(long, default_value_t = 30)]
        fuzz_seconds: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = workspace::Workspace::locate().and_then(|ws| match cli.command {
        Command::Regression { cargo_args } => regression::run(&ws, &cargo_args),
        Command::Bench {
            seconds,
            criterion,
            load_args,
        } => bench::run(&ws, seconds, criterion, &load_args).map(drop),
        Command::Fuzz { seconds, dir } => {
            fuzz::run(&ws, &ws.root.join(dir), seconds).and_then(|report| report.fail_on_crash())
        }
        Command::Sbom => sbom::run(&ws, &ws.out_dir().join("sbom.cdx.json")).map(drop),
        Command::ReleaseEvidence {
            seconds,
            overload_seconds,
            scale_sessions,
            scale_tcp_sessions,
            fuzz_seconds,
        } => release::run(
            &ws,
            release::Sizes {
                seconds,
                overload_seconds,
                scale_sessions,
                scale_tcp_sessions,
                fuzz_seconds,
            },
        ),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
