//! One server session: its lifecycle phase, what the client declared, its log level and
//! subscriptions, and the routing of every request to the server's registries.

use std::collections::HashMap;
use std::sync::Arc;

use erlmcp_codec::schema::versions::LATEST_HANDSHAKE;
use erlmcp_codec::schema::{
    CallToolRequestParams, ClientCapabilities, CompleteRequestParams, GetPromptRequestParams,
    GetTaskRequestParams, Implementation, InitializeRequestParams, LoggingLevel,
    PaginatedRequestParams, ProtocolVersion, ReadResourceRequestParams, SetLevelRequestParams,
    SubscribeRequestParams, TaskSupport, UnsubscribeRequestParams, methods,
};
use erlmcp_codec::{ErrorObject, Notification, Request};
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use crate::compat;
use crate::error::HandlerError;
use crate::lifecycle::{self, Phase};
use crate::pagination::paginate;
use crate::peer::Peer;
use crate::server::ServerCore;
use crate::server::context::RequestContext;
use crate::server::live::Subscription;
use crate::server::modern::input_required::ModernScope;
use crate::server::modern::{self, ClaimedHeaders};
use crate::server::tasks::TaskStore;
use crate::server::tools;
use crate::session::{Dispatch, RequestScope, SessionRole};

/// Per-session state shared between the session's role and its request contexts.
pub struct SessionState {
    id: u64,
    inner: Mutex<SessionInner>,
    pub(crate) tasks: Arc<TaskStore>,
}

struct SessionInner {
    phase: Phase,
    version: Option<ProtocolVersion>,
    client_info: Option<Implementation>,
    client_capabilities: Option<ClientCapabilities>,
    log_level: LoggingLevel,
    /// URI → this session's membership in the server's subscriber group of that URI;
    /// removing (or dropping) one unsubscribes.
    subscriptions: HashMap<Arc<str>, Subscription>,
}

impl std::fmt::Debug for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.lock();
        f.debug_struct("SessionState")
            .field("id", &self.id)
            .field("phase", &inner.phase)
            .field("version", &inner.version)
            .finish()
    }
}

impl SessionState {
    pub(crate) fn new(id: u64, tasks: Arc<TaskStore>) -> Self {
        SessionState {
            id,
            tasks,
            inner: Mutex::new(SessionInner {
                phase: Phase::AwaitingInitialize,
                version: None,
                client_info: None,
                client_capabilities: None,
                log_level: LoggingLevel::Info,
                subscriptions: HashMap::new(),
            }),
        }
    }

    /// The session id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The current lifecycle phase.
    pub fn phase(&self) -> Phase {
        self.inner.lock().phase
    }

    /// The negotiated protocol version, once initialized.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.inner.lock().version
    }

    /// The client's `clientInfo`, once initialized.
    pub fn client_info(&self) -> Option<Implementation> {
        self.inner.lock().client_info.clone()
    }

    /// The client's capabilities, once initialized.
    pub fn client_capabilities(&self) -> Option<ClientCapabilities> {
        self.inner.lock().client_capabilities.clone()
    }

    /// Number of tasks the session holds.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Number of resource subscriptions the session holds.
    pub fn subscription_count(&self) -> usize {
        self.inner.lock().subscriptions.len()
    }

    pub(crate) fn is_operational(&self) -> bool {
        self.inner.lock().phase.is_initialized()
    }

    /// Marks the session stateless (2026-07-28): no handshake, no init timeout.
    pub(crate) fn set_stateless(&self) {
        let mut inner = self.inner.lock();
        if inner.phase == Phase::AwaitingInitialize {
            inner.phase = Phase::Stateless;
            inner.version = Some(erlmcp_codec::schema::LATEST_MODERN);
        }
    }

    pub(crate) async fn log(
        &self,
        peer: &Peer,
        level: LoggingLevel,
        logger: Option<&str>,
        data: Value,
    ) {
        if level < self.inner.lock().log_level {
            return;
        }
        let mut params = json!({"level": level, "data": data});
        if let Some(logger) = logger {
            params["logger"] = json!(logger);
        }
        let _ = peer.notify(methods::NOTIFICATIONS_MESSAGE, params).await;
    }

    pub(crate) fn close(&self) {
        let subscriptions = {
            let mut inner = self.inner.lock();
            inner.phase = Phase::Closed;
            std::mem::take(&mut inner.subscriptions)
        };
        // Leaves every subscriber group (outside the session lock).
        drop(subscriptions);
        self.tasks.clear();
    }
}

