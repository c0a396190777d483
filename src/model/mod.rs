//! The resolved model: declarations with every default applied and every derived value (hosts,
//! URLs, the active and newest versions, what is autoscaled) computed once. Pure: no I/O.
//! Renderers read only this.
//!
//! This file holds the shared types and the orchestration (`resolve`); each component resolves
//! in its own file: `ingress` (hosts, domain, TLS issuer), `conductor`, `console`, `dex`, `app`
//! (versions' Deployments, the migrate Job), `autoscaling` (KEDA) and `versions` (the rules of
//! `versions.yaml`, shared with `check`). Errors are `ResolveError`s with the file and field.

mod app;
mod autoscaling;
mod checks;
mod conductor;
mod console;
mod dex;
mod gateway;
mod ingress;
pub mod versions;
// `database init` and `database rotate` (#22).
pub mod database;

pub use app::Version;
pub use autoscaling::Autoscaling;
pub use checks::INT32_MAX;
pub use dex::{check_dex_secret_key, check_email, Dex, DexUser, DEX_CLIENT_ID};
pub use gateway::{Attachment, Gateway, Peer, DEFAULT_GATEWAY_CLASS, GATEWAY_NAME};
pub use ingress::{Host, CONDUCTOR_WEBSOCKET_PREFIX, CONDUCTOR_WEBSOCKET_REGEX};

use crate::declare::{
    ConductorConnection, DexUsersSpec, EnvName, EnvSpec, Language, Namespace, Oidc, ProjectName,
    RepoSpec, Routing, TlsSource, VersionName, VersionsSpec,
};
use crate::error::Error;
pub use crate::error::ResolveError;

/// What the loader read from disk for one environment.
#[derive(Clone, Debug)]
pub struct EnvInput {
    pub name: EnvName,
    pub spec: EnvSpec,
    pub versions: VersionsSpec,
    /// File names under `secrets/` (SealedSecrets), sorted.
    pub secret_files: Vec<String>,
    /// `dex-users.yaml` (empty when absent).
    pub dex_users: DexUsersSpec,
    /// Whether `tls.crt` (the public certificate `dbos-gitops tls` wrote) is there.
    pub tls_certificate: bool,
    /// SHA-256 of `tls.crt`'s bytes when it is there: the app pods' CA digest annotation.
    pub tls_certificate_digest: Option<String>,
    /// Per sealed secret, per key: SHA-256 of the ciphertext (`render::rollout`).
    pub secret_digests: SecretDigests,
}

/// Secret name -> key -> SHA-256 of its sealed value (ciphertext only).
pub type SecretDigests =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>;

#[derive(Clone, Debug)]
pub struct Repo {
    pub repo_url: String,
    pub revision: String,
    pub argocd_namespace: Namespace,
    pub project: ProjectName,
    pub environments: Vec<Environment>,
    /// Environments being removed by the cascade (`environments/<env>/removal.yaml`, #24.7),
    /// with or without their `env.yaml`; set by `workspace::plan_build`.
    pub removals: Vec<Removal>,
}

/// One environment being removed by the cascade: its Application (while it is still declared)
/// is marked for Argo CD to prune and cascade, and the AppProject keeps admitting its
/// destination and kinds until the record is gone.
#[derive(Clone, Debug)]
pub struct Removal {
    pub name: EnvName,
    pub namespace: Namespace,
    pub cluster: String,
    /// `(group, kind)` pairs the project keeps in its namespaced whitelist.
    pub kinds: Vec<(String, String)>,
}

impl Removal {
    /// The record as the model holds it; a kind without a `/` is in the core group.
    pub fn from_spec(name: EnvName, spec: &crate::declare::RemovalSpec) -> Self {
        let kinds = spec
            .kinds
            .iter()
            .map(|entry| match entry.rsplit_once('/') {
                Some((group, kind)) => (group.to_string(), kind.to_string()),
                None => (String::new(), entry.clone()),
            })
            .collect();
        Removal {
            name,
            namespace: spec.namespace.clone(),
            cluster: spec.cluster.clone(),
            kinds,
        }
    }
}

impl Repo {
    /// Whether `env` is being removed by the cascade.
    pub fn removing(&self, env: &EnvName) -> bool {
        self.removals.iter().any(|removal| &removal.name == env)
    }
}

