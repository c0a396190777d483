//! Console: its image and replica count (released together with Conductor; its OAuth
//! settings come from `dex.rs`).

use crate::declare::{EnvName, EnvSpec};
use crate::error::ResolveError;

pub(super) fn check_image(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    super::checks::check_image_field(name, "console.image", &spec.console.image)
}

pub(super) fn check_replicas(name: &EnvName, spec: &EnvSpec) -> Result<(), ResolveError> {
    super::checks::check_int32(name, "console.replicas", spec.console.replicas, 1)
}
