//! Stable re-seal: an unchanged value keeps its ciphertext byte for byte.
//!
//! The controller's format cannot be deterministic: every value gets a fresh AES session key
//! wrapped with randomized RSA-OAEP (`HybridEncrypt` in upstream `pkg/crypto/crypto.go`), and
//! upstream declined to change that, so sealing the same value twice always gives new bytes.
//! To know that a value is unchanged without decrypting (the sealer holds no private key), we
//! keep, per sealed key, a keyed MAC (HMAC-SHA256) of what was sealed: the certificate's
//! fingerprint, the scope and its RSA-OAEP label (namespace and name), the key's name and the
//! value. When the new value's MAC equals the stored one, the old ciphertext is still a valid
//! sealing of exactly this value for exactly this certificate and label, so it is kept.
//!
//! Why keyed: an unkeyed digest of a password in a Git repository can be brute-forced offline.
//! The MAC key never enters the repository; with the repository alone, an attacker learns only
//! which values are equal under one MAC key (the same MAC twice), nothing about the values.
//! The annotation carries a short id of the MAC key (itself a MAC of a fixed string) so that a
//! different key is noticed and the tool re-encrypts instead of comparing apples to pears.
//!
//! The MACs are computed before anything is encrypted, and only the values whose MAC differs
//! (or that have none to compare with) are encrypted: a re-seal that changes nothing does no
//! RSA work, so a nightly sync of unchanged values costs the MACs and the copy of the old text.
//!
//! Everything here is pure: the caller loads the key and writes the files.

use std::collections::BTreeMap;

use aws_lc_rs::hmac;
use base64::Engine;
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::cert::SealingCert;
use crate::input::{InputError, SecretInput};
use crate::scope::Scope;
use crate::sealed::{SealOptions, SealedSecret};

/// SealedSecret metadata annotation: JSON object, sealed key -> base64 HMAC-SHA256.
pub const VALUE_MACS_ANNOTATION: &str = "dbos-gitops.io/value-macs";
/// SealedSecret metadata annotation: the id of the MAC key the MACs were made with.
pub const MAC_KEY_ID_ANNOTATION: &str = "dbos-gitops.io/value-mac-key-id";
/// Length of a generated MAC key, and the least we accept from a file.
pub const MAC_KEY_BYTES: usize = 32;

const VALUE_DOMAIN: &[u8] = b"dbos-gitops/value-mac/v1";
const KEY_ID_DOMAIN: &[u8] = b"dbos-gitops/value-mac-key-id/v1";

/// A MAC key file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacKeyError {
    #[error("the value-MAC key file is not base64 text")]
    NotBase64,
    #[error("the value-MAC key is {len} bytes; at least {MAC_KEY_BYTES} are needed")]
    TooShort { len: usize },
}

impl MacKeyError {
    pub fn hint(&self) -> Option<String> {
        Some(format!(
            "make one with `head -c {MAC_KEY_BYTES} /dev/urandom | base64 > seal-mac.key` (keep it out of the repository)"
        ))
    }
}

/// The secret key of the value MACs. `Debug` is redacted; the bytes are wiped on drop (and
/// AWS-LC clears its prepared HMAC state when that is freed).
#[derive(Clone)]
pub struct MacKey {
    bytes: Zeroizing<Vec<u8>>,
    /// Prepared once: the key schedule is as much work as the MAC of a short value.
    prepared: hmac::Key,
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MacKey(id {}, redacted)", self.id())
    }
}

