//! What we seal, a second implementation (tests/support/independent_unseal.py, Python
//! `cryptography`, no shared code) decrypts to the same bytes; and a wrong label fails there.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use base64::Engine;
use common::*;
use dbos_gitops_seal::{
    seal_raw, seal_secret, seal_stable, KeyOutcome, MacKey, Scope, SealOptions, SecretInput,
};
use rand::rngs::OsRng;
use serde_json::{json, Value};
use zeroize::Zeroizing;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn input(ns: Option<&str>, data: Vec<(String, Vec<u8>)>) -> SecretInput {
    SecretInput {
        name: "app-db".into(),
        namespace: ns.map(String::from),
        data: data
            .into_iter()
            .map(|(k, v)| (k, Zeroizing::new(v)))
            .collect(),
        ..SecretInput::default()
    }
}

fn sample_data() -> Vec<(String, Vec<u8>)> {
    vec![
        ("empty".into(), Vec::new()),
        ("binary".into(), (0u8..=255).collect()),
        ("utf8".into(), "pässwörd-€-日本-🔑".as_bytes().to_vec()),
        (
            "mib".into(),
            (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect(),
        ),
    ]
}

fn check_python_decrypts(doc: &Value, ident: &str, expected: &BTreeMap<String, Vec<u8>>) {
    let out = python_unseal(&go_key_path(), &doc.to_string()).expect("python decrypts");
    let got = out[ident].as_object().expect("identity in output");
    assert_eq!(got.len(), expected.len());
    for (k, v) in expected {
        let decoded = B64.decode(got[k].as_str().unwrap()).unwrap();
        assert!(decoded == *v, "value of `{k}` differs ({} bytes)", v.len());
    }
}

#[test]
fn python_decrypts_every_scope_and_value_shape() {
    if !python_available("python_decrypts_every_scope_and_value_shape") {
        return;
    }
    let cert = go_cert();
    let expected: BTreeMap<String, Vec<u8>> = sample_data().into_iter().collect();
    for scope in Scope::ALL {
        let opts = SealOptions {
            scope: Some(scope),
            ..Default::default()
        };
        let ss = seal_secret(
            &mut OsRng,
            &cert,
            &input(Some("prod"), sample_data()),
            &opts,
        )
        .unwrap();
        check_python_decrypts(&ss.to_value(), "prod/app-db", &expected);
    }
}

#[test]
fn python_decrypts_cluster_wide_without_namespace() {
    if !python_available("python_decrypts_cluster_wide_without_namespace") {
        return;
    }
    let opts = SealOptions {
        scope: Some(Scope::ClusterWide),
        ..Default::default()
    };
    let data = vec![("k".to_string(), b"v".to_vec())];
    let ss = seal_secret(&mut OsRng, &go_cert(), &input(None, data.clone()), &opts).unwrap();
    assert!(ss.to_value()["metadata"].get("namespace").is_none());
    check_python_decrypts(&ss.to_value(), "/app-db", &data.into_iter().collect());
}

#[test]
fn python_decrypts_two_hundred_keys() {
    if !python_available("python_decrypts_two_hundred_keys") {
        return;
    }
    let data: Vec<(String, Vec<u8>)> = (0..200)
        .map(|i| {
            (
                format!("key-{i:03}"),
                format!("value number {i}").into_bytes(),
            )
        })
        .collect();
    let ss = seal_secret(
        &mut OsRng,
        &go_cert(),
        &input(Some("prod"), data.clone()),
        &SealOptions::default(),
    )
    .unwrap();
    assert_eq!(ss.encrypted_data.len(), 200);
    check_python_decrypts(&ss.to_value(), "prod/app-db", &data.into_iter().collect());
}

#[test]
fn python_rejects_wrong_label() {
    if !python_available("python_rejects_wrong_label") {
        return;
    }
    let cert = go_cert();
    // Sealed strict for prod/app-db, presented under another name: the label differs.
    let ss = seal_secret(
        &mut OsRng,
        &cert,
        &input(Some("prod"), vec![("k".into(), b"v".to_vec())]),
        &SealOptions::default(),
    )
    .unwrap();
    let mut doc = ss.to_value();
    doc["metadata"]["name"] = json!("other");
    let err = python_unseal(&go_key_path(), &doc.to_string()).unwrap_err();
    assert!(err.contains("label 'prod/other'"), "{err}");

    // Sealed namespace-wide, presented as strict (annotation removed).
    let opts = SealOptions {
        scope: Some(Scope::NamespaceWide),
        ..Default::default()
    };
    let ss = seal_secret(
        &mut OsRng,
        &cert,
        &input(Some("prod"), vec![("k".into(), b"v".to_vec())]),
        &opts,
    )
    .unwrap();
    let mut doc = ss.to_value();
    doc["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    assert!(python_unseal(&go_key_path(), &doc.to_string()).is_err());
    // Unchanged, it decrypts: the failure above is the label's doing.
    assert!(python_unseal(&go_key_path(), &ss.to_value().to_string()).is_ok());
}

#[test]
fn python_decrypts_raw_values() {
    if !python_available("python_decrypts_raw_values") {
        return;
    }
    let cert = go_cert();
    let cases = [
        (Scope::Strict, Some("prod"), Some("app-db"), json!({})),
        (
            Scope::NamespaceWide,
            Some("prod"),
            None,
            json!({"sealedsecrets.bitnami.com/namespace-wide": "true"}),
        ),
        (
            Scope::ClusterWide,
            None,
            None,
            json!({"sealedsecrets.bitnami.com/cluster-wide": "true"}),
        ),
    ];
    for (scope, ns, name, annotations) in cases {
        let v = seal_raw(&mut OsRng, &cert, b"raw secret", scope, ns, name).unwrap();
        let doc = json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "app-db", "namespace": "prod", "annotations": annotations},
            "spec": {"encryptedData": {"k": v}}
        });
        let out = python_unseal(&go_key_path(), &doc.to_string()).unwrap();
        assert_eq!(out["prod/app-db"]["k"], B64.encode("raw secret"), "{scope}");
    }
}

