//! Elicitation: `elicitation/create` (server → client) in form mode (2025-06-18) and
//! URL mode (2025-11-25), the restricted JSON Schema subset a form may use
//! ([`PrimitiveSchemaDefinition`] and the enum schema family), [`ElicitResult`] and
//! `notifications/elicitation/complete`.
//!
//! The schema unions are discriminated by `type` and by which keywords are present:
//!
//! | `type`                  | keyword present | Rust type |
//! |-------------------------|-----------------|-----------|
//! | `string`                | `oneOf`         | [`TitledSingleSelectEnumSchema`] |
//! | `string`                | `enumNames`     | [`LegacyTitledEnumSchema`] (2025-06-18's `EnumSchema`) |
//! | `string`                | `enum`          | [`UntitledSingleSelectEnumSchema`] |
//! | `string`                | none of those   | [`StringSchema`] |
//! | `number` / `integer`    |                 | [`NumberSchema`] |
//! | `boolean`               |                 | [`BooleanSchema`] |
//! | `array`                 | `items.anyOf`   | [`TitledMultiSelectEnumSchema`] |
//! | `array`                 | otherwise       | [`UntitledMultiSelectEnumSchema`] |

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Number, Value};

use super::common::{Meta, const_tag};
use super::tasks::TaskMetadata;

const_tag!(
    /// `"type": "string"` in a primitive schema.
    StringType = "string"
);
const_tag!(
    /// `"type": "boolean"` in a primitive schema.
    BooleanType = "boolean"
);
const_tag!(
    /// `"type": "array"` in a multi-select enum schema.
    ArrayType = "array"
);
const_tag!(
    /// `"type": "object"` at the root of a requested schema.
    ObjectType = "object"
);
const_tag!(
    /// `"mode": "url"` of a URL-mode elicitation.
    UrlMode = "url"
);
const_tag!(
    /// `"mode": "form"` of a form-mode elicitation.
    FormMode = "form"
);

/// `type` of a [`NumberSchema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberType {
    /// Any number.
    Number,
    /// Whole numbers only.
    Integer,
}

/// `format` of a [`StringSchema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StringFormat {
    /// An e-mail address.
    Email,
    /// A URI.
    Uri,
    /// A calendar date.
    Date,
    /// A date and time (`date-time`).
    DateTime,
}

