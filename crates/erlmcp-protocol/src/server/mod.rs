//! The server engine: a [`Server`] holds tools, resources, prompts and a completion hook,
//! and serves any number of sessions, each on its own transport.
//!
//! Build one with [`ServerBuilder`], then call [`Server::serve`] once per connection.
//! Registries can change at runtime ([`Server::add_tool`], …); every initialized session is
//! then told with the matching `notifications/*/list_changed`.
//!
//! Live sessions are kept in an `erlmcp-registry` [`SessionRegistry`] and resource
//! subscribers in its `Groups` (see [`live`]): a session that ends by any path leaves no
//! entry, and `notifications/resources/updated` goes to exactly the subscribed sessions.

pub mod context;
pub mod files;
pub mod live;
pub mod modern;
pub mod prompts;
pub mod resources;
pub(crate) mod session;
pub mod tasks;
pub mod tools;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use erlmcp_codec::schema::{
    CallToolResult, CompleteRequestParams, CompleteResult, GetPromptResult, Implementation,
    InitializeResult, JsonObject, Prompt, ProtocolVersion, ReadResourceResult, Resource,
    ResourceTemplate, ServerCapabilities, Tool, methods,
};
use erlmcp_flow::{MemoryBudget, OutboundQueue};
use erlmcp_registry::{Kind, Monitored, Registry};
use erlmcp_transport::Transport;
use futures::future::Either;
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::config::SessionConfig;
use crate::error::{HandlerError, SessionError};
use crate::peer::Peer;
use crate::session::{SessionStats, new_peer, run_session};

pub use context::RequestContext;
pub use live::{RegistryReport, SessionHandle, SessionRegistry};
pub use prompts::{CompletionHandler, PromptArgs, PromptHandler};
pub use resources::{ResourceHandler, TemplateVars};
pub use session::SessionState;
pub use tools::{ToolFuture, ToolHandler};

use live::{LiveSession, Subscribers};
use prompts::PromptRegistry;
use resources::ResourceRegistry;
use tools::{ToolRegistry, TypedTool};

/// Default cap on resource subscriptions per session.
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 1000;

/// Handshake-era versions this server speaks, newest last.
pub const SUPPORTED_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V2024_11_05,
    ProtocolVersion::V2025_03_26,
    ProtocolVersion::V2025_06_18,
    ProtocolVersion::V2025_11_25,
];

pub(crate) struct ServerCore {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) config: SessionConfig,
    pub(crate) supported_versions: &'static [ProtocolVersion],
    pub(crate) max_subscriptions: usize,
    pub(crate) tools: RwLock<ToolRegistry>,
    pub(crate) resources: RwLock<ResourceRegistry>,
    pub(crate) prompts: RwLock<PromptRegistry>,
    pub(crate) completion: Option<Arc<dyn CompletionHandler>>,
    pub(crate) on_roots_changed: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    pub(crate) logging: bool,
    /// Live sessions; each entry is removed by its session's future when it ends.
    pub(crate) sessions: SessionRegistry,
    /// Resource URI → subscribed sessions.
    pub(crate) subscribers: Subscribers,
    pub(crate) next_session: AtomicU64,
    /// Makes each session's bounded outbound queue; all of them charge `budget`.
    pub(crate) queues: OutboundQueue,
    /// Versions served statelessly (2026-07-28).
    pub(crate) modern_versions: &'static [ProtocolVersion],
    /// Seals the `requestState` of input-required results (random per server).
    pub(crate) state_key: modern::input_required::StateKey,
    /// Open `subscriptions/listen` streams.
    pub(crate) listeners: Arc<modern::listen::Listeners>,
    /// Caching hints on stateless results.
    pub(crate) cache: modern::CachePolicy,
    /// Tasks of the stateless era's tasks extension (server-wide: any connection may
    /// poll them); same TTL machinery as the per-session handshake-era stores.
    pub(crate) modern_tasks: Arc<tasks::TaskStore>,
    /// The memory budget shared by every session's queue; above it new requests get
    /// -32010 until the pressure clears.
    pub(crate) budget: MemoryBudget,
}

impl ServerCore {
    pub(crate) fn has_tools(&self) -> bool {
        !self.tools.read().is_empty()
    }

    pub(crate) fn has_resources(&self) -> bool {
        !self.resources.read().is_empty()
    }

