//! Faults and hostile input, round two (#23): readers never report a writer's half-state as a
//! hand edit, and a crash never leaves generated files ahead of the declarations (item 8);
//! CRLF checkouts (item 5); no core dump of a command holding secrets (item 2); no token from
//! the origin URL in the repository (item 3); `DBOS_GITOPS_LOCK_TIMEOUT` and the generated
//! `.gitignore` (item 11).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::support::*;

fn have_git() -> bool {
    Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// The finding codes of `check --no-render --format json`.
fn codes(repo: &TestRepo) -> BTreeSet<String> {
    let run = repo.run(&["check", "--no-render", "--format", "json"]);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr));
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A copy of `repo` in a directory of its own (and a `$HOME` of its own).
fn copy(repo: &TestRepo) -> TestRepo {
    let copy = TestRepo::empty();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", repo.path().display()))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    copy
}

#[test]
fn issue_23_check_during_version_activate_reports_no_false_hand_edit() {
    let repo = TestRepo::prod();
    repo.add_version("v2", "prod");
    let done = AtomicBool::new(false);
    let mut checks = 0;
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut failures = Vec::new();
            for round in 0..24 {
                let version = if round % 2 == 0 { "v1" } else { "v2" };
                let run = repo.run(&[
                    "version",
                    "activate",
                    version,
                    "--env",
                    "prod",
                    "--traffic-only",
                ]);
                if run.code != 0 {
                    failures.push(run.stderr);
                }
            }
            done.store(true, Ordering::SeqCst);
            failures
        });
        while !done.load(Ordering::SeqCst) {
            let found = codes(&repo);
            assert!(
                !found.contains("hand-edited") && !found.contains("stale-generated"),
                "a reader saw a writer's half-state: {found:?}"
            );
            checks += 1;
            // A pause between checks, as between a user's commands: back-to-back readers
            // would keep the shared lock held and the writer waiting.
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        let failures = writer.join().unwrap();
        assert!(failures.is_empty(), "{failures:#?}");
    });
    assert!(checks > 3, "only {checks} checks overlapped the writes");
}

/// `dex remove-user` of the last user killed at every rename and removal: the reader says a
/// write was interrupted (never "edited by hand"), the generated kustomization never drops the
/// secret before the declarations do, and the next writer finishes it.
#[test]
fn issue_23_a_killed_dex_remove_user_is_reported_as_interrupted_and_ordered() {
    let base = TestRepo::with_env("prod", &["--domain", "dbos.acme.com", "--oidc", "dex"]);
    let email = "ann@acme.com";
    let run = base.run_with_stdin(
        &[
            "dex",
            "add-user",
            "--env",
            "prod",
            email,
            "--password-stdin",
        ],
        Some(b"secret password\n"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let kustomization = "environments/prod/kustomization.yaml";
    let secret = "environments/prod/secrets/dex-users.yaml";
    assert!(base.read(kustomization).contains("secrets/dex-users.yaml"));
    let mut kills = 0;
    for step in 1.. {
        assert!(step < 30, "dex remove-user never finished");
        let victim = copy(&base);
        let killed = Run::from(pipe(
            victim
                .command(&["dex", "remove-user", "--env", "prod", email])
                .env("DBOS_GITOPS_FAILPOINT", format!("rename:{step}")),
            b"",
        ));
        if killed.code == 0 {
            break;
        }
        assert_eq!(killed.code, -1, "rename:{step}: {}", killed.stderr);
        kills += 1;
        let found = codes(&victim);
        assert!(!found.contains("hand-edited"), "rename:{step}: {found:?}");
        assert!(
            found.contains("write-in-progress"),
            "rename:{step}: {found:?}"
        );
        // Generated files never ahead of the declarations they come from.
        if !victim
            .read(kustomization)
            .contains("secrets/dex-users.yaml")
        {
            assert!(
                !victim.exists(secret),
                "rename:{step}: the secret outlived its listing"
            );
            assert!(!victim
                .read("environments/prod/dex-users.yaml")
                .contains(email));
        }
        victim.ok(&["build"]);
        let found = codes(&victim);
        assert!(
            !found.contains("hand-edited") && !found.contains("write-in-progress"),
            "after build, rename:{step}: {found:?}"
        );
        assert!(!victim.exists(secret) && !victim.read(kustomization).contains("dex-users"));
    }
    assert!(kills >= 2, "killed only {kills} times");
}

fn crlf_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for sub in ["base", "environments", "argocd"] {
        let mut stack = vec![dir.join(sub)];
        while let Some(current) = stack.pop() {
            for entry in std::fs::read_dir(&current).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if std::fs::read(&path)
                    .unwrap()
                    .windows(2)
                    .any(|pair| pair == b"\r\n")
                {
                    found.push(path.strip_prefix(dir).unwrap().display().to_string());
                }
            }
        }
    }
    found
}

