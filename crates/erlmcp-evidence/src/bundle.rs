//! The evidence bundle: every figure of one release-evidence run in one JSON document.
//!
//! `evidence/bundle.schema.json` in the repository is the bundle's JSON Schema; bump
//! [`BUNDLE_SCHEMA_VERSION`] and the schema together when a field changes meaning or goes
//! away. Adding a key under `sections` needs neither.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::error::EvidenceError;
use crate::suite::TestSuiteRecord;
use crate::throughput::{ThroughputRecord, to_csv};
use crate::time::rfc3339_utc;

/// The version of the bundle layout this crate writes.
pub const BUNDLE_SCHEMA_VERSION: u32 = 1;

/// The file name of the throughput CSV written beside a bundle.
pub const THROUGHPUT_CSV: &str = "throughput.csv";

/// One run's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// [`BUNDLE_SCHEMA_VERSION`] when written by this crate.
    pub schema_version: u32,
    /// When the bundle was made, RFC 3339 UTC.
    pub generated_at: String,
    /// The machine and build the figures came from.
    pub environment: Environment,
    /// One record per test binary.
    pub tests: Vec<TestSuiteRecord>,
    /// Load scenarios, erlmcp's and the ceiling's.
    pub throughput: Vec<ThroughputRecord>,
    /// Further evidence by topic (`fuzz`, `sbom`, later `security`, `flow`, `registry`…),
    /// each an object whose shape its producer documents in `evidence/README.md`.
    pub sections: BTreeMap<String, serde_json::Value>,
}

impl Bundle {
    /// An empty bundle stamped now.
    pub fn new(environment: Environment) -> Self {
        Bundle {
            schema_version: BUNDLE_SCHEMA_VERSION,
            generated_at: rfc3339_utc(SystemTime::now()),
            environment,
            tests: Vec::new(),
            throughput: Vec::new(),
            sections: BTreeMap::new(),
        }
    }

    /// The CSV path that [`Bundle::write`] uses for a bundle at `bundle_path`:
    /// `throughput.csv` in the same directory.
    pub fn csv_path(bundle_path: &Path) -> PathBuf {
        bundle_path.with_file_name(THROUGHPUT_CSV)
    }

    /// Writes the bundle as pretty JSON to `path` and the throughput table to
    /// [`Bundle::csv_path`]. Each file is written to a temporary sibling, flushed to disk,
    /// and renamed over the target, so a reader never sees half a file. Missing parent
    /// directories are created.
    pub fn write(&self, path: &Path) -> Result<(), EvidenceError> {
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        write_atomic(path, &json)?;
        write_atomic(&Self::csv_path(path), to_csv(&self.throughput).as_bytes())
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EvidenceError> {
    let fail = |p: &Path| {
        let p = p.to_path_buf();
        move |source| EvidenceError::Write { path: p, source }
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(fail(&dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "evidence".to_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(fail(&tmp))?;
        file.write_all(bytes).map_err(fail(&tmp))?;
        file.sync_all().map_err(fail(&tmp))?;
        std::fs::rename(&tmp, path).map_err(fail(path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_json_and_csv_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/bundle.json");
        let mut bundle = Bundle::new(Environment::capture(dir.path(), "serde_json"));
        bundle.throughput.push(ThroughputRecord::new(
            "one_way", "ceiling", "tcp", 4096, None, 10, 1.0,
        ));
        bundle.write(&path).unwrap();
        let back: Bundle = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back, bundle);
        let csv = std::fs::read_to_string(dir.path().join("nested/throughput.csv")).unwrap();
        assert_eq!(csv.lines().count(), 2);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("nested"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
