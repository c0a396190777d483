//! Our decryption reads what the upstream Go code wrote (fixtures made by the unmodified
//! `pkg/crypto` package; see tests/fixtures/sealed-secrets-go/README.md).

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use dbos_gitops_seal::{DecryptError, Scope, SealedSecret};

const PASSWORD: &str = "s3cr3t-äö-€";

fn big() -> Vec<u8> {
    "0123456789abcdef".repeat(1000).into_bytes()
}

fn check_plaintexts(file: &str, scope: Scope, ns: &str, name: &str) {
    let ss = SealedSecret::from_value(&go_fixture_doc(file)).unwrap();
    assert_eq!(ss.scope, scope, "{file}");
    assert_eq!(ss.namespace.as_deref(), Some(ns));
    assert_eq!(ss.name, name);
    let secret = ss.unseal(&go_keys()).unwrap();
    assert_eq!(secret.data.len(), 3);
    assert_eq!(secret.data["empty"].as_slice(), b"");
    assert_eq!(secret.data["password"].as_slice(), PASSWORD.as_bytes());
    assert_eq!(PASSWORD.chars().count(), 11);
    assert_eq!(secret.data["big"].as_slice(), big().as_slice());
    assert_eq!(secret.data["big"].len(), 16_000);
}

#[test]
fn unseals_go_strict() {
    check_plaintexts("go-strict.yaml", Scope::Strict, "myns", "mysecret");
}

#[test]
fn unseals_go_namespace_wide() {
    check_plaintexts("go-nswide.yaml", Scope::NamespaceWide, "myns", "anyname");
}

#[test]
fn unseals_go_cluster_wide() {
    check_plaintexts(
        "go-clusterwide.yaml",
        Scope::ClusterWide,
        "otherns",
        "othername",
    );
}

#[test]
fn strict_value_moved_to_other_name_or_namespace_fails() {
    for (ns, name) in [("myns", "other"), ("otherns", "mysecret")] {
        let mut ss = SealedSecret::from_value(&go_fixture_doc("go-strict.yaml")).unwrap();
        ss.name = name.into();
        ss.namespace = Some(ns.into());
        let err = ss.unseal(&go_keys()).unwrap_err();
        match &err {
            DecryptError::Value { label, source, .. } => {
                assert_eq!(label, &format!("{ns}/{name}"));
                assert_eq!(**source, DecryptError::NoKeyCouldDecrypt);
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert!(err.hint().is_some());
    }
}

#[test]
fn namespace_wide_value_survives_rename_but_not_namespace_move() {
    let mut ss = SealedSecret::from_value(&go_fixture_doc("go-nswide.yaml")).unwrap();
    ss.name = "renamed".into();
    assert!(ss.unseal(&go_keys()).is_ok());
    ss.namespace = Some("elsewhere".into());
    assert!(ss.unseal(&go_keys()).is_err());
}

#[test]
fn strict_value_relabelled_cluster_wide_fails() {
    let mut ss = SealedSecret::from_value(&go_fixture_doc("go-strict.yaml")).unwrap();
    ss.scope = Scope::ClusterWide;
    assert!(ss.unseal(&go_keys()).is_err());
}

#[test]
fn fixture_certificate_loads() {
    let cert = go_cert();
    assert_eq!(cert.key_bits(), 4096);
    assert_eq!(cert.not_before_unix(), 1_795_756_442);
    assert_eq!(cert.not_after_unix(), 2_111_116_442);
    // Controller default: empty common name, so an empty subject.
    assert_eq!(cert.subject(), "");
    let fp = cert.fingerprint();
    assert_eq!(fp.len(), 64);
    assert!(fp
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    // The certificate's key is the fixture private key's public half.
    let keys = go_keys();
    assert_eq!(keys.len(), 1);
    assert_eq!(&keys.keys()[0].to_public_key(), cert.public_key());
}

#[test]
fn fixture_round_trips_through_value() {
    let doc = go_fixture_doc("go-nswide.yaml");
    let ss = SealedSecret::from_value(&doc).unwrap();
    let again = SealedSecret::from_value(&ss.to_value()).unwrap();
    assert_eq!(again.encrypted_data, ss.encrypted_data);
    assert_eq!(
        again.to_value()["metadata"]["annotations"]["sealedsecrets.bitnami.com/namespace-wide"],
        "true"
    );
}

#[test]
fn python_reads_go_fixtures() {
    if !python_available("python_reads_go_fixtures") {
        return;
    }
    for (file, ident) in [
        ("go-strict.yaml", "myns/mysecret"),
        ("go-nswide.yaml", "myns/anyname"),
        ("go-clusterwide.yaml", "otherns/othername"),
    ] {
        let text = String::from_utf8(fixture(file)).unwrap();
        let out = python_unseal(&go_key_path(), &text).unwrap();
        let vals = &out[ident];
        assert_eq!(vals["empty"], "");
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        assert_eq!(vals["password"], b64.encode(PASSWORD));
        assert_eq!(vals["big"], b64.encode(big()));
    }
    // And rejects a strict value moved to another name.
    let moved = String::from_utf8(fixture("go-strict.yaml"))
        .unwrap()
        .replace("name: mysecret", "name: other");
    let err = python_unseal(&go_key_path(), &moved).unwrap_err();
    assert!(err.contains("no key could unwrap"), "{err}");
}
