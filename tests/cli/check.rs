//! `check` (issue #6): a repository broken in exactly one way gives exactly that finding and
//! exit 1; the same repository fixed gives exit 0. The repositories are made by the real
//! binary; SealedSecrets are sealed here with the seal crate for the upstream Go fixture
//! certificate, as `seal --env` writes them. The clock is frozen with `DBOS_GITOPS_NOW`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use dbos_gitops_generate::tls::{issue_self_signed, KeyKind};
use dbos_gitops_seal::{seal_secret, SealOptions, SealedSecret, SealingCert, SecretInput};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::support::*;

/// The clock `check` is run at: the one every other command of the tests runs at, so that
/// certificates minted by `init env` and `tls` are judged at the instant they were made.
const NOW: i64 = TEST_NOW;
const DAY: i64 = 86_400;
/// notAfter of go-cert.pem: 2036-11-24T05:14:02Z.
const GO_CERT_NOT_AFTER: i64 = 2_111_116_442;
const ANNOTATION: &str = "dbos-gitops.io/sealing-cert-sha256";

fn go_cert_pem() -> Vec<u8> {
    std::fs::read(project_root().join("tests/fixtures/sealed-secrets-go/go-cert.pem")).unwrap()
}

fn go_cert() -> SealingCert {
    SealingCert::from_pem_at(&go_cert_pem(), NOW).unwrap()
}

struct Checked {
    code: i32,
    json: Value,
    stdout: String,
}

