//! The crate's one error type.

use std::path::PathBuf;

/// Why evidence could not be gathered or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// Creating, writing or renaming a file failed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file (or its temporary sibling) being written.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A record could not be serialised as JSON.
    #[error("cannot serialise evidence as JSON")]
    Json(#[from] serde_json::Error),
    /// `cargo metadata` failed or printed something unreadable.
    #[error("`cargo metadata` failed")]
    Metadata(#[from] cargo_metadata::Error),
    /// A package's name or version makes no valid package URL.
    #[error("package {name} {version} has no valid package URL")]
    Purl {
        /// The package name.
        name: String,
        /// The package version.
        version: String,
        /// What the CycloneDX model refused.
        #[source]
        source: cyclonedx_bom::external_models::uri::UriError,
    },
    /// A harness's JSON report lacks a field its bundle section needs (or has it with
    /// the wrong type).
    #[error("harness report: missing or malformed `{field}`")]
    Report {
        /// The field, as a dotted path.
        field: &'static str,
    },
    /// The CycloneDX writer refused the BOM.
    #[error("cannot serialise the CycloneDX BOM")]
    SbomWrite(#[source] cyclonedx_bom::errors::JsonWriteError),
    /// A lifecycle soak record is incomplete or inconsistent.
    #[error(transparent)]
    Lifecycle(#[from] crate::lifecycle::Inconsistent),
}
