//! Test-suite results, read from `cargo test`'s human output.
//!
//! `cargo test` announces each test binary on a line of its own and each binary ends with a
//! summary line:
//!
//! ```text
//!      Running unittests src/lib.rs (target/debug/deps/erlmcp_codec-1a2b3c)
//! test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
//!    Doc-tests erlmcp_codec
//! test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s
//! ```
//!
//! [`CargoTestLog`] pairs each summary with the announcement before it. The announcement
//! must come through the same stream as the summary (cargo writes it on stderr, the test
//! binary on stdout), so callers merge both into one pipe to keep their order.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The result of one test binary (unit tests of a target, an integration test file, or a
/// crate's doc-tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestSuiteRecord {
    /// Which suite, e.g. `erlmcp-codec lib` or `erlmcp_codec doc-tests`.
    pub name: String,
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests marked `#[ignore]` and not run.
    pub ignored: u64,
    /// Wall-clock seconds the binary reported.
    pub duration_secs: f64,
}

impl TestSuiteRecord {
    /// Parses a `test result: …` line; `None` if the line is not one.
    pub fn parse_result_line(name: impl Into<String>, line: &str) -> Option<Self> {
        let rest = line.trim().strip_prefix("test result: ")?;
        let (_status, counts) = rest.split_once(". ")?;
        let mut record = TestSuiteRecord {
            name: name.into(),
            passed: 0,
            failed: 0,
            ignored: 0,
            duration_secs: 0.0,
        };
        for part in counts.split(';').map(str::trim) {
            if let Some(secs) = part.strip_prefix("finished in ") {
                record.duration_secs = secs.trim_end_matches('s').parse().ok()?;
            } else if let Some((n, what)) = part.split_once(' ') {
                let n: u64 = n.parse().ok()?;
                match what {
                    "passed" => record.passed = n,
                    "failed" => record.failed = n,
                    "ignored" => record.ignored = n,
                    _ => {}
                }
            }
        }
        Some(record)
    }
}

/// Turns `cargo test` output, fed line by line, into one [`TestSuiteRecord`] per binary.
#[derive(Debug, Default)]
pub struct CargoTestLog {
    /// Suite names by test executable file name (`framing-1a2b3c`), from
    /// `cargo test --no-run --message-format=json`; unnamed executables get a name made
    /// from the announcement.
    names: HashMap<String, String>,
    current: Option<String>,
    records: Vec<TestSuiteRecord>,
}

impl CargoTestLog {
    /// A log that names suites from their announcement lines only.
    pub fn new() -> Self {
        Self::default()
    }

    /// A log that names suites by executable file name (e.g. `framing-1a2b3c` →
    /// `erlmcp-codec test framing`), falling back to the announcement.
    pub fn with_names(names: HashMap<String, String>) -> Self {
        CargoTestLog {
            names,
            ..Self::default()
        }
    }

    /// Feeds one output line (without its line end).
    pub fn feed(&mut self, line: &str) {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            self.current = Some(self.name_for_running(rest));
        } else if let Some(krate) = trimmed.strip_prefix("Doc-tests ") {
            self.current = Some(format!("{krate} doc-tests"));
        } else if trimmed.starts_with("test result: ") {
            let name = self
                .current
                .take()
                .unwrap_or_else(|| format!("suite {}", self.records.len() + 1));
            if let Some(record) = TestSuiteRecord::parse_result_line(name, trimmed) {
                self.records.push(record);
            }
        }
    }

    /// The suites seen so far.
    pub fn records(&self) -> &[TestSuiteRecord] {
        &self.records
    }

    /// The suites seen, in order.
    pub fn into_records(self) -> Vec<TestSuiteRecord> {
        self.records
    }

    /// `unittests src/lib.rs (target/debug/deps/erlmcp_codec-1a2b3c)` → a suite name.
    fn name_for_running(&self, rest: &str) -> String {
        let (source, executable) = match rest.rsplit_once(" (") {
            Some((source, exe)) => (source, exe.trim_end_matches(')')),
            None => (rest, rest),
        };
        let file = executable
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(executable)
            .trim_end_matches(".exe");
        if let Some(name) = self.names.get(file) {
            return name.clone();
        }
        let stem = file.rsplit_once('-').map_or(file, |(stem, _hash)| stem);
        format!("{stem} ({source})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
   Compiling erlmcp-codec v0.1.0 (/work/main/crates/erlmcp-codec)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 9.61s
     Running unittests src/lib.rs (target/debug/deps/erlmcp_codec-1a2b3c)

running 2 tests
test a ... ok
test b ... ignored

test result: ok. 1 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.25s

     Running tests/framing.rs (target/debug/deps/framing-4d5e6f)

running 2 tests
test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.50s

   Doc-tests erlmcp_codec

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";

    #[test]
    fn pairs_announcements_with_results() {
        let mut names = HashMap::new();
        names.insert(
            "framing-4d5e6f".to_owned(),
            "erlmcp-codec test framing".to_owned(),
        );
        let mut log = CargoTestLog::with_names(names);
        for line in LOG.lines() {
            log.feed(line);
        }
        let r = log.into_records();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].name, "erlmcp_codec (unittests src/lib.rs)");
        assert_eq!((r[0].passed, r[0].failed, r[0].ignored), (1, 0, 1));
        assert_eq!(r[0].duration_secs, 0.25);
        assert_eq!(r[1].name, "erlmcp-codec test framing");
        assert_eq!((r[1].passed, r[1].failed), (1, 1));
        assert_eq!(r[2].name, "erlmcp_codec doc-tests");
        assert_eq!(r[2].passed, 0);
    }

    #[test]
    fn rejects_other_lines() {
        assert!(TestSuiteRecord::parse_result_line("x", "test a ... ok").is_none());
        assert!(TestSuiteRecord::parse_result_line("x", "test result: ok. many passed").is_none());
    }
}
