//! The sharded registry: unique keys, each naming one value of one [`Kind`].
//!
//! ```text
//!  key ──hash (foldhash, once)──┬── bits 32.. pick the shard ──▶ shard i: RwLock<table>
//!                               └── the same hash probes that shard's hashbrown table
//!
//!  shard i (one cache line of counters beside its lock):
//!    lock ─ table: HashTable<Slot { id << 8 | kind, key, value }>
//!            per-kind counts, next registration id, insert/remove counters
//!    lookups, read/write try-failures, wait ns          (atomics)
//! ```
//!
//! Every insert hands back a [`Registration`]: a guard whose drop removes exactly the entry
//! it made (matched by a per-shard registration id, so a key that was removed and
//! registered again by someone else is left alone). Keeping the guard inside the owning
//! task's future is the monitor: the future is dropped when the task finishes, panics or is
//! aborted, and the entry goes with it. [`Registry::monitor`] wraps a future that way;
//! [`Registry::watch`] instead spawns a watcher task on a `JoinHandle`.
//!
//! Values are dropped after the shard lock is released, so a value whose `Drop` touches
//! the registry (say, it holds another `Registration`) cannot deadlock.

use std::borrow::Borrow;
use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use crossbeam::utils::CachePadded;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::task::{JoinError, JoinHandle};

use crate::error::RegistryError;
use crate::kind::{Kind, MAX_KINDS};
use crate::metrics::{
    Contention, DEFAULT_SAMPLE_EVERY, KindCount, LatencySummary, LookupSampler, RegistryMetrics,
};

/// Default number of shards: enough that 2–16 cores rarely meet on one lock.
pub const DEFAULT_SHARDS: usize = 64;

/// Most shards a registry may have.
pub const MAX_SHARDS: usize = 1 << 16;

