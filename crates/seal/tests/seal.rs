//! Sealing: input parsing, kubeseal's namespace and scope rules, the output shape, merging and
//! unsealing round trips.

// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use dbos_gitops_seal::{
    hybrid_decrypt, hybrid_encrypt, seal_raw, seal_secret, DecryptError, InputError, PrivateKeys,
    Scope, SealOptions, SealedSecret, SealingKey, SecretInput,
};
use rand::rngs::OsRng;
use serde_json::{json, Value};

fn secret_doc() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "app-db",
            "namespace": "prod",
            "labels": {"app": "db"},
            "annotations": {
                "team": "core",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"cGxhaW4=\"}}"
            },
            "creationTimestamp": null
        },
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"},
        "stringData": {"password": "hunter2"}
    })
}

fn seal(doc: &Value, opts: &SealOptions) -> Result<SealedSecret, InputError> {
    let input = SecretInput::from_value(doc)?;
    seal_secret(&mut OsRng, &go_cert(), &input, opts)
}

fn keys_of(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn output_has_kubeseal_shape_and_order() {
    let ss = seal(&secret_doc(), &SealOptions::default()).unwrap();
    let v = ss.to_value();
    assert_eq!(keys_of(&v), ["apiVersion", "kind", "metadata", "spec"]);
    assert_eq!(v["apiVersion"], "bitnami.com/v1alpha1");
    assert_eq!(v["kind"], "SealedSecret");
    // Strict: no scope annotation, and input labels/annotations stay off the top level.
    assert_eq!(
        v["metadata"],
        json!({"name": "app-db", "namespace": "prod"})
    );
    assert_eq!(keys_of(&v["spec"]), ["encryptedData", "template"]);
    assert_eq!(
        keys_of(&v["spec"]["encryptedData"]),
        ["password", "tls.crt", "tls.key"]
    );
    let t = &v["spec"]["template"];
    assert_eq!(keys_of(t), ["metadata", "type"]);
    assert_eq!(t["type"], "kubernetes.io/tls");
    assert_eq!(
        t["metadata"],
        json!({
            "name": "app-db",
            "namespace": "prod",
            "annotations": {"team": "core"},
            "labels": {"app": "db"}
        })
    );
    assert_eq!(
        keys_of(&t["metadata"]),
        ["name", "namespace", "annotations", "labels"]
    );
    // Nothing anywhere says creationTimestamp, and no plaintext leaked.
    let text = v.to_string();
    assert!(!text.contains("creationTimestamp"));
    assert!(!text.contains("last-applied"));
    assert!(!text.contains("hunter2") && !text.contains("cGxhaW4="));
}

#[test]
fn scope_annotations_go_on_metadata_and_template() {
    for (scope, anno) in [
        (
            Scope::NamespaceWide,
            "sealedsecrets.bitnami.com/namespace-wide",
        ),
        (Scope::ClusterWide, "sealedsecrets.bitnami.com/cluster-wide"),
    ] {
        let opts = SealOptions {
            scope: Some(scope),
            ..Default::default()
        };
        let v = seal(&secret_doc(), &opts).unwrap().to_value();
        assert_eq!(v["metadata"]["annotations"], json!({ anno: "true" }));
        assert_eq!(
            v["spec"]["template"]["metadata"]["annotations"][anno],
            "true"
        );
        assert_eq!(
            v["spec"]["template"]["metadata"]["annotations"]["team"],
            "core"
        );
        assert_eq!(
            keys_of(&v["metadata"]),
            ["name", "namespace", "annotations"]
        );
    }
}

#[test]
fn scope_is_taken_from_input_annotations_when_not_given() {
    let mut doc = secret_doc();
    doc["metadata"]["annotations"]["sealedsecrets.bitnami.com/cluster-wide"] = json!("true");
    doc["metadata"].as_object_mut().unwrap().remove("namespace");
    let ss = seal(&doc, &SealOptions::default()).unwrap();
    assert_eq!(ss.scope, Scope::ClusterWide);
    assert_eq!(ss.namespace, None);
    // An explicit scope overrides the annotation.
    let opts = SealOptions {
        scope: Some(Scope::Strict),
        namespace: Some("prod".into()),
        ..Default::default()
    };
    let ss = seal(&doc, &opts).unwrap();
    assert_eq!(ss.scope, Scope::Strict);
    assert!(ss.to_value()["spec"]["template"]["metadata"]["annotations"]
        .get("sealedsecrets.bitnami.com/cluster-wide")
        .is_none());
}

#[test]
fn immutable_is_kept() {
    let mut doc = secret_doc();
    doc["immutable"] = json!(true);
    let v = seal(&doc, &SealOptions::default()).unwrap().to_value();
    assert_eq!(v["spec"]["template"]["immutable"], true);
    let doc = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a", "namespace": "b"}, "stringData": {"k": "v"}});
    let v = seal(&doc, &SealOptions::default()).unwrap().to_value();
    assert!(v["spec"]["template"].get("immutable").is_none());
    assert!(v["spec"]["template"].get("type").is_none());
}

#[test]
fn explicit_namespace_contradicting_input_is_an_error() {
    let opts = SealOptions {
        namespace: Some("staging".into()),
        ..Default::default()
    };
    let err = seal(&secret_doc(), &opts).unwrap_err();
    assert_eq!(
        err,
        InputError::NamespaceMismatch {
            input: "prod".into(),
            explicit: "staging".into()
        }
    );
    assert!(err.to_string().contains("`prod`") && err.to_string().contains("`staging`"));
    assert!(err.hint().is_some());
    // Agreeing is fine.
    let opts = SealOptions {
        namespace: Some("prod".into()),
        ..Default::default()
    };
    assert!(seal(&secret_doc(), &opts).is_ok());
}

#[test]
fn missing_namespace_is_an_error_unless_cluster_wide_or_given() {
    let mut doc = secret_doc();
    doc["metadata"].as_object_mut().unwrap().remove("namespace");
    for scope in [None, Some(Scope::Strict), Some(Scope::NamespaceWide)] {
        let opts = SealOptions {
            scope,
            ..Default::default()
        };
        let err = seal(&doc, &opts).unwrap_err();
        assert!(
            matches!(err, InputError::MissingNamespace { .. }),
            "{err:?}"
        );
    }
    let given = SealOptions {
        namespace: Some("qa".into()),
        ..Default::default()
    };
    let ss = seal(&doc, &given).unwrap();
    assert_eq!(ss.namespace.as_deref(), Some("qa"));
    assert_eq!(ss.template.namespace.as_deref(), Some("qa"));
    assert_eq!(
        ss.unseal(&go_keys()).unwrap().data["password"].as_slice(),
        b"hunter2"
    );
    let cw = SealOptions {
        scope: Some(Scope::ClusterWide),
        ..Default::default()
    };
    assert!(seal(&doc, &cw).is_ok());
}

#[test]
fn empty_data_is_an_error_unless_allowed() {
    let doc =
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a", "namespace": "b"}});
    let err = seal(&doc, &SealOptions::default()).unwrap_err();
    assert_eq!(err, InputError::EmptyData { name: "a".into() });
    let opts = SealOptions {
        allow_empty_data: true,
        ..Default::default()
    };
    let v = seal(&doc, &opts).unwrap().to_value();
    assert_eq!(v["spec"]["encryptedData"], json!({}));
}

#[test]
fn invalid_base64_names_the_key() {
    let mut doc = secret_doc();
    doc["data"]["tls.key"] = json!("not base64!");
    let err = SecretInput::from_value(&doc).unwrap_err();
    assert_eq!(
        err,
        InputError::InvalidBase64 {
            key: "tls.key".into()
        }
    );
    assert!(err.to_string().contains("`data.tls.key`"));
    assert!(err.hint().unwrap().contains("stringData"));
}

#[test]
fn base64_with_line_breaks_is_accepted_like_go() {
    let mut doc = secret_doc();
    doc["data"]["tls.crt"] = json!("Y2Vy\ndA==\n");
    let input = SecretInput::from_value(&doc).unwrap();
    assert_eq!(input.data["tls.crt"].as_slice(), b"cert");
}

#[test]
fn non_string_values_are_rejected_naming_the_key() {
    for (field, value, name) in [
        ("stringData", json!({"port": 5432}), "stringData.port"),
        ("data", json!({"k": true}), "data.k"),
    ] {
        let mut doc = secret_doc();
        doc[field] = value;
        let err = SecretInput::from_value(&doc).unwrap_err();
        assert!(
            matches!(&err, InputError::WrongType { field, .. } if field == name),
            "{err:?}"
        );
        assert!(err.to_string().contains(&format!("`{name}`")));
    }
    let mut doc = secret_doc();
    doc["metadata"]["labels"]["n"] = json!(1);
    assert!(SecretInput::from_value(&doc)
        .unwrap_err()
        .to_string()
        .contains("`metadata.labels.n`"));
}

#[test]
fn string_data_wins_over_data() {
    let mut doc = secret_doc();
    doc["data"]["password"] = json!("ZnJvbS1kYXRh");
    let input = SecretInput::from_value(&doc).unwrap();
    assert_eq!(input.data["password"].as_slice(), b"hunter2");
    assert_eq!(input.data.len(), 3);
}

#[test]
fn non_secret_documents_are_rejected() {
    for doc in [
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        json!({"apiVersion": "v2", "kind": "Secret", "metadata": {"name": "x"}}),
        json!({"metadata": {"name": "x"}}),
    ] {
        let err = SecretInput::from_value(&doc).unwrap_err();
        assert!(matches!(err, InputError::WrongKind { .. }), "{err:?}");
        assert!(err.hint().is_some());
    }
    assert_eq!(
        SecretInput::from_value(&json!([1])).unwrap_err(),
        InputError::NotAnObject
    );
    let err =
        SecretInput::from_value(&json!({"apiVersion": "v1", "kind": "ConfigMap"})).unwrap_err();
    assert!(err.to_string().contains("`v1 ConfigMap`"), "{err}");
}

#[test]
fn missing_name_is_rejected() {
    let doc = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": "x"}, "stringData": {"a": "b"}});
    assert_eq!(
        SecretInput::from_value(&doc).unwrap_err(),
        InputError::MissingName
    );
}

#[test]
fn debug_output_never_shows_plaintext() {
    let input = SecretInput::from_value(&secret_doc()).unwrap();
    let dbg = format!("{input:?}");
    assert!(!dbg.contains("hunter2"));
    assert!(dbg.contains("password") && dbg.contains("redacted"));
    let un = seal(&secret_doc(), &SealOptions::default())
        .unwrap()
        .unseal(&go_keys())
        .unwrap();
    assert!(!format!("{un:?}").contains("hunter2"));
    assert!(!format!("{:?}", go_keys()).contains("MII"));
}

#[test]
fn merge_keeps_untouched_ciphertexts_byte_identical() {
    let mut existing = seal(&secret_doc(), &SealOptions::default()).unwrap();
    let before = existing.encrypted_data.clone();
    let newer_doc = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "app-db", "namespace": "prod", "labels": {"tier": "data"}},
        "stringData": {"password": "new-password", "extra": "added"}
    });
    let newer = seal(&newer_doc, &SealOptions::default()).unwrap();
    let newer_password = newer.encrypted_data["password"].clone();
    existing.merge(newer).unwrap();
    assert_eq!(existing.encrypted_data["tls.crt"], before["tls.crt"]);
    assert_eq!(existing.encrypted_data["tls.key"], before["tls.key"]);
    assert_eq!(existing.encrypted_data["password"], newer_password);
    assert_ne!(existing.encrypted_data["password"], before["password"]);
    assert_eq!(existing.encrypted_data.len(), 4);
    assert_eq!(existing.template.labels["tier"], "data");
    assert_eq!(existing.template.labels["app"], "db");
    assert_eq!(
        existing.template.type_.as_deref(),
        Some("kubernetes.io/tls")
    );
    let un = existing.unseal(&go_keys()).unwrap();
    assert_eq!(un.data["password"].as_slice(), b"new-password");
    assert_eq!(un.data["extra"].as_slice(), b"added");
    assert_eq!(un.data["tls.key"].as_slice(), b"key");

    // Also through a to_value/from_value round trip, as the CLI will do with files.
    let file = existing.to_value();
    let mut reread = SealedSecret::from_value(&file).unwrap();
    let more = seal(
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-db", "namespace": "prod"}, "stringData": {"x": "y"}}),
        &SealOptions::default(),
    )
    .unwrap();
    reread.merge(more).unwrap();
    for k in ["password", "extra", "tls.crt", "tls.key"] {
        assert_eq!(
            reread.to_value()["spec"]["encryptedData"][k],
            file["spec"]["encryptedData"][k]
        );
    }
}

