//! `cargo xtask bench`: release build, then the load harness against erlmcp.

use std::path::PathBuf;

use anyhow::Context;
use erlmcp_evidence::ThroughputRecord;

use crate::workspace::{self, Workspace};

/// Builds `erlmcp` and `load` in release, runs `load` (scenario length `seconds`, plus
/// `load_args`), writes `evidence/out/throughput.json` and returns its records. With
/// `criterion`, also runs the criterion benches.
pub fn run(
    ws: &Workspace,
    seconds: f64,
    criterion: bool,
    load_args: &[String],
) -> anyhow::Result<Vec<ThroughputRecord>> {
    workspace::run(ws.cargo().args([
        "build",
        "--release",
        "-p",
        "erlmcp",
        "-p",
        "erlmcp-benches",
        "--bins",
    ]))?;
    let release = ws.target_dir.join("release");
    let out = ws.out_dir().join("throughput.json");
    let server: PathBuf = release.join("erlmcp");
    workspace::run(
        std::process::Command::new(release.join("load"))
            .current_dir(&ws.root)
            .arg("--server-bin")
            .arg(&server)
            .arg("--seconds")
            .arg(seconds.to_string())
            .arg("--out")
            .arg(&out)
            .args(load_args),
    )?;
    let records: Vec<ThroughputRecord> = serde_json::from_slice(
        &std::fs::read(&out).with_context(|| format!("read {}", out.display()))?,
    )
    .with_context(|| format!("parse {}", out.display()))?;
    eprintln!("wrote {} ({} records)", out.display(), records.len());
    if criterion {
        workspace::run(ws.cargo().args(["bench", "-p", "erlmcp-benches"]))?;
    }
    Ok(records)
}