#[inline]
fn elapsed_ns(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Configures a [`Registry`]; see [`Registry::builder`].
pub struct RegistryBuilder<K, V> {
    shards: usize,
    sample_every: u32,
    max_entries: Option<usize>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> std::fmt::Debug for RegistryBuilder<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryBuilder")
            .field("shards", &self.shards)
            .field("sample_every", &self.sample_every)
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

impl<K, V> Clone for RegistryBuilder<K, V> {
    fn clone(&self) -> Self {
        RegistryBuilder {
            shards: self.shards,
            sample_every: self.sample_every,
            max_entries: self.max_entries,
            _types: PhantomData,
        }
    }
}

impl<K, V> Default for RegistryBuilder<K, V> {
    fn default() -> Self {
        RegistryBuilder {
            shards: DEFAULT_SHARDS,
            sample_every: DEFAULT_SAMPLE_EVERY,
            max_entries: None,
            _types: PhantomData,
        }
    }
}

impl<K, V> RegistryBuilder<K, V> {
    /// Number of shards: a power of two from 1 to [`MAX_SHARDS`] (default
    /// [`DEFAULT_SHARDS`]).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// Times one lookup in `every` (a power of two; default
    /// [`DEFAULT_SAMPLE_EVERY`]). 0 turns lookup metrics off:
    /// lookups are then neither counted nor timed.
    pub fn sample_every(mut self, every: u32) -> Self {
        self.sample_every = every;
        self
    }

    /// Refuses inserts past this many entries with [`RegistryError::Full`] (default: no
    /// limit). This is where a per-node session limit is enforced.
    pub fn max_entries(mut self, limit: usize) -> Self {
        self.max_entries = Some(limit);
        self
    }

    /// Builds the registry, or names the setting that is out of range.
    pub fn build(self) -> Result<Registry<K, V>, RegistryError> {
        if !self.shards.is_power_of_two() || self.shards > MAX_SHARDS {
            return Err(RegistryError::InvalidConfig {
                what: "shards must be a power of two from 1 to 65536",
            });
        }
        if self.sample_every != 0 && !self.sample_every.is_power_of_two() {
            return Err(RegistryError::InvalidConfig {
                what: "sample_every must be 0 (off) or a power of two",
            });
        }
        let shards = (0..self.shards)
            .map(|_| CachePadded::new(Shard::new()))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Ok(Registry {
            inner: Arc::new(Inner {
                shards,
                mask: self.shards - 1,
                hasher: foldhash::fast::RandomState::default(),
                admitted: self
                    .max_entries
                    .map(|_| CachePadded::new(AtomicUsize::new(0))),
                max_entries: self.max_entries.unwrap_or(usize::MAX),
                refused_full: AtomicU64::new(0),
                sampler: LookupSampler::new(self.sample_every),
            }),
        })
    }
}

/// A sharded concurrent map from unique keys to values, each entry tagged with a
/// [`Kind`], removed automatically when its owner ends. Cheap to clone: clones share the
/// entries.
///
/// `K` is the key (a session id, a connection id, a server name …); `V` the handle and
/// metadata stored for it — something cheap to clone, such as an `Arc`, for
/// [`get`](Registry::get); [`with`](Registry::with) reads in place without cloning.
pub struct Registry<K, V> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for Registry<K, V> {
    fn clone(&self) -> Self {
        Registry {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for Registry<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("entries", &self.count())
            .field("shards", &self.inner.shards.len())
            .finish()
    }
}

pub(crate) struct Inner<K, V> {
    shards: Box<[CachePadded<Shard<K, V>>]>,
    mask: usize,
    hasher: foldhash::fast::RandomState,
    /// Entries counted against `max_entries` (only when a limit is set: one shared
    /// counter is a contended cache line on every insert and remove).
    admitted: Option<CachePadded<AtomicUsize>>,
    max_entries: usize,
    refused_full: AtomicU64,
    sampler: LookupSampler,
}

// `repr(C)`: the lookup counter, the lock and the table's header share the first cache
// line, which every lookup touches anyway.
#[repr(C)]
struct Shard<K, V> {
    lookups: AtomicU64,
    /// `table.slots.len()`, stored under the write lock, read without it by `count`.
    entries: AtomicUsize,
    table: RwLock<Table<K, V>>,
    read_try_failures: AtomicU64,
    write_try_failures: AtomicU64,
    wait_ns: AtomicU64,
}

#[repr(C)]
struct Table<K, V> {
    slots: HashTable<Slot<K, V>>,
    next_id: u64,
    inserts: u64,
    duplicates: u64,
    removes: u64,
    owner_removals: u64,
    kinds: [usize; MAX_KINDS],
}

/// One entry: 16 bytes plus the key and the value. The hash is not stored (the table
/// rehashes the key when it grows), and the registration id and the kind share one word.
struct Slot<K, V> {
    /// `id << 8 | kind`.
    tag: u64,
    key: K,
    value: V,
}

impl<K, V> Slot<K, V> {
    #[inline]
    fn id(&self) -> u64 {
        self.tag >> 8
    }

    #[inline]
    fn kind(&self) -> Kind {
        // The low byte was made from a valid kind.
        Kind::new((self.tag & 0xff) as u8).unwrap_or(Kind::SESSION)
    }
}

/// Why an entry is being removed (for the counters).
#[derive(Clone, Copy)]
enum Cause {
    Explicit,
    Owner,
}

impl<K, V> Shard<K, V> {
    fn new() -> Self {
        Shard {
            table: RwLock::new(Table {
                slots: HashTable::new(),
                kinds: [0; MAX_KINDS],
                next_id: 0,
                inserts: 0,
                duplicates: 0,
                removes: 0,
                owner_removals: 0,
            }),
            lookups: AtomicU64::new(0),
            entries: AtomicUsize::new(0),
            read_try_failures: AtomicU64::new(0),
            write_try_failures: AtomicU64::new(0),
            wait_ns: AtomicU64::new(0),
        }
    }

    #[inline]
    fn read(&self) -> RwLockReadGuard<'_, Table<K, V>> {
        if let Some(guard) = self.table.try_read() {
            return guard;
        }
        self.contended_read()
    }

    #[cold]
    fn contended_read(&self) -> RwLockReadGuard<'_, Table<K, V>> {
        self.read_try_failures.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let guard = self.table.read();
        self.wait_ns.fetch_add(elapsed_ns(start), Ordering::Relaxed);
        guard
    }

    #[inline]
    fn write(&self) -> RwLockWriteGuard<'_, Table<K, V>> {
        if let Some(guard) = self.table.try_write() {
            return guard;
        }
        self.contended_write()
    }

    #[cold]
    fn contended_write(&self) -> RwLockWriteGuard<'_, Table<K, V>> {
        self.write_try_failures.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let guard = self.table.write();
        self.wait_ns.fetch_add(elapsed_ns(start), Ordering::Relaxed);
        guard
    }
}

