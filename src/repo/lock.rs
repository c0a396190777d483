//! The repository lock: one advisory `flock` on the repository's root directory, taken by
//! every command that writes, before it reads anything it will merge, and held until
//! the process exits. Two `seal`s of different keys of one secret, or `version add` racing
//! `seal`, otherwise both read the old tree and the second write drops the first one's change.
//!
//! Readers that compare generated files with the ownership record (`check`, `build --check`)
//! take it shared (`shared`, a [`Shared`] value they drop when they have read) while they read
//! the tree: each file is renamed whole, but a plan renames many, and a reader between two
//! renames saw a record that did not match the files (false "edited by hand"). Shared holders
//! do not block one another; a writer waits for them, and they for it. A reader that cannot get
//! it in time (a writer is busy) reads anyway and says a write is in progress
//! ([`Shared::writer_active`]) instead of trusting what it read. Other
//! readers (`list`) never take it. A writer waits a bounded time (30 s, or
//! `DBOS_GITOPS_LOCK_TIMEOUT` seconds, 0 to 3600) and then fails naming the holder (its pid
//! from `/proc/locks` on Linux). Locking the directory writes no file into the tree, and the
//! directory is never replaced, so every writer locks the same inode.
//!
//! Taking the lock also finishes what a killed writer left: `journal::recover` rolls a
//! half-applied plan forward and sweeps staging files, safely, since no other writer runs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::litter::Marker;
use crate::error::Error;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const TIMEOUT_VARIABLE: &str = crate::env_vars::LOCK_TIMEOUT.name;
/// The longest wait `DBOS_GITOPS_LOCK_TIMEOUT` may ask for, in seconds.
const MAX_TIMEOUT_SECONDS: f64 = 3600.0;

/// How long to wait for the lock: `DBOS_GITOPS_LOCK_TIMEOUT` seconds (a number from 0 to 3600),
/// else 30 s. Anything else is refused: a negative, infinite or not-a-number value used to
/// panic every writer, and a word was silently ignored.
pub fn timeout() -> Result<Duration, Error> {
    let Some(value) = crate::env_vars::get_os(crate::env_vars::LOCK_TIMEOUT) else {
        return Ok(DEFAULT_TIMEOUT);
    };
    let text = value.to_string_lossy();
    let seconds = text
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && (0.0..=MAX_TIMEOUT_SECONDS).contains(seconds));
    match seconds {
        Some(seconds) => Ok(Duration::from_secs_f64(seconds)),
        None => Err(Error::input(format!(
            "{TIMEOUT_VARIABLE} is `{text}`: expected a number of seconds from 0 to {MAX_TIMEOUT_SECONDS}"
        ))
        .hint(format!("set it to e.g. `60`, or unset it for the default of {} s", DEFAULT_TIMEOUT.as_secs()))),
    }
}

/// The lock taken shared by a reader (what a snapshot-mode `Workspace` holds): released when it
/// drops, or earlier by [`Shared::release`] once the reader has read what it compares.
#[derive(Debug, Default)]
pub struct Shared {
    /// The locked descriptor of the root directory; `None` when this process writes (its
    /// exclusive lock covers the reader), on a filesystem without locks, after `release`, or
    /// when a writer kept it past the timeout.
    directory: Option<std::fs::File>,
    /// The reader gave up waiting for a writer: what it reads may be half written.
    writer_active: bool,
}

impl Shared {
    /// Whether a writer still held the lock when the reader stopped waiting.
    pub fn writer_active(&self) -> bool {
        self.writer_active
    }

    /// Lets writers in again (closing the descriptor releases the flock).
    pub fn release(&mut self) {
        self.directory = None;
    }
}

