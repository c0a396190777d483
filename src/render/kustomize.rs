//! The environment's kustomization: the base, the env's own resources, one overlay per version,
//! its SealedSecrets as they are (never renamed: no prefixes, suffixes or generators), and the
//! namespace they were sealed for.

use serde_json::{json, Value};

use super::meta;
use crate::model::Environment;

pub fn env_kustomization(env: &Environment) -> Value {
    let mut resources = vec![json!("../../base"), json!("ingress.yaml")];
    if env.autoscaling.is_some() && env.active.is_some() {
        resources.push(json!("autoscaling.yaml"));
    }
    for version in &env.versions {
        resources.push(json!(format!("versions/{}", version.name)));
    }
    for file in &env.secret_files {
        resources.push(json!(format!("secrets/{file}")));
    }
    let mut components = Vec::new();
    if env.conductor_replicas >= 2 {
        components.push(json!("../../base/components/ha"));
    }
    let mut kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": env.namespace.as_str(),
        "resources": resources,
    });
    if !components.is_empty() {
        kustomization["components"] = Value::Array(components);
    }
    kustomization["patches"] = json!([
        { "path": "patches/conductor.yaml" },
        { "path": "patches/console.yaml" },
        { "path": "patches/app-service.yaml" },
        { "path": "patches/migrate.yaml" },
    ]);
    kustomization["labels"] = json!([ { "pairs": {
        "app.kubernetes.io/part-of": meta::PART_OF,
        "app.kubernetes.io/managed-by": meta::MANAGED_BY,
    } } ]);
    kustomization
}
