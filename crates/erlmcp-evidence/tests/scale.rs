//! The scale harness's report (`scale.json`, field names as `benches/src/scale/*.rs`
//! serialise them) becomes the bundle's `scale` section; a report missing what the
//! section needs is refused with the field named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use erlmcp_evidence::scale::{ScaleFiles, ScaleSection};
use erlmcp_evidence::{Bundle, Environment, EvidenceError};
use serde_json::{Value, json};

fn latency(p50: u64, p99: u64, p999: u64) -> Value {
    json!({"samples": 5000, "min_ns": 1, "p50_ns": p50, "p90_ns": p50, "p99_ns": p99,
           "p999_ns": p999, "max_ns": p999 * 2, "mean_ns": p50 as f64})
}

fn churn(p50: u64, p99: u64, p999: u64) -> Value {
    json!({"seconds": 2.0, "entries": 100000, "lookups": 1000000, "misses": 0,
           "lookup": latency(p50, p99, p999), "probe": latency(p50 / 2, p99 / 2, p999 / 2),
           "registry_reported": latency(p50, p99, p999), "churn_ops": 10, "churn_ops_per_sec": 5.0,
           "churn_target_per_sec": null, "read_try_failures": 0, "write_try_failures": 0,
           "clock_overhead_ns": 20})
}

/// A report shaped like the harness's: two in-memory steps, one TCP process, no
/// multi-process run.
fn report() -> Value {
    json!({
        "schema": "erlmcp-scale/1",
        "generated_at": "2026-11-26T22:40:00Z",
        "command": ["scale", "--max-sessions", "100000", "--tcp-max-sessions", "5000"],
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "machine": {"cores": 2},
        "loadavg_at_end": 1.5,
        "elapsed_secs": 61.5,
        "in_memory": {"config": {}, "pipe_structures_per_session": 200.0,
            "pipe_buffers_per_session": 340.0, "cleanup": {},
            "steps": [
                {"sessions": 1000, "answered_ping": 1000, "rss_per_session": 9000.0,
                 "heap_per_session": 8000.0, "server_heap_per_session": 7500.0,
                 "lookup": churn(90, 190, 400), "lookup_paced": churn(90, 100, 200),
                 "ping": latency(25000, 67000, 90000)},
                {"sessions": 100000, "answered_ping": 100000, "rss_per_session": 8200.0,
                 "heap_per_session": 7600.0, "server_heap_per_session": 7100.0,
                 "lookup": churn(700, 1300, 2100), "lookup_paced": churn(600, 1100, 1900),
                 "ping": latency(36000, 99000, 150000)}
            ]},
        "tcp_single": {"server": "scale serve-tcp", "kernel_after_cleanup": {},
            "steps": [
                {"sessions": 5000, "servers": 1, "clients": 1, "server_sessions": 5000,
                 "registered": 5000, "open_failures": 0, "answered_ping": 5000,
                 "open_secs": 1.0, "server_rss_bytes": 1, "server_rss_delta_bytes": 1,
                 "rss_per_session": 12000.0, "heap_per_session": 15000.0, "kernel": {},
                 "kernel_bytes_per_session": 0.0, "lookup": churn(100, 210, 430),
                 "lookup_p99_per_node": [210], "ping": latency(95000, 331000, 400000),
                 "client_rss_bytes": 1}
            ]},
        "tcp_single_erlmcp": null,
        "tcp_multi": null,
        "growth": [{"series": "in-memory heap", "exponent": 0.999,
                    "per_session": [[1000, 8000.0]], "verdict": "linear"}],
        "goals": {"in_memory_sessions_held": 100000, "under_8kib_per_session": false},
        "recommendation": {"tcp_sessions_per_process": 18000, "sessions_per_node": 100000}
    })
}

fn files() -> ScaleFiles {
    ScaleFiles {
        json: "evidence/scale.json".into(),
        png: "evidence/scale.png".into(),
    }
}

#[test]
fn the_largest_step_of_each_series_becomes_the_section() {
    let section = ScaleSection::from_report(&report(), files()).unwrap();
    let memory = section.in_memory.as_ref().unwrap();
    assert_eq!((memory.sessions, memory.answered_ping), (100_000, 100_000));
    assert_eq!(
        memory.heap_per_session,
        Some(7100.0),
        "the server's share, pipes excluded"
    );
    let lookup = memory.lookup.unwrap();
    assert_eq!(
        (lookup.p50_ns, lookup.p99_ns, lookup.p999_ns),
        (700, 1300, 2100)
    );
    assert_eq!(memory.ping.p99_ns, 99_000);
    let tcp = section.tcp_one_process.as_ref().unwrap();
    assert_eq!((tcp.sessions, tcp.rss_per_session), (5000, 12_000.0));
    assert_eq!(tcp.heap_per_session, Some(15_000.0));
    assert_eq!(tcp.lookup.unwrap().p99_ns, 210);
    assert!(section.tcp_several_processes.is_none());
    assert_eq!(section.growth[0].verdict, "linear");
    assert_eq!(section.recommendation["tcp_sessions_per_process"], 18_000);
    assert_eq!(section.goals["under_8kib_per_session"], false);
    assert_eq!(section.command[2], "100000");
    assert_eq!(
        section.git_commit.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
}

#[test]
fn the_section_goes_into_the_bundle_and_validates() {
    let section = ScaleSection::from_report(&report(), files()).unwrap();
    let mut bundle = Bundle::new(Environment::capture(
        std::path::Path::new("."),
        "serde_json",
    ));
    bundle
        .sections
        .insert("scale".to_owned(), serde_json::to_value(&section).unwrap());
    let value = serde_json::to_value(&bundle).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let schema: Value =
        serde_json::from_slice(&std::fs::read(root.join("evidence/bundle.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // And the schema does check the section: a section without its figures is refused.
    let mut broken = value.clone();
    broken["sections"]["scale"]
        .as_object_mut()
        .unwrap()
        .remove("in_memory");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn a_report_missing_a_needed_field_is_refused_by_name() {
    let mut missing_ping = report();
    missing_ping["in_memory"]["steps"][1]
        .as_object_mut()
        .unwrap()
        .remove("ping");
    match ScaleSection::from_report(&missing_ping, files()) {
        Err(EvidenceError::Report { field }) => assert_eq!(field, "ping"),
        other => panic!("expected a report error, got {other:?}"),
    }
    let mut nothing_run = report();
    nothing_run["in_memory"] = Value::Null;
    nothing_run["tcp_single"] = Value::Null;
    assert!(matches!(
        ScaleSection::from_report(&nothing_run, files()),
        Err(EvidenceError::Report { .. })
    ));
}