/// The server role of one session (and, with `modern` set, of one stateless request).
pub(crate) struct ServerSession {
    pub(crate) core: Arc<ServerCore>,
    pub(crate) state: Arc<SessionState>,
    pub(crate) peer: Peer,
    /// The stateless request being routed, if this is one.
    pub(crate) modern: Option<Arc<ModernScope>>,
}

fn parse_params<T: DeserializeOwned>(params: Option<Value>) -> Result<T, ErrorObject> {
    let value = params.unwrap_or_else(|| Value::Object(Map::new()));
    if !value.is_object() {
        return Err(HandlerError::invalid_params("params must be an object").to_error_object());
    }
    serde_json::from_value(value)
        .map_err(|e| HandlerError::invalid_params(format!("invalid params: {e}")).to_error_object())
}

/// The params of `tools/call`. The usual shape (a string `name`, an object or no
/// `arguments`, no `task`, an object or no `_meta`) is taken apart by moving its members
/// out, which is what serde would produce; serde's flattened `extra` would instead copy
/// every argument (the whole payload) through an intermediate buffer twice. Any other
/// shape goes through serde, so its errors read as for every other method.
fn call_tool_params(params: Option<Value>) -> Result<CallToolRequestParams, ErrorObject> {
    fn object_or_null(value: Option<&Value>) -> bool {
        matches!(value, None | Some(Value::Object(_) | Value::Null))
    }
    match params {
        Some(Value::Object(mut map))
            if matches!(map.get("name"), Some(Value::String(_)))
                && object_or_null(map.get("arguments"))
                && matches!(map.get("task"), None | Some(Value::Null))
                && object_or_null(map.get("_meta")) =>
        {
            let object = |value: Option<Value>| match value {
                Some(Value::Object(object)) => Some(object),
                _ => None,
            };
            let name = match map.remove("name") {
                Some(Value::String(name)) => name,
                _ => String::new(),
            };
            let arguments = object(map.remove("arguments"));
            let meta = object(map.remove("_meta"));
            map.remove("task");
            Ok(CallToolRequestParams {
                name,
                arguments,
                task: None,
                meta,
                extra: map,
            })
        }
        other => parse_params(other),
    }
}

fn to_value<T: Serialize>(result: &T) -> Result<Value, ErrorObject> {
    serde_json::to_value(result).map_err(|e| {
        HandlerError::internal(format!("result not serialisable: {e}")).to_error_object()
    })
}

fn reply<T: Serialize>(result: Result<T, HandlerError>) -> Dispatch {
    Dispatch::Reply(
        result
            .map_err(|e| e.to_error_object())
            .and_then(|r| to_value(&r)),
    )
}

