//! What users write: the repository declaration `dbos-gitops.yaml`, each environment's
//! `env.yaml`, and the tool-maintained `versions.yaml` beside it. Unknown fields are rejected so
//! that a typo is an error with a line number, not a silently ignored setting.

pub mod image;
mod modelines;
pub mod names;
// The cascade's record of an environment being removed (#24.7).
pub mod removal;
pub mod schema;
mod suggest;
mod template;

use serde::{Deserialize, Serialize};
use std::path::Path;

pub use names::{EnvName, Namespace, ProjectName, VersionName};
pub use removal::{removal_file_text, RemovalSpec, REMOVAL_FILE};

pub use crate::error::DeclareError;
use crate::error::Error;

pub use crate::layout::{DEX_USERS_FILE, ENV_FILE, REPO_FILE, TLS_CERT_FILE, VERSIONS_FILE};
pub const DEFAULT_CLUSTER: &str = "https://kubernetes.default.svc";

/// `dbos-gitops.yaml`: the repository declaration (written by `init`, owned by you).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "dbos-gitops.yaml")]
pub struct RepoSpec {
    /// The git URL Argo CD clones this repository from (the `repoURL` of every Application);
    /// no credentials in it: Argo CD holds them as a repository secret.
    #[schemars(example = &"https://github.com/acme/dbos-gitops.git")]
    pub repo_url: String,
    /// The branch, tag or commit Argo CD follows (`targetRevision`).
    #[serde(default = "default_revision")]
    #[schemars(example = &"main")]
    pub revision: String,
    /// Where Argo CD runs and the AppProject the Applications belong to.
    // An empty block (`KEY:` with every line below commented out) is YAML null, which the
    // parser reads as the defaults: the schema admits null too, so it is no stricter.
    #[serde(default)]
    #[schemars(with = "Option<ArgoCdSpec>")]
    pub argocd: ArgoCdSpec,
}

fn default_revision() -> String {
    "HEAD".to_string()
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ArgoCdSpec {
    /// The namespace Argo CD runs in: the Applications and the AppProject are created there.
    #[serde(default = "default_argocd_namespace")]
    pub namespace: Namespace,
    /// The AppProject of the Applications, written by `build` into `argocd/`.
    #[serde(default = "default_project")]
    pub project: ProjectName,
}

impl Default for ArgoCdSpec {
    fn default() -> Self {
        Self {
            namespace: default_argocd_namespace(),
            project: default_project(),
        }
    }
}

fn default_argocd_namespace() -> Namespace {
    Namespace::new("argocd").expect("valid")
}

fn default_project() -> ProjectName {
    ProjectName::new("dbos").expect("valid")
}

#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Routing {
    /// One host per service: `console.<domain>`, `app.<domain>`, `conductor.<domain>`.
    #[default]
    Host,
    /// One host, `<domain>`, with path prefixes (`/app`, `/conductor-api`, `/dex`).
    Path,
}

#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Oidc {
    /// No login in front of Console and Conductor.
    #[default]
    None,
    /// An in-cluster Dex with static users (`dbos-gitops dex add-user`).
    Dex,
}

/// How the application pods reach Conductor.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ConductorConnection {
    /// `ws://conductor.<ns>.svc.cluster.local:8090`: the app runs beside Conductor.
    #[default]
    InCluster,
    /// `wss://` through the ingress, trusting the env's TLS certificate.
    External,
}

