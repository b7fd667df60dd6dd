//! Input asked for while a 2026 task runs: the handler's ask waits, the task shows it
//! in `inputRequests`, and the client's `tasks/update` answers it.
//!
//! ```text
//!  handler: ctx.elicit_as("name", …) ──▶ outstanding["name"] = {method, params}
//!        │                                task ──▶ input_required (notifications/tasks)
//!        ▼  (the handler's future waits)
//!  tasks/get    ──▶ {status: input_required, inputRequests: {"name": …}}
//!  tasks/update {inputResponses: {"name": {action: accept, …}}}
//!        ──▶ every answer checked first (-32602 for a malformed one: nothing is taken)
//!        ──▶ each outstanding key's answer handed to its waiting ask
//!        ──▶ none outstanding any more: task ──▶ working (partial answers: stays input_required)
//!  handler resumes with the answer ──▶ asks again, or finishes (completed / failed)
//! ```
//!
//! - Keys: a named ask uses its name; an unnamed one gets `<kind>-<n>` counted over
//!   the task's life. A key is used once per task (the extension: unique over the
//!   task's lifetime); a second ask under it fails with
//!   [`RequestError::DuplicateInputKey`].
//! - An answer under a key that is not outstanding (never asked, already answered) is
//!   ignored, as the extension says a server SHOULD.
//! - A capability the `tools/call` did not declare fails the ask with
//!   [`RequestError::CapabilityMissing`] at once (the task's capabilities are the
//!   request's that created it).
//! - Cancellation and expiry stop the handler, which drops its waiting ask.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Weak};

use erlmcp_codec::schema::modern::{InputRequest, InputRequests};
use erlmcp_codec::schema::{CreateMessageResult, ElicitResult, ListRootsResult, Task, methods};
use erlmcp_codec::{ErrorCode, ErrorObject};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::oneshot;

use crate::error::{HandlerError, RequestError};
use crate::server::modern::input_required::{ResponseError, method_of};
use crate::server::tasks::TaskStore;

/// A task, its outcome (once it has one) and its outstanding asks.
pub(crate) type View = (Task, Option<Result<Value, ErrorObject>>, InputRequests);

/// One outstanding ask: its method, what the client is shown, and where its answer goes.
struct Pending {
    method: &'static str,
    request: InputRequest,
    reply: oneshot::Sender<Value>,
}

#[derive(Default)]
struct Exchange {
    outstanding: BTreeMap<String, Pending>,
    /// Every key this task has used (outstanding or answered).
    used: BTreeSet<String>,
    /// Unnamed asks so far (for `<kind>-<n>` keys).
    unnamed: usize,
}

/// The input exchange of one 2026 task, shared by its handler's context and the
/// store's entry.
pub(crate) struct TaskInput {
    task_id: String,
    store: Weak<TaskStore>,
    exchange: Mutex<Exchange>,
}

impl std::fmt::Debug for TaskInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskInput")
            .field("task_id", &self.task_id)
            .finish_non_exhaustive()
    }
}

/// What a `tasks/update` did with its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivered {
    /// Answers handed to a waiting ask.
    pub(crate) taken: usize,
    /// Answers under keys that were not outstanding.
    pub(crate) ignored: usize,
}

/// Whether `answer` is the result an ask of `method` expects.
fn fits(method: &str, answer: &Value) -> bool {
    let answer = answer.clone();
    match method {
        methods::ELICITATION_CREATE => serde_json::from_value::<ElicitResult>(answer).is_ok(),
        methods::SAMPLING_CREATE_MESSAGE => {
            serde_json::from_value::<CreateMessageResult>(answer).is_ok()
        }
        methods::ROOTS_LIST => serde_json::from_value::<ListRootsResult>(answer).is_ok(),
        _ => false,
    }
}

impl TaskInput {
    pub(crate) fn new(task_id: String, store: &Arc<TaskStore>) -> Self {
        TaskInput {
            task_id,
            store: Arc::downgrade(store),
            exchange: Mutex::new(Exchange::default()),
        }
    }

    /// The task, its outcome and its outstanding asks, read together (the exchange's
    /// lock is held while the store is read, as [`TaskInput::settle`] holds it while
    /// the store is written: the status and `inputRequests` always agree).
    pub(crate) fn view(&self, store: &TaskStore) -> Result<View, HandlerError> {
        let exchange = self.exchange.lock();
        let (task, outcome) = store.snapshot(&self.task_id)?;
        let requests = exchange
            .outstanding
            .iter()
            .map(|(key, pending)| (key.clone(), pending.request.clone()))
            .collect();
        Ok((task, outcome, requests))
    }

    /// Moves the task to `input_required` / `working` to match what is outstanding
    /// (under the exchange's lock, so an ask and an answer racing cannot leave the
    /// status behind), then announces it with no lock held.
    fn settle(&self, exchange: parking_lot::MutexGuard<'_, Exchange>) {
        let Some(store) = self.store.upgrade() else {
            return;
        };
        let task = store.settle_input(&self.task_id, !exchange.outstanding.is_empty());
        drop(exchange);
        if let Some(task) = task {
            store.announce(&task);
        }
    }

    /// The handler's ask: waits until `tasks/update` answers it.
    pub(crate) async fn ask<R: DeserializeOwned>(
        &self,
        capability: &'static str,
        declared: bool,
        key: Option<&str>,
        params: Value,
    ) -> Result<R, RequestError> {
        if !declared {
            return Err(RequestError::CapabilityMissing(capability));
        }
        let params = match params {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let (reply, answer) = oneshot::channel();
        {
            let mut exchange = self.exchange.lock();
            let key = match key {
                Some(key) => key.to_owned(),
                None => {
                    exchange.unnamed += 1;
                    format!("{capability}-{}", exchange.unnamed)
                }
            };
            if !exchange.used.insert(key.clone()) {
                return Err(RequestError::DuplicateInputKey(key));
            }
            let method = method_of(capability);
            let request = InputRequest::new(method, Some(params));
            exchange.outstanding.insert(
                key,
                Pending {
                    method,
                    request,
                    reply,
                },
            );
            self.settle(exchange);
        }
        let answer = answer.await.map_err(|_| {
            RequestError::Rpc(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                "the task ended before its input arrived",
            ))
        })?;
        serde_json::from_value(answer).map_err(RequestError::InvalidResult)
    }

    /// `tasks/update`'s `inputResponses`, already known to be an object of objects.
    /// An answer to an outstanding key that is not the result its ask expects refuses
    /// the whole update (nothing is taken); answers to other keys are ignored.
    pub(crate) fn answer(&self, responses: Map<String, Value>) -> Result<Delivered, ResponseError> {
        let mut exchange = self.exchange.lock();
        for (key, answer) in &responses {
            if let Some(pending) = exchange.outstanding.get(key)
                && !fits(pending.method, answer)
            {
                return Err(ResponseError::WrongShape {
                    key: key.clone(),
                    expected: pending.method,
                });
            }
        }
        let mut delivered = Delivered {
            taken: 0,
            ignored: 0,
        };
        for (key, answer) in responses {
            match exchange.outstanding.remove(&key) {
                Some(pending) => {
                    // A handler that is gone (cancelled meanwhile) just misses it.
                    let _ = pending.reply.send(answer);
                    delivered.taken += 1;
                }
                None => delivered.ignored += 1,
            }
        }
        if delivered.taken > 0 {
            self.settle(exchange);
        }
        Ok(delivered)
    }

    /// Drops every outstanding ask (the task was cancelled).
    pub(crate) fn close(&self) {
        self.exchange.lock().outstanding.clear();
    }
}
