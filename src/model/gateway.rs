//! Gateway API routing (#21): how the environment's HTTPRoutes attach (its own Gateway, a
//! shared Gateway through a ListenerSet, or a listener of a shared Gateway), which
//! implementation programs it, and the proxy pods that carry its traffic (the NetworkPolicy
//! peer).
//!
//! The data plane, per implementation, as their sources and docs describe it:
//! - Envoy Gateway runs the Envoy proxies in its controller namespace (`envoy-gateway-system`
//!   by default) and labels them `gateway.envoyproxy.io/owning-gateway-name` and
//!   `-namespace` (envoyproxy/gateway `internal/infrastructure/kubernetes/proxy`);
//! - NGINX Gateway Fabric, Istio and kgateway provision the proxies in the Gateway's namespace
//!   with the GEP-1762 label `gateway.networking.k8s.io/gateway-name`;
//! - Cilium's proxy is the node's Envoy with the reserved `ingress` identity, which a Kubernetes
//!   NetworkPolicy cannot select: no peer (a `CiliumNetworkPolicy` with `fromEntities:
//!   [ingress]` is the user's to add; `check` says so);
//! - `other`: the GEP-1762 label in the Gateway's namespace.

use std::collections::BTreeMap;

use super::checks::env_error;
use crate::declare::{EnvName, GatewayImplementation, GatewaySpec, Namespace, TlsSource};
use crate::error::ResolveError;

/// The name of the environment's own Gateway (and of its ListenerSet on a shared one).
pub const GATEWAY_NAME: &str = "dbos";
/// The GatewayClass of an own Gateway when none is declared: Envoy Gateway's quickstart class.
pub const DEFAULT_GATEWAY_CLASS: &str = "eg";
/// Envoy Gateway's controller namespace (its Helm chart's default).
pub const ENVOY_GATEWAY_NAMESPACE: &str = "envoy-gateway-system";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attachment {
    /// A Gateway of this class in the environment's namespace.
    Own { class: String },
    /// A ListenerSet in the environment's namespace attached to the shared Gateway; it carries
    /// the environment's HTTPS listeners and `dbos-tls`.
    ListenerSet { namespace: Namespace, name: String },
    /// A listener (`section`) of the shared Gateway; its certificate reference to `dbos-tls`
    /// in our namespace is allowed by our ReferenceGrant.
    Section {
        namespace: Namespace,
        name: String,
        section: String,
    },
}

/// The pods the NetworkPolicies admit as the data plane: namespace and pod labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gateway {
    pub attachment: Attachment,
    pub implementation: GatewayImplementation,
    /// `None` with Cilium (no selectable identity).
    pub peer: Option<Peer>,
    /// Also render the `Ingress` during the move.
    pub keep_ingress: bool,
}

impl Gateway {
    /// The Gateway's namespace and name (ours or the shared one).
    pub fn gateway_ref(&self, own_namespace: &Namespace) -> (String, String) {
        match &self.attachment {
            Attachment::Own { .. } => (own_namespace.to_string(), GATEWAY_NAME.to_string()),
            Attachment::ListenerSet { namespace, name }
            | Attachment::Section {
                namespace, name, ..
            } => (namespace.to_string(), name.clone()),
        }
    }
}

pub(super) fn resolve(
    name: &EnvName,
    spec: &GatewaySpec,
    namespace: &Namespace,
    tls: TlsSource,
) -> Result<Gateway, ResolveError> {
    let attachment = attachment(name, spec)?;
    if matches!(attachment, Attachment::Section { .. }) && tls == TlsSource::CertManager {
        return Err(env_error(
            name,
            "env.yaml",
            "ingress.tls is `cert-manager`, but a listener of a shared Gateway takes its certificate from the platform's Gateway, which cert-manager's annotation on our objects cannot reach".to_string(),
        )
        .field("ingress.gateway.parent")
        .hint("drop the `/SECTION` to attach through a ListenerSet, or use `tls: self-signed`"));
    }
    let mut gateway = Gateway {
        attachment,
        implementation: spec.implementation,
        peer: None,
        keep_ingress: spec.keep_ingress,
    };
    gateway.peer = match &spec.data_plane {
        Some(plane) => {
            for (key, value) in &plane.labels {
                check_label(name, key, value)?;
            }
            Some(Peer {
                namespace: plane.namespace.to_string(),
                labels: plane.labels.clone(),
            })
        }
        None => derived_peer(&gateway, namespace),
    };
    Ok(gateway)
}

