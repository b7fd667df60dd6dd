//! Circuit breaker, backoff, retry and the tower services: behaviour, timing (with a
//! paused tokio clock) and properties.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use erlmcp_flow::{
    Backoff, BackoffConfig, BreakerConfig, BreakerState, CircuitBreaker, CircuitBreakerLayer,
    FlowError, Permit, Retry, RetryError, RetryPolicy,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::time::{Instant, advance};
use tower::{Layer, Service, ServiceExt, service_fn};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn breaker(config: &BreakerConfig) -> CircuitBreaker {
    CircuitBreaker::with_seed("tcp://test", config, 42).unwrap()
}

fn fail(breaker: &CircuitBreaker, n: u32) {
    for _ in 0..n {
        breaker.acquire().unwrap().failure();
    }
}

#[test]
fn invalid_config_is_refused() {
    let config = BreakerConfig {
        failure_threshold: 0,
        ..BreakerConfig::default()
    };
    assert_eq!(
        CircuitBreaker::new("x", &config).unwrap_err().field(),
        "breaker.failure_threshold"
    );
}

#[tokio::test(start_paused = true)]
async fn opens_after_threshold_failures_within_the_window() {
    let breaker = breaker(&BreakerConfig::default());
    fail(&breaker, 4);
    assert_eq!(breaker.stats().failures_in_window, 4);
    // The window slides: those four fall out of it.
    advance(Duration::from_secs(30)).await;
    fail(&breaker, 1);
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(breaker.stats().failures_in_window, 1);
    // Successes do not reset the count.
    breaker.acquire().unwrap().success();
    advance(Duration::from_secs(29)).await;
    fail(&breaker, 3);
    assert_eq!(breaker.state(), BreakerState::Closed);
    fail(&breaker, 1);
    assert_eq!(breaker.state(), BreakerState::Open);
    let stats = breaker.stats();
    assert_eq!((stats.opened_total, stats.consecutive_trips), (1, 1));
    assert!(stats.last_failure.is_some());
}

