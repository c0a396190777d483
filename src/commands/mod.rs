//! One function per command. Each loads what it needs, runs the pure pipeline, and writes
//! through a `repo::Plan`, so a refused or failed command leaves the tree as it was.

mod check;

mod build;
mod init;

pub use build::plan_build;

use std::path::PathBuf;

use crate::cli::{Cli, Command, InitCommand};
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
        Command::Check(arguments) => check::check(&context, arguments),
        Command::Build(arguments) => build::build(&context, arguments),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "dbos-gitops", &mut std::io::stdout());
            Ok(0)
        }
    }
}
