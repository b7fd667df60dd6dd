#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! Nothing of its own: it re-exports the layered crates under one name, offers a
//! [`prelude`], the glue that serves a [`Server`] on stdio or a TCP listener
//! ([`net`]) or over Streamable HTTP ([`net_http`]), the supervised [`runtime`], and the
//! [`demo`] server behind the `erlmcp` CLI.

pub mod demo;
mod demo_input_required;
mod demo_stateless;
mod demo_tasks;
pub mod net;
pub mod net_http;
pub mod runtime;

pub use erlmcp_codec as codec;
pub use erlmcp_protocol as protocol;
pub use erlmcp_registry as registry;
pub use erlmcp_transport as transport;

pub use erlmcp_codec::schema;
pub use erlmcp_protocol::{
    Client, ClientBuilder, ClientMode, HandlerError, RequestContext, RequestError, RequestOptions,
    Server, ServerBuilder, SessionConfig, SessionError,
};

/// The names most programs need.
pub mod prelude {
    pub use erlmcp_codec::schema::{
        CallToolResult, ContentBlock, GetPromptResult, JsonObject, Prompt, PromptArgument,
        ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Tool,
    };
    pub use erlmcp_protocol::{
        Client, ClientBuilder, HandlerError, RequestContext, RequestOptions, Server,
    };
    pub use erlmcp_transport::Transport;
    pub use serde_json::json;
}
