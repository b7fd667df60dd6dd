//! The method table: every request and notification of 2025-11-25 as a method-name
//! constant and as a zero-sized marker type that ties the method to its params and
//! result types ([`McpRequest`], [`McpNotification`]).
//!
//! Requests whose params are optional on the wire (`ping`, the list requests,
//! `roots/list`) use params types whose fields are all optional: absent `params`
//! deserialise as `Params::default()`.
//!
//! Task-augmentable requests (`tools/call`, `sampling/createMessage`,
//! `elicitation/create`) answer [`CreateTaskResult`](super::CreateTaskResult) instead of their `Result` when the
//! request carried `params.task`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::common::{EmptyResult, NotificationParams, PaginatedRequestParams, RequestParams};
use super::completion::{CompleteRequestParams, CompleteResult};
use super::elicitation::{
    ElicitRequestParams, ElicitResult, ElicitationCompleteNotificationParams,
};
use super::lifecycle::{InitializeRequestParams, InitializeResult};
use super::logging::{LoggingMessageNotificationParams, SetLevelRequestParams};
use super::modern::{
    DiscoverResult, SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
};
use super::notifications::{CancelledNotificationParams, ProgressNotificationParams};
use super::prompts::{GetPromptRequestParams, GetPromptResult, ListPromptsResult};
use super::resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, ResourceUpdatedNotificationParams, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
use super::roots::ListRootsResult;
use super::sampling::{CreateMessageRequestParams, CreateMessageResult};
use super::tasks::{
    CancelTaskRequestParams, CancelTaskResult, GetTaskPayloadRequestParams, GetTaskPayloadResult,
    GetTaskRequestParams, GetTaskResult, ListTasksResult, TaskStatusNotificationParams,
};
use super::tools::{CallToolRequestParams, CallToolResult, ListToolsResult};

/// `server/discover` (client → server, 2026-07-28).
pub const SERVER_DISCOVER: &str = "server/discover";
/// `subscriptions/listen` (client → server, 2026-07-28).
pub const SUBSCRIPTIONS_LISTEN: &str = "subscriptions/listen";
/// `notifications/subscriptions/acknowledged` (server → client, 2026-07-28).
pub const NOTIFICATIONS_SUBSCRIPTIONS_ACKNOWLEDGED: &str =
    "notifications/subscriptions/acknowledged";

/// `tasks/update` (client → server, the 2026-07-28 tasks extension).
pub const TASKS_UPDATE: &str = "tasks/update";
/// `notifications/tasks` (server → client on a `subscriptions/listen` stream, the
/// 2026-07-28 tasks extension): the task as `tasks/get` would return it.
pub const NOTIFICATIONS_TASKS: &str = "notifications/tasks";

/// Client requests of 2026-07-28 (the schema's `ClientRequest` union).
pub const MODERN_CLIENT_REQUESTS: &[&str] = &[
    SERVER_DISCOVER,
    RESOURCES_LIST,
    RESOURCES_TEMPLATES_LIST,
    RESOURCES_READ,
    SUBSCRIPTIONS_LISTEN,
    PROMPTS_LIST,
    PROMPTS_GET,
    TOOLS_LIST,
    TOOLS_CALL,
    COMPLETION_COMPLETE,
];

/// `initialize` (client → server).
pub const INITIALIZE: &str = "initialize";
/// `ping` (either direction).
pub const PING: &str = "ping";
/// `resources/list` (client → server).
pub const RESOURCES_LIST: &str = "resources/list";
/// `resources/templates/list` (client → server).
pub const RESOURCES_TEMPLATES_LIST: &str = "resources/templates/list";
/// `resources/read` (client → server).
pub const RESOURCES_READ: &str = "resources/read";
/// `resources/subscribe` (client → server).
pub const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";
/// `resources/unsubscribe` (client → server).
pub const RESOURCES_UNSUBSCRIBE: &str = "resources/unsubscribe";
/// `prompts/list` (client → server).
pub const PROMPTS_LIST: &str = "prompts/list";
/// `prompts/get` (client → server).
pub const PROMPTS_GET: &str = "prompts/get";
/// `tools/list` (client → server).
pub const TOOLS_LIST: &str = "tools/list";
/// `tools/call` (client → server).
pub const TOOLS_CALL: &str = "tools/call";
/// `tasks/get` (either direction, 2025-11-25).
pub const TASKS_GET: &str = "tasks/get";
/// `tasks/result` (either direction, 2025-11-25).
pub const TASKS_RESULT: &str = "tasks/result";
/// `tasks/cancel` (either direction, 2025-11-25).
pub const TASKS_CANCEL: &str = "tasks/cancel";
/// `tasks/list` (either direction, 2025-11-25).
pub const TASKS_LIST: &str = "tasks/list";
/// `logging/setLevel` (client → server).
pub const LOGGING_SET_LEVEL: &str = "logging/setLevel";
/// `completion/complete` (client → server).
pub const COMPLETION_COMPLETE: &str = "completion/complete";
/// `sampling/createMessage` (server → client).
pub const SAMPLING_CREATE_MESSAGE: &str = "sampling/createMessage";
/// `roots/list` (server → client).
pub const ROOTS_LIST: &str = "roots/list";
/// `elicitation/create` (server → client, 2025-06-18).
pub const ELICITATION_CREATE: &str = "elicitation/create";

