//! Self-signed TLS serving certificates, issued and inspected in-process.
//!
//! Conductor's ingress (and anything else terminating TLS inside the cluster) needs a
//! certificate whose subjectAltName lists every host name it is reached by. Users used to
//! make one with `openssl req -x509 -newkey ... -addext subjectAltName=DNS:...`, which is
//! easy to get wrong: forget `-addext` and modern clients reject the certificate because
//! they ignore the common name; pass a long host as `-subj /CN=...` and openssl refuses it
//! (a common name is limited to 64 characters). This module issues the certificate with
//! every host as a DNS SAN and a short common name, and offers the checks the CLI needs to
//! validate material a user brings (hosts covered, still valid, key matches the
//! certificate).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use rand::RngCore;
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    Ia5String, IsCa, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding, PrivateKeyInfo};
use rsa::sha2::{Digest, Sha256};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;
use zeroize::Zeroizing;

/// Longest common name we put in a certificate. RFC 5280 caps `CommonName` at 64
/// characters (`ub-common-name`) and openssl refuses anything longer, so we stay below it.
pub const MAX_COMMON_NAME_LEN: usize = 63;

/// Common name used when the first host is too long to serve as one. Clients match host
/// names against the subjectAltName extension only, so the common name is cosmetic.
pub const FALLBACK_COMMON_NAME: &str = "dbos-gitops";

const SECONDS_PER_DAY: i64 = 86_400;
const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";

/// The kind of private key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyKind {
    /// ECDSA on NIST P-256, signed with SHA-256. Small, fast, accepted everywhere that matters.
    #[default]
    EcdsaP256,
    /// RSA with a 2048-bit modulus, signed with PKCS#1 v1.5 SHA-256, for old clients.
    Rsa2048,
}

impl KeyKind {
    /// The name accepted by [`FromStr`] and printed by [`fmt::Display`].
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::EcdsaP256 => "ecdsa-p256",
            KeyKind::Rsa2048 => "rsa-2048",
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyKind {
    type Err = TlsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ecdsa-p256" => Ok(KeyKind::EcdsaP256),
            "rsa-2048" => Ok(KeyKind::Rsa2048),
            other => Err(TlsError::UnknownKeyKind {
                value: other.to_string(),
            }),
        }
    }
}

/// A freshly issued certificate and its private key, both PEM encoded.
///
/// The private key is PKCS#8 (`-----BEGIN PRIVATE KEY-----`), wiped from memory on drop,
/// and never shown by `Debug`.
#[derive(Clone)]
pub struct TlsMaterial {
    pub certificate_pem: String,
    pub private_key_pem: Zeroizing<String>,
}

impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("certificate_pem", &self.certificate_pem)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

/// Errors from issuing or inspecting certificates. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("unknown key type `{value}`; expected `ecdsa-p256` or `rsa-2048`")]
    UnknownKeyKind { value: String },
    #[error("no hosts given; a certificate needs at least one DNS name")]
    NoHosts,
    #[error("invalid host name `{host}`: {reason}")]
    InvalidHost { host: String, reason: String },
    #[error("a validity of `0` days gives a certificate that is never valid")]
    ZeroDays,
    #[error("a validity of `{days}` days ends after the year `9999`")]
    ValidityTooLong { days: u32 },
    #[error("the time `{now_unix}` (unix seconds) is not a date a certificate can hold")]
    InvalidTime { now_unix: i64 },
    #[error("could not generate the `{kind}` private key: {message}")]
    KeyGeneration { kind: KeyKind, message: String },
    #[error("could not build the certificate: {message}")]
    Certificate { message: String },
    #[error("no `CERTIFICATE` block found in the PEM input")]
    NoCertificate,
    #[error("the certificate is not valid PEM: {message}")]
    CertificatePem { message: String },
    #[error("could not parse the certificate: {message}")]
    ParseCertificate { message: String },
    #[error("the private key is not valid PEM")]
    PrivateKeyPem,
    #[error("no private key block found in the PEM input")]
    NoPrivateKey,
    #[error("the private key is encrypted (`ENCRYPTED PRIVATE KEY`)")]
    EncryptedPrivateKey,
    #[error("unsupported private key: {reason}")]
    UnsupportedPrivateKey { reason: String },
    #[error("could not parse the `{format}` private key")]
    ParsePrivateKey { format: &'static str },
}

