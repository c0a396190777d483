//! Gateway API routing (#21): the environment's own Gateway (or a ListenerSet on a shared
//! Gateway, or a ReferenceGrant for a shared Gateway's listener), the HTTPRoutes, and Envoy
//! Gateway's timeout policies.
//!
//! Rules relied on (gateway-api `apis/v1/httproute_types.go`, v1.6.1): a `PathPrefix` match is
//! element-wise (`/app` matches `/app` and `/app/x`, not `/apps`); among matching rules the
//! longest prefix wins; `ReplacePrefixMatch` swaps the matched prefix for its value
//! (`/conductor-api/x` with `/` becomes `/x`); `timeouts.request: 0s` disables the request
//! timeout. Envoy Gateway's default route timeout is 15 s (its "HTTP timeouts" task), which
//! would end every Conductor WebSocket: that rule says `0s`.
//!
//! Sync wave: `ROUTING_WAVE`, after every workload (see `ROUTING_WAVE`).

use serde_json::{json, Map, Value};

use super::meta;
use crate::declare::{GatewayImplementation, Routing, TlsSource};
use crate::model::{
    Attachment, Environment, Gateway, Host, CONDUCTOR_WEBSOCKET_PREFIX as WEBSOCKET_PATH,
    GATEWAY_NAME,
};

pub use crate::inventory::TLS_SECRET;

/// The wave of every object whose health depends on infrastructure outside the environment
/// (Ingress, Gateway, ListenerSet, HTTPRoute): after the Service switch (3) and the
/// autoscaler (4). gitops-engine (`pkg/sync/sync_context.go`) waits for a wave's resources to
/// be healthy only while later waves remain, and ends the sync successfully once the final
/// wave is applied; Argo CD reports an Ingress Progressing until `status.loadBalancer.ingress`
/// is filled (`pkg/health/health_ingress.go`) and a Gateway, ListenerSet or HTTPRoute until its
/// conditions say Programmed/Accepted (argo-cd `resource_customizations/
/// gateway.networking.k8s.io/*/health.lua`). In the last wave they hold back nothing.
pub const ROUTING_WAVE: &str = "5";

const API: &str = "gateway.networking.k8s.io/v1";
const GROUP: &str = "gateway.networking.k8s.io";
const ENVOY_API: &str = "gateway.envoyproxy.io/v1alpha1";
/// Idle timeouts for Envoy Gateway: the SDKs ping every 20 s (dbos-transact-py
/// `dbos/_conductor/conductor.py` `ping_interval = 20`, -ts `src/conductor/conductor.ts`
/// `pingPeriodMs = 20000`, -golang `dbos/conductor.go` `_PING_INTERVAL = 20s`; see
/// `super::ngf`), so a quiet Conductor connection is never idle for more than ~20 s; an hour
/// (nginx's 3600 s of the Ingress) leaves a wide margin and still reaps dead peers.
const IDLE_TIMEOUT: &str = "3600s";

pub fn documents(env: &Environment, gateway: &Gateway) -> Vec<Value> {
    let mut documents = Vec::new();
    match &gateway.attachment {
        Attachment::Own { class } => documents.push(own_gateway(env, class)),
        Attachment::ListenerSet { namespace, name } => {
            documents.push(listener_set(env, namespace.as_str(), name))
        }
        Attachment::Section { namespace, .. } => {
            documents.push(reference_grant(namespace.as_str()))
        }
    }
    documents.extend(routes(env, gateway));
    match gateway.implementation {
        GatewayImplementation::EnvoyGateway => documents.extend(envoy_policies(env, gateway)),
        GatewayImplementation::NginxGatewayFabric => {
            // Without a public Conductor route the Console reaches it in-cluster: no policy.
            if let Some(conductor) = env.hosts.iter().find(|host| host.service == "conductor") {
                documents.push(super::ngf::policy(
                    &route_name(env, conductor),
                    ROUTING_WAVE,
                ));
            }
        }
        _ => {}
    }
    documents
}

fn annotations(env: &Environment, with_issuer: bool) -> Value {
    let mut annotations = Map::new();
    annotations.insert("argocd.argoproj.io/sync-wave".into(), json!(ROUTING_WAVE));
    if let (true, Some(issuer)) = (with_issuer, &env.cluster_issuer) {
        // cert-manager's gateway-shim issues `dbos-tls` for the listeners that name it.
        annotations.insert("cert-manager.io/cluster-issuer".into(), json!(issuer));
    }
    Value::Object(annotations)
}

