//! Process groups for fan-out (Erlang's `pg`): a group key names a set of members, each
//! with a value — for erlmcp, a resource URI names the sessions subscribed to it, and a
//! `notifications/resources/updated` goes to [`Groups::members`] of that URI instead of a
//! scan of every session.
//!
//! ```text
//!  group ──hash──▶ shard i: RwLock<HashMap<group, HashMap<member, (id, value)>>>
//! ```
//!
//! [`Groups::join`] returns a [`Membership`] guard that leaves the group when dropped, so
//! a session that keeps its memberships (one per subscription) leaves every group when it
//! ends, by any path. An emptied group is removed.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam::utils::CachePadded;
use hashbrown::HashMap;
use parking_lot::RwLock;
use serde::Serialize;

use crate::error::RegistryError;
use crate::registry::DEFAULT_SHARDS;

type Hasher = foldhash::fast::RandomState;
type Members<M, V> = HashMap<M, (u64, V), Hasher>;
type Shard<G, M, V> = CachePadded<RwLock<HashMap<G, Members<M, V>, Hasher>>>;

/// Named groups of members, each member with a value; sharded by group. Cheap to clone:
/// clones share the groups.
pub struct Groups<G, M, V> {
    inner: Arc<GroupsInner<G, M, V>>,
}

impl<G, M, V> Clone for Groups<G, M, V> {
    fn clone(&self) -> Self {
        Groups {
            inner: self.inner.clone(),
        }
    }
}

impl<G, M, V> std::fmt::Debug for Groups<G, M, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Groups")
            .field(
                "memberships",
                &self.inner.memberships.load(Ordering::Relaxed),
            )
            .finish()
    }
}

struct GroupsInner<G, M, V> {
    shards: Box<[Shard<G, M, V>]>,
    hasher: Hasher,
    memberships: AtomicUsize,
    next_id: AtomicU64,
}

/// Counts of a [`Groups`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct GroupsMetrics {
    /// Groups with at least one member.
    pub groups: usize,
    /// Memberships over every group.
    pub memberships: usize,
    /// Members of the largest group.
    pub largest_group: usize,
}

impl<G, M, V> Default for Groups<G, M, V> {
    fn default() -> Self {
        Groups::new()
    }
}

impl<G, M, V> Groups<G, M, V> {
    /// No groups yet, [`DEFAULT_SHARDS`] shards.
    pub fn new() -> Self {
        let hasher = Hasher::default();
        let shards = (0..DEFAULT_SHARDS)
            .map(|_| CachePadded::new(RwLock::new(HashMap::with_hasher(hasher.clone()))))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Groups {
            inner: Arc::new(GroupsInner {
                shards,
                hasher,
                memberships: AtomicUsize::new(0),
                next_id: AtomicU64::new(0),
            }),
        }
    }

    /// Memberships over every group (one atomic load).
    pub fn membership_count(&self) -> usize {
        self.inner.memberships.load(Ordering::Relaxed)
    }

    /// Group and membership counts.
    pub fn metrics(&self) -> GroupsMetrics {
        let mut metrics = GroupsMetrics {
            groups: 0,
            memberships: 0,
            largest_group: 0,
        };
        for shard in self.inner.shards.iter() {
            let shard = shard.read();
            metrics.groups += shard.len();
            for members in shard.values() {
                metrics.memberships += members.len();
                metrics.largest_group = metrics.largest_group.max(members.len());
            }
        }
        metrics
    }
}

impl<G, M, V> GroupsInner<G, M, V>
where
    G: Hash + Eq,
    M: Hash + Eq,
{
    fn shard<Q: Hash + ?Sized>(&self, group: &Q) -> &RwLock<HashMap<G, Members<M, V>, Hasher>> {
        let hash = self.hasher.hash_one(group);
        // Mask by the shard count, a power of two.
        &self.shards[((hash >> 32) as usize) & (self.shards.len() - 1)]
    }

    fn leave_if<QG, QM>(&self, group: &QG, member: &QM, id: Option<u64>) -> Option<V>
    where
        G: Borrow<QG>,
        M: Borrow<QM>,
        QG: Hash + Eq + ?Sized,
        QM: Hash + Eq + ?Sized,
    {
        let removed = {
            let mut shard = self.shard(group).write();
            let members = shard.get_mut(group)?;
            let matches = members
                .get(member)
                .is_some_and(|(entry_id, _)| id.is_none_or(|id| id == *entry_id));
            if !matches {
                return None;
            }
            let removed = members.remove(member);
            if members.is_empty() {
                shard.remove(group);
            }
            removed
        };
        removed.map(|(_, value)| {
            self.memberships.fetch_sub(1, Ordering::Relaxed);
            value
        })
    }
}

