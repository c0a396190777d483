//! The Argo CD bootstrap: an AppProject that allows exactly the kinds we deploy, one Application
//! per environment, and a root Application that syncs this directory.
//!
//! Removing an environment must not delete its running workloads by surprise, and may delete
//! them when asked to (`env remove NAME --cascade`, #24.7). Argo CD's rules, as read in the
//! upstream source (argo-cd 3.x and its gitops-engine, `pkg/sync/sync_context.go`):
//!
//! - a sync prunes an object that left Git only when the Application prunes (`automated.prune`)
//!   and the object's *live* copy does not say `argocd.argoproj.io/sync-options: Prune=false`
//!   (`pruneObject`: "ignored (no prune)"); Argo CD 3.4 added an Application-level
//!   `Prune=false` sync option as the default for objects whose annotation names no `Prune`
//!   value (`isPruningDisabled`, `WithDefaultPruneOption` in `controller/sync.go`), which an
//!   object's own `Prune=true` overrides. `Prune=confirm` would hold the whole sync until a
//!   human confirms it, so it is not used;
//! - a prune deletes with foreground propagation (`getDeleteOptions`), and deleting an
//!   Application that carries `resources-finalizer.argocd.argoproj.io` makes the application
//!   controller delete every live object it tracks first (`finalizeApplicationDeletion` in
//!   `controller/appcontroller.go`), but only those its AppProject still permits
//!   (`getPermittedAppLiveObjects`, `AppProject.IsLiveResourcePermitted`).
//!
//! So the root Application prunes (`prune: true`), and every object it syncs says
//! `Prune=false` (the root's own `Prune=false` sync option as the default on 3.4 and later),
//! except the Application of an environment being removed by the cascade: that one says
//! `Prune=true` and carries the finalizer, so once it has synced like that, leaving Git gets it
//! pruned and its objects deleted. A deleted env directory without the cascade leaves its
//! Application (live `Prune=false`) OutOfSync in the root, for a human to remove deliberately.
//! The project keeps a removed environment's destination and kinds while its `removal.yaml` is
//! there (`model::Removal`).

use serde_json::{json, Value};

use super::meta;
use crate::declare::GatewayImplementation;
use crate::layout::Tree;
use crate::layout::{self, REPO_FILE};
use crate::model::{Attachment, Environment, Repo};