/// Takes a found slot out of its table and updates the per-kind count.
fn take_slot<K, V>(
    kinds: &mut [usize; MAX_KINDS],
    found: hashbrown::hash_table::OccupiedEntry<'_, Slot<K, V>>,
) -> Slot<K, V> {
    let (slot, _) = found.remove();
    kinds[slot.kind().index()] -= 1;
    slot
}

impl<K, V> Inner<K, V> {
    #[inline]
    fn shard_index(&self, hash: u64) -> usize {
        // hashbrown probes with the low bits and tags with the top 7; the shard takes
        // bits from the middle so that neither loses entropy inside a shard.
        ((hash >> 32) as usize) & self.mask
    }

    #[inline]
    fn shard(&self, hash: u64) -> &Shard<K, V> {
        &self.shards[self.shard_index(hash)]
    }

    /// Removes the entry made by one registration, if it is still there.
    fn remove_registration(&self, hash: u64, id: u64, cause: Cause) -> Option<V> {
        let shard = self.shard(hash);
        let removed = {
            let mut guard = shard.write();
            let table = &mut *guard;
            match table.slots.find_entry(hash, |slot| slot.id() == id) {
                Ok(found) => {
                    let slot = take_slot(&mut table.kinds, found);
                    match cause {
                        Cause::Explicit => table.removes += 1,
                        Cause::Owner => table.owner_removals += 1,
                    }
                    shard.entries.store(table.slots.len(), Ordering::Relaxed);
                    Some(slot)
                }
                Err(_) => None,
            }
        };
        // The lock is released: the value's `Drop` may use the registry.
        removed.map(|slot| {
            self.release();
            slot.value
        })
    }

