//! `tls` (#4): the sealed `dbos-tls` secret, unsealed by the independent implementation with the
//! test key, holds a certificate that openssl reads with every host in its SANs, a short CN, the
//! requested validity, and a private key that matches it. A second run changes nothing.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// Runs the binary in the repo with extra environment variables and optional stdin.
pub fn run_with(repo: &TestRepo, arguments: &[&str], envs: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut command = repo.command(arguments);
    command.envs(envs.iter().copied());
    Run::from(pipe(&mut command, stdin))
}

fn tls(repo: &TestRepo, extra: &[&str]) -> Run {
    let mut arguments = vec!["tls", "--env", "prod"];
    arguments.extend_from_slice(extra);
    run_with(repo, &arguments, &[], b"")
}

/// `{key: plaintext}` of one sealed file, decrypted by the independent implementation.
pub fn unsealed(repo: &TestRepo, relative: &str) -> Option<Value> {
    let result = independent_unseal(&fixture("go-key.pem"), &repo.read(relative))?
        .unwrap_or_else(|error| panic!("{relative}: {error}"));
    let (_, data) = result.as_object().unwrap().iter().next().unwrap();
    let mut plain = serde_json::Map::new();
    for (key, value) in data.as_object().unwrap() {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap())
            .unwrap();
        plain.insert(
            key.clone(),
            Value::String(String::from_utf8(bytes).unwrap()),
        );
    }
    Some(Value::Object(plain))
}

fn openssl(arguments: &[&str], dir: &Path) -> String {
    let output = Command::new("openssl")
        .args(arguments)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        output.status.success(),
        "openssl {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What openssl says about the unsealed pair: (subject CN, SANs, notBefore, notAfter, key
/// matches, public key description).
struct OpensslView {
    common_name: String,
    dns_names: Vec<String>,
    not_before: String,
    not_after: String,
    key_matches: bool,
    key_text: String,
}

fn openssl_view(certificate: &str, key: &str) -> OpensslView {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tls.crt"), certificate).unwrap();
    std::fs::write(dir.path().join("tls.key"), key).unwrap();
    let text = openssl(
        &[
            "x509",
            "-in",
            "tls.crt",
            "-noout",
            "-subject",
            "-ext",
            "subjectAltName",
            "-startdate",
            "-enddate",
            "-dateopt",
            "iso_8601",
            "-nameopt",
            "RFC2253",
        ],
        dir.path(),
    );
    let field = |prefix: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
            .trim()
            .to_string()
    };
    let common_name = field("subject=CN=");
    let dns_names = field("DNS:").split(", DNS:").map(str::to_string).collect();
    let certificate_public = openssl(&["x509", "-in", "tls.crt", "-noout", "-pubkey"], dir.path());
    let key_public = openssl(&["pkey", "-in", "tls.key", "-pubout"], dir.path());
    let key_text = openssl(&["pkey", "-in", "tls.key", "-noout", "-text"], dir.path());
    OpensslView {
        common_name,
        dns_names,
        not_before: field("notBefore="),
        not_after: field("notAfter="),
        key_matches: certificate_public == key_public,
        key_text,
    }
}

fn tools() -> bool {
    require_tool("openssl", &["version"]) && require_tool("kubectl", &["version", "--client"])
}

#[test]
fn issue_4_tls_seals_a_certificate_for_every_host_that_openssl_reads() {
    if !tools() {
        return;
    }
    let repo = TestRepo::with_env(
        "prod",
        &[
            "--domain",
            "dbos.acme.com",
            "--oidc",
            "dex",
            "--app-image",
            "ghcr.io/acme/app:v1",
        ],
    );
    let run = tls(&repo, &["--days", "30"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("valid until 2026-12-28"),
        "{}",
        run.stdout
    );
    let sealed = repo.read("environments/prod/secrets/dbos-tls.yaml");
    assert!(
        !sealed.contains("BEGIN"),
        "plaintext PEM in the sealed file"
    );
    let sealed_object = &parse_yaml_stream(&sealed)[0];
    assert_eq!(
        sealed_object["spec"]["template"]["type"],
        "kubernetes.io/tls"
    );
    let Some(plain) = unsealed(&repo, "environments/prod/secrets/dbos-tls.yaml") else {
        return;
    };
    let certificate = plain["tls.crt"].as_str().unwrap();
    let key = plain["tls.key"].as_str().unwrap();
    assert_eq!(
        repo.read("environments/prod/tls.crt"),
        certificate,
        "the published certificate is the sealed one"
    );
    let view = openssl_view(certificate, key);
    assert_eq!(
        view.dns_names,
        [
            "console.dbos.acme.com",
            "conductor.dbos.acme.com",
            "app.dbos.acme.com",
            "dex.dbos.acme.com"
        ]
    );
    assert!(view.common_name.len() < 64, "{}", view.common_name);
    assert_eq!(view.not_before, "2026-11-28 00:00:00Z");
    assert_eq!(view.not_after, "2026-12-28 00:00:00Z");
    assert!(
        view.key_matches,
        "the private key does not match the certificate"
    );
    assert!(view.key_text.contains("prime256v1") || view.key_text.contains("P-256"));

    // The Ingress serves the sealed secret for exactly these hosts; the CA ConfigMap carries
    // the public certificate.
    let objects = repo.kustomize("prod");
    let ingress = find(&objects, "Ingress", "dbos");
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "dbos-tls");
    assert_eq!(
        ingress["spec"]["tls"][0]["hosts"],
        serde_json::json!(view.dns_names)
    );
    let ca = find(&objects, "ConfigMap", "dbos-ca");
    assert_eq!(ca["data"]["tls.crt"], certificate);
    assert!(
        !serde_json::to_string(ca).unwrap().contains("PRIVATE KEY"),
        "the CA ConfigMap holds the public half only"
    );
    find(&objects, "SealedSecret", "dbos-tls");
    validate_schemas(&objects);

    // Twice: nothing changes, not even an mtime.
    let before = repo.snapshot();
    let again = tls(&repo, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("kept the certificate"),
        "{}",
        again.stdout
    );
    assert_eq!(repo.snapshot(), before);
    repo.ok(&["build", "--check"]);
}

