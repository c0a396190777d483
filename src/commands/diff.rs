//! `diff [REV]`: render REV and the work tree with `kubectl kustomize` and report, object by
//! object, what Argo CD would change (see `crate::diff`). Exit 0 no change, 1 changes, 2 error.

use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::{self, content, git, markdown, report};
use crate::error::Error;

use super::context::Context;

pub fn diff(context: &Context, arguments: DiffArgs) -> Result<i32, Error> {
    let root = context.root()?;
    let prefix = git::prefix(&root)?;
    let commit = git::resolve(&root, &arguments.revision)?;
    // The work tree's files are read through the workspace's tree, once each (the revision's
    // come out of git's object store).
    let work = crate::workspace::Tree::repository(&root);
    let request = diff::Request {
        root: &root,
        work: &work,
        commit: &commit,
        prefix: &prefix,
        only_env: arguments.env.as_ref().map(crate::declare::EnvName::as_str),
        revision: &arguments.revision,
        context: arguments.context,
    };
    let changes = diff::changes(&request)?;

    let text = match arguments.format {
        DiffFormat::Text => report::text(
            &changes,
            &arguments.revision,
            &content::removed_environments(&work, &changes),
            &content::cascading_environments(&work, &changes),
        ),
        DiffFormat::Json => {
            serde_json::to_string_pretty(&report::json(&changes, &arguments.revision, &commit))
                .map_err(|error| Error::input(format!("cannot print the diff as JSON: {error}")))?
                + "\n"
        }
        DiffFormat::Markdown => {
            // The extra reads (the added and removed objects, which environments came or went)
            // happen here, after the diff and only for this format.
            let objects = content::objects(&request, &changes)?;
            let environments = content::environments(&request, &changes)?;
            markdown::render(&markdown::Review {
                changes: &changes,
                revision: &arguments.revision,
                objects: &objects,
                environments: &environments,
                cap: arguments.max_length,
            })
        }
    };
    use std::io::Write as _;
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(if changes.is_empty() { 0 } else { 1 })
}