impl ServerSession {
    pub(crate) fn context(&self, scope: &RequestScope, params: Option<&Value>) -> RequestContext {
        let progress_token = params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get("progressToken"))
            .and_then(erlmcp_codec::RequestId::from_value);
        RequestContext {
            request_id: scope.id.clone(),
            task_id: None,
            progress_token,
            cancel: scope.cancel.clone(),
            peer: self.peer.clone(),
            session: self.state.clone(),
            modern: self.modern.clone(),
            task_input: None,
        }
    }

    fn initialize(&self, params: Option<Value>) -> Dispatch {
        let params: InitializeRequestParams = match parse_params(params) {
            Ok(p) => p,
            Err(e) => return Dispatch::Reply(Err(e)),
        };
        let negotiated =
            match lifecycle::negotiate(&params.protocol_version, self.core.supported_versions) {
                Ok(n) => n,
                Err(e) => return Dispatch::Reply(Err(e)),
            };
        let version = negotiated.version();
        {
            let mut inner = self.state.inner.lock();
            inner.phase = Phase::Initializing;
            inner.version = Some(version);
            inner.client_info = Some(params.client_info);
            inner.client_capabilities = Some(params.capabilities);
        }
        tracing::debug!(
            session = self.state.id,
            version = version.as_str(),
            "session initialized"
        );
        Dispatch::Reply(to_value(&self.core.initialize_result(version)))
    }

    pub(crate) fn route(&self, request: Request, scope: RequestScope) -> Dispatch {
        let core = &self.core;
        let method = request.method.as_str();
        match method {
            methods::TOOLS_LIST if !core.has_tools() => self.not_offered(method),
            methods::TOOLS_LIST => {
                let params: PaginatedRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let tools = core.tools.read();
                reply(
                    paginate(
                        tools.list(),
                        params.cursor.as_deref(),
                        core.config.page_size,
                    )
                    .map(|page| json!({"tools": page.items, "nextCursor": page.next_cursor}))
                    .map(strip_null_cursor),
                )
            }
            methods::TOOLS_CALL if !core.has_tools() => self.not_offered(method),
            methods::TOOLS_CALL => {
                let mut ctx = self.context(&scope, request.params.as_ref());
                let params = match call_tool_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let Some(tool) = core.tools.read().get(&params.name) else {
                    return Dispatch::Reply(Err(HandlerError::InvalidParams {
                        message: format!("unknown tool: {}", params.name),
                        data: Some(json!({"name": params.name})),
                    }
                    .to_error_object()));
                };
                let support = tools::task_support(&tool.tool);
                match (&params.task, support) {
                    (Some(_), TaskSupport::Forbidden) => {
                        return Dispatch::Reply(Err(task_support_error(
                            &params.name,
                            "does not support task-augmented execution",
                        )));
                    }
                    (None, TaskSupport::Required) => {
                        return Dispatch::Reply(Err(task_support_error(
                            &params.name,
                            "must be called as a task",
                        )));
                    }
                    _ => {}
                }
                let arguments = params.arguments.unwrap_or_default();
                let Some(task_request) = params.task else {
                    return Dispatch::Spawn(Box::pin(run_tool(tool, arguments, ctx)));
                };
                // Task-augmented: answer now with the task, run the tool in the background.
                let store = self.state.tasks.clone();
                let task = match store.create(task_request.ttl) {
                    Ok(task) => task,
                    Err(e) => return reply::<Value>(Err(e)),
                };
                let task_id = task.task_id.clone();
                ctx.task_id = Some(task_id.clone());
                let runner = store.clone();
                let handle = tokio::spawn(async move {
                    let outcome = AssertUnwindSafe(run_tool(tool, arguments, ctx))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| Err(HandlerError::internal("tool handler panicked")));
                    runner.finish(&task_id, outcome.map_err(|e| e.to_error_object()));
                });
                store.attach(&task.task_id, handle.abort_handle());
                Dispatch::Reply(to_value(&json!({ "task": task })))
            }
            methods::TASKS_GET | methods::TASKS_RESULT | methods::TASKS_CANCEL
                if !core.tools.read().supports_tasks() =>
            {
                self.not_offered(method)
            }
            methods::TASKS_LIST if !core.tools.read().supports_tasks() => self.not_offered(method),
            methods::TASKS_GET => match parse_params::<GetTaskRequestParams>(request.params) {
                Err(e) => Dispatch::Reply(Err(e)),
                Ok(p) => reply(self.state.tasks.get(&p.task_id)),
            },
            methods::TASKS_CANCEL => match parse_params::<GetTaskRequestParams>(request.params) {
                Err(e) => Dispatch::Reply(Err(e)),
                Ok(p) => reply(self.state.tasks.cancel(&p.task_id)),
            },
            methods::TASKS_RESULT => match parse_params::<GetTaskRequestParams>(request.params) {
                Err(e) => Dispatch::Reply(Err(e)),
                Ok(p) => {
                    let store = self.state.tasks.clone();
                    Dispatch::Spawn(Box::pin(async move { store.result(&p.task_id).await }))
                }
            },
            methods::TASKS_LIST => {
                let params: PaginatedRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let tasks = self.state.tasks.list();
                reply(
                    paginate(&tasks, params.cursor.as_deref(), core.config.page_size)
                        .map(|page| json!({"tasks": page.items, "nextCursor": page.next_cursor}))
                        .map(strip_null_cursor),
                )
            }
            methods::RESOURCES_LIST if !core.has_resources() => self.not_offered(method),
            methods::RESOURCES_LIST => {
                let params: PaginatedRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let resources = core.resources.read();
                reply(
                    paginate(
                        resources.list(),
                        params.cursor.as_deref(),
                        core.config.page_size,
                    )
                    .map(|page| json!({"resources": page.items, "nextCursor": page.next_cursor}))
                    .map(strip_null_cursor),
                )
            }
            methods::RESOURCES_TEMPLATES_LIST if !core.has_resources() => self.not_offered(method),
            methods::RESOURCES_TEMPLATES_LIST => {
                let params: PaginatedRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let templates = core.resources.read().templates();
                reply(paginate(&templates, params.cursor.as_deref(), core.config.page_size).map(|page| {
                    json!({"resourceTemplates": page.items, "nextCursor": page.next_cursor})
                }).map(strip_null_cursor))
            }
            methods::RESOURCES_READ if !core.has_resources() => self.not_offered(method),
            methods::RESOURCES_READ => {
                let ctx = self.context(&scope, request.params.as_ref());
                let params: ReadResourceRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let resolved = core.resources.read().resolve(&params.uri);
                match resolved {
                    Err(e) => reply::<Value>(Err(e)),
                    Ok(None) => {
                        reply::<Value>(Err(HandlerError::ResourceNotFound { uri: params.uri }))
                    }
                    Ok(Some((handler, vars))) => Dispatch::Spawn(Box::pin(async move {
                        let result = handler.read(params.uri, vars, ctx).await?;
                        serde_json::to_value(result)
                            .map_err(|e| HandlerError::internal(e.to_string()))
                    })),
                }
            }
            methods::RESOURCES_SUBSCRIBE if !core.has_resources() => self.not_offered(method),
            methods::RESOURCES_SUBSCRIBE => {
                let params: SubscribeRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let known = matches!(core.resources.read().resolve(&params.uri), Ok(Some(_)));
                if !known {
                    return reply::<Value>(Err(HandlerError::ResourceNotFound { uri: params.uri }));
                }
                let mut inner = self.state.inner.lock();
                if inner.phase == Phase::Closed
                    || inner.subscriptions.contains_key(params.uri.as_str())
                {
                    return Dispatch::Reply(Ok(json!({})));
                }
                if inner.subscriptions.len() >= core.max_subscriptions {
                    return reply::<Value>(Err(HandlerError::InvalidParams {
                        message: "subscription limit reached".into(),
                        data: Some(json!({"limit": core.max_subscriptions})),
                    }));
                }
                let uri: Arc<str> = Arc::from(params.uri);
                match core
                    .subscribers
                    .join(uri.clone(), self.state.id, self.peer.clone())
                {
                    Ok(membership) => {
                        inner.subscriptions.insert(uri, membership);
                        Dispatch::Reply(Ok(json!({})))
                    }
                    Err(err) => reply::<Value>(Err(HandlerError::internal(format!(
                        "subscription not recorded: {err}"
                    )))),
                }
            }
            methods::RESOURCES_UNSUBSCRIBE if !core.has_resources() => self.not_offered(method),
            methods::RESOURCES_UNSUBSCRIBE => {
                let params: UnsubscribeRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let left = self
                    .state
                    .inner
                    .lock()
                    .subscriptions
                    .remove(params.uri.as_str());
                // Leaves the URI's group outside the session lock.
                drop(left);
                Dispatch::Reply(Ok(json!({})))
            }
            methods::PROMPTS_LIST if !core.has_prompts() => self.not_offered(method),
            methods::PROMPTS_LIST => {
                let params: PaginatedRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let prompts = core.prompts.read();
                reply(
                    paginate(
                        prompts.list(),
                        params.cursor.as_deref(),
                        core.config.page_size,
                    )
                    .map(|page| json!({"prompts": page.items, "nextCursor": page.next_cursor}))
                    .map(strip_null_cursor),
                )
            }
            methods::PROMPTS_GET if !core.has_prompts() => self.not_offered(method),
            methods::PROMPTS_GET => {
                let ctx = self.context(&scope, request.params.as_ref());
                let params: GetPromptRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                let arguments = params.arguments.unwrap_or_default().into_iter().collect();
                match core.prompts.read().resolve(&params.name, &arguments) {
                    Err(e) => reply::<Value>(Err(e)),
                    Ok(handler) => Dispatch::Spawn(Box::pin(async move {
                        let result = handler.get(arguments, ctx).await?;
                        serde_json::to_value(result)
                            .map_err(|e| HandlerError::internal(e.to_string()))
                    })),
                }
            }
            methods::COMPLETION_COMPLETE => {
                let Some(handler) = core.completion.clone() else {
                    return self.not_offered(method);
                };
                let ctx = self.context(&scope, request.params.as_ref());
                let params: CompleteRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                Dispatch::Spawn(Box::pin(async move {
                    let result = handler.complete(params, ctx).await?;
                    serde_json::to_value(result).map_err(|e| HandlerError::internal(e.to_string()))
                }))
            }
            methods::LOGGING_SET_LEVEL => {
                let params: SetLevelRequestParams = match parse_params(request.params) {
                    Ok(p) => p,
                    Err(e) => return Dispatch::Reply(Err(e)),
                };
                self.state.inner.lock().log_level = params.level;
                Dispatch::Reply(Ok(json!({})))
            }
            _ => Dispatch::Reply(Err(lifecycle::method_not_found(self.state.phase(), method))),
        }
    }

    fn not_offered(&self, method: &str) -> Dispatch {
        Dispatch::Reply(Err(lifecycle::method_not_found(self.state.phase(), method)))
    }
}

