//! The per-value hybrid encryption that the sealed-secrets controller understands.
//!
//! Reproduces `HybridEncrypt` / `HybridDecrypt` from upstream `pkg/crypto/crypto.go`: every value
//! gets its own fresh 32-byte AES-256 session key; the session key is wrapped with RSA-OAEP using
//! SHA-256 (also as the MGF1 hash, which is what Go's `rsa.EncryptOAEP` does) under the scope
//! label; the value is encrypted with AES-GCM under an all-zero 12-byte nonce (safe because the
//! key is used exactly once) and no additional data. The output is the RSA block's length as a
//! big-endian `u16`, the RSA block, then the GCM ciphertext with its 16-byte tag appended.
//! Upstream decryption tries each private key in turn and takes the first that works; so does
//! `SealedSecret::unseal`.
//!
//! The RSA-OAEP wrapping when sealing is ours: the EME-OAEP block is made in Rust
//! ([`crate::oaep`]) with a seed from the caller's generator (the operating system's), and only
//! the public-key exponentiation is AWS-LC's ([`crate::rsa_public`]), an order of magnitude
//! faster than the pure-Rust `rsa` crate's. So sealing takes no random byte from AWS-LC, and
//! whether a build seeds AWS-LC from CPU jitter no longer changes what a `seal` costs.
//! Unwrapping (unseal, tests) stays on the `rsa` crate, which parses the controller's
//! PKCS#1/PKCS#8 private keys and whose speed does not matter there; the tests check each side
//! against the other and against Go and Python. AES-GCM, both ways, is AWS-LC's too: the same
//! speed as the `aes-gcm` crate for the short values secrets usually hold, about ten times
//! faster on large ones, and its key schedule is wiped when freed.

use std::sync::Arc;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use rand::{CryptoRng, RngCore};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::oaep;
use crate::rsa_public::RsaPublic;

#[cfg(test)]
thread_local! {
    /// How many values this thread has encrypted: unit tests prove that a path does no RSA work.
    pub(crate) static ENCRYPTIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Length of the per-value AES-256 session key.
pub const SESSION_KEY_BYTES: usize = 32;
pub(crate) const GCM_TAG_BYTES: usize = 16;

/// A sealed value could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Shorter than its own length prefix says.
    #[error("sealed value is too short ({len} bytes) to hold an rsa block and an aes-gcm tag")]
    TooShort { len: usize },
    /// RSA-OAEP failed: another key, or a label from another scope, namespace or name.
    #[error("rsa-oaep unwrapping of the session key failed with every key tried")]
    NoKeyCouldDecrypt,
    /// The session key unwrapped but AES-GCM refused the ciphertext.
    #[error("aes-gcm authentication of the sealed value failed: the ciphertext is corrupt")]
    Corrupt,
    /// The OAEP label was not UTF-8 (labels built from Kubernetes names always are).
    #[error("the rsa-oaep label is not valid utf-8")]
    LabelNotUtf8,
    /// No private key was supplied.
    #[error("no private keys to decrypt with")]
    NoKeys,
    /// A value in `spec.encryptedData` is not standard base64.
    #[error("`spec.encryptedData.{key}` is not valid base64")]
    NotBase64 { key: String },
    /// Decryption of one value failed.
    #[error("cannot decrypt `spec.encryptedData.{key}` (label `{label}`): {source}")]
    Value {
        key: String,
        label: String,
        #[source]
        source: Box<DecryptError>,
    },
    /// The object uses the pre-v0.7 single-blob `spec.data` field.
    #[error("the sealed secret uses the deprecated `spec.data` field, which is not supported")]
    DeprecatedDataField,
    /// `spec.template.data` holds a Go template, which this crate does not evaluate.
    #[error("`spec.template.data.{key}` is a go template, which is not supported")]
    TemplatedData { key: String },
}

