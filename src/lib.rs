//! dbos-gitops: a compiler from small environment declarations to a GitOps repository for DBOS
//! Conductor, Console and DBOS applications on Kubernetes.
//!
//! Pipeline: `repo::load` (declarations from disk) → `model::resolve` (defaults and derived
//! values) → `render` (the generated tree, pure) → `repo::plan` (compare with the disk and the
//! ownership record) → write, or diff for `--check`. `commands` holds one function per command.

pub mod check;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod error;
pub mod inventory;
pub mod limits;
pub mod model;
pub mod render;
pub mod repo;
pub mod secret_store;
pub mod spec;
pub mod yaml;

mod fuzz;

use clap::Parser;
use std::ffi::OsString;

/// Runs the command line and returns the process exit code.
pub fn run<I: IntoIterator<Item = OsString>>(arguments: I) -> i32 {
    let cli = match cli::Cli::try_parse_from(arguments) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
        }
    };
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{}", error.report());
            error.exit_code()
        }
    }
}
