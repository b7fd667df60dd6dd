//! The lifecycle soak's figures: the bundle's `lifecycle` section.
//!
//! The soak (`crates/erlmcp-protocol/tests/leaks.rs`) runs subscribe/unsubscribe cycles
//! on one session and connect/disconnect cycles of whole sessions against one server, and
//! writes what it saw to the file named by `ERLMCP_LIFECYCLE_EVIDENCE`: the server's
//! introspection totals (sessions, subscriptions, in-flight requests, pending outbound
//! requests, tasks, queued messages) before and after, the handler (subscription) counts
//! and the process RSS at each stage. [`LifecycleRecord::parse`] reads that file for the
//! bundle and refuses one that is incomplete or inconsistent, so a changed soak cannot
//! slip a half-filled section into the evidence.

use serde::{Deserialize, Serialize};

use crate::error::EvidenceError;

/// The server's introspection totals at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionTotals {
    /// Live sessions.
    pub sessions: u64,
    /// Resource subscriptions (one notification handler each).
    pub subscriptions: u64,
    /// Inbound requests being handled.
    pub in_flight: u64,
    /// Outbound requests waiting for answers.
    pub pending_outbound: u64,
    /// Tasks held.
    pub tasks: u64,
    /// Messages queued for peers.
    pub queued_messages: u64,
    /// Entries in the server's session registry.
    pub registry_entries: u64,
    /// Resource URIs with at least one subscribed session (fan-out groups).
    pub subscribed_uris: u64,
}

/// Cycles the soak ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoakCycles {
    /// `resources/subscribe` + `resources/unsubscribe` pairs on one session.
    pub subscribe_unsubscribe: u64,
    /// Sessions connected, subscribed once and disconnected.
    pub connect_disconnect: u64,
}

/// A figure at each stage of the soak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stages {
    /// Before the cycles (after a warm-up).
    pub before: u64,
    /// After the subscribe/unsubscribe cycles.
    pub after_subscribe_cycles: u64,
    /// After the connect/disconnect cycles (and every session gone).
    pub after_connect_cycles: u64,
}

/// The soak's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleRecord {
    /// Cycles run.
    pub cycles: SoakCycles,
    /// Live notification handlers (subscriptions) at each stage.
    pub handlers: Stages,
    /// Process RSS at each stage, KiB.
    pub rss_kib: Stages,
    /// RSS after the connect cycles minus before, KiB (0 if it shrank).
    pub rss_growth_kib: u64,
    /// The bound the soak held RSS growth to, KiB.
    pub rss_growth_bound_kib: u64,
    /// Introspection totals before the cycles (the soak's own session live).
    pub introspection_before: IntrospectionTotals,
    /// Introspection totals after every session ended.
    pub introspection_after: IntrospectionTotals,
}

/// Why a lifecycle record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("inconsistent lifecycle record: {0}")]
pub struct Inconsistent(pub String);

impl LifecycleRecord {
    /// Reads the soak's JSON and checks it is whole and consistent: cycles ran, the growth
    /// figure matches the RSS stages, and introspection agrees with the handler counts.
    pub fn parse(json: &[u8]) -> Result<Self, EvidenceError> {
        let record: LifecycleRecord = serde_json::from_slice(json)?;
        record.check()?;
        Ok(record)
    }

    fn check(&self) -> Result<(), Inconsistent> {
        if self.cycles.subscribe_unsubscribe == 0 || self.cycles.connect_disconnect == 0 {
            return Err(Inconsistent("no cycles ran".to_owned()));
        }
        let growth = self
            .rss_kib
            .after_connect_cycles
            .saturating_sub(self.rss_kib.before);
        if growth != self.rss_growth_kib {
            return Err(Inconsistent(format!(
                "rss_growth_kib {} but the stages say {growth}",
                self.rss_growth_kib
            )));
        }
        if self.rss_kib.before == 0 {
            return Err(Inconsistent("RSS was not sampled".to_owned()));
        }
        if self.introspection_before.subscriptions != self.handlers.before
            || self.introspection_after.subscriptions != self.handlers.after_connect_cycles
        {
            return Err(Inconsistent(
                "handler counts disagree with the introspection totals".to_owned(),
            ));
        }
        Ok(())
    }

