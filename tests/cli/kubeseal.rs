//! `seal` without `--env` as a kubeseal drop-in (#24 item 2): kubeseal's flags (cmd/kubeseal of
//! bitnami-labs/sealed-secrets) give kubeseal's output, which the independent Python decrypter
//! opens and the upstream SealedSecret CRD accepts; every flag that does not apply is refused
//! with exit 2, its reason, no output and no file.

use serde_json::Value;

use crate::support::*;

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\n  namespace: dbos-prod\nstringData:\n  database-url: postgres://u:p@h/db\n";

fn cert() -> String {
    fixture("go-cert.pem").to_string_lossy().into_owned()
}

fn opened(sealed: &str, id: &str, key: &str) -> Option<String> {
    use base64::Engine as _;
    let result = independent_unseal(&fixture("go-key.pem"), sealed)?.unwrap();
    let encoded = result[id][key]
        .as_str()
        .unwrap_or_else(|| panic!("no {id} {key} in {result}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    Some(String::from_utf8(bytes).unwrap())
}

/// The output is one valid SealedSecret that opens to the input's value under `id`.
fn assert_sealed(object: &Value, text: &str, id: &str) {
    assert_eq!(object["kind"], "SealedSecret");
    validate_schemas(std::slice::from_ref(object));
    if let Some(value) = opened(text, id, "database-url") {
        assert_eq!(value, "postgres://u:p@h/db");
    }
}

#[test]
fn the_default_is_kubeseals_pretty_json_and_o_yaml_prints_yaml_without_a_file() {
    let repo = TestRepo::empty();
    let json = repo.run_with_stdin(&["seal", "--cert", &cert()], Some(SECRET.as_bytes()));
    assert_eq!(json.code, 0, "{}", json.stderr);
    // apimachinery's pretty JSON (two-space indentation), then kubeseal's newline.
    assert!(json.stdout.starts_with("{\n  \""), "{}", json.stdout);
    assert!(json.stdout.ends_with("}\n") && !json.stdout.ends_with("}\n\n"));
    let object: Value = serde_json::from_str(&json.stdout).expect("JSON on stdout");
    assert_sealed(&object, &json.stdout, "dbos-prod/conductor-db");

    for flag in ["-o", "--format"] {
        let before = repo.snapshot();
        let yaml = repo.run_with_stdin(
            &["seal", "--cert", &cert(), flag, "yaml"],
            Some(SECRET.as_bytes()),
        );
        assert_eq!(yaml.code, 0, "{}", yaml.stderr);
        assert!(yaml
            .stdout
            .starts_with("---\napiVersion: bitnami.com/v1alpha1\n"));
        let objects = parse_yaml_stream(&yaml.stdout);
        assert_eq!(objects.len(), 1);
        assert_sealed(&objects[0], &yaml.stdout, "dbos-prod/conductor-db");
        assert_eq!(repo.snapshot(), before, "`{flag} yaml` wrote a file");
    }
    let bad = repo.run_with_stdin(
        &["seal", "--cert", &cert(), "-o", "yml"],
        Some(SECRET.as_bytes()),
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("json") && bad.stderr.contains("yaml"));
}

#[test]
fn several_secrets_stream_as_kubeseal_streams_them() {
    let repo = TestRepo::empty();
    let two = format!("{SECRET}---\n{}", SECRET.replace("conductor-db", "other"));
    let json = repo.run_with_stdin(&["seal", "--cert", &cert()], Some(two.as_bytes()));
    assert_eq!(json.code, 0, "{}", json.stderr);
    let objects: Vec<Value> = serde_json::Deserializer::from_str(&json.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap();
    let names: Vec<&str> = objects
        .iter()
        .map(|object| object["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["conductor-db", "other"]);
    validate_schemas(&objects);
    let yaml = repo.run_with_stdin(
        &["seal", "--cert", &cert(), "-o", "yaml"],
        Some(two.as_bytes()),
    );
    assert_eq!(yaml.stdout.matches("---\n").count(), 2, "{}", yaml.stdout);
    assert_eq!(parse_yaml_stream(&yaml.stdout).len(), 2);
    if let Some(value) = opened(&yaml.stdout, "dbos-prod/other", "database-url") {
        assert_eq!(value, "postgres://u:p@h/db");
    }
}

#[test]
fn w_writes_the_file_in_the_format_its_extension_or_o_says() {
    let repo = TestRepo::empty();
    for (flags, file, json) in [
        (vec!["-w", "out.json"], "out.json", true),
        (vec!["-w", "out.yaml"], "out.yaml", false),
        (vec!["--sealed-secret-file", "out.yml"], "out.yml", false),
        (
            vec!["-o", "yaml", "-w", "sealed.json"],
            "sealed.json",
            false,
        ),
        (vec!["-w", "noext"], "noext", true),
    ] {
        let c = cert();
        let arguments = [&["seal", "--cert", c.as_str()][..], &flags[..]].concat();
        let run = repo.run_with_stdin(&arguments, Some(SECRET.as_bytes()));
        assert_eq!(run.code, 0, "{flags:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{flags:?} printed {}", run.stdout);
        let text = repo.read(file);
        let object = if json {
            serde_json::from_str(&text).expect("JSON file")
        } else {
            assert!(text.starts_with("---\n"), "{flags:?}: {text}");
            parse_yaml_stream(&text)[0].clone()
        };
        assert_sealed(&object, &text, "dbos-prod/conductor-db");
    }
}

#[test]
fn input_from_f_dash_secret_file_and_the_cert_from_sealed_secrets_cert() {
    let repo = TestRepo::empty();
    repo.write("secret.yaml", SECRET);
    for flags in [
        vec!["-f", "secret.yaml"],
        vec!["--secret-file", "secret.yaml"],
        vec!["--file", "secret.yaml"],
    ] {
        let c = cert();
        let arguments = [&["seal", "--cert", c.as_str()][..], &flags[..]].concat();
        let run = repo.run_with_stdin(&arguments, Some(b"not a secret"));
        assert_eq!(run.code, 0, "{flags:?}: {}", run.stderr);
        assert_sealed(
            &serde_json::from_str(&run.stdout).unwrap(),
            &run.stdout,
            "dbos-prod/conductor-db",
        );
    }
    let mut command = repo.command(&["seal", "-f", "-", "-o", "yaml"]);
    command.env("SEALED_SECRETS_CERT", cert());
    let run = Run::from(pipe(&mut command, SECRET.as_bytes()));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let objects = parse_yaml_stream(&run.stdout);
    assert_sealed(&objects[0], &run.stdout, "dbos-prod/conductor-db");

    let mut command = repo.command(&["seal", "-o", "yaml"]);
    command.env("SEALED_SECRETS_CERT", repo.path().join("missing.pem"));
    let run = Run::from(pipe(&mut command, SECRET.as_bytes()));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("missing.pem"), "{}", run.stderr);
}

#[test]
fn sealed_secrets_cert_is_not_used_when_env_selects_an_environment() {
    let repo = TestRepo::prod();
    let mut command = repo.command(&["seal", "--env", "prod"]);
    command.env("SEALED_SECRETS_CERT", repo.path().join("missing.pem"));
    let run = Run::from(pipe(&mut command, SECRET.as_bytes()));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stdout
        .starts_with("sealed environments/prod/secrets/conductor-db.yaml"));
    assert!(repo.exists("environments/prod/secrets/conductor-db.yaml"));
}

#[test]
fn n_fills_the_namespace_of_an_input_without_one() {
    let repo = TestRepo::empty();
    let bare = SECRET.replace("  namespace: dbos-prod\n", "");
    let run = repo.run_with_stdin(
        &["seal", "--cert", &cert(), "-n", "team-a", "-o", "yaml"],
        Some(bare.as_bytes()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let object = &parse_yaml_stream(&run.stdout)[0];
    assert_eq!(object["metadata"]["namespace"], "team-a");
    assert_sealed(object, &run.stdout, "team-a/conductor-db");
}

#[test]
fn raw_reads_one_from_file_or_stdin_and_w_writes_the_bare_ciphertext() {
    let repo = TestRepo::empty();
    repo.write("value.txt", "from-a-file");
    let wrap = |ciphertext: &str| {
        format!("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: conductor-db\n  namespace: dbos-prod\nspec:\n  encryptedData:\n    database-url: {ciphertext}\n")
    };
    let base = ["seal", "--raw", "--cert", &cert(), "-n", "dbos-prod"];
    for (flags, stdin, value) in [
        (
            vec!["--name", "conductor-db", "--from-file", "value.txt"],
            "",
            "from-a-file",
        ),
        (
            vec!["--name", "conductor-db", "--from-file", "key=value.txt"],
            "",
            "from-a-file",
        ),
        (vec!["--name", "conductor-db"], "from-stdin", "from-stdin"),
    ] {
        let arguments = [&base[..], &flags[..]].concat();
        let run = repo.run_with_stdin(&arguments, Some(stdin.as_bytes()));
        assert_eq!(run.code, 0, "{flags:?}: {}", run.stderr);
        assert!(!run.stdout.contains('\n') && !run.stdout.is_empty());
        if let Some(opened) = opened(&wrap(&run.stdout), "dbos-prod/conductor-db", "database-url") {
            assert_eq!(opened, value, "{flags:?}");
        }
    }
    let arguments = [&base[..], &["--name", "conductor-db", "-w", "raw.txt"][..]].concat();
    let run = repo.run_with_stdin(&arguments, Some(b"to-a-file"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    if let Some(opened) = opened(
        &wrap(&repo.read("raw.txt")),
        "dbos-prod/conductor-db",
        "database-url",
    ) {
        assert_eq!(opened, "to-a-file");
    }
}

#[test]
fn flags_that_do_not_apply_are_refused_with_the_reason_and_nothing_written() {
    let repo = TestRepo::prod();
    repo.write("sealed.yaml", "");
    let two = format!("{SECRET}---\n{}", SECRET.replace("conductor-db", "other"));
    let c = cert();
    let raw = [
        "seal",
        "--cert",
        c.as_str(),
        "--raw",
        "-n",
        "dbos-prod",
        "--name",
        "x",
    ];
    let with_cert = ["seal", "--cert", c.as_str()];
    let env = ["seal", "--env", "prod"];
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        // An environment seals with its own certificate and stores the result.
        (
            [&env[..], &["--cert", &c]].concat(),
            "--cert",
            "sealing-cert.pem",
        ),
        (
            [&env[..], &["-o", "yaml"]].concat(),
            "-o/--format",
            "stored",
        ),
        (
            [&env[..], &["-w", "x.yaml"]].concat(),
            "-w/--sealed-secret-file",
            "stored",
        ),
        (
            [&env[..], &["--merge-into", "sealed.yaml"]].concat(),
            "--merge-into",
            "merges",
        ),
        ([&env[..], &["--raw"]].concat(), "--raw", "secrets set"),
        (
            [&env[..], &["--from-file", "v"]].concat(),
            "--from-file",
            "--raw",
        ),
        (
            [&env[..], &["--name", "x"]].concat(),
            "--name",
            "metadata.name",
        ),
        // Without an environment, the environment's flags and what kubeseal would ignore.
        (
            [&with_cert[..], &["--dry-run"]].concat(),
            "--dry-run",
            "--env",
        ),
        (
            [&with_cert[..], &["--mac-key-file", "k"]].concat(),
            "--mac-key-file",
            "--env",
        ),
        (
            [&with_cert[..], &["--from-file", "v"]].concat(),
            "--from-file",
            "requires `--raw`",
        ),
        (
            [&raw[..], &["--from-file", "a", "--from-file", "b"]].concat(),
            "--from-file",
            "one",
        ),
        (
            [&raw[..], &["--merge-into", "sealed.yaml"]].concat(),
            "--merge-into",
            "bare",
        ),
        ([&raw[..], &["-o", "json"]].concat(), "-o/--format", "bare"),
        (
            [&raw[..], &["-f", "secret.yaml"]].concat(),
            "-f/--secret-file",
            "--from-file",
        ),
        (
            [&raw[..], &["--allow-empty-data"]].concat(),
            "--allow-empty-data",
            "one value",
        ),
        (
            [&with_cert[..], &["--merge-into", "sealed.yaml", "-w", "o"]].concat(),
            "-w/--sealed-secret-file",
            "in place",
        ),
        (
            [&with_cert[..], &["-o", "json", "-w", "x.yaml"]].concat(),
            "-o json",
            "YAML",
        ),
        // `--name` and `-n` where the ciphertext would not be bound to them (#24 item 2).
        (
            [&with_cert[..], &["--name", "x"]].concat(),
            "--name",
            "metadata.name",
        ),
        (
            [&with_cert[..], &["--name", "x", "-o", "yaml"]].concat(),
            "--name",
            "kubectl create secret generic NAME",
        ),
        (
            [
                &with_cert[..],
                &["--name", "x", "--merge-into", "sealed.yaml"],
            ]
            .concat(),
            "--name",
            "ignore `--name` with `--merge-into`",
        ),
        (
            [&raw[..], &["--scope", "namespace-wide"]].concat(),
            "--name",
            "not bound to a secret name",
        ),
        (
            [&raw[..], &["--scope", "cluster-wide"]].concat(),
            "--name",
            "--scope strict",
        ),
        (
            [
                "seal",
                "--cert",
                c.as_str(),
                "--raw",
                "-n",
                "dbos-prod",
                "--scope",
                "cluster-wide",
            ]
            .to_vec(),
            "-n/--namespace",
            "bound to no namespace",
        ),
        // kubeseal flags that need a cluster or another command here.
        (
            [&with_cert[..], &["--output", "yaml"]].concat(),
            "--output",
            "-w/--sealed-secret-file",
        ),
        (
            [&with_cert[..], &["--fetch-cert"]].concat(),
            "--fetch-cert",
            "kubeseal --fetch-cert",
        ),
        (
            [&with_cert[..], &["--validate"]].concat(),
            "--validate",
            "unseal",
        ),
        (
            [&with_cert[..], &["--re-encrypt"]].concat(),
            "--re-encrypt",
            "reseal",
        ),
        (
            [&with_cert[..], &["--rotate"]].concat(),
            "--re-encrypt",
            "reseal",
        ),
        (
            [&with_cert[..], &["--recovery-unseal"]].concat(),
            "--recovery-unseal",
            "unseal --key",
        ),
        (
            [&with_cert[..], &["--recovery-private-key", "k"]].concat(),
            "--recovery-unseal",
            "unseal --key",
        ),
        (
            [&with_cert[..], &["--controller-namespace", "x"]].concat(),
            "--controller-namespace",
            "cluster",
        ),
        (
            [&with_cert[..], &["--controller-name", "x"]].concat(),
            "--controller-name",
            "cluster",
        ),
        (
            [&with_cert[..], &["--kubeconfig", "x"]].concat(),
            "--kubeconfig",
            "cluster",
        ),
        (
            [&with_cert[..], &["--context", "x"]].concat(),
            "--context",
            "cluster",
        ),
        // The kubectl connection flags kubeseal also takes: unknown here, still exit 2.
        (
            [&with_cert[..], &["--token", "x"]].concat(),
            "--token",
            "unexpected argument",
        ),
    ];
    for (arguments, flag, reason) in cases {
        let before = repo.snapshot();
        let run = repo.run_with_stdin(&arguments, Some(SECRET.as_bytes()));
        assert_eq!(run.code, 2, "{arguments:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("`{flag}`")) || run.stderr.contains(&format!("'{flag}'")),
            "{arguments:?}: no {flag} in {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(reason),
            "{arguments:?}: no {reason:?} in {}",
            run.stderr
        );
        assert!(
            run.stdout.is_empty(),
            "{arguments:?} printed {}",
            run.stdout
        );
        assert_eq!(repo.snapshot(), before, "{arguments:?} changed the tree");
    }
    // One secret or several, `--name` without `--raw` renames nothing.
    let run = repo.run_with_stdin(
        &[&with_cert[..], &["--name", "x"]].concat(),
        Some(two.as_bytes()),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`--name` is refused"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

/// What stays accepted beside the refusals: `--raw` namespace-wide with `-n` only, and
/// cluster-wide with neither, each opening under any name (and any namespace) as upstream's
/// label rules say.
#[test]
fn raw_wider_scopes_take_only_what_binds_them() {
    let repo = TestRepo::empty();
    let wrap = |namespace: &str, name: &str, ciphertext: &str| {
        format!("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  annotations:\n    sealedsecrets.bitnami.com/SCOPE: \"true\"\nspec:\n  encryptedData:\n    k: {ciphertext}\n")
    };
    for (scope, flags, annotation, namespace) in [
        (
            "namespace-wide",
            vec!["-n", "dbos-prod"],
            "namespace-wide",
            "dbos-prod",
        ),
        ("cluster-wide", vec![], "cluster-wide", "anywhere"),
    ] {
        let c = cert();
        let arguments = [
            &["seal", "--raw", "--cert", c.as_str(), "--scope", scope][..],
            &flags[..],
        ]
        .concat();
        let run = repo.run_with_stdin(&arguments, Some(b"wide-value"));
        assert_eq!(run.code, 0, "{arguments:?}: {}", run.stderr);
        let sealed = wrap(namespace, "any-name", &run.stdout).replace("SCOPE", annotation);
        if let Some(result) = independent_unseal(&fixture("go-key.pem"), &sealed) {
            let result = result.unwrap();
            let id = format!("{namespace}/any-name");
            let encoded = result[&id]["k"]
                .as_str()
                .unwrap_or_else(|| panic!("{result}"));
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap();
            assert_eq!(bytes, b"wide-value", "{scope}");
            // Namespace-wide is still bound to its namespace: elsewhere it does not open.
            let moved = sealed.replace(&format!("namespace: {namespace}"), "namespace: elsewhere");
            let elsewhere = independent_unseal(&fixture("go-key.pem"), &moved).unwrap();
            assert_eq!(
                elsewhere.is_err(),
                scope == "namespace-wide",
                "{scope}: {elsewhere:?}"
            );
        }
    }
}
