//! The registry's one error type, grouped by who is at fault.

use crate::kind::Kind;

/// Why the registry refused something.
///
/// - **Caller misuse:** [`Duplicate`](RegistryError::Duplicate),
///   [`AlreadyMember`](RegistryError::AlreadyMember),
///   [`InvalidConfig`](RegistryError::InvalidConfig),
///   [`NoRuntime`](RegistryError::NoRuntime).
/// - **Capacity:** [`Full`](RegistryError::Full) — the configured entry limit is reached;
///   a server maps it to "overloaded, try later".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The key is already registered; the new value was not stored (and has been dropped).
    /// `existing` is the kind of the entry that holds the key.
    #[error("key already registered (by a {existing} entry)")]
    Duplicate {
        /// The kind of the entry already holding the key.
        existing: Kind,
    },
    /// The member is already in this group ([`Groups::join`](crate::Groups::join)); its
    /// value was left unchanged and the new one dropped.
    #[error("already a member of this group")]
    AlreadyMember,
    /// The registry already holds its configured maximum number of entries
    /// ([`RegistryBuilder::max_entries`](crate::RegistryBuilder::max_entries)).
    #[error("registry full: {limit} entries")]
    Full {
        /// The configured limit.
        limit: usize,
    },
    /// A builder setting is out of range; `what` names it.
    #[error("invalid registry configuration: {what}")]
    InvalidConfig {
        /// The setting and its allowed range.
        what: &'static str,
    },
    /// [`Registry::watch`](crate::Registry::watch) was called outside a tokio runtime, so
    /// there is nowhere to run the watcher task.
    #[error("no tokio runtime to run the watcher task on")]
    NoRuntime,
}

impl RegistryError {
    /// True for [`RegistryError::Duplicate`].
    pub fn is_duplicate(&self) -> bool {
        matches!(self, RegistryError::Duplicate { .. })
    }

    /// True for [`RegistryError::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, RegistryError::Full { .. })
    }
}
