//! The circuit breaker's cost: the fail-fast path while open (what a dead server costs a
//! client per refused call) and the overhead of a call while closed.

#![allow(clippy::unwrap_used, missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use erlmcp_flow::{
    BackoffConfig, BreakerConfig, BreakerState, CircuitBreaker, CircuitBreakerLayer,
};
use tower::{Layer, Service, service_fn};

fn open_breaker() -> CircuitBreaker {
    // A one-hour backoff keeps it open for the whole run.
    let config = BreakerConfig {
        backoff: BackoffConfig {
            base: Duration::from_secs(3600),
            cap: Duration::from_secs(3600),
        },
        ..BreakerConfig::default()
    };
    for seed in 0.. {
        let breaker = CircuitBreaker::with_seed("bench", &config, seed).unwrap();
        for _ in 0..5 {
            breaker.acquire().unwrap().failure();
        }
        if breaker.retry_after().unwrap_or_default() > Duration::from_secs(600) {
            return breaker;
        }
    }
    unreachable!()
}

fn breaker(c: &mut Criterion) {
    let mut group = c.benchmark_group("breaker");

    let open = open_breaker();
    assert_eq!(open.state(), BreakerState::Open);
    group.bench_function("open_fail_fast", |b| {
        b.iter(|| black_box(open.acquire().is_err()))
    });

    // What one clock read costs here: the open path reads the clock once per refusal.
    group.bench_function("clock_read_baseline", |b| {
        b.iter(|| black_box(tokio::time::Instant::now()))
    });

    let closed = CircuitBreaker::new("bench", &BreakerConfig::default()).unwrap();
    group.bench_function("closed_acquire_success", |b| {
        b.iter(|| closed.acquire().unwrap().success())
    });

    // Through the tower service: poll_ready + call + poll of the response future.
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let inner = service_fn(|n: u64| async move { Ok::<_, std::io::Error>(n) });
    let mut open_service = CircuitBreakerLayer::new(open.clone()).layer(inner);
    group.bench_function("service_open_fail_fast", |b| {
        b.iter(|| {
            assert!(matches!(
                open_service.poll_ready(&mut cx),
                Poll::Ready(Ok(()))
            ));
            let future = pin!(open_service.call(1));
            black_box(matches!(future.poll(&mut cx), Poll::Ready(Err(_))))
        })
    });
    let mut closed_service = CircuitBreakerLayer::new(closed.clone()).layer(inner);
    group.bench_function("service_closed_call", |b| {
        b.iter(|| {
            assert!(matches!(
                closed_service.poll_ready(&mut cx),
                Poll::Ready(Ok(()))
            ));
            let future = pin!(closed_service.call(1));
            black_box(matches!(future.poll(&mut cx), Poll::Ready(Ok(1))))
        })
    });
    let mut bare = inner;
    group.bench_function("service_bare_call", |b| {
        b.iter(|| {
            assert!(matches!(bare.poll_ready(&mut cx), Poll::Ready(Ok(()))));
            let future = pin!(bare.call(1));
            black_box(matches!(future.poll(&mut cx), Poll::Ready(Ok(1))))
        })
    });
    group.finish();
}

criterion_group!(benches, breaker);
criterion_main!(benches);
