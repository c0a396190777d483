//! The render cache, shared by `check` and `diff`: a render of a given input set is computed
//! once, whichever command, revision or branch asked for it.
//!
//! Entries are content-addressed by the unit's input set (`inputs.rs`: every file the render
//! reads, by path and content) and by `kubectl version --client`, so a new kubectl (a new
//! built-in kustomize) renders afresh. Two kinds of entry share that key: the render's text
//! (what `diff` compares) and what `check`'s findings need from it ("facts", extracted once by
//! `render.rs`, stored with the version of the code that extracted them, so a warm `check`
//! parses no YAML). `check` stores both when it renders; a `check` that finds only the text
//! (`diff` rendered it) extracts the facts from it without running kubectl. Failures are never
//! cached. A unit that reaches a remote base is never cached.
//!
//! The cache is trusted only as far as it is private (#23):
//! - every entry carries an HMAC-SHA256 over its name and contents, with a per-user key kept
//!   outside the cache (`~/.config/dbos-gitops/render-cache.key`, 0600, made on first use);
//!   an entry without a valid tag (planted, copied from another user, damaged) is a miss;
//! - an entry not owned by the current user, or a cache directory that is not the user's own
//!   or that others may write (group or world write bit, a 1777 `DBOS_GITOPS_CACHE_DIR`), is
//!   not used at all (the run renders everything and stores nothing);
//! - `kubectl version --client` (0.1 s: a 50 MB Go binary) is remembered per binary (resolved
//!   path, size, times, inode), but for a day at most: a kubectl upgraded behind an unchanged
//!   wrapper script is noticed by the next day's run.
//!
//! The cache lives outside the tracked tree, in `$XDG_CACHE_HOME/dbos-gitops/render/` (or
//! `~/.cache/...`; `DBOS_GITOPS_CACHE_DIR` overrides it). It is only an accelerator: a cache
//! that cannot be read or written is ignored, never a failure.
//!
//! Every change of an environment adds entries, so entries age out: one that is used gets its
//! modification time renewed (at most once a day, through the descriptor it was read from), and
//! a run that stored a new entry removes the ones unused for [`UNUSED_FOR`] (entries of an
//! older format included). A warm run stores nothing and lists nothing. Ages are judged by the
//! system clock, as the file system sets modification times.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

#[cfg(test)]
use super::inputs::{self, dir_files, KnownFiles};

/// Bumped when the layout of the key or of an entry changes.
const FORMAT: &str = "dbos-gitops render cache 4";

/// An entry (or kubectl version memo) not used for this long is removed by the next run that
/// stores one.
pub const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// A used entry's modification time is renewed when it is older than this; a kubectl version
/// memo older than this is read again from kubectl.
const RENEW_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// A temporary file of an interrupted store older than this is litter.
const TEMPORARY_FOR: Duration = Duration::from_secs(60 * 60);
/// The file of the per-user HMAC key, in the private config directory.
const KEY_FILE: &str = "render-cache.key";

/// What one render produced.
pub enum Rendered<T> {
    /// kustomize succeeded; what the extractor took from its output.
    Success(T),
    /// kustomize succeeded but the extractor could not read its output (the reason).
    Unreadable(String),
    /// kustomize failed: its stderr.
    Failure(String),
}

/// A usable cache: its directory and the HMAC key.
struct Store {
    dir: PathBuf,
    key: [u8; 32],
}

pub struct RenderCache {
    /// `None`: no caching (`--no-cache`, or no private directory or key).
    store: Option<Store>,
    /// Digest of `kubectl version --client`, part of every key.
    kubectl_version: [u8; 32],
    /// Whether this run stored an entry (then `finish` prunes).
    stored: AtomicBool,
}

impl RenderCache {
    pub fn new(kubectl: &Path, enabled: bool) -> RenderCache {
        let store = if enabled { open_store() } else { None };
        let kubectl_version = match &store {
            Some(store) => Sha256::digest(kubectl_version(store, kubectl)).into(),
            None => [0; 32],
        };
        RenderCache {
            store,
            kubectl_version,
            stored: AtomicBool::new(false),
        }
    }

    /// After the renders: when this run added an entry, removes those unused for [`UNUSED_FOR`].
    pub fn finish(&self) {
        if let (Some(store), true) = (&self.store, self.stored.load(Ordering::Relaxed)) {
            prune(&store.dir, SystemTime::now());
        }
    }

