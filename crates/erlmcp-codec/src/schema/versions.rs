//! Protocol versions, and what changed between them on the wire.
//!
//! The types in [`crate::schema`] follow 2025-11-25, the newest handshake-era version.
//! Older shapes are subsets of it (the tests round-trip every definition of the older
//! schemas through these types), so an engine talking to an older peer only has to avoid
//! *sending* what the peer's version lacks: ask [`feature_available`] before filling a
//! field or sending a method that is newer than the negotiated version.
//!
//! ## What differs (computed from the official `schema.json` of each version)
//!
//! | version | added | removed / changed |
//! |---|---|---|
//! | 2025-03-26 | `AudioContent`; `Annotations` as a named type (same `audience`/`priority` as 2024-11-05's `Annotated`); `Tool.annotations` (`ToolAnnotations`); `ServerCapabilities.completions`; `ProgressNotification.params.message`; JSON-RPC batches (`JSONRPCBatchRequest`/`JSONRPCBatchResponse`) | — |
//! | 2025-06-18 | `elicitation/create` + `ClientCapabilities.elicitation` + the primitive schema types (`StringSchema`, `NumberSchema`, `BooleanSchema`, `EnumSchema`); `CallToolResult.structuredContent` and `Tool.outputSchema`; `resource_link` content (`ResourceLink`); `title` on `Implementation`, `Tool`, `Prompt`, `PromptArgument`, `PromptReference`, `Resource`, `ResourceTemplate` (`BaseMetadata`); `_meta` on content blocks, resources, resource contents, prompts, tools and roots; `Annotations.lastModified`; `CompleteRequest.params.context` | JSON-RPC batches removed; `ResourceReference` renamed `ResourceTemplateReference` (same wire form, `"type": "ref/resource"`) |
//! | 2025-11-25 | `icons` on `Implementation`, `Tool`, `Prompt`, `Resource`, `ResourceTemplate`, `ResourceLink`; `Implementation.description` and `websiteUrl`; tasks (`tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel`, `notifications/tasks/status`, `capabilities.tasks`, `params.task` on `tools/call`, `sampling/createMessage`, `elicitation/create`, `Tool.execution`, `CreateTaskResult`); sampling with tools (`CreateMessageRequestParams.tools`/`toolChoice`, `tool_use`/`tool_result` content, content arrays in `SamplingMessage`/`CreateMessageResult`, `ClientCapabilities.sampling.tools`/`.context`); URL-mode elicitation (`mode`, `url`, `elicitationId`, `notifications/elicitation/complete`, `elicitation.form`/`.url` capabilities, error -32042); titled / multi-select enum schemas (`EnumSchema` becomes a union, the 2025-06-18 shape survives as `LegacyTitledEnumSchema`); `default` on `StringSchema` and `NumberSchema`; `$schema` in `inputSchema`/`outputSchema`/`requestedSchema`; named `*RequestParams` / `*NotificationParams` types with explicit `_meta` | `CancelledNotificationParams.requestId` became optional (tasks are cancelled with `tasks/cancel`) |
//! | 2026-07-28 | stateless era: `server/discover`, `subscriptions/listen`, input-required results, `resultType`, `extensions` capabilities, `structuredContent` of any JSON type | no `initialize`/`initialized`/`ping`, `logging/setLevel`, `resources/subscribe`, tasks (moved to an extension), `notifications/roots/list_changed`, `notifications/elicitation/complete`; `ElicitRequestURLParams.elicitationId` optional |
//!
//! 2026-07-28 is not negotiated with `initialize`: every request names its version in
//! `_meta` (see [`crate::schema::modern`]). [`SUPPORTED_HANDSHAKE`] holds the four
//! handshake-era versions, [`SUPPORTED_MODERN`] the stateless ones.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A protocol version erlmcp knows. Ordered by date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// `2024-11-05`, the first published version.
    V2024_11_05,
    /// `2025-03-26`.
    V2025_03_26,
    /// `2025-06-18`.
    V2025_06_18,
    /// `2025-11-25`, the last handshake-era version.
    V2025_11_25,
    /// `2026-07-28`, the stateless era.
    V2026_07_28,
}

/// The version a handshake-era server prefers (and the one the schema types follow).
pub const LATEST_HANDSHAKE: ProtocolVersion = ProtocolVersion::V2025_11_25;

/// The versions negotiable with `initialize`, oldest first.
pub const SUPPORTED_HANDSHAKE: &[ProtocolVersion] = &[
    ProtocolVersion::V2024_11_05,
    ProtocolVersion::V2025_03_26,
    ProtocolVersion::V2025_06_18,
    ProtocolVersion::V2025_11_25,
];

/// The newest stateless-era version.
pub const LATEST_MODERN: ProtocolVersion = ProtocolVersion::V2026_07_28;

/// The versions spoken without a handshake (per-request `_meta`), oldest first.
pub const SUPPORTED_MODERN: &[ProtocolVersion] = &[ProtocolVersion::V2026_07_28];