#[test]
fn path_routing_long_domains_rsa_and_reissue_reasons() {
    if !tools() {
        return;
    }
    // One host with path routing; a domain long enough that the host cannot be the CN.
    let domain = "a-rather-long-load-balancer-name-0123456789.us-west-2.elb.amazonaws.com";
    let repo = TestRepo::with_env("prod", &["--domain", domain, "--routing", "path"]);
    let run = tls(&repo, &["--key-type", "rsa-2048"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let Some(plain) = unsealed(&repo, "environments/prod/secrets/dbos-tls.yaml") else {
        return;
    };
    let view = openssl_view(
        plain["tls.crt"].as_str().unwrap(),
        plain["tls.key"].as_str().unwrap(),
    );
    assert_eq!(view.dns_names, [domain]);
    assert!(domain.len() >= 64);
    assert!(view.common_name.len() < 64, "{}", view.common_name);
    assert_eq!(
        view.not_after, "2027-11-28 00:00:00Z",
        "365 days by default"
    );
    assert!(view.key_matches);
    assert!(view.key_text.contains("2048 bit"), "{}", view.key_text);

    // `--force` reissues a certificate that is fine.
    let first = repo.read("environments/prod/tls.crt");
    let forced = tls(&repo, &["--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(forced.stdout.contains("`--force`"), "{}", forced.stdout);
    assert_ne!(repo.read("environments/prod/tls.crt"), first);

    // Switching Dex on adds no host with path routing: still kept.
    let env_yaml = repo.read("environments/prod/env.yaml");
    repo.write(
        "environments/prod/env.yaml",
        &env_yaml.replace("oidc: none", "oidc: dex"),
    );
    repo.ok(&["build"]);
    assert!(tls(&repo, &[]).stdout.contains("kept"));

    // Within 30 days of expiry: reissued.
    let late = run_with(
        &repo,
        &["tls", "--env", "prod"],
        &[("DBOS_GITOPS_NOW", "1827000000")],
        b"",
    );
    assert_eq!(late.code, 0, "{}", late.stderr);
    assert!(
        late.stdout
            .contains("reissuing the certificate: it expires on 2027-11-28"),
        "{}",
        late.stdout
    );
}

#[test]
fn a_new_host_makes_tls_reissue_and_says_why() {
    if !require_tool("openssl", &["version"]) {
        return;
    }
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com"]);
    assert_eq!(tls(&repo, &[]).code, 0);
    let env_yaml = repo.read("environments/prod/env.yaml");
    repo.write(
        "environments/prod/env.yaml",
        &env_yaml.replace("oidc: none", "oidc: dex"),
    );
    repo.ok(&["build"]);
    let run = tls(&repo, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            // Conductor is public only with OAuth: the SANs follow the routed hosts.
            .contains("reissuing the certificate: it does not cover `conductor.dbos.acme.com`, `dex.dbos.acme.com`"),
        "{}",
        run.stdout
    );
    let certificate = repo.read("environments/prod/tls.crt");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tls.crt"), &certificate).unwrap();
    let sans = openssl(
        &["x509", "-in", "tls.crt", "-noout", "-ext", "subjectAltName"],
        dir.path(),
    );
    assert!(sans.contains("DNS:dex.dbos.acme.com"), "{sans}");
    assert!(sans.contains("DNS:conductor.dbos.acme.com"), "{sans}");
}

#[test]
fn cert_manager_instead_of_a_sealed_certificate() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com"]);
    let env_yaml = repo.read("environments/prod/env.yaml");
    repo.write(
        "environments/prod/env.yaml",
        &env_yaml.replace(
            "  tls: self-signed\n",
            "  tls: cert-manager\n  cluster-issuer: letsencrypt-prod\n",
        ),
    );
    repo.ok(&["build"]);
    let objects = repo.kustomize("prod");
    let ingress = find(&objects, "Ingress", "dbos");
    assert_eq!(
        ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
        "letsencrypt-prod"
    );
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "dbos-tls");
    assert!(names_of_kind(&objects, "ConfigMap").is_empty());
    let list = repo.ok(&["secrets", "list", "--env", "prod"]);
    assert!(!list.contains("dbos-tls"), "{list}");
    let before = repo.snapshot();
    let refused = tls(&repo, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("cert-manager"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("hint:"), "{}", refused.stderr);
    assert_eq!(repo.snapshot(), before);

    // cert-manager without an issuer is a declaration error.
    repo.write(
        "environments/prod/env.yaml",
        &env_yaml.replace("  tls: self-signed\n", "  tls: cert-manager\n"),
    );
    let run = repo.fails(&["build"], 2);
    assert!(run.stderr.contains("cluster-issuer"), "{}", run.stderr);
}

#[test]
fn an_external_app_trusts_the_certificate_from_the_ca_config_map() {
    if !tools() {
        return;
    }
    let repo = TestRepo::prod();
    let env_yaml = repo.read("environments/prod/env.yaml");
    repo.write(
        "environments/prod/env.yaml",
        &env_yaml.replace("conductor: in-cluster", "conductor: external"),
    );
    repo.ok(&["build"]);
    assert_eq!(tls(&repo, &[]).code, 0);
    let objects = repo.kustomize("prod");
    let app = find(&objects, "Deployment", "dbos-app-v1");
    let pod = &app["spec"]["template"]["spec"];
    assert_eq!(pod["initContainers"][0]["name"], "setup-certs");
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|volume| volume["name"] == "tls-cert")
        .unwrap();
    assert_eq!(volume["configMap"]["name"], "dbos-ca");
    assert!(
        !serde_json::to_string(pod).unwrap().contains("secretName"),
        "app pods do not mount the TLS secret"
    );
    assert_eq!(
        container_env(app, "DBOS_CONDUCTOR_URL").unwrap()["value"],
        "wss://conductor.dbos.acme.com/"
    );
    assert_eq!(
        find(&objects, "ConfigMap", "dbos-ca")["data"]["tls.crt"],
        repo.read("environments/prod/tls.crt")
    );
    validate_schemas(&objects);
}

#[test]
fn bad_tls_input_is_refused_and_changes_nothing() {
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com"]);
    let before = repo.snapshot();
    let zero = tls(&repo, &["--days", "0"]);
    assert_eq!(zero.code, 2, "{}", zero.stderr);
    assert!(zero.stderr.contains("hint:"), "{}", zero.stderr);
    let bad_key = tls(&repo, &["--key-type", "dsa"]);
    assert_eq!(bad_key.code, 2);
    let bad_clock = run_with(
        &repo,
        &["tls", "--env", "prod"],
        &[("DBOS_GITOPS_NOW", "yesterday")],
        b"",
    );
    assert_eq!(bad_clock.code, 2);
    assert!(
        bad_clock.stderr.contains("DBOS_GITOPS_NOW"),
        "{}",
        bad_clock.stderr
    );
    assert_eq!(repo.snapshot(), before);

    // A hand-edited generated file: refused before anything is sealed or written.
    let ingress = repo.read("environments/prod/ingress.yaml");
    repo.write(
        "environments/prod/ingress.yaml",
        &format!("{ingress}# my change\n"),
    );
    let before = repo.snapshot();
    let refused = tls(&repo, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("ingress.yaml"),
        "{}",
        refused.stderr
    );
    assert_eq!(repo.snapshot(), before);
    assert!(!repo.exists("environments/prod/tls.crt"));
}

/// Issue 10 item 12: the certificate `tls` publishes (and seals) is valid DER, read by a strict
/// parser (Python `cryptography`), which refuses the explicit `cA: FALSE` we used to write.
#[test]
fn issue_10_tls_writes_a_certificate_a_strict_parser_reads() {
    if !dbos_gitops_test_support::python::python_available() {
        return;
    }
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com"]);
    for extra in [&[][..], &["--key-type", "rsa-2048", "--force"][..]] {
        let run = tls(&repo, extra);
        assert_eq!(run.code, 0, "{extra:?}: {}", run.stderr);
        let published = repo.read("environments/prod/tls.crt");
        let certificates = dbos_gitops_test_support::python::strict_x509(&published)
            .unwrap_or_else(|error| panic!("{extra:?}: not valid DER: {error}"));
        assert_eq!(certificates.len(), 1);
        assert_eq!(certificates[0]["ca"], false, "{}", certificates[0]);
    }
}

/// The bundled example's published certificate parses strictly too.
///
/// KNOWN FAILURE until `environments/example/tls.crt` is reissued with the fixed encoder (the
/// example belongs to the issue-10 work): `cargo run -- tls --env example --force --days 3650`
/// from the project root, then `cargo run -- build --check`.
#[test]
fn issue_10_the_example_certificate_parses_strictly() {
    if !dbos_gitops_test_support::python::python_available() {
        return;
    }
    let path = project_root().join("environments/example/tls.crt");
    let pem = std::fs::read_to_string(&path).unwrap();
    if let Err(error) = dbos_gitops_test_support::python::strict_x509(&pem) {
        panic!(
            "{} is not valid DER: {error}\nhint: reissue it with `cargo run -- tls --env example \
             --force --days 3650`",
            path.display()
        );
    }
}
