//! Throughput records: one per load scenario, and the CSV table they make.

use serde::{Deserialize, Serialize};

use crate::latency::LatencyRecord;

/// What one load scenario measured.
///
/// `server` says who answered: `"erlmcp"` for the server under test, `"ceiling"` for the
/// harness's own peer that does no JSON work (the upper bound the transport allows on this
/// machine). An erlmcp record carries the ceiling measured in the same run for the same
/// scenario, transport, payload and in-flight count, and the ratio between the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThroughputRecord {
    /// The scenario: `"round_trip"` (pipelined `tools/call echo`) or `"one_way"`
    /// (notifications followed by one `ping`).
    pub scenario: String,
    /// Who answered: `"erlmcp"` or `"ceiling"`.
    pub server: String,
    /// The transport: `"stdio"` or `"tcp"`.
    pub transport: String,
    /// Size of each request line in bytes, newline excluded.
    pub payload_bytes: usize,
    /// Requests kept in flight (the pipelining window); `None` for one-way streams, which
    /// are not windowed.
    pub in_flight: Option<usize>,
    /// Messages completed: round trips answered, or one-way messages processed.
    pub messages: u64,
    /// Wall-clock seconds from the first message sent to the last answer received.
    pub seconds: f64,
    /// `messages / seconds`.
    pub msgs_per_sec: f64,
    /// Round-trip latency; `None` for one-way scenarios.
    pub latency: Option<LatencyRecord>,
    /// The ceiling peer's msgs/s for the same scenario in the same run.
    pub ceiling_msgs_per_sec: Option<f64>,
    /// `msgs_per_sec / ceiling_msgs_per_sec`.
    pub ratio_to_ceiling: Option<f64>,
}

impl ThroughputRecord {
    /// A record without latency or ceiling; `msgs_per_sec` is computed (0 when `seconds`
    /// is not positive).
    pub fn new(
        scenario: impl Into<String>,
        server: impl Into<String>,
        transport: impl Into<String>,
        payload_bytes: usize,
        in_flight: Option<usize>,
        messages: u64,
        seconds: f64,
    ) -> Self {
        let msgs_per_sec = if seconds > 0.0 {
            messages as f64 / seconds
        } else {
            0.0
        };
        ThroughputRecord {
            scenario: scenario.into(),
            server: server.into(),
            transport: transport.into(),
            payload_bytes,
            in_flight,
            messages,
            seconds,
            msgs_per_sec,
            latency: None,
            ceiling_msgs_per_sec: None,
            ratio_to_ceiling: None,
        }
    }

    /// Records the ceiling for this scenario and the ratio to it (no ratio when the
    /// ceiling is not positive).
    pub fn set_ceiling(&mut self, ceiling_msgs_per_sec: f64) {
        self.ceiling_msgs_per_sec = Some(ceiling_msgs_per_sec);
        self.ratio_to_ceiling =
            (ceiling_msgs_per_sec > 0.0).then(|| self.msgs_per_sec / ceiling_msgs_per_sec);
    }

    /// Whether `other` measured the same load (scenario, transport, payload, in-flight),
    /// whoever answered it.
    pub fn same_load(&self, other: &ThroughputRecord) -> bool {
        self.scenario == other.scenario
            && self.transport == other.transport
            && self.payload_bytes == other.payload_bytes
            && self.in_flight == other.in_flight
    }
}

/// The CSV header written by [`to_csv`].
pub const CSV_HEADER: &str = "scenario,server,transport,payload_bytes,in_flight,messages,seconds,\
msgs_per_sec,p50_us,p90_us,p99_us,p99_9_us,max_us,ceiling_msgs_per_sec,ratio_to_ceiling";

/// The throughput table as CSV (RFC 4180, `\n` line ends): a header, then one row per
/// record. Absent values are empty cells.
pub fn to_csv(records: &[ThroughputRecord]) -> String {
    let mut out = String::with_capacity(128 * (records.len() + 1));
    out.push_str(CSV_HEADER);
    out.push('\n');
    for r in records {
        let lat = r.latency.as_ref();
        let cells = [
            csv_text(&r.scenario),
            csv_text(&r.server),
            csv_text(&r.transport),
            r.payload_bytes.to_string(),
            opt(r.in_flight),
            r.messages.to_string(),
            format!("{:.6}", r.seconds),
            format!("{:.1}", r.msgs_per_sec),
            opt(lat.map(|l| l.p50)),
            opt(lat.map(|l| l.p90)),
            opt(lat.map(|l| l.p99)),
            opt(lat.map(|l| l.p99_9)),
            opt(lat.map(|l| l.max)),
            r.ceiling_msgs_per_sec
                .map(|c| format!("{c:.1}"))
                .unwrap_or_default(),
            r.ratio_to_ceiling
                .map(|c| format!("{c:.4}"))
                .unwrap_or_default(),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Quotes a cell when it holds a comma, quote or line break.
fn csv_text(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_ratio() {
        let mut r = ThroughputRecord::new("round_trip", "erlmcp", "tcp", 4096, Some(64), 1000, 0.5);
        assert_eq!(r.msgs_per_sec, 2000.0);
        r.set_ceiling(4000.0);
        assert_eq!(r.ratio_to_ceiling, Some(0.5));
        r.set_ceiling(0.0);
        assert_eq!(r.ratio_to_ceiling, None);
        let zero = ThroughputRecord::new("one_way", "ceiling", "tcp", 4096, None, 10, 0.0);
        assert_eq!(zero.msgs_per_sec, 0.0);
    }

    #[test]
    fn csv_rows_and_quoting() {
        let r = ThroughputRecord::new("a,\"b\"", "erlmcp", "stdio", 10, None, 5, 1.0);
        let csv = to_csv(&[r]);
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some(CSV_HEADER));
        assert_eq!(
            lines.next(),
            Some("\"a,\"\"b\"\"\",erlmcp,stdio,10,,5,1.000000,5.0,,,,,,,")
        );
        assert_eq!(lines.next(), None);
        let plain = to_csv(&[ThroughputRecord::new("x", "y", "z", 1, Some(1), 1, 1.0)]);
        let row = plain.lines().nth(1).unwrap_or_default();
        assert_eq!(row.split(',').count(), CSV_HEADER.split(',').count());
    }
}
