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
        // A parent that is a file: nothing is there; writing will say what is in the way.
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
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

/// Staged writes: every new file is first written in full to a temporary file beside its target;
/// only when all are staged are they renamed into place.
pub struct Staging {
    root: std::path::PathBuf,
    staged: Vec<(tempfile::NamedTempFile, std::path::PathBuf)>,
    created_dirs: Vec<std::path::PathBuf>,
}

impl Staging {
    pub fn new(root: &Path) -> Self {
        Staging {
            root: root.to_path_buf(),
            staged: Vec::new(),
            created_dirs: Vec::new(),
        }
    }

    fn ensure_dir(&mut self, dir: &Path) -> Result<(), Error> {
        let mut missing = Vec::new();
        let mut current = dir.to_path_buf();
        while !current.exists() {
            missing.push(current.clone());
            match current.parent() {
                Some(parent) => current = parent.to_path_buf(),
                None => break,
            }
        }
        for path in missing.into_iter().rev() {
            std::fs::create_dir(&path)
                .map_err(|source| Error::io(&path, "create directory", source))?;
            self.created_dirs.push(path);
        }
        Ok(())
    }

    pub fn stage(&mut self, path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
        super::failpoint::step(super::failpoint::Step::Stage);
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        self.ensure_dir(&parent)?;
        let mut temporary = tempfile::Builder::new()
            .prefix(".dbos-gitops-")
            .tempfile_in(&parent)
            .map_err(|source| Error::io(&parent, "write into", source))?;
        set_mode(temporary.as_file(), mode)
            .and_then(|()| temporary.write_all(bytes))
            .map_err(|source| Error::io(path, "write", source))?;
        // Private files (a development key) may live on another filesystem than the repository,
        // which the one `syncfs` at commit does not cover: make them durable here.
        if mode & 0o077 == 0 {
            temporary
                .as_file()
                .sync_all()
                .map_err(|source| Error::io(path, "write", source))?;
        }
        self.staged.push((temporary, path.to_path_buf()));
        Ok(())
    }

    /// Removing a file needs a writable directory: check before anything is renamed.
    pub fn probe_removal(&mut self, path: &Path) -> Result<(), Error> {
        let parent = path.parent().unwrap_or(&self.root);
        tempfile::Builder::new()
            .prefix(".dbos-gitops-")
            .tempfile_in(parent)
            .map(drop)
            .map_err(|source| Error::io(path, "remove", source))
    }

    /// Drops the staged files and removes the directories staging created.
    pub fn abort(self) {
        let Staging {
            staged,
            created_dirs,
            ..
        } = self;
        drop(staged);
        for dir in created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }

    /// The staged files and their targets, for `journal::commit`.
    pub fn into_staged(self) -> Vec<(tempfile::NamedTempFile, std::path::PathBuf)> {
        self.staged
    }

    /// Makes every staged file durable, then renames them into place. One `syncfs` for the
    /// whole tree instead of an fsync per file: a build of hundreds of files otherwise spends
    /// nearly all its time waiting for the disk.
    pub fn commit(self) -> Result<(), Error> {
        sync_staged(&self.root, &self.staged)?;
        for (temporary, path) in self.staged {
            temporary
                .persist(&path)
                .map_err(|error| Error::io(&path, "replace", error.error))?;
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
pub(crate) fn sync_staged(
    root: &Path,
    staged: &[(tempfile::NamedTempFile, std::path::PathBuf)],
) -> Result<(), Error> {
    use std::os::fd::AsRawFd;
    let Some((first, path)) = staged.first() else {
        return Ok(());
    };
    if staged.len() == 1 {
        return first
            .as_file()
            .sync_all()
            .map_err(|source| Error::io(path, "write", source));
    }
    // SAFETY: syncfs only reads the descriptor, which the NamedTempFile keeps open.
    let result = unsafe { libc::syncfs(first.as_file().as_raw_fd()) };
    if result != 0 {
        return Err(Error::io(
            root,
            "flush writes under",
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn sync_staged(
    _root: &Path,
    staged: &[(tempfile::NamedTempFile, std::path::PathBuf)],
) -> Result<(), Error> {
    for (temporary, path) in staged {
        temporary
            .as_file()
            .sync_all()
            .map_err(|source| Error::io(path, "write", source))?;
    }
    Ok(())
}
