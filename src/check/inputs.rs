//! What one `kubectl kustomize UNIT` reads, as a content digest: the key of the render cache
//! (`cache.rs`) and what `diff` compares to know that an environment did not change.
//!
//! A unit is an environment directory (`environments/<env>`, which reads `base/` too) or
//! `argocd`. Its input set is every file of its directories, by path relative to the directory
//! (compared as strings), length and SHA-256. The same digest comes out of a work tree (files
//! read from disk) and of a git revision (blobs streamed by `diff/git.rs`), so a render computed
//! for one is found by the other.
//!
//! kustomize may read more than that: a path in a kustomization that leads out of the unit's
//! directories (`../../shared/x.yaml`) or a remote base. [`reach`] finds such paths in the unit's
//! own kustomization files; a unit that reaches elsewhere in the repository is keyed on every
//! file of the repository as well, and one that reaches a remote (or out of the repository) is
//! never cached nor taken as unchanged. Because the kustomization files are part of the local
//! digest, the reach is a function of that digest: an entry stored under a local-only key was
//! stored for a unit that reaches nothing else, so a warm lookup needs no parsing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::workspace::Tree;

/// A file's length and SHA-256.
pub type FileDigest = (u64, [u8; 32]);

/// Files by repository-relative, `/`-separated path.
pub type Digests = BTreeMap<String, FileDigest>;

/// A file's length and SHA-256, as the key takes it.
pub fn summary(bytes: &[u8]) -> FileDigest {
    (bytes.len() as u64, Sha256::digest(bytes).into())
}

/// The directories of a unit's input set: its own, and `base` for an environment.
pub fn unit_dirs(unit: &str) -> Vec<&str> {
    if unit.starts_with("environments/") {
        vec![unit, "base"]
    } else {
        vec![unit]
    }
}

/// The digest of one directory's files. `files` are (path relative to `dir`, digest); they are
/// sorted here, by their text.
pub fn part(dir: &str, mut files: Vec<(String, FileDigest)>) -> [u8; 32] {
    files.sort_by(|left, right| left.0.cmp(&right.0));
    let mut hasher = Sha256::new();
    hasher.update(b"dir\0");
    hasher.update(dir.as_bytes());
    hasher.update([0]);
    for (relative, (length, digest)) in files {
        hasher.update(relative.as_bytes());
        hasher.update([0]);
        hasher.update(length.to_be_bytes());
        hasher.update(digest);
    }
    hasher.finalize().into()
}

/// The files of `dir` in `digests`, relative to `dir`.
pub fn files_under(digests: &Digests, dir: &str) -> Vec<(String, FileDigest)> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    digests
        .range(prefix.clone()..)
        .take_while(|(path, _)| path.starts_with(&prefix))
        .map(|(path, digest)| (path[prefix.len()..].to_string(), *digest))
        .collect()
}

/// The key of a unit from the digests of its directories (in [`unit_dirs`] order) and, when it
/// reaches elsewhere in the repository, the digest of the whole repository.
pub fn combine(parts: &[[u8; 32]], repository: Option<&[u8; 32]>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"dbos-gitops inputs 1\0");
    for part in parts {
        hasher.update(part);
    }
    if let Some(repository) = repository {
        hasher.update(b"\0repository\0");
        hasher.update(repository);
    }
    hasher.finalize().into()
}

/// Where a unit's kustomizations read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Only the unit's directories.
    Local,
    /// Other files of the repository too.
    Repository,
    /// A remote base, or a path out of the repository: never cached, never taken as unchanged.
    Outside,
}

/// The reach of `unit` from its kustomization files (repository-relative paths in `paths`,
/// their content from `read`). kustomize resolves every path of a kustomization against the
/// kustomization's own directory (kustomize `api/internal/target`, `kusttarget.go`, loads each
/// resource, component and patch path through a loader rooted there); a remote resource is a
/// URL or a `host/org/repo` path that is not a local file.
pub fn reach<'a>(
    unit: &str,
    paths: impl Iterator<Item = &'a str>,
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Reach {
    let dirs = unit_dirs(unit);
    let mut result = Reach::Local;
    for path in paths {
        let name = path.rsplit('/').next().unwrap_or(path);
        if !matches!(
            name,
            "kustomization.yaml" | "kustomization.yml" | "Kustomization"
        ) {
            continue;
        }
        let Some(bytes) = read(path) else {
            return Reach::Outside;
        };
        let Ok(document) = serde_yaml::from_slice::<serde_yaml::Value>(&bytes) else {
            continue; // kustomize refuses it: the render fails, whatever the key
        };
        let here = Path::new(path).parent().unwrap_or(Path::new(""));
        let mut strings = Vec::new();
        collect_strings(&document, &mut strings);
        for text in strings {
            match place(here, &text, &dirs) {
                Reach::Local => {}
                Reach::Repository => result = Reach::Repository,
                Reach::Outside => return Reach::Outside,
            }
        }
    }
    result
}