impl TlsError {
    /// A suggestion for the user on how to fix the problem, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            TlsError::UnknownKeyKind { .. } => Some(
                "use `ecdsa-p256` (the default) or `rsa-2048` if an old client needs RSA".into(),
            ),
            TlsError::NoHosts => Some(
                "list every host name clients use to reach the service, e.g. `conductor.example.com`"
                    .into(),
            ),
            TlsError::InvalidHost { .. } => Some(
                "hosts must be DNS names such as `conductor.example.com` or `*.apps.example.com`: \
                 letters, digits and `-` in labels of at most 63 characters, no scheme, port or path"
                    .into(),
            ),
            TlsError::ZeroDays => Some("ask for at least `1` day, e.g. `365`".into()),
            TlsError::ValidityTooLong { .. } => {
                Some("ask for a shorter validity, e.g. `365` or `825` days".into())
            }
            TlsError::InvalidTime { .. } => Some("check the system clock".into()),
            TlsError::KeyGeneration { .. } | TlsError::Certificate { .. } => None,
            TlsError::NoCertificate | TlsError::CertificatePem { .. } => Some(
                "pass the PEM file that starts with `-----BEGIN CERTIFICATE-----`".into(),
            ),
            TlsError::ParseCertificate { .. } => Some(
                "check the file with `openssl x509 -in FILE -noout -text`".into(),
            ),
            TlsError::PrivateKeyPem | TlsError::NoPrivateKey => Some(
                "pass the PEM file that starts with `-----BEGIN PRIVATE KEY-----` \
                 (or `RSA PRIVATE KEY` / `EC PRIVATE KEY`)"
                    .into(),
            ),
            TlsError::EncryptedPrivateKey => Some(
                "decrypt it first: `openssl pkey -in KEY -out KEY.plain` (keep the result out of git)"
                    .into(),
            ),
            TlsError::UnsupportedPrivateKey { .. } => {
                Some("use an ECDSA P-256 or an RSA key".into())
            }
            TlsError::ParsePrivateKey { .. } => {
                Some("check the key with `openssl pkey -in KEY -noout`".into())
            }
        }
    }
}

/// id-ce-basicConstraints, 2.5.29.19.
const BASIC_CONSTRAINTS_OID: &[u64] = &[2, 5, 29, 19];

/// A critical basicConstraints extension saying "not a CA" in DER: an empty SEQUENCE
/// (`30 00`), both fields at their defaults and therefore absent.
fn basic_constraints_not_ca() -> CustomExtension {
    let mut extension = CustomExtension::from_oid_content(BASIC_CONSTRAINTS_OID, vec![0x30, 0x00]);
    extension.set_criticality(true);
    extension
}