impl DecryptError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            DecryptError::Value { source, .. } => source.hint(),
            DecryptError::NoKeyCouldDecrypt => Some(
                "the value was sealed with another controller key, or for another \
                 namespace/name/scope; back up all controller keys with `kubectl get secret -n \
                 kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml` and pass \
                 every one of them"
                    .into(),
            ),
            DecryptError::TooShort { .. }
            | DecryptError::Corrupt
            | DecryptError::NotBase64 { .. } => {
                Some("the sealed value was truncated or edited; seal it again".into())
            }
            DecryptError::NoKeys => Some("pass at least one private key file".into()),
            DecryptError::DeprecatedDataField => {
                Some("re-seal the secret with a current kubeseal or dbos-gitops".into())
            }
            DecryptError::TemplatedData { .. } => {
                Some("only the controller can render templated keys".into())
            }
            DecryptError::LabelNotUtf8 => None,
        }
    }
}

fn oaep(label: &str) -> Oaep {
    Oaep::new_with_label::<Sha256, _>(label)
}

/// An RSA public key prepared once for sealing: RSA-OAEP with SHA-256 and MGF1-SHA-256.
///
/// Cheap to clone (shared). `SealingCert::sealing_key` gives the one for a certificate.
#[derive(Clone)]
pub struct SealingKey {
    rsa: Arc<RsaPublic>,
    bits: usize,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKey")
            .field("key_bits", &self.key_bits())
            .finish()
    }
}

/// An RSA public key that cannot be used to seal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rsa public key cannot be used for rsa-oaep: {detail}")]
pub struct SealingKeyError {
    /// Why: not an RSA `SubjectPublicKeyInfo`, outside 2048 to 8192 bits, or refused by AWS-LC.
    pub detail: String,
}

/// The modulus sizes sealing takes: what aws-lc-rs's RSA-OAEP key took before (its
/// `PublicEncryptingKey`), around what the controller makes (4096 bits by default). The `rsa`
/// crate's parser, which reads every key first, refuses moduli over 4096 bits by itself
/// (`RsaPublicKey::MAX_SIZE`), so in practice a key is 2048 to 4096 bits.
const SEALING_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

impl SealingKey {
    /// Prepares the RSA key in a DER `SubjectPublicKeyInfo` (as found in an X.509 certificate).
    pub fn from_public_key_der(spki: &[u8]) -> Result<SealingKey, SealingKeyError> {
        let key = RsaPublicKey::from_public_key_der(spki).map_err(|e| SealingKeyError {
            detail: e.to_string(),
        })?;
        SealingKey::from_rsa(&key)
    }

    /// Prepares an RSA public key already parsed.
    pub fn from_rsa(key: &RsaPublicKey) -> Result<SealingKey, SealingKeyError> {
        let bits = key.n().bits();
        if !SEALING_BITS.contains(&bits) {
            return Err(SealingKeyError {
                detail: format!(
                    "a {bits}-bit modulus; sealing takes {} to {} bits",
                    SEALING_BITS.start(),
                    SEALING_BITS.end()
                ),
            });
        }
        let rsa =
            RsaPublic::new(&key.n().to_bytes_be(), &key.e().to_bytes_be()).ok_or_else(|| {
                SealingKeyError {
                    detail: "AWS-LC refused the modulus or the public exponent".into(),
                }
            })?;
        Ok(SealingKey {
            rsa: Arc::new(rsa),
            bits,
        })
    }

    /// Size of the RSA modulus in bits.
    pub fn key_bits(&self) -> usize {
        self.bits
    }

    /// Length of every RSA block this key produces (the modulus length in bytes).
    pub fn block_bytes(&self) -> usize {
        self.rsa.block_bytes()
    }

    /// The bare RSA-OAEP operation: wraps `plaintext` (at most `block_bytes() - 66` bytes) under
    /// `label` into `out`, which must be [`SealingKey::block_bytes`] long, with the OAEP seed
    /// drawn from `rng`. Exposed for the benchmark; sealing uses [`hybrid_encrypt`].
    ///
    /// # Panics
    /// If `out` has the wrong length or `plaintext` is too long for the key.
    pub fn oaep_encrypt<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
        plaintext: &[u8],
        label: &[u8],
        out: &mut [u8],
    ) {
        let mut seed = Zeroizing::new([0u8; oaep::SEED_BYTES]);
        rng.fill_bytes(seed.as_mut());
        let block = oaep::encode(self.block_bytes(), plaintext, label, &seed)
            .expect("rsa-oaep: the plaintext is too long for the key");
        self.rsa.encrypt(&block, out);
    }
}

