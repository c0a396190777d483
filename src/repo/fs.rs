//! Small filesystem helpers: every write is atomic (a temporary file in the same directory, then
//! a rename), so a crash or an error leaves the old file or the new one, never half of either.

use std::io::Write as _;
use std::path::Path;

use crate::error::Error;

pub fn read_to_string(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::io(path, "read", source))?;
    utf8(path, bytes)
}

/// The text of a file the user wrote, which must be UTF-8: a lossy decoding would carry U+FFFD
/// into image references and Dex's configuration. The error names the first bad byte.
pub fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|error| {
        let bytes = error.as_bytes();
        let offset = error.utf8_error().valid_up_to();
        let before = &bytes[..offset];
        let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|byte| *byte == b'\n')
            .map_or(0, |newline| newline + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        Error::input(format!(
            "`{}`: not UTF-8: byte 0x{:02x} at offset {offset} (line {line}, column {column})",
            path.display(),
            bytes[offset]
        ))
        .hint("save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 FILE`); YAML files must be UTF-8")
    })
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
    if is_private(mode) {
        private_dir(parent, &mut Vec::new())?;
    } else {
        std::fs::create_dir_all(parent)
            .map_err(|source| Error::io(parent, "create directory", source))?;
    }
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

/// The per-user directory of what must never be in a repository (development private keys,
/// the value-MAC key): `$XDG_CONFIG_HOME/dbos-gitops`, else `$HOME/.config/dbos-gitops`, when
/// that is an absolute path (the XDG Base Directory spec ignores relative ones).
pub fn private_config_dir() -> Option<std::path::PathBuf> {
    let base = crate::env_vars::get_os(crate::env_vars::XDG_CONFIG_HOME)
        .filter(|value| !value.is_empty())
        .map(std::path::PathBuf::from)
        .filter(|base| base.is_absolute())
        .or_else(|| {
            crate::env_vars::get_os(crate::env_vars::HOME)
                .map(|home| std::path::PathBuf::from(home).join(".config"))
        })
        .filter(|base| base.is_absolute())?;
    Some(base.join("dbos-gitops"))
}

fn is_private(mode: u32) -> bool {
    mode & 0o077 == 0
}

/// The directory of a private file (a development key, the value-MAC key): the directories
/// missing on the way are created 0700 whatever the umask (the XDG Base Directory spec asks
/// for 0700 too), and the directory itself, when it already exists and others may read or
/// enter it, is tightened to 0700 (it is ours: `dbos-gitops/`, `dev-keys/`); if that is not
/// possible the key is not written. Records what it created in `created`.
pub fn private_dir(dir: &Path, created: &mut Vec<std::path::PathBuf>) -> Result<(), Error> {
    let mut missing = Vec::new();
    let mut current = dir.to_path_buf();
    while std::fs::symlink_metadata(&current).is_err() {
        missing.push(current.clone());
        match current.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => current = parent.to_path_buf(),
            _ => break,
        }
    }
    for path in missing.into_iter().rev() {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&path)
            .map_err(|source| Error::io(&path, "create directory", source))?;
        created.push(path.clone());
        // The umask can only remove bits; an explicit chmod makes it exactly 0700.
        set_dir_private(&path)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata =
            std::fs::metadata(dir).map_err(|source| Error::io(dir, "inspect", source))?;
        if metadata.permissions().mode() & 0o077 != 0 {
            set_dir_private(dir).map_err(|error| {
                Error::input(format!(
                    "refusing to write a private key into `{}`, which other users can read (mode {:04o}): {error}",
                    dir.display(),
                    metadata.permissions().mode() & 0o7777
                ))
                .hint(format!("make it private: `chmod 700 {}`", dir.display()))
            })?;
        }
    }
    Ok(())
}

fn set_dir_private(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|source| Error::io(dir, "set permissions of", source))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
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
    /// The crash marker of the lock the writes are made under (`litter`).
    marker: std::sync::Arc<super::litter::Marker>,
    staged: Vec<(tempfile::NamedTempFile, std::path::PathBuf)>,
    /// The SHA-256 of each staged file's content, which the journal records.
    digests: Vec<String>,
    created_dirs: Vec<std::path::PathBuf>,
}

impl Staging {
    /// Staging under `root`, marking it with `marker` (the lock's, `lock::Held::marker`).
    pub fn new(root: &Path, marker: std::sync::Arc<super::litter::Marker>) -> Self {
        Staging {
            root: root.to_path_buf(),
            marker,
            staged: Vec::new(),
            digests: Vec::new(),
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
        if is_private(mode) {
            private_dir(&parent, &mut self.created_dirs)?;
        } else {
            self.ensure_dir(&parent)?;
        }
        self.marker.before_temporary_file(&parent)?;
        let mut temporary = tempfile::Builder::new()
            .prefix(".dbos-gitops-")
            .tempfile_in(&parent)
            .map_err(|source| Error::io(&parent, "write into", source))?;
        set_mode(temporary.as_file(), mode)
            .and_then(|()| temporary.write_all(bytes))
            .map_err(|source| Error::io(path, "write", source))?;
        // Private files (a development key) may live on another filesystem than the repository,
        // which the one `syncfs` at commit does not cover: make them durable here.
        if is_private(mode) {
            temporary
                .as_file()
                .sync_all()
                .map_err(|source| Error::io(path, "write", source))?;
        }
        self.staged.push((temporary, path.to_path_buf()));
        self.digests.push(crate::layout::digest(bytes));
        Ok(())
    }

    /// Removing a file needs a writable directory: check before anything is renamed.
    pub fn probe_removal(&mut self, path: &Path) -> Result<(), Error> {
        let parent = path.parent().unwrap_or(&self.root);
        self.marker.before_temporary_file(parent)?;
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

    /// The staged files, their targets, their contents' digests and the marker, for
    /// `journal::commit`.
    pub fn into_staged(self) -> Staged {
        Staged {
            files: self.staged,
            digests: self.digests,
            marker: self.marker,
        }
    }
}

/// What [`Staging::into_staged`] hands the journal.
pub struct Staged {
    pub files: Vec<(tempfile::NamedTempFile, std::path::PathBuf)>,
    pub digests: Vec<String>,
    pub marker: std::sync::Arc<super::litter::Marker>,
}

/// Makes every staged file durable before `journal::commit` renames them: one `syncfs` for the
/// whole tree instead of an fsync per file (a build of hundreds of files otherwise spends nearly
/// all its time waiting for the disk).
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
