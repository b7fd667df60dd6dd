//! What the operating system says about this process and this machine: resident memory,
//! kernel socket memory, the open-files limit, load, cores.

use std::time::SystemTime;

use serde::Serialize;

/// Resident memory of one process, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Rss {
    /// `VmRSS`: everything resident.
    pub rss_bytes: u64,
    /// `RssAnon`: resident anonymous memory (heap, stacks): what sessions cost.
    pub anon_bytes: u64,
    /// `VmHWM`: the peak of `VmRSS`.
    pub peak_bytes: u64,
}

fn status_kib(text: &str, field: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0)
        * 1024
}

/// The resident memory of process `pid` (zeros if it cannot be read).
pub fn rss_of(pid: u32) -> Rss {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    Rss {
        rss_bytes: status_kib(&text, "VmRSS:"),
        anon_bytes: status_kib(&text, "RssAnon:"),
        peak_bytes: status_kib(&text, "VmHWM:"),
    }
}

/// This process's resident memory.
pub fn rss() -> Rss {
    rss_of(std::process::id())
}

/// Kernel TCP socket figures from `/proc/net/sockstat`: sockets in use and the pages the
/// kernel holds for their buffers (not part of any process's RSS).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SockStat {
    /// TCP sockets in use.
    pub tcp_inuse: u64,
    /// TCP sockets in TIME_WAIT.
    pub tcp_tw: u64,
    /// Kernel memory for TCP buffers, in bytes.
    pub tcp_mem_bytes: u64,
}

/// Reads `/proc/net/sockstat`.
pub fn sockstat() -> SockStat {
    let text = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    let mut out = SockStat::default();
    if let Some(line) = text.lines().find(|l| l.starts_with("TCP:")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words[1..].chunks(2) {
            if let [name, value] = pair {
                let v = value.parse::<u64>().unwrap_or(0);
                match *name {
                    "inuse" => out.tcp_inuse = v,
                    "tw" => out.tcp_tw = v,
                    "mem" => out.tcp_mem_bytes = v * 4096,
                    _ => {}
                }
            }
        }
    }
    out
}

/// Raises the soft open-files limit to the hard limit; returns `(soft, hard)` after.
pub fn raise_nofile() -> (u64, u64) {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap_or((0, 0))
}

/// The 1-minute load average.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Facts about the machine the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Cores this process may use.
    pub cores: usize,
    /// Physical memory.
    pub mem_total_bytes: u64,
    /// The kernel (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// Open-files limit (soft, hard) after raising the soft one.
    pub nofile: (u64, u64),
    /// `net.ipv4.ip_local_port_range`.
    pub ephemeral_ports: String,
    /// 1-minute load average when the run started (other work on the machine).
    pub loadavg_at_start: f64,
}

/// Describes this machine (raising the open-files limit on the way).
pub fn machine() -> Machine {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        mem_total_bytes: status_kib(&meminfo, "MemTotal:"),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        nofile: raise_nofile(),
        ephemeral_ports: std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-"),
        loadavg_at_start: loadavg(),
    }
}

/// Now, as an RFC 3339 UTC timestamp.
pub fn now_rfc3339() -> String {
    erlmcp_evidence::rfc3339_utc(SystemTime::now())
}