fn metadata(env: &Environment, name: &str, with_issuer: bool) -> Value {
    json!({
        "name": name,
        "labels": meta::labels(name, "routing"),
        "annotations": annotations(env, with_issuer),
    })
}

/// One HTTPS listener per host name (`https-<first label>`, `https` with path routing), and
/// with cert-manager one HTTP listener per host for the HTTP-01 solver's route.
fn listeners(env: &Environment, same_namespace: bool) -> Vec<Value> {
    let allowed = json!({ "namespaces": { "from": "Same" } });
    let mut listeners = Vec::new();
    for host in env.host_names() {
        let mut listener = json!({
            "name": listener_name("https", env, &host),
            "hostname": host,
            "protocol": "HTTPS",
            "port": 443,
            "tls": { "mode": "Terminate", "certificateRefs": [ { "kind": "Secret", "name": TLS_SECRET } ] },
        });
        if same_namespace {
            listener["allowedRoutes"] = allowed.clone();
        }
        listeners.push(listener);
    }
    if env.tls == TlsSource::CertManager {
        for host in env.host_names() {
            let mut listener = json!({
                "name": listener_name("http", env, &host),
                "hostname": host,
                "protocol": "HTTP",
                "port": 80,
            });
            if same_namespace {
                listener["allowedRoutes"] = allowed.clone();
            }
            listeners.push(listener);
        }
    }
    listeners
}

fn listener_name(scheme: &str, env: &Environment, host: &str) -> String {
    match env.routing {
        Routing::Path => scheme.to_string(),
        Routing::Host => {
            let label = host.split('.').next().unwrap_or(host);
            format!("{scheme}-{label}")
        }
    }
}

fn own_gateway(env: &Environment, class: &str) -> Value {
    json!({
        "apiVersion": API,
        "kind": "Gateway",
        "metadata": metadata(env, GATEWAY_NAME, true),
        "spec": { "gatewayClassName": class, "listeners": listeners(env, true) },
    })
}

fn listener_set(env: &Environment, namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": API,
        "kind": "ListenerSet",
        "metadata": metadata(env, GATEWAY_NAME, true),
        "spec": {
            "parentRef": { "group": GROUP, "kind": "Gateway", "namespace": namespace, "name": name },
            "listeners": listeners(env, true),
        },
    })
}

/// Lets the shared Gateway's listener (in `namespace`) read `dbos-tls` here. No health in
/// Argo CD: it never holds a wave; it goes in wave -1 with the sealed certificate.
fn reference_grant(namespace: &str) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1beta1",
        "kind": "ReferenceGrant",
        "metadata": {
            "name": TLS_SECRET,
            "labels": meta::labels(TLS_SECRET, "routing"),
            "annotations": { "argocd.argoproj.io/sync-wave": "-1" },
        },
        "spec": {
            "from": [ { "group": GROUP, "kind": "Gateway", "namespace": namespace } ],
            "to": [ { "group": "", "kind": "Secret", "name": TLS_SECRET } ],
        },
    })
}

fn parent_ref(env: &Environment, gateway: &Gateway, host: &str) -> Value {
    let section = listener_name("https", env, host);
    match &gateway.attachment {
        Attachment::Own { .. } => json!({ "name": GATEWAY_NAME, "sectionName": section }),
        Attachment::ListenerSet { .. } => json!({
            "group": GROUP, "kind": "ListenerSet", "name": GATEWAY_NAME, "sectionName": section,
        }),
        Attachment::Section {
            namespace,
            name,
            section,
        } => json!({ "namespace": namespace.as_str(), "name": name, "sectionName": section }),
    }
}

/// The HTTPRoute name of a host route: `dbos-<subdomain>`; one `dbos` route with path routing.
pub fn route_name(env: &Environment, host: &Host) -> String {
    match env.routing {
        Routing::Path => "dbos".to_string(),
        Routing::Host => format!("dbos-{}", host.host.split('.').next().unwrap_or("")),
    }
}

fn routes(env: &Environment, gateway: &Gateway) -> Vec<Value> {
    let mut routes: Vec<(String, String, Vec<Value>)> = Vec::new();
    for host in &env.hosts {
        let name = route_name(env, host);
        let rules = rules(host, env.routing, gateway.implementation);
        match routes.iter_mut().find(|(existing, _, _)| *existing == name) {
            Some((_, _, existing)) => existing.extend(rules),
            None => routes.push((name, host.host.clone(), rules)),
        }
    }
    routes
        .into_iter()
        .map(|(name, host, rules)| {
            json!({
                "apiVersion": API,
                "kind": "HTTPRoute",
                "metadata": metadata(env, &name, false),
                "spec": {
                    "parentRefs": [ parent_ref(env, gateway, &host) ],
                    "hostnames": [ host ],
                    "rules": rules,
                },
            })
        })
        .collect()
}

