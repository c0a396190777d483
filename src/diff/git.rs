//! The repository as it was at a revision, copied out of git's object store.
//!
//! `git ls-tree -r -z REV:<prefix>` lists the blobs under the dbos-gitops root and one
//! `git cat-file --batch` streams their contents: once to take each file's digest (nothing is
//! kept), and once more for the files of the units that changed, which are copied out. Neither command reads or writes the index or
//! the work tree (unlike `checkout`, `worktree add` or `read-tree`), and unlike `git archive`
//! neither applies `export-ignore`/`export-subst` attributes, so the copy is exactly the commit.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::check::inputs::{self, Digests};
use crate::error::Error;

/// Where the dbos-gitops root sits inside its git repository (`""` at the top, else `dir/`).
pub fn prefix(root: &Path) -> Result<String, Error> {
    let output = git(root, &["rev-parse", "--show-prefix"])?;
    if !output.status.success() {
        return Err(Error::input(format!(
            "`{}` is not inside a git repository: diff compares the work tree with a git revision",
            root.display()
        ))
        .hint("run `git init` and commit the repository first"));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The commit REV names, or exit 2 naming REV.
pub fn resolve(root: &Path, revision: &str) -> Result<String, Error> {
    if revision.starts_with('-') {
        return Err(Error::input(format!("`{revision}` is not a git revision")));
    }
    let output = git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{revision}^{{commit}}"),
        ],
    )?;
    if !output.status.success() {
        return Err(Error::input(format!(
            "`{revision}` does not name a commit in this git repository"
        ))
        .hint("pass a branch, tag or commit, e.g. `HEAD`, `origin/main`, `HEAD~1`"));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// One file of the revision: its blob id and path relative to the dbos-gitops root.
pub struct Blob {
    pub object: String,
    pub path: String,
}

/// Every plain file under `prefix` at `commit`. A prefix that does not exist at that commit
/// (the repository was created later) gives none.
pub fn list(root: &Path, commit: &str, prefix: &str) -> Result<Vec<Blob>, Error> {
    let tree = format!("{commit}:{}", prefix.trim_end_matches('/'));
    let exists = git(root, &["rev-parse", "--verify", "--quiet", &tree])?;
    if !exists.status.success() {
        return Ok(Vec::new());
    }
    // `--full-tree`: from a subdirectory, ls-tree would otherwise list only entries under the
    // same subdirectory of `tree`, i.e. nothing.
    let listing = git(root, &["ls-tree", "--full-tree", "-r", "-z", &tree])?;
    if !listing.status.success() {
        return Err(git_failed("ls-tree", &listing.stderr));
    }
    // Entries are `mode SP type SP object TAB path NUL`; only plain files matter to kustomize
    // (symbolic links and submodules are left out).
    let mut blobs = Vec::new();
    for entry in listing.stdout.split(|byte| *byte == 0) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        if fields.len() == 3 && fields[1] == "blob" && fields[0] != "120000" {
            let normal = Path::new(path)
                .components()
                .all(|component| matches!(component, std::path::Component::Normal(_)));
            if normal {
                blobs.push(Blob {
                    object: fields[2].to_string(),
                    path: path.to_string(),
                });
            }
        }
    }
    Ok(blobs)
}

/// Each blob's length and SHA-256 (what `check::inputs` keys on), streamed: no content is
/// kept or written.
pub fn digests(root: &Path, blobs: &[Blob]) -> Result<Digests, Error> {
    let mut digests = Digests::new();
    stream(root, blobs, |blob, content| {
        digests.insert(blob.path.clone(), inputs::summary(content));
        Ok(())
    })?;
    Ok(digests)
}

/// Copies `blobs` into `destination`, at their paths.
pub fn export(root: &Path, blobs: &[&Blob], destination: &Path) -> Result<(), Error> {
    let owned: Vec<Blob> = blobs
        .iter()
        .map(|blob| Blob {
            object: blob.object.clone(),
            path: blob.path.clone(),
        })
        .collect();
    stream(root, &owned, |blob, content| {
        let path = destination.join(&blob.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| Error::io(parent, "create", source))?;
        }
        std::fs::write(&path, content).map_err(|source| Error::io(&path, "write", source))
    })
}

/// Every blob's content through one `git cat-file --batch`, one at a time.
fn stream(
    root: &Path,
    blobs: &[Blob],
    mut each: impl FnMut(&Blob, &[u8]) -> Result<(), Error>,
) -> Result<(), Error> {
    if blobs.is_empty() {
        return Ok(());
    }
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(root)
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| Error::io("git", "run", source))?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(git_failed("cat-file", b"no pipes"));
    };
    let requests: String = blobs
        .iter()
        .map(|blob| format!("{}\n", blob.object))
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(requests.as_bytes()));
    let mut reader = BufReader::new(stdout);
    let mut content = Vec::new();
    for blob in blobs {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|source| Error::io("git cat-file", "read", source))?;
        let size: usize = header
            .trim_end()
            .rsplit(' ')
            .next()
            .and_then(|size| size.parse().ok())
            .ok_or_else(|| {
                Error::input(format!(
                    "git cat-file answered `{}` for {}",
                    header.trim(),
                    blob.object
                ))
            })?;
        content.resize(size + 1, 0);
        reader
            .read_exact(&mut content)
            .map_err(|source| Error::io("git cat-file", "read", source))?;
        content.pop();
        each(blob, &content)?;
    }
    let _ = writer.join();
    let status = child
        .wait()
        .map_err(|source| Error::io("git", "wait for", source))?;
    if !status.success() {
        return Err(git_failed("cat-file", b""));
    }
    Ok(())
}

fn git(root: &Path, arguments: &[&str]) -> Result<std::process::Output, Error> {
    Command::new("git")
        .args(arguments)
        .current_dir(root)
        // Never let a caller's GIT_INDEX_FILE or GIT_WORK_TREE point these reads elsewhere.
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .output()
        .map_err(|source| {
            Error::io("git", "run", source).hint("install git: diff reads the revision from it")
        })
}

fn git_failed(what: &str, stderr: &[u8]) -> Error {
    Error::input(format!(
        "`git {what}` failed: {}",
        String::from_utf8_lossy(stderr).trim()
    ))
}
