//! Crash consistency: an intent record (`.dbos-gitops-journal`) for the renames and removals of
//! one plan, so a process killed half-way is finished by the next writer instead of leaving a
//! tree that is half old, half new (false "edited by hand" conflicts, orphaned generated files).
//!
//! The protocol: every new file is staged in full (`.dbos-gitops-XXXXXX` beside its target) and
//! made durable; then the journal, listing in order each staged file with its target and each
//! file to remove (with the SHA-256 of what is staged or removed), is written atomically and
//! made durable; then the steps run in that order (declarations and their removals first, the
//! generated files after them, the ownership record last, generated removals after it); then
//! the journal is removed. Before the journal exists the tree is the old one and the staging
//! files are litter; once it exists everything it names is on disk, so the next writer (under
//! the repository lock, `lock::acquire`) rolls forward: renames what is still staged, removes
//! what is still there, removes the journal. Then it sweeps every leftover staging file (and
//! the directories only they kept alive); it walks the tree for them only when there was a
//! journal or a writer's marker (`litter`), not on every run.
//!
//! A journal is a file in the tree, so one can arrive that no interrupted write of ours left:
//! committed with `git add -f`, shipped in a tarball. Replaying it would remove or overwrite
//! whatever it names. So the next writer replays a journal only when all of this holds, checked
//! whole before the first step, and otherwise refuses (exit 2) with the tree untouched:
//! git does not track it; its HMAC under this user's key (`journal_key`, outside every tree)
//! matches; the writer's marker beside it holds the nonce it records; no step names `.git`,
//! leaves the repository (but for a development key in our private directory), or removes a
//! file outside `base/`, `environments/`, `argocd/`; and every step is in the state the
//! writer left: a staged file with the recorded digest, or a target already holding it; a
//! file to remove with the recorded digest, or gone. A stale journal (its staged files gone,
//! the targets not what it staged) is refused, removals included.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::failpoint::{self, Step as FailStep};
use super::{fs, journal_key, litter};
use crate::error::Error;
use crate::layout::GITOPS_DIRS;

pub const JOURNAL_FILE: &str = ".dbos-gitops-journal";
/// The prefix of every staging file (and of the journal, which the sweep keeps).
pub const STAGING_PREFIX: &str = ".dbos-gitops-";
/// The journal format this writer reads and writes.
const FORMAT: u32 = 2;
/// A journal of tens of thousands of files is a few MiB; nothing larger is read.
pub const MAX_JOURNAL_BYTES: u64 = 32 << 20;

/// What an interrupted write left to do, in order. Paths are relative to the root (absolute
/// only for a development key in the private configuration directory).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Journal {
    /// The writer's nonce, also in its marker (`litter`).
    pub nonce: String,
    pub steps: Vec<Step>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Step {
    /// Rename `staged` onto `target`; `sha256` is the staged content's.
    Rename {
        staged: String,
        target: String,
        sha256: String,
    },
    /// Remove `path`, whose content had `sha256` when the plan was made.
    Remove { path: String, sha256: String },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: u32,
    journal: Journal,
    /// HMAC-SHA256 of `journal` as serialised, under this user's journal key.
    mac: String,
}

/// The bytes the MAC covers.
fn body(journal: &Journal) -> Vec<u8> {
    serde_json::to_vec(journal).unwrap_or_default()
}

/// The file's bytes: the journal and its MAC.
pub fn encode(journal: &Journal, mac: &str) -> Vec<u8> {
    let envelope = Envelope {
        format: FORMAT,
        journal: journal.clone(),
        mac: mac.to_string(),
    };
    serde_json::to_vec(&envelope).unwrap_or_default()
}

fn is_hex(text: &str, length: usize) -> bool {
    text.len() == length && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// A relative path of plain components, none of them `.git` (in any case): the only shape a
/// journal path inside the repository has.
fn plain_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(|character: char| character.is_control() || character == '\\')
        && Path::new(path)
            .components()
            .all(|component| match component {
                Component::Normal(name) => !name.eq_ignore_ascii_case(".git"),
                _ => false,
            })
}

/// A path that is relative and plain, or absolute (then `recover` requires it to lie in the
/// private configuration directory).
fn plain(path: &str) -> bool {
    if Path::new(path).is_absolute() {
        !path.contains(|character: char| character.is_control())
            && !Path::new(path)
                .components()
                .any(|component| matches!(component, Component::ParentDir))
    } else {
        plain_relative(path)
    }
}

