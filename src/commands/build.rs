//! `build`: recompile every generated file from the declarations; `--check` writes nothing and
//! prints the diff.

use crate::cli::BuildArgs;
use crate::error::Error;
use crate::repo::{load_repo, LoadedRepo, Plan, WriteOptions};

use super::Context;

/// The full pipeline short of writing: resolve, render, and plan against the disk. `only_env`
/// limits the plan to one environment's files plus base/ and argocd/.
pub fn plan_build(
    loaded: &LoadedRepo,
    only_env: Option<&str>,
    options: WriteOptions,
) -> Result<Plan, Error> {
    let model = crate::model::resolve(&loaded.spec, loaded.environments.clone())?;
    let tree = crate::render::render_repo(&model);
    let env_prefix = only_env.map(|name| format!("environments/{name}/"));
    let in_scope = |path: &str| match &env_prefix {
        None => true,
        Some(prefix) => !path.starts_with("environments/") || path.starts_with(prefix.as_str()),
    };
    Plan::compute(&loaded.root, &tree, &loaded.record, &in_scope, options)
}

pub fn build(context: &Context, arguments: BuildArgs) -> Result<i32, Error> {
    let root = context.root()?;
    if !arguments.check {
        crate::repo::lock::acquire(&root)?;
    }
    let loaded = load_repo(&root)?;
    if let Some(name) = &arguments.env {
        loaded.select_env(Some(name))?;
    }
    let plan = plan_build(
        &loaded,
        arguments.env.as_deref(),
        WriteOptions {
            force: arguments.force,
        },
    )?;
    if arguments.check {
        if plan.changes.is_empty() && plan.conflicts.is_empty() {
            return Ok(0);
        }
        print!("{}", plan.diff());
        eprintln!(
            "{} generated file(s) are stale{}",
            plan.changes.len(),
            if plan.conflicts.is_empty() {
                ""
            } else {
                ", some edited by hand"
            }
        );
        if plan.conflicts.is_empty() {
            eprintln!("  hint: run `dbos-gitops build` to bring them up to date");
        } else {
            for conflict in &plan.conflicts {
                eprintln!("  {} ({})", conflict.path, conflict.reason);
            }
            eprintln!(
                "  hint: move those edits into the declarations (env.yaml, versions.yaml), then `dbos-gitops build --force`"
            );
        }
        return Ok(1);
    }
    plan.ensure_no_conflicts()?;
    if plan.is_empty() {
        println!("up to date");
        return Ok(0);
    }
    plan.apply()?;
    print!("{}", plan.summary());
    Ok(0)
}