#[tokio::test(start_paused = true)]
async fn open_fails_fast_without_calling_the_inner_service() {
    let breaker = breaker(&BreakerConfig::default());
    let calls = Arc::new(AtomicU32::new(0));
    let mut service = CircuitBreakerLayer::new(breaker.clone()).layer(service_fn({
        let calls = calls.clone();
        move |_: ()| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(std::io::Error::other("connection refused")) }
        }
    }));
    for _ in 0..5 {
        let err = service.ready().await.unwrap().call(()).await.unwrap_err();
        assert!(
            err.downcast_ref::<std::io::Error>().is_some(),
            "inner errors pass through"
        );
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    for _ in 0..100 {
        let err = service.ready().await.unwrap().call(()).await.unwrap_err();
        match FlowError::find(&*err) {
            Some(FlowError::CircuitOpen {
                retry_after: Some(after),
            }) => {
                assert!(*after <= ms(100));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        5,
        "no call reached the dead server while open"
    );
    assert_eq!(breaker.stats().rejected_total, 100);
}

#[tokio::test(start_paused = true)]
async fn half_open_after_the_backoff_then_closed_on_success() {
    let breaker = breaker(&BreakerConfig::default());
    let mut events = breaker.subscribe();
    fail(&breaker, 5);
    let opened = events.try_recv().unwrap();
    assert_eq!(
        (opened.from, opened.to, opened.failures),
        (BreakerState::Closed, BreakerState::Open, 5)
    );
    assert_eq!(&*opened.breaker, "tcp://test");
    assert!(opened.last_failure.is_some());
    let open_for = opened.open_for.unwrap();
    assert!(
        open_for <= ms(100),
        "first opening is a full-jitter delay of at most the base"
    );
    assert_eq!(
        breaker.retry_after(),
        Some(open_for).filter(|d| !d.is_zero())
    );

    if !open_for.is_zero() {
        advance(open_for - Duration::from_nanos(1)).await;
        assert!(
            breaker.acquire().is_err(),
            "still open just before the deadline"
        );
    }
    advance(Duration::from_nanos(1)).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    let probe = breaker.acquire().unwrap();
    assert!(probe.is_probe());
    assert_eq!(
        breaker.acquire().unwrap_err(),
        FlowError::CircuitOpen { retry_after: None },
        "one probe at a time by default"
    );
    probe.success();
    assert_eq!(breaker.state(), BreakerState::Closed);

    let half = events.try_recv().unwrap();
    assert_eq!(
        (half.from, half.to),
        (BreakerState::Open, BreakerState::HalfOpen)
    );
    let closed = events.try_recv().unwrap();
    assert_eq!(
        (closed.from, closed.to),
        (BreakerState::HalfOpen, BreakerState::Closed)
    );
    assert_eq!(breaker.stats().consecutive_trips, 0);
}

#[tokio::test(start_paused = true)]
async fn failed_probes_reopen_with_growing_capped_backoff() {
    let breaker = breaker(&BreakerConfig::default());
    let backoff = Backoff::new(&BackoffConfig::default()).unwrap();
    let mut events = breaker.subscribe();
    fail(&breaker, 5);
    for trip in 1..=20u32 {
        let opened = loop {
            let event = events.try_recv().unwrap();
            if event.to == BreakerState::Open {
                break event;
            }
        };
        let open_for = opened.open_for.unwrap();
        assert!(
            open_for <= backoff.ceiling(trip - 1),
            "trip {trip}: {open_for:?}"
        );
        assert!(open_for <= Duration::from_secs(30));
        assert_eq!(breaker.stats().consecutive_trips, trip);
        advance(open_for).await;
        breaker.acquire().unwrap().failure();
    }
}

#[tokio::test(start_paused = true)]
async fn several_probes_must_all_succeed_and_abandoned_ones_free_their_slot() {
    let config = BreakerConfig {
        half_open_probes: 3,
        ..BreakerConfig::default()
    };
    let breaker = breaker(&config);
    fail(&breaker, 5);
    advance(ms(100)).await;
    let p1 = breaker.acquire().unwrap();
    let p2 = breaker.acquire().unwrap();
    let p3 = breaker.acquire().unwrap();
    assert!(breaker.acquire().is_err());
    drop(p3); // cancelled: neither success nor failure
    let p3 = breaker.acquire().unwrap();
    p1.success();
    p2.success();
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    p3.success();
    assert_eq!(breaker.state(), BreakerState::Closed);

    // A late verdict from an earlier period changes nothing.
    fail(&breaker, 5);
    advance(Duration::from_secs(1)).await;
    let a = breaker.acquire().unwrap();
    let b = breaker.acquire().unwrap();
    a.failure();
    assert_ne!(breaker.state(), BreakerState::Closed);
    b.success();
    assert_ne!(breaker.state(), BreakerState::Closed);
    assert_eq!(breaker.stats().consecutive_trips, 2);
}

#[tokio::test(start_paused = true)]
async fn call_reports_outcomes_and_never_polls_a_refused_future() {
    let breaker = breaker(&BreakerConfig {
        failure_threshold: 2,
        ..BreakerConfig::default()
    });
    assert_eq!(breaker.call(async { Ok::<_, &str>(7) }).await, Ok(Ok(7)));
    assert_eq!(
        breaker.call(async { Err::<(), _>("a") }).await,
        Ok(Err("a"))
    );
    assert_eq!(
        breaker.call(async { Err::<(), _>("b") }).await,
        Ok(Err("b"))
    );
    assert_eq!(breaker.state(), BreakerState::Open);
    let polled = std::sync::atomic::AtomicBool::new(false);
    let refused = breaker
        .call(async {
            polled.store(true, Ordering::SeqCst);
            Ok::<_, &str>(())
        })
        .await
        .unwrap_err();
    assert!(matches!(refused, FlowError::CircuitOpen { .. }));
    assert!(!polled.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn reset_closes_the_breaker() {
    let breaker = breaker(&BreakerConfig::default());
    fail(&breaker, 5);
    breaker.reset();
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert!(breaker.acquire().is_ok());
    assert_eq!(breaker.stats().failures_in_window, 0);
}

#[tokio::test(start_paused = true)]
async fn a_service_probe_closes_the_breaker_and_ready_errors_count() {
    let breaker = breaker(&BreakerConfig {
        failure_threshold: 1,
        ..BreakerConfig::default()
    });
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut service = CircuitBreakerLayer::new(breaker.clone()).layer(service_fn({
        let healthy = healthy.clone();
        move |n: u32| {
            let ok = healthy.load(Ordering::SeqCst);
            async move {
                if ok {
                    Ok(n)
                } else {
                    Err(std::io::Error::other("down"))
                }
            }
        }
    }));
    assert!(service.ready().await.unwrap().call(1).await.is_err());
    assert_eq!(breaker.state(), BreakerState::Open);
    healthy.store(true, Ordering::SeqCst);
    advance(ms(100)).await;
    assert_eq!(service.ready().await.unwrap().call(2).await.unwrap(), 2);
    assert_eq!(breaker.state(), BreakerState::Closed);

    // An inner service whose poll_ready fails counts as a failure.
    struct Broken;
    impl Service<()> for Broken {
        type Response = ();
        type Error = std::io::Error;
        type Future = std::future::Ready<Result<(), std::io::Error>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Self::Error>> {
            std::task::Poll::Ready(Err(std::io::Error::other("broken")))
        }
        fn call(&mut self, (): ()) -> Self::Future {
            std::future::ready(Ok(()))
        }
    }
    let mut broken = CircuitBreakerLayer::new(breaker.clone()).layer(Broken);
    assert!(broken.ready().await.is_err());
    assert_eq!(breaker.state(), BreakerState::Open);
}

// ---- retry ----

fn retry(max_attempts: u32) -> Retry {
    Retry::new(&RetryPolicy {
        max_attempts,
        backoff: BackoffConfig::default(),
    })
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn retry_succeeds_after_transient_failures() {
    let breaker = breaker(&BreakerConfig::default());
    let calls = AtomicU32::new(0);
    let result = erlmcp_flow::retry(&breaker, &retry(5), |attempt| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        async move {
            assert_eq!(attempt, n);
            if n < 2 { Err("flaky") } else { Ok(n) }
        }
    })
    .await;
    assert_eq!(result.unwrap(), 2);
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn retry_against_a_dead_server_is_bounded_by_the_breaker() {
    let breaker = breaker(&BreakerConfig {
        failure_threshold: 3,
        ..BreakerConfig::default()
    });
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let mut rng = SmallRng::seed_from_u64(1);
    let result = retry(30)
        .run_with_rng(
            &breaker,
            |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err::<(), _>("refused") }
            },
            |_| true,
            &mut rng,
        )
        .await;
    let err = result.unwrap_err();
    assert_eq!(err.attempts(), 30);
    let calls = calls.load(Ordering::SeqCst);
    // Three failures open the breaker; after that only one probe per backoff gets out.
    let trips = breaker.stats().opened_total as u32;
    assert_eq!(calls, 3 + trips - 1);
    assert!(
        calls < 30,
        "the breaker refused most attempts: {calls} calls"
    );
    assert!(Instant::now() - started < Duration::from_secs(30 * 30));
}

#[tokio::test(start_paused = true)]
async fn retry_stops_at_a_permanent_error_and_reports_refusals() {
    let breaker = breaker(&BreakerConfig::default());
    let err = retry(5)
        .run(
            &breaker,
            |_| async { Err::<(), _>("bad request") },
            |_| false,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        RetryError::Failed {
            attempts: 1,
            last: "bad request"
        }
    ));

    fail(&breaker, 4); // the permanent error above was the first failure
    assert_eq!(breaker.state(), BreakerState::Open);
    let err = retry(1)
        .run(&breaker, |_| async { Ok::<_, &str>(()) }, |_| true)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        RetryError::CircuitOpen {
            attempts: 1,
            last: None
        }
    ));
}

