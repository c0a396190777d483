//! The ingress: the hosts (or path prefixes) each Service is served on, the domain and
//! cluster they hang off, and where the TLS certificate comes from (cert-manager's issuer).

use super::checks::env_error;
use crate::declare::{
    ConductorConnection, EnvName, EnvSpec, IngressSpec, Oidc, Routing, TlsSource,
};
use crate::error::ResolveError;

/// The path prefix of Conductor's WebSocket: the SDKs dial `<conductor-url>/websocket/<app>/<key>`
/// (dbos-transact-py `dbos/_conductor/conductor.py`, -ts `src/conductor/conductor.ts`, -golang
/// `dbos/conductor.go`), so the API key is a path segment.
pub const CONDUCTOR_WEBSOCKET_PREFIX: &str = "/websocket";
/// The same with path routing, as an ingress-nginx regex rewritten by `/$2` like the guide's
/// rules: `/conductor-api/websocket/<app>/<key>` reaches Conductor as `/websocket/<app>/<key>`;
/// `(/|$)` keeps it element-wise (`/conductor-api/websocketx` is not the WebSocket).
pub const CONDUCTOR_WEBSOCKET_REGEX: &str = "/conductor-api/()(websocket(/|$).*)";

/// One host the ingress serves and the Service behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub host: String,
    pub service: &'static str,
    pub port: u16,
    /// Path-routing regex (the guide's rewrite rules); `None` with host routing.
    pub path: Option<&'static str>,
}

/// The domain every host hangs off is a lowercase DNS name.
pub(super) fn check_destination(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    crate::declare::names::check_domain(&spec.domain)
        .map_err(|message| env_error(name, "env.yaml", message).field("domain"))?;
    // The IngressClass is an object name: a space or a newline would reach the API server.
    crate::declare::names::check_object_name(&spec.ingress.class).map_err(|message| {
        env_error(name, "env.yaml", format!("ingress.class {message}")).field("ingress.class")
    })?;
    Ok(())
}

/// The Argo CD destination cluster is an `https://` API server URL.
pub(super) fn check_cluster(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    if !spec.cluster.starts_with("https://") {
        return Err(env_error(
            name,
            "env.yaml",
            format!(
                "cluster `{}` must be an https:// API server URL",
                spec.cluster
            ),
        )
        .field("cluster"));
    }
    Ok(())
}

/// The cert-manager ClusterIssuer, required with `tls: cert-manager` and refused without it.
pub(super) fn cluster_issuer(
    name: &EnvName,
    ingress: &IngressSpec,
) -> Result<Option<String>, ResolveError> {
    match (ingress.tls, &ingress.cluster_issuer) {
        (TlsSource::CertManager, Some(issuer)) => {
            crate::declare::names::check_secret_name(issuer).map_err(|_| {
                env_error(
                    name,
                    "env.yaml",
                    format!("ingress.cluster-issuer `{issuer}` is not a Kubernetes name"),
                )
                .field("ingress.cluster-issuer")
            })?;
            Ok(Some(issuer.clone()))
        }
        (TlsSource::CertManager, None) => Err(env_error(
            name,
            "env.yaml",
            "ingress.tls is `cert-manager` but no ingress.cluster-issuer is set".to_string(),
        )
        .field("ingress.cluster-issuer")
        .hint("name the ClusterIssuer: `cluster-issuer: letsencrypt-prod`")),
        (TlsSource::SelfSigned, Some(_)) => Err(env_error(
            name,
            "env.yaml",
            "ingress.cluster-issuer is set but ingress.tls is `self-signed`".to_string(),
        )
        .field("ingress.cluster-issuer")
        .hint("set `tls: cert-manager` to use the issuer, or remove `cluster-issuer`")),
        (TlsSource::SelfSigned, None) => Ok(None),
    }
}

/// One routed Service: its name, port, subdomain with host routing, regex with path routing.
struct Route {
    service: &'static str,
    port: u16,
    subdomain: &'static str,
    path: &'static str,
}

const CONSOLE: Route = Route {
    service: "console",
    port: 80,
    subdomain: "console",
    path: "/()(.*)",
};
const CONDUCTOR: Route = Route {
    service: "conductor",
    port: 8090,
    subdomain: "conductor",
    path: "/conductor-api(/|$)(.*)",
};
const APP: Route = Route {
    service: "dbos-app",
    port: 8080,
    subdomain: "app",
    path: "/app(/|$)(.*)",
};
const DEX: Route = Route {
    service: "dex",
    port: 5556,
    subdomain: "dex",
    path: "/()(dex/.*)",
};

pub(super) fn hosts(spec: &EnvSpec, has_app: bool) -> Vec<Host> {
    let dex = spec.oidc == Oidc::Dex;
    // Without OAuth Conductor authenticates nothing (hosting-conductor-with-kubernetes.md):
    // route it publicly only when the apps reach it from outside. The Console proxies to it
    // in-cluster either way.
    let public_conductor = dex || spec.app.conductor == ConductorConnection::External;
    let wanted = |route: &&Route| match route.service {
        "dbos-app" => has_app,
        "conductor" => public_conductor,
        "dex" => dex,
        _ => true,
    };
    // The guide's path rules: a regex per prefix, rewritten to `/$2`; Dex keeps its `/dex`
    // prefix and must come before the catch-all Console rule.
    let order = match spec.routing {
        Routing::Host => [CONSOLE, CONDUCTOR, APP, DEX],
        Routing::Path => [CONDUCTOR, APP, DEX, CONSOLE],
    };
    order
        .iter()
        .filter(wanted)
        .map(|route| match spec.routing {
            Routing::Host => Host {
                host: format!("{}.{}", route.subdomain, spec.domain),
                service: route.service,
                port: route.port,
                path: None,
            },
            Routing::Path => Host {
                host: spec.domain.clone(),
                service: route.service,
                port: route.port,
                path: Some(route.path),
            },
        })
        .collect()
}
