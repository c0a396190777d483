//! `diff [REV]`: render REV and the work tree with `kubectl kustomize` and report, object by
//! object, what Argo CD would change (see `crate::diff`). Exit 0 no change, 1 changes, 2 error.

use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::{self, compare, git, report};
use crate::error::Error;

use super::Context;

pub fn diff(context: &Context, arguments: DiffArgs) -> Result<i32, Error> {
    let root = context.root()?;
    let prefix = git::prefix(&root)?;
    let commit = git::resolve(&root, &arguments.revision)?;
    let kubectl = diff::require_kubectl()?;

    let old_tree = tempfile::Builder::new()
        .prefix("dbos-gitops-diff-")
        .tempdir()
        .map_err(|source| Error::io(std::env::temp_dir(), "create a directory in", source))?;
    git::export(&root, &commit, &prefix, old_tree.path())?;

    let env = arguments.env.as_ref().map(crate::declare::EnvName::as_str);
    let old_units = diff::units(old_tree.path(), env)?;
    let new_units = diff::units(&root, env)?;
    if let Some(name) = env {
        if old_units.is_empty() && new_units.is_empty() {
            return Err(Error::input(format!(
                "environment `{name}` exists neither at `{}` nor in the work tree",
                arguments.revision
            ))
            .hint("`ls environments/` lists the environments"));
        }
    }
    let side = format!("`{}`", arguments.revision);
    let before = diff::render_all(&kubectl, old_tree.path(), &old_units, &side)?;
    let after = diff::render_all(&kubectl, &root, &new_units, "the work tree")?;
    let changes = compare::compare(&before, &after, arguments.context, &arguments.revision);

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