impl Checked {
    /// `(severity, code)` of every error and warning.
    fn findings(&self) -> Vec<(String, String)> {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|finding| finding["severity"] != "skipped")
            .map(|finding| {
                (
                    finding["severity"].as_str().unwrap().to_string(),
                    finding["code"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn finding(&self, code: &str) -> &Value {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|finding| finding["code"] == code)
            .unwrap_or_else(|| panic!("no `{code}` in {:#}", self.json))
    }
}

fn run_check_at(repo: &TestRepo, now: i64, arguments: &[&str]) -> Checked {
    let mut json_arguments = vec!["check", "--format", "json"];
    json_arguments.extend_from_slice(arguments);
    let run = |arguments: &[&str]| {
        Command::new(binary())
            .args(arguments)
            .current_dir(repo.path())
            .env("HOME", repo.path().join(".home"))
            .env("DBOS_GITOPS_NOW", now.to_string())
            .output()
            .unwrap()
    };
    let output = run(&json_arguments);
    let code = output.status.code().unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "check printed no JSON ({error}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut text_arguments = vec!["check"];
    text_arguments.extend_from_slice(arguments);
    let text = run(&text_arguments);
    assert_eq!(
        text.status.code().unwrap(),
        code,
        "text and json exit codes differ"
    );
    Checked {
        code,
        json,
        stdout: String::from_utf8_lossy(&text.stdout).into_owned(),
    }
}

fn run_check(repo: &TestRepo) -> Checked {
    run_check_at(repo, NOW, &["--no-render"])
}

/// Asserts exactly these `(severity, code)` findings and the exit code.
#[track_caller]
fn expect(checked: &Checked, code: i32, findings: &[(&str, &str)]) {
    let expected: Vec<(String, String)> = findings
        .iter()
        .map(|(severity, code)| (severity.to_string(), code.to_string()))
        .collect();
    assert_eq!(checked.findings(), expected, "{}", checked.stdout);
    assert_eq!(checked.code, code, "{}", checked.stdout);
}

#[track_caller]
fn expect_clean(repo: &TestRepo) {
    expect(&run_check(repo), 0, &[]);
}

/// Secret names with the keys the env reads from each.
type Secrets = Vec<(String, Vec<String>)>;

/// The env's namespace, its secret inventory and its hosts, read through the library.
fn inventory(repo: &TestRepo, env: &str) -> (String, Secrets, Vec<String>) {
    let loaded = dbos_gitops::repo::load_repo(repo.path()).unwrap();
    let model = dbos_gitops::model::resolve(&loaded.spec, loaded.environments.clone()).unwrap();
    let env = model
        .environments
        .iter()
        .find(|candidate| candidate.name.as_str() == env)
        .unwrap();
    let secrets = dbos_gitops::inventory::secret_names(env)
        .into_iter()
        .map(|secret| {
            let mut keys: Vec<String> = dbos_gitops::inventory::keys_of(env, secret);
            if keys.is_empty() {
                keys.push("admin@acme.com".to_string());
            }
            (secret.to_string(), keys)
        })
        .collect();
    (env.namespace.to_string(), secrets, env.host_names())
}

fn seal(cert: &SealingCert, namespace: &str, name: &str, keys: &[String]) -> SealedSecret {
    let input = SecretInput {
        name: name.to_string(),
        namespace: Some(namespace.to_string()),
        data: keys
            .iter()
            .map(|key| {
                (
                    key.clone(),
                    Zeroizing::new(format!("value of {key}").into_bytes()),
                )
            })
            .collect(),
        ..SecretInput::default()
    };
    seal_secret(
        &mut rand::thread_rng(),
        cert,
        &input,
        &SealOptions::default(),
    )
    .unwrap()
}

/// The document as `seal --env` writes it: fingerprint annotation, labels, sync wave.
fn document(sealed: &SealedSecret, fingerprint: Option<&str>) -> Value {
    let mut sealed = sealed.clone();
    if let Some(fingerprint) = fingerprint {
        sealed
            .annotations
            .insert(ANNOTATION.to_string(), fingerprint.to_string());
    }
    sealed
        .annotations
        .insert("argocd.argoproj.io/sync-wave".into(), "-1".into());
    sealed
        .labels
        .insert("app.kubernetes.io/part-of".into(), "dbos".into());
    sealed
        .labels
        .insert("app.kubernetes.io/managed-by".into(), "dbos-gitops".into());
    sealed.to_value()
}

fn write_document(repo: &TestRepo, env: &str, file: &str, document: &Value) {
    repo.write(
        &format!("environments/{env}/secrets/{file}.yaml"),
        &dbos_gitops::yaml::emit(document),
    );
    // Written behind the tool's back, as `kubeseal > secrets/x.yaml` would be: the readers'
    // rollout digests (issue 12) follow the sealed file only after a `build`.
    repo.ok(&["build"]);
}

fn write_sealed(repo: &TestRepo, env: &str, sealed: &SealedSecret) {
    let fingerprint = go_cert().fingerprint();
    write_document(
        repo,
        env,
        &sealed.name,
        &document(sealed, Some(&fingerprint)),
    );
}

/// `tls.crt` for `hosts`, valid from `not_before` for `days`.
fn write_tls_cert(repo: &TestRepo, env: &str, hosts: &[String], not_before: i64, days: u32) {
    let material = issue_self_signed(hosts, days, KeyKind::EcdsaP256, not_before).unwrap();
    repo.write(
        &format!("environments/{env}/tls.crt"),
        &material.certificate_pem,
    );
}

/// Seals the env's full inventory with the fixture certificate (as the env's
/// `sealing-cert.pem`), writes its `tls.crt`, and builds: a repository `check` finds clean.
fn seal_everything(repo: &TestRepo, env: &str) {
    repo.write(
        &format!("environments/{env}/sealing-cert.pem"),
        &String::from_utf8(go_cert_pem()).unwrap(),
    );
    let (namespace, secrets, hosts) = inventory(repo, env);
    let cert = go_cert();
    for (secret, keys) in secrets {
        write_sealed(repo, env, &seal(&cert, &namespace, &secret, &keys));
    }
    write_tls_cert(repo, env, &hosts, NOW - DAY, 7300);
    repo.ok(&["build"]);
}

const APP: [&str; 4] = [
    "--domain",
    "dbos.acme.com",
    "--app-image",
    "ghcr.io/acme/app:v1",
];

/// `init env` with a home directory outside the repository: a local development key pair made
/// there must not count as a private key in the tree (it is outside a real repository too).
fn add_env(repo: &TestRepo, name: &str, flags: &[&str]) {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .args(["init", "env", name])
        .args(flags)
        .args(["--conductor-version", TEST_CONDUCTOR_VERSION])
        .current_dir(repo.path())
        .env("DBOS_GITOPS_NOW", NOW.to_string())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn clean_repo() -> TestRepo {
    let repo = TestRepo::new();
    add_env(&repo, "prod", &APP);
    seal_everything(&repo, "prod");
    repo
}

/// `conductor-db` of `prod`, freshly sealed with every key the inventory wants.
fn sealed_conductor_db(repo: &TestRepo) -> SealedSecret {
    let (namespace, secrets, _) = inventory(repo, "prod");
    let keys = &secrets
        .iter()
        .find(|(name, _)| name == "conductor-db")
        .unwrap()
        .1;
    seal(&go_cert(), &namespace, "conductor-db", keys)
}

fn reseal(repo: &TestRepo, secret: &str) {
    let (namespace, secrets, _) = inventory(repo, "prod");
    let keys = &secrets.iter().find(|(name, _)| name == secret).unwrap().1;
    write_sealed(repo, "prod", &seal(&go_cert(), &namespace, secret, keys));
}

#[test]
fn a_fully_sealed_repo_is_clean_in_text_and_json() {
    let repo = clean_repo();
    let checked = run_check(&repo);
    expect(&checked, 0, &[]);
    assert_eq!(
        checked.stdout,
        "0 errors, 0 warnings; render check skipped: --no-render\n"
    );
    assert_eq!(checked.json["version"], 1);
    assert_eq!(
        checked.json["summary"],
        serde_json::json!({ "errors": 0, "warnings": 0, "skipped": ["render-skipped"] })
    );
    let skipped = checked.finding("render-skipped");
    assert_eq!(skipped["severity"], "skipped");
    for key in ["severity", "code", "file", "message", "hint"] {
        assert!(skipped.get(key).is_some(), "{key} missing: {skipped}");
    }
}

#[test]
fn a_fully_sealed_repo_renders_clean_with_kubectl() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = clean_repo();
    let checked = run_check_at(&repo, NOW, &[]);
    expect(&checked, 0, &[]);
    assert_eq!(checked.json["summary"]["skipped"], serde_json::json!([]));
    assert_eq!(checked.stdout, "0 errors, 0 warnings\n");
}

#[test]
fn stale_generated_files() {
    let repo = clean_repo();
    let env_file = "environments/prod/env.yaml";
    repo.write(
        env_file,
        &repo
            .read(env_file)
            .replace("  replicas: 1\napp:", "  replicas: 2\napp:"),
    );
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "stale-generated")]);
    assert_eq!(
        checked.finding("stale-generated")["file"],
        "environments/prod/patches/console.yaml"
    );
    assert!(
        checked.stdout.contains("hint: run `dbos-gitops build`"),
        "{}",
        checked.stdout
    );
    repo.ok(&["build"]);
    expect_clean(&repo);
}

#[test]
fn hand_edited_generated_files() {
    let repo = clean_repo();
    let path = "environments/prod/gateway.yaml";
    repo.write(path, &repo.read(path).replace("3600", "60"));
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "hand-edited")]);
    assert_eq!(checked.finding("hand-edited")["file"], path);
    repo.ok(&["build", "--force"]);
    expect_clean(&repo);
}

#[test]
fn missing_secret() {
    let repo = clean_repo();
    std::fs::remove_file(
        repo.path()
            .join("environments/prod/secrets/conductor-license.yaml"),
    )
    .unwrap();
    repo.ok(&["build"]);
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "missing-secret")]);
    assert!(checked.stdout.contains(
        "environments/prod: secret `conductor-license` (key `license-key`) is referenced by Deployment `conductor` but not sealed\n  hint: `dbos-gitops secrets set --env prod conductor-license license-key`\n"
    ), "{}", checked.stdout);
    assert!(checked
        .stdout
        .ends_with("1 error, 0 warnings; render check skipped: --no-render\n"));
    reseal(&repo, "conductor-license");
    repo.ok(&["build"]);
    expect_clean(&repo);
}

