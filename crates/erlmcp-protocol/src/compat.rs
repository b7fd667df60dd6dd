//! Adapting server results to the protocol version a session negotiated.
//!
//! Handlers build results with the newest types (2025-11-25). A client that negotiated an
//! older version must not receive members its schema does not have: strict clients
//! validate results, and a 2025-03-26 client does not know what to do with
//! `structuredContent`. This module removes, per [`Feature`], exactly what the
//! negotiated version lacks — and nothing when the session speaks the newest version, so
//! the hot path pays one comparison.
//!
//! | feature missing            | removed                                                  |
//! |----------------------------|----------------------------------------------------------|
//! | `StructuredContent`        | `structuredContent` (results), `outputSchema` (tools)     |
//! | `Titles`                   | `title` on tools, prompts, arguments, resources, templates, `serverInfo` |
//! | `Icons`                    | `icons` on the same and on `serverInfo`                   |
//! | `ImplementationDetails`    | `description`, `websiteUrl` on `serverInfo`               |
//! | `ToolAnnotations`          | `annotations` on tools                                    |
//! | `Tasks`                    | `execution` on tools, `tasks` capability                  |
//! | `CompletionsCapability`    | `completions` capability                                  |
//! | `AudioContent`, `ResourceLinks` | such content blocks become a text block naming them |

use erlmcp_codec::schema::ProtocolVersion;
use erlmcp_codec::schema::methods;
use erlmcp_codec::schema::versions::{Feature, LATEST_HANDSHAKE, feature_available};
use serde_json::{Map, Value, json};

/// Removes from `result` (the answer to `method`) what `version` does not define.
pub fn adapt_result(method: &str, version: ProtocolVersion, result: &mut Value) {
    if version >= LATEST_HANDSHAKE {
        return;
    }
    let has = |f: Feature| feature_available(version, f);
    let Some(object) = result.as_object_mut() else {
        return;
    };
    match method {
        methods::INITIALIZE => {
            if let Some(Value::Object(caps)) = object.get_mut("capabilities") {
                if !has(Feature::CompletionsCapability) {
                    caps.remove("completions");
                }
                if !has(Feature::Tasks) {
                    caps.remove("tasks");
                }
            }
            if let Some(Value::Object(info)) = object.get_mut("serverInfo") {
                strip_metadata(info, &has);
                if !has(Feature::ImplementationDetails) {
                    info.remove("description");
                    info.remove("websiteUrl");
                }
            }
        }
        methods::TOOLS_LIST => for_each_item(object, "tools", |tool| {
            strip_metadata(tool, &has);
            if !has(Feature::StructuredContent) {
                tool.remove("outputSchema");
            }
            if !has(Feature::ToolAnnotations) {
                tool.remove("annotations");
            }
            if !has(Feature::Tasks) {
                tool.remove("execution");
            }
        }),
        methods::PROMPTS_LIST => for_each_item(object, "prompts", |prompt| {
            strip_metadata(prompt, &has);
            if let Some(Value::Array(args)) = prompt.get_mut("arguments") {
                for arg in args.iter_mut().filter_map(Value::as_object_mut) {
                    strip_metadata(arg, &has);
                }
            }
        }),
        methods::RESOURCES_LIST => for_each_item(object, "resources", |r| strip_metadata(r, &has)),
        methods::RESOURCES_TEMPLATES_LIST => {
            for_each_item(object, "resourceTemplates", |r| strip_metadata(r, &has));
        }
        methods::TOOLS_CALL => {
            if !has(Feature::StructuredContent) {
                object.remove("structuredContent");
            }
            adapt_content(object.get_mut("content"), &has);
        }
        methods::PROMPTS_GET => {
            if let Some(Value::Array(messages)) = object.get_mut("messages") {
                for message in messages.iter_mut() {
                    if let Some(content) = message.get_mut("content") {
                        adapt_block(content, &has);
                    }
                }
            }
        }
        _ => {}
    }
}