#[test]
fn merge_refuses_other_name_namespace_or_scope() {
    let base = || seal(&secret_doc(), &SealOptions::default()).unwrap();
    let mut other_name = secret_doc();
    other_name["metadata"]["name"] = json!("other");
    let err = base()
        .merge(seal(&other_name, &SealOptions::default()).unwrap())
        .unwrap_err();
    assert!(matches!(
        err,
        InputError::MergeMismatch { what: "name", .. }
    ));
    let mut other_ns = secret_doc();
    other_ns["metadata"]["namespace"] = json!("qa");
    let err = base()
        .merge(seal(&other_ns, &SealOptions::default()).unwrap())
        .unwrap_err();
    assert!(matches!(
        err,
        InputError::MergeMismatch {
            what: "namespace",
            ..
        }
    ));
    let nsw = SealOptions {
        scope: Some(Scope::NamespaceWide),
        ..Default::default()
    };
    let mut b = base();
    let before = b.clone();
    let err = b.merge(seal(&secret_doc(), &nsw).unwrap()).unwrap_err();
    assert!(matches!(
        err,
        InputError::MergeMismatch { what: "scope", .. }
    ));
    assert_eq!(b, before, "a refused merge changes nothing");
}

#[test]
fn unsealed_secret_matches_the_input() {
    let ss = seal(&secret_doc(), &SealOptions::default()).unwrap();
    let v = ss.unseal(&go_keys()).unwrap().to_value();
    assert_eq!(
        v,
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "app-db", "namespace": "prod",
                         "annotations": {"team": "core"}, "labels": {"app": "db"}},
            "type": "kubernetes.io/tls",
            "data": {"password": "aHVudGVyMg==", "tls.crt": "Y2VydA==", "tls.key": "a2V5"}
        })
    );
}

