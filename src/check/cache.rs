//! The render step's cache: an environment whose inputs have not changed is neither rendered
//! nor parsed again.
//!
//! The key is a SHA-256 over everything `kubectl kustomize environments/<env>` reads from our
//! tree (every file of the environment directory and of `base/`, components included, by path
//! and content) and over `kubectl version --client`, so a new kubectl (a new built-in
//! kustomize) renders afresh. The value is not kustomize's output but what the findings need
//! from it (`render.rs` extracts these "facts" once, after a successful render), stored with
//! the version of the code that extracted them: an entry written by other extraction code, or
//! one that does not parse (truncated, corrupt), is a miss. The findings themselves are always
//! computed afresh from the facts and the current model, so they follow the current rules and
//! declarations. Failures are never cached.
//!
//! `kubectl version --client` costs about a tenth of a second (it is a 50 MB Go binary), so its
//! output is remembered too, keyed by the binary's resolved path, size, modification and
//! status-change times and inode: replacing or upgrading kubectl changes at least one of them.
//!
//! The cache lives outside the tracked tree, in `$XDG_CACHE_HOME/dbos-gitops/render/` (or
//! `~/.cache/...`; `DBOS_GITOPS_CACHE_DIR` overrides it). It is only an accelerator: a cache
//! that cannot be read or written is ignored, never a failure of `check`. An overlay that
//! reaches files outside its directory and `base/` (`../../shared/x.yaml`) is not covered by the
//! key: pass `--no-cache` for such repositories.
//!
//! Every change of an environment adds an entry, so entries age out: one that is used gets its
//! modification time renewed (at most once a day, through the descriptor it was read from), and
//! a `check` that stored a new entry removes the ones unused for [`UNUSED_FOR`] (entries of an
//! older format included). A warm run stores nothing and lists nothing. Ages are judged by the
//! system clock, as the file system sets modification times.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bumped when the layout of the key or of an entry changes.
const FORMAT: &str = "dbos-gitops render cache 3";

/// An entry (or kubectl version memo) not used for this long is removed by the next `check`
/// that stores one.
pub const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// A used entry's modification time is renewed when it is older than this.
const RENEW_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// A temporary file of an interrupted store older than this is litter.
const TEMPORARY_FOR: Duration = Duration::from_secs(60 * 60);

/// What one render produced.
pub enum Rendered<T> {
    /// kustomize succeeded; what the extractor took from its output.
    Success(T),
    /// kustomize succeeded but the extractor could not read its output (the reason).
    Unreadable(String),
    /// kustomize failed: its stderr.
    Failure(String),
}

/// One cache file: the facts and the version of the code that extracted them.
#[derive(Serialize, Deserialize)]
struct Entry<T> {
    version: String,
    facts: T,
}

/// What this run has already read (the plaintext scan reads every file of the repository), by
/// absolute path: each file's length and SHA-256. The key of a render is built from these, so a
/// warm `check` does not read every file of every environment a second time.
#[derive(Default)]
pub struct KnownFiles(HashMap<PathBuf, (u64, [u8; 32])>);

impl KnownFiles {
    pub fn add(&mut self, path: PathBuf, bytes: &[u8]) {
        self.0.insert(path, summary(bytes));
    }
}

/// A file's length and SHA-256, as the key takes it.
fn summary(bytes: &[u8]) -> (u64, [u8; 32]) {
    (bytes.len() as u64, Sha256::digest(bytes).into())
}

pub struct RenderCache {
    /// `None`: no caching (`--no-cache`, or no usable directory).
    dir: Option<PathBuf>,
    /// Digest of `base/` and the kubectl version, shared by every environment.
    shared: String,
    /// The extractor's version; an entry with another one is a miss.
    version: String,
    /// Whether this run stored an entry (then `finish` prunes).
    stored: AtomicBool,
    known: KnownFiles,
}

impl RenderCache {
    /// `version` names the code that turns a render into facts: entries written by another
    /// version are not used.
    pub fn new(
        root: &Path,
        kubectl: &Path,
        enabled: bool,
        version: &str,
        known: KnownFiles,
    ) -> RenderCache {
        let dir = enabled.then(cache_dir).flatten();
        let shared = match &dir {
            None => String::new(),
            Some(dir) => {
                let mut hasher = Sha256::new();
                hasher.update(FORMAT.as_bytes());
                hasher.update(b"\0kubectl\0");
                hasher.update(kubectl_version(dir, kubectl));
                hash_tree(&mut hasher, &root.join("base"), "base", &known);
                format!("{:x}", hasher.finalize())
            }
        };
        RenderCache {
            dir,
            shared,
            version: version.to_string(),
            stored: AtomicBool::new(false),
            known,
        }
    }

