//! TLS to PostgreSQL with libpq's meaning of `sslmode` and `sslrootcert`, on rustls with the
//! aws-lc-rs provider (the crypto the workspace already links).
//!
//! What libpq does, and so what this module does (libpq's "SSL Support" and connection
//! parameter docs, PostgreSQL 16/17):
//! - `sslmode` is `disable`, `allow`, `prefer` (the default), `require`, `verify-ca` or
//!   `verify-full`; the URL's value wins over `PGSSLMODE`, and `sslrootcert` over `PGSSLROOTCERT`.
//! - When a root certificate file is present (named, or libpq's default
//!   `~/.postgresql/root.crt`), `allow`, `prefer` and `require` check the server's chain against
//!   it, like `verify-ca`; without one they encrypt but accept any certificate.
//! - `verify-ca` checks the chain only; `verify-full` also checks that the host name (or IP
//!   address) of the URL is one the certificate names. Both need root certificates.
//! - `sslrootcert=system` loads the platform's trusted roots, makes `verify-full` the default,
//!   and refuses every weaker mode (a public CA signs anybody's host name).
//!
//! One deliberate difference: libpq quietly skips verification when a *named* `sslrootcert` file
//! does not exist in the weaker modes; here a file you name must be readable.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// The mode named `value` (libpq spells them in lowercase only).
    pub fn parse(value: &str) -> Option<SslMode> {
        Some(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn needs_roots(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file named by `sslrootcert` or `PGSSLROOTCERT`.
    File(PathBuf),
    /// libpq's default `~/.postgresql/root.crt`, used because it exists.
    DefaultFile(PathBuf),
    /// `sslrootcert=system`: the platform's trusted roots.
    System,
}

impl fmt::Display for RootCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootCert::File(path) => write!(f, "`{}`", path.display()),
            RootCert::DefaultFile(path) => {
                write!(f, "`{}` (libpq's default root file)", path.display())
            }
            RootCert::System => f.write_str("the system roots"),
        }
    }
}

/// Where a setting was read from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Url,
    Env,
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Url => "the url",
            Origin::Env => "PGSSLMODE",
            Origin::Default => "the default",
        })
    }
}

/// The resolved TLS settings of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub mode_origin: Origin,
    pub root: Option<RootCert>,
}

/// Why TLS to the server could not be set up or did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("invalid sslmode `{value}` (from {origin})")]
    BadMode { value: String, origin: Origin },

    #[error("weak `sslmode={mode}` may not be used with `sslrootcert=system`")]
    WeakModeWithSystem { mode: SslMode },

    #[error("`sslmode={mode}` needs root certificates, and there is no `sslrootcert` (nor `{}`)", .default.display())]
    NoRootCert { mode: SslMode, default: PathBuf },

    #[error("cannot read the root certificate file `{}`: {reason}", .path.display())]
    RootCertUnreadable { path: PathBuf, reason: String },

    #[error("the root certificate file `{}` holds no usable certificate: {reason}", .path.display())]
    RootCertInvalid { path: PathBuf, reason: String },

    #[error("cannot load the system roots: {reason}")]
    SystemRootsUnavailable { reason: String },

    #[error("the server at `{target}` does not offer TLS, and `sslmode={mode}` requires it")]
    NotOffered { target: String, mode: SslMode },

    #[error(
        "the certificate of the server at `{target}` does not verify against {roots}: {reason}"
    )]
    ChainNotVerified {
        target: String,
        roots: RootCert,
        reason: String,
    },

    #[error("the certificate of the server at `{target}` is not valid for host `{host}`{}", names(.presented))]
    HostMismatch {
        target: String,
        host: String,
        presented: Vec<String>,
    },

    #[error("the server at `{target}` accepts only encrypted connections (pg_hba.conf has no entry for this client with no encryption), and `sslmode={mode}` {}", if *.mode == SslMode::Disable { "turns TLS off" } else { "did not get one" })]
    RequiredByServer { target: String, mode: SslMode },

    #[error("tls handshake with the server at `{target}` failed: {reason}")]
    Handshake { target: String, reason: String },
}

fn names(presented: &[String]) -> String {
    if presented.is_empty() {
        return String::new();
    }
    let list: Vec<String> = presented.iter().map(|n| format!("`{n}`")).collect();
    format!(" (it names {})", list.join(", "))
}

