//! Restart strategies, restart intensity and restart backoff.
//!
//! Why an intensity and not "retry forever"? A child that crashes again the moment it
//! starts is not going to get better by itself: restarting it in a loop burns CPU and
//! hides the fault. After `max_restarts` restarts within `period`, the supervisor gives up,
//! stops its children and ends with an error, so that its parent — which sees the whole
//! subtree as one failed child — decides. Each level of the tree gets its own chance, and
//! a fault that no level can fix reaches the top instead of spinning in the middle.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::error::SupervisorError;

/// Which children are restarted when one of them has to be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Only the child that ended (independent children: sessions, listeners).
    #[default]
    OneForOne,
    /// Every child: the others are stopped (in reverse start order) and all are started
    /// again (in start order). For children that cannot work without each other.
    OneForAll,
    /// The child that ended and every child started after it (they depend on it).
    RestForOne,
}

/// At most `max_restarts` restarts within `period`; one more and the supervisor ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Intensity {
    /// Restarts allowed within `period`.
    pub max_restarts: u32,
    /// The sliding window.
    pub period: Duration,
}

impl Intensity {
    /// `max_restarts` within `period`; the period must not be zero.
    pub fn new(max_restarts: u32, period: Duration) -> Result<Self, SupervisorError> {
        if period.is_zero() {
            return Err(SupervisorError::InvalidConfig {
                reason: "restart intensity period must be longer than zero",
            });
        }
        Ok(Intensity {
            max_restarts,
            period,
        })
    }
}

impl Default for Intensity {
    /// OTP's default: one restart within five seconds.
    fn default() -> Self {
        Intensity {
            max_restarts: 1,
            period: Duration::from_secs(5),
        }
    }
}

/// Delay before a restart, doubling with each consecutive restart of the same child,
/// from `initial` up to `max`. A child that ran longer than the intensity period starts
/// again from `initial`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Backoff {
    /// Delay before the first restart.
    pub initial: Duration,
    /// Upper bound of the delay.
    pub max: Duration,
}

impl Backoff {
    /// A backoff from `initial` to `max`; `initial` must not exceed `max`.
    pub fn new(initial: Duration, max: Duration) -> Result<Self, SupervisorError> {
        if initial > max {
            return Err(SupervisorError::InvalidConfig {
                reason: "backoff initial delay exceeds its maximum",
            });
        }
        Ok(Backoff { initial, max })
    }

    /// The delay before restart number `consecutive` (0 for the first).
    pub fn delay(&self, consecutive: u32) -> Duration {
        let factor = 1u32.checked_shl(consecutive.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// The sliding window of recent restarts.
#[derive(Debug)]
pub(crate) struct RestartWindow {
    intensity: Intensity,
    restarts: VecDeque<Instant>,
}

impl RestartWindow {
    pub(crate) fn new(intensity: Intensity) -> Self {
        RestartWindow {
            intensity,
            restarts: VecDeque::new(),
        }
    }

    /// Records a restart at `now`; false when it is one more than the intensity allows.
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        while let Some(&oldest) = self.restarts.front() {
            if now.duration_since(oldest) >= self.intensity.period {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.push_back(now);
        self.restarts.len() <= self.intensity.max_restarts as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_maximum() {
        let b = Backoff::new(Duration::from_millis(10), Duration::from_millis(70)).unwrap();
        let delays: Vec<u128> = (0..6).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [10, 20, 40, 70, 70, 70]);
        assert_eq!(b.delay(u32::MAX), Duration::from_millis(70));
    }

    #[test]
    fn window_admits_max_restarts_then_refuses() {
        let mut w = RestartWindow::new(Intensity::new(2, Duration::from_secs(1)).unwrap());
        let t0 = Instant::now();
        assert!(w.admit(t0));
        assert!(w.admit(t0 + Duration::from_millis(100)));
        assert!(!w.admit(t0 + Duration::from_millis(200)));
        // Once the old ones leave the window, restarts are allowed again.
        let mut w = RestartWindow::new(Intensity::new(2, Duration::from_secs(1)).unwrap());
        assert!(w.admit(t0));
        assert!(w.admit(t0 + Duration::from_millis(100)));
        assert!(w.admit(t0 + Duration::from_millis(1_150)));
    }

    #[test]
    fn zero_intensity_refuses_the_first_restart() {
        let mut w = RestartWindow::new(Intensity::new(0, Duration::from_secs(1)).unwrap());
        assert!(!w.admit(Instant::now()));
        assert!(Intensity::new(1, Duration::ZERO).is_err());
    }
}
