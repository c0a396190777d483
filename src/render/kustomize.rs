//! The environment's kustomization: the base, the env's own resources, one overlay per version,
//! its SealedSecrets as they are (never renamed: no prefixes, suffixes or generators over them),
//! the namespace they were sealed for, and the `dbos-ca` ConfigMap of a self-signed certificate.

use serde_json::{json, Value};

use super::meta;
use crate::declare::TlsSource;
use crate::model::Environment;

pub use crate::layout::{DEX_CONFIG_FILE, DEX_PATCH_FILE};
/// The ConfigMap holding the ingress certificate (`tls.crt`) for in-cluster trust.
pub const CA_CONFIG_MAP: &str = "dbos-ca";
/// The Gateway API objects of an environment (#21).
pub const GATEWAY_FILE: &str = "gateway.yaml";

pub fn env_kustomization(env: &Environment) -> Value {
    let mut resources = vec![json!("../../base")];
    if env.ingress_rendered {
        resources.push(json!("ingress.yaml"));
    }
    if env.gateway.is_some() {
        resources.push(json!(GATEWAY_FILE));
    }
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
    if env.tls == TlsSource::CertManager {
        components.push(json!("../../base/components/cert-manager"));
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
    patches.extend(controller_namespace_patches(env));
    kustomization["patches"] = Value::Array(patches);
    if env.ca_bundle {
        // The self-signed certificate's public half for in-cluster clients (the app's trust
        // init container). A fixed name: the versions' Deployments refer to it.
        kustomization["configMapGenerator"] = json!([ {
            "name": CA_CONFIG_MAP,
            "files": [crate::declare::TLS_CERT_FILE],
            "options": {
                "disableNameSuffixHash": true,
                "labels": { "app.kubernetes.io/name": CA_CONFIG_MAP },
            },
        } ]);
    }
    super::bootstrap::extend(env, &mut kustomization);
    kustomization["labels"] = json!([ { "pairs": {
        "app.kubernetes.io/part-of": meta::PART_OF,
        "app.kubernetes.io/managed-by": meta::MANAGED_BY,
    } } ]);
    kustomization
}

/// The base's NetworkPolicies name the controllers' default namespaces; these JSON patches put
/// in the environment's own (`ingress.controller-namespace`, `app.autoscaling.keda-namespace`)
/// and drop the KEDA peer when nothing is autoscaled (no ScaledObject polls the app then).
/// With Gateway API (#21) the first peer (the ingress controller's) becomes the Gateway's
/// proxy pods, by namespace and pod labels; during the move (`keep-ingress`) both are admitted.
fn controller_namespace_patches(env: &Environment) -> Vec<Value> {
    const NAMESPACE_LABEL: &str = "namespaceSelector/matchLabels/kubernetes.io~1metadata.name";
    let (first, last) = data_plane_ops(env);
    let replace_ingress_peer = |policy: &str| -> Value {
        let mut operations = first.clone();
        operations.extend(last.clone());
        patch(policy, operations)
    };
    let mut patches = vec![
        replace_ingress_peer("allow-conductor-ingress"),
        replace_ingress_peer("allow-console-ingress"),
        replace_ingress_peer("allow-dex-ingress"),
    ];
    if env.tls == TlsSource::CertManager {
        patches.push(replace_ingress_peer("allow-acme-http01-solver"));
    }
    let mut app = first.clone();
    app.push(match &env.keda_namespace {
        Some(keda) => json!({ "op": "replace", "path": format!("/spec/ingress/0/from/1/{NAMESPACE_LABEL}"), "value": keda.as_str() }),
        None => json!({ "op": "remove", "path": "/spec/ingress/0/from/1" }),
    });
    app.extend(last);
    patches.push(patch("allow-dbos-app-ingress", app));
    patches
}

/// The operations on the base's first peer (the ingress controller's namespace): applied
/// first (replace it) and last (insert the Gateway's peer before it, when both are admitted).
fn data_plane_ops(env: &Environment) -> (Vec<Value>, Vec<Value>) {
    const NAMESPACE_LABEL: &str = "namespaceSelector/matchLabels/kubernetes.io~1metadata.name";
    let ingress = json!({ "op": "replace", "path": format!("/spec/ingress/0/from/0/{NAMESPACE_LABEL}"), "value": env.ingress_controller_namespace.as_str() });
    let Some(gateway) = &env.gateway else {
        return (vec![ingress], Vec::new());
    };
    let peer = gateway_peer(gateway);
    if env.ingress_rendered {
        (
            vec![ingress],
            vec![json!({ "op": "add", "path": "/spec/ingress/0/from/0", "value": peer })],
        )
    } else {
        (
            vec![json!({ "op": "replace", "path": "/spec/ingress/0/from/0", "value": peer })],
            Vec::new(),
        )
    }
}

/// The Gateway's proxy pods as a NetworkPolicy peer (namespace AND pod labels). Cilium's
/// proxy has no selectable identity: the peer then selects no pod (so default-deny still holds
/// and an empty `from` never admits everyone) and `check` says which CiliumNetworkPolicy to add.
fn gateway_peer(gateway: &crate::model::Gateway) -> Value {
    match &gateway.peer {
        Some(peer) => json!({
            "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": peer.namespace } },
            "podSelector": { "matchLabels": peer.labels },
        }),
        None => json!({
            "podSelector": { "matchLabels": { NO_PEER_LABEL: "cilium-ingress-identity" } },
        }),
    }
}

/// The label of the peer that selects no pod (Cilium, see `gateway_peer`).
pub const NO_PEER_LABEL: &str = "dbos-gitops.dev/no-kubernetes-peer";

fn patch(policy: &str, operations: Vec<Value>) -> Value {
    json!({
        "target": { "kind": "NetworkPolicy", "name": policy },
        "patch": serde_json::to_string(&operations).expect("patch serialises"),
    })
}
