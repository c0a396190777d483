//! One function per command. Each loads what it needs, runs the pure pipeline, and writes
//! through a `repo::Plan`, so a refused or failed command leaves the tree as it was.

mod build;
mod init;
mod seal;
mod secrets;
mod unseal;

// Minted secrets: the ingress certificate and Dex's users.
mod dex;
mod tls;

pub use build::plan_build;

use std::path::PathBuf;

use crate::cli::{Cli, Command, DexCommand, InitCommand, SecretsCommand};
use crate::error::Error;

/// Where the command runs: the `--repo` flag or the current directory.
pub struct Context {
    pub repo_flag: Option<PathBuf>,
}

impl Context {
    pub fn start_dir(&self) -> Result<PathBuf, Error> {
        match &self.repo_flag {
            Some(dir) => Ok(dir.clone()),
            None => std::env::current_dir()
                .map_err(|source| Error::io(".", "read the current directory", source)),
        }
    }

    /// The repository root: `--repo DIR` exactly, or the nearest ancestor with the repo file.
    pub fn root(&self) -> Result<PathBuf, Error> {
        let start = self.start_dir()?;
        if self.repo_flag.is_some() && !start.join(crate::spec::REPO_FILE).is_file() {
            return Err(Error::input(format!(
                "`{}` holds no `{}`",
                start.display(),
                crate::spec::REPO_FILE
            ))
            .hint("run `dbos-gitops init` there first"));
        }
        crate::repo::find_root(&start)
    }
}

pub fn dispatch(cli: Cli) -> Result<i32, Error> {
    let context = Context {
        repo_flag: cli.repo,
    };
    match cli.command {
        Command::Init(arguments) => match arguments.env {
            Some(InitCommand::Env(env_arguments)) => init::init_env(&context, env_arguments),
            None => init::init_repo(&context, arguments),
        },
        Command::Build(arguments) => build::build(&context, arguments),
        Command::Seal(arguments) => seal::seal(&context, arguments),
        Command::Secrets(SecretsCommand::Set(arguments)) => secrets::set(&context, arguments),
        Command::Secrets(SecretsCommand::List(arguments)) => secrets::list(&context, arguments),
        Command::Unseal(arguments) => unseal::unseal(arguments),
        Command::Tls(arguments) => tls::tls(&context, arguments),
        Command::Dex(DexCommand::AddUser(arguments)) => dex::add_user(&context, arguments),
        Command::Dex(DexCommand::RemoveUser(arguments)) => dex::remove_user(&context, arguments),
        Command::Dex(DexCommand::Hash(arguments)) => dex::hash(arguments),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "dbos-gitops", &mut std::io::stdout());
            Ok(0)
        }
    }
}

/// A left-aligned text table with two spaces between columns.
pub fn format_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (index, cell) in cells.iter().enumerate() {
            if index + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[index]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}
