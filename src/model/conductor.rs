//! Conductor: its image and replica count, and the URL the application pods dial it on
//! (in-cluster `ws://` or `wss://` through the ingress).

use crate::declare::{ConductorConnection, EnvName, EnvSpec, Namespace, Routing};
use crate::error::ResolveError;

pub(super) fn check_image(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    super::checks::check_image_field(name, "conductor.image", &spec.conductor.image)
}

pub(super) fn check_replicas(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    super::checks::check_int32(name, "conductor.replicas", spec.conductor.replicas, 1)
}

/// What the app's `DBOS_CONDUCTOR_URL` is set to.
pub(super) fn app_url(spec: &EnvSpec, namespace: &Namespace) -> String {
    match spec.app.conductor {
        ConductorConnection::InCluster => {
            format!("ws://conductor.{namespace}.svc.cluster.local:8090")
        }
        ConductorConnection::External => match spec.routing {
            Routing::Host => format!("wss://conductor.{}/", spec.domain),
            // The current guide's prefix: `/conductor/...` are Console pages.
            Routing::Path => format!("wss://{}/conductor-api", spec.domain),
        },
    }
}