/// Why one step cannot be ours, judged from its text alone.
fn step_shape(step: &Step) -> Result<(), String> {
    match step {
        Step::Rename {
            staged,
            target,
            sha256,
        } => {
            let (staged_path, target_path) = (Path::new(staged), Path::new(target));
            let staged_name = staged_path
                .file_name()
                .is_some_and(|name| is_staging_name(&name.to_string_lossy()));
            if !plain(staged) || !plain(target) || !is_hex(sha256, 64) {
                return Err(format!(
                    "the rename of `{staged}` onto `{target}` is not one dbos-gitops makes"
                ));
            }
            if !staged_name || staged_path.parent() != target_path.parent() {
                return Err(format!(
                    "`{staged}` is not a staging file beside `{target}`"
                ));
            }
            Ok(())
        }
        Step::Remove { path, sha256 } => {
            let generated = GITOPS_DIRS.iter().any(|dir| {
                path.strip_prefix(dir)
                    .is_some_and(|rest| rest.starts_with('/'))
            });
            if !plain_relative(path) || !generated || !is_hex(sha256, 64) {
                return Err(format!(
                    "it would remove `{path}`, which dbos-gitops never removes"
                ));
            }
            Ok(())
        }
    }
}

/// Reads a journal's bytes: the journal and its MAC, or why this is no journal of ours.
/// Checks the shape of every step; what is on disk is `recover`'s to check.
pub fn parse(bytes: &[u8]) -> Result<(Journal, String), String> {
    if bytes.len() as u64 > MAX_JOURNAL_BYTES {
        return Err(format!(
            "it is {} bytes, more than the {MAX_JOURNAL_BYTES} a journal may hold",
            bytes.len()
        ));
    }
    let envelope: Envelope =
        serde_json::from_slice(bytes).map_err(|error| format!("it does not parse: {error}"))?;
    if envelope.format != FORMAT {
        return Err(format!("format {} is not {FORMAT}", envelope.format));
    }
    if !is_hex(&envelope.journal.nonce, 32) || !is_hex(&envelope.mac, 64) {
        return Err("its nonce or its authentication code is malformed".to_string());
    }
    for step in &envelope.journal.steps {
        step_shape(step)?;
    }
    Ok((envelope.journal, envelope.mac))
}

/// A staging file's name: the prefix and tempfile's six random alphanumerics.
pub fn is_staging_name(name: &str) -> bool {
    name.strip_prefix(STAGING_PREFIX).is_some_and(|rest| {
        rest.len() == 6 && rest.bytes().all(|byte| byte.is_ascii_alphanumeric())
    })
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Refuses, before anything is staged, a target that a rename could not create: a file name
/// longer than the file system allows (a 253-character Kubernetes name plus `.yaml`), or a
/// directory where a file goes. Once the journal is written every rename must succeed.
pub fn check_targets<'a>(
    root: &Path,
    targets: impl IntoIterator<Item = &'a Path>,
) -> Result<(), Error> {
    const NAME_MAX: usize = 255;
    for target in targets {
        let shown = relative(root, target);
        for component in target.strip_prefix(root).unwrap_or(target).components() {
            let length = component.as_os_str().len();
            if length > NAME_MAX {
                return Err(Error::input(format!(
                    "`{shown}`: a file name of {length} bytes is longer than the {NAME_MAX} a file system allows"
                ))
                .hint("Kubernetes allows names of up to 253 characters, but the file holding it needs a few more: use a shorter name"));
            }
        }
        if target.is_dir() {
            return Err(Error::input(format!(
                "`{shown}` is a directory where dbos-gitops writes a file"
            ))
            .hint("move it away and rerun"));
        }
    }
    Ok(())
}

/// What `commit` does, in order: the first `first` staged files (the declarations) are renamed,
/// then `early` removed (declarations that go), then the other staged files renamed (the
/// generated files, the ownership record last), then `late` removed (generated files). So a
/// crash never leaves generated files ahead of the declarations they come from.
pub struct Order<'a> {
    pub first: usize,
    pub early: &'a [PathBuf],
    pub late: &'a [PathBuf],
}

enum Action {
    Rename(tempfile::TempPath, PathBuf),
    Remove(PathBuf),
}

