//! Offline re-encryption of a SealedSecret for another certificate, with the controller's
//! backed-up private keys: what `kubeseal --re-encrypt` asks the running controller to do.
//!
//! Upstream, the controller renews its key pair every 30 days by default (the key registry's
//! renewal in `pkg/controller/keyregistry.go` and `main.go`), keeps every old key to decrypt
//! with, and seals new values only for the newest; `--re-encrypt` posts each SealedSecret to
//! the controller's rotate endpoint, which unseals it with whichever key opens it and builds a
//! brand-new object with `NewSealedSecret` for the latest key (so that object keeps only the
//! template's metadata). Here the same happens without a cluster: every value is decrypted with
//! the first given key that opens it (as the controller's `HybridDecrypt` tries each key) and
//! sealed again for the new certificate under the same RSA-OAEP label, and everything else of
//! the object (name, namespace, scope, labels, annotations, template) stays as it was. Plaintext
//! lives only in `Zeroizing` buffers, value by value.

use std::collections::BTreeMap;

use base64::Engine;
use rand::{CryptoRng, RngCore};

use crate::cert::SealingCert;
use crate::crypto::{hybrid_decrypt_any, hybrid_encrypt, DecryptError};
use crate::input::decode_std_base64;
use crate::sealed::SealedSecret;
use crate::stable::{annotate_macs, MacKey};
use crate::unseal::keys::PrivateKeys;

/// One value that none of the given keys opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnopenedValue {
    pub key: String,
    pub error: DecryptError,
}

/// Which values of `sealed` no key in `keys` opens (empty: every value is covered).
pub fn uncovered_values(sealed: &SealedSecret, keys: &PrivateKeys) -> Vec<UnopenedValue> {
    let label = sealed.label();
    sealed
        .encrypted_data
        .iter()
        .filter_map(|(key, value)| {
            let error = match decode_std_base64(value) {
                None => DecryptError::NotBase64 { key: key.clone() },
                Some(raw) => hybrid_decrypt_any(keys.keys(), &raw, &label).err()?,
            };
            Some(UnopenedValue {
                key: key.clone(),
                error,
            })
        })
        .collect()
}

/// `sealed` with every value decrypted with `keys` and sealed again for `cert`. With a MAC key
/// the value MACs of stable re-seal are made anew for the new certificate; without one they are
/// dropped (they named the old certificate). Fails on the first value no key opens.
pub fn reseal<R: RngCore + CryptoRng>(
    rng: &mut R,
    sealed: &SealedSecret,
    keys: &PrivateKeys,
    cert: &SealingCert,
    mac_key: Option<&MacKey>,
) -> Result<SealedSecret, UnopenedValue> {
    let label = sealed.label();
    let fingerprint = cert.fingerprint();
    let mut resealed = sealed.clone();
    let mut macs = BTreeMap::new();
    for (key, value) in &sealed.encrypted_data {
        let unopened = |error| UnopenedValue {
            key: key.clone(),
            error,
        };
        let raw = decode_std_base64(value)
            .ok_or_else(|| unopened(DecryptError::NotBase64 { key: key.clone() }))?;
        let plain = hybrid_decrypt_any(keys.keys(), &raw, &label).map_err(unopened)?;
        let again = hybrid_encrypt(rng, cert.sealing_key(), &plain, &label);
        resealed.encrypted_data.insert(
            key.clone(),
            base64::engine::general_purpose::STANDARD.encode(again),
        );
        if let Some(mac_key) = mac_key {
            macs.insert(
                key.clone(),
                mac_key.value_mac(&fingerprint, sealed.scope, &label, key, &plain),
            );
        }
    }
    annotate_macs(
        &mut resealed,
        mac_key.map(MacKey::id).as_deref(),
        &macs,
        sealed.encrypted_data.keys().map(String::as_str),
    );
    Ok(resealed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devkey::generate_dev_keypair;
    use crate::input::SecretInput;
    use crate::sealed::{seal_secret, SealOptions};
    use zeroize::Zeroizing;

    fn go_pair() -> (SealingCert, PrivateKeys) {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/sealed-secrets-go/"
        );
        let cert = std::fs::read(format!("{dir}go-cert.pem")).unwrap();
        let key = std::fs::read(format!("{dir}go-key.pem")).unwrap();
        (
            SealingCert::from_pem_at(&cert, 1_795_824_000).unwrap(),
            PrivateKeys::from_pem(&key).unwrap(),
        )
    }

    #[test]
    fn resealed_values_open_with_the_new_key_only_and_keep_everything_else() {
        let (old_cert, old_keys) = go_pair();
        let pair = generate_dev_keypair(2048, 1_795_824_000).unwrap();
        let new_cert =
            SealingCert::from_pem_at(pair.certificate_pem.as_bytes(), 1_795_824_000).unwrap();
        let new_keys = PrivateKeys::from_pem(pair.private_key_pem.as_bytes()).unwrap();
        let mut input = SecretInput {
            name: "conductor-db".into(),
            namespace: Some("dbos".into()),
            ..Default::default()
        };
        input
            .data
            .insert("a".into(), Zeroizing::new(b"one".to_vec()));
        input
            .data
            .insert("b".into(), Zeroizing::new(b"two".to_vec()));
        let mut sealed = seal_secret(
            &mut rand::rngs::OsRng,
            &old_cert,
            &input,
            &SealOptions::default(),
        )
        .unwrap();
        sealed.annotations.insert("team".into(), "core".into());
        assert!(uncovered_values(&sealed, &old_keys).is_empty());
        assert_eq!(uncovered_values(&sealed, &new_keys).len(), 2);

        let mac_key = MacKey::generate(&mut rand::rngs::OsRng);
        let resealed = reseal(
            &mut rand::rngs::OsRng,
            &sealed,
            &old_keys,
            &new_cert,
            Some(&mac_key),
        )
        .unwrap();
        let opened = resealed.unseal(&new_keys).unwrap();
        assert_eq!(opened.data["a"].as_slice(), b"one");
        assert_eq!(opened.data["b"].as_slice(), b"two");
        assert!(resealed.unseal(&old_keys).is_err());
        assert_eq!(resealed.annotations["team"], "core");
        assert_eq!(resealed.template, sealed.template);
        let (_, macs) = crate::stable::stored_macs(&resealed).unwrap();
        assert_eq!(
            macs["a"],
            mac_key.value_mac(
                &new_cert.fingerprint(),
                sealed.scope,
                &sealed.label(),
                "a",
                b"one"
            )
        );

        // A key that opens nothing: the value is named, nothing is returned.
        let failed = reseal(
            &mut rand::rngs::OsRng,
            &resealed,
            &old_keys,
            &old_cert,
            None,
        )
        .unwrap_err();
        assert_eq!(failed.key, "a");
        assert_eq!(failed.error, DecryptError::NoKeyCouldDecrypt);
    }
}