#[derive(Clone, Debug)]
pub struct Environment {
    pub name: EnvName,
    pub namespace: Namespace,
    pub cluster: String,
    pub domain: String,
    pub routing: Routing,
    pub oidc: Oidc,
    pub ingress_class: String,
    /// The ingress controller's namespace, admitted by the NetworkPolicies.
    pub ingress_controller_namespace: Namespace,
    /// Gateway API routing (#21); `None`: the `Ingress` alone, as before.
    pub gateway: Option<Gateway>,
    /// Whether the `Ingress` is rendered: without a gateway, or with `keep-ingress`.
    pub ingress_rendered: bool,
    /// KEDA's namespace, admitted to the app pods; `Some` only with autoscaling.
    pub keda_namespace: Option<Namespace>,
    pub hosts: Vec<Host>,
    pub conductor_image: String,
    pub conductor_replicas: u32,
    /// `conductor.allow-unauthenticated`: the user accepts a public Conductor without OAuth.
    pub conductor_allow_unauthenticated: bool,
    pub console_image: String,
    pub console_replicas: u32,
    pub app_name: Option<String>,
    pub conductor_connection: ConductorConnection,
    /// What the app's `DBOS_CONDUCTOR_URL` is set to.
    pub app_conductor_url: String,
    pub language: Language,
    /// `None` when there is no version and no declared migrate image (or a Go app without
    /// `app.migrate.image`, which `check` reports): no migrate Job then.
    pub migrate_image: Option<String>,
    /// The migrate container's full command line, `--app-role <role>` included.
    pub migrate_command: Vec<String>,
    /// SHA-256 of the published self-signed CA, for app pods that trust it (`None` otherwise).
    pub ca_digest: Option<String>,
    pub app_role: String,
    pub versions: Vec<Version>,
    /// `None` while the environment has no application version yet.
    pub active: Option<VersionName>,
    pub newest: Option<VersionName>,
    pub autoscaling: Option<Autoscaling>,
    pub secret_files: Vec<String>,
    /// Ciphertext digests of the sealed secrets, for the pods' rollout annotation.
    pub secret_digests: SecretDigests,
    pub tls: TlsSource,
    /// The cert-manager ClusterIssuer, with `TlsSource::CertManager` only.
    pub cluster_issuer: Option<String>,
    /// Publish `tls.crt` as the `dbos-ca` ConfigMap: a self-signed certificate was issued.
    pub ca_bundle: bool,
    /// `Some` with `oidc: dex`.
    pub dex: Option<Dex>,
}

impl Environment {
    /// Whether `database init` has run for the environment (its Conductor role's SCRAM verifier
    /// is sealed): then the overlay carries the database bootstrap Job.
    pub fn database_bootstrap(&self) -> bool {
        self.secret_digests
            .get(database::CONDUCTOR_SECRET)
            .is_some_and(|keys| keys.contains_key(database::VERIFIER_KEY))
    }

    pub fn deployment_name(version: &VersionName) -> String {
        format!("dbos-app-{version}")
    }

    pub fn service_host(&self, service: &str) -> Option<&str> {
        self.hosts
            .iter()
            .find(|host| host.service == service)
            .map(|host| host.host.as_str())
    }

    /// Every distinct host name the ingress serves, in rule order.
    pub fn host_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for host in &self.hosts {
            if !names.contains(&host.host) {
                names.push(host.host.clone());
            }
        }
        names
    }
}

/// Resolves every environment; the error is the model layer's `ResolveError`, wrapped.
pub fn resolve(repo: &RepoSpec, inputs: Vec<EnvInput>) -> Result<Repo, Error> {
    let environments = inputs
        .into_iter()
        .map(resolve_env)
        .collect::<Result<Vec<_>, _>>()?;
    check_distinct_destinations(&environments)?;
    Ok(Repo {
        repo_url: repo.repo_url.clone(),
        revision: repo.revision.clone(),
        argocd_namespace: repo.argocd.namespace.clone(),
        project: repo.argocd.project.clone(),
        environments,
        removals: Vec::new(),
    })
}

