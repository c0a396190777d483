//! The resolved model: declarations with every default applied and every derived value (hosts,
//! URLs, the active and newest versions, what is autoscaled) computed once. Pure: no I/O.
//! Renderers read only this.

use crate::declare::{
    ConductorConnection, DexUsersSpec, EnvName, EnvSpec, Language, Namespace, Oidc, RepoSpec,
    Routing, TlsSource, TriggerKind, VersionName, VersionsSpec,
};
use crate::error::Error;

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
    pub project: Namespace,
    pub environments: Vec<Environment>,
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

/// The OAuth client of the Console, and the audience Conductor checks.
pub const DEX_CLIENT_ID: &str = "dbos-console";

/// Dex and the OAuth settings of Conductor and Console, all derived from the env's hosts so
/// that they agree: the issuer Dex announces is the one Conductor checks and Console uses.
#[derive(Clone, Debug)]
pub struct Dex {
    /// `https://dex.<domain>/dex` (host routing) or `https://<domain>/dex` (path routing).
    pub issuer: String,
    /// In-cluster, so Conductor needs neither the ingress nor trust in its certificate.
    pub jwks_url: String,
    /// Console's OAuth callback.
    pub redirect_uri: String,
    /// The origin the Console's browser code runs on: Dex's CORS allow-list.
    pub console_origin: String,
    pub users: Vec<DexUser>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DexUser {
    pub email: String,
    pub username: String,
    pub user_id: String,
    /// Key of the `dex-users` secret holding the bcrypt hash.
    pub secret_key: String,
    /// The Dex container's variable the hash is read from (`hashFromEnv`).
    pub hash_env: String,
    pub password_revision: u32,
}

impl DexUser {
    /// `DEX_HASH_` and the key in upper case with `-` as `_`: one-to-one for keys of
    /// `[a-z0-9-]`.
    pub fn hash_env_for(secret_key: &str) -> String {
        format!(
            "DEX_HASH_{}",
            secret_key.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// Keys of the `dex-users` secret: lowercase letters, digits and `-`, not at either end.
pub fn check_dex_secret_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && !key.starts_with('-')
        && !key.ends_with('-')
        && key.chars().all(|character| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "secret key `{key}` must be lowercase letters, digits and `-`"
        ))
    }
}

/// An email Dex can log in with: one `@`, no spaces or control characters, lowercase.
pub fn check_email(email: &str) -> Result<(), String> {
    let parts: Vec<&str> = email.split('@').collect();
    let ok = email.len() <= 254
        && parts.len() == 2
        && !parts[0].is_empty()
        && !parts[1].is_empty()
        && !email.chars().any(|character| {
            character.is_whitespace() || character.is_control() || character == '"'
        })
        && email == email.to_lowercase();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{email}` is not a lowercase email address such as `admin@acme.com`"
        ))
    }
}

/// One host the ingress serves and the Service behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub host: String,
    pub service: &'static str,
    pub port: u16,
    /// Path-routing regex (the guide's rewrite rules); `None` with host routing.
    pub path: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub struct Version {
    pub name: VersionName,
    pub image: String,
    pub active: bool,
    /// `None` when KEDA owns the replica count (autoscaled Deployments carry no `replicas`).
    pub replicas: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct Autoscaling {
    pub trigger: TriggerKind,
    /// The query of the `postgresql` trigger: the queue's ENQUEUED and PENDING workflows for the active
    /// version, and the unversioned ones when the active version is also the newest (only the
    /// newest version dequeues those).
    pub postgres_query: Option<String>,
    pub queue: String,
    pub worker_concurrency: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
}

impl Environment {
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
    })
}

/// Two Applications syncing the same objects into one namespace would overwrite and prune each
/// other's workloads: every environment needs its own (cluster, namespace).
fn check_distinct_destinations(environments: &[Environment]) -> Result<(), Error> {
    for (index, env) in environments.iter().enumerate() {
        if let Some(other) = environments[..index]
            .iter()
            .find(|other| other.cluster == env.cluster && other.namespace == env.namespace)
        {
            return Err(Error::input(format!(
                "environments `{}` and `{}` both deploy to namespace `{}` of `{}`: their Argo CD Applications would overwrite and prune each other's objects",
                other.name, env.name, env.namespace, env.cluster
            ))
            .hint(format!(
                "give one of them its own `namespace:` in {}",
                crate::layout::env_file(&env.name)
            )));
        }
    }
    Ok(())
}

fn env_error(env: &EnvName, file: &str, message: String) -> Error {
    Error::input_in(crate::layout::env_path(env, file), message)
}

pub use crate::declare::names::check_domain;

/// Container image references: no spaces, no uppercase in the repository part, not empty.
pub fn check_image(image: &str) -> Result<(), String> {
    let repository = image.split(['@']).next().unwrap_or("");
    let repository = match repository.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => repository,
    };
    if image.is_empty()
        || image
            .chars()
            .any(|character| character.is_whitespace() || character.is_control())
        || repository.is_empty()
        || repository
            .chars()
            .any(|character| character.is_ascii_uppercase())
    {
        return Err(format!(
            "image `{image}` is not a valid image reference such as `ghcr.io/acme/app:v1`"
        ));
    }
    Ok(())
}

fn resolve_env(input: EnvInput) -> Result<Environment, Error> {
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
    check_domain(&spec.domain).map_err(|message| env_error(&name, "env.yaml", message))?;
    for (field, image) in [
        ("conductor.image", &spec.conductor.image),
        ("console.image", &spec.console.image),
    ] {
        check_image(image)
            .map_err(|message| env_error(&name, "env.yaml", format!("{field}: {message}")))?;
    }
    if spec.conductor.replicas == 0 || spec.console.replicas == 0 {
        return Err(env_error(
            &name,
            "env.yaml",
            "conductor.replicas and console.replicas must be at least 1".to_string(),
        ));
    }
    if !spec.cluster.starts_with("https://") {
        return Err(env_error(
            &name,
            "env.yaml",
            format!(
                "cluster `{}` must be an https:// API server URL",
                spec.cluster
            ),
        ));
    }
    let mut seen: Vec<&VersionName> = Vec::new();
    for version in &versions.versions {
        if seen.contains(&&version.name) {
            return Err(env_error(
                &name,
                "versions.yaml",
                format!("version `{}` is declared twice", version.name),
            ));
        }
        seen.push(&version.name);
        check_image(&version.image).map_err(|message| {
            env_error(
                &name,
                "versions.yaml",
                format!("version `{}`: {message}", version.name),
            )
        })?;
    }
    match &versions.active {
        Some(active) if !seen.contains(&active) => {
            return Err(env_error(
                &name,
                "versions.yaml",
                format!("the active version `{active}` is not declared"),
            )
            .hint("set `active:` to one of the listed versions"));
        }
        None if !versions.versions.is_empty() => {
            return Err(env_error(
                &name,
                "versions.yaml",
                "versions are declared but none is `active:`".to_string(),
            )
            .hint("set `active:` to one of the listed versions"));
        }
        _ => {}
    }
    let newest = versions.versions.last().cloned();

    let autoscaling = match &spec.app.autoscaling {
        None => None,
        Some(autoscaling) => {
            let min_default = match autoscaling.trigger {
                TriggerKind::MetricsApi => 1,
                TriggerKind::Postgresql => 0,
            };
            let min_replicas = autoscaling.min_replicas.unwrap_or(min_default);
            if autoscaling.trigger == TriggerKind::MetricsApi && min_replicas == 0 {
                return Err(env_error(
                    &name,
                    "env.yaml",
                    "app.autoscaling.min-replicas is 0, but the metrics-api trigger polls the app itself and needs a running pod".to_string(),
                )
                .hint("use `min-replicas: 1`, or `trigger: postgresql` for scale-to-zero"));
            }
            if autoscaling.worker_concurrency == 0 || autoscaling.max_replicas < min_replicas.max(1)
            {
                return Err(env_error(
                    &name,
                    "env.yaml",
                    "app.autoscaling: worker-concurrency must be at least 1 and max-replicas at least min-replicas (and 1)".to_string(),
                ));
            }
            let queue_ok = !autoscaling.queue.is_empty()
                && autoscaling.queue.chars().all(|character| {
                    character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.')
                });
            if !queue_ok {
                return Err(env_error(
                    &name,
                    "env.yaml",
                    format!(
                        "app.autoscaling.queue `{}` must be a plain queue name (letters, digits, `_`, `-`, `.`)",
                        autoscaling.queue
                    ),
                ));
            }
            let postgres_query = match (&autoscaling.trigger, &versions.active) {
                (TriggerKind::Postgresql, Some(active)) => Some(
                    dbos_gitops_drain::queue_depth_sql(
                        dbos_gitops_drain::DEFAULT_SCHEMA,
                        &autoscaling.queue,
                        active.as_str(),
                        versions.versions.last().map(|newest| &newest.name) == Some(active),
                    )
                    .map_err(|error| {
                        env_error(&name, "env.yaml", format!("app.autoscaling: {error}"))
                    })?,
                ),
                _ => None,
            };
            Some(Autoscaling {
                trigger: autoscaling.trigger,
                postgres_query,
                queue: autoscaling.queue.clone(),
                worker_concurrency: autoscaling.worker_concurrency,
                min_replicas,
                max_replicas: autoscaling.max_replicas,
            })
        }
    };

    // Old versions keep at least one replica: only a live pod of the same version recovers a
    // dead pod's workflows.
    let fixed_replicas = spec.app.replicas.unwrap_or(1).max(1);
    let resolved_versions = versions
        .versions
        .iter()
        .map(|version| {
            let active = Some(&version.name) == versions.active.as_ref();
            Version {
                name: version.name.clone(),
                image: version.image.clone(),
                active,
                replicas: if active && autoscaling.is_some() {
                    None
                } else {
                    Some(fixed_replicas)
                },
            }
        })
        .collect();

    let hosts = hosts(&spec, !versions.versions.is_empty());
    let keda_namespace = spec
        .app
        .autoscaling
        .as_ref()
        .map(|autoscaling| autoscaling.keda_namespace.clone());
    let namespace = spec.namespace.clone();
    let app_conductor_url = match spec.app.conductor {
        ConductorConnection::InCluster => {
            format!("ws://conductor.{namespace}.svc.cluster.local:8090")
        }
        ConductorConnection::External => match spec.routing {
            Routing::Host => format!("wss://conductor.{}/", spec.domain),
            // The current guide's prefix: `/conductor/...` are Console pages.
            Routing::Path => format!("wss://{}/conductor-api", spec.domain),
        },
    };
    // Python images have `dbos` on PATH and TypeScript images `node_modules/.bin/dbos`, so the
    // newest version's image migrates; a Go binary has no CLI beside it (`check` reports
    // `missing-migrate-image`).
    let migrate_image = match spec.app.language {
        Language::Python | Language::Typescript => spec
            .app
            .migrate
            .image
            .clone()
            .or_else(|| newest.as_ref().map(|version| version.image.clone())),
        Language::Go => spec.app.migrate.image.clone(),
    };
    let mut migrate_command: Vec<String> = match (&spec.app.migrate.command, spec.app.language) {
        (Some(command), _) if !command.is_empty() => command.clone(),
        (Some(_), _) => {
            return Err(env_error(
                &name,
                "env.yaml",
                "app.migrate.command is empty".to_string(),
            )
            .hint("remove it to use the language's default, e.g. `[dbos, migrate]`"))
        }
        (None, Language::Python | Language::Go) => vec!["dbos".into(), "migrate".into()],
        // The TypeScript SDK names it `dbos schema` (hosting-with-kubernetes.md, "Database
        // Privilege Separation"); `--no` keeps npx from downloading a package.
        (None, Language::Typescript) => {
            vec!["npx".into(), "--no".into(), "dbos".into(), "schema".into()]
        }
    };
    migrate_command.extend(["--app-role".to_string(), spec.app.migrate.app_role.clone()]);
    let ca_digest = match (spec.app.conductor, spec.ingress.tls) {
        (ConductorConnection::External, TlsSource::SelfSigned) => tls_certificate_digest,
        _ => None,
    };
    if let Some(image) = &migrate_image {
        check_image(image).map_err(|message| {
            env_error(&name, "env.yaml", format!("app.migrate.image: {message}"))
        })?;
    }

    let cluster_issuer = match (spec.ingress.tls, &spec.ingress.cluster_issuer) {
        (TlsSource::CertManager, Some(issuer)) => {
            crate::declare::names::check_secret_name(issuer).map_err(|_| {
                env_error(
                    &name,
                    "env.yaml",
                    format!("ingress.cluster-issuer `{issuer}` is not a Kubernetes name"),
                )
            })?;
            Some(issuer.clone())
        }
        (TlsSource::CertManager, None) => {
            return Err(env_error(
                &name,
                "env.yaml",
                "ingress.tls is `cert-manager` but no ingress.cluster-issuer is set".to_string(),
            )
            .hint("name the ClusterIssuer: `cluster-issuer: letsencrypt-prod`"));
        }
        (TlsSource::SelfSigned, Some(_)) => {
            return Err(env_error(
                &name,
                "env.yaml",
                "ingress.cluster-issuer is set but ingress.tls is `self-signed`".to_string(),
            )
            .hint("set `tls: cert-manager` to use the issuer, or remove `cluster-issuer`"));
        }
        (TlsSource::SelfSigned, None) => None,
    };
    let dex = match spec.oidc {
        Oidc::None => None,
        Oidc::Dex => Some(resolve_dex(&name, &spec, &hosts, &namespace, &dex_users)?),
    };

    Ok(Environment {
        tls: spec.ingress.tls,
        cluster_issuer,
        ca_bundle: spec.ingress.tls == TlsSource::SelfSigned && tls_certificate,
        dex,
        name,
        namespace,
        cluster: spec.cluster.clone(),
        domain: spec.domain.clone(),
        routing: spec.routing,
        oidc: spec.oidc,
        ingress_class: spec.ingress.class.clone(),
        ingress_controller_namespace: spec.ingress.controller_namespace.clone(),
        keda_namespace,
        hosts,
        conductor_image: spec.conductor.image.clone(),
        conductor_replicas: spec.conductor.replicas,
        conductor_allow_unauthenticated: spec.conductor.allow_unauthenticated,
        console_image: spec.console.image.clone(),
        console_replicas: spec.console.replicas,
        app_name: spec.app.name.clone(),
        conductor_connection: spec.app.conductor,
        app_conductor_url,
        language: spec.app.language,
        migrate_image,
        migrate_command,
        ca_digest,
        app_role: spec.app.migrate.app_role.clone(),
        versions: resolved_versions,
        active: versions.active.clone(),
        newest: newest.map(|version| version.name),
        autoscaling,
        secret_files,
        secret_digests,
    })
}

fn resolve_dex(
    name: &EnvName,
    spec: &EnvSpec,
    hosts: &[Host],
    namespace: &Namespace,
    users: &DexUsersSpec,
) -> Result<Dex, Error> {
    let external = |service: &str| -> String {
        match spec.routing {
            Routing::Host => {
                let host = hosts
                    .iter()
                    .find(|host| host.service == service)
                    .map(|host| host.host.as_str())
                    .unwrap_or("");
                format!("https://{host}")
            }
            Routing::Path => format!("https://{}", spec.domain),
        }
    };
    // Dex serves under its issuer's path; `/dex` in both routings keeps the probes on
    // `/dex/healthz` and the guide's `/()(dex/.*)` rule.
    let issuer = format!("{}/dex", external("dex"));
    let mut resolved: Vec<DexUser> = Vec::new();
    for user in &users.users {
        let problem = check_email(&user.email)
            .err()
            .or_else(|| check_dex_secret_key(&user.secret_key).err())
            .or_else(|| {
                resolved
                    .iter()
                    .any(|other| other.email == user.email)
                    .then(|| format!("user `{}` is listed twice", user.email))
            })
            .or_else(|| {
                resolved
                    .iter()
                    .any(|other| other.secret_key == user.secret_key)
                    .then(|| format!("secret key `{}` is used twice", user.secret_key))
            })
            .or_else(|| {
                (user.username.trim().is_empty() || user.user_id.trim().is_empty())
                    .then(|| format!("user `{}` needs a username and a user-id", user.email))
            });
        if let Some(problem) = problem {
            return Err(env_error(name, crate::declare::DEX_USERS_FILE, problem).hint(
                "this file is maintained by `dbos-gitops dex add-user|remove-user`; undo the hand edit",
            ));
        }
        resolved.push(DexUser {
            email: user.email.clone(),
            username: user.username.clone(),
            user_id: user.user_id.clone(),
            secret_key: user.secret_key.clone(),
            hash_env: DexUser::hash_env_for(&user.secret_key),
            password_revision: user.password_revision,
        });
    }
    Ok(Dex {
        issuer,
        jwks_url: format!("http://dex.{namespace}.svc.cluster.local:5556/dex/keys"),
        redirect_uri: format!("{}/oauth/callback", external("console")),
        console_origin: external("console"),
        users: resolved,
    })
}

fn hosts(spec: &EnvSpec, has_app: bool) -> Vec<Host> {
    let dex = spec.oidc == Oidc::Dex;
    // Without OAuth Conductor authenticates nothing (hosting-conductor-with-kubernetes.md):
    // route it publicly only when the apps reach it from outside. The Console proxies to it
    // in-cluster either way.
    let public_conductor = dex || spec.app.conductor == ConductorConnection::External;
    match spec.routing {
        Routing::Host => {
            let mut hosts = vec![
                Host {
                    host: format!("console.{}", spec.domain),
                    service: "console",
                    port: 80,
                    path: None,
                },
                Host {
                    host: format!("conductor.{}", spec.domain),
                    service: "conductor",
                    port: 8090,
                    path: None,
                },
                Host {
                    host: format!("app.{}", spec.domain),
                    service: "dbos-app",
                    port: 8080,
                    path: None,
                },
            ];
            if !has_app {
                hosts.retain(|host| host.service != "dbos-app");
            }
            if !public_conductor {
                hosts.retain(|host| host.service != "conductor");
            }
            if dex {
                hosts.push(Host {
                    host: format!("dex.{}", spec.domain),
                    service: "dex",
                    port: 5556,
                    path: None,
                });
            }
            hosts
        }
        Routing::Path => {
            // The guide's rules: a regex per prefix, rewritten to `/$2`; Dex keeps its `/dex`
            // prefix and must come before the catch-all Console rule.
            let mut hosts = vec![
                Host {
                    host: spec.domain.clone(),
                    service: "conductor",
                    port: 8090,
                    path: Some("/conductor-api(/|$)(.*)"),
                },
                Host {
                    host: spec.domain.clone(),
                    service: "dbos-app",
                    port: 8080,
                    path: Some("/app(/|$)(.*)"),
                },
            ];
            if dex {
                hosts.push(Host {
                    host: spec.domain.clone(),
                    service: "dex",
                    port: 5556,
                    path: Some("/()(dex/.*)"),
                });
            }
            hosts.push(Host {
                host: spec.domain.clone(),
                service: "console",
                port: 80,
                path: Some("/()(.*)"),
            });
            if !has_app {
                hosts.retain(|host| host.service != "dbos-app");
            }
            if !public_conductor {
                hosts.retain(|host| host.service != "conductor");
            }
            hosts
        }
    }
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
        assert!(check_image("ghcr.io/acme/app@sha256:abc").is_ok());
    }
}