/// The journal of `actions`, each staged file's and removed file's content digest recorded.
fn journal_of(root: &Path, nonce: String, actions: &[(Action, String)]) -> Journal {
    let steps = actions
        .iter()
        .map(|(action, sha256)| match action {
            Action::Rename(temporary, target) => Step::Rename {
                staged: relative(root, temporary),
                target: relative(root, target),
                sha256: sha256.clone(),
            },
            Action::Remove(path) => Step::Remove {
                path: relative(root, path),
                sha256: sha256.clone(),
            },
        })
        .collect();
    Journal { nonce, steps }
}

/// The steps of `order` with their digests; the staged files now belong to the journal (no
/// destructor may delete them).
fn actions(
    staged: Vec<(tempfile::NamedTempFile, PathBuf)>,
    digests: Vec<String>,
    order: &Order,
) -> Result<Vec<(Action, String)>, Error> {
    let removal = |path: &PathBuf| -> Result<(Action, String), Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::io(path, "read", source))?;
        Ok((Action::Remove(path.clone()), crate::layout::digest(&bytes)))
    };
    let early = order
        .early
        .iter()
        .map(removal)
        .collect::<Result<Vec<_>, _>>()?;
    let late = order
        .late
        .iter()
        .map(removal)
        .collect::<Result<Vec<_>, _>>()?;
    let mut renames = staged
        .into_iter()
        .zip(digests)
        .map(|((file, target), digest)| (Action::Rename(file.into_temp_path(), target), digest));
    let mut actions: Vec<(Action, String)> = renames.by_ref().take(order.first).collect();
    actions.extend(early);
    actions.extend(renames);
    actions.extend(late);
    Ok(actions)
}

/// Renames the staged files into place and removes files, in `order`, under a journal.
pub fn commit(root: &Path, staging: fs::Staging, order: Order) -> Result<(), Error> {
    let fs::Staged {
        files: staged,
        digests,
        marker,
    } = staging.into_staged();
    fs::sync_staged(root, &staged)?;
    if staged.is_empty() && order.early.is_empty() && order.late.is_empty() {
        return Ok(());
    }
    // Before the journal: on an error here the staged files are still dropped (deleted).
    let key = journal_key::key(root)?;
    // The marker is durable before the journal that names its nonce is written.
    let nonce = marker.mark()?;
    let actions = actions(staged, digests, &order)?;
    let journal = journal_of(root, nonce, &actions);
    let journal_path = root.join(JOURNAL_FILE);
    // Without a key no MAC can match: such a journal is never replayed, only reported.
    let mac = key.map_or_else(
        || "0".repeat(64),
        |key| journal_key::mac(&key, &body(&journal)),
    );
    let bytes = encode(&journal, &mac);
    if let Err(error) =
        fs::write_atomic(&journal_path, &bytes).and_then(|()| sync_dirs(root, [root.to_path_buf()]))
    {
        // No journal: the tree is the old one; leave nothing staged.
        let _ = std::fs::remove_file(&journal_path);
        return Err(error);
    }
    let keep_for_recovery = |error: Error| {
        Error::input(error.to_string()).hint("the change is recorded in `.dbos-gitops-journal`: fix the cause and run any writing command (e.g. `dbos-gitops build`) to finish it")
    };
    let mut actions = actions.into_iter();
    for (action, _) in actions.by_ref() {
        failpoint::step(FailStep::Rename);
        let result = match action {
            Action::Rename(temporary, target) => temporary.persist(&target).map_err(|error| {
                let _ = error.path.keep();
                Error::io(&target, "replace", error.error)
            }),
            Action::Remove(path) => fs::remove_file(&path).map(|()| {
                if let Some(parent) = path.parent() {
                    fs::remove_empty_dirs(parent, root);
                }
            }),
        };
        if let Err(error) = result {
            for (rest, _) in actions {
                if let Action::Rename(temporary, _) = rest {
                    let _ = temporary.keep();
                }
            }
            return Err(keep_for_recovery(error));
        }
    }
    // The renames and removals are durable before the journal goes.
    sync_dirs(root, touched_dirs(root, &journal))?;
    fs::remove_file(&journal_path)
}

fn touched_dirs(root: &Path, journal: &Journal) -> Vec<PathBuf> {
    journal
        .steps
        .iter()
        .map(|step| match step {
            Step::Rename { target, .. } => target,
            Step::Remove { path, .. } => path,
        })
        .filter_map(|path| root.join(path).parent().map(Path::to_path_buf))
        .collect()
}