    /// The entry file of `kind` for the input set `inputs`.
    fn entry(&self, kind: &str, extra: &str, inputs: &[u8; 32]) -> Option<PathBuf> {
        let store = self.store.as_ref()?;
        let mut hasher = Sha256::new();
        hasher.update(FORMAT.as_bytes());
        hasher.update([0]);
        hasher.update(kind.as_bytes());
        hasher.update([0]);
        // Two dbos-gitops versions sharing a directory do not overwrite each other's facts.
        hasher.update(extra.as_bytes());
        hasher.update([0]);
        hasher.update(self.kubectl_version);
        hasher.update(inputs);
        let extension = if kind == "text" { "render" } else { "json" };
        Some(
            store
                .dir
                .join(format!("{:x}.{extension}", hasher.finalize())),
        )
    }

    fn load(&self, entry: &Path) -> Option<Vec<u8>> {
        load(self.store.as_ref()?, entry, true)
    }

    fn save(&self, entry: &Path, bytes: &[u8]) {
        if let Some(store) = &self.store {
            store_signed(store, entry, bytes);
            self.stored.store(true, Ordering::Relaxed);
        }
    }

    /// The text `kubectl kustomize UNIT` prints in `tree`, from the cache when `inputs` (the
    /// unit's key, `None`: not cacheable) was rendered before. `Ok(Err(stderr))`: kustomize
    /// failed. `Err` only when kubectl could not be run at all.
    pub fn text(
        &self,
        kubectl: &Path,
        tree: &Path,
        unit: &str,
        inputs: Option<&[u8; 32]>,
    ) -> std::io::Result<Result<String, String>> {
        let entry = inputs.and_then(|inputs| self.entry("text", "", inputs));
        if let Some(bytes) = entry.as_deref().and_then(|entry| self.load(entry)) {
            if let Ok(text) = String::from_utf8(bytes) {
                return Ok(Ok(text));
            }
        }
        let output = Command::new(kubectl)
            .args(["kustomize", unit])
            .current_dir(tree)
            .output()?;
        if !output.status.success() {
            return Ok(Err(String::from_utf8_lossy(&output.stderr).into_owned()));
        }
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if let Some(entry) = &entry {
            self.save(entry, text.as_bytes());
        }
        Ok(Ok(text))
    }

    /// Whether entries can be stored and read at all (else no key need be computed).
    pub fn enabled(&self) -> bool {
        self.store.is_some()
    }

    /// `kubectl kustomize UNIT` turned into facts by `extract`, from the cache when the unit's
    /// inputs were seen before: the facts of this extractor `version`, else the render's text.
    /// `local` is the key of the unit's own directories; on a miss, `widen` gives the key of
    /// everything it reads (`inputs.rs`: an entry under `local` can only be one of a unit that
    /// reads nothing else).
    pub fn facts<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        (kubectl, tree, unit): (&Path, &Path, &str),
        local: Option<[u8; 32]>,
        widen: impl FnOnce() -> Option<[u8; 32]>,
        version: &str,
        extract: impl FnOnce(&str) -> Result<T, String>,
    ) -> std::io::Result<Rendered<T>> {
        let cached = |key: &[u8; 32]| {
            let bytes = self.load(&self.entry("facts", version, key)?)?;
            serde_json::from_slice::<T>(&bytes).ok()
        };
        if let Some(facts) = local.as_ref().and_then(cached) {
            return Ok(Rendered::Success(facts));
        }
        let key = local.and_then(|_| widen());
        if key != local {
            if let Some(facts) = key.as_ref().and_then(cached) {
                return Ok(Rendered::Success(facts));
            }
        }
        let text = match self.text(kubectl, tree, unit, key.as_ref())? {
            Ok(text) => text,
            Err(stderr) => return Ok(Rendered::Failure(stderr)),
        };
        let facts = match extract(&text) {
            Ok(facts) => facts,
            Err(reason) => return Ok(Rendered::Unreadable(reason)),
        };
        let entry = key.and_then(|key| self.entry("facts", version, &key));
        if let (Some(entry), Ok(bytes)) = (&entry, serde_json::to_vec(&facts)) {
            self.save(entry, &bytes);
        }
        Ok(Rendered::Success(facts))
    }
}

/// The cache directory and key, when both are private to this user.
fn open_store() -> Option<Store> {
    let dir = cache_dir()?;
    if std::fs::metadata(&dir).is_err() {
        use std::os::unix::fs::DirBuilderExt as _;
        let _ = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir);
    }
    let metadata = std::fs::metadata(&dir).ok()?;
    if !metadata.is_dir() || !private_to_us(&metadata, 0o022) {
        return None;
    }
    Some(Store {
        dir,
        key: hmac_key()?,
    })
}

