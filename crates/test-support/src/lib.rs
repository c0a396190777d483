//! Helpers shared by the workspace's test suites, and only by them (a dev-dependency, never
//! published): one way to skip a test loudly when a tool is missing, one throwaway PostgreSQL
//! database with the real DBOS system tables, and one bridge to the independent Python checks
//! (decrypter, strict X.509 parser). Before this crate each lived twice, in slightly different
//! words.

// The test harness reads its own variables (the test database, skips); the product's rule
// (every variable through `env_vars`, clippy.toml) is for the product's code.
#![allow(clippy::disallowed_methods)]

pub mod postgres;
pub mod python;
pub mod skip;

use std::path::PathBuf;

/// The workspace root (this crate lives in `crates/test-support`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
