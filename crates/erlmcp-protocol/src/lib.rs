//! erlmcp-protocol (being built)