impl MacKey {
    /// A fresh random key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> MacKey {
        let mut bytes = Zeroizing::new(vec![0u8; MAC_KEY_BYTES]);
        rng.fill_bytes(&mut bytes);
        MacKey::from_bytes(bytes)
    }

    fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> MacKey {
        let prepared = hmac::Key::new(hmac::HMAC_SHA256, &bytes);
        MacKey { bytes, prepared }
    }

    /// Reads the key file's text: standard base64 (surrounding whitespace ignored).
    pub fn from_file_text(text: &[u8]) -> Result<MacKey, MacKeyError> {
        let text = std::str::from_utf8(text).map_err(|_| MacKeyError::NotBase64)?;
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| MacKeyError::NotBase64)?,
        );
        if bytes.len() < MAC_KEY_BYTES {
            return Err(MacKeyError::TooShort { len: bytes.len() });
        }
        Ok(MacKey::from_bytes(bytes))
    }

    /// The key file's text: base64 and a newline.
    pub fn to_file_text(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*self.bytes) + "\n")
    }

    fn hmac(&self, parts: &[&[u8]], domain: &[u8]) -> hmac::Tag {
        let mut context = hmac::Context::with_key(&self.prepared);
        // Every part is length-prefixed, so no two different inputs feed the same bytes.
        for part in std::iter::once(domain).chain(parts.iter().copied()) {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        context.sign()
    }

    /// A short public id of the key: 16 hex digits of a MAC of a fixed string.
    pub fn id(&self) -> String {
        self.hmac(&[], KEY_ID_DOMAIN).as_ref()[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The MAC of one sealed value: base64 of HMAC-SHA256 over the certificate fingerprint,
    /// the scope, the RSA-OAEP label, the key's name and the value.
    pub fn value_mac(
        &self,
        cert_fingerprint: &str,
        scope: Scope,
        label: &[u8],
        key: &str,
        value: &[u8],
    ) -> String {
        let tag = self.hmac(
            &[
                cert_fingerprint.as_bytes(),
                scope.as_str().as_bytes(),
                label,
                key.as_bytes(),
                value,
            ],
            VALUE_DOMAIN,
        );
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    }
}

/// What happened to one key of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    /// New key: sealed for the first time.
    Added,
    /// Same value: the old ciphertext was kept byte for byte.
    Unchanged,
    /// The MAC says the value changed: new ciphertext.
    Changed,
    /// Re-encrypted without knowing whether the value changed (see [`Comparison`]).
    Resealed,
}

/// Why values could (not) be compared with what the file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// Compared with the stored MACs (or nothing was stored before).
    Compared,
    /// No MAC key: every value was re-encrypted.
    NoMacKey,
    /// The stored SealedSecret has no MACs (sealed before stable re-seal, or without a key).
    NoStoredMacs,
    /// The stored MACs were made with another MAC key (its id).
    OtherMacKey { stored: String, ours: String },
}

/// What [`seal_stable`] decided: outcomes per input key, and the MACs to store.
#[derive(Clone, Debug)]
pub struct Stabilized {
    pub outcomes: BTreeMap<String, KeyOutcome>,
    pub comparison: Comparison,
    key_id: Option<String>,
    macs: BTreeMap<String, String>,
}

/// The MACs stored on a SealedSecret, with their key id, when both annotations parse.
pub fn stored_macs(sealed: &SealedSecret) -> Option<(String, BTreeMap<String, String>)> {
    let id = sealed.annotations.get(MAC_KEY_ID_ANNOTATION)?;
    let macs = sealed.annotations.get(VALUE_MACS_ANNOTATION)?;
    let macs: BTreeMap<String, String> = serde_json::from_str(macs).ok()?;
    Some((id.clone(), macs))
}