    /// True when the soak left nothing behind and RSS stayed within its bound.
    pub fn is_flat(&self) -> bool {
        self.introspection_after == IntrospectionTotals::default()
            && self.handlers.after_subscribe_cycles == self.handlers.before
            && self.rss_growth_kib <= self.rss_growth_bound_kib
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn sample() -> Value {
        json!({
            "cycles": {"subscribe_unsubscribe": 10000, "connect_disconnect": 10000},
            "handlers": {"before": 0, "after_subscribe_cycles": 0, "after_connect_cycles": 0},
            "rss_kib": {"before": 12000, "after_subscribe_cycles": 12100, "after_connect_cycles": 12500},
            "rss_growth_kib": 500,
            "rss_growth_bound_kib": 16384,
            "introspection_before": {"sessions": 1, "subscriptions": 0, "in_flight": 0,
                "pending_outbound": 0, "tasks": 0, "queued_messages": 0,
                "registry_entries": 1, "subscribed_uris": 0},
            "introspection_after": {"sessions": 0, "subscriptions": 0, "in_flight": 0,
                "pending_outbound": 0, "tasks": 0, "queued_messages": 0,
                "registry_entries": 0, "subscribed_uris": 0}
        })
    }

    fn parse(value: &Value) -> Result<LifecycleRecord, EvidenceError> {
        LifecycleRecord::parse(&serde_json::to_vec(value).unwrap())
    }

    #[test]
    fn a_whole_record_parses_and_round_trips() {
        let record = parse(&sample()).unwrap();
        assert_eq!(record.cycles.connect_disconnect, 10_000);
        assert_eq!(record.rss_kib.after_connect_cycles, 12_500);
        assert_eq!(record.introspection_before.sessions, 1);
        assert!(record.is_flat());
        assert_eq!(serde_json::to_value(&record).unwrap(), sample());
    }

    #[test]
    fn missing_or_unknown_fields_are_refused() {
        let mut missing = sample();
        missing
            .as_object_mut()
            .unwrap()
            .remove("introspection_after");
        assert!(matches!(parse(&missing), Err(EvidenceError::Json(_))));
        let mut unknown = sample();
        unknown["rss_kib"]["peak"] = json!(1);
        assert!(matches!(parse(&unknown), Err(EvidenceError::Json(_))));
        assert!(matches!(
            LifecycleRecord::parse(b"not json"),
            Err(EvidenceError::Json(_))
        ));
    }

    /// Spoils one part of a good record.
    type Spoil = fn(&mut Value);

    #[test]
    fn inconsistent_records_are_refused() {
        let cases: [(&str, Spoil); 4] = [
            ("no cycles", |v| {
                v["cycles"]["connect_disconnect"] = json!(0)
            }),
            ("growth", |v| v["rss_growth_kib"] = json!(1)),
            ("rss", |v| {
                v["rss_kib"] =
                    json!({"before": 0, "after_subscribe_cycles": 0, "after_connect_cycles": 0});
                v["rss_growth_kib"] = json!(0);
            }),
            ("handlers", |v| {
                v["handlers"]["after_connect_cycles"] = json!(3)
            }),
        ];
        for (what, spoil) in cases {
            let mut value = sample();
            spoil(&mut value);
            assert!(
                matches!(parse(&value), Err(EvidenceError::Lifecycle(_))),
                "{what}"
            );
        }
    }

    #[test]
    fn leftovers_or_growth_make_it_not_flat() {
        let mut leftover = sample();
        leftover["introspection_after"]["tasks"] = json!(2);
        assert!(!parse(&leftover).unwrap().is_flat());
        let mut grown = sample();
        grown["rss_growth_bound_kib"] = json!(100);
        assert!(!parse(&grown).unwrap().is_flat());
    }
}
