//! Issue 12: pods roll when, and only when, a secret value they read changed. Checked on what
//! Argo CD applies: `kubectl kustomize` of the environment.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::*;

const ANNOTATION: &str = "dbos-gitops.io/secrets-sha256";

fn secret(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n  {key}: {value}\n"
    )
}

fn seal(repo: &TestRepo, name: &str, key: &str, value: &str) -> String {
    let run = repo.run_with_stdin(
        &["seal", "--env", "prod"],
        Some(secret(name, key, value).as_bytes()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

/// Whether a rendered pod spec reads any secret (found independently of the tool's own scan).
fn reads_a_secret(deployment: &Value) -> bool {
    let text = deployment["spec"]["template"]["spec"].to_string();
    text.contains("secretKeyRef") || text.contains("secretRef") || text.contains("secretName")
}

/// Deployment name -> its rollout annotation.
fn rollout_annotations(repo: &TestRepo) -> BTreeMap<String, Option<String>> {
    let rendered = repo.kustomize("prod");
    let mut annotations = BTreeMap::new();
    for name in names_of_kind(&rendered, "Deployment") {
        let deployment = find(&rendered, "Deployment", &name);
        let annotation = deployment["spec"]["template"]["metadata"]["annotations"][ANNOTATION]
            .as_str()
            .map(str::to_string);
        assert_eq!(
            annotation.is_some(),
            reads_a_secret(deployment),
            "Deployment `{name}`: the annotation must be there exactly when its pods read a secret"
        );
        annotations.insert(name, annotation);
    }
    annotations
}

fn changed(
    before: &BTreeMap<String, Option<String>>,
    after: &BTreeMap<String, Option<String>>,
) -> Vec<String> {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    before
        .iter()
        .filter(|(name, annotation)| after[*name] != **annotation)
        .map(|(name, _)| name.clone())
        .collect()
}

#[test]
fn each_reader_rolls_exactly_when_a_value_it_reads_changes() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_env(
        "prod",
        &[
            "--domain",
            "dbos.acme.com",
            "--app-image",
            "ghcr.io/acme/app:v1",
            "--oidc",
            "dex",
        ],
    );
    repo.add_version("v2", "prod");
    seal(&repo, "conductor-db", "database-url", "postgres://a");
    seal(&repo, "conductor-license", "license-key", "lic");
    seal(&repo, "dbos-app-db", "database-url", "postgres://app");
    seal(&repo, "conductor-api-key", "api-key", "key");
    let add_user = |email: &str| {
        let run = repo.run_with_stdin(
            &[
                "dex",
                "add-user",
                "--env",
                "prod",
                email,
                "--password-stdin",
            ],
            Some(b"a long password\n"),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    add_user("admin@acme.com");
    let start = rollout_annotations(&repo);
    for reader in ["conductor", "dbos-app-v1", "dbos-app-v2", "dex"] {
        assert!(start[reader].is_some(), "{reader}: {start:?}");
    }
    assert_eq!(start["console"], None, "the Console reads no secret");
    repo.ok(&["build", "--check"]);

    // An unchanged re-seal rolls nothing (and leaves the generated files current).
    assert_eq!(
        seal(&repo, "conductor-db", "database-url", "postgres://a"),
        "unchanged environments/prod/secrets/conductor-db.yaml (1 key)\n"
    );
    repo.ok(&["build", "--check"]);
    assert!(changed(&start, &rollout_annotations(&repo)).is_empty());

    // Conductor's database URL changes: Conductor rolls, nobody else.
    seal(&repo, "conductor-db", "database-url", "postgres://b");
    repo.ok(&["build", "--check"]);
    let after_conductor = rollout_annotations(&repo);
    assert_eq!(changed(&start, &after_conductor), ["conductor"]);

    // The app's database URL changes: every app version rolls (each reads it).
    let set = repo.run_with_stdin(
        &[
            "secrets",
            "set",
            "dbos-app-db",
            "database-url",
            "--from-stdin",
        ],
        Some(b"postgres://app2\n"),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    repo.ok(&["build", "--check"]);
    let after_app = rollout_annotations(&repo);
    assert_eq!(
        changed(&after_conductor, &after_app),
        ["dbos-app-v1", "dbos-app-v2"]
    );

    // Dex restarts when its users change, not on a rebuild.
    repo.ok(&["build"]);
    assert!(changed(&after_app, &rollout_annotations(&repo)).is_empty());
    add_user("second@acme.com");
    repo.ok(&["build", "--check"]);
    let after_user = rollout_annotations(&repo);
    assert_eq!(changed(&after_app, &after_user), ["dex"]);
    repo.ok(&["dex", "remove-user", "--env", "prod", "second@acme.com"]);
    repo.ok(&["build", "--check"]);
    assert_eq!(changed(&after_user, &rollout_annotations(&repo)), ["dex"]);
}
