#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! - [`registry`]: [`Registry`], the sharded map from unique keys to handles + metadata
//!   tagged with a [`Kind`]; [`Registration`], the guard that removes an entry when its
//!   owner ends (the monitor); [`Registry::monitor`] (a [`Monitored`] future) and
//!   [`Registry::watch`], the two ways to tie an entry to a task.
//! - [`groups`]: [`Groups`], named sets of members for fan-out (Erlang's `pg`), with the
//!   same guard-based cleanup ([`Membership`]).
//! - [`metrics`]: counts, sampled lookup latency (HDR histograms) and lock contention,
//!   readable at runtime as serialisable [`RegistryMetrics`].
//! - [`kind`](mod@kind): entry kinds; [`error`]: the one error type.
//!
//! It knows nothing of transports or MCP: the protocol engine decides what a key and a
//! value are (a session id and its live-session handle, an `Mcp-Session-Id` and its HTTP
//! session, a resource URI and its subscribers) and the runtime decides the limits.

pub mod error;
pub mod groups;
pub mod kind;
pub mod metrics;
pub mod registry;

pub use error::RegistryError;
pub use groups::{Groups, GroupsMetrics, Membership};
pub use kind::{Kind, MAX_KINDS};
pub use metrics::{Contention, DEFAULT_SAMPLE_EVERY, KindCount, LatencySummary, RegistryMetrics};
pub use registry::{
    DEFAULT_SHARDS, MAX_SHARDS, Monitored, Registration, Registry, RegistryBuilder,
};