/// Seals `input` for `cert` as [`crate::sealed::seal_secret`] does, except for the values whose MAC
/// matches the one `existing` stores for the same key, certificate, scope and label: those keep
/// their old ciphertext and are never encrypted. Every MAC is computed first, so an unchanged
/// re-seal does no RSA (or AES) work at all; a value without a comparable stored MAC (new key,
/// no MAC key, MACs of another key, another certificate or target) is encrypted afresh. Each
/// MAC is compared in constant time, so how long the comparison takes says nothing about how
/// much of a stored MAC a guess matched.
pub fn seal_stable<R: RngCore + CryptoRng>(
    rng: &mut R,
    cert: &SealingCert,
    input: &SecretInput,
    opts: &SealOptions,
    existing: Option<&SealedSecret>,
    mac_key: Option<&MacKey>,
) -> Result<(SealedSecret, Stabilized), InputError> {
    let mut fresh = crate::sealed::prepare(input, opts)?;
    let label = fresh.label();
    let fingerprint = cert.fingerprint();
    let macs: BTreeMap<String, String> = match mac_key {
        Some(mac_key) => input
            .data
            .iter()
            .map(|(key, value)| {
                let mac = mac_key.value_mac(&fingerprint, fresh.scope, &label, key, value);
                (key.clone(), mac)
            })
            .collect(),
        None => BTreeMap::new(),
    };
    let our_id = mac_key.map(MacKey::id);
    let stored = existing.and_then(stored_macs);
    let comparison = compare_with(our_id.as_deref(), existing.is_some(), stored.as_ref());
    let same_target = existing.is_some_and(|existing| {
        existing.label() == label && existing.scope == fresh.scope && existing.name == fresh.name
    });
    let stored_macs = match (&comparison, &stored) {
        (Comparison::Compared, Some((_, stored_macs))) if same_target => Some(stored_macs),
        _ => None,
    };
    let mut outcomes = BTreeMap::new();
    for (key, value) in &input.data {
        let old_ciphertext = existing.and_then(|existing| existing.encrypted_data.get(key));
        let outcome = match old_ciphertext {
            None => KeyOutcome::Added,
            Some(_) => match stored_macs.map(|stored| stored.get(key)) {
                None | Some(None) => KeyOutcome::Resealed,
                Some(Some(stored_mac)) if same_mac(stored_mac, macs.get(key)) => {
                    KeyOutcome::Unchanged
                }
                Some(Some(_)) => KeyOutcome::Changed,
            },
        };
        let ciphertext = match (outcome, old_ciphertext) {
            (KeyOutcome::Unchanged, Some(old_ciphertext)) => old_ciphertext.clone(),
            _ => crate::sealed::seal_value(rng, cert, value, &label),
        };
        fresh.encrypted_data.insert(key.clone(), ciphertext);
        outcomes.insert(key.clone(), outcome);
    }
    let stabilized = Stabilized {
        outcomes,
        comparison,
        key_id: our_id,
        macs,
    };
    Ok((fresh, stabilized))
}

/// Whether the stored values can be compared with ours at all.
fn compare_with(
    our_id: Option<&str>,
    existing: bool,
    stored: Option<&(String, BTreeMap<String, String>)>,
) -> Comparison {
    match (our_id, existing, stored) {
        (_, false, _) => Comparison::Compared,
        (None, true, _) => Comparison::NoMacKey,
        (Some(_), true, None) => Comparison::NoStoredMacs,
        (Some(ours), true, Some((id, _))) if id != ours => Comparison::OtherMacKey {
            stored: id.clone(),
            ours: ours.to_string(),
        },
        _ => Comparison::Compared,
    }
}

/// Constant-time equality of a stored MAC and ours (both base64 of a 32-byte tag, so equal
/// lengths whenever the stored one is well formed; the length is no secret).
fn same_mac(stored: &str, ours: Option<&String>) -> bool {
    ours.is_some_and(|ours| {
        aws_lc_rs::constant_time::verify_slices_are_equal(stored.as_bytes(), ours.as_bytes())
            .is_ok()
    })
}

