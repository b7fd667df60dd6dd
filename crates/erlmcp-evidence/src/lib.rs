#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! - [`latency`], [`throughput`], [`suite`]: measurement records; [`lifecycle`]: the
//!   lifecycle soak's record (the bundle's `lifecycle` section).
//! - [`environment`]: where the figures came from.
//! - [`bundle`]: the evidence bundle and its atomic writer (JSON + CSV).
//! - [`sbom`]: CycloneDX SBOM from `cargo metadata`.
//! - [`scale`]: the bundle's `scale` section, read from the scale harness's report.
//! - [`error`]: the one error type.
//!
//! It never runs benchmarks, tests or fuzzers: `benches/` measures and `xtask/` orchestrates;
//! both hand their figures to the types here.

pub mod bundle;
pub mod environment;
pub mod error;
pub mod latency;
pub mod lifecycle;
pub mod sbom;
pub mod scale;
pub mod suite;
pub mod throughput;
mod time;

pub use bundle::{BUNDLE_SCHEMA_VERSION, Bundle};
pub use environment::Environment;
pub use error::EvidenceError;
pub use latency::LatencyRecord;
pub use lifecycle::LifecycleRecord;
pub use scale::ScaleSection;
pub use suite::{CargoTestLog, TestSuiteRecord};
pub use throughput::ThroughputRecord;
pub use time::rfc3339_utc;
