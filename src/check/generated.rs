//! Generated files are current: what `build --check` reports, one finding per file. A file
//! whose content no longer matches what dbos-gitops wrote is "edited by hand" (build refuses to
//! overwrite it); any other difference is "stale" (build fixes it).

use super::finding::Finding;
use crate::error::Error;
use crate::repo::plan::ChangeKind;
use crate::repo::{LoadedRepo, WriteOptions};

/// `writer_active`: the shared lock was not had in time (`Workspace::writer_active`).
pub fn check(
    loaded: &LoadedRepo,
    only_env: Option<&str>,
    writer_active: bool,
) -> Result<Vec<Finding>, Error> {
    // Between a writer's renames the files and the record disagree: say so, not "edited by hand".
    if crate::repo::journal::pending(&loaded.root) || writer_active {
        return Ok(vec![in_progress()]);
    }
    let plan = crate::workspace::plan_build(loaded, only_env, WriteOptions::default())?;
    let mut findings = Vec::new();
    for conflict in plan.conflicts() {
        findings.push(
            Finding::error(
                "hand-edited",
                &conflict.path,
                format!("{}: `dbos-gitops build` refuses to overwrite it", conflict.reason),
            )
            .hint(
                "move the change into the declarations (env.yaml, versions.yaml) and run `dbos-gitops build --force`",
            ),
        );
    }
    for change in plan.stale() {
        let message = match change.kind {
            ChangeKind::Create => "generated file is missing",
            ChangeKind::Update => "generated file is stale: the declarations say otherwise",
            ChangeKind::Delete => "no longer generated from the declarations",
        };
        findings.push(
            Finding::error("stale-generated", &change.path, message)
                .hint("run `dbos-gitops build` (`dbos-gitops build --check` shows the diff)"),
        );
    }
    Ok(findings)
}

/// What a reader says when the tree is between a writer's renames (a journal is pending, or a
/// writer still held the lock when the reader gave up waiting).
pub fn in_progress() -> Finding {
    Finding::error(
        "write-in-progress",
        crate::repo::journal::JOURNAL_FILE,
        "a write is in progress or was interrupted: the generated files are not compared until it is finished",
    )
    .hint("run any writing command (e.g. `dbos-gitops build`) to finish it, then check again")
}
