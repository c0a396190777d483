//! The repository lock: one advisory `flock` on the repository's root directory, taken by
//! every command that writes, before it reads anything it will merge, and held until
//! the process exits. Two `seal`s of different keys of one secret, or `version add` racing
//! `seal`, otherwise both read the old tree and the second write drops the first one's change.
//!
//! Readers (`check`, `build --check`, `list`) never take it: every write is a rename, so they
//! see the old file or the new one. A writer waits a bounded time (30 s, or
//! `DBOS_GITOPS_LOCK_TIMEOUT` seconds) and then fails naming the holder (its pid from
//! `/proc/locks` on Linux). Locking the directory writes no file into the tree, and the
//! directory is never replaced, so every writer locks the same inode.
//!
//! Taking the lock also finishes what a killed writer left: `journal::recover` rolls a
//! half-applied plan forward and sweeps staging files, safely, since no other writer runs.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::Error;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The lock this process holds: released when the process exits (the descriptor closes).
static HELD: Mutex<Option<(PathBuf, std::fs::File)>> = Mutex::new(None);

/// Takes the repository lock for the rest of the process (a second call for the same root is a
/// no-op), then recovers from an interrupted writer.
pub fn acquire(root: &Path) -> Result<(), Error> {
    let mut held = HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((held_root, _)) = held.as_ref() {
        if held_root == root {
            return Ok(());
        }
    }
    // The root directory itself: never replaced, and no file appears in the tree.
    let directory = std::fs::File::open(root)
        .map_err(|source| Error::io(root, "open the repository to lock it", source))?;
    let timeout = std::env::var("DBOS_GITOPS_LOCK_TIMEOUT")
        .ok()
        .and_then(|text| text.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_TIMEOUT);
    let started = Instant::now();
    loop {
        match try_lock(&directory) {
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
    *held = Some((root.to_path_buf(), directory));
    drop(held);
    super::litter::watch(root);
    super::journal::recover(root)
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

#[cfg(unix)]
fn try_lock(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    let result = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
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
fn try_lock(_file: &std::fs::File) -> std::io::Result<bool> {
    Ok(true)
}
