#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! - [`session`](crate::session) (private): the driver joining a transport to a role —
//!   reader, bounded dispatch, batching writer, cancellation, panics → -32603.
//! - [`lifecycle`]: the initialization state machine and version negotiation, and the
//!   choice of era by a connection's first request.
//! - [`server::modern`]: the stateless era (2026-07-28): `server/discover`, `_meta`
//!   validation, input-required results with sealed `requestState`, `subscriptions/listen`,
//!   and [`Server::handle_modern`], the per-request entry point for HTTP.
//! - [`server`]: registries and routing for tools, resources, templates, prompts,
//!   completion, logging, subscriptions.
//! - [`client`]: the handshake, typed calls, and handlers for sampling, roots, elicitation.
//! - [`peer`]: outbound requests and notifications (monotonic ids, timeouts, progress).
//! - [`compat`]: results adapted to the negotiated protocol version.
//! - [`pagination`]: opaque cursors.
//!
//! It never opens sockets or pipes: transports come from `erlmcp-transport`.

pub mod client;
pub mod compat;
pub mod config;
pub mod error;
pub mod lifecycle;
pub mod pagination;
pub mod peer;
pub mod server;
mod session;

pub use client::{Client, ClientBuilder, ClientMode};
pub use config::SessionConfig;
pub use error::{HandlerError, RequestError, SessionError};
pub use lifecycle::Phase;
pub use peer::{Peer, ProgressCallback, RequestOptions};
pub use server::modern::{
    CachePolicy, ClaimedHeaders, MetaError, ModernOutput, NotificationStream, ResponseError,
    StateError,
};
pub use server::tasks::TaskLimits;
pub use server::{
    BuildError, Introspection, RegistryReport, RequestContext, Server, ServerBuilder,
    SessionHandle, SessionRegistry, SessionSnapshot, SessionState,
};
