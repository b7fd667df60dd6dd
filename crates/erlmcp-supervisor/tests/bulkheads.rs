//! Bulkheads: placement, caps, status, and a failure cascade that stops at one bulkhead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use erlmcp_supervisor::{
    BulkheadConfig, Bulkheads, ChildSpec, Intensity, Supervisor, SupervisorError,
};
use tokio::sync::watch;
use tokio::time::Instant;

const LIMIT: Duration = Duration::from_secs(10);

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn idle(id: String) -> ChildSpec {
    ChildSpec::oneshot(id, |ctx| async move { ctx.shutdown_requested().await })
}

#[test]
fn placement_is_stable_and_spreads_evenly() {
    let (bulkheads, _supervisors) = Bulkheads::new(&BulkheadConfig::default()).unwrap();
    assert_eq!(bulkheads.len(), 8);
    let mut counts = [0usize; 8];
    for key in 0u64..8_000 {
        let index = bulkheads.place(&key);
        assert_eq!(
            index,
            bulkheads.place(&key),
            "placement is a pure function of the key"
        );
        counts[index] += 1;
    }
    for count in counts {
        assert!((800..=1_200).contains(&count), "{counts:?}");
    }
    let zero = BulkheadConfig {
        count: 0,
        ..BulkheadConfig::default()
    };
    assert!(matches!(
        Bulkheads::new(&zero),
        Err(SupervisorError::InvalidConfig { .. })
    ));
}

#[tokio::test]
async fn a_full_bulkhead_refuses_instead_of_spilling_over() {
    let config = BulkheadConfig {
        count: 2,
        max_children: 3,
        ..BulkheadConfig::default()
    };
    let (bulkheads, supervisors) = Bulkheads::new(&config).unwrap();
    let mut root = Supervisor::new("root");
    for s in supervisors {
        root = root.child(ChildSpec::supervisor(s));
    }
    let (root, task) = root.spawn();
    for i in 0..3 {
        bulkheads
            .start_child_in(1, idle(format!("c{i}")))
            .await
            .unwrap();
    }
    assert_eq!(
        bulkheads.start_child_in(1, idle("c3".into())).await,
        Err(SupervisorError::Full {
            name: "bulkhead-1".into(),
            max: 3
        })
    );
    bulkheads
        .start_child_in(0, idle("c3".into()))
        .await
        .unwrap();
    let status = bulkheads.status();
    assert_eq!((status[0].active, status[1].active), (1, 3));
    assert_eq!(status[1].max, 3);
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json[1]["active"], 3);

    root.shutdown();
    task.await.unwrap().unwrap();
    assert!(
        bulkheads
            .status()
            .iter()
            .all(|b| b.active == 0 && !b.running)
    );
}

/// Four bulkheads under one root, five permanent workers in each. Every worker of
/// bulkhead 2 panics at once: bulkhead 2 spends its restart budget, ends, and is restarted
/// by the root. Nothing outside bulkhead 2 is stopped, restarted or disturbed.
#[tokio::test]
async fn failures_injected_across_one_bulkhead_stop_at_that_bulkhead() {
    const HEADS: usize = 4;
    const WORKERS: usize = 5;
    let config = BulkheadConfig {
        count: HEADS,
        max_children: 100,
        intensity: Intensity::new(3, Duration::from_secs(10)).unwrap(),
        ..BulkheadConfig::default()
    };
    let (bulkheads, supervisors) = Bulkheads::new(&config).unwrap();
    let mut root =
        Supervisor::new("root").intensity(Intensity::new(5, Duration::from_secs(10)).unwrap());
    for s in supervisors {
        root = root.child(ChildSpec::supervisor(s));
    }
    let (root, task) = root.spawn();

    // One crash switch per bulkhead; a worker panics when its bulkhead's switch moves.
    let switches: Vec<watch::Sender<u32>> = (0..HEADS).map(|_| watch::channel(0).0).collect();
    let starts: Vec<Arc<AtomicU32>> = (0..HEADS * WORKERS)
        .map(|_| Arc::new(AtomicU32::new(0)))
        .collect();
    for head in 0..HEADS {
        for w in 0..WORKERS {
            let crash = switches[head].clone();
            let started = starts[head * WORKERS + w].clone();
            let spec = ChildSpec::worker(format!("worker-{head}-{w}"), move |ctx| {
                started.fetch_add(1, Ordering::SeqCst);
                let mut crashed = crash.subscribe();
                async move {
                    tokio::select! {
                        () = ctx.shutdown_requested() => {}
                        _ = crashed.changed() => panic!("injected crash"),
                    }
                }
            });
            bulkheads.start_child_in(head, spec).await.unwrap();
        }
    }
    // A worker subscribes to its switch in its start function, inside its task.
    eventually("all workers up", || {
        starts.iter().all(|s| s.load(Ordering::SeqCst) == 1)
    })
    .await;

    switches[2].send_modify(|n| *n += 1);
    eventually("bulkhead 2 restarted by the root", || {
        let b = &bulkheads.status()[2];
        b.incarnations == 2 && b.running
    })
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    let status = bulkheads.status();
    let crashed = &status[2];
    assert!(crashed.panics >= 4, "{crashed:?}");
    assert_eq!(
        crashed.restarts, 3,
        "its budget: three restarts, then it gave up"
    );
    assert_eq!(
        crashed.active, 0,
        "its dynamic children went with it, as in OTP"
    );
    for (index, b) in status.iter().enumerate().filter(|(i, _)| *i != 2) {
        assert_eq!(
            (b.active, b.restarts, b.panics, b.failures, b.incarnations),
            (WORKERS, 0, 0, 0, 1),
            "bulkhead {index} was disturbed: {b:?}"
        );
    }
    for head in (0..HEADS).filter(|h| *h != 2) {
        for w in 0..WORKERS {
            assert_eq!(starts[head * WORKERS + w].load(Ordering::SeqCst), 1);
        }
    }
    let root_status = root.status();
    assert_eq!((root_status.failures, root_status.restarts), (1, 1));
    assert!(
        root_status.running,
        "the root stays up: the cascade stopped at bulkhead 2"
    );
    // Bulkhead 2 takes new children again.
    bulkheads
        .start_child_in(2, idle("fresh".into()))
        .await
        .unwrap();

    root.shutdown();
    task.await.unwrap().unwrap();
}
