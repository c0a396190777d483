//! Build facts for `--version`, and the one build setting every install path must share.
//!
//! 1. The commit: `DBOS_GITOPS_COMMIT` when set (a build from a source archive can name it),
//!    else `git rev-parse` when this package is the top of a git work tree, else none (a
//!    crates.io or tarball build prints the version alone).
//! 2. AWS-LC's CPU-jitter entropy. aws-lc-sys decides at its own build, from the environment
//!    only (`AWS_LC_SYS_NO_JITTER_ENTROPY`, or its per-target form): it has no Cargo feature for
//!    it, and AWS-LC offers no run-time switch. The repository's `.cargo/config.toml` sets it,
//!    which `cargo build` and `cargo install --path DIR` read, but `cargo install --git` and a
//!    registry install do not. Cargo gives the same `[env]` and process environment to every
//!    build script, so what we see here is what aws-lc-sys saw: when the setting is missing we
//!    stop the build with how to fix it, instead of building a slower, different program.
//!    A deliberate `AWS_LC_SYS_NO_JITTER_ENTROPY=0` builds (with a warning).

// A build script reads what Cargo and the builder set; the product's rule (every variable
// through `env_vars`, clippy.toml) is for the program. README lists these two under
// "Environment variables" as build-time ones.
#![allow(clippy::disallowed_methods)]

#[path = "build/jitter.rs"]
mod jitter;

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/jitter.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=DBOS_GITOPS_TARGET={target}");
    check_jitter(&target);
    let commit = commit();
    println!("cargo:rustc-env=DBOS_GITOPS_COMMIT={commit}");
}

fn check_jitter(target: &str) {
    let names = jitter::variable_names(target);
    for name in &names {
        println!("cargo:rerun-if-env-changed={name}");
    }
    let value = names.iter().find_map(|name| std::env::var(name).ok());
    match jitter::decide(value.as_deref()) {
        jitter::Decision::Off => {}
        jitter::Decision::DeliberatelyOn => println!(
            "cargo:warning=AWS_LC_SYS_NO_JITTER_ENTROPY is false: AWS-LC's CPU-jitter entropy is built in, and every process that seals pays ~20 ms for it"
        ),
        jitter::Decision::Missing => {
            eprintln!("{}", jitter::MISSING_HELP);
            std::process::exit(1);
        }
    }
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
