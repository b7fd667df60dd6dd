//! The one error type of this crate, grouped by who is at fault.
//!
//! Why one enum: the layers above map flow-control refusals onto their own wire errors
//! (the session engine turns [`FlowError::Overloaded`] into a JSON-RPC error) and they
//! should find every refusal in one place, each variant saying whether a retry can help.
//! Item-carrying failures ([`PushError`]) hand the item back and name their reason with a
//! [`FlowError`], so nothing is lost on a refused push.

use std::fmt;
use std::time::Duration;

/// Why a flow-control primitive refused work or could not be built.
///
/// Grouped by fault: *load* (this process protects itself; retrying later can help),
/// *peer* (the consumer on the other side is too slow), *caller* (the caller's own state or
/// configuration).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    // ---- load: this process protects itself ----
    /// The circuit breaker is open, or half-open with every probe slot taken: the call was
    /// refused without touching the network. `retry_after` is how long the breaker stays
    /// open, when known (`None` while half-open probes are in flight).
    #[error("circuit breaker is open")]
    CircuitOpen {
        /// Time left until the breaker admits a probe, when known.
        retry_after: Option<Duration>,
    },
    /// The global memory budget is under pressure: new work is shed until usage falls
    /// below the budget's low threshold.
    #[error("memory budget under pressure; work shed")]
    Overloaded,
    /// The bounded queue has no room for the item (message or byte cap reached).
    #[error("queue is full")]
    QueueFull,

    // ---- peer: the consumer on the other side is too slow ----
    /// The item was droppable and the queue sheds droppable items because its consumer is
    /// slow (see [`crate::slow`]).
    #[error("droppable item shed: the consumer is slow")]
    Shed,
    /// The consumer stayed above the high watermark past its grace and the policy
    /// disconnects it. No function here returns it: it is the reason the engine gives
    /// when it ends a session on [`SlowOutcome::Disconnect`](crate::slow::SlowOutcome).
    #[error("slow consumer disconnected")]
    SlowConsumer,

    // ---- caller: the caller's own state or configuration ----
    /// The queue's receiver is closed or gone; nothing will be delivered any more.
    #[error("queue is closed")]
    Closed,
    /// A configuration value is out of range.
    #[error("invalid flow-control configuration")]
    InvalidConfig(#[source] InvalidConfig),
}

impl FlowError {
    /// True for refusals caused by load, which a later attempt may not meet
    /// ([`CircuitOpen`](Self::CircuitOpen), [`Overloaded`](Self::Overloaded),
    /// [`QueueFull`](Self::QueueFull)).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            FlowError::CircuitOpen { .. } | FlowError::Overloaded | FlowError::QueueFull
        )
    }

    /// How long to wait before trying again, when this error knows.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FlowError::CircuitOpen { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Finds a [`FlowError`] in a boxed error, as the tower services of this crate return
    /// it (`tower::BoxError`), walking the source chain.
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a FlowError> {
        let mut current = Some(error);
        while let Some(err) = current {
            if let Some(flow) = err.downcast_ref::<FlowError>() {
                return Some(flow);
            }
            current = err.source();
        }
        None
    }
}

impl From<InvalidConfig> for FlowError {
    fn from(err: InvalidConfig) -> Self {
        FlowError::InvalidConfig(err)
    }
}

/// A configuration value out of range: names the field and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {rule}")]
pub struct InvalidConfig {
    field: &'static str,
    rule: &'static str,
}

impl InvalidConfig {
    pub(crate) const fn new(field: &'static str, rule: &'static str) -> Self {
        InvalidConfig { field, rule }
    }

    /// The configuration field at fault, e.g. `queue.max_messages`.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule the value broke, e.g. `must be at least 1`.
    pub fn rule(&self) -> &'static str {
        self.rule
    }
}

/// A refused push: the item comes back with the reason.
///
/// The reason is one of [`FlowError::QueueFull`] (only from `try_push`),
/// [`FlowError::Closed`] or [`FlowError::Shed`].
pub struct PushError<T> {
    item: T,
    reason: FlowError,
}

impl<T> PushError<T> {
    pub(crate) fn new(item: T, reason: FlowError) -> Self {
        PushError { item, reason }
    }

    /// Takes the refused item back.
    pub fn into_inner(self) -> T {
        self.item
    }

    /// The refused item.
    pub fn item(&self) -> &T {
        &self.item
    }

    /// Why the push was refused.
    pub fn reason(&self) -> &FlowError {
        &self.reason
    }

    /// True when the queue had no room (`try_push` only).
    pub fn is_full(&self) -> bool {
        self.reason == FlowError::QueueFull
    }

    /// True when the receiver is closed or gone.
    pub fn is_closed(&self) -> bool {
        self.reason == FlowError::Closed
    }

    /// True when a droppable item was shed because the consumer is slow.
    pub fn is_shed(&self) -> bool {
        self.reason == FlowError::Shed
    }
}

impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "push refused: {}", self.reason)
    }
}

impl<T> std::error::Error for PushError<T> {}

impl<T> From<PushError<T>> for FlowError {
    fn from(err: PushError<T>) -> Self {
        err.reason
    }
}
