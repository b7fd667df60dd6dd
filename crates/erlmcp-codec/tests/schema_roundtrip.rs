//! Round trips of generated instances of every schema definition through the Rust types,
//! checked against the official JSON schemas, and round trips of the 2026-07-28 example
//! messages.
//!
//! A small instance generator walks the JSON Schema (`$ref`, `properties`, `required`,
//! `type`, `enum`, `const`, `anyOf`/`oneOf`, `allOf`, `items`, `additionalProperties`) and
//! produces, for each definition,
//! - minimal instances: required members only, empty arrays, one instance per union
//!   branch / enum value / listed type;
//! - maximal instances: every member, every array filled with one item per item variant,
//!   an unknown member (`x-unknown`) wherever the schema allows additional properties,
//!   and enough instances that every union branch of every member appears at least once.
//!
//! Each instance is deserialised into the Rust type, serialised back, compared with the
//! input (`serde_json::Value` equality) and validated against the official schema of
//! the definition.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use erlmcp_codec::schema::*;
use erlmcp_codec::{ErrorObject, Message, RequestId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------
// Where the spec lives
// ---------------------------------------------------------------------------------------

fn spec_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mcp-spec");
    assert!(
        dir.join("2025-11-25/schema.json").is_file(),
        "the MCP spec directory is missing: expected {} (the repository must sit next to \
         `shared/`, which holds mcp-spec/<version>/schema.json)",
        dir.display()
    );
    dir
}

struct Spec {
    version: &'static str,
    root: Value,
    /// `$defs` (2025-11-25 and later) or `definitions` (older).
    defs_key: &'static str,
}

impl Spec {
    fn load(version: &'static str) -> Spec {
        let path = spec_dir().join(version).join("schema.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let root: Value = serde_json::from_str(&text).expect("schema.json is JSON");
        let defs_key = if root.get("$defs").is_some() {
            "$defs"
        } else {
            "definitions"
        };
        Spec {
            version,
            root,
            defs_key,
        }
    }

    fn defs(&self) -> &Map<String, Value> {
        self.root[self.defs_key].as_object().expect("definitions")
    }

    fn def(&self, name: &str) -> &Value {
        &self.defs()[name]
    }

    /// A validator for one definition, with every other definition reachable by `$ref`.
    fn validator(&self, name: &str) -> jsonschema::Validator {
        let mut schema = Map::new();
        schema.insert("$schema".into(), self.root["$schema"].clone());
        schema.insert(self.defs_key.into(), self.root[self.defs_key].clone());
        schema.insert(
            "allOf".into(),
            json!([{"$ref": format!("#/{}/{name}", self.defs_key)}]),
        );
        let schema = Value::Object(schema);
        jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("{}: schema for {name} does not compile: {e}", self.version))
    }

    fn method_of(&self, name: &str) -> Option<&str> {
        self.def(name)
            .pointer("/properties/method/const")
            .and_then(Value::as_str)
    }
}

fn validate(validator: &jsonschema::Validator, value: &Value) -> Result<(), String> {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("does not validate: {}", errors.join("; ")))
    }
}

// ---------------------------------------------------------------------------------------
// The instance generator
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Minimal,
    Maximal,
}

struct Generator<'a> {
    defs: &'a Map<String, Value>,
    mode: Mode,
    /// Add `x-unknown` members where the schema allows additional properties.
    unknown_members: bool,
}

/// The value used for "any JSON" (`{}`) schemas and for unknown members.
fn any_value() -> Value {
    json!({"nested": [1, "two", true, null, 2.5]})
}