#[test]
fn unseal_tries_every_key() {
    let other = dbos_gitops_seal::generate_dev_keypair(2048, real_now()).unwrap();
    let mut keys = PrivateKeys::from_pem(other.private_key_pem.as_bytes()).unwrap();
    let ss = seal(&secret_doc(), &SealOptions::default()).unwrap();
    assert!(matches!(
        ss.unseal(&keys).unwrap_err(),
        DecryptError::Value { .. }
    ));
    keys.extend(go_keys());
    assert_eq!(keys.len(), 2);
    assert_eq!(ss.unseal(&keys).unwrap().data.len(), 3);
}

#[test]
fn private_keys_in_pkcs8_bundles_and_backups() {
    use rsa::pkcs8::EncodePrivateKey;
    let go = go_keys();
    let pkcs8 = go.keys()[0]
        .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap();
    let dev = dbos_gitops_seal::generate_dev_keypair(2048, real_now()).unwrap();
    // cert + PKCS#1 + PKCS#8 in one file: two keys, the certificate skipped.
    let bundle = format!(
        "{}{}{}",
        dev.certificate_pem,
        dev.private_key_pem.as_str(),
        pkcs8.as_str()
    );
    let keys = PrivateKeys::from_pem(bundle.as_bytes()).unwrap();
    assert_eq!(keys.len(), 2);
    let ss = seal(&secret_doc(), &SealOptions::default()).unwrap();
    assert!(ss.unseal(&keys).is_ok());

    // A key backup Secret (as `kubectl get secret -o json`) and a List of them.
    use base64::Engine;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": b64(&fixture("go-cert.pem")), "tls.key": b64(&fixture("go-key.pem"))}});
    assert_eq!(PrivateKeys::from_secret_value(&secret).unwrap().len(), 1);
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [secret.clone(), secret]});
    let keys = PrivateKeys::from_secret_value(&list).unwrap();
    assert_eq!(keys.len(), 2);
    assert!(ss.unseal(&keys).is_ok());
}

