//! Which units `diff` must render: a unit whose input set (`check::inputs`: its directory,
//! `base/` and whatever else its kustomizations read, by path and content) is the same at REV
//! and in the work tree renders the same objects, so it is not rendered and is unchanged. The
//! revision's side is known from git's object store (each blob's SHA-256, streamed, nothing
//! written); the work tree's from its files. The digests are the render cache's keys, so a
//! unit that did change is rendered through the cache `check` fills too.

use std::collections::BTreeSet;

use crate::check::inputs::{self, Digests, KnownFiles, Reach};
use crate::workspace::Tree;

/// One side of a comparison: every file's digest by repository-relative path.
pub struct Side<'a> {
    pub digests: &'a Digests,
    repository: std::sync::OnceLock<[u8; 32]>,
}

impl<'a> Side<'a> {
    pub fn new(digests: &'a Digests) -> Self {
        Side {
            digests,
            repository: std::sync::OnceLock::new(),
        }
    }

    /// What `unit` reads on this side, and its key (`None` when it reads something outside
    /// the repository: never cached, never unchanged). `read` gives a kustomization's content.
    pub fn key(
        &self,
        unit: &str,
        read: &dyn Fn(&str) -> Option<Vec<u8>>,
    ) -> (Reach, Option<[u8; 32]>) {
        let local = self.local(unit);
        let paths = paths(self.digests, unit);
        let reach = inputs::reach(unit, paths.iter().map(String::as_str), read);
        let key = match reach {
            Reach::Local => Some(local),
            Reach::Outside => None,
            Reach::Repository => {
                let repository = self.repository.get_or_init(|| {
                    let all = self
                        .digests
                        .iter()
                        .map(|(path, digest)| (path.clone(), *digest))
                        .collect();
                    inputs::part("", all)
                });
                Some(inputs::combine(&[local], Some(repository)))
            }
        };
        (reach, key)
    }

    /// The key of `unit` if it read only its own directories.
    pub fn local(&self, unit: &str) -> [u8; 32] {
        let parts: Vec<[u8; 32]> = inputs::unit_dirs(unit)
            .into_iter()
            .map(|dir| inputs::part(dir, inputs::files_under(self.digests, dir)))
            .collect();
        inputs::combine(&parts, None)
    }
}

/// The repository-relative paths of `unit`'s directories in `digests`.
pub fn paths(digests: &Digests, unit: &str) -> Vec<String> {
    inputs::unit_dirs(unit)
        .into_iter()
        .flat_map(|dir| {
            inputs::files_under(digests, dir)
                .into_iter()
                .map(move |(path, _)| format!("{dir}/{path}"))
        })
        .collect()
}

/// The work tree's files a diff may read: `environments/` (or the one environment), `base/`
/// and `argocd/`, or every file of the repository when a unit reaches beyond its directories.
pub fn work_tree(tree: &Tree, only_env: Option<&str>) -> Digests {
    let environments = only_env.map_or("environments".to_string(), |name| {
        format!("environments/{name}")
    });
    let known = KnownFiles::default();
    let mut digests = Digests::new();
    for dir in [environments.as_str(), "base", "argocd"] {
        for (relative, digest) in inputs::dir_files(tree, dir, &known) {
            digests.insert(format!("{dir}/{relative}"), digest);
        }
    }
    let read = |path: &str| tree.read_listed(path).ok().flatten();
    let reaches = units_of(&digests, only_env).iter().any(|unit| {
        let paths = paths(&digests, unit);
        inputs::reach(unit, paths.iter().map(String::as_str), &read) == Reach::Repository
    });
    if reaches {
        digests = inputs::dir_files(tree, "", &known).into_iter().collect();
    }
    digests
}

/// The units of a tree from its file list: `environments/<env>` with a kustomization, and
/// `argocd` (unless only one environment is asked for); environments first, `argocd` last.
pub fn units_of(digests: &Digests, only_env: Option<&str>) -> Vec<String> {
    let mut units: BTreeSet<String> = BTreeSet::new();
    for path in digests.keys() {
        if let Some(rest) = path.strip_prefix("environments/") {
            if let Some((name, "kustomization.yaml")) = rest.split_once('/') {
                if only_env.is_none_or(|only| only == name) {
                    units.insert(format!("environments/{name}"));
                }
            }
        }
    }
    let mut units: Vec<String> = units.into_iter().collect();
    if only_env.is_none() && digests.contains_key("argocd/kustomization.yaml") {
        units.push("argocd".to_string());
    }
    units
}
