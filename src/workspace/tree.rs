//! The files of one tree as a command reads them: the repository under a workspace
//! ([`Tree::repository`]), or a directory the command made itself ([`Tree::scratch`]: `diff`'s
//! copy of a revision). Every read of the repository's files goes through one of these, so
//! there is one reading of the tree per process:
//!
//! - [`Tree::read`]: a file the command interprets (a declaration, a certificate, a sealed
//!   file), confined to the repository (`repo::confine`) and kept, so a second reader of the
//!   same file in the same command gets the same bytes;
//! - [`Tree::read_listed`] and [`Tree::entries`]: the bulk walks (the plaintext scan of every
//!   file, the render cache's input digests) that read each file once and look at most of them
//!   never again, so they keep nothing. Their walkers decide what a link means to them.
//!
//! The kept bytes are behind a mutex: `check` scans on one thread while it compares the
//! generated files on another, both through the same tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::Error;
use crate::repo::confine::{Confinement, Escape};

#[derive(Debug)]
pub struct Tree {
    root: PathBuf,
    /// What reads are held inside (the repository, as the load confined it); `None` for a
    /// scratch directory the command wrote itself, which has no link to refuse.
    confinement: Option<Arc<Confinement>>,
    /// Files read through [`Tree::read`], once each (`None`: absent).
    kept: Mutex<BTreeMap<String, Option<Vec<u8>>>>,
}

impl Tree {
    /// The repository at `root`, for a command that loads no declaration (`diff`, shell
    /// completion).
    pub fn repository(root: &Path) -> Tree {
        Tree::confined_by(Arc::new(Confinement::new(root)))
    }

    /// The repository as a load confined it (the workspace's tree): what the load learnt of
    /// its paths holds for the tree's reads too.
    pub fn confined_by(confinement: Arc<Confinement>) -> Tree {
        Tree {
            root: confinement.root().to_path_buf(),
            confinement: Some(confinement),
            kept: Mutex::default(),
        }
    }

    /// A directory this command made and filled (never the repository).
    pub fn scratch(dir: &Path) -> Tree {
        Tree {
            root: dir.to_path_buf(),
            confinement: None,
            kept: Mutex::default(),
        }
    }

    /// Every symbolic link of the owned tree that leads out of the repository
    /// (`Confinement::links_out`); none in a scratch directory.
    pub fn links_out(&self) -> Result<Vec<Escape>, Error> {
        match &self.confinement {
            Some(confinement) => confinement.links_out(),
            None => Ok(Vec::new()),
        }
    }