/// Issues a self-signed serving certificate for `hosts`, valid from `now_unix` for `days`
/// days.
///
/// * Every host becomes a DNS subjectAltName (lowercased, duplicates dropped, order kept).
///   A leading wildcard label (`*.apps.example.com`) is allowed; IP addresses are not.
/// * The common name is the first host when it has at most [`MAX_COMMON_NAME_LEN`]
///   characters, else [`FALLBACK_COMMON_NAME`].
/// * The serial number is 128 random bits (positive, top bits set so it is always 16 bytes).
/// * basicConstraints `CA:FALSE`; extendedKeyUsage `serverAuth`; keyUsage
///   `digitalSignature`, plus `keyEncipherment` for RSA keys only (RFC 5480 §3 does not
///   allow `keyEncipherment` with an EC key, and Go's own `generate_cert.go` sets it for RSA
///   only).
/// * RSA keys come from the `rsa` crate and are handed to rcgen as PKCS#8; ECDSA keys are
///   generated by rcgen (ring). Either way the returned key is PKCS#8 PEM.
pub fn issue_self_signed(
    hosts: &[String],
    days: u32,
    key: KeyKind,
    now_unix: i64,
) -> Result<TlsMaterial, TlsError> {
    let hosts = normalize_hosts(hosts)?;
    if days == 0 {
        return Err(TlsError::ZeroDays);
    }
    let not_before = OffsetDateTime::from_unix_timestamp(now_unix)
        .map_err(|_| TlsError::InvalidTime { now_unix })?;
    let not_after = i64::from(days)
        .checked_mul(SECONDS_PER_DAY)
        .and_then(|secs| now_unix.checked_add(secs))
        .and_then(|end| OffsetDateTime::from_unix_timestamp(end).ok())
        .ok_or(TlsError::ValidityTooLong { days })?;

    let (key_pair, private_key_pem) = generate_key(key)?;

    let mut params = CertificateParams::default();
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(SerialNumber::from_slice(&random_serial()));
    params.subject_alt_names = hosts
        .iter()
        .map(|host| {
            Ia5String::try_from(host.as_str())
                .map(SanType::DnsName)
                .map_err(|e| TlsError::InvalidHost {
                    host: host.clone(),
                    reason: e.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name_for(&hosts));
    params.distinguished_name = name;
    // basicConstraints, critical, with cA left out: DER (X.690 §11.5) forbids encoding a
    // DEFAULT value, and `cA BOOLEAN DEFAULT FALSE` (RFC 5280 §4.2.1.9) means an end-entity
    // certificate carries an empty SEQUENCE, as openssl writes `CA:FALSE`. rcgen 0.13's
    // `IsCa::ExplicitNoCa` writes the boolean FALSE explicitly (its certificate.rs, the
    // `ExplicitNoCa` arm of the extension writer), which strict parsers such as Python
    // `cryptography` reject (`EncodedDefault`); `IsCa::NoCa` writes no extension at all. So
    // no extension from rcgen, and ours by hand.
    params.is_ca = IsCa::NoCa;
    params.custom_extensions = vec![basic_constraints_not_ca()];
    params.key_usages = match key {
        KeyKind::EcdsaP256 => vec![KeyUsagePurpose::DigitalSignature],
        KeyKind::Rsa2048 => vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ],
    };
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];

    let certificate = params
        .self_signed(&key_pair)
        .map_err(|e| TlsError::Certificate {
            message: e.to_string(),
        })?;
    Ok(TlsMaterial {
        certificate_pem: certificate.pem(),
        private_key_pem,
    })
}

fn generate_key(kind: KeyKind) -> Result<(KeyPair, Zeroizing<String>), TlsError> {
    let failed = |message: String| TlsError::KeyGeneration { kind, message };
    match kind {
        KeyKind::EcdsaP256 => {
            let key_pair = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| failed(e.to_string()))?;
            let pem = Zeroizing::new(key_pair.serialize_pem());
            Ok((key_pair, pem))
        }
        KeyKind::Rsa2048 => {
            let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
                .map_err(|e| failed(e.to_string()))?;
            let pem = private
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| failed(e.to_string()))?;
            let key_pair = KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
                .map_err(|e| failed(e.to_string()))?;
            Ok((key_pair, Zeroizing::new(pem.to_string())))
        }
    }
}

fn random_serial() -> [u8; 16] {
    let mut serial = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut serial);
    // Positive (top bit clear) and never shorter than 16 bytes once DER drops leading zeros.
    serial[0] = (serial[0] & 0x7f) | 0x40;
    serial
}

fn common_name_for(hosts: &[String]) -> String {
    match hosts.first() {
        Some(first) if first.len() <= MAX_COMMON_NAME_LEN => first.clone(),
        _ => FALLBACK_COMMON_NAME.to_string(),
    }
}

/// Validates every host, lowercases it and drops duplicates (keeping the first position).
fn normalize_hosts(hosts: &[String]) -> Result<Vec<String>, TlsError> {
    if hosts.is_empty() {
        return Err(TlsError::NoHosts);
    }
    let mut out: Vec<String> = Vec::with_capacity(hosts.len());
    for host in hosts {
        check_dns_name(host).map_err(|reason| TlsError::InvalidHost {
            host: host.clone(),
            reason,
        })?;
        let lower = host.to_ascii_lowercase();
        if !out.contains(&lower) {
            out.push(lower);
        }
    }
    Ok(out)
}

/// Checks that `host` is a DNS name fit for a subjectAltName (RFC 1123 labels, an optional
/// leading `*` label). Returns the reason when it is not.
pub fn check_dns_name(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("it is empty".into());
    }
    if host.parse::<IpAddr>().is_ok() {
        return Err("it is an IP address; only DNS names are supported".into());
    }
    if let Some(c) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '*')))
    {
        let shown = match c {
            ':' | '/' => {
                format!("it contains `{c}`; give the bare host name without a scheme, port or path")
            }
            c if c.is_whitespace() => "it contains whitespace".to_string(),
            c => format!("it contains `{c}`; only letters, digits, `-` and `.` are allowed"),
        };
        return Err(shown);
    }
    if host.len() > 253 {
        return Err(format!(
            "it is `{}` characters long; DNS names have at most 253",
            host.len()
        ));
    }
    if host.ends_with('.') {
        return Err("it ends with `.`; drop the trailing dot".into());
    }
    let labels: Vec<&str> = host.split('.').collect();
    for (index, label) in labels.iter().enumerate() {
        if label.is_empty() {
            return Err("it has an empty label (a leading dot or two dots in a row)".into());
        }
        if label.contains('*') {
            if *label != "*" || index != 0 {
                return Err("a wildcard `*` is only allowed as the whole leftmost label".into());
            }
            if labels.len() < 3 {
                return Err(
                    "a wildcard needs at least two labels after it, e.g. `*.apps.example.com`"
                        .into(),
                );
            }
            continue;
        }
        if label.len() > 63 {
            return Err(format!(
                "its label `{label}` is `{}` characters long; labels have at most 63",
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("its label `{label}` starts or ends with `-`"));
        }
    }
    Ok(())
}

