//! The HTTP side: one `ureq` agent with our rustls configuration, bearer authentication, JSON
//! bodies, problem documents turned into [`ConductorError::Status`].

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::ConductorError;
use crate::types::{
    AppVersion, CreateTokenBody, Executor, Problem, PutAppBody, SetLatestVersionBody, Token,
    TokenCreated, Workflow, WorkflowSearchBody,
};

/// The largest answer read: lists are paged, so this is far above any real one.
const MAX_BODY: usize = 8 << 20;

#[derive(Debug, Default, Clone)]
pub struct ClientOptions {
    /// PEM of extra CA certificates to trust (e.g. an environment's self-signed `tls.crt`).
    pub ca_pem: Option<Vec<u8>>,
    /// Whole-request timeout; 30 seconds when `None`.
    pub timeout: Option<Duration>,
}

pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// `Bearer <token>`; `None` for a Conductor without OAuth, which needs no token.
    authorization: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Client")
            .field("base", &self.base)
            .finish()
    }
}

impl Client {
    /// `base_url` is Conductor's root (`https://conductor.example.com`, or with a path prefix
    /// such as `https://cloud.dbos.dev/conductor`); `token` the caller's bearer token, if any.
    pub fn new(
        base_url: &str,
        token: Option<&str>,
        options: &ClientOptions,
    ) -> Result<Client, ConductorError> {
        let base = base_url.trim_end_matches('/').to_string();
        let valid = (base.starts_with("https://") || base.starts_with("http://"))
            && !base.contains(['?', '#', ' '])
            && base
                .split("://")
                .nth(1)
                .is_some_and(|rest| !rest.is_empty());
        if !valid {
            return Err(ConductorError::BadUrl { url: base });
        }
        let tls = tls_config(options.ca_pem.as_deref())?;
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(options.timeout.unwrap_or(Duration::from_secs(30))))
            .user_agent(concat!("dbos-gitops/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        let authorization = token.map(|token| {
            let mut header = Zeroizing::new(String::with_capacity(token.len() + 7));
            header.push_str("Bearer ");
            header.push_str(token);
            header
        });
        Ok(Client {
            agent,
            base,
            authorization,
        })
    }

    pub fn register_app(&self, org: &str, app: &str) -> Result<(), ConductorError> {
        let path = format!("/v2/orgs/{}/apps/{}", segment(org), segment(app));
        self.send("registerApp", "PUT", &path, Some(&PutAppBody::default()))
            .map(drop)
    }

    pub fn list_tokens(&self, org: &str) -> Result<Vec<Token>, ConductorError> {
        let path = format!("/v2/orgs/{}/tokens", segment(org));
        self.json("listTokens", "GET", &path, None::<&()>)
    }

    /// The new key, in a zeroizing buffer (its Debug output is redacted).
    pub fn create_token(
        &self,
        org: &str,
        name: &str,
        body: &CreateTokenBody,
    ) -> Result<TokenCreated, ConductorError> {
        let path = format!("/v2/orgs/{}/tokens/{}", segment(org), segment(name));
        self.json("createToken", "POST", &path, Some(body))
    }

    pub fn delete_token(&self, org: &str, name: &str) -> Result<(), ConductorError> {
        let path = format!("/v2/orgs/{}/tokens/{}", segment(org), segment(name));
        self.send("deleteToken", "DELETE", &path, None::<&()>)
            .map(drop)
    }

    pub fn list_versions(&self, org: &str, app: &str) -> Result<Vec<AppVersion>, ConductorError> {
        let path = format!("/v2/orgs/{}/apps/{}/versions", segment(org), segment(app));
        self.json("listAppVersions", "GET", &path, None::<&()>)
    }

    pub fn set_latest_version(
        &self,
        org: &str,
        app: &str,
        version: &str,
    ) -> Result<(), ConductorError> {
        let path = format!(
            "/v2/orgs/{}/apps/{}/versions/latest",
            segment(org),
            segment(app)
        );
        let body = SetLatestVersionBody {
            version_name: version.to_string(),
        };
        self.send("setLatestAppVersion", "PATCH", &path, Some(&body))
            .map(drop)
    }

    pub fn list_executors(&self, org: &str, app: &str) -> Result<Vec<Executor>, ConductorError> {
        let path = format!("/v2/orgs/{}/apps/{}/executors", segment(org), segment(app));
        self.json("listExecutors", "GET", &path, None::<&()>)
    }

    pub fn search_workflows(
        &self,
        org: &str,
        app: &str,
        body: &WorkflowSearchBody,
    ) -> Result<Vec<Workflow>, ConductorError> {
        let path = format!(
            "/v2/orgs/{}/apps/{}/workflows/search",
            segment(org),
            segment(app)
        );
        self.json("searchWorkflows", "POST", &path, Some(body))
    }

    fn json<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ConductorError> {
        let bytes = self.send(operation, method, path, body)?;
        serde_json::from_slice(&bytes).map_err(|error| ConductorError::Decode {
            operation,
            reason: error.to_string(),
        })
    }

    /// One request; a 2xx answer's body (zeroizing), or the problem as an error.
    fn send<B: Serialize>(
        &self,
        operation: &'static str,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<Zeroizing<Vec<u8>>, ConductorError> {
        let transport = |error: ureq::Error| ConductorError::Transport {
            operation,
            reason: error.to_string(),
        };
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Accept", "application/json, application/problem+json");
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization.as_str());
        }
        let response = match body {
            Some(body) => {
                let json = serde_json::to_vec(body).map_err(|error| ConductorError::Decode {
                    operation,
                    reason: error.to_string(),
                })?;
                let request = request
                    .header("Content-Type", "application/json")
                    .body(json)
                    .map_err(|error| ConductorError::BadUrl {
                        url: format!("{url} ({error})"),
                    })?;
                self.agent.run(request).map_err(transport)?
            }
            None => {
                let request = request.body(()).map_err(|error| ConductorError::BadUrl {
                    url: format!("{url} ({error})"),
                })?;
                self.agent.run(request).map_err(transport)?
            }
        };
        let status = response.status().as_u16();
        let mut reader = response.into_body().into_reader();
        let bytes = read_zeroizing(&mut reader).map_err(|error| ConductorError::Transport {
            operation,
            reason: error.to_string(),
        })?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        let problem: Option<Problem> = serde_json::from_slice(&bytes).ok();
        let detail = problem.and_then(|problem| problem.detail.or(problem.title));
        Err(ConductorError::Status {
            operation,
            status,
            detail,
        })
    }
}

