//! Build facts for `--version`.
//!
//! 1. The commit: `DBOS_GITOPS_COMMIT` when set (a build from a source archive can name it),
//!    else `git rev-parse` when this package is the top of a git work tree, else none (a
//!    crates.io or tarball build prints the version alone).
//! 2. The target, for `--version`.
//!
//! Nothing else: every install path (`cargo build`, `cargo install --path`, `--git`, a release
//! archive) builds the same program, since no build setting lives outside `Cargo.toml`. (Up to
//! 0.1.0's first installs, `.cargo/config.toml` turned AWS-LC's CPU-jitter entropy off and this
//! script stopped the builds that lacked it; sealing now takes no random byte from AWS-LC, so
//! that setting is gone: see crates/seal/src/rsa_public.rs.)

// A build script reads what Cargo and the builder set; the product's rule (every variable
// through `env_vars`, clippy.toml) is for the program. README lists `DBOS_GITOPS_COMMIT` under
// "Environment variables" as a build-time one.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=DBOS_GITOPS_TARGET={target}");
    let commit = commit();
    println!("cargo:rustc-env=DBOS_GITOPS_COMMIT={commit}");
}

/// The short commit hash, or an empty string when it cannot be known.
fn commit() -> String {
    println!("cargo:rerun-if-env-changed=DBOS_GITOPS_COMMIT");
    if let Ok(commit) = std::env::var("DBOS_GITOPS_COMMIT") {
        return commit.trim().to_string();
    }
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let git = |arguments: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&manifest_dir)
            .args(arguments)
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        output.status.success().then(|| text.trim().to_string())
    };
    // Only our own work tree: a source archive unpacked inside another repository must not
    // report that repository's commit.
    let top = git(&["rev-parse", "--show-toplevel"]);
    let ours = top
        .as_deref()
        .and_then(|top| Path::new(top).canonicalize().ok())
        .zip(Path::new(&manifest_dir).canonicalize().ok())
        .is_some_and(|(top, manifest)| top == manifest);
    if !ours {
        return String::new();
    }
    // Rebuild when HEAD moves: HEAD itself, the branch it names, and packed refs.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(reference);
    }
    for path in watched {
        if let Some(file) = git(&["rev-parse", "--git-path", &path]) {
            let file = Path::new(&manifest_dir).join(file);
            if file.exists() {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
    }
    git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default()
}
