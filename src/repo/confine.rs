//! Confinement: the one rule for every path of the tree that dbos-gitops reads or writes.
//!
//! A path is resolved as the kernel would walk it (every symbolic link followed, `..` applied to
//! the directory it is in after resolution, components that do not exist yet taken as they
//! are, like `realpath -m`) and allowed only when the result lies inside the repository's own
//! real path. So a symbolic link that stays inside the repository is followed as usual (a
//! shared `secrets/` directory, a certificate linked from another environment), and one that
//! leads out, at any depth, is refused before anything is read through it or written anywhere:
//! with `environments/prod/secrets -> /elsewhere`, `seal` would otherwise write there.
//!
//! The last component of a write is never followed: staging files are created with
//! `O_CREAT|O_EXCL`, which fails on an existing name, a symbolic link included (open(2): "If
//! O_CREAT and O_EXCL are set, ... symbolic links are not followed"), and put in place with
//! rename(2), which replaces a link rather than writing through it. The repository lock keeps
//! our own commands from racing the check; another user changing links in the tree while a
//! command runs is outside what this guards.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::error::Error;

/// Symbolic links followed while resolving one path before giving up, as Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

enum Part {
    Root,
    Up,
    Name(OsString),
}

fn parts(path: &Path) -> Vec<Part> {
    path.components()
        .filter_map(|component| match component {
            Component::RootDir | Component::Prefix(_) => Some(Part::Root),
            Component::CurDir => None,
            Component::ParentDir => Some(Part::Up),
            Component::Normal(name) => Some(Part::Name(name.to_os_string())),
        })
        .collect()
}

/// Absolute, with no `.` or `..`: the paths whose resolution can be remembered piecewise.
fn is_plain(path: &Path) -> bool {
    path.is_absolute()
        && path
            .components()
            .all(|component| matches!(component, Component::RootDir | Component::Normal(_)))
}

/// The real path `path` leads to: every existing symbolic link resolved, `..` applied after
/// resolution, the missing tail kept as written (with its `..` applied lexically). Nothing is
/// remembered: the tests' independent answer for [`Confinement::resolve`], which is the same
/// with its cache.
#[cfg(test)]
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    resolve_with(path, None)
}

fn resolve_with(
    path: &Path,
    cache: Option<&Mutex<HashMap<PathBuf, PathBuf>>>,
) -> std::io::Result<PathBuf> {
    if let (true, Some(cache)) = (is_plain(path), cache) {
        return resolve_plain(path, cache);
    }
    let start = if path.is_absolute() {
        PathBuf::from("/")
    } else {
        std::env::current_dir()?
    };
    let mut pending = parts(path);
    pending.reverse();
    walk(start, pending)
}

/// `resolve` of a plain path: its parent (remembered in `cache`), then its last component.
fn resolve_plain(
    path: &Path,
    cache: &Mutex<HashMap<PathBuf, PathBuf>>,
) -> std::io::Result<PathBuf> {
    if let Some(real) = lock(cache).get(path) {
        return Ok(real.clone());
    }
    let real = match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => walk(
            resolve_plain(parent, cache)?,
            vec![Part::Name(name.to_os_string())],
        )?,
        _ => PathBuf::from("/"),
    };
    lock(cache).insert(path.to_path_buf(), real.clone());
    Ok(real)
}

/// Walks `pending` (the next component last) from the real directory `current`.
fn walk(mut current: PathBuf, mut pending: Vec<Part>) -> std::io::Result<PathBuf> {
    let mut links = 0;
    let mut missing = false;
    while let Some(part) = pending.pop() {
        match part {
            Part::Root => current = PathBuf::from("/"),
            Part::Up => {
                current.pop();
            }
            Part::Name(name) => {
                let next = current.join(&name);
                if missing {
                    current = next;
                    continue;
                }
                match std::fs::symlink_metadata(&next) {
                    Ok(metadata) if metadata.file_type().is_symlink() => {
                        links += 1;
                        if links > MAX_LINKS {
                            return Err(std::io::Error::other(format!(
                                "more than {MAX_LINKS} symbolic links (a loop?)"
                            )));
                        }
                        let target = std::fs::read_link(&next)?;
                        // Relative targets continue from the link's directory, `current`.
                        pending.extend(parts(&target).into_iter().rev());
                    }
                    Ok(_) => current = next,
                    Err(error)
                        if matches!(
                            error.kind(),
                            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                        ) =>
                    {
                        missing = true;
                        current = next;
                    }
                    Err(error) => return Err(error),
                }
            }
        }
    }
    Ok(current)
}

