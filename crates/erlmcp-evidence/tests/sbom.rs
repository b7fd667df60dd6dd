//! SBOM generation from `cargo metadata`, on a throw-away two-package workspace (so the
//! test needs no network and does not depend on the state of erlmcp's own manifests).

use std::fs;

use cyclonedx_bom::models::bom::SpecVersion;
use cyclonedx_bom::prelude::Validate;

fn write(path: &std::path::Path, text: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

#[test]
fn components_purls_licences_and_graph() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"erlmcp\", \"helper\"]\n",
    );
    write(
        &root.join("erlmcp/Cargo.toml"),
        "[package]\nname = \"erlmcp\"\nversion = \"0.3.0\"\nedition = \"2024\"\nlicense = \"Apache-2.0 OR MIT\"\n\n[dependencies]\nhelper = { path = \"../helper\" }\n",
    );
    write(&root.join("erlmcp/src/lib.rs"), "");
    write(
        &root.join("helper/Cargo.toml"),
        "[package]\nname = \"helper\"\nversion = \"1.2.3\"\nedition = \"2024\"\nlicense = \"MIT/Apache-2.0\"\n",
    );
    write(&root.join("helper/src/lib.rs"), "");

    let sbom = erlmcp_evidence::sbom::generate(root).expect("sbom");
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["specVersion"], "1.5");
    assert_eq!(sbom["metadata"]["component"]["name"], "erlmcp");
    assert_eq!(sbom["metadata"]["component"]["type"], "application");

    let components = sbom["components"].as_array().expect("components");
    assert_eq!(components.len(), 2);
    let helper = components
        .iter()
        .find(|c| c["name"] == "helper")
        .expect("helper component");
    assert_eq!(helper["version"], "1.2.3");
    assert_eq!(helper["purl"], "pkg:cargo/helper@1.2.3");
    assert_eq!(helper["licenses"][0]["expression"], "MIT OR Apache-2.0");

    let deps = sbom["dependencies"].as_array().expect("dependencies");
    let erlmcp_ref = components
        .iter()
        .find(|c| c["name"] == "erlmcp")
        .and_then(|c| c["bom-ref"].as_str())
        .expect("erlmcp bom-ref");
    let erlmcp_deps = deps
        .iter()
        .find(|d| d["ref"] == erlmcp_ref)
        .expect("erlmcp dependency entry");
    assert_eq!(erlmcp_deps["dependsOn"][0], helper["bom-ref"]);

    // The document the model builds passes the model's own CycloneDX validation.
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(root.join("Cargo.toml"))
        .exec()
        .expect("metadata");
    let bom = erlmcp_evidence::sbom::build_bom(&metadata).expect("bom");
    let result = bom.validate_version(SpecVersion::V1_5);
    assert!(result.passed(), "{result:?}");
}
