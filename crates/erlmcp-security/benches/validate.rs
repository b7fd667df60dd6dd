//! Validation latency per URI (target: well under 100 µs).
//!
//! Criterion measures mean and median per case. Before it runs, a simple timed loop over
//! a mixed set of URIs (honest, non-ASCII, and attacks that are refused) records every
//! single validation and prints p50 / p99 / max, the figures the evidence bundle wants:
//!
//! ```text
//! validate_uri latency [mixed, wall]: n=… (25 URIs, 15 accepted) p50=…ns p99=…ns max=…ns (target < 100000ns)
//! validate_uri latency [8KiB, wall]: n=… (3 URIs, 3 accepted) p50=…ns p99=…ns max=…ns (target < 100000ns)
//! validate_uri latency [8KiB, cpu]: n=… (3 URIs, 3 accepted) p50=…ns p99=…ns max=…ns (target < 100000ns)
//! ```
//!
//! `mixed` is what a server sees (honest URIs, non-ASCII ones, and attacks); `8KiB` is the
//! worst case the length limit allows (ASCII, raw non-ASCII and percent-encoded UTF-8).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use erlmcp_security::{
    CanonicalUri, HeaderLimits, RelativePath, UriTemplate, Vars, validate_header_value,
};

/// Honest URIs and attacks, as a server sees them.
const MIXED: &[&str] = &[
    "file:///srv/data/readme.md",
    "file:///srv/data/docs/guide/getting-started/installation.md",
    "file:///srv/data/docs/café.md",
    "file:///srv/data/%E5%A0%B1%E5%91%8A%E6%9B%B8.txt",
    "file:///srv/data/日本語/レポート_report.md",
    "file:///srv/data/пример.txt",
    "https://example.com/path?q=1#frag",
    "HTTPS://Example.COM:443/a/%7Euser/b",
    "https://münchen.de/straße",
    "https://xn--mnchen-3ya.de/",
    "weather://forecast/tokyo/2025-06-18",
    "repo://erlmcp/core/blob/src/lib.rs",
    "urn:isbn:0451450523",
    "http://[::1]:8080/mcp",
    "data:text/plain;base64,SGVsbG8=",
    "file:///srv/data/../../../../etc/passwd",
    "file:///srv/data/%2e%2e/%2e%2e/etc/passwd",
    "file:///srv/data/%252e%252e/etc/passwd",
    "file:///srv/data/%c0%ae%c0%ae/etc/passwd",
    "file:///srv/data/．．/etc/passwd",
    "file:///srv/data/..%5c..%5cetc",
    "file:///srv/data/passwd%00.md",
    "https://аррӏе.com/login",
    "https://xn--80ak6aa92e.com/",
    "file:///srv/data/pаypal.txt",
];

/// A URI at the 8 KiB limit, made of `segment` repeated.
fn long_uri(segment: &str) -> String {
    let mut uri = String::from("file:///srv/data");
    while uri.len() + segment.len() < 8 * 1024 {
        uri.push_str(segment);
    }
    uri
}

/// How each validation is timed.
#[derive(Clone, Copy)]
enum Clock {
    /// Wall-clock time (`Instant`): what a caller waits, including being descheduled.
    Wall,
    /// This thread's CPU time: the work itself, whatever else the machine is doing. Its
    /// read is a system call, so it is only used for the long URIs.
    ThreadCpu,
}

fn thread_cpu() -> Duration {
    #[cfg(unix)]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_nsec).unwrap_or(0),
        )
    }
    #[cfg(not(unix))]
    {
        Duration::ZERO
    }
}

/// Times every single validation of `uris`, `rounds` times over, and prints p50/p99/max.
fn percentiles(label: &str, uris: &[&str], rounds: usize, clock: Clock) {
    let mut samples: Vec<Duration> = Vec::with_capacity(uris.len() * rounds);
    let mut accepted = 0usize;
    for _ in 0..rounds {
        for uri in uris {
            let (result, elapsed) = match clock {
                Clock::Wall => {
                    let start = Instant::now();
                    let r = CanonicalUri::parse(black_box(uri));
                    (r, start.elapsed())
                }
                Clock::ThreadCpu => {
                    let start = thread_cpu();
                    let r = CanonicalUri::parse(black_box(uri));
                    (r, thread_cpu().saturating_sub(start))
                }
            };
            samples.push(elapsed);
            accepted += usize::from(result.is_ok());
        }
    }
    samples.sort_unstable();
    let pick = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_nanos()
    };
    let clock = match clock {
        Clock::Wall => "wall",
        Clock::ThreadCpu => "cpu",
    };
    println!(
        "validate_uri latency [{label}, {clock}]: n={} ({} URIs, {} accepted) p50={}ns \
         p99={}ns max={}ns (target < 100000ns)",
        samples.len(),
        uris.len(),
        accepted / rounds,
        pick(0.50),
        pick(0.99),
        pick(1.0),
    );
}

fn report_percentiles() {
    percentiles("mixed", MIXED, 4000, Clock::Wall);
    let ascii = long_uri("/segment-e");
    let non_ascii = long_uri("/segment-\u{e9}");
    let encoded = long_uri("/%C3%A9t%C3%A9");
    let long = [ascii.as_str(), non_ascii.as_str(), encoded.as_str()];
    percentiles("8KiB", &long, 200, Clock::Wall);
    if cfg!(unix) {
        percentiles("8KiB", &long, 200, Clock::ThreadCpu);
    }
}

fn uri_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate_uri");
    let long = long_uri("/segment-e");
    let long_non_ascii = long_uri("/segment-\u{e9}");
    let cases = [
        ("ascii_short", "file:///srv/data/readme.md"),
        ("ascii_normalise", "HTTPS://Example.COM:443/a/%7Euser/b"),
        ("non_ascii", "file:///srv/data/日本語/レポート_report.md"),
        ("idn_host", "https://xn--mnchen-3ya.de/straße"),
        (
            "refused_encoded_dot",
            "file:///srv/data/%2e%2e/%2e%2e/etc/passwd",
        ),
        ("refused_confusable", "https://аррӏе.com/login"),
        ("long_8k_ascii", long.as_str()),
        ("long_8k_non_ascii", long_non_ascii.as_str()),
    ];
    for (name, uri) in cases {
        group.bench_function(name, |b| b.iter(|| CanonicalUri::parse(black_box(uri))));
    }
    group.finish();
}

fn other_benches(c: &mut Criterion) {
    let template = UriTemplate::parse("file:///projects/{project}/{+path}{?rev}")
        .unwrap_or_else(|e| panic!("{e}"));
    let uri = "file:///projects/erlmcp/crates/security/src/lib.rs?rev=main";
    // Compile the matcher once, as a server would.
    let _ = template.match_uri(uri);
    c.bench_function("template/match_uri", |b| {
        b.iter(|| template.match_uri(black_box(uri)))
    });
    let mut vars = Vars::new();
    vars.insert("project".into(), "erlmcp".into());
    vars.insert("path".into(), "crates/security/src/lib.rs".into());
    c.bench_function("template/expand", |b| {
        b.iter(|| template.expand(black_box(&vars)))
    });
    c.bench_function("relative_path", |b| {
        b.iter(|| RelativePath::parse(black_box("docs/guide/getting-started.md")))
    });
    let limits = HeaderLimits::default();
    c.bench_function("header_value", |b| {
        b.iter(|| validate_header_value(black_box("application/json, text/event-stream"), &limits))
    });
}

fn main() {
    report_percentiles();
    let mut c = Criterion::default().configure_from_args();
    uri_benches(&mut c);
    other_benches(&mut c);
    c.final_summary();
}