/// Reads into one buffer allocated up front, never reallocated (so no uncleared copy is
/// freed), zeroized when dropped.
fn read_zeroizing(reader: &mut dyn std::io::Read) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut buffer = Zeroizing::new(vec![0u8; MAX_BODY.min(1 << 16)]);
    let mut length = 0;
    loop {
        if length == buffer.len() {
            if buffer.len() >= MAX_BODY {
                return Err(std::io::Error::other("answer larger than 8 MiB"));
            }
            let mut larger = Zeroizing::new(vec![0u8; (buffer.len() * 4).min(MAX_BODY)]);
            larger[..length].copy_from_slice(&buffer[..length]);
            buffer = larger;
        }
        match reader.read(&mut buffer[length..]) {
            Ok(0) => break,
            Ok(read) => length += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    buffer.truncate(length);
    Ok(buffer)
}

/// Path parameters: the spec's names are `[a-z0-9-_]`, so anything else is percent-encoded
/// rather than allowed to change the path.
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// rustls with AWS-LC; the platform's roots plus `ca_pem`'s certificates.
fn tls_config(ca_pem: Option<&[u8]>) -> Result<ureq::tls::TlsConfig, ConductorError> {
    let mut roots: Vec<ureq::tls::Certificate<'static>> = Vec::new();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        roots.push(ureq::tls::Certificate::from_der(cert.as_ref()).to_owned());
    }
    if let Some(pem) = ca_pem {
        let mut found = 0;
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => {
                    roots.push(cert);
                    found += 1;
                }
                Ok(_) => {}
                Err(error) => {
                    return Err(ConductorError::BadCa {
                        reason: error.to_string(),
                    })
                }
            }
        }
        if found == 0 {
            return Err(ConductorError::BadCa {
                reason: "no CERTIFICATE block".into(),
            });
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::new_with_certs(&roots))
        .unversioned_rustls_crypto_provider(provider)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_escape_their_place() {
        assert_eq!(segment("my-app_1"), "my-app_1");
        assert_eq!(segment("../x?y"), "..%2Fx%3Fy");
    }

    #[test]
    fn bad_urls_and_cas_are_refused() {
        let options = ClientOptions::default();
        for url in [
            "conductor.example.com",
            "ftp://x",
            "https://",
            "https://x/?a",
        ] {
            assert!(
                matches!(
                    Client::new(url, Some("t"), &options),
                    Err(ConductorError::BadUrl { .. })
                ),
                "{url}"
            );
        }
        let options = ClientOptions {
            ca_pem: Some(b"not pem".to_vec()),
            timeout: None,
        };
        assert!(matches!(
            Client::new("https://x", None, &options),
            Err(ConductorError::BadCa { .. })
        ));
    }

    #[test]
    fn reading_grows_without_losing_bytes_and_stops_at_the_limit() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(
            read_zeroizing(&mut big.as_slice()).unwrap().as_slice(),
            big.as_slice()
        );
        assert!(read_zeroizing(&mut std::io::repeat(b'x')).is_err());
    }
}