/// Namespaced kinds the environments deploy, by API group.
const NAMESPACED_KINDS: &[(&str, &str)] = &[
    ("", "ConfigMap"),
    ("", "Service"),
    ("apps", "Deployment"),
    ("batch", "Job"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
    ("bitnami.com", "SealedSecret"),
    ("keda.sh", "ScaledObject"),
    ("keda.sh", "TriggerAuthentication"),
];

/// The Gateway API and Envoy Gateway kinds some environment renders (#21), in a fixed order:
/// the project admits exactly those (the `Ingress` stays listed so a migrated environment's old
/// Ingress can still be pruned).
fn gateway_kinds(environments: &[Environment]) -> Vec<(&'static str, &'static str)> {
    const GATEWAY: &str = "gateway.networking.k8s.io";
    const ENVOY: &str = "gateway.envoyproxy.io";
    let gateways: Vec<&crate::model::Gateway> = environments
        .iter()
        .filter_map(|env| env.gateway.as_ref())
        .collect();
    let any = |test: &dyn Fn(&crate::model::Gateway) -> bool| gateways.iter().any(|g| test(g));
    let mut kinds = Vec::new();
    if any(&|g| matches!(g.attachment, Attachment::Own { .. })) {
        kinds.push((GATEWAY, "Gateway"));
    }
    if !gateways.is_empty() {
        kinds.push((GATEWAY, "HTTPRoute"));
    }
    if any(&|g| matches!(g.attachment, Attachment::ListenerSet { .. })) {
        kinds.push((GATEWAY, "ListenerSet"));
    }
    if any(&|g| matches!(g.attachment, Attachment::Section { .. })) {
        kinds.push((GATEWAY, "ReferenceGrant"));
    }
    let envoy = |g: &crate::model::Gateway| g.implementation == GatewayImplementation::EnvoyGateway;
    if any(&|g| envoy(g) && !matches!(g.attachment, Attachment::Section { .. })) {
        kinds.push((ENVOY, "ClientTrafficPolicy"));
    }
    if any(&envoy) {
        kinds.push((ENVOY, "BackendTrafficPolicy"));
    }
    // NGINX Gateway Fabric's policy (#21.2), rendered when Conductor is routed.
    let ngf =
        |g: &crate::model::Gateway| g.implementation == GatewayImplementation::NginxGatewayFabric;
    let ngf_routed = environments.iter().any(|env| {
        env.gateway.as_ref().is_some_and(ngf) && env.service_host("conductor").is_some()
    });
    if ngf_routed {
        kinds.push(("gateway.nginx.org", "ProxySettingsPolicy"));
    }
    kinds
}

/// The kinds of the project's whitelist that `env` alone needs beyond the fixed ones, as
/// `group/Kind`: what `removal.yaml` keeps in the project while the cascade deletes them.
pub fn removal_kinds(env: &Environment) -> Vec<String> {
    gateway_kinds(std::slice::from_ref(env))
        .into_iter()
        .map(|(group, kind)| format!("{group}/{kind}"))
        .collect()
}

/// What every object the root syncs says, but a removed environment's Application: never prune.
const NO_PRUNE: &str = "Prune=false";
/// The cascade's finalizer: deleting the Application deletes what it deployed first.
pub const CASCADE_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";
/// The annotation gitops-engine reads sync options from, on the live object.
const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";

pub fn application_name(env: &Environment) -> String {
    format!("dbos-{}", env.name)
}

pub fn render(repo: &Repo, tree: &mut Tree) {
    let source = &format!("{REPO_FILE} and {}", layout::env_file("*"));
    let mut resources = vec![json!("project.yaml"), json!("root.yaml")];
    tree.insert(
        layout::argocd_file("project.yaml"),
        meta::generated_file(source, &[project(repo)]),
    );
    tree.insert(
        layout::argocd_file("root.yaml"),
        meta::generated_file(source, &[root(repo)]),
    );
    for env in &repo.environments {
        let path = layout::application_file(&env.name);
        tree.insert(
            layout::argocd_file(&path),
            meta::generated_file(&layout::env_file(&env.name), &[application(repo, env)]),
        );
        resources.push(json!(path));
    }
    let kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    tree.insert(
        layout::argocd_file(layout::KUSTOMIZATION_FILE),
        meta::generated_file(source, &[kustomization]),
    );
}

fn project(repo: &Repo) -> Value {
    let mut destinations: Vec<Value> = repo
        .environments
        .iter()
        .map(|env| json!({ "server": env.cluster, "namespace": env.namespace.as_str() }))
        // An environment being removed keeps its destination until its record is gone: Argo CD
        // deletes only what the project still permits (`getPermittedAppLiveObjects`).
        .chain(repo.removals.iter().map(
            |removal| json!({ "server": removal.cluster, "namespace": removal.namespace.as_str() }),
        ))
        .chain(std::iter::once(root_destination(repo)))
        .collect();
    destinations.sort_by_key(|destination| destination.to_string());
    destinations.dedup();
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {
            "name": repo.project.as_str(),
            "namespace": repo.argocd_namespace.as_str(),
            "labels": meta::labels(repo.project.as_str(), "argocd"),
            "annotations": { SYNC_OPTIONS: NO_PRUNE },
        },
        "spec": {
            "description": "DBOS Conductor, Console and applications, compiled by dbos-gitops",
            "sourceRepos": [repo.repo_url],
            "destinations": destinations,
            // Only the namespaces Argo CD creates for `CreateNamespace=true`.
            "clusterResourceWhitelist": [ { "group": "", "kind": "Namespace" } ],
            "namespaceResourceWhitelist": project_kinds(repo),
        }
    })
}

/// The namespaced whitelist: the fixed kinds, the gateway kinds some environment renders, the
/// kinds a removed environment's record keeps (once each, in that order), the root's kinds.
fn project_kinds(repo: &Repo) -> Vec<Value> {
    let mut kinds: Vec<(String, String)> = NAMESPACED_KINDS
        .iter()
        .copied()
        .chain(gateway_kinds(&repo.environments))
        .map(|(group, kind)| (group.to_string(), kind.to_string()))
        .collect();
    for kind in repo.removals.iter().flat_map(|removal| &removal.kinds) {
        if !kinds.contains(kind) {
            kinds.push(kind.clone());
        }
    }
    kinds
        .iter()
        .map(|(group, kind)| (group.as_str(), kind.as_str()))
        .chain(ROOT_KINDS.iter().copied())
        .map(|(group, kind)| json!({ "group": group, "kind": kind }))
        .collect()
}

