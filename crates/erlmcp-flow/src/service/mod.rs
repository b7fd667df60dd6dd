//! Tower middleware over this crate's primitives.
//!
//! Why tower: the transports and the session engine are tower-shaped at their edges, and
//! flow control belongs in `poll_ready` and in the response future, where tower puts
//! backpressure: a service that is not ready is not called, and a response future that
//! holds a permit releases it when dropped. Each middleware is three types in three files
//! — `XLayer` builds `X<S>`, whose future is `future::ResponseFuture` — as in tower.
//!
//! - [`CircuitBreakerLayer`] → [`CircuitBreakerService`]: refuses calls while the breaker
//!   is open, without calling the inner service; reports each outcome to the breaker.
//! - [`LoadShedLayer`] → [`LoadShed`]: refuses calls with [`FlowError::Overloaded`] while
//!   the [`MemoryBudget`] is under pressure.
//! - Inbound concurrency: use tower's own [`ConcurrencyLimitLayer`] (per service) or
//!   [`GlobalConcurrencyLimitLayer`] (one semaphore shared by many services), re-exported
//!   here rather than re-implemented. Its `poll_ready` waits for a permit, so a reader
//!   that awaits readiness before reading the next frame stops reading from that peer —
//!   TCP or pipe backpressure then reaches the sender instead of a buffer growing.
//!
//! Errors are `tower::BoxError`; the refusals of this crate are a boxed [`FlowError`],
//! found with [`FlowError::find`]. Inner errors pass through unchanged.
//!
//! [`FlowError`]: crate::FlowError
//! [`FlowError::Overloaded`]: crate::FlowError::Overloaded
//! [`FlowError::find`]: crate::FlowError::find
//! [`MemoryBudget`]: crate::MemoryBudget

pub mod breaker;
pub mod load_shed;

pub use breaker::{CircuitBreakerLayer, CircuitBreakerService};
pub use load_shed::{LoadShed, LoadShedLayer};
pub use tower::limit::{ConcurrencyLimit, ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer};