// ---- properties ----

proptest! {
    /// Every delay lies in `[0, min(cap, base × 2ⁿ)]`, and the ceilings never shrink.
    #[test]
    fn backoff_delays_stay_within_bounds(
        base_ms in 1u64..10_000,
        cap_factor in 1u64..10_000,
        attempt in 0u32..300,
        seed in any::<u64>(),
    ) {
        let base = ms(base_ms);
        let cap = ms(base_ms * cap_factor);
        let backoff = Backoff::new(&BackoffConfig { base, cap }).unwrap();
        let mut rng = SmallRng::seed_from_u64(seed);
        let bound = if attempt >= 64 {
            cap
        } else {
            let grown = u128::from(base_ms) << attempt;
            ms(u64::try_from(grown.min(u128::from(base_ms * cap_factor))).unwrap())
        };
        prop_assert_eq!(backoff.ceiling(attempt), bound);
        for _ in 0..16 {
            let delay = backoff.delay(attempt, &mut rng);
            prop_assert!(delay <= bound, "{:?} > {:?}", delay, bound);
        }
        prop_assert!(backoff.ceiling(attempt) <= backoff.ceiling(attempt.saturating_add(1)));
    }
}

#[derive(Debug, Clone)]
enum BreakerOp {
    Call { fail: bool },
    Hold,
    Resolve { index: usize, fail: bool },
    Abandon { index: usize },
    Advance { ms: u64 },
}