impl ProtocolVersion {
    /// Every known version, oldest first.
    pub const ALL: &'static [ProtocolVersion] = &[
        ProtocolVersion::V2024_11_05,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_11_25,
        ProtocolVersion::V2026_07_28,
    ];

    /// The version string, e.g. `"2025-11-25"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2024_11_05 => "2024-11-05",
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }

    /// Parses a version string; `None` for versions erlmcp does not know.
    pub fn parse(s: &str) -> Option<Self> {
        ProtocolVersion::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
    }

    /// Whether this version is negotiated with `initialize`.
    pub fn is_handshake_era(self) -> bool {
        self <= ProtocolVersion::V2025_11_25
    }

    /// Whether `feature` exists in this version (see [`feature_available`]).
    pub fn supports(self, feature: Feature) -> bool {
        feature_available(self, feature)
    }

    /// The version a handshake-era server answers when a client offers `offered`: the
    /// same version if supported, otherwise [`LATEST_HANDSHAKE`].
    pub fn negotiate(offered: &str) -> ProtocolVersion {
        match ProtocolVersion::parse(offered) {
            Some(v) if v.is_handshake_era() => v,
            _ => LATEST_HANDSHAKE,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`ProtocolVersion::from_str`]: an unknown version string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProtocolVersion;

impl fmt::Display for UnknownProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown MCP protocol version")
    }
}

impl std::error::Error for UnknownProtocolVersion {}

impl FromStr for ProtocolVersion {
    type Err = UnknownProtocolVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProtocolVersion::parse(s).ok_or(UnknownProtocolVersion)
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        ProtocolVersion::parse(&s).ok_or_else(|| serde::de::Error::custom(UnknownProtocolVersion))
    }
}

/// A wire feature that exists only in some versions. Each variant says where it came
/// from; [`Feature::introduced_in`] and [`Feature::removed_in`] give the exact range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Feature {
    /// `"type": "audio"` content blocks (2025-03-26).
    AudioContent,
    /// `Tool.annotations` (2025-03-26).
    ToolAnnotations,
    /// `ServerCapabilities.completions` (2025-03-26; before it, `completion/complete`
    /// existed without a capability).
    CompletionsCapability,
    /// `message` in `notifications/progress` (2025-03-26).
    ProgressMessage,
    /// JSON-RPC batches (2025-03-26 only; removed in 2025-06-18).
    JsonRpcBatching,
    /// `elicitation/create` and `ClientCapabilities.elicitation` (2025-06-18).
    Elicitation,
    /// `CallToolResult.structuredContent` and `Tool.outputSchema` (2025-06-18).
    StructuredContent,
    /// `"type": "resource_link"` content blocks (2025-06-18).
    ResourceLinks,
    /// `title` on implementations, tools, prompts, prompt arguments, prompt references,
    /// resources and templates (2025-06-18).
    Titles,
    /// `_meta` on content blocks, resources, resource contents, prompts, tools and roots
    /// (2025-06-18).
    MetaOnDataTypes,
    /// `Annotations.lastModified` (2025-06-18).
    AnnotationsLastModified,
    /// `context` in `completion/complete` params (2025-06-18).
    CompletionContext,
    /// `icons` on implementations, tools, prompts, resources, templates and resource
    /// links (2025-11-25).
    Icons,
    /// `Implementation.description` and `Implementation.websiteUrl` (2025-11-25).
    ImplementationDetails,
    /// Tasks: `tasks/*` methods, `notifications/tasks/status`, `capabilities.tasks`,
    /// `params.task`, `Tool.execution` (2025-11-25 only; an extension in 2026-07-28).
    Tasks,
    /// Sampling with tools: `tools`/`toolChoice` in `sampling/createMessage`,
    /// `tool_use`/`tool_result` blocks, content arrays, `sampling.tools` (2025-11-25).
    SamplingTools,
    /// `ClientCapabilities.sampling.context` (2025-11-25).
    SamplingContextCapability,
    /// URL-mode elicitation: `mode: "url"`, `elicitationId`,
    /// `notifications/elicitation/complete`, error -32042 (2025-11-25; 2026-07-28 keeps
    /// URL mode but drops the notification and the error).
    UrlElicitation,
    /// Titled and multi-select enum schemas in elicitation (2025-11-25).
    EnumSchemaVariants,
    /// `default` on `StringSchema` and `NumberSchema` (2025-11-25; `BooleanSchema` had it
    /// since 2025-06-18).
    PrimitiveSchemaDefaults,
    /// `notifications/cancelled` without `requestId` (2025-11-25).
    OptionalCancelRequestId,
    /// The `initialize` handshake, `notifications/initialized` and `ping` (2024-11-05;
    /// removed in 2026-07-28, where every request describes itself).
    Handshake,
    /// `logging/setLevel` (2024-11-05; removed in 2026-07-28 for the per-request
    /// `io.modelcontextprotocol/logLevel`).
    SetLogLevel,
    /// `resources/subscribe` / `resources/unsubscribe` (2024-11-05; removed in
    /// 2026-07-28 for `subscriptions/listen`).
    ResourceSubscribe,
    /// Server → client requests on the session (2024-11-05; removed in 2026-07-28 for
    /// input-required results).
    ServerRequests,
    /// `server/discover` and self-describing requests (`_meta` protocol version, client
    /// capabilities and info; `serverInfo` in result `_meta`) (2026-07-28).
    StatelessRequests,
    /// `resultType` on every result and input-required results (`inputRequests`,
    /// `requestState`, `inputResponses`) (2026-07-28).
    InputRequiredResults,
    /// `ttlMs` / `cacheScope` on discover, list and read results (2026-07-28).
    CachingHints,
    /// `subscriptions/listen` and `notifications/subscriptions/acknowledged` (2026-07-28).
    SubscriptionsListen,
    /// Errors -32020 (header mismatch), -32021 (missing client capability), -32022
    /// (unsupported version) (2026-07-28).
    StatelessErrors,
}

