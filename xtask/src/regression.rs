//! `cargo xtask regression`: the project's test command.
//!
//! Interop tests drive erlmcp with the official MCP Python SDK, so first a virtual
//! environment at `target/pyenv` gets the packages pinned in `requirements-dev.txt`. The
//! venv remembers the requirements it was built from, so when nothing changed this step
//! costs one file comparison. Then `cargo test --workspace` runs with `ERLMCP_PYTHON` set
//! to the venv's interpreter; its output streams through unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::workspace::{self, Workspace};

/// The file inside the venv recording which requirements it was built from.
const STAMP: &str = ".erlmcp-requirements";

/// Ensures the venv, then runs `cargo test --workspace <cargo_args>`.
pub fn run(ws: &Workspace, cargo_args: &[String]) -> anyhow::Result<()> {
    let python = ensure_venv(ws)?;
    let mut command = test_command(ws, &python);
    command.args(cargo_args);
    let status = workspace::status(&mut command)?;
    if !status.success() {
        bail!("tests failed ({status})");
    }
    Ok(())
}

/// `cargo test --workspace` with `ERLMCP_PYTHON` set.
pub fn test_command(ws: &Workspace, python: &Path) -> Command {
    let mut command = ws.cargo();
    command
        .args(["test", "--workspace"])
        .env("ERLMCP_PYTHON", python);
    command
}

/// Creates or refreshes `target/pyenv` from `requirements-dev.txt`; returns the absolute
/// path of its `python`.
pub fn ensure_venv(ws: &Workspace) -> anyhow::Result<PathBuf> {
    let requirements_path = ws.root.join("requirements-dev.txt");
    let requirements = std::fs::read_to_string(&requirements_path)
        .with_context(|| format!("read {}", requirements_path.display()))?;
    let venv = ws.root.join("target").join("pyenv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let bootstrap =
            std::env::var("ERLMCP_BOOTSTRAP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        std::fs::create_dir_all(ws.root.join("target"))?;
        workspace::run(Command::new(&bootstrap).arg("-m").arg("venv").arg(&venv))
            .context("create the Python venv (is python3-venv installed?)")?;
    }
    let stamp = venv.join(STAMP);
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(requirements.as_str()) {
        eprintln!("python venv {} is up to date", venv.display());
    } else {
        workspace::run(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--quiet",
                    "-r",
                ])
                .arg(&requirements_path),
        )
        .context("install requirements-dev.txt into the venv")?;
        std::fs::write(&stamp, &requirements)
            .with_context(|| format!("write {}", stamp.display()))?;
    }
    Ok(python)
}