#[test]
fn missing_ca_certificate_for_the_external_conductor_trust() {
    // An app that reaches Conductor through the ingress trusts the self-signed certificate
    // through the `dbos-ca` ConfigMap built from tls.crt: without the file its pods cannot start.
    let repo = clean_repo();
    let env_file = "environments/prod/env.yaml";
    repo.write(
        env_file,
        &repo
            .read(env_file)
            .replace("conductor: in-cluster", "conductor: external")
            // Public without OAuth: accepted here (`unauthenticated-conductor` has its test).
            .replace(
                "conductor:\n  image:",
                "conductor:\n  allow-unauthenticated: true\n  image:",
            ),
    );
    repo.ok(&["build"]);
    // Conductor is routed now: the certificate must cover its host.
    let (_, _, hosts) = inventory(&repo, "prod");
    write_tls_cert(&repo, "prod", &hosts, NOW - DAY, 7300);
    repo.ok(&["build"]);
    let certificate = repo.read("environments/prod/tls.crt");
    expect_clean(&repo);
    std::fs::remove_file(repo.path().join("environments/prod/tls.crt")).unwrap();
    repo.ok(&["build"]);
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "missing-ca-certificate")]);
    assert_eq!(
        checked.finding("missing-ca-certificate")["file"],
        "environments/prod/tls.crt"
    );
    repo.write("environments/prod/tls.crt", &certificate);
    repo.ok(&["build"]);
    expect_clean(&repo);
}

#[test]
fn missing_secret_key() {
    let repo = clean_repo();
    let (namespace, _, _) = inventory(&repo, "prod");
    write_sealed(
        &repo,
        "prod",
        &seal(&go_cert(), &namespace, "conductor-db", &["url".into()]),
    );
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "missing-secret-key")]);
    let finding = checked.finding("missing-secret-key");
    assert_eq!(
        finding["file"],
        "environments/prod/secrets/conductor-db.yaml"
    );
    assert_eq!(
        finding["hint"],
        "`dbos-gitops secrets set --env prod conductor-db database-url`"
    );
    reseal(&repo, "conductor-db");
    expect_clean(&repo);
}

#[test]
fn invalid_sealed_secret() {
    let repo = clean_repo();
    let path = "environments/prod/secrets/conductor-db.yaml";
    let good = repo.read(path);
    repo.write(
        path,
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: conductor-db\n  namespace: dbos-prod\nspec: {}\n",
    );
    repo.ok(&["build"]); // the rollout digests follow the secrets (issue 12)
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "invalid-sealed-secret")]);
    assert!(
        checked.stdout.contains("`spec.encryptedData` is missing"),
        "{}",
        checked.stdout
    );
    repo.write(path, &format!("{good}---\n{good}"));
    repo.ok(&["build"]);
    expect(&run_check(&repo), 1, &[("error", "invalid-sealed-secret")]);
    repo.write(path, &good);
    repo.ok(&["build"]);
    expect_clean(&repo);
}

#[test]
fn sealed_for_another_namespace() {
    let repo = clean_repo();
    let (_, secrets, _) = inventory(&repo, "prod");
    let keys = &secrets
        .iter()
        .find(|(name, _)| name == "conductor-db")
        .unwrap()
        .1;
    write_sealed(
        &repo,
        "prod",
        &seal(&go_cert(), "dbos", "conductor-db", keys),
    );
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "sealed-namespace-mismatch")]);
    assert!(checked.stdout.contains(
        "environments/prod/secrets/conductor-db.yaml: sealed for namespace `dbos` but the overlay deploys to `dbos-prod`\n  hint: re-seal it with `dbos-gitops seal --env prod`\n"
    ), "{}", checked.stdout);
    reseal(&repo, "conductor-db");
    expect_clean(&repo);
}

#[test]
fn sealed_for_another_name() {
    let repo = clean_repo();
    let (namespace, secrets, _) = inventory(&repo, "prod");
    let keys = &secrets
        .iter()
        .find(|(name, _)| name == "conductor-db")
        .unwrap()
        .1;
    let mut renamed = seal(&go_cert(), &namespace, "old-db", keys);
    renamed.name = "conductor-db".to_string();
    write_sealed(&repo, "prod", &renamed);
    expect(&run_check(&repo), 1, &[("error", "sealed-name-mismatch")]);
    reseal(&repo, "conductor-db");
    expect_clean(&repo);
}

#[test]
fn sealed_scope_mismatch() {
    let repo = clean_repo();
    let (namespace, secrets, _) = inventory(&repo, "prod");
    let keys = &secrets
        .iter()
        .find(|(name, _)| name == "conductor-db")
        .unwrap()
        .1;
    let mut value = document(
        &seal(&go_cert(), &namespace, "conductor-db", keys),
        Some(&go_cert().fingerprint()),
    );
    value["spec"]["template"]["metadata"]["annotations"] =
        serde_json::json!({ "sealedsecrets.bitnami.com/namespace-wide": "true" });
    write_document(&repo, "prod", "conductor-db", &value);
    expect(&run_check(&repo), 1, &[("error", "sealed-scope-mismatch")]);
    reseal(&repo, "conductor-db");
    expect_clean(&repo);
}

#[test]
fn sealed_file_name_is_a_warning_that_strict_fails() {
    let repo = clean_repo();
    let from = repo
        .path()
        .join("environments/prod/secrets/conductor-db.yaml");
    std::fs::rename(&from, repo.path().join("environments/prod/secrets/db.yaml")).unwrap();
    repo.ok(&["build"]);
    let checked = run_check(&repo);
    expect(&checked, 0, &[("warning", "sealed-file-name")]);
    assert!(
        checked.stdout.contains(
            "environments/prod/secrets/db.yaml: warning: holds the SealedSecret `conductor-db`"
        ),
        "{}",
        checked.stdout
    );
    assert!(checked
        .stdout
        .ends_with("0 errors, 1 warning; render check skipped: --no-render\n"));
    expect(
        &run_check_at(&repo, NOW, &["--no-render", "--strict"]),
        1,
        &[("warning", "sealed-file-name")],
    );
    std::fs::remove_file(repo.path().join("environments/prod/secrets/db.yaml")).unwrap();
    reseal(&repo, "conductor-db");
    repo.ok(&["build"]);
    expect_clean(&repo);
}