/// What [`inspect`] learned about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The subject's first common name, or empty when there is none.
    pub common_name: String,
    /// The DNS names of the subjectAltName extension, in certificate order.
    pub dns_names: Vec<String>,
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    /// SHA-256 of the DER certificate as uppercase hex pairs joined by `:`, the format of
    /// `openssl x509 -noout -fingerprint -sha256`.
    pub fingerprint_sha256: String,
}

impl CertificateInfo {
    /// The hosts (as given) that no DNS subjectAltName covers. Comparison ignores case and
    /// a trailing dot; a wildcard SAN `*.example.com` covers exactly one extra label
    /// (`a.example.com`, not `example.com` nor `a.b.example.com`), as in RFC 6125.
    /// The common name is deliberately ignored: clients have stopped reading it.
    pub fn missing_hosts(&self, hosts: &[String]) -> Vec<String> {
        hosts
            .iter()
            .filter(|host| !self.dns_names.iter().any(|san| san_covers(san, host)))
            .cloned()
            .collect()
    }

    /// Whether `now_unix` lies within the validity period (both ends inclusive).
    pub fn is_valid_at(&self, now_unix: i64) -> bool {
        self.not_before_unix <= now_unix && now_unix <= self.not_after_unix
    }
}

fn san_covers(san: &str, host: &str) -> bool {
    let san = san.trim_end_matches('.');
    let host = host.trim_end_matches('.');
    if san.eq_ignore_ascii_case(host) {
        return true;
    }
    match (san.strip_prefix("*."), host.split_once('.')) {
        (Some(san_rest), Some((first, host_rest))) => {
            !first.is_empty() && first != "*" && san_rest.eq_ignore_ascii_case(host_rest)
        }
        _ => false,
    }
}

/// Reads the first certificate of a PEM input (DER is accepted too).
pub fn inspect(certificate_pem: &[u8]) -> Result<CertificateInfo, TlsError> {
    let der = certificate_der(certificate_pem)?;
    let cert = parse_certificate(&der)?;
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_string();
    let dns_names = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some(dns.to_string()),
                _ => None,
            })
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => {
            return Err(TlsError::ParseCertificate {
                message: format!("bad subjectAltName extension: {e}"),
            })
        }
    };
    let validity = cert.validity();
    Ok(CertificateInfo {
        common_name,
        dns_names,
        not_before_unix: validity.not_before.timestamp(),
        not_after_unix: validity.not_after.timestamp(),
        fingerprint_sha256: fingerprint(&der),
    })
}

fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn certificate_der(input: &[u8]) -> Result<Vec<u8>, TlsError> {
    if !looks_like_pem(input) {
        // Raw DER starts with a SEQUENCE tag.
        return if input.first() == Some(&0x30) {
            Ok(input.to_vec())
        } else {
            Err(TlsError::NoCertificate)
        };
    }
    let blocks = pem::parse_many(input).map_err(|e| TlsError::CertificatePem {
        message: e.to_string(),
    })?;
    blocks
        .into_iter()
        .find(|block| block.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .ok_or(TlsError::NoCertificate)
}

fn looks_like_pem(input: &[u8]) -> bool {
    input.windows(11).any(|w| w == b"-----BEGIN ")
}

fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, TlsError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| TlsError::ParseCertificate {
        message: e.to_string(),
    })?;
    if !rest.is_empty() {
        return Err(TlsError::ParseCertificate {
            message: format!("`{}` trailing bytes after the certificate", rest.len()),
        });
    }
    Ok(cert)
}

/// The public half of a private key, in a form comparable with a certificate's key.
enum PublicHalf {
    Rsa { n: BigUint, e: BigUint },
    EcP256 { point: Vec<u8> },
}

