//! Plan and apply: compare the generated tree with the disk and the ownership record, decide
//! what to create, update and remove, refuse to overwrite what a human edited, then write.
//!
//! Nothing is written until the whole plan is known and conflict-free, so an error or a refusal
//! leaves the tree byte-identical. A second run over an unchanged tree writes nothing at all (no
//! file is even rewritten, so mtimes stay).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use super::attributes::as_git_stores;
use super::confine::Confinement;
use super::fs;
use super::ownership::{self, Record, RECORD_FILE};
use crate::error::Error;
use crate::layout::Tree;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
}

#[derive(Debug)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug)]
pub struct Conflict {
    pub path: String,
    pub reason: &'static str,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    /// Overwrite or remove generated files even when they were edited by hand.
    pub force: bool,
}

#[derive(Debug)]
pub struct Plan {
    /// The load's confinement (and the repository's root): every path this plan reads or
    /// writes is held to it.
    confinement: Arc<Confinement>,
    /// Files the tool writes but does not own (declarations, certificates): written before the
    /// generated files, only when their content differs.
    declarations: Vec<(String, Vec<u8>, bool)>,
    changes: Vec<Change>,
    /// Declarations (SealedSecrets) `remove` takes away: removed right after the declarations
    /// are written, before the generated files (`journal::Order`).
    removed_declarations: Vec<String>,
    conflicts: Vec<Conflict>,
    record_text: String,
    record_changed: bool,
}

impl Plan {
    fn root(&self) -> &std::path::Path {
        self.confinement.root()
    }

    /// `in_scope` limits which generated paths this plan may touch (`build --env`).
    pub fn compute(
        confinement: &Arc<Confinement>,
        desired: &Tree,
        old_record: &Record,
        in_scope: &dyn Fn(&str) -> bool,
        options: WriteOptions,
    ) -> Result<Plan, Error> {
        let root = confinement.root();
        let mut changes = Vec::new();
        let mut conflicts = Vec::new();
        let mut record = Record::new();
        for (path, hash) in old_record {
            if !in_scope(path) {
                record.insert(path.clone(), hash.clone());
            }
        }
        for (path, text) in desired.iter().filter(|(path, _)| in_scope(path)) {
            record.insert(path.clone(), ownership::digest(text.as_bytes()));
            // What git would store: a CRLF checkout is not a hand edit (`attributes`).
            let on_disk = confinement
                .read_optional(&root.join(path))?
                .map(as_git_stores);
            match on_disk {
                None => changes.push(Change {
                    path: path.clone(),
                    kind: ChangeKind::Create,
                    old: None,
                    new: Some(text.clone()),
                }),
                Some(bytes) if bytes == text.as_bytes() => {}
                Some(bytes) => {
                    let owned_and_untouched =
                        old_record.get(path) == Some(&ownership::digest(&bytes));
                    if !owned_and_untouched && !options.force {
                        conflicts.push(Conflict {
                            path: path.clone(),
                            reason: if old_record.contains_key(path) {
                                "generated, then edited by hand"
                            } else {
                                "exists but was not written by dbos-gitops"
                            },
                        });
                    }
                    changes.push(Change {
                        path: path.clone(),
                        kind: ChangeKind::Update,
                        old: Some(String::from_utf8_lossy(&bytes).into_owned()),
                        new: Some(text.clone()),
                    });
                }
            }
        }
        for (path, hash) in old_record {
            if !in_scope(path) || desired.contains_key(path) {
                continue;
            }
            if let Some(bytes) = confinement
                .read_optional(&root.join(path))?
                .map(as_git_stores)
            {
                if &ownership::digest(&bytes) != hash && !options.force {
                    conflicts.push(Conflict {
                        path: path.clone(),
                        reason: "no longer generated, but edited by hand since",
                    });
                }
                changes.push(Change {
                    path: path.clone(),
                    kind: ChangeKind::Delete,
                    old: Some(String::from_utf8_lossy(&bytes).into_owned()),
                    new: None,
                });
            }
        }
        let record_text = ownership::render(&record);
        let record_on_disk = confinement
            .read_optional(&root.join(RECORD_FILE))?
            .map(as_git_stores);
        let record_changed = record_on_disk.as_deref() != Some(record_text.as_bytes());
        Ok(Plan {
            confinement: Arc::clone(confinement),
            declarations: Vec::new(),
            changes,
            removed_declarations: Vec::new(),
            conflicts,
            record_text,
            record_changed,
        })
    }

    /// Adds a declaration or other non-generated file to write with the plan.
    pub fn declare(&mut self, path: &str, bytes: Vec<u8>) -> Result<(), Error> {
        let current = self
            .confinement
            .read_optional(&self.root().join(path))?
            .map(as_git_stores);
        if current.as_deref() != Some(bytes.as_slice()) {
            self.declarations.push((path.to_string(), bytes, false));
        }
        Ok(())
    }

    /// Like `declare`, for a file that must not be world-readable: a development private key,
    /// which lives outside the repository (`secret_store::dev_key_path` sees to that).
    pub fn declare_private(&mut self, path: PathBuf, bytes: Vec<u8>) {
        self.declarations
            .push((path.to_string_lossy().into_owned(), bytes, true));
    }

