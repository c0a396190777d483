//! Application versions: the active version is declared, no version is declared twice, no two
//! versions run the same image (the old one would never drain: its workflows are recovered by
//! a pod that is in fact the new code), and the KEDA-scaled active Deployment carries no
//! `replicas` (Argo CD and KEDA would fight over the count).

use std::path::Path;

use super::{relative, EnvCheck, Finding};
use crate::error::Error;
use crate::model::{EnvInput, Environment};

/// Checks on the declarations alone; errors here mean the environment does not resolve.
pub fn check_declarations(input: &EnvInput) -> Vec<Finding> {
    let file = crate::layout::versions_file(&input.name);
    let env = input.name.as_str();
    let versions = &input.versions.versions;
    let mut findings = Vec::new();
    for (index, version) in versions.iter().enumerate() {
        if versions[..index]
            .iter()
            .any(|earlier| earlier.name == version.name)
        {
            findings.push(
                Finding::error(
                    "duplicate-version",
                    &file,
                    format!("version `{}` is declared twice", version.name),
                )
                .hint("keep one entry per version name"),
            );
        }
        if let Some(earlier) = versions[..index]
            .iter()
            .find(|earlier| earlier.image == version.image && earlier.name != version.name)
        {
            findings.push(
                Finding::error(
                    "duplicate-version-image",
                    &file,
                    format!(
                        "versions `{}` and `{}` both run the image `{}`",
                        earlier.name, version.name, version.image
                    ),
                )
                .hint(format!(
                    "give each version its own image tag, or retire one: `dbos-gitops retire {} --env {env}`",
                    earlier.name
                )),
            );
        }
    }
    let names = || {
        versions
            .iter()
            .map(|version| format!("`{}`", version.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &input.versions.active {
        Some(active) if !versions.iter().any(|version| &version.name == active) => findings.push(
            Finding::error(
                "active-version-missing",
                &file,
                format!("the active version `{active}` is not declared"),
            )
            .hint(if versions.is_empty() {
                format!("add it with `dbos-gitops version add {active} --env {env} --image IMAGE`")
            } else {
                format!(
                    "activate a declared version ({}) with `dbos-gitops version activate VERSION --env {env}`",
                    names()
                )
            }),
        ),
        None if !versions.is_empty() => findings.push(
            Finding::error(
                "active-version-missing",
                &file,
                "versions are declared but none is `active:`",
            )
            .hint(format!(
                "activate one ({}) with `dbos-gitops version activate VERSION --env {env}`",
                names()
            )),
        ),
        _ => {}
    }
    findings
}

/// The active version's Deployment patch on disk keeps `replicas` unset when KEDA scales it.
pub fn check_generated(root: &Path, check: &EnvCheck<'_>) -> Result<Vec<Finding>, Error> {
    let Some(env) = &check.env else {
        return Ok(Vec::new());
    };
    let (Some(_), Some(active)) = (&env.autoscaling, &env.active) else {
        return Ok(Vec::new());
    };
    let path = relative(&check.dir, &format!("versions/{active}/deployment.yaml"));
    let Some(bytes) = super::read_optional(root, &path)? else {
        return Ok(Vec::new()); // missing: a stale-generated finding
    };
    let text = String::from_utf8_lossy(&bytes);
    let documents = match crate::yaml::parse_documents(Path::new(&path), &text) {
        Ok(documents) => documents,
        // Unreadable: the replicas rule cannot be judged, so say that instead of passing.
        Err(error) => {
            return Ok(vec![Finding::error(
                "unreadable-generated",
                &path,
                format!(
                    "`{path}` is not readable YAML, so `spec.replicas` cannot be checked: {error}"
                ),
            )
            .hint(
                "run `dbos-gitops build --force` to restore the generated file",
            )])
        }
    };
    let has_replicas = documents
        .iter()
        .any(|document| document["spec"]["replicas"].is_number());
    Ok(if has_replicas {
        vec![replicas_finding(&path, env)]
    } else {
        Vec::new()
    })
}

pub fn replicas_finding(path: &str, env: &Environment) -> Finding {
    let deployment = env
        .active
        .as_ref()
        .map(Environment::deployment_name)
        .unwrap_or_default();
    Finding::error(
        "replicas-on-autoscaled",
        path,
        format!(
            "Deployment `{deployment}` is scaled by KEDA but sets `spec.replicas`: Argo CD would reset KEDA's count on every sync"
        ),
    )
    .hint("remove `replicas` (run `dbos-gitops build --force` to restore the generated file)")
}
