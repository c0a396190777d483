//! `check`: validate the repository offline and report every finding (see `crate::check`).
//! Exit 0 clean (warnings allowed unless `--strict`), 1 findings, 2 could not run.
//!
//! A declaration that does not load is a finding too (`invalid-declaration`, with its file,
//! line, column and field), so `--format json` prints one JSON document whenever the check ran:
//! a broken `dbos-gitops.yaml` is the only finding (nothing else can be read without it); a
//! broken environment is reported beside the other environments' findings. A declaration that
//! cannot be read (an I/O error, not UTF-8) is such a finding too, for `check` only.

use crate::check::{self, Options, Report};
use crate::cli::{CheckArgs, ListFormat};
use crate::error::Error;

use super::context::Context;

use crate::clock::now_unix;

pub fn check(context: &Context, arguments: CheckArgs) -> Result<i32, Error> {
    let root = context.root()?;
    let (ws, failed) = match crate::workspace::Workspace::open_for_check(&root) {
        Ok(loaded) => loaded,
        Err(error) => match check::declaration_load_finding(&root, &error) {
            Some(finding) => {
                let report = Report {
                    findings: vec![finding],
                };
                print(&report, arguments.format);
                return Ok(report.exit_code(arguments.strict));
            }
            None => return Err(error),
        },
    };
    if let Some(name) = arguments.env.as_deref() {
        // An environment whose directory is a link out of the repository was not loaded: the
        // report names the link, not a missing environment. One that did not load is reported.
        let unloaded = failed.iter().any(|(failed, _)| failed == name);
        if let Err(error) = ws.env(name) {
            if !unloaded && !check::leaves_repository(ws.tree())? {
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
    let report = check::run(&ws, &failed, &options)?;
    print(&report, arguments.format);
    Ok(report.exit_code(arguments.strict))
}

fn print(report: &Report, format: ListFormat) {
    let text = match format {
        ListFormat::Text => crate::term::paint(crate::term::Stream::Stdout, &report.text()),
        ListFormat::Json => {
            serde_json::to_string_pretty(&report.json()).expect("json serialises") + "\n"
        }
    };
    // A closed pipe (`check | head`) is not an error worth a panic.
    use std::io::Write as _;
    let _ = std::io::stdout().write_all(text.as_bytes());
}
