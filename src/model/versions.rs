//! The rules of `versions.yaml`: names declared once, images that are references, exactly one
//! active version that is declared.

use super::{env_error, ResolveError};
use crate::declare::{EnvName, VersionName, VersionsSpec};

pub(super) fn check(name: &EnvName, versions: &VersionsSpec) -> Result<(), ResolveError> {
    let mut seen: Vec<&VersionName> = Vec::new();
    for version in &versions.versions {
        if seen.contains(&&version.name) {
            return Err(env_error(
                name,
                "versions.yaml",
                format!("version `{}` is declared twice", version.name),
            ));
        }
        seen.push(&version.name);
        super::check_image(&version.image).map_err(|message| {
            env_error(
                name,
                "versions.yaml",
                format!("version `{}`: {message}", version.name),
            )
        })?;
    }
    match &versions.active {
        Some(active) if !seen.contains(&active) => {
            return Err(env_error(
                name,
                "versions.yaml",
                format!("the active version `{active}` is not declared"),
            )
            .hint("set `active:` to one of the listed versions"));
        }
        None if !versions.versions.is_empty() => {
            return Err(env_error(
                name,
                "versions.yaml",
                "versions are declared but none is `active:`".to_string(),
            )
            .hint("set `active:` to one of the listed versions"));
        }
        _ => {}
    }
    Ok(())
}