#[test]
fn bad_private_key_files_are_refused() {
    use dbos_gitops_seal::KeyError;
    assert!(matches!(
        PrivateKeys::from_pem(&fixture("go-cert.pem")).unwrap_err(),
        KeyError::NoKeys { .. }
    ));
    assert!(matches!(
        PrivateKeys::from_pem(b"").unwrap_err(),
        KeyError::NoKeys { .. }
    ));
    let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let err = PrivateKeys::from_pem(ec.serialize_pem().as_bytes()).unwrap_err();
    assert!(matches!(err, KeyError::NotRsa { .. }), "{err:?}");
    assert!(err.hint().is_some());
}

#[test]
fn tampered_values_fail_cleanly() {
    let cert = go_cert();
    let keys = go_keys();
    let key = &keys.keys()[0];
    let mut ct = hybrid_encrypt(&mut OsRng, cert.sealing_key(), b"payload", b"ns/name");
    assert_eq!(
        hybrid_decrypt(key, &ct, b"ns/name").unwrap().as_slice(),
        b"payload"
    );
    // Layout: u16 length of the 512-byte RSA block, block, then 7 + 16 bytes of GCM.
    assert_eq!(&ct[..2], &512u16.to_be_bytes());
    assert_eq!(ct.len(), 2 + 512 + 7 + 16);
    assert_eq!(
        hybrid_decrypt(key, &ct, b"ns/other").unwrap_err(),
        DecryptError::NoKeyCouldDecrypt
    );
    let last = ct.len() - 1;
    ct[last] ^= 1;
    assert_eq!(
        hybrid_decrypt(key, &ct, b"ns/name").unwrap_err(),
        DecryptError::Corrupt
    );
    assert!(matches!(
        hybrid_decrypt(key, &ct[..100], b"ns/name").unwrap_err(),
        DecryptError::TooShort { .. }
    ));
    assert!(matches!(
        hybrid_decrypt(key, &[1], b"").unwrap_err(),
        DecryptError::TooShort { len: 1 }
    ));
}

