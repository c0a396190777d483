//! `check`: validate the repository offline and report every finding (see `crate::check`).
//! Exit 0 clean (warnings allowed unless `--strict`), 1 findings, 2 could not run.

use crate::check::{self, Options};
use crate::cli::{CheckArgs, CheckFormat};
use crate::error::Error;
use crate::repo::load_repo;

use super::Context;

/// Hidden: the current time in Unix seconds, for tests of certificate expiry (a frozen clock).
pub const NOW_VARIABLE: &str = "DBOS_GITOPS_NOW";

/// The current time, or the frozen one from `DBOS_GITOPS_NOW`.
pub fn now_unix() -> Result<i64, Error> {
    match std::env::var(NOW_VARIABLE) {
        Ok(text) => text.trim().parse().map_err(|_| {
            Error::input(format!("`{NOW_VARIABLE}` is `{text}`, not Unix seconds"))
                .hint(format!("unset `{NOW_VARIABLE}`"))
        }),
        Err(_) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs() as i64)
            .unwrap_or(0)),
    }
}

pub fn check(context: &Context, arguments: CheckArgs) -> Result<i32, Error> {
    let root = context.root()?;
    let loaded = load_repo(&root)?;
    if let Some(name) = &arguments.env {
        loaded.select_env(Some(name))?;
    }
    let options = Options {
        only_env: arguments.env.clone(),
        render: !arguments.no_render,
        now_unix: now_unix()?,
    };
    let report = check::run(&loaded, &options)?;
    let text = match arguments.format {
        CheckFormat::Text => report.text(),
        CheckFormat::Json => {
            serde_json::to_string_pretty(&report.json()).expect("json serialises") + "\n"
        }
    };
    // A closed pipe (`check | head`) is not an error worth a panic.
    use std::io::Write as _;
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(report.exit_code(arguments.strict))
}
