//! `diff`: what Argo CD would change, object by object, between a git revision and the work tree.
//!
//! Argo CD applies `kubectl kustomize environments/<env>` (and the bootstrap in `argocd/`), so
//! that render, not the generated files, is what a reviewer needs to see. Both sides are rendered
//! by the same `kubectl kustomize`: the work tree in place, and the revision from a private copy
//! of its blobs made with `git ls-tree` and `git cat-file` (plumbing that reads the object store
//! only: the index and the work tree are never read for the old side nor written at all).
//!
//! The cost follows the change, not the repository (#26): a unit whose inputs are identical on
//! both sides is not rendered (`plan.rs`), the others go through the render cache `check`
//! shares (a render of an input set is computed once, whatever asked for it) on at most as many
//! threads, so `kubectl` processes, as the machine has cores (`check::pool`). Each unit's
//! objects are compared as soon as both sides are rendered and only the changes are kept.
//!
//! Sealed values are never printed: [`compare`] decides what changed on the real values and
//! reports a changed `encryptedData` key by name only; every value that reaches a report has
//! been through [`compare::redact`] first.

pub mod compare;
pub mod content;
pub mod git;
pub mod markdown;
pub mod plan;
pub mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;
use compare::ObjectChange;

pub const DIFF_HELP: &str = "Examples:\n  dbos-gitops diff                          # the work tree against HEAD\n  dbos-gitops diff origin/main --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n  dbos-gitops diff HEAD~1 --env prod -U 5\n\nSealed values are never printed: a re-sealed key is reported by name.\nExit status: 0 no change, 1 changes, 2 error (unknown revision, not a git repository, kustomize failure).";

/// What one diff compares: REV's commit inside the repository at `root`.
pub struct Request<'a> {
    /// The repository: git's object store is read at `root`, the work tree through `work`.
    pub root: &'a Path,
    pub work: &'a crate::workspace::Tree,
    pub commit: &'a str,
    pub prefix: &'a str,
    pub only_env: Option<&'a str>,
    /// How the user named REV (reports and errors).
    pub revision: &'a str,
    pub context: usize,
}

/// Every change Argo CD would apply, unit by unit (environments first, `argocd` last). Units
/// whose inputs are the same on both sides are not rendered (`plan.rs`); the others render
/// through the shared render cache, in the bounded pool `check` uses.
pub fn changes(request: &Request<'_>) -> Result<Vec<ObjectChange>, Error> {
    let kubectl = require_kubectl()?;
    let blobs = git::list(request.root, request.commit, request.prefix)?;
    let old_digests = git::digests(request.root, &blobs)?;
    let new_digests = plan::work_tree(request.work, request.only_env);
    let old_units = plan::units_of(&old_digests, request.only_env);
    let new_units = plan::units_of(&new_digests, request.only_env);
    if let Some(name) = request.only_env {
        if old_units.is_empty() && new_units.is_empty() {
            return Err(Error::input(format!(
                "environment `{name}` exists neither at `{}` nor in the work tree",
                request.revision
            ))
            .hint("`ls environments/` lists the environments"));
        }
    }
    let old = plan::Side::new(&old_digests);
    let new = plan::Side::new(&new_digests);
    let read_new = |path: &str| request.work.read_listed(path).ok().flatten();
    let mut units: Vec<&String> = old_units.iter().chain(&new_units).collect();
    units.sort_by_key(|unit| (unit.as_str() == "argocd", unit.as_str()));
    units.dedup();

    // Units present on both sides with the same local inputs read the same kustomizations.
    let mut todo: Vec<Job> = Vec::new();
    for unit in units {
        let (in_old, in_new) = (old_units.contains(unit), new_units.contains(unit));
        if in_old && in_new && old.local(unit) == new.local(unit) {
            let (_, old_key) = old.key(unit, &read_new);
            let (_, new_key) = new.key(unit, &read_new);
            if new_key.is_some() && old_key == new_key {
                continue;
            }
        }
        todo.push(Job {
            unit: unit.clone(),
            old: in_old.then_some(None),
            new: in_new.then(|| new.key(unit, &read_new).1),
        });
    }
    let old_tree = tempfile::Builder::new()
        .prefix("dbos-gitops-diff-")
        .tempdir()
        .map_err(|source| Error::io(std::env::temp_dir(), "create a directory in", source))?;
    export_old(request.root, &blobs, &old, &mut todo, old_tree.path())?;
    let cache = crate::check::cache::RenderCache::new(&kubectl, true);
    let trees = Trees {
        kubectl: &kubectl,
        old: old_tree.path(),
        new: request.work.root(),
        cache: &cache,
    };
    let results = crate::check::pool::run(&todo, |job| trees.compare(job, request), || {});
    cache.finish();
    let mut changes = Vec::new();
    for result in results {
        changes.extend(result?);
    }
    Ok(changes)
}