#[test]
fn sealing_key_is_the_certificates_key() {
    use rsa::pkcs8::EncodePublicKey;
    let cert = go_cert();
    let key = cert.sealing_key();
    assert_eq!(key.key_bits(), cert.key_bits());
    assert_eq!(key.block_bytes(), 512);
    assert!(format!("{key:?}").contains("4096"));
    // Built from the same SubjectPublicKeyInfo another way: the private key unwraps it.
    let spki = cert.public_key().to_public_key_der().unwrap();
    let again = SealingKey::from_public_key_der(spki.as_bytes()).unwrap();
    let ct = hybrid_encrypt(&mut OsRng, &again, b"v", b"");
    assert_eq!(
        hybrid_decrypt(&go_keys().keys()[0], &ct, b"")
            .unwrap()
            .as_slice(),
        b"v"
    );
    assert!(SealingKey::from_public_key_der(b"not der").is_err());
}

#[test]
fn every_value_gets_a_fresh_session_key() {
    let cert = go_cert();
    let a = hybrid_encrypt(&mut OsRng, cert.sealing_key(), b"same", b"x");
    let b = hybrid_encrypt(&mut OsRng, cert.sealing_key(), b"same", b"x");
    assert_ne!(
        a[514..],
        b[514..],
        "same plaintext must not give the same GCM output"
    );
}

