//! `seal`, `secrets`, `unseal` and the sealing key of `init env`. Every ciphertext the binary
//! writes is decrypted by the independent Python implementation, never only by our own code.

use serde_json::Value;

use crate::support::*;

const CONDUCTOR_DB: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\n  namespace: dbos-prod\n  labels:\n    team: core\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{}'\n    note: keep\ntype: Opaque\ndata:\n  database-url: cG9zdGdyZXM6Ly91OnBAaC9kYg==\nstringData:\n  extra: \"on\"\n";

fn go_cert() -> String {
    fixture("go-cert.pem").to_string_lossy().into_owned()
}

fn decrypted(result: &Value, id: &str, key: &str) -> String {
    use base64::Engine as _;
    let encoded = result[id][key]
        .as_str()
        .unwrap_or_else(|| panic!("no {id} {key} in {result}"));
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn standalone_seal_matches_kubeseals_shape_and_decrypts_independently_in_every_scope() {
    let repo = TestRepo::empty();
    for (scope, id, annotation) in [
        ("strict", "dbos-prod/conductor-db", None),
        (
            "namespace-wide",
            "dbos-prod/conductor-db",
            Some("sealedsecrets.bitnami.com/namespace-wide"),
        ),
        (
            "cluster-wide",
            "dbos-prod/conductor-db",
            Some("sealedsecrets.bitnami.com/cluster-wide"),
        ),
    ] {
        let run = repo.run_with_stdin(
            &["seal", "--cert", &go_cert(), "--scope", scope],
            Some(CONDUCTOR_DB.as_bytes()),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let sealed = &parse_yaml_stream(&run.stdout)[0];
        assert_eq!(sealed["apiVersion"], "bitnami.com/v1alpha1");
        assert_eq!(sealed["kind"], "SealedSecret");
        assert_eq!(sealed["metadata"]["name"], "conductor-db");
        assert!(sealed["metadata"].get("creationTimestamp").is_none());
        assert!(
            sealed["metadata"].get("labels").is_none(),
            "input labels go to the template only"
        );
        let template = &sealed["spec"]["template"];
        assert_eq!(template["type"], "Opaque");
        assert_eq!(template["metadata"]["labels"]["team"], "core");
        assert_eq!(template["metadata"]["annotations"]["note"], "keep");
        assert!(!run.stdout.contains("last-applied-configuration"));
        if let Some(annotation) = annotation {
            assert_eq!(sealed["metadata"]["annotations"][annotation], "true");
            assert_eq!(template["metadata"]["annotations"][annotation], "true");
        }
        assert!(
            !run.stdout.contains("postgres://"),
            "plaintext in the output"
        );
        if let Some(result) = independent_unseal(&fixture("go-key.pem"), &run.stdout) {
            let result = result.unwrap_or_else(|error| panic!("{scope}: {error}"));
            assert_eq!(
                decrypted(&result, id, "database-url"),
                "postgres://u:p@h/db"
            );
            assert_eq!(
                decrypted(&result, id, "extra"),
                "on",
                "stringData is sealed too"
            );
        }
        validate_schemas(std::slice::from_ref(sealed));
    }
}

#[test]
fn a_strict_value_moved_to_another_name_does_not_decrypt() {
    let repo = TestRepo::empty();
    let run = repo.run_with_stdin(
        &["seal", "--cert", &go_cert(), "-o", "yaml"],
        Some(CONDUCTOR_DB.as_bytes()),
    );
    let moved = run.stdout.replacen("name: conductor-db", "name: other", 1);
    assert_ne!(moved, run.stdout, "nothing was renamed");
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &moved) {
        let error = result.expect_err("a renamed strict secret decrypted");
        assert!(error.contains("database-url"), "{error}");
    }
    // Our own unseal refuses it too.
    repo.write("moved.yaml", &moved);
    let refused = repo.fails(
        &[
            "unseal",
            "--key",
            fixture("go-key.pem").to_str().unwrap(),
            "moved.yaml",
        ],
        2,
    );
    assert!(
        refused.stderr.contains("conductor-db") || refused.stderr.contains("other"),
        "{}",
        refused.stderr
    );
}

#[test]
fn unseal_reads_what_the_upstream_go_code_sealed() {
    let repo = TestRepo::empty();
    let key = fixture("go-key.pem");
    for (file, namespace, name) in [
        ("go-strict.yaml", "myns", "mysecret"),
        ("go-nswide.yaml", "myns", "anyname"),
        ("go-clusterwide.yaml", "otherns", "othername"),
    ] {
        let stdout = repo.ok(&[
            "unseal",
            "--key",
            key.to_str().unwrap(),
            fixture(file).to_str().unwrap(),
        ]);
        let secret = &parse_yaml_stream(&stdout)[0];
        assert_eq!(secret["kind"], "Secret");
        assert_eq!(secret["metadata"]["namespace"], namespace);
        assert_eq!(secret["metadata"]["name"], name);
        assert_eq!(
            secret["data"]["password"],
            base64_text("s3cr3t-äö-€"),
            "{file}"
        );
        assert_eq!(
            secret["data"]["big"],
            base64_text(&"0123456789abcdef".repeat(1000))
        );
        assert_eq!(secret["data"]["empty"], "");
    }
    // -o writes the plaintext with mode 0600 and prints nothing.
    let run = repo.run(&[
        "unseal",
        "--key",
        key.to_str().unwrap(),
        "-o",
        "plain.yaml",
        fixture("go-strict.yaml").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(repo.path().join("plain.yaml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn merge_into_adds_keys_and_keeps_the_others_byte_identical() {
    let repo = TestRepo::empty();
    let first = repo.run_with_stdin(
        &["seal", "--cert", &go_cert(), "-w", "sealed.yaml"],
        Some(CONDUCTOR_DB.as_bytes()),
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = parse_yaml_stream(&repo.read("sealed.yaml"))[0].clone();
    let more = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\n  namespace: dbos-prod\nstringData:\n  extra: replaced\n  added: new\n";
    let merged = repo.run_with_stdin(
        &["seal", "--cert", &go_cert(), "--merge-into", "sealed.yaml"],
        Some(more.as_bytes()),
    );
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    let after = parse_yaml_stream(&repo.read("sealed.yaml"))[0].clone();
    let data = |object: &Value, key: &str| {
        object["spec"]["encryptedData"][key]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(data(&after, "database-url"), data(&before, "database-url"));
    assert_ne!(data(&after, "extra"), data(&before, "extra"));
    assert!(data(&after, "added").is_some());
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &repo.read("sealed.yaml")) {
        let result = result.unwrap();
        assert_eq!(
            decrypted(&result, "dbos-prod/conductor-db", "extra"),
            "replaced"
        );
        assert_eq!(decrypted(&result, "dbos-prod/conductor-db", "added"), "new");
        assert_eq!(
            decrypted(&result, "dbos-prod/conductor-db", "database-url"),
            "postgres://u:p@h/db"
        );
    }
    // Another name is refused and the file is untouched.
    let other = more.replace("name: conductor-db", "name: other");
    let saved = repo.read("sealed.yaml");
    let refused = repo.run_with_stdin(
        &["seal", "--cert", &go_cert(), "--merge-into", "sealed.yaml"],
        Some(other.as_bytes()),
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert_eq!(repo.read("sealed.yaml"), saved);
}

#[test]
fn raw_seals_one_value_for_the_right_label_and_json_output_works() {
    let repo = TestRepo::empty();
    let run = repo.run_with_stdin(
        &[
            "seal",
            "--raw",
            "--cert",
            &go_cert(),
            "--namespace",
            "dbos",
            "--name",
            "conductor-api-key",
        ],
        Some(b"raw-value"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ciphertext = run.stdout.trim();
    assert!(!ciphertext.contains('\n') && !ciphertext.is_empty());
    let wrap = |name: &str| {
        format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: dbos\nspec:\n  encryptedData:\n    api-key: {ciphertext}\n"
    )
    };
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &wrap("conductor-api-key")) {
        assert_eq!(
            decrypted(&result.unwrap(), "dbos/conductor-api-key", "api-key"),
            "raw-value"
        );
        assert!(
            independent_unseal(&fixture("go-key.pem"), &wrap("elsewhere"))
                .unwrap()
                .is_err()
        );
    }
    let missing = repo.run_with_stdin(
        &["seal", "--raw", "--cert", &go_cert(), "--namespace", "dbos"],
        Some(b"x"),
    );
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("name"), "{}", missing.stderr);

    let json = repo.run_with_stdin(
        &["seal", "--cert", &go_cert(), "--format", "json"],
        Some(CONDUCTOR_DB.as_bytes()),
    );
    let parsed: Value = serde_json::from_str(&json.stdout).expect("json output");
    assert_eq!(parsed["kind"], "SealedSecret");
}

#[test]
fn tls_type_json_input_and_several_documents() {
    let repo = TestRepo::empty();
    let input = r#"{"apiVersion":"v1","kind":"List","items":[
        {"apiVersion":"v1","kind":"Secret","metadata":{"name":"a","namespace":"ns"},"type":"kubernetes.io/tls","data":{"tls.crt":"Y2VydA==","tls.key":"a2V5"}},
        {"apiVersion":"v1","kind":"Secret","metadata":{"name":"b","namespace":"ns"},"stringData":{"k":"v"}}]}"#;
    let run = repo.run_with_stdin(
        &["seal", "--cert", &go_cert(), "-o", "yaml"],
        Some(input.as_bytes()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sealed = parse_yaml_stream(&run.stdout);
    assert_eq!(sealed.len(), 2);
    assert_eq!(sealed[0]["spec"]["template"]["type"], "kubernetes.io/tls");
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &run.stdout) {
        let result = result.unwrap();
        assert_eq!(decrypted(&result, "ns/a", "tls.key"), "key");
        assert_eq!(decrypted(&result, "ns/b", "k"), "v");
    }
}

#[test]
fn bad_input_exits_2_with_the_reason_and_writes_nothing() {
    let repo = TestRepo::with_env("prod", &["--app-image", "app:v1"]);
    let secret = |body: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\n{body}")
    };
    let cert = go_cert();
    let key_file = fixture("go-key.pem").to_string_lossy().into_owned();
    let cases: Vec<(Vec<&str>, String, &str)> = vec![
        (
            vec!["seal", "--env", "prod"],
            secret("data:\n  database-url: not*base64\n"),
            "base64",
        ),
        (vec!["seal", "--env", "prod"], secret(""), "data"),
        (
            vec!["seal", "--env", "prod"],
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n".into(),
            "Secret",
        ),
        (
            vec!["seal", "--cert", &cert],
            secret("stringData:\n  a: b\n"),
            "namespace",
        ),
        (
            vec!["seal", "--env", "prod"],
            secret("  namespace: dbos\nstringData:\n  a: b\n"),
            "dbos-prod",
        ),
        (
            vec!["seal", "--cert", &cert, "--namespace", "a"],
            secret("  namespace: b\nstringData:\n  a: b\n"),
            "namespace",
        ),
        (
            vec!["seal", "--cert", &key_file],
            secret("  namespace: a\nstringData:\n  a: b\n"),
            "private key",
        ),
        (
            vec!["seal", "--cert", "missing.pem"],
            secret("  namespace: a\nstringData:\n  a: b\n"),
            "kubeseal --fetch-cert",
        ),
        (vec!["seal", "--env", "prod"], "kind: [\n".into(), "stdin"),
        (vec!["seal", "--env", "prod"], "".into(), "no Secret"),
        (
            vec!["seal", "--env", "prod", "--scope", "global"],
            secret("stringData:\n  a: b\n"),
            "scope",
        ),
    ];
    for (arguments, input, fragment) in cases {
        let before = repo.snapshot();
        let run = repo.run_with_stdin(&arguments, Some(input.as_bytes()));
        assert_eq!(run.code, 2, "{arguments:?} with {input:?}: {}", run.stderr);
        assert!(
            run.stderr.to_lowercase().contains(&fragment.to_lowercase()),
            "{arguments:?}: expected {fragment:?} in {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert_eq!(repo.snapshot(), before, "{arguments:?} changed the tree");
    }
    repo.write("garbage.pem", "not a certificate");
    let run = repo.run_with_stdin(
        &["seal", "--cert", "garbage.pem"],
        Some(secret("  namespace: a\nstringData:\n  a: b\n").as_bytes()),
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    let empty_allowed = repo.run_with_stdin(
        &["seal", "--cert", &go_cert(), "--allow-empty-data"],
        Some(secret("  namespace: a\n").as_bytes()),
    );
    assert_eq!(empty_allowed.code, 0, "{}", empty_allowed.stderr);
}

#[test]
fn env_mode_stores_wires_and_renders_the_sealed_secret_unchanged() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_dev_env(
        "prod",
        &[
            "--app-image",
            "ghcr.io/acme/app:v1",
            "--domain",
            "dbos.acme.com",
        ],
    );
    let key = repo.dev_key("prod");
    assert!(
        !key.starts_with(repo.path()),
        "the development key must live outside the repo"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let input = CONDUCTOR_DB.replace("  namespace: dbos-prod\n", "");
    let run = repo.run_with_stdin(&["seal"], Some(input.as_bytes()));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("environments/prod/secrets/conductor-db.yaml"),
        "{}",
        run.stdout
    );
    let stored = repo.read("environments/prod/secrets/conductor-db.yaml");
    assert!(repo
        .read("environments/prod/kustomization.yaml")
        .contains("secrets/conductor-db.yaml"));
    repo.ok(&["build", "--check"]);

    let rendered = repo.kustomize("prod");
    let in_render = find(&rendered, "SealedSecret", "conductor-db");
    let on_disk = &parse_yaml_stream(&stored)[0];
    assert_eq!(in_render, on_disk, "kustomize changed the SealedSecret");
    assert_eq!(on_disk["metadata"]["namespace"], "dbos-prod");
    assert_eq!(
        on_disk["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "-1"
    );
    validate_schemas(&rendered);
    if let Some(result) = independent_unseal(&key, &stored) {
        assert_eq!(
            decrypted(&result.unwrap(), "dbos-prod/conductor-db", "database-url"),
            "postgres://u:p@h/db"
        );
    }

    // secrets set merges one key; the other ciphertexts stay byte-identical.
    let before = on_disk["spec"]["encryptedData"]["database-url"].clone();
    let set = repo.run_with_stdin(
        &[
            "secrets",
            "set",
            "conductor-db",
            "database-url",
            "--from-stdin",
        ],
        Some(b"postgres://new\n"),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    let after = &parse_yaml_stream(&repo.read("environments/prod/secrets/conductor-db.yaml"))[0];
    assert_ne!(after["spec"]["encryptedData"]["database-url"], before);
    assert!(after["spec"]["encryptedData"]["extra"] == on_disk["spec"]["encryptedData"]["extra"]);
    if let Some(result) = independent_unseal(
        &key,
        &repo.read("environments/prod/secrets/conductor-db.yaml"),
    ) {
        assert_eq!(
            decrypted(&result.unwrap(), "dbos-prod/conductor-db", "database-url"),
            "postgres://new",
            "one trailing newline is dropped from stdin"
        );
    }
    repo.write("license.txt", "LICENSE-KEY");
    repo.ok(&[
        "secrets",
        "set",
        "conductor-license",
        "license-key",
        "--from-file",
        "license.txt",
    ]);

    let list = repo.ok(&["secrets", "list"]);
    let line = |secret: &str, key: &str| {
        list.lines()
            .find(|line| line.starts_with(secret) && line.contains(key))
            .unwrap_or_else(|| panic!("no {secret} {key} in\n{list}"))
            .to_string()
    };
    assert!(
        line("conductor-db", "database-url").contains("sealed")
            && line("conductor-db", "database-url").contains("current")
    );
    assert!(
        line("conductor-db ", "extra").contains("unreferenced"),
        "{list}"
    );
    assert!(line("conductor-license", "license-key").contains("sealed"));
    assert!(line("dbos-app-db", "database-url").contains("missing"));
    assert!(line("conductor-api-key", "api-key").contains("missing"));
    let json: Value =
        serde_json::from_str(&repo.ok(&["secrets", "list", "--format", "json"])).unwrap();
    let entries = json["secrets"].as_array().unwrap();
    assert!(entries
        .iter()
        .any(|entry| entry["secret"] == "postgres-admin" && entry["status"] == "missing"));

    // Unknown secrets and keys are refused with the known ones listed.
    let unknown = repo.run_with_stdin(&["secrets", "set", "nope", "k", "--from-stdin"], Some(b"v"));
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("conductor-db"),
        "{}",
        unknown.stderr
    );
    let wrong_key = repo.run_with_stdin(
        &["secrets", "set", "conductor-license", "key", "--from-stdin"],
        Some(b"v"),
    );
    assert_eq!(wrong_key.code, 2);
    assert!(
        wrong_key.stderr.contains("license-key"),
        "{}",
        wrong_key.stderr
    );
}

#[test]
fn init_env_copies_a_checked_controller_certificate() {
    let repo = TestRepo::new();
    repo.ok(&["init", "env", "prod", "--cert", &go_cert()]);
    assert_eq!(
        std::fs::read(repo.path().join("environments/prod/sealing-cert.pem")).unwrap(),
        std::fs::read(fixture("go-cert.pem")).unwrap()
    );
    assert!(
        !repo
            .home
            .path()
            .join(".config/dbos-gitops/dev-keys")
            .exists(),
        "no development key with --cert"
    );
    let before = repo.snapshot();
    let refused = repo.fails(
        &[
            "init",
            "env",
            "qa",
            "--cert",
            fixture("go-key.pem").to_str().unwrap(),
        ],
        2,
    );
    assert!(refused.stderr.contains("private key"), "{}", refused.stderr);
    assert_eq!(repo.snapshot(), before);
}

/// The hidden prompt, through a real pseudo-terminal (tests/support/pty_answer.py types the
/// value once the command has turned echo off): the value is sealed and never echoed.
#[test]
fn secrets_set_prompts_without_echo_on_a_terminal() {
    if !require_tool("python3", &["-c", "import pty, termios"]) {
        return;
    }
    let repo = TestRepo::with_env("prod", &["--app-image", "app:v1"]);
    let output = std::process::Command::new("python3")
        .arg(project_root().join("tests/support/pty_answer.py"))
        .arg("typed-at-the-prompt")
        .arg("--")
        .arg(binary())
        .args(["secrets", "set", "conductor-api-key", "api-key"])
        .current_dir(repo.path())
        .env("HOME", repo.home.path())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(screen.contains("(hidden)"), "{screen}");
    assert!(
        !screen.contains("typed-at-the-prompt"),
        "the value was echoed:\n{screen}"
    );
    if let Some(result) = independent_unseal(
        &fixture("go-key.pem"),
        &repo.read("environments/prod/secrets/conductor-api-key.yaml"),
    ) {
        assert_eq!(
            decrypted(&result.unwrap(), "dbos-prod/conductor-api-key", "api-key"),
            "typed-at-the-prompt"
        );
    }
}

/// The controller's key backup, as its docs and our hints say to take it
/// (`kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`).
#[test]
fn unseal_reads_the_controllers_key_backup() {
    use base64::Engine as _;
    let repo = TestRepo::empty();
    let key = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(fixture("go-key.pem")).unwrap());
    repo.write(
        "keys.yaml",
        &format!(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: sealed-secrets-keyabcde\n    namespace: kube-system\n  type: kubernetes.io/tls\n  data:\n    tls.crt: \"\"\n    tls.key: {key}\n"
        ),
    );
    let stdout = repo.ok(&[
        "unseal",
        "--key",
        "keys.yaml",
        fixture("go-nswide.yaml").to_str().unwrap(),
    ]);
    assert_eq!(
        parse_yaml_stream(&stdout)[0]["data"]["password"],
        base64_text("s3cr3t-äö-€")
    );
    repo.write("junk.yaml", "just: text\n");
    let refused = repo.fails(
        &[
            "unseal",
            "--key",
            "junk.yaml",
            fixture("go-nswide.yaml").to_str().unwrap(),
        ],
        2,
    );
    assert!(refused.stderr.contains("junk.yaml"), "{}", refused.stderr);
}
