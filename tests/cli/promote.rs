//! Issue #11: `version promote V --from SRC --to DST` adds V to DST with exactly the image it has
//! in SRC and nothing else; the target renders with `kubectl kustomize`, and every refusal leaves
//! the tree byte-identical.

use crate::support::*;

/// `staging` with v1 and v2 (v2 active) and `prod` with v1, in one repository.
fn staging_and_prod() -> TestRepo {
    let repo = TestRepo::with_env("staging", &["--app-image", "ghcr.io/acme/app:v1"]);
    repo.ok(&[
        "version",
        "add",
        "v2",
        "--env",
        "staging",
        "--image",
        "ghcr.io/acme/app@sha256:2222222222222222222222222222222222222222222222222222222222222222",
    ]);
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    repo.ok(&[
        "init",
        "env",
        "prod",
        "--app-image",
        "ghcr.io/acme/app:v1",
        "--cert",
        &cert,
    ]);
    repo
}

/// The files under `dir`, with their bytes.
fn files_under(repo: &TestRepo, dir: &str) -> Vec<(String, Vec<u8>)> {
    repo.snapshot()
        .into_iter()
        .filter(|(path, _)| path.starts_with(dir))
        .map(|(path, (bytes, _))| (path, bytes))
        .collect()
}

#[test]
fn issue_11_promote_copies_the_image_and_nothing_else() {
    let repo = staging_and_prod();
    let staging = files_under(&repo, "environments/staging/");
    let prod_env = repo.read("environments/prod/env.yaml");
    let prod_secrets = files_under(&repo, "environments/prod/secrets/");

    let stdout = repo.ok(&[
        "version", "promote", "v2", "--from", "staging", "--to", "prod",
    ]);
    assert!(
        stdout.starts_with("promoting `v2` from `staging` (image `ghcr.io/acme/app@sha256:2222"),
        "{stdout}"
    );
    assert!(stdout.contains("added version `v2` to `prod`"), "{stdout}");
    let versions = repo.read("environments/prod/versions.yaml");
    assert!(
        versions.contains("ghcr.io/acme/app@sha256:2222222222222222222222222222222222222222222222222222222222222222"),
        "{versions}"
    );
    // Nothing else copied: the source is untouched, the target keeps its own settings and secrets.
    assert_eq!(files_under(&repo, "environments/staging/"), staging);
    assert_eq!(repo.read("environments/prod/env.yaml"), prod_env);
    assert_eq!(
        files_under(&repo, "environments/prod/secrets/"),
        prod_secrets
    );
    assert_eq!(repo.run(&["build", "--check"]).code, 0);

    if require_tool("kubectl", &["version", "--client"]) {
        let objects = repo.kustomize("prod");
        let deployment = find(&objects, "Deployment", "dbos-app-v2");
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["image"],
            "ghcr.io/acme/app@sha256:2222222222222222222222222222222222222222222222222222222222222222"
        );
        assert_eq!(
            find(&objects, "Service", "dbos-app")["spec"]["selector"]["app.kubernetes.io/version"],
            "v2"
        );
        assert_eq!(
            names_of_kind(&objects, "Deployment"),
            ["conductor", "console", "dbos-app-v1", "dbos-app-v2"]
        );
        validate_schemas(&objects);
    }

    // Promoting again with the same image is a no-op.
    let before = repo.snapshot();
    let again = repo.ok(&[
        "version", "promote", "v2", "--from", "staging", "--to", "prod",
    ]);
    assert!(again.contains("nothing to do"), "{again}");
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn issue_11_promote_without_activating_leaves_traffic_alone() {
    let repo = staging_and_prod();
    let stdout = repo.ok(&[
        "version",
        "promote",
        "v2",
        "--from",
        "staging",
        "--to",
        "prod",
        "--no-activate",
    ]);
    assert!(stdout.contains("without activating it"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&repo.ok(&["version", "list", "--env", "prod", "--format", "json"]))
            .unwrap();
    assert_eq!(json["active"], "v1");
    assert_eq!(json["versions"][1]["name"], "v2");
}

#[test]
fn issue_11_promote_refusals_leave_the_tree_byte_identical() {
    let repo = staging_and_prod();
    // prod already has a v2 of its own, built from other code.
    repo.ok(&[
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:hotfix",
    ]);
    for (arguments, code, reason) in [
        (
            &[
                "version", "promote", "v2", "--from", "staging", "--to", "prod",
            ][..],
            1,
            "it already has `v2` with image `ghcr.io/acme/app:hotfix`",
        ),
        (
            &[
                "version", "promote", "v9", "--from", "staging", "--to", "prod",
            ][..],
            2,
            "environment `staging` has no version `v9`",
        ),
        (
            &["version", "promote", "v2", "--from", "qa", "--to", "prod"][..],
            2,
            "qa",
        ),
        (
            &[
                "version", "promote", "v2", "--from", "staging", "--to", "qa",
            ][..],
            2,
            "qa",
        ),
        (
            &[
                "version", "promote", "v2", "--from", "staging", "--to", "staging",
            ][..],
            2,
            "both name `staging`",
        ),
        (
            &[
                "version", "promote", "V2", "--from", "staging", "--to", "prod",
            ][..],
            2,
            "DNS-1123",
        ),
    ] {
        let before = repo.snapshot();
        let run = repo.fails(arguments, code);
        assert!(run.stderr.contains(reason), "{arguments:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("hint:"),
            "{arguments:?}: {}",
            run.stderr
        );
        assert_eq!(repo.snapshot(), before, "{arguments:?} changed the tree");
    }
}
