//! `diff [REV]`: render REV and the work tree with `kubectl kustomize` and report, object by
//! object, what Argo CD would change (see `crate::diff`). Exit 0 no change, 1 changes, 2 error.

use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::{self, git, report};
use crate::error::Error;

use super::Context;

pub fn diff(context: &Context, arguments: DiffArgs) -> Result<i32, Error> {
    let root = context.root()?;
    let prefix = git::prefix(&root)?;
    let commit = git::resolve(&root, &arguments.revision)?;
    let changes = diff::changes(&diff::Request {
        root: &root,
        commit: &commit,
        prefix: &prefix,
        only_env: arguments.env.as_ref().map(crate::declare::EnvName::as_str),
        revision: &arguments.revision,
        context: arguments.context,
    })?;

    let text = match arguments.format {
        DiffFormat::Text => report::text(&changes, &arguments.revision),
        DiffFormat::Json => {
            serde_json::to_string_pretty(&report::json(&changes, &arguments.revision, &commit))
                .expect("json serialises")
                + "\n"
        }
        DiffFormat::Markdown => report::markdown(&changes, &arguments.revision),
    };
    use std::io::Write as _;
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(if changes.is_empty() { 0 } else { 1 })
}
