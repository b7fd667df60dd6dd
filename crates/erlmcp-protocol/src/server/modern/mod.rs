//! The stateless-era engine (MCP 2026-07-28): each request describes itself in its
//! `_meta`, nothing is negotiated, and the same [`Server`] — the same tools, resources,
//! prompts and completion handlers a user registered with [`ServerBuilder`](crate::ServerBuilder) —
//! answers both eras.
//!
//! ## Handling one modern request (the transport-agnostic entry point)
//!
//! ```text
//!  let (output, mut notifications) = server.modern_output();
//!  let answer = server.handle_modern(request, claimed_headers, &output);
//!  drop(output);
//!  // drive `answer` while forwarding `notifications.next()` frames (progress, log
//!  // messages, a listen stream's notifications) to the client; when `answer` is
//!  // ready, forward what `notifications.try_next()` still holds, then the answer.
//!  // Dropping `answer` cancels the request (HTTP: the client closed the stream).
//! ```
//!
//! - [`Server::handle_modern`] takes the JSON-RPC [`Request`], what the transport's
//!   headers claimed ([`ClaimedHeaders`]: all `None` on stdio/TCP/memory) and the
//!   [`ModernOutput`] its notifications go to; it resolves to the `result` value or the
//!   JSON-RPC error to answer with. It never panics on peer input: a panicking handler
//!   becomes -32603.
//! - [`NotificationStream`] yields encoded JSON-RPC notification frames (no newline).
//! - [`Server::is_modern_request`] tells an HTTP router which era a POST belongs to.
//!
//! On stdio, TCP and memory transports [`Server::serve`] calls the same engine once the
//! connection's first request chose the stateless era (see [`crate::lifecycle`]).
//!
//! ## What happens to a request
//!
//! 1. `initialize` → -32022 (it does not exist in this era);
//! 2. the `_meta` ladder ([`meta`]): -32602 / -32020 / -32022;
//! 3. a method outside 2026-07-28's client requests → -32601;
//! 4. `server/discover` ([`discover`]), `subscriptions/listen` ([`listen`]), or the
//!    shared routing of tools, resources, prompts and completion, with the request's
//!    own capabilities, log level and input answers ([`input_required`]);
//! 5. the result gets `resultType`, `serverInfo` and caching hints ([`results`]); a
//!    handler that asked for a capability the request did not declare gets -32021, one
//!    that asked for input nobody answered yet an input-required result — whatever the
//!    handler made of the refused ask; an answer that is not the result its ask
//!    expects gets -32602.
//!
//! Modules: [`meta`], [`discover`], [`input_required`], [`listen`], [`results`],
//! [`tasks`] (the `io.modelcontextprotocol/tasks` extension: tasks, their input
//! while they run, their status notifications on listen streams).

pub mod discover;
pub mod input_required;
pub mod listen;
pub mod meta;
pub mod results;
pub mod tasks;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use erlmcp_codec::schema::modern::SubscriptionsListenRequestParams;
use erlmcp_codec::schema::{ProtocolVersion, methods};
use erlmcp_codec::{ErrorCode, ErrorObject, Request};
use erlmcp_flow::{QueueReceiver, WeightedItem};
use futures::FutureExt;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::peer::Peer;
use crate::server::session::{ServerSession, SessionState};
use crate::server::tasks::TaskStore;
use crate::server::{Server, ServerCore};
use crate::session::{Dispatch, RequestScope, new_peer};

pub use input_required::{DEFAULT_STATE_MAX_AGE, ResponseError, StateError};
pub use meta::{ClaimedHeaders, MetaError};
pub use results::CachePolicy;

use input_required::ModernScope;

/// Where one modern request's notifications go (see [`Server::modern_output`]).
pub struct ModernOutput {
    peer: Peer,
    state: Arc<SessionState>,
}

impl std::fmt::Debug for ModernOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModernOutput").finish_non_exhaustive()
    }
}

/// The notifications one modern request produces, as encoded JSON-RPC frames. Ends
/// when the request's future and its [`ModernOutput`] are gone.
pub struct NotificationStream {
    rx: QueueReceiver<WeightedItem<Bytes>>,
}

impl std::fmt::Debug for NotificationStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationStream").finish_non_exhaustive()
    }
}

impl NotificationStream {
    /// The next frame, waiting for it; `None` once the request is over and drained.
    pub async fn next(&mut self) -> Option<Bytes> {
        self.rx.recv().await.map(|item| item.item)
    }

