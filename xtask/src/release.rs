//! `cargo xtask release-evidence`: every figure of one run into `evidence/bundle.json`.
//!
//! 1. Tests: `cargo test --workspace --no-fail-fast` (venv as for `regression`), each test
//!    binary's `test result:` line becoming a `TestSuiteRecord`. Suites are named from
//!    `cargo test --no-run --message-format=json` (package, target kind, target name).
//!    Failing tests stop the run before anything is written. The run has
//!    `ERLMCP_SUPERVISION_EVIDENCE` set, so the crash-isolation test of
//!    `crates/erlmcp/tests/supervision.rs` writes `evidence/out/supervision.json`: the
//!    bundle's `supervision` section. It also has `ERLMCP_LIFECYCLE_EVIDENCE` set, so the
//!    lifecycle soak of `crates/erlmcp-protocol/tests/leaks.rs` writes
//!    `evidence/out/lifecycle.json`, read with [`LifecycleRecord::parse`]: the `lifecycle`
//!    section.
//! 2. Load: `cargo xtask bench` with `--seconds`.
//! 3. Overload: the `overload` harness for `--overload-seconds` (`flow_control` section,
//!    `evidence/overload.csv` and `evidence/overload.png`; the harness fails the run when
//!    flow control did not hold), and the circuit breaker's criterion bench
//!    (`flow_control.breaker_bench`).
//! 4. Scale: the 100K scale harness, `--scale-sessions` in memory and
//!    `--scale-tcp-sessions` over loopback TCP, one server process and then several
//!    (`scale` section, `evidence/scale.json` and `evidence/scale.png`; skipped at 0).
//! 5. Fuzz: every target for `--fuzz-seconds` (skipped at 0).
//! 6. SBOM: `evidence/sbom.cdx.json`.
//!
//! Then the bundle and `evidence/throughput.csv`. A fuzz crash is recorded in the bundle
//! and makes the command fail after writing it.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use cargo_metadata::{Message, MetadataCommand};
use erlmcp_evidence::{Bundle, CargoTestLog, Environment, LifecycleRecord, TestSuiteRecord};

use crate::workspace::{self, Workspace};
use crate::{bench, fuzz, overload, regression, sbom, scale};

/// How long or how large each part of the run is.
pub struct Sizes {
    /// Seconds per load scenario.
    pub seconds: f64,
    /// Seconds of sustained overload.
    pub overload_seconds: f64,
    /// In-memory sessions of the scale harness (0: skipped).
    pub scale_sessions: usize,
    /// TCP sessions of the scale harness, one server process.
    pub scale_tcp_sessions: usize,
    /// Seconds per fuzz target (0: skipped).
    pub fuzz_seconds: u64,
}

/// Runs everything and writes the bundle.
pub fn run(ws: &Workspace, sizes: Sizes) -> anyhow::Result<()> {
    let Sizes {
        seconds,
        overload_seconds,
        scale_sessions,
        scale_tcp_sessions,
        fuzz_seconds,
    } = sizes;
    // Captured before anything runs: the run itself rewrites tracked files under
    // `evidence/`, so `git_dirty` read at the end would always be true. Read here it says
    // whether the sources this run measured had uncommitted changes.
    let environment = Environment::capture(&ws.root, &codec_backend(ws)?);
    let figures = TestFigures {
        supervision: ws.out_dir().join("supervision.json"),
        lifecycle: ws.out_dir().join("lifecycle.json"),
    };
    let tests = run_tests(ws, &figures)?;
    let supervision: serde_json::Value = serde_json::from_slice(&read(&figures.supervision)?)
        .with_context(|| format!("parse {}", figures.supervision.display()))?;
    let lifecycle = LifecycleRecord::parse(&read(&figures.lifecycle)?)
        .with_context(|| format!("parse {}", figures.lifecycle.display()))?;
    let throughput = bench::run(ws, seconds, false, &[])?;
    let mut flow_control = overload::run(ws, overload_seconds)?;
    flow_control["breaker_bench"] = overload::breaker_bench(ws)?;
    let scale = if scale_sessions > 0 {
        Some(scale::run(ws, scale_sessions, scale_tcp_sessions)?)
    } else {
        eprintln!("scale harness skipped (--scale-sessions 0)");
        None
    };
    let fuzz = if fuzz_seconds > 0 {
        Some(fuzz::run(ws, &ws.root.join("fuzz"), fuzz_seconds)?)
    } else {
        eprintln!("fuzzing skipped (--fuzz-seconds 0)");
        None
    };
    let sbom = sbom::run(ws, &ws.evidence_dir().join("sbom.cdx.json"))?;

    let mut bundle = Bundle::new(environment);
    bundle.tests = tests;
    bundle.throughput = throughput;
    if let Some(report) = &fuzz {
        bundle
            .sections
            .insert("fuzz".to_owned(), serde_json::to_value(report)?);
    }
    bundle.sections.insert("sbom".to_owned(), sbom);
    bundle
        .sections
        .insert("supervision".to_owned(), supervision);
    bundle
        .sections
        .insert("flow_control".to_owned(), flow_control);
    bundle
        .sections
        .insert("lifecycle".to_owned(), serde_json::to_value(&lifecycle)?);
    if let Some(scale) = scale {
        bundle.sections.insert("scale".to_owned(), scale);
    }
    let path = ws.evidence_dir().join("bundle.json");
    bundle.write(&path)?;
    eprintln!(
        "wrote {} and {}",
        path.display(),
        Bundle::csv_path(&path).display()
    );
    if let Some(report) = &fuzz {
        report.fail_on_crash()?;
    }
    Ok(())
}

