//! One scenario end to end: start the server, handshake, load, stop, record.

use std::fmt;
use std::time::Duration;

use anyhow::Context;
use erlmcp_evidence::{LatencyRecord, ThroughputRecord};

use crate::driver::LoadConfig;
use crate::spawn::{Session, Target, Transport};

/// What load to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Pipelined `tools/call echo` round trips with this many in flight.
    RoundTrip {
        /// The pipelining window.
        in_flight: usize,
    },
    /// Notifications back to back, closed by a `ping`.
    OneWay,
}

impl Scenario {
    /// The scenario's name in records: `round_trip` or `one_way`.
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::RoundTrip { .. } => "round_trip",
            Scenario::OneWay => "one_way",
        }
    }

    /// The in-flight window, if the scenario has one.
    pub fn in_flight(&self) -> Option<usize> {
        match self {
            Scenario::RoundTrip { in_flight } => Some(*in_flight),
            Scenario::OneWay => None,
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scenario::RoundTrip { in_flight } => write!(f, "round_trip x{in_flight}"),
            Scenario::OneWay => f.write_str("one_way"),
        }
    }
}

/// Run-wide settings.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The load per scenario.
    pub load: LoadConfig,
    /// How long a TCP server may take to accept its first connection.
    pub connect_timeout: Duration,
}

/// Starts `target` on `transport`, runs `scenario`, stops the server, and returns the
/// record (without ceiling figures; the caller pairs records).
pub fn run(
    target: &Target,
    transport: Transport,
    scenario: Scenario,
    config: &RunConfig,
) -> anyhow::Result<ThroughputRecord> {
    let load = &config.load;
    let limit =
        config.connect_timeout + load.duration + load.drain_timeout + Duration::from_secs(10);
    let (session, mut connection) =
        Session::start(target, transport, config.connect_timeout, limit)
            .with_context(|| format!("{} over {transport}", target.label))?;
    let measured = connection.handshake().and_then(|()| match scenario {
        Scenario::RoundTrip { in_flight } => connection.round_trip(load, in_flight, target.echoes),
        Scenario::OneWay => connection.one_way(load),
    });
    let measurement = match measured {
        Ok(m) => m,
        Err(e) => {
            let e = session
                .with_stderr(e)
                .context(format!("{} {scenario} over {transport}", target.label));
            return Err(e);
        }
    };
    session.finish()?;
    let mut record = ThroughputRecord::new(
        scenario.name(),
        target.label.clone(),
        transport.to_string(),
        load.payload,
        scenario.in_flight(),
        measurement.messages,
        measurement.elapsed.as_secs_f64(),
    );
    record.latency = measurement
        .latency
        .as_ref()
        .map(LatencyRecord::from_histogram);
    Ok(record)
}
