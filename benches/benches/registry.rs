//! The registry against the concurrent maps it could have been built on, under the load a
//! node's session table sees: lookups of live sessions mixed with sessions arriving and
//! leaving, on 1, 2 and 4 threads.
//!
//! ```text
//! cargo bench -p erlmcp-benches --bench registry            # everything (≈ 4 min)
//! cargo bench -p erlmcp-benches --bench registry -- read90  # one group
//! ```
//!
//! - `read90/*`: 90 % lookups of 100,000 live keys, 5 % inserts, 5 % removes.
//! - `churn50/*`: 50 % lookups, 25 % inserts, 25 % removes.
//! - `read100/*`: lookups only.
//! - `monitor/*`: one register → owner task ends → entry gone cycle, by guard
//!   ([`Registry::monitor`]) and by watcher task ([`Registry::watch`]), beside a bare
//!   spawn.
//! - `tail_latency` (not a criterion group; it prints a table): lookup latency
//!   percentiles under churn, every lookup timed, one lookup thread against one thread
//!   inserting and removing as fast as it can, 3 interleaved rounds of 2 s per contender,
//!   medians reported. All contenders hold the same `Arc` values, so the values' memory
//!   layout is the same for all.
//!
//! Contenders: erlmcp-registry with lookup metrics at the default sampling (1 in 128),
//! off, and timing every lookup (the cost of the metrics); `dashmap` 6 (sharded
//! `RwLock`s); `scc` 3 (lock-free reads, bucket locks); `papaya` 0.2 (lock-free, epoch
//! reclamation); and one `parking_lot::RwLock<HashMap>` as the unsharded baseline. Every
//! map uses foldhash and stores `Arc` handles, as the session table does; a lookup clones
//! the handle out. Throughput is total operations per second over all threads (the
//! machine this ran on has 2 cores, so 4 threads also measure preemption of lock
//! holders).

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use erlmcp_registry::{Kind, Registration, Registry};
use parking_lot::RwLock;

/// Live keys every lookup draws from.
const STABLE: u64 = 100_000;
/// Churn entries each thread keeps in flight (inserted, not yet removed).
const CHURN_WINDOW: usize = 1024;

type Handle = Arc<u64>;
type Hasher = foldhash::fast::RandomState;

/// What the bench needs from a map. `Token` is what an insert leaves the inserter: the
/// registry's guard, or the key for plain maps.
trait Map: Sync {
    type Token: Send;
    fn get(&self, key: u64) -> Option<Handle>;
    fn insert(&self, key: u64, value: Handle) -> Self::Token;
    fn remove(&self, token: Self::Token);
}

struct Ours(Registry<u64, Handle>);

impl Map for Ours {
    type Token = Registration<u64, Handle>;
    fn get(&self, key: u64) -> Option<Handle> {
        self.0.get(&key)
    }
    fn insert(&self, key: u64, value: Handle) -> Self::Token {
        self.0
            .insert(key, value, Kind::CONNECTION)
            .expect("churn keys are unique")
    }
    fn remove(&self, token: Self::Token) {
        drop(token);
    }
}

struct Dash(dashmap::DashMap<u64, Handle, Hasher>);

impl Map for Dash {
    type Token = u64;
    fn get(&self, key: u64) -> Option<Handle> {
        self.0.get(&key).map(|r| r.value().clone())
    }
    fn insert(&self, key: u64, value: Handle) -> u64 {
        self.0.entry(key).or_insert(value);
        key
    }
    fn remove(&self, key: u64) {
        self.0.remove(&key);
    }
}

struct Scc(scc::HashMap<u64, Handle, Hasher>);

impl Map for Scc {
    type Token = u64;
    fn get(&self, key: u64) -> Option<Handle> {
        self.0.read_sync(&key, |_, v| v.clone())
    }
    fn insert(&self, key: u64, value: Handle) -> u64 {
        let _ = self.0.insert_sync(key, value);
        key
    }
    fn remove(&self, key: u64) {
        self.0.remove_sync(&key);
    }
}

struct Papaya(papaya::HashMap<u64, Handle, Hasher>);

impl Map for Papaya {
    type Token = u64;
    fn get(&self, key: u64) -> Option<Handle> {
        self.0.pin().get(&key).cloned()
    }
    fn insert(&self, key: u64, value: Handle) -> u64 {
        let _ = self.0.pin().try_insert(key, value);
        key
    }
    fn remove(&self, key: u64) {
        self.0.pin().remove(&key);
    }
}

struct Single(RwLock<std::collections::HashMap<u64, Handle, Hasher>>);