impl TlsError {
    /// What the operator can do about it.
    pub fn hint(&self) -> String {
        match self {
            TlsError::BadMode { .. } => {
                "set `sslmode` to one of `disable`, `allow`, `prefer`, `require`, \
                `verify-ca`, `verify-full` (managed PostgreSQL: `require` or `verify-full`)"
                    .into()
            }
            TlsError::WeakModeWithSystem { .. } => "any public CA signs certificates for \
                anybody's host name, so the system roots are only safe with \
                `sslmode=verify-full` (or drop `sslmode` from the url)"
                .into(),
            TlsError::NoRootCert { .. } => "add `sslrootcert=/path/to/ca.pem` (the provider's \
                CA bundle, e.g. AWS RDS's `global-bundle.pem`) or `sslrootcert=system`, or use \
                `sslmode=require` to encrypt without checking the certificate"
                .into(),
            TlsError::RootCertUnreadable { .. } | TlsError::RootCertInvalid { .. } => {
                "`sslrootcert` must name a readable file of PEM certificates (`-----BEGIN \
                 CERTIFICATE-----`), such as the CA bundle your provider publishes"
                    .into()
            }
            TlsError::SystemRootsUnavailable { .. } => "install the system CA bundle (Debian: \
                `ca-certificates`) or name a CA file with `sslrootcert=/path/to/ca.pem`"
                .into(),
            TlsError::NotOffered { .. } => "the server has `ssl = off` (or a proxy in between \
                strips it): enable TLS on the server, or use `sslmode=prefer` (or `disable`) \
                if an unencrypted connection is acceptable here"
                .into(),
            TlsError::ChainNotVerified {
                roots: RootCert::System,
                ..
            } => "the server's certificate is not from a CA the system trusts (managed \
                PostgreSQL usually uses the provider's own CA): point `sslrootcert` at the \
                provider's bundle, e.g. AWS RDS's `global-bundle.pem`"
                .into(),
            TlsError::ChainNotVerified { .. } => "point `sslrootcert` at the CA that signed \
                the server's certificate (your provider's bundle, e.g. AWS RDS's \
                `global-bundle.pem`), or `sslrootcert=system` for a public CA"
                .into(),
            TlsError::HostMismatch { .. } => "connect by a host name the certificate names \
                (a `kubectl port-forward` to 127.0.0.1 needs `sslmode=verify-ca`, which checks \
                the chain but not the name)"
                .into(),
            TlsError::RequiredByServer { .. } => "use `sslmode=require` (or `verify-full` \
                with `sslrootcert`) in the url"
                .into(),
            TlsError::Handshake { .. } => "check that the port is PostgreSQL's and that the \
                server's TLS settings (`ssl_min_protocol_version`, ciphers) allow TLS 1.2 or 1.3"
                .into(),
        }
    }
}