/// `environments/<env>/env.yaml`: one environment's declaration (written by `init env`, owned
/// by you).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "env.yaml")]
pub struct EnvSpec {
    /// The Kubernetes namespace everything of the environment is deployed to; its
    /// SealedSecrets are sealed for it.
    #[schemars(example = &"dbos-prod")]
    pub namespace: Namespace,
    /// The Argo CD destination cluster (its API server URL as Argo CD knows it).
    #[serde(default = "default_cluster")]
    #[schemars(example = &"https://10.0.0.1:6443")]
    pub cluster: String,
    /// The DNS name the hosts are made from: `console.`, `app.`, `conductor.` and `dex.` under
    /// it (`routing: host`), or it alone with path prefixes (`routing: path`).
    #[schemars(example = &"dbos.acme.com")]
    pub domain: String,
    /// How the services share the domain: `host` (one host each) or `path` (one host).
    #[serde(default)]
    pub routing: Routing,
    /// OIDC login in front of Console and Conductor: `none` or `dex`.
    #[serde(default)]
    pub oidc: Oidc,
    // An empty block (`KEY:` with every line below commented out) is YAML null, which the
    // parser reads as the defaults: the schema admits null too, so it is no stricter.
    /// How traffic reaches the environment: the `Ingress` (class, TLS, controller namespace) or
    /// Gateway API routing (`gateway`).
    #[serde(default)]
    #[schemars(with = "Option<IngressSpec>")]
    pub ingress: IngressSpec,
    /// The DBOS Conductor Deployment (released with Console: pin one version for both).
    #[serde(default)]
    #[schemars(with = "Option<ConductorSpec>")]
    pub conductor: ConductorSpec,
    /// The DBOS Console Deployment.
    #[serde(default)]
    #[schemars(with = "Option<ConsoleSpec>")]
    pub console: ConsoleSpec,
    /// The DBOS application: its name, SDK, migrations, replicas and autoscaling. Its
    /// versions are in `versions.yaml` beside this file (`dbos-gitops version add`).
    #[serde(default)]
    #[schemars(with = "Option<AppSpec>")]
    pub app: AppSpec,
    /// Dex, with `oidc: dex` (#21.8): another image than the release dbos-gitops tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dex: Option<DexSpec>,
}

/// `dex:` of env.yaml.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DexSpec {
    /// The Dex image; by default the release of `base/components/dex/dex.yaml`, the one the
    /// tests run. `check` warns (`dex-image-older`) on an older release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

fn default_cluster() -> String {
    DEFAULT_CLUSTER.to_string()
}

/// Where the ingress certificate comes from.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum TlsSource {
    /// `dbos-gitops tls` issues it and seals it as `dbos-tls`; in-cluster clients trust it
    /// through the `dbos-ca` ConfigMap.
    #[default]
    SelfSigned,
    /// cert-manager issues it from `cluster-issuer` into `dbos-tls`; nothing is sealed.
    CertManager,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IngressSpec {
    /// The IngressClass of the `Ingress` (without `gateway`, or with `gateway.keep-ingress`).
    #[serde(default = "default_ingress_class")]
    pub class: String,
    /// Where the certificate of the hosts comes from: `self-signed` (`dbos-gitops tls` issues
    /// and seals it) or `cert-manager` (with `cluster-issuer`).
    #[serde(default)]
    pub tls: TlsSource,
    /// The cert-manager ClusterIssuer (with `tls: cert-manager`).
    #[serde(default)]
    #[schemars(example = &"letsencrypt-prod")]
    pub cluster_issuer: Option<String>,
    /// The namespace the ingress controller runs in: the NetworkPolicies admit its pods.
    #[serde(default = "default_ingress_controller_namespace")]
    pub controller_namespace: Namespace,
    /// Route through Gateway API instead of an `Ingress` (#21). Absent: the `Ingress` of
    /// `class`, as before the Gateway API support, so an existing env.yaml renders unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewaySpec>,
}

/// The Gateway API implementation that programs the Gateway: decides the data plane the
/// NetworkPolicies admit and the idle-timeout policy rendered beside the routes.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum GatewayImplementation {
    #[default]
    EnvoyGateway,
    NginxGatewayFabric,
    Istio,
    Kgateway,
    Cilium,
    Other,
}

impl GatewayImplementation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EnvoyGateway => "envoy-gateway",
            Self::NginxGatewayFabric => "nginx-gateway-fabric",
            Self::Istio => "istio",
            Self::Kgateway => "kgateway",
            Self::Cilium => "cilium",
            Self::Other => "other",
        }
    }
}

/// `ingress.gateway`: the environment's own Gateway of `class`, or routes attached to the
/// platform's shared Gateway `parent` (`NAMESPACE/NAME[/SECTION]`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatewaySpec {
    /// The GatewayClass of the environment's own Gateway (default `eg`, Envoy Gateway's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"eg")]
    pub class: Option<String>,
    /// A shared Gateway: `NAMESPACE/NAME` (TLS through a ListenerSet) or
    /// `NAMESPACE/NAME/SECTION` (a listener of it; TLS through a ReferenceGrant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"infra/shared-gateway")]
    pub parent: Option<String>,
    /// The Gateway API implementation that programs the Gateway: decides the proxy pods the
    /// NetworkPolicies admit and the idle-timeout policy beside the routes.
    #[serde(default)]
    pub implementation: GatewayImplementation,
    /// Keep rendering the `Ingress` beside the Gateway while traffic moves (README runbook).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_ingress: bool,
    /// The proxy pods the NetworkPolicies admit, when the implementation's default is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_plane: Option<DataPlaneSpec>,
}

