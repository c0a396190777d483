//! Small filesystem helpers: every write is atomic (a temporary file in the same directory, then
//! a rename), so a crash or an error leaves the old file or the new one, never half of either.

use std::io::Write as _;
use std::path::Path;

use crate::error::Error;

pub fn read_to_string(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::io(path, "read", source))
}

pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::io(path, "read", source)),
    }
}

/// Writes `bytes` to `path` atomically, creating parent directories; the file is world-readable
/// (0644), like any file a user commits.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_with_mode(path, bytes, 0o644)
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|source| Error::io(parent, "create directory", source))?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".dbos-gitops-")
        .tempfile_in(parent)
        .map_err(|source| Error::io(parent, "create a temporary file in", source))?;
    set_mode(temporary.as_file(), mode)
        .map_err(|source| Error::io(path, "set permissions of", source))?;
    temporary
        .write_all(bytes)
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|source| Error::io(path, "write", source))?;
    temporary
        .persist(path)
        .map_err(|error| Error::io(path, "replace", error.error))?;
    Ok(())
}

/// Writes a file that holds a private key or plaintext: created with mode 0600 before any byte is
/// written.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_with_mode(path, bytes, 0o600)
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

pub fn remove_file(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::io(path, "remove", source)),
    }
}

/// Removes `dir` and its empty parents up to (not including) `stop`.
pub fn remove_empty_dirs(dir: &Path, stop: &Path) {
    let mut current = dir.to_path_buf();
    while current.starts_with(stop) && current != stop {
        if std::fs::remove_dir(&current).is_err() {
            break;
        }
        match current.parent() {
            Some(parent) => current = parent.to_path_buf(),
            None => break,
        }
    }
}
