//! The registry's contract: unique keys, kinds and counts, guards that remove only their
//! own entry, monitors on every way a task can end, metrics, and concurrent churn.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use erlmcp_registry::{Groups, Kind, Registry, RegistryError};

#[test]
fn insert_get_remove_and_counts() {
    let r: Registry<u64, String> = Registry::new();
    let a = r.insert(1, "a".into(), Kind::SESSION).unwrap();
    let b = r.insert(2, "b".into(), Kind::CONNECTION).unwrap();
    let c = r.insert(3, "c".into(), Kind::SESSION).unwrap();
    assert_eq!(r.count(), 3);
    assert_eq!(r.count_kind(Kind::SESSION), 2);
    assert_eq!(r.count_kind(Kind::CONNECTION), 1);
    assert_eq!(r.count_kind(Kind::SERVER), 0);
    assert_eq!(r.get(&2).as_deref(), Some("b"));
    assert_eq!(r.kind_of(&3), Some(Kind::SESSION));

    let mut sessions = r.iter_kind(Kind::SESSION);
    sessions.sort();
    assert_eq!(sessions, vec![(1, "a".to_owned()), (3, "c".to_owned())]);

    assert_eq!(r.remove(&1).as_deref(), Some("a"));
    assert!(!a.is_registered());
    drop(a); // finds nothing to remove
    assert_eq!(r.count(), 2);
    assert_eq!(r.update(&2, |v| v.push('!')), Some(()));
    assert_eq!(b.get().as_deref(), Some("b!"));
    assert_eq!(c.remove().as_deref(), Some("c"));
    b.detach();
    assert_eq!(r.get(&2).as_deref(), Some("b!"), "a detached entry stays");
    assert_eq!(r.remove(&2).as_deref(), Some("b!"));
    assert!(r.is_empty());

    let m = r.metrics();
    assert_eq!(m.inserts, 3);
    assert_eq!(m.removes, 3);
    assert_eq!(m.owner_removals, 0);
}

#[test]
fn duplicates_are_refused_and_keep_the_first_value() {
    let r: Registry<String, u32> = Registry::new();
    let _first = r.insert("x".into(), 1, Kind::SERVER).unwrap();
    let err = r.insert("x".into(), 2, Kind::SESSION).unwrap_err();
    assert_eq!(
        err,
        RegistryError::Duplicate {
            existing: Kind::SERVER
        }
    );
    assert!(err.is_duplicate());
    assert_eq!(r.get("x"), Some(1));
    assert_eq!(r.count(), 1);
    assert_eq!(r.metrics().duplicates, 1);
}

#[test]
fn a_stale_guard_leaves_a_re_registered_key_alone() {
    let r: Registry<u64, &str> = Registry::new();
    let old = r.insert(9, "old", Kind::SESSION).unwrap();
    assert_eq!(r.remove(&9), Some("old"));
    let new = r.insert(9, "new", Kind::SESSION).unwrap();
    drop(old);
    assert_eq!(r.get(&9), Some("new"));
    drop(new);
    assert_eq!(r.get(&9), None);
}

#[test]
fn the_entry_limit_refuses_then_admits_again() {
    let r: Registry<u64, ()> = Registry::builder().max_entries(2).build().unwrap();
    let a = r.insert(1, (), Kind::SESSION).unwrap();
    let _b = r.insert(2, (), Kind::SESSION).unwrap();
    let err = r.insert(3, (), Kind::SESSION).unwrap_err();
    assert_eq!(err, RegistryError::Full { limit: 2 });
    assert!(err.is_full());
    drop(a);
    let _c = r.insert(3, (), Kind::SESSION).unwrap();
    assert_eq!(r.count(), 2);
    assert_eq!(r.metrics().refused_full, 1);
}

#[test]
fn invalid_settings_are_named() {
    let err = Registry::<u64, ()>::builder()
        .shards(3)
        .build()
        .unwrap_err();
    assert!(matches!(err, RegistryError::InvalidConfig { .. }));
    let err = Registry::<u64, ()>::builder()
        .sample_every(100)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("sample_every"));
    assert!(Registry::<u64, ()>::builder().shards(1).build().is_ok());
}

