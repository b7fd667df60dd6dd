//! The client engine: connects over any transport, performs the `initialize` handshake
//! or — with [`ClientMode::Modern`] / [`ClientMode::Auto`] — discovers a stateless
//! (2026-07-28) server, offers a typed call for every server method, and answers the
//! server's requests (`sampling/createMessage`, `elicitation/create`, `roots/list`,
//! `ping`; in the stateless era: the input requests of input-required results) with the
//! handlers it was built with. Only handlers that were given become capabilities.
//! With [`ClientBuilder::tasks`] a stateless client declares the tasks extension and
//! drives the tasks a server answers `tools/call` with to their end (the private
//! `client::tasks` module).

mod modern;
mod tasks;

pub use modern::{ClientMode, MAX_INPUT_ROUNDS};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use erlmcp_codec::schema::modern::DiscoverResult;
use erlmcp_codec::schema::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, CompleteRequestParams,
    CompleteResult, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, GetPromptResult, Implementation, InitializeRequestParams, InitializeResult,
    JsonObject, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, LoggingLevel, Prompt, ProtocolVersion, ReadResourceRequestParams,
    ReadResourceResult, Resource, ResourceTemplate, Root, Tool, methods,
};
use erlmcp_codec::{ErrorObject, Notification, Request};
use erlmcp_transport::Transport;
use futures::future::BoxFuture;
use parking_lot::RwLock;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::SessionConfig;
use crate::error::{HandlerError, RequestError, SessionError};
use crate::lifecycle::Phase;
use crate::lifecycle::method_not_found;
use crate::peer::{Peer, RequestOptions};
use crate::session::{Dispatch, RequestScope, SessionRole, SessionStats, new_peer, run_session};

type SamplingFn = Arc<
    dyn Fn(
            CreateMessageRequestParams,
        ) -> BoxFuture<'static, Result<CreateMessageResult, HandlerError>>
        + Send
        + Sync,
>;
type ElicitFn = Arc<
    dyn Fn(ElicitRequestParams) -> BoxFuture<'static, Result<ElicitResult, HandlerError>>
        + Send
        + Sync,
>;
type NotificationFn = Arc<dyn Fn(Notification) + Send + Sync>;

/// Builds a [`Client`]: identity, capabilities (from the handlers given) and options.
pub struct ClientBuilder {
    info: Implementation,
    config: SessionConfig,
    protocol_version: ProtocolVersion,
    sampling: Option<SamplingFn>,
    elicitation: Option<ElicitFn>,
    roots: Option<Arc<RwLock<Vec<Root>>>>,
    on_notification: Option<NotificationFn>,
    mode: ClientMode,
    tasks: bool,
}

/// Longest the `server/discover` probe of [`ClientMode::Auto`] waits (as the MCP SDKs).
const DISCOVER_PROBE_TIMEOUT: Duration = Duration::from_secs(10);

