//! Loading and checking the controller's public sealing certificate.
//!
//! `kubeseal` (`ParseKey` in upstream `pkg/kubeseal/kubeseal.go`) takes the first certificate in
//! a PEM file, insists that its public key is RSA and refuses to seal with a certificate whose
//! `notAfter` has passed. We do the same and are stricter in three ways that only ever turn a
//! confusing failure into a clear one: a certificate that is not yet valid is refused, an RSA key
//! under 2048 bits is refused, and the common wrong inputs (a private key, some other PEM block,
//! garbage) each get their own error with a hint on fetching the right file.

use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::crypto::SealingKey;

/// Smallest RSA modulus we seal for.
pub const MIN_RSA_BITS: usize = 2048;

const FETCH_HINT: &str = "fetch the controller's certificate with `kubeseal --fetch-cert \
     --controller-namespace kube-system --controller-name sealed-secrets-controller > pub-cert.pem` \
     (or copy `tls.crt` from the controller's key secret) and pass that file";

/// The sealing certificate could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// The file is empty or only whitespace.
    #[error("the certificate file is empty")]
    Empty,
    /// The bytes hold no PEM block at all (or a malformed one).
    #[error("the certificate file is not pem: {detail}")]
    NotPem { detail: String },
    /// A private key was given where the public certificate was expected.
    #[error("expected a certificate but found a private key (`{tag}` pem block)")]
    PrivateKeyNotCert { tag: String },
    /// PEM, but no `CERTIFICATE` block.
    #[error("no `CERTIFICATE` pem block found (found: {found})")]
    NoCertificateBlock { found: String },
    /// The `CERTIFICATE` block is not a valid X.509 certificate.
    #[error("cannot parse the x.509 certificate: {detail}")]
    BadX509 { detail: String },
    /// The certificate's key is not RSA.
    #[error(
        "the certificate holds a `{algorithm}` public key, but sealed secrets need an rsa key"
    )]
    NotRsa { algorithm: String },
    /// The RSA key is too small to be safe.
    #[error("the certificate's rsa key has {bits} bits, fewer than the minimum of {min}")]
    KeyTooSmall { bits: usize, min: usize },
    /// `notAfter` is in the past.
    #[error("the certificate expired at `{not_after}`")]
    Expired { not_after: String },
    /// `notBefore` is in the future.
    #[error("the certificate is not valid before `{not_before}`")]
    NotYetValid { not_before: String },
}

impl CertError {
    /// How to get a usable certificate.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            CertError::PrivateKeyNotCert { .. } => {
                format!("pass the public certificate, never the private key: {FETCH_HINT}")
            }
            CertError::NotRsa { .. } | CertError::KeyTooSmall { .. } => {
                format!("this is not a sealed-secrets controller certificate: {FETCH_HINT}")
            }
            CertError::Expired { .. } => format!(
                "the controller renews its key every 30 days and keeps old ones; fetch the \
                 current certificate: {FETCH_HINT}"
            ),
            CertError::NotYetValid { .. } => {
                format!("check this machine's clock, or the controller's; then {FETCH_HINT}")
            }
            CertError::Empty
            | CertError::NotPem { .. }
            | CertError::NoCertificateBlock { .. }
            | CertError::BadX509 { .. } => FETCH_HINT.to_string(),
        })
    }
}

/// The controller's public certificate, checked and ready to seal with.
#[derive(Clone)]
pub struct SealingCert {
    der: Vec<u8>,
    key: RsaPublicKey,
    sealing: SealingKey,
    not_before: i64,
    not_after: i64,
    subject: String,
}

impl std::fmt::Debug for SealingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingCert")
            .field("fingerprint", &self.fingerprint())
            .field("key_bits", &self.key_bits())
            .field("subject", &self.subject)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish()
    }
}

fn format_unix(t: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(dt) => dt
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| t.to_string()),
        Err(_) => t.to_string(),
    }
}

fn algorithm_name(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> String {
    let oid = spki.algorithm.algorithm.to_id_string();
    match oid.as_str() {
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| match o.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => "P-256".to_string(),
                    "1.3.132.0.34" => "P-384".to_string(),
                    "1.3.132.0.35" => "P-521".to_string(),
                    other => other.to_string(),
                });
            match curve {
                Some(c) => format!("ecdsa {c}"),
                None => "ecdsa".to_string(),
            }
        }
        "1.3.101.112" => "ed25519".into(),
        "1.3.101.113" => "ed448".into(),
        "1.2.840.10040.4.1" => "dsa".into(),
        "1.2.840.113549.1.1.10" => "rsassa-pss".into(),
        other => format!("oid {other}"),
    }
}