    /// One entry less counted against the limit.
    #[inline]
    fn release(&self) {
        if let Some(admitted) = &self.admitted {
            admitted.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn with_registration<R>(&self, hash: u64, id: u64, f: impl FnOnce(&V) -> R) -> Option<R> {
        let table = self.shard(hash).read();
        table
            .slots
            .find(hash, |slot| slot.id() == id)
            .map(|slot| f(&slot.value))
    }

    fn update_registration<R>(&self, hash: u64, id: u64, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut table = self.shard(hash).write();
        table
            .slots
            .find_mut(hash, |slot| slot.id() == id)
            .map(|slot| f(&mut slot.value))
    }
}

impl<K, V> Registry<K, V> {
    /// An empty registry with the default settings ([`DEFAULT_SHARDS`] shards, one lookup
    /// in [`DEFAULT_SAMPLE_EVERY`] timed, no entry limit).
    pub fn new() -> Self {
        // The defaults are valid by construction.
        RegistryBuilder::default()
            .build()
            .expect("default registry settings are valid")
    }

    /// Starts configuring a registry.
    pub fn builder() -> RegistryBuilder<K, V> {
        RegistryBuilder::default()
    }

    /// Entries now, over every kind (one relaxed load per shard, no lock).
    pub fn count(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| shard.entries.load(Ordering::Relaxed))
            .sum()
    }

    /// True when the registry holds no entry.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Entries of one kind (reads each shard's per-kind count; no scan of the entries).
    pub fn count_kind(&self, kind: Kind) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| shard.read().kinds[kind.index()])
            .sum()
    }

    /// Counts, lookup latency percentiles and contention, as of now.
    pub fn metrics(&self) -> RegistryMetrics {
        let inner = &*self.inner;
        let mut kinds = [0usize; MAX_KINDS];
        let mut metrics = RegistryMetrics {
            entries: 0,
            by_kind: Vec::new(),
            shards: inner.shards.len(),
            max_shard_entries: 0,
            inserts: 0,
            duplicates: 0,
            refused_full: inner.refused_full.load(Ordering::Relaxed),
            removes: 0,
            owner_removals: 0,
            lookups: 0,
            lookup_sample_every: inner.sampler.every(),
            lookup: LatencySummary::from_histogram(&inner.sampler.merged()),
            contention: Contention {
                samples_dropped: inner.sampler.dropped(),
                ..Contention::default()
            },
        };
        for shard in inner.shards.iter() {
            {
                let table = shard.read();
                metrics.entries += table.slots.len();
                metrics.max_shard_entries = metrics.max_shard_entries.max(table.slots.len());
                metrics.inserts += table.inserts;
                metrics.duplicates += table.duplicates;
                metrics.removes += table.removes;
                metrics.owner_removals += table.owner_removals;
                for (total, n) in kinds.iter_mut().zip(table.kinds) {
                    *total += n;
                }
            }
            metrics.lookups += shard.lookups.load(Ordering::Relaxed);
            let c = &mut metrics.contention;
            c.read_try_failures += shard.read_try_failures.load(Ordering::Relaxed);
            c.write_try_failures += shard.write_try_failures.load(Ordering::Relaxed);
            c.lock_wait_ns += shard.wait_ns.load(Ordering::Relaxed);
        }
        metrics.by_kind = kinds
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .filter_map(|(i, &n)| {
                let kind = Kind::new(u8::try_from(i).ok()?)?;
                Some(KindCount {
                    kind: u8::try_from(i).ok()?,
                    name: kind.name(),
                    entries: n,
                })
            })
            .collect();
        metrics
    }

    /// Forgets the lookup latency samples, so the next [`metrics`](Registry::metrics)
    /// describes only what happens from now on. Counters are not reset.
    pub fn reset_lookup_latency(&self) {
        self.inner.sampler.reset();
    }
}

impl<K, V> Default for Registry<K, V> {
    fn default() -> Self {
        Registry::new()
    }
}

