//! The `scale` section of the evidence bundle: the figures of the 100K scale harness
//! (`benches/src/bin/scale.rs`, which writes `scale.json`), cut down to what a reader of
//! the bundle checks — sessions held, registry lookup tails under churn, memory per idle
//! session, ping tails, growth, the goals and the recommended limits — with the harness's
//! full JSON and its PNG beside the bundle.
//!
//! The harness's report is read as JSON (`benches/` depends on this crate, not the other
//! way round); a report missing a field this section needs is an
//! [`EvidenceError::Report`], never a silently empty section.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::EvidenceError;

/// Lookup (or round-trip) percentiles, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tail {
    /// Samples behind the figures.
    pub samples: u64,
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
}

/// The largest step of one series (in memory, one TCP process, several TCP processes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleStep {
    /// Sessions held (every one handshaken).
    pub sessions: u64,
    /// Sessions that answered `ping` at this step.
    pub answered_ping: u64,
    /// Server RSS per session, bytes.
    pub rss_per_session: f64,
    /// Server heap per session, bytes (in memory: the server's share, pipes excluded).
    pub heap_per_session: Option<f64>,
    /// Registry `get` latency under max-rate insert/remove churn (worst node).
    pub lookup: Option<Tail>,
    /// `ping` round trip on the sampled sessions.
    pub ping: Tail,
}

/// One growth fit: `ln(B₂/B₁)/ln(N₂/N₁)` of a memory series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthFit {
    /// The series.
    pub series: String,
    /// The exponent (1: linear).
    pub exponent: f64,
    /// `linear`, `sub-linear` or `super-linear`.
    pub verdict: String,
}

/// The bundle's `scale` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleSection {
    /// When the harness wrote its report.
    pub generated_at: String,
    /// The harness's command line.
    pub command: Vec<String>,
    /// The commit the harness ran at.
    pub git_commit: Option<String>,
    /// Seconds the run took.
    pub elapsed_secs: f64,
    /// In memory, one process, at the largest step.
    pub in_memory: Option<ScaleStep>,
    /// Loopback TCP, one server process, at the largest step.
    pub tcp_one_process: Option<ScaleStep>,
    /// Loopback TCP, several server processes, at the largest step.
    pub tcp_several_processes: Option<ScaleStep>,
    /// Growth of memory with sessions, per series.
    pub growth: Vec<GrowthFit>,
    /// The goals checked against the figures (the harness's `goals` object).
    pub goals: Value,
    /// Session limits derived from the figures (the harness's `recommendation` object).
    pub recommendation: Value,
    /// The full report and the graph, relative to the repository root.
    pub files: ScaleFiles,
}

/// Where the harness's own outputs were copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleFiles {
    /// The harness's full JSON report.
    pub json: String,
    /// Memory per session and p99 against sessions.
    pub png: String,
}

fn field<'a>(v: &'a Value, path: &'static str) -> Result<&'a Value, EvidenceError> {
    path.split('.')
        .try_fold(v, |v, key| v.get(key))
        .ok_or(EvidenceError::Report { field: path })
}

fn u64_at(v: &Value, path: &'static str) -> Result<u64, EvidenceError> {
    field(v, path)?
        .as_u64()
        .ok_or(EvidenceError::Report { field: path })
}

fn f64_at(v: &Value, path: &'static str) -> Result<f64, EvidenceError> {
    field(v, path)?
        .as_f64()
        .ok_or(EvidenceError::Report { field: path })
}

fn tail(v: &Value) -> Result<Tail, EvidenceError> {
    Ok(Tail {
        samples: u64_at(v, "samples")?,
        p50_ns: u64_at(v, "p50_ns")?,
        p99_ns: u64_at(v, "p99_ns")?,
        p999_ns: u64_at(v, "p999_ns")?,
    })
}

/// The last step of `run` (`null`/absent: the series was not run).
fn last_step(
    report: &Value,
    run: &'static str,
    in_memory: bool,
) -> Result<Option<ScaleStep>, EvidenceError> {
    let Some(run_value) = report.get(run).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let step = field(run_value, "steps")?
        .as_array()
        .and_then(|steps| steps.last())
        .ok_or(EvidenceError::Report { field: "steps" })?;
    let heap_key = if in_memory {
        "server_heap_per_session"
    } else {
        "heap_per_session"
    };
    let lookup = match step.get("lookup").filter(|v| !v.is_null()) {
        Some(churn) => Some(tail(field(churn, "lookup")?)?),
        None => None,
    };
    Ok(Some(ScaleStep {
        sessions: u64_at(step, "sessions")?,
        answered_ping: u64_at(step, "answered_ping")?,
        rss_per_session: f64_at(step, "rss_per_session")?,
        heap_per_session: step.get(heap_key).and_then(Value::as_f64),
        lookup,
        ping: tail(field(step, "ping")?)?,
    }))
}

impl ScaleSection {
    /// Reads the harness's report (`scale.json`) into the section; `files` names where
    /// the report and its PNG were copied.
    pub fn from_report(report: &Value, files: ScaleFiles) -> Result<Self, EvidenceError> {
        let command = field(report, "command")?
            .as_array()
            .ok_or(EvidenceError::Report { field: "command" })?
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let growth = field(report, "growth")?
            .as_array()
            .ok_or(EvidenceError::Report { field: "growth" })?
            .iter()
            .map(|g| {
                Ok(GrowthFit {
                    series: field(g, "series")?.as_str().unwrap_or_default().to_owned(),
                    exponent: f64_at(g, "exponent")?,
                    verdict: field(g, "verdict")?.as_str().unwrap_or_default().to_owned(),
                })
            })
            .collect::<Result<_, EvidenceError>>()?;
        let section = ScaleSection {
            generated_at: field(report, "generated_at")?
                .as_str()
                .ok_or(EvidenceError::Report {
                    field: "generated_at",
                })?
                .to_owned(),
            command,
            git_commit: report
                .get("git_commit")
                .and_then(Value::as_str)
                .map(str::to_owned),
            elapsed_secs: f64_at(report, "elapsed_secs")?,
            in_memory: last_step(report, "in_memory", true)?,
            tcp_one_process: last_step(report, "tcp_single", false)?,
            tcp_several_processes: last_step(report, "tcp_multi", false)?,
            growth,
            goals: field(report, "goals")?.clone(),
            recommendation: field(report, "recommendation")?.clone(),
            files,
        };
        if section.in_memory.is_none() && section.tcp_one_process.is_none() {
            return Err(EvidenceError::Report {
                field: "in_memory or tcp_single",
            });
        }
        Ok(section)
    }
}