impl<G, M, V> Groups<G, M, V>
where
    G: Hash + Eq + Clone,
    M: Hash + Eq + Clone,
{
    /// Adds `member` to `group` with `value`. The returned [`Membership`] leaves the
    /// group when dropped. Fails with [`RegistryError::AlreadyMember`] when the member is
    /// already in the group (its value is left unchanged).
    pub fn join(
        &self,
        group: G,
        member: M,
        value: V,
    ) -> Result<Membership<G, M, V>, RegistryError> {
        let inner = &*self.inner;
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut shard = inner.shard(&group).write();
            let members = shard
                .entry(group.clone())
                .or_insert_with(|| HashMap::with_hasher(inner.hasher.clone()));
            if members.contains_key(&member) {
                return Err(RegistryError::AlreadyMember);
            }
            members.insert(member.clone(), (id, value));
        }
        inner.memberships.fetch_add(1, Ordering::Relaxed);
        Ok(Membership {
            inner: Some(self.inner.clone()),
            group,
            member,
            id,
        })
    }

    /// Removes `member` from `group`, whoever joined it, and returns its value.
    pub fn leave<QG, QM>(&self, group: &QG, member: &QM) -> Option<V>
    where
        G: Borrow<QG>,
        M: Borrow<QM>,
        QG: Hash + Eq + ?Sized,
        QM: Hash + Eq + ?Sized,
    {
        self.inner.leave_if(group, member, None)
    }

    /// Members of `group` now.
    pub fn member_count<Q>(&self, group: &Q) -> usize
    where
        G: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner
            .shard(group)
            .read()
            .get(group)
            .map_or(0, HashMap::len)
    }

    /// Calls `f` on every member of `group` under the group's shard read lock (keep `f`
    /// short: queue a notification, do not wait; do not join or leave from inside it).
    pub fn for_each_member<Q>(&self, group: &Q, mut f: impl FnMut(&M, &V))
    where
        G: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let shard = self.inner.shard(group).read();
        if let Some(members) = shard.get(group) {
            for (member, (_, value)) in members {
                f(member, value);
            }
        }
    }

    /// A snapshot of the values of every member of `group` — the fan-out list, taken
    /// under the lock and used after it is released.
    pub fn members<Q>(&self, group: &Q) -> Vec<V>
    where
        G: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let mut out = Vec::with_capacity(self.member_count(group));
        self.for_each_member(group, |_, v| out.push(v.clone()));
        out
    }
}

/// One member's place in one group; dropping it leaves the group (only this membership:
/// a later re-join of the same member is left alone).
#[must_use = "dropping a Membership leaves the group at once"]
pub struct Membership<G, M, V>
where
    G: Hash + Eq,
    M: Hash + Eq,
{
    inner: Option<Arc<GroupsInner<G, M, V>>>,
    group: G,
    member: M,
    id: u64,
}

impl<G, M, V> std::fmt::Debug for Membership<G, M, V>
where
    G: Hash + Eq + std::fmt::Debug,
    M: Hash + Eq + std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership")
            .field("group", &self.group)
            .field("member", &self.member)
            .field("armed", &self.inner.is_some())
            .finish()
    }
}

impl<G, M, V> Membership<G, M, V>
where
    G: Hash + Eq,
    M: Hash + Eq,
{
    /// The group joined.
    pub fn group(&self) -> &G {
        &self.group
    }

    /// The member.
    pub fn member(&self) -> &M {
        &self.member
    }

    /// Leaves now and returns the member's value (`None` if it already left by
    /// [`Groups::leave`]).
    pub fn leave(mut self) -> Option<V> {
        let inner = self.inner.take()?;
        inner.leave_if(&self.group, &self.member, Some(self.id))
    }

    /// Stays in the group after the guard is gone (until [`Groups::leave`]).
    pub fn detach(mut self) {
        self.inner = None;
    }
}

impl<G, M, V> Drop for Membership<G, M, V>
where
    G: Hash + Eq,
    M: Hash + Eq,
{
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            drop(inner.leave_if(&self.group, &self.member, Some(self.id)));
        }
    }
}