/// Where the Gateway's proxy pods run and their labels.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DataPlaneSpec {
    /// The namespace the proxy pods run in.
    #[schemars(example = &"envoy-gateway-system")]
    pub namespace: Namespace,
    /// The labels that select the proxy pods.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Default for IngressSpec {
    fn default() -> Self {
        Self {
            class: default_ingress_class(),
            tls: TlsSource::default(),
            cluster_issuer: None,
            controller_namespace: default_ingress_controller_namespace(),
            gateway: None,
        }
    }
}

fn default_ingress_controller_namespace() -> Namespace {
    Namespace::new("ingress-nginx").expect("valid")
}

fn default_keda_namespace() -> Namespace {
    Namespace::new("keda").expect("valid")
}

fn default_ingress_class() -> String {
    "nginx".to_string()
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConductorSpec {
    /// The Conductor image; pin a version (`init env --conductor-version X`), the same as
    /// Console's.
    #[serde(default = "default_conductor_image")]
    pub image: String,
    /// Conductor pods; 2 or more add anti-affinity, a PodDisruptionBudget and pod-IP
    /// advertising.
    // Kubernetes int32 fields (`spec.replicas`); `model` refuses the rest with the field name.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub replicas: u32,
    /// Route Conductor publicly although it authenticates nothing (`oidc: none` with
    /// `app.conductor: external`): silences `check`'s `unauthenticated-conductor` error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unauthenticated: bool,
}

impl Default for ConductorSpec {
    fn default() -> Self {
        Self {
            image: default_conductor_image(),
            replicas: 1,
            allow_unauthenticated: false,
        }
    }
}

fn default_conductor_image() -> String {
    "dbosdev/conductor:latest".to_string()
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConsoleSpec {
    /// The Console image; the same version as Conductor's.
    #[serde(default = "default_console_image")]
    pub image: String,
    /// Console pods.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub replicas: u32,
}

impl Default for ConsoleSpec {
    fn default() -> Self {
        Self {
            image: default_console_image(),
            replicas: 1,
        }
    }
}

fn default_console_image() -> String {
    "dbosdev/console:latest".to_string()
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppSpec {
    /// The DBOS application's `name` (its DBOS config); narrows the retire drain check and the
    /// KEDA queue depth when several applications share one system database. Never blank: DBOS
    /// treats an empty name as "no name", so `""` would match nothing it records.
    #[serde(default, deserialize_with = "application_name")]
    #[schemars(example = &"shop")]
    pub name: Option<String>,
    /// Replicas of every version that is not autoscaled (never below 1).
    #[serde(default)]
    #[schemars(range(max = 2147483647))]
    pub replicas: Option<u32>,
    /// How the app pods reach Conductor: `in-cluster` (its Service) or `external` (through
    /// the ingress).
    #[serde(default)]
    pub conductor: ConductorConnection,
    /// The SDK the app is written with: it decides the migrate command and the CA variable.
    #[serde(default)]
    pub language: Language,
    /// The migrate Job run before a version starts: its image, command and role.
    #[serde(default)]
    #[schemars(with = "Option<MigrateSpec>")]
    pub migrate: MigrateSpec,
    /// KEDA scaling of the active version on its DBOS queue; absent: fixed `replicas`.
    #[serde(default)]
    pub autoscaling: Option<AutoscalingSpec>,
    /// Whether the app's DBOS config sets Transact Enterprise's `auto_upgrade`: DBOS then moves
    /// older versions' ENQUEUED and DELAYED work to its latest version at once, and PENDING work
    /// after `auto_upgrade_grace_sec`. No SDK reads it from the environment, so this only tells
    /// `version` and `retire` what the app does; it is not rendered into the pods.
    #[serde(default)]
    pub auto_upgrade: bool,
}

/// `app.name`: refused when blank, since the drain check would then count only unclaimed rows.
fn application_name<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let name = Option::<String>::deserialize(deserializer)?;
    match &name {
        Some(text) if text.trim().is_empty() => Err(serde::de::Error::custom(
            "app.name is blank: write the application's DBOS `name` exactly as in its DBOS config, or remove the key",
        )),
        Some(text) if text.trim() != text || text.chars().any(|c| c.is_control() || c == '\\') => {
            Err(serde::de::Error::custom(format!(
                "app.name `{}` has surrounding spaces, a control character or `\\`: write the application's DBOS `name` exactly",
                text.escape_debug()
            )))
        }
        _ => Ok(name),
    }
}

/// The DBOS SDK of the application.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    /// `dbos migrate --sys-db-url ...` from the app image (the `dbos` package's entry point).
    #[default]
    Python,
    /// `npx dbos schema <url>` from the app image's `node_modules` (npx and the app's
    /// directory as the working directory needed).
    Typescript,
    /// The `dbos` CLI ships apart from the app binary: `app.migrate.image` is required.
    Go,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Typescript => "typescript",
            Language::Go => "go",
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MigrateSpec {
    /// Image with the DBOS CLI; defaults to the newest version's image (Python, TypeScript;
    /// required for Go).
    #[serde(default)]
    #[schemars(example = &"ghcr.io/acme/dbos-migrate:v1")]
    pub image: Option<String>,
    /// The command, replacing the language's default (`--app-role <role>` is appended). The
    /// system database URL is in the container's `DBOS_SYSTEM_DATABASE_URL`; write
    /// `$(DBOS_SYSTEM_DATABASE_URL)` in an argument for Kubernetes to expand it.
    #[serde(default)]
    #[schemars(example = ["dbos", "migrate", "--sys-db-url", "$(DBOS_SYSTEM_DATABASE_URL)"])]
    pub command: Option<Vec<String>>,
    /// The PostgreSQL role the migration grants the app's tables to (`--app-role`).
    #[serde(default = "default_app_role")]
    pub app_role: String,
}

impl Default for MigrateSpec {
    fn default() -> Self {
        Self {
            image: None,
            command: None,
            app_role: default_app_role(),
        }
    }
}

fn default_app_role() -> String {
    "dbos_app_role".to_string()
}

#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum TriggerKind {
    /// KEDA polls the app's queue-length endpoint; keeps at least one replica.
    #[default]
    MetricsApi,
    /// KEDA counts the queue's rows in the system database; allows `min-replicas: 0`.
    Postgresql,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AutoscalingSpec {
    /// What KEDA scales on: `metrics-api` (the app's endpoint) or `postgresql` (the queue's
    /// rows in the system database).
    #[serde(default)]
    pub trigger: TriggerKind,
    /// The DBOS queue whose depth is scaled on.
    #[schemars(example = &"taskQueue")]
    pub queue: String,
    /// Workflows one replica runs at once: KEDA's target queue depth per replica.
    #[schemars(example = 2)]
    pub worker_concurrency: u32,
    /// The fewest replicas (0 only with `trigger: postgresql`).
    // KEDA's `minReplicaCount` and `maxReplicaCount` are int32.
    #[serde(default)]
    #[schemars(range(max = 2147483647))]
    #[schemars(example = 1)]
    pub min_replicas: Option<u32>,
    /// The most replicas.
    #[serde(default = "default_max_replicas")]
    #[schemars(range(max = 2147483647))]
    pub max_replicas: u32,
    /// The namespace KEDA's operator runs in (it polls the app for `metrics-api`).
    #[serde(default = "default_keda_namespace")]
    pub keda_namespace: Namespace,
}

fn default_max_replicas() -> u32 {
    10
}

/// `versions.yaml`: the application versions of one environment, maintained by the `version`
/// and `retire` commands (a tool-owned side file, so `env.yaml` keeps the human's comments).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "versions.yaml")]
pub struct VersionsSpec {
    /// The version the Service and the autoscaler point at; absent only while no version exists.
    #[serde(default)]
    #[schemars(example = &"v2")]
    pub active: Option<VersionName>,
    /// Every version that runs, one Deployment `dbos-app-<name>` each (`version add`; removed
    /// by `retire` once drained).
    #[serde(default)]
    pub versions: Vec<VersionSpec>,
}

/// One application version.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VersionSpec {
    /// The version's name: a DNS-1123 label, also its DBOS application version.
    #[schemars(example = &"v2")]
    pub name: VersionName,
    /// The version's image.
    #[schemars(example = &"ghcr.io/acme/app:v2")]
    pub image: String,
}

/// `dex-users.yaml`: the Dex static users of one environment, maintained by `dex add-user` and
/// `dex remove-user` (a tool-owned side file, like `versions.yaml`). Their bcrypt hashes are not
/// here: each lives under its own key of the sealed `dex-users` secret, so adding or removing a
/// user never re-seals the others.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "dex-users.yaml")]
pub struct DexUsersSpec {
    /// Dex's static users (`dex add-user`, `dex remove-user`).
    #[serde(default)]
    pub users: Vec<DexUserSpec>,
}

/// One Dex static user.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DexUserSpec {
    /// The login name, lowercase (Dex compares emails case-insensitively).
    #[schemars(example = &"admin@acme.com")]
    pub email: String,
    /// The display name Dex gives the user (its static password `username`).
    #[schemars(example = &"admin")]
    pub username: String,
    /// Dex's `userID`: the stable `sub` claim. Kept when the password changes.
    #[serde(rename = "user-id")]
    pub user_id: String,
    /// The key of the `dex-users` secret holding this user's bcrypt hash.
    pub secret_key: String,
    /// Bumped by each password change: Dex reads hashes only at start, and a new revision
    /// changes the Deployment's config digest, which rolls it.
    #[serde(default = "one")]
    pub password_revision: u32,
}