/// Where tests write figures for the bundle.
struct TestFigures {
    /// `ERLMCP_SUPERVISION_EVIDENCE`: the crash-isolation test.
    supervision: std::path::PathBuf,
    /// `ERLMCP_LIFECYCLE_EVIDENCE`: the lifecycle soak.
    lifecycle: std::path::PathBuf,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("read {}", path.display()))
}

/// Removes a figures file left by an earlier run, so a stale one is never read.
fn remove_stale(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Runs the workspace tests, streaming their output, and returns one record per binary.
/// The supervision test and the lifecycle soak write their figures to `figures` (removed
/// first, so a stale file is never read).
fn run_tests(ws: &Workspace, figures: &TestFigures) -> anyhow::Result<Vec<TestSuiteRecord>> {
    let python = regression::ensure_venv(ws)?;
    let names = suite_names(ws, &python)?;
    let mut log = CargoTestLog::with_names(names);
    remove_stale(&figures.supervision)?;
    remove_stale(&figures.lifecycle)?;
    let mut command = regression::test_command(ws, &python);
    command
        .arg("--no-fail-fast")
        .env("ERLMCP_SUPERVISION_EVIDENCE", &figures.supervision)
        .env("ERLMCP_LIFECYCLE_EVIDENCE", &figures.lifecycle);
    let status = workspace::run_tee(&mut command, |line| log.feed(line))?;
    let records = log.into_records();
    let failed: u64 = records.iter().map(|r| r.failed).sum();
    if !status.success() || failed > 0 {
        bail!("tests failed ({status}, {failed} failing tests); no evidence written");
    }
    let passed: u64 = records.iter().map(|r| r.passed).sum();
    eprintln!("{} test suites, {passed} tests passed", records.len());
    Ok(records)
}

/// Test executable file name → `package kind target` (e.g. `erlmcp-codec test framing`),
/// from `cargo test --no-run --message-format=json`. This also builds the tests, so the
/// run that follows only executes them.
fn suite_names(ws: &Workspace, python: &Path) -> anyhow::Result<HashMap<String, String>> {
    let mut command = regression::test_command(ws, python);
    command
        .args(["--no-run", "--message-format=json-render-diagnostics"])
        .stdout(std::process::Stdio::piped());
    eprintln!("$ {}", workspace::describe(&command));
    let mut child = command.spawn().context("start cargo test --no-run")?;
    let stdout = child.stdout.take().context("no stdout pipe")?;
    let mut names = HashMap::new();
    for message in Message::parse_stream(std::io::BufReader::new(stdout)) {
        let Message::CompilerArtifact(artifact) = message? else {
            continue;
        };
        let Some(exe) = artifact
            .executable
            .as_ref()
            .filter(|_| artifact.profile.test)
        else {
            continue;
        };
        let Some(file) = exe.file_name() else {
            continue;
        };
        let package = ws
            .package_names
            .get(&artifact.package_id.repr)
            .map_or("?", String::as_str);
        let kind = artifact
            .target
            .kind
            .first()
            .map_or_else(|| "?".to_owned(), |k| k.to_string());
        names.insert(
            file.trim_end_matches(".exe").to_owned(),
            format!("{package} {kind} {}", artifact.target.name),
        );
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("tests do not build ({status}); no evidence written");
    }
    Ok(names)
}

/// The JSON back end erlmcp's codec is built with: `simd-json` when the resolved
/// workspace enables erlmcp-codec's `simd` feature, else `serde_json`.
fn codec_backend(ws: &Workspace) -> anyhow::Result<String> {
    let metadata = MetadataCommand::new()
        .manifest_path(ws.root.join("Cargo.toml"))
        .exec()
        .context("cargo metadata")?;
    let simd = metadata.resolve.as_ref().is_some_and(|resolve| {
        resolve.nodes.iter().any(|node| {
            metadata
                .packages
                .iter()
                .any(|p| p.id == node.id && p.name.as_str() == "erlmcp-codec")
                && node.features.iter().any(|f| f.as_str() == "simd")
        })
    });
    Ok(if simd { "simd-json" } else { "serde_json" }.to_owned())
}
