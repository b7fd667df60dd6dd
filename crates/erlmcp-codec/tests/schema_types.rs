//! Hand-written checks of the schema types: constructors produce the JSON the spec
//! shows, unions pick the right variant, and unknown members survive.

use erlmcp_codec::schema::{
    CallToolResult, ClientCapabilities, ContentBlock, CreateMessageResult, ElicitRequestParams,
    EmptyResult, GetTaskResult, Implementation, InitializeResult, LoggingLevel, McpRequest,
    PrimitiveSchemaDefinition, ProgressNotificationParams, ProtocolVersion, RequestId,
    ResourceContents, SamplingContent, ServerCapabilities, Task, TaskStatus, Tool,
    empty_object_schema, methods,
};
use serde_json::{Value, json};

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: Value) -> T {
    let typed: T = serde_json::from_value(value.clone()).expect("deserialise");
    let back = serde_json::to_value(&typed).expect("serialise");
    assert_eq!(back, value);
    typed
}

#[test]
fn call_tool_result_constructors() {
    assert_eq!(
        serde_json::to_value(CallToolResult::text("hi")).unwrap(),
        json!({"content": [{"type": "text", "text": "hi"}]})
    );
    assert_eq!(
        serde_json::to_value(CallToolResult::error_text("bad")).unwrap(),
        json!({"content": [{"type": "text", "text": "bad"}], "isError": true})
    );
    let structured = CallToolResult::structured(json!({"a": 1}));
    assert_eq!(structured.structured_content, Some(json!({"a": 1})));
}

#[test]
fn content_blocks_are_tagged_and_keep_unknown_members() {
    let block: ContentBlock = round_trip(json!({
        "type": "text", "text": "x", "future": {"a": 1}, "_meta": {"k": "v"}
    }));
    assert_eq!(block.as_text(), Some("x"));
    let ContentBlock::Text(t) = &block else {
        panic!("not text")
    };
    assert_eq!(t.extra.get("future"), Some(&json!({"a": 1})));
    assert!(!t.extra.contains_key("type"));

    let block: ContentBlock = round_trip(json!({
        "type": "resource",
        "resource": {"uri": "file:///a", "blob": "AAAA", "mimeType": "x/y"}
    }));
    let ContentBlock::Resource(r) = block else {
        panic!("not resource")
    };
    assert!(matches!(r.resource, ResourceContents::Blob(_)));
    let link: ContentBlock = round_trip(json!({"type": "resource_link", "uri": "u", "name": "n"}));
    assert_eq!(link.type_name(), "resource_link");
}

#[test]
fn tool_and_initialize_shapes() {
    let tool = Tool::new("echo", empty_object_schema()).with_description("Echo");
    assert_eq!(
        serde_json::to_value(&tool).unwrap(),
        json!({"name": "echo", "description": "Echo", "inputSchema": {"type": "object"}})
    );
    let init = InitializeResult::new(
        ProtocolVersion::V2025_06_18,
        ServerCapabilities::default()
            .with_tools(true)
            .with_logging(),
        Implementation::new("erlmcp", "0.1.0"),
    );
    assert_eq!(
        serde_json::to_value(&init).unwrap(),
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {"listChanged": true}, "logging": {}},
            "serverInfo": {"name": "erlmcp", "version": "0.1.0"}
        })
    );
    assert_eq!(init.version(), Some(ProtocolVersion::V2025_06_18));
    let caps: ClientCapabilities = round_trip(json!({
        "roots": {"listChanged": true}, "sampling": {}, "elicitation": {}, "custom": {"x": 1}
    }));
    assert!(caps.elicitation.as_ref().is_some_and(|e| e.supports_form()));
    assert_eq!(caps.extra.get("custom"), Some(&json!({"x": 1})));
}

#[test]
fn numbers_come_back_as_sent() {
    let p: ProgressNotificationParams =
        round_trip(json!({"progressToken": 7, "progress": 50, "total": 100.0}));
    assert_eq!(p.progress_token, RequestId::Number(7));
    let p = ProgressNotificationParams::new("t".into(), 0.5, Some(2.0));
    assert_eq!(
        serde_json::to_value(p).unwrap(),
        json!({"progressToken": "t", "progress": 0.5, "total": 2})
    );
}