pub fn parse_dex_users(path: &Path, text: &str) -> Result<DexUsersSpec, DeclareError> {
    crate::yaml::parse_file(path, text).map_err(|error| declare_error(path, error))
}

pub fn dex_users_file_text(spec: &DexUsersSpec) -> String {
    let mut text = format!("{}\n", modelines::DEX_USERS_MODELINE);
    text.push_str(
        "# Dex static users of this environment. Maintained by `dbos-gitops dex add-user|remove-user`;\n\
         # each user's bcrypt hash is sealed under `secret-key` in secrets/dex-users.yaml.\n",
    );
    text.push_str(&crate::yaml::emit(
        &serde_json::to_value(spec).expect("dex users serialise"),
    ));
    text
}

pub fn parse_repo(path: &Path, text: &str) -> Result<RepoSpec, DeclareError> {
    crate::yaml::parse_file(path, text).map_err(|error| declare_error(path, error))
}

pub fn parse_env(path: &Path, text: &str) -> Result<EnvSpec, DeclareError> {
    crate::yaml::parse_file(path, text).map_err(|error| declare_error(path, error))
}

pub fn parse_versions(path: &Path, text: &str) -> Result<VersionsSpec, DeclareError> {
    crate::yaml::parse_file(path, text).map_err(|error| declare_error(path, error))
}

