//! Helpers shared by the integration tests: external tools, skipping, temp dirs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Reports that a check cannot run because a tool is missing: a loud SKIPPED line naming the
/// test (counted by tests/run.sh), or a failure when the `CI` environment variable is set.
pub fn skip(what: &str) {
    dbos_gitops_test_support::skip::skip_or_fail_in_ci(what);
}

/// Whether `program args...` can be started and exits successfully.
pub fn runs_ok(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether `program` exists on PATH (it may exit non-zero without arguments).
pub fn exists(program: &str) -> bool {
    Command::new(program)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// `openssl` on PATH, or a loud skip.
pub fn have_openssl() -> bool {
    let ok = runs_ok("openssl", &["version"]);
    if !ok {
        skip("`openssl` is not on PATH; the certificate was not cross-checked with openssl");
    }
    ok
}

/// Runs a command, panicking with its stderr unless it succeeds.
pub fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn run_stdout(program: &str, args: &[&str]) -> String {
    String::from_utf8(run(program, args).stdout).expect("utf-8 output")
}

/// The workspace root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "dbos-gitops-generate-test-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write temp file");
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}