/// Runs a tool: validates arguments (failures are `isError` results), calls the handler,
/// and checks `structuredContent` against the output schema.
pub(crate) async fn run_tool(
    tool: Arc<tools::RegisteredTool>,
    arguments: serde_json::Map<String, Value>,
    ctx: RequestContext,
) -> Result<Value, HandlerError> {
    let args_value = Value::Object(arguments);
    if let Err(problems) = tool.validate_input(&args_value) {
        let result = erlmcp_codec::schema::CallToolResult::error_text(format!(
            "invalid arguments for tool `{}`: {problems}",
            tool.tool.name
        ));
        return serde_json::to_value(result).map_err(|e| HandlerError::internal(e.to_string()));
    }
    let Value::Object(arguments) = args_value else {
        return Err(HandlerError::internal("arguments are not an object"));
    };
    let result = tool.handler.call(arguments, ctx).await?;
    tool.validate_output(&result)?;
    serde_json::to_value(result).map_err(|e| HandlerError::internal(e.to_string()))
}

/// -32601 for a tool called against its `execution.taskSupport`.
fn task_support_error(tool: &str, what: &str) -> ErrorObject {
    ErrorObject::new(
        erlmcp_codec::ErrorCode::METHOD_NOT_FOUND,
        format!("tool `{tool}` {what}"),
    )
    .with_data(json!({"tool": tool}))
}

