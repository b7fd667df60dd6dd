#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! - [`queue`]: the bounded per-connection outbound queue (message and byte caps,
//!   high/low watermark events, droppable items, batch drain).
//! - [`slow`]: slow-consumer detection and its policy (drop droppable, disconnect).
//! - [`budget`]: the memory budget shared by every queue and its pressure signal.
//! - [`breaker`]: the circuit breaker (closed / open / half-open) and its events.
//! - [`backoff`] and [`retry`](mod@retry): capped exponential backoff with full jitter, and retries
//!   of an async operation through a breaker.
//! - [`service`]: the tower layers — circuit breaker, load shedding on the budget, and
//!   tower's concurrency limit re-exported.
//! - [`config`]: serde configuration of all of the above with documented defaults;
//!   [`error`]: the one error type.
//!
//! ## What it leaves to others
//! It never knows what MCP or JSON-RPC is: it moves opaque items and answers yes or no.
//! The session engine (`erlmcp-protocol`) maps [`FlowError::Overloaded`] to its JSON-RPC
//! error, decides which messages are droppable, and acts on a disconnect verdict; the
//! transports (`erlmcp-transport`) own the sockets the queues feed and the breakers guard.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backoff;
pub mod breaker;
pub mod budget;
pub mod config;
pub mod error;
pub mod queue;
pub mod retry;
pub mod service;
pub mod slow;

pub use backoff::Backoff;
pub use breaker::{BreakerEvent, BreakerState, BreakerStats, CircuitBreaker, Permit};
pub use budget::{BudgetStats, MemoryBudget, Reservation};
pub use config::{
    BackoffConfig, BreakerConfig, BudgetConfig, FlowConfig, QueueConfig, RetryPolicy, SlowAction,
    SlowConsumerPolicy, Watermarks,
};
pub use error::{FlowError, InvalidConfig, PushError};
pub use queue::{
    OutboundQueue, QueueId, QueueMonitor, QueueReceiver, QueueSender, QueueStats, WatermarkEvent,
    WatermarkEventKind, WatermarkLevel, Weighted, WeightedItem,
};
pub use retry::{Retry, RetryError, retry};
pub use service::{CircuitBreakerLayer, CircuitBreakerService, LoadShed, LoadShedLayer};
pub use slow::{SlowConsumerDetector, SlowOutcome, SlowVerdict};
