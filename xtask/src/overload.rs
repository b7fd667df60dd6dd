//! The overload harness (`benches/src/bin/overload.rs`) for the evidence bundle: a slow
//! consumer against an in-process server on loopback, bounded in time.

use std::path::Path;

use anyhow::Context;

use crate::workspace::{self, Workspace};

/// Builds `overload` in release and runs it for `seconds`; copies its CSV and PNG to
/// `evidence/overload.csv` and `evidence/overload.png` and returns its JSON summary (with
/// `files` pointing at those copies), for the bundle's `flow_control` section.
pub fn run(ws: &Workspace, seconds: f64) -> anyhow::Result<serde_json::Value> {
    workspace::run(ws.cargo().args([
        "build",
        "--release",
        "-p",
        "erlmcp-benches",
        "--bin",
        "overload",
    ]))?;
    let out = ws.out_dir();
    let (csv, png, json) = (
        out.join("overload.csv"),
        out.join("overload.png"),
        out.join("overload.json"),
    );
    workspace::run(
        std::process::Command::new(ws.target_dir.join("release").join("overload"))
            .current_dir(&ws.root)
            .arg("--seconds")
            .arg(seconds.to_string())
            .arg("--csv")
            .arg(&csv)
            .arg("--png")
            .arg(&png)
            .arg("--out")
            .arg(&json),
    )?;
    let mut summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&json).with_context(|| format!("read {}", json.display()))?,
    )
    .with_context(|| format!("parse {}", json.display()))?;
    let evidence = ws.evidence_dir();
    for (from, name, key) in [(&csv, "overload.csv", "csv"), (&png, "overload.png", "png")] {
        copy(from, &evidence.join(name))?;
        summary["files"][key] = format!("evidence/{name}").into();
    }
    Ok(summary)
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to)
        .map(drop)
        .with_context(|| format!("copy {} to {}", from.display(), to.display()))
}