/// One unit to render: its key on each side (`None` outside: absent there; `Some(None)`: not
/// cacheable).
struct Job {
    unit: String,
    old: Option<Option<[u8; 32]>>,
    new: Option<Option<[u8; 32]>>,
}

/// Copies out of git what the units to render read at REV, and keys them: each unit's
/// directories, and every file when one of them reaches further.
fn export_old(
    root: &Path,
    blobs: &[git::Blob],
    old: &plan::Side<'_>,
    todo: &mut [Job],
    tree: &Path,
) -> Result<(), Error> {
    let wanted: std::collections::BTreeSet<String> = todo
        .iter()
        .filter(|job| job.old.is_some())
        .flat_map(|job| crate::check::inputs::unit_dirs(&job.unit))
        .map(|dir| format!("{dir}/"))
        .collect();
    let inside = |path: &str| wanted.iter().any(|dir| path.starts_with(dir.as_str()));
    let first: Vec<&git::Blob> = blobs.iter().filter(|blob| inside(&blob.path)).collect();
    git::export(root, &first, tree)?;
    let exported = crate::workspace::Tree::scratch(tree);
    let read_old = |path: &str| exported.read_listed(path).ok().flatten();
    let mut everything = false;
    for job in todo.iter_mut().filter(|job| job.old.is_some()) {
        let (reach, key) = old.key(&job.unit, &read_old);
        everything |= reach == crate::check::inputs::Reach::Repository;
        job.old = Some(key);
    }
    if everything {
        let rest: Vec<&git::Blob> = blobs.iter().filter(|blob| !inside(&blob.path)).collect();
        git::export(root, &rest, tree)?;
    }
    Ok(())
}

/// What every render of one diff shares.
struct Trees<'a> {
    kubectl: &'a Path,
    old: &'a Path,
    new: &'a Path,
    cache: &'a crate::check::cache::RenderCache,
}

impl Trees<'_> {
    /// Both sides of one unit rendered and compared; only the changes are kept.
    fn compare(&self, job: &Job, request: &Request<'_>) -> Result<Vec<ObjectChange>, Error> {
        let side = format!("`{}`", request.revision);
        let mut before = BTreeMap::new();
        let mut after = BTreeMap::new();
        if let Some(key) = &job.old {
            before.insert(
                job.unit.clone(),
                self.render(self.old, &job.unit, key.as_ref(), &side)?,
            );
        }
        if let Some(key) = &job.new {
            after.insert(
                job.unit.clone(),
                self.render(self.new, &job.unit, key.as_ref(), "the work tree")?,
            );
        }
        Ok(compare::compare(
            &before,
            &after,
            request.context,
            request.revision,
        ))
    }

    fn render(
        &self,
        tree: &Path,
        unit: &str,
        key: Option<&[u8; 32]>,
        side: &str,
    ) -> Result<Vec<Value>, Error> {
        let text = self
            .cache
            .text(self.kubectl, tree, unit, key)
            .map_err(|source| Error::io(self.kubectl, "run", source))?;
        let text = text.map_err(|stderr| {
            let reason = stderr
                .lines()
                .map(str::trim)
                .find(|line| !line.is_empty())
                .unwrap_or("kubectl kustomize failed")
                .to_string();
            Error::input(format!("`kubectl kustomize {unit}` fails in {side}: {reason}")).hint(
                format!(
                    "run `kubectl kustomize {unit}` there to see the whole error; `dbos-gitops build` restores generated files"
                ),
            )
        })?;
        crate::yaml::parse_documents(Path::new(unit), &text)
    }
}

/// The `kubectl` a shell would run (`check::kubectl`), or an error saying diff cannot run
/// without it.
pub fn require_kubectl() -> Result<PathBuf, Error> {
    crate::check::kubectl::find().ok_or_else(|| {
        Error::input("`kubectl` is not on PATH: diff renders both sides with `kubectl kustomize`")
            .hint("install kubectl (its built-in kustomize is what Argo CD's matches)")
    })
}
