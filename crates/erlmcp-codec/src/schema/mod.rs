//! MCP schema types, split by spec area. (Being filled in.)