    /// Removes a file the tool wrote but does not own (a SealedSecret whose last key went),
    /// with the plan, if it exists.
    pub fn remove(&mut self, path: &str) -> Result<(), Error> {
        if let Some(bytes) = self.confinement.read_optional(&self.root().join(path))? {
            self.removed_declarations.push(path.to_string());
            self.changes.push(Change {
                path: path.to_string(),
                kind: ChangeKind::Delete,
                old: Some(String::from_utf8_lossy(&bytes).into_owned()),
                new: None,
            });
        }
        Ok(())
    }

    /// Whether the plan deletes the generated file `path` (one the render no longer makes).
    pub fn deletes(&self, path: &str) -> bool {
        self.changes
            .iter()
            .any(|change| change.path == path && matches!(change.kind, ChangeKind::Delete))
    }

    /// Every generated file that would be created, updated or removed.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Generated files edited by hand, which the plan refuses to overwrite without `--force`.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// Changes that are not conflicts: files `build` brings up to date on its own.
    pub fn stale(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|change| {
            !self
                .conflicts
                .iter()
                .any(|conflict| conflict.path == change.path)
        })
    }

    /// Every generated file matches the declarations (declarations and the record aside).
    pub fn is_current(&self) -> bool {
        self.changes.is_empty() && self.conflicts.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.declarations.is_empty() && !self.record_changed
    }

    /// Refuses (exit 1) when generated files were edited by hand, naming them.
    pub fn ensure_no_conflicts(&self) -> Result<(), Error> {
        if self.conflicts.is_empty() {
            return Ok(());
        }
        let mut message = String::from("refusing to overwrite files edited by hand:");
        for conflict in &self.conflicts {
            let _ = write!(message, "\n  {} ({})", conflict.path, conflict.reason);
        }
        Err(Error::refused(message).hint(
            "move your change into the declarations (env.yaml, versions.yaml) and rerun, or pass `--force` to overwrite",
        ))
    }

    /// Writes everything in two phases. Phase one stages every new file as a temporary file
    /// beside its target (creating directories) and probes every directory a file is removed
    /// from; if anything fails there, the staged files and new directories are removed and the
    /// tree is as it was. Phase two renames the staged files into place, removes files, and
    /// writes the ownership record last.
    /// `lock` is the repository lock the plan is written under; its crash marker goes down
    /// before the first staged file (`litter`).
    pub fn apply(&self, lock: &super::lock::Held) -> Result<(), Error> {
        self.ensure_no_conflicts()?;
        let mut writes: Vec<(PathBuf, &[u8], u32)> = Vec::new();
        for (path, bytes, private) in &self.declarations {
            writes.push((
                self.root().join(path),
                bytes,
                if *private { 0o600 } else { 0o644 },
            ));
        }
        for change in &self.changes {
            if let Some(text) = &change.new {
                writes.push((self.root().join(&change.path), text.as_bytes(), 0o644));
            }
        }
        if self.record_changed {
            writes.push((
                self.root().join(RECORD_FILE),
                self.record_text.as_bytes(),
                0o644,
            ));
        }
        let removals: Vec<PathBuf> = self
            .changes
            .iter()
            .filter(|change| change.new.is_none())
            .map(|change| self.root().join(&change.path))
            .collect();
        let (early, late): (Vec<PathBuf>, Vec<PathBuf>) =
            removals.iter().cloned().partition(|path| {
                self.removed_declarations
                    .iter()
                    .any(|declared| self.root().join(declared) == *path)
            });

        // Nothing is written through a link or `..` that leaves the repository; the private
        // files (development keys) are the ones that must be outside it.
        for (path, _, mode) in &writes {
            if mode & 0o077 != 0 {
                self.confinement.check(path)?;
            }
        }
        for path in &removals {
            self.confinement.check(path)?;
        }
        super::journal::check_targets(
            self.root(),
            writes.iter().map(|(path, _, _)| path.as_path()),
        )?;
        let mut staging = fs::Staging::new(self.root(), std::sync::Arc::clone(lock.marker()));
        for (path, bytes, mode) in &writes {
            if let Err(error) = staging.stage(path, bytes, *mode) {
                staging.abort();
                return Err(error);
            }
        }
        for path in &removals {
            if let Err(error) = staging.probe_removal(path) {
                staging.abort();
                return Err(error);
            }
        }
        // Renames and removals under an intent record, so a crash is rolled forward.
        let order = super::journal::Order {
            first: self.declarations.len(),
            early: &early,
            late: &late,
        };
        super::journal::commit(self.root(), staging, order)
    }

    /// A unified diff of every generated file that would change.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let old = change.old.as_deref().unwrap_or("");
            let new = change.new.as_deref().unwrap_or("");
            let old_name = match change.kind {
                ChangeKind::Create => "/dev/null".to_string(),
                _ => format!("a/{}", change.path),
            };
            let new_name = match change.kind {
                ChangeKind::Delete => "/dev/null".to_string(),
                _ => format!("b/{}", change.path),
            };
            let diff = similar::TextDiff::from_lines(old, new);
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&old_name, &new_name)
            );
        }
        out
    }

    /// One line per change, for humans.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for (path, _, _) in &self.declarations {
            let _ = writeln!(out, "  wrote   {path}");
        }
        for change in &self.changes {
            let verb = match change.kind {
                ChangeKind::Create => "created",
                ChangeKind::Update => "updated",
                ChangeKind::Delete => "removed",
            };
            let _ = writeln!(out, "  {verb} {}", change.path);
        }
        out
    }
}
