//! A bundle written by this crate validates against `evidence/bundle.schema.json`.

use std::path::{Path, PathBuf};

use erlmcp_evidence::{
    Bundle, Environment, LatencyRecord, LifecycleRecord, TestSuiteRecord, ThroughputRecord,
};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema() -> Value {
    let path = repo_root().join("evidence/bundle.schema.json");
    serde_json::from_slice(&std::fs::read(&path).expect("schema file")).expect("schema is JSON")
}

fn sample_bundle() -> Bundle {
    let mut bundle = Bundle::new(Environment::capture(&repo_root(), "serde_json"));
    bundle.tests.push(
        TestSuiteRecord::parse_result_line(
            "erlmcp-codec lib",
            "test result: ok. 40 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.12s",
        )
        .expect("a result line"),
    );
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    for v in [40, 45, 50, 900] {
        histogram.record(v).expect("record");
    }
    let ceiling = ThroughputRecord::new("round_trip", "ceiling", "tcp", 4096, Some(64), 900, 1.0);
    let mut erlmcp = ThroughputRecord::new("round_trip", "erlmcp", "tcp", 4096, Some(64), 450, 1.0);
    erlmcp.latency = Some(LatencyRecord::from_histogram(&histogram));
    erlmcp.set_ceiling(ceiling.msgs_per_sec);
    bundle.throughput.push(ceiling);
    bundle.throughput.push(erlmcp);
    bundle.throughput.push(ThroughputRecord::new(
        "one_way", "erlmcp", "stdio", 4096, None, 10_000, 0.1,
    ));
    bundle.sections.insert(
        "fuzz".to_owned(),
        json!({"seconds_per_target": 30, "targets": [{
            "target": "uri_parse", "executions": 123456, "seconds": 30.0,
            "crashed": false, "exit_code": 0, "artifacts": []
        }]}),
    );
    bundle.sections.insert(
        "sbom".to_owned(),
        json!({"path": "evidence/sbom.cdx.json", "spec_version": "1.5", "components": 120}),
    );
    bundle
        .sections
        .insert("security".to_owned(), json!({"anything": true}));
    // The lifecycle section as release-evidence makes it: the soak's JSON, parsed.
    let soak = json!({
        "cycles": {"subscribe_unsubscribe": 10000, "connect_disconnect": 10000},
        "handlers": {"before": 0, "after_subscribe_cycles": 0, "after_connect_cycles": 0},
        "rss_kib": {"before": 9000, "after_subscribe_cycles": 9100, "after_connect_cycles": 9050},
        "rss_growth_kib": 50,
        "rss_growth_bound_kib": 16384,
        "introspection_before": {"sessions": 1, "subscriptions": 0, "in_flight": 0,
            "pending_outbound": 0, "tasks": 0, "queued_messages": 0,
            "registry_entries": 0, "subscribed_uris": 0},
        "introspection_after": {"sessions": 0, "subscriptions": 0, "in_flight": 0,
            "pending_outbound": 0, "tasks": 0, "queued_messages": 0,
            "registry_entries": 0, "subscribed_uris": 0}
    });
    let lifecycle = LifecycleRecord::parse(soak.to_string().as_bytes()).expect("soak record");
    bundle.sections.insert(
        "lifecycle".to_owned(),
        serde_json::to_value(&lifecycle).expect("json"),
    );
    bundle
}

#[test]
fn written_bundle_validates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bundle.json");
    sample_bundle().write(&path).expect("write");
    let instance: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "bundle does not match schema: {errors:#?}"
    );
}

#[test]
fn schema_rejects_drift() {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let good = serde_json::to_value(sample_bundle()).expect("json");

    let mut missing = good.clone();
    missing
        .as_object_mut()
        .expect("object")
        .remove("environment");
    assert!(!validator.is_valid(&missing));

    let mut unknown = good.clone();
    unknown["throughput"][0]["surprise"] = json!(1);
    assert!(!validator.is_valid(&unknown));

    let mut unit = good.clone();
    unit["throughput"][1]["latency"]["unit"] = json!("ms");
    assert!(!validator.is_valid(&unit));

    let mut lifecycle = good.clone();
    lifecycle["sections"]["lifecycle"]
        .as_object_mut()
        .expect("object")
        .remove("introspection_after");
    assert!(!validator.is_valid(&lifecycle));

    let mut section = good;
    section["sections"]["notes"] = json!("a string, not an object");
    assert!(!validator.is_valid(&section));
}
