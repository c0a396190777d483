//! The Ingress: host routing by default (one host per service), the guide's path routing with
//! regex rewrites as an option; TLS for every host (sealed self-signed, or issued by cert-manager);
//! WebSocket-safe timeouts for Conductor.
//!
//! Conductor's WebSocket gets an Ingress of its own, `dbos-conductor-websocket`, with the
//! access log off (#21.7): the SDKs dial `<conductor-url>/websocket/<app>/<api key>`, and
//! ingress-nginx logs every request's path. Its `enable-access-log` annotation is read per
//! Ingress and becomes `access_log off;` in the locations that Ingress contributes
//! (ingress-nginx `internal/ingress/annotations/log`: location scope, risk `Low`, so no
//! `annotations-risk-level` refuses it; its `nginx.tmpl` location block), so only the
//! WebSocket's requests go unlogged. ingress-nginx merges the Ingresses of one host into
//! one server; with `use-regex` on any of them every path of the host is a regex tried longest
//! first, so the WebSocket's longer path wins over Conductor's catch-all exactly where the
//! HTTPRoute's longer `/websocket` prefix does.

use serde_json::{json, Map, Value};

use super::meta;
use crate::declare::Routing;
use crate::model::{Environment, CONDUCTOR_WEBSOCKET_PREFIX, CONDUCTOR_WEBSOCKET_REGEX};

pub use crate::inventory::TLS_SECRET;

/// The Conductor-only Ingress that carries the WebSocket with the access log off.
pub const WEBSOCKET_INGRESS: &str = "dbos-conductor-websocket";

/// The Ingress `dbos`, and the Conductor WebSocket's own Ingress when Conductor is routed.
pub fn documents(env: &Environment) -> Vec<Value> {
    let mut documents = vec![ingress(env)];
    documents.extend(conductor_websocket(env));
    documents
}

/// The annotations both Ingresses share: the rewrite of path routing, the timeouts, the wave.
fn annotations(env: &Environment) -> Map<String, Value> {
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
    annotations
}

fn path(path: &str, regex: bool, service: &str, port: u16) -> Value {
    json!({
        "path": path,
        "pathType": if regex { "ImplementationSpecific" } else { "Prefix" },
        "backend": { "service": { "name": service, "port": { "number": port } } }
    })
}

fn object(name: &str, annotations: Map<String, Value>, spec: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": name,
            "labels": meta::labels(name, "ingress"),
            "annotations": annotations,
        },
        "spec": spec,
    })
}

fn ingress(env: &Environment) -> Value {
    let mut annotations = annotations(env);
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
                path(
                    candidate.path.unwrap_or("/"),
                    candidate.path.is_some(),
                    candidate.service,
                    candidate.port,
                )
            })
            .collect();
        rules.push(json!({ "host": host, "http": { "paths": paths } }));
    }
    let spec = json!({
        "ingressClassName": env.ingress_class,
        "tls": [ { "hosts": env.host_names(), "secretName": TLS_SECRET } ],
        "rules": rules,
    });
    object("dbos", annotations, spec)
}

/// Conductor's WebSocket path alone, same backend and rewrite as Conductor's rule in `dbos`,
/// with the access log off. No cert-manager annotation: the `dbos` Ingress's Certificate
/// already covers the host (a second one would claim the same `dbos-tls`); the `tls` entry
/// names the same Secret so the merged server serves it either way.
fn conductor_websocket(env: &Environment) -> Option<Value> {
    let conductor = env.hosts.iter().find(|host| host.service == "conductor")?;
    let mut annotations = annotations(env);
    annotations.insert(
        "nginx.ingress.kubernetes.io/enable-access-log".into(),
        json!("false"),
    );
    let websocket = match env.routing {
        Routing::Host => path(
            CONDUCTOR_WEBSOCKET_PREFIX,
            false,
            conductor.service,
            conductor.port,
        ),
        Routing::Path => path(
            CONDUCTOR_WEBSOCKET_REGEX,
            true,
            conductor.service,
            conductor.port,
        ),
    };
    let spec = json!({
        "ingressClassName": env.ingress_class,
        "tls": [ { "hosts": [conductor.host], "secretName": TLS_SECRET } ],
        "rules": [ { "host": conductor.host, "http": { "paths": [websocket] } } ],
    });
    Some(object(WEBSOCKET_INGRESS, annotations, spec))
}
