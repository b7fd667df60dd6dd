//! A circuit breaker in front of a service.
//!
//! Why a middleware: a client's transport (TCP today, HTTP later) is a service; wrapping
//! it means every call, retries included, goes through the same breaker, and an open
//! breaker answers at once without reaching the inner service, so a dead server sees no
//! traffic while it is open. Every `Err` of the inner service counts as a failure, every
//! `Ok` as a success; a response future dropped before it finished counts as neither.

pub mod future;
mod layer;
mod service;

pub use layer::CircuitBreakerLayer;
pub use service::CircuitBreakerService;
