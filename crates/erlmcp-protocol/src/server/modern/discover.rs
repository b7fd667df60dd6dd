//! `server/discover`: versions, capabilities, instructions and `serverInfo`, answered
//! to any client without a handshake. The capabilities are the 2026-07-28 form: no
//! `tasks` member: tasks are the `io.modelcontextprotocol/tasks` extension, listed under
//! `extensions` when a tool supports them.

use erlmcp_codec::schema::modern::{DiscoverResult, ResultType};
use erlmcp_codec::schema::{ProtocolVersion, ServerCapabilities};
use serde_json::{Map, Value, json};

use super::results::{CachePolicy, stamp_server_info};
use crate::server::ServerCore;

/// The server's capabilities as 2026-07-28 spells them.
pub(crate) fn capabilities(core: &ServerCore) -> ServerCapabilities {
    let mut caps = json!({});
    if core.has_tools() {
        caps["tools"] = json!({"listChanged": true});
    }
    if core.has_resources() {
        caps["resources"] = json!({"subscribe": true, "listChanged": true});
    }
    if core.has_prompts() {
        caps["prompts"] = json!({"listChanged": true});
    }
    if core.completion.is_some() {
        caps["completions"] = json!({});
    }
    if core.logging {
        caps["logging"] = json!({});
    }
    if core.tools.read().supports_tasks() {
        caps["extensions"] = json!({ erlmcp_codec::schema::modern::TASKS_EXTENSION: {} });
    }
    serde_json::from_value(caps).unwrap_or_default()
}

/// The result of `server/discover`.
pub(crate) fn result(
    core: &ServerCore,
    supported: &[ProtocolVersion],
    policy: &CachePolicy,
) -> Value {
    let result = DiscoverResult {
        result_type: ResultType::Complete,
        supported_versions: supported.iter().map(|v| v.as_str().to_owned()).collect(),
        capabilities: capabilities(core),
        instructions: core.instructions.clone(),
        ttl_ms: policy.lists.ttl_ms,
        cache_scope: policy.lists.cache_scope,
        meta: None,
        extra: Map::new(),
    };
    let mut value = serde_json::to_value(result).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut value {
        stamp_server_info(map, &core.info);
    }
    value
}
