//! Shedding new work while the memory budget is under pressure.
//!
//! Why shed rather than queue: under memory pressure every queued request is more memory.
//! Refusing new work at once keeps usage falling so the queues drain, and the caller gets
//! a clear, retryable answer ([`FlowError::Overloaded`](crate::FlowError::Overloaded))
//! instead of a timeout. Work already admitted runs to completion. Unlike tower's
//! `LoadShed`, which sheds when the inner service is not ready, this one sheds on the
//! budget's pressure signal; stack both if you want both.

pub mod future;
mod layer;
mod service;

pub use layer::LoadShedLayer;
pub use service::LoadShed;
