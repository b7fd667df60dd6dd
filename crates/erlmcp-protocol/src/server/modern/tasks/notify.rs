//! `notifications/tasks` on `subscriptions/listen` streams (the tasks extension).
//!
//! ```text
//!  subscriptions/listen {notifications: {taskIds: [a, b, zzz]}}
//!        │  the request does not declare the extension ──▶ -32021 naming it
//!        ▼
//!  acknowledged {taskIds: [a, b]}          (ids this server holds; unknown ones left out)
//!        │
//!  task a changes (working ⇄ input_required, completed, failed, cancelled)
//!        ──▶ the store's observer ──▶ notifications/tasks {…the task as tasks/get shows it,
//!                                       _meta.subscriptionId} on every stream listening to a
//! ```
//!
//! Progress and log messages of a task never go to a listen stream (the extension
//! forbids it): they stay on the request that created the task.

use std::collections::BTreeSet;
use std::sync::Arc;

use erlmcp_codec::ErrorObject;

use crate::server::modern::listen::Listeners;
use crate::server::tasks::{Observer, TaskStore};

/// The observer of the server-wide 2026 task store: tells the listening streams.
pub(crate) fn observer(listeners: Arc<Listeners>) -> Observer {
    Box::new(move |store: &TaskStore, task_id: &str| {
        if !listeners.wants_task(task_id) {
            return;
        }
        if let Ok(task) = super::detailed(store, task_id) {
            listeners.task_status(task_id, serde_json::Value::Object(task));
        }
    })
}

/// The `taskIds` a listen stream gets: those of `requested` this server holds, once
/// each. Asking for any without declaring the extension is -32021.
pub(crate) fn accept(
    requested: Option<&Vec<String>>,
    declared: bool,
    store: &TaskStore,
) -> Result<Option<Vec<String>>, ErrorObject> {
    let Some(requested) = requested else {
        return Ok(None);
    };
    if !declared {
        return Err(super::missing_extension());
    }
    let mut seen = BTreeSet::new();
    Ok(Some(
        requested
            .iter()
            .filter(|id| store.get(id).is_ok() && seen.insert(id.as_str()))
            .cloned()
            .collect(),
    ))
}
