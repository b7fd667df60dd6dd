//! The overload harness (`benches/src/bin/overload.rs`) for the evidence bundle: a slow
//! consumer against an in-process server on loopback, bounded in time; and the circuit
//! breaker's criterion bench (`crates/erlmcp-flow/benches/breaker.rs`), whose estimates
//! join the same `flow_control` section as `breaker_bench`.

use std::path::Path;

use anyhow::Context;

use crate::workspace::{self, Workspace};

/// The breaker bench's functions, in the order they are reported.
const BREAKER_BENCHES: [&str; 6] = [
    "open_fail_fast",
    "clock_read_baseline",
    "closed_acquire_success",
    "service_open_fail_fast",
    "service_closed_call",
    "service_bare_call",
];

/// Runs the breaker bench (short: 1 s warm-up, 3 s measurement per function) and returns
/// criterion's mean and median per function, in ns, read from
/// `<target>/criterion/breaker/<function>/new/estimates.json`.
pub fn breaker_bench(ws: &Workspace) -> anyhow::Result<serde_json::Value> {
    workspace::run(ws.cargo().args([
        "bench",
        "-p",
        "erlmcp-flow",
        "--bench",
        "breaker",
        "--",
        "--warm-up-time",
        "1",
        "--measurement-time",
        "3",
        "--noplot",
    ]))?;
    let mut benches = serde_json::Map::new();
    for name in BREAKER_BENCHES {
        let path = ws
            .target_dir
            .join("criterion")
            .join("breaker")
            .join(name)
            .join("new")
            .join("estimates.json");
        let estimates: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&path).with_context(|| format!("read {}", path.display()))?,
        )
        .with_context(|| format!("parse {}", path.display()))?;
        let point = |which: &str| {
            estimates[which]["point_estimate"]
                .as_f64()
                .with_context(|| format!("{}: no {which}.point_estimate", path.display()))
        };
        benches.insert(
            name.to_owned(),
            serde_json::json!({"mean_ns": point("mean")?, "median_ns": point("median")?}),
        );
    }
    Ok(serde_json::json!({
        "bench": "crates/erlmcp-flow/benches/breaker.rs",
        "unit": "ns",
        "functions": benches,
    }))
}

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