/// A value whose drop removes another entry: must not deadlock on the shard lock.
struct Chained(#[allow(dead_code)] Option<erlmcp_registry::Registration<u64, Chained>>);

#[test]
fn dropping_a_value_may_use_the_registry() {
    let r: Registry<u64, Chained> = Registry::builder().shards(1).build().unwrap();
    let inner = r.insert(1, Chained(None), Kind::SESSION).unwrap();
    let outer = r.insert(2, Chained(Some(inner)), Kind::SESSION).unwrap();
    assert_eq!(r.count(), 2);
    drop(outer); // removes 2, whose value drops the guard of 1: same shard
    assert_eq!(r.count(), 0);
}

#[tokio::test]
async fn monitor_removes_on_completion_abort_panic_and_never_polled() {
    let r: Registry<u64, u64> = Registry::new();

    let done = r.monitor(1, 1, Kind::SESSION, async { 5 }).unwrap();
    assert!(r.contains_key(&1));
    assert_eq!(tokio::spawn(done).await.unwrap(), 5);
    assert!(!r.contains_key(&1));

    let forever = r
        .monitor(2, 2, Kind::SESSION, std::future::pending::<()>())
        .unwrap();
    let task = tokio::spawn(forever);
    tokio::task::yield_now().await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(!r.contains_key(&2));

    let crashing = r
        .monitor(3, 3, Kind::SESSION, async {
            tokio::task::yield_now().await;
            panic!("session bug");
        })
        .unwrap();
    assert!(tokio::spawn(crashing).await.unwrap_err().is_panic());
    assert!(!r.contains_key(&3));

    let never = r.monitor(4, 4, Kind::SESSION, async {}).unwrap();
    assert!(r.contains_key(&4));
    drop(never);
    assert!(!r.contains_key(&4));

    assert_eq!(r.metrics().owner_removals, 4);
    assert_eq!(r.count(), 0);
}

#[test]
fn monitored_adds_only_the_registration_to_the_owner_future() {
    let r: Registry<u64, u64> = Registry::new();
    let owner = async {
        let buf = [7u8; 4096];
        tokio::task::yield_now().await;
        buf.iter().map(|&b| usize::from(b)).sum::<usize>()
    };
    let owner_bytes = std::mem::size_of_val(&owner);
    let monitored = r.monitor(1, 1, Kind::SESSION, owner).unwrap();
    // Not doubled, as an `async move { owner.await }` wrapper would be.
    assert!(
        std::mem::size_of_val(&monitored) <= owner_bytes + 32,
        "{} vs {owner_bytes}",
        std::mem::size_of_val(&monitored)
    );
    assert!(monitored.registration().is_some_and(|g| g.is_registered()));
}

#[tokio::test]
async fn watch_removes_when_the_task_ends_and_passes_its_outcome_on() {
    let r: Registry<u64, ()> = Registry::new();
    let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
    let task = tokio::spawn(async move { rx.await.unwrap_or(0) });
    let watcher = r.watch(1, (), Kind::SESSION, task).unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(r.contains_key(&1));
    tx.send(42).unwrap();
    assert_eq!(watcher.await.unwrap().unwrap(), 42);
    assert!(!r.contains_key(&1));

    let task = tokio::spawn(std::future::pending::<()>());
    let abort = task.abort_handle();
    let watcher = r.watch(2, (), Kind::SESSION, task).unwrap();
    abort.abort();
    assert!(watcher.await.unwrap().unwrap_err().is_cancelled());
    assert!(!r.contains_key(&2));
}

#[test]
fn watch_outside_a_runtime_is_an_error() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let task = rt.spawn(async {});
    let r: Registry<u64, ()> = Registry::new();
    assert_eq!(
        r.watch(1, (), Kind::SESSION, task).unwrap_err(),
        RegistryError::NoRuntime
    );
    assert!(
        r.is_empty(),
        "nothing registered when the watcher cannot run"
    );
}