/// Whether the implementation has a request timeout a WebSocket must be exempted from with
/// the standard `timeouts.request: 0s` (HTTPRouteRequestTimeout, an extended feature): the
/// Envoy-based ones (Envoy's route timeout defaults to 15 s). NGINX applies no whole-request
/// deadline; for `other` we cannot know, and `check` warns.
fn exempt_websocket(implementation: GatewayImplementation) -> bool {
    matches!(
        implementation,
        GatewayImplementation::EnvoyGateway
            | GatewayImplementation::Istio
            | GatewayImplementation::Kgateway
            | GatewayImplementation::Cilium
    )
}

/// The route rules of one Service: its prefix (`/` with host routing), rewritten to `/` where
/// the Ingress rewrote it; Conductor's WebSocket prefix first, without a request timeout.
fn rules(host: &Host, routing: Routing, implementation: GatewayImplementation) -> Vec<Value> {
    let prefix = match routing {
        Routing::Host => "",
        Routing::Path => match host.service {
            "conductor" => "/conductor-api",
            "dbos-app" => "/app",
            "dex" => "/dex",
            _ => "",
        },
    };
    // Dex serves under its issuer path `/dex`: never rewritten.
    let rewrite = !prefix.is_empty() && host.service != "dex";
    let backend = json!([ { "name": host.service, "port": host.port } ]);
    let rule = |path: String, replacement: &str| {
        let mut rule = json!({
            "matches": [ { "path": { "type": "PathPrefix", "value": path } } ],
            "backendRefs": backend,
        });
        if rewrite {
            rule["filters"] = json!([ { "type": "URLRewrite", "urlRewrite": { "path": {
                "type": "ReplacePrefixMatch", "replacePrefixMatch": replacement,
            } } } ]);
        }
        rule
    };
    let mut rules = Vec::new();
    if host.service == "conductor" {
        let mut websocket = rule(format!("{prefix}{WEBSOCKET_PATH}"), WEBSOCKET_PATH);
        if exempt_websocket(implementation) {
            websocket["timeouts"] = json!({ "request": "0s" });
        }
        rules.push(websocket);
    }
    let whole = if prefix.is_empty() { "/" } else { prefix };
    rules.push(rule(whole.to_string(), "/"));
    rules
}

/// Envoy Gateway's idle timeouts: the listener side (ClientTrafficPolicy on our Gateway or
/// ListenerSet; a shared Gateway's own listener is the platform's to tune, `check` says so) and
/// the upstream side on every route (BackendTrafficPolicy).
fn envoy_policies(env: &Environment, gateway: &Gateway) -> Vec<Value> {
    let mut documents = Vec::new();
    let target = match &gateway.attachment {
        Attachment::Own { .. } => Some("Gateway"),
        Attachment::ListenerSet { .. } => Some("ListenerSet"),
        Attachment::Section { .. } => None,
    };
    if let Some(kind) = target {
        documents.push(json!({
            "apiVersion": ENVOY_API,
            "kind": "ClientTrafficPolicy",
            "metadata": metadata(env, GATEWAY_NAME, false),
            "spec": {
                "targetRefs": [ { "group": GROUP, "kind": kind, "name": GATEWAY_NAME } ],
                "timeout": { "http": { "idleTimeout": IDLE_TIMEOUT, "streamIdleTimeout": IDLE_TIMEOUT } },
            },
        }));
    }
    let mut names: Vec<String> = env.hosts.iter().map(|host| route_name(env, host)).collect();
    names.dedup();
    let targets: Vec<Value> = names
        .iter()
        .map(|name| json!({ "group": GROUP, "kind": "HTTPRoute", "name": name }))
        .collect();
    documents.push(json!({
        "apiVersion": ENVOY_API,
        "kind": "BackendTrafficPolicy",
        "metadata": metadata(env, GATEWAY_NAME, false),
        "spec": {
            "targetRefs": targets,
            "timeout": { "http": {
                "connectionIdleTimeout": IDLE_TIMEOUT,
                "streamIdleTimeout": IDLE_TIMEOUT,
            } },
        },
    }));
    documents
}
