//! The Argo CD bootstrap: an AppProject that allows exactly the kinds we deploy, one Application
//! per environment, and a root Application that syncs this directory.
//!
//! Removing an environment must not delete its running workloads by surprise: Applications carry
//! no `resources-finalizer` (deleting one does not cascade), and the root Application never
//! prunes (`Prune=false`), so a deleted env directory leaves its Application out of sync for a
//! human to remove deliberately.

use serde_json::{json, Value};

use super::{meta, Tree};
use crate::layout::{self, REPO_FILE};
use crate::model::{Environment, Repo};

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
        .collect();
    destinations.sort_by_key(|destination| destination.to_string());
    destinations.dedup();
    let kinds: Vec<Value> = NAMESPACED_KINDS
        .iter()
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
            "project": "default",
            "source": { "repoURL": repo.repo_url, "targetRevision": repo.revision, "path": "argocd" },
            "destination": { "server": crate::declare::DEFAULT_CLUSTER, "namespace": repo.argocd_namespace.as_str() },
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
                "PruneLast=true",
                "RespectIgnoreDifferences=true",
            ],
            "retry": retry(),
        },
    });
    if let (Some(_), Some(active)) = (&env.autoscaling, &env.active) {
        // KEDA's HPA owns the active version's replica count.
        spec["ignoreDifferences"] = json!([ {
            "group": "apps",
            "kind": "Deployment",
            "name": Environment::deployment_name(active),
            "jsonPointers": ["/spec/replicas"],
        } ]);
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": repo.argocd_namespace.as_str(),
            "labels": meta::labels(&name, "argocd"),
            "annotations": { "argocd.argoproj.io/sync-options": "Prune=false" },
        },
        "spec": spec,
    })
}
