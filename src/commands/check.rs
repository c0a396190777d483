//! `check`: validate the repository offline and report every finding (see `crate::check`).
//! Exit 0 clean (warnings allowed unless `--strict`), 1 findings, 2 could not run.

use crate::check::{self, Options};
use crate::cli::{CheckArgs, ListFormat};
use crate::error::Error;

use super::context::Context;

use crate::clock::now_unix;

pub fn check(context: &Context, arguments: CheckArgs) -> Result<i32, Error> {
    let root = context.root()?;
    let loaded = crate::repo::load::load_repo_for_check(&root)?;
    if let Some(name) = arguments.env.as_deref() {
        // An environment whose directory is a link out of the repository was not loaded: the
        // report names the link, not a missing environment.
        if let Err(error) = loaded.select_env(Some(name)) {
            if !check::leaves_repository(&root)? {
                return Err(error);
            }
        }
    }
    let options = Options {
        only_env: arguments.env.as_deref().map(str::to_string),
        render: !arguments.no_render,
        cache: !arguments.no_cache,
        now_unix: now_unix()?,
    };
    let report = check::run(&loaded, &options)?;
    let text = match arguments.format {
        ListFormat::Text => crate::term::paint(crate::term::Stream::Stdout, &report.text()),
        ListFormat::Json => {
            serde_json::to_string_pretty(&report.json()).expect("json serialises") + "\n"
        }
    };
    // A closed pipe (`check | head`) is not an error worth a panic.
    use std::io::Write as _;
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(report.exit_code(arguments.strict))
}
