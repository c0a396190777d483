//! Certificates from `issue_self_signed`, checked with x509-parser and the real openssl.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod common;

use common::{have_openssl, run, run_stdout, s, TempDir};
use dbos_gitops_generate::tls::{
    inspect, issue_self_signed, key_matches, KeyKind, TlsError, TlsMaterial,
};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

/// 2026-05-28T20:26:40Z; fixed so validity can be compared exactly.
const NOW: i64 = 1_780_000_000;
const DAY: i64 = 86_400;

fn hosts() -> Vec<String> {
    [
        "conductor.example.com",
        "*.apps.example.com",
        "localhost",
        "dbos-conductor.dbos-system.svc.cluster.local",
    ]
    .map(String::from)
    .to_vec()
}

fn der_of(material: &TlsMaterial) -> Vec<u8> {
    let block = pem::parse(&material.certificate_pem).expect("certificate PEM");
    assert_eq!(block.tag(), "CERTIFICATE");
    block.into_contents()
}

/// Everything the brief promises about an issued certificate, read back with x509-parser.
fn check_certificate(kind: KeyKind, material: &TlsMaterial, hosts: &[String], days: u32) {
    let der = der_of(material);
    let (rest, cert) = X509Certificate::from_der(&der).expect("x509-parser reads it");
    assert!(rest.is_empty());

    // Every host is a DNS SAN, and nothing else is.
    let san = cert
        .subject_alternative_name()
        .expect("well-formed SAN")
        .expect("SAN present");
    let dns: Vec<String> = san
        .value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => d.to_string(),
            other => panic!("unexpected SAN {other:?}"),
        })
        .collect();
    let wanted: Vec<String> = hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
    assert_eq!(dns, wanted);

    // Short common name.
    let cn: Vec<&str> = cert
        .subject()
        .iter_common_name()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(cn.len(), 1, "exactly one CN");
    assert!(cn[0].len() < 64, "CN `{}` too long", cn[0]);
    assert!(!cn[0].is_empty());
    assert_eq!(cert.subject(), cert.issuer(), "self-signed");

    // Validity is exactly now .. now + days.
    assert_eq!(cert.validity().not_before.timestamp(), NOW);
    assert_eq!(
        cert.validity().not_after.timestamp(),
        NOW + i64::from(days) * DAY
    );

    // Not a CA; a TLS server certificate.
    let bc = cert.basic_constraints().unwrap().expect("basicConstraints");
    assert!(!bc.value.ca);
    let ku = cert.key_usage().unwrap().expect("keyUsage");
    assert!(ku.value.digital_signature());
    assert_eq!(ku.value.key_encipherment(), kind == KeyKind::Rsa2048);
    assert!(!ku.value.key_cert_sign());
    let eku = cert.extended_key_usage().unwrap().expect("extKeyUsage");
    assert!(eku.value.server_auth);
    assert!(!eku.value.client_auth);

    // Random positive serial of 16 bytes.
    let serial = cert.raw_serial();
    assert_eq!(serial.len(), 16, "serial {serial:02x?}");
    assert!(serial[0] & 0x80 == 0);

    // Key type.
    let public = cert.public_key().parsed().unwrap();
    match (kind, public) {
        (KeyKind::EcdsaP256, PublicKey::EC(point)) => assert_eq!(point.key_size(), 256),
        (KeyKind::Rsa2048, PublicKey::RSA(rsa)) => assert_eq!(rsa.key_size(), 2048),
        (kind, other) => panic!("{kind}: unexpected public key {other:?}"),
    }
    assert!(material
        .private_key_pem
        .starts_with("-----BEGIN PRIVATE KEY-----\n"));
}

