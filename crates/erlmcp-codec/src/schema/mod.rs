//! MCP schema types, split by spec area. They follow the 2025-11-25 schema (the newest
//! handshake-era version); older versions' shapes are subsets of it, and
//! [`versions`] says which fields and methods each version has.
//!
//! | module | spec area |
//! |---|---|
//! | [`common`] | `_meta`, [`Implementation`], [`Icon`], [`Annotations`], [`Role`], generic params/results |
//! | [`lifecycle`] | `initialize`, capabilities, `ping` |
//! | [`tools`] | `tools/list`, `tools/call` |
//! | [`resources`] | `resources/*` |
//! | [`prompts`] | `prompts/*` |
//! | [`content`] | content blocks |
//! | [`completion`] | `completion/complete` |
//! | [`logging`] | `logging/setLevel`, `notifications/message` |
//! | [`sampling`] | `sampling/createMessage` |
//! | [`elicitation`] | `elicitation/create` |
//! | [`roots`] | `roots/list` |
//! | [`tasks`] | `tasks/*` |
//! | [`notifications`] | progress, cancellation |
//! | [`modern`] | 2026-07-28 only: `server/discover`, request/result `_meta`, `resultType`, caching hints, input-required results, `subscriptions/listen` |
//! | [`methods`] | method names and the [`McpRequest`] / [`McpNotification`] table |
//! | [`versions`] | [`ProtocolVersion`] and per-version [`Feature`]s |
//!
//! The JSON-RPC envelope (`jsonrpc`, `id`, `method`) is [`crate::jsonrpc`]; these types
//! are what goes in `params` and `result`. Every type keeps members it does not know in
//! `extra`, so a round trip reproduces the input.

pub mod common;
pub mod completion;
pub mod content;
pub mod elicitation;
pub mod lifecycle;
pub mod logging;
pub mod methods;
pub mod modern;
pub mod notifications;
pub mod prompts;
pub mod resources;
pub mod roots;
pub mod sampling;
pub mod tasks;
pub mod tools;
pub mod versions;

pub use common::{
    Annotations, BaseMetadata, Cursor, EmptyResult, Icon, IconTheme, Icons, Implementation,
    JsonObject, Meta, NotificationParams, PROGRESS_TOKEN_META_KEY, PaginatedRequestParams,
    PaginatedResult, ProgressToken, RequestId, RequestParams, Role, json_number, progress_token,
};
pub use completion::{
    CompleteArgument, CompleteContext, CompleteRequestParams, CompleteResult, Completion,
    PromptReference, PromptReferenceType, Reference, ResourceTemplateReference,
    ResourceTemplateReferenceType,
};
pub use content::{
    AudioContent, ContentBlock, EmbeddedResource, ImageContent, ResourceLink,
    SamplingMessageContentBlock, TextContent, ToolResultContent, ToolUseContent,
};
pub use elicitation::{
    ArrayType, BooleanSchema, BooleanType, ElicitAction, ElicitRequestFormParams,
    ElicitRequestParams, ElicitRequestURLParams, ElicitRequestedSchema, ElicitResult, ElicitValue,
    ElicitationCompleteNotificationParams, EnumSchema, FormMode, LegacyTitledEnumSchema,
    MultiSelectEnumSchema, NumberSchema, NumberType, ObjectType, PrimitiveSchemaDefinition,
    SingleSelectEnumSchema, StringFormat, StringSchema, StringType, TitledEnumOption,
    TitledMultiSelectEnumSchema, TitledMultiSelectItems, TitledSingleSelectEnumSchema,
    UntitledMultiSelectEnumSchema, UntitledMultiSelectItems, UntitledSingleSelectEnumSchema,
    UrlMode,
};
pub use lifecycle::{
    ClientCapabilities, ClientTaskRequestsCapability, ClientTasksCapability, ElicitationCapability,
    ElicitationTasksCapability, InitializeRequestParams, InitializeResult, PromptsCapability,
    ResourcesCapability, RootsCapability, SamplingCapability, SamplingTasksCapability,
    ServerCapabilities, ServerTaskRequestsCapability, ServerTasksCapability, ToolsCapability,
    ToolsTasksCapability,
};
pub use logging::{LoggingLevel, LoggingMessageNotificationParams, SetLevelRequestParams};
pub use methods::{
    CallTool, CancelTask, Cancelled, Complete, CreateMessage, Discover, Elicit,
    ElicitationComplete, GetPrompt, GetTask, GetTaskPayload, Initialize, Initialized, ListPrompts,
    ListResourceTemplates, ListResources, ListRoots, ListTasks, ListTools, LoggingMessage,
    McpNotification, McpRequest, Ping, Progress, PromptListChanged, ReadResource,
    ResourceListChanged, ResourceUpdated, RootsListChanged, SetLevel, Subscribe,
    SubscriptionsAcknowledged, SubscriptionsListen, TaskStatusChanged, ToolListChanged,
    Unsubscribe,
};
pub use modern::{
    CacheHints, CacheScope, DiscoverResult, InputRequest, InputRequests, InputRequiredResult,
    InputResponses, RequestMeta, ResultType, SubscriptionFilter,
    SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
};
pub use notifications::{CancelledNotificationParams, ProgressNotificationParams};
pub use prompts::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage,
};
pub use resources::{
    BlobResourceContents, ListResourceTemplatesResult, ListResourcesResult,
    ReadResourceRequestParams, ReadResourceResult, Resource, ResourceContents,
    ResourceRequestParams, ResourceTemplate, ResourceUpdatedNotificationParams,
    SubscribeRequestParams, TextResourceContents, UnsubscribeRequestParams,
};
pub use roots::{ListRootsResult, Root};
pub use sampling::{
    CreateMessageRequestParams, CreateMessageResult, IncludeContext, ModelHint, ModelPreferences,
    SamplingContent, SamplingMessage, ToolChoice, ToolChoiceMode,
};
pub use tasks::{
    CancelTaskRequestParams, CancelTaskResult, CreateTaskResult, GetTaskPayloadRequestParams,
    GetTaskPayloadResult, GetTaskRequestParams, GetTaskResult, ListTasksResult,
    RELATED_TASK_META_KEY, RelatedTaskMetadata, Task, TaskAugmentedRequestParams, TaskMetadata,
    TaskStatus, TaskStatusNotificationParams, TaskSupport, ToolExecution,
};
pub use tools::{
    CallToolRequestParams, CallToolResult, ListToolsResult, Tool, ToolAnnotations,
    empty_object_schema,
};
pub use versions::{
    Feature, LATEST_HANDSHAKE, LATEST_MODERN, ProtocolVersion, SUPPORTED_HANDSHAKE,
    SUPPORTED_MODERN, UnknownProtocolVersion, feature_available,
};
