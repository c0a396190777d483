//! Issue 12: offline `reseal` for a new controller key. The resealed values are opened by the
//! independent Python decrypter with the NEW key (and no longer with the old); a value no given
//! key opens stops everything with the tree byte-identical.

use serde_json::Value;

use crate::support::*;

const DB_FILE: &str = "environments/prod/secrets/conductor-db.yaml";
const APP_FILE: &str = "environments/prod/secrets/dbos-app-db.yaml";

fn seal(repo: &TestRepo, arguments: &[&str], input: &str) {
    let run = repo.run_with_stdin(arguments, Some(input.as_bytes()));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

const CONDUCTOR_DB: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\nstringData:\n  database-url: postgres://conductor\n  extra: x\n";
const APP_DB: &str =
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: dbos-app-db\nstringData:\n  database-url: postgres://app\n";

/// A repository sealed for the Go fixture key (key A), with a strict and a namespace-wide secret.
fn sealed_repo() -> TestRepo {
    let repo = TestRepo::prod();
    seal(&repo, &["seal", "--env", "prod"], CONDUCTOR_DB);
    seal(
        &repo,
        &["seal", "--env", "prod", "--scope", "namespace-wide"],
        APP_DB,
    );
    repo
}

/// Key pair B: the development pair of a scratch repository (certificate, private key).
fn other_pair() -> (TestRepo, std::path::PathBuf, std::path::PathBuf) {
    let scratch = TestRepo::with_dev_env("scratch", &[]);
    let cert = scratch.path().join("environments/scratch/sealing-cert.pem");
    let key = scratch.dev_key("scratch");
    (scratch, cert, key)
}

/// The controller's key backup as `kubectl get secret -l ...sealed-secrets-key -o yaml` prints it.
fn key_backup(dir: &std::path::Path) -> std::path::PathBuf {
    let pem = std::fs::read_to_string(fixture("go-key.pem")).unwrap();
    let path = dir.join("keys.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  type: kubernetes.io/tls\n  metadata:\n    name: sealed-secrets-key7x2lq\n    namespace: kube-system\n    labels:\n      sealedsecrets.bitnami.com/sealed-secrets-key: active\n  data:\n    tls.crt: \"\"\n    tls.key: {}\n",
            base64_text(&pem)
        ),
    )
    .unwrap();
    path
}