/// Where a path leaves the repository: its shortest prefix that resolves outside (the link or
/// `..` to blame) and where that leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escape {
    /// Relative to the root when the path is under it, as written otherwise.
    pub link: String,
    pub target: PathBuf,
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The error for a path that leads out of the repository.
pub fn refusal(root: &Path, escape: &Escape) -> Error {
    Error::input(format!(
        "`{}` leads out of the repository (to `{}`): dbos-gitops reads and writes only inside `{}`",
        escape.link,
        escape.target.display(),
        root.display()
    ))
    .hint("replace the symbolic link with the directory or file itself (a link to a place inside the repository is fine), then rerun")
}

/// Walks at most this deep: a tree nested deeper is not one dbos-gitops wrote.
const MAX_DEPTH: usize = 32;

/// Confinement to one repository, with what it learns of the file system on the way: the
/// real path of each path it resolved, and what one walk of the owned tree found. One value
/// per command (the load makes it; its plans and the workspace's tree share it): dbos-gitops
/// never creates a symbolic link, and the repository lock keeps our own commands out while
/// one runs, so what it learnt stays true for the command (a path that was missing and is
/// written later resolves to itself either way). The cache turns the `statx` of every
/// component of every path, several times per file, into one per path: a no-op build of 1000
/// environments made 182 000 of them without it (17 000 before paths were confined).
#[derive(Debug)]
pub struct Confinement {
    root: PathBuf,
    /// An absolute path as written (no `.` or `..`) to its real path.
    resolved: Mutex<HashMap<PathBuf, PathBuf>>,
    /// What [`Confinement::links_out`] found, once walked.
    walked: Mutex<Option<Vec<Escape>>>,
    /// The owned tree was walked and found without a single symbolic link, nor a directory too
    /// deep to walk. Below the root every path of the owned tree is then its own real path: no
    /// component is a link, and a missing component cannot become one (as above), so
    /// resolving it again, one `lstat` per path, proves nothing new. This is what keeps
    /// confinement from costing a large repository a second `statx` per file.
    link_free: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Confinement {
    /// Confinement to the repository at `root` (absolute, as the commands name it), knowing
    /// nothing yet.
    pub fn new(root: &Path) -> Confinement {
        Confinement {
            root: root.to_path_buf(),
            resolved: Mutex::default(),
            walked: Mutex::default(),
            link_free: AtomicBool::new(false),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// [`resolve`], remembering each plain path's real path.
    pub fn resolve(&self, path: &Path) -> std::io::Result<PathBuf> {
        resolve_with(path, Some(&self.resolved))
    }

    /// `None` when `path` (absolute, or relative to the current directory) resolves inside the
    /// repository.
    pub fn escape(&self, path: &Path) -> Result<Option<Escape>, Error> {
        let root = self.root.as_path();
        if self.walked_without_links(path) {
            return Ok(None);
        }
        let real_root = self
            .resolve(root)
            .map_err(|source| Error::io(root, "resolve", source))?;
        let resolved = self
            .resolve(path)
            .map_err(|source| Error::io(path, "resolve", source))?;
        if resolved.starts_with(&real_root) {
            return Ok(None);
        }
        // Name the first component that leads out: walk the prefixes below the root.
        let relative = path.strip_prefix(root).unwrap_or(path);
        let mut prefix = if path.starts_with(root) {
            root.to_path_buf()
        } else {
            PathBuf::new()
        };
        for component in relative.components() {
            prefix.push(component);
            if let Ok(target) = self.resolve(&prefix) {
                if !target.starts_with(&real_root) {
                    return Ok(Some(Escape {
                        link: shown(root, &prefix),
                        target,
                    }));
                }
            }
        }
        Ok(Some(Escape {
            link: shown(root, path),
            target: resolved,
        }))
    }

    /// Whether `path` resolves inside the repository (through every symbolic link and `..`).
    pub fn is_inside(&self, path: &Path) -> Result<bool, Error> {
        Ok(self.escape(path)?.is_none())
    }

    /// Refuses (exit 2) a path of the tree that resolves outside the repository.
    pub fn check(&self, path: &Path) -> Result<(), Error> {
        match self.escape(path)? {
            None => Ok(()),
            Some(escape) => Err(refusal(&self.root, &escape)),
        }
    }

    /// `fs::read_optional` of a path of the tree, refused when it resolves outside the
    /// repository.
    pub fn read_optional(&self, path: &Path) -> Result<Option<Vec<u8>>, Error> {
        self.check(path)?;
        super::fs::read_optional(path)
    }

    /// Whether `path` lies in the owned tree and that tree was proven free of links.
    fn walked_without_links(&self, path: &Path) -> bool {
        if !is_plain(path) || !self.link_free.load(Ordering::Acquire) {
            return false;
        }
        let Ok(relative) = path.strip_prefix(&self.root) else {
            return false;
        };
        let mut components = relative.components();
        let Some(first) = components.next() else {
            return false;
        };
        let first = first.as_os_str();
        let owned_dir = crate::layout::GITOPS_DIRS
            .iter()
            .any(|name| first == std::ffi::OsStr::new(name));
        let owned_file = [crate::layout::REPO_FILE, crate::layout::RECORD_FILE]
            .iter()
            .any(|name| relative == Path::new(name));
        // The walk looked `MAX_DEPTH` levels below each owned directory and no further.
        owned_file || (owned_dir && components.count() <= MAX_DEPTH)
    }

    /// Every symbolic link in the tree dbos-gitops owns (`environments/`, `base/`, `argocd/`,
    /// the repository file and the ownership record) that resolves outside the repository, in
    /// path order. Links are not followed, so each is named once, where it is. Walked once
    /// (`load` walks before it reads; `check` reports the same walk).
    pub fn links_out(&self) -> Result<Vec<Escape>, Error> {
        if let Some(found) = lock(&self.walked).as_ref() {
            return Ok(found.clone());
        }
        let root = self.root.as_path();
        let mut walk = Walk::default();
        for name in crate::layout::GITOPS_DIRS
            .iter()
            .chain(&[crate::layout::REPO_FILE, crate::layout::RECORD_FILE])
        {
            self.visit(&root.join(name), 0, &mut walk)?;
        }
        if is_plain(root) {
            if !walk.saw_link && !walk.too_deep {
                self.link_free.store(true, Ordering::Release);
            }
            *lock(&self.walked) = Some(walk.found.clone());
        }
        Ok(walk.found)
    }
}

/// [`Confinement::is_inside`] for a one-off question (where a private key or the journal key
/// goes): nothing is remembered.
pub fn is_inside(root: &Path, path: &Path) -> Result<bool, Error> {
    Confinement::new(root).is_inside(path)
}

/// What one walk of the owned tree met.
#[derive(Default)]
struct Walk {
    found: Vec<Escape>,
    /// Any symbolic link, inside or out.
    saw_link: bool,
    /// A directory at `MAX_DEPTH` that was not looked into.
    too_deep: bool,
}

impl Confinement {
    fn visit(&self, path: &Path, depth: usize, walk: &mut Walk) -> Result<(), Error> {
        let Ok(metadata) = std::fs::symlink_metadata(path) else {
            return Ok(());
        };
        self.visit_entry(path, metadata.file_type(), depth, walk)
    }

    /// One entry, its type as the directory listing gave it (no `statx` per file).
    fn visit_entry(
        &self,
        path: &Path,
        file_type: std::fs::FileType,
        depth: usize,
        walk: &mut Walk,
    ) -> Result<(), Error> {
        if file_type.is_symlink() {
            walk.saw_link = true;
            if let Some(escape) = self.escape(path)? {
                walk.found.push(escape);
            }
            return Ok(());
        }
        if file_type.is_dir() && depth >= MAX_DEPTH {
            walk.too_deep = true;
        }
        if file_type.is_dir() && depth < MAX_DEPTH {
            let entries =
                std::fs::read_dir(path).map_err(|source| Error::io(path, "list", source))?;
            let mut children = Vec::new();
            for entry in entries.flatten() {
                let file_type = entry
                    .file_type()
                    .map_err(|source| Error::io(entry.path(), "inspect", source))?;
                children.push((entry.path(), file_type));
            }
            children.sort_by(|left, right| left.0.cmp(&right.0));
            for (child, file_type) in children {
                self.visit_entry(&child, file_type, depth + 1, walk)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_inside_are_followed_and_links_out_are_named() {
        let outside = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        std::fs::create_dir_all(root.join("environments/prod")).unwrap();
        std::fs::create_dir_all(root.join("shared")).unwrap();
        std::os::unix::fs::symlink("../../shared", root.join("environments/prod/secrets")).unwrap();
        assert!(is_inside(root, &root.join("environments/prod/secrets/a.yaml")).unwrap());
        std::os::unix::fs::symlink(outside.path(), root.join("environments/prod/out")).unwrap();
        let confinement = Confinement::new(root);
        let found = confinement
            .escape(&root.join("environments/prod/out/new/a.yaml"))
            .unwrap()
            .unwrap();
        assert_eq!(found.link, "environments/prod/out");
        assert_eq!(found.target, resolve(outside.path()).unwrap());
        // `..` out of the root, through a directory that does not exist yet.
        let climbed = confinement
            .escape(&root.join("missing/../../x"))
            .unwrap()
            .unwrap();
        assert_eq!(climbed.link, "missing/../..");
        // A dangling link out is caught too.
        std::os::unix::fs::symlink(
            outside.path().join("nothing"),
            root.join("environments/prod/dangling"),
        )
        .unwrap();
        assert!(!is_inside(root, &root.join("environments/prod/dangling")).unwrap());
    }

    #[test]
    fn a_walk_without_links_vouches_only_for_the_tree_it_walked() {
        let outside = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        let root = &resolve(repo.path()).unwrap();
        std::fs::create_dir_all(root.join("environments/prod")).unwrap();
        std::fs::create_dir_all(root.join("docs")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("docs/out")).unwrap();
        let confinement = Confinement::new(root);
        assert_eq!(confinement.links_out().unwrap(), Vec::new());
        assert!(confinement.link_free.load(Ordering::Acquire));
        assert!(confinement
            .is_inside(&root.join("environments/prod/new/file.yaml"))
            .unwrap());
        // Outside the owned tree the walk proves nothing: still resolved, still refused.
        assert!(!confinement.is_inside(&root.join("docs/out/x")).unwrap());
        assert!(!confinement
            .is_inside(&root.join("environments/../docs/out/x"))
            .unwrap());
        // What one value learnt is its own: another of the same root has walked nothing.
        assert!(!Confinement::new(root).link_free.load(Ordering::Acquire));
    }

    #[test]
    fn a_link_inside_keeps_every_path_resolved() {
        let outside = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        let root = &resolve(repo.path()).unwrap();
        std::fs::create_dir_all(root.join("environments/prod")).unwrap();
        std::fs::create_dir_all(root.join("shared")).unwrap();
        std::os::unix::fs::symlink("../../shared", root.join("environments/prod/secrets")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("shared/out")).unwrap();
        // The link in the owned tree stays inside, so the walk reports nothing...
        let confinement = Confinement::new(root);
        assert_eq!(confinement.links_out().unwrap(), Vec::new());
        // ...but it saw a link, so the paths through it are resolved, and `shared/out` found.
        assert!(!confinement.link_free.load(Ordering::Acquire));
        let escape = confinement
            .escape(&root.join("environments/prod/secrets/out/a.yaml"))
            .unwrap()
            .unwrap();
        assert_eq!(escape.link, "environments/prod/secrets/out");
    }

    #[test]
    fn a_link_loop_is_an_error_not_a_hang() {
        let repo = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("b", repo.path().join("a")).unwrap();
        std::os::unix::fs::symlink("a", repo.path().join("b")).unwrap();
        assert!(resolve(&repo.path().join("a/x")).is_err());
        let confinement = Confinement::new(repo.path());
        assert!(confinement.resolve(&repo.path().join("a/x")).is_err());
    }

    #[test]
    fn the_cache_answers_as_the_file_system_did_and_the_uncached_path_agrees() {
        let repo = tempfile::tempdir().unwrap();
        let root = &resolve(repo.path()).unwrap();
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::os::unix::fs::symlink("real", root.join("link")).unwrap();
        let confinement = Confinement::new(root);
        let through = root.join("link/a.yaml");
        assert_eq!(
            confinement.resolve(&through).unwrap(),
            root.join("real/a.yaml")
        );
        assert_eq!(
            confinement.resolve(&through).unwrap(),
            resolve(&through).unwrap()
        );
        assert_eq!(
            lock(&confinement.resolved).get(&through),
            Some(&root.join("real/a.yaml"))
        );
    }
}
