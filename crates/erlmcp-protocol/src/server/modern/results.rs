//! What every 2026-07-28 result carries, added in one place after the handler:
//! `resultType: "complete"` (unless the handler's result already says otherwise),
//! `io.modelcontextprotocol/serverInfo` in `_meta`, and on cacheable results (the list
//! requests and `resources/read`; `server/discover` builds its own) `ttlMs` and
//! `cacheScope`. Errors are mapped to their 2026 codes: resource not found is -32602.

use erlmcp_codec::schema::modern::{CacheHints, CacheScope, SERVER_INFO_META_KEY};
use erlmcp_codec::schema::{Implementation, methods};
use erlmcp_codec::{ErrorCode, ErrorObject};
use serde_json::{Map, Value, json};

/// The caching hints a server puts on its cacheable results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// `server/discover` and the list requests: the same for every caller.
    pub lists: CacheHints,
    /// `resources/read`: a resource may be specific to the caller.
    pub reads: CacheHints,
}

impl Default for CachePolicy {
    /// `ttlMs: 0` everywhere: registries change at runtime, and only listeners hear of
    /// it, so a result is fresh only when fetched. Lists are `public` (no user data),
    /// reads `private`.
    fn default() -> Self {
        CachePolicy {
            lists: CacheHints {
                ttl_ms: 0,
                cache_scope: CacheScope::Public,
            },
            reads: CacheHints {
                ttl_ms: 0,
                cache_scope: CacheScope::Private,
            },
        }
    }
}

/// Whether `method`'s result is a `CacheableResult`, and with which hints.
fn hints_for(method: &str, policy: &CachePolicy) -> Option<CacheHints> {
    match method {
        methods::TOOLS_LIST
        | methods::PROMPTS_LIST
        | methods::RESOURCES_LIST
        | methods::RESOURCES_TEMPLATES_LIST => Some(policy.lists),
        methods::RESOURCES_READ => Some(policy.reads),
        _ => None,
    }
}

/// Adds `serverInfo` to a result's `_meta`.
pub(crate) fn stamp_server_info(result: &mut Map<String, Value>, info: &Implementation) {
    let meta = result
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        meta.entry(SERVER_INFO_META_KEY)
            .or_insert_with(|| json!(info));
    }
}

/// Completes a handler's result for the wire.
pub(crate) fn stamp(
    method: &str,
    mut value: Value,
    info: &Implementation,
    policy: &CachePolicy,
) -> Value {
    let Value::Object(result) = &mut value else {
        return value;
    };
    result
        .entry("resultType")
        .or_insert_with(|| json!("complete"));
    if result.get("resultType").and_then(Value::as_str) == Some("complete")
        && let Some(hints) = hints_for(method, policy)
    {
        result.entry("ttlMs").or_insert_with(|| json!(hints.ttl_ms));
        result
            .entry("cacheScope")
            .or_insert_with(|| json!(hints.cache_scope));
    }
    stamp_server_info(result, info);
    value
}

/// Maps an error to its 2026-07-28 form: "resource not found" is -32602 (it was -32002).
pub(crate) fn modern_error(mut error: ErrorObject) -> ErrorObject {
    if error.code == ErrorCode::RESOURCE_NOT_FOUND {
        error.code = ErrorCode::INVALID_PARAMS;
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_result_type_server_info_and_cache_hints() {
        let info = Implementation::new("s", "1");
        let policy = CachePolicy::default();
        let list = stamp("tools/list", json!({"tools": []}), &info, &policy);
        assert_eq!(list["resultType"], "complete");
        assert_eq!(list["ttlMs"], 0);
        assert_eq!(list["cacheScope"], "public");
        assert_eq!(list["_meta"][SERVER_INFO_META_KEY]["name"], "s");
        let read = stamp("resources/read", json!({"contents": []}), &info, &policy);
        assert_eq!(read["cacheScope"], "private");
        let call = stamp("tools/call", json!({"content": []}), &info, &policy);
        assert!(call.get("ttlMs").is_none());
        let pending = stamp(
            "tools/call",
            json!({"resultType": "input_required", "requestState": "x"}),
            &info,
            &policy,
        );
        assert_eq!(pending["resultType"], "input_required");
        let not_found = ErrorObject::new(ErrorCode::RESOURCE_NOT_FOUND, "resource not found");
        assert_eq!(modern_error(not_found).code, ErrorCode::INVALID_PARAMS);
    }
}