impl<K, V> Registry<K, V>
where
    K: Hash + Eq,
{
    #[inline]
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.inner.hasher.hash_one(key)
    }

    /// Registers `value` under `key` as an entry of `kind`.
    ///
    /// Returns the [`Registration`] guard: **dropping it removes the entry**. Keep it in
    /// the owning task (that is the monitor), or call [`Registration::detach`] to keep the
    /// entry until [`remove`](Registry::remove) is called.
    ///
    /// Fails with [`RegistryError::Duplicate`] when the key is taken and
    /// [`RegistryError::Full`] at the configured limit; `value` is dropped then.
    pub fn insert(
        &self,
        key: K,
        value: V,
        kind: Kind,
    ) -> Result<Registration<K, V>, RegistryError> {
        let inner = &*self.inner;
        let hash = self.hash(&key);
        if let Some(admitted) = &inner.admitted
            && admitted.fetch_add(1, Ordering::Relaxed) >= inner.max_entries
        {
            admitted.fetch_sub(1, Ordering::Relaxed);
            inner.refused_full.fetch_add(1, Ordering::Relaxed);
            return Err(RegistryError::Full {
                limit: inner.max_entries,
            });
        }
        let shard = inner.shard(hash);
        let outcome = {
            let mut guard = shard.write();
            let table = &mut *guard;
            match table.slots.entry(
                hash,
                |slot| slot.key == key,
                |slot| inner.hasher.hash_one(&slot.key),
            ) {
                Entry::Occupied(taken) => {
                    let existing = taken.get().kind();
                    table.duplicates += 1;
                    Err(RegistryError::Duplicate { existing })
                }
                Entry::Vacant(free) => {
                    table.next_id += 1;
                    let id = table.next_id;
                    free.insert(Slot {
                        tag: id << 8 | kind.index() as u64,
                        key,
                        value,
                    });
                    table.kinds[kind.index()] += 1;
                    table.inserts += 1;
                    shard.entries.store(table.slots.len(), Ordering::Relaxed);
                    Ok(id)
                }
            }
        };
        match outcome {
            Ok(id) => Ok(Registration {
                inner: Some(self.inner.clone()),
                hash,
                id,
            }),
            Err(err) => {
                inner.release();
                Err(err)
            }
        }
    }

    /// Runs `f` on the value under `key`, in place (under the shard's read lock: keep `f`
    /// short and do not insert or remove from inside it).
    ///
    /// This is the timed lookup: one call in `sample_every` is recorded in the latency
    /// histogram that [`metrics`](Registry::metrics) reads.
    #[inline]
    pub fn with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let inner = &*self.inner;
        let hash = self.hash(key);
        let index = inner.shard_index(hash);
        let shard = &inner.shards[index];
        if inner.sampler.enabled() {
            let n = shard.lookups.fetch_add(1, Ordering::Relaxed);
            if inner.sampler.should_sample(n) {
                let start = Instant::now();
                let found = Self::find(shard, hash, key, f);
                inner.sampler.record(index, elapsed_ns(start));
                return found;
            }
        }
        Self::find(shard, hash, key, f)
    }

    #[inline]
    fn find<Q, R>(shard: &Shard<K, V>, hash: u64, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let table = shard.read();
        table
            .slots
            .find(hash, |slot| slot.key.borrow() == key)
            .map(|slot| f(&slot.value))
    }

    /// A clone of the value under `key` (a timed lookup; see [`with`](Registry::with)).
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.with(key, V::clone)
    }

    /// True when `key` is registered.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.with(key, |_| ()).is_some()
    }

    /// The kind of the entry under `key`.
    pub fn kind_of<Q>(&self, key: &Q) -> Option<Kind>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let table = self.inner.shard(hash).read();
        table
            .slots
            .find(hash, |slot| slot.key.borrow() == key)
            .map(Slot::kind)
    }

    /// Changes the value under `key` in place (under the shard's write lock).
    pub fn update<Q, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let mut table = self.inner.shard(hash).write();
        table
            .slots
            .find_mut(hash, |slot| slot.key.borrow() == key)
            .map(|slot| f(&mut slot.value))
    }

    /// Removes the entry under `key`, whoever registered it, and returns its value. Its
    /// [`Registration`] then finds nothing to remove when dropped.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let shard = self.inner.shard(hash);
        let removed = {
            let mut guard = shard.write();
            let table = &mut *guard;
            match table
                .slots
                .find_entry(hash, |slot| slot.key.borrow() == key)
            {
                Ok(found) => {
                    let slot = take_slot(&mut table.kinds, found);
                    table.removes += 1;
                    shard.entries.store(table.slots.len(), Ordering::Relaxed);
                    Some(slot)
                }
                Err(_) => None,
            }
        };
        removed.map(|slot| {
            self.inner.release();
            slot.value
        })
    }

    /// Calls `f` on every entry of `kind`, shard by shard under each shard's read lock
    /// (keep `f` short; do not insert or remove from inside it). Entries added or removed
    /// meanwhile may or may not be seen.
    pub fn for_each_kind(&self, kind: Kind, mut f: impl FnMut(&K, &V)) {
        for shard in self.inner.shards.iter() {
            let table = shard.read();
            if table.kinds[kind.index()] == 0 {
                continue;
            }
            for slot in table.slots.iter().filter(|slot| slot.kind() == kind) {
                f(&slot.key, &slot.value);
            }
        }
    }

    /// A snapshot of every entry of `kind` (clones taken shard by shard).
    pub fn iter_kind(&self, kind: Kind) -> Vec<(K, V)>
    where
        K: Clone,
        V: Clone,
    {
        let mut out = Vec::new();
        self.for_each_kind(kind, |k, v| out.push((k.clone(), v.clone())));
        out
    }

    /// A snapshot of the values of every entry of `kind` — the fan-out list.
    pub fn values_kind(&self, kind: Kind) -> Vec<V>
    where
        V: Clone,
    {
        let mut out = Vec::new();
        self.for_each_kind(kind, |_, v| out.push(v.clone()));
        out
    }
}

