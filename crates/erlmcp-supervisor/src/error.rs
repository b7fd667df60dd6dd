//! The one error type of this crate, grouped by who is at fault.

use std::sync::Arc;
use std::time::Duration;

/// Why a supervisor operation failed, or why a supervisor ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    // ---- caller misuse -------------------------------------------------------------
    /// A child with this id is already supervised by this supervisor.
    #[error("a child with id `{id}` is already supervised")]
    AlreadyPresent {
        /// The duplicate id.
        id: Arc<str>,
    },
    /// No child with this id is supervised by this supervisor.
    #[error("no child with id `{id}`")]
    NotFound {
        /// The id asked for.
        id: Arc<str>,
    },
    /// The child's start function runs once ([`ChildSpec::oneshot`](crate::ChildSpec::oneshot)),
    /// so it can only be [`Restart::Temporary`](crate::Restart::Temporary).
    #[error("child `{id}` can start only once, so it must be temporary")]
    NotRestartable {
        /// The child's id.
        id: Arc<str>,
    },
    /// A configuration value is out of range (the reason names it).
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// Which value and why.
        reason: &'static str,
    },

    // ---- capacity ------------------------------------------------------------------
    /// The supervisor already has its maximum number of children (a bulkhead is full).
    #[error("supervisor `{name}` is full ({max} children)")]
    Full {
        /// The supervisor's name.
        name: Arc<str>,
        /// Its `max_children`.
        max: usize,
    },

    // ---- lifecycle -----------------------------------------------------------------
    /// The supervisor is not running: not started yet, being restarted by its parent, or
    /// ended.
    #[error("supervisor `{name}` is not running")]
    NotRunning {
        /// The supervisor's name.
        name: Arc<str>,
    },
    /// More than `max_restarts` restarts happened within `period`: the supervisor shut
    /// down all its children and ended with this error, so that its parent decides.
    #[error(
        "supervisor `{name}` exceeded its restart intensity ({max_restarts} restarts in {period:?})"
    )]
    RestartIntensity {
        /// The supervisor's name.
        name: Arc<str>,
        /// The configured maximum.
        max_restarts: u32,
        /// The configured window.
        period: Duration,
    },
}

impl SupervisorError {
    /// True when the supervisor ended because of its restart intensity (an escalation).
    pub fn is_escalation(&self) -> bool {
        matches!(self, SupervisorError::RestartIntensity { .. })
    }
}
