//! `env remove NAME`: take an environment out of Git, and say what that does not do.
//!
//! Git loses `environments/NAME/` (declarations, SealedSecrets, certificates, generated files)
//! and `argocd/` loses its Application and its AppProject destination, in one `repo::Plan`
//! (the repository lock, the journal, nothing written on a refusal). The cluster loses nothing:
//! the root Application prunes only an Application whose live copy opted in (`render::argocd`),
//! so the environment's Application stays (OutOfSync in the root, a ComparisonError of its own
//! once its path is gone) and so does everything it deployed. What the command prints is the
//! rest, as Argo CD 3.x does it (read in `controller/appcontroller.go`).
//!
//! `--cascade` removes it in three steps through Git instead, each a commit Argo CD syncs
//! (`cascade`): Argo CD then deletes everything the environment deployed.

mod cascade;
mod removal;
mod text;

use crate::cli::EnvRemoveArgs;
use crate::error::Error;
use crate::layout;
use crate::repo::Plan;
use crate::workspace::{Mode, Workspace};

use super::context::Context;

use removal::removal_plan;
use text::Facts;

pub fn remove(context: &Context, arguments: EnvRemoveArgs) -> Result<i32, Error> {
    let mut ws = context.workspace_all(Mode::Write)?;
    let name = arguments.name.as_str().to_string();
    let declared = ws
        .environments()
        .iter()
        .any(|input| input.name.as_str() == name);
    let record = ws
        .loaded()
        .removals
        .iter()
        .find(|(env, _)| env.as_str() == name)
        .map(|(_, spec)| spec.clone());
    match (arguments.cascade, declared, record) {
        (true, true, None) => cascade::mark(&mut ws, &name, &arguments),
        (true, true, Some(_)) => cascade::leave_git(&mut ws, &name, &arguments),
        (true, false, Some(record)) => cascade::finish(&mut ws, &name, &record, &arguments),
        (false, _, Some(_)) => Err(cascade::not_without_cascade(&name, declared)),
        (_, _, None) => {
            // An unknown name is the loader's error (exit 2, the known names).
            crate::workspace::resolve_env(ws.loaded(), &name)?;
            remove_plainly(&mut ws, &name, &arguments)
        }
    }
}

/// Without `--cascade`: out of Git, everything keeps running.
fn remove_plainly(ws: &mut Workspace, name: &str, arguments: &EnvRemoveArgs) -> Result<i32, Error> {
    let env = crate::workspace::resolve_env(ws.loaded(), name)?;
    let facts = Facts::of(ws.loaded(), &env);
    let plan = removal_plan(ws, name, arguments.force, &[])?;
    report(ws, &plan, name, arguments.dry_run, "from Git")?;
    println!();
    print!("{}", facts.keeps_running());
    println!();
    print!("{}", facts.choices(arguments.dry_run));
    Ok(0)
}

/// Applies `plan` (or, with `--dry-run`, says what it would do) and lists the changes.
fn report(ws: &Workspace, plan: &Plan, name: &str, dry_run: bool, what: &str) -> Result<(), Error> {
    if dry_run {
        println!("would remove environment `{name}` {what} (--dry-run: nothing written):");
        for line in plan.summary().lines() {
            let line = line
                .replacen("  removed ", "  would remove ", 1)
                .replacen("  updated ", "  would update ", 1)
                .replacen("  created ", "  would create ", 1)
                .replacen("  wrote   ", "  would write ", 1);
            println!("{line}");
        }
    } else {
        ws.commit(plan)?;
        ws.tree().remove_empty_dirs(&layout::env_dir(name));
        println!("removed environment `{name}` {what}:");
        print!("{}", plan.summary());
    }
    Ok(())
}
