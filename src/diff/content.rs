//! What a review shows beyond the changes: the whole (redacted) object of every added and
//! removed object, and which environments were added or removed as a whole.
//!
//! [`super::changes`] keeps only what changed (#26: its cost follows the change), so an added
//! or removed object carries no content. The Markdown report asks for it afterwards, for the
//! units that have such objects only: the work tree's side renders through the render cache
//! (the diff just stored that render, so this is a cache hit and runs no `kubectl`), the
//! revision's side from a copy of that unit's blobs (`git::export`, as the diff itself does).
//! Every object returned has been through [`compare::redact`]: SealedSecret ciphertexts and a
//! Secret's values are markers before anything can print them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::compare::{self, ChangeKind, ObjectChange, ObjectId};
use super::{git, plan, Request};
use crate::check::cache::RenderCache;
use crate::check::inputs::{self, Reach};
use crate::error::Error;
use crate::workspace::Tree;

/// The redacted objects a review may print, by unit and object.
pub type Objects = BTreeMap<(String, ObjectId), Value>;

/// Environments that exist on one side only.
#[derive(Debug, Default)]
pub struct Environments {
    pub added: BTreeSet<String>,
    pub removed: BTreeSet<String>,
    /// Removed by the cascade (`env remove --cascade`, step 2): Argo CD deletes them (#24.7).
    pub cascading: BTreeSet<String>,
}

/// The name of an environment unit (`environments/NAME`).
pub fn env_name(unit: &str) -> Option<&str> {
    unit.strip_prefix("environments/")
}

fn units_with(changes: &[ObjectChange], kind: ChangeKind) -> BTreeSet<String> {
    changes
        .iter()
        .filter(|change| change.change == kind)
        .map(|change| change.unit.clone())
        .collect()
}

/// Environments removed from the work tree: a unit with removed objects and no
/// `kustomization.yaml` left (what Argo CD's Application points at). Reads the work tree only.
/// Those the cascade removes (their `removal.yaml` is left) are not among them.
pub fn removed_environments(work: &Tree, changes: &[ObjectChange]) -> BTreeSet<String> {
    gone_environments(work, changes)
        .into_iter()
        .filter(|name| !cascading(work, name))
        .collect()
}

/// Environments removed from the work tree by the cascade's step 2: their record
/// `removal.yaml` is left, and the root prunes their Application, which deletes what it
/// deployed (`render::argocd`, #24.7).
pub fn cascading_environments(work: &Tree, changes: &[ObjectChange]) -> BTreeSet<String> {
    gone_environments(work, changes)
        .into_iter()
        .filter(|name| cascading(work, name))
        .collect()
}

fn cascading(work: &Tree, name: &str) -> bool {
    work.path(&crate::layout::env_path(name, crate::declare::REMOVAL_FILE))
        .is_file()
}

fn gone_environments(work: &Tree, changes: &[ObjectChange]) -> BTreeSet<String> {
    units_with(changes, ChangeKind::Removed)
        .into_iter()
        .filter(|unit| !work.path(unit).join("kustomization.yaml").is_file())
        .filter_map(|unit| env_name(&unit).map(str::to_string))
        .collect()
}

/// Added and removed environments: added ones are those with added objects and no
/// `kustomization.yaml` at the revision (one `git ls-tree`).
pub fn environments(
    request: &Request<'_>,
    changes: &[ObjectChange],
) -> Result<Environments, Error> {
    let removed = removed_environments(request.work, changes);
    let cascading = cascading_environments(request.work, changes);
    let candidates = units_with(changes, ChangeKind::Added);
    let mut added = BTreeSet::new();
    if candidates.iter().any(|unit| env_name(unit).is_some()) {
        let blobs = git::list(request.root, request.commit, request.prefix)?;
        let old: BTreeSet<&str> = blobs.iter().map(|blob| blob.path.as_str()).collect();
        for unit in &candidates {
            if let Some(name) = env_name(unit) {
                if !old.contains(format!("{unit}/kustomization.yaml").as_str()) {
                    added.insert(name.to_string());
                }
            }
        }
    }
    Ok(Environments {
        added,
        removed,
        cascading,
    })
}