/// A string field of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StringSchema {
    /// Always `"string"`.
    pub r#type: StringType,
    /// Field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Field help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Expected format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// Default value (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A number field of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberSchema {
    /// `"number"` or `"integer"`.
    pub r#type: NumberType,
    /// Field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Field help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Number>,
    /// Maximum value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Number>,
    /// Default value (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Number>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A boolean field of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BooleanSchema {
    /// Always `"boolean"`.
    pub r#type: BooleanType,
    /// Field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Field help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One option of a titled enum: a value and its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledEnumOption {
    /// The value.
    pub r#const: String,
    /// The label.
    pub title: String,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Single choice among plain values (2025-11-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntitledSingleSelectEnumSchema {
    /// Always `"string"`.
    pub r#type: StringType,
    /// Field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Field help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The values.
    pub r#enum: Vec<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Single choice among labelled values (2025-11-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledSingleSelectEnumSchema {
    /// Always `"string"`.
    pub r#type: StringType,
    /// Field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Field help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The options.
    pub one_of: Vec<TitledEnumOption>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `items` of an [`UntitledMultiSelectEnumSchema`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntitledMultiSelectItems {
    /// Always `"string"`.
    pub r#type: StringType,
    /// The values.
    pub r#enum: Vec<String>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Multiple choice among plain values (2025-11-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntitledMultiSelectEnumSchema {
    /// Always `"array"`.
    pub r#type: ArrayType,
    /// Field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Field help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Maximum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The values.
    pub items: UntitledMultiSelectItems,
    /// Default selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `items` of a [`TitledMultiSelectEnumSchema`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledMultiSelectItems {
    /// The options.
    pub any_of: Vec<TitledEnumOption>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Multiple choice among labelled values (2025-11-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledMultiSelectEnumSchema {
    /// Always `"array"`.
    pub r#type: ArrayType,
    /// Field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Field help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Maximum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The options.
    pub items: TitledMultiSelectItems,
    /// Default selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Single choice with `enumNames` labels: the 2025-06-18 `EnumSchema`, deprecated in
/// 2025-11-25 in favour of [`TitledSingleSelectEnumSchema`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTitledEnumSchema {
    /// Always `"string"`.
    pub r#type: StringType,
    /// Field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Field help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The values.
    pub r#enum: Vec<String>,
    /// Labels for the values, in the same order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enum_names: Option<Vec<String>>,
    /// Default value (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which member of the primitive-schema union an object is (see the module table).
#[derive(Clone, Copy)]
enum PrimitiveKind {
    String,
    Number,
    Boolean,
    UntitledSingle,
    TitledSingle,
    UntitledMulti,
    TitledMulti,
    Legacy,
}

fn classify(map: &Map<String, Value>) -> PrimitiveKind {
    match map.get("type").and_then(Value::as_str) {
        Some("boolean") => PrimitiveKind::Boolean,
        Some("number" | "integer") => PrimitiveKind::Number,
        Some("array") => {
            let titled = map
                .get("items")
                .and_then(Value::as_object)
                .is_some_and(|items| items.contains_key("anyOf"));
            if titled {
                PrimitiveKind::TitledMulti
            } else {
                PrimitiveKind::UntitledMulti
            }
        }
        _ if map.contains_key("oneOf") => PrimitiveKind::TitledSingle,
        _ if map.contains_key("enumNames") => PrimitiveKind::Legacy,
        _ if map.contains_key("enum") => PrimitiveKind::UntitledSingle,
        _ => PrimitiveKind::String,
    }
}

fn from_map<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    map: Map<String, Value>,
) -> Result<T, E> {
    serde_json::from_value(Value::Object(map)).map_err(E::custom)
}

/// A field of an elicitation form: one of the eight primitive schema shapes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PrimitiveSchemaDefinition {
    /// A string.
    String(StringSchema),
    /// A number or integer.
    Number(NumberSchema),
    /// A boolean.
    Boolean(BooleanSchema),
    /// Single choice, plain values.
    UntitledSingleSelectEnum(UntitledSingleSelectEnumSchema),
    /// Single choice, labelled values.
    TitledSingleSelectEnum(TitledSingleSelectEnumSchema),
    /// Multiple choice, plain values.
    UntitledMultiSelectEnum(UntitledMultiSelectEnumSchema),
    /// Multiple choice, labelled values.
    TitledMultiSelectEnum(TitledMultiSelectEnumSchema),
    /// Single choice with `enumNames` (deprecated).
    LegacyTitledEnum(LegacyTitledEnumSchema),
}

impl<'de> Deserialize<'de> for PrimitiveSchemaDefinition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        Ok(match classify(&map) {
            PrimitiveKind::String => Self::String(from_map(map)?),
            PrimitiveKind::Number => Self::Number(from_map(map)?),
            PrimitiveKind::Boolean => Self::Boolean(from_map(map)?),
            PrimitiveKind::UntitledSingle => Self::UntitledSingleSelectEnum(from_map(map)?),
            PrimitiveKind::TitledSingle => Self::TitledSingleSelectEnum(from_map(map)?),
            PrimitiveKind::UntitledMulti => Self::UntitledMultiSelectEnum(from_map(map)?),
            PrimitiveKind::TitledMulti => Self::TitledMultiSelectEnum(from_map(map)?),
            PrimitiveKind::Legacy => Self::LegacyTitledEnum(from_map(map)?),
        })
    }
}

/// Any enum schema (2025-11-25; in 2025-06-18 `EnumSchema` was the legacy shape only).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EnumSchema {
    /// Single choice, plain values.
    UntitledSingleSelect(UntitledSingleSelectEnumSchema),
    /// Single choice, labelled values.
    TitledSingleSelect(TitledSingleSelectEnumSchema),
    /// Multiple choice, plain values.
    UntitledMultiSelect(UntitledMultiSelectEnumSchema),
    /// Multiple choice, labelled values.
    TitledMultiSelect(TitledMultiSelectEnumSchema),
    /// Single choice with `enumNames` (deprecated).
    LegacyTitled(LegacyTitledEnumSchema),
}

impl<'de> Deserialize<'de> for EnumSchema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        Ok(match classify(&map) {
            PrimitiveKind::UntitledSingle => Self::UntitledSingleSelect(from_map(map)?),
            PrimitiveKind::TitledSingle => Self::TitledSingleSelect(from_map(map)?),
            PrimitiveKind::UntitledMulti => Self::UntitledMultiSelect(from_map(map)?),
            PrimitiveKind::TitledMulti => Self::TitledMultiSelect(from_map(map)?),
            PrimitiveKind::Legacy => Self::LegacyTitled(from_map(map)?),
            PrimitiveKind::String | PrimitiveKind::Number | PrimitiveKind::Boolean => {
                return Err(D::Error::custom("not an enum schema"));
            }
        })
    }
}