/// Takes the lock shared for a reader, waiting the bounded time; when a writer still holds it
/// then, reads go ahead and [`Shared::writer_active`] says so. Nothing to take in the process
/// that holds it exclusively.
pub fn shared(root: &Path) -> Result<Shared, Error> {
    let timeout = timeout()?;
    {
        let held = HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if held
            .as_ref()
            .is_some_and(|(held_root, ..)| held_root == root)
        {
            return Ok(Shared::default());
        }
    }
    let Ok(directory) = std::fs::File::open(root) else {
        return Ok(Shared::default());
    };
    let started = Instant::now();
    loop {
        match try_lock(&directory, Mode::Shared) {
            Ok(true) => break,
            Ok(false) => {}
            // A filesystem without locks: read as before.
            Err(_) => return Ok(Shared::default()),
        }
        if started.elapsed() >= timeout {
            return Ok(Shared {
                directory: None,
                writer_active: true,
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(Shared {
        directory: Some(directory),
        writer_active: false,
    })
}

/// The exclusive lock this process holds, by root: released when the process exits (the
/// descriptor closes) or its [`Held`] drops. Process-wide on purpose: `flock` locks belong to
/// an open file description, so a second exclusive lock of the same directory from this
/// process would wait for the first, its own, until the timeout; the table lets a nested
/// writer (and a reader inside a writer) see that the lock is already this process's.
/// The crash marker (`litter::Marker`) of the held root rides with it, so a nested writer marks
/// through the same value as the outer one.
static HELD: Mutex<Option<(PathBuf, std::fs::File, Arc<Marker>)>> = Mutex::new(None);

/// Takes the repository lock until its [`Held`] drops (a second call for the same root gets the
/// held root's marker), then recovers from an interrupted writer.
fn acquire(root: &Path) -> Result<Arc<Marker>, Error> {
    let mut held = HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((held_root, _, marker)) = held.as_ref() {
        if held_root == root {
            return Ok(Arc::clone(marker));
        }
    }
    // The root directory itself: never replaced, and no file appears in the tree.
    let directory = std::fs::File::open(root)
        .map_err(|source| Error::io(root, "open the repository to lock it", source))?;
    let timeout = timeout()?;
    let started = Instant::now();
    loop {
        match try_lock(&directory, Mode::Exclusive) {
            Ok(true) => break,
            Ok(false) => {}
            Err(source) => return Err(Error::io(root, "lock", source)),
        }
        if started.elapsed() >= timeout {
            return Err(Error::input(format!(
                "another dbos-gitops command is writing `{}`{}; gave up after {:.1} s",
                root.display(),
                holder(&directory)
                    .map(|holder| format!(" ({holder})"))
                    .unwrap_or_default(),
                timeout.as_secs_f64()
            ))
            .hint("wait for it to finish and rerun; the lock is released as soon as that process exits, however it ends"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let marker = Arc::new(Marker::new(root));
    *held = Some((root.to_path_buf(), directory, Arc::clone(&marker)));
    drop(held);
    super::journal::recover(root)?;
    Ok(marker)
}

/// The repository lock as a value (what a write-mode `Workspace` holds, as cargo's
/// `util/flock.rs` hands out a `FileLock`): taken by [`exclusive`], released when it drops.
#[derive(Debug)]
pub struct Held {
    root: PathBuf,
    /// Whether this value took the lock: a second `exclusive` of a root this process already
    /// holds gets a value that leaves the lock to the first when it drops.
    owner: bool,
    /// The crash marker of the locked root: the writes made under this lock mark through it.
    marker: Arc<Marker>,
}

impl Held {
    /// What a plan's writes mark the repository with (`fs::Staging`, the journal).
    pub fn marker(&self) -> &Arc<Marker> {
        &self.marker
    }
}

/// Takes the repository lock (`acquire`) and returns it as a value.
pub fn exclusive(root: &Path) -> Result<Held, Error> {
    let already = HELD
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
        .is_some_and(|(held_root, ..)| held_root == root);
    let marker = acquire(root)?;
    Ok(Held {
        root: root.to_path_buf(),
        owner: !already,
        marker,
    })
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        let mut held = HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if held
            .as_ref()
            .is_some_and(|(held_root, ..)| *held_root == self.root)
        {
            // The marker goes while the lock is still ours: after, it could be another
            // writer's (`Marker::finish`). Then closing the descriptor releases the flock.
            self.marker.finish();
            held.take();
        }
    }
}

/// Who holds the lock on `directory`: its pid from `/proc/locks` and the words of its command
/// line up to the first flag (never the flags: a `--database-url` holds a password).
#[cfg(target_os = "linux")]
fn holder(directory: &std::fs::File) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let inode = directory.metadata().ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    let pid = locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // `1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF`
        let (kind, pid, device_inode) = (fields.get(1)?, fields.get(4)?, fields.get(5)?);
        (*kind == "FLOCK" && device_inode.rsplit(':').next()? == inode.to_string())
            .then(|| pid.to_string())
    })?;
    let command = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| {
            bytes
                .split(|byte| *byte == 0)
                .map(|word| String::from_utf8_lossy(word).into_owned())
                .take_while(|word| !word.is_empty() && !word.starts_with('-'))
                .take(4)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Some(if command.is_empty() {
        format!("held by pid {pid}")
    } else {
        format!("held by pid {pid}: `{command}`")
    })
}

#[cfg(not(target_os = "linux"))]
fn holder(_directory: &std::fs::File) -> Option<String> {
    None
}

#[derive(Clone, Copy)]
enum Mode {
    Exclusive,
    Shared,
}

#[cfg(unix)]
fn try_lock(file: &std::fs::File, mode: Mode) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    let operation = match mode {
        Mode::Exclusive => libc::LOCK_EX,
        Mode::Shared => libc::LOCK_SH,
    };
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    let result = unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) };
    if result == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => Ok(false),
        _ => Err(error),
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &std::fs::File, _mode: Mode) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether another open file description could take the lock now.
    fn free(root: &Path) -> bool {
        let other = std::fs::File::open(root).expect("open the root");
        let taken = try_lock(&other, Mode::Exclusive).expect("flock");
        drop(other);
        taken
    }

    /// A second `exclusive` of a root the process holds (promote reads two environments, a
    /// command may open a workspace inside another) must not release the first when it drops.
    #[test]
    fn a_nested_exclusive_lock_leaves_the_lock_to_the_outer_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let outer = exclusive(root).expect("outer");
        assert!(!free(root), "held by the outer value");
        let inner = exclusive(root).expect("inner");
        drop(inner);
        assert!(!free(root), "the inner value dropped the outer one's lock");
        drop(outer);
        assert!(free(root), "the outer value releases it");
    }
}
