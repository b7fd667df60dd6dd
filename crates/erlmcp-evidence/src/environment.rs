//! Where the figures came from: machine, toolchain, commit.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::time::rfc3339_utc;

/// The machine and build a bundle's figures were measured on. Fields that could not be
/// read are `None` rather than guessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Cores available to this process (`std::thread::available_parallelism`).
    pub cores: usize,
    /// Total memory in bytes (`MemTotal` in `/proc/meminfo`).
    pub memory_bytes: Option<u64>,
    /// The CPU model (`model name` in `/proc/cpuinfo`).
    pub cpu_model: Option<String>,
    /// `rustc -V` of the toolchain the workspace selects.
    pub rustc: Option<String>,
    /// Operating system and architecture, with the distribution name when known,
    /// e.g. `linux x86_64 (Debian GNU/Linux 12 (bookworm))`.
    pub os: String,
    /// Kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: Option<String>,
    /// `git rev-parse HEAD` of the workspace.
    pub git_commit: Option<String>,
    /// Whether the work tree had uncommitted changes.
    pub git_dirty: Option<bool>,
    /// When the environment was captured, RFC 3339 UTC.
    pub timestamp: String,
    /// The JSON back end erlmcp's codec was built with (`serde_json` or `simd-json`).
    pub codec_json_backend: String,
}

impl Environment {
    /// Captures the environment. Git and `rustc` run in `workspace_root`, so the
    /// workspace's `rust-toolchain.toml` decides which `rustc` answers.
    pub fn capture(workspace_root: &Path, codec_json_backend: &str) -> Self {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
        let git_commit = run(workspace_root, "git", &["rev-parse", "HEAD"]);
        let git_dirty = git_commit.as_ref().and_then(|_| {
            run_raw(workspace_root, "git", &["status", "--porcelain"]).map(|s| !s.is_empty())
        });
        Environment {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: mem_total_bytes(&meminfo),
            cpu_model: cpu_model(&cpuinfo),
            rustc: run(workspace_root, &rustc, &["-V"]),
            os: os_description(),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            git_commit,
            git_dirty,
            timestamp: rfc3339_utc(SystemTime::now()),
            codec_json_backend: codec_json_backend.to_owned(),
        }
    }
}

/// Runs a command and returns its trimmed stdout when it succeeds and printed something.
fn run(dir: &Path, program: &str, args: &[&str]) -> Option<String> {
    run_raw(dir, program, args).filter(|s| !s.is_empty())
}

fn run_raw(dir: &Path, program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `MemTotal:       24551636 kB` → bytes.
fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line.split_whitespace().skip(1);
    let value: u64 = words.next()?.parse().ok()?;
    let scale = match words.next() {
        Some("kB") => 1024,
        None => 1,
        Some(_) => return None,
    };
    value.checked_mul(scale)
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn os_description() -> String {
    let base = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim().trim_matches('"').to_owned())
        })
        .filter(|v| !v.is_empty());
    match pretty {
        Some(p) => format!("{base} ({p})"),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meminfo_and_cpuinfo() {
        let meminfo = "MemTotal:       24551636 kB\nMemFree:        1 kB\n";
        assert_eq!(mem_total_bytes(meminfo), Some(24_551_636 * 1024));
        assert_eq!(mem_total_bytes("nothing"), None);
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
    }

    #[test]
    fn captures_this_machine() {
        let env = Environment::capture(Path::new(env!("CARGO_MANIFEST_DIR")), "serde_json");
        assert!(env.cores >= 1);
        assert!(env.os.starts_with(std::env::consts::OS));
        assert!(env.timestamp.ends_with('Z'));
        assert_eq!(env.codec_json_backend, "serde_json");
    }
}
