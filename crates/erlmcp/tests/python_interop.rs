//! Interop: the official MCP Python SDK (`mcp` 2.x, pinned in `requirements-dev.txt`)
//! drives the erlmcp demo server (`erlmcp serve --stdio`) over stdio.
//!
//! `tests/interop/python_client.py` does the driving and checking; it ends with a JSON
//! summary on stdout. Both of the SDK's connect modes are covered: `legacy` (the
//! `initialize` handshake, 2025-11-25) and `auto` (the SDK default, which probes
//! `server/discover` first: erlmcp answers it, so the SDK lands on the stateless era,
//! 2026-07-28, and calls tools, reads resources, gets prompts, listens for updates and
//! answers sampling/elicitation/roots as input-required rounds).
//!
//! The interpreter is `$ERLMCP_PYTHON` (set by `cargo xtask regression`), else
//! `<workspace>/target/pyenv/bin/python`. A missing interpreter or SDK fails the test:
//! a skipped interop test would hide exactly the regressions it exists to catch.
//! Set `ERLMCP_INTEROP_WIRE=1` to log every JSON-RPC line of the run to stderr.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Kill the Python client (and with it the server) after this long.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Checks every run must report as passed; a script that silently stopped checking
/// something fails here.
const REQUIRED_CHECKS: &[&str] = &[
    "sdk_version",
    "connect",
    "handshake.protocol_version",
    "handshake.server_info",
    "handshake.capabilities",
    "handshake.instructions",
    "tools.list",
    "tools.add_output_schema",
    "tools.echo",
    "tools.add_structured",
    "tools.fail_is_error",
    "tools.panic_is_mcp_error",
    "tools.panic_error_code",
    "tools.session_survives_panic",
    "resources.list",
    "resources.read_readme",
    "resources.read_blob",
    "resources.read_template",
    "resources.templates_list",
    "prompts.list",
    "prompts.greet_arguments",
    "prompts.get_greet",
    "prompts.get_embedded_resource",
    "completion.prompt_argument",
    "completion.template_argument",
    "subscription.subscribe",
    "subscription.bump",
    "subscription.updated_notification",
    "subscription.counter_incremented",
    "subscription.unsubscribe",
    "progress.result",
    "progress.notifications",
    "logging.tool",
    "logging.notification",
    "sampling.round_trip",
    "sampling.request_params",
    "elicitation.round_trip",
    "elicitation.request_params",
    "roots.round_trip",
    "errors.unknown_tool",
    "errors.unknown_resource",
    "errors.missing_prompt_argument",
    "cancellation.timeout",
    "cancellation.session_usable",
    "no_sdk_warnings",
    "no_transport_errors",
];

fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn install_hint() -> String {
    format!(
        "create it with `cargo xtask regression`, or by hand from the workspace root ({}):\n  \
         python3 -m venv target/pyenv && target/pyenv/bin/pip install -r requirements-dev.txt\n\
         or point ERLMCP_PYTHON at an interpreter that has `mcp==2.3.0` installed",
        workspace_root().display()
    )
}

/// The interpreter to run the SDK with; panics (never skips) when there is none.
fn python() -> PathBuf {
    let python = match std::env::var_os("ERLMCP_PYTHON") {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            assert!(
                path.exists(),
                "ERLMCP_PYTHON={} does not exist; {}",
                path.display(),
                install_hint()
            );
            path
        }
        _ => {
            let venv = workspace_root().join("target/pyenv/bin/python");
            assert!(
                venv.exists(),
                "no Python for the MCP SDK interop test: ERLMCP_PYTHON is unset and {} \
                 does not exist; {}",
                venv.display(),
                install_hint()
            );
            venv
        }
    };
    let probe = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata, mcp; print(importlib.metadata.version('mcp'))",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {}", python.display(), install_hint()));
    assert!(
        probe.status.success(),
        "`import mcp` fails with {}:\n{}\n{}",
        python.display(),
        String::from_utf8_lossy(&probe.stderr),
        install_hint()
    );
    eprintln!(
        "python interop: {} with mcp {}",
        python.display(),
        String::from_utf8_lossy(&probe.stdout).trim()
    );
    python
}

