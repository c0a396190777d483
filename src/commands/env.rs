//! `env remove NAME`: take an environment out of Git, and say what that does not do.
//!
//! Git loses `environments/NAME/` (declarations, SealedSecrets, certificates, generated files)
//! and `argocd/` loses its Application and its AppProject destination, in one `repo::Plan`
//! (the repository lock, the journal, nothing written on a refusal). The cluster loses nothing:
//! the root Application never prunes (`render::argocd`), so the environment's Application stays
//! (OutOfSync in the root, a ComparisonError of its own once its path is gone) and so does
//! everything it deployed. What the command prints is the rest, as Argo CD 3.x does it (read in
//! `controller/appcontroller.go`):
//!
//! - deleting an Application without the `resources-finalizer.argocd.argoproj.io` finalizer
//!   deletes only the Application; with it, the controller deletes every live object the
//!   Application tracks first (`finalizeApplicationDeletion`), then the Application;
//! - but only the objects its AppProject still permits (`getPermittedAppLiveObjects` drops the
//!   others): once the removal has synced, the project no longer lists the environment's
//!   namespace, and a cascade then deletes nothing. So the cascade (`--cascade`) runs before the
//!   removal syncs, with the root's automated sync paused so that it does not re-create the
//!   Application from the old revision, and the root is restored from Git afterwards.

use std::path::Path;

use crate::cli::EnvRemoveArgs;
use crate::error::Error;
use crate::layout;
use crate::repo::{confine, load_repo, WriteOptions};

use super::context::Context;
use crate::workspace::plan_build;

/// The finalizer that makes deleting an Application cascade (Argo CD "App Deletion").
const FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";
/// The root Application's name (`render::argocd`).
const ROOT_APPLICATION: &str = "dbos-gitops-root";

pub fn remove(context: &Context, arguments: EnvRemoveArgs) -> Result<i32, Error> {
    let root = context.root()?;
    crate::repo::lock::acquire(&root)?;
    let mut loaded = load_repo(&root)?;
    let name = arguments.name.as_str().to_string();
    let env = crate::workspace::resolve_env(&loaded, &name)?;
    let facts = Facts {
        name: name.clone(),
        application: format!("dbos-{name}"),
        namespace: env.namespace.as_str().to_string(),
        cluster: env.cluster.clone(),
        argocd: loaded.spec.argocd.namespace.as_str().to_string(),
    };
    loaded
        .environments
        .retain(|input| input.name.as_str() != name);
    let mut plan = plan_build(
        &loaded,
        None,
        WriteOptions {
            force: arguments.force,
        },
    )?;
    let generated: Vec<String> = plan
        .changes()
        .iter()
        .map(|change| change.path.clone())
        .collect();
    let dir = layout::env_dir(&name);
    for path in files_under(&root, &dir)? {
        if !generated.contains(&path) {
            plan.remove(&path)?;
        }
    }
    plan.ensure_no_conflicts()?;
    if arguments.dry_run {
        println!("would remove environment `{name}` from Git (--dry-run: nothing written):");
        for line in plan.summary().lines() {
            let line = line
                .replacen("  removed ", "  would remove ", 1)
                .replacen("  updated ", "  would update ", 1)
                .replacen("  created ", "  would create ", 1)
                .replacen("  wrote   ", "  would write ", 1);
            println!("{line}");
        }
    } else {
        plan.apply()?;
        remove_empty_dirs(&root.join(&dir));
        println!("removed environment `{name}` from Git:");
        print!("{}", plan.summary());
    }
    println!();
    print!("{}", facts.keeps_running());
    println!();
    print!(
        "{}",
        if arguments.cascade {
            facts.cascade()
        } else {
            facts.choices()
        }
    );
    Ok(0)
}

/// Every regular file under `dir` (repository-relative), sorted.
fn files_under(root: &Path, dir: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut pending = vec![root.join(dir)];
    while let Some(current) = pending.pop() {
        confine::check(root, &current)?;
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::io(&current, "read", source)),
        };
        for entry in entries {
            let entry = entry.map_err(|source| Error::io(&current, "read", source))?;
            let kind = entry
                .file_type()
                .map_err(|source| Error::io(entry.path(), "read", source))?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                if let Ok(relative) = entry.path().strip_prefix(root) {
                    out.push(relative.to_string_lossy().into_owned());
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Removes `dir` and the directories under it once they are empty (what is left after the
/// plan removed every file); a directory that still holds something stays.
fn remove_empty_dirs(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                remove_empty_dirs(&entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// What the printed runbook names.
struct Facts {
    name: String,
    application: String,
    namespace: String,
    cluster: String,
    argocd: String,
}

impl Facts {
    fn keeps_running(&self) -> String {
        format!(
            "What keeps running: everything. Argo CD deletes nothing when an environment leaves Git:\n\
             the root Application `{ROOT_APPLICATION}` never prunes, so once this change is pushed and\n\
             synced, Application `{app}` stays in namespace `{argocd}` (OutOfSync in the root, which\n\
             would have to prune it; a ComparisonError of its own, its path gone) and every object it deployed\n\
             keeps running in namespace `{ns}` on {cluster}.\n",
            app = self.application,
            argocd = self.argocd,
            ns = self.namespace,
            cluster = self.cluster,
        )
    }

    fn choices(&self) -> String {
        format!(
            "To stop managing it and leave the workloads running, after this change has synced:\n\
             \x20 kubectl -n {argocd} delete application {app}      # no finalizer: only the Application goes\n\
             To have Argo CD delete the workloads too, run the cascade before this change syncs:\n\
             \x20 dbos-gitops env remove {name} --cascade --dry-run   # prints the steps\n",
            argocd = self.argocd,
            app = self.application,
            name = self.name,
        )
    }

    fn cascade(&self) -> String {
        let patch = format!("{{\"metadata\":{{\"finalizers\":[\"{FINALIZER}\"]}}}}");
        format!(
            "The cascade (Argo CD deletes every object of `{name}`). Its AppProject must still allow\n\
             namespace `{ns}` when the Application is deleted: Argo CD deletes only the objects the\n\
             project permits, and after this change syncs it no longer lists `{ns}`. So, before\n\
             this change is merged:\n\
             \x20 1. pause the root, so that it neither re-creates the Application nor syncs this change:\n\
             \x20    kubectl -n {argocd} patch application {ROOT_APPLICATION} --type json -p '[{{\"op\":\"remove\",\"path\":\"/spec/syncPolicy/automated\"}}]'\n\
             \x20 2. delete the Application with the cascade finalizer: Argo CD's controller deletes every\n\
             \x20    object it tracks in `{ns}` (foreground), then the Application:\n\
             \x20    kubectl -n {argocd} patch application {app} --type merge -p '{patch}'\n\
             \x20    kubectl -n {argocd} delete application {app} --wait\n\
             \x20 3. merge and push this change, then restore the root from Git (automated sync again;\n\
             \x20    its first sync applies this change):\n\
             \x20    kubectl apply -f argocd/root.yaml\n\
             \x20 4. the namespace `{ns}` (made by CreateNamespace=true, not tracked) stays:\n\
             \x20    kubectl delete namespace {ns}\n",
            name = self.name,
            ns = self.namespace,
            argocd = self.argocd,
            app = self.application,
        )
    }
}