fn strip_null_cursor(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value
        && map.get("nextCursor") == Some(&Value::Null)
    {
        map.remove("nextCursor");
    }
    value
}

/// Methods a client may send that this engine knows (used to tell "not yet" from
/// "never" before initialization).
fn is_known_client_method(method: &str) -> bool {
    matches!(
        method,
        methods::TOOLS_LIST
            | methods::TOOLS_CALL
            | methods::RESOURCES_LIST
            | methods::RESOURCES_TEMPLATES_LIST
            | methods::RESOURCES_READ
            | methods::RESOURCES_SUBSCRIBE
            | methods::RESOURCES_UNSUBSCRIBE
            | methods::PROMPTS_LIST
            | methods::PROMPTS_GET
            | methods::COMPLETION_COMPLETE
            | methods::LOGGING_SET_LEVEL
            | methods::TASKS_GET
            | methods::TASKS_RESULT
            | methods::TASKS_LIST
            | methods::TASKS_CANCEL
    )
}

impl SessionRole for ServerSession {
    fn on_request(&self, request: Request, scope: RequestScope) -> Dispatch {
        let is_initialize = request.method == methods::INITIALIZE;
        // Only sessions on an older version pay for adaptation (and the method clone).
        let method = (is_initialize || self.is_older_version()).then(|| request.method.clone());
        let dispatch = self.dispatch(request, scope);
        let Some(method) = method else {
            return dispatch;
        };
        match self.state.protocol_version() {
            Some(version) if version < LATEST_HANDSHAKE => adapt(dispatch, method, version),
            _ => dispatch,
        }
    }

    fn on_notification(&self, notification: Notification) {
        self.notification(notification);
    }

    fn awaiting_initialize(&self) -> bool {
        !self.state.phase().is_initialized() && self.state.phase() != Phase::Stateless
    }