impl ClientBuilder {
    /// A client identifying itself as `name`/`version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        ClientBuilder {
            info: Implementation::new(name, version),
            config: SessionConfig::default(),
            protocol_version: erlmcp_codec::schema::versions::LATEST_HANDSHAKE,
            sampling: None,
            elicitation: None,
            roots: None,
            on_notification: None,
            mode: ClientMode::Legacy,
            tasks: false,
        }
    }

    /// How to pick the protocol era (default [`ClientMode::Legacy`]).
    pub fn mode(mut self, mode: ClientMode) -> Self {
        self.mode = mode;
        self
    }

    /// Declares the tasks extension (`io.modelcontextprotocol/tasks`) on stateless
    /// requests: a server may then answer `tools/call` with a task, which the client
    /// polls (`tasks/get`), answers when it needs input (`tasks/update`, with the same
    /// sampling / elicitation / roots handlers) and returns the final result of. No
    /// effect in the handshake era.
    pub fn tasks(mut self) -> Self {
        self.tasks = true;
        self
    }

    /// Session limits; `request_timeout` is the default per-request timeout.
    pub fn config(mut self, config: SessionConfig) -> Self {
        self.config = config;
        self
    }

    /// The protocol version to ask for (default: the newest handshake-era version).
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.protocol_version = version;
        self
    }

    /// Answers `sampling/createMessage` (declares the `sampling` capability).
    pub fn sampling<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(CreateMessageRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CreateMessageResult, HandlerError>> + Send + 'static,
    {
        self.sampling = Some(Arc::new(move |p| Box::pin(handler(p))));
        self
    }

    /// Answers `elicitation/create` (declares the `elicitation` capability).
    pub fn elicitation<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(ElicitRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ElicitResult, HandlerError>> + Send + 'static,
    {
        self.elicitation = Some(Arc::new(move |p| Box::pin(handler(p))));
        self
    }

    /// Answers `roots/list` with these roots (declares `roots` with `listChanged`);
    /// change them later with [`Client::set_roots`].
    pub fn roots(mut self, roots: Vec<Root>) -> Self {
        self.roots = Some(Arc::new(RwLock::new(roots)));
        self
    }

    /// Called for every notification from the server other than progress and
    /// cancellation (resource updates, list changes, log messages, …).
    pub fn on_notification(
        mut self,
        callback: impl Fn(Notification) + Send + Sync + 'static,
    ) -> Self {
        self.on_notification = Some(Arc::new(callback));
        self
    }

    fn capabilities(&self) -> ClientCapabilities {
        let mut caps = json!({});
        if self.sampling.is_some() {
            caps["sampling"] = json!({});
        }
        if self.elicitation.is_some() {
            caps["elicitation"] = json!({"form": {}});
        }
        if self.roots.is_some() {
            caps["roots"] = json!({"listChanged": true});
        }
        serde_json::from_value(caps).unwrap_or_default()
    }

    /// The capabilities as 2026-07-28 spells them (`roots` has no `listChanged`).
    fn modern_capabilities(&self) -> ClientCapabilities {
        let mut caps = self.capabilities();
        if caps.roots.is_some() {
            caps.roots = serde_json::from_value(json!({})).ok();
        }
        if self.tasks {
            caps.extra.insert(
                "extensions".into(),
                json!({ erlmcp_codec::schema::modern::TASKS_EXTENSION: {} }),
            );
        }
        caps
    }

    /// Connects over `transport`: runs the session and performs the handshake, or (in
    /// the modern and auto modes) the `server/discover` probe.
    pub async fn connect<T: Transport>(self, transport: T) -> Result<Client, SessionError> {
        let capabilities = self.capabilities();
        let modern_capabilities = self.modern_capabilities();
        let queues = erlmcp_flow::OutboundQueue::new(&self.config.flow.queue)
            .map_err(SessionError::InvalidConfig)?;
        let (peer, outbound) = new_peer(&queues, 0, &self.config);
        let role = Arc::new(ClientRole {
            sampling: self.sampling,
            elicitation: self.elicitation,
            roots: self.roots.clone(),
            on_notification: self.on_notification,
            tasks: self.tasks,
        });
        let shutdown = CancellationToken::new();
        let stats = Arc::new(SessionStats::default());
        let task = tokio::spawn(run_session(
            transport,
            role.clone(),
            peer.clone(),
            outbound,
            self.config.clone(),
            stats,
            shutdown.clone(),
        ));
        if self.mode != ClientMode::Legacy {
            let version = erlmcp_codec::schema::LATEST_MODERN;
            let meta = modern::request_meta(version, &modern_capabilities, &self.info, None);
            let timeout = self.config.init_timeout.min(DISCOVER_PROBE_TIMEOUT);
            let probe = peer
                .request_value(
                    methods::SERVER_DISCOVER,
                    json!({ "_meta": meta }),
                    RequestOptions::with_timeout(timeout),
                )
                .await;
            let discovered = probe.and_then(|value| {
                let result: DiscoverResult =
                    serde_json::from_value(value).map_err(RequestError::InvalidResult)?;
                if result
                    .supported_versions
                    .iter()
                    .any(|v| v == version.as_str())
                {
                    Ok(result)
                } else {
                    Err(RequestError::Rpc(ErrorObject::new(
                        erlmcp_codec::ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
                        "the server does not list 2026-07-28 in supportedVersions",
                    )))
                }
            });
            match discovered {
                Ok(discover) => {
                    let server_info = discover
                        .meta
                        .as_ref()
                        .and_then(|m| m.get(erlmcp_codec::schema::modern::SERVER_INFO_META_KEY))
                        .and_then(|v| serde_json::from_value(v.clone()).ok())
                        .unwrap_or_else(|| Implementation::new("", ""));
                    let mut init =
                        InitializeResult::new(version, discover.capabilities.clone(), server_info);
                    init.instructions = discover.instructions.clone();
                    return Ok(Client {
                        peer,
                        init,
                        version,
                        roots: self.roots,
                        shutdown,
                        task: Some(task),
                        default_timeout: self.config.request_timeout,
                        role,
                        modern: Some(modern::ModernState {
                            version,
                            capabilities: modern_capabilities,
                            info: self.info,
                            log_level: parking_lot::Mutex::new(None),
                            discover,
                        }),
                    });
                }
                Err(err) if self.mode == ClientMode::Modern => {
                    shutdown.cancel();
                    return Err(SessionError::Initialize(err));
                }
                Err(err) => {
                    tracing::debug!(error = %err, "server/discover probe failed; falling back to initialize");
                }
            }
        }
        let params = InitializeRequestParams::new(self.protocol_version, capabilities, self.info);
        let init: Result<InitializeResult, RequestError> = peer
            .request(
                methods::INITIALIZE,
                params,
                RequestOptions::with_timeout(self.config.init_timeout),
            )
            .await;
        let init = match init {
            Ok(init) => init,
            Err(err) => {
                shutdown.cancel();
                return Err(SessionError::Initialize(err));
            }
        };
        let Some(version) = ProtocolVersion::parse(&init.protocol_version) else {
            shutdown.cancel();
            return Err(SessionError::Initialize(RequestError::Rpc(
                ErrorObject::new(
                    erlmcp_codec::ErrorCode::INVALID_PARAMS,
                    format!(
                        "server chose unsupported protocol version {}",
                        init.protocol_version
                    ),
                ),
            )));
        };
        if let Err(err) = peer
            .notify(methods::NOTIFICATIONS_INITIALIZED, json!({}))
            .await
        {
            shutdown.cancel();
            return Err(SessionError::Initialize(err));
        }
        Ok(Client {
            peer,
            init,
            version,
            roots: self.roots,
            shutdown,
            task: Some(task),
            default_timeout: self.config.request_timeout,
            role,
            modern: None,
        })
    }
}

/// The client role of a session: answers what the server asks.
struct ClientRole {
    sampling: Option<SamplingFn>,
    elicitation: Option<ElicitFn>,
    roots: Option<Arc<RwLock<Vec<Root>>>>,
    on_notification: Option<NotificationFn>,
    /// Whether stateless requests declare the tasks extension.
    tasks: bool,
}

fn parse<T: DeserializeOwned>(params: Option<Value>) -> Result<T, HandlerError> {
    serde_json::from_value(params.unwrap_or_else(|| Value::Object(Map::new())))
        .map_err(|e| HandlerError::invalid_params(format!("invalid params: {e}")))
}

fn spawn_typed<P, R, F>(params: Option<Value>, handler: F) -> Dispatch
where
    P: DeserializeOwned,
    R: Serialize + 'static,
    F: FnOnce(P) -> BoxFuture<'static, Result<R, HandlerError>>,
{
    match parse::<P>(params) {
        Err(e) => Dispatch::Reply(Err(e.to_error_object())),
        Ok(p) => {
            let fut = handler(p);
            Dispatch::Spawn(Box::pin(async move {
                let result = fut.await?;
                serde_json::to_value(result).map_err(|e| HandlerError::internal(e.to_string()))
            }))
        }
    }
}

impl SessionRole for ClientRole {
    fn on_request(&self, request: Request, _scope: RequestScope) -> Dispatch {
        let not_found =
            || Dispatch::Reply(Err(method_not_found(Phase::Operational, &request.method)));
        match request.method.as_str() {
            methods::PING => Dispatch::Reply(Ok(json!({}))),
            methods::SAMPLING_CREATE_MESSAGE => match &self.sampling {
                Some(h) => {
                    let h = h.clone();
                    spawn_typed(request.params, move |p| h(p))
                }
                None => not_found(),
            },
            methods::ELICITATION_CREATE => match &self.elicitation {
                Some(h) => {
                    let h = h.clone();
                    spawn_typed(request.params, move |p| h(p))
                }
                None => not_found(),
            },
            methods::ROOTS_LIST => match &self.roots {
                Some(roots) => {
                    let roots = roots.read().clone();
                    Dispatch::Reply(Ok(json!({ "roots": roots })))
                }
                None => not_found(),
            },
            _ => not_found(),
        }
    }

    fn on_notification(&self, notification: Notification) {
        if let Some(callback) = &self.on_notification {
            callback(notification);
        }
    }
}

/// A connected, initialized MCP client.
pub struct Client {
    peer: Peer,
    init: InitializeResult,
    version: ProtocolVersion,
    roots: Option<Arc<RwLock<Vec<Root>>>>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), SessionError>>>,
    default_timeout: Duration,
    role: Arc<ClientRole>,
    /// Set when the client speaks the stateless era.
    modern: Option<modern::ModernState>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.init.server_info.name)
            .field("version", &self.version)
            .finish()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Client {
    /// Starts building a client.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(name, version)
    }

    /// The server's `initialize` result (server info, capabilities, instructions). In
    /// the stateless era it is made from the `server/discover` result.
    pub fn server(&self) -> &InitializeResult {
        &self.init
    }

    /// The `server/discover` result, when the client speaks the stateless era.
    pub fn discover_result(&self) -> Option<&DiscoverResult> {
        self.modern.as_ref().map(|m| &m.discover)
    }

    /// True when the client speaks the stateless era (2026-07-28).
    pub fn is_stateless(&self) -> bool {
        self.modern.is_some()
    }

    /// Sends `method` in the client's era and returns the raw result. In the stateless
    /// era the request carries the client's `_meta`, input-required results are
    /// answered with the client's handlers and retried (at most [`MAX_INPUT_ROUNDS`]),
    /// and a task (with [`ClientBuilder::tasks`]) is driven to its end.
    pub async fn call_value<P: Serialize>(
        &self,
        method: &str,
        params: P,
        options: RequestOptions,
    ) -> Result<Value, RequestError> {
        let Some(state) = &self.modern else {
            return self.peer.request_value(method, params, options).await;
        };
        let params = serde_json::to_value(params).map_err(RequestError::InvalidParams)?;
        let meta = modern::request_meta(
            state.version,
            &state.capabilities,
            &state.info,
            *state.log_level.lock(),
        );
        let original = modern::stamp(params, &meta);
        let mut params = original.clone();
        for _ in 0..MAX_INPUT_ROUNDS {
            let result = self
                .peer
                .request_value(method, params, options.clone())
                .await?;
            if tasks::is_task(&result) {
                return self.drive_task(method, result, &meta).await;
            }
            if !modern::is_input_required(&result) {
                return Ok(result);
            }
            let (responses, state) = modern::answer(&self.role, result).await?;
            params = modern::retry_params(&original, responses, state);
        }
        Err(RequestError::Rpc(ErrorObject::new(
            erlmcp_codec::ErrorCode::INTERNAL_ERROR,
            format!("the server still required input after {MAX_INPUT_ROUNDS} rounds"),
        )))
    }

    /// Like [`Client::call_value`], deserialised as `R`.
    async fn call<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: P,
        options: RequestOptions,
    ) -> Result<R, RequestError> {
        let value = self.call_value(method, params, options).await?;
        serde_json::from_value(value).map_err(RequestError::InvalidResult)
    }

    /// The stateless era has no such method.
    fn not_in_era(&self, method: &'static str) -> Result<(), RequestError> {
        match self.modern {
            Some(_) => Err(RequestError::NotInEra(method)),
            None => Ok(()),
        }
    }

    /// The negotiated protocol version.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// The raw peer handle, for methods without a typed call here.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Sends any request and deserialises its result.
    pub async fn request<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: P,
        options: RequestOptions,
    ) -> Result<R, RequestError> {
        self.call(method, params, options).await
    }

    fn opts(&self) -> RequestOptions {
        RequestOptions::with_timeout(self.default_timeout)
    }

    /// `ping` (in the stateless era, which has no `ping`: a `server/discover`).
    pub async fn ping(&self) -> Result<(), RequestError> {
        if self.modern.is_some() {
            let _: Value = self
                .call_value(methods::SERVER_DISCOVER, json!({}), self.opts())
                .await?;
            return Ok(());
        }
        let _: Value = self
            .peer
            .request(methods::PING, json!({}), self.opts())
            .await?;
        Ok(())
    }

    /// One page of `tools/list`.
    pub async fn list_tools_page(
        &self,
        cursor: Option<String>,
    ) -> Result<ListToolsResult, RequestError> {
        self.call(methods::TOOLS_LIST, cursor_params(cursor), self.opts())
            .await
    }

    /// Every tool, following `nextCursor` to the end.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, RequestError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.list_tools_page(cursor).await?;
            all.extend(page.tools);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// `tools/call` with the default timeout.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, RequestError> {
        self.call_tool_with(name, arguments, self.opts()).await
    }

    /// `tools/call` with explicit options (timeout, progress callback). On timeout the
    /// server is sent `notifications/cancelled`.
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        options: RequestOptions,
    ) -> Result<CallToolResult, RequestError> {
        let arguments: Option<JsonObject> = match arguments {
            Value::Object(map) => Some(map),
            Value::Null => None,
            _ => {
                return Err(RequestError::InvalidParams(serde::de::Error::custom(
                    "tool arguments must be a JSON object",
                )));
            }
        };
        let params = CallToolRequestParams::new(name, arguments);
        self.call(methods::TOOLS_CALL, params, options).await
    }

    /// One page of `resources/list`.
    pub async fn list_resources_page(
        &self,
        cursor: Option<String>,
    ) -> Result<ListResourcesResult, RequestError> {
        self.call(methods::RESOURCES_LIST, cursor_params(cursor), self.opts())
            .await
    }

    /// Every resource, following `nextCursor` to the end.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, RequestError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.list_resources_page(cursor).await?;
            all.extend(page.resources);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Every resource template, following `nextCursor` to the end.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, RequestError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page: ListResourceTemplatesResult = self
                .call(
                    methods::RESOURCES_TEMPLATES_LIST,
                    cursor_params(cursor),
                    self.opts(),
                )
                .await?;
            all.extend(page.resource_templates);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// `resources/read`.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, RequestError> {
        self.call(
            methods::RESOURCES_READ,
            ReadResourceRequestParams::new(uri),
            self.opts(),
        )
        .await
    }

    /// `resources/subscribe` (handshake era only; the stateless era uses
    /// `subscriptions/listen`).
    pub async fn subscribe(&self, uri: &str) -> Result<(), RequestError> {
        self.not_in_era(methods::RESOURCES_SUBSCRIBE)?;
        let _: Value = self
            .peer
            .request(
                methods::RESOURCES_SUBSCRIBE,
                json!({"uri": uri}),
                self.opts(),
            )
            .await?;
        Ok(())
    }

    /// `resources/unsubscribe` (handshake era only).
    pub async fn unsubscribe(&self, uri: &str) -> Result<(), RequestError> {
        self.not_in_era(methods::RESOURCES_UNSUBSCRIBE)?;
        let _: Value = self
            .peer
            .request(
                methods::RESOURCES_UNSUBSCRIBE,
                json!({"uri": uri}),
                self.opts(),
            )
            .await?;
        Ok(())
    }

    /// Every prompt, following `nextCursor` to the end.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, RequestError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page: ListPromptsResult = self
                .call(methods::PROMPTS_LIST, cursor_params(cursor), self.opts())
                .await?;
            all.extend(page.prompts);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// `prompts/get`.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: &[(&str, &str)],
    ) -> Result<GetPromptResult, RequestError> {
        let arguments: Map<String, Value> = arguments
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        self.call(
            methods::PROMPTS_GET,
            json!({"name": name, "arguments": arguments}),
            self.opts(),
        )
        .await
    }

    /// `completion/complete`.
    pub async fn complete(
        &self,
        params: CompleteRequestParams,
    ) -> Result<CompleteResult, RequestError> {
        self.call(methods::COMPLETION_COMPLETE, params, self.opts())
            .await
    }

    /// `logging/setLevel`; in the stateless era the level is sent with every later
    /// request instead (`io.modelcontextprotocol/logLevel`).
    pub async fn set_logging_level(&self, level: LoggingLevel) -> Result<(), RequestError> {
        if let Some(state) = &self.modern {
            *state.log_level.lock() = Some(level);
            return Ok(());
        }
        let _: Value = self
            .peer
            .request(
                methods::LOGGING_SET_LEVEL,
                json!({"level": level}),
                self.opts(),
            )
            .await?;
        Ok(())
    }

    /// Replaces the roots offered to the server and sends `notifications/roots/list_changed`.
    pub async fn set_roots(&self, roots: Vec<Root>) -> Result<(), RequestError> {
        let Some(current) = &self.roots else {
            return Err(RequestError::CapabilityMissing("roots"));
        };
        *current.write() = roots;
        if self.modern.is_some() {
            // Stateless: the server asks for roots when it needs them.
            return Ok(());
        }
        self.peer
            .notify(methods::NOTIFICATIONS_ROOTS_LIST_CHANGED, json!({}))
            .await
    }

    /// Closes the session and waits for it to end.
    pub async fn close(mut self) -> Result<(), SessionError> {
        self.shutdown.cancel();
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

fn cursor_params(cursor: Option<String>) -> Value {
    match cursor {
        Some(cursor) => json!({ "cursor": cursor }),
        None => json!({}),
    }
}
