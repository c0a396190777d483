//! The per-value hybrid encryption that the sealed-secrets controller understands.
//!
//! Reproduces `HybridEncrypt` / `HybridDecrypt` from upstream `pkg/crypto/crypto.go`: every value
//! gets its own fresh 32-byte AES-256 session key; the session key is wrapped with RSA-OAEP using
//! SHA-256 (also as the MGF1 hash, which is what Go's `rsa.EncryptOAEP` does) under the scope
//! label; the value is encrypted with AES-GCM under an all-zero 12-byte nonce (safe because the
//! key is used exactly once) and no additional data. The output is the RSA block's length as a
//! big-endian `u16`, the RSA block, then the GCM ciphertext with its 16-byte tag appended.
//! Upstream decryption tries each private key in turn and takes the first that works; so does
//! [`crate::SealedSecret::unseal`].

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::{CryptoRng, RngCore};
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Length of the per-value AES-256 session key.
pub const SESSION_KEY_BYTES: usize = 32;
const GCM_TAG_BYTES: usize = 16;

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

/// Seals `plaintext` for the holder of `key`'s private half under the OAEP `label`.
///
/// The result is the raw wire format (not base64): `u16 BE length || RSA block || GCM output`.
///
/// # Panics
/// If `label` is not UTF-8 (the `rsa` crate takes OAEP labels as strings). Labels built by
/// [`crate::Scope::label`] from Kubernetes names are always UTF-8.
pub fn hybrid_encrypt<R: RngCore + CryptoRng>(
    rng: &mut R,
    key: &RsaPublicKey,
    plaintext: &[u8],
    label: &[u8],
) -> Vec<u8> {
    let label = std::str::from_utf8(label).expect("rsa-oaep label must be utf-8");
    let mut session_key = Zeroizing::new([0u8; SESSION_KEY_BYTES]);
    rng.fill_bytes(session_key.as_mut());

    let wrapped = key
        .encrypt(rng, oaep(label), session_key.as_ref())
        .expect("rsa-oaep encryption of a 32-byte key cannot fail for a key of 2048 bits or more");
    let wrapped_len =
        u16::try_from(wrapped.len()).expect("rsa block longer than 65535 bytes is impossible");

    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(session_key.as_ref()));
    let nonce = Nonce::from_slice(&[0u8; 12]);
    let sealed = cipher
        .encrypt(
            nonce,
            Payload {
                msg: plaintext,
                aad: &[],
            },
        )
        .expect("aes-gcm encryption only fails for inputs over 64 GiB");

    let mut out = Vec::with_capacity(2 + wrapped.len() + sealed.len());
    out.extend_from_slice(&wrapped_len.to_be_bytes());
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&sealed);
    out
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
    if session_key.len() != SESSION_KEY_BYTES {
        return Err(DecryptError::Corrupt);
    }
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&session_key));
    cipher
        .decrypt(
            Nonce::from_slice(&[0u8; 12]),
            Payload {
                msg: sealed,
                aad: &[],
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| DecryptError::Corrupt)
}
