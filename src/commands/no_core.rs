//! No core dump of a command that holds secrets. A `SIGQUIT` (Ctrl-\) or a crash would
//! otherwise write the process's memory, plaintext values and private keys included, to
//! `core` in the current directory, which is usually the repository root, one `git add -A`
//! away from a commit. `dispatch` calls this before such a command reads anything.
//!
//! Two settings, both inherited by nothing we spawn that matters and both only lowering what
//! the process may do: `RLIMIT_CORE` 0 (soft and hard: the kernel writes no core file;
//! setrlimit(2)), and `PR_SET_DUMPABLE` 0 (prctl(2): no core even through a `core_pattern`
//! pipe to a crash reporter, and no `ptrace` attach or `/proc/<pid>/mem` read by other
//! processes of the same user).

/// Turns core dumps off for the rest of this process; failures are ignored (a system without
/// these calls has no core files of ours to fear either).
pub fn disable_core_dumps() {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct it is given, which lives across the call.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &zero);
        }
    }
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes plain integer arguments and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}
