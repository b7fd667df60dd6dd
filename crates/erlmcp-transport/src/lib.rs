//! erlmcp-transport (being built)