impl Map for Single {
    type Token = u64;
    fn get(&self, key: u64) -> Option<Handle> {
        self.0.read().get(&key).cloned()
    }
    fn insert(&self, key: u64, value: Handle) -> u64 {
        self.0.write().entry(key).or_insert(value);
        key
    }
    fn remove(&self, key: u64) {
        self.0.write().remove(&key);
    }
}

/// xorshift64*: cheap, good enough to pick keys and operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// `iters` operations on each of `threads` threads, `read_pct` % of them lookups and the
/// rest inserts and removes keeping [`CHURN_WINDOW`] entries per thread in flight.
/// Returns the wall time from the common start to the last thread's end.
fn run<M: Map>(map: &M, threads: usize, iters: u64, read_pct: u64) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1));
                    let mut window: VecDeque<M::Token> = VecDeque::with_capacity(CHURN_WINDOW);
                    let base = (t as u64 + 1) << 40;
                    let mut next = 0u64;
                    // Fill the window before timing, so removes always have something.
                    while window.len() < CHURN_WINDOW / 2 {
                        next += 1;
                        window.push_back(map.insert(base + next, Arc::new(next)));
                    }
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        let r = rng.next();
                        if r % 100 < read_pct {
                            black_box(map.get((r >> 8) % STABLE));
                        } else if (r >> 40) & 1 == 0 && window.len() < CHURN_WINDOW
                            || window.is_empty()
                        {
                            next += 1;
                            window.push_back(map.insert(base + next, Arc::new(next)));
                        } else if let Some(token) = window.pop_front() {
                            map.remove(token);
                        }
                    }
                    let elapsed = start.elapsed();
                    for token in window {
                        map.remove(token);
                    }
                    elapsed
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("bench worker"))
            .max()
            .unwrap_or_default()
    })
}

fn prefill<M: Map>(map: &M) -> Vec<M::Token> {
    (0..STABLE).map(|k| map.insert(k, Arc::new(k))).collect()
}

fn ours(sample_every: u32) -> Ours {
    Ours(
        Registry::builder()
            .sample_every(sample_every)
            .build()
            .expect("valid registry settings"),
    )
}

fn bench_mix(c: &mut Criterion, name: &str, read_pct: u64) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for threads in [1usize, 2, 4] {
        group.throughput(Throughput::Elements(threads as u64));
        macro_rules! contender {
            ($label:expr, $map:expr) => {{
                let map = $map;
                let held = prefill(&map);
                group.bench_with_input(BenchmarkId::new($label, threads), &threads, |b, &t| {
                    b.iter_custom(|iters| run(&map, t, iters, read_pct))
                });
                for token in held {
                    map.remove(token);
                }
            }};
        }
        contender!(
            "erlmcp-registry",
            ours(erlmcp_registry::DEFAULT_SAMPLE_EVERY)
        );
        contender!("erlmcp-registry-metrics-off", ours(0));
        contender!("erlmcp-registry-time-every", ours(1));
        contender!(
            "dashmap",
            Dash(dashmap::DashMap::with_hasher(Hasher::default()))
        );
        contender!("scc", Scc(scc::HashMap::with_hasher(Hasher::default())));
        contender!(
            "papaya",
            Papaya(papaya::HashMap::with_hasher(Hasher::default()))
        );
        contender!(
            "rwlock-hashmap",
            Single(RwLock::new(std::collections::HashMap::with_hasher(
                Hasher::default()
            )))
        );
    }
    group.finish();
}

fn read100(c: &mut Criterion) {
    bench_mix(c, "read100", 100);
}

fn read90(c: &mut Criterion) {
    bench_mix(c, "read90", 90);
}

fn churn50(c: &mut Criterion) {
    bench_mix(c, "churn50", 50);
}

/// One register → owner ends → entry removed cycle, timed on a current-thread runtime.
fn monitor(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let registry: Registry<u64, Handle> = Registry::new();
    let value: Handle = Arc::new(0);

    group.bench_function("spawn-only", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let _ = tokio::spawn(async {}).await;
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("guard-in-task", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for k in 0..iters {
                    let owner = registry
                        .monitor(k, value.clone(), Kind::SESSION, async {})
                        .expect("unique key");
                    let _ = tokio::spawn(owner).await;
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("watcher-task", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for k in 0..iters {
                    let task = tokio::spawn(async {});
                    let watcher = registry
                        .watch(k, value.clone(), Kind::SESSION, task)
                        .expect("unique key");
                    let _ = watcher.await;
                }
                start.elapsed()
            })
        })
    });
    assert!(registry.is_empty(), "every monitored entry was removed");
    group.finish();
}

/// (p50, p99, p99.9, max) in ns, and churn operations per second.
type TailRound = ([u64; 4], f64);

