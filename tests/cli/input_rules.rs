//! One rule, one message (#13) and the input rules of #14: `build` and `check` report a bad
//! versions.yaml in the same words; int32 fields, image references and the Argo CD project are
//! refused with the file, the field and the allowed range or grammar; the editor schema is no
//! stricter than the parser (checked with Python `jsonschema`, an independent validator).

use crate::support::*;
use serde_json::Value;
use std::path::Path;

/// The `check --format json` finding with this code, or a panic listing them all.
fn finding(repo: &TestRepo, code: &str) -> Value {
    let run = repo.run(&["check", "--no-render", "--format", "json"]);
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr));
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["code"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("no `{code}` in {json:#}"))
}

/// Writes `text` to `file`, asserts `build` exits 2 and writes nothing; returns its stderr.
fn build_refuses(repo: &TestRepo, file: &str, text: &str) -> String {
    repo.write(file, text);
    let before = repo.snapshot();
    let run = repo.fails(&["build"], 2);
    assert_eq!(
        repo.snapshot(),
        before,
        "build wrote despite: {}",
        run.stderr
    );
    run.stderr
}

#[test]
fn build_and_check_say_the_same_about_a_bad_versions_file() {
    let repo = TestRepo::prod();
    let file = "environments/prod/versions.yaml";
    let cases = [
        (
            "active: v9\nversions:\n- name: v1\n  image: ghcr.io/acme/app:v1\n",
            "active-version-missing",
            "active",
        ),
        (
            "versions:\n- name: v1\n  image: ghcr.io/acme/app:v1\n",
            "active-version-missing",
            "active",
        ),
        (
            "active: v1\nversions:\n- name: v1\n  image: ghcr.io/acme/app:v1\n- name: v1\n  image: ghcr.io/acme/app:v2\n",
            "duplicate-version",
            "versions[1].name",
        ),
        (
            "active: v1\nversions:\n- name: v1\n  image: ghcr.io/acme/app:vé\n",
            "invalid-declaration",
            "versions[0].image",
        ),
    ];
    for (text, code, field) in cases {
        let stderr = build_refuses(&repo, file, text);
        let block = stderr
            .strip_prefix("error: ")
            .unwrap_or_else(|| panic!("{stderr}"));
        assert!(block.starts_with(&format!("{file}: ")), "{block}");
        assert!(block.contains("\n  hint: "), "{block}");
        let text_run = repo.run(&["check", "--no-render"]);
        assert_eq!(text_run.code, 1, "{}", text_run.stdout);
        assert!(
            text_run.stdout.contains(block),
            "build said:\n{block}\ncheck said:\n{}",
            text_run.stdout
        );
        let found = finding(&repo, code);
        assert_eq!(found["file"], file);
        assert_eq!(found["field"], field, "{found:#}");
        assert_eq!(
            format!(
                "{file}: {}\n  hint: {}\n",
                found["message"].as_str().unwrap(),
                found["hint"].as_str().unwrap()
            ),
            block
        );
    }
}

#[test]
fn argocd_project_is_reported_as_the_project_on_its_own_line() {
    let repo = TestRepo::prod();
    let stderr = build_refuses(
        &repo,
        "dbos-gitops.yaml",
        &format!("repo-url: {REPO_URL}\nrevision: main\nargocd:\n  namespace: argocd\n  project: \"a b/c\"\n"),
    );
    assert!(
        stderr.starts_with("error: dbos-gitops.yaml:5:12: argocd.project: Argo CD project `a b/c` is not a DNS-1123 label"),
        "{stderr}"
    );
    assert!(!stderr.contains("namespace `a b/c`"), "{stderr}");
    // The field is data: `check` cannot load such a repository (exit 2), so the JSON field of
    // resolve errors is held by the int32 test below and parse errors' by declare's unit tests.
}

#[test]
fn integers_in_kubernetes_int32_fields_are_range_checked_by_field() {
    let repo = TestRepo::prod();
    let file = "environments/prod/env.yaml";
    let original = repo.read(file);
    let cases = [
        (
            original.replace("  replicas: 1\n", "  replicas: 4294967295\n"),
            "conductor.replicas is 4294967295; it must be 1 to 2147483647 (a Kubernetes int32)",
            "conductor.replicas",
        ),
        (
            original.replace("app:\n", "app:\n  replicas: 2147483648\n"),
            "app.replicas is 2147483648; it must be 0 to 2147483647 (a Kubernetes int32)",
            "app.replicas",
        ),
        (
            original.replace(
                "app:\n",
                "app:\n  autoscaling:\n    queue: q\n    worker-concurrency: 1\n    max-replicas: 3000000000\n",
            ),
            "app.autoscaling.max-replicas is 3000000000; it must be 0 to 2147483647 (a Kubernetes int32)",
            "app.autoscaling.max-replicas",
        ),
    ];
    for (text, message, field) in cases {
        assert_ne!(text, original, "the case did not apply");
        let stderr = build_refuses(&repo, file, &text);
        assert_eq!(stderr, format!("error: {file}: {message}\n"), "{stderr}");
        let found = finding(&repo, "invalid-declaration");
        assert_eq!(found["field"], field);
        assert_eq!(found["message"], message);
    }
    // The bound itself is accepted and reaches the ScaledObject.
    repo.write(
        file,
        &original.replace(
            "app:\n",
            "app:\n  autoscaling:\n    queue: q\n    worker-concurrency: 1\n    max-replicas: 2147483647\n",
        ),
    );
    repo.ok(&["build"]);
    let scaled = repo.read("environments/prod/autoscaling.yaml");
    assert!(scaled.contains("maxReplicaCount: 2147483647\n"), "{scaled}");
}