fn issue_and_check(kind: KeyKind) {
    let hosts = hosts();
    let days = 397;
    let a = issue_self_signed(&hosts, days, kind, NOW).unwrap();
    check_certificate(kind, &a, &hosts, days);

    // The key belongs to this certificate, and not to another one.
    let b = issue_self_signed(&hosts, days, kind, NOW).unwrap();
    assert!(key_matches(a.certificate_pem.as_bytes(), a.private_key_pem.as_bytes()).unwrap());
    assert!(key_matches(b.certificate_pem.as_bytes(), b.private_key_pem.as_bytes()).unwrap());
    assert!(!key_matches(a.certificate_pem.as_bytes(), b.private_key_pem.as_bytes()).unwrap());
    assert!(!key_matches(b.certificate_pem.as_bytes(), a.private_key_pem.as_bytes()).unwrap());
    assert_ne!(der_of(&a), der_of(&b));

    // inspect agrees with x509-parser.
    let info = inspect(a.certificate_pem.as_bytes()).unwrap();
    assert_eq!(info.dns_names, hosts);
    assert_eq!(info.common_name, "conductor.example.com");
    assert_eq!(info.not_before_unix, NOW);
    assert_eq!(info.not_after_unix, NOW + 397 * DAY);
    assert!(info.missing_hosts(&hosts).is_empty());
    let asked = vec![
        "conductor.example.com".to_string(),
        "x.apps.example.com".to_string(),
        "other.example.com".to_string(),
        "apps.example.com".to_string(),
    ];
    assert_eq!(
        info.missing_hosts(&asked),
        vec!["other.example.com", "apps.example.com"]
    );
    assert!(info.is_valid_at(NOW));
    assert!(info.is_valid_at(NOW + 397 * DAY));
    assert!(!info.is_valid_at(NOW - 1));
    assert!(!info.is_valid_at(NOW + 397 * DAY + 1));
    assert_eq!(info.fingerprint_sha256.len(), 32 * 3 - 1);
    assert_ne!(
        info.fingerprint_sha256,
        inspect(b.certificate_pem.as_bytes())
            .unwrap()
            .fingerprint_sha256
    );

    // The private key never shows up in Debug output.
    let body_line = a.private_key_pem.lines().nth(1).unwrap();
    assert!(!format!("{a:?}").contains(body_line));

    if have_openssl() {
        openssl_checks(kind, &a, &b, &hosts);
    }
}

fn openssl_checks(kind: KeyKind, a: &TlsMaterial, b: &TlsMaterial, hosts: &[String]) {
    let dir = TempDir::new();
    let cert = dir.write("cert.pem", a.certificate_pem.as_bytes());
    let key = dir.write("key.pem", a.private_key_pem.as_bytes());
    let other_key = dir.write("other.pem", b.private_key_pem.as_bytes());

    // Every host in the SAN extension as openssl prints it.
    let san = run_stdout(
        "openssl",
        &["x509", "-in", s(&cert), "-noout", "-ext", "subjectAltName"],
    );
    for host in hosts {
        assert!(san.contains(&format!("DNS:{host}")), "{host} not in {san}");
    }

    // Same public key in the certificate and the private key; another key differs.
    let cert_pub = run_stdout("openssl", &["x509", "-in", s(&cert), "-noout", "-pubkey"]);
    let key_pub = run_stdout("openssl", &["pkey", "-in", s(&key), "-pubout"]);
    let other_pub = run_stdout("openssl", &["pkey", "-in", s(&other_key), "-pubout"]);
    assert!(cert_pub.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(cert_pub, key_pub);
    assert_ne!(cert_pub, other_pub);

    // The fingerprint has openssl's format and value.
    let fp = run_stdout(
        "openssl",
        &["x509", "-in", s(&cert), "-noout", "-fingerprint", "-sha256"],
    );
    let info = inspect(a.certificate_pem.as_bytes()).unwrap();
    assert_eq!(
        fp.trim().split_once('=').map(|(_, v)| v),
        Some(info.fingerprint_sha256.as_str())
    );

    // The self-signature verifies and the certificate suits a TLS server, at a time
    // inside the validity period.
    let at = (NOW + 60).to_string();
    let verify = run_stdout(
        "openssl",
        &[
            "verify",
            "-attime",
            &at,
            "-purpose",
            "sslserver",
            "-CAfile",
            s(&cert),
            s(&cert),
        ],
    );
    assert!(verify.trim().ends_with(": OK"), "{verify}");
    // ...and does not after it expired.
    let late = (NOW + 398 * DAY).to_string();
    let expired = std::process::Command::new("openssl")
        .args(["verify", "-attime", &late, "-CAfile", s(&cert), s(&cert)])
        .output()
        .unwrap();
    assert!(!expired.status.success());

    // key_matches reads the traditional formats openssl writes (PKCS#1 / SEC1).
    let traditional = run("openssl", &["pkey", "-in", s(&key), "-traditional"]).stdout;
    let expected_tag = match kind {
        KeyKind::EcdsaP256 => "-----BEGIN EC PRIVATE KEY-----",
        KeyKind::Rsa2048 => "-----BEGIN RSA PRIVATE KEY-----",
    };
    assert!(String::from_utf8_lossy(&traditional).starts_with(expected_tag));
    assert!(key_matches(a.certificate_pem.as_bytes(), &traditional).unwrap());
    assert!(!key_matches(b.certificate_pem.as_bytes(), &traditional).unwrap());

    // An encrypted key is reported as such.
    let encrypted = run(
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-in",
            s(&key),
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:test",
        ],
    )
    .stdout;
    assert!(matches!(
        key_matches(a.certificate_pem.as_bytes(), &encrypted),
        Err(TlsError::EncryptedPrivateKey)
    ));
}