/// The redacted objects of every added (work tree) and removed (revision) object in `changes`.
pub fn objects(request: &Request<'_>, changes: &[ObjectChange]) -> Result<Objects, Error> {
    let added = units_with(changes, ChangeKind::Added);
    let removed = units_with(changes, ChangeKind::Removed);
    let mut out = Objects::new();
    if added.is_empty() && removed.is_empty() {
        return Ok(out);
    }
    let kubectl = super::require_kubectl()?;
    let cache = RenderCache::new(&kubectl, true);
    if !added.is_empty() {
        let digests = plan::work_tree(request.work, request.only_env);
        let side = plan::Side::new(&digests);
        let read = |path: &str| request.work.read_listed(path).ok().flatten();
        for unit in &added {
            let key = side.key(unit, &read).1;
            let rendered = render(&cache, &kubectl, request.work.root(), unit, key.as_ref())?;
            keep(&mut out, changes, unit, ChangeKind::Added, rendered);
        }
    }
    if !removed.is_empty() {
        let tree = tempfile::Builder::new()
            .prefix("dbos-gitops-diff-")
            .tempdir()
            .map_err(|source| Error::io(std::env::temp_dir(), "create a directory in", source))?;
        let blobs = git::list(request.root, request.commit, request.prefix)?;
        for unit in &removed {
            let rendered = render_old(request.root, &blobs, tree.path(), unit, (&cache, &kubectl))?;
            keep(&mut out, changes, unit, ChangeKind::Removed, rendered);
        }
    }
    cache.finish();
    Ok(out)
}

/// `unit` rendered at the revision: its directories copied out of git (everything when it
/// reads further), keyed as the diff keyed it.
fn render_old(
    root: &Path,
    blobs: &[git::Blob],
    tree: &Path,
    unit: &str,
    (cache, kubectl): (&RenderCache, &Path),
) -> Result<Vec<Value>, Error> {
    let dirs: Vec<String> = inputs::unit_dirs(unit)
        .into_iter()
        .map(|dir| format!("{dir}/"))
        .collect();
    let inside = |path: &str| dirs.iter().any(|dir| path.starts_with(dir.as_str()));
    let mine: Vec<&git::Blob> = blobs.iter().filter(|blob| inside(&blob.path)).collect();
    git::export(root, &mine, tree)?;
    let owned: Vec<git::Blob> = mine
        .iter()
        .map(|blob| git::Blob {
            object: blob.object.clone(),
            path: blob.path.clone(),
        })
        .collect();
    let digests = git::digests(root, &owned)?;
    let side = plan::Side::new(&digests);
    let exported = crate::workspace::Tree::scratch(tree);
    let read = |path: &str| exported.read_listed(path).ok().flatten();
    let (reach, key) = side.key(unit, &read);
    let key = if reach == Reach::Repository {
        let rest: Vec<&git::Blob> = blobs.iter().filter(|blob| !inside(&blob.path)).collect();
        git::export(root, &rest, tree)?;
        None
    } else {
        key
    };
    render(cache, kubectl, tree, unit, key.as_ref())
}

fn render(
    cache: &RenderCache,
    kubectl: &Path,
    tree: &Path,
    unit: &str,
    key: Option<&[u8; 32]>,
) -> Result<Vec<Value>, Error> {
    let text = cache
        .text(kubectl, tree, unit, key)
        .map_err(|source| Error::io(kubectl, "run", source))?
        .map_err(|stderr| {
            Error::input(format!(
                "`kubectl kustomize {unit}` failed the second time: {}",
                stderr.lines().next().unwrap_or("")
            ))
        })?;
    crate::yaml::parse_documents(Path::new(unit), &text)
}

/// Keeps the redacted objects of `unit` that `changes` lists as `kind`.
fn keep(
    out: &mut Objects,
    changes: &[ObjectChange],
    unit: &str,
    kind: ChangeKind,
    rendered: Vec<Value>,
) {
    let wanted: BTreeSet<&ObjectId> = changes
        .iter()
        .filter(|change| change.unit == unit && change.change == kind)
        .map(|change| &change.id)
        .collect();
    for object in rendered {
        let id = ObjectId::of(&object);
        if wanted.contains(&id) {
            out.insert((unit.to_string(), id), compare::redact(&object));
        }
    }
}
