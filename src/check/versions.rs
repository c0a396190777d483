//! Application versions: the rules of `versions.yaml` (`crate::model::versions`, shared with
//! `resolve`, so `build` and `check` say the same thing), and the KEDA-scaled active Deployment
//! carries no `replicas` (Argo CD and KEDA would fight over the count).

use std::path::Path;

use super::env_check::EnvCheck;
use super::finding::{relative, Finding};
use crate::error::Error;
use crate::model::{EnvInput, Environment};
use crate::workspace::Workspace;

/// Checks on the declarations alone: the rules of `crate::model::versions`, the same ones
/// `resolve` refuses with, as findings. Errors here mean the environment does not resolve.
pub fn check_declarations(input: &EnvInput) -> Vec<Finding> {
    let file = crate::layout::versions_file(&input.name);
    crate::model::versions::problems(&input.name, &input.versions)
        .into_iter()
        .map(|problem| {
            Finding::error(problem.code, &file, problem.message)
                .field(problem.field)
                .hint(problem.hint)
        })
        .collect()
}

/// The active version's Deployment patch on disk keeps `replicas` unset when KEDA scales it.
pub fn check_generated(ws: &Workspace, check: &EnvCheck<'_>) -> Result<Vec<Finding>, Error> {
    let Some(env) = &check.env else {
        return Ok(Vec::new());
    };
    let (Some(_), Some(active)) = (&env.autoscaling, &env.active) else {
        return Ok(Vec::new());
    };
    let path = relative(&check.dir, &format!("versions/{active}/deployment.yaml"));
    let Some(bytes) = ws.read(&path)? else {
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