/// Seals `plaintext` for the holder of `key`'s private half under the OAEP `label`.
///
/// The result is the raw wire format (not base64): `u16 BE length || RSA block || GCM output`.
/// `rng` makes the AES-256 session key and the OAEP seed inside the RSA block.
pub fn hybrid_encrypt<R: RngCore + CryptoRng>(
    rng: &mut R,
    key: &SealingKey,
    plaintext: &[u8],
    label: &[u8],
) -> Vec<u8> {
    #[cfg(test)]
    ENCRYPTIONS.with(|count| count.set(count.get() + 1));
    let mut session_key = Zeroizing::new([0u8; SESSION_KEY_BYTES]);
    rng.fill_bytes(session_key.as_mut());

    let block = key.block_bytes();
    let block_len = u16::try_from(block).expect("rsa block longer than 65535 bytes is impossible");
    let body = 2 + block;
    let mut out = Vec::with_capacity(body + plaintext.len() + GCM_TAG_BYTES);
    out.extend_from_slice(&block_len.to_be_bytes());
    out.resize(body, 0);
    key.oaep_encrypt(rng, session_key.as_ref(), label, &mut out[2..body]);

    // Encrypt in place after the RSA block: one copy of the value, however large.
    out.extend_from_slice(plaintext);
    let tag = aes_gcm_key(&session_key)
        .seal_in_place_separate_tag(zero_nonce(), Aad::empty(), &mut out[body..])
        .expect("aes-gcm encryption only fails for inputs over 64 GiB");
    out.extend_from_slice(tag.as_ref());
    out
}

/// The AES-256-GCM key for one session key.
fn aes_gcm_key(session_key: &[u8; SESSION_KEY_BYTES]) -> LessSafeKey {
    LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, session_key).expect("a 32-byte key is a valid aes-256 key"),
    )
}

/// The all-zero nonce: every session key encrypts exactly one value.
fn zero_nonce() -> Nonce {
    Nonce::assume_unique_for_key([0u8; 12])
}

/// Opens a value made by [`hybrid_encrypt`] (or by the Go `HybridEncrypt`) with one private key.
pub fn hybrid_decrypt(
    key: &RsaPrivateKey,
    ciphertext: &[u8],
    label: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    hybrid_decrypt_any(std::slice::from_ref(key), ciphertext, label)
}

/// Like [`hybrid_decrypt`], trying each key in turn until one unwraps the session key.
pub(crate) fn hybrid_decrypt_any(
    keys: &[RsaPrivateKey],
    ciphertext: &[u8],
    label: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    if keys.is_empty() {
        return Err(DecryptError::NoKeys);
    }
    let label = std::str::from_utf8(label).map_err(|_| DecryptError::LabelNotUtf8)?;
    let too_short = DecryptError::TooShort {
        len: ciphertext.len(),
    };
    if ciphertext.len() < 2 {
        return Err(too_short);
    }
    let rsa_len = usize::from(u16::from_be_bytes([ciphertext[0], ciphertext[1]]));
    if ciphertext.len() < 2 + rsa_len + GCM_TAG_BYTES {
        return Err(too_short);
    }
    let (wrapped, sealed) = ciphertext[2..].split_at(rsa_len);

    let mut rng = rand::rngs::OsRng;
    let session_key = keys
        .iter()
        .find_map(|k| {
            k.decrypt_blinded(&mut rng, oaep(label), wrapped)
                .ok()
                .map(Zeroizing::new)
        })
        .ok_or(DecryptError::NoKeyCouldDecrypt)?;
    let session_key: &[u8; SESSION_KEY_BYTES] = session_key
        .as_slice()
        .try_into()
        .map_err(|_| DecryptError::Corrupt)?;
    let mut plaintext = Zeroizing::new(sealed.to_vec());
    let len = aes_gcm_key(session_key)
        .open_in_place(zero_nonce(), Aad::empty(), &mut plaintext)
        .map_err(|_| DecryptError::Corrupt)?
        .len();
    plaintext.truncate(len);
    Ok(plaintext)
}