impl SealingCert {
    /// Loads the first certificate in `pem` and checks it against the current time.
    pub fn from_pem(pem: &[u8]) -> Result<SealingCert, CertError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Self::from_pem_at(pem, now)
    }

    /// Loads the first certificate in `pem` and checks it against `now_unix` (seconds).
    pub fn from_pem_at(pem: &[u8], now_unix: i64) -> Result<SealingCert, CertError> {
        if pem.iter().all(u8::is_ascii_whitespace) {
            return Err(CertError::Empty);
        }
        let blocks = pem::parse_many(pem).map_err(|e| CertError::NotPem {
            detail: e.to_string(),
        })?;
        if blocks.is_empty() {
            return Err(CertError::NotPem {
                detail: "no `-----BEGIN ...-----` block".into(),
            });
        }
        let Some(block) = blocks.iter().find(|b| b.tag() == "CERTIFICATE") else {
            if let Some(k) = blocks.iter().find(|b| b.tag().contains("PRIVATE KEY")) {
                return Err(CertError::PrivateKeyNotCert {
                    tag: k.tag().to_string(),
                });
            }
            let found: Vec<String> = blocks.iter().map(|b| format!("`{}`", b.tag())).collect();
            return Err(CertError::NoCertificateBlock {
                found: found.join(", "),
            });
        };
        let der = block.contents().to_vec();
        let (rest, cert) = X509Certificate::from_der(&der).map_err(|e| CertError::BadX509 {
            detail: e.to_string(),
        })?;
        if !rest.is_empty() {
            return Err(CertError::BadX509 {
                detail: format!("{} trailing bytes after the certificate", rest.len()),
            });
        }
        let spki = cert.public_key();
        if spki.algorithm.algorithm.to_id_string() != "1.2.840.113549.1.1.1" {
            return Err(CertError::NotRsa {
                algorithm: algorithm_name(spki),
            });
        }
        let key = RsaPublicKey::from_public_key_der(spki.raw).map_err(|e| CertError::BadX509 {
            detail: format!("rsa public key: {e}"),
        })?;
        let bits = key.n().bits();
        if bits < MIN_RSA_BITS {
            return Err(CertError::KeyTooSmall {
                bits,
                min: MIN_RSA_BITS,
            });
        }
        // Prepared once here, not per value: AWS-LC's copy of the key and its Montgomery
        // context are made once and shared by every value sealed.
        let sealing = SealingKey::from_rsa(&key).map_err(|e| CertError::BadX509 {
            detail: e.to_string(),
        })?;
        let not_before = cert.validity().not_before.timestamp();
        let not_after = cert.validity().not_after.timestamp();
        if now_unix > not_after {
            return Err(CertError::Expired {
                not_after: format_unix(not_after),
            });
        }
        if now_unix < not_before {
            return Err(CertError::NotYetValid {
                not_before: format_unix(not_before),
            });
        }
        let subject = cert.subject().to_string();
        Ok(SealingCert {
            der,
            key,
            sealing,
            not_before,
            not_after,
            subject,
        })
    }

    /// Lowercase hex SHA-256 of the certificate's DER encoding.
    pub fn fingerprint(&self) -> String {
        Sha256::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Size of the RSA modulus in bits.
    pub fn key_bits(&self) -> usize {
        self.key.n().bits()
    }

    /// `notBefore` as Unix seconds.
    pub fn not_before_unix(&self) -> i64 {
        self.not_before
    }

    /// `notAfter` as Unix seconds.
    pub fn not_after_unix(&self) -> i64 {
        self.not_after
    }

    /// The subject DN as text (empty for the controller's default certificate, whose CN is empty).
    pub fn subject(&self) -> String {
        self.subject.clone()
    }

    /// The certificate's RSA public key (as the `rsa` crate sees it: to compare with private
    /// keys; sealing uses [`SealingCert::sealing_key`]).
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.key
    }

    /// The key to seal with, prepared once per certificate for [`crate::crypto::hybrid_encrypt`].
    pub fn sealing_key(&self) -> &SealingKey {
        &self.sealing
    }

    /// The certificate's DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
}