#[test]
fn unions_pick_the_right_variant() {
    let url: ElicitRequestParams = round_trip(json!({
        "mode": "url", "message": "m", "elicitationId": "e", "url": "https://x"
    }));
    assert!(matches!(url, ElicitRequestParams::Url(_)));
    let form: ElicitRequestParams = round_trip(json!({
        "message": "m",
        "requestedSchema": {"type": "object", "properties": {
            "a": {"type": "string", "enum": ["x"], "enumNames": ["X"]},
            "b": {"type": "string", "enum": ["x"]},
            "c": {"type": "string", "oneOf": [{"const": "x", "title": "X"}]},
            "d": {"type": "array", "items": {"anyOf": [{"const": "x", "title": "X"}]}},
            "e": {"type": "array", "items": {"type": "string", "enum": ["x"]}},
            "f": {"type": "integer", "minimum": 1},
            "g": {"type": "boolean", "default": true},
            "h": {"type": "string", "format": "date-time"}
        }}
    }));
    let ElicitRequestParams::Form(form) = form else {
        panic!("not form")
    };
    let kinds: Vec<&str> = form
        .requested_schema
        .properties
        .values()
        .map(|p| match p {
            PrimitiveSchemaDefinition::LegacyTitledEnum(_) => "legacy",
            PrimitiveSchemaDefinition::UntitledSingleSelectEnum(_) => "untitled1",
            PrimitiveSchemaDefinition::TitledSingleSelectEnum(_) => "titled1",
            PrimitiveSchemaDefinition::TitledMultiSelectEnum(_) => "titledN",
            PrimitiveSchemaDefinition::UntitledMultiSelectEnum(_) => "untitledN",
            PrimitiveSchemaDefinition::Number(_) => "number",
            PrimitiveSchemaDefinition::Boolean(_) => "boolean",
            PrimitiveSchemaDefinition::String(_) => "string",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "legacy",
            "untitled1",
            "titled1",
            "titledN",
            "untitledN",
            "number",
            "boolean",
            "string"
        ]
    );

    let single: CreateMessageResult = round_trip(json!({
        "role": "assistant", "model": "m", "content": {"type": "text", "text": "t"}
    }));
    assert!(matches!(single.content, SamplingContent::Single(_)));
    let many: CreateMessageResult = round_trip(json!({
        "role": "assistant", "model": "m", "stopReason": "toolUse",
        "content": [{"type": "tool_use", "id": "1", "name": "f", "input": {}}]
    }));
    assert_eq!(many.content.blocks().len(), 1);
}

#[test]
fn tasks_flatten_into_results() {
    let r: GetTaskResult = round_trip(json!({
        "_meta": {"a": 1}, "taskId": "t1", "status": "input_required",
        "createdAt": "2025-01-01T00:00:00Z", "lastUpdatedAt": "2025-01-01T00:00:00Z",
        "ttl": null, "other": true
    }));
    assert_eq!(r.task.status, TaskStatus::InputRequired);
    assert_eq!(r.task.extra.get("other"), Some(&json!(true)));
    let t = Task::new("t", TaskStatus::Working, "now", None);
    assert_eq!(serde_json::to_value(&t).unwrap()["ttl"], Value::Null);
}

#[test]
fn logging_levels_order_by_severity() {
    assert!(LoggingLevel::Debug < LoggingLevel::Info);
    assert!(LoggingLevel::Warning < LoggingLevel::Error);
    assert!(LoggingLevel::Alert < LoggingLevel::Emergency);
    assert_eq!(
        serde_json::to_value(LoggingLevel::Notice).unwrap(),
        json!("notice")
    );
}

#[test]
fn method_table() {
    assert_eq!(
        <erlmcp_codec::schema::CallTool as McpRequest>::METHOD,
        methods::TOOLS_CALL
    );
    assert_eq!(methods::NOTIFICATIONS_PROGRESS, "notifications/progress");
    let _: EmptyResult = round_trip(json!({}));
}