#[test]
fn image_references_follow_the_distribution_grammar_and_name_the_field() {
    let repo = TestRepo::prod();
    let file = "environments/prod/env.yaml";
    let original = repo.read(file);
    let bad = original.replace("dbosdev/conductor:", "dbosdev/condüctor:");
    let stderr = build_refuses(&repo, file, &bad);
    assert!(
        stderr.starts_with(&format!(
            "error: {file}: conductor.image: image `dbosdev/condüctor:"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("'ü' is not allowed"), "{stderr}");
    assert_eq!(
        finding(&repo, "invalid-declaration")["field"],
        "conductor.image"
    );
    repo.write(file, &original);
    for (image, reason) in [
        ("ghcr.io/acme/app:vé", "'é' is not allowed"),
        ("ghcr.io/acme/app@sha256:abc", "at least 32 hex digits"),
        ("ghcr.io/acme/app:.v2", "the tag `.v2`"),
        ("ghcr.io/acme//app:v2", "the repository component ``"),
    ] {
        let run = repo.fails(
            &["version", "add", "v2", "--env", "prod", "--image", image],
            2,
        );
        assert!(
            run.stderr.contains(&format!("image `{image}`")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(reason), "{image}: {}", run.stderr);
    }
    let digest = format!("ghcr.io/acme/app@sha256:{}", "0a".repeat(32));
    repo.ok(&["version", "add", "v2", "--env", "prod", "--image", &digest]);
}

#[test]
fn an_empty_block_means_the_defaults_to_the_parser_and_the_schema_alike() {
    let repo = TestRepo::prod();
    repo.ok(&["build"]);
    // The cases for the schema, outside the repository (whose files the test compares).
    let cases_dir = tempfile::tempdir().unwrap();
    let base = "namespace: dbos-prod\ndomain: dbos.acme.com\n";
    let reference = cases_dir.path().join("reference.yaml");
    std::fs::write(&reference, base).unwrap();
    let empty_blocks = format!("{base}ingress:\nconductor:\nconsole:\napp:\n");
    let empty_migrate = format!("{base}app:\n  migrate:\n");
    let wrong_type = format!("{base}conductor: 3\n");
    let negative = format!("{base}conductor:\n  replicas: -1\n");
    let too_big = format!("{base}console:\n  replicas: 2147483648\n");
    // The parser (and the model): empty blocks build exactly what no block builds.
    repo.write("environments/prod/env.yaml", base);
    repo.ok(&["build"]);
    let expected = repo.snapshot();
    let mut verdicts = Vec::new();
    for (index, text) in [
        &empty_blocks,
        &empty_migrate,
        &wrong_type,
        &negative,
        &too_big,
    ]
    .into_iter()
    .enumerate()
    {
        repo.write("environments/prod/env.yaml", text);
        let run = repo.run(&["build"]);
        verdicts.push(run.code == 0);
        if run.code == 0 {
            let now = repo.snapshot();
            let changed: Vec<&String> = now
                .iter()
                .filter(|(path, (bytes, _))| {
                    path.as_str() != "environments/prod/env.yaml"
                        && expected.get(*path).map(|(old, _)| old) != Some(bytes)
                })
                .map(|(path, _)| path)
                .collect();
            assert!(changed.is_empty(), "case {index} changed {changed:?}");
        }
        std::fs::write(cases_dir.path().join(format!("case{index}.yaml")), text).unwrap();
    }
    assert_eq!(verdicts, [true, true, false, false, false]);
    // The schema: the same verdicts.
    let schema = repo.path().join(".dbos-gitops/schema/env.json");
    let cases: Vec<std::path::PathBuf> = (0..5)
        .map(|index| cases_dir.path().join(format!("case{index}.yaml")))
        .collect();
    let mut files: Vec<&Path> = cases.iter().map(|path| path.as_path()).collect();
    files.push(&reference);
    let Some(results) = schema_verdicts(&schema, &files) else {
        return;
    };
    let schema_says: Vec<bool> = cases
        .iter()
        .map(|path| results[&path.to_string_lossy().to_string()].is_null())
        .collect();
    assert_eq!(schema_says, verdicts, "{results:#?}");
    assert!(results[&reference.to_string_lossy().to_string()].is_null());
    // And the repository declaration's `argocd:` block.
    let declaration = cases_dir.path().join("empty-argocd.yaml");
    std::fs::write(&declaration, format!("repo-url: {REPO_URL}\nargocd:\n")).unwrap();
    repo.write("environments/prod/env.yaml", base);
    repo.write(
        "dbos-gitops.yaml",
        &format!("repo-url: {REPO_URL}\nargocd:\n"),
    );
    repo.ok(&["build"]);
    let repo_schema = repo.path().join(".dbos-gitops/schema/dbos-gitops.json");
    let results = schema_verdicts(&repo_schema, &[&declaration]).unwrap();
    assert!(
        results[&declaration.to_string_lossy().to_string()].is_null(),
        "{results:?}"
    );
}
