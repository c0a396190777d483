//! Development key pairs look like the controller's and work end to end.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod common;

use common::real_now;

use dbos_gitops_seal::{
    generate_dev_keypair, seal_secret, DevKeyError, PrivateKeys, SealOptions, SealingCert,
    SecretInput, DEV_CERT_VALIDITY_DAYS,
};
use rand::rngs::OsRng;
use x509_parser::prelude::{FromDer, X509Certificate};
use zeroize::Zeroizing;

fn round_trip(bits: usize) {
    let pair = generate_dev_keypair(bits, real_now()).unwrap();
    assert!(pair
        .private_key_pem
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let cert = SealingCert::from_pem(pair.certificate_pem.as_bytes()).unwrap();
    assert_eq!(cert.key_bits(), bits);
    assert_eq!(
        cert.not_after_unix() - cert.not_before_unix(),
        DEV_CERT_VALIDITY_DAYS * 86_400
    );
    assert_eq!(cert.subject(), "");
    let keys = PrivateKeys::from_pem(pair.private_key_pem.as_bytes()).unwrap();
    assert_eq!(&keys.keys()[0].to_public_key(), cert.public_key());

    let input = SecretInput {
        name: "s".into(),
        namespace: Some("n".into()),
        data: [("k".to_string(), Zeroizing::new(b"value".to_vec()))].into(),
        ..Default::default()
    };
    let ss = seal_secret(&mut OsRng, &cert, &input, &SealOptions::default()).unwrap();
    assert_eq!(ss.unseal(&keys).unwrap().data["k"].as_slice(), b"value");
    // Another pair's key cannot open it.
    let other = generate_dev_keypair(2048, real_now()).unwrap();
    let other_keys = PrivateKeys::from_pem(other.private_key_pem.as_bytes()).unwrap();
    assert!(ss.unseal(&other_keys).is_err());
}

#[test]
fn dev_keypair_2048_round_trips() {
    round_trip(2048);
}

#[test]
fn dev_keypair_4096_round_trips() {
    round_trip(4096);
}

#[test]
fn dev_certificate_has_controller_extensions() {
    let pair = generate_dev_keypair(2048, real_now()).unwrap();
    let der = pem::parse(&pair.certificate_pem).unwrap().into_contents();
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let ku = cert.key_usage().unwrap().expect("key usage present").value;
    assert!(ku.encipher_only());
    assert!(!ku.digital_signature() && !ku.key_encipherment() && !ku.key_cert_sign());
    let bc = cert
        .basic_constraints()
        .unwrap()
        .expect("basic constraints");
    assert!(bc.value.ca);
    assert_eq!(cert.subject().to_string(), cert.issuer().to_string());
    assert!(
        cert.subject().iter().next().is_none(),
        "empty subject like the controller"
    );
    assert!(cert.tbs_certificate.raw_serial().len() <= 17);
    // Self-signed with SHA-256 RSA.
    assert_eq!(
        cert.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.11"
    );
}

#[test]
fn unsupported_sizes_are_refused() {
    for bits in [1024, 2047, 16384] {
        let err = generate_dev_keypair(bits, real_now()).unwrap_err();
        assert_eq!(err, DevKeyError::BadSize { bits });
        assert!(err.hint().is_some());
    }
}

#[test]
fn debug_hides_private_key() {
    let pair = generate_dev_keypair(2048, real_now()).unwrap();
    let dbg = format!("{pair:?}");
    assert!(dbg.contains("<redacted>"));
    assert!(!dbg.contains("RSA PRIVATE KEY"));
}

/// Issue 10 item 12, for the sealing certificate we mint: a strict parser (Python
/// `cryptography`) reads it exactly as it reads the real controller's certificate. Both carry
/// the controller's keyUsage `encipherOnly` (sealed-secrets' own choice), which `cryptography`
/// refuses as a *meaning* (encipherOnly without keyAgreement) after the DER parse succeeded;
/// what must never appear is a DER error (`ParseError`, such as an encoded DEFAULT).
#[test]
fn issue_10_dev_certificate_parses_strictly_like_the_controllers() {
    if !dbos_gitops_test_support::python::python_available() {
        return;
    }
    use dbos_gitops_test_support::python::strict_x509;
    let go = String::from_utf8(common::fixture("go-cert.pem")).unwrap();
    let pair = generate_dev_keypair(2048, real_now()).unwrap();
    let ours = strict_x509(&pair.certificate_pem);
    let theirs = strict_x509(&go);
    let reason = |outcome: &Result<Vec<serde_json::Value>, String>| match outcome {
        Ok(_) => "parsed".to_string(),
        Err(error) => error.clone(),
    };
    assert!(!reason(&ours).contains("ParseError"), "{}", reason(&ours));
    assert_eq!(reason(&ours), reason(&theirs));
    // And the basicConstraints bytes are the controller's: critical, `cA: TRUE` (not a
    // default, so DER writes it), no path length.
    let der = pem::parse(&pair.certificate_pem).unwrap().into_contents();
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let go_der = pem::parse(&go).unwrap().into_contents();
    let (_, go_cert) = X509Certificate::from_der(&go_der).unwrap();
    let basic = |c: &X509Certificate| {
        let e = c
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == "2.5.29.19")
            .expect("basicConstraints");
        (e.critical, e.value.to_vec())
    };
    assert_eq!(basic(&cert), basic(&go_cert));
}