#[test]
fn invalid_sealed_values() {
    use base64::Engine;
    let repo = clean_repo();
    let (namespace, secrets, _) = inventory(&repo, "prod");
    let keys = &secrets
        .iter()
        .find(|(name, _)| name == "conductor-db")
        .unwrap()
        .1;
    let mut sealed = seal(&go_cert(), &namespace, "conductor-db", keys);
    let engine = base64::engine::general_purpose::STANDARD;
    let value = sealed.encrypted_data.get_mut("database-url").unwrap();
    let bytes = engine.decode(value.as_bytes()).unwrap();
    // Truncated inside the GCM tag.
    *value = engine.encode(&bytes[..2 + 512 + 8]);
    write_sealed(&repo, "prod", &sealed);
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "invalid-sealed-value")]);
    assert!(checked.stdout.contains("truncated"), "{}", checked.stdout);

    // Sealed for a 2048-bit key: the RSA block does not fit the env's 4096-bit certificate.
    let small = dbos_gitops_seal::generate_dev_keypair(2048, NOW).unwrap();
    let small_cert = SealingCert::from_pem(small.certificate_pem.as_bytes()).unwrap();
    let other = seal(&small_cert, &namespace, "conductor-db", keys);
    sealed.encrypted_data = other.encrypted_data;
    write_sealed(&repo, "prod", &sealed);
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "invalid-sealed-value")]);
    assert!(
        checked.stdout.contains("256-byte RSA block"),
        "{}",
        checked.stdout
    );

    sealed
        .encrypted_data
        .insert("database-url".into(), "not base64!".into());
    write_sealed(&repo, "prod", &sealed);
    expect(&run_check(&repo), 1, &[("error", "invalid-sealed-value")]);
    reseal(&repo, "conductor-db");
    expect_clean(&repo);
}

#[test]
fn sealed_with_another_certificate_is_a_warning() {
    let repo = clean_repo();
    let sealed = sealed_conductor_db(&repo);
    write_document(
        &repo,
        "prod",
        "conductor-db",
        &document(&sealed, Some(&"ab".repeat(32))),
    );
    let checked = run_check(&repo);
    expect(&checked, 0, &[("warning", "sealed-with-other-cert")]);
    assert!(
        checked.stdout.contains("abababababababab"),
        "{}",
        checked.stdout
    );
    expect(
        &run_check_at(&repo, NOW, &["--no-render", "--strict"]),
        1,
        &[("warning", "sealed-with-other-cert")],
    );
    reseal(&repo, "conductor-db");
    expect_clean(&repo);
}

#[test]
fn sealed_by_an_unknown_certificate_is_a_warning() {
    let repo = clean_repo();
    let sealed = sealed_conductor_db(&repo);
    write_document(&repo, "prod", "conductor-db", &document(&sealed, None));
    expect(
        &run_check(&repo),
        0,
        &[("warning", "sealed-with-unknown-cert")],
    );
    reseal(&repo, "conductor-db");
    expect_clean(&repo);
}

#[test]
fn sealed_secrets_sync_before_the_migrate_hook() {
    let repo = clean_repo();
    let mut value = document(&sealed_conductor_db(&repo), Some(&go_cert().fingerprint()));
    value["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("argocd.argoproj.io/sync-wave");
    write_document(&repo, "prod", "conductor-db", &value);
    let checked = run_check(&repo);
    expect(&checked, 0, &[("warning", "sealed-sync-wave")]);
    value["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = "0".into();
    write_document(&repo, "prod", "conductor-db", &value);
    expect(&run_check(&repo), 0, &[("warning", "sealed-sync-wave")]);
    reseal(&repo, "conductor-db");
    expect_clean(&repo);
}

#[test]
fn plain_secrets_anywhere_argo_cd_reads() {
    let repo = clean_repo();
    let path = "environments/prod/db-secret.yaml";
    repo.write(
        path,
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\nstringData:\n  database-url: postgres://u:p@db/x\n",
    );
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "plain-secret")]);
    assert_eq!(checked.finding("plain-secret")["file"], path);
    std::fs::remove_file(repo.path().join(path)).unwrap();

    let path = "argocd/extra/kustomization.yaml";
    repo.write(
        path,
        "secretGenerator:\n- name: repo-creds\n  literals:\n  - password=hunter2\n",
    );
    expect(&run_check(&repo), 1, &[("error", "plain-secret")]);
    std::fs::remove_dir_all(repo.path().join("argocd/extra")).unwrap();

    // kustomize and Argo CD unpack a `List`: a Secret inside one is just as plain.
    let path = "environments/prod/extra/list.yaml";
    repo.write(
        path,
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: hidden\n  stringData:\n    k: v\n",
    );
    expect(&run_check(&repo), 1, &[("error", "plain-secret")]);
    std::fs::remove_dir_all(repo.path().join("environments/prod/extra")).unwrap();
    expect_clean(&repo);
}

#[test]
fn private_keys_anywhere_in_the_tree() {
    let repo = clean_repo();
    let material =
        issue_self_signed(&["x.acme.com".to_string()], 30, KeyKind::EcdsaP256, NOW).unwrap();
    let path = "keys/controller.key";
    repo.write(path, &material.private_key_pem);
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "private-key")]);
    assert_eq!(checked.finding("private-key")["file"], path);

    // A test fixture listed with its hash is allowed; changed, it is reported again.
    let digest = dbos_gitops::repo::ownership::digest(material.private_key_pem.as_bytes());
    repo.write(
        ".dbos-gitops.test-keys.sha256",
        &format!("{digest}  {path}\n"),
    );
    expect_clean(&repo);
    repo.write(path, &format!("{}\n", material.private_key_pem.as_str()));
    expect(&run_check(&repo), 1, &[("error", "private-key")]);
    std::fs::remove_dir_all(repo.path().join("keys")).unwrap();
    expect_clean(&repo);
}

#[test]
fn missing_sealing_certificate() {
    let repo = clean_repo();
    let path = repo.path().join("environments/prod/sealing-cert.pem");
    std::fs::remove_file(&path).unwrap();
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "missing-sealing-cert")]);
    std::fs::write(&path, go_cert_pem()).unwrap();
    expect_clean(&repo);
}

