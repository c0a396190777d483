//! `diff`: what Argo CD would change, object by object, between a git revision and the work tree.
//!
//! Argo CD applies `kubectl kustomize environments/<env>` (and the bootstrap in `argocd/`), so
//! that render, not the generated files, is what a reviewer needs to see. Both sides are rendered
//! by the same `kubectl kustomize`: the work tree in place, and the revision from a private copy
//! of its blobs made with `git ls-tree` and `git cat-file` (plumbing that reads the object store
//! only: the index and the work tree are never read for the old side nor written at all).
//!
//! Sealed values are never printed: [`compare`] decides what changed on the real values and
//! reports a changed `encryptedData` key by name only; every value that reaches a report has
//! been through [`compare::redact`] first.

pub mod compare;
pub mod git;
pub mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::error::Error;

pub const DIFF_HELP: &str = "Examples:\n  dbos-gitops diff                          # the work tree against HEAD\n  dbos-gitops diff origin/main --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n  dbos-gitops diff HEAD~1 --env prod -U 5\n\nSealed values are never printed: a re-sealed key is reported by name.\nExit status: 0 no change, 1 changes, 2 error (unknown revision, not a git repository, kustomize failure).";

/// The directories Argo CD applies, repository-relative: `environments/<env>` for every env
/// directory with a kustomization, and `argocd` (unless only one environment is asked for).
pub fn units(tree: &Path, only_env: Option<&str>) -> Result<Vec<String>, Error> {
    let mut units = Vec::new();
    let environments = tree.join("environments");
    if environments.is_dir() {
        let entries = std::fs::read_dir(&environments)
            .map_err(|source| Error::io(&environments, "list", source))?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::io(&environments, "list", source))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if only_env.is_some_and(|only| only != name) {
                continue;
            }
            if entry.path().join("kustomization.yaml").is_file() {
                units.push(format!("environments/{name}"));
            }
        }
    }
    if only_env.is_none() && tree.join("argocd/kustomization.yaml").is_file() {
        units.push("argocd".to_string());
    }
    units.sort();
    Ok(units)
}

/// `kubectl kustomize` of every unit of `tree`, in parallel threads; objects keyed by unit.
/// `side` names the tree in errors (`HEAD`, `the work tree`).
pub fn render_all(
    kubectl: &Path,
    tree: &Path,
    units: &[String],
    side: &str,
) -> Result<BTreeMap<String, Vec<Value>>, Error> {
    let results: Vec<Result<(String, Vec<Value>), Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = units
            .iter()
            .map(|unit| scope.spawn(move || render_unit(kubectl, tree, unit, side)))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("render thread does not panic"))
            .collect()
    });
    results.into_iter().collect()
}

fn render_unit(
    kubectl: &Path,
    tree: &Path,
    unit: &str,
    side: &str,
) -> Result<(String, Vec<Value>), Error> {
    let output = Command::new(kubectl)
        .args(["kustomize", unit])
        .current_dir(tree)
        .output()
        .map_err(|source| Error::io(kubectl, "run", source))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or("kubectl kustomize failed");
        return Err(
            Error::input(format!("`kubectl kustomize {unit}` fails in {side}: {reason}")).hint(
                format!(
                    "run `kubectl kustomize {unit}` there to see the whole error; `dbos-gitops build` restores generated files"
                ),
            ),
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let objects = crate::yaml::parse_documents(Path::new(unit), &text)?;
    Ok((unit.to_string(), objects))
}

/// `kubectl` on PATH, or an error saying diff cannot run without it.
pub fn require_kubectl() -> Result<PathBuf, Error> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("kubectl"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error::input(
                "`kubectl` is not on PATH: diff renders both sides with `kubectl kustomize`",
            )
            .hint("install kubectl (its built-in kustomize is what Argo CD's matches)")
        })
}