    /// Refuses `path` when it leads out of the repository.
    fn check(&self, path: &Path) -> Result<(), Error> {
        match &self.confinement {
            Some(confinement) => confinement.check(path),
            None => Ok(()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path of `relative`.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn kept(&self) -> MutexGuard<'_, BTreeMap<String, Option<Vec<u8>>>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `relative`'s bytes (`None` when absent), read once: a path that leads out of the
    /// repository is refused.
    pub fn read(&self, relative: &str) -> Result<Option<Vec<u8>>, Error> {
        if let Some(kept) = self.kept().get(relative) {
            return Ok(kept.clone());
        }
        let path = self.path(relative);
        self.check(&path)?;
        let bytes = crate::repo::fs::read_optional(&path)?;
        self.kept().insert(relative.to_string(), bytes.clone());
        Ok(bytes)
    }

    /// [`Tree::read`] refused past `limit` bytes (`limits`), not kept: `what` names the file's
    /// kind.
    pub fn read_bounded(
        &self,
        relative: &str,
        limit: usize,
        what: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, Error> {
        let path = self.path(relative);
        self.check(&path)?;
        crate::limits::read_bounded_optional(&path, limit, what)
    }

    /// Takes what a load read (`LoadedRepo::read`) as read through this tree; what was kept
    /// first stays.
    pub fn keep(&self, read: BTreeMap<String, Option<Vec<u8>>>) {
        let mut kept = self.kept();
        if kept.is_empty() {
            *kept = read;
            return;
        }
        for (path, bytes) in read {
            kept.entry(path).or_insert(bytes);
        }
    }

    /// Forgets what was read: the disk changed under it (a commit).
    pub fn forget(&self) {
        self.kept().clear();
    }

    /// A file a walk of this tree listed (`entries`), read as it is and not kept.
    pub fn read_listed(&self, relative: &str) -> Result<Option<Vec<u8>>, Error> {
        crate::repo::fs::read_optional(&self.path(relative))
    }

    /// The entries of the directory `relative` ("" for the root), in the order the system
    /// lists them; each entry's type is the listing's own (a link is a link). What a walker
    /// does with an entry it cannot read is its own choice.
    pub fn entries(&self, relative: &str) -> std::io::Result<std::fs::ReadDir> {
        std::fs::read_dir(self.path(relative))
    }

    /// Where the link `relative` points, as written in it.
    pub fn read_link(&self, relative: &str) -> std::io::Result<PathBuf> {
        std::fs::read_link(self.path(relative))
    }

    /// Every regular file under the directory `dir` (repository-relative, sorted); each
    /// directory walked is confined to the repository. A missing `dir` has none.
    pub fn files_under(&self, dir: &str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        let mut pending = vec![dir.to_string()];
        while let Some(current) = pending.pop() {
            let path = self.path(&current);
            self.check(&path)?;
            let entries = match self.entries(&current) {
                Ok(entries) => entries,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(Error::io(&path, "read", source)),
            };
            for entry in entries {
                let entry = entry.map_err(|source| Error::io(&path, "read", source))?;
                let kind = entry
                    .file_type()
                    .map_err(|source| Error::io(entry.path(), "read", source))?;
                let name = entry.file_name();
                let relative = format!("{current}/{}", name.to_string_lossy());
                if kind.is_dir() {
                    pending.push(relative);
                } else if kind.is_file() {
                    out.push(relative);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes the directory `relative` and the directories under it once they are empty
    /// (what is left after a plan removed every file); one that still holds something stays.
    pub fn remove_empty_dirs(&self, relative: &str) {
        fn remove(dir: &Path) {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                        remove(&entry.path());
                    }
                }
            }
            let _ = std::fs::remove_dir(dir);
        }
        let path = self.path(relative);
        if self.check(&path).is_ok() {
            remove(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_read_outlives_the_disk_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let tree = Tree::repository(dir.path());
        std::fs::write(dir.path().join("a"), "one").unwrap();
        assert_eq!(tree.read("a").unwrap().as_deref(), Some(&b"one"[..]));
        std::fs::write(dir.path().join("a"), "two").unwrap();
        assert_eq!(tree.read("a").unwrap().as_deref(), Some(&b"one"[..]));
        // A listed read is never kept.
        assert_eq!(tree.read_listed("a").unwrap().as_deref(), Some(&b"two"[..]));
        tree.forget();
        assert_eq!(tree.read("a").unwrap().as_deref(), Some(&b"two"[..]));
        assert_eq!(tree.read("missing").unwrap(), None);
    }

    #[test]
    fn the_repository_is_confined_and_a_scratch_directory_is_not() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        let error = Tree::repository(dir.path()).read("out/secret").unwrap_err();
        assert!(
            error.to_string().contains("leads out of the repository"),
            "{error}"
        );
        let scratch = Tree::scratch(dir.path());
        assert_eq!(
            scratch.read("out/secret").unwrap().as_deref(),
            Some(&b"s"[..])
        );
    }

    #[test]
    fn files_under_lists_regular_files_sorted_and_empty_dirs_go() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("e/b/c")).unwrap();
        std::fs::create_dir_all(dir.path().join("e/empty/deeper")).unwrap();
        std::fs::write(dir.path().join("e/z"), "").unwrap();
        std::fs::write(dir.path().join("e/b/c/a"), "").unwrap();
        std::os::unix::fs::symlink("z", dir.path().join("e/link")).unwrap();
        let tree = Tree::repository(dir.path());
        assert_eq!(tree.files_under("e").unwrap(), ["e/b/c/a", "e/z"]);
        assert!(tree.files_under("missing").unwrap().is_empty());
        tree.remove_empty_dirs("e/empty");
        assert!(!dir.path().join("e/empty").exists());
        tree.remove_empty_dirs("e");
        assert!(dir.path().join("e/b/c/a").exists());
    }
}