fn attachment(name: &EnvName, spec: &GatewaySpec) -> Result<Attachment, ResolveError> {
    let field_error = |field: &str, message: String| {
        env_error(name, "env.yaml", message).field(format!("ingress.gateway.{field}"))
    };
    let Some(parent) = &spec.parent else {
        let class = spec
            .class
            .clone()
            .unwrap_or_else(|| DEFAULT_GATEWAY_CLASS.to_string());
        crate::declare::names::check_object_name(&class)
            .map_err(|message| field_error("class", format!("GatewayClass {message}")))?;
        return Ok(Attachment::Own { class });
    };
    if spec.class.is_some() {
        return Err(field_error(
            "class",
            "ingress.gateway sets both `class` (an own Gateway) and `parent` (a shared one)"
                .to_string(),
        )
        .hint("keep one of them"));
    }
    let parts: Vec<&str> = parent.split('/').collect();
    let usage = || {
        field_error(
            "parent",
            format!(
                "ingress.gateway.parent `{parent}` is not NAMESPACE/NAME or NAMESPACE/NAME/SECTION"
            ),
        )
        .hint("e.g. `parent: infra/shared-gateway` or `parent: infra/shared-gateway/https`")
    };
    if !(2..=3).contains(&parts.len()) {
        return Err(usage());
    }
    let namespace = Namespace::new(parts[0]).map_err(|_| usage())?;
    let gateway_name = parts[1].to_string();
    crate::declare::names::check_object_name(&gateway_name)
        .map_err(|message| field_error("parent", format!("Gateway {message}")))?;
    match parts.get(2) {
        None => Ok(Attachment::ListenerSet {
            namespace,
            name: gateway_name,
        }),
        Some(section) => {
            // A listener name is a DNS-1123 subdomain-like `SectionName` (at most 253).
            crate::declare::names::check_object_name(section)
                .map_err(|message| field_error("parent", format!("listener {message}")))?;
            Ok(Attachment::Section {
                namespace,
                name: gateway_name,
                section: section.to_string(),
            })
        }
    }
}

fn derived_peer(gateway: &Gateway, own_namespace: &Namespace) -> Option<Peer> {
    let (gateway_namespace, gateway_name) = gateway.gateway_ref(own_namespace);
    match gateway.implementation {
        GatewayImplementation::EnvoyGateway => Some(Peer {
            namespace: ENVOY_GATEWAY_NAMESPACE.to_string(),
            labels: BTreeMap::from([
                (
                    "gateway.envoyproxy.io/owning-gateway-name".to_string(),
                    gateway_name,
                ),
                (
                    "gateway.envoyproxy.io/owning-gateway-namespace".to_string(),
                    gateway_namespace,
                ),
            ]),
        }),
        GatewayImplementation::Cilium => None,
        GatewayImplementation::NginxGatewayFabric
        | GatewayImplementation::Istio
        | GatewayImplementation::Kgateway
        | GatewayImplementation::Other => Some(Peer {
            namespace: gateway_namespace,
            labels: BTreeMap::from([(
                "gateway.networking.k8s.io/gateway-name".to_string(),
                gateway_name,
            )]),
        }),
    }
}

/// A data-plane label: a qualified name and a label value, as Kubernetes checks them.
fn check_label(name: &EnvName, key: &str, value: &str) -> Result<(), ResolveError> {
    crate::declare::names::check_label_key(key)
        .and_then(|()| crate::declare::names::check_label_value(value))
        .map_err(|message| {
            env_error(name, "env.yaml", message).field("ingress.gateway.data-plane.labels")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> GatewaySpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn resolved(yaml: &str) -> Result<Gateway, ResolveError> {
        resolve(
            &EnvName::new("prod").unwrap(),
            &spec(yaml),
            &Namespace::new("dbos-prod").unwrap(),
            TlsSource::SelfSigned,
        )
    }

    #[test]
    fn the_peer_follows_the_implementation_and_the_gateway() {
        let own = resolved("implementation: envoy-gateway\n").unwrap();
        let peer = own.peer.unwrap();
        assert_eq!(peer.namespace, "envoy-gateway-system");
        assert_eq!(
            peer.labels["gateway.envoyproxy.io/owning-gateway-namespace"],
            "dbos-prod"
        );
        let shared = resolved("parent: infra/edge\nimplementation: istio\n").unwrap();
        let peer = shared.peer.unwrap();
        assert_eq!(peer.namespace, "infra");
        assert_eq!(
            peer.labels["gateway.networking.k8s.io/gateway-name"],
            "edge"
        );
        assert!(resolved("implementation: cilium\n").unwrap().peer.is_none());
    }

    #[test]
    fn bad_parents_and_classes_are_refused() {
        for bad in [
            "parent: infra\n",
            "parent: a/b/c/d\n",
            "parent: Infra/edge\n",
            "parent: infra/edge\nclass: eg\n",
            "class: \"e g\"\n",
            "class: \"eg\\n\"\n",
        ] {
            assert!(resolved(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            resolved("parent: infra/edge/https\n").unwrap().attachment,
            Attachment::Section { .. }
        ));
    }
}
