//! `init`, `init env` and `build`: determinism, ownership, `--check`, and refusals that leave the
//! tree byte-identical.

use crate::support::*;

#[test]
fn two_repos_from_the_same_declarations_are_byte_identical_and_rebuilds_write_nothing() {
    let flags = [
        "--domain",
        "dbos.acme.com",
        "--app-image",
        "ghcr.io/acme/app:v1",
    ];
    let first = TestRepo::with_env("prod", &flags);
    let second = TestRepo::with_env("prod", &flags);
    let contents = |repo: &TestRepo| {
        repo.snapshot()
            .into_iter()
            .map(|(path, (bytes, _))| (path, String::from_utf8_lossy(&bytes).into_owned()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(contents(&first), contents(&second));
    assert!(contents(&first).contains_key(".dbos-gitops.sha256"));

    let before = first.snapshot();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let stdout = first.ok(&["build"]);
    assert_eq!(stdout.trim(), "up to date");
    assert_eq!(
        first.snapshot(),
        before,
        "a second build touched files (content or mtime)"
    );
    assert_eq!(first.run(&["build", "--check"]).code, 0);
}

#[test]
fn check_reports_a_hand_edit_as_a_diff_and_build_refuses_to_overwrite_it() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    let path = "environments/prod/patches/conductor.yaml";
    let edited = repo.read(path).replace("replicas: 1", "replicas: 5");
    repo.write(path, &edited);
    let check = repo.fails(&["build", "--check"], 1);
    assert!(
        check.stdout.contains(&format!("--- a/{path}")),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("-  replicas: 5") && check.stdout.contains("+  replicas: 1"),
        "{}",
        check.stdout
    );

    let before = repo.snapshot();
    let refused = repo.fails(&["build"], 1);
    assert!(refused.stderr.contains(path), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("edited by hand"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(repo.snapshot(), before);

    repo.ok(&["build", "--force"]);
    assert!(repo.read(path).contains("replicas: 1"));
    assert_eq!(repo.run(&["build", "--check"]).code, 0);
}

#[test]
fn check_sees_declaration_changes_and_build_removes_what_is_no_longer_generated() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    repo.write(
        "environments/prod/versions.yaml",
        "active: v2\nversions:\n- name: v2\n  image: ghcr.io/acme/app:v2\n",
    );
    let check = repo.fails(&["build", "--check"], 1);
    assert!(check.stdout.contains("+++ /dev/null"), "{}", check.stdout);
    assert!(check
        .stdout
        .contains("environments/prod/versions/v2/deployment.yaml"));
    assert!(
        repo.exists("environments/prod/versions/v1/deployment.yaml"),
        "--check wrote something"
    );

    let stdout = repo.ok(&["build"]);
    assert!(
        stdout.contains("removed environments/prod/versions/v1/deployment.yaml"),
        "{stdout}"
    );
    assert!(
        !repo.exists("environments/prod/versions/v1"),
        "empty version directory left behind"
    );
    assert!(repo.exists("environments/prod/versions/v2/kustomization.yaml"));
    let record = repo.read(".dbos-gitops.sha256");
    assert!(
        !record.contains("versions/v1/") && record.contains("versions/v2/"),
        "{record}"
    );
}

#[test]
fn files_the_tool_does_not_own_are_never_touched() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    repo.write("environments/prod/README.md", "mine\n");
    repo.write("base/extra.yaml", "kind: ConfigMap\n");
    repo.ok(&["build"]);
    assert_eq!(repo.read("environments/prod/README.md"), "mine\n");
    assert_eq!(repo.read("base/extra.yaml"), "kind: ConfigMap\n");
}

#[test]
fn init_refuses_to_clobber_and_needs_a_repo_url() {
    let repo = TestRepo::new();
    let before = repo.snapshot();
    let again = repo.fails(&["init", "--repo-url", REPO_URL], 1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(repo.snapshot(), before);

    let empty = TestRepo::empty();
    let no_url = empty.fails(&["init"], 2);
    assert!(no_url.stderr.contains("--repo-url"), "{}", no_url.stderr);
    assert!(empty.snapshot().is_empty());

    let with_origin = TestRepo::empty();
    let git = |arguments: &[&str]| {
        std::process::Command::new("git")
            .args(arguments)
            .current_dir(with_origin.path())
            .output()
            .unwrap()
    };
    git(&["init", "-q"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/acme/from-origin.git",
    ]);
    with_origin.ok(&["init"]);
    assert!(with_origin
        .read("dbos-gitops.yaml")
        .contains("repo-url: https://github.com/acme/from-origin.git"));
    let gitignore = with_origin.read(".gitignore");
    assert!(gitignore.contains(".dbos-gitops-*"), "{gitignore}");
}

#[test]
fn commands_find_the_repo_from_a_subdirectory() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    let run = std::process::Command::new(binary())
        .args(["build", "--check"])
        .current_dir(repo.path().join("environments/prod"))
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let elsewhere = TestRepo::empty();
    let run = elsewhere.fails(&["build"], 2);
    assert!(
        run.stderr.contains("dbos-gitops.yaml") && run.stderr.contains("hint:"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_declarations_exit_2_with_file_line_and_hint_and_change_nothing() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    let original = repo.read("environments/prod/env.yaml");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "environments/prod/env.yaml",
            "namespace: [unclosed\n",
            &["environments/prod/env.yaml:1:"],
        ),
        (
            "environments/prod/env.yaml",
            &original.replace("routing: host", "routing: host\nroutng: path"),
            &["environments/prod/env.yaml:", "unknown field `routng`"],
        ),
        (
            "environments/prod/env.yaml",
            &original.replace("namespace: dbos-prod", "namespace: DBOS_Prod"),
            &["environments/prod/env.yaml:", "DNS-1123"],
        ),
        (
            "environments/prod/versions.yaml",
            "active: v1\nversions:\n- name: V1\n  image: app:v1\n",
            &["environments/prod/versions.yaml:", "version name `V1`"],
        ),
        (
            "environments/prod/versions.yaml",
            "active: v9\nversions:\n- name: v1\n  image: app:v1\n",
            &["`v9` is not declared", "hint:"],
        ),
        (
            "dbos-gitops.yaml",
            "repo-url: x\nargocd:\n  namespace: Argo\n",
            &["dbos-gitops.yaml:", "DNS-1123"],
        ),
    ];
    for (file, text, expected) in cases {
        let saved = repo.read(file);
        repo.write(file, text);
        let before = repo.snapshot();
        let run = repo.fails(&["build"], 2);
        for fragment in *expected {
            assert!(
                run.stderr.contains(fragment),
                "{file}: expected {fragment:?} in:\n{}",
                run.stderr
            );
        }
        assert_eq!(repo.snapshot(), before, "{file}: the tree changed");
        assert_eq!(repo.fails(&["build", "--check"], 2).code, 2);
        repo.write(file, &saved);
    }
    repo.ok(&["build", "--check"]);

    for (arguments, fragment) in [
        (vec!["init", "env", "Prod"], "DNS-1123"),
        (
            vec!["init", "env", "qa", "--domain", "not a domain"],
            "domain",
        ),
        (
            vec!["init", "env", "qa", "--app-image", "Bad Image"],
            "image",
        ),
        (
            vec![
                "init",
                "env",
                "qa",
                "--app-image",
                "app:v1",
                "--version",
                "V_1",
            ],
            "version name",
        ),
        (vec!["init", "env", "qa", "--namespace=-x"], "namespace"),
        (vec!["build", "--env", "nope"], "no environment `nope`"),
        (
            vec!["init", "env", "qa", "--cert", "missing.pem"],
            "missing.pem",
        ),
    ] {
        let before = repo.snapshot();
        let run = repo.fails(&arguments, 2);
        assert!(
            run.stderr.contains(fragment),
            "{arguments:?}: {}",
            run.stderr
        );
        assert_eq!(repo.snapshot(), before, "{arguments:?} changed the tree");
    }
    let exists = repo.fails(&["init", "env", "prod"], 1);
    assert!(exists.stderr.contains("already exists"));
}

#[test]
fn a_write_that_fails_midway_leaves_the_tree_byte_identical() {
    let repo = TestRepo::with_env("prod", &["--app-image", "ghcr.io/acme/app:v1"]);
    repo.write(
        "environments/prod/versions.yaml",
        "active: v2\nversions:\n- name: v2\n  image: app:v2\n",
    );
    // A file where build needs a directory: even root cannot write through that, and the
    // failure comes after other files (argocd/, the env's kustomization) were already staged.
    std::fs::remove_dir_all(repo.path().join("environments/prod/versions")).unwrap();
    repo.write("environments/prod/versions", "in the way\n");
    let before = repo.snapshot();
    let run = repo.fails(&["build"], 2);
    assert!(
        run.stderr.contains("could not create directory"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("environments/prod/versions"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.snapshot(), before, "a failed build changed the tree");
    let leftovers: Vec<String> = repo
        .snapshot()
        .into_keys()
        .filter(|path| path.contains(".dbos-gitops-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