    fn on_closed(&self) {
        self.state.close();
        // Out of the registry now, not after the writer's flush grace; the guard in the
        // session future then finds nothing left to remove.
        self.core.sessions.remove(&self.state.id);
    }
}

/// Applies [`compat::adapt_result`] to whatever the dispatch produces.
fn adapt(dispatch: Dispatch, method: String, version: ProtocolVersion) -> Dispatch {
    match dispatch {
        Dispatch::Reply(Ok(mut value)) => {
            compat::adapt_result(&method, version, &mut value);
            Dispatch::Reply(Ok(value))
        }
        Dispatch::Spawn(handler) => Dispatch::Spawn(Box::pin(async move {
            let mut value = handler.await?;
            compat::adapt_result(&method, version, &mut value);
            Ok(value)
        })),
        other => other,
    }
}

impl ServerSession {
    fn is_older_version(&self) -> bool {
        self.state
            .protocol_version()
            .is_some_and(|v| v < LATEST_HANDSHAKE)
    }

    /// Hands a request of a stateless connection to the modern engine.
    fn dispatch_modern(&self, request: Request, scope: RequestScope) -> Dispatch {
        let work = modern::handle(
            self.core.clone(),
            self.state.clone(),
            self.peer.clone(),
            request,
            ClaimedHeaders::default(),
            scope.cancel,
        );
        Dispatch::Spawn(Box::pin(
            async move { work.await.map_err(HandlerError::Rpc) },
        ))
    }

    fn dispatch(&self, request: Request, scope: RequestScope) -> Dispatch {
        let mut phase = self.state.phase();
        // The first request chooses the era: `initialize` the handshake, a request
        // carrying the modern `_meta` (a modern client's `server/discover` probe) the
        // stateless one — for good.
        if phase == Phase::AwaitingInitialize && crate::Server::is_modern_request(&request) {
            self.state.set_stateless();
            phase = Phase::Stateless;
            tracing::debug!(session = self.state.id, "stateless session (2026-07-28)");
        }
        if phase == Phase::Stateless {
            return self.dispatch_modern(request, scope);
        }
        if phase.is_initialized()
            && request.method != methods::INITIALIZE
            && modern::meta::has_modern_envelope(request.params.as_ref())
        {
            return Dispatch::Reply(Err(ErrorObject::new(
                erlmcp_codec::ErrorCode::INVALID_REQUEST,
                "this connection serves the handshake era; requests carrying the \
                 2026-07-28 envelope are not accepted on it",
            )
            .with_data(json!({"phase": phase.as_str(), "method": request.method}))));
        }
        match request.method.as_str() {
            methods::PING => Dispatch::Reply(Ok(json!({}))),
            methods::INITIALIZE if phase == Phase::AwaitingInitialize => {
                self.initialize(request.params)
            }
            methods::INITIALIZE => {
                Dispatch::Reply(Err(lifecycle::phase_error(phase, methods::INITIALIZE)))
            }
            method if !phase.is_initialized() => {
                if is_known_client_method(method) {
                    Dispatch::Reply(Err(lifecycle::phase_error(phase, method)))
                } else {
                    Dispatch::Reply(Err(lifecycle::method_not_found(phase, method)))
                }
            }
            _ if self.core.budget.is_under_pressure() => {
                // Shed new work until the queues drain; answers to what is already
                // running still flow, so the pressure clears by itself.
                let stats = self.core.budget.stats();
                Dispatch::Reply(Err(ErrorObject::new(
                    erlmcp_codec::ErrorCode::OVERLOADED,
                    "server overloaded: memory budget exceeded, retry later",
                )
                .with_data(json!({"usedBytes": stats.used, "limitBytes": stats.limit}))))
            }
            _ => self.route(request, scope),
        }
    }

    fn notification(&self, notification: Notification) {
        match notification.method.as_str() {
            methods::NOTIFICATIONS_INITIALIZED => {
                let mut inner = self.state.inner.lock();
                if inner.phase == Phase::Initializing {
                    inner.phase = Phase::Operational;
                }
            }
            methods::NOTIFICATIONS_ROOTS_LIST_CHANGED => {
                if let Some(callback) = &self.core.on_roots_changed {
                    callback(self.state.id);
                }
            }
            other => tracing::trace!(method = other, "notification ignored"),
        }
    }
}