/// Whether `private_key_pem` is the private key of the certificate's public key.
///
/// Accepts PKCS#8 (`PRIVATE KEY`) RSA and ECDSA P-256 keys, PKCS#1 (`RSA PRIVATE KEY`) and
/// SEC1 (`EC PRIVATE KEY`, as written by `openssl ecparam -genkey`). A key of another type
/// than the certificate's gives `Ok(false)`; an unreadable key is an error.
pub fn key_matches(certificate_pem: &[u8], private_key_pem: &[u8]) -> Result<bool, TlsError> {
    let der = certificate_der(certificate_pem)?;
    let cert = parse_certificate(&der)?;
    let private = public_half_of_private_key(private_key_pem)?;
    let spki = cert.public_key();
    let parsed = spki.parsed().map_err(|e| TlsError::ParseCertificate {
        message: format!("bad public key: {e}"),
    })?;
    Ok(match (private, parsed) {
        (PublicHalf::Rsa { n, e }, PublicKey::RSA(rsa)) => {
            BigUint::from_bytes_be(rsa.modulus) == n && BigUint::from_bytes_be(rsa.exponent) == e
        }
        (PublicHalf::EcP256 { point }, PublicKey::EC(ec)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            curve.as_deref() == Some(OID_P256) && ec.data() == point.as_slice()
        }
        _ => false,
    })
}

fn public_half_of_private_key(private_key_pem: &[u8]) -> Result<PublicHalf, TlsError> {
    let blocks = pem::parse_many(private_key_pem).map_err(|_| TlsError::PrivateKeyPem)?;
    let block = blocks
        .into_iter()
        .find(|b| b.tag().ends_with("PRIVATE KEY"))
        .ok_or(TlsError::NoPrivateKey)?;
    let tag = block.tag().to_string();
    let der = Zeroizing::new(block.into_contents());
    match tag.as_str() {
        "PRIVATE KEY" => public_half_of_pkcs8(&der),
        "RSA PRIVATE KEY" => {
            let key = RsaPrivateKey::from_pkcs1_der(&der)
                .map_err(|_| TlsError::ParsePrivateKey { format: "PKCS#1" })?;
            rsa_public_half(&key, "PKCS#1")
        }
        "EC PRIVATE KEY" => {
            let pkcs8 = Zeroizing::new(sec1_p256_to_pkcs8(&der));
            ec_p256_public_half(&pkcs8, "SEC1")
        }
        "ENCRYPTED PRIVATE KEY" => Err(TlsError::EncryptedPrivateKey),
        other => Err(TlsError::UnsupportedPrivateKey {
            reason: format!("PEM block `{other}`"),
        }),
    }
}

fn public_half_of_pkcs8(der: &[u8]) -> Result<PublicHalf, TlsError> {
    let info = PrivateKeyInfo::try_from(der)
        .map_err(|_| TlsError::ParsePrivateKey { format: "PKCS#8" })?;
    let algorithm = info.algorithm.oid.to_string();
    match algorithm.as_str() {
        OID_RSA_ENCRYPTION => {
            let key = RsaPrivateKey::from_pkcs8_der(der)
                .map_err(|_| TlsError::ParsePrivateKey { format: "PKCS#8" })?;
            rsa_public_half(&key, "PKCS#8")
        }
        OID_EC_PUBLIC_KEY => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map(|oid| oid.to_string())
                .unwrap_or_default();
            if curve != OID_P256 {
                return Err(TlsError::UnsupportedPrivateKey {
                    reason: format!("EC curve `{curve}`; only P-256 (`{OID_P256}`) is supported"),
                });
            }
            ec_p256_public_half(der, "PKCS#8")
        }
        other => Err(TlsError::UnsupportedPrivateKey {
            reason: format!("key algorithm `{other}`"),
        }),
    }
}

fn rsa_public_half(key: &RsaPrivateKey, format: &'static str) -> Result<PublicHalf, TlsError> {
    // A key whose public numbers match but whose private numbers are inconsistent is not
    // a usable key for the certificate.
    key.validate()
        .map_err(|_| TlsError::ParsePrivateKey { format })?;
    Ok(PublicHalf::Rsa {
        n: key.n().clone(),
        e: key.e().clone(),
    })
}

