//! Gateway API routing (#21) that the rendered objects cannot make right on their own:
//! - `gateway-idle-timeout`: an implementation we render no timeout policy for (anything but
//!   Envoy Gateway, and Envoy Gateway's shared listener, which is the platform's), so the
//!   Conductor WebSocket lives by that proxy's defaults;
//! - `gateway-network-peer`: Cilium, whose proxy traffic a Kubernetes NetworkPolicy cannot
//!   select (the reserved `ingress` identity): the rendered peer admits nothing.

use super::{EnvCheck, Finding};
use crate::declare::GatewayImplementation;
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
    if implementation != GatewayImplementation::EnvoyGateway || shared_listener {
        let what = match implementation {
            GatewayImplementation::NginxGatewayFabric => {
                "NGINX Gateway Fabric: nginx's proxy_read_timeout (60 s by default) must stay above the SDK's 20 s WebSocket ping; raise it for the Conductor route"
            }
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
