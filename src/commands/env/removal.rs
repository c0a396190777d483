//! The plan that takes an environment out of Git, shared by a plain `env remove` and the
//! cascade's last step.

use crate::error::Error;
use crate::layout;
use crate::repo::{Plan, WriteOptions};
use crate::workspace::{Scope, Workspace};

/// The plan that takes `name` out of Git: every file under its directory removed from the
/// workspace but those in `keep`, compiled as `build` would compile the repository without it
/// (its generated files and its `argocd/` entries go with it).
pub fn removal_plan(
    ws: &mut Workspace,
    name: &str,
    force: bool,
    keep: &[String],
) -> Result<Plan, Error> {
    for path in ws.tree().files_under(&layout::env_dir(name))? {
        if !keep.contains(&path) {
            ws.remove(path);
        }
    }
    let plan = ws.compile(Scope::All, WriteOptions { force })?;
    plan.ensure_no_conflicts()?;
    Ok(plan)
}
