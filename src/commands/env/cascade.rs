//! `env remove NAME --cascade`: an environment removal Argo CD performs, driven from Git in three
//! steps, each a commit that is merged and synced before the next (#24.7). What Argo CD does at
//! each, as read in its source (argo-cd 3.x `controller/appcontroller.go`, gitops-engine
//! `pkg/sync/sync_context.go`; see `render::argocd`):
//!
//! 1. **mark**: `environments/NAME/removal.yaml` is written; the environment still builds, and
//!    its Application gets `resources-finalizer.argocd.argoproj.io` and `Prune=true` instead of
//!    `Prune=false`. The root's sync applies that; nothing is deleted.
//! 2. **leave Git**: everything of the environment but `removal.yaml` goes, its Application
//!    too. The root prunes it, because the *live* copy (step 1's) says `Prune=true`; the
//!    finalizer makes the application controller delete what it deployed, which the AppProject
//!    still permits (`removal.yaml` keeps the destination and kinds).
//! 3. **finish**: `removal.yaml` goes, and with it the project's destination.
//!
//! Out of order is refused: step 2 before step 1 is committed would let one sync remove the
//! Application while its live copy still says `Prune=false` (the root keeps it, nothing is
//! deleted); step 3 (or a plain `env remove`) before step 2 has synced would drop the
//! destination the deletion needs (`getPermittedAppLiveObjects` then skips every object).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use super::removal::removal_plan;
use super::text::Facts;
use crate::cli::EnvRemoveArgs;
use crate::declare::{self, RemovalSpec, REMOVAL_FILE};
use crate::diff::git;
use crate::error::Error;
use crate::layout;
use crate::repo::plan::ChangeKind;
use crate::repo::{Plan, WriteOptions};
use crate::workspace::{Scope, Workspace};

/// Step 1: record the removal; the Application is marked for the cascade.
pub fn mark(ws: &mut Workspace, name: &str, arguments: &EnvRemoveArgs) -> Result<i32, Error> {
    let env = crate::workspace::resolve_env(ws.loaded(), name)?;
    let facts = Facts::of(ws.loaded(), &env);
    let record = RemovalSpec {
        namespace: env.namespace.clone(),
        cluster: env.cluster.clone(),
        kinds: crate::render::removal_kinds(&env),
    };
    let path = layout::env_path(name, REMOVAL_FILE);
    let text = declare::removal_file_text(&record)?;
    // The record is read back from the workspace by the compile, as the next `build` reads it.
    ws.put(path.clone(), text.clone().into_bytes());
    let plan = ws.compile(
        Scope::All,
        WriteOptions {
            force: arguments.force,
        },
    )?;
    plan.ensure_no_conflicts()?;
    let title = format!("cascade step 1 of 3: mark environment `{name}` for removal");
    if arguments.dry_run {
        println!("{title} (--dry-run: nothing written):");
        print!("{}", unified(&path, None, Some(&text)));
        print!("{}", argocd_diff(&plan));
    } else {
        ws.commit(&plan)?;
        println!("{title}:");
        print!("{}", plan.summary());
    }
    println!();
    print!("{}", facts.after_mark());
    Ok(0)
}

/// Step 2: the environment leaves Git; its record stays.
pub fn leave_git(ws: &mut Workspace, name: &str, arguments: &EnvRemoveArgs) -> Result<i32, Error> {
    let record = layout::env_path(name, REMOVAL_FILE);
    let committed = committed(ws.root())?;
    if !committed.contains(&record) {
        return Err(Error::input(format!(
            "cascade step 2 of `{name}` needs step 1 committed and synced first: `{record}` is not in HEAD"
        ))
        .hint(format!(
            "commit and merge step 1 alone, wait until Argo CD has synced it (Application `dbos-{name}` shows the finalizer and Prune=true), then run this again; in one sync the root would keep the Application, live Prune=false, and delete nothing"
        )));
    }
    let env = crate::workspace::resolve_env(ws.loaded(), name)?;
    let facts = Facts::of(ws.loaded(), &env);
    let plan = removal_plan(ws, name, arguments.force, &[record])?;
    report(ws, &plan, name, arguments.dry_run, 2, "take it out of Git")?;
    println!();
    print!("{}", facts.after_leave());
    Ok(0)
}

