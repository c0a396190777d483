//! `build`: recompile every generated file from the declarations; `--check` writes nothing and
//! prints the diff.

use crate::cli::BuildArgs;
use crate::error::Error;
use crate::repo::attributes::GITATTRIBUTES_FILE;
use crate::repo::WriteOptions;
use crate::workspace::{Mode, Scope, Workspace};

use super::context::Context;

pub fn build(context: &Context, arguments: BuildArgs) -> Result<i32, Error> {
    let root = context.root()?;
    // `--check` is a reader: the tree as one writer left it, not between two of its renames.
    let mode = if arguments.check {
        Mode::Snapshot
    } else {
        Mode::Write
    };
    let mut ws = Workspace::open(&root, mode)?;
    let env = match arguments.env.as_deref() {
        Some(name) => Some(ws.env(name)?.name.clone()),
        None => None,
    };
    // A repository made before `init` wrote `.gitattributes` gets it here (#23), once.
    let (attributes, missing) =
        crate::repo::attributes::gitattributes(ws.read(GITATTRIBUTES_FILE)?)?;
    if missing && !arguments.check {
        ws.put(GITATTRIBUTES_FILE, attributes.into_bytes());
    }
    let scope = match &env {
        Some(name) => Scope::Env(name),
        None => Scope::All,
    };
    let plan = ws.compile(
        scope,
        WriteOptions {
            force: arguments.force,
        },
    )?;
    if arguments.check {
        if crate::repo::journal::pending(&root) || ws.writer_active() {
            eprintln!("a write is in progress or was interrupted: the generated files are not compared until it is finished");
            eprintln!("  hint: run any writing command (e.g. `dbos-gitops build`) to finish it, then check again");
            return Ok(1);
        }
        if plan.is_current() {
            return Ok(0);
        }
        print!("{}", plan.diff());
        eprintln!(
            "{} generated file(s) are stale{}",
            plan.changes().len(),
            if plan.conflicts().is_empty() {
                ""
            } else {
                ", some edited by hand"
            }
        );
        if plan.conflicts().is_empty() {
            eprintln!("  hint: run `dbos-gitops build` to bring them up to date");
        } else {
            for conflict in plan.conflicts() {
                eprintln!("  {} ({})", conflict.path, conflict.reason);
            }
            eprintln!(
                "  hint: move those edits into the declarations (env.yaml, versions.yaml), then `dbos-gitops build --force`"
            );
        }
        return Ok(1);
    }
    plan.ensure_no_conflicts()?;
    if plan.is_empty() {
        println!("up to date");
        return Ok(0);
    }
    ws.commit(&plan)?;
    print!("{}", plan.summary());
    if missing {
        println!("note: added `.gitattributes` lines that check dbos-gitops's files out with LF line ends whatever `core.autocrlf` says; commit it");
    }
    Ok(0)
}
