//! Configuration of every flow-control primitive, with documented defaults.
//!
//! Why one module: the workspace configuration (`erlmcp.toml`) names every cap and limit
//! in one place, and it embeds [`FlowConfig`] for this crate's share. The structs here are
//! plain serde data, so a file can hold any value; each primitive validates the part it
//! takes in its `new() -> Result<Self, InvalidConfig>`, and [`FlowConfig::validate`] checks
//! the whole set at load time. Durations are written in milliseconds (`*_ms` keys).
//!
//! | key | default |
//! |---|---|
//! | `queue.max_messages` | 1000 |
//! | `queue.max_bytes` | 8 MiB |
//! | `queue.watermarks` | high 80 %, low 50 % |
//! | `slow_consumer.grace_ms` | 5000 |
//! | `slow_consumer.action` | drop droppable items, then disconnect 5 s later |
//! | `budget.limit_bytes` | 256 MiB |
//! | `budget.watermarks` | pressure from 90 %, relieved at 70 % |
//! | `breaker.failure_threshold` / `breaker.window_ms` | 5 failures in 30 s |
//! | `breaker.half_open_probes` | 1 |
//! | `breaker.backoff` / `retry.backoff` | base 100 ms, cap 30 s, full jitter |
//! | `retry.max_attempts` | 5 |

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::InvalidConfig;

/// Default message cap of an outbound queue.
pub const DEFAULT_QUEUE_MESSAGES: usize = 1000;
/// Default byte cap of an outbound queue (8 MiB).
pub const DEFAULT_QUEUE_BYTES: usize = 8 * 1024 * 1024;
/// Default global memory budget across all queues (256 MiB).
pub const DEFAULT_BUDGET_BYTES: usize = 256 * 1024 * 1024;
/// Largest byte cap a queue accepts (permits are counted in `u32`).
pub const MAX_QUEUE_BYTES: usize = u32::MAX as usize;
/// Largest message cap a queue accepts.
pub const MAX_QUEUE_MESSAGES: usize = tokio::sync::Semaphore::MAX_PERMITS;

/// Every flow-control setting of one server or client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowConfig {
    /// Per-connection outbound queue.
    pub queue: QueueConfig,
    /// What happens to a consumer that stays above the high watermark.
    pub slow_consumer: SlowConsumerPolicy,
    /// The memory budget shared by every queue.
    pub budget: BudgetConfig,
    /// The circuit breaker in front of each remote peer.
    pub breaker: BreakerConfig,
    /// Retries through the breaker.
    pub retry: RetryPolicy,
}

impl FlowConfig {
    /// Checks every part; the first value out of range is reported.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        self.queue.validate()?;
        self.slow_consumer.validate()?;
        self.budget.validate()?;
        self.breaker.validate()?;
        self.retry.validate()
    }
}

/// High and low watermarks as percentages of a cap.
///
/// Crossing `high_percent` upwards raises the signal; it clears only once usage is back at
/// or below `low_percent`. The gap is the hysteresis that keeps a signal from flapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Watermarks {
    /// The signal is raised at or above this share of the cap (1..=100).
    pub high_percent: u8,
    /// The signal clears at or below this share of the cap (below `high_percent`).
    pub low_percent: u8,
}

impl Watermarks {
    /// Watermarks at `high_percent` / `low_percent` of the cap.
    pub const fn new(high_percent: u8, low_percent: u8) -> Self {
        Watermarks {
            high_percent,
            low_percent,
        }
    }

    fn validate(&self, high: &'static str) -> Result<(), InvalidConfig> {
        if self.high_percent == 0 || self.high_percent > 100 {
            return Err(InvalidConfig::new(high, "must be within 1..=100 percent"));
        }
        if self.low_percent >= self.high_percent {
            return Err(InvalidConfig::new(
                high,
                "low watermark must be below the high watermark",
            ));
        }
        Ok(())
    }

    /// The absolute `(high, low)` thresholds for `cap`; `high` is at least 1.
    pub fn thresholds(&self, cap: usize) -> (usize, usize) {
        let share = |percent: u8| {
            let value = (cap as u128 * u128::from(percent)) / 100;
            usize::try_from(value).unwrap_or(usize::MAX)
        };
        (share(self.high_percent).max(1), share(self.low_percent))
    }
}

