//! Security events: every refusal of untrusted input is emitted through `tracing` and
//! counted, so the evidence bundle can report what was blocked.
//!
//! The validators of this crate record their own refusals (once, at the public entry
//! point that refused); callers never have to remember to. A caller that checks something
//! and decides *not* to enforce it (a report-only rollout of an Origin allow-list, say)
//! records that with [`record_observed`], which counts it separately.
//!
//! Events go to the `erlmcp_security` tracing target at `WARN` level with the fields
//! `kind`, `blocked` and `detail`. Counters are process-wide atomics, one per
//! [`crate::KINDS`] entry; [`snapshot`] reads them all.
//!
//! Refusals caused by the caller ([`crate::Fault::Misuse`]) or by the file system
//! ([`crate::Fault::Io`]) are not security events and are neither emitted nor counted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{KINDS, SecurityError};

/// One security event: what was refused (or observed), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    /// The stable kind, one of [`crate::KINDS`] (for example `"traversal.encoded_dot"`).
    pub kind: String,
    /// True if the input was refused; false if it was only observed (report-only).
    pub blocked: bool,
    /// A human-readable description; never contains the refused input.
    pub detail: String,
}

impl SecurityEvent {
    /// The event describing `error` (`blocked` = true).
    pub fn blocked(error: &SecurityError) -> Self {
        SecurityEvent {
            kind: error.kind().to_owned(),
            blocked: true,
            detail: error.to_string(),
        }
    }
}

/// The counters at one moment, for the evidence bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecuritySnapshot {
    /// Refusals of untrusted input since the process started.
    pub blocked_total: u64,
    /// Refusals observed but not enforced, since the process started.
    pub observed_total: u64,
    /// Blocked refusals by kind; kinds never seen are left out.
    pub blocked_by_kind: BTreeMap<String, u64>,
    /// Observed refusals by kind; kinds never seen are left out.
    pub observed_by_kind: BTreeMap<String, u64>,
}

impl SecuritySnapshot {
    /// Blocked refusals of one kind (0 if never seen).
    pub fn blocked(&self, kind: &str) -> u64 {
        self.blocked_by_kind.get(kind).copied().unwrap_or(0)
    }
}

struct Counters {
    blocked: [AtomicU64; KINDS.len()],
    observed: [AtomicU64; KINDS.len()],
}

static COUNTERS: Counters = Counters {
    blocked: [const { AtomicU64::new(0) }; KINDS.len()],
    observed: [const { AtomicU64::new(0) }; KINDS.len()],
};

fn slot(kind: &str) -> Option<usize> {
    KINDS.iter().position(|k| *k == kind)
}

fn record(error: &SecurityError, blocked: bool) {
    if !error.is_security_event() {
        return;
    }
    let kind = error.kind();
    if let Some(i) = slot(kind) {
        let counters = if blocked {
            &COUNTERS.blocked
        } else {
            &COUNTERS.observed
        };
        counters[i].fetch_add(1, Ordering::Relaxed);
    }
    tracing::warn!(
        target: "erlmcp_security",
        kind,
        blocked,
        detail = %error,
        "untrusted input {}",
        if blocked { "refused" } else { "observed (not enforced)" }
    );
}

/// Records a refusal that the caller chose not to enforce: emitted with `blocked = false`
/// and counted under [`SecuritySnapshot::observed_by_kind`]. Misuse and I/O errors are
/// ignored.
pub fn record_observed(error: &SecurityError) {
    record(error, false);
}

/// Records a refusal of untrusted input, once, at the public entry point that refused it.
pub(crate) fn refused(error: SecurityError) -> SecurityError {
    record(&error, true);
    error
}

/// Passes a result through, recording its error if any.
pub(crate) fn report<T>(result: Result<T, SecurityError>) -> Result<T, SecurityError> {
    result.map_err(refused)
}

/// Reads every counter.
pub fn snapshot() -> SecuritySnapshot {
    let mut snap = SecuritySnapshot::default();
    for (i, kind) in KINDS.iter().enumerate() {
        let b = COUNTERS.blocked[i].load(Ordering::Relaxed);
        let o = COUNTERS.observed[i].load(Ordering::Relaxed);
        if b > 0 {
            snap.blocked_total += b;
            snap.blocked_by_kind.insert((*kind).to_owned(), b);
        }
        if o > 0 {
            snap.observed_total += o;
            snap.observed_by_kind.insert((*kind).to_owned(), o);
        }
    }
    snap
}
