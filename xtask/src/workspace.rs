//! Where things are, and running commands.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context, bail};

/// The workspace xtask belongs to.
pub struct Workspace {
    /// The directory of the top-level Cargo.toml.
    pub root: PathBuf,
    /// Cargo's target directory (honours CARGO_TARGET_DIR).
    pub target_dir: PathBuf,
    /// Workspace package names by package id.
    pub package_names: HashMap<String, String>,
}

impl Workspace {
    /// The workspace is xtask's parent directory; the target directory comes from
    /// `cargo metadata`.
    pub fn locate() -> anyhow::Result<Workspace> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask has no parent directory")?
            .to_path_buf();
        let metadata = cargo_metadata::MetadataCommand::new()
            .manifest_path(root.join("Cargo.toml"))
            .no_deps()
            .exec()
            .context("cargo metadata")?;
        let package_names = metadata
            .packages
            .iter()
            .map(|p| (p.id.repr.clone(), p.name.to_string()))
            .collect();
        Ok(Workspace {
            root,
            target_dir: metadata.target_directory.into_std_path_buf(),
            package_names,
        })
    }

    /// `evidence/` — the committed artefacts.
    pub fn evidence_dir(&self) -> PathBuf {
        self.root.join("evidence")
    }

    /// `evidence/out/` — gitignored scratch output.
    pub fn out_dir(&self) -> PathBuf {
        self.evidence_dir().join("out")
    }

    /// A `cargo` command (the same cargo that runs xtask) in the workspace root.
    pub fn cargo(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command.current_dir(&self.root);
        command
    }
}

/// Runs a command with inherited stdio, echoing it first; fails on a non-zero exit.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = status(command)?;
    if !status.success() {
        bail!("{} failed ({status})", describe(command));
    }
    Ok(())
}

/// Runs a command with inherited stdio, echoing it first, and returns its exit status.
pub fn status(command: &mut Command) -> anyhow::Result<ExitStatus> {
    eprintln!("$ {}", describe(command));
    command
        .status()
        .with_context(|| format!("start {}", describe(command)))
}

/// Runs a command with stdout and stderr merged into one pipe (so their order is kept),
/// passes every line through to our stdout, and hands each to `on_line`.
pub fn run_tee(command: &mut Command, on_line: impl FnMut(&str)) -> anyhow::Result<ExitStatus> {
    run_tee_filtered(command, |_| true, on_line)
}

/// As [`run_tee`], but only lines for which `show` is true are passed through (all of
/// them still reach `on_line`).
pub fn run_tee_filtered(
    command: &mut Command,
    show: impl Fn(&str) -> bool,
    mut on_line: impl FnMut(&str),
) -> anyhow::Result<ExitStatus> {
    eprintln!("$ {}", describe(command));
    let (reader, writer) = std::io::pipe().context("create pipe")?;
    command
        .stdout(Stdio::from(writer.try_clone()?))
        .stderr(Stdio::from(writer));
    let mut child = command
        .spawn()
        .with_context(|| format!("start {}", describe(command)))?;
    // Drop the Command's copies of the write end, or the pipe never reaches end of file.
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let mut reader = BufReader::new(reader);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        if reader.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\n', '\r']);
        if show(line) {
            println!("{line}");
        }
        on_line(line);
    }
    Ok(child.wait()?)
}

/// `program arg arg …` for messages.
pub fn describe(command: &Command) -> String {
    let mut s = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}
