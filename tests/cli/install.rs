//! Install paths (#24 item 1): `cargo install --git`, from outside the repository and with none
//! of the variables `cargo test` sets, builds the same program as the repository's own build
//! (the same AWS-LC, stripped, the commit in `--version`), and `scripts/dist.sh` makes an archive whose checksums verify and
//! whose SBOM lists our dependencies.
//!
//! The release builds share one target directory, `target/install-tests` (also the pre-commit
//! test's, tests/cli/hooks.rs): dependencies are compiled once per machine, not once per test.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The release target directory the install, dist and pre-commit tests share.
pub fn shared_release_target() -> PathBuf {
    project_root().join("target/install-tests")
}

/// `cargo` as a user runs it: none of the variables `cargo test` itself set for us, and none of
/// the build switches a developer may have exported (aws-lc-sys reads `AWS_LC_SYS_*` from the
/// environment only); a child that inherited them would prove nothing about an install from
/// outside.
pub fn user_cargo(cwd: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", shared_release_target());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("AWS_LC_SYS_") || name == "RUSTFLAGS" || name == "CARGO_BUILD_TARGET" {
            command.env_remove(&name);
        }
    }
    command
}

/// The short commit of the checkout under test, when it is a git checkout.
pub fn head_commit(dir: &Path) -> Option<String> {
    let output = Command::new("git")
        .args(["-C"])
        .arg(dir)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[test]
fn the_test_binary_reports_its_commit() {
    let repo = TestRepo::empty();
    let short = repo.ok(&["-V"]);
    let long = repo.ok(&["--version"]);
    assert!(long.starts_with(short.trim_end()), "{short}\n{long}");
    if let Some(commit) = head_commit(&project_root()) {
        assert!(short.contains(&format!("(commit {commit})")), "{short}");
    }
    assert!(long.contains("\nAWS-LC entropy: "), "{long}");
}

/// The `AWS-LC entropy:` line of a binary's `--version`: what its AWS-LC was built with.
pub fn entropy_line(binary: &Path) -> String {
    let output = Command::new(binary).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .find(|line| line.starts_with("AWS-LC entropy: "))
        .unwrap_or_else(|| panic!("no entropy line in {text}"))
        .to_string()
}

/// Seals one small Secret `runs` times with `binary`; the fastest wall time.
fn fastest_seal(binary: &Path, runs: usize) -> Duration {
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: n\ndata:\n  k: dg==\n";
    let cert = fixture("go-cert.pem");
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            let output = pipe(
                Command::new(binary).args(["seal", "--cert"]).arg(&cert),
                secret.as_bytes(),
            );
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            start.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
fn cargo_install_git_from_outside_the_repository_builds_the_same_program() {
    let outside = tempfile::tempdir().unwrap();
    let root = outside.path().join("root");
    // What a user's `cargo install --git <url>` fetches: the committed tree, without the
    // checkout's untracked files, read through Cargo's own git checkout.
    let source = outside.path().join("source");
    let cloned = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(project_root())
        .arg(&source)
        .output()
        .unwrap();
    assert!(
        cloned.status.success(),
        "git clone: {}",
        String::from_utf8_lossy(&cloned.stderr)
    );
    let started = Instant::now();
    let output = user_cargo(outside.path())
        .args(["install", "--locked", "--quiet", "--git"])
        .arg(format!("file://{}", source.display()))
        .arg("--root")
        .arg(&root)
        .arg("dbos-gitops")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo install --git: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "cargo install --git (shared target dir): {:?}",
        started.elapsed()
    );
    let installed = root.join("bin/dbos-gitops");

    let version = Command::new(&installed).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    // The same AWS-LC as the repository's own build: nothing outside Cargo.toml chose it.
    assert_eq!(
        entropy_line(&installed),
        entropy_line(&binary()),
        "{version}"
    );
    if let Some(commit) = head_commit(&project_root()) {
        assert!(version.contains(&format!("(commit {commit})")), "{version}");
    }
    let size = std::fs::metadata(&installed).unwrap().len();
    assert!(
        size < 20 * 1024 * 1024,
        "the release binary is {size} bytes"
    );
    let symbols = Command::new("nm").arg(&installed).output();
    if let Ok(symbols) = symbols {
        assert!(
            String::from_utf8_lossy(&symbols.stderr).contains("no symbols"),
            "not stripped: {}",
            String::from_utf8_lossy(&symbols.stderr)
        );
    }
    let installed_seal = fastest_seal(&installed, 7);
    let in_repo_seal = fastest_seal(&binary(), 7);
    eprintln!("binary {size} bytes; seal: installed {installed_seal:?}, in-repo (test) build {in_repo_seal:?}");
}

#[test]
fn the_dist_archive_verifies_and_its_sbom_lists_our_dependencies() {
    if !require_tool("cargo-cyclonedx", &["cyclonedx", "--version"]) {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let run = Command::new("bash")
        .arg(project_root().join("scripts/dist.sh"))
        .arg(out.path())
        .env("CARGO_TARGET_DIR", shared_release_target())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "dist.sh: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(out.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let sums = std::fs::read_to_string(out.path().join("SHA256SUMS")).unwrap();
    let archive = sums
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .find(|name| name.ends_with(".tar.gz"))
        .expect("the archive in SHA256SUMS")
        .to_string();
    let version = env!("CARGO_PKG_VERSION");
    let target = archive
        .strip_prefix(&format!("dbos-gitops-{version}-"))
        .and_then(|rest| rest.strip_suffix(".tar.gz"))
        .unwrap_or_else(|| panic!("archive name {archive}"));
    assert!(
        target.contains("linux") || target.contains("darwin"),
        "{target}"
    );

    let listing = Command::new("tar")
        .args(["-tzvf", &archive])
        .current_dir(out.path())
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    let top = archive.trim_end_matches(".tar.gz");
    for entry in [
        "dbos-gitops",
        "README.md",
        "completions/dbos-gitops.bash",
        "completions/_dbos-gitops",
        "completions/dbos-gitops.fish",
        "man/dbos-gitops.1",
        "man/dbos-gitops-version-add.1",
    ] {
        assert!(
            listing.contains(&format!("{top}/{entry}")),
            "no {entry} in\n{listing}"
        );
    }
    assert!(
        listing.contains("root/root") || listing.contains("0/0"),
        "{listing}"
    );

    // Unpacked, the binary is the one the names say.
    let unpacked = tempfile::tempdir().unwrap();
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(out.path().join(&archive))
        .current_dir(unpacked.path())
        .status()
        .unwrap();
    assert!(untar.success());
    let version_line = Command::new(unpacked.path().join(top).join("dbos-gitops"))
        .arg("-V")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version_line.stdout)
        .starts_with(&format!("dbos-gitops {version}")));

    let sbom_name = format!("{top}.cdx.json");
    assert!(sums.contains(&sbom_name), "{sums}");
    let sbom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join(&sbom_name)).unwrap())
            .unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX", "{sbom}");
    let components: Vec<(String, String)> = sbom["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_string(),
                c["version"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let lock = std::fs::read_to_string(project_root().join("Cargo.lock")).unwrap();
    for dependency in [
        "aws-lc-rs",
        "aws-lc-sys",
        "clap",
        "serde_yaml",
        "x509-parser",
    ] {
        let locked = locked_version(&lock, dependency);
        assert!(
            components
                .iter()
                .any(|(name, v)| name == dependency && *v == locked),
            "{dependency} {locked} not in the SBOM's components"
        );
    }
}

/// The version of `name` in Cargo.lock (the first, when there are several).
fn locked_version(lock: &str, name: &str) -> String {
    let marker = format!("name = \"{name}\"\nversion = \"");
    let start = lock
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} not in Cargo.lock"))
        + marker.len();
    lock[start..].split('"').next().unwrap().to_string()
}