#[test]
fn invalid_sealing_certificate() {
    let repo = clean_repo();
    let path = "environments/prod/sealing-cert.pem";
    let ecdsa =
        issue_self_signed(&["x.acme.com".to_string()], 30, KeyKind::EcdsaP256, NOW).unwrap();
    repo.write(path, &ecdsa.certificate_pem);
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "invalid-sealing-cert")]);
    assert!(checked.stdout.contains("rsa"), "{}", checked.stdout);
    repo.write(path, "not a certificate\n");
    expect(&run_check(&repo), 1, &[("error", "invalid-sealing-cert")]);
    repo.write(path, &String::from_utf8(go_cert_pem()).unwrap());
    expect_clean(&repo);
}

#[test]
fn expired_and_expiring_sealing_certificate() {
    let repo = clean_repo();
    let expired = run_check_at(&repo, GO_CERT_NOT_AFTER + DAY, &["--no-render"]);
    expect(&expired, 1, &[("error", "sealing-cert-expired")]);
    let expiring = run_check_at(&repo, GO_CERT_NOT_AFTER - 10 * DAY, &["--no-render"]);
    expect(&expiring, 0, &[("warning", "sealing-cert-expiring")]);
    assert!(
        expiring
            .stdout
            .contains("expires on 2036-11-24 (in 10 days)"),
        "{}",
        expiring.stdout
    );
    expect(
        &run_check_at(
            &repo,
            GO_CERT_NOT_AFTER - 10 * DAY,
            &["--no-render", "--strict"],
        ),
        1,
        &[("warning", "sealing-cert-expiring")],
    );
    expect(
        &run_check_at(&repo, GO_CERT_NOT_AFTER - 31 * DAY, &["--no-render"]),
        0,
        &[],
    );
}

#[test]
fn tls_certificate_must_cover_every_host() {
    let repo = clean_repo();
    write_tls_cert(
        &repo,
        "prod",
        &["console.dbos.acme.com".to_string()],
        NOW - DAY,
        365,
    );
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "tls-cert-missing-hosts")]);
    assert!(
        checked
            .stdout
            .contains("does not cover `app.dbos.acme.com`\n"),
        "{}",
        checked.stdout
    );
    let (_, _, hosts) = inventory(&repo, "prod");
    write_tls_cert(&repo, "prod", &hosts, NOW - DAY, 365);
    expect_clean(&repo);
}

#[test]
fn expired_expiring_and_invalid_tls_certificate() {
    let repo = clean_repo();
    let (_, _, hosts) = inventory(&repo, "prod");
    write_tls_cert(&repo, "prod", &hosts, NOW - 400 * DAY, 365);
    expect(&run_check(&repo), 1, &[("error", "tls-cert-expired")]);
    write_tls_cert(&repo, "prod", &hosts, NOW - 355 * DAY, 365);
    expect(&run_check(&repo), 0, &[("warning", "tls-cert-expiring")]);
    repo.write(
        "environments/prod/tls.crt",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    expect(&run_check(&repo), 1, &[("error", "invalid-tls-cert")]);
    write_tls_cert(&repo, "prod", &hosts, NOW - DAY, 365);
    expect_clean(&repo);
}

#[test]
fn active_version_must_be_declared() {
    let repo = clean_repo();
    let path = "environments/prod/versions.yaml";
    let good = repo.read(path);
    repo.write(path, &good.replace("active: v1", "active: v9"));
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "active-version-missing")]);
    assert_eq!(checked.finding("active-version-missing")["file"], path);
    // The generated files cannot be compared while the env does not resolve: skipped, not passed.
    assert_eq!(
        checked.json["summary"]["skipped"],
        serde_json::json!(["generated-skipped", "render-skipped"])
    );
    repo.write(path, &good);
    repo.ok(&["build"]);
    expect_clean(&repo);
}

#[test]
fn versions_are_declared_once_with_their_own_image() {
    let repo = clean_repo();
    let path = "environments/prod/versions.yaml";
    let good = repo.read(path);
    repo.write(
        path,
        &format!("{good}- name: v1\n  image: ghcr.io/acme/app:v9\n"),
    );
    expect(&run_check(&repo), 1, &[("error", "duplicate-version")]);
    repo.write(
        path,
        &format!(
            "{}- name: v2\n  image: ghcr.io/acme/app:v1\n",
            good.replace("active: v1", "active: v2")
        ),
    );
    repo.ok(&["build"]);
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "duplicate-version-image")]);
    assert!(
        checked
            .stdout
            .contains("versions `v1` and `v2` both run the image `ghcr.io/acme/app:v1`"),
        "{}",
        checked.stdout
    );
    repo.write(path, &good);
    repo.ok(&["build"]);
    expect_clean(&repo);
}

#[test]
fn autoscaled_deployments_carry_no_replicas() {
    let repo = clean_repo();
    let env_file = "environments/prod/env.yaml";
    repo.write(
        env_file,
        &repo.read(env_file).replace(
            "  # autoscaling:                # KEDA on the active version\n",
            "  autoscaling:\n    queue: taskQueue\n    worker-concurrency: 2\n",
        ),
    );
    repo.ok(&["build"]);
    expect_clean(&repo);
    let path = "environments/prod/versions/v1/deployment.yaml";
    repo.write(
        path,
        &repo.read(path).replace("replicas: null", "replicas: 3"),
    );
    // A hand edit of a generated file, and what it breaks.
    let checked = run_check(&repo);
    expect(
        &checked,
        1,
        &[
            ("error", "hand-edited"),
            ("error", "replicas-on-autoscaled"),
        ],
    );
    assert!(checked
        .stdout
        .contains("Deployment `dbos-app-v1` is scaled by KEDA but sets `spec.replicas`"));
    repo.ok(&["build", "--force"]);
    expect_clean(&repo);
}

#[test]
fn declarations_that_do_not_resolve() {
    let repo = clean_repo();
    let env_file = "environments/prod/env.yaml";
    let good = repo.read(env_file);
    repo.write(
        env_file,
        &good.replace("domain: dbos.acme.com", "domain: Not_A_Domain"),
    );
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "invalid-declaration")]);
    assert_eq!(checked.finding("invalid-declaration")["file"], env_file);
    repo.write(env_file, &good);
    expect_clean(&repo);
}

