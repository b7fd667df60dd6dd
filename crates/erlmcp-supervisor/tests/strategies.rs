//! Strategy semantics, restart types, restart intensity and escalation, backoff, ordered
//! shutdown and dynamic children — each observed through a log the children write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use erlmcp_supervisor::{
    Backoff, ChildSpec, Intensity, Restart, Shutdown, Strategy, Supervisor, SupervisorError,
};
use parking_lot_free::Log;
use tokio::sync::watch;
use tokio::time::Instant;

const LIMIT: Duration = Duration::from_secs(10);

mod parking_lot_free {
    use std::sync::{Arc, Mutex};

    /// What the children did, in order.
    #[derive(Clone, Default)]
    pub struct Log(Arc<Mutex<Vec<String>>>);

    impl Log {
        pub fn push(&self, entry: String) {
            self.0.lock().unwrap().push(entry);
        }
        pub fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
        pub fn len(&self) -> usize {
            self.0.lock().unwrap().len()
        }
        pub fn count(&self, entry: &str) -> usize {
            self.0
                .lock()
                .unwrap()
                .iter()
                .filter(|e| *e == entry)
                .count()
        }
    }
}

/// Per-child crash switches: bumping a child's channel makes its running instance fail.
struct Crashes(std::collections::HashMap<&'static str, watch::Sender<u32>>);

impl Crashes {
    fn new(ids: &[&'static str]) -> Self {
        Crashes(ids.iter().map(|id| (*id, watch::channel(0).0)).collect())
    }
    fn crash(&self, id: &str) {
        self.0[id].send_modify(|n| *n += 1);
    }
    fn probe(&self, id: &'static str, log: &Log) -> ChildSpec {
        let log = log.clone();
        let crash = self.0[id].clone();
        ChildSpec::worker(id, move |ctx| {
            log.push(format!("start:{id}"));
            let log = log.clone();
            let mut crashed = crash.subscribe();
            async move {
                tokio::select! {
                    () = ctx.shutdown_requested() => {
                        log.push(format!("stop:{id}"));
                        Ok(())
                    }
                    _ = crashed.changed() => Err(std::io::Error::other(format!("{id} crashed"))),
                }
            }
        })
    }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn generous() -> Intensity {
    Intensity::new(10, Duration::from_secs(10)).unwrap()
}

#[tokio::test]
async fn one_for_one_restarts_only_the_failed_child() {
    let log = Log::default();
    let crashes = Crashes::new(&["a", "b", "c"]);
    let (sup, task) = Supervisor::new("s")
        .strategy(Strategy::OneForOne)
        .intensity(generous())
        .child(crashes.probe("a", &log))
        .child(crashes.probe("b", &log))
        .child(crashes.probe("c", &log))
        .spawn();
    eventually("three starts", || log.len() == 3).await;
    assert_eq!(log.take(), ["start:a", "start:b", "start:c"]);

    crashes.crash("b");
    eventually("the restart", || log.len() == 1).await;
    assert_eq!(
        log.take(),
        ["start:b"],
        "only b is restarted; a and c are not stopped"
    );
    let status = sup.status();
    assert_eq!(
        (status.failures, status.restarts, status.active_children),
        (1, 1, 3)
    );

    sup.shutdown();
    task.await.unwrap().unwrap();
    assert_eq!(log.take(), ["stop:c", "stop:b", "stop:a"]);
}

#[tokio::test]
async fn one_for_all_restarts_every_child() {
    let log = Log::default();
    let crashes = Crashes::new(&["a", "b", "c"]);
    let (sup, task) = Supervisor::new("s")
        .strategy(Strategy::OneForAll)
        .intensity(generous())
        .child(crashes.probe("a", &log))
        .child(crashes.probe("b", &log))
        .child(crashes.probe("c", &log))
        .spawn();
    eventually("three starts", || log.len() == 3).await;
    log.take();

    crashes.crash("b");
    eventually("three restarts", || log.len() == 5).await;
    // The survivors stop in reverse start order, then all start again in start order.
    assert_eq!(
        log.take(),
        ["stop:c", "stop:a", "start:a", "start:b", "start:c"]
    );
    assert_eq!(sup.status().restarts, 3);

    sup.shutdown();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn rest_for_one_restarts_the_failed_child_and_those_started_after_it() {
    let log = Log::default();
    let crashes = Crashes::new(&["a", "b", "c", "d"]);
    let (sup, task) = Supervisor::new("s")
        .strategy(Strategy::RestForOne)
        .intensity(generous())
        .child(crashes.probe("a", &log))
        .child(crashes.probe("b", &log))
        .child(crashes.probe("c", &log))
        .child(crashes.probe("d", &log))
        .spawn();
    eventually("four starts", || log.len() == 4).await;
    log.take();

    crashes.crash("b");
    eventually("three restarts", || log.len() == 5).await;
    assert_eq!(
        log.take(),
        ["stop:d", "stop:c", "start:b", "start:c", "start:d"],
        "a, started before b, is untouched"
    );
    // The restarted children keep their places: crashing d now restarts d alone.
    crashes.crash("d");
    eventually("one more restart", || log.len() == 1).await;
    assert_eq!(log.take(), ["start:d"]);

    sup.shutdown();
    task.await.unwrap().unwrap();
    assert_eq!(log.take(), ["stop:d", "stop:c", "stop:b", "stop:a"]);
}

#[tokio::test]
async fn a_panic_is_a_crash_of_that_child_not_of_the_process() {
    let runs = Arc::new(AtomicU32::new(0));
    let counted = runs.clone();
    let (sup, task) = Supervisor::new("s")
        .intensity(generous())
        .child(ChildSpec::worker("panics-in-its-future", move |ctx| {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run == 0 {
                    panic!("boom in the future");
                }
                ctx.shutdown_requested().await;
            }
        }))
        .child(ChildSpec::worker("panics-in-its-start-function", {
            let runs = Arc::new(AtomicU32::new(0));
            move |ctx: erlmcp_supervisor::ChildContext| {
                if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("boom before the future exists");
                }
                async move { ctx.shutdown_requested().await }
            }
        }))
        .spawn();
    eventually("both restarted", || sup.status().started == 4).await;
    let status = sup.status();
    assert_eq!(status.panics, 2);
    assert_eq!(status.restarts, 2);
    assert_eq!(status.active_children, 2);
    assert_eq!(status.crashes_in_window, 2);
    sup.shutdown();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn restart_types_decide_after_a_normal_exit_and_after_a_failure() {
    // Each child ends on its own right away: normally on odd runs, with an error on even.
    fn ends(
        id: &'static str,
        restart: Restart,
        fail_first: bool,
        runs: Arc<AtomicU32>,
    ) -> ChildSpec {
        ChildSpec::worker(id, move |ctx| {
            let run = runs.fetch_add(1, Ordering::SeqCst);
            async move {
                if run == 0 && fail_first {
                    return Err(std::io::Error::other("first run fails"));
                }
                if run == 0 {
                    return Ok(());
                }
                ctx.shutdown_requested().await;
                Ok(())
            }
        })
        .restart(restart)
    }
    let counters: Vec<Arc<AtomicU32>> = (0..5).map(|_| Arc::new(AtomicU32::new(0))).collect();
    let (sup, task) = Supervisor::new("s")
        .intensity(generous())
        .child(ends(
            "permanent-normal",
            Restart::Permanent,
            false,
            counters[0].clone(),
        ))
        .child(ends(
            "transient-normal",
            Restart::Transient,
            false,
            counters[1].clone(),
        ))
        .child(ends(
            "transient-failed",
            Restart::Transient,
            true,
            counters[2].clone(),
        ))
        .child(ends(
            "temporary-failed",
            Restart::Temporary,
            true,
            counters[3].clone(),
        ))
        .child(ends(
            "temporary-normal",
            Restart::Temporary,
            false,
            counters[4].clone(),
        ))
        .spawn();
    eventually("the restarts", || sup.status().started == 7).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let runs: Vec<u32> = counters.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert_eq!(runs, [2, 1, 2, 1, 1]);
    let children: Vec<String> = sup
        .children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        children,
        ["permanent-normal", "transient-failed"],
        "ended children that are not restarted are removed"
    );
    sup.shutdown();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn intensity_exceeded_escalates_to_the_parent() {
    let log = Log::default();
    let crashes = Crashes::new(&["sibling"]);
    let runs = Arc::new(AtomicU32::new(0));
    let counted = runs.clone();
    // Fails at once on its first three runs, then works.
    let inner = Supervisor::new("inner")
        .intensity(Intensity::new(2, Duration::from_secs(10)).unwrap())
        .child(ChildSpec::worker("flaky", move |ctx| {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < 3 {
                    return Err(std::io::Error::other("not yet"));
                }
                ctx.shutdown_requested().await;
                Ok(())
            }
        }));
    let inner_ref = inner.handle();
    let (parent, task) = Supervisor::new("parent")
        .intensity(Intensity::new(5, Duration::from_secs(10)).unwrap())
        .child(crashes.probe("sibling", &log))
        .child(ChildSpec::supervisor(inner))
        .spawn();
    eventually("the inner supervisor restarted by its parent", || {
        inner_ref.status().incarnations == 2 && runs.load(Ordering::SeqCst) == 4
    })
    .await;

    let inner_status = inner_ref.status();
    assert!(inner_status.running);
    assert_eq!(
        inner_status.failures, 3,
        "three failures: two restarts allowed, the third escalates"
    );
    let parent_status = parent.status();
    assert_eq!(
        parent_status.failures, 1,
        "the parent saw one failed child: the inner supervisor"
    );
    assert_eq!(parent_status.restarts, 1);
    assert_eq!(
        log.count("start:sibling"),
        1,
        "the sibling is not touched (one_for_one)"
    );

    parent.shutdown();
    task.await.unwrap().unwrap();
    assert!(!inner_ref.is_running());
}

#[tokio::test]
async fn a_top_level_supervisor_past_its_intensity_ends_with_an_error() {
    let started = Instant::now();
    let outcome = Supervisor::new("top")
        .intensity(Intensity::new(3, Duration::from_secs(10)).unwrap())
        .child(ChildSpec::worker("always-fails", |_ctx| async {
            Err::<(), _>(std::io::Error::other("no"))
        }))
        .run()
        .await;
    let err = outcome.unwrap_err();
    assert!(err.is_escalation(), "{err}");
    assert_eq!(
        err,
        SupervisorError::RestartIntensity {
            name: "top".into(),
            max_restarts: 3,
            period: Duration::from_secs(10)
        }
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn shutdown_is_ordered_and_kills_a_child_that_ignores_it() {
    let log = Log::default();
    let crashes = Crashes::new(&["a", "c"]);
    let stubborn = {
        let log = log.clone();
        ChildSpec::worker("b", move |_ctx| {
            log.push("start:b".to_owned());
            std::future::pending::<()>()
        })
        .shutdown(Shutdown::Timeout(Duration::from_millis(100)))
    };
    let (sup, task) = Supervisor::new("s")
        .child(crashes.probe("a", &log))
        .child(stubborn)
        .child(crashes.probe("c", &log))
        .spawn();
    eventually("three starts", || log.len() == 3).await;
    let began = Instant::now();
    sup.shutdown();
    task.await.unwrap().unwrap();
    let took = began.elapsed();
    assert_eq!(
        log.take(),
        ["start:a", "start:b", "start:c", "stop:c", "stop:a"]
    );
    assert!(
        took >= Duration::from_millis(100) && took < Duration::from_secs(2),
        "{took:?}"
    );
    let status = sup.status();
    assert_eq!((status.killed, status.normal_exits), (1, 2));
    assert!(!status.running);
}

#[tokio::test]
async fn backoff_spaces_restarts_out() {
    let times = Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
    let stamped = times.clone();
    let (sup, task) = Supervisor::new("s")
        .intensity(generous())
        .backoff(Backoff::new(Duration::from_millis(40), Duration::from_millis(120)).unwrap())
        .child(ChildSpec::worker("fails", move |_ctx| {
            stamped.lock().unwrap().push(Instant::now());
            async { Err::<(), _>(std::io::Error::other("again")) }
        }))
        .spawn();
    eventually("five starts", || times.lock().unwrap().len() >= 5).await;
    sup.shutdown();
    task.await.unwrap().unwrap();
    let times = times.lock().unwrap().clone();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, nominal) in gaps.iter().zip([40u64, 80, 120, 120]) {
        assert!(*gap >= Duration::from_millis(nominal), "gaps {gaps:?}");
    }
}

#[tokio::test]
async fn dynamic_children_have_unique_ids_a_cap_and_can_be_terminated() {
    let (sup, task) = Supervisor::new("pool").max_children(2).spawn();
    let idle = |id: &'static str| {
        ChildSpec::oneshot(id, |ctx| async move { ctx.shutdown_requested().await })
    };
    sup.start_child(idle("a")).await.unwrap();
    assert_eq!(
        sup.start_child(idle("a")).await,
        Err(SupervisorError::AlreadyPresent { id: "a".into() })
    );
    sup.start_child(idle("b")).await.unwrap();
    assert_eq!(
        sup.start_child(idle("c")).await,
        Err(SupervisorError::Full {
            name: "pool".into(),
            max: 2
        })
    );
    assert_eq!(sup.status().active_children, 2);
    sup.terminate_child("a").await.unwrap();
    assert_eq!(
        sup.terminate_child("a").await,
        Err(SupervisorError::NotFound { id: "a".into() })
    );
    assert_eq!(
        sup.start_child(idle("d").restart(Restart::Permanent)).await,
        Err(SupervisorError::NotRestartable { id: "d".into() })
    );
    let ids: Vec<String> = sup
        .children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["b"]);

    sup.shutdown();
    task.await.unwrap().unwrap();
    assert_eq!(
        sup.start_child(idle("e")).await,
        Err(SupervisorError::NotRunning {
            name: "pool".into()
        })
    );
    assert_eq!(sup.status().active_children, 0);
}
