//! The `usage` command end to end: filled in once the store engine lands.
