//! Generated files are current: what `build --check` reports, one finding per file. A file
//! whose content no longer matches what dbos-gitops wrote is "edited by hand" (build refuses to
//! overwrite it); any other difference is "stale" (build fixes it).

use super::Finding;
use crate::error::Error;
use crate::repo::plan::ChangeKind;
use crate::repo::{LoadedRepo, WriteOptions};

pub fn check(loaded: &LoadedRepo, only_env: Option<&str>) -> Result<Vec<Finding>, Error> {
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