#[test]
fn overlays_that_do_not_render() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = clean_repo();
    // A second file with the same SealedSecret: kustomize refuses the duplicate id.
    std::fs::copy(
        repo.path()
            .join("environments/prod/secrets/conductor-db.yaml"),
        repo.path()
            .join("environments/prod/secrets/conductor-db-copy.yaml"),
    )
    .unwrap();
    repo.ok(&["build"]);
    let checked = run_check_at(&repo, NOW, &[]);
    expect(
        &checked,
        1,
        &[("error", "render-failed"), ("warning", "sealed-file-name")],
    );
    assert_eq!(
        checked.finding("render-failed")["file"],
        "environments/prod"
    );
    std::fs::remove_file(
        repo.path()
            .join("environments/prod/secrets/conductor-db-copy.yaml"),
    )
    .unwrap();
    repo.ok(&["build"]);
    expect(&run_check_at(&repo, NOW, &[]), 0, &[]);
}

#[test]
fn a_skipped_render_is_reported_as_skipped() {
    let repo = clean_repo();
    let output = Command::new(binary())
        .args(["check"])
        .current_dir(repo.path())
        .env("DBOS_GITOPS_NOW", NOW.to_string())
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "0 errors, 0 warnings; render check skipped: kubectl not found\n"
    );
}

#[test]
fn env_selection_and_could_not_run() {
    let repo = clean_repo();
    add_env(&repo, "staging", &["--app-image", "ghcr.io/acme/app:v1"]);
    // staging has nothing sealed; prod alone is clean.
    expect(
        &run_check_at(&repo, NOW, &["--no-render", "--env", "prod"]),
        0,
        &[],
    );
    let staging = run_check_at(&repo, NOW, &["--no-render", "--env", "staging"]);
    assert!(
        staging
            .findings()
            .iter()
            .all(|(_, code)| code == "missing-secret" || code == "missing-sealing-cert"),
        "{}",
        staging.stdout
    );
    assert_eq!(staging.code, 1);

    let unknown = repo.fails(&["check", "--env", "nope"], 2);
    assert!(
        unknown.stderr.contains("no environment `nope`"),
        "{}",
        unknown.stderr
    );
    let bad_clock = Command::new(binary())
        .args(["check", "--no-render"])
        .current_dir(repo.path())
        .env("DBOS_GITOPS_NOW", "yesterday")
        .output()
        .unwrap();
    assert_eq!(bad_clock.status.code(), Some(2));
    repo.write(
        "environments/prod/env.yaml",
        "namespace: dbos-prod\ndomian: x\n",
    );
    // A declaration that does not parse is a finding with its place (#24 item 5), not exit 2.
    let unparsable = repo.fails(&["check", "--no-render"], 1);
    assert!(
        unparsable
            .stdout
            .contains("environments/prod/env.yaml:2:1: unknown field `domian`"),
        "{}",
        unparsable.stdout
    );
}

#[test]
fn the_bundled_example_has_no_findings() {
    let root = project_root();
    // Judged a day after its TLS certificate was minted, not on the day the suite runs: the
    // example's certificates are as old as its last `tls`, and a test must not expire with them.
    let tls_crt = std::fs::read(root.join("environments/example/tls.crt")).unwrap();
    let minted = dbos_gitops_generate::tls::inspect(&tls_crt)
        .unwrap()
        .not_before_unix;
    let output = Command::new(binary())
        .env("DBOS_GITOPS_NOW", (minted + DAY).to_string())
        .args([
            "--repo",
            root.to_str().unwrap(),
            "check",
            "--strict",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["severity"] != "skipped")
        .collect();
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn missing_dex_user_hash() {
    // Each Dex user's hash is its own key of `dex-users`, read by the Dex Deployment: a user
    // listed in dex-users.yaml whose key is gone would stop Dex from starting.
    let repo = TestRepo::with_env("prod", &["--oidc", "dex", "--app-image", "app:v1"]);
    for (secret, key) in [
        ("conductor-db", "database-url"),
        ("conductor-license", "license-key"),
        ("postgres-admin", "database-url"),
        ("dbos-app-db", "database-url"),
        ("conductor-api-key", "api-key"),
    ] {
        let run = repo.run_with_stdin(
            &["secrets", "set", secret, key, "--from-stdin"],
            Some(b"value"),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    repo.ok(&["tls", "--days", "3650"]);
    for user in ["admin@acme.com", "bob@acme.com"] {
        let run = repo.run_with_stdin(
            &["dex", "add-user", user, "--password-stdin"],
            Some(b"correct horse"),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    expect_clean(&repo);
    let path = "environments/prod/secrets/dex-users.yaml";
    let sealed = repo.read(path);
    let without_bob: String = sealed
        .lines()
        .filter(|line| !line.trim_start().starts_with("bob-acme-com:"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(without_bob, sealed);
    repo.write(path, &without_bob);
    repo.ok(&["build"]); // the rollout digests follow the secrets (issue 12)
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "missing-secret-key")]);
    assert!(checked.finding("missing-secret-key")["message"]
        .as_str()
        .unwrap()
        .contains("bob-acme-com"));
    assert!(repo
        .ok(&["secrets", "list"])
        .lines()
        .any(|line| line.contains("bob-acme-com") && line.contains("missing")));
    repo.write(path, &sealed);
    repo.ok(&["build"]);
    expect_clean(&repo);
}

fn edit_env_file(repo: &TestRepo, edit: impl Fn(String) -> String) {
    let path = "environments/prod/env.yaml";
    let before = repo.read(path);
    let after = edit(before.clone());
    assert_ne!(before, after, "the edit changed nothing");
    repo.write(path, &after);
    repo.ok(&["build"]);
}

/// Issue 10 item 6: Conductor, Console and Dex run pinned releases, Conductor and Console the
/// same one.
#[test]
fn unpinned_or_diverging_images_are_warnings() {
    let repo = clean_repo();
    let pinned = format!("dbosdev/console:{TEST_CONDUCTOR_VERSION}");
    edit_env_file(&repo, |text| {
        text.replace(&pinned, "dbosdev/console:latest")
    });
    let checked = run_check(&repo);
    // `latest`, and a tag that differs from Conductor's.
    expect(
        &checked,
        0,
        &[("warning", "unpinned-image"), ("warning", "unpinned-image")],
    );
    assert!(
        checked
            .stdout
            .contains("console.image `dbosdev/console:latest` is not pinned"),
        "{}",
        checked.stdout
    );
    assert_eq!(
        run_check_at(&repo, NOW, &["--no-render", "--strict"]).code,
        1
    );
    edit_env_file(&repo, |text| {
        text.replace("dbosdev/console:latest", "dbosdev/console")
    });
    let checked = run_check(&repo);
    assert!(
        checked
            .stdout
            .contains("console.image `dbosdev/console` is not pinned"),
        "{}",
        checked.stdout
    );
    edit_env_file(&repo, |text| {
        text.replace("dbosdev/console\n", "dbosdev/console:0.9\n")
    });
    let checked = run_check(&repo);
    expect(&checked, 0, &[("warning", "unpinned-image")]);
    assert!(
        checked.stdout.contains("differ in version"),
        "{}",
        checked.stdout
    );
    edit_env_file(&repo, |text| text.replace("dbosdev/console:0.9", &pinned));
    expect_clean(&repo);
}

/// Issue 10 item 5: a public Conductor without OAuth authenticates nothing; env.yaml can accept
/// it explicitly.
#[test]
fn unauthenticated_conductor_is_an_error_unless_accepted() {
    let repo = clean_repo();
    edit_env_file(&repo, |text| {
        text.replace("conductor: in-cluster", "conductor: external")
    });
    let (_, _, hosts) = inventory(&repo, "prod");
    assert!(hosts.contains(&"conductor.dbos.acme.com".to_string()));
    write_tls_cert(&repo, "prod", &hosts, NOW - DAY, 7300);
    repo.ok(&["build"]);
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "unauthenticated-conductor")]);
    assert_eq!(
        checked.finding("unauthenticated-conductor")["file"],
        "environments/prod/env.yaml"
    );
    assert!(
        checked.stdout.contains("allow-unauthenticated: true"),
        "{}",
        checked.stdout
    );
    edit_env_file(&repo, |text| {
        text.replace(
            "conductor:\n  image:",
            "conductor:\n  allow-unauthenticated: true\n  image:",
        )
    });
    expect_clean(&repo);
}

/// Issue 10 item 11: a Go app image has no `dbos` CLI; `check` asks for a migrate image.
#[test]
fn a_go_app_needs_a_migrate_image() {
    let repo = clean_repo();
    edit_env_file(&repo, |text| {
        text.replace("language: python", "language: go")
    });
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "missing-migrate-image")]);
    assert!(
        checked.stdout.contains("hint: set `app.migrate.image`"),
        "{}",
        checked.stdout
    );
    edit_env_file(&repo, |text| {
        text.replace(
            "    # image: ghcr.io/acme/dbos-migrate:v1",
            "    image: ghcr.io/acme/dbos-cli:v1\n    # was image:",
        )
    });
    expect_clean(&repo);
}

