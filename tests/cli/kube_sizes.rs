//! Issue 23 item 9 (the seal half): what Kubernetes refuses is refused when sealing. A Secret
//! of more than 1 MiB of data (kube-apiserver's `MaxSecretSize`), a SealedSecret over 1.5 MiB
//! (etcd's default request limit, measured as the JSON the API server stores) and annotations
//! over 256 KiB (`TotalAnnotationSizeLimitB`) are refused with the limit and the size, exit 2,
//! nothing written; exactly 1 MiB of data is sealed and opens.

use crate::support::*;

const SECRET_FILE: &str = "environments/prod/secrets/big.yaml";

/// A Secret `big` whose `data` holds `values` (each base64-encoded here).
fn secret(values: &[(String, Vec<u8>)], annotations: &str) -> String {
    use base64::Engine as _;
    let mut text =
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: big\n{annotations}data:\n");
    for (key, value) in values {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        text.push_str(&format!("  {key}: {encoded}\n"));
    }
    text
}

fn one_value(bytes: usize) -> Vec<(String, Vec<u8>)> {
    vec![("blob".into(), vec![b'x'; bytes])]
}

/// `seal --env prod` of `input`: exit 2, the limit and the size named, the tree unchanged.
fn refused(repo: &TestRepo, input: &str, expected: &[&str]) -> String {
    let before = repo.snapshot();
    let run = repo.run_with_stdin(&["seal", "--env", "prod"], Some(input.as_bytes()));
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    for part in expected {
        assert!(run.stderr.contains(part), "no {part:?} in {}", run.stderr);
    }
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert_eq!(repo.snapshot(), before, "a refused seal wrote something");
    run.stderr
}

#[test]
fn secret_data_over_one_mib_is_refused_and_exactly_one_mib_is_sealed() {
    let repo = TestRepo::prod();
    refused(
        &repo,
        &secret(&one_value((1 << 20) + 1), ""),
        &[
            SECRET_FILE,
            "the data of Secret `big` would be 1048577 bytes (1.0 MiB)",
            "over the 1048576 bytes (1.0 MiB) the Kubernetes API server (MaxSecretSize) accepts",
        ],
    );
    // Spread over keys it is the same sum.
    let halves: Vec<(String, Vec<u8>)> = vec![
        ("a".into(), vec![b'a'; 1 << 19]),
        ("b".into(), vec![b'b'; (1 << 19) + 1]),
    ];
    refused(&repo, &secret(&halves, ""), &["1048577 bytes"]);

    // Exactly the limit: sealed, and the controller's second opinion opens every byte.
    let run = repo.run_with_stdin(
        &["seal", "--env", "prod"],
        Some(secret(&one_value(1 << 20), "").as_bytes()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = repo.read(SECRET_FILE);
    let document = &parse_yaml_stream(&text)[0];
    let object = serde_json::to_vec(document).unwrap().len();
    assert!(object < 1_572_864, "{object}");
    if let Some(result) = independent_unseal(&fixture("go-key.pem"), &text) {
        use base64::Engine as _;
        let result = result.unwrap();
        let value = base64::engine::general_purpose::STANDARD
            .decode(result["dbos-prod/big"]["blob"].as_str().unwrap())
            .unwrap();
        assert_eq!(value, vec![b'x'; 1 << 20]);
    }
    // Adding one byte more to the stored secret is refused too: the sum counts the kept keys.
    refused(
        &repo,
        &secret(&[("more".into(), b"y".to_vec())], ""),
        &["1048577 bytes"],
    );
}

#[test]
fn a_sealed_secret_over_etcds_limit_is_refused_though_its_data_is_small() {
    let repo = TestRepo::prod();
    // Each 1-byte value costs a 512-byte RSA block, a tag, and a third more for base64.
    let values: Vec<(String, Vec<u8>)> = (0..2300)
        .map(|index| (format!("k{index:04}"), vec![b'v']))
        .collect();
    let stderr = refused(
        &repo,
        &secret(&values, ""),
        &[
            "the SealedSecret `big` would be",
            "over the 1572864 bytes (1.5 MiB) etcd (its default --max-request-bytes) accepts",
            "RSA block of 512 bytes",
        ],
    );
    assert!(!stderr.contains("MaxSecretSize"), "{stderr}");
}

#[test]
fn annotations_over_256_kib_are_refused() {
    let repo = TestRepo::prod();
    // On the input Secret: they become the template's, and so the created Secret's.
    let annotations = format!("  annotations:\n    note: {}\n", "n".repeat(300 << 10));
    refused(
        &repo,
        &secret(&one_value(10), &annotations),
        &[
            "the Secret's annotations (from `spec.template`) would be 307204 bytes",
            "262144 bytes (256.0 KiB) the Kubernetes API server (TotalAnnotationSizeLimitB)",
        ],
    );
    // The value MACs are an annotation of the SealedSecret: long key names fill it first.
    let values: Vec<(String, Vec<u8>)> = (0..1100)
        .map(|index| (format!("{}-{index:04}", "k".repeat(200)), vec![b'v']))
        .collect();
    refused(
        &repo,
        &secret(&values, ""),
        &[
            "the SealedSecret's annotations would be",
            "TotalAnnotationSizeLimitB",
        ],
    );
}

#[test]
fn standalone_raw_and_secrets_set_refuse_the_same_sizes() {
    let repo = TestRepo::prod();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    let outside = tempfile::tempdir().unwrap();
    let output = outside.path().join("sealed.yaml");
    let big = secret(&one_value((1 << 20) + 1), "");
    let run = repo.run_with_stdin(
        &[
            "seal",
            "--cert",
            &cert,
            "--namespace",
            "dbos-prod",
            "-w",
            output.to_str().unwrap(),
        ],
        Some(big.as_bytes()),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("sealed.yaml") && run.stderr.contains("MaxSecretSize"),
        "{}",
        run.stderr
    );
    assert!(!output.exists(), "a refused seal wrote its output");
    let run = repo.run_with_stdin(
        &["seal", "--cert", &cert, "--namespace", "dbos-prod"],
        Some(big.as_bytes()),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "a refused seal printed a SealedSecret"
    );

    let value = vec![b'z'; (1 << 20) + 1];
    let run = repo.run_with_stdin(
        &[
            "seal",
            "--raw",
            "--cert",
            &cert,
            "--namespace",
            "n",
            "--name",
            "s",
        ],
        Some(&value),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("1048577 bytes") && run.stderr.contains("MaxSecretSize"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    let file = outside.path().join("value.bin");
    std::fs::write(&file, &value).unwrap();
    let before = repo.snapshot();
    let run = repo.run(&[
        "secrets",
        "set",
        "conductor-db",
        "database-url",
        "--from-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("environments/prod/secrets/conductor-db.yaml")
            && run.stderr.contains("MaxSecretSize"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.snapshot(), before);
}