/// Step 3: the record goes, and with it the project's destination.
pub fn finish(
    ws: &mut Workspace,
    name: &str,
    record: &RemovalSpec,
    arguments: &EnvRemoveArgs,
) -> Result<i32, Error> {
    let env_file = layout::env_file(name);
    let committed = committed(ws.root())?;
    if committed.contains(&env_file) {
        return Err(Error::input(format!(
            "cascade step 3 of `{name}` needs step 2 committed and synced first: `{env_file}` is still in HEAD"
        ))
        .hint(format!(
            "commit and merge step 2 alone and wait until Argo CD has deleted Application `dbos-{name}` (`kubectl get application dbos-{name}` says NotFound): the AppProject must admit namespace `{}` while Argo CD deletes there",
            record.namespace
        )));
    }
    let facts = Facts::named(
        ws.loaded(),
        name,
        record.namespace.as_str(),
        &record.cluster,
    );
    ws.remove(layout::env_path(name, REMOVAL_FILE));
    let plan = ws.compile(
        Scope::All,
        WriteOptions {
            force: arguments.force,
        },
    )?;
    plan.ensure_no_conflicts()?;
    report(
        ws,
        &plan,
        name,
        arguments.dry_run,
        3,
        "drop its destination from the AppProject",
    )?;
    println!();
    print!("{}", facts.after_finish());
    Ok(0)
}

/// A plain `env remove` of an environment the cascade has marked: it would drop the record,
/// hence the project's destination, in the same sync as the Application.
pub fn not_without_cascade(name: &str, declared: bool) -> Error {
    let step = if declared { 2 } else { 3 };
    Error::input(format!(
        "environment `{name}` is being removed with the cascade (`{}` is there): a removal without `--cascade` would drop the AppProject's destination in the same sync that deletes the Application, and Argo CD would then delete none of its objects",
        layout::env_path(name, REMOVAL_FILE)
    ))
    .hint(if declared {
        format!("continue with step {step}: `dbos-gitops env remove {name} --cascade`, or call the cascade off: `rm environments/{name}/removal.yaml && dbos-gitops build`")
    } else {
        format!("continue with step {step}: `dbos-gitops env remove {name} --cascade`")
    })
}

/// Applies the plan of step `step` (or prints its diff with `--dry-run`).
fn report(
    ws: &Workspace,
    plan: &Plan,
    name: &str,
    dry_run: bool,
    step: u8,
    what: &str,
) -> Result<(), Error> {
    let title = format!("cascade step {step} of 3 for environment `{name}`: {what}");
    if dry_run {
        println!("{title} (--dry-run: nothing written):");
        for change in plan.changes() {
            if !change.path.starts_with(&format!("{}/", layout::ARGOCD_DIR)) {
                let verb = match change.kind {
                    ChangeKind::Create => "would create",
                    ChangeKind::Update => "would update",
                    ChangeKind::Delete => "would remove",
                };
                println!("  {verb} {}", change.path);
            }
        }
        print!("{}", argocd_diff(plan));
    } else {
        ws.commit(plan)?;
        ws.tree().remove_empty_dirs(&layout::env_dir(name));
        println!("{title}:");
        print!("{}", plan.summary());
    }
    Ok(())
}

/// The unified diff of every change under `argocd/` (what the root syncs) and of a removed
/// `removal.yaml`: what a dry run shows in full.
fn argocd_diff(plan: &Plan) -> String {
    let mut out = String::new();
    for change in plan.changes() {
        let shown = change.path.starts_with(&format!("{}/", layout::ARGOCD_DIR))
            || change.path.ends_with(&format!("/{REMOVAL_FILE}"));
        if shown {
            out.push_str(&unified(
                &change.path,
                change.old.as_deref(),
                change.new.as_deref(),
            ));
        }
    }
    out
}

fn unified(path: &str, old: Option<&str>, new: Option<&str>) -> String {
    let name = |side: &str, text: Option<&str>| {
        text.map_or_else(|| "/dev/null".to_string(), |_| format!("{side}/{path}"))
    };
    let diff = similar::TextDiff::from_lines(old.unwrap_or(""), new.unwrap_or(""));
    let mut out = String::new();
    let _ = write!(
        out,
        "{}",
        diff.unified_diff()
            .context_radius(3)
            .header(&name("a", old), &name("b", new))
    );
    out
}

/// The files of the repository at HEAD (relative to the dbos-gitops root): each step checks
/// that the one before it is committed.
fn committed(root: &Path) -> Result<BTreeSet<String>, Error> {
    let refusal = |error: Error| {
        Error::input(format!(
            "the cascade goes through Git, one commit per step, and HEAD cannot be read: {}",
            error.message()
        ))
        .hint("run it in the repository's git work tree, with step 1 committed")
    };
    let prefix = git::prefix(root).map_err(refusal)?;
    let commit = git::resolve(root, "HEAD").map_err(refusal)?;
    Ok(git::list(root, &commit, &prefix)?
        .into_iter()
        .map(|blob| blob.path)
        .collect())
}
