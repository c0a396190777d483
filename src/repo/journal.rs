//! Crash consistency: an intent record (`.dbos-gitops-journal`) for the renames and removals of
//! one plan, so a process killed half-way is finished by the next writer instead of leaving a
//! tree that is half old, half new (false "edited by hand" conflicts, orphaned generated files).
//!
//! The protocol: every new file is staged in full (`.dbos-gitops-XXXXXX` beside its target) and
//! made durable; then the journal, listing each staged file with its target and each file to
//! remove, is written atomically and made durable; then the renames (the ownership record last)
//! and removals happen; then the journal is removed. Before the journal exists the tree is the
//! old one and the staging files are litter; once it exists everything it names is on disk, so
//! the next writer (under the repository lock, `lock::acquire`) rolls forward: renames what is
//! still staged, removes what is still there, removes the journal. Then it sweeps every
//! leftover staging file (and the directories only they kept alive); it walks the tree for them
//! only when there was a journal or a writer's marker (`litter`), not on every run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::failpoint::{self, Step};
use super::fs;
use crate::error::Error;

pub const JOURNAL_FILE: &str = ".dbos-gitops-journal";
/// The prefix of every staging file (and of the journal, which the sweep keeps).
pub const STAGING_PREFIX: &str = ".dbos-gitops-";

#[derive(Serialize, Deserialize)]
struct Journal {
    /// `[staged, target]`, relative to the root when under it.
    renames: Vec<[String; 2]>,
    removals: Vec<String>,
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Refuses, before anything is staged, a target that a rename could not create: a file name
/// longer than the file system allows (a 253-character Kubernetes name plus `.yaml`), or a
/// directory where a file goes. Once the journal is written every rename must succeed.
pub fn check_targets<'a>(
    root: &Path,
    targets: impl IntoIterator<Item = &'a Path>,
) -> Result<(), Error> {
    const NAME_MAX: usize = 255;
    for target in targets {
        let shown = relative(root, target);
        for component in target.strip_prefix(root).unwrap_or(target).components() {
            let length = component.as_os_str().len();
            if length > NAME_MAX {
                return Err(Error::input(format!(
                    "`{shown}`: a file name of {length} bytes is longer than the {NAME_MAX} a file system allows"
                ))
                .hint("Kubernetes allows names of up to 253 characters, but the file holding it needs a few more: use a shorter name"));
            }
        }
        if target.is_dir() {
            return Err(Error::input(format!(
                "`{shown}` is a directory where dbos-gitops writes a file"
            ))
            .hint("move it away and rerun"));
        }
    }
    Ok(())
}

/// Renames the staged files into place and removes `removals`, under a journal.
pub fn commit(root: &Path, staging: fs::Staging, removals: &[PathBuf]) -> Result<(), Error> {
    let staged = staging.into_staged();
    fs::sync_staged(root, &staged)?;
    // From here the staged files belong to the journal: no destructor may delete them.
    let staged: Vec<(tempfile::TempPath, PathBuf)> = staged
        .into_iter()
        .map(|(file, target)| (file.into_temp_path(), target))
        .collect();
    let journal = Journal {
        renames: staged
            .iter()
            .map(|(temporary, target)| [relative(root, temporary), relative(root, target)])
            .collect(),
        removals: removals.iter().map(|path| relative(root, path)).collect(),
    };
    if journal.renames.is_empty() && journal.removals.is_empty() {
        return Ok(());
    }
    let journal_path = root.join(JOURNAL_FILE);
    let text = serde_json::to_string(&journal).expect("a journal serialises");
    fs::write_atomic(&journal_path, text.as_bytes())?;
    sync_dirs(root, [root.to_path_buf()])?;
    let keep_for_recovery = |error: Error| {
        Error::input(error.to_string()).hint("the change is recorded in `.dbos-gitops-journal`: fix the cause and run any writing command (e.g. `dbos-gitops build`) to finish it")
    };
    let mut staged = staged.into_iter();
    for (temporary, target) in staged.by_ref() {
        failpoint::step(Step::Rename);
        if let Err(error) = temporary.persist(&target) {
            let source = error.error;
            let _ = error.path.keep();
            for (rest, _) in staged {
                let _ = rest.keep();
            }
            return Err(keep_for_recovery(Error::io(&target, "replace", source)));
        }
    }
    for path in removals {
        failpoint::step(Step::Rename);
        fs::remove_file(path).map_err(keep_for_recovery)?;
        if let Some(parent) = path.parent() {
            fs::remove_empty_dirs(parent, root);
        }
    }
    // The renames and removals are durable before the journal goes.
    let touched = journal
        .renames
        .iter()
        .map(|[_, target]| target)
        .chain(&journal.removals)
        .filter_map(|path| root.join(path).parent().map(Path::to_path_buf));
    sync_dirs(root, touched)?;
    fs::remove_file(&journal_path)
}

