//! Faults lose nothing (#14): concurrent writers serialise on the repository lock, and a
//! process killed at any rename or removal is finished by the next command.

use std::process::{Child, Stdio};

use serde_json::Value;

use crate::support::*;

/// Starts the binary with `input` on its stdin, without waiting.
fn spawn(repo: &TestRepo, arguments: &[&str], input: &[u8]) -> Child {
    use std::io::Write as _;
    let mut child = repo
        .command(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let _ = child.stdin.take().expect("stdin").write_all(input);
    child
}

fn finish(child: Child, what: &str) {
    let run = Run::from(child.wait_with_output().expect("wait"));
    assert_eq!(run.code, 0, "{what}: {}\n{}", run.stdout, run.stderr);
}

fn secret(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: dbos-prod\nstringData:\n  {key}: {value}\n"
    )
}

fn encrypted_keys(repo: &TestRepo, file: &str) -> Vec<String> {
    let sealed = &parse_yaml_stream(&repo.read(file))[0];
    sealed["spec"]["encryptedData"]
        .as_object()
        .map(|data| data.keys().cloned().collect())
        .unwrap_or_default()
}

const ROUNDS: usize = 10;

#[test]
fn issue_14_racing_seals_of_one_secret_keep_every_key() {
    let repo = TestRepo::prod();
    for round in 0..ROUNDS {
        let first = secret(
            "app-extra",
            &format!("a{round}"),
            &format!("value-a{round}"),
        );
        let second = secret(
            "app-extra",
            &format!("b{round}"),
            &format!("value-b{round}"),
        );
        let one = spawn(&repo, &["seal", "--env", "prod"], first.as_bytes());
        let two = spawn(&repo, &["seal", "--env", "prod"], second.as_bytes());
        finish(one, "seal a");
        finish(two, "seal b");
    }
    let file = "environments/prod/secrets/app-extra.yaml";
    let keys = encrypted_keys(&repo, file);
    assert_eq!(keys.len(), 2 * ROUNDS, "keys lost: {keys:?}");
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &repo.read(file)) {
        let result = result.expect("decrypts");
        for round in 0..ROUNDS {
            for side in ["a", "b"] {
                let encoded = result["dbos-prod/app-extra"][format!("{side}{round}")]
                    .as_str()
                    .unwrap_or_else(|| panic!("{side}{round} missing: {result}"));
                assert_eq!(encoded, base64_text(&format!("value-{side}{round}")));
            }
        }
    }
    assert!(repo
        .read("environments/prod/kustomization.yaml")
        .contains("secrets/app-extra.yaml"));
    repo.ok(&["build", "--check"]);
}

#[test]
fn issue_14_racing_dex_users_agree_with_the_sealed_hashes() {
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com", "--oidc", "dex"]);
    let rounds = ROUNDS / 2;
    for round in 0..rounds {
        let children: Vec<Child> = ["a", "b"]
            .iter()
            .map(|side| {
                let email = format!("{side}{round}@acme.com");
                spawn(
                    &repo,
                    &[
                        "dex",
                        "add-user",
                        "--env",
                        "prod",
                        &email,
                        "--password-stdin",
                    ],
                    b"secret password\n",
                )
            })
            .collect();
        for child in children {
            finish(child, "dex add-user");
        }
    }
    let users = repo.read("environments/prod/dex-users.yaml");
    let keys = encrypted_keys(&repo, "environments/prod/secrets/dex-users.yaml");
    assert_eq!(keys.len(), 2 * rounds, "{keys:?}");
    for round in 0..rounds {
        for side in ["a", "b"] {
            assert!(
                users.contains(&format!("{side}{round}@acme.com")),
                "{users}"
            );
            assert!(
                keys.contains(&format!("{side}{round}-acme-com")),
                "{keys:?}"
            );
        }
    }
    repo.ok(&["build", "--check"]);
}

#[test]
fn issue_14_version_add_racing_seal_loses_no_kustomization_entry() {
    let repo = TestRepo::prod();
    for round in 0..ROUNDS {
        let version = format!("v{}", round + 2);
        let image = format!("ghcr.io/acme/app:{version}");
        let add = spawn(
            &repo,
            &[
                "version", "add", &version, "--env", "prod", "--image", &image,
            ],
            b"",
        );
        let input = secret(&format!("extra-{round}"), "k", "v");
        let seal = spawn(&repo, &["seal", "--env", "prod"], input.as_bytes());
        finish(add, "version add");
        finish(seal, "seal");
    }
    let kustomization = repo.read("environments/prod/kustomization.yaml");
    for round in 0..ROUNDS {
        assert!(
            kustomization.contains(&format!("secrets/extra-{round}.yaml")),
            "{kustomization}"
        );
        assert!(
            repo.exists(&format!("environments/prod/versions/v{}", round + 2)),
            "version v{} missing",
            round + 2
        );
    }
    repo.ok(&["build", "--check"]);
    repo.ok(&["build"]);
}

#[test]
fn issue_14_a_writer_gives_up_after_the_bound_naming_the_holder() {
    let repo = TestRepo::prod();
    // Hold the lock from outside with flock(1) (it locks directories too).
    if !require_tool("flock", &["--version"]) {
        return;
    }
    let mut holder = std::process::Command::new("flock")
        .arg(repo.path())
        .args(["sleep", "5"])
        .spawn()
        .expect("flock");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let run = Run::from(
        repo.command(&["build"])
            .env("DBOS_GITOPS_LOCK_TIMEOUT", "0.5")
            .output()
            .unwrap(),
    );
    let holder_pid = holder.id();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("held by pid {holder_pid}: `flock")),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    // Readers do not wait.
    repo.ok(&["build", "--check"]);
}

#[allow(dead_code)]
fn unused(_: Value) {}
