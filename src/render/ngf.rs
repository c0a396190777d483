//! NGINX Gateway Fabric's timeouts for the Conductor WebSocket (#21.2): a `ProxySettingsPolicy`
//! (`gateway.nginx.org/v1alpha1`, NGF v2.6) on the HTTPRoute that carries Conductor.
//!
//! What NGF does with it (nginx/nginx-gateway-fabric v2.6.7,
//! `internal/controller/nginx/config/policies/proxysettings/generator.go`): `timeout.read` and
//! `timeout.send` become `proxy_read_timeout` and `proxy_send_timeout` in the locations of the
//! targeted route. Once nginx has upgraded a connection to a WebSocket those are the timers of
//! the tunnel (nginx closes it when the backend sends nothing for `proxy_read_timeout`, 60 s by
//! default). The policy's CRD lets `targetRefs` name a Gateway, HTTPRoute or GRPCRoute of the
//! policy's own namespace, all of group `gateway.networking.k8s.io`, never a Gateway mixed with
//! routes: we name our Conductor route, which works with every attachment (a shared Gateway is
//! the platform's). NGF itself sets the `Upgrade`/`Connection` headers on every location.
//!
//! The SDKs ping Conductor every 20 s and expect the pong within 15-30 s: dbos-transact-py
//! `dbos/_conductor/conductor.py` (`ping_interval = 20`, `ping_timeout = 15` in its own
//! keepalive thread with websockets < 15, else websockets' own keepalive, whose `connect`
//! defaults to `ping_interval=20`), -ts `src/conductor/conductor.ts` (`pingPeriodMs = 20000`,
//! `pingTimeoutMs = 15000`), -golang `dbos/conductor.go` (`_PING_INTERVAL = 20s`,
//! `_PING_TIMEOUT = 30s`). So a quiet connection carries a frame each way every 20 s; an hour
//! (the Ingress's 3600 s) leaves a wide margin over that and still reaps dead peers.

use serde_json::{json, Value};

use super::meta;

const API: &str = "gateway.nginx.org/v1alpha1";
/// The policy's name, and the read and send timeouts of the Conductor route.
pub const POLICY_NAME: &str = "dbos-conductor";
const TIMEOUT: &str = "3600s";

/// The policy for Conductor's HTTPRoute `route`, applied in the routing sync wave `wave` (the
/// route's own, `gateway::ROUTING_WAVE`, which passes both in).
pub fn policy(route: &str, wave: &str) -> Value {
    json!({
        "apiVersion": API,
        "kind": "ProxySettingsPolicy",
        "metadata": {
            "name": POLICY_NAME,
            "labels": meta::labels(POLICY_NAME, "routing"),
            "annotations": { "argocd.argoproj.io/sync-wave": wave },
        },
        "spec": {
            "targetRefs": [ {
                "group": "gateway.networking.k8s.io",
                "kind": "HTTPRoute",
                "name": route,
            } ],
            "timeout": { "read": TIMEOUT, "send": TIMEOUT },
        },
    })
}
