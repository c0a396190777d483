fn main() {
    // `dbos-gitops ... | head`: a closed stdout ends the process quietly by SIGPIPE, like any
    // Unix filter (status 141 in a shell), instead of a panic in `print!` (exit 101).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // A TAB in a shell that sourced `dbos-gitops completions SHELL`: answered, then exit.
    dbos_gitops::complete_if_asked();
    std::process::exit(dbos_gitops::run(std::env::args_os()));
}
