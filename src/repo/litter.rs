//! Whether the repository may hold staging files a killed writer left behind, so that the next
//! writer sweeps the tree only then, not on every run.
//!
//! Every temporary file of ours is created beside its target (`.dbos-gitops-XXXXXX`) and renamed
//! or deleted before the process ends, except when the process is killed. Before the first one a
//! writer holding the repository lock creates a marker (`.dbos-gitops-writing`, durable before
//! any staging file can be) at the root, and removes it when the command has returned. The
//! marker is a value, [`Marker`], that the lock (`lock::Held`) holds and hands to the writes
//! made under it (`fs::Staging`, the journal): it goes when the lock drops. A
//! marker found by the next writer means a command was killed (or panicked): the next
//! writer sweeps the whole tree (`journal::recover`) and then removes the marker. A no-op command
//! writes nothing and walks nothing; before this, every writing command walked the whole
//! repository (and in a monorepo every unrelated directory in it).
//!
//! The marker holds this process's random nonce, which the journal repeats (and authenticates,
//! `journal_key`): a journal is replayed only beside the marker of the writer that wrote it.
//!
//! Writers without the repository lock (`seal -o`, `seal --merge-into` of a file named by the
//! user) mark nothing: their one temporary file sits beside the file named, as an editor's would.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use crate::error::Error;

pub const MARKER_FILE: &str = ".dbos-gitops-writing";

/// The marker of one locked repository, as a value: the repository lock (`lock::Held`) holds
/// it, and the writes made under that lock (`fs::Staging`, the journal) mark through it. Only
/// a writer holding the lock has one, so a writer without it (`seal -o`) marks nothing.
#[derive(Debug)]
pub struct Marker {
    root: PathBuf,
    /// Whether the marker file is on disk, made by this value.
    marked: AtomicBool,
}

impl Marker {
    /// The marker of `root`, not made yet: taking the lock alone marks nothing.
    pub fn new(root: &Path) -> Marker {
        Marker {
            root: root.to_path_buf(),
            marked: AtomicBool::new(false),
        }
    }

    /// Called before each temporary file is created in `dir`: the first time one is created in
    /// the locked repository, the marker is made durable. (A private key's directory lies
    /// outside.)
    pub fn before_temporary_file(&self, dir: &Path) -> Result<(), Error> {
        if self.marked.load(Ordering::Acquire) || !dir.starts_with(&self.root) {
            return Ok(());
        }
        let root = &self.root;
        let marker = root.join(MARKER_FILE);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&marker)
            .map_err(|source| Error::io(&marker, "create", source))?;
        std::io::Write::write_all(&mut file, process_nonce().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| Error::io(&marker, "write", source))?;
        std::fs::File::open(root)
            .and_then(|directory| directory.sync_all())
            .map_err(|source| Error::io(root, "flush writes under", source))?;
        self.marked.store(true, Ordering::Release);
        Ok(())
    }

    /// The nonce of the marker this value made, if it made one (what `mark` returns).
    #[cfg(test)]
    fn nonce(&self) -> Option<String> {
        self.marked
            .load(Ordering::Acquire)
            .then(|| process_nonce().to_string())
    }

    /// Marks the repository (if not yet) and returns the nonce the journal records.
    pub fn mark(&self) -> Result<String, Error> {
        self.before_temporary_file(&self.root)?;
        Ok(process_nonce().to_string())
    }

    /// Called when the command has returned, successfully or with an error (the lock drops):
    /// its temporary files are all renamed or deleted by then (dropped on every error path;
    /// the only ones kept on purpose, when a rename failed half-way, are named by the journal,
    /// which makes the next writer sweep anyway), so the marker goes. Only a killed process
    /// leaves it.
    pub fn finish(&self) {
        if self.marked.load(Ordering::Acquire) && swept(&self.root).is_ok() {
            self.marked.store(false, Ordering::Release);
        }
    }
}

/// This process's nonce: 16 random bytes, hex.
fn process_nonce() -> &'static str {
    static NONCE: OnceLock<String> = OnceLock::new();
    NONCE.get_or_init(|| {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    })
}

/// The nonce in the marker on disk (a killed writer's), if there is a marker holding one.
pub fn marker_nonce(root: &Path) -> Option<String> {
    let marker = root.join(MARKER_FILE);
    let metadata = std::fs::symlink_metadata(&marker).ok()?;
    if !metadata.is_file() || metadata.len() > 64 {
        return None;
    }
    let text = std::fs::read_to_string(&marker).ok()?;
    let text = text.trim();
    (text.len() == 32 && text.bytes().all(|byte| byte.is_ascii_hexdigit()))
        .then(|| text.to_string())
}

/// Whether a command that wrote under `root` ended without finishing (see the module doc).
pub fn left_behind(root: &Path) -> bool {
    std::fs::symlink_metadata(root.join(MARKER_FILE)).is_ok()
}

/// Removes the marker once the tree has been swept.
pub fn swept(root: &Path) -> Result<(), Error> {
    let marker = root.join(MARKER_FILE);
    match std::fs::remove_file(&marker) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::io(&marker, "remove", source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_lives_from_the_first_temporary_file_to_a_successful_end() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        assert!(!left_behind(root));
        let marker = Marker::new(root);
        assert!(!left_behind(root), "taking the lock alone marks nothing");
        let elsewhere = tempfile::tempdir().unwrap();
        marker.before_temporary_file(elsewhere.path()).unwrap();
        assert!(
            !left_behind(root),
            "a private key's directory is not the repository"
        );
        assert_eq!(marker.nonce(), None);
        marker
            .before_temporary_file(&root.join("environments/prod"))
            .unwrap();
        assert!(left_behind(root));
        assert_eq!(marker_nonce(root), marker.nonce());
        assert!(marker.nonce().is_some());
        assert_eq!(marker.mark().unwrap(), marker.nonce().unwrap());
        marker.finish();
        assert!(!left_behind(root));
        assert_eq!(marker.nonce(), None);
        // A second command in the same process marks again.
        marker.before_temporary_file(root).unwrap();
        assert!(left_behind(root));
        swept(root).unwrap();
        swept(root).unwrap();
        assert!(!left_behind(root));
    }

    #[test]
    fn two_repositories_mark_independently() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (first, second) = (Marker::new(one.path()), Marker::new(two.path()));
        first.mark().unwrap();
        assert!(left_behind(one.path()) && !left_behind(two.path()));
        second.mark().unwrap();
        first.finish();
        assert!(!left_behind(one.path()) && left_behind(two.path()));
        second.finish();
        assert!(!left_behind(two.path()));
    }
}