/// What the root Application syncs from `argocd/`: this AppProject and the Applications. Both
/// kinds are namespaced (in the Argo CD namespace), so the project needs them in its namespaced
/// whitelist and that namespace among its destinations, and nothing cluster-wide: Argo CD checks
/// every object an Application manages against its project's whitelist by group and kind
/// (`AppProject.IsGroupKindNamePermitted`, `app_project_types.go`) and its namespace against
/// the project's destinations (`IsDestinationPermitted`).
const ROOT_KINDS: &[(&str, &str)] = &[
    ("argoproj.io", "AppProject"),
    ("argoproj.io", "Application"),
];

/// Where the root Application syncs to: the Argo CD namespace of the cluster Argo CD runs in.
fn root_destination(repo: &Repo) -> Value {
    json!({ "server": crate::declare::DEFAULT_CLUSTER, "namespace": repo.argocd_namespace.as_str() })
}

/// The root Application: in our AppProject, not `default` (hardened installations lock
/// `default` down to nothing). It prunes, but only what opted in (module doc): an object whose
/// live copy says `Prune=false` (all of them but a cascading environment's Application) stays
/// when it leaves `argocd/`; the `Prune=false` sync option makes that the default on Argo CD
/// 3.4 and later for an object that says nothing (older versions ignore the option).
fn root(repo: &Repo) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": "dbos-gitops-root",
            "namespace": repo.argocd_namespace.as_str(),
            "labels": meta::labels("dbos-gitops-root", "argocd"),
            "annotations": { SYNC_OPTIONS: NO_PRUNE },
        },
        "spec": {
            "project": repo.project.as_str(),
            "source": { "repoURL": repo.repo_url, "targetRevision": repo.revision, "path": "argocd" },
            "destination": root_destination(repo),
            "syncPolicy": {
                "automated": { "prune": true, "selfHeal": true },
                "syncOptions": [NO_PRUNE],
                "retry": retry(),
            }
        }
    })
}

fn retry() -> Value {
    json!({ "limit": 5, "backoff": { "duration": "10s", "factor": 2, "maxDuration": "3m" } })
}

/// KEDA's HPA owns the active version's replica count, and an older version keeps the count it
/// had when it was handed over (#20.5): every listed version's `/spec/replicas` is ignored
/// until it is retired. Argo CD matches an ignore rule by group, kind and name
/// (`controller/sync.go` `normalizeTargetResources` through `argo.NewDiffConfigBuilder`), and
/// with `RespectIgnoreDifferences=true` copies the live value of an ignored field into what it
/// applies: a version not named here would get the rendered `replicas` forced on it by
/// server-side apply. A version created later starts at its rendered count (1, or no field
/// when it is the autoscaled one).
fn replica_ignores(env: &Environment) -> Vec<Value> {
    env.versions
        .iter()
        .map(|version| {
            json!({
                "group": "apps",
                "kind": "Deployment",
                "name": Environment::deployment_name(&version.name),
                "jsonPointers": ["/spec/replicas"],
            })
        })
        .collect()
}

fn application(repo: &Repo, env: &Environment) -> Value {
    let name = application_name(env);
    let mut spec = json!({
        "project": repo.project.as_str(),
        "source": {
            "repoURL": repo.repo_url,
            "targetRevision": repo.revision,
            "path": layout::env_dir(&env.name),
        },
        "destination": { "server": env.cluster, "namespace": env.namespace.as_str() },
        "syncPolicy": {
            "automated": { "prune": true, "selfHeal": true },
            "syncOptions": [
                "CreateNamespace=true",
                "ServerSideApply=true",
                "RespectIgnoreDifferences=true",
            ],
            "retry": retry(),
        },
    });
    if let (Some(_), Some(_)) = (&env.autoscaling, &env.active) {
        spec["ignoreDifferences"] = Value::Array(replica_ignores(env));
    }
    // Being removed by the cascade (#24.7): the root may prune it once it leaves Git (the live
    // value replaces `Prune=false` rather than dropping it, so no apply strategy can keep the
    // old one), and deleting it deletes what it deployed.
    let removing = repo.removing(&env.name);
    let mut metadata = json!({
        "name": name,
        "namespace": repo.argocd_namespace.as_str(),
        "labels": meta::labels(&name, "argocd"),
        "annotations": {
            SYNC_OPTIONS: if removing { "Prune=true" } else { NO_PRUNE },
            // Argo CD 3.x: diff through the API server's dry-run apply (Server-Side Diff), the
            // diff that matches server-side apply.
            "argocd.argoproj.io/compare-options": "ServerSideDiff=true",
        },
    });
    if removing {
        metadata["finalizers"] = json!([CASCADE_FINALIZER]);
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": spec,
    })
}
