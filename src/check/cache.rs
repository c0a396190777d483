//! The render step's cache: an environment whose inputs have not changed is not rendered again.
//!
//! The key is a SHA-256 over everything `kubectl kustomize environments/<env>` reads from our
//! tree (every file of the environment directory and of `base/`, components included, by path
//! and content) and over `kubectl version --client`, so a new kubectl (a new built-in
//! kustomize) renders afresh. The value is kustomize's successful output; findings are always
//! recomputed from it, so they follow the current rules. Failures are never cached.
//!
//! The cache lives outside the tracked tree, in `$XDG_CACHE_HOME/dbos-gitops/render/` (or
//! `~/.cache/...`; `DBOS_GITOPS_CACHE_DIR` overrides it). It is only an accelerator: a cache
//! that cannot be read or written is ignored, never a failure of `check`. An overlay that
//! reaches files outside its directory and `base/` (`../../shared/x.yaml`) is not covered by the
//! key: pass `--no-cache` for such repositories.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// What one render produced: kustomize's stdout on success, its stderr on failure.
pub enum Rendered {
    Success(String),
    Failure(String),
}

pub struct RenderCache {
    /// `None`: no caching (`--no-cache`, or no usable directory).
    dir: Option<PathBuf>,
    /// Digest of `base/` and the kubectl version, shared by every environment.
    shared: String,
}

impl RenderCache {
    pub fn new(root: &Path, kubectl: &Path, enabled: bool) -> RenderCache {
        let dir = enabled.then(cache_dir).flatten();
        let shared = match &dir {
            None => String::new(),
            Some(_) => {
                let mut hasher = Sha256::new();
                let version = Command::new(kubectl)
                    .args(["version", "--client", "-o", "json"])
                    .output()
                    .map(|output| output.stdout)
                    .unwrap_or_default();
                hasher.update(b"dbos-gitops render cache 1\0kubectl\0");
                hasher.update(&version);
                hash_tree(&mut hasher, &root.join("base"), "base");
                format!("{:x}", hasher.finalize())
            }
        };
        RenderCache { dir, shared }
    }

    /// `kubectl kustomize <env_dir>` (repository-relative), from the cache when its inputs are
    /// unchanged. `Err` only when kubectl could not be run at all.
    pub fn render(&self, root: &Path, kubectl: &Path, env_dir: &str) -> std::io::Result<Rendered> {
        let entry = self.dir.as_ref().map(|dir| {
            let mut hasher = Sha256::new();
            hasher.update(self.shared.as_bytes());
            hash_tree(&mut hasher, &root.join(env_dir), "env");
            dir.join(format!("{:x}.yaml", hasher.finalize()))
        });
        if let Some(entry) = &entry {
            if let Ok(text) = std::fs::read_to_string(entry) {
                return Ok(Rendered::Success(text));
            }
        }
        let output = Command::new(kubectl)
            .args(["kustomize", env_dir])
            .current_dir(root)
            .output()?;
        if !output.status.success() {
            return Ok(Rendered::Failure(
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if let Some(entry) = &entry {
            store(entry, &text);
        }
        Ok(Rendered::Success(text))
    }
}

/// Written next to its final name and renamed, so a concurrent `check` never reads half an
/// entry; any error is dropped (the cache is optional).
fn store(entry: &Path, text: &str) {
    let Some(dir) = entry.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(mut file) = tempfile::NamedTempFile::new_in(dir) {
        use std::io::Write as _;
        if file.write_all(text.as_bytes()).is_ok() {
            let _ = file.persist(entry);
        }
    }
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DBOS_GITOPS_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| Path::new(dir).is_absolute())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("dbos-gitops/render"))
}

/// Every regular file below `dir`, in path order: its relative path and its bytes. Unreadable
/// entries are hashed as such (the render will say what is wrong with them).
fn hash_tree(hasher: &mut Sha256, dir: &Path, label: &str) {
    let mut files = Vec::new();
    collect(dir, Path::new(""), &mut files);
    files.sort();
    hasher.update(label.as_bytes());
    hasher.update([0]);
    for relative in files {
        let bytes = std::fs::read(dir.join(&relative)).unwrap_or_else(|_| b"\0unreadable".to_vec());
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(&bytes);
    }
}

fn collect(dir: &Path, relative: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir.join(relative)) else {
        return;
    };
    for entry in entries.flatten() {
        let path = relative.join(entry.file_name());
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => collect(dir, &path, out),
            Ok(_) => out.push(path),
            Err(_) => {}
        }
    }
}

/// A progress bar on stderr while environments render, only when stderr is a terminal and
/// there are enough of them to wait for.
pub fn progress(total: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal as _;
    if total < 10 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("rendering {pos}/{len} environments {wide_bar}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_digest_follows_paths_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/x.yaml"), "one").unwrap();
        let digest = |dir: &Path| {
            let mut hasher = Sha256::new();
            hash_tree(&mut hasher, dir, "env");
            format!("{:x}", hasher.finalize())
        };
        let first = digest(dir.path());
        assert_eq!(first, digest(dir.path()));
        std::fs::write(dir.path().join("a/x.yaml"), "two").unwrap();
        let second = digest(dir.path());
        assert_ne!(first, second);
        std::fs::rename(dir.path().join("a/x.yaml"), dir.path().join("a/y.yaml")).unwrap();
        assert_ne!(second, digest(dir.path()));
    }
}
