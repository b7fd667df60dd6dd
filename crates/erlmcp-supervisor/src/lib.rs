#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! - [`child`]: child specs ([`ChildSpec`]), restart types ([`Restart`]), shutdown
//!   policies ([`Shutdown`]) and how a child's end is classified ([`Exit`]).
//! - [`strategy`]: `one_for_one` / `one_for_all` / `rest_for_one`, restart intensity and
//!   restart backoff.
//! - [`supervisor`]: the supervisor task itself; [`handle`]: [`SupervisorRef`], the handle
//!   that survives restarts; [`status`]: counters readable at any time.
//! - [`bulkhead`]: a fixed number of failure domains with placement by hash.
//! - [`error`]: the one error type.
//!
//! It never does business logic: it does not know what a session, a listener or MCP is.
//! What a child does is its start function's affair; the facade crate `erlmcp` builds the
//! runtime tree (registry, listeners, session bulkheads) from these parts. It runs on
//! tokio only and uses no other actor framework.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bulkhead;
pub mod child;
pub mod error;
pub mod handle;
pub mod status;
pub mod strategy;
pub mod supervisor;

pub use bulkhead::{
    BulkheadConfig, BulkheadStatus, Bulkheads, DEFAULT_BULKHEADS, DEFAULT_MAX_CHILDREN_PER_BULKHEAD,
};
pub use child::{
    BoxError, ChildContext, ChildFuture, ChildKind, ChildSpec, DEFAULT_SHUTDOWN_TIMEOUT, Exit,
    IntoExit, Restart, Shutdown,
};
pub use error::SupervisorError;
pub use handle::{ChildInfo, SupervisorRef};
pub use status::SupervisorStatus;
pub use strategy::{Backoff, Intensity, Strategy};
pub use supervisor::{DEFAULT_CRASH_WINDOW, Supervisor};
/// The shutdown signal children receive (re-exported from tokio-util).
pub use tokio_util::sync::CancellationToken;
