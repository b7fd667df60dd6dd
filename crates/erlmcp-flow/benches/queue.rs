//! Outbound queue throughput against `tokio::sync::mpsc`, in the shapes the session
//! engine uses: producers push frames, the writer drains a batch per write.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use erlmcp_flow::{BudgetConfig, MemoryBudget, OutboundQueue, QueueConfig};
use tokio::sync::mpsc;

const CAP: usize = 1000;
const BATCH: usize = 256;
const FRAME: Bytes = Bytes::from_static(&[b'x'; 64]);

fn queues() -> OutboundQueue {
    let budget = MemoryBudget::new(&BudgetConfig::default()).unwrap();
    OutboundQueue::new(&QueueConfig::default())
        .unwrap()
        .budget(budget)
}

/// One thread: push a batch, drain it in one call.
fn same_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue_same_thread_batch256");
    group.throughput(Throughput::Elements(BATCH as u64));

    let (tx, mut rx) = queues().channel::<Bytes>(1);
    let mut buf = Vec::with_capacity(BATCH);
    group.bench_function("flow_try_push_drain_into", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                tx.try_push(FRAME.clone()).unwrap();
            }
            buf.clear();
            black_box(rx.drain_into(&mut buf, BATCH));
        })
    });

    let (tx, mut rx) = mpsc::channel::<Bytes>(CAP);
    group.bench_function("tokio_mpsc_try_send_try_recv", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                tx.try_send(FRAME.clone()).unwrap();
            }
            buf.clear();
            while let Ok(frame) = rx.try_recv() {
                buf.push(frame);
            }
            black_box(buf.len());
        })
    });
    group.finish();
}

/// Producers and a batching writer on a two-worker runtime.
fn cross_task(c: &mut Criterion, producers: usize) {
    const PER_ITER: usize = 100_000;
    let mut group = c.benchmark_group(format!("queue_{producers}_producers_to_writer"));
    group.throughput(Throughput::Elements(PER_ITER as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let per_producer = PER_ITER / producers;

    group.bench_function("flow_push_recv_many", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += runtime.block_on(async {
                    let (tx, mut rx) = queues().channel::<Bytes>(1);
                    let start = Instant::now();
                    for _ in 0..producers {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            for _ in 0..per_producer {
                                tx.push(FRAME.clone()).await.unwrap();
                            }
                        });
                    }
                    drop(tx);
                    let mut buf = Vec::with_capacity(BATCH);
                    let mut got = 0;
                    loop {
                        buf.clear();
                        let n = rx.recv_many(&mut buf, BATCH).await;
                        if n == 0 {
                            break;
                        }
                        got += n;
                    }
                    assert_eq!(got, per_producer * producers);
                    start.elapsed()
                });
            }
            total
        })
    });

    group.bench_function("tokio_mpsc_send_recv_many", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += runtime.block_on(async {
                    let (tx, mut rx) = mpsc::channel::<Bytes>(CAP);
                    let start = Instant::now();
                    for _ in 0..producers {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            for _ in 0..per_producer {
                                tx.send(FRAME.clone()).await.unwrap();
                            }
                        });
                    }
                    drop(tx);
                    let mut buf = Vec::with_capacity(BATCH);
                    let mut got = 0;
                    loop {
                        buf.clear();
                        let n = rx.recv_many(&mut buf, BATCH).await;
                        if n == 0 {
                            break;
                        }
                        got += n;
                    }
                    assert_eq!(got, per_producer * producers);
                    start.elapsed()
                });
            }
            total
        })
    });
    group.finish();
}

fn one_producer(c: &mut Criterion) {
    cross_task(c, 1);
}

fn four_producers(c: &mut Criterion) {
    cross_task(c, 4);
}

criterion_group!(benches, same_thread, one_producer, four_producers);
criterion_main!(benches);
