//! erlmcp's benchmark harness: the pieces behind the `load` binary and the criterion benches.
//!
//! ## What this crate owns
//! - [`wire`]: the request lines the harness sends and the byte scanner that reads ids
//!   back without parsing JSON.
//! - [`peer`]: the ceiling peer, a server that does no JSON work at all, so that its
//!   throughput is what the transport alone allows on this machine.
//! - [`driver`]: the load itself over one connection: pipelined round trips with a fixed
//!   in-flight window, and one-way streams closed by a `ping`.
//! - [`spawn`]: starting a server (erlmcp or the ceiling peer) as a child process over
//!   stdio or loopback TCP, and stopping it.
//! - [`scenario`]: one scenario end to end, turned into an
//!   [`erlmcp_evidence::ThroughputRecord`]; [`report`]: the human summary table.
//! - [`overload_verdict`]: the pass/fail rules of the `overload` binary.
//!
//! It records figures with `erlmcp-evidence` types and leaves bundles, SBOMs and the
//! orchestration of whole runs to `xtask`.

pub mod driver;
pub mod overload_verdict;
pub mod peer;
pub mod report;
pub mod scenario;
pub mod spawn;
pub mod wire;