fn ec_p256_public_half(pkcs8_der: &[u8], format: &'static str) -> Result<PublicHalf, TlsError> {
    // ring (behind rcgen) checks that the embedded public point belongs to the private
    // scalar, so the point it reports is trustworthy.
    let pem = Zeroizing::new(pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        pkcs8_der.to_vec(),
    )));
    let key_pair = KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|_| TlsError::ParsePrivateKey { format })?;
    Ok(PublicHalf::EcP256 {
        point: key_pair.public_key_raw().to_vec(),
    })
}

/// Wraps a SEC1 `ECPrivateKey` in a PKCS#8 `PrivateKeyInfo` for P-256. If the SEC1 key
/// names another curve, ring rejects the result.
fn sec1_p256_to_pkcs8(sec1: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { id-ecPublicKey, prime256v1 }
    const ALGORITHM: [u8; 21] = [
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let mut body = vec![0x02, 0x01, 0x00]; // version 0
    body.extend_from_slice(&ALGORITHM);
    body.extend(der_tlv(0x04, sec1));
    der_tlv(0x30, &body)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_kind_round_trips() {
        for kind in [KeyKind::EcdsaP256, KeyKind::Rsa2048] {
            assert_eq!(kind.to_string().parse::<KeyKind>().unwrap(), kind);
        }
        let err = "rsa-4096".parse::<KeyKind>().unwrap_err();
        assert!(err.to_string().contains("`rsa-4096`"), "{err}");
        assert!(err.hint().is_some());
    }

    #[test]
    fn dns_name_rules() {
        for ok in [
            "localhost",
            "conductor.example.com",
            "*.apps.example.com",
            "a-b.c1.example",
            "CONDUCTOR.Example.COM",
        ] {
            assert_eq!(check_dns_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "10.0.0.1",
            "::1",
            "https://example.com",
            "example.com:443",
            "exa mple.com",
            "under_score.example.com",
            "example.com.",
            ".example.com",
            "a..b",
            "-a.example.com",
            "a-.example.com",
            "a.*.example.com",
            "*a.example.com",
            "*.com",
        ] {
            assert!(check_dns_name(bad).is_err(), "{bad:?} should be refused");
        }
        let long_label = "a".repeat(64);
        assert!(check_dns_name(&format!("{long_label}.example.com")).is_err());
        let long_name = vec!["abcdefghi"; 30].join(".");
        assert!(long_name.len() > 253);
        assert!(check_dns_name(&long_name).is_err());
    }

    #[test]
    fn hosts_are_lowercased_and_deduplicated() {
        let hosts = vec![
            "B.example.com".to_string(),
            "a.example.com".to_string(),
            "b.EXAMPLE.com".to_string(),
        ];
        assert_eq!(
            normalize_hosts(&hosts).unwrap(),
            vec!["b.example.com", "a.example.com"]
        );
    }

    #[test]
    fn common_name_falls_back_for_long_hosts() {
        let short = vec!["short.example.com".to_string()];
        assert_eq!(common_name_for(&short), "short.example.com");
        let exactly = vec![format!("{}.example.com", "a".repeat(63 - 12))];
        assert_eq!(exactly[0].len(), 63);
        assert_eq!(common_name_for(&exactly), exactly[0]);
        let long = vec![format!("{}.example.com", "a".repeat(52))];
        assert_eq!(long[0].len(), 64);
        assert_eq!(common_name_for(&long), FALLBACK_COMMON_NAME);
    }

    #[test]
    fn wildcard_coverage() {
        assert!(san_covers("*.example.com", "a.example.com"));
        assert!(san_covers("*.example.com", "A.Example.com."));
        assert!(!san_covers("*.example.com", "example.com"));
        assert!(!san_covers("*.example.com", "a.b.example.com"));
        assert!(san_covers("example.com", "EXAMPLE.COM"));
        assert!(!san_covers("example.com", "a.example.com"));
    }

    #[test]
    fn serial_is_positive_and_sixteen_bytes() {
        for _ in 0..64 {
            let serial = random_serial();
            assert_eq!(serial[0] & 0xc0, 0x40);
        }
        assert_ne!(random_serial(), random_serial());
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der_tlv(0x04, &[1, 2]), vec![0x04, 0x02, 1, 2]);
        let long = der_tlv(0x04, &[0u8; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = der_tlv(0x04, &[0u8; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn debug_hides_the_private_key() {
        let material = TlsMaterial {
            certificate_pem: "cert".into(),
            private_key_pem: Zeroizing::new("SECRET-KEY-BYTES".into()),
        };
        let shown = format!("{material:?}");
        assert!(!shown.contains("SECRET-KEY-BYTES"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