fn collect_strings(value: &serde_yaml::Value, out: &mut Vec<String>) {
    match value {
        serde_yaml::Value::String(text) => out.push(text.clone()),
        serde_yaml::Value::Sequence(items) => {
            items.iter().for_each(|item| collect_strings(item, out))
        }
        serde_yaml::Value::Mapping(map) => map.values().for_each(|item| collect_strings(item, out)),
        serde_yaml::Value::Tagged(tagged) => collect_strings(&tagged.value, out),
        _ => {}
    }
}

/// Where a string of a kustomization in `here` points, if it is a path at all. Only strings
/// that could lead out matter: absolute paths, `..` components, URLs and remote targets.
fn place(here: &Path, text: &str, dirs: &[&str]) -> Reach {
    let text = text.trim();
    if text.contains("://") || text.starts_with("git@") || text.starts_with("github.com/") {
        return Reach::Outside;
    }
    if text.contains('\n') || !(text.starts_with('/') || text.split('/').any(|part| part == "..")) {
        return Reach::Local;
    }
    if text.starts_with('/') {
        return Reach::Outside;
    }
    let mut resolved = PathBuf::new();
    for component in here.join(text).components() {
        match component {
            Component::Normal(part) => resolved.push(part),
            Component::ParentDir => {
                if !resolved.pop() {
                    return Reach::Outside;
                }
            }
            Component::CurDir => {}
            _ => return Reach::Outside,
        }
    }
    let inside = dirs.iter().any(|dir| resolved.starts_with(dir));
    if inside {
        Reach::Local
    } else {
        Reach::Repository
    }
}

/// What this run has already read (the plaintext scan reads every file of the repository), by
/// absolute path: each file's length and SHA-256. The key of a render is built from these, so a
/// warm `check` does not read every file of every environment a second time.
#[derive(Default)]
pub struct KnownFiles(HashMap<PathBuf, FileDigest>);

impl KnownFiles {
    pub fn add(&mut self, path: PathBuf, bytes: &[u8]) {
        self.0.insert(path, summary(bytes));
    }

    /// [`KnownFiles::add`] with the summary already made.
    pub fn insert(&mut self, path: PathBuf, summary: FileDigest) {
        self.0.insert(path, summary);
    }
}

/// The files of `root/dir`, relative to it, with their digests (from `known` when this run has
/// read them already). Unreadable entries are keyed as such (the render says what is wrong).
/// `.git` at the top of `root/dir` is left out (the repository's digest is of its files).
pub fn dir_files(tree: &Tree, dir: &str, known: &KnownFiles) -> Vec<(String, FileDigest)> {
    let mut files = Vec::new();
    collect(tree, dir, Path::new(""), &mut files);
    files.retain(|path| !path.starts_with(".git"));
    let base = tree.path(dir);
    files
        .into_iter()
        .map(|relative| {
            let path = base.join(&relative);
            let relative = relative.to_string_lossy().replace('\\', "/");
            let digest = known.0.get(&path).copied().unwrap_or_else(|| {
                let within = if dir.is_empty() {
                    relative.clone()
                } else {
                    format!("{dir}/{relative}")
                };
                let bytes = tree.read_listed(&within).ok().flatten();
                summary(bytes.as_deref().unwrap_or(b"\0unreadable"))
            });
            (relative, digest)
        })
        .collect()
}

fn collect(tree: &Tree, dir: &str, relative: &Path, out: &mut Vec<PathBuf>) {
    let listed = Path::new(dir).join(relative);
    let Ok(entries) = tree.entries(&listed.to_string_lossy()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = relative.join(entry.file_name());
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => collect(tree, dir, &path, out),
            Ok(_) => out.push(path),
            Err(_) => {}
        }
    }
}

/// The keys of `check`'s renders, from the work tree: `base/`'s digest is computed once, the
/// repository's only when an overlay reaches into it.
pub struct WorkTreeKeys<'a> {
    tree: &'a Tree,
    known: &'a KnownFiles,
    base: [u8; 32],
    repository: std::sync::OnceLock<[u8; 32]>,
}

impl<'a> WorkTreeKeys<'a> {
    pub fn new(tree: &'a Tree, known: &'a KnownFiles) -> Self {
        WorkTreeKeys {
            tree,
            known,
            base: part("base", dir_files(tree, "base", known)),
            repository: std::sync::OnceLock::new(),
        }
    }

