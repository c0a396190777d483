//! `build`: recompile every generated file from the declarations; `--check` writes nothing and
//! prints the diff.

use crate::cli::BuildArgs;
use crate::error::Error;
use crate::repo::{load_repo, WriteOptions};
use crate::workspace::plan_build;

use super::Context;

pub fn build(context: &Context, arguments: BuildArgs) -> Result<i32, Error> {
    let root = context.root()?;
    if !arguments.check {
        crate::repo::lock::acquire(&root)?;
    }
    let loaded = load_repo(&root)?;
    if let Some(name) = arguments.env.as_deref() {
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
        if plan.is_current() {
            return Ok(0);
        }
        print!("{}", plan.diff());
        eprintln!(
            "{} generated file(s) are stale{}",
            plan.changes().len(),
            if plan.conflicts().is_empty() {
                ""
            } else {
                ", some edited by hand"
            }
        );
        if plan.conflicts().is_empty() {
            eprintln!("  hint: run `dbos-gitops build` to bring them up to date");
        } else {
            for conflict in plan.conflicts() {
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