/// One lookup-latency window for `map`.
fn tail_window<M: Map>(map: &M, keys: u64, window: Duration) -> TailRound {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = AtomicBool::new(false);
    let (hist, ops) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)
                .expect("constant histogram bounds");
            let mut rng = Rng(0x2545_F491_4F6C_DD1D);
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..256 {
                    let key = (rng.next() >> 8) % keys;
                    let start = Instant::now();
                    let found = map.get(key);
                    let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    black_box(found);
                    hist.saturating_record(ns.max(1));
                }
            }
            hist
        });
        let churner = s.spawn(|| {
            let mut window: VecDeque<M::Token> = VecDeque::with_capacity(CHURN_WINDOW);
            let mut next = 1u64 << 48;
            let mut ops = 0u64;
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                next += 1;
                window.push_back(map.insert(next, Arc::new(next)));
                ops += 1;
                if window.len() >= CHURN_WINDOW {
                    if let Some(token) = window.pop_front() {
                        map.remove(token);
                    }
                    ops += 1;
                }
            }
            let rate = ops as f64 / start.elapsed().as_secs_f64();
            for token in window {
                map.remove(token);
            }
            rate
        });
        std::thread::sleep(window);
        stop.store(true, Ordering::Relaxed);
        (
            reader.join().expect("lookup thread"),
            churner.join().expect("churn thread"),
        )
    });
    (
        [
            hist.value_at_quantile(0.5),
            hist.value_at_quantile(0.99),
            hist.value_at_quantile(0.999),
            hist.max(),
        ],
        ops,
    )
}

/// Lookup latency percentiles under churn, printed as a table (see the module doc).
fn tail_latency(_: &mut Criterion) {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| "tail_latency".contains(f.as_str())) {
        return;
    }
    let values: Vec<Handle> = (0..STABLE).map(Arc::new).collect();
    fn filled<M: Map>(map: M, values: &[Handle]) -> (M, Vec<M::Token>) {
        let held = (0..STABLE)
            .zip(values)
            .map(|(k, v)| map.insert(k, v.clone()))
            .collect();
        (map, held)
    }
    let window = Duration::from_secs(2);
    let names = [
        "erlmcp-registry",
        "erlmcp-registry-metrics-off",
        "dashmap",
        "scc",
        "papaya",
        "rwlock-hashmap",
    ];
    let mut rows: Vec<Vec<TailRound>> = vec![Vec::new(); names.len()];
    let (ours_map, _ours) = filled(ours(erlmcp_registry::DEFAULT_SAMPLE_EVERY), &values);
    let (off_map, _off) = filled(ours(0), &values);
    let (dash, _d) = filled(
        Dash(dashmap::DashMap::with_hasher(Hasher::default())),
        &values,
    );
    let (sccm, _s) = filled(Scc(scc::HashMap::with_hasher(Hasher::default())), &values);
    let (pap, _p) = filled(
        Papaya(papaya::HashMap::with_hasher(Hasher::default())),
        &values,
    );
    let (single, _r) = filled(
        Single(RwLock::new(std::collections::HashMap::with_hasher(
            Hasher::default(),
        ))),
        &values,
    );
    for _round in 0..3 {
        rows[0].push(tail_window(&ours_map, STABLE, window));
        rows[1].push(tail_window(&off_map, STABLE, window));
        rows[2].push(tail_window(&dash, STABLE, window));
        rows[3].push(tail_window(&sccm, STABLE, window));
        rows[4].push(tail_window(&pap, STABLE, window));
        rows[5].push(tail_window(&single, STABLE, window));
    }
    println!(
        "\ntail_latency: get() of 100,000 live keys under max-rate insert/remove churn \
         (2 threads; median of 3 rounds of {window:?})"
    );
    println!(
        "{:<30} {:>8} {:>8} {:>9} {:>10} {:>14}",
        "contender", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "churn ops/s"
    );
    for (name, runs) in names.iter().zip(&rows) {
        let median = |f: &dyn Fn(&TailRound) -> f64| {
            let mut v: Vec<f64> = runs.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        };
        println!(
            "{:<30} {:>8.0} {:>8.0} {:>9.0} {:>10.0} {:>14.0}",
            name,
            median(&|r| r.0[0] as f64),
            median(&|r| r.0[1] as f64),
            median(&|r| r.0[2] as f64),
            median(&|r| r.0[3] as f64),
            median(&|r| r.1),
        );
    }
}

/// The group lives in a private module: `criterion_group!` makes an undocumented `pub fn`.
mod harness {
    use super::{churn50, monitor, read90, read100, tail_latency};
    criterion::criterion_group!(benches, read100, read90, churn50, monitor, tail_latency);
}

criterion_main!(harness::benches);