    /// A frame already queued, without waiting.
    pub fn try_next(&mut self) -> Option<Bytes> {
        self.rx.try_recv().map(|item| item.item)
    }
}

impl Server {
    /// A fresh output for one modern request: the handle to pass to
    /// [`Server::handle_modern`] and the stream its notifications come out of.
    pub fn modern_output(&self) -> (ModernOutput, NotificationStream) {
        let id = self.core.next_session.fetch_add(1, Ordering::Relaxed) + 1;
        let (peer, rx) = new_peer(&self.core.queues, id, &self.core.config);
        let tasks = Arc::new(TaskStore::new(id, self.core.config.tasks, peer.clone()));
        let state = Arc::new(SessionState::new(id, tasks));
        state.set_stateless();
        (ModernOutput { peer, state }, NotificationStream { rx })
    }

    /// Handles one 2026-07-28 request (see the module documentation).
    pub fn handle_modern(
        &self,
        request: Request,
        claimed: ClaimedHeaders,
        output: &ModernOutput,
    ) -> impl Future<Output = Result<Value, ErrorObject>> + Send + 'static {
        let work = handle(
            self.core.clone(),
            output.state.clone(),
            output.peer.clone(),
            request,
            claimed,
            CancellationToken::new(),
        );
        async move {
            AssertUnwindSafe(work)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(ErrorObject::new(
                        ErrorCode::INTERNAL_ERROR,
                        "handler panicked",
                    ))
                })
        }
    }

    /// Whether the body of `request` claims the stateless era: any request but
    /// `initialize` whose `_meta` carries the modern protocol-version key (a bare
    /// `server/discover` without it is a legacy client's probe and gets -32601 before
    /// `initialize`, as before). An HTTP router may also route by the
    /// `MCP-Protocol-Version` header; the engine then refuses a missing envelope with
    /// -32602.
    pub fn is_modern_request(request: &Request) -> bool {
        request.method != methods::INITIALIZE && meta::has_modern_envelope(request.params.as_ref())
    }

    /// The versions this server speaks statelessly.
    pub fn modern_versions(&self) -> &'static [ProtocolVersion] {
        self.core.modern_versions
    }
}