/// Two Applications syncing the same objects into one namespace would overwrite and prune each
/// other's workloads: every environment needs its own (cluster, namespace).
fn check_distinct_destinations(environments: &[Environment]) -> Result<(), ResolveError> {
    for (index, env) in environments.iter().enumerate() {
        if let Some(other) = environments[..index]
            .iter()
            .find(|other| other.cluster == env.cluster && other.namespace == env.namespace)
        {
            return Err(ResolveError::new(format!(
                "environments `{}` and `{}` both deploy to namespace `{}` of `{}`: their Argo CD Applications would overwrite and prune each other's objects",
                other.name, env.name, env.namespace, env.cluster
            ))
            .field("namespace")
            .hint(format!(
                "give one of them its own `namespace:` in {}",
                crate::layout::env_file(&env.name)
            )));
        }
    }
    Ok(())
}

pub use crate::declare::image::check_image;
pub use crate::declare::names::check_domain;

/// Checks every component's declaration, in the order a user reads env.yaml.
fn check_env(name: &EnvName, spec: &EnvSpec, versions: &VersionsSpec) -> Result<(), ResolveError> {
    ingress::check_destination(name, spec)?;
    conductor::check_image(name, spec)?;
    console::check_image(name, spec)?;
    conductor::check_replicas(name, spec)?;
    console::check_replicas(name, spec)?;
    app::check_replicas(name, spec)?;
    ingress::check_cluster(name, spec)?;
    dex::check_spec(name, spec)?;
    versions::check(name, versions)
}