/// A single-choice enum schema (2025-11-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SingleSelectEnumSchema {
    /// Labelled values (has `oneOf`).
    Titled(TitledSingleSelectEnumSchema),
    /// Plain values.
    Untitled(UntitledSingleSelectEnumSchema),
}

/// A multiple-choice enum schema (2025-11-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MultiSelectEnumSchema {
    /// Labelled values (has `items.anyOf`).
    Titled(TitledMultiSelectEnumSchema),
    /// Plain values.
    Untitled(UntitledMultiSelectEnumSchema),
}

/// `requestedSchema` of a form elicitation: a flat object schema of primitive fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestedSchema {
    /// The JSON Schema dialect (2025-11-25).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Always `"object"`.
    pub r#type: ObjectType,
    /// The fields.
    pub properties: BTreeMap<String, PrimitiveSchemaDefinition>,
    /// Names of the fields that must be filled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ElicitRequestedSchema {
    /// A schema with the given fields, none of them required.
    pub fn new(properties: BTreeMap<String, PrimitiveSchemaDefinition>) -> Self {
        ElicitRequestedSchema {
            schema: None,
            r#type: ObjectType,
            properties,
            required: None,
            extra: Map::new(),
        }
    }
}

/// Parameters of a form-mode `elicitation/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// `"form"`; may be absent (2025-06-18 had no modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FormMode>,
    /// What is being asked and why.
    pub message: String,
    /// The form.
    pub requested_schema: ElicitRequestedSchema,
    /// Present when the caller asks for task-augmented execution (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ElicitRequestFormParams {
    /// A form request (without an explicit `mode`, readable by 2025-06-18 clients).
    pub fn new(message: impl Into<String>, requested_schema: ElicitRequestedSchema) -> Self {
        ElicitRequestFormParams {
            mode: None,
            message: message.into(),
            requested_schema,
            task: None,
            meta: None,
            extra: Map::new(),
        }
    }
}

/// Parameters of a URL-mode `elicitation/create` (2025-11-25): the user completes an
/// interaction out of band at `url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestURLParams {
    /// Always `"url"`.
    pub mode: UrlMode,
    /// What is being asked and why.
    pub message: String,
    /// Id of the elicitation, unique for the server; opaque to the client. Required in
    /// 2025-11-25, optional in 2026-07-28.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation_id: Option<String>,
    /// Where the user should go.
    pub url: String,
    /// Present when the caller asks for task-augmented execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ElicitRequestURLParams {
    /// A URL-mode request.
    pub fn new(
        message: impl Into<String>,
        elicitation_id: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        ElicitRequestURLParams {
            mode: UrlMode,
            message: message.into(),
            elicitation_id: Some(elicitation_id.into()),
            url: url.into(),
            task: None,
            meta: None,
            extra: Map::new(),
        }
    }
}

/// Parameters of `elicitation/create`: URL mode (`"mode": "url"`) or form mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ElicitRequestParams {
    /// URL mode (2025-11-25).
    Url(ElicitRequestURLParams),
    /// Form mode.
    Form(ElicitRequestFormParams),
}

/// What the user did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted the form / confirmed.
    Accept,
    /// Explicitly declined.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// A submitted form value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ElicitValue {
    /// A string (also single-select enums).
    String(String),
    /// A number (the schema says integer; floats are kept too).
    Number(Number),
    /// A boolean.
    Boolean(bool),
    /// Multi-select enum selections (2025-11-25).
    StringArray(Vec<String>),
}

/// The client's answer to `elicitation/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// The form data; only with `accept` in form mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<BTreeMap<String, ElicitValue>>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ElicitResult {
    /// A result with `action` and no content.
    pub fn new(action: ElicitAction) -> Self {
        ElicitResult {
            action,
            content: None,
            meta: None,
            extra: Map::new(),
        }
    }
}

/// Parameters of `notifications/elicitation/complete` (2025-11-25): the out-of-band
/// interaction of a URL-mode elicitation has finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// The [`ElicitRequestURLParams::elicitation_id`].
    pub elicitation_id: String,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
