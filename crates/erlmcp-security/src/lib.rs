#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! - [`uri`]: strict RFC 3986 parsing and canonicalisation ([`CanonicalUri`]), with a
//!   length limit checked before parsing.
//! - [`traversal`]: path traversal in every disguise, and [`RelativePath`].
//! - [`sandbox`]: `file://` resources resolved against allowed roots and opened relative
//!   to the root's directory handle ([`Sandbox`]).
//! - [`header`]: RFC 9110 header names and values, and header-block limits.
//! - [`allow_list`]: Host and Origin allow-lists against DNS rebinding.
//! - [`template`]: RFC 6570 URI templates: parse, expand, match ([`UriTemplate`]).
//! - [`confusable`]: UTS #39 mixed-script and confusable detection for hosts and paths.
//! - [`error`]: the one error enum, [`SecurityError`], grouped by fault.
//! - [`event`]: security events through `tracing`, and their counters.
//! - [`config`]: every limit, in one serde struct ([`SecurityConfig`]).
//!
//! ## What it leaves to others
//! It does no network I/O and knows nothing of MCP or JSON-RPC. Mapping a refusal to a
//! JSON-RPC error code belongs to `erlmcp-codec`; answering HTTP requests with 403/400
//! belongs to `erlmcp-transport`; deciding which resources exist belongs to
//! `erlmcp-protocol`. Its only contact with the file system is the [`Sandbox`], which
//! opens and reads files under the roots it is given.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod allow_list;
mod chars;
pub mod config;
pub mod confusable;
pub mod error;
pub mod event;
pub mod header;
pub mod sandbox;
pub mod template;
pub mod traversal;
pub mod uri;

pub use allow_list::{HostAllowList, OriginAllowList};
pub use config::{
    HeaderLimits, SandboxLimits, ScriptRestriction, SecurityConfig, TemplateLimits, UriPolicy,
};
pub use confusable::{check_host_name, check_path_segment};
pub use error::{
    ConfigFault, Confusion, Counted, Disguise, Fault, HeaderFault, KINDS, Place, SecurityError,
    Subject, TemplateSyntax, UriSyntax,
};
pub use event::{SecurityEvent, SecuritySnapshot, record_observed, snapshot};
pub use header::{validate_header, validate_header_name, validate_header_value, validate_headers};
pub use sandbox::{OpenResource, Resolved, ResourceContents, Sandbox};
pub use template::{TemplateValue, UriTemplate, Vars};
pub use traversal::RelativePath;
pub use uri::{CanonicalUri, canonicalize};
