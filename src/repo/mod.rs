//! The repository on disk: finding it, loading its declarations, and reconciling the generated
//! tree with what is there (plan, ownership record, atomic writes, diffs). The only module of the
//! compiler pipeline that touches the filesystem.

pub mod attributes;
pub mod confine;
pub mod failpoint;
pub mod fs;
pub mod journal;
pub mod journal_key;
pub mod litter;
pub mod load;
pub mod lock;
pub mod overlay;
pub mod ownership;
pub mod plan;
pub mod sealed_digests;

pub use load::{find_root, load_repo, load_repo_scoped, LoadedRepo};
pub use plan::{Plan, WriteOptions};