/// `check --strict` promises the overlays rendered (#23): without a kubectl that runs it fails,
/// and a non-executable `kubectl` first on PATH is not one; `--no-render` asks for no render
/// and passes as before.
#[test]
fn strict_fails_when_the_render_could_not_run() {
    let repo = clean_repo();
    let decoy = tempfile::tempdir().unwrap();
    std::fs::write(decoy.path().join("kubectl"), "#!/bin/sh\nexit 0\n").unwrap();
    let path = decoy.path().display().to_string();
    let check = |arguments: &[&str]| {
        let mut command = repo.command(arguments);
        command.env("PATH", &path);
        Run::from(command.output().unwrap())
    };
    let unrendered = check(&["check", "--strict"]);
    assert_eq!(
        (unrendered.code, unrendered.stdout.as_str()),
        (
            1,
            "0 errors, 0 warnings; render check skipped: kubectl not found\n"
        ),
        "{}",
        unrendered.stderr
    );
    let loose = check(&["check"]);
    assert_eq!(loose.code, 0, "without --strict a skip is not a failure");
    let asked = check(&["check", "--strict", "--no-render"]);
    assert_eq!(
        (asked.code, asked.stdout.as_str()),
        (
            0,
            "0 errors, 0 warnings; render check skipped: --no-render\n"
        )
    );
}

/// #24 item 5: a typo in one env.yaml is an `invalid-declaration` finding with its place, in
/// the same JSON document as the other environment's findings (and in the text), exit 1.
#[test]
fn a_declaration_that_does_not_load_is_a_finding_beside_the_others() {
    let repo = clean_repo();
    add_env(&repo, "broken", &APP);
    seal_everything(&repo, "broken");
    expect_clean(&repo);
    // The good environment loses a secret: its finding must still be reported.
    std::fs::remove_file(
        repo.path()
            .join("environments/prod/secrets/conductor-db.yaml"),
    )
    .unwrap();
    let env_file = "environments/broken/env.yaml";
    let text = repo.read(env_file).replace("\nrouting:", "\nrouteing:");
    repo.write(env_file, &text);
    let line = text
        .lines()
        .position(|line| line.starts_with("routeing:"))
        .unwrap()
        + 1;
    let checked = run_check(&repo);
    expect(
        &checked,
        1,
        &[
            ("error", "invalid-declaration"),
            ("error", "missing-secret"),
        ],
    );
    let finding = checked.finding("invalid-declaration");
    assert_eq!(finding["file"], env_file, "{finding:#}");
    assert_eq!(finding["line"], line, "{finding:#}");
    assert_eq!(finding["column"], 1, "{finding:#}");
    assert_eq!(finding["field"], "routeing", "{finding:#}");
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains("unknown field `routeing`"), "{message}");
    assert_eq!(
        checked.finding("missing-secret")["file"],
        "environments/prod"
    );
    assert_eq!(checked.json["summary"]["errors"], 2);
    // The generated files cannot be compared while an environment does not load: said so.
    assert_eq!(checked.finding("generated-skipped")["severity"], "skipped");
    assert!(
        checked
            .stdout
            .contains(&format!("{env_file}:{line}:1: unknown field `routeing`")),
        "{}",
        checked.stdout
    );
    assert!(
        checked.stdout.contains("environments/prod: "),
        "{}",
        checked.stdout
    );
    // `--env` of the broken environment reports it, of the good one leaves it out.
    let only = run_check_at(&repo, NOW, &["--no-render", "--env", "broken"]);
    expect(&only, 1, &[("error", "invalid-declaration")]);
    let other = run_check_at(&repo, NOW, &["--no-render", "--env", "prod"]);
    expect(&other, 1, &[("error", "missing-secret")]);
}