#[test]
fn raw_sealing_rules() {
    let cert = go_cert();
    assert_eq!(
        seal_raw(&mut OsRng, &cert, b"v", Scope::Strict, Some("ns"), None).unwrap_err(),
        InputError::MissingRawName
    );
    assert_eq!(
        seal_raw(&mut OsRng, &cert, b"v", Scope::Strict, None, Some("n")).unwrap_err(),
        InputError::MissingRawNamespace {
            scope: Scope::Strict
        }
    );
    assert_eq!(
        seal_raw(&mut OsRng, &cert, b"v", Scope::NamespaceWide, None, None).unwrap_err(),
        InputError::MissingRawNamespace {
            scope: Scope::NamespaceWide
        }
    );
    let v = seal_raw(
        &mut OsRng,
        &cert,
        b"v",
        Scope::NamespaceWide,
        Some("ns"),
        None,
    )
    .unwrap();
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(v).unwrap();
    assert_eq!(
        hybrid_decrypt(&go_keys().keys()[0], &raw, b"ns")
            .unwrap()
            .as_slice(),
        b"v"
    );
    assert!(seal_raw(&mut OsRng, &cert, b"v", Scope::ClusterWide, None, None).is_ok());
}

#[test]
fn parsing_preserves_unknown_fields_and_drops_server_ones() {
    let mut v = seal(&secret_doc(), &SealOptions::default())
        .unwrap()
        .to_value();
    v["metadata"]["labels"] = json!({"argocd.argoproj.io/instance": "x"});
    v["metadata"]["annotations"] = json!({"argocd.argoproj.io/sync-wave": "-1"});
    v["metadata"]["creationTimestamp"] = Value::Null;
    v["metadata"]["uid"] = json!("123");
    v["metadata"]["finalizers"] = json!(["keep-me"]);
    v["spec"]["template"]["metadata"]["creationTimestamp"] = Value::Null;
    v["spec"]["template"]["data"] = json!({"config": "static text"});
    v["status"] = json!({"observedGeneration": 1});
    let ss = SealedSecret::from_value(&v).unwrap();
    let out = ss.to_value();
    assert_eq!(
        out["metadata"],
        json!({
            "name": "app-db", "namespace": "prod",
            "annotations": {"argocd.argoproj.io/sync-wave": "-1"},
            "labels": {"argocd.argoproj.io/instance": "x"},
            "finalizers": ["keep-me"]
        })
    );
    assert!(out.get("status").is_none());
    assert!(!out.to_string().contains("creationTimestamp"));
    assert_eq!(out["spec"]["template"]["data"]["config"], "static text");
    // Literal template data is passed through on unseal; Go templates are refused.
    let un = ss.unseal(&go_keys()).unwrap();
    assert_eq!(un.data["config"].as_slice(), b"static text");
    let mut templated = v.clone();
    templated["spec"]["template"]["data"] = json!({"url": "postgres://{{ .password }}@db"});
    let err = SealedSecret::from_value(&templated)
        .unwrap()
        .unseal(&go_keys())
        .unwrap_err();
    assert_eq!(err, DecryptError::TemplatedData { key: "url".into() });
}

#[test]
fn sealed_secret_parse_errors() {
    let err = SealedSecret::from_value(&secret_doc()).unwrap_err();
    assert!(matches!(err, InputError::WrongKind { .. }));
    let doc = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "a"}, "spec": {}});
    assert_eq!(
        SealedSecret::from_value(&doc).unwrap_err(),
        InputError::MissingEncryptedData
    );
    let doc = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "a", "namespace": "b"}, "spec": {"data": "AAAA"}});
    let ss = SealedSecret::from_value(&doc).unwrap();
    assert_eq!(
        ss.unseal(&go_keys()).unwrap_err(),
        DecryptError::DeprecatedDataField
    );
    let doc = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "a", "namespace": "b"}, "spec": {"encryptedData": {"k": "%%%"}}});
    let ss = SealedSecret::from_value(&doc).unwrap();
    assert_eq!(
        ss.unseal(&go_keys()).unwrap_err(),
        DecryptError::NotBase64 { key: "k".into() }
    );
}
