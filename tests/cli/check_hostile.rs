//! Issue 23, the `check` and `diff` half: credentials in the Git URL, plain text in a
//! SealedSecret's template annotations, SealedSecrets Kubernetes would refuse for their size,
//! and a private key under `target/`. Each is reproduced and must now be a finding (or, for
//! `diff`, never printed), with the secret itself never in the output.

use base64::Engine as _;
use serde_json::Value;
use std::process::Command;

use crate::support::*;

fn check_json(repo: &TestRepo) -> (i32, Value, String) {
    let run = repo.run(&["check", "--no-render", "--format", "json"]);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr));
    (run.code, json, run.stdout)
}

fn findings<'a>(json: &'a Value, code: &str) -> Vec<&'a Value> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["code"] == code)
        .collect()
}

#[test]
fn a_token_in_repo_url_is_reported_without_printing_it() {
    let repo = TestRepo::prod();
    let token = "ghp_canaryTOKEN0123456789";
    let declaration = repo.read("dbos-gitops.yaml");
    let url = "https://github.com/acme/dbos-deploy.git";
    assert!(declaration.contains(url), "{declaration}");
    let with_token = format!("https://oauth2:{token}@github.com/acme/dbos-deploy.git");
    repo.write("dbos-gitops.yaml", &declaration.replace(url, &with_token));
    let project = repo.read("argocd/project.yaml");
    repo.write("argocd/project.yaml", &project.replace(url, &with_token));
    let (code, json, stdout) = check_json(&repo);
    assert_eq!(code, 1, "{json:#}");
    let found = findings(&json, "repo-url-credentials");
    let files: Vec<&str> = found.iter().map(|f| f["file"].as_str().unwrap()).collect();
    assert_eq!(
        files,
        ["argocd/project.yaml", "dbos-gitops.yaml"],
        "{json:#}"
    );
    assert!(
        found[1]["message"]
            .as_str()
            .unwrap()
            .contains("https://***@github.com/acme/dbos-deploy.git"),
        "{json:#}"
    );
    assert!(!stdout.contains(token), "the token is printed: {stdout}");
    let text = repo.run(&["check", "--no-render"]).stdout;
    assert!(
        !text.contains(token) && text.contains("holds credentials"),
        "{text}"
    );
    // An SSH user name is not a credential.
    repo.write(
        "dbos-gitops.yaml",
        &declaration.replace(url, "ssh://git@github.com/acme/dbos-deploy.git"),
    );
    repo.write("argocd/project.yaml", &project);
    let (_, json, _) = check_json(&repo);
    assert!(
        findings(&json, "repo-url-credentials").is_empty(),
        "{json:#}"
    );
}

/// A sealed value's frame: u16 RSA block length, the block, AES-GCM output of `plaintext`
/// bytes and its 16-byte tag (random bytes: the check reads only the lengths).
fn sealed_value(plaintext: usize) -> String {
    let mut bytes = vec![1u8, 0];
    bytes.extend((0..256 + plaintext + 16).map(|index| (index * 7 % 251) as u8));
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sealed_secret(name: &str, values: &[String], annotations: &str) -> String {
    let data: String = values
        .iter()
        .enumerate()
        .map(|(index, value)| format!("    k{index}: {value}\n"))
        .collect();
    format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: dbos-prod\nspec:\n  encryptedData:\n{data}  template:\n    metadata:\n      name: {name}\n      namespace: dbos-prod\n{annotations}"
    )
}

const CANARY: &str = "postgres://app:canary-plaintext@db/app";

fn last_applied() -> String {
    format!(
        "      annotations:\n        kubectl.kubernetes.io/last-applied-configuration: '{{\"stringData\":{{\"url\":\"{CANARY}\"}}}}'\n"
    )
}