/// #24 item 5: a declaration that cannot be read (a directory where the file should be, bytes
/// that are not UTF-8, no permission) is an `invalid-declaration` finding at its file, in the
/// same JSON document as the good environment's findings and in the text, exit 1; `build`
/// still refuses it (exit 2).
#[test]
fn an_unreadable_declaration_is_a_finding_beside_the_others() {
    let repo = clean_repo();
    add_env(&repo, "broken", &APP);
    seal_everything(&repo, "broken");
    expect_clean(&repo);
    std::fs::remove_file(
        repo.path()
            .join("environments/prod/secrets/conductor-db.yaml"),
    )
    .unwrap();
    let env_file = "environments/broken/env.yaml";
    let versions = "environments/broken/versions.yaml";
    let good_env = std::fs::read(repo.path().join(env_file)).unwrap();
    let good_versions = std::fs::read(repo.path().join(versions)).unwrap();
    let restore = |repo: &TestRepo| {
        for (file, bytes) in [(env_file, &good_env), (versions, &good_versions)] {
            let path = repo.path().join(file);
            if path.is_dir() {
                std::fs::remove_dir(&path).unwrap();
            }
            std::fs::write(&path, bytes).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    };
    let not_utf8 = {
        let mut bytes = good_env.clone();
        bytes.extend_from_slice(b"# caf\xe9\n");
        bytes
    };
    let lines = good_env.iter().filter(|byte| **byte == b'\n').count();
    type Break = Box<dyn Fn(&Path)>;
    let directory = || -> Break {
        Box::new(|path: &Path| {
            std::fs::remove_file(path).unwrap();
            std::fs::create_dir(path).unwrap();
        })
    };
    let unreadable = "cannot be read (could not read it: ";
    // (file, what breaks it, line, what the finding says)
    let rewrite: Break = Box::new(move |path: &Path| std::fs::write(path, &not_utf8).unwrap());
    let mut cases: Vec<(&str, Break, usize, &str)> = vec![
        (versions, directory(), 0, unreadable),
        (env_file, directory(), 0, unreadable),
        (
            env_file,
            rewrite,
            lines + 1,
            "not UTF-8: byte 0xe9 at offset",
        ),
    ];
    // Root reads any file whatever its mode: the permission case needs another user.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        cases.push((
            versions,
            Box::new(|path: &Path| {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap()
            }),
            0,
            "Permission denied",
        ));
    }
    for (file, break_it, line, said) in cases {
        break_it(&repo.path().join(file));
        let checked = run_check(&repo);
        expect(
            &checked,
            1,
            &[
                ("error", "invalid-declaration"),
                ("error", "missing-secret"),
            ],
        );
        let finding = checked.finding("invalid-declaration");
        assert_eq!(finding["file"], file, "{finding:#}");
        let message = finding["message"].as_str().unwrap();
        assert!(message.contains(said), "{file}: {message}");
        assert_eq!(
            finding.get("line").map_or(0, |line| line.as_u64().unwrap()),
            line as u64
        );
        assert!(finding["hint"]
            .as_str()
            .is_some_and(|hint| !hint.is_empty()));
        assert_eq!(
            checked.finding("missing-secret")["file"],
            "environments/prod"
        );
        assert_eq!(checked.finding("generated-skipped")["severity"], "skipped");
        // The text says the same, plainly, beside the other environment's finding.
        let place = if line > 0 {
            format!("{file}:{line}:")
        } else {
            format!("{file}: ")
        };
        assert!(
            checked.stdout.contains(&place) && checked.stdout.contains(said),
            "{}",
            checked.stdout
        );
        assert!(
            checked.stdout.contains("environments/prod: "),
            "{}",
            checked.stdout
        );
        // `--env` of the broken environment reports it; of the good one leaves it out.
        let only = run_check_at(&repo, NOW, &["--no-render", "--env", "broken"]);
        expect(&only, 1, &[("error", "invalid-declaration")]);
        let other = run_check_at(&repo, NOW, &["--no-render", "--env", "prod"]);
        expect(&other, 1, &[("error", "missing-secret")]);
        // Every other command still refuses the repository.
        let build = repo.fails(&["build"], 2);
        assert!(build.stderr.contains(file), "{}", build.stderr);
        restore(&repo);
    }
}

/// A `dbos-gitops.yaml` that does not parse: the one finding (nothing else can be read), as
/// JSON, exit 1; `versions.yaml` of an environment is a declaration like env.yaml.
#[test]
fn a_broken_repository_declaration_or_versions_file_is_a_finding() {
    let repo = clean_repo();
    let good = repo.read("dbos-gitops.yaml");
    repo.write("dbos-gitops.yaml", &format!("{good}revison: main\n"));
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "invalid-declaration")]);
    let finding = checked.finding("invalid-declaration");
    assert_eq!(finding["file"], "dbos-gitops.yaml", "{finding:#}");
    assert_eq!(finding["field"], "revison", "{finding:#}");
    assert_eq!(finding["line"], good.lines().count() + 1, "{finding:#}");
    repo.write("dbos-gitops.yaml", &good);
    let versions = "environments/prod/versions.yaml";
    let good_versions = repo.read(versions);
    repo.write(versions, &format!("{good_versions}actve: v1\n"));
    let checked = run_check(&repo);
    expect(&checked, 1, &[("error", "invalid-declaration")]);
    assert_eq!(checked.finding("invalid-declaration")["file"], versions);
    assert_eq!(checked.finding("invalid-declaration")["field"], "actve");
    repo.write(versions, &good_versions);
    expect_clean(&repo);
}
