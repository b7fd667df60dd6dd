//! erlmcp benchmark harness (being built)
