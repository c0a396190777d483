//! `dbos-gitops man --out DIR`: one man page per command and subcommand (section 1), made by
//! clap_mangen from the same clap definitions as `--help`, named the way man(1) finds them
//! (`dbos-gitops-version-add.1` documents `dbos-gitops version add`). scripts/dist.sh puts them
//! in the release archive.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Writes every page into `out` (created when missing) and returns their paths, sorted.
pub fn write_all(out: &Path) -> Result<Vec<PathBuf>, Error> {
    use clap::CommandFactory;
    std::fs::create_dir_all(out).map_err(|error| Error::io(out, "create", error))?;
    let mut command = crate::cli::Cli::command().disable_help_subcommand(true);
    command.build();
    let mut written = Vec::new();
    write_tree(&command, out, &mut written)
        .map_err(|error| Error::io(out, "write man pages into", error))?;
    written.sort();
    Ok(written)
}

fn write_tree(
    command: &clap::Command,
    out: &Path,
    written: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        write_tree(sub, out, written)?;
    }
    let page = clap_mangen::Man::new(command.clone())
        .source(format!("dbos-gitops {}", env!("CARGO_PKG_VERSION")));
    written.push(page.generate_to(out)?);
    Ok(())
}
