//! What a server handler gets with each request: who asked, a way to report progress and
//! log, a cancellation signal, and requests back to the client (sampling, elicitation,
//! roots) when the client advertised them.
//!
//! The same calls work in both eras. In the handshake era an ask is a request to the
//! client on the session; in the stateless era it is answered from the retried
//! request's `inputResponses`, or ends this round with an input-required result (the
//! handler then runs again from the start when the client retries — see
//! [`crate::server::modern::input_required`]). A stateless handler running as a task
//! of the tasks extension waits for its answer instead: the task becomes
//! `input_required` until the client's `tasks/update` (see
//! [`crate::server::modern::tasks`]).

use std::sync::Arc;

use erlmcp_codec::RequestId;
use erlmcp_codec::schema::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, ListRootsResult, LoggingLevel, ProgressToken, methods,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::error::RequestError;
use crate::peer::{Peer, RequestOptions};
use crate::server::modern::input_required::{Ask, ModernScope};
use crate::server::modern::tasks::input::TaskInput;
use crate::server::session::SessionState;

/// The context of one request being handled by a server.
#[derive(Clone)]
pub struct RequestContext {
    pub(crate) request_id: RequestId,
    pub(crate) task_id: Option<String>,
    pub(crate) progress_token: Option<ProgressToken>,
    pub(crate) cancel: CancellationToken,
    pub(crate) peer: Peer,
    pub(crate) session: Arc<SessionState>,
    /// Set for a stateless (2026-07-28) request: its own capabilities, log level and
    /// input answers replace the session's.
    pub(crate) modern: Option<Arc<ModernScope>>,
    /// Set when the stateless request runs as a task (the tasks extension): asks wait
    /// for the client's `tasks/update`.
    pub(crate) task_input: Option<Arc<TaskInput>>,
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("request_id", &self.request_id)
            .field("session", &self.session.id())
            .finish()
    }
}

impl RequestContext {
    /// The id of the request being handled.
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// The task this request runs as, when it was task-augmented.
    pub fn task_id(&self) -> Option<&str> {
        self.task_id.as_deref()
    }

    /// The id of the session (unique within this server process).
    pub fn session_id(&self) -> u64 {
        self.session.id()
    }

    /// True once the client cancelled the request (or the session ended).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the request is cancelled; `select!` on it in long handlers.
    /// (Handlers are also dropped on cancellation, so this is only needed for cleanup.)
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// The client's declared capabilities: the session's (handshake era) or this
    /// request's own (stateless era).
    pub fn client_capabilities(&self) -> Option<ClientCapabilities> {
        match &self.modern {
            Some(modern) => Some(modern.meta.client_capabilities.clone()),
            None => self.session.client_capabilities(),
        }
    }

    /// True when this request is handled statelessly (MCP 2026-07-28).
    pub fn is_stateless(&self) -> bool {
        self.modern.is_some()
    }

    /// True when this stateless request is a retry that carried a `requestState` the
    /// server sealed and that verified (so earlier rounds' answers are the ones this
    /// server saw); false for a first round, a retry without a state, and in the
    /// handshake era.
    pub fn resumed_from_state(&self) -> bool {
        self.modern.as_ref().is_some_and(|m| m.resumed)
    }

    /// Stateless era: answers an ask from the retried request's `inputResponses`, or
    /// records it so the request ends with an input-required result; inside a task,
    /// waits for the answer the client sends with `tasks/update`.
    async fn ask_modern<P: serde::Serialize, R: serde::de::DeserializeOwned>(
        &self,
        modern: &ModernScope,
        capability: &'static str,
        declared: bool,
        key: Option<&str>,
        params: P,
    ) -> Result<R, RequestError> {
        let params = serde_json::to_value(params).map_err(RequestError::InvalidParams)?;
        if let Some(input) = &self.task_input {
            return input.ask(capability, declared, key, params).await;
        }
        modern.ask(Ask {
            capability,
            declared,
            key,
            params,
        })
    }

