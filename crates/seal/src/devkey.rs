//! A controller-style key pair for local development and tests.
//!
//! Mirrors what the controller makes at start-up (`GeneratePrivateKeyAndCert` and
//! `SignKeyWithNotBefore` in upstream `pkg/crypto/keys.go`, with the defaults of
//! `cmd/controller`): a fresh RSA key (4096 bits by default there), a self-signed certificate
//! whose subject and issuer common name is the controller's `--my-cn` (empty by default, which
//! gives an empty DN), a random serial below 2^128, key usage *encipher only*, basic constraints
//! `CA:TRUE`, valid from now for 10 × 365 days. The private key is written as PKCS#1
//! (`RSA PRIVATE KEY`), as the controller stores it in its `tls.key`.

use rand::RngCore;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use rsa::RsaPrivateKey;
use zeroize::Zeroizing;

/// Validity of the certificate, as the controller's default `--key-ttl` (87600 h).
pub const DEV_CERT_VALIDITY_DAYS: i64 = 3650;

/// A private key and its self-signed sealing certificate, both PEM.
#[derive(Clone)]
pub struct DevKeyPair {
    /// PKCS#1 PEM (`RSA PRIVATE KEY`).
    pub private_key_pem: Zeroizing<String>,
    /// The certificate (`CERTIFICATE`), what `kubeseal --fetch-cert` would return.
    pub certificate_pem: String,
}

impl std::fmt::Debug for DevKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevKeyPair")
            .field("private_key_pem", &"<redacted>")
            .field("certificate_pem", &self.certificate_pem)
            .finish()
    }
}

/// The key pair could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevKeyError {
    /// Size outside what we can sign with.
    #[error("unsupported rsa key size `{bits}`: use 2048 to 8192 bits, a multiple of 8")]
    BadSize { bits: usize },
    /// The RSA key could not be generated or encoded.
    #[error("rsa key generation failed: {0}")]
    Rsa(String),
    /// Building or signing the certificate failed.
    #[error("certificate signing failed: {0}")]
    Cert(String),
}

impl DevKeyError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            DevKeyError::BadSize { .. } => Some("use 4096, the controller's default".into()),
            _ => None,
        }
    }
}

/// Generates a controller-style key pair with an RSA key of `bits` bits whose certificate is
/// valid from `now_unix` (seconds): the caller's clock, so that a frozen clock mints and judges
/// certificates alike.
pub fn generate_dev_keypair(bits: usize, now_unix: i64) -> Result<DevKeyPair, DevKeyError> {
    if !(2048..=8192).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(DevKeyError::BadSize { bits });
    }
    let mut rng = rand::rngs::OsRng;
    let key = RsaPrivateKey::new(&mut rng, bits).map_err(|e| DevKeyError::Rsa(e.to_string()))?;
    let pkcs8_pem = key
        .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| DevKeyError::Rsa(e.to_string()))?;
    let pkcs1_pem = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| DevKeyError::Rsa(e.to_string()))?;

    let signer = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8_pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| DevKeyError::Cert(e.to_string()))?;

    let now = time::OffsetDateTime::from_unix_timestamp(now_unix)
        .map_err(|e| DevKeyError::Cert(e.to_string()))?;
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    serial[15] |= 1;

    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.not_before = now;
    params.not_after = now + time::Duration::days(DEV_CERT_VALIDITY_DAYS);
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.key_usages = vec![rcgen::KeyUsagePurpose::EncipherOnly];
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params
        .self_signed(&signer)
        .map_err(|e| DevKeyError::Cert(e.to_string()))?;

    Ok(DevKeyPair {
        private_key_pem: Zeroizing::new(pkcs1_pem.to_string()),
        certificate_pem: cert.pem(),
    })
}
