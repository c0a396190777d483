//! Which `kubectl` runs: the one a shell would run, found without running anything.
//!
//! A POSIX shell's command search (`execvp`) walks `PATH` in order and runs the first file that
//! is a regular file with an execute permission for this user; a non-executable or a directory
//! named `kubectl` earlier on `PATH` is skipped, as is an empty `PATH` entry's current
//! directory here (we never run a `kubectl` from the repository being checked).

use std::path::{Path, PathBuf};

/// The first executable regular `kubectl` on `PATH`.
pub fn find() -> Option<PathBuf> {
    let path = crate::env_vars::get_os(crate::env_vars::PATH)?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join("kubectl"))
        .find(|candidate| executable(candidate))
}

/// A regular file (after links) this process may execute (`access(X_OK)`, which judges by the
/// real user as the shell's search does).
fn executable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt as _;
    if !std::fs::metadata(path).is_ok_and(|metadata| metadata.is_file()) {
        return false;
    }
    let Ok(text) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `text` is a valid NUL-terminated string for the duration of the call.
    unsafe { libc::access(text.as_ptr(), libc::X_OK) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn a_non_executable_file_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kubectl");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!executable(&file));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(executable(&file));
        assert!(!executable(dir.path()), "a directory is not run");
    }
}
