//! The environment's kustomization: the base, the env's own resources, one overlay per version,
//! its SealedSecrets as they are (never renamed: no prefixes, suffixes or generators over them),
//! the namespace they were sealed for, and the `dbos-ca` ConfigMap of a self-signed certificate.

use serde_json::{json, Value};

use super::meta;
use crate::model::Environment;

pub const DEX_CONFIG_FILE: &str = "dex-config.yaml";
pub const DEX_PATCH_FILE: &str = "patches/dex.yaml";
/// The ConfigMap holding the ingress certificate (`tls.crt`) for in-cluster trust.
pub const CA_CONFIG_MAP: &str = "dbos-ca";

pub fn env_kustomization(env: &Environment) -> Value {
    let mut resources = vec![json!("../../base"), json!("ingress.yaml")];
    if env.autoscaling.is_some() && env.active.is_some() {
        resources.push(json!("autoscaling.yaml"));
    }
    for version in &env.versions {
        resources.push(json!(format!("versions/{}", version.name)));
    }
    if env.dex.is_some() {
        resources.push(json!(DEX_CONFIG_FILE));
    }
    for file in &env.secret_files {
        resources.push(json!(format!("secrets/{file}")));
    }
    let mut components = Vec::new();
    if env.conductor_replicas >= 2 {
        components.push(json!("../../base/components/ha"));
    }
    if env.dex.is_some() {
        components.push(json!("../../base/components/dex"));
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
    let mut patches = vec![
        json!({ "path": "patches/conductor.yaml" }),
        json!({ "path": "patches/console.yaml" }),
        json!({ "path": "patches/app-service.yaml" }),
        json!({ "path": "patches/migrate.yaml" }),
    ];
    if env.dex.is_some() {
        patches.push(json!({ "path": DEX_PATCH_FILE }));
    }
    kustomization["patches"] = Value::Array(patches);
    if env.ca_bundle {
        // The self-signed certificate's public half for in-cluster clients (the app's trust
        // init container). A fixed name: the versions' Deployments refer to it.
        kustomization["configMapGenerator"] = json!([ {
            "name": CA_CONFIG_MAP,
            "files": [crate::spec::TLS_CERT_FILE],
            "options": {
                "disableNameSuffixHash": true,
                "labels": { "app.kubernetes.io/name": CA_CONFIG_MAP },
            },
        } ]);
    }
    kustomization["labels"] = json!([ { "pairs": {
        "app.kubernetes.io/part-of": meta::PART_OF,
        "app.kubernetes.io/managed-by": meta::MANAGED_BY,
    } } ]);
    kustomization
}