/// Finishes an interrupted plan and sweeps staging files when a writer may have left some
/// (`litter`). Call with the repository lock held.
pub fn recover(root: &Path) -> Result<(), Error> {
    let journal_path = root.join(JOURNAL_FILE);
    let mut interrupted = litter::left_behind(root) && !tracked_by_git(root, litter::MARKER_FILE);
    if let Some(bytes) = read_journal(&journal_path)? {
        interrupted = true;
        let journal = verified(root, &bytes)?;
        replay(root, &journal)?;
        sync_dirs(root, touched_dirs(root, &journal))?;
        fs::remove_file(&journal_path)?;
        sync_dirs(root, [root.to_path_buf()])?;
        crate::term::note(&format!(
            "note: finished a write a killed dbos-gitops command left half done ({} files)",
            journal.steps.len()
        ));
    }
    if interrupted {
        sweep(root, root);
        litter::swept(root)?;
    }
    Ok(())
}

/// Whether a pending journal is in `root` (what readers check before trusting the tree).
pub fn pending(root: &Path) -> bool {
    std::fs::symlink_metadata(root.join(JOURNAL_FILE)).is_ok()
}

/// The journal's bytes, if there is one; a link, a directory or an oversized file is refused.
fn read_journal(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::io(path, "inspect", source)),
    };
    if !metadata.is_file() {
        return Err(refusal("it is not a regular file"));
    }
    if metadata.len() > MAX_JOURNAL_BYTES {
        return Err(refusal(&format!(
            "it is {} bytes, more than the {MAX_JOURNAL_BYTES} a journal may hold",
            metadata.len()
        )));
    }
    fs::read_optional(path)
}

fn refusal(reason: &str) -> Error {
    Error::input(format!(
        "refusing to replay `{JOURNAL_FILE}`: {reason}. Nothing was changed"
    ))
    .hint(format!("dbos-gitops finishes only a write this user's own killed command left here. If you did not expect this journal (it came with a clone, a tarball or a commit), remove it and the marker: `rm -f {JOURNAL_FILE} {}` (and `git rm --cached` them if git tracks them), review `git status`, then run `dbos-gitops build`", litter::MARKER_FILE))
}

/// Whether git tracks `file` at the root (never when there is no git or no repository). Only
/// run when a journal or a marker is there, which is rare.
fn tracked_by_git(root: &Path, file: &str) -> bool {
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "core.fsmonitor=false",
            "ls-files",
            "--error-unmatch",
            "--",
            file,
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The journal, if every rule of the module doc holds; else the refusal naming the first that
/// does not. Reads, never writes.
fn verified(root: &Path, bytes: &[u8]) -> Result<Journal, Error> {
    if tracked_by_git(root, JOURNAL_FILE) {
        return Err(refusal(
            "git tracks it, so it came with the repository (a commit, a clone), not from an interrupted write here",
        ));
    }
    let (journal, mac) = parse(bytes)
        .map_err(|reason| refusal(&format!("it is not a dbos-gitops journal: {reason}")))?;
    let key = journal_key::existing_key(root)?.ok_or_else(|| {
        refusal("this user has no journal key (none made yet, or `HOME` lies inside the repository), so no authenticated write of this user left it")
    })?;
    if !journal_key::same(&journal_key::mac(&key, &body(&journal)), &mac) {
        return Err(refusal(
            "its authentication code does not match this user's journal key: another user, another machine or someone else wrote it",
        ));
    }
    if litter::marker_nonce(root).as_deref() != Some(journal.nonce.as_str()) {
        return Err(refusal(&format!(
            "the writer's marker `{}` beside it does not hold its nonce",
            litter::MARKER_FILE
        )));
    }
    for step in &journal.steps {
        in_place(root, step)?;
    }
    Ok(journal)
}

/// A step's paths lie where the writer put them, and the files are in the state it left.
fn in_place(root: &Path, step: &Step) -> Result<(), Error> {
    let digest_of = |path: &Path| -> Result<Option<String>, Error> {
        match std::fs::symlink_metadata(path) {
            Ok(metadata) if metadata.is_file() => {
                Ok(fs::read_optional(path)?.map(|bytes| crate::layout::digest(&bytes)))
            }
            Ok(_) => Err(refusal(&format!(
                "`{}` is not a regular file",
                path.display()
            ))),
            Err(_) => Ok(None),
        }
    };
    match step {
        Step::Rename {
            staged,
            target,
            sha256,
        } => {
            let (staged, target) = (root.join(staged), root.join(target));
            allowed_place(root, &target)?;
            let staged_digest = digest_of(&staged)?;
            let done = staged_digest.is_none() && digest_of(&target)?.as_ref() == Some(sha256);
            if staged_digest.as_ref() != Some(sha256) && !done {
                return Err(refusal(&format!(
                    "it is stale: `{}` is neither staged nor in place with the content it recorded",
                    relative(root, &target)
                )));
            }
        }
        Step::Remove { path, sha256 } => {
            let path = root.join(path);
            allowed_place(root, &path)?;
            if digest_of(&path)?.is_some_and(|digest| &digest != sha256) {
                return Err(refusal(&format!(
                    "`{}` changed since the write it records: it would remove what is there now",
                    relative(root, &path)
                )));
            }
        }
    }
    Ok(())
}

/// Inside the repository (no link leading out), or, for a development key, in our private
/// configuration directory.
fn allowed_place(root: &Path, path: &Path) -> Result<(), Error> {
    if super::confine::is_inside(root, path)? {
        return Ok(());
    }
    let private = fs::private_config_dir()
        .map(|dir| super::confine::is_inside(&dir, path))
        .transpose()?
        .unwrap_or(false);
    if private {
        Ok(())
    } else {
        Err(refusal(&format!(
            "`{}` lies outside the repository",
            path.display()
        )))
    }
}

/// Runs a verified journal's steps that are still to do, in order.
fn replay(root: &Path, journal: &Journal) -> Result<(), Error> {
    for step in &journal.steps {
        match step {
            Step::Rename { staged, target, .. } => {
                let (staged, target) = (root.join(staged), root.join(target));
                match std::fs::rename(&staged, &target) {
                    Ok(()) => {}
                    // Renamed before the crash.
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(Error::io(
                            &target,
                            "finish the interrupted write of",
                            source,
                        ))
                    }
                }
            }
            Step::Remove { path, .. } => {
                let path = root.join(path);
                fs::remove_file(&path)?;
                if let Some(parent) = path.parent() {
                    fs::remove_empty_dirs(parent, root);
                }
            }
        }
    }
    Ok(())
}