/// The engine, shared by [`Server::handle_modern`] and stateless stdio/TCP sessions.
pub(crate) async fn handle(
    core: Arc<ServerCore>,
    state: Arc<SessionState>,
    peer: Peer,
    request: Request,
    claimed: ClaimedHeaders,
    cancel: CancellationToken,
) -> Result<Value, ErrorObject> {
    let supported = core.modern_versions;
    let method = request.method.clone();
    if method == methods::INITIALIZE {
        let requested = request
            .params
            .as_ref()
            .and_then(|p| p.get("protocolVersion"))
            .and_then(Value::as_str)
            .unwrap_or("");
        return Err(meta::unsupported_version(requested, supported));
    }
    let (request_meta, _version) =
        meta::validate(&method, request.params.as_ref(), &claimed, supported)
            .map_err(|e| e.to_error_object(supported))?;
    let task_method = matches!(
        method.as_str(),
        methods::TASKS_GET | methods::TASKS_UPDATE | methods::TASKS_CANCEL
    );
    let offers_tasks = core.tools.read().supports_tasks();
    let known =
        methods::MODERN_CLIENT_REQUESTS.contains(&method.as_str()) || (task_method && offers_tasks);
    if !known {
        return Err(ErrorObject::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("method not found: {method}"),
        )
        .with_data(json!({ "method": method })));
    }
    if core.budget.is_under_pressure() {
        let stats = core.budget.stats();
        return Err(ErrorObject::new(
            ErrorCode::OVERLOADED,
            "server overloaded: memory budget exceeded, retry later",
        )
        .with_data(json!({"usedBytes": stats.used, "limitBytes": stats.limit})));
    }
    match method.as_str() {
        methods::SERVER_DISCOVER => Ok(discover::result(&core, supported, &core.cache)),
        methods::SUBSCRIPTIONS_LISTEN => {
            let declares_tasks = tasks::declared(&request_meta.client_capabilities);
            listen(core, peer, request, declares_tasks, cancel).await
        }
        _ if task_method => {
            if !tasks::declared(&request_meta.client_capabilities) {
                return Err(tasks::missing_extension());
            }
            let store = &core.modern_tasks;
            let params = request.params.as_ref();
            let answer = match method.as_str() {
                methods::TASKS_GET => tasks::get(store, params),
                methods::TASKS_CANCEL => tasks::cancel(store, params),
                _ => tasks::update(store, params),
            }?;
            Ok(results::stamp(&method, answer, &core.info, &core.cache))
        }
        _ => {
            let mut params = match request.params {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            // 2026-07-28 has no `params.task` (tasks are the extension, decided by the
            // server): the handshake-era task augmentation must not be reachable here.
            params.remove("task");
            let scope = ModernScope::begin(&core.state_key, &method, request_meta, &mut params)
                .map_err(|e| {
                    tracing::info!(reason = %e, method = %method, "input round refused");
                    e.to_error_object()
                })?;
            let scope = Arc::new(scope);
            let declares_tasks = tasks::declared(&scope.meta.client_capabilities);
            let session = ServerSession {
                core: core.clone(),
                state,
                peer,
                modern: Some(scope.clone()),
            };
            // The tasks extension: the server decides, per tool, to answer with a task.
            if method == methods::TOOLS_CALL && offers_tasks {
                let name = params.get("name").and_then(Value::as_str).unwrap_or("");
                let tool = core.tools.read().get(name);
                if let Some(tool) = tool
                    && let tasks::Plan::Task = tasks::plan(&tool, declares_tasks)?
                {
                    let arguments = match params.get("arguments") {
                        Some(Value::Object(args)) => args.clone(),
                        _ => Map::new(),
                    };
                    let params = Value::Object(params);
                    let ctx = session.context(
                        &RequestScope {
                            id: request.id.clone(),
                            cancel: CancellationToken::new(),
                        },
                        Some(&params),
                    );
                    let created = tasks::start(&core.modern_tasks, tool, arguments, ctx)?;
                    return Ok(results::stamp(&method, created, &core.info, &core.cache));
                }
            }
            let routed = session.route(
                Request {
                    id: request.id.clone(),
                    method: method.clone(),
                    params: Some(Value::Object(params)),
                },
                RequestScope {
                    id: request.id,
                    cancel,
                },
            );
            let outcome = match routed {
                Dispatch::Reply(outcome) => outcome,
                Dispatch::Spawn(handler) => handler.await.map_err(|e| e.to_error_object()),
            };
            // What the handler asked for decides, whatever it made of the refusal (a
            // handler may turn a failed ask into an `isError` result).
            if let Some(missing) = scope.missing_capability() {
                return Err(missing);
            }
            if let Some(bad) = scope.bad_answer() {
                return Err(bad);
            }
            if let Some(pending) = scope.input_required(&core.state_key) {
                return Ok(results::stamp(&method, pending, &core.info, &core.cache));
            }
            match outcome {
                Ok(value) => Ok(results::stamp(&method, value, &core.info, &core.cache)),
                Err(error) => Err(results::modern_error(error)),
            }
        }
    }
}

/// `subscriptions/listen`: acknowledge, register, and stay open until cancelled.
async fn listen(
    core: Arc<ServerCore>,
    peer: Peer,
    request: Request,
    declares_tasks: bool,
    cancel: CancellationToken,
) -> Result<Value, ErrorObject> {
    let params: SubscriptionsListenRequestParams =
        serde_json::from_value(request.params.unwrap_or(Value::Null)).map_err(|e| {
            ErrorObject::new(ErrorCode::INVALID_PARAMS, format!("invalid params: {e}"))
        })?;
    let task_ids = tasks::notify::accept(
        params.notifications.task_ids.as_ref(),
        declares_tasks,
        &core.modern_tasks,
    )?;
    let accepted = listen::accept(
        &params.notifications,
        (core.has_tools(), core.has_prompts(), core.has_resources()),
        |uri| matches!(core.resources.read().resolve(uri), Ok(Some(_))),
        task_ids,
    );
    let ack = listen::with_subscription(json!({ "notifications": accepted }), &request.id);
    peer.notify(methods::NOTIFICATIONS_SUBSCRIPTIONS_ACKNOWLEDGED, ack)
        .await
        .map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string()))?;
    let _guard =
        core.listeners
            .register(request.id.clone(), accepted, peer.clone(), cancel.clone());
    cancel.cancelled().await;
    let result = json!({
        "_meta": { erlmcp_codec::schema::modern::SUBSCRIPTION_ID_META_KEY: request.id.to_value() },
    });
    Ok(results::stamp(
        methods::SUBSCRIPTIONS_LISTEN,
        result,
        &core.info,
        &core.cache,
    ))
}