    /// Sends `notifications/progress` if the client asked for progress on this request
    /// (it set `_meta.progressToken`); otherwise does nothing.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        let _ = self
            .peer
            .notify(methods::NOTIFICATIONS_PROGRESS, params)
            .await;
    }

    /// Sends `notifications/message` if `level` is at or above the session's log level
    /// (handshake era), or at or above the level this request asked for — and only if
    /// it asked (stateless era).
    pub async fn log(&self, level: LoggingLevel, logger: Option<&str>, data: Value) {
        let Some(modern) = &self.modern else {
            self.session.log(&self.peer, level, logger, data).await;
            return;
        };
        let Some(wanted) = modern.meta.log_level else {
            return;
        };
        if level < wanted {
            return;
        }
        let mut params = json!({"level": level, "data": data});
        if let Some(logger) = logger {
            params["logger"] = json!(logger);
        }
        let _ = self
            .peer
            .notify(methods::NOTIFICATIONS_MESSAGE, params)
            .await;
    }

    /// Asks the client's LLM for a completion (`sampling/createMessage`). In the
    /// stateless era the ask's key is generated (`sampling-<n>`); see
    /// [`RequestContext::create_message_as`] to name it.
    pub async fn create_message(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, RequestError> {
        self.sample(None, params).await
    }

    /// [`RequestContext::create_message`] whose stateless-era ask travels under `key`
    /// in `inputRequests` / `inputResponses` (ignored in the handshake era, where the
    /// ask is a request).
    pub async fn create_message_as(
        &self,
        key: &str,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, RequestError> {
        self.sample(Some(key), params).await
    }

    async fn sample(
        &self,
        key: Option<&str>,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, RequestError> {
        let caps = self.client_capabilities().unwrap_or_default();
        if let Some(modern) = &self.modern {
            return self
                .ask_modern(modern, "sampling", caps.sampling.is_some(), key, params)
                .await;
        }
        if caps.sampling.is_none() {
            return Err(RequestError::CapabilityMissing("sampling"));
        }
        self.ask_client(methods::SAMPLING_CREATE_MESSAGE, params)
            .await
    }

    /// Asks the user for input through the client (`elicitation/create`). In the
    /// stateless era the ask's key is generated (`elicitation-<n>`); see
    /// [`RequestContext::elicit_as`] to name it.
    pub async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, RequestError> {
        self.elicit_keyed(None, params).await
    }

    /// [`RequestContext::elicit`] whose stateless-era ask travels under `key` in
    /// `inputRequests` / `inputResponses` (ignored in the handshake era).
    pub async fn elicit_as(
        &self,
        key: &str,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, RequestError> {
        self.elicit_keyed(Some(key), params).await
    }

    async fn elicit_keyed(
        &self,
        key: Option<&str>,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, RequestError> {
        let caps = self.client_capabilities().unwrap_or_default();
        if let Some(modern) = &self.modern {
            return self
                .ask_modern(
                    modern,
                    "elicitation",
                    caps.elicitation.is_some(),
                    key,
                    params,
                )
                .await;
        }
        if caps.elicitation.is_none() {
            return Err(RequestError::CapabilityMissing("elicitation"));
        }
        self.ask_client(methods::ELICITATION_CREATE, params).await
    }

    /// Sends a request that needs the client (or its user) to act. Inside a task the
    /// task is `input_required` meanwhile, and the request carries the related-task
    /// `_meta` so the client can show what it is for.
    async fn ask_client<P: serde::Serialize, R: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: P,
    ) -> Result<R, RequestError> {
        let Some(task_id) = &self.task_id else {
            return self
                .peer
                .request(method, params, RequestOptions::default())
                .await;
        };
        let mut params = serde_json::to_value(params).map_err(RequestError::InvalidParams)?;
        if let Value::Object(map) = &mut params {
            let meta = map.entry("_meta").or_insert_with(|| json!({}));
            if let Value::Object(meta) = meta {
                meta.insert(
                    erlmcp_codec::schema::RELATED_TASK_META_KEY.into(),
                    json!({ "taskId": task_id }),
                );
            }
        }
        self.session.tasks.set_waiting_for_input(task_id, true);
        let outcome = self
            .peer
            .request(method, params, RequestOptions::default())
            .await;
        self.session.tasks.set_waiting_for_input(task_id, false);
        outcome
    }

    /// Asks the client for its roots (`roots/list`). In the stateless era the ask's key
    /// is generated (`roots-<n>`); see [`RequestContext::list_roots_as`] to name it.
    pub async fn list_roots(&self) -> Result<ListRootsResult, RequestError> {
        self.roots_keyed(None).await
    }

    /// [`RequestContext::list_roots`] whose stateless-era ask travels under `key` in
    /// `inputRequests` / `inputResponses` (ignored in the handshake era).
    pub async fn list_roots_as(&self, key: &str) -> Result<ListRootsResult, RequestError> {
        self.roots_keyed(Some(key)).await
    }

    async fn roots_keyed(&self, key: Option<&str>) -> Result<ListRootsResult, RequestError> {
        let caps = self.client_capabilities().unwrap_or_default();
        if let Some(modern) = &self.modern {
            return self
                .ask_modern(modern, "roots", caps.roots.is_some(), key, json!({}))
                .await;
        }
        if caps.roots.is_none() {
            return Err(RequestError::CapabilityMissing("roots"));
        }
        self.peer
            .request(methods::ROOTS_LIST, json!({}), RequestOptions::default())
            .await
    }

    /// The raw peer handle, for requests this type has no method for.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }
}
