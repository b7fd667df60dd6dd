//! erlmcp (being built)