impl Generator<'_> {
    fn instances(&self, schema: &Value, depth: usize) -> Vec<Value> {
        assert!(depth < 32, "schema recursion too deep");
        let Some(obj) = schema.as_object() else {
            // `true` as a schema: anything.
            return vec![any_value()];
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r);
            // 2026-07-28's recursive "any JSON" definitions (which allow neither `null`
            // nor fractions): one representative each.
            let json_value = json!({"nested": [1, "two", true]});
            match name {
                "JSONValue" => return vec![json_value],
                "JSONObject" => return vec![json!({}), json!({ "any": json_value })],
                "JSONArray" => return vec![json!([json_value])],
                _ => {}
            }
            let target = self
                .defs
                .get(name)
                .unwrap_or_else(|| panic!("dangling $ref {r}"));
            return self.instances(target, depth + 1);
        }
        if let Some(c) = obj.get("const") {
            return vec![c.clone()];
        }
        if let Some(values) = obj.get("enum").and_then(Value::as_array) {
            return values.clone();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = obj.get(key).and_then(Value::as_array) {
                return branches
                    .iter()
                    .flat_map(|b| self.instances(b, depth + 1))
                    .collect();
            }
        }
        if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
            let per_part: Vec<Vec<Value>> =
                parts.iter().map(|p| self.instances(p, depth + 1)).collect();
            let n = per_part.iter().map(Vec::len).max().unwrap_or(1);
            return (0..n)
                .map(|k| {
                    let mut merged = Map::new();
                    for variants in &per_part {
                        if let Value::Object(m) = &variants[k % variants.len()] {
                            merged.extend(m.clone());
                        }
                    }
                    Value::Object(merged)
                })
                .collect();
        }
        let types: Vec<&str> = match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if obj.contains_key("properties") => vec!["object"],
            _ => return vec![any_value()],
        };
        types
            .into_iter()
            .flat_map(|t| self.of_type(t, obj, depth))
            .collect()
    }

    fn of_type(&self, ty: &str, obj: &Map<String, Value>, depth: usize) -> Vec<Value> {
        let max = self.mode == Mode::Maximal;
        match ty {
            "string" => vec![Value::from(
                match obj.get("format").and_then(Value::as_str) {
                    Some("uri") => "https://example.com/a",
                    Some("uri-template") => "https://example.com/{id}",
                    Some("byte") => "aGVsbG8=",
                    _ => "text",
                },
            )],
            "integer" => vec![json!(1)],
            // A fraction and an integral value: both must come back exactly as sent.
            "number" if max => vec![json!(0.5), json!(1)],
            "number" => vec![json!(0.5)],
            "boolean" if max => vec![json!(true), json!(false)],
            "boolean" => vec![json!(true)],
            "null" => vec![Value::Null],
            "array" => {
                if !max {
                    return vec![json!([])];
                }
                let items = obj
                    .get("items")
                    .map(|i| self.instances(i, depth + 1))
                    .unwrap_or_else(|| vec![any_value()]);
                vec![Value::Array(items)]
            }
            "object" => self.object(obj, depth),
            other => panic!("unhandled JSON type {other}"),
        }
    }

    fn object(&self, obj: &Map<String, Value>, depth: usize) -> Vec<Value> {
        let max = self.mode == Mode::Maximal;
        let required: BTreeSet<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let empty = Map::new();
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut members: Vec<(String, Vec<Value>)> = props
            .iter()
            .filter(|(name, _)| max || required.contains(name.as_str()))
            .map(|(name, schema)| (name.clone(), self.instances(schema, depth + 1)))
            .collect();
        if max {
            match obj.get("additionalProperties") {
                // A schema for the extra members: add one that follows it.
                Some(ap @ Value::Object(m)) if !m.is_empty() => {
                    members.push(("key1".into(), self.instances(ap, depth + 1)));
                }
                Some(Value::Bool(false)) => {}
                // Absent, `true` or `{}`: anything goes, so add an unknown member.
                _ if self.unknown_members => {
                    members.push(("x-unknown".into(), vec![any_value()]));
                }
                _ => {}
            }
        }
        let n = members
            .iter()
            .map(|(_, v)| v.len())
            .max()
            .unwrap_or(1)
            .max(1);
        (0..n)
            .map(|k| {
                Value::Object(
                    members
                        .iter()
                        .map(|(name, variants)| {
                            (name.clone(), variants[k % variants.len()].clone())
                        })
                        .collect(),
                )
            })
            .collect()
    }
}

fn generate(spec: &Spec, schema: &Value, mode: Mode, unknown_members: bool) -> Vec<Value> {
    Generator {
        defs: spec.defs(),
        mode,
        unknown_members,
    }
    .instances(schema, 0)
}

// ---------------------------------------------------------------------------------------
// Definition name → Rust type
// ---------------------------------------------------------------------------------------

type RoundTrip = fn(&Value) -> Result<Value, String>;

fn round_trip<T: Serialize + DeserializeOwned>(value: &Value) -> Result<Value, String> {
    let typed: T =
        serde_json::from_value(value.clone()).map_err(|e| format!("deserialise: {e}"))?;
    serde_json::to_value(&typed).map_err(|e| format!("serialise: {e}"))
}

struct Entry {
    name: &'static str,
    round_trip: RoundTrip,
    /// The Rust type keeps unknown members (`extra`).
    keeps_unknown: bool,
}

macro_rules! type_table {
    ($($name:literal => $ty:ty $(, $closed:ident)?;)*) => {
        vec![$(Entry {
            name: $name,
            round_trip: round_trip::<$ty>,
            keeps_unknown: type_table!(@keeps $($closed)?),
        }),*]
    };
    (@keeps) => { true };
    (@keeps closed) => { false };
}