fn plaintext(result: &Value, id: &str, key: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(
                result[id][key]
                    .as_str()
                    .unwrap_or_else(|| panic!("{result}")),
            )
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn an_env_sealed_for_key_a_moves_to_certificate_b() {
    let repo = sealed_repo();
    let (_scratch, cert_b, key_b) = other_pair();
    let outside = tempfile::tempdir().unwrap();
    let backup = key_backup(outside.path());
    let app_before = parse_yaml_stream(&repo.read(APP_FILE))[0].clone();

    // Key B first: the controller tries every key, so may we.
    let run = repo.run(&[
        "reseal",
        "--env",
        "prod",
        "--key",
        key_b.to_str().unwrap(),
        "--key",
        backup.to_str().unwrap(),
        "--cert",
        cert_b.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("resealed 2 secrets (3 values) of `prod` for certificate sha256:"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("no plaintext written"));
    assert_eq!(
        repo.read("environments/prod/sealing-cert.pem"),
        std::fs::read_to_string(&cert_b).unwrap()
    );

    let app_after = &parse_yaml_stream(&repo.read(APP_FILE))[0];
    // Names, scope and the other annotations are kept; only ciphertexts and the
    // certificate fingerprint move.
    assert_eq!(
        app_after["metadata"]["name"],
        app_before["metadata"]["name"]
    );
    assert_eq!(
        app_after["metadata"]["annotations"]["sealedsecrets.bitnami.com/namespace-wide"],
        "true"
    );
    assert_eq!(
        app_after["spec"]["template"],
        app_before["spec"]["template"]
    );
    assert_ne!(
        app_after["metadata"]["annotations"]["dbos-gitops.io/sealing-cert-sha256"],
        app_before["metadata"]["annotations"]["dbos-gitops.io/sealing-cert-sha256"]
    );
    assert_ne!(
        app_after["spec"]["encryptedData"],
        app_before["spec"]["encryptedData"]
    );

    for (file, id) in [
        (DB_FILE, "dbos-prod/conductor-db"),
        (APP_FILE, "dbos-prod/dbos-app-db"),
    ] {
        let text = repo.read(file);
        if let Some(result) = independent_unseal(&key_b, &text) {
            let result = result.unwrap_or_else(|error| panic!("{file}: {error}"));
            if file == DB_FILE {
                assert_eq!(
                    plaintext(&result, id, "database-url"),
                    "postgres://conductor"
                );
                assert_eq!(plaintext(&result, id, "extra"), "x");
            } else {
                assert_eq!(plaintext(&result, id, "database-url"), "postgres://app");
            }
            assert!(
                independent_unseal(&fixture("go-key.pem"), &text)
                    .unwrap()
                    .is_err(),
                "{file} still opens with the old key"
            );
        }
    }
    repo.ok(&["build", "--check"]);
    let check = repo.run(&["check", "--no-render"]);
    for file in [DB_FILE, APP_FILE] {
        assert!(!check.stdout.contains(file), "{}", check.stdout);
    }
    assert!(!check.stdout.contains("sealing-cert"), "{}", check.stdout);

    // The MACs were made anew for certificate B: the nightly re-seal still makes no churn.
    let again = repo.run_with_stdin(&["seal", "--env", "prod"], Some(CONDUCTOR_DB.as_bytes()));
    assert_eq!(
        again.stdout,
        format!("unchanged {DB_FILE} (2 keys)\n"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_value_no_key_opens_is_exit_1_and_the_tree_stays_byte_identical() {
    let repo = sealed_repo();
    let (_scratch, cert_b, key_b) = other_pair();
    let before = repo.snapshot();

    let refused = repo.fails(
        &[
            "reseal",
            "--key",
            key_b.to_str().unwrap(),
            "--cert",
            cert_b.to_str().unwrap(),
        ],
        1,
    );
    assert!(
        refused.stderr.contains(DB_FILE) && refused.stderr.contains("`database-url`"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("hint:"), "{}", refused.stderr);
    assert_eq!(repo.snapshot(), before);

    // Key coverage, before the cluster loses a key.
    let dry = repo.fails(
        &[
            "reseal",
            "--all-envs",
            "--dry-run",
            "--key",
            key_b.to_str().unwrap(),
        ],
        1,
    );
    assert!(
        dry.stdout
            .contains(&format!("cannot open {DB_FILE}: `database-url`, `extra`")),
        "{}",
        dry.stdout
    );
    let covered = repo.run(&[
        "reseal",
        "--dry-run",
        "--key",
        fixture("go-key.pem").to_str().unwrap(),
    ]);
    assert_eq!(covered.code, 0, "{}", covered.stderr);
    assert!(
        covered
            .stdout
            .contains(&format!("opens {APP_FILE} (1 values)")),
        "{}",
        covered.stdout
    );
    assert_eq!(repo.snapshot(), before);

    // A key file that is no key: exit 2, nothing written.
    repo.fails(
        &["reseal", "--key", fixture("go-cert.pem").to_str().unwrap()],
        2,
    );
    assert_eq!(repo.snapshot(), before);
}

/// Issue 23 item 11: `reseal --env prod` is about prod alone, so another environment whose
/// `env.yaml` does not parse does not block it (the rule of every scoped command); that
/// environment is left byte-identical, and `--all-envs`, which needs it, still refuses.
#[test]
fn reseal_of_one_env_is_not_blocked_by_another_broken_env() {
    let repo = sealed_repo();
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
    repo.write("environments/staging/env.yaml", "namespace: [unclosed\n");
    let before_db = repo.read(DB_FILE);
    let outside = tempfile::tempdir().unwrap();
    let backup = key_backup(outside.path());
    let before = repo.snapshot();
    let all = repo.run(&["reseal", "--all-envs", "--key", backup.to_str().unwrap()]);
    assert_eq!(all.code, 2, "{}\n{}", all.stdout, all.stderr);
    assert!(
        all.stderr.contains("environments/staging/env.yaml"),
        "{}",
        all.stderr
    );
    assert_eq!(repo.snapshot(), before, "a refused reseal wrote something");

    let run = repo.run(&["reseal", "--env", "prod", "--key", backup.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("of `prod`"), "{}", run.stdout);
    assert_ne!(repo.read(DB_FILE), before_db, "prod was not resealed");
    assert_eq!(
        repo.read("environments/staging/env.yaml"),
        "namespace: [unclosed\n"
    );
    let after = repo.snapshot();
    for (path, entry) in &before {
        if path.starts_with("environments/staging/") {
            assert_eq!(after.get(path), Some(entry), "{path} changed");
        }
    }
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &repo.read(DB_FILE)) {
        let result = result.unwrap();
        assert_eq!(
            plaintext(&result, "dbos-prod/conductor-db", "database-url"),
            "postgres://conductor"
        );
    }
}
