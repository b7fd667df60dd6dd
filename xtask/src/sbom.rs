//! `cargo xtask sbom`: the workspace's CycloneDX SBOM.

use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::workspace::Workspace;

/// Writes the SBOM to `path` and returns the bundle's `sbom` section for it.
pub fn run(ws: &Workspace, path: &Path) -> anyhow::Result<serde_json::Value> {
    eprintln!("generating CycloneDX SBOM from cargo metadata");
    let sbom = erlmcp_evidence::sbom::generate(&ws.root).context("generate SBOM")?;
    let mut text = serde_json::to_vec_pretty(&sbom)?;
    text.push(b'\n');
    erlmcp_evidence::bundle::write_atomic(path, &text)?;
    let components = sbom["components"].as_array().map_or(0, Vec::len);
    eprintln!("wrote {} ({components} components)", path.display());
    let shown = path.strip_prefix(&ws.root).unwrap_or(path);
    Ok(json!({
        "path": shown.display().to_string(),
        "spec_version": erlmcp_evidence::sbom::SPEC_VERSION,
        "components": components,
    }))
}
