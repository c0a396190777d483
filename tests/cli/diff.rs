//! `diff` (#15) on real git repositories, rendered by the real `kubectl kustomize`: what Argo
//! CD would change, object by object, with sealed and plain secret values never printed, and
//! the index and the work tree left exactly as they were.

use crate::support::*;
use sha2::{Digest, Sha256};
use std::process::Command;

fn git(repo: &TestRepo, arguments: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(arguments)
        .current_dir(repo.path())
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The repository committed as it is.
fn commit_all(repo: &TestRepo, message: &str) {
    if !repo.exists(".git") {
        git(repo, &["init", "-q", "-b", "main"]);
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "--allow-empty", "-m", message]);
}

/// What must not move: the index's bytes and what git reports as changed.
fn git_state(repo: &TestRepo) -> (String, String) {
    let index = std::fs::read(repo.path().join(".git/index")).expect("index");
    (
        format!("{:x}", Sha256::digest(&index)),
        git(repo, &["status", "--porcelain", "--untracked-files=all"]),
    )
}

fn kubectl_or_skip() -> bool {
    require_tool("kubectl", &["version", "--client"])
}

#[test]
fn unchanged_work_tree_is_exit_0_in_every_format() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    commit_all(&repo, "prod");
    let run = repo.run(&["diff"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "no changes against `HEAD`\n"),
        "{}",
        run.stderr
    );
    let json: serde_json::Value =
        serde_json::from_str(&repo.run(&["diff", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["changes"], serde_json::json!([]));
    let markdown = repo.run(&["diff", "--format", "markdown"]);
    assert_eq!(markdown.code, 0);
    assert!(
        markdown.stdout.contains("No changes"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn version_added_shows_the_new_deployment_and_the_selector_move_without_touching_git() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    commit_all(&repo, "prod");
    repo.ok(&[
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:v2",
    ]);
    let before = git_state(&repo);
    let run = repo.run(&["diff"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let added = run
        .stdout
        .lines()
        .find(|line| line.contains("Deployment/dbos-app-v2"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        added.starts_with("environments/prod") && added.trim_end().ends_with("added"),
        "{added}"
    );
    assert!(
        run.stdout
            .contains("spec.selector.app.kubernetes.io/version: v1 -> v2"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("against `HEAD`"), "{}", run.stdout);
    for format in ["json", "markdown"] {
        let other = repo.run(&["diff", "--format", format]);
        assert_eq!(other.code, 1, "{format}: {}", other.stderr);
    }
    let json: serde_json::Value =
        serde_json::from_str(&repo.run(&["diff", "--format", "json"]).stdout).unwrap();
    let changes = json["changes"].as_array().unwrap();
    assert!(changes.iter().any(|change| change["kind"] == "Deployment"
        && change["name"] == "dbos-app-v2"
        && change["change"] == "added"
        && change["namespace"] == "dbos-prod"));
    // Nothing staged, nothing written: the index's bytes and git's view are unchanged.
    assert_eq!(git_state(&repo), before);
}

#[test]
fn resealed_secret_is_named_and_no_canary_reaches_any_format() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    let set = [
        "secrets",
        "set",
        "--env",
        "prod",
        "conductor-db",
        "database-url",
        "--from-stdin",
    ];
    let first = repo.run_with_stdin(&set, Some(b"postgres://canary-one-Zq8x@db/conductor"));
    assert_eq!(first.code, 0, "{}", first.stderr);
    // A plain Secret (which `check` forbids) slipped into the overlay: its values are redacted too.
    let plain = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  token: canary-two-Zq8x\n";
    repo.write("environments/prod/plain.yaml", plain);
    let kustomization = repo.read("environments/prod/kustomization.yaml");
    repo.write(
        "environments/prod/kustomization.yaml",
        &kustomization.replacen("resources:\n", "resources:\n- plain.yaml\n", 1),
    );
    commit_all(&repo, "sealed");
    // `secrets set` refuses a hand-edited kustomization: re-seal with the generated one, then
    // put the edit back.
    let edited = repo.read("environments/prod/kustomization.yaml");
    repo.write("environments/prod/kustomization.yaml", &kustomization);
    let run = repo.run_with_stdin(&set, Some(b"postgres://canary-three-Zq8x@db/conductor"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    repo.write("environments/prod/kustomization.yaml", &edited);
    repo.write(
        "environments/prod/plain.yaml",
        &format!("{plain}data:\n  other: {}\n", "Y2FuYXJ5LWZvdXItWnE4eA=="),
    );
    let text = repo.run(&["diff"]);
    assert_eq!(text.code, 1, "{}", text.stderr);
    assert!(
        text.stdout.contains("SealedSecret/conductor-db")
            && text
                .stdout
                .contains("encryptedData: `database-url` re-sealed (value not shown)"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("Secret/plain"), "{}", text.stdout);
    for format in ["text", "json", "markdown"] {
        for context in ["0", "3", "1000"] {
            let run = repo.run(&["diff", "--format", format, "-U", context]);
            assert_eq!(run.code, 1, "{format}: {}", run.stderr);
            let output = format!("{}{}", run.stdout, run.stderr);
            // The plaintexts, the base64 one, and its decoding.
            for canary in ["canary", "Y2FuYXJ5", "Zq8x"] {
                assert!(
                    !output.contains(canary),
                    "{format} -U {context} printed {canary}:\n{output}"
                );
            }
        }
    }
}

#[test]
fn removed_environment_and_its_application_are_removed() {
    if !kubectl_or_skip() {
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
    commit_all(&repo, "two environments");
    std::fs::remove_dir_all(repo.path().join("environments/staging")).unwrap();
    repo.ok(&["build"]);
    let run = repo.run(&["diff"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("environments/staging")
                && line.contains("Deployment/conductor")
                && line.trim_end().ends_with("removed")),
        "{}",
        run.stdout
    );
    assert!(
        lines.iter().any(|line| line.starts_with("argocd")
            && line.contains("Application/")
            && line.contains("staging")
            && line.trim_end().ends_with("removed")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("environments/prod"), "{}", run.stdout);
    // The AppProject's destinations list shrank: a YAML diff with -U lines of context.
    assert!(
        run.stdout.contains("--- argocd at HEAD\n")
            && run.stdout.contains("-  - namespace: dbos-staging\n"),
        "{}",
        run.stdout
    );
    let narrow = repo.run(&["diff", "-U", "0"]).stdout;
    assert!(
        narrow.contains("-  - namespace: dbos-staging\n"),
        "{narrow}"
    );
    assert!(
        narrow.lines().count() < run.stdout.lines().count(),
        "{narrow}"
    );
    // --env narrows to one environment (argocd/ left out).
    let prod_only = repo.run(&["diff", "--env", "prod"]);
    assert_eq!(
        (prod_only.code, prod_only.stdout.as_str()),
        (0, "no changes against `HEAD`\n")
    );
}

#[test]
fn unknown_revision_and_no_git_repository_are_exit_2_and_change_nothing() {
    let repo = TestRepo::prod();
    let not_git = repo.run(&["diff"]);
    assert_eq!(not_git.code, 2, "{}", not_git.stderr);
    assert!(
        not_git.stderr.contains("not inside a git repository"),
        "{}",
        not_git.stderr
    );
    commit_all(&repo, "prod");
    let before = git_state(&repo);
    let snapshot = repo.snapshot();
    let run = repo.run(&["diff", "no-such-branch"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("`no-such-branch` does not name a commit"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    assert_eq!(repo.snapshot(), snapshot);
    assert_eq!(git_state(&repo), before);
}

#[test]
fn a_repository_below_the_git_top_level_compares_its_own_subtree() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    let sub = repo.path().join("deploy");
    std::fs::create_dir(&sub).unwrap();
    for entry in std::fs::read_dir(repo.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "deploy" {
            std::fs::rename(entry.path(), sub.join(entry.file_name())).unwrap();
        }
    }
    commit_all(&repo, "nested");
    let unchanged = repo.run(&["--repo", "deploy", "diff"]);
    assert_eq!(
        (unchanged.code, unchanged.stdout.as_str()),
        (0, "no changes against `HEAD`\n"),
        "{}",
        unchanged.stderr
    );
    repo.ok(&[
        "--repo",
        "deploy",
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:v2",
    ]);
    let run = repo.run(&["--repo", "deploy", "diff"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("Deployment/dbos-app-v2"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("Deployment/conductor"),
        "{}",
        run.stdout
    );
}