#[test]
fn plain_text_in_a_template_annotation_is_a_plain_secret_for_check() {
    let repo = TestRepo::prod();
    let file = "environments/prod/extra-sealed.yaml";
    repo.write(
        file,
        &sealed_secret("extra", &[sealed_value(10)], &last_applied()),
    );
    let (code, json, stdout) = check_json(&repo);
    assert_eq!(code, 1);
    let found = findings(&json, "plain-secret");
    assert!(
        found.iter().any(|f| f["file"] == file
            && f["message"]
                .as_str()
                .unwrap()
                .contains("kubectl.kubernetes.io/last-applied-configuration")),
        "{json:#}"
    );
    assert!(!stdout.contains("canary-plaintext"), "{stdout}");
    // The scope annotation sealing writes into the template is not plain text.
    repo.write(
        file,
        &sealed_secret(
            "extra",
            &[sealed_value(10)],
            "      annotations:\n        sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
        ),
    );
    let (_, json, _) = check_json(&repo);
    assert!(
        findings(&json, "plain-secret")
            .iter()
            .all(|f| f["file"] != file),
        "{json:#}"
    );
}

#[test]
fn diff_never_prints_template_or_secret_annotations() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::prod();
    let file = "environments/prod/extra-sealed.yaml";
    repo.write(file, &sealed_secret("extra", &[sealed_value(10)], ""));
    let kustomization = repo.read("environments/prod/kustomization.yaml");
    repo.write(
        "environments/prod/kustomization.yaml",
        &kustomization.replacen("resources:\n", "resources:\n- extra-sealed.yaml\n", 1),
    );
    let git = |arguments: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(["-c", "commit.gpgsign=false"])
            .args(arguments)
            .current_dir(repo.path())
            .status()
            .unwrap();
        assert!(status.success());
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "x"]);
    repo.write(
        file,
        &sealed_secret("extra", &[sealed_value(10)], &last_applied()),
    );
    for format in ["text", "json", "markdown"] {
        let run = repo.run(&["diff", "--format", format]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("last-applied-configuration"),
            "{format}: {}",
            run.stdout
        );
        assert!(
            !run.stdout.contains("canary-plaintext"),
            "{format} leaks: {}",
            run.stdout
        );
    }
}

#[test]
fn sealed_secrets_kubernetes_refuses_for_their_size_are_findings() {
    let repo = TestRepo::prod();
    // 1 MiB + 1 byte of data in two values: the Secret would be refused.
    let half = 1_048_576 / 2;
    let file = "environments/prod/big-sealed.yaml";
    repo.write(
        file,
        &sealed_secret("big", &[sealed_value(half), sealed_value(half + 1)], ""),
    );
    // Over 16 MiB: not even read, reported by its size.
    let huge = "environments/prod/huge-sealed.yaml";
    repo.write(
        huge,
        &sealed_secret("huge", &[sealed_value(13 * 1024 * 1024)], ""),
    );
    let (code, json, _) = check_json(&repo);
    assert_eq!(code, 1);
    let found = findings(&json, "sealed-secret-too-large");
    let message = |path: &str| {
        found
            .iter()
            .find(|f| f["file"] == path)
            .unwrap_or_else(|| panic!("{path}: {json:#}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let big = message(file);
    assert!(
        big.contains("1048577 bytes") && big.contains("over 1 MiB") && big.contains("1048576"),
        "{big}"
    );
    let size = std::fs::metadata(repo.path().join(huge)).unwrap().len();
    let huge_message = message(huge);
    assert!(
        huge_message.contains(&format!("{size} bytes")) && huge_message.contains("1572864"),
        "{huge_message}"
    );
    // Just under both limits: no finding.
    repo.write(
        file,
        &sealed_secret("big", &[sealed_value(half), sealed_value(half)], ""),
    );
    std::fs::remove_file(repo.path().join(huge)).unwrap();
    let (_, json, _) = check_json(&repo);
    assert!(
        findings(&json, "sealed-secret-too-large").is_empty(),
        "{json:#}"
    );
}

#[test]
fn a_private_key_under_target_is_found() {
    let repo = TestRepo::prod();
    let kind = "RSA PRIVATE KEY";
    let key = format!(
        "-----BEGIN {kind}-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END {kind}-----\n"
    );
    repo.write("target/debug/sealing.key", &key);
    repo.write("target/release/tls.pem", &key);
    let (code, json, _) = check_json(&repo);
    assert_eq!(code, 1);
    let files: Vec<&str> = findings(&json, "private-key")
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"target/debug/sealing.key") && files.contains(&"target/release/tls.pem"),
        "{json:#}"
    );
}
