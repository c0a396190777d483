//! Console: its image and replica count (released together with Conductor; its OAuth
//! settings come from `dex.rs`).

use super::ResolveError;
use crate::declare::{EnvName, EnvSpec};

pub(super) fn check_image(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    super::check_image_field(name, "console.image", &spec.console.image)
}

pub(super) fn check_replicas(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    super::check_int32(name, "console.replicas", spec.console.replicas, 1)
}
