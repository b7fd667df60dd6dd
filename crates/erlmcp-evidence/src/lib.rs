//! erlmcp-evidence (being built)
