//! Gateway API routing (#21) that the rendered objects cannot make right on their own:
//! - `gateway-idle-timeout`: an implementation we render no timeout policy for (anything but
//!   Envoy Gateway and NGINX Gateway Fabric, and Envoy Gateway's shared listener, which is the
//!   platform's), so the Conductor WebSocket lives by that proxy's defaults;
//! - `gateway-access-log`: apps outside the cluster dial Conductor through the proxy at
//!   `/websocket/<app>/<API key>`, and no Gateway API object of the environment can keep that
//!   path out of the proxy's access log (the Ingress can, and does: `render::ingress`); for
//!   Envoy Gateway README gives the EnvoyProxy setting, for the others this says what to set;
//! - `gateway-network-peer`: Cilium, whose proxy traffic a Kubernetes NetworkPolicy cannot
//!   select (the reserved `ingress` identity): the rendered peer admits nothing.

use super::env_check::EnvCheck;
use super::finding::Finding;
use crate::declare::{ConductorConnection, GatewayImplementation};
use crate::model::Attachment;

pub fn check(check: &EnvCheck<'_>) -> Vec<Finding> {
    let Some(env) = &check.env else {
        return Vec::new();
    };
    let Some(gateway) = &env.gateway else {
        return Vec::new();
    };
    let file = format!("{}/env.yaml", check.dir);
    let mut findings = Vec::new();
    let implementation = gateway.implementation;
    let shared_listener = matches!(gateway.attachment, Attachment::Section { .. });
    let with_policy = match implementation {
        GatewayImplementation::EnvoyGateway => !shared_listener,
        GatewayImplementation::NginxGatewayFabric => true,
        _ => false,
    };
    if !with_policy {
        let what = match implementation {
            GatewayImplementation::EnvoyGateway => {
                "the shared Gateway's listener is the platform's: a ClientTrafficPolicy on it (timeout.http.streamIdleTimeout, idleTimeout) is theirs to set"
            }
            _ => {
                "the proxy's stream and connection idle timeouts, and a request timeout on the `/websocket` rule, must let a Conductor WebSocket (pinged every 20 s) stay open for hours"
            }
        };
        findings.push(
            Finding::warning(
                "gateway-idle-timeout",
                &file,
                format!(
                    "ingress.gateway.implementation is `{}`: dbos-gitops renders no idle-timeout policy for it; {what}",
                    implementation.as_str()
                ),
            )
            .field("ingress.gateway.implementation")
            .hint("configure the implementation's own timeout policy (README \"Routing\"), or use Envoy Gateway"),
        );
    }
    // Envoy Gateway's setting is README's, validated there (`gateway::the_readme_envoy_proxy_
    // access_log_setting_validates`); the default implementation's clean setup stays clean.
    if env.conductor_connection == ConductorConnection::External
        && implementation != GatewayImplementation::EnvoyGateway
    {
        findings.push(access_log(&file, implementation));
    }
    if implementation == GatewayImplementation::Cilium && gateway.peer.is_none() {
        findings.push(
            Finding::warning(
                "gateway-network-peer",
                &file,
                "Cilium's Gateway proxy carries the reserved `ingress` identity, which a Kubernetes NetworkPolicy cannot select: the rendered policies admit no proxy, so default-deny drops the traffic",
            )
            .field("ingress.gateway.data-plane")
            .hint("add a CiliumNetworkPolicy with `fromEntities: [ingress]` for the conductor, console, dex and dbos-app pods"),
        );
    }
    findings
}

/// What keeps the Conductor API key out of this implementation's access log: only the
/// platform's proxy configuration can filter it.
fn access_log(file: &str, implementation: GatewayImplementation) -> Finding {
    let what = match implementation {
        // nginx-gateway-fabric v2.6 `apis/v1alpha2/nginxproxy_types.go` (`NginxAccessLog`).
        GatewayImplementation::NginxGatewayFabric => {
            "on the Gateway's NginxProxy set `spec.logging.accessLog.disable: true`, or a `format` without `$request` and `$request_uri`"
        }
        GatewayImplementation::Istio => {
            "give the Gateway's proxies a Telemetry `accessLogging` filter such as `!request.path.contains('/websocket/')`"
        }
        _ => "configure the proxy's access log to drop or redact the path of `/websocket/` requests",
    };
    Finding::warning(
        "gateway-access-log",
        file,
        format!(
            "app.conductor is `external`: the apps dial Conductor at `/websocket/<app>/<API key>` through the `{}` proxy, which logs request paths by default; {what}",
            implementation.as_str()
        ),
    )
    .field("app.conductor")
    .hint("the Ingress (`ingress.class`) turns the log off for that route itself; with Gateway API it is the platform's proxy setting")
}