/// Every 2025-11-25 definition that is a data type, and the Rust type it maps to.
fn type_table() -> Vec<Entry> {
    type_table! {
        "Annotations" => Annotations;
        // Content structs do not carry their `type` tag; the tagged union does.
        "AudioContent" => ContentBlock;
        "BaseMetadata" => BaseMetadata;
        "BlobResourceContents" => BlobResourceContents;
        "BooleanSchema" => BooleanSchema;
        "CallToolRequestParams" => CallToolRequestParams;
        "CallToolResult" => CallToolResult;
        "CancelTaskResult" => CancelTaskResult;
        "CancelledNotificationParams" => CancelledNotificationParams;
        "ClientCapabilities" => ClientCapabilities;
        "CompleteRequestParams" => CompleteRequestParams;
        "CompleteResult" => CompleteResult;
        "ContentBlock" => ContentBlock;
        "CreateMessageRequestParams" => CreateMessageRequestParams;
        "CreateMessageResult" => CreateMessageResult;
        "CreateTaskResult" => CreateTaskResult;
        "Cursor" => Cursor;
        "ElicitRequestFormParams" => ElicitRequestFormParams;
        "ElicitRequestParams" => ElicitRequestParams;
        "ElicitRequestURLParams" => ElicitRequestURLParams;
        "ElicitResult" => ElicitResult;
        "EmbeddedResource" => ContentBlock;
        "EmptyResult" => EmptyResult;
        "EnumSchema" => EnumSchema;
        // The JSON-RPC error object lives in `crate::error` and keeps no unknown members.
        "Error" => ErrorObject, closed;
        "GetPromptRequestParams" => GetPromptRequestParams;
        "GetPromptResult" => GetPromptResult;
        "GetTaskPayloadResult" => GetTaskPayloadResult;
        "GetTaskResult" => GetTaskResult;
        "Icon" => Icon;
        "Icons" => Icons;
        "ImageContent" => ContentBlock;
        "Implementation" => Implementation;
        "InitializeRequestParams" => InitializeRequestParams;
        "InitializeResult" => InitializeResult;
        "LegacyTitledEnumSchema" => LegacyTitledEnumSchema;
        "ListPromptsResult" => ListPromptsResult;
        "ListResourceTemplatesResult" => ListResourceTemplatesResult;
        "ListResourcesResult" => ListResourcesResult;
        "ListRootsResult" => ListRootsResult;
        "ListTasksResult" => ListTasksResult;
        "ListToolsResult" => ListToolsResult;
        "LoggingLevel" => LoggingLevel;
        "LoggingMessageNotificationParams" => LoggingMessageNotificationParams;
        "ModelHint" => ModelHint;
        "ModelPreferences" => ModelPreferences;
        "MultiSelectEnumSchema" => MultiSelectEnumSchema;
        "NotificationParams" => NotificationParams;
        "NumberSchema" => NumberSchema;
        "PaginatedRequestParams" => PaginatedRequestParams;
        "PaginatedResult" => PaginatedResult;
        "PrimitiveSchemaDefinition" => PrimitiveSchemaDefinition;
        "ProgressNotificationParams" => ProgressNotificationParams;
        "ProgressToken" => ProgressToken;
        "Prompt" => Prompt;
        "PromptArgument" => PromptArgument;
        "PromptMessage" => PromptMessage;
        "PromptReference" => PromptReference;
        "ReadResourceRequestParams" => ReadResourceRequestParams;
        "ReadResourceResult" => ReadResourceResult;
        "RelatedTaskMetadata" => RelatedTaskMetadata;
        "RequestId" => RequestId;
        "RequestParams" => RequestParams;
        "Resource" => Resource;
        "ResourceLink" => ContentBlock;
        "ResourceRequestParams" => ResourceRequestParams;
        "ResourceTemplate" => ResourceTemplate;
        "ResourceTemplateReference" => ResourceTemplateReference;
        "ResourceUpdatedNotificationParams" => ResourceUpdatedNotificationParams;
        // The schema's generic `Result` (`_meta` + anything) is `EmptyResult`'s shape.
        "Result" => EmptyResult;
        "Role" => Role;
        "Root" => Root;
        "SamplingMessage" => SamplingMessage;
        "SamplingMessageContentBlock" => SamplingMessageContentBlock;
        "ServerCapabilities" => ServerCapabilities;
        "SetLevelRequestParams" => SetLevelRequestParams;
        "SingleSelectEnumSchema" => SingleSelectEnumSchema;
        "StringSchema" => StringSchema;
        "SubscribeRequestParams" => SubscribeRequestParams;
        "Task" => Task;
        "TaskAugmentedRequestParams" => TaskAugmentedRequestParams;
        "TaskMetadata" => TaskMetadata;
        "TaskStatus" => TaskStatus;
        "TaskStatusNotificationParams" => TaskStatusNotificationParams;
        "TextContent" => ContentBlock;
        "TextResourceContents" => TextResourceContents;
        "TitledMultiSelectEnumSchema" => TitledMultiSelectEnumSchema;
        "TitledSingleSelectEnumSchema" => TitledSingleSelectEnumSchema;
        "Tool" => Tool;
        "ToolAnnotations" => ToolAnnotations;
        "ToolChoice" => ToolChoice;
        "ToolExecution" => ToolExecution;
        "ToolResultContent" => SamplingMessageContentBlock;
        "ToolUseContent" => SamplingMessageContentBlock;
        "UnsubscribeRequestParams" => UnsubscribeRequestParams;
        "UntitledMultiSelectEnumSchema" => UntitledMultiSelectEnumSchema;
        "UntitledSingleSelectEnumSchema" => UntitledSingleSelectEnumSchema;
    }
}

/// 2025-11-25 definitions without a Rust type of their own. Each is still exercised:
/// messages go through `Message` (see `envelope_definitions_round_trip`), their params
/// through the method table.
const SKIPPED_2025_11_25: &[&str] = &[
    // Whole JSON-RPC messages (jsonrpc/id/method/params); the envelope is `Message`.
    "CallToolRequest",
    "CancelTaskRequest",
    "CancelledNotification",
    "CompleteRequest",
    "CreateMessageRequest",
    "ElicitRequest",
    "ElicitationCompleteNotification",
    "GetPromptRequest",
    "GetTaskPayloadRequest",
    "GetTaskRequest",
    "InitializeRequest",
    "InitializedNotification",
    "JSONRPCErrorResponse",
    "JSONRPCNotification",
    "JSONRPCRequest",
    "JSONRPCResultResponse",
    "ListPromptsRequest",
    "ListResourceTemplatesRequest",
    "ListResourcesRequest",
    "ListRootsRequest",
    "ListTasksRequest",
    "ListToolsRequest",
    "LoggingMessageNotification",
    "PaginatedRequest",
    "PingRequest",
    "ProgressNotification",
    "PromptListChangedNotification",
    "ReadResourceRequest",
    "ResourceListChangedNotification",
    "ResourceUpdatedNotification",
    "RootsListChangedNotification",
    "SetLevelRequest",
    "SubscribeRequest",
    "TaskStatusNotification",
    "ToolListChangedNotification",
    "URLElicitationRequiredError",
    "UnsubscribeRequest",
    // Unions of whole messages.
    "ClientNotification",
    "ClientRequest",
    "JSONRPCMessage",
    "JSONRPCResponse",
    "ServerNotification",
    "ServerRequest",
    // Generic `{method, params}` without `jsonrpc`: the envelope's abstract base.
    "Notification",
    "Request",
    // Unions of result types: every member has its own entry; which one applies is
    // decided by the request method (`McpRequest::Result`).
    "ClientResult",
    "ServerResult",
    // The abstract base of text/blob contents (`uri`, `mimeType`, `_meta` only). Rust's
    // `ResourceContents` is the text|blob union that actually travels.
    "ResourceContents",
];

