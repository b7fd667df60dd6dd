//! The 100K scale harness (`benches/src/bin/scale.rs`) for the evidence bundle:
//! `--scale-sessions` in-memory sessions in one process (the whole ramp up to it) and
//! `--scale-tcp-sessions` loopback TCP sessions — one server process up to what it can
//! hold, and past that the multi-process ramp (server processes with their own
//! registries, client processes on their own `127.0.0.x` source addresses) — bounded by
//! the harness's own time limit.

use std::path::Path;

use anyhow::Context;
use erlmcp_evidence::scale::{ScaleFiles, ScaleSection};

use crate::workspace::{self, Workspace};

/// The whole harness run is killed past this (it cleans up its children itself).
const TIME_LIMIT_SECS: u64 = 900;

/// Builds `scale` in release and runs it; copies its JSON and PNG to
/// `evidence/scale.json` and `evidence/scale.png` and returns the bundle's `scale`
/// section read from that JSON.
pub fn run(
    ws: &Workspace,
    sessions: usize,
    tcp_sessions: usize,
) -> anyhow::Result<serde_json::Value> {
    workspace::run(ws.cargo().args([
        "build",
        "--release",
        "-p",
        "erlmcp-benches",
        "--bin",
        "scale",
    ]))?;
    let out = ws.out_dir().join("scale");
    std::fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
    workspace::run(
        std::process::Command::new(ws.target_dir.join("release").join("scale"))
            .current_dir(&ws.root)
            .args(["--max-sessions", &sessions.to_string()])
            .args(["--tcp-max-sessions", &tcp_sessions.to_string()])
            .args(["--seconds-per-step", "1"])
            .args(["--time-limit-secs", &TIME_LIMIT_SECS.to_string()])
            .arg("--out-dir")
            .arg(&out),
    )?;
    let (json, png) = (out.join("scale.json"), out.join("scale.png"));
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&json).with_context(|| format!("read {}", json.display()))?,
    )
    .with_context(|| format!("parse {}", json.display()))?;
    let evidence = ws.evidence_dir();
    copy(&json, &evidence.join("scale.json"))?;
    copy(&png, &evidence.join("scale.png"))?;
    let section = ScaleSection::from_report(
        &report,
        ScaleFiles {
            json: "evidence/scale.json".to_owned(),
            png: "evidence/scale.png".to_owned(),
        },
    )
    .with_context(|| format!("read the scale section from {}", json.display()))?;
    Ok(serde_json::to_value(section)?)
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to)
        .map(drop)
        .with_context(|| format!("copy {} to {}", from.display(), to.display()))
}