/// A repository made before `.gitattributes` existed, cloned with `core.autocrlf=true`: every
/// text file is CRLF on disk, nothing is "edited by hand", writers work, `build` adds
/// `.gitattributes` once, and a clone of that commit is LF whatever `core.autocrlf` says.
#[test]
fn issue_23_a_crlf_checkout_is_not_edited_by_hand_and_build_adds_gitattributes_once() {
    if !have_git() {
        eprintln!("skipped: no git");
        return;
    }
    let origin = TestRepo::prod();
    std::fs::remove_file(origin.path().join(".gitattributes")).unwrap();
    git(origin.path(), &["init", "-q", "-b", "main"]);
    git(origin.path(), &["add", "-A"]);
    git(origin.path(), &["commit", "-q", "-m", "before #23"]);
    git(
        origin.path(),
        &["config", "receive.denyCurrentBranch", "ignore"],
    );
    let clone = TestRepo::empty();
    let url = origin.path().to_string_lossy().into_owned();
    git(
        clone.path(),
        &["clone", "-q", "-c", "core.autocrlf=true", &url, "."],
    );
    let crlf = crlf_files(clone.path());
    assert!(crlf.len() > 10, "git did not check out CRLF: {crlf:?}");
    let found = codes(&clone);
    assert!(
        !found.contains("hand-edited") && !found.contains("stale-generated"),
        "{found:?}"
    );
    clone.ok(&["build", "--check"]);
    let first = clone.ok(&["build"]);
    assert!(
        first.contains(".gitattributes") && first.contains("core.autocrlf"),
        "{first}"
    );
    let second = clone.ok(&["build"]);
    assert!(!second.contains(".gitattributes"), "said twice: {second}");
    clone.add_version("v2", "prod");
    assert!(git(clone.path(), &["status", "--porcelain"]).contains(".gitattributes"));
    git(clone.path(), &["add", "-A"]);
    git(clone.path(), &["commit", "-q", "-m", "v2"]);
    let url = clone.path().to_string_lossy().into_owned();
    let again = TestRepo::empty();
    git(
        again.path(),
        &["clone", "-q", "-c", "core.autocrlf=true", &url, "."],
    );
    assert_eq!(crlf_files(again.path()), Vec::<String>::new());
    let found = codes(&again);
    assert!(!found.contains("hand-edited"), "{found:?}");
    // Binary-safe: a binary file under environments/ is stored as it was.
    let binary = b"\x00\x01\r\n\xff";
    std::fs::write(again.path().join("environments/prod/blob.bin"), binary).unwrap();
    git(again.path(), &["add", "environments/prod/blob.bin"]);
    let stored = Command::new("git")
        .args(["cat-file", "blob", ":environments/prod/blob.bin"])
        .current_dir(again.path())
        .output()
        .unwrap()
        .stdout;
    assert_eq!(stored, binary);
}

