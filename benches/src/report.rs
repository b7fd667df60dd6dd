//! The human summary table.

use std::fmt::Write;

use erlmcp_evidence::ThroughputRecord;

/// Formats records as an aligned table: one row per record, latency in µs, and the ratio
/// to the ceiling where there is one.
pub fn table(records: &[ThroughputRecord]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<6} {:<10} {:>8} {:<8} {:>9} {:>7} {:>11} {:>8} {:>8} {:>8} {:>9}",
        "transp",
        "scenario",
        "inflight",
        "server",
        "messages",
        "secs",
        "msgs/s",
        "p50us",
        "p99us",
        "p99.9us",
        "vs ceil"
    );
    for r in records {
        let lat = r.latency.as_ref();
        let cell = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        let _ = writeln!(
            out,
            "{:<6} {:<10} {:>8} {:<8} {:>9} {:>7.2} {:>11.0} {:>8} {:>8} {:>8} {:>9}",
            r.transport,
            r.scenario,
            r.in_flight
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            r.server,
            r.messages,
            r.seconds,
            r.msgs_per_sec,
            cell(lat.map(|l| l.p50)),
            cell(lat.map(|l| l.p99)),
            cell(lat.map(|l| l.p99_9)),
            r.ratio_to_ceiling
                .map_or_else(|| "-".to_owned(), |x| format!("{:.1}%", x * 100.0)),
        );
    }
    out
}