/// Definitions of older versions that were renamed by 2025-11-25: old name → current name.
const RENAMED: &[(&str, &str)] = &[("ResourceReference", "ResourceTemplateReference")];

/// Definitions of older versions with no 2025-11-25 counterpart, and why.
const OLD_ONLY: &[(&str, &str)] = &[
    (
        "Annotated",
        "2024-11-05 base type holding `annotations`; every content type carries \
         `annotations: Option<Annotations>` itself (covered through those types)",
    ),
    (
        "JSONRPCBatchRequest",
        "2025-03-26 batches: removed in 2025-06-18; Message::parse answers them with -32600",
    ),
    (
        "JSONRPCBatchResponse",
        "2025-03-26 batches: removed in 2025-06-18; Message::parse answers them with -32600",
    ),
];

// ---------------------------------------------------------------------------------------
// Method name → params type
// ---------------------------------------------------------------------------------------

macro_rules! method_table {
    (requests: $($r:ty),*; notifications: $($n:ty),*;) => {{
        let mut table: BTreeMap<&'static str, RoundTrip> = BTreeMap::new();
        $(table.insert(<$r as McpRequest>::METHOD, round_trip::<<$r as McpRequest>::Params>);)*
        $(table.insert(<$n as McpNotification>::METHOD, round_trip::<<$n as McpNotification>::Params>);)*
        table
    }};
}

fn params_table() -> BTreeMap<&'static str, RoundTrip> {
    method_table! {
        requests: Initialize, Ping, ListResources, ListResourceTemplates, ReadResource,
            Subscribe, Unsubscribe, ListPrompts, GetPrompt, ListTools, CallTool, GetTask,
            GetTaskPayload, CancelTask, ListTasks, SetLevel, Complete, CreateMessage,
            ListRoots, Elicit;
        notifications: Cancelled, Initialized, Progress, TaskStatusChanged, RootsListChanged,
            ResourceListChanged, ResourceUpdated, PromptListChanged, ToolListChanged,
            LoggingMessage, ElicitationComplete;
    }
}

/// Request method → (name of its result definition, round trip through
/// `McpRequest::Result`).
fn result_table() -> BTreeMap<&'static str, (&'static str, RoundTrip)> {
    macro_rules! results {
        ($($r:ty => $name:literal),* $(,)?) => {{
            let mut t: BTreeMap<&'static str, (&'static str, RoundTrip)> = BTreeMap::new();
            $(t.insert(
                <$r as McpRequest>::METHOD,
                ($name, round_trip::<<$r as McpRequest>::Result>),
            );)*
            t
        }};
    }
    results! {
        Initialize => "InitializeResult",
        Ping => "EmptyResult",
        ListResources => "ListResourcesResult",
        ListResourceTemplates => "ListResourceTemplatesResult",
        ReadResource => "ReadResourceResult",
        Subscribe => "EmptyResult",
        Unsubscribe => "EmptyResult",
        ListPrompts => "ListPromptsResult",
        GetPrompt => "GetPromptResult",
        ListTools => "ListToolsResult",
        CallTool => "CallToolResult",
        GetTask => "GetTaskResult",
        GetTaskPayload => "GetTaskPayloadResult",
        CancelTask => "CancelTaskResult",
        ListTasks => "ListTasksResult",
        SetLevel => "EmptyResult",
        Complete => "CompleteResult",
        CreateMessage => "CreateMessageResult",
        ListRoots => "ListRootsResult",
        Elicit => "ElicitResult",
    }
}

// ---------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------

/// Generates minimal and maximal instances of `schema`, round-trips each with `rt`, and
/// validates the output with `validator`. Returns the number of instances checked.
fn check_instances(
    spec: &Spec,
    label: &str,
    schema: &Value,
    rt: RoundTrip,
    keeps_unknown: bool,
    validator: Option<&jsonschema::Validator>,
    failures: &mut Vec<String>,
) -> usize {
    let mut instances = generate(spec, schema, Mode::Minimal, false);
    instances.extend(generate(spec, schema, Mode::Maximal, keeps_unknown));
    for instance in &instances {
        if let Some(v) = validator
            && let Err(e) = validate(v, instance)
        {
            failures.push(format!(
                "{} {label}: generated instance {e}: {instance}",
                spec.version
            ));
            continue;
        }
        match rt(instance) {
            Err(e) => failures.push(format!("{} {label}: {e}: {instance}", spec.version)),
            Ok(back) if &back != instance => failures.push(format!(
                "{} {label}: round trip differs\n   in:  {instance}\n   out: {back}",
                spec.version
            )),
            Ok(back) => {
                if let Some(v) = validator
                    && let Err(e) = validate(v, &back)
                {
                    failures.push(format!("{} {label}: output {e}: {back}", spec.version));
                }
            }
        }
    }
    instances.len()
}

fn message_round_trip(value: &Value) -> Result<Value, String> {
    let mut bytes = serde_json::to_vec(value).map_err(|e| e.to_string())?;
    let message = Message::parse(&mut bytes).map_err(|e| format!("Message::parse: {e}"))?;
    serde_json::to_value(&message).map_err(|e| e.to_string())
}