struct Run {
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs the Python client against `erlmcp serve --stdio`; `status` is `None` on timeout.
fn run_client(mode: &str) -> Run {
    let python = python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/python_client.py");
    let mut command = Command::new(&python);
    command.arg(&script).args(["--mode", mode]);
    if std::env::var_os("ERLMCP_INTEROP_WIRE").is_some_and(|v| !v.is_empty() && v != "0") {
        command.arg("--wire-trace");
    }
    command
        .arg("--")
        .args([env!("CARGO_BIN_EXE_erlmcp"), "serve", "--stdio"])
        .env("PYTHONUNBUFFERED", "1")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {} {}: {e}", python.display(), script.display()));
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the python client") {
            break Some(status);
        }
        if started.elapsed() > RUN_TIMEOUT {
            // The server is the client's child on a pipe: it sees EOF and exits too.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    Run {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

fn interop(mode: &str) {
    let run = run_client(mode);
    let report = |problem: &str| -> String {
        format!(
            "python interop ({mode} mode): {problem}\n\
             (rerun with ERLMCP_INTEROP_WIRE=1 to log every JSON-RPC line)\n\
             ---- client stdout ----\n{}\n---- client + server stderr ----\n{}",
            run.stdout, run.stderr
        )
    };
    let Some(status) = run.status else {
        panic!(
            "{}",
            report(&format!(
                "killed after {}s without finishing",
                RUN_TIMEOUT.as_secs()
            ))
        );
    };
    let summary_line = run.stdout.lines().rev().find(|l| l.starts_with('{'));
    let summary: Value = match summary_line.map(serde_json::from_str) {
        Some(Ok(summary)) => summary,
        Some(Err(e)) => panic!("{}", report(&format!("summary is not JSON: {e}"))),
        None => panic!("{}", report(&format!("no JSON summary ({status})"))),
    };
    let checks = summary["checks"].as_array().cloned().unwrap_or_default();
    let failed: Vec<&Value> = checks
        .iter()
        .filter(|c| c["ok"] != Value::Bool(true))
        .collect();
    assert!(
        failed.is_empty(),
        "{}",
        report(&format!(
            "{} check(s) failed: {}",
            failed.len(),
            serde_json::to_string_pretty(&failed).unwrap_or_default()
        ))
    );
    let passed: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    let era_checks: &[&str] = match mode {
        "legacy" => &[
            "handshake.via_initialize",
            "handshake.no_discover_probe",
            "ping",
        ],
        _ => &[
            "handshake.via_discover",
            "handshake.discover_probe_answered",
        ],
    };
    let missing: Vec<&&str> = REQUIRED_CHECKS
        .iter()
        .chain(era_checks)
        .filter(|name| !passed.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "{}",
        report(&format!("checks missing from the summary: {missing:?}"))
    );
    assert!(
        summary["ok"] == Value::Bool(true),
        "{}",
        report("summary does not say ok")
    );
    assert!(
        status.success(),
        "{}",
        report(&format!("client exited with {status}"))
    );
    eprintln!(
        "python interop ({mode} mode): {} checks passed in {:.1}s with mcp {}",
        checks.len(),
        run.elapsed.as_secs_f64(),
        summary["sdk_version"].as_str().unwrap_or("?")
    );
}

/// `Client(mode="legacy")`: the SDK goes straight to the `initialize` handshake.
#[test]
fn python_sdk_legacy_mode_drives_demo_server() {
    interop("legacy");
}

/// `Client(mode="auto")`, the SDK default: it probes `server/discover` first, erlmcp
/// answers it, and the SDK speaks 2026-07-28 (per-request `_meta`, no handshake).
#[test]
fn python_sdk_auto_mode_drives_demo_server() {
    interop("auto");
}
