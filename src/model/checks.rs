//! The field checks the component resolvers share: an error placed in an environment's file,
//! an image reference, a Kubernetes `int32`.

use crate::declare::EnvName;
use crate::error::ResolveError;

/// An error in `environments/<env>/<file>`.
pub(super) fn env_error(env: &EnvName, file: &str, message: String) -> ResolveError {
    ResolveError::in_file(crate::layout::env_path(env, file), message)
}

/// An image of `env.yaml` that is not a reference, named by its field.
pub(super) fn check_image_field(
    name: &EnvName,
    field: &str,
    image: &str,
) -> Result<(), ResolveError> {
    crate::declare::image::check_image(image)
        .map_err(|message| env_error(name, "env.yaml", format!("{field}: {message}")).field(field))
}

/// The largest value of a Kubernetes `int32` field (`spec.replicas`, KEDA's
/// `minReplicaCount`/`maxReplicaCount`); the API server refuses anything above it.
pub const INT32_MAX: u32 = i32::MAX as u32;

/// An env.yaml integer that lands in a Kubernetes `int32` field: `min..=INT32_MAX`.
pub(super) fn check_int32(
    name: &EnvName,
    field: &str,
    value: u32,
    min: u32,
) -> Result<(), ResolveError> {
    if (min..=INT32_MAX).contains(&value) {
        return Ok(());
    }
    Err(env_error(
        name,
        "env.yaml",
        format!("{field} is {value}; it must be {min} to {INT32_MAX} (a Kubernetes int32)"),
    )
    .field(field))
}