    pub(crate) fn has_prompts(&self) -> bool {
        !self.prompts.read().is_empty()
    }

    fn capabilities(&self) -> ServerCapabilities {
        let mut caps = json!({});
        if self.has_tools() {
            caps["tools"] = json!({"listChanged": true});
        }
        if self.has_resources() {
            caps["resources"] = json!({"subscribe": true, "listChanged": true});
        }
        if self.has_prompts() {
            caps["prompts"] = json!({"listChanged": true});
        }
        if self.completion.is_some() {
            caps["completions"] = json!({});
        }
        if self.logging {
            caps["logging"] = json!({});
        }
        if self.tools.read().supports_tasks() {
            caps["tasks"] = json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}});
        }
        serde_json::from_value(caps).unwrap_or_default()
    }

    pub(crate) fn initialize_result(&self, version: ProtocolVersion) -> InitializeResult {
        let mut result = InitializeResult::new(version, self.capabilities(), self.info.clone());
        result.instructions = self.instructions.clone();
        result
    }
}

/// The future of one session (see [`Server::serve`]): the session driver inside the
/// registry's monitor, which removes the session's entry when the driver ends or is
/// dropped. Polled in place — no wrapper `async` block, which would store the driver twice.
type ServeFuture<F> =
    Either<Monitored<F, u64, SessionHandle>, std::future::Ready<Result<(), SessionError>>>;

/// An MCP server. Cheap to clone; all clones share registries and sessions.
#[derive(Clone)]
pub struct Server {
    core: Arc<ServerCore>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.core.info.name)
            .field("sessions", &self.core.sessions.count_kind(Kind::SESSION))
            .finish()
    }
}

/// A snapshot of one live session, for introspection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionSnapshot {
    /// Session id.
    pub id: u64,
    /// Lifecycle phase name.
    pub phase: &'static str,
    /// Negotiated protocol version.
    pub protocol_version: Option<&'static str>,
    /// Resource subscriptions held.
    pub subscriptions: usize,
    /// Inbound requests being handled.
    pub in_flight: usize,
    /// Outbound requests waiting for the client.
    pub pending_outbound: usize,
    /// Tasks held (working, waiting for input, or finished and retained).
    pub tasks: usize,
    /// Messages queued for the client, not yet written.
    pub queued_messages: usize,
}

/// Totals over every live session: what the server holds right now. After every client
/// has gone, every figure is zero — the leak check of the lifecycle tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Introspection {
    /// Live sessions.
    pub sessions: usize,
    /// Resource subscriptions (one notification handler each).
    pub subscriptions: usize,
    /// Inbound requests being handled.
    pub in_flight: usize,
    /// Outbound requests waiting for answers.
    pub pending_outbound: usize,
    /// Tasks held.
    pub tasks: usize,
    /// Messages queued for peers.
    pub queued_messages: usize,
    /// Entries in the session registry (equals `sessions` unless a session is being
    /// registered or removed at this instant).
    pub registry_entries: usize,
    /// Resource URIs with at least one subscriber (groups in the fan-out table).
    pub subscribed_uris: usize,
}

