//! The Ingress: host routing by default (one host per service), the guide's path routing with
//! regex rewrites as an option; TLS for every host (sealed self-signed, or issued by cert-manager);
//! WebSocket-safe timeouts for Conductor.

use serde_json::{json, Map, Value};

use super::meta;
use crate::declare::Routing;
use crate::model::Environment;

pub use crate::inventory::TLS_SECRET;

pub fn ingress(env: &Environment) -> Value {
    let mut annotations = Map::new();
    if env.routing == Routing::Path {
        annotations.insert(
            "nginx.ingress.kubernetes.io/rewrite-target".into(),
            json!("/$2"),
        );
        annotations.insert(
            "nginx.ingress.kubernetes.io/use-regex".into(),
            json!("true"),
        );
    }
    // Conductor's WebSocket to every app pod stays open for hours; nginx's 60 s default drops it.
    annotations.insert(
        "nginx.ingress.kubernetes.io/proxy-read-timeout".into(),
        json!("3600"),
    );
    annotations.insert(
        "nginx.ingress.kubernetes.io/proxy-send-timeout".into(),
        json!("3600"),
    );
    // The last wave: an Ingress is Progressing until its load balancer status is filled, and
    // nothing may wait for that (`super::gateway::ROUTING_WAVE`).
    annotations.insert(
        "argocd.argoproj.io/sync-wave".into(),
        json!(super::gateway::ROUTING_WAVE),
    );
    if let Some(issuer) = &env.cluster_issuer {
        // cert-manager's ingress-shim issues `dbos-tls` for every host of `spec.tls`.
        annotations.insert("cert-manager.io/cluster-issuer".into(), json!(issuer));
    }

    let mut rules: Vec<Value> = Vec::new();
    for host in env.host_names() {
        let paths: Vec<Value> = env
            .hosts
            .iter()
            .filter(|candidate| candidate.host == host)
            .map(|candidate| {
                json!({
                    "path": candidate.path.unwrap_or("/"),
                    "pathType": if candidate.path.is_some() { "ImplementationSpecific" } else { "Prefix" },
                    "backend": {
                        "service": { "name": candidate.service, "port": { "number": candidate.port } }
                    }
                })
            })
            .collect();
        rules.push(json!({ "host": host, "http": { "paths": paths } }));
    }
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "dbos",
            "labels": meta::labels("dbos", "ingress"),
            "annotations": annotations,
        },
        "spec": {
            "ingressClassName": env.ingress_class,
            "tls": [ { "hosts": env.host_names(), "secretName": TLS_SECRET } ],
            "rules": rules,
        }
    })
}