/// JSON-RPC 2.0 requires `id` on every response (null when unknown); MCP's schema makes
/// it optional on error responses. erlmcp always writes it, so an input without it
/// comes back with `"id": null`.
fn normalise_error_id(value: &Value) -> Value {
    let mut value = value.clone();
    if let Value::Object(m) = &mut value
        && m.contains_key("error")
        && !m.contains_key("id")
    {
        m.insert("id".into(), Value::Null);
    }
    value
}

/// Validates a message erlmcp wrote. Known deviation, kept visible here: for an error
/// response whose request id could not be read, erlmcp writes `"id": null` as JSON-RPC
/// 2.0 requires, while the MCP schemas want a `RequestId` (≤ 2025-06-18, where `null` is
/// not allowed at all) or no `id` (2025-11-25). The output is validated with that `null`
/// removed; every other member must validate as is.
fn validate_message(validator: &jsonschema::Validator, value: &Value) -> Result<(), String> {
    let mut value = value.clone();
    if let Value::Object(m) = &mut value
        && m.contains_key("error")
        && m.get("id") == Some(&Value::Null)
    {
        m.remove("id");
    }
    validate(validator, &value)
}

/// Round-trips the params of a request/notification definition through its params type.
fn check_params(
    spec: &Spec,
    name: &str,
    method: &str,
    params_table: &BTreeMap<&'static str, RoundTrip>,
    failures: &mut Vec<String>,
) -> usize {
    let Some(rt) = params_table.get(method) else {
        failures.push(format!(
            "{} {name}: method {method} has no McpRequest/McpNotification marker",
            spec.version
        ));
        return 0;
    };
    let Some(params) = spec.def(name).pointer("/properties/params") else {
        return 0;
    };
    let pointer = format!("{name}/properties/params");
    check_instances(
        spec,
        &format!("{pointer} ({method})"),
        params,
        *rt,
        true,
        None,
        failures,
    )
}

fn is_message_def(def: &Value) -> bool {
    def.pointer("/properties/jsonrpc").is_some()
}

#[test]
fn every_2025_11_25_definition_round_trips_and_validates() {
    let spec = Spec::load("2025-11-25");
    let table = type_table();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut covered = BTreeSet::new();
    for entry in &table {
        assert!(
            spec.defs().contains_key(entry.name),
            "type table names {}, which 2025-11-25 does not define",
            entry.name
        );
        assert!(covered.insert(entry.name), "{} listed twice", entry.name);
        let validator = spec.validator(entry.name);
        checked += check_instances(
            &spec,
            entry.name,
            spec.def(entry.name),
            entry.round_trip,
            entry.keeps_unknown,
            Some(&validator),
            &mut failures,
        );
    }
    let skipped: BTreeSet<&str> = SKIPPED_2025_11_25.iter().copied().collect();
    let overlap: Vec<_> = covered.intersection(&skipped).collect();
    assert!(overlap.is_empty(), "both covered and skipped: {overlap:?}");
    let all: BTreeSet<&str> = spec.defs().keys().map(String::as_str).collect();
    let accounted: BTreeSet<&str> = covered.union(&skipped).copied().collect();
    let missing: Vec<_> = all.difference(&accounted).collect();
    let unknown: Vec<_> = accounted.difference(&all).collect();
    assert!(
        missing.is_empty(),
        "2025-11-25 definitions with neither a Rust type nor a skip entry: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "listed but not in the schema: {unknown:?}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "2025-11-25: {} definitions, {checked} instances",
        table.len()
    );
}