pub fn parse_removal(path: &Path, text: &str) -> Result<RemovalSpec, DeclareError> {
    crate::yaml::parse_file(path, text).map_err(|error| declare_error(path, error))
}

/// The parser's error as the declaration layer's: the same text, with the key's dotted path
/// as `field` when the parser names it.
fn declare_error(path: &Path, error: Error) -> DeclareError {
    let mut declare = match error {
        Error::Declare(declare) => declare,
        Error::Declaration {
            path,
            line,
            column,
            message,
        } => DeclareError::new(path.display().to_string(), line, column, message),
        other => {
            let location = other.location().unwrap_or_default();
            DeclareError {
                file: path.display().to_string(),
                line: location.line,
                column: location.column,
                field: location.field.clone(),
                message: other.message(),
                hint: other.hint_text(),
            }
        }
    };
    if declare.field.is_none() {
        declare.field = field_of_message(&declare.message);
    }
    if let Some(suggestion) = suggest::did_you_mean(&declare.message) {
        declare.hint = Some(match declare.hint.take() {
            Some(hint) => format!("{suggestion} Otherwise {hint}"),
            None => suggestion,
        });
    }
    declare
}

/// serde_yaml puts the path of the value it was reading before its message
/// (`argocd.project: namespace ...`, `conductor: unknown field `replica`, ...`); the field is
/// that path, plus the key named by an unknown- or missing-field message.
pub fn field_of_message(message: &str) -> Option<String> {
    let is_path = |text: &str| {
        !text.is_empty()
            && text.chars().all(|character| {
                character.is_ascii_alphanumeric()
                    || matches!(character, '-' | '_' | '.' | '[' | ']')
            })
    };
    let (parent, rest) = match message.split_once(": ") {
        Some((parent, rest)) if is_path(parent) => (Some(parent), rest),
        _ => (None, message),
    };
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|start| rest.strip_prefix(start))
        .and_then(|tail| tail.split_once('`'))
        .map(|(key, _)| key)
        .filter(|key| is_path(key));
    match (parent, named) {
        (Some(parent), Some(key)) => Some(format!("{parent}.{key}")),
        (None, Some(key)) => Some(key.to_string()),
        (parent, None) => parent.map(str::to_string),
    }
}