/// Caps of one outbound queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Messages queued before producers wait (default 1000).
    pub max_messages: usize,
    /// Bytes queued before producers wait (default 8 MiB, at most 4 GiB − 1). An item
    /// heavier than this is admitted alone, once the queue holds no other bytes.
    pub max_bytes: usize,
    /// Warn at 80 %, clear at 50 % of either cap by default.
    pub watermarks: Watermarks,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_messages: DEFAULT_QUEUE_MESSAGES,
            max_bytes: DEFAULT_QUEUE_BYTES,
            watermarks: Watermarks::new(80, 50),
        }
    }
}

impl QueueConfig {
    /// Checks the caps and watermarks.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        if self.max_messages == 0 || self.max_messages > MAX_QUEUE_MESSAGES {
            return Err(InvalidConfig::new(
                "queue.max_messages",
                "must be at least 1 and fit a semaphore",
            ));
        }
        if self.max_bytes == 0 || self.max_bytes > MAX_QUEUE_BYTES {
            return Err(InvalidConfig::new(
                "queue.max_bytes",
                "must be within 1..=4294967295",
            ));
        }
        self.watermarks.validate("queue.watermarks")
    }
}

/// What the engine does with a consumer whose queue stays above its high watermark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlowConsumerPolicy {
    /// How long a queue may stay above its high watermark before its consumer is marked
    /// slow (default 5 s).
    #[serde(rename = "grace_ms", with = "duration_ms")]
    pub grace: Duration,
    /// What happens once the consumer is marked slow (default: drop droppable items, then
    /// disconnect 5 s later).
    pub action: SlowAction,
}

impl Default for SlowConsumerPolicy {
    fn default() -> Self {
        SlowConsumerPolicy {
            grace: Duration::from_secs(5),
            action: SlowAction::DropThenDisconnect {
                after: Duration::from_secs(5),
            },
        }
    }
}

impl SlowConsumerPolicy {
    /// Every value is in range today; kept so callers validate uniformly.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        Ok(())
    }
}

/// The action taken against a slow consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum SlowAction {
    /// Drop the droppable items queued for it and refuse new ones until it catches up.
    DropDroppable,
    /// Disconnect it.
    Disconnect,
    /// Drop droppable items first; disconnect if it is still slow `after` that.
    DropThenDisconnect {
        /// Extra time given after the drop before disconnecting.
        #[serde(rename = "after_ms", with = "duration_ms")]
        after: Duration,
    },
}

/// The memory budget shared by every queue of a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    /// Bytes all queues may hold together (default 256 MiB).
    pub limit_bytes: usize,
    /// Pressure from 90 % of the limit, relieved at 70 % by default.
    pub watermarks: Watermarks,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            limit_bytes: DEFAULT_BUDGET_BYTES,
            watermarks: Watermarks::new(90, 70),
        }
    }
}

impl BudgetConfig {
    /// Checks the limit and watermarks.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        if self.limit_bytes == 0 {
            return Err(InvalidConfig::new(
                "budget.limit_bytes",
                "must be at least 1",
            ));
        }
        self.watermarks.validate("budget.watermarks")
    }
}

/// Exponential backoff with full jitter: attempt `n` waits a uniform random time in
/// `[0, min(cap, base × 2ⁿ)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackoffConfig {
    /// The ceiling of the first delay (default 100 ms).
    #[serde(rename = "base_ms", with = "duration_ms")]
    pub base: Duration,
    /// The largest ceiling (default 30 s).
    #[serde(rename = "cap_ms", with = "duration_ms")]
    pub cap: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(30),
        }
    }
}

impl BackoffConfig {
    /// Checks that `0 < base <= cap`.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        if self.base.is_zero() {
            return Err(InvalidConfig::new("backoff.base", "must be above zero"));
        }
        if self.cap < self.base {
            return Err(InvalidConfig::new(
                "backoff.cap",
                "must not be below the base",
            ));
        }
        Ok(())
    }
}

