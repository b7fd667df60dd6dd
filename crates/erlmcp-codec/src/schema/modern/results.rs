//! What every 2026-07-28 result carries: `resultType`, and on cacheable results
//! (`server/discover`, the list requests, `resources/read`) the caching hints `ttlMs`
//! and `cacheScope` (`CacheableResult`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `resultType`: how to read a result. Servers of 2026-07-28 must send it; a result
/// without it (from an older server) is [`ResultType::Complete`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultType {
    /// `"complete"`: the final result.
    Complete,
    /// `"input_required"`: an [`InputRequiredResult`](super::InputRequiredResult); retry
    /// the request with the answers.
    InputRequired,
    /// A value this version does not define, kept as received.
    Other(String),
}

impl ResultType {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            ResultType::Complete => "complete",
            ResultType::InputRequired => "input_required",
            ResultType::Other(s) => s,
        }
    }
}

impl fmt::Display for ResultType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResultType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(match s.as_str() {
            "complete" => ResultType::Complete,
            "input_required" => ResultType::InputRequired,
            _ => ResultType::Other(s),
        })
    }
}

/// `cacheScope`: who may reuse a cached result (like HTTP `Cache-Control`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// Only within the same authorization context.
    Private,
    /// Anyone: the result holds no user-specific data.
    Public,
}

/// The caching hints of a cacheable result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheHints {
    /// How long the client may treat the result as fresh, in milliseconds (0: stale at once).
    pub ttl_ms: u64,
    /// Who may reuse it.
    pub cache_scope: CacheScope,
}