/// The text `init` writes for the repository declaration.
pub fn repo_file_text(spec: &RepoSpec) -> String {
    format!(
        "{modeline}\n\
         # dbos-gitops repository declaration. `dbos-gitops build` compiles base/, environments/\n\
         # and argocd/ from this file and each environments/<env>/env.yaml.\n\
         repo-url: {}\n\
         revision: {}\n\
         argocd:\n  namespace: {}\n  project: {}\n",
        crate::yaml::quote_if_needed(&spec.repo_url),
        crate::yaml::quote_if_needed(&spec.revision),
        spec.argocd.namespace,
        spec.argocd.project,
        modeline = modelines::REPO_MODELINE,
    )
}

/// The text `init env` writes: every setting spelled out with its default and a comment, so the
/// file documents itself. The human owns it from then on.
pub fn env_file_text(spec: &EnvSpec) -> String {
    let quote = crate::yaml::quote_if_needed;
    let routing = match spec.routing {
        Routing::Host => "host",
        Routing::Path => "path",
    };
    let oidc = match spec.oidc {
        Oidc::None => "none",
        Oidc::Dex => "dex",
    };
    let ingress = ingress_block_text(&spec.ingress);
    let allow_unauthenticated = if spec.conductor.allow_unauthenticated {
        "  # Conductor authenticates nothing without OAuth; it is routed publicly anyway.\n  allow-unauthenticated: true\n"
    } else {
        ""
    };
    let connection = match spec.app.conductor {
        ConductorConnection::InCluster => "in-cluster",
        ConductorConnection::External => "external",
    };
    template::fill(
        template::ENV_YAML,
        &[
            ("namespace", spec.namespace.as_str()),
            ("cluster", &quote(&spec.cluster)),
            ("domain", &quote(&spec.domain)),
            ("routing", routing),
            ("oidc", oidc),
            ("ingress", &ingress),
            ("conductor_image", &quote(&spec.conductor.image)),
            ("conductor_replicas", &spec.conductor.replicas.to_string()),
            ("allow_unauthenticated", allow_unauthenticated),
            ("console_image", &quote(&spec.console.image)),
            ("console_replicas", &spec.console.replicas.to_string()),
            ("connection", connection),
            ("language", spec.app.language.as_str()),
            ("app_role", &quote(&spec.app.migrate.app_role)),
        ],
    )
}

/// The `ingress:` block of the env.yaml template: the Gateway API settings when `gateway` is
/// set (the `Ingress` ones then only as comments, unless they differ from the defaults), else
/// the `Ingress` ones as before.
fn ingress_block_text(ingress: &IngressSpec) -> String {
    let quote = crate::yaml::quote_if_needed;
    let mut text = String::from("ingress:\n");
    let class_is_default = ingress.class == default_ingress_class();
    let namespace_is_default =
        ingress.controller_namespace == default_ingress_controller_namespace();
    let gateway_only = ingress
        .gateway
        .as_ref()
        .is_some_and(|gateway| !gateway.keep_ingress);
    if let Some(gateway) = &ingress.gateway {
        text.push_str(&gateway_block_text(gateway));
    }
    let comment = if gateway_only { "# " } else { "" };
    text.push_str(
        "  # The IngressClass of the `Ingress` (without `gateway`, or with `keep-ingress`).\n",
    );
    if gateway_only && class_is_default {
        text.push_str(&format!("  # class: {}\n", quote(&ingress.class)));
    } else {
        text.push_str(&format!("  class: {}\n", quote(&ingress.class)));
    }
    text.push_str(
        "  # self-signed (`dbos-gitops tls` issues and seals it) | cert-manager (needs cluster-issuer)\n",
    );
    text.push_str(&format!(
        "  tls: {}\n",
        match ingress.tls {
            TlsSource::SelfSigned => "self-signed",
            TlsSource::CertManager => "cert-manager",
        }
    ));
    match &ingress.cluster_issuer {
        Some(issuer) => text.push_str(&format!("  cluster-issuer: {}\n", quote(issuer))),
        None => text.push_str("  # cluster-issuer: letsencrypt-prod\n"),
    }
    text.push_str(
        "  # The ingress controller's namespace, admitted by the NetworkPolicies (Ingress).\n",
    );
    let namespace_comment = if gateway_only && namespace_is_default {
        comment
    } else {
        ""
    };
    text.push_str(&format!(
        "  {namespace_comment}controller-namespace: {}\n",
        ingress.controller_namespace
    ));
    text
}