#[test]
fn ecdsa_p256_certificate() {
    issue_and_check(KeyKind::EcdsaP256);
}

#[test]
fn rsa_2048_certificate() {
    issue_and_check(KeyKind::Rsa2048);
}

#[test]
fn keys_of_the_other_type_do_not_match() {
    let hosts = hosts();
    let ec = issue_self_signed(&hosts, 1, KeyKind::EcdsaP256, NOW).unwrap();
    let rsa = issue_self_signed(&hosts, 1, KeyKind::Rsa2048, NOW).unwrap();
    assert!(!key_matches(
        ec.certificate_pem.as_bytes(),
        rsa.private_key_pem.as_bytes()
    )
    .unwrap());
    assert!(!key_matches(
        rsa.certificate_pem.as_bytes(),
        ec.private_key_pem.as_bytes()
    )
    .unwrap());
}

#[test]
fn long_host_gets_a_short_common_name() {
    let long = format!(
        "{}app.dbos-system.svc.cluster.local",
        "conductor-".repeat(5)
    );
    assert!(long.len() > 64, "{}", long.len());
    let hosts = vec![long.clone(), "short.example.com".to_string()];
    let material = issue_self_signed(&hosts, 30, KeyKind::EcdsaP256, NOW).unwrap();
    check_certificate(KeyKind::EcdsaP256, &material, &hosts, 30);
    let info = inspect(material.certificate_pem.as_bytes()).unwrap();
    assert!(info.common_name.len() < 64);
    assert_eq!(info.common_name, "dbos-gitops");
    assert!(info.dns_names.contains(&long));

    if have_openssl() {
        let dir = TempDir::new();
        let cert = dir.write("cert.pem", material.certificate_pem.as_bytes());
        let subject = run_stdout("openssl", &["x509", "-in", s(&cert), "-noout", "-subject"]);
        assert!(subject.contains("CN = dbos-gitops"), "{subject}");
        let san = run_stdout(
            "openssl",
            &["x509", "-in", s(&cert), "-noout", "-ext", "subjectAltName"],
        );
        assert!(san.contains(&format!("DNS:{long}")), "{san}");
    }
}

#[test]
fn hosts_are_normalised() {
    let hosts = vec![
        "Conductor.Example.com".to_string(),
        "conductor.example.com".to_string(),
    ];
    let material = issue_self_signed(&hosts, 1, KeyKind::EcdsaP256, NOW).unwrap();
    let info = inspect(material.certificate_pem.as_bytes()).unwrap();
    assert_eq!(info.dns_names, vec!["conductor.example.com"]);
    assert!(info.missing_hosts(&hosts).is_empty());
}

