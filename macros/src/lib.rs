//! Petrel procedural macros (see docs/architecture.md).