/// Resolves the settings: the URL's values, else `PGSSLMODE` / `PGSSLROOTCERT` from `env`,
/// else libpq's defaults (`prefer`; `~/.postgresql/root.crt` under `home` when it exists).
pub fn resolve(
    url_mode: Option<&str>,
    url_root: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<TlsSettings, TlsError> {
    let from_env = |key: &str| env(key).filter(|v| !v.is_empty());
    let root_raw = url_root
        .map(str::to_owned)
        .or_else(|| from_env("PGSSLROOTCERT"));
    let default_root = home.map(|h| h.join(".postgresql").join("root.crt"));
    let root = match root_raw.as_deref() {
        Some("system") => Some(RootCert::System),
        Some(path) => Some(RootCert::File(PathBuf::from(path))),
        None => default_root
            .clone()
            .filter(|path| path.is_file())
            .map(RootCert::DefaultFile),
    };
    let (mode_raw, mode_origin) = match (url_mode, from_env("PGSSLMODE")) {
        (Some(mode), _) => (Some(mode.to_owned()), Origin::Url),
        (None, Some(mode)) => (Some(mode), Origin::Env),
        (None, None) => (None, Origin::Default),
    };
    let mode = match mode_raw {
        Some(value) => SslMode::parse(&value).ok_or(TlsError::BadMode {
            value,
            origin: mode_origin,
        })?,
        None if root == Some(RootCert::System) => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    if root == Some(RootCert::System) && mode != SslMode::VerifyFull {
        return Err(TlsError::WeakModeWithSystem { mode });
    }
    if mode.needs_roots() && root.is_none() {
        return Err(TlsError::NoRootCert {
            mode,
            default: default_root.unwrap_or_else(|| PathBuf::from("~/.postgresql/root.crt")),
        });
    }
    Ok(TlsSettings {
        mode,
        mode_origin,
        root,
    })
}

/// The rustls client configuration for `settings`: roots loaded, and a verifier that checks
/// exactly what the mode asks for. `None` for `sslmode=disable`.
pub fn client_config(settings: &TlsSettings) -> Result<Option<rustls::ClientConfig>, TlsError> {
    if settings.mode == SslMode::Disable {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ServerCertVerifier> = match &settings.root {
        None => Arc::new(EncryptionOnly(algorithms)),
        Some(root) => {
            let roots = Arc::new(load_roots(root)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| invalid_roots(root, e.to_string()))?;
            if settings.mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(ChainOnly(webpki))
            }
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Handshake {
            target: String::new(),
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(config))
}

fn invalid_roots(root: &RootCert, reason: String) -> TlsError {
    match root {
        RootCert::File(path) | RootCert::DefaultFile(path) => TlsError::RootCertInvalid {
            path: path.clone(),
            reason,
        },
        RootCert::System => TlsError::SystemRootsUnavailable { reason },
    }
}

/// Reads the trusted roots: every certificate of a PEM file, or the platform's store.
fn load_roots(root: &RootCert) -> Result<RootCertStore, TlsError> {
    let certs: Vec<CertificateDer<'static>> = match root {
        RootCert::File(path) | RootCert::DefaultFile(path) => {
            let pem = std::fs::read(path).map_err(|e| TlsError::RootCertUnreadable {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<_, _>>()
                .map_err(|e| invalid_roots(root, e.to_string()))?
        }
        RootCert::System => {
            let loaded = rustls_native_certs::load_native_certs();
            if loaded.certs.is_empty() {
                let reason = match loaded.errors.first() {
                    Some(error) => error.to_string(),
                    None => "the platform store is empty".into(),
                };
                return Err(TlsError::SystemRootsUnavailable { reason });
            }
            loaded.certs
        }
    };
    if certs.is_empty() {
        return Err(invalid_roots(root, "no `CERTIFICATE` block found".into()));
    }
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(invalid_roots(
            root,
            "none of its certificates could be parsed".into(),
        ));
    }
    Ok(store)
}

/// `require` (and `prefer`/`allow`) without roots: the connection is encrypted, and the
/// handshake signatures are checked against the presented key, but any certificate is accepted,
/// as libpq does without a root file.
#[derive(Debug)]
struct EncryptionOnly(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for EncryptionOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca` (and the weaker modes with a root file): the chain must lead to a trusted root,
/// the host name is not checked. rustls's verifier checks the chain before the name
/// (`WebPkiServerVerifier::verify_server_cert`), so a name error means the chain passed.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A rustls certificate error, said plainly: is it the host name, and which names were there.
pub(crate) enum CertProblem {
    Name {
        host: String,
        presented: Vec<String>,
    },
    Chain(String),
    Other(String),
}

/// Classifies a rustls error from the handshake.
pub(crate) fn cert_problem(error: &rustls::Error) -> CertProblem {
    match error {
        rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected,
            presented,
        }) => CertProblem::Name {
            host: server_name(expected),
            presented: presented.iter().map(|name| plain_name(name)).collect(),
        },
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName) => CertProblem::Name {
            host: String::new(),
            presented: Vec::new(),
        },
        rustls::Error::InvalidCertificate(other) => CertProblem::Chain(describe(other)),
        other => CertProblem::Other(other.to_string()),
    }
}

/// rustls reports the certificate's names in their debug form (`DnsName("db.example")`,
/// `IpAddress(10.0.0.1)`); this keeps only the name.
fn plain_name(name: &str) -> String {
    let inner = match name.split_once('(') {
        Some((_, rest)) => rest.strip_suffix(')').unwrap_or(rest),
        None => name,
    };
    inner.trim_matches('"').to_owned()
}

fn server_name(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

fn describe(error: &CertificateError) -> String {
    match error {
        CertificateError::UnknownIssuer => {
            "it is not signed by any of these roots (unknown issuer)".into()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            format!("it has expired ({error:?})")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            format!("it is not valid yet ({error:?})")
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn certificate_names_are_shown_plainly() {
        assert_eq!(plain_name("DnsName(\"localhost\")"), "localhost");
        assert_eq!(plain_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(plain_name("db.example"), "db.example");
    }

    #[test]
    fn defaults_to_prefer_without_roots() {
        let s = resolve(None, None, &no_env, None).unwrap();
        assert_eq!(s.mode, SslMode::Prefer);
        assert_eq!(s.mode_origin, Origin::Default);
        assert_eq!(s.root, None);
    }

    #[test]
    fn every_libpq_mode_parses_and_nothing_else() {
        for m in [
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ] {
            assert_eq!(SslMode::parse(m).unwrap().as_str(), m);
        }
        for bad in ["Require", "true", "", "verify_full"] {
            assert!(SslMode::parse(bad).is_none(), "{bad}");
        }
        let err = resolve(Some("requir"), None, &no_env, None).unwrap_err();
        assert!(err.to_string().contains("`requir` (from the url)"), "{err}");
    }

    #[test]
    fn url_values_win_over_the_environment() {
        let env = env_of(&[("PGSSLMODE", "disable"), ("PGSSLROOTCERT", "/env/ca.pem")]);
        let s = resolve(Some("verify-full"), Some("/url/ca.pem"), &env, None).unwrap();
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.mode_origin, Origin::Url);
        assert_eq!(s.root, Some(RootCert::File("/url/ca.pem".into())));
        let s = resolve(None, None, &env, None).unwrap();
        assert_eq!(s.mode, SslMode::Disable);
        assert_eq!(s.mode_origin, Origin::Env);
        assert_eq!(s.root, Some(RootCert::File("/env/ca.pem".into())));
        // An empty variable counts as unset, as in libpq.
        let env = env_of(&[("PGSSLMODE", "")]);
        assert_eq!(
            resolve(None, None, &env, None).unwrap().mode,
            SslMode::Prefer
        );
        let env = env_of(&[("PGSSLMODE", "bogus")]);
        let err = resolve(None, None, &env, None).unwrap_err();
        assert!(err.to_string().contains("from PGSSLMODE"), "{err}");
    }

    #[test]
    fn system_roots_default_to_verify_full_and_refuse_weaker_modes() {
        let s = resolve(None, Some("system"), &no_env, None).unwrap();
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.root, Some(RootCert::System));
        for weak in ["disable", "allow", "prefer", "require", "verify-ca"] {
            let err = resolve(Some(weak), Some("system"), &no_env, None).unwrap_err();
            assert!(
                matches!(err, TlsError::WeakModeWithSystem { .. }),
                "{weak}: {err}"
            );
        }
        let env = env_of(&[("PGSSLROOTCERT", "system")]);
        assert_eq!(
            resolve(None, None, &env, None).unwrap().mode,
            SslMode::VerifyFull
        );
    }

    #[test]
    fn verify_modes_need_roots_and_the_default_root_file_counts() {
        let home = tempfile::tempdir().unwrap();
        for mode in ["verify-ca", "verify-full"] {
            let err = resolve(Some(mode), None, &no_env, Some(home.path())).unwrap_err();
            assert!(matches!(err, TlsError::NoRootCert { .. }), "{err}");
            assert!(err.to_string().contains("root.crt"), "{err}");
        }
        let dir = home.path().join(".postgresql");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("root.crt"), "x").unwrap();
        let s = resolve(Some("require"), None, &no_env, Some(home.path())).unwrap();
        assert_eq!(s.root, Some(RootCert::DefaultFile(dir.join("root.crt"))));
        assert!(resolve(Some("verify-ca"), None, &no_env, Some(home.path())).is_ok());
    }

    #[test]
    fn unreadable_and_invalid_root_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsSettings {
            mode: SslMode::Require,
            mode_origin: Origin::Url,
            root: Some(RootCert::File(dir.path().join("nope.pem"))),
        };
        let err = client_config(&missing).unwrap_err();
        assert!(matches!(err, TlsError::RootCertUnreadable { .. }), "{err}");
        assert!(err.to_string().contains("nope.pem"), "{err}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let bad = TlsSettings {
            root: Some(RootCert::File(junk)),
            ..missing
        };
        let err = client_config(&bad).unwrap_err();
        assert!(matches!(err, TlsError::RootCertInvalid { .. }), "{err}");
        assert!(err.to_string().contains("junk.pem"), "{err}");
    }

    #[test]
    fn disable_builds_no_tls_config_and_require_builds_one() {
        let mut s = resolve(Some("disable"), None, &no_env, None).unwrap();
        assert!(client_config(&s).unwrap().is_none());
        s.mode = SslMode::Require;
        assert!(client_config(&s).unwrap().is_some());
    }
}