    /// After the renders: when this run added an entry, removes those unused for [`UNUSED_FOR`].
    pub fn finish(&self) {
        if let (Some(dir), true) = (&self.dir, self.stored.load(Ordering::Relaxed)) {
            prune(dir, SystemTime::now());
        }
    }

    /// `kubectl kustomize <env_dir>` (repository-relative) turned into facts by `extract`, from
    /// the cache when the overlay's inputs are unchanged. `Err` only when kubectl could not be
    /// run at all.
    pub fn render<T: Serialize + DeserializeOwned>(
        &self,
        root: &Path,
        kubectl: &Path,
        env_dir: &str,
        extract: impl FnOnce(&str) -> Result<T, String>,
    ) -> std::io::Result<Rendered<T>> {
        let entry = self.dir.as_ref().map(|dir| {
            let mut hasher = Sha256::new();
            hasher.update(self.shared.as_bytes());
            // The entry also names the extractor's version, so two dbos-gitops versions that
            // share a cache directory do not overwrite each other's entries.
            hasher.update(self.version.as_bytes());
            hasher.update([0]);
            hash_tree(&mut hasher, &root.join(env_dir), "env", &self.known);
            dir.join(format!("{:x}.json", hasher.finalize()))
        });
        if let Some(entry) = &entry {
            if let Some(facts) = self.load(entry) {
                return Ok(Rendered::Success(facts));
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
        let facts = match extract(&String::from_utf8_lossy(&output.stdout)) {
            Ok(facts) => facts,
            Err(reason) => return Ok(Rendered::Unreadable(reason)),
        };
        if let Some(entry) = &entry {
            let stored = Entry {
                version: self.version.clone(),
                facts: &facts,
            };
            if let Ok(bytes) = serde_json::to_vec(&stored) {
                store(entry, &bytes);
                self.stored.store(true, Ordering::Relaxed);
            }
        }
        Ok(Rendered::Success(facts))
    }

    /// The entry's facts when it is readable, whole and of this version (then it is renewed).
    fn load<T: DeserializeOwned>(&self, entry: &Path) -> Option<T> {
        let (file, bytes) = read_used(entry)?;
        let entry: Entry<T> = serde_json::from_slice(&bytes).ok()?;
        if entry.version != self.version {
            return None;
        }
        renew(&file);
        Some(entry.facts)
    }
}

/// A cache file's descriptor and bytes.
fn read_used(path: &Path) -> Option<(std::fs::File, Vec<u8>)> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some((file, bytes))
}

/// Marks a cache file used: its modification time set to now when it is older than a day.
fn renew(file: &std::fs::File) {
    let now = SystemTime::now();
    let stale = file
        .metadata()
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| now.duration_since(modified).ok())
        .is_some_and(|age| age > RENEW_AFTER);
    if stale {
        let _ = file.set_modified(now);
    }
}

