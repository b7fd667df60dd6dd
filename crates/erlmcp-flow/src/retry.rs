//! Retrying an async operation through a circuit breaker, with jittered backoff.
//!
//! Why both: backoff alone still lets every client of a dead server retry forever, each on
//! its own schedule; a breaker alone refuses fast but does not say when to try again. The
//! helper asks the breaker before each attempt (a refusal costs no I/O and counts as an
//! attempt), reports each outcome to it, and sleeps a full-jitter backoff between
//! attempts — or the breaker's remaining open time, whichever is longer. A dead server
//! therefore sees at most `max_attempts` calls from one retry loop, and fewer once the
//! breaker is open.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::backoff::Backoff;
use crate::breaker::CircuitBreaker;
use crate::config::RetryPolicy;
use crate::error::InvalidConfig;

/// Why [`retry`] gave up.
#[derive(Debug)]
#[non_exhaustive]
pub enum RetryError<E> {
    /// The operation failed on its last attempt, or with an error the predicate called
    /// permanent.
    Failed {
        /// Attempts made, refused ones included.
        attempts: u32,
        /// The operation's last error.
        last: E,
    },
    /// The breaker refused the last attempt.
    CircuitOpen {
        /// Attempts made, refused ones included.
        attempts: u32,
        /// The operation's last error, if it ran at all.
        last: Option<E>,
    },
}

impl<E> RetryError<E> {
    /// Attempts made, refused ones included.
    pub fn attempts(&self) -> u32 {
        match self {
            RetryError::Failed { attempts, .. } | RetryError::CircuitOpen { attempts, .. } => {
                *attempts
            }
        }
    }

    /// The operation's last error, if it ran at all.
    pub fn into_last(self) -> Option<E> {
        match self {
            RetryError::Failed { last, .. } => Some(last),
            RetryError::CircuitOpen { last, .. } => last,
        }
    }
}

impl<E> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryError::Failed { attempts, .. } => {
                write!(f, "operation failed after {attempts} attempt(s)")
            }
            RetryError::CircuitOpen { attempts, .. } => {
                write!(f, "circuit breaker open after {attempts} attempt(s)")
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RetryError::Failed { last, .. } => Some(last),
            RetryError::CircuitOpen { last, .. } => last
                .as_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
        }
    }
}

/// A validated [`RetryPolicy`].
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    max_attempts: u32,
    backoff: Backoff,
}

impl Retry {
    /// Validates `policy`.
    pub fn new(policy: &RetryPolicy) -> Result<Self, InvalidConfig> {
        policy.validate()?;
        Ok(Retry {
            max_attempts: policy.max_attempts,
            backoff: Backoff::new(&policy.backoff)?,
        })
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff between attempts.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// Runs `op` (given the attempt number, from 0) through `breaker` until it succeeds,
    /// fails with an error `retryable` rejects, or the attempts run out. Every error counts
    /// as a breaker failure, retryable or not.
    pub async fn run<T, E, F, Fut, P>(
        &self,
        breaker: &CircuitBreaker,
        op: F,
        retryable: P,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        P: FnMut(&E) -> bool,
    {
        let mut rng = SmallRng::from_rng(&mut rand::rng());
        self.run_with_rng(breaker, op, retryable, &mut rng).await
    }

    /// [`run`](Self::run) with the jitter drawn from `rng` (deterministic tests).
    pub async fn run_with_rng<T, E, F, Fut, P, R>(
        &self,
        breaker: &CircuitBreaker,
        mut op: F,
        mut retryable: P,
        rng: &mut R,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        P: FnMut(&E) -> bool,
        R: rand::Rng + ?Sized,
    {
        let mut last: Option<E> = None;
        let mut attempt = 0;
        loop {
            let wait_at_least = match breaker.acquire() {
                Ok(permit) => match permit.record(op(attempt).await) {
                    Ok(value) => return Ok(value),
                    Err(err) => {
                        let permanent = !retryable(&err);
                        if permanent || attempt + 1 >= self.max_attempts {
                            return Err(RetryError::Failed {
                                attempts: attempt + 1,
                                last: err,
                            });
                        }
                        last = Some(err);
                        Duration::ZERO
                    }
                },
                Err(refused) => {
                    if attempt + 1 >= self.max_attempts {
                        return Err(RetryError::CircuitOpen {
                            attempts: attempt + 1,
                            last,
                        });
                    }
                    refused.retry_after().unwrap_or(Duration::ZERO)
                }
            };
            let delay = self.backoff.delay(attempt, rng).max(wait_at_least);
            tracing::debug!(
                target: "erlmcp_flow::retry",
                breaker = breaker.name(),
                attempt,
                delay_ms = delay.as_millis() as u64,
                "retrying after backoff"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// Runs `op` through `breaker` under `retry`, retrying every error: the shorthand for
/// [`Retry::run`] with a predicate that always retries.
pub async fn retry<T, E, F, Fut>(
    breaker: &CircuitBreaker,
    retry: &Retry,
    op: F,
) -> Result<T, RetryError<E>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    retry.run(breaker, op, |_| true).await
}