impl Server {
    /// Starts building a server with the given name and version.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder::new(name, version)
    }

    /// Serves one session on `transport` until the peer disconnects, the init timeout
    /// passes without `initialize`, or [`Server::shutdown_session`] is called.
    ///
    /// The session is registered in the server's [`SessionRegistry`] at once; the entry's
    /// guard lives in the returned future, so the entry goes when the session ends by any
    /// path (finished, panicked, aborted, or the future dropped unpolled). When the
    /// registry refuses (the [`ServerBuilder::max_sessions`] limit), the future ends at
    /// once with [`SessionError::Registry`] and the transport is dropped (closed).
    pub fn serve<T: Transport>(
        &self,
        transport: T,
    ) -> impl Future<Output = Result<(), SessionError>> + Send + 'static + use<T> {
        let core = self.core.clone();
        let id = core.next_session.fetch_add(1, Ordering::Relaxed) + 1;
        let config = core.config.clone();
        let (peer, outbound) = new_peer(&core.queues, id, &config);
        let tasks = Arc::new(tasks::TaskStore::new(id, config.tasks, peer.clone()));
        let state = Arc::new(SessionState::new(id, tasks));
        let stats = Arc::new(SessionStats::default());
        let shutdown = CancellationToken::new();
        let handle = SessionHandle(Arc::new(LiveSession {
            state: state.clone(),
            peer: peer.clone(),
            stats: stats.clone(),
            shutdown: shutdown.clone(),
        }));
        let sessions = core.sessions.clone();
        let role = Arc::new(session::ServerSession {
            core,
            state,
            peer: peer.clone(),
            modern: None,
        });
        let driver = run_session(transport, role, peer, outbound, config, stats, shutdown);
        let serve: ServeFuture<_> = match sessions.monitor(id, handle, Kind::SESSION, driver) {
            Ok(monitored) => Either::Left(monitored),
            Err(err) => {
                tracing::warn!(session = id, error = %err, "session refused by the registry");
                Either::Right(std::future::ready(Err(SessionError::Registry(err))))
            }
        };
        serve
    }

    /// Ends one session (its transport is closed after queued answers are flushed).
    pub fn shutdown_session(&self, id: u64) -> bool {
        self.core
            .sessions
            .with(&id, SessionHandle::shutdown)
            .is_some()
    }

    /// Ends every session.
    pub fn shutdown_all(&self) {
        self.core
            .sessions
            .for_each_kind(Kind::SESSION, |_, session| session.shutdown());
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.core.sessions.count_kind(Kind::SESSION)
    }

    /// The session with this id, while it lives (a timed registry lookup).
    pub fn session(&self, id: u64) -> Option<SessionHandle> {
        self.core.sessions.get(&id)
    }

    /// The server's session registry, for routing and metrics (read it; the server
    /// registers and removes its own sessions).
    pub fn registry(&self) -> &SessionRegistry {
        &self.core.sessions
    }

    /// The session registry's and the subscriber groups' figures: counts, sampled lookup
    /// latency (HDR), lock contention, fan-out sizes.
    pub fn registry_metrics(&self) -> RegistryReport {
        RegistryReport {
            sessions: self.core.sessions.metrics(),
            subscribers: self.core.subscribers.metrics(),
        }
    }

    /// A snapshot of every live session.
    pub fn sessions(&self) -> Vec<SessionSnapshot> {
        let mut out: Vec<SessionSnapshot> = Vec::new();
        self.core
            .sessions
            .for_each_kind(Kind::SESSION, |_, session| {
                let live = &session.0;
                out.push(SessionSnapshot {
                    id: live.state.id(),
                    phase: live.state.phase().as_str(),
                    protocol_version: live.state.protocol_version().map(|v| v.as_str()),
                    subscriptions: live.state.subscription_count(),
                    in_flight: live.stats.in_flight(),
                    pending_outbound: live.peer.pending_requests(),
                    tasks: live.state.task_count(),
                    queued_messages: live.peer.queued(),
                });
            });
        out.sort_by_key(|s| s.id);
        out
    }

    /// The shared memory budget's figures (bytes queued across sessions, pressure).
    pub fn memory_budget(&self) -> erlmcp_flow::BudgetStats {
        self.core.budget.stats()
    }

    /// Totals over every live session (see [`Introspection`]).
    pub fn introspect(&self) -> Introspection {
        let tables = Introspection {
            registry_entries: self.core.sessions.count(),
            subscribed_uris: self.core.subscribers.metrics().groups,
            ..Introspection::default()
        };
        self.sessions().iter().fold(tables, |mut total, s| {
            total.sessions += 1;
            total.subscriptions += s.subscriptions;
            total.in_flight += s.in_flight;
            total.pending_outbound += s.pending_outbound;
            total.tasks += s.tasks;
            total.queued_messages += s.queued_messages;
            total
        })
    }

    /// Sends `notifications/resources/updated` to every session subscribed to `uri` (the
    /// members of the URI's group: no scan of other sessions) and every listen stream that
    /// asked for it. Returns how many were notified. A session whose queue is full misses
    /// the update rather than holding up the others.
    pub fn notify_resource_updated(&self, uri: &str) -> usize {
        let listening = self.core.listeners.resource_updated(uri);
        let targets: Vec<Peer> = self.core.subscribers.members(uri);
        listening
            + targets
                .iter()
                .filter(|peer| {
                    peer.try_notify(
                        methods::NOTIFICATIONS_RESOURCES_UPDATED,
                        json!({"uri": uri}),
                    )
                })
                .count()
    }

    fn broadcast(&self, method: &str) -> usize {
        let listening = self.core.listeners.list_changed(method);
        let mut targets: Vec<Peer> = Vec::new();
        self.core
            .sessions
            .for_each_kind(Kind::SESSION, |_, session| {
                if session.0.state.is_operational() {
                    targets.push(session.0.peer.clone());
                }
            });
        listening
            + targets
                .iter()
                .filter(|peer| peer.try_notify(method, json!({})))
                .count()
    }

    /// Open `subscriptions/listen` streams (stateless era).
    pub fn listener_count(&self) -> usize {
        self.core.listeners.len()
    }

    /// Adds (or replaces) a tool at runtime and tells every session.
    pub fn add_tool<F, Fut>(&self, tool: Tool, handler: F) -> Result<(), String>
    where
        F: Fn(JsonObject, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, HandlerError>> + Send + 'static,
    {
        self.core.tools.write().insert(tool, Arc::new(handler))?;
        self.broadcast(methods::NOTIFICATIONS_TOOLS_LIST_CHANGED);
        Ok(())
    }

    /// The definition of the tool `name`, if one is registered (transports read its
    /// `inputSchema`, e.g. for the `x-mcp-header` rules of Streamable HTTP).
    pub fn tool_definition(&self, name: &str) -> Option<Tool> {
        self.core
            .tools
            .read()
            .list()
            .iter()
            .find(|t| t.name == name)
            .cloned()
    }

    /// Removes a tool at runtime and tells every session.
    pub fn remove_tool(&self, name: &str) -> bool {
        let removed = self.core.tools.write().remove(name);
        if removed {
            self.broadcast(methods::NOTIFICATIONS_TOOLS_LIST_CHANGED);
        }
        removed
    }

    /// Adds (or replaces) a resource at runtime and tells every session.
    pub fn add_resource<F, Fut>(&self, resource: Resource, handler: F)
    where
        F: Fn(String, TemplateVars, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, HandlerError>> + Send + 'static,
    {
        self.core
            .resources
            .write()
            .insert(resource, Arc::new(handler));
        self.broadcast(methods::NOTIFICATIONS_RESOURCES_LIST_CHANGED);
    }

    /// Removes a resource at runtime and tells every session.
    pub fn remove_resource(&self, uri: &str) -> bool {
        let removed = self.core.resources.write().remove(uri);
        if removed {
            self.broadcast(methods::NOTIFICATIONS_RESOURCES_LIST_CHANGED);
        }
        removed
    }

    /// Adds (or replaces) a prompt at runtime and tells every session.
    pub fn add_prompt<F, Fut>(&self, prompt: Prompt, handler: F)
    where
        F: Fn(PromptArgs, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, HandlerError>> + Send + 'static,
    {
        self.core.prompts.write().insert(prompt, Arc::new(handler));
        self.broadcast(methods::NOTIFICATIONS_PROMPTS_LIST_CHANGED);
    }

    /// Removes a prompt at runtime and tells every session.
    pub fn remove_prompt(&self, name: &str) -> bool {
        let removed = self.core.prompts.write().remove(name);
        if removed {
            self.broadcast(methods::NOTIFICATIONS_PROMPTS_LIST_CHANGED);
        }
        removed
    }

    /// Sends `notifications/message` to every initialized session whose log level admits it.
    pub async fn log(
        &self,
        level: erlmcp_codec::schema::LoggingLevel,
        logger: Option<&str>,
        data: serde_json::Value,
    ) {
        let mut targets: Vec<(Arc<SessionState>, Peer)> = Vec::new();
        self.core
            .sessions
            .for_each_kind(Kind::SESSION, |_, session| {
                if session.0.state.is_operational() {
                    targets.push((session.0.state.clone(), session.0.peer.clone()));
                }
            });
        for (state, peer) in targets {
            state.log(&peer, level, logger, data.clone()).await;
        }
    }
}

/// Builds a [`Server`].
pub struct ServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    config: SessionConfig,
    max_subscriptions: usize,
    max_sessions: Option<usize>,
    tools: ToolRegistry,
    resources: ResourceRegistry,
    prompts: PromptRegistry,
    completion: Option<Arc<dyn CompletionHandler>>,
    on_roots_changed: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    logging: bool,
    cache: modern::CachePolicy,
    state_max_age: std::time::Duration,
    errors: Vec<String>,
}

/// A server definition that could not be built (e.g. a tool schema that does not compile).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid server definition: {}", .problems.join("; "))]
pub struct BuildError {
    /// Every problem found.
    pub problems: Vec<String>,
}

impl ServerBuilder {
    fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        ServerBuilder {
            info: Implementation::new(name, version),
            instructions: None,
            config: SessionConfig::default(),
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            max_sessions: None,
            tools: ToolRegistry::default(),
            resources: ResourceRegistry::default(),
            prompts: PromptRegistry::default(),
            completion: None,
            on_roots_changed: None,
            logging: true,
            cache: modern::CachePolicy::default(),
            state_max_age: modern::DEFAULT_STATE_MAX_AGE,
            errors: Vec::new(),
        }
    }

    /// Sets `serverInfo` fields beyond name and version (title, icons, website).
    pub fn info(mut self, info: Implementation) -> Self {
        self.info = info;
        self
    }

    /// Sets the `instructions` returned by `initialize`.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets session limits and timeouts.
    pub fn config(mut self, config: SessionConfig) -> Self {
        self.config = config;
        self
    }

    /// Caps resource subscriptions per session (default 1000).
    pub fn max_subscriptions(mut self, max: usize) -> Self {
        self.max_subscriptions = max;
        self
    }

    /// Caps live sessions (default: no cap). Past it, [`Server::serve`] ends at once with
    /// [`SessionError::Registry`] (`RegistryError::Full`) and the connection is closed;
    /// `docs/capacity.md` derives a per-process figure.
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = Some(max);
        self
    }

    /// Whether to advertise the `logging` capability (default true).
    pub fn logging(mut self, enabled: bool) -> Self {
        self.logging = enabled;
        self
    }

    /// Caching hints (`ttlMs`, `cacheScope`) on stateless-era discover, list and read
    /// results (default: `ttlMs` 0, lists public, reads private).
    pub fn cache_policy(mut self, policy: modern::CachePolicy) -> Self {
        self.cache = policy;
        self
    }

    /// How long an input-required `requestState` stays valid (default 10 minutes).
    pub fn request_state_max_age(mut self, max_age: std::time::Duration) -> Self {
        self.state_max_age = max_age;
        self
    }

    /// Registers a tool whose handler takes the raw argument object:
    /// `|args, ctx| async move { Ok(CallToolResult::text("…")) }`.
    pub fn tool<F, Fut>(self, tool: Tool, handler: F) -> Self
    where
        F: Fn(JsonObject, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, HandlerError>> + Send + 'static,
    {
        self.tool_handler(tool, handler)
    }

    /// Registers a tool with any [`ToolHandler`] implementation.
    pub fn tool_handler(mut self, tool: Tool, handler: impl ToolHandler) -> Self {
        if let Err(e) = self.tools.insert(tool, Arc::new(handler)) {
            self.errors.push(e);
        }
        self
    }

    /// Registers a tool whose handler takes typed arguments.
    pub fn typed_tool<A, F, Fut>(mut self, tool: Tool, handler: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, HandlerError>> + Send + 'static,
    {
        if let Err(e) = self.tools.insert(tool, Arc::new(TypedTool::new(handler))) {
            self.errors.push(e);
        }
        self
    }

    /// Registers a resource: `|uri, vars, ctx| async move { Ok(ReadResourceResult::new(…)) }`.
    pub fn resource<F, Fut>(self, resource: Resource, handler: F) -> Self
    where
        F: Fn(String, TemplateVars, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, HandlerError>> + Send + 'static,
    {
        self.resource_handler(resource, handler)
    }

    /// Registers a resource with any [`ResourceHandler`] implementation.
    pub fn resource_handler(mut self, resource: Resource, handler: impl ResourceHandler) -> Self {
        self.resources.insert(resource, Arc::new(handler));
        self
    }

    /// Registers a resource template (RFC 6570); the handler gets the matched variables.
    pub fn resource_template<F, Fut>(mut self, template: ResourceTemplate, handler: F) -> Self
    where
        F: Fn(String, TemplateVars, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, HandlerError>> + Send + 'static,
    {
        if let Err(e) = self.resources.insert_template(template, Arc::new(handler)) {
            self.errors.push(e);
        }
        self
    }

    /// Serves the files under `sandbox`'s roots as `file://` resources (see [`files`]):
    /// the files directly under each root are listed, and any file below a root can be
    /// read through the `file:///{+path}` template. Every read is checked by
    /// `erlmcp-security`.
    pub fn filesystem(mut self, sandbox: erlmcp_security::Sandbox) -> Self {
        let sandbox = Arc::new(sandbox);
        for resource in files::listed(&sandbox) {
            let reader = sandbox.clone();
            self.resources.insert(
                resource,
                Arc::new(
                    move |uri: String, _vars: TemplateVars, _ctx: RequestContext| {
                        let reader = reader.clone();
                        async move { files::read(&reader, &uri) }
                    },
                ),
            );
        }
        let reader = sandbox;
        if let Err(e) = self.resources.insert_template(
            files::template(),
            Arc::new(
                move |uri: String, _vars: TemplateVars, _ctx: RequestContext| {
                    let reader = reader.clone();
                    async move { files::read(&reader, &uri) }
                },
            ),
        ) {
            self.errors.push(e);
        }
        self
    }

    /// Registers a prompt: `|args, ctx| async move { Ok(GetPromptResult::new(…)) }`.
    pub fn prompt<F, Fut>(mut self, prompt: Prompt, handler: F) -> Self
    where
        F: Fn(PromptArgs, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, HandlerError>> + Send + 'static,
    {
        self.prompts.insert(prompt, Arc::new(handler));
        self
    }

    /// Sets the `completion/complete` handler.
    pub fn completion<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(CompleteRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CompleteResult, HandlerError>> + Send + 'static,
    {
        self.completion = Some(Arc::new(handler));
        self
    }

    /// Called with the session id when a client sends `notifications/roots/list_changed`.
    pub fn on_roots_list_changed(mut self, callback: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.on_roots_changed = Some(Arc::new(callback));
        self
    }

    /// Builds the server, or lists every definition problem.
    pub fn build(mut self) -> Result<Server, BuildError> {
        let flow = MemoryBudget::new(&self.config.flow.budget).and_then(|budget| {
            let queues = OutboundQueue::new(&self.config.flow.queue)?.budget(budget.clone());
            Ok((queues, budget))
        });
        let (queues, budget) = match flow {
            Ok(flow) => flow,
            Err(err) => {
                self.errors.push(format!("flow control: {err}"));
                return Err(BuildError {
                    problems: self.errors,
                });
            }
        };
        let mut sessions = Registry::builder();
        if let Some(max) = self.max_sessions {
            sessions = sessions.max_entries(max);
        }
        let sessions = match sessions.build() {
            Ok(sessions) => sessions,
            Err(err) => {
                self.errors.push(format!("session registry: {err}"));
                return Err(BuildError {
                    problems: self.errors,
                });
            }
        };
        if !self.errors.is_empty() {
            return Err(BuildError {
                problems: self.errors,
            });
        }
        // Stateless tasks have no session to tell of status changes (their peer's queue
        // has no reader): the listen streams that asked for them hear of them instead.
        let (task_peer, _no_reader) = crate::session::new_peer(&queues, 0, &self.config);
        let listeners: Arc<modern::listen::Listeners> = Arc::default();
        let modern_tasks = Arc::new(
            tasks::TaskStore::new(0, self.config.tasks, task_peer)
                .with_observer(modern::tasks::notify::observer(listeners.clone())),
        );
        Ok(Server {
            core: Arc::new(ServerCore {
                info: self.info,
                instructions: self.instructions,
                config: self.config,
                supported_versions: SUPPORTED_VERSIONS,
                max_subscriptions: self.max_subscriptions,
                tools: RwLock::new(self.tools),
                resources: RwLock::new(self.resources),
                prompts: RwLock::new(self.prompts),
                completion: self.completion,
                on_roots_changed: self.on_roots_changed,
                logging: self.logging,
                sessions,
                subscribers: Subscribers::new(),
                next_session: AtomicU64::new(0),
                queues,
                budget,
                modern_versions: erlmcp_codec::schema::SUPPORTED_MODERN,
                state_key: modern::input_required::StateKey::random(self.state_max_age),
                listeners,
                cache: self.cache,
                modern_tasks,
            }),
        })
    }
}