/// `notifications/cancelled` (either direction).
pub const NOTIFICATIONS_CANCELLED: &str = "notifications/cancelled";
/// `notifications/initialized` (client → server).
pub const NOTIFICATIONS_INITIALIZED: &str = "notifications/initialized";
/// `notifications/progress` (either direction).
pub const NOTIFICATIONS_PROGRESS: &str = "notifications/progress";
/// `notifications/tasks/status` (either direction, 2025-11-25).
pub const NOTIFICATIONS_TASKS_STATUS: &str = "notifications/tasks/status";
/// `notifications/roots/list_changed` (client → server).
pub const NOTIFICATIONS_ROOTS_LIST_CHANGED: &str = "notifications/roots/list_changed";
/// `notifications/resources/list_changed` (server → client).
pub const NOTIFICATIONS_RESOURCES_LIST_CHANGED: &str = "notifications/resources/list_changed";
/// `notifications/resources/updated` (server → client).
pub const NOTIFICATIONS_RESOURCES_UPDATED: &str = "notifications/resources/updated";
/// `notifications/prompts/list_changed` (server → client).
pub const NOTIFICATIONS_PROMPTS_LIST_CHANGED: &str = "notifications/prompts/list_changed";
/// `notifications/tools/list_changed` (server → client).
pub const NOTIFICATIONS_TOOLS_LIST_CHANGED: &str = "notifications/tools/list_changed";
/// `notifications/message` (server → client).
pub const NOTIFICATIONS_MESSAGE: &str = "notifications/message";
/// `notifications/elicitation/complete` (server → client, 2025-11-25).
pub const NOTIFICATIONS_ELICITATION_COMPLETE: &str = "notifications/elicitation/complete";

/// Methods a client may send as requests (the schema's `ClientRequest`).
pub const CLIENT_REQUESTS: &[&str] = &[
    INITIALIZE,
    PING,
    RESOURCES_LIST,
    RESOURCES_TEMPLATES_LIST,
    RESOURCES_READ,
    RESOURCES_SUBSCRIBE,
    RESOURCES_UNSUBSCRIBE,
    PROMPTS_LIST,
    PROMPTS_GET,
    TOOLS_LIST,
    TOOLS_CALL,
    TASKS_GET,
    TASKS_RESULT,
    TASKS_CANCEL,
    TASKS_LIST,
    LOGGING_SET_LEVEL,
    COMPLETION_COMPLETE,
];

/// Methods a server may send as requests (the schema's `ServerRequest`).
pub const SERVER_REQUESTS: &[&str] = &[
    PING,
    TASKS_GET,
    TASKS_RESULT,
    TASKS_CANCEL,
    TASKS_LIST,
    SAMPLING_CREATE_MESSAGE,
    ROOTS_LIST,
    ELICITATION_CREATE,
];

/// Methods a client may send as notifications (the schema's `ClientNotification`).
pub const CLIENT_NOTIFICATIONS: &[&str] = &[
    NOTIFICATIONS_CANCELLED,
    NOTIFICATIONS_INITIALIZED,
    NOTIFICATIONS_PROGRESS,
    NOTIFICATIONS_TASKS_STATUS,
    NOTIFICATIONS_ROOTS_LIST_CHANGED,
];

/// Methods a server may send as notifications (the schema's `ServerNotification`).
pub const SERVER_NOTIFICATIONS: &[&str] = &[
    NOTIFICATIONS_CANCELLED,
    NOTIFICATIONS_PROGRESS,
    NOTIFICATIONS_RESOURCES_LIST_CHANGED,
    NOTIFICATIONS_RESOURCES_UPDATED,
    NOTIFICATIONS_PROMPTS_LIST_CHANGED,
    NOTIFICATIONS_TOOLS_LIST_CHANGED,
    NOTIFICATIONS_TASKS_STATUS,
    NOTIFICATIONS_MESSAGE,
    NOTIFICATIONS_ELICITATION_COMPLETE,
];

/// A request method: its name, params and result types.
pub trait McpRequest {
    /// The method name.
    const METHOD: &'static str;
    /// The params type.
    type Params: Serialize + DeserializeOwned;
    /// The result type.
    type Result: Serialize + DeserializeOwned;
}

/// A notification method: its name and params type.
pub trait McpNotification {
    /// The method name.
    const METHOD: &'static str;
    /// The params type.
    type Params: Serialize + DeserializeOwned;
}

macro_rules! requests {
    ($($(#[$doc:meta])* $name:ident = $method:ident, $params:ty => $result:ty;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl McpRequest for $name {
            const METHOD: &'static str = $method;
            type Params = $params;
            type Result = $result;
        }
    )*};
}

macro_rules! notifications {
    ($($(#[$doc:meta])* $name:ident = $method:ident, $params:ty;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl McpNotification for $name {
            const METHOD: &'static str = $method;
            type Params = $params;
        }
    )*};
}

