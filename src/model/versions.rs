//! The rules of `versions.yaml`, written once: `resolve` refuses the first problem that blocks
//! a model, `check` reports every problem as a finding, with the same code, field, message and
//! hint on both paths.
//!
//! Rules: each name declared once, each image a reference, one version active and declared,
//! and no two versions on the same image (the old one would never drain: its workflows are
//! recovered by a pod that is in fact the new code; `check` refuses it, `build` renders it).

use crate::declare::{EnvName, VersionsSpec};
use crate::error::ResolveError;

/// One broken rule of `versions.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionProblem {
    /// `check`'s finding code.
    pub code: &'static str,
    /// Dotted path in `versions.yaml`, e.g. `versions[1].image`.
    pub field: String,
    pub message: String,
    pub hint: String,
    /// Whether the environment cannot resolve (false: only `check` reports it).
    pub blocks_resolve: bool,
}

impl VersionProblem {
    /// The error `resolve` returns for it: `environments/<env>/versions.yaml: <message>`.
    pub fn to_error(&self, env: &EnvName) -> ResolveError {
        ResolveError::in_file(crate::layout::versions_file(env), self.message.clone())
            .field(self.field.clone())
            .hint(self.hint.clone())
    }
}

/// Every broken rule of `versions.yaml`, in file order (the active version last).
pub fn problems(env: &EnvName, spec: &VersionsSpec) -> Vec<VersionProblem> {
    let versions = &spec.versions;
    let mut problems = Vec::new();
    for (index, version) in versions.iter().enumerate() {
        let earlier = &versions[..index];
        if earlier.iter().any(|other| other.name == version.name) {
            problems.push(VersionProblem {
                code: "duplicate-version",
                field: format!("versions[{index}].name"),
                message: format!("version `{}` is declared twice", version.name),
                hint: "keep one entry per version name".to_string(),
                blocks_resolve: true,
            });
        }
        if let Err(message) = crate::declare::image::check_image(&version.image) {
            problems.push(VersionProblem {
                code: "invalid-declaration",
                field: format!("versions[{index}].image"),
                message: format!("version `{}`: {message}", version.name),
                hint: format!(
                    "fix the image, or replace the version: `dbos-gitops version add NAME --env {env} --image IMAGE`"
                ),
                blocks_resolve: true,
            });
        }
        if let Some(other) = earlier
            .iter()
            .find(|other| other.image == version.image && other.name != version.name)
        {
            problems.push(VersionProblem {
                code: "duplicate-version-image",
                field: format!("versions[{index}].image"),
                message: format!(
                    "versions `{}` and `{}` both run the image `{}`",
                    other.name, version.name, version.image
                ),
                hint: format!(
                    "give each version its own image tag, or retire one: `dbos-gitops retire {} --env {env}`",
                    other.name
                ),
                blocks_resolve: false,
            });
        }
    }
    problems.extend(active_problem(env, spec));
    problems
}

/// The active version is declared, and one is active as soon as any version exists.
fn active_problem(env: &EnvName, spec: &VersionsSpec) -> Option<VersionProblem> {
    let versions = &spec.versions;
    let names = versions
        .iter()
        .map(|version| format!("`{}`", version.name))
        .collect::<Vec<_>>()
        .join(", ");
    let (message, hint) = match &spec.active {
        Some(active) if !versions.iter().any(|version| &version.name == active) => (
            format!("the active version `{active}` is not declared"),
            if versions.is_empty() {
                format!("add it with `dbos-gitops version add {active} --env {env} --image IMAGE`")
            } else {
                format!(
                    "activate a declared version ({names}) with `dbos-gitops version activate VERSION --env {env}`"
                )
            },
        ),
        None if !versions.is_empty() => (
            "versions are declared but none is `active:`".to_string(),
            format!(
                "activate one ({names}) with `dbos-gitops version activate VERSION --env {env}`"
            ),
        ),
        _ => return None,
    };
    Some(VersionProblem {
        code: "active-version-missing",
        field: "active".to_string(),
        message,
        hint,
        blocks_resolve: true,
    })
}

/// `resolve`'s side: the first problem that blocks a model, as its error.
pub(super) fn check(env: &EnvName, spec: &VersionsSpec) -> Result<(), ResolveError> {
    match problems(env, spec)
        .into_iter()
        .find(|problem| problem.blocks_resolve)
    {
        Some(problem) => Err(problem.to_error(env)),
        None => Ok(()),
    }
}