impl Stabilized {
    /// The keys with this outcome, sorted.
    pub fn keys(&self, outcome: KeyOutcome) -> Vec<String> {
        self.outcomes
            .iter()
            .filter(|(_, candidate)| **candidate == outcome)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Writes the MAC annotations of `merged` (the stored object with `fresh` merged in): the
    /// input's keys get their new MACs (or lose their entry without a MAC key: a stale MAC
    /// next to a new ciphertext would later keep the wrong value), the other keys keep theirs
    /// when they were made with the same MAC key, and entries of keys that are gone are dropped.
    pub fn annotate(&self, merged: &mut SealedSecret) {
        annotate_macs(
            merged,
            self.key_id.as_deref(),
            &self.macs,
            self.outcomes.keys().map(String::as_str),
        );
    }
}

/// Shared by sealing and resealing: sets `new_macs` (made with the key `key_id`) for their keys,
/// drops the entries of `replaced` keys that have no new MAC, keeps the others when their key
/// id is `key_id` (or when there is no key id: nothing new to store), and drops entries of keys
/// that are not sealed any more.
pub fn annotate_macs<'a>(
    sealed: &mut SealedSecret,
    key_id: Option<&str>,
    new_macs: &BTreeMap<String, String>,
    replaced: impl Iterator<Item = &'a str>,
) {
    let (stored_id, mut macs) = stored_macs(sealed).unwrap_or_default();
    let id = match key_id {
        Some(ours) if ours != stored_id => {
            macs.clear();
            ours.to_string()
        }
        Some(ours) => ours.to_string(),
        None => stored_id,
    };
    for key in replaced {
        macs.remove(key);
    }
    macs.extend(new_macs.iter().map(|(k, v)| (k.clone(), v.clone())));
    macs.retain(|key, _| sealed.encrypted_data.contains_key(key));
    if macs.is_empty() || id.is_empty() {
        sealed.annotations.remove(VALUE_MACS_ANNOTATION);
        sealed.annotations.remove(MAC_KEY_ID_ANNOTATION);
        return;
    }
    sealed.annotations.insert(
        VALUE_MACS_ANNOTATION.into(),
        serde_json::to_string(&macs).expect("a string map serializes"),
    );
    sealed.annotations.insert(MAC_KEY_ID_ANNOTATION.into(), id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ENCRYPTIONS;

    fn cert() -> SealingCert {
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/sealed-secrets-go/go-cert.pem"
        ))
        .unwrap();
        SealingCert::from_pem_at(&pem, 1_795_824_000).unwrap()
    }

    fn input(values: &[(&str, &str)]) -> SecretInput {
        let mut input = SecretInput {
            name: "conductor-db".into(),
            namespace: Some("dbos".into()),
            ..Default::default()
        };
        for (key, value) in values {
            input
                .data
                .insert(key.to_string(), Zeroizing::new(value.as_bytes().to_vec()));
        }
        input
    }

    fn seal(
        cert: &SealingCert,
        existing: Option<&SealedSecret>,
        values: &[(&str, &str)],
        key: Option<&MacKey>,
    ) -> (SealedSecret, Stabilized) {
        let input = input(values);
        let (fresh, stabilized) = seal_stable(
            &mut rand::rngs::OsRng,
            cert,
            &input,
            &SealOptions::default(),
            existing,
            key,
        )
        .unwrap();
        let mut merged = match existing {
            Some(existing) => {
                let mut merged = existing.clone();
                merged.merge(fresh).unwrap();
                merged
            }
            None => fresh,
        };
        stabilized.annotate(&mut merged);
        (merged, stabilized)
    }

    #[test]
    fn unchanged_values_keep_their_ciphertext_and_changed_ones_move() {
        let cert = cert();
        let key = MacKey::generate(&mut rand::rngs::OsRng);
        let (first, outcome) = seal(&cert, None, &[("a", "1"), ("b", "2")], Some(&key));
        assert_eq!(outcome.keys(KeyOutcome::Added), ["a", "b"]);
        let (second, outcome) = seal(&cert, Some(&first), &[("a", "1"), ("b", "2")], Some(&key));
        assert_eq!(outcome.keys(KeyOutcome::Unchanged), ["a", "b"]);
        assert_eq!(second, first, "an unchanged re-seal changes nothing");
        let (third, outcome) = seal(&cert, Some(&second), &[("a", "1"), ("b", "3")], Some(&key));
        assert_eq!(outcome.keys(KeyOutcome::Unchanged), ["a"]);
        assert_eq!(outcome.keys(KeyOutcome::Changed), ["b"]);
        assert_eq!(third.encrypted_data["a"], first.encrypted_data["a"]);
        assert_ne!(third.encrypted_data["b"], first.encrypted_data["b"]);
        assert_ne!(
            third.annotations[VALUE_MACS_ANNOTATION],
            first.annotations[VALUE_MACS_ANNOTATION]
        );
    }

    /// Runs `run` and counts the values it encrypted on this thread.
    fn encryptions<T>(run: impl FnOnce() -> T) -> (T, usize) {
        let before = ENCRYPTIONS.with(std::cell::Cell::get);
        let result = run();
        (result, ENCRYPTIONS.with(std::cell::Cell::get) - before)
    }

    #[test]
    fn an_unchanged_reseal_does_no_rsa_work_and_one_change_encrypts_exactly_one_value() {
        let cert = cert();
        let key = MacKey::generate(&mut rand::rngs::OsRng);
        let owned: Vec<(String, String)> = (0..100)
            .map(|index| (format!("key-{index:03}"), format!("value-{index}")))
            .collect();
        let values: Vec<(&str, &str)> = owned
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        let ((first, _), count) = encryptions(|| seal(&cert, None, &values, Some(&key)));
        assert_eq!(count, 100, "a first seal encrypts every value");
        let ((again, outcome), count) =
            encryptions(|| seal(&cert, Some(&first), &values, Some(&key)));
        assert_eq!(count, 0, "an unchanged re-seal encrypted something");
        assert_eq!(outcome.keys(KeyOutcome::Unchanged).len(), 100);
        assert_eq!(again, first, "an unchanged re-seal changed bytes");

        let mut changed = values.clone();
        changed[42].1 = "another value";
        let ((third, outcome), count) =
            encryptions(|| seal(&cert, Some(&again), &changed, Some(&key)));
        assert_eq!(count, 1, "one changed value, one encryption");
        assert_eq!(outcome.keys(KeyOutcome::Changed), ["key-042"]);
        for (name, ciphertext) in &third.encrypted_data {
            assert_eq!(
                ciphertext == &first.encrypted_data[name],
                name != "key-042",
                "{name}"
            );
        }
        // Without the MAC key nothing can be compared: every value is encrypted again.
        let (_, count) = encryptions(|| seal(&cert, Some(&third), &changed, None));
        assert_eq!(count, 100);
    }

    #[test]
    fn a_stored_mac_that_differs_anywhere_or_in_length_is_a_change() {
        let cert = cert();
        let key = MacKey::generate(&mut rand::rngs::OsRng);
        let (first, _) = seal(&cert, None, &[("a", "1"), ("b", "2")], Some(&key));
        let (id, mut macs) = stored_macs(&first).unwrap();
        let flip = |mac: &str| {
            let mut bytes = mac.as_bytes().to_vec();
            bytes[0] = if bytes[0] == b'A' { b'B' } else { b'A' };
            String::from_utf8(bytes).unwrap()
        };
        let shorter = macs["b"][..macs["b"].len() - 2].to_string();
        macs.insert("a".into(), flip(&macs["a"]));
        macs.insert("b".into(), shorter);
        let mut tampered = first.clone();
        annotate_macs(&mut tampered, Some(&id), &macs, std::iter::empty());
        let ((second, outcome), count) = encryptions(|| {
            seal(
                &cert,
                Some(&tampered),
                &[("a", "1"), ("b", "2")],
                Some(&key),
            )
        });
        assert_eq!(outcome.keys(KeyOutcome::Changed), ["a", "b"]);
        assert_eq!(count, 2);
        assert_ne!(second.encrypted_data["a"], first.encrypted_data["a"]);
    }

    #[test]
    fn without_the_key_or_with_another_every_value_is_resealed_and_no_stale_mac_stays() {
        let cert = cert();
        let key = MacKey::generate(&mut rand::rngs::OsRng);
        let other = MacKey::generate(&mut rand::rngs::OsRng);
        let (first, _) = seal(&cert, None, &[("a", "1"), ("b", "2")], Some(&key));
        let (second, outcome) = seal(&cert, Some(&first), &[("a", "1")], None);
        assert_eq!(outcome.comparison, Comparison::NoMacKey);
        assert_eq!(outcome.keys(KeyOutcome::Resealed), ["a"]);
        assert_ne!(second.encrypted_data["a"], first.encrypted_data["a"]);
        // `a` lost its MAC (its ciphertext is new), `b` kept its own.
        let (_, macs) = stored_macs(&second).unwrap();
        assert_eq!(macs.keys().collect::<Vec<_>>(), ["b"]);
        // The stale MAC of `a` must not make a later run keep a ciphertext it does not match.
        let (third, outcome) = seal(&cert, Some(&second), &[("a", "1")], Some(&key));
        assert_eq!(outcome.keys(KeyOutcome::Resealed), ["a"]);
        assert_ne!(third.encrypted_data["a"], second.encrypted_data["a"]);
        let (fourth, outcome) = seal(&cert, Some(&third), &[("a", "1")], Some(&other));
        assert!(matches!(outcome.comparison, Comparison::OtherMacKey { .. }));
        assert_ne!(fourth.encrypted_data["a"], third.encrypted_data["a"]);
        assert_eq!(fourth.annotations[MAC_KEY_ID_ANNOTATION], other.id());
        let (_, macs) = stored_macs(&fourth).unwrap();
        assert_eq!(macs.keys().collect::<Vec<_>>(), ["a"], "no mixed key ids");
    }

    #[test]
    fn the_mac_binds_certificate_scope_label_key_and_value() {
        let key = MacKey::generate(&mut rand::rngs::OsRng);
        let base = key.value_mac("f", Scope::Strict, b"ns/n", "k", b"v");
        assert_eq!(base, key.value_mac("f", Scope::Strict, b"ns/n", "k", b"v"));
        for other in [
            key.value_mac("g", Scope::Strict, b"ns/n", "k", b"v"),
            key.value_mac("f", Scope::NamespaceWide, b"ns/n", "k", b"v"),
            key.value_mac("f", Scope::Strict, b"ns/m", "k", b"v"),
            key.value_mac("f", Scope::Strict, b"ns/n", "j", b"v"),
            key.value_mac("f", Scope::Strict, b"ns/n", "k", b"w"),
            key.value_mac("f", Scope::Strict, b"ns/n", "kv", b""),
            MacKey::generate(&mut rand::rngs::OsRng).value_mac(
                "f",
                Scope::Strict,
                b"ns/n",
                "k",
                b"v",
            ),
        ] {
            assert_ne!(base, other);
        }
        let text = key.to_file_text();
        assert_eq!(
            MacKey::from_file_text(text.as_bytes()).unwrap().id(),
            key.id()
        );
        assert_eq!(
            MacKey::from_file_text(b"c2hvcnQ=\n").unwrap_err(),
            MacKeyError::TooShort { len: 5 }
        );
        assert_eq!(
            MacKey::from_file_text(b"not base64!").unwrap_err(),
            MacKeyError::NotBase64
        );
    }

    #[test]
    fn another_certificate_reseals() {
        let cert = cert();
        let key = MacKey::generate(&mut rand::rngs::OsRng);
        let (first, _) = seal(&cert, None, &[("a", "1")], Some(&key));
        // Same MAC key, same value, but the stored MAC was made for another certificate.
        let mut moved = first.clone();
        let mut macs = BTreeMap::new();
        macs.insert(
            "a".to_string(),
            key.value_mac("another", Scope::Strict, &first.label(), "a", b"1"),
        );
        annotate_macs(&mut moved, Some(&key.id()), &macs, std::iter::empty());
        let (second, outcome) = seal(&cert, Some(&moved), &[("a", "1")], Some(&key));
        assert_eq!(outcome.keys(KeyOutcome::Changed), ["a"]);
        assert_ne!(second.encrypted_data["a"], first.encrypted_data["a"]);
    }
}
