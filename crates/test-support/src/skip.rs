//! Loud skips that `tests/run.sh` can count. A test that cannot run because a tool is missing
//! returns early, and the harness reports it as passed; so every skip writes one line
//!
//! ```text
//! SKIPPED <binary>::<test path>: <why>
//! ```
//!
//! on the real stderr (the harness captures `println!`/`eprintln!` and shows them only for
//! failing tests; a direct write to the stderr handle is not captured). `tests/run.sh` matches
//! each line to the test's `ok` and reports it as skipped instead of passed. Under CI (`CI`
//! set) a missing tool is a failure instead.

use std::io::Write as _;
use std::process::{Command, Stdio};

/// Whether the `CI` environment variable is set: then a missing tool is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// `<binary>::<test path>` of the running test: the test binary's name without cargo's hash
/// suffix, and the harness's name for the test thread (libtest names each test's thread after
/// the test).
pub fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
            _ => stem,
        })
        .unwrap_or_else(|| "unknown".into());
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("unknown");
    format!("{binary}::{test}")
}

/// Prints the `SKIPPED <binary>::<test>: <why>` line on the real stderr, in one write starting
/// on a fresh line, so that parallel tests do not split it.
pub fn skip_loudly(why: &str) {
    let line = format!("\nSKIPPED {}: {why}\n", current_test());
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Under CI, panics with `why`; elsewhere prints the SKIPPED line. Callers return early.
pub fn skip_or_fail_in_ci(why: &str) {
    if in_ci() {
        panic!("{why}, and CI is set: every tool must be there in CI");
    }
    skip_loudly(why);
}

/// Whether `name probe...` runs and exits 0; when not, a skip (or a CI failure).
pub fn require_tool(name: &str, probe: &[&str]) -> bool {
    let found = Command::new(name)
        .args(probe)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|status| status.success())
        .unwrap_or(false);
    if !found {
        skip_or_fail_in_ci(&format!(
            "`{name} {}` does not run on this machine",
            probe.join(" ")
        ));
    }
    found
}
