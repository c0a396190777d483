//! The Argo CD bootstrap: an AppProject that allows exactly the kinds we deploy, one Application
//! per environment, and a root Application that syncs this directory.
//!
//! Removing an environment must not delete its running workloads by surprise: Applications carry
//! no `resources-finalizer` (deleting one does not cascade), and the root Application never
//! prunes (`Prune=false`), so a deleted env directory leaves its Application out of sync for a
//! human to remove deliberately.

use serde_json::{json, Value};

use super::{meta, Tree};
use crate::declare::GatewayImplementation;
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
fn gateway_kinds(repo: &Repo) -> Vec<(&'static str, &'static str)> {
    const GATEWAY: &str = "gateway.networking.k8s.io";
    const ENVOY: &str = "gateway.envoyproxy.io";
    let gateways: Vec<&crate::model::Gateway> = repo
        .environments
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
    let ngf_routed = repo.environments.iter().any(|env| {
        env.gateway.as_ref().is_some_and(ngf) && env.service_host("conductor").is_some()
    });
    if ngf_routed {
        kinds.push(("gateway.nginx.org", "ProxySettingsPolicy"));
    }
    kinds
}

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
        .chain(std::iter::once(root_destination(repo)))
        .collect();
    destinations.sort_by_key(|destination| destination.to_string());
    destinations.dedup();
    let kinds: Vec<Value> = NAMESPACED_KINDS
        .iter()
        .copied()
        .chain(gateway_kinds(repo))
        .chain(ROOT_KINDS.iter().copied())
        .map(|(group, kind)| json!({ "group": group, "kind": kind }))
        .collect();
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {
            "name": repo.project.as_str(),
            "namespace": repo.argocd_namespace.as_str(),
            "labels": meta::labels(repo.project.as_str(), "argocd"),
        },
        "spec": {
            "description": "DBOS Conductor, Console and applications, compiled by dbos-gitops",
            "sourceRepos": [repo.repo_url],
            "destinations": destinations,
            // Only the namespaces Argo CD creates for `CreateNamespace=true`.
            "clusterResourceWhitelist": [ { "group": "", "kind": "Namespace" } ],
            "namespaceResourceWhitelist": kinds,
        }
    })
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
/// `default` down to nothing), and it never prunes: an Application removed from `argocd/`
/// stays in the cluster with everything it deployed (`dbos-gitops env remove` says how to
/// delete it).
fn root(repo: &Repo) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": "dbos-gitops-root",
            "namespace": repo.argocd_namespace.as_str(),
            "labels": meta::labels("dbos-gitops-root", "argocd"),
        },
        "spec": {
            "project": repo.project.as_str(),
            "source": { "repoURL": repo.repo_url, "targetRevision": repo.revision, "path": "argocd" },
            "destination": root_destination(repo),
            "syncPolicy": {
                "automated": { "prune": false, "selfHeal": true },
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
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": repo.argocd_namespace.as_str(),
            "labels": meta::labels(&name, "argocd"),
            "annotations": {
                "argocd.argoproj.io/sync-options": "Prune=false",
                // Argo CD 3.x: diff through the API server's dry-run apply (Server-Side Diff), the
                // diff that matches server-side apply.
                "argocd.argoproj.io/compare-options": "ServerSideDiff=true",
            },
        },
        "spec": spec,
    })
}