impl<K, V> Registry<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// Registers `value` under `key` for as long as the `owner` future runs: the returned
    /// [`Monitored`] future runs `owner` and holds the [`Registration`], so the entry is
    /// removed when `owner` completes **or** when the future is dropped unfinished (its
    /// task panicked or was aborted, or it was never polled). Spawn it in place of
    /// `owner`.
    ///
    /// `Monitored` polls `owner` in place: it is `owner` plus the registration (24 bytes),
    /// no extra task and no extra allocation. (An `async move { owner.await }` wrapper
    /// would not do: the compiler keeps the captured future and the awaited one in
    /// separate slots, doubling the size of every session task.)
    ///
    /// ```rust
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), erlmcp_registry::RegistryError> {
    /// use erlmcp_registry::{Kind, Registry};
    ///
    /// let sessions: Registry<u64, &'static str> = Registry::new();
    /// let session = sessions.monitor(7, "tcp 127.0.0.1:50000", Kind::SESSION, async {
    ///     tokio::task::yield_now().await; // the session's work
    /// })?;
    /// let task = tokio::spawn(session);
    /// assert_eq!(sessions.get(&7), Some("tcp 127.0.0.1:50000"));
    /// task.await.expect("the session task ran");
    /// assert_eq!(sessions.get(&7), None); // gone with its owner
    /// # Ok(())
    /// # }
    /// ```
    pub fn monitor<F>(
        &self,
        key: K,
        value: V,
        kind: Kind,
        owner: F,
    ) -> Result<Monitored<F, K, V>, RegistryError>
    where
        F: Future,
    {
        let registration = self.insert(key, value, kind)?;
        Ok(Monitored {
            owner,
            registration: Some(registration),
        })
    }

    /// Registers `value` under `key` until the task behind `task` ends, by spawning a
    /// watcher task that awaits it and then removes the entry. Returns the watcher's
    /// handle, which yields the watched task's own result.
    ///
    /// Use it when the owning future cannot be wrapped (it is already spawned). It costs
    /// one more task per entry than [`monitor`](Registry::monitor) (the `registry` bench
    /// and the scale harness measure both). Aborting the returned handle removes the entry
    /// but does not abort the watched task: keep `task.abort_handle()` for that.
    ///
    /// Fails with [`RegistryError::NoRuntime`] outside a tokio runtime.
    pub fn watch<T>(
        &self,
        key: K,
        value: V,
        kind: Kind,
        task: JoinHandle<T>,
    ) -> Result<JoinHandle<Result<T, JoinError>>, RegistryError>
    where
        T: Send + 'static,
    {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| RegistryError::NoRuntime)?;
        let registration = self.insert(key, value, kind)?;
        Ok(runtime.spawn(async move {
            let outcome = task.await;
            drop(registration);
            outcome
        }))
    }
}

pin_project_lite::pin_project! {
    /// A future that runs its owner and holds the owner's [`Registration`]: see
    /// [`Registry::monitor`]. Its output is the owner's; the entry is removed as soon as
    /// the owner completes, or when this future is dropped.
    #[must_use = "futures do nothing unless polled; dropping this one removes its entry"]
    pub struct Monitored<F, K, V> {
        #[pin]
        owner: F,
        registration: Option<Registration<K, V>>,
    }
}