fn resolve_env(input: EnvInput) -> Result<Environment, ResolveError> {
    let EnvInput {
        name,
        spec,
        versions,
        secret_files,
        dex_users,
        tls_certificate,
        tls_certificate_digest,
        secret_digests,
    } = input;
    check_env(&name, &spec, &versions)?;
    let newest = versions.versions.last();
    let autoscaling = autoscaling::resolve(&name, &spec, &versions)?;
    let resolved_versions = app::versions(&spec, &versions, autoscaling.is_some());
    let hosts = ingress::hosts(&spec, !versions.versions.is_empty());
    let namespace = spec.namespace.clone();
    let (migrate_image, migrate_command) = app::migrate(&name, &spec, newest)?;
    let cluster_issuer = ingress::cluster_issuer(&name, &spec.ingress)?;
    let gateway = match &spec.ingress.gateway {
        Some(gateway) => Some(gateway::resolve(
            &name,
            gateway,
            &namespace,
            spec.ingress.tls,
        )?),
        None => None,
    };
    let dex = match spec.oidc {
        Oidc::None => None,
        Oidc::Dex => Some(dex::resolve_dex(
            &name, &spec, &hosts, &namespace, &dex_users,
        )?),
    };
    Ok(Environment {
        tls: spec.ingress.tls,
        cluster_issuer,
        ca_bundle: spec.ingress.tls == TlsSource::SelfSigned && tls_certificate,
        dex,
        keda_namespace: spec
            .app
            .autoscaling
            .as_ref()
            .map(|autoscaling| autoscaling.keda_namespace.clone()),
        app_conductor_url: conductor::app_url(&spec, &namespace),
        ca_digest: app::ca_digest(&spec, tls_certificate_digest),
        newest: newest.map(|version| version.name.clone()),
        name,
        namespace,
        cluster: spec.cluster.clone(),
        domain: spec.domain.clone(),
        routing: spec.routing,
        oidc: spec.oidc,
        ingress_class: spec.ingress.class.clone(),
        ingress_controller_namespace: spec.ingress.controller_namespace.clone(),
        ingress_rendered: gateway.as_ref().is_none_or(|gateway| gateway.keep_ingress),
        gateway,
        hosts,
        conductor_image: spec.conductor.image.clone(),
        conductor_replicas: spec.conductor.replicas,
        conductor_allow_unauthenticated: spec.conductor.allow_unauthenticated,
        console_image: spec.console.image.clone(),
        console_replicas: spec.console.replicas,
        app_name: spec.app.name.clone(),
        conductor_connection: spec.app.conductor,
        language: spec.app.language,
        migrate_image,
        migrate_command,
        app_role: spec.app.migrate.app_role.clone(),
        versions: resolved_versions,
        active: versions.active.clone(),
        autoscaling,
        secret_files,
        secret_digests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declare::VersionSpec;
    use std::path::Path;

    fn input(env_yaml: &str, active: &str, versions: &[(&str, &str)]) -> EnvInput {
        EnvInput {
            name: EnvName::new("prod").unwrap(),
            spec: crate::declare::parse_env(Path::new("env.yaml"), env_yaml).unwrap(),
            versions: VersionsSpec {
                active: Some(VersionName::new(active).unwrap()),
                versions: versions
                    .iter()
                    .map(|(name, image)| VersionSpec {
                        name: VersionName::new(name).unwrap(),
                        image: image.to_string(),
                    })
                    .collect(),
            },
            secret_files: vec![],
            dex_users: Default::default(),
            tls_certificate: false,
            tls_certificate_digest: None,
            secret_digests: Default::default(),
        }
    }

    #[test]
    fn autoscaled_active_version_has_no_replicas_and_old_ones_keep_one() {
        let env = resolve_env(input(
            "namespace: dbos\ndomain: d.example.com\napp:\n  autoscaling:\n    queue: q\n    worker-concurrency: 2\n",
            "v2",
            &[("v1", "app:v1"), ("v2", "app:v2")],
        ))
        .unwrap();
        assert_eq!(env.versions[0].replicas, Some(1));
        assert_eq!(env.versions[1].replicas, None);
        assert_eq!(env.newest.unwrap().as_str(), "v2");
        assert_eq!(env.migrate_image.as_deref(), Some("app:v2"));
        assert_eq!(env.autoscaling.unwrap().min_replicas, 1);
    }

    #[test]
    fn path_routing_puts_dex_before_the_catch_all() {
        let env = resolve_env(input(
            "namespace: dbos\ndomain: d.example.com\nrouting: path\noidc: dex\n",
            "v1",
            &[("v1", "app:v1")],
        ))
        .unwrap();
        let services: Vec<&str> = env.hosts.iter().map(|host| host.service).collect();
        assert_eq!(services, ["conductor", "dbos-app", "dex", "console"]);
        assert_eq!(env.host_names(), ["d.example.com"]);
    }

    #[test]
    fn dex_urls_derive_from_the_hosts_in_both_routings() {
        let host = resolve_env(input(
            "namespace: dbos\ndomain: d.example.com\noidc: dex\n",
            "v1",
            &[("v1", "app:v1")],
        ))
        .unwrap();
        let dex = host.dex.unwrap();
        assert_eq!(dex.issuer, "https://dex.d.example.com/dex");
        assert_eq!(
            dex.redirect_uri,
            "https://console.d.example.com/oauth/callback"
        );
        assert_eq!(
            dex.jwks_url,
            "http://dex.dbos.svc.cluster.local:5556/dex/keys"
        );
        let path = resolve_env(input(
            "namespace: dbos\ndomain: d.example.com\noidc: dex\nrouting: path\n",
            "v1",
            &[("v1", "app:v1")],
        ))
        .unwrap();
        let dex = path.dex.unwrap();
        assert_eq!(dex.issuer, "https://d.example.com/dex");
        assert_eq!(dex.redirect_uri, "https://d.example.com/oauth/callback");
        assert_eq!(DexUser::hash_env_for("a-b-2"), "DEX_HASH_A_B_2");
    }

    #[test]
    fn conductor_is_public_only_with_oauth_or_an_external_app() {
        let services = |env_yaml: &str| -> Vec<&'static str> {
            let env = resolve_env(input(env_yaml, "v1", &[("v1", "app:v1")])).unwrap();
            env.hosts.iter().map(|host| host.service).collect()
        };
        let base = "namespace: dbos\ndomain: d.example.com\n";
        assert_eq!(services(base), ["console", "dbos-app"]);
        assert_eq!(
            services(&format!("{base}oidc: dex\n")),
            ["console", "conductor", "dbos-app", "dex"]
        );
        assert_eq!(
            services(&format!("{base}app:\n  conductor: external\n")),
            ["console", "conductor", "dbos-app"]
        );
        let external = resolve_env(input(
            &format!("{base}routing: path\napp:\n  conductor: external\n"),
            "v1",
            &[("v1", "app:v1")],
        ))
        .unwrap();
        assert_eq!(
            external.app_conductor_url,
            "wss://d.example.com/conductor-api"
        );
        assert_eq!(external.hosts[0].path, Some("/conductor-api(/|$)(.*)"));
    }

    #[test]
    fn cert_manager_needs_an_issuer_and_self_signed_refuses_one() {
        let missing = resolve_env(input(
            "namespace: dbos\ndomain: d.example.com\ningress:\n  tls: cert-manager\n",
            "v1",
            &[("v1", "app:v1")],
        ))
        .unwrap_err();
        assert!(missing.to_string().contains("cluster-issuer"), "{missing}");
        let stray = resolve_env(input(
            "namespace: dbos\ndomain: d.example.com\ningress:\n  cluster-issuer: x\n",
            "v1",
            &[("v1", "app:v1")],
        ))
        .unwrap_err();
        assert!(stray.to_string().contains("self-signed"), "{stray}");
        let env = resolve_env(input(
            "namespace: dbos\ndomain: d.example.com\ningress:\n  tls: cert-manager\n  cluster-issuer: le\n",
            "v1",
            &[("v1", "app:v1")],
        ))
        .unwrap();
        assert_eq!(env.cluster_issuer.as_deref(), Some("le"));
        assert!(!env.ca_bundle);
    }

    #[test]
    fn inconsistent_declarations_are_refused() {
        let unknown_active = resolve_env(input(
            "namespace: dbos\ndomain: d.example.com\n",
            "v9",
            &[("v1", "app:v1")],
        ))
        .unwrap_err();
        assert!(unknown_active.to_string().contains("`v9` is not declared"));
        let bad_domain = resolve_env(input(
            "namespace: dbos\ndomain: Not_A_Domain\n",
            "v1",
            &[("v1", "app:v1")],
        ))
        .unwrap_err();
        assert!(bad_domain.to_string().contains("domain `Not_A_Domain`"));
        let scale_to_zero = resolve_env(input(
            "namespace: dbos\ndomain: d.example.com\napp:\n  autoscaling:\n    queue: q\n    worker-concurrency: 2\n    min-replicas: 0\n",
            "v1",
            &[("v1", "app:v1")],
        ))
        .unwrap_err();
        assert!(scale_to_zero.to_string().contains("metrics-api"));
        assert!(check_image("Bad/Image:v1").is_err());
        assert!(check_image("localhost:5000/app:v1").is_ok());
        assert!(check_image(&format!("ghcr.io/acme/app@sha256:{}", "ab".repeat(32))).is_ok());
    }

    #[test]
    fn resolve_errors_name_the_file_and_the_field() {
        let base = "namespace: dbos\ndomain: d.example.com\n";
        let field = |env_yaml: &str| -> (Option<String>, Option<String>) {
            let error = resolve_env(input(env_yaml, "v1", &[("v1", "app:v1")])).unwrap_err();
            (error.file, error.field)
        };
        let env_file = Some("environments/prod/env.yaml".to_string());
        for (env_yaml, expected) in [
            (format!("{base}conductor:\n  image: Bad/Image\n"), "conductor.image"),
            (format!("{base}console:\n  replicas: 0\n"), "console.replicas"),
            (
                format!("{base}app:\n  autoscaling:\n    queue: q\n    worker-concurrency: 1\n    min-replicas: 5\n    max-replicas: 2\n"),
                "app.autoscaling.max-replicas",
            ),
            (
                format!("{base}ingress:\n  tls: cert-manager\n"),
                "ingress.cluster-issuer",
            ),
            ("namespace: dbos\ndomain: nodots\n".to_string(), "domain"),
        ] {
            assert_eq!(
                field(&env_yaml),
                (env_file.clone(), Some(expected.to_string())),
                "{env_yaml}"
            );
        }
        let mut dex = input(&format!("{base}oidc: dex\n"), "v1", &[("v1", "app:v1")]);
        dex.dex_users = crate::declare::DexUsersSpec {
            users: vec![crate::declare::DexUserSpec {
                email: "Admin@acme.com".into(),
                username: "admin".into(),
                user_id: "1".into(),
                secret_key: "admin".into(),
                password_revision: 1,
            }],
        };
        let error = resolve_env(dex).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("users[0].email"));
        assert_eq!(
            error.file.as_deref(),
            Some("environments/prod/dex-users.yaml")
        );
        let wrapped = Error::from(error);
        assert_eq!(
            wrapped.location().and_then(|location| location.field),
            Some("users[0].email".to_string())
        );
        assert!(wrapped.hint_text().unwrap().contains("dex add-user"));
    }
}
