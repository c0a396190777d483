//! The compiler pipeline short of writing: load (`repo::load`) → resolve (`model`) → render
//! (`render`) → plan against the disk (`repo::plan`). Commands, `check` and the secret store
//! call it; it sits below them and imports none of them.
//!
//! Other environments: `build` and `check` cover every environment, so any declaration that
//! does not load or resolve stops them. A command scoped to one environment (`seal --env`,
//! `secrets`, `tls`, `dex`, `version`, `retire`) loads with `repo::load_repo_scoped` and is
//! blocked only by its own environment: when another one does not load or resolve, it compiles
//! only its own environment's files and leaves `argocd/` (which lists every environment) as it
//! is for `build` to bring up to date once the other environment is fixed.

use crate::error::Error;
use crate::layout;
use crate::repo::{LoadedRepo, Plan, WriteOptions};

/// Resolves and renders every environment of `loaded`, then plans the result against the disk.
/// `only_env` limits the plan to one environment's files plus `base/` and `argocd/`.
pub fn plan_build(
    loaded: &LoadedRepo,
    only_env: Option<&str>,
    options: WriteOptions,
) -> Result<Plan, Error> {
    let resolved = if loaded.skipped.is_empty() {
        crate::model::resolve(&loaded.spec, loaded.environments.clone())
    } else {
        Err(Error::input("another environment does not load"))
    };
    let model = match resolved {
        Ok(model) => model,
        Err(error) => match own_environment(loaded, only_env) {
            Some(env) => {
                let model = crate::model::resolve(&loaded.spec, vec![env])?;
                let tree = crate::render::render_repo(&model);
                let in_scope = |path: &str| {
                    layout::in_env_scope(path, only_env)
                        && !path.starts_with(&format!("{}/", layout::ARGOCD_DIR))
                };
                return Plan::compute(
                    &loaded.confinement,
                    &tree,
                    &loaded.record,
                    &in_scope,
                    options,
                );
            }
            None => return Err(error),
        },
    };
    let mut model = model;
    // The cascade's records (#24.7): `render::argocd` marks and keeps what they name.
    model.removals = loaded
        .removals
        .iter()
        .map(|(name, spec)| crate::model::Removal::from_spec(name.clone(), spec))
        .collect();
    let tree = crate::render::render_repo_for(&model, only_env);
    let in_scope = |path: &str| layout::in_env_scope(path, only_env);
    Plan::compute(
        &loaded.confinement,
        &tree,
        &loaded.record,
        &in_scope,
        options,
    )
}

/// The environment a scoped load was made for, when this plan is limited to it.
fn own_environment(loaded: &LoadedRepo, only_env: Option<&str>) -> Option<crate::model::EnvInput> {
    let scoped = loaded.scoped_to.as_ref()?;
    if only_env != Some(scoped.as_str()) {
        return None;
    }
    loaded
        .environments
        .iter()
        .find(|env| &env.name == scoped)
        .cloned()
}

/// Resolves one environment alone: what a command scoped to it reads (its secrets, versions,
/// hosts), never blocked by another environment.
pub fn resolve_env(loaded: &LoadedRepo, name: &str) -> Result<crate::model::Environment, Error> {
    let input = loaded.select_env(Some(name))?.clone();
    let model = crate::model::resolve(&loaded.spec, vec![input])?;
    model
        .environments
        .into_iter()
        .next()
        .ok_or_else(|| Error::input(format!("environment `{name}` did not resolve")))
}