#[test]
fn python_decrypts_a_stable_reseal_with_kept_changed_and_new_values() {
    if !python_available("python_decrypts_a_stable_reseal_with_kept_changed_and_new_values") {
        return;
    }
    let cert = go_cert();
    let mac_key = MacKey::generate(&mut OsRng);
    let first_data: Vec<(String, Vec<u8>)> = (0..50)
        .map(|i| (format!("key-{i:02}"), format!("value {i}").into_bytes()))
        .collect();
    let opts = SealOptions::default();
    // Stored as the tool stores it: with the MAC annotations on the object.
    let (mut first, stabilized) = seal_stable(
        &mut OsRng,
        &cert,
        &input(Some("prod"), first_data.clone()),
        &opts,
        None,
        Some(&mac_key),
    )
    .unwrap();
    stabilized.annotate(&mut first);
    let mut second_data = first_data.clone();
    second_data[7].1 = b"a changed value".to_vec();
    second_data.push(("key-new".into(), b"a new value".to_vec()));
    let (second, stabilized) = seal_stable(
        &mut OsRng,
        &cert,
        &input(Some("prod"), second_data.clone()),
        &opts,
        Some(&first),
        Some(&mac_key),
    )
    .unwrap();
    assert_eq!(stabilized.keys(KeyOutcome::Unchanged).len(), 49);
    assert_eq!(stabilized.keys(KeyOutcome::Changed), ["key-07"]);
    assert_eq!(stabilized.keys(KeyOutcome::Added), ["key-new"]);
    for (key, ciphertext) in &second.encrypted_data {
        let kept = first.encrypted_data.get(key) == Some(ciphertext);
        assert_eq!(kept, key != "key-07" && key != "key-new", "{key}");
    }
    check_python_decrypts(
        &second.to_value(),
        "prod/app-db",
        &second_data.into_iter().collect(),
    );
}