#[test]
fn refuses_bad_requests() {
    assert!(matches!(
        issue_self_signed(&[], 1, KeyKind::EcdsaP256, NOW),
        Err(TlsError::NoHosts)
    ));
    assert!(matches!(
        issue_self_signed(&hosts(), 0, KeyKind::EcdsaP256, NOW),
        Err(TlsError::ZeroDays)
    ));
    assert!(matches!(
        issue_self_signed(&hosts(), u32::MAX, KeyKind::EcdsaP256, NOW),
        Err(TlsError::ValidityTooLong { .. })
    ));
    for bad in [
        "https://conductor.example.com",
        "conductor.example.com:443",
        "10.1.2.3",
        "bad_name.example.com",
        "",
        "a..b",
    ] {
        let hosts = vec!["good.example.com".to_string(), bad.to_string()];
        let err = issue_self_signed(&hosts, 1, KeyKind::EcdsaP256, NOW).unwrap_err();
        match &err {
            TlsError::InvalidHost { host, .. } => assert_eq!(host, bad),
            other => panic!("{bad:?}: unexpected {other:?}"),
        }
        assert!(
            err.to_string().contains(&format!("`{bad}`")),
            "message names the host: {err}"
        );
        assert!(err.hint().is_some());
    }
}

#[test]
fn inspect_refuses_garbage() {
    assert!(matches!(inspect(b"hello"), Err(TlsError::NoCertificate)));
    let material = issue_self_signed(&hosts(), 1, KeyKind::EcdsaP256, NOW).unwrap();
    // A private key is not a certificate.
    assert!(matches!(
        inspect(material.private_key_pem.as_bytes()),
        Err(TlsError::NoCertificate)
    ));
    // A certificate where a key is expected.
    let err = key_matches(
        material.certificate_pem.as_bytes(),
        material.certificate_pem.as_bytes(),
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::NoPrivateKey), "{err:?}");
    // A corrupted key is an error that does not echo the key.
    let mut broken = material.private_key_pem.to_string();
    broken.replace_range(40..48, "AAAAAAAA");
    let err = key_matches(material.certificate_pem.as_bytes(), broken.as_bytes()).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("AAAAAAAA"), "{shown}");
}

#[test]
fn reads_certificates_made_by_openssl() {
    if !have_openssl() {
        return;
    }
    let dir = TempDir::new();
    let cert = dir.path("cert.pem");
    let key = dir.path("key.pem");
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            s(&key),
            "-out",
            s(&cert),
            "-days",
            "10",
            "-subj",
            "/CN=legacy.example.com",
            "-addext",
            "subjectAltName=DNS:legacy.example.com,DNS:*.legacy.example.com",
        ],
    );
    let cert_pem = std::fs::read(&cert).unwrap();
    let key_pem = std::fs::read(&key).unwrap();
    let info = inspect(&cert_pem).unwrap();
    assert_eq!(info.common_name, "legacy.example.com");
    assert_eq!(
        info.dns_names,
        vec!["legacy.example.com", "*.legacy.example.com"]
    );
    assert_eq!(info.not_after_unix - info.not_before_unix, 10 * DAY);
    assert!(key_matches(&cert_pem, &key_pem).unwrap());
    let ours = issue_self_signed(&hosts(), 1, KeyKind::Rsa2048, NOW).unwrap();
    assert!(!key_matches(&cert_pem, ours.private_key_pem.as_bytes()).unwrap());

    // An EC key in SEC1 form straight from `openssl ecparam -genkey`.
    let sec1 = run(
        "openssl",
        &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
    )
    .stdout;
    let sec1_path = dir.write("sec1.pem", &sec1);
    let ec_cert = dir.path("ec.pem");
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-key",
            s(&sec1_path),
            "-out",
            s(&ec_cert),
            "-days",
            "1",
            "-subj",
            "/CN=ec.example.com",
        ],
    );
    let ec_cert_pem = std::fs::read(&ec_cert).unwrap();
    assert!(key_matches(&ec_cert_pem, &sec1).unwrap());
    assert!(!key_matches(&cert_pem, &sec1).unwrap());
    // No SAN extension at all: every host is missing.
    let info = inspect(&ec_cert_pem).unwrap();
    assert!(info.dns_names.is_empty());
    assert_eq!(
        info.missing_hosts(&["ec.example.com".to_string()]),
        vec!["ec.example.com"]
    );
}
