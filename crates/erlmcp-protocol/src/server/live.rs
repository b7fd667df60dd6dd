//! The server's live sessions, kept in `erlmcp-registry`: one [`Registry`] entry per
//! session (key: the session id), held by the session's own future so that a session that
//! ends by any path — finished, panicked, aborted, never polled — leaves no entry; and one
//! [`Groups`] group per subscribed resource URI, whose members are the sessions to notify
//! when it changes.
//!
//! ```text
//!  Server::serve ──insert──▶ sessions: Registry<u64, SessionHandle>   (Kind::SESSION)
//!        │                         ▲ guard inside the session future (Monitored)
//!  resources/subscribe ──join──▶ subscribers: Groups<uri, session id, Peer>
//!        │                         ▲ Membership kept in the session's state
//!  notify_resource_updated(uri) ──▶ members(uri) ──▶ Peer::try_notify
//! ```

use std::sync::Arc;

use erlmcp_registry::{Groups, GroupsMetrics, Membership, Registry, RegistryMetrics};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::peer::Peer;
use crate::server::session::SessionState;
use crate::session::SessionStats;

/// The server's session registry: session id → the live session.
pub type SessionRegistry = Registry<u64, SessionHandle>;

/// Resource URI → the sessions subscribed to it (member: session id; value: the session's
/// outbound handle, so a fan-out needs no second lookup).
pub(crate) type Subscribers = Groups<Arc<str>, u64, Peer>;

/// One session's place in one URI's group; dropping it unsubscribes.
pub(crate) type Subscription = Membership<Arc<str>, u64, Peer>;

pub(crate) struct LiveSession {
    pub(crate) state: Arc<SessionState>,
    pub(crate) peer: Peer,
    pub(crate) stats: Arc<SessionStats>,
    pub(crate) shutdown: CancellationToken,
}

/// A live session as the server's [`SessionRegistry`] holds it: cheap to clone (one
/// `Arc`), usable for routing without a second table.
#[derive(Clone)]
pub struct SessionHandle(pub(crate) Arc<LiveSession>);

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandle")
            .field("id", &self.0.state.id())
            .finish_non_exhaustive()
    }
}

impl SessionHandle {
    /// The session id (its registry key).
    pub fn id(&self) -> u64 {
        self.0.state.id()
    }

    /// The session's state (phase, negotiated version, client info).
    pub fn state(&self) -> &Arc<SessionState> {
        &self.0.state
    }

    /// The session's outbound handle (requests and notifications to its client).
    pub fn peer(&self) -> &Peer {
        &self.0.peer
    }

    /// Asks the session to end (queued answers are flushed, then its transport closed).
    pub fn shutdown(&self) {
        self.0.shutdown.cancel();
    }
}

/// The figures of the server's registry and subscriber groups, for status endpoints and
/// the evidence bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RegistryReport {
    /// The session registry: entries, inserts, owner removals, sampled lookup latency,
    /// lock contention.
    pub sessions: RegistryMetrics,
    /// The resource-subscription groups: URIs with subscribers, subscriptions, the
    /// largest fan-out.
    pub subscribers: GroupsMetrics,
}