/// Finishes an interrupted plan and sweeps staging files when a writer may have left some
/// (`litter`). Call with the repository lock held.
pub fn recover(root: &Path) -> Result<(), Error> {
    let journal_path = root.join(JOURNAL_FILE);
    let mut interrupted = super::litter::left_behind(root);
    if let Some(bytes) = fs::read_optional(&journal_path)? {
        interrupted = true;
        // Written atomically, so it is whole; anything else was not written by us: say so.
        let journal: Journal = serde_json::from_slice(&bytes).map_err(|error| {
            Error::input(format!(
                "`{}` is not a dbos-gitops journal: {error}",
                journal_path.display()
            ))
            .hint("it records an interrupted write; if you did not write it, restore it from the tree's backup or remove it and run `dbos-gitops build --force`")
        })?;
        // Validate it whole before the first rename: a journal is a file in the tree, and one
        // not written by us must not move files anywhere.
        for [staged, target] in &journal.renames {
            allowed_rename(root, &journal_path, &root.join(staged), &root.join(target))?;
        }
        for path in &journal.removals {
            allowed_path(root, &journal_path, &root.join(path))?;
        }
        for [staged, target] in &journal.renames {
            let staged = root.join(staged);
            let target = root.join(target);
            match std::fs::rename(&staged, &target) {
                Ok(()) => {}
                // Renamed before the crash.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::io(
                        &target,
                        "finish the interrupted write of",
                        source,
                    ))
                }
            }
        }
        for path in &journal.removals {
            let path = root.join(path);
            fs::remove_file(&path)?;
            if let Some(parent) = path.parent() {
                fs::remove_empty_dirs(parent, root);
            }
        }
        sync_dirs(root, std::iter::empty())?;
        fs::remove_file(&journal_path)?;
        eprintln!(
            "note: finished a write a killed dbos-gitops command left half done ({} files)",
            journal.renames.len() + journal.removals.len()
        );
    }
    if interrupted {
        sweep(root, root);
        super::litter::swept(root)?;
    }
    Ok(())
}

fn foreign(journal: &Path, path: &Path) -> Error {
    Error::input(format!(
        "`{}` names `{}`, which dbos-gitops never writes: it is not a journal of ours",
        journal.display(),
        path.display()
    ))
    .hint("nothing was changed; remove the journal (and check who wrote it), then run `dbos-gitops build`")
}

/// A journal entry's path must lie inside the repository (`confine`).
fn allowed_path(root: &Path, journal: &Path, path: &Path) -> Result<(), Error> {
    if super::confine::is_inside(root, path)? {
        Ok(())
    } else {
        Err(foreign(journal, path))
    }
}

/// A rename of the journal moves a staging file onto the target beside it, inside the
/// repository or, for a development key, in our private configuration directory.
fn allowed_rename(root: &Path, journal: &Path, staged: &Path, target: &Path) -> Result<(), Error> {
    let staged_name = staged
        .file_name()
        .map(|name| name.to_string_lossy().starts_with(STAGING_PREFIX))
        .unwrap_or(false);
    if !staged_name || staged.parent() != target.parent() {
        return Err(foreign(journal, staged));
    }
    if super::confine::is_inside(root, target)? {
        return Ok(());
    }
    let private = fs::private_config_dir()
        .map(|dir| super::confine::is_inside(&dir, target))
        .transpose()?
        .unwrap_or(false);
    if private {
        Ok(())
    } else {
        Err(foreign(journal, target))
    }
}

/// Removes staging files under `dir` (never following symlinks, never into `.git`) and the
/// directories that held nothing else.
fn sweep(root: &Path, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if name != ".git" {
                sweep(root, &entry.path());
            }
        } else if kind.is_file()
            && name.starts_with(STAGING_PREFIX)
            && name != JOURNAL_FILE
            && name != super::litter::MARKER_FILE
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed = true;
        }
    }
    if removed {
        fs::remove_empty_dirs(dir, root);
    }
}

/// Makes the renames and removals in `dirs` durable: an fsync of each directory when they are
/// few, else one `syncfs` of the repository's filesystem (cheaper than hundreds of fsyncs, but
/// it flushes everything dirty on that filesystem, which is slow on a busy machine).
fn sync_dirs(root: &Path, dirs: impl IntoIterator<Item = PathBuf>) -> Result<(), Error> {
    const FEW: usize = 16;
    let dirs: std::collections::BTreeSet<PathBuf> = dirs.into_iter().collect();
    if !dirs.is_empty() && dirs.len() <= FEW {
        for dir in &dirs {
            // A directory emptied by the removals is gone: nothing to make durable there.
            match std::fs::File::open(dir) {
                Ok(handle) => handle
                    .sync_all()
                    .map_err(|source| Error::io(dir, "flush writes under", source))?,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::io(dir, "open", source)),
            }
        }
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let handle = std::fs::File::open(root).map_err(|source| Error::io(root, "open", source))?;
        // SAFETY: syncfs only reads the descriptor, which `handle` keeps open.
        if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
            return Err(Error::io(
                root,
                "flush writes under",
                std::io::Error::last_os_error(),
            ));
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        if let Ok(handle) = std::fs::File::open(root) {
            let _ = handle.sync_all();
        }
    }
    Ok(())
}