requests! {
    /// `initialize`.
    Initialize = INITIALIZE, InitializeRequestParams => InitializeResult;
    /// `ping` (params optional).
    Ping = PING, RequestParams => EmptyResult;
    /// `resources/list` (params optional).
    ListResources = RESOURCES_LIST, PaginatedRequestParams => ListResourcesResult;
    /// `resources/templates/list` (params optional).
    ListResourceTemplates = RESOURCES_TEMPLATES_LIST, PaginatedRequestParams => ListResourceTemplatesResult;
    /// `resources/read`.
    ReadResource = RESOURCES_READ, ReadResourceRequestParams => ReadResourceResult;
    /// `resources/subscribe`.
    Subscribe = RESOURCES_SUBSCRIBE, SubscribeRequestParams => EmptyResult;
    /// `resources/unsubscribe`.
    Unsubscribe = RESOURCES_UNSUBSCRIBE, UnsubscribeRequestParams => EmptyResult;
    /// `prompts/list` (params optional).
    ListPrompts = PROMPTS_LIST, PaginatedRequestParams => ListPromptsResult;
    /// `prompts/get`.
    GetPrompt = PROMPTS_GET, GetPromptRequestParams => GetPromptResult;
    /// `tools/list` (params optional).
    ListTools = TOOLS_LIST, PaginatedRequestParams => ListToolsResult;
    /// `tools/call` (answers `CreateTaskResult` when task-augmented).
    CallTool = TOOLS_CALL, CallToolRequestParams => CallToolResult;
    /// `tasks/get`.
    GetTask = TASKS_GET, GetTaskRequestParams => GetTaskResult;
    /// `tasks/result`.
    GetTaskPayload = TASKS_RESULT, GetTaskPayloadRequestParams => GetTaskPayloadResult;
    /// `tasks/cancel`.
    CancelTask = TASKS_CANCEL, CancelTaskRequestParams => CancelTaskResult;
    /// `tasks/list` (params optional).
    ListTasks = TASKS_LIST, PaginatedRequestParams => ListTasksResult;
    /// `logging/setLevel`.
    SetLevel = LOGGING_SET_LEVEL, SetLevelRequestParams => EmptyResult;
    /// `completion/complete`.
    Complete = COMPLETION_COMPLETE, CompleteRequestParams => CompleteResult;
    /// `sampling/createMessage` (answers `CreateTaskResult` when task-augmented).
    CreateMessage = SAMPLING_CREATE_MESSAGE, CreateMessageRequestParams => CreateMessageResult;
    /// `roots/list` (params optional).
    ListRoots = ROOTS_LIST, RequestParams => ListRootsResult;
    /// `elicitation/create` (answers `CreateTaskResult` when task-augmented).
    Elicit = ELICITATION_CREATE, ElicitRequestParams => ElicitResult;
    /// `server/discover` (2026-07-28).
    Discover = SERVER_DISCOVER, RequestParams => DiscoverResult;
    /// `subscriptions/listen` (2026-07-28).
    SubscriptionsListen = SUBSCRIPTIONS_LISTEN, SubscriptionsListenRequestParams => SubscriptionsListenResult;
}

notifications! {
    /// `notifications/cancelled`.
    Cancelled = NOTIFICATIONS_CANCELLED, CancelledNotificationParams;
    /// `notifications/initialized` (params optional).
    Initialized = NOTIFICATIONS_INITIALIZED, NotificationParams;
    /// `notifications/progress`.
    Progress = NOTIFICATIONS_PROGRESS, ProgressNotificationParams;
    /// `notifications/tasks/status`.
    TaskStatusChanged = NOTIFICATIONS_TASKS_STATUS, TaskStatusNotificationParams;
    /// `notifications/roots/list_changed` (params optional).
    RootsListChanged = NOTIFICATIONS_ROOTS_LIST_CHANGED, NotificationParams;
    /// `notifications/resources/list_changed` (params optional).
    ResourceListChanged = NOTIFICATIONS_RESOURCES_LIST_CHANGED, NotificationParams;
    /// `notifications/resources/updated`.
    ResourceUpdated = NOTIFICATIONS_RESOURCES_UPDATED, ResourceUpdatedNotificationParams;
    /// `notifications/prompts/list_changed` (params optional).
    PromptListChanged = NOTIFICATIONS_PROMPTS_LIST_CHANGED, NotificationParams;
    /// `notifications/tools/list_changed` (params optional).
    ToolListChanged = NOTIFICATIONS_TOOLS_LIST_CHANGED, NotificationParams;
    /// `notifications/message`.
    LoggingMessage = NOTIFICATIONS_MESSAGE, LoggingMessageNotificationParams;
    /// `notifications/elicitation/complete`.
    ElicitationComplete = NOTIFICATIONS_ELICITATION_COMPLETE, ElicitationCompleteNotificationParams;
    /// `notifications/subscriptions/acknowledged` (2026-07-28).
    SubscriptionsAcknowledged = NOTIFICATIONS_SUBSCRIPTIONS_ACKNOWLEDGED, SubscriptionsAcknowledgedNotificationParams;
}