    /// The key of `unit` if it reached only its own directories, and what it reads (for
    /// [`Self::widen`]).
    pub fn local(&self, unit: &str) -> ([u8; 32], Vec<(String, FileDigest)>) {
        let files = dir_files(self.tree, unit, self.known);
        let own = part(unit, files.clone());
        let parts: Vec<[u8; 32]> = if unit.starts_with("environments/") {
            vec![own, self.base]
        } else {
            vec![own]
        };
        (combine(&parts, None), files)
    }

    /// The key of `unit` after reading its kustomizations: `local` itself, the key with the
    /// repository's digest, or `None` (reaches outside: not cacheable).
    pub fn widen(
        &self,
        unit: &str,
        local: [u8; 32],
        files: &[(String, FileDigest)],
    ) -> Option<[u8; 32]> {
        let mut paths: Vec<String> = files
            .iter()
            .map(|(path, _)| format!("{unit}/{path}"))
            .collect();
        if unit.starts_with("environments/") {
            paths.extend(
                dir_files(self.tree, "base", self.known)
                    .into_iter()
                    .map(|(path, _)| format!("base/{path}")),
            );
        }
        let read = |path: &str| self.tree.read_listed(path).ok().flatten();
        match reach(unit, paths.iter().map(String::as_str), &read) {
            Reach::Local => Some(local),
            Reach::Outside => None,
            Reach::Repository => {
                let repository = self
                    .repository
                    .get_or_init(|| part("", dir_files(self.tree, "", self.known)));
                Some(combine(&[local], Some(repository)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach_of(unit: &str, files: &[(&str, &str)]) -> Reach {
        let map: BTreeMap<String, String> = files
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect();
        reach(unit, map.keys().map(String::as_str), &|path| {
            map.get(path).map(|text| text.as_bytes().to_vec())
        })
    }

    #[test]
    fn paths_into_base_are_local_others_are_not() {
        let env = "environments/prod";
        let local = "resources:\n- ../../base\n- x.yaml\ncomponents:\n- ../../base/components/ha\npatches:\n- patch: '[{\"op\":\"replace\",\"path\":\"/spec/a/b\"}]'\n";
        assert_eq!(
            reach_of(env, &[("environments/prod/kustomization.yaml", local)]),
            Reach::Local
        );
        let shared = "resources:\n- ../../base\n- ../../shared/x.yaml\n";
        assert_eq!(
            reach_of(env, &[("environments/prod/kustomization.yaml", shared)]),
            Reach::Repository
        );
        let sibling = "resources:\n- ../staging\n";
        assert_eq!(
            reach_of(env, &[("environments/prod/kustomization.yaml", sibling)]),
            Reach::Repository
        );
        for outside in [
            "resources:\n- https://github.com/acme/x//base?ref=v1\n",
            "resources:\n- ../../../etc\n",
            "resources:\n- /etc/x.yaml\n",
        ] {
            assert_eq!(
                reach_of(env, &[("environments/prod/kustomization.yaml", outside)]),
                Reach::Outside,
                "{outside}"
            );
        }
        // base's own kustomizations count for an environment, files that are not do not.
        assert_eq!(
            reach_of(
                env,
                &[
                    ("base/kustomization.yaml", "resources:\n- ../shared\n"),
                    ("environments/prod/notes.yaml", "resources:\n- ../../x\n"),
                ]
            ),
            Reach::Repository
        );
        assert_eq!(
            reach_of(
                "argocd",
                &[("argocd/kustomization.yaml", "resources:\n- ../base\n")]
            ),
            Reach::Repository
        );
    }

    #[test]
    fn part_orders_by_text_and_follows_contents() {
        let file = |text: &str| summary(text.as_bytes());
        let one = part(
            "env",
            vec![("a/b".into(), file("1")), ("a.b".into(), file("2"))],
        );
        let same = part(
            "env",
            vec![("a.b".into(), file("2")), ("a/b".into(), file("1"))],
        );
        assert_eq!(one, same);
        let other = part(
            "env",
            vec![("a.b".into(), file("3")), ("a/b".into(), file("1"))],
        );
        assert_ne!(one, other);
        let mut digests = Digests::new();
        digests.insert("base/x".into(), file("x"));
        digests.insert("base2/y".into(), file("y"));
        digests.insert("environments/a/env.yaml".into(), file("a"));
        assert_eq!(
            files_under(&digests, "base"),
            vec![("x".to_string(), file("x"))]
        );
    }
}
