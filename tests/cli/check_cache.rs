//! `check`'s render cache (#15): an unchanged environment is not rendered again, a changed one
//! is, `--no-cache` renders everything, and a cache that cannot be written never fails the
//! check. Renders are counted by a `kubectl` wrapper on PATH that logs each `kustomize` call
//! and runs the real kubectl.

use crate::support::*;
use std::path::{Path, PathBuf};

/// A directory holding a `kubectl` that appends its arguments to `log` and execs the real one.
fn counting_kubectl(dir: &Path, log: &Path) -> Option<PathBuf> {
    let real = std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("kubectl"))
        .find(|candidate| candidate.is_file())?;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("kubectl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    Some(bin)
}

fn renders(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.starts_with("kustomize"))
        .count()
}

#[test]
fn unchanged_environments_are_not_rendered_again() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::prod();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    repo.ok(&[
        "init",
        "env",
        "staging",
        "--cert",
        &cert,
        "--conductor-version",
        TEST_CONDUCTOR_VERSION,
    ]);
    let tools = tempfile::tempdir().unwrap();
    let log = tools.path().join("calls.log");
    let bin = counting_kubectl(tools.path(), &log).expect("kubectl on PATH");
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let check = |extra: &[&str], cache_dir: Option<&Path>| {
        let mut arguments = vec!["check"];
        arguments.extend_from_slice(extra);
        let mut command = repo.command(&arguments);
        command.env("PATH", &path);
        if let Some(dir) = cache_dir {
            command.env("DBOS_GITOPS_CACHE_DIR", dir);
        }
        let run = Run::from(command.output().unwrap());
        // Findings (unsealed secrets in this bare repository) are fine; could-not-run is not.
        assert_ne!(run.code, 2, "{}{}", run.stdout, run.stderr);
        run.stdout
    };
    let cold = check(&[], None);
    assert_eq!(renders(&log), 2, "cold: both environments render");
    let entries = std::fs::read_dir(repo.home.path().join(".cache/dbos-gitops/render"))
        .unwrap()
        .count();
    assert_eq!(entries, 2);
    assert_eq!(check(&[], None), cold, "a warm check reports the same");
    assert_eq!(renders(&log), 2, "warm: nothing renders");
    // One environment changed: only it renders.
    let env_yaml = repo.read("environments/staging/env.yaml");
    repo.write(
        "environments/staging/env.yaml",
        &env_yaml.replace("replicas: 1", "replicas: 2"),
    );
    repo.ok(&["build"]);
    check(&[], None);
    assert_eq!(renders(&log), 3, "one changed: one render");
    // A change to base/ is read by every overlay: both render.
    let base = repo.read("base/kustomization.yaml");
    repo.write("base/kustomization.yaml", &format!("{base}# touched\n"));
    let stale = {
        let mut command = repo.command(&["check"]);
        command.env("PATH", &path);
        Run::from(command.output().unwrap())
    };
    assert_eq!(renders(&log), 5, "base changed: {}", stale.stdout);
    repo.write("base/kustomization.yaml", &base);
    // --no-cache renders everything, and leaves the warm cache as it was.
    check(&["--no-cache"], None);
    assert_eq!(renders(&log), 7);
    // A cache directory that cannot be created (below a file) never fails the check.
    let blocker = tools.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    assert_eq!(check(&[], Some(&blocker.join("cache"))), cold);
    assert_eq!(renders(&log), 9);
}
