//! `subscriptions/listen`: the one long-lived request of the stateless era.
//!
//! ```text
//!  listen(filter) ──▶ accept what the server can deliver ──▶ notifications/subscriptions/acknowledged
//!        │                                                   (the accepted filter, subscriptionId)
//!        ▼
//!  registered in the server's listener table ◀── Server::add_tool / notify_resource_updated …
//!        │     each matching change ──▶ notifications/*  (_meta.subscriptionId = listen id)
//!        ▼
//!  cancelled by the client (stdio/TCP: notifications/cancelled; HTTP: stream closed)
//!  ──▶ the handler future is dropped ──▶ its guard removes the listener
//! ```
//!
//! Only what the client opted in to is sent; a resource URI the server does not know is
//! left out of the acknowledged filter, and so is a task id (`taskIds`, the tasks
//! extension: see the `tasks::notify` module).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use erlmcp_codec::RequestId;
use erlmcp_codec::schema::methods;
use erlmcp_codec::schema::modern::{SUBSCRIPTION_ID_META_KEY, SubscriptionFilter};
use parking_lot::Mutex;
use serde_json::{Value, json};

use tokio_util::sync::CancellationToken;

use crate::peer::Peer;

struct Listener {
    subscription: RequestId,
    filter: SubscriptionFilter,
    peer: Peer,
    /// Fires when the client cancels the listen request. Checked on every send, so a
    /// change that follows the cancellation on the wire is never delivered, even
    /// before the handler task has unwound and its guard removed the entry.
    cancel: CancellationToken,
}

/// Every open listen stream of one server.
#[derive(Default)]
pub(crate) struct Listeners {
    table: Mutex<HashMap<u64, Listener>>,
    next: AtomicU64,
}

/// Removes its listener when the listen handler ends by any path.
pub(crate) struct ListenGuard {
    listeners: Arc<Listeners>,
    id: u64,
}

impl Drop for ListenGuard {
    fn drop(&mut self) {
        self.listeners.table.lock().remove(&self.id);
    }
}

impl Listeners {
    /// Registers a stream; it lives as long as the returned guard.
    pub(crate) fn register(
        self: &Arc<Self>,
        subscription: RequestId,
        filter: SubscriptionFilter,
        peer: Peer,
        cancel: CancellationToken,
    ) -> ListenGuard {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.table.lock().insert(
            id,
            Listener {
                subscription,
                filter,
                peer,
                cancel,
            },
        );
        ListenGuard {
            listeners: self.clone(),
            id,
        }
    }

    /// Open streams (cancelled ones are no longer counted).
    pub(crate) fn len(&self) -> usize {
        self.table
            .lock()
            .values()
            .filter(|l| !l.cancel.is_cancelled())
            .count()
    }

    /// Sends a list-changed notification to every stream that asked for it. Returns
    /// how many were sent (a full queue misses the change rather than block the rest).
    pub(crate) fn list_changed(&self, method: &str) -> usize {
        let wanted = |f: &SubscriptionFilter| match method {
            methods::NOTIFICATIONS_TOOLS_LIST_CHANGED => f.tools_list_changed == Some(true),
            methods::NOTIFICATIONS_PROMPTS_LIST_CHANGED => f.prompts_list_changed == Some(true),
            methods::NOTIFICATIONS_RESOURCES_LIST_CHANGED => f.resources_list_changed == Some(true),
            _ => false,
        };
        self.send(method, wanted, json!({}))
    }

    /// Sends `notifications/resources/updated` to every stream subscribed to `uri`.
    pub(crate) fn resource_updated(&self, uri: &str) -> usize {
        let wanted = |f: &SubscriptionFilter| {
            f.resource_subscriptions
                .as_ref()
                .is_some_and(|uris| uris.iter().any(|u| u == uri))
        };
        self.send(
            methods::NOTIFICATIONS_RESOURCES_UPDATED,
            wanted,
            json!({ "uri": uri }),
        )
    }

    /// Whether any open stream listens to task `task_id`.
    pub(crate) fn wants_task(&self, task_id: &str) -> bool {
        self.table
            .lock()
            .values()
            .any(|l| !l.cancel.is_cancelled() && listens_to_task(&l.filter, task_id))
    }

    /// Sends `notifications/tasks` with `task` (a `DetailedTask`) to every stream
    /// listening to task `task_id`.
    pub(crate) fn task_status(&self, task_id: &str, task: Value) -> usize {
        self.send(
            methods::NOTIFICATIONS_TASKS,
            |f| listens_to_task(f, task_id),
            task,
        )
    }

    fn send(
        &self,
        method: &str,
        wanted: impl Fn(&SubscriptionFilter) -> bool,
        params: Value,
    ) -> usize {
        let targets: Vec<(Peer, RequestId)> = self
            .table
            .lock()
            .values()
            .filter(|l| !l.cancel.is_cancelled() && wanted(&l.filter))
            .map(|l| (l.peer.clone(), l.subscription.clone()))
            .collect();
        targets
            .into_iter()
            .filter(|(peer, id)| peer.try_notify(method, with_subscription(params.clone(), id)))
            .count()
    }
}

fn listens_to_task(filter: &SubscriptionFilter, task_id: &str) -> bool {
    filter
        .task_ids
        .as_ref()
        .is_some_and(|ids| ids.iter().any(|id| id == task_id))
}

/// Adds `_meta.io.modelcontextprotocol/subscriptionId` to notification params.
pub(crate) fn with_subscription(mut params: Value, id: &RequestId) -> Value {
    if let Value::Object(map) = &mut params {
        map.insert(
            "_meta".into(),
            json!({ SUBSCRIPTION_ID_META_KEY: id.to_value() }),
        );
    }
    params
}

/// The part of `requested` this server can deliver: list changes only for what it
/// offers, resource updates only for URIs it resolves, task notifications for the
/// already accepted `task_ids`.
pub(crate) fn accept(
    requested: &SubscriptionFilter,
    offers: (bool, bool, bool),
    known_uri: impl Fn(&str) -> bool,
    task_ids: Option<Vec<String>>,
) -> SubscriptionFilter {
    let (tools, prompts, resources) = offers;
    let on = |asked: Option<bool>, offered: bool| (asked == Some(true) && offered).then_some(true);
    SubscriptionFilter {
        tools_list_changed: on(requested.tools_list_changed, tools),
        prompts_list_changed: on(requested.prompts_list_changed, prompts),
        resources_list_changed: on(requested.resources_list_changed, resources),
        resource_subscriptions: requested.resource_subscriptions.as_ref().map(|uris| {
            uris.iter()
                .filter(|u| resources && known_uri(u))
                .cloned()
                .collect()
        }),
        task_ids,
        extra: serde_json::Map::new(),
    }
}