fn gateway_block_text(gateway: &GatewaySpec) -> String {
    let quote = crate::yaml::quote_if_needed;
    let mut text = String::from(
        "  # Gateway API routing: this environment's own Gateway of `class`, or routes on the\n\
         \x20 # platform's shared Gateway `parent: NAMESPACE/NAME[/SECTION]` (README \"Routing\").\n\
         \x20 gateway:\n",
    );
    match (&gateway.class, &gateway.parent) {
        (_, Some(parent)) => {
            if let Some(class) = &gateway.class {
                text.push_str(&format!("    class: {}\n", quote(class)));
            }
            text.push_str(&format!("    parent: {}\n", quote(parent)));
        }
        (Some(class), None) => {
            text.push_str(&format!(
                "    class: {}\n    # parent: infra/shared-gateway\n",
                quote(class)
            ));
        }
        (None, None) => text.push_str("    # class: eg\n    # parent: infra/shared-gateway\n"),
    }
    text.push_str(&format!(
        "    # envoy-gateway | nginx-gateway-fabric | istio | kgateway | cilium | other\n\
         \x20   implementation: {}\n",
        gateway.implementation.as_str()
    ));
    if gateway.keep_ingress {
        text.push_str("    # the Ingress stays while traffic moves; remove once DNS points at the Gateway\n    keep-ingress: true\n");
    } else {
        text.push_str("    # keep-ingress: true   # also render the Ingress while traffic moves to the Gateway\n");
    }
    match &gateway.data_plane {
        Some(plane) => {
            text.push_str(&format!("    data-plane:\n      namespace: {}\n", plane.namespace));
            if plane.labels.is_empty() {
                text.push_str("      labels: {}\n");
            } else {
                text.push_str("      labels:\n");
                for (key, value) in &plane.labels {
                    text.push_str(&format!("        {}: {}\n", quote(key), quote(value)));
                }
            }
        }
        None => text.push_str(
            "    # data-plane:            # the proxy pods the NetworkPolicies admit (default: derived)\n\
             \x20   #   namespace: envoy-gateway-system\n\
             \x20   #   labels: {gateway.envoyproxy.io/owning-gateway-name: dbos}\n",
        ),
    }
    text
}

