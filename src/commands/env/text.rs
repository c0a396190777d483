//! What `env remove` prints about the cluster: what keeps running, and, step by step, what Argo
//! CD does next and what to check before the next step. Exact names, so the commands can be
//! pasted.

use crate::model::Environment;
use crate::render::CASCADE_FINALIZER;
use crate::repo::LoadedRepo;

/// The root Application's name (`render::argocd`).
pub const ROOT_APPLICATION: &str = "dbos-gitops-root";

/// What the printed runbook names.
pub struct Facts {
    pub name: String,
    pub application: String,
    pub namespace: String,
    pub cluster: String,
    pub argocd: String,
}

impl Facts {
    pub fn of(loaded: &LoadedRepo, env: &Environment) -> Self {
        Self::named(
            loaded,
            env.name.as_str(),
            env.namespace.as_str(),
            &env.cluster,
        )
    }

    pub fn named(loaded: &LoadedRepo, name: &str, namespace: &str, cluster: &str) -> Self {
        Facts {
            name: name.to_string(),
            application: format!("dbos-{name}"),
            namespace: namespace.to_string(),
            cluster: cluster.to_string(),
            argocd: loaded.spec.argocd.namespace.as_str().to_string(),
        }
    }

    pub fn keeps_running(&self) -> String {
        format!(
            "What keeps running: everything. Argo CD deletes nothing when an environment leaves Git:\n\
             the root Application `{ROOT_APPLICATION}` prunes only an Application marked for the cascade,\n\
             and `{app}` says `Prune=false`, so once this change is pushed and synced, Application `{app}`\n\
             stays in namespace `{argocd}` (OutOfSync in the root; a ComparisonError of its own, its path\n\
             gone) and every object it deployed keeps running in namespace `{ns}` on {cluster}.\n",
            app = self.application,
            argocd = self.argocd,
            ns = self.namespace,
            cluster = self.cluster,
        )
    }

    pub fn choices(&self, dry_run: bool) -> String {
        let instead = if dry_run {
            format!(
                "  dbos-gitops env remove {} --cascade --dry-run\n",
                self.name
            )
        } else {
            format!(
                "  git restore --staged --worktree environments/{name} argocd   # undo this, then\n\
                 \x20 dbos-gitops env remove {name} --cascade\n",
                name = self.name
            )
        };
        format!(
            "To stop managing it and leave the workloads running, after this change has synced:\n\
             \x20 kubectl -n {argocd} delete application {app}      # no finalizer: only the Application goes\n\
             To have Argo CD delete the workloads, remove it with the cascade instead (three commits,\n\
             each synced before the next; the project must still admit `{ns}` when Argo CD deletes):\n\
             {instead}",
            argocd = self.argocd,
            app = self.application,
            ns = self.namespace,
        )
    }

    /// After step 1: the Application is marked; what to see in the cluster before step 2.
    pub fn after_mark(&self) -> String {
        format!(
            "What Argo CD does next: once this change is merged, the root Application `{ROOT_APPLICATION}`\n\
             syncs it: Application `{app}` gets the finalizer `{CASCADE_FINALIZER}`\n\
             and `argocd.argoproj.io/sync-options: Prune=true`. Nothing is deleted yet: `{name}` keeps running.\n\
             Before step 2, check that the live Application says so (and the root is Synced at that commit):\n\
             \x20 kubectl -n {argocd} get application {app} -o jsonpath='{{.metadata.finalizers}} {{.metadata.annotations.argocd\\.argoproj\\.io/sync-options}}'\n\
             \x20   # expect: [\"{CASCADE_FINALIZER}\"] Prune=true\n\
             \x20 argocd app get {ROOT_APPLICATION}\n\
             Then step 2 takes it out of Git:\n\
             \x20 dbos-gitops env remove {name} --cascade\n\
             To call it off before step 2: rm environments/{name}/removal.yaml && dbos-gitops build\n",
            app = self.application,
            argocd = self.argocd,
            name = self.name,
        )
    }

    /// After step 2: the root prunes the Application, Argo CD deletes what it deployed.
    pub fn after_leave(&self) -> String {
        format!(
            "What Argo CD does next: the root's next sync prunes Application `{app}` (its live copy says\n\
             Prune=true; every other object the root syncs says Prune=false), and deleting it with its finalizer\n\
             makes Argo CD delete every object it deployed in namespace `{ns}` on {cluster}, then the\n\
             Application. The AppProject still admits `{ns}` (environments/{name}/removal.yaml keeps it).\n\
             Before step 3, check that everything is gone:\n\
             \x20 kubectl -n {argocd} get application {app}      # expect: NotFound\n\
             \x20 kubectl -n {ns} get deployments,services,jobs,sealedsecrets,secrets   # expect: No resources found\n\
             Then step 3 drops the destination from the AppProject:\n\
             \x20 dbos-gitops env remove {name} --cascade\n",
            app = self.application,
            argocd = self.argocd,
            ns = self.namespace,
            cluster = self.cluster,
            name = self.name,
        )
    }

    /// After step 3: only the namespace is left.
    pub fn after_finish(&self) -> String {
        format!(
            "What Argo CD does next: the root's next sync applies the AppProject without namespace `{ns}`;\n\
             nothing is deleted. The namespace (made by CreateNamespace=true, tracked by no Application)\n\
             stays; delete it when it is empty:\n\
             \x20 kubectl delete namespace {ns}\n",
            ns = self.namespace,
        )
    }
}
