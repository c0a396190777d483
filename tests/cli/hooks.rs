//! `.pre-commit-hooks.yaml` (#15): every hook's entry is a command line the binary accepts and
//! runs (exit 0 or findings, never a usage error), with the hook keys pre-commit requires.

use crate::support::*;

#[test]
fn every_shipped_hook_runs() {
    let text = std::fs::read_to_string(project_root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<serde_json::Value> = serde_yaml::from_str(&text).unwrap();
    let ids: Vec<&str> = hooks
        .iter()
        .map(|hook| hook["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"dbos-gitops-check") && ids.contains(&"dbos-gitops-build-check"),
        "{ids:?}"
    );
    let repo = TestRepo::prod();
    for hook in &hooks {
        for key in ["id", "name", "entry", "language"] {
            assert!(hook[key].is_string(), "{hook}: no `{key}`");
        }
        assert_eq!(hook["pass_filenames"], false, "{hook}");
        let entry: Vec<&str> = hook["entry"].as_str().unwrap().split_whitespace().collect();
        assert_eq!(entry[0], "dbos-gitops");
        let run = repo.run(&entry[1..]);
        assert!(
            run.code == 0 || run.code == 1,
            "{hook}: exit {}: {}",
            run.code,
            run.stderr
        );
    }
    // A fresh repository's generated files are current: the build hook passes.
    assert_eq!(repo.run(&["build", "--check"]).code, 0);
}

/// The real pre-commit against a tagged clone of this repository: `language: rust` hooks are
/// built by pre-commit itself (`cargo install --path .` in its clone, into its cache), then run
/// over a repository the tool generated; a hand-edited generated file then fails the build hook.
#[test]
fn pre_commit_builds_the_hooks_from_a_tagged_clone() {
    if !require_tool("pre-commit", &["--version"]) || !require_tool("git", &["--version"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let hooks_repo = work.path().join("dbos-gitops");
    git_command(work.path(), &["clone", "--quiet", "--no-local"])
        .arg(project_root())
        .arg(&hooks_repo)
        .status()
        .unwrap()
        .success()
        .then_some(())
        .expect("git clone");
    let tag = "v0.0.0-hooks-test";
    assert!(git_command(&hooks_repo, &["tag", tag])
        .status()
        .unwrap()
        .success());
    let tagged = crate::install::head_commit(&hooks_repo).unwrap();

    let repo = TestRepo::prod();
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {tag}\n    hooks:\n      - id: dbos-gitops-build-check\n      - id: dbos-gitops-check-no-render\n",
        hooks_repo.display()
    );
    repo.write(".pre-commit-config.yaml", &config);
    assert!(git_command(repo.path(), &["init", "--quiet"])
        .status()
        .unwrap()
        .success());
    assert!(git_command(repo.path(), &["add", "-A"])
        .status()
        .unwrap()
        .success());
    assert!(
        git_command(repo.path(), &["commit", "--quiet", "-m", "generated"])
            .status()
            .unwrap()
            .success()
    );

    let cache = work.path().join("pre-commit-cache");
    let started = std::time::Instant::now();
    let first = pre_commit(repo.path(), &cache);
    eprintln!("pre-commit install + run: {:?}", started.elapsed());
    // The build hook passes on a fresh repository; the check hook runs too and finds what a
    // fresh environment lacks (its secrets are not sealed yet): both are our binary's words.
    assert_eq!(
        first.code, 1,
        "pre-commit run:\n{}\n{}",
        first.stdout, first.stderr
    );
    let build_line = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("dbos-gitops build --check"))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(
        build_line(&first.stdout).ends_with("Passed"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("- hook id: dbos-gitops-check-no-render"),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("but not sealed"), "{}", first.stdout);

    // The binary pre-commit built is the tagged commit's, with the repository build's AWS-LC.
    let built = find_file(&cache, "dbos-gitops").expect("pre-commit's dbos-gitops");
    let version = std::process::Command::new(&built)
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    assert!(version.contains(&format!("(commit {tagged})")), "{version}");
    assert_eq!(
        crate::install::entropy_line(&built),
        crate::install::entropy_line(&binary()),
        "{version}"
    );

    // A hand edit of a generated file: the build hook fails and names it.
    let edited = "base/kustomization.yaml";
    repo.write(edited, &format!("{}# edited\n", repo.read(edited)));
    let second = pre_commit(repo.path(), &cache);
    assert_eq!(second.code, 1, "{}\n{}", second.stdout, second.stderr);
    assert!(
        build_line(&second.stdout).ends_with("Failed"),
        "{}",
        second.stdout
    );
    assert!(second.stdout.contains(edited), "{}", second.stdout);
}

/// `pre-commit run --all-files` with its cache in `cache`, building into the install tests'
/// shared target directory, with none of `cargo test`'s own `[env]` inherited.
fn pre_commit(dir: &std::path::Path, cache: &std::path::Path) -> Run {
    // The environment of `user_cargo`, given to pre-commit (which runs cargo).
    let cargo = crate::install::user_cargo(dir);
    let mut pre_commit = std::process::Command::new("pre-commit");
    pre_commit
        .args(["run", "--all-files"])
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", cache)
        .env("PRE_COMMIT_COLOR", "never")
        .env("DBOS_GITOPS_NOW", TEST_NOW.to_string());
    for (name, value) in cargo.get_envs() {
        match value {
            Some(value) => pre_commit.env(name, value),
            None => pre_commit.env_remove(name),
        };
    }
    Run::from(pre_commit.output().unwrap())
}

fn find_file(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name)
            && path.parent().is_some_and(|p| p.ends_with("bin"))
        {
            return Some(path);
        }
    }
    None
}
