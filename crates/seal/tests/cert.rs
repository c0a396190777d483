//! Certificate loading: the right file loads, every kind of wrong file gets its own error.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use dbos_gitops_seal::{generate_dev_keypair, CertError, SealingCert};

#[test]
fn expired_certificate_is_refused_with_its_date() {
    let after = 2_111_116_442 + 1;
    let err = SealingCert::from_pem_at(&fixture("go-cert.pem"), after).unwrap_err();
    assert_eq!(
        err,
        CertError::Expired {
            not_after: "2036-11-24T05:14:02Z".into()
        }
    );
    assert!(err.to_string().contains("`2036-11-24T05:14:02Z`"));
    assert!(err.hint().unwrap().contains("kubeseal --fetch-cert"));
}

#[test]
fn not_yet_valid_certificate_is_refused_with_its_date() {
    let err = SealingCert::from_pem_at(&fixture("go-cert.pem"), 1_795_756_442 - 1).unwrap_err();
    assert_eq!(
        err,
        CertError::NotYetValid {
            not_before: "2026-11-27T05:14:02Z".into()
        }
    );
    assert!(err.hint().unwrap().contains("clock"));
}

#[test]
fn validity_bounds_are_inclusive() {
    assert!(SealingCert::from_pem_at(&fixture("go-cert.pem"), 1_795_756_442).is_ok());
    assert!(SealingCert::from_pem_at(&fixture("go-cert.pem"), 2_111_116_442).is_ok());
}

#[test]
fn ec_certificate_is_refused_naming_the_algorithm() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["x".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let err = SealingCert::from_pem(cert.pem().as_bytes()).unwrap_err();
    assert_eq!(
        err,
        CertError::NotRsa {
            algorithm: "ecdsa P-256".into()
        }
    );
    assert!(err.to_string().contains("`ecdsa P-256`"));
}

#[test]
fn ed25519_certificate_is_refused() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["x".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let err = SealingCert::from_pem(cert.pem().as_bytes()).unwrap_err();
    assert_eq!(
        err,
        CertError::NotRsa {
            algorithm: "ed25519".into()
        }
    );
}

#[test]
fn private_key_passed_as_certificate_is_refused() {
    let err = SealingCert::from_pem(&fixture("go-key.pem")).unwrap_err();
    assert_eq!(
        err,
        CertError::PrivateKeyNotCert {
            tag: "RSA PRIVATE KEY".into()
        }
    );
    assert!(err.hint().unwrap().contains("never the private key"));
}

#[test]
fn garbage_is_refused() {
    let err = SealingCert::from_pem(b"this is not a certificate\n").unwrap_err();
    assert!(matches!(err, CertError::NotPem { .. }), "{err:?}");
    assert!(err.hint().unwrap().contains("kubeseal --fetch-cert"));
    // DER bytes are not PEM either.
    let der = pem::parse(fixture("go-cert.pem")).unwrap().into_contents();
    assert!(matches!(
        SealingCert::from_pem(&der).unwrap_err(),
        CertError::NotPem { .. }
    ));
}

#[test]
fn empty_file_is_refused() {
    assert_eq!(SealingCert::from_pem(b"").unwrap_err(), CertError::Empty);
    assert_eq!(
        SealingCert::from_pem(b"  \n\t").unwrap_err(),
        CertError::Empty
    );
}

#[test]
fn other_pem_block_is_refused() {
    let p = pem::encode(&pem::Pem::new("PUBLIC KEY", vec![1, 2, 3]));
    let err = SealingCert::from_pem(p.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        CertError::NoCertificateBlock {
            found: "`PUBLIC KEY`".into()
        }
    );
}

#[test]
fn corrupt_certificate_is_refused() {
    let p = pem::encode(&pem::Pem::new("CERTIFICATE", vec![0x30, 0x03, 1, 2, 3]));
    let err = SealingCert::from_pem(p.as_bytes()).unwrap_err();
    assert!(matches!(err, CertError::BadX509 { .. }), "{err:?}");
}

/// A bare RSA public key for rcgen to put into a certificate it signs with another key.
struct RsaSpki(Vec<u8>);

impl rcgen::PublicKeyData for RsaSpki {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

#[test]
fn small_rsa_key_is_refused() {
    use rsa::pkcs1::EncodeRsaPublicKey;
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    let pkcs1 = key.to_public_key().to_pkcs1_der().unwrap();
    // ring will not sign with a 1024-bit RSA key, so an EC "CA" signs the certificate.
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let ca = rcgen::CertificateParams::new(vec!["ca".to_string()])
        .unwrap()
        .self_signed(&ca_key)
        .unwrap();
    let cert = rcgen::CertificateParams::new(vec!["x".to_string()])
        .unwrap()
        .signed_by(&RsaSpki(pkcs1.as_bytes().to_vec()), &ca, &ca_key)
        .unwrap();
    let err = SealingCert::from_pem(cert.pem().as_bytes()).unwrap_err();
    assert_eq!(
        err,
        CertError::KeyTooSmall {
            bits: 1024,
            min: 2048
        }
    );
    assert!(err.to_string().contains("1024 bits"));
}

#[test]
fn first_certificate_of_a_bundle_is_used() {
    let dev = generate_dev_keypair(2048, real_now()).unwrap();
    let bundle = format!(
        "{}{}",
        String::from_utf8(fixture("go-cert.pem")).unwrap(),
        dev.certificate_pem
    );
    let cert = SealingCert::from_pem_at(bundle.as_bytes(), inside_fixture_validity()).unwrap();
    assert_eq!(cert.key_bits(), 4096);
}

#[test]
fn fingerprint_is_sha256_of_der() {
    use sha2::Digest;
    let der = pem::parse(fixture("go-cert.pem")).unwrap().into_contents();
    let expected: String = sha2::Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(go_cert().fingerprint(), expected);
}