/// Owned by the effective user, and none of the `forbidden` permission bits set.
fn private_to_us(metadata: &std::fs::Metadata, forbidden: u32) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let user = unsafe { libc::geteuid() };
    metadata.uid() == user && metadata.mode() & forbidden == 0
}

/// The per-user HMAC key (32 random bytes, hex), made on first use; `None` when it cannot be
/// read or made, or when it is not private (then nothing is cached).
fn hmac_key() -> Option<[u8; 32]> {
    let dir = crate::repo::fs::private_config_dir()?;
    let path = dir.join(KEY_FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        let key: [u8; 32] = rand::random();
        let hex: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
        crate::repo::fs::private_dir(&dir, &mut Vec::new()).ok()?;
        crate::repo::fs::write_private_atomic(&path, hex.as_bytes()).ok()?;
    }
    let mut file = std::fs::File::open(&path).ok()?;
    if !private_to_us(&file.metadata().ok()?, 0o077) {
        return None;
    }
    let mut text = String::new();
    file.by_ref().take(128).read_to_string(&mut text).ok()?;
    let text = text.trim();
    let mut key = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (index, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(index * 2..index * 2 + 2)?, 16).ok()?;
    }
    Some(key)
}

/// HMAC-SHA256 of an entry's file name and contents: the name binds the tag to its key, so an
/// entry copied under another name is a miss too.
fn tag(key: &[u8; 32], name: &str, bytes: &[u8]) -> String {
    let mut message = Vec::with_capacity(name.len() + 1 + bytes.len());
    message.extend_from_slice(name.as_bytes());
    message.push(0);
    message.extend_from_slice(bytes);
    hmac_sha256(key, &message)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// HMAC (RFC 2104) over SHA-256 for keys of at most one block (64 bytes), zero-padded.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut inner_pad = [0x36u8; 64];
    let mut outer_pad = [0x5cu8; 64];
    for (index, byte) in key.iter().take(64).enumerate() {
        inner_pad[index] ^= byte;
        outer_pad[index] ^= byte;
    }
    let mut inner = Sha256::new();
    inner.update(inner_pad);
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(outer_pad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// An entry's contents when it is ours (owned by this user, a regular file) and its tag is
/// valid; a used entry is renewed when `renew_it`.
fn load(store: &Store, entry: &Path, renew_it: bool) -> Option<Vec<u8>> {
    let mut file = std::fs::File::open(entry).ok()?;
    let metadata = file.metadata().ok()?;
    if !metadata.is_file() || !private_to_us(&metadata, 0o022) {
        return None;
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let name = entry.file_name()?.to_string_lossy();
    let newline = bytes.iter().position(|byte| *byte == b'\n')?;
    let (stored_tag, payload) = (&bytes[..newline], &bytes[newline + 1..]);
    let expected = tag(&store.key, &name, payload);
    if !constant_time_eq(stored_tag, expected.as_bytes()) {
        return None;
    }
    if renew_it {
        renew(&file);
    }
    Some(payload.to_vec())
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// Written (tag, newline, contents) next to its final name and renamed, so a concurrent run
/// never reads half an entry; any error is dropped (the cache is optional).
fn store_signed(store: &Store, entry: &Path, bytes: &[u8]) {
    let Some(name) = entry.file_name() else {
        return;
    };
    let mut contents = tag(&store.key, &name.to_string_lossy(), bytes).into_bytes();
    contents.push(b'\n');
    contents.extend_from_slice(bytes);
    if let Ok(mut file) = tempfile::NamedTempFile::new_in(&store.dir) {
        use std::io::Write as _;
        if file.write_all(&contents).is_ok() {
            let _ = file.persist(entry);
        }
    }
}

/// Marks a cache file used: its modification time set to now when it is older than a day.
fn renew(file: &std::fs::File) {
    let now = SystemTime::now();
    if age(file).is_some_and(|age| age > RENEW_AFTER) {
        let _ = file.set_modified(now);
    }
}

fn age(file: &std::fs::File) -> Option<Duration> {
    let modified = file.metadata().ok()?.modified().ok()?;
    SystemTime::now().duration_since(modified).ok()
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
            || name.strip_suffix(".render").is_some_and(hex64)
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

/// `kubectl version --client -o json`, remembered per binary (see the module comment) for at
/// most [`RENEW_AFTER`]. An unreadable binary or a failing kubectl yields whatever it printed,
/// which is still a key.
fn kubectl_version(store: &Store, kubectl: &Path) -> Vec<u8> {
    let memo = binary_identity(kubectl)
        .map(|identity| store.dir.join(format!("kubectl-{identity}.version")));
    let fresh = memo.as_ref().is_some_and(|memo| {
        std::fs::File::open(memo)
            .ok()
            .and_then(|file| age(&file))
            .is_some_and(|age| age <= RENEW_AFTER)
    });
    if let (Some(memo), true) = (&memo, fresh) {
        if let Some(bytes) = load(store, memo, false).filter(|bytes| !bytes.is_empty()) {
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
        store_signed(store, memo, &version);
    }
    version
}

/// A digest of what identifies the file at `path` without reading it: its resolved path, size,
/// modification time, inode and status-change time.
fn binary_identity(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let resolved = std::fs::canonicalize(path).ok()?;
    let metadata = std::fs::metadata(&resolved).ok()?;
    let mut hasher = Sha256::new();
    hasher.update(resolved.to_string_lossy().as_bytes());
    hasher.update([0]);
    for number in [
        metadata.len() as i64,
        metadata.mtime(),
        metadata.mtime_nsec(),
        metadata.ino() as i64,
        metadata.ctime(),
        metadata.ctime_nsec(),
    ] {
        hasher.update(number.to_be_bytes());
    }
    Some(format!("{:x}", hasher.finalize()))
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = crate::env_vars::get_os(crate::env_vars::CACHE_DIR) {
        return Some(PathBuf::from(dir));
    }
    let base = crate::env_vars::get_os(crate::env_vars::XDG_CACHE_HOME)
        .filter(|dir| Path::new(dir).is_absolute())
        .map(PathBuf::from)
        .or_else(|| {
            crate::env_vars::get_os(crate::env_vars::HOME)
                .map(|home| PathBuf::from(home).join(".cache"))
        })?;
    Some(base.join("dbos-gitops/render"))
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
            let tree = crate::workspace::Tree::scratch(dir);
            inputs::part("env", dir_files(&tree, "", &KnownFiles::default()))
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
        let tree = crate::workspace::Tree::scratch(dir.path());
        let digest = |known: &KnownFiles| inputs::part("env", dir_files(&tree, "", known));
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
        aged(&format!("{}.render", hex('9')), 31 * day);
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
    fn a_tag_binds_key_name_and_contents() {
        let key = [7u8; 32];
        let tagged = tag(&key, "a.render", b"text");
        assert_eq!(tagged, tag(&key, "a.render", b"text"));
        assert_ne!(tagged, tag(&key, "b.render", b"text"));
        assert_ne!(tagged, tag(&key, "a.render", b"texT"));
        assert_ne!(tagged, tag(&[8u8; 32], "a.render", b"text"));
        // RFC 4231, test case 1.
        let vector = hmac_sha256(&[0x0b; 20], b"Hi There");
        let hex: String = vector.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(
            hex,
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let dir = tempfile::tempdir().unwrap();
        let store = Store {
            dir: dir.path().to_path_buf(),
            key,
        };
        let entry = dir.path().join(format!("{}.render", "a".repeat(64)));
        store_signed(&store, &entry, b"kind: X\n");
        assert_eq!(load(&store, &entry, false).unwrap(), b"kind: X\n");
        let mut planted = std::fs::read(&entry).unwrap();
        *planted.last_mut().unwrap() = b'Y';
        std::fs::write(&entry, &planted).unwrap();
        assert!(
            load(&store, &entry, false).is_none(),
            "a changed entry is a miss"
        );
        let other = Store {
            dir: dir.path().to_path_buf(),
            key: [9u8; 32],
        };
        store_signed(&store, &entry, b"kind: X\n");
        assert!(
            load(&other, &entry, false).is_none(),
            "another key's entry is a miss"
        );
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
        renew(&std::fs::File::open(&path).unwrap());
        assert_eq!(
            modified(&path),
            hour_old,
            "used within the day: left as it is"
        );
        set(Duration::from_secs(40 * 24 * 60 * 60));
        renew(&std::fs::File::open(&path).unwrap());
        let age = SystemTime::now().duration_since(modified(&path)).unwrap();
        assert!(age < Duration::from_secs(60), "renewed: {age:?} old");
    }
}
