//! `version promote V --from SRC --to DST`: the version that passed in one environment goes to
//! the next with the very same image, so what runs in production is what was tested. Only the
//! image is copied: DST gets V exactly as `version add V --env DST --image <SRC's image>` would
//! add it (activation, autoscaling, generated files), and its secrets and settings stay its own.

use crate::cli::{VersionAddArgs, VersionPromoteArgs};
use crate::error::Error;

use super::context::Context;
use super::version::{add_to, declared, load_env, parse_version};

/// One workspace, opened for the target (which must load), under one lock: the source is read
/// from it and the version is added to the target through it.
pub fn promote(context: &Context, arguments: VersionPromoteArgs) -> Result<i32, Error> {
    let version = parse_version(&arguments.version)?;
    let ws = load_env(context, Some(&arguments.to))?;
    let source = ws.env(&arguments.from)?;
    let image = declared(source, &version)?.image.clone();
    let target = ws.selected()?;
    let target_name = target.name.clone();
    if source.name == target.name {
        return Err(
            Error::input(format!("`--from` and `--to` both name `{}`", target.name))
                .hint("promote copies a version to another environment: name two different ones"),
        );
    }
    if let Some(existing) = target
        .versions
        .versions
        .iter()
        .find(|declared| declared.name == version)
    {
        if existing.image == image {
            println!(
                "`{}` already has `{version}` with image `{image}`; nothing to do",
                target.name
            );
            return Ok(0);
        }
        return Err(Error::refused(format!(
            "refusing to promote `{version}` to `{}`: it already has `{version}` with image `{}`, not `{image}` as in `{}`",
            target.name, existing.image, source.name
        ))
        .hint(format!(
            "a version's image never changes, so its running workflows keep their code: promote under a new version name in `{}` first, or retire `{version}` from `{}`",
            source.name, target.name
        )));
    }
    println!(
        "promoting `{version}` from `{}` (image `{image}`)",
        source.name
    );
    add_to(
        ws,
        VersionAddArgs {
            version: arguments.version,
            env: crate::cli::EnvArg {
                name: Some(target_name),
            },
            image,
            no_activate: arguments.no_activate,
            dry_run: false,
        },
    )
}