fn breaker_op() -> impl Strategy<Value = BreakerOp> {
    prop_oneof![
        4 => any::<bool>().prop_map(|fail| BreakerOp::Call { fail }),
        1 => Just(BreakerOp::Hold),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(index, fail)| BreakerOp::Resolve { index, fail }),
        1 => any::<usize>().prop_map(|index| BreakerOp::Abandon { index }),
        3 => (0u64..3_000).prop_map(|ms| BreakerOp::Advance { ms }),
    ]
}

struct Held {
    permit: Permit,
    episode: u64,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Against any interleaving of calls, outcomes, cancellations and time:
    /// - while closed, the breaker opens exactly when `failure_threshold` failures fall in
    ///   one window, so no more failing attempts than that get through per window;
    /// - an open breaker admits nothing before its deadline, and each opening lasts at
    ///   most the backoff ceiling of its trip count;
    /// - a half-open breaker has at most `half_open_probes` probes out at once.
    #[test]
    fn breaker_never_admits_more_than_configured(
        threshold in 1u32..6,
        window_ms in 100u64..10_000,
        probes in 1u32..4,
        base_ms in 1u64..500,
        cap_factor in 1u64..50,
        seed in any::<u64>(),
        ops in prop::collection::vec(breaker_op(), 1..300),
    ) {
        let config = BreakerConfig {
            failure_threshold: threshold,
            window: ms(window_ms),
            half_open_probes: probes,
            backoff: BackoffConfig { base: ms(base_ms), cap: ms(base_ms * cap_factor) },
        };
        let backoff = Backoff::new(&config.backoff).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async move {
            let breaker = CircuitBreaker::with_seed("prop", &config, seed).unwrap();
            let mut events = breaker.subscribe();
            let mut held: Vec<Held> = Vec::new();
            let mut window: VecDeque<Instant> = VecDeque::new();
            let mut probes_out = 0u32;
            let mut episode = 0u64;
            let mut open_until: Option<Instant> = None;

            for op in ops {
                let now = Instant::now();
                let closed_before = breaker.state() == BreakerState::Closed;
                let mut report: Option<(Held, Option<bool>)> = None;
                match op {
                    BreakerOp::Advance { ms: n } => advance(ms(n)).await,
                    BreakerOp::Call { fail } => {
                        let granted = acquire(&breaker, closed_before, now, open_until)?;
                        drain_events(&mut events, &breaker, &backoff, &mut window, &mut probes_out, &mut episode, &mut open_until)?;
                        if let Some(permit) = granted {
                            count_probe(&permit, &mut probes_out, probes)?;
                            report = Some((Held { permit, episode }, Some(fail)));
                        }
                    }
                    BreakerOp::Hold => {
                        let granted = acquire(&breaker, closed_before, now, open_until)?;
                        drain_events(&mut events, &breaker, &backoff, &mut window, &mut probes_out, &mut episode, &mut open_until)?;
                        if let Some(permit) = granted {
                            count_probe(&permit, &mut probes_out, probes)?;
                            held.push(Held { permit, episode });
                        }
                    }
                    BreakerOp::Resolve { index, fail } if !held.is_empty() => {
                        let index = index % held.len();
                        report = Some((held.swap_remove(index), Some(fail)));
                    }
                    BreakerOp::Abandon { index } if !held.is_empty() => {
                        let index = index % held.len();
                        report = Some((held.swap_remove(index), None));
                    }
                    _ => {}
                }

                if let Some((granted, verdict)) = report {
                    let now = Instant::now();
                    let is_probe = granted.permit.is_probe();
                    let current = granted.episode == episode;
                    let state = breaker.state();
                    match verdict {
                        None => {
                            drop(granted.permit);
                            if is_probe && current && state == BreakerState::HalfOpen {
                                probes_out -= 1;
                            }
                        }
                        Some(true) => {
                            granted.permit.failure();
                            if state == BreakerState::Closed {
                                while window.front().is_some_and(|t| now - *t >= config.window) {
                                    window.pop_front();
                                }
                                window.push_back(now);
                                let should_open = window.len() as u32 >= threshold;
                                prop_assert_eq!(
                                    breaker.state() != BreakerState::Closed,
                                    should_open,
                                    "{} failures in the window, threshold {}", window.len(), threshold
                                );
                            }
                        }
                        Some(false) => granted.permit.success(),
                    }
                    drain_events(&mut events, &breaker, &backoff, &mut window, &mut probes_out, &mut episode, &mut open_until)?;
                }
            }
            Ok(())
        })?;
    }
}