impl<F, K, V> Monitored<F, K, V> {
    /// The registration, while the owner runs (`None` once it completed).
    pub fn registration(&self) -> Option<&Registration<K, V>> {
        self.registration.as_ref()
    }
}

impl<F: Future, K, V> Future for Monitored<F, K, V> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = std::task::ready!(this.owner.poll(cx));
        // Completed: the entry goes now, not when the task's cell is freed.
        drop(this.registration.take());
        Poll::Ready(output)
    }
}

impl<F, K, V> std::fmt::Debug for Monitored<F, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitored")
            .field("registration", &self.registration)
            .finish_non_exhaustive()
    }
}

/// The guard of one registry entry: dropping it removes the entry it made (and only
/// that entry — if the key was removed and registered again meanwhile, the new entry is
/// left alone).
///
/// Moving it into the task that owns the entry makes the entry live exactly as long as
/// the task: Erlang's monitor, by ownership. `Send` and `Sync` when the keys and values
/// are.
#[must_use = "dropping a Registration removes its entry at once"]
pub struct Registration<K, V> {
    /// `None` once detached or removed.
    inner: Option<Arc<Inner<K, V>>>,
    hash: u64,
    id: u64,
}

impl<K, V> std::fmt::Debug for Registration<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("armed", &self.inner.is_some())
            .field("id", &self.id)
            .finish()
    }
}

impl<K, V> Registration<K, V> {
    /// True while the entry this guard made is still in the registry (it may have been
    /// removed by key).
    pub fn is_registered(&self) -> bool {
        self.inner.as_ref().is_some_and(|inner| {
            inner
                .with_registration(self.hash, self.id, |_| ())
                .is_some()
        })
    }

    /// A clone of this entry's value, without knowing its key.
    pub fn get(&self) -> Option<V>
    where
        V: Clone,
    {
        self.inner
            .as_ref()?
            .with_registration(self.hash, self.id, V::clone)
    }

    /// Changes this entry's value in place (for metadata such as a session's phase).
    pub fn update<R>(&self, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        self.inner
            .as_ref()?
            .update_registration(self.hash, self.id, f)
    }

    /// Removes the entry now and returns its value (`None` if it was already removed by
    /// key).
    pub fn remove(mut self) -> Option<V> {
        let inner = self.inner.take()?;
        inner.remove_registration(self.hash, self.id, Cause::Explicit)
    }

    /// Ties this entry to `owner`: the returned [`Monitored`] future runs `owner` in place
    /// and removes the entry when `owner` completes or the future is dropped — what
    /// [`Registry::monitor`] does, for an entry registered before its owner was built (so
    /// that it is visible, and refusals are known, before the owner task is spawned).
    ///
    /// ```rust
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), erlmcp_registry::RegistryError> {
    /// use erlmcp_registry::{Kind, Registry};
    ///
    /// let connections: Registry<u64, &'static str> = Registry::new();
    /// let registration = connections.insert(1, "tcp 127.0.0.1:50000", Kind::CONNECTION)?;
    /// let task = tokio::spawn(registration.monitor(std::future::pending::<()>()));
    /// assert!(connections.contains_key(&1));
    /// task.abort();
    /// let _ = task.await;
    /// assert!(!connections.contains_key(&1)); // gone with its (aborted) owner
    /// # Ok(())
    /// # }
    /// ```
    pub fn monitor<F: Future>(self, owner: F) -> Monitored<F, K, V> {
        Monitored {
            owner,
            registration: Some(self),
        }
    }

    /// Lets go of the entry without removing it: it stays until removed by key.
    pub fn detach(mut self) {
        self.inner = None;
    }
}

impl<K, V> Drop for Registration<K, V> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // The returned value is dropped here, after the shard lock is released.
            drop(inner.remove_registration(self.hash, self.id, Cause::Owner));
        }
    }
}
