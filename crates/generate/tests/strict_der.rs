//! Issue 10 item 12: the certificates `tls` mints are valid DER, read back by a strict parser
//! (Python `cryptography`, which rejects an explicitly encoded DEFAULT such as `cA: FALSE`),
//! not only by the lenient ones (openssl, x509-parser) that let the defect through.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

use dbos_gitops_generate::tls::{issue_self_signed, KeyKind};
use dbos_gitops_test_support::python::{python_available, strict_x509};
use serde_json::json;

/// 2026-05-28T20:26:40Z, fixed.
const NOW: i64 = 1_780_000_000;

fn strictly_parsed(kind: KeyKind) {
    if !python_available() {
        return;
    }
    let hosts = vec![
        "conductor.example.com".to_string(),
        "*.apps.example.com".to_string(),
    ];
    let material = issue_self_signed(&hosts, 30, kind, NOW).unwrap();
    let certificates = strict_x509(&material.certificate_pem)
        .unwrap_or_else(|error| panic!("{kind}: not valid DER: {error}"));
    assert_eq!(certificates.len(), 1);
    let certificate = &certificates[0];
    assert_eq!(certificate["ca"], json!(false), "{certificate}");
    assert_eq!(certificate["basic_constraints_critical"], json!(true));
    assert_eq!(certificate["dns_names"], json!(hosts));
}

#[test]
fn issue_10_ecdsa_certificate_is_valid_der() {
    strictly_parsed(KeyKind::EcdsaP256);
}

#[test]
fn issue_10_rsa_certificate_is_valid_der() {
    strictly_parsed(KeyKind::Rsa2048);
}

/// The control: the encoding we used to emit (rcgen's `IsCa::ExplicitNoCa`, `cA: FALSE`
/// written out) is rejected by the same parser, so the tests above can fail.
#[test]
fn issue_10_the_strict_parser_rejects_an_encoded_default() {
    if !python_available() {
        return;
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["x.example.com".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    let pem = params.self_signed(&key).unwrap().pem();
    let error = strict_x509(&pem).expect_err("an encoded DEFAULT must be rejected");
    assert!(error.contains("EncodedDefault"), "{error}");
}
