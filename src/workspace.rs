//! The compiler pipeline short of writing: load (`repo::load`) → resolve (`model`) → render
//! (`render`) → plan against the disk (`repo::plan`). Commands, `check` and the secret store
//! call it; it sits below them and imports none of them.

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
    let model = crate::model::resolve(&loaded.spec, loaded.environments.clone())?;
    let tree = crate::render::render_repo(&model);
    let in_scope = |path: &str| layout::in_env_scope(path, only_env);
    Plan::compute(&loaded.root, &tree, &loaded.record, &in_scope, options)
}