/// Removes our files in `dir` unused since `now - UNUSED_FOR` (and temporary files of
/// interrupted stores older than an hour); never follows a link, never touches other names.
fn prune(dir: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let hex64 = |text: &str| text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
        let limit = if name.strip_suffix(".json").is_some_and(hex64)
            || name
                .strip_prefix("kubectl-")
                .and_then(|rest| rest.strip_suffix(".version"))
                .is_some_and(hex64)
        {
            UNUSED_FOR
        } else if name.starts_with(".tmp") {
            TEMPORARY_FOR
        } else {
            continue;
        };
        // `DirEntry::metadata` does not follow a link.
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let unused = metadata
            .modified()
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > limit);
        if metadata.is_file() && unused {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `kubectl version --client -o json`, remembered per binary (see the module comment). An
/// unreadable binary or a failing kubectl yields whatever it printed, which is still a key.
fn kubectl_version(dir: &Path, kubectl: &Path) -> Vec<u8> {
    let memo =
        binary_identity(kubectl).map(|identity| dir.join(format!("kubectl-{identity}.version")));
    if let Some((file, bytes)) = memo.as_ref().and_then(|memo| read_used(memo)) {
        if !bytes.is_empty() {
            renew(&file);
            return bytes;
        }
    }
    let version = Command::new(kubectl)
        .args(["version", "--client", "-o", "json"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| output.stdout)
        .unwrap_or_default();
    if let (Some(memo), false) = (&memo, version.is_empty()) {
        store(memo, &version);
    }
    version
}

/// A digest of what identifies the file at `path` without reading it: its resolved path, size,
/// modification time and (on Unix) inode and status-change time.
fn binary_identity(path: &Path) -> Option<String> {
    let resolved = std::fs::canonicalize(path).ok()?;
    let metadata = std::fs::metadata(&resolved).ok()?;
    let modified = metadata
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut hasher = Sha256::new();
    hasher.update(resolved.to_string_lossy().as_bytes());
    hasher.update([0]);
    hasher.update(metadata.len().to_be_bytes());
    hasher.update(modified.as_secs().to_be_bytes());
    hasher.update(modified.subsec_nanos().to_be_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        hasher.update(metadata.ino().to_be_bytes());
        hasher.update(metadata.ctime().to_be_bytes());
        hasher.update(metadata.ctime_nsec().to_be_bytes());
    }
    Some(format!("{:x}", hasher.finalize()))
}

/// Written next to its final name and renamed, so a concurrent `check` never reads half an
/// entry; any error is dropped (the cache is optional).
fn store(entry: &Path, bytes: &[u8]) {
    let Some(dir) = entry.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(mut file) = tempfile::NamedTempFile::new_in(dir) {
        use std::io::Write as _;
        if file.write_all(bytes).is_ok() {
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

/// Every file below `dir`, in path order: its relative path, length and SHA-256 (from `known`
/// when this run has read it already). Unreadable entries are hashed as such (the render will
/// say what is wrong with them).
fn hash_tree(hasher: &mut Sha256, dir: &Path, label: &str, known: &KnownFiles) {
    let mut files = Vec::new();
    collect(dir, Path::new(""), &mut files);
    files.sort();
    hasher.update(label.as_bytes());
    hasher.update([0]);
    for relative in files {
        let path = dir.join(&relative);
        let (length, digest) = known.0.get(&path).copied().unwrap_or_else(|| {
            summary(&std::fs::read(&path).unwrap_or_else(|_| b"\0unreadable".to_vec()))
        });
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(length.to_be_bytes());
        hasher.update(digest);
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
            hash_tree(&mut hasher, dir, "env", &KnownFiles::default());
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

    #[test]
    fn a_file_already_read_keys_as_if_read_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("patches")).unwrap();
        std::fs::write(dir.path().join("env.yaml"), "a: 1\n").unwrap();
        std::fs::write(dir.path().join("patches/x.yaml"), "b: 2\n").unwrap();
        let digest = |known: &KnownFiles| {
            let mut hasher = Sha256::new();
            hash_tree(&mut hasher, dir.path(), "env", known);
            format!("{:x}", hasher.finalize())
        };
        let read_here = digest(&KnownFiles::default());
        let mut known = KnownFiles::default();
        known.add(dir.path().join("env.yaml"), b"a: 1\n");
        known.add(dir.path().join("patches/x.yaml"), b"b: 2\n");
        assert_eq!(digest(&known), read_here);
        // What was read is what counts: a different content read earlier is another key.
        known.add(dir.path().join("patches/x.yaml"), b"b: 3\n");
        assert_ne!(digest(&known), read_here);
    }

    #[test]
    fn pruning_removes_only_our_unused_files() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let hex = |digit: char| digit.to_string().repeat(64);
        let aged = |name: &str, age: Duration| {
            let path = dir.path().join(name);
            std::fs::write(&path, "{}").unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(now - age).unwrap();
        };
        let day = Duration::from_secs(24 * 60 * 60);
        aged(&format!("{}.json", hex('a')), 31 * day);
        aged(&format!("{}.json", hex('b')), 29 * day);
        aged(&format!("kubectl-{}.version", hex('c')), 31 * day);
        aged(&format!("kubectl-{}.version", hex('d')), day);
        aged(".tmpAbC123", Duration::from_secs(2 * 60 * 60));
        aged(".tmpDeF456", Duration::from_secs(60));
        aged("notes.json", 400 * day);
        aged(&format!("{}.json.bak", hex('e')), 400 * day);
        std::os::unix::fs::symlink(
            dir.path().join("notes.json"),
            dir.path().join(format!("{}.json", hex('f'))),
        )
        .unwrap();
        prune(dir.path(), now);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut expected = vec![
            format!("{}.json", hex('b')),
            format!("kubectl-{}.version", hex('d')),
            ".tmpDeF456".to_string(),
            "notes.json".to_string(),
            format!("{}.json.bak", hex('e')),
            format!("{}.json", hex('f')),
        ];
        expected.sort();
        assert_eq!(left, expected);
    }

    #[test]
    fn a_used_file_is_renewed_at_most_daily() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entry.json");
        std::fs::write(&path, "{}").unwrap();
        let modified = |path: &Path| std::fs::metadata(path).unwrap().modified().unwrap();
        let set = |age: Duration| {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(SystemTime::now() - age).unwrap();
            modified(&path)
        };
        let hour_old = set(Duration::from_secs(60 * 60));
        renew(&read_used(&path).unwrap().0);
        assert_eq!(
            modified(&path),
            hour_old,
            "used within the day: left as it is"
        );
        set(Duration::from_secs(40 * 24 * 60 * 60));
        renew(&read_used(&path).unwrap().0);
        let age = SystemTime::now().duration_since(modified(&path)).unwrap();
        assert!(age < Duration::from_secs(60), "renewed: {age:?} old");
    }
}