pub fn versions_file_text(spec: &VersionsSpec) -> String {
    let mut text = format!("{}\n", modelines::VERSIONS_MODELINE);
    text.push_str(
        "# Application versions of this environment, one Deployment each. Maintained by\n\
         # `dbos-gitops version add|activate` and `dbos-gitops retire`.\n",
    );
    text.push_str(&crate::yaml::emit(
        &serde_json::to_value(spec).expect("versions serialise"),
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_env() -> EnvSpec {
        parse_env(
            Path::new("env.yaml"),
            "namespace: dbos-prod\ndomain: dbos.acme.com\n",
        )
        .unwrap()
    }

    #[test]
    fn defaults_fill_a_minimal_env() {
        let spec = sample_env();
        assert_eq!(spec.cluster, DEFAULT_CLUSTER);
        assert_eq!(spec.routing, Routing::Host);
        assert_eq!(spec.conductor.replicas, 1);
        assert_eq!(spec.app.migrate.app_role, "dbos_app_role");
    }

    #[test]
    fn the_written_env_file_parses_back_to_the_same_spec() {
        let mut spec = sample_env();
        spec.routing = Routing::Path;
        spec.conductor.replicas = 3;
        let text = env_file_text(&spec);
        assert_eq!(
            parse_env(Path::new("env.yaml"), &text).unwrap(),
            spec,
            "{text}"
        );
    }

    #[test]
    fn issue_10_settings_round_trip_and_default() {
        let spec = sample_env();
        assert_eq!(spec.ingress.controller_namespace.as_str(), "ingress-nginx");
        assert_eq!(spec.app.language, Language::Python);
        assert!(!spec.conductor.allow_unauthenticated);
        let mut spec = spec;
        spec.ingress.controller_namespace = Namespace::new("nginx-system").unwrap();
        spec.app.language = Language::Typescript;
        spec.conductor.allow_unauthenticated = true;
        let text = env_file_text(&spec);
        assert!(text.contains("  allow-unauthenticated: true\n"), "{text}");
        assert_eq!(
            parse_env(Path::new("env.yaml"), &text).unwrap(),
            spec,
            "{text}"
        );
        let keda = parse_env(
            Path::new("env.yaml"),
            "namespace: d\ndomain: x.com\napp:\n  autoscaling:\n    queue: q\n    worker-concurrency: 1\n",
        )
        .unwrap();
        assert_eq!(
            keda.app.autoscaling.unwrap().keda_namespace.as_str(),
            "keda"
        );
    }

    #[test]
    fn gateway_settings_round_trip_and_stay_absent_by_default() {
        assert!(sample_env().ingress.gateway.is_none());
        let text = env_file_text(&sample_env());
        assert!(!text.contains("gateway:"), "{text}");
        for gateway in [
            GatewaySpec {
                class: Some("eg".into()),
                ..GatewaySpec::default()
            },
            GatewaySpec {
                parent: Some("infra/shared/https".into()),
                implementation: GatewayImplementation::Istio,
                keep_ingress: true,
                data_plane: Some(DataPlaneSpec {
                    namespace: Namespace::new("edge").unwrap(),
                    labels: [("app.kubernetes.io/name".to_string(), "edge".to_string())].into(),
                }),
                class: None,
            },
        ] {
            let mut spec = sample_env();
            spec.ingress.gateway = Some(gateway);
            let text = env_file_text(&spec);
            assert_eq!(
                parse_env(Path::new("env.yaml"), &text).unwrap(),
                spec,
                "{text}"
            );
        }
    }

    #[test]
    fn tls_settings_and_dex_users_round_trip() {
        let mut spec = sample_env();
        spec.ingress.tls = TlsSource::CertManager;
        spec.ingress.cluster_issuer = Some("letsencrypt-prod".into());
        let text = env_file_text(&spec);
        assert_eq!(parse_env(Path::new("env.yaml"), &text).unwrap(), spec);
        assert!(env_file_text(&sample_env()).contains("tls: self-signed\n  # cluster-issuer:"));
        let users = DexUsersSpec {
            users: vec![DexUserSpec {
                email: "admin@acme.com".into(),
                username: "on".into(),
                user_id: "0".into(),
                secret_key: "admin-acme-com".into(),
                password_revision: 3,
            }],
        };
        let text = dex_users_file_text(&users);
        assert_eq!(
            parse_dex_users(Path::new(DEX_USERS_FILE), &text).unwrap(),
            users,
            "{text}"
        );
    }

    #[test]
    fn unknown_fields_and_bad_names_are_errors_with_lines() {
        let error = parse_env(
            Path::new("env.yaml"),
            "namespace: dbos\ndomain: x.com\nconductor:\n  replica: 2\n",
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("env.yaml:4:"), "{text}");
        assert!(text.contains("unknown field `replica`"), "{text}");
        let error = parse_env(Path::new("env.yaml"), "namespace: Dbos\ndomain: x\n").unwrap_err();
        assert!(error.to_string().contains("DNS-1123"), "{error}");
        assert_eq!(error.field.as_deref(), Some("namespace"));
    }

    #[test]
    fn declaration_errors_carry_the_field_as_data() {
        let error = parse_env(
            Path::new("env.yaml"),
            "namespace: dbos\ndomain: x.com\nconductor:\n  replica: 2\n",
        )
        .unwrap_err();
        assert_eq!(error.field.as_deref(), Some("conductor.replica"));
        assert_eq!((error.line, error.column), (4, 3));
        let error = parse_repo(
            Path::new("dbos-gitops.yaml"),
            "repo-url: x\nargocd:\n  namespace: argocd\n  project: \"a b/c\"\n",
        )
        .unwrap_err();
        assert_eq!(error.field.as_deref(), Some("argocd.project"));
        assert_eq!(error.line, 4, "{error}");
        assert!(error.message.contains("Argo CD project `a b/c`"), "{error}");
        let wrapped = crate::error::Error::from(error);
        let location = wrapped.location().unwrap();
        assert_eq!(location.field.as_deref(), Some("argocd.project"));
        assert!(std::error::Error::source(&wrapped).is_some());
        assert!(wrapped.hint_text().is_some());
        assert_eq!(
            field_of_message("missing field `domain`").as_deref(),
            Some("domain")
        );
        assert_eq!(field_of_message("invalid type: string"), None);
    }
}