/// Removes staging files under `dir` (never following symlinks, never into `.git`) and the
/// directories that held nothing else.
fn sweep(root: &Path, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if name != ".git" {
                sweep(root, &entry.path());
            }
        } else if kind.is_file()
            && is_staging_name(&name)
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed = true;
        }
    }
    if removed {
        fs::remove_empty_dirs(dir, root);
    }
}

/// Makes the renames and removals in `dirs` durable: an fsync of each directory when they are
/// few, else one `syncfs` of the repository's filesystem (cheaper than hundreds of fsyncs, but
/// it flushes everything dirty on that filesystem, which is slow on a busy machine).
fn sync_dirs(root: &Path, dirs: impl IntoIterator<Item = PathBuf>) -> Result<(), Error> {
    const FEW: usize = 16;
    let dirs: std::collections::BTreeSet<PathBuf> = dirs.into_iter().collect();
    if !dirs.is_empty() && dirs.len() <= FEW {
        for dir in &dirs {
            // A directory emptied by the removals is gone: nothing to make durable there.
            match std::fs::File::open(dir) {
                Ok(handle) => handle
                    .sync_all()
                    .map_err(|source| Error::io(dir, "flush writes under", source))?,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::io(dir, "open", source)),
            }
        }
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let handle = std::fs::File::open(root).map_err(|source| Error::io(root, "open", source))?;
        // SAFETY: syncfs only reads the descriptor, which `handle` keeps open.
        if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
            return Err(Error::io(
                root,
                "flush writes under",
                std::io::Error::last_os_error(),
            ));
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        if let Ok(handle) = std::fs::File::open(root) {
            let _ = handle.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const NONCE: &str = "0123456789abcdef0123456789abcdef";

    fn with(step: Step) -> Result<(Journal, String), String> {
        let journal = Journal {
            nonce: NONCE.to_string(),
            steps: vec![step],
        };
        parse(&encode(&journal, DIGEST))
    }

    #[test]
    fn a_journal_of_ours_reads_back() {
        let step = Step::Rename {
            staged: "environments/prod/.dbos-gitops-AbC123".into(),
            target: "environments/prod/sealing-cert.pem".into(),
            sha256: DIGEST.into(),
        };
        let (journal, mac) = with(step.clone()).unwrap();
        assert_eq!(journal.steps, vec![step]);
        assert_eq!(mac, DIGEST);
    }

    #[test]
    fn steps_dbos_gitops_never_makes_are_refused_from_their_text() {
        let remove = |path: &str| Step::Remove {
            path: path.into(),
            sha256: DIGEST.into(),
        };
        let rename = |staged: &str, target: &str| Step::Rename {
            staged: staged.into(),
            target: target.into(),
            sha256: DIGEST.into(),
        };
        for step in [
            remove(".git/config"),
            remove("environments/prod/.git/HEAD"),
            remove("environments/../.git/HEAD"),
            remove("/etc/passwd"),
            remove("dbos-gitops.yaml"),
            remove("src/main.rs"),
            remove("base/.GIT/config"),
            rename("environments/prod/.dbos-gitops-AbC123", ".git/HEAD"),
            rename(".git/.dbos-gitops-AbC123", ".git/HEAD"),
            rename(
                "environments/prod/planted",
                "environments/prod/sealing-cert.pem",
            ),
            rename(
                "environments/.dbos-gitops-AbC123",
                "environments/prod/sealing-cert.pem",
            ),
            rename("../.dbos-gitops-AbC123", "../x"),
        ] {
            assert!(with(step.clone()).is_err(), "{step:?} was accepted");
        }
        assert!(parse(br#"{"renames":[],"removals":[".git/config"]}"#).is_err());
        assert!(is_staging_name(".dbos-gitops-AbC123"));
        assert!(!is_staging_name(JOURNAL_FILE) && !is_staging_name(".dbos-gitops-writing"));
    }

    /// Mutation campaign over the reader (stable toolchain; `fuzz/fuzz_targets/journal.rs` is
    /// the coverage-guided one): seeds are the fuzz seeds and regressions; each mutant reads or
    /// is refused, never panics, and what reads encodes and reads back the same, naming no
    /// `.git` or `..`. `DBOS_GITOPS_FUZZ_ITERATIONS` runs longer campaigns.
    #[test]
    fn mutated_journals_read_back_or_are_refused() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let seeds: Vec<Vec<u8>> = [
            include_bytes!("../../fuzz/seeds/journal/killed-build.json").to_vec(),
            include_bytes!("../../fuzz/regressions/journal/old-format-planted.json").to_vec(),
            include_bytes!("../../fuzz/regressions/journal/removes-git-config.json").to_vec(),
            include_bytes!("../../fuzz/regressions/journal/rename-from-elsewhere.json").to_vec(),
        ]
        .into();
        const TOKENS: &[&[u8]] = &[
            b"..",
            b".git",
            b"/",
            b"\\",
            b"\"",
            b"{",
            b"}",
            b"[",
            b"]",
            b",",
            b"\\u0000",
            b".GIT",
            b"../",
            b"remove",
            b"rename",
            b"\"format\":2",
            b"0",
            b"-",
            b"/etc",
        ];
        #[allow(clippy::disallowed_methods)] // test code: the fuzz campaign length
        let iterations: usize = std::env::var("DBOS_GITOPS_FUZZ_ITERATIONS")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(3000);
        let mut rng = StdRng::seed_from_u64(23);
        let mut accepted = 0;
        for _ in 0..iterations {
            let mut bytes = seeds[rng.gen_range(0..seeds.len())].clone();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..=bytes.len());
                match rng.gen_range(0..3) {
                    0 => {
                        let token = TOKENS[rng.gen_range(0..TOKENS.len())];
                        bytes.splice(at..at, token.iter().copied());
                    }
                    1 if at < bytes.len() => {
                        let end = (at + rng.gen_range(1..8)).min(bytes.len());
                        bytes.drain(at..end);
                    }
                    _ if at < bytes.len() => bytes[at] = rng.gen(),
                    _ => {}
                }
            }
            let Ok((journal, mac)) = parse(&bytes) else {
                continue;
            };
            accepted += 1;
            for step in &journal.steps {
                let paths = match step {
                    Step::Rename { staged, target, .. } => vec![staged, target],
                    Step::Remove { path, .. } => vec![path],
                };
                for path in paths {
                    assert!(
                        !Path::new(path).components().any(|component| {
                            matches!(component, Component::ParentDir)
                                || component.as_os_str().eq_ignore_ascii_case(".git")
                        }),
                        "accepted {path:?}"
                    );
                }
            }
            assert_eq!(parse(&encode(&journal, &mac)), Ok((journal, mac)));
        }
        assert!(accepted > 0, "no mutant read: the campaign tested nothing");
    }
}