impl Feature {
    /// The first version that has the feature.
    pub fn introduced_in(self) -> ProtocolVersion {
        use ProtocolVersion::*;
        match self {
            Feature::AudioContent
            | Feature::ToolAnnotations
            | Feature::CompletionsCapability
            | Feature::ProgressMessage
            | Feature::JsonRpcBatching => V2025_03_26,
            Feature::Elicitation
            | Feature::StructuredContent
            | Feature::ResourceLinks
            | Feature::Titles
            | Feature::MetaOnDataTypes
            | Feature::AnnotationsLastModified
            | Feature::CompletionContext => V2025_06_18,
            Feature::Icons
            | Feature::ImplementationDetails
            | Feature::Tasks
            | Feature::SamplingTools
            | Feature::SamplingContextCapability
            | Feature::UrlElicitation
            | Feature::EnumSchemaVariants
            | Feature::PrimitiveSchemaDefaults
            | Feature::OptionalCancelRequestId => V2025_11_25,
            Feature::Handshake
            | Feature::SetLogLevel
            | Feature::ResourceSubscribe
            | Feature::ServerRequests => V2024_11_05,
            Feature::StatelessRequests
            | Feature::InputRequiredResults
            | Feature::CachingHints
            | Feature::SubscriptionsListen
            | Feature::StatelessErrors => V2026_07_28,
        }
    }

    /// The first version that no longer has the feature, if any.
    pub fn removed_in(self) -> Option<ProtocolVersion> {
        match self {
            Feature::JsonRpcBatching => Some(ProtocolVersion::V2025_06_18),
            Feature::Tasks
            | Feature::Handshake
            | Feature::SetLogLevel
            | Feature::ResourceSubscribe
            | Feature::ServerRequests => Some(ProtocolVersion::V2026_07_28),
            _ => None,
        }
    }
}

/// Whether `feature` exists in `version`: send it to a peer only when this is true.
pub fn feature_available(version: ProtocolVersion, feature: Feature) -> bool {
    version >= feature.introduced_in() && feature.removed_in().is_none_or(|r| version < r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::parse(v.as_str()), Some(*v));
            assert_eq!(v.to_string(), v.as_str());
        }
        assert_eq!(ProtocolVersion::parse("2025-01-01"), None);
        assert_eq!(
            ProtocolVersion::negotiate("1999-01-01"),
            ProtocolVersion::V2025_11_25
        );
        assert_eq!(
            ProtocolVersion::negotiate("2025-03-26"),
            ProtocolVersion::V2025_03_26
        );
    }

    #[test]
    fn feature_ranges() {
        use ProtocolVersion::*;
        assert!(!feature_available(V2025_03_26, Feature::StructuredContent));
        assert!(feature_available(V2025_06_18, Feature::StructuredContent));
        assert!(feature_available(V2025_03_26, Feature::JsonRpcBatching));
        assert!(!feature_available(V2025_06_18, Feature::JsonRpcBatching));
        assert!(!feature_available(V2024_11_05, Feature::JsonRpcBatching));
        assert!(feature_available(V2025_11_25, Feature::Tasks));
        assert!(!feature_available(V2026_07_28, Feature::Tasks));
        assert!(!feature_available(V2025_06_18, Feature::Icons));
        assert!(feature_available(V2025_11_25, Feature::Handshake));
        assert!(!feature_available(V2026_07_28, Feature::Handshake));
        assert!(!feature_available(V2025_11_25, Feature::StatelessRequests));
        assert!(feature_available(
            V2026_07_28,
            Feature::InputRequiredResults
        ));
        assert!(SUPPORTED_MODERN.iter().all(|v| !v.is_handshake_era()));
        assert!(SUPPORTED_HANDSHAKE.iter().all(|v| v.is_handshake_era()));
    }
}