/// `secrets set` waiting for its value on stdin: no core file limit, not dumpable, and a
/// `SIGQUIT` (whose default action dumps core) writes no `core` in its directory.
#[test]
fn issue_23_a_command_holding_secrets_dumps_no_core() {
    let repo = TestRepo::prod();
    let cwd = tempfile::tempdir().unwrap();
    let repo_dir = repo.path().to_string_lossy().into_owned();
    let spawn = |program: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -c unlimited 2>/dev/null; exec {program}"))
            .current_dir(cwd.path())
            .env("HOME", repo.home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let binary = binary().to_string_lossy().into_owned();
    let mut child = spawn(&format!(
        "'{binary}' --repo '{repo_dir}' secrets set conductor-license license-key --env prod --from-stdin"
    ));
    let pid = child.id();
    let core_limit = || {
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
        limits
            .lines()
            .find(|line| line.starts_with("Max core file size"))
            .map(|line| {
                line.split_whitespace()
                    .skip(4)
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    // The shell set it unlimited; the command, once dispatched, lowers it to 0 for itself.
    let started = std::time::Instant::now();
    while core_limit() != "0 0" && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(core_limit(), "0 0");
    // Still waiting for the value on stdin: the secret's command is the one signalled.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(child.try_wait().unwrap().is_none());
    kill(pid, "QUIT");
    let status = child.wait().unwrap();
    assert!(!status.success());
    // A control process under the same limit does dump: the check above could fail.
    let mut control = spawn("sleep 30");
    std::thread::sleep(std::time::Duration::from_millis(200));
    kill(control.id(), "QUIT");
    let _ = control.wait();
    let cores: Vec<String> = std::fs::read_dir(cwd.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("core"))
        .collect();
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    if cores.is_empty() {
        eprintln!(
            "note: no control core either (core_pattern `{}`): only the limits held",
            pattern.trim()
        );
        return;
    }
    let control_core = |name: &str| name == "core" || name == format!("core.{}", control.id());
    assert!(
        cores.iter().all(|name| control_core(name)) && cores.len() == 1,
        "a core of the secret-holding command: {cores:?}"
    );
}

fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn issue_23_init_strips_credentials_from_the_origin_url() {
    if !have_git() {
        eprintln!("skipped: no git");
        return;
    }
    let repo = TestRepo::empty();
    git(repo.path(), &["init", "-q"]);
    let token = "ghp_S3cretT0kenValue1234567890abcdef";
    git(
        repo.path(),
        &[
            "remote",
            "add",
            "origin",
            &format!("https://oauth2:{token}@github.com/acme/deploy.git"),
        ],
    );
    let run = repo.run(&["init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("removed the credentials"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains(token) && !run.stderr.contains(token));
    repo.ok(&[
        "init",
        "env",
        "prod",
        "--cert",
        &fixture("go-cert.pem").to_string_lossy(),
    ]);
    let mut seen = 0;
    for (path, (bytes, _)) in repo.snapshot() {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(token),
            "{path} holds the token"
        );
        seen += 1;
    }
    assert!(seen > 10);
    assert!(repo
        .read("dbos-gitops.yaml")
        .contains("repo-url: https://github.com/acme/deploy.git"));
    assert!(repo
        .read("argocd/applications/prod.yaml")
        .contains("https://github.com/acme/deploy.git"));
}

#[test]
fn issue_23_a_bad_lock_timeout_is_refused_naming_the_variable() {
    let repo = TestRepo::prod();
    let before = repo.snapshot();
    for value in ["-1", "inf", "NaN", "1e300", "abc", "", "3601"] {
        for arguments in [&["build"][..], &["check", "--no-render"][..]] {
            let run = Run::from(pipe(
                repo.command(arguments)
                    .env("DBOS_GITOPS_LOCK_TIMEOUT", value),
                b"",
            ));
            assert_eq!(run.code, 2, "{value:?} {arguments:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("DBOS_GITOPS_LOCK_TIMEOUT")
                    && run.stderr.contains("from 0 to 3600"),
                "{value:?}: {}",
                run.stderr
            );
        }
    }
    assert!(before == repo.snapshot());
    for value in ["0", "2.5", " 60 "] {
        let run = Run::from(pipe(
            repo.command(&["build"])
                .env("DBOS_GITOPS_LOCK_TIMEOUT", value),
            b"",
        ));
        assert_eq!(run.code, 0, "{value:?}: {}", run.stderr);
    }
}

/// The generated `.gitignore` keeps core dumps and build output out of git (by real `git
/// check-ignore`), but not a directory or a file that merely starts with `core`.
#[test]
fn issue_23_gitignore_ignores_core_dumps_and_target() {
    if !have_git() {
        eprintln!("skipped: no git");
        return;
    }
    let repo = TestRepo::prod();
    git(repo.path(), &["init", "-q"]);
    let ignored = |path: &str| {
        Command::new("git")
            .args(["check-ignore", "-q", "--no-index", path])
            .current_dir(repo.path())
            .status()
            .unwrap()
            .success()
    };
    for path in [
        "core",
        "core.12345",
        "environments/prod/core",
        "target/x.key",
        "target/debug/a",
    ] {
        assert!(ignored(path), "{path} is not ignored");
    }
    std::fs::create_dir_all(repo.path().join("core")).unwrap();
    for path in ["core/app.yaml", "environments/prod/core.yaml", "corefile"] {
        assert!(!ignored(path), "{path} is ignored");
    }
}
