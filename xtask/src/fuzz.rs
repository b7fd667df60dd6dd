//! `cargo xtask fuzz --seconds N`: every cargo-fuzz target for N seconds.
//!
//! Targets are the files `fuzz/fuzz_targets/*.rs`. Each runs as
//! `cargo +nightly fuzz run <target> -- -max_total_time=N`; the executions come from
//! libFuzzer's closing `Done N runs in S second(s)` line. A target crashed when the run
//! exits non-zero or leaves new files under `fuzz/artifacts/<target>/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::workspace::{self, Workspace};

/// One target's run.
#[derive(Debug, Serialize)]
pub struct TargetRun {
    /// The target name (file stem).
    pub target: String,
    /// libFuzzer's executions, if it printed its `Done` line.
    pub executions: Option<u64>,
    /// libFuzzer's seconds, if it printed its `Done` line.
    pub seconds: Option<f64>,
    /// Non-zero exit or new artifacts.
    pub crashed: bool,
    /// The exit code (None if killed by a signal).
    pub exit_code: Option<i32>,
    /// Artifact files this run created, relative to the workspace root.
    pub artifacts: Vec<String>,
}

/// All targets' runs; this is the bundle's `fuzz` section.
#[derive(Debug, Serialize)]
pub struct FuzzReport {
    /// The time budget each target had.
    pub seconds_per_target: u64,
    /// One entry per target.
    pub targets: Vec<TargetRun>,
}

impl FuzzReport {
    /// An error naming the crashed targets, if any.
    pub fn fail_on_crash(&self) -> anyhow::Result<()> {
        let crashed: Vec<&str> = self
            .targets
            .iter()
            .filter(|t| t.crashed)
            .map(|t| t.target.as_str())
            .collect();
        if !crashed.is_empty() {
            bail!("fuzz targets crashed: {}", crashed.join(", "));
        }
        Ok(())
    }
}

/// Fuzzes every target in `dir` for `seconds` each and writes `evidence/out/fuzz.json`.
pub fn run(ws: &Workspace, dir: &Path, seconds: u64) -> anyhow::Result<FuzzReport> {
    let targets_dir = dir.join("fuzz_targets");
    let targets = list_targets(&targets_dir).with_context(|| {
        format!(
            "no fuzz targets: expected {}/*.rs (the cargo-fuzz project is not there yet?)",
            targets_dir.display()
        )
    })?;
    ensure_cargo_fuzz()?;
    let mut report = FuzzReport {
        seconds_per_target: seconds,
        targets: Vec::new(),
    };
    for target in targets {
        report.targets.push(run_target(ws, dir, &target, seconds)?);
    }
    let out = ws.out_dir().join("fuzz.json");
    let mut text = serde_json::to_vec_pretty(&report)?;
    text.push(b'\n');
    erlmcp_evidence::bundle::write_atomic(&out, &text)?;
    eprintln!("\nfuzz summary (written to {}):", out.display());
    for t in &report.targets {
        eprintln!(
            "  {:<20} {:>12} execs in {:>6.1}s  {}",
            t.target,
            t.executions
                .map_or_else(|| "?".to_owned(), |n| n.to_string()),
            t.seconds.unwrap_or(0.0),
            if t.crashed { "CRASHED" } else { "ok" }
        );
    }
    Ok(report)
}

fn list_targets(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut targets: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    targets.sort();
    if targets.is_empty() {
        bail!("{} holds no .rs files", dir.display());
    }
    Ok(targets)
}

/// A `cargo` from PATH (the rustup proxy, which understands `+nightly`), without the
/// variables that pin the toolchain xtask itself runs on.
fn rustup_cargo() -> Command {
    let mut command = Command::new("cargo");
    for var in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTUP_TOOLCHAIN",
        "RUSTC_WRAPPER",
    ] {
        command.env_remove(var);
    }
    command
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let installed = rustup_cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        workspace::run(rustup_cargo().args(["install", "cargo-fuzz", "--locked"]))
            .context("install cargo-fuzz")?;
    }
    Ok(())
}

fn run_target(ws: &Workspace, dir: &Path, target: &str, seconds: u64) -> anyhow::Result<TargetRun> {
    let artifacts_dir = dir.join("artifacts").join(target);
    let before = list_files(&artifacts_dir);
    let project_parent = dir.parent().unwrap_or(&ws.root);
    let mut command = rustup_cargo();
    command
        .current_dir(project_parent)
        .args(["+nightly", "fuzz", "run", "--fuzz-dir"])
        .arg(dir)
        .arg(target)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"));
    let mut done = None;
    let status = workspace::run_tee_filtered(&mut command, is_worth_showing, |line| {
        if let Some(parsed) = parse_done(line) {
            done = Some(parsed);
        }
    })?;
    let after = list_files(&artifacts_dir);
    let artifacts: Vec<String> = after
        .difference(&before)
        .map(|p| p.strip_prefix(&ws.root).unwrap_or(p).display().to_string())
        .collect();
    Ok(TargetRun {
        target: target.to_owned(),
        executions: done.map(|(n, _)| n),
        seconds: done.map(|(_, s)| s),
        crashed: !status.success() || !artifacts.is_empty(),
        exit_code: status.code(),
        artifacts,
    })
}

/// Hides libFuzzer's per-input progress (`#123 NEW …`, `#456 REDUCE …`) and its
/// recommended-dictionary listing; keeps build output, pulses, crashes and the summary.
fn is_worth_showing(line: &str) -> bool {
    let progress = line.starts_with('#')
        && matches!(
            line.split_whitespace().nth(1),
            Some("NEW" | "REDUCE" | "RELOAD")
        );
    let dictionary_entry = line.starts_with('"') && line.contains("# Uses:");
    !(progress || dictionary_entry)
}

fn list_files(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// `Done 123456 runs in 30 second(s)` → (123456, 30.0).
fn parse_done(line: &str) -> Option<(u64, f64)> {
    let rest = line.trim().strip_prefix("Done ")?;
    let (runs, rest) = rest.split_once(" runs in ")?;
    let secs = rest.split_whitespace().next()?;
    Some((runs.trim().parse().ok()?, secs.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libfuzzer_done_line() {
        assert_eq!(
            parse_done("Done 1234567 runs in 31 second(s)"),
            Some((1_234_567, 31.0))
        );
        assert_eq!(parse_done("#1234 DONE cov: 10 ft: 20"), None);
        assert_eq!(parse_done("Done lots runs in 1 second(s)"), None);
    }

    #[test]
    fn hides_per_input_progress() {
        assert!(!is_worth_showing(
            "#1024\tNEW    cov: 812 ft: 1990 corp: 90/2Kb"
        ));
        assert!(!is_worth_showing("\"xn--\" # Uses: 4"));
        assert!(is_worth_showing(
            "#65536\tpulse  cov: 900 ft: 2100 exec/s: 21845"
        ));
        assert!(is_worth_showing("Done 9023 runs in 6 second(s)"));
        assert!(is_worth_showing("==1234== ERROR: libFuzzer: deadly signal"));
    }
}