/// The circuit breaker's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Failures within `window` that open the breaker (default 5).
    pub failure_threshold: u32,
    /// The sliding window failures are counted in (default 30 s).
    #[serde(rename = "window_ms", with = "duration_ms")]
    pub window: Duration,
    /// Calls admitted while half-open; all must succeed to close again (default 1).
    pub half_open_probes: u32,
    /// How long the breaker stays open: the n-th consecutive opening lasts a full-jitter
    /// delay of attempt n (default base 100 ms, cap 30 s).
    pub backoff: BackoffConfig,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            window: Duration::from_secs(30),
            half_open_probes: 1,
            backoff: BackoffConfig::default(),
        }
    }
}

impl BreakerConfig {
    /// Checks the thresholds and the backoff.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        if self.failure_threshold == 0 {
            return Err(InvalidConfig::new(
                "breaker.failure_threshold",
                "must be at least 1",
            ));
        }
        if self.window.is_zero() {
            return Err(InvalidConfig::new("breaker.window", "must be above zero"));
        }
        if self.half_open_probes == 0 {
            return Err(InvalidConfig::new(
                "breaker.half_open_probes",
                "must be at least 1",
            ));
        }
        self.backoff.validate()
    }
}

/// How [`crate::retry::retry`] retries an operation through a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 5). Attempts the breaker refuses count.
    pub max_attempts: u32,
    /// The wait between attempts (default base 100 ms, cap 30 s, full jitter).
    pub backoff: BackoffConfig,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            backoff: BackoffConfig::default(),
        }
    }
}

impl RetryPolicy {
    /// Checks the attempt count and the backoff.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        if self.max_attempts == 0 {
            return Err(InvalidConfig::new(
                "retry.max_attempts",
                "must be at least 1",
            ));
        }
        self.backoff.validate()
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = FlowConfig::default();
        config.validate().unwrap();
        assert_eq!(config.queue.max_messages, 1000);
        assert_eq!(config.queue.max_bytes, 8 << 20);
        assert_eq!(config.queue.watermarks, Watermarks::new(80, 50));
        assert_eq!(config.slow_consumer.grace, Duration::from_secs(5));
        assert_eq!(config.budget.limit_bytes, 256 << 20);
        assert_eq!(config.breaker.failure_threshold, 5);
        assert_eq!(config.breaker.window, Duration::from_secs(30));
        assert_eq!(config.breaker.half_open_probes, 1);
        assert_eq!(config.breaker.backoff.base, Duration::from_millis(100));
        assert_eq!(config.breaker.backoff.cap, Duration::from_secs(30));
        assert_eq!(config.queue.watermarks.thresholds(1000), (800, 500));
    }

    #[test]
    fn serde_round_trip_uses_millisecond_keys() {
        let config = FlowConfig::default();
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["slow_consumer"]["grace_ms"], 5000);
        assert_eq!(
            json["slow_consumer"]["action"]["kind"],
            "drop_then_disconnect"
        );
        assert_eq!(json["breaker"]["window_ms"], 30000);
        let back: FlowConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, config);

        let partial: FlowConfig = serde_json::from_str(
            r#"{"queue":{"max_messages":10},"slow_consumer":{"action":{"kind":"disconnect"}}}"#,
        )
        .unwrap();
        assert_eq!(partial.queue.max_messages, 10);
        assert_eq!(partial.queue.max_bytes, DEFAULT_QUEUE_BYTES);
        assert_eq!(partial.slow_consumer.action, SlowAction::Disconnect);
        assert!(serde_json::from_str::<FlowConfig>(r#"{"queue":{"max_msgs":1}}"#).is_err());
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        let mut config = FlowConfig::default();
        config.queue.max_messages = 0;
        assert_eq!(config.validate().unwrap_err().field(), "queue.max_messages");

        let mut config = FlowConfig::default();
        config.queue.watermarks = Watermarks::new(50, 50);
        assert_eq!(config.validate().unwrap_err().field(), "queue.watermarks");

        let mut config = FlowConfig::default();
        config.breaker.backoff.cap = Duration::from_millis(1);
        assert_eq!(config.validate().unwrap_err().field(), "backoff.cap");

        let mut config = FlowConfig::default();
        config.retry.max_attempts = 0;
        assert_eq!(config.validate().unwrap_err().field(), "retry.max_attempts");

        let mut config = FlowConfig::default();
        config.budget.watermarks = Watermarks::new(101, 10);
        assert_eq!(config.validate().unwrap_err().field(), "budget.watermarks");
    }
}