/// Acquires a permit and checks that the breaker's answer fits its state.
fn acquire(
    breaker: &CircuitBreaker,
    closed_before: bool,
    now: Instant,
    open_until: Option<Instant>,
) -> Result<Option<Permit>, TestCaseError> {
    match breaker.acquire() {
        Ok(permit) => {
            if permit.is_probe() {
                prop_assert!(
                    open_until.is_none_or(|until| now >= until),
                    "a probe before the open deadline"
                );
            } else {
                prop_assert!(closed_before, "a non-probe permit while not closed");
            }
            Ok(Some(permit))
        }
        Err(refused) => {
            prop_assert!(!closed_before, "refused while closed");
            prop_assert!(refused.is_transient());
            Ok(None)
        }
    }
}

fn count_probe(permit: &Permit, probes_out: &mut u32, probes: u32) -> Result<(), TestCaseError> {
    if permit.is_probe() {
        *probes_out += 1;
        prop_assert!(
            *probes_out <= probes,
            "{} probes out, {} allowed",
            probes_out,
            probes
        );
    }
    Ok(())
}

/// Applies the breaker's transitions to the model and checks each opening's length.
#[allow(clippy::too_many_arguments)]
fn drain_events(
    events: &mut tokio::sync::broadcast::Receiver<erlmcp_flow::BreakerEvent>,
    breaker: &CircuitBreaker,
    backoff: &Backoff,
    window: &mut VecDeque<Instant>,
    probes_out: &mut u32,
    episode: &mut u64,
    open_until: &mut Option<Instant>,
) -> Result<(), TestCaseError> {
    while let Ok(event) = events.try_recv() {
        *episode += 1;
        *probes_out = 0;
        window.clear();
        match event.to {
            BreakerState::Open => {
                let open_for = event.open_for.unwrap_or_default();
                let trips = breaker.stats().consecutive_trips;
                prop_assert!(open_for <= backoff.ceiling(trips.saturating_sub(1)));
                *open_until = Some(Instant::now() + open_for);
            }
            BreakerState::HalfOpen | BreakerState::Closed => *open_until = None,
        }
    }
    Ok(())
}
