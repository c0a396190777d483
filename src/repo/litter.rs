//! Whether the repository may hold staging files a killed writer left behind, so that the next
//! writer sweeps the tree only then, not on every run.
//!
//! Every temporary file of ours is created beside its target (`.dbos-gitops-XXXXXX`) and renamed
//! or deleted before the process ends, except when the process is killed. Before the first one a
//! process holding the repository lock creates a marker (`.dbos-gitops-writing`, durable before
//! any staging file can be) at the root, and removes it when the command has returned. A
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
use std::sync::{Mutex, OnceLock};

use crate::error::Error;

pub const MARKER_FILE: &str = ".dbos-gitops-writing";

/// The locked root of this process and whether this process has created its marker.
static WATCHED: Mutex<Option<(PathBuf, bool)>> = Mutex::new(None);

fn watched() -> std::sync::MutexGuard<'static, Option<(PathBuf, bool)>> {
    WATCHED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Called with the repository lock held: temporary files from here on are marked under `root`.
pub fn watch(root: &Path) {
    let mut watched = watched();
    if watched.as_ref().map(|(held, _)| held.as_path()) != Some(root) {
        *watched = Some((root.to_path_buf(), false));
    }
}

/// Called before each temporary file is created in `dir`: the first time one is created in the
/// locked repository, the marker is made durable. (A private key's directory lies outside.)
pub fn before_temporary_file(dir: &Path) -> Result<(), Error> {
    let mut watched = watched();
    let Some((root, marked)) = watched.as_mut() else {
        return Ok(());
    };
    if *marked || !dir.starts_with(&*root) {
        return Ok(());
    }
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
    std::fs::File::open(&*root)
        .and_then(|directory| directory.sync_all())
        .map_err(|source| Error::io(&*root, "flush writes under", source))?;
    *marked = true;
    Ok(())
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

/// The nonce of the marker this process wrote under `root`, if it wrote one: what its journal
/// records.
pub fn nonce(root: &Path) -> Option<String> {
    let watched = watched();
    match watched.as_ref() {
        Some((held, true)) if held == root => Some(process_nonce().to_string()),
        _ => None,
    }
}

/// Marks `root` (if this process has not yet) and returns the nonce the journal records. A
/// writer holds the lock and has marked already; this covers one that got here otherwise.
pub fn mark(root: &Path) -> Result<String, Error> {
    if let Some(nonce) = nonce(root) {
        return Ok(nonce);
    }
    watch(root);
    before_temporary_file(root)?;
    Ok(process_nonce().to_string())
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

/// Called when a command has returned, successfully or with an error: its temporary files are
/// all renamed or deleted by then (dropped on every error path; the only ones kept on purpose,
/// when a rename failed half-way, are named by the journal, which makes the next writer sweep
/// anyway), so its marker goes. Only a killed process leaves it.
pub fn finished() {
    let mut watched = watched();
    if let Some((root, marked)) = watched.as_mut() {
        if *marked && swept(root).is_ok() {
            *marked = false;
        }
    }
}

/// Unit tests that go through this module's process state (the watched root) take this first:
/// the lock's tests watch and finish roots of their own.
#[cfg(test)]
pub(crate) static PROCESS_STATE: Mutex<()> = Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_lives_from_the_first_temporary_file_to_a_successful_end() {
        let _serial = PROCESS_STATE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        assert!(!left_behind(root));
        watch(root);
        assert!(!left_behind(root), "taking the lock alone marks nothing");
        let elsewhere = tempfile::tempdir().unwrap();
        before_temporary_file(elsewhere.path()).unwrap();
        assert!(
            !left_behind(root),
            "a private key's directory is not the repository"
        );
        before_temporary_file(&root.join("environments/prod")).unwrap();
        assert!(left_behind(root));
        assert_eq!(marker_nonce(root), nonce(root));
        assert!(nonce(root).is_some());
        before_temporary_file(root).unwrap();
        finished();
        assert!(!left_behind(root));
        // A second command in the same process marks again.
        before_temporary_file(root).unwrap();
        assert!(left_behind(root));
        swept(root).unwrap();
        swept(root).unwrap();
        assert!(!left_behind(root));
    }
}
