//! CycloneDX SBOM of the workspace, from `cargo metadata`.
//!
//! Every package in the resolved dependency graph for the host platform becomes a
//! component with its name, version, package URL (`pkg:cargo/name@version`) and licence
//! (an SPDX expression when the manifest's `license` parses as one, otherwise the text as a
//! named licence). Workspace members are components too, marked with the property
//! `erlmcp:workspace-member`; the BOM's subject (`metadata.component`) is the `erlmcp`
//! package when the workspace has one. The dependency graph is written as CycloneDX
//! `dependencies`. The output is CycloneDX 1.5 JSON.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use cargo_metadata::{Metadata, MetadataCommand, Package};
use cyclonedx_bom::models::bom::{Bom, SpecVersion};
use cyclonedx_bom::models::component::{Classification, Component, Components};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::license::{License, LicenseChoice, Licenses};
use cyclonedx_bom::models::metadata::Metadata as BomMetadata;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::{Tool, Tools};
use cyclonedx_bom::prelude::{Purl, SpdxExpression};

use crate::error::EvidenceError;

/// The CycloneDX version [`generate`] writes.
pub const SPEC_VERSION: &str = "1.5";

/// The package whose BOM this is, when the workspace has it.
const SUBJECT: &str = "erlmcp";

/// Runs `cargo metadata` in `workspace_root` (restricted to the host platform when
/// `rustc -vV` names it) and returns the CycloneDX 1.5 JSON document.
pub fn generate(workspace_root: &Path) -> Result<serde_json::Value, EvidenceError> {
    let mut command = MetadataCommand::new();
    command.current_dir(workspace_root);
    command.manifest_path(workspace_root.join("Cargo.toml"));
    if let Some(host) = host_triple(workspace_root) {
        command.other_options(vec!["--filter-platform".to_owned(), host]);
    }
    let metadata = command.exec()?;
    from_metadata(&metadata)
}

/// Builds the CycloneDX 1.5 JSON document from metadata already read.
pub fn from_metadata(metadata: &Metadata) -> Result<serde_json::Value, EvidenceError> {
    let bom = build_bom(metadata)?;
    let mut out = Vec::new();
    bom.output_as_json_v1_5(&mut out)
        .map_err(EvidenceError::SbomWrite)?;
    Ok(serde_json::from_slice(&out)?)
}

/// The BOM as the `cyclonedx-bom` model (for validation in tests).
pub fn build_bom(metadata: &Metadata) -> Result<Bom, EvidenceError> {
    let members: HashSet<_> = metadata.workspace_members.iter().collect();
    let in_graph: Option<HashSet<_>> = metadata
        .resolve
        .as_ref()
        .map(|r| r.nodes.iter().map(|n| &n.id).collect());
    let mut packages: Vec<&Package> = metadata
        .packages
        .iter()
        .filter(|p| in_graph.as_ref().is_none_or(|ids| ids.contains(&p.id)))
        .collect();
    packages.sort_by(|a, b| (&*a.name, &a.version).cmp(&(&*b.name, &b.version)));

    let mut components = Vec::with_capacity(packages.len());
    for package in &packages {
        let mut component = component_for(package, Classification::Library)?;
        if members.contains(&package.id) {
            component.properties = Some(Properties(vec![Property::new(
                "erlmcp:workspace-member",
                "true",
            )]));
        }
        components.push(component);
    }

    let subject = packages
        .iter()
        .find(|p| members.contains(&p.id) && p.name.as_str() == SUBJECT)
        .map(|p| component_for(p, Classification::Application))
        .transpose()?;

    let dependencies = metadata.resolve.as_ref().map(|resolve| {
        let mut deps: Vec<Dependency> = resolve
            .nodes
            .iter()
            .map(|node| Dependency {
                dependency_ref: node.id.repr.clone(),
                dependencies: node.dependencies.iter().map(|d| d.repr.clone()).collect(),
            })
            .collect();
        deps.sort_by(|a, b| a.dependency_ref.cmp(&b.dependency_ref));
        Dependencies(deps)
    });

    let mut bom_metadata = BomMetadata::new().unwrap_or_default();
    bom_metadata.tools = Some(Tools::List(vec![Tool::new(
        "erlmcp",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )]));
    bom_metadata.component = subject.map(|mut c| {
        // The subject repeats a component; give it its own reference.
        c.bom_ref = c.bom_ref.map(|r| format!("{r}#subject"));
        c
    });

    Ok(Bom {
        metadata: Some(bom_metadata),
        components: Some(Components(components)),
        dependencies,
        spec_version: SpecVersion::V1_5,
        ..Bom::default()
    })
}

fn component_for(
    package: &Package,
    classification: Classification,
) -> Result<Component, EvidenceError> {
    let name = package.name.as_str();
    let version = package.version.to_string();
    let mut component = Component::new(
        classification,
        name,
        &version,
        Some(package.id.repr.clone()),
    );
    let purl = Purl::new("cargo", name, &version).map_err(|source| EvidenceError::Purl {
        name: name.to_owned(),
        version: version.clone(),
        source,
    })?;
    component.purl = Some(purl);
    component.licenses = package
        .license
        .as_deref()
        .map(|text| Licenses(vec![license_choice(text)]));
    Ok(component)
}

/// An SPDX expression when the text parses as one (leniently: `MIT/Apache-2.0` is
/// read as `MIT OR Apache-2.0`), otherwise a named licence with the text as written.
fn license_choice(text: &str) -> LicenseChoice {
    match SpdxExpression::parse_lax(text.to_owned()) {
        Ok(expression) => LicenseChoice::Expression(expression),
        Err(_) => LicenseChoice::License(License::named_license(text)),
    }
}

/// The host target triple from `rustc -vV`, run where the workspace's toolchain applies.
fn host_triple(dir: &Path) -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out = Command::new(rustc)
        .arg("-vV")
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
}