#[test]
fn metrics_sample_lookups_and_serialise() {
    let r: Registry<u64, u64> = Registry::builder().sample_every(4).build().unwrap();
    let guards: Vec<_> = (0..64)
        .map(|i| r.insert(i, i, Kind::CONNECTION).unwrap())
        .collect();
    for round in 0..10 {
        for i in 0..64 {
            assert_eq!(r.get(&i), Some(i), "round {round}");
        }
    }
    let m = r.metrics();
    assert_eq!(m.lookups, 640);
    assert_eq!(m.lookup_sample_every, 4);
    // Each shard times its lookups number 0, 4, 8 …: at least 640/4 in total.
    assert!(m.lookup.samples >= 160, "{m:?}");
    assert!(m.lookup.p50_ns > 0 && m.lookup.p50_ns <= m.lookup.p999_ns);
    assert_eq!(m.by_kind.len(), 1);
    assert_eq!(m.by_kind[0].name, "connection");
    assert_eq!(m.by_kind[0].entries, 64);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["entries"], 64);
    assert!(json["lookup"]["p99_ns"].as_u64().unwrap() > 0);
    assert!(json["contention"]["read_try_failures"].is_u64());

    r.reset_lookup_latency();
    assert_eq!(r.metrics().lookup.samples, 0);
    drop(guards);

    let off: Registry<u64, u64> = Registry::builder().sample_every(0).build().unwrap();
    let _g = off.insert(1, 1, Kind::SESSION).unwrap();
    assert_eq!(off.get(&1), Some(1));
    let m = off.metrics();
    assert_eq!((m.lookups, m.lookup.samples), (0, 0));
}

#[test]
fn concurrent_churn_keeps_counts_exact() {
    let r: Registry<u64, u64> = Registry::builder().shards(4).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // Stable entries that readers must always find.
    let stable: Vec<_> = (0..1000)
        .map(|i| r.insert(i, i, Kind::SESSION).unwrap())
        .collect();
    let mut threads = Vec::new();
    for t in 0..4u64 {
        let r = r.clone();
        threads.push(std::thread::spawn(move || {
            for round in 0..2000u64 {
                let key = 1_000_000 + t * 1_000_000 + round;
                let g = r.insert(key, key, Kind::CONNECTION).unwrap();
                assert_eq!(r.get(&key), Some(key));
                if round % 2 == 0 {
                    drop(g);
                } else {
                    assert_eq!(r.remove(&key), Some(key));
                }
            }
        }));
    }
    for _ in 0..2 {
        let r = r.clone();
        let stop = stop.clone();
        threads.push(std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(r.get(&(i % 1000)), Some(i % 1000));
                i += 1;
            }
        }));
    }
    for t in threads.drain(..4) {
        t.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(r.count(), 1000);
    assert_eq!(r.count_kind(Kind::CONNECTION), 0);
    let m = r.metrics();
    assert_eq!(m.inserts, 1000 + 8000);
    assert_eq!(m.removes + m.owner_removals, 8000);
    drop(stable);
    assert_eq!(r.count(), 0);
}

#[tokio::test]
async fn groups_fan_out_and_leave_with_their_members() {
    let topics: Groups<Arc<str>, u64, u64> = Groups::new();
    let uri: Arc<str> = "demo://counter".into();
    let a = topics.join(uri.clone(), 1, 10).unwrap();
    let b = topics.join(uri.clone(), 2, 20).unwrap();
    let _other = topics.join("demo://readme".into(), 1, 10).unwrap();
    assert_eq!(
        topics.join(uri.clone(), 1, 11).unwrap_err(),
        RegistryError::AlreadyMember
    );
    let mut members = topics.members("demo://counter");
    members.sort();
    assert_eq!(members, vec![10, 20]);
    assert_eq!(topics.membership_count(), 3);

    // A session task holding its membership leaves the group when it is aborted.
    let task = tokio::spawn(async move {
        let _held = b;
        std::future::pending::<()>().await;
    });
    tokio::task::yield_now().await;
    task.abort();
    let _ = task.await;
    assert_eq!(topics.members("demo://counter"), vec![10]);

    // A stale membership does not remove a re-join.
    assert_eq!(topics.leave("demo://counter", &1), Some(10));
    let again = topics.join(uri.clone(), 1, 12).unwrap();
    drop(a);
    assert_eq!(topics.members("demo://counter"), vec![12]);
    assert_eq!(again.leave(), Some(12));
    let m = topics.metrics();
    assert_eq!((m.groups, m.memberships, m.largest_group), (1, 1, 1));
}