fn for_each_item(
    object: &mut Map<String, Value>,
    key: &str,
    mut f: impl FnMut(&mut Map<String, Value>),
) {
    if let Some(Value::Array(items)) = object.get_mut(key) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            f(item);
        }
    }
}

fn strip_metadata(item: &mut Map<String, Value>, has: &impl Fn(Feature) -> bool) {
    if !has(Feature::Titles) {
        item.remove("title");
    }
    if !has(Feature::Icons) {
        item.remove("icons");
    }
}

fn adapt_content(content: Option<&mut Value>, has: &impl Fn(Feature) -> bool) {
    if let Some(Value::Array(blocks)) = content {
        for block in blocks.iter_mut() {
            adapt_block(block, has);
        }
    }
}

/// Replaces a content block the version lacks with a text block that says what it was.
fn adapt_block(block: &mut Value, has: &impl Fn(Feature) -> bool) {
    let replacement = match block.get("type").and_then(Value::as_str) {
        Some("audio") if !has(Feature::AudioContent) => {
            let mime = block
                .get("mimeType")
                .and_then(Value::as_str)
                .unwrap_or("audio");
            Some(format!(
                "[{mime} content omitted: not supported by this protocol version]"
            ))
        }
        Some("resource_link") if !has(Feature::ResourceLinks) => {
            let uri = block.get("uri").and_then(Value::as_str).unwrap_or_default();
            Some(format!("[resource: {uri}]"))
        }
        _ => None,
    };
    if let Some(text) = replacement {
        *block = json!({"type": "text", "text": text});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_version_is_untouched() {
        let mut v = json!({"content": [], "structuredContent": {"a": 1}});
        let before = v.clone();
        adapt_result(methods::TOOLS_CALL, LATEST_HANDSHAKE, &mut v);
        assert_eq!(v, before);
    }

    #[test]
    fn structured_content_is_removed_before_2025_06_18() {
        let mut v =
            json!({"content": [{"type": "text", "text": "3"}], "structuredContent": {"sum": 3}});
        adapt_result(methods::TOOLS_CALL, ProtocolVersion::V2025_03_26, &mut v);
        assert_eq!(v, json!({"content": [{"type": "text", "text": "3"}]}));
        let mut v = json!({"content": [], "structuredContent": {"sum": 3}});
        adapt_result(methods::TOOLS_CALL, ProtocolVersion::V2025_06_18, &mut v);
        assert!(v.get("structuredContent").is_some());
    }

    #[test]
    fn tool_listing_loses_newer_members() {
        let mut v = json!({"tools": [{
            "name": "t", "title": "T", "icons": [{"src": "x"}], "inputSchema": {"type": "object"},
            "outputSchema": {"type": "object"}, "annotations": {"readOnlyHint": true},
            "execution": {"taskSupport": "optional"}
        }]});
        adapt_result(methods::TOOLS_LIST, ProtocolVersion::V2024_11_05, &mut v);
        assert_eq!(
            v,
            json!({"tools": [{"name": "t", "inputSchema": {"type": "object"}}]})
        );
    }

    #[test]
    fn audio_and_links_become_text_for_old_clients() {
        let mut v = json!({"content": [
            {"type": "audio", "data": "AA==", "mimeType": "audio/wav"},
            {"type": "resource_link", "uri": "demo://x", "name": "x"}
        ]});
        adapt_result(methods::TOOLS_CALL, ProtocolVersion::V2024_11_05, &mut v);
        assert_eq!(v["content"][0]["type"], "text");
        assert_eq!(
            v["content"][1],
            json!({"type": "text", "text": "[resource: demo://x]"})
        );
    }

    #[test]
    fn initialize_capabilities_follow_the_version() {
        let mut v = json!({"capabilities": {"completions": {}, "tasks": {}, "tools": {}},
            "serverInfo": {"name": "s", "version": "1", "title": "S", "websiteUrl": "https://x"}});
        adapt_result(methods::INITIALIZE, ProtocolVersion::V2024_11_05, &mut v);
        assert_eq!(v["capabilities"], json!({"tools": {}}));
        assert_eq!(v["serverInfo"], json!({"name": "s", "version": "1"}));
    }
}