/// The skipped message definitions of 2025-11-25: whole messages round-trip through
/// `Message`, and their params through the method table's params types.
#[test]
fn envelope_definitions_round_trip_through_message_and_params() {
    let spec = Spec::load("2025-11-25");
    let params_table = params_table();
    let mut failures = Vec::new();
    let mut checked = 0;
    for name in SKIPPED_2025_11_25 {
        let def = spec.def(name);
        let is_union_of_messages = def.get("anyOf").and_then(Value::as_array).is_some_and(|b| {
            b.iter().all(|r| {
                let target = r["$ref"].as_str().unwrap_or("").rsplit('/').next();
                target.is_some_and(|t| is_message_def(spec.def(t)))
            })
        });
        if is_message_def(def) || is_union_of_messages {
            let validator = spec.validator(name);
            let mut instances = generate(&spec, def, Mode::Minimal, false);
            instances.extend(generate(&spec, def, Mode::Maximal, false));
            for instance in &instances {
                checked += 1;
                match message_round_trip(instance) {
                    Err(e) => failures.push(format!("{name}: {e}: {instance}")),
                    Ok(back) if back != normalise_error_id(instance) => failures.push(format!(
                        "{name}: Message round trip differs\n   in:  {instance}\n   out: {back}"
                    )),
                    Ok(back) => {
                        if let Err(e) = validate_message(&validator, &back) {
                            failures.push(format!("{name}: output {e}: {back}"));
                        }
                    }
                }
            }
        }
        if let Some(method) = spec.method_of(name) {
            checked += check_params(&spec, name, method, &params_table, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("2025-11-25 envelopes: {checked} instances");
}

/// Method names, markers and result types agree with the schema's unions.
#[test]
fn method_table_matches_the_schema() {
    let spec = Spec::load("2025-11-25");
    let members = |union: &str| -> BTreeSet<String> {
        spec.def(union)["anyOf"]
            .as_array()
            .expect("union")
            .iter()
            .filter_map(|r| r["$ref"].as_str())
            .filter_map(|r| r.rsplit('/').next())
            .filter_map(|name| spec.method_of(name).map(str::to_owned))
            .collect()
    };
    let set =
        |list: &[&str]| -> BTreeSet<String> { list.iter().map(|s| (*s).to_owned()).collect() };
    assert_eq!(members("ClientRequest"), set(methods::CLIENT_REQUESTS));
    assert_eq!(members("ServerRequest"), set(methods::SERVER_REQUESTS));
    assert_eq!(
        members("ClientNotification"),
        set(methods::CLIENT_NOTIFICATIONS)
    );
    assert_eq!(
        members("ServerNotification"),
        set(methods::SERVER_NOTIFICATIONS)
    );

    let params = params_table();
    let all_methods: BTreeSet<&str> = spec
        .defs()
        .keys()
        .filter_map(|name| spec.method_of(name))
        .collect();
    let marked: BTreeSet<&str> = params.keys().copied().collect();
    assert_eq!(all_methods, marked, "every method has exactly one marker");

    // Every request has a result type, and that type round-trips the schema's result
    // definition for the method.
    let requests: BTreeSet<String> = set(methods::CLIENT_REQUESTS)
        .union(&set(methods::SERVER_REQUESTS))
        .cloned()
        .collect();
    let results = result_table();
    assert_eq!(
        results
            .keys()
            .map(|m| (*m).to_owned())
            .collect::<BTreeSet<_>>(),
        requests
    );
    let mut failures = Vec::new();
    for (method, (result, rt)) in &results {
        let validator = spec.validator(result);
        check_instances(
            &spec,
            &format!("{result} as McpRequest::Result of {method}"),
            spec.def(result),
            *rt,
            true,
            Some(&validator),
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Spot-check the associated types compile to the expected ones.
    fn same<A: 'static, B: 'static>() -> bool {
        std::any::TypeId::of::<A>() == std::any::TypeId::of::<B>()
    }
    assert!(same::<<CallTool as McpRequest>::Result, CallToolResult>());
    assert!(same::<<Ping as McpRequest>::Result, EmptyResult>());
    assert!(same::<<Elicit as McpRequest>::Params, ElicitRequestParams>());
    assert!(same::<
        <Progress as McpNotification>::Params,
        ProgressNotificationParams,
    >());
}

/// Older versions: every definition with a 2025-11-25 counterpart round-trips through
/// it (older shapes are subsets), request/notification params through the method table,
/// whole messages through `Message`; the rest is listed in `OLD_ONLY` with a reason.
#[test]
fn older_versions_round_trip_through_the_current_types() {
    let table = type_table();
    let by_name: BTreeMap<&str, &Entry> = table.iter().map(|e| (e.name, e)).collect();
    let params_table = params_table();
    let mut failures = Vec::new();
    for version in ["2024-11-05", "2025-03-26", "2025-06-18"] {
        let spec = Spec::load(version);
        let mut checked = 0;
        let mut typed = 0;
        for (name, def) in spec.defs() {
            let current = RENAMED
                .iter()
                .find(|(old, _)| old == name)
                .map_or(name.as_str(), |(_, new)| new);
            if let Some(entry) = by_name.get(current) {
                let validator = spec.validator(name);
                typed += 1;
                checked += check_instances(
                    &spec,
                    name,
                    def,
                    entry.round_trip,
                    entry.keeps_unknown,
                    Some(&validator),
                    &mut failures,
                );
            } else if is_message_def(def) {
                // Whole JSON-RPC messages.
                let validator = spec.validator(name);
                let mut instances = generate(&spec, def, Mode::Minimal, false);
                instances.extend(generate(&spec, def, Mode::Maximal, false));
                for instance in &instances {
                    checked += 1;
                    match message_round_trip(instance) {
                        Ok(back) if back == normalise_error_id(instance) => {
                            if let Err(e) = validate_message(&validator, &back) {
                                failures.push(format!("{version} {name}: output {e}"));
                            }
                        }
                        Ok(back) => failures.push(format!(
                            "{version} {name}: differs\n   in:  {instance}\n   out: {back}"
                        )),
                        Err(e) => failures.push(format!("{version} {name}: {e}: {instance}")),
                    }
                }
            } else if SKIPPED_2025_11_25.contains(&name.as_str()) {
                // Skipped for the same reason as in 2025-11-25 (older method definitions
                // have no `jsonrpc`/`id`; their params are checked below).
            } else if !OLD_ONLY.iter().any(|(old, _)| old == name) {
                failures.push(format!(
                    "{version} {name}: no Rust counterpart and no OLD_ONLY entry"
                ));
            }
            if let Some(method) = spec.method_of(name) {
                checked += check_params(&spec, name, method, &params_table, &mut failures);
            }
        }
        eprintln!("{version}: {typed} typed definitions, {checked} instances");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// 2026-07-28 examples
// ---------------------------------------------------------------------------------------

/// Examples that cannot go through the 2025-11-25 type of the same name, and why.
/// None since `ElicitRequestURLParams.elicitationId` became optional (2026-07-28).
const EXAMPLE_EXCEPTIONS: &[(&str, &str)] = &[];

#[derive(Default, Debug)]
struct ExampleCounts {
    messages: usize,
    typed: usize,
    params: usize,
    results: usize,
    error_objects: usize,
    generic: usize,
    exceptions: usize,
}

#[test]
fn every_2026_07_28_example_round_trips() {
    let dir = spec_dir().join("2026-07-28/examples");
    assert!(dir.is_dir(), "missing {}", dir.display());
    let mut table = type_table();
    table.extend(modern_type_table());
    let by_name: BTreeMap<&str, &Entry> = table.iter().map(|e| (e.name, e)).collect();
    let params_table = params_table();
    let mut files = Vec::new();
    for type_dir in std::fs::read_dir(&dir).expect("read examples") {
        let type_dir = type_dir.expect("dir entry").path();
        for file in std::fs::read_dir(&type_dir).expect("read example dir") {
            let file = file.expect("file entry").path();
            if file.extension().is_some_and(|e| e == "json") {
                files.push(file);
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 100,
        "only {} example files found",
        files.len()
    );

    let mut counts = ExampleCounts::default();
    let mut failures = Vec::new();
    for file in &files {
        let type_name = file
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .expect("type directory");
        let rel = format!(
            "{type_name}/{}",
            file.file_name().and_then(|n| n.to_str()).expect("name")
        );
        let bytes = std::fs::read(file).expect("read example");
        let value: Value = serde_json::from_slice(&bytes).expect("example is JSON");
        let check = |failures: &mut Vec<String>, what: &str, rt: RoundTrip, input: &Value| match rt(
            input,
        ) {
            Ok(back) if &back == input => {}
            Ok(back) => failures.push(format!(
                "{rel} ({what}): differs\n   in:  {input}\n   out: {back}"
            )),
            Err(e) => failures.push(format!("{rel} ({what}): {e}")),
        };

        if let Some((_, why)) = EXAMPLE_EXCEPTIONS.iter().find(|(f, _)| *f == rel) {
            let rt = by_name[type_name].round_trip;
            assert!(
                rt(&value).is_err(),
                "{rel} is listed as an exception ({why}) but now round-trips: remove it"
            );
            counts.exceptions += 1;
            continue;
        }

        if value.get("jsonrpc").is_some() {
            // A whole message: through `Message`, with the original bytes.
            let mut buf = bytes.clone();
            match Message::parse(&mut buf) {
                Err(e) => failures.push(format!("{rel}: Message::parse: {e}")),
                Ok(message) => {
                    let back = serde_json::to_value(&message).expect("serialise message");
                    if back != value {
                        failures.push(format!(
                            "{rel}: Message round trip differs\n   in:  {value}\n   out: {back}"
                        ));
                    }
                    counts.messages += 1;
                    match &message {
                        Message::Request(r) => {
                            if let (Some(rt), Some(p)) =
                                (params_table.get(r.method.as_str()), &r.params)
                            {
                                check(&mut failures, &r.method, *rt, p);
                                counts.params += 1;
                            }
                        }
                        Message::Notification(n) => {
                            if let (Some(rt), Some(p)) =
                                (params_table.get(n.method.as_str()), &n.params)
                            {
                                check(&mut failures, &n.method, *rt, p);
                                counts.params += 1;
                            }
                        }
                        Message::Response(r) => {
                            // `XResultResponse` examples hold an `XResult`.
                            let result_name = type_name.strip_suffix("Response").unwrap_or("");
                            if let Some(entry) = by_name.get(result_name) {
                                check(&mut failures, result_name, entry.round_trip, &r.result);
                                counts.results += 1;
                            }
                        }
                        Message::Error(_) => {}
                    }
                }
            }
        } else if let Some(entry) = by_name.get(type_name) {
            check(&mut failures, type_name, entry.round_trip, &value);
            counts.typed += 1;
        } else if let Some(method) = value.get("method").and_then(Value::as_str) {
            // A request embedded in an input-required result (no `jsonrpc`/`id`).
            let rt = params_table
                .get(method)
                .unwrap_or_else(|| panic!("{rel}: unknown method {method}"));
            if let Some(params) = value.get("params") {
                check(&mut failures, method, *rt, params);
                counts.params += 1;
            }
        } else if value.get("code").is_some() && value.get("message").is_some() {
            check(
                &mut failures,
                "ErrorObject",
                round_trip::<ErrorObject>,
                &value,
            );
            counts.error_objects += 1;
        } else {
            // 2026-07-28-only shapes (DiscoverResult, InputRequiredResult, …): kept
            // whole by the generic result type.
            check(
                &mut failures,
                "EmptyResult",
                round_trip::<EmptyResult>,
                &value,
            );
            counts.generic += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("2026-07-28 examples: {} files, {counts:?}", files.len());
}

/// 2026-07-28 definitions with no handshake-era counterpart, and their Rust types.
fn modern_type_table() -> Vec<Entry> {
    type_table! {
        "CacheableResult" => EmptyResult;
        // Server requests embedded in `inputRequests` (no JSON-RPC envelope).
        "CreateMessageRequest" => InputRequest;
        "ElicitRequest" => InputRequest;
        "ListRootsRequest" => InputRequest;
        // Named JSON-RPC error objects (a fixed `code` each).
        "InternalError" => ErrorObject, closed;
        "InvalidParamsError" => ErrorObject, closed;
        "InvalidRequestError" => ErrorObject, closed;
        "MethodNotFoundError" => ErrorObject, closed;
        "ParseError" => ErrorObject, closed;
        "DiscoverResult" => DiscoverResult;
        "InputRequest" => InputRequest;
        "InputRequests" => InputRequests, closed;
        "InputRequiredResult" => InputRequiredResult;
        "InputResponse" => serde_json::Value;
        "InputResponseRequestParams" => RequestParams;
        "InputResponses" => InputResponses, closed;
        "JSONArray" => Vec<Value>;
        "JSONObject" => JsonObject;
        "JSONValue" => Value;
        "MetaObject" => Meta;
        "NotificationMetaObject" => Meta;
        "RequestMetaObject" => Meta;
        "ResultMetaObject" => Meta;
        "ResultType" => ResultType;
        "SubscriptionFilter" => SubscriptionFilter;
        "SubscriptionsAcknowledgedNotificationParams" => SubscriptionsAcknowledgedNotificationParams;
        "SubscriptionsListenRequestParams" => SubscriptionsListenRequestParams;
        "SubscriptionsListenResult" => SubscriptionsListenResult;
        "SubscriptionsListenResultMetaObject" => Meta;
    }
}

/// Every 2026-07-28 data definition round-trips through the Rust types and the output
/// validates against the 2026-07-28 schema: the new ones through [`modern_type_table`],
/// the ones shared with 2025-11-25 through the same types as there (their new members —
/// `resultType`, `ttlMs`, `cacheScope`, `inputResponses`, `requestState` — are kept).
/// A `RequestMeta` built by the engine validates as a `RequestMetaObject`.
#[test]
fn every_2026_07_28_definition_round_trips_and_validates() {
    let spec = Spec::load("2026-07-28");
    let mut table = modern_type_table();
    table.extend(
        type_table()
            .into_iter()
            .filter(|e| spec.defs().contains_key(e.name)),
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut covered = BTreeSet::new();
    for entry in &table {
        assert!(
            spec.defs().contains_key(entry.name),
            "2026 table names {}, which 2026-07-28 does not define",
            entry.name
        );
        assert!(covered.insert(entry.name), "{} listed twice", entry.name);
        let validator = spec.validator(entry.name);
        checked += check_instances(
            &spec,
            entry.name,
            spec.def(entry.name),
            entry.round_trip,
            entry.keeps_unknown,
            Some(&validator),
            &mut failures,
        );
    }
    // What is left must be whole messages (through `Message`) or unions of them.
    let leftovers: Vec<&String> = spec
        .defs()
        .iter()
        .filter(|(name, def)| {
            !covered.contains(name.as_str())
                && !is_message_def(def)
                && !def.get("anyOf").and_then(Value::as_array).is_some_and(|b| {
                    b.iter().all(|r| {
                        let t = r["$ref"].as_str().unwrap_or("").rsplit('/').next();
                        t.is_some_and(|t| is_message_def(spec.def(t)))
                    })
                })
        })
        .map(|(name, _)| name)
        .filter(|name| {
            // Abstract bases handled like their 2025-11-25 counterparts.
            ![
                "Request",
                "Notification",
                "ResourceContents",
                "ClientResult",
                "ServerResult",
            ]
            .contains(&name.as_str())
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "2026-07-28 data definitions without a Rust type: {leftovers:?}"
    );

    // Messages: every 2026 message definition round-trips through `Message`.
    for (name, def) in spec.defs() {
        if !is_message_def(def) {
            continue;
        }
        let validator = spec.validator(name);
        let mut instances = generate(&spec, def, Mode::Minimal, false);
        instances.extend(generate(&spec, def, Mode::Maximal, false));
        for instance in &instances {
            checked += 1;
            match message_round_trip(instance) {
                Err(e) => failures.push(format!("{name}: {e}: {instance}")),
                Ok(back) if back != normalise_error_id(instance) => failures.push(format!(
                    "{name}: Message round trip differs\n   in:  {instance}\n   out: {back}"
                )),
                Ok(back) => {
                    if let Err(e) = validate_message(&validator, &back) {
                        failures.push(format!("{name}: output {e}: {back}"));
                    }
                }
            }
        }
    }

    // A request `_meta` as the engine writes it is a valid `RequestMetaObject`.
    let mut meta = RequestMeta::new("2026-07-28", ClientCapabilities::default());
    meta.client_info = Some(Implementation::new("erlmcp-test", "1.0.0"));
    meta.log_level = Some(LoggingLevel::Debug);
    let meta = serde_json::to_value(&meta).expect("serialise meta");
    if let Err(e) = validate(&spec.validator("RequestMetaObject"), &meta) {
        failures.push(format!("RequestMeta: {e}: {meta}"));
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "2026-07-28: {} definitions, {checked} instances",
        table.len()
    );
}

// ---------------------------------------------------------------------------------------
// The generator itself
// ---------------------------------------------------------------------------------------

/// The generator reaches every union branch and adds unknown members, and a lossy type
/// is caught: the checks above would not be worth much otherwise.
#[test]
fn generator_covers_unions_and_catches_lossy_types() {
    let spec = Spec::load("2025-11-25");
    let max = generate(&spec, spec.def("CallToolResult"), Mode::Maximal, true);
    assert_eq!(max.len(), 2, "isError true and false");
    let blocks = max[0]["content"].as_array().expect("content");
    let types: BTreeSet<&str> = blocks.iter().filter_map(|b| b["type"].as_str()).collect();
    assert_eq!(
        types,
        BTreeSet::from(["audio", "image", "resource", "resource_link", "text"])
    );
    assert!(max[0].get("x-unknown").is_some());
    assert!(blocks[0].get("x-unknown").is_some());
    assert!(blocks[0]["_meta"].get("x-unknown").is_some());
    let min = generate(&spec, spec.def("CallToolResult"), Mode::Minimal, false);
    assert_eq!(min, vec![json!({"content": []})]);
    let levels = generate(&spec, spec.def("LoggingLevel"), Mode::Minimal, false);
    assert_eq!(levels.len(), 8);

    // ErrorObject drops unknown members: checking it as if it kept them must fail.
    let mut failures = Vec::new();
    check_instances(
        &spec,
        "Error",
        spec.def("Error"),
        round_trip::<ErrorObject>,
        true,
        None,
        &mut failures,
    );
    assert!(!failures.is_empty());
}
